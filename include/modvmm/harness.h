/*
 * modvmm plugin test harness: test a device plugin the way a guest driver
 * would use it, without KVM.
 *
 * The harness loads a built plugin .so through the VMM's own loader (same
 * search, same ABI checks) and creates one device against a fake host:
 *  - guest RAM is an ordinary anonymous mapping (64 MiB at gpa 0 by
 *    default, optionally a second region), reachable by the test with
 *    mvm_harness_gpa();
 *  - the virtio transport is the VMM's real virtio-mmio and split-ring
 *    code, minus KVM: a QueueNotify write signals the queue's eventfd, and
 *    interrupts are recorded as edges on the device's GSI;
 *  - the event loop is fake and synchronous: nothing runs until the test
 *    calls mvm_harness_run() (ready fds) or mvm_harness_advance() (virtual
 *    time for timers), so every test is deterministic;
 *  - the control API (modvmm/api.h) is the VMM's own argument parsing and
 *    command table, minus the socket: mvm_harness_api_call() runs a
 *    command the plugin registered, as a client's request would;
 *  - every MMIO and port access the test makes, every interrupt level
 *    change, discard, log line and control-API event is recorded.
 *
 * A cmocka test then plays the driver: mvm_harness_virtio_negotiate(),
 * mvm_harness_vq_setup(), mvm_harness_vq_add(), mvm_harness_vq_kick(),
 * mvm_harness_run(), mvm_harness_vq_used(). Hostile drivers write rings
 * directly (mvm_harness_vq_desc(), mvm_harness_vq_publish()) and poke
 * registers with mvm_harness_mmio_read/write() at the offsets of
 * modvmm/virtio_mmio_regs.h, which this header includes.
 *
 * Link with libmodvmm_harness (CMake target `modvmm_harness`). Everything
 * runs on the calling thread; one harness is one device. Functions return
 * 0 or a negative errno unless said otherwise.
 */
#ifndef MODVMM_HARNESS_H
#define MODVMM_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <modvmm/plugin.h>
#include <modvmm/virtio.h>
#include <modvmm/virtio_mmio_regs.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One loaded plugin and its device, fake host and records. */
struct mvm_harness;

/** Optional settings for mvm_harness_open; zero means the default. */
struct mvm_harness_config {
	/** Bytes of RAM at gpa 0 (default 64 MiB; multiple of 4 KiB). */
	uint64_t ram_size;
	/** A second RAM region (e.g. above 4 GiB); size 0 for none. */
	uint64_t ram2_gpa, ram2_size;
	/** Also print the plugin's log lines on stderr (or set the
	 *  environment variable MVM_HARNESS_VERBOSE=1). */
	bool verbose;
};

/**
 * Load `plugin` (a path, or a name looked up like the VMM does), call its
 * create hook with `options` (NULL = ""), then its start hook, as the VMM
 * does before the vCPUs run. On failure returns -errno,
 * *out is NULL and `why` holds one line (the plugin's host->fail message
 * if create failed).
 */
int mvm_harness_open(const char *plugin, const char *options,
		     const struct mvm_harness_config *cfg,
		     struct mvm_harness **out, char *why, size_t whylen);
/** Destroy the device (the plugin's destroy hook) and free everything.
 *  Returns -EBUSY if the plugin left fds or timers registered, else 0. */
int mvm_harness_close(struct mvm_harness *h);
/** The plugin's descriptor. */
const struct mvm_plugin *mvm_harness_plugin(struct mvm_harness *h);

/* ---- guest memory ---- */

/** Host pointer to guest-physical [gpa, gpa+len), NULL outside RAM. */
void *mvm_harness_gpa(struct mvm_harness *h, uint64_t gpa, uint64_t len);
/** Carve `len` zeroed bytes of guest RAM aligned to `align` (a power of
 *  two) from a bump allocator starting at 1 MiB; returns the gpa, or 0 when
 *  RAM is exhausted. */
