/*
 * modvmm plugin SDK: option strings.
 *
 * Every plugin takes one option string, "key=value,key=value", from the
 * machine file or a --device flag, and describes the keys it accepts with a
 * table of `struct mvm_option`. The core's parser (host->parse_options)
 * fills a plugin-defined struct from that table: defaults first, then the
 * string. Unknown keys, repeated keys, missing mandatory keys and bad values
 * are errors that name the key and the value. The same table drives
 * `--device NAME,help`.
 *
 * Value syntax:
 *  - MVM_OPT_SIZE: a byte count with an optional K, M, G or T suffix
 *    (powers of 1024, upper or lower case, optional trailing "B" or "iB"),
 *    stored as uint64_t.
 *  - MVM_OPT_U64: a decimal or 0x-prefixed number, stored as uint64_t.
 *  - MVM_OPT_BOOL: on|off|true|false|yes|no|1|0, stored as bool.
 *  - MVM_OPT_STR: any text without ',' stored as `const char *`; the string
 *    lives as long as the device.
 * Numbers and sizes may carry inclusive bounds (MVM_OPTION_RANGE).
 */
#ifndef MODVMM_OPTIONS_H
#define MODVMM_OPTIONS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The type of an option's value, and so of its field in the out struct. */
enum mvm_opt_type {
	MVM_OPT_BOOL = 0, /**< bool */
	MVM_OPT_SIZE = 1, /**< uint64_t, bytes, K/M/G/T suffixes */
	MVM_OPT_U64 = 2,  /**< uint64_t */
	MVM_OPT_STR = 3,  /**< const char * */
};

/** One accepted key. Tables end with an entry whose key is NULL. */
struct mvm_option {
	/** The key as written in option strings. */
	const char *key;
	/** How the value is parsed and stored. */
	enum mvm_opt_type type;
	/** offsetof() the field in the plugin's option struct. */
	size_t offset;
	/** Default value in option syntax, or NULL for none (field left as the
	 *  caller initialised it). */
	const char *defval;
	/** true if the key must be given. */
	bool required;
	/** One line for `help`. */
	const char *help;
	/** For MVM_OPT_SIZE and MVM_OPT_U64: inclusive bounds; a value
	 *  outside them is refused naming the bound. `max` 0 means no upper
	 *  bound (both 0: unbounded). Set them with MVM_OPTION_RANGE. */
	uint64_t min, max;
};

/** Convenience initialiser for a table entry without bounds. */
#define MVM_OPTION(k, t, strct, field, def, req, hlp)                          \
	{                                                                      \
		.key = (k), .type = (t), .offset = offsetof(strct, field),     \
		.defval = (def), .required = (req), .help = (hlp)              \
	}

/**
 * MVM_OPTION with inclusive bounds [lo, hi] for an MVM_OPT_U64 or
 * MVM_OPT_SIZE value; `hi` 0 means no upper bound. A value outside them is
 * refused as "key=value: must be at least|most BOUND" (sizes shown with
 * their suffix). Header-only: it fills the `min`/`max` members every 1.x
 * core reads, so it needs no newer ABI minor.
 *
 *     MVM_OPTION_RANGE("irq", MVM_OPT_U64, struct my_opts, irq, "4", false,
 *                      0, 23, "interrupt line (GSI)"),
 */
#define MVM_OPTION_RANGE(k, t, strct, field, def, req, lo, hi, hlp)            \
	{                                                                      \
		.key = (k), .type = (t), .offset = offsetof(strct, field),     \
		.defval = (def), .required = (req), .help = (hlp),             \
		.min = (lo), .max = (hi)                                       \
	}

/** Table terminator. */
#define MVM_OPTION_END                                                         \
	{                                                                      \
		.key = NULL                                                    \
	}

/**
 * mvm_size_parse: a size as MVM_OPT_SIZE reads it ("512", "64K", "1G",
 * "2GiB", "3MB"; suffixes are powers of 1024, either case), for a plugin
 * that reads a size outside an option string (a control command's
 * argument, "N% or a size"). Returns 0 with *out set, -EINVAL (syntax) or
 * -ERANGE (does not fit 64 bits). Header-only, like MVM_OPTION_RANGE; the
 * core parses option sizes with this very function.
 */
static inline int mvm_size_parse(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned shift = 0;
	int rc = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');

		/* Too large, but only if the rest is valid syntax. */
		if (v > (UINT64_MAX - d) / 10)
			rc = -ERANGE;
		else if (!rc)
			v = v * 10 + d;
	}
	switch (*s) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	}
	if (shift) {
		s++;
		if (*s == 'i' || *s == 'I') {
			s++;
			if (*s != 'b' && *s != 'B')
				return -EINVAL;
		}
	}
	if (*s == 'b' || *s == 'B')
		s++;
	if (*s)
		return -EINVAL;
	if (rc)
		return rc;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

#ifdef __cplusplus
}
#endif

#endif /* MODVMM_OPTIONS_H */
