/*
 * Guest RAM regions and the e820 map derived from the fixed layout in
 * layout.h. RAM below the MMIO hole ends at 3 GiB; anything beyond goes
 * above 4 GiB. The e820 map hides the EBDA tail and the ACPI area at
 * 0xE0000 from the guest's allocator.
 */
#include <errno.h>

#include "layout.h"

static int check_size(uint64_t mem_size)
{
	/* Below 1 MiB there would be no RAM for the kernel at all. */
	if (mem_size <= LAYOUT_HIGH_MEM_START || mem_size > LAYOUT_MAX_MEM)
		return -EINVAL;
	return 0;
}

uint64_t layout_max_mem(unsigned phys_bits)
{
	uint64_t hole = LAYOUT_4G - LAYOUT_MMIO_HOLE_START;

	/* 33 bits would leave 7 GiB; anything below that is not a CPU that
	 * runs KVM, and the 128M minimum already rules out the absurd. */
	if (phys_bits < 33)
		phys_bits = 33;
	if (phys_bits >= 41)
		return LAYOUT_MAX_MEM;
	return (1ULL << phys_bits) - hole;
}

int layout_ram_regions(uint64_t mem_size, struct mem_region out[2])
{
	uint64_t low = mem_size;
	int ret = check_size(mem_size);

	if (ret)
		return ret;
	if (low > LAYOUT_MMIO_HOLE_START)
		low = LAYOUT_MMIO_HOLE_START;
	out[0].gpa = 0;
	out[0].size = low;
	if (mem_size == low)
		return 1;
	out[1].gpa = LAYOUT_4G;
	out[1].size = mem_size - low;
	return 2;
}

static int add(struct e820_entry *out, int max, int *n, uint64_t addr,
	       uint64_t end, uint32_t type)
{
	if (*n >= max)
		return -ENOSPC;
	out[*n].addr = addr;
	out[*n].size = end - addr;
	out[*n].type = type;
	(*n)++;
	return 0;
}

int layout_e820(uint64_t mem_size, struct e820_entry *out, int max)
{
	struct mem_region ram[2] = {{0}};
	int nram = layout_ram_regions(mem_size, ram);
	int n = 0, ret;

	if (nram < 0)
		return nram;
	if (max < 0 || (max > 0 && !out))
		return -EINVAL;
	ret = add(out, max, &n, 0, LAYOUT_LOW_RAM_END, E820_RAM);
	if (!ret)
		ret = add(out, max, &n, LAYOUT_LOW_RAM_END, 0xa0000,
			  E820_RESERVED);
	if (!ret)
		ret = add(out, max, &n, LAYOUT_ACPI_ADDR,
			  LAYOUT_ACPI_ADDR + LAYOUT_ACPI_SIZE, E820_RESERVED);
	if (!ret)
		ret = add(out, max, &n, LAYOUT_HIGH_MEM_START, ram[0].size,
			  E820_RAM);
	if (!ret && nram == 2)
		ret = add(out, max, &n, ram[1].gpa, ram[1].gpa + ram[1].size,
			  E820_RAM);
	return ret ? ret : n;
}
