/*
 * What the harness's fuzz targets (fuzz_virtio.c, fuzz_balloon.c,
 * fuzz_virtio_blk.c) share to read their input and place buffers: small
 * enough to be inline, so that each target's copy carries the fuzzer's
 * instrumentation.
 */
#ifndef MODVMM_TESTS_FUZZ_INPUT_H
#define MODVMM_TESTS_FUZZ_INPUT_H

#include <stdint.h>

/* The next n (<= 8) input bytes at *p, little-endian; zeros past end. */
static inline uint64_t fuzz_take(const uint8_t **p, const uint8_t *end,
				 unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n && *p < end; i++)
		v |= (uint64_t) * (*p)++ << (8 * i);
	return v;
}

/* `len` bytes of the scratch area [base, base + size), from *cursor on and
 * round-robin, at `align` (a power of two, 1 = any); moves *cursor past
 * them. */
static inline uint64_t fuzz_scratch(uint64_t *cursor, uint64_t base,
				    uint64_t size, uint64_t len, uint64_t align)
{
	uint64_t gpa = (*cursor + align - 1) & ~(align - 1);

	if (gpa + len > base + size)
		gpa = base;
	*cursor = gpa + len;
	return gpa;
}

#endif
