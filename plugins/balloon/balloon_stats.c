/*
 * The statistics queue (spec 5.5.6.3): the driver posts one buffer of
 * (u16 tag, u64 value) entries; the device keeps it and gives it back when
 * it wants fresh numbers, every `stats` seconds. Every tag is kept, known
 * or not, so a newer guest's statistics still show up (by number).
 */
#include <errno.h>
#include <string.h>

#include "balloon_stats.h"

#define STAT_ENTRY_SIZE 10 /* packed: u16 tag, u64 value */

static const char *const stat_names[] = {
	"swap-in",          "swap-out",     "major-faults",
	"minor-faults",     "free-memory",  "total-memory",
	"available-memory", "disk-caches",  "hugetlb-allocations",
	"hugetlb-failures", "oom-kills",    "alloc-stalls",
	"async-scans",      "direct-scans", "async-reclaims",
	"direct-reclaims",
};

const char *balloon_stat_name(uint16_t tag)
{
	return tag < sizeof(stat_names) / sizeof(*stat_names) ? stat_names[tag]
							      : NULL;
}

static void store(struct balloon *b, uint16_t tag, uint64_t value)
{
	for (unsigned i = 0; i < b->nstats; i++) {
		if (b->stats[i].tag == tag) {
			b->stats[i].value = value;
			return;
		}
	}
	if (b->nstats < BALLOON_STATS_MAX_TAGS)
		b->stats[b->nstats++] = (struct balloon_stat){tag, value};
}

/* Why a stats buffer's layout is malformed, or NULL. Spec 5.5.6.3: the
 * driver hands the device an output buffer of 10-byte entries. An empty
 * buffer is not malformed: it is how the channel becomes active at driver
 * initialization. */
static const char *layout_fault(const struct mvm_virtq_chain *c)
{
	if (c->writable)
		return "has device-writable segments: ignored";
	if (c->readable % STAT_ENTRY_SIZE)
		return "is not a whole number of 10-byte entries: ignored";
	return NULL;
}

/* Reads the chain's entries (the first BALLOON_STATS_MAX_TAGS) and keeps
 * them, all or, if one cannot be read, none. */
static int read_stats(struct balloon *b, struct mvm_virtq *q,
		      const struct mvm_virtq_chain *c)
{
	uint8_t e[BALLOON_STATS_MAX_TAGS][STAT_ENTRY_SIZE];
	uint64_t n = c->readable / STAT_ENTRY_SIZE;

	if (n > BALLOON_STATS_MAX_TAGS)
		n = BALLOON_STATS_MAX_TAGS;
	if (n && b->vio->chain_read(q, c, 0, e, n * STAT_ENTRY_SIZE) !=
			 n * STAT_ENTRY_SIZE)
		return -EIO;
	for (uint64_t i = 0; i < n; i++) {
		uint16_t tag;
		uint64_t val;

		memcpy(&tag, e[i], 2);
		memcpy(&val, e[i] + 2, 8);
		store(b, tag, val);
	}
	if (n) {
		b->stats_ns = balloon_now_ns();
		b->stats_actual = b->actual;
		b->count.stats_updates++;
	}
	return 0;
}

void balloon_stats_notify(struct balloon *b, struct mvm_virtq *q)
{
	struct mvm_virtq_chain c;

	while (b->vio->pop(q, &c) == 1) {
		bool twice = b->stats_held;
		const char *why = layout_fault(&c);

		/* The driver makes at most one buffer available (5.5.6.3.1):
		 * a second one while one is held is a confused driver. Give
		 * the old one back so it is never leaked; the new one's
		 * statistics are still good if its layout is. */
		if (twice) {
			b->vio->push(q, &b->stats_chain, 0);
			b->stats_held = false;
		}
		if (!why && read_stats(b, q, &c) < 0)
			why = "cannot be read: ignored";
		if (!why && twice)
			why = "posted while the device held one, which goes "
			      "back now";
		/* Counted and logged once per buffer, whatever is wrong. */
		if (why) {
			b->count.bad_buffers++;
			b->host->log_guest(b->dev,
					   "stats buffer (%llu readable, %llu "
					   "writable bytes) %s",
					   (unsigned long long)c.readable,
					   (unsigned long long)c.writable, why);
		}
		/* Hold the buffer, malformed or not: it goes back with the
		 * next request for statistics, so a driver is never left
		 * without its buffer (the chain's segments are not needed any
		 * more, only its head for the push). */
		b->stats_chain = c;
		b->stats_chain.seg = NULL;
		b->stats_chain.nseg = 0;
		b->stats_held = true;
	}
	b->vio->notify(q);
}

/* The timer: hand the buffer back, which asks the driver for a refresh. */
static void stats_tick(void *opaque)
{
	struct balloon *b = opaque;
	uint64_t f = b->vio->features(b->vdev);
	struct mvm_virtq *q;

	if (!b->stats_held || !(f & (1ULL << BALLOON_F_STATS_VQ)))
		return;
	/* The stats queue directly follows deflate whenever it exists: free
	 * page hinting, the only queue that could sit before it, is never
	 * offered (balloon_queue_kind). */
	if (balloon_queue_kind(2, f) != BQ_STATS)
		return;
	q = b->vio->queue(b->vdev, 2);
	if (!q)
		return;
	b->stats_held = false;
	b->vio->push(q, &b->stats_chain, 0);
	b->vio->notify(q);
}

int balloon_stats_start(struct balloon *b)
{
	if (!b->opt.stats)
		return 0;
	return balloon_every(b, b->opt.stats, stats_tick, &b->stats_timer);
}

void balloon_stats_reset(struct balloon *b)
{
	/* The queue is gone with the reset; the held chain with it. */
	b->stats_held = false;
}
