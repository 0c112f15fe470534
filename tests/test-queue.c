/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "test-common.h"

/*
 * clFlush, interposed: this executable's definition comes before the ICD
 * loader's for libclq too. Counts the flushes of one watched queue.
 */
static _Atomic(cl_command_queue) flush_watched;
static atomic_int flush_count;

CL_API_ENTRY cl_int CL_API_CALL
clFlush(cl_command_queue queue)
{
	cl_int(CL_API_CALL * real)(cl_command_queue) = NULL;
	void *sym = dlsym(RTLD_NEXT, "clFlush");

	memcpy(&real, &sym, sizeof(real));
	if (queue == atomic_load(&flush_watched))
		atomic_fetch_add(&flush_count, 1);
	return real(queue);
}

/* Whether `e` is still pending after the device has had time to run it. */
static int
still_pending(struct clq_event *e)
{
	test_sleep_ms(50);
	return test_event_status(e) > CL_COMPLETE;
}

/* OpenCL 1.2 section 5.13: a wait on another queue's event needs that
 * queue flushed; clq flushes it, once per event. */
START_TEST(cross_queue_wait_flushes_the_source)
{
	struct clq_queue *a = test_queue_new(0), *b = test_queue_new(0);
	struct clq_event *u = test_user_event_new(), *ev, *other, *m;

	ck_assert_ok(clq_queue_enqueue_marker(a, &u, 1, &ev));
	ck_assert_ok(clq_queue_enqueue_marker(a, NULL, 0, &other));
	atomic_store(&flush_watched, clq_queue_get_cl(a));
	atomic_store(&flush_count, 0);
	ck_assert_ok(clq_queue_enqueue_marker(a, &ev, 1, &m));
	clq_event_unref(m);
	ck_assert_int_eq(atomic_load(&flush_count), 0); /* same queue */
	ck_assert_ok(clq_queue_enqueue_wait_for_events(b, &ev, 1));
	ck_assert_int_eq(atomic_load(&flush_count), 1);
	ck_assert_ok(clq_queue_enqueue_marker(b, &ev, 1, &m));
	clq_event_unref(m);
	ck_assert_int_eq(atomic_load(&flush_count), 1); /* once per event */
	ck_assert_ok(clq_queue_enqueue_barrier(b, &other, 1, &m));
	ck_assert_int_eq(atomic_load(&flush_count), 2);
	ck_assert_ok(clq_user_event_complete(u, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(m));
	atomic_store(&flush_watched, NULL);
	clq_event_unref(m);
	clq_event_unref(other);
	clq_event_unref(ev);
	clq_event_unref(u);
	clq_queue_unref(b);
	clq_queue_unref(a);
}
END_TEST

/* An event outlives its queue: waiting on it still flushes safely. */
START_TEST(wait_on_event_of_released_queue)
{
	struct clq_queue *a = test_queue_new(0), *b = test_queue_new(0);
	struct clq_event *u = test_user_event_new(), *ev, *m;

	ck_assert_ok(clq_queue_enqueue_marker(a, &u, 1, &ev));
	clq_queue_unref(a);
	ck_assert_ok(clq_queue_enqueue_marker(b, &ev, 1, &m));
	ck_assert(still_pending(m));
	ck_assert_ok(clq_user_event_complete(u, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(m));
	clq_event_unref(m);
	clq_event_unref(ev);
	clq_event_unref(u);
	clq_queue_unref(b);
}
END_TEST

START_TEST(create_plain_and_profiling)
{
	struct clq_queue *plain = test_queue_new(0);
	struct clq_queue *prof = test_queue_new(CLQ_QUEUE_PROFILING);
	cl_command_queue_properties props = 0;

	ck_assert_uint_eq(clq_queue_get_flags(plain), 0);
	ck_assert_uint_eq(clq_queue_get_flags(prof), CLQ_QUEUE_PROFILING);
	ck_assert_ptr_eq(clq_queue_get_context(plain), test_ctx);
	ck_assert_int_eq(clGetCommandQueueInfo(clq_queue_get_cl(prof),
					       CL_QUEUE_PROPERTIES,
					       sizeof(props), &props, NULL),
			 CL_SUCCESS);
	ck_assert(props & CL_QUEUE_PROFILING_ENABLE);
	ck_assert(!(props & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE));
	ck_assert_ptr_eq(clq_queue_ref(plain), plain);
	clq_queue_unref(plain);
	clq_queue_unref(plain);
	clq_queue_unref(prof);
}
END_TEST

START_TEST(create_bad_arguments)
{
	struct clq_queue *q = (struct clq_queue *)&q;

	test_log_expect("unknown flags");
	ck_assert_rc(clq_queue_create(test_ctx, 0x80, &q),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(q);
	ck_assert(test_log_seen());
	test_log_expect("is NULL");
	ck_assert_rc(clq_queue_create(NULL, 0, &q), CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_queue_create(test_ctx, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_queue_flush(NULL), CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_queue_finish(NULL), CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_queue_enqueue_marker(NULL, NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_queue_enqueue_barrier(NULL, NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_queue_enqueue_wait_for_events(NULL, NULL, 0),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(clq_queue_get_cl(NULL));
	clq_queue_unref(NULL);
}
END_TEST

START_TEST(marker_completes_after_finish)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *m = NULL;

	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, &m));
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_eq(clq_event_get_context(m), test_ctx);
	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, NULL));
	ck_assert_ok(clq_queue_flush(q));
	ck_assert_ok(clq_queue_finish(q));
	ck_assert_int_eq(test_event_status(m), CL_COMPLETE);
	clq_event_unref(m);
	clq_queue_unref(q);
}
END_TEST

/* The ordering core: a queue that waits for a user event holds back its
 * later marker until the host completes the user event. */
START_TEST(wait_for_events_holds_later_commands)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *u = test_user_event_new(), *m = NULL;

	ck_assert_ok(clq_queue_enqueue_wait_for_events(q, &u, 1));
	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, &m));
	ck_assert_ok(clq_queue_flush(q));
	ck_assert(still_pending(m));
	ck_assert_int_eq(test_event_status(u), CL_SUBMITTED);

	ck_assert_ok(clq_user_event_complete(u, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(m));
	ck_assert_int_eq(test_event_status(m), CL_COMPLETE);
	clq_event_unref(u);
	clq_event_unref(m);
	clq_queue_unref(q);
}
END_TEST

