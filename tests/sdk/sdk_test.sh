#!/usr/bin/env bash
# The SDK as a plugin author gets it: install to a temporary prefix, copy
# examples/ out of the source tree, build them with nothing but the
# installed files (pkg-config, then CMake find_package), run their harness
# tests and modvmm-plugin-check, build a kit image out of tree, and boot it
# with the debug-exit plugin. Usage: sdk_test.sh CASE BUILD SRC
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
case_name=$1
PREFIX=$WORK/prefix
EX=$WORK/author # the author's folder: no modvmm tree in sight

run() { # run CMD...: log it, fail with its output if it fails
	echo "+ $*" >>"$WORK/log"
	"$@" >>"$WORK/log" 2>&1 || {
		echo "FAIL: $*" >&2
		tail -n 60 "$WORK/log" >&2
		exit 1
	}
}

install_sdk() {
	run cmake --install "$BUILD" --prefix "$PREFIX"
	mkdir -p "$EX"
	cp -r "$SRC/examples/." "$EX/"
	export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
	export PATH="$PREFIX/bin:$PATH"
}

# Nothing the author built may point into the source or build tree.
no_tree_paths() {
	if grep -rIl -e "$SRC" -e "$BUILD" "$@" 2>/dev/null | head -5 | grep .
	then
		fail "files above refer to the modvmm source or build tree"
	fi
}

build_pkgconfig() {
	run make -C "$EX/debug-exit"
	make -C "$EX/debug-exit" -B -n >"$WORK/commands"
	no_tree_paths "$WORK/commands"
}

build_cmake() {
	run cmake -S "$EX/debug-exit" -B "$EX/debug-exit/build" \
		-DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
	run cmake --build "$EX/debug-exit/build"
	no_tree_paths "$EX/debug-exit/build/compile_commands.json" \
		"$EX/debug-exit/build/CMakeCache.txt"
}

case $case_name in
install_layout)
	install_sdk
	for f in bin/modvmm bin/modvmm-ctl bin/modvmm-plugin-check \
		include/modvmm/plugin.h include/modvmm/options.h \
		include/modvmm/virtio.h include/modvmm/api.h \
		include/modvmm/harness.h include/modvmm/virtio_mmio_regs.h \
		include/modvmm/token_bucket.h include/modvmm/vhost.h \
		lib/modvmm/libmodvmm_harness.a \
		lib/pkgconfig/modvmm-plugin.pc lib/pkgconfig/modvmm-harness.pc \
		lib/cmake/modvmm/modvmmConfig.cmake \
		lib/cmake/modvmm/modvmmConfigVersion.cmake \
		lib/modvmm/plugins/uart16550.so lib/modvmm/plugins/balloon.so \
		share/modvmm/guestkit/kit.elf share/modvmm/guestkit/kit.mk \
		share/modvmm/guestkit/src/kit.h share/modvmm/guestkit/src/kit.ld; do
		[ -e "$PREFIX/$f" ] || fail "not installed: $f"
	done
	# The installed modvmm finds the installed plugins with no flag.
	"$PREFIX/bin/modvmm" --list-plugins >"$WORK/out"
	grep -q "^uart16550 .*ABI 1\.[0-9]*" "$WORK/out" ||
		fail "--list-plugins lacks uart16550"
	grep -qF "$PREFIX/bin/../lib/modvmm/plugins/balloon.so" "$WORK/out" ||
		fail "--list-plugins does not show the installed balloon"
	v=$(pkg-config --modversion modvmm-plugin)
	[ "$v" = "$(sed -n 's/^project(modvmm VERSION \([0-9.]*\).*/\1/p' \
		"$SRC/CMakeLists.txt")" ] || fail "pkg-config says version $v"
	;;
pkgconfig_build)
	install_sdk
	build_pkgconfig
	run make -C "$EX/debug-exit" check
	grep -q "PASSED.*8 test" "$WORK/log" || fail "harness tests did not pass"
	grep -q "^PASS destroy_releases_fds_and_timers" "$WORK/log" ||
		fail "modvmm-plugin-check did not run to the end"
	;;
cmake_build)
	install_sdk
	build_cmake
	run ctest --test-dir "$EX/debug-exit/build" --output-on-failure
	grep -q "100% tests passed" "$WORK/log" || fail "ctest did not pass"
	# find_package(modvmm 0.1) must refuse a version it is not.
	mkdir -p "$EX/want9"
	cat >"$EX/want9/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(want9 LANGUAGES C)
