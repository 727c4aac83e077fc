/*
 * The virtio-mmio transport and split virtqueues, driven through the
 * harness with the rng plugin as the device: a well-behaved driver first,
 * then hostile ones. Each hostile case checks that the process survived
 * (the test goes on), what the device did (needs-reset status, config
 * interrupt, nothing used) and that it said why in a guest-rate-limited
 * log line.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include <modvmm/harness.h>

#define V1 (1ULL << MVM_VIRTIO_F_VERSION_1)
#define INDIRECT (1ULL << MVM_VIRTIO_F_INDIRECT_DESC)
#define EVENT_IDX (1ULL << MVM_VIRTIO_F_EVENT_IDX)
#define NEEDS_RESET MVM_VIRTIO_STATUS_NEEDS_RESET
#define REG(x) MVM_VIRTIO_MMIO_##x

struct ctx {
	struct mvm_harness *h;
	struct mvm_harness_vq vq;
	int gsi;
};

static struct mvm_harness *open_rng(const char *opts)
{
	struct mvm_harness *h;
	char why[512];
	int r = mvm_harness_open(RNG_PLUGIN_PATH, opts, NULL, &h, why,
				 sizeof(why));

	if (r < 0)
		fail_msg("harness open: %s", why);
	return h;
}

/* QueueReady did not stick, the device said why (`logged`); then the
 * harness is closed. */
static void expect_queue_refused_and_close(struct mvm_harness *h,
					   const char *logged)
{
	assert_int_equal(mvm_harness_vread(h, REG(QUEUE_READY)), 0);
	assert_true(mvm_harness_logged(h, logged));
	assert_int_equal(mvm_harness_close(h), 0);
}

/* A driver that did everything right up to DRIVER_OK. */
static void ready(struct ctx *c, const char *opts, uint64_t features)
{
	c->h = open_rng(opts);
	assert_int_equal(mvm_harness_virtio_negotiate(c->h, features, NULL), 0);
	assert_int_equal(mvm_harness_vq_setup(c->h, &c->vq, 0, 0), 0);
	assert_int_equal(mvm_harness_virtio_driver_ok(c->h), 0);
	c->gsi = mvm_harness_virtio_host(c->h)->gsi(mvm_harness_virtio(c->h));
	mvm_harness_run(c->h);
	mvm_harness_clear_records(c->h);
}

static void done(struct ctx *c)
{
	assert_int_equal(mvm_harness_close(c->h), 0);
}

static uint64_t buf(struct ctx *c, uint32_t len)
{
	return mvm_harness_alloc(c->h, len, 16);
}

/* Makes one device-writable buffer of `len` fresh bytes available. */
static void add_writable(struct ctx *c, uint32_t len)
{
	struct mvm_harness_buf b = {buf(c, len), len, true};

	mvm_harness_vq_add(c->h, &c->vq, &b, 1);
}

static void kick_run(struct ctx *c)
{
	mvm_harness_vq_kick(c->h, &c->vq);
	assert_true(mvm_harness_run(c->h) >= 0);
}

/* What every hostile case must end in. */
static void expect_needs_reset(struct ctx *c, const char *logged)
{
	assert_true(mvm_harness_vread(c->h, REG(STATUS)) & NEEDS_RESET);
	assert_true(mvm_harness_vread(c->h, REG(INTERRUPT_STATUS)) &
		    MVM_VIRTIO_INT_CONFIG);
	assert_int_equal(mvm_harness_irq_edges(c->h, c->gsi), 1);
	assert_int_equal(mvm_harness_vq_used(c->h, &c->vq, NULL, NULL), 0);
	if (!mvm_harness_logged(c->h, logged))
		fail_msg("no log line containing '%s'", logged);
}

/* After a reset and a new negotiation: queue 0 set up again and
 * DRIVER_OK, a buffer comes back used; then the harness is closed. */
static void expect_queue_works_again(struct ctx *c)
{
	assert_int_equal(mvm_harness_vq_setup(c->h, &c->vq, 0, 0), 0);
	assert_int_equal(mvm_harness_virtio_driver_ok(c->h), 0);
	add_writable(c, 32);
	kick_run(c);
	assert_int_equal(mvm_harness_vq_used(c->h, &c->vq, NULL, NULL), 1);
	done(c);
}

/* Publishes descriptor `head` as written by the test and kicks. */
static void publish_kick(struct ctx *c, uint16_t head)
{
	mvm_harness_vq_publish(c->h, &c->vq, head);
	kick_run(c);
}

/* The end of a hostile case: head `head` (written by the test) is
 * published and kicked, the device must refuse the chain
 * (expect_needs_reset), and the harness is closed. */
static void expect_chain_refused(struct ctx *c, uint16_t head,
				 const char *logged)
{
	publish_kick(c, head);
	expect_needs_reset(c, logged);
	done(c);
}

