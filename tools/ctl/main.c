/*
 * modvmm-ctl: drive a running modvmm through its control socket.
 *
 *   modvmm-ctl --api-socket PATH [--json] [--timeout SEC] COMMAND [ARGS]
 *
 * See usage() and docs/api.md. Exit status: 0 success, 1 the VMM refused
 * the command (an error reply), 2 a usage or connection error.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static void usage(FILE *f)
{
	fputs("usage: modvmm-ctl --api-socket PATH [--json] [--timeout SEC] "
	      "COMMAND [ARGS...]\n"
	      "\n"
	      "commands:\n"
	      "  info                 state, vCPUs, memory, uptime, devices\n"
	      "  pause | resume       stop / restart running guest code\n"
	      "  shutdown             stop the VM (modvmm exits 0); waits "
	      "for it\n"
	      "  devices              the devices and their resources\n"
	      "  help                 every command the VM offers, plugins' "
	      "too\n"
	      "  events               print events until the VM exits\n"
	      "  call JSON            send one request as is: "
	      "'{\"execute\":\"info\"}'\n"
	      "  DEVICE CMD [VALUE] [KEY=VALUE...]\n"
	      "                       a plugin command, DEVICE.CMD: "
	      "'balloon set 1G',\n"
	      "                       'balloon auto on floor=512M'\n"
	      "  resize --balloon SIZE\n"
	      "                       ch-remote's spelling of 'balloon set "
	      "SIZE'\n"
	      "  NAME [VALUE] [KEY=VALUE...]\n"
	      "                       any other command (query-status, ...)\n"
	      "\n"
	      "A lone VALUE is the argument \"value\"; 12 is a number, "
	      "true/false booleans,\n"
	      "anything else a string (\"1G\"); KEY:=JSON passes JSON as is.\n"
	      "--json prints the VMM's reply as one JSON object.\n"
	      "Exit status: 0 success, 1 the command failed, 2 usage or "
	      "connection error.\n",
	      f);
}

struct opts {
	const char *socket;
	bool json;
	int timeout_ms;
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"api-socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;
	char *end;

	o->timeout_ms = 30000;
	/* '+': stop at the command, so its own words are never options. */
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 't':
			o->timeout_ms = (int)(strtod(optarg, &end) * 1000);
			if (*end || o->timeout_ms <= 0)
				return ctl_fail(CTL_USAGE,
						"--timeout %s: not a positive "
						"number of seconds",
						optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("modvmm-ctl %s\n", MODVMM_VERSION);
			exit(0);
		default:
			usage(stderr);
			return CTL_USAGE;
		}
	}
	if (!o->socket)
		return ctl_fail(CTL_USAGE, "--api-socket PATH is required "
					   "(see --help)");
	if (optind >= argc)
		return ctl_fail(CTL_USAGE, "no command given (see --help)");
	return CTL_OK;
}

static json_t *request_for(int argc, char **argv)
{
	json_t *req;

	if (strcmp(argv[0], "call"))
		return ctl_request_from_words(argc, argv);
	if (argc != 2) {
		ctl_fail(CTL_USAGE, "call takes one JSON request");
		return NULL;
	}
	req = json_loads(argv[1], 0, NULL);
	if (!json_is_object(req) ||
	    !json_is_string(json_object_get(req, "execute"))) {
		json_decref(req);
		ctl_fail(CTL_USAGE,
			 "call %s: not a JSON object with "
			 "\"execute\"",
			 argv[1]);
		return NULL;
	}
	return req;
}

static int watch_events(struct ctl_conn *c, const struct opts *o)
{
	bool eof;

	c->timeout_ms = -1;
	for (;;) {
		json_t *m = ctl_recv(c, &eof);

		if (!m)
			return eof ? CTL_OK : CTL_USAGE;
		if (json_object_get(m, "event")) {
			if (o->json) {
				char *s = json_dumps(m, JSON_COMPACT);

				printf("%s\n", s ? s : "");
				fflush(stdout);
				free(s);
			} else {
				ctl_print_event(m);
			}
		}
		json_decref(m);
	}
}

/* After shutdown: the VMM closes the socket as it exits. */
static void wait_for_exit(struct ctl_conn *c)
{
	bool eof;
	json_t *m;

	while ((m = ctl_recv(c, &eof)))
		json_decref(m);
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	struct ctl_conn *c;
	json_t *req = NULL, *reply;
	const char *name;
	int status;

	signal(SIGPIPE, SIG_IGN);
	status = parse_opts(argc, argv, &o);
	if (status)
		return status;
	argc -= optind;
	argv += optind;
	if (strcmp(argv[0], "events") && !(req = request_for(argc, argv)))
		return CTL_USAGE;
	c = calloc(1, sizeof(*c));
	if (!c)
		return ctl_fail(CTL_USAGE, "out of memory");
	status = ctl_connect(c, o.socket, o.timeout_ms);
	if (status == CTL_OK && !req) {
		status = watch_events(c, &o);
	} else if (status == CTL_OK) {
		name = json_string_value(json_object_get(req, "execute"));
		reply = ctl_call(c, req);
		if (!reply) {
			status = CTL_USAGE;
		} else {
			json_t *err = json_object_get(reply, "error");

			if (o.json) {
				char *s = json_dumps(reply, JSON_COMPACT);

				printf("%s\n", s ? s : "");
				free(s);
			} else if (err) {
				ctl_fail(CTL_CMD_ERROR, "%s: %s (%s)", name,
					 json_string_value(
						 json_object_get(err, "desc")),
					 json_string_value(json_object_get(
						 err, "class")));
			} else {
				ctl_print_result(
					name, json_object_get(reply, "return"));
			}
			status = err ? CTL_CMD_ERROR : CTL_OK;
			if (!err && (!strcmp(name, "shutdown") ||
				     !strcmp(name, "quit")))
				wait_for_exit(c);
			json_decref(reply);
		}
	}
	json_decref(req);
	ctl_close(c);
	free(c);
	return status;
}
