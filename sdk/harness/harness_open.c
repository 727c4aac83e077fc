/*
 * Loading a plugin into the harness, the guest's bus accesses, and reading
 * the records back (see modvmm/harness.h).
 */
#define _GNU_SOURCE
#include "harness_int.h"
#include "harness_linked.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "plugin/plugin_loader.h"

#define DEFAULT_RAM (64ULL << 20)
#define ALLOC_START (1ULL << 20)

static int map_ram(struct harness_ram *r, uint64_t gpa, uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return -errno;
	r->gpa = gpa;
	r->size = size;
	r->host = p;
	return 0;
}

static void free_all(struct mvm_harness *h)
{
	for (int i = 0; i < h->nram; i++)
		munmap(h->ram[i].host, h->ram[i].size);
	opts_strings_free(&h->strings);
	harness_api_free(h);
	free(h->rec);
	free(h);
}

/* Opens `plugin` by path or name, or, if `linked` is set, that descriptor
 * as compiled into the calling program (harness_linked.h). */
static int open_plugin(const char *plugin, const struct mvm_plugin *linked,
		       const char *options,
		       const struct mvm_harness_config *cfg,
		       struct mvm_harness **out, char *why, size_t whylen)
{
	struct mvm_harness_config c =
		cfg ? *cfg : (struct mvm_harness_config){0};
	struct mvm_harness *h;
	struct error err = {0};
	char *path = NULL;
	const char *env = getenv("MVM_HARNESS_VERBOSE");
	int r;

