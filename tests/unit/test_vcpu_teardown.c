/*
 * Ending a VM while other threads still kick the vCPUs: the event loop
 * answering "shutdown" (or "pause") and a vCPU powering off both run
 * vcpus_kick_all after their vm_request_exit has already woken main, which
 * then joins the threads, unmaps their kvm_run pages and frees the array.
 * No kick may touch a vCPU once that teardown has begun (modvmm died of
 * SIGSEGV at the last "shutdown" of kvm.api_bad_clients on a loaded host).
 *
 * No KVM here: the vCPUs are plain threads that wait for the exit request,
 * each with an anonymous page standing in for its kvm_run, so a kick that
 * lands after teardown faults (or ASan reports the freed array).
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "vcpu.h"

#define NCPUS 4
#define KICKERS 2
#define ROUNDS 50

struct kicker {
	struct vm *vm;
	pthread_t thread;
	bool pause; /* vcpus_pause as the event loop's "pause" does */
	int stop;   /* atomic */
};

static void *fake_vcpu(void *arg)
{
	struct vcpu *v = arg;

	vm_wait_exit(v->vm);
	return NULL;
}

static void *kick_loop(void *arg)
{
	struct kicker *k = arg;

	while (!__atomic_load_n(&k->stop, __ATOMIC_ACQUIRE)) {
		if (k->pause)
			vcpus_pause(k->vm);
		else
			vcpus_kick_all(k->vm);
	}
	return NULL;
}

static void vm_init(struct vm *vm)
{
	sigset_t all, old;

	memset(vm, 0, sizeof(*vm));
	pthread_mutex_init(&vm->exit_lock, NULL);
	pthread_cond_init(&vm->exit_cond, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	vm->ncpus = NCPUS;
	vm->run_size = (int)sysconf(_SC_PAGESIZE);
	vm->vcpus = calloc(NCPUS, sizeof(*vm->vcpus));
	assert_non_null(vm->vcpus);
	/* The fake vCPUs block every signal, so a kick is harmless to them
	 * while they live; what is tested is who touches them after. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned i = 0; i < NCPUS; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->vm = vm;
		v->id = i;
		v->fd = -1;
		v->run =
			mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		assert_true(v->run != MAP_FAILED);
		assert_int_equal(pthread_create(&v->thread, NULL, fake_vcpu, v),
				 0);
		v->started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void vm_fini(struct vm *vm)
{
	pthread_mutex_destroy(&vm->exit_lock);
	pthread_cond_destroy(&vm->exit_cond);
	pthread_mutex_destroy(&vm->pause_lock);
	pthread_cond_destroy(&vm->pause_cond);
}

/* main's side of machine.c's teardown, while `k` keep kicking. */
static void end_while_kicking(bool pause)
{
	for (int round = 0; round < ROUNDS; round++) {
		struct vm vm;
		struct kicker k[KICKERS];

		vm_init(&vm);
		for (int i = 0; i < KICKERS; i++) {
			k[i] = (struct kicker){.vm = &vm, .pause = pause && i};
			assert_int_equal(pthread_create(&k[i].thread, NULL,
							kick_loop, &k[i]),
					 0);
		}
		vm_request_exit(&vm, VM_EXIT_POWEROFF, "test");
		vcpus_kick_all(&vm);
		vcpus_destroy(&vm);
		assert_null(vm.vcpus);
		for (int i = 0; i < KICKERS; i++) {
			__atomic_store_n(&k[i].stop, 1, __ATOMIC_RELEASE);
			pthread_join(k[i].thread, NULL);
		}
		vm_fini(&vm);
	}
}

static void test_kicks_racing_teardown_leave_reaped_vcpus_alone(void **s)
{
	(void)s;
	end_while_kicking(false);
}

static void test_pause_racing_teardown_leaves_reaped_vcpus_alone(void **s)
{
	(void)s;
	end_while_kicking(true);
}

static void test_kick_after_teardown_is_a_no_op(void **s)
{
	struct vm vm;

	(void)s;
	vm_init(&vm);
	vm_request_exit(&vm, VM_EXIT_POWEROFF, "test");
	vcpus_kick_all(&vm);
	vcpus_destroy(&vm);
	vcpus_kick_all(&vm);
	assert_int_equal(vcpus_pause(&vm), 0);
	vm_fini(&vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_kicks_racing_teardown_leave_reaped_vcpus_alone),
		cmocka_unit_test(
			test_pause_racing_teardown_leaves_reaped_vcpus_alone),
		cmocka_unit_test(test_kick_after_teardown_is_a_no_op),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
