/*
 * Control-socket commands and events. Ours: balloon.set (the balloon size,
 * as in --balloon size=), balloon.info, balloon.stats. QEMU's: `balloon`
 * (whose value is the logical VM size: RAM minus the balloon) and
 * `query-balloon`, answered as QEMU does, with QEMU's BALLOON_CHANGE event
 * whenever the guest's `actual` moves, so QMP tooling written for QEMU's
 * balloon drives this one.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "balloon_api.h"
#include "balloon_stats.h"
#include "balloon_steer.h"

static uint64_t actual_bytes(const struct balloon *b)
{
	return (uint64_t)b->actual << BALLOON_PAGE_SHIFT;
}

/* What the guest can use: RAM minus the pages it says it gave up. `actual`
 * is the guest's to write (a u32 of pages, spec 5.5.4) and may claim more
 * than RAM; it then has nothing left, never a wrapped-around size. */
static uint64_t usable_bytes(const struct balloon *b)
{
	uint64_t a = actual_bytes(b);

	return a < b->ram_size ? b->ram_size - a : 0;
}

static uint64_t target_bytes(const struct balloon *b)
{
	return (uint64_t)b->num_pages << BALLOON_PAGE_SHIFT;
}

#define CHANGE_INTERVAL_NS 1000000000ULL

/* QEMU's event: the logical VM size the guest has now. */
static void send_change(struct balloon *b)
{
	char data[64];

	snprintf(data, sizeof(data), "{\"actual\": %" PRIu64 "}",
		 usable_bytes(b));
	b->api->emit_event(b->dev, "BALLOON_CHANGE", data);
	b->change_sent_ns = balloon_now_ns();
}

static void change_timer_fired(void *opaque)
{
	struct balloon *b = opaque;

	b->change_timer = -1;
	send_change(b);
}

void balloon_actual_changed(struct balloon *b, uint32_t old_actual)
{
	uint64_t now = balloon_now_ns();
	char data[128];

	(void)old_actual;
	if (!b->api)
		return;
	if (now - b->change_sent_ns >= CHANGE_INTERVAL_NS) {
		send_change(b);
	} else if (b->change_timer < 0) {
		/* The timer sends whatever `actual` is when it fires. */
		int id = b->host->add_timer(
			b->dev, b->change_sent_ns + CHANGE_INTERVAL_NS - now, 0,
			change_timer_fired, b);

		if (id >= 0)
			b->change_timer = id;
		else
			send_change(b);
	}
	if (b->actual == b->num_pages) {
		snprintf(data, sizeof(data),
			 "{\"target\": %" PRIu64 ", \"actual\": %" PRIu64
			 ", \"ms\": %" PRIu64 "}",
			 target_bytes(b), actual_bytes(b),
			 (balloon_now_ns() - b->target_set_ns) / 1000000);
		b->api->emit_event(b->dev, "changed", data);
	}
}

static int check_size(struct balloon *b, mvm_api_call *call, uint64_t size)
{
	if (size >= b->ram_size) {
		b->api->error(call, "GenericError",
			      "balloon size %" PRIu64
			      " must be smaller than guest RAM (%" PRIu64 ")",
			      size, b->ram_size);
		return -EINVAL;
	}
	return 0;
}

/* `r` from reading the "value" argument: absent is QMP's missing-parameter
 * error. */
static int value_arg(struct balloon *b, mvm_api_call *call, int r)
{
	if (r == -ENOENT) {
		b->api->error(call, "GenericError",
			      "Parameter 'value' is missing");
		return -EINVAL;
	}
	return r;
}

static int cmd_set(void *opaque, mvm_api_call *call)
{
	struct balloon *b = opaque;
	uint64_t size;
	int r = value_arg(b, call, b->api->arg_size(call, "value", &size));

	if (r < 0 || (r = check_size(b, call, size)) < 0)
		return r;
	balloon_steer_manual(b);
	balloon_set_target(b, size);
	return 0;
}

/* QEMU's `balloon`: value is the VM's logical size (RAM - balloon). */
static int cmd_qemu_balloon(void *opaque, mvm_api_call *call)
{
	struct balloon *b = opaque;
	uint64_t value;
	int r = value_arg(b, call, b->api->arg_u64(call, "value", &value));

	if (r < 0)
		return r;
	if (value == 0 || value > b->ram_size) {
		b->api->error(call, "GenericError",
			      "Parameter 'value' expects a size between 1 and "
			      "%" PRIu64,
			      b->ram_size);
		return -EINVAL;
	}
	balloon_steer_manual(b);
	balloon_set_target(b, b->ram_size - value);
	return 0;
}

