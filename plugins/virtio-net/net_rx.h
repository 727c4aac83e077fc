/*
 * virtio-net plugin: the receive queue, tap to guest (virtio spec
 * 5.1.6.3-5.1.6.4). Event-loop thread, under the device lock: the tap fd's
 * callback, queue_notify on the rx queue (new buffers) and the refill timer
 * call net_rx_process; net_rx_reset runs on the vCPU thread that reset the
 * device.
 */
#ifndef MODVMM_NET_RX_H
#define MODVMM_NET_RX_H

#include "net_state.h"

int net_rx_init(struct net *n);
void net_rx_free(struct net *n);
/* Move frames from the tap into the driver's buffers until the tap is
 * empty or RX_BUDGET frames have moved (NET_PASS_DONE: the tap's fd calls
 * again while it has more), the buffers run out (NET_PASS_NO_BUFFERS: the
 * caller stops watching the tap until the driver adds buffers) or the rate
 * limit stops it (NET_PASS_THROTTLED). */
enum net_pass net_rx_process(struct net *n);
/* Forget the frame in flight and the chains held for it. */
void net_rx_reset(struct net *n);

#endif /* MODVMM_NET_RX_H */
