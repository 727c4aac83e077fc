/*
 * libFuzzer target for the balloon plugin's guest-facing parsing, through
 * the per-plugin harness: the input is a small driver program. Its first
 * bytes choose the plugin options, the features the driver accepts and the
 * queue sizes; then each op byte picks one thing a hostile driver does:
 * a PFN buffer on the inflate or deflate queue (PFNs in RAM, in holes, in
 * reserved memory, huge, duplicated; odd lengths, split, indirect or
 * device-writable chains), reporting chunks (unaligned, overlapping, out of
 * RAM), stats buffers (any tags, too short, too long, floods), config
 * writes, raw register writes and descriptors, resets and re-negotiation,
 * the event loop and the clock.
 *
 * Besides crashes and sanitizer reports, it fails (abort) if the plugin
 * asks the host to discard anything that is not page-aligned guest RAM,
 * if the event loop never settles, if the device leaves fds or timers
 * behind, or if the steering policy (auto=on, in some programs, fed by
 * the hostile statistics) sets a target past guest RAM or past auto_max.
 *
 * The balloon's sources and the core's virtio transport are compiled into
 * this program (tests/harness/CMakeLists.txt) and the plugin is opened by
 * its linked-in descriptor (harness_linked.h), not dlopen()ed: a .so built
 * by the plugin's own target carries no fuzzer instrumentation, and an
 * instrumented copy of the .so would need its own build rules and still
 * leave the transport, linked into the harness, uninstrumented.
 *
 * Without MODVMM_FUZZ it builds as a replay program: files given on the
 * command line are replayed; with none, a fixed set of pseudo-random
 * programs is (a ctest smoke run, label unit).
 *
 * Longer runs: BUILD_DIR=build-fuzz scripts/build.sh
 * -DCMAKE_C_COMPILER=clang -DMODVMM_FUZZ=ON &&
 * build-fuzz/tests/harness/fuzz_balloon -max_total_time=3600 CORPUS_DIR
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <modvmm/harness.h>

#include "fuzz_chain.h"
#include "fuzz_driver.h"
#include "fuzz_input.h"
#include "fuzz_replay.h"
#include "harness_linked.h"

extern const struct mvm_plugin mvm_plugin_descriptor; /* the balloon's */

#define REG(x) MVM_VIRTIO_MMIO_##x
#define PAGE 4096ULL

/* Guest RAM: 8 MiB at 0 and 1 MiB at 4 GiB, so PFNs can fall in the hole
 * between them, past the end, or in the e820-reserved low memory. */
#define RAM0_SIZE (8ULL << 20)
#define RAM2_GPA (4ULL << 30)
#define RAM2_SIZE (1ULL << 20)
#define RAM0_PAGES (RAM0_SIZE / PAGE)
#define RAM2_PFN (RAM2_GPA / PAGE)
#define RAM2_PAGES (RAM2_SIZE / PAGE)
/* Rings at a fixed place (three pages a queue: desc, avail, used, enough
 * for 256 entries), then a scratch area for buffers and indirect tables,
 * reused round-robin. */
#define NQ 4
#define RING_GPA 0x100000ULL
#define SCRATCH_GPA 0x110000ULL
#define SCRATCH_SIZE 0x40000ULL
#define FREE_PFN ((SCRATCH_GPA + SCRATCH_SIZE) / PAGE) /* nothing there */

/* Feature bits (virtio spec 5.5.3 and the transport's). */
#define F_STATS (1ULL << 1)
#define F_DEFLATE_ON_OOM (1ULL << 2)
#define F_REPORTING (1ULL << 5)
#define F_INDIRECT (1ULL << MVM_VIRTIO_F_INDIRECT_DESC)
#define F_EVENT_IDX (1ULL << MVM_VIRTIO_F_EVENT_IDX)
#define F_V1 (1ULL << MVM_VIRTIO_F_VERSION_1)

#define MAX_OPS 256
#define MAX_SEGS 64

struct fz {
	struct fuzz_driver d; /* queues 0-3: inflate, deflate, stats, report */
	uint32_t prev_pfn;
	uint64_t prev_gpa, prev_len;
	uint64_t target_cap; /* auto=on: the most the policy may ask for */
};

static void fail(const char *what, uint64_t a, uint64_t b)
{
	fprintf(stderr, "fuzz_balloon: %s (0x%llx, 0x%llx)\n", what,
		(unsigned long long)a, (unsigned long long)b);
	abort();
}

