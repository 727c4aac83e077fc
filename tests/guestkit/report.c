/*
 * Verdicts. The host side (ctest scripts, bench) parses these lines, so the
 * format is a contract: "PASS <check>", "FAIL <check>: <reason>", and the
 * last line before power-off "kit: done, N passed, M failed".
 */
#include "kit.h"

static unsigned passed, failed;

bool kit_check(bool ok, const char *check, const char *why_fmt, ...)
{
	if (ok) {
		passed++;
		kit_printf("PASS %s\n", check);
		return true;
	}
	failed++;
	char why[160];
	va_list ap;
	va_start(ap, why_fmt);
	kit_vsnprintf(why, sizeof(why), why_fmt, ap);
	va_end(ap);
	kit_printf("FAIL %s: %s\n", check, why);
	return false;
}

void kit_done(void)
{
	kit_printf("kit: done, %u passed, %u failed\n", passed, failed);
}
