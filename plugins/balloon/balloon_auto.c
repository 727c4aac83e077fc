/*
 * The steering policy (see balloon_auto.h for what it does and why).
 * Everything is integers: bytes, steps, and PSI in hundredths of a
 * percent, so a step is exactly reproducible in a test.
 */
#include "balloon_auto.h"

#define MIB (1ULL << 20)
/* The guest writes `actual` after every 256-page buffer (1 MiB): within
 * that of the target it has done what was asked. */
#define SETTLED_SLOP MIB
/* Smaller inflates are not worth an event and a config interrupt. */
#define MIN_STEP MIB
#define MAX_STRIKES 4

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

uint64_t balloon_auto_band(const struct balloon_auto_cfg *c)
{
	return max_u64(c->floor / 4, 64 * MIB);
}

uint64_t balloon_auto_max(const struct balloon_auto_cfg *c, uint64_t ram)
{
	uint64_t cap = ram > c->floor ? ram - c->floor : 0;

	return c->max ? min_u64(c->max, cap) : cap;
}

static unsigned base_hold(const struct balloon_auto_cfg *c)
{
	uint64_t iv = c->interval_s ? c->interval_s : 1;
	uint64_t n = (BALLOON_AUTO_HOLD_S + iv - 1) / iv;

	return n < 2 ? 2 : (unsigned)n;
}

unsigned balloon_auto_hold(const struct balloon_auto_cfg *c,
			   const struct balloon_auto_state *s)
{
	return base_hold(c) << s->strikes;
}

const char *balloon_auto_reason_name(enum balloon_auto_reason r)
{
	switch (r) {
	case BA_BOUNDS:
		return "bounds";
	case BA_FLOOR:
		return "floor";
	case BA_FAULTS:
		return "faults";
	case BA_RECLAIM:
		return "reclaim";
	case BA_PRESSURE:
		return "pressure";
	case BA_CACHE:
		return "cache";
	case BA_CACHE_MORE:
		return "cache_more";
	case BA_CACHE_BACK:
		return "cache_back";
	default:
		return "none";
	}
}

/* Per-second rate of a cumulative counter; a counter that went back (the
 * guest rebooted) starts again from its new value. */
static uint64_t rate(uint64_t now, uint64_t *last, bool primed, uint64_t iv)
{
	uint64_t d = primed && now >= *last ? now - *last : 0;

	*last = now;
	return d / (iv ? iv : 1);
}

static bool host_pressure(const struct balloon_auto_in *in)
{
	if (in->psi_known && (in->psi_some >= BALLOON_AUTO_PSI_SOME ||
			      in->psi_full >= BALLOON_AUTO_PSI_FULL))
		return true;
	if (in->cg_high &&
	    in->cg_current >= in->cg_high / 100 * BALLOON_AUTO_CGROUP_HIGH_PCT)
		return true;
	return in->host_total &&
	       in->host_avail * 100 <
		       in->host_total * BALLOON_AUTO_HOST_LOW_PCT;
}

static bool settled(const struct balloon_auto_in *in)
{
	uint64_t d = in->actual > in->target ? in->actual - in->target
					     : in->target - in->actual;

	return d <= SETTLED_SLOP;
}

/* The guest sent its statistics with the balloon where it is now: ones
 * from before overstate its available memory by what the balloon took
 * since (the guest writes `actual` as it goes). */
static bool stats_at_size(const struct balloon_auto_in *in)
{
	return in->stats_actual + SETTLED_SLOP >= in->actual;
}

static void note_direction(struct balloon_auto_state *s, int dir)
{
	if (s->last_dir && s->last_dir != dir) {
		s->turns++;
		/* An inflate that a deflate had to undo: wait longer next
		 * time before inflating again. */
		if (dir < 0 && s->strikes < MAX_STRIKES)
			s->strikes++;
	}
	s->last_dir = dir;
	s->adjustments++;
}

