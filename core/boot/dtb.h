/*
 * The machine as a flattened device tree (libfdt), for --dump-dtb: the same
 * RAM, CPUs, interrupt controllers and plugin devices the ACPI tables
 * describe. x86 guests boot from ACPI; the tree is for inspection and for
 * tools that want a DT view of the machine.
 *
 * Devices with an MMIO window sit under the root ("virtio,mmio" for
 * LNRO0005). Port-I/O-only devices sit under /isa, whose children use the
 * ISA binding's two-cell addresses (<1 port> for I/O space), e.g.
 * /isa/serial@i3f8 with compatible "ns16550a" for PNP0501. Interrupts are
 * <gsi type> on the IOAPIC node (type 0 edge rising, 2 level high).
 */
#ifndef MODVMM_CORE_DTB_H
#define MODVMM_CORE_DTB_H

#include <stddef.h>

#include <modvmm/plugin.h>

#include "layout.h"

struct dtb_device {
	/* Node name without unit address ("virtio_mmio", "serial"); the
	 * unit address is appended. A name that has an '@' is used as is. */
	const char *node_name;
	const struct mvm_dsdt_device *d;
};

struct dtb_input {
	unsigned ncpus;
	const struct mem_region *ram;
	size_t nram;
	const char *cmdline; /* NULL for none */
	const struct dtb_device *devs;
	size_t ndevs;
};

/* Build the tree into a malloc'd blob (free() it). 0, -EINVAL (bad input,
 * e.g. a device aml_check_device rejects) or -ENOMEM. */
int dtb_build(const struct dtb_input *in, void **blob, size_t *len);

/* Build the tree and write it to `path`. 0 or -errno. */
int dtb_write_file(const struct dtb_input *in, const char *path);

#endif
