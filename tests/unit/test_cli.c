/*
 * The command line: flag forms, how flags combine with the machine file,
 * the action returned, and the one-line errors for bad flags.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <modvmm/plugin.h>

#include "config/cli.h"
#include "config/config.h"

static char yaml_path[64];

static int setup(void **state)
{
	static const char yaml[] = "kernel: /file/kernel\n"
				   "cmdline: from-file\n"
				   "memory: {size: 1G, hugepages: on}\n"
				   "cpus: 2\n"
				   "plugin-path: /file/plugins\n"
				   "seccomp: log\n"
				   "devices:\n"
				   "  - plugin: uart16550\n";
	int fd;

	(void)state;
	snprintf(yaml_path, sizeof(yaml_path), "/tmp/test_cli.XXXXXX.yaml");
	fd = mkstemps(yaml_path, 5);
	if (fd < 0)
		return -1;
	if (write(fd, yaml, sizeof(yaml) - 1) != (ssize_t)sizeof(yaml) - 1)
		return -1;
	return close(fd);
}

static int teardown(void **state)
{
	(void)state;
	return unlink(yaml_path);
}

static int parse_argv(struct machine_cfg *cfg, struct error *err,
		      const char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return cli_parse(argc, (char **)argv, cfg, err);
}

#define PARSE(cfg, err, ...)                                                   \
	parse_argv(cfg, err, (const char *[]){"modvmm", __VA_ARGS__, NULL})

/* Parse and check that it fails with exactly `msg`. */
#define EXPECT_ERROR(want, ...)                                                \
	do {                                                                   \
		struct machine_cfg cfg_;                                       \
		struct error err_;                                             \
		assert_int_equal(PARSE(&cfg_, &err_, __VA_ARGS__), -EINVAL);   \
		assert_string_equal(err_.msg, want);                           \
		machine_cfg_free(&cfg_);                                       \
	} while (0)

static void test_kernel_only_runs_with_defaults(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--kernel", "k.elf"), CLI_RUN);
	assert_string_equal(cfg.kernel, "k.elf");
	assert_int_equal(cfg.cpus, 1);
	assert_int_equal(cfg.mem_size, 512ULL << 20);
	assert_false(cfg.mem_shared);
	assert_int_equal(cfg.log_level, MVM_LOG_WARN);
	assert_null(cfg.config_path);
	assert_int_equal(cfg.n_devices, 0);
	machine_cfg_free(&cfg);
}

static void test_equals_form_is_accepted(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--kernel=k.elf", "--cmdline=a b",
			       "--memory=size=256M"),
			 CLI_RUN);
	assert_string_equal(cfg.kernel, "k.elf");
	assert_string_equal(cfg.cmdline, "a b");
	assert_int_equal(cfg.mem_size, 256ULL << 20);
	machine_cfg_free(&cfg);
}

static void test_memory_key_value_form(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--kernel", "k", "--memory",
			       "size=2G,shared=on,hugepages=on"),
			 CLI_RUN);
	assert_int_equal(cfg.mem_size, 2ULL << 30);
	assert_true(cfg.mem_shared);
	assert_true(cfg.mem_hugepages);
	machine_cfg_free(&cfg);
}

static void test_memory_thp_is_on_unless_turned_off(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--kernel", "k", "--memory", "1G"),
			 CLI_RUN);
	assert_true(cfg.mem_thp);
	machine_cfg_free(&cfg);
	assert_int_equal(PARSE(&cfg, &err, "--kernel", "k", "--memory",
			       "size=1G,thp=off"),
			 CLI_RUN);
	assert_false(cfg.mem_thp);
	machine_cfg_free(&cfg);
}

static void test_memory_bare_size_form(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(
		PARSE(&cfg, &err, "--kernel", "k", "--memory", "2G,shared=on"),
		CLI_RUN);
	assert_int_equal(cfg.mem_size, 2ULL << 30);
	assert_true(cfg.mem_shared);
	machine_cfg_free(&cfg);
}

static void test_memory_bad_size_names_flag_and_value(void **state)
{
	(void)state;
	EXPECT_ERROR("--memory size=1X: not a size (a number with an optional "
		     "K, M, G or T suffix)",
		     "--kernel", "k", "--memory", "size=1X");
	EXPECT_ERROR("--memory size=1X: not a size (a number with an optional "
		     "K, M, G or T suffix)",
		     "--kernel", "k", "--memory", "1X");
}

static void test_memory_unknown_option(void **state)
{
	(void)state;
	EXPECT_ERROR("--memory: unknown option 'sise' (known: size, shared, "
		     "hugepages, thp)",
		     "--kernel", "k", "--memory", "sise=1G");
}

