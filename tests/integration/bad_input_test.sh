#!/usr/bin/env bash
# A user's mistake gets one clear line naming what is wrong, exit status 2,
# and nothing left behind. Usage: bad_input_test.sh CASE BUILD SRC
set -euo pipefail
. "$(dirname "$0")/lib.sh"
case_name=$1
[ -x "$MODVMM" ] || fail "$MODVMM not built"

# expect_user_error PATTERN: status 2 and exactly one stderr line matching.
expect_user_error() {
	expect_rc 2
	local lines
	lines=$(wc -l <"$WORK/err")
	[ "$lines" -eq 1 ] || fail "expected one error line, got $lines"
	grep -qE -- "$1" "$WORK/err" || fail "error line does not match /$1/: $(cat "$WORK/err")"
}

base_yaml() {
	cat >"$WORK/m.yaml" <<YAML
kernel: $KIT
memory: 128M
plugin-path: [$PLUGINS]
YAML
}

case $case_name in
missing_kernel)
	run_vmm --kernel "$WORK/nope.elf"
	expect_user_error "nope.elf: No such file or directory"
	;;
unreadable_kernel)
	run_vmm --kernel "$WORK"
	expect_user_error "kernel $WORK: .*directory"
	;;
not_a_kernel)
	head -c 4096 /dev/urandom >"$WORK/junk"
	run_vmm --kernel "$WORK/junk"
	expect_user_error "neither a bzImage nor an ELF"
	;;
elf_without_pvh)
	need_kvm
	run_vmm --kernel /bin/true --memory 128M
	expect_user_error "no PVH entry note"
	;;
memory_too_small)
	run_vmm --kernel "$KIT" --memory size=64M
	expect_user_error "size=.*too small"
	;;
memory_too_large)
	run_vmm --kernel "$KIT" --memory size=64T
	expect_user_error "size=.*more than this host"
	;;
zero_cpus)
	run_vmm --kernel "$KIT" --cpus boot=0
	expect_user_error "boot=0"
	;;
yaml_unknown_key)
	base_yaml
	echo "kernal: x" >>"$WORK/m.yaml"
	run_vmm --machine "$WORK/m.yaml"
	expect_user_error "m.yaml:4:1: .*kernal"
	;;
yaml_wrong_type)
	base_yaml
	echo "cpus: [1, 2]" >>"$WORK/m.yaml"
	run_vmm --machine "$WORK/m.yaml"
	expect_user_error "m.yaml:4:[0-9]+: .*cpus"
	;;
yaml_syntax_error)
	base_yaml
	printf 'devices:\n  - plugin: "uart16550\n' >>"$WORK/m.yaml"
	run_vmm --machine "$WORK/m.yaml"
	expect_user_error "m.yaml:[0-9]+:[0-9]+: "
	;;
unknown_plugin)
	need_kvm
	base_yaml
	printf 'devices:\n  - plugin: nosuchdev\n' >>"$WORK/m.yaml"
	run_vmm --machine "$WORK/m.yaml"
	expect_user_error "m.yaml:5:[0-9]+: device nosuchdev: plugin 'nosuchdev' not found"
	;;
plugin_option_error)
	need_kvm
	run_vmm --kernel "$KIT" --memory 128M --plugin-dir "$PLUGINS" \
		--device uart16550,port=0x3f8,bogus=1
	expect_user_error "uart16550.*bogus"
	;;
duplicate_port)
	need_kvm
	run_vmm --kernel "$KIT" --memory 128M --plugin-dir "$PLUGINS" \
		--device uart16550,input=off --device uart16550,input=off,irq=3
	expect_user_error "device uart16550.*port range 0x3f8-0x3ff is already claimed by uart16550"
	;;
abi_mismatch)
	need_kvm
	# A plugin built against a future major ABI is refused by name.
	cat >"$WORK/future.c" <<'C'
#include <modvmm/plugin.h>
static int create(mvm_dev *d, const struct mvm_host *h, const char *o, void **s)
{ (void)d; (void)h; (void)o; (void)s; return 0; }
MVM_PLUGIN_EXPORT const struct mvm_plugin mvm_plugin_descriptor = {
	.abi_major = MVM_ABI_MAJOR + 1, .abi_minor = 0,
	.size = sizeof(struct mvm_plugin), .name = "future", .create = create };
C
	cc -shared -fPIC -I"$SRC/include" "$WORK/future.c" -o "$WORK/future.so"
	run_vmm --kernel "$KIT" --memory 128M --device "$WORK/future.so"
	expect_user_error "future.so: built for plugin ABI 2.0, this modvmm provides ABI 1.1"
	;;
*)
	fail "unknown case $case_name"
	;;
esac
echo "ok: $case_name"
