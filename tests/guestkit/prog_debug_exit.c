/*
 * debug-exit: test=debug-exit port=PORT status=N
 * Writes the byte N to I/O port PORT (default 0x501, the debug-exit
 * example plugin's default; see examples/debug-exit), which a debug-exit
 * device turns into the VMM's exit status. If the VM is still running
 * afterwards, no device took the write: FAIL, and the kit powers off
 * (status 0) as usual, so a host script sees the wrong status either way.
 */
#include "kit.h"

static bool arg_u64(const char *key, uint64_t def, uint64_t *out)
{
	size_t len;
	const char *v = kit_arg(key, &len);

	*out = def;
	return !v || kit_parse_size(v, len, out);
}

static void debug_exit(void)
{
	uint64_t port, status;

	if (!arg_u64("port", 0x501, &port) || port > 0xffff) {
		kit_check(false, "debug-exit", "bad port=");
		return;
	}
	if (!arg_u64("status", 0, &status) || status > 0xff) {
		kit_check(false, "debug-exit", "bad status= (0..255)");
		return;
	}
	kit_printf("kit: debug-exit: writing %u to port 0x%x\n",
		   (unsigned)status, (unsigned)port);
	outb((uint16_t)port, (uint8_t)status);
	/* The VMM stops every vCPU when a device asks to exit; give it a few
	 * port exits' time before calling that a failure. */
	for (int i = 0; i < 1000; i++)
		(void)inb(0x80);
	kit_check(false, "debug-exit",
		  "still running after writing %u to port 0x%x: no debug-exit "
		  "device there?",
		  (unsigned)status, (unsigned)port);
}

const struct kit_program kit_prog_debug_exit = {"debug-exit", debug_exit};
