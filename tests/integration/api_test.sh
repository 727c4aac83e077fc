#!/usr/bin/env bash
# The control socket under real KVM: boots a guest-kit program with
# --api-socket and drives it with modvmm-ctl and hostile clients.
# Usage: api_test.sh CASE BUILD SRC
set -euo pipefail
. "$(dirname "$0")/lib.sh"
case_name=$1
CTL="$BUILD/modvmm-ctl"
SOCK="$WORK/api.sock"
# Every case but `usage` (modvmm-ctl's own errors) boots a VM.
[ "$case_name" = usage ] || need_kvm
need_vmm_and_kit
[ -x "$CTL" ] || fail "$CTL not built"

kill_vmm_on_exit

# start_vm [ARGS...]: modvmm in the background on the ticker program,
# waits until its socket accepts and the guest ticks. The ticker would run
# for an hour: every case stops it, and a slow (TCG-backed) host may take
# minutes over one. Bounds here are for a hung VMM, not for speed.
start_vm() {
	kit_machine 128M 2 "test=ticker ticks=36000"
	"$MODVMM" --machine "$WORK/m.yaml" --api-socket "$SOCK" "$@" \
		>"$WORK/out" 2>"$WORK/err" </dev/null &
	pid=$!
	for _ in $(seq 1200); do
		grep -q '^kit: tick 2$' "$WORK/out" 2>/dev/null && [ -S "$SOCK" ] &&
			return 0
		kill -0 $pid 2>/dev/null || fail "modvmm exited early"
		sleep 0.1
	done
	fail "guest never ticked or socket never appeared"
}

# wait_vm STATUS: modvmm exits within 30 s with STATUS.
wait_vm() {
	for _ in $(seq 600); do
		kill -0 $pid 2>/dev/null || break
		sleep 0.05
	done
	kill -0 $pid 2>/dev/null && fail "modvmm still running"
	set +e
	wait $pid
	rc=$?
	set -e
	pid=""
	expect_rc "$1"
}

ctl() {
	set +e
	"$CTL" --api-socket "$SOCK" --timeout 20 "$@" >"$WORK/ctl.out" 2>"$WORK/ctl.err"
	crc=$?
	set -e
}

expect_ctl() {
	[ "$crc" = "$1" ] || {
		cat "$WORK/ctl.out" "$WORK/ctl.err" >&2
		fail "modvmm-ctl $2: exit status $crc, expected $1"
	}
}

ticks() { grep -c '^kit: tick ' "$WORK/out" || true; }

case $case_name in
info)
	start_vm
	mode=$(stat -c %a "$SOCK")
	[ "$mode" = 600 ] || fail "socket mode $mode, expected 600"
	ctl info
	expect_ctl 0 info
	grep -q '^status: running' "$WORK/ctl.out" || fail "info: no running state"
	grep -q '^vcpus: 2' "$WORK/ctl.out" || fail "info: vCPUs"
	grep -q '^memory: 134217728' "$WORK/ctl.out" || fail "info: memory"
	grep -q 'plugin: uart16550' "$WORK/ctl.out" || fail "info: devices"
	grep -q 'ports: 0x3f8-0x3ff' "$WORK/ctl.out" || fail "info: ports"
	ctl --json call '{"execute":"info"}'
	expect_ctl 0 "--json call info"
	python3 - "$WORK/ctl.out" <<'PY' || fail "--json info is not the QMP reply"
import json, sys
r = json.load(open(sys.argv[1]))["return"]
assert r["status"] == "running" and r["vcpus"] == 2, r
assert r["devices"][0]["plugin"] == "uart16550", r
assert r["devices"][0]["gsis"] == [4], r
PY
	ctl help
	expect_ctl 0 help
	grep -q 'query-status' "$WORK/ctl.out" || fail "help lacks query-status"
	ctl devices
	expect_ctl 0 devices
	ctl no-such-command
	expect_ctl 1 "no-such-command"
	grep -q 'CommandNotFound' "$WORK/ctl.err" || fail "no error class"
	ctl system_powerdown
	expect_ctl 1 system_powerdown
	ctl shutdown
	expect_ctl 0 shutdown
	wait_vm 0
	[ ! -e "$SOCK" ] || fail "socket still there after exit"
	;;
