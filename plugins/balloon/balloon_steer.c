/*
 * The steering policy's glue: inputs in, target out, one event per
 * adjustment. The decision itself is balloon_auto.c's.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <modvmm/options.h>

#include "balloon_hostmem.h"
#include "balloon_steer.h"

/* Statistics tags (virtio 1.2, 5.5.6.3): sizes in bytes. */
#define TAG_SWAP_IN 0
#define TAG_SWAP_OUT 1
#define TAG_MAJOR_FAULTS 2
#define TAG_FREE 4
#define TAG_AVAILABLE 6
#define TAG_CACHES 7

int balloon_steer_parse_floor(const char *s, uint64_t ram, uint64_t *out)
{
	char *end;
	unsigned long long n;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (!errno && *end == '%') {
		if (end[1] || n < 1 || n > 99)
			return -EINVAL;
		*out = ram / 100 * n;
		return 0;
	}
	/* Otherwise a size, read as every size option is. */
	return mvm_size_parse(s, out) ? -EINVAL : 0;
}

int balloon_steer_check(const struct balloon *b,
			const struct balloon_auto_cfg *c, char *why, size_t len)
{
	uint64_t ram = b->ram_size;

	if (c->on && !b->opt.stats) {
		snprintf(why, len,
			 "auto=on: the policy needs the guest's statistics: "
			 "add stats=SECONDS");
		return -EINVAL;
	}
	if (c->floor == 0 || c->floor >= ram) {
		snprintf(why, len,
			 "guest_floor=%" PRIu64 ": must be more than 0 and "
			 "less than guest RAM (%" PRIu64 " bytes)",
			 c->floor, ram);
		return -EINVAL;
	}
	if (c->max && c->max >= ram) {
		snprintf(why, len,
			 "auto_max=%" PRIu64 ": must be smaller than guest "
			 "RAM (%" PRIu64 " bytes)",
			 c->max, ram);
		return -EINVAL;
	}
	if (c->min > balloon_auto_max(c, ram)) {
		snprintf(why, len,
			 "auto_min=%" PRIu64 ": more than the largest "
			 "balloon that leaves guest_floor (%" PRIu64
			 ") and auto_max allow (%" PRIu64 ")",
			 c->min, c->floor, balloon_auto_max(c, ram));
		return -EINVAL;
	}
	if (c->interval_s == 0 || c->interval_s > 3600) {
		snprintf(why, len,
			 "auto_interval=%" PRIu64 ": 1 to 3600 seconds",
			 c->interval_s);
		return -EINVAL;
	}
	if (c->rate < (1ULL << 20)) {
		snprintf(why, len,
			 "auto_rate=%" PRIu64 ": at least 1M (bytes a second)",
			 c->rate);
		return -EINVAL;
	}
	return 0;
}

int balloon_steer_configure(struct balloon *b, char *why, size_t len)
{
	const struct balloon_opts *o = &b->opt;
	struct balloon_auto_cfg c = {
		.on = o->auto_on,
		.evict = o->auto_evict,
		.min = o->auto_min,
		.max = o->auto_max,
		.interval_s = o->auto_interval ? o->auto_interval : o->stats,
		.rate = o->auto_rate,
	};
	int r;

	if (balloon_steer_parse_floor(o->guest_floor, b->ram_size, &c.floor)) {
		snprintf(why, len,
			 "guest_floor=%s: not a size (K/M/G/T) or a "
			 "percentage of RAM (1%% to 99%%)",
			 o->guest_floor ? o->guest_floor : "");
		return -EINVAL;
	}
	/* Without statistics there is no interval to inherit; only auto=on
	 * needs one, and it says so first. */
	if (!c.interval_s && !c.on)
		c.interval_s = 1;
	r = balloon_steer_check(b, &c, why, len);
	if (r == 0) {
		b->auto_cfg = c;
		/* Now: once the VM runs, seccomp refuses open(2). */
		balloon_hostmem_open(&b->hostsrc, o->psi_path, o->meminfo_path,
				     o->cgroup);
	}
	return r;
}

