/*
 * The host services table handed to every plugin (modvmm/plugin.h). Each
 * function checks its arguments as if the caller were hostile-by-mistake:
 * plugins are trusted code, but their bugs should become error messages,
 * not corrupted VM state.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "api/api_plugin.h"
#include "boot/aml.h"
#include "dev.h"
#include "layout.h"
#include "plugin/host.h"
#include "ram_discard.h"
#include "resources.h"
#include "seccomp/seccomp_filter.h"
#include "virtio/virtio_kvm.h"

static void host_log(mvm_dev *dev, enum mvm_log_level level, const char *fmt,
		     ...)
{
	va_list ap;

	if (level > MVM_LOG_DEBUG)
		level = MVM_LOG_DEBUG;
	va_start(ap, fmt);
	log_vmsg(level, dev->name, fmt, ap);
	va_end(ap);
}

static void host_log_guest(mvm_dev *dev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vratelimited(&dev->rl, dev->name, fmt, ap);
	va_end(ap);
}

static void host_fail(mvm_dev *dev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dev->fail_msg, sizeof(dev->fail_msg), fmt, ap);
	va_end(ap);
}

static int host_parse_options(mvm_dev *dev, const struct mvm_option *spec,
			      const char *str, void *out)
{
	if (!spec || !out)
		return -EINVAL;
	return opts_parse(spec, str, out, &dev->strings, dev->fail_msg,
			  sizeof(dev->fail_msg));
}

static int claim_on_bus(mvm_dev *dev, struct bus *bus, uint64_t base,
			uint64_t len, const struct mvm_io_ops *ops,
			void *opaque)
{
	struct bus_range r = {.base = base,
			      .len = len,
			      .ops = ops,
			      .opaque = opaque,
			      .lock = &dev->lock,
			      .owner = dev->name};
	const char *conflict;
	int e;

	if (!ops)
		return -EINVAL;
	e = bus_add(bus, &r, &conflict);
	/* Kept for the one error line device_create prints if the plugin
	 * gives up because of it. */
	if (e == -EBUSY)
		snprintf(dev->host_err, sizeof(dev->host_err),
			 "%s range 0x%llx-0x%llx is already claimed by %s",
			 bus->name, (unsigned long long)base,
			 (unsigned long long)(base + len - 1), conflict);
	return e;
}

static int host_claim_pio(mvm_dev *dev, uint16_t base, uint16_t len,
			  const struct mvm_io_ops *ops, void *opaque)
{
	if (len == 0 || (uint32_t)base + len > 0x10000)
		return -EINVAL;
	return claim_on_bus(dev, &dev->vm->pio, base, len, ops, opaque);
}

static bool overlaps_ram(const struct vm *vm, uint64_t base, uint64_t len)
{
	for (int i = 0; i < vm->ram.nregions; i++) {
		const struct ram_region *r = &vm->ram.regions[i];

		if (base < r->gpa + r->size && r->gpa < base + len)
			return true;
	}
	return false;
}

static int host_claim_mmio(mvm_dev *dev, uint64_t base, uint64_t len,
			   const struct mvm_io_ops *ops, void *opaque)
{
	uint64_t end;

	if (len == 0 || __builtin_add_overflow(base, len, &end))
		return -EINVAL;
	/* RAM, the IOAPIC and the LAPIC pages are never a device's. */
	if (overlaps_ram(dev->vm, base, len) ||
	    (base < LAYOUT_LAPIC_ADDR + 0x1000 && LAYOUT_IOAPIC_ADDR < end))
		return -EINVAL;
	return claim_on_bus(dev, &dev->vm->mmio, base, len, ops, opaque);
}

static int host_alloc_mmio(mvm_dev *dev, uint64_t len, uint64_t *base)
{
	return resources_alloc_mmio(&dev->vm->res, len, base);
}

static int host_claim_irq(mvm_dev *dev, int gsi)
{
	int r = resources_claim_gsi(&dev->vm->res, gsi);

	if (r == -EBUSY)
		snprintf(dev->host_err, sizeof(dev->host_err),
			 "interrupt line %d is already claimed", gsi);
	if (r >= 0)
		dev->gsis |= 1u << r;
	return r;
}

