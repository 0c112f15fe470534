/* SPDX-License-Identifier: BSD-3-Clause */
#include <dlfcn.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"

/*
 * NVIDIA's driver (580.159.04, one H200) shows a command that fails
 * because one before it failed as CL_COMPLETE for up to a microsecond
 * before its negative status: a thread polling such a marker read 0 and
 * then -5 in 247 of 3000 trials; clWaitForEvents() called at the 0 read
 * returned CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST every time (279
 * of 279), and the status read after it was -5. Mimicked here for one
 * event (`early_event`), interposing clGetEventInfo and clWaitForEvents
 * (this executable's definitions come before the ICD loader's for libclq
 * too): its status reads CL_COMPLETE while it has failed, until a wait
 * that includes it.
 */
static _Atomic(cl_event) early_event;
/* Waits that leave it so (a status that has not caught up with the
 * wait's word). */
static atomic_int early_waits_left;
/* Set: the next one-event wait of `early_thread` makes its event
 * `early_event`, left so by that wait (for events made inside a call). */
static atomic_int early_arm;
static pthread_t early_thread;
/* `running_event` reads CL_RUNNING for its next `running_reads_left`
 * status reads. */
static _Atomic(cl_event) running_event;
static atomic_int running_reads_left;
/* Waits made while this thread's `test_in_callback` is set. */
static _Thread_local int test_in_callback;
static atomic_int waits_in_callback;
/* clWaitForEvents() calls of this thread while `count_waits` is set. */
static _Thread_local int count_waits;
static atomic_int waits_counted;
/* clFinish() calls, on any thread. */
static atomic_int finishes;

/* Counts clFinish() calls, and among waits those made in a callback. */
CL_API_ENTRY cl_int CL_API_CALL
clFinish(cl_command_queue queue)
{
	cl_int(CL_API_CALL * real)(cl_command_queue) = NULL;
	void *sym = dlsym(RTLD_NEXT, "clFinish");

	memcpy(&real, &sym, sizeof(real));
	if (test_in_callback)
		atomic_fetch_add(&waits_in_callback, 1);
	atomic_fetch_add(&finishes, 1);
	return real(queue);
}

CL_API_ENTRY cl_int CL_API_CALL
clGetEventInfo(cl_event ev, cl_event_info param, size_t size, void *value,
	       size_t *size_out)
{
	cl_int(CL_API_CALL * real)(cl_event, cl_event_info, size_t, void *,
				   size_t *) = NULL;
	void *sym = dlsym(RTLD_NEXT, "clGetEventInfo");
	cl_int err;

	memcpy(&real, &sym, sizeof(real));
	err = real(ev, param, size, value, size_out);
	if (err == CL_SUCCESS && ev == atomic_load(&running_event) &&
	    param == CL_EVENT_COMMAND_EXECUTION_STATUS && value &&
	    atomic_fetch_sub(&running_reads_left, 1) > 0)
		*(cl_int *)value = CL_RUNNING;
	if (err == CL_SUCCESS && ev == atomic_load(&early_event) &&
	    param == CL_EVENT_COMMAND_EXECUTION_STATUS && value &&
	    *(cl_int *)value < 0)
		*(cl_int *)value = CL_COMPLETE;
	return err;
}

CL_API_ENTRY cl_int CL_API_CALL
clWaitForEvents(cl_uint n, const cl_event *list)
{
	cl_int(CL_API_CALL * real)(cl_uint, const cl_event *) = NULL;
	void *sym = dlsym(RTLD_NEXT, "clWaitForEvents");
	cl_int err;

	memcpy(&real, &sym, sizeof(real));
	if (test_in_callback)
		atomic_fetch_add(&waits_in_callback, 1);
	if (count_waits)
		atomic_fetch_add(&waits_counted, 1);
	if (n == 1 && list && atomic_load(&early_arm) &&
	    pthread_equal(pthread_self(), early_thread) &&
	    atomic_exchange(&early_arm, 0)) {
		atomic_store(&early_waits_left, 1);
		atomic_store(&early_event, list[0]);
	}
	err = real(n, list);
	for (cl_uint i = 0; list && i < n; i++) {
		cl_event ev = list[i];

		if (ev == atomic_load(&early_event) &&
		    atomic_fetch_sub(&early_waits_left, 1) <= 0)
			atomic_compare_exchange_strong(&early_event, &ev, NULL);
	}
	return err;
}

/* A marker on `q` that has failed (behind a user event failed with -5;
 * its own status is -1 on PoCL), its status then read as NVIDIA may show
 * it first. */
static struct clq_event *
failed_marker_read_complete_early(struct clq_queue *q)
{
	struct clq_event *u = test_user_event_new(), *m = NULL;

	ck_assert_ok(clq_queue_enqueue_marker(q, &u, 1, &m));
	test_log_expect("*");
	ck_assert_ok(clq_user_event_complete(u, -5));
	ck_assert_rc(clq_event_wait(m), CLQ_ERROR_COMMAND_FAILED);
	clq_event_unref(u);
	atomic_store(&early_waits_left, 0);
	atomic_store(&early_event, clq_event_get_cl(m));
	return m;
}

START_TEST(user_event_lifecycle)
{
	struct clq_event *u = test_user_event_new();

	ck_assert_int_eq(clq_event_is_user(u), 1);
	ck_assert_int_eq(clq_event_is_profiled(u), 0);
	ck_assert_ptr_eq(clq_event_get_context(u), test_ctx);
	ck_assert_ptr_nonnull(clq_event_get_cl(u));
	ck_assert_int_eq(test_event_status(u), CL_SUBMITTED);
	ck_assert_ok(clq_user_event_complete(u, CL_COMPLETE));
	ck_assert_int_eq(test_event_status(u), CL_COMPLETE);
	ck_assert_ok(clq_event_wait(u));
	clq_event_unref(u);
}
END_TEST

