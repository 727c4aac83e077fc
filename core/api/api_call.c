/* A plugin command's view of one call, and plugin names; see api_call.h. */
#define _GNU_SOURCE
#include "api/api_call.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *api_call_args_json(mvm_api_call *call)
{
	if (!call->args_text)
		call->args_text = json_dumps(call->args, JSON_COMPACT);
	return call->args_text ? call->args_text : "{}";
}

static int wrong_type(mvm_api_call *call, const char *key, const char *want)
{
	return api_call_fail(call, NULL,
			     "Invalid parameter type for '%.64s', expected: %s",
			     key, want);
}

static bool is_string(const json_t *v)
{
	return json_is_string(v);
}

static bool is_u64(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0;
}

static bool is_bool(const json_t *v)
{
	return json_is_boolean(v);
}

/* 0 with the argument in *v when it is there and passes is() (any type when
 * is is NULL); -ENOENT when it is absent; the call's failure when it is of
 * another type. */
static int arg(mvm_api_call *call, const char *key, bool (*is)(const json_t *),
	       const char *want, json_t **v)
{
	*v = key ? json_object_get(call->args, key) : NULL;
	if (!*v)
		return -ENOENT;
	if (is && !is(*v))
		return wrong_type(call, key, want);
	return 0;
}

int api_call_arg_str(mvm_api_call *call, const char *key, const char **out)
{
	json_t *v;
	int r = arg(call, key, is_string, "string", &v);

	if (r == 0)
		*out = json_string_value(v);
	return r;
}

int api_call_arg_u64(mvm_api_call *call, const char *key, uint64_t *out)
{
	json_t *v;
	int r = arg(call, key, is_u64, "non-negative integer", &v);

	if (r == 0)
		*out = (uint64_t)json_integer_value(v);
	return r;
}

int api_call_arg_bool(mvm_api_call *call, const char *key, bool *out)
{
	json_t *v;
	int r = arg(call, key, is_bool, "boolean", &v);

	if (r == 0)
		*out = json_is_true(v);
	return r;
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

int api_call_arg_size(mvm_api_call *call, const char *key, uint64_t *out)
{
	json_t *v;
	int r = arg(call, key, NULL, NULL, &v);

	if (r < 0)
		return r;
	if (is_u64(v)) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) && api_parse_size(json_string_value(v), out) == 0)
		return 0;
	return wrong_type(call, key,
			  "size (bytes, or a string like \"512M\" or \"1G\")");
}

int api_call_reply_json(mvm_api_call *call, const char *text)
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

void api_call_error(mvm_api_call *call, const char *cls, const char *fmt, ...)
{
	va_list ap;

	/* The SDK's `error` returns nothing; api_call_fail's -EINVAL is
	 * dropped. */
	va_start(ap, fmt);
	api_call_vfail(call, cls, fmt, ap);
	va_end(ap);
}

bool api_event_name_valid(const char *name)
{
	return api_name_valid(name, 64,
			      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
}

int api_plugin_command(const char *dev_name, const struct mvm_api_command *cmd,
		       void *opaque, char *name, size_t namelen,
		       struct api_cmd *out)
{
	int n;

	/* Every struct mvm_api_command since ABI 1.1 reaches `handler`;
	 * members a later minor appends are read only when `size` covers
	 * them. */
	if (!cmd || !MVM_HOST_HAS(cmd, handler) || !cmd->handler ||
	    !api_cmd_name_valid(cmd->name) || strchr(cmd->name, '.'))
		return -EINVAL;
	if (cmd->flags & MVM_API_CMD_GLOBAL)
		n = snprintf(name, namelen, "%s", cmd->name);
	else
		n = snprintf(name, namelen, "%s.%s", dev_name, cmd->name);
	if (n < 0 || (size_t)n >= namelen)
		return -EINVAL;
	*out = (struct api_cmd){
		.name = name,
		.args_help = (char *)cmd->args_help,
		.help = (char *)cmd->help,
		.owner = (char *)dev_name,
		.fn = cmd->handler,
		.opaque = opaque,
	};
	return 0;
}

int api_plugin_event(const char *dev_name, const char *name,
		     const char *data_json, char *full, size_t fulllen,
		     json_t **data)
{
	json_error_t jerr;
	json_t *d;

	/* A lower-case name is the device's own, namespaced like its
	 * commands ("changed" -> "balloon.changed"); an upper-case one is a
	 * QMP-wide event name ("BALLOON_CHANGE") used as given. */
	if (name && api_cmd_name_valid(name) && !strchr(name, '.')) {
		int n = snprintf(full, fulllen, "%s.%s", dev_name, name);

		if (n < 0 || (size_t)n >= fulllen)
			return -EINVAL;
	} else if (api_event_name_valid(name) && strlen(name) < fulllen) {
		memcpy(full, name, strlen(name) + 1);
	} else {
		return -EINVAL;
	}
	d = data_json ? json_loads(data_json, 0, &jerr) : json_object();
	if (!d || !json_is_object(d)) {
		json_decref(d);
		return -EINVAL;
	}
	if (!json_object_get(d, "device"))
		json_object_set_new(d, "device", json_string(dev_name));
	*data = d;
	return 0;
}
