/*
 * balloon: a virtio-balloon driver (device id 5) that behaves as Linux's
 * virtio_balloon (6.1) does, for host tests of a balloon device.
 *
 * Features: VERSION_1, plus DEFLATE_ON_OOM, STATS_VQ and REPORTING when
 * offered (deflate_on_oom=off, stats=off, reporting=off refuse them).
 * Queues: inflate 0, deflate 1, then stats, then reporting, each only if
 * negotiated; the next index must have QueueNumMax 0.
 *
 * Memory: the program owns the RAM above the kit image (2 MiB aligned,
 * from the memory map), as page indices 0..N. The balloon holds pages
 * [0, balloon); "touched" pages (dirtied, then free, as a guest that
 * freed memory) lie just above it, so inflating takes them first. A page
 * is touched with one 8-byte write: that is what makes host RSS grow.
 *
 * Arguments:
 *   touch=SIZE    touch that much first ("kit: touched SIZE in MS ms");
 *                 after a deflate the same amount above the balloon is
 *                 touched again ("kit: retouched SIZE in MS ms")
 *   report=SIZE   then report that much as free, 2 MiB chunks, up to 32
 *                 per buffer ("kit: reported SIZE")
 *   oom=SIZE      then, if DEFLATE_ON_OOM was negotiated, deflate SIZE in
 *                 1 MiB steps unasked, like Linux's OOM notifier
 *   wait=on       then wait for config changes until the VM is stopped;
 *   cycles=N      ... or until N targets were reached after changes;
 *   exit_after=S  ... or S seconds passed
 *   expect_features=oom,stats,reporting|none   check what was negotiated
 * On every config change it moves toward num_pages in buffers of at most
 * 256 PFNs, writes `actual` after each, and prints
 * "kit: balloon actual=PAGES target=PAGES" once there. The stats buffer
 * (tags 0..9) is re-posted whenever the device returns it
 * ("kit: balloon stats N ...").
 */
#include "virtio.h"

#define PAGE 4096ull
#define CHUNK (2ull << 20)
#define CHUNK_PAGES 512u
#define MAX_PFNS 256u
#define REPORT_MAX 32u
#define F_STATS 1
#define F_OOM 2
#define F_REPORTING 5
#define CFG_NUM_PAGES 0
#define CFG_ACTUAL 4
#define TIMEOUT_US 20000000ull
#define MAX_OWN 16

extern char __stack_top[];

static struct kit_vdev dev;
static struct kit_virtq *q_inflate, *q_deflate, *q_stats, *q_report;
static uint32_t pfns[MAX_PFNS] __attribute__((aligned(64)));

static struct {
	uint64_t addr, pages;
} own[MAX_OWN];
static unsigned nown;
static uint64_t own_pages;
static uint64_t balloon; /* pages in the balloon: indices [0, balloon) */
static uint64_t touch_pages;
static bool failed;

/* ---- the owned region */

static void own_init(void)
{
	uint64_t lo = ((uintptr_t)__stack_top + CHUNK - 1) & ~(CHUNK - 1);
	for (unsigned i = 0; i < kit_boot.nmem && nown < MAX_OWN; i++) {
		const struct kit_mem_range *r = &kit_boot.mem[i];
		if (r->type != KIT_MEM_RAM)
			continue;
		uint64_t a = (r->addr + CHUNK - 1) & ~(CHUNK - 1);
		uint64_t e = (r->addr + r->size) & ~(CHUNK - 1);
		if (a < lo)
			a = lo;
		if (e <= a)
			continue;
		own[nown].addr = a;
		own[nown].pages = (e - a) / PAGE;
		own_pages += own[nown++].pages;
	}
}

/* Calls fn(addr, pages) for the physical runs behind [idx, idx + n). */
static void own_runs(uint64_t idx, uint64_t n,
		     void (*fn)(uint64_t addr, uint64_t pages, void *arg),
		     void *arg)
{
	for (unsigned i = 0; i < nown && n; i++) {
		if (idx >= own[i].pages) {
			idx -= own[i].pages;
			continue;
		}
		uint64_t k = own[i].pages - idx;
		if (k > n)
			k = n;
		fn(own[i].addr + idx * PAGE, k, arg);
		n -= k;
		idx = 0;
	}
}

static void touch_run(uint64_t addr, uint64_t pages, void *arg)
{
	(void)arg;
	/* One 2 MiB window at a time (kit_phys maps memory above 4 GiB). */
	while (pages) {
		uint64_t in = (CHUNK - (addr & (CHUNK - 1))) / PAGE;
		if (in > pages)
			in = pages;
		volatile uint64_t *p = kit_phys(addr);
		uint64_t pfn = addr / PAGE;
		for (uint64_t j = 0; j < in; j++)
			p[j * (PAGE / 8)] = pfn + j;
		addr += in * PAGE;
		pages -= in;
	}
}

