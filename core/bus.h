/*
 * Port-I/O and MMIO dispatch from vCPU exits to device callbacks. Ranges are
 * registered before the vCPUs start (bus_freeze) and are then read without
 * locks by every vCPU thread; the owning device's lock is held around each
 * callback.
 */
#ifndef MODVMM_CORE_BUS_H
#define MODVMM_CORE_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <modvmm/plugin.h>

struct bus_range {
	uint64_t base;
	uint64_t len;
	const struct mvm_io_ops *ops;
	void *opaque;
	pthread_mutex_t *lock; /* may be NULL for core devices */
	const char *owner;     /* for error messages */
};

struct bus {
	struct bus_range *ranges; /* sorted by base, non-overlapping */
	int n, cap;
	bool frozen;
	const char *name; /* "port" or "MMIO" */
};

void bus_init(struct bus *bus, const char *name);
void bus_free(struct bus *bus);

/* -EBUSY (with *conflict set to the owner) if it overlaps a range;
 * -EPERM once frozen; -EINVAL for an empty or wrapping range. */
int bus_add(struct bus *bus, const struct bus_range *r, const char **conflict);
void bus_freeze(struct bus *bus);

/* Dispatch an access of `len` bytes (1..8). Returns false if no range
 * contains the whole access; reads then leave *value untouched. */
bool bus_read(const struct bus *bus, uint64_t addr, unsigned len,
	      uint64_t *value);
bool bus_write(const struct bus *bus, uint64_t addr, unsigned len,
	       uint64_t value);

#endif
