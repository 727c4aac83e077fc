/*
 * Device tree builder on libfdt's sequential-write API. The buffer starts
 * small and doubles until the tree fits.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/aml.h"
#include "boot/dtb.h"

#define PHANDLE_IOAPIC 1
#define PHANDLE_LAPIC 2
#define UART_CLOCK_HZ 1843200
#define IRQ_TYPE_EDGE_RISING 0
#define IRQ_TYPE_LEVEL_HIGH 2
#define ISA_SPACE_IO 1

/* Return the first libfdt error (a negative FDT_ERR_*). */
#define TRY(expr)                                                              \
	do {                                                                   \
		int r_ = (expr);                                               \
		if (r_ < 0)                                                    \
			return r_;                                             \
	} while (0)

static int prop_cells(void *fdt, const char *name, const uint32_t *cells, int n)
{
	fdt32_t be[4];

	for (int i = 0; i < n; i++)
		be[i] = cpu_to_fdt32(cells[i]);
	return fdt_property(fdt, name, be, (int)(n * sizeof(fdt32_t)));
}

static int prop_reg64(void *fdt, uint64_t base, uint64_t size)
{
	uint32_t c[4] = {(uint32_t)(base >> 32), (uint32_t)base,
			 (uint32_t)(size >> 32), (uint32_t)size};

	return prop_cells(fdt, "reg", c, 4);
}

static int irq_controller(void *fdt, const char *compat, uint64_t base,
			  uint32_t phandle)
{
	char name[64];

	snprintf(name, sizeof(name), "interrupt-controller@%llx",
		 (unsigned long long)base);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "compatible", compat));
	TRY(prop_reg64(fdt, base, 0x1000));
	TRY(fdt_property(fdt, "interrupt-controller", NULL, 0));
	TRY(fdt_property_u32(fdt, "#interrupt-cells", 2));
	TRY(fdt_property_u32(fdt, "#address-cells", 0));
	TRY(fdt_property_u32(fdt, "phandle", phandle));
	return fdt_end_node(fdt);
}

static const char *default_node_name(const struct mvm_dsdt_device *d)
{
	if (!strcmp(d->hid, "LNRO0005"))
		return "virtio_mmio";
	if (!strcmp(d->hid, "PNP0501"))
		return "serial";
	return "device";
}

/* One device node; `isa` says it sits under /isa (port I/O only). */
static int device_node(void *fdt, const struct dtb_device *dev, int isa)
{
	const struct mvm_dsdt_device *d = dev->d;
	const char *base =
		dev->node_name ? dev->node_name : default_node_name(d);
	char name[128], compat[16];
	size_t i;

	if (strchr(base, '@') || (!d->mmio_size && !d->io_size))
		snprintf(name, sizeof(name), "%s", base);
	else if (isa)
		snprintf(name, sizeof(name), "%s@i%x", base, d->io_base);
	else
		snprintf(name, sizeof(name), "%s@%llx", base,
			 (unsigned long long)d->mmio_base);
	TRY(fdt_begin_node(fdt, name));

	if (!strcmp(d->hid, "LNRO0005")) {
		TRY(fdt_property_string(fdt, "compatible", "virtio,mmio"));
	} else if (!strcmp(d->hid, "PNP0501")) {
		TRY(fdt_property_string(fdt, "compatible", "ns16550a"));
		TRY(fdt_property_u32(fdt, "clock-frequency", UART_CLOCK_HZ));
	} else {
		for (i = 0; d->hid[i] && i < sizeof(compat) - 1; i++)
			compat[i] = (char)tolower((unsigned char)d->hid[i]);
		compat[i] = '\0';
		TRY(fdt_property_string(fdt, "compatible", compat));
	}
	if (isa) {
		uint32_t c[3] = {ISA_SPACE_IO, d->io_base, d->io_size};

		TRY(prop_cells(fdt, "reg", c, 3));
	} else if (d->mmio_size) {
		TRY(prop_reg64(fdt, d->mmio_base, d->mmio_size));
	}
	if (d->gsi >= 0) {
		uint32_t c[2] = {(uint32_t)d->gsi,
				 d->level_triggered ? IRQ_TYPE_LEVEL_HIGH
						    : IRQ_TYPE_EDGE_RISING};

		TRY(prop_cells(fdt, "interrupts", c, 2));
	}
	return fdt_end_node(fdt);
}

