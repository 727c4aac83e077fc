/*
 * Programs that exercise how the VMM handles instructions the emulating KVM
 * of our CI machines cannot run at CPL0 (REFERENCE.md). Their instructions
 * live in the .probe section, which check_insns.sh deliberately skips.
 *
 * int3: executes one int3. On a KVM that runs it natively the CPU raises #BP;
 *   on the emulating KVM the VMM must step over it and inject #BP. Either
 *   way the kit's handler must see exactly one #BP with RIP just past the
 *   int3, and the program must carry on.
 * badinsn: executes xgetbv, which the emulating KVM cannot run: the VMM must
 *   stop with an internal-error report naming RIP and the bytes 0f 01 d0. On
 *   a native KVM the CPU raises #UD instead (CR4.OSXSAVE is clear), and the
 *   kit reports exception 6: the host test tells the two apart.
 */
#include "kit.h"

extern const char kit_probe_int3[], kit_probe_int3_end[];
__asm__(".pushsection .probe, \"ax\"\n"
	".globl kit_probe_int3, kit_probe_int3_end\n"
	"kit_probe_int3: int3\n"
	"kit_probe_int3_end: ret\n"
	".globl kit_probe_xgetbv\n"
	"kit_probe_xgetbv: xor %ecx, %ecx\n"
	"xgetbv\n"
	"ret\n"
	".popsection\n");
void kit_probe_xgetbv(void);

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

static void badinsn(void)
{
	kit_printf("kit: executing xgetbv at 0x%lx\n",
		   (uintptr_t)kit_probe_xgetbv);
	__asm__ volatile("call kit_probe_xgetbv" ::
				 : "rax", "rcx", "rdx", "memory");
	kit_check(false, "badinsn", "xgetbv ran without a fault");
}

const struct kit_program kit_prog_int3 = {"int3", int3};
const struct kit_program kit_prog_badinsn = {"badinsn", badinsn};
