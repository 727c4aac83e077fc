#!/usr/bin/env bash
# The full Debian-guest tests (ctest label `linux`): the stock Debian cloud
# kernel with the busybox initramfs, booted to /init, checked from inside.
# They need a host whose KVM runs guest kernel code natively; a short timed
# probe guest decides, and on the emulating KVM of our CI machines they
# print "SKIPPED: <why>" and exit 77.
#
# Usage: linux_test.sh CASE BUILD SRC
#   boot_1cpu / boot_2cpu   vmlinux via PVH to init: nproc, MemTotal, the
#                           virtio modules load, poweroff -> exit 0
#   bzimage                 the same through the bzImage and boot protocol
#   console                 interactive console: type a command on stdin,
#                           see its answer, type poweroff -> exit 0
set -euo pipefail
. "$(dirname "$0")/lib.sh"
case_name=$1
MEM=512M
MEM_KB=$((512 * 1024))
BOUND=${MODVMM_LINUX_BOUND:-120}
need_guest
probe_native

# boot KERNEL CPUS TEST: start the guest, wait for init
boot() {
	local cmdline="console=ttyS0 modvmm.test=$3 ${MODVMM_LINUX_CMDLINE_EXTRA:-}"
	log "booting $1 with $2 vCPU(s), $MEM: $cmdline"
	start_vmm --kernel "$1" --initramfs "$GUEST/initramfs.cpio" --memory $MEM \
		--cpus "$2" --cmdline "$cmdline" --device uart16550
	wait_console 'modvmm-guest: init reached' "$BOUND" ||
		{ stop_vmm; fail "no 'init reached' within ${BOUND}s"; }
	log "init reached after $(elapsed)s"
}

# expect_report CPUS: the guest's own view of the machine
expect_report() {
	wait_console 'modvmm-guest: done rc=' 60 || { stop_vmm; fail "the guest never reported"; }
	local n mem
	n=$(sed -n 's/^modvmm-guest: nproc \([0-9]*\).*/\1/p' "$WORK/console" | tr -d '\r')
	[ "$n" = "$1" ] || fail "guest nproc '$n', expected $1"
	log "nproc $n"
	mem=$(sed -n 's/^modvmm-guest: MemTotal: \([0-9]*\) kB.*/\1/p' "$WORK/console" | tr -d '\r')
	[ -n "$mem" ] || fail "no MemTotal from the guest"
	# MemTotal excludes the kernel image and reserved memory: expect
	# 85..100% of what we gave.
	[ "$mem" -le "$MEM_KB" ] && [ "$mem" -ge $((MEM_KB * 85 / 100)) ] ||
		fail "guest MemTotal ${mem} kB does not fit --memory $MEM"
	log "MemTotal $mem kB"
	for m in virtio virtio_ring virtio_mmio virtio_balloon virtio-rng; do
		grep -q "^modvmm-guest: module $m loaded" "$WORK/console" ||
			fail "module $m did not load"
	done
	grep -q '^modvmm-guest: done rc=0' "$WORK/console" || fail "the guest reported failures"
}

expect_poweroff() {
	wait_vmm 30
	[ "$rc" != 124 ] || fail "modvmm still running 30 s after the guest's poweroff"
	[ "$rc" = 0 ] || fail "modvmm exited with status $rc after poweroff, expected 0"
	log "poweroff: modvmm exited 0 after $(elapsed)s"
}

case $case_name in
boot_1cpu)
	boot "$GUEST/vmlinux" 1 boot
	expect_report 1
	expect_poweroff
	;;
boot_2cpu)
	boot "$GUEST/vmlinux" 2 boot
	expect_report 2
	expect_poweroff
	;;
bzimage)
	boot "$GUEST/vmlinuz" 2 boot
	expect_report 2
	expect_poweroff
	;;
console)
	boot "$GUEST/vmlinux" 1 shell
	wait_console 'modvmm-guest: shell ready' 60 || { stop_vmm; fail "no shell"; }
	sleep 0.5
	# Arithmetic the host side cannot echo back by accident.
	echo 'echo "answer-$((6 * 7))"' >&8
	wait_console '^answer-42' 20 || { stop_vmm; fail "no answer to a typed command"; }
	log "console is interactive (typed a command, read answer-42)"
	echo 'poweroff -f' >&8
	expect_poweroff
	;;
*) fail "unknown case '$case_name'" ;;
esac
log "PASS $case_name"
