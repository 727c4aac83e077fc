/*
 * virtio-mmio version 2 transport: the register map, the status state
 * machine, feature negotiation, queue set-up registers, interrupt status,
 * config generation and reset (virtio spec 4.2.2). See virtio_mmio.h.
 *
 * Every register access comes on a vCPU thread with the device lock held;
 * queue kicks are read from eventfds on the event-loop thread under the
 * same lock, so the state below needs no lock of its own.
 */
#define _GNU_SOURCE
#include "virtio/virtio_mmio.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define ORDER_BITS                                                             \
	(MVM_VIRTIO_STATUS_ACKNOWLEDGE | MVM_VIRTIO_STATUS_DRIVER |            \
	 MVM_VIRTIO_STATUS_FEATURES_OK | MVM_VIRTIO_STATUS_DRIVER_OK)

static bool is_pow2(uint32_t n)
{
	return n && !(n & (n - 1));
}

static uint16_t static_queue_max(const struct mvm_virtio *v, unsigned i)
{
	return v->desc.queue_max_for ? 0 : v->queue_max[i];
}

struct mvm_virtio *virtio_queue_owner(struct mvm_virtq *q)
{
	return (struct mvm_virtio *)((char *)q->vd -
				     offsetof(struct mvm_virtio, qdev));
}

void virtio_kick(void *opaque, int fd, uint32_t events)
{
	struct mvm_virtq *q = opaque;
	struct mvm_virtio *v = virtio_queue_owner(q);
	uint64_t n;

	(void)events;
	/* An outside engine reads this fd now; a callback already queued
	 * when the queue was handed over must not eat its kick. */
	if (q->offloaded)
		return;
	/* Drain: one callback covers every kick so far. */
	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	if (!(v->status & MVM_VIRTIO_STATUS_DRIVER_OK) || v->qdev.broken)
		return;
	if (!q->ready) {
		v->host->log_guest(v->dev,
				   "virtio: notify of queue %u, which is not "
				   "ready: ignored",
				   q->index);
		return;
	}
	v->desc.queue_notify(v->opaque, q, q->index);
}

void virtio_interrupt(struct mvm_virtio *v, uint32_t bits)
{
	uint64_t one = 1;

	/* The status must be visible before the edge reaches the guest. */
	v->isr |= bits;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (v->irqfd >= 0) {
		if (write(v->irqfd, &one, sizeof(one)) == sizeof(one))
			return;
	}
	v->host->set_irq(v->dev, (uint32_t)v->gsi, 1);
	v->host->set_irq(v->dev, (uint32_t)v->gsi, 0);
}

void virtio_set_needs_reset(struct mvm_virtio *v, const char *why)
{
	if (!v)
		return;
	v->host->log_guest(v->dev, "virtio: device needs reset: %s",
			   why ? why : "(no reason given)");
	if (v->qdev.broken)
		return;
	v->qdev.broken = true;
	v->status |= MVM_VIRTIO_STATUS_NEEDS_RESET;
	/* Only a driver that finished set-up is told; before DRIVER_OK the
	 * status read-back is enough (spec 2.1.2). */
	if (v->status & MVM_VIRTIO_STATUS_DRIVER_OK)
		virtio_interrupt(v, MVM_VIRTIO_INT_CONFIG);
}

/* Acts on what a queue reported: rings the guest broke put the whole
 * device in need of reset. */
static int queue_acted(struct mvm_virtq *q, int r)
{
	if (q && q->fault) {
		q->fault = false;
		virtio_set_needs_reset(virtio_queue_owner(q), q->fault_why);
	}
	return r;
}

int virtio_queue_pop(struct mvm_virtq *q, struct mvm_virtq_chain *chain)
{
	if (q && q->offloaded)
		return -EBUSY;
	return queue_acted(q, virtq_pop(q, chain));
}

int virtio_queue_push(struct mvm_virtq *q, const struct mvm_virtq_chain *chain,
		      uint32_t written)
{
	if (q && q->offloaded)
		return -EBUSY;
	return queue_acted(q, virtq_push(q, chain, written));
}

int virtio_queue_notify(struct mvm_virtq *q)
{
	int r;

	if (q && q->offloaded)
		return -EBUSY;
	r = virtq_notify(q);

	if (r == 1)
		virtio_interrupt(virtio_queue_owner(q), MVM_VIRTIO_INT_USED);
	return queue_acted(q, r);
}

int virtio_config_changed(struct mvm_virtio *v)
{
	if (!v)
		return -EINVAL;
	v->config_gen++;
	if (v->status & MVM_VIRTIO_STATUS_DRIVER_OK)
		virtio_interrupt(v, MVM_VIRTIO_INT_CONFIG);
	return 0;
}