static void test_memory_zero_is_rejected(void **state)
{
	(void)state;
	EXPECT_ERROR("--memory size=0: must be at least 128M", "--kernel", "k",
		     "--memory", "0");
}

/* The memory map's bounds, as the flag states them (layout.h). */
static void test_memory_bounds_named(void **state)
{
	(void)state;
	EXPECT_ERROR("--memory size=127M: must be at least 128M", "--kernel",
		     "k", "--memory", "127M");
	EXPECT_ERROR("--memory size=2T: must be at most 1T", "--kernel", "k",
		     "--memory", "2T");
}

static void test_cpus_boot_and_bare_forms(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--kernel", "k", "--cpus", "boot=3"),
			 CLI_RUN);
	assert_int_equal(cfg.cpus, 3);
	machine_cfg_free(&cfg);
	assert_int_equal(PARSE(&cfg, &err, "--kernel", "k", "--cpus", "4"),
			 CLI_RUN);
	assert_int_equal(cfg.cpus, 4);
	machine_cfg_free(&cfg);
}

static void test_cpus_out_of_range(void **state)
{
	(void)state;
	EXPECT_ERROR("--cpus boot=0: must be at least 1", "--kernel", "k",
		     "--cpus", "0");
	EXPECT_ERROR("--cpus boot=256: must be at most 255", "--kernel", "k",
		     "--cpus", "boot=256");
}

static void test_device_splits_at_first_comma(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--kernel", "k", "--device",
			       "balloon,size=1G,deflate_on_oom=on", "--device",
			       "uart16550"),
			 CLI_RUN);
	assert_int_equal(cfg.n_devices, 2);
	assert_string_equal(cfg.devices[0].plugin, "balloon");
	assert_string_equal(cfg.devices[0].options,
			    "size=1G,deflate_on_oom=on");
	assert_string_equal(cfg.devices[0].origin, "--device");
	assert_string_equal(cfg.devices[1].plugin, "uart16550");
	assert_string_equal(cfg.devices[1].options, "");
	machine_cfg_free(&cfg);
}

static void test_device_without_name_is_rejected(void **state)
{
	(void)state;
	EXPECT_ERROR("--device ,size=1G: no plugin name (--device "
		     "PLUGIN[,OPTIONS])",
		     "--kernel", "k", "--device", ",size=1G");
}

static void test_balloon_is_shorthand_for_device(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--kernel", "k", "--balloon",
			       "size=1G,free_page_reporting=on"),
			 CLI_RUN);
	assert_int_equal(cfg.n_devices, 1);
	assert_string_equal(cfg.devices[0].plugin, "balloon");
	assert_string_equal(cfg.devices[0].options,
			    "size=1G,free_page_reporting=on");
	assert_string_equal(cfg.devices[0].origin, "--balloon");
	machine_cfg_free(&cfg);
}

static void test_disk_is_shorthand_for_virtio_blk(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--kernel", "k", "--disk",
			       "path=a.img,readonly=on", "--disk",
			       "path=b.img"),
			 CLI_RUN);
	assert_int_equal(cfg.n_devices, 2);
	assert_string_equal(cfg.devices[0].plugin, "virtio-blk");
	assert_string_equal(cfg.devices[0].options, "path=a.img,readonly=on");
	assert_string_equal(cfg.devices[0].origin, "--disk");
	assert_string_equal(cfg.devices[1].plugin, "virtio-blk");
	assert_string_equal(cfg.devices[1].options, "path=b.img");
	machine_cfg_free(&cfg);
}

static void test_net_is_shorthand_for_virtio_net(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--kernel", "k", "--net",
			       "tap=t0,ip=169.254.1.1,mask=255.255.0.0"),
			 CLI_RUN);
	assert_int_equal(cfg.n_devices, 1);
	assert_string_equal(cfg.devices[0].plugin, "virtio-net");
	assert_string_equal(cfg.devices[0].options,
			    "tap=t0,ip=169.254.1.1,mask=255.255.0.0");
	assert_string_equal(cfg.devices[0].origin, "--net");
	machine_cfg_free(&cfg);
}

static void test_vsock_is_shorthand_for_virtio_vsock(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--kernel", "k", "--vsock",
			       "cid=3,socket=/tmp/v.sock"),
			 CLI_RUN);
	assert_int_equal(cfg.n_devices, 1);
	assert_string_equal(cfg.devices[0].plugin, "virtio-vsock");
	assert_string_equal(cfg.devices[0].options, "cid=3,socket=/tmp/v.sock");
	assert_string_equal(cfg.devices[0].origin, "--vsock");
	machine_cfg_free(&cfg);
}

