#!/usr/bin/env python3
"""Checks an early Linux boot log (the kernel's own lines on the console)
against the machine modvmm was asked for.

Usage: check_early_log.py LOG --entry pvh|bzimage --kit-map KITLOG
                          --cmdline STR --mem-bytes N --cpus N

KITLOG is the console of the guest kit's `test=hello` run on the same
memory size: the kit prints the memory map the VMM handed it, which is the
map we expect Linux to report as "BIOS-e820". Under PVH, Linux itself adds
the ISA hole 0xa0000-0xfffff as reserved (arch/x86/platform/pvh/enlighten.c)
before sanitising (merging adjacent ranges of one type); we do the same.

Prints one "ok:" line per check and exits 1 at the first failure.
"""
import argparse
import re
import sys

E820_NAMES = {"ram": "usable", "reserved": "reserved", "acpi": "ACPI data",
              "nvs": "ACPI NVS", "unusable": "unusable", "pmem": "persistent (type 7)"}


def die(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def ok(msg):
    print("ok: " + msg)


def kit_map(path):
    """[(start, end_inclusive, type)] from 'kit:   000000000-00009fbff ram ...'."""
    out = []
    for line in open(path, errors="replace"):
        m = re.match(r"kit:\s+([0-9a-f]+)-([0-9a-f]+)\s+(\w+)\s", line)
        if m:
            out.append((int(m.group(1), 16), int(m.group(2), 16),
                        E820_NAMES.get(m.group(3), m.group(3))))
    if not out:
        die(f"no memory map in the kit's output {path}")
    return out


def sanitize(ranges):
    """Sort and merge overlapping/adjacent ranges of one type, as Linux's
    e820__update_table does for the simple, non-conflicting maps we emit."""
    ranges = sorted(ranges)
    out = []
    for s, e, t in ranges:
        if out and out[-1][2] == t and s <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], e), t)
        else:
            out.append((s, e, t))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--entry", choices=["pvh", "bzimage"], required=True)
    ap.add_argument("--kit-map", required=True)
    ap.add_argument("--cmdline", required=True)
    ap.add_argument("--mem-bytes", type=int, required=True)
    ap.add_argument("--cpus", type=int, required=True)
    a = ap.parse_args()

    text = open(a.log, errors="replace").read()
    # Strip the "[    1.234567] " timestamps; keep one line per message.
    lines = [re.sub(r"^\[\s*\d+\.\d+\]\s?", "", l) for l in text.splitlines()]

    # 1. our command line, verbatim
    cl = [l for l in lines if l.startswith("Command line: ")]
    if not cl:
        die("no 'Command line:' line")
    if cl[0][len("Command line: "):].strip() != a.cmdline.strip():
        die(f"kernel saw command line {cl[0]!r}, we passed {a.cmdline!r}")
    ok(f"command line accepted: {cl[0]}")

    # 2. the e820 map, entry by entry
    got = []
    for l in lines:
        m = re.match(r"BIOS-e820: \[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\] (.*)$", l)
        if m:
            got.append((int(m.group(1), 16), int(m.group(2), 16), m.group(3).strip()))
    if not got:
        die("no 'BIOS-e820:' lines")
    want = kit_map(a.kit_map)
    if a.entry == "pvh":
        want.append((0xa0000, 0xfffff, "reserved"))
    want = sanitize(want)
    if got != want:
        die("e820 map differs:\n  kernel: " +
            "\n          ".join(f"{s:#x}-{e:#x} {t}" for s, e, t in got) +
            "\n  ours:   " +
            "\n          ".join(f"{s:#x}-{e:#x} {t}" for s, e, t in want))
    ok(f"e820 map matches ours ({len(got)} entries)")
    usable = sum(e - s + 1 for s, e, t in got if t == "usable")
    # RAM: everything but the 1 KiB EBDA-style gap below 640K is usable.
    if not (a.mem_bytes - 0x100000 <= usable <= a.mem_bytes):
        die(f"usable RAM {usable} bytes does not fit --memory {a.mem_bytes}")
    ok(f"usable RAM {usable // 1024} KiB for --memory {a.mem_bytes >> 20} MiB")
    mem = [l for l in lines if re.match(r"Memory: \d+K/\d+K available", l)]
    if mem:
        total_k = int(re.match(r"Memory: \d+K/(\d+)K", mem[0]).group(1))
        # Linux counts pages: page 0 and the partial page below 640K go.
        if not (a.mem_bytes // 1024 - 1024 <= total_k <= a.mem_bytes // 1024):
            die(f"kernel's total memory {total_k}K does not fit {a.mem_bytes >> 10}K")
        ok(f"kernel's memory total {total_k}K of {a.mem_bytes >> 10}K: {mem[0]}")

    # 3. ACPI tables: our OEM id on each, no checksum or table warnings
    for sig in ("RSDP", "XSDT", "FACP", "DSDT", "APIC"):
        t = [l for l in lines if l.startswith(f"ACPI: {sig} ")]
        if not t:
            die(f"no 'ACPI: {sig}' line")
        if "MODVMM" not in t[0]:
            die(f"ACPI {sig} without OEM MODVMM: {t[0]}")
        ok(t[0])
    bad = [l for l in lines
           if re.search(r"ACPI", l) and
           re.search(r"checksum|[Ww]arning|Error|BIOS bug|\(bug\)|[Ii]nvalid|"
                     r"[Ii]ncorrect|[Mm]ismatch|[Ff]ailed|Firmware Bug", l)
           and "Early table checksum verification disabled" not in l]
    if bad:
        die("ACPI complaints:\n  " + "\n  ".join(bad))
    ok("no ACPI checksum or table warnings")

    # 4. CPU count, from the MADT
    if not any("ACPI: Using ACPI (MADT) for SMP configuration" in l for l in lines):
        die("kernel did not take its SMP configuration from our MADT")
    ok("ACPI: Using ACPI (MADT) for SMP configuration information")
    m = [l for l in lines if re.match(r"smpboot: Allowing \d+ CPUs", l)]
    if not m:
        die("no 'smpboot: Allowing N CPUs' line")
    n = int(re.match(r"smpboot: Allowing (\d+) CPUs", m[0]).group(1))
    if n != a.cpus:
        die(f"kernel allows {n} CPUs, we gave {a.cpus}: {m[0]}")
    ok(m[0])
    if not any(l.startswith("ACPI: Core revision") for l in lines):
        die("the log stops before 'ACPI: Core revision': the tables' checksums "
            "were not verified yet")
    ok("tables verified by acpi_early_init (log goes past 'ACPI: Core revision')")
    # Printed only after alternatives patching, minutes later under an
    # emulating KVM: checked when the log got that far.
    for line_re, count_re in ((r"smp: Brought up \d+ nodes?, \d+ CPUs", r"(\d+) CPUs"),
                              (r"smpboot: Total of \d+ processors activated",
                               r"Total of (\d+)")):
        act = [l for l in lines if re.match(line_re, l)]
        if act:
            n = int(re.search(count_re, act[0]).group(1))
            if n != a.cpus:
                die(f"{n} CPUs came up, we gave {a.cpus}: {act[0]}")
            ok(act[0])
    aml = [l for l in lines if "ACPI AML tables successfully acquired and loaded" in l]
    if aml:
        ok(aml[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
