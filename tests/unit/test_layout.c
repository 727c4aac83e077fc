/* Guest RAM regions and the e820 map (core/layout.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "layout.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static int e820(uint64_t size, struct e820_entry *e)
{
	int n = layout_e820(size, e, 8);

	assert_true(n > 0);
	return n;
}

static uint64_t ram_total(const struct e820_entry *e, int n)
{
	uint64_t sum = 0;

	for (int i = 0; i < n; i++) {
		if (e[i].type == E820_RAM)
			sum += e[i].size;
	}
	return sum;
}

/* True if any RAM entry overlaps [start, end). */
static int ram_overlaps(const struct e820_entry *e, int n, uint64_t start,
			uint64_t end)
{
	for (int i = 0; i < n; i++) {
		if (e[i].type == E820_RAM && e[i].addr < end &&
		    e[i].addr + e[i].size > start)
			return 1;
	}
	return 0;
}

static void
test_e820_128m_is_low_ram_reserved_tail_acpi_and_ram_from_1m(void **state)
{
	struct e820_entry e[8];
	int n = e820(128 * MiB, e);

	(void)state;
	assert_int_equal(n, 4);
	assert_int_equal(e[0].addr, 0);
	assert_int_equal(e[0].size, 0x9fc00);
	assert_int_equal(e[0].type, E820_RAM);
	assert_int_equal(e[1].addr, 0x9fc00);
	assert_int_equal(e[1].size, 0x400);
	assert_int_equal(e[1].type, E820_RESERVED);
	assert_int_equal(e[2].addr, 0xe0000);
	assert_int_equal(e[2].size, 0x20000);
	assert_int_equal(e[2].type, E820_RESERVED);
	assert_int_equal(e[3].addr, 0x100000);
	assert_int_equal(e[3].size, 128 * MiB - 0x100000);
	assert_int_equal(e[3].type, E820_RAM);
}

static void test_e820_3g_ends_ram_at_the_hole(void **state)
{
	struct e820_entry e[8];
	int n = e820(3 * GiB, e);

	(void)state;
	assert_int_equal(n, 4);
	assert_int_equal(e[3].addr + e[3].size, LAYOUT_MMIO_HOLE_START);
	assert_false(ram_overlaps(e, n, LAYOUT_MMIO_HOLE_START, LAYOUT_4G));
}

static void test_e820_6g_puts_ram_on_both_sides_of_the_hole(void **state)
{
	struct e820_entry e[8];
	int n = e820(6 * GiB, e);

	(void)state;
	assert_int_equal(n, 5);
	assert_int_equal(e[3].addr + e[3].size, 3 * GiB);
	assert_int_equal(e[4].addr, LAYOUT_4G);
	assert_int_equal(e[4].size, 3 * GiB);
	assert_int_equal(e[4].type, E820_RAM);
}

/* The RAM sizes the map's invariants are checked at: below the MMIO hole,
 * up to it, and on both sides of it. */
static const uint64_t map_sizes[] = {128 * MiB, 3 * GiB, 6 * GiB};

static void test_e820_has_no_ram_in_acpi_area_or_hole(void **state)
{
	struct e820_entry e[8];

	(void)state;
	for (size_t i = 0; i < sizeof(map_sizes) / sizeof(map_sizes[0]); i++) {
		int n = e820(map_sizes[i], e);

		assert_false(ram_overlaps(e, n, 0xe0000, 0x100000));
		assert_false(ram_overlaps(e, n, 0x9fc00, 0xa0000));
		assert_false(
			ram_overlaps(e, n, LAYOUT_MMIO_HOLE_START, LAYOUT_4G));
	}
}

static void test_e820_is_sorted_and_non_overlapping(void **state)
{
	struct e820_entry e[8];

	(void)state;
	for (size_t i = 0; i < sizeof(map_sizes) / sizeof(map_sizes[0]); i++) {
		int n = e820(map_sizes[i], e);

		for (int j = 0; j < n; j++) {
			assert_true(e[j].size > 0);
			if (j > 0)
				assert_true(e[j - 1].addr + e[j - 1].size <=
					    e[j].addr);
		}
	}
}

