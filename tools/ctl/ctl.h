/*
 * modvmm-ctl: the command-line client of modvmm's control socket
 * (docs/api.md). main.c reads the command line, args.c turns words into a
 * QMP request, client.c talks to the socket, print.c shows the reply.
 * Exit status: 0 success, 1 the command failed, 2 usage or connection.
 */
#ifndef MODVMM_CTL_H
#define MODVMM_CTL_H

#include <jansson.h>
#include <stdbool.h>

#define CTL_OK 0
#define CTL_CMD_ERROR 1
#define CTL_USAGE 2

struct ctl_conn {
	int fd;
	int timeout_ms;
	char buf[1 << 16];
	size_t len;
};

/* Prints "modvmm-ctl: ..." on stderr; returns `status`. */
int ctl_fail(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Connects, reads the greeting, negotiates. CTL_OK or CTL_USAGE (message
 * printed). */
int ctl_connect(struct ctl_conn *c, const char *path, int timeout_ms);
int ctl_send(struct ctl_conn *c, json_t *msg);
/* Next message from the server (events included); NULL at EOF/timeout
 * with *eof telling which. */
json_t *ctl_recv(struct ctl_conn *c, bool *eof);
/* Sends `req` and returns the reply ("return" or "error"), skipping
 * events; NULL after printing why. */
json_t *ctl_call(struct ctl_conn *c, json_t *req);
void ctl_close(struct ctl_conn *c);

/* Builds the request for words like `balloon set 1G` or `info` (see
 * docs/api.md, "modvmm-ctl"). NULL after printing a usage error. */
json_t *ctl_request_from_words(int argc, char **argv);
/* "1G" stays a string, "12" an integer, "true" a boolean, key:=JSON raw. */
json_t *ctl_word_value(const char *word);

/* Readable output of a command's result. */
void ctl_print_result(const char *command, json_t *result);
void ctl_print_event(json_t *event);

#endif