/* Copies into guest RAM whatever part of [gpa, gpa+len) is RAM: a buffer
 * a hostile driver points outside RAM simply has no contents. */
static void poke(struct fz *f, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = len ? mvm_harness_gpa(f->d.h, gpa, len) : NULL;

	if (p)
		memcpy(p, src, len);
}

/* ---- what the plugin did: the oracle ---- */

/* Every discard the plugin asks for must name page-aligned guest RAM: the
 * fake host refuses anything else with -EINVAL (and the e820-reserved low
 * memory with -EFAULT, which a PFN may legitimately name). Records are
 * cleared after each op so they never pile up. */
static void check_records(struct fz *f)
{
	size_t n = mvm_harness_nrecords(f->d.h);

	for (size_t i = 0; i < n; i++) {
		const struct mvm_harness_record *r =
			mvm_harness_record(f->d.h, i);

		if (r->kind == MVM_HREC_DISCARD && (int64_t)r->value == -EINVAL)
			fail("discard outside RAM or misaligned", r->addr,
			     r->len);
		if (r->kind == MVM_HREC_DISCARD_REUSE &&
		    ((r->addr | r->len) % PAGE || !r->len ||
		     !mvm_harness_gpa(f->d.h, r->addr, r->len)))
			fail("discard_reuse outside RAM", r->addr, r->len);
	}
	mvm_harness_clear_records(f->d.h);
}

/* The steering policy believes what the guest's statistics say, however
 * absurd; the target it sets must stay within guest RAM (auto_max if set)
 * all the same. */
static void check_target(struct fz *f)
{
	uint64_t t;

	if (!f->target_cap)
		return;
	t = (uint64_t)mvm_harness_vread(f->d.h, REG(CONFIG)) * PAGE;
	if (t > f->target_cap)
		fail("the policy's target past its cap", t, f->target_cap);
}

static void run(struct fz *f)
{
	if (mvm_harness_run(f->d.h) < 0)
		fail("the event loop never settled", 0, 0);
}

/* ---- the driver ---- */

static uint16_t pick_num(uint32_t max, unsigned sel)
{
	switch (sel & 3) {
	case 0:
		return (uint16_t)max;
	case 1:
		return 1;
	case 2:
		return (uint16_t)(max > 1 ? max / 2 : 1);
	default:
		return 3; /* not a power of two: QueueReady must not stick */
	}
}

/* Reset, negotiate, set up every queue the features give, DRIVER_OK.
 * `fsel` bits: STATS, DEFLATE_ON_OOM, REPORTING, INDIRECT, EVENT_IDX, no
 * VERSION_1 (with bit 7: a legacy driver), no DRIVER_OK. */
static void init(struct fz *f, uint8_t fsel, uint8_t sizes)
{
	uint64_t want = F_V1;
	unsigned n = 2;

	memset(f->d.usable, 0, sizeof(f->d.usable));
	if (fsel & 1)
		want |= F_STATS;
	if (fsel & 2)
		want |= F_DEFLATE_ON_OOM;
	if (fsel & 4)
		want |= F_REPORTING;
	if (fsel & 8)
		want |= F_INDIRECT;
	if (fsel & 16)
		want |= F_EVENT_IDX;
	if ((fsel & 0xc0) == 0xc0)
		want &= ~F_V1;
	f->d.features = 0;
	if (mvm_harness_virtio_negotiate(f->d.h, want, &f->d.features) < 0) {
		f->d.features = 0; /* FEATURES_OK refused: no queues */
		return;
	}
	if (f->d.features & F_STATS)
		n++;
	if (f->d.features & F_REPORTING)
		n++;
	for (unsigned i = 0; i < n; i++) /* rings at a fixed place */
		fuzz_queue_setup(&f->d, i, RING_GPA + 3 * PAGE * i, pick_num,
				 sizes >> (2 * i));
	if (!(fsel & 0x20))
		mvm_harness_virtio_driver_ok(f->d.h);
	run(f);
}

/* Queue index of the stats and reporting queues, or -1. */
static int stats_queue(const struct fz *f)
{
	return f->d.features & F_STATS ? 2 : -1;
}

static int reporting_queue(const struct fz *f)
{
	if (!(f->d.features & F_REPORTING))
		return -1;
	return f->d.features & F_STATS ? 3 : 2;
}

/* Posts `n` segments as one chain on queue `qi`: direct descriptors from
 * the queue's next free one (wrapping, so a chain longer than the queue
 * loops), or through one indirect table in scratch. */
