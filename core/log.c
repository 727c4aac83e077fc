/* One-line, levelled, component-tagged logging to stderr. */
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <time.h>

static enum mvm_log_level current_level = MVM_LOG_WARN;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void log_set_level(enum mvm_log_level level)
{
	current_level = level;
}

enum mvm_log_level log_get_level(void)
{
	return current_level;
}

uint64_t log_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void log_vmsg(enum mvm_log_level level, const char *component, const char *fmt,
	      va_list ap)
{
	if (level > current_level)
		return;
	/* One lock so lines from vCPU threads and the event loop never
	 * interleave mid-line. */
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "modvmm: %s: %s: ", component ? component : "core",
		level_names[level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&log_lock);
}

void log_msg(enum mvm_log_level level, const char *component, const char *fmt,
	     ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, component, fmt, ap);
	va_end(ap);
}

void log_vratelimited(struct log_ratelimit *rl, const char *component,
		      const char *fmt, va_list ap)
{
	uint64_t now = log_now_ns();

	if (now - rl->window_start_ns >= LOG_RATE_WINDOW_NS) {
		if (rl->suppressed)
			log_msg(MVM_LOG_WARN, component,
				"%u similar guest-caused messages suppressed",
				rl->suppressed);
		rl->window_start_ns = now;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	if (rl->printed >= LOG_RATE_BURST) {
		rl->suppressed++;
		return;
	}
	rl->printed++;
	log_vmsg(MVM_LOG_WARN, component, fmt, ap);
}
