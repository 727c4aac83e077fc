/*
 * The driver side the harness's device fuzz targets (fuzz_balloon.c,
 * fuzz_virtio_net.c) share: the state each keeps as the first member of
 * its own (struct fuzz_driver), queue set-up with the rings where the
 * target wants them, and what a hostile driver does the same way whatever
 * the device: ring fields it owns, a reset. Inline, as fuzz_chain.h, so
 * each target's copy carries the fuzzer's instrumentation.
 */
#ifndef MODVMM_TESTS_FUZZ_DRIVER_H
#define MODVMM_TESTS_FUZZ_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <modvmm/harness.h>

#include "fuzz_input.h"

#define FUZZ_MAX_NQ 4
#define FUZZ_PAGE 4096ULL

struct fuzz_driver {
	struct mvm_harness *h;
	struct fuzz_in in;
	uint64_t features; /* as negotiated; 0 before and after a reset */
	struct mvm_harness_vq vq[FUZZ_MAX_NQ];
	bool usable[FUZZ_MAX_NQ]; /* set up, and QueueReady stuck */
};

/* Sets up queue `i` as a driver does after FEATURES_OK: its rings (desc,
 * avail, used: a page each, zeroed) at `ring`, pick(QueueNumMax, sel)
 * entries. d->usable[i] says whether QueueReady stuck; it is false, and
 * nothing written, if QueueNumMax is 0 or past the 256 the rings hold. */
static inline void
fuzz_queue_setup(struct fuzz_driver *d, unsigned i, uint64_t ring,
		 uint16_t (*pick)(uint32_t max, unsigned sel), unsigned sel)
{
	struct mvm_harness_vq *vq = &d->vq[i];
	uint32_t max;

	memset(vq, 0, sizeof(*vq));
	d->usable[i] = false;
	mvm_harness_vwrite(d->h, MVM_VIRTIO_MMIO_QUEUE_SEL, i);
	max = mvm_harness_vread(d->h, MVM_VIRTIO_MMIO_QUEUE_NUM_MAX);
	if (!max || max > 256)
		return;
	memset(mvm_harness_gpa(d->h, ring, 3 * FUZZ_PAGE), 0, 3 * FUZZ_PAGE);
	vq->index = i;
	vq->num = pick(max, sel);
	vq->desc = ring;
	vq->avail = ring + FUZZ_PAGE;
	vq->used = ring + 2 * FUZZ_PAGE;
	mvm_harness_vwrite(d->h, MVM_VIRTIO_MMIO_QUEUE_NUM, vq->num);
	mvm_harness_vwrite(d->h, MVM_VIRTIO_MMIO_QUEUE_DESC_LOW,
			   (uint32_t)vq->desc);
	mvm_harness_vwrite(d->h, MVM_VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	mvm_harness_vwrite(d->h, MVM_VIRTIO_MMIO_QUEUE_DRIVER_LOW,
			   (uint32_t)vq->avail);
	mvm_harness_vwrite(d->h, MVM_VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
	mvm_harness_vwrite(d->h, MVM_VIRTIO_MMIO_QUEUE_DEVICE_LOW,
			   (uint32_t)vq->used);
	mvm_harness_vwrite(d->h, MVM_VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
	mvm_harness_vwrite(d->h, MVM_VIRTIO_MMIO_QUEUE_READY, 1);
	d->usable[i] =
		mvm_harness_vread(d->h, MVM_VIRTIO_MMIO_QUEUE_READY) == 1;
}

/* Ring fields the driver owns, on queue `qi` if usable, by bits 2-3 of
 * `s`: the avail index, the avail flags (bit 0 of `v`) or used_event, set
 * to `v`; or none of them, and then true: the caller takes the used
 * entries. */
static inline bool fuzz_ring_fields(struct fuzz_driver *d, unsigned qi,
				    uint8_t s, uint16_t v)
{
	struct mvm_harness_vq *vq = &d->vq[qi];

	if (!d->usable[qi])
		return false;
	switch ((s >> 2) & 3) {
	case 0:
		mvm_harness_vq_set_avail_idx(d->h, vq, v);
		return false;
	case 1:
		mvm_harness_vq_set_avail_flags(d->h, vq, v & 1);
		return false;
	case 2:
		mvm_harness_vq_set_used_event(d->h, vq, v);
		return false;
	default:
		return true;
	}
}

/* Status 0: the device resets, and the driver forgets its queues and
 * features. */
static inline void fuzz_driver_reset(struct fuzz_driver *d)
{
	mvm_harness_vwrite(d->h, MVM_VIRTIO_MMIO_STATUS, 0);
	memset(d->usable, 0, sizeof(d->usable));
	d->features = 0;
}

#endif
