/* The control socket's file; see api_socket.h. */
#define _GNU_SOURCE
#include "api/api_socket.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int fill_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

/* 0 if nothing (or a dead socket, now removed) is at `path`. */
static int clear_stale(const char *path, const struct sockaddr_un *sa,
		       struct error *err)
{
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		error_user(err,
			   "api-socket %s: exists and is not a socket; not "
			   "replacing it",
			   path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (r == 0) {
		error_user(err,
			   "api-socket %s: another VMM is serving it (a live "
			   "socket); choose another path",
			   path);
		return -EADDRINUSE;
	}
	/* Nobody listens: a VMM died without cleaning up. */
	if (errno != ECONNREFUSED)
		return -errno;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int api_socket_listen(const char *path, struct api_socket_id *id,
		      struct error *err)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old_mask;
	int fd, r;

	/* What is wrong with the path is the user's to fix: too long, a
	 * folder that is missing or not theirs, a file in the way. */
	err->kind = ERROR_NONE;
	r = fill_addr(path, &sa);
	if (r == 0)
		r = clear_stale(path, &sa, err);
	if (r < 0) {
		if (err->kind == ERROR_NONE)
			error_user(err, "api-socket %s: %s", path,
				   strerror(-r));
		return r;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		return error_host(err, r, "api-socket: %s", strerror(-r));
	}
	/* bind creates the file with the umask applied: never let it exist,
	 * even for a moment, with more than 0600. */
	old_mask = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	bool bound = r == 0;
	if (bound && (chmod(path, 0600) < 0 || listen(fd, 64) < 0 ||
		      stat(path, &st) < 0))
		r = -1;
	if (r < 0) {
		r = -errno;
		/* bind, chmod and stat fail on the user's path; only running
		 * out of memory is the host's. */
		if (r == -ENOMEM)
			error_host(err, r, "api-socket %s: %s", path,
				   strerror(-r));
		else
			error_user(err, "api-socket %s: %s", path,
				   strerror(-r));
		if (bound)
			unlink(path);
		close(fd);
		return r;
	}
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	return fd;
}

void api_socket_unlink(const char *path, const struct api_socket_id *id)
{
	struct stat st;

	if (lstat(path, &st) == 0 && st.st_dev == id->dev &&
	    st.st_ino == id->ino)
		unlink(path);
}
