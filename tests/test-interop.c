/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Wrapping OpenCL objects made by other code: contexts, queues, buffers
 * and events, each retained and never owned.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"

/*
 * Asserts that a reference count comes to `want`. Objects clq has released
 * may stay referenced a moment by the driver's own bookkeeping (PoCL frees
 * ended commands, which hold their queue and context, on its threads).
 */
#define ck_assert_refs_settle(expr, want)                                     \
	do {                                                                  \
		cl_uint got_ = 0;                                             \
		for (int i_ = 0; i_ < 300 && (got_ = (expr)) != (want); i_++) \
			test_sleep_ms(10);                                    \
		ck_assert_uint_eq(got_, want);                                \
	} while (0)

static cl_device_id
test_device_id(void)
{
	return clq_device_get_cl(clq_context_get_device(test_ctx));
}

static cl_uint
context_refs(cl_context c)
{
	cl_uint n = 0;

	ck_assert_int_eq(clGetContextInfo(c, CL_CONTEXT_REFERENCE_COUNT,
					  sizeof(n), &n, NULL),
			 CL_SUCCESS);
	return n;
}

static cl_uint
queue_refs(cl_command_queue q)
{
	cl_uint n = 0;

	ck_assert_int_eq(clGetCommandQueueInfo(q, CL_QUEUE_REFERENCE_COUNT,
					       sizeof(n), &n, NULL),
			 CL_SUCCESS);
	return n;
}

static cl_uint
mem_refs(cl_mem m)
{
	cl_uint n = 0;

	ck_assert_int_eq(clGetMemObjectInfo(m, CL_MEM_REFERENCE_COUNT,
					    sizeof(n), &n, NULL),
			 CL_SUCCESS);
	return n;
}

static cl_uint
event_refs(cl_event e)
{
	cl_uint n = 0;

	ck_assert_int_eq(clGetEventInfo(e, CL_EVENT_REFERENCE_COUNT, sizeof(n),
					&n, NULL),
			 CL_SUCCESS);
	return n;
}

/* An OpenCL context on the test device, made the raw way. */
static cl_context
raw_context(void)
{
	cl_device_id id = test_device_id();
	cl_int err = CL_SUCCESS;
	cl_context c = clCreateContext(NULL, 1, &id, NULL, NULL, &err);

	ck_assert_int_eq(err, CL_SUCCESS);
	return c;
}

static cl_command_queue
raw_queue(cl_context c, cl_command_queue_properties props)
{
	cl_int err = CL_SUCCESS;
	cl_command_queue q =
		clCreateCommandQueue(c, test_device_id(), props, &err);

	ck_assert_int_eq(err, CL_SUCCESS);
	return q;
}

static cl_mem
raw_buffer(cl_context c, size_t bytes)
{
	cl_int err = CL_SUCCESS;
	cl_mem m = clCreateBuffer(c, CL_MEM_READ_WRITE, bytes, NULL, &err);

	ck_assert_int_eq(err, CL_SUCCESS);
	return m;
}

/* Uploads 0, 1, 2... to a float array of `n` elements on `ctx` through
 * `q`, reads it back and checks it. */
static void
round_trip(struct clq_context *ctx, struct clq_queue *q, size_t n)
{
	struct clq_device_array *a = NULL;
	struct clq_host_array *h = NULL;
	float *d;

	ck_assert_ok(clq_device_array_create(ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					     NULL, &a));
	ck_assert_ok(
		clq_host_array_create(ctx, CLQ_DTYPE_FLOAT32, 1, &n, NULL, &h));
	d = clq_host_array_data(h);
	for (size_t i = 0; i < n; i++)
		d[i] = (float)i;
	ck_assert_ok(clq_device_array_set(a, q, h));
	memset(d, 0, n * sizeof(*d));
	ck_assert_ok(clq_device_array_get(a, q, h));
	for (size_t i = 0; i < n; i++)
		ck_assert(d[i] == (float)i);
	clq_host_array_unref(h);
	clq_device_array_unref(a);
}

/* Contexts. */

/* The raw context released first: the wrapper holds it. */
START_TEST(context_outlives_its_creator)
{
	cl_context raw = raw_context();
	struct clq_context *ctx = NULL;
	struct clq_queue *q = NULL;

	ck_assert_ok(clq_context_wrap(raw, NULL, &ctx));
	ck_assert_ptr_eq(clq_context_get_cl(ctx), raw);
	ck_assert_uint_eq(context_refs(raw), 2);
	ck_assert_ptr_eq(clq_device_get_cl(clq_context_get_device(ctx)),
			 test_device_id());
	clReleaseContext(raw);
	ck_assert_uint_eq(context_refs(raw), 1);
	ck_assert_ok(clq_queue_create(ctx, 0, &q));
	round_trip(ctx, q, 100);
	clq_queue_unref(q);
	clq_context_unref(ctx);
}
END_TEST

