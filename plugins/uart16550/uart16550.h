/*
 * The uart16550 plugin, split by concern, each file with its own header:
 *  - uart16550.c: the plugin hooks and the 16550A registers a vCPU reads
 *    and writes;
 *  - uart_console.c: the host side of the console (terminal raw mode,
 *    output, stdin input and the Ctrl-A keys);
 *  - uart_state.c: the state both share, the receive FIFO and the
 *    interrupt line; it calls neither.
 * uart16550.c calls uart_console.c, and both call uart_state.c.
 */
#ifndef MODVMM_UART16550_H
#define MODVMM_UART16550_H

#include "uart_console.h"
#include "uart_state.h"

#endif
