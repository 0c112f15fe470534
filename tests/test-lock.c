/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/lock.h: threads add to a plain counter under one lock, each now and
 * then yielding while it holds the lock so that the others queue up and
 * sleep (the futex wait and wake paths). The total must be exact, and
 * ThreadSanitizer (setup tsan) must see every increment ordered.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include <check.h>

#include "lock.h"
#include "test-common.h"

#define THREADS 6

static struct clq__lock lock;
static long counter;
static long per_thread;

static void *
add(void *data)
{
	(void)data;
	for (long i = 0; i < per_thread; i++) {
		clq__lock_acquire(&lock);
		counter++;
		if (i % 512 == 0)
			sched_yield(); /* holding it: make the others wait */
		clq__lock_release(&lock);
	}
	return NULL;
}

START_TEST(lock_excludes)
{
	pthread_t t[THREADS];

	per_thread = getenv("CLQ_TEST_QUICK") ? 20000 : 200000;
	ck_assert_int_eq(clq__lock_init(&lock), 0);
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, add, NULL), 0);
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	ck_assert_int_eq(counter, THREADS * per_thread);
	clq__lock_destroy(&lock);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("lock");
	TCase *tc = tcase_create("lock");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, lock_excludes);
	suite_add_tcase(s, tc);
	return test_main(s, 0);
}