/* The wrapper released first: the creator's context is as it was. */
START_TEST(creator_outlives_the_context)
{
	cl_context raw = raw_context();
	struct clq_context *ctx = NULL;
	struct clq_queue *q = NULL;
	cl_mem m;

	/* naming the context's device is the same as naming none */
	ck_assert_ok(
		clq_context_wrap(raw, clq_context_get_device(test_ctx), &ctx));
	ck_assert_ok(clq_queue_create(ctx, 0, &q));
	round_trip(ctx, q, 10);
	clq_queue_unref(q);
	clq_context_unref(ctx);
	ck_assert_refs_settle(context_refs(raw), 1);
	m = raw_buffer(raw, 64);
	clReleaseMemObject(m);
	clReleaseContext(raw);
}
END_TEST

/*
 * A context of two devices: clq runs on the one named, refuses to guess,
 * and refuses a device outside the context and a queue of the other
 * device. Needs two devices of one platform: the interop-2dev test runs
 * it with POCL_DEVICES="pthread pthread" and CLQ_TEST_TWO_DEVICES=1; elsewhere
 * it has nothing to test.
 */
START_TEST(context_of_two_devices)
{
	struct clq_device *d[2] = {NULL, NULL};
	struct clq_context *ctx = (struct clq_context *)&ctx;
	struct clq_queue *q = NULL;
	cl_device_id ids[2];
	cl_context both, first;
	cl_command_queue other;
	cl_int err = CL_SUCCESS;
	size_t n = 0;

	ck_assert_ok(clq_device_count(&n));
	if (!getenv("CLQ_TEST_TWO_DEVICES"))
		return;
	ck_assert_uint_ge(n, 2);
	ck_assert_ok(clq_device_get(0, &d[0]));
	ck_assert_ok(clq_device_get(1, &d[1]));
	ck_assert_ptr_eq(clq_device_get_platform_cl(d[0]),
			 clq_device_get_platform_cl(d[1]));
	ids[0] = clq_device_get_cl(d[0]);
	ids[1] = clq_device_get_cl(d[1]);
	both = clCreateContext(NULL, 2, ids, NULL, NULL, &err);
	ck_assert_int_eq(err, CL_SUCCESS);
	first = clCreateContext(NULL, 1, ids, NULL, NULL, &err);
	ck_assert_int_eq(err, CL_SUCCESS);

	test_log_expect("the context has 2 devices");
	ck_assert_rc(clq_context_wrap(both, NULL, &ctx),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	ck_assert_ptr_null(ctx);
	test_log_expect("is not one of the context's 1 device(s)");
	ck_assert_rc(clq_context_wrap(first, d[1], &ctx),
		     CLQ_ERROR_CONTEXT_MISMATCH);
	ck_assert(test_log_seen());
	test_log_expect(NULL);

	ck_assert_ok(clq_context_wrap(both, d[1], &ctx));
	ck_assert_ptr_eq(clq_device_get_cl(clq_context_get_device(ctx)),
			 ids[1]);
	ck_assert_ok(clq_queue_create(ctx, 0, &q));
	round_trip(ctx, q, 64);
	clq_queue_unref(q);
	/* a queue of the context's other device: not this clq context's */
	other = clCreateCommandQueue(both, ids[0], 0, &err);
	ck_assert_int_eq(err, CL_SUCCESS);
	test_log_expect("another device");
	ck_assert_rc(clq_queue_wrap(ctx, other, &q),
		     CLQ_ERROR_CONTEXT_MISMATCH);
	ck_assert(test_log_seen());
	clReleaseCommandQueue(other);
	clq_context_unref(ctx);
	ck_assert_refs_settle(context_refs(both), 1);
	clReleaseContext(both);
	clReleaseContext(first);
	clq_device_unref(d[0]);
	clq_device_unref(d[1]);
}
END_TEST

START_TEST(context_wrap_mistakes_refused)
{
	struct clq_context *ctx = (struct clq_context *)&ctx;
	cl_context raw = raw_context();

	test_log_expect("is NULL");
	ck_assert_rc(clq_context_wrap(NULL, NULL, &ctx),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(ctx);
	ck_assert_rc(clq_context_wrap(raw, NULL, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	ck_assert_uint_eq(context_refs(raw), 1);
	clReleaseContext(raw);
}
END_TEST

/* Queues. */

/* A queue of other code keeps working with that code, in order with
 * clq's commands, and keeps its properties. */
START_TEST(queue_shared_with_its_creator)
{
	const size_t n = 64;
	cl_command_queue raw = raw_queue(clq_context_get_cl(test_ctx),
					 CL_QUEUE_PROFILING_ENABLE);
	cl_command_queue_properties props = 0;
	struct clq_queue *q = NULL;
	struct clq_device_array *a = NULL;
	struct clq_host_array *h = NULL;
	struct clq_event *ev = NULL;
	struct clq_event_times t;
	float ones[64], seven = 7.0f, *d;

	ck_assert_ok(clq_queue_wrap(test_ctx, raw, &q));
	ck_assert_ptr_eq(clq_queue_get_cl(q), raw);
	ck_assert_uint_eq(clq_queue_get_flags(q), CLQ_QUEUE_PROFILING);
	ck_assert_uint_eq(queue_refs(raw), 2);
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					     NULL, &a));
	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					   NULL, &h));
	/* clq fill, raw write of half, clq read: in the queue's order */
	for (size_t i = 0; i < n; i++)
		ones[i] = 1.0f;
	ck_assert_ok(clq_device_array_fill(a, q, &seven, NULL, 0, &ev));
	ck_assert_int_eq(clEnqueueWriteBuffer(
				 raw, clq_device_array_get_cl(a), CL_FALSE, 0,
				 n / 2 * sizeof(float), ones, 0, NULL, NULL),
			 CL_SUCCESS);
	ck_assert_ok(clq_device_array_get(a, q, h));
	d = clq_host_array_data(h);
	for (size_t i = 0; i < n; i++)
		ck_assert(d[i] == (i < n / 2 ? 1.0f : 7.0f));
	/* the wrapper's events are timed like any profiling queue's */
	ck_assert_ok(clq_event_get_times(ev, &t));
	ck_assert_uint_ge(t.end, t.start);
	clq_event_unref(ev);
	clq_host_array_unref(h);
	clq_device_array_unref(a);
	clq_queue_unref(q);
	/* the creator's queue: its reference and properties as they were */
	ck_assert_refs_settle(queue_refs(raw), 1);
	ck_assert_int_eq(clGetCommandQueueInfo(raw, CL_QUEUE_PROPERTIES,
					       sizeof(props), &props, NULL),
			 CL_SUCCESS);
	ck_assert_uint_eq(props, CL_QUEUE_PROFILING_ENABLE);
	ck_assert_int_eq(clFinish(raw), CL_SUCCESS);
	clReleaseCommandQueue(raw);
}
END_TEST