static uint64_t stat(const struct balloon *b, uint16_t tag, bool *found)
{
	for (unsigned i = 0; i < b->nstats; i++) {
		if (b->stats[i].tag == tag) {
			if (found)
				*found = true;
			return b->stats[i].value;
		}
	}
	if (found)
		*found = false;
	return 0;
}

static void emit(struct balloon *b, enum balloon_auto_reason r, uint64_t from,
		 uint64_t to, const struct balloon_auto_in *in)
{
	const struct balloon_auto_state *s = &b->auto_state;
	char data[1024];

	b->auto_events++;
	if (!b->api)
		return;
	snprintf(data, sizeof(data),
		 "{\"reason\": \"%s\", \"from\": %" PRIu64 ", \"to\": %" PRIu64
		 ", \"actual\": %" PRIu64 ", \"available\": %" PRIu64
		 ", \"free\": %" PRIu64 ", \"caches\": %" PRIu64
		 ", \"floor\": %" PRIu64 ", \"major_faults_rate\": %" PRIu64
		 ", \"swap_in_rate\": %" PRIu64 ", \"swap_out_rate\": %" PRIu64
		 ", \"psi_some\": %.2f, \"psi_full\": %.2f"
		 ", \"host_available\": %" PRIu64
		 ", \"cgroup_current\": %" PRIu64 ", \"cgroup_high\": %" PRIu64
		 ", \"host_pressure\": %s, \"hold\": %u}",
		 balloon_auto_reason_name(r), from, to, in->actual, in->avail,
		 in->free, in->caches, b->auto_cfg.floor, s->major_rate,
		 s->swap_in_rate, s->swap_out_rate, in->psi_some / 100.0,
		 in->psi_full / 100.0, in->host_avail, in->cg_current,
		 in->cg_high, s->host_pressure ? "true" : "false",
		 balloon_auto_hold(&b->auto_cfg, s));
	b->api->emit_event(b->dev, "auto", data);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* The policy's inputs as they stand: the device, the guest's latest
 * statistics, the host's pressure. `fresh` is left to the caller. */
static void gather(struct balloon *b, struct balloon_auto_in *in)
{
	struct balloon_hostmem m;

	balloon_hostmem_read(&m, &b->hostsrc);
	in->ram = b->ram_size;
	in->target = (uint64_t)b->num_pages << BALLOON_PAGE_SHIFT;
	in->actual = (uint64_t)b->actual << BALLOON_PAGE_SHIFT;
	in->stats_actual = (uint64_t)b->stats_actual << BALLOON_PAGE_SHIFT;
	/* No guest has more memory than its RAM: a statistic past that (or
	 * a balloon past it, in `actual`) is a lie, and would wrap the
	 * policy's sums. */
	in->actual = min_u64(in->actual, in->ram);
	in->stats_actual = min_u64(in->stats_actual, in->ram);
	in->avail = min_u64(stat(b, TAG_AVAILABLE, &in->has_avail), in->ram);
	in->free = min_u64(stat(b, TAG_FREE, NULL), in->ram);
	in->caches = min_u64(stat(b, TAG_CACHES, NULL), in->ram);
	in->major_faults = stat(b, TAG_MAJOR_FAULTS, NULL);
	in->swap_in = stat(b, TAG_SWAP_IN, NULL);
	in->swap_out = stat(b, TAG_SWAP_OUT, NULL);
	in->psi_known = m.psi_known;
	in->psi_some = m.psi_some;
	in->psi_full = m.psi_full;
	in->host_avail = m.avail;
	in->host_total = m.total;
	in->cg_high = m.cg_high;
	in->cg_current = m.cg_current;
	in->reporting =
		b->vio->features(b->vdev) & (1ULL << BALLOON_F_REPORTING);
}

static void step(struct balloon *b)
{
	struct balloon_auto_in in = {0};
	uint64_t from, to;
	enum balloon_auto_reason r;

	gather(b, &in);
	from = in.target;
	in.fresh = b->count.stats_updates != b->auto_seen_updates;
	b->auto_seen_updates = b->count.stats_updates;
	r = balloon_auto_step(&b->auto_cfg, &b->auto_state, &in, &to);
	if (r == BA_NONE || to == from)
		return;
	balloon_set_target(b, to);
	emit(b, r, from, (uint64_t)b->num_pages << BALLOON_PAGE_SHIFT, &in);
}

static void tick(void *opaque)
{
	struct balloon *b = opaque;

	if (b->auto_cfg.on)
		step(b);
}

int balloon_steer_arm(struct balloon *b)
{
	if (!b->opt.stats || b->auto_timer >= 0)
		return 0;
	return balloon_every(b, b->auto_cfg.interval_s, tick, &b->auto_timer);
}

void balloon_steer_disarm(struct balloon *b)
{
	if (b->auto_timer >= 0)
		b->host->cancel_timer(b->dev, b->auto_timer);
	b->auto_timer = -1;
}

void balloon_steer_close(struct balloon *b)
{
	balloon_steer_disarm(b);
	balloon_hostmem_close(&b->hostsrc);
}

void balloon_steer_apply(struct balloon *b, const struct balloon_auto_cfg *c)
{
	bool rearm = c->interval_s != b->auto_cfg.interval_s;
	bool restart = c->on && !b->auto_cfg.on;
	struct balloon_auto_state *s = &b->auto_state;

	/* Turned off (or eviction turned off) in the middle of a page
	 * cache eviction: give it back first, or the guest would stay
	 * under its floor, where only the eviction may take it. */
	if (s->evicting && (!c->on || !c->evict)) {
		struct balloon_auto_in in = {0};

		gather(b, &in);
		s->evicting = false;
		s->evict_end = s->steps;
		balloon_set_target(b, s->evict_from);
		emit(b, BA_CACHE_BACK, in.target, s->evict_from, &in);
	}
	b->auto_cfg = *c;
	/* Turned on again: start from a clean slate, rates included (the
	 * counters moved while nobody looked). */
	if (restart) {
		memset(&b->auto_state, 0, sizeof(b->auto_state));
		b->auto_seen_updates = b->count.stats_updates;
	}
	if (rearm) {
		balloon_steer_disarm(b);
		balloon_steer_arm(b);
	}
}

void balloon_steer_manual(struct balloon *b)
{
	if (!b->auto_cfg.on)
		return;
	/* The user's size replaces an eviction's too. */
	b->auto_state.evicting = false;
	b->auto_cfg.on = false;
	b->auto_events++;
	if (b->api)
		b->api->emit_event(b->dev, "auto",
				   "{\"reason\": \"manual\", \"on\": false}");
}

void balloon_steer_json(const struct balloon *b, char *buf, size_t len)
{
	const struct balloon_auto_cfg *c = &b->auto_cfg;
	const struct balloon_auto_state *s = &b->auto_state;

	snprintf(buf, len,
		 "{\"on\": %s, \"evict\": %s, \"min\": %" PRIu64
		 ", \"max\": %" PRIu64 ", \"floor\": %" PRIu64
		 ", \"band\": %" PRIu64 ", \"interval\": %" PRIu64
		 ", \"rate\": %" PRIu64
		 ", \"last_reason\": \"%s\", \"major_faults_rate\": %" PRIu64
		 ", \"swap_in_rate\": %" PRIu64 ", \"swap_out_rate\": %" PRIu64
		 ", \"host_pressure\": %s"
		 ", \"calm\": %u, \"hold\": %u, \"strikes\": %u"
		 ", \"steps\": %" PRIu64 ", \"adjustments\": %" PRIu64
		 ", \"turns\": %" PRIu64 ", \"cache_evictions\": %" PRIu64
		 ", \"events\": %" PRIu64 "}",
		 c->on ? "true" : "false", c->evict ? "true" : "false", c->min,
		 balloon_auto_max(c, b->ram_size), c->floor,
		 balloon_auto_band(c), c->interval_s, c->rate,
		 balloon_auto_reason_name(s->last_reason), s->major_rate,
		 s->swap_in_rate, s->swap_out_rate,
		 s->host_pressure ? "true" : "false", s->calm,
		 balloon_auto_hold(c, s), s->strikes, s->steps, s->adjustments,
		 s->turns, s->evictions, b->auto_events);
}