static void set_desc(struct ctx *c, unsigned i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	*mvm_harness_vq_desc(c->h, &c->vq, i) = (struct mvm_harness_desc){
		.addr = addr, .len = len, .flags = flags, .next = next};
}

/* ---- a driver that behaves ---- */

static void test_identity_registers(void **s)
{
	struct mvm_harness *h = open_rng("");
	const struct mvm_dsdt_device *d;

	(void)s;
	assert_int_equal(mvm_harness_vread(h, REG(MAGIC)),
			 MVM_VIRTIO_MMIO_MAGIC_VALUE);
	assert_int_equal(mvm_harness_vread(h, REG(VERSION)), 2);
	assert_int_equal(mvm_harness_vread(h, REG(DEVICE_ID)), 4);
	assert_true(mvm_harness_device_features(h) & V1);
	assert_int_equal(mvm_harness_ndsdt(h), 1);
	d = mvm_harness_dsdt(h, 0);
	assert_string_equal(d->hid, "LNRO0005");
	assert_int_equal(d->mmio_size, 0x1000);
	assert_true(d->gsi >= 5 && d->gsi <= 23);
	assert_false(d->level_triggered);
	assert_int_equal(mvm_harness_close(h), 0);
}

static void test_entropy_fills_writable_buffer(void **s)
{
	struct ctx c;
	uint32_t id, len;
	uint64_t a;
	struct mvm_harness_buf b;
	uint8_t *p;
	unsigned nonzero = 0;

	(void)s;
	ready(&c, "", V1);
	a = buf(&c, 256);
	b = (struct mvm_harness_buf){a, 256, true};
	int head = mvm_harness_vq_add(c.h, &c.vq, &b, 1);
	kick_run(&c);
	assert_int_equal(mvm_harness_vq_used(c.h, &c.vq, &id, &len), 1);
	assert_int_equal(id, (uint32_t)head);
	assert_int_equal(len, 256);
	p = mvm_harness_gpa(c.h, a, 256);
	for (int i = 0; i < 256; i++)
		nonzero += p[i] != 0;
	assert_true(nonzero > 200);
	assert_int_equal(mvm_harness_irq_edges(c.h, c.gsi), 1);
	assert_int_equal(mvm_harness_vread(c.h, REG(INTERRUPT_STATUS)),
			 MVM_VIRTIO_INT_USED);
	mvm_harness_vwrite(c.h, REG(INTERRUPT_ACK), MVM_VIRTIO_INT_USED);
	assert_int_equal(mvm_harness_vread(c.h, REG(INTERRUPT_STATUS)), 0);
	done(&c);
}

static void test_indirect_chain_with_two_segments(void **s)
{
	struct ctx c;
	struct mvm_harness_buf b[2];
	uint32_t len;

	(void)s;
	ready(&c, "", V1 | INDIRECT);
	b[0] = (struct mvm_harness_buf){buf(&c, 100), 100, true};
	b[1] = (struct mvm_harness_buf){buf(&c, 28), 28, true};
	mvm_harness_vq_add_indirect(c.h, &c.vq, b, 2);
	kick_run(&c);
	assert_int_equal(mvm_harness_vq_used(c.h, &c.vq, NULL, &len), 1);
	assert_int_equal(len, 128);
	done(&c);
}

static void test_event_idx_suppresses_interrupts(void **s)
{
	struct ctx c;

	(void)s;
	ready(&c, "", V1 | EVENT_IDX);
	/* The driver wants an interrupt only after the 3rd used entry. */
	mvm_harness_vq_set_used_event(c.h, &c.vq, 2);
	for (int i = 0; i < 2; i++) {
		add_writable(&c, 16);
		kick_run(&c);
	}
	assert_int_equal(mvm_harness_irq_edges(c.h, c.gsi), 0);
	assert_int_equal(mvm_harness_vq_avail_event(c.h, &c.vq), 2);
	add_writable(&c, 16);
	kick_run(&c);
	assert_int_equal(mvm_harness_irq_edges(c.h, c.gsi), 1);
	assert_int_equal(mvm_harness_vq_used_idx(c.h, &c.vq), 3);
	done(&c);
}

static void test_no_interrupt_flag_is_honoured(void **s)
{
	struct ctx c;

	(void)s;
	ready(&c, "", V1);
	mvm_harness_vq_set_avail_flags(c.h, &c.vq, 1);
	add_writable(&c, 16);
	kick_run(&c);
	assert_int_equal(mvm_harness_vq_used_idx(c.h, &c.vq), 1);
	assert_int_equal(mvm_harness_irq_edges(c.h, c.gsi), 0);
	done(&c);
}

