/*
 * The balloon plugin through the per-plugin harness, hostile input first:
 * PFNs past RAM, in the MMIO hole, duplicated, unsorted, maximal; malformed
 * inflate buffers; bad reporting chunks; then the queue layout for every
 * combination of the optional features, and the config space. The
 * harness's discard records prove that nothing outside RAM was discarded
 * and that PFNs were merged into runs. Last, what a client reads through
 * the control API (the harness's mvm_harness_api_call): the counters of
 * balloon.info for host discard failures and malformed stats buffers, and
 * query-balloon when the guest claims more than its RAM.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <modvmm/harness.h>

#include "plugin_asserts.h"

#define V1 (1ULL << MVM_VIRTIO_F_VERSION_1)
#define F_STATS (1ULL << 1)
#define F_DEFLATE_ON_OOM (1ULL << 2)
#define F_REPORTING (1ULL << 5)
#define REG(x) MVM_VIRTIO_MMIO_##x
#define RAM (64ULL << 20)
#define PAGE 4096ULL

struct ctx {
	struct mvm_harness *h;
	struct mvm_harness_vq inflate, deflate, stats, report;
};

static struct mvm_harness *open_balloon(const char *opts, char *why,
					size_t whylen, int *rc)
{
	struct mvm_harness *h = NULL;

	*rc = mvm_harness_open(BALLOON_PLUGIN_PATH, opts, NULL, &h, why,
			       whylen);
	return h;
}

/* A driver that negotiated `want` and set up every queue it has. */
static void ready(struct ctx *c, const char *opts, uint64_t want)
{
	char why[512];
	int rc;
	uint64_t acc = 0;

	memset(c, 0, sizeof(*c));
	c->h = open_balloon(opts, why, sizeof(why), &rc);
	if (rc < 0)
		fail_msg("harness open: %s", why);
	plugin_setup_queues(
		c->h, want | V1, &acc,
		(struct mvm_harness_vq *[]){&c->inflate, &c->deflate}, 2);
	unsigned next = 2;
	if (acc & F_STATS)
		assert_int_equal(
			mvm_harness_vq_setup(c->h, &c->stats, next++, 0), 0);
	if (acc & F_REPORTING)
		assert_int_equal(
			mvm_harness_vq_setup(c->h, &c->report, next++, 0), 0);
	assert_int_equal(mvm_harness_virtio_driver_ok(c->h), 0);
	mvm_harness_run(c->h);
	mvm_harness_clear_records(c->h);
}

static void done(struct ctx *c)
{
	assert_int_equal(mvm_harness_close(c->h), 0);
}

/* Posts `n` PFNs as one readable buffer on `vq`, kicks and runs. */
static void post_pfns(struct ctx *c, struct mvm_harness_vq *vq,
		      const uint32_t *pfns, unsigned n, bool writable)
{
	uint64_t gpa = mvm_harness_alloc(c->h, n * 4 + 4, 4);
	struct mvm_harness_buf b = {
		.gpa = gpa, .len = n * 4, .writable = writable};

	memcpy(mvm_harness_gpa(c->h, gpa, n * 4), pfns, n * 4);
	assert_true(mvm_harness_vq_add(c->h, vq, &b, 1) >= 0);
	mvm_harness_vq_kick(c->h, vq);
	assert_true(mvm_harness_run(c->h) >= 0);
}

/* Every DISCARD record lies inside RAM; returns how many there were. */
static size_t discards_inside_ram(struct ctx *c, uint64_t *bytes)
{
	size_t n = 0;

	*bytes = 0;
	for (size_t i = 0; i < mvm_harness_nrecords(c->h); i++) {
		const struct mvm_harness_record *r =
			mvm_harness_record(c->h, i);

		if (r->kind != MVM_HREC_DISCARD)
			continue;
		assert_true(r->addr + r->len <= RAM &&
			    r->addr + r->len > r->addr);
		assert_int_equal(r->addr % PAGE, 0);
		assert_int_equal(r->len % PAGE, 0);
		*bytes += r->len;
		n++;
	}
	return n;
}

static void expect_buffer_returned(struct ctx *c, struct mvm_harness_vq *vq)
{
	uint32_t id, len;

	assert_int_equal(mvm_harness_vq_used(c->h, vq, &id, &len), 1);
	assert_false(mvm_harness_vread(c->h, REG(STATUS)) &
		     MVM_VIRTIO_STATUS_NEEDS_RESET);
}

