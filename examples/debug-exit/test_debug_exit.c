/*
 * Harness tests of the debug-exit plugin: load the built .so, write to its
 * port as a guest would, check the exit the VMM was asked for. No KVM.
 *
 *   ./test_debug_exit [PATH/debug-exit.so]      (default ./debug-exit.so)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <modvmm/harness.h>

static const char *plugin_path = "./debug-exit.so";

/* Opens the plugin with `options`; fails the test if that fails. */
static struct mvm_harness *open_dx(const char *options)
{
	struct mvm_harness *h;
	char why[512];

	if (mvm_harness_open(plugin_path, options, NULL, &h, why, sizeof(why)) <
	    0)
		fail_msg("open %s: %s", plugin_path, why);
	return h;
}

/* The status of the one request_exit the plugin made, or -1. */
static int exit_status(struct mvm_harness *h)
{
	int status = -1;

	for (size_t i = 0; i < mvm_harness_nrecords(h); i++) {
		const struct mvm_harness_record *r = mvm_harness_record(h, i);

		if (r->kind == MVM_HREC_EXIT) {
			assert_int_equal(status, -1);
			status = (int)r->value;
		}
	}
	return status;
}

/* One write of `value` to the default port of a device opened with
 * `options`: the VMM is asked to exit with `status`. */
static void expect_exit(const char *options, uint64_t value, int status)
{
	struct mvm_harness *h = open_dx(options);

	assert_int_equal(mvm_harness_pio_write(h, 0x501, 1, value), 0);
	assert_int_equal(exit_status(h), status);
	assert_int_equal(mvm_harness_close(h), 0);
}

static void test_write_exits_with_the_byte(void **s)
{
	struct mvm_harness *h = open_dx(NULL);

	(void)s;
	assert_int_equal(mvm_harness_pio_write(h, 0x501, 1, 42), 0);
	assert_int_equal(exit_status(h), 42);
	assert_true(mvm_harness_logged(h, "exiting with status 42"));
	assert_int_equal(mvm_harness_close(h), 0);
}

static void test_status_zero_is_a_clean_exit(void **s)
{
	(void)s;
	expect_exit("", 0, 0);
}

static void test_configured_port(void **s)
{
	struct mvm_harness *h = open_dx("port=0xf4");
	uint64_t v;

	(void)s;
	/* Nothing at the default port any more: an unclaimed port. */
	assert_int_equal(mvm_harness_pio_read(h, 0x501, 1, &v), -ENOENT);
	assert_int_equal(mvm_harness_pio_write(h, 0xf4, 1, 7), 0);
	assert_int_equal(exit_status(h), 7);
	assert_int_equal(mvm_harness_close(h), 0);
}

static void test_only_the_low_byte_counts(void **s)
{
	(void)s;
	expect_exit(NULL, 0x1ff, 0xff);
}

static void test_only_the_first_write_counts(void **s)
{
	struct mvm_harness *h = open_dx(NULL);

	(void)s;
	assert_int_equal(mvm_harness_pio_write(h, 0x501, 1, 3), 0);
	assert_int_equal(mvm_harness_pio_write(h, 0x501, 1, 4), 0);
	assert_int_equal(mvm_harness_count(h, MVM_HREC_EXIT), 1);
	assert_int_equal(exit_status(h), 3);
	assert_int_equal(mvm_harness_close(h), 0);
}

static void test_qemu_compatible_status(void **s)
{
	(void)s;
	/* isa-debug-exit: (1 << 1) | 1 = 3, the usual "tests passed". */
	expect_exit("qemu=on", 1, 3);
}

static void test_read_does_not_exit(void **s)
{
	struct mvm_harness *h = open_dx(NULL);
	uint64_t v = 1;

	(void)s;
	assert_int_equal(mvm_harness_pio_read(h, 0x501, 1, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(mvm_harness_count(h, MVM_HREC_EXIT), 0);
	assert_int_equal(mvm_harness_close(h), 0);
}

static void expect_refused(const char *options, const char *needle)
{
	struct mvm_harness *h;
	char why[512];

	assert_true(mvm_harness_open(plugin_path, options, NULL, &h, why,
				     sizeof(why)) < 0);
	assert_null(h);
	if (!strstr(why, needle))
		fail_msg("'%s' does not mention '%s'", why, needle);
}

static void test_bad_options_are_refused_by_name(void **s)
{
	(void)s;
	expect_refused("port=0x10000", "port");
	expect_refused("port=0", "port");
	expect_refused("port=lots", "lots");
	expect_refused("qemu=maybe", "qemu");
	expect_refused("status=1", "status");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_exits_with_the_byte),
		cmocka_unit_test(test_status_zero_is_a_clean_exit),
		cmocka_unit_test(test_configured_port),
		cmocka_unit_test(test_only_the_low_byte_counts),
		cmocka_unit_test(test_only_the_first_write_counts),
		cmocka_unit_test(test_qemu_compatible_status),
		cmocka_unit_test(test_read_does_not_exit),
		cmocka_unit_test(test_bad_options_are_refused_by_name),
	};

	if (argc > 1)
		plugin_path = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
