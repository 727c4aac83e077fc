/*
 * The two smallest programs.
 * console: one known line for the host to compare byte for byte:
 *   "kit: pattern " followed by the 64 characters of KIT_PATTERN.
 * poweroff: nothing; kit_main() powers off. Measures boot-to-exit.
 */
#include "kit.h"

#define KIT_PATTERN                                                            \
	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+/"

static void console(void)
{
	_Static_assert(sizeof(KIT_PATTERN) == 65, "the pattern is 64 bytes");
	kit_printf("kit: pattern %s\n", KIT_PATTERN);
	kit_check(true, "console", "unreachable");
}

static void poweroff(void)
{
}

const struct kit_program kit_prog_console = {"console", console};
const struct kit_program kit_prog_poweroff = {"poweroff", poweroff};
