/*
 * virtio-vsock plugin: the packet header (virtio 1.2 section 5.10.6) and
 * the checks every packet the guest hands over goes through before the
 * device acts on it. Pure functions over bytes: no guest memory, no
 * sockets, so the fuzzer (tests/fuzz/fuzz_vsock_pkt.c) drives them alone.
 */
#ifndef MODVMM_VSOCK_PKT_H
#define MODVMM_VSOCK_PKT_H

#include <stdint.h>

/* struct virtio_vsock_hdr is 44 bytes, packed, little-endian (5.10.6). */
#define VSOCK_HDR_BYTES 44
/* The host's CID as the guest addresses it (VMADDR_CID_HOST). */
#define VSOCK_HOST_CID 2
/* The only socket type we offer: no VIRTIO_VSOCK_F_SEQPACKET (5.10.3). */
#define VSOCK_TYPE_STREAM 1
/* The largest payload one packet carries, in either direction; Linux's
 * VIRTIO_VSOCK_MAX_PKT_BUF_SIZE. */
#define VSOCK_MAX_PAYLOAD (64u * 1024)

/* Operations (5.10.6). */
enum vsock_op {
	VSOCK_OP_INVALID = 0,
	VSOCK_OP_REQUEST = 1,
	VSOCK_OP_RESPONSE = 2,
	VSOCK_OP_RST = 3,
	VSOCK_OP_SHUTDOWN = 4,
	VSOCK_OP_RW = 5,
	VSOCK_OP_CREDIT_UPDATE = 6,
	VSOCK_OP_CREDIT_REQUEST = 7,
};

/* SHUTDOWN flags (5.10.6.5): the sender will receive / send no more. */
#define VSOCK_SHUTDOWN_RCV 1u
#define VSOCK_SHUTDOWN_SEND 2u
#define VSOCK_SHUTDOWN_BOTH (VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND)

/* The header, decoded to host byte order. */
struct vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port;
	uint32_t len;
	uint16_t type, op;
	uint32_t flags;
	uint32_t buf_alloc, fwd_cnt;
};

void vsock_hdr_decode(const uint8_t b[VSOCK_HDR_BYTES], struct vsock_hdr *h);
void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t b[VSOCK_HDR_BYTES]);

/* What to do with a packet from the guest's tx queue. */
enum vsock_verdict {
	VSOCK_PKT_OK,   /* act on it */
	VSOCK_PKT_DROP, /* ignore it: not addressed to us, or too short to
			   have addresses to answer */
	VSOCK_PKT_RST,  /* malformed: answer RST (never to an RST) */
};

/*
 * Check the header `h` of a packet whose chain has `readable` bytes
 * (header included) from a guest whose CID is `guest_cid`. On anything but
 * VSOCK_PKT_OK, *why says what was wrong (a static string).
 */
enum vsock_verdict vsock_pkt_check(const struct vsock_hdr *h,
				   uint64_t guest_cid, uint64_t readable,
				   const char **why);

#endif /* MODVMM_VSOCK_PKT_H */
