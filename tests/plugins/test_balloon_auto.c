/*
 * The balloon's steering policy (auto=on) through the per-plugin harness,
 * with a scripted fake guest: every virtual second the device asks for
 * statistics and the policy takes a step; the guest then obeys the new
 * target at once (writes `actual`), runs its workload and answers with its
 * statistics, computed from a small memory model (RAM minus balloon, of
 * which `used` is anonymous memory and `cache` page cache; available =
 * what is not used). A guest that needs more than RAM minus balloon is an
 * OOM kill. The host's PSI and meminfo are files the test writes
 * (psi_path=, meminfo_path=), and so are the cgroup's memory.high and
 * memory.current (cgroup= names the test's folder).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <modvmm/harness.h>

#include "balloon_hostmem.h"
#include "plugin_asserts.h"

#define V1 (1ULL << MVM_VIRTIO_F_VERSION_1)
#define F_STATS (1ULL << 1)
#define F_REPORTING (1ULL << 5)
#define REG(x) MVM_VIRTIO_MMIO_##x
#define MIB (1ULL << 20)
#define GIB (1ULL << 30)
#define RAM (2 * GIB) /* below the harness's MMIO window */
#define FLOOR (256 * MIB)
#define BAND (64 * MIB) /* a quarter of the floor, at least 64 MiB */
#define SECOND 1000000000ULL

struct sim {
	struct mvm_harness *h;
	struct mvm_harness_vq inflate, deflate, stats, reporting;
	uint64_t stats_gpa;
	char dir[64], psi[96], meminfo[96], cg_high[96], cg_current[96];
	/* The guest. */
	uint64_t used, cache, actual, major;
	uint64_t swapped_out; /* bytes, cumulative */
	uint64_t shmem;       /* of `used`: tmpfs, in Linux's "caches" statistic
				 but not in available memory, and not droppable */
	uint64_t cliff;       /* available memory lost once it falls under */
	uint64_t cliff_at;    /* this: Linux's accounting, not an allocation */
	uint64_t hidden;      /* what the cliff took from available memory */
	uint64_t pace;        /* inflates at most this much a second (0: at
				 once), as an emulated CPU does */
	/* Linux's MemAvailable instead of the simple model (see
	 * linux_meminfo) when wmark is set. */
	uint64_t reserve, wmark;
	uint64_t lie;       /* if set, reported as available, free and caches */
	bool answers_first; /* answers the stats request before its balloon
			       moves (the device's step saw the new target
			       already): statistics a step behind */
	unsigned ooms;
	uint64_t min_avail; /* the lowest it reported since open */
	uint64_t min_room;  /* the least RAM it had beyond what it could not
			       drop (anonymous memory, tmpfs) */
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void set_psi(struct sim *s, const char *some, const char *full)
{
	char text[256];

	snprintf(text, sizeof(text),
		 "some avg10=%s avg60=0.00 avg300=0.00 total=1\n"
		 "full avg10=%s avg60=0.00 avg300=0.00 total=1\n",
		 some, full);
	write_file(s->psi, text);
}

static uint64_t total(const struct sim *s)
{
	return RAM - s->actual;
}

static uint64_t free_mem(const struct sim *s)
{
	uint64_t taken = s->used + s->cache;

	return taken < total(s) ? total(s) - taken : 0;
}

/* Like Linux's MemAvailable, it falls a little more than the balloon
 * grows (reserves and watermarks): a thirty-second of the balloon. With
 * linux_meminfo, as Linux computes it (si_mem_available): free memory
 * less the reserves, plus the page cache but the smaller of half of it
 * and the low watermarks. */
static uint64_t avail(const struct sim *s)
{
	uint64_t taken = s->used + s->actual / 32 + s->hidden, held;

	if (s->wmark) {
		held = s->reserve + s->hidden +
		       (s->cache / 2 < s->wmark ? s->cache / 2 : s->wmark);
		return free_mem(s) + s->cache > held
			       ? free_mem(s) + s->cache - held
			       : 0;
	}
	return taken < total(s) ? total(s) - taken : 0;
}

/* Debian's 6.1 kernel in this 2 GiB guest, transparent huge pages on
 * (khugepaged raises min_free_kbytes to about 45 MiB): low watermarks
 * of 56 MiB, reserves (the high watermarks and the lowmem reserve) of
 * 75 MiB. The balloon's allocations stop at the low watermark, and
 * kswapd drops page cache to keep that much free; inflating takes free
 * memory first. With these, the guest's MemAvailable minus its free
 * memory matched the nested host's /proc/meminfo within a few MiB. */
static void linux_meminfo(struct sim *s)
{
	s->reserve = 75 * MIB;
	s->wmark = 56 * MIB;
}

static void post_stats(struct sim *s)
{
	struct {
		uint16_t tag;
		uint64_t v;
	} e[] = {
		{0, 0},
		{2, s->major},
		{4, s->wmark              ? free_mem(s)
		    : avail(s) > s->cache ? avail(s) - s->cache
					  : 0},
		{5, total(s)},
		{6, avail(s)},
		{7, s->cache + s->shmem},
		{1, s->swapped_out},
	};
	uint8_t *p = mvm_harness_gpa(s->h, s->stats_gpa, 70);
	struct mvm_harness_buf b = {.gpa = s->stats_gpa, .len = 70};

	if (s->lie) /* free, available, caches */
		e[2].v = e[4].v = e[5].v = s->lie;

	for (unsigned i = 0; i < 7; i++) {
		memcpy(p + 10 * i, &e[i].tag, 2);
		memcpy(p + 10 * i + 2, &e[i].v, 8);
	}
	if (avail(s) < s->min_avail)
		s->min_avail = avail(s);
	assert_true(mvm_harness_vq_add(s->h, &s->stats, &b, 1) >= 0);
	mvm_harness_vq_kick(s->h, &s->stats);
	assert_true(mvm_harness_run(s->h) >= 0);
}

/* The device with the policy's test defaults and `extra` options; with
 * `reporting`, free_page_reporting=on and the driver takes it. */
static void open_sim_with(struct sim *s, const char *extra, bool reporting)
{
	struct mvm_harness_config cfg = {.ram_size = RAM};
	char opts[512], why[512];
	uint64_t acc = 0;
	int rc;

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/balloon-auto.XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->psi, sizeof(s->psi), "%s/psi", s->dir);
	snprintf(s->meminfo, sizeof(s->meminfo), "%s/meminfo", s->dir);
	set_psi(s, "0.00", "0.00");
	write_file(s->meminfo, "MemTotal:       16777216 kB\n"
			       "MemFree:        8388608 kB\n"
			       "MemAvailable:   8388608 kB\n");
	snprintf(s->cg_high, sizeof(s->cg_high), "%s/memory.high", s->dir);
	snprintf(s->cg_current, sizeof(s->cg_current), "%s/memory.current",
		 s->dir);
	write_file(s->cg_high, "max\n");
	write_file(s->cg_current, "1073741824\n");
	snprintf(opts, sizeof(opts),
		 "size=0,stats=1,auto=on,guest_floor=256M,psi_path=%s,"
		 "meminfo_path=%s,cgroup=%s%s%s%s",
		 s->psi, s->meminfo, s->dir,
		 reporting ? ",free_page_reporting=on" : "", extra ? "," : "",
		 extra ? extra : "");
	rc = mvm_harness_open(BALLOON_PLUGIN_PATH, opts, &cfg, &s->h, why,
			      sizeof(why));
	if (rc < 0)
		fail_msg("harness open: %s", why);
	plugin_setup_queues(
		s->h, F_STATS | V1 | (reporting ? F_REPORTING : 0), &acc,
		(struct mvm_harness_vq *[]){&s->inflate, &s->deflate, &s->stats,
					    &s->reporting},
		reporting ? 4 : 3);
	assert_int_equal(mvm_harness_virtio_driver_ok(s->h), 0);
	s->stats_gpa = mvm_harness_alloc(s->h, 80, 8);
	s->min_avail = UINT64_MAX;
	s->min_room = UINT64_MAX;
	mvm_harness_clear_records(s->h);
}

