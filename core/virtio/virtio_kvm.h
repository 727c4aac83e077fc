/*
 * The core's virtio host table, wired to KVM: QueueNotify through
 * ioeventfds, interrupts through irqfds (virtio_kvm.c).
 */
#ifndef MODVMM_CORE_VIRTIO_KVM_H
#define MODVMM_CORE_VIRTIO_KVM_H

#include <stddef.h>

#include <modvmm/plugin.h>

#include "vm.h"

/* host->virtio of the table every plugin gets. */
extern const struct mvm_virtio_host core_virtio_host;

/* Hands KVM the ioeventfds and irqfds that devices created before the VM
 * existed asked for; call once, right after the VM is created. Returns 0,
 * or -errno with `err` set to one line. */
int virtio_kvm_connect(struct vm *vm, struct error *err);

/* Drops what is still waiting (teardown of a VM that never got that far). */
void virtio_kvm_forget(struct vm *vm);

#endif
