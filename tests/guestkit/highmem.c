/*
 * Physical memory above the identity-mapped 4 GiB. entry.S leaves one page
 * directory (kit_window_pd) behind the last 1 GiB of the first 512 GiB;
 * mapping a 2 MiB page there is one PTE write and one invlpg, where mapping
 * all of a large guest's RAM would be thousands of instructions at boot.
 * One window: a pointer is good until the next kit_phys() call.
 */
#include "kit.h"

#define WINDOW_VA 0x7fc0000000ull /* PML4[0], PDPT[511], PD[0] */
#define PAGE_2M (2ull << 20)

extern volatile uint64_t kit_window_pd[512];

volatile void *kit_phys(uint64_t paddr)
{
	if (paddr < (1ull << 32))
		return (volatile void *)(uintptr_t)paddr;
	kit_window_pd[0] = (paddr & ~(PAGE_2M - 1)) | 0x83; /* P | RW | 2 MiB */
	__asm__ volatile("invlpg (%0)" ::"r"(WINDOW_VA) : "memory");
	return (volatile void *)(uintptr_t)(WINDOW_VA +
					    (paddr & (PAGE_2M - 1)));
}
