/*
 * The "does this host run guest kernel code natively?" probe of the `linux`
 * tests. A PVH ELF that stays in 32-bit protected mode (paging off, CPL0),
 * times PROBE_LOOPS iterations of `dec; jnz` with rdtsc, prints
 *
 *     probe: loops=<hex> tsc=<hex>
 *
 * on the 16550 at 0x3f8 and powers off through modvmm's ACPI sleep control
 * register (port 0x600, SLP_TYP 5, SLP_EN). A host that runs guest kernel
 * code natively needs about one TSC tick per iteration; the emulating KVM of
 * earlier CI machines (a PVM host: about 1 us an emulated instruction, so
 * ~2 us per iteration) needs thousands, and the nested host's real KVM under
 * QEMU/TCG reads 4-13.
 * tests/linux/linux_test.sh compares the two. Every instruction here runs
 * under that emulator: cpuid-free, no SSE, no int3.
 */
#define COM1		0x3f8
#define SLEEP_CTL	0x600
#define SLP_S5		((5 << 2) | (1 << 5))
#define PROBE_LOOPS	0x40000		/* ~0.5 s emulated, ~0.1 ms native */

	.section .note.Xen, "a", @note
	.p2align 2
	.long 2f - 1f
	.long 4f - 3f
	.long 18			/* XEN_ELFNOTE_PHYS32_ENTRY */
1:	.asciz "Xen"
2:	.p2align 2
3:	.quad probe_start
4:	.p2align 2

	.text
	.code32
	.globl probe_start
probe_start:
	cld
	cli
	mov	$stack_top, %esp
	mov	$msg_loops, %esi
	call	puts
	mov	$PROBE_LOOPS, %eax
	call	puthex
	rdtsc
	mov	%eax, %ebx
	mov	%edx, %ebp
	mov	$PROBE_LOOPS, %ecx
1:	dec	%ecx
	jnz	1b
	rdtsc
	sub	%ebx, %eax
	sbb	%ebp, %edx
	mov	%eax, %ebx
	mov	$msg_tsc, %esi
	push	%edx
	call	puts
	pop	%eax
	test	%eax, %eax
	jz	2f
	call	puthex			/* high half, only if nonzero */
2:	mov	%ebx, %eax
	call	puthex
	mov	$'\n', %al
	call	putc
	mov	$SLEEP_CTL, %dx
	mov	$SLP_S5, %al
	outb	%al, %dx
3:	hlt
	jmp	3b

/* putc: AL to COM1 (no LSR poll: a VMM's 16550 accepts every byte). */
putc:
	push	%edx
	mov	$COM1, %dx
	outb	%al, %dx
	pop	%edx
	ret

/* puts: NUL-terminated string at ESI. */
puts:
	lodsb
	test	%al, %al
	jz	1f
	call	putc
	jmp	puts
1:	ret

/* puthex: EAX as 8 hex digits. */
puthex:
	mov	%eax, %edx
	mov	$8, %ecx
1:	rol	$4, %edx
	mov	%edx, %eax
	and	$0xf, %eax
	mov	hexdigits(%eax), %al
	call	putc
	dec	%ecx
	jnz	1b
	ret

	.section .rodata
hexdigits:	.ascii "0123456789abcdef"
msg_loops:	.asciz "probe: loops="
msg_tsc:	.asciz " tsc="

	.bss
	.p2align 4
	.skip 1024
stack_top:

	.section .note.GNU-stack, "", @progbits
