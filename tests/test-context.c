/* SPDX-License-Identifier: BSD-3-Clause */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"

START_TEST(create_on_device)
{
	struct clq_device *device = NULL;
	struct clq_context *ctx = NULL;
	cl_uint n_devices = 0;

	ck_assert_ok(clq_device_select(test_device_spec(), &device));
	ck_assert_ok(clq_context_create(device, &ctx));
	ck_assert_ptr_nonnull(ctx);
	ck_assert_ptr_eq(clq_context_get_device(ctx), device);
	ck_assert_int_eq(clGetContextInfo(clq_context_get_cl(ctx),
					  CL_CONTEXT_NUM_DEVICES,
					  sizeof(n_devices), &n_devices, NULL),
			 CL_SUCCESS);
	ck_assert_uint_eq(n_devices, 1);
	/* The context keeps its device alive. */
	clq_device_unref(device);
	ck_assert_uint_gt(
		strlen(clq_device_get_name(clq_context_get_device(ctx))), 0);
	ck_assert_ptr_eq(clq_context_ref(ctx), ctx);
	clq_context_unref(ctx);
	clq_context_unref(ctx);
}
END_TEST

START_TEST(create_default_reads_environment)
{
	struct clq_context *ctx = NULL;
	const char *spec = test_device_spec();

	setenv("CLQ_DEVICE", spec ? spec : "0", 1);
	ck_assert_ok(clq_context_create_default(&ctx));
	ck_assert_ptr_nonnull(ctx);
	clq_context_unref(ctx);

	setenv("CLQ_DEVICE", "no-such-device-anywhere", 1);
	test_log_expect("no device matches");
	ck_assert_rc(clq_context_create_default(&ctx), CLQ_ERROR_NO_DEVICE);
	ck_assert_ptr_null(ctx);
	unsetenv("CLQ_DEVICE");
}
END_TEST

