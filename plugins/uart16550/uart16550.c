/*
 * uart16550: the console. A 16550A UART at an ISA port (COM1, 0x3f8/IRQ 4,
 * by default) behaving the way Linux's 8250 driver probes and drives it,
 * with its output going to stdout (or file=PATH) and its input read from
 * stdin.
 *
 * Modelled on QEMU's hw/char/serial.c and kvmtool's hw/serial.c:
 *  - Transmission is instant: THR is always empty, so LSR always has THRE
 *    and TEMT, and the THR-empty interrupt (THRI) is re-armed by every THR
 *    write. Like QEMU, a THR write first clears THRI and updates the line,
 *    then re-arms it, so an edge-triggered guest sees a fresh edge per byte.
 *  - The interrupt line follows "IIR has something pending" and is not
 *    gated by MCR.OUT2, as in QEMU and kvmtool. Linux sets OUT2 anyway, and
 *    guests that poll never enable IER, so gating would only break guests.
 *  - 16-byte RX FIFO. The FIFO's character-timeout interrupt is reported
 *    at once whenever data sits below the trigger level (input comes from
 *    the host in bursts, so there is nothing to wait for); the guest sees
 *    IIR=0x0C exactly as after a real timeout.
 *  - No modem: outside loopback MSR reads DCD, DSR and CTS asserted. In
 *    loopback (Linux's autoconfig probes it) MSR mirrors MCR and THR loops
 *    back into the RX FIFO instead of reaching the output.
 *
 * Console keys on stdin (as QEMU -nographic): Ctrl-A x quits the VM with
 * status 0, Ctrl-A Ctrl-A sends one Ctrl-A, Ctrl-A h prints this help; any
 * other Ctrl-A sequence is dropped. When stdin is a terminal, `start` puts
 * it in raw mode with ISIG off, so Ctrl-C reaches the guest; `destroy`
 * restores it, and an atexit() handler restores it too if the process
 * exits without destroying the device (plugins are never dlclosed, so the
 * handler stays valid). A kill by signal cannot be caught here.
 *
 * Threads: port accesses on vCPU threads, the stdin callback on the
 * event-loop thread, always under the core's per-device lock, so the state
 * below needs no lock of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <termios.h>
#include <unistd.h>

#include "uart16550.h"

static const struct mvm_option uart_options[] = {
	MVM_OPTION_RANGE("port", MVM_OPT_U64, struct uart_opts, port, "0x3f8",
			 false, 0, 0x10000 - UART_NPORTS,
			 "first of the 8 I/O ports"),
	MVM_OPTION_RANGE("irq", MVM_OPT_U64, struct uart_opts, irq, "4", false,
			 0, 23, "interrupt line (GSI)"),
	MVM_OPTION("file", MVM_OPT_STR, struct uart_opts, file, NULL, false,
		   "write output to this file (created or truncated) instead "
		   "of stdout"),
	MVM_OPTION("input", MVM_OPT_BOOL, struct uart_opts, input, "on", false,
		   "read console input from stdin (Ctrl-A x quits)"),
	MVM_OPTION_END,
};

/* ---- receive FIFO ---- */

static void rx_clear(struct uart *s)
{
	s->rx_head = 0;
	s->rx_count = 0;
}

/* ---- registers ---- */

/* What the modem inputs read as: no modem outside loopback means carrier,
 * DSR and CTS asserted (as QEMU); in loopback, the outputs wired back. */
