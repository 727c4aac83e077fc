/*
 * Machine file loader: libyaml's document API builds the node tree, then a
 * small schema walk copies each known key into the machine_cfg. The walk
 * never recurses through arbitrary nodes (the schema is at most three levels
 * deep), so aliases, even self-referencing ones, cannot make it loop or blow
 * up. Every error names file:line:column from the node's libyaml mark.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "config/machine_file.h"
#include "config/machine_schema.h"
#include "config/opts.h"

#define MF_MAX_KEYS 9

struct mf {
	const char *name; /* the file as the user named it */
	const char *buf;  /* its bytes, to place reader errors */
	size_t len;
	char *dir; /* "dir/" relative paths resolve against; or NULL */
	yaml_document_t *doc;
	struct machine_cfg *cfg;
	struct error *err;
};

/* The keys one mapping accepts, and which of them were already seen. */
struct keyset {
	const char *const *names;
	size_t n;
	const char *where; /* "" at the top, " in 'memory'" below */
	bool seen[MF_MAX_KEYS];
	yaml_mark_t first[MF_MAX_KEYS];
};

static int fail_at(struct mf *m, yaml_mark_t mark, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_at(struct mf *m, yaml_mark_t mark, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	error_user(m->err, "%s:%zu:%zu: %s", m->name, mark.line + 1,
		   mark.column + 1, msg);
	return -EINVAL;
}

static int fail_nomem(struct mf *m)
{
	error_user(m->err, "%s: out of memory", m->name);
	return -ENOMEM;
}

/* A user's value as it may appear inside a one-line message: control
 * characters become '?', and long values are cut. */
static const char *shown(const char *s, char *buf, size_t len)
{
	size_t i = 0;

	for (; *s && i + 4 < len; s++)
		buf[i++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	if (*s)
		memcpy(buf + i, "...", 3), i += 3;
	buf[i] = '\0';
	return buf;
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* What a node is, for "must be X, not Y" messages. */
static const char *kind(const yaml_node_t *n, char *buf, size_t len)
{
	char v[64];

	switch (n->type) {
	case YAML_SCALAR_NODE:
		snprintf(buf, len, "the value '%s'",
			 shown(scalar(n), v, sizeof(v)));
		return buf;
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

static int wrong_type(struct mf *m, const yaml_node_t *n, const char *key,
		      const char *want)
{
	char k[96];

	return fail_at(m, n->start_mark, "'%s' must be %s, not %s", key, want,
		       kind(n, k, sizeof(k)));
}

/* `key:` with nothing after it, or ~ / null: treated as not given. */
static bool is_null(const yaml_node_t *n)
{
	const char *v = NULL;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = scalar(n);
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") ||
	       !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* The string value of `n`, which must be a scalar without NUL bytes. */
static int get_str(struct mf *m, const yaml_node_t *n, const char *key,
		   const char *want, const char **out)
{
	if (n->type != YAML_SCALAR_NODE)
		return wrong_type(m, n, key, want);
	if (strlen(scalar(n)) != n->data.scalar.length)
		return fail_at(m, n->start_mark,
			       "'%s' contains a NUL character", key);
	*out = scalar(n);
	return 0;
}

static int get_path(struct mf *m, const yaml_node_t *n, const char *key,
		    const char **out)
{
	int rc = get_str(m, n, key, "a path", out);

	if (!rc && !**out)
		return fail_at(m, n->start_mark, "'%s' must not be empty", key);
	return rc;
}

/* Relative paths in the file are relative to the file's folder. */
static int resolve(struct mf *m, const char *path, char **out)
{
	size_t dl, pl;

	if (path[0] == '/' || !m->dir) {
		*out = strdup(path);
		return *out ? 0 : fail_nomem(m);
	}
	dl = strlen(m->dir);
	pl = strlen(path);
	*out = malloc(dl + pl + 1);
	if (!*out)
		return fail_nomem(m);
	memcpy(*out, m->dir, dl);
	memcpy(*out + dl, path, pl + 1);
	return 0;
}

static int set_path(struct mf *m, const yaml_node_t *n, const char *key,
		    char **dst)
{
	const char *v = NULL;
	char *p;
	int rc = get_path(m, n, key, &v);

	if (rc || (rc = resolve(m, v, &p)))
		return rc;
	free(*dst);
	*dst = p;
	return 0;
}

static yaml_node_t *node(struct mf *m, int index)
{
	return yaml_document_get_node(m->doc, index);
}

/* Index of key node `k` in `ks`, or an error for a non-scalar, unknown or
 * repeated key. */
static int lookup_key(struct mf *m, struct keyset *ks, const yaml_node_t *k)
{
	char v[64], known[256] = "", kb[96];
	size_t used = 0;

	if (k->type != YAML_SCALAR_NODE)
		return fail_at(m, k->start_mark,
			       "keys must be plain names, not %s",
			       kind(k, kb, sizeof(kb)));
	for (size_t i = 0; i < ks->n; i++) {
		if (strcmp(scalar(k), ks->names[i]))
			continue;
		if (ks->seen[i])
			return fail_at(m, k->start_mark,
				       "duplicate key '%s'%s (first at line "
				       "%zu, column %zu)",
				       ks->names[i], ks->where,
				       ks->first[i].line + 1,
				       ks->first[i].column + 1);
		ks->seen[i] = true;
		ks->first[i] = k->start_mark;
		return (int)i;
	}
	for (size_t i = 0; i < ks->n && used < sizeof(known); i++)
		used += (size_t)snprintf(known + used, sizeof(known) - used,
					 "%s%s", i ? ", " : "", ks->names[i]);
	return fail_at(m, k->start_mark, "unknown key '%s'%s (known: %s)",
		       shown(scalar(k), v, sizeof(v)), ks->where, known);
}

/* `load` on each key/value pair of the mapping `n`, with the key's index in
 * `ks` (lookup_key refuses unknown and repeated keys); stops at the first
 * error. */
static int each_pair(struct mf *m, const yaml_node_t *n, struct keyset *ks,
		     int (*load)(struct mf *m, int key, const yaml_node_t *v,
				 void *ctx),
		     void *ctx)
{
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		int i = lookup_key(m, ks, node(m, p->key));
		int rc = i < 0 ? i : load(m, i, node(m, p->value), ctx);

		if (rc)
			return rc;
	}
	return 0;
}

/* What a value of this option type looks like, for "must be X" messages;
 * `example` adds one where it helps. */
static const char *type_want(enum mvm_opt_type t, bool example)
{
	switch (t) {
	case MVM_OPT_SIZE:
		return example ? "a size such as 512M" : "a size";
	case MVM_OPT_BOOL:
		return "on or off";
	case MVM_OPT_U64:
		return "a number";
	default:
		return "a string";
	}
}

/* One option of a setting: checked by the same code as its command-line
 * flag (opts_parse_value), and reported at the value's file:line:column. */
static int load_option(struct mf *m, const yaml_node_t *n,
		       const struct mvm_option *o, const char *name, void *opts)
{
	char msg[300], v[300];
	const char *s = NULL;
	int rc = get_str(m, n, name, type_want(o->type, true), &s);

	if (rc)
		return rc;
	if (opts_parse_value(o, name, s, opts, msg, sizeof(msg)))
		return fail_at(m, n->start_mark, "%s",
			       shown(msg, v, sizeof(v)));
	return 0;
}

/* A setting's options as load_setting fills them in. */
struct setting_load {
	const struct schema_setting *st;
	void *opts;
};

static int load_setting_key(struct mf *m, int key, const yaml_node_t *v,
			    void *ctx)
{
	const struct setting_load *sl = ctx;
	char name[64];

	if (is_null(v))
		return 0;
	snprintf(name, sizeof(name), "%s.%s", sl->st->name,
		 sl->st->spec[key].key);
	return load_option(m, v, &sl->st->spec[key], name, sl->opts);
}

/* `memory` or `cpus` (machine_schema.h): a bare value sets the first
 * option; a mapping names options; what is not given keeps its value. */
static int load_setting(struct mf *m, const yaml_node_t *n,
			const struct schema_setting *st)
{
	_Alignas(max_align_t) unsigned char opts[SCHEMA_OPTS_MAX];
	const char *names[MF_MAX_KEYS];
	char where[64], want[160];
	struct keyset ks = {names, 0, where, {0}, {{0}}};
	struct setting_load sl = {st, opts};
	size_t used;
	int rc = 0;

	st->get(m->cfg, opts);
	if (n->type == YAML_SCALAR_NODE) {
		rc = load_option(m, n, &st->spec[0], st->name, opts);
		if (!rc)
			st->put(m->cfg, opts);
		return rc;
	}
	used = (size_t)snprintf(want, sizeof(want), "%s or a mapping {",
				type_want(st->spec[0].type, false));
	for (; st->spec[ks.n].key && ks.n < MF_MAX_KEYS; ks.n++) {
		names[ks.n] = st->spec[ks.n].key;
		used += (size_t)snprintf(want + used, sizeof(want) - used,
					 "%s%s", ks.n ? ", " : "", names[ks.n]);
	}
	snprintf(want + used, sizeof(want) - used, "}");
	if (n->type != YAML_MAPPING_NODE)
		return wrong_type(m, n, st->name, want);
	snprintf(where, sizeof(where), " in '%s'", st->name);
	rc = each_pair(m, n, &ks, load_setting_key, &sl);
	if (rc)
		return rc;
	st->put(m->cfg, opts);
	return 0;
}

static int add_plugin_dir(struct mf *m, const yaml_node_t *n)
{
	const char *v = NULL;
	char *p;
	int rc = get_path(m, n, "plugin-path", &v);

	char origin[512];

	if (rc || (rc = resolve(m, v, &p)))
		return rc;
	snprintf(origin, sizeof(origin), "%s:%zu:%zu: plugin-path", m->name,
		 n->start_mark.line + 1, n->start_mark.column + 1);
	rc = machine_cfg_insert_plugin_dir(m->cfg, m->cfg->n_plugin_dirs, p,
					   origin);
	free(p);
	return rc ? fail_nomem(m) : 0;
}

/* `load` on each item of the sequence `n`, stopping at the first error. */
static int each_item(struct mf *m, const yaml_node_t *n,
		     int (*load)(struct mf *m, const yaml_node_t *item))
{
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		int rc = load(m, node(m, *it));

		if (rc)
			return rc;
	}
	return 0;
}

static int load_plugin_path(struct mf *m, const yaml_node_t *n)
{
	if (n->type == YAML_SCALAR_NODE)
		return add_plugin_dir(m, n);
	if (n->type != YAML_SEQUENCE_NODE)
		return wrong_type(m, n, "plugin-path",
				  "a folder or a list of folders");
	return each_item(m, n, add_plugin_dir);
}

/* One device's keys as load_device collects them. */
struct device_load {
	const yaml_node_t *plugin;
	const char *name, *options;
};

static int load_device_key(struct mf *m, int key, const yaml_node_t *v,
			   void *ctx)
{
	struct device_load *d = ctx;

	if (key == 0) {
		if (is_null(v))
			return fail_at(m, v->start_mark,
				       "'plugin' needs a plugin name or a "
				       "path to a .so");
		d->plugin = v;
		return get_path(m, v, "plugin", &d->name);
	}
	if (is_null(v))
		return 0;
	return get_str(m, v, "options", "a string such as \"size=1G\"",
		       &d->options);
}

static int load_device(struct mf *m, const yaml_node_t *n)
{
	static const char *const names[] = {"plugin", "options"};
	struct keyset ks = {names, 2, " in a device", {0}, {{0}}};
	struct device_load d = {NULL, NULL, ""};
	char kb[96], *path = NULL, *origin;
	size_t olen;
	int rc;

	if (n->type != YAML_MAPPING_NODE)
		return fail_at(m, n->start_mark,
			       "each device must be a mapping with a 'plugin' "
			       "key, not %s",
			       kind(n, kb, sizeof(kb)));
	rc = each_pair(m, n, &ks, load_device_key, &d);
	if (rc)
		return rc;
	if (!d.plugin)
		return fail_at(m, n->start_mark,
			       "device without 'plugin' (the plugin name "
			       "or a path to its .so)");
	/* A bare name is looked up in the plugin path; a path is a file. */
	if (strchr(d.name, '/') && (rc = resolve(m, d.name, &path)))
		return rc;
	/* "file:line:col", for the loader's messages about this device. */
	olen = strlen(m->name) + 48;
	origin = malloc(olen);
	if (origin) {
		snprintf(origin, olen, "%s:%zu:%zu", m->name,
			 d.plugin->start_mark.line + 1,
			 d.plugin->start_mark.column + 1);
		rc = machine_cfg_add_device(m->cfg, path ? path : d.name,
					    d.options, origin);
	}
	free(origin);
	free(path);
	return !origin || rc ? fail_nomem(m) : 0;
}

static int load_devices(struct mf *m, const yaml_node_t *n)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return wrong_type(m, n, "devices",
				  "a list of mappings with a 'plugin' key");
	return each_item(m, n, load_device);
}

enum {
	K_KERNEL,
	K_INITRAMFS,
	K_CMDLINE,
	K_MEMORY,
	K_CPUS,
	K_PLUGIN_PATH,
	K_API_SOCKET,
	K_DEVICES,
	K_SECCOMP,
	K_COUNT
};

static int load_seccomp(struct mf *m, const yaml_node_t *n)
{
	char v[64];
	const char *s = NULL;
	int rc = get_str(m, n, "seccomp", "on, log or off", &s);

	if (rc)
		return rc;
	if (machine_cfg_parse_seccomp(s, &m->cfg->seccomp))
		return fail_at(m, n->start_mark,
			       "seccomp=%s: expected on, log or off",
			       shown(s, v, sizeof(v)));
	return 0;
}

static int load_root_key(struct mf *m, int key, const yaml_node_t *v, void *ctx)
{
	struct machine_cfg *cfg = m->cfg;
	const char *s = NULL;
	int rc;

	(void)ctx;
	if (is_null(v))
		return 0;
	switch (key) {
	case K_KERNEL:
		return set_path(m, v, "kernel", &cfg->kernel);
	case K_INITRAMFS:
		return set_path(m, v, "initramfs", &cfg->initramfs);
	case K_CMDLINE:
		rc = get_str(m, v, "cmdline", "a string", &s);
		if (!rc && machine_cfg_set_str(&cfg->cmdline, s))
			rc = fail_nomem(m);
		return rc;
	case K_MEMORY:
		return load_setting(m, v, &schema_memory);
	case K_CPUS:
		return load_setting(m, v, &schema_cpus);
	case K_PLUGIN_PATH:
		return load_plugin_path(m, v);
	case K_API_SOCKET:
		return set_path(m, v, "api-socket", &cfg->api_socket);
	case K_DEVICES:
		return load_devices(m, v);
	case K_SECCOMP:
		return load_seccomp(m, v);
	}
	return 0;
}

static int load_root(struct mf *m, const yaml_node_t *root)
{
	static const char *const names[K_COUNT] = {
		"kernel",      "initramfs",  "cmdline", "memory",  "cpus",
		"plugin-path", "api-socket", "devices", "seccomp",
	};
	struct keyset ks = {names, K_COUNT, "", {0}, {{0}}};

	if (is_null(root))
		return 0; /* an empty file, or only comments */
	if (root->type != YAML_MAPPING_NODE) {
		char kb[96];

		return fail_at(m, root->start_mark,
			       "the machine file must be a mapping of keys "
			       "(kernel:, memory:, ...), not %s",
			       kind(root, kb, sizeof(kb)));
	}
	return each_pair(m, root, &ks, load_root_key, NULL);
}

/* libyaml's own words for a syntax error, placed at its mark. */
static int parser_error(struct mf *m, const yaml_parser_t *p)
{
	yaml_mark_t mark = p->problem_mark;
	const char *problem = p->problem ? p->problem : "syntax error";

	if (p->error == YAML_MEMORY_ERROR)
		return fail_nomem(m);
	if (p->error == YAML_READER_ERROR) {
		/* Reader errors carry a byte offset only: count lines. */
		mark.line = mark.column = 0;
		for (size_t i = 0; i < p->problem_offset && i < m->len; i++) {
			if (m->buf[i] == '\n') {
				mark.line++;
				mark.column = 0;
			} else {
				mark.column++;
			}
		}
		if (p->problem_value >= 0)
			return fail_at(m, mark, "%s (byte 0x%02x)", problem,
				       p->problem_value & 0xff);
		return fail_at(m, mark, "%s", problem);
	}
	if (p->context)
		return fail_at(m, mark, "%s (%s at line %zu, column %zu)",
			       problem, p->context, p->context_mark.line + 1,
			       p->context_mark.column + 1);
	return fail_at(m, mark, "%s", problem);
}

static int load_document(struct mf *m, yaml_parser_t *parser)
{
	yaml_document_t doc, extra;
	yaml_node_t *root;
	int rc;

	if (!yaml_parser_load(parser, &doc))
		return parser_error(m, parser);
	/* Read the whole stream first, so a syntax error further down is
	 * reported before anything is applied. */
	if (!yaml_parser_load(parser, &extra)) {
		rc = parser_error(m, parser);
		goto out;
	}
	root = yaml_document_get_root_node(&extra);
	if (root) {
		rc = fail_at(m, root->start_mark,
			     "a machine file holds one YAML document, not "
			     "several");
		goto out_extra;
	}
	m->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	rc = root ? load_root(m, root) : 0;
out_extra:
	yaml_document_delete(&extra);
out:
	yaml_document_delete(&doc);
	return rc;
}

int machine_file_load_buffer(const char *name, const char *buf, size_t len,
			     struct machine_cfg *cfg, struct error *err)
{
	struct mf m = {
		.name = name, .buf = buf, .len = len, .cfg = cfg, .err = err};
	const char *slash = strrchr(name, '/');
	yaml_parser_t parser;
	int rc;

	err->msg[0] = '\0';
	if (len > MACHINE_FILE_MAX_SIZE) {
		error_user(err,
			   "%s: too large for a machine file (over %u KiB)",
			   name, MACHINE_FILE_MAX_SIZE >> 10);
		return -EINVAL;
	}
	if (machine_cfg_set_str(&cfg->config_path, name))
		return fail_nomem(&m);
	if (slash) {
		m.dir = strndup(name, (size_t)(slash - name) + 1);
		if (!m.dir)
			return fail_nomem(&m);
	}
	if (!yaml_parser_initialize(&parser)) {
		free(m.dir);
		return fail_nomem(&m);
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	rc = load_document(&m, &parser);
	yaml_parser_delete(&parser);
	free(m.dir);
	return rc;
}

int machine_file_load(const char *path, struct machine_cfg *cfg,
		      struct error *err)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;

	if (!f) {
		rc = -errno;
		goto io_error;
	}
	/* Read to EOF rather than trusting st_size: /dev/stdin and <(...)
	 * are fine machine files too. */
	errno = 0;
	for (;;) {
		size_t got;

		if (len == cap) {
			char *nb;

			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (!nb) {
				rc = -ENOMEM;
				goto io_error;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0 || len > MACHINE_FILE_MAX_SIZE)
			break;
	}
	if (ferror(f)) {
		rc = errno ? -errno : -EIO;
		goto io_error;
	}
	fclose(f);
	rc = machine_file_load_buffer(path, buf, len, cfg, err);
	free(buf);
	return rc;

io_error:
	error_user(err, "%s: %s", path, strerror(-rc));
	if (f)
		fclose(f);
	free(buf);
	return rc;
}
