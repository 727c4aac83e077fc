/* Building and installing the per-thread seccomp filters; see
 * seccomp_filter.h. */
#define _GNU_SOURCE
#include "seccomp/seccomp_filter.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A plugin's list longer than this is taken for one that lacks its NULL
 * terminator. */
#define MAX_EXTRA_NAMES 512

/* The native number of `name`, or -1: libseccomp answers a negative
 * pseudo-number for calls that exist only on other architectures
 * (seccomp_syscall_resolve_name(3)), which no x86_64 thread can make. */
static int native_nr(const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	return nr == __NR_SCMP_ERROR || nr < 0 ? -1 : nr;
}

int seccomp_check_names(const char *const *names, struct error *err)
{
	for (size_t i = 0; names && names[i]; i++) {
		if (i >= MAX_EXTRA_NAMES) {
			error_user(err,
				   "syscalls: more than %d names (is the list "
				   "NULL-terminated?)",
				   MAX_EXTRA_NAMES);
			return -EINVAL;
		}
		if (native_nr(names[i]) < 0) {
			error_user(
				err,
				"syscalls: '%.64s' is not a system call of "
				"this architecture (names as in syscalls(2))",
				names[i]);
			return -EINVAL;
		}
	}
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct seccomp_rule *r,
		    struct error *err)
{
	int nr = native_nr(r->name), rc;
	uint32_t act = r->refuse ? SCMP_ACT_ERRNO((uint32_t)r->refuse)
				 : SCMP_ACT_ALLOW;

	if (nr < 0) {
		error_host(err, EINVAL, "seccomp: no system call '%s'",
			   r->name);
		return -EINVAL;
	}
	if (r->arg < 0)
		rc = seccomp_rule_add(ctx, act, nr, 0);
	else
		rc = seccomp_rule_add(ctx, act, nr, 1,
				      SCMP_CMP((unsigned)r->arg,
					       SCMP_CMP_MASKED_EQ, r->mask,
					       r->value));
	/* The same call from two parts (plugins may repeat the core's). */
	if (rc == -EEXIST)
		rc = 0;
	if (rc < 0)
		error_host(err, rc, "seccomp: rule for %s: %s", r->name,
			   strerror(-rc));
	return rc;
}

/* The BPF program libseccomp generated, copied out through a memfd
 * (libseccomp 2.5 exports only to a file descriptor). */
