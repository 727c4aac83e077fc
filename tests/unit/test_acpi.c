/* ACPI tables (core/boot/acpi.c), checked by hand and by `iasl -d`. */
#include <errno.h>
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

#include "boot/acpi.h"
#include "boot/aml.h"
#include "layout.h"

#define GPA LAYOUT_ACPI_ADDR

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* Tables for `ncpus` CPUs with one virtio-mmio device and one 16550. */
static void build(unsigned ncpus, struct acpi_blob *blob)
{
	struct mvm_dsdt_device v = {.hid = "LNRO0005",
				    .mmio_base = 0xc0001000,
				    .mmio_size = 0x1000,
				    .gsi = 5};
	struct mvm_dsdt_device u = {
		.hid = "PNP0501", .io_base = 0x3f8, .io_size = 8, .gsi = 4};
	struct aml_buf aml = {0};
	struct acpi_input in = {.ncpus = ncpus};

	assert_int_equal(aml_append_device(&aml, "V000", &v), 0);
	assert_int_equal(aml_append_device(&aml, "COM1", &u), 0);
	in.sb_aml = aml.data;
	in.sb_aml_len = aml.len;
	assert_int_equal(acpi_build(&in, GPA, LAYOUT_ACPI_SIZE, blob), 0);
	aml_buf_free(&aml);
}

/* The table with signature `sig` (checked against the blob's own list
 * and against the bytes). */
static const uint8_t *table(const struct acpi_blob *b, const char *sig)
{
	for (size_t i = 0; i < b->ntables; i++) {
		if (!strcmp(b->tables[i].sig, sig)) {
			const uint8_t *t = b->data + b->tables[i].off;

			assert_true(b->tables[i].off + b->tables[i].len <=
				    b->len);
			if (strcmp(sig, "RSDP"))
				assert_memory_equal(t, sig, 4);
			return t;
		}
	}
	fail_msg("no %s table", sig);
	return NULL;
}

/* Guest address -> pointer into the blob. */
static const uint8_t *at(const struct acpi_blob *b, uint64_t gpa)
{
	assert_true(gpa >= b->gpa && gpa < b->gpa + b->len);
	return b->data + (gpa - b->gpa);
}

/* The tables of a one-vCPU machine, in *state. */
static int blob_setup(void **state)
{
	struct acpi_blob *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	build(1, b);
	*state = b;
	return 0;
}

static int blob_teardown(void **state)
{
	acpi_blob_free(*state);
	free(*state);
	return 0;
}

static void
test_rsdp_is_revision_2_at_blob_start_with_both_checksums(void **state)
{
	struct acpi_blob *b = *state;
	const uint8_t *r;

	r = table(b, "RSDP");
	assert_ptr_equal(r, b->data);
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(r[15], 2);
	assert_int_equal(rd32(r + 16), 0); /* no RSDT */
	assert_int_equal(rd32(r + 20), 36);
	assert_int_equal(sum(r, 20), 0);
	assert_int_equal(sum(r, 36), 0);
	assert_memory_equal(at(b, rd64(r + 24)), "XSDT", 4);
}

static void test_every_sdt_checksum_is_zero_and_length_matches(void **state)
{
	static const char *sigs[] = {"XSDT", "FACP", "APIC", "DSDT"};
	struct acpi_blob b;

	(void)state;
	build(4, &b);
	assert_int_equal(b.ntables, 5);
	for (size_t i = 0; i < 4; i++) {
		const uint8_t *t = table(&b, sigs[i]);
		uint32_t len = rd32(t + 4);

		assert_int_equal(len, b.tables[i + 1].len);
		assert_int_equal(sum(t, len), 0);
		assert_memory_equal(t + 10, "MODVMM", 6);
		assert_memory_equal(t + 16, "MODVMMVM", 8);
		assert_int_equal(rd32(t + 24), 1);
		assert_memory_equal(t + 28, "MVMM", 4);
		assert_int_equal(rd32(t + 32), 1);
	}
	acpi_blob_free(&b);
}

static void test_xsdt_lists_fadt_then_madt(void **state)
{
	struct acpi_blob *b = *state;
	const uint8_t *x;

	x = table(b, "XSDT");
	assert_int_equal(rd32(x + 4), 36 + 16);
	assert_memory_equal(at(b, rd64(x + 36)), "FACP", 4);
	assert_memory_equal(at(b, rd64(x + 44)), "APIC", 4);
}

/* A Generic Address Structure (ACPI 6.3, 5.2.3.2) naming the 8-bit I/O
 * port `port`: SystemIO, 8 bits wide, byte access. */
