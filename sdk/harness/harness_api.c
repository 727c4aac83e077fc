/*
 * The harness's control-API host (modvmm/api.h, see modvmm/harness.h):
 * the VMM's own command table, dispatcher and argument accessors
 * (core/api/api_cmds.c, core/api/api_call.c) without its socket, so a plugin's
 * commands parse their arguments and fail exactly as in the VMM. Events
 * become MVM_HREC_API_EVENT records instead of going to clients.
 */
#define _GNU_SOURCE
#include "harness_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_call.h"

#define H(dev) ((struct mvm_harness *)(dev))

static const char *dev_name(struct mvm_harness *h)
{
	return h->desc ? h->desc->name : "device";
}

static int h_register(mvm_dev *dev, const struct mvm_api_command *cmd,
		      void *opaque)
{
	struct mvm_harness *h = H(dev);
	char name[128];
	struct api_cmd c;
	int r;

	/* modvmm/api.h: only from create or start, as in the VMM. */
	if (!h->in_create && !h->in_start)
		return -EPERM;
	r = api_plugin_command(dev_name(h), cmd, opaque, name, sizeof(name),
			       &c);
	return r < 0 ? r : api_cmds_add(&h->cmds, &c);
}

static int h_emit_event(mvm_dev *dev, const char *name, const char *data_json)
{
	struct mvm_harness *h = H(dev);
	char full[160];
	json_t *data;
	char *text;
	int r = api_plugin_event(dev_name(h), name, data_json, full,
				 sizeof(full), &data);

	if (r < 0)
		return r;
	text = json_dumps(data, JSON_COMPACT);
	json_decref(data);
	if (!text)
		return -ENOMEM;
	if (h->nevdata == h->capevdata) {
		size_t cap = h->capevdata ? 2 * h->capevdata : 16;
		char **p = realloc(h->evdata, cap * sizeof(*p));

		if (!p) {
			free(text);
			return -ENOMEM;
		}
		h->evdata = p;
		h->capevdata = cap;
	}
	h->evdata[h->nevdata] = text;
	harness_record(h, MVM_HREC_API_EVENT, 0, 0, h->nevdata);
	h->nevdata++;
	if (h->nrec && h->rec[h->nrec - 1].kind == MVM_HREC_API_EVENT)
		snprintf(h->rec[h->nrec - 1].text,
			 sizeof(h->rec[h->nrec - 1].text), "%s", full);
	if (h->verbose)
		fprintf(stderr, "[%s event] %s %s\n", dev_name(h), full, text);
	return 0;
}

const struct mvm_api_host harness_api_host = {
	API_CALL_HOST_OPS,
	.register_command = h_register,
	.emit_event = h_emit_event,
};

void harness_api_init(struct mvm_harness *h)
{
	api_cmds_init(&h->cmds);
}

void harness_api_clear_events(struct mvm_harness *h)
{
	for (size_t i = 0; i < h->nevdata; i++)
		free(h->evdata[i]);
	h->nevdata = 0;
}

void harness_api_free(struct mvm_harness *h)
{
	harness_api_clear_events(h);
	free(h->evdata);
	h->evdata = NULL;
	h->capevdata = 0;
	api_cmds_free(&h->cmds);
}

/* Copies `text` into reply[len]; -ENOBUFS if it was cut. */
static int put(char *reply, size_t len, const char *text)
{
	size_t n = strlen(text);

	if (!reply || !len)
		return n ? -ENOBUFS : 0;
	snprintf(reply, len, "%s", text);
	return n < len ? 0 : -ENOBUFS;
}

static void put_error(char *reply, size_t len, const struct api_error *err)
{
	json_t *o = json_pack("{s:s,s:s}", "class",
			      err->cls ? err->cls : API_ERR_GENERIC, "desc",
			      err->desc);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	put(reply, len, text ? text : "{}");
	free(text);
	json_decref(o);
}

int mvm_harness_api_call(struct mvm_harness *h, const char *name,
			 const char *args_json, char *reply, size_t reply_len)
{
	struct mvm_api_call call = {0};
	struct api_error err = {0};
	json_error_t jerr;
	char *text;
	int r;

	if (reply && reply_len)
		reply[0] = '\0';
	/* The same rules as a request's "arguments" (core/api/api_proto.c). */
	call.args = json_loads(args_json ? args_json : "{}",
			       JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (!call.args) {
		api_error_set(&err, NULL, "JSON parse error, %s (at byte %d)",
			      jerr.text, jerr.position);
		put_error(reply, reply_len, &err);
		return -EINVAL;
	}
	if (!json_is_object(call.args)) {
		json_decref(call.args);
		api_error_set(&err, NULL,
			      "QMP input member 'arguments' must be an object");
		put_error(reply, reply_len, &err);
		return -EINVAL;
	}
	r = api_cmds_call(&h->cmds, name ? name : "", &call, &err);
	if (r < 0) {
		put_error(reply, reply_len, &err);
	} else {
		text = call.result ? json_dumps(call.result,
						JSON_COMPACT | JSON_ENCODE_ANY)
				   : strdup("{}");
		r = text ? put(reply, reply_len, text) : -ENOMEM;
		free(text);
	}
	json_decref(call.result);
	json_decref(call.args);
	free(call.args_text);
	return r;
}

size_t mvm_harness_api_ncommands(struct mvm_harness *h)
{
	return h->cmds.n;
}

const char *mvm_harness_api_command(struct mvm_harness *h, size_t i)
{
	return i < h->cmds.n ? h->cmds.v[i].name : NULL;
}

const char *mvm_harness_event_data(struct mvm_harness *h, size_t i)
{
	if (i >= h->nrec || h->rec[i].kind != MVM_HREC_API_EVENT ||
	    h->rec[i].value >= h->nevdata)
		return NULL;
	return h->evdata[h->rec[i].value];
}

const char *mvm_harness_last_event(struct mvm_harness *h, const char *name)
{
	for (size_t i = h->nrec; i-- > 0;)
		if (h->rec[i].kind == MVM_HREC_API_EVENT && name &&
		    !strcmp(h->rec[i].text, name))
			return mvm_harness_event_data(h, i);
	return NULL;
}

int mvm_harness_json_u64(const char *json, const char *path, uint64_t *out)
{
	json_error_t jerr;
	json_t *root = json ? json_loads(json, JSON_DECODE_ANY, &jerr) : NULL;
	json_t *v = root;
	const char *p = path ? path : "";
	int r = 0;

	if (!root)
		return -EINVAL;
	while (*p && v) {
		size_t n = strcspn(p, ".");

		v = json_is_object(v) ? json_object_getn(v, p, n) : NULL;
		p += n + (p[n] == '.');
	}
	if (!v)
		r = -ENOENT;
	else if (!json_is_integer(v) || json_integer_value(v) < 0)
		r = -EINVAL;
	else
		*out = (uint64_t)json_integer_value(v);
	json_decref(root);
	return r;
}
