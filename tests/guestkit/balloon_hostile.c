/*
 * The balloon-hostile harness: device set-up, hand-built chains, waiting,
 * canaries. See balloon_hostile.h.
 */
#include "balloon_hostile.h"

#define LOW_END 0x100000ull
#define HOLE_START 0xa0000ull /* legacy VGA hole: scribbled on if backed */
#define HOLE_END 0xe0000ull
#define CHUNK 256ull /* memory map granule we classify low pages by */

struct kit_vdev bh_dev;
struct kit_virtq *bh_inflate, *bh_deflate, *bh_stats, *bh_report;
uint8_t bh_canary[BH_CANARY_PAGES][BH_PAGE] __attribute__((aligned(4096)));
uint8_t bh_victim[BH_VICTIM_PAGES][BH_PAGE] __attribute__((aligned(4096)));
uint32_t bh_low[BH_MAX_LOW];
unsigned bh_nlow;
struct bh_tally bh_tally;
const char *const bh_outcome_name[] = {"returned", "needs-reset", "stuck"};
uint32_t bh_pfns[BH_NBUF][BH_BUF_PFNS] __attribute__((aligned(64)));
enum bh_outcome bh_last;

static uint16_t raw_next[KIT_VDEV_MAX_QUEUES];

/* ---- the device */

bool bh_fresh(bool driver_ok)
{
	uint64_t want = 1ull << BH_F_STATS | 1ull << BH_F_REPORTING |
			1ull << VIRTIO_F_INDIRECT_DESC;
	struct kit_virtq **qs[4] = {&bh_inflate, &bh_deflate, &bh_stats,
				    &bh_report};
	bh_inflate = bh_deflate = bh_stats = bh_report = NULL;
	if (!kit_virtio_start(&bh_dev, want))
		return false;
	bool present[4] = {true, true, kit_vhas(&bh_dev, BH_F_STATS),
			   kit_vhas(&bh_dev, BH_F_REPORTING)};
	unsigned nq = 0;
	for (unsigned i = 0; i < 4; i++) {
		if (!present[i])
			continue;
		if (!kit_virtq_setup(&bh_dev, nq, KIT_VQ_MAX))
			return false;
		*qs[i] = &bh_dev.vq[nq];
		raw_next[nq++] = 0;
	}
	if (!kit_virtio_irq_enable(&bh_dev))
		return false;
	kit_virtio_take_isr(&bh_dev);
	if (!driver_ok)
		return true;
	kit_virtio_driver_ok(&bh_dev);
	if (bh_broken()) {
		kit_snprintf(kit_virtio_why, sizeof(kit_virtio_why),
			     "status 0x%x after DRIVER_OK",
			     kit_virtio_status(&bh_dev));
		return false;
	}
	return true;
}

bool bh_broken(void)
{
	uint32_t s = kit_virtio_status(&bh_dev);
	return (s & VIRTIO_STATUS_NEEDS_RESET) ||
	       !(s & VIRTIO_STATUS_DRIVER_OK);
}

