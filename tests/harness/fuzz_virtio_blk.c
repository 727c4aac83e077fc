/*
 * libFuzzer target for the virtio-blk plugin's request parsing, through
 * the per-plugin harness: the input is a small driver program. Its first
 * byte chooses the options (read-only, discard, queues, rate limits) and
 * the features the driver takes; then each op byte picks something a
 * hostile driver does: a request of any type with any sector (in range,
 * at the end, past it, wrapping), any data length (whole sectors or not,
 * over several segments, header split or short), a status byte that is
 * writable, missing or readable, direct or indirect; discard and
 * write-zeroes payloads with any segments and flags; raw descriptors;
 * resets; the clock.
 *
 * Oracles, besides crashes and sanitizer reports: every request the
 * program builds is answered with exactly the status the spec and the
 * device's rules give (computed here independently), or the device needs
 * reset when the chain has no writable byte; the image file never changes
 * size; a read-only disk's image never changes at all; the event loop
 * settles and no fd or timer is left behind.
 *
 * The plugin's sources are compiled in with BLK_IO_INLINE, and aio=threads
 * then runs its I/O on the calling thread, so a run is deterministic. With
 * FUZZ_BLK_AIO=io_uring (or the replay's --uring) the io_uring engine is
 * fuzzed instead, waiting a little real time for each answer. The image is
 * a 64 KiB memfd reopened through /proc/self/fd.
 *
 * Without MODVMM_FUZZ it builds as a replay program: files given on the
 * command line are replayed, then (with --random or no files) a fixed set
 * of pseudo-random programs.
 *
 * Longer runs: BUILD_DIR=build-fuzz scripts/build.sh
 * -DCMAKE_C_COMPILER=clang -DMODVMM_FUZZ=ON &&
 * build-fuzz/tests/harness/fuzz_virtio_blk -max_total_time=3600 CORPUS_DIR
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <modvmm/harness.h>

#include "fuzz_input.h"
#include "fuzz_replay.h"
#include "harness_linked.h"

extern const struct mvm_plugin mvm_plugin_descriptor; /* virtio-blk's */

#define REG(x) MVM_VIRTIO_MMIO_##x
#define IMG_SIZE (64ULL << 10)
#define SECTORS (IMG_SIZE / 512)
#define RAM_SIZE (8ULL << 20)
#define SCRATCH_GPA (4ULL << 20)
#define SCRATCH_SIZE (2ULL << 20)
#define MAX_OPS 200
#define NO_STATUS 0xee
#define NEEDS_RESET_ANSWER 0x100

#define F_RO (1ULL << 5)
#define F_DISCARD (1ULL << 13)
#define F_WZ (1ULL << 14)
#define F_MQ (1ULL << 12)
#define F_INDIRECT (1ULL << MVM_VIRTIO_F_INDIRECT_DESC)
#define F_EVENT_IDX (1ULL << MVM_VIRTIO_F_EVENT_IDX)
#define F_V1 (1ULL << MVM_VIRTIO_F_VERSION_1)

enum { S_OK = 0, S_IOERR = 1, S_UNSUPP = 2 };

struct fz {
	struct mvm_harness *h;
	struct fuzz_in in;
	bool readonly, discard, limited;
	unsigned nq;
	uint64_t features;
	struct mvm_harness_vq vq[2];
	bool usable[2];
};

static int img_fd = -1;
/* aio=io_uring instead of the inline threads engine: --uring (replay) or
 * FUZZ_BLK_AIO=io_uring. Not deterministic (the kernel completes), so
 * libFuzzer runs use the default. */
static bool use_uring;
/* Answers checked, by expected status (OK, IOERR, UNSUPP, needs reset):
 * the replay prints them so a run that checks nothing shows. */
static unsigned long checked[4];
static uint8_t img_ro_copy[IMG_SIZE];

static void fail(const char *what, uint64_t a, uint64_t b)
{
	fprintf(stderr, "fuzz_virtio_blk: %s (0x%llx, 0x%llx)\n", what,
		(unsigned long long)a, (unsigned long long)b);
	abort();
}

