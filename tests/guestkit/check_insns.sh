#!/bin/sh
# Fails if the guest kit contains an instruction that an emulating KVM cannot
# execute at CPL0 (earlier CI machines were PVM hosts whose guest CPL0 code
# ran in KVM's instruction emulator; it has no SSE, popcnt and the like):
# the VM would stop with an internal error.
# Usage: check_insns.sh OBJDUMP KIT_ELF
set -eu
objdump=$1
elf=$2
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

# The PVH entry in .text32 is 32-bit code: disassemble it as such.
# Keep only the instruction text (mnemonic and operands) of each line.
{
  "$objdump" -d --no-show-raw-insn -M i386 -j .text32 "$elf"
  "$objdump" -d --no-show-raw-insn -j .text "$elf"
} | awk -F'\t' '/^ *[0-9a-f]+:\t/ { print $2 }' >"$tmp"

# Mnemonics, plus any use of SSE/MMX/AVX/x87 registers (SSE arithmetic such as
# pxor/paddd cannot run; the flags should keep all of them out).
pattern='(^|[[:space:]])(rdtscp|cmpxchg16b|lock cmpxchg16b|popcnt|crc32[bwlq]?|fwait|wait|xgetbv|xsave[a-z0-9]*|xrstor[a-z0-9]*|aes[a-z]*|pclmul[a-z]*|clwb|stac|clac|rdpkru|wrpkru|verw|int3|int|into|icebp|int1|vmcall|vmmcall|f[a-z0-9]+)([[:space:]]|$)|%[xyz]mm[0-9]|%mm[0-9]|%st[(]?'
if grep -E "$pattern" "$tmp" >/dev/null; then
  echo "guestkit: $elf has instructions the emulating KVM cannot run at CPL0:"
  grep -E "$pattern" "$tmp" | head -20
  exit 1
fi
n=$(wc -l <"$tmp")
if [ "$n" -lt 100 ]; then
  echo "guestkit: disassembly of $elf looks empty ($n instructions)"
  exit 1
fi
echo "guestkit: $n instructions checked, none forbidden"
