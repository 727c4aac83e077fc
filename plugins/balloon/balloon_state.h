/*
 * What every part of the balloon shares, at the bottom of the plugin: the
 * device's state, its constants (virtio spec 5.5), the queue layout that
 * depends on the negotiated features, the clock and periodic timers, and
 * setting the target (balloon_set_target). It calls nothing of the other
 * parts but the types of the pure policy and the host inputs
 * (balloon_auto.h, balloon_hostmem.h); balloon.c, balloon_pages.c,
 * balloon_stats.c, balloon_steer.c and balloon_api.c build on it. Every
 * callback runs with the device lock held (modvmm/plugin.h), so the state
 * below needs no lock of its own.
 */
#ifndef MODVMM_BALLOON_STATE_H
#define MODVMM_BALLOON_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include <modvmm/api.h>
#include <modvmm/plugin.h>
#include <modvmm/virtio.h>

#include "balloon_auto.h"
#include "balloon_hostmem.h"

#define BALLOON_DEVICE_ID 5
#define BALLOON_PAGE_SHIFT 12
#define BALLOON_PAGE_SIZE (1ULL << BALLOON_PAGE_SHIFT)

/* Feature bits (spec 5.5.3). */
#define BALLOON_F_MUST_TELL_HOST 0
#define BALLOON_F_STATS_VQ 1
#define BALLOON_F_DEFLATE_ON_OOM 2
#define BALLOON_F_FREE_PAGE_HINT 3
#define BALLOON_F_PAGE_POISON 4
#define BALLOON_F_REPORTING 5

/* Linux never puts more than 256 PFNs in one inflate/deflate buffer
 * (VIRTIO_BALLOON_ARRAY_PFNS_MAX); a longer one is treated as malformed. */
#define BALLOON_MAX_PFNS 256
#define BALLOON_INFLATE_QUEUE_SIZE 256
#define BALLOON_STATS_QUEUE_SIZE 2
/* Linux's virtio_balloon refuses a reporting queue smaller than
 * PAGE_REPORTING_CAPACITY (32 entries) with -ENOSPC when it probes. */
#define BALLOON_REPORTING_QUEUE_SIZE 64

/* Stats tags Linux sends (spec 5.5.6.3, Linux 6.12 adds 10..15). */
#define BALLOON_STATS_MAX_TAGS 64

enum balloon_queue {
	BQ_INFLATE,
	BQ_DEFLATE,
	BQ_STATS,
	BQ_REPORTING,
	BQ_NONE,
};

struct balloon_opts {
	uint64_t size;
	bool deflate_on_oom;
	bool free_page_reporting;
	uint64_t stats; /* seconds between refreshes, 0 = no stats queue */
	/* The steering policy (balloon_steer.c, balloon_auto.c). */
	bool auto_on, auto_evict;
	uint64_t auto_min, auto_max, auto_interval, auto_rate;
	const char *guest_floor; /* bytes with K/M/G/T, or N% of RAM */
	const char *psi_path, *meminfo_path, *cgroup;
};

struct balloon_stat {
	uint16_t tag;
	uint64_t value;
};

struct balloon_counters {
	uint64_t inflated_pages; /* PFNs accepted from inflate buffers */
	uint64_t deflated_pages;
	uint64_t reported_bytes; /* free page reporting */
	uint64_t discard_calls;  /* host->discard calls (one per run) */
	uint64_t discarded_bytes;
	uint64_t bad_pfns; /* outside RAM: ignored */
	uint64_t bad_buffers;
	uint64_t stats_updates;
	uint64_t discard_errors; /* host->discard failed on good RAM */
};

struct balloon {
	mvm_dev *dev;
	const struct mvm_host *host;
	const struct mvm_virtio_host *vio;
	const struct mvm_api_host *api;
	struct mvm_virtio *vdev;
	struct balloon_opts opt;
	uint64_t ram_size;

	/* Config space: the host's target and the guest's answer, in pages. */
	uint32_t num_pages;
	uint32_t actual;
	uint64_t target_set_ns; /* when num_pages last changed */

	/* The stats buffer the device holds until the next refresh. */
	struct mvm_virtq_chain stats_chain;
	bool stats_held;
	int stats_timer;
	struct balloon_stat stats[BALLOON_STATS_MAX_TAGS];
	unsigned nstats;
	uint64_t stats_ns;     /* when they arrived, 0 = never */
	uint32_t stats_actual; /* `actual` when they arrived */

	/* QEMU sends BALLOON_CHANGE at most once a second (the guest writes
	 * `actual` after every 256-page buffer): the same here, the last
	 * value always delivered. */
	uint64_t change_sent_ns;
	int change_timer; /* -1: none armed */

	/* The steering policy: its settings, its memory, its timer, and the
	 * stats_updates count it last saw (fresh statistics since). */
	struct balloon_auto_cfg auto_cfg;
	struct balloon_auto_state auto_state;
	int auto_timer; /* -1: none armed */
	uint64_t auto_seen_updates;
	uint64_t auto_events;
	struct balloon_hostsrc hostsrc; /* PSI and meminfo, open */

	struct balloon_counters count;
	uint32_t pfns[BALLOON_MAX_PFNS]; /* scratch for one buffer */
};

/* Which queue `index` is, given the negotiated features: the optional
 * queues are numbered consecutively, each only if negotiated. */
enum balloon_queue balloon_queue_kind(unsigned index, uint64_t features);

/* Sets the target to a balloon of `bytes` (whole pages) and, if it
 * changed, raises a config-change interrupt. */
void balloon_set_target(struct balloon *b, uint64_t bytes);

/* Monotonic clock in nanoseconds, for the ages the API reports. */
uint64_t balloon_now_ns(void);

/* Arm a timer that calls fn(b) every `seconds` on the event loop and keep
 * its id in *timer. 0 or -errno (host->add_timer's). */
int balloon_every(struct balloon *b, uint64_t seconds, void (*fn)(void *),
		  int *timer);

#endif
