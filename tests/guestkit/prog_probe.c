/*
 * Programs that exercise how the VMM handles instructions KVM does not run
 * for the guest: int3 on the emulating KVM of some earlier CI machines (a
 * PVM host whose guest CPL0 code ran in KVM's instruction emulator, about
 * 1 us an instruction), and the accesses that make any KVM give up with
 * KVM_EXIT_INTERNAL_ERROR. Their instructions live in the .probe section,
 * which check_insns.sh deliberately skips.
 *
 * int3: executes one int3. On a KVM that runs it natively the CPU raises #BP;
 *   on the emulating KVM the VMM must step over it and inject #BP. Either
 *   way the kit's handler must see exactly one #BP with RIP just past the
 *   int3, and the program must carry on.
 * badinsn: reads a guest-physical page that is neither RAM nor a device with
 *   popcnt. The CPU runs popcnt, but the read exits to KVM (no memslot), and
 *   KVM's instruction emulator has no popcnt: at CPL0 KVM stops with
 *   KVM_EXIT_INTERNAL_ERROR, suberror 1 (emulation). The VMM must report
 *   RIP and the bytes f3 0f b8 07. The emulating KVM cannot run popcnt
 *   anywhere, so it stops the same way.
 * badfetch: calls into that page. KVM must emulate the fetch and cannot
 *   fetch instructions from MMIO: the same internal error, but RIP is not in
 *   guest RAM, so the VMM must say so instead of showing bytes.
 * A real CPU exception in either means the VMM was never put to the test:
 * the kit reports it as a failure.
 */
#include "acpi.h"

/* The last page below the IOAPIC: the VMM hands out device MMIO from the
 * bottom of the hole (core/layout.h), QEMU's microvm leaves it empty too.
 * unclaimed() checks that no RAM or ACPI device is there. */
#define PROBE_NOWHERE 0xfebff000UL

extern const char kit_probe_int3[], kit_probe_int3_end[];
extern const char kit_probe_popcnt[];
__asm__(".pushsection .probe, \"ax\"\n"
	".globl kit_probe_int3, kit_probe_int3_end\n"
	"kit_probe_int3: int3\n"
	"kit_probe_int3_end: ret\n"
	".globl kit_probe_popcnt\n"
	"kit_probe_popcnt: popcnt (%rdi), %eax\n"
	"ret\n"
	".popsection\n");

static void int3(void)
{
	kit_breakpoints_allowed = 1;
	__asm__ volatile("call kit_probe_int3" ::: "memory");
	kit_check(kit_breakpoints_seen == 1, "int3.delivered",
		  "%u #BP exceptions seen, expected 1", kit_breakpoints_seen);
	kit_check(kit_breakpoint_rip == (uintptr_t)kit_probe_int3_end,
		  "int3.rip", "#BP saved RIP 0x%lx, expected 0x%lx",
		  kit_breakpoint_rip, (uintptr_t)kit_probe_int3_end);
}

static bool overlaps(uint64_t base, uint64_t size)
{
	return base < PROBE_NOWHERE + 4096 && PROBE_NOWHERE < base + size;
}

/* True if neither the memory map nor an ACPI device claims the page. */
static bool unclaimed(const char *check)
{
	for (unsigned i = 0; i < kit_boot.nmem; i++)
		if (overlaps(kit_boot.mem[i].addr, kit_boot.mem[i].size))
			return kit_check(false, check,
					 "0x%lx is in the memory map",
					 PROBE_NOWHERE);
	for (unsigned i = 0; i < kit_acpi.ndevices; i++) {
		const struct kit_device *d = &kit_acpi.devices[i];
		for (unsigned j = 0; j < d->nmem; j++)
			if (overlaps(d->mem[j].base, d->mem[j].size))
				return kit_check(false, check,
						 "0x%lx belongs to device %s",
						 PROBE_NOWHERE, d->name);
	}
	return true;
}

static void badinsn(void)
{
	uint32_t r;

	if (!unclaimed("badinsn.address"))
		return;
	kit_printf("kit: popcnt at 0x%lx reads 0x%lx\n",
		   (uintptr_t)kit_probe_popcnt, PROBE_NOWHERE);
	__asm__ volatile("call kit_probe_popcnt"
			 : "=a"(r)
			 : "D"(PROBE_NOWHERE)
			 : "memory");
	kit_check(false, "badinsn", "popcnt of MMIO gave 0x%x, no exit", r);
}

static void badfetch(void)
{
	if (!unclaimed("badfetch.address"))
		return;
	kit_printf("kit: calling 0x%lx\n", PROBE_NOWHERE);
	__asm__ volatile("call *%0" ::"r"(PROBE_NOWHERE)
			 : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",
			   "r11", "memory");
	kit_check(false, "badfetch", "code at 0x%lx ran and returned",
		  PROBE_NOWHERE);
}

const struct kit_program kit_prog_int3 = {"int3", int3};
const struct kit_program kit_prog_badinsn = {"badinsn", badinsn};
const struct kit_program kit_prog_badfetch = {"badfetch", badfetch};
