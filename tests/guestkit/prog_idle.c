/*
 * idle: prints "kit: idle" and halts with interrupts off, forever. The host
 * uses it to test how the VMM stops a guest that never powers off (SIGTERM,
 * a control-socket shutdown): the vCPU sits in KVM's in-kernel halt, so
 * the VMM must kick it out.
 */
#include "kit.h"

static void idle(void)
{
	kit_printf("kit: idle\n");
	kit_halt_forever();
}

const struct kit_program kit_prog_idle = {"idle", idle};
