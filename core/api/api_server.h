/*
 * The control API of one VM (docs/api.md): the command table every plugin
 * registers into, the Unix socket the clients connect to, and the events
 * sent to them. Built by machine.c before the devices (so they can
 * register commands), listening once the event loop runs; every socket is
 * served on the event-loop thread with non-blocking I/O.
 */
#ifndef MODVMM_CORE_API_SERVER_H
#define MODVMM_CORE_API_SERVER_H

#include <jansson.h>
#include <stddef.h>

#include "api/api_cmds.h"
#include "vm.h"

/* At most this many clients at once; one more is told so and closed. */
#define API_MAX_CLIENTS 128
/* Replies and events queued for a client that does not read them; past
 * this the client is dropped rather than the VMM's memory growing. */
#define API_MAX_OUTPUT (1024 * 1024)
/* A client that has not finished qmp_capabilities this long after it
 * connected, or has sat on part of a request this long, is dropped: idle
 * half-open clients must not fill the API_MAX_CLIENTS slots. A negotiated
 * client with nothing pending may stay forever (it waits for events). */
#define API_IDLE_TIMEOUT_MS 10000

struct api;

/* An empty command table: whoever builds the machine registers the core's
 * commands (api_core_cmds.h) and the devices theirs. 0 or -ENOMEM. */
int api_create(struct vm *vm, struct api **out);
struct api_cmds *api_commands(struct api *api);

/* Creates the socket at `path` (mode 0600) and serves it on vm->loop.
 * A stale socket (nobody accepting) is replaced; a live one, or a path
 * that is not a socket, is refused: -EADDRINUSE / -EEXIST / ... with
 * `err` set to one line: the user's for the path, the host's otherwise. */
int api_listen(struct api *api, const char *path, struct error *err);

/* Queues event `name` with `data` (stolen; may be NULL) for every
 * negotiated client. Any thread. */
void api_emit(struct api *api, const char *name, json_t *data);

/* Queues the events that say how the VM ended (RESET, SHUTDOWN), from
 * vm->exit_status and vm->exit_cause. Main thread, after vm_wait_exit. */
void api_vm_ended(struct api *api);

/* After the event loop has stopped: sends what is queued (briefly, never
 * blocking on a client that does not read), closes every connection,
 * removes the socket file and frees. NULL is fine. */
void api_destroy(struct api *api);

#endif
