/*
 * seccomp filters, one per thread kind (seccomp_lists.h). The main thread
 * builds every kind's BPF program once, after the devices exist (their
 * plugins' extra system calls are known) and before the first thread
 * starts; each thread then installs its own kind's program on itself
 * (no SECCOMP_FILTER_FLAG_TSYNC: every kind keeps its own list) once its
 * set-up is done and before it runs guest-facing work. A thread created
 * after its creator installed a filter inherits that filter too
 * (seccomp(2)), so the main thread installs its own last.
 *
 * The plugin loader also uses this module to check the names in a
 * plugin's `syscalls` list.
 */
#ifndef MODVMM_CORE_SECCOMP_FILTER_H
#define MODVMM_CORE_SECCOMP_FILTER_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "seccomp/seccomp_lists.h"

struct seccomp_filters {
	enum cfg_seccomp mode;
	struct sock_fprog prog[SECCOMP_KINDS]; /* filter NULL: none */
	bool built; /* seccomp_filters_build succeeded (also for "off") */
};

/* What one plugin's descriptor adds to the kinds that run plugin code. */
struct seccomp_extras {
	const char *const *names; /* NULL-terminated syscalls(2) names */
	const uint32_t *ioctls;   /* 0-terminated ioctl(2) requests */
};

/*
 * Builds every kind's program for `mode` (nothing for CFG_SECCOMP_OFF).
 * `extras` holds `nextras` plugins' additions (NULL members are skipped),
 * added to the kinds that run plugin code. 0, or -errno with `err` holding
 * one line (an error of the VMM or of the host's kernel: the names were
 * checked at load time).
 */
int seccomp_filters_build(struct seccomp_filters *f, enum cfg_seccomp mode,
			  const struct seccomp_extras *extras, size_t nextras,
			  struct error *err);
void seccomp_filters_free(struct seccomp_filters *f);

/* Installs kind `k`'s program on the calling thread (after setting its
 * no_new_privs bit, which seccomp(2) asks of an unprivileged caller).
 * 0 when off or done, else -errno. */
int seccomp_filter_apply(const struct seccomp_filters *f, enum seccomp_kind k);

/* Checks that every name in the NULL-terminated `names` is a system call
 * of this architecture. 0, or -EINVAL with `err` naming the first that is
 * not (the user's: the plugin they chose lists it). */
int seccomp_check_names(const char *const *names, struct error *err);

#endif
