/* A flag another thread sets under a mutex, read under the same mutex: the
 * lock orders the read after the write it pairs with. */
#ifndef MODVMM_CORE_LOCKED_H
#define MODVMM_CORE_LOCKED_H

#include <pthread.h>
#include <stdbool.h>

static inline bool locked_read_bool(pthread_mutex_t *lock, const bool *flag)
{
	bool r;

	pthread_mutex_lock(lock);
	r = *flag;
	pthread_mutex_unlock(lock);
	return r;
}

#endif
