/*
 * virtio-rng [bytes=1M] [buf=4K] [inflight=8] [irq=on] [event_idx=on]
 *   Reads `bytes` of entropy from the first virtio-rng device (id 4) in
 *   buffers of `buf`, keeping `inflight` of them posted, waiting by
 *   interrupt (or polling with irq=off). Checks every buffer came back,
 *   the byte histogram of a sample (one byte in 256, each buffer zeroed
 *   before it is posted) is not degenerate, and prints the elapsed time
 *   and throughput: "kit: virtio-rng: 1048576 bytes in N us, X.YZ MiB/s".
 *
 * virtio-rng-notify [count=1000] [size=64] [irq=off]
 *   One buffer at a time: post, notify, wait for it to be used. Prints the
 *   median, minimum and maximum notify -> used round trip in us.
 *
 * Both compare modvmm with QEMU's virtio-rng-device on the same kit image
 * (bench/).
 */
#include "virtio.h"

#define POOL (64u << 10)
#define MAX_SAMPLES 4096u
#define TIMEOUT_US 5000000u

static uint8_t pool[POOL] __attribute__((aligned(4096)));
static uint32_t samples[MAX_SAMPLES];
static uint32_t hist[256];

static uint64_t rng_features(void)
{
	return kit_arg_feature("event_idx", VIRTIO_F_EVENT_IDX) |
	       kit_arg_feature("indirect", VIRTIO_F_INDIRECT_DESC);
}

static void print_rate(const char *what, uint64_t bytes, uint64_t us)
{
	uint64_t centi = us ? bytes * 100 * 1000000 / us / (1 << 20) : 0;
	kit_printf("kit: %s: %lu bytes in %lu us, %lu.%02lu MiB/s\n", what,
		   (unsigned long)bytes, (unsigned long)us,
		   (unsigned long)(centi / 100), (unsigned long)(centi % 100));
}

/* One byte in 256 of the buffer, at an offset that moves from post to
 * post so every position is sampled over a run. Only the sampled bytes are
 * zeroed before posting: a memset of the buffer would cost ~2 ms here. */
static void clear_samples(uint8_t *b, uint32_t len, unsigned off)
{
	for (uint32_t i = off; i < len; i += 256)
		b[i] = 0;
}

static void sample(const uint8_t *b, uint32_t len, unsigned off)
{
	for (uint32_t i = off; i < len; i += 256)
		hist[b[i]]++;
}

static void rng(void)
{
	struct kit_vdev d;
	uint64_t bytes = kit_arg_size("bytes", 1 << 20);
	uint64_t buf = kit_arg_size("buf", 4096);
	uint64_t inflight = kit_arg_size("inflight", 8);
	bool irq = kit_arg_onoff("irq", true);

	if (!buf || buf > POOL || buf > 0xffffffffu)
		buf = 4096;
	if (!inflight || inflight * buf > POOL)
		inflight = POOL / buf;
	if (!kit_vcheck(kit_virtio_open(&d, VIRTIO_ID_RNG, rng_features(), 1,
					KIT_VQ_MAX, irq),
			"virtio-rng.init"))
		return;
	struct kit_virtq *q = &d.vq[0];
	if (inflight > q->num)
		inflight = q->num;
	kit_printf("kit: virtio-rng: features 0x%lx, queue %u, %lu x %lu "
		   "bytes in flight, %s\n",
		   d.features, q->num, (unsigned long)inflight,
		   (unsigned long)buf, irq ? "interrupts" : "polling");
	kit_tsc_khz(); /* calibrate before timing */

	uint8_t which[KIT_VQ_MAX]; /* head -> pool slot */
	uint8_t off[KIT_VQ_MAX];   /* pool slot -> sampled offset */
	uint64_t got = 0, out = 0, check_cycles = 0, zero_len = 0;
	unsigned seq = 0, waits = 0;
	uint64_t t0 = rdtsc();
	for (unsigned i = 0; i < inflight && out * buf < bytes; i++) {
		struct kit_vbuf b = {(uintptr_t)(pool + i * buf), (uint32_t)buf,
				     true};
		off[i] = (uint8_t)(seq++ * 37);
		clear_samples(pool + i * buf, (uint32_t)buf, off[i]);
		int h = kit_virtq_add(q, &b, 1);
		which[h] = (uint8_t)i;
		out++;
	}
	kit_virtq_kick(q);
	while (got < bytes) {
		if (!kit_virtq_wait(q, TIMEOUT_US)) {
			kit_check(false, "virtio-rng.read",
				  "no used buffer in %u s after %lu bytes "
				  "(status 0x%x)",
				  TIMEOUT_US / 1000000, (unsigned long)got,
				  kit_virtio_status(&d));
			return;
		}
		waits++;
		uint16_t head;
		uint32_t len;
		bool repost = false;
		while (kit_virtq_get(q, &head, &len)) {
			if (head >= q->num || len > buf) {
				kit_check(false, "virtio-rng.read",
					  "used element id %u len %u (buffer "
					  "%lu)",
					  head, len, (unsigned long)buf);
				return;
			}
			unsigned slot = which[head];
			uint8_t *p = pool + slot * buf;
			uint64_t c0 = rdtsc();
			sample(p, len, off[slot]);
			check_cycles += rdtsc() - c0;
			got += len;
			out--;
			zero_len += !len;
			if (zero_len > 64) {
				kit_check(false, "virtio-rng.read",
					  "64 buffers came back empty");
				return;
			}
			if (got + out * buf < bytes) {
				off[slot] = (uint8_t)(seq++ * 37);
				clear_samples(p, (uint32_t)buf, off[slot]);
				struct kit_vbuf b = {(uintptr_t)p,
						     (uint32_t)buf, true};
				which[kit_virtq_add(q, &b, 1)] = (uint8_t)slot;
				out++;
				repost = true;
			}
		}
		if (repost)
			kit_virtq_kick(q);
	}
	uint64_t t1 = rdtsc();
	uint64_t us = kit_tsc_to_us(t1 - t0 - check_cycles);
	kit_check(true, "virtio-rng.read", "-");
	print_rate("virtio-rng", got, us);
	kit_printf("kit: virtio-rng: %u waits, %u interrupts, %lu us "
		   "checking data (not counted)\n",
		   waits, d.irqs, (unsigned long)kit_tsc_to_us(check_cycles));

	uint32_t n = 0, max = 0, empty = 0;
	for (unsigned i = 0; i < 256; i++) {
		n += hist[i];
		if (hist[i] > max)
			max = hist[i];
		empty += !hist[i];
	}
	/* A uniform sample of n bytes puts n/256 in each bin; 4x that in one
	 * bin or several empty bins means the data is not random. */
	uint32_t limit = 4 * (n / 256) + 16;
	kit_check(n >= 256 && max <= limit && empty <= (n >= 4096 ? 2 : 256),
		  "virtio-rng.random",
		  "%u samples: fullest bin %u (limit %u), %u bins empty", n,
		  max, limit, empty);
	kit_printf("kit: virtio-rng: %u samples, fullest bin %u, empty bins "
		   "%u\n",
		   n, max, empty);
	if (irq) {
		/* When the device is always ahead, no wait ever halted and the
		 * interrupt is still pending in the LAPIC: take it now. */
		kit_virtio_irq_window();
		kit_check(d.irqs > 0, "virtio-rng.interrupts",
			  "no interrupt arrived");
	}
	kit_virtio_reset(&d);
}