START_TEST(user_event_misuse)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *u = test_user_event_new(), *m = NULL;
	struct clq_event *none = (struct clq_event *)&m;

	test_log_expect("neither CL_COMPLETE nor negative");
	ck_assert_rc(clq_user_event_complete(u, CL_RUNNING),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	ck_assert_int_eq(test_event_status(u), CL_SUBMITTED);

	ck_assert_ok(clq_user_event_complete(u, CL_COMPLETE));
	test_log_expect("already completed");
	ck_assert_rc(clq_user_event_complete(u, CL_COMPLETE),
		     CLQ_ERROR_ALREADY_COMPLETE);
	ck_assert_rc(clq_user_event_complete(u, -5),
		     CLQ_ERROR_ALREADY_COMPLETE);
	ck_assert(test_log_seen());
	ck_assert_int_eq(test_event_status(u), CL_COMPLETE);

	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, &m));
	test_log_expect("not a user event");
	ck_assert_rc(clq_user_event_complete(m, CL_COMPLETE),
		     CLQ_ERROR_NOT_USER_EVENT);
	ck_assert_int_eq(clq_event_is_user(m), 0);

	test_log_expect("is NULL");
	ck_assert_rc(clq_user_event_complete(NULL, 0),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_user_event_create(NULL, &none),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(none);
	ck_assert_rc(clq_user_event_create(test_ctx, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_event_wait(NULL), CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_event_get_status(m, NULL), CLQ_ERROR_INVALID_ARGUMENT);
	clq_event_unref(m);
	clq_event_unref(u);
	clq_event_unref(NULL);
	ck_assert_ptr_null(clq_event_ref(NULL));
	clq_queue_unref(q);
}
END_TEST

START_TEST(failed_user_event_fails_waiters)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *u = test_user_event_new(), *m = NULL;

	ck_assert_ok(clq_queue_enqueue_marker(q, &u, 1, &m));
	ck_assert_ok(clq_queue_flush(q));
	ck_assert_ok(clq_user_event_complete(u, CLQ_ERROR_COMMAND_FAILED));
	test_log_expect("the command failed");
	ck_assert_rc(clq_event_wait(u), CLQ_ERROR_COMMAND_FAILED);
	ck_assert_rc(clq_event_wait(m), CLQ_ERROR_COMMAND_FAILED);
	ck_assert(test_log_seen());
	ck_assert_int_lt(test_event_status(m), 0);
	clq_event_unref(u);
	clq_event_unref(m);
	clq_queue_unref(q);
}
END_TEST

/*
 * The log of a wait on a command failed through its gate names no code
 * that misleads: PoCL gives such a command -1, which as a code reads
 * CL_DEVICE_NOT_FOUND; the gate's own status is named.
 */
START_TEST(failed_waiter_log_does_not_mislead)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *u = test_user_event_new(), *m = NULL;
	char *text;

	ck_assert_ok(clq_queue_enqueue_marker(q, &u, 1, &m));
	ck_assert_ok(clq_queue_flush(q));
	ck_assert_ok(clq_user_event_complete(u, CL_INVALID_VALUE));
	test_log_expect("the command failed");
	ck_assert_rc(clq_event_wait(m), CLQ_ERROR_COMMAND_FAILED);
	ck_assert(test_log_seen());
	text = strdup(test_log_text());
	ck_assert_msg(!strstr(text, "CL_DEVICE_NOT_FOUND"), "logged: %s", text);
	if (test_event_status(m) == CL_DEVICE_NOT_FOUND)
		ck_assert_msg(strstr(text, "(execution status -1)"),
			      "logged: %s", text);
	free(text);
	test_log_expect("the command failed");
	ck_assert_rc(clq_event_wait(u), CLQ_ERROR_COMMAND_FAILED);
	ck_assert_msg(strstr(test_log_text(), "CL_INVALID_VALUE"), "logged: %s",
		      test_log_text());
	clq_event_unref(u);
	clq_event_unref(m);
	clq_queue_unref(q);
}
END_TEST

/*
 * Failed user events and PoCL 3.1 (DESIGN.md, "Driver faults"): a failure
 * that reaches a command whose event nobody holds aborts the process
 * (pocl_update_event_failed); clq keeps such events itself (failsafe.c).
 * Each test below aborted before that route.
 */

/* A waiter's status once its gate failed: failed, or (some drivers) run. */
static void
assert_failed_or_done(struct clq_event *e)
{
	int rc = clq_event_wait(e);

	ck_assert_msg(rc == CLQ_SUCCESS || rc == CLQ_ERROR_COMMAND_FAILED,
		      "wait returned %s", clq_error_name(rc));
}

START_TEST(failure_through_wait_for_events)
{
	struct clq_queue *a = test_queue_new(0), *b = test_queue_new(0);
	struct clq_event *u = test_user_event_new(), *marker, *mine;

	ck_assert_ok(clq_queue_enqueue_marker(a, &u, 1, &marker));
	ck_assert_ok(clq_queue_enqueue_wait_for_events(b, &marker, 1));
	ck_assert_ok(clq_queue_enqueue_marker(b, NULL, 0, &mine));
	test_log_expect("*");
	ck_assert_ok(clq_user_event_complete(u, CL_INVALID_VALUE));
	assert_failed_or_done(mine);
	ck_assert_rc(clq_event_wait(marker), CLQ_ERROR_COMMAND_FAILED);
	clq_event_unref(mine);
	clq_event_unref(marker);
	clq_event_unref(u);
	clq_queue_unref(b);
	clq_queue_unref(a);
}
END_TEST

