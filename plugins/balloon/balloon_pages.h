/*
 * Inflate, deflate and free page reporting (balloon_pages.c): PFNs checked
 * against guest RAM, merged into runs and given back to the host. Called
 * from balloon.c's queue_notify.
 */
#ifndef MODVMM_BALLOON_PAGES_H
#define MODVMM_BALLOON_PAGES_H

#include <stdbool.h>
#include <stdint.h>

#include "balloon_state.h"

/* Drains the inflate (`inflate`) or deflate queue `q`. */
void balloon_inflate_deflate(struct balloon *b, struct mvm_virtq *q,
			     bool inflate);
/* Drains the free page reporting queue `q`. */
void balloon_report(struct balloon *b, struct mvm_virtq *q);
/* Sorts `pfns`, drops duplicates, and returns the number of runs of
 * consecutive PFNs written to starts[]/lens[] (both sized n). */
unsigned balloon_pfn_runs(uint32_t *pfns, unsigned n, uint32_t *starts,
			  uint32_t *lens);

#endif
