/*
 * The plugin ABI rules (docs/plugins.md, "ABI policy"), through the loader
 * the VMM uses: a plugin built against an older SDK loads and works; a
 * plugin of another major, of a newer minor, or with a descriptor smaller
 * than any 1.x one is refused with a line naming the versions. A 1.2
 * plugin's extra system calls (`syscalls`) are read and their names
 * checked; an older plugin's are not read at all. MVM_HOST_HAS tells
 * which members a shorter table has.
 * ABI_PLUGIN_DIR holds abi_<variant>.so built from abi_plugin.c.
 */
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <modvmm/api.h>
#include <modvmm/harness.h>

#include "plugin/plugin_loader.h" /* plugin_syscalls: what the VMM reads */

static const char *path(const char *variant)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/abi_%s.so", ABI_PLUGIN_DIR, variant);
	return buf;
}

static void expect_refused(const char *variant, const char *needle1,
			   const char *needle2)
{
	struct mvm_harness *h;
	char why[600];

	assert_true(mvm_harness_open(path(variant), NULL, NULL, &h, why,
				     sizeof(why)) < 0);
	if (!strstr(why, needle1) || (needle2 && !strstr(why, needle2)))
		fail_msg("'%s' lacks '%s' / '%s'", why, needle1,
			 needle2 ? needle2 : "");
	assert_non_null(strstr(why, path(variant)));
}

static void works(const char *variant)
{
	struct mvm_harness *h;
	char why[600];

	if (mvm_harness_open(path(variant), NULL, NULL, &h, why, sizeof(why)) <
	    0)
		fail_msg("%s: %s", variant, why);
	assert_int_equal(mvm_harness_pio_write(h, 0x5f0, 1, 7), 0);
	assert_int_equal(mvm_harness_count(h, MVM_HREC_EXIT), 1);
	assert_true(mvm_harness_logged(h, "abi plugin"));
	assert_int_equal(mvm_harness_close(h), 0);
}

static void test_plugin_built_against_abi_1_0_headers_loads(void **s)
{
	(void)s;
	works("old_sdk");
}

static void test_plugin_of_an_older_minor_loads(void **s)
{
	(void)s;
#if MVM_ABI_MINOR > 0
	works("minor_prev");
#else
	skip(); /* no older minor than 1.0: old_sdk stands for it */
#endif
}

static void test_plugin_of_the_current_abi_loads(void **s)
{
	(void)s;
	works("current");
}

static void test_newer_major_is_refused_naming_both_versions(void **s)
{
	char plug[32], core[48];

	(void)s;
	snprintf(plug, sizeof(plug), "built for plugin ABI %u.%u",
		 MVM_ABI_MAJOR + 1, MVM_ABI_MINOR);
	snprintf(core, sizeof(core), "this modvmm provides ABI %u.%u",
		 MVM_ABI_MAJOR, MVM_ABI_MINOR);
	expect_refused("major_next", plug, core);
}

static void test_older_major_is_refused_naming_both_versions(void **s)
{
	char plug[32], core[48];

	(void)s;
	snprintf(plug, sizeof(plug), "built for plugin ABI %u.%u",
		 MVM_ABI_MAJOR - 1, MVM_ABI_MINOR);
	snprintf(core, sizeof(core), "this modvmm provides ABI %u.%u",
		 MVM_ABI_MAJOR, MVM_ABI_MINOR);
	expect_refused("major_prev", plug, core);
}

static void test_newer_minor_is_refused(void **s)
{
	char plug[32];

	(void)s;
	snprintf(plug, sizeof(plug), "needs plugin ABI %u.%u", MVM_ABI_MAJOR,
		 MVM_ABI_MINOR + 1);
	expect_refused("minor_next", plug, "upgrade modvmm");
}

/* The extra system calls the VMM would add to its filters for `variant`. */
static const char *const *declared(const char *variant)
{
	void *h = dlopen(path(variant), RTLD_NOW | RTLD_LOCAL);
	const struct mvm_plugin *d;

	assert_non_null(h);
	d = dlsym(h, MVM_PLUGIN_SYMBOL);
	assert_non_null(d);
	return plugin_syscalls(d); /* the handle stays open, as the VMM's */
}

static void test_plugin_declaring_syscalls_loads_and_is_read(void **s)
{
	const char *const *list;

	(void)s;
	works("syscalls");
	list = declared("syscalls");
	assert_non_null(list);
	assert_string_equal(list[0], "getrandom");
	assert_string_equal(list[1], "socket");
	assert_null(list[2]);
}

