/* The VM's life: build, run, tear down; see machine.h. */
#define _GNU_SOURCE
#include "machine.h"

#include <cpuid.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "api/api_core_cmds.h"
#include "api/api_server.h"
#include "boot/acpi.h"
#include "boot/aml.h"
#include "boot/boot.h"
#include "boot/dtb.h"
#include "config/opts.h"
#include "kvm.h"
#include "layout.h"
#include "log.h"
#include "plugin/device.h"
#include "plugin/plugin_loader.h"
#include "sysdev.h"
#include "vcpu.h"
#include "virtio/virtio_kvm.h"
#include "vm.h"

#define DEFAULT_MEM (512ULL << 20)

_Static_assert(VM_EXIT_USER_ERROR == ERROR_EXIT_USER &&
		       VM_EXIT_VMM_ERROR == ERROR_EXIT_HOST,
	       "error_report's exit statuses are the process's");

struct run_state {
	struct vm vm;
	int sigfd;
};

static uint64_t host_mem_total(void)
{
	long pages = sysconf(_SC_PHYS_PAGES);
	long psz = sysconf(_SC_PAGESIZE);

	return pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz : 0;
}

/* The host CPUs' physical address width (CPUID 0x80000008 EAX[7:0]), which
 * KVM passes on to the guest; 36 bits where the leaf is missing, as the
 * SDM says for processors without it. */
static unsigned host_phys_bits(void)
{
	unsigned eax, ebx, ecx, edx;

	if (__get_cpuid(0x80000000, &eax, &ebx, &ecx, &edx) &&
	    eax >= 0x80000008 &&
	    __get_cpuid(0x80000008, &eax, &ebx, &ecx, &edx))
		return eax & 0xff;
	return 36;
}

static void on_signal(void *opaque, int fd, uint32_t events)
{
	struct vm *vm = opaque;
	struct signalfd_siginfo si;

	(void)events;
	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (!vm_exit_requested(vm))
		vm->exit_cause = "host-signal"; /* QMP SHUTDOWN's reason */
	vm_request_exit(vm, VM_EXIT_POWEROFF, "stopped by %s",
			sigabbrev_np((int)si.ssi_signo)
				? sigabbrev_np((int)si.ssi_signo)
				: "a signal");
}

/* The event loop's first act on its own thread: devices are attached and
 * the control socket listens, so only guest- and client-facing work is
 * left. */
static int evloop_sandbox(void *opaque)
{
	struct vm *vm = opaque;
	int r = seccomp_filter_apply(&vm->seccomp, SECCOMP_KIND_EVLOOP);

	if (r < 0)
		vm_request_exit(vm, VM_EXIT_VMM_ERROR,
				"event loop: cannot install its seccomp "
				"filter: %s",
				strerror(-r));
	return r;
}

/* One filter program per thread kind, with the extra system calls every
 * device's plugin declared (checked when it was loaded). Built before the
 * first thread (the RAM mapping helper) starts. */
static int build_seccomp(struct vm *vm, struct error *err)
{
	struct seccomp_extras *extras = calloc(vm->ndevs + 1, sizeof(*extras));
	int r;

	if (!extras)
		return error_host(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < vm->ndevs; i++) {
		extras[i].names = plugin_syscalls(vm->devs[i]->plugin);
		extras[i].ioctls = plugin_ioctls(vm->devs[i]->plugin);
	}
	r = seccomp_filters_build(&vm->seccomp, vm->cfg->seccomp, extras,
				  vm->ndevs, err);
	free(extras);
	return r;
}

/* Collects every device's DSDT nodes into \_SB and writes the ACPI tables
 * into guest RAM (and, if asked, into files). */
static int build_acpi(struct vm *vm, struct acpi_blob *blob)
{
	struct aml_buf sb = {0};
	struct acpi_input in = {.ncpus = vm->ncpus};
	int r = 0;

	for (size_t i = 0; i < vm->res.ndsdt_recs && r == 0; i++)
		r = aml_append_device(&sb, vm->res.dsdt_recs[i].name,
				      &vm->res.dsdt_recs[i].d);
	if (r == 0 && vm->res.raw_aml_len) {
		uint8_t *p = realloc(sb.data, sb.len + vm->res.raw_aml_len);

		if (!p) {
			r = -ENOMEM;
		} else {
			memcpy(p + sb.len, vm->res.raw_aml,
			       vm->res.raw_aml_len);
			sb.data = p;
			sb.len += vm->res.raw_aml_len;
			sb.cap = sb.len;
		}
	}
	if (r == 0) {
		in.sb_aml = sb.data;
		in.sb_aml_len = sb.len;
		r = acpi_build(&in, LAYOUT_ACPI_ADDR, LAYOUT_ACPI_SIZE, blob);
	}
	if (r == 0)
		r = guest_ram_write(&vm->ram, LAYOUT_ACPI_ADDR, blob->data,
				    blob->len);
	aml_buf_free(&sb);
	return r;
}

