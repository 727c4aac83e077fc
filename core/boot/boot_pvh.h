/*
 * PVH boot: an ELF64 image with a Xen PHYS32_ENTRY note (an uncompressed
 * vmlinux, the guest kit) loaded at its physical addresses, entered in
 * 32-bit mode with EBX pointing at an hvm_start_info. Called by boot.c;
 * the structures are the PVH ABI's, version 1.
 */
#ifndef MODVMM_CORE_BOOT_PVH_H
#define MODVMM_CORE_BOOT_PVH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/loader.h"
#include "guest_ram.h"

/* True when `img` starts like an ELF file. */
bool boot_is_elf(const uint8_t *img, size_t len);
/* Finds the Xen PHYS32_ENTRY note's address: 0, or -EINVAL with `err`
 * set. */
int boot_pvh_find_entry(const uint8_t *img, size_t len, uint64_t *entry,
			struct error *err);
int boot_pvh_load(struct guest_ram *ram, const uint8_t *img, size_t len,
		  struct boot_result *out, struct error *err);
int boot_pvh_write_info(struct guest_ram *ram, const struct boot_extras *x,
			struct boot_result *out);

/* hvm_start_info as the PVH ABI defines it (xen/include/public/arch-x86/
 * hvm/start_info.h), version 1. */
#define HVM_START_MAGIC 0x336ec578u
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
} __attribute__((packed));

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
} __attribute__((packed));

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
} __attribute__((packed));

#endif
