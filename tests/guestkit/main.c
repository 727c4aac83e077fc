/*
 * kit_main: called by entry.S in 64-bit mode with the hvm_start_info address.
 * Reads the boot information and ACPI once, runs the program the command
 * line names (test=NAME, default hello), prints the summary, powers off.
 */
#include "acpi.h"

/* clang-format off */
static const struct kit_program *const programs[] = {
	&kit_prog_hello,
	&kit_prog_memmap,
	&kit_prog_cpus,
	&kit_prog_acpi,
	&kit_prog_devices,
	&kit_prog_console,
	&kit_prog_poweroff,
	&kit_prog_idle,
	&kit_prog_int3,
	&kit_prog_badinsn,
	&kit_prog_badfetch,
	&kit_prog_ticker,
	&kit_prog_virtio_rng,
	&kit_prog_virtio_rng_notify,
	&kit_prog_virtio_hostile,
	&kit_prog_balloon,
	&kit_prog_balloon_hostile,
	&kit_prog_debug_exit,
};
/* clang-format on */

/* Programs of an out-of-tree kit image (kit.mk, docs/plugins.md): a
 * NULL-terminated table the author defines; weak, so absent here. */
extern const struct kit_program *const kit_user_programs[]
	__attribute__((weak));

void kit_main(uint32_t start_info_paddr);
void kit_main(uint32_t start_info_paddr)
{
	kit_exceptions_init();
	kit_boot_init(start_info_paddr);
	kit_cmdline_set(kit_boot.cmdline);

	char name[32] = "hello";
	size_t len;
	const char *v = kit_arg("test", &len);
	if (v && len < sizeof(name)) {
		memcpy(name, v, len);
		name[len] = 0;
	}
	kit_printf("kit: modvmm guest kit, test=%s\n", name);
	if (!kit_boot.valid)
		kit_check(false, "kit",
			  "no hvm_start_info (magic mismatch at 0x%x)",
			  start_info_paddr);

	kit_acpi_init(kit_boot.rsdp_paddr);

	const struct kit_program *prog = NULL;
	for (unsigned i = 0; i < KIT_ARRAY_SIZE(programs); i++)
		if (!memcmp(programs[i]->name, name, strlen(name) + 1))
			prog = programs[i];
	for (unsigned i = 0; kit_user_programs && kit_user_programs[i]; i++)
		if (!memcmp(kit_user_programs[i]->name, name, strlen(name) + 1))
			prog = kit_user_programs[i];
	if (prog)
		prog->run();
	else
		kit_check(false, "kit", "unknown test %s", name);
	kit_done();
	kit_poweroff();
}
