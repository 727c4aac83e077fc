#!/usr/bin/env bash
# A user's mistake gets one clear line naming what is wrong, exit status 2,
# and nothing left behind, before anything touches KVM: none of these
# needs /dev/kvm. Where the host has one and strace is installed, each run
# is traced and fails if it opened /dev/kvm; where it has none, a check
# made after opening it would exit 1 with "/dev/kvm: ..." instead.
# Usage: bad_input_test.sh CASE BUILD SRC
set -euo pipefail
. "$(dirname "$0")/lib.sh"
case_name=$1
[ -x "$MODVMM" ] || fail "$MODVMM not built"

# run_vmm ARGS...: as lib.sh's, but fails the test if modvmm opened
# /dev/kvm (checked under strace where the host has a /dev/kvm to open).
run_vmm() {
	local trace=()
	if [ -e /dev/kvm ] && command -v strace >/dev/null; then
		trace=(strace -f -qq -e trace=open,openat -o "$WORK/trace")
	fi
	set +e
	timeout -k 5 60 "${trace[@]}" "$MODVMM" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
	rc=$?
	set -e
	if [ -s "$WORK/trace" ] && grep -q '"/dev/kvm"' "$WORK/trace"; then
		fail "modvmm opened /dev/kvm before reporting: $(cat "$WORK/err")"
	fi
	return 0
}

# kit_user_error PATTERN ARGS...: modvmm on the kit with ARGS is refused as
# a user error, its one line matching PATTERN.
kit_user_error() {
	local pattern=$1
	shift
	run_vmm --kernel "$KIT" "$@"
	expect_user_error "$pattern"
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
	run_vmm --kernel /bin/true --memory 128M
	expect_user_error "no PVH entry note"
	;;
memory_too_small)
	kit_user_error "^modvmm: --memory size=64M: must be at least 128M$" --memory size=64M
	;;
memory_too_large)
	kit_user_error "^modvmm: --memory size=64T: must be at most 1T$" --memory size=64T
	# Within the memory map, but more than this host has (or, on a CPU
	# with fewer than 41 address bits, more than it can address).
	kit_user_error "^modvmm: memory size=1T(: this host's CPUs address [0-9]+ bits| is more than this host has)" --memory size=1T
	;;
zero_cpus)
	kit_user_error "boot=0" --cpus boot=0
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
	base_yaml
	printf 'devices:\n  - plugin: nosuchdev\n' >>"$WORK/m.yaml"
	run_vmm --machine "$WORK/m.yaml"
	expect_user_error "m.yaml:5:[0-9]+: device nosuchdev: plugin 'nosuchdev' not found"
	;;
plugin_option_error)
	run_vmm --kernel "$KIT" --memory 128M --plugin-dir "$PLUGINS" \
		--device uart16550,port=0x3f8,bogus=1
	expect_user_error "uart16550.*bogus"
	;;
duplicate_port)
	run_vmm --kernel "$KIT" --memory 128M --plugin-dir "$PLUGINS" \
		--device uart16550,input=off --device uart16550,input=off,irq=3
	expect_user_error "device uart16550.*port range 0x3f8-0x3ff is already claimed by uart16550"
	;;
devices_too_many)
	# One device more than there are interrupt lines (kvm.devices_max
	# boots 17): refused by name before KVM, not a half-built machine.
	devs=()
	for i in $(seq 18); do devs+=(--device rng); done
	kit_user_error "device rng17: .*no free interrupt line" --memory 128M --plugin-dir "$PLUGINS" "${devs[@]}"
	;;
abi_mismatch)
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
	kit_user_error "future.so: built for plugin ABI 2.0, this modvmm provides ABI 1.3" --memory 128M --device "$WORK/future.so"
	;;
