/*
 * In-tree only, not part of the SDK (not installed): open a plugin whose
 * descriptor is linked into the calling program instead of dlopen()ed
 * from a .so. The fuzzers use it so the plugin's sources are compiled
 * into the fuzzer with its coverage instrumentation and sanitizers, which
 * a separately built .so would not carry. Everything else is
 * mvm_harness_open (modvmm/harness.h): the same ABI checks, create and
 * start hooks and fake host; mvm_harness_close as usual.
 */
#ifndef MODVMM_HARNESS_LINKED_H
#define MODVMM_HARNESS_LINKED_H

#include <stddef.h>

#include <modvmm/harness.h>

/** mvm_harness_open for the descriptor `desc` of a plugin compiled into
 *  this program. */
int harness_open_linked(const struct mvm_plugin *desc, const char *options,
			const struct mvm_harness_config *cfg,
			struct mvm_harness **out, char *why, size_t whylen);

#endif
