/*
 * libFuzzer target for the virtio-mmio transport and split virtqueues: the
 * input is a program of register writes and reads, guest RAM writes and
 * event-loop runs, played against the core's transport code with a tiny
 * in-process device (two queues, config space, pops everything and
 * writes/reads its buffers). The fake host is minimal and self-contained
 * so the transport sources are compiled into the fuzzer with its
 * instrumentation.
 *
 * Without MODVMM_FUZZ it builds as a replay program: files given on the
 * command line are replayed; with none, 20000 pseudo-random programs are
 * (a ctest smoke run, label unit).
 *
 * Longer runs: cmake -B build-fuzz -DCMAKE_C_COMPILER=clang
 * -DMODVMM_FUZZ=ON && cmake --build build-fuzz --target fuzz_virtio &&
 * build-fuzz/tests/harness/fuzz_virtio -max_total_time=3600 CORPUS_DIR
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_input.h"
#include "fuzz_replay.h"
#include "virtio/virtio_dev.h"

#define RAM_SIZE (1u << 20)

static uint8_t *ram;
static const struct mvm_io_ops *mmio_ops;
static void *mmio_opaque;
static struct {
	int fd;
	mvm_fd_cb cb;
	void *opaque;
} fds[8];
static struct mvm_virtio *vdev;
static uint8_t config[24];

static void f_log(mvm_dev *d, enum mvm_log_level l, const char *fmt, ...)
{
	(void)d, (void)l, (void)fmt;
}
static void f_log_guest(mvm_dev *d, const char *fmt, ...)
{
	(void)d, (void)fmt;
}
static void f_fail(mvm_dev *d, const char *fmt, ...)
{
	(void)d, (void)fmt;
}
static int f_alloc_mmio(mvm_dev *d, uint64_t len, uint64_t *base)
{
	(void)d, (void)len;
	*base = 0xc0000000ULL;
	return 0;
}
static int f_claim_mmio(mvm_dev *d, uint64_t b, uint64_t l,
			const struct mvm_io_ops *ops, void *opaque)
{
	(void)d, (void)b, (void)l;
	mmio_ops = ops;
	mmio_opaque = opaque;
	return 0;
}
static int f_claim_irq(mvm_dev *d, int gsi)
{
	(void)d, (void)gsi;
	return 5;
}
static int f_set_irq(mvm_dev *d, uint32_t gsi, int level)
{
	(void)d, (void)gsi, (void)level;
	return 0;
}
static int f_dsdt(mvm_dev *d, const struct mvm_dsdt_device *n)
{
	(void)d, (void)n;
	return 0;
}
static void *f_guest_mem(mvm_dev *d, uint64_t gpa, uint64_t len)
{
	(void)d;
	if (len == 0 || gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
		return NULL;
	return ram + gpa;
}
static int f_add_fd(mvm_dev *d, int fd, uint32_t ev, mvm_fd_cb cb, void *op)
{
	(void)d, (void)ev;
	for (int i = 0; i < 8; i++) {
		if (fds[i].cb)
			continue;
		fds[i].fd = fd;
		fds[i].cb = cb;
		fds[i].opaque = op;
		return 0;
	}
	return -ENOSPC;
}
static int f_remove_fd(mvm_dev *d, int fd)
{
	(void)d;
	for (int i = 0; i < 8; i++)
		if (fds[i].cb && fds[i].fd == fd)
			fds[i].cb = NULL;
	return 0;
}

static const struct mvm_host host = {
	.size = sizeof(struct mvm_host),
	.log = f_log,
	.log_guest = f_log_guest,
	.fail = f_fail,
	.alloc_mmio = f_alloc_mmio,
	.claim_mmio = f_claim_mmio,
	.claim_irq = f_claim_irq,
	.set_irq = f_set_irq,
	.dsdt_add_device = f_dsdt,
	.guest_mem = f_guest_mem,
	.add_fd = f_add_fd,
	.remove_fd = f_remove_fd,
};

static void dev_notify(void *opaque, struct mvm_virtq *q, unsigned index)
{
	struct mvm_virtq_chain c;
	uint8_t buf[64];

	(void)opaque;
	for (int n = 0; n < 300 && virtio_queue_pop(q, &c) > 0; n++) {
		size_t got = virtq_chain_read(q, &c, index, buf, sizeof(buf));

		virtq_chain_write(q, &c, 1, buf, got);
		virtio_queue_push(q, &c, (uint32_t)got);
	}
	virtio_queue_notify(q);
}

static void cfg_read(void *o, uint32_t off, void *buf, uint32_t len)
{
	(void)o;
	memcpy(buf, config + off, len);
}

static void cfg_write(void *o, uint32_t off, const void *buf, uint32_t len)
{
	(void)o;
	memcpy(config + off, buf, len);
}

static void setup(void)
{
	static const uint16_t qmax[2] = {16, 256};
	const struct mvm_virtio_device desc = {
		.size = sizeof(desc),
		.device_id = 4,
		.features = 1,
		.config_size = sizeof(config),
		.num_queues = 2,
		.queue_max = qmax,
		.config_read = cfg_read,
		.config_write = cfg_write,
		.queue_notify = dev_notify,
	};

	if (!ram)
		ram = calloc(1, RAM_SIZE);
	memset(ram, 0, RAM_SIZE);
	if (virtio_mmio_create((mvm_dev *)1, &host, NULL, &desc, NULL, &vdev))
		abort();
}

static void run_loop(void)
{
	for (int i = 0; i < 8; i++)
		if (fds[i].cb)
			fds[i].cb(fds[i].opaque, fds[i].fd, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* No scratch area: the program writes guest RAM directly. */
	struct fuzz_in in = FUZZ_IN(data, size, 0, 0);

	setup();
	while (in.p < in.end) {
		uint8_t op = *in.p++;
		uint32_t off, v, len;

		switch (op % 5) {
		case 0: /* register write, 4 bytes mostly */
			off = (uint32_t)fuzz_take(&in, 2) & 0xfff;
			v = (uint32_t)fuzz_take(&in, 4);
			len = (op & 0x80) ? 1u << ((op >> 3) & 3) : 4;
			mmio_ops->write(mmio_opaque, off & ~(len - 1), len, v);
			break;
		case 1: /* register read */
			off = (uint32_t)fuzz_take(&in, 2) & 0xffc;
			mmio_ops->read(mmio_opaque, off, 4);
			break;
		case 2: /* guest RAM write */
			off = (uint32_t)fuzz_take(&in, 3) % RAM_SIZE;
			len = (uint32_t)fuzz_take(&in, 1);
			for (uint32_t i = 0; i < len && in.p < in.end; i++)
				ram[(off + i) % RAM_SIZE] = *in.p++;
			break;
		case 3: /* the event loop runs */
			run_loop();
			break;
		default: /* the device side */
			if (op & 0x80)
				virtio_config_changed(vdev);
			else if (op & 0x40)
				virtio_set_needs_reset(vdev, "fuzz");
			else
				run_loop();
			break;
		}
	}
	virtio_mmio_destroy(vdev);
	return 0;
}

/* fuzz_virtio_replay [--random] [FILE...]: replays the files; with none,
 * or with --random, then runs 20000 pseudo-random programs of 64 to 1563
 * bytes, biased toward a driver that mostly behaves: register writes near
 * the queue registers, RAM writes near the rings the registers are likely
 * to name. */
FUZZ_REPLAY_MAIN(0x9e3779b97f4a7c15ULL, 20000, 64, 1500, "programs")
