/*
 * vsockt: the guest's end of the vsock tests (tests/linux/vsock_test.sh),
 * built static (gcc -static) into the Debian test guest by build-guest.sh.
 *
 *   vsockt listen PORT BYTES         accept one connection on AF_VSOCK PORT
 *   vsockt connect CID PORT BYTES    connect to CID:PORT
 *
 * Then, on that one connection, at the same time: send BYTES bytes of the
 * guest's pattern and receive BYTES bytes that must be the host's pattern,
 * then shut down the sending side and expect EOF. Byte i of a pattern is
 * ((i % 65521) * 131 + DIR * 77) & 0xff, DIR 1 for guest-to-host and 2
 * for host-to-guest: a prime period, so that no packet or buffer size
 * lines up with it, and the two directions differ. The host side
 * (tests/linux/vsock_peer.py) makes and checks the same. Prints one
 * "modvmm-guest: vsock ..." line and exits 0 if everything matched.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PERIOD 65521
#define DIR_TO_HOST 1
#define DIR_TO_GUEST 2

static uint8_t pat(uint64_t i, unsigned dir)
{
	return (uint8_t)((i % PERIOD) * 131 + dir * 77);
}

static int die(const char *what)
{
	printf("modvmm-guest: vsock FAILED: %s: %s\n", what, strerror(errno));
	return 1;
}

static int exchange(int fd, uint64_t bytes, const char *what)
{
	static uint8_t out[65536], in[65536];
	uint64_t sent = 0, got = 0;
	int eof = 0, shut = 0;

	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		return die("fcntl");
	/* Until both: everything sent, and the host's EOF. */
	while (!eof || sent < bytes) {
		struct pollfd p = {fd,
				   (short)((eof ? 0 : POLLIN) |
					   (sent < bytes ? POLLOUT : 0)),
				   0};

		if (sent == bytes && !shut) {
			shutdown(fd, SHUT_WR);
			shut = 1;
		}
		if (poll(&p, 1, 120000) <= 0)
			return die("poll (no progress for 120 s)");
		if (p.revents & POLLOUT) {
			size_t n = bytes - sent < sizeof(out) ? bytes - sent
							      : sizeof(out);
			ssize_t w;

			for (size_t k = 0; k < n; k++)
				out[k] = pat(sent + k, DIR_TO_HOST);
			w = send(fd, out, n, MSG_NOSIGNAL);
			if (w < 0 && errno != EAGAIN)
				return die("send");
			if (w > 0)
				sent += (uint64_t)w;
		}
		if (!eof && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t r = recv(fd, in, sizeof(in), 0);

			if (r < 0 && errno != EAGAIN)
				return die("recv");
			if (r == 0)
				eof = 1;
			for (ssize_t k = 0; k < r; k++) {
				if (in[k] !=
				    pat(got + (uint64_t)k, DIR_TO_GUEST)) {
					printf("modvmm-guest: vsock FAILED: "
					       "%s: "
					       "byte %llu is 0x%02x, expected "
					       "0x%02x\n",
					       what,
					       (unsigned long long)(got + k),
					       in[k],
					       pat(got + k, DIR_TO_GUEST));
					return 1;
				}
			}
			if (r > 0)
				got += (uint64_t)r;
			if (got > bytes) {
				printf("modvmm-guest: vsock FAILED: %s: more "
				       "than %llu bytes\n",
				       what, (unsigned long long)bytes);
				return 1;
			}
		}
	}
	if (sent != bytes || got != bytes) {
		printf("modvmm-guest: vsock FAILED: %s: sent %llu received "
		       "%llu of %llu\n",
		       what, (unsigned long long)sent, (unsigned long long)got,
		       (unsigned long long)bytes);
		return 1;
	}
	printf("modvmm-guest: vsock %s ok sent=%llu received=%llu\n", what,
	       (unsigned long long)sent, (unsigned long long)got);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_vm a = {.svm_family = AF_VSOCK};
	int fd, c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (fd < 0)
		return die("socket(AF_VSOCK)");
	if (argc == 4 && !strcmp(argv[1], "listen")) {
		a.svm_cid = VMADDR_CID_ANY;
		a.svm_port = (unsigned)strtoul(argv[2], NULL, 0);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			return die("bind");
		if (listen(fd, 1) < 0)
			return die("listen");
		printf("modvmm-guest: vsock listening %u\n", a.svm_port);
		c = accept(fd, NULL, NULL);
		if (c < 0)
			return die("accept");
		return exchange(c, strtoull(argv[3], NULL, 0), "listen");
	}
	if (argc == 5 && !strcmp(argv[1], "connect")) {
		a.svm_cid = (unsigned)strtoul(argv[2], NULL, 0);
		a.svm_port = (unsigned)strtoul(argv[3], NULL, 0);
		/* The host's listener may come a little after us: retry a
		 * refused connect for a while. */
		for (int i = 0;; i++) {
			if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
				break;
			if (i == 600 ||
			    (errno != ECONNRESET && errno != ECONNREFUSED))
				return die("connect");
			close(fd);
			fd = socket(AF_VSOCK, SOCK_STREAM, 0);
			usleep(100000);
		}
		return exchange(fd, strtoull(argv[4], NULL, 0), "connect");
	}
	fprintf(stderr, "usage: vsockt listen PORT BYTES | connect CID PORT "
			"BYTES\n");
	return 2;
}
