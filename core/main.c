/*
 * modvmm: parse the command line (and the machine file it names), then run
 * the machine. Exit status: 0 the guest powered off (or a stop signal),
 * 1 a VMM error, 2 a user error, 3 the guest reset or triple-faulted.
 */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/cli.h"
#include "log.h"
#include "machine.h"
#include "plugin/plugin_loader.h"
#include "vm.h"

static void exe_dir(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	if (n <= 0) {
		snprintf(buf, len, ".");
		return;
	}
	buf[n] = '\0';
	char *slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
}

int main(int argc, char **argv)
{
	struct machine_cfg cfg = {0};
	struct error err = {0};
	char dir[PATH_MAX];
	int action, status = 0;

	exe_dir(dir, sizeof(dir));
	action = cli_parse(argc, argv, &cfg, &err);
	if (action < 0) {
		machine_cfg_free(&cfg);
		return error_report(&err);
	}
	log_set_level((enum mvm_log_level)cfg.log_level);
	if (action != CLI_HELP && action != CLI_VERSION &&
	    machine_cfg_check_plugin_dirs(&cfg, &err) < 0) {
		machine_cfg_free(&cfg);
		return error_report(&err);
	}
	switch (action) {
	case CLI_HELP:
		cli_print_usage(stdout);
		break;
	case CLI_VERSION:
		printf("modvmm %s (plugin ABI %d.%d)\n", MODVMM_VERSION,
		       MVM_ABI_MAJOR, MVM_ABI_MINOR);
		break;
	case CLI_LIST_PLUGINS:
		plugin_list_all(&cfg, dir);
		break;
	case CLI_DEVICE_HELP:
		status = machine_device_help(&cfg, dir);
		break;
	default:
		status = machine_run(&cfg, dir);
		break;
	}
	machine_cfg_free(&cfg);
	return status;
}
