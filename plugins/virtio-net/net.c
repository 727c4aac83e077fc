/*
 * virtio-net: a virtio network device (virtio spec 5.1, device id 1) over a
 * tap device, with options spelled as Cloud Hypervisor's --net.
 *
 * One receive/transmit queue pair. Offered: MAC, MTU, STATUS (link up),
 * MRG_RXBUF, CSUM and HOST_TSO4/6 (the tap takes partially checksummed and
 * segmentation-offloaded frames from the guest), GUEST_CSUM and
 * GUEST_TSO4/6 (the tap hands them to the guest, once TUNSETOFFLOAD says
 * the driver accepted them).
 *
 * Frames move on the event-loop thread (net_tx.c, net_rx.c), or in the
 * kernel with vhost-net (net_vhost.c). Threads: queue_notify, the tap fd,
 * the kick eventfd and the refill timer run on the event-loop thread;
 * config_read, features_ok, driver_ok and reset on a vCPU thread; all
 * under the core's device lock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <modvmm/vhost.h>

#include "net.h"

static void put_le16(uint8_t *p, uint64_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* Device config (virtio spec 5.1.4). */
static void build_config(struct net *n)
{
	memset(n->config, 0, sizeof(n->config));
	memcpy(n->config, n->mac, 6);
	put_le16(n->config + 6, NET_S_LINK_UP);
	put_le16(n->config + 8, 1); /* max_virtqueue_pairs */
	put_le16(n->config + 10, n->opts.mtu);
}

static void net_config_read(void *opaque, uint32_t offset, void *buf,
			    uint32_t len)
{
	struct net *n = opaque;

	memcpy(buf, n->config + offset, len);
}

static void tx_pass(struct net *n);
static void rx_pass(struct net *n);

static void on_tap(void *opaque, int fd, uint32_t events)
{
	(void)fd;
	(void)events;
	rx_pass(opaque);
}

/* Start or stop reading the tap (the rx side waits for guest buffers or
 * for the rate limit). Event-loop thread, or a vCPU thread on reset. */
static void net_rx_watch(struct net *n, bool on)
{
	if (on == n->rx_watched || n->vhost_active)
		return;
	if (on &&
	    n->base.host->add_fd(n->base.dev, n->tap, EPOLLIN, on_tap, n) < 0)
		return;
	if (!on)
		n->base.host->remove_fd(n->base.dev, n->tap);
	n->rx_watched = on;
}

static bool running(const struct net *n)
{
	return (n->base.vh->status(n->base.vdev) &
		MVM_VIRTIO_STATUS_DRIVER_OK) &&
	       !n->vhost_active;
}

static void on_kick(void *opaque, int fd, uint32_t events)
{
	struct net *n = opaque;
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0)
		return;
	if (running(n))
		tx_pass(n);
}

/* Ask the event loop to call the data path again (work left over). */
static void net_kick_self(struct net *n)
{
	uint64_t one = 1;

	if (write(n->kick, &one, sizeof(one)) < 0)
		n->base.host->log_guest(n->base.dev, "kick eventfd: %s",
					strerror(errno));
}

static void refill(void *opaque);

/* Arm the refill timer if a bucket is below full. */
static void net_arm_refill(struct net *n)
{
	uint64_t ns = UINT64_MAX;

	if (n->timer >= 0)
		return;
	for (int i = 0; i < NET_NQUEUES; i++) {
		if (!mvm_bucket_full(&n->bw[i]) &&
		    mvm_bucket_step_ns(&n->bw[i]) < ns)
			ns = mvm_bucket_step_ns(&n->bw[i]);
		if (!mvm_bucket_full(&n->ops[i]) &&
		    mvm_bucket_step_ns(&n->ops[i]) < ns)
			ns = mvm_bucket_step_ns(&n->ops[i]);
	}
	if (ns != UINT64_MAX)
		n->timer =
			n->base.host->add_timer(n->base.dev, ns, 0, refill, n);
}

static void refill(void *opaque)
{
	struct net *n = opaque;

	n->timer = -1;
	for (int i = 0; i < NET_NQUEUES; i++) {
		if (n->bw[i].size)
			mvm_bucket_refill_step(&n->bw[i]);
		if (n->ops[i].size)
			mvm_bucket_refill_step(&n->ops[i]);
	}
	if (running(n)) {
		tx_pass(n);
		net_rx_watch(n, true);
		rx_pass(n);
	}
	net_arm_refill(n);
}

