/*
 * balloon-hostile: the other queues and the device's life cycle. Free page
 * reporting chunks, statistics buffers, and resets racing queued buffers.
 * See prog_balloon_hostile.c for what each case expects.
 */
#include "balloon_hostile.h"

#define W VIRTQ_DESC_F_WRITE
#define FLOOD 256

struct stat_entry {
	uint16_t tag;
	uint64_t val;
} __attribute__((packed));
static struct stat_entry sbuf[3][12];

/* ---- free page reporting */

bool bh_report_unaligned(char *why, size_t n)
{
	const struct bh_desc d[3] = {{bh_caddr(0) + 0x800, 0x1000, W},
				     {bh_caddr(0), 0x1800, W},
				     {bh_caddr(1) + 4, 4, W}};
	const char *const what[3] = {"half a page in", "1.5 pages", "4 bytes"};
	return bh_post_each(bh_report, d, what, 3, true, why, n);
}

bool bh_report_readable(char *why, size_t n)
{
	struct bh_desc d = {bh_caddr(0), 0x2000, 0};
	return bh_post_one(bh_report, &d, 1, true, "readable", why, n);
}

bool bh_report_outside_ram(char *why, size_t n)
{
	uint64_t top = bh_ram_top();
	const struct bh_desc d[3] = {{top, 2u << 20, W},
				     {top - 0x1000, 0x2000, W},
				     {0xc0000000ull, 2u << 20, W}};
	const char *const what[3] = {"past RAM", "across RAM's end",
				     "MMIO hole"};
	return bh_post_each(bh_report, d, what, 3, false, why, n);
}

/* The run of low non-RAM pages that ends the first MiB, as one chunk. */
bool bh_report_low_reserved(char *why, size_t n)
{
	if (!bh_nlow) {
		kit_printf("kit:   all of the first MiB is RAM: skipped\n");
		return true;
	}
	unsigned i = bh_nlow - 1;
	while (i && bh_low[i - 1] + 1 == bh_low[i])
		i--;
	uint32_t pages = bh_low[bh_nlow - 1] + 1 - bh_low[i];
	struct bh_desc d = {(uint64_t)bh_low[i] * BH_PAGE,
			    pages * (uint32_t)BH_PAGE, W};
	kit_printf("kit:   0x%lx+0x%x\n", d.addr, d.len);
	if (!bh_post_one(bh_report, &d, 1, false, "chunk", why, n))
		return false;
	if (bh_last == BH_BACK)
		bh_tally.refused_pfns += pages;
	return true;
}

bool bh_report_mixed(char *why, size_t n)
{
	bh_mark(BH_V_REPORT, 3);
	const struct bh_desc d[3] = {
		{(uintptr_t)bh_victim[BH_V_REPORT], 0x1000, W},
		{bh_caddr(0) + 0x800, 0x1000, W},
		{(uintptr_t)bh_victim[BH_V_REPORT + 1], 0x2000, W}};
	if (!bh_post_one(bh_report, d, 3, true, "good, unaligned, good", why,
			 n))
		return false;
	kit_printf("kit:   %u of 3 good pages read zero\n",
		   bh_zeros(BH_V_REPORT, 3));
	return true;
}

/* ---- statistics */

static void stats_fill(struct stat_entry *e, uint64_t v)
{
	for (unsigned t = 0; t < 10; t++)
		e[t] = (struct stat_entry){(uint16_t)t, v + t};
	e[10] = (struct stat_entry){100, v};
	e[11] = (struct stat_entry){0xffff, ~v};
}

