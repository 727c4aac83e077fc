/*
 * Control-socket commands and events (balloon_api.c): balloon.set,
 * balloon.info, balloon.stats and QEMU's `balloon` / `query-balloon`, with
 * the BALLOON_CHANGE event. Registered and told about `actual` by
 * balloon.c.
 */
#ifndef MODVMM_BALLOON_API_H
#define MODVMM_BALLOON_API_H

#include <stdint.h>

#include "balloon_state.h"

/* Registers the commands (from `create`); nothing on a core without a
 * control API. */
int balloon_api_register(struct balloon *b);
/* The driver wrote `actual` (it was `old_actual`): QEMU's BALLOON_CHANGE
 * (at most once a second) and, at the target, our own "changed". */
void balloon_actual_changed(struct balloon *b, uint32_t old_actual);

#endif