uint64_t mvm_harness_alloc(struct mvm_harness *h, uint64_t len, uint64_t align);

/* ---- the guest's accesses (recorded) ---- */

/** MMIO/port access as a vCPU would make it; -ENOENT if nothing claimed
 *  the address (the read value is then all ones, as on a real bus). */
int mvm_harness_mmio_read(struct mvm_harness *h, uint64_t gpa, unsigned len,
			  uint64_t *value);
int mvm_harness_mmio_write(struct mvm_harness *h, uint64_t gpa, unsigned len,
			   uint64_t value);
int mvm_harness_pio_read(struct mvm_harness *h, uint16_t port, unsigned len,
			 uint64_t *value);
int mvm_harness_pio_write(struct mvm_harness *h, uint16_t port, unsigned len,
			  uint64_t value);

/* ---- the fake event loop ---- */

/** Run callbacks of every ready fd until none is ready. Returns the number
 *  of callbacks run, or -ELOOP after 100000 (a plugin re-arming itself). */
int mvm_harness_run(struct mvm_harness *h);
/** Move virtual time forward by `ns`, firing due timers in order and
 *  running ready fds after each. Returns callbacks run or -ELOOP. */
int mvm_harness_advance(struct mvm_harness *h, uint64_t ns);
/** Virtual time in ns since open. */
uint64_t mvm_harness_now(struct mvm_harness *h);
/** Fds and armed timers the plugin has registered. */
unsigned mvm_harness_nfds(struct mvm_harness *h);
unsigned mvm_harness_ntimers(struct mvm_harness *h);

/* ---- records ---- */

enum mvm_harness_rec_kind {
	MVM_HREC_MMIO_READ,
	MVM_HREC_MMIO_WRITE,
	MVM_HREC_PIO_READ,
	MVM_HREC_PIO_WRITE,
	MVM_HREC_IRQ,           /**< addr = GSI, value = new level */
	MVM_HREC_DISCARD,       /**< addr = gpa, len = bytes, value = result */
	MVM_HREC_LOG,           /**< value = level, guest = from log_guest */
	MVM_HREC_EXIT,          /**< value = status of request_exit */
	MVM_HREC_DISCARD_REUSE, /**< addr = gpa, len = bytes */
	MVM_HREC_API_EVENT,     /**< text = the event's name as a client
				     sees it ("balloon.changed",
				     "BALLOON_CHANGE"); its data:
				     mvm_harness_event_data() */
};

/** One recorded event. */
struct mvm_harness_record {
	enum mvm_harness_rec_kind kind;
	uint64_t addr;
	uint64_t len;
	uint64_t value;
	bool guest;     /**< LOG: came through log_guest */
	char text[200]; /**< LOG: the formatted line; API_EVENT: the name */
};

/** Number of records since open or the last clear. */
size_t mvm_harness_nrecords(struct mvm_harness *h);
/** Record `i` (0 = oldest), or NULL. */
const struct mvm_harness_record *mvm_harness_record(struct mvm_harness *h,
						    size_t i);
void mvm_harness_clear_records(struct mvm_harness *h);
/** Records of one kind since the last clear. */
size_t mvm_harness_count(struct mvm_harness *h, enum mvm_harness_rec_kind kind);
/** Rising edges on `gsi` since the last clear (an irqfd-style pulse is one
 *  edge). */
unsigned mvm_harness_irq_edges(struct mvm_harness *h, int gsi);
/** true if a LOG record since the last clear contains `needle`. */
bool mvm_harness_logged(struct mvm_harness *h, const char *needle);
/** Make the fake host->discard return `rc` (0 = do it for real: the RAM is
 *  madvise(MADV_DONTNEED)ed and reads as zeros). Like the VMM, the fake
 *  host always refuses ranges touching the e820-reserved low memory
 *  [0x9fc00, 0x100000) with -EFAULT, and misaligned or non-RAM ranges with
 *  -EINVAL. */
