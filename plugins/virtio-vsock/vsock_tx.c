/*
 * virtio-vsock plugin: packets from the guest.
 */
#include <string.h>

#include "vsock_host.h"
#include "vsock_rx.h"
#include "vsock_tx.h"

/* A packet that names a known connection. */
static void on_conn_packet(struct vsock *v, struct vsock_conn *c,
			   const struct vsock_hdr *h,
			   const struct mvm_virtq_chain *ch)
{
	if (c->state == VSOCK_CLOSING)
		return; /* our RST is on its way; the guest will hear */
	/* Every packet carries the guest's credit (5.10.6.3). */
	vsock_credit_peer(&c->cr, h->buf_alloc, h->fwd_cnt);
	if (vsock_credit_avail(&c->cr)) {
		c->credit_asked = false;
		c->rx_blocked = false;
	}
	switch (h->op) {
	case VSOCK_OP_REQUEST:
		v->host->log_guest(v->dev,
				   "REQUEST on an open connection "
				   "(guest port %u): resetting it",
				   h->src_port);
		vsock_host_reset(v, c);
		return;
	case VSOCK_OP_RESPONSE:
		vsock_host_guest_response(v, c);
		return;
	case VSOCK_OP_RST:
		vsock_host_guest_rst(v, c);
		return;
	case VSOCK_OP_SHUTDOWN:
		vsock_host_guest_shutdown(v, c, h->flags);
		return;
	case VSOCK_OP_RW:
		if (v->vh->chain_read(v->txq, ch, VSOCK_HDR_BYTES, v->txbuf,
				      h->len) != h->len) {
			/* Checked against `readable` already; the ring
			 * changed under us. */
			vsock_host_reset(v, c);
			return;
		}
		vsock_host_guest_data(v, c, v->txbuf, h->len);
		return;
	case VSOCK_OP_CREDIT_UPDATE:
		vsock_host_rewatch(v, c);
		return;
	case VSOCK_OP_CREDIT_REQUEST:
		vsock_rx_owe(v, c, VSOCK_PEND_CREDIT_UPDATE);
		vsock_host_rewatch(v, c);
		return;
	}
}

static void on_packet(struct vsock *v, const struct mvm_virtq_chain *ch)
{
	uint8_t b[VSOCK_HDR_BYTES];
	struct vsock_hdr h = {0};
	struct vsock_conn *c;
	const char *why = NULL;
	enum vsock_verdict verdict;

	if (v->vh->chain_read(v->txq, ch, 0, b, sizeof(b)) == sizeof(b))
		vsock_hdr_decode(b, &h);
	verdict = vsock_pkt_check(&h, v->opts.cid, ch->readable, &why);
	if (verdict != VSOCK_PKT_OK) {
		v->n_bad_pkts++;
		v->host->log_guest(v->dev, "tx packet (op %u, %u -> %u): %s",
				   h.op, h.src_port, h.dst_port, why);
		if (verdict == VSOCK_PKT_DROP || h.op == VSOCK_OP_RST)
			return;
		c = vsock_conn_find(&v->table, h.dst_port, h.src_port);
		if (c)
			vsock_host_reset(v, c);
		else
			vsock_rx_queue_rst(v, h.dst_port, h.src_port);
		return;
	}
	c = vsock_conn_find(&v->table, h.dst_port, h.src_port);
	if (c) {
		on_conn_packet(v, c, &h, ch);
		return;
	}
	/* 5.10.6.4: no such connection. A REQUEST opens one; an RST needs
	 * no answer; anything else is answered with RST. */
	if (h.op == VSOCK_OP_REQUEST)
		vsock_host_guest_request(v, &h);
	else if (h.op != VSOCK_OP_RST)
		vsock_rx_queue_rst(v, h.dst_port, h.src_port);
}

void vsock_tx_process(struct vsock *v)
{
	struct mvm_virtq_chain ch;
	bool pushed = false;

	while (v->vh->pop(v->txq, &ch) > 0) {
		on_packet(v, &ch);
		v->vh->push(v->txq, &ch, 0);
		pushed = true;
	}
	if (pushed)
		v->vh->notify(v->txq);
	vsock_rx_flush(v);
}
