#!/usr/bin/env bash
# The guest kit's virtio driver against the rng plugin under real KVM.
# Usage: virtio_kit_test.sh CASE BUILD SRC
#   rng_1m      test=virtio-rng: 1 MiB of entropy through interrupts, not
#               constant, throughput printed
#   rng_poll    the same by polling the used ring
#   rng_notify  test=virtio-rng-notify: notify -> used round trips
#   hostile     test=virtio-hostile: bad rings from inside the guest; the
#               device flags NEEDS_RESET (or skips) and works after a reset,
#               and modvmm lives to power the guest off
set -euo pipefail
. "$(dirname "$0")/lib.sh"
case_name=$1
need_kvm
need_vmm_and_kit
need_plugin rng
grep -qa 'virtio-hostile' "$KIT" || fail "$KIT has no virtio programs"

rng_run() {
	kit_machine 128M 1 "$1"
	printf '  - plugin: rng\n' >>"$WORK/m.yaml"
	run_vmm --machine "$WORK/m.yaml"
	expect_rc 0
	expect_kit_pass
}

case $case_name in
rng_1m)
	rng_run "test=virtio-rng bytes=1M"
	expect_out "PASS virtio-rng.random"
	expect_out "PASS virtio-rng.interrupts"
	grep '^kit: virtio-rng: ' "$WORK/out"
	;;
rng_poll)
	rng_run "test=virtio-rng bytes=1M irq=off"
	expect_out "PASS virtio-rng.random"
	;;
rng_notify)
	rng_run "test=virtio-rng-notify count=500"
	grep '^kit: virtio-rng-notify: ' "$WORK/out" || fail "no round-trip line"
	;;
hostile)
	rng_run "test=virtio-hostile"
	for c in out-of-ram length-wraps loop next-out-of-range \
		head-out-of-range avail-jump chain-longer-than-queue \
		zero-length-indirect indirect-in-indirect notify-not-ready; do
		expect_out "PASS virtio-hostile.$c"
	done
	grep -q 'needs reset' "$WORK/err" ||
		fail "modvmm logged no 'needs reset' for the bad rings"
	;;
*)
	fail "unknown case $case_name"
	;;
esac
echo "PASS $case_name"
