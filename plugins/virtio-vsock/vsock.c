/*
 * virtio-vsock: a socket device (virtio 1.2 section 5.10, device id 19)
 * whose host end is hybrid vsock over Unix sockets, as Firecracker and
 * Cloud Hypervisor do it (vsock_unix.h), with options spelled as Cloud
 * Hypervisor's --vsock: cid=N,socket=PATH.
 *
 * Queues: rx 0 (device -> driver), tx 1 (driver -> device), event 2.
 * Stream sockets only: no feature bits offered (5.10.3). The event queue
 * is accepted and left alone: the device never resets the transport on
 * its own, so it has no event to send.
 *
 * Threads: queue kicks and socket events on the event-loop thread;
 * config reads and reset on a vCPU thread; all under the device lock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/vhost.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <modvmm/vhost.h>

#include "vsock.h"
#include "vsock_host.h"
#include "vsock_rx.h"
#include "vsock_tx.h"
#include "vsock_unix.h"
#include "vsock_vhost.h"

#define O struct vsock_opts

static const struct mvm_option vsock_options[] = {
	MVM_OPTION_RANGE("cid", MVM_OPT_U64, O, cid, NULL, true, 3, 0xfffffffe,
			 "the guest's context id (3 and up; 0-2 and -1 are "
			 "reserved)"),
	MVM_OPTION("socket", MVM_OPT_STR, O, socket, NULL, false,
		   "host Unix socket: clients write \"CONNECT <port>\\n\" "
		   "to reach a guest port; the guest reaches PATH_<port>"),
	MVM_OPTION("vhost", MVM_OPT_BOOL, O, vhost, "off", false,
		   "on: the kernel's vhost-vsock moves the data "
		   "(/dev/vhost-vsock); host programs use AF_VSOCK with the "
		   "guest's cid, and socket is not used"),
	MVM_OPTION_RANGE("max_connections", MVM_OPT_U64, O, max_connections,
			 "64", false, 1, 1024,
			 "connections at once (more are refused with RST)"),
	MVM_OPTION_END,
};

#undef O

static void vsock_config_read(void *opaque, uint32_t offset, void *buf,
			      uint32_t len)
{
	struct vsock *v = opaque;

	memcpy(buf, v->config + offset, len);
}

static void vsock_notify(void *opaque, struct mvm_virtq *q, unsigned index)
{
	struct vsock *v = opaque;

	(void)q;
	if (v->vhost && index != VSOCK_QUEUE_EVENT)
		return; /* the kernel's once DRIVER_OK is set */
	switch (index) {
	case VSOCK_QUEUE_RX:
		vsock_rx_kick(v);
		/* Sockets that stopped for want of a buffer read again. */
		for (unsigned i = 0; i < v->table.max; i++) {
			struct vsock_conn *c = v->table.slot[i];

			if (c && c->rx_blocked) {
				c->rx_blocked = false;
				vsock_host_rewatch(v, c);
			}
		}
		break;
	case VSOCK_QUEUE_TX:
		vsock_tx_process(v);
		break;
	case VSOCK_QUEUE_EVENT:
		/* Buffers for events (5.10.6.7) the device never sends: hold
		 * one, so that the ring is checked like the others. */
		if (!v->have_event && v->base.vh->pop(v->evq, &v->event) > 0)
			v->have_event = true;
		break;
	}
}

/* The driver reset the device: every connection ends, as when Linux's
 * driver resets the transport. Host peers see EOF. */
static void vsock_reset(void *opaque)
{
	struct vsock *v = opaque;

	v->have_event = false;
	if (v->vhost)
		vsock_vhost_stop(v);
	vsock_host_close_all(v);
}

static void vsock_driver_ok(void *opaque)
{
	struct vsock *v = opaque;

	if (v->vhost)
		vsock_vhost_start(v);
}

static void vsock_destroy(void *state)
{
	struct vsock *v = state;

	if (!v)
		return;
	if (v->table.slot)
		vsock_host_close_all(v);
	vsock_host_stop(v);
	if (v->base.vdev)
		v->base.vh->destroy(v->base.vdev);
	vsock_vhost_close(v);
	if (v->listen_fd >= 0) {
		close(v->listen_fd);
		unlink(v->opts.socket);
	}
	vsock_table_fini(&v->table);
	free(v);
}

