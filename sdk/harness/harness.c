/*
 * The harness's fake host: RAM, buses, interrupts, the synchronous event
 * loop and the records (see modvmm/harness.h). The plugin handle it gets
 * (mvm_dev *) is the harness itself.
 */
#define _GNU_SOURCE
#include "harness_int.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "plugin/plugin_loader.h"

#define H(dev) ((struct mvm_harness *)(dev))

void harness_record(struct mvm_harness *h, enum mvm_harness_rec_kind kind,
		    uint64_t addr, uint64_t len, uint64_t value)
{
	struct mvm_harness_record *r;

	if (h->nrec == h->caprec) {
		size_t cap = h->caprec ? 2 * h->caprec : 256;
		struct mvm_harness_record *p =
			realloc(h->rec, cap * sizeof(*p));

		if (!p)
			return; /* records are best effort */
		h->rec = p;
		h->caprec = cap;
	}
	r = &h->rec[h->nrec++];
	memset(r, 0, offsetof(struct mvm_harness_record, text) + 1);
	r->kind = kind;
	r->addr = addr;
	r->len = len;
	r->value = value;
}

static void vlog(struct mvm_harness *h, int level, bool guest, const char *fmt,
		 va_list ap)
{
	char text[sizeof(((struct mvm_harness_record *)0)->text)];

	vsnprintf(text, sizeof(text), fmt, ap);
	harness_record(h, MVM_HREC_LOG, 0, 0, (uint64_t)level);
	if (h->nrec && h->rec[h->nrec - 1].kind == MVM_HREC_LOG) {
		h->rec[h->nrec - 1].guest = guest;
		memcpy(h->rec[h->nrec - 1].text, text, sizeof(text));
	}
	if (h->verbose)
		fprintf(stderr, "[%s%s] %s\n", h->desc ? h->desc->name : "?",
			guest ? " guest" : "", text);
}

static void f_log(mvm_dev *dev, enum mvm_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(H(dev), level, false, fmt, ap);
	va_end(ap);
}

static void f_log_guest(mvm_dev *dev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(H(dev), MVM_LOG_WARN, true, fmt, ap);
	va_end(ap);
}

static void f_fail(mvm_dev *dev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(H(dev)->fail_msg, sizeof(H(dev)->fail_msg), fmt, ap);
	va_end(ap);
}

