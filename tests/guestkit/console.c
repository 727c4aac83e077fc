/*
 * The console: a 16550 UART at COM1. No initialisation (QEMU's and modvmm's
 * UARTs transmit out of reset) and no interrupts. Each character costs two
 * port exits (LSR poll, THR write), ~17 us here: keep output short.
 */
#include "kit.h"

#define COM1 0x3f8
#define UART_THR 0
#define UART_LSR 5
#define LSR_THRE 0x20

void kit_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* Bounded: a missing UART reads 0xff (THRE set); a wedged one
		 * must not hang the kit before it can power off. */
		for (unsigned spin = 0; spin < 1000; spin++)
			if (inb(COM1 + UART_LSR) & LSR_THRE)
				break;
		outb(COM1 + UART_THR, (uint8_t)s[i]);
	}
}

void kit_printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = kit_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	kit_write(buf, (size_t)n);
}
