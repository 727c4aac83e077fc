/* QMP parsing, replies and the dispatcher's error replies
 * (core/api/api_proto.c, core/api/api_cmds.c, core/api/api_plugin.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api_cmds.h"
#include "api/api_plugin.h"
#include "api/api_proto.h"

static struct api_cmds cmds;
static struct api_session sess;

/* A plugin-style command: takes a size "value" and an optional bool. */
static int cmd_set(void *opaque, mvm_api_call *call)
{
	const struct mvm_api_host *api = opaque;
	uint64_t v;
	bool verbose = false;
	char out[128];
	int r = api->arg_size(call, "value", &v);

	if (r == -ENOENT) {
		api->error(call, NULL, "Parameter 'value' is missing");
		return -EINVAL;
	}
	if (r < 0)
		return r;
	r = api->arg_bool(call, "verbose", &verbose);
	if (r < 0 && r != -ENOENT)
		return r;
	snprintf(out, sizeof(out), "{\"bytes\":%llu,\"verbose\":%s}",
		 (unsigned long long)v, verbose ? "true" : "false");
	return api->reply_json(call, out);
}

static int cmd_busy(void *opaque, mvm_api_call *call)
{
	(void)opaque;
	(void)call;
	return -EBUSY;
}

static int cmd_args(void *opaque, mvm_api_call *call)
{
	const struct mvm_api_host *api = opaque;

	return api->reply_json(call, api->args_json(call));
}

static int cmd_ping(void *opaque, mvm_api_call *call)
{
	(void)opaque;
	(void)call;
	return 0;
}

static const char *const no_args[] = {NULL};

static int setup(void **state)
{
	struct api_cmd set = {.name = "dev.set",
			      .args_help = "value: size",
			      .help = "set it",
			      .owner = "dev",
			      .fn = cmd_set,
			      .opaque = (void *)&core_api_host};
	struct api_cmd busy = {.name = "dev.busy", .fn = cmd_busy};
	struct api_cmd args = {.name = "dev.args",
			       .fn = cmd_args,
			       .opaque = (void *)&core_api_host};
	struct api_cmd ping = {.name = "ping",
			       .fn = cmd_ping,
			       .strict = true,
			       .args_names = no_args};

	(void)state;
	api_cmds_init(&cmds);
	assert_int_equal(api_cmds_add(&cmds, &set), 0);
	assert_int_equal(api_cmds_add(&cmds, &busy), 0);
	assert_int_equal(api_cmds_add(&cmds, &args), 0);
	assert_int_equal(api_cmds_add(&cmds, &ping), 0);
	sess.negotiated = true;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	api_cmds_free(&cmds);
	return 0;
}

/* Dispatches `text` and parses the reply, which must be one CRLF-ended
 * JSON object. */
static json_t *call_n(const char *text, size_t len)
{
	char *out = api_dispatch(&cmds, &sess, NULL, text, len);
	size_t n;
	json_t *v;

	assert_non_null(out);
	n = strlen(out);
	assert_true(n >= 2 && !strcmp(out + n - 2, "\r\n"));
	assert_null(memchr(out, '\n', n - 1));
	v = json_loads(out, 0, NULL);
	assert_non_null(v);
	free(out);
	return v;
}

static json_t *call(const char *text)
{
	return call_n(text, strlen(text));
}

static void expect_error(const char *text, const char *cls,
			 const char *desc_part)
{
	json_t *r = call(text);
	json_t *e = json_object_get(r, "error");

	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(e, "class")),
			    cls);
	assert_non_null(strstr(json_string_value(json_object_get(e, "desc")),
			       desc_part));
	json_decref(r);
}

static void test_greeting_is_qmp(void **state)
{
	char *g = api_build_greeting(0, 1, 0);
	json_t *v = json_loads(g, 0, NULL);

	(void)state;
	assert_non_null(json_object_get(json_object_get(v, "QMP"), "version"));
	assert_true(json_is_array(
		json_object_get(json_object_get(v, "QMP"), "capabilities")));
	json_decref(v);
	free(g);
}

static void test_commands_need_negotiation_first(void **state)
{
	json_t *r;

	(void)state;
	sess.negotiated = false;
	expect_error("{\"execute\":\"ping\"}", "CommandNotFound",
		     "qmp_capabilities");
	r = call("{\"execute\":\"qmp_capabilities\"}");
	assert_non_null(json_object_get(r, "return"));
	json_decref(r);
	assert_true(sess.negotiated);
	expect_error("{\"execute\":\"qmp_capabilities\"}", "CommandNotFound",
		     "already complete");
}