static void post(struct fz *f, unsigned qi, const struct mvm_harness_buf *s,
		 unsigned n, bool indirect)
{
	struct mvm_harness_vq *vq = &f->d.vq[qi];
	uint16_t head = (uint16_t)(vq->next_desc % vq->num);
	static const struct mvm_harness_buf empty;
	struct mvm_harness_desc d[MAX_SEGS];

	if (!n) { /* a chain of one empty descriptor */
		n = 1;
		s = &empty;
	}
	fuzz_chain_descs(d, s, n);
	fuzz_chain_post(f->d.h, vq, head, d, n,
			indirect ? fuzz_scratch(&f->d.in, 16ULL * n, 16) : 0);
}

static void kick_run(struct fz *f, unsigned qi)
{
	mvm_harness_vq_kick(f->d.h, &f->d.vq[qi]);
	run(f);
}

/* Gives back whatever the device used, as the driver's interrupt handler
 * would. */
static void drain(struct fz *f, unsigned qi)
{
	struct mvm_harness_vq *vq = &f->d.vq[qi];

	for (unsigned i = 0; i < vq->num; i++)
		if (!mvm_harness_vq_used(f->d.h, vq, NULL, NULL))
			break;
}

/* One PFN from a selector byte: raw, near the last one (runs, duplicates,
 * unsorted), free RAM, the edges of RAM and reserved memory, the second
 * region, the rings themselves, or huge. */
static uint32_t next_pfn(struct fz *f)
{
	static const uint32_t edges[8] = {
		0,
		0x9f,
		RING_GPA / PAGE,
		RAM0_PAGES - 1,
		RAM2_PFN,
		RAM2_PFN + RAM2_PAGES - 1,
		0xfffff,
		0xffffffff,
	};
	uint8_t s = fuzz_take8(&f->d.in);
	uint32_t k = s & 31, pfn;

	switch (s >> 5) {
	case 0:
		pfn = (uint32_t)fuzz_take(&f->d.in, 4);
		break;
	case 1:
		pfn = f->prev_pfn + 1 + (k & 3);
		break;
	case 2:
		pfn = k < 16 ? f->prev_pfn : f->prev_pfn - (k - 15);
		break;
	case 3:
		pfn = (uint32_t)FREE_PFN + k;
		break;
	case 4:
		pfn = edges[k % 8] + (k / 8) - 2;
		break;
	case 5:
		pfn = (uint32_t)RAM2_PFN + 8 * k;
		break;
	case 6:
		pfn = (uint32_t)(RING_GPA / PAGE) + 4 * k;
		break;
	default:
		pfn = (k << 27) | (uint32_t)fuzz_take(&f->d.in, 1);
		break;
	}
	f->prev_pfn = pfn;
	return pfn;
}

/* Where a buffer's bytes go: scratch (aligned or not), or an address a
 * hostile driver chose (outside RAM, straddling its end, the other
 * region). */
static uint64_t buffer_gpa(struct fz *f, uint64_t len, bool wild)
{
	uint8_t s;

	if (!wild)
		return fuzz_scratch(&f->d.in, len, 8);
	s = fuzz_take8(&f->d.in);
	switch (s & 3) {
	case 0:
		return fuzz_take(&f->d.in, 4) << (s >> 4);
	case 1:
		return fuzz_scratch(&f->d.in, len + 8, 1) + (s >> 2) % 8;
	case 2:
		return RAM2_GPA + RAM2_SIZE - (s >> 2) * 16ULL;
	default:
		return RAM0_SIZE - len / 2;
	}
}

/* Splits the bytes [gpa, gpa+len) into segments by the `layout` the
 * shape byte chose; returns how many. */
static unsigned split(struct fz *f, struct mvm_harness_buf *s, uint64_t gpa,
		      uint32_t len, unsigned layout, bool writable)
{
	unsigned n = 0;

	switch (layout) {
	case 1: { /* two, split anywhere (an empty half is dropped) */
		uint32_t at =
			len ? (uint32_t)(fuzz_take(&f->d.in, 2) % (len + 1))
			    : 0;

		s[n++] = (struct mvm_harness_buf){gpa, at, writable};
		s[n++] = (struct mvm_harness_buf){gpa + at, len - at, writable};
		break;
	}
	case 2: /* many of odd lengths */
		while (len && n < MAX_SEGS - 2) {
			uint32_t piece = 1 + fuzz_take8(&f->d.in) % 13;

			if (piece > len || n == MAX_SEGS - 3)
				piece = len;
			s[n++] = (struct mvm_harness_buf){gpa, piece, writable};
			gpa += piece;
			len -= piece;
		}
		break;
	case 3: /* an empty descriptor anywhere first, then the buffer */
		s[n++] = (struct mvm_harness_buf){fuzz_take(&f->d.in, 8), 0,
						  writable};
		s[n++] = (struct mvm_harness_buf){gpa, len, writable};
		break;
	default:
		s[n++] = (struct mvm_harness_buf){gpa, len, writable};
		break;
	}
	return n;
}

