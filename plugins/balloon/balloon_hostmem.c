/*
 * Host memory inputs: PSI, /proc/meminfo and a cgroup's memory.high and
 * memory.current, read as text each interval (a few hundred bytes) from
 * descriptors opened at create: lseek(2) to 0 and read(2) again
 * regenerates a /proc or cgroup file.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "balloon_hostmem.h"

static int open_ro(const char *path)
{
	return path && *path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
}

void balloon_hostmem_init(struct balloon_hostsrc *src)
{
	src->psi_fd = src->meminfo_fd = -1;
	src->cg_high_fd = src->cg_current_fd = -1;
}

/* Reads at most len - 1 bytes of `fd` from its start, NUL-terminated. */
static bool slurp(int fd, char *buf, size_t len)
{
	ssize_t n;

	if (fd < 0 || lseek(fd, 0, SEEK_SET) != 0)
		return false;
	n = read(fd, buf, len - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

bool balloon_hostmem_cgroup_dir(const char *cgroup, const char *self_cgroup,
				char *dir, size_t len)
{
	const char *p, *eol;
	int n;

	if (!cgroup || !*cgroup || !strcmp(cgroup, "off"))
		return false;
	if (strcmp(cgroup, "auto")) {
		n = snprintf(dir, len, "%s", cgroup);
		return n > 0 && (size_t)n < len;
	}
	/* cgroup v2 is the line "0::/path" (cgroup-v2.rst, "Processes"). */
	for (p = self_cgroup; p && *p; p = eol ? eol + 1 : NULL) {
		eol = strchr(p, '\n');
		if (!strncmp(p, "0::/", 4)) {
			size_t k = eol ? (size_t)(eol - p - 3) : strlen(p + 3);

			n = snprintf(dir, len, "/sys/fs/cgroup%.*s", (int)k,
				     p + 3);
			return n > 0 && (size_t)n < len;
		}
	}
	return false;
}

void balloon_hostmem_open(struct balloon_hostsrc *src, const char *psi_path,
			  const char *meminfo_path, const char *cgroup)
{
	char self[4096] = "", dir[4096], path[4200];
	int fd;

	src->psi_fd = open_ro(psi_path);
	src->meminfo_fd = open_ro(meminfo_path);
	src->cg_high_fd = src->cg_current_fd = -1;
	if (cgroup && !strcmp(cgroup, "auto")) {
		fd = open_ro("/proc/self/cgroup");
		if (!slurp(fd, self, sizeof(self)))
			self[0] = '\0';
		if (fd >= 0)
			close(fd);
	}
	if (!balloon_hostmem_cgroup_dir(cgroup, self, dir, sizeof(dir)))
		return;
	snprintf(path, sizeof(path), "%s/memory.high", dir);
	src->cg_high_fd = open_ro(path);
	snprintf(path, sizeof(path), "%s/memory.current", dir);
	src->cg_current_fd = open_ro(path);
}

void balloon_hostmem_close(struct balloon_hostsrc *src)
{
	int *fds[] = {&src->psi_fd, &src->meminfo_fd, &src->cg_high_fd,
		      &src->cg_current_fd};

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/* "12.34" at p -> 1234; false if p holds no number. */
static bool hundredths(const char *p, uint32_t *out)
{
	char *end;
	unsigned long whole = strtoul(p, &end, 10);
	unsigned long frac = 0;

	if (end == p || whole > 100)
		return false;
	if (*end == '.') {
		const char *f = end + 1;

		if (f[0] >= '0' && f[0] <= '9') {
			frac = (unsigned long)(f[0] - '0') * 10;
			if (f[1] >= '0' && f[1] <= '9')
				frac += (unsigned long)(f[1] - '0');
		}
	}
	*out = (uint32_t)(whole * 100 + frac);
	return true;
}

/* The avg10 of the line starting with `kind` ("some" or "full"). */
static bool psi_line(const char *text, const char *kind, uint32_t *out)
{
	size_t k = strlen(kind);

	for (const char *l = text; l && *l; l = strchr(l, '\n')) {
		if (*l == '\n')
			l++;
		if (!strncmp(l, kind, k) && l[k] == ' ') {
			const char *a = strstr(l, "avg10=");
			const char *eol = strchr(l, '\n');

			if (!a || (eol && a > eol))
				return false;
			return hundredths(a + 6, out);
		}
	}
	return false;
}

bool balloon_hostmem_parse_psi(const char *text, uint32_t *some, uint32_t *full)
{
	return psi_line(text, "some", some) && psi_line(text, "full", full);
}

/* "Key:   123 kB" -> bytes, 0 if absent. */
static uint64_t meminfo_kb(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	if (!p || (p != text && p[-1] != '\n'))
		return 0;
	return strtoull(p + strlen(key), NULL, 10) * 1024;
}

void balloon_hostmem_read(struct balloon_hostmem *m,
			  const struct balloon_hostsrc *src)
{
	char buf[4096];

	memset(m, 0, sizeof(*m));
	if (slurp(src->psi_fd, buf, sizeof(buf)))
		m->psi_known = balloon_hostmem_parse_psi(buf, &m->psi_some,
							 &m->psi_full);
	if (slurp(src->meminfo_fd, buf, sizeof(buf))) {
		m->avail = meminfo_kb(buf, "MemAvailable:");
		m->total = meminfo_kb(buf, "MemTotal:");
	}
	/* Both or neither: a limit without usage (or the reverse) says
	 * nothing. "max" reads as no number: no limit. */
	if (slurp(src->cg_high_fd, buf, sizeof(buf)) && buf[0] >= '0' &&
	    buf[0] <= '9') {
		m->cg_high = strtoull(buf, NULL, 10);
		if (slurp(src->cg_current_fd, buf, sizeof(buf)) &&
		    buf[0] >= '0' && buf[0] <= '9')
			m->cg_current = strtoull(buf, NULL, 10);
		else
			m->cg_high = 0;
	}
}
