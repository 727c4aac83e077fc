/* Guest RAM allocation and the checked guest-physical translate. */
#define _GNU_SOURCE
#include "guest_ram.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21U << 26)
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << 26)
#endif

uintptr_t guest_ram_place(uintptr_t reserved, uint64_t align)
{
	return (reserved + (uintptr_t)align - 1) & ~((uintptr_t)align - 1);
}

/*
 * mmap(NULL, size) is page-aligned only: Linux before 6.7 places a large
 * anonymous mapping wherever it fits (a 2 GiB one came back 1,952 KiB past
 * a 2 MiB boundary on Debian 12's kernel). Reserve `align` more, place the
 * RAM on an aligned address inside with MAP_FIXED, and give back the rest.
 */
static void *map_aligned(uint64_t size, uint64_t align, int flags, int fd)
{
	uint64_t span = size + align;
	uint8_t *reserved, *start;
	void *p;

	reserved = mmap(NULL, span, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (reserved == MAP_FAILED)
		return MAP_FAILED;
	start = (uint8_t *)guest_ram_place((uintptr_t)reserved, align);
	p = mmap(start, size, PROT_READ | PROT_WRITE, flags | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED) {
		int e = errno;

		munmap(reserved, span);
		errno = e;
		return MAP_FAILED;
	}
	if (start > reserved)
		munmap(reserved, (size_t)(start - reserved));
	if (start + size < reserved + span)
		munmap(start + size,
		       (size_t)(reserved + span - (start + size)));
	return p;
}

/* Free 2 MiB huge pages in the host's pool, or -1 if unknown. */
static long free_hugepages_2m(void)
{
	FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/"
			"free_hugepages",
			"re");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

int guest_ram_alloc(struct guest_ram *ram, uint64_t size, bool shared,
		    bool hugepages, struct error *err)
{
	struct mem_region regs[2];
	/* Huge pages are reserved at mmap time, so a pool too small fails
	 * here with ENOMEM rather than as SIGBUS on the first touch (the
	 * kernel image's copy). Small pages are not: RAM the guest never
	 * touches costs nothing. */
	int flags = hugepages ? 0 : MAP_NORESERVE;
	void *p;

	memset(ram, 0, sizeof(*ram));
	ram->memfd = -1;
	if (hugepages && (size & ((2ULL << 20) - 1)))
		return error_user(err, "with hugepages=on the size must be a "
				       "multiple of 2M");
	if (shared) {
		unsigned mfd_flags = MFD_CLOEXEC;

		if (hugepages)
			mfd_flags |= MFD_HUGETLB | MFD_HUGE_2MB;
		ram->memfd = memfd_create("modvmm-ram", mfd_flags);
		if (ram->memfd < 0)
			return error_host(err, errno, "memfd_create failed: %s",
					  strerror(errno));
		if (ftruncate(ram->memfd, (off_t)size) < 0) {
			int e = -errno;

			close(ram->memfd);
			ram->memfd = -1;
			return error_host(err, e, "cannot size the memfd: %s",
					  strerror(-e));
		}
		flags |= MAP_SHARED;
	} else {
		flags |= MAP_PRIVATE | MAP_ANONYMOUS;
		if (hugepages)
			flags |= MAP_HUGETLB | MAP_HUGE_2MB;
	}
	p = map_aligned(size, GUEST_RAM_ALIGN, flags, ram->memfd);
	if (p == MAP_FAILED) {
		int e = -errno;

		if (ram->memfd >= 0)
			close(ram->memfd);
		ram->memfd = -1;
		if (hugepages && e == -ENOMEM) {
			long have = free_hugepages_2m();

			/* The host lacks what the user asked for: their call
			 * (reserve more, or drop hugepages=on). */
			return error_user(
				err,
				"hugepages=on needs %llu free 2M huge "
				"pages, the host has %ld (reserve "
				"them in /proc/sys/vm/nr_hugepages)",
				(unsigned long long)(size >> 21), have);
		}
		return error_host(err, e, "%s: %s",
				  hugepages ? "cannot map hugepage RAM"
					    : "cannot map guest RAM",
				  strerror(-e));
	}
	/* Guest RAM in a core dump is useless and huge. */
	madvise(p, size, MADV_DONTDUMP);
	ram->base = p;
	ram->size = size;
	ram->shared = shared;
	ram->hugepages = hugepages;
	ram->nregions = layout_ram_regions(size, regs);
	uint64_t off = 0;
	for (int i = 0; i < ram->nregions; i++) {
		ram->regions[i].gpa = regs[i].gpa;
		ram->regions[i].size = regs[i].size;
		ram->regions[i].host = ram->base + off;
		off += regs[i].size;
	}
	return 0;
}

void guest_ram_advise_thp(struct guest_ram *ram, bool on)
{
	/* Best effort: with THP "never" on the host this simply fails. Off
	 * must be said too: with THP "always" (Debian's default) the kernel
	 * backs any aligned anonymous range with huge pages unasked. */
	if (!ram->base || ram->shared || ram->hugepages)
		return;
	madvise(ram->base, ram->size, on ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	/* The first 2 MiB hold what the VMM writes for boot (zero page or
	 * PVH start info, command line, ACPI tables, page tables) and the
	 * real-mode/BIOS area a guest leaves alone: a few scattered pages.
	 * Backed by one huge page they would cost a small guest 2 MiB of RSS
	 * at its first touch (the guest kit's whole footprint is ~300 KiB),
	 * while no guest runs anything there that huge pages would speed up:
	 * kernels load at 1 MiB (PVH, small) or 16 MiB (Linux). */
	if (on && ram->size > GUEST_RAM_LOW_4K)
		madvise(ram->base, GUEST_RAM_LOW_4K, MADV_NOHUGEPAGE);
}

void guest_ram_free(struct guest_ram *ram)
{
	if (ram->base)
		munmap(ram->base, ram->size);
	if (ram->memfd >= 0)
		close(ram->memfd);
	memset(ram, 0, sizeof(*ram));
	ram->memfd = -1;
}

void *ram_regions_ptr(const struct ram_region *regions, int n, uint64_t gpa,
		      uint64_t len)
{
	uint64_t end;

	if (len == 0 || __builtin_add_overflow(gpa, len, &end))
		return NULL;
	for (int i = 0; i < n; i++) {
		const struct ram_region *r = &regions[i];

		if (gpa >= r->gpa && end <= r->gpa + r->size)
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}

void *guest_ram_ptr(const struct guest_ram *ram, uint64_t gpa, uint64_t len)
{
	return ram_regions_ptr(ram->regions, ram->nregions, gpa, len);
}

int ram_regions_export(const struct ram_region *regions, int n,
		       struct mvm_ram_region *out, unsigned max)
{
	for (int i = 0; i < n && (unsigned)i < max; i++)
		out[i] = (struct mvm_ram_region){.gpa = regions[i].gpa,
						 .size = regions[i].size,
						 .host = regions[i].host};
	return n;
}

/* One bounds check for both directions: an empty copy always succeeds, and
 * a span that is not wholly inside RAM copies nothing. */
static int ram_copy(const struct guest_ram *ram, uint64_t gpa, void *buf,
		    uint64_t len, bool to_guest)
{
	void *p;

	if (len == 0)
		return 0;
	p = guest_ram_ptr(ram, gpa, len);
	if (!p)
		return -EFAULT;
	if (to_guest)
		memcpy(p, buf, len);
	else
		memcpy(buf, p, len);
	return 0;
}

int guest_ram_write(const struct guest_ram *ram, uint64_t gpa, const void *src,
		    uint64_t len)
{
	return ram_copy(ram, gpa, (void *)src, len, true);
}

int guest_ram_read(const struct guest_ram *ram, uint64_t gpa, void *dst,
		   uint64_t len)
{
	return ram_copy(ram, gpa, dst, len, false);
}

uint64_t guest_ram_low_end(const struct guest_ram *ram)
{
	return ram->nregions ? ram->regions[0].gpa + ram->regions[0].size : 0;
}