/* The guest needs memory. Busy allocating or faulting: twice what brings
 * it back to floor + band, at least a band, and at least half the balloon
 * at once (a burst does not wait). Idle under its floor (a reclaim that
 * went a little too far: Linux may drop more cache than the balloon takes
 * when pushed): back to floor + band/2 above that, the middle of the band
 * where neither a deflate nor a reclaim starts again. */
static uint64_t deflate_to(const struct balloon_auto_cfg *c,
			   const struct balloon_auto_in *in, uint64_t lo,
			   bool burst)
{
	uint64_t band = balloon_auto_band(c);
	uint64_t base = min_u64(in->target, in->actual);
	uint64_t want = c->floor + band;
	uint64_t need = in->avail < want ? want - in->avail : 0;
	uint64_t amount = burst ? max_u64(max_u64(2 * need, base / 2), band)
				: need + band / 2;

	if (base <= lo)
		return in->target < lo ? lo : in->target;
	return base - min_u64(amount, base - lo);
}

static enum balloon_auto_reason inflate(const struct balloon_auto_cfg *c,
					struct balloon_auto_state *s,
					const struct balloon_auto_in *in,
					uint64_t hi, uint64_t *target)
{
	uint64_t band = balloon_auto_band(c);
	bool press = s->host_pressure;
	uint64_t trigger = c->floor + (press ? band / 2 : 2 * band);
	uint64_t goal = c->floor + (press ? band / 4 : band);
	unsigned hold = balloon_auto_hold(c, s);
	uint64_t step, next;

	if (press)
		hold = hold / 4 ? hold / 4 : 1;
	/* Hysteresis: a reclaim starts above the trigger and, once started,
	 * goes on down to the goal. */
	if (s->calm < hold || !settled(in))
		return BA_NONE;
	/* A step on older statistics overshoots: wait for the next ones. */
	if (!stats_at_size(in))
		return BA_NONE;
	if (in->avail <= (s->reclaiming ? goal : trigger)) {
		/* At the goal (or a step went past it): the run is over,
		 * the next one starts above the trigger. */
		s->reclaiming = false;
		return BA_NONE;
	}
	step = c->rate * (c->interval_s ? c->interval_s : 1) * (press ? 4 : 1);
	/* The last stretch in halves: the guest's available memory falls a
	 * little more than the balloon grows (its reserves), and an
	 * overshoot under the floor would cost a deflate. */
	if (in->avail - goal <= step)
		step = (in->avail - goal + 1) / 2;
	next = min_u64(in->target + step, hi);
	if (next < in->target + MIN_STEP) {
		s->reclaiming = false;
		return BA_NONE;
	}
	s->reclaiming = true;
	*target = next;
	note_direction(s, +1);
	return press ? BA_PRESSURE : BA_RECLAIM;
}

/* Free page reporting on and the user lets the policy evict: the guest's
 * free memory costs the host nothing, its page cache does. */
static bool reports_free(const struct balloon_auto_cfg *c,
			 const struct balloon_auto_in *in)
{
	return c->evict && in->reporting;
}

static uint64_t steps_of(const struct balloon_auto_cfg *c, uint64_t secs)
{
	uint64_t iv = c->interval_s ? c->interval_s : 1;

	return (secs + iv - 1) / iv;
}

/* What an eviction leaves the guest of its available memory: an eighth
 * of a band (8 MiB for the smallest). Under its floor on purpose, for
 * seconds: Linux's balloon allocations never dig into the watermarks
 * and never wake the OOM killer, and its own reserves are not in
 * MemAvailable. It ends once the guest reports a quarter band or less. */
static uint64_t evict_keep(const struct balloon_auto_cfg *c)
{
	return balloon_auto_band(c) / 8;
}

/* The eviction has done its work: the guest is down to twice the keep. */
static bool evict_reached(const struct balloon_auto_cfg *c,
			  const struct balloon_auto_in *in)
{
	return in->avail <= 2 * evict_keep(c);
}

