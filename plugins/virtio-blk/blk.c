/*
 * virtio-blk: a virtio block device (virtio spec 5.2, device id 2) on a raw
 * image file, with options spelled as Cloud Hypervisor's --disk.
 *
 * Queues are served on the event-loop thread: queue_notify pops chains,
 * blk_req.c checks them, and the file I/O goes to the disk's engine
 * (blk_io.c: io_uring, or worker threads with aio=threads), up to
 * queue_size requests in flight per queue. Completions come back through
 * an eventfd watched with host->add_fd, so status bytes, pushes and
 * interrupts happen on the event loop too. No I/O runs on a vCPU thread.
 *
 * Threads: queue_notify, the completion fd and the refill timer run on the
 * event-loop thread; config_read and reset on a vCPU thread; all under the
 * core's device lock. Worker threads (aio=threads) never take it: they
 * only touch a request between submit and the done list.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <unistd.h>

#include "blk.h"
#include "blk_io.h"
#include "blk_req.h"

#define O struct blk_opts
/* A rate limit's refill period in ms, the same for both buckets: 1 ms to
 * an hour, 1 s by default. */
#define REFILL_TIME(key, field, help)                                          \
	MVM_OPTION_RANGE(key, MVM_OPT_U64, O, field, "1000", false, 1,         \
			 3600000, help)

static const struct mvm_option blk_options[] = {
	MVM_OPTION("path", MVM_OPT_STR, O, path, NULL, true,
		   "raw disk image file (or block device)"),
	MVM_OPTION("readonly", MVM_OPT_BOOL, O, readonly, "off", false,
		   "open the image read-only; the guest sees a read-only disk"),
	MVM_OPTION("direct", MVM_OPT_BOOL, O, direct, "off", false,
		   "open the image with O_DIRECT (bypass the host page cache)"),
	MVM_OPTION("discard", MVM_OPT_BOOL, O, discard, "on", false,
		   "offer DISCARD: the guest's discards punch holes in the "
		   "image"),
	MVM_OPTION("serial", MVM_OPT_STR, O, serial, NULL, false,
		   "disk serial number the guest reads (at most 20 bytes)"),
	MVM_OPTION("aio", MVM_OPT_STR, O, aio, "io_uring", false,
		   "I/O engine: io_uring, or threads (a pool of worker "
		   "threads)"),
	MVM_OPTION_RANGE("num_queues", MVM_OPT_U64, O, num_queues, "1", false,
			 1, MVM_VIRTIO_MAX_QUEUES,
			 "request queues (more than one offers MQ)"),
	MVM_OPTION_RANGE("queue_size", MVM_OPT_U64, O, queue_size, "128", false,
			 2, 1024, "entries per queue (a power of two)"),
	MVM_OPTION("bw_size", MVM_OPT_SIZE, O, bw_size, "0", false,
		   "bandwidth limit: bytes per bw_refill_time, K/M/G suffixes "
		   "(0: unlimited)"),
	REFILL_TIME("bw_refill_time", bw_refill_time,
		    "bandwidth limit period in ms"),
	MVM_OPTION("ops_size", MVM_OPT_U64, O, ops_size, "0", false,
		   "operations limit: requests per ops_refill_time (0: "
		   "unlimited)"),
	REFILL_TIME("ops_refill_time", ops_refill_time,
		    "operations limit period in ms"),
	MVM_OPTION_END,
};

#undef REFILL_TIME
#undef O

static void pump(struct blk *b, unsigned qi);

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Device config (virtio spec 5.2.4), little-endian as the guest reads it. */
static void build_config(struct blk *b)
{
	uint8_t *c = b->config;
	uint64_t seg_max = b->opts.queue_size < MVM_VIRTQ_MAX_SEGS
				   ? b->opts.queue_size
				   : MVM_VIRTQ_MAX_SEGS;

	memset(b->config, 0, sizeof(b->config));
	put_le(c + 0, b->capacity, 8);
	put_le(c + 8, BLK_SIZE_MAX, 4);
	put_le(c + 12, seg_max - 2, 4); /* header and status take two */
	put_le(c + 20, BLK_SECTOR, 4);  /* blk_size */
	put_le(c + 34, b->opts.num_queues, 2);
	put_le(c + 36, BLK_MAX_DWZ_SECTORS, 4); /* max_discard_sectors */
	put_le(c + 40, BLK_MAX_DWZ_SEG, 4);     /* max_discard_seg */
	put_le(c + 44, 4096 / BLK_SECTOR, 4);   /* discard_sector_alignment */
	put_le(c + 48, BLK_MAX_DWZ_SECTORS, 4); /* max_write_zeroes_sectors */
	put_le(c + 52, BLK_MAX_DWZ_SEG, 4);     /* max_write_zeroes_seg */
	c[56] = b->opts.discard;                /* write_zeroes_may_unmap */
}

