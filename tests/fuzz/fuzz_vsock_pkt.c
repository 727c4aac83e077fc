/*
 * libFuzzer target for the virtio-vsock plugin's parsers: the packet
 * header and its checks (plugins/virtio-vsock/vsock_pkt.c), a host
 * client's CONNECT line (vsock_unix_parse_connect) and the credit
 * arithmetic (vsock_credit.c), all fed from one input: every packet the
 * guest hands over and every line a host client writes goes through them.
 *
 * Oracles, beyond no crash and no sanitizer report:
 *  - decode then encode gives back the same 44 bytes;
 *  - a packet found OK is from the guest's CID to the host, of a known op
 *    and type STREAM, with a len inside both the chain and 64 KiB and no
 *    payload on a control packet; one too short for a header is dropped;
 *  - the CONNECT parser agrees with an independent one (strtoull);
 *  - credit: the input read as operations (the guest's buf_alloc/fwd_cnt
 *    updates, sends up to the credit, receives, forwards) never lets the
 *    bytes in flight exceed the guest's buf_alloc once a send was allowed,
 *    nor the bytes buffered exceed our own buf_alloc.
 *
 * Built as a fuzzer with MODVMM_FUZZ=ON (clang), otherwise as a replay of
 * tests/fuzz/corpus/vsock_pkt (label unit).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vsock_credit.h"
#include "vsock_pkt.h"
#include "vsock_unix.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__,     \
				#cond);                                        \
			abort();                                               \
		}                                                              \
	} while (0)

#define GUEST_CID 3

static void header(const uint8_t *data, size_t size)
{
	uint8_t b[VSOCK_HDR_BYTES] = {0}, again[VSOCK_HDR_BYTES];
	struct vsock_hdr h;
	const char *why = NULL;
	enum vsock_verdict v;

	memcpy(b, data, size < sizeof(b) ? size : sizeof(b));
	vsock_hdr_decode(b, &h);
	vsock_hdr_encode(&h, again);
	CHECK(!memcmp(b, again, sizeof(b)));
	v = vsock_pkt_check(&h, GUEST_CID, size, &why);
	if (size < VSOCK_HDR_BYTES)
		CHECK(v == VSOCK_PKT_DROP);
	if (v != VSOCK_PKT_OK) {
		CHECK(why != NULL);
		return;
	}
	CHECK(h.src_cid == GUEST_CID && h.dst_cid == VSOCK_HOST_CID);
	CHECK(h.op >= VSOCK_OP_REQUEST && h.op <= VSOCK_OP_CREDIT_REQUEST);
	CHECK(h.type == VSOCK_TYPE_STREAM);
	CHECK(h.len <= VSOCK_MAX_PAYLOAD);
	CHECK((uint64_t)h.len + VSOCK_HDR_BYTES <= size);
	CHECK(h.op == VSOCK_OP_RW || h.len == 0);
}

static void connect_line(const uint8_t *data, size_t size)
{
	char line[80], *end;
	uint32_t port = 0;
	bool ref_ok;
	unsigned long long ref = 0;
	int r;

	if (size >= sizeof(line))
		size = sizeof(line) - 1;
	memcpy(line, data, size);
	line[size] = 0;
	r = vsock_unix_parse_connect(line, size, &port);
	/* The reference: "CONNECT " then digits only, whose value (leading
	 * zeros allowed) is below 2^32. */
	ref_ok = size > 8 && !memcmp(line, "CONNECT ", 8) &&
		 strspn(line + 8, "0123456789") == size - 8;
	if (ref_ok) {
		const char *sig = line + 8 + strspn(line + 8, "0");

		ref_ok = strlen(sig) <= 10;
		if (ref_ok) {
			ref = strtoull(line + 8, &end, 10);
			ref_ok = ref <= UINT32_MAX;
		}
	}
	CHECK((r == 0) == ref_ok);
	if (r == 0)
		CHECK(port == ref);
}

static uint32_t u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void credit(const uint8_t *data, size_t size)
{
	struct vsock_credit c;

	vsock_credit_init(&c, 256 * 1024);
	for (size_t i = 0; i + 9 <= size; i += 9) {
		uint32_t a = u32(data + i + 1), b = u32(data + i + 5), n;

		switch (data[i] % 4) {
		case 0:
			vsock_credit_peer(&c, a, b);
			break;
		case 1:
			n = vsock_credit_avail(&c);
			CHECK(n <= c.peer_buf_alloc);
			if (a < n)
				n = a;
			if (!n)
				break;
			vsock_credit_sent(&c, n);
			CHECK((uint32_t)(c.tx_cnt - c.peer_fwd_cnt) <=
			      c.peer_buf_alloc);
			break;
		case 2:
			if (vsock_credit_rx_fits(&c, a))
				vsock_credit_received(&c, a);
			break;
		case 3:
			n = vsock_credit_buffered(&c);
			vsock_credit_forwarded(&c, a < n ? a : n);
			break;
		}
		CHECK(vsock_credit_buffered(&c) <= c.buf_alloc);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	header(data, size);
	connect_line(data, size);
	credit(data, size);
	return 0;
}