static void test_rate_limit_holds_buffers_until_refill(void **s)
{
	struct ctx c;
	uint32_t len;

	(void)s;
	ready(&c, "max_bytes_per_sec=1000", V1);
	for (int i = 0; i < 3; i++) {
		add_writable(&c, 800);
	}
	kick_run(&c);
	/* A full bucket: 800, then the 200 left; the third waits. */
	assert_int_equal(mvm_harness_vq_used(c.h, &c.vq, NULL, &len), 1);
	assert_int_equal(len, 800);
	assert_int_equal(mvm_harness_vq_used(c.h, &c.vq, NULL, &len), 1);
	assert_int_equal(len, 200);
	assert_int_equal(mvm_harness_vq_used(c.h, &c.vq, NULL, NULL), 0);
	assert_int_equal(mvm_harness_ntimers(c.h), 1);
	mvm_harness_advance(c.h, 100000000ULL);
	assert_int_equal(mvm_harness_vq_used(c.h, &c.vq, NULL, &len), 1);
	assert_int_equal(len, 100);
	done(&c);
}

/* Ten refills add exactly the rate, also when it is not a multiple of
 * ten: 15 bytes a second, never 20. */
static void test_rate_limit_is_exact_for_small_rates(void **s)
{
	struct ctx c;
	uint32_t len, total = 0;

	(void)s;
	ready(&c, "max_bytes_per_sec=15", V1);
	for (int i = 0; i < 24; i++) {
		add_writable(&c, 64);
	}
	kick_run(&c);
	for (int i = 0; i < 10; i++)
		mvm_harness_advance(c.h, 100000000ULL);
	while (mvm_harness_vq_used(c.h, &c.vq, NULL, &len) == 1)
		total += len;
	/* The full bucket, then one second of refills. */
	assert_int_equal(total, 15 + 15);
	done(&c);
}

static void test_bad_option_is_refused_with_its_name(void **s)
{
	struct mvm_harness *h;
	char why[512];

	(void)s;
	assert_int_equal(mvm_harness_open(RNG_PLUGIN_PATH,
					  "max_bytes_per_sec=lots", NULL, &h,
					  why, sizeof(why)),
			 -EINVAL);
	assert_null(h);
	assert_non_null(strstr(why, "max_bytes_per_sec"));
}

/* ---- negotiation and status ---- */

static void test_legacy_driver_is_refused(void **s)
{
	struct mvm_harness *h = open_rng("");

	(void)s;
	assert_int_equal(mvm_harness_virtio_negotiate(h, 0, NULL), -EPROTO);
	assert_true(mvm_harness_logged(h, "VERSION_1"));
	assert_int_equal(mvm_harness_close(h), 0);
}

static void test_features_not_offered_are_refused(void **s)
{
	struct mvm_harness *h = open_rng("");

	(void)s;
	mvm_harness_vwrite(h, REG(STATUS), 1);
	mvm_harness_vwrite(h, REG(STATUS), 3);
	mvm_harness_vwrite(h, REG(DRIVER_FEATURES_SEL), 1);
	mvm_harness_vwrite(h, REG(DRIVER_FEATURES), 1 | (1u << 20));
	mvm_harness_vwrite(h, REG(STATUS), 11);
	assert_int_equal(mvm_harness_vread(h, REG(STATUS)), 3);
	assert_int_equal(mvm_harness_close(h), 0);
}

static void test_status_order_is_enforced(void **s)
{
	struct mvm_harness *h = open_rng("");

	(void)s;
	/* DRIVER_OK straight after ACKNOWLEDGE. */
	mvm_harness_vwrite(h, REG(STATUS), 1);
	mvm_harness_vwrite(h, REG(STATUS), 1 | 4);
	assert_int_equal(mvm_harness_vread(h, REG(STATUS)), 1);
	/* DRIVER without ACKNOWLEDGE after a reset. */
	mvm_harness_vwrite(h, REG(STATUS), 0);
	mvm_harness_vwrite(h, REG(STATUS), 2);
	assert_int_equal(mvm_harness_vread(h, REG(STATUS)), 0);
	assert_true(mvm_harness_logged(h, "order"));
	assert_int_equal(mvm_harness_close(h), 0);
}

static void test_writes_in_wrong_status_are_ignored(void **s)
{
	struct mvm_harness *h = open_rng("");
	struct ctx c;

	(void)s;
	/* Queue registers before FEATURES_OK. */
	mvm_harness_vwrite(h, REG(QUEUE_SEL), 0);
	mvm_harness_vwrite(h, REG(QUEUE_DESC_LOW), 0x1000);
	mvm_harness_vwrite(h, REG(QUEUE_READY), 1);
	expect_queue_refused_and_close(h, "before FEATURES_OK");

	/* DriverFeatures after FEATURES_OK, queue layout while ready. */
	ready(&c, "", V1);
	mvm_harness_vwrite(c.h, REG(DRIVER_FEATURES_SEL), 0);
	mvm_harness_vwrite(c.h, REG(DRIVER_FEATURES), 1u << 28);
	assert_true(mvm_harness_logged(c.h, "DriverFeatures write"));
	mvm_harness_vwrite(c.h, REG(QUEUE_DESC_LOW), 0xdead000);
	assert_true(mvm_harness_logged(c.h, "queue is ready"));
	/* The queue still works on its old rings. */
	add_writable(&c, 8);
	kick_run(&c);
	assert_int_equal(mvm_harness_vq_used(c.h, &c.vq, NULL, NULL), 1);
	done(&c);
}

