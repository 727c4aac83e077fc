/* The control socket's clients and events; see api_server.h. */
#define _GNU_SOURCE
#include "api/api_server.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/api_frame.h"
#include "api/api_socket.h"
#include "log.h"

#define READ_CHUNK 16384
/* How long api_destroy keeps trying to deliver the last replies/events. */
#define FINAL_FLUSH_MS 200

struct outq {
	char *data;
	size_t off, len, cap; /* unsent bytes are data[off..len) */
};

struct client {
	struct api *api;
	struct client *next;
	int fd;
	uint32_t watched; /* epoll events registered on the loop */
	bool closing;     /* close once the output is sent */
	/* log_now_ns() of the connect, and of the first byte of the request
	 * now pending (0: none): the idle check's clocks. */
	uint64_t connected_ns, partial_ns;
	struct api_session sess;
	struct outq out;
	struct api_framer fr;
};

struct event_msg {
	struct event_msg *next;
	char *text;
};

struct api {
	struct vm *vm;
	struct api_cmds cmds;
	char *path;
	int lfd;
	struct api_socket_id id;
	int wake_fd; /* api_emit from any thread wakes the loop */
	struct client *clients;
	unsigned nclients;
	int idle_timer; /* evloop timer id, or -1 */
	pthread_mutex_t ev_lock;
	struct event_msg *ev_head, **ev_tail;
};

int api_create(struct vm *vm, struct api **out)
{
	struct api *api = calloc(1, sizeof(*api));

	if (!api)
		return -ENOMEM;
	api->vm = vm;
	api->lfd = api->wake_fd = api->idle_timer = -1;
	/* jansson seeds its hash tables from /dev/urandom at the first JSON
	 * object it makes, which may be an event long after the threads'
	 * seccomp filters forbid open(2) (the SHUTDOWN event of a guest
	 * powering off was). Seed now, while nothing is filtered. */
	json_object_seed(0);
	api_cmds_init(&api->cmds);
	pthread_mutex_init(&api->ev_lock, NULL);
	api->ev_tail = &api->ev_head;
	*out = api;
	return 0;
}

struct api_cmds *api_commands(struct api *api)
{
	return &api->cmds;
}

static int outq_append(struct outq *q, const char *s, size_t n)
{
	if (q->off && q->off == q->len)
		q->off = q->len = 0;
	if (q->len + n > q->cap) {
		size_t cap = q->cap ? q->cap : 4096;
		char *p;

		/* Compact first: what was sent is never needed again. */
		if (q->off) {
			memmove(q->data, q->data + q->off, q->len - q->off);
			q->len -= q->off;
			q->off = 0;
		}
		while (cap < q->len + n)
			cap *= 2;
		if (cap != q->cap) {
			p = realloc(q->data, cap);
			if (!p)
				return -ENOMEM;
			q->data = p;
			q->cap = cap;
		}
	}
	memcpy(q->data + q->len, s, n);
	q->len += n;
	return 0;
}

