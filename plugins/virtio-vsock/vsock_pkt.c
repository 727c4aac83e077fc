/*
 * virtio-vsock packet header: decoding, encoding and the checks of
 * virtio 1.2 section 5.10.6.
 */
#include "vsock_pkt.h"

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void vsock_hdr_decode(const uint8_t b[VSOCK_HDR_BYTES], struct vsock_hdr *h)
{
	h->src_cid = get_le(b + 0, 8);
	h->dst_cid = get_le(b + 8, 8);
	h->src_port = (uint32_t)get_le(b + 16, 4);
	h->dst_port = (uint32_t)get_le(b + 20, 4);
	h->len = (uint32_t)get_le(b + 24, 4);
	h->type = (uint16_t)get_le(b + 28, 2);
	h->op = (uint16_t)get_le(b + 30, 2);
	h->flags = (uint32_t)get_le(b + 32, 4);
	h->buf_alloc = (uint32_t)get_le(b + 36, 4);
	h->fwd_cnt = (uint32_t)get_le(b + 40, 4);
}

void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t b[VSOCK_HDR_BYTES])
{
	put_le(b + 0, h->src_cid, 8);
	put_le(b + 8, h->dst_cid, 8);
	put_le(b + 16, h->src_port, 4);
	put_le(b + 20, h->dst_port, 4);
	put_le(b + 24, h->len, 4);
	put_le(b + 28, h->type, 2);
	put_le(b + 30, h->op, 2);
	put_le(b + 32, h->flags, 4);
	put_le(b + 36, h->buf_alloc, 4);
	put_le(b + 40, h->fwd_cnt, 4);
}

static enum vsock_verdict bad(const char **why, const char *msg,
			      enum vsock_verdict v)
{
	*why = msg;
	return v;
}

enum vsock_verdict vsock_pkt_check(const struct vsock_hdr *h,
				   uint64_t guest_cid, uint64_t readable,
				   const char **why)
{
	if (readable < VSOCK_HDR_BYTES)
		return bad(why, "short header", VSOCK_PKT_DROP);
	/* A guest may only speak for itself, and only to the host: anything
	 * else names a connection that is not on this device. */
	if (h->src_cid != guest_cid)
		return bad(why, "src_cid is not the guest's CID",
			   VSOCK_PKT_DROP);
	if (h->dst_cid != VSOCK_HOST_CID)
		return bad(why, "dst_cid is not the host (2)", VSOCK_PKT_DROP);
	if (h->op == VSOCK_OP_INVALID || h->op > VSOCK_OP_CREDIT_REQUEST)
		return bad(why, "unknown op", VSOCK_PKT_RST);
	/* 5.10.6.4: a packet of an unsupported type is answered with RST. */
	if (h->type != VSOCK_TYPE_STREAM)
		return bad(why, "type is not STREAM", VSOCK_PKT_RST);
	if (h->len > VSOCK_MAX_PAYLOAD)
		return bad(why, "len larger than 64 KiB", VSOCK_PKT_RST);
	if (h->len > readable - VSOCK_HDR_BYTES)
		return bad(why, "len larger than the buffer", VSOCK_PKT_RST);
	if (h->op != VSOCK_OP_RW && h->len)
		return bad(why, "payload on a control packet", VSOCK_PKT_RST);
	return VSOCK_PKT_OK;
}
