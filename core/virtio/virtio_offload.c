/*
 * Handing a virtqueue to an engine outside the VMM and taking it back
 * (virtio_offload.h). A vhost back-end reads the driver's kicks from the
 * queue's kick eventfd itself and writes a call eventfd when it has used
 * buffers. virtio-mmio has one interrupt line and an InterruptStatus
 * register the driver reads first (virtio spec 4.2.2: the driver checks
 * the used-buffer bit before looking at the rings), so the engine cannot
 * signal the line directly: the call fd comes here, and the transport sets
 * the bit and raises the interrupt.
 */
#define _GNU_SOURCE
#include "virtio/virtio_offload.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

int virtio_queue_rings(struct mvm_virtq *q, struct mvm_virtq_rings *out)
{
	if (!q || !out)
		return -EINVAL;
	if (!q->ready)
		return -ENODEV;
	*out = (struct mvm_virtq_rings){
		.num = q->num,
		.next_avail = q->last_avail,
		.next_used = q->used_idx,
		.desc_gpa = q->desc_gpa,
		.avail_gpa = q->avail_gpa,
		.used_gpa = q->used_gpa,
	};
	return 0;
}

/* Event-loop callback of an offloaded queue's call eventfd. */
static void engine_called(void *opaque, int fd, uint32_t events)
{
	struct mvm_virtq *q = opaque;
	struct mvm_virtio *v = virtio_queue_owner(q);
	uint64_t n;

	(void)events;
	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	if (q->offloaded && (v->status & MVM_VIRTIO_STATUS_DRIVER_OK) &&
	    !v->qdev.broken)
		virtio_interrupt(v, MVM_VIRTIO_INT_USED);
}

int virtio_queue_offload(struct mvm_virtq *q, int *kick_fd, int *call_fd)
{
	struct mvm_virtio *v;
	int fd, r;

	if (!q || !kick_fd || !call_fd)
		return -EINVAL;
	v = virtio_queue_owner(q);
	if (q->offloaded)
		return -EBUSY;
	if (v->qdev.broken)
		return -EIO;
	if (!q->ready || !(v->status & MVM_VIRTIO_STATUS_DRIVER_OK))
		return -ENODEV;
	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = v->host->add_fd(v->dev, fd, EPOLLIN, engine_called, q);
	if (r < 0) {
		close(fd);
		return r;
	}
	/* From here the engine alone reads the driver's kicks. */
	v->host->remove_fd(v->dev, q->kickfd);
	q->offloaded = true;
	q->callfd = fd;
	*kick_fd = q->kickfd;
	*call_fd = fd;
	return 0;
}

static void drop_callfd(struct mvm_virtio *v, struct mvm_virtq *q)
{
	v->host->remove_fd(v->dev, q->callfd);
	close(q->callfd);
	q->callfd = -1;
	q->offloaded = false;
}

/* The core reads the queue's kicks again. */
static void take_back(struct mvm_virtio *v, struct mvm_virtq *q)
{
	int r;

	drop_callfd(v, q);
	r = v->host->add_fd(v->dev, q->kickfd, EPOLLIN, virtio_kick, q);
	if (r < 0)
		virtio_set_needs_reset(v, "cannot watch the queue's kicks "
					  "again after an offload");
}

int virtio_queue_reclaim(struct mvm_virtq *q, uint16_t next_avail,
			 uint16_t next_used)
{
	struct mvm_virtio *v;

	if (!q || !q->offloaded)
		return -EINVAL;
	v = virtio_queue_owner(q);
	take_back(v, q);
	q->last_avail = next_avail;
	q->used_idx = next_used;
	/* The engine may have interrupted the driver since our last notify:
	 * the next notify decides afresh. */
	q->signalled_valid = false;
	/* Buffers made available while the engine stopped are served now. */
	eventfd_write(q->kickfd, 1);
	return 0;
}

void virtio_offload_end_all(struct mvm_virtio *v)
{
	for (unsigned i = 0; i < v->desc.num_queues; i++)
		if (v->queues[i].offloaded)
			take_back(v, &v->queues[i]);
}

void virtio_offload_release_all(struct mvm_virtio *v)
{
	for (unsigned i = 0; v->queues && i < v->desc.num_queues; i++)
		if (v->queues[i].offloaded)
			drop_callfd(v, &v->queues[i]);
}
