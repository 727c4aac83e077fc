/*
 * virtio-vsock plugin: the kernel's vhost-vsock as the rx/tx engine.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/vhost.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <modvmm/vhost.h>

#include "vsock_vhost.h"

struct vsock_vhost {
	int fd;
	uint64_t features; /* what the kernel's engine offers */
	bool running;
};

int vsock_vhost_open(struct vsock *v)
{
	uint64_t cid = v->opts.cid;
	char why[160];
	int e;

	if (!mvm_vhost_usable(&v->base)) {
		v->base.host->fail(v->base.dev,
				   "vhost=on: this modvmm is too old (needs "
				   "plugin ABI 1.3)");
		return -ENOTSUP;
	}
	v->vhost = calloc(1, sizeof(*v->vhost));
	if (!v->vhost)
		return -ENOMEM;
	v->vhost->fd = mvm_vhost_open("/dev/vhost-vsock", "vhost_vsock",
				      &v->vhost->features, why, sizeof(why));
	if (v->vhost->fd < 0) {
		e = v->vhost->fd;
		v->base.host->fail(v->base.dev, "vhost=on: %s", why);
		return e;
	}
	e = mvm_vhost_set_mem_table(&v->base, v->vhost->fd);
	if (e < 0) {
		v->base.host->fail(v->base.dev,
				   "vhost=on: VHOST_SET_MEM_TABLE: %s",
				   strerror(-e));
		return e;
	}
	if (ioctl(v->vhost->fd, VHOST_VSOCK_SET_GUEST_CID, &cid) < 0) {
		e = -errno;
		if (e == -EADDRINUSE)
			v->base.host->fail(
				v->base.dev,
				"cid=%llu: in use by another VM on this "
				"host (vhost-vsock)",
				(unsigned long long)cid);
		else
			v->base.host->fail(v->base.dev, "cid=%llu: %s",
					   (unsigned long long)cid,
					   strerror(-e));
		return e;
	}
	return 0;
}

uint32_t vsock_vhost_virtio_flags(const struct vsock *v)
{
	uint32_t f = 0;

	if (!(v->vhost->features & (1ULL << MVM_VIRTIO_F_INDIRECT_DESC)))
		f |= MVM_VIRTIO_NO_INDIRECT;
	if (!(v->vhost->features & (1ULL << MVM_VIRTIO_F_EVENT_IDX)))
		f |= MVM_VIRTIO_NO_EVENT_IDX;
	return f;
}

void vsock_vhost_start(struct vsock *v)
{
	uint64_t features =
		v->base.vh->features(v->base.vdev) & v->vhost->features;
	int running = 1, e = 0;

	if (ioctl(v->vhost->fd, VHOST_SET_FEATURES, &features) < 0)
		e = -errno;
	for (unsigned qi = VSOCK_QUEUE_RX; e == 0 && qi <= VSOCK_QUEUE_TX; qi++)
		e = mvm_vhost_start_queue(&v->base, v->vhost->fd,
					  v->base.vh->queue(v->base.vdev, qi),
					  qi);
	if (e == 0 &&
	    ioctl(v->vhost->fd, VHOST_VSOCK_SET_RUNNING, &running) < 0)
		e = -errno;
	if (e < 0) {
		v->base.host->log(v->base.dev, MVM_LOG_ERROR,
				  "cannot start vhost-vsock: %s", strerror(-e));
		vsock_vhost_stop(v);
		v->base.vh->set_needs_reset(v->base.vdev,
					    "vhost-vsock did not start");
		return;
	}
	v->vhost->running = true;
}

void vsock_vhost_stop(struct vsock *v)
{
	int running = 0;

	if (!v->vhost || v->vhost->fd < 0)
		return;
	ioctl(v->vhost->fd, VHOST_VSOCK_SET_RUNNING, &running);
	/* The core takes the queues back after the reset hook. */
	for (unsigned qi = VSOCK_QUEUE_RX; qi <= VSOCK_QUEUE_TX; qi++)
		mvm_vhost_stop_queue(v->vhost->fd, qi, NULL);
	v->vhost->running = false;
}

void vsock_vhost_close(struct vsock *v)
{
	if (!v->vhost)
		return;
	if (v->vhost->fd >= 0)
		close(v->vhost->fd);
	free(v->vhost);
	v->vhost = NULL;
}
