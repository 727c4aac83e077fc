#!/usr/bin/env bash
# Runs ctest so that a second run picks up where the first stopped:
#
#   scripts/ctest-resume.sh STATE ctest [ARGS...]
#
# Every test that passes is appended to the file STATE (one name a line);
# tests already named there are left out (ctest -E). scripts/test.sh runs
# the KVM tests in the nested host through this, so that when the nested
# host dies mid-run (an emulator fault, docs/testing.md) and nested-kvm
# boots a fresh one, only the tests that had not passed run again.
#
# Exit status: ctest's.
set -uo pipefail
state=${1:?usage: ctest-resume.sh STATE ctest [ARGS...]}
shift
[ $# -gt 0 ] || { echo "usage: ctest-resume.sh STATE ctest [ARGS...]" >&2; exit 2; }
touch "$state"
if [ -s "$state" ]; then
	# Test names are literal: escape what a regex would read.
	re="^($(sed 's/[][\.*^$+?(){}|\\]/\\&/g' "$state" | paste -sd'|'))\$"
	# ctest keeps only the last -E: fold ours into the caller's.
	args=()
	merged=
	while [ $# -gt 0 ]; do
		case $1 in
		-E | --exclude-regex)
			args+=("$1" "$2|$re")
			merged=1
			shift 2
			;;
		*) args+=("$1"); shift ;;
		esac
	done
	[ -n "$merged" ] || args+=(-E "$re")
	set -- "${args[@]}"
	echo "== resuming: $(wc -l <"$state") tests passed before the nested host stopped; running the rest"
fi
"$@" | while IFS= read -r line; do
	printf '%s\n' "$line"
	# "12/60 Test  #27: kvm.smp_6g .......   Passed    2.39 sec"
	if [[ $line =~ Test\ +#[0-9]+:\ ([^ ]+)\ .*\ Passed\  ]]; then
		echo "${BASH_REMATCH[1]}" >>"$state"
	fi
done
exit "${PIPESTATUS[0]}"