/* n == 0 with a NULL list is accepted and does not hold the queue. */
START_TEST(wait_for_no_events_succeeds)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *m = NULL;

	ck_assert_ok(clq_queue_enqueue_wait_for_events(q, NULL, 0));
	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, &m));
	ck_assert_ok(clq_event_wait(m));
	clq_event_unref(m);
	clq_queue_unref(q);
}
END_TEST

START_TEST(barrier_with_wait_list)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *u = test_user_event_new(), *b = NULL, *m = NULL;

	ck_assert_ok(clq_queue_enqueue_barrier(q, &u, 1, &b));
	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, &m));
	ck_assert_ok(clq_queue_flush(q));
	ck_assert(still_pending(b));
	ck_assert(still_pending(m));
	ck_assert_ok(clq_user_event_complete(u, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(m));
	ck_assert_int_eq(test_event_status(b), CL_COMPLETE);
	clq_event_unref(u);
	clq_event_unref(b);
	clq_event_unref(m);
	clq_queue_unref(q);
}
END_TEST

START_TEST(marker_with_wait_list)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *u1 = test_user_event_new(),
			 *u2 = test_user_event_new();
	struct clq_event *waits[2] = {u1, u2}, *m = NULL;

	ck_assert_ok(clq_queue_enqueue_marker(q, waits, 2, &m));
	ck_assert_ok(clq_queue_flush(q));
	ck_assert_ok(clq_user_event_complete(u1, CL_COMPLETE));
	ck_assert(still_pending(m));
	ck_assert_ok(clq_user_event_complete(u2, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(m));
	clq_event_unref(u1);
	clq_event_unref(u2);
	clq_event_unref(m);
	clq_queue_unref(q);
}
END_TEST

