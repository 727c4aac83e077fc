/*
 * virtio-net plugin: a token bucket (bandwidth in bytes, or frames).
 *
 * The bucket holds `size` tokens and refills completely every
 * `refill_ns`, a tenth at a time from a one-shot timer that the device arms
 * only while the guest waits (as the rng's limit does). A frame is
 * started while the bucket holds any token and then takes its whole cost,
 * which may leave the bucket in debt: a frame larger than the bucket is
 * still served, and the average rate holds. size 0 means no limit.
 * Event-loop thread only.
 */
#ifndef MODVMM_NET_LIMIT_H
#define MODVMM_NET_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct net_limit {
	uint64_t size;      /* tokens per refill period; 0 = unlimited */
	uint64_t refill_ns; /* period to refill `size` */
	int64_t tokens;     /* in tenths of a token */
};

/* Start full. */
void net_limit_init(struct net_limit *l, uint64_t size, uint64_t refill_ms);
/* May a frame go now? */
bool net_limit_ready(const struct net_limit *l);
/* Is the bucket full (or unlimited)? */
bool net_limit_full(const struct net_limit *l);
/* Charge `cost` tokens. */
void net_limit_take(struct net_limit *l, uint64_t cost);
/* Add one tenth of the bucket, capped at full. */
void net_limit_refill_step(struct net_limit *l);
/* The refill step period: a tenth of refill_ns. */
uint64_t net_limit_step_ns(const struct net_limit *l);

#endif /* MODVMM_NET_LIMIT_H */
