/*
 * The guest kit's virtio-mmio driver (virtio 1.2, section 4.2, version 2
 * only): what kit programs and plugin authors use to drive a device from
 * inside a real guest, under modvmm or QEMU microvm
 * (`-global virtio-mmio.force-legacy=off`).
 *
 * A program finds a device in the DSDT (kit_virtio_find: LNRO0005 nodes,
 * magic, version, device id), starts it (reset, ACKNOWLEDGE, DRIVER,
 * features with VERSION_1 always, FEATURES_OK checked), sets up split
 * queues whose rings live in a static page-aligned area of the kit
 * (kit_virtq_setup), sets DRIVER_OK, then posts buffers (kit_virtq_add),
 * kicks (kit_virtq_kick) and collects used buffers (kit_virtq_get), waiting
 * by polling or by interrupt (kit_virtio_irq_enable, kit_virtio_wait).
 *
 * Interrupts: one vector (KIT_VIRTIO_VECTOR) for every enabled device,
 * routed through the IOAPIC pin the DSDT names (edge/level and polarity as
 * its _CRS says); the handler reads InterruptStatus, acknowledges it and
 * collects the bits in dev->isr. A periodic LAPIC timer wakes the waiter
 * so every wait has a timeout. Interrupts are taken only inside
 * kit_virtio_wait (sti; hlt), never in the middle of a program.
 *
 * Everything here runs at CPL0, ~1 us an instruction under the emulating
 * KVM of our CI machines: no per-byte loops over buffers.
 */
#ifndef KIT_VIRTIO_H
#define KIT_VIRTIO_H

#include "kit.h"

#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_RNG 4
#define VIRTIO_ID_BALLOON 5

#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER 2u
#define VIRTIO_STATUS_DRIVER_OK 4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_NEEDS_RESET 0x40u
#define VIRTIO_STATUS_FAILED 0x80u

#define VIRTIO_INT_USED 1u
#define VIRTIO_INT_CONFIG 2u

/* Register offsets (spec 4.2.2). */
#define VIRTIO_MMIO_MAGIC 0x000
#define VIRTIO_MMIO_VERSION 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC 0x080
#define VIRTIO_MMIO_QUEUE_DRIVER 0x090
#define VIRTIO_MMIO_QUEUE_DEVICE 0x0a0
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4

/* Largest queue the kit sets up; its rings fit in three pages. */
#define KIT_VQ_MAX 256
#define KIT_VDEV_MAX_QUEUES 4
/* Devices that may be set up at once (each owns ring memory). */
#define KIT_VDEV_SLOTS 2
#define KIT_VIRTIO_VECTOR 0x40
#define KIT_TIMER_VECTOR 0x41

struct kit_vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct kit_vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* [num], then used_event */
};

struct kit_vring_used {
	uint16_t flags;
	uint16_t idx;
	struct {
		uint32_t id;
		uint32_t len;
	} ring[]; /* [num], then avail_event (u16) */
};

struct kit_vdev;

struct kit_virtq {
	struct kit_vdev *dev;
	unsigned index;
	uint16_t num; /* 0: not set up */
	volatile struct kit_vring_desc *desc;
	volatile struct kit_vring_avail *avail;
	volatile struct kit_vring_used *used;
	uint16_t free_head, num_free;
	uint16_t avail_idx;  /* our shadow of avail->idx */
	uint16_t last_used;  /* next used element we will read */
	uint16_t kicked_idx; /* avail_idx at the last notify */
};

struct kit_vdev {
	char name[5]; /* the DSDT node */
	uint64_t base, size;
	volatile uint8_t *regs;
	uint32_t gsi;
	uint8_t irq_flags; /* KIT_IRQ_LEVEL, KIT_IRQ_ACTIVE_LOW */
	uint32_t device_id;
	unsigned slot;     /* ring memory */
	uint64_t offered;  /* device features */
	uint64_t features; /* negotiated */
	bool irq_on;
	volatile uint32_t isr;  /* InterruptStatus bits taken by the handler */
	volatile uint32_t irqs; /* interrupts seen with a status bit set */
	struct kit_virtq vq[KIT_VDEV_MAX_QUEUES];
};

/* One buffer of a chain; device-readable ones must come first. */
struct kit_vbuf {
	uint64_t addr;
	uint32_t len;
	bool write; /* device-writable */
};

/* Why the last call that returned false failed (for kit_check messages). */
extern char kit_virtio_why[128];
/* kit_check(ok, check) with kit_virtio_why as the reason. */
bool kit_vcheck(bool ok, const char *check);

