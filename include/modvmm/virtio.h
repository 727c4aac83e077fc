/*
 * modvmm plugin SDK: virtio devices over virtio-mmio (version 2).
 *
 * A virtio device plugin describes its device (id, feature bits, config
 * space, queues) in a `struct mvm_virtio_device` and calls
 * `host->virtio->create` from its plugin `create` hook. The core then owns
 * the transport: it allocates a 4 KiB MMIO window and an interrupt line,
 * adds the `LNRO0005` node to the DSDT, implements the register map (its
 * offsets, which only a driver needs, are in modvmm/virtio_mmio_regs.h), the
 * status state machine, feature negotiation (a driver that does not accept
 * VIRTIO_F_VERSION_1 is refused), queue set-up, interrupt status, config
 * generation and reset. Queue notifications arrive on ioeventfds and are
 * handed to the plugin's `queue_notify` on the event-loop thread;
 * interrupts leave through an irqfd. The plugin only ever sees checked
 * descriptor chains through the `mvm_virtq_*` operations below.
 *
 * Guest memory: a popped chain is a list of (guest-physical address,
 * length, direction) segments, each already checked to lie inside one
 * guest RAM region. The plugin moves data with `chain_read`/`chain_write`
 * (which translate again on every call) or, for plain address ranges such
 * as a balloon's reported pages, uses the addresses themselves. No host
 * pointer is handed out, so nothing stale survives a discard or a reset.
 *
 * Threads and locks (the core's per-device lock is held in every case):
 *  - config_read, config_write, features_ok, driver_ok, reset: the vCPU
 *    thread whose MMIO access caused them;
 *  - queue_notify: the event-loop thread;
 *  - the mvm_virtq operations and config_changed / set_needs_reset may be
 *    called from any of these callbacks and from the plugin's own event-loop
 *    fd and timer callbacks; not from other threads.
 *
 * A hostile driver: every ring address, index, descriptor address, length,
 * flag combination and chain length is checked. A malformed chain, a ring
 * outside RAM or an avail index that jumps by more than the queue size put
 * the device in DEVICE_NEEDS_RESET (status bit 0x40) with a config-change
 * interrupt and a rate-limited log line; `pop` then returns -EIO until the
 * driver resets the device. The VMM never crashes over it.
 */
#ifndef MODVMM_VIRTIO_H
#define MODVMM_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <modvmm/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Transport feature bits the core implements itself; it offers them on top
 * of the plugin's device bits unless the plugin sets MVM_VIRTIO_NO_* in
 * `flags`. VERSION_1 is always offered and required. */
#define MVM_VIRTIO_F_INDIRECT_DESC 28
#define MVM_VIRTIO_F_EVENT_IDX 29
#define MVM_VIRTIO_F_VERSION_1 32

/* Device status bits (virtio spec 2.1). */
#define MVM_VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define MVM_VIRTIO_STATUS_DRIVER 0x02
#define MVM_VIRTIO_STATUS_DRIVER_OK 0x04
#define MVM_VIRTIO_STATUS_FEATURES_OK 0x08
#define MVM_VIRTIO_STATUS_NEEDS_RESET 0x40
#define MVM_VIRTIO_STATUS_FAILED 0x80

/* Split-ring descriptor flags (for harness users writing rings). */
#define MVM_VIRTQ_DESC_F_NEXT 1
#define MVM_VIRTQ_DESC_F_WRITE 2
#define MVM_VIRTQ_DESC_F_INDIRECT 4

/** Most queues one device may have. */
#define MVM_VIRTIO_MAX_QUEUES 64
/** Largest queue size (split rings). */
#define MVM_VIRTQ_MAX_SIZE 32768
/** Most segments one chain may have, indirect or not; a longer chain is a
 *  malformed chain. */
#define MVM_VIRTQ_MAX_SEGS 1024

/** `flags` of struct mvm_virtio_device. */
#define MVM_VIRTIO_NO_INDIRECT 1u  /**< do not offer INDIRECT_DESC */
#define MVM_VIRTIO_NO_EVENT_IDX 2u /**< do not offer EVENT_IDX */

/** One transport instance (one device); owned by the core. */
struct mvm_virtio;
/** One virtqueue of a transport instance; owned by the core. */
struct mvm_virtq;

/**
 * The plugin's description of its device. The core copies what it needs;
 * callbacks get `opaque` as passed to create. Optional callbacks may be
 * NULL.
 */
