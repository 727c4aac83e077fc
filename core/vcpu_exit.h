/*
 * What a vCPU does after KVM_RUN returns: port and MMIO accesses go to the
 * buses; shutdowns, resets and failures end the VM with the right status;
 * a KVM internal error is reported with RIP and the instruction bytes there,
 * or why there are none; an int3 KVM cannot emulate is re-injected as #BP.
 * (A KVM that runs guest kernel code through its instruction emulator, as
 * PVM-based hosts do, hands an int3 it cannot emulate to user space as an
 * emulation failure instead of delivering the trap.)
 */
#ifndef MODVMM_CORE_VCPU_EXIT_H
#define MODVMM_CORE_VCPU_EXIT_H

#include <linux/kvm.h>

#include "vm.h"

/* The vCPU an exit came from, as exit handling sees it (vcpu.c fills it
 * from its struct vcpu). */
struct vcpu_exit_src {
	struct vm *vm;
	unsigned id;
	int fd;              /* the vCPU's KVM fd */
	struct kvm_run *run; /* its mmap'ed run area, exit_reason set */
};

void vcpu_handle_exit(const struct vcpu_exit_src *v);

#endif
