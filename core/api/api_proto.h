/*
 * The QMP wire format (docs/api.md): turning one framed message into a
 * request, and building the greeting, replies, errors and events as the
 * text that goes on the wire. Pure: used by the command dispatcher, the
 * unit tests and the fuzz target. JSON is jansson's.
 */
#ifndef MODVMM_CORE_API_PROTO_H
#define MODVMM_CORE_API_PROTO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* QMP error classes we send. */
#define API_ERR_GENERIC "GenericError"
#define API_ERR_NOT_FOUND "CommandNotFound"

/* The error reply to send: a QMP class and one line of text. */
struct api_error {
	const char *cls;
	char desc[256];
};

struct api_request {
	json_t *root;        /* owned; the whole message */
	const char *execute; /* command name, inside root */
	json_t *args;        /* borrowed, always an object (maybe empty) */
	json_t *id;          /* borrowed, or NULL: echoed in the reply */
};

/* Parses one message. 0, or -EINVAL with `err` filled as QEMU would word
 * it; req->id is kept when the message was an object with an id, so the
 * error reply can carry it (free the request either way). */
int api_parse_request(const char *text, size_t len, struct api_request *req,
		      struct api_error *err);
void api_request_free(struct api_request *req);

void api_error_set(struct api_error *err, const char *cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Wire text, "\r\n"-terminated, malloc'd; NULL on allocation failure.
 * `value` and `data` are borrowed; `id` may be NULL. */
char *api_build_greeting(int major, int minor, int micro);
char *api_build_return(json_t *value, json_t *id);
char *api_build_error(const struct api_error *err, json_t *id);
/* `ts_ns`: CLOCK_REALTIME in nanoseconds (QMP timestamps are wall time).
 * `data` may be NULL. */
char *api_build_event(const char *name, json_t *data, uint64_t ts_ns);

#endif
