/* Command table and QMP dispatch; see api_cmds.h. */
#define _GNU_SOURCE
#include "api/api_cmds.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void api_cmds_init(struct api_cmds *cmds)
{
	memset(cmds, 0, sizeof(*cmds));
	pthread_mutex_init(&cmds->lock, NULL);
}

static void cmd_free(struct api_cmd *c)
{
	free(c->name);
	free(c->args_help);
	free(c->help);
	free(c->owner);
}

void api_cmds_free(struct api_cmds *cmds)
{
	for (size_t i = 0; i < cmds->n; i++)
		cmd_free(&cmds->v[i]);
	free(cmds->v);
	pthread_mutex_destroy(&cmds->lock);
	memset(cmds, 0, sizeof(*cmds));
}

bool api_name_valid(const char *name, size_t max, const char *allowed)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > max)
		return false;
	return strspn(name, allowed) == n;
}

bool api_cmd_name_valid(const char *name)
{
	return api_name_valid(name, 95,
			      "abcdefghijklmnopqrstuvwxyz0123456789_.-");
}

static struct api_cmd *find_locked(struct api_cmds *cmds, const char *name)
{
	for (size_t i = 0; i < cmds->n; i++)
		if (!strcmp(cmds->v[i].name, name))
			return &cmds->v[i];
	return NULL;
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*oom = true;
	return d;
}

int api_cmds_add(struct api_cmds *cmds, const struct api_cmd *cmd)
{
	struct api_cmd c = *cmd, *v;
	bool oom = false;
	int r = 0;

	if (!api_cmd_name_valid(cmd->name) || !cmd->fn)
		return -EINVAL;
	c.name = dup_or_null(cmd->name, &oom);
	c.args_help = dup_or_null(cmd->args_help, &oom);
	c.help = dup_or_null(cmd->help ? cmd->help : "", &oom);
	c.owner = dup_or_null(cmd->owner, &oom);
	pthread_mutex_lock(&cmds->lock);
	if (oom)
		r = -ENOMEM;
	else if (find_locked(cmds, cmd->name) ||
		 !strcmp(cmd->name, "qmp_capabilities"))
		r = -EEXIST;
	else if (!(v = realloc(cmds->v, (cmds->n + 1) * sizeof(*v))))
		r = -ENOMEM;
	else
		(cmds->v = v)[cmds->n++] = c;
	pthread_mutex_unlock(&cmds->lock);
	if (r)
		cmd_free(&c);
	return r;
}

int api_call_vfail(struct mvm_api_call *call, const char *cls, const char *fmt,
		   va_list ap)
{
	call->failed = true;
	call->err.cls = cls ? cls : API_ERR_GENERIC;
	vsnprintf(call->err.desc, sizeof(call->err.desc), fmt, ap);
	return -EINVAL;
}

int api_call_fail(struct mvm_api_call *call, const char *cls, const char *fmt,
		  ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = api_call_vfail(call, cls, fmt, ap);
	va_end(ap);
	return r;
}

int api_cmds_list(struct api_cmds *cmds, struct mvm_api_call *call,
		  bool verbose)
{
	json_t *list = json_array();
	int r = 0;

	if (!list)
		return -ENOMEM;
	pthread_mutex_lock(&cmds->lock);
	/* QEMU's qmp_capabilities is handled by the dispatcher, but clients
	 * (qmp-shell) expect to see it listed. */
	if (json_array_append_new(
		    list,
		    verbose ? json_pack("{s:s,s:s,s:n}", "name",
					"qmp_capabilities", "help",
					"leave capabilities negotiation "
					"(QMP)",
					"plugin")
			    : json_pack("{s:s}", "name", "qmp_capabilities")))
		r = -ENOMEM;
	for (size_t i = 0; i < cmds->n && r == 0; i++) {
		const struct api_cmd *c = &cmds->v[i];
		json_t *e = json_pack("{s:s}", "name", c->name);

		if (e && verbose &&
		    (json_object_set_new(e, "help", json_string(c->help)) ||
		     (c->args_help &&
		      json_object_set_new(e, "args",
					  json_string(c->args_help))) ||
		     json_object_set_new(e, "plugin",
					 c->owner ? json_string(c->owner)
						  : json_null()))) {
			json_decref(e);
			e = NULL;
		}
		if (json_array_append_new(list, e))
			r = -ENOMEM;
	}
	pthread_mutex_unlock(&cmds->lock);
	if (r) {
		json_decref(list);
		return r;
	}
	json_decref(call->result);
	call->result = list;
	return 0;
}

