/*
 * balloon-hostile: what inflate and deflate buffers carry. PFNs that name
 * no RAM, malformed PFN buffers that name canary pages, and chains, valid
 * and not. See prog_balloon_hostile.c for what each case expects.
 */
#include "balloon_hostile.h"

#define W VIRTQ_DESC_F_WRITE

static struct kit_vring_desc ind[4] __attribute__((aligned(64)));
static unsigned nlist;

/* ---- PFNs that name no RAM */

static void add(uint64_t pfn)
{
	if (pfn > 0xffffffffull || bh_is_ram(pfn * BH_PAGE, BH_PAGE) ||
	    nlist >= BH_BUF_PFNS)
		return;
	for (unsigned i = 0; i < nlist; i++)
		if (bh_pfns[0][i] == pfn)
			return;
	bh_pfns[0][nlist++] = (uint32_t)pfn;
}

/* Inflates, then deflates, the n PFNs in bh_pfns[0]. */
static bool pfn_both(unsigned n, unsigned refused, unsigned good, char *why,
		     size_t len)
{
	struct bh_desc d = {(uintptr_t)bh_pfns[0], n * 4, 0};
	kit_printf("kit:   %u PFNs, %u of them distinct and not RAM\n", n,
		   refused);
	if (!bh_must_return(bh_inflate, &d, 1, "inflate", why, len))
		return false;
	bh_tally.refused_pfns += refused;
	bh_tally.inflated += good;
	return bh_must_return(bh_deflate, &d, 1, "deflate", why, len);
}

bool bh_pfn_past_ram(char *why, size_t n)
{
	uint64_t top = bh_ram_top() / BH_PAGE;
	nlist = 0;
	add(top);
	add(top + 1);
	add(top + 255);
	add(top + 0x10000);
	add(0xbffff);
	add(BH_FAR_AWAY / BH_PAGE);
	return pfn_both(nlist, nlist, 0, why, n);
}

bool bh_pfn_mmio_hole(char *why, size_t n)
{
	nlist = 0;
	add(0xc0000);
	add(bh_dev.base / BH_PAGE); /* the balloon's own registers */
	add(0xd0000);
	add(0xfebff);
	add(0xfec00); /* IOAPIC */
	add(0xfee00); /* local APIC */
	add(0xfffff);
	return pfn_both(nlist, nlist, 0, why, n);
}

bool bh_pfn_low_reserved(char *why, size_t n)
{
	nlist = 0;
	for (unsigned i = 0; i < bh_nlow; i++)
		add(bh_low[i]);
	if (!nlist) {
		kit_printf("kit:   all of the first MiB is RAM: nothing to "
			   "name\n");
		return true;
	}
	return pfn_both(nlist, nlist, 0, why, n);
}

/* (uint32_t)(pfn << 12) would name a canary page (or an ACPI page). */
bool bh_pfn_huge(char *why, size_t n)
{
	nlist = 0;
	add(0xffffffffull);
	add(0xfffffffeull);
	add(0x80000000ull | bh_cpfn(0));
	add(0xfff00000ull | bh_cpfn(1));
	add(0x100000ull + bh_cpfn(2)); /* 4 GiB above: RAM only if that big */
	add(0x10000000ull | bh_cpfn(3));
	add(0x40000000ull | bh_cpfn(4));
	if (bh_nlow)
		add(0x100000ull + bh_low[bh_nlow - 1]);
	return pfn_both(nlist, nlist, 0, why, n);
}

bool bh_pfn_duplicates(char *why, size_t n)
{
	uint64_t top = bh_ram_top() / BH_PAGE;
	uint32_t bad[3] = {(uint32_t)top,
			   bh_nlow ? bh_low[0] : (uint32_t)top + 1,
			   0x80000000u | bh_cpfn(0)};
	unsigned k = 0;
	for (unsigned i = 0; i < 32; i++) {
		bh_pfns[0][k++] = bad[0];
		bh_pfns[0][k++] = bh_vpfn(BH_V_DUP);
		bh_pfns[0][k++] = bad[1];
		bh_pfns[0][k++] = bad[2];
		bh_pfns[0][k++] = bh_vpfn(BH_V_DUP + 1);
	}
	return pfn_both(k, 3, 2, why, n);
}

