/*
 * libFuzzer target for core/config/opts.c, the parser every plugin's option
 * string goes through (host->parse_options), so it sees text straight from
 * users' machine files. Checks, beyond "no crash, no sanitizer report", that
 * results obey the parser's contract: 0 or -errno, an error message exactly
 * when it fails, bounds honoured, strings owned by the store.
 *
 * Built two ways (tests/fuzz/CMakeLists.txt): with MODVMM_FUZZ=ON under
 * clang as a real fuzzer; otherwise with MODVMM_FUZZ_REPLAY defined, as a
 * plain program whose main() replays the files (or directories of files)
 * named on its command line, so the seed corpus runs in every `ctest -L
 * unit`.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/opts.h"

struct fuzz_opts {
	uint64_t size;
	bool flag;
	uint64_t num;
	uint64_t bounded;
	uint64_t sized;
	const char *str;
	const char *path;
};

/* Every type, with and without defaults, bounds and required keys. */
static const struct mvm_option spec[] = {
	MVM_OPTION("size", MVM_OPT_SIZE, struct fuzz_opts, size, NULL, true,
		   "mandatory size"),
	MVM_OPTION("flag", MVM_OPT_BOOL, struct fuzz_opts, flag, "off", false,
		   "a bool"),
	MVM_OPTION("num", MVM_OPT_U64, struct fuzz_opts, num, "0x3f8", false,
		   "an unbounded number"),
	{.key = "bounded",
	 .type = MVM_OPT_U64,
	 .offset = offsetof(struct fuzz_opts, bounded),
	 .defval = "4",
	 .help = "a number in 1..23",
	 .min = 1,
	 .max = 23},
	{.key = "sized",
	 .type = MVM_OPT_SIZE,
	 .offset = offsetof(struct fuzz_opts, sized),
	 .defval = "2M",
	 .help = "a size of at least 4K",
	 .min = 4096},
	MVM_OPTION("str", MVM_OPT_STR, struct fuzz_opts, str, "dflt", false,
		   "a string with a default"),
	MVM_OPTION("path", MVM_OPT_STR, struct fuzz_opts, path, NULL, false,
		   "a string without one"),
	MVM_OPTION_END,
};

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_options: contract broken: %s\n", what);
		abort();
	}
}

static int owned(const struct opts_strings *st, const char *p)
{
	for (size_t i = 0; i < st->n; i++)
		if (st->v[i] == p)
			return 1;
	return 0;
}

static void one_input(const char *s)
{
	struct fuzz_opts o = {0};
	struct opts_strings st = {0};
	char err[256];
	uint64_t v, w;
	bool b;
	int rc;

	memset(err, 'x', sizeof(err));
	rc = opts_parse(spec, s, &o, &st, err, sizeof(err));
	check(rc == 0 || rc == -EINVAL || rc == -ENOMEM, "return value");
	check(memchr(err, '\0', sizeof(err)) != NULL, "error terminated");
	if (rc == 0) {
		check(err[0] == '\0', "no message on success");
		check(o.bounded >= 1 && o.bounded <= 23, "bounds honoured");
		check(o.sized >= 4096, "min honoured");
		check(o.str && owned(&st, o.str), "string owned by store");
		check(!o.path || owned(&st, o.path), "string owned by store");
	} else {
		check(err[0] != '\0', "message on failure");
	}
	opts_strings_free(&st);

	/* A plain decimal number means the same thing as a size and as a
	 * number. */
	if (opts_parse_u64(s, &v) == 0 && !(s[0] == '0' && s[1] == 'x') &&
	    !(s[0] == '0' && s[1] == 'X'))
		check(opts_parse_size(s, &w) == 0 && v == w, "decimal agrees");
	(void)opts_parse_bool(s, &b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The parser takes C strings: NUL-terminate a copy. */
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	one_input(s);
	free(s);
	return 0;
}