static void test_device_help_puts_that_device_last(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	/* No kernel needed to ask for help. */
	assert_int_equal(PARSE(&cfg, &err, "--device", "balloon,help",
			       "--device", "uart16550"),
			 CLI_DEVICE_HELP);
	assert_int_equal(cfg.n_devices, 2);
	assert_string_equal(cfg.devices[1].plugin, "balloon");
	assert_string_equal(cfg.devices[1].options, "help");
	machine_cfg_free(&cfg);
}

static void test_balloon_help_asks_for_device_help(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--balloon", "help"),
			 CLI_DEVICE_HELP);
	assert_string_equal(cfg.devices[cfg.n_devices - 1].plugin, "balloon");
	machine_cfg_free(&cfg);
}

static void test_machine_file_alone_fills_config(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--machine", yaml_path), CLI_RUN);
	assert_string_equal(cfg.config_path, yaml_path);
	assert_string_equal(cfg.kernel, "/file/kernel");
	assert_int_equal(cfg.mem_size, 1ULL << 30);
	assert_true(cfg.mem_hugepages);
	assert_int_equal(cfg.cpus, 2);
	machine_cfg_free(&cfg);
}

static void test_flags_override_file_wherever_machine_appears(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	/* --machine last, yet the flags before it still win. */
	assert_int_equal(PARSE(&cfg, &err, "--kernel", "cli.elf", "--cmdline",
			       "from-cli", "--cpus", "boot=8", "--machine",
			       yaml_path),
			 CLI_RUN);
	assert_string_equal(cfg.kernel, "cli.elf");
	assert_string_equal(cfg.cmdline, "from-cli");
	assert_int_equal(cfg.cpus, 8);
	machine_cfg_free(&cfg);
}

static void test_memory_flag_keeps_file_values_it_does_not_name(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--machine", yaml_path, "--memory",
			       "shared=on"),
			 CLI_RUN);
	assert_int_equal(cfg.mem_size, 1ULL << 30);
	assert_true(cfg.mem_hugepages);
	assert_true(cfg.mem_shared);
	machine_cfg_free(&cfg);
}

static void test_devices_append_to_the_file_devices(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--balloon", "size=64M", "--machine",
			       yaml_path),
			 CLI_RUN);
	assert_int_equal(cfg.n_devices, 2);
	assert_string_equal(cfg.devices[0].plugin, "uart16550");
	assert_string_equal(cfg.devices[1].plugin, "balloon");
	machine_cfg_free(&cfg);
}

static void test_plugin_dirs_from_flags_come_first(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--plugin-dir", "a", "--machine",
			       yaml_path, "--plugin-dir", "b"),
			 CLI_RUN);
	assert_int_equal(cfg.n_plugin_dirs, 3);
	assert_string_equal(cfg.plugin_dirs[0], "a");
	assert_string_equal(cfg.plugin_dirs[1], "b");
	assert_string_equal(cfg.plugin_dirs[2], "/file/plugins");
	machine_cfg_free(&cfg);
}

static void test_bad_machine_file_error_passes_through(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--machine", "/nonexistent.yaml"),
			 -ENOENT);
	assert_string_equal(err.msg,
			    "/nonexistent.yaml: No such file or directory");
	machine_cfg_free(&cfg);
}

static void test_second_machine_file_is_rejected(void **state)
{
	(void)state;
	EXPECT_ERROR("--machine b.yaml: only one machine file (already gave "
		     "a.yaml)",
		     "--machine", "a.yaml", "--machine", "b.yaml");
}

static void test_no_kernel_is_an_error_when_running(void **state)
{
	(void)state;
	EXPECT_ERROR("no kernel: give --kernel or 'kernel:' in the machine "
		     "file",
		     "--cpus", "2");
}

static void test_list_plugins_needs_no_kernel(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(
		PARSE(&cfg, &err, "--list-plugins", "--plugin-dir", "p"),
		CLI_LIST_PLUGINS);
	assert_true(cfg.list_plugins);
	machine_cfg_free(&cfg);
}

static void test_help_and_version_skip_the_machine_file(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(
		PARSE(&cfg, &err, "--machine", "/nonexistent.yaml", "--help"),
		CLI_HELP);
	machine_cfg_free(&cfg);
	assert_int_equal(PARSE(&cfg, &err, "-V"), CLI_VERSION);
	machine_cfg_free(&cfg);
}

