/*
 * Split virtqueues (virtio spec 2.7) over guest memory reached through the
 * SDK's host table (host->guest_mem). A leaf: a queue knows its rings and
 * nothing of the transport. It reports, and the transport
 * (virtio_mmio.c) acts: virtq_notify returns 1 when the driver wants an
 * interrupt; a call that finds the guest's rings broken sets q->fault with
 * the reason and returns -EIO, and the device is then marked as needing
 * reset.
 */
#ifndef MODVMM_CORE_VIRTIO_VIRTQ_H
#define MODVMM_CORE_VIRTIO_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <modvmm/plugin.h>
#include <modvmm/virtio.h>

/* The device-wide state every queue of one device reads on each use; the
 * transport owns it and keeps it current. */
struct virtq_device {
	mvm_dev *dev;
	const struct mvm_host *host; /* guest_mem, log_guest */
	uint64_t features;           /* accepted at FEATURES_OK */
	bool broken;                 /* needs reset: every queue stops */
};

struct mvm_virtq {
	struct virtq_device *vd;
	unsigned index;
	int kickfd;       /* eventfd signalled by QueueNotify */
	bool ioeventfd;   /* kickfd is wired to KVM */
	uint16_t num_max; /* from the plugin; 0 = no queue */
	uint16_t num;     /* QueueNum */
	bool ready;       /* QueueReady */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint32_t epoch; /* bumped on every reset */
	uint16_t last_avail;
	uint16_t used_idx;
	uint16_t signalled_used;
	bool signalled_valid;
	struct mvm_virtq_seg segs[MVM_VIRTQ_MAX_SEGS];
	/* Handed to an engine outside the VMM (virtio_offload.h): the core
	 * neither reads kickfd nor touches the rings, and callfd (-1
	 * otherwise) brings the engine's interrupts. */
	bool offloaded;
	int callfd;
	/* Set, with the reason, when a call found the guest's rings broken
	 * (it then returned -EIO); the transport reads and clears it. */
	bool fault;
	char fault_why[200];
};

int virtq_check_ready(struct mvm_virtq *q); /* validate before QueueReady */
void virtq_reset(struct mvm_virtq *q);
int virtq_pop(struct mvm_virtq *q, struct mvm_virtq_chain *chain);
int virtq_push(struct mvm_virtq *q, const struct mvm_virtq_chain *chain,
	       uint32_t written);
int virtq_notify(struct mvm_virtq *q);
size_t virtq_chain_read(struct mvm_virtq *q,
			const struct mvm_virtq_chain *chain, uint64_t offset,
			void *dst, size_t len);
size_t virtq_chain_write(struct mvm_virtq *q,
			 const struct mvm_virtq_chain *chain, uint64_t offset,
			 const void *src, size_t len);
unsigned virtq_index(struct mvm_virtq *q);
bool virtq_ready(struct mvm_virtq *q);

#endif
