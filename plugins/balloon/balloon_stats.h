/*
 * The statistics queue (balloon_stats.c): the buffer the device holds
 * between refreshes and the guest's latest numbers. Driven from balloon.c
 * (notify, reset, start); balloon_api.c names the tags.
 */
#ifndef MODVMM_BALLOON_STATS_H
#define MODVMM_BALLOON_STATS_H

#include <stdint.h>

#include "balloon_state.h"

/* The driver kicked the stats queue `q`. */
void balloon_stats_notify(struct balloon *b, struct mvm_virtq *q);
/* The driver reset the device: forget the held buffer. */
void balloon_stats_reset(struct balloon *b);
/* Arms the refresh timer if `stats` is set (the plugin's `start`). */
int balloon_stats_start(struct balloon *b);
/* The name balloon.stats shows for `tag` (spec 5.5.6.3 and Linux's later
 * tags), or NULL for a tag without one. */
const char *balloon_stat_name(uint16_t tag);

#endif
