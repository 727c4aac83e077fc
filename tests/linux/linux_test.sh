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
#   rng                     --device rng: virtio_rng binds to it, is the
#                           current hwrng, /dev/hwrng gives 64 KiB of
#                           non-constant bytes (issue 4)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
case_name=$1
MEM=512M
MEM_KB=$((512 * 1024))
BOUND=${MODVMM_LINUX_BOUND:-120}
need_guest
probe_native

# boot KERNEL CPUS TEST [DEVICE...]: start the guest, wait for init
boot() {
	local cmdline="console=ttyS0 modvmm.test=$3 ${MODVMM_LINUX_CMDLINE_EXTRA:-}"
	local kernel=$1 cpus=$2 d devs=()
	shift 3
	for d in "$@"; do devs+=(--device "$d"); done
	log "booting $kernel with $cpus vCPU(s), $MEM, devices uart16550 $*: $cmdline"
	start_vmm --kernel "$kernel" --initramfs "$GUEST/initramfs.cpio" --memory $MEM \
		--cpus "$cpus" --cmdline "$cmdline" --device uart16550 "${devs[@]}"
	wait_console 'modvmm-guest: init reached' "$BOUND" ||
		{ stop_vmm; fail "no 'init reached' (no console output for ${BOUND}s)"; }
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
rng)
	boot "$GUEST/vmlinux" 1 rng rng
	wait_console 'modvmm-guest: done rc=' 60 || { stop_vmm; fail "the guest never reported"; }
	grep -qE '^modvmm-guest: virtio virtio[0-9]+ device=0x0004 driver=virtio_rng' "$WORK/console" ||
		fail "no virtio device 4 bound to virtio_rng"
	grep -q '^modvmm-guest: module virtio-rng loaded' "$WORK/console" || fail "module virtio-rng did not load"
	grep -qE '^modvmm-guest: rng current=virtio_rng' "$WORK/console" ||
		fail "virtio_rng is not the current hwrng"
	grep '^modvmm-guest: rng ' "$WORK/console" | tr -d '\r' | sed 's/^/  /'
	grep -q '^modvmm-guest: rng read bytes=65536 ' "$WORK/console" || fail "/dev/hwrng did not give 64 KiB"
	grep -q '^modvmm-guest: rng ok' "$WORK/console" || fail "the guest's rng check failed"
	grep -q '^modvmm-guest: done rc=0' "$WORK/console" || fail "the guest reported failures"
	expect_poweroff
	;;
*) fail "unknown case '$case_name'" ;;
esac
log "PASS $case_name"