void bh_post(struct kit_virtq *q, const struct bh_desc *d, unsigned n,
	     bool kick)
{
	unsigned half = q->num / 2u, at = raw_next[q->index];
	if (n > q->num)
		n = q->num;
	if (at < half || at + n > q->num)
		at = n <= q->num - half ? half : q->num - n;
	for (unsigned k = 0; k < n; k++)
		q->desc[at + k] = (struct kit_vring_desc){
			d[k].addr, d[k].len,
			(uint16_t)(d[k].flags |
				   (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
			(uint16_t)(at + k + 1)};
	raw_next[q->index] = (uint16_t)(at + n);
	kit_virtq_post_raw(q, (uint16_t)at);
	if (kick)
		kit_virtq_notify(q);
}

struct want {
	struct kit_virtq *q;
	unsigned count;
};

static bool arrived(void *arg)
{
	struct want *w = arg;
	return (uint16_t)(w->q->used->idx - w->q->last_used) >= w->count ||
	       (kit_virtio_status(&bh_dev) & VIRTIO_STATUS_NEEDS_RESET);
}

enum bh_outcome bh_wait(struct kit_virtq *q, unsigned count, uint32_t *written)
{
	struct want w = {q, count};
	unsigned got = 0;
	uint32_t wr = 0;
	kit_virtio_wait(arrived, &w, BH_WAIT_US, true);
	/* Not kit_virtq_get: the chain may be one we built by hand. */
	while (got < count && kit_virtq_has_used(q)) {
		wr |= q->used->ring[q->last_used & (q->num - 1)].len;
		q->last_used++;
		got++;
	}
	if (written)
		*written = wr;
	if (got == count)
		return BH_BACK;
	return kit_virtio_status(&bh_dev) & VIRTIO_STATUS_NEEDS_RESET
		       ? BH_NEEDS_RESET
		       : BH_STUCK;
}

static bool never(void *arg)
{
	(void)arg;
	return false;
}

void bh_settle(void)
{
	kit_virtio_wait(never, NULL, BH_SETTLE_US, true);
}

bool bh_works(char *why, size_t n)
{
	static uint32_t good[4] __attribute__((aligned(16)));
	struct kit_virtq *qs[2] = {bh_inflate, bh_deflate};
	for (unsigned k = 0; k < 4; k++)
		good[k] = bh_pfn(bh_victim[BH_VICTIM_PAGES - 4 + k]);
	for (unsigned k = 0; k < 2; k++) {
		const char *what = k ? "deflate" : "inflate";
		struct kit_vbuf b = {(uintptr_t)good, sizeof(good), false};
		if (kit_virtq_add(qs[k], &b, 1) < 0) {
			kit_snprintf(why, n, "%s: no free descriptor", what);
			return false;
		}
		kit_virtq_notify(qs[k]);
		if (!kit_virtq_wait(qs[k], BH_WAIT_US)) {
			kit_snprintf(why, n,
				     "%s of 4 good pages not back in 5 s "
				     "(status 0x%x)",
				     what, kit_virtio_status(&bh_dev));
			return false;
		}
		kit_virtq_get(qs[k], NULL, NULL);
	}
	bh_tally.inflated += 4;
	return true;
}

/* ---- what the cases share */

bool bh_fail(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kit_vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return false;
}

uint32_t bh_vpfn(unsigned i)
{
	return bh_pfn(bh_victim[i]);
}

uint32_t bh_cpfn(unsigned i)
{
	return bh_pfn(bh_canary[i % BH_CANARY_PAGES]);
}

uint64_t bh_caddr(unsigned i)
{
	return (uintptr_t)bh_canary[i];
}

void bh_canary_pfns(uint32_t *out, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		out[i] = bh_cpfn(i);
}

/* Marks victim pages, so that "reads zero" means given back. */
void bh_mark(unsigned first, unsigned n)
{
	for (unsigned i = first; i < first + n; i++)
		*(volatile uint64_t *)bh_victim[i] = 1;
}

unsigned bh_zeros(unsigned first, unsigned n)
{
	unsigned z = 0;
	for (unsigned i = first; i < first + n; i++)
		z += !*(volatile uint64_t *)bh_victim[i];
	return z;
}

/* Waits for one chain on q and reports it: returned (and, if `counted`,
 * a malformed buffer the device counts) or NEEDS_RESET (then set up
 * again) are fine; a hang is not. */
bool bh_finish(struct kit_virtq *q, const char *what, bool counted, char *why,
	       size_t n)
{
	enum bh_outcome o = bh_wait(q, 1, NULL);
	bh_last = o;
	kit_printf("kit:   %s: %s\n", what, bh_outcome_name[o]);
	if (o == BH_STUCK)
		return bh_fail(why, n,
			       "%s: neither returned nor NEEDS_RESET in 5 s "
			       "(status 0x%x)",
			       what, kit_virtio_status(&bh_dev));
	if (o == BH_BACK && counted)
		bh_tally.bad_buffers++;
	if (bh_broken() && !bh_fresh(true))
		return bh_fail(why, n, "%s: set-up after reset: %s", what,
			       kit_virtio_why);
	return true;
}

bool bh_post_one(struct kit_virtq *q, const struct bh_desc *d, unsigned nd,
		 bool counted, const char *what, char *why, size_t n)
{
	bh_post(q, d, nd, true);
	return bh_finish(q, what, counted, why, n);
}

bool bh_post_each(struct kit_virtq *q, const struct bh_desc *d,
		  const char *const *what, unsigned count, bool counted,
		  char *why, size_t n)
{
	for (unsigned i = 0; i < count; i++)
		if (!bh_post_one(q, &d[i], 1, counted, what[i], why, n))
			return false;
	return true;
}

/* A well-formed chain that must come back untouched. */
bool bh_must_return(struct kit_virtq *q, const struct bh_desc *d, unsigned nd,
		    const char *what, char *why, size_t n)
{
	uint32_t written;
	bh_post(q, d, nd, true);
	enum bh_outcome o = bh_wait(q, 1, &written);
	if (o != BH_BACK)
		return bh_fail(why, n, "%s: %s (status 0x%x)", what,
			       bh_outcome_name[o], kit_virtio_status(&bh_dev));
	if (written)
		return bh_fail(why, n,
			       "%s: used length %u for a readable buffer", what,
			       written);
	return true;
}

/* ---- the memory map */

bool bh_is_ram(uint64_t addr, uint64_t len)
{
	for (unsigned i = 0; i < kit_boot.nmem; i++) {
		const struct kit_mem_range *r = &kit_boot.mem[i];
		if (r->type == KIT_MEM_RAM && addr >= r->addr &&
		    addr + len <= r->addr + r->size)
			return true;
	}
	return false;
}

uint64_t bh_ram_top(void)
{
	uint64_t top = 0;
	for (unsigned i = 0; i < kit_boot.nmem; i++) {
		const struct kit_mem_range *r = &kit_boot.mem[i];
		if (r->type == KIT_MEM_RAM && r->addr + r->size > top)
			top = r->addr + r->size;
	}
	return top & ~(BH_PAGE - 1);
}

/* The type of the entry holding [a, a+len): 0 if none touches it, ~0u if
 * entries only cover part of it. */
static uint32_t map_type(uint64_t a, uint64_t len)
{
	for (unsigned i = 0; i < kit_boot.nmem; i++) {
		const struct kit_mem_range *r = &kit_boot.mem[i];
		if (a >= r->addr && a + len <= r->addr + r->size)
			return r->type;
		if (a < r->addr + r->size && r->addr < a + len)
			return ~0u;
	}
	return 0;
}

/* ---- canaries */

#define MAX_PROBES (2 * BH_MAX_LOW)

static struct {
	uint64_t addr, val;
} probes[MAX_PROBES];
static unsigned nprobes;

static uint64_t pattern(uint64_t addr)
{
	return 0xc0ffee5a17000000ull ^ addr * 0x9e3779b97f4a7c15ull;
}

static void fill(uint64_t addr, uint64_t len)
{
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)addr;
	for (uint64_t i = 0; i < len / 8; i++)
		p[i] = pattern(addr + 8 * i);
}

/* A low page that is not all RAM: the RAM part, and the legacy hole where
 * something backs it, get a pattern; reserved parts (ACPI tables) keep
 * theirs. Probes: its first and last non-zero words. */
static bool guard_low(uint64_t a)
{
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)a;
	bool backed = false;
	for (uint64_t off = 0; off < BH_PAGE; off += CHUNK) {
		uint32_t t = map_type(a + off, CHUNK);
		bool hole = t == 0 && a >= HOLE_START && a < HOLE_END;
		if (t == KIT_MEM_RAM || hole)
			fill(a + off, CHUNK);
		/* Nothing may back a hole (QEMU): then reading it is slow
		 * and tells nothing. */
		backed |= (t && t != ~0u) ||
			  (hole && p[off / 8] == pattern(a + off));
	}
	if (!backed)
		return false;
	unsigned first = BH_PAGE / 8, last = 0;
	for (unsigned i = 0; i < BH_PAGE / 8; i++) {
		if (!p[i])
			continue;
		if (first == BH_PAGE / 8)
			first = i;
		last = i;
	}
	if (first == BH_PAGE / 8 || nprobes + 2 > MAX_PROBES)
		return false; /* all zero: giving it back would not show */
	probes[nprobes].addr = a + 8 * first;
	probes[nprobes++].val = p[first];
	probes[nprobes].addr = a + 8 * last;
	probes[nprobes++].val = p[last];
	return true;
}