static int dump_dtb(struct vm *vm, const char *path)
{
	struct mem_region ram[2];
	struct dtb_device *devs = calloc(vm->res.ndsdt_recs + 1, sizeof(*devs));
	struct dtb_input in = {
		.ncpus = vm->ncpus,
		.ram = ram,
		.cmdline = vm->cfg->cmdline,
		.devs = devs,
		.ndevs = vm->res.ndsdt_recs,
	};
	int r;

	if (!devs)
		return -ENOMEM;
	for (int i = 0; i < vm->ram.nregions; i++) {
		ram[i].gpa = vm->ram.regions[i].gpa;
		ram[i].size = vm->ram.regions[i].size;
	}
	in.nram = (size_t)vm->ram.nregions;
	for (size_t i = 0; i < vm->res.ndsdt_recs; i++) {
		devs[i].node_name = vm->res.dsdt_recs[i].name;
		devs[i].d = &vm->res.dsdt_recs[i].d;
	}
	r = dtb_write_file(&in, path);
	free(devs);
	return r;
}

static void teardown(struct run_state *st)
{
	struct vm *vm = &st->vm;

	kvm_vm_map_ram_wait(vm, NULL);
	vcpus_kick_all(vm);
	vcpus_destroy(vm);
	if (vm->loop)
		evloop_stop(vm->loop);
	/* Reverse order: later devices may depend on earlier ones. */
	for (size_t i = vm->ndevs; i-- > 0;)
		device_destroy(vm->devs[i]);
	free(vm->devs);
	/* Last replies and events out, socket file gone, on every path. */
	api_destroy(vm->api);
	vm->api = NULL;
	if (vm->loop)
		evloop_destroy(vm->loop);
	if (st->sigfd >= 0)
		close(st->sigfd);
	resources_free(&vm->res);
	bus_free(&vm->pio);
	bus_free(&vm->mmio);
	ram_discard_free(&vm->discard);
	virtio_kvm_forget(vm);
	guest_ram_free(&vm->ram);
	kvm_vm_close(vm);
	seccomp_filters_free(&vm->seccomp);
	pthread_mutex_destroy(&vm->exit_lock);
	pthread_cond_destroy(&vm->exit_cond);
	pthread_mutex_destroy(&vm->pause_lock);
	pthread_cond_destroy(&vm->pause_cond);
}

/* Everything the user gave, checked and built, before KVM is touched:
 * guest RAM, the kernel in it, the devices (plugins loaded, options
 * parsed), the ACPI tables and the control socket. A user error here is
 * exit 2 whether or not the host has KVM. Returns 0, or -errno with `err`
 * set by whoever failed; machine_run prints it. */
static int build(struct run_state *st, const struct machine_cfg *cfg,
		 const char *exe_dir, struct boot_image *bi,
		 struct acpi_blob *blob, struct error *err)
{
	struct vm *vm = &st->vm;
	struct boot_result boot = {0};
	uint64_t mem = cfg->mem_size ? cfg->mem_size : DEFAULT_MEM;
	uint64_t host_mem = host_mem_total();
	unsigned phys_bits = host_phys_bits();
	char size[24], limit[24];
	int r;

	vm->ncpus = cfg->cpus ? cfg->cpus : 1;
	opts_format_size(size, sizeof(size), mem);
	if (mem < LAYOUT_MIN_MEM)
		return error_user(err, "memory size=%s: must be at least 128M",
				  size);
	if (mem > layout_max_mem(phys_bits)) {
		opts_format_size(limit, sizeof(limit),
				 layout_max_mem(phys_bits));
		return error_user(err,
				  "memory size=%s: this host's CPUs address %u "
				  "bits, which holds at most %s of RAM (1 GiB "
				  "of addresses goes to the 3-4 GiB hole)",
				  size, phys_bits, limit);
	}
	if (host_mem && mem > host_mem)
		return error_user(err,
				  "memory size=%s is more than this host has "
				  "(%llu MiB)",
				  size, (unsigned long long)(host_mem >> 20));
	if (mem & 0xfff)
		return error_user(err, "memory size=%s is not a multiple of 4K",
				  size);
	if (vm->ncpus > 255)
		return error_user(err, "cpus boot=%u is more than 255",
				  vm->ncpus);
	if (!cfg->kernel)
		return error_user(err,
				  "no kernel: give --kernel or 'kernel:' in "
				  "the machine file");
	r = boot_image_open(cfg->kernel, cfg->initramfs, bi, err);
	if (r < 0)
		return r;

