/*
 * The virtio-blk plugin through the per-plugin harness, as a guest driver
 * would use it: options and user errors, the features and config space,
 * reads, writes, flush, GET_ID, discard and write-zeroes on a real image
 * file (holes checked with st_blocks), then a hostile driver: ranges past
 * the end or wrapping, lengths that are not whole sectors or are huge, no
 * status byte, writes to a read-only disk, discard segments out of range
 * or too many, unknown types. Each ends IOERR, UNSUPP or NEEDS_RESET, and
 * the image is compared byte for byte to show no I/O landed outside what
 * was asked. Last: requests in flight together, the rate limit with the
 * harness's virtual clock, and a reset with I/O in flight.
 *
 * The plugin's I/O completes asynchronously (io_uring, or its worker
 * threads: BLK_TEST_AIO=threads), so a test waits (bounded) for the
 * completion eventfd before running the harness's event loop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <modvmm/harness.h>

#include "plugin_asserts.h"

#define V1 (1ULL << MVM_VIRTIO_F_VERSION_1)
#define REG(x) MVM_VIRTIO_MMIO_##x
#define F(bit) (1ULL << (bit))
#define F_SIZE_MAX F(1)
#define F_SEG_MAX F(2)
#define F_RO F(5)
#define F_BLK_SIZE F(6)
#define F_FLUSH F(9)
#define F_MQ F(12)
#define F_DISCARD F(13)
#define F_WRITE_ZEROES F(14)

#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define T_GET_LIFETIME 10
#define T_DISCARD 11
#define T_WRITE_ZEROES 13
#define S_OK 0
#define S_IOERR 1
#define S_UNSUPP 2
#define NO_STATUS 0xff /* what the status byte holds before an answer */

#define IMG_SIZE (1ULL << 20) /* 2048 sectors */
#define SECTORS (IMG_SIZE / 512)

struct ctx {
	struct mvm_harness *h;
	struct mvm_harness_vq vq;
	char path[64];
	int fd;
	uint8_t *shadow; /* what the image must hold */
};

/* A pattern that differs per byte and per sector. */
static uint8_t pat(uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 9) * 13 + 1);
}

static void make_image(struct ctx *c, uint64_t size)
{
	strcpy(c->path, "/tmp/test_virtio_blk.XXXXXX");
	c->fd = mkstemp(c->path);
	assert_true(c->fd >= 0);
	c->shadow = malloc(size ? size : 1);
	for (uint64_t i = 0; i < size; i++)
		c->shadow[i] = pat(i);
	assert_int_equal(pwrite(c->fd, c->shadow, size, 0), (ssize_t)size);
	fsync(c->fd);
}

static void drop_image(struct ctx *c)
{
	close(c->fd);
	unlink(c->path);
	free(c->shadow);
}

static int open_disk(struct ctx *c, const char *extra, char *why, size_t n)
{
	char opts[256];
	const char *aio = getenv("BLK_TEST_AIO"); /* io_uring or threads */

	snprintf(opts, sizeof(opts), "path=%s%s%s%s%s", c->path,
		 aio ? ",aio=" : "", aio ? aio : "", *extra ? "," : "", extra);
	return mvm_harness_open(BLK_PLUGIN_PATH, opts, NULL, &c->h, why, n);
}

/* A driver that took every offered feature and set up queue 0. */
static void ready(struct ctx *c, const char *extra)
{
	char why[512];

	memset(c, 0, sizeof(*c));
	make_image(c, IMG_SIZE);
	if (open_disk(c, extra, why, sizeof(why)) < 0)
		fail_msg("harness open: %s", why);
	assert_int_equal(mvm_harness_virtio_negotiate(c->h, ~0ULL, NULL), 0);
	assert_int_equal(mvm_harness_vq_setup(c->h, &c->vq, 0, 0), 0);
	assert_int_equal(mvm_harness_virtio_driver_ok(c->h), 0);
	mvm_harness_clear_records(c->h);
}

static void done(struct ctx *c)
{
	assert_int_equal(mvm_harness_close(c->h), 0);
	drop_image(c);
}

static bool needs_reset(struct ctx *c)
{
	return mvm_harness_vread(c->h, REG(STATUS)) &
	       MVM_VIRTIO_STATUS_NEEDS_RESET;
}

/* Run the loop until `n` used entries arrived (or `ms` passed); returns
 * how many did. */
