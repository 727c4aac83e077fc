/*
 * tcpcopy: the guest's TCP end of the virtio-net test
 * (tests/linux/net_test.sh), built static into the Debian test guest by
 * build-guest.sh.
 *
 *   tcpcopy send HOST PORT <FILE     connect, send stdin to the end, close
 *   tcpcopy recv HOST PORT >FILE     connect, copy everything to stdout
 *
 * busybox's nc moves data a few KiB per system call, which under an
 * emulated CPU held the test to about 1 MB/s; this copies 256 KiB at a
 * time. It only moves bytes: the test compares both sides' sha256.
 * Prints one line on failure and exits 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHUNK (256 * 1024)

static int die(const char *what)
{
	fprintf(stderr, "tcpcopy: %s: %s\n", what, strerror(errno));
	return 1;
}

/* Copies `in` to `out` until EOF; 0, or -1 with errno set. */
static int copy(int in, int out, char *buf)
{
	for (;;) {
		ssize_t n = read(in, buf, CHUNK);

		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));

			if (w < 0 && errno != EINTR)
				return -1;
			if (w > 0)
				off += w;
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	char *buf = malloc(CHUNK);
	int fd, sending;

	if (argc != 4 || (strcmp(argv[1], "send") && strcmp(argv[1], "recv")) ||
	    inet_pton(AF_INET, argv[2], &a.sin_addr) != 1) {
		fprintf(stderr, "usage: tcpcopy send|recv IPV4 PORT\n");
		return 2;
	}
	sending = !strcmp(argv[1], "send");
	a.sin_port = htons((unsigned short)atoi(argv[3]));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (!buf || fd < 0)
		return die("socket");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return die("connect");
	if (copy(sending ? 0 : fd, sending ? fd : 1, buf) < 0)
		return die(sending ? "send" : "receive");
	/* The peer reads to EOF: say we are done before closing. */
	if (sending && shutdown(fd, SHUT_WR) < 0)
		return die("shutdown");
	close(fd);
	return 0;
}
