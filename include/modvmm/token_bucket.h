/*
 * modvmm plugin SDK: a token bucket for a device's rate limits (bytes or
 * operations), as Cloud Hypervisor's `bw_size`/`bw_refill_time` and
 * `ops_size`/`ops_refill_time` spell them.
 *
 * Header-only (static inline): it is not part of the plugin ABI, links
 * nothing and works with any 1.x core. virtio-blk and virtio-net use it.
 *
 * The bucket holds `size` tokens and refills completely every refill
 * period, a tenth at a time: the device arms a one-shot timer of
 * mvm_bucket_step_ns() while the guest waits and calls
 * mvm_bucket_refill_step() from it. A request starts while the bucket
 * holds any token and then takes its whole cost, which may leave the
 * bucket in debt: a request larger than the bucket is still served and
 * the average rate holds. Tokens are counted in tenths, so a step of a
 * tenth of a bucket of a few operations is exact. `size` 0 means no limit.
 * Not thread-safe: use it from one thread (e.g. the event loop).
 */
#ifndef MODVMM_TOKEN_BUCKET_H
#define MODVMM_TOKEN_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mvm_bucket {
	/** Tokens per refill period; 0 = unlimited. */
	uint64_t size;
	/** The period in which an empty bucket refills completely. */
	uint64_t refill_ns;
	/** What the bucket holds, in tenths of a token; negative in debt. */
	int64_t tenths;
};

/* Sizes and costs are capped so that tenths never overflow an int64_t. */
#define MVM_BUCKET_CAP (INT64_MAX / 40)

static inline int64_t mvm_bucket_tenths_(uint64_t v)
{
	return (int64_t)(v > MVM_BUCKET_CAP ? MVM_BUCKET_CAP : v) * 10;
}

/** Start full; `refill_ms` 0 means one second. */
static inline void mvm_bucket_init(struct mvm_bucket *b, uint64_t size,
				   uint64_t refill_ms)
{
	b->size = size;
	b->refill_ns = (refill_ms ? refill_ms : 1000) * 1000000ULL;
	b->tenths = mvm_bucket_tenths_(size);
}

/** May a request start now? */
static inline bool mvm_bucket_ready(const struct mvm_bucket *b)
{
	return b->size == 0 || b->tenths > 0;
}

/** Is the bucket full (or unlimited)? Then no refill timer is needed. */
static inline bool mvm_bucket_full(const struct mvm_bucket *b)
{
	return b->size == 0 || b->tenths >= mvm_bucket_tenths_(b->size);
}

/** Charge `cost` tokens (the debt is bounded). */
static inline void mvm_bucket_take(struct mvm_bucket *b, uint64_t cost)
{
	if (b->size == 0)
		return;
	b->tenths -= mvm_bucket_tenths_(cost);
	if (b->tenths < -mvm_bucket_tenths_(MVM_BUCKET_CAP))
		b->tenths = -mvm_bucket_tenths_(MVM_BUCKET_CAP);
}

/** Add one tenth of the bucket, capped at full. */
static inline void mvm_bucket_refill_step(struct mvm_bucket *b)
{
	int64_t full = mvm_bucket_tenths_(b->size);
	int64_t step = full / 10;

	b->tenths = b->tenths > full - step ? full : b->tenths + step;
}

/** The refill step's period: a tenth of the refill period (at least 1). */
static inline uint64_t mvm_bucket_step_ns(const struct mvm_bucket *b)
{
	return b->refill_ns / 10 ? b->refill_ns / 10 : 1;
}

#ifdef __cplusplus
}
#endif

#endif /* MODVMM_TOKEN_BUCKET_H */
