/*
 * Unit tests for core/config/opts.c: the option-string parser behind
 * host->parse_options. One behaviour per test; every user-facing error
 * message is checked word for word, since those lines are what a user sees.
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

#include "config/opts.h"

struct balloon_opts {
	uint64_t size;
	bool deflate_on_oom;
	bool free_page_reporting;
	uint64_t stats;
	const char *tag;
};

static const struct mvm_option balloon_spec[] = {
	MVM_OPTION("size", MVM_OPT_SIZE, struct balloon_opts, size, NULL, true,
		   "memory to take from the guest"),
	MVM_OPTION("deflate_on_oom", MVM_OPT_BOOL, struct balloon_opts,
		   deflate_on_oom, "off", false, "deflate when the guest OOMs"),
	MVM_OPTION("free_page_reporting", MVM_OPT_BOOL, struct balloon_opts,
		   free_page_reporting, "off", false, "free page reporting"),
	MVM_OPTION_RANGE("stats", MVM_OPT_U64, struct balloon_opts, stats, "0",
			 false, 0, 3600, "stats polling interval in seconds"),
	MVM_OPTION("tag", MVM_OPT_STR, struct balloon_opts, tag, "none", false,
		   "a label"),
	MVM_OPTION_END,
};

struct bounded_opts {
	uint64_t mem;
};

static const struct mvm_option min_only_spec[] = {
	MVM_OPTION_RANGE("mem", MVM_OPT_SIZE, struct bounded_opts, mem, NULL,
			 false, 4096, 0, NULL),
	MVM_OPTION_END,
};

static const struct mvm_option max_size_spec[] = {
	MVM_OPTION_RANGE("mem", MVM_OPT_SIZE, struct bounded_opts, mem, NULL,
			 false, 0, 2ULL << 30, NULL),
	MVM_OPTION_END,
};

struct ctx {
	struct balloon_opts o;
	struct opts_strings store;
	char err[256];
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	opts_strings_free(&c->store);
	free(c);
	return 0;
}

static int parse(struct ctx *c, const char *s)
{
	return opts_parse(balloon_spec, s, &c->o, &c->store, c->err,
			  sizeof(c->err));
}

static void expect_error(struct ctx *c, const char *s, const char *msg)
{
	assert_int_equal(parse(c, s), -EINVAL);
	assert_string_equal(c->err, msg);
}

/* ---- sizes ---- */

static void test_size_accepts_plain_bytes(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(parse(c, "size=4096"), 0);
	assert_int_equal(c->o.size, 4096);
}

static void test_size_accepts_K_suffix(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(parse(c, "size=4K"), 0);
	assert_int_equal(c->o.size, 4096);
}

static void test_size_accepts_M_suffix(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(parse(c, "size=256M"), 0);
	assert_int_equal(c->o.size, 256ULL << 20);
}

static void test_size_accepts_G_suffix(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(parse(c, "size=1G"), 0);
	assert_int_equal(c->o.size, 1ULL << 30);
}

static void test_size_accepts_T_suffix(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(parse(c, "size=2T"), 0);
	assert_int_equal(c->o.size, 2ULL << 40);
}

static void test_size_suffix_is_case_insensitive(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(opts_parse_size("3g", &v), 0);
	assert_int_equal(v, 3ULL << 30);
	assert_int_equal(opts_parse_size("5k", &v), 0);
	assert_int_equal(v, 5 * 1024);
}

static void test_size_accepts_trailing_B_and_iB(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(opts_parse_size("1GB", &v), 0);
	assert_int_equal(v, 1ULL << 30);
	assert_int_equal(opts_parse_size("1GiB", &v), 0);
	assert_int_equal(v, 1ULL << 30);
	assert_int_equal(opts_parse_size("2mib", &v), 0);
	assert_int_equal(v, 2ULL << 20);
	assert_int_equal(opts_parse_size("512B", &v), 0);
	assert_int_equal(v, 512);
}

