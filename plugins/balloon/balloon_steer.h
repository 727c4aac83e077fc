/*
 * The steering policy's glue (balloon_steer.c): turns the options into the
 * policy's settings, runs balloon_auto_step() every auto_interval on the
 * guest's latest statistics and the host's PSI and MemAvailable
 * (balloon_hostmem.c), applies the target and emits the `balloon.auto`
 * event. Called by balloon.c (create, start, destroy) and balloon_api.c
 * (balloon.auto, balloon.info, balloon.set).
 */
#ifndef MODVMM_BALLOON_STEER_H
#define MODVMM_BALLOON_STEER_H

#include <stddef.h>
#include <stdint.h>

#include "balloon_state.h"

/* Parses a guest_floor value: a size with an optional K/M/G/T suffix, or
 * "N%" of `ram` (1..99). 0 or -EINVAL. */
int balloon_steer_parse_floor(const char *s, uint64_t ram, uint64_t *out);
/* 0 if `c` can steer a balloon of this device, else -EINVAL and one line
 * naming the bad key=value in `why`. */
int balloon_steer_check(const struct balloon *b,
			const struct balloon_auto_cfg *c, char *why,
			size_t len);
/* The settings from the option string (b->opt), checked, and the host's
 * PSI and meminfo files opened; on error the line is in `why`. */
int balloon_steer_configure(struct balloon *b, char *why, size_t len);
/* Arms the step timer (start, and after balloon.auto changes the
 * interval); nothing without the statistics queue. */
int balloon_steer_arm(struct balloon *b);
void balloon_steer_disarm(struct balloon *b);
/* The device goes away: the timer and the host files. */
void balloon_steer_close(struct balloon *b);
/* Applies new settings from balloon.auto (already checked). */
void balloon_steer_apply(struct balloon *b, const struct balloon_auto_cfg *c);
/* A manual balloon.set: the policy lets go (an event says so). */
void balloon_steer_manual(struct balloon *b);
/* The policy's settings and state as a JSON object, for balloon.info and
 * balloon.auto's reply. */
void balloon_steer_json(const struct balloon *b, char *buf, size_t len);

#endif
