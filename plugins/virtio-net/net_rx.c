/*
 * virtio-net plugin: receive (see net_rx.h).
 *
 * A frame is read from the tap, with the tap's 12-byte header, into a
 * buffer of the plugin's own, then copied into the driver's chains: one
 * chain that holds it all, or with MRG_RXBUF as many as it takes, the
 * number going into the header's num_buffers (virtio spec 5.1.6.4). Only
 * the frame's bytes are written and reported, so nothing of an earlier
 * frame reaches the guest.
 *
 * The frame is read before any chain is popped, and kept when the chains
 * run out: the tap is then not watched until the driver adds buffers, so
 * no frame is lost for want of buffers and the event loop does not spin.
 * With MRG_RXBUF the chains popped so far are held (their segments
 * copied, as a popped chain's own list lasts only to the next pop) until
 * the frame is complete.
 *
 * Hostile buffers: a chain with device-readable parts, or a first chain
 * shorter than the header, is given back empty (counted); without
 * MRG_RXBUF a chain too small for the frame drops the frame (counted) and
 * is given back empty, which Linux's driver counts as a length error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net_hdr.h"
#include "net_rx.h"

/* Most segments the chains held for one frame may have in all. */
#define RX_MAX_SEGS 4096
/* Frames moved per tap callback; the event loop calls again while the
 * tap has more, so other fds get their turn under a flood. */
#define RX_BUDGET 64

struct held {
	struct mvm_virtq_chain c; /* seg points into net_rx.segs */
	uint32_t written;
};

struct net_rx {
	uint8_t buf[NET_HDR_BYTES + NET_MAX_FRAME];
	size_t len; /* bytes in buf (header included); 0: none */
	size_t off; /* bytes already in the held chains */
	struct held *held;
	unsigned nheld, max_held;
	struct mvm_virtq_seg segs[RX_MAX_SEGS];
	unsigned nsegs;
};

int net_rx_init(struct net *n)
{
	n->rx = calloc(1, sizeof(*n->rx));
	if (!n->rx)
		return -ENOMEM;
	n->rx->max_held = (unsigned)n->opts.queue_size;
	n->rx->held = calloc(n->rx->max_held, sizeof(*n->rx->held));
	if (!n->rx->held) {
		free(n->rx);
		n->rx = NULL;
		return -ENOMEM;
	}
	return 0;
}

void net_rx_free(struct net *n)
{
	if (!n->rx)
		return;
	free(n->rx->held);
	free(n->rx);
	n->rx = NULL;
}

void net_rx_reset(struct net *n)
{
	if (!n->rx)
		return;
	n->rx->len = n->rx->off = 0;
	n->rx->nheld = n->rx->nsegs = 0;
}

static bool mrg(const struct net *n)
{
	return n->acked & (1ULL << NET_F_MRG_RXBUF);
}

/* Give every held chain back as it is (empty when dropping). */
static void push_held(struct net *n, bool drop)
{
	struct net_rx *rx = n->rx;

	for (unsigned i = 0; i < rx->nheld; i++)
		n->base.vh->push(n->q[NET_RXQ], &rx->held[i].c,
				 drop ? 0 : rx->held[i].written);
	rx->nheld = rx->nsegs = 0;
}

static void drop_frame(struct net *n, const char *why)
{
	n->st.rx_dropped++;
	n->base.host->log_guest(n->base.dev, "received frame dropped: %s", why);
	push_held(n, true);
	n->rx->len = n->rx->off = 0;
}

/* The frame is in the held chains: num_buffers, then give them back. */
static void complete(struct net *n)
{
	struct net_rx *rx = n->rx;
	uint8_t nb[2] = {(uint8_t)rx->nheld, (uint8_t)(rx->nheld >> 8)};

	n->base.vh->chain_write(n->q[NET_RXQ], &rx->held[0].c, 10, nb, 2);
	n->st.rx_frames++;
	n->st.rx_bytes += rx->len - NET_HDR_BYTES;
	mvm_bucket_take(&n->bw[NET_RXQ], rx->len - NET_HDR_BYTES);
	mvm_bucket_take(&n->ops[NET_RXQ], 1);
	push_held(n, false);
	rx->len = rx->off = 0;
}

