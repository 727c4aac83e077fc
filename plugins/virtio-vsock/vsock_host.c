/*
 * virtio-vsock plugin: the host Unix sockets' side of each connection.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vsock_host.h"
#include "vsock_rx.h"
#include "vsock_unix.h"

/* Clients accepted per listener event. */
#define VSOCK_ACCEPT_BATCH 16

static void on_conn(void *opaque, int fd, uint32_t events);

static void unwatch(struct vsock *v, struct vsock_conn *c)
{
	if (c->watched)
		v->host->remove_fd(v->dev, c->fd);
	c->watched = 0;
}

static void close_socket(struct vsock *v, struct vsock_conn *c)
{
	unwatch(v, c);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->wbuf);
	c->wbuf = NULL;
	c->wlen = c->whead = 0;
}

/* Forget `c` without a word to the guest. */
static void drop(struct vsock *v, struct vsock_conn *c)
{
	close_socket(v, c);
	vsock_rx_forget(v, c);
	vsock_conn_free(&v->table, c);
}

void vsock_host_reset(struct vsock *v, struct vsock_conn *c)
{
	bool guest_knows = c->state == VSOCK_ESTABLISHED ||
			   (c->state == VSOCK_CONNECTING &&
			    !(c->pending & VSOCK_PEND_REQUEST));

	if (c->state == VSOCK_CLOSING)
		return;
	if (!guest_knows) {
		drop(v, c);
		return;
	}
	close_socket(v, c);
	vsock_rx_forget(v, c);
	c->state = VSOCK_CLOSING;
	vsock_rx_owe(v, c, VSOCK_PEND_RST);
}

void vsock_host_rewatch(struct vsock *v, struct vsock_conn *c)
{
	uint32_t want = 0;
	int r;

	if (c->state == VSOCK_LINE)
		want = EPOLLIN;
	if (c->state == VSOCK_ESTABLISHED) {
		if (!c->host_eof && !c->guest_no_rcv && !c->rx_blocked &&
		    vsock_credit_avail(&c->cr))
			want |= EPOLLIN;
		if (c->wlen)
			want |= EPOLLOUT;
	}
	if (want == c->watched)
		return;
	unwatch(v, c);
	if (!want)
		return;
	r = v->host->add_fd(v->dev, c->fd, want, on_conn, c);
	if (r < 0) {
		v->host->log_guest(v->dev,
				   "cannot watch a connection's socket (%s): "
				   "resetting it",
				   strerror(-r));
		vsock_host_reset(v, c);
		return;
	}
	c->watched = want;
}

/* Once the guest's bytes are all out: pass its SHUTDOWN on. Returns
 * false if that ended the connection. */
static bool pass_shutdown(struct vsock *v, struct vsock_conn *c)
{
	if (c->wlen || !c->guest_no_send)
		return true;
	if (c->guest_no_rcv) {
		/* Both ways shut: Linux waits for our RST to finish its
		 * close (virtio_transport_close). */
		vsock_host_reset(v, c);
		return false;
	}
	shutdown(c->fd, SHUT_WR);
	return true;
}

/* Write waiting guest bytes to the socket. false if the connection was
 * reset. */
static bool write_out(struct vsock *v, struct vsock_conn *c)
{
	uint32_t size = c->cr.buf_alloc;

	while (c->wlen) {
		uint32_t chunk = size - c->whead;
		ssize_t n;

		if (chunk > c->wlen)
			chunk = c->wlen;
		n = send(c->fd, c->wbuf + c->whead, chunk,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			vsock_host_reset(v, c);
			return false;
		}
		c->whead = (c->whead + (uint32_t)n) % size;
		c->wlen -= (uint32_t)n;
		vsock_credit_forwarded(&c->cr, (uint32_t)n);
	}
	if (vsock_credit_update_due(&c->cr))
		vsock_rx_owe(v, c, VSOCK_PEND_CREDIT_UPDATE);
	return pass_shutdown(v, c);
}

/* Once a second while host clients wait for the guest's RESPONSE. */
static void sweep(void *opaque)
{
	struct vsock *v = opaque;
	bool waiting = false;

	for (unsigned i = 0; i < v->table.max; i++) {
		struct vsock_conn *c = v->table.slot[i];

		if (!c || c->state != VSOCK_CONNECTING)
			continue;
		if (c->connect_ticks && --c->connect_ticks) {
			waiting = true;
			continue;
		}
		v->host->log_guest(v->dev,
				   "no RESPONSE to CONNECT %u in %u s: "
				   "resetting it",
				   c->guest_port, VSOCK_CONNECT_TICKS);
		vsock_host_reset(v, c);
	}
	vsock_rx_flush(v);
	if (!waiting)
		vsock_host_stop_sweep(v);
}

