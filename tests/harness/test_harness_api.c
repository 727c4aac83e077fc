/*
 * The harness's control-API host (modvmm/harness.h, modvmm/api.h), driven
 * through a probe plugin compiled into this test (harness_linked.h): its
 * commands read every argument type, fail in every way the SDK allows and
 * emit events, and the tests check that the harness answers as the VMM's
 * control socket would (docs/api.md): the same argument rules, error
 * classes and texts, event names and data.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <modvmm/api.h>
#include <modvmm/harness.h>

#include "harness_linked.h"

/* ---- the probe plugin ---- */

struct probe {
	mvm_dev *dev;
	const struct mvm_host *host;
	const struct mvm_api_host *api;
	int dup_rc, bad_name_rc, dot_name_rc; /* registrations in create */
};

/* Appends `"key": value` for one accessor's outcome. */
static void put_rc(char *json, size_t len, const char *key, int rc)
{
	size_t n = strlen(json);

	snprintf(json + n, len - n, "%s\"%s_rc\": %d", n > 1 ? ", " : "", key,
		 rc);
}

/* Reads s (string), n (u64), b (bool), z (size); replies with the values
 * found and every accessor's return code. */
static int cmd_echo(void *opaque, mvm_api_call *call)
{
	struct probe *p = opaque;
	const char *s = NULL;
	uint64_t n = 0, z = 0;
	bool b = false;
	char json[512] = "{";
	int rs = p->api->arg_str(call, "s", &s);
	int rn = p->api->arg_u64(call, "n", &n);
	int rb = p->api->arg_bool(call, "b", &b);
	int rz = p->api->arg_size(call, "z", &z);
	size_t len;

	if (rs == -EINVAL || rn == -EINVAL || rb == -EINVAL || rz == -EINVAL)
		return -EINVAL; /* the accessor recorded the error */
	put_rc(json, sizeof(json), "s", rs);
	put_rc(json, sizeof(json), "n", rn);
	put_rc(json, sizeof(json), "b", rb);
	put_rc(json, sizeof(json), "z", rz);
	len = strlen(json);
	snprintf(json + len, sizeof(json) - len,
		 ", \"s\": \"%s\", \"n\": %" PRIu64
		 ", \"b\": %s, \"z\": %" PRIu64 "}",
		 s ? s : "", n, b ? "true" : "false", z);
	return p->api->reply_json(call, json);
}

static int cmd_args(void *opaque, mvm_api_call *call)
{
	struct probe *p = opaque;

	return p->api->reply_json(call, p->api->args_json(call));
}

static int cmd_fail(void *opaque, mvm_api_call *call)
{
	struct probe *p = opaque;

	p->api->error(call, "DeviceNotActive", "no %s here", "disk");
	return -ENODEV;
}

static int cmd_errno(void *opaque, mvm_api_call *call)
{
	(void)opaque;
	(void)call;
	return -EBUSY;
}

static int cmd_bad_reply(void *opaque, mvm_api_call *call)
{
	struct probe *p = opaque;

	return p->api->reply_json(call, "{nope");
}

static int cmd_contract(void *opaque, mvm_api_call *call)
{
	struct probe *p = opaque;

	p->api->error(call, NULL, "said no, returned 0");
	return 0;
}

static int cmd_nothing(void *opaque, mvm_api_call *call)
{
	(void)opaque;
	(void)call;
	return 0;
}

static int cmd_scalar(void *opaque, mvm_api_call *call)
{
	struct probe *p = opaque;

	return p->api->reply_json(call, "42");
}

