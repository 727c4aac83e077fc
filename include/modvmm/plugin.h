/*
 * modvmm plugin SDK: the device plugin ABI.
 *
 * A device plugin is a shared object that the modvmm core loads with
 * dlopen(RTLD_NOW | RTLD_LOCAL) because a machine file or a --device flag
 * names it. The plugin exports exactly one symbol, `mvm_plugin_descriptor`
 * (a `struct mvm_plugin`), and links against nothing of the core: every
 * service it needs (claiming port or MMIO ranges, interrupts, ACPI, guest
 * memory, the event loop, logging, option parsing) comes through the
 * `struct mvm_host` table that the core hands to `create`.
 *
 * ABI rules (see docs/plugins.md):
 *  - MVM_ABI_MAJOR changes when an existing struct member or function
 *    changes meaning; the core refuses a plugin whose major differs.
 *  - MVM_ABI_MINOR grows when members are appended to a struct. Structs only
 *    grow at their end and carry their own size, so a plugin built against an
 *    older minor keeps working, and a plugin checks `host->size` before using
 *    a member newer than the minor it needs (MVM_HOST_HAS).
 *
 * Threads and locking: the core keeps one mutex per device and holds it
 * around every callback into that device (port/MMIO access on a vCPU thread,
 * fd and timer callbacks on the event-loop thread). A plugin therefore never
 * sees two of its own callbacks at once and needs no lock of its own for
 * state touched only from callbacks.
 *
 * Sandboxing: once the VM runs, every thread is under a seccomp allow-list
 * of its kind, and a system call outside it kills the VMM (docs/seccomp.md).
 * A plugin whose callbacks make system calls of their own names them in
 * the descriptor's `syscalls`.
 */
#ifndef MODVMM_PLUGIN_H
#define MODVMM_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <modvmm/options.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Major ABI version: a plugin with another major is refused. */
#define MVM_ABI_MAJOR 1
/**
 * Minor ABI version: grows when structs grow at their end.
 *  1.0  struct mvm_host up to dev_name.
 *  1.1  struct mvm_host gains virtio, api, discard, discard_reuse and
 *       ram_size.
 *  1.2  struct mvm_plugin gains syscalls.
 *  1.3  struct mvm_host gains ram_regions and sandbox_thread; struct
 *       mvm_virtio_host gains queue_rings, queue_offload and
 *       queue_reclaim (vhost back-ends); struct mvm_plugin gains ioctls.
 */
#define MVM_ABI_MINOR 3
/*
 * Helper macros (MVM_HOST_HAS below, MVM_OPTION_RANGE in modvmm/options.h)
 * expand to code that any 1.x core understands: they change no struct and
 * need no minor of their own, so a plugin using them still says the minor
 * of the members it uses.
 */

/** Name of the one symbol every plugin exports. */
#define MVM_PLUGIN_SYMBOL "mvm_plugin_descriptor"

/** Marks the descriptor as exported even under -fvisibility=hidden. */
#define MVM_PLUGIN_EXPORT __attribute__((visibility("default")))

/**
 * MVM_HOST_HAS(table, member): whether the size-prefixed SDK struct that
 * `table` points to is long enough to hold `member`, i.e. whether whoever
 * built it knew that member. Use it before touching a member appended after
 * 1.0: on the host tables the core hands a plugin (`struct mvm_host`,
 * `mvm_virtio_host`, `mvm_api_host`), and in the core on the ones a plugin
 * hands it (`struct mvm_plugin`, `mvm_virtio_device`, `mvm_api_command`).
 * A member it covers may still be NULL where its documentation says so
 * (`host->virtio` on a core without virtio). `table` is evaluated more than
 * once and must not be NULL.
 *
 *     if (!MVM_HOST_HAS(host, ram_size)) {
 *             host->fail(dev, "this modvmm is too old (no ram_size)");
 *             return -ENOTSUP;
 *     }
 */
#define MVM_HOST_HAS(table, member)                                            \
	((size_t)((const char *)&(table)->member - (const char *)(table)) +    \
		 sizeof((table)->member) <=                                    \
	 (size_t)(table)->size)

/** Opaque handle for one device instance; owned by the core. */
typedef struct mvm_dev mvm_dev;

/* Service sub-tables, each defined in its own header and carrying its own
 * size field: modvmm/virtio.h and modvmm/api.h. */
struct mvm_virtio_host;
struct mvm_api_host;

/** Log levels, most severe first. */
enum mvm_log_level {
	MVM_LOG_ERROR = 0,
	MVM_LOG_WARN = 1,
	MVM_LOG_INFO = 2,
	MVM_LOG_DEBUG = 3,
};