static void open_sim(struct sim *s, const char *extra)
{
	open_sim_with(s, extra, false);
}

static void close_sim(struct sim *s)
{
	assert_int_equal(mvm_harness_close(s->h), 0);
	unlink(s->psi);
	unlink(s->meminfo);
	unlink(s->cg_high);
	unlink(s->cg_current);
	rmdir(s->dir);
}

static uint64_t target(struct sim *s)
{
	return (uint64_t)mvm_harness_vread(s->h, REG(CONFIG)) * 4096;
}

/* The guest wants `delta` more (or less) anonymous memory. The page
 * cache gives way first; past RAM minus the balloon the OOM killer takes
 * the allocating task, whose memory comes back. */
static void alloc(struct sim *s, int64_t delta)
{
	if (delta < 0) {
		s->used -= (uint64_t)-delta;
		return;
	}
	if (s->used + (uint64_t)delta > total(s)) {
		s->ooms++;
		return;
	}
	s->used += (uint64_t)delta;
	if (s->used + s->cache > total(s))
		s->cache = total(s) - s->used;
}

/* One virtual second: the policy's step and the stats request, then the
 * guest obeys the target, allocates `delta` and answers. */
static void tick(struct sim *s, int64_t delta)
{
	uint32_t id, len;
	bool answered = false;

	assert_true(mvm_harness_advance(s->h, SECOND) >= 0);
	if (s->answers_first &&
	    mvm_harness_vq_used(s->h, &s->stats, &id, &len) == 1) {
		post_stats(s);
		answered = true;
	}
	if (s->pace && target(s) > s->actual + s->pace)
		s->actual += s->pace;
	else
		s->actual = target(s);
	if (s->wmark && s->actual > RAM - s->used - s->wmark)
		s->actual = RAM - s->used - s->wmark;
	mvm_harness_vwrite(s->h, REG(CONFIG) + 4, (uint32_t)(s->actual / 4096));
	/* Inflating takes page cache before free memory (Linux's: free
	 * memory down to the watermark first). */
	if (s->used + s->cache + s->wmark > total(s))
		s->cache = total(s) > s->used + s->wmark
				   ? total(s) - s->used - s->wmark
				   : 0;
	/* What Debian's kernel did in the nested host when the balloon
	 * reached its last free pages: available memory fell more than the
	 * balloon grew, once. */
	if (s->cliff && avail(s) < s->cliff_at) {
		s->hidden += s->cliff;
		s->cliff = 0;
	}
	/* A balloon that took what the guest could not drop (anonymous
	 * memory, tmpfs): Linux's OOM killer would have acted. */
	if (s->used > total(s))
		s->ooms++;
	else if (total(s) - s->used < s->min_room)
		s->min_room = total(s) - s->used;
	alloc(s, delta);
	if (!answered && mvm_harness_vq_used(s->h, &s->stats, &id, &len) == 1)
		post_stats(s);
}

/* `n` virtual seconds, the guest allocating `delta` in each. */
static void ticks(struct sim *s, unsigned n, int64_t delta)
{
	for (unsigned i = 0; i < n; i++)
		tick(s, delta);
}

static uint64_t ev_u64(const char *data, const char *key)
{
	uint64_t v = 0;

	if (mvm_harness_json_u64(data, key, &v) < 0)
		fail_msg("balloon.auto event has no %s: %s", key, data);
	return v;
}

/* balloon.auto events since the last clear with this reason (NULL: any);
 * the largest inflate step of them in *max_up. */
