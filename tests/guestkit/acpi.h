/*
 * The machine as ACPI describes it, found the way an OS finds it: RSDP
 * (start_info or a scan of 0xE0000-0xFFFFF) -> XSDT (or RSDT) -> FADT, MADT
 * -> DSDT. kit_acpi_init() walks it once at boot, verifying every checksum,
 * and fills kit_acpi; programs only read the result. Tables must lie below
 * 4 GiB (the identity map); anything else is reported, never dereferenced.
 */
#ifndef KIT_ACPI_H
#define KIT_ACPI_H

#include "kit.h"

#define KIT_MAX_TABLES 24
#define KIT_MAX_CPUS 256
#define KIT_MAX_DEVICES 24
#define KIT_DEV_MAX_RES 2

#define FADT_HW_REDUCED (1u << 20)
#define FADT_RESET_REG_SUP (1u << 10)

struct acpi_sdt {
	char sig[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));

/* Generic Address Structure; space 0 = memory, 1 = I/O port. */
struct kit_gas {
	uint8_t space, bit_width, bit_offset, access_size;
	uint64_t address;
};

struct kit_table {
	char sig[5];
	char oem[7];
	uint64_t paddr;
	uint32_t length;
	bool mapped; /* below 4 GiB and a sane length: contents were read */
	bool sum_ok;
};

struct kit_device {
	char name[5]; /* the Device()'s own name segment */
	char hid[10]; /* "" if no Name(_HID) */
	unsigned nmem, nio, nirq;
	struct {
		uint64_t base, size;
	} mem[KIT_DEV_MAX_RES];
	struct {
		uint16_t base, len;
	} io[KIT_DEV_MAX_RES];
	uint32_t irq[KIT_DEV_MAX_RES];
	/* Per irq: KIT_IRQ_LEVEL and/or KIT_IRQ_ACTIVE_LOW, as _CRS says. */
	uint8_t irq_flags[KIT_DEV_MAX_RES];
};
#define KIT_IRQ_LEVEL 1
#define KIT_IRQ_ACTIVE_LOW 2

struct kit_acpi {
	/* RSDP */
	bool rsdp_found;
	uint64_t rsdp_paddr;
	bool rsdp_from_start_info; /* else found by scanning 0xE0000-0xFFFFF */
	uint8_t rsdp_rev;
	bool rsdp_sum_ok, rsdp_xsum_ok; /* bytes 0..19, all 36 (rev >= 2) */
	char oem[7];
	bool xsdt; /* root table is an XSDT */
	/* tables[0] is the root (XSDT/RSDT), then its entries, then the DSDT */
	unsigned ntables;
	struct kit_table tables[KIT_MAX_TABLES];
	bool tables_truncated;
	/* FADT */
	bool fadt_found;
	uint32_t fadt_flags;
	uint64_t dsdt_paddr;
	struct kit_gas sleep_ctl, sleep_sts, reset_reg, pm1a_cnt, pm1b_cnt;
	uint8_t reset_value;
	/* MADT */
	bool madt_found;
	unsigned cpus_enabled;
	unsigned napic; /* enabled entries stored in apic_ids */
	uint32_t apic_ids[KIT_MAX_CPUS];
	unsigned nioapic;
	uint32_t ioapic_addr;
	/* DSDT (aml.c) */
	bool dsdt_found;
	bool s5_found;
	uint8_t slp_typa, slp_typb;
	unsigned ndevices;
	struct kit_device devices[KIT_MAX_DEVICES];
	bool aml_incomplete; /* hit an op it cannot skip, or too many devices */
};

extern struct kit_acpi kit_acpi;

void kit_acpi_init(uint64_t rsdp_hint);
/* The table with this signature (first match), or NULL. */
const struct kit_table *kit_acpi_table(const char sig[4]);
bool kit_acpi_all_sums_ok(void);

/* aml.c: walk a DSDT/SSDT body for Device(_HID,_CRS) and \_S5. */
void kit_aml_scan(const uint8_t *aml, size_t len);
/* resources.c: decode a _CRS resource template into the device. */
void kit_crs_decode(const uint8_t *p, size_t len, struct kit_device *dev);

#endif
