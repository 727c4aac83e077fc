/*
 * Guest CPUID: what KVM_GET_SUPPORTED_CPUID offers, with the topology fields
 * a guest uses to number its CPUs (initial APIC id, logical count, x2APIC
 * id) made true for each vCPU, and the hypervisor bit set so the guest
 * looks for kvmclock in the 0x40000000 leaves KVM already reports.
 */
#include "vcpu_cpuid.h"

#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_HTT (1u << 28)

void cpuid_patch(struct kvm_cpuid2 *cpuid, unsigned id, unsigned ncpus)
{
	for (unsigned i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		switch (e->function) {
		case 1:
			e->ebx &= 0x0000ffffu;
			e->ebx |= (id & 0xffu) << 24;
			e->ebx |= (ncpus & 0xffu) << 16;
			e->ecx |= CPUID_1_ECX_HYPERVISOR;
			if (ncpus > 1)
				e->edx |= CPUID_1_EDX_HTT;
			break;
		case 0xb:
		case 0x1f:
			/* Extended topology: x2APIC id in EDX for every
			 * sub-leaf. One thread per core, all in one package. */
			e->edx = id;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = (1u << 8) | 0;
			} else if (e->index == 1) {
				unsigned shift = 0;

				while ((1u << shift) < ncpus)
					shift++;
				e->eax = shift;
				e->ebx = ncpus;
				e->ecx = (2u << 8) | 1;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
			break;
		case 4: {
			/* Cores per package - 1 in EAX[31:26]. */
			unsigned cores = ncpus ? ncpus - 1 : 0;

			e->eax &= 0x03ffffffu;
			e->eax |= (cores & 0x3fu) << 26;
			e->eax &= ~(0xfffu << 14); /* threads sharing cache */
			break;
		}
		case 0x80000008: {
			/* AMD: cores per package - 1, and the APIC id bits
			 * that number them; otherwise Linux puts each vCPU in
			 * a package of its own. */
			unsigned shift = 0;

			while ((1u << shift) < ncpus)
				shift++;
			e->ecx = (shift << 12) |
				 ((ncpus ? ncpus - 1 : 0) & 0xff);
			break;
		}
		case 0x8000001e:
			/* AMD extended APIC id; one thread per core, one node.
			 */
			e->eax = id;
			e->ebx = id & 0xff;
			e->ecx = 0;
			break;
		default:
			break;
		}
	}
}
