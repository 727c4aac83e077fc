/*
 * virtio-blk plugin: token bucket (see blk_limit.h).
 */
#include "blk_limit.h"

void blk_limit_init(struct blk_limit *l, uint64_t size, uint64_t refill_ms)
{
	l->size = size;
	l->refill_ns = (refill_ms ? refill_ms : 1000) * 1000000ULL;
	l->tokens = size > INT64_MAX ? INT64_MAX : (int64_t)size;
}

bool blk_limit_ready(const struct blk_limit *l)
{
	return l->size == 0 || l->tokens > 0;
}

void blk_limit_take(struct blk_limit *l, uint64_t cost)
{
	if (l->size == 0)
		return;
	if (cost > (uint64_t)INT64_MAX / 2)
		cost = (uint64_t)INT64_MAX / 2;
	/* Debt is bounded by one request's cost below zero. */
	l->tokens = l->tokens - (int64_t)cost < -(int64_t)(INT64_MAX / 2)
			    ? -(int64_t)(INT64_MAX / 2)
			    : l->tokens - (int64_t)cost;
}

void blk_limit_refill_step(struct blk_limit *l)
{
	int64_t cap = l->size > INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)l->size;
	int64_t step = (cap + 9) / 10;

	l->tokens = l->tokens > cap - step ? cap : l->tokens + step;
}

uint64_t blk_limit_step_ns(const struct blk_limit *l)
{
	return l->refill_ns / 10 ? l->refill_ns / 10 : 1;
}
