/*
 * The core's control-API commands (docs/api.md): ours (info, pause,
 * resume, shutdown, devices, help) and QEMU's names for the same things
 * (query-status, stop, cont, quit, query-commands), plus system_powerdown,
 * which this machine cannot honour. Run on the event-loop thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "api/api_server.h"
#include "dev.h"
#include "log.h"
#include "vcpu.h"

static const char *status_name(struct vm *vm)
{
	if (vm_exit_requested(vm))
		return "shutdown";
	return vcpus_paused(vm) ? "paused" : "running";
}

/* The ranges `owner` claimed on `bus`, as [{"base","size"}]. */
static json_t *ranges_of(const struct bus *bus, const char *owner)
{
	json_t *list = json_array();

	for (int i = 0; list && i < bus->n; i++)
		if (bus->ranges[i].owner == owner)
			json_array_append_new(
				list,
				json_pack("{s:I,s:I}", "base",
					  (json_int_t)bus->ranges[i].base,
					  "size",
					  (json_int_t)bus->ranges[i].len));
	return list;
}

static json_t *device_json(struct vm *vm, const struct mvm_dev *d)
{
	json_t *gsis = json_array();

	for (int g = 0; gsis && g < 32; g++)
		if (d->gsis & (1u << g))
			json_array_append_new(gsis, json_integer(g));
	return json_pack("{s:s,s:s,s:s,s:s?,s:s,s:o,s:o,s:o}", "name", d->name,
			 "plugin", d->plugin->name, "version",
			 d->plugin->version ? d->plugin->version : "", "path",
			 d->so_path, "options",
			 d->cfg->options ? d->cfg->options : "", "mmio",
			 ranges_of(&vm->mmio, d->name), "ports",
			 ranges_of(&vm->pio, d->name), "gsis", gsis);
}

static json_t *devices_json(struct vm *vm)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < vm->ndevs; i++)
		if (json_array_append_new(list, device_json(vm, vm->devs[i]))) {
			json_decref(list);
			return NULL;
		}
	return list;
}

static int set_result(struct mvm_api_call *call, json_t *v)
{
	if (!v)
		return -ENOMEM;
	call->result = v;
	return 0;
}

static int cmd_info(void *opaque, struct mvm_api_call *call)
{
	struct vm *vm = opaque;
	uint64_t up = vm->start_ns ? log_now_ns() - vm->start_ns : 0;

	return set_result(
		call,
		json_pack("{s:s,s:b,s:s,s:i,s:i,s:I,s:I,s:s,s:s?,s:o}",
			  "status", status_name(vm), "running",
			  !strcmp(status_name(vm), "running"), "version",
			  MODVMM_VERSION, "pid", (int)getpid(), "vcpus",
			  (int)vm->ncpus, "memory", (json_int_t)vm->ram.size,
			  "uptime_ms", (json_int_t)(up / 1000000ULL), "kernel",
			  vm->cfg->kernel ? vm->cfg->kernel : "", "api_socket",
			  vm->cfg->api_socket, "devices", devices_json(vm)));
}

static int cmd_devices(void *opaque, struct mvm_api_call *call)
{
	return set_result(call, devices_json(opaque));
}

/* QEMU's query-status, word for word. */
static int cmd_query_status(void *opaque, struct mvm_api_call *call)
{
	const char *s = status_name(opaque);

	return set_result(call,
			  json_pack("{s:s,s:b,s:b}", "status", s, "singlestep",
				    0, "running", !strcmp(s, "running")));
}

static int cmd_pause(void *opaque, struct mvm_api_call *call)
{
	struct vm *vm = opaque;
	bool was = vcpus_paused(vm);
	int r = vcpus_pause(vm);

	if (r < 0)
		return api_call_fail(call, NULL,
				     "vCPUs did not stop within 5 s; the VM "
				     "stays paused as they return");
	/* QEMU sends STOP only on a change of state. */
	if (!was)
		api_emit(vm->api, "STOP", NULL);
	return 0;
}

static int cmd_resume(void *opaque, struct mvm_api_call *call)
{
	struct vm *vm = opaque;
	bool was = vcpus_paused(vm);

	(void)call;
	vcpus_resume(vm);
	if (was)
		api_emit(vm->api, "RESUME", NULL);
	return 0;
}

static int cmd_shutdown(void *opaque, struct mvm_api_call *call)
{
	struct vm *vm = opaque;

	(void)call;
	if (!vm_exit_requested(vm))
		vm->exit_cause = "host-qmp-quit";
	vm_request_exit(vm, VM_EXIT_POWEROFF,
			"shut down through the "
			"control API");
	return 0;
}

static int cmd_powerdown(void *opaque, struct mvm_api_call *call)
{
	(void)opaque;
	/* QEMU asks the guest (ACPI power button). Our FADT is
	 * hardware-reduced without a GED, so there is no button to press;
	 * stopping the VM instead would lie about what the guest saw. */
	return api_call_fail(
		call, NULL,
		"system_powerdown is not supported: this machine "
		"has no ACPI power button (hardware-reduced FADT, "
		"no GED); use 'quit' or 'shutdown' to stop the VM");
}

static int cmd_help(void *opaque, struct mvm_api_call *call)
{
	struct vm *vm = opaque;

	return api_cmds_list(api_commands(vm->api), call, true);
}

static int cmd_query_commands(void *opaque, struct mvm_api_call *call)
{
	struct vm *vm = opaque;

	return api_cmds_list(api_commands(vm->api), call, false);
}

static const char *const no_args[] = {NULL};

static const struct {
	const char *name;
	api_cmd_fn fn;
	const char *help;
} core_cmds[] = {
	{"info", cmd_info,
	 "state, vCPUs, memory, uptime and devices (plugin, options, MMIO "
	 "windows, ports, GSIs)"},
	{"devices", cmd_devices, "the devices, as in info"},
	{"pause", cmd_pause, "stop running guest code (event STOP)"},
	{"resume", cmd_resume, "run guest code again (event RESUME)"},
	{"shutdown", cmd_shutdown,
	 "stop the VM; modvmm exits 0 (event SHUTDOWN)"},
	{"help", cmd_help, "every command, with its arguments and plugin"},
	{"query-status", cmd_query_status, "QEMU: run state"},
	{"stop", cmd_pause, "QEMU: same as pause"},
	{"cont", cmd_resume, "QEMU: same as resume"},
	{"quit", cmd_shutdown, "QEMU: same as shutdown"},
	{"system_powerdown", cmd_powerdown,
	 "QEMU: not supported (no ACPI power button); always an error"},
	{"query-commands", cmd_query_commands, "QEMU: command names"},
};

int api_core_cmds_register(struct api_cmds *cmds, struct vm *vm)
{
	for (size_t i = 0; i < sizeof(core_cmds) / sizeof(core_cmds[0]); i++) {
		struct api_cmd c = {.name = (char *)core_cmds[i].name,
				    .help = (char *)core_cmds[i].help,
				    .fn = core_cmds[i].fn,
				    .opaque = vm,
				    .strict = true,
				    .args_names = no_args};
		int r = api_cmds_add(cmds, &c);

		if (r < 0)
			return r;
	}
	return 0;
}
