/*
 * The virtio-net plugin through the per-plugin harness, as a guest driver
 * would use it, over a real tap device.
 *
 * The test process moves itself into a network namespace of its own
 * (unshare(CLONE_NEWNET), so it needs root or CAP_SYS_ADMIN, as CI has)
 * with IPv6 off, so that the only frames on the tap are the test's. The
 * plugin creates the tap "mvmt0" with a link-local address; the test
 * plays the network with an AF_PACKET socket bound to that tap and the
 * test's own EtherType: what the guest transmits arrives there, and what
 * the test sends there is what the guest receives. No packet leaves the
 * namespace.
 *
 * Cases: options and user errors, features and config (MAC, MTU, status),
 * the tap's host side (address, MTU), frames each way (mergeable buffers
 * included, with no byte past the frame written), then a hostile driver:
 * short and oversized frames, bad vnet headers (flags, checksum offsets,
 * GSO types and sizes, hdr_len), writable descriptors on transmit,
 * readable or too-small receive buffers, a transmit flood. Each ends as a
 * dropped frame (one log line each, nothing on the wire) or NEEDS_RESET,
 * and a good frame goes through afterwards. Last: a reset with a frame
 * half delivered, and the rate limit on the harness's virtual clock.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <modvmm/harness.h>

#include "plugin_asserts.h"

#define V1 (1ULL << MVM_VIRTIO_F_VERSION_1)
#define REG(x) MVM_VIRTIO_MMIO_##x
#define F(bit) (1ULL << (bit))
#define F_CSUM F(0)
#define F_GUEST_CSUM F(1)
#define F_MTU F(3)
#define F_MAC F(5)
#define F_GUEST_TSO4 F(7)
#define F_GUEST_TSO6 F(8)
#define F_HOST_TSO4 F(11)
#define F_HOST_TSO6 F(12)
#define F_MRG F(15)
#define F_STATUS F(16)

#define TAP "mvmt0"
#define BASE_OPTS "tap=" TAP ",ip=169.254.77.1,mask=255.255.0.0"
#define ETYPE 0x88b5 /* IEEE 802 local experimental */
#define HDR 12
#define GUARD 0xa5
#define SMALL_FRAME 60 /* bytes: the Ethernet minimum without FCS */

struct ctx {
	struct mvm_harness *h;
	struct mvm_harness_vq rx, tx;
	int sock; /* AF_PACKET on the tap, ETYPE only */
	int ifindex;
};

/* ---- the network side ---- */

static int open_sock(struct ctx *c)
{
	struct sockaddr_ll a = {.sll_family = AF_PACKET,
				.sll_protocol = htons(ETYPE)};
	int big = 8 << 20;

	c->ifindex = (int)if_nametoindex(TAP);
	assert_true(c->ifindex > 0);
	c->sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETYPE));
	assert_true(c->sock >= 0);
	a.sll_ifindex = c->ifindex;
	assert_int_equal(bind(c->sock, (struct sockaddr *)&a, sizeof(a)), 0);
	setsockopt(c->sock, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	return 0;
}

/* A frame of `len` bytes: broadcast, ETYPE, payload from `seed`. */
static void make_frame(uint8_t *f, size_t len, uint8_t seed)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x99", 6);
	f[12] = ETYPE >> 8;
	f[13] = ETYPE & 0xff;
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seed + i * 31);
}

static void net_send(struct ctx *c, const uint8_t *f, size_t len)
{
	struct sockaddr_ll a = {.sll_family = AF_PACKET,
				.sll_ifindex = c->ifindex,
				.sll_halen = 6};

	memcpy(a.sll_addr, f, 6);
	assert_int_equal(
		sendto(c->sock, f, len, 0, (struct sockaddr *)&a, sizeof(a)),
		(ssize_t)len);
}

/* A frame of `len` bytes from `seed` (make_frame, into f) arrives from
 * the network. */
static void send_frame(struct ctx *c, uint8_t *f, size_t len, uint8_t seed)
{
	make_frame(f, len, seed);
	net_send(c, f, len);
}

/* Receive one frame within `ms` (a guard against a hang, not a timing
 * assertion); -1 if none came. */
static ssize_t net_recv(struct ctx *c, uint8_t *buf, size_t len, int ms)
{
	struct pollfd p = {.fd = c->sock, .events = POLLIN};

	if (poll(&p, 1, ms) <= 0)
		return -1;
	return recv(c->sock, buf, len, MSG_DONTWAIT);
}

/* ---- the driver side ---- */

/* A test that failed half-way (cmocka jumps out) leaves its device open,
 * and with it the tap: close it before the next test wants the tap. */
static struct ctx *open_ctx;

