/* Control-socket message framing; see api_frame.h. */
#include "api/api_frame.h"

#include <errno.h>
#include <string.h>

void api_framer_init(struct api_framer *fr)
{
	fr->len = 0;
	fr->depth = 0;
	fr->in_string = false;
	fr->escape = false;
	fr->overflow = false;
}

bool api_framer_pending(const struct api_framer *fr)
{
	for (size_t i = 0; i < fr->len; i++)
		if (!strchr(" \t\r\n", fr->buf[i]))
			return true;
	return false;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \t\r", s[i]))
			return false;
	return true;
}

/* Hands the buffered message to the callback and starts the next one. */
static int emit(struct api_framer *fr, api_frame_cb cb, void *opaque)
{
	size_t n = fr->len;
	int r = 0;

	fr->buf[n] = '\0';
	if (!blank(fr->buf, n))
		r = cb(opaque, fr->buf, n);
	api_framer_init(fr);
	return r;
}

long api_framer_feed(struct api_framer *fr, const char *data, size_t len,
		     api_frame_cb cb, void *opaque)
{
	for (size_t i = 0; i < len; i++) {
		char c = data[i];

		if (fr->overflow)
			return -EMSGSIZE;
		if (c == '\n') {
			/* A raw newline is never valid inside a JSON string,
			 * so it ends the message whatever state it is in. */
			if (emit(fr, cb, opaque))
				return (long)i + 1;
			continue;
		}
		if (fr->len >= API_MAX_REQUEST) {
			fr->overflow = true;
			return -EMSGSIZE;
		}
		fr->buf[fr->len++] = c;
		if (fr->in_string) {
			if (fr->escape)
				fr->escape = false;
			else if (c == '\\')
				fr->escape = true;
			else if (c == '"')
				fr->in_string = false;
			continue;
		}
		if (c == '"') {
			fr->in_string = true;
		} else if (c == '{' || c == '[') {
			fr->depth++;
		} else if ((c == '}' || c == ']') && fr->depth > 0) {
			if (--fr->depth == 0 && emit(fr, cb, opaque))
				return (long)i + 1;
		}
	}
	return (long)len;
}