/* Four pages of guest RAM in a run, at 32 MiB. */
static const uint32_t four_pfns[4] = {0x2000, 0x2001, 0x2002, 0x2003};

/* post_pfns, and the device hands the buffer back (expect_buffer_returned). */
static void give_pfns(struct ctx *c, struct mvm_harness_vq *vq,
		      const uint32_t *pfns, unsigned n, bool writable)
{
	post_pfns(c, vq, pfns, n, writable);
	expect_buffer_returned(c, vq);
}

static void test_options_size_is_mandatory(void **s)
{
	char why[512];
	int rc;

	(void)s;
	assert_null(open_balloon("deflate_on_oom=on", why, sizeof(why), &rc));
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(why, "size"));
}

static void test_options_bad_values_name_key_and_value(void **s)
{
	static const struct {
		const char *opts, *needle;
	} cases[] = {
		{"size=1X", "size=1X"},
		{"size=64M", "size="}, /* not smaller than RAM */
		{"size=1G", "size="},  /* bigger than RAM */
		{"size=1M,deflate_on_oom=maybe", "deflate_on_oom=maybe"},
		{"size=1M,free_page_reporting=2", "free_page_reporting=2"},
		{"size=1M,stats=x", "stats=x"},
		{"size=1M,colour=blue", "colour"},
	};
	char why[512];
	int rc;

	(void)s;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		assert_null(open_balloon(cases[i].opts, why, sizeof(why), &rc));
		assert_int_equal(rc, -EINVAL);
		if (!strstr(why, cases[i].needle))
			fail_msg("'%s': '%s' lacks '%s'", cases[i].opts, why,
				 cases[i].needle);
	}
}

static void test_features_follow_options(void **s)
{
	static const struct {
		const char *opts;
		uint64_t bits;
	} cases[] = {
		{"size=0", 0},
		{"size=0,deflate_on_oom=on", F_DEFLATE_ON_OOM},
		{"size=0,stats=2", F_STATS},
		{"size=0,free_page_reporting=on", F_REPORTING},
		{"size=0,deflate_on_oom=on,stats=1,free_page_reporting=on",
		 F_DEFLATE_ON_OOM | F_STATS | F_REPORTING},
	};
	char why[512];
	int rc;

	(void)s;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct mvm_harness *h =
			open_balloon(cases[i].opts, why, sizeof(why), &rc);

		assert_non_null(h);
		uint64_t f = mvm_harness_device_features(h);
		assert_true(f & V1);
		assert_int_equal(f & 0xffffff, cases[i].bits);
		assert_int_equal(mvm_harness_close(h), 0);
	}
}

/* Queue indices for every combination of the three optional features:
 * stats and reporting take consecutive indices only when negotiated. */
static void test_queue_indices_for_every_feature_combination(void **s)
{
	const char *opts = "size=0,deflate_on_oom=on,stats=1,"
			   "free_page_reporting=on";

	(void)s;
	for (unsigned m = 0; m < 8; m++) {
		uint64_t want = V1 | ((m & 1) ? F_STATS : 0) |
				((m & 2) ? F_REPORTING : 0) |
				((m & 4) ? F_DEFLATE_ON_OOM : 0);
		char why[512];
		int rc;
		struct mvm_harness *h =
			open_balloon(opts, why, sizeof(why), &rc);
		uint32_t max[5];

		assert_non_null(h);
		assert_int_equal(mvm_harness_virtio_negotiate(h, want, NULL),
				 0);
		for (unsigned q = 0; q < 5; q++) {
			mvm_harness_vwrite(h, REG(QUEUE_SEL), q);
			max[q] = mvm_harness_vread(h, REG(QUEUE_NUM_MAX));
		}
		assert_true(max[0] > 0 && max[1] > 0);
		unsigned next = 2;
		if (want & F_STATS)
			assert_true(max[next++] > 0);
		if (want & F_REPORTING)
			assert_true(max[next++] >= 32);
		for (; next < 5; next++)
			assert_int_equal(max[next], 0);
		assert_int_equal(mvm_harness_close(h), 0);
	}
}

static void test_inflate_merges_a_contiguous_buffer_into_one_discard(void **s)
{
	struct ctx c;
	uint32_t pfns[256];
	uint64_t bytes;

	(void)s;
	ready(&c, "size=0", 0);
	for (unsigned i = 0; i < 256; i++)
		pfns[i] = 0x2000 + i; /* 32 MiB .. 33 MiB */
	give_pfns(&c, &c.inflate, pfns, 256, false);
	assert_int_equal(discards_inside_ram(&c, &bytes), 1);
	assert_int_equal(bytes, 256 * PAGE);
	done(&c);
}