struct mvm_virtio_device {
	/** sizeof(struct mvm_virtio_device) as the plugin was built. */
	uint32_t size;
	/** Virtio device id (4 = entropy, 5 = balloon, ...). */
	uint32_t device_id;
	/** VendorID register; 0 means the core's default ("MVMM"). */
	uint32_t vendor_id;
	/** MVM_VIRTIO_NO_* bits. */
	uint32_t flags;
	/** Device-specific feature bits offered (0..23, 50..); the core adds
	 *  VERSION_1, INDIRECT_DESC and EVENT_IDX. */
	uint64_t features;
	/** Bytes of device config space at 0x100 (at most 0xf00). */
	uint32_t config_size;
	/** Number of queues (1..MVM_VIRTIO_MAX_QUEUES). */
	uint32_t num_queues;
	/** QueueNumMax of each queue (power of two, <= MVM_VIRTQ_MAX_SIZE; 0 =
	 *  no such queue); `num_queues` entries. Ignored if `queue_max_for`
	 *  is set. */
	const uint16_t *queue_max;

	/** Optional: QueueNumMax of queue `index` given the negotiated
	 *  features, for devices whose queue layout depends on them (a
	 *  balloon's stats/reporting queues); 0 = no such queue. vCPU thread,
	 *  only once FEATURES_OK is set. */
	uint16_t (*queue_max_for)(void *opaque, unsigned index,
				  uint64_t features);
	/** Optional: read `len` bytes of config at `offset` into `buf`
	 *  (little-endian as the guest sees it). The core has checked that
	 *  [offset, offset+len) is inside config_size. vCPU thread. */
	void (*config_read)(void *opaque, uint32_t offset, void *buf,
			    uint32_t len);
	/** Optional: the driver wrote config. Checked as for config_read.
	 *  vCPU thread. */
	void (*config_write)(void *opaque, uint32_t offset, const void *buf,
			     uint32_t len);
	/** Optional: the driver asked for FEATURES_OK with `features` (a
	 *  subset of the offered ones, VERSION_1 included). Return 0 to
	 *  accept, negative to refuse (FEATURES_OK then stays clear). vCPU
	 *  thread. */
	int (*features_ok)(void *opaque, uint64_t features);
	/** Optional: the driver set DRIVER_OK; queues are ready. vCPU thread.
	 */
	void (*driver_ok)(void *opaque);
	/** Optional: the driver reset the device (status 0). Queues are
	 *  already gone; drop any chains held (pushing them is ignored now).
	 *  vCPU thread. */
	void (*reset)(void *opaque);
	/** The driver kicked queue `index` (ready, DRIVER_OK, device not
	 *  needing reset). Pop and push here. Event-loop thread. */
	void (*queue_notify)(void *opaque, struct mvm_virtq *q, unsigned index);
};

/** One checked piece of a descriptor chain. */
struct mvm_virtq_seg {
	/** Guest-physical address; [gpa, gpa+len) is inside one RAM region. */
	uint64_t gpa;
	/** Length in bytes (never 0: empty descriptors are dropped). */
	uint32_t len;
	/** true: device-writable (the device fills it); false: readable. */
	bool writable;
};

/**
 * A popped chain. `seg` points into the queue's own buffer and is valid
 * until the next pop on the same queue or a reset; the rest may be copied
 * and kept (e.g. to push the chain back later).
 */
struct mvm_virtq_chain {
	/** Head descriptor index, what push reports back. */
	uint16_t head;
	/** Number of segments; readable ones come first. */
	uint16_t nseg;
	/** Queue epoch at pop; a push after a reset is ignored. */
	uint32_t epoch;
	/** Sum of readable / writable segment lengths. */
	uint64_t readable, writable;
	struct mvm_virtq_seg *seg;
};

/**
 * Where a ready queue's rings are, as the driver set them up (ABI 1.3,
 * queue_rings): what an engine outside the VMM needs to run the queue.
 */
struct mvm_virtq_rings {
	/** QueueNum the driver chose. */
	uint16_t num;
	/** Next avail-ring index the device will read. */
	uint16_t next_avail;
	/** Next used-ring index the device will write. */
	uint16_t next_used;
	/** Guest-physical addresses of the descriptor table, the avail
	 *  (driver) ring and the used (device) ring. Checked to lie in guest
	 *  RAM when the driver made the queue ready. */
	uint64_t desc_gpa, avail_gpa, used_gpa;
};

/**
 * The transport and virtqueue services (host->virtio). `size` guards
 * members appended later, as for struct mvm_host: check them with
 * MVM_HOST_HAS(host->virtio, member).
 */
struct mvm_virtio_host {
	/** sizeof(struct mvm_virtio_host) as built by the core. */
	uint32_t size;