static void expect_gas_io8(const uint8_t *gas, uint64_t port)
{
	assert_int_equal(gas[0], 1); /* SystemIO */
	assert_int_equal(gas[1], 8);
	assert_int_equal(gas[3], 1);
	assert_int_equal(rd64(gas + 4), port);
}

static void test_fadt_is_revision_6_hw_reduced_with_reset_reg(void **state)
{
	struct acpi_blob *b = *state;
	const uint8_t *f;
	uint32_t flags;

	f = table(b, "FACP");
	assert_int_equal(rd32(f + 4), 276);
	assert_int_equal(f[8], 6);
	flags = rd32(f + 112);
	assert_true(flags & (1u << 20)); /* HW_REDUCED_ACPI */
	assert_true(flags & (1u << 10)); /* RESET_REG_SUP */
	/* RESET_REG: SystemIO, 8 bits, byte access, the reset port. */
	expect_gas_io8(f + 116, LAYOUT_ACPI_RESET_PORT);
	assert_int_equal(f[128], LAYOUT_ACPI_RESET_VALUE);
	assert_memory_equal(f + 268, "MODVMM  ", 8);
}

static void test_fadt_sleep_registers_are_8bit_io_ports(void **state)
{
	struct acpi_blob *b = *state;
	const uint8_t *f;

	f = table(b, "FACP");
	expect_gas_io8(f + 0xf4, LAYOUT_ACPI_SLEEP_CTL_PORT);
	assert_int_equal(f[0xf6], 0);
	expect_gas_io8(f + 0x100, LAYOUT_ACPI_SLEEP_STS_PORT);
}

static void test_fadt_points_both_dsdt_fields_at_the_dsdt(void **state)
{
	struct acpi_blob *b = *state;
	const uint8_t *f;

	f = table(b, "FACP");
	assert_int_equal(rd64(f + 140), rd32(f + 40));
	assert_ptr_equal(at(b, rd64(f + 140)), table(b, "DSDT"));
}

/* Counts enabled Processor Local APIC entries; checks ids are 0..n-1. */
static unsigned enabled_lapics(const uint8_t *m)
{
	uint32_t len = rd32(m + 4);
	unsigned n = 0;

	for (uint32_t off = 44; off < len; off += m[off + 1]) {
		assert_true(m[off + 1] >= 2);
		if (m[off] == 0 && (rd32(m + off + 4) & 1)) {
			assert_int_equal(m[off + 3], n);
			n++;
		}
	}
	return n;
}

static void test_madt_has_one_enabled_lapic_per_cpu(void **state)
{
	static const unsigned counts[] = {1, 4};
	struct acpi_blob b;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		build(counts[i], &b);
		assert_int_equal(enabled_lapics(table(&b, "APIC")), counts[i]);
		acpi_blob_free(&b);
	}
}

static void test_madt_has_ioapic_irq0_override_and_lint1_nmi(void **state)
{
	struct acpi_blob b;
	const uint8_t *m;
	int ioapic = 0, iso = 0, nmi = 0;

	(void)state;
	build(2, &b);
	m = table(&b, "APIC");
	assert_int_equal(rd32(m + 36), LAYOUT_LAPIC_ADDR);
	assert_int_equal(rd32(m + 40) & 1, 1); /* PCAT_COMPAT */
	for (uint32_t off = 44; off < rd32(m + 4); off += m[off + 1]) {
		const uint8_t *e = m + off;

		if (e[0] == 1) {
			ioapic++;
			assert_int_equal(e[1], 12);
			assert_int_equal(rd32(e + 4), LAYOUT_IOAPIC_ADDR);
			assert_int_equal(rd32(e + 8), 0);
		} else if (e[0] == 2) {
			iso++;
			assert_int_equal(e[1], 10);
			assert_int_equal(e[3], 0);
			assert_int_equal(rd32(e + 4), 2);
			assert_int_equal(rd16(e + 8), 0); /* edge, high */
		} else if (e[0] == 4) {
			nmi++;
			assert_int_equal(e[1], 6);
			assert_int_equal(e[2], 0xff);
			assert_int_equal(rd16(e + 3), 0);
			assert_int_equal(e[5], 1);
		}
	}
	assert_int_equal(ioapic, 1);
	assert_int_equal(iso, 1);
	assert_int_equal(nmi, 1);
	acpi_blob_free(&b);
}

