/*
 * The virtio-vsock plugin through the per-plugin harness, as Linux's
 * virtio_transport would drive it, with real host Unix sockets on the
 * other side: options and user errors first; then a hostile guest
 * (packets for unknown connections, wrong CIDs, lengths beyond the chain,
 * short headers, credit overflow and lies, floods of REQUEST and RST, rx
 * buffers too small), each checked to end as a drop or an RST and never
 * to touch another connection; then the normal flows: a guest connecting
 * to PATH_<port>, a host client's CONNECT to a guest listener, data both
 * ways under credit flow control, SHUTDOWN, RST, and a device reset.
 *
 * The harness's event loop is synchronous: the device acts only inside
 * mvm_harness_run(), so every step here is deterministic.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include <modvmm/harness.h>

#define V1 (1ULL << MVM_VIRTIO_F_VERSION_1)
#define REG(x) MVM_VIRTIO_MMIO_##x

#define CID 3
#define HDR 44
#define RXBUF 4096 /* Linux's VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE */
#define DEV_BUF (256 * 1024)

enum {
	OP_REQUEST = 1,
	OP_RESPONSE = 2,
	OP_RST = 3,
	OP_SHUTDOWN = 4,
	OP_RW = 5,
	OP_CREDIT_UPDATE = 6,
	OP_CREDIT_REQUEST = 7,
};

struct hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));

_Static_assert(sizeof(struct hdr) == HDR, "virtio_vsock_hdr is 44 bytes");

struct ctx {
	struct mvm_harness *h;
	struct mvm_harness_vq rx, tx, ev;
	char dir[64], path[96];
	uint64_t rxgpa[256]; /* rx buffer of each descriptor (one each) */
	uint64_t txgpa;      /* tx packets are built here */
	unsigned rx_posted;
};

static void make_dir(struct ctx *c)
{
	strcpy(c->dir, "/tmp/test_vsock.XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	snprintf(c->path, sizeof(c->path), "%s/v.sock", c->dir);
}

static void remove_dir(struct ctx *c)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->dir);
	assert_int_equal(system(cmd), 0);
}

static int open_dev(struct ctx *c, const char *opts, char *why, size_t n)
{
	return mvm_harness_open(VSOCK_PLUGIN_PATH, opts, NULL, &c->h, why, n);
}

/* A driver that set up all three queues, with `extra` options. */
static void ready(struct ctx *c, const char *extra)
{
	char opts[256], why[512];

	memset(c, 0, sizeof(*c));
	make_dir(c);
	snprintf(opts, sizeof(opts), "cid=%d,socket=%s%s%s", CID, c->path,
		 *extra ? "," : "", extra);
	if (open_dev(c, opts, why, sizeof(why)) < 0)
		fail_msg("harness open: %s", why);
	assert_int_equal(mvm_harness_virtio_negotiate(c->h, ~0ULL, NULL), 0);
	assert_int_equal(mvm_harness_vq_setup(c->h, &c->rx, 0, 0), 0);
	assert_int_equal(mvm_harness_vq_setup(c->h, &c->tx, 1, 0), 0);
	assert_int_equal(mvm_harness_vq_setup(c->h, &c->ev, 2, 0), 0);
	assert_int_equal(mvm_harness_virtio_driver_ok(c->h), 0);
	for (unsigned i = 0; i < c->rx.num; i++)
		c->rxgpa[i] = mvm_harness_alloc(c->h, HDR + RXBUF, 8);
	c->txgpa = mvm_harness_alloc(c->h, HDR + 70000, 8);
	mvm_harness_clear_records(c->h);
}

static void done(struct ctx *c)
{
	assert_int_equal(mvm_harness_close(c->h), 0);
	/* destroy removed the socket file */
	assert_int_equal(access(c->path, F_OK), -1);
	remove_dir(c);
}

static bool needs_reset(struct ctx *c)
{
	return mvm_harness_vread(c->h, REG(STATUS)) &
	       MVM_VIRTIO_STATUS_NEEDS_RESET;
}

/* Post `n` rx buffers of `size` bytes (one descriptor each) and kick. */
static void post_rx_sized(struct ctx *c, unsigned n, uint32_t size)
{
	for (unsigned i = 0; i < n; i++) {
		uint16_t d = c->rx.next_desc;
		struct mvm_harness_buf b = {c->rxgpa[d], size, true};

		assert_int_equal(mvm_harness_vq_add(c->h, &c->rx, &b, 1), d);
		c->rx_posted++;
	}
	mvm_harness_vq_kick(c->h, &c->rx);
	assert_true(mvm_harness_run(c->h) >= 0);
}

static void post_rx(struct ctx *c, unsigned n)
{
	post_rx_sized(c, n, HDR + RXBUF);
}

/* The next packet the device put in an rx buffer: 1, or 0 if none. */
static int recv_pkt(struct ctx *c, struct hdr *h, void *data, size_t max)
{
	uint32_t id, len;

	assert_true(mvm_harness_run(c->h) >= 0);
	if (!mvm_harness_vq_used(c->h, &c->rx, &id, &len))
		return 0;
	c->rx_posted--;
	assert_true(id < c->rx.num);
	assert_true(len >= HDR);
	memcpy(h, mvm_harness_gpa(c->h, c->rxgpa[id], HDR), HDR);
	assert_int_equal(len, HDR + h->len);
	assert_true(h->len <= max || !data);
	if (data && h->len)
		memcpy(data, mvm_harness_gpa(c->h, c->rxgpa[id] + HDR, h->len),
		       h->len);
	return 1;
}

