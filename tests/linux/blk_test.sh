#!/usr/bin/env bash
# virtio-blk with Debian's kernel (ctest label `linux`; issue 15). The root
# file system is an ext4 image made from the guest's busybox tree with
# mkfs.ext4 -d; the initramfs loads virtio_blk and switch_roots to
# root=/dev/vda, whose /init runs the `blk` test of tests/linux/init.sh.
#
# Usage: blk_test.sh CASE BUILD SRC
#   root        the guest runs from the disk, writes and syncs /f1 and /f2;
#               after poweroff the host reads both back from the image with
#               debugfs and compares their sha256 with the guest's
#   root_threads  the same with aio=threads (the worker-pool engine), and
#               every worker thread runs under the seccomp filter
#   two_disks   a second disk, readonly=on: the guest sees it read-only, a
#               write to it fails, its /hello reads back right, and the
#               image file is bit for bit what it was; the root disk has
#               num_queues=2 and the guest (2 vCPUs) uses both
#   fstrim      the guest writes 32 MiB, syncs (the host measures the
#               image's allocated blocks), deletes it and runs fstrim: the
#               image's allocation drops by at least 24 MiB
#   balloon     a disk and a balloon: the guest (512 MiB) reads a 160 MiB
#               file from a second disk into its page cache; `balloon set
#               320M` still reaches its target (the cache is reclaimed),
#               and the file reads back intact
set -euo pipefail
. "$(dirname "$0")/lib.sh"
case_name=$1
BOUND=${MODVMM_LINUX_BOUND:-120}
need_guest
[ -x "$GUEST/rootfs/init" ] || fail "$GUEST/rootfs missing: rerun tests/linux/build-guest.sh $GUEST"
command -v mkfs.ext4 >/dev/null && command -v debugfs >/dev/null ||
	fail "mkfs.ext4 and debugfs are needed (e2fsprogs)"
probe_native

ROOT_IMG="$WORK/root.img"
truncate -s 128M "$ROOT_IMG"
mkfs.ext4 -q -F -L modvmm-root -d "$GUEST/rootfs" "$ROOT_IMG" ||
	fail "mkfs.ext4 -d $GUEST/rootfs failed"

blocks() { stat -c %b "$1"; }

# boot EXTRA_CMDLINE DISK_OPTIONS...: the kernel, the initramfs and one
# --disk per argument, vda first; EXTRA_ARGS (an array) goes to modvmm too.
EXTRA_ARGS=()
boot() {
	local cmdline="console=ttyS0 root=/dev/vda modvmm.test=blk $1 ${MODVMM_LINUX_CMDLINE_EXTRA:-}"
	local d disks=()
	shift
	for d in "$@"; do disks+=(--disk "$d"); done
	log "booting with ${disks[*]} ${EXTRA_ARGS[*]}: $cmdline"
	start_vmm --kernel "$GUEST/vmlinux" --initramfs "$GUEST/initramfs.cpio" --memory 512M \
		--cmdline "$cmdline" --device uart16550 "${disks[@]}" "${EXTRA_ARGS[@]}"
	wait_console 'modvmm-guest: init reached' "$BOUND" ||
		{ stop_vmm; fail "no 'init reached' (no console output for ${BOUND}s)"; }
	log "init reached after $(elapsed)s"
}

finish() {
	wait_console 'modvmm-guest: done rc=' "$BOUND" || { stop_vmm; fail "the guest never finished"; }
	wait_vmm 60
	[ "$rc" = 0 ] || fail "modvmm exited with status $rc after poweroff, expected 0"
	grep '^modvmm-guest: \(root\|disk\|switching\|files\|sha256\|vdb\|fstrim\|balloon\|module virtio_blk\)' "$WORK/console" |
		tr -d '\r' | sed 's/^/  /'
	grep -q '^modvmm-guest: done rc=0' "$WORK/console" || fail "the guest reported failures"
}

expect_line() { grep -qE "$1" "$WORK/console" || fail "${2:-no console line matching '$1'}"; }

guest_sha() { sed -n "s/^modvmm-guest: sha256 $1 \([0-9a-f]*\).*/\1/p" "$WORK/console" | tr -d '\r'; }

case $case_name in
root | root_threads)
	aio=io_uring
	[ "$case_name" = root ] || aio=threads
	boot "" "path=$ROOT_IMG,serial=modvmm-root,aio=$aio"
	# The root file system was read: every worker has been woken to put
	# itself under the seccomp filter (host->sandbox_thread), not only
	# those that ran a request. A worker serves nothing before it has, but
	# on a loaded emulated CPU one may not have been scheduled yet (a
	# fresh-clone run saw one at 0 right after init): it gets BOUND
	# seconds to be.
	if [ "$aio" = threads ]; then
		deadline=$(($(date +%s) + BOUND))
		while :; do
			workers=0 filtered=0 late=
			for t in /proc/$VMM_PID/task/*; do
				[ "$(cat "$t/comm" 2>/dev/null)" = modvmm-blk-io ] || continue
				workers=$((workers + 1))
				sc=$(awk '/^Seccomp:/ {print $2}' "$t/status")
				if [ "$sc" = 2 ]; then
					filtered=$((filtered + 1))
				else
					late="I/O worker ${t##*/}: Seccomp: $sc, expected 2 (filter)"
				fi
			done
			[ "$workers" = 4 ] || { stop_vmm; fail "$workers I/O worker threads, expected 4"; }
			[ "$filtered" = 4 ] && break
			[ "$(date +%s)" -lt "$deadline" ] || { stop_vmm; fail "$late, ${BOUND}s after the guest read its root"; }
			sleep 1
		done
		log "all $workers I/O workers run under the seccomp filter"
	fi
	finish
	expect_line '^modvmm-guest: module virtio_blk loaded' "virtio_blk did not load"
	expect_line '^modvmm-guest: root /dev/vda ext4' "/ is not /dev/vda (ext4)"
	expect_line '^modvmm-guest: disk vda sectors=262144 ro=0 serial=modvmm-root queues=1' \
		"vda's size, read-only flag or serial is wrong"
	for f in f1 f2; do
		debugfs -R "dump /$f $WORK/$f" "$ROOT_IMG" 2>/dev/null
		[ -s "$WORK/$f" ] || fail "debugfs found no /$f in the image"
		host=$(sha256sum "$WORK/$f" | cut -d' ' -f1)
		[ "$host" = "$(guest_sha $f)" ] || fail "/$f: host sha256 $host, guest $(guest_sha $f)"
		log "/$f: $(stat -c %s "$WORK/$f") bytes, sha256 $host as the guest wrote it"
	done
	;;
