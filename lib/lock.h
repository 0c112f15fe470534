/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small mutual-exclusion lock for the enqueue paths (a host array's
 * pending transfers, a kernel's arguments). On Linux it is a futex word:
 * taking and dropping it uncontended is one atomic instruction each, where
 * glibc's pthread_mutex_lock/unlock pair costs about 55 instructions
 * (bench-overhead under callgrind). Contended, a waiter sleeps in the
 * kernel; nothing spins. Elsewhere it is a pthread mutex.
 *
 * The futex protocol is Drepper's ("Futexes Are Tricky", mutex 3): the
 * word is 0 when free, 1 when held, 2 when held and someone may sleep on
 * it. Not recursive; release only from the thread that acquired.
 */
#ifndef CLQ_LOCK_H
#define CLQ_LOCK_H

#include <pthread.h>
#include <stdatomic.h>

#if defined(__linux__)

struct clq__lock {
	atomic_int word;
};

/* Slow paths (lock.c): sleep until the lock is ours; wake one sleeper. */
void clq__lock_wait(struct clq__lock *lock);
void clq__lock_wake(struct clq__lock *lock);

static inline int
clq__lock_init(struct clq__lock *lock)
{
	atomic_init(&lock->word, 0);
	return 0;
}

static inline void
clq__lock_destroy(struct clq__lock *lock)
{
	(void)lock;
}

static inline void
clq__lock_acquire(struct clq__lock *lock)
{
	int free_word = 0;

	if (!atomic_compare_exchange_strong_explicit(&lock->word, &free_word, 1,
						     memory_order_acquire,
						     memory_order_relaxed))
		clq__lock_wait(lock);
}

static inline void
clq__lock_release(struct clq__lock *lock)
{
	if (atomic_exchange_explicit(&lock->word, 0, memory_order_release) == 2)
		clq__lock_wake(lock);
}

#else /* not Linux: a pthread mutex */

struct clq__lock {
	pthread_mutex_t mutex;
};

static inline int
clq__lock_init(struct clq__lock *lock)
{
	return pthread_mutex_init(&lock->mutex, NULL);
}

static inline void
clq__lock_destroy(struct clq__lock *lock)
{
	pthread_mutex_destroy(&lock->mutex);
}

static inline void
clq__lock_acquire(struct clq__lock *lock)
{
	pthread_mutex_lock(&lock->mutex);
}

static inline void
clq__lock_release(struct clq__lock *lock)
{
	pthread_mutex_unlock(&lock->mutex);
}

#endif

#endif /* CLQ_LOCK_H */