static unsigned wait_used_ms(struct ctx *c, unsigned n, uint32_t *lens, int ms)
{
	unsigned got = 0;

	for (int i = 0; i < ms && got < n; i++) {
		uint32_t id, len;

		assert_true(mvm_harness_run(c->h) >= 0);
		while (got < n && mvm_harness_vq_used(c->h, &c->vq, &id, &len))
			if (lens)
				lens[got++] = len;
			else
				got++;
		if (got < n) {
			struct timespec ts = {0, 1000000};

			nanosleep(&ts, NULL);
		}
	}
	return got;
}

static unsigned wait_used(struct ctx *c, unsigned n, uint32_t *lens)
{
	return wait_used_ms(c, n, lens, 5000);
}

struct req {
	uint64_t hdr, data, status; /* gpas */
};

static struct req make_req(struct ctx *c, uint32_t type, uint64_t sector,
			   uint32_t datalen)
{
	struct req r;
	uint8_t *h;

	r.hdr = mvm_harness_alloc(c->h, 16, 16);
	r.data = datalen ? mvm_harness_alloc(c->h, datalen, 512) : 0;
	r.status = mvm_harness_alloc(c->h, 1, 1);
	h = mvm_harness_gpa(c->h, r.hdr, 16);
	memcpy(h, &type, 4);
	memset(h + 4, 0, 4);
	memcpy(h + 8, &sector, 8);
	*(uint8_t *)mvm_harness_gpa(c->h, r.status, 1) = NO_STATUS;
	return r;
}

static uint8_t status_of(struct ctx *c, const struct req *r)
{
	return *(uint8_t *)mvm_harness_gpa(c->h, r->status, 1);
}

/* Post header, data (device-writable for IN and GET_ID) and status, kick,
 * wait for the answer; returns the status byte. */
static uint8_t submit(struct ctx *c, struct req *r, uint32_t type,
		      uint32_t datalen, uint32_t *used_len)
{
	bool in = type == T_IN || type == T_GET_ID;
	struct mvm_harness_buf b[3] = {{r->hdr, 16, false}};
	unsigned n = 1;
	uint32_t len = 0;

	if (datalen)
		b[n++] = (struct mvm_harness_buf){r->data, datalen, in};
	b[n++] = (struct mvm_harness_buf){r->status, 1, true};
	assert_true(mvm_harness_vq_add(c->h, &c->vq, b, n) >= 0);
	mvm_harness_vq_kick(c->h, &c->vq);
	assert_int_equal(wait_used(c, 1, &len), 1);
	if (used_len)
		*used_len = len;
	return status_of(c, r);
}

static uint8_t do_req(struct ctx *c, uint32_t type, uint64_t sector,
		      uint32_t datalen, struct req *out)
{
	struct req r = make_req(c, type, sector, datalen);
	uint8_t st;

	if (type == T_OUT && datalen)
		memset(mvm_harness_gpa(c->h, r.data, datalen), 0xa5, datalen);
	st = submit(c, &r, type, datalen, NULL);
	if (out)
		*out = r;
	return st;
}

/* The image file still holds exactly the shadow copy. */
static void image_unchanged(struct ctx *c)
{
	uint8_t *now = malloc(IMG_SIZE);

	assert_int_equal(pread(c->fd, now, IMG_SIZE, 0), (ssize_t)IMG_SIZE);
	assert_memory_equal(now, c->shadow, IMG_SIZE);
	free(now);
}

static uint64_t blocks(struct ctx *c)
{
	struct stat st;

	assert_int_equal(fstat(c->fd, &st), 0);
	return (uint64_t)st.st_blocks;
}

/* A DISCARD / WRITE_ZEROES request with `n` segments. */
static uint8_t dwz(struct ctx *c, uint32_t type, const uint64_t *sector,
		   const uint32_t *nsec, const uint32_t *flags, unsigned n)
{
	struct req r = make_req(c, type, 0, 0);
	uint64_t segs = mvm_harness_alloc(c->h, 16ULL * n, 16);
	uint8_t *p = mvm_harness_gpa(c->h, segs, 16ULL * n);
	struct mvm_harness_buf b[3] = {
		{r.hdr, 16, false}, {segs, 16 * n, false}, {r.status, 1, true}};

	for (unsigned i = 0; i < n; i++) {
		memcpy(p + 16 * i, &sector[i], 8);
		memcpy(p + 16 * i + 8, &nsec[i], 4);
		memcpy(p + 16 * i + 12, &flags[i], 4);
	}
	assert_true(mvm_harness_vq_add(c->h, &c->vq, b, 3) >= 0);
	mvm_harness_vq_kick(c->h, &c->vq);
	assert_int_equal(wait_used(c, 1, NULL), 1);
	return status_of(c, &r);
}

