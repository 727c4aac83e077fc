/*
 * virtio-blk plugin: worker threads for file I/O (see blk_io.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "blk_io.h"
#include "blk_uring.h"

struct blk_io {
	const struct blk *b;
	int efd;
	pthread_mutex_t lock;
	pthread_cond_t work;              /* something queued, or stopping */
	pthread_cond_t idle;              /* busy dropped to 0 */
	struct blk_req *head, *tail;      /* queued */
	struct blk_req *done, *done_tail; /* finished */
	unsigned busy;                    /* queued + running */
	bool stop;
	bool sandbox; /* the guest runs: every worker filters itself now */
	unsigned nthreads;
	pthread_t threads[BLK_IO_WORKERS];
	struct blk_uring *u; /* the io_uring engine, or NULL */
};

static void append(struct blk_req **head, struct blk_req **tail,
		   struct blk_req *r)
{
	r->next = NULL;
	if (*tail)
		(*tail)->next = r;
	else
		*head = r;
	*tail = r;
}

/* preadv/pwritev until done; the iovecs are consumed. */
static int rw_all(int fd, bool write, struct iovec *iov, unsigned niov,
		  uint64_t off, uint64_t len)
{
	while (len) {
		ssize_t n = write ? pwritev(fd, iov, (int)niov, (off_t)off)
				  : preadv(fd, iov, (int)niov, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* the image shrank under us */
		off += (uint64_t)n;
		len -= (uint64_t)n;
		while (n > 0 && niov) {
			size_t k = (size_t)n < iov->iov_len ? (size_t)n
							    : iov->iov_len;

			iov->iov_base = (uint8_t *)iov->iov_base + k;
			iov->iov_len -= k;
			n -= (ssize_t)k;
			if (iov->iov_len == 0) {
				iov++;
				niov--;
			}
		}
	}
	return 0;
}

static int write_zeros(int fd, uint64_t off, uint64_t len)
{
	static const uint8_t zero[65536];

	while (len) {
		size_t n = len < sizeof(zero) ? (size_t)len : sizeof(zero);
		ssize_t w = pwrite(fd, zero, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	return 0;
}

static int do_range(const struct blk *b, const struct blk_range *rg,
		    bool discard)
{
	int fd = b->fd_buffered >= 0 ? b->fd_buffered : b->fd;

	/* A hole reads as zeros and gives the blocks back to the host. */
	if (rg->unmap &&
	    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)rg->off, (off_t)rg->len) == 0)
		return 0;
	if (discard)
		return 0; /* a discard is a hint: nothing to undo */
	if (fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
		      (off_t)rg->off, (off_t)rg->len) == 0)
		return 0;
	return write_zeros(fd, rg->off, rg->len);
}

/* Run `r`'s I/O on the image: a worker thread (or the caller, built with
 * BLK_IO_INLINE); no host calls. */
static void execute(const struct blk *b, struct blk_req *r)
{
	int e = 0;

	switch (r->type) {
	case BLK_T_IN:
	case BLK_T_OUT: {
		/* Keep a copy: a refused O_DIRECT attempt may have consumed
		 * part of the iovecs before failing. */
		struct iovec stack[64];
		struct iovec *copy = NULL;

		if (b->fd_buffered >= 0) {
			copy = r->niov <= 64 ? stack
					     : calloc(r->niov, sizeof(*copy));
			if (copy)
				memcpy(copy, r->iov, r->niov * sizeof(*copy));
		}
		e = rw_all(b->fd, r->type == BLK_T_OUT, r->iov, r->niov, r->off,
			   r->len);
		/* O_DIRECT refuses buffers or offsets the host's block layer
		 * cannot take as they are: do this one through the page
		 * cache. */
		if (e == -EINVAL && b->fd_buffered >= 0 && copy)
			e = rw_all(b->fd_buffered, r->type == BLK_T_OUT, copy,
				   r->niov, r->off, r->len);
		if (copy != stack)
			free(copy);
		break;
	}
	case BLK_T_FLUSH:
		e = fdatasync(b->fd) < 0 ? -errno : 0;
		if (!e && b->fd_buffered >= 0 && fdatasync(b->fd_buffered) < 0)
			e = -errno;
		break;
	case BLK_T_DISCARD:
	case BLK_T_WRITE_ZEROES:
		for (unsigned i = 0; i < r->nrange && !e; i++)
			e = do_range(b, &r->range[i], r->type == BLK_T_DISCARD);
		break;
	default:
		break;
	}
	r->status = e ? BLK_S_IOERR : BLK_S_OK;
}