static uint8_t msr_inputs(const struct uart *s)
{
	uint8_t m = s->mcr;

	if (!(m & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	return (uint8_t)(((m & MCR_DTR) ? MSR_DSR : 0) |
			 ((m & MCR_RTS) ? MSR_CTS : 0) |
			 ((m & MCR_OUT1) ? MSR_RI : 0) |
			 ((m & MCR_OUT2) ? MSR_DCD : 0));
}

static void write_mcr(struct uart *s, uint8_t v)
{
	uint8_t before = msr_inputs(s), after, changed;

	s->mcr = v & 0x1f;
	after = msr_inputs(s);
	changed = before ^ after;
	if (changed & MSR_CTS)
		s->msr_deltas |= MSR_DCTS;
	if (changed & MSR_DSR)
		s->msr_deltas |= MSR_DDSR;
	if ((before & MSR_RI) && !(after & MSR_RI))
		s->msr_deltas |= MSR_TERI; /* trailing edge only */
	if (changed & MSR_DCD)
		s->msr_deltas |= MSR_DDCD;
}

static void write_ier(struct uart *s, uint8_t v)
{
	uint8_t changed = (s->ier ^ v) & 0x0f;

	s->ier = v & 0x0f;
	/* Enabling THRI with THR empty raises it even if an IIR read had
	 * cleared it: Linux's UART_BUG_THRE probe (and Windows) rely on it. */
	if (changed & IER_THRI)
		s->thr_ipending = (s->ier & IER_THRI) != 0;
}

static void write_fcr(struct uart *s, uint8_t v)
{
	/* Switching the FIFOs on or off empties them (datasheet). */
	if ((v ^ s->fcr) & FCR_FE)
		v |= FCR_CLEAR_RX | FCR_CLEAR_TX;
	if (v & FCR_CLEAR_RX)
		rx_clear(s);
	s->fcr = v & FCR_STORED;
}

static void write_thr(struct uart *s, uint8_t c)
{
	s->thr_ipending = false;
	uart_update_irq(s);
	if (s->mcr & MCR_LOOP)
		uart_rx_push(s, c);
	else
		uart_out_write(s, &c, 1);
	/* Sent at once: THR is empty again. */
	s->thr_ipending = true;
}

static uint8_t read_rbr(struct uart *s)
{
	if (s->rx_count) {
		s->rbr = s->rx[s->rx_head];
		s->rx_head = (s->rx_head + 1) % RX_FIFO_SIZE;
		s->rx_count--;
	}
	return s->rbr;
}

static uint8_t read_iir(struct uart *s)
{
	uint8_t id = uart_pending_id(s);

	/* Reading IIR while it reports THRI is what acknowledges THRI. */
	if (id == IIR_THRI)
		s->thr_ipending = false;
	return id | ((s->fcr & FCR_FE) ? IIR_FIFO_ON : 0);
}

static uint8_t read_lsr(struct uart *s)
{
	uint8_t v = LSR_THRE | LSR_TEMT | s->lsr_errors;

	if (s->rx_count)
		v |= LSR_DR;
	s->lsr_errors = 0;
	return v;
}

static uint8_t read_msr(struct uart *s)
{
	uint8_t v = msr_inputs(s) | s->msr_deltas;

	s->msr_deltas = 0;
	return v;
}

static uint8_t reg_read(struct uart *s, unsigned reg)
{
	bool dlab = s->lcr & LCR_DLAB;

	switch (reg) {
	case REG_RBR_THR:
		return dlab ? (uint8_t)s->divisor : read_rbr(s);
	case REG_IER:
		return dlab ? (uint8_t)(s->divisor >> 8) : s->ier;
	case REG_IIR_FCR:
		return read_iir(s);
	case REG_LCR:
		return s->lcr;
	case REG_MCR:
		return s->mcr;
	case REG_LSR:
		return read_lsr(s);
	case REG_MSR:
		return read_msr(s);
	default:
		return s->scr;
	}
}

static void reg_write(struct uart *s, unsigned reg, uint8_t v)
{
	bool dlab = s->lcr & LCR_DLAB;

	switch (reg) {
	case REG_RBR_THR:
		if (dlab)
			s->divisor = (uint16_t)((s->divisor & 0xff00) | v);
		else
			write_thr(s, v);
		break;
	case REG_IER:
		if (dlab)
			s->divisor = (uint16_t)((s->divisor & 0x00ff) | v << 8);
		else
			write_ier(s, v);
		break;
	case REG_IIR_FCR:
		write_fcr(s, v);
		break;
	case REG_LCR:
		s->lcr = v;
		break;
	case REG_MCR:
		write_mcr(s, v);
		break;
	case REG_SCR:
		s->scr = v;
		break;
	default:
		/* LSR and MSR writes are factory-test only: ignored. */
		break;
	}
}

/* Wider accesses act as consecutive byte accesses, as QEMU splits them for
 * this byte-wide device. */
static uint64_t uart_read(void *opaque, uint64_t offset, unsigned len)
{
	struct uart *s = opaque;
	uint64_t v = 0;

	for (unsigned i = 0; i < len && offset + i < UART_NPORTS; i++)
		v |= (uint64_t)reg_read(s, (unsigned)(offset + i)) << (8 * i);
	uart_update_irq(s);
	uart_update_input_watch(s);
	return v;
}

static void uart_write(void *opaque, uint64_t offset, unsigned len,
		       uint64_t value)
{
	struct uart *s = opaque;

	for (unsigned i = 0; i < len && offset + i < UART_NPORTS; i++)
		reg_write(s, (unsigned)(offset + i),
			  (uint8_t)(value >> (8 * i)));
	uart_update_irq(s);
	uart_update_input_watch(s);
}

static const struct mvm_io_ops uart_io_ops = {
	.read = uart_read,
	.write = uart_write,
};

/* ---- life cycle ---- */

static void uart_free(struct uart *s)
{
	if (s->in_watching)
		s->host->remove_fd(s->dev, STDIN_FILENO);
	if (s->own_out_fd)
		close(s->out_fd);
	free(s);
}

static int uart_create(mvm_dev *dev, const struct mvm_host *host,
		       const char *options, void **state)
{
	struct uart *s;
	struct mvm_dsdt_device dd;
	int rc;

	if (!MVM_HOST_HAS(host, dev_name)) {
		host->fail(dev, "host table too old (size %u)", host->size);
		return -ENOTSUP;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		host->fail(dev, "out of memory");
		return -ENOMEM;
	}
	s->dev = dev;
	s->host = host;
	s->out_fd = STDOUT_FILENO;
	/* Reset state as QEMU's serial_reset leaves it (MCR=OUT2), with 8N1
	 * at 9600 baud latched so a guest that never programs the divisor
	 * reads a sane one. */
	s->lcr = 0x03;
	s->divisor = 12;
	s->mcr = MCR_OUT2;

	rc = host->parse_options(dev, uart_options, options, &s->opts);
	if (rc)
		goto err; /* the host has recorded the reason */

	if (s->opts.file) {
		s->out_fd =
			open(s->opts.file,
			     O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (s->out_fd < 0) {
			rc = -errno;
			host->fail(dev, "file=%s: %s", s->opts.file,
				   strerror(errno));
			goto err;
		}
		s->own_out_fd = true;
	}

	rc = host->claim_pio(dev, (uint16_t)s->opts.port, UART_NPORTS,
			     &uart_io_ops, s);
	if (rc) {
		host->fail(dev,
			   "port=0x%llx: cannot claim ports 0x%llx-0x%llx: %s",
			   (unsigned long long)s->opts.port,
			   (unsigned long long)s->opts.port,
			   (unsigned long long)s->opts.port + UART_NPORTS - 1,
			   strerror(-rc));
		goto err;
	}

	rc = host->claim_irq(dev, (int)s->opts.irq);
	if (rc < 0) {
		host->fail(dev, "irq=%llu: cannot claim the interrupt: %s",
			   (unsigned long long)s->opts.irq, strerror(-rc));
		goto err;
	}
	s->gsi = rc;

	dd = (struct mvm_dsdt_device){
		.hid = "PNP0501",
		/* Ports are exclusive, so the base is a unique _UID. */
		.uid = (uint32_t)s->opts.port,
		.io_base = (uint16_t)s->opts.port,
		.io_size = UART_NPORTS,
		.gsi = s->gsi,
		.level_triggered = false,
	};
	rc = host->dsdt_add_device(dev, &dd);
	if (rc) {
		host->fail(dev, "cannot add the DSDT entry: %s", strerror(-rc));
		goto err;
	}

	rc = uart_setup_input(s);
	if (rc)
		goto err;

	*state = s;
	return 0;
err:
	/* The core drops a failed device's port and irq claims with it. */
	uart_free(s);
	return rc;
}

static int uart_start(void *state)
{
	struct uart *s = state;

	if (s->in_enabled && isatty(STDIN_FILENO))
		uart_terminal_raw(s);
	return 0;
}

static void uart_destroy(void *state)
{
	struct uart *s = state;

	if (s->in_enabled)
		uart_terminal_restore();
	uart_free(s);
}

MVM_PLUGIN_EXPORT const struct mvm_plugin mvm_plugin_descriptor = {
	MVM_PLUGIN_HEADER,
	.name = "uart16550",
	.version = "1.0",
	.description = "16550A UART console on stdin/stdout (COM1 by default)",
	.options = uart_options,
	.create = uart_create,
	.start = uart_start,
	.destroy = uart_destroy,
};
