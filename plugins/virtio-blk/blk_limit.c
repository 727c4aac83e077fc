/*
 * virtio-blk plugin: token bucket (see blk_limit.h).
 *
 * Tokens are kept in tenths, so that a refill step of a tenth of the
 * bucket is exact even for a bucket of a few operations.
 */
#include "blk_limit.h"

/* Cap sizes and costs so that tenths never overflow an int64_t. */
#define CAP (INT64_MAX / 40)

static int64_t tenths(uint64_t v)
{
	return (int64_t)(v > CAP ? CAP : v) * 10;
}

void blk_limit_init(struct blk_limit *l, uint64_t size, uint64_t refill_ms)
{
	l->size = size;
	l->refill_ns = (refill_ms ? refill_ms : 1000) * 1000000ULL;
	l->tokens = tenths(size);
}

bool blk_limit_ready(const struct blk_limit *l)
{
	return l->size == 0 || l->tokens > 0;
}

bool blk_limit_full(const struct blk_limit *l)
{
	return l->size == 0 || l->tokens >= tenths(l->size);
}

void blk_limit_take(struct blk_limit *l, uint64_t cost)
{
	if (l->size == 0)
		return;
	/* Debt stays above -CAP * 10: tokens is at most that before. */
	l->tokens -= tenths(cost);
	if (l->tokens < -tenths(CAP))
		l->tokens = -tenths(CAP);
}

void blk_limit_refill_step(struct blk_limit *l)
{
	int64_t full = tenths(l->size);
	int64_t step = full / 10;

	l->tokens = l->tokens > full - step ? full : l->tokens + step;
}

uint64_t blk_limit_step_ns(const struct blk_limit *l)
{
	return l->refill_ns / 10 ? l->refill_ns / 10 : 1;
}
