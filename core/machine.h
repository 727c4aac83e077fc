/*
 * Building and running one VM from a parsed configuration, and tearing it
 * down on every path: the sequence main() runs.
 */
#ifndef MODVMM_CORE_MACHINE_H
#define MODVMM_CORE_MACHINE_H

#include "config/config.h"

/* Runs the machine to its end. Returns the process exit status
 * (VM_EXIT_*); user errors print one line and return VM_EXIT_USER_ERROR. */
int machine_run(const struct machine_cfg *cfg, const char *exe_dir);

/* For --device NAME,help: prints the plugin's description and options. */
int machine_device_help(const struct machine_cfg *cfg, const char *exe_dir);

#endif
