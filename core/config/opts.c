/*
 * Option strings ("size=1G,deflate_on_oom=on") parsed against a plugin's
 * `struct mvm_option` table. See core/config/opts.h and modvmm/options.h.
 *
 * The value parsers are hand-written rather than strtoull(): strtoull()
 * accepts leading blanks, a sign (so "-1" wraps to UINT64_MAX) and silently
 * saturates on overflow, and every one of those would let a typo through as
 * some surprising number of bytes.
 */
#include "config/opts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SIZE_SYNTAX "a number with an optional K, M, G or T suffix"

/* err/errlen may be NULL/0 when the caller only wants the status. */
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Decimal digits only, no sign, no blanks. -ERANGE past UINT64_MAX. */
static int parse_decimal(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*sp = s;
	*out = v;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Returns 0, -EINVAL (syntax) or -ERANGE (too large): the SDK's parser,
 * so that a plugin reading a size itself reads it as options do. */
static int size_value(const char *s, uint64_t *out)
{
	return mvm_size_parse(s, out);
}

/* Returns 0, -EINVAL (syntax) or -ERANGE (too large). */
static int u64_value(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		bool overflow = false;

		s += 2;
		if (hexval(*s) < 0)
			return -EINVAL;
		for (; *s; s++) {
			int d = hexval(*s);

			if (d < 0)
				return -EINVAL;
			if (v >> 60)
				overflow = true;
			v = (v << 4) | (uint64_t)d;
		}
		if (overflow)
			return -ERANGE;
		*out = v;
		return 0;
	}
	int rc = parse_decimal(&s, &v);

	if (rc == -ERANGE) {
		while (*s >= '0' && *s <= '9')
			s++;
		return *s ? -EINVAL : -ERANGE;
	}
	if (rc || *s)
		return -EINVAL;
	*out = v;
	return 0;
}

int opts_parse_size(const char *s, uint64_t *out)
{
	return s && size_value(s, out) == 0 ? 0 : -EINVAL;
}

int opts_parse_u64(const char *s, uint64_t *out)
{
	return s && u64_value(s, out) == 0 ? 0 : -EINVAL;
}

