/*
 * virtio-net plugin: vhost-net (see net_vhost.h).
 *
 * The tap keeps its 12-byte vnet header (TUNSETVNETHDRSZ) and vhost-net is
 * not asked for VHOST_NET_F_VIRTIO_NET_HDR, so the kernel passes the
 * guest's header through to the tap unchanged, as it does for QEMU with
 * a vnet_hdr tap. vhost-net is told only the ring features it knows
 * (VHOST_GET_FEATURES: VERSION_1, EVENT_IDX, INDIRECT_DESC, MRG_RXBUF);
 * the offloads are the tap's, set by features_ok as without vhost.
 *
 * The rate limit and the frame counters are not applied while vhost-net
 * runs the queues: the frames never pass through the VMM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "net_vhost.h"

/* Guest RAM is a few regions at most (below and above the 32-bit hole). */
#define MAX_REGIONS 8

struct net_vhost {
	int fd;
	uint64_t features; /* what vhost-net supports */
	bool started[NET_NQUEUES];
};

static bool sdk_has_offload(const struct net *n)
{
	return MVM_HOST_HAS(n->base.host, ram_regions) &&
	       n->base.host->ram_regions &&
	       MVM_HOST_HAS(n->base.vh, queue_reclaim) &&
	       n->base.vh->queue_offload && n->base.vh->queue_rings &&
	       n->base.vh->queue_reclaim;
}

static int refuse(struct net *n, enum net_vhost_mode mode, const char *why,
		  int e)
{
	if (mode == NET_VHOST_ON) {
		n->base.host->fail(n->base.dev, "vhost=on: %s", why);
		return -e;
	}
	n->base.host->log(n->base.dev, MVM_LOG_INFO,
			  "vhost=auto: %s: userspace data path", why);
	return 0;
}

int net_vhost_open(struct net *n, enum net_vhost_mode mode)
{
	struct net_vhost *v;
	char why[160];
	int fd;

	if (mode == NET_VHOST_OFF)
		return 0;
	if (!sdk_has_offload(n))
		return refuse(n, mode,
			      "this modvmm cannot hand queues to vhost-net "
			      "(plugin ABI 1.3)",
			      ENOTSUP);
	fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		snprintf(why, sizeof(why), "/dev/vhost-net: %s%s", strerror(e),
			 e == ENOENT ? " (modprobe vhost_net)" : "");
		return refuse(n, mode, why, e);
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		close(fd);
		return -ENOMEM;
	}
	v->fd = fd;
	if (ioctl(fd, VHOST_SET_OWNER) < 0 ||
	    ioctl(fd, VHOST_GET_FEATURES, &v->features) < 0) {
		int e = errno;

		snprintf(why, sizeof(why), "/dev/vhost-net: %s", strerror(e));
		close(fd);
		free(v);
		return refuse(n, mode, why, e);
	}
	n->vhost = v;
	if (mode == NET_VHOST_AUTO)
		n->base.host->log(n->base.dev, MVM_LOG_INFO,
				  "vhost=auto: vhost-net data path");
	return 0;
}

static int mem_table(struct net *n)
{
	struct mvm_ram_region r[MAX_REGIONS];
	struct vhost_memory *m;
	int k = n->base.host->ram_regions(n->base.dev, r, MAX_REGIONS), e = 0;

	if (k <= 0 || k > MAX_REGIONS)
		return -E2BIG;
	m = calloc(1, sizeof(*m) + (size_t)k * sizeof(m->regions[0]));
	if (!m)
		return -ENOMEM;
	m->nregions = (uint32_t)k;
	for (int i = 0; i < k; i++) {
		m->regions[i].guest_phys_addr = r[i].gpa;
		m->regions[i].memory_size = r[i].size;
		m->regions[i].userspace_addr = (uintptr_t)r[i].host;
	}
	if (ioctl(n->vhost->fd, VHOST_SET_MEM_TABLE, m) < 0)
		e = -errno;
	free(m);
	return e;
}

/* Host address of a ring of `len` bytes at `gpa`, 0 if outside RAM. */
static uint64_t ring_addr(struct net *n, uint64_t gpa, uint64_t len)
{
	return (uintptr_t)n->base.host->guest_mem(n->base.dev, gpa, len);
}