	/** Create the transport for `dev`: MMIO window, GSI, DSDT node,
	 *  notify/interrupt fds. Only from the plugin's `create`. On failure
	 *  it has called host->fail and returns -errno. */
	int (*create)(mvm_dev *dev, const struct mvm_virtio_device *desc,
		      void *opaque, struct mvm_virtio **out);
	/** Undo create (from the plugin's `destroy`). NULL is a no-op. */
	void (*destroy)(struct mvm_virtio *vdev);
	/** Queue `index`, or NULL if out of range. The pointer is stable for
	 *  the device's life. */
	struct mvm_virtq *(*queue)(struct mvm_virtio *vdev, unsigned index);
	/** The features the driver accepted (0 before FEATURES_OK). */
	uint64_t (*features)(struct mvm_virtio *vdev);
	/** Current device status register. */
	uint32_t (*status)(struct mvm_virtio *vdev);
	/** Guest-physical base of the MMIO window and the GSI. */
	uint64_t (*mmio_base)(struct mvm_virtio *vdev);
	int (*gsi)(struct mvm_virtio *vdev);

	/** Tell the driver the config space changed: bumps ConfigGeneration
	 *  and raises a config-change interrupt. */
	int (*config_changed)(struct mvm_virtio *vdev);
	/** Give up on the device until the driver resets it: sets
	 *  DEVICE_NEEDS_RESET, raises a config-change interrupt, logs `why`
	 *  (rate-limited). */
	void (*set_needs_reset)(struct mvm_virtio *vdev, const char *why);

	/** Pop the next available chain into *chain. Returns 1 if a chain
	 *  was popped, 0 if none is available (or the queue is not ready),
	 *  -EIO if the device needs reset (a malformed chain or ring was just
	 *  found, or earlier). */
	int (*pop)(struct mvm_virtq *q, struct mvm_virtq_chain *chain);
	/** Return a chain to the driver with `written` bytes written into
	 *  its writable segments. Does not interrupt: call notify after a
	 *  batch. -ESTALE if the queue was reset since the pop (ignored). */
	int (*push)(struct mvm_virtq *q, const struct mvm_virtq_chain *chain,
		    uint32_t written);
	/** Interrupt the driver if it wants one for what was pushed since
	 *  the last notify (EVENT_IDX / NO_INTERRUPT honoured). Returns 1 if
	 *  an interrupt was sent, 0 if not needed. */
	int (*notify)(struct mvm_virtq *q);
	/** Copy up to `len` bytes from the chain's readable segments,
	 *  starting `offset` bytes in, into `dst`. Returns bytes copied. */
	size_t (*chain_read)(struct mvm_virtq *q,
			     const struct mvm_virtq_chain *chain,
			     uint64_t offset, void *dst, size_t len);
	/** Copy up to `len` bytes into the chain's writable segments,
	 *  starting `offset` bytes into them. Returns bytes copied. */
	size_t (*chain_write)(struct mvm_virtq *q,
			      const struct mvm_virtq_chain *chain,
			      uint64_t offset, const void *src, size_t len);
	/** Index of `q` within its device. */
	unsigned (*queue_index)(struct mvm_virtq *q);
	/** true if the driver made the queue ready. */
	bool (*queue_ready)(struct mvm_virtq *q);

	/* ---- ABI 1.3: handing a queue to an engine outside the VMM ----
	 * A vhost back-end (vhost-net, vhost-vsock) moves a queue's buffers
	 * in the kernel. The plugin asks for the rings and two eventfds,
	 * gives them to the engine, and the core stays out of the way until
	 * the plugin takes the queue back or the driver resets the device. */

	/** The rings of `q`; -ENODEV if the queue is not ready. */
	int (*queue_rings)(struct mvm_virtq *q, struct mvm_virtq_rings *out);
	/**
	 * Hand `q` to an outside engine. *kick_fd is the eventfd the driver's
	 * QueueNotify for `q` signals (through a KVM ioeventfd where there
	 * is one): the core stops reading it and queue_notify is no longer
	 * called for `q`. *call_fd is an eventfd the engine writes when it
	 * has used buffers and wants the driver interrupted: the core sets
	 * the used-buffer bit of InterruptStatus and raises the device's
	 * interrupt (virtio-mmio has no per-queue vector, so the engine
	 * cannot signal the interrupt line itself). Both fds stay the core's:
	 * do not close them. While offloaded, pop, push and notify on `q`
	 * return -EBUSY. From driver_ok or later, with the queue ready:
	 * -ENODEV otherwise, -EBUSY if already offloaded, -EIO if the device
	 * needs reset.
	 */
	int (*queue_offload)(struct mvm_virtq *q, int *kick_fd, int *call_fd);
	/**
	 * Take `q` back from the engine, which has stopped: the core resumes
	 * at `next_avail` (vhost's VHOST_GET_VRING_BASE) and `next_used` (the
	 * used ring's idx), reads the kick fd again and looks at the queue
	 * once. -EINVAL if `q` is not offloaded. A device reset ends every
	 * offload by itself, after the plugin's reset hook (in which the
	 * plugin stops its engine), so a plugin need not reclaim there.
	 */
	int (*queue_reclaim)(struct mvm_virtq *q, uint16_t next_avail,
			     uint16_t next_used);
};

#ifdef __cplusplus
}
#endif

#endif /* MODVMM_VIRTIO_H */
