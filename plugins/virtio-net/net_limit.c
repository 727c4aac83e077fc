/*
 * virtio-net plugin: token bucket (see net_limit.h).
 *
 * Tokens are kept in tenths, so that a refill step of a tenth of the
 * bucket is exact even for a bucket of a few operations.
 */
#include "net_limit.h"

/* Cap sizes and costs so that tenths never overflow an int64_t. */
#define CAP (INT64_MAX / 40)

static int64_t tenths(uint64_t v)
{
	return (int64_t)(v > CAP ? CAP : v) * 10;
}

void net_limit_init(struct net_limit *l, uint64_t size, uint64_t refill_ms)
{
	l->size = size;
	l->refill_ns = (refill_ms ? refill_ms : 1000) * 1000000ULL;
	l->tokens = tenths(size);
}

bool net_limit_ready(const struct net_limit *l)
{
	return l->size == 0 || l->tokens > 0;
}

bool net_limit_full(const struct net_limit *l)
{
	return l->size == 0 || l->tokens >= tenths(l->size);
}

void net_limit_take(struct net_limit *l, uint64_t cost)
{
	if (l->size == 0)
		return;
	/* Debt stays above -CAP * 10: tokens is at most that before. */
	l->tokens -= tenths(cost);
	if (l->tokens < -tenths(CAP))
		l->tokens = -tenths(CAP);
}

void net_limit_refill_step(struct net_limit *l)
{
	int64_t full = tenths(l->size);
	int64_t step = full / 10;

	l->tokens = l->tokens > full - step ? full : l->tokens + step;
}

uint64_t net_limit_step_ns(const struct net_limit *l)
{
	return l->refill_ns / 10 ? l->refill_ns / 10 : 1;
}
