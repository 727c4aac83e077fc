/* epoll-based event loop thread; see evloop.h. */
#define _GNU_SOURCE
#include "evloop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"

#define EVLOOP_MAX 256

struct entry {
	bool used;
	bool is_timer;
	bool oneshot; /* a timer with no period: removed once it fired */
	int fd;
	uint32_t gen; /* bumped on removal so stale epoll events are dropped */
	evloop_fd_cb fd_cb;
	evloop_timer_cb timer_cb;
	void *opaque;
	pthread_mutex_t *lock;
};

struct evloop {
	int epfd;
	int stopfd;
	pthread_t thread;
	bool running;
	int (*init)(void *opaque);
	void *init_opaque;
	pthread_mutex_t table_lock;
	struct entry entries[EVLOOP_MAX];
};

#define STOP_TOKEN UINT64_MAX

static uint64_t make_token(int slot, uint32_t gen)
{
	return ((uint64_t)gen << 32) | (uint32_t)slot;
}

int evloop_create(struct evloop **out)
{
	struct evloop *loop = calloc(1, sizeof(*loop));
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = STOP_TOKEN};

	if (!loop)
		return -ENOMEM;
	pthread_mutex_init(&loop->table_lock, NULL);
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->epfd < 0 || loop->stopfd < 0 ||
	    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->stopfd, &ev) < 0) {
		int e = -errno;

		evloop_destroy(loop);
		return e;
	}
	*out = loop;
	return 0;
}

void evloop_destroy(struct evloop *loop)
{
	if (!loop)
		return;
	evloop_stop(loop);
	for (int i = 0; i < EVLOOP_MAX; i++)
		if (loop->entries[i].used && loop->entries[i].is_timer)
			close(loop->entries[i].fd);
	if (loop->epfd >= 0)
		close(loop->epfd);
	if (loop->stopfd >= 0)
		close(loop->stopfd);
	pthread_mutex_destroy(&loop->table_lock);
	free(loop);
}

static int find_fd(struct evloop *loop, int fd)
{
	for (int i = 0; i < EVLOOP_MAX; i++)
		if (loop->entries[i].used && loop->entries[i].fd == fd)
			return i;
	return -1;
}

static int add_entry(struct evloop *loop, const struct entry *tmpl,
		     uint32_t events)
{
	int slot = -1;
	struct epoll_event ev = {.events = events};

	pthread_mutex_lock(&loop->table_lock);
	if (find_fd(loop, tmpl->fd) >= 0) {
		pthread_mutex_unlock(&loop->table_lock);
		return -EEXIST;
	}
	for (int i = 0; i < EVLOOP_MAX; i++) {
		if (!loop->entries[i].used) {
			slot = i;
			break;
		}
	}
	if (slot < 0) {
		pthread_mutex_unlock(&loop->table_lock);
		return -ENOSPC;
	}
	uint32_t gen = loop->entries[slot].gen;
	loop->entries[slot] = *tmpl;
	loop->entries[slot].used = true;
	loop->entries[slot].gen = gen;
	ev.data.u64 = make_token(slot, gen);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, tmpl->fd, &ev) < 0) {
		int e = -errno;

		loop->entries[slot].used = false;
		pthread_mutex_unlock(&loop->table_lock);
		return e;
	}
	pthread_mutex_unlock(&loop->table_lock);
	return slot;
}

int evloop_add_fd(struct evloop *loop, int fd, uint32_t events, evloop_fd_cb cb,
		  void *opaque, pthread_mutex_t *lock)
{
	struct entry e = {
		.fd = fd, .fd_cb = cb, .opaque = opaque, .lock = lock};
	int r;

	if (fd < 0 || !cb)
		return -EINVAL;
	r = add_entry(loop, &e, events);
	return r < 0 ? r : 0;
}

static int remove_slot_locked(struct evloop *loop, int slot)
{
	struct entry *e = &loop->entries[slot];

	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, e->fd, NULL);
	if (e->is_timer)
		close(e->fd);
	e->used = false;
	e->gen++;
	return 0;
}

int evloop_remove_fd(struct evloop *loop, int fd)
{
	int slot, r = -ENOENT;

	pthread_mutex_lock(&loop->table_lock);
	slot = find_fd(loop, fd);
	if (slot >= 0 && !loop->entries[slot].is_timer)
		r = remove_slot_locked(loop, slot);
	pthread_mutex_unlock(&loop->table_lock);
	return r;
}