/* Waiters without an event: direct, through queue order, dropped early. */
START_TEST(failure_reaches_commands_nobody_holds)
{
	struct clq_queue *a = test_queue_new(0), *b = test_queue_new(0);
	struct clq_event *u = test_user_event_new(), *held, *dropped, *last;

	ck_assert_ok(clq_queue_enqueue_marker(a, &u, 1, NULL));
	ck_assert_ok(clq_queue_enqueue_barrier(b, &u, 1, &dropped));
	clq_event_unref(dropped);
	ck_assert_ok(clq_queue_enqueue_marker(b, &u, 1, &held));
	ck_assert_ok(clq_queue_enqueue_marker(b, NULL, 0, NULL));
	ck_assert_ok(clq_queue_enqueue_barrier(a, NULL, 0, NULL));
	ck_assert_ok(clq_queue_flush(a));
	ck_assert_ok(clq_queue_flush(b));
	test_sleep_ms(20);
	test_log_expect("*");
	ck_assert_ok(clq_user_event_complete(u, CL_INVALID_VALUE));
	ck_assert_rc(clq_event_wait(held), CLQ_ERROR_COMMAND_FAILED);
	ck_assert_ok(clq_queue_enqueue_marker(a, NULL, 0, &last));
	assert_failed_or_done(last);
	clq_event_unref(last);
	clq_event_unref(held);
	clq_event_unref(u);
	clq_queue_unref(b);
	clq_queue_unref(a);
}
END_TEST

/* An abandoned user event fails with CLQ_ERROR_ABANDONED: same route. */
START_TEST(abandoned_gate_with_unheld_waiters)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *u = test_user_event_new(), *last;

	ck_assert_ok(clq_queue_enqueue_wait_for_events(q, &u, 1));
	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, NULL));
	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, &last));
	test_log_expect("*");
	clq_event_unref(u);
	assert_failed_or_done(last);
	clq_event_unref(last);
	clq_queue_unref(q);
}
END_TEST

/*
 * PoCL 3.1 never runs a command whose wait list holds an event that has
 * already failed; clq makes it fail instead, and the queue goes on.
 */
/* clq_event_wait() waits once: the status read after its wait needs no
 * wait of its own to confirm CL_COMPLETE (it made a second one). */
START_TEST(wait_waits_once)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *m = NULL;
	int waits;

	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, &m));
	ck_assert_ok(clq_event_wait(m));
	atomic_store(&waits_counted, 0);
	count_waits = 1;
	ck_assert_ok(clq_event_wait(m));
	count_waits = 0;
	waits = atomic_load(&waits_counted);
	ck_assert_int_eq(waits, 1);
	clq_event_unref(m);
	clq_queue_unref(q);
}
END_TEST

START_TEST(waiting_for_an_already_failed_event)
{
	struct clq_queue *a = test_queue_new(0), *b = test_queue_new(0);
	struct clq_event *u = test_user_event_new(), *marker, *waiter, *next;
	struct clq_event *on_user;

	ck_assert_ok(clq_queue_enqueue_marker(a, &u, 1, &marker));
	test_log_expect("*");
	ck_assert_ok(clq_user_event_complete(u, CL_INVALID_VALUE));
	ck_assert_rc(clq_event_wait(marker), CLQ_ERROR_COMMAND_FAILED);

	ck_assert_ok(clq_queue_enqueue_marker(b, &marker, 1, &waiter));
	ck_assert_rc(clq_event_wait(waiter), CLQ_ERROR_COMMAND_FAILED);
	ck_assert_int_lt(test_event_status(waiter), 0);
	ck_assert_ok(clq_queue_enqueue_marker(b, &u, 1, &on_user));
	ck_assert_rc(clq_event_wait(on_user), CLQ_ERROR_COMMAND_FAILED);
	ck_assert_ok(clq_queue_enqueue_wait_for_events(b, &marker, 1));
	ck_assert_ok(clq_queue_enqueue_marker(b, NULL, 0, &next));
	assert_failed_or_done(next);
	ck_assert_ok(clq_queue_finish(b));
	clq_event_unref(next);
	clq_event_unref(on_user);
	clq_event_unref(waiter);
	clq_event_unref(marker);
	clq_event_unref(u);
	clq_queue_unref(b);
	clq_queue_unref(a);
}
END_TEST

/*
 * A command failed through queue order while a user event it waits for
 * is still pending stays on that event's waiter list in PoCL 3.1: its
 * kept event must outlive the completion of that user event (released
 * earlier, PoCL read freed memory or aborted in pocl_lock_events_inorder;
 * valgrind shows it every time).
 */
START_TEST(failed_through_queue_order_kept_until_gates_end)
{
	struct clq_queue *q = test_queue_new(0);

	test_log_expect("*");
	for (int round = 0; round < 20; round++) {
		struct clq_event *u0 = test_user_event_new();
		struct clq_event *u1 = test_user_event_new();

		ck_assert_ok(clq_queue_enqueue_marker(q, &u0, 1, NULL));
		ck_assert_ok(clq_queue_enqueue_marker(q, &u1, 1, NULL));
		ck_assert_ok(clq_user_event_complete(u0, -5));
		ck_assert_ok(clq_user_event_complete(u1, CL_COMPLETE));
		clq_event_unref(u0);
		clq_event_unref(u1);
	}
	clq_queue_finish(q);
	clq_queue_unref(q);
}
END_TEST

/* Many commands held behind a gate, then many after it: all complete and
 * the context lets go of every kept event (valgrind checks the rest). */
START_TEST(kept_events_are_released)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *u = test_user_event_new(), *last;

	for (int i = 0; i < 500; i++)
		ck_assert_ok(clq_queue_enqueue_marker(q, &u, 1, NULL));
	ck_assert_ok(clq_user_event_complete(u, CL_COMPLETE));
	clq_event_unref(u);
	u = test_user_event_new();
	for (int i = 0; i < 500; i++)
		ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, NULL));
	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, &last));
	ck_assert_ok(clq_event_wait(last));
	ck_assert_ok(clq_user_event_complete(u, CL_COMPLETE));
	clq_event_unref(last);
	clq_event_unref(u);
	clq_queue_unref(q);
}
END_TEST