static unsigned events(struct sim *s, const char *reason, uint64_t *max_up)
{
	unsigned n = 0;

	if (max_up)
		*max_up = 0;
	for (size_t i = 0; i < mvm_harness_nrecords(s->h); i++) {
		const char *d = mvm_harness_event_data(s->h, i);
		const struct mvm_harness_record *r =
			mvm_harness_record(s->h, i);
		char want[64];

		if (!d || strcmp(r->text, "balloon.auto"))
			continue;
		snprintf(want, sizeof(want), "\"reason\":\"%s\"",
			 reason ? reason : "");
		if (reason && !strstr(d, want))
			continue;
		n++;
		if (max_up && strstr(d, "\"from\"") &&
		    ev_u64(d, "to") > ev_u64(d, "from") &&
		    ev_u64(d, "to") - ev_u64(d, "from") > *max_up)
			*max_up = ev_u64(d, "to") - ev_u64(d, "from");
	}
	return n;
}

static uint64_t info_u64(struct sim *s, const char *path)
{
	return plugin_api_u64(s->h, "balloon.info", path);
}

/* An idle guest: 512 MiB in use, 1 GiB of page cache, 512 MiB free. */
static void idle_guest(struct sim *s)
{
	s->used = 512 * MIB;
	s->cache = 1 * GIB;
	post_stats(s);
}

/* The default policy, an idle guest, and the two minutes the policy
 * takes to reclaim its slack (the events of those stay recorded). */
static void open_reclaimed(struct sim *s)
{
	open_sim(s, NULL);
	idle_guest(s);
	ticks(s, 120, 0);
}

static void test_idle_slack_is_reclaimed_down_to_the_floor(void **st)
{
	struct sim s;
	uint64_t max_up;

	(void)st;
	open_reclaimed(&s);
	/* Down to floor + band (the inflate goal), and not beyond. */
	assert_true(avail(&s) >= FLOOR + BAND);
	assert_true(avail(&s) <= FLOOR + BAND + 8 * MIB);
	assert_true(s.min_avail >= FLOOR);
	assert_int_equal(s.ooms, 0);
	/* Gradually: never more than the rate limit (128M a second) at
	 * once, hence many steps for 1.2 GiB. */
	assert_true(events(&s, "reclaim", &max_up) >= 9);
	assert_true(max_up <= 128 * MIB);
	assert_int_equal(events(&s, "floor", NULL), 0);
	assert_int_equal(info_u64(&s, "auto.turns"), 0);
	assert_int_equal(info_u64(&s, "auto.floor"), FLOOR);
	close_sim(&s);
}

static void test_rate_limit_slows_the_reclaim(void **st)
{
	struct sim s;
	uint64_t max_up;

	(void)st;
	open_sim(&s, "auto_rate=32M");
	idle_guest(&s);
	ticks(&s, 40, 0);
	assert_true(events(&s, "reclaim", &max_up) >= 20);
	assert_true(max_up <= 32 * MIB);
	assert_true(target(&s) <= 40 * 32 * MIB);
	close_sim(&s);
}

static void test_burst_deflates_fast_without_oom(void **st)
{
	struct sim s;
	unsigned steps = 0;

	(void)st;
	open_reclaimed(&s);
	assert_true(target(&s) > 1 * GIB);
	mvm_harness_clear_records(s.h);
	/* A 768 MiB burst, 128 MiB a second: the balloon must get out of
	 * the way before the guest runs out. */
	for (; steps < 6; steps++)
		tick(&s, 128 * MIB);
	ticks(&s, 5, 0);
	assert_int_equal(s.ooms, 0);
	assert_true(s.used == 512 * MIB + 6 * 128 * MIB);
	assert_true(events(&s, "floor", NULL) >= 1);
	assert_true(avail(&s) >= FLOOR);
	/* It deflated in big steps: at most 3 deflate events. */
	assert_true(events(&s, "floor", NULL) + events(&s, "faults", NULL) <=
		    3);
	close_sim(&s);
}

/* A reclaimed guest, calm for 3 s (no `faults` event), then for 3 s each
 * second `major` more major faults and `swapped` more bytes swapped out:
 * the balloon must give at least half of itself back, as a burst gets. */
static void thrash_deflates(uint64_t major, uint64_t swapped)
{
	struct sim s;
	uint64_t before;

	open_reclaimed(&s);
	before = target(&s);
	mvm_harness_clear_records(s.h);
	ticks(&s, 3, 0);
	assert_int_equal(events(&s, "faults", NULL), 0);
	for (unsigned i = 0; i < 3; i++) {
		s.major += major;
		s.swapped_out += swapped;
		tick(&s, 0);
	}
	assert_true(events(&s, "faults", NULL) >= 1);
	assert_true(target(&s) <= before / 2);
	close_sim(&s);
}

/* Thrashing on its page cache: 5000 major faults a second. */
static void test_major_faults_deflate_even_above_the_floor(void **st)
{
	(void)st;
	thrash_deflates(5000, 0);
}

/* Swapping out 1 MiB a second: short of memory, whatever its available
 * memory says. */
static void test_swapping_out_deflates_too(void **st)
{
	(void)st;
	thrash_deflates(0, MIB);
}

static void test_host_pressure_grows_the_balloon_never_below_floor(void **st)
{
	struct sim s;
	uint64_t calm_target, grown;

	(void)st;
	open_reclaimed(&s);
	calm_target = target(&s);
	mvm_harness_clear_records(s.h);
	/* The host is under pressure (PSI some 40 %): the balloon takes
	 * more, down to floor + band/4, never below the floor. */
	set_psi(&s, "40.00", "5.00");
	ticks(&s, 30, 0);
	grown = target(&s);
	assert_true(grown > calm_target);
	assert_true(events(&s, "pressure", NULL) >= 1);
	assert_int_equal(events(&s, "floor", NULL), 0);
	assert_true(avail(&s) >= FLOOR);
	assert_true(avail(&s) <= FLOOR + BAND / 4 + 8 * MIB);
	assert_true(s.min_avail >= FLOOR);
	/* Pressure stays: still never below the floor. */
	ticks(&s, 30, 0);
	assert_true(s.min_avail >= FLOOR);
	/* Pressure gone: the balloon stops growing. */
	set_psi(&s, "0.00", "0.00");
	ticks(&s, 30, 0);
	assert_int_equal(target(&s), grown);
	assert_int_equal(s.ooms, 0);
	close_sim(&s);
}

