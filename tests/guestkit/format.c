/*
 * A small vsnprintf: %d %u %x %s %c %p %%, the l/ll/z length modifiers,
 * '0' and '-' flags, a field width, and a precision for %s ("%.4s" prints
 * an AML name segment). Hex goes by shifts, decimal by one div a digit.
 */
#include "kit.h"

struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, int n, char c)
{
	while (n-- > 0)
		put(o, c);
}

static void put_num(struct out *o, uint64_t v, bool hex, bool neg, int width,
		    bool zero, bool left)
{
	char tmp[24];
	int n = 0;
	do {
		if (hex) {
			tmp[n++] = "0123456789abcdef"[v & 15];
			v >>= 4;
		} else {
			tmp[n++] = (char)('0' + v % 10);
			v /= 10;
		}
	} while (v);
	if (neg)
		tmp[n++] = '-';
	int len = n;
	if (!left)
		pad(o, width - len, zero ? '0' : ' ');
	while (n)
		put(o, tmp[--n]);
	if (left)
		pad(o, width - len, ' ');
}

int kit_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {buf, size, 0};
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			put(&o, *f);
			continue;
		}
		bool zero = false, left = false;
		int width = 0, prec = -1, lng = 0;
		for (f++; *f == '0' || *f == '-'; f++)
			*f == '0' ? (zero = true) : (left = true);
		for (; *f >= '0' && *f <= '9'; f++)
			width = width * 10 + (*f - '0');
		if (*f == '.') {
			f++;
			if (*f == '*') {
				prec = va_arg(ap, int);
				f++;
			} else {
				for (prec = 0; *f >= '0' && *f <= '9'; f++)
					prec = prec * 10 + (*f - '0');
			}
		}
		for (; *f == 'l' || *f == 'z'; f++)
			lng++;
		switch (*f) {
		case 'd': {
			int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			put_num(&o, v < 0 ? -(uint64_t)v : (uint64_t)v, false,
				v < 0, width, zero, left);
			break;
		}
		case 'u':
		case 'x': {
			uint64_t v = lng ? va_arg(ap, uint64_t)
					 : va_arg(ap, unsigned);
			put_num(&o, v, *f == 'x', false, width, zero, left);
			break;
		}
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_num(&o, (uintptr_t)va_arg(ap, void *), true, false,
				0, false, false);
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			int n = 0;
			while ((prec < 0 || n < prec) && s[n])
				n++;
			if (!left)
				pad(&o, width - n, ' ');
			for (int i = 0; i < n; i++)
				put(&o, s[i]);
			if (left)
				pad(&o, width - n, ' ');
			break;
		}
		case '%':
			put(&o, '%');
			break;
		default: /* unknown conversion: print it, do not guess at
			    va_args */
			put(&o, '%');
			if (!*f)
				goto out;
			put(&o, *f);
		}
	}
out:
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return (int)o.len;
}

int kit_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kit_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

const char *kit_fmt_size(char buf[24], uint64_t bytes)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	unsigned u = 0;
	while (u + 1 < KIT_ARRAY_SIZE(unit) && bytes && !(bytes & 1023)) {
		bytes >>= 10;
		u++;
	}
	kit_snprintf(buf, 24, "%lu %s", (unsigned long)bytes, unit[u]);
	return buf;
}
