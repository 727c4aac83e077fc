/*
 * virtio-vsock credit accounting (virtio 1.2 section 5.10.6.3).
 */
#include "vsock_credit.h"

void vsock_credit_init(struct vsock_credit *c, uint32_t buf_alloc)
{
	*c = (struct vsock_credit){.buf_alloc = buf_alloc};
}

void vsock_credit_peer(struct vsock_credit *c, uint32_t buf_alloc,
		       uint32_t fwd_cnt)
{
	c->peer_buf_alloc = buf_alloc;
	c->peer_fwd_cnt = fwd_cnt;
}

uint32_t vsock_credit_avail(const struct vsock_credit *c)
{
	/* Unsigned difference: right across wrap-around. A guest claiming
	 * to have consumed more than we sent makes it huge: no credit. */
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	if (in_flight > c->peer_buf_alloc)
		return 0;
	return c->peer_buf_alloc - in_flight;
}

void vsock_credit_sent(struct vsock_credit *c, uint32_t n)
{
	c->tx_cnt += n;
}

uint32_t vsock_credit_buffered(const struct vsock_credit *c)
{
	return c->rx_cnt - c->fwd_cnt;
}

bool vsock_credit_rx_fits(const struct vsock_credit *c, uint32_t len)
{
	uint32_t used = vsock_credit_buffered(c);

	return used <= c->buf_alloc && len <= c->buf_alloc - used;
}

void vsock_credit_received(struct vsock_credit *c, uint32_t len)
{
	c->rx_cnt += len;
}

void vsock_credit_forwarded(struct vsock_credit *c, uint32_t n)
{
	c->fwd_cnt += n;
}

bool vsock_credit_update_due(const struct vsock_credit *c)
{
	return c->fwd_cnt - c->fwd_cnt_sent >= c->buf_alloc / 4;
}

void vsock_credit_stamp(struct vsock_credit *c, uint32_t *buf_alloc,
			uint32_t *fwd_cnt)
{
	*buf_alloc = c->buf_alloc;
	*fwd_cnt = c->fwd_cnt;
	c->fwd_cnt_sent = c->fwd_cnt;
}
