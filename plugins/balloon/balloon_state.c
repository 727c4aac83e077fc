/* The balloon's shared facts: the clock and its periodic timers, the queue
 * layout and the target; see balloon_state.h. */
#include <time.h>

#include "balloon_state.h"

uint64_t balloon_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int balloon_every(struct balloon *b, uint64_t seconds, void (*fn)(void *),
		  int *timer)
{
	uint64_t period = seconds * 1000000000ULL;
	int id = b->host->add_timer(b->dev, period, period, fn, b);

	if (id < 0)
		return id;
	*timer = id;
	return 0;
}

enum balloon_queue balloon_queue_kind(unsigned index, uint64_t features)
{
	enum balloon_queue order[4] = {BQ_INFLATE, BQ_DEFLATE, BQ_NONE,
				       BQ_NONE};
	unsigned n = 2;

	if (features & (1ULL << BALLOON_F_STATS_VQ))
		order[n++] = BQ_STATS;
	/* Free page hinting is never offered, so it takes no index. */
	if (features & (1ULL << BALLOON_F_REPORTING))
		order[n++] = BQ_REPORTING;
	return index < n ? order[index] : BQ_NONE;
}

void balloon_set_target(struct balloon *b, uint64_t bytes)
{
	uint32_t pages = (uint32_t)(bytes >> BALLOON_PAGE_SHIFT);

	if (pages == b->num_pages)
		return;
	b->num_pages = pages;
	b->target_set_ns = balloon_now_ns();
	b->vio->config_changed(b->vdev);
}