static void test_unknown_flag_is_named(void **state)
{
	(void)state;
	EXPECT_ERROR("unknown flag '--kernal' (see --help)", "--kernal", "k");
	EXPECT_ERROR("unknown flag '-x' (see --help)", "-x");
}

static void test_missing_value_is_named(void **state)
{
	(void)state;
	EXPECT_ERROR("--kernel: needs a value", "--kernel");
	EXPECT_ERROR("--memory: needs a value", "--kernel", "k", "--memory=");
}

static void test_flag_taken_as_value_is_rejected(void **state)
{
	(void)state;
	EXPECT_ERROR("--kernel: needs a value (got the flag '--memory')",
		     "--kernel", "--memory", "2G");
}

static void test_attached_value_may_look_like_a_flag(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--kernel", "k", "--cmdline=--help"),
			 CLI_RUN);
	assert_string_equal(cfg.cmdline, "--help");
	machine_cfg_free(&cfg);
}

static void test_value_on_flag_without_value_is_rejected(void **state)
{
	(void)state;
	EXPECT_ERROR("'--list-plugins=yes': --list-plugins takes no value",
		     "--list-plugins=yes");
}

static void test_positional_argument_is_rejected(void **state)
{
	(void)state;
	EXPECT_ERROR("unexpected argument 'vmlinux' (flags start with --; see "
		     "--help)",
		     "--cpus", "1", "vmlinux");
}

static void test_log_level_names(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(
		PARSE(&cfg, &err, "--kernel", "k", "--log-level", "debug"),
		CLI_RUN);
	assert_int_equal(cfg.log_level, MVM_LOG_DEBUG);
	machine_cfg_free(&cfg);
	EXPECT_ERROR("--log-level loud: not a log level (error, warn, info, "
		     "debug)",
		     "--kernel", "k", "--log-level", "loud");
}

static void test_seccomp_flag_overrides_the_file(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--kernel", "k"), CLI_RUN);
	assert_int_equal(cfg.seccomp, CFG_SECCOMP_ON);
	machine_cfg_free(&cfg);
	assert_int_equal(PARSE(&cfg, &err, "--kernel", "k", "--seccomp", "log"),
			 CLI_RUN);
	assert_int_equal(cfg.seccomp, CFG_SECCOMP_LOG);
	machine_cfg_free(&cfg);
	assert_int_equal(PARSE(&cfg, &err, "--machine", yaml_path), CLI_RUN);
	assert_int_equal(cfg.seccomp, CFG_SECCOMP_LOG);
	machine_cfg_free(&cfg);
	assert_int_equal(
		PARSE(&cfg, &err, "--seccomp=off", "--machine", yaml_path),
		CLI_RUN);
	assert_int_equal(cfg.seccomp, CFG_SECCOMP_OFF);
	machine_cfg_free(&cfg);
	EXPECT_ERROR("--seccomp yes: expected on, log or off", "--kernel", "k",
		     "--seccomp", "yes");
}

static void test_path_flags_are_stored(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(PARSE(&cfg, &err, "--kernel", "k", "--initramfs",
			       "i.cpio", "--api-socket", "/run/a.sock",
			       "--dump-acpi", "acpi", "--dump-dtb", "m.dtb"),
			 CLI_RUN);
	assert_string_equal(cfg.initramfs, "i.cpio");
	assert_string_equal(cfg.api_socket, "/run/a.sock");
	assert_string_equal(cfg.dump_acpi, "acpi");
	assert_string_equal(cfg.dump_dtb, "m.dtb");
	machine_cfg_free(&cfg);
}

static void test_usage_mentions_every_flag(void **state)
{
	static const char *const flags[] = {
		"--machine",    "--kernel",       "--initramfs", "--cmdline",
		"--memory",     "--cpus",         "--device",    "--balloon",
		"--plugin-dir", "--api-socket",   "--dump-acpi", "--dump-dtb",
		"--log-level",  "--list-plugins", "--version",   "--help",
		"--seccomp",
	};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	cli_print_usage(f);
	fclose(f);
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		assert_non_null(strstr(text, flags[i]));
	free(text);
}

/* One schema: the machine file and the flag judge every memory and cpus
 * value alike, and word it alike after the key. */