/* The most an eviction may take: auto_max if the user set one, else all
 * of RAM but half a band. Not RAM - floor as for a standing balloon: an
 * eviction is under the floor by design, and in a small idle guest (a
 * 150 MiB working set, a 256 MiB floor) RAM - floor would leave a third
 * of the floor's worth of cache resident. Linux hands the balloon only
 * what its watermarks allow, whatever the target. */
static uint64_t evict_max(const struct balloon_auto_cfg *c, uint64_t ram)
{
	uint64_t half = balloon_auto_band(c) / 2;
	uint64_t cap = ram > half ? ram - half : 0;

	return c->max ? min_u64(c->max, cap) : cap;
}

/* An idle guest, its reclaim done, with free page reporting and more than
 * two bands of page cache it could drop (available beyond free: Linux's
 * MemAvailable counts the file LRU, not tmpfs or other shared memory,
 * which the balloon could not take without pushing the guest into its
 * OOM killer): take its available memory but evict_keep(), up to
 * evict_max(). Free pages go first (reported already: they cost
 * nothing), then the cache. */
static enum balloon_auto_reason evict_cache(const struct balloon_auto_cfg *c,
					    struct balloon_auto_state *s,
					    const struct balloon_auto_in *in,
					    uint64_t hi, uint64_t *target)
{
	uint64_t band = balloon_auto_band(c);
	uint64_t cache = in->avail > in->free ? in->avail - in->free : 0;
	uint64_t take;

	if (!reports_free(c, in) || s->reclaiming || !settled(in) ||
	    s->calm < balloon_auto_hold(c, s) || cache <= 2 * band ||
	    cache - 2 * band <= s->evict_left ||
	    (s->evictions &&
	     s->steps - s->evict_end < steps_of(c, BALLOON_AUTO_CACHE_GAP_S)))
		return BA_NONE;
	take = min_u64(in->avail - evict_keep(c),
		       hi > in->target ? hi - in->target : 0);
	if (take < band)
		return BA_NONE;
	s->evicting = true;
	s->evict_from = in->target;
	s->evict_wait = 0;
	s->evict_rounds = 0;
	s->evict_actual = in->actual;
	s->evictions++;
	s->adjustments++;
	*target = in->target + take;
	return BA_CACHE;
}

/* The eviction, judged on statistics the guest sent with the balloon as
 * it is now: done once its available memory is down to a quarter band;
 * still above that with the balloon where it was asked to be, take that
 * too, up to BALLOON_AUTO_EVICT_ROUNDS times. Linux's MemAvailable is
 * no straight line in the balloon: it falls as fast as the balloon grows
 * over free memory, but only half as fast over the last of the page
 * cache (it holds back the smaller of half the cache and the low
 * watermarks), so one take computed from it stops short. */
static enum balloon_auto_reason evict_more(const struct balloon_auto_cfg *c,
					   struct balloon_auto_state *s,
					   const struct balloon_auto_in *in,
					   uint64_t hi, uint64_t *target)
{
	uint64_t keep = evict_keep(c);
	uint64_t more;

	if (evict_reached(c, in) ||
	    s->evict_rounds >= BALLOON_AUTO_EVICT_ROUNDS)
		return BA_CACHE_BACK;
	more = min_u64(in->avail - keep, hi > in->target ? hi - in->target : 0);
	if (more < MIN_STEP)
		return BA_CACHE_BACK;
	s->evict_rounds++;
	s->evict_wait = 0;
	s->adjustments++;
	*target = in->target + more;
	return BA_CACHE_MORE;
}

/* The guest is under its floor by the policy's own doing: take more or
 * give the eviction back once the guest has caught up (see evict_more),
 * has waited long enough, or shows trouble (a burst, faults). */
