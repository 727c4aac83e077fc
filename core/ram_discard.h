/*
 * Giving guest RAM back to the host: the one place that knows how each
 * backing frees memory. Private anonymous RAM: madvise(MADV_DONTNEED).
 * Shared (memfd) RAM: fallocate(PUNCH_HOLE), which frees the page cache
 * behind every mapping. Hugepage RAM: only whole 2 MiB host pages can be
 * freed, so 4 KiB pieces are tracked until a whole huge page is in, as
 * QEMU does. Used by the balloon (through host->virtio->discard) and by
 * free page reporting.
 */
#ifndef MODVMM_CORE_RAM_DISCARD_H
#define MODVMM_CORE_RAM_DISCARD_H

#include <pthread.h>
#include <stdint.h>

#include "guest_ram.h"

#define RAM_DISCARD_PAGE 4096ULL
#define RAM_DISCARD_HUGE (2ULL << 20)

struct ram_discard_stats {
	uint64_t calls;      /* discard requests */
	uint64_t syscalls;   /* madvise/fallocate calls made */
	uint64_t bytes;      /* bytes actually given back to the host */
	uint64_t bytes_held; /* hugepage pieces waiting for their siblings */
};

struct ram_discard {
	/* Discards come from device callbacks of any device: serialise the
	 * hugepage bookkeeping and the statistics. */
	pthread_mutex_t lock;
	struct guest_ram *ram;
	/* The e820 RAM ranges: only these may be discarded, never the
	 * reserved low memory holding ACPI tables and boot structures. */
	struct e820_entry usable[8];
	int nusable;
	uint64_t *huge_bits; /* one bit per 4 KiB page, hugepage RAM only */
	struct ram_discard_stats stats;
};

int ram_discard_init(struct ram_discard *rd, struct guest_ram *ram);
void ram_discard_free(struct ram_discard *rd);

/*
 * Discards guest-physical [gpa, gpa+len). The range must be 4 KiB aligned
 * and lie inside one e820 RAM range (-EINVAL / -EFAULT otherwise: nothing
 * is touched). Returns 0 or -errno from the syscall.
 */
int ram_discard_range(struct ram_discard *rd, uint64_t gpa, uint64_t len);

/*
 * The guest takes [gpa, gpa+len) back into use (balloon deflate): for
 * hugepage RAM, forget pieces of not-yet-freed huge pages. A no-op for
 * other backings, where touching a discarded page simply faults in a zero
 * page.
 */
void ram_discard_reuse(struct ram_discard *rd, uint64_t gpa, uint64_t len);

#endif