static void test_file_and_flags_share_one_schema(void **state)
{
	static const struct {
		const char *file_key, *flag, *flag_key, *value;
	} cases[] = {
		{"memory", "--memory", "size", "64M"},
		{"memory", "--memory", "size", "0"},
		{"memory", "--memory", "size", "2T"},
		{"memory", "--memory", "size", "1X"},
		{"memory", "--memory", "size", "99999999999999999999"},
		{"memory", "--memory", "shared", "maybe"},
		{"memory", "--memory", "thp", ""},
		{"cpus", "--cpus", "boot", "0"},
		{"cpus", "--cpus", "boot", "256"},
		{"cpus", "--cpus", "boot", "two"},
	};
	char path[] = "/tmp/test_cli_schema.XXXXXX.yaml";
	int fd = mkstemps(path, 5);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct machine_cfg cfg;
		struct error ferr, cerr;
		char yaml[128], arg[64], *tail;
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fprintf(f, "kernel: /k\n%s: {%s: \"%s\"}\n", cases[i].file_key,
			cases[i].flag_key, cases[i].value);
		fclose(f);
		assert_int_equal(PARSE(&cfg, &ferr, "--machine", path),
				 -EINVAL);
		machine_cfg_free(&cfg);
		snprintf(arg, sizeof(arg), "%s=%s", cases[i].flag_key,
			 cases[i].value);
		assert_int_equal(PARSE(&cfg, &cerr, "--kernel", "/k",
				       cases[i].flag, arg),
				 -EINVAL);
		machine_cfg_free(&cfg);
		/* ".../x.yaml:2:L: memory.size=64M: ..." against
		 * "--memory size=64M: ...". */
		snprintf(yaml, sizeof(yaml), "%s.%s=%s", cases[i].file_key,
			 cases[i].flag_key, cases[i].value);
		tail = strstr(ferr.msg, yaml);
		assert_non_null(tail);
		assert_string_equal(tail + strlen(yaml),
				    cerr.msg + strlen(cases[i].flag) + 1 +
					    strlen(arg));
	}
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_only_runs_with_defaults),
		cmocka_unit_test(test_equals_form_is_accepted),
		cmocka_unit_test(test_memory_key_value_form),
		cmocka_unit_test(test_memory_bare_size_form),
		cmocka_unit_test(test_memory_bad_size_names_flag_and_value),
		cmocka_unit_test(test_memory_thp_is_on_unless_turned_off),
		cmocka_unit_test(test_memory_unknown_option),
		cmocka_unit_test(test_memory_zero_is_rejected),
		cmocka_unit_test(test_memory_bounds_named),
		cmocka_unit_test(test_cpus_boot_and_bare_forms),
		cmocka_unit_test(test_cpus_out_of_range),
		cmocka_unit_test(test_device_splits_at_first_comma),
		cmocka_unit_test(test_device_without_name_is_rejected),
		cmocka_unit_test(test_balloon_is_shorthand_for_device),
		cmocka_unit_test(test_disk_is_shorthand_for_virtio_blk),
		cmocka_unit_test(test_net_is_shorthand_for_virtio_net),
		cmocka_unit_test(test_vsock_is_shorthand_for_virtio_vsock),
		cmocka_unit_test(test_device_help_puts_that_device_last),
		cmocka_unit_test(test_balloon_help_asks_for_device_help),
		cmocka_unit_test(test_machine_file_alone_fills_config),
		cmocka_unit_test(
			test_flags_override_file_wherever_machine_appears),
		cmocka_unit_test(
			test_memory_flag_keeps_file_values_it_does_not_name),
		cmocka_unit_test(test_devices_append_to_the_file_devices),
		cmocka_unit_test(test_plugin_dirs_from_flags_come_first),
		cmocka_unit_test(test_bad_machine_file_error_passes_through),
		cmocka_unit_test(test_second_machine_file_is_rejected),
		cmocka_unit_test(test_no_kernel_is_an_error_when_running),
		cmocka_unit_test(test_list_plugins_needs_no_kernel),
		cmocka_unit_test(test_help_and_version_skip_the_machine_file),
		cmocka_unit_test(test_unknown_flag_is_named),
		cmocka_unit_test(test_missing_value_is_named),
		cmocka_unit_test(test_flag_taken_as_value_is_rejected),
		cmocka_unit_test(test_attached_value_may_look_like_a_flag),
		cmocka_unit_test(test_value_on_flag_without_value_is_rejected),
		cmocka_unit_test(test_positional_argument_is_rejected),
		cmocka_unit_test(test_log_level_names),
		cmocka_unit_test(test_seccomp_flag_overrides_the_file),
		cmocka_unit_test(test_path_flags_are_stored),
		cmocka_unit_test(test_usage_mentions_every_flag),
		cmocka_unit_test(test_file_and_flags_share_one_schema),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