/* ---- malformed PFN buffers, named canary pages */

bool bh_buf_writable(char *why, size_t n)
{
	bh_canary_pfns(bh_pfns[0], 8);
	struct bh_desc d = {(uintptr_t)bh_pfns[0], 32, W};
	return bh_post_one(bh_inflate, &d, 1, true, "inflate", why, n) &&
	       bh_post_one(bh_deflate, &d, 1, true, "deflate", why, n);
}

bool bh_buf_zero_length(char *why, size_t n)
{
	const struct bh_desc d[3] = {{(uintptr_t)bh_pfns[0], 0, 0},
				     {BH_FAR_AWAY, 0, 0},
				     {(uintptr_t)bh_pfns[0], 0, W}};
	const char *const what[3] = {"empty", "empty, far away",
				     "empty, writable"};
	return bh_post_each(bh_inflate, d, what, 3, false, why, n) &&
	       bh_post_one(bh_deflate, &d[0], 1, false, "empty deflate", why,
			   n);
}

bool bh_buf_odd_length(char *why, size_t n)
{
	bh_canary_pfns(bh_pfns[0], 9);
	const uint32_t lens[3] = {1, 6, 34};
	const char *what[3] = {"1 byte", "6 bytes", "34 bytes"};
	for (unsigned i = 0; i < 3; i++) {
		struct bh_desc d = {(uintptr_t)bh_pfns[0], lens[i], 0};
		if (!bh_post_one(bh_inflate, &d, 1, true, what[i], why, n))
			return false;
	}
	struct bh_desc d = {(uintptr_t)bh_pfns[0], 34, 0};
	return bh_post_one(bh_deflate, &d, 1, true, "deflate 34 bytes", why, n);
}

bool bh_buf_too_long(char *why, size_t n)
{
	bh_canary_pfns(bh_pfns[0], 257);
	struct bh_desc d = {(uintptr_t)bh_pfns[0], 257 * 4, 0};
	return bh_post_one(bh_inflate, &d, 1, true, "257 PFNs", why, n) &&
	       bh_post_one(bh_deflate, &d, 1, true, "deflate 257 PFNs", why, n);
}

/* ---- chains */

/* 4 PFNs in descriptors of 6, 2, 3 and 5 bytes: valid, if unusual. */
bool bh_chain_split_pfn(char *why, size_t n)
{
	uint8_t *p = (uint8_t *)bh_pfns[1];
	for (unsigned k = 0; k < 4; k++)
		bh_pfns[1][k] = bh_vpfn(BH_V_SPLIT + k);
	bh_mark(BH_V_SPLIT, 4);
	const struct bh_desc d[4] = {{(uintptr_t)p, 6, 0},
				     {(uintptr_t)p + 6, 2, 0},
				     {(uintptr_t)p + 8, 3, 0},
				     {(uintptr_t)p + 11, 5, 0}};
	if (!bh_must_return(bh_inflate, d, 4, "inflate", why, n))
		return false;
	bh_tally.inflated += 4;
	kit_printf("kit:   %u of 4 pages read zero after the inflate\n",
		   bh_zeros(BH_V_SPLIT, 4));
	struct bh_desc one = {(uintptr_t)p, 16, 0};
	return bh_must_return(bh_deflate, &one, 1, "deflate", why, n);
}

/* 32 descriptors of one PFN each, 8 pages 4 times over. */
bool bh_chain_many(char *why, size_t n)
{
	struct bh_desc d[32];
	for (unsigned k = 0; k < 32; k++) {
		bh_pfns[1][k] = bh_vpfn(BH_V_MANY + k % 8);
		d[k] = (struct bh_desc){(uintptr_t)&bh_pfns[1][k], 4, 0};
	}
	if (!bh_must_return(bh_inflate, d, 32, "inflate", why, n))
		return false;
	bh_tally.inflated += 8;
	struct bh_desc one = {(uintptr_t)bh_pfns[1], 128, 0};
	return bh_must_return(bh_deflate, &one, 1, "deflate", why, n);
}

