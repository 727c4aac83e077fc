#!/usr/bin/env bash
# virtio-vsock from the command line, without KVM (docs/vsock.md): a
# user's mistake with --vsock is one line naming the option and exit
# status 2 before KVM is opened.
# Usage: vsock_cli_test.sh CASE BUILD SRC
set -euo pipefail
. "$(dirname "$0")/lib.sh"
case_name=$1
[ -x "$MODVMM" ] || fail "$MODVMM not built"

common=(--kernel "$KIT" --memory 128M --plugin-dir "$PLUGINS")

case $case_name in
vsock_cid_reserved)
	for cid in 0 1 2; do
		run_vmm "${common[@]}" --vsock "cid=$cid,socket=$WORK/v.sock"
		expect_user_error "^modvmm: --vsock: .*cid=$cid: must be at least 3"
	done
	run_vmm "${common[@]}" --vsock "socket=$WORK/v.sock"
	expect_user_error "missing mandatory option 'cid'"
	;;
vsock_no_socket)
	run_vmm "${common[@]}" --vsock cid=3
	expect_user_error "socket: missing"
	;;
vsock_bad_socket)
	run_vmm "${common[@]}" --vsock "cid=3,socket=$WORK/nodir/v.sock"
	expect_user_error "socket=$WORK/nodir/v.sock: directory $WORK/nodir: No such file or directory$"
	long=$WORK/$(printf 'a%.0s' $(seq 1 100))
	run_vmm "${common[@]}" --vsock "cid=3,socket=$long"
	expect_user_error "socket=$long: too long"
	echo "not a socket" >"$WORK/file"
	run_vmm "${common[@]}" --vsock "cid=3,socket=$WORK/file"
	expect_user_error "socket=$WORK/file: exists and is not a socket"
	[ "$(cat "$WORK/file")" = "not a socket" ] || fail "modvmm touched the user's file"
	;;
vsock_socket_in_use)
	# Two devices on one path: the second finds the first listening.
	run_vmm "${common[@]}" --vsock "cid=3,socket=$WORK/v.sock" \
		--vsock "cid=4,socket=$WORK/v.sock"
	expect_user_error "socket=$WORK/v.sock: in use"
	;;
vsock_vhost_with_socket)
	run_vmm "${common[@]}" --vsock "cid=3,vhost=on,socket=$WORK/v.sock"
	expect_user_error "socket=$WORK/v.sock: not used with vhost=on"
	[ ! -e "$WORK/v.sock" ] || fail "modvmm left a socket file behind"
	;;
*) fail "unknown case '$case_name'" ;;
esac
echo "PASS $case_name"
