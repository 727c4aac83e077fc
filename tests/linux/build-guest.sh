#!/usr/bin/env bash
# Builds the stock Debian 12 test guest from Debian packages only:
#
#   OUT/vmlinuz           the cloud kernel's bzImage (64-bit boot protocol)
#   OUT/vmlinux           the same kernel, uncompressed ELF with the PVH note
#   OUT/initramfs.cpio    busybox-static + virtio modules + /init (uncompressed:
#                         an emulating KVM pays per instruction for gunzip)
#                         + /bin/memhog (memhog.c, gcc -static)
#                         + /bin/vsockt (vsockt.c, gcc -static)
#                         + /bin/tcpcopy (tcpcopy.c, gcc -static)
#                         + /usr/bin/fio (Debian's fio, bench/blk) with the
#                         libraries it runs with (see "fio" below)
#                         + /usr/bin/iperf3 (Debian's, bench/net) with
#                         libiperf0, libssl3 and libsctp1
#   OUT/rootfs/           the same tree as a directory, for disk images
#                         (mkfs.ext4 -d OUT/rootfs: tests/linux/blk_test.sh)
#   OUT/kernel-version    e.g. 6.1.0-56-cloud-amd64
#   OUT/stamp             what the files were built from (see below)
#
# The kernel comes through the linux-image-cloud-amd64 meta-package, never a
# pinned version: its Depends names the real linux-image-6.1.0-NN-cloud-amd64.
# The result is cached in OUT and rebuilt only when an input changes: the
# kernel package version the archive offers now, busybox-static's version,
# fio's and iperf3's candidate versions, and the hash of this script, init.sh, memhog.c, vsockt.c and tcpcopy.c. Concurrent callers
# (parallel ctest runs) serialise on OUT/.lock, so only one downloads.
#
# Usage: tests/linux/build-guest.sh [OUT]      (default: build/linux-guest)
# Needs: apt-get, dpkg, lz4, busybox-static, readelf, nm, gcc + libc6-dev
# (static libc); cpio or busybox cpio.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../build/linux-guest}
mkdir -p "$out"
out=$(cd "$out" && pwd)
meta=linux-image-cloud-amd64
# ext4 (the root disk's file system) is built into Debian's cloud kernel;
# a kernel where it is a module gets it loaded like the others.
modules=(virtio virtio_ring virtio_mmio virtio_balloon virtio_rng virtio_blk virtio_net ext4
	vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport)

say() { echo "build-guest: $*" >&2; }
die() {
	say "error: $*"
	exit 1
}

for tool in apt-get apt-cache dpkg dpkg-deb lz4 readelf nm sha256sum flock gcc; do
	command -v "$tool" >/dev/null || die "'$tool' not found (scripts/deps.sh installs it)"
done
busybox=/bin/busybox
[ -x "$busybox" ] || busybox=$(command -v busybox || true)
[ -n "$busybox" ] && ! readelf -l "$busybox" 2>/dev/null | grep -q INTERP ||
	die "a statically linked busybox is needed (apt-get install busybox-static)"

exec 9>"$out/.lock"
flock 9

# --- what would we build now? ---------------------------------------------
# The meta-package's candidate version tells which kernel the archive offers
# today; asking apt-cache needs no download.
candidate() { apt-cache policy "$meta" 2>/dev/null | awk '/Candidate:/ {print $2}'; }
meta_ver=$(candidate)
# A machine whose packages were installed from an image may have no package
# lists yet: fetch them once (as root, as the README's commands run).
if { [ -z "$meta_ver" ] || [ "$meta_ver" = "(none)" ]; } && [ "$(id -u)" -eq 0 ]; then
	apt-get update -qq >&2 || true
	meta_ver=$(candidate)
fi
[ -n "$meta_ver" ] && [ "$meta_ver" != "(none)" ] ||
	die "apt-cache knows no '$meta' (is a Debian bookworm source in sources.list? try apt-get update)"
