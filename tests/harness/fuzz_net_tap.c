/*
 * The virtio-net fuzzer's tap: net_tap.h implemented over a socketpair
 * (SOCK_SEQPACKET keeps frame boundaries as a tap does), so the fuzzer
 * needs no privileges and no network namespace. The plugin gets one end;
 * the fuzzer reads what the guest sent and writes what it receives on the
 * other (fuzz_net_peer). Offloads have nothing to configure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_net_tap.h"
#include "net_tap.h"

int fuzz_net_peer = -1;

int net_tap_open(struct net *n)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0, sv) < 0) {
		n->base.host->fail(n->base.dev, "socketpair: %d", errno);
		return -errno;
	}
	if (fuzz_net_peer >= 0)
		close(fuzz_net_peer);
	fuzz_net_peer = sv[1];
	n->tap = sv[0];
	snprintf(n->ifname, sizeof(n->ifname), "fuzz0");
	return 0;
}

int net_tap_set_offload(int fd, uint64_t acked)
{
	(void)fd;
	(void)acked;
	return 0;
}
