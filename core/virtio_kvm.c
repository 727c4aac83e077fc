/*
 * The VMM's virtio host table (host->virtio): the shared transport with
 * KVM's fast paths. A QueueNotify write is matched in the kernel by an
 * ioeventfd (4 bytes, datamatch on the queue index) and wakes the event
 * loop without a vCPU exit to user space; an interrupt is an irqfd write,
 * which KVM turns into an edge on the GSI (the DSDT says Edge).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "device.h"
#include "virtio_mmio.h"

static int ioeventfd(mvm_dev *dev, uint64_t addr, uint32_t index, int fd,
		     bool assign)
{
	struct kvm_ioeventfd io = {
		.datamatch = index,
		.addr = addr,
		.len = 4,
		.fd = fd,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	if (ioctl(dev->vm->vm_fd, KVM_IOEVENTFD, &io) < 0)
		return -errno;
	return 0;
}

static int add_ioeventfd(mvm_dev *dev, uint64_t addr, uint32_t index, int fd)
{
	return ioeventfd(dev, addr, index, fd, true);
}

static void del_ioeventfd(mvm_dev *dev, uint64_t addr, uint32_t index, int fd)
{
	ioeventfd(dev, addr, index, fd, false);
}

static int irqfd(mvm_dev *dev, int gsi, int fd, bool assign)
{
	struct kvm_irqfd irq = {
		.fd = (uint32_t)fd,
		.gsi = (uint32_t)gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (ioctl(dev->vm->vm_fd, KVM_IRQFD, &irq) < 0)
		return -errno;
	return 0;
}

static int add_irqfd(mvm_dev *dev, int gsi, int fd)
{
	return irqfd(dev, gsi, fd, true);
}

static void del_irqfd(mvm_dev *dev, int gsi, int fd)
{
	irqfd(dev, gsi, fd, false);
}

static const struct virtio_platform kvm_platform = {
	.add_ioeventfd = add_ioeventfd,
	.del_ioeventfd = del_ioeventfd,
	.add_irqfd = add_irqfd,
	.del_irqfd = del_irqfd,
};

static int core_virtio_create(mvm_dev *dev,
			      const struct mvm_virtio_device *desc,
			      void *opaque, struct mvm_virtio **out)
{
	/* Without a VM (unit tests of host.c) there is nothing to wire. */
	const struct virtio_platform *plat =
		dev->vm && dev->vm->vm_fd >= 0 ? &kvm_platform : NULL;

	return virtio_mmio_create(dev, &core_host, plat, desc, opaque, out);
}

const struct mvm_virtio_host core_virtio_host = {
	VIRTIO_HOST_COMMON_OPS,
	.create = core_virtio_create,
};