/* The raw queue released first: the wrapper holds it. */
START_TEST(queue_outlives_its_creator)
{
	cl_command_queue raw = raw_queue(clq_context_get_cl(test_ctx), 0);
	struct clq_queue *q = NULL;

	ck_assert_ok(clq_queue_wrap(test_ctx, raw, &q));
	ck_assert_uint_eq(clq_queue_get_flags(q), 0);
	clReleaseCommandQueue(raw);
	ck_assert_uint_eq(queue_refs(raw), 1);
	round_trip(test_ctx, q, 50);
	/* clq_context_finish() finishes wrapped queues too */
	ck_assert_ok(clq_context_finish(test_ctx));
	clq_queue_unref(q);
}
END_TEST

/* A queue of another context: clq needs its own context's queues. */
START_TEST(queue_of_another_context_refused)
{
	cl_context other = raw_context();
	cl_command_queue raw = raw_queue(other, 0);
	struct clq_queue *q = (struct clq_queue *)&q;
	cl_int err = CL_SUCCESS;

	test_log_expect("belongs to another OpenCL context");
	ck_assert_rc(clq_queue_wrap(test_ctx, raw, &q),
		     CLQ_ERROR_CONTEXT_MISMATCH);
	ck_assert(test_log_seen());
	ck_assert_ptr_null(q);
	ck_assert_uint_eq(queue_refs(raw), 1);
	clReleaseCommandQueue(raw);
	/* an out-of-order queue, where the device makes one */
	raw = clCreateCommandQueue(
		clq_context_get_cl(test_ctx), test_device_id(),
		CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &err);
	if (err == CL_SUCCESS) {
		test_log_expect("out of order");
		ck_assert_rc(clq_queue_wrap(test_ctx, raw, &q),
			     CLQ_ERROR_UNSUPPORTED);
		ck_assert(test_log_seen());
		ck_assert_uint_eq(queue_refs(raw), 1);
		clReleaseCommandQueue(raw);
	}
	test_log_expect("is NULL");
	ck_assert_rc(clq_queue_wrap(test_ctx, NULL, &q),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_queue_wrap(NULL, raw, &q), CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_queue_wrap(test_ctx, raw, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	clReleaseContext(other);
}
END_TEST

/* Buffers. */

/* A raw buffer as a padded 2-D array: clq writes where a raw read finds
 * it, and the buffer outlives or is outlived by the array. */
START_TEST(buffer_as_array)
{
	const size_t shape[2] = {4, 5}, padded[2] = {4, 8};
	cl_mem raw = raw_buffer(clq_context_get_cl(test_ctx), 4 * 8 * 4 + 16);
	struct clq_queue *q = test_queue_new(0);
	struct clq_device_array *a = NULL;
	struct clq_host_array *h = NULL;
	float back[4 * 8], *d;

	ck_assert_ok(clq_device_array_wrap(test_ctx, raw, CLQ_DTYPE_FLOAT32, 2,
					   shape, padded, &a));
	ck_assert_ptr_eq(clq_device_array_get_cl(a), raw);
	ck_assert_uint_eq(mem_refs(raw), 2);
	ck_assert_uint_eq(clq_device_array_get_nbytes(a), 4 * 8 * 4);
	clReleaseMemObject(raw); /* the array holds it */
	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 2,
					   shape, NULL, &h));
	d = clq_host_array_data(h);
	for (int i = 0; i < 20; i++)
		d[i] = (float)i;
	ck_assert_ok(clq_device_array_set(a, q, h));
	ck_assert_int_eq(clEnqueueReadBuffer(clq_queue_get_cl(q), raw, CL_TRUE,
					     0, sizeof(back), back, 0, NULL,
					     NULL),
			 CL_SUCCESS);
	for (int r = 0; r < 4; r++)
		for (int c = 0; c < 5; c++)
			ck_assert(back[r * 8 + c] == (float)(r * 5 + c));
	clq_host_array_unref(h);
	clq_device_array_unref(a);
	clq_queue_unref(q);
}
END_TEST

