/*
 * A device instance as the core sees it: the plugin it came from, its
 * state, its lock (held around every callback into it) and what it has
 * claimed. host.c implements the SDK's host table over these.
 */
#ifndef MODVMM_CORE_DEVICE_H
#define MODVMM_CORE_DEVICE_H

#include <pthread.h>
#include <stdbool.h>

#include <modvmm/plugin.h>

#include "config/config.h"
#include "log.h"
#include "config/opts.h"
#include "vm.h"

struct mvm_dev {
	struct vm *vm;
	const struct device_cfg *cfg;
	const struct mvm_plugin *plugin;
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

/* The host table every plugin gets. */
extern const struct mvm_host core_host;

/* Loads the plugin named by `cfg` and creates the device. User errors
 * (missing plugin, ABI mismatch, bad options, failing create) return
 * -EINVAL with err->msg set to one line naming the device and its origin. */
int device_create(struct vm *vm, const struct device_cfg *cfg,
		  const char *exe_dir, struct mvm_dev **out,
		  struct cfg_error *err);
int device_start(struct mvm_dev *dev, struct cfg_error *err);
void device_destroy(struct mvm_dev *dev);

#endif
