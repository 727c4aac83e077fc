#!/usr/bin/env bash
# Installs the Debian packages modvmm needs to build and test, if missing.
# Usage: scripts/deps.sh [--bench]   (--bench adds hyperfine, gnuplot and strace)
set -euo pipefail

pkgs=(cmake make gcc pkg-config binutils python3 libyaml-dev libfdt-dev
	qemu-system-x86
	libcmocka-dev libjansson-dev libseccomp-dev liburing-dev e2fsprogs acpica-tools device-tree-compiler busybox-static lz4
	clang libclang-rt-14-dev clang-format cpio libc6-dev
	iproute2)
[ "${1:-}" = "--bench" ] && pkgs+=(hyperfine gnuplot-nox strace)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "modvmm: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
