/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * clq_event_bridge(): events of one context followed in another. The
 * second context is on the test device, or on PoCL's second CPU device
 * with POCL_DEVICES="pthread pthread" and CLQ_TEST_TWO_DEVICES=1.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"

static struct clq_context *other_ctx;
static struct clq_queue *q1, *q2;

static void
setup(void)
{
	struct clq_device *d = NULL;

	test_context_setup();
	if (getenv("CLQ_TEST_TWO_DEVICES"))
		ck_assert_ok(clq_device_get(1, &d));
	else
		d = clq_device_ref(clq_context_get_device(test_ctx));
	ck_assert_ok(clq_context_create(d, &other_ctx));
	clq_device_unref(d);
	q1 = test_queue_new(0);
	ck_assert_ok(clq_queue_create(other_ctx, 0, &q2));
}

static void
teardown(void)
{
	clq_queue_unref(q1);
	clq_queue_unref(q2);
	clq_context_unref(other_ctx);
	test_context_teardown();
}

/* A bridge and a marker of the other context behind it. */
static void
bridge_with_marker(struct clq_event *source, struct clq_context *ctx,
		   struct clq_queue *q, struct clq_event **bridged,
		   struct clq_event **marker)
{
	ck_assert_ok(clq_event_bridge(source, ctx, bridged));
	ck_assert_ptr_nonnull(*bridged);
	ck_assert_ptr_eq(clq_event_get_context(*bridged), ctx);
	ck_assert_ptr_ne(*bridged, source);
	ck_assert_ok(clq_queue_enqueue_marker(q, bridged, 1, marker));
}

