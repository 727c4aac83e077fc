/*
 * virtio-net plugin: net.c, the device, and the parts it assembles. The
 * state they share is net_state.h; the parts include only that, never
 * net.c's header, and report back through their return values
 * (enum net_pass), so that the plugin has no include or call loop.
 */
#ifndef MODVMM_NET_H
#define MODVMM_NET_H

#include "net_api.h"
#include "net_hdr.h"
#include "net_opts.h"
#include "net_rx.h"
#include "net_state.h"
#include "net_tap.h"
#include "net_tx.h"
#include "net_vhost.h"

#endif /* MODVMM_NET_H */
