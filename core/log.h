/*
 * The core's logger: one line per message on stderr, tagged with a
 * component ("kvm", "boot", a device name), filtered by level. Guest-caused
 * messages go through log_ratelimited so a hostile guest cannot flood the
 * host's logs.
 */
#ifndef MODVMM_CORE_LOG_H
#define MODVMM_CORE_LOG_H

#include <stdarg.h>
#include <stdint.h>

#include <modvmm/plugin.h>

void log_set_level(enum mvm_log_level level);
enum mvm_log_level log_get_level(void);

void log_msg(enum mvm_log_level level, const char *component, const char *fmt,
	     ...) __attribute__((format(printf, 3, 4)));
void log_vmsg(enum mvm_log_level level, const char *component, const char *fmt,
	      va_list ap);

/* Per-source state for rate limiting: at most LOG_RATE_BURST messages per
 * LOG_RATE_WINDOW_NS, then one "suppressed N" line when the window rolls. */
struct log_ratelimit {
	uint64_t window_start_ns;
	unsigned printed;
	unsigned suppressed;
};
#define LOG_RATE_BURST 10
#define LOG_RATE_WINDOW_NS 5000000000ULL

void log_vratelimited(struct log_ratelimit *rl, const char *component,
		      const char *fmt, va_list ap);

#define log_error(c, ...) log_msg(MVM_LOG_ERROR, c, __VA_ARGS__)
#define log_warn(c, ...) log_msg(MVM_LOG_WARN, c, __VA_ARGS__)
#define log_info(c, ...) log_msg(MVM_LOG_INFO, c, __VA_ARGS__)
#define log_debug(c, ...) log_msg(MVM_LOG_DEBUG, c, __VA_ARGS__)

uint64_t log_now_ns(void); /* CLOCK_MONOTONIC */

#endif
