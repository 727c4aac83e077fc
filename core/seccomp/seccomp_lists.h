/*
 * The seccomp allow-lists as data: which system calls each kind of modvmm
 * thread may make once it runs guest-facing work, and with which
 * arguments. seccomp_filter.c turns them into one BPF filter per kind;
 * docs/seccomp.md says what each kind does and why it needs what it has.
 */
#ifndef MODVMM_CORE_SECCOMP_LISTS_H
#define MODVMM_CORE_SECCOMP_LISTS_H

#include <stdbool.h>
#include <stdint.h>

/* The kinds of thread, each with its own list. */
enum seccomp_kind {
	SECCOMP_KIND_VCPU,    /* KVM_RUN loop; device MMIO/PIO callbacks */
	SECCOMP_KIND_EVLOOP,  /* event loop: kicks, timers, control socket */
	SECCOMP_KIND_MAP_RAM, /* helper registering guest RAM with KVM */
	SECCOMP_KIND_MAIN,    /* main thread: waits, then tears down */
	SECCOMP_KINDS
};

/*
 * One allowed system call. arg < 0: any arguments. Otherwise the call is
 * allowed when (argument[arg] & mask) == value; several rules for one name
 * allow any of their values (seccomp_rule_add(3)). refuse != 0: the call is
 * not made but fails with that errno under --seccomp on (logged and run
 * under log), for calls glibc makes on its own and copes with failing.
 */
struct seccomp_rule {
	const char *name; /* as in syscalls(2): "ioctl", "epoll_wait" */
	int arg;
	uint64_t mask;
	uint64_t value;
	int refuse;
};

struct seccomp_kind_list {
	const char *name; /* "vcpu", "evloop", ... for messages */
	/* NULL-terminated parts; each part ends with a rule of name NULL. */
	const struct seccomp_rule *const *parts;
	/* Runs plugin code (device callbacks, destroy hooks), so it also
	 * gets the extra system calls plugins declare. */
	bool plugin_code;
};

extern const struct seccomp_kind_list seccomp_kind_lists[SECCOMP_KINDS];

#endif