static enum balloon_auto_reason evict_done(const struct balloon_auto_cfg *c,
					   struct balloon_auto_state *s,
					   const struct balloon_auto_in *in,
					   uint64_t lo, uint64_t hi,
					   bool trouble, uint64_t *target)
{
	uint64_t band = balloon_auto_band(c);

	/* The wait is for a guest that has stopped inflating: one that
	 * still makes progress (a slow CPU, a large cache to drop) gets
	 * its time. */
	if (in->actual >= s->evict_actual + MIN_STEP)
		s->evict_wait = 0;
	s->evict_actual = max_u64(s->evict_actual, in->actual);
	if (!trouble) {
		enum balloon_auto_reason r = BA_NONE;

		/* Caught up, or down to what it keeps (a guest that cannot
		 * give more, held by its watermarks, gets there too): judge
		 * whether to take more. */
		if (stats_at_size(in) && (settled(in) || evict_reached(c, in)))
			r = evict_more(c, s, in, hi, target);
		if (r == BA_CACHE_MORE)
			return r;
		if (r == BA_NONE &&
		    ++s->evict_wait < steps_of(c, BALLOON_AUTO_CACHE_WAIT_S))
			return BA_NONE;
	}
	s->evicting = false;
	s->evict_end = s->steps;
	s->adjustments++;
	/* A band more than was taken: Linux counted the evicted cache in
	 * its available memory more generously than the free pages it gets
	 * back (its reserves come off those), 80 MiB less in the nested
	 * host, which put the guest under its floor. */
	*target = s->evict_from > lo + band ? s->evict_from - band : lo;
	if (*target > s->evict_from)
		*target = s->evict_from;
	/* What the guest's own memory did meanwhile was the eviction's
	 * doing: the busy window starts afresh at the next sample. */
	s->own_peak = 0;
	s->own_grown = 0;
	s->own_last = UINT64_MAX;
	s->evict_left = UINT64_MAX;
	return BA_CACHE_BACK;
}

