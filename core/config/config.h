/*
 * A machine's configuration as the user gave it: the machine file (YAML),
 * then command-line flags that override or extend it. Filled by
 * machine_file.c and cli.c, read by main.c; nothing here touches KVM.
 */
#ifndef MODVMM_CORE_CONFIG_H
#define MODVMM_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* --seccomp / 'seccomp:': what a system call outside a thread's allow-list
 * does (docs/seccomp.md). */
enum cfg_seccomp {
	CFG_SECCOMP_ON = 0, /* kill the process (SECCOMP_RET_KILL_PROCESS) */
	CFG_SECCOMP_LOG,    /* allow it, and the kernel logs it */
	CFG_SECCOMP_OFF,    /* no filter at all */
};

/* One device: a plugin name or path and its option string, untouched. */
struct device_cfg {
	char *plugin;  /* "uart16550", or a path to a .so */
	char *options; /* "" when none */
	char *origin;  /* where it was named: "file.yaml:12:5" or "--device" */
};

struct machine_cfg {
	char *config_path; /* the machine file, or NULL */
	char *kernel;    /* absolute or cwd-relative; file-relative resolved */
	char *initramfs; /* NULL for none */
	char *cmdline;   /* NULL for none */
	uint64_t mem_size; /* bytes; 0 = default (512 MiB) */
	bool mem_shared;   /* memfd-backed RAM (for later discard tests) */
	bool mem_hugepages;
	bool mem_thp;  /* MADV_HUGEPAGE on private RAM; default on */
	unsigned cpus; /* 0 = default (1) */
	char **plugin_dirs;
	/* Where each was named, for errors: "--plugin-dir" or
	 * "file.yaml:3:14: plugin-path". */
	char **plugin_dir_origins;
	size_t n_plugin_dirs;
	char *api_socket;
	struct device_cfg *devices;
	size_t n_devices;
	char *dump_acpi;          /* directory, or NULL */
	char *dump_dtb;           /* file, or NULL */
	int log_level;            /* enum mvm_log_level; default MVM_LOG_WARN */
	enum cfg_seccomp seccomp; /* default CFG_SECCOMP_ON */
	bool list_plugins;
};

/* Zero `cfg` and set the defaults that are not zero (log level: warn). */
void machine_cfg_init(struct machine_cfg *cfg);
/* Free every string and array in `cfg` and zero it. */
void machine_cfg_free(struct machine_cfg *cfg);

/* Replace *dst with a copy of `src` (NULL clears it). 0 or -ENOMEM. */
int machine_cfg_set_str(char **dst, const char *src);
/* Append a device; `options` NULL means "". 0 or -ENOMEM. */
int machine_cfg_add_device(struct machine_cfg *cfg, const char *plugin,
			   const char *options, const char *origin);
/* Insert a plugin directory at `index` (n_plugin_dirs appends): command-line
 * dirs go before the machine file's. `origin` says where it was named.
 * 0, -ENOMEM or -EINVAL. */
int machine_cfg_insert_plugin_dir(struct machine_cfg *cfg, size_t index,
				  const char *dir, const char *origin);
/* "on", "log" or "off" into *out. 0, or -EINVAL for anything else. */
int machine_cfg_parse_seccomp(const char *s, enum cfg_seccomp *out);
/* Every plugin folder the user named exists and is a folder (a missing one
 * is a typo, better named now than as "plugin not found" later). 0, or
 * -EINVAL with err naming the folder and where it was given. */
int machine_cfg_check_plugin_dirs(const struct machine_cfg *cfg,
				  struct error *err);

#endif