/*
 * An inflate or deflate buffer. Shape byte: bits 0-1 layout (split()),
 * 2 indirect, 3 device-writable, 4 a writable segment after the PFNs, 5 a
 * length that is not a multiple of 4, 6 no kick, 7 a wild address.
 */
static void op_pfns(struct fz *f, unsigned qi)
{
	uint32_t pfns[300];
	struct mvm_harness_buf s[MAX_SEGS];
	uint8_t c = fuzz_take8(&f->d.in), shape = fuzz_take8(&f->d.in);
	unsigned n = c < 250 ? c : 256 + (c - 250u), nseg;
	uint32_t len = 4 * n;
	uint64_t gpa;

	if (!f->d.usable[qi])
		return;
	for (unsigned i = 0; i < n; i++)
		pfns[i] = next_pfn(f);
	if (shape & 0x20)
		len += 1 + (c & 1) + (shape >> 7);
	gpa = buffer_gpa(f, len, shape & 0x80);
	poke(f, gpa, pfns, len < 4 * n ? len : 4 * n);
	nseg = split(f, s, gpa, len, shape & 3, shape & 8);
	if (shape & 0x10)
		s[nseg++] = (struct mvm_harness_buf){
			fuzz_scratch(&f->d.in, 16, 8), 16, true};
	post(f, qi, s, nseg, shape & 4);
	if (!(shape & 0x40))
		kick_run(f, qi);
	drain(f, qi);
}

/*
 * Reporting: up to 8 chunks in one chain, each from a selector byte (raw,
 * free RAM, past the end of RAM, reserved memory, unaligned, the second
 * region, the rings, overlapping the previous chunk) and a page count.
 * Shape byte as for op_pfns, but bit 3 makes chunks readable.
 */
static void op_report(struct fz *f)
{
	int qi = reporting_queue(f);
	uint8_t shape = fuzz_take8(&f->d.in);
	unsigned n = 1 + (shape & 7);
	struct mvm_harness_buf s[8];

	if (qi < 0 || !f->d.usable[qi])
		return;
	for (unsigned i = 0; i < n; i++) {
		uint8_t sel = fuzz_take8(&f->d.in);
		uint64_t k = sel & 31, pages = 1 + fuzz_take8(&f->d.in) % 64,
			 gpa;
		uint64_t len = pages * PAGE;

		switch (sel >> 5) {
		case 0:
			gpa = fuzz_take(&f->d.in, 5);
			len = fuzz_take(&f->d.in, 4);
			break;
		case 1:
			gpa = (FREE_PFN + 8 * k) * PAGE;
			break;
		case 2:
			gpa = RAM0_SIZE - k * PAGE;
			break;
		case 3:
			gpa = (0x90 + k) * PAGE;
			break;
		case 4:
			gpa = (FREE_PFN + k) * PAGE + fuzz_take8(&f->d.in);
			len += (sel & 1) ? 1 : 0;
			break;
		case 5:
			gpa = RAM2_GPA + k * 8 * PAGE;
			break;
		case 6:
			gpa = RING_GPA + k * PAGE;
			break;
		default:
			gpa = f->prev_gpa + k * PAGE;
			len = f->prev_len;
			break;
		}
		f->prev_gpa = gpa;
		f->prev_len = len;
		s[i] = (struct mvm_harness_buf){gpa, (uint32_t)len,
						!(shape & 8) || (sel & 1)};
	}
	post(f, (unsigned)qi, s, n, shape & 0x10);
	if (!(shape & 0x40))
		kick_run(f, (unsigned)qi);
	drain(f, (unsigned)qi);
}

/*
 * Stats: 1 to 4 buffers at once (the queue holds 2), each of 0 to 19
 * entries or a flood past the 64 tags kept, any length around a multiple
 * of the 10-byte entry. Shape byte as for op_pfns.
 */