/* Emits the good events and the bad ones; replies with each's rc. */
static int cmd_emit(void *opaque, mvm_api_call *call)
{
	struct probe *p = opaque;
	char json[256];
	int own = p->api->emit_event(p->dev, "changed", "{\"x\": 1}");
	int qmp = p->api->emit_event(p->dev, "PROBE_EVENT", NULL);
	int kept = p->api->emit_event(p->dev, "OTHER",
				      "{\"device\": \"someone\"}");
	int bad_name = p->api->emit_event(p->dev, "Mixed_Case", NULL);
	int dotted = p->api->emit_event(p->dev, "a.b", NULL);
	int not_object = p->api->emit_event(p->dev, "changed", "[1]");
	int not_json = p->api->emit_event(p->dev, "changed", "{");

	snprintf(json, sizeof(json),
		 "{\"own\": %d, \"qmp\": %d, \"kept\": %d, \"bad_name\": %d, "
		 "\"dotted\": %d, \"not_object\": %d, \"not_json\": %d}",
		 own, qmp, kept, bad_name, dotted, not_object, not_json);
	return p->api->reply_json(call, json);
}

static int register_one(struct probe *p, uint32_t flags, const char *name,
			int (*fn)(void *, mvm_api_call *))
{
	struct mvm_api_command c = {
		.size = sizeof(c),
		.flags = flags,
		.name = name,
		.help = "probe",
		.handler = fn,
	};

	return p->api->register_command(p->dev, &c, p);
}

/* After start: registering is refused (modvmm/api.h). */
static int cmd_late(void *opaque, mvm_api_call *call)
{
	struct probe *p = opaque;
	char json[64];

	snprintf(json, sizeof(json), "{\"rc\": %d}",
		 register_one(p, 0, "later", cmd_nothing));
	return p->api->reply_json(call, json);
}

static int cmd_setup(void *opaque, mvm_api_call *call)
{
	struct probe *p = opaque;
	char json[128];

	snprintf(json, sizeof(json),
		 "{\"dup\": %d, \"bad_name\": %d, \"dot_name\": %d}", p->dup_rc,
		 p->bad_name_rc, p->dot_name_rc);
	return p->api->reply_json(call, json);
}

static int probe_create(mvm_dev *dev, const struct mvm_host *host,
			const char *options, void **state)
{
	static const struct {
		uint32_t flags;
		const char *name;
		int (*fn)(void *, mvm_api_call *);
	} cmds[] = {
		{0, "echo", cmd_echo},
		{0, "args", cmd_args},
		{0, "fail", cmd_fail},
		{0, "errno", cmd_errno},
		{0, "bad-reply", cmd_bad_reply},
		{0, "contract", cmd_contract},
		{0, "nothing", cmd_nothing},
		{0, "scalar", cmd_scalar},
		{0, "emit", cmd_emit},
		{0, "late", cmd_late},
		{0, "setup", cmd_setup},
		{MVM_API_CMD_GLOBAL, "probe-global", cmd_nothing},
	};
	struct probe *p = calloc(1, sizeof(*p));

	(void)options;
	if (!p)
		return -ENOMEM;
	p->dev = dev;
	p->host = host;
	p->api = host->api;
	if (!p->api) {
		free(p);
		return -ENOTSUP;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(*cmds); i++) {
		int r = register_one(p, cmds[i].flags, cmds[i].name,
				     cmds[i].fn);

		if (r < 0) {
			(host->fail)(dev, "register %s: %d", cmds[i].name, r);
			free(p);
			return r;
		}
	}
	p->dup_rc = register_one(p, 0, "echo", cmd_nothing);
	p->bad_name_rc = register_one(p, 0, "Echo", cmd_nothing);
	p->dot_name_rc = register_one(p, 0, "a.b", cmd_nothing);
	*state = p;
	return 0;
}

static int probe_start(void *state)
{
	struct probe *p = state;

	return register_one(p, 0, "from-start", cmd_nothing);
}

static void probe_destroy(void *state)
{
	free(state);
}

static const struct mvm_plugin probe_plugin = {
	MVM_PLUGIN_HEADER,
	.name = "probe",
	.version = "0",
	.description = "control-API probe for the harness's own tests",
	.create = probe_create,
	.start = probe_start,
	.destroy = probe_destroy,
};

/* ---- the tests ---- */