static int build_tree(void *fdt, size_t size, const struct dtb_input *in)
{
	char name[64];
	int have_isa = 0;

	TRY(fdt_create(fdt, (int)size));
	TRY(fdt_finish_reservemap(fdt));
	TRY(fdt_begin_node(fdt, ""));
	TRY(fdt_property_u32(fdt, "#address-cells", 2));
	TRY(fdt_property_u32(fdt, "#size-cells", 2));
	TRY(fdt_property_string(fdt, "compatible", "modvmm,x86-64"));
	TRY(fdt_property_string(fdt, "model", "modvmm"));
	TRY(fdt_property_u32(fdt, "interrupt-parent", PHANDLE_IOAPIC));

	TRY(fdt_begin_node(fdt, "chosen"));
	TRY(fdt_property_string(fdt, "bootargs",
				in->cmdline ? in->cmdline : ""));
	TRY(fdt_end_node(fdt));

	for (size_t i = 0; i < in->nram; i++) {
		snprintf(name, sizeof(name), "memory@%llx",
			 (unsigned long long)in->ram[i].gpa);
		TRY(fdt_begin_node(fdt, name));
		TRY(fdt_property_string(fdt, "device_type", "memory"));
		TRY(prop_reg64(fdt, in->ram[i].gpa, in->ram[i].size));
		TRY(fdt_end_node(fdt));
	}

	TRY(fdt_begin_node(fdt, "cpus"));
	TRY(fdt_property_u32(fdt, "#address-cells", 1));
	TRY(fdt_property_u32(fdt, "#size-cells", 0));
	for (unsigned i = 0; i < in->ncpus; i++) {
		snprintf(name, sizeof(name), "cpu@%x", i);
		TRY(fdt_begin_node(fdt, name));
		TRY(fdt_property_string(fdt, "device_type", "cpu"));
		TRY(fdt_property_u32(fdt, "reg", i)); /* local APIC id */
		TRY(fdt_end_node(fdt));
	}
	TRY(fdt_end_node(fdt));

	TRY(irq_controller(fdt, "intel,ce4100-ioapic", LAYOUT_IOAPIC_ADDR,
			   PHANDLE_IOAPIC));
	TRY(irq_controller(fdt, "intel,ce4100-lapic", LAYOUT_LAPIC_ADDR,
			   PHANDLE_LAPIC));

	for (size_t i = 0; i < in->ndevs; i++) {
		const struct mvm_dsdt_device *d = in->devs[i].d;

		if (!d->mmio_size && d->io_size)
			have_isa = 1;
		else
			TRY(device_node(fdt, &in->devs[i], 0));
	}
	if (have_isa) {
		/* Port I/O has no CPU address: no `ranges`, ISA binding. */
		TRY(fdt_begin_node(fdt, "isa"));
		TRY(fdt_property_string(fdt, "compatible", "isa"));
		TRY(fdt_property_u32(fdt, "#address-cells", 2));
		TRY(fdt_property_u32(fdt, "#size-cells", 1));
		for (size_t i = 0; i < in->ndevs; i++) {
			const struct mvm_dsdt_device *d = in->devs[i].d;

			if (!d->mmio_size && d->io_size)
				TRY(device_node(fdt, &in->devs[i], 1));
		}
		TRY(fdt_end_node(fdt));
	}

	TRY(fdt_end_node(fdt));
	return fdt_finish(fdt);
}

static int check_input(const struct dtb_input *in)
{
	if (!in || in->ncpus == 0 || (in->nram && !in->ram) ||
	    (in->ndevs && !in->devs))
		return -EINVAL;
	for (size_t i = 0; i < in->ndevs; i++) {
		const char *n = in->devs[i].node_name;

		if (aml_check_device(in->devs[i].d))
			return -EINVAL;
		if (n && (!*n || strlen(n) > 60 || strchr(n, '/')))
			return -EINVAL;
	}
	return 0;
}

int dtb_build(const struct dtb_input *in, void **blob, size_t *len)
{
	size_t size = 4096;
	int ret;

	if (!blob || !len)
		return -EINVAL;
	*blob = NULL;
	*len = 0;
	ret = check_input(in);
	if (ret)
		return ret;
	for (;;) {
		void *fdt = malloc(size);

		if (!fdt)
			return -ENOMEM;
		ret = build_tree(fdt, size, in);
		if (ret == 0) {
			*blob = fdt;
			*len = fdt_totalsize(fdt);
			return 0;
		}
		free(fdt);
		if (ret != -FDT_ERR_NOSPACE || size >= (1U << 30))
			return ret == -FDT_ERR_NOSPACE ? -ENOMEM : -EINVAL;
		size *= 2;
	}
}

int dtb_write_file(const struct dtb_input *in, const char *path)
{
	void *blob;
	size_t len, done = 0;
	int fd, ret;

	if (!path)
		return -EINVAL;
	ret = dtb_build(in, &blob, &len);
	if (ret)
		return ret;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		free(blob);
		return ret;
	}
	while (done < len) {
		ssize_t n = write(fd, (const char *)blob + done, len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		done += (size_t)n;
	}
	if (close(fd) && !ret)
		ret = -errno;
	free(blob);
	return ret;
}
