/*
 * ticker: prints "kit: tick N" every 100 ms, `ticks=N` times (default 600,
 * one minute), then passes. The host uses it to see a paused VM stop
 * running guest code (no ticks while paused) and carry on after resume.
 *
 * Time comes from the TSC, calibrated once against PIT channel 2 (gate
 * and output on port 0x61, as Linux's pit_calibrate_tsc does): a busy
 * loop would be useless, since CPL0 code runs emulated at an unknown,
 * variable speed. Ticks missed while paused are skipped, not replayed.
 */
#include "kit.h"

#define PIT_HZ 1193182u
#define CALIBRATE_MS 50u

/* TSC ticks in CALIBRATE_MS, or 0 if the PIT never counted down. */
static uint64_t tsc_per_calibration(void)
{
	uint16_t latch = (uint16_t)(PIT_HZ / (1000u / CALIBRATE_MS));
	uint64_t t0, t1, limit;

	/* Gate channel 2 on, speaker off; mode 0 (out goes high at 0). */
	outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
	outb(0x43, 0xb0);
	outb(0x42, (uint8_t)(latch & 0xff));
	outb(0x42, (uint8_t)(latch >> 8));
	t0 = rdtsc();
	/* Give up after ~10^10 cycles: no PIT at all. */
	limit = t0 + 10000000000ULL;
	while (!(inb(0x61) & 0x20))
		if (rdtsc() > limit)
			return 0;
	t1 = rdtsc();
	return t1 - t0;
}

static void ticker(void)
{
	uint64_t ticks = 600, per_cal, period, next;
	size_t len;
	const char *v = kit_arg("ticks", &len);

	if (v && !kit_parse_size(v, len, &ticks))
		ticks = 600;
	per_cal = tsc_per_calibration();
	if (!kit_check(per_cal != 0, "ticker.calibrate",
		       "PIT channel 2 never counted down"))
		return;
	period = per_cal * (100 / CALIBRATE_MS);
	kit_printf("kit: ticker: %llu TSC cycles per 100 ms\n",
		   (unsigned long long)period);
	next = rdtsc() + period;
	for (uint64_t n = 1; n <= ticks; n++) {
		uint64_t now;

		while ((now = rdtsc()) < next)
			;
		kit_printf("kit: tick %llu\n", (unsigned long long)n);
		next += period;
		if (now > next) /* paused for a while: do not catch up */
			next = now + period;
	}
	kit_check(true, "ticker", "unreachable");
}

const struct kit_program kit_prog_ticker = {"ticker", ticker};