enum balloon_auto_reason balloon_auto_step(const struct balloon_auto_cfg *c,
					   struct balloon_auto_state *s,
					   const struct balloon_auto_in *in,
					   uint64_t *target)
{
	uint64_t hi = balloon_auto_max(c, in->ram);
	uint64_t lo = min_u64(c->min, hi);
	uint64_t top = s->evicting ? evict_max(c, in->ram) : hi;
	bool trouble, busy, near, thrash;
	uint64_t drop, grew, own, own_lo, own_hi;
	enum balloon_auto_reason r = BA_NONE;

	*target = in->target;
	s->steps++;
	if (!c->on)
		return BA_NONE;
	if (in->target > top || in->target < lo) {
		*target = in->target > top ? top : lo;
		note_direction(s, *target > in->target ? +1 : -1);
		return s->last_reason = BA_BOUNDS;
	}
	if (!in->fresh || !in->has_avail)
		return BA_NONE;

	s->major_rate = rate(in->major_faults, &s->last_major, s->primed,
			     c->interval_s);
	s->swap_in_rate =
		rate(in->swap_in, &s->last_swap_in, s->primed, c->interval_s);
	s->swap_out_rate =
		rate(in->swap_out, &s->last_swap_out, s->primed, c->interval_s);
	/* Available memory falling by more than an eighth of the band in
	 * one step (8 MiB for the smallest band; an idle Linux moves by a
	 * few MiB): the guest is busy allocating, however slowly it runs.
	 * Falling so fast that the next step would find it under the floor: it
	 * nears the floor now. */
	drop = s->primed && s->last_avail > in->avail
		       ? s->last_avail - in->avail
		       : 0;
	/* What the balloon itself took is not the guest's doing. */
	grew = s->primed && in->stats_actual > s->last_actual
		       ? in->stats_actual - s->last_actual
		       : 0;
	drop = drop > grew ? drop - grew : 0;
	/* A guest that allocates slower than that (an emulated CPU faulting
	 * in memory the balloon gave back: a few MiB a second) is busy all
	 * the same: its own memory, available plus balloon, has fallen by
	 * a quarter band since its last busy step. Idle noise goes both
	 * ways and does not add up; a growing balloon may take a little
	 * more than itself from available memory (reserves), a sixteenth
	 * of its growth is allowed for that. One sample alone neither
	 * raises the peak nor counts as a fall: the guest's `actual` may
	 * move between its statistics and their arrival (stats_actual). */
	own = in->avail + in->stats_actual;
	own_lo = s->primed ? min_u64(own, s->own_last) : own;
	own_hi = s->primed ? max_u64(own, s->own_last) : own;
	s->own_grown += grew;
	if (!s->primed || own_lo > s->own_peak) {
		s->own_peak = own_lo;
		s->own_grown = 0;
	}
	busy = drop > balloon_auto_band(c) / 8 ||
	       (s->own_peak > own_hi &&
		s->own_peak - own_hi >
			balloon_auto_band(c) / 4 + s->own_grown / 16);
	if (busy) {
		s->own_peak = own;
		s->own_grown = 0;
	}
	s->own_last = own;
	s->last_avail = in->avail;
	s->last_actual = in->stats_actual;
	s->primed = true;
	s->host_pressure = host_pressure(in);

	/* Two steps ahead: the statistics are up to a step old, and the
	 * guest takes a moment to deflate. */
	near = in->avail < c->floor ||
	       (busy && in->avail < c->floor + 2 * drop);
	thrash = s->major_rate >= BALLOON_AUTO_FAULT_RATE ||
		 s->swap_in_rate >= BALLOON_AUTO_FAULT_RATE * 4096 ||
		 s->swap_out_rate >= BALLOON_AUTO_FAULT_RATE * 4096;
	if (s->evicting) {
		/* Under the floor on purpose: only a burst or faults are
		 * trouble. The next step sees the guest as it is then. */
		r = evict_done(c, s, in, lo, top, busy || thrash, target);
		return r == BA_NONE ? r : (s->last_reason = r);
	}
	/* The cache an eviction could not take (mapped files, the guest's
	 * working set): the lowest since the last give-back. Only a cache
	 * grown two bands past it is worth the next eviction. */
	s->evict_left = min_u64(
		s->evict_left, in->avail > in->free ? in->avail - in->free : 0);
	trouble = near || thrash;
	if (trouble || busy)
		s->reclaiming = false;
	if (trouble) {
		s->calm = 0;
		s->decay = 0;
		/* Idle: one correction at a time, judged on statistics
		 * taken after the last one (the guest sends them with the
		 * balloon it had then: stats_actual). */
		if (!busy && !thrash &&
		    max_u64(in->actual, in->stats_actual) > in->target)
			return BA_NONE;
		*target = deflate_to(c, in, lo, busy || thrash);
		if (*target < in->target) {
			note_direction(s, -1);
			r = near ? BA_FLOOR : BA_FAULTS;
		}
		return s->last_reason = r;
	}
	if (busy) {
		/* Allocating, not idle: wait for it to settle first. */
		s->calm = 0;
		s->decay = 0;
		return BA_NONE;
	}
	s->calm++;
	if (s->strikes && ++s->decay >= 4 * base_hold(c) << s->strikes) {
		s->strikes--;
		s->decay = 0;
	}
	/* With free page reporting the guest's free memory is the host's
	 * already: a balloon standing over it would gain nothing and cost
	 * every burst a deflate. Only the host's pressure (which wants the
	 * guest held down, not just its free pages back) inflates then;
	 * the page cache is the evictions' to take. */
	if (!reports_free(c, in) || s->host_pressure)
		r = inflate(c, s, in, hi, target);
	else
		s->reclaiming = false;
	if (r == BA_NONE)
		r = evict_cache(c, s, in, evict_max(c, in->ram), target);
	if (r != BA_NONE)
		s->last_reason = r;
	return r;
}
