/*
 * Command-line flags. Two getopt_long passes over argv: the first checks
 * the syntax of every flag and finds --machine, --help and --version; the
 * second, after the machine file is loaded, applies the rest on top of it.
 * --memory and --cpus go through the same option parser as plugins.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <modvmm/plugin.h>

#include "config/cli.h"
#include "config/machine_file.h"
#include "config/machine_schema.h"
#include "config/opts.h"
#include "layout.h"

#define DEFAULT_MEM_SIZE (512ULL << 20)
#define DEFAULT_CPUS 1

enum {
	OPT_MACHINE = 256,
	OPT_KERNEL,
	OPT_INITRAMFS,
	OPT_CMDLINE,
	OPT_MEMORY,
	OPT_CPUS,
	OPT_DEVICE,
	OPT_BALLOON,
	OPT_DISK,
	OPT_NET,
	OPT_VSOCK,
	OPT_PLUGIN_DIR,
	OPT_API_SOCKET,
	OPT_DUMP_ACPI,
	OPT_DUMP_DTB,
	OPT_LOG_LEVEL,
	OPT_SECCOMP,
	OPT_LIST_PLUGINS,
};

static const struct option long_opts[] = {
	{"machine", required_argument, NULL, OPT_MACHINE},
	{"kernel", required_argument, NULL, OPT_KERNEL},
	{"initramfs", required_argument, NULL, OPT_INITRAMFS},
	{"cmdline", required_argument, NULL, OPT_CMDLINE},
	{"memory", required_argument, NULL, OPT_MEMORY},
	{"cpus", required_argument, NULL, OPT_CPUS},
	{"device", required_argument, NULL, OPT_DEVICE},
	{"balloon", required_argument, NULL, OPT_BALLOON},
	{"disk", required_argument, NULL, OPT_DISK},
	{"net", required_argument, NULL, OPT_NET},
	{"vsock", required_argument, NULL, OPT_VSOCK},
	{"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},
	{"api-socket", required_argument, NULL, OPT_API_SOCKET},
	{"dump-acpi", required_argument, NULL, OPT_DUMP_ACPI},
	{"dump-dtb", required_argument, NULL, OPT_DUMP_DTB},
	{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	{"seccomp", required_argument, NULL, OPT_SECCOMP},
	{"list-plugins", no_argument, NULL, OPT_LIST_PLUGINS},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

/* "+": stop at the first non-flag (reported as an error, not permuted);
 * ":": report a missing value as ':' rather than '?'. */
static const char short_opts[] = "+:hV";

static const char *const log_levels[] = {
	[MVM_LOG_ERROR] = "error",
	[MVM_LOG_WARN] = "warn",
	[MVM_LOG_INFO] = "info",
	[MVM_LOG_DEBUG] = "debug",
};

static int fail(struct error *err, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct error *err, int rc, const char *fmt, ...)
{
	va_list ap;

	/* Everything on the command line is the user's: exit 2. */
	va_start(ap, fmt);
	error_vset(err, ERROR_USER, fmt, ap);
	va_end(ap);
	return rc;
}

static const char *flag_name(int val)
{
	for (const struct option *o = long_opts; o->name; o++)
		if (o->val == val)
			return o->name;
	return "?";
}

/* `--kernel --memory 2G` would silently take "--memory" as the kernel:
 * refuse values that are themselves one of our flags. */
static bool looks_like_flag(const char *v)
{
	if (strncmp(v, "--", 2))
		return false;
	for (const struct option *o = long_opts; o->name; o++) {
		size_t n = strlen(o->name);

		if (!strncmp(v + 2, o->name, n) &&
		    (v[2 + n] == '\0' || v[2 + n] == '='))
			return true;
	}
	return false;
}

/* getopt_long's '?' and ':' returns, as one line naming the flag. */
static int bad_flag(int c, int argc, char **argv, struct error *err)
{
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";

	if (c == ':')
		return fail(err, -EINVAL, "--%s: needs a value",
			    flag_name(optopt));
	if (optopt == 0)
		return fail(err, -EINVAL, "unknown flag '%s' (see --help)",
			    arg);
	if (optopt == 'h' || optopt == 'V' || optopt >= 256)
		return fail(err, -EINVAL, "'%s': --%s takes no value", arg,
			    flag_name(optopt));
	return fail(err, -EINVAL, "unknown flag '-%c' (see --help)", optopt);
}

