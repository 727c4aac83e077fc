/*
 * Loading a guest kernel into RAM and describing the machine to it. Two
 * entry points, picked from the file's contents:
 *  - an ELF with a Xen PVH note (an uncompressed vmlinux, the guest kit):
 *    32-bit PVH entry with an hvm_start_info (boot_pvh.c);
 *  - a bzImage: the 64-bit Linux boot protocol with boot_params
 *    (boot_linux.c).
 * Both put the command line, the initramfs and the memory map in RAM and
 * point the guest at the ACPI RSDP at LAYOUT_ACPI_ADDR.
 */
#ifndef MODVMM_CORE_BOOT_H
#define MODVMM_CORE_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "guest_ram.h"

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

/* A kernel file read into memory and recognised, before any RAM exists, so
 * that a wrong file is a user error before KVM is touched. */
struct boot_image {
	const char *path;
	uint8_t *img;
	size_t len;
	enum boot_kind kind;
};

/* Reads and checks `kernel` and checks that `initramfs` (may be NULL) is a
 * readable file. User errors return -errno with err->msg naming the file. */
int boot_image_open(const char *kernel, const char *initramfs,
		    struct boot_image *bi, struct cfg_error *err);
void boot_image_close(struct boot_image *bi);

/*
 * Loads the kernel, then the initramfs and command line, and fills `out`.
 * User errors (doesn't fit in RAM, command line too long) return -EINVAL
 * with err->msg naming the file.
 */
int boot_load(struct guest_ram *ram, const struct boot_image *bi,
	      const char *initramfs, const char *cmdline,
	      struct boot_result *out, struct cfg_error *err);

/* Loaders over an in-memory image (for unit tests and boot_load). */
int boot_pvh_find_entry(const uint8_t *img, size_t len, uint64_t *entry,
			const char **why);
int boot_pvh_load(struct guest_ram *ram, const uint8_t *img, size_t len,
		  struct boot_result *out, const char **why);
int boot_pvh_write_info(struct guest_ram *ram, const struct boot_extras *x,
			struct boot_result *out);
int boot_linux_check(const uint8_t *img, size_t len, const char **why);
int boot_linux_load(struct guest_ram *ram, const uint8_t *img, size_t len,
		    struct boot_result *out, const char **why);
int boot_linux_write_params(struct guest_ram *ram, const uint8_t *img,
			    size_t len, const struct boot_extras *x,
			    struct boot_result *out);
/* Highest address an initramfs may end at for this kernel (bzImage
 * initrd_addr_max; 4 GiB for PVH). */
uint64_t boot_linux_initrd_max(const uint8_t *img, size_t len);

bool boot_is_elf(const uint8_t *img, size_t len);
bool boot_is_bzimage(const uint8_t *img, size_t len);

/* hvm_start_info as the PVH ABI defines it (xen/include/public/arch-x86/
 * hvm/start_info.h), version 1. */
#define HVM_START_MAGIC 0x336ec578u
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
} __attribute__((packed));

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
} __attribute__((packed));

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
} __attribute__((packed));

/* boot_params ("zero page") offsets used by the 64-bit boot protocol. */
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_SETUP_SECTS 0x1f1
#define BP_BOOT_FLAG 0x1fe
#define BP_HEADER 0x202
#define BP_VERSION 0x206
#define BP_TYPE_OF_LOADER 0x210
#define BP_LOADFLAGS 0x211
#define BP_CODE32_START 0x214
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_HEAP_END_PTR 0x224
#define BP_CMD_LINE_PTR 0x228
#define BP_INITRD_ADDR_MAX 0x22c
#define BP_XLOADFLAGS 0x236
#define BP_CMDLINE_SIZE 0x238
#define BP_INIT_SIZE 0x260
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128

#endif