/* A buffer made with CL_MEM_HOST_* flags refuses the host transfers
 * they forbid, with a message, before OpenCL sees them; device-side use
 * and the allowed direction work. */
START_TEST(host_access_flags_respected)
{
	static const cl_mem_flags flags[3] = {CL_MEM_HOST_NO_ACCESS,
					      CL_MEM_HOST_READ_ONLY,
					      CL_MEM_HOST_WRITE_ONLY};
	const size_t n = 64;
	struct clq_queue *q = test_queue_new(0);
	struct clq_device_array *a = NULL, *view = NULL;
	struct clq_host_array *h = NULL;
	const float one = 1.0f;
	int set_ok = _i == 2, get_ok = _i == 1;
	cl_int err;
	cl_mem raw = clCreateBuffer(clq_context_get_cl(test_ctx),
				    CL_MEM_READ_WRITE | flags[_i],
				    n * sizeof(float), NULL, &err);

	ck_assert_int_eq(err, CL_SUCCESS);
	ck_assert_ok(clq_device_array_wrap(test_ctx, raw, CLQ_DTYPE_FLOAT32, 1,
					   &n, NULL, &a));
	ck_assert_ok(clq_device_array_create_alias(
		test_ctx, raw, 0, CLQ_DTYPE_FLOAT32, 1, &n, NULL, &view));
	clReleaseMemObject(raw);
	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					   NULL, &h));
	ck_assert_ok(clq_device_array_fill(a, q, &one, NULL, 0, NULL));
	test_log_expect("so the host may not");
	ck_assert_int_eq(clq_device_array_set(a, q, h),
			 set_ok ? CLQ_SUCCESS : CLQ_ERROR_UNSUPPORTED);
	ck_assert_int_eq(clq_device_array_get(view, q, h),
			 get_ok ? CLQ_SUCCESS : CLQ_ERROR_UNSUPPORTED);
	ck_assert_int_eq(clq_device_array_get_region(
				 a, q, h, (size_t[]){0}, (size_t[]){0},
				 (size_t[]){8}, NULL, 0, NULL),
			 get_ok ? CLQ_SUCCESS : CLQ_ERROR_UNSUPPORTED);
	ck_assert(strstr(test_log_text(), _i == 0 ? "CL_MEM_HOST_NO_ACCESS"
					  : _i == 1
						  ? "CL_MEM_HOST_READ_ONLY"
						  : "CL_MEM_HOST_WRITE_ONLY"));
	ck_assert_ok(clq_queue_finish(q));
	if (get_ok)
		ck_assert(((float *)clq_host_array_data(h))[0] == 1.0f);
	clq_host_array_unref(h);
	clq_device_array_unref(view);
	clq_device_array_unref(a);
	clq_queue_unref(q);
}
END_TEST

/* A wrapped sub-buffer is an alias of its buffer: copies land at its
 * offset there, and the buffer's references come back. */
START_TEST(sub_buffer_as_array)
{
	const size_t shape[2] = {2, 3}, padded[2] = {2, 4}, n = 64;
	cl_mem raw = raw_buffer(clq_context_get_cl(test_ctx), n * 4), sub;
	cl_buffer_region region = {128, 32};
	struct clq_queue *q = test_queue_new(0);
	struct clq_device_array *a = NULL, *whole = NULL, *src = NULL;
	struct clq_host_array *h = NULL;
	float zero = 0.0f, *d;
	cl_int err = CL_SUCCESS;

	sub = clCreateSubBuffer(raw, CL_MEM_READ_WRITE,
				CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
	ck_assert_int_eq(err, CL_SUCCESS);
	ck_assert_ok(clq_device_array_wrap(test_ctx, raw, CLQ_DTYPE_FLOAT32, 1,
					   &n, NULL, &whole));
	ck_assert_ok(clq_device_array_wrap(test_ctx, sub, CLQ_DTYPE_FLOAT32, 2,
					   shape, padded, &a));
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 2,
					     shape, NULL, &src));
	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 2,
					   shape, NULL, &h));
	d = clq_host_array_data(h);
	for (int i = 0; i < 6; i++)
		d[i] = (float)(i + 1);
	ck_assert_ok(clq_device_array_fill(whole, q, &zero, NULL, 0, NULL));
	ck_assert_ok(clq_device_array_set(src, q, h));
	/* a rectangular copy: made on the buffer, at the sub-buffer's place */
	ck_assert_ok(clq_device_array_copy(a, q, src, NULL, 0, NULL));
	clq_host_array_unref(h);
	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					   NULL, &h));
	ck_assert_ok(clq_device_array_get(whole, q, h));
	d = clq_host_array_data(h);
	for (size_t i = 0; i < n; i++) {
		size_t at = i - 32, r = at / 4, c = at % 4;
		float want = i >= 32 && i < 40 && c < 3 ? (float)(r * 3 + c + 1)
							: 0.0f;

		ck_assert_msg(d[i] == want, "element %zu: %g, expected %g", i,
			      d[i], want);
	}
	clq_host_array_unref(h);
	clq_device_array_unref(src);
	clq_device_array_unref(a);
	clq_device_array_unref(whole);
	clq_queue_unref(q);
	ck_assert_refs_settle(mem_refs(sub), 1);
	clReleaseMemObject(sub);
	ck_assert_refs_settle(mem_refs(raw), 1);
	clReleaseMemObject(raw);
}
END_TEST

