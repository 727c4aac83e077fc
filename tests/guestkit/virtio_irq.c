/*
 * Interrupts and time for the kit's virtio driver: the IOAPIC pin of a
 * device's GSI (found through the MADT's IOAPIC entries, QEMU microvm has
 * two), the local APIC (enabled, LINT0 and the 8259s masked so only our
 * vectors arrive, a periodic timer so that waits can time out), the
 * interrupt handler, and a TSC calibrated against the PIT.
 *
 * The handler does what Linux's vm_interrupt does: read InterruptStatus,
 * write it to InterruptACK, then EOI. That is right for edge and level
 * lines alike (a level line drops once the status is acknowledged).
 */
#include "virtio.h"

#include "acpi.h"

#define LAPIC 0xfee00000u
#define LAPIC_ID 0x020
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_DIV 0x3e0
#define LVT_MASKED 0x10000u
#define LVT_PERIODIC 0x20000u
#define SPURIOUS_VECTOR 0xff
#define MAX_IRQ_DEVS 4

/* Interrupt stubs: the CPU leaves RSP 16-aligned minus 8 after its 5-word
 * frame; nine pushes make it 16-aligned for the call. */
__asm__(".text\n"
	".globl kit_virtio_isr, kit_timer_isr, kit_spurious_isr\n"
	"kit_virtio_isr:\n"
	"  push %rax; push %rcx; push %rdx; push %rsi; push %rdi\n"
	"  push %r8; push %r9; push %r10; push %r11\n"
	"  call kit_virtio_irq\n"
	"  pop %r11; pop %r10; pop %r9; pop %r8\n"
	"  pop %rdi; pop %rsi; pop %rdx; pop %rcx; pop %rax\n"
	"  iretq\n"
	"kit_timer_isr:\n"
	"  push %rax\n"
	"  mov $0xfee000b0, %eax\n"
	"  movl $0, (%rax)\n"
	"  pop %rax\n"
	"  iretq\n"
	"kit_spurious_isr:\n"
	"  iretq\n");
void kit_virtio_isr(void);
void kit_timer_isr(void);
void kit_spurious_isr(void);
void kit_virtio_irq(void);

static struct kit_vdev *irq_devs[MAX_IRQ_DEVS];
static bool apic_ready;

static volatile uint32_t *lapic(unsigned reg)
{
	return (volatile uint32_t *)(uintptr_t)(LAPIC + reg);
}

void kit_virtio_irq(void)
{
	for (unsigned i = 0; i < MAX_IRQ_DEVS; i++) {
		struct kit_vdev *d = irq_devs[i];
		if (!d)
			continue;
		uint32_t st = kit_vread(d, VIRTIO_MMIO_INTERRUPT_STATUS);
		if (st) {
			kit_vwrite(d, VIRTIO_MMIO_INTERRUPT_ACK, st);
			d->isr |= st;
			d->irqs++;
		}
	}
	*lapic(LAPIC_EOI) = 0;
}

static void apic_init(void)
{
	if (apic_ready)
		return;
	apic_ready = true;
	outb(0x21, 0xff); /* both 8259s fully masked */
	outb(0xa1, 0xff);
	kit_idt_set(KIT_VIRTIO_VECTOR, kit_virtio_isr);
	kit_idt_set(KIT_TIMER_VECTOR, kit_timer_isr);
	kit_idt_set(SPURIOUS_VECTOR, kit_spurious_isr);
	*lapic(LAPIC_SVR) = 0x100 | SPURIOUS_VECTOR; /* APIC on */
	*lapic(LAPIC_LVT_LINT0) = LVT_MASKED;
	/* A tick so hlt always wakes: ~10 ms with KVM's 1 GHz APIC clock
	 * (any rate will do, waits are timed with the TSC). */
	*lapic(LAPIC_TIMER_DIV) = 0xb; /* divide by 1 */
	*lapic(LAPIC_LVT_TIMER) = LVT_PERIODIC | KIT_TIMER_VECTOR;
	*lapic(LAPIC_TIMER_INIT) = 10000000;
}

/* The IOAPIC whose pins cover gsi (MADT type 1: id, -, address, GSI
 * base), and the pin number on it. */