static void test_queue_num_max_is_honoured(void **s)
{
	struct mvm_harness *h = open_rng("");
	struct mvm_harness_vq vq;
	uint32_t max;

	(void)s;
	assert_int_equal(mvm_harness_virtio_negotiate(h, V1, NULL), 0);
	mvm_harness_vwrite(h, REG(QUEUE_SEL), 0);
	max = mvm_harness_vread(h, REG(QUEUE_NUM_MAX));
	assert_true(max > 0);
	assert_int_equal(mvm_harness_vq_setup(h, &vq, 0, (uint16_t)(max * 2)),
			 -EIO);
	assert_int_equal(mvm_harness_vq_setup(h, &vq, 0, 3), -EIO);
	mvm_harness_vwrite(h, REG(QUEUE_SEL), 1);
	assert_int_equal(mvm_harness_vread(h, REG(QUEUE_NUM_MAX)), 0);
	assert_int_equal(mvm_harness_vq_setup(h, &vq, 0, (uint16_t)max), 0);
	assert_int_equal(mvm_harness_close(h), 0);
}

static void test_ring_outside_ram_is_refused(void **s)
{
	struct mvm_harness *h = open_rng("");

	(void)s;
	assert_int_equal(mvm_harness_virtio_negotiate(h, V1, NULL), 0);
	mvm_harness_vwrite(h, REG(QUEUE_SEL), 0);
	mvm_harness_vwrite(h, REG(QUEUE_NUM), 16);
	mvm_harness_vwrite(h, REG(QUEUE_DESC_LOW), 0x3fff000);
	mvm_harness_vwrite(h, REG(QUEUE_DESC_HIGH), 0);
	mvm_harness_vwrite(h, REG(QUEUE_DRIVER_LOW), 0xfffffffe);
	mvm_harness_vwrite(h, REG(QUEUE_DRIVER_HIGH), 0xffffffff);
	mvm_harness_vwrite(h, REG(QUEUE_DEVICE_LOW), 0x2000);
	mvm_harness_vwrite(h, REG(QUEUE_READY), 1);
	expect_queue_refused_and_close(h, "not inside guest RAM");
}

static void test_bad_register_widths_and_offsets(void **s)
{
	struct ctx c;
	uint64_t v;

	(void)s;
	ready(&c, "", V1);
	uint64_t base = mvm_harness_dsdt(c.h, 0)->mmio_base;
	assert_int_equal(mvm_harness_mmio_read(c.h, base, 1, &v), 0);
	assert_int_equal(v, 0);
	mvm_harness_mmio_write(c.h, base + REG(STATUS), 2, 0);
	mvm_harness_mmio_read(c.h, base + 0x100, 4, &v); /* no config */
	mvm_harness_mmio_write(c.h, base + 0xffc, 4, 1);
	mvm_harness_vwrite(c.h, 0x0c, 0x1234); /* read-only VendorID */
	assert_true(mvm_harness_vread(c.h, REG(STATUS)) &
		    MVM_VIRTIO_STATUS_DRIVER_OK);
	assert_true(mvm_harness_logged(c.h, "registers are 32-bit"));
	done(&c);
}

/* ---- hostile rings ---- */

static void test_notify_of_non_ready_queue_does_nothing(void **s)
{
	struct mvm_harness *h = open_rng("");

	(void)s;
	assert_int_equal(mvm_harness_virtio_negotiate(h, V1, NULL), 0);
	assert_int_equal(mvm_harness_virtio_driver_ok(h), 0);
	mvm_harness_vwrite(h, REG(QUEUE_NOTIFY), 0);
	mvm_harness_vwrite(h, REG(QUEUE_NOTIFY), 7);
	mvm_harness_vwrite(h, REG(QUEUE_NOTIFY), 0xffffffff);
	assert_true(mvm_harness_run(h) >= 0);
	assert_true(mvm_harness_logged(h, "not ready"));
	assert_true(mvm_harness_logged(h, "does not exist"));
	assert_int_equal(mvm_harness_count(h, MVM_HREC_IRQ), 0);
	assert_int_equal(mvm_harness_close(h), 0);
}

static void test_descriptor_loop(void **s)
{
	struct ctx c;

	(void)s;
	ready(&c, "", V1);
	uint64_t a = buf(&c, 16);
	set_desc(&c, 0, a, 16, MVM_VIRTQ_DESC_F_NEXT | MVM_VIRTQ_DESC_F_WRITE,
		 1);
	set_desc(&c, 1, a, 16, MVM_VIRTQ_DESC_F_NEXT | MVM_VIRTQ_DESC_F_WRITE,
		 0);
	expect_chain_refused(&c, 0, "loops");
}