/* The device holds the newest buffer and gives the one before back. */
bool bh_stats_flood(char *why, size_t n)
{
	struct kit_virtq *q = bh_stats;
	unsigned back = 0;
	for (unsigned i = 0; i < FLOOD; i++) {
		while (!q->num_free) {
			if (!kit_virtq_wait(q, BH_WAIT_US))
				return bh_fail(why, n,
					       "buffer %u: none back in 5 s "
					       "(status 0x%x)",
					       i, kit_virtio_status(&bh_dev));
			kit_virtq_get(q, NULL, NULL);
			back++;
		}
		stats_fill(sbuf[i % 3], i);
		struct kit_vbuf b = {(uintptr_t)sbuf[i % 3], sizeof(sbuf[0]),
				     false};
		kit_virtq_add(q, &b, 1);
		kit_virtq_notify(q);
	}
	for (unsigned i = 0; i < 200; i++)
		kit_virtq_notify(q);
	kit_printf("kit:   %u buffers posted, %u back, then 200 kicks\n", FLOOD,
		   back);
	bh_tally.stats += back;
	return !bh_broken() ||
	       bh_fail(why, n, "status 0x%x", kit_virtio_status(&bh_dev));
}

/* Two good buffers on a fresh queue: the first comes back. */
static bool stats_serve(char *why, size_t n)
{
	for (unsigned i = 0; i < 2; i++) {
		stats_fill(sbuf[i], i);
		struct kit_vbuf b = {(uintptr_t)sbuf[i], sizeof(sbuf[0]),
				     false};
		kit_virtq_add(bh_stats, &b, 1);
		kit_virtq_notify(bh_stats);
	}
	if (!kit_virtq_wait(bh_stats, BH_WAIT_US))
		return bh_fail(why, n, "stats queue: nothing back in 5 s");
	kit_virtq_get(bh_stats, NULL, NULL);
	bh_tally.stats++;
	return true;
}

bool bh_stats_malformed(char *why, size_t n)
{
	uint64_t s = (uintptr_t)sbuf[0];
	stats_fill(sbuf[0], 7);
	const struct bh_desc d[7] = {
		{s, 0, 0},
		{s, 5, 0},
		{s, 100, W},
		{(uintptr_t)bh_victim[BH_V_RESET], 16 * BH_PAGE, 0},
		{s, 4, 0},
		{s + 4, 16, 0}, /* with the one before: an entry split */
		{BH_FAR_AWAY, 10, 0}};
	const unsigned len[6] = {1, 1, 1, 1, 2, 1};
	for (unsigned i = 0, k = 0; i < 6; k += len[i++]) {
		bh_post(bh_stats, &d[k], len[i], true);
		bh_settle();
		if (bh_broken())
			break;
	}
	kit_printf("kit:   empty, 5 bytes, writable, 64 KiB, split entry, "
		   "far away: status 0x%x\n",
		   kit_virtio_status(&bh_dev));
	if (!bh_fresh(true))
		return bh_fail(why, n, "set-up: %s", kit_virtio_why);
	return stats_serve(why, n);
}

/* ---- resets racing queued buffers */

static void reset_now(void)
{
	kit_vwrite(&bh_dev, VIRTIO_MMIO_STATUS, 0);
}

/* nb buffers of 4 victim PFNs on q, kicked after the last if kick. */
static void post_victims(struct kit_virtq *q, unsigned nb, bool kick)
{
	for (unsigned b = 0; b < nb; b++) {
		for (unsigned k = 0; k < 4; k++)
			bh_pfns[b][k] = bh_vpfn(BH_V_RESET + 4 * b + k);
		struct bh_desc d = {(uintptr_t)bh_pfns[b], 16, 0};
		bh_post(q, &d, 1, kick && b + 1 == nb);
	}
}

/* After a reset: the old buffers now name canary pages, and the old queue
 * is kicked. A device still serving it gives the canaries back. */
static bool after_reset(unsigned nb, unsigned qindex, char *why, size_t n)
{
	uint32_t s = kit_virtio_status(&bh_dev);
	for (unsigned b = 0; b < nb; b++)
		bh_canary_pfns(bh_pfns[b], 4);
	kit_vwrite(&bh_dev, VIRTIO_MMIO_QUEUE_NOTIFY, qindex);
	return !s || bh_fail(why, n, "status 0x%x after writing 0", s);
}

bool bh_reset_queued(char *why, size_t n)
{
	post_victims(bh_inflate, BH_NBUF, false);
	reset_now();
	bool ok = after_reset(BH_NBUF, 0, why, n);
	bh_settle();
	return ok;
}

