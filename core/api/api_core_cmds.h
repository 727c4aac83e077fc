/*
 * The core's own control-API commands (info, pause, resume, shutdown,
 * devices, help and their QEMU names). Registered by whoever builds the
 * machine (machine.c), next to the plugins' commands.
 */
#ifndef MODVMM_CORE_API_CORE_CMDS_H
#define MODVMM_CORE_API_CORE_CMDS_H

#include "api/api_cmds.h"
#include "vm.h"

/* Adds the core's commands to `cmds`. 0 or -ENOMEM. */
int api_core_cmds_register(struct api_cmds *cmds, struct vm *vm);

#endif