static void blk_config_read(void *opaque, uint32_t offset, void *buf,
			    uint32_t len)
{
	struct blk *b = opaque;

	memcpy(buf, b->config + offset, len);
}

/* Answer `r` in guest memory and give the chain back. */
static void finish(struct blk *b, struct blk_req *r)
{
	struct blk_queue *bq = &b->queues[r->qi];
	uint8_t *st = b->host->guest_mem(b->dev, r->status_gpa, 1);
	uint64_t written = 1;

	if (st)
		*st = r->status;
	if (r->status == BLK_S_OK &&
	    (r->type == BLK_T_IN || r->type == BLK_T_GET_ID))
		written += r->len;
	if (r->status == BLK_S_IOERR && r->type != BLK_T_OUT)
		b->host->log_guest(b->dev, "request type %u failed", r->type);
	b->vh->push(bq->q, &r->chain,
		    written > UINT32_MAX ? UINT32_MAX : (uint32_t)written);
}

static void refill(void *opaque);

/* Keep refilling until both buckets are full again. */
static void arm_refill(struct blk *b)
{
	uint64_t ns = UINT64_MAX;

	if (b->timer >= 0)
		return;
	if (!mvm_bucket_full(&b->bw))
		ns = mvm_bucket_step_ns(&b->bw);
	if (!mvm_bucket_full(&b->ops) && mvm_bucket_step_ns(&b->ops) < ns)
		ns = mvm_bucket_step_ns(&b->ops);
	if (ns != UINT64_MAX)
		b->timer = b->host->add_timer(b->dev, ns, 0, refill, b);
}

static void refill(void *opaque)
{
	struct blk *b = opaque;

	b->timer = -1;
	if (b->bw.size)
		mvm_bucket_refill_step(&b->bw);
	if (b->ops.size)
		mvm_bucket_refill_step(&b->ops);
	if (b->vh->status(b->vdev) & MVM_VIRTIO_STATUS_DRIVER_OK)
		for (unsigned i = 0; i < b->opts.num_queues; i++)
			if (b->vh->queue_ready(b->queues[i].q))
				pump(b, i);
	arm_refill(b);
}

static void pump(struct blk *b, unsigned qi)
{
	struct blk_queue *bq = &b->queues[qi];
	struct mvm_virtq_chain c;
	bool pushed = false;

	while (bq->inflight < b->opts.queue_size) {
		if (!mvm_bucket_ready(&b->bw) || !mvm_bucket_ready(&b->ops))
			break; /* the rest waits in the ring for the refill */
		if (b->vh->pop(bq->q, &c) <= 0)
			break;
		struct blk_req *r = malloc(sizeof(*r));

		if (!r) {
			b->vh->set_needs_reset(b->vdev, "out of memory");
			break;
		}
		switch (blk_req_prepare(b, bq->q, &c, qi, r)) {
		case BLK_PREP_BAD:
			b->vh->set_needs_reset(
				b->vdev, "request without a writable status "
					 "byte (virtio spec 5.2.6)");
			blk_req_free(r);
			goto out;
		case BLK_PREP_DONE:
			finish(b, r);
			blk_req_free(r);
			pushed = true;
			break;
		case BLK_PREP_SUBMIT:
			mvm_bucket_take(&b->ops, 1);
			mvm_bucket_take(&b->bw, r->len);
			bq->inflight++;
			blk_io_submit(b->io, r);
			break;
		}
	}
out:
	blk_io_kick(b->io);
	if (pushed)
		b->vh->notify(bq->q);
	arm_refill(b);
}

static void blk_notify(void *opaque, struct mvm_virtq *q, unsigned index)
{
	struct blk *b = opaque;

	(void)q;
	if (index < b->opts.num_queues)
		pump(b, index);
}

/* The engine's eventfd: push what it finished, then look for more work
 * on those queues (they may have stopped at queue_size in flight). */
static void on_done(void *opaque, int fd, uint32_t events)
{
	struct blk *b = opaque;
	struct blk_req *r = blk_io_take_done(b->io);
	uint64_t touched = 0;

	(void)fd;
	(void)events;
	while (r) {
		struct blk_req *next = r->next;

		b->queues[r->qi].inflight--;
		finish(b, r);
		touched |= 1ULL << r->qi;
		blk_req_free(r);
		r = next;
	}
	for (unsigned i = 0; i < b->opts.num_queues; i++) {
		if (!(touched & (1ULL << i)))
			continue;
		b->vh->notify(b->queues[i].q);
		if (b->vh->status(b->vdev) & MVM_VIRTIO_STATUS_DRIVER_OK)
			pump(b, i);
	}
}

