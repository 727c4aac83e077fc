#!/usr/bin/env bash
# Tells whether this host's /dev/kvm runs guest code natively, so that the
# KVM tests and the example can run here directly; otherwise they run inside
# the nested KVM host (tools/nested-kvm/nested-kvm, docs/testing.md).
#
# Usage: scripts/kvm-probe.sh [BUILD]      (default: build)
# Prints one line saying why; exit status 0 = native KVM here, 1 = use the
# nested host.
#
# The probe guest (tests/linux/probe.S) times a dec/jnz loop at CPL0 with
# rdtsc: a KVM that runs guest code on the CPU takes a few TSC ticks an
# iteration (the nested host, whose CPU is TCG's, 4-13); an emulating KVM
# such as PVM's, which decodes each guest instruction, takes thousands.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}

if [ ! -e /dev/kvm ]; then
	echo "no /dev/kvm on this host$(grep -qwE 'vmx|svm' /proc/cpuinfo || echo ' and no vmx/svm in /proc/cpuinfo')"
	exit 1
fi
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "/dev/kvm is not readable and writable by $(id -un) (add yourself to group $(stat -c %G /dev/kvm))"
	exit 1
fi
probe=$build/tests/linux/probe.elf
[ -x "$build/modvmm" ] && [ -f "$probe" ] || {
	echo "cannot probe /dev/kvm: $build/modvmm or $probe is not built"
	exit 1
}
# The best of three runs: a vCPU thread preempted mid-loop (a busy host, a
# TCG-backed one above all) only ever makes an iteration look slower.
per=
for _ in 1 2 3; do
	out=$(timeout -k 2 120 "$build/modvmm" --kernel "$probe" --memory 128M \
		--device uart16550,input=off </dev/null 2>&1) || {
		echo "/dev/kvm is there but the probe guest failed on it: $(echo "$out" | tail -n 1)"
		exit 1
	}
	loops=$(echo "$out" | sed -n 's/.*loops=\([0-9a-f]*\).*/\1/p')
	tsc=$(echo "$out" | sed -n 's/.*tsc=\([0-9a-f]*\).*/\1/p')
	[ -n "$loops" ] && [ -n "$tsc" ] || {
		echo "/dev/kvm is there but the probe guest printed no timing: $out"
		exit 1
	}
	this=$((0x$tsc / 0x$loops))
	[ -z "$per" ] || [ "$this" -lt "$per" ] && per=$this
	[ "$per" -le 50 ] && break
done
if [ "$per" -gt 50 ]; then
	echo "/dev/kvm emulates guest instructions ($per TSC ticks per loop iteration, native is ~1)"
	exit 1
fi
echo "/dev/kvm runs guest code natively ($per TSC ticks per loop iteration)"
exit 0
