/*
 * Giving guest RAM back: each backing really frees host memory (checked
 * with mincore() and the memfd's allocated blocks), ranges outside RAM are
 * refused untouched, and hugepage RAM frees a 2 MiB page only once all its
 * 4 KiB pieces are in.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "ram_discard.h"

#define MiB (1ULL << 20)
#define RAM_SIZE (128 * MiB)

static unsigned resident_pages(const struct guest_ram *ram, uint64_t gpa,
			       uint64_t len)
{
	unsigned char vec[4096];
	uint8_t *p = guest_ram_ptr(ram, gpa, len);
	unsigned n = 0;

	assert_true(len / 4096 <= sizeof(vec));
	assert_int_equal(mincore(p, len, vec), 0);
	for (uint64_t i = 0; i < len / 4096; i++)
		n += vec[i] & 1;
	return n;
}

static void touch(struct guest_ram *ram, uint64_t gpa, uint64_t len)
{
	memset(guest_ram_ptr(ram, gpa, len), 0x5a, len);
}

/* The backing a test runs on, named in main(): memfd-backed when
 * `shared`; `huge` turns on the hugepage bookkeeping over ordinary pages. */
struct backing {
	bool shared, huge;
};

static struct backing private_ram = {false, false}, shared_ram = {true, false},
		      huge_ram = {false, true};

/* RAM_SIZE of guest RAM and its discarder. */
struct rig {
	struct guest_ram ram;
	struct ram_discard rd;
};

static int rig_setup(void **state)
{
	const struct backing *b = *state;
	struct rig *t = calloc(1, sizeof(*t));
	struct error err;

	assert_non_null(t);
	assert_int_equal(
		guest_ram_alloc(&t->ram, RAM_SIZE, b->shared, false, &err), 0);
	t->ram.hugepages = b->huge;
	assert_int_equal(ram_discard_init(&t->rd, &t->ram), 0);
	*state = t;
	return 0;
}

static int rig_teardown(void **state)
{
	struct rig *t = *state;

	ram_discard_free(&t->rd);
	guest_ram_free(&t->ram);
	free(t);
	return 0;
}

static void test_private_ram_discard_frees_pages_and_reads_zero(void **s)
{
	struct rig *t = *s;
	struct guest_ram *ram = &t->ram;
	struct ram_discard *rd = &t->rd;

	touch(ram, 16 * MiB, 8 * MiB);
	assert_int_equal(resident_pages(ram, 16 * MiB, 8 * MiB), 2048);
	assert_int_equal(ram_discard_range(rd, 17 * MiB, 4 * MiB), 0);
	assert_int_equal(resident_pages(ram, 16 * MiB, 8 * MiB), 1024);
	assert_int_equal(*(uint8_t *)guest_ram_ptr(ram, 17 * MiB, 1), 0);
	assert_int_equal(*(uint8_t *)guest_ram_ptr(ram, 21 * MiB, 1), 0x5a);
	assert_int_equal(rd->stats.syscalls, 1);
	assert_int_equal(rd->stats.bytes, 4 * MiB);
}

static void test_shared_ram_discard_punches_the_memfd(void **s)
{
	struct rig *t = *s;
	struct guest_ram *ram = &t->ram;
	struct ram_discard *rd = &t->rd;
	struct stat before, after;

	touch(ram, 32 * MiB, 8 * MiB);
	assert_int_equal(fstat(ram->memfd, &before), 0);
	assert_int_equal(ram_discard_range(rd, 32 * MiB, 8 * MiB), 0);
	assert_int_equal(fstat(ram->memfd, &after), 0);
	/* st_blocks counts 512-byte units actually allocated. */
	assert_true(before.st_blocks - after.st_blocks >=
		    (blkcnt_t)(8 * MiB / 512));
	assert_int_equal(*(uint8_t *)guest_ram_ptr(ram, 36 * MiB, 1), 0);
}

static void test_discard_outside_ram_is_refused_untouched(void **s)
{
	struct rig *t = *s;
	struct guest_ram *ram = &t->ram;
	struct ram_discard *rd = &t->rd;

	touch(ram, RAM_SIZE - 8 * MiB, 8 * MiB);
	assert_int_equal(ram_discard_range(rd, RAM_SIZE - 4096, 8192), -EFAULT);
	assert_int_equal(ram_discard_range(rd, UINT64_MAX - 4095, 4096),
			 -EFAULT);
	assert_int_equal(ram_discard_range(rd, 0xc0000000ULL, 4096), -EFAULT);
	assert_int_equal(ram_discard_range(rd, 4097, 4096), -EINVAL);
	assert_int_equal(ram_discard_range(rd, 4096, 0), -EINVAL);
	assert_int_equal(rd->stats.syscalls, 0);
	assert_int_equal(resident_pages(ram, RAM_SIZE - 8 * MiB, 8 * MiB),
			 2048);
}

/* The hugepage bookkeeping, run over ordinary pages: the host may have no
 * huge pages reserved, and the logic is the same. */
static void test_hugepage_freed_only_when_whole(void **s)
{
	struct rig *t = *s;
	struct guest_ram *ram = &t->ram;
	struct ram_discard *rd = &t->rd;

	touch(ram, 4 * MiB, 4 * MiB);
	/* All but the last 4 KiB of the huge page at 4 MiB: nothing freed. */
	assert_int_equal(ram_discard_range(rd, 4 * MiB, 2 * MiB - 4096), 0);
	assert_int_equal(rd->stats.syscalls, 0);
	assert_int_equal(rd->stats.bytes_held, 2 * MiB - 4096);
	assert_int_equal(resident_pages(ram, 4 * MiB, 2 * MiB), 512);
	/* The last piece completes it: one 2 MiB release. */
	assert_int_equal(ram_discard_range(rd, 6 * MiB - 4096, 4096), 0);
	assert_int_equal(rd->stats.syscalls, 1);
	assert_int_equal(rd->stats.bytes, 2 * MiB);
	assert_int_equal(rd->stats.bytes_held, 0);
	assert_int_equal(resident_pages(ram, 4 * MiB, 2 * MiB), 0);
	/* Deflated pieces are forgotten: the next huge page is never freed
	 * by pieces that went back into use. */
	assert_int_equal(ram_discard_range(rd, 6 * MiB, 1 * MiB), 0);
	ram_discard_reuse(rd, 6 * MiB, 1 * MiB);
	assert_int_equal(rd->stats.bytes_held, 0);
	assert_int_equal(ram_discard_range(rd, 7 * MiB, 1 * MiB), 0);
	assert_int_equal(rd->stats.syscalls, 1);
	assert_int_equal(resident_pages(ram, 6 * MiB, 2 * MiB), 512);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate_setup_teardown(
			test_private_ram_discard_frees_pages_and_reads_zero,
			rig_setup, rig_teardown, &private_ram),
		cmocka_unit_test_prestate_setup_teardown(
			test_shared_ram_discard_punches_the_memfd, rig_setup,
			rig_teardown, &shared_ram),
		cmocka_unit_test_prestate_setup_teardown(
			test_discard_outside_ram_is_refused_untouched,
			rig_setup, rig_teardown, &private_ram),
		cmocka_unit_test_prestate_setup_teardown(
			test_hugepage_freed_only_when_whole, rig_setup,
			rig_teardown, &huge_ram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