/**
 * Callbacks for a claimed port or MMIO range. Called on a vCPU thread with
 * the device lock held. `offset` is relative to the start of the range;
 * `len` is the access width in bytes (1, 2, 4 or 8). Accesses never cross
 * the end of the range.
 */
struct mvm_io_ops {
	/** Returns the value read; bytes above `len` are ignored. */
	uint64_t (*read)(void *opaque, uint64_t offset, unsigned len);
	/** `value` holds `len` meaningful low-order bytes. */
	void (*write)(void *opaque, uint64_t offset, unsigned len,
		      uint64_t value);
};

/** Event-loop fd callback: `events` is the epoll event mask that fired. */
typedef void (*mvm_fd_cb)(void *opaque, int fd, uint32_t events);
/** Event-loop timer callback. */
typedef void (*mvm_timer_cb)(void *opaque);

/**
 * A device node for the DSDT, built by the core into AML under \_SB.
 * Set the sizes of resources a device does not have to 0 and `gsi` to -1.
 */
struct mvm_dsdt_device {
	/** _HID: "PNP0501"-style EISA ids are compressed, others ("LNRO0005")
	 *  are emitted as strings. */
	const char *hid;
	/** _UID. */
	uint32_t uid;
	/** Memory32Fixed/QWordMemory window; size 0 for none. */
	uint64_t mmio_base, mmio_size;
	/** IO port range; size 0 for none. */
	uint16_t io_base, io_size;
	/** Interrupt GSI, or -1 for none. */
	int gsi;
	/** false: edge-triggered, active high; true: level, active high. */
	bool level_triggered;
};

/** One region of guest RAM as the VMM maps it (ABI 1.3, ram_regions). */
struct mvm_ram_region {
	/** Guest-physical start. */
	uint64_t gpa;
	/** Length in bytes. */
	uint64_t size;
	/** Where the VMM maps it: fixed for the VM's life, as for guest_mem. */
	void *host;
};

/**
 * Host services. `size` is sizeof(struct mvm_host) as the core that built
 * it knew it; members past it must not be used. Every function takes the
 * calling device's handle. Unless said otherwise, functions return 0 or a
 * negative errno and may be called from `create` or from any callback.
 */
struct mvm_host {
	/** sizeof(struct mvm_host) as built by the core. */
	uint32_t size;
	/** ABI version of the core. */
	uint32_t abi_major, abi_minor;

