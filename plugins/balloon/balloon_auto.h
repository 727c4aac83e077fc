/*
 * The balloon's own steering policy (balloon_auto.c): pure control logic,
 * inputs to a decision, no I/O and no clock, so a test can script a guest
 * and a host tick by tick. balloon_steer.c gathers the inputs (the guest's
 * statistics, the host's PSI and MemAvailable) every interval, calls
 * balloon_auto_step() and applies the target it returns.
 *
 * The policy, in bytes of what the guest reports as available (Linux's
 * MemAvailable: free memory plus the page cache it could drop):
 *  - deflate fast when the guest is busy allocating so fast that it will
 *    be below its floor within two steps, or its major faults (or its
 *    swap-ins or swap-outs) climb: at least half the balloon at once,
 *    and again on the next step if that was not enough; an idle guest
 *    found under its floor is brought back to floor + 1.5 band, one
 *    correction at a time;
 *  - inflate gradually (at most `rate` bytes a second, the last stretch
 *    in halves) while the guest has more than floor + 2 band available,
 *    down to floor + band, and only after the guest has been idle (no
 *    trouble; available memory not falling by more than band/8 a step,
 *    nor its own memory, available + balloon, by a quarter band since
 *    its last busy step) for a hold-off time;
 *  - under host pressure, inflate sooner (a quarter of the hold-off),
 *    faster (4x the rate) and further (above floor + band/2, down to
 *    floor + band/4), never below the floor;
 *  - hysteresis: the band between the deflate trigger (the floor) and the
 *    inflate trigger, and a hold-off after every deflate that doubles each
 *    time an inflate is followed by a deflate (up to 16x), so a workload
 *    that comes and goes does not make the balloon come and go with it;
 *  - with free page reporting (and evictions on, the default), free
 *    memory the guest reports costs the host nothing and its page cache
 *    does: no reclaim over free memory (a balloon standing there would
 *    gain nothing and cost every burst a deflate), except under host
 *    pressure. Instead, once the guest has been idle for a hold-off
 *    (and any pressure reclaim is done), the balloon takes its
 *    available memory but an eighth of a band (never more than max if
 *    set, RAM but half a band if not; Linux's balloon takes free pages
 *    first, then cache), more while the guest still reports over a
 *    quarter band available (up to BALLOON_AUTO_EVICT_ROUNDS times),
 *    and gives it all back as soon as the guest is down to that (or on
 *    the first sign of trouble): the guest has the same available memory as
 * before, now free and reported, not cached. Not a turn; at most once per
 *    BALLOON_AUTO_CACHE_GAP_S.
 */
#ifndef MODVMM_BALLOON_AUTO_H
#define MODVMM_BALLOON_AUTO_H

#include <stdbool.h>
#include <stdint.h>

/* What the user set (options auto_* and guest_floor, or balloon.auto). */
struct balloon_auto_cfg {
	bool on;
	bool evict;          /* page cache evictions (with reporting) */
	uint64_t min, max;   /* balloon bounds, bytes; max 0 = RAM - floor */
	uint64_t floor;      /* bytes the guest always keeps available */
	uint64_t interval_s; /* seconds between two steps */
	uint64_t rate;       /* bytes a second the balloon may grow by */
};

/* One step's inputs. Sizes in bytes. */
struct balloon_auto_in {
	uint64_t ram;    /* guest RAM */
	uint64_t target; /* the balloon the device asks for now */
	uint64_t actual; /* the balloon the guest has */
	/* The balloon the guest had when it sent the statistics below (they
	 * may be an interval older than `actual`). */
	uint64_t stats_actual;
	/* The guest's statistics (virtio 1.2, 5.5.6.3), if new since the
	 * last step; has_avail if they include available-memory. */
	bool fresh, has_avail;
	uint64_t avail, free, caches;
	uint64_t major_faults, swap_in, swap_out; /* cumulative, as sent */
	/* The host: PSI memory avg10 in hundredths of a percent, and
	 * MemAvailable / MemTotal (0 = unknown). */
	bool psi_known;
	uint32_t psi_some, psi_full;
	uint64_t host_avail, host_total;
	/* The VMM's cgroup: memory.high (0 = none) and memory.current. */
	uint64_t cg_high, cg_current;
	/* Free page reporting negotiated: the guest gives free pages back. */
	bool reporting;
};

