/*
 * One virtio-mmio device instance: created from a plugin's description
 * (an MMIO window, a GSI, a DSDT node, a kick eventfd per queue) and
 * destroyed, plus the members every virtio host table shares. Used by the
 * VMM's table (virtio_kvm.c) and the test harness's.
 */
#ifndef MODVMM_CORE_VIRTIO_VIRTIO_DEV_H
#define MODVMM_CORE_VIRTIO_VIRTIO_DEV_H

#include <modvmm/plugin.h>
#include <modvmm/virtio.h>

#include "virtio/virtio_mmio.h"
#include "virtio/virtio_offload.h"
#include "virtio/virtq.h"

/* Create the transport for `dev` on `host` (see mvm_virtio_host.create). */
int virtio_mmio_create(mvm_dev *dev, const struct mvm_host *host,
		       const struct virtio_platform *plat,
		       const struct mvm_virtio_device *desc, void *opaque,
		       struct mvm_virtio **out);
void virtio_mmio_destroy(struct mvm_virtio *v);

/* The members of struct mvm_virtio_host every host table shares; only
 * `create` differs between the VMM (KVM fast paths) and the harness. */
#define VIRTIO_HOST_COMMON_OPS                                                 \
	.size = sizeof(struct mvm_virtio_host),                                \
	.destroy = virtio_mmio_destroy, .queue = virtio_queue,                 \
	.features = virtio_features, .status = virtio_status,                  \
	.mmio_base = virtio_mmio_base, .gsi = virtio_gsi,                      \
	.config_changed = virtio_config_changed,                               \
	.set_needs_reset = virtio_set_needs_reset, .pop = virtio_queue_pop,    \
	.push = virtio_queue_push, .notify = virtio_queue_notify,              \
	.chain_read = virtq_chain_read, .chain_write = virtq_chain_write,      \
	.queue_index = virtq_index, .queue_ready = virtq_ready,                \
	.queue_rings = virtio_queue_rings,                                     \
	.queue_offload = virtio_queue_offload,                                 \
	.queue_reclaim = virtio_queue_reclaim

#endif