struct mvm_virtq *virtio_queue(struct mvm_virtio *v, unsigned index)
{
	return v && index < v->desc.num_queues ? &v->queues[index] : NULL;
}

uint64_t virtio_features(struct mvm_virtio *v)
{
	return v ? v->qdev.features : 0;
}

uint32_t virtio_status(struct mvm_virtio *v)
{
	return v ? v->status : 0;
}

uint64_t virtio_mmio_base(struct mvm_virtio *v)
{
	return v ? v->base : 0;
}

int virtio_gsi(struct mvm_virtio *v)
{
	return v ? v->gsi : -EINVAL;
}

static void device_reset(struct mvm_virtio *v)
{
	v->status = 0;
	v->isr = 0;
	v->qdev.features = v->driver_features = 0;
	v->dev_feat_sel = v->drv_feat_sel = v->queue_sel = 0;
	v->qdev.broken = false;
	for (unsigned i = 0; i < v->desc.num_queues; i++) {
		struct mvm_virtq *q = &v->queues[i];

		virtq_reset(q);
		q->ready = false;
		q->desc_gpa = q->avail_gpa = q->used_gpa = 0;
		q->num_max = static_queue_max(v, i);
		q->num = q->num_max;
	}
	if (v->desc.reset)
		v->desc.reset(v->opaque);
	/* The plugin stopped its engines; the core takes the queues back. */
	if (v->after_reset)
		v->after_reset(v);
}

static bool accept_features(struct mvm_virtio *v)
{
	uint64_t f = v->driver_features;

	if (f & ~v->offered) {
		v->host->log_guest(v->dev,
				   "virtio: driver accepted features 0x%llx "
				   "that were not offered: FEATURES_OK refused",
				   (unsigned long long)(f & ~v->offered));
		return false;
	}
	if (!(f & (1ULL << MVM_VIRTIO_F_VERSION_1))) {
		v->host->log_guest(v->dev, "virtio: legacy driver (no "
					   "VERSION_1): FEATURES_OK refused");
		return false;
	}
	if (v->desc.features_ok && v->desc.features_ok(v->opaque, f) < 0)
		return false;
	v->qdev.features = f;
	for (unsigned i = 0; i < v->desc.num_queues; i++) {
		struct mvm_virtq *q = &v->queues[i];
		uint16_t m = v->desc.queue_max_for
				     ? v->desc.queue_max_for(v->opaque, i, f)
				     : v->queue_max[i];

		/* A plugin bug must not give the guest a bigger ring than the
		 * checks assume. */
		q->num_max = (is_pow2(m) && m <= MVM_VIRTQ_MAX_SIZE) ? m : 0;
		q->num = q->num_max;
	}
	return true;
}

static void write_status(struct mvm_virtio *v, uint32_t val)
{
	uint32_t old = v->status & ORDER_BITS;
	uint32_t want = val & ORDER_BITS;
	uint32_t added = want & ~old;

	if (val == 0) {
		device_reset(v);
		return;
	}
	if (val & MVM_VIRTIO_STATUS_FAILED) {
		/* The driver gave up; nothing else it wrote matters. */
		v->status |= MVM_VIRTIO_STATUS_FAILED;
		return;
	}
	/* Bits only come on in order, and only a reset takes them away. */
	if ((old & ~want) ||
	    ((want & MVM_VIRTIO_STATUS_DRIVER) &&
	     !(want & MVM_VIRTIO_STATUS_ACKNOWLEDGE)) ||
	    ((want & MVM_VIRTIO_STATUS_FEATURES_OK) &&
	     !(want & MVM_VIRTIO_STATUS_DRIVER)) ||
	    ((want & MVM_VIRTIO_STATUS_DRIVER_OK) &&
	     !(want & MVM_VIRTIO_STATUS_FEATURES_OK))) {
		v->host->log_guest(v->dev,
				   "virtio: status 0x%x -> 0x%x breaks the "
				   "ACK, DRIVER, FEATURES_OK, DRIVER_OK order: "
				   "ignored",
				   v->status, val);
		return;
	}
	if ((added & MVM_VIRTIO_STATUS_FEATURES_OK) && !accept_features(v)) {
		/* The driver sees FEATURES_OK clear and gives up (spec
		 * 3.1.1); DRIVER_OK cannot follow in the same write. */
		want &= ~(MVM_VIRTIO_STATUS_FEATURES_OK |
			  MVM_VIRTIO_STATUS_DRIVER_OK);
		added &= want;
	}
	v->status = (v->status & ~ORDER_BITS) | want;
	if (added & MVM_VIRTIO_STATUS_DRIVER_OK) {
		if (v->desc.driver_ok)
			v->desc.driver_ok(v->opaque);
		/* Kicks before DRIVER_OK were dropped: look at every ready
		 * queue once now. */
		for (unsigned i = 0; i < v->desc.num_queues; i++)
			if (v->queues[i].ready)
				eventfd_write(v->queues[i].kickfd, 1);
	}
}