/* Allow the bare forms `--memory 2G` and `--cpus 2`: a first item without
 * '=' is the value of `key`. */
static char *with_default_key(const char *key, const char *val)
{
	size_t first = strcspn(val, ",");
	char *s;

	if (first == 0 || memchr(val, '=', first))
		return strdup(val);
	s = malloc(strlen(key) + 1 + strlen(val) + 1);
	if (s)
		sprintf(s, "%s=%s", key, val);
	return s;
}

/* Run opts_parse for flag `flag`, prefixing its messages with the flag:
 * "--memory size=1X: not a size ...", "--memory: unknown option ...". */
static int parse_flag_opts(const char *flag, const char *key,
			   const struct mvm_option *spec, const char *val,
			   void *out, struct error *err)
{
	char msg[sizeof(err->msg) - 64];
	char *s = with_default_key(key, val);
	int rc;

	if (!s)
		return fail(err, -ENOMEM, "out of memory");
	rc = opts_parse(spec, s, out, NULL, msg, sizeof(msg));
	free(s);
	if (!rc)
		return 0;
	/* "key=value: ..." reads well after a space, anything else after
	 * a colon. */
	if (msg[strcspn(msg, " =")] == '=')
		return fail(err, rc, "--%s %s", flag, msg);
	return fail(err, rc, "--%s: %s", flag, msg);
}

/* --memory and --cpus: a bare value or key=value options, the same schema
 * as the machine file's `memory` and `cpus`; keys not given keep their
 * value. */
static int set_setting(struct machine_cfg *cfg, const struct schema_setting *st,
		       const char *val, struct error *err)
{
	_Alignas(max_align_t) unsigned char opts[SCHEMA_OPTS_MAX];
	int rc;

	st->get(cfg, opts);
	rc = parse_flag_opts(st->name, st->spec[0].key, st->spec, val, opts,
			     err);
	if (!rc)
		st->put(cfg, opts);
	return rc;
}

/* --device PLUGIN[,OPTIONS]: everything after the first comma is the
 * plugin's option string, untouched. Returns 1 for PLUGIN,help. */
static int add_device(struct machine_cfg *cfg, const char *flag,
		      const char *plugin, const char *val, struct error *err)
{
	const char *comma = plugin ? NULL : strchr(val, ',');
	const char *options = plugin ? val : comma ? comma + 1 : "";
	char *name = plugin ? strdup(plugin)
			    : strndup(val, comma ? (size_t)(comma - val)
						 : strlen(val));
	char origin[32];
	int rc;

	if (!name)
		return fail(err, -ENOMEM, "out of memory");
	if (!*name) {
		free(name);
		return fail(err, -EINVAL,
			    "--%s %s: no plugin name (--%s PLUGIN[,OPTIONS])",
			    flag, val, flag);
	}
	snprintf(origin, sizeof(origin), "--%s", flag);
	rc = machine_cfg_add_device(cfg, name, options, origin);
	free(name);
	if (rc)
		return fail(err, rc, "out of memory");
	return !strcmp(options, "help");
}

static int set_path(char **dst, const char *flag, const char *val,
		    struct error *err)
{
	if (!*val)
		return fail(err, -EINVAL, "--%s: needs a non-empty path", flag);
	if (machine_cfg_set_str(dst, val))
		return fail(err, -ENOMEM, "out of memory");
	return 0;
}

static int set_log_level(struct machine_cfg *cfg, const char *val,
			 struct error *err)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]);
	     i++) {
		if (!strcmp(val, log_levels[i])) {
			cfg->log_level = (int)i;
			return 0;
		}
	}
	return fail(err, -EINVAL,
		    "--log-level %s: not a log level (error, warn, info, "
		    "debug)",
		    val);
}