static void ns_to_timespec(uint64_t ns, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ns / 1000000000ULL);
	ts->tv_nsec = (long)(ns % 1000000000ULL);
}

int evloop_add_timer(struct evloop *loop, uint64_t first_ns, uint64_t period_ns,
		     evloop_timer_cb cb, void *opaque, pthread_mutex_t *lock)
{
	struct itimerspec its = {0};
	struct entry e = {.is_timer = true,
			  .oneshot = period_ns == 0,
			  .timer_cb = cb,
			  .opaque = opaque,
			  .lock = lock};
	int fd, slot;

	if (!cb)
		return -EINVAL;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	/* A zero it_value would disarm the timer: fire "now" instead. */
	ns_to_timespec(first_ns ? first_ns : 1, &its.it_value);
	ns_to_timespec(period_ns, &its.it_interval);
	if (timerfd_settime(fd, 0, &its, NULL) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	e.fd = fd;
	slot = add_entry(loop, &e, EPOLLIN);
	if (slot < 0)
		close(fd);
	return slot;
}

int evloop_cancel_timer(struct evloop *loop, int id)
{
	int r = -ENOENT;

	if (id < 0 || id >= EVLOOP_MAX)
		return -EINVAL;
	pthread_mutex_lock(&loop->table_lock);
	if (loop->entries[id].used && loop->entries[id].is_timer)
		r = remove_slot_locked(loop, id);
	pthread_mutex_unlock(&loop->table_lock);
	return r;
}

static void dispatch(struct evloop *loop, uint64_t token, uint32_t events)
{
	int slot = (int)(uint32_t)token;
	uint32_t gen = (uint32_t)(token >> 32);
	struct entry e;

	if (slot < 0 || slot >= EVLOOP_MAX)
		return;
	pthread_mutex_lock(&loop->table_lock);
	e = loop->entries[slot];
	pthread_mutex_unlock(&loop->table_lock);
	/* Removed (or replaced) since epoll_wait returned this event. */
	if (!e.used || e.gen != gen)
		return;
	if (e.is_timer) {
		uint64_t expirations;

		if (read(e.fd, &expirations, sizeof(expirations)) < 0)
			return; /* spurious wake-up: nothing expired */
	}
	if (e.lock)
		pthread_mutex_lock(e.lock);
	if (e.oneshot) {
		/* Fired: the timer is gone (the SDK's contract, as the
		 * harness keeps it), its fd closed and its id free for the
		 * callback to reuse. Removed under the owner's lock, so an
		 * owner cancelling it meanwhile (gen moved) wins and the
		 * callback does not run. */
		bool mine;

		pthread_mutex_lock(&loop->table_lock);
		mine = loop->entries[slot].used &&
		       loop->entries[slot].gen == gen;
		if (mine)
			remove_slot_locked(loop, slot);
		pthread_mutex_unlock(&loop->table_lock);
		if (!mine) {
			if (e.lock)
				pthread_mutex_unlock(e.lock);
			return;
		}
	}
	if (e.is_timer)
		e.timer_cb(e.opaque);
	else
		e.fd_cb(e.opaque, e.fd, events);
	if (e.lock)
		pthread_mutex_unlock(e.lock);
}

static void *loop_thread(void *arg)
{
	struct evloop *loop = arg;
	struct epoll_event evs[32];

	if (loop->init && loop->init(loop->init_opaque) < 0)
		return NULL;
	for (;;) {
		int n = epoll_wait(loop->epfd, evs, 32, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("evloop", "epoll_wait: %s", strerror(errno));
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u64 == STOP_TOKEN)
				return NULL;
			dispatch(loop, evs[i].data.u64, evs[i].events);
		}
	}
}

void evloop_set_thread_init(struct evloop *loop, int (*init)(void *opaque),
			    void *opaque)
{
	loop->init = init;
	loop->init_opaque = opaque;
}

int evloop_start(struct evloop *loop)
{
	int r = pthread_create(&loop->thread, NULL, loop_thread, loop);

	if (r)
		return -r;
	pthread_setname_np(loop->thread, "modvmm-evloop");
	loop->running = true;
	return 0;
}

void evloop_stop(struct evloop *loop)
{
	uint64_t one = 1;

	if (!loop->running)
		return;
	if (write(loop->stopfd, &one, sizeof(one)) < 0)
		log_error("evloop", "cannot wake the loop: %s",
			  strerror(errno));
	pthread_join(loop->thread, NULL);
	loop->running = false;
}