bb_ver=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || echo unknown)
script_hash=$(cat "$0" "$here/init.sh" "$here/memhog.c" "$here/vsockt.c" "$here/tcpcopy.c" | sha256sum | cut -c1-16)
fio_ver=$(apt-cache policy fio 2>/dev/null | awk '/Candidate:/ {print $2}')
[ -n "$fio_ver" ] && [ "$fio_ver" != "(none)" ] ||
	die "apt-cache knows no 'fio' (is a Debian bookworm source in sources.list? try apt-get update)"
iperf_ver=$(apt-cache policy iperf3 2>/dev/null | awk '/Candidate:/ {print $2}')
[ -n "$iperf_ver" ] && [ "$iperf_ver" != "(none)" ] ||
	die "apt-cache knows no 'iperf3' (is a Debian bookworm source in sources.list? try apt-get update)"
want="meta=$meta_ver busybox=$bb_ver fio=$fio_ver iperf3=$iperf_ver script=$script_hash"

if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$want" ] &&
	[ -s "$out/vmlinux" ] && [ -s "$out/vmlinuz" ] && [ -s "$out/initramfs.cpio" ] &&
	[ -x "$out/rootfs/init" ]; then
	say "up to date ($want)"
	exit 0
fi
say "building ($want)"
rm -f "$out/stamp"

work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- the kernel package, through the meta-package ----------------------------
# apt-get download writes into the current directory; as root it warns that
# _apt cannot write there, which is harmless.
(cd "$work" && apt-get download -q "$meta=$meta_ver" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) ||
	die "apt-get download $meta failed"
meta_deb=$(ls "$work"/"$meta"_*.deb)
# Depends: linux-image-6.1.0-NN-cloud-amd64 (= 6.1.xxx-y)
dep=$(dpkg-deb -f "$meta_deb" Depends | tr ',' '\n' | sed 's/^ *//' |
	grep -m1 '^linux-image-[0-9]')
kpkg=${dep%% *}
kver_pkg=$(echo "$dep" | sed -n 's/.*(= *\([^)]*\)).*/\1/p')
[ -n "$kpkg" ] || die "cannot find the kernel package in $meta's Depends: $(dpkg-deb -f "$meta_deb" Depends)"
say "kernel package $kpkg ${kver_pkg:+($kver_pkg)}"
(cd "$work" && apt-get download -q "$kpkg${kver_pkg:+=$kver_pkg}" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) ||
	die "apt-get download $kpkg failed"
kdeb=$(ls "$work"/"$kpkg"_*.deb)
dpkg -x "$kdeb" "$work/pkg"
kver=${kpkg#linux-image-}
vmlinuz="$work/pkg/boot/vmlinuz-$kver"
[ -f "$vmlinuz" ] || die "no boot/vmlinuz-$kver in $kdeb"
[ -d "$work/pkg/lib/modules/$kver" ] || die "no lib/modules/$kver in $kdeb"

# --- vmlinux out of the bzImage: the payload is LZ4 (legacy frame 02 21 4c 18)
# Try each magic in turn; the right one decompresses to an ELF. lz4 stops at
# the end of the compressed stream and complains about what follows (the
# bzImage's trailer): that complaint is expected.
found=
for off in $(grep -obUaP '\x02\x21\x4c\x18' "$vmlinuz" | cut -d: -f1); do
	tail -c +$((off + 1)) "$vmlinuz" | lz4 -dc >"$work/vmlinux" 2>/dev/null || true
	if [ "$(head -c4 "$work/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
		found=$off
		break
	fi
done
[ -n "$found" ] || die "no LZ4 stream that decompresses to an ELF in $vmlinuz (not an LZ4 bzImage?)"
# binutils 2.40 prints the PVH note (owner Xen, type 18) as "Unknown note
# type: (0x00000012)"; newer ones may name it.
readelf -nW "$work/vmlinux" | grep -E '^\s*Xen\s' |
	grep -qE 'note type: \(0x00000012\)|PHYS32_ENTRY' ||
	die "$work/vmlinux has no Xen PHYS32_ENTRY (PVH) note"
say "vmlinux: LZ4 at offset $found, $(stat -c %s "$work/vmlinux") bytes, PVH note present"

# --- initramfs -------------------------------------------------------------
# modules.dep: the .deb ships none (its postinst runs depmod). Use kmod's
# depmod if the host has one, else busybox's.
mods="$work/pkg/lib/modules/$kver"
if command -v depmod >/dev/null; then
	depmod -b "$work/pkg" "$kver"
else
	"$busybox" depmod -b "$work/pkg" "$kver"
fi
[ -s "$mods/modules.dep" ] || die "depmod wrote no modules.dep"

root="$work/root"
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,etc,root,usr/bin,usr/sbin}
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list-full); do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done

