/*
 * virtio-blk plugin: the worker threads that do a disk's file I/O.
 *
 * Two engines (docs/block.md has the measurement that made io_uring the
 * default): io_uring (blk_uring.c), or the worker threads here.
 *
 * Threads: the event-loop thread submits checked requests; BLK_IO_WORKERS
 * threads take them in order and run them in parallel (preadv, pwritev,
 * fdatasync, fallocate on the image); each finished request goes on a done list
 * and the pool's eventfd is signalled. The plugin watches that eventfd with
 * host->add_fd, so completions are pushed and interrupts raised on the
 * event-loop thread, under the device lock, as the virtio host requires.
 * The workers call nothing of the host table.
 *
 * The workers are started in the plugin's create, before the core installs
 * its seccomp filters, and install none of their own: they run unfiltered
 * (docs/block.md).
 *
 * Built with BLK_IO_INLINE (the fuzzer), submit runs the request on the
 * calling thread and there are no threads, so a run is deterministic.
 */
#ifndef MODVMM_BLK_IO_H
#define MODVMM_BLK_IO_H

#include "blk.h"
#include "blk_req.h"

/* Threads per disk: see docs/block.md for the measurement behind it. */
#define BLK_IO_WORKERS 4

/* Start the engine for disk `b`: io_uring with a ring of `entries` SQEs
 * if `uring`, else the worker threads. Returns 0 or -errno (io_uring
 * unavailable: the caller may try the threads). Main thread. */
int blk_io_start(struct blk *b, bool uring, unsigned entries,
		 struct blk_io **out);
/* Stop and join the workers, free queued and done requests. Main thread. */
void blk_io_stop(struct blk_io *io);
/* The eventfd to watch for completions. */
int blk_io_fd(const struct blk_io *io);
/* Queue `r` (a worker takes it, or its first SQE is queued). */
void blk_io_submit(struct blk_io *io, struct blk_req *r);
/* After a batch of submits: hand queued SQEs to the kernel (io_uring;
 * the threads need nothing). */
void blk_io_kick(struct blk_io *io);
/* Take every finished request (a list through ->next, oldest first) and
 * clear the eventfd. Event-loop thread. */
struct blk_req *blk_io_take_done(struct blk_io *io);
/* Wait until no request is queued or running (a device reset). Any thread
 * but a worker. */
void blk_io_drain(struct blk_io *io);

#endif /* MODVMM_BLK_IO_H */