static void op_stats(struct fz *f)
{
	int qi = stats_queue(f);
	uint8_t shape = fuzz_take8(&f->d.in);
	unsigned bufs = 1 + ((shape >> 4) & 3);

	if (qi < 0 || !f->d.usable[qi])
		return;
	for (unsigned b = 0; b < bufs; b++) {
		uint8_t e[120 * 10];
		uint8_t c = fuzz_take8(&f->d.in);
		unsigned n = c < 200 ? c % 20u : 60u + (c - 200u);
		uint32_t len = 10 * n;
		struct mvm_harness_buf s[MAX_SEGS];
		unsigned nseg;
		uint64_t gpa;

		for (unsigned i = 0; i < n; i++) {
			uint8_t t = fuzz_take8(&f->d.in);
			uint16_t tag =
				t < 0xf0 ? t % 18
					 : (uint16_t)fuzz_take(&f->d.in, 2);
			uint64_t v =
				(t & 1) ? fuzz_take(&f->d.in, 8) : t * 4096ULL;

			memcpy(e + 10 * i, &tag, 2);
			memcpy(e + 10 * i + 2, &v, 8);
		}
		if (shape & 0x80) /* a few bytes short or long */
			len = len + (c & 7) >= 4 ? len + (c & 7) - 4 : 0;
		gpa = fuzz_scratch(&f->d.in, len + 8, 8);
		poke(f, gpa, e, len < 10 * n ? len : 10 * n);
		nseg = split(f, s, gpa, len, shape & 3, shape & 8);
		post(f, (unsigned)qi, s, nseg, shape & 4);
	}
	if (!(shape & 0x40))
		kick_run(f, (unsigned)qi);
	drain(f, (unsigned)qi);
}

/* Config space (num_pages, actual, and past its 16 bytes). */
static void op_config(struct fz *f)
{
	uint8_t s = fuzz_take8(&f->d.in);
	uint64_t base = mvm_harness_virtio_host(f->d.h)->mmio_base(
		mvm_harness_virtio(f->d.h));
	uint64_t off = REG(CONFIG) + s % 24, v = 0;
	unsigned len = 1u << ((s >> 5) & 3);

	if (s & 0x80)
		mvm_harness_mmio_read(f->d.h, base + off, len, &v);
	else
		mvm_harness_mmio_write(f->d.h, base + off, len,
				       fuzz_take(&f->d.in, 4));
}

/* A raw register write (queue registers while ready, QueueReady off and
 * on, status bits out of order, notify of queues that do not exist). */
static void op_register(struct fz *f)
{
	uint32_t off = (uint32_t)fuzz_take(&f->d.in, 1) * 4 % 0x100;
	uint32_t v = (uint32_t)fuzz_take(&f->d.in, 4);

	mvm_harness_vwrite(f->d.h, off, v);
	run(f);
}

/* A raw descriptor and avail entry: any address, length, flags, next. */
static void op_raw_desc(struct fz *f)
{
	uint8_t s = fuzz_take8(&f->d.in);
	unsigned qi = s % NQ;
	struct mvm_harness_vq *vq = &f->d.vq[qi];
	struct mvm_harness_desc d;

	if (!f->d.usable[qi])
		return;
	d.addr = (s & 0x10) ? fuzz_take(&f->d.in, 8)
			    : fuzz_scratch(&f->d.in, 64, 16);
	d.len = (uint32_t)fuzz_take(&f->d.in, (s & 0x20) ? 4 : 1);
	d.flags = (uint16_t)fuzz_take(&f->d.in, 1);
	d.next = (uint16_t)fuzz_take(&f->d.in, (s & 0x40) ? 2 : 1);
	*mvm_harness_vq_desc(f->d.h, vq, vq->next_desc) = d;
	if (s & 0x80)
		mvm_harness_vq_publish(f->d.h, vq,
				       (uint16_t)fuzz_take(&f->d.in, 2));
	else
		mvm_harness_vq_publish(f->d.h, vq, vq->next_desc);
	vq->next_desc = (uint16_t)((vq->next_desc + 1) % vq->num);
	kick_run(f, qi);
	drain(f, qi);
}

/* Ring fields the driver owns: avail idx jumps, flags, used_event. */
static void op_ring(struct fz *f)
{
	uint8_t s = fuzz_take8(&f->d.in);
	unsigned qi = s % NQ;

	if (fuzz_ring_fields(&f->d, qi, s, (uint16_t)fuzz_take(&f->d.in, 2)))
		drain(f, qi);
	if (f->d.usable[qi] && (s & 0x10))
		kick_run(f, qi);
}