/* ---- options and user errors ---- */

static void expect_open_fails(struct ctx *c, const char *extra,
			      const char *needle)
{
	char why[512] = "";

	c->h = NULL;
	assert_true(open_disk(c, extra, why, sizeof(why)) < 0);
	assert_null(c->h);
	if (!strstr(why, needle))
		fail_msg("'%s' not in '%s'", needle, why);
}

static void test_path_is_mandatory(void **s)
{
	struct mvm_harness *h = NULL;
	char why[512];

	(void)s;
	assert_int_equal(mvm_harness_open(BLK_PLUGIN_PATH, "readonly=on", NULL,
					  &h, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "path"));
}

static void test_user_errors_name_the_problem(void **s)
{
	struct ctx c = {0};

	(void)s;
	make_image(&c, 1000);
	expect_open_fails(&c, "", "not a positive multiple of 512");
	drop_image(&c);
	make_image(&c, 4096);
	expect_open_fails(&c, "queue_size=100", "power of two");
	expect_open_fails(&c, "serial=123456789012345678901", "at most 20");
	expect_open_fails(&c, "num_queues=0", "num_queues");
	expect_open_fails(&c, "colour=blue", "colour");
	expect_open_fails(&c, "readonly=maybe", "readonly");
	expect_open_fails(&c, "aio=native", "aio=native");
	drop_image(&c);
	strcpy(c.path, "/nonexistent/disk.img");
	expect_open_fails(&c, "", "No such file");
}

static void test_second_writer_is_refused(void **s)
{
	struct ctx c, c2;
	char why[512];

	(void)s;
	ready(&c, "");
	c2 = c;
	c2.h = NULL;
	assert_true(open_disk(&c2, "", why, sizeof(why)) < 0);
	assert_non_null(strstr(why, "locked"));
	done(&c);
}

/* ---- features and config ---- */

static void test_features_and_config(void **s)
{
	struct ctx c;
	uint64_t f;

	(void)s;
	ready(&c, "");
	f = mvm_harness_device_features(c.h);
	assert_true(f & V1);
	assert_true((f & (F_SIZE_MAX | F_SEG_MAX | F_BLK_SIZE | F_FLUSH |
			  F_DISCARD | F_WRITE_ZEROES)) ==
		    (F_SIZE_MAX | F_SEG_MAX | F_BLK_SIZE | F_FLUSH | F_DISCARD |
		     F_WRITE_ZEROES));
	assert_false(f & (F_RO | F_MQ));
	assert_int_equal(mvm_harness_vread(c.h, REG(CONFIG)), SECTORS);
	assert_int_equal(mvm_harness_vread(c.h, REG(CONFIG) + 4), 0);
	assert_int_equal(mvm_harness_vread(c.h, REG(CONFIG) + 12), 126);
	assert_int_equal(mvm_harness_vread(c.h, REG(CONFIG) + 20), 512);
	assert_int_equal(mvm_harness_vread(c.h, REG(CONFIG) + 40), 32);
	done(&c);
}

static void test_readonly_offers_ro_and_no_discard(void **s)
{
	struct ctx c;
	uint64_t f;

	(void)s;
	ready(&c, "readonly=on");
	f = mvm_harness_device_features(c.h);
	assert_true(f & F_RO);
	assert_false(f & (F_DISCARD | F_WRITE_ZEROES));
	done(&c);
}

static void test_discard_off_keeps_write_zeroes(void **s)
{
	struct ctx c;
	uint64_t f;

	(void)s;
	ready(&c, "discard=off");
	f = mvm_harness_device_features(c.h);
	assert_false(f & F_DISCARD);
	assert_true(f & F_WRITE_ZEROES);
	done(&c);
}

static void test_num_queues_offers_mq(void **s)
{
	struct ctx c;
	struct mvm_harness_vq q3;

	(void)s;
	ready(&c, "num_queues=4,queue_size=64");
	assert_true(mvm_harness_device_features(c.h) & F_MQ);
	assert_int_equal(mvm_harness_vread(c.h, REG(CONFIG) + 32) >> 16, 4);
	/* The last queue serves requests too. */
	mvm_harness_vwrite(c.h, REG(STATUS), 0);
	assert_int_equal(mvm_harness_virtio_negotiate(c.h, ~0ULL, NULL), 0);
	assert_int_equal(mvm_harness_vq_setup(c.h, &q3, 3, 0), 0);
	assert_int_equal(q3.num, 64);
	assert_int_equal(mvm_harness_virtio_driver_ok(c.h), 0);
	c.vq = q3;
	assert_int_equal(do_req(&c, T_FLUSH, 0, 0, NULL), S_OK);
	done(&c);
}