static int setup(void **state)
{
	struct mvm_harness *h;
	char why[512];
	int r = harness_open_linked(&probe_plugin, "", NULL, &h, why,
				    sizeof(why));

	if (r < 0)
		fail_msg("open: %s", why);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	return mvm_harness_close(*state);
}

/* Calls `name`, expects `rc`, returns the reply. */
static const char *call(struct mvm_harness *h, const char *name,
			const char *args, int rc)
{
	static char reply[1024];
	int r = mvm_harness_api_call(h, name, args, reply, sizeof(reply));

	if (r != rc)
		fail_msg("%s %s: %d, expected %d; reply %s",
			 name ? name : "(null)", args ? args : "", r, rc,
			 reply);
	return reply;
}

static uint64_t u64(const char *json, const char *path)
{
	uint64_t v = ~0ULL;

	if (mvm_harness_json_u64(json, path, &v) < 0)
		fail_msg("%s: no %s", json, path);
	return v;
}

static void expect_error(const char *reply, const char *cls, const char *desc)
{
	char want[512];

	snprintf(want, sizeof(want), "{\"class\":\"%s\",\"desc\":\"%s\"}", cls,
		 desc);
	assert_string_equal(reply, want);
}

static void test_commands_are_named_as_a_client_calls_them(void **state)
{
	struct mvm_harness *h = *state;
	bool echo = false, global = false, start = false;

	for (size_t i = 0; i < mvm_harness_api_ncommands(h); i++) {
		const char *n = mvm_harness_api_command(h, i);

		echo |= !strcmp(n, "probe.echo");
		global |= !strcmp(n, "probe-global");
		start |= !strcmp(n, "probe.from-start");
	}
	assert_true(echo && global && start);
	assert_null(mvm_harness_api_command(h, mvm_harness_api_ncommands(h)));
	call(h, "probe-global", NULL, 0);
	call(h, "probe.from-start", NULL, 0);
}

static void test_registration_refusals_match_the_vmm(void **state)
{
	struct mvm_harness *h = *state;
	const char *r = call(h, "probe.setup", NULL, 0);

	assert_string_equal(r, "{\"dup\":-17,\"bad_name\":-22,"
			       "\"dot_name\":-22}");
}

static void test_register_after_start_is_refused(void **state)
{
	struct mvm_harness *h = *state;

	assert_string_equal(call(h, "probe.late", NULL, 0), "{\"rc\":-1}");
	call(h, "probe.later", NULL, -ENOENT);
}

static void test_every_argument_type_is_read(void **state)
{
	struct mvm_harness *h = *state;
	const char *r = call(h, "probe.echo",
			     "{\"s\": \"hi\", \"n\": 42, \"b\": true, "
			     "\"z\": \"512M\"}",
			     0);

	assert_string_equal(r, "{\"s_rc\":0,\"n_rc\":0,\"b_rc\":0,\"z_rc\":0,"
			       "\"s\":\"hi\",\"n\":42,\"b\":true,"
			       "\"z\":536870912}");
	assert_int_equal(u64(call(h, "probe.echo", "{\"z\": 4096}", 0), "z"),
			 4096);
	assert_int_equal(u64(call(h, "probe.echo", "{\"z\": \"1G\"}", 0), "z"),
			 1ULL << 30);
	assert_int_equal(
		u64(call(h, "probe.echo", "{\"z\": \"2GiB\"}", 0), "z"),
		2ULL << 30);
	assert_int_equal(
		u64(call(h, "probe.echo", "{\"z\": \"0x1000\"}", 0), "z"),
		4096);
	assert_int_equal(
		u64(call(h, "probe.echo", "{\"b\": false, \"n\": 0}", 0), "n"),
		0);
}

static void test_absent_arguments_are_enoent(void **state)
{
	struct mvm_harness *h = *state;

	assert_string_equal(call(h, "probe.echo", NULL, 0),
			    "{\"s_rc\":-2,\"n_rc\":-2,\"b_rc\":-2,\"z_rc\":-2,"
			    "\"s\":\"\",\"n\":0,\"b\":false,\"z\":0}");
	call(h, "probe.echo", "{}", 0);
}