# The wanted modules and everything modules.dep says they need, in load
# order (dependencies first), copied to the same relative paths.
dest="$root/lib/modules/$kver"
mkdir -p "$dest"
order=()
add_module() { # add_module RELPATH
	local rel=$1 line d
	for d in "${order[@]}"; do [ "$d" = "$rel" ] && return 0; done
	line=$(grep -m1 "^$rel:" "$mods/modules.dep") || die "modules.dep has no $rel"
	for d in ${line#*:}; do add_module "$d"; done
	order+=("$rel")
}
for m in "${modules[@]}"; do
	# module names use _ where file names may use - (virtio_rng = virtio-rng.ko)
	pat="/$(echo "$m" | sed 's/[_-]/[_-]/g')\\.ko:"
	if ! rel=$(grep -m1 "$pat" "$mods/modules.dep" | cut -d: -f1); then
		grep -q "${pat%:}\$" "$mods/modules.builtin" ||
			die "module $m not in $kpkg"
		say "module $m is built into the kernel"
		continue
	fi
	add_module "$rel"
done
: >"$dest/modules.dep"
for rel in "${order[@]}"; do
	mkdir -p "$dest/$(dirname "$rel")"
	cp "$mods/$rel" "$dest/$rel"
	grep -m1 "^$rel:" "$mods/modules.dep" >>"$dest/modules.dep"
	echo "/lib/modules/$kver/$rel" >>"$root/etc/modules.load"
done
cp "$mods"/modules.{alias,symbols,builtin,order} "$dest/" 2>/dev/null || true
say "modules: ${order[*]}"

install -m 0755 "$here/init.sh" "$root/init"
# The memory helper of the balloon tests: static, so it needs nothing from
# the initramfs (no libc there, only busybox).
gcc -static -O2 -Wall -o "$root/bin/memhog" "$here/memhog.c" ||
	die "gcc -static memhog.c failed (is libc6-dev installed?)"
readelf -l "$root/bin/memhog" | grep -q INTERP && die "memhog is not static"
# The guest's end of the vsock tests (tests/linux/vsock_test.sh).
gcc -static -O2 -Wall -o "$root/bin/vsockt" "$here/vsockt.c" ||
	die "gcc -static vsockt.c failed"
# The guest's TCP end of the virtio-net tests (tests/linux/net_test.sh).
gcc -static -O2 -Wall -o "$root/bin/tcpcopy" "$here/tcpcopy.c" ||
	die "gcc -static tcpcopy.c failed"
echo "$kver" >"$root/etc/kernel-version"

# --- fio (bench/blk's 4 KiB random reads) ----------------------------------
# Debian's fio package, with libaio1 and libnuma1, fetched like the kernel
# and kept in OUT/debs (a rebuild for another reason downloads nothing).
# libc, libm and zlib come from the host (Essential packages of the same
# release). Debian links fio against the libraries of its network and
# persistent-memory engines too (librbd, librados, libgfapi, libnbd,
# libibverbs, librdmacm, libpmem, libpmemblk): with their own dependencies
# (ceph, gluster, ICU, ...) they are 80 MB. The guest gets a small stub in
# their place instead: a shared library with the same soname that defines
# the functions (and symbol versions) fio imports from it, each of which
# says so and exits 127 if ever called. Only those engines would call them;
# io_uring, libaio, psync and the rest need none.
debs="$out/debs"
mkdir -p "$debs"
fetch_deb() { # fetch_deb PACKAGE VERSION -> path of the .deb in $debs
	local pkg=$1 ver=$2 f
	f=$(ls "$debs/${pkg}_${ver//:/%3a}_"*.deb 2>/dev/null | head -n1)
	if [ -z "$f" ]; then
		(cd "$debs" && apt-get download -q "$pkg=$ver" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) ||
			die "apt-get download $pkg failed"
		f=$(ls "$debs/${pkg}_${ver//:/%3a}_"*.deb 2>/dev/null | head -n1)
	fi
	[ -n "$f" ] || die "no .deb of $pkg $ver in $debs"
	echo "$f"
}
pkg_ver() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}'; }
fio_pkgs="$work/fio-pkgs"
mkdir -p "$fio_pkgs"
dpkg -x "$(fetch_deb fio "$fio_ver")" "$fio_pkgs"
for p in libaio1 libnuma1; do
	dpkg -x "$(fetch_deb "$p" "$(pkg_ver "$p")")" "$fio_pkgs"