find_package(modvmm 9.0 REQUIRED)
CM
	if cmake -S "$EX/want9" -B "$EX/want9/b" -DCMAKE_PREFIX_PATH="$PREFIX" \
		>"$WORK/out" 2>&1; then
		fail "find_package(modvmm 9.0) succeeded"
	fi
	;;
kit_boot)
	need_kvm
	install_sdk
	build_pkgconfig
	# A kit image built out of tree from the installed kit, with a program
	# of the author's own next to the stock ones.
	mkdir -p "$EX/kit"
	cat >"$EX/kit/prog_mine.c" <<'C'
#include "kit.h"
static void mine(void)
{
	kit_check(true, "mine", "unreachable");
}
static const struct kit_program prog = {"mine", mine};
const struct kit_program *const kit_user_programs[] = {&prog, NULL};
C
	cat >"$EX/kit/Makefile" <<'MK'
KIT_DIR := $(shell pkg-config --variable=guestkitdir modvmm-plugin)
include $(KIT_DIR)/kit.mk
mykit.elf: prog_mine.c
	$(KIT_LINK)
MK
	run make -C "$EX/kit"
	make -C "$EX/kit" -B -n >"$WORK/commands"
	no_tree_paths "$WORK/commands"
	kit=$EX/kit/mykit.elf
	vmm() {
		set +e
		timeout -k 5 60 "$PREFIX/bin/modvmm" --kernel "$kit" \
			--memory 128M --device uart16550,input=off "$@" \
			>"$WORK/out" 2>"$WORK/err" </dev/null
		rc=$?
		set -e
	}
	for status in 42 0 1 255; do
		vmm --device "$EX/debug-exit/debug-exit.so" \
			--cmdline "test=debug-exit status=$status"
		expect_rc "$status"
		expect_out "kit: debug-exit: writing $status to port 0x501"
	done
	vmm --device "$EX/debug-exit/debug-exit.so,port=0xf4,qemu=on" \
		--cmdline "test=debug-exit port=0xf4 status=1"
	expect_rc 3
	# No device at the port: the kit says so and powers off with 0.
	vmm --cmdline "test=debug-exit status=9"
	expect_rc 0
	grep -q "^FAIL debug-exit: still running" "$WORK/out" ||
		fail "the kit did not notice the missing device"
	# The author's own program in the author's own image.
	vmm --cmdline "test=mine"
	expect_rc 0
	expect_kit_pass
	;;
abi_cli)
	# The loader's ABI refusals as a user sees them (tests/sdk/abi/).
	A="$BUILD/tests/sdk/abi"
	vmaj=$(sed -n 's/^#define MVM_ABI_MAJOR \([0-9]*\)/\1/p' \
		"$SRC/include/modvmm/plugin.h")
	vmin=$(sed -n 's/^#define MVM_ABI_MINOR \([0-9]*\)/\1/p' \
		"$SRC/include/modvmm/plugin.h")
	for v in "major_next:built for plugin ABI $((vmaj + 1)).$vmin, this modvmm provides ABI $vmaj.$vmin" \
		"minor_next:needs plugin ABI $vmaj.$((vmin + 1)), this modvmm provides only $vmaj.$vmin"; do
		run_vmm --device "$A/abi_${v%%:*}.so,help"
		expect_rc 2
		[ "$(wc -l <"$WORK/err")" -eq 1 ] || fail "not one error line"
		grep -qF "abi_${v%%:*}.so: ${v#*:}" "$WORK/err" ||
			fail "error line lacks '${v#*:}': $(cat "$WORK/err")"
	done
	run_vmm --device "$A/abi_old_sdk.so,help"
	expect_rc 0
	expect_out "plugin ABI $vmaj.0"
	# --list-plugins shows the usable ones and says why the others are not.
	run_vmm --plugin-dir "$A" --list-plugins
	expect_rc 0
	expect_out "abi_major_next.so (unusable:"
	grep -q "^abi .*ABI $vmaj\.0 " "$WORK/out" || fail "old_sdk not listed"
	;;
*)
	fail "unknown case $case_name"
	;;
esac
echo "ok: $case_name"