static void run(struct fz *f)
{
	if (mvm_harness_run(f->h) < 0)
		fail("the event loop never settled", 0, 0);
}

static bool needs_reset(struct fz *f)
{
	return mvm_harness_vread(f->h, REG(STATUS)) &
	       MVM_VIRTIO_STATUS_NEEDS_RESET;
}

static void init(struct fz *f, uint8_t fsel)
{
	uint64_t want = F_V1 | F_RO | F_DISCARD | F_WZ | F_MQ;

	if (fsel & 1)
		want |= F_INDIRECT;
	if (fsel & 2)
		want |= F_EVENT_IDX;
	memset(f->usable, 0, sizeof(f->usable));
	if (mvm_harness_virtio_negotiate(f->h, want, &f->features) < 0) {
		f->features = 0;
		return;
	}
	for (unsigned i = 0; i < f->nq; i++)
		f->usable[i] = mvm_harness_vq_setup(f->h, &f->vq[i], i,
						    (fsel & 4) ? 4 : 0) == 0;
	mvm_harness_virtio_driver_ok(f->h);
	run(f);
}

/* Run until the status at `st` is answered (rate limits may hold it). */
/* One step of waiting for an answer: virtual time for a rate limit, a
 * little real time for io_uring (its completions are the kernel's).
 * false once waiting any longer is pointless. */
static bool wait_step(struct fz *f, int i)
{
	if (!f->limited && !use_uring)
		return false;
	if (i >= (use_uring ? 4000 : 400))
		return false;
	if (use_uring) {
		struct timespec ts = {0, 500000};

		nanosleep(&ts, NULL);
		run(f);
	}
	if (f->limited && mvm_harness_advance(f->h, 100000000ULL) < 0)
		fail("timers never settled", 0, 0);
	return true;
}

/* Run until the status at `st` is answered (a rate limit or io_uring may
 * hold it). */
static void settle(struct fz *f, unsigned qi, uint64_t st)
{
	uint32_t id, len;

	run(f);
	for (int i = 0; *(uint8_t *)mvm_harness_gpa(f->h, st, 1) == NO_STATUS &&
			!needs_reset(f) && wait_step(f, i);
	     i++) {
	}
	while (mvm_harness_vq_used(f->h, &f->vq[qi], &id, &len)) {
	}
}

/* The status the device must give a well-formed chain (header readable
 * and whole, status byte writable), by the rules of virtio spec 5.2.6 and
 * docs/block.md. */
static unsigned expect(const struct fz *f, uint32_t type, uint64_t sector,
		       uint64_t rd, uint64_t wr, const uint8_t *segs)
{
	bool ro = f->readonly;

	if (wr == 0)
		return NEEDS_RESET_ANSWER;
	if (rd < 16)
		return S_IOERR;
	switch (type) {
	case 0:
	case 1: {
		uint64_t len = type == 0 ? wr - 1 : rd - 16;

		if (type == 1 && ro)
			return S_IOERR;
		if (len % 512 || sector > SECTORS ||
		    len / 512 > SECTORS - sector)
			return S_IOERR;
		return S_OK;
	}
	case 4:
	case 8:
		return S_OK;
	case 11:
	case 13: {
		uint64_t n = (rd - 16) / 16;

		if (ro || (type == 11 && !f->discard))
			return S_UNSUPP;
		if (rd == 16 || (rd - 16) % 16)
			return S_IOERR;
		if (n > 32)
			return S_UNSUPP;
		for (uint64_t i = 0; i < n; i++) {
			uint64_t s;
			uint32_t ns, fl;

			memcpy(&s, segs + 16 * i, 8);
			memcpy(&ns, segs + 16 * i + 8, 4);
			memcpy(&fl, segs + 16 * i + 12, 4);
			if ((fl & ~1u) || (type == 11 && (fl & 1)))
				return S_UNSUPP;
			if (ns > (1u << 22) || s > SECTORS || ns > SECTORS - s)
				return S_IOERR;
		}
		return S_OK;
	}
	default:
		return S_UNSUPP;
	}
}

