/*
 * The YAML machine file: what each key fills in, how relative paths
 * resolve, and the exact file:line:column of every kind of error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/machine_file.h"

static char tmpdir[64];
static char yaml_path[256];

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_machine_file.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Write `text` to <tmpdir>/<rel> (creating one level of folder) and return
 * the file's path. */
static const char *write_yaml(const char *rel, const char *text)
{
	char *slash;
	FILE *f;

	snprintf(yaml_path, sizeof(yaml_path), "%.64s/%.128s", tmpdir, rel);
	slash = strrchr(yaml_path, '/');
	*slash = '\0';
	mkdir(yaml_path, 0700);
	*slash = '/';
	f = fopen(yaml_path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return yaml_path;
}

static int load(const char *text, struct machine_cfg *cfg, struct error *err)
{
	machine_cfg_init(cfg);
	return machine_file_load(write_yaml("machine.yaml", text), cfg, err);
}

/* Load `text` and check it fails with "<path>:<where_msg>". */
static void expect_error(const char *text, const char *where_msg)
{
	struct machine_cfg cfg;
	struct error err;
	char want[1024];

	assert_int_equal(load(text, &cfg, &err), -EINVAL);
	snprintf(want, sizeof(want), "%s:%s", yaml_path, where_msg);
	assert_string_equal(err.msg, want);
	machine_cfg_free(&cfg);
}

static char *in_tmp(const char *rel)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%.64s/%.128s", tmpdir, rel);
	return buf;
}

static void test_full_file_fills_every_field(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(load("kernel: /boot/vmlinuz\n"
			      "initramfs: /boot/initrd.img\n"
			      "cmdline: \"console=ttyS0 quiet\"\n"
			      "memory: 2G\n"
			      "cpus: 4\n"
			      "plugin-path: /usr/lib/modvmm/plugins\n"
			      "api-socket: /run/vm1.sock\n"
			      "devices:\n"
			      "  - plugin: uart16550\n"
			      "  - plugin: balloon\n"
			      "    options: \"size=1G,deflate_on_oom=on\"\n",
			      &cfg, &err),
			 0);
	assert_string_equal(cfg.config_path, yaml_path);
	assert_string_equal(cfg.kernel, "/boot/vmlinuz");
	assert_string_equal(cfg.initramfs, "/boot/initrd.img");
	assert_string_equal(cfg.cmdline, "console=ttyS0 quiet");
	assert_int_equal(cfg.mem_size, 2ULL << 30);
	assert_false(cfg.mem_shared);
	assert_int_equal(cfg.cpus, 4);
	assert_int_equal(cfg.n_plugin_dirs, 1);
	assert_string_equal(cfg.plugin_dirs[0], "/usr/lib/modvmm/plugins");
	assert_string_equal(cfg.api_socket, "/run/vm1.sock");
	assert_int_equal(cfg.n_devices, 2);
	assert_string_equal(cfg.devices[0].plugin, "uart16550");
	assert_string_equal(cfg.devices[0].options, "");
	assert_string_equal(cfg.devices[1].plugin, "balloon");
	assert_string_equal(cfg.devices[1].options,
			    "size=1G,deflate_on_oom=on");
	machine_cfg_free(&cfg);
}

static void test_relative_paths_resolve_against_file_folder(void **state)
{
	struct machine_cfg cfg;
	struct error err;
	char want[256];

	(void)state;
	machine_cfg_init(&cfg);
	assert_int_equal(
		machine_file_load(write_yaml("sub/m.yaml",
					     "kernel: ../k.elf\n"
					     "initramfs: initrd.cpio\n"
					     "plugin-path: [../plugins, /abs]\n"
					     "api-socket: vm.sock\n"
					     "devices:\n"
					     "  - plugin: uart16550\n"
					     "  - plugin: ./my/dev.so\n"
					     "  - plugin: /opt/dev.so\n"),
				  &cfg, &err),
		0);
	snprintf(want, sizeof(want), "%s/sub/../k.elf", tmpdir);
	assert_string_equal(cfg.kernel, want);
	assert_string_equal(cfg.initramfs, in_tmp("sub/initrd.cpio"));
	assert_int_equal(cfg.n_plugin_dirs, 2);
	snprintf(want, sizeof(want), "%s/sub/../plugins", tmpdir);
	assert_string_equal(cfg.plugin_dirs[0], want);
	assert_string_equal(cfg.plugin_dirs[1], "/abs");
	assert_string_equal(cfg.api_socket, in_tmp("sub/vm.sock"));
	/* A bare plugin name is looked up in the plugin path, untouched. */
	assert_string_equal(cfg.devices[0].plugin, "uart16550");
	assert_string_equal(cfg.devices[1].plugin, in_tmp("sub/./my/dev.so"));
	assert_string_equal(cfg.devices[2].plugin, "/opt/dev.so");
	machine_cfg_free(&cfg);
}

