#!/usr/bin/env bash
# The README's first command: install what is missing, build, and boot the
# example machine (the guest kit's hello program: it prints the machine it
# found and powers off). Arguments go to modvmm.
#
# Where this host's /dev/kvm is missing or only emulates guest instructions
# (scripts/kvm-probe.sh), the example boots inside the nested KVM host
# (tools/nested-kvm/nested-kvm, docs/testing.md) instead, and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
echo "== building modvmm into build/"
# Show progress, not every compiler line: cmake's "[ NN%] Built target" ones.
scripts/build.sh 2>&1 | grep --line-buffered -E '^\[ *[0-9]+%\] Built target|error|warning' || {
	echo "modvmm: the build failed; run scripts/build.sh to see why" >&2
	exit 1
}
[ -x build/modvmm ] || exit 1

cmd=(build/modvmm --machine config/kit-hello.yaml "$@")
if why=$(scripts/kvm-probe.sh build); then
	exec "${cmd[@]}"
fi
echo "== $why: booting the example inside the nested KVM host (QEMU/TCG with kvm_amd; docs/testing.md)"
exec tools/nested-kvm/nested-kvm -- "${cmd[@]}"