static int f_parse_options(mvm_dev *dev, const struct mvm_option *spec,
			   const char *str, void *out)
{
	struct mvm_harness *h = H(dev);

	if (!spec || !out)
		return -EINVAL;
	return opts_parse(spec, str, out, &h->strings, h->fail_msg,
			  sizeof(h->fail_msg));
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static int claim(struct mvm_harness *h, bool pio, uint64_t base, uint64_t len,
		 const struct mvm_io_ops *ops, void *opaque)
{
	struct harness_range *r;

	if (!ops || len == 0 || base + len < base)
		return -EINVAL;
	for (int i = 0; i < h->nranges; i++)
		if (h->ranges[i].pio == pio &&
		    overlaps(base, len, h->ranges[i].base, h->ranges[i].len))
			return -EBUSY;
	if (h->nranges == HARNESS_MAX_RANGES)
		return -ENOSPC;
	r = &h->ranges[h->nranges++];
	r->pio = pio;
	r->base = base;
	r->len = len;
	r->ops = ops;
	r->opaque = opaque;
	return 0;
}

static int f_claim_pio(mvm_dev *dev, uint16_t base, uint16_t len,
		       const struct mvm_io_ops *ops, void *opaque)
{
	if ((uint32_t)base + len > 0x10000)
		return -EINVAL;
	return claim(H(dev), true, base, len, ops, opaque);
}

static int f_claim_mmio(mvm_dev *dev, uint64_t base, uint64_t len,
			const struct mvm_io_ops *ops, void *opaque)
{
	struct mvm_harness *h = H(dev);

	for (int i = 0; i < h->nram; i++)
		if (overlaps(base, len, h->ram[i].gpa, h->ram[i].size))
			return -EINVAL;
	return claim(h, false, base, len, ops, opaque);
}

static int f_alloc_mmio(mvm_dev *dev, uint64_t len, uint64_t *base)
{
	struct mvm_harness *h = H(dev);

	if (!base || len == 0 || (len & 0xfff))
		return -EINVAL;
	if (h->mmio_next + len > 0xfec00000ULL)
		return -ENOSPC;
	*base = h->mmio_next;
	h->mmio_next += len;
	return 0;
}

static int f_claim_irq(mvm_dev *dev, int gsi)
{
	struct mvm_harness *h = H(dev);

	if (gsi < 0) {
		for (int g = 5; g <= 23; g++) {
			if (g == 8 || g == 9 || (h->gsi_used & (1u << g)))
				continue;
			gsi = g;
			break;
		}
		if (gsi < 0)
			return -ENOSPC;
	} else if (gsi > 23 || gsi == 0 || gsi == 2 || gsi == 8) {
		return -EINVAL;
	} else if (h->gsi_used & (1u << gsi)) {
		return -EBUSY;
	}
	h->gsi_used |= 1u << gsi;
	return gsi;
}

static int f_set_irq(mvm_dev *dev, uint32_t gsi, int level)
{
	struct mvm_harness *h = H(dev);

	if (gsi > 23 || !(h->gsi_used & (1u << gsi)))
		return -EINVAL;
	level = level ? 1 : 0;
	if (level && !h->irq_level[gsi])
		h->irq_edges[gsi]++;
	h->irq_level[gsi] = level;
	harness_record(h, MVM_HREC_IRQ, gsi, 0, (uint64_t)level);
	return 0;
}

static int f_dsdt_add_device(mvm_dev *dev, const struct mvm_dsdt_device *d)
{
	struct mvm_harness *h = H(dev);

	if (!h->in_create || !d || !d->hid)
		return -EPERM;
	if (h->ndsdt == HARNESS_MAX_DSDT)
		return -ENOSPC;
	snprintf(h->dsdt_hid[h->ndsdt], sizeof(h->dsdt_hid[0]), "%s", d->hid);
	h->dsdt[h->ndsdt] = *d;
	h->dsdt[h->ndsdt].hid = h->dsdt_hid[h->ndsdt];
	h->ndsdt++;
	return 0;
}

static int f_dsdt_add_aml(mvm_dev *dev, const void *aml, size_t len)
{
	if (!H(dev)->in_create || !aml || len == 0 || len > 65536)
		return -EINVAL;
	return 0;
}

void *mvm_harness_gpa(struct mvm_harness *h, uint64_t gpa, uint64_t len)
{
	uint64_t end;

	if (len == 0 || __builtin_add_overflow(gpa, len, &end))
		return NULL;
	for (int i = 0; i < h->nram; i++) {
		const struct harness_ram *r = &h->ram[i];

		if (gpa >= r->gpa && end <= r->gpa + r->size)
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}

static void *f_guest_mem(mvm_dev *dev, uint64_t gpa, uint64_t len)
{
	return mvm_harness_gpa(H(dev), gpa, len);
}

static int f_add_fd(mvm_dev *dev, int fd, uint32_t events, mvm_fd_cb cb,
		    void *opaque)
{
	struct mvm_harness *h = H(dev);

	if (fd < 0 || !cb)
		return -EINVAL;
	for (int i = 0; i < HARNESS_MAX_FDS; i++)
		if (h->fds[i].used && h->fds[i].fd == fd)
			return -EEXIST;
	for (int i = 0; i < HARNESS_MAX_FDS; i++) {
		if (h->fds[i].used)
			continue;
		h->fds[i] = (struct harness_fd){.used = true,
						.fd = fd,
						.events = events,
						.cb = cb,
						.opaque = opaque};
		return 0;
	}
	return -ENOSPC;
}

static int f_remove_fd(mvm_dev *dev, int fd)
{
	struct mvm_harness *h = H(dev);

	for (int i = 0; i < HARNESS_MAX_FDS; i++) {
		if (h->fds[i].used && h->fds[i].fd == fd) {
			h->fds[i].used = false;
			return 0;
		}
	}
	return -ENOENT;
}

static int f_add_timer(mvm_dev *dev, uint64_t first_ns, uint64_t period_ns,
		       mvm_timer_cb cb, void *opaque)
{
	struct mvm_harness *h = H(dev);

	if (!cb)
		return -EINVAL;
	for (int i = 0; i < HARNESS_MAX_TIMERS; i++) {
		if (h->timers[i].used)
			continue;
		h->timers[i] = (struct harness_timer){
			.used = true,
			.due = h->now + (first_ns ? first_ns : 1),
			.period = period_ns,
			.cb = cb,
			.opaque = opaque};
		return i;
	}
	return -ENOSPC;
}

static int f_cancel_timer(mvm_dev *dev, int id)
{
	struct mvm_harness *h = H(dev);

	if (id < 0 || id >= HARNESS_MAX_TIMERS || !h->timers[id].used)
		return -ENOENT;
	h->timers[id].used = false;
	return 0;
}

static void f_request_exit(mvm_dev *dev, int status)
{
	harness_record(H(dev), MVM_HREC_EXIT, 0, 0, (uint64_t)(status & 0xff));
}

static const char *f_dev_name(mvm_dev *dev)
{
	struct mvm_harness *h = H(dev);

	return h->desc ? h->desc->name : "device";
}

/* The VMM's e820 marks [0x9fc00, 0x100000) reserved (ACPI tables live
 * there) and never discards it; the fake host refuses it the same way. */
#define HARNESS_LOW_RESERVED_START 0x9fc00ULL
#define HARNESS_LOW_RESERVED_END 0x100000ULL

static int f_discard(mvm_dev *dev, uint64_t gpa, uint64_t len)
{
	struct mvm_harness *h = H(dev);
	void *p = NULL;
	int rc = 0;

	if (len == 0 || (gpa & 0xfff) || (len & 0xfff) ||
	    !(p = mvm_harness_gpa(h, gpa, len)))
		rc = -EINVAL;
	else if (gpa < HARNESS_LOW_RESERVED_END &&
		 gpa + len > HARNESS_LOW_RESERVED_START)
		rc = -EFAULT; /* as the VMM: e820-reserved low memory */
	else if (h->discard_rc)
		rc = h->discard_rc;
	else if (madvise(p, len, MADV_DONTNEED) < 0)
		rc = -errno;
	harness_record(h, MVM_HREC_DISCARD, gpa, len, (uint64_t)(int64_t)rc);
	return rc;
}

/* Only hugepage-backed RAM cares; the harness records the call. */
static void f_discard_reuse(mvm_dev *dev, uint64_t gpa, uint64_t len)
{
	harness_record(H(dev), MVM_HREC_DISCARD_REUSE, gpa, len, 0);
}

static uint64_t f_ram_size(mvm_dev *dev)
{
	struct mvm_harness *h = H(dev);
	uint64_t n = 0;

	for (int i = 0; i < h->nram; i++)
		n += h->ram[i].size;
	return n;
}

static int f_ram_regions(mvm_dev *dev, struct mvm_ram_region *out, unsigned max)
{
	struct mvm_harness *h = H(dev);

	for (int i = 0; i < h->nram && (unsigned)i < max; i++)
		out[i] = (struct mvm_ram_region){.gpa = h->ram[i].gpa,
						 .size = h->ram[i].size,
						 .host = h->ram[i].host};
	return h->nram;
}

/* The harness installs no seccomp filter anywhere: a plugin's worker is
 * told all is well, as under --seccomp off. */
static int f_sandbox_thread(mvm_dev *dev)
{
	(void)dev;
	return 0;
}

static int f_virtio_create(mvm_dev *dev, const struct mvm_virtio_device *desc,
			   void *opaque, struct mvm_virtio **out)
{
	struct mvm_harness *h = H(dev);
	int r = virtio_mmio_create(dev, &harness_host, NULL, desc, opaque, out);

	if (r == 0 && !h->vdev)
		h->vdev = *out;
	return r;
}

const struct mvm_virtio_host harness_virtio_host = {
	VIRTIO_HOST_COMMON_OPS,
	.create = f_virtio_create,
};

const struct mvm_host harness_host = {
	.size = sizeof(struct mvm_host),
	.abi_major = MVM_ABI_MAJOR,
	.abi_minor = MVM_ABI_MINOR,
	.log = f_log,
	.log_guest = f_log_guest,
	.fail = f_fail,
	.parse_options = f_parse_options,
	.claim_pio = f_claim_pio,
	.claim_mmio = f_claim_mmio,
	.alloc_mmio = f_alloc_mmio,
	.claim_irq = f_claim_irq,
	.set_irq = f_set_irq,
	.dsdt_add_device = f_dsdt_add_device,
	.dsdt_add_aml = f_dsdt_add_aml,
	.guest_mem = f_guest_mem,
	.add_fd = f_add_fd,
	.remove_fd = f_remove_fd,
	.add_timer = f_add_timer,
	.cancel_timer = f_cancel_timer,
	.request_exit = f_request_exit,
	.dev_name = f_dev_name,
	.virtio = &harness_virtio_host,
	.api = &harness_api_host, /* harness_api.c */
	.discard = f_discard,
	.discard_reuse = f_discard_reuse,
	.ram_size = f_ram_size,
	.ram_regions = f_ram_regions,
	.sandbox_thread = f_sandbox_thread,
};

/* ---- the synchronous event loop ---- */

#define RUN_LIMIT 100000

int mvm_harness_run(struct mvm_harness *h)
{
	int ran = 0;
	bool any;

	do {
		any = false;
		for (int i = 0; i < HARNESS_MAX_FDS; i++) {
			struct harness_fd f = h->fds[i];
			struct pollfd p = {.fd = f.fd};

			if (!f.used)
				continue;
			p.events = (short)(f.events & 0xffff);
			if (poll(&p, 1, 0) <= 0 || !p.revents)
				continue;
			f.cb(f.opaque, f.fd, (uint32_t)p.revents);
			any = true;
			if (++ran >= RUN_LIMIT)
				return -ELOOP;
		}
	} while (any);
	return ran;
}

int mvm_harness_advance(struct mvm_harness *h, uint64_t ns)
{
	uint64_t target = h->now + ns;
	int ran = mvm_harness_run(h);

	while (ran >= 0) {
		int next = -1;

		for (int i = 0; i < HARNESS_MAX_TIMERS; i++)
			if (h->timers[i].used && h->timers[i].due <= target &&
			    (next < 0 ||
			     h->timers[i].due < h->timers[next].due))
				next = i;
		if (next < 0)
			break;
		struct harness_timer *t = &h->timers[next];

		h->now = t->due;
		mvm_timer_cb cb = t->cb;
		void *opaque = t->opaque;

		if (t->period)
			t->due += t->period;
		else
			t->used = false;
		cb(opaque);
		int r = mvm_harness_run(h);

		if (r < 0 || ++ran >= RUN_LIMIT)
			return -ELOOP;
		ran += r;
	}
	if (ran >= 0)
		h->now = target;
	return ran;
}

uint64_t mvm_harness_now(struct mvm_harness *h)
{
	return h->now;
}

unsigned mvm_harness_nfds(struct mvm_harness *h)
{
	unsigned n = 0;

	for (int i = 0; i < HARNESS_MAX_FDS; i++)
		n += h->fds[i].used;
	return n;
}

unsigned mvm_harness_ntimers(struct mvm_harness *h)
{
	unsigned n = 0;

	for (int i = 0; i < HARNESS_MAX_TIMERS; i++)
		n += h->timers[i].used;
	return n;
}
