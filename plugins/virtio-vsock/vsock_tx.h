/*
 * virtio-vsock plugin: the guest's tx queue. Each chain is one packet
 * (virtio 1.2 section 5.10.6): its header is copied out and checked
 * (vsock_pkt.c), the connection it names is looked up, and what it asks
 * is done on the host side (vsock_host.c). Every chain goes back to the
 * driver, whatever it held. A packet for no connection is answered with
 * RST, and never acts on another connection. Event-loop thread.
 */
#ifndef MODVMM_VSOCK_TX_H
#define MODVMM_VSOCK_TX_H

#include "vsock.h"

/* The driver kicked the tx queue: take every packet in it. */
void vsock_tx_process(struct vsock *v);

#endif /* MODVMM_VSOCK_TX_H */