static void test_inflate_sorts_dedups_and_merges_unsorted_pfns(void **s)
{
	struct ctx c;
	/* Two runs, shuffled, with duplicates: 0x3000-0x3003, 0x3010-0x3011 */
	uint32_t pfns[] = {0x3011, 0x3002, 0x3000, 0x3010, 0x3003,
			   0x3001, 0x3002, 0x3011, 0x3000};
	uint64_t bytes;

	(void)s;
	ready(&c, "size=0", 0);
	give_pfns(&c, &c.inflate, pfns, 9, false);
	assert_int_equal(discards_inside_ram(&c, &bytes), 2);
	assert_int_equal(bytes, 6 * PAGE);
	const struct mvm_harness_record *r = NULL;
	for (size_t i = 0; i < mvm_harness_nrecords(c.h); i++)
		if (mvm_harness_record(c.h, i)->kind == MVM_HREC_DISCARD) {
			r = mvm_harness_record(c.h, i);
			break;
		}
	assert_non_null(r);
	assert_int_equal(r->addr, 0x3000ULL * PAGE);
	assert_int_equal(r->len, 4 * PAGE);
	done(&c);
}

static void test_inflate_ignores_pfns_outside_ram(void **s)
{
	struct ctx c;
	/* Past the end of RAM, in the 32-bit MMIO hole, the largest u32, and
	 * the last page of RAM (valid). */
	uint32_t pfns[] = {(uint32_t)(RAM / PAGE), 0xc0000, 0xfec00, 0xffffffff,
			   (uint32_t)(RAM / PAGE) - 1};
	uint64_t bytes;

	(void)s;
	ready(&c, "size=0", 0);
	give_pfns(&c, &c.inflate, pfns, 5, false);
	assert_int_equal(discards_inside_ram(&c, &bytes), 1);
	assert_int_equal(bytes, PAGE);
	assert_true(mvm_harness_logged(c.h, "not guest RAM"));
	done(&c);
}

static void test_inflate_never_discards_reserved_low_memory(void **s)
{
	struct ctx c;
	/* The ACPI tables' page, the page straddling the EBDA boundary, and a
	 * valid neighbour run around them. */
	uint32_t pfns[] = {0xe0, 0x9f, 0x2000, 0x2001};
	size_t refused = 0, done_ok = 0;

	(void)s;
	ready(&c, "size=0", 0);
	give_pfns(&c, &c.inflate, pfns, 4, false);
	for (size_t i = 0; i < mvm_harness_nrecords(c.h); i++) {
		const struct mvm_harness_record *r = mvm_harness_record(c.h, i);

		if (r->kind != MVM_HREC_DISCARD)
			continue;
		if ((int64_t)r->value == 0) {
			/* Only the valid run went back to the host. */
			assert_int_equal(r->addr, 0x2000ULL * PAGE);
			assert_int_equal(r->len, 2 * PAGE);
			done_ok++;
		} else {
			assert_true(r->addr < 0x100000);
			refused++;
		}
	}
	assert_int_equal(done_ok, 1);
	assert_true(refused >= 2);
	assert_true(mvm_harness_logged(c.h, "cannot be discarded"));
	done(&c);
}

static void test_inflate_device_writable_buffer_is_returned_untouched(void **s)
{
	struct ctx c;
	uint64_t bytes;

	(void)s;
	ready(&c, "size=0", 0);
	give_pfns(&c, &c.inflate, four_pfns, 4, true);
	assert_int_equal(discards_inside_ram(&c, &bytes), 0);
	assert_true(mvm_harness_logged(c.h, "malformed PFN buffer"));
	done(&c);
}

static void test_inflate_length_not_multiple_of_four_is_returned(void **s)
{
	struct ctx c;
	uint64_t gpa, bytes;
	struct mvm_harness_buf b;

	(void)s;
	ready(&c, "size=0", 0);
	gpa = mvm_harness_alloc(c.h, 16, 4);
	b = (struct mvm_harness_buf){.gpa = gpa, .len = 7};
	assert_true(mvm_harness_vq_add(c.h, &c.inflate, &b, 1) >= 0);
	mvm_harness_vq_kick(c.h, &c.inflate);
	mvm_harness_run(c.h);
	expect_buffer_returned(&c, &c.inflate);
	assert_int_equal(discards_inside_ram(&c, &bytes), 0);
	done(&c);
}

