/*
 * A tiny AML byte builder: just enough ACPI Machine Language to describe
 * the devices plugins add to the DSDT (Device, Name, ResourceTemplate) and
 * the few terms acpi.c needs (Scope, the \_S5 package). Callers append into
 * a growable buffer; the first allocation failure sticks in `err`, so a
 * sequence of appends can be checked once at the end.
 */
#ifndef MODVMM_CORE_AML_H
#define MODVMM_CORE_AML_H

#include <stddef.h>
#include <stdint.h>

#include <modvmm/plugin.h>

struct aml_buf {
	uint8_t *data;
	size_t len, cap;
	int err; /* sticky: 0 or -ENOMEM */
};

/* Free the buffer's memory and zero it; the buffer can be reused. */
void aml_buf_free(struct aml_buf *b);

/* Append raw bytes. 0 or b->err. */
int aml_append_raw(struct aml_buf *b, const void *data, size_t len);

/*
 * Validate a device before it is turned into AML: hid is 7 (EISA form
 * "AAA####", emitted compressed) or 8 printable characters (emitted as a
 * string), gsi is -1 or 0..23, the MMIO and port ranges do not wrap, a
 * port range is at most 255 ports. 0 or -EINVAL.
 */
int aml_check_device(const struct mvm_dsdt_device *d);

/*
 * Append Device(name){_HID, _UID, [_CCA One], _CRS}. `name` is an AML
 * NameSeg (4 characters, [A-Z_][A-Z0-9_]{3}, no terminator needed). _CCA
 * is emitted for LNRO0005 and for any device with an MMIO window. The
 * MMIO window is a Memory32Fixed below 4 GiB, a QWordMemory otherwise.
 * Returns 0, -EINVAL (bad name or device; nothing appended) or -ENOMEM.
 */
int aml_append_device(struct aml_buf *b, const char name[4],
		      const struct mvm_dsdt_device *d);

/* Append Scope(path){body}; `path` is an AML NameString such as "\\_SB_".
 * 0, -EINVAL or -ENOMEM. */
int aml_append_scope(struct aml_buf *b, const char *path, const void *body,
		     size_t body_len);

/* Append Name(\name, Package(){typ, 0, 0, 0}): a sleep state object such as
 * \_S5_. 0, -EINVAL or -ENOMEM. */
int aml_append_sleep_state(struct aml_buf *b, const char name[4], uint8_t typ);

#endif