/* What a pass of the data path left undone (enum net_pass), acted on. */
static void tx_pass(struct net *n)
{
	switch (net_tx_process(n)) {
	case NET_PASS_THROTTLED:
		net_arm_refill(n); /* the rest waits in the ring */
		break;
	case NET_PASS_MORE:
		net_kick_self(n);
		break;
	default:
		break;
	}
}

static void rx_pass(struct net *n)
{
	switch (net_rx_process(n)) {
	case NET_PASS_THROTTLED:
		net_rx_watch(n, false);
		net_arm_refill(n);
		break;
	case NET_PASS_NO_BUFFERS:
		net_rx_watch(n, false); /* until queue_notify on the rx queue */
		break;
	default:
		break;
	}
}

static void net_notify(void *opaque, struct mvm_virtq *q, unsigned index)
{
	struct net *n = opaque;

	(void)q;
	if (index == NET_TXQ) {
		tx_pass(n);
	} else if (index == NET_RXQ) {
		/* New buffers: take up a frame left waiting for them. */
		net_rx_watch(n, true);
		rx_pass(n);
	}
}

/* Dependencies between the offloads (virtio spec 5.1.3.1). */
static int net_features_ok(void *opaque, uint64_t f)
{
	struct net *n = opaque;
	uint64_t tso_guest =
		1ULL << NET_F_GUEST_TSO4 | 1ULL << NET_F_GUEST_TSO6;
	uint64_t tso_host = 1ULL << NET_F_HOST_TSO4 | 1ULL << NET_F_HOST_TSO6;

	if ((f & tso_guest) && !(f & (1ULL << NET_F_GUEST_CSUM)))
		return -EINVAL;
	if ((f & tso_host) && !(f & (1ULL << NET_F_CSUM)))
		return -EINVAL;
	if (net_tap_set_offload(n->tap, f) < 0) {
		n->base.host->log_guest(n->base.dev, "TUNSETOFFLOAD failed");
		return -EIO;
	}
	n->acked = f;
	return 0;
}

static void net_driver_ok(void *opaque)
{
	struct net *n = opaque;

	if (n->vhost && net_vhost_start(n) == 0)
		return;
	net_rx_watch(n, true);
}

static void net_reset(void *opaque)
{
	struct net *n = opaque;

	if (n->vhost_active)
		net_vhost_stop(n);
	net_rx_watch(n, false);
	net_rx_reset(n);
	n->acked = 0;
	net_tap_set_offload(n->tap, 0);
}

static void net_destroy(void *state)
{
	struct net *n = state;

	if (!n)
		return;
	if (n->vhost_active)
		net_vhost_stop(n);
	net_vhost_close(n);
	if (n->timer >= 0)
		n->base.host->cancel_timer(n->base.dev, n->timer);
	if (n->rx_watched)
		n->base.host->remove_fd(n->base.dev, n->tap);
	if (n->kick >= 0) {
		n->base.host->remove_fd(n->base.dev, n->kick);
		close(n->kick);
	}
	if (n->base.vdev)
		n->base.vh->destroy(n->base.vdev);
	if (n->tap >= 0)
		close(n->tap);
	net_rx_free(n);
	net_tx_free(n);
	free(n);
}

static uint64_t offered(void)
{
	return 1ULL << NET_F_CSUM | 1ULL << NET_F_GUEST_CSUM |
	       1ULL << NET_F_MTU | 1ULL << NET_F_MAC |
	       1ULL << NET_F_GUEST_TSO4 | 1ULL << NET_F_GUEST_TSO6 |
	       1ULL << NET_F_HOST_TSO4 | 1ULL << NET_F_HOST_TSO6 |
	       1ULL << NET_F_MRG_RXBUF | 1ULL << NET_F_STATUS;
}

