/*
 * The event loop: one thread waiting in epoll for fds (ioeventfds, the
 * console's stdin, the control socket), timers (timerfd) and signals
 * (signalfd). Registration is thread-safe: a vCPU thread (inside a device's
 * MMIO callback) or a loop callback may add or remove entries. Each entry
 * may carry the owning device's lock, taken around its callback.
 */
#ifndef MODVMM_CORE_EVLOOP_H
#define MODVMM_CORE_EVLOOP_H

#include <pthread.h>
#include <stdint.h>

struct evloop;

typedef void (*evloop_fd_cb)(void *opaque, int fd, uint32_t events);
typedef void (*evloop_timer_cb)(void *opaque);

int evloop_create(struct evloop **out);
/* Stops the thread if running, closes timers, frees. */
void evloop_destroy(struct evloop *loop);

/* -EEXIST if fd is already watched. `lock` may be NULL. */
int evloop_add_fd(struct evloop *loop, int fd, uint32_t events, evloop_fd_cb cb,
		  void *opaque, pthread_mutex_t *lock);
int evloop_remove_fd(struct evloop *loop, int fd);

/* Returns a timer id >= 0 or -errno. period_ns 0: fires once, and is then
 * removed (fd closed, id free again): do not cancel it after it fired. */
int evloop_add_timer(struct evloop *loop, uint64_t first_ns, uint64_t period_ns,
		     evloop_timer_cb cb, void *opaque, pthread_mutex_t *lock);
int evloop_cancel_timer(struct evloop *loop, int id);

/* `init`, if set, runs first on the loop's own thread (the VMM installs
 * the thread's seccomp filter there); if it fails the thread ends at once,
 * having run no callback, and `init` has said why. */
void evloop_set_thread_init(struct evloop *loop, int (*init)(void *opaque),
			    void *opaque);
int evloop_start(struct evloop *loop);
/* Wakes the thread, waits for it to finish its current callback, joins. */
void evloop_stop(struct evloop *loop);

#endif