static volatile uint32_t *find_ioapic(uint32_t gsi, uint32_t *pin)
{
	const struct kit_table *t = kit_acpi_table("APIC");
	if (!t || !t->mapped)
		return NULL;
	const uint8_t *m = (const uint8_t *)(uintptr_t)t->paddr;
	for (uint32_t off = 44; off + 2 <= t->length;) {
		uint8_t type = m[off], len = m[off + 1];
		if (len < 2 || off + len > t->length)
			break;
		if (type == 1 && len >= 12) {
			volatile uint32_t *io =
				(volatile uint32_t *)(uintptr_t)ld32(m + off +
								     4);
			uint32_t base = ld32(m + off + 8);
			io[0] = 1; /* IOAPICVER: bits 16-23 = last pin */
			uint32_t pins = ((io[4] >> 16) & 0xff) + 1;
			if (gsi >= base && gsi - base < pins) {
				*pin = gsi - base;
				return io;
			}
		}
		off += len;
	}
	return NULL;
}

static void ioapic_write(volatile uint32_t *io, uint32_t reg, uint32_t v)
{
	io[0] = reg;
	io[4] = v; /* IOWIN at +0x10 */
}

bool kit_virtio_irq_enable(struct kit_vdev *d)
{
	uint32_t pin;
	volatile uint32_t *io = find_ioapic(d->gsi, &pin);
	if (!io) {
		kit_snprintf(kit_virtio_why, sizeof(kit_virtio_why),
			     "no IOAPIC in the MADT has GSI %u", d->gsi);
		return false;
	}
	unsigned slot = MAX_IRQ_DEVS;
	for (unsigned i = 0; i < MAX_IRQ_DEVS; i++)
		if (irq_devs[i] == d || (!irq_devs[i] && slot == MAX_IRQ_DEVS))
			slot = i;
	if (slot == MAX_IRQ_DEVS) {
		kit_snprintf(kit_virtio_why, sizeof(kit_virtio_why),
			     "more than %u devices with interrupts",
			     MAX_IRQ_DEVS);
		return false;
	}
	apic_init();
	irq_devs[slot] = d;
	d->irq_on = true;
	uint32_t dest = *lapic(LAPIC_ID) >> 24;
	uint32_t lo = KIT_VIRTIO_VECTOR |
		      (d->irq_flags & KIT_IRQ_LEVEL ? 1u << 15 : 0) |
		      (d->irq_flags & KIT_IRQ_ACTIVE_LOW ? 1u << 13 : 0);
	ioapic_write(io, 0x11 + 2 * pin, dest << 24);
	ioapic_write(io, 0x10 + 2 * pin, lo);
	return true;
}

void kit_virtio_irq_disable(struct kit_vdev *d)
{
	uint32_t pin;
	volatile uint32_t *io = find_ioapic(d->gsi, &pin);
	if (io)
		ioapic_write(io, 0x10 + 2 * pin, LVT_MASKED);
	for (unsigned i = 0; i < MAX_IRQ_DEVS; i++)
		if (irq_devs[i] == d)
			irq_devs[i] = NULL;
	d->irq_on = false;
}

uint32_t kit_virtio_take_isr(struct kit_vdev *d)
{
	/* Interrupts only run inside kit_virtio_wait: no race here. */
	uint32_t v = d->isr;
	d->isr = 0;
	return v;
}

/*
 * Interrupts are let in only here. sti's shadow covers the hlt, so no
 * wake-up is lost. The port write after hlt is for the emulating KVM of our
 * CI machines: when an interrupt is already pending at the hlt, the hlt
 * returns at once and the emulator would run on into the cli without
 * delivering it; the write is a VM exit, and KVM injects the pending
 * interrupt on the way back in, while IF is still set. Port 0x80 is the PC's
 * POST/delay port, harmless on any VMM. Without a pending interrupt, the
 * LAPIC tick ends the hlt within ~10 ms.
 */
#define IRQ_WINDOW "sti; hlt; xor %%eax, %%eax; outb %%al, $0x80; cli"

void kit_virtio_irq_window(void)
{
	__asm__ volatile(IRQ_WINDOW ::: "rax", "memory");
}