/* ---- requests ---- */

static void test_read_returns_image_data(void **s)
{
	struct ctx c;
	struct req r;
	uint32_t len;

	(void)s;
	ready(&c, "");
	r = make_req(&c, T_IN, 5, 4096);
	assert_int_equal(submit(&c, &r, T_IN, 4096, &len), S_OK);
	assert_int_equal(len, 4097);
	assert_memory_equal(mvm_harness_gpa(c.h, r.data, 4096),
			    c.shadow + 5 * 512, 4096);
	done(&c);
}

static void test_write_lands_in_image(void **s)
{
	struct ctx c;

	(void)s;
	ready(&c, "");
	assert_int_equal(do_req(&c, T_OUT, 7, 1024, NULL), S_OK);
	memset(c.shadow + 7 * 512, 0xa5, 1024);
	image_unchanged(&c);
	done(&c);
}

static void test_header_and_data_in_one_descriptor(void **s)
{
	struct ctx c;
	uint64_t buf;
	uint8_t *p;
	uint32_t type = T_OUT;
	uint64_t sector = 3;
	struct req r;

	(void)s;
	ready(&c, "");
	r = make_req(&c, T_OUT, 0, 0);
	buf = mvm_harness_alloc(c.h, 16 + 512, 16);
	p = mvm_harness_gpa(c.h, buf, 16 + 512);
	memcpy(p, &type, 4);
	memcpy(p + 8, &sector, 8);
	memset(p + 16, 0x3c, 512);
	struct mvm_harness_buf b[2] = {{buf, 16 + 512, false},
				       {r.status, 1, true}};
	assert_true(mvm_harness_vq_add(c.h, &c.vq, b, 2) >= 0);
	mvm_harness_vq_kick(c.h, &c.vq);
	assert_int_equal(wait_used(&c, 1, NULL), 1);
	assert_int_equal(status_of(&c, &r), S_OK);
	memset(c.shadow + 3 * 512, 0x3c, 512);
	image_unchanged(&c);
	done(&c);
}

/* O_DIRECT refuses a buffer that is not block-aligned in host memory; the
 * device does that one through the page cache instead. */
static void test_direct_with_misaligned_buffer(void **s)
{
	struct ctx c;
	struct req r;
	uint64_t odd;

	(void)s;
	ready(&c, "direct=on");
	r = make_req(&c, T_OUT, 0, 0);
	odd = mvm_harness_alloc(c.h, 4096 + 8, 4096) + 8;
	memset(mvm_harness_gpa(c.h, odd, 4096), 0x5a, 4096);
	struct mvm_harness_buf b[3] = {
		{r.hdr, 16, false}, {odd, 4096, false}, {r.status, 1, true}};
	assert_true(mvm_harness_vq_add(c.h, &c.vq, b, 3) >= 0);
	mvm_harness_vq_kick(c.h, &c.vq);
	assert_int_equal(wait_used(&c, 1, NULL), 1);
	assert_int_equal(status_of(&c, &r), S_OK);
	memset(c.shadow, 0x5a, 4096);
	image_unchanged(&c);
	/* An aligned read goes through O_DIRECT. */
	r = make_req(&c, T_IN, 8, 4096);
	assert_int_equal(submit(&c, &r, T_IN, 4096, NULL), S_OK);
	assert_memory_equal(mvm_harness_gpa(c.h, r.data, 4096), c.shadow + 4096,
			    4096);
	done(&c);
}

static void test_flush_succeeds(void **s)
{
	struct ctx c;

	(void)s;
	ready(&c, "");
	assert_int_equal(do_req(&c, T_FLUSH, 0, 0, NULL), S_OK);
	done(&c);
}

static void test_get_id_returns_serial(void **s)
{
	struct ctx c;
	struct req r;

	(void)s;
	ready(&c, "serial=disk-0042");
	assert_int_equal(do_req(&c, T_GET_ID, 0, 20, &r), S_OK);
	assert_memory_equal(mvm_harness_gpa(c.h, r.data, 20),
			    "disk-0042\0\0\0\0\0\0\0\0\0\0\0", 20);
	done(&c);
}

