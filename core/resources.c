/* GSIs, device MMIO windows and DSDT records; see resources.h. */
#include "resources.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"

/* Lines the core never hands out, on a PC's map: the PIT (0, and 2, where
 * the IOAPIC receives it) and the RTC (8). */
#define GSI_RESERVED ((1u << 0) | (1u << 2) | (1u << 8))
/* Not picked for a device that takes any line either: the ACPI SCI (9),
 * which a device may still claim by number. */
#define GSI_NOT_AUTO (GSI_RESERVED | (1u << 9))

void resources_init(struct resources *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->mmio_next = LAYOUT_DEVICE_MMIO_START;
}

void resources_free(struct resources *rs)
{
	free(rs->dsdt_recs);
	free(rs->raw_aml);
	rs->dsdt_recs = NULL;
	rs->raw_aml = NULL;
	rs->ndsdt_recs = rs->raw_aml_len = 0;
}

int resources_alloc_mmio(struct resources *rs, uint64_t len, uint64_t *base)
{
	if (!base || len == 0 || (len & 0xfff))
		return -EINVAL;
	if (rs->mmio_next + len > LAYOUT_DEVICE_MMIO_END ||
	    rs->mmio_next + len < rs->mmio_next)
		return -ENOSPC;
	*base = rs->mmio_next;
	rs->mmio_next += len;
	return 0;
}

int resources_claim_gsi(struct resources *rs, int gsi)
{
	if (gsi < 0) {
		for (int g = LAYOUT_GSI_FIRST_FREE; g <= LAYOUT_GSI_LAST; g++) {
			if ((GSI_NOT_AUTO | rs->gsi_used) & (1u << g))
				continue;
			gsi = g;
			break;
		}
		if (gsi < 0)
			return -ENOSPC;
	} else if (gsi > LAYOUT_GSI_LAST || (GSI_RESERVED & (1u << gsi))) {
		return -EINVAL;
	} else if (rs->gsi_used & (1u << gsi)) {
		return -EBUSY;
	}
	rs->gsi_used |= 1u << gsi;
	return gsi;
}

int resources_add_dsdt_device(struct resources *rs,
			      const struct mvm_dsdt_device *d)
{
	struct dsdt_record *recs, *rec;

	if (rs->ndsdt_recs >= 0xfff)
		return -ENOSPC;
	recs = realloc(rs->dsdt_recs, (rs->ndsdt_recs + 1) * sizeof(*recs));
	if (!recs)
		return -ENOMEM;
	rs->dsdt_recs = recs;
	/* realloc may have moved the records: re-point their hid strings. */
	for (size_t i = 0; i < rs->ndsdt_recs; i++)
		recs[i].d.hid = recs[i].hid;
	rec = &recs[rs->ndsdt_recs];
	memset(rec, 0, sizeof(*rec));
	snprintf(rec->name, sizeof(rec->name), "D%03zX", rs->ndsdt_recs);
	snprintf(rec->hid, sizeof(rec->hid), "%s", d->hid);
	rec->d = *d;
	rec->d.hid = rec->hid;
	rs->ndsdt_recs++;
	return 0;
}

int resources_add_aml(struct resources *rs, const void *aml, size_t len)
{
	uint8_t *p;

	if (!aml || len == 0 || len > 65536)
		return -EINVAL;
	p = realloc(rs->raw_aml, rs->raw_aml_len + len);
	if (!p)
		return -ENOMEM;
	memcpy(p + rs->raw_aml_len, aml, len);
	rs->raw_aml = p;
	rs->raw_aml_len += len;
	return 0;
}