START_TEST(events_wait_waits_for_all)
{
	struct clq_event *ok = test_user_event_new(),
			 *bad = test_user_event_new();
	struct clq_event *both[] = {bad, ok};

	ck_assert_ok(clq_events_wait(NULL, 0));
	ck_assert_ok(clq_user_event_complete(ok, CL_COMPLETE));
	ck_assert_ok(clq_events_wait(&ok, 1));
	ck_assert_ok(clq_user_event_complete(bad, -1));
	test_log_expect("the command failed");
	ck_assert_rc(clq_events_wait(both, 2), CLQ_ERROR_COMMAND_FAILED);

	test_log_expect("is NULL");
	ck_assert_rc(clq_events_wait(NULL, 1), CLQ_ERROR_INVALID_ARGUMENT);
	both[1] = NULL;
	ck_assert_rc(clq_events_wait(both, 2), CLQ_ERROR_INVALID_ARGUMENT);
	clq_event_unref(ok);
	clq_event_unref(bad);
}
END_TEST

/* Dropping the last reference to a pending user event fails it, so the
 * commands waiting for it end instead of hanging. */
START_TEST(abandoned_user_event_fails_waiters)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *u = test_user_event_new(), *m = NULL;

	ck_assert_ok(clq_queue_enqueue_marker(q, &u, 1, &m));
	clq_event_unref(u);
	test_log_expect("the command failed");
	ck_assert_rc(clq_event_wait(m), CLQ_ERROR_COMMAND_FAILED);
	ck_assert_int_lt(test_event_status(m), 0);
	clq_event_unref(m);
	clq_queue_unref(q);
}
END_TEST

START_TEST(marker_times_on_profiling_queue)
{
	struct clq_queue *q = test_queue_new(CLQ_QUEUE_PROFILING);
	struct clq_event *a = NULL, *b = NULL;
	struct clq_event_times ta, tb;
	double since, till;

	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, &a));
	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, &b));
	ck_assert_int_eq(clq_event_is_profiled(a), 1);
	ck_assert_ok(clq_event_time_since(b, a, &since));
	ck_assert_ok(clq_event_time_till(a, b, &till));
	ck_assert_ok(clq_event_get_times(a, &ta));
	ck_assert_ok(clq_event_get_times(b, &tb));

	/* Raw times are ordered, and the in-order queue ran a before b. */
	ck_assert_uint_le(ta.queued, ta.submit);
	ck_assert_uint_le(ta.submit, ta.start);
	ck_assert_uint_le(ta.start, ta.end);
	ck_assert_uint_le(tb.start, tb.end);
	ck_assert_uint_ge(tb.start, ta.end);
	ck_assert_uint_gt(ta.start, 0);

	ck_assert_double_ge(since, 0.0);
	ck_assert_double_eq(since, (double)(tb.start - ta.end) * 1e-9);
	ck_assert_double_eq(till, since);
	clq_event_unref(a);
	clq_event_unref(b);
	clq_queue_unref(q);
}
END_TEST

START_TEST(time_since_measures_a_host_delay)
{
	struct clq_queue *q = test_queue_new(CLQ_QUEUE_PROFILING);
	struct clq_event *u = test_user_event_new(), *a = NULL, *b = NULL;
	double gap = 0;
	int rc;

	/* a ends; b waits for u, which the host completes 50 ms later. */
	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, &a));
	ck_assert_ok(clq_event_wait(a));
	ck_assert_ok(clq_queue_enqueue_marker(q, &u, 1, &b));
	ck_assert_ok(clq_queue_flush(q));
	test_sleep_ms(50);
	ck_assert_ok(clq_user_event_complete(u, CL_COMPLETE));
	/* NVIDIA's driver reports zero timestamps for a marker that waited
	 * for a user event: clq must then refuse, not invent a number. PoCL
	 * reports real ones, and must give the delay. */
	test_log_expect("unusable timestamps");
	rc = clq_event_time_since(b, a, &gap);
	if (rc == CLQ_ERROR_TIMING_UNAVAILABLE) {
		ck_assert_ptr_null(
			strstr(clq_device_get_platform_name(
				       clq_context_get_device(test_ctx)),
			       "Portable Computing Language"));
	} else {
		ck_assert_ok(rc);
		ck_assert_double_ge(gap, 0.045);
		ck_assert_double_lt(gap, 10.0);
	}
	clq_event_unref(u);
	clq_event_unref(a);
	clq_event_unref(b);
	clq_queue_unref(q);
}
END_TEST

START_TEST(timing_without_profiling)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *a = NULL, *b = NULL, *u = test_user_event_new();
	struct clq_event_times t;
	double s = 12.5;

	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, &a));
	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, &b));
	ck_assert_int_eq(clq_event_is_profiled(a), 0);
	/* Each function's message names that function. */
	test_log_expect("clq_event_time_since: the event is not from a "
			"profiling queue");
	ck_assert_rc(clq_event_time_since(b, a, &s),
		     CLQ_ERROR_PROFILING_DISABLED);
	ck_assert(test_log_seen());
	test_log_expect("clq_event_time_till: the event is not from a "
			"profiling queue");
	ck_assert_rc(clq_event_time_till(a, b, &s),
		     CLQ_ERROR_PROFILING_DISABLED);
	ck_assert(test_log_seen());
	test_log_expect("clq_event_get_times: the event is not from a "
			"profiling queue");
	ck_assert_rc(clq_event_get_times(a, &t), CLQ_ERROR_PROFILING_DISABLED);
	ck_assert_ok(clq_user_event_complete(u, CL_COMPLETE));
	ck_assert_rc(clq_event_get_times(u, &t), CLQ_ERROR_PROFILING_DISABLED);
	ck_assert(test_log_seen());
	ck_assert_double_eq(s, 12.5);

	test_log_expect("is NULL");
	ck_assert_rc(clq_event_time_since(b, NULL, &s),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_event_time_since(b, a, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_event_get_times(a, NULL), CLQ_ERROR_INVALID_ARGUMENT);
	clq_event_unref(a);
	clq_event_unref(b);
	clq_event_unref(u);
	clq_queue_unref(q);
}
END_TEST

