/*
 * The 64-bit Linux boot protocol: a bzImage's protected-mode part loaded
 * at 1 MiB and a boot_params page filled from its setup header. Called by
 * boot.c; the offsets are the boot protocol's
 * (Documentation/arch/x86/boot.rst).
 */
#ifndef MODVMM_CORE_BOOT_LINUX_H
#define MODVMM_CORE_BOOT_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/loader.h"
#include "guest_ram.h"

/* True when `img` carries a bzImage setup header ("HdrS", 0xAA55). */
bool boot_is_bzimage(const uint8_t *img, size_t len);
int boot_linux_check(const uint8_t *img, size_t len, struct error *err);
int boot_linux_load(struct guest_ram *ram, const uint8_t *img, size_t len,
		    struct boot_result *out, struct error *err);
int boot_linux_write_params(struct guest_ram *ram, const uint8_t *img,
			    size_t len, const struct boot_extras *x,
			    struct boot_result *out);
/* Highest address an initramfs may end at for this kernel (bzImage
 * initrd_addr_max; 4 GiB for PVH). */
uint64_t boot_linux_initrd_max(const uint8_t *img, size_t len);

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
