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

/* A device node the core emits into the DSDT (and the DTB). */
struct dsdt_record {
	char name[5];
	char hid[9];
	struct mvm_dsdt_device d;
};

struct vm {
	const struct machine_cfg *cfg;
	int kvm_fd;
	int vm_fd;
	int run_size; /* mmap size of struct kvm_run */
	unsigned ncpus;
	struct guest_ram ram;
	/* kvm_vm_map_ram_start's thread and its result. */
	pthread_t map_ram_thread;
	bool map_ram_pending;
	int map_ram_result;
	char map_ram_why[200];
	struct ram_discard discard;
	struct bus pio;
	struct bus mmio;
	struct evloop *loop;
	struct vcpu *vcpus;
	/* One program per thread kind, built before the first thread starts;
	 * each thread installs its own (seccomp_filter.h). */
	struct seccomp_filters seccomp;

	struct mvm_dev **devs;
	size_t ndevs;
	struct dsdt_record *dsdt_recs;
	size_t ndsdt_recs;
	uint8_t *raw_aml; /* host->dsdt_add_aml terms, appended to \_SB */
	size_t raw_aml_len;
	uint64_t mmio_next; /* device MMIO allocator */
	uint32_t gsi_used;  /* bit n: GSI n claimed */
	/* ioeventfds/irqfds asked for before vm_fd existed (virtio_kvm.h). */
	struct virtio_kvm_pending *virtio_pending;

	/* Boot CPU entry, filled by the kernel loader. */
	uint64_t entry;
	bool entry_pvh; /* true: 32-bit PVH entry; false: 64-bit Linux */
	uint64_t boot_info_gpa;

	/* Control API (api_server.h); NULL until built. */
	struct api *api;
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

	/* How vm_request_exit gets every vCPU out of KVM_RUN: installed by
	 * the vCPU module when it creates them (vcpus_create), so that the
	 * request needs no call up into vcpu.c. NULL: no vCPUs yet. */
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
