/*
 * Creating and removing the control socket's file: mode 0600, a stale
 * socket left by a dead VMM replaced, a live one (or anything that is not
 * a socket) refused. Used by api_server.c.
 */
#ifndef MODVMM_CORE_API_SOCKET_H
#define MODVMM_CORE_API_SOCKET_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

struct api_socket_id {
	dev_t dev;
	ino_t ino;
};

/* A listening, non-blocking, close-on-exec socket bound at `path`, or
 * -errno with `err` set: the user's for anything about the path, the
 * host's when a socket cannot be made. */
int api_socket_listen(const char *path, struct api_socket_id *id,
		      struct error *err);
/* Removes `path` if it is still the socket we created. */
void api_socket_unlink(const char *path, const struct api_socket_id *id);

#endif
