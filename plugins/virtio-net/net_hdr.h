/*
 * virtio-net plugin: the virtio-net header in front of every frame
 * (virtio spec 5.1.6), as a driver hands it over on the transmit queue.
 *
 * Called by net_tx.c on the event-loop thread, and by the fuzzer. Pure: no
 * host table, no guest memory; the caller copies the header out of guest
 * memory first, so the guest cannot change it between the check and the
 * write to the tap.
 */
#ifndef MODVMM_NET_HDR_H
#define MODVMM_NET_HDR_H

#include <stdint.h>

/* With VIRTIO_F_VERSION_1 the header always has num_buffers: 12 bytes
 * (virtio spec 5.1.6.1). */
#define NET_HDR_BYTES 12

/* flags (virtio spec 5.1.6). */
#define NET_HDR_F_NEEDS_CSUM 1
#define NET_HDR_F_DATA_VALID 2
/* gso_type (virtio spec 5.1.6). */
#define NET_HDR_GSO_NONE 0
#define NET_HDR_GSO_TCPV4 1
#define NET_HDR_GSO_UDP 3
#define NET_HDR_GSO_TCPV6 4
#define NET_HDR_GSO_ECN 0x80

struct net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

/* Decode the 12 little-endian bytes at `raw`. */
void net_hdr_decode(const uint8_t *raw, struct net_hdr *h);
/* Encode `h` into 12 little-endian bytes. */
void net_hdr_encode(const struct net_hdr *h, uint8_t *raw);

/*
 * Check a transmit header for a frame of `frame_len` bytes (what follows the
 * header) against the features the driver accepted (`acked`, bits as in
 * net.h). Returns 0, or -EINVAL with *why saying what is wrong (a static
 * string, for a rate-limited log line): a frame shorter than an Ethernet
 * header or longer than NET_MAX_FRAME, flags other than NEEDS_CSUM, a
 * checksum request without CSUM or whose field lies past the frame, a GSO
 * type not negotiated (UDP and ECN never are), GSO without NEEDS_CSUM, a
 * gso_size of 0, or hdr_len past the frame.
 */
int net_hdr_check_tx(const struct net_hdr *h, uint64_t frame_len,
		     uint64_t acked, const char **why);

#endif /* MODVMM_NET_HDR_H */
