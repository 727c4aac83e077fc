/*
 * The harness acting as a virtio-mmio driver (see modvmm/harness.h): the
 * register dance of virtio spec 3.1 and split rings in the fake RAM, laid
 * out the way Linux lays them out.
 */
#define _GNU_SOURCE
#include "harness_int.h"

#include <errno.h>
#include <string.h>

#define R(off) (MVM_VIRTIO_MMIO_##off)

static uint64_t base(struct mvm_harness *h)
{
	return h->vdev ? virtio_mmio_base(h->vdev) : 0;
}

uint32_t mvm_harness_vread(struct mvm_harness *h, uint32_t offset)
{
	uint64_t v = 0;

	mvm_harness_mmio_read(h, base(h) + offset, 4, &v);
	return (uint32_t)v;
}

void mvm_harness_vwrite(struct mvm_harness *h, uint32_t offset, uint32_t v)
{
	mvm_harness_mmio_write(h, base(h) + offset, 4, v);
}

uint64_t mvm_harness_device_features(struct mvm_harness *h)
{
	uint64_t f;

	mvm_harness_vwrite(h, R(DEVICE_FEATURES_SEL), 1);
	f = (uint64_t)mvm_harness_vread(h, R(DEVICE_FEATURES)) << 32;
	mvm_harness_vwrite(h, R(DEVICE_FEATURES_SEL), 0);
	return f | mvm_harness_vread(h, R(DEVICE_FEATURES));
}

int mvm_harness_virtio_negotiate(struct mvm_harness *h, uint64_t want,
				 uint64_t *accepted)
{
	uint64_t f;
	uint32_t st = MVM_VIRTIO_STATUS_ACKNOWLEDGE;

	if (!h->vdev)
		return -ENODEV;
	mvm_harness_vwrite(h, R(STATUS), 0);
	mvm_harness_vwrite(h, R(STATUS), st);
	st |= MVM_VIRTIO_STATUS_DRIVER;
	mvm_harness_vwrite(h, R(STATUS), st);
	f = mvm_harness_device_features(h) & want;
	mvm_harness_vwrite(h, R(DRIVER_FEATURES_SEL), 0);
	mvm_harness_vwrite(h, R(DRIVER_FEATURES), (uint32_t)f);
	mvm_harness_vwrite(h, R(DRIVER_FEATURES_SEL), 1);
	mvm_harness_vwrite(h, R(DRIVER_FEATURES), (uint32_t)(f >> 32));
	if (accepted)
		*accepted = f;
	st |= MVM_VIRTIO_STATUS_FEATURES_OK;
	mvm_harness_vwrite(h, R(STATUS), st);
	if (!(mvm_harness_vread(h, R(STATUS)) & MVM_VIRTIO_STATUS_FEATURES_OK))
		return -EPROTO;
	return 0;
}

int mvm_harness_virtio_driver_ok(struct mvm_harness *h)
{
	uint32_t st = mvm_harness_vread(h, R(STATUS));

	mvm_harness_vwrite(h, R(STATUS), st | MVM_VIRTIO_STATUS_DRIVER_OK);
	if (!(mvm_harness_vread(h, R(STATUS)) & MVM_VIRTIO_STATUS_DRIVER_OK))
		return -EPROTO;
	return 0;
}

static void write64(struct mvm_harness *h, uint32_t lo, uint64_t v)
{
	mvm_harness_vwrite(h, lo, (uint32_t)v);
	mvm_harness_vwrite(h, lo + 4, (uint32_t)(v >> 32));
}

int mvm_harness_vq_setup(struct mvm_harness *h, struct mvm_harness_vq *vq,
			 unsigned index, uint16_t num)
{
	uint32_t max;

	memset(vq, 0, sizeof(*vq));
	mvm_harness_vwrite(h, R(QUEUE_SEL), index);
	max = mvm_harness_vread(h, R(QUEUE_NUM_MAX));
	if (!max)
		return -ENOENT;
	if (!num)
		num = (uint16_t)max;
	vq->index = index;
	vq->num = num;
	vq->desc = mvm_harness_alloc(h, 16ULL * num, 4096);
	vq->avail = mvm_harness_alloc(h, 6 + 2ULL * num, 2);
	vq->used = mvm_harness_alloc(h, 6 + 8ULL * num, 4096);
	if (!vq->desc || !vq->avail || !vq->used)
		return -ENOMEM;
	mvm_harness_vwrite(h, R(QUEUE_NUM), num);
	write64(h, R(QUEUE_DESC_LOW), vq->desc);
	write64(h, R(QUEUE_DRIVER_LOW), vq->avail);
	write64(h, R(QUEUE_DEVICE_LOW), vq->used);
	mvm_harness_vwrite(h, R(QUEUE_READY), 1);
	if (mvm_harness_vread(h, R(QUEUE_READY)) != 1)
		return -EIO;
	return 0;
}

struct mvm_harness_desc *mvm_harness_vq_desc(struct mvm_harness *h,
					     struct mvm_harness_vq *vq,
					     unsigned i)
{
	return mvm_harness_gpa(h, vq->desc + 16ULL * (i % vq->num), 16);
}