START_TEST(buffer_wrap_mistakes_refused)
{
	const size_t shape[2] = {4, 5}, big[2] = {5, 8};
	cl_context other = raw_context();
	cl_mem raw = raw_buffer(clq_context_get_cl(test_ctx), 4 * 8 * 4);
	cl_mem foreign = raw_buffer(other, 4 * 8 * 4);
	struct clq_device_array *a = (struct clq_device_array *)&a;

	test_log_expect("the buffer has 128");
	ck_assert_rc(clq_device_array_wrap(test_ctx, raw, CLQ_DTYPE_FLOAT32, 2,
					   shape, big, &a),
		     CLQ_ERROR_OUT_OF_RANGE);
	ck_assert(test_log_seen());
	ck_assert_ptr_null(a);
	test_log_expect("another OpenCL context");
	ck_assert_rc(clq_device_array_wrap(test_ctx, foreign, CLQ_DTYPE_FLOAT32,
					   2, shape, NULL, &a),
		     CLQ_ERROR_CONTEXT_MISMATCH);
	ck_assert(test_log_seen());
	test_log_expect("*");
	ck_assert_rc(clq_device_array_wrap(test_ctx, NULL, CLQ_DTYPE_FLOAT32, 2,
					   shape, NULL, &a),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_device_array_wrap(test_ctx, raw, (enum clq_dtype)99, 2,
					   shape, NULL, &a),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_device_array_wrap(test_ctx, raw, CLQ_DTYPE_FLOAT32, 0,
					   shape, NULL, &a),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_uint_eq(mem_refs(raw), 1);
	ck_assert_uint_eq(mem_refs(foreign), 1);
	clReleaseMemObject(raw);
	clReleaseMemObject(foreign);
	clReleaseContext(other);
}
END_TEST

/* Events. */

/* A raw user event in a clq wait list holds the clq command back until
 * its creator completes it; each side releases in either order. */
START_TEST(raw_event_in_wait_list)
{
	cl_int err = CL_SUCCESS;
	cl_event raw = clCreateUserEvent(clq_context_get_cl(test_ctx), &err);
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *w = NULL, *m = NULL;

	ck_assert_int_eq(err, CL_SUCCESS);
	ck_assert_ok(clq_event_wrap(test_ctx, raw, &w));
	ck_assert_ptr_eq(clq_event_get_cl(w), raw);
	ck_assert_uint_eq(event_refs(raw), 2);
	ck_assert_int_eq(clq_event_is_user(w), 0);
	ck_assert_int_eq(clq_event_is_profiled(w), 0);
	ck_assert_ok(clq_queue_enqueue_marker(q, &w, 1, &m));
	ck_assert_ok(clq_queue_flush(q));
	test_sleep_ms(20);
	ck_assert_int_gt(test_event_status(m), CL_COMPLETE);
	/* the creator's to complete, not clq's */
	test_log_expect("not a user event");
	ck_assert_rc(clq_user_event_complete(w, CL_COMPLETE),
		     CLQ_ERROR_NOT_USER_EVENT);
	test_log_expect(NULL);
	ck_assert_int_eq(clSetUserEventStatus(raw, CL_COMPLETE), CL_SUCCESS);
	clReleaseEvent(raw); /* the wrapper holds it */
	ck_assert_ok(clq_event_wait(m));
	ck_assert_ok(clq_event_wait(w));
	ck_assert_int_eq(test_event_status(w), CL_COMPLETE);
	clq_event_unref(m);
	clq_event_unref(w);
	clq_queue_unref(q);
}
END_TEST

/*
 * Other code fails a raw user event that clq has wrapped: a command
 * waiting for it fails (it does not hang), whether the event failed
 * before the enqueue or after, and a command enqueued behind it with no
 * event of its own does not bring PoCL down.
 */
START_TEST(raw_event_failed)
{
	cl_int err = CL_SUCCESS;
	cl_event before = clCreateUserEvent(clq_context_get_cl(test_ctx), &err);
	cl_event after = clCreateUserEvent(clq_context_get_cl(test_ctx), &err);
	struct clq_queue *q = test_queue_new(0), *q2 = test_queue_new(0);
	struct clq_event *wb = NULL, *wa = NULL, *m1 = NULL, *m2 = NULL;

	ck_assert_int_eq(err, CL_SUCCESS);
	ck_assert_ok(clq_event_wrap(test_ctx, before, &wb));
	ck_assert_ok(clq_event_wrap(test_ctx, after, &wa));
	ck_assert_int_eq(clSetUserEventStatus(before, -1), CL_SUCCESS);
	ck_assert_ok(clq_queue_enqueue_marker(q, &wb, 1, &m1));
	test_log_expect("failed");
	ck_assert_rc(clq_event_wait(m1), CLQ_ERROR_COMMAND_FAILED);
	ck_assert_ok(clq_queue_enqueue_marker(q2, &wa, 1, &m2));
	ck_assert_ok(clq_queue_enqueue_marker(q2, NULL, 0, NULL));
	ck_assert_ok(clq_queue_flush(q2));
	ck_assert_int_eq(clSetUserEventStatus(after, -1), CL_SUCCESS);
	ck_assert_rc(clq_event_wait(m2), CLQ_ERROR_COMMAND_FAILED);
	test_log_expect(NULL);
	ck_assert_ok(clq_queue_finish(q2));
	clReleaseEvent(before);
	clReleaseEvent(after);
	clq_event_unref(m1);
	clq_event_unref(m2);
	clq_event_unref(wa);
	clq_event_unref(wb);
	clq_queue_unref(q);
	clq_queue_unref(q2);
}
END_TEST

/* A raw command's event, from a raw profiling queue: timed, on a
 * timeline, and waited for from another queue (which flushes its queue,
 * never flushed by its creator). */
START_TEST(raw_command_event_timed_and_recorded)
{
	cl_command_queue raw = raw_queue(clq_context_get_cl(test_ctx),
					 CL_QUEUE_PROFILING_ENABLE);
	struct clq_queue *q = test_queue_new(CLQ_QUEUE_PROFILING);
	struct clq_timeline *tl = NULL;
	struct clq_event *w = NULL, *m = NULL;
	struct clq_event_times t;
	cl_event ev = NULL;
	double gap = 0.0;

	ck_assert_int_eq(clEnqueueMarkerWithWaitList(raw, 0, NULL, &ev),
			 CL_SUCCESS);
	ck_assert_ok(clq_event_wrap(test_ctx, ev, &w));
	clReleaseEvent(ev);
	clReleaseCommandQueue(raw); /* the wrapped event keeps it */
	ck_assert_int_eq(clq_event_is_profiled(w), 1);
	ck_assert_ok(clq_timeline_create(test_ctx, &tl));
	ck_assert_ok(clq_timeline_add_event(tl, w, "other library", "fft"));
	ck_assert_ok(clq_queue_enqueue_marker(q, &w, 1, &m));
	ck_assert_ok(clq_event_wait(m));
	ck_assert_ok(clq_event_get_times(w, &t));
	ck_assert_uint_ge(t.end, t.start);
	ck_assert_ok(clq_event_time_since(m, w, &gap));
	ck_assert_ok(clq_timeline_flush(tl));
	ck_assert_uint_eq(clq_timeline_get_count(tl), 1);
	clq_timeline_unref(tl);
	clq_event_unref(m);
	clq_event_unref(w);
	clq_queue_unref(q);
}
END_TEST

START_TEST(event_wrap_mistakes_refused)
{
	cl_context other = raw_context();
	cl_int err = CL_SUCCESS;
	cl_event foreign = clCreateUserEvent(other, &err);
	struct clq_event *w = (struct clq_event *)&w;

	ck_assert_int_eq(err, CL_SUCCESS);
	test_log_expect("another OpenCL context");
	ck_assert_rc(clq_event_wrap(test_ctx, foreign, &w),
		     CLQ_ERROR_CONTEXT_MISMATCH);
	ck_assert(test_log_seen());
	ck_assert_ptr_null(w);
	ck_assert_uint_eq(event_refs(foreign), 1);
	test_log_expect("is NULL");
	ck_assert_rc(clq_event_wrap(test_ctx, NULL, &w),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_event_wrap(NULL, foreign, &w),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_event_wrap(test_ctx, foreign, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	clSetUserEventStatus(foreign, CL_COMPLETE);
	clReleaseEvent(foreign);
	clReleaseContext(other);
}
END_TEST

/* Ordering: a wrapped queue is tracked like any queue; a wrapped event
 * orders what OpenCL waits for but vouches for no clq command. */
START_TEST(wrapped_objects_and_check)
{
	const size_t n = 32;
	struct clq_device *device = NULL;
	struct clq_context *ctx = NULL;
	struct clq_queue *mine = NULL, *theirs = NULL;
	struct clq_device_array *a = NULL;
	struct clq_host_array *h = NULL;
	struct clq_event *fill = NULL, *w = NULL;
	cl_command_queue raw;
	cl_mem buffer;
	cl_event marker = NULL;
	float two = 2.0f;

	ck_assert_ok(clq_device_select(test_device_spec(), &device));
	ck_assert_ok(clq_context_create(device, &ctx));
	clq_device_unref(device);
	ck_assert_ok(clq_context_set_ordering(ctx, CLQ_ORDERING_CHECK));
	raw = raw_queue(clq_context_get_cl(ctx), 0);
	buffer = raw_buffer(clq_context_get_cl(ctx), n * sizeof(float));
	ck_assert_ok(clq_queue_wrap(ctx, raw, &theirs));
	ck_assert_ok(clq_queue_create(ctx, 0, &mine));
	ck_assert_ok(clq_device_array_wrap(ctx, buffer, CLQ_DTYPE_FLOAT32, 1,
					   &n, NULL, &a));
	ck_assert_ok(
		clq_host_array_create(ctx, CLQ_DTYPE_FLOAT32, 1, &n, NULL, &h));
	ck_assert_ok(clq_device_array_fill(a, theirs, &two, NULL, 0, &fill));
	/* a raw marker after the fill, on the same queue, wrapped */
	ck_assert_int_eq(clEnqueueMarkerWithWaitList(raw, 0, NULL, &marker),
			 CL_SUCCESS);
	ck_assert_ok(clq_event_wrap(ctx, marker, &w));
	test_log_expect("hazard");
	ck_assert_rc(clq_device_array_get_async(a, mine, h, NULL, 0, NULL),
		     CLQ_ERROR_HAZARD);
	ck_assert_rc(clq_device_array_get_async(a, mine, h, &w, 1, NULL),
		     CLQ_ERROR_HAZARD);
	ck_assert(test_log_seen());
	test_log_expect(NULL);
	ck_assert_ok(clq_device_array_get_async(a, mine, h, &fill, 1, NULL));
	ck_assert_ok(clq_queue_finish(mine));
	ck_assert(((float *)clq_host_array_data(h))[n - 1] == 2.0f);
	clReleaseEvent(marker);
	clq_event_unref(w);
	clq_event_unref(fill);
	clq_host_array_unref(h);
	clq_device_array_unref(a);
	clq_queue_unref(mine);
	clq_queue_unref(theirs);
	clReleaseMemObject(buffer);
	clReleaseCommandQueue(raw);
	clq_context_unref(ctx);
}
END_TEST

/* Registered host memory. */

/* Whether the test platform is one whose mapped buffers clq counts as
 * pinned (array.h). */
static int
pins_mapped_buffers(void)
{
	struct clq_device *d = clq_context_get_device(test_ctx);
	const char *platform = clq_device_get_platform_name(d);

	return strstr(platform, "NVIDIA") != NULL ||
	       (strstr(platform, "AMD") != NULL &&
		clq_device_get_type(d) == CLQ_DEVICE_TYPE_GPU);
}

static void *
aligned_memory(size_t bytes)
{
	void *p = NULL;

	ck_assert_int_eq(posix_memalign(&p, 4096, bytes), 0);
	return p;
}

static atomic_int buffer_released;

static void CL_CALLBACK
note_release(cl_mem m, void *data)
{
	(void)m;
	(void)data;
	atomic_store(&buffer_released, 1);
}

/* Caller memory in, device, caller memory out: the same values, at the
 * caller's addresses, padding left alone. */
START_TEST(registered_round_trip)
{
	const size_t shape[2] = {3, 5}, padded[2] = {3, 8};
	float *in = aligned_memory(3 * 8 * sizeof(float));
	float *out = aligned_memory(3 * 8 * sizeof(float));
	struct clq_queue *q = test_queue_new(0);
	struct clq_device_array *a = NULL;
	struct clq_host_array *hin = NULL, *hout = NULL;
	struct clq_event *ev = NULL;

	for (int i = 0; i < 24; i++) {
		in[i] = (float)i * 0.5f;
		out[i] = -1.0f;
	}
	ck_assert_ok(clq_host_array_register(test_ctx, CLQ_DTYPE_FLOAT32, 2,
					     shape, padded, in, &hin));
	ck_assert_ok(clq_host_array_register(test_ctx, CLQ_DTYPE_FLOAT32, 2,
					     shape, padded, out, &hout));
	ck_assert_ptr_eq(clq_host_array_data(hin), in);
	ck_assert_ptr_eq(clq_host_array_data(hout), out);
	ck_assert_int_eq(clq_host_array_is_registered(hin), 1);
	/* PoCL maps page-aligned memory in place: a buffer, not pinned */
	ck_assert_ptr_nonnull(clq_host_array_get_cl(hin));
	ck_assert_int_eq(clq_host_array_is_pinned(hin), pins_mapped_buffers());
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 2,
					     shape, NULL, &a));
	ck_assert_ok(clq_device_array_set_async(a, q, hin, NULL, 0, NULL));
	ck_assert_ok(clq_device_array_get_async(a, q, hout, NULL, 0, &ev));
	ck_assert_ok(clq_event_wait(ev));
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 8; c++)
			ck_assert(out[r * 8 + c] ==
				  (c < 5 ? in[r * 8 + c] : -1.0f));
	/* the memory is the array: a change is the next transfer's */
	in[0] = 42.0f;
	ck_assert_ok(clq_device_array_set(a, q, hin));
	ck_assert_ok(clq_device_array_get(a, q, hout));
	ck_assert(out[0] == 42.0f);
	/* every transfer has ended: the last unref unregisters at once */
	atomic_store(&buffer_released, 0);
	ck_assert_int_eq(
		clSetMemObjectDestructorCallback(clq_host_array_get_cl(hin),
						 note_release, NULL),
		CL_SUCCESS);
	clq_event_unref(ev);
	clq_host_array_unref(hin);
	ck_assert_int_eq(atomic_load(&buffer_released), 1);
	clq_host_array_unref(hout);
	clq_device_array_unref(a);
	clq_queue_unref(q);
	free(in);
	free(out);
}
END_TEST

