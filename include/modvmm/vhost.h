/*
 * modvmm plugin SDK: running a virtio device's queues in a Linux vhost
 * back-end (/dev/vhost-net, /dev/vhost-vsock, ...), the part every such
 * device does alike: open the device node, give it guest RAM's memory
 * table, and hand it one queue at a time or take one back. A plugin calls
 * these from its `create`, `driver_ok` and `reset` hooks; what is the
 * device's own (VHOST_SET_FEATURES with the features it negotiated,
 * VHOST_NET_SET_BACKEND, VHOST_VSOCK_SET_GUEST_CID / _SET_RUNNING) stays
 * in the plugin.
 *
 * Header-only (static inline), like modvmm/token_bucket.h: not part of
 * the plugin ABI and links nothing. It uses only ABI 1.3 members
 * (host->ram_regions and the virtio table's queue_rings, queue_offload
 * and queue_reclaim); check mvm_vhost_usable() before relying on them.
 * Linux and C only (linux/vhost.h is not valid C++); O_CLOEXEC needs
 * -std=gnu11, or _GNU_SOURCE defined before the first #include.
 *
 * The order of a device's life:
 *  - create (main thread): mvm_vhost_usable(), mvm_vhost_open();
 *  - driver_ok (vCPU thread): VHOST_SET_FEATURES, mvm_vhost_set_mem_table()
 *    (or once in create: guest RAM does not move), mvm_vhost_start_queue()
 *    for each queue, then the device's own start;
 *  - reset (vCPU thread): the device's own stop, then
 *    mvm_vhost_stop_queue() for each queue; the core takes the queues back
 *    by itself after the hook;
 *  - back to user space while the device runs: the device's own stop,
 *    then mvm_vhost_reclaim_queue() for each started queue;
 *  - destroy: close the fd.
 *
 * Seccomp: after create these helpers issue the requests in
 * MVM_VHOST_IOCTLS; put it in the descriptor's `ioctls` with the device's
 * own requests. mvm_vhost_open's VHOST_SET_OWNER and VHOST_GET_FEATURES
 * run in create, before any filter.
 */
#ifndef MODVMM_VHOST_H
#define MODVMM_VHOST_H

#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <modvmm/plugin.h>
#include <modvmm/virtio.h>

#ifndef O_CLOEXEC
#error "modvmm/vhost.h needs O_CLOEXEC: -std=gnu11, or define _GNU_SOURCE"
#endif

/** The ioctl requests the helpers below issue once the VM runs, for a
 *  descriptor's `ioctls` array:
 *      static const uint32_t ioctls[] = {MVM_VHOST_IOCTLS,
 *                                        VHOST_SET_FEATURES, 0}; */
#define MVM_VHOST_IOCTLS                                                       \
	VHOST_SET_MEM_TABLE, VHOST_SET_VRING_NUM, VHOST_SET_VRING_BASE,        \
		VHOST_SET_VRING_ADDR, VHOST_SET_VRING_KICK,                    \
		VHOST_SET_VRING_CALL, VHOST_GET_VRING_BASE

/** Most guest RAM regions mvm_vhost_set_mem_table passes on; the core has
 *  one or two (below and above the 32-bit device hole). */
#define MVM_VHOST_MAX_REGIONS 8

/**
 * Whether this core has what the helpers need (ABI 1.3: ram_regions,
 * queue_rings, queue_offload, queue_reclaim). A device built against an
 * older core keeps its queues in user space, or refuses vhost.
 * @b: the device's transport state (vh filled in).
 */
static inline bool mvm_vhost_usable(const struct mvm_virtio_base *b)
{
	return MVM_HOST_HAS(b->host, ram_regions) && b->host->ram_regions &&
	       MVM_HOST_HAS(b->vh, queue_reclaim) && b->vh->queue_rings &&
	       b->vh->queue_offload && b->vh->queue_reclaim;
}