static void test_e820_ram_adds_up_to_size_minus_legacy_holes(void **state)
{
	struct e820_entry e[8];
	/* 0x9fc00..0x100000 is never RAM in the map. */
	uint64_t legacy = 0x100000 - 0x9fc00;
	int n;

	(void)state;
	n = e820(6 * GiB, e);
	assert_int_equal(ram_total(e, n), 6 * GiB - legacy);
	n = e820(128 * MiB, e);
	assert_int_equal(ram_total(e, n), 128 * MiB - legacy);
}

static void test_e820_returns_enospc_when_too_few_entries(void **state)
{
	struct e820_entry e[4];

	(void)state;
	assert_int_equal(layout_e820(6 * GiB, e, 4), -ENOSPC);
	assert_int_equal(layout_e820(128 * MiB, e, 4), 4);
}

static void test_ram_regions_split_at_3g(void **state)
{
	struct mem_region r[2];

	(void)state;
	assert_int_equal(layout_ram_regions(128 * MiB, r), 1);
	assert_int_equal(r[0].gpa, 0);
	assert_int_equal(r[0].size, 128 * MiB);
	assert_int_equal(layout_ram_regions(3 * GiB, r), 1);
	assert_int_equal(r[0].size, 3 * GiB);
	assert_int_equal(layout_ram_regions(6 * GiB, r), 2);
	assert_int_equal(r[0].size, 3 * GiB);
	assert_int_equal(r[1].gpa, LAYOUT_4G);
	assert_int_equal(r[1].size, 3 * GiB);
}

static void test_ram_regions_reject_sizes_without_ram_above_1m(void **state)
{
	struct mem_region r[2];

	(void)state;
	assert_int_equal(layout_ram_regions(0, r), -EINVAL);
	assert_int_equal(layout_ram_regions(1 * MiB, r), -EINVAL);
	assert_int_equal(layout_ram_regions(LAYOUT_MAX_MEM + 1, r), -EINVAL);
}

/* The largest size must put its last RAM byte at the top of what the CPU
 * addresses, and one page more must not fit. */
static void test_max_mem_ends_ram_at_the_cpus_address_width(void **state)
{
	struct mem_region r[2];

	(void)state;
	for (unsigned bits = 36; bits <= 40; bits++) {
		uint64_t max = layout_max_mem(bits);

		assert_int_equal(layout_ram_regions(max, r), 2);
		assert_int_equal(r[1].gpa + r[1].size, 1ULL << bits);
	}
	assert_int_equal(layout_max_mem(39), 511 * GiB);
	assert_int_equal(layout_max_mem(40), 1023 * GiB);
	assert_int_equal(layout_max_mem(41), LAYOUT_MAX_MEM);
	assert_int_equal(layout_max_mem(52), LAYOUT_MAX_MEM);
	assert_true(layout_max_mem(0) >= LAYOUT_MIN_MEM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_e820_128m_is_low_ram_reserved_tail_acpi_and_ram_from_1m),
		cmocka_unit_test(test_e820_3g_ends_ram_at_the_hole),
		cmocka_unit_test(
			test_e820_6g_puts_ram_on_both_sides_of_the_hole),
		cmocka_unit_test(test_e820_has_no_ram_in_acpi_area_or_hole),
		cmocka_unit_test(test_e820_is_sorted_and_non_overlapping),
		cmocka_unit_test(
			test_e820_ram_adds_up_to_size_minus_legacy_holes),
		cmocka_unit_test(test_e820_returns_enospc_when_too_few_entries),
		cmocka_unit_test(test_ram_regions_split_at_3g),
		cmocka_unit_test(
			test_ram_regions_reject_sizes_without_ram_above_1m),
		cmocka_unit_test(
			test_max_mem_ends_ram_at_the_cpus_address_width),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
