/*
 * virtio-net plugin: checking the virtio-net header (see net_hdr.h).
 *
 * The tap's kernel side checks the header again (virtio_net_hdr_to_skb),
 * but a header the driver had no right to send (a GSO type it did not
 * negotiate, virtio spec 5.1.6.2.1) is refused here, where it is counted,
 * rather than left to whatever the kernel makes of it.
 */
#include <errno.h>

#include "net_state.h"
#include "net_hdr.h"

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void net_hdr_decode(const uint8_t *raw, struct net_hdr *h)
{
	h->flags = raw[0];
	h->gso_type = raw[1];
	h->hdr_len = le16(raw + 2);
	h->gso_size = le16(raw + 4);
	h->csum_start = le16(raw + 6);
	h->csum_offset = le16(raw + 8);
	h->num_buffers = le16(raw + 10);
}

void net_hdr_encode(const struct net_hdr *h, uint8_t *raw)
{
	raw[0] = h->flags;
	raw[1] = h->gso_type;
	put16(raw + 2, h->hdr_len);
	put16(raw + 4, h->gso_size);
	put16(raw + 6, h->csum_start);
	put16(raw + 8, h->csum_offset);
	put16(raw + 10, h->num_buffers);
}

static int bad(const char **why, const char *what)
{
	if (why)
		*why = what;
	return -EINVAL;
}

static int check_gso(const struct net_hdr *h, uint64_t frame_len,
		     uint64_t acked, const char **why)
{
	uint64_t want;

	if (h->gso_type & NET_HDR_GSO_ECN)
		return bad(why, "GSO with ECN, not negotiated");
	switch (h->gso_type) {
	case NET_HDR_GSO_TCPV4:
		want = 1ULL << NET_F_HOST_TSO4;
		break;
	case NET_HDR_GSO_TCPV6:
		want = 1ULL << NET_F_HOST_TSO6;
		break;
	default:
		return bad(why, "unknown or not offered GSO type");
	}
	if (!(acked & want))
		return bad(why, "GSO type not negotiated");
	/* A segmented packet's checksums are the device's to finish: the
	 * driver must ask for it (virtio spec 5.1.6.2). */
	if (!(h->flags & NET_HDR_F_NEEDS_CSUM))
		return bad(why, "GSO without NEEDS_CSUM");
	if (h->gso_size == 0)
		return bad(why, "GSO with gso_size 0");
	if (h->hdr_len > frame_len)
		return bad(why, "hdr_len past the frame");
	return 0;
}

int net_hdr_check_tx(const struct net_hdr *h, uint64_t frame_len,
		     uint64_t acked, const char **why)
{
	if (frame_len < NET_ETH_HLEN)
		return bad(why, "frame shorter than an Ethernet header");
	if (frame_len > NET_MAX_FRAME)
		return bad(why, "frame longer than 64 KiB");
	/* DATA_VALID is for received frames only; RSC_INFO needs a feature
	 * we do not offer (virtio spec 5.1.6.2). */
	if (h->flags & ~NET_HDR_F_NEEDS_CSUM)
		return bad(why, "flags other than NEEDS_CSUM");
	if (h->flags & NET_HDR_F_NEEDS_CSUM) {
		if (!(acked & (1ULL << NET_F_CSUM)))
			return bad(why, "NEEDS_CSUM without CSUM negotiated");
		/* The 16-bit checksum field, csum_offset bytes after
		 * csum_start, lies inside the frame. */
		if ((uint32_t)h->csum_start + h->csum_offset + 2 > frame_len)
			return bad(why, "checksum field past the frame");
	}
	if (h->gso_type != NET_HDR_GSO_NONE)
		return check_gso(h, frame_len, acked, why);
	return 0;
}
