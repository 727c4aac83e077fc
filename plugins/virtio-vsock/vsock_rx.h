/*
 * virtio-vsock plugin: what the device sends the guest, into the buffers
 * of its rx queue (virtio 1.2 section 5.10.6.2): control packets owed by
 * connections (REQUEST, RESPONSE, CREDIT_UPDATE/REQUEST, SHUTDOWN, RST),
 * RSTs for packets that matched no connection, and data read from a
 * connection's socket, never more than the guest's credit allows and never
 * more than one buffer holds. Nothing is read from a socket before a
 * buffer is there to take it, so no data waits in the VMM for the guest.
 * Event-loop thread.
 */
#ifndef MODVMM_VSOCK_RX_H
#define MODVMM_VSOCK_RX_H

#include <stdint.h>

#include "vsock.h"

/* Answer a packet that matched no connection with RST; dropped (and
 * counted) when VSOCK_RST_RING answers already wait. */
void vsock_rx_queue_rst(struct vsock *v, uint32_t host_port,
			uint32_t guest_port);
/* Connection `c` owes the guest the packets `pend` (VSOCK_PEND_*). */
void vsock_rx_owe(struct vsock *v, struct vsock_conn *c, uint32_t pend);
/* Take `c` off the list of connections owing packets. */
void vsock_rx_forget(struct vsock *v, struct vsock_conn *c);
/* Send what is owed while rx buffers last; a connection whose RST went out
 * is freed. Interrupts the guest if anything was sent. */
void vsock_rx_flush(struct vsock *v);

enum vsock_rx_result {
	VSOCK_RX_AGAIN,   /* the socket has nothing more now */
	VSOCK_RX_BLOCKED, /* no credit, or no rx buffer: stop reading */
	VSOCK_RX_EOF,     /* the socket sent EOF: SHUTDOWN is owed */
	VSOCK_RX_ERROR,   /* the socket failed: reset the connection */
};
/* The socket of established connection `c` is readable: move what credit
 * and buffers allow (a bounded batch) to the guest. */
enum vsock_rx_result vsock_rx_from_socket(struct vsock *v,
					  struct vsock_conn *c);
/* The driver added rx buffers. */
void vsock_rx_kick(struct vsock *v);
/* The device was reset: forget the held chain, owed RSTs and the list. */
void vsock_rx_reset(struct vsock *v);

#endif /* MODVMM_VSOCK_RX_H */
