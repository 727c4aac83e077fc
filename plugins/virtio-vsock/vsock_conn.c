/*
 * virtio-vsock connection table: a fixed array of slots, searched
 * linearly (a few dozen connections; the limit is an option).
 */
#include <errno.h>
#include <stdlib.h>

#include "vsock_conn.h"

/* Firecracker's first local port for host-initiated connections: above
 * the ports guests listen on in practice. */
#define VSOCK_FIRST_HOST_PORT (1u << 30)

int vsock_table_init(struct vsock_table *t, unsigned max)
{
	t->slot = calloc(max, sizeof(*t->slot));
	if (!t->slot)
		return -ENOMEM;
	t->max = max;
	t->n = 0;
	t->next_port = VSOCK_FIRST_HOST_PORT;
	return 0;
}

void vsock_table_fini(struct vsock_table *t)
{
	for (unsigned i = 0; i < t->max; i++)
		if (t->slot[i]) {
			free(t->slot[i]->wbuf);
			free(t->slot[i]);
		}
	free(t->slot);
	t->slot = NULL;
	t->n = 0;
}

struct vsock_conn *vsock_conn_new(struct vsock_table *t, struct vsock *v,
				  uint32_t buf_alloc)
{
	struct vsock_conn *c;

	if (t->n >= t->max)
		return NULL;
	for (unsigned i = 0; i < t->max; i++) {
		if (t->slot[i])
			continue;
		c = calloc(1, sizeof(*c));
		if (!c)
			return NULL;
		c->v = v;
		c->slot = i;
		c->fd = -1;
		vsock_credit_init(&c->cr, buf_alloc);
		t->slot[i] = c;
		t->n++;
		return c;
	}
	return NULL;
}

void vsock_conn_free(struct vsock_table *t, struct vsock_conn *c)
{
	t->slot[c->slot] = NULL;
	t->n--;
	free(c->wbuf);
	free(c);
}

struct vsock_conn *vsock_conn_find(const struct vsock_table *t,
				   uint32_t host_port, uint32_t guest_port)
{
	for (unsigned i = 0; i < t->max; i++) {
		struct vsock_conn *c = t->slot[i];

		if (c && c->keyed && c->host_port == host_port &&
		    c->guest_port == guest_port)
			return c;
	}
	return NULL;
}

static bool port_used(const struct vsock_table *t, uint32_t port)
{
	for (unsigned i = 0; i < t->max; i++)
		if (t->slot[i] && t->slot[i]->keyed &&
		    t->slot[i]->host_port == port)
			return true;
	return false;
}

uint32_t vsock_table_free_port(struct vsock_table *t)
{
	/* At most t->max ports are in use, so this ends within max + 1. */
	for (;;) {
		uint32_t p = t->next_port++;

		if (t->next_port < VSOCK_FIRST_HOST_PORT)
			t->next_port = VSOCK_FIRST_HOST_PORT;
		if (!port_used(t, p))
			return p;
	}
}