static bool reset_kicked(struct kit_virtq **qp, char *why, size_t n)
{
	unsigned before = 0;
	for (unsigned r = 0; r < 8; r++) {
		if (r && !bh_fresh(true))
			return bh_fail(why, n, "set-up: %s", kit_virtio_why);
		struct kit_virtq *q = *qp;
		post_victims(q, BH_NBUF, true);
		reset_now();
		before += q->used->idx;
		if (!after_reset(BH_NBUF, q->index, why, n))
			return false;
	}
	bh_settle();
	kit_printf("kit:   %u of %u buffers came back before their reset\n",
		   before, 8 * BH_NBUF);
	return true;
}

bool bh_reset_inflate_kicked(char *why, size_t n)
{
	return reset_kicked(&bh_inflate, why, n);
}

bool bh_reset_deflate_kicked(char *why, size_t n)
{
	return reset_kicked(&bh_deflate, why, n);
}

bool bh_reset_report_kicked(char *why, size_t n)
{
	for (unsigned r = 0; r < 8; r++) {
		if (r && !bh_fresh(true))
			return bh_fail(why, n, "set-up: %s", kit_virtio_why);
		struct kit_virtq *q = bh_report;
		for (unsigned k = 0; k < 8; k++) {
			struct bh_desc d = {
				(uintptr_t)
					bh_victim[BH_V_RESET + 4 * r + k % 4],
				0x1000, W};
			bh_post(q, &d, 1, k == 7);
		}
		reset_now();
		uint32_t s = kit_virtio_status(&bh_dev);
		for (unsigned i = 0; i < q->num; i++)
			if (q->desc[i].len == 0x1000)
				q->desc[i].addr = bh_caddr(i % BH_CANARY_PAGES);
		kit_vwrite(&bh_dev, VIRTIO_MMIO_QUEUE_NOTIFY, q->index);
		if (s)
			return bh_fail(why, n, "status 0x%x after writing 0",
				       s);
	}
	bh_settle();
	return true;
}

/* The device holds a stats buffer when the driver resets it: that buffer
 * must never come back on the next set-up's queue. */
bool bh_reset_stats_held(char *why, size_t n)
{
	stats_fill(sbuf[0], 1);
	struct bh_desc d = {(uintptr_t)sbuf[0], sizeof(sbuf[0]), 0};
	bh_post(bh_stats, &d, 1, true);
	bh_settle();
	reset_now();
	if (!bh_fresh(true))
		return bh_fail(why, n, "set-up: %s", kit_virtio_why);
	/* Longer than the stats interval the host test uses (1 s). */
	for (unsigned i = 0; i < 8; i++)
		bh_settle();
	if (bh_stats->used->idx)
		return bh_fail(
			why, n,
			"the new stats queue got %u used elements before "
			"any buffer was posted",
			bh_stats->used->idx);
	return stats_serve(why, n);
}

bool bh_reset_storm(char *why, size_t n)
{
	for (unsigned r = 0; r < 32; r++) {
		if (r && !bh_fresh(true))
			return bh_fail(why, n, "set-up %u: %s", r,
				       kit_virtio_why);
		post_victims(bh_inflate, 4, true);
		reset_now();
		if (!after_reset(4, 0, why, n))
			return false;
	}
	bh_settle();
	return true;
}

/* Buffers before DRIVER_OK (virtio 1.2, 3.1.1: the device must not use
 * them yet), then a reset. */
bool bh_reset_before_driver_ok(char *why, size_t n)
{
	if (!bh_fresh(false))
		return bh_fail(why, n, "set-up: %s", kit_virtio_why);
	post_victims(bh_inflate, 1, true);
	bh_settle();
	kit_printf("kit:   %u of 1 buffer used before DRIVER_OK\n",
		   bh_inflate->used->idx);
	reset_now();
	bool ok = after_reset(1, 0, why, n);
	bh_settle();
	return ok;
}