bool kit_virtio_wait(bool (*done)(void *), void *arg, uint64_t timeout_us,
		     bool irq)
{
	uint64_t deadline = rdtsc() + timeout_us * kit_tsc_khz() / 1000;
	for (;;) {
		if (done(arg))
			return true;
		if (rdtsc() > deadline)
			return false;
		if (irq)
			__asm__ volatile(IRQ_WINDOW ::: "rax", "memory");
		else
			__asm__ volatile("pause" ::: "memory");
	}
}

static bool used_ready(void *arg)
{
	return kit_virtq_has_used(arg);
}

bool kit_virtq_wait(struct kit_virtq *q, uint64_t timeout_us)
{
	return kit_virtio_wait(used_ready, q, timeout_us, q->dev->irq_on);
}

/* ---- time */
#define PIT_HZ 1193182u
#define CALIBRATE_MS 10u

static uint64_t tsc_khz;

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(0));
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v),
			 "d"((uint32_t)(v >> 32)));
}

/* kvmclock (both VMMs run on KVM): the host's TSC-to-ns scale gives the
 * TSC rate without waiting for anything. */
static uint64_t kvmclock_khz(void)
{
	static volatile struct {
		uint32_t version, pad0;
		uint64_t tsc_timestamp, system_time;
		uint32_t mul;
		int8_t shift;
		uint8_t flags, pad[2];
	} pv __attribute__((aligned(64)));
	uint32_t r[4];
	cpuid(0x40000000, r);
	if (r[1] != 0x4b4d564b || r[2] != 0x564b4d56 || r[3] != 0x4d)
		return 0; /* "KVMKVMKVM\0\0\0" */
	cpuid(0x40000001, r);
	if (!(r[0] & (1u << 3))) /* KVM_FEATURE_CLOCKSOURCE2 */
		return 0;
	wrmsr(0x4b564d01, (uintptr_t)&pv | 1);
	uint32_t mul = 0;
	int8_t shift = 0;
	for (unsigned tries = 0; tries < 1000 && !mul; tries++) {
		uint32_t v = pv.version;
		__asm__ volatile("" ::: "memory");
		mul = pv.mul;
		shift = pv.shift;
		__asm__ volatile("" ::: "memory");
		if ((v & 1) || v != pv.version)
			mul = 0;
	}
	wrmsr(0x4b564d01, 0);
	if (!mul)
		return 0;
	uint64_t khz = (1000000ull << 32) / mul; /* ns = tsc*2^shift*mul/2^32 */
	return shift >= 0 ? khz >> shift : khz << -shift;
}

/* PIT channel 2, mode 0, gate on, speaker off: port 0x61 bit 5 goes high
 * when the count reaches 0 (needs the speaker port: KVM's in-kernel PIT
 * has it, QEMU microvm does not). */
static uint64_t pit_khz(void)
{
	uint16_t latch = (uint16_t)(PIT_HZ / (1000u / CALIBRATE_MS));
	outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
	outb(0x43, 0xb0);
	outb(0x42, (uint8_t)(latch & 0xff));
	outb(0x42, (uint8_t)(latch >> 8));
	uint64_t t0 = rdtsc(), limit = t0 + 4000000000ull;
	if (inb(0x61) & 0x20)
		return 0; /* already high: nothing counts here */
	while (!(inb(0x61) & 0x20))
		if (rdtsc() > limit)
			return 0;
	return (rdtsc() - t0) / CALIBRATE_MS;
}

uint64_t kit_tsc_khz(void)
{
	if (tsc_khz)
		return tsc_khz;
	const char *how = "kvmclock";
	tsc_khz = kvmclock_khz();
	if (!tsc_khz) {
		how = "PIT";
		tsc_khz = pit_khz();
	}
	if (!tsc_khz) {
		how = "assumed, no kvmclock or PIT";
		tsc_khz = 2000000;
	}
	kit_printf("kit: TSC %lu kHz (%s)\n", (unsigned long)tsc_khz, how);
	return tsc_khz;
}

uint64_t kit_tsc_to_us(uint64_t cycles)
{
	return cycles * 1000 / kit_tsc_khz();
}
