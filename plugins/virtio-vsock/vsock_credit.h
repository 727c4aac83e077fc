/*
 * virtio-vsock plugin: credit-based flow control of one connection
 * (virtio 1.2 section 5.10.6.3), both ways.
 *
 * Towards the guest: the guest says in every packet how much receive
 * buffer it has (buf_alloc) and how much of what it received it has
 * consumed (fwd_cnt); we may have at most buf_alloc - (tx_cnt - fwd_cnt)
 * bytes in flight. The guest's numbers are hostile: an fwd_cnt ahead of
 * what we sent, or a buf_alloc that shrank under what is in flight, mean
 * no credit, never a wrapped-around huge one.
 *
 * From the guest: we advertise buf_alloc bytes of buffer per connection
 * and fwd_cnt, the bytes we have passed on to the host socket. A guest
 * that sends more than that is breaking the protocol; the device resets
 * the connection rather than buffer it. Counters are u32 and wrap, as the
 * spec's are. Pure arithmetic; event-loop thread.
 */
#ifndef MODVMM_VSOCK_CREDIT_H
#define MODVMM_VSOCK_CREDIT_H

#include <stdbool.h>
#include <stdint.h>

struct vsock_credit {
	/* Host -> guest. */
	uint32_t tx_cnt;         /* payload bytes sent to the guest */
	uint32_t peer_buf_alloc; /* the guest's last word */
	uint32_t peer_fwd_cnt;
	/* Guest -> host. */
	uint32_t buf_alloc;    /* what we advertise */
	uint32_t rx_cnt;       /* payload bytes received from the guest */
	uint32_t fwd_cnt;      /* of those, written to the host socket */
	uint32_t fwd_cnt_sent; /* fwd_cnt as last told to the guest */
};

void vsock_credit_init(struct vsock_credit *c, uint32_t buf_alloc);
/* The guest's buf_alloc and fwd_cnt from a packet header. */
void vsock_credit_peer(struct vsock_credit *c, uint32_t buf_alloc,
		       uint32_t fwd_cnt);
/* Bytes we may still send to the guest. */
uint32_t vsock_credit_avail(const struct vsock_credit *c);
/* We sent the guest `n` payload bytes (n <= vsock_credit_avail). */
void vsock_credit_sent(struct vsock_credit *c, uint32_t n);

/* Bytes received from the guest and not yet written to the socket. */
uint32_t vsock_credit_buffered(const struct vsock_credit *c);
/* Whether `len` more bytes from the guest fit in what we advertised. */
bool vsock_credit_rx_fits(const struct vsock_credit *c, uint32_t len);
void vsock_credit_received(struct vsock_credit *c, uint32_t len);
void vsock_credit_forwarded(struct vsock_credit *c, uint32_t n);
/* Whether the guest should hear about freed buffer without waiting for a
 * packet to carry it: a quarter of buf_alloc freed since we last told. */
bool vsock_credit_update_due(const struct vsock_credit *c);
/* The buf_alloc and fwd_cnt to put in a header we send; remembers that
 * the guest now knows this fwd_cnt. */
void vsock_credit_stamp(struct vsock_credit *c, uint32_t *buf_alloc,
			uint32_t *fwd_cnt);

#endif /* MODVMM_VSOCK_CREDIT_H */
