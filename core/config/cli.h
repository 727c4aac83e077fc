/*
 * The modvmm command line, in Cloud Hypervisor's style (--memory size=2G,
 * --cpus boot=2, --device PLUGIN,OPTIONS). main() calls cli_parse once; it
 * loads the --machine file first, wherever the flag appears, then applies
 * the other flags on top: scalar flags override the file, --device and
 * --plugin-dir add to it. See docs/machine-file.md.
 */
#ifndef MODVMM_CORE_CLI_H
#define MODVMM_CORE_CLI_H

#include <stdio.h>

#include "config/config.h"

enum cli_action {
	CLI_RUN,
	CLI_HELP,
	CLI_VERSION,
	CLI_LIST_PLUGINS,
	CLI_DEVICE_HELP,
};

/*
 * Parse argv (argv[0] is the program). `cfg` is initialised here (any old
 * content is NOT freed); free it with machine_cfg_free whatever the result.
 * Returns an action >= 0, or a negative errno with err->msg set to one
 * line: -EINVAL for a user error (bad flag, bad value, bad machine file,
 * no kernel), the file's -errno if the machine file cannot be read,
 * -ENOMEM. For CLI_DEVICE_HELP the device to describe is the last one in
 * cfg->devices. --help and --version win over everything else and do not
 * read the machine file. Uses getopt_long, so it is not thread-safe.
 */
int cli_parse(int argc, char **argv, struct machine_cfg *cfg,
	      struct error *err);

void cli_print_usage(FILE *f);

#endif
