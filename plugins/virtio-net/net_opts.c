/*
 * virtio-net plugin: options (see net_opts.h). Spelled as Cloud
 * Hypervisor's --net: tap, ip, mask, mac, mtu, num_queues, queue_size,
 * vhost, and its rate limiter's bw_/ops_ keys as virtio-blk has them.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_opts.h"

#define O struct net_opts

const struct mvm_option net_options[] = {
	MVM_OPTION("tap", MVM_OPT_STR, O, tap, NULL, false,
		   "tap device name: an existing tap, or created when absent "
		   "(default: the kernel's next mvmtapN)"),
	MVM_OPTION("ip", MVM_OPT_STR, O, ip, NULL, false,
		   "IPv4 address given to the tap's host side"),
	MVM_OPTION("mask", MVM_OPT_STR, O, mask, NULL, false,
		   "netmask for ip (default 255.255.255.0)"),
	MVM_OPTION("mac", MVM_OPT_STR, O, mac, NULL, false,
		   "the guest's MAC address (default: a stable locally "
		   "administered one)"),
	MVM_OPTION_RANGE("mtu", MVM_OPT_U64, O, mtu, "1500", false, 68, 65535,
			 "MTU the guest is told and the tap is set to"),
	MVM_OPTION_RANGE("num_queues", MVM_OPT_U64, O, num_queues, "2", false,
			 2, 2, "queues: one receive/transmit pair"),
	MVM_OPTION_RANGE("queue_size", MVM_OPT_U64, O, queue_size, "256", false,
			 2, 1024, "entries per queue (a power of two)"),
	MVM_OPTION("vhost", MVM_OPT_STR, O, vhost, "auto", false,
		   "on: the kernel's vhost-net moves the frames; off: modvmm "
		   "does; auto: vhost-net when /dev/vhost-net opens"),
	MVM_OPTION("bw_size", MVM_OPT_SIZE, O, bw_size, "0", false,
		   "bandwidth limit, each direction: bytes per bw_refill_time "
		   "(0: unlimited)"),
	MVM_OPTION_RANGE("bw_refill_time", MVM_OPT_U64, O, bw_refill_time,
			 "1000", false, 1, 3600000,
			 "bandwidth limit period in ms"),
	MVM_OPTION("ops_size", MVM_OPT_U64, O, ops_size, "0", false,
		   "frame limit, each direction: frames per ops_refill_time "
		   "(0: unlimited)"),
	MVM_OPTION_RANGE("ops_refill_time", MVM_OPT_U64, O, ops_refill_time,
			 "1000", false, 1, 3600000, "frame limit period in ms"),
	MVM_OPTION_END,
};

#undef O

/* "xx:xx:xx:xx:xx:xx", a unicast address other than all zeros. */
static int parse_mac(struct net *n, const char *s)
{
	static const uint8_t zero[6];

	if (strlen(s) != 17)
		goto bad;
	for (int i = 0; i < 6; i++) {
		const char byte[3] = {s[3 * i], s[3 * i + 1], 0};

		if (!isxdigit((unsigned char)byte[0]) ||
		    !isxdigit((unsigned char)byte[1]) ||
		    (i < 5 && s[3 * i + 2] != ':'))
			goto bad;
		n->mac[i] = (uint8_t)strtoul(byte, NULL, 16);
	}
	if (n->mac[0] & 1) {
		n->base.host->fail(n->base.dev, "mac=%s: a multicast address",
				   s);
		return -EINVAL;
	}
	if (!memcmp(n->mac, zero, 6)) {
		n->base.host->fail(n->base.dev, "mac=%s: all zeros", s);
		return -EINVAL;
	}
	return 0;
bad:
	n->base.host->fail(n->base.dev,
			   "mac=%s: expected six hex bytes, "
			   "like 02:00:00:00:00:01",
			   s);
	return -EINVAL;
}

static int parse_mask(struct net *n)
{
	struct in_addr a;
	uint32_t m;

	if (inet_pton(AF_INET, n->opts.mask, &a) != 1) {
		n->base.host->fail(n->base.dev, "mask=%s: not an IPv4 netmask",
				   n->opts.mask);
		return -EINVAL;
	}
	m = ntohl(a.s_addr);
	if (m & (~m >> 1)) { /* a 0 bit followed by a 1 bit */
		n->base.host->fail(n->base.dev,
				   "mask=%s: not a contiguous netmask",
				   n->opts.mask);
		return -EINVAL;
	}
	return 0;
}

int net_opts_check(struct net *n)
{
	const struct net_opts *o = &n->opts;
	struct in_addr a;

	if (o->queue_size & (o->queue_size - 1)) {
		n->base.host->fail(n->base.dev,
				   "queue_size=%llu: must be a power of two",
				   (unsigned long long)o->queue_size);
		return -EINVAL;
	}
	if (o->tap &&
	    (!*o->tap || strlen(o->tap) >= 16 || strchr(o->tap, '/'))) {
		n->base.host->fail(n->base.dev,
				   "tap=%s: a device name of 1 to 15 bytes",
				   o->tap);
		return -EINVAL;
	}
	if (o->ip && inet_pton(AF_INET, o->ip, &a) != 1) {
		n->base.host->fail(n->base.dev, "ip=%s: not an IPv4 address",
				   o->ip);
		return -EINVAL;
	}
	if (o->mask && !o->ip) {
		n->base.host->fail(n->base.dev, "mask=%s: needs ip=", o->mask);
		return -EINVAL;
	}
	if (o->ip && !o->mask)
		n->opts.mask = "255.255.255.0";
	if (o->ip && parse_mask(n) < 0)
		return -EINVAL;
	if (strcmp(o->vhost, "on") && strcmp(o->vhost, "off") &&
	    strcmp(o->vhost, "auto")) {
		n->base.host->fail(n->base.dev,
				   "vhost=%s: expected on, off or auto",
				   o->vhost);
		return -EINVAL;
	}
	if (o->mac && parse_mac(n, o->mac) < 0)
		return -EINVAL;
	return 0;
}

enum net_vhost_mode net_opts_vhost(const struct net *n)
{
	if (!strcmp(n->opts.vhost, "on"))
		return NET_VHOST_ON;
	if (!strcmp(n->opts.vhost, "off"))
		return NET_VHOST_OFF;
	return NET_VHOST_AUTO;
}

void net_opts_default_mac(struct net *n)
{
	const char *names[2] = {n->base.host->dev_name(n->base.dev), n->ifname};
	uint32_t h = 2166136261u; /* FNV-1a */

	for (int k = 0; k < 2; k++)
		for (const char *p = names[k]; p && *p; p++)
			h = (h ^ (uint8_t)*p) * 16777619u;
	/* 02: locally administered, unicast (IEEE 802 bit 1 set, bit 0
	 * clear); "mv" for modvmm. */
	n->mac[0] = 0x02;
	n->mac[1] = 'm';
	n->mac[2] = 'v';
	n->mac[3] = (uint8_t)(h >> 16);
	n->mac[4] = (uint8_t)(h >> 8);
	n->mac[5] = (uint8_t)h;
}