void mvm_harness_set_discard_result(struct mvm_harness *h, int rc);

/* ---- the control API (modvmm/api.h) ---- */

/**
 * Run the control command `name` the plugin registered, as a client's
 * {"execute": name, "arguments": args_json} would in the VMM, on the
 * calling thread. `name` is the one a client sends: "<device>.<name>"
 * ("balloon.info"), or the bare name of an MVM_API_CMD_GLOBAL command
 * ("query-balloon"). `args_json`: a JSON object as text, NULL for none.
 *
 * Returns 0, and in `reply` the command's result as compact JSON text
 * ({} if the handler set none). Otherwise a negative errno, and in `reply`
 * the error object a client would get, {"class": "...", "desc": "..."}:
 * -ENOENT for an unknown command (class "CommandNotFound"), -EINVAL if
 * args_json is not a JSON object, the handler's own errno (with the class
 * and text it gave to `error`, or strerror of it), or -EPROTO if the
 * handler called `error` but returned >= 0 (the VMM sends the error all
 * the same). -ENOBUFS if the command succeeded but its result did not fit
 * in `reply_len` bytes (then cut, NUL-terminated). `reply` may be NULL
 * with reply_len 0.
 */
int mvm_harness_api_call(struct mvm_harness *h, const char *name,
			 const char *args_json, char *reply, size_t reply_len);
/** Number of commands the plugin registered, and the name of command `i`
 *  as a client calls it (NULL past the end). */
size_t mvm_harness_api_ncommands(struct mvm_harness *h);
const char *mvm_harness_api_command(struct mvm_harness *h, size_t i);
/**
 * The data of record `i` if it is an MVM_HREC_API_EVENT, else NULL: the
 * JSON object the plugin emitted, as compact text, with the member
 * "device" that the VMM adds (the VMM's timestamp is not there). Valid
 * until the records are cleared or the harness is closed.
 */
const char *mvm_harness_event_data(struct mvm_harness *h, size_t i);
/** The data (as mvm_harness_event_data) of the newest event named `name`
 *  since the last clear, or NULL if there was none. */
const char *mvm_harness_last_event(struct mvm_harness *h, const char *name);
/**
 * Read a non-negative integer from JSON text such as a reply or event
 * data, by a dotted path of object members ("counters.bad_pfns").
 * 0; -ENOENT if a member on the path is missing; -EINVAL if `json` is not
 * valid JSON or the value is not a non-negative integer.
 */
int mvm_harness_json_u64(const char *json, const char *path, uint64_t *out);

/* ---- what the plugin set up ---- */

/** The device's DSDT nodes (count, and node i or NULL). */
size_t mvm_harness_ndsdt(struct mvm_harness *h);
const struct mvm_dsdt_device *mvm_harness_dsdt(struct mvm_harness *h, size_t i);
/** The plugin's virtio transport (its first), or NULL if it made none. */
struct mvm_virtio *mvm_harness_virtio(struct mvm_harness *h);
/** The virtio host table the plugin got (e.g. to call config_changed as
 *  the plugin would). */
const struct mvm_virtio_host *mvm_harness_virtio_host(struct mvm_harness *h);
/** The host table the plugin got, and in *dev (if not NULL) the device
 *  handle it was given, to call host services as the plugin would (e.g.
 *  ram_regions). */
const struct mvm_host *mvm_harness_host(struct mvm_harness *h, mvm_dev **dev);

/* ---- acting as a virtio-mmio driver ---- */

/** 32-bit register read/write at the virtio window's `offset`. */
uint32_t mvm_harness_vread(struct mvm_harness *h, uint32_t offset);
void mvm_harness_vwrite(struct mvm_harness *h, uint32_t offset, uint32_t v);
/** The device's 64 offered feature bits. */
uint64_t mvm_harness_device_features(struct mvm_harness *h);
/**
 * Reset, ACKNOWLEDGE, DRIVER, accept `want & offered` (VERSION_1 is not
 * added for you), FEATURES_OK, read it back. *accepted (may be NULL) gets
 * what was written. -EPROTO if the device refused FEATURES_OK.
 */