START_TEST(timing_a_failed_command)
{
	struct clq_queue *q = test_queue_new(CLQ_QUEUE_PROFILING);
	struct clq_event *u = test_user_event_new(), *m = NULL;
	struct clq_event_times t;

	ck_assert_ok(clq_queue_enqueue_marker(q, &u, 1, &m));
	ck_assert_ok(clq_user_event_complete(u, -1));
	test_log_expect("the command failed");
	ck_assert_rc(clq_event_get_times(m, &t), CLQ_ERROR_COMMAND_FAILED);
	clq_event_unref(u);
	clq_event_unref(m);
	clq_queue_unref(q);
}
END_TEST

START_TEST(time_since_across_contexts)
{
	struct clq_context *other = NULL;
	struct clq_queue *q = test_queue_new(CLQ_QUEUE_PROFILING), *q2 = NULL;
	struct clq_event *a = NULL, *b = NULL;
	double s;

	ck_assert_ok(
		clq_context_create(clq_context_get_device(test_ctx), &other));
	ck_assert_ok(clq_queue_create(other, CLQ_QUEUE_PROFILING, &q2));
	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, &a));
	ck_assert_ok(clq_queue_enqueue_marker(q2, NULL, 0, &b));
	test_log_expect("different contexts");
	ck_assert_rc(clq_event_time_since(b, a, &s),
		     CLQ_ERROR_CONTEXT_MISMATCH);
	ck_assert(test_log_seen());
	clq_event_unref(a);
	clq_event_unref(b);
	clq_queue_unref(q);
	clq_queue_unref(q2);
	clq_context_unref(other);
}
END_TEST

/* What a callback saw, handed back to the test thread. */
struct sighting {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int calls;
	int status;
	struct clq_context *ctx;
};

static void
sighting_init(struct sighting *s)
{
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->calls = 0;
	s->status = 99;
	s->ctx = NULL;
}

static void
sighting_destroy(struct sighting *s)
{
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
}

static void
on_complete(struct clq_event *event, int status, void *user_data)
{
	struct sighting *s = user_data;

	pthread_mutex_lock(&s->lock);
	s->calls++;
	s->status = status;
	s->ctx = clq_event_get_context(event);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* Waits up to 10 s for `calls` callbacks; returns how many came. */
static int
await_calls(struct sighting *s, int calls)
{
	struct timespec deadline;
	int seen;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 10;
	pthread_mutex_lock(&s->lock);
	while (s->calls < calls &&
	       pthread_cond_timedwait(&s->cond, &s->lock, &deadline) == 0)
		;
	seen = s->calls;
	pthread_mutex_unlock(&s->lock);
	return seen;
}

START_TEST(callback_runs_once_on_completion)
{
	struct clq_event *u = test_user_event_new();
	struct sighting s;

	sighting_init(&s);
	ck_assert_ok(clq_event_set_callback(u, on_complete, &s));
	test_sleep_ms(20);
	ck_assert_int_eq(await_calls(&s, 0), 0);
	ck_assert_ok(clq_user_event_complete(u, CL_COMPLETE));
	ck_assert_int_eq(await_calls(&s, 1), 1);
	ck_assert_int_eq(s.status, CL_COMPLETE);
	ck_assert_ptr_eq(s.ctx, test_ctx);
	test_sleep_ms(20);
	ck_assert_int_eq(await_calls(&s, 1), 1);
	clq_event_unref(u);
	sighting_destroy(&s);
}
END_TEST

START_TEST(callback_sees_failure)
{
	struct clq_event *u = test_user_event_new();
	struct sighting s;

	sighting_init(&s);
	ck_assert_ok(clq_event_set_callback(u, on_complete, &s));
	ck_assert_ok(clq_user_event_complete(u, -42));
	ck_assert_int_eq(await_calls(&s, 1), 1);
	ck_assert_int_eq(s.status, -42);
	clq_event_unref(u);
	sighting_destroy(&s);
}
END_TEST

/* The callback holds the event: the caller may drop it at once. */
START_TEST(callback_outlives_callers_reference)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *u = test_user_event_new(), *m = NULL;
	struct sighting s;

	sighting_init(&s);
	ck_assert_ok(clq_queue_enqueue_marker(q, &u, 1, &m));
	ck_assert_ok(clq_event_set_callback(m, on_complete, &s));
	clq_event_unref(m);
	ck_assert_ok(clq_user_event_complete(u, CL_COMPLETE));
	ck_assert_int_eq(await_calls(&s, 1), 1);
	ck_assert_int_eq(s.status, CL_COMPLETE);
	ck_assert_ptr_eq(s.ctx, test_ctx);
	ck_assert_ok(clq_queue_finish(q));
	clq_event_unref(u);
	clq_queue_unref(q);
	sighting_destroy(&s);
}
END_TEST

START_TEST(callback_on_completed_event)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *m = NULL;
	struct sighting s;

	sighting_init(&s);
	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, &m));
	ck_assert_ok(clq_event_wait(m));
	ck_assert_ok(clq_event_set_callback(m, on_complete, &s));
	ck_assert_ok(clq_event_set_callback(m, on_complete, &s));
	ck_assert_int_eq(await_calls(&s, 2), 2);
	ck_assert_int_eq(s.status, CL_COMPLETE);

	test_log_expect("is NULL");
	ck_assert_rc(clq_event_set_callback(m, NULL, &s),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_event_set_callback(NULL, on_complete, &s),
		     CLQ_ERROR_INVALID_ARGUMENT);
	clq_event_unref(m);
	clq_queue_unref(q);
	sighting_destroy(&s);
}
END_TEST

