#!/usr/bin/env bash
# Builds the nested KVM host's boot files from Debian packages alone:
#
#   OUT/vmlinuz          Debian's generic kernel (linux-image-amd64): unlike
#                        the cloud kernel it has the 9p and kvm_amd modules
#   OUT/initramfs.cpio   busybox-static, the modules below in load order, and
#                        init.sh as /init
#   OUT/kernel-version   e.g. 6.1.0-57-amd64
#   OUT/stamp            what the files were built from
#
# The kernel comes through the linux-image-amd64 meta-package, never a pinned
# version. The result is cached and rebuilt only when an input changes: the
# kernel the archive offers now, busybox-static's version, or the hash of this
# script and init.sh. Concurrent callers serialise on OUT/.lock.
#
# Usage: tools/nested-kvm/build-host.sh OUT
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build-host.sh OUT}
mkdir -p "$out"
out=$(cd "$out" && pwd)
meta=linux-image-amd64
# What the nested host needs: 9p + overlay to see the host's files, kvm_amd
# for /dev/kvm, virtio_pci for the 9p transport; tun and the vhost modules
# for device work (virtio-net, vhost-vsock) inside.
modules=(virtio_pci 9pnet_virtio 9p overlay kvm_amd tun vhost_net vhost_vsock)

say() { echo "nested-kvm: $*" >&2; }
die() {
	say "error: $*"
	exit 1
}

for tool in apt-get apt-cache dpkg dpkg-deb sha256sum flock; do
	command -v "$tool" >/dev/null || die "'$tool' not found (scripts/deps.sh installs what is needed)"
done
busybox=/bin/busybox
[ -x "$busybox" ] || busybox=$(command -v busybox || true)
[ -n "$busybox" ] && ! readelf -l "$busybox" 2>/dev/null | grep -q INTERP ||
	die "a statically linked busybox is needed (apt-get install busybox-static)"

exec 9>"$out/.lock"
flock 9

candidate() { apt-cache policy "$meta" 2>/dev/null | awk '/Candidate:/ {print $2}'; }
meta_ver=$(candidate)
# A machine installed from an image may have no package lists yet.
if { [ -z "$meta_ver" ] || [ "$meta_ver" = "(none)" ]; } && [ "$(id -u)" -eq 0 ]; then
	apt-get update -qq >&2 || true
	meta_ver=$(candidate)
fi
[ -n "$meta_ver" ] && [ "$meta_ver" != "(none)" ] ||
	die "apt-cache knows no '$meta' (is a Debian bookworm source in sources.list? try apt-get update)"
bb_ver=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || echo unknown)
script_hash=$(cat "$0" "$here/init.sh" | sha256sum | cut -c1-16)
want="meta=$meta_ver busybox=$bb_ver script=$script_hash"

if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$want" ] &&
	[ -s "$out/vmlinuz" ] && [ -s "$out/initramfs.cpio" ]; then
	exit 0
fi
say "building the nested host's kernel and initramfs ($want)"
rm -f "$out/stamp"
work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

download() { # download PKG[=VER]: apt-get download into $work, quietly
	(cd "$work" && apt-get download -qq "$1" 2>"$work/apt.err") || {
		grep -v '^W: Download is performed unsandboxed' "$work/apt.err" >&2
		die "apt-get download $1 failed"
	}
}
download "$meta=$meta_ver"
dep=$(dpkg-deb -f "$work/${meta}_"*.deb Depends | tr ',' '\n' | sed 's/^ *//' |
	grep -m1 '^linux-image-[0-9]')
kpkg=${dep%% *}
kver_pkg=$(echo "$dep" | sed -n 's/.*(= *\([^)]*\)).*/\1/p')
[ -n "$kpkg" ] || die "cannot find the kernel package in $meta's Depends"
download "$kpkg${kver_pkg:+=$kver_pkg}"
dpkg -x "$work/${kpkg}_"*.deb "$work/pkg"
kver=${kpkg#linux-image-}
mods="$work/pkg/lib/modules/$kver"
[ -f "$work/pkg/boot/vmlinuz-$kver" ] || die "no boot/vmlinuz-$kver in $kpkg"
if command -v depmod >/dev/null; then
	depmod -b "$work/pkg" "$kver"
else
	"$busybox" depmod -b "$work/pkg" "$kver"
fi
[ -s "$mods/modules.dep" ] || die "depmod wrote no modules.dep"

root="$work/root"
mkdir -p "$root"/{bin,dev,proc,sys,etc,mnt,newroot}
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
	[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done

# The wanted modules and what modules.dep says they need, dependencies first.
order=()
add_module() { # add_module RELPATH
	local rel=$1 line d
	for d in "${order[@]}"; do [ "$d" = "$rel" ] && return 0; done
	line=$(grep -m1 "^$rel:" "$mods/modules.dep") || die "modules.dep has no $rel"
	for d in ${line#*:}; do add_module "$d"; done
	order+=("$rel")
}
for m in "${modules[@]}"; do
	pat="/$(echo "$m" | sed 's/[_-]/[_-]/g')\\.ko:"
	rel=$(grep -m1 "$pat" "$mods/modules.dep" | cut -d: -f1) || die "module $m not in $kpkg"
	add_module "$rel"
done
mkdir -p "$root/lib/modules"
for rel in "${order[@]}"; do
	cp "$mods/$rel" "$root/lib/modules/"
	echo "/lib/modules/${rel##*/}" >>"$root/etc/modules.load"
done
install -m 0755 "$here/init.sh" "$root/init"

(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
	"$busybox" cpio -o -H newc 2>/dev/null) >"$work/initramfs.cpio"
[ -s "$work/initramfs.cpio" ] || die "cpio wrote nothing"

# New files, renamed into place: a nested host already running keeps its own.
mv "$work/pkg/boot/vmlinuz-$kver" "$out/vmlinuz"
mv "$work/initramfs.cpio" "$out/initramfs.cpio"
echo "$kver" >"$out/kernel-version"
echo "$want" >"$out/stamp"
say "nested host ready: kernel $kver, ${#order[@]} modules, in $out"
