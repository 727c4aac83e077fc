/*
 * The SDK's control-API table (modvmm/api.h) as the VMM serves it: plugin
 * commands go into the VM's command table under "<device>.<name>", events
 * go to the connected clients. A call's arguments, reply and error are
 * api_call.c's, shared with the plugin test harness.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>

#include "api/api_call.h"
#include "api/api_plugin.h"
#include "api/api_server.h"
#include "dev.h"

static int api_register(mvm_dev *dev, const struct mvm_api_command *cmd,
			void *opaque)
{
	char name[128];
	struct api_cmd c;
	int r;

	if (!dev->vm->api)
		return -EINVAL;
	r = api_plugin_command(dev->name, cmd, opaque, name, sizeof(name), &c);
	if (r < 0)
		return r;
	c.lock = &dev->lock;
	return api_cmds_add(api_commands(dev->vm->api), &c);
}

static int api_emit_event(mvm_dev *dev, const char *name, const char *data_json)
{
	char full[160];
	json_t *data;
	int r = api_plugin_event(dev->name, name, data_json, full, sizeof(full),
				 &data);

	if (r < 0)
		return r;
	api_emit(dev->vm->api, full, data);
	return 0;
}

const struct mvm_api_host core_api_host = {
	API_CALL_HOST_OPS,
	.register_command = api_register,
	.emit_event = api_emit_event,
};