static int cmd_query_balloon(void *opaque, mvm_api_call *call)
{
	struct balloon *b = opaque;
	char json[64];

	snprintf(json, sizeof(json), "{\"actual\": %" PRIu64 "}",
		 usable_bytes(b));
	return b->api->reply_json(call, json);
}

static int cmd_info(void *opaque, mvm_api_call *call)
{
	struct balloon *b = opaque;
	const struct balloon_counters *c = &b->count;
	char json[2048], steer[1024];

	balloon_steer_json(b, steer, sizeof(steer));
	snprintf(json, sizeof(json),
		 "{\"target\": %" PRIu64 ", \"actual\": %" PRIu64
		 ", \"ram\": %" PRIu64 ", \"available\": %" PRIu64
		 ", \"features\": %" PRIu64
		 ", \"deflate_on_oom\": %s, \"free_page_reporting\": %s"
		 ", \"stats_interval\": %" PRIu64 ", \"counters\": {"
		 "\"inflated_pages\": %" PRIu64 ", \"deflated_pages\": %" PRIu64
		 ", \"reported_bytes\": %" PRIu64
		 ", \"discard_calls\": %" PRIu64
		 ", \"discarded_bytes\": %" PRIu64 ", \"bad_pfns\": %" PRIu64
		 ", \"bad_buffers\": %" PRIu64 ", \"stats_updates\": %" PRIu64
		 ", \"discard_errors\": %" PRIu64 "}, \"auto\": %s}",
		 target_bytes(b), actual_bytes(b), b->ram_size, usable_bytes(b),
		 b->vio->features(b->vdev),
		 b->opt.deflate_on_oom ? "true" : "false",
		 b->opt.free_page_reporting ? "true" : "false", b->opt.stats,
		 c->inflated_pages, c->deflated_pages, c->reported_bytes,
		 c->discard_calls, c->discarded_bytes, c->bad_pfns,
		 c->bad_buffers, c->stats_updates, c->discard_errors, steer);
	return b->api->reply_json(call, json);
}

static int cmd_stats(void *opaque, mvm_api_call *call)
{
	struct balloon *b = opaque;
	char json[4096];
	size_t n = 0;

	if (!b->opt.stats) {
		b->api->error(call, "GenericError",
			      "statistics are off: start the balloon with "
			      "stats=SECONDS");
		return -EINVAL;
	}
	n += (size_t)snprintf(
		json + n, sizeof(json) - n,
		"{\"interval\": %" PRIu64 ", \"age_ms\": ", b->opt.stats);
	if (b->stats_ns)
		n += (size_t)snprintf(json + n, sizeof(json) - n, "%" PRIu64,
				      (balloon_now_ns() - b->stats_ns) /
					      1000000);
	else
		n += (size_t)snprintf(json + n, sizeof(json) - n, "null");
	n += (size_t)snprintf(json + n, sizeof(json) - n, ", \"stats\": {");
	for (unsigned i = 0; i < b->nstats && n < sizeof(json) - 64; i++) {
		const char *name = balloon_stat_name(b->stats[i].tag);
		char num[16];

		if (!name) {
			snprintf(num, sizeof(num), "tag-%u", b->stats[i].tag);
			name = num;
		}
		n += (size_t)snprintf(json + n, sizeof(json) - n,
				      "%s\"%s\": %" PRIu64, i ? ", " : "", name,
				      b->stats[i].value);
	}
	snprintf(json + n, sizeof(json) - n, "}}");
	return b->api->reply_json(call, json);
}

/* Whether argument `key` is a JSON string. The accessors refuse a value
 * of the wrong type as an error of the call, so the type is looked up in
 * the compact arguments text before one is chosen. */
static bool arg_is_string(struct balloon *b, mvm_api_call *call,
			  const char *key)
{
	const char *json = b->api->args_json(call);
	char pat[32];

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	return json && strstr(json, pat);
}

/* "on"/"off" (modvmm-ctl's `balloon auto on`) or true/false, in `key`. */
static int on_off_arg(struct balloon *b, mvm_api_call *call, const char *key,
		      bool *on)
{
	const char *w;

	if (!arg_is_string(b, call, key))
		return b->api->arg_bool(call, key, on);
	if (b->api->arg_str(call, key, &w) < 0)
		return -EINVAL;
	if (!strcmp(w, "on") || !strcmp(w, "true")) {
		*on = true;
		return 0;
	}
	if (!strcmp(w, "off") || !strcmp(w, "false")) {
		*on = false;
		return 0;
	}
	b->api->error(call, "GenericError", "%s=%s: expected on or off", key,
		      w);
	return -EINVAL;
}