two_disks)
	mkdir -p "$WORK/data"
	head -c 100000 /dev/urandom >"$WORK/data/hello"
	want=$(sha256sum "$WORK/data/hello" | cut -d' ' -f1)
	truncate -s 16M "$WORK/data.img"
	mkfs.ext4 -q -F -d "$WORK/data" "$WORK/data.img"
	before=$(sha256sum "$WORK/data.img" | cut -d' ' -f1)
	# Linux's virtio_blk uses at most one queue a CPU.
	EXTRA_ARGS=(--cpus 2)
	boot "" "path=$ROOT_IMG,num_queues=2" "path=$WORK/data.img,readonly=on"
	finish
	expect_line '^modvmm-guest: disk vda .* queues=2' "vda (num_queues=2) does not have two queues in the guest"
	expect_line '^modvmm-guest: disk vdb sectors=32768 ro=1' "vdb is not a read-only 16 MiB disk"
	expect_line '^modvmm-guest: vdb write refused' "a write to the read-only disk was not refused"
	expect_line "^modvmm-guest: vdb sha256 hello $want" "vdb's /hello does not read back"
	[ "$(sha256sum "$WORK/data.img" | cut -d' ' -f1)" = "$before" ] ||
		fail "the read-only image changed"
	log "the read-only image is unchanged"
	;;
fstrim)
	b0=$(blocks "$ROOT_IMG")
	boot "modvmm.fstrim" "path=$ROOT_IMG"
	wait_console 'modvmm-guest: fstrim big written' "$BOUND" ||
		{ stop_vmm; fail "the guest never wrote its big file"; }
	sleep 1
	b1=$(blocks "$ROOT_IMG")
	echo >&8
	finish
	b2=$(blocks "$ROOT_IMG")
	log "image allocation: $((b0 / 2048)) MiB after mkfs, $((b1 / 2048)) MiB with the 32 MiB file, $((b2 / 2048)) MiB after rm + fstrim"
	expect_line '^modvmm-guest: fstrim /: [0-9]+ bytes trimmed' "fstrim did not trim"
	[ $((b1 - b0)) -ge $((24 * 2048)) ] || fail "writing 32 MiB grew the image by only $(((b1 - b0) / 2048)) MiB"
	[ $((b1 - b2)) -ge $((24 * 2048)) ] || fail "fstrim gave back only $(((b1 - b2) / 2048)) MiB"
	;;
balloon)
	CTL="$BUILD/modvmm-ctl"
	[ -x "$CTL" ] || fail "$CTL not built"
	mkdir -p "$WORK/data"
	head -c 100000 /dev/urandom >"$WORK/data/hello"
	head -c $((160 * 1024 * 1024)) /dev/urandom >"$WORK/data/big"
	want=$(sha256sum "$WORK/data/big" | cut -d' ' -f1)
	truncate -s 256M "$WORK/data.img"
	mkfs.ext4 -q -F -d "$WORK/data" "$WORK/data.img"
	rm -rf "$WORK/data"
	EXTRA_ARGS=(--balloon size=0 --api-socket "$WORK/api.sock")
	boot "modvmm.balloon" "path=$ROOT_IMG" "path=$WORK/data.img,readonly=on"
	wait_console 'modvmm-guest: balloon cache filled' "$BOUND" ||
		{ stop_vmm; fail "the guest never read its big file"; }
	grep '^modvmm-guest: balloon cache' "$WORK/console" | tr -d '\r' | sed 's/^/  /'
	target=$((320 * 1024 * 1024))
	"$CTL" --api-socket "$WORK/api.sock" balloon set $target >/dev/null ||
		fail "modvmm-ctl balloon set failed"
	# Bounded by progress: fail once `actual` has not moved for BOUND s.
	last= end=$(($(date +%s) + BOUND))
	while :; do
		actual=$("$CTL" --api-socket "$WORK/api.sock" balloon info | awk '/^actual:/ { print $2 }')
		[ "$actual" = "$target" ] && break
		vmm_running || fail "the VMM exited while the balloon inflated"
		[ "$actual" != "$last" ] && { last=$actual; end=$(($(date +%s) + BOUND)); }
		[ "$(date +%s)" -lt "$end" ] || fail "the balloon stuck at $actual of $target bytes"
		sleep 0.5
	done
	log "balloon at 320 MiB after $(elapsed)s, with the page cache full of the disk's file"
	echo >&8
	finish
	got=$(sed -n 's/^modvmm-guest: balloon sha256 big \([0-9a-f]*\).*/\1/p' "$WORK/console" | tr -d '\r')
	[ "$got" = "$want" ] || fail "/big reads back as $got after the balloon, expected $want"
	log "the 160 MiB file reads back intact after the balloon took 320 MiB"
	;;
*) fail "unknown case '$case_name'" ;;
esac
log "PASS $case_name"
