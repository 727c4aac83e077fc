/*
 * acpi: the tables a VMM generates are well-formed the way Linux checks
 * them: RSDP checksums, an XSDT, every table's checksum, a hardware-reduced
 * FADT (what modvmm and QEMU microvm emit) and an \_S5 for power-off.
 */
#include "acpi.h"

static void run(void)
{
	const struct kit_acpi *a = &kit_acpi;
	if (!kit_check(a->rsdp_found, "acpi.rsdp",
		       "no RSDP (start_info rsdp_paddr %lx, none in "
		       "0xe0000-0xfffff)",
		       kit_boot.rsdp_paddr))
		return;
	kit_check(a->rsdp_rev >= 2 && a->rsdp_xsum_ok, "acpi.rsdp_ext_checksum",
		  "revision %u, extended checksum %s", a->rsdp_rev,
		  a->rsdp_xsum_ok ? "ok" : "bad");
	const struct kit_table *x = a->ntables ? &a->tables[0] : NULL;
	kit_check(a->xsdt && x && !memcmp(x->sig, "XSDT", 4), "acpi.xsdt",
		  "no XSDT (root table %s)", x ? x->sig : "missing");
	for (unsigned i = 0; i < a->ntables; i++) {
		const struct kit_table *t = &a->tables[i];
		char check[32];
		kit_snprintf(check, sizeof(check), "acpi.checksum.%s", t->sig);
		kit_check(t->sum_ok, check, "%s at %lx len %u",
			  t->mapped ? "bad checksum" : "unreadable", t->paddr,
			  t->length);
	}
	kit_check(!a->tables_truncated, "acpi.table_count",
		  "more than %u tables", KIT_MAX_TABLES);
	if (kit_check(a->fadt_found, "acpi.fadt", "no FACP table")) {
		kit_check(a->fadt_flags & FADT_HW_REDUCED,
			  "acpi.fadt.hw_reduced", "flags %x lack bit 20",
			  a->fadt_flags);
		kit_check(a->sleep_ctl.address != 0, "acpi.fadt.sleep_control",
			  "SLEEP_CONTROL_REG is empty");
	}
	kit_check(a->madt_found, "acpi.madt", "no APIC table");
	if (kit_check(a->dsdt_found, "acpi.dsdt",
		      "no DSDT (FADT points at %lx)", a->dsdt_paddr)) {
		kit_check(!a->aml_incomplete, "acpi.dsdt.walk",
			  "AML walk stopped at an opcode it cannot skip");
		kit_check(a->s5_found, "acpi.dsdt.s5",
			  "no Name(_S5, Package(){...})");
	}
}

const struct kit_program kit_prog_acpi = {"acpi", run};
