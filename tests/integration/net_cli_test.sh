#!/usr/bin/env bash
# virtio-net from the command line and machine files, without KVM: a
# user's mistake with a network device is one line naming the key=value
# and exit status 2 before KVM is opened. The cases that touch taps run in
# a network namespace of their own (unshare -n: root), so no tap is made
# on the host.
# Usage: net_cli_test.sh CASE BUILD SRC
set -euo pipefail
. "$(dirname "$0")/lib.sh"
case_name=$1
[ -x "$MODVMM" ] || fail "$MODVMM not built"

common=(--kernel "$KIT" --memory 128M --plugin-dir "$PLUGINS")
# MODVMM under another user (nobody) in a fresh network namespace.
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
# as_nobody ARGS...: modvmm as user nobody, in a network namespace of its
# own. nobody must reach the binary, the kit and the plugins: a checkout in
# a private folder (mktemp -d makes 0700 ones) would end in exit 126
# instead of the error under test, so then they are copied where nobody
# can read them first.
as_nobody() {
	local bin=$MODVMM
	if ! nobody test -x "$MODVMM" -a -r "$KIT" -a -r "$PLUGINS/virtio-net.so"; then
		mkdir -p "$WORK/pub"
		cp "$MODVMM" "$KIT" "$WORK/pub/"
		cp -r "$PLUGINS" "$WORK/pub/plugins"
		chmod -R a+rX "$WORK/pub"
		chmod 755 "$WORK"
		bin=$WORK/pub/${MODVMM##*/}
		common=(--kernel "$WORK/pub/${KIT##*/}" --memory 128M --plugin-dir "$WORK/pub/plugins")
	fi
	set +e
	unshare -n setpriv --reuid=65534 --regid=65534 --clear-groups \
		timeout -k 5 60 "$bin" "${common[@]}" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
	rc=$?
	set -e
}

case $case_name in
net_bad_mac)
	run_vmm "${common[@]}" --net mac=02:00:00:00:00
	expect_user_error "^modvmm: --net: device virtio-net: mac=02:00:00:00:00: expected six hex bytes"
	run_vmm "${common[@]}" --net mac=03:00:00:00:00:01
	expect_user_error "mac=03:00:00:00:00:01: a multicast address$"
	;;
net_bad_values)
	run_vmm "${common[@]}" --net mtu=65536
	expect_user_error "mtu=65536: must be at most 65535"
	run_vmm "${common[@]}" --net num_queues=4
	expect_user_error "num_queues=4: must be at most 2"
	run_vmm "${common[@]}" --net vhost=yes
	expect_user_error "vhost=yes: expected on, off or auto"
	run_vmm "${common[@]}" --net mask=255.255.0.0
	expect_user_error "mask=255.255.0.0: needs ip="
	run_vmm "${common[@]}" --net ip=169.254.1.300
	expect_user_error "ip=169.254.1.300: not an IPv4 address"
	;;
net_yaml_bad_option)
	base_yaml
	cat >>"$WORK/m.yaml" <<YAML
devices:
  - plugin: virtio-net
    options: "tap=t0,queue_size=100"
YAML
	run_vmm --machine "$WORK/m.yaml"
	expect_user_error "queue_size=100: must be a power of two"
	;;
net_tap_no_permission)
	command -v setpriv >/dev/null || fail "setpriv (util-linux) is needed"
	as_nobody --net tap=mvmcli0,vhost=off
	expect_user_error "tap=mvmcli0: .*(Permission denied|Operation not permitted).*CAP_NET_ADMIN"
	;;
net_vhost_on_unavailable)
	# As nobody, /dev/vhost-net (0600 root, where it exists) cannot be
	# opened either: vhost=on is refused before any tap is made.
	as_nobody --net tap=mvmcli0,vhost=on
	expect_user_error "vhost=on: /dev/vhost-net: "
	;;
*) fail "unknown case $case_name" ;;
esac
echo "PASS $case_name"
