/*
 * Finding and opening plugin shared objects and checking their ABI. A name
 * without '/' is looked up as NAME.so in, in order: the --plugin-dir flags
 * and the machine file's plugin-path (as config.c ordered them), the build
 * tree's plugins/ next to the modvmm binary, ../lib/modvmm/plugins next to
 * it, and the compiled-in install directory.
 */
#ifndef MODVMM_CORE_PLUGIN_LOADER_H
#define MODVMM_CORE_PLUGIN_LOADER_H

#include <stddef.h>

#include <modvmm/plugin.h>

#include "config/config.h"

#define PLUGIN_MAX_DIRS 32

/* The directories searched, in order; returns the count. */
size_t plugin_search_dirs(const struct machine_cfg *cfg, const char *exe_dir,
			  const char **dirs, size_t max, char *storage,
			  size_t storage_len);

/* Opens `name` (a name or a path), resolves and checks the descriptor.
 * On success *handle, *desc and *path (malloc'd) are set. On failure
 * returns -errno with `err` holding one line: the user's for anything
 * about the plugin (missing, not loadable, wrong ABI), the host's when out
 * of memory. */
int plugin_open(const char *name, const struct machine_cfg *cfg,
		const char *exe_dir, void **handle,
		const struct mvm_plugin **desc, char **path, struct error *err);

/* Checks a descriptor's ABI fields and its `syscalls` names; exposed for
 * unit tests and the harness. */
int plugin_check_abi(const struct mvm_plugin *desc, struct error *err);

/* The descriptor's extra system calls (NULL-terminated), or NULL when it
 * declares none or is older than ABI 1.2. */
const char *const *plugin_syscalls(const struct mvm_plugin *desc);
/* Its `ioctls` (ABI 1.3), or NULL for an older descriptor or none. */
const uint32_t *plugin_ioctls(const struct mvm_plugin *desc);

/* Prints every plugin found in the search path (for --list-plugins). */
void plugin_list_all(const struct machine_cfg *cfg, const char *exe_dir);

#endif
