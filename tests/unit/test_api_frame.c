/* Control-socket message framing (core/api/api_frame.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api_frame.h"

struct got {
	int n;
	char msg[8][256];
};

static int collect(void *opaque, const char *msg, size_t len)
{
	struct got *g = opaque;

	assert_int_equal(strlen(msg), len); /* NUL-terminated for jansson */
	if (g->n < 8)
		snprintf(g->msg[g->n], sizeof(g->msg[0]), "%s", msg);
	g->n++;
	return 0;
}

static struct api_framer *framer(void)
{
	struct api_framer *fr = malloc(sizeof(*fr));

	assert_non_null(fr);
	api_framer_init(fr);
	return fr;
}

static long feed(struct api_framer *fr, const char *s, struct got *g)
{
	return api_framer_feed(fr, s, strlen(s), collect, g);
}

static void test_splits_newline_delimited_messages(void **state)
{
	struct api_framer *fr = framer();
	struct got g = {0};

	(void)state;
	assert_int_equal(feed(fr, "{\"a\":1}\n{\"b\":2}\n", &g), 16);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.msg[0], "{\"a\":1}");
	assert_string_equal(g.msg[1], "{\"b\":2}");
	free(fr);
}

static void test_object_close_ends_message_without_newline(void **state)
{
	struct api_framer *fr = framer();
	struct got g = {0};

	(void)state;
	feed(fr, "{\"execute\":\"info\"}{\"execute\":\"help\"}", &g);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.msg[1], "{\"execute\":\"help\"}");
	assert_false(api_framer_pending(fr));
	free(fr);
}

static void test_braces_inside_strings_do_not_count(void **state)
{
	struct api_framer *fr = framer();
	struct got g = {0};

	(void)state;
	feed(fr, "{\"a\":\"}{\\\"}\"}", &g);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.msg[0], "{\"a\":\"}{\\\"}\"}");
	free(fr);
}

static void test_message_split_across_reads(void **state)
{
	const char *text = "{\"execute\":\"x\",\"arguments\":{\"k\":[1,{}]}}";
	struct api_framer *fr = framer();
	struct got g = {0};

	(void)state;
	for (size_t i = 0; text[i]; i++) {
		assert_int_equal(g.n, 0);
		api_framer_feed(fr, text + i, 1, collect, &g);
	}
	assert_int_equal(g.n, 1);
	assert_string_equal(g.msg[0], text);
	free(fr);
}

static void test_blank_lines_are_skipped(void **state)
{
	struct api_framer *fr = framer();
	struct got g = {0};

	(void)state;
	feed(fr, "\n \r\n\t\n", &g);
	assert_int_equal(g.n, 0);
	free(fr);
}

static void test_newline_ends_unbalanced_message(void **state)
{
	struct api_framer *fr = framer();
	struct got g = {0};

	(void)state;
	/* Garbage is handed on (to get an error reply), never kept. */
	feed(fr, "{\"execute\":\n42\n}\n", &g);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.msg[0], "{\"execute\":");
	assert_string_equal(g.msg[1], "42");
	assert_string_equal(g.msg[2], "}");
	free(fr);
}

static void test_half_request_is_pending(void **state)
{
	struct api_framer *fr = framer();
	struct got g = {0};

	(void)state;
	feed(fr, "{\"execute\":\"in", &g);
	assert_int_equal(g.n, 0);
	assert_true(api_framer_pending(fr));
	free(fr);
}

static void test_message_at_limit_is_accepted(void **state)
{
	struct api_framer *fr = framer();
	struct got g = {0};
	char *big = malloc(API_MAX_REQUEST + 2);

	(void)state;
	memset(big, ' ', API_MAX_REQUEST);
	big[0] = '"';
	big[API_MAX_REQUEST - 1] = '"';
	big[API_MAX_REQUEST] = '\n';
	assert_int_equal(
		api_framer_feed(fr, big, API_MAX_REQUEST + 1, collect, &g),
		API_MAX_REQUEST + 1);
	assert_int_equal(g.n, 1);
	free(big);
	free(fr);
}

static void test_message_over_limit_is_refused(void **state)
{
	struct api_framer *fr = framer();
	struct got g = {0};
	char *big = malloc(API_MAX_REQUEST + 2);

	(void)state;
	memset(big, 'x', API_MAX_REQUEST + 1);
	big[0] = '[';
	assert_int_equal(
		api_framer_feed(fr, big, API_MAX_REQUEST + 1, collect, &g),
		-EMSGSIZE);
	/* Stuck: the stream cannot be framed any more. */
	assert_int_equal(feed(fr, "\n{}\n", &g), -EMSGSIZE);
	assert_int_equal(g.n, 0);
	free(big);
	free(fr);
}

static int stop_after_first(void *opaque, const char *msg, size_t len)
{
	(void)msg;
	(void)len;
	(*(int *)opaque)++;
	return 1;
}

static void test_callback_can_stop_feeding(void **state)
{
	struct api_framer *fr = framer();
	int n = 0;

	(void)state;
	assert_int_equal(
		api_framer_feed(fr, "{}\n{}\n", 6, stop_after_first, &n), 2);
	assert_int_equal(n, 1);
	free(fr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_splits_newline_delimited_messages),
		cmocka_unit_test(
			test_object_close_ends_message_without_newline),
		cmocka_unit_test(test_braces_inside_strings_do_not_count),
		cmocka_unit_test(test_message_split_across_reads),
		cmocka_unit_test(test_blank_lines_are_skipped),
		cmocka_unit_test(test_newline_ends_unbalanced_message),
		cmocka_unit_test(test_half_request_is_pending),
		cmocka_unit_test(test_message_at_limit_is_accepted),
		cmocka_unit_test(test_message_over_limit_is_refused),
		cmocka_unit_test(test_callback_can_stop_feeding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
