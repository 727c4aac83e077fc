/*
 * The VMM's virtio host table (host->virtio): the shared transport with
 * KVM's fast paths. A QueueNotify write is matched in the kernel by an
 * ioeventfd (4 bytes, datamatch on the queue index) and wakes the event
 * loop without a vCPU exit to user space; an interrupt is an irqfd write,
 * which KVM turns into an edge on the GSI (the DSDT says Edge).
 *
 * Devices are created before the KVM VM exists, so that every user error
 * (a plugin option, say) is reported before /dev/kvm is opened. Until then
 * the ioeventfds and irqfds are only recorded, and virtio_kvm_connect
 * hands them to KVM once the VM is there.
 */
#define _GNU_SOURCE
#include "virtio/virtio_kvm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "dev.h"
#include "virtio/virtio_dev.h"

/* One ioeventfd or irqfd waiting for the VM. */
struct virtio_kvm_wire {
	bool is_irqfd;
	uint64_t addr;  /* ioeventfd: the QueueNotify address */
	uint32_t index; /* ioeventfd: the queue index it matches */
	int gsi;        /* irqfd: the interrupt line */
	int fd;
};

struct virtio_kvm_pending {
	struct virtio_kvm_wire *wires;
	size_t n, cap;
};

static int pending_add(struct vm *vm, const struct virtio_kvm_wire *w)
{
	struct virtio_kvm_pending *p = vm->virtio_pending;

	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return -ENOMEM;
		vm->virtio_pending = p;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct virtio_kvm_wire *n = realloc(p->wires, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->wires = n;
		p->cap = cap;
	}
	p->wires[p->n++] = *w;
	return 0;
}

/* A device destroyed before the VM existed takes its wires back. */
static void pending_drop(struct vm *vm, const struct virtio_kvm_wire *w)
{
	struct virtio_kvm_pending *p = vm->virtio_pending;

	for (size_t i = 0; p && i < p->n; i++) {
		struct virtio_kvm_wire *x = &p->wires[i];

		if (x->is_irqfd == w->is_irqfd && x->fd == w->fd &&
		    x->addr == w->addr && x->index == w->index &&
		    x->gsi == w->gsi) {
			p->wires[i] = p->wires[--p->n];
			return;
		}
	}
}

static int ioeventfd(struct vm *vm, uint64_t addr, uint32_t index, int fd,
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

	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0)
		return -errno;
	return 0;
}

static int add_ioeventfd(mvm_dev *dev, uint64_t addr, uint32_t index, int fd)
{
	struct virtio_kvm_wire w = {.addr = addr, .index = index, .fd = fd};

	if (dev->vm->vm_fd < 0)
		return pending_add(dev->vm, &w);
	return ioeventfd(dev->vm, addr, index, fd, true);
}

static void del_ioeventfd(mvm_dev *dev, uint64_t addr, uint32_t index, int fd)
{
	struct virtio_kvm_wire w = {.addr = addr, .index = index, .fd = fd};

	if (dev->vm->vm_fd < 0)
		pending_drop(dev->vm, &w);
	else
		ioeventfd(dev->vm, addr, index, fd, false);
}

static int irqfd(struct vm *vm, int gsi, int fd, bool assign)
{
	struct kvm_irqfd irq = {
		.fd = (uint32_t)fd,
		.gsi = (uint32_t)gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (ioctl(vm->vm_fd, KVM_IRQFD, &irq) < 0)
		return -errno;
	return 0;
}

static int add_irqfd(mvm_dev *dev, int gsi, int fd)
{
	struct virtio_kvm_wire w = {.is_irqfd = true, .gsi = gsi, .fd = fd};

	if (dev->vm->vm_fd < 0)
		return pending_add(dev->vm, &w);
	return irqfd(dev->vm, gsi, fd, true);
}

static void del_irqfd(mvm_dev *dev, int gsi, int fd)
{
	struct virtio_kvm_wire w = {.is_irqfd = true, .gsi = gsi, .fd = fd};

	if (dev->vm->vm_fd < 0)
		pending_drop(dev->vm, &w);
	else
		irqfd(dev->vm, gsi, fd, false);
}

int virtio_kvm_connect(struct vm *vm, struct error *err)
{
	struct virtio_kvm_pending *p = vm->virtio_pending;
	int r = 0;

	for (size_t i = 0; p && i < p->n && r == 0; i++) {
		const struct virtio_kvm_wire *w = &p->wires[i];

		r = w->is_irqfd ? irqfd(vm, w->gsi, w->fd, true)
				: ioeventfd(vm, w->addr, w->index, w->fd, true);
		if (r < 0)
			error_host(err, 0, "%s for virtio (%s %d): %s",
				   w->is_irqfd ? "KVM_IRQFD" : "KVM_IOEVENTFD",
				   w->is_irqfd ? "GSI" : "queue",
				   w->is_irqfd ? w->gsi : (int)w->index,
				   strerror(-r));
	}
	virtio_kvm_forget(vm);
	return r;
}

void virtio_kvm_forget(struct vm *vm)
{
	if (!vm->virtio_pending)
		return;
	free(vm->virtio_pending->wires);
	free(vm->virtio_pending);
	vm->virtio_pending = NULL;
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
	const struct virtio_platform *plat = dev->vm ? &kvm_platform : NULL;

	return virtio_mmio_create(dev, dev->host, plat, desc, opaque, out);
}

const struct mvm_virtio_host core_virtio_host = {
	VIRTIO_HOST_COMMON_OPS,
	.create = core_virtio_create,
};
