/*
 * Power-off the way an OS does it: SLP_TYP from the DSDT's \_S5 package,
 * written with SLP_EN to the FADT's sleep control register (hardware-reduced
 * ACPI: SLP_TYPx in bits 4:2, SLP_EN bit 5) or, on a full-ACPI FADT, to
 * PM1a/PM1b_CNT (SLP_TYPx in bits 12:10, SLP_EN bit 13). If the VM is still
 * running after that, each further way out is tried and said on the console:
 * the FADT reset register, the i8042 reset line, a triple fault, cli; hlt.
 */
#include "acpi.h"

#define HWR_SLP_EN (1u << 5)
#define PM1_SLP_EN (1u << 13)
/* How long a way out gets before the next is tried. rdtsc: at any plausible
 * TSC rate (KVM here reports 2 GHz) this is tens of milliseconds, enough for
 * a VMM's main loop to act on an asynchronous shutdown request. */
#define GRACE_CYCLES 200000000ull

static void gas_write(const struct kit_gas *g, uint32_t v)
{
	unsigned width = g->bit_width;
	if (!width)
		width = g->access_size ? 8u << (g->access_size - 1) : 8;
	v <<= g->bit_offset;
	if (g->space == 1 && g->address <= 0xffff) {
		uint16_t port = (uint16_t)g->address;
		if (width <= 8)
			outb(port, (uint8_t)v);
		else if (width <= 16)
			outw(port, (uint16_t)v);
		else
			outl(port, v);
	} else if (g->space == 0 && g->address) {
		volatile void *m = kit_phys(g->address);
		if (width <= 8)
			*(volatile uint8_t *)m = (uint8_t)v;
		else if (width <= 16)
			*(volatile uint16_t *)m = (uint16_t)v;
		else
			*(volatile uint32_t *)m = v;
	}
}

static void grace(void)
{
	uint64_t t0 = rdtsc();
	while (rdtsc() - t0 < GRACE_CYCLES)
		__asm__ volatile("pause");
}

void kit_poweroff(void)
{
	const struct kit_acpi *a = &kit_acpi;
	/* Without \_S5 guess 5: what QEMU's GED and modvmm use for S5. */
	uint32_t typa = a->s5_found ? a->slp_typa : 5,
		 typb = a->s5_found ? a->slp_typb : 5;
	bool hw_reduced = a->fadt_flags & FADT_HW_REDUCED;
	if (hw_reduced && a->sleep_ctl.address) {
		gas_write(&a->sleep_ctl, (typa & 7) << 2 | HWR_SLP_EN);
	} else if (a->pm1a_cnt.address) {
		gas_write(&a->pm1a_cnt, (typa & 7) << 10 | PM1_SLP_EN);
		if (a->pm1b_cnt.address)
			gas_write(&a->pm1b_cnt, (typb & 7) << 10 | PM1_SLP_EN);
	}
	grace();
	kit_printf("kit: power-off did not stop the VM\n");
	if (a->reset_reg.address) {
		kit_printf("kit: trying the FADT reset register\n");
		gas_write(&a->reset_reg, a->reset_value);
		grace();
	}
	kit_printf("kit: trying i8042 reset\n");
	outb(0x64, 0xfe);
	grace();
	/* A triple fault ends the VM on any VMM (KVM_EXIT_SHUTDOWN; QEMU with
	 * -no-reboot exits): an empty IDT turns the #UD into one. */
	kit_printf("kit: trying a triple fault\n");
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} empty = {0, 0};
	__asm__ volatile("lidt %0; ud2" ::"m"(empty));
	kit_halt_forever();
}
