#!/usr/bin/env bash
# virtio-vsock with Debian's kernel (ctest label `linux`; issue 16). The
# guest loads vsock and vmw_vsock_virtio_transport, then /bin/vsockt
# (tests/linux/vsockt.c) listens on vsock port 52 and, once the host has
# connected there and 10 MiB went each way, connects to the host (CID 2)
# port 1234 and moves 10 MiB each way again. The host's end is
# tests/linux/vsock_peer.py; both check every byte against the other's
# pattern. modvmm runs in a network namespace of its own (unshare -n):
# vsock needs no network, and nothing can leave it.
#
# Usage: vsock_test.sh CASE BUILD SRC
#   hybrid   --vsock cid=3,socket=PATH: the host connects through PATH
#            ("CONNECT 52\n", answered "OK <port>\n"), the guest reaches
#            the Unix socket PATH_1234
#   vhost    --vsock cid=42,vhost=on: the kernel's vhost-vsock moves the
#            data; the host connects with AF_VSOCK to CID 42 port 52 and
#            listens on AF_VSOCK port 1234. While the guest runs, a second
#            modvmm asking for the same CID must stop with one line naming
#            cid=42 and exit status 2.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
case_name=$1
BOUND=${MODVMM_LINUX_BOUND:-120}
# Moving 10 MiB each way prints nothing on the console until it is done:
# the peer's own bound (no progress for 120 s) watches that part.
XFER_BOUND=${MODVMM_VSOCK_BOUND:-900}
BYTES=${MODVMM_VSOCK_BYTES:-10485760}
need_guest
probe_native
command -v python3 >/dev/null || fail "python3 is needed (the host's end)"
command -v unshare >/dev/null || fail "unshare is needed (util-linux)"
# A namespace of its own: as root, just a network namespace; otherwise
# inside a user namespace that maps us to root.
NETNS=(unshare -n --)
[ "$(id -u)" = 0 ] || NETNS=(unshare -r -n --)

# boot VSOCK_OPTIONS
boot() {
	local cmdline="console=ttyS0 modvmm.test=vsock modvmm.vsock_bytes=$BYTES ${MODVMM_LINUX_CMDLINE_EXTRA:-}"
	log "booting with --vsock $1 in a network namespace of its own"
	start_cmd "${NETNS[@]}" "$MODVMM" ${MODVMM_VSOCK_VMM_ARGS:-} --kernel "$GUEST/vmlinux" \
		--initramfs "$GUEST/initramfs.cpio" --memory 512M \
		--cmdline "$cmdline" --device uart16550 --vsock "$1"
	wait_console 'modvmm-guest: init reached' "$BOUND" ||
		{ stop_vmm; fail "no 'init reached' (no console output for ${BOUND}s)"; }
	log "init reached after $(elapsed)s"
}

# run_peer ARGS...: the host's end in the background, its output in
# $WORK/peer.
run_peer() {
	python3 "$SRC/tests/linux/vsock_peer.py" "$@" >"$WORK/peer" 2>&1 &
	PEER_PID=$!
}

finish() {
	local peer_rc=0
	wait_console 'modvmm-guest: done rc=' "$XFER_BOUND" ||
		{ stop_vmm; kill "$PEER_PID" 2>/dev/null; cat "$WORK/peer" >&2; fail "the guest never finished"; }
	wait "$PEER_PID" || peer_rc=$?
	sed 's/^/  /' "$WORK/peer"
	grep '^modvmm-guest: \(vsock\|module v\)' "$WORK/console" | tr -d '\r' | sed 's/^/  /'
	[ "$peer_rc" = 0 ] || fail "the host's end failed (status $peer_rc)"
	expect_poweroff 60
	grep -q '^modvmm-guest: done rc=0' "$WORK/console" || fail "the guest reported failures"
	for w in listen connect; do
		grep -q "^modvmm-guest: vsock $w ok sent=$BYTES received=$BYTES" "$WORK/console" ||
			fail "the guest's '$w' exchange did not move $BYTES bytes each way"
	done
	for w in host-connect guest-connect; do
		grep -q "^vsock_peer: $w ok sent=$BYTES received=$BYTES" "$WORK/peer" ||
			fail "the host's '$w' exchange did not move $BYTES bytes each way"
	done
}

case $case_name in
hybrid)
	SOCK="$WORK/v.sock"
	boot "cid=3,socket=$SOCK"
	t0=$(date +%s)
	run_peer hybrid "$SOCK" 52 1234 "$BYTES"
	finish
	log "$((BYTES >> 20)) MiB each way, both directions of connection, in $(($(date +%s) - t0)) s"
	[ ! -e "$SOCK" ] || fail "modvmm left its socket file $SOCK behind"
	;;
vhost)
	[ -c /dev/vhost-vsock ] || modprobe vhost_vsock 2>/dev/null || true
	[ -c /dev/vhost-vsock ] || fail "/dev/vhost-vsock is missing (modprobe vhost_vsock)"
	boot "cid=42,vhost=on"
	set +e
	timeout -k 5 60 "${NETNS[@]}" "$MODVMM" --kernel "$GUEST/vmlinux" \
		--memory 128M --vsock cid=42,vhost=on >"$WORK/second.out" 2>&1 </dev/null
	second=$?
	set -e
	vmm_running || fail "the first VM exited while a second one tried its cid"
	log "a second VM with cid=42: status $second: $(cat "$WORK/second.out")"
	[ "$second" = 2 ] || fail "a second VM with the same cid exited $second, expected 2"
	[ "$(wc -l <"$WORK/second.out")" = 1 ] || fail "a second VM with the same cid printed more than one line"
	grep -q 'cid=42: in use' "$WORK/second.out" || fail "the second VM's line does not name cid=42 as in use"
	t0=$(date +%s)
	run_peer vhost 42 52 1234 "$BYTES"
	finish
	log "$((BYTES >> 20)) MiB each way, both directions of connection, in $(($(date +%s) - t0)) s"
	;;
*) fail "unknown case '$case_name'" ;;
esac
log "PASS $case_name"
