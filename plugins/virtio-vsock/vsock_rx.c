/*
 * virtio-vsock plugin: filling the guest's rx buffers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "vsock_rx.h"

/* Packets moved from one socket per readable event, so that one busy
 * connection cannot hold the event loop. */
#define VSOCK_RX_BATCH 16

void vsock_rx_queue_rst(struct vsock *v, uint32_t host_port,
			uint32_t guest_port)
{
	if (v->rst_n == VSOCK_RST_RING) {
		v->n_rst_dropped++;
		return;
	}
	v->rst[(v->rst_first + v->rst_n++) % VSOCK_RST_RING] =
		(struct vsock_rst){host_port, guest_port};
}

void vsock_rx_owe(struct vsock *v, struct vsock_conn *c, uint32_t pend)
{
	c->pending |= pend;
	if (c->on_ctl)
		return;
	c->on_ctl = true;
	c->ctl_next = NULL;
	if (v->ctl_tail)
		v->ctl_tail->ctl_next = c;
	else
		v->ctl_head = c;
	v->ctl_tail = c;
}

void vsock_rx_forget(struct vsock *v, struct vsock_conn *c)
{
	struct vsock_conn **pp = &v->ctl_head, *prev = NULL;

	if (!c->on_ctl)
		return;
	while (*pp && *pp != c) {
		prev = *pp;
		pp = &(*pp)->ctl_next;
	}
	if (*pp)
		*pp = c->ctl_next;
	if (v->ctl_tail == c)
		v->ctl_tail = prev;
	c->on_ctl = false;
	c->ctl_next = NULL;
	c->pending = 0;
}

/* An rx chain with room for a header, held until filled. A chain too
 * small for one is the driver's mistake: it goes back unused. */
static bool get_chain(struct vsock *v)
{
	struct mvm_virtq_chain ch;

	if (v->have_held)
		return true;
	if (v->rx_starved)
		return false;
	for (;;) {
		int r = v->vh->pop(v->rxq, &ch);

		if (r <= 0) {
			/* 0: empty until the driver kicks rx; -EIO: needs
			 * reset, and only a reset clears that. */
			v->rx_starved = true;
			return false;
		}
		if (ch.writable >= VSOCK_HDR_BYTES && !ch.readable) {
			v->held = ch;
			v->have_held = true;
			return true;
		}
		v->n_bad_pkts++;
		v->host->log_guest(v->dev,
				   "rx buffer of %llu writable / %llu "
				   "readable bytes: needs %u writable only",
				   (unsigned long long)ch.writable,
				   (unsigned long long)ch.readable,
				   VSOCK_HDR_BYTES);
		v->vh->push(v->rxq, &ch, 0);
		v->rx_pushed = true;
	}
}

static uint32_t chain_room(const struct vsock *v)
{
	uint64_t room = v->held.writable - VSOCK_HDR_BYTES;

	return room > VSOCK_MAX_PAYLOAD ? VSOCK_MAX_PAYLOAD : (uint32_t)room;
}

/* Fill the held chain with `h` and `len` bytes of `data`, and push it. */
static void send_held(struct vsock *v, const struct vsock_hdr *h,
		      const void *data, uint32_t len)
{
	uint8_t b[VSOCK_HDR_BYTES];

	vsock_hdr_encode(h, b);
	v->vh->chain_write(v->rxq, &v->held, 0, b, sizeof(b));
	if (len)
		v->vh->chain_write(v->rxq, &v->held, VSOCK_HDR_BYTES, data,
				   len);
	v->vh->push(v->rxq, &v->held, VSOCK_HDR_BYTES + len);
	v->have_held = false;
	v->rx_pushed = true;
}

static struct vsock_hdr header(const struct vsock *v, uint32_t host_port,
			       uint32_t guest_port, uint16_t op)
{
	return (struct vsock_hdr){
		.src_cid = VSOCK_HOST_CID,
		.dst_cid = v->opts.cid,
		.src_port = host_port,
		.dst_port = guest_port,
		.type = VSOCK_TYPE_STREAM,
		.op = op,
	};
}

static struct vsock_hdr conn_header(const struct vsock *v, struct vsock_conn *c,
				    uint16_t op)
{
	struct vsock_hdr h = header(v, c->host_port, c->guest_port, op);

	vsock_credit_stamp(&c->cr, &h.buf_alloc, &h.fwd_cnt);
	return h;
}

