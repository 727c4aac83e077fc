/* The AML byte builder (core/boot/aml.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../common/aml_known_good.h"
#include "boot/aml.h"

/* Device(COM1){_HID EISAID("PNP0501") _UID 0 _CRS{IO(Decode16, 0x3f8,
 * 0x3f8, 1, 8) Interrupt(ResourceConsumer, Edge, ActiveHigh,
 * Exclusive){4}}}, as iasl compiles it. */
static const uint8_t known_good_com1[55] = {
	0x5b, 0x82, 0x35, 0x43, 0x4f, 0x4d, 0x31, 0x08, 0x5f, 0x48, 0x49,
	0x44, 0x0c, 0x41, 0xd0, 0x05, 0x01, 0x08, 0x5f, 0x55, 0x49, 0x44,
	0x0c, 0x00, 0x00, 0x00, 0x00, 0x08, 0x5f, 0x43, 0x52, 0x53, 0x11,
	0x16, 0x0a, 0x13, 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
	0x89, 0x06, 0x00, 0x03, 0x01, 0x04, 0x00, 0x00, 0x00, 0x79, 0x00,
};

static const struct mvm_dsdt_device virtio_dev = {
	.hid = "LNRO0005",
	.uid = 0,
	.mmio_base = 0xc0001000,
	.mmio_size = 0x1000,
	.gsi = 5,
};

static const struct mvm_dsdt_device uart_dev = {
	.hid = "PNP0501",
	.io_base = 0x3f8,
	.io_size = 8,
	.gsi = 4,
};

/* Offset of `needle` in the buffer, or -1. */
static long find(const struct aml_buf *b, const void *needle, size_t n)
{
	for (size_t i = 0; i + n <= b->len; i++) {
		if (!memcmp(b->data + i, needle, n))
			return (long)i;
	}
	return -1;
}

/* Device `name` built from `d` is exactly the `len` bytes `want`. */
static void expect_device_bytes(const char *name,
				const struct mvm_dsdt_device *d,
				const uint8_t *want, size_t len)
{
	struct aml_buf b = {0};

	assert_int_equal(aml_append_device(&b, name, d), 0);
	assert_int_equal(b.len, len);
	assert_memory_equal(b.data, want, len);
	aml_buf_free(&b);
}

static void test_virtio_device_matches_known_good_71_bytes(void **state)
{
	struct mvm_dsdt_device d = virtio_dev;

	(void)state;
	expect_device_bytes("V000", &d, known_good_v000,
			    sizeof(known_good_v000));
}

static void test_uart_device_has_compressed_eisa_hid_and_io(void **state)
{
	struct mvm_dsdt_device d = uart_dev;

	(void)state;
	expect_device_bytes("COM1", &d, known_good_com1,
			    sizeof(known_good_com1));
}

static void test_uart_device_has_no_cca(void **state)
{
	struct aml_buf b = {0};
	struct mvm_dsdt_device d = uart_dev;

	(void)state;
	assert_int_equal(aml_append_device(&b, "COM1", &d), 0);
	assert_int_equal(find(&b, "_CCA", 4), -1);
	aml_buf_free(&b);
}

static void test_level_triggered_interrupt_clears_edge_bit(void **state)
{
	static const uint8_t level5[] = {0x89, 0x06, 0x00, 0x01,
					 0x01, 0x05, 0x00, 0x00};
	struct aml_buf b = {0};
	struct mvm_dsdt_device d = virtio_dev;

	(void)state;
	d.level_triggered = true;
	assert_int_equal(aml_append_device(&b, "V000", &d), 0);
	assert_true(find(&b, level5, sizeof(level5)) > 0);
	aml_buf_free(&b);
}

static void test_mmio_above_4g_uses_qword_memory(void **state)
{
	static const uint8_t qword_hdr[] = {0x8a, 0x2b, 0x00, 0x00, 0x0d, 0x01};
	struct aml_buf b = {0};
	struct mvm_dsdt_device d = virtio_dev;
	long off;
	uint64_t min, max, len;

	(void)state;
	d.mmio_base = 0x100000000ULL;
	assert_int_equal(aml_check_device(&d), 0);
	assert_int_equal(aml_append_device(&b, "V001", &d), 0);
	assert_int_equal(find(&b, "\x86\x09\x00", 3), -1);
	off = find(&b, qword_hdr, sizeof(qword_hdr));
	assert_true(off > 0);
	memcpy(&min, b.data + off + 14, 8);
	memcpy(&max, b.data + off + 22, 8);
	memcpy(&len, b.data + off + 38, 8);
	assert_int_equal(min, 0x100000000ULL);
	assert_int_equal(max, 0x100000fffULL);
	assert_int_equal(len, 0x1000);
	aml_buf_free(&b);
}