START_TEST(bad_input)
{
	struct clq_event *u = test_user_event_new(), *b = (void *)&b;

	test_log_expect("*");
	ck_assert_int_eq(clq_event_bridge(u, other_ctx, NULL),
			 CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_int_eq(clq_event_bridge(NULL, other_ctx, &b),
			 CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(b);
	b = (void *)&b;
	ck_assert_int_eq(clq_event_bridge(u, NULL, &b),
			 CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(b);
	ck_assert(strstr(test_log_text(), "clq_event_bridge: event is NULL"));
	ck_assert(strstr(test_log_text(), "clq_event_bridge: ctx is NULL"));

	/* Only the bridge completes a bridged event: no user event to the
	 * caller. */
	ck_assert_ok(clq_event_bridge(u, other_ctx, &b));
	ck_assert_int_eq(clq_event_is_user(b), 0);
	ck_assert_int_eq(clq_event_is_user(u), 1);
	ck_assert_int_eq(clq_user_event_complete(b, CL_COMPLETE),
			 CLQ_ERROR_NOT_USER_EVENT);
	ck_assert(strstr(test_log_text(), "a bridged event"));
	ck_assert_int_eq(test_event_status(b), CL_SUBMITTED);
	ck_assert_ok(clq_user_event_complete(u, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(b));
	clq_event_unref(b);
	clq_event_unref(u);
}
END_TEST

/* In the same context, the event itself. */
START_TEST(same_context)
{
	struct clq_event *u = test_user_event_new(), *b;

	ck_assert_ok(clq_event_bridge(u, test_ctx, &b));
	ck_assert_ptr_eq(b, u);
	clq_event_unref(b);
	ck_assert_ok(clq_user_event_complete(u, CL_COMPLETE));
	clq_event_unref(u);
}
END_TEST

/* Success and failure, from a user event and from a command, each way. */
START_TEST(status_propagates)
{
	const int fail = _i & 1, command = _i & 2, backwards = _i & 4;
	struct clq_context *from_ctx = backwards ? other_ctx : test_ctx;
	struct clq_context *to_ctx = backwards ? test_ctx : other_ctx;
	struct clq_queue *from_q = backwards ? q2 : q1;
	struct clq_queue *to_q = backwards ? q1 : q2;
	struct clq_event *u, *source, *b, *m;

	ck_assert_ok(clq_user_event_create(from_ctx, &u));
	if (command)
		ck_assert_ok(clq_queue_enqueue_marker(from_q, &u, 1, &source));
	else
		source = clq_event_ref(u);
	bridge_with_marker(source, to_ctx, to_q, &b, &m);
	ck_assert_int_eq(test_event_status(b), CL_SUBMITTED);
	ck_assert_ok(clq_user_event_complete(u, fail ? -23 : CL_COMPLETE));
	if (fail) {
		test_log_expect("the command failed");
		ck_assert_int_eq(clq_event_wait(m), CLQ_ERROR_COMMAND_FAILED);
		ck_assert_int_eq(clq_event_wait(b), CLQ_ERROR_COMMAND_FAILED);
		/* A command failed through its wait list: PoCL gives -1. */
		ck_assert_int_eq(test_event_status(b),
				 test_event_status(source));
		ck_assert_int_lt(test_event_status(b), 0);
	} else {
		ck_assert_ok(clq_event_wait(m));
		ck_assert_int_eq(test_event_status(b), CL_COMPLETE);
	}
	ck_assert_ok(clq_queue_finish(from_q));
	clq_event_unref(m);
	clq_event_unref(b);
	clq_event_unref(source);
	clq_event_unref(u);
}
END_TEST

/* An event that has already ended is bridged as such. */
START_TEST(already_complete)
{
	struct clq_event *m, *b;

	ck_assert_ok(clq_queue_enqueue_marker(q1, NULL, 0, &m));
	ck_assert_ok(clq_event_wait(m));
	ck_assert_ok(clq_event_bridge(m, other_ctx, &b));
	ck_assert_ok(clq_event_wait(b));
	ck_assert_int_eq(test_event_status(b), CL_COMPLETE);
	clq_event_unref(b);
	clq_event_unref(m);
}
END_TEST

/* Fewer rounds under valgrind and the sanitizers (CLQ_TEST_QUICK). */
static size_t
quick_or(size_t quick, size_t full)
{
	return getenv("CLQ_TEST_QUICK") ? quick : full;
}

/* A chain of bridges to and fro, and a fan of them off one event. */
START_TEST(many_at_once)
{
	enum { N = 200 };
	const size_t n = quick_or(40, N);
	struct clq_event *u = test_user_event_new(), *chain[N + 1], *fan[N];

	chain[0] = clq_event_ref(u);
	for (size_t i = 0; i < n; i++) {
		struct clq_event *b;

		ck_assert_ok(clq_event_bridge(
			chain[i], i % 2 ? test_ctx : other_ctx, &b));
		/* a marker of that context between bridges */
		ck_assert_ok(clq_queue_enqueue_marker(i % 2 ? q1 : q2, &b, 1,
						      &chain[i + 1]));
		clq_event_unref(b);
		ck_assert_ok(clq_event_bridge(u, other_ctx, &fan[i]));
	}
	ck_assert_ok(clq_user_event_complete(u, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(chain[n]));
	for (size_t i = 0; i < n; i++) {
		ck_assert_ok(clq_event_wait(fan[i]));
		clq_event_unref(fan[i]);
	}
	for (size_t i = 0; i <= n; i++)
		clq_event_unref(chain[i]);
	clq_event_unref(u);
}
END_TEST

/*
 * The caller drops the bridged event before the source ends: a command
 * still waits for it and completes; nothing leaks (valgrind, LSan).
 */
START_TEST(released_before_source)
{
	const int fail = _i;
	struct clq_event *u = test_user_event_new(), *b, *m;

	bridge_with_marker(u, other_ctx, q2, &b, &m);
	clq_event_unref(b);
	ck_assert_int_gt(test_event_status(m), CL_COMPLETE);
	if (fail)
		test_log_expect("the command failed");
	ck_assert_ok(clq_user_event_complete(u, fail ? -5 : CL_COMPLETE));
	ck_assert_int_eq(clq_event_wait(m),
			 fail ? CLQ_ERROR_COMMAND_FAILED : CLQ_SUCCESS);
	clq_event_unref(m);
	/* and one nobody waits for */
	clq_event_unref(u);
	u = test_user_event_new();
	ck_assert_ok(clq_event_bridge(u, other_ctx, &b));
	clq_event_unref(b);
	ck_assert_ok(clq_user_event_complete(u, CL_COMPLETE));
	clq_event_unref(u);
}
END_TEST

/* Threads bridging at once, each a chain of its own. */
#define THREADS 4
static void *
bridge_thread(void *data)
{
	struct clq_event *u = data, *e = clq_event_ref(u);

	for (int i = 0; i < 20; i++) {
		struct clq_event *b;

		ck_assert_ok(
			clq_event_bridge(e, i % 2 ? test_ctx : other_ctx, &b));
		clq_event_unref(e);
		e = b;
	}
	ck_assert_ok(clq_event_wait(e));
	clq_event_unref(e);
	return NULL;
}

START_TEST(threads_bridge_at_once)
{
	pthread_t t[THREADS];
	struct clq_event *u[THREADS];

	for (int i = 0; i < THREADS; i++) {
		u[i] = test_user_event_new();
		ck_assert_int_eq(
			pthread_create(&t[i], NULL, bridge_thread, u[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		ck_assert_ok(clq_user_event_complete(u[i], CL_COMPLETE));
	for (int i = 0; i < THREADS; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		clq_event_unref(u[i]);
	}
}
END_TEST

static Suite *
bridge_suite(void)
{
	Suite *s = suite_create("bridge");
	TCase *tc = tcase_create("bridge");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, bad_input);
	tcase_add_test(tc, same_context);
	tcase_add_loop_test(tc, status_propagates, 0, 8);
	tcase_add_test(tc, already_complete);
	tcase_add_test(tc, many_at_once);
	tcase_add_loop_test(tc, released_before_source, 0, 2);
	tcase_add_test(tc, threads_bridge_at_once);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_main(bridge_suite(), 1);
}