static void test_inflate_more_than_256_pfns_is_returned(void **s)
{
	struct ctx c;
	uint32_t pfns[257];
	uint64_t bytes;

	(void)s;
	ready(&c, "size=0", 0);
	for (unsigned i = 0; i < 257; i++)
		pfns[i] = 0x2000 + i;
	give_pfns(&c, &c.inflate, pfns, 257, false);
	assert_int_equal(discards_inside_ram(&c, &bytes), 0);
	done(&c);
}

static void test_deflate_discards_nothing_and_tells_hugepage_tracking(void **s)
{
	struct ctx c;
	uint32_t pfns[3] = {0x2000, 0x2001, 0x2005};
	uint64_t bytes;

	(void)s;
	ready(&c, "size=0", 0);
	give_pfns(&c, &c.deflate, pfns, 3, false);
	assert_int_equal(discards_inside_ram(&c, &bytes), 0);
	assert_int_equal(mvm_harness_count(c.h, MVM_HREC_DISCARD_REUSE), 2);
	done(&c);
}

static void test_failed_run_falls_back_to_pages(void **s)
{
	struct ctx c;

	(void)s;
	ready(&c, "size=0", 0);
	/* The host refuses every discard (as for reserved low memory): the
	 * device retries page by page, counts them as bad, and still hands
	 * the buffer back. */
	mvm_harness_set_discard_result(c.h, -EFAULT);
	give_pfns(&c, &c.inflate, four_pfns, 4, false);
	assert_int_equal(mvm_harness_count(c.h, MVM_HREC_DISCARD), 1 + 4);
	done(&c);
}

static void report(struct ctx *c, uint64_t gpa, uint32_t len)
{
	struct mvm_harness_buf b = {.gpa = gpa, .len = len, .writable = true};

	assert_true(mvm_harness_vq_add(c->h, &c->report, &b, 1) >= 0);
	mvm_harness_vq_kick(c->h, &c->report);
	assert_true(mvm_harness_run(c->h) >= 0);
}

/* report(), and the device hands the chunk back. */
static void report_returned(struct ctx *c, uint64_t gpa, uint32_t len)
{
	report(c, gpa, len);
	expect_buffer_returned(c, &c->report);
}

static void test_reporting_discards_aligned_chunks(void **s)
{
	struct ctx c;
	uint64_t bytes;

	(void)s;
	ready(&c, "size=0,free_page_reporting=on", F_REPORTING);
	report_returned(&c, 16ULL << 20, 2 << 20);
	assert_int_equal(discards_inside_ram(&c, &bytes), 1);
	assert_int_equal(bytes, 2ULL << 20);
	done(&c);
}

static void test_reporting_ignores_unaligned_chunks(void **s)
{
	struct ctx c;
	uint64_t bytes;

	(void)s;
	ready(&c, "size=0,free_page_reporting=on", F_REPORTING);
	report_returned(&c, (16ULL << 20) + 512, 2 << 20);
	report_returned(&c, 16ULL << 20, (2 << 20) - 100);
	assert_int_equal(discards_inside_ram(&c, &bytes), 0);
	done(&c);
}

static void test_reporting_chunk_leaving_ram_is_never_discarded(void **s)
{
	struct ctx c;
	uint64_t bytes;

	(void)s;
	ready(&c, "size=0,free_page_reporting=on", F_REPORTING);
	/* Overlapping the end of RAM, and wholly outside it: the transport
	 * refuses the chain (needs reset) before the balloon sees it. */
	report(&c, RAM - (1 << 20), 2 << 20);
	report(&c, RAM + (8 << 20), 2 << 20);
	assert_int_equal(discards_inside_ram(&c, &bytes), 0);
	done(&c);
}

static void test_reporting_queue_absent_without_the_option(void **s)
{
	struct ctx c;

	(void)s;
	ready(&c, "size=0", F_REPORTING);
	mvm_harness_vwrite(c.h, REG(QUEUE_SEL), 2);
	assert_int_equal(mvm_harness_vread(c.h, REG(QUEUE_NUM_MAX)), 0);
	done(&c);
}

static uint32_t cfg32(struct ctx *c, uint32_t off)
{
	return mvm_harness_vread(c->h, REG(CONFIG) + off);
}