	*out = NULL;
	if (!c.ram_size)
		c.ram_size = DEFAULT_RAM;
	if ((c.ram_size & 0xfff) || (c.ram2_size & 0xfff) ||
	    (c.ram2_size && c.ram2_gpa < c.ram_size)) {
		snprintf(why, whylen, "bad RAM layout");
		return -EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->verbose = c.verbose || (env && *env && *env != '0');
	h->mmio_next = 0xc0000000ULL;
	h->alloc_next = ALLOC_START;
	harness_api_init(h);
	r = map_ram(&h->ram[h->nram], 0, c.ram_size);
	if (r == 0)
		h->nram++;
	if (r == 0 && c.ram2_size) {
		r = map_ram(&h->ram[h->nram], c.ram2_gpa, c.ram2_size);
		if (r == 0)
			h->nram++;
	}
	if (r < 0) {
		snprintf(why, whylen, "guest RAM: %s", strerror(-r));
		free_all(h);
		return r;
	}
	if (linked) {
		/* The loader's own ABI checks, minus dlopen. */
		r = plugin_check_abi(linked, &err);
		h->desc = linked;
	} else {
		r = plugin_open(plugin, NULL, NULL, &h->dl, &h->desc, &path,
				&err);
		free(path);
	}
	if (r < 0) {
		/* The public harness API keeps its why/whylen (harness.h). */
		snprintf(why, whylen, "%s", err.msg);
		free_all(h);
		return r;
	}
	h->in_create = true;
	r = h->desc->create((mvm_dev *)h, &harness_host, options ? options : "",
			    &h->state);
	h->in_create = false;
	if (r < 0) {
		snprintf(why, whylen, "%s: create: %s", h->desc->name,
			 h->fail_msg[0] ? h->fail_msg : strerror(-r));
		free_all(h);
		return r;
	}
	h->created = true;
	/* As the VMM does once every device exists, just before the vCPUs
	 * run: plugins arm timers or take the terminal here. */
	h->in_start = true;
	r = h->desc->start ? h->desc->start(h->state) : 0;
	h->in_start = false;
	if (r < 0) {
		snprintf(why, whylen, "%s: start: %s", h->desc->name,
			 h->fail_msg[0] ? h->fail_msg : strerror(-r));
		if (h->desc->destroy)
			h->desc->destroy(h->state);
		free_all(h);
		return r;
	}
	*out = h;
	return 0;
}

int mvm_harness_open(const char *plugin, const char *options,
		     const struct mvm_harness_config *cfg,
		     struct mvm_harness **out, char *why, size_t whylen)
{
	return open_plugin(plugin, NULL, options, cfg, out, why, whylen);
}

int harness_open_linked(const struct mvm_plugin *desc, const char *options,
			const struct mvm_harness_config *cfg,
			struct mvm_harness **out, char *why, size_t whylen)
{
	return open_plugin(NULL, desc, options, cfg, out, why, whylen);
}

int mvm_harness_close(struct mvm_harness *h)
{
	int r;

	if (!h)
		return 0;
	if (h->created && h->desc->destroy)
		h->desc->destroy(h->state);
	/* Plugins stay loaded, as in the VMM (no dlclose). */
	r = (mvm_harness_nfds(h) || mvm_harness_ntimers(h)) ? -EBUSY : 0;
	free_all(h);
	return r;
}

const struct mvm_plugin *mvm_harness_plugin(struct mvm_harness *h)
{
	return h->desc;
}

uint64_t mvm_harness_alloc(struct mvm_harness *h, uint64_t len, uint64_t align)
{
	uint64_t gpa;
	void *p;

	if (!align || (align & (align - 1)) || !len)
		return 0;
	gpa = (h->alloc_next + align - 1) & ~(align - 1);
	p = mvm_harness_gpa(h, gpa, len);
	if (!p)
		return 0;
	memset(p, 0, len);
	h->alloc_next = gpa + len;
	return gpa;
}

static struct harness_range *find(struct mvm_harness *h, bool pio,
				  uint64_t addr, unsigned len)
{
	for (int i = 0; i < h->nranges; i++) {
		struct harness_range *r = &h->ranges[i];

		if (r->pio == pio && addr >= r->base &&
		    addr + len <= r->base + r->len)
			return r;
	}
	return NULL;
}

static int access(struct mvm_harness *h, bool pio, bool write, uint64_t addr,
		  unsigned len, uint64_t *value)
{
	struct harness_range *r;

	if (len != 1 && len != 2 && len != 4 && len != 8)
		return -EINVAL;
	r = find(h, pio, addr, len);
	if (write) {
		harness_record(h,
			       pio ? MVM_HREC_PIO_WRITE : MVM_HREC_MMIO_WRITE,
			       addr, len, *value);
		if (!r)
			return -ENOENT;
		r->ops->write(r->opaque, addr - r->base, len, *value);
		return 0;
	}
	*value = len == 8 ? ~0ULL : (1ULL << (8 * len)) - 1;
	if (r) {
		*value = r->ops->read(r->opaque, addr - r->base, len);
		if (len < 8)
			*value &= (1ULL << (8 * len)) - 1;
	}
	harness_record(h, pio ? MVM_HREC_PIO_READ : MVM_HREC_MMIO_READ, addr,
		       len, *value);
	return r ? 0 : -ENOENT;
}

int mvm_harness_mmio_read(struct mvm_harness *h, uint64_t gpa, unsigned len,
			  uint64_t *value)
{
	return access(h, false, false, gpa, len, value);
}

int mvm_harness_mmio_write(struct mvm_harness *h, uint64_t gpa, unsigned len,
			   uint64_t value)
{
	return access(h, false, true, gpa, len, &value);
}

int mvm_harness_pio_read(struct mvm_harness *h, uint16_t port, unsigned len,
			 uint64_t *value)
{
	return access(h, true, false, port, len, value);
}

int mvm_harness_pio_write(struct mvm_harness *h, uint16_t port, unsigned len,
			  uint64_t value)
{
	return access(h, true, true, port, len, &value);
}

size_t mvm_harness_nrecords(struct mvm_harness *h)
{
	return h->nrec;
}

const struct mvm_harness_record *mvm_harness_record(struct mvm_harness *h,
						    size_t i)
{
	return i < h->nrec ? &h->rec[i] : NULL;
}

void mvm_harness_clear_records(struct mvm_harness *h)
{
	h->nrec = 0;
	harness_api_clear_events(h);
	memset(h->irq_edges, 0, sizeof(h->irq_edges));
}

size_t mvm_harness_count(struct mvm_harness *h, enum mvm_harness_rec_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < h->nrec; i++)
		n += h->rec[i].kind == kind;
	return n;
}

unsigned mvm_harness_irq_edges(struct mvm_harness *h, int gsi)
{
	return gsi >= 0 && gsi < 24 ? h->irq_edges[gsi] : 0;
}

bool mvm_harness_logged(struct mvm_harness *h, const char *needle)
{
	for (size_t i = 0; i < h->nrec; i++)
		if (h->rec[i].kind == MVM_HREC_LOG &&
		    strstr(h->rec[i].text, needle))
			return true;
	return false;
}

void mvm_harness_set_discard_result(struct mvm_harness *h, int rc)
{
	h->discard_rc = rc;
}

size_t mvm_harness_ndsdt(struct mvm_harness *h)
{
	return h->ndsdt;
}

const struct mvm_dsdt_device *mvm_harness_dsdt(struct mvm_harness *h, size_t i)
{
	return i < h->ndsdt ? &h->dsdt[i] : NULL;
}

struct mvm_virtio *mvm_harness_virtio(struct mvm_harness *h)
{
	return h->vdev;
}

const struct mvm_virtio_host *mvm_harness_virtio_host(struct mvm_harness *h)
{
	(void)h;
	return &harness_virtio_host;
}

const struct mvm_host *mvm_harness_host(struct mvm_harness *h, mvm_dev **dev)
{
	/* The device handle the harness gives a plugin is the harness. */
	if (dev)
		*dev = (mvm_dev *)h;
	return &harness_host;
}