static void test_discard_punches_a_hole(void **s)
{
	struct ctx c;
	uint64_t before, sector = 256;
	uint32_t nsec = 512, flags = 0;

	(void)s;
	ready(&c, "");
	before = blocks(&c);
	assert_int_equal(dwz(&c, T_DISCARD, &sector, &nsec, &flags, 1), S_OK);
	/* 256 KiB = 512 st_blocks of 512 bytes went back to the host. */
	assert_true(blocks(&c) + 512 <= before);
	memset(c.shadow + sector * 512, 0, nsec * 512);
	image_unchanged(&c);
	done(&c);
}

static void test_write_zeroes_with_unmap_punches_a_hole(void **s)
{
	struct ctx c;
	uint64_t before, sector[2] = {0, 1024};
	uint32_t nsec[2] = {16, 256}, flags[2] = {0, 1};

	(void)s;
	ready(&c, "");
	before = blocks(&c);
	assert_int_equal(dwz(&c, T_WRITE_ZEROES, sector, nsec, flags, 2), S_OK);
	assert_true(blocks(&c) + 256 <= before);
	memset(c.shadow, 0, 16 * 512);
	memset(c.shadow + 1024 * 512, 0, 256 * 512);
	image_unchanged(&c);
	done(&c);
}

/* ---- a hostile driver ---- */

static void test_read_past_end_or_wrapping_is_ioerr(void **s)
{
	struct ctx c;

	(void)s;
	ready(&c, "");
	assert_int_equal(do_req(&c, T_IN, SECTORS, 512, NULL), S_IOERR);
	assert_int_equal(do_req(&c, T_IN, SECTORS - 1, 1024, NULL), S_IOERR);
	assert_int_equal(do_req(&c, T_IN, UINT64_MAX, 512, NULL), S_IOERR);
	assert_int_equal(do_req(&c, T_OUT, UINT64_MAX - 1, 1024, NULL),
			 S_IOERR);
	assert_int_equal(do_req(&c, T_OUT, UINT64_MAX / 512 + 1, 512, NULL),
			 S_IOERR);
	assert_int_equal(do_req(&c, T_OUT, SECTORS, 512, NULL), S_IOERR);
	/* The last sector itself is fine. */
	assert_int_equal(do_req(&c, T_OUT, SECTORS - 1, 512, NULL), S_OK);
	memset(c.shadow + IMG_SIZE - 512, 0xa5, 512);
	image_unchanged(&c);
	assert_false(needs_reset(&c));
	done(&c);
}

static void test_partial_sector_lengths_are_ioerr(void **s)
{
	struct ctx c;

	(void)s;
	ready(&c, "");
	assert_int_equal(do_req(&c, T_IN, 0, 511, NULL), S_IOERR);
	assert_int_equal(do_req(&c, T_OUT, 0, 513, NULL), S_IOERR);
	assert_int_equal(do_req(&c, T_OUT, 0, 1, NULL), S_IOERR);
	image_unchanged(&c);
	done(&c);
}

static void test_huge_length_is_ioerr(void **s)
{
	struct ctx c;
	struct req r;
	struct mvm_harness_buf b[6];
	/* 4 x 4 MiB of guest RAM: more than the whole 1 MiB disk. */
	uint64_t data;

	(void)s;
	ready(&c, "");
	r = make_req(&c, T_OUT, 0, 0);
	data = mvm_harness_alloc(c.h, 16ULL << 20, 4096);
	b[0] = (struct mvm_harness_buf){r.hdr, 16, false};
	for (int i = 0; i < 4; i++)
		b[1 + i] = (struct mvm_harness_buf){
			data + (uint64_t)i * (4 << 20), 4 << 20, false};
	b[5] = (struct mvm_harness_buf){r.status, 1, true};
	assert_true(mvm_harness_vq_add(c.h, &c.vq, b, 6) >= 0);
	mvm_harness_vq_kick(c.h, &c.vq);
	assert_int_equal(wait_used(&c, 1, NULL), 1);
	assert_int_equal(status_of(&c, &r), S_IOERR);
	image_unchanged(&c);
	done(&c);
}

