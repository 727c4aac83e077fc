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

#include "boot/loader.h"
#include "config/config.h"
#include "guest_ram.h"

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
		    struct boot_image *bi, struct error *err);
void boot_image_close(struct boot_image *bi);

/*
 * Loads the kernel, then the initramfs and command line, and fills `out`.
 * User errors (doesn't fit in RAM, command line too long) return -EINVAL
 * with err->msg naming the file.
 */
int boot_load(struct guest_ram *ram, const struct boot_image *bi,
	      const char *initramfs, const char *cmdline,
	      struct boot_result *out, struct error *err);

#endif
