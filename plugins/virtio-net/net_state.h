/*
 * virtio-net plugin: the state shared by its files (a header of its own,
 * so that the data path's files need nothing of net.c). net.c is the plugin
 * (options, config space, features, the queues' life), net_opts.c checks
 * the options a user gave, net_tap.c opens and configures the tap device,
 * net_hdr.c checks the virtio-net header a driver hands over, net_tx.c and
 * net_rx.c move frames between the queues and the tap (rate-limited with
 * the SDK's token bucket), net_vhost.c hands the queues to the kernel's
 * vhost-net, net_api.c is the `info` control command.
 *
 * Without vhost, every frame moves on the event-loop thread: a tx kick
 * (queue_notify) pops chains and writes them to the tap; the tap fd,
 * watched with host->add_fd, is read into the guest's receive buffers.
 * Nothing of the data path runs on a vCPU thread.
 */
#ifndef MODVMM_NET_STATE_H
#define MODVMM_NET_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include <modvmm/plugin.h>
#include <modvmm/virtio.h>

#include <modvmm/token_bucket.h>

#define NET_DEVICE_ID 1

/* Feature bits (virtio spec 5.1.3). */
#define NET_F_CSUM 0
#define NET_F_GUEST_CSUM 1
#define NET_F_MTU 3
#define NET_F_MAC 5
#define NET_F_GUEST_TSO4 7
#define NET_F_GUEST_TSO6 8
#define NET_F_HOST_TSO4 11
#define NET_F_HOST_TSO6 12
#define NET_F_MRG_RXBUF 15
#define NET_F_STATUS 16

/* Config space (virtio spec 5.1.4): mac[6], le16 status,
 * le16 max_virtqueue_pairs, le16 mtu. */
#define NET_CONFIG_BYTES 12
#define NET_S_LINK_UP 1

/* The queues of one rx/tx pair (virtio spec 5.1.2). */
#define NET_RXQ 0
#define NET_TXQ 1
#define NET_NQUEUES 2

/* Frames: the Ethernet header, and the largest frame with a GSO payload
 * (64 KiB of IP packet plus the Ethernet and a VLAN header), as Firecracker
 * and Cloud Hypervisor bound it. */
#define NET_ETH_HLEN 14
#define NET_MAX_FRAME (65535 + NET_ETH_HLEN + 4)

struct net_opts {
	const char *tap;
	const char *ip;
	const char *mask;
	const char *mac;
	uint64_t mtu;
	uint64_t num_queues;
	uint64_t queue_size;
	const char *vhost;
	uint64_t bw_size, bw_refill_time;
	uint64_t ops_size, ops_refill_time;
};

/* Counters: every frame that does not make it is counted once here. */
struct net_stats {
	uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes;
	uint64_t tx_dropped;  /* bad header, bad length, wrong direction */
	uint64_t tx_errors;   /* the tap refused a frame */
	uint64_t rx_dropped;  /* guest buffers too small or malformed */
	uint64_t rx_bad_bufs; /* rx chains with readable parts, too short */
};

struct net_tx;
struct net_rx;
struct net_vhost;

struct net {
	struct mvm_virtio_base base; /* dev, host, vh, vdev */
	struct net_opts opts;
	uint8_t mac[6];
	char ifname[16];   /* the tap's name as the kernel gave it */
	int tap;           /* the tap fd (non-blocking) */
	uint64_t features; /* offered */
	uint64_t acked;    /* accepted by the driver (features_ok) */
	uint32_t hdr_len;  /* the virtio-net header: 12 bytes (1.x) */
	uint8_t config[NET_CONFIG_BYTES];
	struct mvm_virtq *q[NET_NQUEUES];
	struct net_tx *tx;
	struct net_rx *rx;
	bool rx_watched; /* the tap fd is on the event loop */
	int kick;        /* eventfd: more work left over (a flood) */
	struct mvm_bucket bw[NET_NQUEUES], ops[NET_NQUEUES];
	int timer;                /* rate-limit refill, -1 when not armed */
	struct net_vhost *vhost;  /* NULL: the userspace data path */
	bool vhost_active;        /* the queues are vhost-net's now */
	const char *host_options; /* the option string given to create */
	struct net_stats st;
};

/* What a pass of the data path (net_tx_process, net_rx_process) stopped
 * at; net.c, which owns the event-loop registrations, acts on it. */
enum net_pass {
	NET_PASS_DONE,       /* nothing left, or a reset stopped it */
	NET_PASS_THROTTLED,  /* the rate limit: again after a refill */
	NET_PASS_MORE,       /* its budget spent: again, after the others */
	NET_PASS_NO_BUFFERS, /* rx: a frame waits for the driver's buffers */
};

#endif /* MODVMM_NET_STATE_H */
