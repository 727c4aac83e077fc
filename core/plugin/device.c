/* Device instances: load, create, start, destroy; see device.h. */
#define _GNU_SOURCE
#include "plugin/device.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/host.h"
#include "plugin/plugin_loader.h"

static void name_instance(struct vm *vm, struct mvm_dev *dev)
{
	int same = 0;

	for (size_t i = 0; i < vm->ndevs; i++)
		if (vm->devs[i]->plugin == dev->plugin)
			same++;
	if (same) {
		size_t len = strlen(dev->plugin->name);
		bool digit = len && dev->plugin->name[len - 1] >= '0' &&
			     dev->plugin->name[len - 1] <= '9';

		/* "balloon1", but "uart16550-1", not "uart165501". */
		snprintf(dev->name, sizeof(dev->name), "%s%s%d",
			 dev->plugin->name, digit ? "-" : "", same);
	} else
		snprintf(dev->name, sizeof(dev->name), "%s", dev->plugin->name);
}

int device_create(struct vm *vm, const struct device_cfg *cfg,
		  const char *exe_dir, struct mvm_dev **out, struct error *err)
{
	struct mvm_dev *dev = calloc(1, sizeof(*dev));
	void *handle;
	int r;

	if (!dev)
		return error_host(err, ENOMEM, "out of memory");
	dev->vm = vm;
	dev->cfg = cfg;
	dev->host = &core_host;
	pthread_mutex_init(&dev->lock, NULL);
	r = plugin_open(cfg->plugin, vm->cfg, exe_dir, &handle, &dev->plugin,
			&dev->so_path, err);
	if (r < 0) {
		/* plugin_open said whose fault it is (the user's, unless the
		 * host ran out of memory). */
		error_prefix(err, "%s: device %s: ",
			     cfg->origin ? cfg->origin : "--device",
			     cfg->plugin);
		free(dev);
		return r;
	}
	/* Plugins stay loaded for the life of the process (they may have
	 * registered atexit handlers), so the handle is not kept. */
	(void)handle;
	name_instance(vm, dev);
	dev->in_create = true;
	r = dev->plugin->create(dev, dev->host,
				cfg->options ? cfg->options : "", &dev->state);
	dev->in_create = false;
	if (r < 0) {
		/* A failing create is the user's by the SDK's contract
		 * (docs/plugins.md): host->fail names the option at fault. */
		error_user(err, "%s: device %s: %s%s%s%s",
			   cfg->origin ? cfg->origin : "--device", dev->name,
			   dev->fail_msg[0] ? dev->fail_msg : strerror(-r),
			   dev->host_err[0] ? " (" : "", dev->host_err,
			   dev->host_err[0] ? ")" : "");
		opts_strings_free(&dev->strings);
		free(dev->so_path);
		free(dev);
		return -EINVAL;
	}
	dev->created = true;
	*out = dev;
	return 0;
}

int device_start(struct mvm_dev *dev, struct error *err)
{
	int r;

	if (!dev->plugin->start)
		return 0;
	r = dev->plugin->start(dev->state);
	if (r < 0) {
		/* Options were checked in create; a failing start is the
		 * VMM's or the host's (exit 1). */
		return error_host(err, r, "device %s: start: %s", dev->name,
				  dev->fail_msg[0] ? dev->fail_msg
						   : strerror(-r));
	}
	dev->started = true;
	return 0;
}

void device_destroy(struct mvm_dev *dev)
{
	if (!dev)
		return;
	if (dev->created && dev->plugin->destroy)
		dev->plugin->destroy(dev->state);
	opts_strings_free(&dev->strings);
	pthread_mutex_destroy(&dev->lock);
	free(dev->so_path);
	free(dev);
}
