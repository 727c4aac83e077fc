/*
 * libFuzzer target for core/config/machine_file.c: arbitrary bytes as a machine
 * file, through libyaml and the schema walk. Beyond "no crash, no sanitizer
 * report, no leak", checks the loader's contract: 0 or -EINVAL/-ENOMEM, a
 * message exactly when it fails, one line starting with the file's name,
 * and on success values inside their documented ranges.
 *
 * Built like fuzz_options (tests/fuzz/CMakeLists.txt): a real fuzzer under
 * MODVMM_FUZZ=ON with clang; otherwise, with MODVMM_FUZZ_REPLAY defined, a
 * plain program whose main() replays the files or directories named on its
 * command line (the seed corpus in corpus/machine_file/).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/machine_file.h"

/* A name with a folder, so relative-path resolution runs too. */
#define FUZZ_NAME "cfg/fuzz.yaml"

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_machine_file: contract broken: %s\n",
			what);
		abort();
	}
}

static void check_cfg(const struct machine_cfg *cfg)
{
	check(cfg->config_path && !strcmp(cfg->config_path, FUZZ_NAME),
	      "config_path");
	check(cfg->cpus <= 255, "cpus in range");
	check(!cfg->kernel || cfg->kernel[0], "kernel not empty");
	for (size_t i = 0; i < cfg->n_plugin_dirs; i++)
		check(cfg->plugin_dirs[i] && cfg->plugin_dirs[i][0],
		      "plugin dir not empty");
	for (size_t i = 0; i < cfg->n_devices; i++) {
		const struct device_cfg *d = &cfg->devices[i];

		check(d->plugin && d->plugin[0], "device plugin not empty");
		check(d->options != NULL, "device options never NULL");
		check(d->origin && !strncmp(d->origin, FUZZ_NAME ":",
					    strlen(FUZZ_NAME) + 1),
		      "device origin names the file");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct machine_cfg cfg;
	struct error err;
	int rc;

	machine_cfg_init(&cfg);
	memset(err.msg, 'x', sizeof(err.msg));
	rc = machine_file_load_buffer(FUZZ_NAME, (const char *)data, size, &cfg,
				      &err);
	check(rc == 0 || rc == -EINVAL || rc == -ENOMEM, "return value");
	check(memchr(err.msg, '\0', sizeof(err.msg)) != NULL,
	      "message terminated");
	if (rc == 0) {
		check(err.msg[0] == '\0', "no message on success");
		check_cfg(&cfg);
	} else {
		check(!strncmp(err.msg, FUZZ_NAME ":", strlen(FUZZ_NAME) + 1),
		      "message names the file");
		check(!strchr(err.msg, '\n'), "message is one line");
	}
	machine_cfg_free(&cfg);
	return 0;
}
