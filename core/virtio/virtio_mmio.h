/*
 * The virtio-mmio transport (register map, status machine, interrupts) and
 * its state, shared with the split-virtqueue code (virtq.c). Written only
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

struct mvm_virtq {
	struct mvm_virtio *vdev;
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
	uint64_t features; /* accepted at FEATURES_OK */
	uint32_t dev_feat_sel, drv_feat_sel;
	uint32_t queue_sel;
	uint32_t status;
	uint32_t isr;
	uint32_t config_gen;
	bool broken; /* needs reset: queues stop */

	struct mvm_virtq *queues; /* desc.num_queues of them */
};

/* Create the transport for `dev` on `host` (see mvm_virtio_host.create). */
int virtio_mmio_create(mvm_dev *dev, const struct mvm_host *host,
		       const struct virtio_platform *plat,
		       const struct mvm_virtio_device *desc, void *opaque,
		       struct mvm_virtio **out);
void virtio_mmio_destroy(struct mvm_virtio *v);

/* MMIO register callbacks (exposed for the fuzzer). */
uint64_t virtio_mmio_read(void *opaque, uint64_t offset, unsigned len);
void virtio_mmio_write(void *opaque, uint64_t offset, unsigned len,
		       uint64_t value);

/* Event-loop callback of a queue's kick eventfd (opaque: the queue). */
void virtio_kick(void *opaque, int fd, uint32_t events);
/* Raise InterruptStatus bits, then the interrupt. */
void virtio_interrupt(struct mvm_virtio *v, uint32_t bits);
void virtio_set_needs_reset(struct mvm_virtio *v, const char *why);
int virtio_config_changed(struct mvm_virtio *v);
struct mvm_virtq *virtio_queue(struct mvm_virtio *v, unsigned index);
uint64_t virtio_features(struct mvm_virtio *v);
uint32_t virtio_status(struct mvm_virtio *v);
uint64_t virtio_mmio_base(struct mvm_virtio *v);
int virtio_gsi(struct mvm_virtio *v);

/* Split virtqueues, virtq.c. */
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

/* The members of struct mvm_virtio_host every host table shares; only
 * `create` differs between the VMM (KVM fast paths) and the harness. */
#define VIRTIO_HOST_COMMON_OPS                                                 \
	.size = sizeof(struct mvm_virtio_host),                                \
	.destroy = virtio_mmio_destroy, .queue = virtio_queue,                 \
	.features = virtio_features, .status = virtio_status,                  \
	.mmio_base = virtio_mmio_base, .gsi = virtio_gsi,                      \
	.config_changed = virtio_config_changed,                               \
	.set_needs_reset = virtio_set_needs_reset, .pop = virtq_pop,           \
	.push = virtq_push, .notify = virtq_notify,                            \
	.chain_read = virtq_chain_read, .chain_write = virtq_chain_write,      \
	.queue_index = virtq_index, .queue_ready = virtq_ready

#endif
