/*
 * virtio-vsock plugin: the state its files share. vsock.c is the plugin
 * (options, config space, queues, reset), vsock_tx.c takes the guest's
 * packets (its tx queue), vsock_rx.c fills the guest's rx buffers (control
 * packets owed, then socket data as credit allows), vsock_host.c is the
 * Unix-socket side (the listener, CONNECT lines, PATH_<port>, the
 * sockets' events), vsock_unix.c the socket calls themselves,
 * vsock_conn.c the connection table, vsock_credit.c flow control and
 * vsock_pkt.c the packet header.
 *
 * Everything runs on the event-loop thread (queue kicks, socket events)
 * except config reads and reset (a vCPU thread), all under the core's
 * device lock.
 */
#ifndef MODVMM_VSOCK_H
#define MODVMM_VSOCK_H

#include <stdbool.h>
#include <stdint.h>

#include <modvmm/plugin.h>
#include <modvmm/virtio.h>

#include "vsock_conn.h"
#include "vsock_pkt.h"

#define VSOCK_DEVICE_ID 19
#define VSOCK_QUEUE_RX 0
#define VSOCK_QUEUE_TX 1
#define VSOCK_QUEUE_EVENT 2
#define VSOCK_QUEUE_SIZE 256

/* Receive buffer we advertise per connection (guest -> host bytes we hold
 * while the host socket is slow). */
#define VSOCK_CONN_BUF (256u * 1024)
/* RSTs for packets that match no connection, waiting for rx buffers; more
 * are dropped (a flood of bad packets gets a bounded answer). */
#define VSOCK_RST_RING 64
/* A host client's CONNECT waits this many sweeps of VSOCK_SWEEP_NS for the
 * guest's RESPONSE, then is reset: a guest that never answers cannot hold
 * connection slots (Firecracker waits 2 s; a guest on a slow, emulated
 * CPU needs more). */
#define VSOCK_SWEEP_NS 1000000000ULL
#define VSOCK_CONNECT_TICKS 10

struct vsock_opts {
	const char *socket;
	uint64_t cid;
	uint64_t max_connections;
	bool vhost;
};

struct vsock_rst {
	uint32_t host_port, guest_port;
};

struct vsock_vhost;

struct vsock {
	mvm_dev *dev;
	const struct mvm_host *host;
	const struct mvm_virtio_host *vh;
	struct mvm_virtio *vdev;
	struct vsock_opts opts;
	uint8_t config[8]; /* le64 guest_cid (5.10.4) */
	struct mvm_virtq *rxq, *txq;

	/* Hybrid mode. */
	int listen_fd;
	bool listen_watched;
	struct vsock_table table;
	int sweep_timer; /* while any connection is CONNECTING; -1: none */
	struct vsock_conn *ctl_head, *ctl_tail; /* connections owing packets */
	struct vsock_rst rst[VSOCK_RST_RING];
	unsigned rst_first, rst_n;
	/* One rx chain popped and not yet filled (there is no "unpop"). */
	struct mvm_virtq_chain held;
	bool have_held;
	bool rx_starved; /* pop found no rx buffer: wait for the rx kick */
	bool rx_pushed;  /* rx chains pushed since the last notify */
	/* One event-queue buffer taken and kept for an event we never send
	 * (taking it checks the ring, as for any queue). */
	struct mvm_virtq *evq;
	struct mvm_virtq_chain event;
	bool have_event;
	uint8_t rxbuf[VSOCK_MAX_PAYLOAD];
	uint8_t txbuf[VSOCK_MAX_PAYLOAD];

	/* vhost mode. */
	struct vsock_vhost *vhost;

	/* Counters, for logs and tests. */
	uint64_t n_bad_pkts, n_rst_dropped;
};

#endif /* MODVMM_VSOCK_H */
