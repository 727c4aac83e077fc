/*
 * The host's memory situation for the steering policy (balloon_hostmem.c):
 * PSI memory pressure (Documentation/accounting/psi.rst: the lines
 * "some avg10=... " and "full avg10=..." of /proc/pressure/memory or a
 * cgroup's memory.pressure), MemAvailable / MemTotal of /proc/meminfo, and
 * the memory.high / memory.current of a cgroup v2 (the kernel's
 * Documentation/admin-guide/cgroup-v2.rst: memory.high is "max" or bytes).
 * The files are opened when the device is created, before the VMM's
 * seccomp filters (which refuse open(2) once the VM runs), and re-read
 * from the start every interval: a file that is replaced later (renamed
 * over) is not seen, one rewritten in place is. Called by balloon_steer.c.
 */
#ifndef MODVMM_BALLOON_HOSTMEM_H
#define MODVMM_BALLOON_HOSTMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct balloon_hostmem {
	bool psi_known; /* the PSI file was read and had both lines */
	uint32_t psi_some, psi_full; /* avg10, hundredths of a percent */
	uint64_t avail, total;       /* bytes; 0 = unknown */
	/* The cgroup's memory.high and memory.current, bytes; cg_high 0 = no
	 * limit ("max") or unknown. */
	uint64_t cg_high, cg_current;
};

/* The open files; -1 for none. */
struct balloon_hostsrc {
	int psi_fd, meminfo_fd, cg_high_fd, cg_current_fd;
};

/* All -1: nothing open yet. */
void balloon_hostmem_init(struct balloon_hostsrc *src);
/* Opens the PSI file `psi_path`, the meminfo file `meminfo_path` and the
 * memory.high and memory.current of the cgroup `cgroup` (a cgroup v2
 * directory; "auto" for the one this process runs in, as /proc/self/cgroup
 * names it under /sys/fs/cgroup; "off" for none). Any may be NULL or "" for
 * none; a file that cannot be opened is none. */
void balloon_hostmem_open(struct balloon_hostsrc *src, const char *psi_path,
			  const char *meminfo_path, const char *cgroup);
/* The directory `cgroup` names ("auto" resolved through `self_cgroup`, the
 * text of /proc/self/cgroup) into dir; false for "off", "", or a process
 * not in a cgroup v2 hierarchy. */
bool balloon_hostmem_cgroup_dir(const char *cgroup, const char *self_cgroup,
				char *dir, size_t len);
void balloon_hostmem_close(struct balloon_hostsrc *src);
/* Fills `m` from the files. A file that is absent or malformed leaves its
 * fields unknown: the policy then goes by the guest alone. */
void balloon_hostmem_read(struct balloon_hostmem *m,
			  const struct balloon_hostsrc *src);
/* Parses PSI text; false if it lacks a "some" or "full" avg10. */
bool balloon_hostmem_parse_psi(const char *text, uint32_t *some,
			       uint32_t *full);

#endif