static void test_capability_requests_are_refused(void **state)
{
	(void)state;
	sess.negotiated = false;
	expect_error("{\"execute\":\"qmp_capabilities\",\"arguments\":"
		     "{\"enable\":[\"oob\"]}}",
		     "GenericError", "no QMP capabilities");
	assert_false(sess.negotiated);
}

static void test_malformed_json_gets_parse_error(void **state)
{
	(void)state;
	expect_error("{\"execute\":", "GenericError", "JSON parse error");
	expect_error("{execute: info}", "GenericError", "JSON parse error");
	expect_error("}", "GenericError", "JSON parse error");
	expect_error("{\"execute\":\"ping\",\"execute\":\"ping\"}",
		     "GenericError", "JSON parse error");
}

static void test_invalid_utf8_and_nul_get_an_error(void **state)
{
	json_t *r;

	(void)state;
	expect_error("{\"execute\":\"\xff\xfe\"}", "GenericError", "");
	r = call_n("{\"execute\":\"pi\0ng\"}", 19);
	assert_non_null(json_object_get(r, "error"));
	json_decref(r);
	expect_error("{\"execute\":\"\\u0000\"}", "GenericError",
		     "JSON parse error");
}

static void test_non_object_is_refused(void **state)
{
	(void)state;
	expect_error("42", "GenericError", "must be a JSON object");
	expect_error("\"info\"", "GenericError", "must be a JSON object");
	expect_error("[{\"execute\":\"ping\"}]", "GenericError",
		     "must be a JSON object");
	expect_error("null", "GenericError", "must be a JSON object");
}

static void test_request_shape_errors(void **state)
{
	(void)state;
	expect_error("{}", "GenericError", "lacks member 'execute'");
	expect_error("{\"execute\":1}", "GenericError",
		     "'execute' must be a string");
	expect_error("{\"execute\":\"ping\",\"arguments\":[]}", "GenericError",
		     "'arguments' must be an object");
	expect_error("{\"execute\":\"ping\",\"bogus\":1}", "GenericError",
		     "'bogus' is unexpected");
}

static void test_unknown_command(void **state)
{
	(void)state;
	expect_error("{\"execute\":\"no-such\"}", "CommandNotFound",
		     "no-such has not been found");
}

static void test_strict_command_rejects_arguments(void **state)
{
	(void)state;
	expect_error("{\"execute\":\"ping\",\"arguments\":{\"x\":1}}",
		     "GenericError", "Parameter 'x' is unexpected");
}

static void test_id_is_echoed(void **state)
{
	json_t *r;

	(void)state;
	r = call("{\"execute\":\"ping\",\"id\":\"abc\"}");
	assert_string_equal(json_string_value(json_object_get(r, "id")), "abc");
	assert_true(json_is_object(json_object_get(r, "return")));
	json_decref(r);
	r = call("{\"execute\":\"nope\",\"id\":[7]}");
	assert_non_null(json_object_get(r, "error"));
	assert_true(json_is_array(json_object_get(r, "id")));
	json_decref(r);
}

static void test_plugin_missing_argument(void **state)
{
	(void)state;
	expect_error("{\"execute\":\"dev.set\"}", "GenericError",
		     "'value' is missing");
}

static void test_plugin_wrong_argument_type(void **state)
{
	(void)state;
	expect_error("{\"execute\":\"dev.set\",\"arguments\":{\"value\":[]}}",
		     "GenericError", "Invalid parameter type for 'value'");
	expect_error("{\"execute\":\"dev.set\",\"arguments\":{\"value\":-1}}",
		     "GenericError", "Invalid parameter type for 'value'");
	expect_error(
		"{\"execute\":\"dev.set\",\"arguments\":{\"value\":\"1Q\"}}",
		"GenericError", "Invalid parameter type for 'value'");
	expect_error("{\"execute\":\"dev.set\",\"arguments\":{\"value\":1,"
		     "\"verbose\":\"yes\"}}",
		     "GenericError", "Invalid parameter type for 'verbose'");
}

static void test_plugin_size_argument_and_result(void **state)
{
	json_t *r;

	(void)state;
	r = call("{\"execute\":\"dev.set\",\"arguments\":{\"value\":\"1G\","
		 "\"verbose\":true}}");
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(r, "return"), "bytes")),
			 1ULL << 30);
	assert_true(json_is_true(
		json_object_get(json_object_get(r, "return"), "verbose")));
	json_decref(r);
	r = call("{\"execute\":\"dev.set\",\"arguments\":{\"value\":4096}}");
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(r, "return"), "bytes")),
			 4096);
	json_decref(r);
}

