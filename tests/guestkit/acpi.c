/*
 * ACPI discovery: RSDP -> XSDT/RSDT -> every table's checksum -> FADT and
 * MADT fields -> the DSDT handed to aml.c. Done once at boot; each table is
 * summed once (a byte loop costs ~12 us a byte here, so sum_bytes() adds
 * eight bytes per step).
 */
#include "acpi.h"

#define RSDP_SIG 0x2052545020445352ull /* "RSD PTR " */
#define MAX_TABLE_LEN (1u << 20)

struct kit_acpi kit_acpi;

/* Byte sum mod 256, eight bytes a step: the even and odd bytes are added
 * into 16-bit lanes (at most 255 words a round, so no lane overflows). */
static uint8_t sum_bytes(const uint8_t *p, size_t n)
{
	uint64_t total = 0;
	while (n >= 8) {
		size_t words = n / 8 > 255 ? 255 : n / 8;
		uint64_t even = 0, odd = 0;
		for (size_t i = 0; i < words; i++, p += 8) {
			uint64_t w = ld64(p);
			even += w & 0x00ff00ff00ff00ffull;
			odd += (w >> 8) & 0x00ff00ff00ff00ffull;
		}
		n -= words * 8;
		for (uint64_t x = even; x; x >>= 16) /* lanes: 4 steps */
			total += x & 0xffff;
		for (uint64_t x = odd; x; x >>= 16)
			total += x & 0xffff;
	}
	while (n--)
		total += *p++;
	return (uint8_t)total;
}

static bool below_4g(uint64_t paddr, uint64_t len)
{
	return paddr && paddr < (1ull << 32) && len <= (1ull << 32) - paddr;
}

/* OEM ids are space-padded; keep them short on the console. */
static void copy_oem(char dst[7], const char *src)
{
	memcpy(dst, src, 6);
	for (int i = 5; i >= 0 && (dst[i] == ' ' || !dst[i]); i--)
		dst[i] = 0;
}

static const struct acpi_sdt *sdt_at(const struct kit_table *t)
{
	return t && t->mapped ? (const struct acpi_sdt *)(uintptr_t)t->paddr
			      : NULL;
}

/* Records a table (summing it) and returns its entry, or NULL if full. */
static struct kit_table *add_table(uint64_t paddr)
{
	if (kit_acpi.ntables == KIT_MAX_TABLES) {
		kit_acpi.tables_truncated = true;
		return NULL;
	}
	struct kit_table *t = &kit_acpi.tables[kit_acpi.ntables++];
	t->paddr = paddr;
	memcpy(t->sig, "????", 5);
	if (!below_4g(paddr, sizeof(struct acpi_sdt)))
		return t;
	const struct acpi_sdt *h = (const void *)(uintptr_t)paddr;
	memcpy(t->sig, h->sig, 4);
	copy_oem(t->oem, h->oem_id);
	t->length = h->length;
	if (t->length < sizeof(*h) || t->length > MAX_TABLE_LEN ||
	    !below_4g(paddr, t->length))
		return t;
	t->mapped = true;
	t->sum_ok = sum_bytes((const uint8_t *)h, t->length) == 0;
	return t;
}

static bool rsdp_ok(uint64_t paddr)
{
	return below_4g(paddr, 36) &&
	       ld64((const void *)(uintptr_t)paddr) == RSDP_SIG &&
	       sum_bytes((const void *)(uintptr_t)paddr, 20) == 0;
}

static uint64_t find_rsdp(uint64_t hint)
{
	if (hint && rsdp_ok(hint)) {
		kit_acpi.rsdp_from_start_info = true;
		return hint;
	}
	/* The BIOS area, 16-byte aligned, as the ACPI spec (5.2.5.1) says. */
	for (uint64_t a = 0xe0000; a < 0x100000; a += 16)
		if (ld64((const void *)(uintptr_t)a) == RSDP_SIG && rsdp_ok(a))
			return a;
	return 0;
}

static void gas_at(const uint8_t *fadt, uint32_t len, uint32_t off,
		   struct kit_gas *g)
{
	if (off + 12 > len)
		return;
	*g = (struct kit_gas){fadt[off], fadt[off + 1], fadt[off + 2],
			      fadt[off + 3], ld64(fadt + off + 4)};
}

