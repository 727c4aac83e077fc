/*
 * virtio-vsock plugin: the host side of hybrid vsock, on the event loop.
 * The listener's clients and their CONNECT lines; the connections'
 * sockets and what their events mean (data for the guest, room for the
 * guest's bytes, EOF, errors); and what the guest's packets do to a
 * connection's socket. Each socket is watched only for what the
 * connection can use now (reading needs the guest's credit and an rx
 * buffer; writing, bytes waiting), so a level-triggered event loop never
 * spins on a socket the device cannot serve.
 */
#ifndef MODVMM_VSOCK_HOST_H
#define MODVMM_VSOCK_HOST_H

#include <stdint.h>

#include "vsock.h"

/* Watch the listener. */
int vsock_host_start(struct vsock *v);
/* Close every connection's socket and forget them all, telling the guest
 * nothing (a reset or the end): the host peers see EOF. */
void vsock_host_close_all(struct vsock *v);
/* Cancel the CONNECT time-out sweep (reset, destroy). */
void vsock_host_stop_sweep(struct vsock *v);
/* Stop watching the listener (before closing it). */
void vsock_host_stop(struct vsock *v);
/* Watch `c`'s socket for what it can use now. */
void vsock_host_rewatch(struct vsock *v, struct vsock_conn *c);

/* The connection is over on our side: close its socket and owe the guest
 * an RST (or just free it if the guest never heard of it). */
void vsock_host_reset(struct vsock *v, struct vsock_conn *c);

/* What the guest's packets ask of the host side (vsock_tx.c has checked
 * each header and found the connection). */
void vsock_host_guest_request(struct vsock *v, const struct vsock_hdr *h);
void vsock_host_guest_response(struct vsock *v, struct vsock_conn *c);
void vsock_host_guest_rst(struct vsock *v, struct vsock_conn *c);
void vsock_host_guest_data(struct vsock *v, struct vsock_conn *c,
			   const uint8_t *data, uint32_t len);
void vsock_host_guest_shutdown(struct vsock *v, struct vsock_conn *c,
			       uint32_t flags);

#endif /* MODVMM_VSOCK_HOST_H */
