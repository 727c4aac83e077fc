#!/usr/bin/env bash
# Boots the guest kit under real KVM and checks what the guest itself
# reports, plus the VMM's exit status. Usage: kit_test.sh CASE BUILD SRC
set -euo pipefail
. "$(dirname "$0")/lib.sh"
case_name=$1
need_kvm
need_vmm_and_kit

case $case_name in
hello)
	kit_machine 128M 1 "test=hello"
	run_vmm --machine "$WORK/m.yaml"
	expect_rc 0
	expect_kit_pass
	;;
memmap_128m)
	kit_machine 128M 1 "test=memmap expect_mem=128M"
	run_vmm --machine "$WORK/m.yaml"
	expect_rc 0
	expect_kit_pass
	;;
smp_6g)
	# RAM on both sides of the 3-4 GiB hole, every CPU in the MADT.
	kit_machine 6G 4 "test=memmap expect_mem=6G"
	run_vmm --machine "$WORK/m.yaml"
	expect_rc 0
	expect_kit_pass
	kit_machine 6G 4 "test=cpus expect=4"
	run_vmm --machine "$WORK/m.yaml"
	expect_rc 0
	expect_kit_pass
	;;
cpus_255)
	# The documented maximum boots: 255 vCPUs (xAPIC ids 0..254), each
	# in the MADT once. The application processors wait for INIT/SIPI,
	# which the kit never sends, so this is 255 vCPU threads in KVM_RUN.
	kit_machine 256M 255 "test=cpus expect=255"
	run_vmm --machine "$WORK/m.yaml"
	expect_rc 0
	expect_kit_pass
	;;
memory_max)
	# The largest RAM the documented limits allow on this host boots, and
	# one page more is refused: at most 1T, at most the host's RAM
	# (MemTotal), and RAM above the 3-4 GiB hole must end within the
	# CPU's physical address width (docs/machine-file.md, Limits).
	bits=$(awk '/^address sizes/ {print $4; exit}' /proc/cpuinfo)
	max=$((1 << 40))
	if [ "$bits" -lt 41 ]; then
		by_cpu=$(((1 << bits) - (1 << 30)))
		[ "$by_cpu" -lt "$max" ] && max=$by_cpu
	fi
	host=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) * 1024))
	[ "$host" -lt "$max" ] && max=$host
	max=$((max / 4096 * 4096))
	echo "limit: ${bits}-bit addresses, MemTotal $host bytes: $max bytes"
	kit_machine "$max" 1 "test=memmap expect_mem=$max"
	run_vmm --machine "$WORK/m.yaml"
	expect_rc 0
	expect_kit_pass
	kit_machine $((max + 4096)) 1 "test=hello"
	run_vmm --machine "$WORK/m.yaml"
	expect_rc 2
	[ "$(wc -l <"$WORK/err")" -eq 1 ] || fail "expected one error line"
	grep -q "memory" "$WORK/err" || fail "the error does not name memory"
	;;
devices_max)
	# Every interrupt line a plugin can be given automatically (5-7 and
	# 10-23: 17) holds a virtio device, and the guest finds all of them
	# with their resources next to the UART on line 4.
	kit_machine 128M 1 "test=devices expect=PNP0501:1,LNRO0005:17"
	for i in $(seq 17); do
		echo "  - plugin: rng" >>"$WORK/m.yaml"
	done
	run_vmm --machine "$WORK/m.yaml"
	expect_rc 0
	expect_kit_pass
	;;
memmap_16g)
	# The largest size the issue names: 3 GiB below the hole, 13 above.
	kit_machine 16G 2 "test=memmap expect_mem=16G"
	run_vmm --machine "$WORK/m.yaml"
	expect_rc 0
	expect_kit_pass
	;;
acpi)
	kit_machine 128M 2 "test=acpi"
	run_vmm --machine "$WORK/m.yaml"
	expect_rc 0
	expect_kit_pass
	;;
devices)
	kit_machine 128M 1 "test=devices expect=PNP0501:1"
	run_vmm --machine "$WORK/m.yaml"
	expect_rc 0
	expect_kit_pass
	;;
