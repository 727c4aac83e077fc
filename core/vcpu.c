/* vCPU creation, boot register state and the KVM_RUN loop; see vcpu.h. */
#define _GNU_SOURCE
#include "vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "vcpu_cpuid.h"
#include "locked.h"
#include "vcpu_exit.h"

#define KICK_SIGNAL SIGUSR1

/* Flat GDT shared by both boot paths: 0x08 64-bit code, 0x10 32-bit code,
 * 0x18 data, 0x20 a TSS descriptor (no TSS behind it: KVM only needs TR to
 * look valid). */
#define GDT_CODE64 0x08
#define GDT_CODE32 0x10
#define GDT_DATA 0x18
#define GDT_TSS 0x20

static const uint64_t boot_gdt[] = {
	0x0000000000000000ULL, 0x00af9b000000ffffULL, 0x00cf9b000000ffffULL,
	0x00cf93000000ffffULL, 0x00808b0000000fffULL,
};

static void kick_handler(int sig)
{
	(void)sig; /* only interrupts KVM_RUN */
}

static void seg_from_gdt(struct kvm_segment *s, uint16_t sel)
{
	uint64_t d = boot_gdt[sel >> 3];

	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->base = (uint32_t)(((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000));
	s->limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
	s->type = (d >> 40) & 0xf;
	s->s = (d >> 44) & 1;
	s->dpl = (d >> 45) & 3;
	s->present = (d >> 47) & 1;
	s->avl = (d >> 52) & 1;
	s->l = (d >> 53) & 1;
	s->db = (d >> 54) & 1;
	s->g = (d >> 55) & 1;
	if (s->g)
		s->limit = (s->limit << 12) | 0xfff;
}

/* Identity map of the first 4 GiB with 2 MiB pages for the 64-bit Linux
 * entry, which expects paging on with the kernel, boot_params and the
 * command line mapped 1:1. */
static int write_page_tables(struct vm *vm)
{
	uint64_t *pml4 =
		guest_ram_ptr(&vm->ram, LAYOUT_PAGE_TABLES_ADDR, 0x6000);

	if (!pml4)
		return -EFAULT;
	memset(pml4, 0, 0x6000);
	uint64_t *pdpt = pml4 + 512;
	uint64_t *pd = pml4 + 1024;
	pml4[0] = (LAYOUT_PAGE_TABLES_ADDR + 0x1000) | 0x3;
	for (int i = 0; i < 4; i++)
		pdpt[i] = (LAYOUT_PAGE_TABLES_ADDR + 0x2000 + 0x1000ULL * i) |
			  0x3;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | 0x83; /* present, writable, 2 MiB */
	return 0;
}

static int setup_boot_regs(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_segment code, data, tss;

	if (guest_ram_write(&vm->ram, LAYOUT_GDT_ADDR, boot_gdt,
			    sizeof(boot_gdt)) < 0)
		return -EFAULT;
	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	seg_from_gdt(&code, vm->entry_pvh ? GDT_CODE32 : GDT_CODE64);
	seg_from_gdt(&data, GDT_DATA);
	seg_from_gdt(&tss, GDT_TSS);
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.tr = tss;
	sregs.gdt.base = LAYOUT_GDT_ADDR;
	sregs.gdt.limit = sizeof(boot_gdt) - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	if (vm->entry_pvh) {
		/* PVH: 32-bit protected mode, paging off (PVH ABI). */
		sregs.cr0 = 0x11; /* PE | ET */
		sregs.cr4 = 0;
		sregs.efer = 0;
	} else {
		int r = write_page_tables(vm);

		if (r < 0)
			return r;
		sregs.cr3 = LAYOUT_PAGE_TABLES_ADDR;
		sregs.cr4 = 0x20;                  /* PAE */
		sregs.cr0 = 0x80000011;            /* PG | ET | PE */
		sregs.efer = (1 << 8) | (1 << 10); /* LME | LMA */
	}
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	regs.rip = vm->entry;
	if (vm->entry_pvh)
		regs.rbx = vm->boot_info_gpa;
	else
		regs.rsi = vm->boot_info_gpa;
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

/* LINT0 as ExtINT (the 8259 path) and LINT1 as NMI, as a PC firmware
 * leaves them; Linux expects this on the boot CPU. */
static int setup_lapic(struct vcpu *v)
{
	struct kvm_lapic_state lapic;
	uint32_t *lvt0, *lvt1;

	if (ioctl(v->fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	lvt0 = (uint32_t *)&lapic.regs[0x350];
	lvt1 = (uint32_t *)&lapic.regs[0x360];
	*lvt0 = (*lvt0 & ~0x700u) | (7u << 8); /* ExtINT */
	*lvt1 = (*lvt1 & ~0x700u) | (4u << 8); /* NMI */
	if (ioctl(v->fd, KVM_SET_LAPIC, &lapic) < 0)
		return -errno;
	return 0;
}

static struct kvm_cpuid2 *get_supported_cpuid(int kvm_fd)
{
	for (unsigned n = 256; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(
			1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));

		if (!c)
			return NULL;
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			return NULL;
	}
	return NULL;
}

int vcpus_create(struct vm *vm, struct error *err)
{
	struct kvm_cpuid2 *supported = get_supported_cpuid(vm->kvm_fd);
	size_t cpuid_size;
	struct sigaction sa = {.sa_handler = kick_handler};
	int r = 0;

	if (!supported) {
		error_host(err, 0, "KVM_GET_SUPPORTED_CPUID: %s",
			   strerror(errno));
		return -errno;
	}
	cpuid_size = sizeof(*supported) +
		     supported->nent * sizeof(struct kvm_cpuid_entry2);
	sigaction(KICK_SIGNAL, &sa, NULL);
	vm->vcpus = calloc(vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		free(supported);
		error_host(err, 0, "out of memory");
		return -ENOMEM;
	}
	/* From now on an exit request kicks the vCPUs (vm.h). */
	__atomic_store_n(&vm->kick_vcpus, vcpus_kick_all, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < vm->ncpus; i++)
		vm->vcpus[i].fd = -1;
	for (unsigned i = 0; i < vm->ncpus && r == 0; i++) {
		struct vcpu *v = &vm->vcpus[i];
		struct kvm_cpuid2 *c = malloc(cpuid_size);

		v->vm = vm;
		v->id = i;
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, i);
		if (v->fd < 0 || !c) {
			r = -errno;
			error_host(err, 0, "KVM_CREATE_VCPU %u: %s", i,
				   strerror(errno));
			free(c);
			break;
		}
		v->run = mmap(NULL, (size_t)vm->run_size,
			      PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
		if (v->run == MAP_FAILED) {
			v->run = NULL;
			r = -errno;
			error_host(err, 0, "mmap kvm_run: %s", strerror(errno));
			free(c);
			break;
		}
		memcpy(c, supported, cpuid_size);
		cpuid_patch(c, i, vm->ncpus);
		if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0) {
			r = -errno;
			error_host(err, 0, "KVM_SET_CPUID2: %s",
				   strerror(errno));
		}
		free(c);
		if (r == 0 && (r = setup_lapic(v)) < 0)
			error_host(err, 0, "LAPIC set-up: %s", strerror(-r));
		if (r == 0 && i == 0 && (r = setup_boot_regs(v)) < 0)
			error_host(err, 0, "boot CPU registers: %s",
				   strerror(-r));
	}
	free(supported);
	return r;
}

/* Parks the calling vCPU thread while a pause is requested. A kick
 * (vcpus_kick_all) wakes it when the VM is ending. */
static void park_if_paused(struct vcpu *v)
{
	struct vm *vm = v->vm;

	pthread_mutex_lock(&vm->pause_lock);
	if (vm->pause_requested && !vm_exit_requested(vm)) {
		vm->vcpus_parked++;
		pthread_cond_broadcast(&vm->pause_cond);
		while (vm->pause_requested && !vm_exit_requested(vm))
			pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
		vm->vcpus_parked--;
	}
	pthread_mutex_unlock(&vm->pause_lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	sigset_t set;

	/* Every other signal stays blocked (main blocked them before creating
	 * threads); the kick signal must interrupt KVM_RUN here. */
	sigemptyset(&set);
	sigaddset(&set, KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	/* Set-up is done (vcpus_create, on the main thread): from here the
	 * thread runs the guest and device callbacks, under its filter. */
	int sr = seccomp_filter_apply(&v->vm->seccomp, SECCOMP_KIND_VCPU);
	if (sr < 0) {
		vm_request_exit(
			v->vm, VM_EXIT_VMM_ERROR,
			"vCPU %u: cannot install its seccomp filter: %s", v->id,
			strerror(-sr));
		return NULL;
	}

	while (!vm_exit_requested(v->vm)) {
		park_if_paused(v);
		if (vm_exit_requested(v->vm))
			break;
		int r = ioctl(v->fd, KVM_RUN, 0);

		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				v->run->immediate_exit = 0;
				continue;
			}
			vm_request_exit(v->vm, VM_EXIT_VMM_ERROR,
					"vCPU %u: KVM_RUN: %s", v->id,
					strerror(errno));
			break;
		}
		vcpu_handle_exit(&(const struct vcpu_exit_src){
			.vm = v->vm, .id = v->id, .fd = v->fd, .run = v->run});
	}
	return NULL;
}

int vcpus_start(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		char name[24]; /* the kernel keeps 15 chars */
		int r = pthread_create(&v->thread, NULL, vcpu_thread, v);

		if (r) {
			vm_request_exit(vm, VM_EXIT_VMM_ERROR,
					"cannot start vCPU %u thread: %s", i,
					strerror(r));
			return -r;
		}
		/* Under pause_lock, as vcpus_kick_all reads it: a vCPU that
		 * fails at once kicks the others while later ones start. */
		pthread_mutex_lock(&vm->pause_lock);
		v->started = true;
		pthread_mutex_unlock(&vm->pause_lock);
		snprintf(name, sizeof(name), "modvmm-vcpu%u", i & 0xfff);
		pthread_setname_np(v->thread, name);
	}
	return 0;
}

/* Called with pause_lock held (which keeps vcpus_destroy out). */
static unsigned started_count(struct vm *vm)
{
	unsigned n = 0;

	if (vm->vcpus_reaping)
		return 0;
	for (unsigned i = 0; vm->vcpus && i < vm->ncpus; i++)
		n += vm->vcpus[i].started;
	return n;
}

int vcpus_pause(struct vm *vm)
{
	struct timespec deadline;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 5;
	pthread_mutex_lock(&vm->pause_lock);
	vm->pause_requested = true;
	pthread_mutex_unlock(&vm->pause_lock);
	/* The flag is set before the kick, so a vCPU either sees it at the
	 * top of its loop or is thrown out of KVM_RUN by the kick. */
	vcpus_kick_all(vm);
	pthread_mutex_lock(&vm->pause_lock);
	while (r == 0 && vm->vcpus_parked < started_count(vm) &&
	       !vm_exit_requested(vm))
		r = pthread_cond_timedwait(&vm->pause_cond, &vm->pause_lock,
					   &deadline);
	pthread_mutex_unlock(&vm->pause_lock);
	return r ? -r : 0;
}

void vcpus_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	vm->pause_requested = false;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

bool vcpus_paused(struct vm *vm)
{
	return locked_read_bool(&vm->pause_lock, &vm->pause_requested);
}

void vcpus_kick_all(struct vm *vm)
{
	/* Under pause_lock throughout: vcpus_destroy may be joining and
	 * freeing the threads on the main thread while another thread (the
	 * event loop answering "shutdown", a vCPU powering off) is still
	 * kicking after its vm_request_exit woke main. Once reaping has begun,
	 * every thread has been kicked already and may be gone. */
	pthread_mutex_lock(&vm->pause_lock);
	if (!vm->vcpus || vm->vcpus_reaping) {
		pthread_mutex_unlock(&vm->pause_lock);
		return;
	}
	/* Parked vCPUs wait on the condition, not in KVM_RUN: wake them so
	 * they see an exit request. */
	pthread_cond_broadcast(&vm->pause_cond);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!v->started)
			continue;
		/* immediate_exit covers a kick that lands just before the
		 * thread enters KVM_RUN; the signal covers one inside it. */
		if (v->run)
			__atomic_store_n(&v->run->immediate_exit, 1,
					 __ATOMIC_SEQ_CST);
		pthread_kill(v->thread, KICK_SIGNAL);
	}
	pthread_mutex_unlock(&vm->pause_lock);
}

void vcpus_destroy(struct vm *vm)
{
	if (!vm->vcpus)
		return;
	/* From here no kicker touches the threads or the array (see
	 * vcpus_kick_all); the caller has kicked them all already. */
	pthread_mutex_lock(&vm->pause_lock);
	vm->vcpus_reaping = true;
	pthread_mutex_unlock(&vm->pause_lock);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->started)
			pthread_join(v->thread, NULL);
		if (v->run)
			munmap(v->run, (size_t)vm->run_size);
		if (v->fd >= 0)
			close(v->fd);
	}
	free(vm->vcpus);
	vm->vcpus = NULL;
}