static const uint64_t sectors[8] = {
	0,           1,          SECTORS - 1,    SECTORS,
	SECTORS + 1, UINT64_MAX, UINT64_MAX - 1, UINT64_MAX / 512 + 1,
};

/* A request built by the program: the parts are cut from one logical
 * byte string (header, payload, then writable data and status) into 1..4
 * segments each way. */
static void op_request(struct fz *f, bool dwz)
{
	static const uint32_t types[8] = {0, 1, 4, 8, 11, 13, 10, 0xdead};
	uint8_t s = fuzz_take8(&f->in), l = fuzz_take8(&f->in);
	unsigned qi = (s >> 7) % f->nq;
	struct mvm_harness_vq *vq = &f->vq[qi];
	uint32_t type = dwz ? ((s & 1) ? 13 : 11) : types[s & 7];
	uint64_t sector =
		(s & 8) ? fuzz_take(&f->in, 8) : sectors[(s >> 4) & 7];
	uint8_t payload[16 + 40 * 16];
	uint64_t rd = 16, wr;
	struct mvm_harness_buf b[10];
	unsigned n = 0;

	if (!f->usable[qi] || !(mvm_harness_vread(f->h, REG(STATUS)) &
				MVM_VIRTIO_STATUS_DRIVER_OK))
		return;
	memset(payload, 0, sizeof(payload));
	memcpy(payload, &type, 4);
	memcpy(payload + 8, &sector, 8);
	if (dwz) {
		unsigned nseg = l % 40;

		for (unsigned i = 0; i < nseg; i++) {
			uint64_t sec =
				(l & 0x80) ? fuzz_take(&f->in, 8)
					   : sectors[fuzz_take8(&f->in) & 7];
			uint32_t ns =
				(uint32_t)fuzz_take(&f->in, (l & 0x40) ? 4 : 1);
			uint32_t fl = (uint32_t)fuzz_take(&f->in, 1) & 0x7;

			memcpy(payload + 16 + 16 * i, &sec, 8);
			memcpy(payload + 24 + 16 * i, &ns, 4);
			memcpy(payload + 28 + 16 * i, &fl, 4);
		}
		rd += 16ULL * nseg + ((l & 0x40) && (l & 0x20) ? 8 : 0);
		wr = 1;
	} else {
		static const uint32_t lens[8] = {0,   512, 1024, 4096,
						 511, 513, 1,    65536};
		uint64_t len = lens[l & 7];

		if (type == 1) {
			rd += len;
			wr = 1;
		} else {
			wr = len + 1;
		}
		if (l & 0x08)
			rd = fuzz_take8(&f->in) % 16; /* a short header */
	}
	if ((l & 0x30) == 0x30)
		wr = 0; /* no status byte: the last byte is readable */

	/* Readable bytes: the payload, then data (content is irrelevant). */
	uint64_t rgpa = fuzz_scratch(&f->in, rd + 1, 16);
	uint64_t wgpa = fuzz_scratch(&f->in, wr + 1, 16);
	uint8_t *rp = mvm_harness_gpa(f->h, rgpa, rd + 1);
	uint8_t *wp = mvm_harness_gpa(f->h, wgpa, wr + 1);
	unsigned rcuts = 1 + ((l >> 4) & 1) * (fuzz_take8(&f->in) % 3);

	memcpy(rp, payload, rd < sizeof(payload) ? rd : sizeof(payload));
	wp[wr ? wr - 1 : 0] = NO_STATUS;
	/* Split readable bytes into rcuts pieces, writable into 1 or 2. */
	for (unsigned i = 0, off = 0; i < rcuts && off < rd; i++) {
		uint64_t piece =
			i + 1 == rcuts ? rd - off : (rd - off) / (rcuts - i);

		if (!piece)
			continue;
		b[n++] = (struct mvm_harness_buf){rgpa + off, (uint32_t)piece,
						  false};
		off += (unsigned)piece;
	}
	if (wr > 1 && (s & 0x40)) {
		b[n++] = (struct mvm_harness_buf){wgpa, (uint32_t)(wr - 1),
						  true};
		b[n++] = (struct mvm_harness_buf){wgpa + wr - 1, 1, true};
	} else if (wr) {
		b[n++] = (struct mvm_harness_buf){wgpa, (uint32_t)wr, true};
	} else {
		/* The "status" the device may only read. */
		b[n++] = (struct mvm_harness_buf){wgpa, 1, false};
		rd += 1;
	}
	if (n == 0)
		return;
	int head = (f->features & F_INDIRECT) && (s & 0x20)
			   ? mvm_harness_vq_add_indirect(f->h, vq, b, n)
			   : mvm_harness_vq_add(f->h, vq, b, n);
	if (head < 0)
		return;
	mvm_harness_vq_kick(f->h, vq);
	settle(f, qi, wr ? wgpa + wr - 1 : wgpa);

	unsigned want = expect(f, type, sector, rd, wr, payload + 16);

	checked[want == NEEDS_RESET_ANSWER ? 3 : want]++;

	if (want == NEEDS_RESET_ANSWER) {
		if (!needs_reset(f))
			fail("a chain without a status byte was answered", type,
			     rd);
		init(f, fuzz_take8(&f->in));
		return;
	}
	if (needs_reset(f))
		fail("a well-formed chain made the device need reset", type,
		     sector);
	if (wp[wr - 1] != want)
		fail("wrong status", ((uint64_t)type << 32) | wp[wr - 1],
		     ((uint64_t)want << 56) | sector);
}

