/*
 * What the harness's fuzz targets (fuzz_virtio.c, fuzz_balloon.c,
 * fuzz_virtio_blk.c) share to read their input and place buffers: small
 * enough to be inline, so that each target's copy carries the fuzzer's
 * instrumentation.
 */
#ifndef MODVMM_TESTS_FUZZ_INPUT_H
#define MODVMM_TESTS_FUZZ_INPUT_H

#include <stdint.h>

/* A target's input not read yet, and the scratch area of guest RAM
 * [base, base + size) it places buffers in. */
struct fuzz_in {
	const uint8_t *p, *end;
	uint64_t base, size;
	uint64_t cursor; /* the next free scratch byte */
};

/* The input `data` of `size` bytes, with the scratch area [base,
 * base + size) all free. */
#define FUZZ_IN(data, len, scratch_base, scratch_size)                         \
	((struct fuzz_in){(data), (data) + (len), (scratch_base),              \
			  (scratch_size), (scratch_base)})

/* The next n (<= 8) input bytes, little-endian; zeros past the end. */
static inline uint64_t fuzz_take(struct fuzz_in *in, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n && in->p < in->end; i++)
		v |= (uint64_t)*in->p++ << (8 * i);
	return v;
}

static inline uint8_t fuzz_take8(struct fuzz_in *in)
{
	return (uint8_t)fuzz_take(in, 1);
}

/* `len` bytes of scratch RAM, from the cursor on and round-robin, at
 * `align` (a power of two, 1 = any); moves the cursor past them. */
static inline uint64_t fuzz_scratch(struct fuzz_in *in, uint64_t len,
				    uint64_t align)
{
	uint64_t gpa = (in->cursor + align - 1) & ~(align - 1);

	if (gpa + len > in->base + in->size)
		gpa = in->base;
	in->cursor = gpa + len;
	return gpa;
}

#endif
