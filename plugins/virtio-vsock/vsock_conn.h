/*
 * virtio-vsock plugin: one connection between a guest port and a host
 * Unix socket, and the bounded table that holds them.
 *
 * A connection is named by (host port, guest port): the host port is the
 * one the guest connected to (PATH_<port>) or, for a host client's
 * CONNECT, one the device picks from 2^30 up as Firecracker does. The
 * table has a fixed number of slots (the max_connections option): a
 * guest flooding REQUESTs, or host clients flooding the listener, are
 * refused beyond it, so neither can make the VMM allocate without bound.
 * Event-loop thread (and the reset hook, on a vCPU thread, under the
 * device lock).
 */
#ifndef MODVMM_VSOCK_CONN_H
#define MODVMM_VSOCK_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "vsock_credit.h"

enum vsock_state {
	VSOCK_LINE,        /* a host client is writing its CONNECT line */
	VSOCK_CONNECTING,  /* REQUEST sent to the guest, no RESPONSE yet */
	VSOCK_ESTABLISHED, /* data flows */
	VSOCK_CLOSING,     /* socket closed; RST for the guest pending */
};

/* Control packets a connection owes the guest, sent as rx buffers come:
 * bits of `pending`, sent lowest first. */
#define VSOCK_PEND_REQUEST (1u << 0)
#define VSOCK_PEND_RESPONSE (1u << 1)
#define VSOCK_PEND_CREDIT_UPDATE (1u << 2)
#define VSOCK_PEND_CREDIT_REQUEST (1u << 3)
#define VSOCK_PEND_SHUTDOWN (1u << 4)
#define VSOCK_PEND_RST (1u << 5)

/* The longest CONNECT line we read: "CONNECT 4294967295\n" is 19. */
#define VSOCK_LINE_MAX 32

struct vsock;

struct vsock_conn {
	struct vsock *v;
	unsigned slot;
	enum vsock_state state;
	int fd;           /* the host side: a Unix stream socket, or -1 */
	uint32_t watched; /* epoll events registered for fd; 0: none */
	bool keyed;       /* host_port/guest_port are set */
	uint32_t host_port, guest_port;
	uint32_t pending; /* VSOCK_PEND_* */
	bool on_ctl;      /* on the device's list of connections owing */
	struct vsock_conn *ctl_next;
	bool rx_blocked; /* waiting for the guest's rx buffers */
	bool host_eof;   /* the host side sent EOF; SHUTDOWN(SEND) told */
	bool guest_no_send, guest_no_rcv; /* the guest's SHUTDOWN flags */
	bool credit_asked;      /* CREDIT_REQUEST sent, no credit since */
	unsigned connect_ticks; /* CONNECTING: sweeps left for a RESPONSE */
	struct vsock_credit cr;
	/* Guest bytes the socket did not take yet: a ring of cr.buf_alloc
	 * bytes, allocated on first need. */
	uint8_t *wbuf;
	uint32_t whead, wlen;
	char line[VSOCK_LINE_MAX];
	unsigned linelen;
};

struct vsock_table {
	struct vsock_conn **slot;
	unsigned max, n;
	uint32_t next_port; /* next host port to try for a CONNECT */
};

int vsock_table_init(struct vsock_table *t, unsigned max);
void vsock_table_fini(struct vsock_table *t);
/* A new connection in a free slot (fd -1, unkeyed), or NULL when the
 * table is full or memory is short. */
struct vsock_conn *vsock_conn_new(struct vsock_table *t, struct vsock *v,
				  uint32_t buf_alloc);
/* Take it out of the table and free it; the caller closed its fd and took
 * it off any list. */
void vsock_conn_free(struct vsock_table *t, struct vsock_conn *c);
struct vsock_conn *vsock_conn_find(const struct vsock_table *t,
				   uint32_t host_port, uint32_t guest_port);
/* A host port that no connection uses, for a host client's CONNECT. */
uint32_t vsock_table_free_port(struct vsock_table *t);

#endif /* MODVMM_VSOCK_CONN_H */
