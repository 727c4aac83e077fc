/*
 * vCPUs: one thread each running KVM_RUN and dispatching port/MMIO exits to
 * the buses. The boot CPU starts at the loader's entry point (32-bit PVH or
 * 64-bit Linux); the others wait in the in-kernel LAPIC for INIT/SIPI.
 */
#ifndef MODVMM_CORE_VCPU_H
#define MODVMM_CORE_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>

#include "vm.h"

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
};

/* Creates vm->ncpus vCPUs with CPUID and LAPIC set up, and the boot CPU's
 * registers for vm->entry. Returns 0 or -errno with `err` set (the host's). */
int vcpus_create(struct vm *vm, struct error *err);
int vcpus_start(struct vm *vm);
/* Forces every running vCPU out of KVM_RUN. vcpus_create installs it as
 * vm->kick_vcpus, through which vm_request_exit calls it. */
void vcpus_kick_all(struct vm *vm);
/* Stops every vCPU outside KVM_RUN and waits (up to 5 s) until they are
 * all parked: no guest code runs until vcpus_resume. 0, or -ETIMEDOUT
 * (still pausing: a vCPU is stuck in a device callback). Any thread but a
 * vCPU's. */
int vcpus_pause(struct vm *vm);
void vcpus_resume(struct vm *vm);
bool vcpus_paused(struct vm *vm);
/* Joins the threads and closes the fds. */
void vcpus_destroy(struct vm *vm);

#endif
