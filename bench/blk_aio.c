/*
 * Which engine should virtio-blk's I/O use: a small pool of worker threads
 * doing preadv/pwritev, or io_uring? Both are driven the way the plugin
 * drives I/O: one "event-loop" thread submits requests up to a queue depth
 * and learns of completions through an eventfd it reads (the pool's
 * workers write it; io_uring signals it through io_uring_register_eventfd),
 * then resubmits. 4 KiB random reads (or writes) on a file, buffered or
 * O_DIRECT.
 *
 * Build: cc -O2 -o blk_aio bench/blk_aio.c -luring -lpthread
 * Usage: blk_aio FILE pool|uring QD SECONDS [direct] [write] [workers=N]
 * Prints one line: engine, qd, mode, IOPS, MiB/s, and the process's CPU
 * time (user+sys, all threads) per 1000 requests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define BS 4096
#define MAXQD 256

struct req {
	struct req *next;
	off_t off;
	void *buf;
};

static int fd, efd, qd, nworkers = 4;
static bool do_write;
static uint64_t nblocks, rng = 0x2545f4914f6cdd1dULL;

static off_t random_off(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (off_t)((rng % nblocks) * BS);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu(void)
{
	struct rusage r;

	getrusage(RUSAGE_SELF, &r);
	return (double)r.ru_utime.tv_sec + (double)r.ru_utime.tv_usec / 1e6 +
	       (double)r.ru_stime.tv_sec + (double)r.ru_stime.tv_usec / 1e6;
}

/* ---- worker pool ---- */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static struct req *queue, *done;
static bool stop;

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (!stop) {
		if (!queue) {
			pthread_cond_wait(&work, &lock);
			continue;
		}
		struct req *r = queue;
		uint64_t one = 1;

		queue = r->next;
		pthread_mutex_unlock(&lock);
		if ((do_write ? pwrite(fd, r->buf, BS, r->off)
			      : pread(fd, r->buf, BS, r->off)) != BS)
			abort();
		pthread_mutex_lock(&lock);
		r->next = done;
		done = r;
		if (write(efd, &one, 8) != 8)
			abort();
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void pool_submit(struct req *r)
{
	r->off = random_off();
	pthread_mutex_lock(&lock);
	r->next = queue;
	queue = r;
	pthread_cond_signal(&work);
	pthread_mutex_unlock(&lock);
}

static uint64_t run_pool(struct req *reqs, double secs)
{
	pthread_t t[64];
	uint64_t n = 0, v;
	double end = now() + secs;

	for (int i = 0; i < nworkers; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < qd; i++)
		pool_submit(&reqs[i]);
	while (now() < end) {
		if (read(efd, &v, 8) != 8)
			abort();
		pthread_mutex_lock(&lock);
		struct req *d = done;

		done = NULL;
		pthread_mutex_unlock(&lock);
		while (d) {
			struct req *next = d->next;

			n++;
			pool_submit(d);
			d = next;
		}
	}
	pthread_mutex_lock(&lock);
	stop = true;
	pthread_cond_broadcast(&work);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < nworkers; i++)
		pthread_join(t[i], NULL);
	return n;
}

/* ---- io_uring ---- */
static struct io_uring ring;

static void uring_prep(struct req *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	r->off = random_off();
	if (do_write)
		io_uring_prep_write(sqe, fd, r->buf, BS, (uint64_t)r->off);
	else
		io_uring_prep_read(sqe, fd, r->buf, BS, (uint64_t)r->off);
	io_uring_sqe_set_data(sqe, r);
}

static uint64_t run_uring(struct req *reqs, double secs)
{
	uint64_t n = 0, v;
	double end = now() + secs;

	if (io_uring_queue_init(MAXQD, &ring, 0) < 0 ||
	    io_uring_register_eventfd(&ring, efd) < 0)
		abort();
	for (int i = 0; i < qd; i++)
		uring_prep(&reqs[i]);
	io_uring_submit(&ring);
	while (now() < end) {
		struct io_uring_cqe *cqe;
		unsigned head, k = 0;

		if (read(efd, &v, 8) != 8)
			abort();
		io_uring_for_each_cqe(&ring, head, cqe)
		{
			struct req *r = io_uring_cqe_get_data(cqe);

			if (cqe->res != BS)
				abort();
			uring_prep(r);
			k++;
		}
		io_uring_cq_advance(&ring, k);
		n += k;
		io_uring_submit(&ring);
	}
	io_uring_queue_exit(&ring);
	return n;
}

int main(int argc, char **argv)
{
	struct req reqs[MAXQD];
	bool direct = false;
	double secs, t0, c0, el, c;
	uint64_t n;

	if (argc < 5) {
		fprintf(stderr,
			"usage: %s FILE pool|uring QD SECONDS [direct] "
			"[write] [workers=N]\n",
			argv[0]);
		return 2;
	}
	qd = atoi(argv[3]);
	secs = atof(argv[4]);
	for (int i = 5; i < argc; i++) {
		if (!strcmp(argv[i], "direct"))
			direct = true;
		else if (!strcmp(argv[i], "write"))
			do_write = true;
		else if (!strncmp(argv[i], "workers=", 8))
			nworkers = atoi(argv[i] + 8);
	}
	if (qd < 1 || qd > MAXQD || nworkers < 1 || nworkers > 64)
		return 2;
	fd = open(argv[1],
		  (do_write ? O_RDWR : O_RDONLY) | (direct ? O_DIRECT : 0));
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	nblocks = (uint64_t)lseek(fd, 0, SEEK_END) / BS;
	efd = eventfd(0, 0);
	for (int i = 0; i < qd; i++)
		if (posix_memalign(&reqs[i].buf, BS, BS))
			return 1;
	t0 = now();
	c0 = cpu();
	n = !strcmp(argv[2], "uring") ? run_uring(reqs, secs)
				      : run_pool(reqs, secs);
	el = now() - t0;
	c = cpu() - c0;
	printf("%-5s workers=%d qd=%-3d %s %-5s %8.0f IOPS %7.1f MiB/s  "
	       "cpu %.3f ms/1000 req\n",
	       argv[2], !strcmp(argv[2], "uring") ? 0 : nworkers, qd,
	       direct ? "direct  " : "buffered", do_write ? "write" : "read",
	       (double)n / el, (double)n * BS / el / 1048576.0,
	       c * 1000.0 / ((double)n / 1000.0));
	return 0;
}
