/*
 * The host's memory situation for the steering policy (balloon_hostmem.c):
 * PSI memory pressure (Documentation/accounting/psi.rst: the lines
 * "some avg10=... " and "full avg10=..." of /proc/pressure/memory or a
 * cgroup's memory.pressure) and MemAvailable / MemTotal of /proc/meminfo.
 * The files are opened when the device is created, before the VMM's
 * seccomp filters (which refuse open(2) once the VM runs), and re-read
 * from the start every interval: a file that is replaced later (renamed
 * over) is not seen, one rewritten in place is. Called by balloon_steer.c.
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

/* The open files; -1 for none. */
struct balloon_hostsrc {
	int psi_fd, meminfo_fd;
};

/* Opens the PSI file `psi_path` and the meminfo file `meminfo_path`
 * (either may be NULL or "" for none; one that cannot be opened is none). */
void balloon_hostmem_open(struct balloon_hostsrc *src, const char *psi_path,
			  const char *meminfo_path);
void balloon_hostmem_close(struct balloon_hostsrc *src);
/* Fills `m` from the files. A file that is absent or malformed leaves its
 * fields unknown: the policy then goes by the guest alone. */
void balloon_hostmem_read(struct balloon_hostmem *m,
			  const struct balloon_hostsrc *src);
/* Parses PSI text; false if it lacks a "some" or "full" avg10. */
bool balloon_hostmem_parse_psi(const char *text, uint32_t *some,
			       uint32_t *full);

#endif
