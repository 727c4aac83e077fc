/*
 * virtio-balloon: options, the transport description and the config space.
 * Options follow Cloud Hypervisor's --balloon (size, deflate_on_oom,
 * free_page_reporting) plus a stats polling interval as Firecracker and
 * QEMU offer. See docs/balloon.md.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "balloon.h"

static const struct mvm_option balloon_options[] = {
	MVM_OPTION("size", MVM_OPT_SIZE, struct balloon_opts, size, NULL, true,
		   "balloon size at boot: memory taken from the guest "
		   "(bytes, K/M/G/T)"),
	MVM_OPTION("deflate_on_oom", MVM_OPT_BOOL, struct balloon_opts,
		   deflate_on_oom, "off", false,
		   "let the guest take pages back when it runs out of memory"),
	MVM_OPTION("free_page_reporting", MVM_OPT_BOOL, struct balloon_opts,
		   free_page_reporting, "off", false,
		   "the guest reports free pages, which go back to the host"),
	MVM_OPTION("stats", MVM_OPT_U64, struct balloon_opts, stats, "0", false,
		   "seconds between memory statistics refreshes (0 = no "
		   "statistics queue)"),
	MVM_OPTION("auto", MVM_OPT_BOOL, struct balloon_opts, auto_on, "off",
		   false,
		   "steer the balloon from the guest's statistics and the "
		   "host's pressure (needs stats=)"),
	MVM_OPTION("guest_floor", MVM_OPT_STR, struct balloon_opts, guest_floor,
		   "10%", false,
		   "memory the guest always keeps available under auto "
		   "(bytes, K/M/G/T, or N% of RAM)"),
	MVM_OPTION("auto_min", MVM_OPT_SIZE, struct balloon_opts, auto_min, "0",
		   false, "smallest balloon auto sets"),
	MVM_OPTION("auto_max", MVM_OPT_SIZE, struct balloon_opts, auto_max, "0",
		   false,
		   "largest balloon auto sets (0 = RAM minus guest_floor)"),
	MVM_OPTION("auto_interval", MVM_OPT_U64, struct balloon_opts,
		   auto_interval, "0", false,
		   "seconds between two policy steps (0 = the stats "
		   "interval)"),
	MVM_OPTION("auto_rate", MVM_OPT_SIZE, struct balloon_opts, auto_rate,
		   "128M", false,
		   "reclaim rate limit: bytes a second the balloon may grow "
		   "by (4x under host pressure)"),
	MVM_OPTION("auto_evict", MVM_OPT_BOOL, struct balloon_opts, auto_evict,
		   "on", false,
		   "with free_page_reporting: evict the page cache the floor "
		   "would keep resident, at most once a minute"),
	MVM_OPTION("psi_path", MVM_OPT_STR, struct balloon_opts, psi_path,
		   "/proc/pressure/memory", false,
		   "the host's PSI memory pressure file (a cgroup's "
		   "memory.pressure works too)"),
	MVM_OPTION("meminfo_path", MVM_OPT_STR, struct balloon_opts,
		   meminfo_path, "/proc/meminfo", false,
		   "the host's meminfo, for MemAvailable"),
	MVM_OPTION("cgroup", MVM_OPT_STR, struct balloon_opts, cgroup, "auto",
		   false,
		   "the cgroup v2 directory whose memory.high counts as host "
		   "pressure (auto = the VMM's own, off = none)"),
	MVM_OPTION_END,
};

static uint16_t queue_max_for(void *opaque, unsigned index, uint64_t features)
{
	(void)opaque;
	switch (balloon_queue_kind(index, features)) {
	case BQ_INFLATE:
	case BQ_DEFLATE:
		return BALLOON_INFLATE_QUEUE_SIZE;
	case BQ_STATS:
		return BALLOON_STATS_QUEUE_SIZE;
	case BQ_REPORTING:
		return BALLOON_REPORTING_QUEUE_SIZE;
	default:
		return 0;
	}
}

/* Config space (spec 5.5.4), little-endian u32s. */
#define CFG_NUM_PAGES 0
#define CFG_ACTUAL 4
#define CFG_SIZE 16

static void config_read(void *opaque, uint32_t offset, void *buf, uint32_t len)
{
	struct balloon *b = opaque;
	uint8_t cfg[CFG_SIZE] = {0};

	memcpy(cfg + CFG_NUM_PAGES, &b->num_pages, 4);
	memcpy(cfg + CFG_ACTUAL, &b->actual, 4);
	memcpy(buf, cfg + offset, len);
}

static void config_write(void *opaque, uint32_t offset, const void *buf,
			 uint32_t len)
{
	struct balloon *b = opaque;
	uint8_t cfg[CFG_SIZE] = {0};
	uint32_t old = b->actual;

	/* Only `actual` is the driver's to write; the rest is ignored. */
	memcpy(cfg + CFG_ACTUAL, &b->actual, 4);
	memcpy(cfg + offset, buf, len);
	memcpy(&b->actual, cfg + CFG_ACTUAL, 4);
	if (b->actual != old)
		balloon_actual_changed(b, old);
}

