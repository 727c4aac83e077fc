/*
 * The `memory` and `cpus` settings, described once for both the machine
 * file loader and the command line: the same keys, bounds and wording
 * ("memory.size=64M: must be at least 128M" at a file:line:column,
 * "--memory size=64M: must be at least 128M" on the command line).
 */
#ifndef MODVMM_CORE_MACHINE_SCHEMA_H
#define MODVMM_CORE_MACHINE_SCHEMA_H

#include <stddef.h>

#include <modvmm/options.h>

#include "config/config.h"

/* One setting that is a bare value or a mapping of options. */
struct schema_setting {
	/* "memory": the YAML key and the flag (--memory). */
	const char *name;
	/* Its options; spec[0] is the one a bare value sets ("2G" means
	 * size=2G). No defaults: a value that is not given keeps what the
	 * configuration already holds. */
	const struct mvm_option *spec;
	/* Copy the configuration's values into an options struct (at most
	 * SCHEMA_OPTS_MAX bytes) and back, once parsing succeeded. */
	void (*get)(const struct machine_cfg *cfg, void *opts);
	void (*put)(struct machine_cfg *cfg, const void *opts);
};

#define SCHEMA_OPTS_MAX 64

extern const struct schema_setting schema_memory;
extern const struct schema_setting schema_cpus;

#endif