static int negotiate(struct api_session *s, const struct api_request *req,
		     struct api_error *err)
{
	const char *key;
	json_t *v;

	if (s->negotiated) {
		api_error_set(err, API_ERR_NOT_FOUND,
			      "Capabilities negotiation is already complete, "
			      "command ignored");
		return -EINVAL;
	}
	json_object_foreach(req->args, key, v)
	{
		if (strcmp(key, "enable")) {
			api_error_set(err, NULL,
				      "Parameter '%.64s' is unexpected", key);
			return -EINVAL;
		}
		if (!json_is_array(v)) {
			api_error_set(err, NULL,
				      "Invalid parameter type for 'enable', "
				      "expected: array");
			return -EINVAL;
		}
		if (json_array_size(v)) {
			api_error_set(err, NULL,
				      "This server offers no QMP capabilities");
			return -EINVAL;
		}
	}
	s->negotiated = true;
	return 0;
}

static int check_strict(const struct api_cmd *c, json_t *args,
			struct api_error *err)
{
	const char *key;
	json_t *v;

	json_object_foreach(args, key, v)
	{
		bool known = false;

		for (size_t i = 0; c->args_names && c->args_names[i]; i++)
			if (!strcmp(key, c->args_names[i]))
				known = true;
		if (!known) {
			api_error_set(err, NULL,
				      "Parameter '%.64s' is unexpected", key);
			return -EINVAL;
		}
	}
	return 0;
}

int api_cmds_call(struct api_cmds *cmds, const char *name,
		  struct mvm_api_call *call, struct api_error *err)
{
	struct api_cmd c;
	int r;

	pthread_mutex_lock(&cmds->lock);
	struct api_cmd *found = find_locked(cmds, name);
	if (found)
		c = *found; /* the table may grow (realloc) while fn runs */
	pthread_mutex_unlock(&cmds->lock);
	if (!found) {
		api_error_set(err, API_ERR_NOT_FOUND,
			      "The command %.96s has not been found", name);
		return -ENOENT;
	}
	if (c.strict && check_strict(&c, call->args, err) < 0)
		return -EINVAL;
	if (c.lock)
		pthread_mutex_lock(c.lock);
	r = c.fn(c.opaque, call);
	if (c.lock)
		pthread_mutex_unlock(c.lock);
	if (call->failed) {
		*err = call->err;
		/* A handler that set an error but returned >= 0 broke the
		 * SDK's contract; the client gets the error all the same. */
		return r < 0 ? r : -EPROTO;
	}
	if (r < 0) {
		api_error_set(err, NULL, "%s: %s", c.name, strerror(-r));
		return r;
	}
	return 0;
}

/* Runs the command; its reply text, or NULL with `err` set. */
static char *run(struct api_cmds *cmds, void *ctx,
		 const struct api_request *req, struct api_error *err)
{
	struct mvm_api_call call = {.args = req->args, .ctx = ctx};
	char *out = NULL;

	if (api_cmds_call(cmds, req->execute, &call, err) == 0) {
		if (call.result) {
			out = api_build_return(call.result, req->id);
		} else {
			json_t *empty = json_object();

			out = api_build_return(empty, req->id);
			json_decref(empty);
		}
	}
	json_decref(call.result);
	free(call.args_text);
	if (!out && !err->desc[0])
		api_error_set(err, NULL, "out of memory");
	return out;
}

char *api_dispatch(struct api_cmds *cmds, struct api_session *s, void *ctx,
		   const char *text, size_t len)
{
	struct api_request req;
	struct api_error err = {0};
	char *out = NULL;

	if (api_parse_request(text, len, &req, &err) == 0) {
		if (!strcmp(req.execute, "qmp_capabilities")) {
			if (negotiate(s, &req, &err) == 0) {
				json_t *empty = json_object();

				out = api_build_return(empty, req.id);
				json_decref(empty);
			}
		} else if (!s->negotiated) {
			api_error_set(&err, API_ERR_NOT_FOUND,
				      "Expecting capabilities negotiation "
				      "with 'qmp_capabilities'");
		} else {
			out = run(cmds, ctx, &req, &err);
		}
	}
	if (!out)
		out = api_build_error(&err, req.id);
	api_request_free(&req);
	return out;
}