static void drop(struct client *c, const char *why)
{
	struct api *api = c->api;

	for (struct client **pp = &api->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	api->nclients--;
	if (why)
		log_info("api", "client dropped: %s", why);
	evloop_remove_fd(api->vm->loop, c->fd);
	close(c->fd);
	free(c->out.data);
	free(c);
}

/* Writes what the socket takes now. -errno if the connection is gone. */
static int flush(struct client *c)
{
	struct outq *q = &c->out;

	while (q->off < q->len) {
		ssize_t n = send(c->fd, q->data + q->off, q->len - q->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		q->off += (size_t)n;
	}
	return 0;
}

static void on_client(void *opaque, int fd, uint32_t events);

/* After any I/O: send, then drop or re-arm the client. Returns false if
 * it was dropped. */
static bool settle(struct client *c)
{
	struct outq *q = &c->out;
	uint32_t want;

	if (flush(c) < 0) {
		drop(c, "connection error");
		return false;
	}
	if (q->len - q->off > API_MAX_OUTPUT) {
		drop(c, "it does not read its replies (output queue full)");
		return false;
	}
	if (c->closing && q->off == q->len) {
		drop(c, NULL);
		return false;
	}
	/* Level-triggered: wait for input unless closing, and for room to
	 * write only while something is queued. */
	want = (c->closing ? 0 : EPOLLIN) | (q->off < q->len ? EPOLLOUT : 0);
	if (want != c->watched) {
		evloop_remove_fd(c->api->vm->loop, c->fd);
		if (evloop_add_fd(c->api->vm->loop, c->fd, want, on_client, c,
				  NULL) < 0) {
			drop(c, "cannot watch it on the event loop");
			return false;
		}
		c->watched = want;
	}
	return true;
}

static int queue_text(struct client *c, const char *text)
{
	if (!text)
		return -ENOMEM;
	return outq_append(&c->out, text, strlen(text));
}

static int on_message(void *opaque, const char *msg, size_t len)
{
	struct client *c = opaque;
	char *reply =
		api_dispatch(&c->api->cmds, &c->sess, c->api->vm, msg, len);
	int r = queue_text(c, reply);

	free(reply);
	/* Stop reading a client we cannot answer; settle() drops it. */
	if (r < 0)
		c->closing = true;
	return r < 0;
}

/* The connection is broken: nothing queued can be delivered any more. */
static void hang_up(struct client *c)
{
	c->closing = true;
	c->out.off = c->out.len;
}

static void read_input(struct client *c)
{
	char buf[READ_CHUNK];
	ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			hang_up(c);
		return;
	}
	if (n == 0) {
		/* EOF: answer what was complete, forget a half request. */
		c->closing = true;
		return;
	}
	if (!api_framer_pending(&c->fr))
		c->partial_ns = log_now_ns();
	if (api_framer_feed(&c->fr, buf, (size_t)n, on_message, c) ==
	    -EMSGSIZE) {
		struct api_error err;
		char *reply;

		api_error_set(&err, NULL,
			      "request longer than %d bytes; closing the "
			      "connection",
			      API_MAX_REQUEST);
		reply = api_build_error(&err, NULL);
		queue_text(c, reply);
		free(reply);
		c->closing = true;
	}
}

static void on_client(void *opaque, int fd, uint32_t events)
{
	struct client *c = opaque;

	(void)fd;
	if ((events & EPOLLIN) && !c->closing)
		read_input(c);
	else if (events & (EPOLLERR | EPOLLHUP))
		hang_up(c);
	settle(c);
}

static void refuse(int fd, const char *desc)
{
	struct api_error err;
	char *text;

	api_error_set(&err, NULL, "%s", desc);
	text = api_build_error(&err, NULL);
	/* Best effort: the client is being turned away anyway. */
	if (text)
		(void)!send(fd, text, strlen(text),
			    MSG_NOSIGNAL | MSG_DONTWAIT);
	free(text);
	close(fd);
}

static void on_listen(void *opaque, int lfd, uint32_t events)
{
	struct api *api = opaque;

	(void)events;
	for (int i = 0; i < 16; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *c;
		char *greeting;

		if (fd < 0)
			return;
		if (api->nclients >= API_MAX_CLIENTS) {
			refuse(fd, "too many clients connected");
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			refuse(fd, "out of memory");
			continue;
		}
		c->api = api;
		c->fd = fd;
		c->connected_ns = log_now_ns();
		api_framer_init(&c->fr);
		c->next = api->clients;
		api->clients = c;
		api->nclients++;
		greeting = api_build_greeting(0, 1, 0);
		if (queue_text(c, greeting) < 0)
			c->closing = true;
		free(greeting);
		settle(c);
	}
}

/* Moves queued events into every negotiated client's output. */
static void deliver_events(struct api *api)
{
	struct event_msg *list;

	pthread_mutex_lock(&api->ev_lock);
	list = api->ev_head;
	api->ev_head = NULL;
	api->ev_tail = &api->ev_head;
	pthread_mutex_unlock(&api->ev_lock);
	while (list) {
		struct event_msg *e = list;

		list = e->next;
		for (struct client *c = api->clients; c; c = c->next)
			if (c->sess.negotiated && !c->closing &&
			    queue_text(c, e->text) < 0)
				c->closing = true;
		free(e->text);
		free(e);
	}
}

static void on_wake(void *opaque, int fd, uint32_t events)
{
	struct api *api = opaque;
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	deliver_events(api);
	for (struct client *c = api->clients, *next; c; c = next) {
		next = c->next;
		settle(c);
	}
}

/* Why `c` should be dropped for idling, or NULL. */
static const char *idle_reason(const struct client *c, uint64_t now)
{
	const uint64_t limit = API_IDLE_TIMEOUT_MS * 1000000ULL;

	if (c->closing)
		return NULL;
	if (!c->sess.negotiated && now - c->connected_ns >= limit)
		return "no qmp_capabilities within the idle timeout";
	if (api_framer_pending(&c->fr) && now - c->partial_ns >= limit)
		return "a request left unfinished past the idle timeout";
	return NULL;
}

/* Every second: turn away clients that idle half-open (docs/api.md). */
static void on_idle_check(void *opaque)
{
	struct api *api = opaque;
	uint64_t now = log_now_ns();

	for (struct client *c = api->clients, *next; c; c = next) {
		const char *why = idle_reason(c, now);
		struct api_error err;
		char *reply;

		next = c->next;
		if (!why)
			continue;
		api_error_set(&err, NULL, "%s (%d s); closing the connection",
			      why, API_IDLE_TIMEOUT_MS / 1000);
		reply = api_build_error(&err, NULL);
		queue_text(c, reply);
		free(reply);
		c->closing = true;
		log_info("api", "client timed out: %s", why);
		settle(c);
	}
}

int api_listen(struct api *api, const char *path, struct error *err)
{
	struct evloop *loop = api->vm->loop;
	int r;

	api->path = strdup(path);
	if (!api->path)
		return error_host(err, ENOMEM, "out of memory");
	api->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (api->wake_fd < 0 ||
	    evloop_add_fd(loop, api->wake_fd, EPOLLIN, on_wake, api, NULL))
		return error_host(err, EIO, "api-socket: cannot watch events");
	r = api_socket_listen(path, &api->id, err);
	if (r < 0)
		return r;
	api->lfd = r;
	r = evloop_add_fd(loop, api->lfd, EPOLLIN, on_listen, api, NULL);
	if (r < 0)
		return error_host(err, r, "api-socket: %s", strerror(-r));
	r = evloop_add_timer(loop, 1000000000ULL, 1000000000ULL, on_idle_check,
			     api, NULL);
	if (r < 0)
		return error_host(err, EIO, "api-socket: idle timer: %s",
				  strerror(-r));
	api->idle_timer = r;
	return 0;
}

void api_emit(struct api *api, const char *name, json_t *data)
{
	struct timespec ts;
	struct event_msg *e;
	uint64_t one = 1;
	char *text;

	if (!api) {
		json_decref(data);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	text = api_build_event(name, data,
			       (uint64_t)ts.tv_sec * 1000000000ULL +
				       (uint64_t)ts.tv_nsec);
	json_decref(data);
	e = text ? calloc(1, sizeof(*e)) : NULL;
	if (!e) {
		free(text);
		log_warn("api", "event %s lost: out of memory", name);
		return;
	}
	e->text = text;
	pthread_mutex_lock(&api->ev_lock);
	*api->ev_tail = e;
	api->ev_tail = &e->next;
	pthread_mutex_unlock(&api->ev_lock);
	/* A failed write means the counter is saturated: a wake-up is
	 * pending anyway. */
	if (api->wake_fd >= 0)
		(void)!write(api->wake_fd, &one, sizeof(one));
}

void api_vm_ended(struct api *api)
{
	struct vm *vm;
	const char *reason;

	if (!api)
		return;
	vm = api->vm;
	if (vm->exit_status == VM_EXIT_GUEST_RESET) {
		/* modvmm does not reboot: a reset ends the VM (docs). */
		reason = "guest-reset";
		api_emit(api, "RESET",
			 json_pack("{s:b,s:s}", "guest", 1, "reason", reason));
	} else if (vm->exit_cause) {
		reason = vm->exit_cause;
	} else {
		reason = vm->exit_status == VM_EXIT_POWEROFF ? "guest-shutdown"
							     : "host-error";
	}
	api_emit(api, "SHUTDOWN",
		 json_pack("{s:b,s:s}", "guest", !strncmp(reason, "guest-", 6),
			   "reason", reason));
}

/* The loop has stopped: push the last replies and events out for at most
 * FINAL_FLUSH_MS, without ever blocking on one client. */
static void final_flush(struct api *api)
{
	struct pollfd pfd[API_MAX_CLIENTS];
	uint64_t deadline = log_now_ns() + FINAL_FLUSH_MS * 1000000ULL;

	deliver_events(api);
	for (;;) {
		nfds_t n = 0;
		uint64_t now = log_now_ns();

		for (struct client *c = api->clients; c && n < API_MAX_CLIENTS;
		     c = c->next) {
			if (flush(c) == 0 && c->out.off < c->out.len) {
				pfd[n] = (struct pollfd){.fd = c->fd,
							 .events = POLLOUT};
				n++;
			}
		}
		if (n == 0 || now >= deadline)
			return;
		if (poll(pfd, n, (int)((deadline - now) / 1000000ULL) + 1) <= 0)
			return;
	}
}

void api_destroy(struct api *api)
{
	if (!api)
		return;
	final_flush(api);
	while (api->clients) {
		struct client *c = api->clients;

		api->clients = c->next;
		close(c->fd);
		free(c->out.data);
		free(c);
	}
	if (api->lfd >= 0) {
		close(api->lfd);
		api_socket_unlink(api->path, &api->id);
	}
	if (api->idle_timer >= 0)
		evloop_cancel_timer(api->vm->loop, api->idle_timer);
	if (api->wake_fd >= 0)
		close(api->wake_fd);
	deliver_events(api); /* frees anything emitted since */
	pthread_mutex_destroy(&api->ev_lock);
	api_cmds_free(&api->cmds);
	free(api->path);
	free(api);
}
