#!/usr/bin/env bash
# The per-thread seccomp filters under a real KVM (docs/seccomp.md):
#  - a device's forbidden system call (socket(2), from the test-only
#    seccomp_probe plugin, on a vCPU thread or the event loop's) kills
#    modvmm by SIGSYS with --seccomp on (the default), runs with log (and
#    the kernel's audit log shows it where the audit subsystem is on) and
#    off, and runs with on when the plugin declared it in its descriptor;
#  - while a VM runs, every thread of modvmm is in seccomp filter mode with
#    exactly one filter (its own: none inherited), and --seccomp off
#    leaves them unfiltered.
# Usage: seccomp_test.sh CASE BUILD SRC
set -euo pipefail
. "$(dirname "$0")/lib.sh"
case_name=$1
need_kvm
PROBE_DIR="$BUILD/tests/integration"
PROBE="$PROBE_DIR/seccomp_probe.so"
DECLARED="$PROBE_DIR/seccomp_probe_declared.so"
SIGSYS_STATUS=$((128 + 31))
[ -f "$PROBE" ] && [ -f "$DECLARED" ] || fail "seccomp_probe plugins not built"

# probe_vm PLUGIN_OPTIONS EXTRA_FLAGS...: a kit that writes 42 to the
# probe's port.
probe_vm() {
	local popts=$1
	shift
	run_vmm --kernel "$KIT" --memory 128M --plugin-dir "$PLUGINS" \
		--device uart16550,input=off --device "$popts" \
		--cmdline "test=debug-exit port=0x5f8 status=42" "$@"
}

expect_killed() {
	expect_rc $SIGSYS_STATUS
	expect_out "kit: debug-exit: writing 42 to port 0x5f8"
	if grep -q "seccomp probe: socket() returned" "$WORK/err"; then
		fail "socket() ran under --seccomp on"
	fi
}

expect_allowed() {
	expect_rc 42
	grep -q "seccomp probe: socket() returned fd" "$WORK/err" ||
		fail "the probe did not report socket()'s descriptor"
}

# The kernel logs SECCOMP_RET_LOG as audit type 1326 (AUDIT_SECCOMP) with
# the thread's name, but only where the audit subsystem is enabled.
audit_note() {
	local since=$1
	if ! dmesg >/dev/null 2>&1; then
		echo "note: dmesg not readable: survival checked only"
		return 0
	fi
	if dmesg | tail -n +"$since" | grep -q 'type=1326.*comm="modvmm.*syscall=41 '; then
		echo "kernel audit log: socket() (syscall 41) logged"
	elif dmesg | tail -n +"$since" | grep -q 'type=1326'; then
		fail "audit records seccomp, but not modvmm's socket() call"
	else
		echo "note: audit off on this kernel: survival checked only"
	fi
}

case $case_name in
kill_vcpu)
	probe_vm "$PROBE"
	expect_killed
	;;
kill_evloop)
	probe_vm "$PROBE,evloop=on"
	expect_killed
	;;
log)
	since=$(($(dmesg 2>/dev/null | wc -l) + 1))
	probe_vm "$PROBE" --seccomp log
	expect_allowed
	probe_vm "$PROBE,evloop=on" --seccomp log
	expect_allowed
	audit_note "$since"
	;;
off)
	probe_vm "$PROBE" --seccomp off
	expect_allowed
	;;
machine_file)
	# 'seccomp: log' in the machine file, and the flag overriding it.
	cat >"$WORK/m.yaml" <<YAML
kernel: $KIT
memory: 128M
cmdline: "test=debug-exit port=0x5f8 status=42"
plugin-path: [$PLUGINS]
seccomp: log
devices:
  - plugin: uart16550
    options: "input=off"
  - plugin: $PROBE
YAML
	run_vmm --machine "$WORK/m.yaml"
	expect_allowed
	run_vmm --machine "$WORK/m.yaml" --seccomp on
	expect_killed
	;;
declared)
	probe_vm "$DECLARED"
	expect_allowed
	probe_vm "$DECLARED,evloop=on"
	expect_allowed
	;;
threads | threads_off)
	# Every thread kind there is (two vCPUs, the event loop with a control
	# socket and virtio devices, main waiting); the RAM mapping helper has
	# come and gone.
	mode=on
	[ "$case_name" = threads_off ] && mode=off
	sock=$WORK/api.sock
	set +e
	"$MODVMM" --kernel "$KIT" --memory 256M --cpus 2 --cmdline "test=idle" \
		--plugin-dir "$PLUGINS" --device uart16550,input=off \
		--device rng --balloon size=0,stats=1 --api-socket "$sock" \
		--seccomp "$mode" >"$WORK/out" 2>"$WORK/err" </dev/null &
	pid=$!
	set -e
	for _ in $(seq 600); do
		grep -q 'kit: idle' "$WORK/out" 2>/dev/null && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	grep -q 'kit: idle' "$WORK/out" || { kill -9 $pid; fail "guest never went idle"; }
	# A client served by the filtered event loop.
	"$BUILD/modvmm-ctl" --api-socket "$sock" --timeout 20 info \
		>"$WORK/ctl.out" 2>&1 || { kill -9 $pid; fail "modvmm-ctl info failed: $(cat "$WORK/ctl.out")"; }
	want=2 filters=1
	[ $mode = off ] && want=0 filters=0
	n=0
	for st in /proc/$pid/task/*/status; do
		name=$(awk '/^Name:/ {print $2}' "$st")
		sc=$(awk '/^Seccomp:/ {print $2}' "$st")
		nf=$(awk '/^Seccomp_filters:/ {print $2}' "$st")
		echo "thread $name: Seccomp: $sc${nf:+, Seccomp_filters: $nf}"
		[ "$sc" = "$want" ] || { kill -9 $pid; fail "thread $name: Seccomp: $sc, expected $want"; }
		# Filters stack on inheritance: one each means no thread got
		# another kind's filter on top of its own.
		if [ -n "$nf" ] && [ "$nf" != "$filters" ]; then
			kill -9 $pid
			fail "thread $name: Seccomp_filters: $nf, expected $filters"
		fi
		n=$((n + 1))
	done
	[ $n -ge 4 ] || { kill -9 $pid; fail "only $n threads (main, event loop, 2 vCPUs expected)"; }
	term_vmm $pid
	# Tearing down ran under the main thread's filter.
	expect_rc 0
	[ ! -e "$sock" ] || fail "the control socket file was left behind"
	;;
*)
	fail "unknown case $case_name"
	;;
esac
echo "ok: $case_name"
