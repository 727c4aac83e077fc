/*
 * One virtual machine: KVM handles, guest RAM, the port and MMIO buses, the
 * event loop, vCPUs and devices, and the single place that decides how the
 * VM ends (vm_request_exit). Owned by main.c; everything else gets a
 * pointer.
 */
#ifndef MODVMM_CORE_VM_H
#define MODVMM_CORE_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "config/config.h"
#include "evloop.h"
#include "guest_ram.h"
#include "ram_discard.h"
#include "resources.h"
#include "seccomp/seccomp_filter.h"

/* Exit statuses of the modvmm process (documented in README/docs). */
#define VM_EXIT_POWEROFF 0
#define VM_EXIT_VMM_ERROR 1
#define VM_EXIT_USER_ERROR 2
#define VM_EXIT_GUEST_RESET 3 /* reboot request or triple fault */

struct vcpu;
struct virtio_kvm_pending;
struct mvm_dev;
struct api;

struct vm {
	const struct machine_cfg *cfg;
	unsigned ncpus;

	/* KVM (kvm.c): the system and VM fds, and the helper thread that
	 * registers guest RAM while the vCPUs are made. */
	int kvm_fd;
	int vm_fd;
	int run_size; /* mmap size of struct kvm_run */
	pthread_t map_ram_thread;
	bool map_ram_pending;
	int map_ram_result;
	struct error map_ram_err;

	/* Guest memory, and the ranges given back to the host. */
	struct guest_ram ram;
	struct ram_discard discard;

	/* Where guest accesses and host events go. */
	struct bus pio;
	struct bus mmio;
	struct evloop *loop;

	/* The devices, what they claimed, and the control API. */
	struct mvm_dev **devs;
	size_t ndevs;
	struct resources res; /* GSIs, MMIO windows, DSDT records */
	/* ioeventfds/irqfds asked for before vm_fd existed (virtio_kvm.h). */
	struct virtio_kvm_pending *virtio_pending;
	struct api *api; /* api_server.h; NULL until built */

	/* Boot CPU entry, filled by the kernel loader. */
	uint64_t entry;
	bool entry_pvh; /* true: 32-bit PVH entry; false: 64-bit Linux */
	uint64_t boot_info_gpa;

	/* Threads: one seccomp program per thread kind, built before the
	 * first thread starts, each thread installing its own
	 * (seccomp_filter.h); the vCPUs (vcpu.h). */
	struct seccomp_filters seccomp;
	struct vcpu *vcpus;
	uint64_t start_ns; /* log_now_ns() when the vCPUs started */

	/* Pause/resume (vcpus_pause): vCPU threads wait on pause_cond while
	 * pause_requested; vcpus_parked counts those waiting. pause_lock also
	 * orders kicks against teardown: vcpus_reaping is set once
	 * vcpus_destroy starts joining, and no kick touches a vCPU after. */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	bool pause_requested;
	unsigned vcpus_parked;
	bool vcpus_reaping;

	/* How the VM ends (vm_request_exit). kick_vcpus gets every vCPU out
	 * of KVM_RUN: installed by the vCPU module when it creates them
	 * (vcpus_create), so that the request needs no call up into vcpu.c;
	 * NULL: no vCPUs yet. */
	void (*kick_vcpus)(struct vm *vm);
	pthread_mutex_t exit_lock;
	pthread_cond_t exit_cond;
	bool exit_requested;
	int exit_status;
	char exit_reason[256];
	/* QMP SHUTDOWN "reason" when not the guest's own ("host-signal",
	 * "host-qmp-quit"); NULL: derived from exit_status. */
	const char *exit_cause;
	bool exit_by_device; /* host->request_exit: the status is the guest's */
};

/* First call wins: records the status and reason, kicks every vCPU out of
 * KVM_RUN (vm->kick_vcpus) and wakes main. Safe from any thread. */
void vm_request_exit(struct vm *vm, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool vm_exit_requested(struct vm *vm);
/* Blocks the main thread until vm_request_exit. */
int vm_wait_exit(struct vm *vm);

#endif
