/*
 * Split virtqueues (virtio spec 2.7): checking a queue's rings before it
 * goes live, popping descriptor chains (direct and indirect) as checked
 * (gpa, len, direction) segments, pushing used elements and deciding
 * whether the driver wants an interrupt (EVENT_IDX or NO_INTERRUPT).
 *
 * The rings live in guest memory that the guest may change under us at
 * any time: every ring entry and descriptor is read once into a local
 * copy and checked there; every address is re-translated through
 * host->guest_mem on each use; indices are taken modulo the queue size
 * only after they have been checked. Descriptors are read with memcpy
 * since an indirect table may sit at any alignment.
 *
 * The core only targets x86_64, which is little-endian like the rings.
 */
#define _GNU_SOURCE
#include "virtio/virtq.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

#define AVAIL_F_NO_INTERRUPT 1

static uint64_t desc_bytes(uint16_t num)
{
	return 16ULL * num;
}

/* flags, idx, ring[num], used_event (always mapped: cheap, and
 * EVENT_IDX may be negotiated) */
static uint64_t avail_bytes(uint16_t num)
{
	return 6 + 2ULL * num;
}

/* flags, idx, ring[num] of {id, len}, avail_event */
static uint64_t used_bytes(uint16_t num)
{
	return 6 + 8ULL * num;
}

static bool has_feature(const struct mvm_virtq *q, unsigned bit)
{
	return q->vd->features & (1ULL << bit);
}

static void *gmem(const struct mvm_virtq *q, uint64_t gpa, uint64_t len)
{
	return q->vd->host->guest_mem(q->vd->dev, gpa, len);
}

static int bad(struct mvm_virtq *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int bad(struct mvm_virtq *q, const char *fmt, ...)
{
	int n;
	va_list ap;

	n = snprintf(q->fault_why, sizeof(q->fault_why),
		     "queue %u: ", q->index);
	va_start(ap, fmt);
	vsnprintf(q->fault_why + n, sizeof(q->fault_why) - (size_t)n, fmt, ap);
	va_end(ap);
	q->fault = true;
	return -EIO;
}

int virtq_check_ready(struct mvm_virtq *q)
{
	const struct virtq_device *vd = q->vd;
	const char *why = NULL;

	if (!q->num || (q->num & (q->num - 1)) || q->num > q->num_max)
		why = "size is not a power of two up to QueueNumMax";
	else if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3))
		why = "ring is misaligned";
	else if (!gmem(q, q->desc_gpa, desc_bytes(q->num)) ||
		 !gmem(q, q->avail_gpa, avail_bytes(q->num)) ||
		 !gmem(q, q->used_gpa, used_bytes(q->num)))
		why = "ring is not inside guest RAM";
	if (why) {
		vd->host->log_guest(vd->dev,
				    "virtio: queue %u (size %u, desc 0x%llx, "
				    "avail 0x%llx, used 0x%llx) refused: %s",
				    q->index, q->num,
				    (unsigned long long)q->desc_gpa,
				    (unsigned long long)q->avail_gpa,
				    (unsigned long long)q->used_gpa, why);
		return -EINVAL;
	}
	virtq_reset(q);
	return 0;
}

void virtq_reset(struct mvm_virtq *q)
{
	q->last_avail = 0;
	q->used_idx = 0;
	q->signalled_used = 0;
	q->epoch++;
}

/* Follows one chain from `head` into q->segs. */
static int walk_chain(struct mvm_virtq *q, uint16_t head,
		      struct mvm_virtq_chain *c)
{
	const uint8_t *table = gmem(q, q->desc_gpa, desc_bytes(q->num));
	uint32_t tsize = q->num, count = 0, i = head;
	bool indirect = false, seen_writable = false;