static void test_wrong_argument_types_fail_as_in_the_vmm(void **state)
{
	static const struct {
		const char *args, *desc;
	} cases[] = {
		{"{\"s\": 5}", "Invalid parameter type for 's', expected: "
			       "string"},
		{"{\"n\": -1}", "Invalid parameter type for 'n', expected: "
				"non-negative integer"},
		{"{\"n\": 1.5}", "Invalid parameter type for 'n', expected: "
				 "non-negative integer"},
		{"{\"n\": \"42\"}", "Invalid parameter type for 'n', "
				    "expected: non-negative integer"},
		{"{\"b\": \"yes\"}", "Invalid parameter type for 'b', "
				     "expected: boolean"},
		{"{\"z\": \"1X\"}",
		 "Invalid parameter type for 'z', expected: size (bytes, or a "
		 "string like \\\"512M\\\" or \\\"1G\\\")"},
		{"{\"z\": -4096}",
		 "Invalid parameter type for 'z', expected: size (bytes, or a "
		 "string like \\\"512M\\\" or \\\"1G\\\")"},
		{"{\"z\": \"99999999999T\"}",
		 "Invalid parameter type for 'z', expected: size (bytes, or a "
		 "string like \\\"512M\\\" or \\\"1G\\\")"},
	};
	struct mvm_harness *h = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		expect_error(call(h, "probe.echo", cases[i].args, -EINVAL),
			     "GenericError", cases[i].desc);
}

static void test_arguments_object_as_compact_json(void **state)
{
	struct mvm_harness *h = *state;

	assert_string_equal(call(h, "probe.args", NULL, 0), "{}");
	assert_string_equal(call(h, "probe.args",
				 "{ \"a\" : [1, 2], \"b\": {\"c\": null} }", 0),
			    "{\"a\":[1,2],\"b\":{\"c\":null}}");
}

static void test_arguments_must_be_one_json_object(void **state)
{
	struct mvm_harness *h = *state;

	expect_error(call(h, "probe.args", "[1]", -EINVAL), "GenericError",
		     "QMP input member 'arguments' must be an object");
	assert_non_null(strstr(call(h, "probe.args", "{\"a\":", -EINVAL),
			       "JSON parse error"));
	/* As on the socket, a key given twice is refused. */
	assert_non_null(
		strstr(call(h, "probe.args", "{\"a\":1,\"a\":2}", -EINVAL),
		       "JSON parse error"));
}

static void test_unknown_command_is_command_not_found(void **state)
{
	struct mvm_harness *h = *state;

	expect_error(call(h, "probe.nope", NULL, -ENOENT), "CommandNotFound",
		     "The command probe.nope has not been found");
	/* Device commands are only known by their full name. */
	call(h, "echo", NULL, -ENOENT);
	call(h, NULL, NULL, -ENOENT);
}

static void test_handler_errors_reach_the_caller(void **state)
{
	struct mvm_harness *h = *state;

	expect_error(call(h, "probe.fail", NULL, -ENODEV), "DeviceNotActive",
		     "no disk here");
	expect_error(call(h, "probe.errno", NULL, -EBUSY), "GenericError",
		     "probe.errno: Device or resource busy");
	expect_error(call(h, "probe.bad-reply", NULL, -EINVAL), "GenericError",
		     "internal error: the command's result is not valid JSON");
	expect_error(call(h, "probe.contract", NULL, -EPROTO), "GenericError",
		     "said no, returned 0");
}

static void test_results_default_to_empty_object(void **state)
{
	struct mvm_harness *h = *state;

	assert_string_equal(call(h, "probe.nothing", NULL, 0), "{}");
	assert_string_equal(call(h, "probe.scalar", NULL, 0), "42");
}