static void test_name_without_folder_keeps_paths_as_written(void **state)
{
	static const char yaml[] = "kernel: k.elf\n";
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	machine_cfg_init(&cfg);
	assert_int_equal(machine_file_load_buffer("m.yaml", yaml,
						  sizeof(yaml) - 1, &cfg, &err),
			 0);
	assert_string_equal(cfg.kernel, "k.elf");
	machine_cfg_free(&cfg);
}

static void test_memory_mapping_sets_size_shared_hugepages(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(load("memory:\n"
			      "  size: 6G\n"
			      "  shared: on\n"
			      "  hugepages: true\n",
			      &cfg, &err),
			 0);
	assert_int_equal(cfg.mem_size, 6ULL << 30);
	assert_true(cfg.mem_shared);
	assert_true(cfg.mem_hugepages);
	machine_cfg_free(&cfg);
}

static void test_cpus_mapping_sets_boot(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(load("cpus: {boot: 2}\n", &cfg, &err), 0);
	assert_int_equal(cfg.cpus, 2);
	machine_cfg_free(&cfg);
}

static void test_empty_file_sets_nothing(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(load("# only a comment\n", &cfg, &err), 0);
	assert_null(cfg.kernel);
	assert_int_equal(cfg.cpus, 0);
	assert_int_equal(cfg.n_devices, 0);
	machine_cfg_free(&cfg);
}

static void test_null_value_counts_as_not_given(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	assert_int_equal(
		load("kernel: k\ninitramfs:\ndevices: ~\n", &cfg, &err), 0);
	assert_null(cfg.initramfs);
	assert_int_equal(cfg.n_devices, 0);
	machine_cfg_free(&cfg);
}

static void test_device_origin_names_file_line_column(void **state)
{
	struct machine_cfg cfg;
	struct error err;
	char want[512];

	(void)state;
	assert_int_equal(load("kernel: k\n"
			      "devices:\n"
			      "  - plugin: uart16550\n",
			      &cfg, &err),
			 0);
	snprintf(want, sizeof(want), "%s:3:13", yaml_path);
	assert_string_equal(cfg.devices[0].origin, want);
	machine_cfg_free(&cfg);
}

static void test_syntax_error_gives_libyaml_problem_and_mark(void **state)
{
	(void)state;
	expect_error("kernel: a\ncpus: [1\nmemory: 1G\n",
		     "3:7: did not find expected ',' or ']' (while parsing a "
		     "flow sequence at line 2, column 7)");
}

static void test_tab_indentation_is_a_syntax_error(void **state)
{
	(void)state;
	expect_error("kernel: k\n\t- x\n",
		     "2:1: found a tab character that violates indentation "
		     "(while scanning a plain scalar at line 1, column 9)");
}

static void test_invalid_utf8_is_placed_by_line_and_column(void **state)
{
	(void)state;
	expect_error("kernel: k\ncmdline: \xff\n",
		     "2:10: invalid leading UTF-8 octet (byte 0xff)");
}

static void test_unknown_key_lists_known_keys(void **state)
{
	(void)state;
	expect_error("cpus: 1\nmemory: 1G\nkernal: k\n",
		     "3:1: unknown key 'kernal' (known: kernel, initramfs, "
		     "cmdline, memory, cpus, plugin-path, api-socket, "
		     "devices, seccomp)");
}

static void test_seccomp_modes(void **state)
{
	static const struct {
		const char *text;
		enum cfg_seccomp mode;
	} cases[] = {
		{"kernel: k\n", CFG_SECCOMP_ON}, /* the default */
		{"kernel: k\nseccomp: on\n", CFG_SECCOMP_ON},
		{"kernel: k\nseccomp: log\n", CFG_SECCOMP_LOG},
		{"kernel: k\nseccomp: off\n", CFG_SECCOMP_OFF},
	};
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(load(cases[i].text, &cfg, &err), 0);
		assert_int_equal(cfg.seccomp, cases[i].mode);
		machine_cfg_free(&cfg);
	}
}

static void test_seccomp_bad_value_is_placed(void **state)
{
	(void)state;
	expect_error("kernel: k\nseccomp: kill\n",
		     "2:10: seccomp=kill: expected on, log or off");
	expect_error("kernel: k\nseccomp: [on]\n",
		     "2:10: 'seccomp' must be on, log or off, not a list");
}