enum fill { FILL_DONE, FILL_WAIT, FILL_DROPPED, FILL_RESET };

/* Pop chains for the frame in rx->buf until it is all placed. */
static enum fill fill(struct net *n)
{
	struct mvm_virtq *q = n->q[NET_RXQ];
	struct net_rx *rx = n->rx;
	struct mvm_virtq_chain c;

	while (rx->off < rx->len) {
		int r = n->base.vh->pop(q, &c);

		if (r < 0) {
			rx->nheld = rx->nsegs = 0; /* the queue is gone */
			rx->len = rx->off = 0;
			return FILL_RESET;
		}
		if (r == 0)
			return FILL_WAIT;
		if (c.readable ||
		    (rx->nheld == 0 && c.writable < NET_HDR_BYTES)) {
			n->st.rx_bad_bufs++;
			n->base.host->log_guest(n->base.dev,
						"receive buffer with readable "
						"parts or shorter than the "
						"header: returned empty");
			n->base.vh->push(q, &c, 0);
			continue;
		}
		if (!mrg(n) && c.writable < rx->len) {
			n->base.vh->push(q, &c, 0);
			drop_frame(n, "receive buffer too small (no "
				      "MRG_RXBUF)");
			return FILL_DROPPED;
		}
		if (rx->nheld == rx->max_held ||
		    rx->nsegs + c.nseg > RX_MAX_SEGS) {
			n->base.vh->push(q, &c, 0);
			drop_frame(n, "too many receive buffers for one frame");
			return FILL_DROPPED;
		}
		struct held *h = &rx->held[rx->nheld++];
		size_t want = rx->len - rx->off;
		size_t len = c.writable < want ? (size_t)c.writable : want;

		memcpy(&rx->segs[rx->nsegs], c.seg, c.nseg * sizeof(*c.seg));
		h->c = c;
		h->c.seg = &rx->segs[rx->nsegs];
		rx->nsegs += c.nseg;
		h->written = (uint32_t)len;
		if (n->base.vh->chain_write(q, &h->c, 0, rx->buf + rx->off,
					    len) != len) {
			drop_frame(n, "receive buffer outside guest RAM");
			return FILL_DROPPED;
		}
		rx->off += len;
	}
	return FILL_DONE;
}

/* Read the next frame from the tap. 1: read, 0: the tap is empty. */
static int read_frame(struct net *n)
{
	struct net_rx *rx = n->rx;
	ssize_t r;

	for (;;) {
		r = read(n->tap, rx->buf, sizeof(rx->buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return 0; /* EAGAIN: empty */
		if ((size_t)r < NET_HDR_BYTES + NET_ETH_HLEN)
			continue; /* nothing a guest could use */
		rx->len = (size_t)r;
		rx->off = 0;
		/* The tap's header has num_buffers 0; complete() sets it. */
		return 1;
	}
}

enum net_pass net_rx_process(struct net *n)
{
	struct net_rx *rx = n->rx;
	enum net_pass left = NET_PASS_DONE;

	for (unsigned i = 0; i < RX_BUDGET; i++) {
		if (rx->len == 0) {
			if (!mvm_bucket_ready(&n->bw[NET_RXQ]) ||
			    !mvm_bucket_ready(&n->ops[NET_RXQ])) {
				left = NET_PASS_THROTTLED;
				break;
			}
			if (!read_frame(n))
				break;
		}
		enum fill f = fill(n);

		if (f == FILL_WAIT) {
			/* Until the driver adds buffers (queue_notify). */
			left = NET_PASS_NO_BUFFERS;
			break;
		}
		if (f == FILL_RESET)
			return NET_PASS_DONE;
		if (f == FILL_DONE)
			complete(n);
	}
	/* Chains given back empty on the way count too. */
	n->base.vh->notify(n->q[NET_RXQ]);
	return left;
}
