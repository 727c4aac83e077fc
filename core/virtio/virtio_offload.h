/*
 * Handing a virtqueue to an engine outside the VMM (a vhost back-end in the
 * kernel) and taking it back: the SDK's queue_rings, queue_offload and
 * queue_reclaim (modvmm/virtio.h, ABI 1.3).
 */
#ifndef MODVMM_CORE_VIRTIO_VIRTIO_OFFLOAD_H
#define MODVMM_CORE_VIRTIO_VIRTIO_OFFLOAD_H

#include <stdint.h>

#include <modvmm/virtio.h>

#include "virtio/virtio_mmio.h"

int virtio_queue_rings(struct mvm_virtq *q, struct mvm_virtq_rings *out);
int virtio_queue_offload(struct mvm_virtq *q, int *kick_fd, int *call_fd);
int virtio_queue_reclaim(struct mvm_virtq *q, uint16_t next_avail,
			 uint16_t next_used);
/* A device reset: every offloaded queue comes back to the core, which
 * reads its kick fd again (the plugin's reset hook stopped the engine). */
void virtio_offload_end_all(struct mvm_virtio *v);
/* Destroy: forget the call fds; the kick fds are the caller's to close. */
void virtio_offload_release_all(struct mvm_virtio *v);

#endif
