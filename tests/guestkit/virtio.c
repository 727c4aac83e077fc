/*
 * The kit's virtio-mmio driver: probe, status and feature negotiation,
 * split queues, config space. See virtio.h; interrupts and waiting are in
 * virtio_irq.c.
 */
#include "virtio.h"

#include "acpi.h"

#define MAGIC 0x74726976 /* "virt" */
#define PAGE 4096u

char kit_virtio_why[128];

bool kit_vcheck(bool ok, const char *check)
{
	return kit_check(ok, check, "%s", kit_virtio_why);
}

/* Ring memory: three pages per queue (descriptors, avail, used), one area
 * per device slot. .bss, so it is zero at boot and costs nothing to load. */
static uint8_t ring_mem[KIT_VDEV_SLOTS][KIT_VDEV_MAX_QUEUES][3 * PAGE]
	__attribute__((aligned(PAGE)));
static unsigned next_slot;

static bool why(const char *fmt, ...) KIT_PRINTF(1, 2);
static bool why(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kit_vsnprintf(kit_virtio_why, sizeof(kit_virtio_why), fmt, ap);
	va_end(ap);
	return false;
}

static inline void barrier(void)
{
	__asm__ volatile("" ::: "memory");
}

static inline void mfence(void)
{
	__asm__ volatile("mfence" ::: "memory");
}

bool kit_virtio_find(uint32_t device_id, unsigned nth, struct kit_vdev *d,
		     bool verbose)
{
	for (unsigned i = 0; i < kit_acpi.ndevices; i++) {
		const struct kit_device *a = &kit_acpi.devices[i];
		if (memcmp(a->hid, "LNRO0005", 9) || !a->nmem)
			continue;
		uint64_t base = a->mem[0].base;
		if (base >= (1ull << 32) || a->mem[0].size < 0x100) {
			if (verbose)
				kit_printf("kit: virtio %s: window 0x%lx+0x%lx "
					   "unusable\n",
					   a->name, base, a->mem[0].size);
			continue;
		}
		volatile uint8_t *r = (volatile uint8_t *)(uintptr_t)base;
		uint32_t magic = *(volatile uint32_t *)r;
		uint32_t ver = *(volatile uint32_t *)(r + VIRTIO_MMIO_VERSION);
		uint32_t id = *(volatile uint32_t *)(r + VIRTIO_MMIO_DEVICE_ID);
		if (magic != MAGIC || ver != 2 || id == 0) {
			/* id 0: a transport with nothing behind it (QEMU
			 * microvm lists all of its slots). */
			if (verbose && id != 0)
				kit_printf("kit: virtio %s: magic 0x%x version "
					   "%u id %u: skipped%s\n",
					   a->name, magic, ver, id,
					   ver == 1 ? " (legacy: QEMU needs "
						      "-global virtio-mmio."
						      "force-legacy=off)"
						    : "");
			continue;
		}
		if (id != device_id || nth--)
			continue;
		memset(d, 0, sizeof(*d));
		memcpy(d->name, a->name, 5);
		d->base = base;
		d->size = a->mem[0].size;
		d->regs = r;
		d->device_id = id;
		d->gsi = a->nirq ? a->irq[0] : ~0u;
		d->irq_flags = a->nirq ? a->irq_flags[0] : 0;
		d->slot = next_slot++ % KIT_VDEV_SLOTS;
		for (unsigned q = 0; q < KIT_VDEV_MAX_QUEUES; q++) {
			d->vq[q].dev = d;
			d->vq[q].index = q;
		}
		if (verbose)
			kit_printf("kit: virtio %s: id %u at 0x%lx+0x%lx gsi "
				   "%u %s %s, vendor 0x%x\n",
				   d->name, id, base, d->size, d->gsi,
				   d->irq_flags & KIT_IRQ_LEVEL ? "level"
								: "edge",
				   d->irq_flags & KIT_IRQ_ACTIVE_LOW ? "low"
								     : "high",
				   kit_vread(d, VIRTIO_MMIO_VENDOR_ID));
		return true;
	}
	return why("no virtio-mmio device with id %u (#%u) in the DSDT",
		   device_id, nth);
}