static void expect_pkt(struct ctx *c, uint16_t op, uint32_t src_port,
		       uint32_t dst_port, struct hdr *out)
{
	struct hdr h;

	assert_int_equal(recv_pkt(c, &h, NULL, 0), 1);
	assert_int_equal(h.op, op);
	assert_int_equal(h.src_cid, 2);
	assert_int_equal(h.dst_cid, CID);
	assert_int_equal(h.src_port, src_port);
	assert_int_equal(h.dst_port, dst_port);
	assert_int_equal(h.type, 1);
	if (out)
		*out = h;
}

static void expect_no_pkt(struct ctx *c)
{
	struct hdr h;

	assert_int_equal(recv_pkt(c, &h, NULL, 0), 0);
}

/* Send a packet as the guest: header and payload in two descriptors (as
 * Linux 6.1 does), `chain_len` bytes of payload buffer (hostile when it
 * differs from h->len). Runs the device. */
static void send_raw(struct ctx *c, const void *hdr, uint32_t hdr_len,
		     const void *data, uint32_t chain_len)
{
	struct mvm_harness_buf b[2] = {{c->txgpa, hdr_len, false},
				       {c->txgpa + HDR, chain_len, false}};
	uint32_t id, len;

	memcpy(mvm_harness_gpa(c->h, c->txgpa, hdr_len), hdr, hdr_len);
	if (chain_len && data)
		memcpy(mvm_harness_gpa(c->h, c->txgpa + HDR, chain_len), data,
		       chain_len);
	assert_true(mvm_harness_vq_add(c->h, &c->tx, b, chain_len ? 2 : 1) >=
		    0);
	mvm_harness_vq_kick(c->h, &c->tx);
	assert_true(mvm_harness_run(c->h) >= 0);
	/* Every tx chain comes back, whatever it held. */
	assert_int_equal(mvm_harness_vq_used(c->h, &c->tx, &id, &len), 1);
	assert_int_equal(len, 0);
}

static struct hdr ghdr(uint16_t op, uint32_t gport, uint32_t hport)
{
	return (struct hdr){.src_cid = CID,
			    .dst_cid = 2,
			    .src_port = gport,
			    .dst_port = hport,
			    .type = 1,
			    .op = op,
			    .buf_alloc = DEV_BUF,
			    .fwd_cnt = 0};
}

static void send_op(struct ctx *c, uint16_t op, uint32_t gport, uint32_t hport)
{
	struct hdr h = ghdr(op, gport, hport);

	send_raw(c, &h, HDR, NULL, 0);
}

static void send_data(struct ctx *c, uint32_t gport, uint32_t hport,
		      const void *data, uint32_t len)
{
	struct hdr h = ghdr(OP_RW, gport, hport);

	h.len = len;
	send_raw(c, &h, HDR, data, len);
}

/* A host program listening on PATH_<port>. */
static int host_listen(struct ctx *c, uint32_t port)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s_%u", c->path, port);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 16), 0);
	return fd;
}

/* A host client of the device's socket, after writing `line`. */
static int host_client(struct ctx *c, const char *line)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", c->path);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	if (line)
		assert_int_equal(write(fd, line, strlen(line)),
				 (ssize_t)strlen(line));
	assert_true(mvm_harness_run(c->h) >= 0);
	return fd;
}

/* A host client asking for guest port `port` ("CONNECT <port>"): the
 * guest hears a REQUEST for it, whose header lands in *h. Returns the
 * client's fd. */
static int host_connect(struct ctx *c, uint32_t port, struct hdr *h)
{
	char line[32];
	int fd;

	snprintf(line, sizeof(line), "CONNECT %u\n", port);
	fd = host_client(c, line);
	assert_int_equal(recv_pkt(c, h, NULL, 0), 1);
	assert_int_equal(h->op, OP_REQUEST);
	return fd;
}

/* The device closed its end: EOF, or ECONNRESET when it closed with our
 * bytes unread (AF_UNIX says so). Blocks until then. */