static void test_check_rejects_bad_hids(void **state)
{
	static const char *bad[] = {"",          "PNP050",   "LNRO00055",
				    "pnp0501",   "PNP05G1",  "LNRO 005",
				    "LNRO\t005", "AB\"C0005"};
	struct mvm_dsdt_device d = virtio_dev;

	(void)state;
	d.hid = NULL;
	assert_int_equal(aml_check_device(&d), -EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d.hid = bad[i];
		assert_int_equal(aml_check_device(&d), -EINVAL);
	}
	d.hid = "ACPI0007";
	assert_int_equal(aml_check_device(&d), 0);
}

static void test_check_rejects_gsi_outside_ioapic_pins(void **state)
{
	struct mvm_dsdt_device d = virtio_dev;

	(void)state;
	d.gsi = 24;
	assert_int_equal(aml_check_device(&d), -EINVAL);
	d.gsi = -2;
	assert_int_equal(aml_check_device(&d), -EINVAL);
	d.gsi = -1;
	assert_int_equal(aml_check_device(&d), 0);
	d.gsi = 23;
	assert_int_equal(aml_check_device(&d), 0);
}

static void test_check_rejects_ranges_that_wrap(void **state)
{
	struct mvm_dsdt_device d = virtio_dev;

	(void)state;
	d.mmio_base = UINT64_MAX - 0xfff;
	d.mmio_size = 0x1000;
	assert_int_equal(aml_check_device(&d), 0);
	d.mmio_size = 0x1001;
	assert_int_equal(aml_check_device(&d), -EINVAL);

	d = uart_dev;
	d.io_base = 0xfff8;
	assert_int_equal(aml_check_device(&d), 0);
	d.io_base = 0xfffc;
	assert_int_equal(aml_check_device(&d), -EINVAL);
	d.io_base = 0;
	d.io_size = 256; /* an IO descriptor's length is one byte */
	assert_int_equal(aml_check_device(&d), -EINVAL);
}

static void test_bad_device_or_name_appends_nothing(void **state)
{
	struct aml_buf b = {0};
	struct mvm_dsdt_device d = virtio_dev;

	(void)state;
	assert_int_equal(aml_append_device(&b, "v000", &d), -EINVAL);
	assert_int_equal(aml_append_device(&b, "0V00", &d), -EINVAL);
	d.gsi = 99;
	assert_int_equal(aml_append_device(&b, "V000", &d), -EINVAL);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.err, 0);
	aml_buf_free(&b);
}

static void
test_device_without_interrupt_has_no_interrupt_descriptor(void **state)
{
	struct aml_buf b = {0};
	struct mvm_dsdt_device d = virtio_dev;

	(void)state;
	d.gsi = -1;
	assert_int_equal(aml_append_device(&b, "V000", &d), 0);
	assert_int_equal(find(&b, "\x89\x06\x00", 3), -1);
	/* 71 bytes less the 9-byte Interrupt descriptor, and the body (58
	 * bytes) now fits the 1-byte PkgLength. */
	assert_int_equal(b.len, 61);
	aml_buf_free(&b);
}

static void test_sleep_state_package_bytes(void **state)
{
	static const uint8_t s5[] = {0x08, 0x5c, 0x5f, 0x53, 0x35, 0x5f, 0x12,
				     0x07, 0x04, 0x0a, 0x05, 0x00, 0x00, 0x00};
	struct aml_buf b = {0};

	(void)state;
	assert_int_equal(aml_append_sleep_state(&b, "_S5_", 5), 0);
	assert_int_equal(b.len, sizeof(s5));
	assert_memory_equal(b.data, s5, sizeof(s5));
	aml_buf_free(&b);
}

static void test_empty_scope_uses_one_byte_pkg_length(void **state)
{
	static const uint8_t sb[] = {0x10, 0x06, 0x5c, 0x5f, 0x53, 0x42, 0x5f};
	struct aml_buf b = {0};

	(void)state;
	assert_int_equal(aml_append_scope(&b, "\\_SB_", NULL, 0), 0);
	assert_int_equal(b.len, sizeof(sb));
	assert_memory_equal(b.data, sb, sizeof(sb));
	aml_buf_free(&b);
}