static void test_config_num_pages_is_boot_size(void **s)
{
	struct ctx c;

	(void)s;
	ready(&c, "size=16M", 0);
	assert_int_equal(cfg32(&c, 0), (16 << 20) / PAGE);
	assert_int_equal(cfg32(&c, 4), 0);
	done(&c);
}

static void test_config_actual_written_by_driver_reads_back(void **s)
{
	struct ctx c;

	(void)s;
	ready(&c, "size=16M", 0);
	mvm_harness_vwrite(c.h, REG(CONFIG) + 4, 1234);
	assert_int_equal(cfg32(&c, 4), 1234);
	/* num_pages is the host's: a driver write is ignored. */
	mvm_harness_vwrite(c.h, REG(CONFIG) + 0, 7);
	assert_int_equal(cfg32(&c, 0), (16 << 20) / PAGE);
	done(&c);
}

static void test_stats_buffer_held_until_the_interval(void **s)
{
	struct ctx c;
	uint8_t entries[3 * 10];
	uint64_t gpa;
	struct mvm_harness_buf b;

	(void)s;
	ready(&c, "size=0,stats=2", F_STATS);
	for (unsigned i = 0; i < 3; i++) {
		uint16_t tag = (uint16_t)(i == 2 ? 42 : i + 4);
		uint64_t val = 1000 + i;

		memcpy(entries + 10 * i, &tag, 2);
		memcpy(entries + 10 * i + 2, &val, 8);
	}
	gpa = mvm_harness_alloc(c.h, sizeof(entries), 8);
	memcpy(mvm_harness_gpa(c.h, gpa, sizeof(entries)), entries,
	       sizeof(entries));
	b = (struct mvm_harness_buf){.gpa = gpa, .len = sizeof(entries)};
	assert_true(mvm_harness_vq_add(c.h, &c.stats, &b, 1) >= 0);
	mvm_harness_vq_kick(c.h, &c.stats);
	mvm_harness_run(c.h);
	/* Held: the device asks for a refresh only when the interval is up. */
	assert_int_equal(mvm_harness_vq_used(c.h, &c.stats, NULL, NULL), 0);
	mvm_harness_advance(c.h, 1000000000ULL);
	assert_int_equal(mvm_harness_vq_used(c.h, &c.stats, NULL, NULL), 0);
	mvm_harness_advance(c.h, 1100000000ULL);
	expect_buffer_returned(&c, &c.stats);
	done(&c);
}

static void test_reset_mid_inflate_keeps_the_vmm_alive(void **s)
{
	struct ctx c;
	uint32_t pfns[2] = {0x2000, 0x2001};
	uint64_t gpa;
	struct mvm_harness_buf b;

	(void)s;
	ready(&c, "size=0,stats=1", F_STATS);
	gpa = mvm_harness_alloc(c.h, 8, 4);
	memcpy(mvm_harness_gpa(c.h, gpa, 8), pfns, 8);
	b = (struct mvm_harness_buf){.gpa = gpa, .len = 8};
	assert_true(mvm_harness_vq_add(c.h, &c.inflate, &b, 1) >= 0);
	mvm_harness_vq_kick(c.h, &c.inflate);
	/* Reset before the device ran: the pending kick must find no queue. */
	mvm_harness_vwrite(c.h, REG(STATUS), 0);
	assert_true(mvm_harness_run(c.h) >= 0);
	mvm_harness_advance(c.h, 3000000000ULL);
	assert_int_equal(mvm_harness_vread(c.h, REG(STATUS)), 0);
	assert_int_equal(mvm_harness_count(c.h, MVM_HREC_DISCARD), 0);
	done(&c);
}

/* ---- counters and sizes as a client reads them (balloon.info,
 * query-balloon), through the harness's control API ---- */

static uint64_t info_u64(struct ctx *c, const char *path)
{
	return plugin_api_u64(c->h, "balloon.info", path);
}

static uint64_t counter(struct ctx *c, const char *name)
{
	return plugin_counter(c->h, "balloon.info", name);
}

/* Log records since the last clear, from log_guest (guest) or not. */
static size_t logs(struct ctx *c, bool guest)
{
	size_t n = 0;

	for (size_t i = 0; i < mvm_harness_nrecords(c->h); i++) {
		const struct mvm_harness_record *r =
			mvm_harness_record(c->h, i);

		n += r->kind == MVM_HREC_LOG && r->guest == guest;
	}
	return n;
}