	if (!table)
		return bad(q, "descriptor table left guest RAM");
	if (head >= q->num)
		return bad(q, "head index %u >= queue size %u", head, q->num);
	memset(c, 0, sizeof(*c));
	c->head = head;
	c->epoch = q->epoch;
	c->seg = q->segs;
	for (;;) {
		struct vdesc d;
		bool writable;

		/* A chain cannot visit more descriptors than its table has
		 * without visiting one twice. */
		if (++count > tsize)
			return bad(q,
				   "chain from head %u loops or is longer "
				   "than its table (%u)",
				   head, tsize);
		memcpy(&d, table + 16ULL * i, sizeof(d));
		if (d.flags & MVM_VIRTQ_DESC_F_INDIRECT) {
			if (indirect)
				return bad(q,
					   "indirect table inside an "
					   "indirect table (head %u)",
					   head);
			if (!has_feature(q, MVM_VIRTIO_F_INDIRECT_DESC))
				return bad(q, "indirect descriptor without "
					      "INDIRECT_DESC");
			if (d.flags & MVM_VIRTQ_DESC_F_NEXT)
				return bad(q,
					   "descriptor %u has both "
					   "INDIRECT and NEXT",
					   i);
			if (d.len == 0 || d.len % 16 ||
			    d.len / 16 > MVM_VIRTQ_MAX_SEGS)
				return bad(q, "indirect table of %u bytes",
					   d.len);
			table = gmem(q, d.addr, d.len);
			if (!table)
				return bad(q,
					   "indirect table 0x%llx+0x%x "
					   "outside guest RAM",
					   (unsigned long long)d.addr, d.len);
			tsize = d.len / 16;
			count = 0;
			i = 0;
			indirect = true;
			continue;
		}
		writable = d.flags & MVM_VIRTQ_DESC_F_WRITE;
		if (!writable && seen_writable)
			return bad(q,
				   "readable descriptor after a writable "
				   "one (head %u)",
				   head);
		seen_writable |= writable;
		/* Empty buffers carry nothing; they are dropped, but still
		 * count against loops. */
		if (d.len) {
			struct mvm_virtq_seg *s;

			if (!gmem(q, d.addr, d.len))
				return bad(q,
					   "buffer 0x%llx+0x%x outside "
					   "guest RAM",
					   (unsigned long long)d.addr, d.len);
			if (c->nseg >= MVM_VIRTQ_MAX_SEGS)
				return bad(q,
					   "chain has more than %u "
					   "segments",
					   MVM_VIRTQ_MAX_SEGS);
			s = &q->segs[c->nseg++];
			s->gpa = d.addr;
			s->len = d.len;
			s->writable = writable;
			if (writable)
				c->writable += d.len;
			else
				c->readable += d.len;
		}
		if (!(d.flags & MVM_VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= tsize)
			return bad(q, "next index %u >= table size %u", d.next,
				   tsize);
		i = d.next;
	}
}

int virtq_pop(struct mvm_virtq *q, struct mvm_virtq_chain *chain)
{
	uint8_t *avail, *used;
	uint16_t avail_idx, head;

	if (!q || !chain || !q->ready)
		return 0;
	if (q->vd->broken)
		return -EIO;
	avail = gmem(q, q->avail_gpa, avail_bytes(q->num));
	used = gmem(q, q->used_gpa, used_bytes(q->num));
	if (!avail || !used)
		return bad(q, "ring left guest RAM");
	avail_idx = __atomic_load_n((uint16_t *)(avail + 2), __ATOMIC_ACQUIRE);
	if (avail_idx == q->last_avail) {
		if (!has_feature(q, MVM_VIRTIO_F_EVENT_IDX))
			return 0;
		/* Ask for a kick at the next buffer, then look again: the
		 * driver may have added one before it saw our avail_event. */
		__atomic_store_n((uint16_t *)(used + 4 + 8ULL * q->num),
				 q->last_avail, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = __atomic_load_n((uint16_t *)(avail + 2),
					    __ATOMIC_ACQUIRE);
		if (avail_idx == q->last_avail)
			return 0;
	}
	if ((uint16_t)(avail_idx - q->last_avail) > q->num)
		return bad(q,
			   "avail index jumped from %u to %u (queue size %u)",
			   q->last_avail, avail_idx, q->num);
	head = __atomic_load_n(
		(uint16_t *)(avail + 4 + 2 * (q->last_avail & (q->num - 1))),
		__ATOMIC_RELAXED);
	q->last_avail++;
	if (has_feature(q, MVM_VIRTIO_F_EVENT_IDX))
		__atomic_store_n((uint16_t *)(used + 4 + 8ULL * q->num),
				 q->last_avail, __ATOMIC_RELAXED);
	if (walk_chain(q, head, chain) < 0)
		return -EIO;
	return 1;
}

int virtq_push(struct mvm_virtq *q, const struct mvm_virtq_chain *chain,
	       uint32_t written)
{
	uint8_t *used, *elem;
	uint32_t id;

	if (!q || !chain)
		return -EINVAL;
	if (!q->ready || chain->epoch != q->epoch)
		return -ESTALE;
	if (q->vd->broken)
		return -EIO;
	if (chain->head >= q->num)
		return -EINVAL;
	used = gmem(q, q->used_gpa, used_bytes(q->num));
	if (!used)
		return bad(q, "used ring left guest RAM");
	id = chain->head;
	elem = used + 4 + 8 * (q->used_idx & (q->num - 1));
	__atomic_store_n((uint32_t *)elem, id, __ATOMIC_RELAXED);
	__atomic_store_n((uint32_t *)(elem + 4), written, __ATOMIC_RELAXED);
	q->used_idx++;
	/* The element must be visible before the index that publishes it. */
	__atomic_store_n((uint16_t *)(used + 2), q->used_idx, __ATOMIC_RELEASE);
	return 0;
}

int virtq_notify(struct mvm_virtq *q)
{
	uint8_t *avail;
	uint16_t old, now = q ? q->used_idx : 0;
	bool need;

	if (!q || !q->ready || q->vd->broken || now == q->signalled_used)
		return 0;
	avail = gmem(q, q->avail_gpa, avail_bytes(q->num));
	if (!avail)
		return bad(q, "avail ring left guest RAM");
	/* Our used index must be visible before we read what the driver
	 * wants, or both sides may decide the other will act. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	old = q->signalled_used;
	q->signalled_used = now;
	if (has_feature(q, MVM_VIRTIO_F_EVENT_IDX)) {
		uint16_t ev =
			__atomic_load_n((uint16_t *)(avail + 4 + 2ULL * q->num),
					__ATOMIC_RELAXED);

		need = (uint16_t)(now - ev - 1) < (uint16_t)(now - old);
	} else {
		uint16_t flags =
			__atomic_load_n((uint16_t *)avail, __ATOMIC_RELAXED);

		need = !(flags & AVAIL_F_NO_INTERRUPT);
	}
	return need ? 1 : 0; /* 1: the transport raises the interrupt */
}

/* Copies between `buf` and the chain's segments of one direction. */
static size_t chain_copy(struct mvm_virtq *q, const struct mvm_virtq_chain *c,
			 bool writable, uint64_t offset, uint8_t *buf,
			 size_t len, bool in)
{
	size_t done = 0;

	if (!q || !c || c->epoch != q->epoch)
		return 0;
	for (unsigned i = 0; i < c->nseg && done < len; i++) {
		const struct mvm_virtq_seg *s = &c->seg[i];
		uint64_t n;
		uint8_t *p;

		if (s->writable != writable)
			continue;
		if (offset >= s->len) {
			offset -= s->len;
			continue;
		}
		n = s->len - offset;
		if (n > len - done)
			n = len - done;
		/* Again through the checked path: never a cached pointer. */
		p = gmem(q, s->gpa + offset, n);
		if (!p)
			break;
		if (in)
			memcpy(buf + done, p, n);
		else
			memcpy(p, buf + done, n);
		done += n;
		offset = 0;
	}
	return done;
}

size_t virtq_chain_read(struct mvm_virtq *q,
			const struct mvm_virtq_chain *chain, uint64_t offset,
			void *dst, size_t len)
{
	return chain_copy(q, chain, false, offset, dst, len, true);
}

size_t virtq_chain_write(struct mvm_virtq *q,
			 const struct mvm_virtq_chain *chain, uint64_t offset,
			 const void *src, size_t len)
{
	return chain_copy(q, chain, true, offset, (uint8_t *)src, len, false);
}

unsigned virtq_index(struct mvm_virtq *q)
{
	return q ? q->index : 0;
}

bool virtq_ready(struct mvm_virtq *q)
{
	return q && q->ready;
}
