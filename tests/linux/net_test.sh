#!/usr/bin/env bash
# virtio-net with Debian's kernel (ctest label `linux`; issue 16). The test
# runs in a network namespace of its own (it re-runs itself under
# `unshare -n`), where modvmm creates its tap with 169.254.16.1/16 and the
# guest takes 169.254.16.2/16: link-local addresses that exist only in that
# namespace, whose only other device is lo, so no packet can leave it.
#
# The guest's `net` test (tests/linux/init.sh) pings the host's tap
# address, uploads MODVMM_NET_MIB (100) MiB of random bytes to the host
# (tests/linux/net_peer.py, port 5001) and downloads as many (port 5002);
# both sha256 sums are compared with the other side's.
#
# Usage: net_test.sh CASE BUILD SRC
#   vhost_off   the userspace data path (modvmm's event loop)
#   vhost_on    vhost-net (needs /dev/vhost-net: the nested host loads
#               vhost_net); the VMM's log says vhost-net ran the queues
set -euo pipefail
if [ "${MODVMM_NET_NETNS:-}" != 1 ]; then
	command -v unshare >/dev/null || { echo "FAIL: unshare (util-linux) is needed" >&2; exit 1; }
	exec unshare -n env MODVMM_NET_NETNS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
case_name=$1
BOUND=${MODVMM_LINUX_BOUND:-120}
MIB=${MODVMM_NET_MIB:-100}
need_guest
probe_native
command -v python3 >/dev/null || fail "python3 is needed (tests/linux/net_peer.py)"
ip link set lo up

case $case_name in
vhost_off) vhost=off ;;
vhost_on)
	[ -c /dev/vhost-net ] || fail "/dev/vhost-net is missing (modprobe vhost_net): vhost=on cannot be tested"
	vhost=on
	;;
*) fail "unknown case $case_name" ;;
esac

head -c $((MIB * 1048576)) /dev/urandom >"$WORK/down"
down_sha=$(sha256sum "$WORK/down" | cut -d' ' -f1)
python3 "$SRC/tests/linux/net_peer.py" "$WORK/down" >"$WORK/peer" 2>&1 &
PEER_PID=$!
trap 'kill $PEER_PID 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 100); do grep -q listening "$WORK/peer" && break; sleep 0.1; done
grep -q listening "$WORK/peer" || fail "net_peer.py did not start: $(cat "$WORK/peer")"

cmdline="console=ttyS0 modvmm.test=net modvmm.net_ip=169.254.16.2 modvmm.net_host=169.254.16.1 modvmm.net_mib=$MIB ${MODVMM_LINUX_CMDLINE_EXTRA:-}"
net="tap=mvmtap0,ip=169.254.16.1,mask=255.255.0.0,vhost=$vhost"
log "booting with --net $net: $cmdline"
start_vmm --kernel "$GUEST/vmlinux" --initramfs "$GUEST/initramfs.cpio" --memory 768M \
	--cmdline "$cmdline" --device uart16550 --net "$net" --log-level info
wait_console 'modvmm-guest: init reached' "$BOUND" ||
	{ stop_vmm; fail "no 'init reached' (no console output for ${BOUND}s)"; }
log "init reached after $(elapsed)s"
wait_console 'modvmm-guest: done rc=' "$BOUND" || { stop_vmm; fail "the guest never finished"; }
expect_poweroff 60
grep '^modvmm-guest: \(net\|module virtio_net\)' "$WORK/console" | tr -d '\r' | sed 's/^/  /'
grep -q '^modvmm-guest: module virtio_net loaded' "$WORK/console" || fail "virtio_net did not load"
grep -q '^modvmm-guest: net ping ok' "$WORK/console" || fail "the guest could not ping the host's tap address"
grep -q '^modvmm-guest: done rc=0' "$WORK/console" || fail "the guest reported failures"

if [ "$vhost" = on ]; then
	grep -q 'vhost-net data path' "$WORK/err" || fail "modvmm did not say it used vhost-net"
	grep -q 'vhost-net start failed' "$WORK/err" && fail "vhost-net did not start: $(grep 'vhost-net start failed' "$WORK/err")"
else
	grep -q 'userspace data path' "$WORK/err" || fail "modvmm did not say it used the userspace data path"
fi

guest_out=$(sed -n 's/^modvmm-guest: net sha256 out \([0-9a-f]*\).*/\1/p' "$WORK/console" | tr -d '\r')
guest_in=$(sed -n 's/^modvmm-guest: net sha256 in \([0-9a-f]*\).*/\1/p' "$WORK/console" | tr -d '\r')
wait "$PEER_PID" || fail "net_peer.py failed: $(cat "$WORK/peer")"
read -r _ up_bytes up_sha < <(grep '^recv ' "$WORK/peer")
[ "$up_bytes" = $((MIB * 1048576)) ] || fail "the host received $up_bytes bytes, the guest sent $((MIB * 1048576))"
[ "$up_sha" = "$guest_out" ] || fail "upload: host sha256 $up_sha, guest $guest_out"
log "guest -> host: $up_bytes bytes, sha256 $up_sha on both sides"
[ "$guest_in" = "$down_sha" ] || fail "download: guest sha256 $guest_in, host $down_sha"
log "host -> guest: $((MIB * 1048576)) bytes, sha256 $down_sha on both sides"