static void queue_notify(void *opaque, struct mvm_virtq *q, unsigned index)
{
	struct balloon *b = opaque;

	switch (balloon_queue_kind(index, b->vio->features(b->vdev))) {
	case BQ_INFLATE:
		balloon_inflate_deflate(b, q, true);
		break;
	case BQ_DEFLATE:
		balloon_inflate_deflate(b, q, false);
		break;
	case BQ_STATS:
		balloon_stats_notify(b, q);
		break;
	case BQ_REPORTING:
		balloon_report(b, q);
		break;
	default:
		break;
	}
}

static void reset(void *opaque)
{
	struct balloon *b = opaque;

	uint32_t old = b->actual;

	/* Inflated pages stay given back: the guest's next driver starts
	 * from an empty balloon and reads zeros there. */
	b->actual = 0;
	if (old)
		balloon_actual_changed(b, old); /* QMP clients follow actual */
	balloon_stats_reset(b);
}

static uint64_t offered_features(const struct balloon_opts *o)
{
	uint64_t f = 0;

	if (o->deflate_on_oom)
		f |= 1ULL << BALLOON_F_DEFLATE_ON_OOM;
	if (o->stats)
		f |= 1ULL << BALLOON_F_STATS_VQ;
	if (o->free_page_reporting)
		f |= 1ULL << BALLOON_F_REPORTING;
	return f;
}

static int check_options(struct balloon *b)
{
	const struct balloon_opts *o = &b->opt;
	char why[256];

	if (o->size >= b->ram_size) {
		b->host->fail(b->dev,
			      "size=%llu: must be smaller than guest RAM (%llu "
			      "bytes)",
			      (unsigned long long)o->size,
			      (unsigned long long)b->ram_size);
		return -EINVAL;
	}
	if (o->stats > 3600) {
		b->host->fail(b->dev,
			      "stats=%llu: at most 3600 seconds between "
			      "refreshes",
			      (unsigned long long)o->stats);
		return -EINVAL;
	}
	if (balloon_steer_configure(b, why, sizeof(why)) < 0) {
		b->host->fail(b->dev, "%s", why);
		return -EINVAL;
	}
	return 0;
}

static int needs_host(struct balloon *b)
{
	const struct mvm_host *h = b->host;

	if (!MVM_HOST_HAS(h, ram_size) || !h->virtio || !h->discard ||
	    !h->ram_size) {
		h->fail(b->dev, "this modvmm lacks the virtio transport or RAM "
				"discard the balloon needs");
		return -ENOTSUP;
	}
	return 0;
}

static void balloon_destroy(void *state)
{
	struct balloon *b = state;

	if (!b)
		return;
	if (b->stats_timer >= 0)
		b->host->cancel_timer(b->dev, b->stats_timer);
	balloon_steer_close(b);
	if (b->change_timer >= 0)
		b->host->cancel_timer(b->dev, b->change_timer);
	b->vio->destroy(b->vdev);
	free(b);
}

static int balloon_create(mvm_dev *dev, const struct mvm_host *host,
			  const char *options, void **state)
{
	struct balloon *b = calloc(1, sizeof(*b));
	struct mvm_virtio_device desc = {
		.size = sizeof(desc),
		.device_id = BALLOON_DEVICE_ID,
		.config_size = CFG_SIZE,
		.num_queues = 4,
		.queue_max_for = queue_max_for,
		.config_read = config_read,
		.config_write = config_write,
		.reset = reset,
		.queue_notify = queue_notify,
	};
	int r;

	if (!b)
		return -ENOMEM;
	b->dev = dev;
	b->host = host;
	b->stats_timer = -1;
	b->change_timer = -1;
	b->auto_timer = -1;
	balloon_hostmem_init(&b->hostsrc);
	r = needs_host(b);
	if (r == 0)
		r = host->parse_options(dev, balloon_options, options, &b->opt);
	if (r == 0) {
		b->vio = host->virtio;
		b->api = host->api;
		b->ram_size = host->ram_size(dev);
		r = check_options(b);
	}
	if (r == 0) {
		desc.features = offered_features(&b->opt);
		r = b->vio->create(dev, &desc, b, &b->vdev);
	}
	if (r == 0) {
		b->num_pages = (uint32_t)(b->opt.size >> BALLOON_PAGE_SHIFT);
		b->target_set_ns = balloon_now_ns();
		r = balloon_api_register(b);
	}
	if (r < 0) {
		if (b->vdev)
			b->vio->destroy(b->vdev);
		balloon_hostmem_close(&b->hostsrc);
		free(b);
		return r;
	}
	*state = b;
	return 0;
}

static int balloon_start(void *state)
{
	int r = balloon_stats_start(state);

	return r < 0 ? r : balloon_steer_arm(state);
}

MVM_PLUGIN_EXPORT const struct mvm_plugin mvm_plugin_descriptor = {
	MVM_PLUGIN_HEADER,
	.name = "balloon",
	.version = "0.1",
	.description = "virtio-balloon: resize at run time, statistics, free "
		       "page reporting, deflate on OOM, self-steering",
	.options = balloon_options,
	.create = balloon_create,
	.start = balloon_start,
	.destroy = balloon_destroy,
};
