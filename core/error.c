/* The core's error idiom; see error.h. */
#include "error.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int error_vset(struct error *err, enum error_kind kind, const char *fmt,
	       va_list ap)
{
	if (!err)
		return 0;
	err->kind = kind;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return 0;
}

int error_user(struct error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, ERROR_USER, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int error_host(struct error *err, int errno_value, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, ERROR_HOST, fmt, ap);
	va_end(ap);
	if (errno_value < 0)
		return errno_value;
	return errno_value ? -errno_value : -EIO;
}

void error_prefix(struct error *err, const char *fmt, ...)
{
	char pre[sizeof(err->msg)], old[sizeof(err->msg)];
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s%s", pre, old);
}

int error_report(const struct error *err)
{
	bool host = err->kind == ERROR_HOST;

	fprintf(stderr, "modvmm: %s%s\n", host ? "error: " : "", err->msg);
	return host ? ERROR_EXIT_HOST : ERROR_EXIT_USER;
}
