/* VM-wide KVM set-up; see kvm.h. */
#include "kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Where KVM may put the real-mode TSS and identity page on Intel: three
 * and one pages just below the BIOS area, inside the 32-bit MMIO hole. */
#define KVM_TSS_ADDR 0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
	{KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
	{KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
	{KVM_CAP_PIT2, "KVM_CAP_PIT2"},
	{KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
	{KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
	{KVM_CAP_IRQFD, "KVM_CAP_IRQFD"},
	{KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD"},
};

int kvm_vm_create(struct vm *vm, struct error *err)
{
	int r;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		r = -errno;
		error_host(err, 0, "/dev/kvm: %s", strerror(errno));
		return r;
	}
	r = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (r != KVM_API_VERSION) {
		error_host(err, 0, "KVM API version %d, expected %d", r,
			   KVM_API_VERSION);
		return -ENOTSUP;
	}
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(*required_caps);
	     i++) {
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
			  required_caps[i].cap) <= 0) {
			error_host(err, 0, "this KVM lacks %s",
				   required_caps[i].name);
			return -ENOTSUP;
		}
	}
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size <= 0) {
		error_host(err, 0, "KVM_GET_VCPU_MMAP_SIZE: %s",
			   strerror(errno));
		return -errno;
	}
	do {
		vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	} while (vm->vm_fd < 0 && errno == EINTR);
	if (vm->vm_fd < 0) {
		r = -errno;
		error_host(err, 0, "KVM_CREATE_VM: %s", strerror(errno));
		return r;
	}
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0) {
		r = -errno;
		error_host(err, 0, "KVM_SET_TSS_ADDR: %s", strerror(errno));
		return r;
	}
	uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
	/* Not every KVM has this (AMD doesn't need it): ignore failure. */
	ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		r = -errno;
		error_host(err, 0, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return r;
	}
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		r = -errno;
		error_host(err, 0, "KVM_CREATE_PIT2: %s", strerror(errno));
		return r;
	}
	return 0;
}

int kvm_vm_map_ram(struct vm *vm, struct error *err)
{
	for (int i = 0; i < vm->ram.nregions; i++) {
		const struct ram_region *rr = &vm->ram.regions[i];
		struct kvm_userspace_memory_region mr = {
			.slot = (uint32_t)i,
			.guest_phys_addr = rr->gpa,
			.memory_size = rr->size,
			.userspace_addr = (uint64_t)(uintptr_t)rr->host,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &mr) < 0) {
			int r = -errno;

			error_host(
				err, 0,
				"KVM_SET_USER_MEMORY_REGION(0x%llx, %llu MiB): "
				"%s",
				(unsigned long long)rr->gpa,
				(unsigned long long)(rr->size >> 20),
				strerror(errno));
			return r;
		}
	}
	return 0;
}

static void *map_ram_thread(void *arg)
{
	struct vm *vm = arg;
	int r = seccomp_filter_apply(&vm->seccomp, SECCOMP_KIND_MAP_RAM);

	if (r < 0) {
		error_host(&vm->map_ram_err, r,
			   "RAM mapping thread: cannot install its seccomp "
			   "filter: %s",
			   strerror(-r));
		vm->map_ram_result = r;
		return NULL;
	}
	vm->map_ram_result = kvm_vm_map_ram(vm, &vm->map_ram_err);
	return NULL;
}

int kvm_vm_map_ram_start(struct vm *vm)
{
	int r = pthread_create(&vm->map_ram_thread, NULL, map_ram_thread, vm);

	if (r)
		return -r;
	vm->map_ram_pending = true;
	return 0;
}

int kvm_vm_map_ram_wait(struct vm *vm, struct error *err)
{
	if (vm->map_ram_pending) {
		pthread_join(vm->map_ram_thread, NULL);
		vm->map_ram_pending = false;
	}
	if (vm->map_ram_result < 0 && err)
		*err = vm->map_ram_err;
	return vm->map_ram_result;
}

int kvm_max_vcpus(const struct vm *vm)
{
	int n = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);

	if (n <= 0)
		n = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	return n > 0 ? n : 4;
}

void kvm_vm_close(struct vm *vm)
{
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
}
