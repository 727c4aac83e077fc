# Shared helpers of the Debian-guest tests (tests/linux/*_test.sh).
# Sourced with "$@" = CASE BUILD SRC. Sets MODVMM, KIT, PLUGINS, GUEST
# (the build-guest.sh output folder), WORK (a scratch folder, removed on exit).
BUILD=$(cd "${2:?build dir}" && pwd)
SRC=$(cd "${3:?source dir}" && pwd)
MODVMM="$BUILD/modvmm"
KIT="$BUILD/guestkit/kit.elf"
PROBE="$BUILD/tests/linux/probe.elf"
PLUGINS="$BUILD/plugins"
GUEST="$BUILD/linux-guest"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/modvmm-linux.XXXXXX")
VMM_PID=
cleanup() {
	[ -n "$VMM_PID" ] && kill -9 "$VMM_PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
# A test stopped by ctest's timeout or Ctrl-C still kills its VMM.
trap 'exit 143' TERM INT

# The guest command-line words the emulating KVM of earlier CI machines (a PVM
# host, where guest CPL0 code ran in KVM's instruction emulator) needs:
# features its instruction emulator cannot run at CPL0 are hidden from the
# kernel. They belong to these tests, not to VMM defaults.
EMULATED_KVM_WORDS="clearcpuid=cx16,popcnt,serialize,smap,fsgsbase,pku,rdpid,erms,fsrm noxsave mitigations=off init_on_alloc=0"

log() { echo "$(date +%T) $*"; }

. "$SRC/tests/common/fail.sh"
fail() { fail_showing "$*" "$WORK"/console "$WORK"/err; }

skip() {
	echo "SKIPPED: $*"
	exit 77
}

need_kvm() {
	[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] ||
		skip "/dev/kvm is missing or not accessible; this test needs real KVM and did NOT run"
}

need_guest() {
	[ -x "$MODVMM" ] || fail "$MODVMM not built"
	for f in vmlinux vmlinuz initramfs.cpio; do
		[ -s "$GUEST/$f" ] || fail "$GUEST/$f missing: run tests/linux/build-guest.sh $GUEST (the linux.guest_build test or 'cmake --build $BUILD --target linux-guest' does)"
	done
}

# start_vmm ARGS...: modvmm in the background; console to $WORK/console,
# stderr to $WORK/err, stdin from $WORK/in (a fifo, so a test can type).
start_vmm() { start_cmd "$MODVMM" "$@"; }

# start_cmd COMMAND ARGS...: the same for any VMM command (balloon_test.sh
# runs QEMU this way for its dry run).
start_cmd() {
	rm -f "$WORK/in"
	mkfifo "$WORK/in"
	"$@" >"$WORK/console" 2>"$WORK/err" <"$WORK/in" &
	VMM_PID=$!
	# Hold the fifo's write end open for the whole run: stdin never sees EOF.
	exec 8>"$WORK/in"
	VMM_T0=$(date +%s.%N)
}

vmm_running() { kill -0 "$VMM_PID" 2>/dev/null; }

# console_progress_deadline END SECONDS: END, or SECONDS from now if the
# console grew since the last call (the guest is making progress, however
# slowly its CPU runs). Keeps its last size in CONSOLE_SEEN.
CONSOLE_SEEN=0
console_progress_deadline() {
	local size
	size=$(stat -c %s "$WORK/console" 2>/dev/null || echo 0)
	if [ "$size" != "$CONSOLE_SEEN" ]; then
		CONSOLE_SEEN=$size
		echo $(($(date +%s) + $2))
	else
		echo "$1"
	fi
}

# wait_console REGEX SECONDS: 0 once the console log matches (grep -E);
# 1 once the console has printed nothing new for SECONDS (bounded by the
# guest's progress, not by a clock: a TCG-backed KVM on a busy machine may
# take minutes to boot); 2 if the VMM exited first.
wait_console() {
	local end=$(($(date +%s) + $2))
	while :; do
		grep -qE -- "$1" "$WORK/console" 2>/dev/null && return 0
		vmm_running || { grep -qE -- "$1" "$WORK/console" 2>/dev/null && return 0; return 2; }
		end=$(console_progress_deadline "$end" "$2")
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}

elapsed() { awk -v a="$VMM_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# wait_vmm SECONDS: waits for the VMM to exit; sets rc (124 on timeout,
# after which it is killed).
wait_vmm() {
	local end=$(($(date +%s) + $1))
	while vmm_running && [ "$(date +%s)" -lt "$end" ]; do sleep 0.05; done
	if vmm_running; then
		kill -9 "$VMM_PID"
		wait "$VMM_PID" 2>/dev/null
		rc=124
	else
		set +e
		wait "$VMM_PID"
		rc=$?
		set -e
	fi
	VMM_PID=
	exec 8>&-
}

# stop_vmm: SIGTERM, then the exit status within 5 s (rc), else fail.
stop_vmm() {
	kill -TERM "$VMM_PID" 2>/dev/null || true
	wait_vmm 5
	[ "$rc" != 124 ] || fail "modvmm still running 5 s after SIGTERM"
}

# expect_poweroff [SECONDS]: after the guest's poweroff, the VMM (modvmm,
# or QEMU in balloon_test.sh's dry run) exits within SECONDS (30 by
# default) with status 0.
expect_poweroff() {
	local t=${1:-30}
	wait_vmm "$t"
	[ "$rc" != 124 ] || fail "the VMM still runs $t s after the guest's poweroff"
	[ "$rc" = 0 ] || fail "the VMM exited with status $rc after poweroff, expected 0"
	log "poweroff: the VMM exited 0 after $(elapsed)s"
}

# probe_native: fails the calling test with "SKIPPED" (77) unless this host
# runs guest kernel-mode code natively (scripts/kvm-probe.sh: an emulating
# KVM, such as PVM's, cannot take Linux to init). scripts/test.sh runs these
# tests inside the nested KVM host on such machines, so there they never skip.
probe_native() {
	need_kvm
	[ -f "$PROBE" ] || fail "$PROBE not built"
	local why
	# Inside tools/nested-kvm the KVM is Linux's kvm_amd by construction;
	# the timing probe there only measures how busy the machine is (a
	# loaded 2-core host once read 242 ticks an iteration and skipped a
	# test that would have passed).
	if [ "${MODVMM_NESTED:-}" = 1 ] && grep -qw kvm_amd /proc/modules; then
		log "probe: the nested KVM host of tools/nested-kvm (kvm_amd), not timed"
		return 0
	fi
	if ! why=$("$SRC/scripts/kvm-probe.sh" "$BUILD"); then
		skip "$why; Linux cannot reach init here and this test did NOT run." \
			"Run it under a real KVM: tools/nested-kvm/nested-kvm -- ctest --test-dir $BUILD -L linux"
	fi
	log "probe: $why"
}

# --- the guest's command loop (init.sh `cmd`: balloon tests) -----------------

CMDN=0
# send CMD: type a command line into the guest
send() {
	CMDN=$((CMDN + 1))
	echo "$*" >&8
}
# wait_nth REGEX N SECONDS: until the console has N lines matching REGEX;
# fails once the console has printed nothing new for SECONDS.
wait_nth() {
	local end=$(($(date +%s) + $3))
	while [ "$(grep -cE -- "$1" "$WORK/console" || true)" -lt "$2" ]; do
		vmm_running || fail "the VMM exited while waiting for '$1' (#$2)"
		end=$(console_progress_deadline "$end" "$3")
		[ "$(date +%s)" -lt "$end" ] || fail "no '$1' (#$2), and no console output for ${3}s"
		sleep 0.2
	done
}
# answer SECONDS: waits for the last command's answer; sets GRC (its rc)
answer() {
	wait_nth "^modvmm-guest: cmd#$CMDN ok " 1 "$1"
	GRC=$(sed -n "s/^modvmm-guest: cmd#$CMDN ok [^ ]* rc=\([0-9]*\).*/\1/p" "$WORK/console" | tr -d '\r')
}
# guest_mem [SECONDS]: sets MEMTOTAL, MEMFREE, MEMAVAIL (kB) from the
# guest's `mem` (its answer within SECONDS of silence, 30 by default)
guest_mem() {
	send mem
	answer "${1:-30}"
	local l
	l=$({ grep '^modvmm-guest: mem MemTotal=' "$WORK/console" || true; } | tail -n 1 | tr -d '\r')
	MEMTOTAL=$(echo "$l" | sed -n 's/.*MemTotal=\([0-9]*\).*/\1/p')
	MEMFREE=$(echo "$l" | sed -n 's/.*MemFree=\([0-9]*\).*/\1/p')
	MEMAVAIL=$(echo "$l" | sed -n 's/.*MemAvailable=\([0-9]*\).*/\1/p')
	[ -n "$MEMTOTAL" ] && [ -n "$MEMFREE" ] || fail "no meminfo from the guest: '$l'"
	log "guest: MemTotal $((MEMTOTAL / 1024)) MiB, MemFree $((MEMFREE / 1024)) MiB, MemAvailable $((MEMAVAIL / 1024)) MiB"
}
