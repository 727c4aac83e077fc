/*
 * libFuzzer target for the virtio-net plugin's guest-facing paths, through
 * the per-plugin harness: the input is a small driver program, as for
 * fuzz_balloon. Its first bytes choose the options (queue size, a rate
 * limit) and the features the driver accepts (checksum and TSO offloads,
 * mergeable buffers, indirect descriptors, event index); then each op byte
 * picks one thing a hostile driver or network does: a transmit chain (any
 * virtio-net header, frames from empty to past 64 KiB, split, indirect,
 * with device-writable parts), receive buffers (any sizes, some
 * device-readable, too short for the header), a frame arriving from the
 * network (any length, truncated or not), raw descriptors, ring fields,
 * resets and re-negotiation, the clock.
 *
 * The tap is a socketpair (fuzz_net_tap.c). Besides crashes and sanitizer
 * reports, it fails (abort) if a frame reaches the network that the
 * header check should have dropped (too short or long, or a header the
 * negotiated features do not allow), if a transmit chain comes back with
 * bytes "written", if a receive chain is reported longer than the buffers
 * the driver gave it, if the event loop never settles, or if the device
 * leaves fds or timers behind.
 *
 * The plugin's sources (but net_tap.c) and the core's virtio transport are
 * compiled in and the plugin is opened by its linked-in descriptor, as
 * fuzz_balloon explains. Without MODVMM_FUZZ: a replay program (the seeds,
 * then pseudo-random programs; label unit).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <modvmm/harness.h>

#include "fuzz_chain.h"
#include "fuzz_driver.h"
#include "fuzz_input.h"
#include "fuzz_net_tap.h"
#include "fuzz_replay.h"
#include "harness_linked.h"
#include "net.h"
#include "net_hdr.h"

extern const struct mvm_plugin mvm_plugin_descriptor; /* virtio-net's */

#define REG(x) MVM_VIRTIO_MMIO_##x
#define PAGE 4096ULL
#define RAM_SIZE (8ULL << 20)
#define NQ 2
#define RING_GPA 0x100000ULL
#define SCRATCH_GPA 0x110000ULL
#define SCRATCH_SIZE (4ULL << 20)
#define MAX_OPS 256
#define MAX_SEGS 8
#define UNKNOWN UINT32_MAX

#define F_V1 (1ULL << MVM_VIRTIO_F_VERSION_1)
#define F_INDIRECT (1ULL << MVM_VIRTIO_F_INDIRECT_DESC)
#define F_EVENT_IDX (1ULL << MVM_VIRTIO_F_EVENT_IDX)

struct fz {
	struct fuzz_driver d;       /* queues 0-1: receive, transmit */
	uint32_t writable[NQ][256]; /* per head: bytes the device may write */
	/* Descriptor slots of the chains in flight: the chain (head) using
	 * each, and how many a chain at a head uses. A slot posted again
	 * while in flight makes both chains' lengths unknown (a driver may
	 * do that; the device then sees whatever the table holds). */
	int16_t owner[NQ][256];
	uint16_t nslots[NQ][256];
};

static void fail(const char *what, uint64_t a, uint64_t b)
{
	fprintf(stderr, "fuzz_virtio_net: %s (0x%llx, 0x%llx)\n", what,
		(unsigned long long)a, (unsigned long long)b);
	abort();
}

static uint64_t take(struct fz *f, unsigned n)
{
	return fuzz_take(&f->d.in, n);
}

static uint8_t take8(struct fz *f)
{
	return fuzz_take8(&f->d.in);
}

static uint64_t scratch(struct fz *f, uint64_t len, uint64_t align)
{
	uint64_t before = f->d.in.cursor;
	uint64_t gpa = fuzz_scratch(&f->d.in, len, align);

	/* Wrapped: indirect tables of chains in flight may be overwritten,
	 * and with them the lengths the device sees. */
	if (f->d.in.cursor < before)
		for (unsigned q = 0; q < NQ; q++)
			for (unsigned k = 0; k < 256; k++)
				f->writable[q][k] = UNKNOWN;
	return gpa;
}

static void run(struct fz *f)
{
	if (mvm_harness_run(f->d.h) < 0)
		fail("the event loop never settled", 0, 0);
}

/* ---- the oracle ---- */

/* Every frame that reached the network passed the header check. */
static void drain_network(struct fz *f)
{
	static uint8_t buf[NET_HDR_BYTES + NET_MAX_FRAME + 64];
	ssize_t r;

	while ((r = read(fuzz_net_peer, buf, sizeof(buf))) >= 0) {
		struct net_hdr h;

		if ((size_t)r < NET_HDR_BYTES + NET_ETH_HLEN ||
		    (size_t)r > NET_HDR_BYTES + NET_MAX_FRAME)
			fail("a frame of a bad length was sent", (uint64_t)r,
			     0);
		net_hdr_decode(buf, &h);
		if (net_hdr_check_tx(&h, (uint64_t)r - NET_HDR_BYTES,
				     f->d.features, NULL) < 0)
			fail("a frame with a bad header was sent", buf[0],
			     buf[1]);
	}
}