static void test_unknown_key_in_memory_mapping(void **state)
{
	(void)state;
	expect_error("memory:\n  sise: 1G\n",
		     "2:3: unknown key 'sise' in 'memory' (known: size, "
		     "shared, hugepages, thp)");
}

/* RAM outside the memory map's bounds is named where it is written, in
 * the user's units, not in bytes after the fact. */
static void test_memory_bounds_are_named_in_place(void **state)
{
	(void)state;
	expect_error("kernel: k\nmemory: 64M\n",
		     "2:9: memory=64M: must be at least 128M");
	expect_error("kernel: k\nmemory:\n  size: 2T\n",
		     "3:9: memory.size=2T: must be at most 1T");
}

static void test_cpus_as_list_is_wrong_type(void **state)
{
	(void)state;
	expect_error("kernel: k\ncpus: [1, 2]\n",
		     "2:7: 'cpus' must be a number or a mapping {boot}, not a "
		     "list");
}

static void test_kernel_as_mapping_is_wrong_type(void **state)
{
	(void)state;
	expect_error("kernel: {path: k}\n",
		     "1:9: 'kernel' must be a path, not a mapping");
}

static void test_top_level_list_is_wrong_type(void **state)
{
	(void)state;
	expect_error("- kernel: k\n",
		     "1:1: the machine file must be a mapping of keys "
		     "(kernel:, memory:, ...), not a list");
}

static void test_duplicate_key_names_first_place(void **state)
{
	(void)state;
	expect_error("cpus: 1\nkernel: a\ncpus: 2\n",
		     "3:1: duplicate key 'cpus' (first at line 1, column 1)");
}

static void test_bad_memory_size_names_key_and_value(void **state)
{
	(void)state;
	expect_error("kernel: k\nmemory: 1X\n",
		     "2:9: memory=1X: not a size (a number with an optional K, "
		     "M, G or T suffix)");
}

static void test_bad_size_in_memory_mapping(void **state)
{
	(void)state;
	expect_error("memory: {size: lots}\n",
		     "1:16: memory.size=lots: not a size (a number with an "
		     "optional K, M, G or T suffix)");
}

static void test_bad_bool_in_memory_mapping(void **state)
{
	(void)state;
	expect_error("memory: {size: 2G, shared: maybe}\n",
		     "1:28: memory.shared=maybe: expected on or off");
}

static void test_zero_memory_is_rejected(void **state)
{
	(void)state;
	expect_error("memory: 0\n", "1:9: memory=0: must be at least 128M");
}

static void test_cpus_out_of_range(void **state)
{
	(void)state;
	expect_error("cpus: 256\n", "1:7: cpus=256: must be at most 255");
}

static void test_cpus_not_a_number(void **state)
{
	(void)state;
	expect_error("cpus:\n  boot: two\n",
		     "2:9: cpus.boot=two: not a number (decimal, or hex with "
		     "0x)");
}

static void test_device_without_plugin(void **state)
{
	(void)state;
	expect_error("kernel: k\ndevices:\n  - options: \"size=1G\"\n",
		     "3:5: device without 'plugin' (the plugin name or a path "
		     "to its .so)");
}

static void test_device_with_unknown_key(void **state)
{
	(void)state;
	expect_error("devices:\n  - plugin: balloon\n    option: x\n",
		     "3:5: unknown key 'option' in a device (known: plugin, "
		     "options)");
}

static void test_device_as_string_is_wrong_type(void **state)
{
	(void)state;
	expect_error("devices:\n  - uart16550\n",
		     "2:5: each device must be a mapping with a 'plugin' key, "
		     "not the value 'uart16550'");
}

static void test_nul_in_value_is_rejected(void **state)
{
	(void)state;
	expect_error("kernel: \"a\\0b\"\n",
		     "1:9: 'kernel' contains a NUL character");
}

static void test_second_document_is_rejected(void **state)
{
	(void)state;
	expect_error("kernel: a\n---\nkernel: b\n",
		     "3:1: a machine file holds one YAML document, not "
		     "several");
}

static void test_self_referencing_alias_is_an_error(void **state)
{
	(void)state;
	expect_error("kernel: &a [*a]\n",
		     "1:9: 'kernel' must be a path, not a list");
}

static void test_missing_file_names_file_and_errno(void **state)
{
	struct machine_cfg cfg;
	struct error err;
	char want[512];

	(void)state;
	machine_cfg_init(&cfg);
	assert_int_equal(machine_file_load(in_tmp("nope.yaml"), &cfg, &err),
			 -ENOENT);
	snprintf(want, sizeof(want), "%s/nope.yaml: No such file or directory",
		 tmpdir);
	assert_string_equal(err.msg, want);
	machine_cfg_free(&cfg);
}

