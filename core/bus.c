/* Sorted-range dispatch for port I/O and MMIO; see bus.h. */
#include "bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
}

void bus_free(struct bus *bus)
{
	free(bus->ranges);
	bus->ranges = NULL;
	bus->n = bus->cap = 0;
}

int bus_add(struct bus *bus, const struct bus_range *r, const char **conflict)
{
	uint64_t end;
	int pos = 0;

	*conflict = NULL;
	if (bus->frozen)
		return -EPERM;
	if (r->len == 0 || __builtin_add_overflow(r->base, r->len, &end))
		return -EINVAL;
	for (int i = 0; i < bus->n; i++) {
		const struct bus_range *o = &bus->ranges[i];

		if (r->base < o->base + o->len && o->base < end) {
			*conflict = o->owner;
			return -EBUSY;
		}
		if (o->base < r->base)
			pos = i + 1;
	}
	if (bus->n == bus->cap) {
		int cap = bus->cap ? bus->cap * 2 : 16;
		struct bus_range *nr =
			realloc(bus->ranges, (size_t)cap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		bus->ranges = nr;
		bus->cap = cap;
	}
	memmove(&bus->ranges[pos + 1], &bus->ranges[pos],
		(size_t)(bus->n - pos) * sizeof(*bus->ranges));
	bus->ranges[pos] = *r;
	bus->n++;
	return 0;
}

void bus_freeze(struct bus *bus)
{
	bus->frozen = true;
}

static const struct bus_range *find(const struct bus *bus, uint64_t addr,
				    unsigned len)
{
	int lo = 0, hi = bus->n - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &bus->ranges[mid];

		if (addr < r->base) {
			hi = mid - 1;
		} else if (addr - r->base >= r->len) {
			lo = mid + 1;
		} else {
			/* Inside: the whole access must fit too. */
			return len <= r->len - (addr - r->base) ? r : NULL;
		}
	}
	return NULL;
}

bool bus_read(const struct bus *bus, uint64_t addr, unsigned len,
	      uint64_t *value)
{
	const struct bus_range *r = find(bus, addr, len);

	if (!r || !r->ops->read)
		return r != NULL;
	if (r->lock)
		pthread_mutex_lock(r->lock);
	*value = r->ops->read(r->opaque, addr - r->base, len);
	if (r->lock)
		pthread_mutex_unlock(r->lock);
	return true;
}

bool bus_write(const struct bus *bus, uint64_t addr, unsigned len,
	       uint64_t value)
{
	const struct bus_range *r = find(bus, addr, len);

	if (!r || !r->ops->write)
		return r != NULL;
	if (r->lock)
		pthread_mutex_lock(r->lock);
	r->ops->write(r->opaque, addr - r->base, len, value);
	if (r->lock)
		pthread_mutex_unlock(r->lock);
	return true;
}
