/*
 * The control API's command table and dispatcher: core commands
 * (api_core_cmds.c) and plugin commands (api_plugin.c) live in one table;
 * api_dispatch turns a framed message into the reply text, enforcing the
 * QMP session rules (qmp_capabilities first). No sockets here: the server
 * (api_server.c) feeds it, and the unit tests drive it directly.
 */
#ifndef MODVMM_CORE_API_CMDS_H
#define MODVMM_CORE_API_CMDS_H

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>

#include <modvmm/api.h>

#include "api/api_proto.h"

/* One invocation (the SDK's opaque mvm_api_call). */
struct mvm_api_call {
	json_t *args;   /* borrowed, an object */
	json_t *result; /* owned; NULL means {} */
	bool failed;
	struct api_error err;
	char *args_text; /* args_json's cache */
	void *ctx;       /* the dispatcher's context (struct vm *) */
};

typedef int (*api_cmd_fn)(void *opaque, struct mvm_api_call *call);

struct api_cmd {
	char *name;
	char *args_help; /* NULL: takes no arguments */
	char *help;
	char *owner; /* device name, or NULL for the core */
	api_cmd_fn fn;
	void *opaque;
	pthread_mutex_t *lock; /* held around fn: the device's lock */
	bool strict; /* core commands: reject arguments not in args_names */
	const char *const *args_names; /* NULL-terminated, for strict */
};

struct api_cmds {
	struct api_cmd *v;
	size_t n;
	pthread_mutex_t lock; /* plugins may register from a vCPU thread */
};

/* Per-connection protocol state. */
struct api_session {
	bool negotiated; /* qmp_capabilities done: commands and events */
};

void api_cmds_init(struct api_cmds *cmds);
void api_cmds_free(struct api_cmds *cmds);
/* Copies the strings. -EEXIST if the name is taken, -EINVAL if malformed,
 * -ENOMEM. */
int api_cmds_add(struct api_cmds *cmds, const struct api_cmd *cmd);
/* True if `name` is [a-z0-9_.-]+ of at most 95 bytes. */
/* name is 1..max characters, all from `allowed`. */
bool api_name_valid(const char *name, size_t max, const char *allowed);
bool api_cmd_name_valid(const char *name);

/* Handles one framed message; returns the reply text (malloc'd, CRLF
 * terminated) or NULL on allocation failure. `ctx` reaches handlers as
 * call->ctx. */
char *api_dispatch(struct api_cmds *cmds, struct api_session *s, void *ctx,
		   const char *text, size_t len);

/* Runs command `name` as api_dispatch does (looked up, a strict
 * command's arguments checked, the handler called under the command's
 * lock), without the QMP framing: for the dispatcher and the plugin test
 * harness. `call` has args set (an object) and the rest zero; the caller
 * frees call->result and call->args_text after. 0 with call->result the
 * result (NULL means {}), or a negative errno with `err` filled: -ENOENT
 * (CommandNotFound), -EINVAL (a strict command's unexpected argument), the
 * handler's own, or -EPROTO if the handler set an error yet returned >= 0.
 */
int api_cmds_call(struct api_cmds *cmds, const char *name,
		  struct mvm_api_call *call, struct api_error *err);

/* Fills `call`'s result with the command list: for `help` (with help
 * text, arguments and owner) or QEMU's `query-commands` (names only). */
int api_cmds_list(struct api_cmds *cmds, struct mvm_api_call *call,
		  bool verbose);

/* Error helper for handlers: records `cls`/`fmt` and returns -EINVAL.
 * The SDK's host->error (api_call_error) records the same way. */
int api_call_fail(struct mvm_api_call *call, const char *cls, const char *fmt,
		  ...) __attribute__((format(printf, 3, 4)));
int api_call_vfail(struct mvm_api_call *call, const char *cls, const char *fmt,
		   va_list ap) __attribute__((format(printf, 3, 0)));

#endif