int opts_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"on", "true", "yes", "1"};
	static const char *const no[] = {"off", "false", "no", "0"};

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* Sizes in bound errors read better as "4K" than as "4096". */
void opts_format_size(char *buf, size_t len, uint64_t v)
{
	static const char units[] = "KMGT";
	int u = -1;

	while (u < 3 && v && (v & 1023) == 0) {
		v >>= 10;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%llu", (unsigned long long)v);
	else
		snprintf(buf, len, "%llu%c", (unsigned long long)v, units[u]);
}

static void format_bound(const struct mvm_option *o, char *buf, size_t len,
			 uint64_t v)
{
	if (o->type == MVM_OPT_SIZE)
		opts_format_size(buf, len, v);
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
}

static int store_string(struct opts_strings *store, const char *s, char **copy)
{
	char **v;

	if (!store)
		return -EINVAL;
	v = realloc(store->v, (store->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	store->v = v;
	v[store->n] = strdup(s);
	if (!v[store->n])
		return -ENOMEM;
	*copy = v[store->n++];
	return 0;
}

/* Parse `val` for option `o` and store it in its field of `out`. Defaults go
 * through here too, so a bad default in a plugin's table is reported as
 * clearly as a bad value from the user. */
static int set_value(const struct mvm_option *o, const char *name,
		     const char *val, void *out, struct opts_strings *store,
		     char *err, size_t errlen)
{
	char *field = (char *)out + o->offset;
	uint64_t v = 0;
	char bound[32];
	int rc;

	if (o->type != MVM_OPT_STR && !*val)
		return fail(err, errlen, -EINVAL, "%s=: empty value", name);

	switch (o->type) {
	case MVM_OPT_BOOL: {
		bool b;

		if (opts_parse_bool(val, &b))
			return fail(err, errlen, -EINVAL,
				    "%s=%s: expected on or off", name, val);
		memcpy(field, &b, sizeof(b));
		return 0;
	}
	case MVM_OPT_STR: {
		char *copy;

		rc = store_string(store, val, &copy);
		if (rc == -ENOMEM)
			return fail(err, errlen, rc, "%s: out of memory", name);
		if (rc)
			return fail(err, errlen, rc,
				    "%s: string option but no string store "
				    "(internal error)",
				    name);
		const char *c = copy;

		memcpy(field, &c, sizeof(c));
		return 0;
	}
	case MVM_OPT_SIZE:
		rc = size_value(val, &v);
		if (rc == -EINVAL)
			return fail(err, errlen, rc,
				    "%s=%s: not a size (" SIZE_SYNTAX ")", name,
				    val);
		break;
	case MVM_OPT_U64:
		rc = u64_value(val, &v);
		if (rc == -EINVAL)
			return fail(err, errlen, rc,
				    "%s=%s: not a number (decimal, or hex "
				    "with 0x)",
				    name, val);
		break;
	default:
		return fail(err, errlen, -EINVAL,
			    "%s: unknown option type %d (internal error)", name,
			    (int)o->type);
	}
	if (rc == -ERANGE)
		return fail(err, errlen, -EINVAL, "%s=%s: too large", name,
			    val);

	/* Both 0 means unbounded; a max of 0 with a min set means "no upper
	 * bound", since [min, 0] would reject every value. */
	if ((o->min || o->max) && v < o->min) {
		format_bound(o, bound, sizeof(bound), o->min);
		return fail(err, errlen, -EINVAL, "%s=%s: must be at least %s",
			    name, val, bound);
	}
	if (o->max && v > o->max) {
		format_bound(o, bound, sizeof(bound), o->max);
		return fail(err, errlen, -EINVAL, "%s=%s: must be at most %s",
			    name, val, bound);
	}
	memcpy(field, &v, sizeof(v));
	return 0;
}

int opts_parse_value(const struct mvm_option *o, const char *name,
		     const char *val, void *out, char *err, size_t errlen)
{
	return set_value(o, name, val, out, NULL, err, errlen);
}

static const struct mvm_option *find_key(const struct mvm_option *spec,
					 const char *key, size_t *idx)
{
	for (size_t i = 0; spec && spec[i].key; i++) {
		if (!strcmp(spec[i].key, key)) {
			*idx = i;
			return &spec[i];
		}
	}
	return NULL;
}

static int unknown_key(const struct mvm_option *spec, const char *key,
		       char *err, size_t errlen)
{
	char known[384] = "";
	size_t used = 0;

	for (size_t i = 0; spec && spec[i].key; i++) {
		int n = snprintf(known + used, sizeof(known) - used, "%s%s",
				 i ? ", " : "", spec[i].key);

		if (n < 0 || (size_t)n >= sizeof(known) - used)
			break;
		used += (size_t)n;
	}
	if (!used)
		return fail(
			err, errlen, -EINVAL,
			"unknown option '%s' (this device takes no options)",
			key);
	return fail(err, errlen, -EINVAL, "unknown option '%s' (known: %s)",
		    key, known);
}

int opts_parse(const struct mvm_option *spec, const char *str, void *out,
	       struct opts_strings *store, char *err, size_t errlen)
{
	size_t n = 0;
	bool *seen;
	char *buf = NULL;
	int rc = 0;

	if (err && errlen)
		err[0] = '\0';
	while (spec && spec[n].key)
		n++;

	for (size_t i = 0; i < n; i++) {
		if (!spec[i].defval)
			continue;
		rc = set_value(&spec[i], spec[i].key, spec[i].defval, out,
			       store, err, errlen);
		if (rc)
			return rc;
	}

	seen = calloc(n ? n : 1, sizeof(*seen));
	if (!seen)
		return fail(err, errlen, -ENOMEM, "out of memory");
	if (str && *str) {
		buf = strdup(str);
		if (!buf) {
			rc = fail(err, errlen, -ENOMEM, "out of memory");
			goto out;
		}
	}

	for (char *item = buf; item;) {
		char *next = strchr(item, ',');
		char *eq;
		const struct mvm_option *o;
		size_t idx;

		if (next)
			*next++ = '\0';
		eq = strchr(item, '=');
		if (!*item) {
			rc = fail(err, errlen, -EINVAL,
				  "empty option in '%s' (stray ',')", str);
			goto out;
		}
		if (!eq || eq == item) {
			rc = fail(err, errlen, -EINVAL,
				  "'%s': expected key=value", item);
			goto out;
		}
		*eq = '\0';
		o = find_key(spec, item, &idx);
		if (!o) {
			rc = unknown_key(spec, item, err, errlen);
			goto out;
		}
		if (seen[idx]) {
			rc = fail(err, errlen, -EINVAL,
				  "%s=%s: option '%s' given more than once",
				  item, eq + 1, item);
			goto out;
		}
		seen[idx] = true;
		rc = set_value(o, o->key, eq + 1, out, store, err, errlen);
		if (rc)
			goto out;
		item = next;
	}

	for (size_t i = 0; i < n; i++) {
		if (spec[i].required && !seen[i]) {
			rc = fail(err, errlen, -EINVAL,
				  "missing mandatory option '%s'", spec[i].key);
			goto out;
		}
	}
out:
	free(buf);
	free(seen);
	return rc;
}

static const char *type_name(enum mvm_opt_type t)
{
	switch (t) {
	case MVM_OPT_BOOL:
		return "bool";
	case MVM_OPT_SIZE:
		return "size";
	case MVM_OPT_U64:
		return "number";
	case MVM_OPT_STR:
		return "string";
	}
	return "?";
}

void opts_print_help(FILE *f, const struct mvm_option *spec)
{
	int width = 0;

	for (size_t i = 0; spec && spec[i].key; i++) {
		int w = (int)(strlen(spec[i].key) +
			      strlen(type_name(spec[i].type)) + 3);

		if (w > width)
			width = w;
	}
	if (!spec || !spec[0].key) {
		fprintf(f, "  (no options)\n");
		return;
	}
	for (size_t i = 0; spec[i].key; i++) {
		const struct mvm_option *o = &spec[i];
		char kt[128];

		snprintf(kt, sizeof(kt), "%s=<%s>", o->key, type_name(o->type));
		fprintf(f, "  %-*s  %s", width, kt, o->help ? o->help : "");
		if (o->required)
			fprintf(f, " (mandatory)");
		else if (o->defval)
			fprintf(f, " (default: %s)", o->defval);
		fputc('\n', f);
	}
}

void opts_strings_free(struct opts_strings *store)
{
	if (!store)
		return;
	for (size_t i = 0; i < store->n; i++)
		free(store->v[i]);
	free(store->v);
	store->v = NULL;
	store->n = 0;
}