/**
 * Open a vhost device node and make the calling process its owner
 * (VHOST_SET_OWNER); read the features it supports (VHOST_GET_FEATURES).
 * From `create`, before the seccomp filter is in place.
 * @path: the node, e.g. "/dev/vhost-net".
 * @module: the kernel module that provides it, named in the hint when the
 *   node is missing, e.g. "vhost_net".
 * @features: out: the back-end's feature bits.
 * @why: out, on failure: "<path>: <strerror>", with a hint when the node
 *   is missing (modprobe) or not writable (permissions); for host->fail.
 * @why_len: size of @why.
 * Returns the fd (O_CLOEXEC), or -errno with nothing left open.
 */
static inline int mvm_vhost_open(const char *path, const char *module,
				 uint64_t *features, char *why, size_t why_len)
{
	const char *hint = "";
	char modprobe[64];
	int fd = open(path, O_RDWR | O_CLOEXEC), e;

	if (fd < 0) {
		e = errno;
		if (e == ENOENT) {
			snprintf(modprobe, sizeof(modprobe), " (modprobe %s)",
				 module);
			hint = modprobe;
		} else if (e == EACCES) {
			hint = " (needs root, or write access to it)";
		}
		snprintf(why, why_len, "%s: %s%s", path, strerror(e), hint);
		return -e;
	}
	if (ioctl(fd, VHOST_SET_OWNER) < 0 ||
	    ioctl(fd, VHOST_GET_FEATURES, features) < 0) {
		e = errno;
		snprintf(why, why_len, "%s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

/**
 * Give the back-end guest RAM's memory map (VHOST_SET_MEM_TABLE), from
 * host->ram_regions: the rings' and buffers' guest addresses are
 * translated by the kernel through it.
 * @b: the device's transport state.
 * @fd: the vhost fd.
 * Returns 0, -E2BIG if guest RAM has more than MVM_VHOST_MAX_REGIONS
 * regions (or none), or -errno.
 */
static inline int mvm_vhost_set_mem_table(const struct mvm_virtio_base *b,
					  int fd)
{
	struct mvm_ram_region r[MVM_VHOST_MAX_REGIONS];
	struct vhost_memory *m;
	int k = b->host->ram_regions(b->dev, r, MVM_VHOST_MAX_REGIONS), e = 0;

	if (k < 0)
		return k;
	if (k == 0 || k > MVM_VHOST_MAX_REGIONS)
		return -E2BIG;
	m = calloc(1, sizeof(*m) + (size_t)k * sizeof(m->regions[0]));
	if (!m)
		return -ENOMEM;
	m->nregions = (uint32_t)k;
	for (int i = 0; i < k; i++) {
		m->regions[i].guest_phys_addr = r[i].gpa;
		m->regions[i].memory_size = r[i].size;
		m->regions[i].userspace_addr = (uint64_t)(uintptr_t)r[i].host;
	}
	if (ioctl(fd, VHOST_SET_MEM_TABLE, m) < 0)
		e = -errno;
	free(m);
	return e;
}

/**
 * Stop vring `index` of the back-end (VHOST_GET_VRING_BASE) and let go of
 * its kick and call eventfds, which are the core's. Stop the device's
 * engine first (VHOST_NET_SET_BACKEND to -1, VHOST_VSOCK_SET_RUNNING 0) so
 * the index read is final. The queue stays offloaded: in `reset` the core
 * takes it back after the hook; elsewhere use mvm_vhost_reclaim_queue.
 * @fd: the vhost fd.
 * @index: the vring's index in the back-end.
 * @next_avail: out if not NULL, only on success: the next avail index the
 *   back-end would have read.
 * Returns 0 or -errno from VHOST_GET_VRING_BASE.
 */
static inline int mvm_vhost_stop_queue(int fd, unsigned index,
				       uint16_t *next_avail)
{
	struct vhost_vring_state st = {.index = index, .num = 0};
	struct vhost_vring_file unbind = {.index = index, .fd = -1};
	int e = 0;

	if (ioctl(fd, VHOST_GET_VRING_BASE, &st) < 0)
		e = -errno;
	else if (next_avail)
		*next_avail = (uint16_t)st.num;
	ioctl(fd, VHOST_SET_VRING_KICK, &unbind);
	ioctl(fd, VHOST_SET_VRING_CALL, &unbind);
	return e;
}

/**
 * Stop vring `index` (mvm_vhost_stop_queue) and give `q` back to the core
 * (queue_reclaim) where the back-end left it: its avail index from the
 * back-end, its used index from the used ring itself. For falling back to
 * user space while the device runs, not for `reset`.
 * @b: the device's transport state.
 * @fd: the vhost fd.
 * @q: the offloaded queue.
 * @index: its vring's index in the back-end.
 * Returns 0 or -errno (queue_rings' or queue_reclaim's).
 */
static inline int mvm_vhost_reclaim_queue(const struct mvm_virtio_base *b,
					  int fd, struct mvm_virtq *q,
					  unsigned index)
{
	struct mvm_virtq_rings r;
	const uint16_t *used;
	uint16_t avail;
	int e = b->vh->queue_rings(q, &r);

	if (e < 0) {
		mvm_vhost_stop_queue(fd, index, NULL);
		return e;
	}
	avail = r.next_avail;
	mvm_vhost_stop_queue(fd, index, &avail);
	/* The used ring's idx follows its 16-bit flags (virtio 1.2 2.7.8). */
	used = (const uint16_t *)b->host->guest_mem(b->dev, r.used_gpa + 2, 2);
	return b->vh->queue_reclaim(q, avail, used ? *used : r.next_used);
}

/**
 * Hand `q` to the back-end as vring `index`: its size, the avail index to
 * start from, the rings' host addresses (VHOST_SET_VRING_NUM, _BASE,
 * _ADDR, from queue_rings), then queue_offload's kick and call eventfds
 * (VHOST_SET_VRING_KICK, _CALL). From driver_ok, after VHOST_SET_FEATURES
 * and mvm_vhost_set_mem_table; the device's own start (a backend, a
 * running flag) comes after.
 * @b: the device's transport state.
 * @fd: the vhost fd.
 * @q: a ready queue of the device.
 * @index: its vring's index in the back-end.
 * Returns 0, -EFAULT if a ring is not inside guest RAM, or -errno. On
 * failure the queue is the core's again (reclaimed if it had been
 * offloaded).
 */
static inline int mvm_vhost_start_queue(const struct mvm_virtio_base *b, int fd,
					struct mvm_virtq *q, unsigned index)
{
	struct mvm_virtq_rings r;
	int kick, call, e = b->vh->queue_rings(q, &r);

	if (e < 0)
		return e;
	/* Split ring sizes (virtio 1.2 2.7, as the driver lays them out):
	 * 16-byte descriptors; flags, idx, the ring and the event word. */
	void *desc = b->host->guest_mem(b->dev, r.desc_gpa, 16ULL * r.num);
	void *avail = b->host->guest_mem(b->dev, r.avail_gpa, 6 + 2ULL * r.num);
	void *used = b->host->guest_mem(b->dev, r.used_gpa, 6 + 8ULL * r.num);
	struct vhost_vring_state num = {.index = index, .num = r.num};
	struct vhost_vring_state base = {.index = index, .num = r.next_avail};
	struct vhost_vring_addr addr = {
		.index = index,
		.desc_user_addr = (uint64_t)(uintptr_t)desc,
		.used_user_addr = (uint64_t)(uintptr_t)used,
		.avail_user_addr = (uint64_t)(uintptr_t)avail,
	};

	if (!desc || !avail || !used)
		return -EFAULT;
	if (ioctl(fd, VHOST_SET_VRING_NUM, &num) < 0 ||
	    ioctl(fd, VHOST_SET_VRING_BASE, &base) < 0 ||
	    ioctl(fd, VHOST_SET_VRING_ADDR, &addr) < 0)
		return -errno;
	e = b->vh->queue_offload(q, &kick, &call);
	if (e < 0)
		return e;
	struct vhost_vring_file k = {.index = index, .fd = kick};
	struct vhost_vring_file c = {.index = index, .fd = call};

	if (ioctl(fd, VHOST_SET_VRING_KICK, &k) < 0 ||
	    ioctl(fd, VHOST_SET_VRING_CALL, &c) < 0) {
		e = -errno;
		mvm_vhost_reclaim_queue(b, fd, q, index);
		return e;
	}
	return 0;
}

#endif /* MODVMM_VHOST_H */