static struct mvm_virtq *selected_queue(struct mvm_virtio *v)
{
	if (v->queue_sel >= v->desc.num_queues)
		return NULL;
	return &v->queues[v->queue_sel];
}

static uint64_t config_read(struct mvm_virtio *v, uint64_t off, unsigned len)
{
	uint8_t buf[8] = {0};
	uint64_t val = 0;

	if (len > 8 || off + len > v->desc.config_size) {
		v->host->log_guest(v->dev,
				   "virtio: config read of %u bytes at 0x%llx "
				   "outside the %u-byte config",
				   len, (unsigned long long)off,
				   v->desc.config_size);
		return 0;
	}
	if (v->desc.config_read)
		v->desc.config_read(v->opaque, (uint32_t)off, buf, len);
	for (unsigned i = 0; i < len; i++)
		val |= (uint64_t)buf[i] << (8 * i);
	return val;
}

uint64_t virtio_mmio_read(void *opaque, uint64_t offset, unsigned len)
{
	struct mvm_virtio *v = opaque;
	struct mvm_virtq *q = selected_queue(v);

	if (offset >= MVM_VIRTIO_MMIO_CONFIG)
		return config_read(v, offset - MVM_VIRTIO_MMIO_CONFIG, len);
	if (len != 4 || (offset & 3)) {
		v->host->log_guest(v->dev,
				   "virtio: %u-byte read at 0x%llx: registers "
				   "are 32-bit",
				   len, (unsigned long long)offset);
		return 0;
	}
	switch (offset) {
	case MVM_VIRTIO_MMIO_MAGIC:
		return MVM_VIRTIO_MMIO_MAGIC_VALUE;
	case MVM_VIRTIO_MMIO_VERSION:
		return 2;
	case MVM_VIRTIO_MMIO_DEVICE_ID:
		return v->desc.device_id;
	case MVM_VIRTIO_MMIO_VENDOR_ID:
		return v->desc.vendor_id ? v->desc.vendor_id
					 : VIRTIO_DEFAULT_VENDOR;
	case MVM_VIRTIO_MMIO_DEVICE_FEATURES:
		if (v->dev_feat_sel > 1)
			return 0;
		return (uint32_t)(v->offered >> (32 * v->dev_feat_sel));
	case MVM_VIRTIO_MMIO_QUEUE_NUM_MAX:
		return q ? q->num_max : 0;
	case MVM_VIRTIO_MMIO_QUEUE_READY:
		return q ? q->ready : 0;
	case MVM_VIRTIO_MMIO_INTERRUPT_STATUS:
		return v->isr;
	case MVM_VIRTIO_MMIO_STATUS:
		return v->status;
	case MVM_VIRTIO_MMIO_CONFIG_GENERATION:
		return v->config_gen;
	default:
		/* Write-only and reserved registers read as 0. */
		return 0;
	}
}

/* Queue layout registers: only between FEATURES_OK and QueueReady. */
static void write_queue_reg(struct mvm_virtio *v, uint64_t offset, uint32_t val)
{
	struct mvm_virtq *q = selected_queue(v);
	uint64_t *addr = NULL;

	if (!q || !q->num_max || q->ready ||
	    !(v->status & MVM_VIRTIO_STATUS_FEATURES_OK)) {
		v->host->log_guest(v->dev,
				   "virtio: write to queue register 0x%llx of "
				   "queue %u (%s): ignored",
				   (unsigned long long)offset, v->queue_sel,
				   !q || !q->num_max ? "no such queue"
				   : q->ready        ? "queue is ready"
						     : "before FEATURES_OK");
		return;
	}
	switch (offset) {
	case MVM_VIRTIO_MMIO_QUEUE_NUM:
		q->num = (uint16_t)(val > 0xffff ? 0 : val);
		if (val > q->num_max)
			q->num = 0; /* refused at QueueReady */
		return;
	case MVM_VIRTIO_MMIO_QUEUE_DESC_LOW:
	case MVM_VIRTIO_MMIO_QUEUE_DESC_HIGH:
		addr = &q->desc_gpa;
		break;
	case MVM_VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case MVM_VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		addr = &q->avail_gpa;
		break;
	default:
		addr = &q->used_gpa;
		break;
	}
	if (offset & 4)
		*addr = (*addr & 0xffffffffULL) | ((uint64_t)val << 32);
	else
		*addr = (*addr & ~0xffffffffULL) | val;
}

