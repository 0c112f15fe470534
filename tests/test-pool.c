/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pools (clq/pool.h): the order slots come back in, the events they come
 * with, host waits and blocking acquires (observed with user events and
 * threads held back), bad input, the references the pool holds, and
 * threads sharing a pool of device buffers with real transfers.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "test-common.h"

static struct clq_pool *
pool_new(size_t n, void *const *items)
{
	struct clq_pool *p = NULL;

	ck_assert_ok(clq_pool_create(n, items, &p));
	ck_assert_ptr_nonnull(p);
	return p;
}

/* Acquires without flags; asserts success and returns the slot. */
static size_t
acquire(struct clq_pool *p, struct clq_event *const **wait, size_t *n_wait)
{
	size_t slot = 999;

	ck_assert_ok(clq_pool_acquire(p, 0, &slot, wait, n_wait));
	ck_assert_uint_lt(slot, clq_pool_get_size(p));
	return slot;
}

static size_t
acquire_plain(struct clq_pool *p)
{
	struct clq_event *const *wait;
	size_t n_wait;

	return acquire(p, &wait, &n_wait);
}

/* ------------------------------------------------------------- creation */

START_TEST(create_and_items)
{
	int a, b, c;
	void *items[3] = {&a, &b, &c};
	struct clq_pool *p = pool_new(3, items), *q = pool_new(2, NULL);

	items[0] = NULL; /* the pool copied the pointers */
	ck_assert_uint_eq(clq_pool_get_size(p), 3);
	ck_assert_ptr_eq(clq_pool_get_item(p, 0), &a);
	ck_assert_ptr_eq(clq_pool_get_item(p, 1), &b);
	ck_assert_ptr_eq(clq_pool_get_item(p, 2), &c);
	ck_assert_ptr_null(clq_pool_get_item(p, 3));
	ck_assert_uint_eq(clq_pool_get_size(q), 2);
	ck_assert_ptr_null(clq_pool_get_item(q, 0));
	ck_assert_uint_eq(clq_pool_get_size(NULL), 0);
	ck_assert_ptr_null(clq_pool_get_item(NULL, 0));
	ck_assert_ptr_eq(clq_pool_ref(p), p);
	clq_pool_unref(p);
	ck_assert_ptr_eq(clq_pool_get_item(p, 2), &c); /* one ref left */
	clq_pool_unref(p);
	clq_pool_unref(q);
	clq_pool_unref(NULL);
	ck_assert_ptr_null(clq_pool_ref(NULL));
}
END_TEST

