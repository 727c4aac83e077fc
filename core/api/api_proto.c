/* QMP message parsing and building; see api_proto.h. */
#define _GNU_SOURCE
#include "api/api_proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void api_error_set(struct api_error *err, const char *cls, const char *fmt, ...)
{
	va_list ap;

	err->cls = cls ? cls : API_ERR_GENERIC;
	va_start(ap, fmt);
	vsnprintf(err->desc, sizeof(err->desc), fmt, ap);
	va_end(ap);
}

void api_request_free(struct api_request *req)
{
	json_decref(req->root);
	memset(req, 0, sizeof(*req));
}

int api_parse_request(const char *text, size_t len, struct api_request *req,
		      struct api_error *err)
{
	json_error_t jerr;
	const char *key;
	json_t *v, *exec;

	memset(req, 0, sizeof(*req));
	/* DECODE_ANY so that "42" gets "not an object" rather than a parse
	 * error: the client learns what it actually did wrong. */
	req->root = json_loadb(text, len,
			       JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (!req->root) {
		api_error_set(err, NULL, "JSON parse error, %s (at byte %d)",
			      jerr.text, jerr.position);
		return -EINVAL;
	}
	if (!json_is_object(req->root)) {
		api_error_set(err, NULL, "QMP input must be a JSON object");
		return -EINVAL;
	}
	req->id = json_object_get(req->root, "id");
	json_object_foreach(req->root, key, v)
	{
		if (strcmp(key, "execute") && strcmp(key, "arguments") &&
		    strcmp(key, "id")) {
			api_error_set(err, NULL,
				      "QMP input member '%.64s' is unexpected",
				      key);
			return -EINVAL;
		}
	}
	exec = json_object_get(req->root, "execute");
	if (!exec) {
		api_error_set(err, NULL, "QMP input lacks member 'execute'");
		return -EINVAL;
	}
	if (!json_is_string(exec)) {
		api_error_set(err, NULL,
			      "QMP input member 'execute' must be a string");
		return -EINVAL;
	}
	req->execute = json_string_value(exec);
	req->args = json_object_get(req->root, "arguments");
	if (req->args && !json_is_object(req->args)) {
		api_error_set(err, NULL,
			      "QMP input member 'arguments' must be an object");
		return -EINVAL;
	}
	if (!req->args) {
		req->args = json_object();
		if (!req->args ||
		    json_object_set_new(req->root, "arguments", req->args)) {
			api_error_set(err, NULL, "out of memory");
			return -ENOMEM;
		}
	}
	return 0;
}

/* Serialises `msg` (stolen) as one compact line ending in CRLF, as QEMU
 * does. */
static char *finish(json_t *msg)
{
	char *body, *line = NULL;

	if (!msg)
		return NULL;
	body = json_dumps(msg, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(msg);
	if (body && asprintf(&line, "%s\r\n", body) < 0)
		line = NULL;
	free(body);
	return line;
}

char *api_build_greeting(int major, int minor, int micro)
{
	return finish(json_pack("{s:{s:{s:{s:i,s:i,s:i},s:s},s:[]}}", "QMP",
				"version", "qemu", "major", major, "minor",
				minor, "micro", micro, "package",
				"modvmm " MODVMM_VERSION, "capabilities"));
}

static json_t *with_id(json_t *msg, json_t *id)
{
	if (msg && id && json_object_set(msg, "id", id)) {
		json_decref(msg);
		return NULL;
	}
	return msg;
}

char *api_build_return(json_t *value, json_t *id)
{
	return finish(with_id(json_pack("{s:O}", "return", value), id));
}

char *api_build_error(const struct api_error *err, json_t *id)
{
	const char *cls = err->cls ? err->cls : API_ERR_GENERIC;
	json_t *msg = json_pack("{s:{s:s,s:s}}", "error", "class", cls, "desc",
				err->desc);

	/* The text may quote the client's bytes (a parse error, a truncated
	 * key) and so not be valid UTF-8: still answer, less precisely. */
	if (!msg)
		msg = json_pack("{s:{s:s,s:s}}", "error", "class", cls, "desc",
				"invalid input (not shown: not valid UTF-8)");
	return finish(with_id(msg, id));
}

char *api_build_event(const char *name, json_t *data, uint64_t ts_ns)
{
	json_t *msg = json_pack("{s:s,s:{s:I,s:I}}", "event", name, "timestamp",
				"seconds", (json_int_t)(ts_ns / 1000000000ULL),
				"microseconds",
				(json_int_t)(ts_ns % 1000000000ULL / 1000));

	if (msg && data && json_object_set(msg, "data", data)) {
		json_decref(msg);
		return NULL;
	}
	return finish(msg);
}
