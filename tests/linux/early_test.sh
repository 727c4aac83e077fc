#!/usr/bin/env bash
# The early-Linux check (ctest label `kvm`; runs on the emulating KVM of our
# CI machines): boots the stock Debian kernel far enough to prove, from the
# kernel's own log, that it took our command line, e820 map and RAM size,
# ACPI tables (RSDP/XSDT/FACP/DSDT/APIC with OEM MODVMM, no checksum or
# table warnings) and CPU count; then stops the VMM with SIGTERM and checks
# that it exits 0 promptly.
#
# Usage: early_test.sh pvh|bzimage BUILD SRC
#   pvh      the extracted vmlinux through the PVH entry (~70 s on an idle
#            CI machine)
#   bzimage  vmlinuz through the 64-bit boot protocol; its LZ4 decompressor
#            alone takes 1.5-4 min under the instruction emulator
set -euo pipefail
. "$(dirname "$0")/lib.sh"
entry=$1
MEM=512M
MEM_BYTES=$((512 << 20))
CPUS=2
case $entry in
pvh) kernel=$GUEST/vmlinux bound=360 ;;
bzimage) kernel=$GUEST/vmlinuz bound=600 ;;
*) fail "unknown entry '$entry' (pvh or bzimage)" ;;
esac
need_kvm
need_guest
[ -f "$KIT" ] || fail "$KIT not built"

# The memory map the VMM hands a PVH guest of this size, as the kit sees it.
timeout -k 2 30 "$MODVMM" --kernel "$KIT" --memory $MEM --cpus $CPUS \
	--cmdline test=hello --device uart16550,input=off >"$WORK/kit" 2>&1 </dev/null ||
	{ cat "$WORK/kit" >&2; fail "the guest kit's hello run failed"; }

cmdline="earlyprintk=serial console=ttyS0 $EMULATED_KVM_WORDS modvmm.test=boot"
log "booting $kernel ($entry, $MEM, $CPUS vCPUs), bound ${bound}s"
log "cmdline: $cmdline"
start_vmm --kernel "$kernel" --initramfs "$GUEST/initramfs.cpio" \
	--memory $MEM --cpus $CPUS --cmdline "$cmdline" \
	--device uart16550,input=off --log-level info

# Milestones, in the order the kernel prints them. Early boot does not
# verify ACPI checksums ("Early table checksum verification disabled"):
# acpi_early_init() does, right after "ACPI: Core revision", so we wait
# past that, to the next line. On an idle CI machine the last one comes
# ~65 s after start for the PVH vmlinux, 3x that on a loaded one. (The
# secondary CPUs come up only after minutes of alternatives patching.)
for m in 'Command line: ' 'BIOS-e820: ' 'ACPI: RSDP ' 'ACPI: APIC ' \
	'smpboot: Allowing [0-9]+ CPUs' 'Memory: [0-9]+K/[0-9]+K available' \
	'ACPI: Core revision' 'APIC: Switch to symmetric I/O mode'; do
	set +e
	wait_console "$m" $((bound - ${SECONDS}))
	w=$?
	set -e
	case $w in
	0) log "+$(elapsed)s: $(grep -m1 -E -- "$m" "$WORK/console" | cut -c1-110)" ;;
	1) stop_vmm; fail "no '$m' (no console output for ${bound}s)" ;;
	2)
		wait_vmm 1
		grep -q 'internal error\|KVM_EXIT_INTERNAL' "$WORK/err" &&
			echo "KVM could not run a guest instruction (see RIP and bytes below)" >&2
		fail "modvmm exited with status $rc before '$m'"
		;;
	esac
done

t_stop=$(elapsed)
stop_vmm
log "SIGTERM at +${t_stop}s: modvmm exited with status $rc"
[ "$rc" = 0 ] || fail "modvmm exited with status $rc after SIGTERM, expected 0"
! grep -qi 'internal error' "$WORK/err" || fail "KVM internal error reported"

python3 "$SRC/tests/linux/check_early_log.py" "$WORK/console" --entry "$entry" \
	--kit-map "$WORK/kit" --cmdline "$cmdline" --mem-bytes $MEM_BYTES \
	--cpus $CPUS || fail "the kernel log does not show our machine"
log "PASS: Linux $(cat "$GUEST/kernel-version") ($entry) took our boot parameters, e820 map, ACPI tables and CPU count"
