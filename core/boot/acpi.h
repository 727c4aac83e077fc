/*
 * ACPI tables for a modvmm machine: RSDP, XSDT, a hardware-reduced FADT
 * with sleep and reset registers, MADT (local APICs, the IOAPIC, IRQ0
 * override, LINT1 NMI) and a DSDT holding \_S5 and the devices' AML under
 * \_SB. boot.c builds the blob once every plugin has added its DSDT node,
 * copies it to guest RAM at LAYOUT_ACPI_ADDR and points the boot protocol
 * at the RSDP (the blob's first byte). --dump-acpi writes the tables out
 * for `iasl -d`.
 */
#ifndef MODVMM_CORE_ACPI_H
#define MODVMM_CORE_ACPI_H

#include <stddef.h>
#include <stdint.h>

/* Local APIC ids and ACPI processor UIDs are 8-bit in the MADT entries we
 * emit (ACPI 6.5, 5.2.12.2), and xAPIC id 0xff is the broadcast address:
 * ids 0..254, so 255 CPUs. */
#define ACPI_MAX_CPUS 255

struct acpi_input {
	unsigned ncpus;        /* local APIC ids 0..ncpus-1, all enabled */
	const uint8_t *sb_aml; /* device nodes to place in Scope(\_SB) */
	size_t sb_aml_len;
};

struct acpi_blob {
	uint8_t *data; /* malloc'd; copied by the caller to guest RAM at gpa */
	size_t len;
	uint64_t gpa; /* where the blob lives in the guest (LAYOUT_ACPI_ADDR) */
	struct {
		const char *sig; /* "RSDP", "XSDT", "FACP", "APIC", "DSDT" */
		size_t off, len; /* within data */
	} tables[8];
	size_t ntables;
};

/*
 * Build every table into one blob meant to live at guest-physical `gpa`
 * (16-byte aligned, below 4 GiB). Returns 0, -EINVAL (bad input),
 * -ENOSPC (more than `max_len` bytes) or -ENOMEM. On error *out is zeroed.
 */
int acpi_build(const struct acpi_input *in, uint64_t gpa, size_t max_len,
	       struct acpi_blob *out);

/* Free the blob's data and zero it. */
void acpi_blob_free(struct acpi_blob *b);

/*
 * Write each table to `dir` as <signature in lower case>.dat (rsdp.dat,
 * xsdt.dat, facp.dat, apic.dat, dsdt.dat), which `iasl -d` decodes.
 * Creates `dir` (and missing parents) if needed. 0 or -errno.
 */
int acpi_dump(const struct acpi_blob *b, const char *dir);

#endif
