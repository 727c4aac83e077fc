/*
 * virtio-vsock plugin: the kernel's vhost-vsock as the rx/tx engine.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vsock_vhost.h"

/* At most this many guest RAM regions in the memory table (the core has
 * one or two: below and above the 32-bit hole). */
#define VSOCK_VHOST_REGIONS 8

struct vsock_vhost {
	int fd;
	uint64_t features; /* what the kernel's engine offers */
	bool running;
};

static int set_mem_table(struct vsock *v)
{
	struct mvm_ram_region r[VSOCK_VHOST_REGIONS];
	struct vhost_memory *m;
	int n = v->host->ram_regions(v->dev, r, VSOCK_VHOST_REGIONS), e = 0;

	if (n < 0 || n > VSOCK_VHOST_REGIONS)
		return n < 0 ? n : -E2BIG;
	m = calloc(1, sizeof(*m) + (size_t)n * sizeof(m->regions[0]));
	if (!m)
		return -ENOMEM;
	m->nregions = (uint32_t)n;
	for (int i = 0; i < n; i++)
		m->regions[i] = (struct vhost_memory_region){
			.guest_phys_addr = r[i].gpa,
			.memory_size = r[i].size,
			.userspace_addr = (uint64_t)(uintptr_t)r[i].host,
		};
	if (ioctl(v->vhost->fd, VHOST_SET_MEM_TABLE, m) < 0)
		e = -errno;
	free(m);
	return e;
}

int vsock_vhost_open(struct vsock *v)
{
	uint64_t cid = v->opts.cid;
	const char *hint = "";
	int e;

	if (!MVM_HOST_HAS(v->host, ram_regions) ||
	    !MVM_HOST_HAS(v->vh, queue_reclaim)) {
		v->host->fail(v->dev, "vhost=on: this modvmm is too old (needs "
				      "plugin ABI 1.3)");
		return -ENOTSUP;
	}
	v->vhost = calloc(1, sizeof(*v->vhost));
	if (!v->vhost)
		return -ENOMEM;
	v->vhost->fd = open("/dev/vhost-vsock", O_RDWR | O_CLOEXEC);
	if (v->vhost->fd < 0) {
		e = -errno;
		if (e == -ENOENT)
			hint = " (modprobe vhost_vsock)";
		else if (e == -EACCES)
			hint = " (needs root, or write access to it)";
		v->host->fail(v->dev, "vhost=on: /dev/vhost-vsock: %s%s",
			      strerror(-e), hint);
		return e;
	}
	if (ioctl(v->vhost->fd, VHOST_SET_OWNER) < 0 ||
	    ioctl(v->vhost->fd, VHOST_GET_FEATURES, &v->vhost->features) < 0) {
		e = -errno;
		v->host->fail(v->dev, "vhost=on: /dev/vhost-vsock: %s",
			      strerror(-e));
		return e;
	}
	e = set_mem_table(v);
	if (e < 0) {
		v->host->fail(v->dev, "vhost=on: VHOST_SET_MEM_TABLE: %s",
			      strerror(-e));
		return e;
	}
	if (ioctl(v->vhost->fd, VHOST_VSOCK_SET_GUEST_CID, &cid) < 0) {
		e = -errno;
		if (e == -EADDRINUSE)
			v->host->fail(v->dev,
				      "cid=%llu: in use by another VM on this "
				      "host (vhost-vsock)",
				      (unsigned long long)cid);
		else
			v->host->fail(v->dev, "cid=%llu: %s",
				      (unsigned long long)cid, strerror(-e));
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

/* Hand queue `qi` to the kernel. */
static int start_queue(struct vsock *v, unsigned qi, bool event_idx)
{
	struct mvm_virtq *q = v->vh->queue(v->vdev, qi);
	struct mvm_virtq_rings r;
	void *desc, *avail, *used;
	int kick, call, fd = v->vhost->fd, e;
	uint64_t extra = event_idx ? 2 : 0;

	e = v->vh->queue_rings(q, &r);
	if (e < 0)
		return e;
	/* VHOST_SET_VRING_ADDR takes the VMM's own addresses (virtio 1.2
	 * 2.7: descriptor table 16 bytes an entry, available ring 4 + 2 a
	 * slot, used ring 4 + 8 a slot, each + 2 with EVENT_IDX). */
	desc = v->host->guest_mem(v->dev, r.desc_gpa, 16ULL * r.num);
	avail = v->host->guest_mem(v->dev, r.avail_gpa,
				   4 + 2ULL * r.num + extra);
	used = v->host->guest_mem(v->dev, r.used_gpa, 4 + 8ULL * r.num + extra);
	if (!desc || !avail || !used)
		return -EFAULT;
	struct vhost_vring_state num = {qi, r.num}, base = {qi, r.next_avail};
	struct vhost_vring_addr addr = {
		.index = qi,
		.desc_user_addr = (uint64_t)(uintptr_t)desc,
		.avail_user_addr = (uint64_t)(uintptr_t)avail,
		.used_user_addr = (uint64_t)(uintptr_t)used,
	};

	if (ioctl(fd, VHOST_SET_VRING_NUM, &num) < 0 ||
	    ioctl(fd, VHOST_SET_VRING_BASE, &base) < 0 ||
	    ioctl(fd, VHOST_SET_VRING_ADDR, &addr) < 0)
		return -errno;
	e = v->vh->queue_offload(q, &kick, &call);
	if (e < 0)
		return e;
	struct vhost_vring_file k = {qi, kick}, c = {qi, call};

	if (ioctl(fd, VHOST_SET_VRING_KICK, &k) < 0 ||
	    ioctl(fd, VHOST_SET_VRING_CALL, &c) < 0)
		return -errno;
	return 0;
}

void vsock_vhost_start(struct vsock *v)
{
	uint64_t features = v->vh->features(v->vdev) & v->vhost->features;
	bool event_idx = features & (1ULL << MVM_VIRTIO_F_EVENT_IDX);
	int running = 1, e = 0;

	if (ioctl(v->vhost->fd, VHOST_SET_FEATURES, &features) < 0)
		e = -errno;
	for (unsigned qi = VSOCK_QUEUE_RX; e == 0 && qi <= VSOCK_QUEUE_TX; qi++)
		e = start_queue(v, qi, event_idx);
	if (e == 0 &&
	    ioctl(v->vhost->fd, VHOST_VSOCK_SET_RUNNING, &running) < 0)
		e = -errno;
	if (e < 0) {
		v->host->log(v->dev, MVM_LOG_ERROR,
			     "cannot start vhost-vsock: %s", strerror(-e));
		vsock_vhost_stop(v);
		v->vh->set_needs_reset(v->vdev, "vhost-vsock did not start");
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
	for (unsigned qi = VSOCK_QUEUE_RX; qi <= VSOCK_QUEUE_TX; qi++) {
		struct vhost_vring_state base = {qi, 0};
		struct vhost_vring_file unbind = {qi, -1};

		/* Stops the ring; the core takes the queue back after the
		 * reset hook. The eventfds are the core's: let go of them. */
		ioctl(v->vhost->fd, VHOST_GET_VRING_BASE, &base);
		ioctl(v->vhost->fd, VHOST_SET_VRING_KICK, &unbind);
		ioctl(v->vhost->fd, VHOST_SET_VRING_CALL, &unbind);
	}
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
