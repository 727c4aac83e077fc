/*
 * core/error.h: the one error idiom. The maker sets the kind, a caller's
 * prefix keeps it, and the report's exit status follows the kind.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"

static void test_user_error_returns_einval_with_its_line(void **state)
{
	struct error err = {0};

	(void)state;
	assert_int_equal(error_user(&err, "memory size=%s: too small", "1M"),
			 -EINVAL);
	assert_int_equal(err.kind, ERROR_USER);
	assert_string_equal(err.msg, "memory size=1M: too small");
}

static void test_host_error_returns_the_errno_given(void **state)
{
	struct error err = {0};

	(void)state;
	assert_int_equal(error_host(&err, ENOMEM, "out of memory"), -ENOMEM);
	assert_int_equal(err.kind, ERROR_HOST);
	assert_int_equal(error_host(&err, -EBADF, "x"), -EBADF);
	assert_int_equal(error_host(&err, 0, "x"), -EIO);
}

static void test_prefix_keeps_the_kind(void **state)
{
	struct error err = {0};

	(void)state;
	error_user(&err, "truncated bzImage");
	error_prefix(&err, "kernel %s: ", "vmlinuz");
	assert_int_equal(err.kind, ERROR_USER);
	assert_string_equal(err.msg, "kernel vmlinuz: truncated bzImage");
	error_host(&err, EIO, "cannot map guest RAM");
	error_prefix(&err, "memory: ");
	assert_int_equal(err.kind, ERROR_HOST);
	assert_string_equal(err.msg, "memory: cannot map guest RAM");
}

static void test_null_err_gives_only_the_errno(void **state)
{
	(void)state;
	assert_int_equal(error_user(NULL, "x"), -EINVAL);
	assert_int_equal(error_host(NULL, EPERM, "x"), -EPERM);
	error_prefix(NULL, "y");
}

static void test_long_message_is_cut_not_overrun(void **state)
{
	struct error err = {0};
	char big[2 * sizeof(err.msg)];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	error_user(&err, "%s", big);
	assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
	error_prefix(&err, "p: ");
	assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
	assert_memory_equal(err.msg, "p: aaa", 6);
}

static void test_report_exit_status_follows_the_kind(void **state)
{
	struct error err = {0};

	(void)state;
	error_user(&err, "a user error (expected on stderr)");
	assert_int_equal(error_report(&err), 2);
	error_host(&err, EIO, "a host error (expected on stderr)");
	assert_int_equal(error_report(&err), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_error_returns_einval_with_its_line),
		cmocka_unit_test(test_host_error_returns_the_errno_given),
		cmocka_unit_test(test_prefix_keeps_the_kind),
		cmocka_unit_test(test_null_err_gives_only_the_errno),
		cmocka_unit_test(test_long_message_is_cut_not_overrun),
		cmocka_unit_test(test_report_exit_status_follows_the_kind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