static uint16_t *avail_u16(struct mvm_harness *h, struct mvm_harness_vq *vq,
			   unsigned slot)
{
	return mvm_harness_gpa(h, vq->avail + 2ULL * slot, 2);
}

void mvm_harness_vq_publish(struct mvm_harness *h, struct mvm_harness_vq *vq,
			    uint16_t head)
{
	*avail_u16(h, vq, 2 + (vq->avail_idx & (vq->num - 1))) = head;
	vq->avail_idx++;
	__atomic_store_n(avail_u16(h, vq, 1), vq->avail_idx, __ATOMIC_RELEASE);
}

void mvm_harness_vq_set_avail_idx(struct mvm_harness *h,
				  struct mvm_harness_vq *vq, uint16_t idx)
{
	vq->avail_idx = idx;
	__atomic_store_n(avail_u16(h, vq, 1), idx, __ATOMIC_RELEASE);
}

void mvm_harness_vq_set_avail_flags(struct mvm_harness *h,
				    struct mvm_harness_vq *vq, uint16_t flags)
{
	*avail_u16(h, vq, 0) = flags;
}

void mvm_harness_vq_set_used_event(struct mvm_harness *h,
				   struct mvm_harness_vq *vq, uint16_t event)
{
	*avail_u16(h, vq, 2 + vq->num) = event;
}

uint16_t mvm_harness_vq_avail_event(struct mvm_harness *h,
				    struct mvm_harness_vq *vq)
{
	return *(uint16_t *)mvm_harness_gpa(h, vq->used + 4 + 8ULL * vq->num,
					    2);
}

static int add(struct mvm_harness *h, struct mvm_harness_vq *vq,
	       const struct mvm_harness_buf *bufs, unsigned n, bool indirect)
{
	uint16_t head = vq->next_desc % vq->num;

	if (!n || (!indirect && n > vq->num))
		return -EINVAL;
	if (indirect) {
		uint64_t t = mvm_harness_alloc(h, 16ULL * n, 16);
		struct mvm_harness_desc *td = mvm_harness_gpa(h, t, 16ULL * n);
		struct mvm_harness_desc *d = mvm_harness_vq_desc(h, vq, head);

		if (!t)
			return -ENOMEM;
		for (unsigned i = 0; i < n; i++)
			td[i] = (struct mvm_harness_desc){
				.addr = bufs[i].gpa,
				.len = bufs[i].len,
				.flags =
					(uint16_t)((bufs[i].writable
							    ? MVM_VIRTQ_DESC_F_WRITE
							    : 0) |
						   (i + 1 < n
							    ? MVM_VIRTQ_DESC_F_NEXT
							    : 0)),
				.next = (uint16_t)(i + 1)};
		*d = (struct mvm_harness_desc){
			.addr = t,
			.len = 16 * n,
			.flags = MVM_VIRTQ_DESC_F_INDIRECT};
		vq->next_desc = (uint16_t)((head + 1) % vq->num);
	} else {
		uint16_t i = head;

		for (unsigned k = 0; k < n; k++) {
			struct mvm_harness_desc *d =
				mvm_harness_vq_desc(h, vq, i);
			uint16_t next = (uint16_t)((i + 1) % vq->num);

			*d = (struct mvm_harness_desc){
				.addr = bufs[k].gpa,
				.len = bufs[k].len,
				.flags =
					(uint16_t)((bufs[k].writable
							    ? MVM_VIRTQ_DESC_F_WRITE
							    : 0) |
						   (k + 1 < n
							    ? MVM_VIRTQ_DESC_F_NEXT
							    : 0)),
				.next = next};
			i = next;
		}
		vq->next_desc = i;
	}
	mvm_harness_vq_publish(h, vq, head);
	return head;
}

int mvm_harness_vq_add(struct mvm_harness *h, struct mvm_harness_vq *vq,
		       const struct mvm_harness_buf *bufs, unsigned n)
{
	return add(h, vq, bufs, n, false);
}

int mvm_harness_vq_add_indirect(struct mvm_harness *h,
				struct mvm_harness_vq *vq,
				const struct mvm_harness_buf *bufs, unsigned n)
{
	return add(h, vq, bufs, n, true);
}

void mvm_harness_vq_kick(struct mvm_harness *h, struct mvm_harness_vq *vq)
{
	mvm_harness_vwrite(h, R(QUEUE_NOTIFY), vq->index);
}

uint16_t mvm_harness_vq_used_idx(struct mvm_harness *h,
				 struct mvm_harness_vq *vq)
{
	return __atomic_load_n((uint16_t *)mvm_harness_gpa(h, vq->used + 2, 2),
			       __ATOMIC_ACQUIRE);
}

int mvm_harness_vq_used(struct mvm_harness *h, struct mvm_harness_vq *vq,
			uint32_t *id, uint32_t *len)
{
	uint32_t *e;

	if (mvm_harness_vq_used_idx(h, vq) == vq->used_seen)
		return 0;
	e = mvm_harness_gpa(h, vq->used + 4 + 8ULL * (vq->used_seen % vq->num),
			    8);
	if (id)
		*id = e[0];
	if (len)
		*len = e[1];
	vq->used_seen++;
	return 1;
}
