/*
 * The virtio-balloon device (virtio spec 5.5), split by concern, each file
 * with its own header:
 *  - balloon.c: the plugin (options, create/start/destroy), the transport
 *    description and the config space; it wires the parts below together;
 *  - balloon_pages.c: inflate, deflate and free page reporting (PFNs
 *    checked, merged into runs and given back to the host);
 *  - balloon_stats.c: the statistics queue;
 *  - balloon_steer.c: the steering policy's glue (inputs, timer, event),
 *    with the pure policy in balloon_auto.c and the host's PSI and
 *    MemAvailable in balloon_hostmem.c;
 *  - balloon_api.c: control-socket commands and events;
 *  - balloon_state.c: the state and constants they share, the queue
 *    layout and the clock; it calls none of the others.
 * Arrows point down that list: balloon.c calls those in the middle,
 * balloon_api.c asks balloon_stats.c for tag names and balloon_steer.c for
 * the policy, and everything uses balloon_state.c.
 */
#ifndef MODVMM_BALLOON_H
#define MODVMM_BALLOON_H

#include "balloon_api.h"
#include "balloon_pages.h"
#include "balloon_state.h"
#include "balloon_stats.h"
#include "balloon_steer.h"

#endif