static void test_host_discard_failure_is_a_discard_error_not_bad_pfns(void **s)
{
	struct ctx c;

	(void)s;
	ready(&c, "size=0", 0);
	/* madvise failing for the host's own reasons: the guest named good
	 * RAM, so nothing is its fault, and retrying page by page would only
	 * fail four more times. */
	mvm_harness_set_discard_result(c.h, -ENOMEM);
	give_pfns(&c, &c.inflate, four_pfns, 4, false);
	assert_int_equal(mvm_harness_count(c.h, MVM_HREC_DISCARD), 1);
	assert_int_equal(logs(&c, false), 1);
	assert_int_equal(logs(&c, true), 0);
	assert_true(mvm_harness_logged(c.h, strerror(ENOMEM)));
	assert_counters(c.h, "balloon.info",
			PLUGIN_COUNTS({"discard_errors", 1}, {"bad_pfns", 0},
				      {"inflated_pages", 4},
				      {"discarded_bytes", 0}));
	done(&c);
}

static void test_host_discard_failure_of_one_page_is_a_discard_error(void **s)
{
	struct ctx c;
	uint32_t pfn = 0x3000;

	(void)s;
	ready(&c, "size=0", 0);
	mvm_harness_set_discard_result(c.h, -EAGAIN);
	give_pfns(&c, &c.inflate, &pfn, 1, false);
	assert_counters(c.h, "balloon.info",
			PLUGIN_COUNTS({"discard_errors", 1}, {"bad_pfns", 0}));
	assert_int_equal(logs(&c, true), 0);
	done(&c);
}

static void test_host_failure_on_a_reported_chunk_is_a_discard_error(void **s)
{
	struct ctx c;
	struct mvm_harness_buf b = {
		.gpa = 16ULL << 20, .len = 2 << 20, .writable = true};

	(void)s;
	ready(&c, "size=0,free_page_reporting=on", F_REPORTING);
	mvm_harness_set_discard_result(c.h, -ENOMEM);
	assert_true(mvm_harness_vq_add(c.h, &c.report, &b, 1) >= 0);
	mvm_harness_vq_kick(c.h, &c.report);
	assert_true(mvm_harness_run(c.h) >= 0);
	expect_buffer_returned(&c, &c.report);
	assert_int_equal(mvm_harness_count(c.h, MVM_HREC_DISCARD), 1);
	assert_counters(c.h, "balloon.info",
			PLUGIN_COUNTS({"discard_errors", 1}, {"bad_pfns", 0}));
	done(&c);
}

static void test_reserved_low_memory_is_bad_pfns_not_a_discard_error(void **s)
{
	struct ctx c;
	/* A run over the EBDA boundary: the host refuses it with -EFAULT,
	 * the device splits it and only the reserved page is the guest's
	 * mistake. */
	uint32_t pfns[] = {0x9e, 0x9f, 0xa0};

	(void)s;
	ready(&c, "size=0", 0);
	give_pfns(&c, &c.inflate, pfns, 3, false);
	assert_counters(c.h, "balloon.info",
			PLUGIN_COUNTS({"bad_pfns", 2}, {"discard_errors", 0},
				      {"discarded_bytes", PAGE}));
	done(&c);
}

/* Posts one stats buffer made of `bufs` on the stats queue and runs. */
static void post_stats(struct ctx *c, const struct mvm_harness_buf *bufs,
		       unsigned n)
{
	assert_true(mvm_harness_vq_add(c->h, &c->stats, bufs, n) >= 0);
	mvm_harness_vq_kick(c->h, &c->stats);
	assert_true(mvm_harness_run(c->h) >= 0);
}

/* `n` well-formed entries (tag i+4, value 1000+i) in guest RAM. */
static uint64_t stats_entries(struct ctx *c, unsigned n)
{
	uint64_t gpa = mvm_harness_alloc(c->h, 10 * n + 16, 8);
	uint8_t *p = mvm_harness_gpa(c->h, gpa, 10 * n + 16);

	for (unsigned i = 0; i < n; i++) {
		uint16_t tag = (uint16_t)(i + 4);
		uint64_t val = 1000 + i;

		memcpy(p + 10 * i, &tag, 2);
		memcpy(p + 10 * i + 2, &val, 8);
	}
	return gpa;
}

/* A malformed statistics buffer: counted once, logged once, its statistics
 * ignored, and never stuck: it goes back with the next request for
 * statistics. */