START_TEST(create_bad_input)
{
	struct clq_pool *p = (struct clq_pool *)&p;

	test_log_expect("at least one slot");
	ck_assert_rc(clq_pool_create(0, NULL, &p), CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(p);
	ck_assert(test_log_seen());
	test_log_expect("pool_out is NULL");
	ck_assert_rc(clq_pool_create(1, NULL, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	test_log_expect("do not fit");
	ck_assert_rc(clq_pool_create(SIZE_MAX / 2, NULL, &p),
		     CLQ_ERROR_OVERFLOW);
	ck_assert_ptr_null(p);
	ck_assert(test_log_seen());
}
END_TEST

/* ---------------------------------------------------------------- order */

START_TEST(least_recently_released_first)
{
	struct clq_pool *p = pool_new(3, NULL);

	/* fresh slots in index order */
	ck_assert_uint_eq(acquire_plain(p), 0);
	ck_assert_uint_eq(acquire_plain(p), 1);
	ck_assert_uint_eq(acquire_plain(p), 2);
	/* then in release order */
	ck_assert_ok(clq_pool_release(p, 1, NULL, 0));
	ck_assert_ok(clq_pool_release(p, 2, NULL, 0));
	ck_assert_ok(clq_pool_release(p, 0, NULL, 0));
	ck_assert_uint_eq(acquire_plain(p), 1);
	ck_assert_ok(clq_pool_release(p, 1, NULL, 0)); /* now the newest */
	ck_assert_uint_eq(acquire_plain(p), 2);
	ck_assert_uint_eq(acquire_plain(p), 0);
	ck_assert_uint_eq(acquire_plain(p), 1);
	/* round and round: the ring wraps */
	for (int i = 0; i < 10; i++) {
		size_t want = (size_t)(i % 3);

		ck_assert_ok(clq_pool_release(p, want, NULL, 0));
		ck_assert_uint_eq(acquire_plain(p), want);
		ck_assert_ok(clq_pool_release(p, want, NULL, 0));
		ck_assert_uint_eq(acquire_plain(p), want);
	}
	clq_pool_unref(p);
}
END_TEST

START_TEST(all_acquired_is_in_use)
{
	struct clq_pool *p = pool_new(2, NULL);
	struct clq_event *const *wait = (struct clq_event *const *)&p;
	size_t slot = 77, n_wait = 5;

	acquire_plain(p);
	acquire_plain(p);
	test_log_expect("all 2 slots are acquired");
	ck_assert_rc(clq_pool_acquire(p, 0, &slot, &wait, &n_wait),
		     CLQ_ERROR_IN_USE);
	ck_assert(test_log_seen());
	ck_assert_uint_eq(slot, 77);
	ck_assert_ptr_null(wait);
	ck_assert_uint_eq(n_wait, 0);
	ck_assert_rc(clq_pool_acquire(p, CLQ_POOL_WAIT_HOST, &slot, NULL, NULL),
		     CLQ_ERROR_IN_USE);
	test_log_expect(NULL);
	ck_assert_ok(clq_pool_release(p, 1, NULL, 0));
	ck_assert_uint_eq(acquire_plain(p), 1);
	clq_pool_unref(p);
}
END_TEST

/* --------------------------------------------------------------- events */

START_TEST(wait_events_are_the_last_release)
{
	struct clq_pool *p = pool_new(2, NULL);
	struct clq_event *e[3] = {test_user_event_new(), test_user_event_new(),
				  test_user_event_new()};
	struct clq_event *const *wait = (struct clq_event *const *)&p;
	size_t n_wait = 9, s;

	/* never released: nothing to wait for */
	s = acquire(p, &wait, &n_wait);
	ck_assert_uint_eq(s, 0);
	ck_assert_ptr_null(wait);
	ck_assert_uint_eq(n_wait, 0);
	ck_assert_ok(clq_pool_release(p, 0, e, 2));
	ck_assert_uint_eq(acquire(p, &wait, &n_wait), 1);
	ck_assert_uint_eq(n_wait, 0);
	ck_assert_ok(clq_pool_release(p, 1, &e[2], 1));
	/* slot 0 comes back with e[0], e[1], as they were passed */
	ck_assert_uint_eq(acquire(p, &wait, &n_wait), 0);
	ck_assert_uint_eq(n_wait, 2);
	ck_assert_ptr_eq(wait[0], e[0]);
	ck_assert_ptr_eq(wait[1], e[1]);
	/* a new release replaces them: only e[2] now */
	ck_assert_ok(clq_pool_release(p, 0, &e[2], 1));
	ck_assert_uint_eq(acquire(p, &wait, &n_wait), 1);
	ck_assert_uint_eq(n_wait, 1);
	ck_assert_ptr_eq(wait[0], e[2]);
	ck_assert_uint_eq(acquire(p, &wait, &n_wait), 0);
	ck_assert_uint_eq(n_wait, 1);
	ck_assert_ptr_eq(wait[0], e[2]);
	/* a release with none leaves none */
	ck_assert_ok(clq_pool_release(p, 0, NULL, 0));
	ck_assert_uint_eq(acquire(p, &wait, &n_wait), 0);
	ck_assert_ptr_null(wait);
	ck_assert_uint_eq(n_wait, 0);
	/* the pool never waited for or completed anything */
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(test_event_status(e[i]), CL_SUBMITTED);
		ck_assert_ok(clq_user_event_complete(e[i], CL_COMPLETE));
		clq_event_unref(e[i]);
	}
	clq_pool_unref(p);
}
END_TEST

/* A user event's callback: records the status it ran with. */
static void
record_status(struct clq_event *event, int status, void *user_data)
{
	(void)event;
	atomic_store((atomic_int *)user_data, status);
}

/*
 * The pool holds its events with library references: the memory stays
 * valid for the acquirer, but a user event whose caller drops it
 * uncompleted is abandoned at once (what waits for it fails rather than
 * hangs), pool or not.
 */
START_TEST(pool_holds_its_events)
{
	struct clq_pool *p = pool_new(1, NULL);
	struct clq_event *e = test_user_event_new(), *f = test_user_event_new();
	struct clq_event *const *wait;
	atomic_int e_status = 1, f_status = 1;
	size_t n_wait;

	ck_assert_ok(clq_event_set_callback(e, record_status, &e_status));
	ck_assert_ok(clq_event_set_callback(f, record_status, &f_status));
	acquire_plain(p);
	ck_assert_ok(clq_pool_release(p, 0, &e, 1));
	/* the caller's last reference goes: abandoned, though the pool
	 * still holds the event */
	clq_event_unref(e);
	ck_assert_int_eq(atomic_load(&e_status), CLQ_ERROR_ABANDONED);
	acquire(p, &wait, &n_wait);
	ck_assert_uint_eq(n_wait, 1);
	ck_assert_ptr_eq(wait[0], e);
	ck_assert_int_eq(test_event_status(wait[0]), CLQ_ERROR_ABANDONED);
	/* a held event the caller keeps stays pending through the next
	 * release and the pool's end */
	ck_assert_ok(clq_pool_release(p, 0, &f, 1));
	acquire_plain(p);
	clq_pool_unref(p);
	ck_assert_int_eq(atomic_load(&f_status), 1);
	ck_assert_int_eq(test_event_status(f), CL_SUBMITTED);
	ck_assert_ok(clq_user_event_complete(f, CL_COMPLETE));
	ck_assert_int_eq(atomic_load(&f_status), CL_COMPLETE);
	clq_event_unref(f);
}
END_TEST

struct waiter {
	struct clq_pool *pool;
	unsigned flags;
	atomic_int done;
	int rc;
	size_t slot;
	struct clq_event *const *wait;
	size_t n_wait;
};

static void *
waiter_main(void *arg)
{
	struct waiter *w = arg;

	w->rc = clq_pool_acquire(w->pool, w->flags, &w->slot, &w->wait,
				 &w->n_wait);
	atomic_store(&w->done, 1);
	return NULL;
}

START_TEST(wait_host_waits)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *gate = test_user_event_new(), *marker = NULL;
	struct clq_pool *p = pool_new(1, NULL);
	struct waiter w = {.pool = p, .flags = CLQ_POOL_WAIT_HOST};
	pthread_t tid;

	ck_assert_ok(clq_queue_enqueue_marker(q, &gate, 1, &marker));
	ck_assert_ok(clq_queue_flush(q));
	acquire_plain(p);
	ck_assert_ok(clq_pool_release(p, 0, &marker, 1));
	ck_assert_int_eq(pthread_create(&tid, NULL, waiter_main, &w), 0);
	test_sleep_ms(200);
	/* the slot is free, but its marker has not run */
	ck_assert_int_eq(atomic_load(&w.done), 0);
	ck_assert_int_gt(test_event_status(marker), CL_COMPLETE);
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	ck_assert_int_eq(pthread_join(tid, NULL), 0);
	ck_assert_ok(w.rc);
	ck_assert_uint_eq(w.slot, 0);
	ck_assert_ptr_null(w.wait);
	ck_assert_uint_eq(w.n_wait, 0);
	ck_assert_int_eq(test_event_status(marker), CL_COMPLETE);
	clq_event_unref(marker);
	clq_event_unref(gate);
	clq_pool_unref(p);
	clq_queue_unref(q);
}
END_TEST

START_TEST(wait_host_failed_keeps_the_slot)
{
	struct clq_pool *p = pool_new(1, NULL);
	struct clq_event *gate = test_user_event_new();
	size_t slot = 42;

	acquire_plain(p);
	ck_assert_ok(clq_pool_release(p, 0, &gate, 1));
	ck_assert_ok(clq_user_event_complete(gate, -5));
	test_log_expect("*");
	ck_assert_rc(clq_pool_acquire(p, CLQ_POOL_WAIT_HOST, &slot, NULL, NULL),
		     CLQ_ERROR_COMMAND_FAILED);
	ck_assert(strstr(test_log_text(), "stays acquired") != NULL);
	/* acquired still: the caller decides when it is free */
	ck_assert_uint_eq(slot, 0);
	ck_assert_rc(clq_pool_acquire(p, 0, &slot, NULL, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_pool_acquire(p, CLQ_POOL_WAIT_HOST, &slot, NULL, NULL),
		     CLQ_ERROR_IN_USE);
	test_log_expect(NULL);
	ck_assert_ok(clq_pool_release(p, 0, NULL, 0));
	ck_assert_ok(
		clq_pool_acquire(p, CLQ_POOL_WAIT_HOST, &slot, NULL, NULL));
	clq_event_unref(gate);
	clq_pool_unref(p);
}
END_TEST

START_TEST(block_waits_for_a_release)
{
	struct clq_pool *p = pool_new(2, NULL);
	struct clq_event *e = test_user_event_new();
	struct waiter w = {.pool = p, .flags = CLQ_POOL_BLOCK};
	pthread_t tid;

	acquire_plain(p);
	acquire_plain(p);
	ck_assert_int_eq(pthread_create(&tid, NULL, waiter_main, &w), 0);
	test_sleep_ms(200);
	ck_assert_int_eq(atomic_load(&w.done), 0);
	ck_assert_ok(clq_pool_release(p, 1, &e, 1));
	ck_assert_int_eq(pthread_join(tid, NULL), 0);
	ck_assert_ok(w.rc);
	ck_assert_uint_eq(w.slot, 1);
	ck_assert_uint_eq(w.n_wait, 1);
	ck_assert_ptr_eq(w.wait[0], e);
	ck_assert_ok(clq_user_event_complete(e, CL_COMPLETE));
	clq_event_unref(e);
	clq_pool_unref(p);
}
END_TEST

/* ------------------------------------------------------------ bad input */

START_TEST(bad_input)
{
	struct clq_pool *p = pool_new(2, NULL);
	struct clq_event *e = test_user_event_new(), *other = NULL;
	struct clq_event *const *wait;
	struct clq_event *with_null[2] = {e, NULL}, *mixed[2];
	struct clq_context *ctx2 = NULL;
	size_t slot, n_wait;

	ck_assert_ok(
		clq_context_create(clq_context_get_device(test_ctx), &ctx2));
	ck_assert_ok(clq_user_event_create(ctx2, &other));
	mixed[0] = e;
	mixed[1] = other;

	test_log_expect("*");
	ck_assert_rc(clq_pool_acquire(NULL, 0, &slot, &wait, &n_wait),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_pool_acquire(p, 0, NULL, &wait, &n_wait),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_pool_acquire(p, 0, &slot, NULL, &n_wait),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_pool_acquire(p, 0, &slot, &wait, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_pool_acquire(p, 4, &slot, &wait, &n_wait),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(strstr(test_log_text(), "unknown flags 0x4") != NULL);
	/* none of those acquired anything */
	ck_assert_uint_eq(acquire_plain(p), 0);

	test_log_expect("*");
	ck_assert_rc(clq_pool_release(NULL, 0, NULL, 0),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_pool_release(p, 2, NULL, 0), CLQ_ERROR_OUT_OF_RANGE);
	ck_assert(strstr(test_log_text(), "slot 2 is out of range") != NULL);
	test_log_expect("slot 1 is not acquired");
	ck_assert_rc(clq_pool_release(p, 1, NULL, 0),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	test_log_expect("events is NULL");
	ck_assert_rc(clq_pool_release(p, 0, NULL, 1),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	test_log_expect("events[1] is NULL");
	ck_assert_rc(clq_pool_release(p, 0, with_null, 2),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	test_log_expect("another context");
	ck_assert_rc(clq_pool_release(p, 0, mixed, 2),
		     CLQ_ERROR_CONTEXT_MISMATCH);
	ck_assert(test_log_seen());
	/* still acquired and unchanged: a good release works */
	test_log_expect(NULL);
	ck_assert_ok(clq_pool_release(p, 0, &e, 1));
	/* the pool now holds events of test_ctx: ctx2's are refused */
	ck_assert_uint_eq(acquire_plain(p), 1);
	test_log_expect("another context");
	ck_assert_rc(clq_pool_release(p, 1, &other, 1),
		     CLQ_ERROR_CONTEXT_MISMATCH);
	ck_assert(test_log_seen());
	test_log_expect("slot 0 is not acquired");
	ck_assert_rc(clq_pool_release(p, 0, NULL, 0),
		     CLQ_ERROR_INVALID_ARGUMENT); /* twice */
	ck_assert(test_log_seen());
	test_log_expect(NULL);
	ck_assert_ok(clq_pool_release(p, 1, NULL, 0));

	ck_assert_ok(clq_user_event_complete(e, CL_COMPLETE));
	ck_assert_ok(clq_user_event_complete(other, CL_COMPLETE));
	clq_event_unref(e);
	clq_event_unref(other);
	clq_pool_unref(p);
	clq_context_unref(ctx2);
}
END_TEST

/* -------------------------------------------------------------- threads */

#define TN 4096 /* elements per buffer */
#define N_THREADS 4
#define N_BUFFERS 2

struct worker {
	struct clq_pool *pool;
	unsigned id;
	unsigned rounds;
	unsigned wrong;
	int rc;
	/* a slot's acquires are ordered by its releases: one bit per slot */
	unsigned long used;
};

/*
 * Each round: acquire a buffer (blocking), upload a pattern of this
 * thread and round into it after the slot's events, download it on the
 * same queue, release the slot with the download, and only then wait for
 * the download and check it. Another thread's upload into the same
 * buffer, enqueued right after the release, must wait for that download:
 * if the pool's events were not the right ones, this thread would read
 * another's pattern.
 */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	const size_t n = TN;
	struct clq_queue *q = NULL;
	struct clq_host_array *src = NULL, *dst = NULL;
	int rc = clq_queue_create(test_ctx, 0, &q);

	if (rc == CLQ_SUCCESS)
		rc = clq_host_array_create(test_ctx, CLQ_DTYPE_UINT32, 1, &n,
					   NULL, &src);
	if (rc == CLQ_SUCCESS)
		rc = clq_host_array_create(test_ctx, CLQ_DTYPE_UINT32, 1, &n,
					   NULL, &dst);
	for (unsigned r = 0; r < w->rounds && rc == CLQ_SUCCESS; r++) {
		cl_uint *in = clq_host_array_data(src);
		cl_uint *out = clq_host_array_data(dst);
		cl_uint tag = (w->id << 24) | (r << 8);
		struct clq_event *const *wait;
		struct clq_event *up = NULL, *down = NULL;
		struct clq_device_array *buf;
		size_t slot, n_wait;

		for (size_t i = 0; i < n; i++) {
			in[i] = tag + (cl_uint)i;
			out[i] = 0;
		}
		rc = clq_pool_acquire(w->pool, CLQ_POOL_BLOCK, &slot, &wait,
				      &n_wait);
		if (rc != CLQ_SUCCESS)
			break;
		w->used |= 1ul << slot;
		buf = clq_pool_get_item(w->pool, slot);
		rc = clq_device_array_set_async(buf, q, src, wait, n_wait, &up);
		if (rc == CLQ_SUCCESS)
			rc = clq_device_array_get_async(buf, q, dst, NULL, 0,
							&down);
		if (rc == CLQ_SUCCESS)
			rc = clq_queue_flush(q);
		if (rc == CLQ_SUCCESS)
			rc = clq_pool_release(w->pool, slot, &down, 1);
		else
			clq_pool_release(w->pool, slot, NULL, 0);
		if (rc == CLQ_SUCCESS)
			rc = clq_event_wait(down);
		for (size_t i = 0; rc == CLQ_SUCCESS && i < n; i++)
			w->wrong += out[i] != tag + (cl_uint)i;
		clq_event_unref(up);
		clq_event_unref(down);
	}
	if (q)
		clq_queue_finish(q);
	clq_host_array_unref(src);
	clq_host_array_unref(dst);
	clq_queue_unref(q);
	w->rc = rc;
	return NULL;
}

START_TEST(threads_share_a_pool)
{
	struct clq_device_array *bufs[N_BUFFERS];
	struct worker w[N_THREADS];
	pthread_t tid[N_THREADS];
	struct clq_pool *p;
	const size_t n = TN;
	unsigned long used = 0;
	unsigned rounds = getenv("CLQ_TEST_QUICK") ? 10 : 100;

	for (int b = 0; b < N_BUFFERS; b++)
		ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_UINT32,
						     1, &n, NULL, &bufs[b]));
	p = pool_new(N_BUFFERS, (void *const *)bufs);
	for (unsigned i = 0; i < N_THREADS; i++) {
		w[i] = (struct worker){
			.pool = p, .id = i + 1, .rounds = rounds};
		ck_assert_int_eq(
			pthread_create(&tid[i], NULL, worker_main, &w[i]), 0);
	}
	for (unsigned i = 0; i < N_THREADS; i++) {
		ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
		ck_assert_msg(w[i].rc == CLQ_SUCCESS, "thread %u: %s", i,
			      clq_strerror(w[i].rc));
		ck_assert_uint_eq(w[i].wrong, 0);
		used |= w[i].used;
	}
	ck_assert_uint_eq(used, (1ul << N_BUFFERS) - 1);
	/* every slot is free again: N_BUFFERS acquires succeed, one more
	 * does not */
	for (int b = 0; b < N_BUFFERS; b++)
		acquire_plain(p);
	test_log_expect("all 2 slots");
	{
		size_t slot;

		ck_assert_rc(clq_pool_acquire(p, CLQ_POOL_WAIT_HOST, &slot,
					      NULL, NULL),
			     CLQ_ERROR_IN_USE);
	}
	test_log_expect(NULL);
	clq_pool_unref(p);
	for (int b = 0; b < N_BUFFERS; b++)
		clq_device_array_unref(bufs[b]);
}
END_TEST

static Suite *
pool_suite(void)
{
	Suite *s = suite_create("pool");
	TCase *tc;

	tc = tcase_create("basics");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, create_and_items);
	tcase_add_test(tc, create_bad_input);
	tcase_add_test(tc, least_recently_released_first);
	tcase_add_test(tc, all_acquired_is_in_use);
	tcase_add_test(tc, bad_input);
	suite_add_tcase(s, tc);

	tc = tcase_create("events");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, wait_events_are_the_last_release);
	tcase_add_test(tc, pool_holds_its_events);
	tcase_add_test(tc, wait_host_waits);
	tcase_add_test(tc, wait_host_failed_keeps_the_slot);
	tcase_add_test(tc, block_waits_for_a_release);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, threads_share_a_pool);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_main(pool_suite(), 1);
}
