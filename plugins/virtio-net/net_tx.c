/*
 * virtio-net plugin: transmit (see net_tx.h).
 *
 * A transmit chain is the 12-byte header then the frame, all
 * device-readable, with no assumption about how they are split into
 * descriptors (virtio spec 2.6.4). The header is copied out and checked
 * (net_hdr.c) and the tap gets that copy, so the guest cannot change it
 * after the check; the frame goes to the tap straight from guest memory
 * with one writev. Anything wrong with a chain drops that one frame
 * (counted, with a rate-limited log line): the chain is still returned,
 * as the driver waits for it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "net_hdr.h"
#include "net_tx.h"

struct net_tx {
	struct iovec iov[MVM_VIRTQ_MAX_SEGS + 1];
};

int net_tx_init(struct net *n)
{
	n->tx = calloc(1, sizeof(*n->tx));
	return n->tx ? 0 : -ENOMEM;
}

void net_tx_free(struct net *n)
{
	free(n->tx);
	n->tx = NULL;
}

static void drop(struct net *n, const char *why)
{
	n->st.tx_dropped++;
	n->base.host->log_guest(n->base.dev, "transmit frame dropped: %s", why);
}

/* Host iovecs for the chain's readable bytes after the header, behind
 * iov[0]. Returns the number of iovecs, or -EFAULT. */
static int map_frame(struct net *n, const struct mvm_virtq_chain *c)
{
	struct iovec *iov = n->tx->iov;
	uint64_t skip = NET_HDR_BYTES;
	int k = 1;

	for (unsigned i = 0; i < c->nseg; i++) {
		const struct mvm_virtq_seg *s = &c->seg[i];

		if (s->writable)
			continue;
		if (skip >= s->len) {
			skip -= s->len;
			continue;
		}
		void *p = n->base.host->guest_mem(n->base.dev, s->gpa + skip,
						  s->len - skip);

		if (!p)
			return -EFAULT;
		iov[k].iov_base = p;
		iov[k].iov_len = (size_t)(s->len - skip);
		k++;
		skip = 0;
	}
	return k;
}

/* Check and send one chain. */
static void send_one(struct net *n, struct mvm_virtq *q,
		     const struct mvm_virtq_chain *c)
{
	uint8_t raw[NET_HDR_BYTES];
	struct net_hdr h;
	const char *why = NULL;
	uint64_t frame;
	int k;

	if (c->writable) {
		drop(n, "device-writable buffer in a transmit chain");
		return;
	}
	if (c->readable < NET_HDR_BYTES ||
	    n->base.vh->chain_read(q, c, 0, raw, sizeof(raw)) != sizeof(raw)) {
		drop(n, "chain shorter than the virtio-net header");
		return;
	}
	frame = c->readable - NET_HDR_BYTES;
	net_hdr_decode(raw, &h);
	if (net_hdr_check_tx(&h, frame, n->acked, &why) < 0) {
		drop(n, why);
		return;
	}
	h.num_buffers = 0;
	net_hdr_encode(&h, raw);
	k = map_frame(n, c);
	if (k < 0) {
		drop(n, "buffer outside guest RAM");
		return;
	}
	n->tx->iov[0].iov_base = raw;
	n->tx->iov[0].iov_len = sizeof(raw);
	if (writev(n->tap, n->tx->iov, k) < 0) {
		/* The kernel refused the frame (a GSO layout it rejects, a
		 * full queue): the guest's loss, as on a real wire. */
		n->st.tx_errors++;
		n->base.host->log_guest(n->base.dev, "tap write failed: %s",
					strerror(errno));
		return;
	}
	n->st.tx_frames++;
	n->st.tx_bytes += frame;
	mvm_bucket_take(&n->bw[NET_TXQ], frame);
	mvm_bucket_take(&n->ops[NET_TXQ], 1);
}

enum net_pass net_tx_process(struct net *n)
{
	struct mvm_virtq *q = n->q[NET_TXQ];
	struct mvm_virtq_chain c;
	bool pushed = false;
	uint64_t budget = n->opts.queue_size;
	enum net_pass left = NET_PASS_DONE;

	for (;;) {
		if (!mvm_bucket_ready(&n->bw[NET_TXQ]) ||
		    !mvm_bucket_ready(&n->ops[NET_TXQ])) {
			left = NET_PASS_THROTTLED; /* the rest waits in the ring
						    */
			break;
		}
		if (budget-- == 0) {
			left = NET_PASS_MORE;
			break;
		}
		if (n->base.vh->pop(q, &c) <= 0)
			break;
		send_one(n, q, &c);
		n->base.vh->push(q, &c, 0);
		pushed = true;
	}
	if (pushed)
		n->base.vh->notify(q);
	return left;
}
