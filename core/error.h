/*
 * The core's one error idiom: a failure that reaches the user carries one
 * line and whose fault it is, from the place that made it up to main.
 * Everything in core/ that can fail for a reason worth telling takes a
 * `struct error *err` last and returns 0 or -errno.
 *
 * How to use it:
 * - The function that sees the failure decides the kind, because only it
 *   knows: a bad value in the machine file, a missing kernel, a plugin's
 *   `host->fail` line are the user's (error_user, exit 2); a failing ioctl,
 *   mmap or thread is the VMM's or the host's (error_host, exit 1). Nobody
 *   above it guesses the kind from errno.
 * - The message is the whole line the user sees after "modvmm: " (a host
 *   error gets "modvmm: error: "): file:line:col and key=value as the
 *   caller wants them read. A caller that adds context prefixes it with
 *   error_prefix(), which keeps the kind.
 * - Both fillers return a negative errno, so `return error_user(err, ...)`
 *   is the usual way out. error_user returns -EINVAL; error_host returns
 *   the errno it was given (negated if positive, -EIO if 0).
 *   Where a function returns its own errno anyway, the filler's return may
 *   be ignored (kvm.c's `error_host(err, 0, ...)`).
 * - The fillers and error_prefix accept a NULL `err` (the caller wants
 *   only the errno); the functions taking `err` need not.
 * - machine.c and main.c print err once (error_report), which maps the
 *   kind to the exit status; library code never prints or exits.
 * - Not this idiom: a running VM ends through vm_request_exit (status and
 *   reason), an API command fails with api_call_fail (a QMP error), and
 *   opts_parse, under the SDK's host->parse_options, fills a plain buffer
 *   (dev->fail_msg) that device.c turns into a user error.
 */
#ifndef MODVMM_CORE_ERROR_H
#define MODVMM_CORE_ERROR_H

#include <stdarg.h>

enum error_kind {
	ERROR_NONE = 0,
	ERROR_USER, /* the user's input is wrong: exit 2 */
	ERROR_HOST, /* the VMM or the host failed: exit 1 */
};

/* The exit statuses of the two kinds (vm.h: VM_EXIT_USER_ERROR and
 * VM_EXIT_VMM_ERROR are the same numbers). */
#define ERROR_EXIT_USER 2
#define ERROR_EXIT_HOST 1

struct error {
	enum error_kind kind;
	char msg[512]; /* one line, no trailing newline */
};

/* Fill err as the user's fault; returns -EINVAL. */
int error_user(struct error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Fill err as the VMM's or host's fault; returns -|errno_value| (-EIO for
 * 0). The message does not include strerror: say it in fmt if wanted. */
int error_host(struct error *err, int errno_value, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int error_vset(struct error *err, enum error_kind kind, const char *fmt,
	       va_list ap) __attribute__((format(printf, 3, 0)));
/* Put "<prefix>" (printf-style) before err->msg; kind unchanged. */
void error_prefix(struct error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print err as the one line the user sees and return the exit status its
 * kind means (2 user, 1 host). */
int error_report(const struct error *err);

#endif