/* ---- virtio.c */
static inline uint32_t kit_vread(struct kit_vdev *d, unsigned off)
{
	return *(volatile uint32_t *)(d->regs + off);
}
static inline void kit_vwrite(struct kit_vdev *d, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(d->regs + off) = v;
}
static inline bool kit_vhas(const struct kit_vdev *d, unsigned bit)
{
	return (d->features >> bit) & 1;
}

/* The nth (0-based) virtio-mmio device with this id among the DSDT's
 * LNRO0005 nodes; prints one "kit: virtio ..." line per transport it
 * looks at when verbose. False if there is none. */
bool kit_virtio_find(uint32_t device_id, unsigned nth, struct kit_vdev *d,
		     bool verbose);
/* Reset, ACKNOWLEDGE, DRIVER, features (VERSION_1 | (want & offered)),
 * FEATURES_OK, which must stick. Does not set DRIVER_OK. */
bool kit_virtio_start(struct kit_vdev *d, uint64_t want);
/* Writes 0 to Status and checks it reads back 0; forgets the queues. */
bool kit_virtio_reset(struct kit_vdev *d);
void kit_virtio_driver_ok(struct kit_vdev *d);
uint32_t kit_virtio_status(struct kit_vdev *d);
uint32_t kit_virtio_queue_max(struct kit_vdev *d, unsigned index);
/* Sets up queue `index` with at most `size` entries (power of two). */
bool kit_virtq_setup(struct kit_vdev *d, unsigned index, unsigned size);
/* Posts one chain; returns its head, or -1 if descriptors are short. */
int kit_virtq_add(struct kit_virtq *q, const struct kit_vbuf *b, unsigned n);
/* Publishes a head the caller built by hand in q->desc (hostile tests). */
void kit_virtq_post_raw(struct kit_virtq *q, uint16_t head);
/* Notifies the device if it asked for it (EVENT_IDX) or always. */
void kit_virtq_kick(struct kit_virtq *q);
void kit_virtq_notify(struct kit_virtq *q); /* unconditionally */
/* Takes one used element; frees its descriptors. */
bool kit_virtq_get(struct kit_virtq *q, uint16_t *head, uint32_t *len);
static inline bool kit_virtq_has_used(const struct kit_virtq *q)
{
	return q->used->idx != q->last_used;
}
/* Config space, little-endian, retried until ConfigGeneration is stable. */
bool kit_virtio_cfg_read(struct kit_vdev *d, unsigned off, void *buf,
			 unsigned len);
void kit_virtio_cfg_write32(struct kit_vdev *d, unsigned off, uint32_t v);
/* All of the above for a simple device: the first device with this id,
 * started with `want`, queues 0..nqueues-1 of at most qsize entries,
 * interrupts on if irq, DRIVER_OK. */
bool kit_virtio_open(struct kit_vdev *d, uint32_t device_id, uint64_t want,
		     unsigned nqueues, unsigned qsize, bool irq);
/* key=on|off|1|0|true|false|yes|no (absent: dflt), key=SIZE. */
bool kit_arg_onoff(const char *key, bool dflt);
/* Feature bit `bit` as a mask if key=on or key is absent, else 0: the
 * features a program asks for, each one a key that turns it off. */
uint64_t kit_arg_feature(const char *key, unsigned bit);
uint64_t kit_arg_size(const char *key, uint64_t dflt);

/* ---- virtio_irq.c */
/* Routes the device's GSI to KIT_VIRTIO_VECTOR (IOAPIC + LAPIC). */
bool kit_virtio_irq_enable(struct kit_vdev *d);
void kit_virtio_irq_disable(struct kit_vdev *d);
/* The InterruptStatus bits collected since the last call. */
uint32_t kit_virtio_take_isr(struct kit_vdev *d);
/* Lets a pending interrupt in (or waits for the next LAPIC tick). */
void kit_virtio_irq_window(void);
/* Waits until done(arg) holds or timeout_us passes. With irq, sleeps in
 * hlt between interrupts (device or a 10 ms LAPIC tick); without, spins. */
bool kit_virtio_wait(bool (*done)(void *), void *arg, uint64_t timeout_us,
		     bool irq);
/* Waits for a used buffer on q (by interrupt if the device has them on). */
bool kit_virtq_wait(struct kit_virtq *q, uint64_t timeout_us);
/* TSC frequency in kHz (calibrated once against the PIT, ~10 ms). */
uint64_t kit_tsc_khz(void);
uint64_t kit_tsc_to_us(uint64_t cycles);

#endif
