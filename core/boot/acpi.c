/*
 * ACPI table builder. Tables follow ACPI 6.3: FADT revision 6 (minor 3,
 * 276 bytes, hardware-reduced), MADT revision 5, DSDT revision 2 (64-bit
 * integers). Everything is written byte by byte in little-endian order, so
 * the blob is exactly what the guest reads.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/acpi.h"
#include "boot/aml.h"
#include "layout.h"

#define OEM_ID "MODVMM"
#define OEM_TABLE_ID "MODVMMVM"
#define OEM_REVISION 1
#define CREATOR_ID "MVMM"
#define CREATOR_REVISION 1
#define HYPERVISOR_VENDOR "MODVMM  "

#define RSDP_LEN 36
#define SDT_HEADER_LEN 36
#define FADT_LEN 276
#define FADT_REVISION 6
#define FADT_MINOR 3
#define MADT_REVISION 5
#define XSDT_ENTRIES 2

/* FADT offsets (ACPI 6.3, table 5-34). */
#define FADT_DSDT 40
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_MINOR_VERSION 131
#define FADT_X_DSDT 140
#define FADT_SLEEP_CONTROL_REG 244
#define FADT_SLEEP_STATUS_REG 256
#define FADT_HYPERVISOR_ID 268

#define FADT_F_RESET_REG_SUP (1u << 10)
#define FADT_F_HW_REDUCED_ACPI (1u << 20)
#define IAPC_VGA_NOT_PRESENT (1u << 2)
#define IAPC_MSI_NOT_SUPPORTED (1u << 3)
/* No CMOS RTC is emulated: tell the guest not to poke ports 0x70/0x71. */
#define IAPC_CMOS_RTC_NOT_PRESENT (1u << 5)

#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1

#define MADT_PCAT_COMPAT 1u
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_ISO 2
#define MADT_LAPIC_NMI 4
#define MADT_LAPIC_LEN 8
#define MADT_IOAPIC_LEN 12
#define MADT_ISO_LEN 10
#define MADT_LAPIC_NMI_LEN 6
#define MADT_IOAPIC_ID 0 /* what KVM's in-kernel IOAPIC reports */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += p[i];
	return (uint8_t)-sum;
}

static size_t align16(size_t v)
{
	return (v + 15) & ~(size_t)15;
}

static void sdt_header(uint8_t *t, const char sig[4], uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	put32(t + 24, OEM_REVISION);
	memcpy(t + 28, CREATOR_ID, 4);
	put32(t + 32, CREATOR_REVISION);
}

static void sdt_finish(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = checksum(t, len);
}

/* Generic Address Structure for an 8-bit I/O port. */
static void gas_io8(uint8_t *p, uint16_t port)
{
	p[0] = GAS_SYSTEM_IO;
	p[1] = 8; /* bit width */
	p[2] = 0; /* bit offset */
	p[3] = GAS_ACCESS_BYTE;
	put64(p + 4, port);
}

static void build_rsdp(uint8_t *p, uint64_t xsdt_gpa)
{
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, OEM_ID, 6);
	p[15] = 2;        /* revision: ACPI 2.0+ */
	put32(p + 16, 0); /* no RSDT */
	put32(p + 20, RSDP_LEN);
	put64(p + 24, xsdt_gpa);
	p[8] = checksum(p, 20);
	p[32] = checksum(p, RSDP_LEN);
}

static void build_xsdt(uint8_t *t, uint32_t len, const uint64_t *entries,
		       size_t n)
{
	sdt_header(t, "XSDT", len, 1);
	for (size_t i = 0; i < n; i++)
		put64(t + SDT_HEADER_LEN + 8 * i, entries[i]);
	sdt_finish(t, len);
}