/* Take the used entries of queue qi as the driver would, checking them. */
static void drain(struct fz *f, unsigned qi)
{
	struct mvm_harness_vq *vq = &f->d.vq[qi];
	uint32_t id, len;

	if (!f->d.usable[qi])
		return;
	for (unsigned i = 0; i < vq->num; i++) {
		if (!mvm_harness_vq_used(f->d.h, vq, &id, &len))
			break;
		if (id >= vq->num)
			continue; /* the core's used id: whatever was posted */
		for (unsigned k = 0; k < f->nslots[qi][id]; k++) {
			unsigned slot = (id + k) % vq->num;

			if (f->owner[qi][slot] == (int16_t)id)
				f->owner[qi][slot] = -1;
		}
		if (qi == NET_TXQ && len)
			fail("a transmit chain came back written", id, len);
		if (qi == NET_RXQ && f->writable[qi][id] != UNKNOWN &&
		    len > f->writable[qi][id])
			fail("receive length past the buffers", len,
			     f->writable[qi][id]);
	}
}

/* ---- the driver ---- */

/* A queue size: 256, 64, 2 or 3 (not a power of two: QueueReady must
 * not stick), at most QueueNumMax. */
static uint16_t pick_num(uint32_t max, unsigned sel)
{
	static const uint16_t nums[4] = {256, 64, 2, 3};

	return nums[sel & 3] > max ? (uint16_t)max : nums[sel & 3];
}

/* Queue `i`, its rings at a fixed place, and nothing in flight on it. */
static void setup_queue(struct fz *f, unsigned i, unsigned sizesel)
{
	fuzz_queue_setup(&f->d, i, RING_GPA + 3 * PAGE * i, pick_num, sizesel);
	for (unsigned k = 0; k < 256; k++) {
		f->writable[i][k] = UNKNOWN;
		f->owner[i][k] = -1;
		f->nslots[i][k] = 0;
	}
}

/* fsel bits: CSUM, GUEST_CSUM, HOST_TSO4+6, GUEST_TSO4+6, MRG_RXBUF,
 * INDIRECT, EVENT_IDX, no DRIVER_OK. */
static void init(struct fz *f, uint8_t fsel, uint8_t sizes)
{
	uint64_t want = F_V1 | 1ULL << NET_F_MAC | 1ULL << NET_F_MTU |
			1ULL << NET_F_STATUS;

	if (fsel & 1)
		want |= 1ULL << NET_F_CSUM;
	if (fsel & 2)
		want |= 1ULL << NET_F_GUEST_CSUM;
	if (fsel & 4)
		want |= 1ULL << NET_F_HOST_TSO4 | 1ULL << NET_F_HOST_TSO6;
	if (fsel & 8)
		want |= 1ULL << NET_F_GUEST_TSO4 | 1ULL << NET_F_GUEST_TSO6;
	if (fsel & 16)
		want |= 1ULL << NET_F_MRG_RXBUF;
	if (fsel & 32)
		want |= F_INDIRECT;
	if (fsel & 64)
		want |= F_EVENT_IDX;
	memset(f->d.usable, 0, sizeof(f->d.usable));
	f->d.features = 0;
	if (mvm_harness_virtio_negotiate(f->d.h, want, &f->d.features) < 0) {
		f->d.features = 0; /* refused (TSO without CSUM) */
		return;
	}
	for (unsigned i = 0; i < NQ; i++)
		setup_queue(f, i, sizes >> (2 * i));
	if (!(fsel & 0x80))
		mvm_harness_virtio_driver_ok(f->d.h);
	run(f);
}

static void post(struct fz *f, unsigned qi, const struct mvm_harness_buf *s,
		 unsigned n, bool indirect)
{
	struct mvm_harness_vq *vq = &f->d.vq[qi];
	uint16_t head = (uint16_t)(vq->next_desc % vq->num);
	struct mvm_harness_desc d[MAX_SEGS];
	uint64_t wr = 0;

	fuzz_chain_descs(d, s, n);
	for (unsigned i = 0; i < n; i++)
		if (s[i].writable)
			wr += s[i].len;
	f->writable[qi][head] = wr > UNKNOWN - 1 ? UNKNOWN : (uint32_t)wr;
	f->nslots[qi][head] = (uint16_t)(indirect ? 1 : n);
	for (unsigned k = 0; k < f->nslots[qi][head]; k++) {
		unsigned slot = (head + k) % vq->num;
		int16_t o = f->owner[qi][slot];

		if (o >= 0 || k >= vq->num) {
			if (o >= 0)
				f->writable[qi][o] = UNKNOWN;
			f->writable[qi][head] = UNKNOWN;
		}
		f->owner[qi][slot] = (int16_t)head;
	}
	fuzz_chain_post(f->d.h, vq, head, d, n,
			indirect ? scratch(f, 16ULL * n, 16) : 0);
}

