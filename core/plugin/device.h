/*
 * Device instances (struct mvm_dev, dev.h): loading the plugin a
 * machine names, creating, starting and destroying the device. Called by
 * machine.c, which builds the machine.
 */
#ifndef MODVMM_CORE_DEVICE_H
#define MODVMM_CORE_DEVICE_H

#include "config/config.h"
#include "dev.h"
#include "vm.h"

/* Loads the plugin named by `cfg` and creates the device. 0, or -errno
 * with err set to one line naming the device and its origin: the user's
 * for a missing plugin, an ABI mismatch, bad options or a failing create
 * (docs/plugins.md), the host's only when out of memory. */
int device_create(struct vm *vm, const struct device_cfg *cfg,
		  const char *exe_dir, struct mvm_dev **out, struct error *err);
/* Runs the plugin's start hook. A failure is the host's (exit 1): the
 * user's options were all checked in create. */
int device_start(struct mvm_dev *dev, struct error *err);
void device_destroy(struct mvm_dev *dev);

#endif
