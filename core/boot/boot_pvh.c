/*
 * PVH boot: load an ELF64 image's PT_LOAD segments at their physical
 * addresses, find the Xen PHYS32_ENTRY note, and build hvm_start_info with
 * the command line, memory map, RSDP and initramfs module.
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "boot/boot_pvh.h"
#include "layout.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18

bool boot_is_elf(const uint8_t *img, size_t len)
{
	return len >= SELFMAG && memcmp(img, ELFMAG, SELFMAG) == 0;
}

static bool range_ok(size_t len, uint64_t off, uint64_t size)
{
	return off <= len && size <= len - off;
}

/* Walks one PT_NOTE segment for the PVH entry note. */
static bool find_pvh_note(const uint8_t *seg, uint64_t size, uint64_t *entry)
{
	uint64_t off = 0;

	while (size - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		uint64_t name_off, desc_off, next;

		memcpy(&nh, seg + off, sizeof(nh));
		name_off = off + sizeof(nh);
		desc_off = name_off + (((uint64_t)nh.n_namesz + 3) & ~3ULL);
		next = desc_off + (((uint64_t)nh.n_descsz + 3) & ~3ULL);
		if (next > size || desc_off > size)
			return false;
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
		    memcmp(seg + name_off, "Xen", 4) == 0) {
			if (nh.n_descsz == 4) {
				uint32_t e;

				memcpy(&e, seg + desc_off, 4);
				*entry = e;
				return true;
			}
			if (nh.n_descsz == 8) {
				memcpy(entry, seg + desc_off, 8);
				return *entry <= UINT32_MAX;
			}
			return false;
		}
		off = next;
	}
	return false;
}

static int check_elf_header(const uint8_t *img, size_t len, Elf64_Ehdr *eh,
			    struct error *err)
{
	if (len < sizeof(*eh)) {
		return error_user(err, "truncated ELF header");
	}
	memcpy(eh, img, sizeof(*eh));
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_X86_64) {
		return error_user(err,
				  "not a little-endian x86-64 ELF64 image");
	}
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
	    !range_ok(len, eh->e_phoff,
		      (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr))) {
		return error_user(err, "bad ELF program headers");
	}
	return 0;
}

int boot_pvh_find_entry(const uint8_t *img, size_t len, uint64_t *entry,
			struct error *err)
{
	Elf64_Ehdr eh;
	int r = check_elf_header(img, len, &eh, err);

	if (r < 0)
		return r;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, img + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_NOTE)
			continue;
		if (!range_ok(len, ph.p_offset, ph.p_filesz)) {
			return error_user(err,
					  "ELF note segment outside the file");
		}
		if (find_pvh_note(img + ph.p_offset, ph.p_filesz, entry))
			return 0;
	}
	return error_user(
		err,
		"ELF image has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); "
		"modvmm boots ELF kernels only through PVH");
}

int boot_pvh_load(struct guest_ram *ram, const uint8_t *img, size_t len,
		  struct boot_result *out, struct error *err)
{
	Elf64_Ehdr eh;
	uint64_t entry = 0, end = 0;
	int r = boot_pvh_find_entry(img, len, &entry, err);

	/* The entry is checked first so a non-PVH ELF leaves RAM untouched. */
	if (r < 0)
		return r;
	memcpy(&eh, img, sizeof(eh));
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		uint8_t *dst;

		memcpy(&ph, img + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_filesz > ph.p_memsz ||
		    !range_ok(len, ph.p_offset, ph.p_filesz)) {
			return error_user(err, "ELF segment outside the file");
		}
		dst = guest_ram_ptr(ram, ph.p_paddr, ph.p_memsz);
		if (!dst || ph.p_paddr < LAYOUT_HIGH_MEM_START) {
			return error_user(
				err,
				"ELF segment does not fit in guest RAM above "
				"1 MiB");
		}
		memcpy(dst, img + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		if (ph.p_paddr + ph.p_memsz > end)
			end = ph.p_paddr + ph.p_memsz;
	}
	if (end == 0) {
		return error_user(err, "ELF image has nothing to load");
	}
	out->kind = BOOT_PVH;
	out->entry = entry;
	out->kernel_end = end;
	out->boot_info_gpa = LAYOUT_PVH_INFO_ADDR;
	return 0;
}

int boot_pvh_write_info(struct guest_ram *ram, const struct boot_extras *x,
			struct boot_result *out)
{
	struct hvm_start_info si = {
		.magic = HVM_START_MAGIC,
		.version = 1,
		.rsdp_paddr = x->rsdp_gpa,
		.memmap_paddr = LAYOUT_PVH_MEMMAP_ADDR,
	};
	struct e820_entry e820[16];
	int n = layout_e820(ram->size, e820, 16);

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		struct hvm_memmap_entry m = {.addr = e820[i].addr,
					     .size = e820[i].size,
					     .type = e820[i].type};

		if (guest_ram_write(ram, LAYOUT_PVH_MEMMAP_ADDR + i * sizeof(m),
				    &m, sizeof(m)) < 0)
			return -EFAULT;
	}
	si.memmap_entries = (uint32_t)n;
	if (x->cmdline && *x->cmdline)
		si.cmdline_paddr = LAYOUT_CMDLINE_ADDR;
	if (x->initrd_size) {
		struct hvm_modlist_entry mod = {.paddr = x->initrd_gpa,
						.size = x->initrd_size};

		if (guest_ram_write(ram, LAYOUT_PVH_MODLIST_ADDR, &mod,
				    sizeof(mod)) < 0)
			return -EFAULT;
		si.nr_modules = 1;
		si.modlist_paddr = LAYOUT_PVH_MODLIST_ADDR;
	}
	if (guest_ram_write(ram, LAYOUT_PVH_INFO_ADDR, &si, sizeof(si)) < 0)
		return -EFAULT;
	out->boot_info_gpa = LAYOUT_PVH_INFO_ADDR;
	return 0;
}
