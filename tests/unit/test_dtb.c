/* The device tree for --dump-dtb (core/boot/dtb.c). */
#include <errno.h>
#include <libfdt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "boot/dtb.h"

static const struct mvm_dsdt_device virtio0 = {.hid = "LNRO0005",
					       .mmio_base = 0xc0001000,
					       .mmio_size = 0x1000,
					       .gsi = 5};
static const struct mvm_dsdt_device uart0 = {
	.hid = "PNP0501", .io_base = 0x3f8, .io_size = 8, .gsi = 4};
static const struct mvm_dsdt_device other = {.hid = "ACPI0013",
					     .mmio_base = 0xc0002000,
					     .mmio_size = 0x1000,
					     .gsi = 6,
					     .level_triggered = true};
static const struct dtb_device devs[] = {
	{"virtio_mmio", &virtio0},
	{"serial", &uart0},
	{NULL, &other},
};
static const struct mem_region ram[] = {
	{0, 3ULL << 30},
	{1ULL << 32, 3ULL << 30},
};

static const struct dtb_input input = {
	.ncpus = 4,
	.ram = ram,
	.nram = 2,
	.cmdline = "console=ttyS0 reboot=k",
	.devs = devs,
	.ndevs = 3,
};

static int setup(void **state)
{
	void *blob;
	size_t len;

	if (dtb_build(&input, &blob, &len))
		return -1;
	*state = blob;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static int node(const void *fdt, const char *path)
{
	int off = fdt_path_offset(fdt, path);

	if (off < 0)
		fail_msg("no node %s: %s", path, fdt_strerror(off));
	return off;
}

static const char *str_prop(const void *fdt, const char *path, const char *name)
{
	const char *v = fdt_getprop(fdt, node(fdt, path), name, NULL);

	if (!v)
		fail_msg("%s has no %s", path, name);
	return v;
}

/* The property as host-order cells; returns the cell count. */
static int cells(const void *fdt, const char *path, const char *name,
		 uint32_t *out, int max)
{
	int len;
	const fdt32_t *v = fdt_getprop(fdt, node(fdt, path), name, &len);

	assert_non_null(v);
	assert_int_equal(len % 4, 0);
	assert_true(len / 4 <= max);
	for (int i = 0; i < len / 4; i++)
		out[i] = fdt32_to_cpu(v[i]);
	return len / 4;
}

/* The property has exactly the `n` (at most 4) cells `want`. */
static void expect_cells(const void *fdt, const char *path, const char *name,
			 const uint32_t *want, int n)
{
	uint32_t c[4];

	assert_int_equal(cells(fdt, path, name, c, 4), n);
	for (int i = 0; i < n; i++)
		assert_int_equal(c[i], want[i]);
}

static void test_blob_passes_fdt_check_header(void **state)
{
	assert_int_equal(fdt_check_header(*state), 0);
}

static void test_root_has_two_cell_addresses_and_compatible(void **state)
{
	uint32_t c[1];

	assert_int_equal(cells(*state, "/", "#address-cells", c, 1), 1);
	assert_int_equal(c[0], 2);
	assert_int_equal(cells(*state, "/", "#size-cells", c, 1), 1);
	assert_int_equal(c[0], 2);
	assert_string_equal(str_prop(*state, "/", "compatible"),
			    "modvmm,x86-64");
}

static void test_chosen_carries_the_command_line(void **state)
{
	assert_string_equal(str_prop(*state, "/chosen", "bootargs"),
			    "console=ttyS0 reboot=k");
}

static void test_memory_nodes_cover_both_sides_of_the_hole(void **state)
{
	uint32_t c[4];

	assert_string_equal(str_prop(*state, "/memory@0", "device_type"),
			    "memory");
	assert_int_equal(cells(*state, "/memory@0", "reg", c, 4), 4);
	assert_int_equal(c[0], 0);
	assert_int_equal(c[1], 0);
	assert_int_equal(((uint64_t)c[2] << 32) | c[3], 3ULL << 30);
	assert_int_equal(cells(*state, "/memory@100000000", "reg", c, 4), 4);
	assert_int_equal(c[0], 1);
	assert_int_equal(c[1], 0);
	assert_int_equal(((uint64_t)c[2] << 32) | c[3], 3ULL << 30);
}

static void test_cpus_has_one_node_per_cpu(void **state)
{
	const void *fdt = *state;
	int cpus = node(fdt, "/cpus"), n = 0, child;
	char path[32];
	uint32_t c[1];

	fdt_for_each_subnode(child, fdt, cpus) n++;
	assert_int_equal(n, 4);
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "/cpus/cpu@%x", i);
		assert_string_equal(str_prop(fdt, path, "device_type"), "cpu");
		assert_int_equal(cells(fdt, path, "reg", c, 1), 1);
		assert_int_equal(c[0], (uint32_t)i);
	}
}

static void test_ioapic_is_the_root_interrupt_parent(void **state)
{
	const void *fdt = *state;
	const char *path = "/interrupt-controller@fec00000";
	uint32_t c[4];

	assert_string_equal(str_prop(fdt, path, "compatible"),
			    "intel,ce4100-ioapic");
	assert_non_null(fdt_getprop(fdt, node(fdt, path),
				    "interrupt-controller", NULL));
	assert_int_equal(cells(fdt, path, "reg", c, 4), 4);
	assert_int_equal(c[1], 0xfec00000);
	cells(fdt, "/", "interrupt-parent", c, 1);
	assert_int_equal(fdt_node_offset_by_phandle(fdt, c[0]),
			 node(fdt, path));
}

