/*
 * Creating and destroying a virtio-mmio transport instance: checking the
 * plugin's device description, taking an MMIO window, a GSI and a DSDT
 * node from the host, and wiring one kick eventfd per queue (plus the
 * platform's ioeventfds and irqfd when there is a KVM behind the host).
 */
#define _GNU_SOURCE
#include "virtio/virtio_dev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

static int check_desc(mvm_dev *dev, const struct mvm_host *host,
		      const struct mvm_virtio_device *d)
{
	/* Everything up to queue_notify is required in an ABI 1.x one. */
	if (!MVM_HOST_HAS(d, queue_notify)) {
		host->fail(dev,
			   "virtio: device description is %u bytes, "
			   "smaller than any ABI 1 one",
			   d->size);
		return -EINVAL;
	}
	if (!d->device_id || !d->queue_notify || !d->num_queues ||
	    d->num_queues > MVM_VIRTIO_MAX_QUEUES ||
	    d->config_size > 0x1000 - MVM_VIRTIO_MMIO_CONFIG ||
	    (!d->queue_max_for && !d->queue_max)) {
		host->fail(dev,
			   "virtio: bad device description (id %u, %u "
			   "queues, %u config bytes)",
			   d->device_id, d->num_queues, d->config_size);
		return -EINVAL;
	}
	for (unsigned i = 0; !d->queue_max_for && i < d->num_queues; i++) {
		uint16_t m = d->queue_max[i];

		if ((m & (m - 1)) || m > MVM_VIRTQ_MAX_SIZE) {
			host->fail(dev,
				   "virtio: queue %u size %u is not a "
				   "power of two up to %u",
				   i, m, MVM_VIRTQ_MAX_SIZE);
			return -EINVAL;
		}
	}
	return 0;
}

static int setup_queues(struct mvm_virtio *v)
{
	for (unsigned i = 0; i < v->desc.num_queues; i++) {
		struct mvm_virtq *q = &v->queues[i];
		int r;

		q->kickfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (q->kickfd < 0)
			return -errno;
		r = v->host->add_fd(v->dev, q->kickfd, EPOLLIN, virtio_kick, q);
		if (r < 0) {
			close(q->kickfd);
			q->kickfd = -1;
			return r;
		}
		if (v->plat && v->plat->add_ioeventfd) {
			r = v->plat->add_ioeventfd(
				v->dev, v->base + MVM_VIRTIO_MMIO_QUEUE_NOTIFY,
				i, q->kickfd);
			if (r < 0)
				return r;
			q->ioeventfd = true;
		}
	}
	return 0;
}

int virtio_mmio_create(mvm_dev *dev, const struct mvm_host *host,
		       const struct virtio_platform *plat,
		       const struct mvm_virtio_device *desc, void *opaque,
		       struct mvm_virtio **out)
{
	static const struct mvm_io_ops ops = {.read = virtio_mmio_read,
					      .write = virtio_mmio_write};
	struct mvm_dsdt_device node = {.hid = "LNRO0005",
				       .mmio_size = MVM_VIRTIO_MMIO_WINDOW};
	struct mvm_virtio *v;
	int r;

	if (!desc || !out)
		return -EINVAL;
	r = check_desc(dev, host, desc);
	if (r < 0)
		return r;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->queues = calloc(desc->num_queues, sizeof(*v->queues));
	if (!v->queues) {
		free(v);
		return -ENOMEM;
	}
	v->dev = dev;
	v->host = host;
	v->qdev.dev = dev;
	v->qdev.host = host;
	v->plat = plat;
	memcpy(&v->desc, desc,
	       desc->size < sizeof(v->desc) ? desc->size : sizeof(v->desc));
	v->desc.size = sizeof(v->desc);
	v->opaque = opaque;
	v->irqfd = -1;
	v->gsi = -1;
	v->after_reset = virtio_offload_end_all;
	for (unsigned i = 0; i < desc->num_queues; i++) {
		struct mvm_virtq *q = &v->queues[i];

		q->vd = &v->qdev;
		q->index = i;
		q->kickfd = -1;
		q->callfd = -1;
		if (!desc->queue_max_for)
			v->queue_max[i] = desc->queue_max[i];
		q->num_max = q->num = v->queue_max[i];
	}
	v->offered = desc->features | (1ULL << MVM_VIRTIO_F_VERSION_1);
	if (!(desc->flags & MVM_VIRTIO_NO_INDIRECT))
		v->offered |= 1ULL << MVM_VIRTIO_F_INDIRECT_DESC;
	if (!(desc->flags & MVM_VIRTIO_NO_EVENT_IDX))
		v->offered |= 1ULL << MVM_VIRTIO_F_EVENT_IDX;

	r = host->alloc_mmio(dev, MVM_VIRTIO_MMIO_WINDOW, &v->base);
	if (r == 0)
		r = host->claim_mmio(dev, v->base, MVM_VIRTIO_MMIO_WINDOW, &ops,
				     v);
	if (r < 0) {
		host->fail(dev, "virtio: no MMIO window: %s", strerror(-r));
		goto fail;
	}
	r = host->claim_irq(dev, -1);
	if (r < 0) {
		host->fail(dev, "virtio: no free interrupt line: %s",
			   strerror(-r));
		goto fail;
	}
	v->gsi = r;
	node.mmio_base = v->base;
	node.gsi = v->gsi;
	/* Windows are unique, so their page number is a unique _UID. */
	node.uid = (uint32_t)(v->base >> 12);
	r = host->dsdt_add_device(dev, &node);
	if (r < 0) {
		host->fail(dev, "virtio: cannot add the DSDT node: %s",
			   strerror(-r));
		goto fail;
	}
	r = setup_queues(v);
	if (r < 0) {
		host->fail(dev, "virtio: queue notification set-up: %s",
			   strerror(-r));
		goto fail;
	}
	if (plat && plat->add_irqfd) {
		v->irqfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (v->irqfd < 0 ||
		    plat->add_irqfd(dev, v->gsi, v->irqfd) < 0) {
			/* host->set_irq still works; only slower. */
			if (v->irqfd >= 0)
				close(v->irqfd);
			v->irqfd = -1;
			host->log(dev, MVM_LOG_WARN,
				  "virtio: no irqfd, interrupts go through "
				  "user space");
		}
	}
	*out = v;
	return 0;
fail:
	virtio_mmio_destroy(v);
	return r;
}

void virtio_mmio_destroy(struct mvm_virtio *v)
{
	if (!v)
		return;
	/* An offloaded queue's kick fd is off the loop already. */
	virtio_offload_release_all(v);
	for (unsigned i = 0; v->queues && i < v->desc.num_queues; i++) {
		struct mvm_virtq *q = &v->queues[i];

		if (q->kickfd < 0)
			continue;
		if (q->ioeventfd && v->plat && v->plat->del_ioeventfd)
			v->plat->del_ioeventfd(
				v->dev, v->base + MVM_VIRTIO_MMIO_QUEUE_NOTIFY,
				i, q->kickfd);
		v->host->remove_fd(v->dev, q->kickfd);
		close(q->kickfd);
	}
	if (v->irqfd >= 0) {
		if (v->plat && v->plat->del_irqfd)
			v->plat->del_irqfd(v->dev, v->gsi, v->irqfd);
		close(v->irqfd);
	}
	free(v->queues);
	free(v);
}