static void test_self_loop_in_indirect_table(void **s)
{
	struct ctx c;

	(void)s;
	ready(&c, "", V1 | INDIRECT);
	uint64_t t = buf(&c, 32), a = buf(&c, 16);
	struct mvm_harness_desc *td = mvm_harness_gpa(c.h, t, 32);
	td[0] = (struct mvm_harness_desc){a, 16, 3, 1};
	td[1] = (struct mvm_harness_desc){a, 16, 3, 0};
	set_desc(&c, 0, t, 32, MVM_VIRTQ_DESC_F_INDIRECT, 0);
	expect_chain_refused(&c, 0, "loops");
}

/* Hostile drivers' single descriptors, each case its own test `name`:
 * descriptor 0 holds `addr` (or, with `alloc`, a fresh buffer of that
 * many bytes), `len`, `flags` and `next`; head 0 is published and kicked.
 * Every case must end in NEEDS_RESET with a log line containing `logged`
 * (expect_needs_reset). */
#define F_WRITE MVM_VIRTQ_DESC_F_WRITE
#define F_NEXT MVM_VIRTQ_DESC_F_NEXT
#define F_INDIRECT MVM_VIRTQ_DESC_F_INDIRECT

static const struct bad_desc {
	const char *name;
	uint64_t features, addr;
	uint32_t alloc, len;
	uint16_t flags, next;
	const char *logged;
} bad_descs[] = {
	{"test_buffer_outside_ram", V1, 0x80000000ULL, 0, 64, F_WRITE, 0,
	 "outside guest RAM"},
	{"test_buffer_straddling_ram_end", V1, (64ULL << 20) - 8, 0, 16,
	 F_WRITE, 0, "outside guest RAM"},
	{"test_buffer_length_overflows_address_space", V1,
	 0xfffffffffffff000ULL, 0, 0x2000, F_WRITE, 0, "outside guest RAM"},
	{"test_zero_length_indirect_table", V1 | INDIRECT, 0, 16, 0, F_INDIRECT,
	 0, "indirect table of 0 bytes"},
	{"test_ragged_indirect_table", V1 | INDIRECT, 0, 32, 24, F_INDIRECT, 0,
	 "indirect table of 24 bytes"},
	/* 1025 entries: one more segment than any chain may have. */
	{"test_huge_indirect_table", V1 | INDIRECT, 0, 16 * 1025, 16 * 1025,
	 F_INDIRECT, 0, "indirect table of 16400 bytes"},
	{"test_indirect_table_outside_ram", V1 | INDIRECT, 0x100000000ULL, 0,
	 64, F_INDIRECT, 0, "outside guest RAM"},
	{"test_indirect_without_feature", V1, 0, 16, 16, F_INDIRECT, 0,
	 "without INDIRECT_DESC"},
	{"test_indirect_with_next_flag", V1 | INDIRECT, 0, 16, 16,
	 F_INDIRECT | F_NEXT, 1, "both INDIRECT and NEXT"},
	{"test_next_index_out_of_range", V1, 0, 16, 16, F_WRITE | F_NEXT,
	 0xffff, "next index"},
};

static void test_bad_descriptor(void **state)
{
	const struct bad_desc *t = *state;
	struct ctx c;

	ready(&c, "", t->features);
	set_desc(&c, 0, t->alloc ? buf(&c, t->alloc) : t->addr, t->len,
		 t->flags, t->next);
	expect_chain_refused(&c, 0, t->logged);
}

static void test_indirect_inside_indirect(void **s)
{
	struct ctx c;

	(void)s;
	ready(&c, "", V1 | INDIRECT);
	uint64_t t1 = buf(&c, 16), t2 = buf(&c, 16), a = buf(&c, 16);
	*(struct mvm_harness_desc *)mvm_harness_gpa(c.h, t2, 16) =
		(struct mvm_harness_desc){a, 16, MVM_VIRTQ_DESC_F_WRITE, 0};
	*(struct mvm_harness_desc *)mvm_harness_gpa(c.h, t1, 16) =
		(struct mvm_harness_desc){t2, 16, MVM_VIRTQ_DESC_F_INDIRECT, 0};
	set_desc(&c, 0, t1, 16, MVM_VIRTQ_DESC_F_INDIRECT, 0);
	expect_chain_refused(&c, 0, "inside an indirect");
}

static void test_avail_index_jump(void **s)
{
	struct ctx c;

	(void)s;
	ready(&c, "", V1);
	mvm_harness_vq_set_avail_idx(c.h, &c.vq, (uint16_t)(c.vq.num + 1));
	kick_run(&c);
	expect_needs_reset(&c, "avail index jumped");
	done(&c);
}