/* Reset (status 0), then maybe a new negotiation and queue set-up. */
static void op_reset(struct fz *f)
{
	uint8_t s = fuzz_take8(&f->d.in);

	if (s & 1) {
		uint8_t fsel = fuzz_take8(&f->d.in),
			sizes = fuzz_take8(&f->d.in);

		init(f, fsel, sizes);
		return;
	}
	fuzz_driver_reset(&f->d);
	run(f);
}

/* Virtual time: the stats timer hands its buffer back. */
static void op_time(struct fz *f)
{
	static const uint64_t ns[8] = {
		0,          1000000,    999999999,  1000000000,
		1500000000, 3000000000, 7000000000, 10000000000,
	};

	if (mvm_harness_advance(f->d.h, ns[fuzz_take8(&f->d.in) % 8]) < 0)
		fail("timers never settled", 0, 0);
}

/* What the host's discard answers (never -EINVAL: that one the oracle
 * keeps for a plugin asking about non-RAM). */
static void op_discard_result(struct fz *f)
{
	static const int rc[4] = {0, -EIO, -ENOMEM, -EFAULT};

	mvm_harness_set_discard_result(f->d.h, rc[fuzz_take8(&f->d.in) % 4]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mvm_harness_config cfg = {
		.ram_size = RAM0_SIZE,
		.ram2_gpa = RAM2_GPA,
		.ram2_size = RAM2_SIZE,
	};
	struct fz f = {.d.in = FUZZ_IN(data, size, SCRATCH_GPA, SCRATCH_SIZE)};
	char opts[320], why[600];
	uint8_t o = fuzz_take8(&f.d.in), fsel, sizes;
	unsigned stats = (o >> 2) & 3;
	int ops = 0;

	/* Options: every feature on or off, stats every 1 to 3 s; with stats,
	 * the steering policy on or off (a quarter of RAM its floor, the
	 * host's pressure files empty), with or without auto_max. */
	snprintf(
		opts, sizeof(opts),
		"size=%s,deflate_on_oom=%s,free_page_reporting=%s,stats=%u%s%s",
		(o & 16) ? "1M" : "0", (o & 1) ? "on" : "off",
		(o & 2) ? "on" : "off", stats,
		stats && (o & 32) ? ",auto=on,guest_floor=25%,auto_interval=1,"
				    "psi_path=/dev/null,meminfo_path=/dev/null,"
				    "cgroup=off"
				  : "",
		stats && (o & 32) && (o & 64) ? ",auto_max=4M" : "");
	if (stats && (o & 32))
		f.target_cap = (o & 64) ? 4ULL << 20 : RAM0_SIZE + RAM2_SIZE;
	if (harness_open_linked(&mvm_plugin_descriptor, opts, &cfg, &f.d.h, why,
				sizeof(why)) < 0) {
		fprintf(stderr, "fuzz_balloon: %s\n", why);
		abort();
	}
	fsel = fuzz_take8(
		&f.d.in); /* in order: argument order is unspecified */
	sizes = fuzz_take8(&f.d.in);
	init(&f, fsel, sizes);
	check_records(&f);
	while (f.d.in.p < f.d.in.end && ops++ < MAX_OPS) {
		uint8_t op = fuzz_take8(&f.d.in);

		switch (op % 16) {
		case 0:
		case 1:
		case 2:
			op_pfns(&f, 0);
			break;
		case 3:
		case 4:
			op_pfns(&f, 1);
			break;
		case 5:
		case 6:
			op_report(&f);
			break;
		case 7:
		case 8:
			op_stats(&f);
			break;
		case 9:
			op_config(&f);
			break;
		case 10:
			op_register(&f);
			break;
		case 11:
			op_raw_desc(&f);
			break;
		case 12:
			op_ring(&f);
			break;
		case 13:
			op_reset(&f);
			break;
		case 14:
			op_time(&f);
			break;
		default:
			if (op & 0x80)
				op_discard_result(&f);
			else
				run(&f);
			break;
		}
		check_records(&f);
		check_target(&f);
	}
	if (mvm_harness_close(f.d.h) < 0)
		fail("fds or timers left registered", 0, 0);
	return 0;
}

/* fuzz_balloon_replay [--random] [FILE...]: replays the files; with none,
 * or with --random, then runs 3000 pseudo-random programs of 16 to 1215
 * bytes. */
FUZZ_REPLAY_MAIN(0x2545f4914f6cdd1dULL, 3000, 16, 1200,
		 "balloon driver programs")
