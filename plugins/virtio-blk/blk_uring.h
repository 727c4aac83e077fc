/*
 * virtio-blk plugin: the io_uring engine, used by blk_io.c when aio=io_uring.
 *
 * Requests are queued as SQEs on the event-loop thread (submit, then one
 * kick per batch: one io_uring_enter for many requests); the ring signals
 * completions on the pool's eventfd (io_uring_register_eventfd), and the
 * event loop reaps the CQEs without a system call. Reads that hit the page
 * cache complete inside io_uring_enter on the event-loop thread; anything
 * that would block runs in the kernel's own io-wq workers. No vCPU thread
 * submits; a reset (vCPU thread) only waits for what is in flight.
 *
 * Not thread-safe: every call comes from a device callback, under the
 * core's device lock.
 */
#ifndef MODVMM_BLK_URING_H
#define MODVMM_BLK_URING_H

#include "blk.h"

struct blk_uring;

/* A ring of `entries` SQEs signalling `efd`; 0 or -errno (e.g. -ENOSYS
 * or -EPERM where io_uring is unavailable). Main thread. */
int blk_uring_start(const struct blk *b, int efd, unsigned entries,
		    struct blk_uring **out);
/* Wait for what is in flight (appended to *done), tear down. */
void blk_uring_stop(struct blk_uring *u, struct blk_req **done);
/* Queue `r`'s first SQE (not yet submitted: see kick). */
void blk_uring_submit(struct blk_uring *u, struct blk_req *r);
/* Submit every queued SQE. */
void blk_uring_kick(struct blk_uring *u);
/* Handle every CQE: finished requests (status set) are appended to
 * *done; the rest get their next SQE (submitted). Returns how many
 * finished. */
unsigned blk_uring_reap(struct blk_uring *u, struct blk_req **done);
/* Wait until no request is in flight; finished ones go to *done. */
void blk_uring_drain(struct blk_uring *u, struct blk_req **done);
/* Requests submitted and not yet reaped. */
unsigned blk_uring_inflight(const struct blk_uring *u);

#endif /* MODVMM_BLK_URING_H */
