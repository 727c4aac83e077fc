/*
 * virtio-net plugin: the transmit queue, guest to tap (virtio spec
 * 5.1.6.2). Event-loop thread, under the device lock: queue_notify on the
 * tx queue, the plugin's own kick eventfd and the refill timer call
 * net_tx_process.
 */
#ifndef MODVMM_NET_TX_H
#define MODVMM_NET_TX_H

#include "net_state.h"

int net_tx_init(struct net *n);
void net_tx_free(struct net *n);
/* Send what the driver queued: at most queue_size chains (then
 * NET_PASS_MORE: the caller comes back after the event loop's other work,
 * so that a flooding guest cannot hold it), or until the rate limit stops
 * it (NET_PASS_THROTTLED). Each chain is pushed back with 0 bytes written,
 * sent or dropped. */
enum net_pass net_tx_process(struct net *n);

#endif /* MODVMM_NET_TX_H */
