/*
 * The host side of the 16550 console: stdout (or file=PATH) for output,
 * stdin for input with QEMU -nographic's keys (Ctrl-A x quits, Ctrl-A
 * Ctrl-A sends a Ctrl-A, Ctrl-A h helps), and a terminal on stdin put in
 * raw mode with ISIG off, so Ctrl-C reaches the guest. The terminal is
 * restored by `destroy`, or by an atexit() handler if the process exits
 * without it (plugins are never dlclosed, so the handler stays valid).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <termios.h>
#include <unistd.h>

#include "uart_console.h"

#define CTRL_A 0x01

/* ---- terminal ---- */

static struct termios saved_termios;
static bool termios_saved;
static bool atexit_registered;

void uart_terminal_restore(void)
{
	if (termios_saved) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
		termios_saved = false;
	}
}

/* Raw mode as QEMU's stdio chardev sets it with signal=off: bytes go to the
 * guest unmodified and Ctrl-C is the guest's, but output post-processing
 * stays on so host-side messages still start at column 0. */
void uart_terminal_raw(struct uart *s)
{
	struct termios t;

	if (termios_saved || tcgetattr(STDIN_FILENO, &t))
		return;
	saved_termios = t;
	t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR |
				 IGNCR | ICRNL | IXON);
	t.c_oflag |= OPOST;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | IEXTEN | ISIG);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (!atexit_registered && atexit(uart_terminal_restore) == 0)
		atexit_registered = true;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t)) {
		s->host->log(s->dev, MVM_LOG_WARN,
			     "cannot put the terminal in raw mode: %s",
			     strerror(errno));
		return;
	}
	termios_saved = true;
}

/* ---- output ---- */

void uart_out_write(struct uart *s, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(s->out_fd, p, len);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* Someone made our stdout non-blocking: wait, as a
			 * blocking write would. */
			struct pollfd pfd = {.fd = s->out_fd,
					     .events = POLLOUT};

			poll(&pfd, 1, -1);
			continue;
		}
		if (!s->out_error_logged) {
			s->host->log(s->dev, MVM_LOG_WARN,
				     "console output lost: %s",
				     n < 0 ? strerror(errno) : "short write");
			s->out_error_logged = true;
		}
		return;
	}
}

/* ---- input ---- */

static void stdin_ready(void *opaque, int fd, uint32_t events);

/* Watch stdin exactly when the guest can take more bytes: a full FIFO
 * leaves them in the host pipe or tty, which is the back-pressure a real
 * line gives with flow control, instead of dropping them. */
void uart_update_input_watch(struct uart *s)
{
	bool want = s->in_enabled && !s->in_eof && !(s->mcr & MCR_LOOP) &&
		    s->rx_count < uart_rx_capacity(s);
	int rc;

	if (want == s->in_watching)
		return;
	if (want) {
		rc = s->host->add_fd(s->dev, STDIN_FILENO, EPOLLIN, stdin_ready,
				     s);
		if (rc) {
			s->host->log(s->dev, MVM_LOG_WARN,
				     "cannot watch stdin, console input "
				     "stops: %s",
				     strerror(-rc));
			s->in_eof = true;
			return;
		}
	} else {
		s->host->remove_fd(s->dev, STDIN_FILENO);
	}
	s->in_watching = want;
}

static void print_keys_help(void)
{
	fprintf(stderr, "\nC-a x    exit the VM\n"
			"C-a C-a  send C-a\n"
			"C-a h    this help\n");
}

/* Returns false once the bytes after this one must not be delivered. */
static bool input_byte(struct uart *s, uint8_t c)
{
	if (!s->in_escape) {
		if (c == CTRL_A)
			s->in_escape = true;
		else
			uart_rx_push(s, c);
		return true;
	}
	s->in_escape = false;
	switch (c) {
	case CTRL_A:
		uart_rx_push(s, c);
		break;
	case 'x':
	case 'X':
		s->host->request_exit(s->dev, 0);
		s->in_eof = true;
		return false;
	case 'h':
	case 'H':
	case '?':
		print_keys_help();
		break;
	}
	return true;
}

static void stdin_ready(void *opaque, int fd, uint32_t events)
{
	struct uart *s = opaque;
	uint8_t buf[RX_FIFO_SIZE];
	size_t room = uart_rx_capacity(s) - s->rx_count;
	ssize_t n;

	(void)events;
	if (room) {
		n = read(fd, buf, room);
		if (n > 0) {
			for (ssize_t i = 0; i < n; i++)
				if (!input_byte(s, buf[i]))
					break;
		} else if (n == 0) {
			s->in_eof = true;
		} else if (errno != EINTR && errno != EAGAIN) {
			s->host->log(s->dev, MVM_LOG_WARN,
				     "reading stdin: %s; console input stops",
				     strerror(errno));
			s->in_eof = true;
		}
	}
	uart_update_irq(s);
	uart_update_input_watch(s);
}

/* Input only when stdin is open for reading; a VMM started with stdin
 * closed or write-only simply has no console input. */
static bool stdin_readable(void)
{
	int fl = fcntl(STDIN_FILENO, F_GETFL);

	return fl >= 0 && (fl & O_ACCMODE) != O_WRONLY;
}

int uart_setup_input(struct uart *s)
{
	int rc;

	if (!s->opts.input)
		return 0;
	if (!stdin_readable()) {
		s->host->log(s->dev, MVM_LOG_INFO,
			     "stdin is not readable: no console input");
		return 0;
	}
	s->in_enabled = true;
	rc = s->host->add_fd(s->dev, STDIN_FILENO, EPOLLIN, stdin_ready, s);
	if (rc == -EPERM) {
		/* epoll refuses regular files and /dev/null: a VMM run as
		 * `modvmm ... </dev/null` is normal in scripts and CI. */
		s->host->log(s->dev, MVM_LOG_INFO,
			     "stdin cannot be polled (a regular file or "
			     "/dev/null): no console input");
		s->in_enabled = false;
		return 0;
	}
	if (rc) {
		s->host->fail(s->dev,
			      "input=on: cannot watch stdin: %s (is another "
			      "console reading it? use input=off)",
			      strerror(-rc));
		return rc;
	}
	s->in_watching = true;
	return 0;
}