static int open_net(struct ctx *c, const char *extra, char *why, size_t n)
{
	char opts[512];

	if (open_ctx) {
		if (open_ctx->sock > 0)
			close(open_ctx->sock);
		mvm_harness_close(open_ctx->h);
		open_ctx = NULL;
	}
	open_ctx = c;

	/* The userspace data path unless the test asks for vhost. */
	snprintf(opts, sizeof(opts), "%s%s%s%s", BASE_OPTS, *extra ? "," : "",
		 extra, strstr(extra, "vhost=") ? "" : ",vhost=off");
	return mvm_harness_open(NET_PLUGIN_PATH, opts, NULL, &c->h, why, n);
}

/* A driver that accepted `want` and set up both queues. */
static void ready_with(struct ctx *c, const char *extra, uint64_t want)
{
	char why[512];

	memset(c, 0, sizeof(*c));
	if (open_net(c, extra, why, sizeof(why)) < 0)
		fail_msg("harness open: %s", why);
	assert_int_equal(mvm_harness_virtio_negotiate(c->h, want, NULL), 0);
	assert_int_equal(mvm_harness_vq_setup(c->h, &c->rx, 0, 0), 0);
	assert_int_equal(mvm_harness_vq_setup(c->h, &c->tx, 1, 0), 0);
	assert_int_equal(mvm_harness_virtio_driver_ok(c->h), 0);
	open_sock(c);
	mvm_harness_clear_records(c->h);
}

static void ready(struct ctx *c, const char *extra)
{
	ready_with(c, extra, ~0ULL);
}

static void done(struct ctx *c)
{
	open_ctx = NULL;
	close(c->sock);
	assert_int_equal(mvm_harness_close(c->h), 0);
}

static bool needs_reset(struct ctx *c)
{
	return mvm_harness_vread(c->h, REG(STATUS)) &
	       MVM_VIRTIO_STATUS_NEEDS_RESET;
}

static size_t drops(struct ctx *c, const char *what)
{
	size_t k = 0;

	for (size_t i = 0; i < mvm_harness_nrecords(c->h); i++) {
		const struct mvm_harness_record *r =
			mvm_harness_record(c->h, i);

		if (r->kind == MVM_HREC_LOG && r->guest &&
		    strstr(r->text, what))
			k++;
	}
	return k;
}

/* A counter of the device's `info` control command. */
static uint64_t counter(struct ctx *c, const char *name)
{
	return plugin_counter(c->h, "virtio-net.info", name);
}

/* How many used entries `vq` has, taking them. */
static unsigned take_used(struct ctx *c, struct mvm_harness_vq *vq)
{
	uint32_t id, len;
	unsigned n = 0;

	while (mvm_harness_vq_used(c->h, vq, &id, &len))
		n++;
	return n;
}

/* Guest memory with a header and a frame in it. */
static uint64_t put_tx(struct ctx *c, const uint8_t hdr[HDR], const uint8_t *f,
		       size_t len)
{
	uint64_t g = mvm_harness_alloc(c->h, HDR + len, 16);
	uint8_t *p = mvm_harness_gpa(c->h, g, HDR + len);

	memcpy(p, hdr, HDR);
	memcpy(p + HDR, f, len);
	return g;
}

/* Posts `n` transmit chains of one readable descriptor each: header
 * `hdr`, then a SMALL_FRAME-byte frame made from seed 0, 1, ... n-1. */
static void post_tx_frames(struct ctx *c, const uint8_t hdr[HDR], int n)
{
	uint8_t f[SMALL_FRAME];

	for (int i = 0; i < n; i++) {
		make_frame(f, sizeof(f), (uint8_t)i);
		uint64_t g = put_tx(c, hdr, f, sizeof(f));
		struct mvm_harness_buf b = {g, HDR + sizeof(f), false};

		assert_true(mvm_harness_vq_add(c->h, &c->tx, &b, 1) >= 0);
	}
}

static void hdr_set(uint8_t h[HDR], uint8_t flags, uint8_t gso,
		    uint16_t hdr_len, uint16_t gso_size, uint16_t cstart,
		    uint16_t coff)
{
	memset(h, 0, HDR);
	h[0] = flags;
	h[1] = gso;
	memcpy(h + 2, &hdr_len, 2);
	memcpy(h + 4, &gso_size, 2);
	memcpy(h + 6, &cstart, 2);
	memcpy(h + 8, &coff, 2);
}

/* Post one transmit chain (header and frame in two descriptors), kick,
 * run; returns the used length. */
static uint32_t transmit(struct ctx *c, const uint8_t hdr[HDR],
			 const uint8_t *f, size_t len)
{
	uint64_t g = put_tx(c, hdr, f, len);
	struct mvm_harness_buf b[2] = {{g, HDR, false},
				       {g + HDR, (uint32_t)len, false}};
	uint32_t id, ulen = 0xdead;

	assert_true(mvm_harness_vq_add(c->h, &c->tx, b, 2) >= 0);
	mvm_harness_vq_kick(c->h, &c->tx);
	assert_true(mvm_harness_run(c->h) >= 0);
	assert_int_equal(mvm_harness_vq_used(c->h, &c->tx, &id, &ulen), 1);
	return ulen;
}