static void test_host_memavailable_low_is_pressure(void **st)
{
	struct sim s;
	uint64_t calm_target;

	(void)st;
	open_reclaimed(&s);
	calm_target = target(&s);
	write_file(s.meminfo, "MemTotal:       16777216 kB\n"
			      "MemAvailable:     400000 kB\n");
	ticks(&s, 10, 0);
	assert_true(target(&s) > calm_target);
	assert_true(s.min_avail >= FLOOR);
	close_sim(&s);
}

/* The VMM's cgroup nears its memory.high (memory.current at 97 % of it):
 * host pressure, as PSI is; memory.high back to "max": none. */
static void test_cgroup_memory_high_is_pressure(void **st)
{
	struct sim s;
	uint64_t calm_target, grown;
	const char *ev;

	(void)st;
	open_sim(&s, NULL);
	idle_guest(&s);
	for (unsigned i = 0; i < 120; i++)
		tick(&s, 0);
	calm_target = target(&s);
	/* 95 % is not reached yet: 1 GiB used under a 1.1 GiB limit. */
	write_file(s.cg_high, "1181116006\n");
	for (unsigned i = 0; i < 10; i++)
		tick(&s, 0);
	assert_int_equal(target(&s), calm_target);
	write_file(s.cg_high, "1106960130\n"); /* 1 GiB is 97 % of it */
	for (unsigned i = 0; i < 30; i++)
		tick(&s, 0);
	grown = target(&s);
	assert_true(grown > calm_target);
	assert_true(s.min_avail >= FLOOR);
	ev = mvm_harness_last_event(s.h, "balloon.auto");
	assert_non_null(ev);
	assert_non_null(strstr(ev, "\"reason\":\"pressure\""));
	assert_non_null(strstr(ev, "\"cgroup_high\":1106960130"));
	assert_non_null(strstr(ev, "\"cgroup_current\":1073741824"));
	write_file(s.cg_high, "max\n");
	for (unsigned i = 0; i < 30; i++)
		tick(&s, 0);
	assert_int_equal(target(&s), grown);
	close_sim(&s);
}

/* cgroup=auto finds the VMM's cgroup v2 in /proc/self/cgroup's "0::" line;
 * "off", a v1-only process and an over-long path give none. */
static void test_cgroup_option_names_the_folder(void **st)
{
	char dir[64];

	(void)st;
	assert_true(balloon_hostmem_cgroup_dir(
		"auto", "12:memory:/x\n0::/machine.slice/vm1.scope\n", dir,
		sizeof(dir)));
	assert_string_equal(dir, "/sys/fs/cgroup/machine.slice/vm1.scope");
	assert_true(
		balloon_hostmem_cgroup_dir("auto", "0::/vm", dir, sizeof(dir)));
	assert_string_equal(dir, "/sys/fs/cgroup/vm");
	assert_true(
		balloon_hostmem_cgroup_dir("/srv/cg", "", dir, sizeof(dir)));
	assert_string_equal(dir, "/srv/cg");
	assert_false(balloon_hostmem_cgroup_dir("off", "0::/vm\n", dir,
						sizeof(dir)));
	assert_false(
		balloon_hostmem_cgroup_dir("", "0::/vm\n", dir, sizeof(dir)));
	assert_false(balloon_hostmem_cgroup_dir("auto", "4:memory:/vm\n", dir,
						sizeof(dir)));
	assert_false(balloon_hostmem_cgroup_dir(
		"auto",
		"0::/"
		"a-name-far-longer-than-the-64-byte-buffer-it-must-fit-in\n",
		dir, sizeof(dir)));
}

/* A workload that takes 1 GiB (256 MiB a second) for 8 s and gives it
 * back for 12 s, 30 times. Without hysteresis, each cycle would inflate in
 * the idle phase and deflate in the busy one: 60 direction changes. */
static void test_flapping_workload_does_not_flap_the_balloon(void **st)
{
	struct sim s;
	uint64_t turns;

	(void)st;
	open_reclaimed(&s);
	mvm_harness_clear_records(s.h);
	for (unsigned cycle = 0; cycle < 30; cycle++) {
		ticks(&s, 4, 256 * MIB);
		ticks(&s, 4, 0);
		tick(&s, -(int64_t)GIB);
		ticks(&s, 11, 0);
	}
	turns = info_u64(&s, "auto.turns");
	print_message("flapping: %u events, %llu direction changes, %u OOM\n",
		      events(&s, NULL, NULL), (unsigned long long)turns,
		      s.ooms);
	assert_true(turns <= 4);
	assert_int_equal(s.ooms, 0);
	close_sim(&s);
}

/* A burst as a slow (emulated) guest runs it: 16 MiB a second for a
 * minute. The balloon gives way and does not take memory back while the
 * guest is still allocating: deflates only, no OOM. */
static void test_slow_burst_is_not_mistaken_for_idle(void **st)
{
	struct sim s;
	uint64_t before;

	(void)st;
	open_reclaimed(&s);
	before = info_u64(&s, "auto.turns");
	mvm_harness_clear_records(s.h);
	ticks(&s, 60, 16 * MIB);
	assert_int_equal(s.ooms, 0);
	assert_true(events(&s, "floor", NULL) >= 1);
	assert_int_equal(events(&s, "reclaim", NULL), 0);
	assert_true(info_u64(&s, "auto.turns") - before <= 1);
	close_sim(&s);
}

