/*
 * The host services table handed to every plugin's create hook
 * (modvmm/plugin.h), implemented over struct mvm_dev (dev.h).
 * device.c hands it out; nothing else calls it directly.
 */
#ifndef MODVMM_CORE_PLUGIN_HOST_H
#define MODVMM_CORE_PLUGIN_HOST_H

#include <modvmm/plugin.h>

/* The host table every plugin gets. */
extern const struct mvm_host core_host;

#endif
