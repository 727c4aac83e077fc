/*
 * A CPU exception in a kit program is a test failure, not a silent triple
 * fault: print the vector and RIP as a FAIL line and power off. The IDT is
 * filled at boot (32 gates, a few hundred instructions); its gates need the
 * handler address split into three fields, which the assembler cannot do
 * with relocatable symbols.
 */
#include "kit.h"

struct idt_gate {
	uint16_t off0;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off1;
	uint32_t off2;
	uint32_t zero;
} __attribute__((packed));

extern const uint64_t kit_isr_table[32];
/* All 256 vectors: gates above 31 stay not-present (a stray interrupt is
 * reported as #NP) unless a program installs one with kit_idt_set(). */
static struct idt_gate idt[256] __attribute__((aligned(16)));

static void set_gate(unsigned vec, uint64_t h)
{
	idt[vec] = (struct idt_gate){
		(uint16_t)h,         0x08, 0, 0x8e, (uint16_t)(h >> 16),
		(uint32_t)(h >> 32), 0};
}

void kit_idt_set(unsigned vector, void (*handler)(void))
{
	if (vector >= 32 && vector < 256)
		set_gate(vector, (uintptr_t)handler);
}

void kit_exceptions_init(void)
{
	for (unsigned i = 0; i < 32; i++)
		set_gate(i, kit_isr_table[i]);
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} desc = {sizeof(idt) - 1, (uintptr_t)idt};
	__asm__ volatile("lidt %0" ::"m"(desc));
}

volatile unsigned kit_breakpoints_allowed;
volatile unsigned kit_breakpoints_seen;
volatile uint64_t kit_breakpoint_rip;

void kit_exception(const uint64_t *frame);
void kit_exception(const uint64_t *frame)
{
	static bool nested;

	/* #BP is a trap: the saved RIP already points past the int3. */
	if (frame[0] == 3 && kit_breakpoints_allowed) {
		kit_breakpoints_allowed--;
		kit_breakpoints_seen++;
		kit_breakpoint_rip = frame[2];
		return;
	}
	if (nested) /* faulted while reporting or powering off */
		kit_halt_forever();
	nested = true;
	uint64_t cr2;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	kit_check(false, "kit",
		  "exception %lu at rip 0x%lx, error 0x%lx, cr2 0x%lx",
		  frame[0], frame[2], frame[1], cr2);
	kit_done();
	kit_poweroff();
}