/* A pending callback does not keep an unheld user event from failing. */
START_TEST(callback_on_abandoned_user_event)
{
	struct clq_event *u = test_user_event_new();
	struct sighting s;

	sighting_init(&s);
	ck_assert_ok(clq_event_set_callback(u, on_complete, &s));
	clq_event_unref(u);
	ck_assert_int_eq(await_calls(&s, 1), 1);
	ck_assert_int_eq(s.status, CLQ_ERROR_ABANDONED);
	sighting_destroy(&s);
}
END_TEST

/*
 * Command events are recycled (a cache per thread, lib/event.c): a reused
 * one must carry nothing of its previous life. The cache is LIFO, so the
 * next event made on this thread takes the memory of the one just dropped.
 */
START_TEST(recycled_events_start_fresh)
{
	struct clq_queue *p = test_queue_new(CLQ_QUEUE_PROFILING);
	struct clq_queue *q = test_queue_new(0);
	struct clq_context *other = NULL;
	struct clq_queue *oq = NULL;
	struct clq_event *e = NULL, *f = NULL;
	struct clq_event_times t;

	ck_assert_ok(
		clq_context_create(clq_context_get_device(test_ctx), &other));
	ck_assert_ok(clq_queue_create(other, CLQ_QUEUE_PROFILING, &oq));
	ck_assert_ok(clq_queue_enqueue_marker(oq, NULL, 0, &e));
	ck_assert_ok(clq_event_wait(e));
	clq_event_unref(e);
	clq_queue_unref(oq);
	clq_context_unref(other); /* freed once its events are */

	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, &f));
	ck_assert_ptr_eq(clq_event_get_context(f), test_ctx);
	ck_assert_int_eq(clq_event_is_profiled(f), 0);
	ck_assert_int_eq(clq_event_is_user(f), 0);
	test_log_expect("not from a profiling queue");
	ck_assert_rc(clq_event_get_times(f, &t), CLQ_ERROR_PROFILING_DISABLED);
	/* It waits and is waited for as an event of this context. */
	ck_assert_ok(clq_queue_enqueue_marker(p, &f, 1, &e));
	ck_assert_ok(clq_event_wait(e));
	ck_assert_int_eq(clq_event_is_profiled(e), 1);
	clq_event_unref(f);
	clq_event_unref(e);
	clq_queue_unref(p);
	clq_queue_unref(q);
}
END_TEST

enum { HANDED_OVER = 300 }; /* more than a thread's cache keeps */

struct handover {
	struct clq_queue *q;
	struct clq_event *events[HANDED_OVER];
	int rc;
};

/* Makes events for another thread to drop, and drops as many itself, then
 * exits with a full cache (freed by its key destructor: valgrind and LSan
 * report the events as lost otherwise). */
static void *
make_and_drop(void *data)
{
	struct handover *h = data;

	for (int i = 0; i < HANDED_OVER && h->rc == CLQ_SUCCESS; i++)
		h->rc = clq_queue_enqueue_marker(h->q, NULL, 0, &h->events[i]);
	for (int i = 0; i < HANDED_OVER && h->rc == CLQ_SUCCESS; i++) {
		struct clq_event *mine = NULL;

		h->rc = clq_queue_enqueue_marker(h->q, NULL, 0, &mine);
		clq_event_unref(mine);
	}
	return NULL;
}

START_TEST(events_cross_threads_and_caches)
{
	struct handover h = {test_queue_new(0), {NULL}, CLQ_SUCCESS};
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, make_and_drop, &h), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_ok(h.rc);
	ck_assert_ok(clq_events_wait(h.events, HANDED_OVER));
	for (int i = 0; i < HANDED_OVER; i++)
		clq_event_unref(h.events[i]);
	ck_assert_ok(clq_queue_finish(h.q));
	clq_queue_unref(h.q);
}
END_TEST

/*
 * The callback of a failed command gets its failure, whatever the driver
 * passes: NVIDIA passes CL_COMPLETE to the callbacks of failed commands,
 * PoCL 3.1 to a callback registered on a command that has failed.
 */
START_TEST(callback_on_failed_command)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *u = test_user_event_new(), *m = NULL;
	struct sighting s;

	sighting_init(&s);
	ck_assert_ok(clq_queue_enqueue_marker(q, &u, 1, &m));
	test_log_expect("*");
	ck_assert_ok(clq_user_event_complete(u, -5));
	ck_assert_rc(clq_event_wait(m), CLQ_ERROR_COMMAND_FAILED);
	ck_assert_ok(clq_event_set_callback(m, on_complete, &s));
	ck_assert_int_eq(await_calls(&s, 1), 1);
	ck_assert_int_lt(s.status, 0);
	clq_event_unref(m);
	clq_event_unref(u);
	clq_queue_unref(q);
	sighting_destroy(&s);
}
END_TEST

/* A host array to release in a callback, and the sighting of that. */
struct release {
	struct clq_host_array *array;
	struct sighting done;
};

/* Drops the last reference of the host array (allowed in a callback),
 * noting the waits that makes, then counts as a sighting. */
static void
release_host_array(struct clq_event *event, int status, void *data)
{
	struct release *r = data;

	test_in_callback = 1;
	clq_host_array_unref(r->array);
	test_in_callback = 0;
	atomic_store(&running_event, NULL);
	on_complete(event, status, &r->done);
}

/*
 * A callback may drop a host array's last reference; the release reads
 * the status of a transfer that was pending a moment before (here: read
 * once as running) and has completed. It does not wait for it there
 * (clWaitForEvents in a callback is undefined, OpenCL 1.2 section 5.9),
 * as the confirmation of a CL_COMPLETE read would.
 */
