/*
 * The SDK's control-API table (modvmm/api.h): plugin commands go into the
 * VM's command table under "<device>.<name>", their arguments are read
 * through typed accessors, results and events cross as JSON text.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_plugin.h"
#include "api_server.h"
#include "device.h"

/* Every struct mvm_api_command since ABI 1.1 reaches `handler`; members a
 * later minor appends would be read only when `size` covers them. */
#define API_COMMAND_MIN_SIZE                                                   \
	(offsetof(struct mvm_api_command, handler) +                           \
	 sizeof(((struct mvm_api_command *)0)->handler))

static int api_register(mvm_dev *dev, const struct mvm_api_command *cmd,
			void *opaque)
{
	char name[128];
	struct api_cmd c = {0};

	if (!dev->vm->api || !cmd || cmd->size < API_COMMAND_MIN_SIZE ||
	    !cmd->handler || !api_cmd_name_valid(cmd->name) ||
	    strchr(cmd->name, '.'))
		return -EINVAL;
	if (cmd->flags & MVM_API_CMD_GLOBAL)
		snprintf(name, sizeof(name), "%s", cmd->name);
	else if (snprintf(name, sizeof(name), "%s.%s", dev->name, cmd->name) >=
		 (int)sizeof(name))
		return -EINVAL;
	c.name = name;
	c.args_help = (char *)cmd->args_help;
	c.help = (char *)cmd->help;
	c.owner = dev->name;
	c.fn = cmd->handler;
	c.opaque = opaque;
	c.lock = &dev->lock;
	return api_cmds_add(api_commands(dev->vm->api), &c);
}

static const char *api_args_json(mvm_api_call *call)
{
	if (!call->args_text)
		call->args_text = json_dumps(call->args, JSON_COMPACT);
	return call->args_text ? call->args_text : "{}";
}

/* The argument, or NULL (-ENOENT in *r). */
static json_t *arg(mvm_api_call *call, const char *key, int *r)
{
	json_t *v = key ? json_object_get(call->args, key) : NULL;

	*r = v ? 0 : -ENOENT;
	return v;
}

static int wrong_type(mvm_api_call *call, const char *key, const char *want)
{
	return api_call_fail(call, NULL,
			     "Invalid parameter type for '%.64s', expected: %s",
			     key, want);
}

static int api_arg_str(mvm_api_call *call, const char *key, const char **out)
{
	int r;
	json_t *v = arg(call, key, &r);

	if (!v)
		return r;
	if (!json_is_string(v))
		return wrong_type(call, key, "string");
	*out = json_string_value(v);
	return 0;
}

static int api_arg_u64(mvm_api_call *call, const char *key, uint64_t *out)
{
	int r;
	json_t *v = arg(call, key, &r);

	if (!v)
		return r;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return wrong_type(call, key, "non-negative integer");
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int api_arg_bool(mvm_api_call *call, const char *key, bool *out)
{
	int r;
	json_t *v = arg(call, key, &r);

	if (!v)
		return r;
	if (!json_is_boolean(v))
		return wrong_type(call, key, "boolean");
	*out = json_is_true(v);
	return 0;
}

int api_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return -EINVAL;
	if (*end) {
		const char *units = "KMGT", *u = strchr(units, *end & ~0x20);

		if (!u || !*u ||
		    (end[1] && strcmp(end + 1, "iB") && strcmp(end + 1, "B")))
			return -EINVAL;
		shift = 10 * (unsigned)(u - units + 1);
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static int api_arg_size(mvm_api_call *call, const char *key, uint64_t *out)
{
	int r;
	json_t *v = arg(call, key, &r);

	if (!v)
		return r;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) && api_parse_size(json_string_value(v), out) == 0)
		return 0;
	return wrong_type(call, key,
			  "size (bytes, or a string like \"512M\" or \"1G\")");
}

static int api_reply_json(mvm_api_call *call, const char *text)
{
	json_error_t jerr;
	json_t *v = text ? json_loads(text, JSON_DECODE_ANY, &jerr) : NULL;

	if (!v)
		return api_call_fail(call, NULL,
				     "internal error: the command's result is "
				     "not valid JSON");
	json_decref(call->result);
	call->result = v;
	return 0;
}

static void api_error(mvm_api_call *call, const char *cls, const char *fmt, ...)
{
	va_list ap;

	call->failed = true;
	call->err.cls = cls ? cls : API_ERR_GENERIC;
	va_start(ap, fmt);
	vsnprintf(call->err.desc, sizeof(call->err.desc), fmt, ap);
	va_end(ap);
}

bool api_event_name_valid(const char *name)
{
	return api_name_valid(name, 64,
			      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
}

static int api_emit_event(mvm_dev *dev, const char *name, const char *data_json)
{
	char full[160];
	json_error_t jerr;
	json_t *data;

	/* A lower-case name is the device's own, namespaced like its
	 * commands ("changed" -> "balloon.changed"); an upper-case one is a
	 * QMP-wide event name ("BALLOON_CHANGE") used as given. */
	if (name && api_cmd_name_valid(name) && !strchr(name, '.')) {
		if (snprintf(full, sizeof(full), "%s.%s", dev->name, name) >=
		    (int)sizeof(full))
			return -EINVAL;
		name = full;
	} else if (!api_event_name_valid(name)) {
		return -EINVAL;
	}
	data = data_json ? json_loads(data_json, 0, &jerr) : json_object();
	if (!data || !json_is_object(data)) {
		json_decref(data);
		return -EINVAL;
	}
	if (!json_object_get(data, "device"))
		json_object_set_new(data, "device", json_string(dev->name));
	api_emit(dev->vm->api, name, data);
	return 0;
}

const struct mvm_api_host core_api_host = {
	.size = sizeof(struct mvm_api_host),
	.register_command = api_register,
	.args_json = api_args_json,
	.arg_str = api_arg_str,
	.arg_u64 = api_arg_u64,
	.arg_bool = api_arg_bool,
	.arg_size = api_arg_size,
	.reply_json = api_reply_json,
	.error = api_error,
	.emit_event = api_emit_event,
};