bool bh_chain_read_then_write(char *why, size_t n)
{
	bh_canary_pfns(bh_pfns[0], 8);
	const struct bh_desc d[2] = {{(uintptr_t)bh_pfns[0], 32, 0},
				     {(uintptr_t)bh_pfns[2], 32, W}};
	return bh_post_one(bh_inflate, d, 2, true, "inflate", why, n);
}

bool bh_chain_write_then_read(char *why, size_t n)
{
	bh_canary_pfns(bh_pfns[0], 8);
	const struct bh_desc d[2] = {{(uintptr_t)bh_pfns[2], 32, W},
				     {(uintptr_t)bh_pfns[0], 32, 0}};
	return bh_post_one(bh_inflate, d, 2, true, "inflate", why, n);
}

bool bh_chain_outside_ram(char *why, size_t n)
{
	bh_canary_pfns(bh_pfns[0], 8);
	const struct bh_desc far[2] = {{(uintptr_t)bh_pfns[0], 32, 0},
				       {BH_FAR_AWAY, 4, 0}};
	const struct bh_desc end[2] = {{(uintptr_t)bh_pfns[0], 32, 0},
				       {bh_ram_top() - 2, 4, 0}};
	return bh_post_one(bh_inflate, far, 2, false, "1 TiB", why, n) &&
	       bh_post_one(bh_inflate, end, 2, false, "across RAM's end", why,
			   n);
}

bool bh_chain_into_mmio(char *why, size_t n)
{
	bh_canary_pfns(bh_pfns[0], 8);
	const struct bh_desc d[2] = {{(uintptr_t)bh_pfns[0], 32, 0},
				     {bh_dev.base, 4, 0}};
	return bh_post_one(bh_inflate, d, 2, false, "inflate", why, n);
}

bool bh_chain_loop(char *why, size_t n)
{
	struct kit_virtq *q = bh_inflate;
	uint16_t h = (uint16_t)(q->num / 2);
	bh_canary_pfns(bh_pfns[0], 8);
	q->desc[h] =
		(struct kit_vring_desc){(uintptr_t)bh_pfns[0], 16,
					VIRTQ_DESC_F_NEXT, (uint16_t)(h + 1)};
	q->desc[h + 1] = (struct kit_vring_desc){(uintptr_t)bh_pfns[0] + 16, 16,
						 VIRTQ_DESC_F_NEXT, h};
	kit_virtq_post_raw(q, h);
	kit_virtq_notify(q);
	return bh_finish(q, "inflate", false, why, n);
}

bool bh_chain_indirect(char *why, size_t n)
{
	if (!kit_vhas(&bh_dev, VIRTIO_F_INDIRECT_DESC)) {
		kit_printf("kit:   INDIRECT_DESC not negotiated: skipped\n");
		return true;
	}
	for (unsigned k = 0; k < 4; k++)
		bh_pfns[3][k] = bh_vpfn(BH_V_INDIRECT + k);
	ind[0] = (struct kit_vring_desc){(uintptr_t)bh_pfns[3], 6,
					 VIRTQ_DESC_F_NEXT, 1};
	ind[1] = (struct kit_vring_desc){(uintptr_t)bh_pfns[3] + 6, 10, 0, 0};
	struct bh_desc good = {(uintptr_t)&ind[0], 32, VIRTQ_DESC_F_INDIRECT};
	if (!bh_must_return(bh_inflate, &good, 1, "valid table", why, n))
		return false;
	bh_tally.inflated += 4;
	bh_canary_pfns(bh_pfns[0], 8);
	ind[2] = (struct kit_vring_desc){(uintptr_t)bh_pfns[0], 32,
					 VIRTQ_DESC_F_NEXT, 1};
	ind[3] = (struct kit_vring_desc){(uintptr_t)bh_pfns[2], 32, W, 0};
	struct bh_desc bad = {(uintptr_t)&ind[2], 32, VIRTQ_DESC_F_INDIRECT};
	return bh_post_one(bh_inflate, &bad, 1, true, "table with a writable",
			   why, n);
}
