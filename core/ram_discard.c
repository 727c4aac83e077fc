/* Returning guest RAM to the host per backing; see ram_discard.h. */
#define _GNU_SOURCE
#include "ram_discard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAGES_PER_HUGE (RAM_DISCARD_HUGE / RAM_DISCARD_PAGE)

int ram_discard_init(struct ram_discard *rd, struct guest_ram *ram)
{
	struct e820_entry all[16];
	int n = layout_e820(ram->size, all, 16);

	memset(rd, 0, sizeof(*rd));
	pthread_mutex_init(&rd->lock, NULL);
	rd->ram = ram;
	for (int i = 0; i < n && rd->nusable < 8; i++)
		if (all[i].type == E820_RAM)
			rd->usable[rd->nusable++] = all[i];
	if (ram->hugepages) {
		uint64_t pages = ram->size / RAM_DISCARD_PAGE;

		rd->huge_bits = calloc((pages + 63) / 64, sizeof(uint64_t));
		if (!rd->huge_bits)
			return -ENOMEM;
	}
	return 0;
}

void ram_discard_free(struct ram_discard *rd)
{
	free(rd->huge_bits);
	rd->huge_bits = NULL;
	if (rd->ram)
		pthread_mutex_destroy(&rd->lock);
	rd->ram = NULL;
}

/* Frees host memory behind [host, host+len) of the mapping. */
static int release(struct ram_discard *rd, uint8_t *host, uint64_t len)
{
	struct guest_ram *ram = rd->ram;
	int r;

	rd->stats.syscalls++;
	if (ram->memfd >= 0)
		r = fallocate(ram->memfd,
			      FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(host - ram->base), (off_t)len);
	else
		r = madvise(host, len, MADV_DONTNEED);
	if (r < 0)
		return -errno;
	rd->stats.bytes += len;
	return 0;
}

static bool bit_test(const uint64_t *b, uint64_t i)
{
	return b[i / 64] >> (i % 64) & 1;
}

/* Marks the 4 KiB pieces of [off, off+len) (offsets in the mapping) and
 * frees every huge page that is now wholly discarded. */
static int discard_huge(struct ram_discard *rd, uint64_t off, uint64_t len)
{
	uint64_t first = off / RAM_DISCARD_PAGE;
	uint64_t last = (off + len) / RAM_DISCARD_PAGE; /* exclusive */
	uint64_t h0 = first / PAGES_PER_HUGE;
	uint64_t h1 = (last + PAGES_PER_HUGE - 1) / PAGES_PER_HUGE;

	for (uint64_t i = first; i < last; i++) {
		if (!bit_test(rd->huge_bits, i)) {
			rd->huge_bits[i / 64] |= 1ULL << (i % 64);
			rd->stats.bytes_held += RAM_DISCARD_PAGE;
		}
	}
	for (uint64_t h = h0; h < h1; h++) {
		/* 512 bits = eight whole words per huge page. */
		uint64_t *w = &rd->huge_bits[h * PAGES_PER_HUGE / 64];
		bool full = true;

		for (int k = 0; k < (int)(PAGES_PER_HUGE / 64); k++)
			full &= w[k] == UINT64_MAX;
		if (!full)
			continue;
		int r = release(rd, rd->ram->base + h * RAM_DISCARD_HUGE,
				RAM_DISCARD_HUGE);
		if (r < 0)
			return r;
		/* Freed: the pieces start over as "in use". */
		memset(w, 0, PAGES_PER_HUGE / 8);
		rd->stats.bytes_held -= RAM_DISCARD_HUGE;
	}
	return 0;
}

static bool in_usable_ram(const struct ram_discard *rd, uint64_t gpa,
			  uint64_t len)
{
	uint64_t end;

	if (__builtin_add_overflow(gpa, len, &end))
		return false;
	for (int i = 0; i < rd->nusable; i++)
		if (gpa >= rd->usable[i].addr &&
		    end <= rd->usable[i].addr + rd->usable[i].size)
			return true;
	return false;
}

int ram_discard_range(struct ram_discard *rd, uint64_t gpa, uint64_t len)
{
	uint8_t *host;

	rd->stats.calls++;
	if (len == 0 || (gpa | len) & (RAM_DISCARD_PAGE - 1))
		return -EINVAL;
	if (!in_usable_ram(rd, gpa, len))
		return -EFAULT;
	host = guest_ram_ptr(rd->ram, gpa, len);
	if (!host)
		return -EFAULT;
	if (rd->huge_bits)
		return discard_huge(rd, (uint64_t)(host - rd->ram->base), len);
	return release(rd, host, len);
}

void ram_discard_reuse(struct ram_discard *rd, uint64_t gpa, uint64_t len)
{
	uint8_t *host;

	if (!rd->huge_bits || len == 0 ||
	    !(host = guest_ram_ptr(rd->ram, gpa, len)))
		return;
	uint64_t first = (uint64_t)(host - rd->ram->base) / RAM_DISCARD_PAGE;
	uint64_t last = first + (len + RAM_DISCARD_PAGE - 1) / RAM_DISCARD_PAGE;

	for (uint64_t i = first; i < last; i++) {
		if (bit_test(rd->huge_bits, i)) {
			rd->huge_bits[i / 64] &= ~(1ULL << (i % 64));
			rd->stats.bytes_held -= RAM_DISCARD_PAGE;
		}
	}
}
