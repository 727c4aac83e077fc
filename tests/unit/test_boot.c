/*
 * The boot paths' guest-visible structures: hvm_start_info for PVH and
 * boot_params for the 64-bit Linux boot protocol, built from synthetic
 * kernel images into an ordinary guest RAM mapping (no KVM needed).
 */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot/boot_linux.h"
#include "boot/boot_pvh.h"
#include "guest_ram.h"
#include "layout.h"

#define RAM_SIZE (128ULL << 20)
#define PVH_ENTRY 0x100040u
#define LOAD_ADDR 0x100000u

struct fake_elf {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	Elf64_Nhdr nh;
	char name[4];
	uint32_t desc;
	uint8_t code[64];
};

static void make_pvh_elf(struct fake_elf *f, bool with_note, uint64_t paddr)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->eh.e_ident, ELFMAG, SELFMAG);
	f->eh.e_ident[EI_CLASS] = ELFCLASS64;
	f->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	f->eh.e_machine = EM_X86_64;
	f->eh.e_phoff = offsetof(struct fake_elf, ph);
	f->eh.e_phentsize = sizeof(Elf64_Phdr);
	f->eh.e_phnum = 2;
	f->ph[0].p_type = PT_LOAD;
	f->ph[0].p_offset = offsetof(struct fake_elf, code);
	f->ph[0].p_paddr = paddr;
	f->ph[0].p_filesz = sizeof(f->code);
	f->ph[0].p_memsz = 4096; /* the rest is .bss: must be zeroed */
	f->ph[1].p_type = with_note ? PT_NOTE : PT_NULL;
	f->ph[1].p_offset = offsetof(struct fake_elf, nh);
	f->ph[1].p_filesz = sizeof(f->nh) + 8;
	f->nh.n_namesz = 4;
	f->nh.n_descsz = 4;
	f->nh.n_type = 18; /* XEN_ELFNOTE_PHYS32_ENTRY */
	memcpy(f->name, "Xen", 4);
	f->desc = PVH_ENTRY;
	memset(f->code, 0x90, sizeof(f->code));
}

static int ram_setup(void **state)
{
	struct guest_ram *ram = calloc(1, sizeof(*ram));
	struct error err;

	assert_non_null(ram);
	assert_int_equal(guest_ram_alloc(ram, RAM_SIZE, false, false, &err), 0);
	*state = ram;
	return 0;
}

static int ram_teardown(void **state)
{
	guest_ram_free(*state);
	free(*state);
	return 0;
}

/* A command line and an initrd, with the RSDP where the machine puts its
 * ACPI tables: what both loaders are handed to write into their boot info. */
static struct boot_extras extras(const char *cmdline, uint64_t initrd_gpa,
				 uint64_t initrd_size)
{
	return (struct boot_extras){.cmdline = cmdline,
				    .initrd_gpa = initrd_gpa,
				    .initrd_size = initrd_size,
				    .rsdp_gpa = LAYOUT_ACPI_ADDR};
}