static void test_head_index_out_of_range(void **s)
{
	struct ctx c;

	(void)s;
	ready(&c, "", V1);
	expect_chain_refused(&c, (uint16_t)(c.vq.num + 5), "head index");
}

static void test_readable_after_writable(void **s)
{
	struct ctx c;

	(void)s;
	ready(&c, "", V1);
	set_desc(&c, 0, buf(&c, 16), 16,
		 MVM_VIRTQ_DESC_F_WRITE | MVM_VIRTQ_DESC_F_NEXT, 1);
	set_desc(&c, 1, buf(&c, 16), 16, 0, 0);
	expect_chain_refused(&c, 0, "readable descriptor after");
}

static void test_readonly_buffer_is_returned_empty(void **s)
{
	struct ctx c;
	uint32_t len;

	(void)s;
	ready(&c, "", V1);
	set_desc(&c, 0, buf(&c, 16), 16, 0, 0);
	publish_kick(&c, 0);
	assert_int_equal(mvm_harness_vq_used(c.h, &c.vq, NULL, &len), 1);
	assert_int_equal(len, 0);
	assert_false(mvm_harness_vread(c.h, REG(STATUS)) & NEEDS_RESET);
	done(&c);
}

static void test_reset_mid_operation(void **s)
{
	struct ctx c;

	(void)s;
	ready(&c, "", V1);
	add_writable(&c, 64);
	mvm_harness_vq_kick(c.h, &c.vq);
	/* The kick is pending on the loop when the driver resets. */
	mvm_harness_vwrite(c.h, REG(STATUS), 0);
	assert_true(mvm_harness_run(c.h) >= 0);
	assert_int_equal(mvm_harness_vq_used_idx(c.h, &c.vq), 0);
	assert_int_equal(mvm_harness_vread(c.h, REG(INTERRUPT_STATUS)), 0);
	assert_int_equal(mvm_harness_vread(c.h, REG(QUEUE_READY)), 0);
	assert_int_equal(mvm_harness_count(c.h, MVM_HREC_IRQ), 0);
	done(&c);
}

/* A chain outside guest RAM: the device sets NEEDS_RESET. */
static void break_device(struct ctx *c)
{
	set_desc(c, 0, 0x80000000ULL, 64, MVM_VIRTQ_DESC_F_WRITE, 0);
	publish_kick(c, 0);
	assert_true(mvm_harness_vread(c->h, REG(STATUS)) & NEEDS_RESET);
}

static void test_reset_recovers_after_needs_reset(void **s)
{
	struct ctx c;

	(void)s;
	ready(&c, "", V1);
	break_device(&c);
	/* Further kicks are ignored while broken. */
	kick_run(&c);
	assert_int_equal(mvm_harness_irq_edges(c.h, c.gsi), 1);

	assert_int_equal(mvm_harness_virtio_negotiate(c.h, V1, NULL), 0);
	assert_false(mvm_harness_vread(c.h, REG(STATUS)) & NEEDS_RESET);
	expect_queue_works_again(&c);
}

/* ---- handing a queue to an outside engine (ABI 1.3, vhost) ---- */

static struct mvm_virtq *queue0(struct ctx *c)
{
	return mvm_harness_virtio_host(c->h)->queue(mvm_harness_virtio(c->h),
						    0);
}

/* A driver ready (V1) whose queue 0 an engine took: its kick and call
 * eventfds in *kick and *call. Returns the virtio host. */
static const struct mvm_virtio_host *ready_offloaded(struct ctx *c, int *kick,
						     int *call)
{
	const struct mvm_virtio_host *vh;

	ready(c, "", V1);
	vh = mvm_harness_virtio_host(c->h);
	assert_int_equal(vh->queue_offload(queue0(c), kick, call), 0);
	return vh;
}