done
fio_bin="$fio_pkgs/usr/bin/fio"
[ -x "$fio_bin" ] || die "no usr/bin/fio in the fio package"
libdir=lib/x86_64-linux-gnu
mkdir -p "$root/$libdir" "$root/lib64"
install -m 0755 "$fio_bin" "$root/usr/bin/fio"
# Real libraries: from the downloaded packages, else the host's.
find_lib() { # find_lib SONAME -> path
	local d
	for d in "$fio_pkgs/lib/x86_64-linux-gnu" "$fio_pkgs/usr/lib/x86_64-linux-gnu" \
		/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu; do
		[ -e "$d/$1" ] && { readlink -f "$d/$1"; return 0; }
	done
	return 1
}
real_libs="libc.so.6 libm.so.6 libz.so.1 libaio.so.1 libnuma.so.1"
interp=$(readelf -lW "$fio_bin" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
[ "$interp" = /lib64/ld-linux-x86-64.so.2 ] || die "fio's interpreter is '$interp'"
cp "$(readlink -f "$interp")" "$root/lib64/ld-linux-x86-64.so.2"
fio_syms=$(readelf --dyn-syms -W "$fio_bin" | awk '$4 == "FUNC" && $7 == "UND" { print $8 }')
# version name -> soname, from fio's version needs
vneeds=$(readelf -VW "$fio_bin" | awk '/File:/ { for (i = 1; i < NF; i++) if ($i == "File:") f = $(i + 1) } /Name:/ { print $3, f }')
unversioned_done=
stubs=()
for lib in $(readelf -dW "$fio_bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
	case " $real_libs " in
	*" $lib "*)
		f=$(find_lib "$lib") || die "fio needs $lib, not found (apt-get install ${lib%%.so*}...)"
		cp "$f" "$root/$libdir/$lib"
		continue
		;;
	esac
	# A stub: the versioned functions fio takes from this library, and
	# (into the first stub without versions) the unversioned functions
	# no real library defines.
	versions=$(echo "$vneeds" | awk -v f="$lib" '$2 == f { print $1 }')
	src="$work/stub-$lib.c" map="$work/stub-$lib.map"
	printf '#include <stdio.h>\n#include <unistd.h>\n__attribute__((unused)) static void stub(const char *f)\n{\n\tfprintf(stderr, "fio: %%s: not in the modvmm test guest (stub %s)\\n", f);\n\t_exit(127);\n}\n' "$lib" >"$src"
	: >"$map"
	if [ -n "$versions" ]; then
		for v in $versions; do
			names=$(echo "$fio_syms" | sed -n "s/^\([A-Za-z0-9_]*\)@$v\$/\1/p")
			echo "$v { global: $(for n in $names; do printf '%s; ' "$n"; done)};" >>"$map"
			for n in $names; do echo "void $n(void) { stub(\"$n\"); }" >>"$src"; done
		done
	elif [ -z "$unversioned_done" ]; then
		unversioned_done=1
		defined=$(for l in $real_libs; do nm -D --defined-only "$(find_lib "$l")" 2>/dev/null; done | awk '{ print $NF }' | sed 's/@.*//' | sort -u)
		for n in $(echo "$fio_syms" | grep -v '@' | sort -u); do
			echo "$defined" | grep -qxF "$n" && continue
			echo "void $n(void) { stub(\"$n\"); }" >>"$src"
		done
	fi
	gcc -shared -fPIC -O2 -Wall -Wno-builtin-declaration-mismatch -o "$root/$libdir/$lib" -Wl,-soname,"$lib" \
		${versions:+-Wl,--version-script="$map"} "$src" ||
		die "cannot build the stub $lib"
	stubs+=("$lib")
done
# fio must start with these (on the host, through the guest's loader).
"$root/lib64/ld-linux-x86-64.so.2" --library-path "$root/$libdir" "$root/usr/bin/fio" --version >/dev/null ||
	die "fio does not start with the guest's libraries"
say "fio $("$root/lib64/ld-linux-x86-64.so.2" --library-path "$root/$libdir" "$root/usr/bin/fio" --version) ($fio_ver), stubs: ${stubs[*]}, $(du -sk "$root/usr/bin/fio" "$root/$libdir" "$root/lib64" | awk '{ s += $1 } END { print s }') KiB"

# --- iperf3 (bench/net) ----------------------------------------------------
# Debian's iperf3 and its library, with the libraries that one needs
# (libssl3 for its authentication, libsctp1), fetched like fio's; libc and
# libm come from the host, as for fio.
iperf_pkgs="$work/iperf-pkgs"
mkdir -p "$iperf_pkgs"
dpkg -x "$(fetch_deb iperf3 "$iperf_ver")" "$iperf_pkgs"
for p in libiperf0 libssl3 libsctp1; do
	dpkg -x "$(fetch_deb "$p" "$(pkg_ver "$p")")" "$iperf_pkgs"
done
[ -x "$iperf_pkgs/usr/bin/iperf3" ] || die "no usr/bin/iperf3 in the iperf3 package"
install -m 0755 "$iperf_pkgs/usr/bin/iperf3" "$root/usr/bin/iperf3"
for lib in libiperf.so.0 libssl.so.3 libcrypto.so.3 libsctp.so.1; do
	f=$(find "$iperf_pkgs" -name "$lib" | head -n1)
	[ -n "$f" ] || die "no $lib in the iperf3 packages"
	cp "$(readlink -f "$f")" "$root/$libdir/$lib"
done
"$root/lib64/ld-linux-x86-64.so.2" --library-path "$root/$libdir" "$root/usr/bin/iperf3" --version >/dev/null ||
	die "iperf3 does not start with the guest's libraries"
say "iperf3 $iperf_ver, $(du -sk "$root/usr/bin/iperf3" | awk '{ print $1 }') KiB + libraries"

if command -v cpio >/dev/null; then
	cpio_cmd=(cpio --quiet -o -H newc -R 0:0)
else
	cpio_cmd=("$busybox" cpio -o -H newc)
fi
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | "${cpio_cmd[@]}") >"$work/initramfs.cpio" 2>/dev/null
[ -s "$work/initramfs.cpio" ] || die "cpio wrote nothing"

# --- publish ---------------------------------------------------------------
rm -rf "$out/rootfs"
cp -a "$root" "$out/rootfs"
cp "$vmlinuz" "$out/vmlinuz"
mv "$work/vmlinux" "$out/vmlinux"
mv "$work/initramfs.cpio" "$out/initramfs.cpio"
cp "$work/pkg/boot/config-$kver" "$out/config"
echo "$kver" >"$out/kernel-version"
echo "$kpkg ${kver_pkg}" >"$out/kernel-package"
echo "$want" >"$out/stamp"
say "done: $out/{vmlinuz,vmlinux,initramfs.cpio} ($kver)"