/* Quickselect: the k-th smallest of a[0..n). */
static uint32_t select_kth(uint32_t *a, unsigned n, unsigned k)
{
	unsigned lo = 0, hi = n - 1;
	while (lo < hi) {
		uint32_t pivot = a[(lo + hi) / 2];
		unsigned i = lo, j = hi;
		while (i <= j) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i <= j) {
				uint32_t t = a[i];
				a[i] = a[j];
				a[j] = t;
				i++;
				if (!j)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return a[k];
}

static void rng_notify(void)
{
	struct kit_vdev d;
	uint64_t count = kit_arg_size("count", 1000);
	uint64_t size = kit_arg_size("size", 64);
	bool irq = kit_arg_onoff("irq", false);

	if (!count || count > MAX_SAMPLES)
		count = MAX_SAMPLES;
	if (!size || size > POOL)
		size = 64;
	if (!kit_vcheck(kit_virtio_open(&d, VIRTIO_ID_RNG, rng_features(), 1,
					KIT_VQ_MAX, irq),
			"virtio-rng-notify.init"))
		return;
	struct kit_virtq *q = &d.vq[0];
	kit_tsc_khz();
	struct kit_vbuf b = {(uintptr_t)pool, (uint32_t)size, true};
	uint64_t min = ~0ull, max = 0, total = 0;
	for (unsigned i = 0; i < count; i++) {
		uint64_t t0 = rdtsc();
		kit_virtq_add(q, &b, 1);
		kit_virtq_notify(q);
		if (!kit_virtq_wait(q, TIMEOUT_US)) {
			kit_check(false, "virtio-rng-notify",
				  "round trip %u: no used buffer in %u s", i,
				  TIMEOUT_US / 1000000);
			return;
		}
		uint64_t dt = rdtsc() - t0;
		kit_virtq_get(q, NULL, NULL);
		samples[i] = dt > 0xffffffffu ? 0xffffffffu : (uint32_t)dt;
		total += dt;
		if (dt < min)
			min = dt;
		if (dt > max)
			max = dt;
	}
	uint64_t med =
		select_kth(samples, (unsigned)count, (unsigned)count / 2);
	uint64_t khz = kit_tsc_khz();
	/* Tenths of a microsecond: cycles * 10000 / kHz. */
	uint64_t m10 = med * 10000 / khz, a10 = total / count * 10000 / khz;
	kit_printf("kit: virtio-rng-notify: %lu round trips of %lu bytes (%s): "
		   "median %lu.%lu us, mean %lu.%lu us, min %lu us, max %lu "
		   "us\n",
		   (unsigned long)count, (unsigned long)size,
		   irq ? "interrupts" : "polling", (unsigned long)(m10 / 10),
		   (unsigned long)(m10 % 10), (unsigned long)(a10 / 10),
		   (unsigned long)(a10 % 10), (unsigned long)kit_tsc_to_us(min),
		   (unsigned long)kit_tsc_to_us(max));
	kit_check(true, "virtio-rng-notify", "-");
	kit_virtio_reset(&d);
}

const struct kit_program kit_prog_virtio_rng = {"virtio-rng", rng};
const struct kit_program kit_prog_virtio_rng_notify = {"virtio-rng-notify",
						       rng_notify};