/* The flapping workload as the nested host's emulated guest ran it in CI:
 * 768 MiB taken at 3 MiB a second (each second under the one-step "busy"
 * threshold, band/8), held 4 s, given back, 16 s idle; 6 cycles. A guest
 * that crawls is busy all the same: calm steps (and the forgetting of a
 * hold-off) do not count while it allocates, so the balloon turns at most
 * 4 times. A reclaim that an idle gap started just before a crawl cannot
 * be foreseen; it may run once (one run is 6 steps here), not in every
 * cycle. Before the fix: 11 turns, 28 inflates during the crawls. */
static void test_crawling_workload_does_not_flap_the_balloon(void **st)
{
	struct sim s;
	uint64_t before;
	unsigned crawl_reclaims = 0;

	(void)st;
	open_reclaimed(&s);
	before = info_u64(&s, "auto.turns");
	for (unsigned cycle = 0; cycle < 6; cycle++) {
		mvm_harness_clear_records(s.h);
		ticks(&s, 256, 3 * MIB);
		crawl_reclaims += events(&s, "reclaim", NULL);
		ticks(&s, 4, 0);
		tick(&s, -(int64_t)(768 * MIB));
		ticks(&s, 15, 0);
	}
	print_message("crawling: %llu direction changes, %u reclaims while "
		      "allocating, %u OOM\n",
		      (unsigned long long)(info_u64(&s, "auto.turns") - before),
		      crawl_reclaims, s.ooms);
	assert_true(crawl_reclaims <= 8);
	assert_true(info_u64(&s, "auto.turns") - before <= 4);
	assert_int_equal(s.ooms, 0);
	close_sim(&s);
}

/* Two more minutes of the same guest: no second eviction while its cache
 * stays small, and no OOM kill; then the sim is closed. */
static void one_eviction_then_none(struct sim *s)
{
	ticks(s, 120, 0);
	assert_int_equal(events(s, "cache", NULL), 1);
	assert_int_equal(s->ooms, 0);
	close_sim(s);
}

/* With free page reporting, the guest's free memory costs the host
 * nothing and its page cache does. No reclaim over free memory (it would
 * gain nothing): once idle for the hold-off, the balloon takes the
 * available memory but a band, then gives it back as free memory: same
 * available memory, that much less cache, no balloon left standing, no
 * turn. */
static void test_reporting_evicts_the_cache_the_floor_keeps(void **st)
{
	struct sim s;
	uint64_t avail_before = 0, cache_before = 0;
	unsigned t;

	(void)st;
	open_sim_with(&s, NULL, true);
	idle_guest(&s);
	for (t = 0; t < 300 && !events(&s, "cache", NULL); t++) {
		avail_before = avail(&s);
		cache_before = s.cache;
		tick(&s, 0);
	}
	print_message("after %u s: cache %llu MiB, available %llu MiB\n", t,
		      (unsigned long long)(cache_before / MIB),
		      (unsigned long long)(avail_before / MIB));
	assert_int_equal(events(&s, "reclaim", NULL), 0);
	assert_true(t <= 2 * 10 + 2); /* the hold-off, not a reclaim first */
	ticks(&s, 5, 0);
	print_message("evicted: cache %llu MiB, available %llu MiB\n",
		      (unsigned long long)(s.cache / MIB),
		      (unsigned long long)(avail(&s) / MIB));
	assert_int_equal(events(&s, "cache", NULL), 1);
	assert_int_equal(events(&s, "cache_back", NULL), 1);
	/* All of the cache went but the eighth of a band the eviction
	 * leaves. */
	assert_true(s.cache <= BAND / 4);
	assert_true(avail(&s) + 8 * MIB >= avail_before);
	assert_int_equal(target(&s), 0);
	assert_int_equal(info_u64(&s, "auto.turns"), 0);
	assert_int_equal(info_u64(&s, "auto.cache_evictions"), 1);
	one_eviction_then_none(&s);
}

/* A guest that inflates slowly (32 MiB a second: 45 s for this
 * eviction) is given the time while it makes progress: the give-back
 * comes once it has caught up, with its cache gone. */
static void test_eviction_waits_for_a_slow_guest(void **st)
{
	struct sim s;

	(void)st;
	open_sim_with(&s, NULL, true);
	idle_guest(&s);
	s.pace = 32 * MIB;
	ticks(&s, 90, 0);
	print_message("slow guest: cache %llu MiB after the eviction\n",
		      (unsigned long long)(s.cache / MIB));
	assert_int_equal(events(&s, "cache", NULL), 1);
	assert_int_equal(events(&s, "cache_back", NULL), 1);
	assert_true(s.cache <= BAND + 2 * GIB / 64 + 8 * MIB);
	assert_int_equal(s.ooms, 0);
	close_sim(&s);
}

/* A guest with Linux's MemAvailable, `used` in use and `cache` of page
 * cache, reporting on, `opts` added; run until an eviction was given back
 * (a minute at most). The largest target on the way in *top. */
static void evict_linux_guest(struct sim *s, const char *opts, uint64_t used,
			      uint64_t cache, uint64_t *top)
{
	open_sim_with(s, opts, true);
	linux_meminfo(s);
	s->used = used;
	s->cache = cache;
	post_stats(s);
	*top = 0;
	for (unsigned t = 0; t < 60 && !events(s, "cache_back", NULL); t++) {
		tick(s, 0);
		if (target(s) > *top)
			*top = target(s);
	}
}

/* Linux's MemAvailable falls only half as fast as the balloon grows over
 * the last of the page cache: one take computed from it leaves 83 MiB of
 * cache in this guest (and a take that left a band, 166 MiB). The
 * eviction takes more until the guest reports a quarter band available,
 * then gives it all back. */