/* A receive buffer of `len` bytes filled with GUARD. */
static uint64_t post_rx(struct ctx *c, uint32_t len)
{
	uint64_t g = mvm_harness_alloc(c->h, len + 64, 16);
	struct mvm_harness_buf b = {g, len, true};

	memset(mvm_harness_gpa(c->h, g, len + 64), GUARD, len + 64);
	assert_true(mvm_harness_vq_add(c->h, &c->rx, &b, 1) >= 0);
	return g;
}

/* Run the loop until `n` used receive entries arrived, at most `ms`. */
static unsigned wait_rx(struct ctx *c, unsigned n, uint32_t *ids,
			uint32_t *lens, int ms)
{
	unsigned got = 0;

	for (int i = 0; i < ms && got < n; i++) {
		uint32_t id, len;

		assert_true(mvm_harness_run(c->h) >= 0);
		while (got < n &&
		       mvm_harness_vq_used(c->h, &c->rx, &id, &len)) {
			if (ids)
				ids[got] = id;
			if (lens)
				lens[got] = len;
			got++;
		}
		if (got < n) {
			struct timespec ts = {0, 1000000};

			nanosleep(&ts, NULL);
		}
	}
	return got;
}

static uint16_t le16at(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* ---- options ---- */

static void test_user_errors_name_the_key(void **state)
{
	static const struct plugin_refusal cases[] = {
		{"mac=zz", "mac=zz"},
		{"mac=01:00:00:00:00:01", "multicast"},
		{"mac=00:00:00:00:00:00", "all zeros"},
		{"mtu=67", "mtu=67"},
		{"mtu=65536", "mtu=65536"},
		{"num_queues=4", "num_queues=4"},
		{"queue_size=100", "power of two"},
		{"vhost=maybe", "vhost=maybe"},
		{"ip=1.2.3", "ip=1.2.3"},
		{"mask=255.0.0.0", "needs ip="},
		{"ip=169.254.0.1,mask=255.0.255.0", "contiguous"},
		{"tap=aaaaaaaaaaaaaaaaaaaa", "tap=aaaaaaaaaaaaaaaaaaaa"},
		{"nosuch=1", "nosuch"},
	};

	(void)state;
	assert_refused(NET_PLUGIN_PATH, cases,
		       sizeof(cases) / sizeof(cases[0]));
}

static void test_features_config_and_tap(void **state)
{
	struct ctx c;
	char why[512];
	uint8_t cfg[12];
	struct ifreq ifr = {0};
	int s;

	(void)state;
	memset(&c, 0, sizeof(c));
	if (open_net(&c, "mac=02:12:34:56:78:9a,mtu=9000", why, sizeof(why)) <
	    0)
		fail_msg("%s", why);
	uint64_t f = mvm_harness_device_features(c.h);
	uint64_t want = V1 | F_CSUM | F_GUEST_CSUM | F_MTU | F_MAC |
			F_GUEST_TSO4 | F_GUEST_TSO6 | F_HOST_TSO4 |
			F_HOST_TSO6 | F_MRG | F_STATUS;

	assert_int_equal(f & want, want);
	assert_int_equal(mvm_harness_vread(c.h, REG(DEVICE_ID)), 1);
	for (int i = 0; i < 3; i++) {
		uint32_t w = mvm_harness_vread(c.h, REG(CONFIG) + 4 * i);

		memcpy(cfg + 4 * i, &w, 4);
	}
	assert_memory_equal(cfg, "\x02\x12\x34\x56\x78\x9a", 6);
	assert_int_equal(le16at(cfg + 6), 1);     /* LINK_UP */
	assert_int_equal(le16at(cfg + 8), 1);     /* one pair */
	assert_int_equal(le16at(cfg + 10), 9000); /* mtu */

	/* The host side as Cloud Hypervisor's --net sets it. */
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), TAP);
	assert_int_equal(ioctl(s, SIOCGIFMTU, &ifr), 0);
	assert_int_equal(ifr.ifr_mtu, 9000);
	assert_int_equal(ioctl(s, SIOCGIFADDR, &ifr), 0);
	assert_string_equal(
		inet_ntoa(((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr),
		"169.254.77.1");
	assert_int_equal(ioctl(s, SIOCGIFNETMASK, &ifr), 0);
	assert_string_equal(
		inet_ntoa(((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr),
		"255.255.0.0");
	assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	assert_true(ifr.ifr_flags & IFF_UP);
	close(s);
	open_ctx = NULL;
	assert_int_equal(mvm_harness_close(c.h), 0);
}

static void read_mac(struct mvm_harness *h, uint8_t mac[6])
{
	uint32_t w0 = mvm_harness_vread(h, REG(CONFIG));
	uint32_t w1 = mvm_harness_vread(h, REG(CONFIG) + 4);

	memcpy(mac, &w0, 4);
	memcpy(mac + 4, &w1, 2);
}

static void test_info_command(void **state)
{
	struct ctx c;
	char reply[1024];

	(void)state;
	ready(&c, "mac=02:12:34:56:78:9a");
	assert_int_equal(mvm_harness_api_call(c.h, "virtio-net.info", NULL,
					      reply, sizeof(reply)),
			 0);
	assert_non_null(strstr(reply, "\"tap\":\"" TAP "\""));
	assert_non_null(strstr(reply, "\"mac\":\"02:12:34:56:78:9a\""));
	assert_non_null(strstr(reply, "\"vhost\":false"));
	assert_int_equal(counter(&c, "tx_frames"), 0);
	done(&c);
}

static void test_default_mac_is_stable_local_unicast(void **state)
{
	struct mvm_harness *h;
	uint8_t a[6], b[6];
	char why[512];

	(void)state;
	assert_int_equal(mvm_harness_open(NET_PLUGIN_PATH, BASE_OPTS, NULL, &h,
					  why, sizeof(why)),
			 0);
	read_mac(h, a);
	assert_int_equal(mvm_harness_close(h), 0);
	assert_int_equal(mvm_harness_open(NET_PLUGIN_PATH, BASE_OPTS, NULL, &h,
					  why, sizeof(why)),
			 0);
	read_mac(h, b);
	assert_int_equal(mvm_harness_close(h), 0);
	assert_memory_equal(a, b, 6);
	assert_int_equal(a[0] & 3, 2); /* locally administered, unicast */
}

static void test_tso_without_csum_is_refused(void **state)
{
	struct mvm_harness *h;
	char why[512];

	(void)state;
	assert_int_equal(mvm_harness_open(NET_PLUGIN_PATH, BASE_OPTS, NULL, &h,
					  why, sizeof(why)),
			 0);
	/* virtio spec 5.1.3.1: GUEST_TSO4 needs GUEST_CSUM, HOST_TSO4
	 * needs CSUM. */
	assert_int_equal(
		mvm_harness_virtio_negotiate(h, V1 | F_GUEST_TSO4, NULL),
		-EPROTO);
	assert_int_equal(
		mvm_harness_virtio_negotiate(h, V1 | F_HOST_TSO6, NULL),
		-EPROTO);
	assert_int_equal(mvm_harness_virtio_negotiate(
				 h, V1 | F_CSUM | F_HOST_TSO6, NULL),
			 0);
	assert_int_equal(mvm_harness_close(h), 0);
}

/* ---- frames ---- */

static void test_transmit_reaches_the_tap(void **state)
{
	struct ctx c;
	uint8_t hdr[HDR], f[1000], got[2000];

	(void)state;
	ready(&c, "");
	hdr_set(hdr, 0, 0, 0, 0, 0, 0);
	make_frame(f, sizeof(f), 1);
	assert_int_equal(transmit(&c, hdr, f, sizeof(f)), 0);
	assert_int_equal(net_recv(&c, got, sizeof(got), 5000), sizeof(f));
	assert_memory_equal(got, f, sizeof(f));
	/* With a checksum to finish at a TCP header's place (the kernel
	 * wants csum_start past an IPv4 header's length). */
	hdr_set(hdr, 1, 0, 0, 0, 34, 16);
	make_frame(f, 200, 2);
	assert_int_equal(transmit(&c, hdr, f, 200), 0);
	assert_int_equal(net_recv(&c, got, sizeof(got), 5000), 200);
	assert_int_equal(drops(&c, "dropped"), 0);
	assert_counters(c.h, "virtio-net.info",
			PLUGIN_COUNTS({"tx_frames", 2}, {"tx_bytes", 1200},
				      {"tx_dropped", 0}));
	done(&c);
}

static void test_receive_with_mergeable_buffers(void **state)
{
	struct ctx c;
	uint8_t f[150];
	uint64_t g[4];
	uint32_t ids[3], lens[3];

	(void)state;
	ready(&c, "");
	for (int i = 0; i < 4; i++)
		g[i] = post_rx(&c, 64);
	mvm_harness_vq_kick(c.h, &c.rx);
	send_frame(&c, f, sizeof(f), 7);
	assert_int_equal(wait_rx(&c, 3, ids, lens, 5000), 3);
	/* 12 + 150 bytes: 64 + 64 + 34, num_buffers 3. */
	assert_int_equal(lens[0], 64);
	assert_int_equal(lens[1], 64);
	assert_int_equal(lens[2], 34);
	uint8_t *b0 = mvm_harness_gpa(c.h, g[0], 64);
	uint8_t *b1 = mvm_harness_gpa(c.h, g[1], 64);
	uint8_t *b2 = mvm_harness_gpa(c.h, g[2], 64 + 64);

	assert_int_equal(le16at(b0 + 10), 3);
	assert_memory_equal(b0 + HDR, f, 52);
	assert_memory_equal(b1, f + 52, 64);
	assert_memory_equal(b2, f + 116, 34);
	/* Nothing written past the frame. */
	for (int i = 34; i < 128; i++)
		assert_int_equal(b2[i], GUARD);
	assert_int_equal(mvm_harness_vq_used(c.h, &c.rx, &ids[0], &lens[0]), 0);
	done(&c);
}

static void test_receive_waits_for_buffers(void **state)
{
	struct ctx c;
	uint8_t f[100];
	uint32_t lens[1];
	uint64_t g;

	(void)state;
	ready(&c, "");
	send_frame(&c, f, sizeof(f), 9);
	assert_int_equal(wait_rx(&c, 1, NULL, lens, 200), 0);
	/* The frame was kept, not lost: the first buffer gets it. */
	g = post_rx(&c, 2048);
	mvm_harness_vq_kick(c.h, &c.rx);
	assert_int_equal(wait_rx(&c, 1, NULL, lens, 5000), 1);
	assert_int_equal(lens[0], HDR + sizeof(f));
	assert_memory_equal((uint8_t *)mvm_harness_gpa(c.h, g, 200) + HDR, f,
			    sizeof(f));
	done(&c);
}

static void test_small_buffer_without_mrg_drops_frame(void **state)
{
	struct ctx c;
	uint8_t f[300];
	uint32_t lens[1];
	uint64_t g;

	(void)state;
	ready_with(&c, "", V1 | F_MAC);
	post_rx(&c, 100);
	mvm_harness_vq_kick(c.h, &c.rx);
	send_frame(&c, f, sizeof(f), 3);
	assert_int_equal(wait_rx(&c, 1, NULL, lens, 5000), 1);
	assert_int_equal(lens[0], 0);
	assert_int_equal(drops(&c, "too small"), 1);
	assert_counters(c.h, "virtio-net.info",
			PLUGIN_COUNTS({"rx_dropped", 1}, {"rx_frames", 0}));
	g = post_rx(&c, 1600);
	mvm_harness_vq_kick(c.h, &c.rx);
	send_frame(&c, f, sizeof(f), 4);
	assert_int_equal(wait_rx(&c, 1, NULL, lens, 5000), 1);
	assert_int_equal(lens[0], HDR + sizeof(f));
	uint8_t *b = mvm_harness_gpa(c.h, g, 1600);

	assert_int_equal(le16at(b + 10), 1); /* num_buffers */
	assert_memory_equal(b + HDR, f, sizeof(f));
	done(&c);
}

/* ---- a hostile driver ---- */

static void test_bad_transmit_headers_are_dropped(void **state)
{
	static const struct {
		uint8_t flags, gso;
		uint16_t hdr_len, gso_size, cstart, coff;
		size_t len;
		const char *why;
	} cases[] = {
		{0, 0, 0, 0, 0, 0, 13, "shorter than an Ethernet"},
		{0, 0, 0, 0, 0, 0, 65554, "longer than 64 KiB"},
		{2, 0, 0, 0, 0, 0, 100, "flags"},           /* DATA_VALID */
		{4, 0, 0, 0, 0, 0, 100, "flags"},           /* RSC_INFO */
		{1, 0, 0, 0, 90, 9, 100, "past the frame"}, /* csum at 99 */
		{1, 0, 0, 0, 0xffff, 0xffff, 100, "past the frame"},
		{0, 1, 54, 1448, 0, 0, 100, "without NEEDS_CSUM"},
		{1, 1, 54, 0, 34, 16, 100, "gso_size 0"},
		{1, 3, 42, 1000, 34, 6, 100, "GSO type"},  /* UDP */
		{1, 0x81, 54, 1448, 34, 16, 100, "ECN"},   /* TCPV4|ECN */
		{1, 7, 54, 1448, 34, 16, 100, "GSO type"}, /* unknown */
		{1, 1, 101, 1448, 34, 16, 100, "hdr_len"},
	};
	struct ctx c;
	uint8_t hdr[HDR], got[2000];
	static uint8_t f[65554];

	(void)state;
	ready(&c, "");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mvm_harness_clear_records(c.h);
		hdr_set(hdr, cases[i].flags, cases[i].gso, cases[i].hdr_len,
			cases[i].gso_size, cases[i].cstart, cases[i].coff);
		make_frame(f, cases[i].len, (uint8_t)i);
		assert_int_equal(transmit(&c, hdr, f, cases[i].len), 0);
		if (drops(&c, cases[i].why) != 1)
			fail_msg("case %zu: no drop logged for \"%s\"", i,
				 cases[i].why);
		assert_false(needs_reset(&c));
	}
	/* Nothing reached the wire; a good frame still does. */
	hdr_set(hdr, 0, 0, 0, 0, 0, 0);
	make_frame(f, 64, 0x42);
	assert_int_equal(transmit(&c, hdr, f, 64), 0);
	assert_int_equal(net_recv(&c, got, sizeof(got), 5000), 64);
	assert_memory_equal(got, f, 64);
	assert_int_equal(net_recv(&c, got, sizeof(got), 0), -1);
	assert_int_equal(counter(&c, "tx_dropped"),
			 sizeof(cases) / sizeof(cases[0]));
	assert_int_equal(counter(&c, "tx_frames"), 1);
	done(&c);
}

static void test_csum_without_negotiation_is_dropped(void **state)
{
	struct ctx c;
	uint8_t hdr[HDR], f[100], got[200];

	(void)state;
	ready_with(&c, "", V1 | F_MAC | F_MRG);
	hdr_set(hdr, 1, 0, 0, 0, 14, 4);
	make_frame(f, sizeof(f), 1);
	assert_int_equal(transmit(&c, hdr, f, sizeof(f)), 0);
	assert_int_equal(drops(&c, "without CSUM"), 1);
	/* GSO, not negotiated either. */
	hdr_set(hdr, 1, 1, 54, 1448, 34, 16);
	assert_int_equal(transmit(&c, hdr, f, sizeof(f)), 0);
	assert_int_equal(drops(&c, "dropped"), 2);
	assert_int_equal(net_recv(&c, got, sizeof(got), 0), -1);
	done(&c);
}

static void test_short_and_wrong_direction_tx_chains(void **state)
{
	struct ctx c;
	uint8_t got[2000], f[64];
	uint64_t g = 0;
	uint32_t id, len;

	(void)state;
	ready(&c, "");
	/* Only 8 bytes: no room for the header. */
	{
		struct mvm_harness_buf b = {mvm_harness_alloc(c.h, 8, 8), 8,
					    false};

		assert_true(mvm_harness_vq_add(c.h, &c.tx, &b, 1) >= 0);
	}
	/* A frame with a device-writable buffer in it. */
	{
		uint8_t hdr[HDR];

		hdr_set(hdr, 0, 0, 0, 0, 0, 0);
		make_frame(f, sizeof(f), 5);
		g = put_tx(&c, hdr, f, sizeof(f));
		struct mvm_harness_buf b[2] = {{g, HDR + 32, false},
					       {g + HDR + 32, 32, true}};

		assert_true(mvm_harness_vq_add(c.h, &c.tx, b, 2) >= 0);
	}
	mvm_harness_vq_kick(c.h, &c.tx);
	assert_true(mvm_harness_run(c.h) >= 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(mvm_harness_vq_used(c.h, &c.tx, &id, &len), 1);
		assert_int_equal(len, 0);
	}
	assert_int_equal(drops(&c, "shorter than the virtio-net header"), 1);
	assert_int_equal(drops(&c, "device-writable"), 1);
	assert_int_equal(net_recv(&c, got, sizeof(got), 0), -1);
	assert_false(needs_reset(&c));
	done(&c);
}

static void test_bad_receive_buffers_are_returned_empty(void **state)
{
	struct ctx c;
	uint8_t f[100];
	uint32_t ids[3], lens[3];
	uint64_t ro, tiny, good;

	(void)state;
	ready(&c, "");
	/* A device-readable buffer, then one shorter than the header
	 * (MRG_RXBUF), then a good one. */
	ro = mvm_harness_alloc(c.h, 256, 16);
	memset(mvm_harness_gpa(c.h, ro, 256), GUARD, 256);
	{
		struct mvm_harness_buf b = {ro, 256, false};

		assert_true(mvm_harness_vq_add(c.h, &c.rx, &b, 1) >= 0);
	}
	tiny = post_rx(&c, 8);
	good = post_rx(&c, 2048);
	mvm_harness_vq_kick(c.h, &c.rx);
	send_frame(&c, f, sizeof(f), 11);
	assert_int_equal(wait_rx(&c, 3, ids, lens, 5000), 3);
	assert_int_equal(lens[0], 0);
	assert_int_equal(lens[1], 0);
	assert_int_equal(lens[2], HDR + sizeof(f));
	/* The bad buffers were not written. */
	for (int i = 0; i < 256; i++)
		assert_int_equal(((uint8_t *)mvm_harness_gpa(c.h, ro, 256))[i],
				 GUARD);
	for (int i = 0; i < 8; i++)
		assert_int_equal(((uint8_t *)mvm_harness_gpa(c.h, tiny, 8))[i],
				 GUARD);
	assert_memory_equal((uint8_t *)mvm_harness_gpa(c.h, good, 200) + HDR, f,
			    sizeof(f));
	assert_int_equal(drops(&c, "receive buffer with readable parts"), 2);
	assert_counters(c.h, "virtio-net.info",
			PLUGIN_COUNTS({"rx_bad_buffers", 2}, {"rx_frames", 1},
				      {"rx_bytes", sizeof(f)}));
	done(&c);
}

static void test_transmit_flood_is_served_in_turns(void **state)
{
	struct ctx c;
	uint8_t hdr[HDR], got[200];
	unsigned used = 0, seen = 0;

	(void)state;
	ready(&c, "queue_size=64");
	hdr_set(hdr, 0, 0, 0, 0, 0, 0);
	/* Several rounds of a full ring: the device serves 64 chains per
	 * turn and comes back through its own eventfd. */
	for (int round = 0; round < 8; round++) {
		post_tx_frames(&c, hdr, 64);
		mvm_harness_vq_kick(c.h, &c.tx);
		assert_true(mvm_harness_run(c.h) >= 0);
		used += take_used(&c, &c.tx);
		while (net_recv(&c, got, sizeof(got), 0) == SMALL_FRAME)
			seen++;
	}
	assert_int_equal(used, 8 * 64);
	assert_int_equal(seen, 8 * 64);
	/* An avail index that jumps by more than the ring: NEEDS_RESET,
	 * and the VMM carries on. */
	mvm_harness_vq_set_avail_idx(c.h, &c.tx,
				     (uint16_t)(c.tx.avail_idx + 1000));
	assert_kick_needs_reset(c.h, &c.tx);
	done(&c);
}

static void test_reset_drops_a_half_delivered_frame(void **state)
{
	struct ctx c;
	uint8_t f[300], f2[80];
	uint32_t lens[1];
	uint64_t g;

	(void)state;
	ready(&c, "");
	post_rx(&c, 64); /* a third of the frame fits */
	mvm_harness_vq_kick(c.h, &c.rx);
	send_frame(&c, f, sizeof(f), 1);
	assert_int_equal(wait_rx(&c, 1, NULL, lens, 200), 0);
	/* Reset with the frame held, then a new driver. */
	mvm_harness_vwrite(c.h, REG(STATUS), 0);
	assert_int_equal(mvm_harness_virtio_negotiate(c.h, ~0ULL, NULL), 0);
	assert_int_equal(mvm_harness_vq_setup(c.h, &c.rx, 0, 0), 0);
	assert_int_equal(mvm_harness_vq_setup(c.h, &c.tx, 1, 0), 0);
	assert_int_equal(mvm_harness_virtio_driver_ok(c.h), 0);
	g = post_rx(&c, 2048);
	mvm_harness_vq_kick(c.h, &c.rx);
	send_frame(&c, f2, sizeof(f2), 2);
	assert_int_equal(wait_rx(&c, 1, NULL, lens, 5000), 1);
	/* The new driver sees only the new frame, whole. */
	uint8_t *b = mvm_harness_gpa(c.h, g, 2048);

	assert_int_equal(lens[0], HDR + sizeof(f2));
	assert_int_equal(le16at(b + 10), 1);
	assert_memory_equal(b + HDR, f2, sizeof(f2));
	assert_int_equal(b[HDR + sizeof(f2)], GUARD);
	done(&c);
}

static void test_rate_limit_holds_frames(void **state)
{
	struct ctx c;
	uint8_t hdr[HDR];
	unsigned used;

	(void)state;
	ready(&c, "ops_size=2,ops_refill_time=1000");
	hdr_set(hdr, 0, 0, 0, 0, 0, 0);
	post_tx_frames(&c, hdr, 5);
	mvm_harness_vq_kick(c.h, &c.tx);
	assert_true(mvm_harness_run(c.h) >= 0);
	used = take_used(&c, &c.tx);
	assert_int_equal(used, 2); /* the bucket's two frames */
	assert_true(mvm_harness_advance(c.h, 3000000000ULL) >= 0);
	used += take_used(&c, &c.tx);
	assert_int_equal(used, 5);
	assert_int_equal(mvm_harness_ntimers(c.h), 0); /* full again */
	done(&c);
}

/* Wait (bounded) for one used transmit entry. */
static int wait_tx(struct ctx *c, uint32_t *len, int ms)
{
	uint32_t id;

	for (int i = 0; i < ms; i++) {
		struct timespec ts = {0, 1000000};

		assert_true(mvm_harness_run(c->h) >= 0);
		if (mvm_harness_vq_used(c->h, &c->tx, &id, len))
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* vhost=on needs /dev/vhost-net: without it, a user error before anything
 * runs; with it (the nested host of the linux tests loads vhost_net),
 * frames go both ways through the kernel, and the device interrupts
 * through the call eventfd the core watches. */
static void test_vhost(void **state)
{
	struct ctx c;
	char why[512];
	uint8_t hdr[HDR], f[500], got[1000];
	uint32_t len, lens[1];
	uint64_t g;

	(void)state;
	if (access("/dev/vhost-net", R_OK | W_OK) < 0) {
		struct mvm_harness *h = NULL;

		assert_true(mvm_harness_open(NET_PLUGIN_PATH,
					     "tap=" TAP ",vhost=on", NULL, &h,
					     why, sizeof(why)) < 0);
		assert_non_null(strstr(why, "vhost=on: /dev/vhost-net"));
		assert_int_equal(mvm_harness_open(NET_PLUGIN_PATH,
						  "tap=" TAP ",vhost=auto",
						  NULL, &h, why, sizeof(why)),
				 0);
		assert_true(mvm_harness_logged(h, "userspace data path"));
		assert_int_equal(mvm_harness_close(h), 0);
		return;
	}
	memset(&c, 0, sizeof(c));
	if (open_net(&c, "vhost=on", why, sizeof(why)) < 0)
		fail_msg("%s", why);
	assert_int_equal(mvm_harness_virtio_negotiate(c.h, ~0ULL, NULL), 0);
	assert_int_equal(mvm_harness_vq_setup(c.h, &c.rx, 0, 0), 0);
	assert_int_equal(mvm_harness_vq_setup(c.h, &c.tx, 1, 0), 0);
	g = post_rx(&c, 4096);
	assert_int_equal(mvm_harness_virtio_driver_ok(c.h), 0);
	open_sock(&c);
	assert_false(mvm_harness_logged(c.h, "vhost-net start failed"));
	{
		char reply[1024];

		assert_int_equal(mvm_harness_api_call(c.h, "virtio-net.info",
						      NULL, reply,
						      sizeof(reply)),
				 0);
		assert_non_null(strstr(reply, "\"vhost\":true"));
	}
	mvm_harness_clear_records(c.h);

	hdr_set(hdr, 0, 0, 0, 0, 0, 0);
	make_frame(f, sizeof(f), 0x31);
	uint64_t t = put_tx(&c, hdr, f, sizeof(f));
	struct mvm_harness_buf b[2] = {{t, HDR, false},
				       {t + HDR, sizeof(f), false}};

	assert_true(mvm_harness_vq_add(c.h, &c.tx, b, 2) >= 0);
	mvm_harness_vq_kick(c.h, &c.tx);
	assert_int_equal(wait_tx(&c, &len, 5000), 1);
	assert_int_equal(net_recv(&c, got, sizeof(got), 5000), sizeof(f));
	assert_memory_equal(got, f, sizeof(f));

	make_frame(f, 300, 0x77);
	net_send(&c, f, 300);
	assert_int_equal(wait_rx(&c, 1, NULL, lens, 5000), 1);
	assert_int_equal(lens[0], HDR + 300);
	uint8_t *p = mvm_harness_gpa(c.h, g, 4096);

	assert_int_equal(le16at(p + 10), 1);
	assert_memory_equal(p + HDR, f, 300);
	assert_true(mvm_harness_count(c.h, MVM_HREC_IRQ) > 0);

	/* A reset stops vhost-net; the next driver runs in user space
	 * again or in vhost-net, either way frames still flow. */
	mvm_harness_vwrite(c.h, REG(STATUS), 0);
	assert_int_equal(mvm_harness_virtio_negotiate(c.h, ~0ULL, NULL), 0);
	assert_int_equal(mvm_harness_vq_setup(c.h, &c.rx, 0, 0), 0);
	assert_int_equal(mvm_harness_vq_setup(c.h, &c.tx, 1, 0), 0);
	assert_int_equal(mvm_harness_virtio_driver_ok(c.h), 0);
	make_frame(f, 100, 0x55);
	t = put_tx(&c, hdr, f, 100);
	b[0] = (struct mvm_harness_buf){t, HDR + 100, false};
	assert_true(mvm_harness_vq_add(c.h, &c.tx, b, 1) >= 0);
	mvm_harness_vq_kick(c.h, &c.tx);
	assert_int_equal(wait_tx(&c, &len, 5000), 1);
	assert_int_equal(net_recv(&c, got, sizeof(got), 5000), 100);
	assert_memory_equal(got, f, 100);
	done(&c);
}

/* The test's own network namespace, IPv6 off so the tap stays quiet. */
static int enter_netns(void)
{
	static const char *const knobs[] = {
		"/proc/sys/net/ipv6/conf/all/disable_ipv6",
		"/proc/sys/net/ipv6/conf/default/disable_ipv6",
	};

	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr,
			"test_virtio_net: unshare(CLONE_NEWNET): %s (the test "
			"needs root to make its own network namespace)\n",
			strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < 2; i++) {
		int fd = open(knobs[i], O_WRONLY | O_CLOEXEC);

		if (fd >= 0) {
			if (write(fd, "1", 1) != 1)
				fprintf(stderr, "%s: %s\n", knobs[i],
					strerror(errno));
			close(fd);
		}
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_errors_name_the_key),
		cmocka_unit_test(test_features_config_and_tap),
		cmocka_unit_test(test_info_command),
		cmocka_unit_test(test_default_mac_is_stable_local_unicast),
		cmocka_unit_test(test_tso_without_csum_is_refused),
		cmocka_unit_test(test_transmit_reaches_the_tap),
		cmocka_unit_test(test_receive_with_mergeable_buffers),
		cmocka_unit_test(test_receive_waits_for_buffers),
		cmocka_unit_test(test_small_buffer_without_mrg_drops_frame),
		cmocka_unit_test(test_bad_transmit_headers_are_dropped),
		cmocka_unit_test(test_csum_without_negotiation_is_dropped),
		cmocka_unit_test(test_short_and_wrong_direction_tx_chains),
		cmocka_unit_test(test_bad_receive_buffers_are_returned_empty),
		cmocka_unit_test(test_transmit_flood_is_served_in_turns),
		cmocka_unit_test(test_reset_drops_a_half_delivered_frame),
		cmocka_unit_test(test_rate_limit_holds_frames),
		cmocka_unit_test(test_vhost),
	};

	if (enter_netns() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