static void signal_done(struct blk_io *io)
{
	uint64_t one = 1;

	/* Only fails with EAGAIN when the counter is saturated, which still
	 * leaves the fd readable. */
	if (write(io->efd, &one, sizeof(one)) < 0) {
	}
}

/* Called with io->lock held. */
static void finish_locked(struct blk_io *io, struct blk_req *r)
{
	append(&io->done, &io->done_tail, r);
	if (--io->busy == 0)
		pthread_cond_broadcast(&io->idle);
}

#ifndef BLK_IO_INLINE
/*
 * Workers start in `create`, before the core installs any seccomp filter,
 * so each puts itself under the event loop's allow-list (plus the
 * plugin's `syscalls`) once the guest runs: the first request wakes them
 * all for it (io->sandbox), since requests only come from a running guest,
 * by which time the lists exist. A worker that cannot do so serves
 * nothing unfiltered: its requests fail.
 */
enum sandbox_state { SANDBOX_NOT_YET, SANDBOX_ON, SANDBOX_FAILED };

static enum sandbox_state sandbox_self(struct blk_io *io)
{
	const struct mvm_host *host = io->b->host;
	int e;

	/* An older core has no filter for threads of plugins. */
	if (!MVM_HOST_HAS(host, sandbox_thread))
		return SANDBOX_ON;
	e = host->sandbox_thread(io->b->dev);
	if (e < 0) {
		host->log(io->b->dev, MVM_LOG_ERROR,
			  "I/O worker cannot install its seccomp filter: %s; "
			  "its requests fail",
			  strerror(-e));
		return SANDBOX_FAILED;
	}
	return SANDBOX_ON;
}

static void *worker(void *arg)
{
	struct blk_io *io = arg;
	enum sandbox_state sb = SANDBOX_NOT_YET;

	pthread_mutex_lock(&io->lock);
	for (;;) {
		while (!io->head && !io->stop &&
		       (sb != SANDBOX_NOT_YET || !io->sandbox))
			pthread_cond_wait(&io->work, &io->lock);
		if (io->stop)
			break;
		if (sb == SANDBOX_NOT_YET && io->sandbox) {
			pthread_mutex_unlock(&io->lock);
			sb = sandbox_self(io);
			pthread_mutex_lock(&io->lock);
			continue;
		}
		struct blk_req *r = io->head;

		io->head = r->next;
		if (!io->head)
			io->tail = NULL;
		pthread_mutex_unlock(&io->lock);
		if (sb == SANDBOX_ON)
			execute(io->b, r);
		else
			r->status = BLK_S_IOERR;
		pthread_mutex_lock(&io->lock);
		finish_locked(io, r);
		signal_done(io);
	}
	pthread_mutex_unlock(&io->lock);
	return NULL;
}
#endif

int blk_io_start(struct blk *b, bool uring, unsigned entries,
		 struct blk_io **out)
{
	struct blk_io *io = calloc(1, sizeof(*io));