static void test_plugin_gets_arguments_as_json_text(void **state)
{
	json_t *r;

	(void)state;
	r = call("{\"execute\":\"dev.args\",\"arguments\":{\"a\":[1,\"x\"]}}");
	assert_int_equal(
		json_integer_value(json_array_get(
			json_object_get(json_object_get(r, "return"), "a"), 0)),
		1);
	json_decref(r);
}

static void test_handler_errno_becomes_error(void **state)
{
	(void)state;
	expect_error("{\"execute\":\"dev.busy\"}", "GenericError",
		     strerror(EBUSY));
}

static void test_help_lists_plugin_commands(void **state)
{
	struct mvm_api_call c = {0};
	size_t i;
	json_t *e;
	bool found = false;

	(void)state;
	assert_int_equal(api_cmds_list(&cmds, &c, true), 0);
	json_array_foreach(c.result, i, e)
	{
		if (!strcmp(json_string_value(json_object_get(e, "name")),
			    "dev.set")) {
			found = true;
			assert_string_equal(
				json_string_value(json_object_get(e, "plugin")),
				"dev");
			assert_string_equal(
				json_string_value(json_object_get(e, "args")),
				"value: size");
		}
	}
	assert_true(found);
	json_decref(c.result);
}

static void test_duplicate_and_bad_names_are_refused(void **state)
{
	struct api_cmd c = {.name = "ping", .fn = cmd_ping};

	(void)state;
	assert_int_equal(api_cmds_add(&cmds, &c), -EEXIST);
	c.name = "qmp_capabilities";
	assert_int_equal(api_cmds_add(&cmds, &c), -EEXIST);
	c.name = "Bad Name";
	assert_int_equal(api_cmds_add(&cmds, &c), -EINVAL);
	c.name = "";
	assert_int_equal(api_cmds_add(&cmds, &c), -EINVAL);
}

static void test_event_has_timestamp_and_data(void **state)
{
	json_t *data = json_pack("{s:i}", "actual", 5);
	char *text =
		api_build_event("BALLOON_CHANGE", data, 1500000123456789ULL);
	json_t *v = json_loads(text, 0, NULL);
	json_t *ts = json_object_get(v, "timestamp");

	(void)state;
	assert_string_equal(json_string_value(json_object_get(v, "event")),
			    "BALLOON_CHANGE");
	assert_int_equal(json_integer_value(json_object_get(ts, "seconds")),
			 1500000);
	assert_int_equal(
		json_integer_value(json_object_get(ts, "microseconds")),
		123456);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(v, "data"), "actual")),
			 5);
	json_decref(v);
	json_decref(data);
	free(text);
}

/* api_parse_size accepts `text` as `want` bytes. */
static void expect_size(const char *text, uint64_t want)
{
	uint64_t v;

	assert_int_equal(api_parse_size(text, &v), 0);
	assert_int_equal(v, want);
}

static void test_size_parser(void **state)
{
	uint64_t v;

	(void)state;
	expect_size("1G", 1ULL << 30);
	expect_size("512M", 512ULL << 20);
	expect_size("2GiB", 2ULL << 30);
	expect_size("0x1000", 4096);
	assert_int_equal(api_parse_size("-1", &v), -EINVAL);
	assert_int_equal(api_parse_size("1X", &v), -EINVAL);
	assert_int_equal(api_parse_size("", &v), -EINVAL);
	assert_int_equal(api_parse_size("99999999999T", &v), -EINVAL);
	assert_int_equal(api_parse_size("99999999999999999999999", &v),
			 -EINVAL);
}

static void test_event_names(void **state)
{
	(void)state;
	assert_true(api_event_name_valid("BALLOON_CHANGE"));
	/* Lower-case names are namespaced by the core ("balloon.changed"),
	 * never taken as QMP-wide names. */
	assert_false(api_event_name_valid("balloon"));
	assert_false(api_event_name_valid(""));
	assert_false(api_event_name_valid(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_greeting_is_qmp),
		cmocka_unit_test_setup_teardown(
			test_commands_need_negotiation_first, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_capability_requests_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_malformed_json_gets_parse_error, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_invalid_utf8_and_nul_get_an_error, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_non_object_is_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_shape_errors,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_command, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_strict_command_rejects_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_is_echoed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_plugin_missing_argument,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_plugin_wrong_argument_type,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_plugin_size_argument_and_result, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_plugin_gets_arguments_as_json_text, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_handler_errno_becomes_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help_lists_plugin_commands,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_duplicate_and_bad_names_are_refused, setup,
			teardown),
		cmocka_unit_test(test_event_has_timestamp_and_data),
		cmocka_unit_test(test_size_parser),
		cmocka_unit_test(test_event_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
