/*
 * _CRS resource templates (ACPI 6.4.2-6.4.3): the descriptors a VMM uses
 * for a device's MMIO window, ports and interrupt. Keeps the first
 * KIT_DEV_MAX_RES of each kind; other descriptors are skipped by length.
 */
#include "acpi.h"

static void add_mem(struct kit_device *d, uint64_t base, uint64_t size)
{
	if (d->nmem < KIT_DEV_MAX_RES) {
		d->mem[d->nmem].base = base;
		d->mem[d->nmem].size = size;
		d->nmem++;
	}
}

static void add_io(struct kit_device *d, uint16_t base, uint16_t len)
{
	if (d->nio < KIT_DEV_MAX_RES) {
		d->io[d->nio].base = base;
		d->io[d->nio].len = len;
		d->nio++;
	}
}

/* An address space descriptor's range: type 0 memory, 1 I/O, others not
 * kept. */
static void add_space(struct kit_device *d, uint8_t type, uint64_t min,
		      uint64_t len)
{
	if (type == 0)
		add_mem(d, min, len);
	else if (type == 1)
		add_io(d, (uint16_t)min, (uint16_t)len);
}

static void add_irq(struct kit_device *d, uint32_t irq, uint8_t flags)
{
	if (d->nirq < KIT_DEV_MAX_RES) {
		d->irq_flags[d->nirq] = flags;
		d->irq[d->nirq++] = irq;
	}
}

/* Small descriptors: tag byte 0ttttlll. */
static void small_desc(const uint8_t *b, unsigned type, unsigned len,
		       struct kit_device *d)
{
	switch (type) {
	case 0x04: /* IRQ / IRQNoFlags: 16-bit mask of ISA IRQs, then
		      flags (bit 0 edge, bit 3 active low; absent: edge, high)
		    */
		if (len >= 2) {
			uint8_t f = 0;
			if (len >= 3)
				f = (uint8_t)((b[2] & 1 ? 0 : KIT_IRQ_LEVEL) |
					      (b[2] & 8 ? KIT_IRQ_ACTIVE_LOW
							: 0));
			for (unsigned i = 0; i < 16; i++)
				if (ld16(b) & (1u << i))
					add_irq(d, i, f);
		}
		break;
	case 0x08: /* IO: info, min, max, align, length */
		if (len >= 7)
			add_io(d, ld16(b + 1), b[6]);
		break;
	case 0x09: /* FixedIO: 10-bit base, length */
		if (len >= 3)
			add_io(d, ld16(b) & 0x3ff, b[2]);
		break;
	}
}

/* Large descriptors: tag byte 1ttttttt, then a 16-bit length. */
static void large_desc(const uint8_t *b, unsigned type, unsigned len,
		       struct kit_device *d)
{
	switch (type) {
	case 0x05: /* Memory32: info, min, max, align, length */
		if (len >= 17)
			add_mem(d, ld32(b + 1), ld32(b + 13));
		break;
	case 0x06: /* Memory32Fixed: info, base, length */
		if (len >= 9)
			add_mem(d, ld32(b + 1), ld32(b + 5));
		break;
	case 0x07: /* DWord address space: type, flags, tflags, gran, min, max,
		      tra, len */
		if (len >= 23)
			add_space(d, b[0], ld32(b + 7), ld32(b + 19));
		break;
	case 0x0a: /* QWord address space */
		if (len >= 43)
			add_space(d, b[0], ld64(b + 11), ld64(b + 35));
		break;
	case 0x09: /* Extended interrupt: flags (bit 1 edge, bit 2 active
		      low), count, count x u32 */
		if (len >= 2) {
			uint8_t f =
				(uint8_t)((b[0] & 2 ? 0 : KIT_IRQ_LEVEL) |
					  (b[0] & 4 ? KIT_IRQ_ACTIVE_LOW : 0));
			for (unsigned i = 0; i < b[1] && 2 + 4 * (i + 1) <= len;
			     i++)
				add_irq(d, ld32(b + 2 + 4 * i), f);
		}
		break;
	}
}

void kit_crs_decode(const uint8_t *p, size_t len, struct kit_device *dev)
{
	const uint8_t *end = p + len;
	while (p < end) {
		uint8_t tag = *p;
		if (!(tag & 0x80)) {
			unsigned type = (tag >> 3) & 0x0f, n = tag & 7;
			if (type == 0x0f ||
			    (size_t)(end - p) < 1 + n) /* End tag */
				return;
			small_desc(p + 1, type, n, dev);
			p += 1 + n;
		} else {
			if (end - p < 3)
				return;
			unsigned n = ld16(p + 1);
			if ((size_t)(end - p) < 3 + n)
				return;
			large_desc(p + 3, tag & 0x7f, n, dev);
			p += 3 + n;
		}
	}
}
