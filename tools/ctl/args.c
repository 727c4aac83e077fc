/*
 * modvmm-ctl: words to a QMP request (docs/api.md, "modvmm-ctl").
 *
 *   info                    -> {"execute":"info"}
 *   balloon set 1G          -> {"execute":"balloon.set",
 *                               "arguments":{"value":"1G"}}
 *   balloon.set value=1G    -> the same
 *   query-status            -> {"execute":"query-status"}
 *   CMD key=value key:=JSON -> named arguments
 *
 * The first word is the command unless the second word is a command name
 * too (a letter first, no '='), in which case they are a plugin's device
 * and its command. One positional value is the argument "value".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

json_t *ctl_word_value(const char *w)
{
	char *end;
	long long n;

	if (!strcmp(w, "true"))
		return json_true();
	if (!strcmp(w, "false"))
		return json_false();
	if (*w >= '0' && *w <= '9') {
		errno = 0;
		n = strtoll(w, &end, 10);
		if (!*end && !errno)
			return json_integer(n);
	}
	return json_string(w);
}

static bool is_command_word(const char *w)
{
	if (!((*w >= 'a' && *w <= 'z') || (*w >= 'A' && *w <= 'Z')))
		return false;
	for (; *w; w++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_-.", *w))
			return false;
	return true;
}

/* key=value or key:=JSON into `args`; false after printing why. */
static bool add_named(json_t *args, const char *word)
{
	const char *eq = strchr(word, '=');
	size_t klen = (size_t)(eq - word);
	json_t *v;
	char key[128];

	if (klen && word[klen - 1] == ':') {
		klen--;
		v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
		if (!v) {
			ctl_fail(CTL_USAGE, "%s: not valid JSON after ':='",
				 word);
			return false;
		}
	} else {
		v = ctl_word_value(eq + 1);
	}
	if (klen == 0 || klen >= sizeof(key)) {
		json_decref(v);
		ctl_fail(CTL_USAGE, "%s: no argument name before '='", word);
		return false;
	}
	memcpy(key, word, klen);
	key[klen] = '\0';
	if (json_object_get(args, key)) {
		json_decref(v);
		ctl_fail(CTL_USAGE, "argument %s given twice", key);
		return false;
	}
	json_object_set_new(args, key, v);
	return true;
}

/* Cloud Hypervisor's `ch-remote resize --balloon SIZE`, for muscle
 * memory: the same as `balloon set SIZE`. */
static json_t *resize_request(int argc, char **argv)
{
	const char *size = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--balloon=", 10))
			size = argv[i] + 10;
		else if (!strcmp(argv[i], "--balloon") && i + 1 < argc)
			size = argv[++i];
		else {
			ctl_fail(CTL_USAGE,
				 "resize %s: modvmm resizes only the balloon "
				 "(resize --balloon SIZE)",
				 argv[i]);
			return NULL;
		}
	}
	if (!size) {
		ctl_fail(CTL_USAGE, "resize: give --balloon SIZE");
		return NULL;
	}
	return json_pack("{s:s,s:{s:o}}", "execute", "balloon.set", "arguments",
			 "value", ctl_word_value(size));
}

json_t *ctl_request_from_words(int argc, char **argv)
{
	char name[256];
	json_t *args;
	int i = 1;

	if (!strcmp(argv[0], "resize"))
		return resize_request(argc, argv);
	args = json_object();

	if (argc >= 2 && is_command_word(argv[1]) && !strchr(argv[0], '.') &&
	    !strchr(argv[1], '.')) {
		snprintf(name, sizeof(name), "%s.%s", argv[0], argv[1]);
		i = 2;
	} else {
		snprintf(name, sizeof(name), "%s", argv[0]);
	}
	for (bool have_value = false; i < argc; i++) {
		if (strchr(argv[i], '=')) {
			if (!add_named(args, argv[i]))
				goto bad;
		} else if (have_value || json_object_get(args, "value")) {
			ctl_fail(CTL_USAGE,
				 "%s: only one positional argument (\"value\") "
				 "is allowed; name the others key=value",
				 argv[i]);
			goto bad;
		} else {
			json_object_set_new(args, "value",
					    ctl_word_value(argv[i]));
			have_value = true;
		}
	}
	if (json_object_size(args) == 0) {
		json_decref(args);
		return json_pack("{s:s}", "execute", name);
	}
	return json_pack("{s:s,s:o}", "execute", name, "arguments", args);
bad:
	json_decref(args);
	return NULL;
}
