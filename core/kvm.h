/*
 * Opening /dev/kvm and building the VM-wide KVM state: the VM fd, guest RAM
 * slots, the in-kernel IRQ chip (PIC + IOAPIC + LAPICs) and PIT.
 */
#ifndef MODVMM_CORE_KVM_H
#define MODVMM_CORE_KVM_H

#include "vm.h"

/* Opens /dev/kvm and creates the VM. On failure returns -errno with a
 * one-line reason in `err` (the host's: exit 1) (e.g. "/dev/kvm: No such file
 * or directory"). */
int kvm_vm_create(struct vm *vm, struct error *err);
/* Registers every guest RAM region as a KVM memory slot. */
int kvm_vm_map_ram(struct vm *vm, struct error *err);
/*
 * The same on a helper thread: on the nested KVM of our CI machines the
 * first memory slot of a VM costs 6-10 ms whatever its size, so the core
 * loads the kernel, creates devices and vCPUs meanwhile. Wait before the
 * first KVM_RUN (and on every exit path); wait returns the result.
 */
int kvm_vm_map_ram_start(struct vm *vm);
int kvm_vm_map_ram_wait(struct vm *vm, struct error *err);
/* KVM's recommended and maximum vCPU counts. */
int kvm_max_vcpus(const struct vm *vm);
void kvm_vm_close(struct vm *vm);

#endif