/* Pass 1: syntax of every flag, and the flags that decide what to read. */
static int scan(int argc, char **argv, const char **machine, bool *help,
		bool *version, struct error *err)
{
	int c;

	optind = 0; /* glibc: full re-initialisation */
	opterr = 0;
	while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) !=
	       -1) {
		if (c == '?' || c == ':')
			return bad_flag(c, argc, argv, err);
		if (c == 'h')
			*help = true;
		else if (c == 'V')
			*version = true;
		if (c >= OPT_MACHINE && c != OPT_LIST_PLUGINS) {
			/* An empty --cmdline clears the file's; nothing else
			 * means anything empty. */
			if (!*optarg && c != OPT_CMDLINE)
				return fail(err, -EINVAL, "--%s: needs a value",
					    flag_name(c));
			/* Only a separate word is suspect: --cmdline=--help
			 * says what it means. */
			if (optarg == argv[optind - 1] &&
			    looks_like_flag(optarg))
				return fail(err, -EINVAL,
					    "--%s: needs a value (got the "
					    "flag '%s')",
					    flag_name(c), optarg);
		}
		if (c == OPT_MACHINE) {
			if (*machine)
				return fail(err, -EINVAL,
					    "--machine %s: only one machine "
					    "file (already gave %s)",
					    optarg, *machine);
			*machine = optarg;
		}
	}
	if (optind < argc)
		return fail(err, -EINVAL,
			    "unexpected argument '%s' (flags start with --; "
			    "see --help)",
			    argv[optind]);
	return 0;
}

/* Pass 2: apply one flag on top of the machine file. Returns 1 when the
 * flag asks for a device's help. */
static int apply(int c, const char *v, struct machine_cfg *cfg,
		 size_t *cli_dirs, struct error *err)
{
	switch (c) {
	case OPT_KERNEL:
		return set_path(&cfg->kernel, "kernel", v, err);
	case OPT_INITRAMFS:
		return set_path(&cfg->initramfs, "initramfs", v, err);
	case OPT_CMDLINE:
		if (machine_cfg_set_str(&cfg->cmdline, v))
			return fail(err, -ENOMEM, "out of memory");
		return 0;
	case OPT_MEMORY:
		return set_setting(cfg, &schema_memory, v, err);
	case OPT_CPUS:
		return set_setting(cfg, &schema_cpus, v, err);
	case OPT_DEVICE:
		return add_device(cfg, "device", NULL, v, err);
	case OPT_BALLOON:
		return add_device(cfg, "balloon", "balloon", v, err);
	case OPT_DISK:
		return add_device(cfg, "disk", "virtio-blk", v, err);
	case OPT_NET:
		return add_device(cfg, "net", "virtio-net", v, err);
	case OPT_VSOCK:
		return add_device(cfg, "vsock", "virtio-vsock", v, err);
	case OPT_PLUGIN_DIR:
		if (!*v)
			return fail(err, -EINVAL,
				    "--plugin-dir: needs a non-empty path");
		/* Command-line dirs come before the machine file's, in the
		 * order given. */
		if (machine_cfg_insert_plugin_dir(cfg, (*cli_dirs)++, v,
						  "--plugin-dir"))
			return fail(err, -ENOMEM, "out of memory");
		return 0;
	case OPT_API_SOCKET:
		return set_path(&cfg->api_socket, "api-socket", v, err);
	case OPT_DUMP_ACPI:
		return set_path(&cfg->dump_acpi, "dump-acpi", v, err);
	case OPT_DUMP_DTB:
		return set_path(&cfg->dump_dtb, "dump-dtb", v, err);
	case OPT_LOG_LEVEL:
		return set_log_level(cfg, v, err);
	case OPT_SECCOMP:
		if (machine_cfg_parse_seccomp(v, &cfg->seccomp))
			return fail(err, -EINVAL,
				    "--seccomp %s: expected on, log or off", v);
		return 0;
	case OPT_LIST_PLUGINS:
		cfg->list_plugins = true;
		return 0;
	default: /* --machine, --help, --version: done in scan() */
		return 0;
	}
}

