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

/* Loads the plugin named by `cfg` and creates the device. User errors
 * (missing plugin, ABI mismatch, bad options, failing create) return
 * -EINVAL with err->msg set to one line naming the device and its origin. */
int device_create(struct vm *vm, const struct device_cfg *cfg,
		  const char *exe_dir, struct mvm_dev **out, struct error *err);
int device_start(struct mvm_dev *dev, struct error *err);
void device_destroy(struct mvm_dev *dev);

#endif
