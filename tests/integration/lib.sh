# Shared helpers for the integration tests: run modvmm, capture its output,
# and fail with a clear message.
BUILD=${2:?build dir}
SRC=${3:?source dir}
MODVMM="$BUILD/modvmm"
KIT="$BUILD/guestkit/kit.elf"
PLUGINS="$BUILD/plugins"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/modvmm-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

. "$SRC/tests/common/fail.sh"
fail() { fail_showing "$*" "$WORK"/out "$WORK"/err; }

need_kvm() {
	if [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo "SKIPPED: /dev/kvm is missing or not accessible on this host;" \
			"this test needs real KVM and did NOT run" >&2
		exit 77
	fi
}

# need_vmm_and_kit: modvmm and the guest kit are built.
need_vmm_and_kit() {
	[ -x "$MODVMM" ] || fail "$MODVMM not built"
	[ -f "$KIT" ] || fail "$KIT not built"
}

# need_plugin NAME: the plugin NAME.so is built.
need_plugin() {
	[ -f "$PLUGINS/$1.so" ] || fail "$PLUGINS/$1.so not built (plugin $1)"
}

# kill_vmm_on_exit: for tests that start modvmm in the background with its
# pid in $pid: however the test ends (cleanup_vmm on EXIT), that modvmm is
# killed and $WORK goes.
cleanup_vmm() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
	rm -rf "$WORK"
}
kill_vmm_on_exit() {
	pid=""
	trap cleanup_vmm EXIT
}

# term_vmm PID: SIGTERM, then up to 20 s for modvmm to exit (SIGKILL and
# fail if it does not); its exit status in $rc.
term_vmm() {
	kill -TERM "$1"
	for _ in $(seq 400); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -9 "$1"
		fail "modvmm still running 20 s after SIGTERM"
	fi
	set +e
	wait "$1"
	rc=$?
	set -e
}

# run_vmm ARGS...: runs modvmm with a 60 s bound, stdout/stderr to files,
# exit status in $rc.
run_vmm() {
	set +e
	timeout -k 5 60 "$MODVMM" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
	rc=$?
	set -e
}

expect_rc() {
	[ "$rc" = "$1" ] || fail "exit status $rc, expected $1"
}

# expect_user_error PATTERN: status 2 and exactly one stderr line matching.
expect_user_error() {
	expect_rc 2
	local lines
	lines=$(wc -l <"$WORK/err")
	[ "$lines" -eq 1 ] || fail "expected one error line, got $lines"
	grep -qE -- "$1" "$WORK/err" || fail "error line does not match /$1/: $(cat "$WORK/err")"
}

# base_yaml: $WORK/m.yaml, a machine file with the kit, 128M and the
# plugin folder, for a test to append to.
base_yaml() {
	cat >"$WORK/m.yaml" <<YAML
kernel: $KIT
memory: 128M
plugin-path: [$PLUGINS]
YAML
}

expect_out() {
	grep -qF -- "$1" "$WORK/out" || fail "console output lacks '$1'"
}

# The kit's verdict: at least one PASS, no FAIL, and the closing line.
expect_kit_pass() {
	grep -q '^PASS ' "$WORK/out" || fail "no PASS line from the kit"
	if grep -q '^FAIL' "$WORK/out"; then
		fail "the kit reported a failure"
	fi
	grep -q '^kit: done, [0-9]* passed, 0 failed' "$WORK/out" ||
		fail "no 'kit: done, N passed, 0 failed' line"
}

kit_machine() {
	# kit_machine MEM CPUS CMDLINE [extra device options]
	cat >"$WORK/m.yaml" <<YAML
kernel: $KIT
memory: $1
cpus: $2
cmdline: "$3"
plugin-path: [$PLUGINS]
devices:
  - plugin: uart16550
    options: "input=off${4:+,$4}"
YAML
}
