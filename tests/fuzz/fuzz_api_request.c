/*
 * libFuzzer target for the control socket's request path: the bytes a
 * client sends go through the framer (core/api/api_frame.c), the QMP parser
 * and the dispatcher (core/api/api_proto.c, core/api/api_cmds.c) exactly as
 * api_server.c drives them. Beyond "no crash, no sanitizer report" it
 * checks that every framed message gets one reply that is a single line
 * of JSON holding exactly one of "return" and "error".
 *
 * Built like fuzz_options.c: a real fuzzer with MODVMM_FUZZ=ON, otherwise
 * (MODVMM_FUZZ_REPLAY) a program replaying the seed corpus.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_cmds.h"
#include "api/api_frame.h"

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_api_request: broken invariant: %s\n",
			what);
		abort();
	}
}

/* Echoes its arguments: exercises building replies from client JSON. */
static int cmd_echo(void *opaque, struct mvm_api_call *call)
{
	(void)opaque;
	call->result = json_deep_copy(call->args);
	return call->result ? 0 : -ENOMEM;
}

static int cmd_fail(void *opaque, struct mvm_api_call *call)
{
	(void)opaque;
	return api_call_fail(
		call, NULL, "failed: %s",
		json_string_value(json_object_get(call->args, "why")) ?: "-");
}

static int cmd_help(void *opaque, struct mvm_api_call *call)
{
	return api_cmds_list(opaque, call, true);
}

static const char *const no_args[] = {NULL};

struct run {
	struct api_cmds *cmds;
	struct api_session sess;
};

static int on_message(void *opaque, const char *msg, size_t len)
{
	struct run *run = opaque;
	char *reply = api_dispatch(run->cmds, &run->sess, NULL, msg, len);
	size_t n;
	json_t *v;

	check(reply != NULL, "a reply for every message");
	n = strlen(reply);
	check(n >= 2 && !strcmp(reply + n - 2, "\r\n"), "CRLF-terminated");
	check(!memchr(reply, '\n', n - 1), "one line");
	v = json_loads(reply, 0, NULL);
	check(json_is_object(v), "the reply is a JSON object");
	check(!json_object_get(v, "return") != !json_object_get(v, "error"),
	      "exactly one of return and error");
	json_decref(v);
	free(reply);
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static struct api_framer fr;
	struct api_cmds cmds;
	struct run run = {.cmds = &cmds};
	struct api_cmd c[] = {
		{.name = "echo", .fn = cmd_echo},
		{.name = "dev.fail", .fn = cmd_fail, .owner = "dev"},
		{.name = "help", .fn = cmd_help, .opaque = &cmds},
		{.name = "ping",
		 .fn = cmd_echo,
		 .strict = true,
		 .args_names = no_args},
	};
	size_t chunk, off;

	if (size < 1)
		return 0;
	/* The first byte: how the client's bytes are split into reads. */
	chunk = (size_t)data[0] % 64 + 1;
	data++;
	size--;
	api_cmds_init(&cmds);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		check(api_cmds_add(&cmds, &c[i]) == 0, "registration");
	api_framer_init(&fr);
	for (off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		long r = api_framer_feed(&fr, (const char *)data + off, n,
					 on_message, &run);

		if (r == -EMSGSIZE)
			break; /* the server drops the client here */
		check(r == (long)n, "all bytes consumed");
	}
	api_cmds_free(&cmds);
	return 0;
}
