/*
 * virtio-blk plugin: the io_uring engine (see blk_uring.h).
 *
 * Each request is a small state machine of SQEs, one in flight at a time:
 * IN/OUT a readv/writev, resubmitted for the rest after a short transfer;
 * FLUSH an fdatasync; DISCARD / WRITE_ZEROES one fallocate per range
 * (PUNCH_HOLE for unmap, else ZERO_RANGE, else writes of zeros where the
 * file system has neither). With direct=on, a transfer O_DIRECT refuses
 * (EINVAL: buffers or offsets the host's block layer cannot take as they
 * are) is done again through the page cache.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk_uring.h"

struct blk_uring {
	const struct blk *b;
	struct io_uring ring;
	int efd;
	unsigned inflight;     /* requests, not SQEs */
	struct blk_req *early; /* finished without an SQE, not yet reaped */
};

static const uint8_t zeros[65536];

static void append(struct blk_req **list, struct blk_req *r)
{
	r->next = NULL;
	while (*list)
		list = &(*list)->next;
	*list = r;
}

int blk_uring_start(const struct blk *b, int efd, unsigned entries,
		    struct blk_uring **out)
{
	struct blk_uring *u = calloc(1, sizeof(*u));
	int e;

	if (!u)
		return -ENOMEM;
	u->b = b;
	u->efd = efd;
	e = io_uring_queue_init(entries, &u->ring, 0);
	if (e < 0) {
		free(u);
		return e;
	}
	e = io_uring_register_eventfd(&u->ring, efd);
	if (e < 0) {
		io_uring_queue_exit(&u->ring);
		free(u);
		return e;
	}
	*out = u;
	return 0;
}

void blk_uring_stop(struct blk_uring *u, struct blk_req **done)
{
	if (!u)
		return;
	blk_uring_drain(u, done);
	io_uring_queue_exit(&u->ring);
	free(u);
}

static struct io_uring_sqe *sqe_for(struct blk_uring *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe) {
		/* The SQ ring is full: hand it to the kernel and retry. */
		io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}

static int data_fd(const struct blk *b, const struct blk_req *r)
{
	return r->buffered ? b->fd_buffered : b->fd;
}

/* Queue the next SQE of `r`; false if there is nothing more to do. */
static bool prep(struct blk_uring *u, struct blk_req *r)
{
	const struct blk *b = u->b;
	struct io_uring_sqe *sqe = sqe_for(u);

	if (!sqe) {
		r->status = BLK_S_IOERR;
		return false;
	}
	switch (r->type) {
	case BLK_T_IN:
		io_uring_prep_readv(sqe, data_fd(b, r), r->iov + r->iov_cur,
				    r->niov - r->iov_cur, r->off + r->done);
		break;
	case BLK_T_OUT:
		io_uring_prep_writev(sqe, data_fd(b, r), r->iov + r->iov_cur,
				     r->niov - r->iov_cur, r->off + r->done);
		break;
	case BLK_T_FLUSH:
		io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
		break;
	default: {
		const struct blk_range *rg = &r->range[r->stage];
		int fd = b->fd_buffered >= 0 ? b->fd_buffered : b->fd;

		if (r->zmode == 0)
			io_uring_prep_fallocate(sqe, fd,
						FALLOC_FL_PUNCH_HOLE |
							FALLOC_FL_KEEP_SIZE,
						rg->off, rg->len);
		else if (r->zmode == 1)
			io_uring_prep_fallocate(sqe, fd,
						FALLOC_FL_ZERO_RANGE |
							FALLOC_FL_KEEP_SIZE,
						rg->off, rg->len);
		else
			io_uring_prep_write(
				sqe, fd, zeros,
				rg->len - r->done < sizeof(zeros)
					? (unsigned)(rg->len - r->done)
					: (unsigned)sizeof(zeros),
				rg->off + r->done);
		break;
	}
	}
	io_uring_sqe_set_data(sqe, r);
	return true;
}

/* Range `r->stage` of a DISCARD / WRITE_ZEROES: how to start it. */
static bool start_range(struct blk_uring *u, struct blk_req *r)
{
	if (r->stage >= r->nrange) {
		r->status = BLK_S_OK;
		return false;
	}
	r->zmode = r->range[r->stage].unmap ? 0 : 1;
	r->done = 0;
	return prep(u, r);
}

