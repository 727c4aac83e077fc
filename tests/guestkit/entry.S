/*
 * PVH entry: the loader jumps to pvh_start32 in 32-bit protected mode with
 * paging off and EBX = physical address of struct hvm_start_info. There is
 * no stack, no GDT we may rely on, and the direction flag is unspecified.
 *
 * Everything costly is done at build time: the page tables below are static
 * data, because under an emulating KVM each CPL0 instruction costs ~1 us and
 * a 2048-iteration fill loop would cost milliseconds.
 */

#define PTE_P		0x001
#define PTE_RW		0x002
#define PTE_PS		0x080	/* 2 MiB page in a page directory */
#define CR4_PAE		0x020
#define EFER_MSR	0xc0000080
#define EFER_LME	0x100
#define CR0_PE_PG	0x80000001

#define SEL_CODE64	0x08
#define SEL_DATA	0x10

/* Xen ELF note, type 18 = XEN_ELFNOTE_PHYS32_ENTRY. The descriptor is 8 bytes
 * (as Linux emits it) so ELF64 loaders reading a u64 and ELF32-style loaders
 * reading a u32 both get the entry address. */
	.section .note.Xen, "a", @note
	.p2align 2
	.long 2f - 1f		/* namesz */
	.long 4f - 3f		/* descsz */
	.long 18		/* type */
1:	.asciz "Xen"
2:	.p2align 2
3:	.quad pvh_start32
4:	.p2align 2

	.section .text32, "ax", @progbits
	.code32
	.globl pvh_start32
pvh_start32:
	cld
	cli
	mov	%ebx, %esi		/* hvm_start_info, kept across the switch */
	lgdt	gdt_desc
	mov	$pml4, %eax
	mov	%eax, %cr3
	mov	%cr4, %eax
	or	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	$EFER_MSR, %ecx
	rdmsr
	or	$EFER_LME, %eax
	wrmsr
	mov	%cr0, %eax
	or	$CR0_PE_PG, %eax
	mov	%eax, %cr0		/* now in compatibility mode */
	ljmp	$SEL_CODE64, $start64

	.text
	.code64
start64:
	mov	$SEL_DATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	%eax, %fs
	mov	%eax, %gs
	mov	%esi, %ebx		/* 32-bit move: upper half was undefined */
	lea	__stack_top(%rip), %rsp
	/* .bss is not cleared here: an ELF loader zero-fills p_memsz beyond
	 * p_filesz (modvmm and QEMU both do), and clearing 220 KiB at CPL0
	 * under the emulating KVM costs ~15 ms, most of the kit's boot. */
	mov	%ebx, %edi
	xor	%ebp, %ebp
	call	kit_main
1:	cli
	hlt
	jmp	1b

	.section .rodata
	.p2align 3
gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code, DPL0 */
	.quad 0x00cf92000000ffff	/* 0x10: flat data */
gdt_end:
	.p2align 3
gdt_desc:
	.word gdt_end - gdt - 1
	.quad gdt

/*
 * Page tables: PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB
 * pages identity-mapping 0..4 GiB (RAM, ACPI tables, MMIO, APIC). PDPT[511]
 * -> kit_window_pd, whose entry 0 maps any 2 MiB physical page at the
 * virtual address KIT_WINDOW_VA (511 GiB) on demand: that is how programs
 * touch RAM above 4 GiB (see kit_map_high()).
 */
	.section .data.pagetables, "aw", @progbits
	.p2align 12
pml4:
	.quad pdpt + PTE_P + PTE_RW
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x0000 + PTE_P + PTE_RW
	.quad pd + 0x1000 + PTE_P + PTE_RW
	.quad pd + 0x2000 + PTE_P + PTE_RW
	.quad pd + 0x3000 + PTE_P + PTE_RW
	.fill 507, 8, 0
	.quad kit_window_pd + PTE_P + PTE_RW
pd:
	.set i, 0
	.rept 2048
	.quad (i << 21) + PTE_P + PTE_RW + PTE_PS
	.set i, i + 1
	.endr
	.globl kit_window_pd
kit_window_pd:
	.fill 512, 8, 0

	.section .note.GNU-stack, "", @progbits
