/*
 * virtio-blk plugin: turning a popped chain into a checked request.
 *
 * Everything in the chain is the guest's and hostile until checked here.
 * The layout follows virtio spec 5.2.6 with no assumption about framing
 * (spec 2.6.4): the 16-byte header is the first readable bytes, an OUT
 * request's data the readable bytes after it, an IN request's data the
 * writable bytes before the status byte, which is the chain's last
 * writable byte. A chain with no writable byte has nowhere to put a status:
 * it is malformed and the device needs a reset. Anything else that is
 * wrong (a short header, a length that is not whole sectors, a range past
 * the end or wrapping, a write to a read-only disk) is answered IOERR,
 * a request or flag we do not implement UNSUPP. Every sector range is
 * checked against the image's capacity before any I/O, so no request
 * reads or writes outside the image.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blk_req.h"

/* Whole sectors [sector, sector+nsec) inside the disk, without wrapping. */
static bool range_ok(const struct blk *b, uint64_t sector, uint64_t nsec)
{
	return sector <= b->capacity && nsec <= b->capacity - sector;
}

static enum blk_prep answer(struct blk *b, struct blk_req *r, uint8_t status)
{
	r->status = status;
	if (status == BLK_S_IOERR)
		b->n_ioerr++;
	else if (status == BLK_S_UNSUPP)
		b->n_unsupp++;
	return BLK_PREP_DONE;
}

/*
 * Host iovecs for the chain's bytes [from, from+len) of one direction
 * (readable or writable segments). Each segment was checked by the core to
 * lie in guest RAM; guest_mem checks the piece again. Returns 0 or -EFAULT.
 */
static int map_data(struct blk *b, const struct mvm_virtq_chain *c,
		    bool writable, uint64_t from, uint64_t len,
		    struct blk_req *r)
{
	uint64_t pos = 0;

	r->iov = calloc(c->nseg ? c->nseg : 1, sizeof(*r->iov));
	if (!r->iov)
		return -ENOMEM;
	r->niov = 0;
	for (unsigned i = 0; i < c->nseg && len; i++) {
		const struct mvm_virtq_seg *s = &c->seg[i];
		uint64_t start = pos, end = pos + s->len;

		if (s->writable != writable)
			continue;
		pos = end;
		if (end <= from)
			continue;
		uint64_t skip = from > start ? from - start : 0;
		uint64_t n = s->len - skip < len ? s->len - skip : len;
		void *p =
			b->base.host->guest_mem(b->base.dev, s->gpa + skip, n);

		if (!p)
			return -EFAULT;
		r->iov[r->niov].iov_base = p;
		r->iov[r->niov].iov_len = (size_t)n;
		r->niov++;
		from += n;
		len -= n;
	}
	return len ? -EFAULT : 0;
}

