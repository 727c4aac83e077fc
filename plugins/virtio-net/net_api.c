/*
 * virtio-net plugin: the `info` control command (see net_api.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <modvmm/api.h>

#include "net_api.h"

static int info(void *opaque, mvm_api_call *call)
{
	struct net *n = opaque;
	const struct net_stats *s = &n->st;
	char json[768];

	snprintf(json, sizeof(json),
		 "{\"tap\": \"%s\", \"mac\": "
		 "\"%02x:%02x:%02x:%02x:%02x:%02x\", \"vhost\": %s, "
		 "\"counters\": {\"tx_frames\": %llu, \"tx_bytes\": %llu, "
		 "\"rx_frames\": %llu, \"rx_bytes\": %llu, "
		 "\"tx_dropped\": %llu, \"tx_errors\": %llu, "
		 "\"rx_dropped\": %llu, \"rx_bad_buffers\": %llu}}",
		 n->ifname, n->mac[0], n->mac[1], n->mac[2], n->mac[3],
		 n->mac[4], n->mac[5], n->vhost_active ? "true" : "false",
		 (unsigned long long)s->tx_frames,
		 (unsigned long long)s->tx_bytes,
		 (unsigned long long)s->rx_frames,
		 (unsigned long long)s->rx_bytes,
		 (unsigned long long)s->tx_dropped,
		 (unsigned long long)s->tx_errors,
		 (unsigned long long)s->rx_dropped,
		 (unsigned long long)s->rx_bad_bufs);
	return n->base.host->api->reply_json(call, json);
}

int net_api_register(struct net *n)
{
	const struct mvm_api_host *api;
	int e;

	if (!MVM_HOST_HAS(n->base.host, api) || !n->base.host->api)
		return 0; /* a core without a control API */
	api = n->base.host->api;
	if (!MVM_HOST_HAS(api, reply_json))
		return 0;
	const struct mvm_api_command c = {
		.size = sizeof(c),
		.name = "info",
		.help = "the tap, MAC, data path (vhost) and frame counters: "
			"sent, received, dropped",
		.handler = info,
	};
	e = api->register_command(n->base.dev, &c, n);
	if (e < 0)
		n->base.host->fail(n->base.dev,
				   "cannot register command info: %s",
				   strerror(-e));
	return e;
}