static void write_queue_ready(struct mvm_virtio *v, uint32_t val)
{
	struct mvm_virtq *q = selected_queue(v);

	if (!q || !q->num_max) {
		v->host->log_guest(v->dev,
				   "virtio: QueueReady for queue %u, "
				   "which does not exist",
				   v->queue_sel);
		return;
	}
	if (!val) {
		q->ready = false;
		virtq_reset(q);
		return;
	}
	if (q->ready)
		return;
	if (!(v->status & MVM_VIRTIO_STATUS_FEATURES_OK)) {
		v->host->log_guest(v->dev, "virtio: QueueReady before "
					   "FEATURES_OK: ignored");
		return;
	}
	if (virtq_check_ready(q) == 0)
		q->ready = true;
}

static void write_notify(struct mvm_virtio *v, uint32_t val)
{
	if (val >= v->desc.num_queues || !v->queues[val].num_max) {
		v->host->log_guest(v->dev,
				   "virtio: notify of queue %u, which does "
				   "not exist",
				   val);
		return;
	}
	/* Same path as the ioeventfd: the plugin runs on the loop. */
	eventfd_write(v->queues[val].kickfd, 1);
}

static void config_write(struct mvm_virtio *v, uint64_t off, unsigned len,
			 uint64_t val)
{
	uint8_t buf[8];

	if (len > 8 || off + len > v->desc.config_size) {
		v->host->log_guest(v->dev,
				   "virtio: config write of %u bytes at 0x%llx "
				   "outside the %u-byte config",
				   len, (unsigned long long)off,
				   v->desc.config_size);
		return;
	}
	for (unsigned i = 0; i < len; i++)
		buf[i] = (uint8_t)(val >> (8 * i));
	if (v->desc.config_write)
		v->desc.config_write(v->opaque, (uint32_t)off, buf, len);
}

void virtio_mmio_write(void *opaque, uint64_t offset, unsigned len,
		       uint64_t value)
{
	struct mvm_virtio *v = opaque;
	uint32_t val = (uint32_t)value;

	if (offset >= MVM_VIRTIO_MMIO_CONFIG) {
		config_write(v, offset - MVM_VIRTIO_MMIO_CONFIG, len, value);
		return;
	}
	if (len != 4 || (offset & 3)) {
		v->host->log_guest(v->dev,
				   "virtio: %u-byte write at 0x%llx: registers "
				   "are 32-bit",
				   len, (unsigned long long)offset);
		return;
	}
	switch (offset) {
	case MVM_VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		v->dev_feat_sel = val;
		return;
	case MVM_VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		v->drv_feat_sel = val;
		return;
	case MVM_VIRTIO_MMIO_DRIVER_FEATURES:
		if (!(v->status & MVM_VIRTIO_STATUS_DRIVER) ||
		    (v->status & MVM_VIRTIO_STATUS_FEATURES_OK) ||
		    v->drv_feat_sel > 1) {
			v->host->log_guest(v->dev,
					   "virtio: DriverFeatures write in "
					   "status 0x%x (select %u): ignored",
					   v->status, v->drv_feat_sel);
			return;
		}
		if (v->drv_feat_sel)
			v->driver_features =
				(v->driver_features & 0xffffffffULL) |
				((uint64_t)val << 32);
		else
			v->driver_features =
				(v->driver_features & ~0xffffffffULL) | val;
		return;
	case MVM_VIRTIO_MMIO_QUEUE_SEL:
		v->queue_sel = val;
		return;
	case MVM_VIRTIO_MMIO_QUEUE_NUM:
	case MVM_VIRTIO_MMIO_QUEUE_DESC_LOW:
	case MVM_VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case MVM_VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case MVM_VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case MVM_VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case MVM_VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		write_queue_reg(v, offset, val);
		return;
	case MVM_VIRTIO_MMIO_QUEUE_READY:
		write_queue_ready(v, val);
		return;
	case MVM_VIRTIO_MMIO_QUEUE_NOTIFY:
		write_notify(v, val);
		return;
	case MVM_VIRTIO_MMIO_INTERRUPT_ACK:
		v->isr &= ~val;
		return;
	case MVM_VIRTIO_MMIO_STATUS:
		write_status(v, val & 0xff);
		return;
	default:
		v->host->log_guest(v->dev,
				   "virtio: write of 0x%x to read-only or "
				   "reserved register 0x%llx: ignored",
				   val, (unsigned long long)offset);
		return;
	}
}