static void test_pvh_start_info_fields(void **state)
{
	struct guest_ram *ram = *state;
	struct fake_elf f;
	struct boot_result br = {0};
	struct boot_extras x = extras("test=hello", 0x4000000, 12345);
	struct error err;
	struct hvm_start_info si;
	struct hvm_modlist_entry mod;

	make_pvh_elf(&f, true, LOAD_ADDR);
	memset(guest_ram_ptr(ram, LOAD_ADDR + 64, 64), 0xff, 64);
	assert_int_equal(
		boot_pvh_load(ram, (uint8_t *)&f, sizeof(f), &br, &err), 0);
	assert_int_equal(br.kind, BOOT_PVH);
	assert_int_equal(br.entry, PVH_ENTRY);
	assert_int_equal(br.kernel_end, LOAD_ADDR + 4096);
	assert_memory_equal(guest_ram_ptr(ram, LOAD_ADDR, 64), f.code, 64);
	assert_int_equal(*(uint8_t *)guest_ram_ptr(ram, LOAD_ADDR + 100, 1), 0);

	assert_int_equal(boot_pvh_write_info(ram, &x, &br), 0);
	assert_int_equal(br.boot_info_gpa, LAYOUT_PVH_INFO_ADDR);
	guest_ram_read(ram, LAYOUT_PVH_INFO_ADDR, &si, sizeof(si));
	assert_int_equal(si.magic, HVM_START_MAGIC);
	assert_int_equal(si.version, 1);
	assert_int_equal(si.rsdp_paddr, LAYOUT_ACPI_ADDR);
	assert_int_equal(si.cmdline_paddr, LAYOUT_CMDLINE_ADDR);
	assert_int_equal(si.nr_modules, 1);
	guest_ram_read(ram, si.modlist_paddr, &mod, sizeof(mod));
	assert_int_equal(mod.paddr, 0x4000000);
	assert_int_equal(mod.size, 12345);

	/* The memory map is the e820 map: RAM adds up to the guest's size
	 * minus the legacy hole below 1 MiB. */
	uint64_t ram_total = 0;
	for (uint32_t i = 0; i < si.memmap_entries; i++) {
		struct hvm_memmap_entry m;

		guest_ram_read(ram, si.memmap_paddr + i * sizeof(m), &m,
			       sizeof(m));
		if (m.type == E820_RAM)
			ram_total += m.size;
	}
	assert_true(ram_total <= RAM_SIZE && ram_total > RAM_SIZE - (1 << 20));
}

static void test_pvh_elf_without_note_is_refused(void **state)
{
	struct fake_elf f;
	struct boot_result br = {0};
	struct error err;

	make_pvh_elf(&f, false, LOAD_ADDR);
	assert_int_equal(
		boot_pvh_load(*state, (uint8_t *)&f, sizeof(f), &br, &err),
		-EINVAL);
	assert_non_null(strstr(err.msg, "PVH"));
}

static void test_pvh_segment_outside_ram_is_refused(void **state)
{
	struct fake_elf f;
	struct boot_result br = {0};
	struct error err;

	make_pvh_elf(&f, true, RAM_SIZE - 100);
	assert_int_equal(
		boot_pvh_load(*state, (uint8_t *)&f, sizeof(f), &br, &err),
		-EINVAL);
	make_pvh_elf(&f, true, UINT64_MAX - 10); /* wraps */
	assert_int_equal(
		boot_pvh_load(*state, (uint8_t *)&f, sizeof(f), &br, &err),
		-EINVAL);
}

static void test_pvh_truncated_program_headers_are_refused(void **state)
{
	struct fake_elf f;
	struct boot_result br = {0};
	struct error err;

	make_pvh_elf(&f, true, LOAD_ADDR);
	f.eh.e_phnum = 1000;
	assert_int_equal(
		boot_pvh_load(*state, (uint8_t *)&f, sizeof(f), &br, &err),
		-EINVAL);
}

/* A minimal bzImage: setup header plus a "kernel" of 0x1000 bytes. */
static uint8_t *make_bzimage(size_t *len, uint16_t version)
{
	size_t setup = 5 * 512;
	uint8_t *img = calloc(1, setup + 0x1000);
	uint32_t init_size = 0x200000, initrd_max = 0x37ffffff,
		 cmdline_size = 2048;
	uint16_t xlf = 1;

	img[BP_SETUP_SECTS] = 4;
	img[BP_BOOT_FLAG] = 0x55;
	img[BP_BOOT_FLAG + 1] = 0xaa;
	memcpy(img + BP_HEADER, "HdrS", 4);
	memcpy(img + BP_VERSION, &version, 2);
	img[0x201] = 0x6a; /* header ends at 0x26c */
	memcpy(img + BP_INIT_SIZE, &init_size, 4);
	memcpy(img + BP_INITRD_ADDR_MAX, &initrd_max, 4);
	memcpy(img + BP_CMDLINE_SIZE, &cmdline_size, 4);
	memcpy(img + BP_XLOADFLAGS, &xlf, 2);
	memset(img + setup, 0xab, 0x1000);
	*len = setup + 0x1000;
	return img;
}