/* Decode the PkgLength at data[1]: returns its value, sets *nbytes. */
static size_t decode_pkg_length(const uint8_t *p, unsigned *nbytes)
{
	unsigned follow = p[0] >> 6;
	size_t v;

	*nbytes = follow + 1;
	if (!follow)
		return p[0] & 0x3f;
	v = p[0] & 0x0f;
	for (unsigned i = 1; i <= follow; i++)
		v |= (size_t)p[i] << (4 + 8 * (i - 1));
	return v;
}

static void check_scope_pkg_length(size_t body_len, unsigned want_bytes)
{
	struct aml_buf b = {0};
	uint8_t *body = calloc(1, body_len);
	unsigned nbytes;
	size_t v;

	assert_non_null(body);
	assert_int_equal(aml_append_scope(&b, "\\_SB_", body, body_len), 0);
	v = decode_pkg_length(b.data + 1, &nbytes);
	assert_int_equal(nbytes, want_bytes);
	/* PkgLength counts itself, the 5-byte name and the body. */
	assert_int_equal(v, nbytes + 5 + body_len);
	assert_int_equal(b.len, 1 + v);
	free(body);
	aml_buf_free(&b);
}

static void test_pkg_length_picks_the_smallest_of_four_forms(void **state)
{
	(void)state;
	check_scope_pkg_length(57, 1);      /* 1 + 5 + 57 = 63 */
	check_scope_pkg_length(58, 2);      /* 64 needs two bytes */
	check_scope_pkg_length(4088, 2);    /* 2 + 5 + 4088 = 4095 */
	check_scope_pkg_length(4089, 3);    /* 4096 */
	check_scope_pkg_length(0xffff7, 3); /* 0xfffff */
	check_scope_pkg_length(0xffff8, 4);
}

static void test_scope_accepts_multi_segment_paths(void **state)
{
	static const uint8_t dual[] = {0x10, 0x0b, 0x5c, 0x2e, 0x5f, 0x53,
				       0x42, 0x5f, 0x50, 0x43, 0x49, 0x30};
	struct aml_buf b = {0};

	(void)state;
	assert_int_equal(aml_append_scope(&b, "\\_SB_.PCI0", NULL, 0), 0);
	assert_int_equal(b.len, sizeof(dual));
	assert_memory_equal(b.data, dual, sizeof(dual));
	assert_int_equal(aml_append_scope(&b, "\\_SB", NULL, 0), -EINVAL);
	assert_int_equal(aml_append_scope(&b, "_SB_.", NULL, 0), -EINVAL);
	assert_int_equal(b.len, sizeof(dual));
	aml_buf_free(&b);
}

static void test_appends_accumulate_in_order(void **state)
{
	struct aml_buf b = {0};
	struct mvm_dsdt_device v = virtio_dev, u = uart_dev;

	(void)state;
	assert_int_equal(aml_append_device(&b, "V000", &v), 0);
	assert_int_equal(aml_append_device(&b, "COM1", &u), 0);
	assert_int_equal(b.len, 71 + 55);
	assert_memory_equal(b.data, known_good_v000, 71);
	assert_memory_equal(b.data + 71, known_good_com1, 55);
	aml_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_virtio_device_matches_known_good_71_bytes),
		cmocka_unit_test(
			test_uart_device_has_compressed_eisa_hid_and_io),
		cmocka_unit_test(test_uart_device_has_no_cca),
		cmocka_unit_test(
			test_level_triggered_interrupt_clears_edge_bit),
		cmocka_unit_test(test_mmio_above_4g_uses_qword_memory),
		cmocka_unit_test(test_check_rejects_bad_hids),
		cmocka_unit_test(test_check_rejects_gsi_outside_ioapic_pins),
		cmocka_unit_test(test_check_rejects_ranges_that_wrap),
		cmocka_unit_test(test_bad_device_or_name_appends_nothing),
		cmocka_unit_test(
			test_device_without_interrupt_has_no_interrupt_descriptor),
		cmocka_unit_test(test_sleep_state_package_bytes),
		cmocka_unit_test(test_empty_scope_uses_one_byte_pkg_length),
		cmocka_unit_test(
			test_pkg_length_picks_the_smallest_of_four_forms),
		cmocka_unit_test(test_scope_accepts_multi_segment_paths),
		cmocka_unit_test(test_appends_accumulate_in_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