	r = guest_ram_alloc(&vm->ram, mem, cfg->mem_shared, cfg->mem_hugepages,
			    err);
	if (r < 0) {
		/* guest_ram said whose fault it is. */
		error_prefix(err, "memory: ");
		return r;
	}
	guest_ram_advise_thp(&vm->ram, cfg->mem_thp);
	r = ram_discard_init(&vm->discard, &vm->ram);
	if (r < 0)
		return error_host(err, r, "memory: %s", strerror(-r));
	r = boot_load(&vm->ram, bi, cfg->initramfs, cfg->cmdline, &boot, err);
	if (r < 0)
		return r;
	vm->entry = boot.entry;
	vm->entry_pvh = boot.kind == BOOT_PVH;
	vm->boot_info_gpa = boot.boot_info_gpa;

	r = evloop_create(&vm->loop);
	if (r < 0)
		return error_host(err, r, "event loop: %s", strerror(-r));
	/* Before the devices: they register their commands in create. */
	r = api_create(vm, &vm->api);
	if (r == 0)
		r = api_core_cmds_register(api_commands(vm->api), vm);
	if (r < 0)
		return error_host(err, r, "control API: %s", strerror(-r));
	r = sysdev_register(vm);
	if (r < 0)
		return error_host(err, r, "core devices: %s", strerror(-r));
	vm->devs = calloc(cfg->n_devices + 1, sizeof(*vm->devs));
	if (!vm->devs)
		return error_host(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < cfg->n_devices; i++) {
		r = device_create(vm, &cfg->devices[i], exe_dir,
				  &vm->devs[vm->ndevs], err);
		if (r < 0)
			return r;
		vm->ndevs++;
	}
	r = build_acpi(vm, blob);
	if (r < 0)
		return error_host(err, r, "ACPI tables: %s", strerror(-r));
	/* Listening now only queues clients: the event loop greets them
	 * once the VM runs. Dumping runs no VM and needs no socket. */
	if (cfg->api_socket && !cfg->dump_acpi && !cfg->dump_dtb) {
		/* api_listen says whose fault it is: a bad path is the
		 * user's, a failing event loop the host's. */
		r = api_listen(vm->api, cfg->api_socket, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The KVM VM for what build() made: RAM slots registered on a helper
 * thread while the vCPUs are created, and the devices' fds wired. */
static int attach_kvm(struct run_state *st, struct error *err)
{
	struct vm *vm = &st->vm;
	int r;

	r = kvm_vm_create(vm, err);
	if (r < 0)
		return r;
	int maxcpus = kvm_max_vcpus(vm);
	if (vm->ncpus > (unsigned)maxcpus)
		return error_user(err,
				  "cpus boot=%u is more than this KVM allows "
				  "(%d)",
				  vm->ncpus, maxcpus);
	r = kvm_vm_map_ram_start(vm);
	if (r < 0)
		return error_host(err, r, "cannot start a thread: %s",
				  strerror(-r));
	r = virtio_kvm_connect(vm, err);
	if (r == 0)
		r = vcpus_create(vm, err);
	/* The memory slot was being registered while the vCPUs were made. */
	if (r == 0)
		r = kvm_vm_map_ram_wait(vm, err);
	return r;
	return 0;
}

/*
 * Every thread the VMM starts (vCPUs, event loop, RAM mapping helper) gets
 * a stack smaller than 2 MiB. glibc's default is RLIMIT_STACK (8 MiB), and
 * with transparent huge pages "always" (Debian's default) the first touch
 * of such a stack can be served with a whole 2 MiB huge page: one thread
 * cost 2 MiB of RSS for the few KiB it uses. A mapping under 2 MiB cannot
 * hold an aligned huge page. The threads need little: no recursion, and no
 * buffer on the stack above 4 KiB (docs/plugins.md promises plugins 1 MiB).
 */
#define THREAD_STACK_SIZE (1u << 20)

static void set_thread_stack_size(void)
{
	pthread_attr_t attr;

	if (pthread_attr_init(&attr))
		return;
	if (pthread_attr_setstacksize(&attr, THREAD_STACK_SIZE) == 0)
		pthread_setattr_default_np(&attr);
	pthread_attr_destroy(&attr);
}

int machine_run(const struct machine_cfg *cfg, const char *exe_dir)
{
	struct run_state st;
	struct acpi_blob blob = {0};
	struct boot_image bi = {0};
	struct error err = {0};
	sigset_t stop_sigs;
	int status = 0, r;

	memset(&st, 0, sizeof(st));
	st.sigfd = -1;
	st.vm.cfg = cfg;
	st.vm.kvm_fd = st.vm.vm_fd = -1;
	resources_init(&st.vm.res);
	pthread_mutex_init(&st.vm.exit_lock, NULL);
	pthread_cond_init(&st.vm.exit_cond, NULL);
	pthread_mutex_init(&st.vm.pause_lock, NULL);
	pthread_cond_init(&st.vm.pause_cond, NULL);
	bus_init(&st.vm.pio, "port");
	bus_init(&st.vm.mmio, "MMIO");

	/* Block the stop signals in every thread (threads inherit this
	 * mask); the event loop takes them from a signalfd instead. */
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGTERM);
	sigaddset(&stop_sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	set_thread_stack_size();

	r = build(&st, cfg, exe_dir, &bi, &blob, &err);
	/* The kernel is in guest RAM now (or never will be). */
	boot_image_close(&bi);
	if (r < 0)
		goto fail;

	if (cfg->dump_acpi || cfg->dump_dtb) {
		/* Where the files go is the user's choice. */
		if (cfg->dump_acpi &&
		    (r = acpi_dump(&blob, cfg->dump_acpi)) < 0)
			error_user(&err, "--dump-acpi %s: %s", cfg->dump_acpi,
				   strerror(-r));
		else if (cfg->dump_dtb &&
			 (r = dump_dtb(&st.vm, cfg->dump_dtb)) < 0)
			error_user(&err, "--dump-dtb %s: %s", cfg->dump_dtb,
				   strerror(-r));
		/* Dumping describes the machine; it does not run it. */
		if (r < 0)
			goto fail;
		goto out;
	}

	r = build_seccomp(&st.vm, &err);
	if (r == 0)
		r = attach_kvm(&st, &err);
	if (r < 0)
		goto fail;
	bus_freeze(&st.vm.pio);
	bus_freeze(&st.vm.mmio);
	evloop_set_thread_init(st.vm.loop, evloop_sandbox, &st.vm);
	st.sigfd = signalfd(-1, &stop_sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (st.sigfd < 0 ||
	    evloop_add_fd(st.vm.loop, st.sigfd, EPOLLIN, on_signal, &st.vm,
			  NULL) < 0 ||
	    evloop_start(st.vm.loop) < 0) {
		error_host(&err, errno, "cannot start the event loop: %s",
			   strerror(errno));
		goto fail;
	}
	for (size_t i = 0; i < st.vm.ndevs; i++)
		if (device_start(st.vm.devs[i], &err) < 0)
			goto fail;
	log_info("core", "booting %s with %u vCPU(s), %llu MiB", cfg->kernel,
		 st.vm.ncpus, (unsigned long long)(st.vm.ram.size >> 20));
	st.vm.start_ns = log_now_ns();
	if (vcpus_start(&st.vm) == 0 || st.vm.exit_requested) {
		/* Every thread exists now and main only waits, then tears
		 * down: its own filter last, so that no other thread
		 * inherits it (seccomp(2)). */
		r = seccomp_filter_apply(&st.vm.seccomp, SECCOMP_KIND_MAIN);
		if (r < 0)
			vm_request_exit(&st.vm, VM_EXIT_VMM_ERROR,
					"main thread: cannot install its "
					"seccomp filter: %s",
					strerror(-r));
		status = vm_wait_exit(&st.vm);
		api_vm_ended(st.vm.api);
		if (status == VM_EXIT_POWEROFF || st.vm.exit_by_device)
			log_info("core", "%s", st.vm.exit_reason);
		else if (status == VM_EXIT_GUEST_RESET)
			log_warn("core", "%s (exit status %d)",
				 st.vm.exit_reason, status);
		else
			log_error("core", "%s", st.vm.exit_reason);
	}
	goto out;
fail:
	/* The one line for whatever failed; its maker chose the kind. */
	status = error_report(&err);
out:
	teardown(&st);
	acpi_blob_free(&blob);
	return status;
}

int machine_device_help(const struct machine_cfg *cfg, const char *exe_dir)
{
	const struct device_cfg *d = &cfg->devices[cfg->n_devices - 1];
	const struct mvm_plugin *desc;
	void *handle;
	char *path = NULL;
	struct error err = {0};

	if (plugin_open(d->plugin, cfg, exe_dir, &handle, &desc, &path, &err) <
	    0) {
		error_prefix(&err, "--device %s: ", d->plugin);
		return error_report(&err);
	}
	printf("%s %s (plugin ABI %u.%u, %s)\n  %s\n", desc->name,
	       desc->version ? desc->version : "", desc->abi_major,
	       desc->abi_minor, path,
	       desc->description ? desc->description : "");
	if (desc->options) {
		printf("options (--device %s,key=value,...):\n", desc->name);
		opts_print_help(stdout, desc->options);
	} else {
		printf("no options\n");
	}
	free(path);
	return 0;
}
