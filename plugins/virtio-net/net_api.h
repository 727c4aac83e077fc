/*
 * virtio-net plugin: its control-API command, `<device>.info` (docs/api.md,
 * docs/network.md): the tap, the MAC, the data path and the frame
 * counters. Registered from create; the handler runs on the event-loop
 * thread with the device lock held.
 */
#ifndef MODVMM_NET_API_H
#define MODVMM_NET_API_H

#include "net_state.h"

/* Register the command if the core has a control API; 0 or -errno (after
 * host->fail). */
int net_api_register(struct net *n);

#endif /* MODVMM_NET_API_H */