static void test_short_header_is_ioerr(void **s)
{
	struct ctx c;
	struct req r;

	(void)s;
	ready(&c, "");
	r = make_req(&c, T_OUT, 0, 0);
	struct mvm_harness_buf b[2] = {{r.hdr, 8, false}, {r.status, 1, true}};
	assert_true(mvm_harness_vq_add(c.h, &c.vq, b, 2) >= 0);
	mvm_harness_vq_kick(c.h, &c.vq);
	assert_int_equal(wait_used(&c, 1, NULL), 1);
	assert_int_equal(status_of(&c, &r), S_IOERR);
	done(&c);
}

static void test_missing_status_byte_needs_reset(void **s)
{
	struct ctx c;
	struct req r;

	(void)s;
	ready(&c, "");
	r = make_req(&c, T_OUT, 0, 512);
	/* Header, data and a "status" the device may only read. */
	struct mvm_harness_buf b[3] = {
		{r.hdr, 16, false}, {r.data, 512, false}, {r.status, 1, false}};
	assert_true(mvm_harness_vq_add(c.h, &c.vq, b, 3) >= 0);
	assert_kick_needs_reset(c.h, &c.vq);
	assert_int_equal(status_of(&c, &r), NO_STATUS);
	image_unchanged(&c);
	/* The driver resets and the disk works again. */
	mvm_harness_vwrite(c.h, REG(STATUS), 0);
	assert_int_equal(mvm_harness_virtio_negotiate(c.h, ~0ULL, NULL), 0);
	assert_int_equal(mvm_harness_vq_setup(c.h, &c.vq, 0, 0), 0);
	assert_int_equal(mvm_harness_virtio_driver_ok(c.h), 0);
	assert_int_equal(do_req(&c, T_FLUSH, 0, 0, NULL), S_OK);
	done(&c);
}

static void test_header_only_chain_needs_reset(void **s)
{
	struct ctx c;
	struct req r;

	(void)s;
	ready(&c, "");
	r = make_req(&c, T_FLUSH, 0, 0);
	struct mvm_harness_buf b = {r.hdr, 16, false};
	assert_true(mvm_harness_vq_add(c.h, &c.vq, &b, 1) >= 0);
	assert_kick_needs_reset(c.h, &c.vq);
	done(&c);
}

static void test_writes_to_readonly_disk_are_ioerr(void **s)
{
	struct ctx c;
	uint64_t sector = 0;
	uint32_t nsec = 8, flags = 0;

	(void)s;
	ready(&c, "readonly=on");
	assert_int_equal(do_req(&c, T_OUT, 0, 512, NULL), S_IOERR);
	assert_int_equal(dwz(&c, T_WRITE_ZEROES, &sector, &nsec, &flags, 1),
			 S_UNSUPP);
	assert_int_equal(dwz(&c, T_DISCARD, &sector, &nsec, &flags, 1),
			 S_UNSUPP);
	assert_int_equal(do_req(&c, T_IN, 0, 512, NULL), S_OK);
	assert_int_equal(do_req(&c, T_FLUSH, 0, 0, NULL), S_OK);
	image_unchanged(&c);
	done(&c);
}

static void test_bad_discard_segments(void **s)
{
	struct ctx c;
	uint64_t sec[33];
	uint32_t nsec[33], flags[33];

	(void)s;
	ready(&c, "");
	for (int i = 0; i < 33; i++) {
		sec[i] = (uint64_t)i * 8;
		nsec[i] = 8;
		flags[i] = 0;
	}
	/* Too many segments (max_discard_seg is 32). */
	assert_int_equal(dwz(&c, T_DISCARD, sec, nsec, flags, 33), S_UNSUPP);
	/* Out of range, wrapping, too long; the good first segment is not
	 * done either: a request is checked whole before any I/O. */
	sec[1] = SECTORS - 4;
	assert_int_equal(dwz(&c, T_DISCARD, sec, nsec, flags, 2), S_IOERR);
	sec[1] = UINT64_MAX - 2;
	assert_int_equal(dwz(&c, T_DISCARD, sec, nsec, flags, 2), S_IOERR);
	sec[1] = 0;
	nsec[1] = UINT32_MAX;
	assert_int_equal(dwz(&c, T_WRITE_ZEROES, sec, nsec, flags, 2), S_IOERR);
	nsec[1] = 8;
	/* Unmap on a discard, and reserved flag bits (spec 5.2.6.2). */
	flags[1] = 1;
	assert_int_equal(dwz(&c, T_DISCARD, sec, nsec, flags, 2), S_UNSUPP);
	flags[1] = 4;
	assert_int_equal(dwz(&c, T_WRITE_ZEROES, sec, nsec, flags, 2),
			 S_UNSUPP);
	image_unchanged(&c);
	assert_false(needs_reset(&c));
	done(&c);
}

