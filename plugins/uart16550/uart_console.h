/*
 * The host side of the 16550 console (uart_console.c): the terminal in raw
 * mode, output to stdout or file=PATH, and stdin input with QEMU
 * -nographic's Ctrl-A keys. Called by uart16550.c; it feeds received bytes
 * to the FIFO in uart_state.c.
 */
#ifndef MODVMM_UART_CONSOLE_H
#define MODVMM_UART_CONSOLE_H

#include <stddef.h>

#include "uart_state.h"

/* Puts the terminal on stdin in raw mode with ISIG off (the plugin's
 * `start`); restored by uart_terminal_restore or at exit. */
void uart_terminal_raw(struct uart *s);
void uart_terminal_restore(void);
/* Writes the guest's output, waiting if the fd is non-blocking; a failure
 * is logged once and the bytes dropped. */
void uart_out_write(struct uart *s, const void *buf, size_t len);
/* Starts console input if input=on and stdin can be watched; -errno with
 * host->fail called if it cannot. */
int uart_setup_input(struct uart *s);
/* Watch stdin exactly when the guest can take more bytes. */
void uart_update_input_watch(struct uart *s);

#endif
