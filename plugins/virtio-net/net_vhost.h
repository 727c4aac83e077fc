/*
 * virtio-net plugin: vhost-net, the kernel moving the frames between the
 * queues and the tap. The plugin opens /dev/vhost-net in create (main
 * thread); at DRIVER_OK it gives the kernel the memory table, each queue's
 * rings and eventfds (taken from the core with queue_offload) and the tap
 * as backend; a reset takes the queues back. driver_ok and reset run on a
 * vCPU thread.
 */
#ifndef MODVMM_NET_VHOST_H
#define MODVMM_NET_VHOST_H

#include "net_state.h"
#include "net_opts.h"

/* vhost=off: nothing. on: open /dev/vhost-net or fail (host->fail,
 * -errno). auto: open it if possible, else the userspace data path; one
 * info line says which. Sets n->vhost when vhost-net is to be used. */
int net_vhost_open(struct net *n, enum net_vhost_mode mode);
/* Hand the queues to vhost-net (DRIVER_OK). 0, or -errno and the
 * userspace path takes over. */
int net_vhost_start(struct net *n);
/* Stop vhost-net and take the queues back. */
void net_vhost_stop(struct net *n);
/* Close /dev/vhost-net. */
void net_vhost_close(struct net *n);

#endif /* MODVMM_NET_VHOST_H */