static void parse_fadt(const struct kit_table *t)
{
	const uint8_t *f = (const uint8_t *)sdt_at(t);
	uint32_t len = t->length;
	kit_acpi.fadt_found = true;
	if (len >= 44)
		kit_acpi.dsdt_paddr = ld32(f + 40);
	if (len >= 148 && ld64(f + 140))
		kit_acpi.dsdt_paddr = ld64(f + 140); /* X_DSDT wins */
	if (len >= 116)
		kit_acpi.fadt_flags = ld32(f + 112);
	if (len >= 68 && ld32(f + 64)) /* PM1a_CNT_BLK: a 16-bit I/O register */
		kit_acpi.pm1a_cnt = (struct kit_gas){1, 16, 0, 2, ld32(f + 64)};
	if (len >= 72 && ld32(f + 68))
		kit_acpi.pm1b_cnt = (struct kit_gas){1, 16, 0, 2, ld32(f + 68)};
	gas_at(f, len, 116, &kit_acpi.reset_reg);
	if (len >= 129)
		kit_acpi.reset_value = f[128];
	struct kit_gas x = {0};
	gas_at(f, len, 172, &x); /* X_PM1a_CNT_BLK */
	if (x.address)
		kit_acpi.pm1a_cnt = x;
	x = (struct kit_gas){0};
	gas_at(f, len, 184, &x);
	if (x.address)
		kit_acpi.pm1b_cnt = x;
	gas_at(f, len, 244, &kit_acpi.sleep_ctl);
	gas_at(f, len, 256, &kit_acpi.sleep_sts);
}

static void parse_madt(const struct kit_table *t)
{
	const uint8_t *m = (const uint8_t *)sdt_at(t);
	kit_acpi.madt_found = true;
	for (uint32_t off = 44; off + 2 <= t->length;) {
		uint8_t type = m[off], len = m[off + 1];
		if (len < 2 || off + len > t->length)
			break;
		uint32_t id = 0, flags = 0;
		bool cpu = false;
		if (type == 0 && len >= 8) { /* processor local APIC */
			id = m[off + 3];
			flags = ld32(m + off + 4);
			cpu = true;
		} else if (type == 9 &&
			   len >= 16) { /* processor local x2APIC */
			id = ld32(m + off + 4);
			flags = ld32(m + off + 8);
			cpu = true;
		} else if (type == 1 && len >= 12) { /* I/O APIC */
			if (!kit_acpi.nioapic++)
				kit_acpi.ioapic_addr = ld32(m + off + 4);
		}
		if (cpu && (flags & 1)) {
			if (kit_acpi.napic < KIT_MAX_CPUS)
				kit_acpi.apic_ids[kit_acpi.napic++] = id;
			kit_acpi.cpus_enabled++;
		}
		off += len;
	}
}

void kit_acpi_init(uint64_t rsdp_hint)
{
	uint64_t rsdp = find_rsdp(rsdp_hint);
	if (!rsdp)
		return;
	const uint8_t *r = (const uint8_t *)(uintptr_t)rsdp;
	kit_acpi.rsdp_found = true;
	kit_acpi.rsdp_paddr = rsdp;
	kit_acpi.rsdp_rev = r[15];
	kit_acpi.rsdp_sum_ok = true; /* find_rsdp() only accepts a good one */
	copy_oem(kit_acpi.oem, (const char *)r + 9);

	uint64_t root = ld32(r + 16); /* RsdtAddress */
	unsigned entry_size = 4;
	if (kit_acpi.rsdp_rev >= 2) {
		uint32_t len = ld32(r + 20);
		kit_acpi.rsdp_xsum_ok = len >= 36 && len <= 4096 &&
					below_4g(rsdp, len) &&
					sum_bytes(r, len) == 0;
		if (ld64(r + 24)) {
			root = ld64(r + 24);
			entry_size = 8;
			kit_acpi.xsdt = true;
		}
	}
	const struct kit_table *rt = add_table(root);
	const uint8_t *rp = (const uint8_t *)sdt_at(rt);
	if (!rp)
		return;
	unsigned n = (rt->length - 36) / entry_size;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *e = rp + 36 + i * entry_size;
		const struct kit_table *t =
			add_table(entry_size == 8 ? ld64(e) : ld32(e));
		if (!t)
			break;
		if (!sdt_at(t))
			continue;
		if (!memcmp(t->sig, "FACP", 4) && !kit_acpi.fadt_found)
			parse_fadt(t);
		else if (!memcmp(t->sig, "APIC", 4) && !kit_acpi.madt_found)
			parse_madt(t);
	}
	if (kit_acpi.dsdt_paddr) {
		const struct kit_table *d = add_table(kit_acpi.dsdt_paddr);
		if (d && sdt_at(d) && !memcmp(d->sig, "DSDT", 4)) {
			kit_acpi.dsdt_found = true;
			kit_aml_scan((const uint8_t *)sdt_at(d) + 36,
				     d->length - 36);
		}
	}
}

const struct kit_table *kit_acpi_table(const char sig[4])
{
	for (unsigned i = 0; i < kit_acpi.ntables; i++)
		if (!memcmp(kit_acpi.tables[i].sig, sig, 4))
			return &kit_acpi.tables[i];
	return NULL;
}

bool kit_acpi_all_sums_ok(void)
{
	for (unsigned i = 0; i < kit_acpi.ntables; i++)
		if (!kit_acpi.tables[i].sum_ok)
			return false;
	return kit_acpi.rsdp_found &&
	       (kit_acpi.rsdp_rev < 2 || kit_acpi.rsdp_xsum_ok);
}