static void op_raw_desc(struct fz *f)
{
	uint8_t s = fuzz_take8(&f->in);
	unsigned qi = (s >> 7) % f->nq;
	struct mvm_harness_vq *vq = &f->vq[qi];
	struct mvm_harness_desc d;

	if (!f->usable[qi] || !vq->num)
		return;
	d.addr = (s & 0x10) ? fuzz_take(&f->in, 8)
			    : fuzz_scratch(&f->in, 64, 16);
	d.len = (uint32_t)fuzz_take(&f->in, (s & 0x20) ? 4 : 1);
	d.flags = (uint16_t)fuzz_take(&f->in, 1);
	d.next = (uint16_t)fuzz_take(&f->in, 1);
	*mvm_harness_vq_desc(f->h, vq, vq->next_desc) = d;
	mvm_harness_vq_publish(f->h, vq, vq->next_desc);
	vq->next_desc = (uint16_t)((vq->next_desc + 1) % vq->num);
	uint16_t used0 = mvm_harness_vq_used_idx(f->h, vq);

	mvm_harness_vq_kick(f->h, vq);
	run(f);
	/* A rate limit or io_uring may hold the chain: wait until it is
	 * answered or refused. */
	for (int i = 0;
	     !needs_reset(f) && mvm_harness_vq_used_idx(f->h, vq) == used0 &&
	     wait_step(f, i);
	     i++) {
	}
	uint32_t id, len;
	while (mvm_harness_vq_used(f->h, vq, &id, &len)) {
	}
	if (needs_reset(f))
		init(f, fuzz_take8(&f->in));
}

