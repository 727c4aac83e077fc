/*
 * The bottom of the uart16550 plugin: the 16550A's registers (as
 * constants), the device state, and what both of its users change, the
 * receive FIFO and the interrupt line. uart16550.c (the registers a vCPU
 * reads and writes) and uart_console.c (bytes from stdin) build on it; it
 * calls neither. Everything runs under the core's per-device lock.
 */
#ifndef MODVMM_UART_STATE_H
#define MODVMM_UART_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <modvmm/plugin.h>

/* Register offsets. */
#define REG_RBR_THR 0 /* DLL with DLAB */
#define REG_IER 1     /* DLM with DLAB */
#define REG_IIR_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define REG_MSR 6
#define REG_SCR 7
#define UART_NPORTS 8

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08

#define IIR_NO_INT 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_CTI 0x0c
#define IIR_FIFO_ON 0xc0

#define FCR_FE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define FCR_STORED 0xc9 /* FE, DMA mode, trigger level */

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_ERRORS 0x1e /* OE, PE, FE, BI: cleared by reading LSR */
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

#define RX_FIFO_SIZE 16

struct uart_opts {
	uint64_t port;
	uint64_t irq;
	const char *file;
	bool input;
};

struct uart {
	mvm_dev *dev;
	const struct mvm_host *host;
	struct uart_opts opts;
	int gsi;
	int out_fd;
	bool own_out_fd;
	bool out_error_logged;

	uint8_t ier, lcr, mcr, fcr, scr;
	uint8_t lsr_errors; /* LSR_ERRORS bits latched until LSR is read */
	uint8_t msr_deltas; /* MSR low nibble, cleared by reading MSR */
	uint16_t divisor;
	bool thr_ipending;
	uint8_t rbr; /* last byte received, returned again on an empty read */
	uint8_t rx[RX_FIFO_SIZE];
	unsigned rx_head, rx_count;
	bool irq_level;

	bool in_enabled;  /* input=on and stdin usable */
	bool in_watching; /* stdin registered with the event loop */
	bool in_eof;      /* stdin ended or failed: never watch again */
	bool in_escape;   /* the previous input byte was Ctrl-A */
};

/* Bytes the receive FIFO holds: 16, or 1 with the FIFOs off (a 16450). */
unsigned uart_rx_capacity(const struct uart *s);
/* A received byte (from the console, or THR in loopback); a full FIFO
 * latches an overrun as the datasheet says. */
void uart_rx_push(struct uart *s, uint8_t c);
/* The IIR interrupt id pending now, highest priority first. */
uint8_t uart_pending_id(const struct uart *s);
/* Sets the interrupt line to "IIR has something pending". */
void uart_update_irq(struct uart *s);

#endif