/* The array, dropped at once, stays registered until its transfer (held
 * back by a user event) ends, and is unregistered then: completed, or
 * failed (which PoCL 3.1 never calls back: clq's polling finds it). */
START_TEST(unregistered_after_last_transfer)
{
	const size_t n = 256;
	float *mem = aligned_memory(n * sizeof(float));
	struct clq_queue *q = test_queue_new(0);
	struct clq_device_array *a = NULL;
	struct clq_host_array *h = NULL, *back = NULL;
	struct clq_event *gate = test_user_event_new(), *ev = NULL;
	cl_mem buffer;

	for (size_t i = 0; i < n; i++)
		mem[i] = (float)i;
	ck_assert_ok(clq_host_array_register(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					     NULL, mem, &h));
	buffer = clq_host_array_get_cl(h);
	ck_assert_ptr_nonnull(buffer);
	atomic_store(&buffer_released, 0);
	ck_assert_int_eq(
		clSetMemObjectDestructorCallback(buffer, note_release, NULL),
		CL_SUCCESS);
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					     NULL, &a));
	ck_assert_ok(clq_device_array_set_async(a, q, h, &gate, 1, &ev));
	clq_host_array_unref(h);
	ck_assert_ok(clq_queue_flush(q));
	test_sleep_ms(50);
	ck_assert_int_eq(atomic_load(&buffer_released), 0);
	if (_i) {
		test_log_expect("the command failed");
		ck_assert_ok(clq_user_event_complete(gate, -3));
		ck_assert_int_eq(clq_event_wait(ev), CLQ_ERROR_COMMAND_FAILED);
	} else {
		ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
		ck_assert_ok(clq_event_wait(ev));
	}
	/* unregistered on clq's completion thread */
	for (int i = 0; i < 200 && !atomic_load(&buffer_released); i++)
		test_sleep_ms(10);
	ck_assert_int_eq(atomic_load(&buffer_released), 1);
	/* what the transfer read is on the device */
	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					   NULL, &back));
	ck_assert_ok(clq_device_array_get(a, q, back));
	for (size_t i = 0; i < n && !_i; i++)
		ck_assert(((float *)clq_host_array_data(back))[i] == (float)i);
	free(mem);
	clq_host_array_unref(back);
	clq_event_unref(ev);
	clq_event_unref(gate);
	clq_device_array_unref(a);
	clq_queue_unref(q);
}
END_TEST

