/*
 * The harness's internal state, shared by its files: harness.c (the fake
 * host and event loop), harness_open.c (loading, buses, records),
 * harness_driver.c (the virtio driver helpers) and harness_api.c (the
 * control-API host).
 */
#ifndef MODVMM_HARNESS_INT_H
#define MODVMM_HARNESS_INT_H

#include <modvmm/harness.h>

#include "api/api_cmds.h"
#include "config/opts.h"
#include "guest_ram.h"
#include "virtio/virtio_dev.h"

#define HARNESS_MAX_RANGES 16
#define HARNESS_MAX_FDS 128
#define HARNESS_MAX_TIMERS 64
#define HARNESS_MAX_DSDT 8

struct harness_range {
	bool pio;
	uint64_t base, len;
	const struct mvm_io_ops *ops;
	void *opaque;
};

struct harness_fd {
	bool used;
	int fd;
	uint32_t events;
	mvm_fd_cb cb;
	void *opaque;
};

struct harness_timer {
	bool used;
	uint64_t due, period;
	mvm_timer_cb cb;
	void *opaque;
};

struct mvm_harness {
	const struct mvm_plugin *desc;
	void *dl;
	void *state;
	bool created, in_create, in_start, verbose;
	char fail_msg[512];
	struct opts_strings strings;

	struct ram_region ram[2]; /* the core's, checked as the core does */
	int nram;
	uint64_t alloc_next;

	struct harness_range ranges[HARNESS_MAX_RANGES];
	int nranges;
	uint64_t mmio_next;
	uint32_t gsi_used;
	int irq_level[24];
	unsigned irq_edges[24];

	struct mvm_dsdt_device dsdt[HARNESS_MAX_DSDT];
	char dsdt_hid[HARNESS_MAX_DSDT][16];
	size_t ndsdt;

	struct harness_fd fds[HARNESS_MAX_FDS];
	struct harness_timer timers[HARNESS_MAX_TIMERS];
	uint64_t now;

	struct mvm_harness_record *rec;
	size_t nrec, caprec;
	int discard_rc;

	struct mvm_virtio *vdev;

	/* The control API: the plugin's commands, and the data of emitted
	 * events (an API_EVENT record's value indexes evdata). */
	struct api_cmds cmds;
	char **evdata;
	size_t nevdata, capevdata;
};

extern const struct mvm_host harness_host;
extern const struct mvm_virtio_host harness_virtio_host;
extern const struct mvm_api_host harness_api_host;

void harness_record(struct mvm_harness *h, enum mvm_harness_rec_kind kind,
		    uint64_t addr, uint64_t len, uint64_t value);
/* harness_api.c: the command table and event data, at open and close, and
 * when the records are cleared. */
void harness_api_init(struct mvm_harness *h);
void harness_api_free(struct mvm_harness *h);
void harness_api_clear_events(struct mvm_harness *h);

#endif
