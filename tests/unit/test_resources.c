/* GSIs, device MMIO windows and DSDT records (core/resources.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "layout.h"
#include "resources.h"

static int setup(void **state)
{
	static struct resources rs;

	resources_init(&rs);
	*state = &rs;
	return 0;
}

static int teardown(void **state)
{
	resources_free(*state);
	return 0;
}

static void
test_mmio_windows_follow_each_other_from_the_hole_start(void **state)
{
	struct resources *rs = *state;
	uint64_t a, b;

	assert_int_equal(resources_alloc_mmio(rs, 0x1000, &a), 0);
	assert_int_equal(resources_alloc_mmio(rs, 0x2000, &b), 0);
	assert_int_equal(a, LAYOUT_DEVICE_MMIO_START);
	assert_int_equal(b, LAYOUT_DEVICE_MMIO_START + 0x1000);
}

static void test_mmio_window_must_be_whole_pages(void **state)
{
	struct resources *rs = *state;
	uint64_t a;

	assert_int_equal(resources_alloc_mmio(rs, 0, &a), -EINVAL);
	assert_int_equal(resources_alloc_mmio(rs, 0x800, &a), -EINVAL);
	assert_int_equal(resources_alloc_mmio(rs, 0x1000, NULL), -EINVAL);
}

static void test_mmio_window_past_the_hole_end_is_refused(void **state)
{
	struct resources *rs = *state;
	uint64_t hole = LAYOUT_DEVICE_MMIO_END - LAYOUT_DEVICE_MMIO_START;
	uint64_t a;

	assert_int_equal(resources_alloc_mmio(rs, hole + 0x1000, &a), -ENOSPC);
	assert_int_equal(resources_alloc_mmio(rs, hole, &a), 0);
	assert_int_equal(resources_alloc_mmio(rs, 0x1000, &a), -ENOSPC);
	/* A length that would wrap the address is no window either. */
	assert_int_equal(resources_alloc_mmio(rs, ~0xfffULL, &a), -ENOSPC);
}

static void test_any_gsi_skips_rtc_and_sci(void **state)
{
	struct resources *rs = *state;
	int got[32], n = 0, g;

	while ((g = resources_claim_gsi(rs, -1)) >= 0)
		got[n++] = g;
	assert_int_equal(g, -ENOSPC);
	/* 5..23 without 8 (RTC) and 9 (SCI). */
	assert_int_equal(n, LAYOUT_GSI_LAST - LAYOUT_GSI_FIRST_FREE + 1 - 2);
	assert_int_equal(got[0], LAYOUT_GSI_FIRST_FREE);
	for (int i = 0; i < n; i++) {
		assert_int_not_equal(got[i], 8);
		assert_int_not_equal(got[i], 9);
		if (i)
			assert_true(got[i] > got[i - 1]);
	}
}

static void test_any_gsi_leaves_out_lines_claimed_by_number(void **state)
{
	struct resources *rs = *state;

	assert_int_equal(resources_claim_gsi(rs, LAYOUT_GSI_FIRST_FREE),
			 LAYOUT_GSI_FIRST_FREE);
	assert_int_equal(resources_claim_gsi(rs, -1),
			 LAYOUT_GSI_FIRST_FREE + 1);
}

static void test_reserved_gsi_by_number_is_refused(void **state)
{
	struct resources *rs = *state;

	assert_int_equal(resources_claim_gsi(rs, 0), -EINVAL);
	assert_int_equal(resources_claim_gsi(rs, 2), -EINVAL);
	assert_int_equal(resources_claim_gsi(rs, 8), -EINVAL);
	assert_int_equal(resources_claim_gsi(rs, LAYOUT_GSI_LAST + 1), -EINVAL);
}

static void test_sci_and_low_lines_may_be_claimed_by_number(void **state)
{
	struct resources *rs = *state;

	assert_int_equal(resources_claim_gsi(rs, 9), 9);
	assert_int_equal(resources_claim_gsi(rs, 4), 4);
	assert_int_equal(resources_claim_gsi(rs, 1), 1);
}

static void test_gsi_claimed_twice_is_busy(void **state)
{
	struct resources *rs = *state;

	assert_int_equal(resources_claim_gsi(rs, 10), 10);
	assert_int_equal(resources_claim_gsi(rs, 10), -EBUSY);
}

static void test_dsdt_records_are_named_in_order_and_own_their_hid(void **state)
{
	struct resources *rs = *state;
	char hid[9] = "LNRO0005";
	struct mvm_dsdt_device d = {.hid = hid, .uid = 0, .gsi = -1};

	for (uint32_t i = 0; i < 20; i++) {
		d.uid = i;
		assert_int_equal(resources_add_dsdt_device(rs, &d), 0);
	}
	memset(hid, 'X', 8); /* the caller's string may go away */
	assert_int_equal(rs->ndsdt_recs, 20);
	assert_string_equal(rs->dsdt_recs[0].name, "D000");
	assert_string_equal(rs->dsdt_recs[19].name, "D013");
	for (size_t i = 0; i < rs->ndsdt_recs; i++) {
		assert_ptr_equal(rs->dsdt_recs[i].d.hid, rs->dsdt_recs[i].hid);
		assert_string_equal(rs->dsdt_recs[i].d.hid, "LNRO0005");
		assert_int_equal(rs->dsdt_recs[i].d.uid, i);
	}
}

static void test_raw_aml_is_appended_in_order(void **state)
{
	struct resources *rs = *state;
	static const uint8_t a[] = {1, 2, 3}, b[] = {4, 5};

	assert_int_equal(resources_add_aml(rs, a, sizeof(a)), 0);
	assert_int_equal(resources_add_aml(rs, b, sizeof(b)), 0);
	assert_int_equal(rs->raw_aml_len, 5);
	assert_memory_equal(rs->raw_aml, ((uint8_t[]){1, 2, 3, 4, 5}), 5);
}

static void test_raw_aml_empty_or_over_64k_is_refused(void **state)
{
	struct resources *rs = *state;
	static const uint8_t a[1];

	assert_int_equal(resources_add_aml(rs, a, 0), -EINVAL);
	assert_int_equal(resources_add_aml(rs, NULL, 1), -EINVAL);
	assert_int_equal(resources_add_aml(rs, a, 65537), -EINVAL);
	assert_int_equal(rs->raw_aml_len, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_mmio_windows_follow_each_other_from_the_hole_start),
		T(test_mmio_window_must_be_whole_pages),
		T(test_mmio_window_past_the_hole_end_is_refused),
		T(test_any_gsi_skips_rtc_and_sci),
		T(test_any_gsi_leaves_out_lines_claimed_by_number),
		T(test_reserved_gsi_by_number_is_refused),
		T(test_sci_and_low_lines_may_be_claimed_by_number),
		T(test_gsi_claimed_twice_is_busy),
		T(test_dsdt_records_are_named_in_order_and_own_their_hid),
		T(test_raw_aml_is_appended_in_order),
		T(test_raw_aml_empty_or_over_64k_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