static int host_set_irq(mvm_dev *dev, uint32_t gsi, int level)
{
	struct kvm_irq_level irq = {.irq = gsi, .level = level ? 1 : 0};

	if (gsi > LAYOUT_GSI_LAST || !(dev->gsis & (1u << gsi)))
		return -EINVAL;
	if (ioctl(dev->vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		return -errno;
	return 0;
}

static int host_dsdt_add_device(mvm_dev *dev, const struct mvm_dsdt_device *d)
{
	int r;

	if (!dev->in_create || !d)
		return -EPERM;
	r = aml_check_device(d);
	if (r < 0)
		return r;
	return resources_add_dsdt_device(&dev->vm->res, d);
}

static int host_dsdt_add_aml(mvm_dev *dev, const void *aml, size_t len)
{
	if (!dev->in_create)
		return -EINVAL;
	return resources_add_aml(&dev->vm->res, aml, len);
}

static void *host_guest_mem(mvm_dev *dev, uint64_t gpa, uint64_t len)
{
	return guest_ram_ptr(&dev->vm->ram, gpa, len);
}

static int host_discard(mvm_dev *dev, uint64_t gpa, uint64_t len)
{
	struct ram_discard *rd = &dev->vm->discard;
	int r;

	pthread_mutex_lock(&rd->lock);
	r = ram_discard_range(rd, gpa, len);
	pthread_mutex_unlock(&rd->lock);
	return r;
}

static void host_discard_reuse(mvm_dev *dev, uint64_t gpa, uint64_t len)
{
	struct ram_discard *rd = &dev->vm->discard;

	pthread_mutex_lock(&rd->lock);
	ram_discard_reuse(rd, gpa, len);
	pthread_mutex_unlock(&rd->lock);
}

static uint64_t host_ram_size(mvm_dev *dev)
{
	return dev->vm->ram.size;
}

static int host_ram_regions(mvm_dev *dev, struct mvm_ram_region *out,
			    unsigned max)
{
	const struct guest_ram *ram = &dev->vm->ram;

	for (int i = 0; i < ram->nregions && (unsigned)i < max; i++)
		out[i] = (struct mvm_ram_region){.gpa = ram->regions[i].gpa,
						 .size = ram->regions[i].size,
						 .host = ram->regions[i].host};
	return ram->nregions;
}

static int host_sandbox_thread(mvm_dev *dev)
{
	if (!dev->vm->seccomp.built)
		return -EAGAIN;
	return seccomp_filter_apply(&dev->vm->seccomp, SECCOMP_KIND_EVLOOP);
}

static int host_add_fd(mvm_dev *dev, int fd, uint32_t events, mvm_fd_cb cb,
		       void *opaque)
{
	return evloop_add_fd(dev->vm->loop, fd, events, cb, opaque, &dev->lock);
}

static int host_remove_fd(mvm_dev *dev, int fd)
{
	return evloop_remove_fd(dev->vm->loop, fd);
}

static int host_add_timer(mvm_dev *dev, uint64_t first_ns, uint64_t period_ns,
			  mvm_timer_cb cb, void *opaque)
{
	return evloop_add_timer(dev->vm->loop, first_ns, period_ns, cb, opaque,
				&dev->lock);
}

static int host_cancel_timer(mvm_dev *dev, int timer_id)
{
	return evloop_cancel_timer(dev->vm->loop, timer_id);
}

static void host_request_exit(mvm_dev *dev, int status)
{
	/* A device exits on the guest's behalf (a debug-exit port): for QMP
	 * that is the guest ending the VM, and not a VMM error to log. */
	if (!vm_exit_requested(dev->vm)) {
		dev->vm->exit_cause = "guest-shutdown";
		dev->vm->exit_by_device = true;
	}
	vm_request_exit(dev->vm, status & 0xff,
			"device %s asked to exit with status %d", dev->name,
			status & 0xff);
}

static const char *host_dev_name(mvm_dev *dev)
{
	return dev->name;
}

const struct mvm_host core_host = {
	.size = sizeof(struct mvm_host),
	.abi_major = MVM_ABI_MAJOR,
	.abi_minor = MVM_ABI_MINOR,
	.log = host_log,
	.log_guest = host_log_guest,
	.fail = host_fail,
	.parse_options = host_parse_options,
	.claim_pio = host_claim_pio,
	.claim_mmio = host_claim_mmio,
	.alloc_mmio = host_alloc_mmio,
	.claim_irq = host_claim_irq,
	.set_irq = host_set_irq,
	.dsdt_add_device = host_dsdt_add_device,
	.dsdt_add_aml = host_dsdt_add_aml,
	.guest_mem = host_guest_mem,
	.add_fd = host_add_fd,
	.remove_fd = host_remove_fd,
	.add_timer = host_add_timer,
	.cancel_timer = host_cancel_timer,
	.request_exit = host_request_exit,
	.dev_name = host_dev_name,
	.virtio = &core_virtio_host, /* core/virtio_*.c, core/virtio/virtq.c */
	.api = &core_api_host,       /* control socket: core/api_*.c */
	.discard = host_discard,
	.discard_reuse = host_discard_reuse,
	.ram_size = host_ram_size,
	.ram_regions = host_ram_regions,
	.sandbox_thread = host_sandbox_thread,
};
