/*
 * virtio-vsock plugin: the host Unix sockets (listener, PATH_<port>,
 * CONNECT lines).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vsock_unix.h"

static int fill_addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path))
		return -ENAMETOOLONG;
	memcpy(a->sun_path, path, strlen(path) + 1);
	return 0;
}

static int stream_socket(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	return fd < 0 ? -errno : fd;
}

/* Is someone listening on the socket file at `a`? */
static int probe(const struct sockaddr_un *a)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int r;

	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)a, sizeof(*a)) < 0 ? -errno
								    : 0;
	close(fd);
	return r;
}

static int check_dir(const char *path, char *why, size_t whylen)
{
	char *copy = strdup(path);
	struct stat st;
	const char *dir;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	dir = dirname(copy);
	if (stat(dir, &st) < 0) {
		r = -errno;
		snprintf(why, whylen, "socket=%s: directory %s: %s", path, dir,
			 strerror(errno));
	} else if (!S_ISDIR(st.st_mode)) {
		r = -ENOTDIR;
		snprintf(why, whylen, "socket=%s: %s is not a directory", path,
			 dir);
	}
	free(copy);
	return r;
}

/* A file at the path already: a stale socket is replaced, anything else
 * is the user's to sort out. */
static int clear_path(const char *path, const struct sockaddr_un *a, char *why,
		      size_t whylen)
{
	struct stat st;
	int r;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		r = -errno;
		snprintf(why, whylen, "socket=%s: %s", path, strerror(errno));
		return r;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(why, whylen,
			 "socket=%s: exists and is not a socket (remove it "
			 "or choose another path)",
			 path);
		return -EEXIST;
	}
	r = probe(a);
	if (r == 0) {
		snprintf(why, whylen,
			 "socket=%s: in use (another process listens on it)",
			 path);
		return -EADDRINUSE;
	}
	if (r != -ECONNREFUSED) {
		snprintf(why, whylen, "socket=%s: %s", path, strerror(-r));
		return r;
	}
	if (unlink(path) < 0) {
		r = -errno;
		snprintf(why, whylen,
			 "socket=%s: cannot remove the stale "
			 "socket: %s",
			 path, strerror(errno));
		return r;
	}
	return 0;
}

int vsock_unix_listen(const char *path, char *why, size_t whylen)
{
	struct sockaddr_un a;
	int fd, r;

	if (!*path) {
		snprintf(why, whylen, "socket=: needs a path");
		return -EINVAL;
	}
	if (strlen(path) > VSOCK_PATH_MAX || fill_addr(&a, path) < 0) {
		snprintf(why, whylen,
			 "socket=%s: too long (at most %d bytes, so that "
			 "PATH_<port> fits a Unix socket address)",
			 path, VSOCK_PATH_MAX);
		return -ENAMETOOLONG;
	}
	r = check_dir(path, why, whylen);
	if (r < 0)
		return r;
	r = clear_path(path, &a, why, whylen);
	if (r < 0)
		return r;
	fd = stream_socket();
	if (fd < 0) {
		snprintf(why, whylen, "socket=%s: %s", path, strerror(-fd));
		return fd;
	}
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 64) < 0) {
		r = -errno;
		snprintf(why, whylen, "socket=%s: %s", path, strerror(errno));
		close(fd);
		return r;
	}
	return fd;
}

int vsock_unix_connect(const char *path, uint32_t port)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd, n;

	n = snprintf(a.sun_path, sizeof(a.sun_path), "%s_%u", path, port);
	if (n < 0 || (size_t)n >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	fd = stream_socket();
	if (fd < 0)
		return fd;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

int vsock_unix_parse_connect(const char *line, size_t len, uint32_t *port)
{
	static const char verb[] = "CONNECT ";
	uint64_t v = 0;
	size_t i = sizeof(verb) - 1;

	if (len <= i || memcmp(line, verb, i))
		return -EINVAL;
	for (; i < len; i++) {
		if (line[i] < '0' || line[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(line[i] - '0');
		if (v > UINT32_MAX)
			return -EINVAL;
	}
	*port = (uint32_t)v;
	return 0;
}

int vsock_unix_read_line(int fd, char *line, unsigned *len, unsigned max)
{
	char peek[64];
	ssize_t n;
	size_t take;
	char *nl;

	if (*len >= max)
		return -EINVAL;
	/* Peek first, then consume only up to the newline. */
	n = recv(fd, peek,
		 max - *len < sizeof(peek) ? max - *len : sizeof(peek),
		 MSG_PEEK | MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	if (n == 0)
		return -ECONNRESET;
	nl = memchr(peek, '\n', (size_t)n);
	take = nl ? (size_t)(nl - peek) + 1 : (size_t)n;
	n = recv(fd, line + *len, take, MSG_DONTWAIT);
	if (n != (ssize_t)take)
		return n < 0 ? -errno : -EIO;
	*len += (unsigned)take;
	if (nl) {
		line[*len - 1] = '\0';
		return 1;
	}
	return *len >= max ? -EINVAL : 0;
}