START_TEST(host_array_released_in_a_callback)
{
	const size_t n = 16;
	struct clq_queue *q = test_queue_new(0);
	struct clq_device_array *a = NULL;
	struct release r = {.array = NULL};
	struct clq_event *t = NULL, *m = NULL;

	sighting_init(&r.done);
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_INT32, 1, &n,
					     NULL, &a));
	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_INT32, 1, &n,
					   NULL, &r.array));
	ck_assert_ok(clq_device_array_get_async(a, q, r.array, NULL, 0, &t));
	ck_assert_ok(clq_event_wait(t));
	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, &m));
	ck_assert_ok(clq_event_wait(m));
	atomic_store(&waits_in_callback, 0);
	atomic_store(&running_reads_left, 1);
	atomic_store(&running_event, clq_event_get_cl(t));
	ck_assert_ok(clq_event_set_callback(m, release_host_array, &r));
	ck_assert_int_eq(await_calls(&r.done, 1), 1);
	ck_assert_int_le(atomic_load(&running_reads_left), 0);
	ck_assert_int_eq(atomic_load(&waits_in_callback), 0);
	clq_event_unref(m);
	clq_event_unref(t);
	clq_device_array_unref(a);
	clq_queue_unref(q);
	sighting_destroy(&r.done);
}
END_TEST

/*
 * A mapped host array whose last reference a callback drops, with no
 * transfer pending: it is freed on clq's own thread, where its unmap
 * calls clFinish (undefined in a callback; it was freed in the callback).
 */
START_TEST(host_array_freed_off_the_callback)
{
	const size_t n = 16;
	struct clq_queue *q = test_queue_new(0);
	const char *forced = getenv("CLQ_HOST_ARRAY_STRATEGY");
	char *old = forced ? strdup(forced) : NULL;
	struct release r = {.array = NULL};
	struct clq_event *m = NULL;

	sighting_init(&r.done);
	ck_assert_int_eq(setenv("CLQ_HOST_ARRAY_STRATEGY", "mapped", 1), 0);
	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_INT32, 1, &n,
					   NULL, &r.array));
	if (old)
		setenv("CLQ_HOST_ARRAY_STRATEGY", old, 1);
	else
		unsetenv("CLQ_HOST_ARRAY_STRATEGY");
	free(old);
	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, &m));
	ck_assert_ok(clq_event_wait(m));
	atomic_store(&waits_in_callback, 0);
	atomic_store(&finishes, 0);
	ck_assert_ok(clq_event_set_callback(m, release_host_array, &r));
	ck_assert_int_eq(await_calls(&r.done, 1), 1);
	ck_assert_int_eq(atomic_load(&waits_in_callback), 0);
	for (int waited = 0; waited < 10000 && !atomic_load(&finishes);
	     waited += 10)
		test_sleep_ms(10);
	ck_assert_int_ge(atomic_load(&finishes), 1); /* freed after all */
	clq_event_unref(m);
	clq_queue_unref(q);
	sighting_destroy(&r.done);
}
END_TEST

/* A status read never says CL_COMPLETE for a command that has failed. */
START_TEST(status_of_failure_shown_complete_early)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *m = failed_marker_read_complete_early(q);
	int status = 99;

	ck_assert_ok(clq_event_get_status(m, &status));
	ck_assert_int_lt(status, 0);
	ck_assert_ptr_null(atomic_load(&early_event));
	/* Still CL_COMPLETE after the wait that says it failed: the wait's
	 * word. */
	atomic_store(&early_waits_left, 1);
	atomic_store(&early_event, clq_event_get_cl(m));
	ck_assert_ok(clq_event_get_status(m, &status));
	ck_assert_int_eq(status, CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST);
	atomic_store(&early_event, NULL);
	clq_event_unref(m);
	clq_queue_unref(q);
}
END_TEST

/* A bridge passes the failure on (its hook reads the status at once for
 * a command that has ended). */
START_TEST(bridge_of_failure_shown_complete_early)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_context *other = NULL;
	struct clq_event *m = failed_marker_read_complete_early(q), *b = NULL;
	int status = 99;

	ck_assert_ok(
		clq_context_create(clq_context_get_device(test_ctx), &other));
	ck_assert_ok(clq_event_bridge(m, other, &b));
	ck_assert_rc(clq_event_wait(b), CLQ_ERROR_COMMAND_FAILED);
	ck_assert_ok(clq_event_get_status(b, &status));
	ck_assert_int_lt(status, 0);
	clq_event_unref(b);
	clq_event_unref(m);
	clq_context_unref(other);
	clq_queue_unref(q);
}
END_TEST

/* Fails the user event once the main thread blocks. */
static void *
fail_gate_later(void *data)
{
	test_sleep_ms(100);
	ck_assert_ok(clq_user_event_complete(data, -5));
	return NULL;
}

/*
 * A blocking transfer whose command fails returns the failure, though
 * the status read after its wait shows CL_COMPLETE: the wait's word
 * (CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST) stands.
 */
START_TEST(blocking_transfer_of_failure_shown_complete_early)
{
	const size_t n = 16;
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *u = test_user_event_new(), *gate = NULL;
	struct clq_device_array *a = NULL;
	struct clq_host_array *h = NULL;
	pthread_t t;
	int rc;

	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_INT32, 1, &n,
					     NULL, &a));
	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_INT32, 1, &n,
					   NULL, &h));
	ck_assert_ok(clq_queue_enqueue_marker(q, &u, 1, &gate));
	ck_assert_int_eq(pthread_create(&t, NULL, fail_gate_later, u), 0);
	test_log_expect("*");
	early_thread = pthread_self();
	atomic_store(&early_arm, 1);
	rc = clq_device_array_get(a, q, h);
	atomic_store(&early_arm, 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	atomic_store(&early_event, NULL);
	ck_assert_msg(rc == CLQ_ERROR_COMMAND_FAILED, "got %s",
		      clq_error_name(rc));
	clq_event_wait(gate);
	test_log_expect(NULL);
	clq_event_unref(gate);
	clq_event_unref(u);
	clq_host_array_unref(h);
	clq_device_array_unref(a);
	clq_queue_unref(q);
}
END_TEST

/*
 * A wait that says the command failed marks nothing seen for ordering,
 * though its status still reads CL_COMPLETE: marker `m`, behind a held
 * write `w` on its queue, fails through a user event; had the host seen
 * `m` end, it would take `w` for done too, and CHECK would let a read of
 * its buffer on another queue race with it.
 */