static void expect_stats_buffer_refused(struct ctx *c)
{
	assert_int_equal(counter(c, "bad_buffers"), 1);
	assert_int_equal(counter(c, "stats_updates"), 0);
	assert_int_equal(logs(c, true), 1);
	mvm_harness_advance(c->h, 1100000000ULL);
	expect_buffer_returned(c, &c->stats);
}

/* A stats buffer of one readable descriptor: `len` bytes at `gpa`. */
static void post_stats_at(struct ctx *c, uint64_t gpa, uint32_t len)
{
	post_stats(c, &(struct mvm_harness_buf){.gpa = gpa, .len = len}, 1);
}

/* A driver with the stats queue (stats=1), and two well-formed entries
 * in guest RAM (stats_entries) for its buffer: returns their address. */
static uint64_t ready_with_stats(struct ctx *c)
{
	ready(c, "size=0,stats=1", F_STATS);
	return stats_entries(c, 2);
}

static void test_stats_buffer_with_writable_segment_is_a_bad_buffer(void **s)
{
	struct ctx c;
	uint64_t gpa;

	(void)s;
	gpa = ready_with_stats(&c);
	/* Statistics are a device-readable buffer (spec 5.5.6.3). */
	post_stats(&c,
		   (struct mvm_harness_buf[]){
			   {.gpa = gpa, .len = 20},
			   {.gpa = gpa + 32, .len = 10, .writable = true},
		   },
		   2);
	expect_stats_buffer_refused(&c);
	done(&c);
}

static void test_stats_buffer_of_partial_entries_is_a_bad_buffer(void **s)
{
	struct ctx c;
	uint64_t gpa;

	(void)s;
	gpa = ready_with_stats(&c);
	post_stats_at(&c, gpa, 15);
	expect_stats_buffer_refused(&c);
	done(&c);
}

static void test_second_stats_buffer_is_a_bad_buffer(void **s)
{
	struct ctx c;
	uint64_t gpa;

	(void)s;
	gpa = ready_with_stats(&c);
	post_stats_at(&c, gpa, 20);
	assert_int_equal(counter(&c, "bad_buffers"), 0);
	/* The driver MUST make at most one buffer available (5.5.6.3.1):
	 * the held one goes back at once, the new one waits. */
	post_stats_at(&c, gpa, 20);
	assert_int_equal(counter(&c, "bad_buffers"), 1);
	assert_int_equal(logs(&c, true), 1);
	expect_buffer_returned(&c, &c.stats);
	assert_int_equal(mvm_harness_vq_used(c.h, &c.stats, NULL, NULL), 0);
	mvm_harness_advance(c.h, 1100000000ULL);
	expect_buffer_returned(&c, &c.stats);
	done(&c);
}

static void test_bad_stats_buffer_posted_twice_counts_once(void **s)
{
	struct ctx c;
	uint64_t gpa;

	(void)s;
	gpa = ready_with_stats(&c);
	post_stats_at(&c, gpa, 20);
	post_stats_at(&c, gpa, 7);
	assert_int_equal(counter(&c, "bad_buffers"), 1);
	assert_int_equal(logs(&c, true), 1);
	done(&c);
}

static void test_empty_first_stats_buffer_is_not_bad(void **s)
{
	struct ctx c;

	(void)s;
	ready(&c, "size=0,stats=1", F_STATS);
	/* Spec 5.5.6.3: the channel becomes active when the driver adds an
	 * empty buffer at initialization. */
	post_stats(&c,
		   &(struct mvm_harness_buf){
			   .gpa = mvm_harness_alloc(c.h, 16, 8), .len = 0},
		   1);
	assert_counters(
		c.h, "balloon.info",
		PLUGIN_COUNTS({"bad_buffers", 0}, {"stats_updates", 0}));
	assert_int_equal(logs(&c, true), 0);
	mvm_harness_advance(c.h, 1100000000ULL);
	expect_buffer_returned(&c, &c.stats);
	done(&c);
}

static uint64_t query_balloon(struct ctx *c)
{
	char reply[256];
	uint64_t v = 0;

	assert_int_equal(mvm_harness_api_call(c->h, "query-balloon", NULL,
					      reply, sizeof(reply)),
			 0);
	if (mvm_harness_json_u64(reply, "actual", &v) < 0)
		fail_msg("query-balloon: %s", reply);
	return v;
}

