/* How a VM ends: one exit status, first request wins. */
#include "vm.h"

#include <stdarg.h>
#include <stdio.h>

#include "locked.h"

void vm_request_exit(struct vm *vm, int status, const char *fmt, ...)
{
	void (*kick)(struct vm * vm);
	va_list ap;

	pthread_mutex_lock(&vm->exit_lock);
	if (vm->exit_requested) {
		pthread_mutex_unlock(&vm->exit_lock);
		return;
	}
	vm->exit_requested = true;
	vm->exit_status = status;
	va_start(ap, fmt);
	vsnprintf(vm->exit_reason, sizeof(vm->exit_reason), fmt, ap);
	va_end(ap);
	pthread_cond_broadcast(&vm->exit_cond);
	pthread_mutex_unlock(&vm->exit_lock);
	kick = __atomic_load_n(&vm->kick_vcpus, __ATOMIC_ACQUIRE);
	if (kick)
		kick(vm);
}

bool vm_exit_requested(struct vm *vm)
{
	return locked_read_bool(&vm->exit_lock, &vm->exit_requested);
}

int vm_wait_exit(struct vm *vm)
{
	pthread_mutex_lock(&vm->exit_lock);
	while (!vm->exit_requested)
		pthread_cond_wait(&vm->exit_cond, &vm->exit_lock);
	pthread_mutex_unlock(&vm->exit_lock);
	return vm->exit_status;
}