dump_acpi)
	# --dump-acpi and --dump-dtb describe the machine without running it,
	# so they need no KVM; the tables decode cleanly with iasl -d.
	command -v iasl >/dev/null || fail "iasl missing (acpica-tools)"
	kit_machine 128M 4 "test=hello"
	run_vmm --machine "$WORK/m.yaml" --dump-acpi "$WORK/acpi" --dump-dtb "$WORK/m.dtb"
	expect_rc 0
	[ ! -s "$WORK/out" ] || fail "--dump-acpi ran the guest"
	for t in dsdt facp apic xsdt; do
		[ -s "$WORK/acpi/$t.dat" ] || fail "no $t.dat"
		(cd "$WORK/acpi" && iasl -d "$t.dat" >"$t.log" 2>&1) ||
			fail "iasl -d $t.dat failed: $(cat "$WORK/acpi/$t.log")"
		if grep -qiE "^(Error|Warning)|[^a-z]error [0-9]" "$WORK/acpi/$t.dsl"; then
			fail "iasl reports problems in $t.dsl"
		fi
	done
	grep -q 'EisaId ("PNP0501")' "$WORK/acpi/dsdt.dsl" || fail "no 16550 in the DSDT"
	[ "$(grep -c 'Processor Local APIC' "$WORK/acpi/apic.dsl")" -eq 4 ] ||
		fail "MADT does not list 4 CPUs"
	command -v dtc >/dev/null || fail "dtc missing (device-tree-compiler)"
	dtc -I dtb -O dts "$WORK/m.dtb" >"$WORK/m.dts" 2>"$WORK/dtc.err" ||
		fail "dtc cannot decode the DTB"
	grep -q 'ns16550a' "$WORK/m.dts" || fail "no serial node in the DTB"
	;;
dump_acpi_255_cpus)
	# The documented maximum (1..255) is the real one: APIC ids 0..254.
	kit_machine 128M 255 "test=hello"
	run_vmm --machine "$WORK/m.yaml" --dump-acpi "$WORK/acpi"
	expect_rc 0
	(cd "$WORK/acpi" && iasl -d apic.dat >apic.log 2>&1) || fail "iasl -d apic.dat failed"
	[ "$(grep -c 'Processor Local APIC' "$WORK/acpi/apic.dsl")" -eq 255 ] ||
		fail "MADT does not list 255 CPUs"
	grep -q 'Local Apic ID : FE' "$WORK/acpi/apic.dsl" || fail "no CPU with APIC id 0xfe"
	;;
dump_dtb_bad_path)
	kit_user_error "dump-dtb .*/no/such/dir/m.dtb: No such file or directory" --dump-dtb "$WORK/no/such/dir/m.dtb"
	;;
dump_acpi_not_a_folder)
	echo x >"$WORK/file"
	kit_user_error "dump-acpi .*/file: " --dump-acpi "$WORK/file"
	;;
balloon_bad_size)
	kit_user_error "^modvmm: --balloon: device balloon: size=12Q: not a size" --plugin-dir "$PLUGINS" --balloon size=12Q
	;;
balloon_size_over_ram)
	kit_user_error "device balloon: size=1073741824: must be smaller than guest RAM" --memory 256M --plugin-dir "$PLUGINS" --balloon size=1G
	;;
balloon_unknown_option)
	kit_user_error "device balloon: unknown option 'deflate_on_om' \(known: .*deflate_on_oom" --plugin-dir "$PLUGINS" --balloon size=64M,deflate_on_om=on
	;;
balloon_bad_bool)
	kit_user_error "device balloon: free_page_reporting=maybe: expected on or off" --plugin-dir "$PLUGINS" --balloon size=64M,free_page_reporting=maybe
	;;
balloon_missing_size)
	kit_user_error "device balloon: missing mandatory option 'size'" --plugin-dir "$PLUGINS" --balloon deflate_on_oom=on
	;;
balloon_auto_without_stats)
	run_vmm --kernel "$KIT" --plugin-dir "$PLUGINS" --balloon size=0,auto=on
	expect_user_error "device balloon: auto=on: the policy needs the guest's statistics: add stats=SECONDS"
	;;
balloon_auto_bad_floor)
	run_vmm --kernel "$KIT" --memory 256M --plugin-dir "$PLUGINS" --balloon size=0,stats=1,auto=on,guest_floor=300M
	expect_user_error "device balloon: guest_floor=314572800: must be more than 0 and less than guest RAM"
	;;
uart_bad_irq)
	kit_user_error "device uart16550: irq=99: must be at most 23" --plugin-dir "$PLUGINS" --device uart16550,irq=99
	;;
uart_bad_file)
	kit_user_error "device uart16550: file=.*/no/such/out.txt: No such file or directory" --plugin-dir "$PLUGINS" --device "uart16550,file=$WORK/no/such/out.txt"
	;;
device_option_in_machine_file)
	base_yaml
	printf 'devices:\n  - plugin: balloon\n    options: "size=1G,stats=x"\n' >>"$WORK/m.yaml"
	run_vmm --machine "$WORK/m.yaml"
	expect_user_error "m.yaml:5:[0-9]+: device balloon: stats=x: not a number"
	;;
