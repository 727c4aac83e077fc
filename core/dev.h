/*
 * A device instance as the core sees it: the plugin it came from, its
 * state, its lock (held around every callback into it) and what it has
 * claimed. Data only, so that the host table (host.c), the virtio KVM
 * wiring and the control API read it without depending on the code that
 * creates devices (device.c).
 */
#ifndef MODVMM_CORE_DEV_H
#define MODVMM_CORE_DEV_H

#include <pthread.h>
#include <stdbool.h>

#include <modvmm/plugin.h>

#include "config/config.h"
#include "config/opts.h"
#include "log.h"
#include "vm.h"

struct mvm_dev {
	struct vm *vm;
	const struct device_cfg *cfg;
	const struct mvm_plugin *plugin;
	const struct mvm_host *host; /* the table create was given */
	char *so_path;
	void *state;
	char name[64];
	pthread_mutex_t lock;
	struct opts_strings strings;
	char fail_msg[400];
	char host_err[160]; /* why a host call failed during create */
	struct log_ratelimit rl;
	uint32_t gsis; /* bit n: this device claimed GSI n */
	bool in_create;
	bool created;
	bool started;
};

#endif
