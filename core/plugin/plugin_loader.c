/* dlopen-based plugin discovery and ABI checks; see plugin_loader.h. */
#define _GNU_SOURCE
#include "plugin/plugin_loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seccomp/seccomp_filter.h"

/* The smallest descriptor an ABI 1.x plugin can have: everything up to and
 * including `destroy` (MVM_HOST_HAS(desc, destroy)); for the message. */
#define PLUGIN_DESC_MIN_SIZE                                                   \
	(offsetof(struct mvm_plugin, destroy) + sizeof(void (*)(void *)))

/* Whether `d` names a folder already in dirs[0..n): the same string, or
 * the same folder by device and inode (build/plugins given again with
 * --plugin-dir, say). */
static bool listed(const char **dirs, size_t n, const char *d)
{
	struct stat a, b;
	bool have_a = stat(d, &a) == 0;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(dirs[i], d) == 0)
			return true;
		if (have_a && stat(dirs[i], &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			return true;
	}
	return false;
}

static void add_dir(const char **dirs, size_t *n, size_t max, const char *d)
{
	if (*n < max && !listed(dirs, *n, d))
		dirs[(*n)++] = d;
}

size_t plugin_search_dirs(const struct machine_cfg *cfg, const char *exe_dir,
			  const char **dirs, size_t max, char *storage,
			  size_t storage_len)
{
	size_t n = 0;

	for (size_t i = 0; cfg && i < cfg->n_plugin_dirs; i++)
		add_dir(dirs, &n, max, cfg->plugin_dirs[i]);
	if (exe_dir) {
		int a = snprintf(storage, storage_len, "%s/plugins", exe_dir);

		if (a > 0 && (size_t)a < storage_len) {
			add_dir(dirs, &n, max, storage);
			char *second = storage + a + 1;
			size_t left = storage_len - (size_t)a - 1;
			int b = snprintf(second, left,
					 "%s/../lib/modvmm/plugins", exe_dir);

			if (b > 0 && (size_t)b < left)
				add_dir(dirs, &n, max, second);
		}
	}
	add_dir(dirs, &n, max, MODVMM_PLUGIN_INSTALL_DIR);
	return n;
}

/* Everything wrong with a plugin is the user's: they chose it and can
 * rebuild or replace it (exit 2). */
int plugin_check_abi(const struct mvm_plugin *desc, struct error *err)
{
	if (desc->abi_major != MVM_ABI_MAJOR) {
		error_user(
			err,
			"built for plugin ABI %u.%u, this modvmm provides ABI "
			"%u.%u (major versions must match: rebuild the plugin "
			"against this SDK)",
			desc->abi_major, desc->abi_minor, MVM_ABI_MAJOR,
			MVM_ABI_MINOR);
		return -EPROTO;
	}
	if (desc->abi_minor > MVM_ABI_MINOR) {
		error_user(err,
			   "needs plugin ABI %u.%u, this modvmm provides only "
			   "%u.%u (upgrade modvmm)",
			   desc->abi_major, desc->abi_minor, MVM_ABI_MAJOR,
			   MVM_ABI_MINOR);
		return -EPROTO;
	}
	if (!MVM_HOST_HAS(desc, destroy)) {
		error_user(err,
			   "descriptor is %u bytes, smaller than any ABI %u "
			   "descriptor (%zu): corrupt or not a modvmm plugin",
			   desc->size, MVM_ABI_MAJOR, PLUGIN_DESC_MIN_SIZE);
		return -EPROTO;
	}
	if (!desc->name || !desc->create) {
		error_user(err, "descriptor has no name or no create "
				"hook");
		return -EPROTO;
	}
	/* A typo in the list is the plugin's error, named now rather than
	 * as the VMM dying by SIGSYS later. */
	return seccomp_check_names(plugin_syscalls(desc), err);
}

const char *const *plugin_syscalls(const struct mvm_plugin *desc)
{
	/* Members past the plugin's size are "not provided" (docs/plugins.md,
	 * ABI policy); a plugin claiming an older minor gets that minor's
	 * behaviour even if its descriptor is longer. */
	if (desc->abi_minor < 2 || !MVM_HOST_HAS(desc, syscalls))
		return NULL;
	return desc->syscalls;
}

