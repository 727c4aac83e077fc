/* modvmm-ctl: readable output; see ctl.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static void print_scalar(json_t *v)
{
	if (json_is_string(v))
		fputs(json_string_value(v), stdout);
	else if (json_is_null(v))
		fputs("-", stdout);
	else {
		char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

		fputs(s ? s : "?", stdout);
		free(s);
	}
}

static bool is_range_list(json_t *v)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v) || !json_array_size(v))
		return false;
	json_array_foreach(v, i, e)
	{
		if (!json_is_integer(json_object_get(e, "base")) ||
		    !json_is_integer(json_object_get(e, "size")))
			return false;
	}
	return true;
}

static void print_ranges(json_t *v)
{
	size_t i;
	json_t *e;

	json_array_foreach(v, i, e)
	{
		json_int_t base =
			json_integer_value(json_object_get(e, "base"));
		json_int_t size =
			json_integer_value(json_object_get(e, "size"));

		printf(" 0x%llx-0x%llx", (unsigned long long)base,
		       (unsigned long long)(base + size - 1));
	}
	putchar('\n');
}

/* YAML-like: "key: value", nested values indented. Address ranges (the
 * MMIO windows and ports of info/devices) shown as hex. */
static void print_value(json_t *v, int indent)
{
	const char *key;
	json_t *e;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, key, e)
		{
			printf("%*s%s:", indent, "", key);
			if (is_range_list(e)) {
				print_ranges(e);
			} else if (json_is_object(e) ||
				   (json_is_array(e) && json_array_size(e) &&
				    !json_is_integer(json_array_get(e, 0)))) {
				putchar('\n');
				print_value(e, indent + 2);
			} else {
				putchar(' ');
				print_value(e, 0);
			}
		}
	} else if (json_is_array(v) && json_array_size(v) &&
		   json_is_integer(json_array_get(v, 0))) {
		json_array_foreach(v, i, e)
		{
			printf(i ? " " : "");
			print_scalar(e);
		}
		putchar('\n');
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e)
		{
			if (json_is_object(e)) {
				printf("%*s-\n", indent, "");
				print_value(e, indent + 2);
			} else {
				printf("%*s- ", indent, "");
				print_value(e, 0);
			}
		}
		if (!json_array_size(v))
			printf("%*s(none)\n", indent, "");
	} else {
		printf("%*s", indent, "");
		print_scalar(v);
		putchar('\n');
	}
}

static void print_help(json_t *list)
{
	const char *last = "";
	size_t i;
	json_t *c;

	json_array_foreach(list, i, c)
	{
		const char *plugin =
			json_string_value(json_object_get(c, "plugin"));
		const char *args =
			json_string_value(json_object_get(c, "args"));

		if (strcmp(plugin ? plugin : "", last)) {
			printf("\n%s (plugin commands):\n", plugin);
			last = plugin;
		} else if (i == 0) {
			printf("core commands:\n");
		}
		printf("  %-20s %s\n",
		       json_string_value(json_object_get(c, "name")),
		       json_string_value(json_object_get(c, "help")));
		if (args)
			printf("  %-20s   arguments: %s\n", "", args);
	}
}

void ctl_print_result(const char *command, json_t *result)
{
	if (!strcmp(command, "help") && json_is_array(result)) {
		print_help(result);
		return;
	}
	if (json_is_object(result) && json_object_size(result) == 0)
		return; /* {}: success says nothing, like ch-remote */
	print_value(result, 0);
}

void ctl_print_event(json_t *ev)
{
	json_t *ts = json_object_get(ev, "timestamp");
	json_t *data = json_object_get(ev, "data");
	char *d = data ? json_dumps(data, JSON_COMPACT) : NULL;

	printf("%lld.%06lld %s%s%s\n",
	       (long long)json_integer_value(json_object_get(ts, "seconds")),
	       (long long)json_integer_value(
		       json_object_get(ts, "microseconds")),
	       json_string_value(json_object_get(ev, "event")), d ? " " : "",
	       d ? d : "");
	free(d);
	fflush(stdout);
}