void blk_uring_submit(struct blk_uring *u, struct blk_req *r)
{
	bool more;

	u->inflight++;
	r->stage = 0;
	r->done = 0;
	r->iov_cur = 0;
	if (r->type == BLK_T_DISCARD || r->type == BLK_T_WRITE_ZEROES)
		more = start_range(u, r);
	else
		more = prep(u, r);
	if (!more) {
		/* Finished without an SQE (no SQE to be had): the next reap
		 * returns it; the eventfd makes sure there is one. */
		uint64_t one = 1;

		append(&u->early, r);
		if (write(u->efd, &one, sizeof(one)) < 0) {
			/* EAGAIN: saturated, so readable anyway. */
		}
	}
}

void blk_uring_kick(struct blk_uring *u)
{
	if (io_uring_sq_ready(&u->ring))
		io_uring_submit(&u->ring);
}

/* Consume `n` transferred bytes from the request's iovecs. */
static void advance(struct blk_req *r, uint64_t n)
{
	r->done += n;
	while (n && r->iov_cur < r->niov) {
		struct iovec *v = &r->iov[r->iov_cur];
		size_t k = n < v->iov_len ? (size_t)n : v->iov_len;

		v->iov_base = (uint8_t *)v->iov_base + k;
		v->iov_len -= k;
		n -= k;
		if (v->iov_len == 0)
			r->iov_cur++;
	}
}

/* One CQE for `r`: true if `r` is finished (status set). */
static bool complete(struct blk_uring *u, struct blk_req *r, int res)
{
	const struct blk *b = u->b;

	if (res == -EINTR || res == -EAGAIN)
		return !prep(u, r);
	switch (r->type) {
	case BLK_T_IN:
	case BLK_T_OUT:
		if (res == -EINVAL && b->fd_buffered >= 0 && !r->buffered &&
		    r->iov_orig) {
			r->buffered = true;
			memcpy(r->iov, r->iov_orig, r->niov * sizeof(*r->iov));
			r->iov_cur = 0;
			r->done = 0;
			return !prep(u, r);
		}
		if (res <= 0) {
			r->status = BLK_S_IOERR; /* 0: the image shrank */
			return true;
		}
		advance(r, (uint64_t)res);
		if (r->done >= r->len) {
			r->status = BLK_S_OK;
			return true;
		}
		return !prep(u, r);
	case BLK_T_FLUSH:
		r->status = res < 0 ? BLK_S_IOERR : BLK_S_OK;
		return true;
	default:
		if (r->zmode == 0 && res < 0) {
			if (r->type == BLK_T_DISCARD)
				res = 0; /* a discard is a hint */
			else {
				r->zmode = 1;
				return !prep(u, r);
			}
		} else if (r->zmode == 1 && res < 0) {
			r->zmode = 2;
			r->done = 0;
			return !prep(u, r);
		} else if (r->zmode == 2) {
			if (res <= 0) {
				r->status = BLK_S_IOERR;
				return true;
			}
			r->done += (uint64_t)res;
			if (r->done < r->range[r->stage].len)
				return !prep(u, r);
		}
		r->stage++;
		return !start_range(u, r);
	}
}

unsigned blk_uring_reap(struct blk_uring *u, struct blk_req **done)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0, finished = 0;

	while (u->early) {
		struct blk_req *r = u->early;

		u->early = r->next;
		append(done, r);
		finished++;
	}
	io_uring_for_each_cqe(&u->ring, head, cqe)
	{
		struct blk_req *r = io_uring_cqe_get_data(cqe);

		seen++;
		if (r && complete(u, r, cqe->res)) {
			append(done, r);
			finished++;
		}
	}
	io_uring_cq_advance(&u->ring, seen);
	u->inflight -= finished;
	blk_uring_kick(u);
	return finished;
}

void blk_uring_drain(struct blk_uring *u, struct blk_req **done)
{
	blk_uring_reap(u, done);
	while (u->inflight) {
		struct io_uring_cqe *cqe;

		blk_uring_kick(u);
		if (io_uring_wait_cqe(&u->ring, &cqe) < 0)
			break;
		blk_uring_reap(u, done);
	}
}

unsigned blk_uring_inflight(const struct blk_uring *u)
{
	return u->inflight;
}
