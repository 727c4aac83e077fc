/*
 * What a vCPU does after KVM_RUN returns: port and MMIO accesses go to the
 * buses; shutdowns, resets and failures end the VM with the right status;
 * a KVM internal error is reported with RIP and the instruction bytes there,
 * or why there are none; an int3 KVM cannot emulate is re-injected as #BP
 * (see REFERENCE.md).
 */
#ifndef MODVMM_CORE_VCPU_EXIT_H
#define MODVMM_CORE_VCPU_EXIT_H

#include "vcpu.h"

void vcpu_handle_exit(struct vcpu *v);

#endif