/* Queue B waits for a marker of queue A, which waits for a user event. */
START_TEST(cross_queue_wait)
{
	struct clq_queue *a = test_queue_new(0), *b = test_queue_new(0);
	struct clq_event *u = test_user_event_new(), *ma = NULL, *mb = NULL;

	ck_assert_ok(clq_queue_enqueue_marker(a, &u, 1, &ma));
	ck_assert_ok(clq_queue_enqueue_wait_for_events(b, &ma, 1));
	ck_assert_ok(clq_queue_enqueue_marker(b, NULL, 0, &mb));
	ck_assert_ok(clq_queue_flush(a));
	ck_assert_ok(clq_queue_flush(b));
	ck_assert(still_pending(mb));
	ck_assert_ok(clq_user_event_complete(u, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(mb));
	ck_assert_int_eq(test_event_status(ma), CL_COMPLETE);
	clq_event_unref(u);
	clq_event_unref(ma);
	clq_event_unref(mb);
	clq_queue_unref(a);
	clq_queue_unref(b);
}
END_TEST

/* More waits than the on-stack list holds. */
START_TEST(long_wait_list)
{
	enum { N = 40 };
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *users[N], *m = NULL;

	for (int i = 0; i < N; i++)
		users[i] = test_user_event_new();
	ck_assert_ok(clq_queue_enqueue_marker(q, users, N, &m));
	ck_assert_ok(clq_queue_flush(q));
	for (int i = 0; i < N - 1; i++)
		ck_assert_ok(clq_user_event_complete(users[i], CL_COMPLETE));
	ck_assert(still_pending(m));
	ck_assert_ok(clq_user_event_complete(users[N - 1], CL_COMPLETE));
	ck_assert_ok(clq_event_wait(m));
	for (int i = 0; i < N; i++)
		clq_event_unref(users[i]);
	clq_event_unref(m);
	clq_queue_unref(q);
}
END_TEST

START_TEST(events_of_another_context_refused)
{
	struct clq_context *other = NULL;
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *foreign = NULL, *mine = test_user_event_new();
	struct clq_event *mixed[2] = {mine, NULL};
	struct clq_event *m = (struct clq_event *)&m;

	ck_assert_ok(
		clq_context_create(clq_context_get_device(test_ctx), &other));
	ck_assert_ok(clq_user_event_create(other, &foreign));
	mixed[1] = foreign;

	test_log_expect("belongs to another context");
	ck_assert_rc(clq_queue_enqueue_marker(q, &foreign, 1, &m),
		     CLQ_ERROR_CONTEXT_MISMATCH);
	ck_assert_ptr_null(m);
	ck_assert_rc(clq_queue_enqueue_barrier(q, mixed, 2, NULL),
		     CLQ_ERROR_CONTEXT_MISMATCH);
	ck_assert_rc(clq_queue_enqueue_wait_for_events(q, mixed, 2),
		     CLQ_ERROR_CONTEXT_MISMATCH);
	ck_assert(test_log_seen());

	/* Nothing was enqueued: the queue is not blocked by `mine`. */
	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, &m));
	ck_assert_ok(clq_event_wait(m));

	ck_assert_ok(clq_user_event_complete(mine, CL_COMPLETE));
	ck_assert_ok(clq_user_event_complete(foreign, CL_COMPLETE));
	clq_event_unref(m);
	clq_event_unref(mine);
	clq_event_unref(foreign);
	clq_queue_unref(q);
	clq_context_unref(other);
}
END_TEST

START_TEST(bad_wait_lists_refused)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *holes[2] = {NULL, NULL};
	struct clq_event *m = (struct clq_event *)&m;

	test_log_expect("wait list");
	ck_assert_rc(clq_queue_enqueue_marker(q, NULL, 1, &m),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(m);
	ck_assert_rc(clq_queue_enqueue_barrier(q, holes, 2, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_queue_enqueue_wait_for_events(q, NULL, 3),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	clq_queue_unref(q);
}
END_TEST

/* OpenCL queues are thread-safe, and so are clq's. */
struct marker_thread {
	struct clq_queue *q;
	struct clq_event *last;
	int rc;
};

static void *
enqueue_markers(void *data)
{
	struct marker_thread *t = data;

	for (int i = 0; i < 500 && t->rc == CLQ_SUCCESS; i++) {
		clq_event_unref(t->last);
		t->last = NULL;
		t->rc = clq_queue_enqueue_marker(t->q, NULL, 0, &t->last);
	}
	return NULL;
}

START_TEST(markers_from_several_threads)
{
	enum { THREADS = 4 };
	struct clq_queue *q = test_queue_new(CLQ_QUEUE_PROFILING);
	struct marker_thread t[THREADS];
	pthread_t tid[THREADS];

	for (int i = 0; i < THREADS; i++) {
		t[i] = (struct marker_thread){.q = q};
		ck_assert_int_eq(
			pthread_create(&tid[i], NULL, enqueue_markers, &t[i]),
			0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(tid[i], NULL);
	ck_assert_ok(clq_queue_finish(q));
	for (int i = 0; i < THREADS; i++) {
		ck_assert_ok(t[i].rc);
		ck_assert_int_eq(test_event_status(t[i].last), CL_COMPLETE);
		clq_event_unref(t[i].last);
	}
	clq_queue_unref(q);
}
END_TEST

static Suite *
queue_suite(void)
{
	Suite *s = suite_create("queue");
	TCase *tc = tcase_create("create");

	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, create_plain_and_profiling);
	tcase_add_test(tc, create_bad_arguments);
	suite_add_tcase(s, tc);

	tc = tcase_create("ordering");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, marker_completes_after_finish);
	tcase_add_test(tc, wait_for_events_holds_later_commands);
	tcase_add_test(tc, wait_for_no_events_succeeds);
	tcase_add_test(tc, barrier_with_wait_list);
	tcase_add_test(tc, marker_with_wait_list);
	tcase_add_test(tc, cross_queue_wait);
	tcase_add_test(tc, long_wait_list);
	suite_add_tcase(s, tc);

	tc = tcase_create("flush");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, cross_queue_wait_flushes_the_source);
	tcase_add_test(tc, wait_on_event_of_released_queue);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, events_of_another_context_refused);
	tcase_add_test(tc, bad_wait_lists_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, markers_from_several_threads);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_main(queue_suite(), 1);
}
