/*
 * balloon-hostile [cases=a,b,...] [wait=on]: what a malicious guest kernel
 * does to the first virtio-balloon device, one named case at a time. Each
 * case starts the device afresh and then:
 *   pfn-*     posts a well-formed inflate buffer, then the same as deflate,
 *             naming pages that are not RAM: past the end of RAM, in the
 *             MMIO hole, the low pages the memory map does not give as RAM
 *             (EBDA tail, legacy hole, ACPI tables), huge PFNs whose
 *             address truncated to 32 bits names a canary page, and
 *             duplicates. Both buffers must come back (used length 0).
 *   buf-*     a PFN buffer that is device-writable, empty, of a length
 *             that is not a multiple of 4, or longer than 256 PFNs;
 *   chain-*   PFNs split across descriptors (PFNs straddling them, one
 *             descriptor a PFN, an indirect table: all valid), and bad
 *             chains: readable after writable, a descriptor outside RAM or
 *             on the device's own registers, a loop;
 *   report-*  free page reporting chunks that are unaligned, readable,
 *             outside RAM, in reserved low memory, or mixed with good ones;
 *   stats-*   a flood of statistics buffers, and malformed ones;
 *   reset-*   device resets (Status 0) while inflate, deflate, reporting or
 *             statistics buffers are queued or just kicked, after which the
 *             kit points the old buffers at the canaries and kicks again.
 * A malformed buffer may come back or make the device ask for a reset
 * (NEEDS_RESET); it must not hang. Whatever a case did, no canary may have
 * been given back (modvmm's rule, docs/balloon.md: a malformed buffer is
 * ignored as a whole), and the device must then work: an inflate and a
 * deflate of 4 pages come back, after a new set-up if it asked for one.
 * "PASS balloon-hostile.CASE" per case; a case whose feature was not
 * negotiated is skipped with a "kit:" line.
 *
 * Last, "kit: balloon-hostile: expect bad_pfns>=N bad_buffers>=N
 * inflated_pages>=N stats_updates>=N": lower bounds, from the buffers that
 * came back, for the host to compare with `balloon info`. With wait=on the
 * kit then prints its summary and halts until the VM is stopped (so the
 * host can ask the VMM), instead of powering off.
 *
 * The cases: balloon_hostile_pages.c (pfn, buf, chain) and
 * balloon_hostile_queues.c (report, stats, reset); the harness and the
 * canaries: balloon_hostile.c.
 */
#include "balloon_hostile.h"

/* ---- the cases */

static const struct {
	const char *name;
	uint64_t need; /* feature bits the case needs */
	bool (*run)(char *why, size_t n);
} cases[] = {
	{"pfn-past-ram", 0, bh_pfn_past_ram},
	{"pfn-mmio-hole", 0, bh_pfn_mmio_hole},
	{"pfn-low-reserved", 0, bh_pfn_low_reserved},
	{"pfn-huge", 0, bh_pfn_huge},
	{"pfn-duplicates", 0, bh_pfn_duplicates},
	{"buf-writable", 0, bh_buf_writable},
	{"buf-zero-length", 0, bh_buf_zero_length},
	{"buf-odd-length", 0, bh_buf_odd_length},
	{"buf-too-long", 0, bh_buf_too_long},
	{"chain-split-pfn", 0, bh_chain_split_pfn},
	{"chain-many", 0, bh_chain_many},
	{"chain-read-then-write", 0, bh_chain_read_then_write},
	{"chain-write-then-read", 0, bh_chain_write_then_read},
	{"chain-outside-ram", 0, bh_chain_outside_ram},
	{"chain-into-mmio", 0, bh_chain_into_mmio},
	{"chain-loop", 0, bh_chain_loop},
	{"chain-indirect", 0, bh_chain_indirect},
	{"report-unaligned", 1ull << BH_F_REPORTING, bh_report_unaligned},
	{"report-readable", 1ull << BH_F_REPORTING, bh_report_readable},
	{"report-outside-ram", 1ull << BH_F_REPORTING, bh_report_outside_ram},
	{"report-low-reserved", 1ull << BH_F_REPORTING, bh_report_low_reserved},
	{"report-mixed", 1ull << BH_F_REPORTING, bh_report_mixed},
	{"stats-flood", 1ull << BH_F_STATS, bh_stats_flood},
	{"stats-malformed", 1ull << BH_F_STATS, bh_stats_malformed},
	{"reset-queued", 0, bh_reset_queued},
	{"reset-inflate-kicked", 0, bh_reset_inflate_kicked},
	{"reset-deflate-kicked", 0, bh_reset_deflate_kicked},
	{"reset-report-kicked", 1ull << BH_F_REPORTING, bh_reset_report_kicked},
	{"reset-stats-held", 1ull << BH_F_STATS, bh_reset_stats_held},
	{"reset-storm", 0, bh_reset_storm},
	{"reset-before-driver-ok", 0, bh_reset_before_driver_ok},
};