/* The lowest owed packet of `c`; true if it was the RST (c is freed). */
static bool send_owed(struct vsock *v, struct vsock_conn *c)
{
	uint32_t bit = c->pending & -c->pending;
	static const uint16_t ops[] = {
		VSOCK_OP_REQUEST,       VSOCK_OP_RESPONSE,
		VSOCK_OP_CREDIT_UPDATE, VSOCK_OP_CREDIT_REQUEST,
		VSOCK_OP_SHUTDOWN,      VSOCK_OP_RST,
	};
	struct vsock_hdr h = conn_header(v, c, ops[__builtin_ctz(bit)]);

	if (bit == VSOCK_PEND_SHUTDOWN)
		h.flags = VSOCK_SHUTDOWN_SEND;
	c->pending &= ~bit;
	send_held(v, &h, NULL, 0);
	if (bit == VSOCK_PEND_RST) {
		vsock_rx_forget(v, c);
		vsock_conn_free(&v->table, c);
		return true;
	}
	return false;
}

static void notify(struct vsock *v)
{
	if (v->rx_pushed) {
		v->rx_pushed = false;
		v->vh->notify(v->rxq);
	}
}

static void flush(struct vsock *v)
{
	while (v->rst_n || v->ctl_head) {
		if (!get_chain(v))
			break;
		if (v->rst_n) {
			struct vsock_rst r = v->rst[v->rst_first];
			struct vsock_hdr h = header(v, r.host_port,
						    r.guest_port, VSOCK_OP_RST);

			v->rst_first = (v->rst_first + 1) % VSOCK_RST_RING;
			v->rst_n--;
			send_held(v, &h, NULL, 0);
			continue;
		}
		struct vsock_conn *c = v->ctl_head;

		if (!send_owed(v, c) && !c->pending)
			vsock_rx_forget(v, c);
	}
}

void vsock_rx_flush(struct vsock *v)
{
	flush(v);
	notify(v);
}

enum vsock_rx_result vsock_rx_from_socket(struct vsock *v, struct vsock_conn *c)
{
	enum vsock_rx_result res = VSOCK_RX_AGAIN;

	/* What the connection owes goes first: a RESPONSE before data. */
	flush(v);
	if (c->pending) {
		res = VSOCK_RX_BLOCKED;
		goto out;
	}
	for (int i = 0; i < VSOCK_RX_BATCH; i++) {
		uint32_t credit = vsock_credit_avail(&c->cr), cap;
		ssize_t n;

		if (!credit) {
			/* 5.10.6.3: ask once; the guest's answer (or any
			 * packet of it) brings the credit back. */
			if (!c->credit_asked) {
				c->credit_asked = true;
				vsock_rx_owe(v, c, VSOCK_PEND_CREDIT_REQUEST);
				flush(v);
			}
			res = VSOCK_RX_BLOCKED;
			break;
		}
		if (!get_chain(v)) {
			res = VSOCK_RX_BLOCKED;
			break;
		}
		cap = chain_room(v);
		if (cap > credit)
			cap = credit;
		if (!cap) {
			/* A header-only buffer, and no control packet owed
			 * to fill it: Linux never posts one. Give it back
			 * unused rather than stall every connection on it. */
			v->n_bad_pkts++;
			v->vh->push(v->rxq, &v->held, 0);
			v->have_held = false;
			v->rx_pushed = true;
			continue;
		}
		n = recv(c->fd, v->rxbuf, cap, MSG_DONTWAIT);
		if (n == 0) {
			res = VSOCK_RX_EOF;
			break;
		}
		if (n < 0) {
			res = errno == EAGAIN || errno == EWOULDBLOCK
				      ? VSOCK_RX_AGAIN
				      : VSOCK_RX_ERROR;
			break;
		}
		struct vsock_hdr h = conn_header(v, c, VSOCK_OP_RW);

		h.len = (uint32_t)n;
		vsock_credit_sent(&c->cr, (uint32_t)n);
		send_held(v, &h, v->rxbuf, (uint32_t)n);
	}
out:
	notify(v);
	return res;
}

void vsock_rx_kick(struct vsock *v)
{
	v->rx_starved = false;
	/* Take a buffer now even with nothing to send: a broken ring is
	 * found at the kick (NEEDS_RESET), not later on a socket event. */
	get_chain(v);
	vsock_rx_flush(v);
}

void vsock_rx_reset(struct vsock *v)
{
	v->have_held = false;
	v->rx_starved = false;
	v->rx_pushed = false;
	v->rst_first = v->rst_n = 0;
	while (v->ctl_head)
		vsock_rx_forget(v, v->ctl_head);
}