static int export_prog(scmp_filter_ctx ctx, struct sock_fprog *prog)
{
	int fd = memfd_create("modvmm-seccomp", MFD_CLOEXEC);
	off_t len = 0;
	void *buf = NULL;
	int r;

	if (fd < 0)
		return -errno;
	r = seccomp_export_bpf(ctx, fd);
	if (r == 0 && (len = lseek(fd, 0, SEEK_END)) > 0 &&
	    len % sizeof(struct sock_filter) == 0 &&
	    len / sizeof(struct sock_filter) <= BPF_MAXINSNS) {
		buf = malloc((size_t)len);
		if (!buf)
			r = -ENOMEM;
		else if (pread(fd, buf, (size_t)len, 0) != len)
			r = -EIO;
	} else if (r == 0) {
		r = -E2BIG;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	prog->len = (unsigned short)(len / sizeof(struct sock_filter));
	prog->filter = buf;
	return 0;
}

/* Whether kind `kl` (with the plugins' extras) allows `name` outright:
 * then a refusal of it from another part does not apply. */
static bool allowed(const struct seccomp_kind_list *kl,
		    const struct seccomp_extras *extras, size_t nextras,
		    const char *name)
{
	for (size_t p = 0; kl->parts[p]; p++)
		for (const struct seccomp_rule *r = kl->parts[p]; r->name; r++)
			if (!r->refuse && !strcmp(r->name, name))
				return true;
	for (size_t i = 0; kl->plugin_code && i < nextras; i++)
		for (size_t j = 0; extras[i].names && extras[i].names[j]; j++)
			if (!strcmp(extras[i].names[j], name))
				return true;
	return false;
}

static int build_kind(struct seccomp_filters *f, enum seccomp_kind k,
		      const struct seccomp_extras *extras, size_t nextras,
		      struct error *err)
{
	const struct seccomp_kind_list *kl = &seccomp_kind_lists[k];
	uint32_t deny = f->mode == CFG_SECCOMP_LOG ? SCMP_ACT_LOG
						   : SCMP_ACT_KILL_PROCESS;
	scmp_filter_ctx ctx = seccomp_init(deny);
	int r = 0;

	if (!ctx) {
		error_host(err, ENOMEM, "seccomp: cannot start a filter");
		return -ENOMEM;
	}
	/* A call through another ABI (int 0x80, x32) is denied alike. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, deny);
	for (size_t p = 0; r == 0 && kl->parts[p]; p++)
		for (const struct seccomp_rule *rule = kl->parts[p];
		     r == 0 && rule->name; rule++) {
			/* Under log nothing is refused: the default logs it
			 * and lets it run, like any other call. */
			if (rule->refuse &&
			    (f->mode == CFG_SECCOMP_LOG ||
			     allowed(kl, extras, nextras, rule->name)))
				continue;
			r = add_rule(ctx, rule, err);
		}
	for (size_t i = 0; r == 0 && kl->plugin_code && i < nextras; i++) {
		const struct seccomp_extras *x = &extras[i];

		for (size_t j = 0; r == 0 && x->names && x->names[j]; j++) {
			struct seccomp_rule any = {x->names[j], -1, 0, 0, 0};

			r = add_rule(ctx, &any, err);
		}
		/* As the core's own IOCTL() rules: the request only. */
		for (size_t j = 0; r == 0 && x->ioctls && x->ioctls[j]; j++) {
			struct seccomp_rule one = {"ioctl", 1, 0xffffffffu,
						   x->ioctls[j], 0};

			r = add_rule(ctx, &one, err);
		}
	}
	/* The hot calls first: every KVM exit and every event pass here. */
	if (r == 0 && k == SECCOMP_KIND_VCPU)
		r = seccomp_syscall_priority(ctx, SCMP_SYS(ioctl), 255);
	if (r == 0 && k == SECCOMP_KIND_EVLOOP)
		r = seccomp_syscall_priority(ctx, SCMP_SYS(epoll_wait), 255);
	if (r == 0 && (r = export_prog(ctx, &f->prog[k])) < 0)
		error_host(err, r, "seccomp: %s filter: %s", kl->name,
			   strerror(-r));
	else if (r < 0 && err->kind == ERROR_NONE)
		error_host(err, r, "seccomp: %s filter: %s", kl->name,
			   strerror(-r));
	seccomp_release(ctx);
	return r;
}

int seccomp_filters_build(struct seccomp_filters *f, enum cfg_seccomp mode,
			  const struct seccomp_extras *extras, size_t nextras,
			  struct error *err)
{
	int r = 0;

	memset(f, 0, sizeof(*f));
	f->mode = mode;
	if (mode == CFG_SECCOMP_OFF) {
		f->built = true;
		return 0;
	}
	/* Level 3: SECCOMP_RET_LOG and SECCOMP_RET_KILL_PROCESS (Linux
	 * 4.14; seccomp_api_get(3)). */
	if (seccomp_api_get() < 3) {
		error_host(err, ENOSYS,
			   "seccomp: this kernel lacks SECCOMP_RET_LOG and "
			   "SECCOMP_RET_KILL_PROCESS (Linux 4.14); run with "
			   "--seccomp off");
		return -ENOSYS;
	}
	/* Every failure from here on is the VMM's or the kernel's: the
	 * plugins' names were checked when they were loaded. */
	err->kind = ERROR_NONE;
	for (int k = 0; k < SECCOMP_KINDS && r == 0; k++)
		r = build_kind(f, (enum seccomp_kind)k, extras, nextras, err);
	if (r < 0)
		seccomp_filters_free(f);
	else
		f->built = true;
	return r;
}

void seccomp_filters_free(struct seccomp_filters *f)
{
	for (int k = 0; k < SECCOMP_KINDS; k++) {
		free(f->prog[k].filter);
		f->prog[k].filter = NULL;
		f->prog[k].len = 0;
	}
}

int seccomp_filter_apply(const struct seccomp_filters *f, enum seccomp_kind k)
{
	if (!f || f->mode == CFG_SECCOMP_OFF || !f->prog[k].filter)
		return 0;
	/* No flags: the filter is the calling thread's alone (no TSYNC). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &f->prog[k]) < 0)
		return -errno;
	return 0;
}
