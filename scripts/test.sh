#!/usr/bin/env bash
# The README's second command, and what CI runs: install what is missing,
# build, run every test, then the unit and plugin tests again under
# AddressSanitizer + UBSan, a short libFuzzer run, and a format check.
#
# Tests labelled `kvm` or `linux` need a KVM that runs guest code natively.
# Where /dev/kvm is such a KVM (scripts/kvm-probe.sh) they run here; where it
# is missing or emulating, they run inside the nested KVM host
# (tools/nested-kvm/nested-kvm; docs/testing.md). Either way none of the
# kvm, api, linux or sdk tests may skip: a skip there fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
t0=$(date +%s)
stamp() { echo "   ($(($(date +%s) - t0)) s since the build started)"; }

echo "== build"
scripts/build.sh >/dev/null
# The Debian guest of the linux tests is fetched here, where the package
# archive is reachable (the nested host has no network).
cmake --build build --target linux-guest >/dev/null
stamp

logs=build/Testing/runs
rm -rf "$logs"
mkdir -p "$logs"
# run_ctest NAME [RUNNER...] :: CTEST-ARGS...: ctest (under RUNNER if
# given), its output kept in $logs/NAME.out, its per-test log in
# $logs/NAME.log.
run_ctest() {
	local name=$1 runner=() rc
	shift
	while [ "$1" != :: ]; do runner+=("$1"); shift; done
	shift
	set +e
	"${runner[@]}" ctest --test-dir build --output-on-failure -j2 "$@" |
		tee "$logs/$name.out"
	rc=${PIPESTATUS[0]}
	set -e
	cp build/Testing/Temporary/LastTest.log "$logs/$name.log" 2>/dev/null || true
	return "$rc"
}

rc=0
if kvm_why=$(scripts/kvm-probe.sh build); then
	kvm_where="directly on this host: $kvm_why"
	echo "== tests (KVM: $kvm_where)"
	run_ctest all :: || rc=$?
else
	kvm_where="inside the nested KVM host (tools/nested-kvm), because $kvm_why"
	echo "== tests that need no KVM"
	run_ctest host :: -LE 'kvm|linux' || rc=$?
	stamp
	echo "== tests that need KVM, $kvm_where"
	run_ctest nested tools/nested-kvm/nested-kvm --log "$logs/nested-kernel.log" -- :: -L 'kvm|linux' </dev/null || rc=$?
fi
stamp

# ctest hides a skipped test's output: name every skipped test and its
# reason. A skip among the tests that need KVM, the control API or the SDK
# is a failure: on every machine they can run (in the nested host if not
# here).
must_run=$(ctest --test-dir build -N -L 'kvm|linux|api|sdk' |
	sed -n 's/^ *Test *#[0-9]*: //p')
skipped=$(cat "$logs"/*.out | sed -n 's/^.*Test *#[0-9]*: \([^ ]*\) .*\*\*\*Skipped.*$/\1/p' | sort -u)
echo "== KVM tests ran $kvm_where"
if [ -n "$skipped" ]; then
	echo "== these tests were SKIPPED (not passed):"
	for t in $skipped; do
		why=$(awk -v t="$t" '
			$0 ~ "^[0-9]+/[0-9]+ Test: " t "$" { on = 1; next }
			on && /^<end of output>/ { exit }
			on && /SKIP/ { sub(/^.*SKIP(PED)?:? */, ""); print; exit }' "$logs"/*.log)
		echo "  $t: ${why:-no reason printed}"
		if echo "$must_run" | grep -qxF "$t"; then
			echo "  ^ $t needs KVM, the API or the SDK: it must run on every machine, so this skip is a failure"
			rc=1
		fi
	done
fi
if [ "$rc" -ne 0 ]; then
	echo "== FAILED (status $rc): see the output above and build/Testing/runs/"
	exit "$rc"
fi

echo "== unit and plugin tests under ASan + UBSan"
BUILD_DIR=build-asan scripts/build.sh -DMODVMM_SANITIZE=ON >/dev/null
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	ctest --test-dir build-asan --output-on-failure -j2 -L 'unit|plugin'
stamp

echo "== fuzzers (libFuzzer, bounded)"
BUILD_DIR=build-fuzz scripts/build.sh -DCMAKE_C_COMPILER=clang \
	-DMODVMM_FUZZ=ON >/dev/null
ctest --test-dir build-fuzz --output-on-failure -L fuzz
stamp

echo "== format"
scripts/check-format.sh
echo "== all passed in $(($(date +%s) - t0)) s; KVM tests ran $kvm_where"