void vsock_host_stop_sweep(struct vsock *v)
{
	if (v->sweep_timer >= 0)
		v->host->cancel_timer(v->dev, v->sweep_timer);
	v->sweep_timer = -1;
}

static void start_sweep(struct vsock *v)
{
	int t;

	if (v->sweep_timer >= 0)
		return;
	t = v->host->add_timer(v->dev, VSOCK_SWEEP_NS, VSOCK_SWEEP_NS, sweep,
			       v);
	if (t >= 0)
		v->sweep_timer = t;
	else
		v->host->log(v->dev, MVM_LOG_WARN,
			     "no timer for CONNECT time-outs: %s",
			     strerror(-t));
}

static void on_line(struct vsock *v, struct vsock_conn *c)
{
	uint32_t port;
	int r = vsock_unix_read_line(c->fd, c->line, &c->linelen,
				     sizeof(c->line));

	if (r == 0)
		return;
	if (r < 0 ||
	    vsock_unix_parse_connect(c->line, c->linelen - 1, &port) < 0) {
		/* As Firecracker: a bad line just closes the client. */
		drop(v, c);
		return;
	}
	c->guest_port = port;
	c->host_port = vsock_table_free_port(&v->table);
	c->keyed = true;
	c->state = VSOCK_CONNECTING;
	c->connect_ticks = VSOCK_CONNECT_TICKS;
	start_sweep(v);
	vsock_rx_owe(v, c, VSOCK_PEND_REQUEST);
	vsock_host_rewatch(v, c);
	vsock_rx_flush(v);
}

static void on_readable(struct vsock *v, struct vsock_conn *c)
{
	switch (vsock_rx_from_socket(v, c)) {
	case VSOCK_RX_AGAIN:
		break;
	case VSOCK_RX_BLOCKED:
		/* No credit: the guest's next packet brings some. No
		 * buffer: the rx kick re-arms every blocked socket. */
		c->rx_blocked = vsock_credit_avail(&c->cr) != 0;
		break;
	case VSOCK_RX_EOF:
		c->host_eof = true;
		vsock_rx_owe(v, c, VSOCK_PEND_SHUTDOWN);
		vsock_rx_flush(v);
		break;
	case VSOCK_RX_ERROR:
		vsock_host_reset(v, c);
		vsock_rx_flush(v);
		return;
	}
	vsock_host_rewatch(v, c);
}