static void build_fadt(uint8_t *t, uint64_t dsdt_gpa)
{
	sdt_header(t, "FACP", FADT_LEN, FADT_REVISION);
	put32(t + FADT_DSDT, dsdt_gpa < LAYOUT_4G ? (uint32_t)dsdt_gpa : 0);
	put16(t + FADT_IAPC_BOOT_ARCH, IAPC_VGA_NOT_PRESENT |
					       IAPC_MSI_NOT_SUPPORTED |
					       IAPC_CMOS_RTC_NOT_PRESENT);
	put32(t + FADT_FLAGS, FADT_F_HW_REDUCED_ACPI | FADT_F_RESET_REG_SUP);
	gas_io8(t + FADT_RESET_REG, LAYOUT_ACPI_RESET_PORT);
	t[FADT_RESET_VALUE] = LAYOUT_ACPI_RESET_VALUE;
	t[FADT_MINOR_VERSION] = FADT_MINOR;
	put64(t + FADT_X_DSDT, dsdt_gpa);
	gas_io8(t + FADT_SLEEP_CONTROL_REG, LAYOUT_ACPI_SLEEP_CTL_PORT);
	gas_io8(t + FADT_SLEEP_STATUS_REG, LAYOUT_ACPI_SLEEP_STS_PORT);
	memcpy(t + FADT_HYPERVISOR_ID, HYPERVISOR_VENDOR, 8);
	sdt_finish(t, FADT_LEN);
}

static size_t madt_len(unsigned ncpus)
{
	return SDT_HEADER_LEN + 8 + (size_t)ncpus * MADT_LAPIC_LEN +
	       MADT_IOAPIC_LEN + MADT_ISO_LEN + MADT_LAPIC_NMI_LEN;
}

static void build_madt(uint8_t *t, unsigned ncpus)
{
	uint32_t len = (uint32_t)madt_len(ncpus);
	uint8_t *e = t + SDT_HEADER_LEN + 8;

	sdt_header(t, "APIC", len, MADT_REVISION);
	put32(t + 36, (uint32_t)LAYOUT_LAPIC_ADDR);
	/* KVM's in-kernel irqchip includes the two 8259s. */
	put32(t + 40, MADT_PCAT_COMPAT);
	for (unsigned i = 0; i < ncpus; i++, e += MADT_LAPIC_LEN) {
		e[0] = MADT_LAPIC;
		e[1] = MADT_LAPIC_LEN;
		e[2] = (uint8_t)i; /* ACPI processor UID */
		e[3] = (uint8_t)i; /* APIC id */
		put32(e + 4, 1);   /* enabled */
	}
	e[0] = MADT_IOAPIC;
	e[1] = MADT_IOAPIC_LEN;
	e[2] = MADT_IOAPIC_ID;
	put32(e + 4, (uint32_t)LAYOUT_IOAPIC_ADDR);
	put32(e + 8, 0); /* GSI base */
	e += MADT_IOAPIC_LEN;
	/* The PIT's IRQ0 arrives on IOAPIC pin 2, as on real PCs. */
	e[0] = MADT_ISO;
	e[1] = MADT_ISO_LEN;
	e[2] = 0; /* ISA */
	e[3] = 0; /* IRQ0 */
	put32(e + 4, 2);
	put16(e + 8, 0); /* conforms to the bus: edge, active high */
	e += MADT_ISO_LEN;
	e[0] = MADT_LAPIC_NMI;
	e[1] = MADT_LAPIC_NMI_LEN;
	e[2] = 0xff;     /* all processors */
	put16(e + 3, 0); /* conforms to the bus */
	e[5] = 1;        /* LINT1 */
	sdt_finish(t, len);
}

static int build_dsdt_aml(const struct acpi_input *in, struct aml_buf *aml)
{
	int ret = aml_append_sleep_state(aml, "_S5_", LAYOUT_ACPI_S5_TYPE);

	if (!ret)
		ret = aml_append_scope(aml, "\\_SB_", in->sb_aml,
				       in->sb_aml_len);
	return ret;
}

