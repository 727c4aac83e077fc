/*
 * cpus expect=N: the MADT lists N enabled CPUs whose APIC ids are exactly
 * 0..N-1 (each once), which is what a VMM that numbers vCPUs from 0 emits.
 */
#include "acpi.h"

static void run(void)
{
	size_t len;
	uint64_t n;
	const char *v = kit_arg("expect", &len);
	if (!v || !kit_parse_size(v, len, &n) || n == 0 || n > KIT_MAX_CPUS) {
		kit_check(false, "cpus.args", "need expect=N (1..%u)",
			  KIT_MAX_CPUS);
		return;
	}
	if (!kit_check(kit_acpi.madt_found, "cpus.madt", "no MADT"))
		return;
	kit_printf("kit: MADT: %u enabled CPUs\n", kit_acpi.cpus_enabled);
	kit_check(kit_acpi.cpus_enabled == n, "cpus.count",
		  "%u enabled CPUs, expected %lu", kit_acpi.cpus_enabled, n);

	uint8_t seen[KIT_MAX_CPUS] = {0};
	const char *bad = NULL;
	uint32_t bad_id = 0;
	for (unsigned i = 0; i < kit_acpi.napic && !bad; i++) {
		bad_id = kit_acpi.apic_ids[i];
		if (bad_id >= n)
			bad = "out of range";
		else if (seen[bad_id]++)
			bad = "duplicated";
	}
	kit_check(!bad && kit_acpi.napic == n, "cpus.apic_ids",
		  "APIC id %u %s (want ids 0..%lu)", bad_id,
		  bad ? bad : "missing", n - 1);
}

const struct kit_program kit_prog_cpus = {"cpus", run};
