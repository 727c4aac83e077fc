/*
 * The half of the SDK's control-API table (modvmm/api.h) that needs no
 * server: a command handler's view of one call (argument accessors, reply,
 * error), and the rules that turn a plugin's command or event into the
 * name a client sees. api_plugin.c builds the VMM's table from these; the
 * plugin test harness (sdk/harness) builds its own from the same
 * functions, so a plugin tested there parses arguments exactly as in the
 * VMM. Only jansson and the command table (api_cmds.c) below it.
 */
#ifndef MODVMM_CORE_API_CALL_H
#define MODVMM_CORE_API_CALL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <modvmm/api.h>

#include "api/api_cmds.h"

/* The accessors of struct mvm_api_host, same contracts. */
const char *api_call_args_json(mvm_api_call *call);
int api_call_arg_str(mvm_api_call *call, const char *key, const char **out);
int api_call_arg_u64(mvm_api_call *call, const char *key, uint64_t *out);
int api_call_arg_bool(mvm_api_call *call, const char *key, bool *out);
int api_call_arg_size(mvm_api_call *call, const char *key, uint64_t *out);
int api_call_reply_json(mvm_api_call *call, const char *json);
void api_call_error(mvm_api_call *call, const char *cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The members of struct mvm_api_host every host table shares (the VMM's
 * and the harness's): only register_command and emit_event differ. */
#define API_CALL_HOST_OPS                                                      \
	.size = sizeof(struct mvm_api_host), .args_json = api_call_args_json,  \
	.arg_str = api_call_arg_str, .arg_u64 = api_call_arg_u64,              \
	.arg_bool = api_call_arg_bool, .arg_size = api_call_arg_size,          \
	.reply_json = api_call_reply_json, .error = api_call_error

/* "1073741824", "0x1000", "512M", "1G", "1GiB": bytes. 0 or -EINVAL. */
int api_parse_size(const char *s, uint64_t *out);
/* [A-Z0-9_]{1,64}, QMP's event naming. */
bool api_event_name_valid(const char *name);

/*
 * A plugin's command as a table entry for api_cmds_add: checks `cmd` and
 * writes its exposed name ("<dev_name>.<name>", or the name alone with
 * MVM_API_CMD_GLOBAL) into name[namelen]; out->name points there, the
 * other strings into `cmd`. out->owner is dev_name, out->lock NULL.
 * 0 or -EINVAL.
 */
int api_plugin_command(const char *dev_name, const struct mvm_api_command *cmd,
		       void *opaque, char *name, size_t namelen,
		       struct api_cmd *out);

/*
 * A plugin's event as clients see it: the name in full[fulllen] (a
 * lower-case name of the device's own becomes "<dev_name>.<name>"), *data
 * a new JSON object from `data_json` (NULL: empty) with member "device"
 * set to dev_name unless it has one. 0 or -EINVAL (bad name, data not a
 * JSON object).
 */
int api_plugin_event(const char *dev_name, const char *name,
		     const char *data_json, char *full, size_t fulllen,
		     json_t **data);

#endif