static uint64_t eventfd_count(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

static void test_queue_rings_match_the_driver(void **s)
{
	const struct mvm_virtio_host *vh;
	struct mvm_virtq_rings r;
	struct ctx c;

	(void)s;
	ready(&c, "", V1);
	vh = mvm_harness_virtio_host(c.h);
	assert_int_equal(vh->queue_rings(queue0(&c), &r), 0);
	assert_int_equal(r.num, c.vq.num);
	assert_int_equal(r.desc_gpa, c.vq.desc);
	assert_int_equal(r.avail_gpa, c.vq.avail);
	assert_int_equal(r.used_gpa, c.vq.used);
	assert_int_equal(r.next_avail, 0);
	assert_int_equal(r.next_used, 0);
	/* A queue the driver took down has no rings to hand out. */
	mvm_harness_vwrite(c.h, REG(QUEUE_SEL), 0);
	mvm_harness_vwrite(c.h, REG(QUEUE_READY), 0);
	assert_int_equal(vh->queue_rings(queue0(&c), &r), -ENODEV);
	done(&c);
}

static void test_offloaded_queue_goes_to_the_engine(void **s)
{
	const struct mvm_virtio_host *vh;
	struct mvm_virtq_chain chain;
	int kick, call, k2, c2;
	struct ctx c;

	(void)s;
	vh = ready_offloaded(&c, &kick, &call);
	assert_true(kick >= 0 && call >= 0 && kick != call);
	assert_int_equal(vh->queue_offload(queue0(&c), &k2, &c2), -EBUSY);
	assert_int_equal(vh->pop(queue0(&c), &chain), -EBUSY);
	assert_int_equal(vh->notify(queue0(&c)), -EBUSY);

	/* The driver's kick reaches the engine's fd, not the plugin. */
	add_writable(&c, 64);
	kick_run(&c);
	assert_int_equal(eventfd_count(kick), 1);
	assert_int_equal(mvm_harness_vq_used_idx(c.h, &c.vq), 0);
	assert_int_equal(mvm_harness_irq_edges(c.h, c.gsi), 0);

	/* The engine's call becomes the used-buffer interrupt. */
	assert_int_equal(eventfd_write(call, 1), 0);
	assert_true(mvm_harness_run(c.h) >= 0);
	assert_int_equal(mvm_harness_irq_edges(c.h, c.gsi), 1);
	assert_int_equal(mvm_harness_vread(c.h, REG(INTERRUPT_STATUS)),
			 MVM_VIRTIO_INT_USED);

	/* Taken back where the engine stopped (it used nothing): the core
	 * serves the waiting buffer at once. */
	assert_int_equal(vh->queue_reclaim(queue0(&c), 0, 0), 0);
	assert_int_equal(vh->queue_reclaim(queue0(&c), 0, 0), -EINVAL);
	assert_true(mvm_harness_run(c.h) >= 0);
	assert_int_equal(mvm_harness_vq_used(c.h, &c.vq, NULL, NULL), 1);
	done(&c);
}

static void test_reclaim_resumes_at_the_engines_indices(void **s)
{
	const struct mvm_virtio_host *vh;
	struct mvm_harness_buf b;
	struct mvm_virtq_rings r;
	int kick, call;
	struct ctx c;
	uint32_t id;

	(void)s;
	vh = ready_offloaded(&c, &kick, &call);
	/* Two buffers; the "engine" consumed the first (as vhost would have
	 * written the used ring) and stopped. */
	add_writable(&c, 16);
	b = (struct mvm_harness_buf){buf(&c, 16), 16, true};
	int second = mvm_harness_vq_add(c.h, &c.vq, &b, 1);
	assert_int_equal(vh->queue_reclaim(queue0(&c), 1, 1), 0);
	assert_int_equal(vh->queue_rings(queue0(&c), &r), 0);
	assert_int_equal(r.next_avail, 1);
	assert_int_equal(r.next_used, 1);
	assert_true(mvm_harness_run(c.h) >= 0);
	/* Only the second buffer is served, into used slot 1. */
	assert_int_equal(mvm_harness_vq_used_idx(c.h, &c.vq), 2);
	c.vq.used_seen = 1;
	assert_int_equal(mvm_harness_vq_used(c.h, &c.vq, &id, NULL), 1);
	assert_int_equal(id, (uint32_t)second);
	done(&c);
}

static void test_reset_ends_the_offload(void **s)
{
	const struct mvm_virtio_host *vh;
	int kick, call;
	struct ctx c;

	(void)s;
	vh = ready_offloaded(&c, &kick, &call);
	/* negotiate resets the device first. */
	assert_int_equal(mvm_harness_virtio_negotiate(c.h, V1, NULL), 0);
	/* The core closed the call fd and reads the kicks again (below). */
	assert_int_equal(fcntl(call, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	/* No queue is ready again yet. */
	assert_int_equal(vh->queue_offload(queue0(&c), &kick, &call), -ENODEV);
	expect_queue_works_again(&c);
}

static void test_offload_refused_when_broken(void **s)
{
	int kick, call;
	struct ctx c;

	(void)s;
	ready(&c, "", V1);
	break_device(&c);
	assert_int_equal(mvm_harness_virtio_host(c.h)->queue_offload(
				 queue0(&c), &kick, &call),
			 -EIO);
	done(&c);
}

static void test_ram_regions_are_guest_ram(void **s)
{
	struct mvm_ram_region r[4];
	const struct mvm_host *host;
	struct mvm_harness *h = open_rng("");
	mvm_dev *dev;
	int n;

	(void)s;
	host = mvm_harness_host(h, &dev);
	assert_true(MVM_HOST_HAS(host, ram_regions));
	n = host->ram_regions(dev, r, 4);
	assert_true(n >= 1 && n <= 4);
	uint64_t total = 0;

	for (int i = 0; i < n; i++) {
		/* The same bytes guest_mem reaches. */
		assert_ptr_equal(r[i].host,
				 host->guest_mem(dev, r[i].gpa, r[i].size));
		total += r[i].size;
	}
	assert_int_equal(total, host->ram_size(dev));
	/* A short array still learns how many there are. */
	assert_int_equal(host->ram_regions(dev, r, 0), n);
	assert_int_equal(mvm_harness_close(h), 0);
}

static void test_many_hostile_kicks_are_rate_limited_by_log(void **s)
{
	struct ctx c;

	(void)s;
	ready(&c, "", V1);
	for (int i = 0; i < 1000; i++)
		mvm_harness_vwrite(c.h, REG(QUEUE_NOTIFY), 99);
	assert_true(mvm_harness_run(c.h) >= 0);
	/* Every attempt reaches log_guest (the host rate-limits it), and
	 * nothing else happens. */
	assert_int_equal(mvm_harness_count(c.h, MVM_HREC_LOG), 1000);
	assert_int_equal(mvm_harness_count(c.h, MVM_HREC_IRQ), 0);
	done(&c);
}

static void test_config_change_bumps_generation(void **s)
{
	struct ctx c;
	const struct mvm_virtio_host *vh;
	uint32_t gen;

	(void)s;
	ready(&c, "", V1);
	vh = mvm_harness_virtio_host(c.h);
	gen = mvm_harness_vread(c.h, REG(CONFIG_GENERATION));
	assert_int_equal(mvm_harness_vread(c.h, REG(CONFIG_GENERATION)), gen);
	vh->config_changed(mvm_harness_virtio(c.h));
	assert_int_not_equal(mvm_harness_vread(c.h, REG(CONFIG_GENERATION)),
			     gen);
	assert_int_equal(mvm_harness_irq_edges(c.h, c.gsi), 1);
	assert_int_equal(mvm_harness_vread(c.h, REG(INTERRUPT_STATUS)),
			 MVM_VIRTIO_INT_CONFIG);
	done(&c);
}

int main(void)
{
	static const struct CMUnitTest others[] = {
		cmocka_unit_test(test_identity_registers),
		cmocka_unit_test(test_queue_rings_match_the_driver),
		cmocka_unit_test(test_offloaded_queue_goes_to_the_engine),
		cmocka_unit_test(test_reclaim_resumes_at_the_engines_indices),
		cmocka_unit_test(test_reset_ends_the_offload),
		cmocka_unit_test(test_offload_refused_when_broken),
		cmocka_unit_test(test_ram_regions_are_guest_ram),
		cmocka_unit_test(test_entropy_fills_writable_buffer),
		cmocka_unit_test(test_indirect_chain_with_two_segments),
		cmocka_unit_test(test_event_idx_suppresses_interrupts),
		cmocka_unit_test(test_no_interrupt_flag_is_honoured),
		cmocka_unit_test(test_rate_limit_holds_buffers_until_refill),
		cmocka_unit_test(test_rate_limit_is_exact_for_small_rates),
		cmocka_unit_test(test_bad_option_is_refused_with_its_name),
		cmocka_unit_test(test_legacy_driver_is_refused),
		cmocka_unit_test(test_features_not_offered_are_refused),
		cmocka_unit_test(test_status_order_is_enforced),
		cmocka_unit_test(test_writes_in_wrong_status_are_ignored),
		cmocka_unit_test(test_queue_num_max_is_honoured),
		cmocka_unit_test(test_ring_outside_ram_is_refused),
		cmocka_unit_test(test_bad_register_widths_and_offsets),
		cmocka_unit_test(test_notify_of_non_ready_queue_does_nothing),
		cmocka_unit_test(test_descriptor_loop),
		cmocka_unit_test(test_self_loop_in_indirect_table),
		cmocka_unit_test(test_indirect_inside_indirect),
		cmocka_unit_test(test_avail_index_jump),
		cmocka_unit_test(test_head_index_out_of_range),
		cmocka_unit_test(test_readable_after_writable),
		cmocka_unit_test(test_readonly_buffer_is_returned_empty),
		cmocka_unit_test(test_reset_mid_operation),
		cmocka_unit_test(test_reset_recovers_after_needs_reset),
		cmocka_unit_test(
			test_many_hostile_kicks_are_rate_limited_by_log),
		cmocka_unit_test(test_config_change_bumps_generation),
	};
	struct CMUnitTest tests[sizeof(others) / sizeof(others[0]) +
				sizeof(bad_descs) / sizeof(bad_descs[0])];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		tests[n++] = others[i];
	/* Then the single-descriptor cases, each under its own name. */
	for (size_t i = 0; i < sizeof(bad_descs) / sizeof(bad_descs[0]); i++)
		tests[n++] = (struct CMUnitTest){bad_descs[i].name,
						 test_bad_descriptor, NULL,
						 NULL, (void *)&bad_descs[i]};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
