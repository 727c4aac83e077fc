/*
 * The option-string parser behind host->parse_options (modvmm/options.h),
 * also used by the core for its own flags (--memory size=2G,shared=on,
 * --cpus boot=2). Errors are one line naming the key and the bad value.
 */
#ifndef MODVMM_CORE_OPTS_H
#define MODVMM_CORE_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <modvmm/options.h>

/* Strings handed out for MVM_OPT_STR values; freed with the device. */
struct opts_strings {
	char **v;
	size_t n;
};

/*
 * Parse `str` ("key=value,key=value", may be "" or NULL) against `spec`
 * into `out`: defaults first, then the given keys. Returns 0, or -EINVAL
 * with `err` holding one line such as
 *   "size=1X: not a size (a number with an optional K, M, G or T suffix)"
 *   "unknown option 'foo' (known: size, deflate_on_oom)".
 * MVM_OPT_STR values are copied into `store` (may be NULL only if the spec
 * has no string options).
 */
int opts_parse(const struct mvm_option *spec, const char *str, void *out,
	       struct opts_strings *store, char *err, size_t errlen);

/* Print "  key=<type>  help (default: x)" lines for `spec`. */
void opts_print_help(FILE *f, const struct mvm_option *spec);

void opts_strings_free(struct opts_strings *store);

/* Single-value helpers; return 0 or -EINVAL. */
/* Parse `val` for the one option `o` (not a string option) into its field
 * of `out`, with the same checks and bounds as opts_parse; errors name it
 * `name` ("memory.size=64M: must be at least 128M"). */
int opts_parse_value(const struct mvm_option *o, const char *name,
		     const char *val, void *out, char *err, size_t errlen);

/* `v` as the shortest exact size ("4K", "1023G", "4097"). */
void opts_format_size(char *buf, size_t len, uint64_t v);
int opts_parse_size(const char *s, uint64_t *out);
int opts_parse_u64(const char *s, uint64_t *out);
int opts_parse_bool(const char *s, bool *out);

#endif