int mvm_harness_virtio_negotiate(struct mvm_harness *h, uint64_t want,
				 uint64_t *accepted);
/** Set DRIVER_OK; -EPROTO if it did not stick. */
int mvm_harness_virtio_driver_ok(struct mvm_harness *h);

/** A split-ring descriptor exactly as in guest memory. */
struct mvm_harness_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/** The driver's view of one queue. */
struct mvm_harness_vq {
	unsigned index;
	uint16_t num;
	uint64_t desc, avail, used; /* ring gpas */
	uint16_t avail_idx;         /* next avail index to publish */
	uint16_t used_seen;         /* used entries consumed */
	uint16_t next_desc; /* next descriptor mvm_harness_vq_add uses */
};

/** A buffer to post. */
struct mvm_harness_buf {
	uint64_t gpa;
	uint32_t len;
	bool writable; /* device-writable */
};

/** Allocate rings for queue `index` with `num` entries (0 = QueueNumMax)
 *  in guest RAM, program them and set QueueReady. -EIO if QueueReady did
 *  not stick, -ENOENT if the queue does not exist. */
int mvm_harness_vq_setup(struct mvm_harness *h, struct mvm_harness_vq *vq,
			 unsigned index, uint16_t num);
/** Post `n` buffers as one direct chain and publish it. Returns the head
 *  index. Descriptors are used round-robin from vq->next_desc. */
int mvm_harness_vq_add(struct mvm_harness *h, struct mvm_harness_vq *vq,
		       const struct mvm_harness_buf *bufs, unsigned n);
/** Same, through one indirect table allocated in guest RAM. */
int mvm_harness_vq_add_indirect(struct mvm_harness *h,
				struct mvm_harness_vq *vq,
				const struct mvm_harness_buf *bufs, unsigned n);
/** Descriptor `i` of the queue's table, for writing hostile chains. */
struct mvm_harness_desc *mvm_harness_vq_desc(struct mvm_harness *h,
					     struct mvm_harness_vq *vq,
					     unsigned i);
/** Put `head` in the avail ring and advance avail->idx by one. */
void mvm_harness_vq_publish(struct mvm_harness *h, struct mvm_harness_vq *vq,
			    uint16_t head);
/** Write avail->idx directly (vq->avail_idx follows). */
void mvm_harness_vq_set_avail_idx(struct mvm_harness *h,
				  struct mvm_harness_vq *vq, uint16_t idx);
/** Write avail->flags (1 = NO_INTERRUPT) and used_event. */
void mvm_harness_vq_set_avail_flags(struct mvm_harness *h,
				    struct mvm_harness_vq *vq, uint16_t flags);
void mvm_harness_vq_set_used_event(struct mvm_harness *h,
				   struct mvm_harness_vq *vq, uint16_t event);
/** The device's avail_event (EVENT_IDX). */
uint16_t mvm_harness_vq_avail_event(struct mvm_harness *h,
				    struct mvm_harness_vq *vq);
/** QueueNotify for this queue (does not run the loop). */
void mvm_harness_vq_kick(struct mvm_harness *h, struct mvm_harness_vq *vq);
/** Take the next used element: 1 and *id, *len set, or 0 if none. */
int mvm_harness_vq_used(struct mvm_harness *h, struct mvm_harness_vq *vq,
			uint32_t *id, uint32_t *len);
/** used->idx as the device last published it. */
uint16_t mvm_harness_vq_used_idx(struct mvm_harness *h,
				 struct mvm_harness_vq *vq);

#ifdef __cplusplus
}
#endif

#endif /* MODVMM_HARNESS_H */