bool kit_virtio_reset(struct kit_vdev *d)
{
	kit_vwrite(d, VIRTIO_MMIO_STATUS, 0);
	for (unsigned q = 0; q < KIT_VDEV_MAX_QUEUES; q++)
		d->vq[q].num = 0;
	d->features = 0;
	uint32_t s = kit_vread(d, VIRTIO_MMIO_STATUS);
	if (s)
		return why("status 0x%x after reset, expected 0", s);
	return true;
}

uint32_t kit_virtio_status(struct kit_vdev *d)
{
	return kit_vread(d, VIRTIO_MMIO_STATUS);
}

static void add_status(struct kit_vdev *d, uint32_t bits)
{
	kit_vwrite(d, VIRTIO_MMIO_STATUS,
		   kit_vread(d, VIRTIO_MMIO_STATUS) | bits);
}

bool kit_virtio_start(struct kit_vdev *d, uint64_t want)
{
	if (!kit_virtio_reset(d))
		return false;
	add_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	add_status(d, VIRTIO_STATUS_DRIVER);
	kit_vwrite(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint64_t lo = kit_vread(d, VIRTIO_MMIO_DEVICE_FEATURES);
	kit_vwrite(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	uint64_t hi = kit_vread(d, VIRTIO_MMIO_DEVICE_FEATURES);
	d->offered = hi << 32 | lo;
	if (!((d->offered >> VIRTIO_F_VERSION_1) & 1)) {
		add_status(d, VIRTIO_STATUS_FAILED);
		return why("device features 0x%lx lack VERSION_1", d->offered);
	}
	d->features = d->offered & (want | 1ull << VIRTIO_F_VERSION_1);
	kit_vwrite(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	kit_vwrite(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)d->features);
	kit_vwrite(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	kit_vwrite(d, VIRTIO_MMIO_DRIVER_FEATURES,
		   (uint32_t)(d->features >> 32));
	add_status(d, VIRTIO_STATUS_FEATURES_OK);
	uint32_t s = kit_vread(d, VIRTIO_MMIO_STATUS);
	if (!(s & VIRTIO_STATUS_FEATURES_OK)) {
		add_status(d, VIRTIO_STATUS_FAILED);
		return why("FEATURES_OK did not stick (status 0x%x, features "
			   "0x%lx)",
			   s, d->features);
	}
	return true;
}

void kit_virtio_driver_ok(struct kit_vdev *d)
{
	add_status(d, VIRTIO_STATUS_DRIVER_OK);
}

uint32_t kit_virtio_queue_max(struct kit_vdev *d, unsigned index)
{
	kit_vwrite(d, VIRTIO_MMIO_QUEUE_SEL, index);
	return kit_vread(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
}

static void write64(struct kit_vdev *d, unsigned off, uint64_t v)
{
	kit_vwrite(d, off, (uint32_t)v);
	kit_vwrite(d, off + 4, (uint32_t)(v >> 32));
}

bool kit_virtq_setup(struct kit_vdev *d, unsigned index, unsigned size)
{
	if (index >= KIT_VDEV_MAX_QUEUES)
		return why("queue %u: the kit handles %u queues", index,
			   KIT_VDEV_MAX_QUEUES);
	struct kit_virtq *q = &d->vq[index];
	kit_vwrite(d, VIRTIO_MMIO_QUEUE_SEL, index);
	if (kit_vread(d, VIRTIO_MMIO_QUEUE_READY))
		return why("queue %u: QueueReady is 1 before set-up", index);
	uint32_t max = kit_vread(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
	if (!max)
		return why("queue %u: QueueNumMax is 0 (no such queue)", index);
	unsigned num = KIT_VQ_MAX;
	while (num > size || num > max)
		num >>= 1;
	if (!num)
		return why("queue %u: no power of two fits %u and %u", index,
			   size, max);
	uint8_t *mem = ring_mem[d->slot][index];
	memset(mem, 0, 3 * PAGE);
	q->num = (uint16_t)num;
	q->desc = (volatile struct kit_vring_desc *)mem;
	q->avail = (volatile struct kit_vring_avail *)(mem + PAGE);
	q->used = (volatile struct kit_vring_used *)(mem + 2 * PAGE);
	for (unsigned i = 0; i < num; i++)
		q->desc[i].next = (uint16_t)(i + 1);
	q->free_head = 0;
	q->num_free = (uint16_t)num;
	q->avail_idx = q->last_used = q->kicked_idx = 0;
	kit_vwrite(d, VIRTIO_MMIO_QUEUE_NUM, num);
	write64(d, VIRTIO_MMIO_QUEUE_DESC, (uintptr_t)q->desc);
	write64(d, VIRTIO_MMIO_QUEUE_DRIVER, (uintptr_t)q->avail);
	write64(d, VIRTIO_MMIO_QUEUE_DEVICE, (uintptr_t)q->used);
	kit_vwrite(d, VIRTIO_MMIO_QUEUE_READY, 1);
	if (kit_vread(d, VIRTIO_MMIO_QUEUE_READY) != 1) {
		q->num = 0;
		return why("queue %u: QueueReady does not read back 1", index);
	}
	return true;
}

/* With EVENT_IDX: used_event sits after avail->ring[num], avail_event
 * after used->ring[num]. */
static volatile uint16_t *used_event(struct kit_virtq *q)
{
	return &q->avail->ring[q->num];
}

static volatile uint16_t *avail_event(struct kit_virtq *q)
{
	return (volatile uint16_t *)&q->used->ring[q->num];
}

void kit_virtq_post_raw(struct kit_virtq *q, uint16_t head)
{
	q->avail->ring[q->avail_idx & (q->num - 1)] = head;
	barrier(); /* x86 keeps stores in order: the entry before the index */
	q->avail->idx = ++q->avail_idx;
}

int kit_virtq_add(struct kit_virtq *q, const struct kit_vbuf *b, unsigned n)
{
	if (!n || n > q->num_free)
		return -1;
	uint16_t head = q->free_head, i = head, last = head;
	for (unsigned k = 0; k < n; k++) {
		volatile struct kit_vring_desc *dsc = &q->desc[i];
		dsc->addr = b[k].addr;
		dsc->len = b[k].len;
		dsc->flags = (uint16_t)((b[k].write ? VIRTQ_DESC_F_WRITE : 0) |
					(k + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		last = i;
		i = dsc->next;
	}
	(void)last;
	q->free_head = i;
	q->num_free = (uint16_t)(q->num_free - n);
	kit_virtq_post_raw(q, head);
	return head;
}

void kit_virtq_notify(struct kit_virtq *q)
{
	barrier();
	kit_vwrite(q->dev, VIRTIO_MMIO_QUEUE_NOTIFY, q->index);
	q->kicked_idx = q->avail_idx;
}

void kit_virtq_kick(struct kit_virtq *q)
{
	if (kit_vhas(q->dev, VIRTIO_F_EVENT_IDX)) {
		/* Our avail index must be visible before we read the
		 * device's wish (spec 2.7.10). */
		mfence();
		uint16_t ev = *avail_event(q), now = q->avail_idx;
		if ((uint16_t)(now - ev - 1) >= (uint16_t)(now - q->kicked_idx))
			return;
	} else if (q->used->flags & 1) { /* VIRTQ_USED_F_NO_NOTIFY */
		return;
	}
	kit_virtq_notify(q);
}

bool kit_virtq_get(struct kit_virtq *q, uint16_t *head, uint32_t *len)
{
	if (q->used->idx == q->last_used)
		return false;
	barrier(); /* the element after the index that published it */
	unsigned slot = q->last_used & (q->num - 1);
	uint32_t id = q->used->ring[slot].id;
	uint32_t n = q->used->ring[slot].len;
	q->last_used++;
	if (kit_vhas(q->dev, VIRTIO_F_EVENT_IDX))
		*used_event(q) = q->last_used;
	if (head)
		*head = (uint16_t)id;
	if (len)
		*len = n;
	if (id >= q->num) /* a device bug: do not follow it */
		return true;
	/* Give the chain's descriptors back (we wrote them; the device may
	 * not change them). */
	uint16_t i = (uint16_t)id, count = 1;
	while ((q->desc[i].flags & VIRTQ_DESC_F_NEXT) && count < q->num) {
		i = q->desc[i].next;
		count++;
	}
	q->desc[i].next = q->free_head;
	q->free_head = (uint16_t)id;
	q->num_free = (uint16_t)(q->num_free + count);
	return true;
}

bool kit_virtio_cfg_read(struct kit_vdev *d, unsigned off, void *buf,
			 unsigned len)
{
	uint8_t *out = buf;
	for (unsigned tries = 0; tries < 16; tries++) {
		uint32_t gen = kit_vread(d, VIRTIO_MMIO_CONFIG_GENERATION);
		unsigned i = 0;
		for (; i + 4 <= len && !((off + i) & 3); i += 4) {
			uint32_t v = kit_vread(d, VIRTIO_MMIO_CONFIG + off + i);
			memcpy(out + i, &v, 4);
		}
		for (; i < len; i++)
			out[i] = d->regs[VIRTIO_MMIO_CONFIG + off + i];
		if (kit_vread(d, VIRTIO_MMIO_CONFIG_GENERATION) == gen)
			return true;
	}
	return why("ConfigGeneration never settled");
}

void kit_virtio_cfg_write32(struct kit_vdev *d, unsigned off, uint32_t v)
{
	kit_vwrite(d, VIRTIO_MMIO_CONFIG + off, v);
}

bool kit_virtio_open(struct kit_vdev *d, uint32_t device_id, uint64_t want,
		     unsigned nqueues, unsigned qsize, bool irq)
{
	if (!kit_virtio_find(device_id, 0, d, true) ||
	    !kit_virtio_start(d, want))
		return false;
	for (unsigned i = 0; i < nqueues; i++)
		if (!kit_virtq_setup(d, i, qsize))
			return false;
	if (irq && !kit_virtio_irq_enable(d))
		return false;
	kit_virtio_driver_ok(d);
	uint32_t s = kit_virtio_status(d);
	if (!(s & VIRTIO_STATUS_DRIVER_OK) || (s & VIRTIO_STATUS_NEEDS_RESET))
		return why("status 0x%x after DRIVER_OK", s);
	return true;
}

bool kit_arg_onoff(const char *key, bool dflt)
{
	size_t len;
	const char *v = kit_arg(key, &len);
	if (!v)
		return dflt;
	return !((len == 3 && !memcmp(v, "off", 3)) ||
		 (len == 1 && v[0] == '0') ||
		 (len == 5 && !memcmp(v, "false", 5)) ||
		 (len == 2 && !memcmp(v, "no", 2)));
}

uint64_t kit_arg_feature(const char *key, unsigned bit)
{
	return kit_arg_onoff(key, true) ? 1ull << bit : 0;
}

uint64_t kit_arg_size(const char *key, uint64_t dflt)
{
	size_t len;
	uint64_t v;
	const char *s = kit_arg(key, &len);
	if (!s)
		return dflt;
	if (!kit_parse_size(s, len, &v)) {
		kit_check(false, "kit.args", "bad value for %s", key);
		return dflt;
	}
	return v;
}