	if (!io)
		return -ENOMEM;
	io->b = b;
	io->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (io->efd < 0) {
		int e = -errno;

		free(io);
		return e;
	}
	pthread_mutex_init(&io->lock, NULL);
	pthread_cond_init(&io->work, NULL);
	pthread_cond_init(&io->idle, NULL);
	if (uring) {
		int e = blk_uring_start(b, io->efd, entries, &io->u);

		if (e < 0) {
			blk_io_stop(io);
			return e;
		}
		*out = io;
		return 0;
	}
#ifndef BLK_IO_INLINE
	for (unsigned i = 0; i < BLK_IO_WORKERS; i++) {
		int e = pthread_create(&io->threads[i], NULL, worker, io);

		if (e) {
			blk_io_stop(io);
			return -e;
		}
		io->nthreads++;
		/* Best effort: a name shows in top and /proc. */
		pthread_setname_np(io->threads[i], "modvmm-blk-io");
	}
#endif
	*out = io;
	return 0;
}

static void free_list(struct blk_req *r)
{
	while (r) {
		struct blk_req *next = r->next;

		blk_req_free(r);
		r = next;
	}
}

void blk_io_stop(struct blk_io *io)
{
	if (!io)
		return;
	pthread_mutex_lock(&io->lock);
	io->stop = true;
	pthread_cond_broadcast(&io->work);
	pthread_mutex_unlock(&io->lock);
	for (unsigned i = 0; i < io->nthreads; i++)
		pthread_join(io->threads[i], NULL);
	if (io->u)
		blk_uring_stop(io->u, &io->done);
	free_list(io->head);
	free_list(io->done);
	close(io->efd);
	pthread_mutex_destroy(&io->lock);
	pthread_cond_destroy(&io->work);
	pthread_cond_destroy(&io->idle);
	free(io);
}

int blk_io_fd(const struct blk_io *io)
{
	return io->efd;
}

void blk_io_submit(struct blk_io *io, struct blk_req *r)
{
	if (io->u) {
		/* direct=on may redo a transfer through the page cache: keep
		 * the iovecs as they were. */
		if (io->b->fd_buffered >= 0 && r->niov &&
		    (r->type == BLK_T_IN || r->type == BLK_T_OUT)) {
			r->iov_orig = calloc(r->niov, sizeof(*r->iov));
			if (r->iov_orig)
				memcpy(r->iov_orig, r->iov,
				       r->niov * sizeof(*r->iov));
		}
		blk_uring_submit(io->u, r);
		return;
	}
#ifdef BLK_IO_INLINE
	execute(io->b, r);
	pthread_mutex_lock(&io->lock);
	io->busy++;
	finish_locked(io, r);
	pthread_mutex_unlock(&io->lock);
	signal_done(io);
#else
	pthread_mutex_lock(&io->lock);
	append(&io->head, &io->tail, r);
	io->busy++;
	if (!io->sandbox) {
		io->sandbox = true;
		pthread_cond_broadcast(&io->work);
	} else {
		pthread_cond_signal(&io->work);
	}
	pthread_mutex_unlock(&io->lock);
#endif
}

void blk_io_kick(struct blk_io *io)
{
	if (io->u)
		blk_uring_kick(io->u);
}

struct blk_req *blk_io_take_done(struct blk_io *io)
{
	uint64_t n;
	struct blk_req *list;

	if (read(io->efd, &n, sizeof(n)) < 0) {
		/* EAGAIN: nothing signalled since the last take. */
	}
	if (io->u) {
		list = io->done; /* left by a drain */
		io->done = io->done_tail = NULL;
		blk_uring_reap(io->u, &list);
		return list;
	}
	pthread_mutex_lock(&io->lock);
	list = io->done;
	io->done = io->done_tail = NULL;
	pthread_mutex_unlock(&io->lock);
	return list;
}

void blk_io_drain(struct blk_io *io)
{
	if (io->u) {
		blk_uring_drain(io->u, &io->done);
		return;
	}
	pthread_mutex_lock(&io->lock);
	while (io->busy)
		pthread_cond_wait(&io->idle, &io->lock);
	pthread_mutex_unlock(&io->lock);
}