static void on_conn(void *opaque, int fd, uint32_t events)
{
	struct vsock_conn *c = opaque;
	struct vsock *v = c->v;

	(void)fd;
	if (c->state == VSOCK_LINE) {
		on_line(v, c);
		return;
	}
	if (c->state != VSOCK_ESTABLISHED)
		return;
	if ((events & EPOLLOUT) ||
	    ((events & (EPOLLERR | EPOLLHUP)) && !(c->watched & EPOLLIN))) {
		bool alive = write_out(v, c);

		vsock_rx_flush(v);
		if (!alive)
			return;
	}
	if ((c->watched & EPOLLIN) &&
	    (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		on_readable(v, c);
		return;
	}
	vsock_host_rewatch(v, c);
}

static void on_listen(void *opaque, int fd, uint32_t events)
{
	struct vsock *v = opaque;

	(void)events;
	for (int i = 0; i < VSOCK_ACCEPT_BATCH; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct vsock_conn *c;

		if (cfd < 0)
			return;
		c = vsock_conn_new(&v->table, v, VSOCK_CONN_BUF);
		if (!c) {
			v->host->log_guest(v->dev,
					   "%u connections: refusing a host "
					   "client",
					   v->table.n);
			close(cfd);
			continue;
		}
		c->fd = cfd;
		c->state = VSOCK_LINE;
		vsock_host_rewatch(v, c);
	}
}

int vsock_host_start(struct vsock *v)
{
	int r = v->host->add_fd(v->dev, v->listen_fd, EPOLLIN, on_listen, v);

	v->listen_watched = r == 0;
	return r;
}

void vsock_host_stop(struct vsock *v)
{
	if (v->listen_watched)
		v->host->remove_fd(v->dev, v->listen_fd);
	v->listen_watched = false;
}

void vsock_host_close_all(struct vsock *v)
{
	vsock_host_stop_sweep(v);
	vsock_rx_reset(v);
	for (unsigned i = 0; i < v->table.max; i++)
		if (v->table.slot[i])
			drop(v, v->table.slot[i]);
}

void vsock_host_guest_request(struct vsock *v, const struct vsock_hdr *h)
{
	struct vsock_conn *c = vsock_conn_new(&v->table, v, VSOCK_CONN_BUF);
	int fd;

	if (!c) {
		v->host->log_guest(v->dev,
				   "%u connections: refusing the guest's "
				   "REQUEST to port %u",
				   v->table.n, h->dst_port);
		vsock_rx_queue_rst(v, h->dst_port, h->src_port);
		return;
	}
	fd = vsock_unix_connect(v->opts.socket, h->dst_port);
	if (fd < 0) {
		v->host->log(v->dev, MVM_LOG_DEBUG,
			     "guest port %u -> %s_%u: %s", h->src_port,
			     v->opts.socket, h->dst_port, strerror(-fd));
		vsock_conn_free(&v->table, c);
		vsock_rx_queue_rst(v, h->dst_port, h->src_port);
		return;
	}
	c->fd = fd;
	c->keyed = true;
	c->host_port = h->dst_port;
	c->guest_port = h->src_port;
	c->state = VSOCK_ESTABLISHED;
	vsock_credit_peer(&c->cr, h->buf_alloc, h->fwd_cnt);
	vsock_rx_owe(v, c, VSOCK_PEND_RESPONSE);
	vsock_host_rewatch(v, c);
}

void vsock_host_guest_response(struct vsock *v, struct vsock_conn *c)
{
	char ok[24];
	int n;

	if (c->state != VSOCK_CONNECTING) {
		v->host->log_guest(v->dev, "RESPONSE on a connection not "
					   "connecting: resetting it");
		vsock_host_reset(v, c);
		return;
	}
	n = snprintf(ok, sizeof(ok), "OK %u\n", c->host_port);
	if (send(c->fd, ok, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n) {
		vsock_host_reset(v, c);
		return;
	}
	c->state = VSOCK_ESTABLISHED;
	vsock_host_rewatch(v, c);
}

void vsock_host_guest_rst(struct vsock *v, struct vsock_conn *c)
{
	if (c->state != VSOCK_CLOSING)
		drop(v, c);
}

static bool buffer(struct vsock_conn *c, const uint8_t *data, uint32_t len)
{
	uint32_t size = c->cr.buf_alloc, tail, first;

	if (!c->wbuf) {
		c->wbuf = malloc(size);
		if (!c->wbuf)
			return false;
		c->whead = 0;
	}
	/* len + wlen <= size: vsock_credit_rx_fits said so. */
	tail = (c->whead + c->wlen) % size;
	first = size - tail < len ? size - tail : len;
	memcpy(c->wbuf + tail, data, first);
	memcpy(c->wbuf, data + first, len - first);
	c->wlen += len;
	return true;
}

void vsock_host_guest_data(struct vsock *v, struct vsock_conn *c,
			   const uint8_t *data, uint32_t len)
{
	uint32_t sent = 0;

	if (c->state != VSOCK_ESTABLISHED || c->guest_no_send) {
		v->host->log_guest(v->dev, "data on a connection that is not "
					   "open for it: resetting it");
		vsock_host_reset(v, c);
		return;
	}
	if (!vsock_credit_rx_fits(&c->cr, len)) {
		v->n_bad_pkts++;
		v->host->log_guest(v->dev,
				   "guest port %u sent %u bytes beyond the "
				   "credit it had: resetting the connection",
				   c->guest_port, len);
		vsock_host_reset(v, c);
		return;
	}
	vsock_credit_received(&c->cr, len);
	if (!c->wlen && len) {
		ssize_t n = send(c->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			vsock_host_reset(v, c);
			return;
		}
		sent = n > 0 ? (uint32_t)n : 0;
		vsock_credit_forwarded(&c->cr, sent);
	}
	if (sent < len && !buffer(c, data + sent, len - sent)) {
		vsock_host_reset(v, c);
		return;
	}
	if (vsock_credit_update_due(&c->cr))
		vsock_rx_owe(v, c, VSOCK_PEND_CREDIT_UPDATE);
	vsock_host_rewatch(v, c);
}

void vsock_host_guest_shutdown(struct vsock *v, struct vsock_conn *c,
			       uint32_t flags)
{
	if (c->state != VSOCK_ESTABLISHED) {
		vsock_host_reset(v, c);
		return;
	}
	if (flags & VSOCK_SHUTDOWN_RCV)
		c->guest_no_rcv = true;
	if (flags & VSOCK_SHUTDOWN_SEND)
		c->guest_no_send = true;
	if (pass_shutdown(v, c))
		vsock_host_rewatch(v, c);
}
