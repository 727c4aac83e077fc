/*
 * The control-API table plugins get as host->api (modvmm/api.h). Its call
 * accessors and the small parsers behind them are api_call.h's.
 */
#ifndef MODVMM_CORE_API_PLUGIN_H
#define MODVMM_CORE_API_PLUGIN_H

#include <modvmm/api.h>

#include "api/api_call.h"

extern const struct mvm_api_host core_api_host;

#endif