	/** Log a line tagged with the device's name. No trailing newline. */
	void (*log)(mvm_dev *dev, enum mvm_log_level level, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));
	/** Like log, but rate-limited per device: use for anything a guest can
	 *  trigger repeatedly. */
	void (*log_guest)(mvm_dev *dev, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));
	/**
	 * Record the reason `create` is about to fail, as one line without the
	 * device name (the core adds it). The core prints it and exits 2 (a
	 * user error, e.g. a bad option value).
	 */
	void (*fail)(mvm_dev *dev, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));

	/** Parse `str` (key=value,...) against `spec` into the struct `out`.
	 *  On error, records the reason as `fail` does and returns -EINVAL.
	 *  See modvmm/options.h. */
	int (*parse_options)(mvm_dev *dev, const struct mvm_option *spec,
			     const char *str, void *out);

	/** Claim I/O ports [base, base+len). -EBUSY if any port is taken. */
	int (*claim_pio)(mvm_dev *dev, uint16_t base, uint16_t len,
			 const struct mvm_io_ops *ops, void *opaque);
	/** Claim guest-physical MMIO [base, base+len). -EBUSY on overlap,
	 *  -EINVAL if it overlaps guest RAM. */
	int (*claim_mmio)(mvm_dev *dev, uint64_t base, uint64_t len,
			  const struct mvm_io_ops *ops, void *opaque);
	/** Reserve `len` bytes (a multiple of 4 KiB) of the core's device MMIO
	 *  area below 4 GiB; the address is stored in *base. Claim it after. */
	int (*alloc_mmio)(mvm_dev *dev, uint64_t len, uint64_t *base);

	/** Claim interrupt line `gsi`, or with gsi < 0 the next free one of
	 *  5..23. Returns the GSI or a negative errno (-EBUSY if taken). */
	int (*claim_irq)(mvm_dev *dev, int gsi);
	/** Set a claimed line's level (1 asserted, 0 deasserted). */
	int (*set_irq)(mvm_dev *dev, uint32_t gsi, int level);

	/** Add a device node to the DSDT. Only from `create`. */
	int (*dsdt_add_device)(mvm_dev *dev, const struct mvm_dsdt_device *d);
	/** Add raw AML terms to the DSDT's \_SB scope. Only from `create`. */
	int (*dsdt_add_aml)(mvm_dev *dev, const void *aml, size_t len);

	/**
	 * The one checked way into guest memory: returns a host pointer to
	 * guest-physical [gpa, gpa+len), or NULL if the range overflows or is
	 * not entirely inside one guest RAM region.
	 *
	 * Guest RAM is mapped once, before `create`, and unmapped only after
	 * every device's `destroy`; it never moves. So a pointer may be kept
	 * and used from a thread of the plugin's own (e.g. an I/O worker
	 * filling a guest buffer) until the request it serves is answered,
	 * the driver resets the device (drain such work in `reset`), or
	 * `destroy` returns. What it points to may change under it: the
	 * guest writes its own RAM, and a balloon may discard the page (the
	 * mapping stays; the page then reads as zeros until written again).
	 * Re-check with guest_mem for each new request: never cache a
	 * translation across requests.
	 */
	void *(*guest_mem)(mvm_dev *dev, uint64_t gpa, uint64_t len);

	/** Watch `fd` on the event loop for epoll `events`. */
	int (*add_fd)(mvm_dev *dev, int fd, uint32_t events, mvm_fd_cb cb,
		      void *opaque);
	/** Stop watching `fd`. */
	int (*remove_fd)(mvm_dev *dev, int fd);
	/** Start a timer firing after `first_ns`, then every `period_ns`
	 *  (0 = once: the timer is gone once its callback runs, and its id
	 *  may be handed out again, so do not cancel it after that). Returns
	 *  a timer id >= 0 or a negative errno. */
	int (*add_timer)(mvm_dev *dev, uint64_t first_ns, uint64_t period_ns,
			 mvm_timer_cb cb, void *opaque);
	/** Cancel a timer returned by add_timer. */
	int (*cancel_timer)(mvm_dev *dev, int timer_id);

	/** Ask the VMM to stop the VM and exit with `status` (0..255). */
	void (*request_exit)(mvm_dev *dev, int status);
	/** The device's instance name: the plugin's name, then 1, 2, ... for
	 * later instances, after a "-" if the name ends in a digit ("balloon",
	 * "balloon1", "uart16550-1"). */
	const char *(*dev_name)(mvm_dev *dev);

	/** The virtio-mmio transport and virtqueues (modvmm/virtio.h), or
	 *  NULL if this core has none. */
	const struct mvm_virtio_host *virtio;
	/** Control-socket commands and events (modvmm/api.h), or NULL if this
	 *  core has none. */
	const struct mvm_api_host *api;

	/**
	 * Give guest RAM [gpa, gpa+len) back to the host (a balloon's
	 * inflated or reported pages); the guest reads zeros there next.
	 * gpa and len must be 4 KiB aligned (-EINVAL) and the range inside
	 * one e820 RAM range (-EFAULT: never reserved low memory, MMIO or
	 * outside RAM). With hugepage-backed RAM a 2 MiB host page is freed
	 * once all its 4 KiB pieces have been discarded. Coalesce pages into
	 * ranges: each call may be a syscall. Any callback thread.
	 */
	int (*discard)(mvm_dev *dev, uint64_t gpa, uint64_t len);
	/**
	 * The guest uses [gpa, gpa+len) again (a balloon deflate). Only
	 * hugepage-backed RAM needs to hear it (pieces of a huge page still
	 * waiting for their siblings are forgotten); elsewhere a no-op. Any
	 * callback thread.
	 */
	void (*discard_reuse)(mvm_dev *dev, uint64_t gpa, uint64_t len);
	/** Guest RAM size in bytes (all regions). */
	uint64_t (*ram_size)(mvm_dev *dev);

	/* ---- ABI 1.3 ---- */

	/**
	 * Fill up to `max` entries of `out` with guest RAM's regions, in
	 * guest-physical order, and return how many regions there are (which
	 * may be more than `max`). For engines outside the VMM that need the
	 * whole memory map at once, such as vhost's VHOST_SET_MEM_TABLE; for
	 * anything else use guest_mem, which checks each range. Guest RAM is
	 * at most a few regions (below and above the 32-bit device hole).
	 */
	int (*ram_regions)(mvm_dev *dev, struct mvm_ram_region *out,
			   unsigned max);
	/**
	 * Put the calling thread, a thread of the plugin's own (an I/O
	 * worker started in `create`), under the seccomp allow-list of the
	 * event-loop thread plus the plugin's `syscalls` (docs/seccomp.md),
	 * as the core's own threads are once the VM runs. Call it from the
	 * thread itself, after the VM started and before the thread touches
	 * anything the guest handed over; a natural place is just before
	 * its first job, since jobs only come from a running guest. The
	 * filter is for good: the thread keeps it until it exits. Returns 0
	 * (also with `--seccomp off`, where there is nothing to install),
	 * -EAGAIN before the VM runs (the lists are built after every
	 * `create`), or -errno from seccomp(2). Threads the plugin starts
	 * from a callback inherit that thread's filter and need not call it.
	 */
	int (*sandbox_thread)(mvm_dev *dev);
};

