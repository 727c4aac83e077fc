/*
 * What devices claim from the machine while they are created: interrupt
 * lines (GSIs), windows of the device MMIO hole, and the DSDT nodes and
 * raw AML the ACPI tables (and the device tree) are later built from.
 * Bookkeeping only, no KVM: the host table (plugin/host.c) checks who
 * asks and calls in here; machine.c reads the DSDT records back.
 */
#ifndef MODVMM_CORE_RESOURCES_H
#define MODVMM_CORE_RESOURCES_H

#include <stddef.h>
#include <stdint.h>

#include <modvmm/plugin.h>

/* A device node the core emits into the DSDT (and the DTB). */
struct dsdt_record {
	char name[5]; /* "D000", "D001", ... in the order devices added them */
	char hid[9];
	struct mvm_dsdt_device d; /* d.hid points at hid above */
};

struct resources {
	uint64_t mmio_next; /* next free byte of the device MMIO hole */
	uint32_t gsi_used;  /* bit n: GSI n claimed */
	struct dsdt_record *dsdt_recs;
	size_t ndsdt_recs;
	uint8_t *raw_aml; /* host->dsdt_add_aml terms, appended to \_SB */
	size_t raw_aml_len;
};

/* Empty: nothing claimed, the MMIO hole free from its start. */
void resources_init(struct resources *rs);
void resources_free(struct resources *rs);

/* A window of `len` bytes (a non-zero multiple of 4 KiB) from the device
 * MMIO hole, in the order asked. 0, -EINVAL, or -ENOSPC when the hole is
 * full. */
int resources_alloc_mmio(struct resources *rs, uint64_t len, uint64_t *base);

/* Claims GSI `gsi`, or with gsi < 0 the lowest free line that is neither
 * reserved nor the ACPI SCI. Returns the line, -EINVAL (out of range or
 * reserved), -EBUSY (claimed already) or -ENOSPC (none left). */
int resources_claim_gsi(struct resources *rs, int gsi);

/* Records a DSDT node (already checked by aml_check_device), named
 * "D%03X" by its position. 0, -ENOSPC past 0xfff nodes, or -ENOMEM. */
int resources_add_dsdt_device(struct resources *rs,
			      const struct mvm_dsdt_device *d);

/* Appends raw AML terms (1 to 65536 bytes). 0, -EINVAL or -ENOMEM. */
int resources_add_aml(struct resources *rs, const void *aml, size_t len);

#endif
