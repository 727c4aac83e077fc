/*
 * virtio-blk plugin: worker threads for file I/O (see blk_io.h).
 */
#define _GNU_SOURCE
#include <errno.h>
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
static void *worker(void *arg)
{
	struct blk_io *io = arg;

	pthread_mutex_lock(&io->lock);
	for (;;) {
		while (!io->head && !io->stop)
			pthread_cond_wait(&io->work, &io->lock);
		if (io->stop)
			break;
		struct blk_req *r = io->head;

		io->head = r->next;
		if (!io->head)
			io->tail = NULL;
		pthread_mutex_unlock(&io->lock);
		blk_req_execute(io->b, r);
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
	blk_req_execute(io->b, r);
	pthread_mutex_lock(&io->lock);
	io->busy++;
	finish_locked(io, r);
	pthread_mutex_unlock(&io->lock);
	signal_done(io);
#else
	pthread_mutex_lock(&io->lock);
	append(&io->head, &io->tail, r);
	io->busy++;
	pthread_cond_signal(&io->work);
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
