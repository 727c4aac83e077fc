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
#include <linux/vhost.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <modvmm/vhost.h>

#include "net_vhost.h"

struct net_vhost {
	int fd;
	uint64_t features; /* what vhost-net supports */
	bool started[NET_NQUEUES];
};

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
	uint64_t features;
	char why[160];
	int fd;

	if (mode == NET_VHOST_OFF)
		return 0;
	if (!mvm_vhost_usable(&n->base))
		return refuse(n, mode,
			      "this modvmm cannot hand queues to vhost-net "
			      "(plugin ABI 1.3)",
			      ENOTSUP);
	fd = mvm_vhost_open("/dev/vhost-net", "vhost_net", &features, why,
			    sizeof(why));
	if (fd < 0)
		return refuse(n, mode, why, -fd);
	v = calloc(1, sizeof(*v));
	if (!v) {
		close(fd);
		return -ENOMEM;
	}
	v->fd = fd;
	v->features = features;
	n->vhost = v;
	if (mode == NET_VHOST_AUTO)
		n->base.host->log(n->base.dev, MVM_LOG_INFO,
				  "vhost=auto: vhost-net data path");
	return 0;
}

/* The tap as the backend of queue i, or none (-1): vhost-net stops
 * moving that queue's frames. */
static int set_backend(struct net *n, unsigned i, int fd)
{
	struct vhost_vring_file fb = {.index = i, .fd = fd};

	return ioctl(n->vhost->fd, VHOST_NET_SET_BACKEND, &fb) < 0 ? -errno : 0;
}

/* Rings, base index and eventfds of queue i, then the tap as backend. */
static int start_queue(struct net *n, unsigned i)
{
	int e = mvm_vhost_start_queue(&n->base, n->vhost->fd, n->q[i], i);

	if (e < 0)
		return e;
	n->vhost->started[i] = true;
	return set_backend(n, i, n->tap);
}

int net_vhost_start(struct net *n)
{
	struct net_vhost *v = n->vhost;
	uint64_t f = n->acked & v->features;
	int e;

	/* The guest's own header goes through to the tap: not
	 * VHOST_NET_F_VIRTIO_NET_HDR (bit 27). */
	f &= ~(1ULL << 27);
	e = mvm_vhost_set_mem_table(&n->base, v->fd);
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
		if (!v->started[i])
			continue;
		v->started[i] = false;
		set_backend(n, i, -1);
		mvm_vhost_reclaim_queue(&n->base, v->fd, n->q[i], i);
	}
	return e;
}

void net_vhost_stop(struct net *n)
{
	/* On a reset the core ends the offloads itself, after this. */
	for (unsigned i = 0; i < NET_NQUEUES; i++) {
		if (!n->vhost->started[i])
			continue;
		set_backend(n, i, -1);
		mvm_vhost_stop_queue(n->vhost->fd, i, NULL);
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