static void kick_run(struct fz *f, unsigned qi)
{
	mvm_harness_vq_kick(f->d.h, &f->d.vq[qi]);
	run(f);
	drain_network(f);
	drain(f, qi);
}

/* A frame length: small, around the Ethernet header, typical, around
 * the 64 KiB bound, or raw. */
static uint32_t frame_len(struct fz *f, uint8_t s)
{
	static const uint32_t special[8] = {0,    13,    14,    60,
					    1514, 65553, 65554, 70000};

	if (s & 8)
		return special[s & 7];
	return (uint32_t)take(f, 2) % 9000;
}

/* Split `len` bytes at `gpa` into up to n segments of input-chosen
 * sizes; returns how many. */
static unsigned split(struct fz *f, struct mvm_harness_buf *s, unsigned n,
		      uint64_t gpa, uint32_t len, bool writable)
{
	unsigned k = 0;

	while (len && k < n) {
		uint32_t piece = k + 1 == n ? len : (uint32_t)take(f, 2) + 1;

		if (piece > len)
			piece = len;
		s[k++] = (struct mvm_harness_buf){gpa, piece, writable};
		gpa += piece;
		len -= piece;
	}
	return k;
}

/* A transmit chain: a header (raw, or a plausible one with fields from
 * the input), a frame, split, maybe with device-writable pieces. */
static void op_tx(struct fz *f)
{
	uint8_t s = take8(f), hs = take8(f);
	uint32_t len = frame_len(f, s);
	uint64_t gpa = scratch(f, NET_HDR_BYTES + (uint64_t)len, 16);
	uint8_t *p = mvm_harness_gpa(f->d.h, gpa, NET_HDR_BYTES + len);
	struct mvm_harness_buf sg[MAX_SEGS];
	unsigned n;

	if (!f->d.usable[NET_TXQ] || !p)
		return;
	if (hs & 1) {
		for (int i = 0; i < NET_HDR_BYTES; i++)
			p[i] = take8(f);
	} else {
		struct net_hdr h = {.flags = hs & 2 ? 1 : 0,
				    .gso_type = (uint8_t)(hs >> 5),
				    .hdr_len = (uint16_t)take(f, 1),
				    .gso_size = (uint16_t)take(f, 2),
				    .csum_start = (uint16_t)take(f, 1),
				    .csum_offset = (uint16_t)(take(f, 1) & 31)};

		net_hdr_encode(&h, p);
	}
	memset(p + NET_HDR_BYTES, 0x5a, len);
	n = split(f, sg, 1 + (s >> 4) % 4, gpa, NET_HDR_BYTES + len, false);
	if (s & 0x40 && n < MAX_SEGS)
		sg[n++] =
			(struct mvm_harness_buf){scratch(f, 64, 16), 64, true};
	if (n == 0)
		return;
	post(f, NET_TXQ, sg, n, s & 0x80);
	kick_run(f, NET_TXQ);
}

/* Receive buffers: 1 to 4 chains of 1 to 3 pieces. */
static void op_rx(struct fz *f)
{
	static const uint32_t sizes[8] = {1, 8, 11, 12, 64, 1526, 4096, 65562};
	uint8_t s = take8(f);
	unsigned chains = 1 + (s & 3);

	if (!f->d.usable[NET_RXQ])
		return;
	for (unsigned c = 0; c < chains; c++) {
		uint8_t cs = take8(f);
		struct mvm_harness_buf sg[3];
		unsigned n = 1 + (cs & 1) + ((cs >> 1) & 1);

		for (unsigned i = 0; i < n; i++) {
			uint8_t z = take8(f);
			uint32_t len = z & 8 ? sizes[z & 7]
					     : (uint32_t)take(f, 2) % 4096 + 1;

			sg[i] = (struct mvm_harness_buf){
				scratch(f, len, 16), len, !(z & 0x80) || i > 0};
		}
		post(f, NET_RXQ, sg, n, cs & 0x40);
	}
	kick_run(f, NET_RXQ);
}

/* A frame from the network: the tap's header (trusted, but any bytes)
 * then the frame. */
static void op_frame(struct fz *f)
{
	static uint8_t buf[NET_HDR_BYTES + 70000];
	uint8_t s = take8(f);
	uint32_t len = NET_HDR_BYTES + frame_len(f, s);

	memset(buf, 0, NET_HDR_BYTES);
	if (s & 0x10)
		buf[0] = take8(f);
	for (uint32_t i = NET_HDR_BYTES; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + s);
	if (write(fuzz_net_peer, buf, len) < 0 && errno != EAGAIN &&
	    errno != EMSGSIZE && errno != ENOBUFS)
		fail("network write", (uint64_t)errno, len);
	run(f);
	drain(f, NET_RXQ);
	drain_network(f);
}

