#!/usr/bin/env bash
# virtio-blk from the command line and machine files, without KVM: a
# user's mistake with a disk is one line and exit status 2 before KVM is
# opened, and every disk gets its own LNRO0005 node in the DSDT
# (--dump-acpi, decompiled with iasl -d).
# Usage: blk_cli_test.sh CASE BUILD SRC
set -euo pipefail
. "$(dirname "$0")/lib.sh"
case_name=$1
[ -x "$MODVMM" ] || fail "$MODVMM not built"

# blk_machine OPTIONS: $WORK/m.yaml, a machine file with one virtio-blk disk.
blk_machine() {
	base_yaml
	printf 'devices:\n  - plugin: virtio-blk\n    options: "%s"\n' "$1" >>"$WORK/m.yaml"
}

truncate -s 8M "$WORK/a.img" "$WORK/b.img"
truncate -s 1000 "$WORK/odd.img"
common=(--kernel "$KIT" --memory 128M --plugin-dir "$PLUGINS")

case $case_name in
disk_missing_path)
	run_vmm "${common[@]}" --disk readonly=on
	expect_user_error "^modvmm: --disk: device virtio-blk: missing mandatory option 'path'$"
	;;
disk_no_such_file)
	run_vmm "${common[@]}" --disk "path=$WORK/nope.img"
	expect_user_error "path=$WORK/nope.img: No such file or directory$"
	;;
disk_odd_size)
	run_vmm "${common[@]}" --disk "path=$WORK/odd.img"
	expect_user_error "size 1000 is not a positive multiple of 512 bytes"
	;;
disk_bad_option)
	run_vmm "${common[@]}" --disk "path=$WORK/a.img,readonly=perhaps"
	expect_user_error "readonly"
	run_vmm "${common[@]}" --disk "path=$WORK/a.img,aio=native"
	expect_user_error "aio=native: expected io_uring or threads"
	;;
disk_twice_read_write)
	run_vmm "${common[@]}" --disk "path=$WORK/a.img" --disk "path=$WORK/a.img"
	expect_user_error "in use by another process \(locked\)"
	;;
disk_yaml_bad_option)
	blk_machine "path=$WORK/a.img,queue_size=100"
	run_vmm --machine "$WORK/m.yaml"
	expect_user_error "queue_size=100: must be a power of two"
	;;
disks_in_dsdt)
	command -v iasl >/dev/null || fail "iasl (acpica-tools) is needed"
	blk_machine "path=$WORK/a.img,serial=one"
	run_vmm --machine "$WORK/m.yaml" --disk "path=$WORK/b.img,readonly=on" --dump-acpi "$WORK/acpi"
	expect_rc 0
	(cd "$WORK/acpi" && iasl -d dsdt.dat >/dev/null 2>&1) || fail "iasl -d failed"
	n=$(grep -c '_HID, "LNRO0005"' "$WORK/acpi/dsdt.dsl")
	[ "$n" = 2 ] || fail "expected 2 LNRO0005 nodes, found $n"
	;;
*) fail "unknown case '$case_name'" ;;
esac
echo "PASS $case_name"