static void test_eviction_takes_what_linux_meminfo_hides(void **st)
{
	struct sim s;
	uint64_t top;

	(void)st;
	evict_linux_guest(&s, NULL, 150 * MIB, 512 * MIB, &top);
	print_message("evicted: cache %llu MiB, available %llu MiB, lowest "
		      "%llu MiB, %u more takes\n",
		      (unsigned long long)(s.cache / MIB),
		      (unsigned long long)(avail(&s) / MIB),
		      (unsigned long long)(s.min_avail / MIB),
		      events(&s, "cache_more", NULL));
	assert_int_equal(events(&s, "cache", NULL), 1);
	assert_true(events(&s, "cache_more", NULL) >= 1);
	assert_true(events(&s, "cache_more", NULL) <= 3);
	assert_int_equal(events(&s, "cache_back", NULL), 1);
	assert_true(s.cache <= BAND + 8 * MIB);
	assert_true(s.min_avail >= BAND / 8 / 2);
	ticks(&s, 2, 0);
	assert_int_equal(target(&s), 0);
	assert_true(avail(&s) >= 1500 * MIB);
	one_eviction_then_none(&s);
}

/* A small idle guest (64 MiB in use, 512 MiB of cache): a balloon capped
 * at RAM - floor would leave it 256 MiB of RAM, 136 MiB of them cache.
 * The eviction, under the floor by design, goes past that cap and takes
 * the cache; with auto_max set, never past auto_max. */
static void test_eviction_goes_past_ram_minus_floor(void **st)
{
	const char *opts[] = {NULL, "auto_max=1536M"};
	struct sim s;

	(void)st;
	for (unsigned i = 0; i < 2; i++) {
		uint64_t top;

		evict_linux_guest(&s, opts[i], 64 * MIB, 512 * MIB, &top);
		print_message("%s: balloon up to %llu MiB, cache %llu MiB "
			      "after the eviction\n",
			      opts[i] ? opts[i] : "default",
			      (unsigned long long)(top / MIB),
			      (unsigned long long)(s.cache / MIB));
		assert_int_equal(events(&s, "cache", NULL), 1);
		assert_int_equal(events(&s, "cache_back", NULL), 1);
		if (opts[i]) {
			assert_true(top <= 1536 * MIB);
			close_sim(&s);
			continue;
		}
		assert_true(top > RAM - FLOOR);
		assert_true(s.cache <= BAND + 8 * MIB);
		one_eviction_then_none(&s);
	}
}

/* A guest whose statistics are a step behind its balloon (Linux answers
 * the stats request from a workqueue, while the balloon inflates): the
 * reclaim takes its next step only on statistics sent with the balloon
 * where the last one left it, and so never overshoots into a floor
 * deflate. In the nested host, a reclaim step on statistics from before
 * the previous one took 128 MiB past floor + band. */
static void test_reclaim_waits_for_statistics_after_its_step(void **st)
{
	struct sim s;

	(void)st;
	open_sim(&s, NULL);
	idle_guest(&s);
	s.answers_first = true;
	ticks(&s, 120, 0);
	print_message("reclaim on late statistics: balloon %llu MiB, "
		      "available %llu MiB, lowest %llu MiB, %u floor events\n",
		      (unsigned long long)(target(&s) / MIB),
		      (unsigned long long)(avail(&s) / MIB),
		      (unsigned long long)(s.min_avail / MIB),
		      events(&s, "floor", NULL));
	assert_true(events(&s, "reclaim", NULL) >= 1);
	assert_int_equal(events(&s, "floor", NULL), 0);
	assert_true(s.min_avail >= FLOOR);
	assert_true(avail(&s) <= FLOOR + 2 * BAND);
	close_sim(&s);
}

/* A guest that reports more memory than its RAM (all ones): the policy
 * sees at most RAM, its sums do not wrap, and the balloon it believes in
 * stays within RAM - floor. */
static void test_statistics_past_ram_are_capped(void **st)
{
	struct sim s;
	uint64_t top = 0;

	(void)st;
	open_sim(&s, NULL);
	idle_guest(&s);
	s.lie = UINT64_MAX;
	for (unsigned t = 0; t < 120; t++) {
		tick(&s, 0);
		if (target(&s) > top)
			top = target(&s);
	}
	for (size_t i = 0; i < mvm_harness_nrecords(s.h); i++) {
		const char *d = mvm_harness_event_data(s.h, i);

		if (d && strstr(d, "\"available\""))
			assert_true(ev_u64(d, "available") <= RAM);
	}
	print_message("%u events, balloon up to %llu MiB\n",
		      events(&s, NULL, NULL), (unsigned long long)(top / MIB));
	assert_true(events(&s, "reclaim", NULL) >= 1);
	assert_true(top <= RAM - FLOOR);
	close_sim(&s);
}

/* With reporting, host pressure still grows the balloon over free memory
 * (the host wants the guest held down, not only its free pages back),
 * never under the floor; the cache is evicted on top of it. */
static void test_reporting_still_yields_to_host_pressure(void **st)
{
	struct sim s;

	(void)st;
	open_sim_with(&s, NULL, true);
	idle_guest(&s);
	set_psi(&s, "25.00", "0.00");
	ticks(&s, 120, 0);
	print_message("under pressure: balloon %llu MiB, available %llu MiB, "
		      "lowest %llu MiB\n",
		      (unsigned long long)(target(&s) / MIB),
		      (unsigned long long)(avail(&s) / MIB),
		      (unsigned long long)(s.min_avail / MIB));
	assert_true(events(&s, "pressure", NULL) >= 1);
	assert_true(target(&s) >= RAM - 512 * MIB - FLOOR - 2 * BAND);
	assert_true(avail(&s) >= FLOOR);
	assert_int_equal(s.ooms, 0);
	close_sim(&s);
}

/* The reclaim's last step goes a little past its goal (Linux's available
 * memory falls a few MiB more than the balloon grows, too little to look
 * busy): the reclaim is over all the same, and the eviction follows. */
static void test_eviction_follows_a_reclaim_that_went_past_its_goal(void **st)
{
	struct sim s;

	(void)st;
	open_sim_with(&s, NULL, true);
	idle_guest(&s);
	s.cliff = 6 * MIB;
	s.cliff_at = FLOOR + BAND + 4 * MIB;
	ticks(&s, 120, 0);
	print_message("after the step past the goal: available %llu MiB, "
		      "cache %llu MiB, %u evictions\n",
		      (unsigned long long)(avail(&s) / MIB),
		      (unsigned long long)(s.cache / MIB),
		      events(&s, "cache", NULL));
	assert_int_equal(s.cliff, 0);
	assert_int_equal(events(&s, "cache", NULL), 1);
	assert_int_equal(events(&s, "cache_back", NULL), 1);
	assert_int_equal(s.ooms, 0);
	close_sim(&s);
}

