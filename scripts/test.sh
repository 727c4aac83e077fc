#!/usr/bin/env bash
# The README's second command, and what CI runs: install what is missing,
# build, run every test (unit, plugin, kvm, cli, fuzz replay; `linux`
# tests say loudly why they skip), then the unit and plugin tests again
# under AddressSanitizer + UBSan, a short libFuzzer run, and a format check.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

echo "== build"
scripts/build.sh >/dev/null
echo "== tests"
set +e
ctest --test-dir build --output-on-failure -j2
rc=$?
set -e
# ctest hides a skipped test's output: say loudly what did not run, and why.
skips=$(grep -h '^SKIPPED' build/Testing/Temporary/LastTest.log 2>/dev/null |
	sort -u)
if [ -n "$skips" ]; then
	echo "== these tests were SKIPPED (not passed):"
	echo "$skips"
fi
[ $rc -eq 0 ] || exit $rc

echo "== unit and plugin tests under ASan + UBSan"
BUILD_DIR=build-asan scripts/build.sh -DMODVMM_SANITIZE=ON >/dev/null
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	ctest --test-dir build-asan --output-on-failure -j2 -L 'unit|plugin'

echo "== fuzzers (libFuzzer, bounded)"
BUILD_DIR=build-fuzz scripts/build.sh -DCMAKE_C_COMPILER=clang \
	-DMODVMM_FUZZ=ON >/dev/null
ctest --test-dir build-fuzz --output-on-failure -L fuzz

echo "== format"
scripts/check-format.sh