enum balloon_auto_reason {
	BA_NONE,       /* no change */
	BA_BOUNDS,     /* target moved inside [min, max] */
	BA_FLOOR,      /* deflate: the guest is below its floor */
	BA_FAULTS,     /* deflate: major faults or swapping climb */
	BA_RECLAIM,    /* inflate: slack above floor + band */
	BA_PRESSURE,   /* inflate: the host is under pressure */
	BA_CACHE,      /* inflate past the floor: evict the page cache */
	BA_CACHE_MORE, /* inflate: the eviction left cache, take it too */
	BA_CACHE_BACK, /* deflate: give that back, as free memory */
};

/* What the policy remembers between steps; zero it to start. */
struct balloon_auto_state {
	bool primed; /* last_* hold a previous sample */
	uint64_t last_major, last_swap_in, last_swap_out, last_avail,
		last_actual;
	/* The guest's own memory (available + balloon: what it would have
	 * with the balloon empty), highest since its last busy step, and
	 * how much the balloon grew since that highest sample. */
	uint64_t own_peak, own_grown, own_last;
	/* A second, at the last step (swaps in bytes). */
	uint64_t major_rate, swap_in_rate, swap_out_rate;
	bool host_pressure;
	unsigned calm;    /* idle steps since the last trouble or deflate */
	unsigned strikes; /* recent inflate->deflate turns: hold-off x2^n */
	unsigned decay;   /* calm steps toward forgetting one strike */
	int last_dir;     /* +1 inflate, -1 deflate, 0 none yet */
	bool reclaiming;  /* an inflate run goes on down to its goal */
	/* A cache eviction in progress: the target to go back to, and the
	 * steps it has waited for the guest; the step the last one ended. */
	bool evicting;
	uint64_t evict_from;
	uint64_t evict_actual; /* the most the guest had inflated to */
	unsigned evict_wait;   /* steps without progress */
	unsigned evict_rounds; /* takes after the first (evict_more) */
	uint64_t evict_end, evictions;
	/* The lowest page cache seen since the last eviction ended (0 before
	 * the first): the next one needs two bands more than this. */
	uint64_t evict_left;
	uint64_t steps, adjustments, turns; /* turns: direction changes */
	enum balloon_auto_reason last_reason;
};

/* Major faults a second that count as the guest thrashing. */
#define BALLOON_AUTO_FAULT_RATE 100
/* Host pressure: PSI some avg10 >= 10.00 %, full avg10 >= 1.00 %, or
 * MemAvailable under 5 % of MemTotal. */
#define BALLOON_AUTO_PSI_SOME 1000
#define BALLOON_AUTO_PSI_FULL 100
#define BALLOON_AUTO_HOST_LOW_PCT 5
/* ... or the cgroup's memory.current at 95 % of its memory.high or more
 * (past memory.high the kernel throttles the VMM and reclaims from it). */
#define BALLOON_AUTO_CGROUP_HIGH_PCT 95
/* Seconds of calm after a deflate before the next inflate. */
#define BALLOON_AUTO_HOLD_S 10
/* Seconds between two page cache evictions, at least; one that the guest
 * has made no progress with for BALLOON_AUTO_CACHE_WAIT_S is given
 * back as it stands. */
#define BALLOON_AUTO_CACHE_GAP_S 60
#define BALLOON_AUTO_CACHE_WAIT_S 10
/* Takes after an eviction's first, for the cache it left (see
 * balloon_auto.c's evict_more). */
#define BALLOON_AUTO_EVICT_ROUNDS 3

/* The band above the floor between the deflate and inflate triggers:
 * a quarter of the floor, at least 64 MiB. */
uint64_t balloon_auto_band(const struct balloon_auto_cfg *c);
/* The effective largest balloon: max (or RAM - floor if 0), never more
 * than RAM - floor. */
uint64_t balloon_auto_max(const struct balloon_auto_cfg *c, uint64_t ram);
/* Steps the policy needs calm before inflating (the current hold-off). */
unsigned balloon_auto_hold(const struct balloon_auto_cfg *c,
			   const struct balloon_auto_state *s);
/* One step: updates `s`, writes the balloon target to ask for to *target
 * (in->target if nothing changes) and returns why. */
enum balloon_auto_reason balloon_auto_step(const struct balloon_auto_cfg *c,
					   struct balloon_auto_state *s,
					   const struct balloon_auto_in *in,
					   uint64_t *target);
/* "floor", "faults", ... as the balloon.auto event names the reason. */
const char *balloon_auto_reason_name(enum balloon_auto_reason r);

#endif