static void test_dsdt_holds_s5_and_the_devices_under_sb(void **state)
{
	struct acpi_blob *b = *state;
	const uint8_t *d;
	size_t len;
	int s5 = 0, lnro = 0;

	d = table(b, "DSDT");
	len = rd32(d + 4);
	assert_int_equal(d[8], 2);
	for (size_t i = 36; i + 8 <= len; i++) {
		s5 |= !memcmp(d + i, "\\_S5_", 5);
		lnro |= !memcmp(d + i, "LNRO0005", 8);
	}
	assert_true(s5);
	assert_true(lnro);
}

static void test_build_returns_enospc_when_tables_do_not_fit(void **state)
{
	struct acpi_blob b;
	struct acpi_input in = {.ncpus = 1};

	(void)state;
	assert_int_equal(acpi_build(&in, GPA, 256, &b), -ENOSPC);
	assert_null(b.data);
	assert_int_equal(acpi_build(&in, GPA, LAYOUT_ACPI_SIZE, &b), 0);
	acpi_blob_free(&b);
}

static void test_build_rejects_zero_or_too_many_cpus(void **state)
{
	struct acpi_blob b;
	struct acpi_input in = {.ncpus = 0};

	(void)state;
	assert_int_equal(acpi_build(&in, GPA, LAYOUT_ACPI_SIZE, &b), -EINVAL);
	in.ncpus = ACPI_MAX_CPUS + 1;
	assert_int_equal(acpi_build(&in, GPA, LAYOUT_ACPI_SIZE, &b), -EINVAL);
	in.ncpus = ACPI_MAX_CPUS;
	assert_int_equal(acpi_build(&in, GPA, LAYOUT_ACPI_SIZE, &b), 0);
	assert_int_equal(enabled_lapics(table(&b, "APIC")), ACPI_MAX_CPUS);
	acpi_blob_free(&b);
}

/* ---- iasl -d on the dumped tables ---- */

static int have_iasl(void)
{
	return system("iasl -v >/dev/null 2>&1") == 0;
}

static void skip_without_iasl(void)
{
	if (!have_iasl()) {
		fprintf(stderr,
			"\n*** SKIPPED: iasl not found. Install acpica-tools "
			"to check the ACPI tables with `iasl -d`. ***\n\n");
		skip();
	}
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

/* Fails on any line of `text` that mentions Error or Warning. */
static void assert_no_diagnostics(const char *what, const char *text)
{
	const char *line = text;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		char buf[512];

		snprintf(buf, sizeof(buf), "%.*s", (int)n, line);
		if (strstr(buf, "Error") || strstr(buf, "Warning")) {
			/* iasl's summary line reports zero counts. */
			if (!strstr(buf, "0 Errors") &&
			    !strstr(buf, "0 Warnings"))
				fail_msg("%s: %s", what, buf);
		}
		line = end ? end + 1 : NULL;
	}
}

struct dump {
	char dir[64];
};

static int dump_setup(void **state)
{
	struct dump *d = calloc(1, sizeof(*d));
	struct acpi_blob b;
	char sub[128];

	if (!d)
		return -1;
	snprintf(d->dir, sizeof(d->dir), "/tmp/modvmm-acpi-XXXXXX");
	if (!mkdtemp(d->dir))
		return -1;
	build(2, &b);
	/* acpi_dump creates missing directories itself. */
	snprintf(sub, sizeof(sub), "%s/tables", d->dir);
	if (acpi_dump(&b, sub))
		return -1;
	acpi_blob_free(&b);
	*state = d;
	return 0;
}

static int dump_teardown(void **state)
{
	struct dump *d = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", d->dir);
	free(d);
	return 0;
}

/* Runs the shell command `fmt` in the dump's tables folder; its status. */
static int in_tables(const struct dump *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int in_tables(const struct dump *d, const char *fmt, ...)
{
	char line[400], cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "cd '%s/tables' && %s", d->dir, line);
	return system(cmd);
}

/* The text of the file `fmt` names in the dump's tables folder (free it);
 * its path in path[256]. */
