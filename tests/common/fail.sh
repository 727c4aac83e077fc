# fail_showing MESSAGE FILE...: how a shell test fails. "FAIL: MESSAGE" on
# stderr, then the last 40 lines of each FILE that is not empty (what the VMM
# or the guest printed), then exit 1. Sourced by tests/integration/lib.sh and
# tests/linux/lib.sh, whose fail() names their own output files.
fail_showing() {
	echo "FAIL: $1" >&2
	shift
	for f in "$@"; do
		[ -s "$f" ] && { echo "--- ${f##*/} (last 40 lines):" >&2; tail -n 40 "$f" >&2; }
	done
	exit 1
}
