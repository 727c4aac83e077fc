#!/usr/bin/env bash
# Fails if any C file in the tree differs from clang-format's output.
# tests/sdk/abi/v1.0/ is a frozen copy of the ABI 1.0 headers as first
# published: it is never edited, reformatting included.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0
while IFS= read -r f; do
	if ! clang-format --style=file "$f" | cmp -s - "$f"; then
		echo "not formatted: $f (run clang-format -i $f)" >&2
		bad=1
	fi
done < <(git ls-files '*.c' '*.h' | grep -v '^tests/sdk/abi/v1.0/')
[ $bad -eq 0 ] && echo "format: ok"
exit $bad