int acpi_build(const struct acpi_input *in, uint64_t gpa, size_t max_len,
	       struct acpi_blob *out)
{
	struct aml_buf aml = {0};
	size_t off_xsdt, off_fadt, off_madt, off_dsdt, len_xsdt, len_madt,
		len_dsdt, total;
	uint64_t entries[XSDT_ENTRIES];
	uint8_t *p;
	int ret;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!in || in->ncpus == 0 || in->ncpus > ACPI_MAX_CPUS ||
	    (in->sb_aml_len && !in->sb_aml) || (gpa & 15))
		return -EINVAL;

	ret = build_dsdt_aml(in, &aml);
	if (ret)
		goto out;
	len_xsdt = SDT_HEADER_LEN + 8 * XSDT_ENTRIES;
	len_madt = madt_len(in->ncpus);
	len_dsdt = SDT_HEADER_LEN + aml.len;
	off_xsdt = align16(RSDP_LEN);
	off_fadt = align16(off_xsdt + len_xsdt);
	off_madt = align16(off_fadt + FADT_LEN);
	off_dsdt = align16(off_madt + len_madt);
	total = off_dsdt + len_dsdt;
	if (total > max_len || len_dsdt > UINT32_MAX) {
		ret = -ENOSPC;
		goto out;
	}
	if (gpa + total < gpa) {
		ret = -EINVAL;
		goto out;
	}
	p = calloc(1, total);
	if (!p) {
		ret = -ENOMEM;
		goto out;
	}

	build_rsdp(p, gpa + off_xsdt);
	entries[0] = gpa + off_fadt;
	entries[1] = gpa + off_madt;
	build_xsdt(p + off_xsdt, (uint32_t)len_xsdt, entries, XSDT_ENTRIES);
	build_fadt(p + off_fadt, gpa + off_dsdt);
	build_madt(p + off_madt, in->ncpus);
	sdt_header(p + off_dsdt, "DSDT", (uint32_t)len_dsdt, 2);
	memcpy(p + off_dsdt + SDT_HEADER_LEN, aml.data, aml.len);
	sdt_finish(p + off_dsdt, (uint32_t)len_dsdt);

	out->data = p;
	out->len = total;
	out->gpa = gpa;
#define TABLE(s, o, l)                                                         \
	out->tables[out->ntables].sig = s;                                     \
	out->tables[out->ntables].off = o;                                     \
	out->tables[out->ntables].len = l;                                     \
	out->ntables++;
	TABLE("RSDP", 0, RSDP_LEN)
	TABLE("XSDT", off_xsdt, len_xsdt)
	TABLE("FACP", off_fadt, FADT_LEN)
	TABLE("APIC", off_madt, len_madt)
	TABLE("DSDT", off_dsdt, len_dsdt)
#undef TABLE
out:
	aml_buf_free(&aml);
	return ret;
}

void acpi_blob_free(struct acpi_blob *b)
{
	if (!b)
		return;
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* mkdir -p */
static int make_dirs(const char *dir)
{
	char path[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path))
		return n ? -ENAMETOOLONG : -EINVAL;
	memcpy(path, dir, n + 1);
	for (char *s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

static int write_file(const char *path, const uint8_t *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ret = 0;

	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		data += n;
		len -= (size_t)n;
	}
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

int acpi_dump(const struct acpi_blob *b, const char *dir)
{
	char path[PATH_MAX];
	int ret;

	if (!b || !b->data || !dir)
		return -EINVAL;
	ret = make_dirs(dir);
	if (ret)
		return ret;
	for (size_t i = 0; i < b->ntables; i++) {
		char name[5];
		size_t off = b->tables[i].off, len = b->tables[i].len;

		if (off > b->len || len > b->len - off)
			return -EINVAL;
		for (int j = 0; j < 4; j++)
			name[j] = (char)tolower(
				(unsigned char)b->tables[i].sig[j]);
		name[4] = '\0';
		if (snprintf(path, sizeof(path), "%s/%s.dat", dir, name) >=
		    (int)sizeof(path))
			return -ENAMETOOLONG;
		ret = write_file(path, b->data + off, len);
		if (ret)
			return ret;
	}
	return 0;
}
