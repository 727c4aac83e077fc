/*
 * virtio-net plugin: the tap device that carries the guest's frames.
 *
 * Opened in the plugin's create (main thread, before any seccomp filter):
 * an existing tap by name, or a new one when absent (TUNSETIFF with
 * IFF_TAP | IFF_NO_PI | IFF_VNET_HDR), with a 12-byte vnet header
 * (TUNSETVNETHDRSZ). Its host side gets the ip/mask, MTU and link-up that
 * Cloud Hypervisor's --net gives it. net_tap_set_offload runs when the
 * driver's features are known (a vCPU thread): it tells the tap which
 * offloaded frames the guest can take.
 */
#ifndef MODVMM_NET_TAP_H
#define MODVMM_NET_TAP_H

#include <stdint.h>

#include "net_state.h"

/* Open (or create) the tap of n->opts.tap into n->tap and n->ifname, and
 * configure its host side. User errors through host->fail, -errno. */
int net_tap_open(struct net *n);
/* TUNSETOFFLOAD for the driver's accepted features `acked`. */
int net_tap_set_offload(int fd, uint64_t acked);

#endif /* MODVMM_NET_TAP_H */