static void run_case(unsigned i)
{
	char check[48], why[128] = "";
	kit_snprintf(check, sizeof(check), "balloon-hostile.%s", cases[i].name);
	if ((bh_dev.features & cases[i].need) != cases[i].need) {
		kit_printf("kit: balloon-hostile %s: skipped, feature not "
			   "negotiated\n",
			   cases[i].name);
		return;
	}
	kit_printf("kit: balloon-hostile %s\n", cases[i].name);
	if (!bh_fresh(true)) {
		kit_check(false, check, "set-up: %s", kit_virtio_why);
		return;
	}
	bool ok = cases[i].run(why, sizeof(why));
	char why2[128] = "";
	if (!bh_canary_ok(why2, sizeof(why2))) {
		if (ok)
			memcpy(why, why2, sizeof(why));
		ok = false;
		bh_canary_init(false);
	}
	/* Whatever happened, the device works: as it is if it did not ask
	 * for a reset, else after a new set-up. */
	bool reset = bh_broken();
	if (reset && !bh_fresh(true)) {
		kit_snprintf(why2, sizeof(why2), "%s", kit_virtio_why);
	} else if (bh_works(why2, sizeof(why2))) {
		why2[0] = 0;
	}
	if (why2[0] && ok) {
		ok = false;
		kit_snprintf(why, sizeof(why), "device %s: %s",
			     reset ? "after a reset" : "(no reset asked for)",
			     why2);
	}
	kit_check(ok, check, "%s", why);
}

static void hostile(void)
{
	char why[128] = "";
	if (!kit_vcheck(kit_virtio_find(VIRTIO_ID_BALLOON, 0, &bh_dev, true),
			"balloon-hostile.find"))
		return;
	if (!kit_vcheck(bh_fresh(true), "balloon-hostile.init"))
		return;
	kit_tsc_khz();
	kit_printf("kit: balloon-hostile: features 0x%lx (offered 0x%lx), "
		   "RAM ends at 0x%lx\n",
		   bh_dev.features, bh_dev.offered, bh_ram_top());
	bh_canary_init(true);
	if (!kit_check(bh_canary_ok(why, sizeof(why)), "balloon-hostile.canary",
		       "before any case: %s", why))
		return;
	for (unsigned i = 0; i < KIT_ARRAY_SIZE(cases); i++)
		if (kit_case_wanted(cases[i].name))
			run_case(i);
	kit_printf("kit: balloon-hostile: expect bad_pfns>=%lu "
		   "bad_buffers>=%lu inflated_pages>=%lu stats_updates>=%lu\n",
		   bh_tally.refused_pfns, bh_tally.bad_buffers,
		   bh_tally.inflated, bh_tally.stats);
	kit_virtio_irq_disable(&bh_dev);
	kit_virtio_reset(&bh_dev);
	if (kit_arg_onoff("wait", false)) {
		kit_printf("kit: balloon-hostile: halting until the VM is "
			   "stopped\n");
		kit_done();
		kit_halt_forever();
	}
}

const struct kit_program kit_prog_balloon_hostile = {"balloon-hostile",
						     hostile};