START_TEST(failed_wait_of_failure_shown_complete_early)
{
	const size_t n = 16;
	struct clq_queue *q = test_queue_new(0), *qb = test_queue_new(0);
	struct clq_event *g = test_user_event_new(), *u = test_user_event_new();
	struct clq_event *w = NULL, *m = NULL;
	struct clq_device_array *a = NULL;
	struct clq_host_array *h = NULL;

	ck_assert_ok(clq_context_set_ordering(test_ctx, CLQ_ORDERING_CHECK));
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_INT32, 1, &n,
					     NULL, &a));
	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_INT32, 1, &n,
					   NULL, &h));
	ck_assert_ok(clq_device_array_set_async(a, q, h, &g, 1, &w));
	ck_assert_ok(clq_queue_enqueue_marker(q, &u, 1, &m));
	test_log_expect("*");
	ck_assert_ok(clq_user_event_complete(u, -5));
	if (strstr(clq_device_get_platform_name(
			   clq_context_get_device(test_ctx)),
		   "NVIDIA")) {
		/* NVIDIA holds `m` until `w` has ended: no race */
		ck_assert_ok(clq_user_event_complete(g, CL_COMPLETE));
		ck_assert_rc(clq_event_wait(m), CLQ_ERROR_COMMAND_FAILED);
		goto done;
	}
	while (test_event_status(m) > CL_COMPLETE) /* the test's timeout */
		test_sleep_ms(1);
	atomic_store(&early_waits_left, 1);
	atomic_store(&early_event, clq_event_get_cl(m));
	ck_assert_rc(clq_event_wait(m), CLQ_ERROR_COMMAND_FAILED);
	atomic_store(&early_event, NULL);
	ck_assert_int_gt(test_event_status(w), CL_COMPLETE); /* held */
	ck_assert_rc(clq_device_array_get(a, qb, h), CLQ_ERROR_HAZARD);
	ck_assert_ok(clq_user_event_complete(g, CL_COMPLETE));
done:
	ck_assert_ok(clq_event_wait(w));
	test_log_expect(NULL);
	clq_event_unref(w);
	clq_event_unref(m);
	clq_event_unref(g);
	clq_event_unref(u);
	clq_host_array_unref(h);
	clq_device_array_unref(a);
	clq_queue_unref(q);
	clq_queue_unref(qb);
}
END_TEST

/* A notifier's poll delivers the failure. */
START_TEST(poll_of_failure_shown_complete_early)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *m = failed_marker_read_complete_early(q);
	struct clq_notifier *n = NULL;
	struct clq_completion c;
	struct pollfd p;
	size_t got = 0;

	ck_assert_ok(clq_notifier_create_polling(0.0005, &n));
	ck_assert_ok(clq_notifier_watch(n, m, NULL));
	p = (struct pollfd){.fd = clq_notifier_get_fd(n), .events = POLLIN};
	ck_assert_int_eq(poll(&p, 1, 10000), 1);
	ck_assert_ok(clq_notifier_drain(n, &c, 1, &got));
	ck_assert_uint_eq(got, 1);
	ck_assert_ptr_eq(c.event, m);
	ck_assert_int_lt(c.status, 0);
	clq_event_unref(c.event);
	clq_notifier_unref(n);
	clq_event_unref(m);
	clq_queue_unref(q);
}
END_TEST

static Suite *
event_suite(void)
{
	Suite *s = suite_create("event");
	TCase *tc = tcase_create("user");

	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, user_event_lifecycle);
	tcase_add_test(tc, user_event_misuse);
	tcase_add_test(tc, failed_user_event_fails_waiters);
	tcase_add_test(tc, failed_waiter_log_does_not_mislead);
	tcase_add_test(tc, events_wait_waits_for_all);
	tcase_add_test(tc, abandoned_user_event_fails_waiters);
	tcase_add_test(tc, recycled_events_start_fresh);
	tcase_add_test(tc, events_cross_threads_and_caches);
	suite_add_tcase(s, tc);

	tc = tcase_create("driver faults");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, failure_through_wait_for_events);
	tcase_add_test(tc, failure_reaches_commands_nobody_holds);
	tcase_add_test(tc, abandoned_gate_with_unheld_waiters);
	tcase_add_test(tc, wait_waits_once);
	tcase_add_test(tc, waiting_for_an_already_failed_event);
	tcase_add_test(tc, kept_events_are_released);
	tcase_add_test(tc, failed_through_queue_order_kept_until_gates_end);
	suite_add_tcase(s, tc);

	tc = tcase_create("timing");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, marker_times_on_profiling_queue);
	tcase_add_test(tc, time_since_measures_a_host_delay);
	tcase_add_test(tc, timing_without_profiling);
	tcase_add_test(tc, timing_a_failed_command);
	tcase_add_test(tc, time_since_across_contexts);
	suite_add_tcase(s, tc);

	tc = tcase_create("callbacks");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, callback_runs_once_on_completion);
	tcase_add_test(tc, callback_sees_failure);
	tcase_add_test(tc, callback_outlives_callers_reference);
	tcase_add_test(tc, callback_on_completed_event);
	tcase_add_test(tc, callback_on_abandoned_user_event);
	tcase_add_test(tc, callback_on_failed_command);
	tcase_add_test(tc, host_array_released_in_a_callback);
	tcase_add_test(tc, host_array_freed_off_the_callback);
	suite_add_tcase(s, tc);

	tc = tcase_create("failure shown complete early");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, status_of_failure_shown_complete_early);
	tcase_add_test(tc, bridge_of_failure_shown_complete_early);
	tcase_add_test(tc, poll_of_failure_shown_complete_early);
	tcase_add_test(tc, blocking_transfer_of_failure_shown_complete_early);
	tcase_add_test(tc, failed_wait_of_failure_shown_complete_early);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_main(event_suite(), 1);
}