struct zero_count {
	uint64_t zero, sampled;
};

/* One page per 2 MiB: does memory given back read as zero now? */
static void zero_run(uint64_t addr, uint64_t pages, void *arg)
{
	struct zero_count *z = arg;
	for (uint64_t j = 0; j < pages; j += CHUNK_PAGES) {
		z->sampled++;
		z->zero += !*(volatile uint64_t *)kit_phys(addr + j * PAGE);
	}
}

struct pfn_fill {
	uint32_t *out;
};

static void pfn_run(uint64_t addr, uint64_t pages, void *arg)
{
	struct pfn_fill *f = arg;
	uint32_t pfn = (uint32_t)(addr / PAGE);
	for (uint64_t j = 0; j < pages; j++)
		*f->out++ = pfn + (uint32_t)j;
}

static uint64_t clamp_own(uint64_t idx, uint64_t n)
{
	return idx >= own_pages ? 0
				: (n > own_pages - idx ? own_pages - idx : n);
}

static void touch(const char *verb)
{
	uint64_t n = clamp_own(balloon, touch_pages);
	char sz[24];
	if (!n)
		return;
	/* Timed in the guest (TSC, calibrated against the PIT): bench/memory
	 * compares VMMs by this on the same guest. */
	uint64_t t0 = rdtsc();
	own_runs(balloon, n, touch_run, NULL);
	uint64_t us = (rdtsc() - t0) * 1000 / kit_tsc_khz();
	kit_printf("kit: %s %s in %lu.%03lu ms\n", verb,
		   kit_fmt_size(sz, n * PAGE), (unsigned long)(us / 1000),
		   (unsigned long)(us % 1000));
}

/* ---- the device */

static uint32_t target(void)
{
	uint32_t v = 0;
	if (!kit_virtio_cfg_read(&dev, CFG_NUM_PAGES, &v, 4))
		kit_printf("kit: balloon: %s\n", kit_virtio_why);
	return v;
}

static bool fail(const char *check, const char *why)
{
	kit_check(false, check, "%s (status 0x%x)", why,
		  kit_virtio_status(&dev));
	failed = true;
	return false;
}

/* Posts one buffer and waits until the device gives it back. */
static bool transfer(struct kit_virtq *q, const struct kit_vbuf *b, unsigned n,
		     const char *check)
{
	if (kit_virtq_add(q, b, n) < 0)
		return fail(check, "no free descriptors");
	kit_virtq_kick(q);
	if (!kit_virtq_wait(q, TIMEOUT_US))
		return fail(check, "buffer not returned in 20 s");
	kit_virtq_get(q, NULL, NULL);
	return true;
}

/* One inflate or deflate buffer of n PFNs from index idx. */
static bool move_pages(struct kit_virtq *q, uint64_t idx, unsigned n)
{
	struct pfn_fill f = {pfns};
	own_runs(idx, n, pfn_run, &f);
	struct kit_vbuf b = {(uintptr_t)pfns, n * 4, false};
	if (!transfer(q, &b, 1,
		      q == q_inflate ? "balloon.inflate" : "balloon.deflate"))
		return false;
	balloon = q == q_inflate ? balloon + n : balloon - n;
	kit_virtio_cfg_write32(&dev, CFG_ACTUAL, (uint32_t)balloon);
	return true;
}

/* Moves toward num_pages (re-read after each buffer, as Linux does).
 * Returns whether it deflated. */
static bool adjust(bool *deflated)
{
	uint32_t t = target();
	bool warned = false, moved = false;
	while (!failed && t != balloon) {
		if (t > balloon) {
			uint64_t n = clamp_own(balloon, t - balloon);
			if (n > MAX_PFNS)
				n = MAX_PFNS;
			if (!n) {
				if (!warned)
					kit_printf("kit: balloon: target %u "
						   "pages, but only %lu are "
						   "owned\n",
						   t, own_pages);
				warned = true;
				break;
			}
			if (!move_pages(q_inflate, balloon, (unsigned)n))
				return false;
		} else {
			uint64_t n = balloon - t;
			if (n > MAX_PFNS)
				n = MAX_PFNS;
			if (!move_pages(q_deflate, balloon - n, (unsigned)n))
				return false;
			*deflated = true;
		}
		moved = true;
		t = target();
	}
	kit_printf("kit: balloon actual=%lu target=%u\n", balloon, t);
	return moved;
}

