/*
 * Ownership of a machine_cfg: every string in it is heap-allocated and owned
 * by the struct, so the machine file loader and the CLI can overwrite any
 * value in any order and main frees everything once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <stdio.h>

#include <modvmm/plugin.h>

#include "config/config.h"

void machine_cfg_init(struct machine_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = MVM_LOG_WARN;
	cfg->mem_thp = true;
}

int machine_cfg_parse_seccomp(const char *s, enum cfg_seccomp *out)
{
	static const char *const names[] = {
		[CFG_SECCOMP_ON] = "on",
		[CFG_SECCOMP_LOG] = "log",
		[CFG_SECCOMP_OFF] = "off",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i])) {
			*out = (enum cfg_seccomp)i;
			return 0;
		}
	}
	return -EINVAL;
}

void machine_cfg_free(struct machine_cfg *cfg)
{
	if (!cfg)
		return;
	free(cfg->config_path);
	free(cfg->kernel);
	free(cfg->initramfs);
	free(cfg->cmdline);
	for (size_t i = 0; i < cfg->n_plugin_dirs; i++) {
		free(cfg->plugin_dirs[i]);
		free(cfg->plugin_dir_origins[i]);
	}
	free(cfg->plugin_dirs);
	free(cfg->plugin_dir_origins);
	free(cfg->api_socket);
	for (size_t i = 0; i < cfg->n_devices; i++) {
		free(cfg->devices[i].plugin);
		free(cfg->devices[i].options);
		free(cfg->devices[i].origin);
	}
	free(cfg->devices);
	free(cfg->dump_acpi);
	free(cfg->dump_dtb);
	memset(cfg, 0, sizeof(*cfg));
}

int machine_cfg_set_str(char **dst, const char *src)
{
	char *copy = NULL;

	if (src) {
		copy = strdup(src);
		if (!copy)
			return -ENOMEM;
	}
	free(*dst);
	*dst = copy;
	return 0;
}

int machine_cfg_add_device(struct machine_cfg *cfg, const char *plugin,
			   const char *options, const char *origin)
{
	struct device_cfg d = {
		.plugin = strdup(plugin),
		.options = strdup(options ? options : ""),
		.origin = strdup(origin ? origin : ""),
	};
	struct device_cfg *v;

	if (!d.plugin || !d.options || !d.origin)
		goto nomem;
	v = realloc(cfg->devices, (cfg->n_devices + 1) * sizeof(*v));
	if (!v)
		goto nomem;
	cfg->devices = v;
	cfg->devices[cfg->n_devices++] = d;
	return 0;
nomem:
	free(d.plugin);
	free(d.options);
	free(d.origin);
	return -ENOMEM;
}

/* Inserts `item` at `index` of a string array of n entries. */
static int insert_str(char ***arr, size_t n, size_t index, char *item)
{
	char **v = realloc(*arr, (n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	memmove(v + index + 1, v + index, (n - index) * sizeof(*v));
	v[index] = item;
	*arr = v;
	return 0;
}

int machine_cfg_insert_plugin_dir(struct machine_cfg *cfg, size_t index,
				  const char *dir, const char *origin)
{
	char *copy, *where;

	if (index > cfg->n_plugin_dirs)
		return -EINVAL;
	copy = strdup(dir);
	where = strdup(origin ? origin : "--plugin-dir");
	if (!copy || !where ||
	    insert_str(&cfg->plugin_dirs, cfg->n_plugin_dirs, index, copy)) {
		free(copy);
		free(where);
		return -ENOMEM;
	}
	if (insert_str(&cfg->plugin_dir_origins, cfg->n_plugin_dirs, index,
		       where)) {
		/* Undo the first insert, so both arrays stay in step. */
		memmove(cfg->plugin_dirs + index, cfg->plugin_dirs + index + 1,
			(cfg->n_plugin_dirs - index) * sizeof(char *));
		free(copy);
		free(where);
		return -ENOMEM;
	}
	cfg->n_plugin_dirs++;
	return 0;
}

int machine_cfg_check_plugin_dirs(const struct machine_cfg *cfg,
				  struct error *err)
{
	for (size_t i = 0; i < cfg->n_plugin_dirs; i++) {
		const char *d = cfg->plugin_dirs[i];
		struct stat st;
		const char *why = NULL;

		if (stat(d, &st) < 0)
			why = strerror(errno);
		else if (!S_ISDIR(st.st_mode))
			why = "not a folder";
		if (why) {
			error_user(err, "%s %s: %s", cfg->plugin_dir_origins[i],
				   d, why);
			return -EINVAL;
		}
	}
	return 0;
}