static void test_directory_is_not_a_machine_file(void **state)
{
	struct machine_cfg cfg;
	struct error err;
	char want[512];

	(void)state;
	machine_cfg_init(&cfg);
	assert_int_equal(machine_file_load(tmpdir, &cfg, &err), -EISDIR);
	snprintf(want, sizeof(want), "%s: Is a directory", tmpdir);
	assert_string_equal(err.msg, want);
	machine_cfg_free(&cfg);
}

static void test_kit_hello_example_loads(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	machine_cfg_init(&cfg);
	assert_int_equal(machine_file_load(TEST_SOURCE_DIR
					   "/config/kit-hello.yaml",
					   &cfg, &err),
			 0);
	assert_string_equal(cfg.kernel, TEST_SOURCE_DIR
			    "/config/../build/guestkit/kit.elf");
	assert_string_equal(cfg.cmdline, "test=hello");
	assert_int_equal(cfg.mem_size, 128ULL << 20);
	assert_int_equal(cfg.cpus, 1);
	assert_int_equal(cfg.n_plugin_dirs, 1);
	assert_string_equal(cfg.plugin_dirs[0],
			    TEST_SOURCE_DIR "/config/../build/plugins");
	assert_int_equal(cfg.n_devices, 1);
	assert_string_equal(cfg.devices[0].plugin, "uart16550");
	machine_cfg_free(&cfg);
}

static void test_kit_smp_example_loads(void **state)
{
	struct machine_cfg cfg;
	struct error err;

	(void)state;
	machine_cfg_init(&cfg);
	assert_int_equal(machine_file_load(TEST_SOURCE_DIR
					   "/config/kit-smp.yaml",
					   &cfg, &err),
			 0);
	assert_int_equal(cfg.cpus, 4);
	assert_int_equal(cfg.mem_size, 6ULL << 30);
	assert_string_equal(cfg.cmdline, "test=cpus expect=4");
	machine_cfg_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_file_fills_every_field),
		cmocka_unit_test(
			test_relative_paths_resolve_against_file_folder),
		cmocka_unit_test(
			test_name_without_folder_keeps_paths_as_written),
		cmocka_unit_test(
			test_memory_mapping_sets_size_shared_hugepages),
		cmocka_unit_test(test_cpus_mapping_sets_boot),
		cmocka_unit_test(test_empty_file_sets_nothing),
		cmocka_unit_test(test_null_value_counts_as_not_given),
		cmocka_unit_test(test_device_origin_names_file_line_column),
		cmocka_unit_test(
			test_syntax_error_gives_libyaml_problem_and_mark),
		cmocka_unit_test(test_tab_indentation_is_a_syntax_error),
		cmocka_unit_test(
			test_invalid_utf8_is_placed_by_line_and_column),
		cmocka_unit_test(test_unknown_key_lists_known_keys),
		cmocka_unit_test(test_seccomp_modes),
		cmocka_unit_test(test_seccomp_bad_value_is_placed),
		cmocka_unit_test(test_unknown_key_in_memory_mapping),
		cmocka_unit_test(test_memory_bounds_are_named_in_place),
		cmocka_unit_test(test_cpus_as_list_is_wrong_type),
		cmocka_unit_test(test_kernel_as_mapping_is_wrong_type),
		cmocka_unit_test(test_top_level_list_is_wrong_type),
		cmocka_unit_test(test_duplicate_key_names_first_place),
		cmocka_unit_test(test_bad_memory_size_names_key_and_value),
		cmocka_unit_test(test_bad_size_in_memory_mapping),
		cmocka_unit_test(test_bad_bool_in_memory_mapping),
		cmocka_unit_test(test_zero_memory_is_rejected),
		cmocka_unit_test(test_cpus_out_of_range),
		cmocka_unit_test(test_cpus_not_a_number),
		cmocka_unit_test(test_device_without_plugin),
		cmocka_unit_test(test_device_with_unknown_key),
		cmocka_unit_test(test_device_as_string_is_wrong_type),
		cmocka_unit_test(test_nul_in_value_is_rejected),
		cmocka_unit_test(test_second_document_is_rejected),
		cmocka_unit_test(test_self_referencing_alias_is_an_error),
		cmocka_unit_test(test_missing_file_names_file_and_errno),
		cmocka_unit_test(test_directory_is_not_a_machine_file),
		cmocka_unit_test(test_kit_hello_example_loads),
		cmocka_unit_test(test_kit_smp_example_loads),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