const uint32_t *plugin_ioctls(const struct mvm_plugin *desc)
{
	if (desc->abi_minor < 3 || !MVM_HOST_HAS(desc, ioctls))
		return NULL;
	return desc->ioctls;
}

static int open_path(const char *path, void **handle,
		     const struct mvm_plugin **desc, struct error *err)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	const struct mvm_plugin *d;
	int r;

	if (!h) {
		error_user(err, "cannot load: %s", dlerror());
		return -ENOEXEC;
	}
	d = dlsym(h, MVM_PLUGIN_SYMBOL);
	if (!d) {
		error_user(err, "%s: no '%s' symbol: not a modvmm plugin", path,
			   MVM_PLUGIN_SYMBOL);
		dlclose(h);
		return -ENOENT;
	}
	r = plugin_check_abi(d, err);
	if (r < 0) {
		/* Name the file: the version words alone don't say which. */
		error_prefix(err, "%s: ", path);
		dlclose(h);
		return r;
	}
	*handle = h;
	*desc = d;
	return 0;
}

int plugin_open(const char *name, const struct machine_cfg *cfg,
		const char *exe_dir, void **handle,
		const struct mvm_plugin **desc, char **path, struct error *err)
{
	const char *dirs[PLUGIN_MAX_DIRS];
	char storage[2 * 4096 + 64];
	char searched[600] = "";
	size_t n, used = 0;

	if (strchr(name, '/')) {
		if (access(name, F_OK) < 0) {
			error_user(err, "plugin %s: %s", name, strerror(errno));
			return -ENOENT;
		}
		int r = open_path(name, handle, desc, err);

		/* *path is set only on success, as for a searched name. */
		if (r == 0 && !(*path = strdup(name)))
			r = error_host(err, ENOMEM, "out of memory");
		return r;
	}
	n = plugin_search_dirs(cfg, exe_dir, dirs, PLUGIN_MAX_DIRS, storage,
			       sizeof(storage));
	for (size_t i = 0; i < n; i++) {
		char *p = NULL;

		if (asprintf(&p, "%s/%s.so", dirs[i], name) < 0)
			return error_host(err, ENOMEM, "out of memory");
		if (access(p, F_OK) == 0) {
			int r = open_path(p, handle, desc, err);

			if (r == 0)
				*path = p;
			else
				free(p);
			return r;
		}
		free(p);
		int w = snprintf(searched + used, sizeof(searched) - used,
				 "%s%s", i ? ", " : "", dirs[i]);
		if (w > 0 && (size_t)w < sizeof(searched) - used)
			used += (size_t)w;
	}
	error_user(err, "plugin '%s' not found (searched %s)", name, searched);
	return -ENOENT;
}

void plugin_list_all(const struct machine_cfg *cfg, const char *exe_dir)
{
	const char *dirs[PLUGIN_MAX_DIRS];
	char storage[2 * 4096 + 64];
	size_t n = plugin_search_dirs(cfg, exe_dir, dirs, PLUGIN_MAX_DIRS,
				      storage, sizeof(storage));
	int found = 0;

	for (size_t i = 0; i < n; i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *de;

		if (!d)
			continue;
		while ((de = readdir(d))) {
			size_t l = strlen(de->d_name);
			char *p = NULL;
			struct error err = {0};
			void *h;
			const struct mvm_plugin *desc;

			if (l < 4 || strcmp(de->d_name + l - 3, ".so"))
				continue;
			if (asprintf(&p, "%s/%s", dirs[i], de->d_name) < 0)
				continue;
			if (open_path(p, &h, &desc, &err) == 0) {
				printf("%-16s %-8s ABI %u.%u  %s\n    %s\n",
				       desc->name,
				       desc->version ? desc->version : "?",
				       desc->abi_major, desc->abi_minor,
				       desc->description ? desc->description
							 : "",
				       p);
				found++;
			} else {
				printf("%-16s (unusable: %s)\n", de->d_name,
				       err.msg);
			}
			free(p);
		}
		closedir(d);
	}
	if (!found)
		printf("no plugins found\n");
}
