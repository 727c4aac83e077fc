/*
 * rng: a virtio entropy device (virtio spec 5.4, device id 4). One queue of
 * device-writable buffers, each filled from getrandom(2), as QEMU's
 * virtio-rng-device with its default backend does.
 *
 * Option max_bytes_per_sec=SIZE (0 = unlimited) bounds how fast the guest
 * can drain the host's entropy pool: a token bucket holding one second's
 * worth of bytes, refilled a tenth at a time by a one-shot timer that is
 * armed only while the guest is waiting. Buffers the bucket cannot serve
 * stay in the ring until the refill (the spec lets the device take its
 * time), so a rate-limited guest simply sees slower reads.
 *
 * Threads: queue_notify and the refill timer run on the event-loop thread,
 * reset on a vCPU thread, all under the core's device lock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <modvmm/plugin.h>
#include <modvmm/virtio.h>

#define RNG_DEVICE_ID 4
#define RNG_QUEUE_SIZE 64
#define REFILL_NS 100000000ULL /* 100 ms: a tenth of the bucket */

struct rng_opts {
	uint64_t max_bytes_per_sec;
};

struct rng {
	mvm_dev *dev;
	const struct mvm_host *host;
	const struct mvm_virtio_host *vh;
	struct mvm_virtio *vdev;
	struct rng_opts opts;
	uint64_t tokens;
	uint64_t tenths; /* refill remainder, in tenths of a byte */
	int timer;       /* refill timer id, -1 when not armed */
};

static const struct mvm_option rng_options[] = {
	MVM_OPTION("max_bytes_per_sec", MVM_OPT_SIZE, struct rng_opts,
		   max_bytes_per_sec, "0", false,
		   "entropy rate limit in bytes per second, K/M/G suffixes "
		   "(0: unlimited)"),
	MVM_OPTION_END,
};

static void refill(void *opaque);

/* Fills one chain's writable bytes, up to `max`; returns bytes written. */
static uint32_t fill(struct rng *r, struct mvm_virtq *q,
		     const struct mvm_virtq_chain *c, uint64_t max)
{
	uint8_t buf[4096];
	uint64_t want = c->writable < max ? c->writable : max;
	uint64_t done = 0;

	if (want > UINT32_MAX)
		want = UINT32_MAX;
	while (done < want) {
		size_t n =
			want - done < sizeof(buf) ? want - done : sizeof(buf);
		ssize_t got = getrandom(buf, n, 0);

		if (got <= 0)
			break; /* EINTR or no entropy yet: give what we have */
		if (r->vh->chain_write(q, c, done, buf, (size_t)got) !=
		    (size_t)got)
			break;
		done += (uint64_t)got;
	}
	return (uint32_t)done;
}

static void process(struct rng *r)
{
	struct mvm_virtq *q = r->vh->queue(r->vdev, 0);
	struct mvm_virtq_chain c;
	bool limited = r->opts.max_bytes_per_sec != 0;

	for (;;) {
		if (limited && r->tokens == 0) {
			/* Leave the rest in the ring until the refill. */
			if (r->timer < 0)
				r->timer = r->host->add_timer(r->dev, REFILL_NS,
							      0, refill, r);
			break;
		}
		if (r->vh->pop(q, &c) <= 0)
			break;
		uint32_t n = fill(r, q, &c, limited ? r->tokens : UINT64_MAX);

		if (limited)
			r->tokens -= n;
		r->vh->push(q, &c, n);
	}
	r->vh->notify(q);
}

static void refill(void *opaque)
{
	struct rng *r = opaque;
	uint64_t rate = r->opts.max_bytes_per_sec;
	uint64_t step;

	/* A tenth of the rate, the remainder carried to the next refill, so
	 * that ten refills add exactly `rate` (rounding each step up gave a
	 * rate of 15 twenty bytes a second). */
	r->tenths += rate;
	step = r->tenths / 10;
	r->tenths %= 10;
	r->timer = -1;
	r->tokens = r->tokens + step > rate ? rate : r->tokens + step;
	if (r->vh->status(r->vdev) & MVM_VIRTIO_STATUS_DRIVER_OK)
		process(r);
}

static void rng_notify(void *opaque, struct mvm_virtq *q, unsigned index)
{
	(void)q;
	(void)index;
	process(opaque);
}

static void rng_reset(void *opaque)
{
	struct rng *r = opaque;

	if (r->timer >= 0) {
		r->host->cancel_timer(r->dev, r->timer);
		r->timer = -1;
	}
}

static void rng_destroy(void *state)
{
	struct rng *r = state;

	if (!r)
		return;
	rng_reset(r);
	r->vh->destroy(r->vdev);
	free(r);
}

static int rng_create(mvm_dev *dev, const struct mvm_host *host,
		      const char *options, void **state)
{
	static const uint16_t qmax[1] = {RNG_QUEUE_SIZE};
	struct rng *r;
	int e;

	if (!MVM_HOST_HAS(host, virtio) || !host->virtio ||
	    !MVM_HOST_HAS(host->virtio, queue_ready)) {
		host->fail(dev, "this modvmm has no virtio transport");
		return -ENOTSUP;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->dev = dev;
	r->host = host;
	r->vh = host->virtio;
	r->timer = -1;
	e = host->parse_options(dev, rng_options, options, &r->opts);
	if (e < 0) {
		free(r);
		return e;
	}
	r->tokens = r->opts.max_bytes_per_sec;

	const struct mvm_virtio_device desc = {
		.size = sizeof(desc),
		.device_id = RNG_DEVICE_ID,
		.num_queues = 1,
		.queue_max = qmax,
		.reset = rng_reset,
		.queue_notify = rng_notify,
	};
	e = r->vh->create(dev, &desc, r, &r->vdev);
	if (e < 0) {
		free(r);
		return e;
	}
	*state = r;
	return 0;
}

/* The one system call of the rng's own (on the event-loop thread, filling
 * buffers): everything else goes through the host table. */
static const char *const rng_syscalls[] = {"getrandom", NULL};

MVM_PLUGIN_EXPORT const struct mvm_plugin mvm_plugin_descriptor = {
	MVM_PLUGIN_HEADER,
	.name = "rng",
	.version = "1.0",
	.description = "virtio entropy device (virtio-rng) fed by getrandom()",
	.options = rng_options,
	.create = rng_create,
	.destroy = rng_destroy,
	.syscalls = rng_syscalls,
};
