/*
 * virtio-blk plugin: a token bucket (bandwidth in bytes, or operations).
 *
 * The bucket holds `size` tokens and refills completely every
 * `refill_ns`, a tenth at a time from a one-shot timer that the device arms
 * only while the guest waits (as the rng's limit does). A request is
 * started while the bucket holds any token and then takes its whole cost,
 * which may leave the bucket in debt: a request larger than the bucket is
 * still served, and the average rate holds. size 0 means no limit.
 * Event-loop thread only.
 */
#ifndef MODVMM_BLK_LIMIT_H
#define MODVMM_BLK_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct blk_limit {
	uint64_t size;      /* tokens per refill period; 0 = unlimited */
	uint64_t refill_ns; /* period to refill `size` */
	int64_t tokens;     /* in tenths of a token */
};

/* Start full. */
void blk_limit_init(struct blk_limit *l, uint64_t size, uint64_t refill_ms);
/* May a request start now? */
bool blk_limit_ready(const struct blk_limit *l);
/* Is the bucket full (or unlimited)? */
bool blk_limit_full(const struct blk_limit *l);
/* Charge `cost` tokens. */
void blk_limit_take(struct blk_limit *l, uint64_t cost);
/* Add one tenth of the bucket, capped at full. */
void blk_limit_refill_step(struct blk_limit *l);
/* The refill step period: a tenth of refill_ns. */
uint64_t blk_limit_step_ns(const struct blk_limit *l);

#endif /* MODVMM_BLK_LIMIT_H */
