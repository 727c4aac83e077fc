#!/usr/bin/env bash
# Boots the guest kit under real KVM with the rng plugin and checks what the
# guest itself finds. Usage: kvm_virtio_test.sh CASE BUILD SRC
#   rng_devices      one rng: the DSDT has one LNRO0005 node with resources
#   rng_two_devices  two rngs: two nodes (distinct windows and GSIs)
#   rng_entropy      the kit's virtio-rng program reads entropy through the
#                    device (skipped until the kit has that program)
set -euo pipefail
. "$3/tests/integration/lib.sh"
case_name=$1
need_kvm
need_vmm_and_kit
need_plugin rng

rng_machine() {
	# rng_machine CMDLINE NRNG
	kit_machine 128M 1 "$1"
	for _ in $(seq "$2"); do
		printf '  - plugin: rng\n' >>"$WORK/m.yaml"
	done
}

case $case_name in
rng_devices)
	rng_machine "test=devices expect=LNRO0005:1,PNP0501:1" 1
	run_vmm --machine "$WORK/m.yaml"
	expect_rc 0
	expect_kit_pass
	;;
rng_two_devices)
	rng_machine "test=devices expect=LNRO0005:2" 2
	run_vmm --machine "$WORK/m.yaml"
	expect_rc 0
	expect_kit_pass
	;;
rng_entropy)
	if ! grep -qs '"virtio-rng"' "$SRC"/tests/guestkit/*.c; then
		echo "SKIPPED: the guest kit has no test=virtio-rng program" \
			"yet; this test did NOT run" >&2
		exit 77
	fi
	rng_machine "test=virtio-rng" 1
	run_vmm --machine "$WORK/m.yaml"
	expect_rc 0
	expect_kit_pass
	;;
*)
	fail "unknown case $case_name"
	;;
esac
echo "PASS $case_name"