static int set_up(struct net *n)
{
	int e;

	e = n->base.host->parse_options(n->base.dev, net_options,
					n->host_options, &n->opts);
	if (e < 0)
		return e;
	e = net_opts_check(n);
	if (e < 0)
		return e;
	/* Before the tap: vhost=on without vhost-net is the user's to fix,
	 * and a tap created for nothing would be left behind. */
	e = net_vhost_open(n, net_opts_vhost(n));
	if (e < 0)
		return e;
	e = net_tap_open(n);
	if (e < 0)
		return e;
	if (!n->opts.mac)
		net_opts_default_mac(n);
	for (int i = 0; i < NET_NQUEUES; i++) {
		mvm_bucket_init(&n->bw[i], n->opts.bw_size,
				n->opts.bw_refill_time);
		mvm_bucket_init(&n->ops[i], n->opts.ops_size,
				n->opts.ops_refill_time);
	}
	build_config(n);
	if (net_tx_init(n) < 0 || net_rx_init(n) < 0)
		return -ENOMEM;
	n->kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (n->kick < 0) {
		e = -errno;
		n->base.host->fail(n->base.dev, "eventfd: %s", strerror(-e));
		return e;
	}
	e = n->base.host->add_fd(n->base.dev, n->kick, EPOLLIN, on_kick, n);
	if (e < 0) {
		close(n->kick);
		n->kick = -1;
		n->base.host->fail(n->base.dev, "cannot watch an eventfd: %s",
				   strerror(-e));
	}
	return e;
}

static int net_create(mvm_dev *dev, const struct mvm_host *host,
		      const char *options, void **state)
{
	uint16_t qmax[NET_NQUEUES];
	struct net *n;
	int e;

	const struct mvm_virtio_host *vh =
		MVM_VIRTIO_HOST(dev, host, queue_ready);

	if (!vh)
		return -ENOTSUP;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	mvm_virtio_base_init(&n->base, dev, host, vh);
	n->host_options = options;
	n->tap = n->kick = -1;
	n->timer = -1;
	n->hdr_len = NET_HDR_BYTES;
	e = set_up(n);
	if (e < 0)
		goto fail;
	for (int i = 0; i < NET_NQUEUES; i++)
		qmax[i] = (uint16_t)n->opts.queue_size;

	const struct mvm_virtio_device desc = {
		.size = sizeof(desc),
		.device_id = NET_DEVICE_ID,
		.features = offered(),
		.config_size = NET_CONFIG_BYTES,
		.num_queues = NET_NQUEUES,
		.queue_max = qmax,
		.config_read = net_config_read,
		.features_ok = net_features_ok,
		.driver_ok = net_driver_ok,
		.reset = net_reset,
		.queue_notify = net_notify,
	};
	n->features = desc.features;
	e = n->base.vh->create(dev, &desc, n, &n->base.vdev);
	if (e < 0)
		goto fail;
	e = net_api_register(n);
	if (e < 0)
		goto fail;
	for (int i = 0; i < NET_NQUEUES; i++)
		n->q[i] = n->base.vh->queue(n->base.vdev, (unsigned)i);
	host->log(dev, MVM_LOG_INFO,
		  "tap %s, mac %02x:%02x:%02x:%02x:%02x:%02x, %s data path",
		  n->ifname, n->mac[0], n->mac[1], n->mac[2], n->mac[3],
		  n->mac[4], n->mac[5], n->vhost ? "vhost-net" : "userspace");
	*state = n;
	return 0;
fail:
	net_destroy(n);
	return e;
}

/* The transmit path writes the tap with writev (event loop). */
static const char *const net_syscalls[] = {"writev", NULL};
/* features_ok and reset set the tap's offloads; driver_ok, reset and
 * destroy drive vhost-net: the SDK's ring requests (modvmm/vhost.h) and
 * vhost-net's own (VHOST_SET_OWNER and VHOST_GET_FEATURES run in create,
 * before any filter). */
static const uint32_t net_ioctls[] = {
	TUNSETOFFLOAD,
	MVM_VHOST_IOCTLS,
	VHOST_SET_FEATURES,
	VHOST_NET_SET_BACKEND,
	0,
};

MVM_PLUGIN_EXPORT const struct mvm_plugin mvm_plugin_descriptor = {
	MVM_PLUGIN_HEADER,
	.name = "virtio-net",
	.version = "1.0",
	.description = "virtio network device (virtio-net) over a tap device",
	.options = net_options,
	.create = net_create,
	.destroy = net_destroy,
	.syscalls = net_syscalls,
	.ioctls = net_ioctls,
};