static void check_image(struct fz *f)
{
	struct stat st;

	if (fstat(img_fd, &st) < 0 || (uint64_t)st.st_size != IMG_SIZE)
		fail("the image changed size", (uint64_t)st.st_size, IMG_SIZE);
	if (f->readonly) {
		static uint8_t now[IMG_SIZE];

		if (pread(img_fd, now, IMG_SIZE, 0) != (ssize_t)IMG_SIZE ||
		    memcmp(now, img_ro_copy, IMG_SIZE))
			fail("a read-only image changed", 0, 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mvm_harness_config cfg = {.ram_size = RAM_SIZE};
	struct fz f = {.in = FUZZ_IN(data, size, SCRATCH_GPA, SCRATCH_SIZE)};
	char opts[200], why[600];
	uint8_t o = fuzz_take8(&f.in);
	int ops = 0;

	if (img_fd < 0) {
		const char *aio = getenv("FUZZ_BLK_AIO");

		use_uring = use_uring || (aio && !strcmp(aio, "io_uring"));
		img_fd = memfd_create("fuzz_virtio_blk", 0);
		if (img_fd < 0 || ftruncate(img_fd, IMG_SIZE) < 0)
			fail("memfd", 0, 0);
	}
	/* A fresh pattern each run, so reads and holes are seen. */
	for (uint64_t i = 0; i < IMG_SIZE; i++)
		img_ro_copy[i] = (uint8_t)(i * 31 + (i >> 9));
	if (pwrite(img_fd, img_ro_copy, IMG_SIZE, 0) != (ssize_t)IMG_SIZE)
		fail("pwrite", 0, 0);
	f.readonly = o & 1;
	f.discard = !(o & 2);
	f.nq = (o & 4) ? 2 : 1;
	f.limited = (o & 0x18) != 0;
	snprintf(opts, sizeof(opts),
		 "path=/proc/self/fd/"
		 "%d,aio=%s,readonly=%s,discard=%s,num_queues=%u,"
		 "queue_size=%s,ops_size=%u,bw_size=%s",
		 img_fd, use_uring ? "io_uring" : "threads",
		 f.readonly ? "on" : "off", f.discard ? "on" : "off", f.nq,
		 (o & 0x20) ? "4" : "16", (o & 8) ? 3 : 0,
		 (o & 0x10) ? "4K" : "0");
	if (harness_open_linked(&mvm_plugin_descriptor, opts, &cfg, &f.h, why,
				sizeof(why)) < 0) {
		fprintf(stderr, "fuzz_virtio_blk: %s\n", why);
		abort();
	}
	init(&f, fuzz_take8(&f.in));
	while (f.in.p < f.in.end && ops++ < MAX_OPS) {
		uint8_t op = fuzz_take8(&f.in);

		switch (op % 8) {
		case 0:
		case 1:
		case 2:
			op_request(&f, false);
			break;
		case 3:
		case 4:
			op_request(&f, true);
			break;
		case 5:
			op_raw_desc(&f);
			break;
		case 6:
			if (op & 0x80) {
				mvm_harness_vwrite(f.h, REG(STATUS), 0);
				run(&f);
			}
			init(&f, fuzz_take8(&f.in));
			break;
		default:
			if (mvm_harness_advance(f.h,
						(uint64_t)fuzz_take8(&f.in) *
							10000000ULL) < 0)
				fail("timers never settled", 0, 0);
			break;
		}
		check_image(&f);
		mvm_harness_clear_records(f.h);
	}
	if (mvm_harness_close(f.h) < 0)
		fail("fds or timers left registered", 0, 0);
	return 0;
}

#ifdef MODVMM_FUZZ_REPLAY
#define REPLAY_PROGRAMS 3000

/* fuzz_virtio_blk_replay [--uring] [--random] [FILE...]: replays the
 * files; with none, or with --random, then runs REPLAY_PROGRAMS
 * pseudo-random programs of 8 to 607 bytes (fuzz_replay.h). --uring
 * (anywhere on the line): with aio=io_uring. */
int main(int argc, char **argv)
{
	bool random;
	int nargs = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--uring"))
			use_uring = true;
		else
			argv[nargs++] = argv[i];
	}
	if (fuzz_replay_files(nargs, argv, &random))
		return 1;
	if (!random)
		return 0;
	fuzz_replay_random(0x9e3779b97f4a7c15ULL, REPLAY_PROGRAMS, 8, 600);
	printf("%d random virtio-blk driver programs survived; answers "
	       "checked: %lu OK, %lu IOERR, %lu UNSUPP, %lu needs reset\n",
	       REPLAY_PROGRAMS, checked[0], checked[1], checked[2], checked[3]);
	if (!checked[0] || !checked[1] || !checked[2] || !checked[3])
		return 1;
	return 0;
}
#endif