/* The driver reset the device: wait for the requests the engine holds (it
 * writes into guest buffers), then drop them unanswered, as their chains
 * belong to the old queues. */
static void blk_reset(void *opaque)
{
	struct blk *b = opaque;
	struct blk_req *r;

	blk_io_drain(b->io);
	r = blk_io_take_done(b->io);
	while (r) {
		struct blk_req *next = r->next;

		blk_req_free(r);
		r = next;
	}
	for (unsigned i = 0; i < b->opts.num_queues; i++)
		b->queues[i].inflight = 0;
}

static void blk_destroy(void *state)
{
	struct blk *b = state;

	if (!b)
		return;
	if (b->timer >= 0)
		b->host->cancel_timer(b->dev, b->timer);
	if (b->io) {
		b->host->remove_fd(b->dev, blk_io_fd(b->io));
		blk_io_stop(b->io);
	}
	if (b->vdev)
		b->vh->destroy(b->vdev);
	if (b->fd >= 0)
		close(b->fd);
	if (b->fd_buffered >= 0)
		close(b->fd_buffered);
	free(b->queues);
	free(b);
}

/* Open and size the image; user errors through host->fail. */
static int open_image(struct blk *b)
{
	const char *path = b->opts.path;
	int flags = (b->opts.readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	off_t size;

	b->fd = open(path, flags | (b->opts.direct ? O_DIRECT : 0));
	if (b->fd < 0) {
		int e = errno;

		b->host->fail(b->dev, "path=%s: %s%s", path, strerror(e),
			      e == EINVAL && b->opts.direct
				      ? " (O_DIRECT not supported here: "
					"direct=off)"
			      : (e == EACCES || e == EROFS) && !b->opts.readonly
				      ? " (readonly=on?)"
				      : "");
		return -e;
	}
	/* Two VMs writing one image corrupt it: a writer takes the image
	 * exclusively, readers share it. */
	if (flock(b->fd, (b->opts.readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) <
	    0) {
		int e = errno;

		b->host->fail(b->dev, "path=%s: %s", path,
			      e == EWOULDBLOCK ? "in use by another process "
						 "(locked)"
					       : strerror(e));
		return -e;
	}
	size = lseek(b->fd, 0, SEEK_END);
	if (size < 0) {
		int e = errno;

		b->host->fail(b->dev, "path=%s: %s", path, strerror(e));
		return -e;
	}
	if (size == 0 || (uint64_t)size % BLK_SECTOR) {
		b->host->fail(b->dev,
			      "path=%s: size %lld is not a positive multiple "
			      "of 512 bytes",
			      path, (long long)size);
		return -EINVAL;
	}
	b->capacity = (uint64_t)size / BLK_SECTOR;
	if (b->opts.direct) {
		b->fd_buffered = open(path, flags);
		if (b->fd_buffered < 0) {
			int e = errno;

			b->host->fail(b->dev, "path=%s: %s", path, strerror(e));
			return -e;
		}
	}
	return 0;
}

static int check_options(struct blk *b)
{
	const struct blk_opts *o = &b->opts;

	if (o->queue_size & (o->queue_size - 1)) {
		b->host->fail(b->dev, "queue_size=%llu: must be a power of two",
			      (unsigned long long)o->queue_size);
		return -EINVAL;
	}
	if (o->serial && strlen(o->serial) > BLK_ID_BYTES) {
		b->host->fail(b->dev, "serial=%s: at most %d bytes", o->serial,
			      BLK_ID_BYTES);
		return -EINVAL;
	}
	if (strcmp(o->aio, "io_uring") && strcmp(o->aio, "threads")) {
		b->host->fail(b->dev, "aio=%s: expected io_uring or threads",
			      o->aio);
		return -EINVAL;
	}
	if (!*o->path) {
		b->host->fail(b->dev, "path=: needs an image file");
		return -EINVAL;
	}
	return 0;
}

/* An SQE for every request the queues may have in flight at once (each
 * has one SQE in flight): the completion ring, twice that, then never
 * overflows, so every completion shows in the ring and signals the eventfd.
 * At most 64 x 1024 requests: 32768 entries, io_uring's own maximum. */
static unsigned ring_entries(const struct blk *b)
{
	uint64_t want = b->opts.num_queues * b->opts.queue_size;
	unsigned n = 8;

	while (n < want && n < 32768)
		n *= 2;
	return n;
}

static int blk_create(mvm_dev *dev, const struct mvm_host *host,
		      const char *options, void **state)
{
	uint16_t qmax[MVM_VIRTIO_MAX_QUEUES];
	struct blk *b;
	int e;

	if (!MVM_HOST_HAS(host, virtio) || !host->virtio ||
	    !MVM_HOST_HAS(host->virtio, queue_ready)) {
		host->fail(dev, "this modvmm has no virtio transport");
		return -ENOTSUP;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->dev = dev;
	b->host = host;
	b->vh = host->virtio;
	b->fd = b->fd_buffered = -1;
	b->timer = -1;
	e = host->parse_options(dev, blk_options, options, &b->opts);
	if (e < 0)
		goto fail;
	e = check_options(b);
	if (e < 0)
		goto fail;
	e = open_image(b);
	if (e < 0)
		goto fail;
	mvm_bucket_init(&b->bw, b->opts.bw_size, b->opts.bw_refill_time);
	mvm_bucket_init(&b->ops, b->opts.ops_size, b->opts.ops_refill_time);

	b->features = 1ULL << BLK_F_SIZE_MAX | 1ULL << BLK_F_SEG_MAX |
		      1ULL << BLK_F_BLK_SIZE | 1ULL << BLK_F_FLUSH;
	if (b->opts.readonly)
		b->features |= 1ULL << BLK_F_RO;
	else
		b->features |= 1ULL << BLK_F_WRITE_ZEROES |
			       (b->opts.discard ? 1ULL << BLK_F_DISCARD : 0);
	if (b->opts.num_queues > 1)
		b->features |= 1ULL << BLK_F_MQ;
	build_config(b);

	b->queues = calloc(b->opts.num_queues, sizeof(*b->queues));
	if (!b->queues) {
		e = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < b->opts.num_queues; i++)
		qmax[i] = (uint16_t)b->opts.queue_size;

	const struct mvm_virtio_device desc = {
		.size = sizeof(desc),
		.device_id = BLK_DEVICE_ID,
		.features = b->features,
		.config_size = sizeof(b->config),
		.num_queues = (uint32_t)b->opts.num_queues,
		.queue_max = qmax,
		.config_read = blk_config_read,
		.reset = blk_reset,
		.queue_notify = blk_notify,
	};
	b->uring = !strcmp(b->opts.aio, "io_uring");
	e = blk_io_start(b, b->uring, ring_entries(b), &b->io);
	if (e < 0 && b->uring) {
		/* An old kernel, or io_uring disabled (sysctl
		 * kernel.io_uring_disabled, a container's seccomp). */
		host->log(dev, MVM_LOG_WARN,
			  "io_uring unavailable (%s): using worker threads",
			  strerror(-e));
		b->uring = false;
		e = blk_io_start(b, false, 0, &b->io);
	}
	if (e < 0) {
		host->fail(dev, "cannot start I/O threads: %s", strerror(-e));
		goto fail;
	}
	e = host->add_fd(dev, blk_io_fd(b->io), EPOLLIN, on_done, b);
	if (e < 0) {
		host->fail(dev, "cannot watch the I/O eventfd: %s",
			   strerror(-e));
		blk_io_stop(b->io);
		b->io = NULL;
		goto fail;
	}
	e = b->vh->create(dev, &desc, b, &b->vdev);
	if (e < 0)
		goto fail;
	for (unsigned i = 0; i < b->opts.num_queues; i++)
		b->queues[i].q = b->vh->queue(b->vdev, i);
	*state = b;
	return 0;
fail:
	blk_destroy(b);
	return e;
}

/* aio=io_uring submits (event loop) and waits for in-flight requests on a
 * reset (vCPU thread) with io_uring_enter. aio=threads: the workers put
 * themselves under the event loop's list (host->sandbox_thread), then
 * read, write and flush the image. Everything else is a device service. */
static const char *const blk_syscalls[] = {
	"io_uring_enter", "preadv", "pwritev", "pwrite64", "fdatasync", NULL};

MVM_PLUGIN_EXPORT const struct mvm_plugin mvm_plugin_descriptor = {
	MVM_PLUGIN_HEADER,
	.name = "virtio-blk",
	.version = "1.0",
	.description = "virtio block device (virtio-blk) on a raw image file",
	.options = blk_options,
	.create = blk_create,
	.destroy = blk_destroy,
	.syscalls = blk_syscalls,
};
