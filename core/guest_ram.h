/*
 * Guest RAM: one host mapping split into the regions of core/layout.h, and
 * the single checked path from a guest-physical range to a host pointer.
 * Every other part of the core and every plugin (through host->guest_mem)
 * reaches guest memory only through guest_ram_ptr().
 */
#ifndef MODVMM_CORE_GUEST_RAM_H
#define MODVMM_CORE_GUEST_RAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <modvmm/plugin.h>

#include "error.h"
#include "layout.h"

struct ram_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
};

struct guest_ram {
	struct ram_region regions[2];
	int nregions;
	uint8_t *base; /* the whole mapping */
	uint64_t size;
	int memfd; /* -1 unless shared */
	bool shared;
	bool hugepages;
};

/*
 * Where guest RAM starts in the VMM's address space. KVM maps a guest page
 * with a 2 MiB second-level (EPT/NPT) entry only when the host backs it with
 * a 2 MiB page (THP or hugetlbfs) and the guest-physical and host-virtual
 * addresses agree modulo 2 MiB. The regions of core/layout.h start at 0,
 * 3 GiB and 4 GiB, all multiples of 2 MiB, and lie back to back in one
 * mapping, so a 2 MiB-aligned mapping aligns every memslot.
 */
#define GUEST_RAM_ALIGN (2ULL << 20)

/* The low part of guest RAM that stays on 4 KiB pages when THP is on
 * (guest_ram_advise_thp): the boot structures live there. */
#define GUEST_RAM_LOW_4K (2ULL << 20)

/* The first `align`-aligned address at or after `reserved` (a power of two):
 * where guest RAM goes inside a reservation `align` bytes larger than it. */
uintptr_t guest_ram_place(uintptr_t reserved, uint64_t align);

/* Map `size` bytes of guest RAM, GUEST_RAM_ALIGN-aligned. shared: backed by a
 * memfd (MAP_SHARED); hugepages: 2 MiB hugetlb pages (size must be a multiple
 * of 2 MiB). Returns 0 or -errno with `err` set: the user's when the size or
 * the host's huge page pool does not fit what was asked, the host's when a
 * system call fails. */
int guest_ram_alloc(struct guest_ram *ram, uint64_t size, bool shared,
		    bool hugepages, struct error *err);
/* on: ask for transparent huge pages on private anonymous RAM (as QEMU
 * does): fewer guest page-table walks and faults, and a reported 2 MiB
 * chunk goes back as one huge page; all but the first GUEST_RAM_LOW_4K
 * bytes, which are advised against them. off: refuse them everywhere, also
 * where the host's THP mode is "always". A no-op for shared or hugetlb
 * RAM. */
void guest_ram_advise_thp(struct guest_ram *ram, bool on);
void guest_ram_free(struct guest_ram *ram);

/* Host pointer for guest-physical [gpa, gpa+len), or NULL unless the whole
 * range lies inside one RAM region (len 0 is refused too). */
void *guest_ram_ptr(const struct guest_ram *ram, uint64_t gpa, uint64_t len);

/* The same over any n regions: the per-plugin harness maps its own RAM and
 * checks a guest range as the core does. */
void *ram_regions_ptr(const struct ram_region *regions, int n, uint64_t gpa,
		      uint64_t len);

/* The plugin ABI's view of n regions (host->ram_regions): the first max of
 * them into out; returns n. */
int ram_regions_export(const struct ram_region *regions, int n,
		       struct mvm_ram_region *out, unsigned max);

/* Copy helpers over guest_ram_ptr; return 0 or -EFAULT. */
int guest_ram_write(const struct guest_ram *ram, uint64_t gpa, const void *src,
		    uint64_t len);
int guest_ram_read(const struct guest_ram *ram, uint64_t gpa, void *dst,
		   uint64_t len);

/* End of the RAM region that starts at 0 (the "low" RAM below the hole). */
uint64_t guest_ram_low_end(const struct guest_ram *ram);

#endif