static void test_reply_that_does_not_fit_is_enobufs(void **state)
{
	struct mvm_harness *h = *state;
	char small[8];

	assert_int_equal(mvm_harness_api_call(h, "probe.echo", NULL, small,
					      sizeof(small)),
			 -ENOBUFS);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(
		mvm_harness_api_call(h, "probe.nothing", NULL, NULL, 0),
		-ENOBUFS);
	assert_int_equal(mvm_harness_api_call(h, "probe.fail", NULL, NULL, 0),
			 -ENODEV);
}

static void test_events_are_recorded_with_their_data(void **state)
{
	struct mvm_harness *h = *state;
	const char *r;
	size_t ev = 0;

	mvm_harness_clear_records(h);
	r = call(h, "probe.emit", NULL, 0);
	assert_string_equal(r, "{\"own\":0,\"qmp\":0,\"kept\":0,"
			       "\"bad_name\":-22,\"dotted\":-22,"
			       "\"not_object\":-22,\"not_json\":-22}");
	assert_int_equal(mvm_harness_count(h, MVM_HREC_API_EVENT), 3);
	for (size_t i = 0; i < mvm_harness_nrecords(h); i++) {
		const struct mvm_harness_record *rec = mvm_harness_record(h, i);
		static const char *const names[] = {"probe.changed",
						    "PROBE_EVENT", "OTHER"};
		static const char *const data[] = {
			"{\"x\":1,\"device\":\"probe\"}",
			"{\"device\":\"probe\"}", "{\"device\":\"someone\"}"};

		if (rec->kind != MVM_HREC_API_EVENT) {
			assert_null(mvm_harness_event_data(h, i));
			continue;
		}
		assert_string_equal(rec->text, names[ev]);
		assert_string_equal(mvm_harness_event_data(h, i), data[ev]);
		ev++;
	}
	assert_string_equal(mvm_harness_last_event(h, "PROBE_EVENT"),
			    "{\"device\":\"probe\"}");
	assert_null(mvm_harness_last_event(h, "changed"));
	mvm_harness_clear_records(h);
	assert_int_equal(mvm_harness_count(h, MVM_HREC_API_EVENT), 0);
	assert_null(mvm_harness_last_event(h, "PROBE_EVENT"));
	assert_null(mvm_harness_event_data(h, 0));
}

static void test_json_u64_follows_a_dotted_path(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(mvm_harness_json_u64("{\"a\":{\"b\":5}}", "a.b", &v),
			 0);
	assert_int_equal(v, 5);
	assert_int_equal(mvm_harness_json_u64("3", "", &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(mvm_harness_json_u64("{\"a\":{}}", "a.b", &v),
			 -ENOENT);
	assert_int_equal(mvm_harness_json_u64("{\"a\":1}", "a.b", &v), -ENOENT);
	assert_int_equal(mvm_harness_json_u64("{\"a\":-1}", "a", &v), -EINVAL);
	assert_int_equal(mvm_harness_json_u64("{\"a\":\"1\"}", "a", &v),
			 -EINVAL);
	assert_int_equal(mvm_harness_json_u64("{", "a", &v), -EINVAL);
	assert_int_equal(mvm_harness_json_u64(NULL, "a", &v), -EINVAL);
	assert_int_equal(v, 3);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_commands_are_named_as_a_client_calls_them),
		T(test_registration_refusals_match_the_vmm),
		T(test_register_after_start_is_refused),
		T(test_every_argument_type_is_read),
		T(test_absent_arguments_are_enoent),
		T(test_wrong_argument_types_fail_as_in_the_vmm),
		T(test_arguments_object_as_compact_json),
		T(test_arguments_must_be_one_json_object),
		T(test_unknown_command_is_command_not_found),
		T(test_handler_errors_reach_the_caller),
		T(test_results_default_to_empty_object),
		T(test_reply_that_does_not_fit_is_enobufs),
		T(test_events_are_recorded_with_their_data),
		cmocka_unit_test(test_json_u64_follows_a_dotted_path),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
