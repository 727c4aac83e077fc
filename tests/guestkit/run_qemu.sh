#!/bin/sh
# Boots the guest kit under QEMU microvm with KVM and checks its verdict:
# QEMU must exit 0 (the kit powered it off) and the last verdict line must be
# "kit: done, N passed, 0 failed".
# Usage: run_qemu.sh QEMU KIT_ELF MEM SMP "CMDLINE" [EXTRA QEMU ARGS...]
set -u
qemu=$1 elf=$2 mem=$3 smp=$4 args=$5
shift 5
if [ ! -w /dev/kvm ]; then
  echo "SKIPPED: /dev/kvm not usable; this test did NOT run (tools/nested-kvm/nested-kvm -- ctest -R guestkit.qemu runs it under a real KVM)"
  exit 77
fi
out=$(timeout 500 "$qemu" -M microvm,acpi=on -enable-kvm -m "$mem" -smp "$smp" \
  -nodefaults -no-user-config -display none -serial stdio -no-reboot \
  -kernel "$elf" -append "$args" "$@" </dev/null 2>&1)
rc=$?
printf '%s\n' "$out"
[ $rc -eq 0 ] || { echo "run_qemu: QEMU exited $rc"; exit 1; }
printf '%s\n' "$out" | grep -q '^FAIL' && { echo "run_qemu: a check failed"; exit 1; }
printf '%s\n' "$out" | grep -qE '^kit: done, [0-9]+ passed, 0 failed$' ||
  { echo "run_qemu: no passing summary line"; exit 1; }
exit 0