static void test_discard_payload_not_whole_segments_is_ioerr(void **s)
{
	struct ctx c;
	struct req r;
	uint64_t seg;

	(void)s;
	ready(&c, "");
	r = make_req(&c, T_DISCARD, 0, 0);
	seg = mvm_harness_alloc(c.h, 24, 8);
	struct mvm_harness_buf b[3] = {
		{r.hdr, 16, false}, {seg, 24, false}, {r.status, 1, true}};
	assert_true(mvm_harness_vq_add(c.h, &c.vq, b, 3) >= 0);
	mvm_harness_vq_kick(c.h, &c.vq);
	assert_int_equal(wait_used(&c, 1, NULL), 1);
	assert_int_equal(status_of(&c, &r), S_IOERR);
	/* And no segment at all. */
	assert_int_equal(do_req(&c, T_DISCARD, 0, 0, NULL), S_IOERR);
	image_unchanged(&c);
	done(&c);
}

static void test_unknown_types_are_unsupp(void **s)
{
	struct ctx c;

	(void)s;
	ready(&c, "");
	assert_int_equal(do_req(&c, T_GET_LIFETIME, 0, 0, NULL), S_UNSUPP);
	assert_int_equal(do_req(&c, 14, 0, 0, NULL), S_UNSUPP); /* erase */
	assert_int_equal(do_req(&c, 0x80000000u, 0, 0, NULL), S_UNSUPP);
	assert_int_equal(do_req(&c, 2, 0, 512, NULL), S_UNSUPP);
	image_unchanged(&c);
	assert_false(needs_reset(&c));
	done(&c);
}

/* ---- concurrency, limits, reset ---- */

static void test_many_requests_in_flight(void **s)
{
	struct ctx c;
	struct req r[32];

	(void)s;
	ready(&c, "");
	for (int i = 0; i < 32; i++) {
		r[i] = make_req(&c, T_IN, (uint64_t)i * 8, 4096);
		struct mvm_harness_buf b[3] = {{r[i].hdr, 16, false},
					       {r[i].data, 4096, true},
					       {r[i].status, 1, true}};
		assert_true(mvm_harness_vq_add(c.h, &c.vq, b, 3) >= 0);
	}
	mvm_harness_vq_kick(c.h, &c.vq);
	assert_int_equal(wait_used(&c, 32, NULL), 32);
	for (int i = 0; i < 32; i++) {
		assert_int_equal(status_of(&c, &r[i]), S_OK);
		assert_memory_equal(mvm_harness_gpa(c.h, r[i].data, 4096),
				    c.shadow + (uint64_t)i * 4096, 4096);
	}
	done(&c);
}

static void test_ops_limit_holds_requests_until_refill(void **s)
{
	struct ctx c;
	uint32_t id, len;
	unsigned got = 0;

	(void)s;
	ready(&c, "ops_size=2,ops_refill_time=1000");
	for (int i = 0; i < 6; i++) {
		struct req r = make_req(&c, T_FLUSH, 0, 0);
		struct mvm_harness_buf b[2] = {{r.hdr, 16, false},
					       {r.status, 1, true}};
		assert_true(mvm_harness_vq_add(c.h, &c.vq, b, 2) >= 0);
	}
	mvm_harness_vq_kick(c.h, &c.vq);
	assert_int_equal(wait_used(&c, 2, NULL), 2);
	/* The bucket is empty: nothing more without time passing. */
	usleep(20000);
	assert_true(mvm_harness_run(c.h) >= 0);
	assert_int_equal(mvm_harness_vq_used(c.h, &c.vq, &id, &len), 0);
	assert_true(mvm_harness_ntimers(c.h) == 1);
	/* One second refills two tokens; the rest follows. */
	for (int i = 0; i < 30 && got < 4; i++) {
		assert_true(mvm_harness_advance(c.h, 100000000ULL) >= 0);
		got += wait_used_ms(&c, 4 - got, NULL, 50);
	}
	assert_int_equal(got, 4);
	/* 2 at once, then 4 more need at least 2 seconds of refills. */
	assert_true(mvm_harness_now(c.h) >= 1000000000ULL);
	done(&c);
}