/* The policy turned off (or its evictions) while an eviction holds the
 * guest under its floor: it gives the eviction back at once. */
static void test_turning_off_gives_an_eviction_back(void **st)
{
	const char *offs[] = {"{\"value\": \"off\"}", "{\"evict\": \"off\"}"};
	char reply[4096];

	(void)st;
	for (unsigned i = 0; i < 2; i++) {
		struct sim s;
		uint64_t before = 0;

		open_sim_with(&s, NULL, true);
		idle_guest(&s);
		for (unsigned t = 0; t < 300 && !events(&s, "cache", NULL);
		     t++) {
			before = target(&s);
			tick(&s, 0);
		}
		assert_int_equal(events(&s, "cache", NULL), 1);
		assert_true(target(&s) > before);
		assert_int_equal(mvm_harness_api_call(s.h, "balloon.auto",
						      offs[i], reply,
						      sizeof(reply)),
				 0);
		assert_int_equal(target(&s), before);
		assert_int_equal(events(&s, "cache_back", NULL), 1);
		one_eviction_then_none(&s);
	}
}

/* After an eviction, Linux's available memory came back 80 MiB short in
 * the nested host (the evicted cache counted more than the free pages
 * that replace it). The give-back returns a band more than was taken, and
 * the shortfall is not read as the guest allocating: no floor deflate,
 * no turn. */
static void test_eviction_gives_back_what_linux_counts_short(void **st)
{
	struct sim s;

	(void)st;
	open_sim_with(&s, NULL, true);
	idle_guest(&s);
	s.cliff = 80 * MIB;
	s.cliff_at = 2 * BAND; /* reached only inside the eviction */
	ticks(&s, 150, 0);
	print_message("after the eviction: available %llu MiB, %u floor "
		      "events, %llu turns\n",
		      (unsigned long long)(avail(&s) / MIB),
		      events(&s, "floor", NULL),
		      (unsigned long long)info_u64(&s, "auto.turns"));
	assert_int_equal(s.cliff, 0);
	/* One: what the eviction left (the 80 MiB) is no reason for the
	 * next. */
	assert_int_equal(events(&s, "cache", NULL), 1);
	assert_int_equal(events(&s, "cache_back", NULL), 1);
	assert_int_equal(events(&s, "floor", NULL), 0);
	assert_int_equal(info_u64(&s, "auto.turns"), 0);
	assert_true(avail(&s) >= FLOOR);
	assert_int_equal(s.ooms, 0);
	close_sim(&s);
}

/* Page cache in the "caches" statistic that the guest cannot drop
 * (tmpfs: 512 MiB of its 768 MiB in use) is not evicted: the balloon
 * takes available memory only, and the guest never runs out. */
static void test_cache_eviction_leaves_tmpfs_alone(void **st)
{
	struct sim s;

	(void)st;
	open_sim_with(&s, NULL, true);
	s.used = 768 * MIB;
	s.shmem = 512 * MIB;
	s.cache = 512 * MIB;
	post_stats(&s);
	ticks(&s, 300, 0);
	assert_true(events(&s, "cache", NULL) >= 1);
	assert_int_equal(s.ooms, 0);
	assert_true(s.min_room >= BAND / 16);
	close_sim(&s);
}

/* The guest's cache grows back (it reads files): evicted again, but not
 * more often than BALLOON_AUTO_CACHE_GAP_S; without reporting or with
 * auto_evict=off, never. */
static void test_cache_eviction_waits_its_gap_and_needs_reporting(void **st)
{
	struct sim s;
	char reply[4096];

	(void)st;
	open_sim_with(&s, NULL, true);
	idle_guest(&s);
	for (unsigned i = 0; i < 300; i++) {
		tick(&s, 0);
		/* 4 MiB of file reads a second, taken from free memory. */
		if (avail(&s) > s.cache + 4 * MIB)
			s.cache += 4 * MIB;
	}
	print_message("cache evictions in 300 s: %u\n",
		      events(&s, "cache", NULL));
	assert_true(events(&s, "cache", NULL) >= 2);
	assert_true(events(&s, "cache", NULL) <= 300 / 60);
	assert_int_equal(info_u64(&s, "auto.turns"), 0);
	close_sim(&s);

	open_sim_with(&s, NULL, false);
	idle_guest(&s);
	ticks(&s, 300, 0);
	assert_int_equal(events(&s, "cache", NULL), 0);
	close_sim(&s);

	/* Nor when the user said so (option, or balloon.auto evict=off). */
	open_sim_with(&s, "auto_evict=off", true);
	idle_guest(&s);
	ticks(&s, 300, 0);
	assert_int_equal(events(&s, "cache", NULL), 0);
	assert_int_equal(mvm_harness_api_call(s.h, "balloon.info", NULL, reply,
					      sizeof(reply)),
			 0);
	assert_non_null(strstr(reply, "\"evict\":false"));
	close_sim(&s);
}

/* A burst while the balloon is past the floor to evict: it gives the
 * eviction back at once and then deflates as for any burst; no OOM. */
static void test_burst_during_eviction_gets_memory_at_once(void **st)
{
	struct sim s;

	(void)st;
	open_sim_with(&s, NULL, true);
	idle_guest(&s);
	/* Up to the step that evicts; the burst comes with the guest's
	 * answer to it. */
	for (unsigned t = 0; t < 300 && !events(&s, "cache", NULL); t++)
		tick(&s, 0);
	assert_int_equal(events(&s, "cache", NULL), 1);
	mvm_harness_clear_records(s.h);
	ticks(&s, 6, 128 * MIB);
	assert_int_equal(events(&s, "cache_back", NULL), 1);
	/* Nothing stood over free memory: nothing more to deflate. */
	assert_int_equal(target(&s), 0);
	assert_int_equal(s.ooms, 0);
	close_sim(&s);
}