/* A size argument into *out if present; errors are the API's. */
static int size_arg(struct balloon *b, mvm_api_call *call, const char *key,
		    uint64_t *out)
{
	int r = b->api->arg_size(call, key, out);

	return r == -ENOENT ? 0 : r;
}

/* balloon.auto: change the policy's settings, any subset; the reply is
 * the policy's state as balloon.info shows it under "auto". */
static int cmd_auto(void *opaque, mvm_api_call *call)
{
	struct balloon *b = opaque;
	struct balloon_auto_cfg c = b->auto_cfg;
	const char *floor;
	char why[256], json[768];
	int r;

	if ((r = on_off_arg(b, call, "value", &c.on)) < 0 && r != -ENOENT)
		return r;
	if ((r = on_off_arg(b, call, "on", &c.on)) < 0 && r != -ENOENT)
		return r;
	if ((r = on_off_arg(b, call, "evict", &c.evict)) < 0 && r != -ENOENT)
		return r;
	if ((r = size_arg(b, call, "min", &c.min)) < 0 ||
	    (r = size_arg(b, call, "max", &c.max)) < 0 ||
	    (r = size_arg(b, call, "rate", &c.rate)) < 0)
		return r;
	r = b->api->arg_u64(call, "interval", &c.interval_s);
	if (r < 0 && r != -ENOENT)
		return r;
	if (arg_is_string(b, call, "floor") &&
	    b->api->arg_str(call, "floor", &floor) == 0) {
		if (balloon_steer_parse_floor(floor, b->ram_size, &c.floor)) {
			b->api->error(call, "GenericError",
				      "floor=%s: not a size (K/M/G/T) or a "
				      "percentage of RAM (1%% to 99%%)",
				      floor);
			return -EINVAL;
		}
	} else if ((r = size_arg(b, call, "floor", &c.floor)) < 0) {
		return r;
	}
	if (balloon_steer_check(b, &c, why, sizeof(why)) < 0) {
		b->api->error(call, "GenericError", "%s", why);
		return -EINVAL;
	}
	balloon_steer_apply(b, &c);
	balloon_steer_json(b, json, sizeof(json));
	return b->api->reply_json(call, json);
}

int balloon_api_register(struct balloon *b)
{
	const struct {
		uint32_t flags;
		const char *name, *args, *help;
		int (*handler)(void *, mvm_api_call *);
	} cmds[] = {
		{0, "set", "value: size (bytes, or a string with K/M/G/T)",
		 "set the balloon size: memory taken from the guest", cmd_set},
		{0, "info", NULL,
		 "target, actual, memory the guest can use, counters",
		 cmd_info},
		{0, "stats", NULL,
		 "the guest's memory statistics and their age", cmd_stats},
		{0, "auto",
		 "value or on, evict: on|off; min, max, floor, rate: size; "
		 "floor may be \"N%\"; interval: seconds",
		 "the steering policy: turn it on or off, change its "
		 "settings; replies with its state",
		 cmd_auto},
		{MVM_API_CMD_GLOBAL, "balloon",
		 "value: int (the VM's logical size in bytes)",
		 "QEMU's balloon command", cmd_qemu_balloon},
		{MVM_API_CMD_GLOBAL, "query-balloon", NULL,
		 "QEMU's query-balloon: the VM's logical size",
		 cmd_query_balloon},
	};

	if (!b->api)
		return 0; /* a core without a control socket: still a balloon */
	for (size_t i = 0; i < sizeof(cmds) / sizeof(*cmds); i++) {
		struct mvm_api_command c = {
			.size = sizeof(c),
			.flags = cmds[i].flags,
			.name = cmds[i].name,
			.args_help = cmds[i].args,
			.help = cmds[i].help,
			.handler = cmds[i].handler,
		};
		int r = b->api->register_command(b->dev, &c, b);

		/* A second balloon cannot own QEMU's global names; it keeps
		 * its own "<name>.set". */
		if (r == -EEXIST && (c.flags & MVM_API_CMD_GLOBAL))
			continue;
		if (r < 0) {
			b->host->fail(b->dev, "cannot register command %s: %s",
				      c.name, strerror(-r));
			return r;
		}
	}
	return 0;
}
