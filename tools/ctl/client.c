/* modvmm-ctl: the QMP connection; see ctl.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"

int ctl_fail(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("modvmm-ctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

json_t *ctl_recv(struct ctl_conn *c, bool *eof)
{
	*eof = false;
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);

		if (nl) {
			size_t n = (size_t)(nl - c->buf) + 1;
			json_t *v = json_loadb(c->buf, n, 0, NULL);

			memmove(c->buf, c->buf + n, c->len - n);
			c->len -= n;
			if (v)
				return v;
			continue; /* not JSON: not ours to show */
		}
		if (c->len == sizeof(c->buf)) {
			ctl_fail(CTL_USAGE, "reply too long");
			return NULL;
		}
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		int r = poll(&p, 1, c->timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return NULL;
		ssize_t got =
			read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			*eof = true;
			return NULL;
		}
		c->len += (size_t)got;
	}
}

int ctl_send(struct ctl_conn *c, json_t *msg)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	size_t len, off = 0;

	if (!text)
		return -ENOMEM;
	len = strlen(text);
	text[len++] = '\n'; /* json_dumps left room: the NUL */
	while (off < len) {
		ssize_t n = send(c->fd, text + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(text);
			return -errno;
		}
		off += (size_t)n;
	}
	free(text);
	return 0;
}

json_t *ctl_call(struct ctl_conn *c, json_t *req)
{
	bool eof;

	if (ctl_send(c, req) < 0) {
		ctl_fail(CTL_USAGE, "cannot send the request: %s",
			 strerror(errno));
		return NULL;
	}
	for (;;) {
		json_t *m = ctl_recv(c, &eof);

		if (!m) {
			ctl_fail(CTL_USAGE, "%s",
				 eof ? "the VMM closed the connection "
				       "without replying"
				     : "no reply from the VMM (timed out)");
			return NULL;
		}
		if (json_object_get(m, "return") || json_object_get(m, "error"))
			return m;
		json_decref(m); /* an event */
	}
}

int ctl_connect(struct ctl_conn *c, const char *path, int timeout_ms)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	json_t *m, *req;
	bool eof;

	c->len = 0;
	c->timeout_ms = timeout_ms;
	if (strlen(path) >= sizeof(sa.sun_path))
		return ctl_fail(CTL_USAGE, "--api-socket %s: path too long",
				path);
	memcpy(sa.sun_path, path, strlen(path));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return ctl_fail(CTL_USAGE, "cannot connect to %s: %s", path,
				strerror(errno));
	m = ctl_recv(c, &eof);
	if (m && !json_object_get(m, "QMP")) {
		/* A server that turns us away says why instead of greeting
		 * (too many clients connected, say): show its words. */
		const char *desc = json_string_value(
			json_object_get(json_object_get(m, "error"), "desc"));

		if (desc) {
			ctl_fail(CTL_USAGE,
				 "%s: the VMM refused the connection: %s", path,
				 desc);
			json_decref(m);
			return CTL_USAGE;
		}
	}
	if (!m || !json_object_get(m, "QMP")) {
		json_decref(m);
		return ctl_fail(CTL_USAGE, "%s: %s", path,
				m ? "not a QMP greeting"
				  : "no greeting from the VMM");
	}
	json_decref(m);
	req = json_pack("{s:s}", "execute", "qmp_capabilities");
	m = ctl_call(c, req);
	json_decref(req);
	if (!m)
		return CTL_USAGE;
	if (json_object_get(m, "error")) {
		json_decref(m);
		return ctl_fail(CTL_USAGE,
				"%s: capabilities negotiation "
				"refused",
				path);
	}
	json_decref(m);
	return CTL_OK;
}

void ctl_close(struct ctl_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}
