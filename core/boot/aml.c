/*
 * AML encoding (ACPI 6.3, chapter 20). Only fixed-size forms are used where
 * the output must match known-good bytes: _UID is always a DWordConst.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot/aml.h"

#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_PACKAGE_OP 0x12
#define AML_DUAL_NAME_PREFIX 0x2e
#define AML_MULTI_NAME_PREFIX 0x2f
#define AML_EXT_OP_PREFIX 0x5b
#define AML_DEVICE_OP 0x82
#define AML_ROOT_CHAR '\\'

/* Resource descriptors (ACPI 6.3, 6.4). */
#define RES_IO 0x47      /* small, length 7 */
#define RES_END_TAG 0x79 /* small, length 1 */
#define RES_MEMORY32_FIXED 0x86
#define RES_EXT_INTERRUPT 0x89
#define RES_QWORD_ADDRESS 0x8a

#define PKG_LENGTH_MAX 0x0fffffffU

void aml_buf_free(struct aml_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static int reserve(struct aml_buf *b, size_t extra)
{
	size_t cap;
	uint8_t *p;

	if (b->err)
		return b->err;
	if (extra <= b->cap - b->len)
		return 0;
	if (extra > SIZE_MAX / 2 - b->len) {
		b->err = -ENOMEM;
		return b->err;
	}
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < extra)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->err = -ENOMEM;
		return b->err;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int aml_append_raw(struct aml_buf *b, const void *data, size_t len)
{
	int ret = reserve(b, len);

	if (ret)
		return ret;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

static int put8(struct aml_buf *b, uint8_t v)
{
	return aml_append_raw(b, &v, 1);
}

static int put_le(struct aml_buf *b, uint64_t v, unsigned bytes)
{
	uint8_t p[8];

	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return aml_append_raw(b, p, bytes);
}

/* PkgLength counts its own bytes plus `body_len` (ACPI 6.3, 20.2.4). */
static int put_pkg_length(struct aml_buf *b, size_t body_len)
{
	size_t total;
	unsigned follow;
	uint8_t p[4];

	if (body_len > PKG_LENGTH_MAX - 4)
		return -EINVAL;
	if (body_len + 1 <= 0x3f)
		return put8(b, (uint8_t)(body_len + 1));
	for (follow = 1; follow <= 3; follow++) {
		if (body_len + 1 + follow < (1UL << (4 + 8 * follow)))
			break;
	}
	if (follow > 3)
		return -EINVAL;
	total = body_len + 1 + follow;
	p[0] = (uint8_t)((follow << 6) | (total & 0x0f));
	for (unsigned i = 1; i <= follow; i++)
		p[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	return aml_append_raw(b, p, follow + 1);
}

/*
 * op (1 or 2 bytes), PkgLength, then the finished body. An allocation
 * failure in the body becomes b's sticky error; on -EINVAL (a body too long
 * for PkgLength) b is left as it was.
 */
static int put_pkg(struct aml_buf *b, const uint8_t *op, size_t oplen,
		   const struct aml_buf *body)
{
	size_t old_len = b->len;
	int ret;

	if (b->err)
		return b->err;
	if (body->err) {
		b->err = body->err;
		return b->err;
	}
	ret = aml_append_raw(b, op, oplen);
	if (!ret)
		ret = put_pkg_length(b, body->len);
	if (!ret)
		ret = aml_append_raw(b, body->data, body->len);
	if (ret && !b->err)
		b->len = old_len;
	return ret;
}

static int valid_nameseg(const char *s)
{
	if (!(isupper((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (int i = 1; i < 4; i++) {
		if (!(isupper((unsigned char)s[i]) ||
		      isdigit((unsigned char)s[i]) || s[i] == '_'))
			return 0;
	}
	return 1;
}

static int is_eisa_id(const char *hid)
{
	for (int i = 0; i < 3; i++) {
		if (!isupper((unsigned char)hid[i]))
			return 0;
	}
	for (int i = 3; i < 7; i++) {
		if (!isxdigit((unsigned char)hid[i]) ||
		    islower((unsigned char)hid[i]))
			return 0;
	}
	return 1;
}

static uint32_t hexval(char c)
{
	return isdigit((unsigned char)c) ? (uint32_t)(c - '0')
					 : (uint32_t)(c - 'A' + 10);
}

/* "PNP0501" -> 0x0105d041: three 5-bit letters and four nibbles, stored
 * so that the bytes in memory read 41 d0 05 01 (ACPI 6.3, 6.1.5). */
static uint32_t eisa_id(const char *hid)
{
	uint32_t v = ((uint32_t)(hid[0] - 0x40) << 26) |
		     ((uint32_t)(hid[1] - 0x40) << 21) |
		     ((uint32_t)(hid[2] - 0x40) << 16) |
		     (hexval(hid[3]) << 12) | (hexval(hid[4]) << 8) |
		     (hexval(hid[5]) << 4) | hexval(hid[6]);

	return __builtin_bswap32(v);
}

int aml_check_device(const struct mvm_dsdt_device *d)
{
	size_t n;

	if (!d || !d->hid)
		return -EINVAL;
	n = strnlen(d->hid, 9);
	if (n != 7 && n != 8)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!isgraph((unsigned char)d->hid[i]) || d->hid[i] == '"')
			return -EINVAL;
	}
	if (n == 7 && !is_eisa_id(d->hid))
		return -EINVAL;
	if (d->gsi < -1 || d->gsi > 23)
		return -EINVAL;
	if (d->mmio_size && d->mmio_base + (d->mmio_size - 1) < d->mmio_base)
		return -EINVAL;
	if (d->io_size &&
	    (d->io_size > 0xff || (uint32_t)d->io_base + d->io_size > 0x10000))
		return -EINVAL;
	return 0;
}

static int put_name_string_const(struct aml_buf *b, const char seg[4],
				 const char *str)
{
	put8(b, AML_NAME_OP);
	aml_append_raw(b, seg, 4);
	put8(b, AML_STRING_PREFIX);
	return aml_append_raw(b, str, strlen(str) + 1);
}

static int put_name_dword(struct aml_buf *b, const char seg[4], uint32_t v)
{
	put8(b, AML_NAME_OP);
	aml_append_raw(b, seg, 4);
	put8(b, AML_DWORD_PREFIX);
	return put_le(b, v, 4);
}

static void put_memory(struct aml_buf *r, const struct mvm_dsdt_device *d)
{
	uint64_t last = d->mmio_base + d->mmio_size - 1;

	if (last < (1ULL << 32)) {
		put8(r, RES_MEMORY32_FIXED);
		put_le(r, 9, 2);
		put8(r, 0x01); /* ReadWrite */
		put_le(r, d->mmio_base, 4);
		put_le(r, d->mmio_size, 4);
		return;
	}
	put8(r, RES_QWORD_ADDRESS);
	put_le(r, 43, 2);
	put8(r, 0x00);   /* memory range */
	put8(r, 0x0d);   /* consumer, positive decode, min and max fixed */
	put8(r, 0x01);   /* ReadWrite, non-cacheable, AddressRangeMemory */
	put_le(r, 0, 8); /* granularity */
	put_le(r, d->mmio_base, 8);
	put_le(r, last, 8);
	put_le(r, 0, 8); /* translation offset */
	put_le(r, d->mmio_size, 8);
}

static void put_crs(struct aml_buf *b, const struct mvm_dsdt_device *d)
{
	struct aml_buf res = {0}, buf = {0};
	static const uint8_t op = AML_BUFFER_OP;

	if (d->mmio_size)
		put_memory(&res, d);
	if (d->io_size) {
		put8(&res, RES_IO);
		put8(&res, 0x01); /* Decode16 */
		put_le(&res, d->io_base, 2);
		put_le(&res, d->io_base, 2);
		put8(&res, 0x01); /* alignment */
		put8(&res, (uint8_t)d->io_size);
	}
	if (d->gsi >= 0) {
		put8(&res, RES_EXT_INTERRUPT);
		put_le(&res, 6, 2);
		/* bit0 consumer, bit1 edge, bit2 active low, bit3 shared */
		put8(&res, d->level_triggered ? 0x01 : 0x03);
		put8(&res, 1);
		put_le(&res, (uint32_t)d->gsi, 4);
	}
	put8(&res, RES_END_TAG);
	put8(&res, 0x00); /* checksum 0: treated as valid */

	/* Buffer(size){bytes}: the size is the smallest integer form. */
	if (res.len <= 0xff) {
		put8(&buf, AML_BYTE_PREFIX);
		put_le(&buf, res.len, 1);
	} else {
		put8(&buf, AML_WORD_PREFIX);
		put_le(&buf, res.len, 2);
	}
	if (res.err)
		buf.err = res.err;
	else
		aml_append_raw(&buf, res.data, res.len);

	put8(b, AML_NAME_OP);
	aml_append_raw(b, "_CRS", 4);
	put_pkg(b, &op, 1, &buf);
	aml_buf_free(&res);
	aml_buf_free(&buf);
}

int aml_append_device(struct aml_buf *b, const char name[4],
		      const struct mvm_dsdt_device *d)
{
	static const uint8_t op[2] = {AML_EXT_OP_PREFIX, AML_DEVICE_OP};
	struct aml_buf body = {0};
	int ret;

	if (!name || !valid_nameseg(name) || aml_check_device(d))
		return -EINVAL;
	if (b->err)
		return b->err;

	aml_append_raw(&body, name, 4);
	if (strlen(d->hid) == 7)
		put_name_dword(&body, "_HID", eisa_id(d->hid));
	else
		put_name_string_const(&body, "_HID", d->hid);
	put_name_dword(&body, "_UID", d->uid);
	if (d->mmio_size || !strcmp(d->hid, "LNRO0005")) {
		put8(&body, AML_NAME_OP);
		aml_append_raw(&body, "_CCA", 4);
		put8(&body, AML_ONE);
	}
	put_crs(&body, d);

	ret = put_pkg(b, op, sizeof(op), &body);
	aml_buf_free(&body);
	return ret;
}

/* "\\_SB_", "_SB_.PCI0", "\\A___.B___.C___" -> NameString. */
static int put_name_string(struct aml_buf *b, const char *path)
{
	const char *p = path;
	size_t nseg, len;

	if (*p == AML_ROOT_CHAR)
		p++;
	len = strlen(p);
	if (len < 4 || (len + 1) % 5 != 0)
		return -EINVAL;
	nseg = (len + 1) / 5;
	if (nseg > 255)
		return -EINVAL;
	for (size_t i = 0; i < nseg; i++) {
		if (!valid_nameseg(p + 5 * i) ||
		    (i + 1 < nseg && p[5 * i + 4] != '.'))
			return -EINVAL;
	}
	if (p != path)
		put8(b, AML_ROOT_CHAR);
	if (nseg == 2) {
		put8(b, AML_DUAL_NAME_PREFIX);
	} else if (nseg > 2) {
		put8(b, AML_MULTI_NAME_PREFIX);
		put8(b, (uint8_t)nseg);
	}
	for (size_t i = 0; i < nseg; i++)
		aml_append_raw(b, p + 5 * i, 4);
	return b->err;
}

int aml_append_scope(struct aml_buf *b, const char *path, const void *body,
		     size_t body_len)
{
	static const uint8_t op = AML_SCOPE_OP;
	struct aml_buf inner = {0};
	int ret;

	if (!path || (body_len && !body))
		return -EINVAL;
	if (b->err)
		return b->err;
	ret = put_name_string(&inner, path);
	if (!ret)
		ret = aml_append_raw(&inner, body, body_len);
	if (!ret)
		ret = put_pkg(b, &op, 1, &inner);
	else if (ret == -ENOMEM)
		b->err = ret;
	aml_buf_free(&inner);
	return ret;
}

int aml_append_sleep_state(struct aml_buf *b, const char name[4], uint8_t typ)
{
	static const uint8_t op = AML_PACKAGE_OP;
	struct aml_buf pkg = {0};
	int ret;

	if (!name || !valid_nameseg(name))
		return -EINVAL;
	if (b->err)
		return b->err;
	put8(&pkg, 4); /* NumElements */
	if (typ == 0) {
		put8(&pkg, AML_ZERO);
	} else if (typ == 1) {
		put8(&pkg, AML_ONE);
	} else {
		put8(&pkg, AML_BYTE_PREFIX);
		put8(&pkg, typ);
	}
	put8(&pkg, AML_ZERO);
	put8(&pkg, AML_ZERO);
	put8(&pkg, AML_ZERO);

	put8(b, AML_NAME_OP);
	put8(b, AML_ROOT_CHAR);
	aml_append_raw(b, name, 4);
	ret = put_pkg(b, &op, 1, &pkg);
	aml_buf_free(&pkg);
	return ret;
}