/* A raw descriptor and avail entry. */
static void op_raw_desc(struct fz *f)
{
	uint8_t s = take8(f);
	unsigned qi = s & 1;
	struct mvm_harness_vq *vq = &f->d.vq[qi];
	struct mvm_harness_desc d;
	uint16_t head;

	if (!f->d.usable[qi])
		return;
	d.addr = (s & 0x10) ? take(f, 8) : scratch(f, 64, 16);
	d.len = (uint32_t)take(f, (s & 0x20) ? 4 : 1);
	d.flags = (uint16_t)take(f, 1);
	d.next = (uint16_t)take(f, (s & 0x40) ? 2 : 1);
	*mvm_harness_vq_desc(f->d.h, vq, vq->next_desc) = d;
	if (f->owner[qi][vq->next_desc] >= 0)
		f->writable[qi][f->owner[qi][vq->next_desc]] = UNKNOWN;
	f->writable[qi][vq->next_desc] = UNKNOWN;
	head = (s & 0x80) ? (uint16_t)take(f, 2) : vq->next_desc;
	if (head < vq->num) {
		if (f->owner[qi][head] >= 0)
			f->writable[qi][f->owner[qi][head]] = UNKNOWN;
		f->writable[qi][head] = UNKNOWN;
		f->nslots[qi][head] = 0;
	}
	mvm_harness_vq_publish(f->d.h, vq, head);
	vq->next_desc = (uint16_t)((vq->next_desc + 1) % vq->num);
	kick_run(f, qi);
}

static void op_ring(struct fz *f)
{
	uint8_t s = take8(f);
	unsigned qi = s & 1;

	if (fuzz_ring_fields(&f->d, qi, s, (uint16_t)take(f, 2)))
		drain(f, qi);
	if (f->d.usable[qi] && (s & 0x10))
		kick_run(f, qi);
}

static void op_reset(struct fz *f)
{
	uint8_t s = take8(f);

	drain_network(f);
	if (s & 1) {
		uint8_t fsel = take8(f), sizes = take8(f);

		init(f, fsel, sizes);
		return;
	}
	fuzz_driver_reset(&f->d);
	run(f);
}

static void op_time(struct fz *f)
{
	static const uint64_t ns[4] = {1000000, 100000000, 1000000000,
				       5000000000};

	if (mvm_harness_advance(f->d.h, ns[take8(f) % 4]) < 0)
		fail("timers never settled", 0, 0);
	drain_network(f);
	drain(f, 0);
	drain(f, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mvm_harness_config cfg = {.ram_size = RAM_SIZE};
	struct fz f = {.d.in = FUZZ_IN(data, size, SCRATCH_GPA, SCRATCH_SIZE)};
	char opts[160], why[600];
	uint8_t o = take8(&f), fsel, sizes;
	int ops = 0;

	snprintf(opts, sizeof(opts),
		 "vhost=off,queue_size=%s,ops_size=%s,bw_size=%s",
		 (o & 1) ? "64" : "256", (o & 2) ? "3" : "0",
		 (o & 4) ? "4K" : "0");
	if (harness_open_linked(&mvm_plugin_descriptor, opts, &cfg, &f.d.h, why,
				sizeof(why)) < 0) {
		fprintf(stderr, "fuzz_virtio_net: %s\n", why);
		abort();
	}
	fsel = take8(&f);
	sizes = take8(&f);
	init(&f, fsel, sizes);
	while (f.d.in.p < f.d.in.end && ops++ < MAX_OPS) {
		uint8_t op = take8(&f);

		switch (op % 12) {
		case 0:
		case 1:
		case 2:
			op_tx(&f);
			break;
		case 3:
		case 4:
			op_rx(&f);
			break;
		case 5:
		case 6:
			op_frame(&f);
			break;
		case 7:
			op_raw_desc(&f);
			break;
		case 8:
			op_ring(&f);
			break;
		case 9:
			op_reset(&f);
			break;
		case 10:
			op_time(&f);
			break;
		default:
			run(&f);
			drain_network(&f);
			break;
		}
		mvm_harness_clear_records(f.d.h);
	}
	if (mvm_harness_close(f.d.h) < 0)
		fail("fds or timers left registered", 0, 0);
	return 0;
}

/* fuzz_virtio_net_replay [--random] [FILE...]: replays the files; with
 * none, or with --random, then runs 2000 pseudo-random programs. */
FUZZ_REPLAY_MAIN(0x9e3779b97f4a7c15ULL, 2000, 16, 1200,
		 "virtio-net driver programs")
