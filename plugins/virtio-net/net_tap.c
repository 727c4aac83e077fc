/*
 * virtio-net plugin: opening and configuring the tap (see net_tap.h).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net_hdr.h"
#include "net_tap.h"

/* A name the kernel completes when the user gave none. */
#define DEFAULT_TAP "mvmtap%d"

static int fail_errno(struct net *n, int e, const char *what)
{
	const char *hint = "";

	if (e == EPERM || e == EACCES)
		hint = " (creating or configuring a tap needs CAP_NET_ADMIN; "
		       "or create it beforehand: ip tuntap add NAME mode tap "
		       "vnet_hdr user USER, and give its address yourself)";
	else if (e == EBUSY)
		hint = " (in use by another process)";
	else if (e == ENOENT || e == ENODEV)
		hint = " (no /dev/net/tun: modprobe tun)";
	if (n->opts.tap)
		n->base.host->fail(n->base.dev, "tap=%s: %s: %s%s", n->opts.tap,
				   what, strerror(e), hint);
	else
		n->base.host->fail(n->base.dev, "tap: %s: %s%s", what,
				   strerror(e), hint);
	return -e;
}

static int set_addr(int sock, unsigned long req, const char *ifname,
		    const char *text)
{
	struct ifreq ifr = {0};
	struct sockaddr_in sin = {.sin_family = AF_INET};

	if (inet_pton(AF_INET, text, &sin.sin_addr) != 1)
		return -EINVAL; /* net_opts checked it: cannot happen */
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
	return ioctl(sock, req, &ifr) < 0 ? -errno : 0;
}

/* The host side: address and mask if given, the MTU, link up. Each only
 * when it changes something, so that an unprivileged user's tap, set up
 * beforehand, needs no privilege here. */
static int configure(struct net *n)
{
	struct ifreq ifr = {0};
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int e = 0;

	if (sock < 0)
		return fail_errno(n, errno, "socket");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", n->ifname);
	if (n->opts.ip) {
		e = set_addr(sock, SIOCSIFADDR, n->ifname, n->opts.ip);
		if (e == 0)
			e = set_addr(sock, SIOCSIFNETMASK, n->ifname,
				     n->opts.mask);
		if (e < 0) {
			close(sock);
			return fail_errno(n, -e, "setting ip/mask");
		}
	}
	if (ioctl(sock, SIOCGIFMTU, &ifr) == 0 &&
	    (uint64_t)ifr.ifr_mtu != n->opts.mtu) {
		ifr.ifr_mtu = (int)n->opts.mtu;
		if (ioctl(sock, SIOCSIFMTU, &ifr) < 0) {
			close(sock);
			return fail_errno(n, errno, "setting the MTU");
		}
	}
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
			e = fail_errno(n, errno, "bringing the link up");
	}
	close(sock);
	return e;
}

int net_tap_open(struct net *n)
{
	struct ifreq ifr = {0};
	int hdr = NET_HDR_BYTES;

	n->tap = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (n->tap < 0)
		return fail_errno(n, errno, "/dev/net/tun");
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s",
		 n->opts.tap ? n->opts.tap : DEFAULT_TAP);
	if (ioctl(n->tap, TUNSETIFF, &ifr) < 0)
		return fail_errno(n, errno, "TUNSETIFF");
	snprintf(n->ifname, sizeof(n->ifname), "%s", ifr.ifr_name);
	if (ioctl(n->tap, TUNSETVNETHDRSZ, &hdr) < 0)
		return fail_errno(n, errno, "TUNSETVNETHDRSZ");
	/* Until a driver says what it takes: plain frames only. */
	if (net_tap_set_offload(n->tap, 0) < 0)
		return fail_errno(n, errno, "TUNSETOFFLOAD");
	return configure(n);
}

int net_tap_set_offload(int fd, uint64_t acked)
{
	unsigned off = 0;

	/* What the tap may hand us is what the guest accepts to receive
	 * (virtio spec 5.1.6.4): partial checksums, then TSO. */
	if (acked & (1ULL << NET_F_GUEST_CSUM)) {
		off |= TUN_F_CSUM;
		if (acked & (1ULL << NET_F_GUEST_TSO4))
			off |= TUN_F_TSO4;
		if (acked & (1ULL << NET_F_GUEST_TSO6))
			off |= TUN_F_TSO6;
	}
	return ioctl(fd, TUNSETOFFLOAD, off) < 0 ? -errno : 0;
}
