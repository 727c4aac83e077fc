/* The 16550A's receive FIFO and interrupt line; see uart_state.h. */
#include <string.h>

#include "uart_state.h"

unsigned uart_rx_capacity(const struct uart *s)
{
	/* Without FIFOs the 16550 is a 16450 with a one-byte RBR. */
	return (s->fcr & FCR_FE) ? RX_FIFO_SIZE : 1;
}

static unsigned rx_trigger(const struct uart *s)
{
	static const unsigned level[4] = {1, 4, 8, 14};

	return level[s->fcr >> 6];
}

/* The IIR interrupt id, highest priority first (16550 datasheet table). */
uint8_t uart_pending_id(const struct uart *s)
{
	if ((s->ier & IER_RLSI) && (s->lsr_errors & LSR_ERRORS))
		return IIR_RLSI;
	if ((s->ier & IER_RDI) && s->rx_count) {
		if ((s->fcr & FCR_FE) && s->rx_count < rx_trigger(s))
			return IIR_CTI;
		return IIR_RDI;
	}
	if ((s->ier & IER_THRI) && s->thr_ipending)
		return IIR_THRI;
	if ((s->ier & IER_MSI) && (s->msr_deltas & 0x0f))
		return IIR_MSI;
	return IIR_NO_INT;
}

void uart_update_irq(struct uart *s)
{
	bool level = uart_pending_id(s) != IIR_NO_INT;
	int rc;

	if (level == s->irq_level)
		return;
	rc = s->host->set_irq(s->dev, (uint32_t)s->gsi, level);
	if (rc)
		s->host->log_guest(s->dev, "set_irq(%d, %d): %s", s->gsi, level,
				   strerror(-rc));
	s->irq_level = level;
}

void uart_rx_push(struct uart *s, uint8_t c)
{
	if (s->rx_count == uart_rx_capacity(s)) {
		s->lsr_errors |= LSR_OE;
		/* A 16450 overwrites RBR; a 16550 FIFO keeps its contents
		 * and loses the new character. */
		if (!(s->fcr & FCR_FE))
			s->rx[s->rx_head] = c;
		return;
	}
	s->rx[(s->rx_head + s->rx_count) % RX_FIFO_SIZE] = c;
	s->rx_count++;
}
