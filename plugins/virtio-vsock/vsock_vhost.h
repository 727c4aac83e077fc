/*
 * virtio-vsock plugin, vhost=on: the kernel's vhost-vsock runs the rx and
 * tx queues (/dev/vhost-vsock, as QEMU's vhost-vsock-device and kvmtool
 * do), and host programs use AF_VSOCK with the guest's CID directly. The
 * plugin sets it up: owner, memory table and CID in `create` (so a CID in
 * use is the user's error before the VM starts), features and rings at
 * DRIVER_OK, through the SDK's queue_offload (ABI 1.3); and stops it on a
 * reset, after which the core takes the queues back. The event queue
 * stays with the plugin.
 */
#ifndef MODVMM_VSOCK_VHOST_H
#define MODVMM_VSOCK_VHOST_H

#include <stdint.h>

#include "vsock.h"

/* Open /dev/vhost-vsock for the guest's CID; user errors through
 * host->fail, naming the option. Main thread, from create. */
int vsock_vhost_open(struct vsock *v);
/* Transport features the kernel's engine lacks, as MVM_VIRTIO_NO_* flags
 * for the device description. */
uint32_t vsock_vhost_virtio_flags(const struct vsock *v);
/* DRIVER_OK: hand rx and tx to the kernel and start it. On failure the
 * device needs reset. vCPU thread. */
void vsock_vhost_start(struct vsock *v);
/* A reset: stop the engine (the core takes the queues back after). */
void vsock_vhost_stop(struct vsock *v);
void vsock_vhost_close(struct vsock *v);

#endif /* MODVMM_VSOCK_VHOST_H */