static void test_query_balloon_is_ram_minus_actual(void **s)
{
	struct ctx c;
	uint64_t v;

	(void)s;
	ready(&c, "size=16M", 0);
	assert_int_equal(query_balloon(&c), RAM);
	mvm_harness_vwrite(c.h, REG(CONFIG) + 4, 1000);
	assert_int_equal(query_balloon(&c), RAM - 1000 * PAGE);
	assert_int_equal(info_u64(&c, "available"), RAM - 1000 * PAGE);
	assert_int_equal(mvm_harness_json_u64(
				 mvm_harness_last_event(c.h, "BALLOON_CHANGE"),
				 "actual", &v),
			 0);
	assert_int_equal(v, RAM - 1000 * PAGE);
	done(&c);
}

static void test_actual_beyond_ram_leaves_the_guest_nothing(void **s)
{
	static const uint32_t beyond[] = {RAM / PAGE + 1, 0xffffffffu};
	struct ctx c;
	uint64_t v;

	(void)s;
	for (size_t i = 0; i < sizeof(beyond) / sizeof(*beyond); i++) {
		ready(&c, "size=16M", 0);
		/* A guest claiming more pages than it has: what it can use is
		 * 0, never RAM - actual wrapped around. */
		mvm_harness_vwrite(c.h, REG(CONFIG) + 4, beyond[i]);
		assert_int_equal(query_balloon(&c), 0);
		assert_int_equal(info_u64(&c, "available"), 0);
		/* info keeps the guest's own claim. */
		assert_int_equal(info_u64(&c, "actual"),
				 (uint64_t)beyond[i] * PAGE);
		assert_int_equal(
			mvm_harness_json_u64(
				mvm_harness_last_event(c.h, "BALLOON_CHANGE"),
				"actual", &v),
			0);
		assert_int_equal(v, 0);
		done(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_size_is_mandatory),
		cmocka_unit_test(test_options_bad_values_name_key_and_value),
		cmocka_unit_test(test_features_follow_options),
		cmocka_unit_test(
			test_queue_indices_for_every_feature_combination),
		cmocka_unit_test(
			test_inflate_merges_a_contiguous_buffer_into_one_discard),
		cmocka_unit_test(
			test_inflate_sorts_dedups_and_merges_unsorted_pfns),
		cmocka_unit_test(test_inflate_ignores_pfns_outside_ram),
		cmocka_unit_test(
			test_inflate_never_discards_reserved_low_memory),
		cmocka_unit_test(
			test_inflate_device_writable_buffer_is_returned_untouched),
		cmocka_unit_test(
			test_inflate_length_not_multiple_of_four_is_returned),
		cmocka_unit_test(test_inflate_more_than_256_pfns_is_returned),
		cmocka_unit_test(
			test_deflate_discards_nothing_and_tells_hugepage_tracking),
		cmocka_unit_test(test_failed_run_falls_back_to_pages),
		cmocka_unit_test(test_reporting_discards_aligned_chunks),
		cmocka_unit_test(test_reporting_ignores_unaligned_chunks),
		cmocka_unit_test(
			test_reporting_chunk_leaving_ram_is_never_discarded),
		cmocka_unit_test(
			test_reporting_queue_absent_without_the_option),
		cmocka_unit_test(test_config_num_pages_is_boot_size),
		cmocka_unit_test(
			test_config_actual_written_by_driver_reads_back),
		cmocka_unit_test(test_stats_buffer_held_until_the_interval),
		cmocka_unit_test(test_reset_mid_inflate_keeps_the_vmm_alive),
		cmocka_unit_test(
			test_host_discard_failure_is_a_discard_error_not_bad_pfns),
		cmocka_unit_test(
			test_host_discard_failure_of_one_page_is_a_discard_error),
		cmocka_unit_test(
			test_host_failure_on_a_reported_chunk_is_a_discard_error),
		cmocka_unit_test(
			test_reserved_low_memory_is_bad_pfns_not_a_discard_error),
		cmocka_unit_test(
			test_stats_buffer_with_writable_segment_is_a_bad_buffer),
		cmocka_unit_test(
			test_stats_buffer_of_partial_entries_is_a_bad_buffer),
		cmocka_unit_test(test_second_stats_buffer_is_a_bad_buffer),
		cmocka_unit_test(
			test_bad_stats_buffer_posted_twice_counts_once),
		cmocka_unit_test(test_empty_first_stats_buffer_is_not_bad),
		cmocka_unit_test(test_query_balloon_is_ram_minus_actual),
		cmocka_unit_test(
			test_actual_beyond_ram_leaves_the_guest_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