/* The last writable byte of the chain. */
static uint64_t status_gpa(const struct mvm_virtq_chain *c)
{
	for (unsigned i = c->nseg; i-- > 0;)
		if (c->seg[i].writable)
			return c->seg[i].gpa + c->seg[i].len - 1;
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static enum blk_prep prepare_rw(struct blk *b, const struct mvm_virtq_chain *c,
				uint64_t sector, struct blk_req *r)
{
	bool in = r->type == BLK_T_IN;
	uint64_t len = in ? c->writable - 1 : c->readable - BLK_HDR_BYTES;

	if (!in && b->opts.readonly)
		return answer(b, r, BLK_S_IOERR);
	if (len % BLK_SECTOR || !range_ok(b, sector, len / BLK_SECTOR))
		return answer(b, r, BLK_S_IOERR);
	if (len == 0)
		return answer(b, r, BLK_S_OK);
	if (map_data(b, c, in, in ? 0 : BLK_HDR_BYTES, len, r) < 0)
		return answer(b, r, BLK_S_IOERR);
	r->off = sector * BLK_SECTOR;
	r->len = len;
	return BLK_PREP_SUBMIT;
}

/* DISCARD and WRITE_ZEROES: the segments after the header (spec 5.2.6). */
static enum blk_prep prepare_dwz(struct blk *b, struct mvm_virtq *q,
				 const struct mvm_virtq_chain *c,
				 struct blk_req *r)
{
	bool discard = r->type == BLK_T_DISCARD;
	uint64_t bytes = c->readable - BLK_HDR_BYTES;
	uint8_t seg[BLK_DWZ_BYTES];

	if (!(b->features &
	      (1ULL << (discard ? BLK_F_DISCARD : BLK_F_WRITE_ZEROES))))
		return answer(b, r, BLK_S_UNSUPP);
	if (b->opts.readonly)
		return answer(b, r, BLK_S_IOERR);
	if (bytes == 0 || bytes % BLK_DWZ_BYTES)
		return answer(b, r, BLK_S_IOERR);
	if (bytes / BLK_DWZ_BYTES > BLK_MAX_DWZ_SEG)
		return answer(b, r, BLK_S_UNSUPP);
	unsigned nseg = (unsigned)(bytes / BLK_DWZ_BYTES);

	r->nrange = 0;
	for (unsigned i = 0; i < nseg; i++) {
		if (b->base.vh->chain_read(q, c,
					   BLK_HDR_BYTES + i * BLK_DWZ_BYTES,
					   seg, sizeof(seg)) != sizeof(seg))
			return answer(b, r, BLK_S_IOERR);
		uint64_t sector = le64(seg);
		uint32_t nsec = le32(seg + 8), flags = le32(seg + 12);

		/* Reserved flags, and unmap on a discard (spec 5.2.6.2). */
		if (flags & ~BLK_DWZ_F_UNMAP ||
		    (discard && (flags & BLK_DWZ_F_UNMAP)))
			return answer(b, r, BLK_S_UNSUPP);
		if (nsec > BLK_MAX_DWZ_SECTORS || !range_ok(b, sector, nsec))
			return answer(b, r, BLK_S_IOERR);
		if (nsec == 0)
			continue; /* nothing to do for this one */
		r->range[r->nrange].off = sector * BLK_SECTOR;
		r->range[r->nrange].len = (uint64_t)nsec * BLK_SECTOR;
		r->range[r->nrange].unmap =
			discard || (flags & BLK_DWZ_F_UNMAP);
		r->nrange++;
	}
	return r->nrange ? BLK_PREP_SUBMIT : answer(b, r, BLK_S_OK);
}

static enum blk_prep prepare_get_id(struct blk *b, struct mvm_virtq *q,
				    const struct mvm_virtq_chain *c,
				    struct blk_req *r)
{
	uint8_t id[BLK_ID_BYTES] = {0};
	uint64_t room = c->writable - 1;
	size_t n = room < sizeof(id) ? (size_t)room : sizeof(id);

	if (b->opts.serial)
		memcpy(id, b->opts.serial, strnlen(b->opts.serial, sizeof(id)));
	if (b->base.vh->chain_write(q, c, 0, id, n) != n)
		return answer(b, r, BLK_S_IOERR);
	r->len = n; /* data bytes written, for push */
	return answer(b, r, BLK_S_OK);
}

enum blk_prep blk_req_prepare(struct blk *b, struct mvm_virtq *q,
			      const struct mvm_virtq_chain *c, unsigned qi,
			      struct blk_req *r)
{
	uint8_t hdr[BLK_HDR_BYTES];

	memset(r, 0, sizeof(*r));
	r->qi = qi;
	r->chain = *c;
	r->chain.seg = NULL;
	r->chain.nseg = 0;
	if (c->writable == 0)
		return BLK_PREP_BAD; /* no status byte (spec 5.2.6) */
	r->status_gpa = status_gpa(c);
	if (c->readable < BLK_HDR_BYTES ||
	    b->base.vh->chain_read(q, c, 0, hdr, sizeof(hdr)) != sizeof(hdr))
		return answer(b, r, BLK_S_IOERR);
	r->type = le32(hdr);
	switch (r->type) {
	case BLK_T_IN:
	case BLK_T_OUT:
		return prepare_rw(b, c, le64(hdr + 8), r);
	case BLK_T_FLUSH:
		return BLK_PREP_SUBMIT;
	case BLK_T_GET_ID:
		return prepare_get_id(b, q, c, r);
	case BLK_T_DISCARD:
	case BLK_T_WRITE_ZEROES:
		return prepare_dwz(b, q, c, r);
	default:
		return answer(b, r, BLK_S_UNSUPP);
	}
}

void blk_req_free(struct blk_req *r)
{
	if (!r)
		return;
	free(r->iov);
	free(r->iov_orig);
	free(r);
}