/**
 * The descriptor a plugin exports as `mvm_plugin_descriptor`. Start it with
 * MVM_PLUGIN_HEADER so the ABI fields are right.
 */
struct mvm_plugin {
	/** MVM_ABI_MAJOR / MVM_ABI_MINOR the plugin was built against. */
	uint32_t abi_major, abi_minor;
	/** sizeof(struct mvm_plugin) the plugin was built with. */
	uint32_t size;
	/** Short name used in machine files ("uart16550"). */
	const char *name;
	/** The plugin's own version string. */
	const char *version;
	/** One line saying what the device is. */
	const char *description;
	/** The options `create` accepts, terminated by an entry with key
	 *  NULL; the core prints them for `--device NAME,help`. May be NULL. */
	const struct mvm_option *options;

	/**
	 * Create one device instance. `options` is the option string from the
	 * machine file, untouched (never NULL; "" if none). Store the
	 * plugin's state in *state; it is handed back to the other hooks.
	 * Returns 0 or a negative errno; on failure call host->fail first and
	 * release everything already acquired. Main thread, before vCPUs run.
	 */
	int (*create)(mvm_dev *dev, const struct mvm_host *host,
		      const char *options, void **state);
	/** Optional: called once every device exists, just before the vCPUs
	 *  start (e.g. to put a terminal in raw mode). Main thread. */
	int (*start)(void *state);
	/** Optional: undo `start` and `create`. Called on every exit path,
	 *  after the vCPUs and the event loop have stopped. Main thread. */
	void (*destroy)(void *state);

	/**
	 * Optional (ABI 1.2): the system calls this plugin's own code makes
	 * once the VM runs, beyond what the core's seccomp allow-lists give
	 * every device (docs/seccomp.md lists them: locks, memory, time,
	 * writing to fds, and everything the host table does for you).
	 * A NULL-terminated array of names as in syscalls(2), e.g.
	 * `(const char *const[]){"getrandom", NULL}`; NULL (the default) for
	 * none. Each name is allowed with any arguments on every thread that
	 * runs plugin code: the vCPU threads (port/MMIO callbacks), the
	 * event-loop thread (fd, timer and control-socket callbacks) and the
	 * main thread once the VM runs (`destroy`). `create` and `start` run
	 * before any filter and need nothing here. The list is for every
	 * device of every plugin in the VM: ask for as little as you can.
	 * A name that is not a system call of the host's architecture makes
	 * the plugin fail to load (exit 2, naming it). The core reads this
	 * member only from a descriptor of ABI 1.2 or newer whose `size`
	 * covers it; an older plugin gets no extras.
	 */
	const char *const *syscalls;

	/**
	 * Optional (ABI 1.3): the ioctl(2) requests this plugin's own code
	 * makes once the VM runs, e.g. vhost's or a tap's, as a 0-terminated
	 * array: `(const uint32_t[]){VHOST_SET_OWNER, TUNSETOFFLOAD, 0}`.
	 * Each is allowed, with that request only, on the same threads as
	 * `syscalls`. Prefer this to listing "ioctl" in `syscalls`, which
	 * would allow every ioctl on every thread that runs plugin code
	 * (KVM's own among them). The kernel compares the low 32 bits of a
	 * request (ioctl(2) reads an unsigned int). NULL for none; read
	 * only from a descriptor of ABI 1.3 or newer whose `size` covers it.
	 */
	const uint32_t *ioctls;
};

/** First members of every descriptor: ABI version and struct size. */
#define MVM_PLUGIN_HEADER                                                      \
	.abi_major = MVM_ABI_MAJOR, .abi_minor = MVM_ABI_MINOR,                \
	.size = sizeof(struct mvm_plugin)

#ifdef __cplusplus
}
#endif

#endif /* MODVMM_PLUGIN_H */
