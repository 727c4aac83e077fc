/*
 * Guest CPUID: KVM_GET_SUPPORTED_CPUID's entries made true for one vCPU
 * (topology, hypervisor bit). Called by vcpu.c when it creates a vCPU.
 */
#ifndef MODVMM_CORE_VCPU_CPUID_H
#define MODVMM_CORE_VCPU_CPUID_H

#include <linux/kvm.h>

/* Fills CPUID entries for vCPU `id` of `ncpus` (exposed for unit tests). */
void cpuid_patch(struct kvm_cpuid2 *cpuid, unsigned id, unsigned ncpus);

#endif
