/*
 * virtio-vsock plugin: the host Unix sockets of hybrid vsock, as Firecracker
 * and Cloud Hypervisor lay them out. The device listens on PATH; a host
 * client connects there and writes "CONNECT <port>\n" to reach the guest's
 * listener on <port>, and is answered "OK <host port>\n". A guest
 * connecting to host port P reaches the Unix socket PATH_P, which a host
 * program must have bound and be listening on.
 *
 * Plain socket calls, no device state: the listener is made in `create`
 * (main thread); connects and line reads happen on the event loop.
 */
#ifndef MODVMM_VSOCK_UNIX_H
#define MODVMM_VSOCK_UNIX_H

#include <stddef.h>
#include <stdint.h>

/* The longest PATH we accept: PATH_<port> must fit in sun_path (108 bytes
 * with its NUL) for every port, "_4294967295" being 11 bytes. */
#define VSOCK_PATH_MAX (108 - 1 - 11)

/*
 * Listen on `path` (non-blocking). Checks what a user can get wrong, each
 * as one line in `why` naming socket=PATH: too long, its directory
 * missing, a file there that is not a socket, a socket another process
 * still listens on. A socket file nobody listens on (left by a VMM that
 * died) is replaced. Returns the fd or -errno.
 */
int vsock_unix_listen(const char *path, char *why, size_t whylen);
/* Connect (non-blocking) to PATH_<port>; the fd, or -errno (-ENOENT: no
 * such socket; -ECONNREFUSED: nobody listens; -EAGAIN: its backlog is
 * full). */
int vsock_unix_connect(const char *path, uint32_t port);
/*
 * Parse a host client's line (without its '\n'): "CONNECT <port>", the
 * port in decimal, 0..4294967295. 0 and *port, or -EINVAL.
 */
int vsock_unix_parse_connect(const char *line, size_t len, uint32_t *port);
/*
 * Read from `fd` into line[*len..max) up to and including the first '\n',
 * never past it (bytes after it are the stream's data). 1 when the line is
 * complete (the '\n' replaced by NUL), 0 when more must come, -EINVAL
 * when max bytes came without one, -ECONNRESET at EOF, or -errno.
 */
int vsock_unix_read_line(int fd, char *line, unsigned *len, unsigned max);

#endif /* MODVMM_VSOCK_UNIX_H */