static char *table_text(const struct dump *d, char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static char *table_text(const struct dump *d, char *path, const char *fmt, ...)
{
	char name[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	snprintf(path, 256, "%s/tables/%s", d->dir, name);
	return read_text(path);
}

static void test_dump_writes_one_dat_file_per_table(void **state)
{
	static const char *names[] = {"rsdp", "xsdt", "facp", "apic", "dsdt"};
	struct dump *d = *state;
	char path[256];
	struct stat st;

	for (size_t i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "%s/tables/%s.dat", d->dir,
			 names[i]);
		assert_int_equal(stat(path, &st), 0);
		assert_true(st.st_size >= 36);
	}
}

/*
 * rsdp.dat is left out: iasl (ACPICA's AcValidateTableHeader) reads bytes
 * 4..7 of any binary input as a table length, which for "RSD PTR " is
 * 0x52545020, so no standalone RSDP file decodes. The RSDP is checked
 * field by field above instead.
 */
static void test_iasl_decompiles_every_sdt_cleanly(void **state)
{
	static const char *names[] = {"xsdt", "facp", "apic", "dsdt"};
	struct dump *d = *state;

	skip_without_iasl();
	for (size_t i = 0; i < 4; i++) {
		char path[256], *text;

		if (in_tables(d, "iasl -d %s.dat >%s.log 2>&1", names[i],
			      names[i]) != 0) {
			text = table_text(d, path, "%s.log", names[i]);
			fail_msg("iasl -d %s.dat failed:\n%s", names[i], text);
		}
		text = table_text(d, path, "%s.log", names[i]);
		assert_no_diagnostics(path, text);
		free(text);
		text = table_text(d, path, "%s.dsl", names[i]);
		assert_no_diagnostics(path, text);
		free(text);
	}
}

static void test_iasl_dsdt_shows_lnro0005_and_s5(void **state)
{
	struct dump *d = *state;
	char path[256], *text;

	skip_without_iasl();
	assert_int_equal(in_tables(d, "iasl -d dsdt.dat >/dev/null 2>&1"), 0);
	text = table_text(d, path, "dsdt.dsl");
	assert_non_null(strstr(text, "\"LNRO0005\""));
	assert_non_null(strstr(text, "_S5"));
	assert_non_null(strstr(text, "EisaId (\"PNP0501\")"));
	assert_non_null(strstr(text, "Memory32Fixed (ReadWrite,"));
	free(text);
}

static void test_iasl_recompiles_the_decompiled_dsdt(void **state)
{
	struct dump *d = *state;
	char path[256], *text;

	skip_without_iasl();
	assert_int_equal(in_tables(d, "iasl -d dsdt.dat >/dev/null 2>&1 && "
				      "iasl dsdt.dsl >compile.log 2>&1"),
			 0);
	text = table_text(d, path, "compile.log");
	assert_non_null(strstr(text, "0 Errors, 0 Warnings"));
	free(text);
}

static void test_dump_fails_with_errno_on_unwritable_dir(void **state)
{
	struct acpi_blob b;

	(void)state;
	build(1, &b);
	assert_int_equal(acpi_dump(&b, "/proc/modvmm-no-such/dir"), -ENOENT);
	acpi_blob_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_rsdp_is_revision_2_at_blob_start_with_both_checksums,
			blob_setup, blob_teardown),
		cmocka_unit_test(
			test_every_sdt_checksum_is_zero_and_length_matches),
		cmocka_unit_test_setup_teardown(test_xsdt_lists_fadt_then_madt,
						blob_setup, blob_teardown),
		cmocka_unit_test_setup_teardown(
			test_fadt_is_revision_6_hw_reduced_with_reset_reg,
			blob_setup, blob_teardown),
		cmocka_unit_test_setup_teardown(
			test_fadt_sleep_registers_are_8bit_io_ports, blob_setup,
			blob_teardown),
		cmocka_unit_test_setup_teardown(
			test_fadt_points_both_dsdt_fields_at_the_dsdt,
			blob_setup, blob_teardown),
		cmocka_unit_test(test_madt_has_one_enabled_lapic_per_cpu),
		cmocka_unit_test(
			test_madt_has_ioapic_irq0_override_and_lint1_nmi),
		cmocka_unit_test_setup_teardown(
			test_dsdt_holds_s5_and_the_devices_under_sb, blob_setup,
			blob_teardown),
		cmocka_unit_test(
			test_build_returns_enospc_when_tables_do_not_fit),
		cmocka_unit_test(test_build_rejects_zero_or_too_many_cpus),
		cmocka_unit_test_setup_teardown(
			test_dump_writes_one_dat_file_per_table, dump_setup,
			dump_teardown),
		cmocka_unit_test_setup_teardown(
			test_iasl_decompiles_every_sdt_cleanly, dump_setup,
			dump_teardown),
		cmocka_unit_test_setup_teardown(
			test_iasl_dsdt_shows_lnro0005_and_s5, dump_setup,
			dump_teardown),
		cmocka_unit_test_setup_teardown(
			test_iasl_recompiles_the_decompiled_dsdt, dump_setup,
			dump_teardown),
		cmocka_unit_test(test_dump_fails_with_errno_on_unwritable_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