static void test_older_plugins_declare_no_syscalls(void **s)
{
	(void)s;
	assert_null(declared("old_sdk")); /* shorter descriptor */
	assert_null(declared("current"));
}

static const uint32_t *declared_ioctls(const char *variant)
{
	void *h = dlopen(path(variant), RTLD_NOW | RTLD_LOCAL);
	const struct mvm_plugin *d;

	assert_non_null(h);
	d = dlsym(h, MVM_PLUGIN_SYMBOL);
	assert_non_null(d);
	return plugin_ioctls(d);
}

/* ABI 1.3: `ioctls` is read from a 1.3 descriptor, and not from one that
 * claims 1.2 (which has no such member) or from older SDKs. */
static void test_plugin_declaring_ioctls_is_read_from_1_3_only(void **s)
{
	const uint32_t *list;

	(void)s;
	works("ioctls");
	list = declared_ioctls("ioctls");
	assert_non_null(list);
	assert_int_equal(list[0], 0xaf01);
	assert_int_equal(list[1], 0x12345678);
	assert_int_equal(list[2], 0);
	works("old_minor_ioctls");
	assert_null(declared_ioctls("old_minor_ioctls"));
	assert_null(declared_ioctls("old_sdk"));
	assert_null(declared_ioctls("current"));
}

static void test_unknown_syscall_name_is_refused_by_name(void **s)
{
	(void)s;
	expect_refused("bad_syscall", "'no_such_call' is not a system call",
		       NULL);
}

static void test_older_minor_list_is_not_read(void **s)
{
	(void)s;
	/* A 1.1 descriptor has no such member: whatever is there is not
	 * the plugin's list, so it is neither checked nor used. */
	works("old_minor_bad_syscall");
	assert_null(declared("old_minor_bad_syscall"));
}

static void test_descriptor_shorter_than_any_1_x_is_refused(void **s)
{
	(void)s;
	expect_refused("short_desc", "smaller than any ABI", NULL);
}

/* MVM_HOST_HAS on a table as an ABI 1.0 core built it: up to dev_name. */
static void test_host_has_stops_at_the_end_of_an_older_table(void **s)
{
	struct mvm_host h = {.size = offsetof(struct mvm_host, virtio)};

	(void)s;
	assert_true(MVM_HOST_HAS(&h, log));
	assert_true(MVM_HOST_HAS(&h, dev_name));
	assert_false(MVM_HOST_HAS(&h, virtio));
	assert_false(MVM_HOST_HAS(&h, ram_size));
	h.size = sizeof(h);
	assert_true(MVM_HOST_HAS(&h, ram_size));
}

static void test_host_has_refuses_a_member_cut_in_half(void **s)
{
	struct mvm_api_command c = {
		.size = offsetof(struct mvm_api_command, handler) + 4};
	struct mvm_plugin p = {.size = offsetof(struct mvm_plugin, syscalls)};

	(void)s;
	assert_false(MVM_HOST_HAS(&c, handler));
	c.size += 4;
	assert_true(MVM_HOST_HAS(&c, handler));
	/* Not only the first member may be `size`: the descriptor's is its
	 * third. */
	assert_true(MVM_HOST_HAS(&p, destroy));
	assert_false(MVM_HOST_HAS(&p, syscalls));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_plugin_built_against_abi_1_0_headers_loads),
		cmocka_unit_test(test_plugin_of_an_older_minor_loads),
		cmocka_unit_test(test_plugin_of_the_current_abi_loads),
		cmocka_unit_test(
			test_newer_major_is_refused_naming_both_versions),
		cmocka_unit_test(
			test_older_major_is_refused_naming_both_versions),
		cmocka_unit_test(test_newer_minor_is_refused),
		cmocka_unit_test(
			test_descriptor_shorter_than_any_1_x_is_refused),
		cmocka_unit_test(
			test_plugin_declaring_syscalls_loads_and_is_read),
		cmocka_unit_test(test_older_plugins_declare_no_syscalls),
		cmocka_unit_test(test_unknown_syscall_name_is_refused_by_name),
		cmocka_unit_test(test_older_minor_list_is_not_read),
		cmocka_unit_test(
			test_plugin_declaring_ioctls_is_read_from_1_3_only),
		cmocka_unit_test(
			test_host_has_stops_at_the_end_of_an_older_table),
		cmocka_unit_test(test_host_has_refuses_a_member_cut_in_half),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