static void test_virtio_node_has_reg_and_edge_interrupt(void **state)
{
	const void *fdt = *state;
	const char *path = "/virtio_mmio@c0001000";

	assert_string_equal(str_prop(fdt, path, "compatible"), "virtio,mmio");
	expect_cells(fdt, path, "reg",
		     (const uint32_t[]){0, 0xc0001000, 0, 0x1000}, 4);
	/* 0: edge, rising */
	expect_cells(fdt, path, "interrupts", (const uint32_t[]){5, 0}, 2);
}

static void test_uart_node_sits_in_isa_io_space(void **state)
{
	const void *fdt = *state;
	const char *path = "/isa/serial@i3f8";
	uint32_t c[3];

	assert_string_equal(str_prop(fdt, path, "compatible"), "ns16550a");
	/* 1: I/O space */
	expect_cells(fdt, path, "reg", (const uint32_t[]){1, 0x3f8, 8}, 3);
	assert_int_equal(cells(fdt, path, "interrupts", c, 2), 2);
	assert_int_equal(c[0], 4);
}

static void test_other_hid_becomes_lowercase_compatible(void **state)
{
	const void *fdt = *state;
	const char *path = "/device@c0002000";
	uint32_t c[2];

	assert_string_equal(str_prop(fdt, path, "compatible"), "acpi0013");
	cells(fdt, path, "interrupts", c, 2);
	assert_int_equal(c[0], 6);
	assert_int_equal(c[1], 2); /* level, high */
}

static void test_build_rejects_bad_devices_and_zero_cpus(void **state)
{
	static const struct mvm_dsdt_device bad = {.hid = "X", .gsi = -1};
	struct dtb_device d = {"x", &bad};
	struct dtb_input in = input;
	void *blob;
	size_t len;

	(void)state;
	in.devs = &d;
	in.ndevs = 1;
	assert_int_equal(dtb_build(&in, &blob, &len), -EINVAL);
	assert_null(blob);
	in = input;
	in.ncpus = 0;
	assert_int_equal(dtb_build(&in, &blob, &len), -EINVAL);
}

static void test_many_devices_grow_the_buffer(void **state)
{
	enum { N = 200 };
	static struct mvm_dsdt_device many[N];
	static struct dtb_device dd[N];
	struct dtb_input in = input;
	void *blob;
	size_t len;
	char path[64];

	(void)state;
	for (int i = 0; i < N; i++) {
		many[i] = virtio0;
		many[i].mmio_base = 0xc0001000 + 0x1000ULL * i;
		dd[i].node_name = "virtio_mmio";
		dd[i].d = &many[i];
	}
	in.devs = dd;
	in.ndevs = N;
	assert_int_equal(dtb_build(&in, &blob, &len), 0);
	assert_true(len > 4096);
	assert_int_equal(fdt_check_header(blob), 0);
	snprintf(path, sizeof(path), "/virtio_mmio@%x",
		 0xc0001000 + 0x1000 * (N - 1));
	assert_true(fdt_path_offset(blob, path) >= 0);
	free(blob);
}

static void test_write_file_then_dtc_decodes_it(void **state)
{
	char dir[] = "/tmp/modvmm-dtb-XXXXXX", path[64], cmd[256];
	FILE *f;
	char buf[256];
	int found = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/machine.dtb", dir);
	assert_int_equal(dtb_write_file(&input, path), 0);
	if (system("dtc --version >/dev/null 2>&1") != 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		assert_int_equal(system(cmd), 0);
		fprintf(stderr,
			"\n*** SKIPPED: dtc not found. Install "
			"device-tree-compiler to decode the DTB. ***\n\n");
		skip();
	}
	snprintf(cmd, sizeof(cmd),
		 "dtc -I dtb -O dts -o '%s/machine.dts' '%s' 2>'%s/dtc.log'",
		 dir, path, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/dtc.log", dir);
	f = fopen(cmd, "r");
	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f))
		fail_msg("dtc said: %s", buf);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s/machine.dts", dir);
	f = fopen(cmd, "r");
	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f))
		found |= strstr(buf, "compatible = \"virtio,mmio\"") != NULL;
	fclose(f);
	assert_true(found);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_blob_passes_fdt_check_header, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_root_has_two_cell_addresses_and_compatible, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_chosen_carries_the_command_line, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_memory_nodes_cover_both_sides_of_the_hole, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_cpus_has_one_node_per_cpu,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_ioapic_is_the_root_interrupt_parent, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_virtio_node_has_reg_and_edge_interrupt, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_uart_node_sits_in_isa_io_space, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_other_hid_becomes_lowercase_compatible, setup,
			teardown),
		cmocka_unit_test(test_build_rejects_bad_devices_and_zero_cpus),
		cmocka_unit_test(test_many_devices_grow_the_buffer),
		cmocka_unit_test(test_write_file_then_dtc_decodes_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
