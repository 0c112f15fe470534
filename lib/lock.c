/* SPDX-License-Identifier: BSD-3-Clause */
/* The futex slow paths of lock.h; see there for the protocol. */
#if defined(__linux__)
#define _GNU_SOURCE /* syscall() */
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lock.h"

void
clq__lock_wait(struct clq__lock *lock)
{
	/* Mark the lock contended; whoever holds it wakes one sleeper when
	 * it lets go. A wake-up or a changed word sends us round again. */
	while (atomic_exchange_explicit(&lock->word, 2, memory_order_acquire) !=
	       0)
		syscall(SYS_futex, &lock->word, FUTEX_WAIT_PRIVATE, 2, NULL,
			NULL, 0);
}

void
clq__lock_wake(struct clq__lock *lock)
{
	syscall(SYS_futex, &lock->word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
#else
/* ISO C forbids an empty translation unit. */
typedef int clq__lock_unused;
#endif