static void test_bandwidth_limit_holds_requests_until_refill(void **s)
{
	struct ctx c;
	uint32_t id, len;
	unsigned got = 0;

	(void)s;
	ready(&c, "bw_size=8K,bw_refill_time=1000");
	for (int i = 0; i < 4; i++) {
		struct req r = make_req(&c, T_IN, 0, 4096);
		struct mvm_harness_buf b[3] = {{r.hdr, 16, false},
					       {r.data, 4096, true},
					       {r.status, 1, true}};
		assert_true(mvm_harness_vq_add(c.h, &c.vq, b, 3) >= 0);
	}
	mvm_harness_vq_kick(c.h, &c.vq);
	/* 8 KiB in the bucket: two 4 KiB reads. */
	assert_int_equal(wait_used(&c, 2, NULL), 2);
	usleep(20000);
	assert_true(mvm_harness_run(c.h) >= 0);
	assert_int_equal(mvm_harness_vq_used(c.h, &c.vq, &id, &len), 0);
	for (int i = 0; i < 30 && got < 2; i++) {
		assert_true(mvm_harness_advance(c.h, 100000000ULL) >= 0);
		got += wait_used_ms(&c, 2 - got, NULL, 50);
	}
	assert_int_equal(got, 2);
	assert_true(mvm_harness_now(c.h) >= 500000000ULL);
	done(&c);
}

static void test_reset_with_io_in_flight(void **s)
{
	struct ctx c;

	(void)s;
	ready(&c, "");
	for (int i = 0; i < 16; i++) {
		struct req r = make_req(&c, T_OUT, (uint64_t)i * 8, 4096);
		struct mvm_harness_buf b[3] = {{r.hdr, 16, false},
					       {r.data, 4096, false},
					       {r.status, 1, true}};
		assert_true(mvm_harness_vq_add(c.h, &c.vq, b, 3) >= 0);
	}
	mvm_harness_vq_kick(c.h, &c.vq);
	assert_true(mvm_harness_run(c.h) >= 0);
	mvm_harness_vwrite(c.h, REG(STATUS), 0);
	assert_true(mvm_harness_run(c.h) >= 0);
	assert_int_equal(mvm_harness_virtio_negotiate(c.h, ~0ULL, NULL), 0);
	assert_int_equal(mvm_harness_vq_setup(c.h, &c.vq, 0, 0), 0);
	assert_int_equal(mvm_harness_virtio_driver_ok(c.h), 0);
	assert_int_equal(do_req(&c, T_FLUSH, 0, 0, NULL), S_OK);
	done(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_is_mandatory),
		cmocka_unit_test(test_user_errors_name_the_problem),
		cmocka_unit_test(test_second_writer_is_refused),
		cmocka_unit_test(test_features_and_config),
		cmocka_unit_test(test_readonly_offers_ro_and_no_discard),
		cmocka_unit_test(test_discard_off_keeps_write_zeroes),
		cmocka_unit_test(test_num_queues_offers_mq),
		cmocka_unit_test(test_read_returns_image_data),
		cmocka_unit_test(test_write_lands_in_image),
		cmocka_unit_test(test_header_and_data_in_one_descriptor),
		cmocka_unit_test(test_direct_with_misaligned_buffer),
		cmocka_unit_test(test_flush_succeeds),
		cmocka_unit_test(test_get_id_returns_serial),
		cmocka_unit_test(test_discard_punches_a_hole),
		cmocka_unit_test(test_write_zeroes_with_unmap_punches_a_hole),
		cmocka_unit_test(test_read_past_end_or_wrapping_is_ioerr),
		cmocka_unit_test(test_partial_sector_lengths_are_ioerr),
		cmocka_unit_test(test_huge_length_is_ioerr),
		cmocka_unit_test(test_short_header_is_ioerr),
		cmocka_unit_test(test_missing_status_byte_needs_reset),
		cmocka_unit_test(test_header_only_chain_needs_reset),
		cmocka_unit_test(test_writes_to_readonly_disk_are_ioerr),
		cmocka_unit_test(test_bad_discard_segments),
		cmocka_unit_test(
			test_discard_payload_not_whole_segments_is_ioerr),
		cmocka_unit_test(test_unknown_types_are_unsupp),
		cmocka_unit_test(test_many_requests_in_flight),
		cmocka_unit_test(test_ops_limit_holds_requests_until_refill),
		cmocka_unit_test(
			test_bandwidth_limit_holds_requests_until_refill),
		cmocka_unit_test(test_reset_with_io_in_flight),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
