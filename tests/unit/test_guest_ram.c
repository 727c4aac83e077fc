/*
 * Where guest RAM lands in the VMM: every memslot's host address must agree
 * with its guest-physical address modulo 2 MiB, or KVM cannot map the guest
 * with 2 MiB second-level pages (core/guest_ram.h). Checked for the
 * placement math on a deliberately misaligned reservation, and for real
 * mappings of each backing and size, on both sides of the 3 GiB hole.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "guest_ram.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static void test_place_rounds_a_misaligned_reservation_up_to_2mib(void **s)
{
	(void)s;
	/* 1,952 KiB past a boundary: what Debian 12's kernel handed out. */
	assert_true(guest_ram_place(0x7f3a00000000 + 1952 * 1024, 2 * MiB) ==
		    0x7f3a00200000);
	assert_true(guest_ram_place(0x7f3a00001000, 2 * MiB) == 0x7f3a00200000);
	assert_true(guest_ram_place(0x7f3a001ff000, 2 * MiB) == 0x7f3a00200000);
}

static void test_place_keeps_an_aligned_reservation(void **s)
{
	(void)s;
	assert_true(guest_ram_place(0x7f3a00200000, 2 * MiB) == 0x7f3a00200000);
	assert_true(guest_ram_place(0x7f0040000000, GiB) == 0x7f0040000000);
}

static void expect_aligned_regions(uint64_t size, bool shared)
{
	struct guest_ram ram;
	struct error err;
	uint64_t total = 0;

	assert_int_equal(guest_ram_alloc(&ram, size, shared, false, &err), 0);
	assert_true((uintptr_t)ram.base % GUEST_RAM_ALIGN == 0);
	for (int i = 0; i < ram.nregions; i++) {
		const struct ram_region *r = &ram.regions[i];

		/* Host and guest agree modulo 2 MiB... */
		assert_true(((uintptr_t)r->host - r->gpa) % GUEST_RAM_ALIGN ==
			    0);
		/* ...and a region that another follows ends on a boundary. */
		if (i + 1 < ram.nregions)
			assert_true((r->gpa + r->size) % GUEST_RAM_ALIGN == 0);
		total += r->size;
	}
	assert_true(total == size);
	/* The whole mapping is usable: first and last byte. */
	ram.base[0] = 1;
	ram.base[size - 1] = 1;
	guest_ram_free(&ram);
}

static void test_private_ram_below_the_hole_is_2mib_aligned(void **s)
{
	(void)s;
	expect_aligned_regions(128 * MiB, false);
	expect_aligned_regions(2 * GiB + 4096, false);
}

static void test_private_ram_across_the_hole_is_2mib_aligned(void **s)
{
	(void)s;
	expect_aligned_regions(3 * GiB + 2 * MiB, false);
	expect_aligned_regions(6 * GiB, false);
}

static void test_shared_ram_is_2mib_aligned(void **s)
{
	(void)s;
	expect_aligned_regions(256 * MiB, true);
	expect_aligned_regions(6 * GiB, true);
}

static void test_many_mappings_in_a_row_are_all_aligned(void **s)
{
	/* Each allocation reserves and trims: the address space it leaves
	 * behind must not push the next one off the boundary. */
	struct guest_ram ram[8];
	struct error err;

	(void)s;
	for (int i = 0; i < 8; i++) {
		assert_int_equal(guest_ram_alloc(&ram[i], 130 * MiB + 4096,
						 false, false, &err),
				 0);
		assert_true((uintptr_t)ram[i].base % GUEST_RAM_ALIGN == 0);
	}
	for (int i = 0; i < 8; i++)
		guest_ram_free(&ram[i]);
}

/* The VmFlags line of the area of /proc/self/smaps that starts at addr
 * (into buf), or NULL if no area starts there. */
static const char *area_flags(const void *addr, char *buf, size_t len)
{
	char want[32], line[512];
	FILE *f = fopen("/proc/self/smaps", "r");
	bool in = false;
	const char *found = NULL;

	assert_non_null(f);
	snprintf(want, sizeof(want), "%lx-", (unsigned long)(uintptr_t)addr);
	while (!found && fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && strchr(line, ' ') &&
		    strchr(line, '-') < strchr(line, ' '))
			in = strncmp(line, want, strlen(want)) == 0;
		else if (in && strncmp(line, "VmFlags:", 8) == 0) {
			snprintf(buf, len, "%s", line);
			found = buf;
		}
	}
	fclose(f);
	return found;
}

/* 128 MiB of RAM advised with `thp`: its first area, the low 2 MiB, is
 * advised none ("nh") either way. */
static void advised_ram(struct guest_ram *ram, bool thp, char *flags,
			size_t len)
{
	struct error err;

	assert_int_equal(guest_ram_alloc(ram, 128 * MiB, false, false, &err),
			 0);
	guest_ram_advise_thp(ram, thp);
	assert_non_null(area_flags(ram->base, flags, len));
	assert_non_null(strstr(flags, " nh"));
}

static void test_thp_advice_spares_the_low_2mib(void **s)
{
	/* With THP on, everything but the low 2 MiB is advised huge pages
	 * ("hg"); the low 2 MiB are advised none ("nh"): a few scattered boot
	 * pages there must not cost a whole huge page. With THP off, all of
	 * it is "nh". VmFlags shows the advice whatever the host's THP mode. */
	struct guest_ram ram;
	char flags[256];

	(void)s;
	advised_ram(&ram, true, flags, sizeof(flags));
	assert_non_null(
		area_flags(ram.base + GUEST_RAM_LOW_4K, flags, sizeof(flags)));
	assert_non_null(strstr(flags, " hg"));
	guest_ram_free(&ram);

	advised_ram(&ram, false, flags, sizeof(flags));
	/* One area: no split at 2 MiB when nothing differs. */
	assert_null(
		area_flags(ram.base + GUEST_RAM_LOW_4K, flags, sizeof(flags)));
	guest_ram_free(&ram);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_place_rounds_a_misaligned_reservation_up_to_2mib),
		cmocka_unit_test(test_place_keeps_an_aligned_reservation),
		cmocka_unit_test(
			test_private_ram_below_the_hole_is_2mib_aligned),
		cmocka_unit_test(
			test_private_ram_across_the_hole_is_2mib_aligned),
		cmocka_unit_test(test_shared_ram_is_2mib_aligned),
		cmocka_unit_test(test_many_mappings_in_a_row_are_all_aligned),
		cmocka_unit_test(test_thp_advice_spares_the_low_2mib),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