/* Move the device whose help was asked for to the end of the list. */
static void rotate_to_end(struct machine_cfg *cfg, size_t i)
{
	struct device_cfg d = cfg->devices[i];

	memmove(&cfg->devices[i], &cfg->devices[i + 1],
		(cfg->n_devices - i - 1) * sizeof(d));
	cfg->devices[cfg->n_devices - 1] = d;
}

int cli_parse(int argc, char **argv, struct machine_cfg *cfg, struct error *err)
{
	const char *machine = NULL;
	bool help = false, version = false, dev_help = false;
	size_t cli_dirs = 0, help_dev = 0;
	int c, rc;

	machine_cfg_init(cfg);
	err->msg[0] = '\0';
	rc = scan(argc, argv, &machine, &help, &version, err);
	if (rc)
		return rc;
	if (help)
		return CLI_HELP;
	if (version)
		return CLI_VERSION;

	if (machine) {
		rc = machine_file_load(machine, cfg, err);
		if (rc)
			return rc;
	}

	optind = 0;
	while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) !=
	       -1) {
		rc = apply(c, optarg, cfg, &cli_dirs, err);
		if (rc < 0)
			return rc;
		if (rc == 1 && !dev_help) {
			dev_help = true;
			help_dev = cfg->n_devices - 1;
		}
	}

	if (!cfg->cpus)
		cfg->cpus = DEFAULT_CPUS;
	if (!cfg->mem_size)
		cfg->mem_size = DEFAULT_MEM_SIZE;
	if (dev_help) {
		rotate_to_end(cfg, help_dev);
		return CLI_DEVICE_HELP;
	}
	if (cfg->list_plugins)
		return CLI_LIST_PLUGINS;
	if (!cfg->kernel)
		return fail(err, -EINVAL,
			    "no kernel: give --kernel or 'kernel:' in the "
			    "machine file");
	return CLI_RUN;
}

void cli_print_usage(FILE *f)
{
	fputs("Usage: modvmm [--machine FILE] [FLAGS]\n"
	      "\n"
	      "Runs a KVM virtual machine. Flags override the machine "
	      "file's values;\n"
	      "--device and --plugin-dir add to its lists.\n"
	      "\n"
	      "  --machine FILE        YAML machine file "
	      "(docs/machine-file.md)\n"
	      "  --kernel PATH         bzImage, or an ELF with a PVH note\n"
	      "  --initramfs PATH      initial ramdisk\n"
	      "  --cmdline STR         kernel command line\n"
	      "  --memory size=SIZE[,shared=on][,hugepages=on][,thp=off]\n"
	      "                        guest RAM (default 512M; --memory 2G "
	      "also works)\n"
	      "  --cpus boot=N         vCPUs, 1..255 (default 1; --cpus 2 "
	      "also works)\n"
	      "  --device PLUGIN[,OPTIONS]\n"
	      "                        add a device (repeatable); "
	      "PLUGIN,help lists\n"
	      "                        its options\n"
	      "  --balloon OPTIONS     same as --device balloon,OPTIONS\n"
	      "  --disk OPTIONS        same as --device virtio-blk,OPTIONS "
	      "(repeatable)\n"
	      "  --net OPTIONS         same as --device virtio-net,OPTIONS "
	      "(repeatable)\n"
	      "  --vsock OPTIONS       same as --device virtio-vsock,OPTIONS\n"
	      "  --plugin-dir DIR      search DIR for plugins first "
	      "(repeatable)\n"
	      "  --api-socket PATH     control socket (modvmm-ctl)\n"
	      "  --dump-acpi DIR       write the generated ACPI tables to "
	      "DIR\n"
	      "  --dump-dtb FILE       write the device tree to FILE\n"
	      "  --log-level LEVEL     error, warn (default), info or debug\n"
	      "  --seccomp on|log|off  a system call outside a thread's "
	      "allow-list kills\n"
	      "                        modvmm (on, default), is logged by "
	      "the kernel (log),\n"
	      "                        or no filter (off); docs/seccomp.md\n"
	      "  --list-plugins        list the plugins found, then exit\n"
	      "  -V, --version         print the version, then exit\n"
	      "  -h, --help            print this help, then exit\n"
	      "\n"
	      "Errors print one line and exit with status 2.\n",
	      f);
}
