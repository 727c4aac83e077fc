/*
 * devices expect=HID[:count],...: the DSDT declares these devices, e.g.
 * expect=PNP0501:1,LNRO0005:2. Without :count, at least one is required.
 * Each matching device must also have a resource (MMIO window, port or
 * interrupt) in its _CRS: a device a driver cannot reach is not there.
 */
#include "acpi.h"

static void check_one(const char *hid, size_t hlen, const char *count,
		      size_t clen)
{
	char check[48];
	kit_snprintf(check, sizeof(check), "devices.%.*s", (int)hlen, hid);
	uint64_t want = 0;
	if (count && !kit_parse_size(count, clen, &want)) {
		kit_check(false, check, "bad count '%.*s'", (int)clen, count);
		return;
	}
	unsigned found = 0, empty = 0;
	for (unsigned i = 0; i < kit_acpi.ndevices; i++) {
		const struct kit_device *d = &kit_acpi.devices[i];
		if (strlen(d->hid) != hlen || memcmp(d->hid, hid, hlen))
			continue;
		found++;
		if (!d->nmem && !d->nio && !d->nirq)
			empty++;
	}
	if (count)
		kit_check(found == want && !empty, check,
			  "%u found (%u without resources), expected %lu",
			  found, empty, want);
	else
		kit_check(found && !empty, check,
			  "%u found (%u without resources), expected at least "
			  "one",
			  found, empty);
}

static void run(void)
{
	size_t len;
	const char *v = kit_arg("expect", &len);
	if (!v || !len) {
		kit_check(false, "devices.args", "need expect=HID[:count],...");
		return;
	}
	if (!kit_check(kit_acpi.dsdt_found, "devices.dsdt", "no DSDT"))
		return;
	const char *end = v + len;
	while (v < end) {
		const char *item = v, *colon = NULL;
		while (v < end && *v != ',') {
			if (*v == ':' && !colon)
				colon = v;
			v++;
		}
		const char *hid_end = colon ? colon : v;
		if (hid_end > item)
			check_one(item, (size_t)(hid_end - item),
				  colon ? colon + 1 : NULL,
				  colon ? (size_t)(v - colon - 1) : 0);
		v++; /* skip ',' */
	}
}

const struct kit_program kit_prog_devices = {"devices", run};