void bh_canary_init(bool verbose)
{
	fill((uintptr_t)bh_canary, sizeof(bh_canary));
	bh_nlow = 0;
	nprobes = 0;
	unsigned guarded = 0;
	for (uint64_t a = 0; a < LOW_END && bh_nlow < BH_MAX_LOW;
	     a += BH_PAGE) {
		if (bh_is_ram(a, BH_PAGE))
			continue;
		bh_low[bh_nlow++] = (uint32_t)(a / BH_PAGE);
		guarded += guard_low(a);
	}
	if (verbose)
		kit_printf(
			"kit: balloon-hostile canaries: %u kit pages at 0x%lx; "
			"%u low pages not RAM (PFN 0x%x-0x%x), %u of them "
			"non-zero\n",
			BH_CANARY_PAGES, (uint64_t)(uintptr_t)bh_canary,
			bh_nlow, bh_nlow ? bh_low[0] : 0,
			bh_nlow ? bh_low[bh_nlow - 1] : 0, guarded);
}

bool bh_canary_ok(char *why, size_t n)
{
	const volatile uint64_t *p = (const volatile uint64_t *)bh_canary;
	uint64_t base = (uintptr_t)bh_canary;
	for (unsigned i = 0; i < sizeof(bh_canary) / 8; i++) {
		if (p[i] != pattern(base + 8 * i)) {
			kit_snprintf(why, n,
				     "canary page 0x%lx changed at 0x%lx "
				     "(reads 0x%lx): given back?",
				     (base + 8 * i) & ~(BH_PAGE - 1),
				     base + 8 * i, p[i]);
			return false;
		}
	}
	for (unsigned i = 0; i < nprobes; i++) {
		uint64_t v = *(volatile uint64_t *)(uintptr_t)probes[i].addr;
		if (v != probes[i].val) {
			kit_snprintf(why, n,
				     "low page 0x%lx changed at 0x%lx "
				     "(0x%lx, was 0x%lx): given back?",
				     probes[i].addr & ~(BH_PAGE - 1),
				     probes[i].addr, v, probes[i].val);
			return false;
		}
	}
	return true;
}
