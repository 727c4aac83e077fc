/*
 * Just enough AML to find what a VMM declares in its DSDT: Scope and Device
 * nesting, Name(_HID) (string or EISA id), Name(_CRS, Buffer) and
 * Name(\_S5, Package). Not an interpreter: Methods, Fields, If/While and
 * the like are skipped by their PkgLength; an opcode it cannot size stops
 * the walk of that term list (kit_acpi.aml_incomplete) rather than guess.
 * Every read is bounded by the enclosing package, itself bounded by the
 * table length.
 */
#include "acpi.h"

#define MAX_DEPTH 16

/* PkgLength (ACPI 20.2.4): 1 byte (6 bits) or a lead byte with a count of
 * 1-3 following bytes (4 + 8n bits). The length counts its own bytes. */
static const uint8_t *pkg_length(const uint8_t *p, const uint8_t *end,
				 const uint8_t **pkg_end)
{
	if (p >= end)
		return NULL;
	unsigned follow = p[0] >> 6;
	if ((size_t)(end - p) < follow + 1u)
		return NULL;
	uint32_t len = follow ? p[0] & 0x0f : p[0] & 0x3f;
	for (unsigned i = 0; i < follow; i++)
		len |= (uint32_t)p[1 + i] << (4 + 8 * i);
	if (len < follow + 1u || len > (size_t)(end - p))
		return NULL;
	*pkg_end = p + len;
	return p + 1 + follow;
}

static bool lead_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

/* NameString: optional '\' or '^'s, then a NameSeg, DualName, MultiName or
 * NullName. Copies the last segment (or "") into seg. */
static const uint8_t *name_string(const uint8_t *p, const uint8_t *end,
				  char seg[5])
{
	seg[0] = 0;
	while (p < end && (*p == '\\' || *p == '^'))
		p++;
	if (p >= end)
		return NULL;
	unsigned nseg = 1;
	if (*p == 0x00)
		return p + 1;
	if (*p == 0x2e) {
		nseg = 2;
		p++;
	} else if (*p == 0x2f) {
		if (end - p < 2)
			return NULL;
		nseg = p[1];
		p += 2;
	}
	if ((size_t)(end - p) < nseg * 4u || (nseg && !lead_char(*p)))
		return NULL;
	if (nseg) {
		memcpy(seg, p + (nseg - 1) * 4, 4);
		seg[4] = 0;
	}
	return p + nseg * 4;
}

/* Integer constants: Zero, One, Ones, Byte/Word/DWord/QWordConst. */
static const uint8_t *integer(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	static const uint8_t size[] = {
		[0x0a] = 1, [0x0b] = 2, [0x0c] = 4, [0x0e] = 8};
	if (p >= end)
		return NULL;
	if (*p == 0x00 || *p == 0x01) {
		*v = *p;
		return p + 1;
	}
	if (*p == 0xff) {
		*v = ~0ull;
		return p + 1;
	}
	unsigned n = *p < sizeof(size) ? size[*p] : 0;
	if (!n || (size_t)(end - p) < n + 1u)
		return NULL;
	*v = 0;
	for (unsigned i = 0; i < n; i++)
		*v |= (uint64_t)p[1 + i] << (8 * i);
	return p + 1 + n;
}

/* Skips a DataRefObject (Name's value). NULL if it is not one we can size. */
static const uint8_t *skip_data(const uint8_t *p, const uint8_t *end)
{
	uint64_t v;
	const uint8_t *q = integer(p, end, &v);
	if (q || p >= end)
		return q;
	switch (*p) {
	case 0x0d: /* String: NUL-terminated */
		for (q = p + 1; q < end; q++)
			if (!*q)
				return q + 1;
		return NULL;
	case 0x11: /* Buffer */
	case 0x12: /* Package */
	case 0x13: /* VarPackage */
		return pkg_length(p + 1, end, &q) ? q : NULL;
	case 0x5b: /* RevisionOp */
		return end - p >= 2 && p[1] == 0x30 ? p + 2 : NULL;
	}
	return NULL;
}

/* _HID as a string ("LNRO0005") or an EISA id (DWordConst, e.g. PNP0501):
 * three 5-bit letters and four hex digits, stored big-endian. */
static void parse_hid(const uint8_t *p, const uint8_t *end,
		      struct kit_device *dev)
{
	uint64_t v;
	if (p < end && *p == 0x0d) {
		size_t i = 0;
		for (p++; p < end && *p && i + 1 < sizeof(dev->hid); p++)
			dev->hid[i++] = (char)*p;
		dev->hid[i] = 0;
	} else if (integer(p, end, &v)) {
		uint32_t id = __builtin_bswap32((uint32_t)v);
		kit_snprintf(dev->hid, sizeof(dev->hid), "%c%c%c%04x",
			     '@' + ((id >> 26) & 31), '@' + ((id >> 21) & 31),
			     '@' + ((id >> 16) & 31), id & 0xffff);
		for (char *c = dev->hid + 3; *c;
		     c++) /* EISA ids print upper-case hex */
			if (*c >= 'a' && *c <= 'f')
				*c -= 32;
	}
}