pause_resume)
	start_vm
	ctl pause
	expect_ctl 0 pause
	ctl --json call '{"execute":"query-status"}'
	grep -q '"status":"paused"' "$WORK/ctl.out" || fail "not paused"
	before=$(ticks)
	sleep 1.5
	after=$(ticks)
	[ "$before" = "$after" ] ||
		fail "the guest ticked while paused ($before -> $after)"
	ctl resume
	expect_ctl 0 resume
	for _ in $(seq 600); do
		[ "$(ticks)" -ge $((after + 3)) ] && break
		sleep 0.1
	done
	[ "$(ticks)" -ge $((after + 3)) ] ||
		fail "the guest did not carry on within 60 s of resume ($after -> $(ticks) ticks)"
	# QEMU's names do the same.
	ctl stop
	expect_ctl 0 stop
	ctl cont
	expect_ctl 0 cont
	ctl quit
	expect_ctl 0 quit
	wait_vm 0
	;;
events)
	start_vm
	"$CTL" --api-socket "$SOCK" --json events >"$WORK/events" 2>&1 &
	evpid=$!
	sleep 0.5
	ctl pause
	ctl resume
	ctl shutdown
	expect_ctl 0 shutdown
	wait_vm 0
	wait $evpid || fail "events client failed"
	for e in STOP RESUME SHUTDOWN; do
		grep -q "\"event\":\"$e\"" "$WORK/events" || fail "no $e event"
	done
	grep -q '"reason":"host-qmp-quit"' "$WORK/events" ||
		fail "SHUTDOWN without its reason"
	grep -q '"timestamp":{"seconds":' "$WORK/events" || fail "no timestamp"
	;;
bad_clients)
	start_vm
	python3 "$SRC/tests/integration/api_bad_clients.py" "$SOCK" ||
		fail "a bad client hurt the VM or the other clients"
	kill -0 $pid || fail "modvmm died"
	ctl info
	expect_ctl 0 "info after the bad clients"
	ctl shutdown
	wait_vm 0
	;;
idle_clients)
	start_vm
	python3 "$SRC/tests/integration/api_idle_clients.py" "$SOCK" "$CTL" ||
		fail "idle or excess clients were not handled as documented"
	kill -0 $pid || fail "modvmm died"
	ctl shutdown
	wait_vm 0
	;;
stale_socket)
	# A socket file nobody listens on (a VMM that was SIGKILLed).
	python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$SOCK"
	[ -S "$SOCK" ] || fail "could not make a stale socket"
	start_vm
	ctl info
	expect_ctl 0 "info on the replaced socket"
	# A second VMM on the same, live socket: refused with exit 2.
	run_vmm --machine "$WORK/m.yaml" --api-socket "$SOCK"
	expect_rc 2
	grep -q 'another VMM is serving it' "$WORK/err" || fail "no clear reason"
	ctl info
	expect_ctl 0 "info after the refused second VMM"
	ctl shutdown
	wait_vm 0
	[ ! -e "$SOCK" ] || fail "socket still there after exit"
	;;
not_a_socket)
	echo precious >"$SOCK"
	kit_machine 128M 1 "test=poweroff"
	run_vmm --machine "$WORK/m.yaml" --api-socket "$SOCK"
	expect_rc 2
	grep -q 'not a socket' "$WORK/err" || fail "no clear reason"
	[ "$(cat "$SOCK")" = precious ] || fail "the file was replaced"
	;;
exit_paths)
	# Guest power-off, SIGTERM, and a user error after the socket exists:
	# the socket file is gone every time.
	kit_machine 128M 1 "test=poweroff"
	run_vmm --machine "$WORK/m.yaml" --api-socket "$SOCK"
	expect_rc 0
	[ ! -e "$SOCK" ] || fail "socket left after guest power-off"
	start_vm
	kill -TERM $pid
	wait_vm 0
	[ ! -e "$SOCK" ] || fail "socket left after SIGTERM"
	# While paused, SIGTERM still ends the VM.
	start_vm
	ctl pause
	kill -TERM $pid
	wait_vm 0
	[ ! -e "$SOCK" ] || fail "socket left after SIGTERM while paused"
	;;
usage)
	# modvmm-ctl's own errors: exit 2, one line.
	set +e
	"$CTL" info >/dev/null 2>"$WORK/ctl.err"; crc=$?
	set -e
	expect_ctl 2 "without --api-socket"
	ctl info
	expect_ctl 2 "on a missing socket"
	grep -q 'cannot connect' "$WORK/ctl.err" || fail "no clear reason"
	[ "$(wc -l <"$WORK/ctl.err")" = 1 ] || fail "more than one error line"
	ctl call 'not json'
	expect_ctl 2 "call with bad JSON"
	;;
*)
	fail "unknown case $case_name"
	;;
esac
echo "ok: $case_name"