poweroff)
	kit_machine 128M 1 "test=poweroff"
	run_vmm --machine "$WORK/m.yaml"
	expect_rc 0
	;;
sigterm)
	# A guest that never powers off; SIGTERM must stop the VMM cleanly
	# with status 0 and no stray threads or files.
	kit_machine 128M 2 "test=idle"
	set +e
	"$MODVMM" --machine "$WORK/m.yaml" >"$WORK/out" 2>"$WORK/err" </dev/null &
	pid=$!
	for _ in $(seq 600); do
		grep -q 'kit: idle' "$WORK/out" 2>/dev/null && break
		sleep 0.1
	done
	grep -q 'kit: idle' "$WORK/out" || { kill -9 $pid; fail "guest never went idle"; }
	term_vmm $pid
	expect_rc 0
	;;
console_file)
	# The console writes to file=PATH when asked, nothing to stdout.
	kit_machine 128M 1 "test=console" "file=$WORK/console.log"
	run_vmm --machine "$WORK/m.yaml"
	expect_rc 0
	grep -q 'PASS' "$WORK/console.log" || fail "console.log lacks the kit's output"
	[ ! -s "$WORK/out" ] || fail "stdout not empty with file="
	;;
bzimage_rejects_junk)
	# A file with a bzImage header but too old a protocol is refused.
	python3 - "$WORK/fake" <<'PY'
import sys
b = bytearray(8192)
b[0x1f1] = 1
b[0x1fe:0x200] = b'\x55\xaa'
b[0x202:0x206] = b'HdrS'
b[0x206:0x208] = (0x0200).to_bytes(2, 'little')
open(sys.argv[1], 'wb').write(b)
PY
	run_vmm --kernel "$WORK/fake" --memory 128M
	expect_rc 2
	grep -q 'bzImage too old' "$WORK/err" || fail "no clear reason"
	;;
int3)
	# The emulating KVM cannot run int3 at CPL0; the VMM must deliver #BP.
	kit_machine 128M 1 "test=int3"
	run_vmm --machine "$WORK/m.yaml"
	expect_rc 0
	expect_kit_pass
	;;
internal_error)
	# KVM_EXIT_INTERNAL_ERROR from a real KVM: the VMM stops with exit
	# status 1 and one line naming RIP and what is there. A CPU exception
	# instead (a FAIL line from the kit) means nothing was tested.
	re_head='KVM internal error \(suberror 1: emulation failed\) at RIP'
	# popcnt reading unclaimed MMIO: KVM's emulator has no popcnt. RIP
	# is in RAM, so the report shows the instruction's bytes.
	kit_machine 128M 1 "test=badinsn"
	run_vmm --machine "$WORK/m.yaml"
	if grep -q '^FAIL' "$WORK/out"; then
		fail "badinsn ended without an internal error"
	fi
	expect_rc 1
	rip=$(sed -n 's/^kit: popcnt at \(0x[0-9a-f]*\) .*/\1/p' "$WORK/out")
	[ -n "$rip" ] || fail "the kit did not print the popcnt's address"
	grep -qE "$re_head $rip, instruction bytes: f3 0f b8 07( [0-9a-f]{2})*\$" \
		"$WORK/err" || fail "no RIP $rip and bytes f3 0f b8 07 in the report"
	# A call into that MMIO page: KVM cannot fetch instructions from it.
	# No bytes to show, and the report says why.
	kit_machine 128M 1 "test=badfetch"
	run_vmm --machine "$WORK/m.yaml"
	if grep -q '^FAIL' "$WORK/out"; then
		fail "badfetch ended without an internal error"
	fi
	expect_rc 1
	grep -qE "$re_head 0xfebff000, which is not in guest RAM \(guest physical 0xfebff000\): no instruction bytes\$" \
		"$WORK/err" || fail "the report does not say RIP 0xfebff000 is not in guest RAM"
	;;
*)
	fail "unknown case $case_name"
	;;
esac
echo "ok: $case_name"