/* ---- statistics (spec 5.5.6.3): 10-byte entries, tags 0..9 */
struct stat {
	uint16_t tag;
	uint64_t val;
} __attribute__((packed));
static struct stat stats[10];
static unsigned stats_refreshes;

static void stats_fill(void)
{
	uint64_t free = (own_pages - balloon) * PAGE;
	uint64_t total = kit_ram_total();
	if (!kit_vhas(&dev, F_OOM))
		total -= balloon * PAGE; /* as Linux: MemTotal drops */
	const uint64_t v[10] = {0, 0, 0, stats_refreshes, free, total, free,
				0, 0, 0};
	for (unsigned i = 0; i < 10; i++) {
		stats[i].tag = (uint16_t)i;
		stats[i].val = v[i];
	}
}

static void stats_post(void)
{
	stats_fill();
	struct kit_vbuf b = {(uintptr_t)stats, sizeof(stats), false};
	if (kit_virtq_add(q_stats, &b, 1) < 0)
		fail("balloon.stats", "no free descriptor");
	kit_virtq_kick(q_stats);
}

static void stats_poll(void)
{
	if (!q_stats || !kit_virtq_get(q_stats, NULL, NULL))
		return;
	stats_refreshes++;
	stats_post();
	char f[24];
	kit_printf("kit: balloon stats %u free=%s\n", stats_refreshes,
		   kit_fmt_size(f, stats[4].val));
}

/* ---- free page reporting: device-writable 2 MiB chunks */
static void report(uint64_t bytes)
{
	uint64_t idx = (balloon + CHUNK_PAGES - 1) / CHUNK_PAGES * CHUNK_PAGES;
	uint64_t chunks = clamp_own(idx, bytes / PAGE) / CHUNK_PAGES, done = 0;
	unsigned per = q_report->num < REPORT_MAX ? q_report->num : REPORT_MAX;
	struct kit_vbuf b[REPORT_MAX];
	uint64_t t0 = rdtsc();
	while (done < chunks && !failed) {
		unsigned n = 0;
		for (; n < per && done + n < chunks; n++) {
			struct pfn_fill f = {pfns};
			own_runs(idx + (done + n) * CHUNK_PAGES, 1, pfn_run,
				 &f);
			b[n] = (struct kit_vbuf){(uint64_t)pfns[0] * PAGE,
						 CHUNK, true};
		}
		if (!transfer(q_report, b, n, "balloon.report"))
			return;
		done += n;
	}
	char sz[24];
	kit_printf("kit: reported %s in %lu us\n",
		   kit_fmt_size(sz, done * CHUNK),
		   (unsigned long)kit_tsc_to_us(rdtsc() - t0));
}

/* Deflate without being asked, 1 MiB at a time, as the OOM notifier. */
static void oom(uint64_t bytes)
{
	if (!kit_vhas(&dev, F_OOM)) {
		kit_printf("kit: balloon oom: DEFLATE_ON_OOM not negotiated, "
			   "nothing given back\n");
		return;
	}
	uint64_t steps = bytes >> 20, done = 0;
	while (done < steps && balloon && !failed) {
		unsigned n = balloon < 256 ? (unsigned)balloon : 256;
		if (!move_pages(q_deflate, balloon - n, n))
			return;
		done++;
	}
	kit_printf("kit: balloon oom deflated %lu MiB actual=%lu target=%u\n",
		   (unsigned long)done, balloon, target());
}

