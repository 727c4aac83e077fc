/*
 * memmap expect_mem=SIZE: the memory map the VMM handed over is the RAM the
 * user asked for, in the right places, and real.
 *
 * The total rule: total = sum of type-1 (RAM) entries, and it must satisfy
 * SIZE - 1 MiB <= total <= SIZE. A VMM may keep part of the first MiB out of
 * RAM (EBDA, 0xA0000-0xFFFFF legacy hole) but must not lose more than that.
 * RAM must also stay out of the BIOS area 0xE0000-0xFFFFF (where the RSDP
 * lives) and out of the 3-4 GiB MMIO hole (override with hole=START, e.g.
 * hole=0xc0000000, the default), entries must not overlap, and the highest
 * RAM page must hold what is written to it.
 */
#include "kit.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)

static bool overlaps(const struct kit_mem_range *m, uint64_t start,
		     uint64_t end)
{
	return m->addr < end && start < m->addr + m->size;
}

static void check_top_page(void)
{
	uint64_t top = 0;
	for (unsigned i = 0; i < kit_boot.nmem; i++)
		if (kit_boot.mem[i].type == KIT_MEM_RAM &&
		    kit_boot.mem[i].addr + kit_boot.mem[i].size > top)
			top = kit_boot.mem[i].addr + kit_boot.mem[i].size;
	if (top < 4096) {
		kit_check(false, "memmap.top_page", "no RAM");
		return;
	}
	uint64_t page = (top - 8) & ~4095ull;
	volatile uint64_t *w = (volatile uint64_t *)kit_phys(top - 8);
	uint64_t saved = *w,
		 pattern = 0x6b69742d6d656d21ull ^ page; /* "kit-mem!" */
	*w = pattern;
	bool ok = *w == pattern;
	*w = ~pattern;
	ok = ok && *w == ~pattern;
	*w = saved;
	kit_printf("kit: highest RAM page %lx\n", page);
	kit_check(ok, "memmap.top_page", "word at %lx did not read back",
		  top - 8);
}

static void run(void)
{
	size_t len;
	uint64_t expect, hole = 3 * GIB;
	const char *v = kit_arg("expect_mem", &len);
	if (!v || !kit_parse_size(v, len, &expect)) {
		kit_check(false, "memmap.args",
			  "need expect_mem=SIZE (K/M/G suffixes)");
		return;
	}
	v = kit_arg("hole", &len);
	if (v && !kit_parse_size(v, len, &hole)) {
		kit_check(false, "memmap.args", "bad hole=%.*s", (int)len, v);
		return;
	}
	if (!kit_check(kit_boot.nmem > 0, "memmap.present",
		       "no memory map (start_info version %u)",
		       kit_boot.version))
		return;

	char a[24], b[24];
	uint64_t total = kit_ram_total();
	kit_check(total <= expect && total + MIB >= expect, "memmap.total",
		  "RAM %s, expected %s (minus up to 1 MiB)",
		  kit_fmt_size(a, total), kit_fmt_size(b, expect));

	const struct kit_mem_range *bios = NULL, *in_hole = NULL,
				   *overlap = NULL;
	for (unsigned i = 0; i < kit_boot.nmem; i++) {
		const struct kit_mem_range *m = &kit_boot.mem[i];
		if (i && m->addr < kit_boot.mem[i - 1].addr +
					   kit_boot.mem[i - 1].size)
			overlap = m;
		if (m->type != KIT_MEM_RAM)
			continue;
		if (overlaps(m, 0xe0000, 0x100000))
			bios = m;
		if (overlaps(m, hole, 4 * GIB))
			in_hole = m;
	}
	kit_check(!bios, "memmap.bios_area",
		  "RAM %lx+%lx overlaps 0xe0000-0xfffff", bios ? bios->addr : 0,
		  bios ? bios->size : 0);
	kit_check(!in_hole, "memmap.mmio_hole",
		  "RAM %lx+%lx overlaps the hole %lx-0xffffffff",
		  in_hole ? in_hole->addr : 0, in_hole ? in_hole->size : 0,
		  hole);
	kit_check(!overlap, "memmap.no_overlap",
		  "entry at %lx overlaps the previous one",
		  overlap ? overlap->addr : 0);
	check_top_page();
}

const struct kit_program kit_prog_memmap = {"memmap", run};