START_TEST(create_bad_arguments)
{
	struct clq_context *ctx = (struct clq_context *)&ctx;
	struct clq_device *device = NULL;

	test_log_expect("is NULL");
	ck_assert_rc(clq_context_create(NULL, &ctx),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(ctx);
	ck_assert_ok(clq_device_get(0, &device));
	ck_assert_rc(clq_context_create(device, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_context_create_default(NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	ck_assert_ptr_null(clq_context_get_device(NULL));
	ck_assert_ptr_null(clq_context_get_cl(NULL));
	clq_context_unref(NULL);
	clq_device_unref(device);
}
END_TEST

/* Children hold their context: unref order does not matter. */
START_TEST(children_keep_context_alive)
{
	struct clq_context *ctx = NULL;
	struct clq_device *device = NULL;
	struct clq_queue *q = NULL;
	struct clq_event *u = NULL, *m = NULL;

	ck_assert_ok(clq_device_select(test_device_spec(), &device));
	ck_assert_ok(clq_context_create(device, &ctx));
	clq_device_unref(device);
	ck_assert_ok(clq_queue_create(ctx, 0, &q));
	ck_assert_ok(clq_user_event_create(ctx, &u));
	clq_context_unref(ctx);

	ck_assert_ok(clq_queue_enqueue_marker(q, &u, 1, &m));
	clq_queue_unref(q);
	ck_assert_ok(clq_user_event_complete(u, CL_COMPLETE));
	clq_event_unref(u);
	ck_assert_ok(clq_event_wait(m));
	ck_assert_ptr_nonnull(clq_context_get_cl(clq_event_get_context(m)));
	clq_event_unref(m);
}
END_TEST

static int context_calls;
static char context_message[256];

static void
context_log(enum clq_log_level level, const char *message, void *user_data)
{
	(void)level;
	context_calls += *(int *)user_data;
	strncpy(context_message, message, sizeof(context_message) - 1);
}

START_TEST(context_log_handler)
{
	struct clq_queue *q = NULL;
	int weight = 1;

	context_calls = 0;
	clq_context_set_log_handler(test_ctx, context_log, &weight);
	ck_assert_rc(clq_queue_create(test_ctx, 0x40, &q),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_int_eq(context_calls, 1);
	ck_assert_ptr_nonnull(strstr(context_message, "unknown flags"));
	/* Calls without a context still use the process-wide handler. */
	test_log_expect("n_out is NULL");
	ck_assert_rc(clq_device_count(NULL), CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	ck_assert_int_eq(context_calls, 1);

	/* NULL restores the process-wide handler. */
	clq_context_set_log_handler(test_ctx, NULL, NULL);
	test_log_expect("unknown flags");
	ck_assert_rc(clq_queue_create(test_ctx, 0x40, &q),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	ck_assert_int_eq(context_calls, 1);
	clq_context_set_log_handler(NULL, context_log, &weight);
}
END_TEST

/* Completes a user event after a pause, from another thread. */
static void *
complete_later(void *data)
{
	test_sleep_ms(50);
	ck_assert_ok(clq_user_event_complete(data, CL_COMPLETE));
	return NULL;
}

/* clq_context_finish() waits for the commands of every queue. */
START_TEST(finish_waits_for_every_queue)
{
	struct clq_queue *q[3];
	struct clq_event *u = test_user_event_new(), *m[3];
	pthread_t t;

	for (int i = 0; i < 3; i++) {
		q[i] = test_queue_new(i == 2 ? CLQ_QUEUE_PROFILING : 0);
		ck_assert_ok(clq_queue_enqueue_marker(q[i], &u, 1, &m[i]));
		ck_assert_ok(clq_queue_flush(q[i]));
	}
	ck_assert_int_eq(pthread_create(&t, NULL, complete_later, u), 0);
	ck_assert_ok(clq_context_finish(test_ctx));
	/* Not a wait on the events: their status is read as it is. */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(test_event_status(m[i]), CL_COMPLETE);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	for (int i = 0; i < 3; i++) {
		clq_event_unref(m[i]);
		clq_queue_unref(q[i]);
	}
	clq_event_unref(u);
	/* No queue left: nothing to wait for. */
	ck_assert_ok(clq_context_finish(test_ctx));
}
END_TEST

/* A failed command does not make the finish fail (as clq_queue_finish()),
 * and the other queues are finished all the same. */
START_TEST(finish_after_failed_command)
{
	struct clq_queue *a = test_queue_new(0), *b = test_queue_new(0);
	struct clq_event *u = test_user_event_new(), *v = test_user_event_new();
	struct clq_event *ma = NULL, *mb = NULL;
	pthread_t t;

	ck_assert_ok(clq_queue_enqueue_marker(a, &u, 1, &ma));
	ck_assert_ok(clq_queue_enqueue_marker(b, &v, 1, &mb));
	ck_assert_ok(clq_queue_flush(a));
	ck_assert_ok(clq_queue_flush(b));
	ck_assert_ok(clq_user_event_complete(u, CL_INVALID_VALUE));
	ck_assert_int_eq(pthread_create(&t, NULL, complete_later, v), 0);
	ck_assert_ok(clq_context_finish(test_ctx));
	ck_assert_int_lt(test_event_status(ma), 0);
	ck_assert_int_eq(test_event_status(mb), CL_COMPLETE);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	test_log_expect("failed");
	ck_assert_rc(clq_event_wait(ma), CLQ_ERROR_COMMAND_FAILED);
	clq_event_unref(ma);
	clq_event_unref(mb);
	clq_event_unref(u);
	clq_event_unref(v);
	clq_queue_unref(a);
	clq_queue_unref(b);
}
END_TEST

START_TEST(finish_bad_arguments)
{
	test_log_expect("ctx is NULL");
	ck_assert_rc(clq_context_finish(NULL), CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
}
END_TEST

/* In CHECK, what a context finish waited for counts as seen to end: a
 * later access from another queue is ordered after it. */
START_TEST(finish_orders_for_check)
{
	const size_t n = 16;
	struct clq_device *device = NULL;
	struct clq_context *ctx = NULL;
	struct clq_queue *a = NULL, *b = NULL;
	struct clq_device_array *d = NULL;
	struct clq_host_array *h = NULL;
	float zero = 0.0f;

	ck_assert_ok(clq_device_select(test_device_spec(), &device));
	ck_assert_ok(clq_context_create(device, &ctx));
	clq_device_unref(device);
	ck_assert_ok(clq_context_set_ordering(ctx, CLQ_ORDERING_CHECK));
	ck_assert_ok(clq_queue_create(ctx, 0, &a));
	ck_assert_ok(clq_queue_create(ctx, 0, &b));
	ck_assert_ok(clq_device_array_create(ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					     NULL, &d));
	ck_assert_ok(
		clq_host_array_create(ctx, CLQ_DTYPE_FLOAT32, 1, &n, NULL, &h));
	ck_assert_ok(clq_device_array_fill(d, a, &zero, NULL, 0, NULL));
	test_log_expect("hazard");
	ck_assert_rc(clq_device_array_get_async(d, b, h, NULL, 0, NULL),
		     CLQ_ERROR_HAZARD);
	ck_assert(test_log_seen());
	test_log_expect(NULL);
	ck_assert_ok(clq_context_finish(ctx));
	ck_assert_ok(clq_device_array_get(d, b, h));
	ck_assert(((float *)clq_host_array_data(h))[n - 1] == 0.0f);
	clq_host_array_unref(h);
	clq_device_array_unref(d);
	clq_queue_unref(a);
	clq_queue_unref(b);
	clq_context_unref(ctx);
}
END_TEST

static Suite *
context_suite(void)
{
	Suite *s = suite_create("context");
	TCase *tc = tcase_create("lifetime");

	tcase_add_checked_fixture(tc, test_log_setup, test_log_teardown);
	tcase_add_test(tc, create_on_device);
	tcase_add_test(tc, create_default_reads_environment);
	tcase_add_test(tc, create_bad_arguments);
	tcase_add_test(tc, children_keep_context_alive);
	suite_add_tcase(s, tc);

	tc = tcase_create("log");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, context_log_handler);
	suite_add_tcase(s, tc);

	tc = tcase_create("finish");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, finish_waits_for_every_queue);
	tcase_add_test(tc, finish_after_failed_command);
	tcase_add_test(tc, finish_bad_arguments);
	tcase_add_test(tc, finish_orders_for_check);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_main(context_suite(), 1);
}
