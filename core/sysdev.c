/* ACPI sleep/reset registers and the i8042 reset line; see sysdev.h. */
#include "sysdev.h"

#include "layout.h"
#include "log.h"

#define SLP_EN (1u << 5)
#define SLP_TYP(v) (((v) >> 2) & 7u)
#define I8042_CMD_RESET 0xfe

static uint64_t acpi_read(void *opaque, uint64_t offset, unsigned len)
{
	(void)opaque;
	(void)offset;
	(void)len;
	return 0; /* no wake status ever pending */
}

static void acpi_write(void *opaque, uint64_t offset, unsigned len,
		       uint64_t value)
{
	struct vm *vm = opaque;
	uint16_t port = (uint16_t)(LAYOUT_ACPI_SLEEP_CTL_PORT + offset);

	(void)len;
	if (port == LAYOUT_ACPI_SLEEP_CTL_PORT && (value & SLP_EN)) {
		if (SLP_TYP(value) == LAYOUT_ACPI_S5_TYPE)
			vm_request_exit(vm, VM_EXIT_POWEROFF,
					"guest powered off");
		else
			log_warn("acpi",
				 "guest asked for sleep type %u; only "
				 "S5 (power off) is supported",
				 (unsigned)SLP_TYP(value));
	} else if (port == LAYOUT_ACPI_RESET_PORT &&
		   (value & 0xff) == LAYOUT_ACPI_RESET_VALUE) {
		vm_request_exit(vm, VM_EXIT_GUEST_RESET,
				"guest reset through the ACPI reset register");
	}
}

static const struct mvm_io_ops acpi_ops = {.read = acpi_read,
					   .write = acpi_write};

static uint64_t i8042_read(void *opaque, uint64_t offset, unsigned len)
{
	(void)opaque;
	(void)offset;
	(void)len;
	return 0; /* status: output buffer empty, input buffer empty */
}

static void i8042_write(void *opaque, uint64_t offset, unsigned len,
			uint64_t value)
{
	(void)offset;
	(void)len;
	if ((value & 0xff) == I8042_CMD_RESET)
		vm_request_exit(opaque, VM_EXIT_GUEST_RESET,
				"guest reset through the i8042 controller");
}

static const struct mvm_io_ops i8042_ops = {.read = i8042_read,
					    .write = i8042_write};

int sysdev_register(struct vm *vm)
{
	const char *conflict;
	struct bus_range acpi = {.base = LAYOUT_ACPI_SLEEP_CTL_PORT,
				 .len = 3,
				 .ops = &acpi_ops,
				 .opaque = vm,
				 .owner = "core ACPI registers"};
	struct bus_range i8042 = {.base = 0x64,
				  .len = 1,
				  .ops = &i8042_ops,
				  .opaque = vm,
				  .owner = "core i8042 reset"};
	int r = bus_add(&vm->pio, &acpi, &conflict);

	return r < 0 ? r : bus_add(&vm->pio, &i8042, &conflict);
}