/* Buffer: 0x11 PkgLength BufferSize(integer) bytes... */
static void parse_crs(const uint8_t *p, const uint8_t *end,
		      struct kit_device *dev)
{
	const uint8_t *pe, *q;
	uint64_t size;
	if (p >= end || *p != 0x11 || !(q = pkg_length(p + 1, end, &pe)) ||
	    !(q = integer(q, pe, &size)))
		return;
	size_t avail = (size_t)(pe - q);
	kit_crs_decode(q, size < avail ? (size_t)size : avail, dev);
}

/* Package: 0x12 PkgLength NumElements elements...; SLP_TYPa, SLP_TYPb. */
static void parse_s5(const uint8_t *p, const uint8_t *end)
{
	const uint8_t *pe, *q;
	uint64_t a, b = 0;
	if (p >= end || *p != 0x12 || !(q = pkg_length(p + 1, end, &pe)) ||
	    q >= pe)
		return;
	if (!(q = integer(q + 1, pe, &a)))
		return;
	integer(q, pe, &b);
	kit_acpi.s5_found = true;
	kit_acpi.slp_typa = (uint8_t)a;
	kit_acpi.slp_typb = (uint8_t)b;
}

static void term_list(const uint8_t *p, const uint8_t *end,
		      struct kit_device *dev, unsigned depth);

/* Scope/Device body: PkgLength NameString TermList. Returns the package end. */
static const uint8_t *scope_like(const uint8_t *p, const uint8_t *end,
				 bool device, unsigned depth)
{
	const uint8_t *pe, *q;
	char seg[5];
	if (!(q = pkg_length(p, end, &pe)) || !(q = name_string(q, pe, seg)))
		return NULL;
	struct kit_device *dev = NULL;
	if (device) {
		if (kit_acpi.ndevices < KIT_MAX_DEVICES) {
			dev = &kit_acpi.devices[kit_acpi.ndevices++];
			memcpy(dev->name, seg, 5);
		} else {
			kit_acpi.aml_incomplete = true;
		}
	}
	if (depth < MAX_DEPTH)
		term_list(q, pe, dev, depth + 1);
	else
		kit_acpi.aml_incomplete = true;
	return pe;
}

static void term_list(const uint8_t *p, const uint8_t *end,
		      struct kit_device *dev, unsigned depth)
{
	const uint8_t *pe;
	char seg[5];
	uint64_t v;
	while (p && p < end) {
		uint8_t op = *p++;
		switch (op) {
		case 0x10: /* Scope: a Device inside resets to "no device" */
			p = scope_like(p, end, false, depth);
			break;
		case 0x08: /* Name(NameString, DataRefObject) */
			if (!(p = name_string(p, end, seg)))
				break;
			if (dev && !memcmp(seg, "_HID", 4))
				parse_hid(p, end, dev);
			else if (dev && !memcmp(seg, "_CRS", 4))
				parse_crs(p, end, dev);
			else if (!memcmp(seg, "_S5_", 4))
				parse_s5(p, end);
			p = skip_data(p, end);
			break;
		case 0x14: /* Method */
		case 0xa0: /* If */
		case 0xa1: /* Else */
		case 0xa2: /* While */
			p = pkg_length(p, end, &pe) ? pe : NULL;
			break;
		case 0x06: /* Alias(NameString, NameString) */
			p = name_string(p, end, seg);
			p = p ? name_string(p, end, seg) : NULL;
			break;
		case 0x15: /* External(NameString, ObjectType, ArgumentCount) */
			p = name_string(p, end, seg);
			p = p && end - p >= 2 ? p + 2 : NULL;
			break;
		case 0x5b: /* extended opcodes */
			if (p >= end) {
				p = NULL;
				break;
			}
			op = *p++;
			switch (op) {
			case 0x82: /* Device */
				p = scope_like(p, end, true, depth);
				break;
			case 0x80: /* OperationRegion(Name, Space, Offset,
				      Length) */
				p = name_string(p, end, seg);
				p = p && p < end ? integer(p + 1, end, &v)
						 : NULL;
				p = p ? integer(p, end, &v) : NULL;
				break;
			case 0x01: /* Mutex(Name, SyncFlags) */
				p = name_string(p, end, seg);
				p = p && p < end ? p + 1 : NULL;
				break;
			case 0x02: /* Event(Name) */
				p = name_string(p, end, seg);
				break;
			case 0x81: /* Field */
			case 0x83: /* Processor */
			case 0x84: /* PowerResource */
			case 0x85: /* ThermalZone */
			case 0x86: /* IndexField */
			case 0x87: /* BankField */
				p = pkg_length(p, end, &pe) ? pe : NULL;
				break;
			default:
				p = NULL;
			}
			break;
		default:
			p = NULL;
		}
	}
	if (!p)
		kit_acpi.aml_incomplete = true;
}

void kit_aml_scan(const uint8_t *aml, size_t len)
{
	term_list(aml, aml + len, NULL, 0);
}