static int vsock_create(mvm_dev *dev, const struct mvm_host *host,
			const char *options, void **state)
{
	static const uint16_t qmax[3] = {VSOCK_QUEUE_SIZE, VSOCK_QUEUE_SIZE,
					 VSOCK_QUEUE_SIZE};
	char why[256];
	struct vsock *v;
	int e;

	const struct mvm_virtio_host *vh =
		MVM_VIRTIO_HOST(dev, host, queue_ready);

	if (!vh)
		return -ENOTSUP;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	mvm_virtio_base_init(&v->base, dev, host, vh);
	v->listen_fd = -1;
	v->sweep_timer = -1;
	e = host->parse_options(dev, vsock_options, options, &v->opts);
	if (e < 0)
		goto fail;
	for (unsigned i = 0; i < 8; i++)
		v->config[i] = (uint8_t)(v->opts.cid >> (8 * i));
	e = vsock_table_init(&v->table, (unsigned)v->opts.max_connections);
	if (e < 0)
		goto fail;
	if (v->opts.vhost) {
		if (v->opts.socket) {
			host->fail(dev,
				   "socket=%s: not used with vhost=on "
				   "(host programs use AF_VSOCK with "
				   "the guest's cid)",
				   v->opts.socket);
			e = -EINVAL;
			goto fail;
		}
		e = vsock_vhost_open(v);
		if (e < 0)
			goto fail;
	} else {
		if (!v->opts.socket) {
			host->fail(dev, "socket: missing (the host Unix socket "
					"path, e.g. socket=/run/vm.vsock; or "
					"vhost=on)");
			e = -EINVAL;
			goto fail;
		}
		e = vsock_unix_listen(v->opts.socket, why, sizeof(why));
		if (e < 0) {
			host->fail(dev, "%s", why);
			goto fail;
		}
		v->listen_fd = e;
	}

	const struct mvm_virtio_device desc = {
		.size = sizeof(desc),
		.device_id = VSOCK_DEVICE_ID,
		.flags = v->vhost ? vsock_vhost_virtio_flags(v) : 0,
		.features = 0,
		.config_size = sizeof(v->config),
		.num_queues = 3,
		.queue_max = qmax,
		.config_read = vsock_config_read,
		.driver_ok = vsock_driver_ok,
		.reset = vsock_reset,
		.queue_notify = vsock_notify,
	};
	e = v->base.vh->create(dev, &desc, v, &v->base.vdev);
	if (e < 0)
		goto fail;
	v->rxq = v->base.vh->queue(v->base.vdev, VSOCK_QUEUE_RX);
	v->txq = v->base.vh->queue(v->base.vdev, VSOCK_QUEUE_TX);
	v->evq = v->base.vh->queue(v->base.vdev, VSOCK_QUEUE_EVENT);
	e = v->vhost ? 0 : vsock_host_start(v);
	if (e < 0) {
		host->fail(dev, "cannot watch socket=%s: %s", v->opts.socket,
			   strerror(-e));
		goto fail;
	}
	*state = v;
	return 0;
fail:
	vsock_destroy(v);
	return e;
}

/* Once the VM runs, a guest connecting to host port P makes the event
 * loop open and connect a Unix socket to PATH_P, and both sides' ends
 * are half-closed with shutdown(2); accept4, recvfrom and sendto are the
 * event loop's own already. */
static const char *const vsock_syscalls[] = {"socket", "connect", "shutdown",
					     NULL};

/* With vhost=on, DRIVER_OK and reset (vCPU threads) start and stop the
 * kernel's engine on /dev/vhost-vsock (vsock_vhost.c); the owner, the
 * features offered and the CID are set in create, before any filter:
 * the SDK's ring requests (modvmm/vhost.h) and the device's own. Each
 * request is allowed alone (ABI 1.3). */
static const uint32_t vsock_ioctls[] = {MVM_VHOST_IOCTLS, VHOST_SET_FEATURES,
					VHOST_VSOCK_SET_RUNNING, 0};

MVM_PLUGIN_EXPORT const struct mvm_plugin mvm_plugin_descriptor = {
	MVM_PLUGIN_HEADER,
	.name = "virtio-vsock",
	.version = "1.0",
	.description = "virtio socket device (vsock): hybrid over host Unix "
		       "sockets, or vhost-vsock",
	.options = vsock_options,
	.create = vsock_create,
	.destroy = vsock_destroy,
	.syscalls = vsock_syscalls,
	.ioctls = vsock_ioctls,
};
