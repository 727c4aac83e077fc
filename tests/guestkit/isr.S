/*
 * Exception stubs: a program that faults should say where instead of
 * triple-faulting silently. Each stub pushes a zero error code where the CPU
 * does not push one, then the vector, and calls kit_exception(frame).
 */
	.text
	.code64

.macro STUB n, has_err
isr_\n:
	.if \has_err == 0
	push	$0
	.endif
	push	$\n
	jmp	isr_common
.endm

/* Vectors that push an error code: 8, 10-14, 17, 21, 29, 30. */
	STUB 0,0;  STUB 1,0;  STUB 2,0;  STUB 3,0;  STUB 4,0;  STUB 5,0
	STUB 6,0;  STUB 7,0;  STUB 8,1;  STUB 9,0;  STUB 10,1; STUB 11,1
	STUB 12,1; STUB 13,1; STUB 14,1; STUB 15,0; STUB 16,0; STUB 17,1
	STUB 18,0; STUB 19,0; STUB 20,0; STUB 21,1; STUB 22,0; STUB 23,0
	STUB 24,0; STUB 25,0; STUB 26,0; STUB 27,0; STUB 28,0; STUB 29,1
	STUB 30,1; STUB 31,0

/* kit_exception returns only for exceptions a program asked to survive
 * (kit_expect_breakpoint): then the interrupted code resumes via iretq. */
isr_common:
	push	%rbp
	mov	%rsp, %rbp
	push	%rax
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	lea	8(%rbp), %rdi		/* [vector, error, rip, cs, rflags, rsp, ss] */
	and	$-16, %rsp
	call	kit_exception
	lea	-72(%rbp), %rsp
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rax
	pop	%rbp
	add	$16, %rsp		/* vector and error code */
	iretq

	.section .rodata
	.p2align 3
	.globl kit_isr_table
kit_isr_table:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad isr_\n
	.endr

	.section .note.GNU-stack, "", @progbits
