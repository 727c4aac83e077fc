/*
 * The core's own tiny devices, which every machine has because the ACPI
 * tables point at them: the hardware-reduced FADT's sleep control/status
 * and reset registers (how a guest powers off or resets), and the i8042
 * command port's reset command (0xFE), which `reboot=k` uses.
 */
#ifndef MODVMM_CORE_SYSDEV_H
#define MODVMM_CORE_SYSDEV_H

#include "vm.h"

int sysdev_register(struct vm *vm);

#endif
