/*
 * The kernel command line picks the program and passes its arguments:
 * "test=NAME key=value ...", whitespace separated. Unknown words are
 * ignored, so a VMM may add its own (console=ttyS0 ...).
 */
#include "kit.h"

static const char *line = "";

void kit_cmdline_set(const char *cmdline)
{
	line = cmdline ? cmdline : "";
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

const char *kit_arg(const char *key, size_t *len)
{
	size_t klen = strlen(key);
	const char *p = line;
	while (*p) {
		while (is_space(*p))
			p++;
		const char *word = p;
		while (*p && !is_space(*p))
			p++;
		size_t wlen = (size_t)(p - word);
		if (wlen > klen && word[klen] == '=' &&
		    !memcmp(word, key, klen)) {
			*len = wlen - klen - 1;
			return word + klen + 1;
		}
	}
	return NULL;
}

bool kit_arg_copy(const char *key, char *buf, size_t size)
{
	size_t len;
	const char *v = kit_arg(key, &len);
	if (!v || len + 1 > size)
		return false;
	memcpy(buf, v, len);
	buf[len] = 0;
	return true;
}

bool kit_list_has(const char *list, size_t len, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p < list + len;) {
		const char *e = p;
		while (e < list + len && *e != ',')
			e++;
		if ((size_t)(e - p) == n && !memcmp(p, name, n))
			return true;
		p = e + 1;
	}
	return false;
}

bool kit_case_wanted(const char *name)
{
	size_t len;
	const char *v = kit_arg("cases", &len);
	return !v || kit_list_has(v, len, name);
}

bool kit_parse_size(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	unsigned base = 10;
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	size_t digits = 0;
	for (; i < len; i++, digits++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'))
			d = (unsigned)((c | 0x20) - 'a' + 10);
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	if (!digits)
		return false;
	if (i < len) {
		unsigned shift;
		switch (s[i] | 0x20) {
		case 'k':
			shift = 10;
			break;
		case 'm':
			shift = 20;
			break;
		case 'g':
			shift = 30;
			break;
		case 't':
			shift = 40;
			break;
		default:
			return false;
		}
		if (i + 1 != len || v > (UINT64_MAX >> shift))
			return false;
		v <<= shift;
	}
	*out = v;
	return true;
}