static bool closed_by_device(int fd)
{
	char buf[8];
	ssize_t n = read(fd, buf, sizeof(buf));

	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* Non-blocking read of what is there now. */
static ssize_t host_read(int fd, void *buf, size_t n)
{
	return recv(fd, buf, n, MSG_DONTWAIT);
}

/* The guest connects from guest port `gport` to host port `hport`, where
 * a host program listens; returns the host program's end. */
static int guest_connects(struct ctx *c, int lfd, uint32_t gport,
			  uint32_t hport)
{
	int fd;

	send_op(c, OP_REQUEST, gport, hport);
	expect_pkt(c, OP_RESPONSE, hport, gport, NULL);
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	return fd;
}

/* ---- options and user errors ---- */

static void expect_refused(const char *opts, const char *needle)
{
	struct mvm_harness *h = NULL;
	char why[512] = "";

	assert_true(mvm_harness_open(VSOCK_PLUGIN_PATH, opts, NULL, &h, why,
				     sizeof(why)) < 0);
	assert_null(h);
	if (!strstr(why, needle))
		fail_msg("'%s': expected '%s' in: %s", opts, needle, why);
}

static void test_user_errors_name_the_option(void **state)
{
	struct ctx c;
	char opts[512], longpath[200];
	int fd;

	(void)state;
	make_dir(&c);
	snprintf(opts, sizeof(opts), "cid=2,socket=%s", c.path);
	expect_refused(opts, "cid=2");
	snprintf(opts, sizeof(opts), "cid=4294967295,socket=%s", c.path);
	expect_refused(opts, "cid=4294967295");
	expect_refused("socket=/tmp/x.sock", "cid");
	expect_refused("cid=3", "socket");
	expect_refused("cid=3,socket=/no/such/dir/v.sock",
		       "socket=/no/such/dir/v.sock: directory /no/such/dir");
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = 0;
	snprintf(opts, sizeof(opts), "cid=3,socket=%s", longpath);
	expect_refused(opts, "too long");
	/* A file that is not a socket is the user's: not removed. */
	fd = open(c.path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	snprintf(opts, sizeof(opts), "cid=3,socket=%s", c.path);
	expect_refused(opts, "exists and is not a socket");
	assert_int_equal(access(c.path, F_OK), 0);
	unlink(c.path);
	snprintf(opts, sizeof(opts), "cid=3,socket=%s,max_connections=0",
		 c.path);
	expect_refused(opts, "max_connections=0");
	/* vhost=on: host programs use AF_VSOCK, no socket file. */
	snprintf(opts, sizeof(opts), "cid=3,vhost=on,socket=%s", c.path);
	expect_refused(opts, "not used with vhost=on");
	assert_int_equal(access(c.path, F_OK), -1);
	expect_refused("cid=3,vhost=maybe", "vhost=maybe");
	remove_dir(&c);
}

static void test_socket_in_use_refused_stale_replaced(void **state)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct mvm_harness *h;
	struct ctx c;
	char opts[256], why[512];
	int fd;

	(void)state;
	make_dir(&c);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", c.path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	snprintf(opts, sizeof(opts), "cid=3,socket=%s", c.path);
	expect_refused(opts, "in use");
	/* The listener dies and leaves its file: stale, replaced. */
	close(fd);
	assert_int_equal(access(c.path, F_OK), 0);
	assert_int_equal(
		mvm_harness_open(VSOCK_PLUGIN_PATH, opts, NULL, &h, why, 512),
		0);
	/* A second device on the same path: in use by the first. */
	expect_refused(opts, "in use");
	assert_int_equal(mvm_harness_close(h), 0);
	remove_dir(&c);
}

static void test_identity_and_config(void **state)
{
	struct ctx c;
	uint64_t cid = 0;

	(void)state;
	ready(&c, "");
	assert_int_equal(mvm_harness_vread(c.h, REG(DEVICE_ID)), 19);
	/* Stream only: no device feature bits (virtio 1.2 5.10.3). */
	assert_int_equal(mvm_harness_device_features(c.h) & 0xffffffULL, 0);
	cid = mvm_harness_vread(c.h, REG(CONFIG)) |
	      (uint64_t)mvm_harness_vread(c.h, REG(CONFIG) + 4) << 32;
	assert_int_equal(cid, CID);
	done(&c);
}

/* ---- the normal flows ---- */

static void test_guest_connects_to_host_listener(void **state)
{
	struct ctx c;
	struct hdr h;
	char buf[64];
	int lfd, fd;

	(void)state;
	ready(&c, "");
	lfd = host_listen(&c, 1234);
	post_rx(&c, 8);
	fd = guest_connects(&c, lfd, 5000, 1234);
	send_data(&c, 5000, 1234, "hello", 5);
	assert_int_equal(host_read(fd, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(write(fd, "world!", 6), 6);
	assert_int_equal(recv_pkt(&c, &h, buf, sizeof(buf)), 1);
	assert_int_equal(h.op, OP_RW);
	assert_int_equal(h.len, 6);
	assert_int_equal(h.src_port, 1234);
	assert_int_equal(h.dst_port, 5000);
	assert_int_equal(h.buf_alloc, DEV_BUF);
	assert_int_equal(h.fwd_cnt, 5); /* the 5 bytes went to the socket */
	assert_memory_equal(buf, "world!", 6);
	/* The guest closes: SHUTDOWN both ways, answered with RST (what
	 * Linux waits for), and the host end sees EOF. */
	struct hdr s = ghdr(OP_SHUTDOWN, 5000, 1234);

	s.flags = 3;
	send_raw(&c, &s, HDR, NULL, 0);
	expect_pkt(&c, OP_RST, 1234, 5000, NULL);
	assert_int_equal(host_read(fd, buf, sizeof(buf)), 0);
	close(fd);
	close(lfd);
	done(&c);
}

static void test_guest_connect_without_listener_gets_rst(void **state)
{
	struct ctx c;

	(void)state;
	ready(&c, "");
	post_rx(&c, 4);
	send_op(&c, OP_REQUEST, 5000, 99);
	expect_pkt(&c, OP_RST, 99, 5000, NULL);
	expect_no_pkt(&c);
	done(&c);
}

static void test_host_connect_to_guest_listener(void **state)
{
	struct ctx c;
	struct hdr h;
	char buf[64];
	int fd;

	(void)state;
	ready(&c, "");
	post_rx(&c, 8);
	fd = host_connect(&c, 52, &h);
	assert_int_equal(h.src_cid, 2);
	assert_int_equal(h.dst_cid, CID);
	assert_int_equal(h.dst_port, 52);
	assert_true(h.src_port >= 1u << 30);
	uint32_t hport = h.src_port;

	/* Nothing for the client until the guest answers. */
	assert_int_equal(host_read(fd, buf, sizeof(buf)), -1);
	send_op(&c, OP_RESPONSE, 52, hport);
	ssize_t n = host_read(fd, buf, sizeof(buf) - 1);

	assert_true(n > 0);
	buf[n] = 0;
	char want[32];

	snprintf(want, sizeof(want), "OK %u\n", hport);
	assert_string_equal(buf, want);
	/* Data both ways. */
	assert_int_equal(write(fd, "ping", 4), 4);
	assert_int_equal(recv_pkt(&c, &h, buf, sizeof(buf)), 1);
	assert_int_equal(h.op, OP_RW);
	assert_int_equal(h.len, 4);
	assert_memory_equal(buf, "ping", 4);
	send_data(&c, 52, hport, "pong", 4);
	assert_int_equal(host_read(fd, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "pong", 4);
	/* The client closes: the guest hears SHUTDOWN(SEND), then its RST
	 * ends the connection. */
	close(fd);
	expect_pkt(&c, OP_SHUTDOWN, hport, 52, &h);
	assert_int_equal(h.flags, 2);
	send_op(&c, OP_RST, 52, hport);
	expect_no_pkt(&c);
	/* The connection is gone: data on it is answered with RST. */
	send_data(&c, 52, hport, "late", 4);
	expect_pkt(&c, OP_RST, hport, 52, NULL);
	done(&c);
}

static void test_host_connect_refused_by_guest(void **state)
{
	struct ctx c;
	struct hdr h;
	char buf[8];
	int fd;

	(void)state;
	ready(&c, "");
	post_rx(&c, 4);
	fd = host_connect(&c, 7, &h);
	/* Nobody listens on guest port 7: Linux answers RST. */
	send_op(&c, OP_RST, 7, h.src_port);
	assert_int_equal(read(fd, buf, sizeof(buf)), 0); /* EOF, no OK */
	close(fd);
	expect_no_pkt(&c);
	done(&c);
}

/* A guest that never answers a CONNECT: after 10 s the device gives up
 * (RST to the guest, the client closed), so no slot is held for ever. */
static void test_unanswered_connect_times_out(void **state)
{
	struct ctx c;
	struct hdr h;
	int fd;

	(void)state;
	ready(&c, "max_connections=1");
	post_rx(&c, 8);
	fd = host_connect(&c, 52, &h);
	assert_int_equal(mvm_harness_ntimers(c.h), 1);
	assert_true(mvm_harness_advance(c.h, 9000000000ULL) >= 0);
	expect_no_pkt(&c); /* still waiting after 9 s */
	assert_true(mvm_harness_advance(c.h, 1000000000ULL) >= 0);
	expect_pkt(&c, OP_RST, h.src_port, 52, NULL);
	assert_true(closed_by_device(fd));
	close(fd);
	assert_int_equal(mvm_harness_ntimers(c.h), 0);
	/* The slot is free again: a new CONNECT gets its REQUEST. */
	fd = host_connect(&c, 53, &h);
	assert_int_equal(h.dst_port, 53);
	close(fd);
	done(&c);
}

static void test_bad_connect_lines_close_the_client(void **state)
{
	static const char *const bad[] = {
		"CONNECT\n",
		"CONNECT 4294967296\n",
		"CONNECT -1\n",
		"connect 5\n",
		"CONNECT 5 6\n",
		"HELLO\n",
		"CONNECT 12345678901234567890123456789\n",
	};
	struct ctx c;

	(void)state;
	ready(&c, "");
	post_rx(&c, 4);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = host_client(&c, bad[i]);

		assert_true(closed_by_device(fd));
		close(fd);
	}
	expect_no_pkt(&c);
	done(&c);
}

/* ---- a hostile guest ---- */

/* An established guest -> host connection for the hostile cases to try to
 * disturb: guest port 5000 to host port 1234. */
struct victim {
	int lfd, fd;
};

static void victim_open(struct ctx *c, struct victim *v)
{
	v->lfd = host_listen(c, 1234);
	v->fd = guest_connects(c, v->lfd, 5000, 1234);
}

/* A driver ready with `nrx` receive buffers posted, and the victim
 * connection open (it takes one of them). */
static void ready_with_victim(struct ctx *c, unsigned nrx, struct victim *v)
{
	ready(c, "");
	post_rx(c, nrx);
	victim_open(c, v);
}

/* The victim still works both ways and received nothing extra. */
static void victim_intact(struct ctx *c, struct victim *v)
{
	char buf[64];
	struct hdr h;

	assert_int_equal(host_read(v->fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EAGAIN);
	send_data(c, 5000, 1234, "still", 5);
	assert_int_equal(host_read(v->fd, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "still", 5);
	assert_int_equal(write(v->fd, "here", 4), 4);
	assert_int_equal(recv_pkt(c, &h, buf, sizeof(buf)), 1);
	assert_int_equal(h.op, OP_RW);
	assert_int_equal(h.dst_port, 5000);
	assert_memory_equal(buf, "here", 4);
}

static void victim_close(struct victim *v)
{
	close(v->fd);
	close(v->lfd);
}

static void test_unknown_connection_gets_rst_never_another(void **state)
{
	struct ctx c;
	struct victim v;

	(void)state;
	ready_with_victim(&c, 16, &v);
	/* Same host port, another guest port; same guest port, another
	 * host port: neither is the victim's. */
	send_data(&c, 5001, 1234, "x", 1);
	expect_pkt(&c, OP_RST, 1234, 5001, NULL);
	send_data(&c, 5000, 1235, "y", 1);
	expect_pkt(&c, OP_RST, 1235, 5000, NULL);
	send_op(&c, OP_SHUTDOWN, 6000, 1234);
	expect_pkt(&c, OP_RST, 1234, 6000, NULL);
	send_op(&c, OP_CREDIT_UPDATE, 6000, 1234);
	expect_pkt(&c, OP_RST, 1234, 6000, NULL);
	send_op(&c, OP_RESPONSE, 6000, 1234);
	expect_pkt(&c, OP_RST, 1234, 6000, NULL);
	/* An RST for nothing needs no answer. */
	send_op(&c, OP_RST, 6000, 1234);
	expect_no_pkt(&c);
	victim_intact(&c, &v);
	victim_close(&v);
	done(&c);
}

static void test_wrong_cids_dropped(void **state)
{
	struct ctx c;
	struct victim v;
	struct hdr h;

	(void)state;
	ready_with_victim(&c, 16, &v);
	/* The victim's ports, but not from the guest or not to the host. */
	h = ghdr(OP_RW, 5000, 1234);
	h.len = 3;
	h.src_cid = 4;
	send_raw(&c, &h, HDR, "bad", 3);
	h.src_cid = 2;
	send_raw(&c, &h, HDR, "bad", 3);
	h.src_cid = CID;
	h.dst_cid = 5;
	send_raw(&c, &h, HDR, "bad", 3);
	h = ghdr(OP_RST, 5000, 1234);
	h.src_cid = (uint64_t)CID << 32 | CID; /* high bits set */
	send_raw(&c, &h, HDR, NULL, 0);
	expect_no_pkt(&c);
	victim_intact(&c, &v);
	assert_true(mvm_harness_logged(c.h, "src_cid"));
	assert_true(mvm_harness_logged(c.h, "dst_cid"));
	victim_close(&v);
	done(&c);
}

static void test_short_header_dropped(void **state)
{
	struct ctx c;
	struct victim v;
	struct hdr h = ghdr(OP_RW, 5000, 1234);

	(void)state;
	ready_with_victim(&c, 16, &v);
	h.len = 0;
	send_raw(&c, &h, 20, NULL, 0);
	send_raw(&c, &h, 43, NULL, 0);
	/* A header split over two descriptors is still a header. */
	{
		struct mvm_harness_buf b[2] = {{c.txgpa, 10, false},
					       {c.txgpa + 10, HDR - 10, false}};
		uint32_t id, len;

		h = ghdr(OP_RW, 5000, 1234);
		h.len = 0;
		memcpy(mvm_harness_gpa(c.h, c.txgpa, HDR), &h, HDR);
		assert_true(mvm_harness_vq_add(c.h, &c.tx, b, 2) >= 0);
		mvm_harness_vq_kick(c.h, &c.tx);
		assert_true(mvm_harness_run(c.h) >= 0);
		assert_int_equal(mvm_harness_vq_used(c.h, &c.tx, &id, &len), 1);
	}
	expect_no_pkt(&c);
	assert_false(needs_reset(&c));
	victim_intact(&c, &v);
	victim_close(&v);
	done(&c);
}

static void test_len_beyond_the_chain_resets_only_that_connection(void **state)
{
	struct ctx c;
	struct victim v;
	struct hdr h;
	char buf[64];
	int lfd2, fd2;

	(void)state;
	ready_with_victim(&c, 32, &v);
	lfd2 = host_listen(&c, 77);
	fd2 = guest_connects(&c, lfd2, 7000, 77);
	/* len says 100, the chain has 10 payload bytes. */
	h = ghdr(OP_RW, 7000, 77);
	h.len = 100;
	send_raw(&c, &h, HDR, "0123456789", 10);
	expect_pkt(&c, OP_RST, 77, 7000, NULL);
	assert_int_equal(host_read(fd2, buf, sizeof(buf)), 0); /* EOF only */
	close(fd2);
	/* len beyond 64 KiB, on an unknown connection. */
	h = ghdr(OP_RW, 7001, 77);
	h.len = 65537;
	send_raw(&c, &h, HDR, NULL, 65537);
	expect_pkt(&c, OP_RST, 77, 7001, NULL);
	/* A control packet with a payload. */
	h = ghdr(OP_CREDIT_UPDATE, 7002, 77);
	h.len = 4;
	send_raw(&c, &h, HDR, "abcd", 4);
	expect_pkt(&c, OP_RST, 77, 7002, NULL);
	/* Unknown op and type. */
	h = ghdr(9, 7003, 77);
	send_raw(&c, &h, HDR, NULL, 0);
	expect_pkt(&c, OP_RST, 77, 7003, NULL);
	h = ghdr(OP_REQUEST, 7004, 77);
	h.type = 2; /* SEQPACKET, not negotiated */
	send_raw(&c, &h, HDR, NULL, 0);
	expect_pkt(&c, OP_RST, 77, 7004, NULL);
	assert_int_equal(accept4(lfd2, NULL, NULL, SOCK_NONBLOCK), -1);
	expect_no_pkt(&c);
	victim_intact(&c, &v);
	close(lfd2);
	victim_close(&v);
	done(&c);
}

/* The guest sends more than the device's buf_alloc while the host reads
 * nothing: the device buffers up to buf_alloc, then resets the
 * connection rather than hold more. */
static void test_credit_overflow_resets(void **state)
{
	static uint8_t chunk[65536], got[65536];
	struct ctx c;
	struct victim v;
	struct hdr h;
	int lfd2, fd2, rcv = 4096;
	uint64_t sent = 0, seen = 0;
	bool reset = false;

	(void)state;
	ready_with_victim(&c, 32, &v);
	lfd2 = host_listen(&c, 77);
	fd2 = guest_connects(&c, lfd2, 7000, 77);
	setsockopt(fd2, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	for (int i = 0; i < 64 && !reset; i++) {
		for (size_t k = 0; k < sizeof(chunk); k++)
			chunk[k] = (uint8_t)(sent + k);
		send_data(&c, 7000, 77, chunk, sizeof(chunk));
		sent += sizeof(chunk);
		while (recv_pkt(&c, &h, NULL, 0)) {
			if (h.op == OP_RST) {
				assert_int_equal(h.dst_port, 7000);
				reset = true;
			}
		}
	}
	assert_true(reset);
	/* The socket got a prefix of what was sent, then EOF; never more
	 * than the socket's buffers plus buf_alloc. */
	for (;;) {
		ssize_t n = read(fd2, got, sizeof(got));

		assert_true(n >= 0);
		if (!n)
			break;
		for (ssize_t k = 0; k < n; k++)
			assert_int_equal(got[k], (uint8_t)(seen + k));
		seen += (uint64_t)n;
	}
	assert_true(seen < sent);
	assert_true(mvm_harness_logged(c.h, "beyond the credit"));
	close(fd2);
	close(lfd2);
	victim_intact(&c, &v);
	victim_close(&v);
	done(&c);
}

/* The device never sends more than the guest's credit, and a guest lying
 * about what it consumed (fwd_cnt ahead of what it got, wrapping) gets
 * nothing more. */
static void test_guest_credit_respected(void **state)
{
	static char big[5000], buf[RXBUF];
	struct ctx c;
	struct hdr h;
	int lfd, fd;
	uint32_t total = 0;

	(void)state;
	ready(&c, "");
	post_rx(&c, 32);
	lfd = host_listen(&c, 1234);
	h = ghdr(OP_REQUEST, 5000, 1234);
	h.buf_alloc = 1000;
	send_raw(&c, &h, HDR, NULL, 0);
	expect_pkt(&c, OP_RESPONSE, 1234, 5000, NULL);
	fd = accept(lfd, NULL, NULL);
	memset(big, 'z', sizeof(big));
	assert_int_equal(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
	while (recv_pkt(&c, &h, buf, sizeof(buf))) {
		if (h.op == OP_RW)
			total += h.len;
		else
			assert_int_equal(h.op, OP_CREDIT_REQUEST);
	}
	assert_int_equal(total, 1000);
	/* fwd_cnt ahead of what was sent: still nothing. */
	h = ghdr(OP_CREDIT_UPDATE, 5000, 1234);
	h.buf_alloc = 1000;
	h.fwd_cnt = 0xfffff000u;
	send_raw(&c, &h, HDR, NULL, 0);
	h.fwd_cnt = 1001;
	send_raw(&c, &h, HDR, NULL, 0);
	expect_no_pkt(&c);
	/* The guest consumed 600: 600 more may come. */
	h.fwd_cnt = 600;
	send_raw(&c, &h, HDR, NULL, 0);
	total = 0;
	while (recv_pkt(&c, &h, buf, sizeof(buf)))
		if (h.op == OP_RW)
			total += h.len;
	assert_int_equal(total, 600);
	/* buf_alloc shrinks under what is in flight: nothing. */
	h = ghdr(OP_CREDIT_UPDATE, 5000, 1234);
	h.buf_alloc = 10;
	h.fwd_cnt = 700;
	send_raw(&c, &h, HDR, NULL, 0);
	expect_no_pkt(&c);
	/* A CREDIT_REQUEST is answered with our numbers. */
	send_op(&c, OP_CREDIT_REQUEST, 5000, 1234);
	expect_pkt(&c, OP_CREDIT_UPDATE, 1234, 5000, &h);
	assert_int_equal(h.buf_alloc, DEV_BUF);
	close(fd);
	close(lfd);
	done(&c);
}

static void test_request_flood_bounded(void **state)
{
	struct ctx c;
	struct hdr h;
	int lfd, accepted = 0, responses = 0, rsts = 0;

	(void)state;
	ready(&c, "max_connections=4");
	post_rx(&c, 64);
	lfd = host_listen(&c, 1234);
	for (uint32_t p = 0; p < 20; p++)
		send_op(&c, OP_REQUEST, 8000 + p, 1234);
	while (recv_pkt(&c, &h, NULL, 0)) {
		responses += h.op == OP_RESPONSE;
		rsts += h.op == OP_RST;
	}
	assert_int_equal(responses, 4);
	assert_int_equal(rsts, 16);
	while (accept4(lfd, NULL, NULL, SOCK_NONBLOCK) >= 0)
		accepted++;
	assert_int_equal(accepted, 4);
	assert_true(mvm_harness_logged(c.h, "refusing"));
	/* One ends (the guest's RST): a new one fits again. */
	send_op(&c, OP_RST, 8000, 1234);
	send_op(&c, OP_REQUEST, 9000, 1234);
	expect_pkt(&c, OP_RESPONSE, 1234, 9000, NULL);
	close(lfd);
	done(&c);
}

static void test_rst_flood_answers_bounded(void **state)
{
	struct ctx c;
	struct victim v;
	struct hdr h;
	unsigned rsts = 0;

	(void)state;
	ready_with_victim(&c, 2, &v); /* takes one buffer */
	/* 500 packets for nothing, one rx buffer left: the answers wait in
	 * a bounded ring, the rest are dropped. */
	for (uint32_t p = 0; p < 500; p++)
		send_op(&c, OP_SHUTDOWN, 10000 + p, 1);
	post_rx(&c, 200);
	while (recv_pkt(&c, &h, NULL, 0)) {
		assert_int_equal(h.op, OP_RST);
		rsts++;
	}
	assert_true(rsts >= 64 && rsts <= 65);
	post_rx(&c, 8);
	victim_intact(&c, &v);
	victim_close(&v);
	done(&c);
}

static void test_host_client_flood_bounded(void **state)
{
	struct ctx c;
	struct hdr h;
	int fds[6];

	(void)state;
	ready(&c, "max_connections=2");
	post_rx(&c, 8);
	for (int i = 0; i < 6; i++)
		fds[i] = host_client(&c, "CONNECT 52\n");
	/* Two REQUESTs; the other clients were closed. */
	assert_int_equal(recv_pkt(&c, &h, NULL, 0), 1);
	assert_int_equal(h.op, OP_REQUEST);
	assert_int_equal(recv_pkt(&c, &h, NULL, 0), 1);
	assert_int_equal(h.op, OP_REQUEST);
	expect_no_pkt(&c);
	for (int i = 2; i < 6; i++)
		assert_true(closed_by_device(fds[i]));
	for (int i = 0; i < 6; i++)
		close(fds[i]);
	done(&c);
}

static void test_rx_buffers_too_small_or_readable(void **state)
{
	struct ctx c;
	struct hdr h;
	uint32_t id, len;

	(void)state;
	ready(&c, "");
	/* Too small for a header: given back unused. */
	post_rx_sized(&c, 1, 20);
	send_op(&c, OP_REQUEST, 5000, 99); /* no listener: RST owed */
	assert_int_equal(mvm_harness_vq_used(c.h, &c.rx, &id, &len), 1);
	assert_int_equal(len, 0);
	/* A device-readable rx buffer: given back unused. */
	{
		struct mvm_harness_buf b = {c.rxgpa[c.rx.next_desc], 100,
					    false};

		assert_true(mvm_harness_vq_add(c.h, &c.rx, &b, 1) >= 0);
		mvm_harness_vq_kick(c.h, &c.rx);
		assert_true(mvm_harness_run(c.h) >= 0);
		assert_int_equal(mvm_harness_vq_used(c.h, &c.rx, &id, &len), 1);
		assert_int_equal(len, 0);
	}
	/* A proper one gets the RST that waited. */
	post_rx(&c, 1);
	expect_pkt(&c, OP_RST, 99, 5000, &h);
	assert_false(needs_reset(&c));
	done(&c);
}

static void test_broken_rx_ring_needs_reset(void **state)
{
	struct ctx c;

	(void)state;
	ready(&c, "");
	mvm_harness_vq_publish(c.h, &c.rx, 0xffff); /* head out of range */
	mvm_harness_vq_kick(c.h, &c.rx);
	assert_true(mvm_harness_run(c.h) >= 0);
	assert_true(needs_reset(&c));
	done(&c);
}

/* ---- volume, shutdown and reset ---- */

/* 1 MiB each way through one connection, with Linux's rhythm: rx buffers
 * reposted as consumed and a CREDIT_UPDATE when half the credit is used. */
static void test_one_mib_each_way(void **state)
{
	enum { TOTAL = 1 << 20, GBUF = 64 * 1024 };
	static uint8_t src[TOTAL], dst[TOTAL];
	struct ctx c;
	struct hdr h;
	int lfd, fd;
	size_t wrote = 0, got = 0, sent = 0, recvd = 0;
	uint32_t fwd = 0, told = 0;

	(void)state;
	for (size_t i = 0; i < TOTAL; i++)
		src[i] = (uint8_t)(i * 31 + (i >> 12));
	ready(&c, "");
	post_rx(&c, 64);
	lfd = host_listen(&c, 1234);
	h = ghdr(OP_REQUEST, 5000, 1234);
	h.buf_alloc = GBUF;
	send_raw(&c, &h, HDR, NULL, 0);
	expect_pkt(&c, OP_RESPONSE, 1234, 5000, NULL);
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	for (int round = 0; round < 100000 && (got < TOTAL || recvd < TOTAL);
	     round++) {
		ssize_t n;

		/* host -> guest */
		if (wrote < TOTAL) {
			n = send(fd, src + wrote, TOTAL - wrote, MSG_DONTWAIT);
			if (n > 0)
				wrote += (size_t)n;
		}
		while (recv_pkt(&c, &h, dst + got, TOTAL - got)) {
			if (h.op == OP_RW)
				got += h.len, fwd += h.len;
			else
				assert_true(h.op == OP_CREDIT_REQUEST ||
					    h.op == OP_CREDIT_UPDATE);
		}
		if (fwd - told >= GBUF / 2 || (got == wrote && fwd != told)) {
			h = ghdr(OP_CREDIT_UPDATE, 5000, 1234);
			h.buf_alloc = GBUF;
			h.fwd_cnt = fwd;
			send_raw(&c, &h, HDR, NULL, 0);
			told = fwd;
		}
		if (c.rx_posted < 32)
			post_rx(&c, 32);
		/* guest -> host, 4 KiB packets as Linux 6.1 sends */
		if (sent < TOTAL) {
			uint32_t len =
				TOTAL - sent < 4096 ? TOTAL - sent : 4096;
			struct hdr d = ghdr(OP_RW, 5000, 1234);

			d.len = len;
			d.buf_alloc = GBUF;
			d.fwd_cnt = fwd;
			send_raw(&c, &d, HDR, src + sent, len);
			sent += len;
		}
		uint8_t tmp[8192];

		while ((n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT)) > 0) {
			assert_memory_equal(tmp, src + recvd, (size_t)n);
			recvd += (size_t)n;
		}
	}
	assert_int_equal(got, TOTAL);
	assert_memory_equal(dst, src, TOTAL);
	assert_int_equal(recvd, TOTAL);
	close(fd);
	close(lfd);
	done(&c);
}

static void test_half_close_each_way(void **state)
{
	struct ctx c;
	struct hdr h;
	char buf[16];
	int lfd, fd;

	(void)state;
	ready(&c, "");
	post_rx(&c, 16);
	lfd = host_listen(&c, 1234);
	fd = guest_connects(&c, lfd, 5000, 1234);
	/* The guest will send no more: the host reads EOF but may still
	 * write. */
	h = ghdr(OP_SHUTDOWN, 5000, 1234);
	h.flags = 2;
	send_raw(&c, &h, HDR, NULL, 0);
	assert_int_equal(host_read(fd, buf, sizeof(buf)), 0);
	assert_int_equal(write(fd, "after", 5), 5);
	assert_int_equal(recv_pkt(&c, &h, buf, sizeof(buf)), 1);
	assert_int_equal(h.op, OP_RW);
	assert_memory_equal(buf, "after", 5);
	/* Data after its own SHUTDOWN(SEND) is the guest's error: RST. */
	send_data(&c, 5000, 1234, "no", 2);
	expect_pkt(&c, OP_RST, 1234, 5000, NULL);
	close(fd);
	close(lfd);
	done(&c);
}

static void test_reset_closes_every_connection(void **state)
{
	struct ctx c;
	struct victim v;
	struct hdr h;
	char buf[8];
	int cfd;

	(void)state;
	ready_with_victim(&c, 8, &v);
	cfd = host_connect(&c, 9, &h);
	mvm_harness_vwrite(c.h, REG(STATUS), 0);
	assert_true(mvm_harness_run(c.h) >= 0);
	assert_int_equal(host_read(v.fd, buf, sizeof(buf)), 0);
	assert_int_equal(read(cfd, buf, sizeof(buf)), 0);
	close(cfd);
	/* The device works again after a new negotiation. */
	assert_int_equal(mvm_harness_virtio_negotiate(c.h, ~0ULL, NULL), 0);
	assert_int_equal(mvm_harness_vq_setup(c.h, &c.rx, 0, 0), 0);
	assert_int_equal(mvm_harness_vq_setup(c.h, &c.tx, 1, 0), 0);
	assert_int_equal(mvm_harness_vq_setup(c.h, &c.ev, 2, 0), 0);
	assert_int_equal(mvm_harness_virtio_driver_ok(c.h), 0);
	post_rx(&c, 8);
	close(v.fd);
	v.fd = guest_connects(&c, v.lfd, 5000, 1234);
	victim_intact(&c, &v);
	victim_close(&v);
	done(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_errors_name_the_option),
		cmocka_unit_test(test_socket_in_use_refused_stale_replaced),
		cmocka_unit_test(test_identity_and_config),
		cmocka_unit_test(
			test_unknown_connection_gets_rst_never_another),
		cmocka_unit_test(test_wrong_cids_dropped),
		cmocka_unit_test(test_short_header_dropped),
		cmocka_unit_test(
			test_len_beyond_the_chain_resets_only_that_connection),
		cmocka_unit_test(test_credit_overflow_resets),
		cmocka_unit_test(test_guest_credit_respected),
		cmocka_unit_test(test_request_flood_bounded),
		cmocka_unit_test(test_rst_flood_answers_bounded),
		cmocka_unit_test(test_host_client_flood_bounded),
		cmocka_unit_test(test_rx_buffers_too_small_or_readable),
		cmocka_unit_test(test_broken_rx_ring_needs_reset),
		cmocka_unit_test(test_guest_connects_to_host_listener),
		cmocka_unit_test(test_guest_connect_without_listener_gets_rst),
		cmocka_unit_test(test_host_connect_to_guest_listener),
		cmocka_unit_test(test_host_connect_refused_by_guest),
		cmocka_unit_test(test_unanswered_connect_times_out),
		cmocka_unit_test(test_bad_connect_lines_close_the_client),
		cmocka_unit_test(test_one_mib_each_way),
		cmocka_unit_test(test_half_close_each_way),
		cmocka_unit_test(test_reset_closes_every_connection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
