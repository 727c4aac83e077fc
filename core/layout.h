/*
 * The guest-physical memory map every modvmm machine uses. Boot code, ACPI,
 * the e820/PVH memory map and the MMIO allocator all read these constants,
 * so the guest's view stays consistent (see docs/machine-file.md).
 *
 *   0x0000_0500  GDT for the boot CPU
 *   0x0000_6000  hvm_start_info (PVH) + module list + memory map
 *   0x0000_7000  boot_params "zero page" (bzImage)
 *   0x0000_9000  identity page tables for the 64-bit bzImage entry
 *   0x0002_0000  kernel command line (up to 64 KiB)
 *   0x0009_fc00  end of low RAM (EBDA-style reserved tail)
 *   0x000e_0000  ACPI: RSDP, then XSDT, FADT, MADT, DSDT (reserved in e820)
 *   0x0010_0000  kernel (bzImage protected-mode part; ELF at its p_paddr)
 *   ...          RAM up to min(size, 3 GiB)
 *   0xc000_0000  device MMIO area (plugins' windows, 4 KiB granules)
 *   0xfec0_0000  IOAPIC
 *   0xfee0_0000  local APIC
 *   4 GiB        RAM above the hole, if size > 3 GiB
 */
#ifndef MODVMM_CORE_LAYOUT_H
#define MODVMM_CORE_LAYOUT_H

#include <stdint.h>

#define LAYOUT_GDT_ADDR 0x500ULL
#define LAYOUT_PVH_INFO_ADDR 0x6000ULL
#define LAYOUT_PVH_MODLIST_ADDR 0x6040ULL
#define LAYOUT_PVH_MEMMAP_ADDR 0x6080ULL
#define LAYOUT_ZERO_PAGE_ADDR 0x7000ULL
/* PML4, PDPT and four page directories: 0x9000-0xEFFF. */
#define LAYOUT_PAGE_TABLES_ADDR 0x9000ULL
#define LAYOUT_CMDLINE_ADDR 0x20000ULL
#define LAYOUT_CMDLINE_MAX 0x10000ULL
#define LAYOUT_LOW_RAM_END 0x9fc00ULL
#define LAYOUT_ACPI_ADDR 0xe0000ULL
#define LAYOUT_ACPI_SIZE 0x20000ULL
#define LAYOUT_HIGH_MEM_START 0x100000ULL
#define LAYOUT_KERNEL_ADDR 0x100000ULL

#define LAYOUT_MMIO_HOLE_START 0xc0000000ULL
#define LAYOUT_DEVICE_MMIO_START 0xc0000000ULL
#define LAYOUT_DEVICE_MMIO_END 0xfec00000ULL
#define LAYOUT_IOAPIC_ADDR 0xfec00000ULL
#define LAYOUT_LAPIC_ADDR 0xfee00000ULL
#define LAYOUT_4G 0x100000000ULL

/* ACPI fixed-hardware replacements (hardware-reduced FADT registers). */
#define LAYOUT_ACPI_SLEEP_CTL_PORT 0x600 /* FADT SLEEP_CONTROL_REG, 8 bit */
#define LAYOUT_ACPI_SLEEP_STS_PORT 0x601 /* FADT SLEEP_STATUS_REG, 8 bit */
#define LAYOUT_ACPI_RESET_PORT 0x602     /* FADT RESET_REG, write 1 */
#define LAYOUT_ACPI_RESET_VALUE 0x01
#define LAYOUT_ACPI_S5_TYPE 5 /* \_S5 SLP_TYP; written as (5 << 2) | SLP_EN */

/* Interrupt lines devices may be given (KVM's IOAPIC has 24 pins). */
#define LAYOUT_GSI_FIRST_FREE 5
#define LAYOUT_GSI_LAST 23

/* vCPUs: the MADT gives them xAPIC ids 0..254 (0xff is the broadcast id). */
#define LAYOUT_MAX_CPUS 255

#define LAYOUT_MIN_MEM (128ULL << 20)
#define LAYOUT_MAX_MEM (1ULL << 40)

struct mem_region {
	uint64_t gpa;
	uint64_t size;
};

#define E820_RAM 1
#define E820_RESERVED 2

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

/* The most RAM a guest can have on a host whose CPUs address `phys_bits`
 * bits. The guest's CPUID reports the host's width, and RAM past the 3 GiB
 * mark moves above 4 GiB, so size + 1 GiB must fit under 2^phys_bits; and
 * never more than LAYOUT_MAX_MEM. */
uint64_t layout_max_mem(unsigned phys_bits);

/* Guest RAM regions for `mem_size` bytes: below the hole, then above 4 GiB.
 * Returns the number of regions (1 or 2) written to out[]. */
int layout_ram_regions(uint64_t mem_size, struct mem_region out[2]);

/* The e820 map for `mem_size` bytes of RAM, sorted by address. Returns the
 * number of entries written (at most `max`), or -ENOSPC. */
int layout_e820(uint64_t mem_size, struct e820_entry *out, int max);

#endif