static void test_linux_boot_params_fields(void **state)
{
	struct guest_ram *ram = *state;
	size_t len;
	uint8_t *img = make_bzimage(&len, 0x020f);
	struct boot_result br = {0};
	struct boot_extras x = extras("console=ttyS0", 0x5000000, 4096);
	struct error err;
	uint8_t *bp;
	uint32_t u32;
	uint64_t u64;

	assert_int_equal(boot_linux_load(ram, img, len, &br, &err), 0);
	assert_int_equal(br.kind, BOOT_LINUX64);
	assert_int_equal(br.entry, LAYOUT_KERNEL_ADDR + 0x200);
	assert_int_equal(*(uint8_t *)guest_ram_ptr(ram, LAYOUT_KERNEL_ADDR, 1),
			 0xab);
	assert_int_equal(boot_linux_write_params(ram, img, len, &x, &br), 0);
	assert_int_equal(br.boot_info_gpa, LAYOUT_ZERO_PAGE_ADDR);
	bp = guest_ram_ptr(ram, LAYOUT_ZERO_PAGE_ADDR, 4096);
	assert_memory_equal(bp + BP_HEADER, "HdrS", 4);
	assert_int_equal(bp[BP_TYPE_OF_LOADER], 0xff);
	assert_true(bp[BP_LOADFLAGS] & 0x01); /* LOADED_HIGH */
	memcpy(&u32, bp + BP_CMD_LINE_PTR, 4);
	assert_int_equal(u32, LAYOUT_CMDLINE_ADDR);
	memcpy(&u32, bp + BP_RAMDISK_IMAGE, 4);
	assert_int_equal(u32, 0x5000000);
	memcpy(&u32, bp + BP_RAMDISK_SIZE, 4);
	assert_int_equal(u32, 4096);
	memcpy(&u64, bp + BP_ACPI_RSDP_ADDR, 8);
	assert_int_equal(u64, LAYOUT_ACPI_ADDR);
	memcpy(&u32, bp + BP_CODE32_START, 4);
	assert_int_equal(u32, LAYOUT_KERNEL_ADDR);

	struct e820_entry e[BP_E820_MAX];
	int n = layout_e820(RAM_SIZE, e, BP_E820_MAX);
	assert_int_equal(bp[BP_E820_ENTRIES], n);
	assert_memory_equal(bp + BP_E820_TABLE, e, (size_t)n * sizeof(e[0]));
	free(img);
}

static void test_linux_old_protocol_is_refused(void **state)
{
	size_t len;
	uint8_t *img = make_bzimage(&len, 0x0206);
	struct boot_result br = {0};
	struct error err;

	assert_int_equal(boot_linux_load(*state, img, len, &br, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "too old"));
	free(img);
}

static void test_linux_kernel_bigger_than_ram_is_refused(void **state)
{
	size_t len;
	uint8_t *img = make_bzimage(&len, 0x020f);
	uint32_t huge = 0x7fffffff;
	struct boot_result br = {0};
	struct error err;

	memcpy(img + BP_INIT_SIZE, &huge, 4);
	assert_int_equal(boot_linux_load(*state, img, len, &br, &err), -EINVAL);
	free(img);
}

static void test_guest_ram_ptr_refuses_ranges_leaving_ram(void **state)
{
	struct guest_ram *ram = *state;

	assert_non_null(guest_ram_ptr(ram, 0, RAM_SIZE));
	assert_null(guest_ram_ptr(ram, 0, RAM_SIZE + 1));
	assert_null(guest_ram_ptr(ram, RAM_SIZE - 1, 2));
	assert_null(guest_ram_ptr(ram, UINT64_MAX, 2));
	assert_null(guest_ram_ptr(ram, 4096, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pvh_start_info_fields),
		cmocka_unit_test(test_pvh_elf_without_note_is_refused),
		cmocka_unit_test(test_pvh_segment_outside_ram_is_refused),
		cmocka_unit_test(
			test_pvh_truncated_program_headers_are_refused),
		cmocka_unit_test(test_linux_boot_params_fields),
		cmocka_unit_test(test_linux_old_protocol_is_refused),
		cmocka_unit_test(test_linux_kernel_bigger_than_ram_is_refused),
		cmocka_unit_test(test_guest_ram_ptr_refuses_ranges_leaving_ram),
	};

	return cmocka_run_group_tests(tests, ram_setup, ram_teardown);
}