static void test_balloon_set_turns_the_policy_off(void **st)
{
	struct sim s;
	char reply[1024];

	(void)st;
	open_sim(&s, NULL);
	idle_guest(&s);
	assert_int_equal(mvm_harness_api_call(s.h, "balloon.set",
					      "{\"value\": \"1G\"}", reply,
					      sizeof(reply)),
			 0);
	assert_non_null(strstr(mvm_harness_last_event(s.h, "balloon.auto"),
			       "\"reason\":\"manual\""));
	ticks(&s, 60, 0);
	assert_int_equal(target(&s), GIB);
	assert_int_equal(info_u64(&s, "auto.adjustments"), 0);
	close_sim(&s);
}

static void test_balloon_auto_changes_the_settings_at_run_time(void **st)
{
	struct sim s;
	char reply[2048];
	uint64_t v = 0;

	(void)st;
	open_sim(&s, NULL);
	idle_guest(&s);
	assert_int_equal(mvm_harness_api_call(s.h, "balloon.auto",
					      "{\"value\": \"off\"}", reply,
					      sizeof(reply)),
			 0);
	ticks(&s, 30, 0);
	assert_int_equal(target(&s), 0);
	/* On again with a floor of 25 % of RAM and a 512 MiB cap. */
	assert_int_equal(
		mvm_harness_api_call(
			s.h, "balloon.auto",
			"{\"on\": true, \"floor\": \"25%\", \"max\": \"512M\"}",
			reply, sizeof(reply)),
		0);
	assert_int_equal(mvm_harness_json_u64(reply, "floor", &v), 0);
	assert_int_equal(v, RAM / 100 * 25);
	ticks(&s, 60, 0);
	assert_int_equal(target(&s), 512 * MIB);
	/* Refused with one line naming the key; nothing changes. */
	assert_int_equal(mvm_harness_api_call(s.h, "balloon.auto",
					      "{\"floor\": \"150%\"}", reply,
					      sizeof(reply)),
			 -EINVAL);
	assert_non_null(strstr(reply, "floor=150%"));
	assert_int_equal(mvm_harness_api_call(s.h, "balloon.auto",
					      "{\"min\": \"3G\"}", reply,
					      sizeof(reply)),
			 -EINVAL);
	assert_non_null(strstr(reply, "auto_min="));
	assert_int_equal(info_u64(&s, "auto.floor"), RAM / 100 * 25);
	close_sim(&s);
}

static void test_options_refused_with_the_key(void **st)
{
	static const struct plugin_refusal cases[] = {
		{"size=0,auto=on", "add stats=SECONDS"},
		{"size=0,stats=1,auto=on,guest_floor=0", "guest_floor=0"},
		{"size=0,stats=1,auto=on,guest_floor=5X", "guest_floor=5X"},
		{"size=0,stats=1,auto=on,guest_floor=100%", "guest_floor=100%"},
		{"size=0,stats=1,auto=on,auto_max=64M", "auto_max="},
		{"size=0,stats=1,auto=on,auto_min=60M", "auto_min="},
		{"size=0,stats=1,auto=on,auto_rate=1K", "auto_rate="},
		{"size=0,stats=1,auto=on,auto_interval=4000", "auto_interval="},
	};
	(void)st;
	assert_refused(BALLOON_PLUGIN_PATH, cases,
		       sizeof(cases) / sizeof(*cases));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_idle_slack_is_reclaimed_down_to_the_floor),
		cmocka_unit_test(test_rate_limit_slows_the_reclaim),
		cmocka_unit_test(test_burst_deflates_fast_without_oom),
		cmocka_unit_test(
			test_major_faults_deflate_even_above_the_floor),
		cmocka_unit_test(test_swapping_out_deflates_too),
		cmocka_unit_test(
			test_host_pressure_grows_the_balloon_never_below_floor),
		cmocka_unit_test(test_host_memavailable_low_is_pressure),
		cmocka_unit_test(test_cgroup_memory_high_is_pressure),
		cmocka_unit_test(test_cgroup_option_names_the_folder),
		cmocka_unit_test(
			test_flapping_workload_does_not_flap_the_balloon),
		cmocka_unit_test(test_slow_burst_is_not_mistaken_for_idle),
		cmocka_unit_test(
			test_crawling_workload_does_not_flap_the_balloon),
		cmocka_unit_test(
			test_reporting_evicts_the_cache_the_floor_keeps),
		cmocka_unit_test(test_reporting_still_yields_to_host_pressure),
		cmocka_unit_test(test_eviction_waits_for_a_slow_guest),
		cmocka_unit_test(test_eviction_takes_what_linux_meminfo_hides),
		cmocka_unit_test(test_eviction_goes_past_ram_minus_floor),
		cmocka_unit_test(test_statistics_past_ram_are_capped),
		cmocka_unit_test(
			test_reclaim_waits_for_statistics_after_its_step),
		cmocka_unit_test(
			test_cache_eviction_waits_its_gap_and_needs_reporting),
		cmocka_unit_test(
			test_burst_during_eviction_gets_memory_at_once),
		cmocka_unit_test(test_cache_eviction_leaves_tmpfs_alone),
		cmocka_unit_test(test_turning_off_gives_an_eviction_back),
		cmocka_unit_test(
			test_eviction_gives_back_what_linux_counts_short),
		cmocka_unit_test(
			test_eviction_follows_a_reclaim_that_went_past_its_goal),
		cmocka_unit_test(test_balloon_set_turns_the_policy_off),
		cmocka_unit_test(
			test_balloon_auto_changes_the_settings_at_run_time),
		cmocka_unit_test(test_options_refused_with_the_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
