/*
 * What every kernel loader (boot_pvh.c, boot_linux.c) is given and gives
 * back; boot.c picks the loader and fills these. Types only.
 */
#ifndef MODVMM_CORE_BOOT_LOADER_H
#define MODVMM_CORE_BOOT_LOADER_H

#include <stdint.h>

enum boot_kind { BOOT_PVH, BOOT_LINUX64 };

struct boot_result {
	enum boot_kind kind;
	uint64_t entry;         /* RIP of the boot CPU */
	uint64_t boot_info_gpa; /* EBX (PVH) or RSI (Linux) */
	uint64_t kernel_end;    /* first byte after the loaded kernel */
};

/* What the loaders place next to the kernel. */
struct boot_extras {
	const char *cmdline; /* may be NULL */
	uint64_t initrd_gpa; /* 0 = none */
	uint64_t initrd_size;
	uint64_t rsdp_gpa;
};

#endif