static void test_size_accepts_exact_uint64_max(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(opts_parse_size("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(opts_parse_size("16777215T", &v), 0);
	assert_true(v == (16777215ULL << 40));
}

static void test_size_rejects_negative(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(opts_parse_size("-1", &v), -EINVAL);
	assert_int_equal(opts_parse_size("-1G", &v), -EINVAL);
}

static void test_size_rejects_fraction(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(opts_parse_size("1.5G", &v), -EINVAL);
}

static void test_size_rejects_hex(void **state)
{
	uint64_t v;

	(void)state;
	/* "0x1B": one byte-suffixed 1 or hex 0x1b? Refuse to guess. */
	assert_int_equal(opts_parse_size("0x1B", &v), -EINVAL);
	assert_int_equal(opts_parse_size("0x1000", &v), -EINVAL);
	assert_int_equal(opts_parse_size("0x1G", &v), -EINVAL);
}

static void test_size_rejects_trailing_junk(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(opts_parse_size("1Gx", &v), -EINVAL);
	assert_int_equal(opts_parse_size("1G ", &v), -EINVAL);
	assert_int_equal(opts_parse_size("1KK", &v), -EINVAL);
	assert_int_equal(opts_parse_size("1Ki", &v), -EINVAL);
	assert_int_equal(opts_parse_size("1iB", &v), -EINVAL);
}

static void test_size_rejects_leading_blank_and_plus(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(opts_parse_size(" 1G", &v), -EINVAL);
	assert_int_equal(opts_parse_size("+1G", &v), -EINVAL);
}

static void test_size_rejects_bare_suffix(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(opts_parse_size("G", &v), -EINVAL);
	assert_int_equal(opts_parse_size("", &v), -EINVAL);
}

static void test_size_rejects_overflow_past_uint64_max(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(opts_parse_size("18446744073709551616", &v), -EINVAL);
	assert_int_equal(opts_parse_size("16777216T", &v), -EINVAL);
}

static void test_bad_size_error_names_key_and_value(void **state)
{
	expect_error(*state, "size=1X",
		     "size=1X: not a size (a number with an optional K, M, G "
		     "or T suffix)");
}

static void test_size_overflow_error_says_too_large(void **state)
{
	expect_error(*state, "size=99999999T", "size=99999999T: too large");
}

static void test_long_digit_run_error_says_too_large(void **state)
{
	expect_error(*state, "size=999999999999999999999999",
		     "size=999999999999999999999999: too large");
}

/* ---- numbers ---- */

static void test_u64_accepts_decimal(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(opts_parse_u64("1016", &v), 0);
	assert_int_equal(v, 1016);
}

static void test_u64_accepts_hex(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(opts_parse_u64("0x3f8", &v), 0);
	assert_int_equal(v, 0x3f8);
	assert_int_equal(opts_parse_u64("0XFFFFFFFFFFFFFFFF", &v), 0);
	assert_true(v == UINT64_MAX);
}

static void test_u64_rejects_junk(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(opts_parse_u64("0x", &v), -EINVAL);
	assert_int_equal(opts_parse_u64("12a", &v), -EINVAL);
	assert_int_equal(opts_parse_u64("-3", &v), -EINVAL);
	assert_int_equal(opts_parse_u64("0x1g", &v), -EINVAL);
	assert_int_equal(opts_parse_u64("4K", &v), -EINVAL);
}

static void test_u64_rejects_overflow(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(opts_parse_u64("18446744073709551616", &v), -EINVAL);
	assert_int_equal(opts_parse_u64("0x10000000000000000", &v), -EINVAL);
}

static void test_bad_number_error_names_key_and_value(void **state)
{
	expect_error(*state, "size=1G,stats=ten",
		     "stats=ten: not a number (decimal, or hex with 0x)");
}

static void test_number_overflow_error_says_too_large(void **state)
{
	expect_error(*state, "size=1G,stats=0x1ffffffffffffffff",
		     "stats=0x1ffffffffffffffff: too large");
}

/* ---- bounds ---- */

static void test_value_above_max_is_rejected(void **state)
{
	expect_error(*state, "size=1G,stats=3601",
		     "stats=3601: must be at most 3600");
}

static void test_value_at_max_is_accepted(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(parse(c, "size=1G,stats=3600"), 0);
	assert_int_equal(c->o.stats, 3600);
}

static void test_value_below_min_is_rejected(void **state)
{
	struct bounded_opts b = {0};
	char err[128];

	(void)state;
	assert_int_equal(opts_parse(min_only_spec, "mem=4095", &b, NULL, err,
				    sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "mem=4095: must be at least 4K");
}

static void test_min_without_max_leaves_no_upper_bound(void **state)
{
	struct bounded_opts b = {0};
	char err[128];

	(void)state;
	assert_int_equal(
		opts_parse(min_only_spec, "mem=1T", &b, NULL, err, sizeof(err)),
		0);
	assert_true(b.mem == 1ULL << 40);
}

static void test_size_bound_is_printed_with_suffix(void **state)
{
	struct bounded_opts b = {0};
	char err[128];

	(void)state;
	assert_int_equal(
		opts_parse(max_size_spec, "mem=3G", &b, NULL, err, sizeof(err)),
		-EINVAL);
	assert_string_equal(err, "mem=3G: must be at most 2G");
}

/* ---- booleans ---- */

static void test_bool_accepts_every_spelling(void **state)
{
	static const char *const t[] = {"on", "true", "yes", "1", "ON", "True"};
	static const char *const f[] = {"off", "false", "no", "0", "OFF", "No"};
	bool b;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		b = false;
		assert_int_equal(opts_parse_bool(t[i], &b), 0);
		assert_true(b);
		b = true;
		assert_int_equal(opts_parse_bool(f[i], &b), 0);
		assert_false(b);
	}
}

static void test_bad_bool_error_names_key_and_value(void **state)
{
	expect_error(*state, "size=1G,deflate_on_oom=maybe",
		     "deflate_on_oom=maybe: expected on or off");
}

static void test_bool_option_is_set_from_string(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(parse(c, "size=1G,deflate_on_oom=on"), 0);
	assert_true(c->o.deflate_on_oom);
	assert_false(c->o.free_page_reporting);
}

/* ---- structure of the string ---- */

static void test_defaults_apply_when_keys_absent(void **state)
{
	struct ctx *c = *state;

	c->o.deflate_on_oom = true;
	c->o.stats = 99;
	assert_int_equal(parse(c, "size=1G"), 0);
	assert_false(c->o.deflate_on_oom);
	assert_int_equal(c->o.stats, 0);
	assert_string_equal(c->o.tag, "none");
}

static void test_given_value_overrides_default(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(parse(c, "stats=5,size=1G"), 0);
	assert_int_equal(c->o.stats, 5);
}

static void test_option_without_default_is_left_untouched(void **state)
{
	struct bounded_opts b = {.mem = 1234};
	char err[128];

	(void)state;
	assert_int_equal(
		opts_parse(min_only_spec, "", &b, NULL, err, sizeof(err)), 0);
	assert_int_equal(b.mem, 1234);
}

static void test_unknown_key_is_named_in_error(void **state)
{
	expect_error(*state, "size=1G,foo=1",
		     "unknown option 'foo' (known: size, deflate_on_oom, "
		     "free_page_reporting, stats, tag)");
}

static void test_unknown_key_with_empty_spec(void **state)
{
	static const struct mvm_option none[] = {MVM_OPTION_END};
	char err[128];

	(void)state;
	assert_int_equal(opts_parse(none, "x=1", NULL, NULL, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(
		err, "unknown option 'x' (this device takes no options)");
}

static void test_repeated_key_is_rejected(void **state)
{
	expect_error(*state, "size=1G,size=2G",
		     "size=2G: option 'size' given more than once");
}

static void test_bare_key_is_rejected(void **state)
{
	expect_error(*state, "size=1G,deflate_on_oom",
		     "'deflate_on_oom': expected key=value");
}

static void test_empty_key_is_rejected(void **state)
{
	expect_error(*state, "=1G", "'=1G': expected key=value");
}

static void test_empty_item_is_rejected(void **state)
{
	expect_error(*state, "size=1G,,stats=1",
		     "empty option in 'size=1G,,stats=1' (stray ',')");
}

static void test_trailing_comma_is_rejected(void **state)
{
	expect_error(*state, "size=1G,",
		     "empty option in 'size=1G,' (stray ',')");
}

static void test_empty_value_for_size_is_rejected(void **state)
{
	expect_error(*state, "size=", "size=: empty value");
}

static void test_empty_value_for_bool_is_rejected(void **state)
{
	expect_error(*state,
		     "size=1G,deflate_on_oom=", "deflate_on_oom=: empty value");
}

static void test_missing_mandatory_option_is_named(void **state)
{
	expect_error(*state, "deflate_on_oom=on",
		     "missing mandatory option 'size'");
}

static void test_empty_string_reports_missing_mandatory(void **state)
{
	expect_error(*state, "", "missing mandatory option 'size'");
}

static void test_null_string_means_no_options(void **state)
{
	struct bounded_opts b = {0};
	char err[128];

	(void)state;
	assert_int_equal(
		opts_parse(min_only_spec, NULL, &b, NULL, err, sizeof(err)), 0);
}

static void test_keys_are_case_sensitive(void **state)
{
	expect_error(*state, "SIZE=1G",
		     "unknown option 'SIZE' (known: size, deflate_on_oom, "
		     "free_page_reporting, stats, tag)");
}

/* ---- strings ---- */

static void test_string_is_copied_into_store(void **state)
{
	struct ctx *c = *state;
	char input[] = "size=1G,tag=hello";

	assert_int_equal(parse(c, input), 0);
	memset(input, 'z', sizeof(input) - 1);
	assert_string_equal(c->o.tag, "hello");
	/* The default "none" and the given "hello" are both owned copies. */
	assert_int_equal(c->store.n, 2);
	assert_ptr_equal(c->o.tag, c->store.v[1]);
}

static void test_string_may_be_empty(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(parse(c, "size=1G,tag="), 0);
	assert_string_equal(c->o.tag, "");
}

static void test_string_value_may_contain_equals(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(parse(c, "size=1G,tag=a=b"), 0);
	assert_string_equal(c->o.tag, "a=b");
}

static void test_string_option_without_store_is_an_error(void **state)
{
	struct balloon_opts o = {0};
	char err[128];

	(void)state;
	assert_int_equal(
		opts_parse(balloon_spec, "size=1G", &o, NULL, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "tag"));
}

static void test_strings_free_empties_store(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(parse(c, "size=1G,tag=x"), 0);
	opts_strings_free(&c->store);
	assert_null(c->store.v);
	assert_int_equal(c->store.n, 0);
}

/* ---- errors in general ---- */

static void test_error_is_truncated_to_buffer(void **state)
{
	struct balloon_opts o = {0};
	struct opts_strings st = {0};
	char err[8];

	(void)state;
	assert_int_equal(
		opts_parse(balloon_spec, "size=1X", &o, &st, err, sizeof(err)),
		-EINVAL);
	assert_string_equal(err, "size=1X");
	opts_strings_free(&st);
}

static void test_null_error_buffer_is_allowed(void **state)
{
	struct balloon_opts o = {0};
	struct opts_strings st = {0};

	(void)state;
	assert_int_equal(opts_parse(balloon_spec, "bogus=1", &o, &st, NULL, 0),
			 -EINVAL);
	opts_strings_free(&st);
}

static void test_success_leaves_error_empty(void **state)
{
	struct ctx *c = *state;

	strcpy(c->err, "stale");
	assert_int_equal(parse(c, "size=1G"), 0);
	assert_string_equal(c->err, "");
}

static void test_bad_default_is_reported(void **state)
{
	static const struct mvm_option bad[] = {
		MVM_OPTION("mem", MVM_OPT_SIZE, struct bounded_opts, mem,
			   "lots", false, ""),
		MVM_OPTION_END,
	};
	struct bounded_opts b = {0};
	char err[128];

	(void)state;
	assert_int_equal(opts_parse(bad, "", &b, NULL, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "mem=lots: not a size (a number with an "
				 "optional K, M, G or T suffix)");
}

/* ---- help ---- */

static void test_help_lists_every_option_with_type_and_default(void **state)
{
	char buf[2048] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	(void)state;
	assert_non_null(f);
	opts_print_help(f, balloon_spec);
	fclose(f);
	assert_non_null(strstr(buf, "size=<size>"));
	assert_non_null(
		strstr(buf, "memory to take from the guest (mandatory)"));
	assert_non_null(strstr(buf, "deflate_on_oom=<bool>"));
	assert_non_null(strstr(buf, "(default: off)"));
	assert_non_null(strstr(buf, "stats=<number>"));
	assert_non_null(strstr(buf, "tag=<string>"));
	/* One line per option. */
	size_t lines = 0;

	for (const char *p = buf; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 5);
}

static void test_help_for_empty_spec_says_no_options(void **state)
{
	static const struct mvm_option none[] = {MVM_OPTION_END};
	char buf[256] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	(void)state;
	assert_non_null(f);
	opts_print_help(f, none);
	fclose(f);
	assert_string_equal(buf, "  (no options)\n");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_size_accepts_plain_bytes),
		T(test_size_accepts_K_suffix),
		T(test_size_accepts_M_suffix),
		T(test_size_accepts_G_suffix),
		T(test_size_accepts_T_suffix),
		T(test_size_suffix_is_case_insensitive),
		T(test_size_accepts_trailing_B_and_iB),
		T(test_size_accepts_exact_uint64_max),
		T(test_size_rejects_negative),
		T(test_size_rejects_fraction),
		T(test_size_rejects_hex),
		T(test_size_rejects_trailing_junk),
		T(test_size_rejects_leading_blank_and_plus),
		T(test_size_rejects_bare_suffix),
		T(test_size_rejects_overflow_past_uint64_max),
		T(test_bad_size_error_names_key_and_value),
		T(test_size_overflow_error_says_too_large),
		T(test_long_digit_run_error_says_too_large),
		T(test_u64_accepts_decimal),
		T(test_u64_accepts_hex),
		T(test_u64_rejects_junk),
		T(test_u64_rejects_overflow),
		T(test_bad_number_error_names_key_and_value),
		T(test_number_overflow_error_says_too_large),
		T(test_value_above_max_is_rejected),
		T(test_value_at_max_is_accepted),
		T(test_value_below_min_is_rejected),
		T(test_min_without_max_leaves_no_upper_bound),
		T(test_size_bound_is_printed_with_suffix),
		T(test_bool_accepts_every_spelling),
		T(test_bad_bool_error_names_key_and_value),
		T(test_bool_option_is_set_from_string),
		T(test_defaults_apply_when_keys_absent),
		T(test_given_value_overrides_default),
		T(test_option_without_default_is_left_untouched),
		T(test_unknown_key_is_named_in_error),
		T(test_unknown_key_with_empty_spec),
		T(test_repeated_key_is_rejected),
		T(test_bare_key_is_rejected),
		T(test_empty_key_is_rejected),
		T(test_empty_item_is_rejected),
		T(test_trailing_comma_is_rejected),
		T(test_empty_value_for_size_is_rejected),
		T(test_empty_value_for_bool_is_rejected),
		T(test_missing_mandatory_option_is_named),
		T(test_empty_string_reports_missing_mandatory),
		T(test_null_string_means_no_options),
		T(test_keys_are_case_sensitive),
		T(test_string_is_copied_into_store),
		T(test_string_may_be_empty),
		T(test_string_value_may_contain_equals),
		T(test_string_option_without_store_is_an_error),
		T(test_strings_free_empties_store),
		T(test_error_is_truncated_to_buffer),
		T(test_null_error_buffer_is_allowed),
		T(test_success_leaves_error_empty),
		T(test_bad_default_is_reported),
		T(test_help_lists_every_option_with_type_and_default),
		T(test_help_for_empty_spec_says_no_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