START_TEST(register_mistakes_refused)
{
	const size_t n = 8;
	float mem[8];
	struct clq_host_array *h = (struct clq_host_array *)&h, *w = NULL;

	test_log_expect("*");
	ck_assert_rc(clq_host_array_register(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					     NULL, NULL, &h),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(h);
	ck_assert_rc(clq_host_array_register(NULL, CLQ_DTYPE_FLOAT32, 1, &n,
					     NULL, mem, &h),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_host_array_register(test_ctx, (enum clq_dtype)77, 1,
					     &n, NULL, mem, &h),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_host_array_register(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					     NULL, mem, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	{
		/* more than the largest buffer: refused before the driver
		 * sees the memory (it is never touched) */
		uint64_t max = clq_device_get_max_alloc_size(
			clq_context_get_device(test_ctx));
		size_t big = (size_t)(max / sizeof(float)) + 1;

		test_log_expect("exceed the device's largest buffer");
		ck_assert_rc(clq_host_array_register(test_ctx,
						     CLQ_DTYPE_FLOAT32, 1, &big,
						     NULL, mem, &h),
			     CLQ_ERROR_OUT_OF_RANGE);
		ck_assert(test_log_seen());
		ck_assert_ptr_null(h);
	}
	test_log_expect(NULL);
	/* other arrays say what they are */
	ck_assert_ok(
		clq_host_array_wrap(CLQ_DTYPE_FLOAT32, 1, &n, NULL, mem, &w));
	ck_assert_int_eq(clq_host_array_is_registered(w), 0);
	ck_assert_ptr_null(clq_host_array_get_cl(w));
	ck_assert_int_eq(clq_host_array_is_registered(NULL), 0);
	ck_assert_ptr_null(clq_host_array_get_cl(NULL));
	clq_host_array_unref(w);
}
END_TEST

static Suite *
interop_suite(void)
{
	Suite *s = suite_create("interop");
	TCase *tc = tcase_create("context");

	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, context_outlives_its_creator);
	tcase_add_test(tc, creator_outlives_the_context);
	tcase_add_test(tc, context_wrap_mistakes_refused);
	tcase_add_test(tc, context_of_two_devices);
	suite_add_tcase(s, tc);

	tc = tcase_create("queue");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, queue_shared_with_its_creator);
	tcase_add_test(tc, queue_outlives_its_creator);
	tcase_add_test(tc, queue_of_another_context_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("buffer");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, buffer_as_array);
	tcase_add_test(tc, sub_buffer_as_array);
	tcase_add_test(tc, buffer_wrap_mistakes_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("event");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, raw_event_in_wait_list);
	tcase_add_test(tc, raw_event_failed);
	tcase_add_test(tc, raw_command_event_timed_and_recorded);
	tcase_add_test(tc, event_wrap_mistakes_refused);
	tcase_add_test(tc, wrapped_objects_and_check);
	suite_add_tcase(s, tc);

	tc = tcase_create("registered");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, registered_round_trip);
	tcase_add_loop_test(tc, unregistered_after_last_transfer, 0, 2);
	tcase_add_loop_test(tc, host_access_flags_respected, 0, 3);
	tcase_add_test(tc, register_mistakes_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_main(interop_suite(), 1);
}