/* Rings, base index and eventfds of queue i, then the tap as backend. */
static int start_queue(struct net *n, unsigned i)
{
	struct net_vhost *v = n->vhost;
	struct mvm_virtq *q = n->q[i];
	struct mvm_virtq_rings r;
	int kick, call, e;

	e = n->base.vh->queue_rings(q, &r);
	if (e < 0)
		return e;
	/* Split ring sizes (virtio spec 2.7): 16-byte descriptors; flags,
	 * idx, the ring and the event word. */
	struct vhost_vring_addr a = {
		.index = i,
		.desc_user_addr = ring_addr(n, r.desc_gpa, 16ULL * r.num),
		.avail_user_addr = ring_addr(n, r.avail_gpa, 6 + 2ULL * r.num),
		.used_user_addr = ring_addr(n, r.used_gpa, 6 + 8ULL * r.num),
	};
	struct vhost_vring_state num = {.index = i, .num = r.num};
	struct vhost_vring_state base = {.index = i, .num = r.next_avail};

	if (!a.desc_user_addr || !a.avail_user_addr || !a.used_user_addr)
		return -EFAULT;
	if (ioctl(v->fd, VHOST_SET_VRING_NUM, &num) < 0 ||
	    ioctl(v->fd, VHOST_SET_VRING_BASE, &base) < 0 ||
	    ioctl(v->fd, VHOST_SET_VRING_ADDR, &a) < 0)
		return -errno;
	e = n->base.vh->queue_offload(q, &kick, &call);
	if (e < 0)
		return e;
	v->started[i] = true;
	struct vhost_vring_file fk = {.index = i, .fd = kick};
	struct vhost_vring_file fc = {.index = i, .fd = call};
	struct vhost_vring_file fb = {.index = i, .fd = n->tap};

	if (ioctl(v->fd, VHOST_SET_VRING_KICK, &fk) < 0 ||
	    ioctl(v->fd, VHOST_SET_VRING_CALL, &fc) < 0 ||
	    ioctl(v->fd, VHOST_NET_SET_BACKEND, &fb) < 0)
		return -errno;
	return 0;
}

/* Stop queue i's engine; returns its next avail index in *avail. */
static void stop_queue(struct net *n, unsigned i, uint16_t *avail)
{
	struct vhost_vring_file fb = {.index = i, .fd = -1};
	struct vhost_vring_state st = {.index = i};

	ioctl(n->vhost->fd, VHOST_NET_SET_BACKEND, &fb);
	if (ioctl(n->vhost->fd, VHOST_GET_VRING_BASE, &st) == 0 && avail)
		*avail = (uint16_t)st.num;
}

int net_vhost_start(struct net *n)
{
	struct net_vhost *v = n->vhost;
	uint64_t f = n->acked & v->features;
	int e;

	/* The guest's own header goes through to the tap: not
	 * VHOST_NET_F_VIRTIO_NET_HDR (bit 27). */
	f &= ~(1ULL << 27);
	e = mem_table(n);
	if (e == 0 && ioctl(v->fd, VHOST_SET_FEATURES, &f) < 0)
		e = -errno;
	for (unsigned i = 0; e == 0 && i < NET_NQUEUES; i++)
		e = start_queue(n, i);
	if (e == 0) {
		n->vhost_active = true;
		return 0;
	}
	/* Back to user space for this driver: take the queues back where
	 * vhost-net left them. */
	n->base.host->log(n->base.dev, MVM_LOG_WARN,
			  "vhost-net start failed (%s): userspace data path",
			  strerror(-e));
	for (unsigned i = 0; i < NET_NQUEUES; i++) {
		struct mvm_virtq_rings r;
		uint16_t avail = 0;

		if (!v->started[i])
			continue;
		v->started[i] = false;
		n->base.vh->queue_rings(n->q[i], &r);
		avail = r.next_avail;
		stop_queue(n, i, &avail);
		uint16_t *used =
			n->base.host->guest_mem(n->base.dev, r.used_gpa + 2, 2);

		n->base.vh->queue_reclaim(n->q[i], avail,
					  used ? *used : r.next_used);
	}
	return e;
}

void net_vhost_stop(struct net *n)
{
	/* On a reset the core ends the offloads itself, after this. */
	for (unsigned i = 0; i < NET_NQUEUES; i++) {
		if (!n->vhost->started[i])
			continue;
		stop_queue(n, i, NULL);
		n->vhost->started[i] = false;
	}
	n->vhost_active = false;
}

void net_vhost_close(struct net *n)
{
	if (!n->vhost)
		return;
	close(n->vhost->fd);
	free(n->vhost);
	n->vhost = NULL;
}