static bool setup(void)
{
	uint64_t want = kit_arg_feature("deflate_on_oom", F_OOM) |
			kit_arg_feature("stats", F_STATS) |
			kit_arg_feature("reporting", F_REPORTING) |
			kit_arg_feature("event_idx", VIRTIO_F_EVENT_IDX);
	if (!kit_virtio_find(VIRTIO_ID_BALLOON, 0, &dev, true) ||
	    !kit_virtio_start(&dev, want))
		return kit_vcheck(false, "balloon.init");
	bool ok = true;
	unsigned nq = 0;
	struct kit_virtq **qs[4] = {&q_inflate, &q_deflate, &q_stats,
				    &q_report};
	bool present[4] = {true, true, kit_vhas(&dev, F_STATS),
			   kit_vhas(&dev, F_REPORTING)};
	for (unsigned i = 0; i < 4; i++) {
		if (!present[i])
			continue;
		ok = kit_virtq_setup(&dev, nq, KIT_VQ_MAX);
		if (!ok)
			break;
		*qs[i] = &dev.vq[nq++];
	}
	ok = ok && kit_virtio_irq_enable(&dev);
	if (!kit_vcheck(ok, "balloon.init"))
		return false;
	uint32_t absent = kit_virtio_queue_max(&dev, nq);
	kit_check(!absent, "balloon.queues",
		  "queue %u should not exist, QueueNumMax %u", nq, absent);
	if (q_report)
		kit_check(q_report->num >= 32, "balloon.report_queue",
			  "reporting queue has %u entries, Linux needs 32",
			  q_report->num);
	kit_virtio_driver_ok(&dev);
	kit_printf("kit: balloon features 0x%lx (offered 0x%lx):%s%s%s, "
		   "queues %u\n",
		   dev.features, dev.offered,
		   kit_vhas(&dev, F_OOM) ? " deflate_on_oom" : "",
		   kit_vhas(&dev, F_STATS) ? " stats" : "",
		   kit_vhas(&dev, F_REPORTING) ? " reporting" : "", nq);
	size_t len;
	const char *ex = kit_arg("expect_features", &len);
	if (ex) {
		bool ok =
			kit_list_has(ex, len, "oom") == kit_vhas(&dev, F_OOM) &&
			kit_list_has(ex, len, "stats") ==
				kit_vhas(&dev, F_STATS) &&
			kit_list_has(ex, len, "reporting") ==
				kit_vhas(&dev, F_REPORTING);
		kit_check(ok, "balloon.features",
			  "negotiated 0x%lx, expected %.*s", dev.features,
			  (int)len, ex);
	}
	if (q_stats)
		stats_post(); /* Linux primes it at probe */
	return true;
}

struct wake {
	uint64_t deadline;
};

static bool something(void *arg)
{
	struct wake *w = arg;
	return dev.isr || (q_stats && kit_virtq_has_used(q_stats)) ||
	       (w->deadline && rdtsc() > w->deadline);
}

static void after_deflate(bool deflated, uint64_t old)
{
	if (!deflated || !touch_pages)
		return;
	/* The pages that came back: read as zero if the host discarded
	 * them (not required by the spec: information only). */
	struct zero_count z = {0, 0};
	if (old > balloon)
		own_runs(balloon, old - balloon, zero_run, &z);
	kit_printf("kit: balloon: %lu of %lu sampled deflated pages read "
		   "zero\n",
		   z.zero, z.sampled);
	touch("retouched");
}

static void run(void)
{
	own_init();
	char sz[24];
	kit_printf("kit: balloon owns %s above the kit (%u ranges)\n",
		   kit_fmt_size(sz, own_pages * PAGE), nown);
	if (!setup())
		return;
	kit_tsc_khz();
	bool deflated = false;
	uint64_t old = balloon;
	adjust(&deflated);
	touch_pages = kit_arg_size("touch", 0) / PAGE;
	touch("touched");
	uint64_t rep = kit_arg_size("report", 0);
	if (rep && !failed) {
		if (q_report)
			report(rep);
		else
			kit_printf("kit: balloon: no reporting queue, nothing "
				   "reported\n");
	}
	uint64_t oom_bytes = kit_arg_size("oom", 0);
	if (oom_bytes && !failed)
		oom(oom_bytes);
	(void)old;
	uint64_t cycles = kit_arg_size("cycles", 0);
	uint64_t exit_after = kit_arg_size("exit_after", 0);
	bool wait = kit_arg_onoff("wait", false) || cycles || exit_after;
	kit_printf("kit: balloon ready\n");
	struct wake w = {0};
	if (exit_after)
		w.deadline = rdtsc() + exit_after * kit_tsc_khz() * 1000;
	uint64_t reached = 0;
	while (wait && !failed) {
		kit_virtio_wait(something, &w, 1000000, true);
		stats_poll();
		uint32_t isr = kit_virtio_take_isr(&dev);
		if (kit_virtio_status(&dev) & VIRTIO_STATUS_NEEDS_RESET) {
			fail("balloon.device", "device needs reset");
			break;
		}
		if (isr & VIRTIO_INT_CONFIG) {
			deflated = false;
			old = balloon;
			if (adjust(&deflated))
				reached++;
			after_deflate(deflated, old);
		}
		if ((cycles && reached >= cycles) ||
		    (w.deadline && rdtsc() > w.deadline))
			break;
	}
	if (!failed)
		kit_check(true, "balloon", "-");
	kit_virtio_irq_disable(&dev);
	kit_virtio_reset(&dev);
}

const struct kit_program kit_prog_balloon = {"balloon", run};
