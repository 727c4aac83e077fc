/*
 * The virtio-mmio transport (register map, status machine, interrupts) and
 * its state. It owns the device's queues (virtq.h) and acts on what they
 * report: interrupts due, rings the guest broke. Written only
 * against the SDK's `struct mvm_host`, so the per-plugin test harness runs
 * this very code against its fake host; what only KVM can do (ioeventfd,
 * irqfd) comes in through `struct virtio_platform`.
 */
#ifndef MODVMM_CORE_VIRTIO_MMIO_H
#define MODVMM_CORE_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include <modvmm/plugin.h>
#include <modvmm/virtio.h>
#include <modvmm/virtio_mmio_regs.h>

#include "virtio/virtq.h"

#define VIRTIO_DEFAULT_VENDOR 0x4d4d564d /* "MVMM" */

struct mvm_virtio;

/* Fast paths a real VM has. Any hook may be NULL: notifications then come
 * as MMIO writes (forwarded to the queue's eventfd, so queue work still
 * runs on the event-loop thread) and interrupts as host->set_irq pulses. */
struct virtio_platform {
	/* Make a 4-byte write of `index` to `addr` signal `fd`. */
	int (*add_ioeventfd)(mvm_dev *dev, uint64_t addr, uint32_t index,
			     int fd);
	void (*del_ioeventfd)(mvm_dev *dev, uint64_t addr, uint32_t index,
			      int fd);
	/* Make a write to `fd` pulse `gsi`. */
	int (*add_irqfd)(mvm_dev *dev, int gsi, int fd);
	void (*del_irqfd)(mvm_dev *dev, int gsi, int fd);
};

struct mvm_virtio {
	mvm_dev *dev;
	const struct mvm_host *host;
	const struct virtio_platform *plat;
	struct mvm_virtio_device desc;
	uint16_t queue_max[MVM_VIRTIO_MAX_QUEUES];
	void *opaque;
	uint64_t base;
	int gsi;
	int irqfd; /* -1 without the platform's irqfd */

	uint64_t offered;
	uint64_t driver_features;
	uint32_t dev_feat_sel, drv_feat_sel;
	uint32_t queue_sel;
	uint32_t status;
	uint32_t isr;
	uint32_t config_gen;
	/* What every queue reads: dev, host, the accepted features (at
	 * FEATURES_OK) and whether the device needs reset (queues stop). */
	struct virtq_device qdev;

	struct mvm_virtq *queues; /* desc.num_queues of them */
	/* Called at the end of a device reset, after the plugin's reset hook:
	 * ends queue offloads (virtio_offload.c, a layer above). */
	void (*after_reset)(struct mvm_virtio *v);
};

/* MMIO register callbacks (exposed for the fuzzer). */
uint64_t virtio_mmio_read(void *opaque, uint64_t offset, unsigned len);
void virtio_mmio_write(void *opaque, uint64_t offset, unsigned len,
		       uint64_t value);

/* The transport a queue belongs to. */
struct mvm_virtio *virtio_queue_owner(struct mvm_virtq *q);
/* Event-loop callback of a queue's kick eventfd (opaque: the queue). */
void virtio_kick(void *opaque, int fd, uint32_t events);
/* Raise InterruptStatus bits, then the interrupt. */
void virtio_interrupt(struct mvm_virtio *v, uint32_t bits);
void virtio_set_needs_reset(struct mvm_virtio *v, const char *why);
/* A queue's pop, push and notify (virtq.h) for plugins: the transport acts
 * on what the queue reports (an interrupt due, a ring the guest broke). */
int virtio_queue_pop(struct mvm_virtq *q, struct mvm_virtq_chain *chain);
int virtio_queue_push(struct mvm_virtq *q, const struct mvm_virtq_chain *chain,
		      uint32_t written);
int virtio_queue_notify(struct mvm_virtq *q);
int virtio_config_changed(struct mvm_virtio *v);
struct mvm_virtq *virtio_queue(struct mvm_virtio *v, unsigned index);
uint64_t virtio_features(struct mvm_virtio *v);
uint32_t virtio_status(struct mvm_virtio *v);
uint64_t virtio_mmio_base(struct mvm_virtio *v);
int virtio_gsi(struct mvm_virtio *v);

#endif
