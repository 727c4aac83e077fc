/*
 * struct hvm_start_info, as the PVH loader hands it over (Xen's
 * public/arch-x86/hvm/start_info.h). Version 1 adds the memory map. The map
 * may be unsorted and may end with all-zero entries (QEMU's does), so it is
 * copied, emptied of size-0 entries and sorted once here.
 */
#include "kit.h"

#define HVM_START_MAGIC 0x336ec578

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr; /* version >= 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
} __attribute__((packed));

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
} __attribute__((packed));

struct kit_boot kit_boot;
static char cmdline_copy[512];

/* Anything we dereference must lie in the identity-mapped 4 GiB. */
static bool below_4g(uint64_t paddr, uint64_t len)
{
	return paddr && paddr < (1ull << 32) && len <= (1ull << 32) - paddr;
}

static void load_memmap(const struct hvm_start_info *si)
{
	uint32_t n = si->memmap_entries;
	if (!below_4g(si->memmap_paddr,
		      (uint64_t)n * sizeof(struct hvm_memmap_entry)))
		return;
	const struct hvm_memmap_entry *e =
		(const void *)(uintptr_t)si->memmap_paddr;
	for (uint32_t i = 0; i < n; i++) {
		if (!e[i].size)
			continue;
		if (kit_boot.nmem == KIT_MAX_MEMMAP) {
			kit_boot.mem_truncated = true;
			break;
		}
		/* Insertion sort: a handful of entries. */
		unsigned j = kit_boot.nmem++;
		while (j && kit_boot.mem[j - 1].addr > e[i].addr) {
			kit_boot.mem[j] = kit_boot.mem[j - 1];
			j--;
		}
		kit_boot.mem[j] =
			(struct kit_mem_range){e[i].addr, e[i].size, e[i].type};
	}
}

void kit_boot_init(uint32_t start_info_paddr)
{
	const struct hvm_start_info *si =
		(const void *)(uintptr_t)start_info_paddr;
	kit_boot.cmdline = "";
	if (!start_info_paddr || si->magic != HVM_START_MAGIC)
		return;
	kit_boot.valid = true;
	kit_boot.version = si->version;
	kit_boot.rsdp_paddr = si->rsdp_paddr;
	if (below_4g(si->cmdline_paddr, 1)) {
		const char *c = (const char *)(uintptr_t)si->cmdline_paddr;
		size_t n = kit_strnlen(c, sizeof(cmdline_copy) - 1);
		memcpy(cmdline_copy, c, n);
		cmdline_copy[n] = 0;
		kit_boot.cmdline = cmdline_copy;
	}
	if (si->version >= 1)
		load_memmap(si);
}

uint64_t kit_ram_total(void)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < kit_boot.nmem; i++)
		if (kit_boot.mem[i].type == KIT_MEM_RAM)
			total += kit_boot.mem[i].size;
	return total;
}

const char *kit_mem_type_name(uint32_t type)
{
	static const char *const names[] = {"?",        "ram", "reserved",
					    "acpi",     "nvs", "unusable",
					    "disabled", "pmem"};
	return type < KIT_ARRAY_SIZE(names) ? names[type] : "?";
}
