/*
 * The control-API table plugins get as host->api (modvmm/api.h), and the
 * small parsers behind it, exposed for unit tests.
 */
#ifndef MODVMM_CORE_API_PLUGIN_H
#define MODVMM_CORE_API_PLUGIN_H

#include <stdbool.h>
#include <stdint.h>

#include <modvmm/api.h>

extern const struct mvm_api_host core_api_host;

/* "1073741824", "0x1000", "512M", "1G", "1GiB": bytes. 0 or -EINVAL. */
int api_parse_size(const char *s, uint64_t *out);
/* [A-Z0-9_]{1,64}, QMP's event naming. */
bool api_event_name_valid(const char *name);

#endif
