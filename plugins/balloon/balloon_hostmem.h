/*
 * The host's memory situation for the steering policy (balloon_hostmem.c):
 * PSI memory pressure (Documentation/accounting/psi.rst: the lines
 * "some avg10=... " and "full avg10=..." of /proc/pressure/memory or a
 * cgroup's memory.pressure) and MemAvailable / MemTotal of /proc/meminfo.
 * Reads files only; called by balloon_steer.c once an interval.
 */
#ifndef MODVMM_BALLOON_HOSTMEM_H
#define MODVMM_BALLOON_HOSTMEM_H

#include <stdbool.h>
#include <stdint.h>

struct balloon_hostmem {
	bool psi_known; /* the PSI file was read and had both lines */
	uint32_t psi_some, psi_full; /* avg10, hundredths of a percent */
	uint64_t avail, total;       /* bytes; 0 = unknown */
};

/* Fills `m` from the PSI file `psi_path` and the meminfo file
 * `meminfo_path` (either may be NULL or "" for none). A file that is
 * missing or malformed leaves its fields unknown: the policy then goes by
 * the guest alone. */
void balloon_hostmem_read(struct balloon_hostmem *m, const char *psi_path,
			  const char *meminfo_path);
/* Parses PSI text; false if it lacks a "some" or "full" avg10. */
bool balloon_hostmem_parse_psi(const char *text, uint32_t *some,
			       uint32_t *full);

#endif
