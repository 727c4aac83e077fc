/*
 * hello: the first thing a user boots. Shows what the kit found, the way an
 * OS would find it: memory map, RAM, CPUs, ACPI tables, DSDT devices.
 * Kept under ~1.5 KB of output (each character is two port exits).
 */
#include "acpi.h"

static void show_memmap(void)
{
	char sz[24];
	kit_printf("kit: memory map (%u entries%s):\n", kit_boot.nmem,
		   kit_boot.mem_truncated ? ", truncated" : "");
	for (unsigned i = 0; i < kit_boot.nmem; i++) {
		const struct kit_mem_range *m = &kit_boot.mem[i];
		kit_printf("kit:   %09lx-%09lx %-8s %s\n", m->addr,
			   m->addr + m->size - 1, kit_mem_type_name(m->type),
			   kit_fmt_size(sz, m->size));
	}
	kit_printf("kit: RAM %s\n", kit_fmt_size(sz, kit_ram_total()));
}

static void show_acpi(void)
{
	const struct kit_acpi *a = &kit_acpi;
	if (!a->rsdp_found) {
		kit_printf("kit: no ACPI RSDP found\n");
		return;
	}
	kit_printf("kit: ACPI RSDP @%lx (%s) rev %u oem %s%s\n", a->rsdp_paddr,
		   a->rsdp_from_start_info ? "start_info" : "scan", a->rsdp_rev,
		   a->oem,
		   a->rsdp_rev >= 2 && !a->rsdp_xsum_ok
			   ? ", extended checksum BAD"
			   : "");
	for (unsigned i = 0; i < a->ntables; i++) {
		const struct kit_table *t = &a->tables[i];
		kit_printf("kit:   %s @%lx len %u oem %s sum %s\n", t->sig,
			   t->paddr, t->length, t->oem,
			   !t->mapped  ? "unreadable"
			   : t->sum_ok ? "ok"
				       : "BAD");
	}
	kit_printf("kit: CPUs %u (MADT), IOAPIC %x\n", a->cpus_enabled,
		   a->ioapic_addr);
	const struct kit_gas *g = &a->sleep_ctl;
	if (a->fadt_flags & FADT_HW_REDUCED)
		kit_printf("kit: hw-reduced ACPI, sleep ctl %s %lx, S5 %s%u\n",
			   g->space ? "io" : "mem", g->address,
			   a->s5_found ? "" : "(guessed) ",
			   a->s5_found ? a->slp_typa : 5);
	kit_printf("kit: DSDT devices %u%s:\n", a->ndevices,
		   a->aml_incomplete ? " (AML walk incomplete)" : "");
	for (unsigned i = 0; i < a->ndevices; i++) {
		const struct kit_device *d = &a->devices[i];
		char line[160];
		int n = kit_snprintf(line, sizeof(line), "kit:   %-4s %-8s",
				     d->name, d->hid[0] ? d->hid : "-");
		for (unsigned j = 0; j < d->nmem && n < (int)sizeof(line); j++)
			n += kit_snprintf(line + n, sizeof(line) - n,
					  " mem %lx+%lx", d->mem[j].base,
					  d->mem[j].size);
		for (unsigned j = 0; j < d->nio && n < (int)sizeof(line); j++)
			n += kit_snprintf(line + n, sizeof(line) - n,
					  " io %x+%u", d->io[j].base,
					  d->io[j].len);
		for (unsigned j = 0; j < d->nirq && n < (int)sizeof(line); j++)
			n += kit_snprintf(line + n, sizeof(line) - n, " irq %u",
					  d->irq[j]);
		for (n = (int)strlen(line);
		     n && line[n - 1] == ' ';) /* a device without resources */
			line[--n] = 0;
		kit_printf("%s\n", line);
	}
}

static void run(void)
{
	if (kit_boot.valid)
		kit_printf("kit: PVH start_info v%u, cmdline \"%s\"\n",
			   kit_boot.version, kit_boot.cmdline);
	show_memmap();
	show_acpi();
	kit_check(kit_boot.valid && kit_boot.nmem && kit_acpi.rsdp_found &&
			  kit_acpi_all_sums_ok(),
		  "hello",
		  "start_info %s, %u memmap entries, RSDP %s, checksums %s",
		  kit_boot.valid ? "ok" : "bad", kit_boot.nmem,
		  kit_acpi.rsdp_found ? "found" : "missing",
		  !kit_acpi.rsdp_found     ? "unchecked"
		  : kit_acpi_all_sums_ok() ? "ok"
					   : "bad");
}

const struct kit_program kit_prog_hello = {"hello", run};