second_uart_name)
	# The second instance of a name ending in a digit reads as such.
	run_vmm --kernel "$KIT" --plugin-dir "$PLUGINS" \
		--device uart16550,input=off --device uart16550,input=off,irq=3
	expect_user_error "device uart16550-1: port=0x3f8"
	;;
initramfs_missing)
	kit_user_error "initramfs .*/nope.cpio: No such file or directory" --initramfs "$WORK/nope.cpio"
	;;
plugin_dir_missing)
	kit_user_error "^modvmm: --plugin-dir .*/nope: No such file or directory$" --plugin-dir "$WORK/nope"
	;;
plugin_dir_not_a_folder)
	kit_user_error "^modvmm: --plugin-dir .*: not a folder$" --plugin-dir "$KIT"
	;;
plugin_path_missing)
	base_yaml
	printf 'plugin-path: [%s, nope]\n' "$PLUGINS" >"$WORK/pp.yaml"
	printf 'kernel: %s\n' "$KIT" >>"$WORK/pp.yaml"
	run_vmm --machine "$WORK/pp.yaml"
	expect_user_error "pp.yaml:1:[0-9]+: plugin-path .*/nope: No such file or directory"
	;;
plugin_dirs_listed_once)
	# The same folder given twice (and as the build tree's default) is
	# searched, and listed, once.
	kit_user_error "plugin 'nosuchdev' not found" --plugin-dir "$PLUGINS" --plugin-dir "$PLUGINS/." --device nosuchdev
	n=$(grep -o "$PLUGINS[/.]*[,)]" "$WORK/err" | wc -l)
	[ "$n" -eq 1 ] || fail "the plugin folder is listed $n times: $(cat "$WORK/err")"
	;;
cpus_too_many)
	kit_user_error "boot=256: must be at most 255" --cpus 256
	;;
memory_zero)
	kit_user_error "^modvmm: --memory size=0: must be at least 128M$" --memory 0
	;;
memory_yaml_too_small)
	base_yaml
	sed -i 's/^memory: 128M/memory: 64M/' "$WORK/m.yaml"
	run_vmm --machine "$WORK/m.yaml"
	expect_user_error "m.yaml:2:9: memory=64M: must be at least 128M$"
	;;
hugepages_not_reserved)
	# More 2M huge pages than the host has free: a message, not SIGBUS
	# when the kernel is copied in.
	free=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 2>/dev/null || echo 0)
	mib=$(((free + 64) * 2))
	kit_user_error "hugepages=on needs $((mib / 2)) free 2M huge pages, the host has $free" --memory "${mib}M,hugepages=on"
	;;
api_socket_missing_dir)
	kit_user_error "api-socket .*/no/such/dir/api.sock: No such file or directory" --api-socket "$WORK/no/such/dir/api.sock"
	;;
api_socket_too_long)
	long=$WORK/$(printf 's%.0s' $(seq 1 120)).sock
	kit_user_error "api-socket .*: File name too long" --api-socket "$long"
	;;
api_socket_not_a_socket)
	echo precious >"$WORK/api.sock"
	kit_user_error "not a socket" --api-socket "$WORK/api.sock"
	[ "$(cat "$WORK/api.sock")" = precious ] || fail "the file was replaced"
	;;
seccomp_bad_value)
	kit_user_error "^modvmm: --seccomp kill: expected on, log or off$" --seccomp kill
	;;
yaml_seccomp_bad_value)
	base_yaml
	echo "seccomp: strict" >>"$WORK/m.yaml"
	run_vmm --machine "$WORK/m.yaml"
	expect_user_error "m.yaml:4:10: seccomp=strict: expected on, log or off$"
	;;
plugin_bad_syscall)
	# A plugin's extra system calls are checked when it is loaded.
	cat >"$WORK/typo.c" <<'C'
#include <modvmm/plugin.h>
static int create(mvm_dev *d, const struct mvm_host *h, const char *o, void **s)
{ (void)d; (void)h; (void)o; (void)s; return 0; }
static const char *const calls[] = {"getrandom", "sokcet", NULL};
MVM_PLUGIN_EXPORT const struct mvm_plugin mvm_plugin_descriptor = {
	MVM_PLUGIN_HEADER, .name = "typo", .create = create, .syscalls = calls };
C
	cc -shared -fPIC -I"$SRC/include" "$WORK/typo.c" -o "$WORK/typo.so"
	kit_user_error "device .*typo.so: .*typo.so: syscalls: 'sokcet' is not a system call" --memory 128M --device "$WORK/typo.so"
	;;
*)
	fail "unknown case $case_name"
	;;
esac
echo "ok: $case_name"
