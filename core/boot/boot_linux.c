/*
 * The 64-bit Linux boot protocol (Documentation/arch/x86/boot.rst): load a
 * bzImage's protected-mode part at 1 MiB and fill a boot_params page with
 * the kernel's own setup header, our e820 map, command line, initramfs and
 * the ACPI RSDP address; the boot CPU enters at load address + 0x200 in
 * long mode with RSI pointing at boot_params.
 */
#include <errno.h>
#include <string.h>

#include "boot/boot_linux.h"
#include "layout.h"

#define LOADFLAG_LOADED_HIGH 0x01
#define LOADFLAG_CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x01
#define MIN_PROTOCOL 0x020c /* xloadflags and the 64-bit entry */

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

bool boot_is_bzimage(const uint8_t *img, size_t len)
{
	return len > BP_HEADER + 4 && memcmp(img + BP_HEADER, "HdrS", 4) == 0 &&
	       rd16(img + BP_BOOT_FLAG) == 0xaa55;
}

static size_t setup_size(const uint8_t *img)
{
	unsigned sects = img[BP_SETUP_SECTS] ? img[BP_SETUP_SECTS] : 4;

	return (size_t)(sects + 1) * 512;
}

uint64_t boot_linux_initrd_max(const uint8_t *img, size_t len)
{
	if (len < BP_INITRD_ADDR_MAX + 4)
		return 0x37ffffff;
	return (uint64_t)rd32(img + BP_INITRD_ADDR_MAX) + 1;
}

int boot_linux_check(const uint8_t *img, size_t len, struct error *err)
{
	if (!boot_is_bzimage(img, len)) {
		return error_user(err, "not a bzImage");
	}
	if (rd16(img + BP_VERSION) < MIN_PROTOCOL ||
	    !(rd16(img + BP_XLOADFLAGS) & XLF_KERNEL_64)) {
		return error_user(
			err, "bzImage too old or without a 64-bit entry point "
			     "(boot protocol 2.12+ with XLF_KERNEL_64 needed)");
	}
	if (setup_size(img) >= len) {
		return error_user(err, "truncated bzImage");
	}
	return 0;
}

int boot_linux_load(struct guest_ram *ram, const uint8_t *img, size_t len,
		    struct boot_result *out, struct error *err)
{
	size_t setup;
	uint64_t kernel_len, room;
	uint8_t *dst;
	int r = boot_linux_check(img, len, err);

	if (r < 0)
		return r;
	setup = setup_size(img);
	kernel_len = len - setup;
	/* The kernel decompresses in place and needs init_size bytes from its
	 * load address; make sure that much RAM exists. */
	room = rd32(img + BP_INIT_SIZE);
	if (room < kernel_len)
		room = kernel_len;
	if (!guest_ram_ptr(ram, LAYOUT_KERNEL_ADDR, room)) {
		return error_user(err, "kernel does not fit in guest RAM");
	}
	dst = guest_ram_ptr(ram, LAYOUT_KERNEL_ADDR, kernel_len);
	memcpy(dst, img + setup, kernel_len);
	out->kind = BOOT_LINUX64;
	out->entry = LAYOUT_KERNEL_ADDR + 0x200;
	out->kernel_end = LAYOUT_KERNEL_ADDR + room;
	out->boot_info_gpa = LAYOUT_ZERO_PAGE_ADDR;
	return 0;
}

int boot_linux_write_params(struct guest_ram *ram, const uint8_t *img,
			    size_t len, const struct boot_extras *x,
			    struct boot_result *out)
{
	uint8_t *bp = guest_ram_ptr(ram, LAYOUT_ZERO_PAGE_ADDR, 4096);
	struct e820_entry e820[BP_E820_MAX];
	size_t hdr_end;
	int n;

	if (!bp || len < BP_HEADER + 2)
		return -EFAULT;
	memset(bp, 0, 4096);
	/* The setup header runs from 0x1f1 to 0x202 + the byte at 0x201. */
	hdr_end = BP_HEADER + img[0x201];
	if (hdr_end > len || hdr_end > 4096)
		return -EINVAL;
	memcpy(bp + BP_SETUP_SECTS, img + BP_SETUP_SECTS,
	       hdr_end - BP_SETUP_SECTS);

	bp[BP_TYPE_OF_LOADER] = 0xff; /* undefined boot loader */
	bp[BP_LOADFLAGS] |= LOADFLAG_LOADED_HIGH | LOADFLAG_CAN_USE_HEAP;
	uint16_t heap_end = 0xfe00;
	memcpy(bp + BP_HEAP_END_PTR, &heap_end, 2);
	uint32_t code32 = (uint32_t)LAYOUT_KERNEL_ADDR;
	memcpy(bp + BP_CODE32_START, &code32, 4);

	if (x->cmdline && *x->cmdline) {
		uint32_t ptr = (uint32_t)LAYOUT_CMDLINE_ADDR;

		memcpy(bp + BP_CMD_LINE_PTR, &ptr, 4);
	}
	if (x->initrd_size) {
		uint32_t lo = (uint32_t)x->initrd_gpa;
		uint32_t sz = (uint32_t)x->initrd_size;
		uint32_t hi = (uint32_t)(x->initrd_gpa >> 32);
		uint32_t szhi = (uint32_t)(x->initrd_size >> 32);

		memcpy(bp + BP_RAMDISK_IMAGE, &lo, 4);
		memcpy(bp + BP_RAMDISK_SIZE, &sz, 4);
		memcpy(bp + BP_EXT_RAMDISK_IMAGE, &hi, 4);
		memcpy(bp + BP_EXT_RAMDISK_SIZE, &szhi, 4);
	}
	memcpy(bp + BP_ACPI_RSDP_ADDR, &x->rsdp_gpa, 8);

	n = layout_e820(ram->size, e820, BP_E820_MAX);
	if (n < 0)
		return n;
	memcpy(bp + BP_E820_TABLE, e820, (size_t)n * sizeof(e820[0]));
	bp[BP_E820_ENTRIES] = (uint8_t)n;
	out->boot_info_gpa = LAYOUT_ZERO_PAGE_ADDR;
	return 0;
}
