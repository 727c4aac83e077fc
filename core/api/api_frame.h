/*
 * Splitting a control-socket byte stream into JSON messages, one client at
 * a time (api_server.c). Pure: no sockets, no JSON library, so the unit
 * tests and the fuzz target drive it directly.
 *
 * A message ends at a newline outside a JSON string, or earlier when its
 * outermost object or array closes (so clients that send no newline, as
 * some QMP libraries do, still work). A message that grows past
 * API_MAX_REQUEST bytes without ending is an error: the stream cannot be
 * framed reliably after that, and the server drops the client after
 * replying.
 */
#ifndef MODVMM_CORE_API_FRAME_H
#define MODVMM_CORE_API_FRAME_H

#include <stdbool.h>
#include <stddef.h>

/* Largest request, in bytes, excluding the newline (docs/api.md). */
#define API_MAX_REQUEST 65536

struct api_framer {
	char buf[API_MAX_REQUEST + 1]; /* +1: NUL for the JSON parser */
	size_t len;
	int depth;      /* open objects/arrays of the current message */
	bool in_string; /* inside "..." */
	bool escape;    /* the previous byte was a backslash in a string */
	bool overflow;  /* the current message passed API_MAX_REQUEST */
};

/* Called for each complete message (NUL-terminated, whitespace-only
 * messages are skipped). Return non-zero to stop feeding (the rest of the
 * input stays unconsumed). */
typedef int (*api_frame_cb)(void *opaque, const char *msg, size_t len);

void api_framer_init(struct api_framer *fr);
/* Feeds `len` bytes. Returns the number of bytes consumed (== len unless
 * the callback stopped), or -EMSGSIZE once a message is too long (the
 * framer is then stuck: drop the client). */
long api_framer_feed(struct api_framer *fr, const char *data, size_t len,
		     api_frame_cb cb, void *opaque);
/* True if part of a message is buffered (a client hanging mid-request). */
bool api_framer_pending(const struct api_framer *fr);

#endif
