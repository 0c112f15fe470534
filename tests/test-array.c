/* SPDX-License-Identifier: BSD-3-Clause */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"

#define N_DTYPES (CLQ_DTYPE_COMPLEX128 + 1)

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint8_t
random_byte(void)
{
	/* xorshift64: fixed seed, so a failure reproduces. */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint8_t)(rng_state >> 24);
}

static struct clq_queue *
make_queue(void)
{
	struct clq_queue *q = NULL;

	ck_assert_ok(clq_queue_create(test_ctx, 0, &q));
	return q;
}

/* Byte offset of logical element `index` (C order over `shape`). */
static size_t
element_offset(size_t ndim, const size_t *shape, const size_t *strides,
	       size_t index)
{
	size_t offset = 0;

	for (size_t i = ndim; i-- > 0;) {
		offset += (index % shape[i]) * strides[i];
		index /= shape[i];
	}
	return offset;
}

static size_t
element_count(size_t ndim, const size_t *shape)
{
	size_t n = 1;

	for (size_t i = 0; i < ndim; i++)
		n *= shape[i];
	return n;
}

/* Fills every logical element of `h` with random bytes (never all zero). */
static void
fill_random(struct clq_host_array *h)
{
	size_t ndim = clq_host_array_get_ndim(h);
	const size_t *shape = clq_host_array_get_shape(h);
	size_t esize = clq_dtype_size(clq_host_array_get_dtype(h));
	uint8_t *data = clq_host_array_data(h);

	for (size_t e = 0; e < element_count(ndim, shape); e++) {
		uint8_t *p =
			data + element_offset(ndim, shape,
					      clq_host_array_get_strides(h), e);

		for (size_t b = 0; b < esize; b++)
			p[b] = random_byte();
		p[0] |= 1;
	}
}

/* Whether the logical elements of two host arrays are equal. */
static int
same_elements(struct clq_host_array *x, struct clq_host_array *y)
{
	size_t ndim = clq_host_array_get_ndim(x);
	const size_t *shape = clq_host_array_get_shape(x);
	size_t esize = clq_dtype_size(clq_host_array_get_dtype(x));
	const uint8_t *dx = clq_host_array_data(x),
		      *dy = clq_host_array_data(y);

	for (size_t e = 0; e < element_count(ndim, shape); e++) {
		size_t ox = element_offset(ndim, shape,
					   clq_host_array_get_strides(x), e);
		size_t oy = element_offset(ndim, shape,
					   clq_host_array_get_strides(y), e);

		if (memcmp(dx + ox, dy + oy, esize) != 0)
			return 0;
	}
	return 1;
}

static struct clq_host_array *
make_host(enum clq_dtype dtype, size_t ndim, const size_t *shape,
	  const size_t *padded)
{
	struct clq_host_array *h = NULL;

	ck_assert_ok(clq_host_array_create(test_ctx, dtype, ndim, shape, padded,
					   &h));
	return h;
}

START_TEST(dtype_sizes_and_names)
{
	static const size_t sizes[N_DTYPES] = {1, 1, 2, 2, 4, 4, 8,
					       8, 2, 4, 8, 8, 16};

	for (int d = 0; d < N_DTYPES; d++) {
		ck_assert_uint_eq(clq_dtype_size((enum clq_dtype)d), sizes[d]);
		ck_assert_str_ne(clq_dtype_name((enum clq_dtype)d), "invalid");
	}
	ck_assert_str_eq(clq_dtype_name(CLQ_DTYPE_COMPLEX64), "complex64");
	ck_assert_uint_eq(clq_dtype_size((enum clq_dtype)N_DTYPES), 0);
	ck_assert_str_eq(clq_dtype_name((enum clq_dtype) - 1), "invalid");
}
END_TEST

START_TEST(layout_getters)
{
	const size_t shape[3] = {2, 3, 5}, padded[3] = {4, 3, 8};
	struct clq_device_array *a = NULL, *b = NULL;

	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 3,
					     shape, padded, &a));
	ck_assert_uint_eq(clq_device_array_get_ndim(a), 3);
	ck_assert_int_eq(clq_device_array_get_dtype(a), CLQ_DTYPE_FLOAT32);
	ck_assert_mem_eq(clq_device_array_get_shape(a), shape, sizeof(shape));
	ck_assert_mem_eq(clq_device_array_get_padded_shape(a), padded,
			 sizeof(padded));
	ck_assert_uint_eq(clq_device_array_get_strides(a)[2], 4);
	ck_assert_uint_eq(clq_device_array_get_strides(a)[1], 32);
	ck_assert_uint_eq(clq_device_array_get_strides(a)[0], 96);
	ck_assert_uint_eq(clq_device_array_get_nbytes(a), 384);
	ck_assert_ptr_eq(clq_device_array_get_context(a), test_ctx);
	ck_assert_ptr_nonnull(clq_device_array_get_cl(a));

	/* No padded shape: the shape itself. */
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_COMPLEX128, 3,
					     shape, NULL, &b));
	ck_assert_mem_eq(clq_device_array_get_padded_shape(b), shape,
			 sizeof(shape));
	ck_assert_uint_eq(clq_device_array_get_nbytes(b), 30 * 16);
	ck_assert_ptr_eq(clq_device_array_ref(b), b);
	clq_device_array_unref(b);
	clq_device_array_unref(b);
	clq_device_array_unref(a);
	clq_device_array_unref(NULL);
}
END_TEST

START_TEST(create_refuses_bad_layouts)
{
	const size_t shape[5] = {4, 4, 4, 4, 4}, zero[2] = {3, 0};
	const size_t small[2] = {4, 3}, padded_small[2] = {4, 2};
	const size_t huge[2] = {SIZE_MAX / 2, 4};
	struct clq_device_array *a = (struct clq_device_array *)&a;
	struct clq_host_array *h = (struct clq_host_array *)&h;
	uint64_t max_alloc =
		clq_device_get_max_alloc_size(clq_context_get_device(test_ctx));
	size_t too_big[1] = {(size_t)(max_alloc + 1)};
	int data = 0;

	test_log_expect("outside 1..4");
	ck_assert_rc(clq_device_array_create(test_ctx, CLQ_DTYPE_INT8, 0, shape,
					     NULL, &a),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(a);
	ck_assert_rc(clq_device_array_create(test_ctx, CLQ_DTYPE_INT8, 5, shape,
					     NULL, &a),
		     CLQ_ERROR_INVALID_ARGUMENT);
	test_log_expect("need 1 <= length <= padded");
	ck_assert_rc(clq_device_array_create(test_ctx, CLQ_DTYPE_INT8, 2, zero,
					     NULL, &a),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_device_array_create(test_ctx, CLQ_DTYPE_INT8, 2, small,
					     padded_small, &a),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_host_array_create(test_ctx, CLQ_DTYPE_INT8, 2, small,
					   padded_small, &h),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(h);
	test_log_expect("is not a dtype");
	ck_assert_rc(clq_device_array_create(test_ctx, (enum clq_dtype)99, 1,
					     shape, NULL, &a),
		     CLQ_ERROR_INVALID_ARGUMENT);
	test_log_expect("overflows");
	ck_assert_rc(clq_device_array_create(test_ctx, CLQ_DTYPE_INT32, 2, huge,
					     NULL, &a),
		     CLQ_ERROR_OVERFLOW);
	ck_assert_rc(
		clq_host_array_wrap(CLQ_DTYPE_INT32, 2, huge, NULL, &data, &h),
		CLQ_ERROR_OVERFLOW);
	test_log_expect("largest allocation");
	ck_assert_rc(clq_device_array_create(test_ctx, CLQ_DTYPE_UINT8, 1,
					     too_big, NULL, &a),
		     CLQ_ERROR_OUT_OF_RANGE);
	ck_assert_ptr_null(a);
	test_log_expect("is NULL");
	ck_assert_rc(clq_device_array_create(NULL, CLQ_DTYPE_INT8, 1, shape,
					     NULL, &a),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_device_array_create(test_ctx, CLQ_DTYPE_INT8, 1, NULL,
					     NULL, &a),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_device_array_create(test_ctx, CLQ_DTYPE_INT8, 1, shape,
					     NULL, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(
		clq_host_array_wrap(CLQ_DTYPE_INT8, 1, shape, NULL, NULL, &h),
		CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(
		clq_host_array_create(NULL, CLQ_DTYPE_INT8, 1, shape, NULL, &h),
		CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(h);
}
END_TEST

/* Padding cases for a round trip: none, device only, host only, both. */
static void
padded_of(const size_t *shape, size_t ndim, int pad, size_t *out)
{
	for (size_t i = 0; i < ndim; i++)
		out[i] = shape[i] + (pad ? (size_t)(i % 2 ? 3 : 1) : 0);
}

/* Every dtype, 1 to 4 axes, each padding case: set then get, compare. */
START_TEST(round_trip_every_dtype_and_layout)
{
	static const size_t shape[4] = {2, 3, 5, 7};
	struct clq_queue *q = make_queue();
	int dtype = _i;

	for (size_t ndim = 1; ndim <= 4; ndim++) {
		const size_t *s = shape + 4 - ndim;

		for (int padding = 0; padding < 4; padding++) {
			size_t dev_padded[4], host_padded[4];
			struct clq_device_array *a = NULL;
			struct clq_host_array *src, *dst;

			padded_of(s, ndim, padding & 1, dev_padded);
			padded_of(s, ndim, padding & 2, host_padded);
			ck_assert_ok(clq_device_array_create(
				test_ctx, (enum clq_dtype)dtype, ndim, s,
				dev_padded, &a));
			src = make_host((enum clq_dtype)dtype, ndim, s,
					host_padded);
			dst = make_host((enum clq_dtype)dtype, ndim, s, NULL);
			fill_random(src);
			memset(clq_host_array_data(dst), 0,
			       clq_host_array_get_nbytes(dst));
			ck_assert_ok(clq_device_array_set(a, q, src));
			ck_assert_ok(clq_device_array_get(a, q, dst));
			ck_assert_msg(same_elements(src, dst),
				      "%s, %zu axes, padding %d: data differ",
				      clq_dtype_name((enum clq_dtype)dtype),
				      ndim, padding);
			clq_host_array_unref(src);
			clq_host_array_unref(dst);
			clq_device_array_unref(a);
		}
	}
	clq_queue_unref(q);
}
END_TEST

/* Written on one queue, read on another after waiting for the write. */
START_TEST(async_across_queues)
{
	const size_t shape[2] = {64, 33}, padded[2] = {64, 40};
	struct clq_queue *q1 = make_queue(), *q2 = make_queue();
	struct clq_device_array *a = NULL;
	struct clq_host_array *src, *dst;
	struct clq_event *written = NULL, *read = NULL;

	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_FLOAT64, 2,
					     shape, padded, &a));
	src = make_host(CLQ_DTYPE_FLOAT64, 2, shape, NULL);
	dst = make_host(CLQ_DTYPE_FLOAT64, 2, shape, padded);
	fill_random(src);
	ck_assert_ok(clq_device_array_set_async(a, q1, src, NULL, 0, &written));
	ck_assert_ok(clq_queue_enqueue_wait_for_events(q2, &written, 1));
	ck_assert_ok(clq_device_array_get_async(a, q2, dst, NULL, 0, &read));
	ck_assert_ok(clq_queue_flush(q1));
	ck_assert_ok(clq_event_wait(read));
	ck_assert(same_elements(src, dst));
	clq_event_unref(written);
	clq_event_unref(read);
	clq_host_array_unref(src);
	clq_host_array_unref(dst);
	clq_device_array_unref(a);
	clq_queue_unref(q1);
	clq_queue_unref(q2);
}
END_TEST

/* The host array is dropped while its transfer still waits to run. */
START_TEST(async_keeps_host_array_alive)
{
	const size_t shape[1] = {4096};
	struct clq_queue *q = make_queue();
	struct clq_device_array *a = NULL;
	struct clq_host_array *src, *expect, *dst;
	struct clq_event *gate = NULL;

	ck_assert_ok(clq_user_event_create(test_ctx, &gate));
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_UINT32, 1,
					     shape, NULL, &a));
	src = make_host(CLQ_DTYPE_UINT32, 1, shape, NULL);
	expect = make_host(CLQ_DTYPE_UINT32, 1, shape, NULL);
	dst = make_host(CLQ_DTYPE_UINT32, 1, shape, NULL);
	fill_random(src);
	memcpy(clq_host_array_data(expect), clq_host_array_data(src),
	       clq_host_array_get_nbytes(src));
	ck_assert_ok(clq_device_array_set_async(a, q, src, &gate, 1, NULL));
	clq_host_array_unref(src);
	ck_assert_ok(clq_queue_flush(q));
	test_sleep_ms(20);
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	ck_assert_ok(clq_device_array_get(a, q, dst));
	ck_assert(same_elements(expect, dst));
	clq_event_unref(gate);
	clq_host_array_unref(expect);
	clq_host_array_unref(dst);
	clq_device_array_unref(a);
	clq_queue_unref(q);
}
END_TEST

/*
 * The same across several queues, more than the array tracks without
 * allocating, with two transfers on one queue: the array lives until the
 * last of them has run, whichever order their gates open in.
 */
START_TEST(async_keeps_host_array_alive_across_queues)
{
	enum { N = 5 };
	const size_t shape[1] = {2048};
	struct clq_queue *q[N];
	struct clq_device_array *a[N];
	struct clq_event *gate[N];
	struct clq_host_array *src, *expect, *dst;

	src = make_host(CLQ_DTYPE_UINT32, 1, shape, NULL);
	expect = make_host(CLQ_DTYPE_UINT32, 1, shape, NULL);
	dst = make_host(CLQ_DTYPE_UINT32, 1, shape, NULL);
	fill_random(src);
	memcpy(clq_host_array_data(expect), clq_host_array_data(src),
	       clq_host_array_get_nbytes(src));
	for (int i = 0; i < N; i++) {
		q[i] = make_queue();
		ck_assert_ok(clq_user_event_create(test_ctx, &gate[i]));
		ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_UINT32,
						     1, shape, NULL, &a[i]));
		ck_assert_ok(clq_device_array_set_async(a[i], q[i], src,
							&gate[i], 1, NULL));
	}
	ck_assert_ok(
		clq_device_array_set_async(a[0], q[0], src, &gate[0], 1, NULL));
	clq_host_array_unref(src);
	for (int i = N - 1; i >= 0; i--) {
		ck_assert_ok(clq_queue_flush(q[i]));
		test_sleep_ms(5);
		ck_assert_ok(clq_user_event_complete(gate[i], CL_COMPLETE));
	}
	for (int i = 0; i < N; i++) {
		ck_assert_ok(clq_device_array_get(a[i], q[i], dst));
		ck_assert(same_elements(expect, dst));
		clq_event_unref(gate[i]);
		clq_device_array_unref(a[i]);
		clq_queue_unref(q[i]);
	}
	clq_host_array_unref(expect);
	clq_host_array_unref(dst);
}
END_TEST

/*
 * Remapped host arrays unmap their memory around each transfer, so two
 * transfers of one host array must take turns even on two queues: a read
 * into it waits for a gated write from it that was enqueued first. (With
 * the other strategies, overlapping transfers of one host memory are the
 * caller's to order, as in OpenCL.)
 */
START_TEST(remapped_transfers_take_turns)
{
	const char *forced = getenv("CLQ_HOST_ARRAY_STRATEGY");
	const size_t shape[1] = {1024};
	struct clq_queue *q1 = make_queue(), *q2 = make_queue();
	struct clq_device_array *a = NULL, *b = NULL;
	struct clq_host_array *h, *first, *second, *out;
	struct clq_event *gate = NULL, *written = NULL, *read = NULL;

	if (!forced || strcmp(forced, "remapped") != 0) {
		clq_queue_unref(q1);
		clq_queue_unref(q2);
		return;
	}
	ck_assert_ok(clq_user_event_create(test_ctx, &gate));
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_UINT16, 1,
					     shape, NULL, &a));
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_UINT16, 1,
					     shape, NULL, &b));
	h = make_host(CLQ_DTYPE_UINT16, 1, shape, NULL);
	first = make_host(CLQ_DTYPE_UINT16, 1, shape, NULL);
	second = make_host(CLQ_DTYPE_UINT16, 1, shape, NULL);
	out = make_host(CLQ_DTYPE_UINT16, 1, shape, NULL);
	fill_random(h);
	fill_random(second);
	memcpy(clq_host_array_data(first), clq_host_array_data(h),
	       clq_host_array_get_nbytes(h));
	ck_assert_ok(clq_device_array_set(b, q2, second));

	ck_assert_ok(clq_device_array_set_async(a, q1, h, &gate, 1, &written));
	ck_assert_ok(clq_device_array_get_async(b, q2, h, NULL, 0, &read));
	ck_assert_ok(clq_queue_flush(q1));
	ck_assert_ok(clq_queue_flush(q2));
	test_sleep_ms(20);
	ck_assert_int_gt(test_event_status(read), CL_COMPLETE);
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(read));
	ck_assert_int_eq(test_event_status(written), CL_COMPLETE);

	ck_assert(same_elements(h, second));
	ck_assert_ok(clq_device_array_get(a, q1, out));
	ck_assert(same_elements(out, first));
	clq_event_unref(gate);
	clq_event_unref(written);
	clq_event_unref(read);
	clq_host_array_unref(h);
	clq_host_array_unref(first);
	clq_host_array_unref(second);
	clq_host_array_unref(out);
	clq_device_array_unref(a);
	clq_device_array_unref(b);
	clq_queue_unref(q1);
	clq_queue_unref(q2);
}
END_TEST

/* A user event that another thread fails, and what the call returned. */
struct late_failure {
	struct clq_event *u;
	int rc;
};

/* Fails the user event, once the main thread blocks. */
static void *
fail_later(void *data)
{
	struct late_failure *f = data;

	test_sleep_ms(100);
	f->rc = clq_user_event_complete(f->u, CL_INVALID_VALUE);
	return NULL;
}

/*
 * A blocking set and get queued behind a gate that fails from another
 * thread while they wait: they return CLQ_ERROR_COMMAND_FAILED, logged
 * with the status, having moved nothing (or, on a driver that runs
 * commands behind a failed one, succeed having moved everything). _i 0:
 * host arrays of this run's strategy on the test context; _i 1: wrapped
 * memory on a context with CLQ_FAILSAFE=off, where the transfer has no
 * clq event of its own (the gate's event is held, as PoCL 3.1 needs).
 */
START_TEST(blocking_transfer_behind_failed_gate)
{
	const size_t n = 16;
	struct clq_context *ctx = test_ctx;
	struct clq_queue *q = NULL, *other = NULL;
	struct clq_device_array *a = NULL;
	struct clq_host_array *src = NULL, *dst = NULL, *check = NULL;
	int32_t src_mem[16], dst_mem[16], device[16] = {0};
	const int32_t zero = 0;

	if (_i == 1) {
		const char *saved = getenv("CLQ_FAILSAFE");
		char *copy = saved ? strdup(saved) : NULL;

		setenv("CLQ_FAILSAFE", "off", 1);
		ck_assert_ok(clq_context_create(
			clq_context_get_device(test_ctx), &ctx));
		if (copy)
			setenv("CLQ_FAILSAFE", copy, 1);
		else
			unsetenv("CLQ_FAILSAFE");
		free(copy);
		ck_assert_ok(clq_host_array_wrap(CLQ_DTYPE_INT32, 1, &n, NULL,
						 src_mem, &src));
		ck_assert_ok(clq_host_array_wrap(CLQ_DTYPE_INT32, 1, &n, NULL,
						 dst_mem, &dst));
	} else {
		src = make_host(CLQ_DTYPE_INT32, 1, &n, NULL);
		dst = make_host(CLQ_DTYPE_INT32, 1, &n, NULL);
	}
	ck_assert_ok(clq_queue_create(ctx, 0, &q));
	ck_assert_ok(clq_queue_create(ctx, 0, &other));
	ck_assert_ok(clq_host_array_create(ctx, CLQ_DTYPE_INT32, 1, &n, NULL,
					   &check));
	ck_assert_ok(
		clq_device_array_create(ctx, CLQ_DTYPE_INT32, 1, &n, NULL, &a));
	ck_assert_ok(clq_device_array_fill(a, q, &zero, NULL, 0, NULL));
	ck_assert_ok(clq_queue_finish(q));
	for (size_t i = 0; i < n; i++) {
		((int32_t *)clq_host_array_data(src))[i] = (int32_t)(i + 1);
		((int32_t *)clq_host_array_data(dst))[i] = -1;
	}

	for (int get = 0; get <= 1; get++) {
		struct late_failure fail = {NULL, CLQ_SUCCESS};
		struct clq_event *gate = NULL;
		const int32_t *got;
		pthread_t t;
		int rc, moved = 1;

		ck_assert_ok(clq_user_event_create(ctx, &fail.u));
		ck_assert_ok(clq_queue_enqueue_marker(q, &fail.u, 1, &gate));
		ck_assert_int_eq(pthread_create(&t, NULL, fail_later, &fail),
				 0);
		test_log_expect("the command failed");
		rc = get ? clq_device_array_get(a, q, dst)
			 : clq_device_array_set(a, q, src);
		ck_assert_int_eq(pthread_join(t, NULL), 0);
		ck_assert_ok(fail.rc);
		ck_assert_msg(rc == CLQ_ERROR_COMMAND_FAILED ||
				      rc == CLQ_SUCCESS,
			      "%s returned %s", get ? "get" : "set",
			      clq_error_name(rc));
		if (rc == CLQ_ERROR_COMMAND_FAILED)
			ck_assert(test_log_seen());
		test_log_expect("*");
		clq_event_wait(gate);
		test_log_expect(NULL);
		if (get) {
			got = clq_host_array_data(dst);
		} else {
			ck_assert_ok(clq_device_array_get(a, other, check));
			got = clq_host_array_data(check);
		}
		/* moved: the data of the other side; else as it was */
		for (size_t i = 0; i < n; i++)
			moved = moved &&
				got[i] == (get ? device[i] : (int32_t)(i + 1));
		for (size_t i = 0; i < n && !moved; i++)
			ck_assert_msg(got[i] == (get ? -1 : device[i]),
				      "%s: element %zu is %d, neither moved "
				      "nor as it was",
				      get ? "get" : "set", i, (int)got[i]);
		ck_assert_msg(moved == (rc == CLQ_SUCCESS),
			      "%s returned %s but %s the data",
			      get ? "get" : "set", clq_error_name(rc),
			      moved ? "moved" : "did not move");
		if (moved && !get)
			for (size_t i = 0; i < n; i++)
				device[i] = (int32_t)(i + 1);
		clq_event_unref(gate);
		clq_event_unref(fail.u);
	}
	clq_host_array_unref(check);
	clq_host_array_unref(src);
	clq_host_array_unref(dst);
	clq_device_array_unref(a);
	clq_queue_unref(other);
	clq_queue_unref(q);
	if (ctx != test_ctx)
		clq_context_unref(ctx);
}
END_TEST

START_TEST(transfer_mismatches_refused)
{
	const size_t shape[2] = {4, 5}, other_shape[2] = {5, 4};
	const size_t flat[1] = {20};
	struct clq_queue *q = make_queue(), *foreign_q = NULL;
	struct clq_context *other = NULL;
	struct clq_device_array *a = NULL;
	struct clq_host_array *ints, *floats, *transposed, *flat_h, *foreign;
	struct clq_event *ev = (struct clq_event *)&ev;

	ck_assert_ok(
		clq_context_create(clq_context_get_device(test_ctx), &other));
	ck_assert_ok(clq_queue_create(other, 0, &foreign_q));
	ck_assert_ok(clq_host_array_create(other, CLQ_DTYPE_INT32, 2, shape,
					   NULL, &foreign));
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_INT32, 2,
					     shape, NULL, &a));
	ints = make_host(CLQ_DTYPE_INT32, 2, shape, NULL);
	floats = make_host(CLQ_DTYPE_FLOAT32, 2, shape, NULL);
	transposed = make_host(CLQ_DTYPE_INT32, 2, other_shape, NULL);
	flat_h = make_host(CLQ_DTYPE_INT32, 1, flat, NULL);

	test_log_expect("the device array holds int32, the host array float32");
	ck_assert_rc(clq_device_array_set(a, q, floats),
		     CLQ_ERROR_TYPE_MISMATCH);
	ck_assert_rc(clq_device_array_get_async(a, q, floats, NULL, 0, &ev),
		     CLQ_ERROR_TYPE_MISMATCH);
	ck_assert_ptr_null(ev);
	/* Shape mismatches name both shapes, as dtype mismatches do. */
	test_log_expect("device [4, 5], host [5, 4]");
	ck_assert_rc(clq_device_array_get(a, q, transposed),
		     CLQ_ERROR_SHAPE_MISMATCH);
	ck_assert(test_log_seen());
	test_log_expect("device [4, 5], host [20]");
	ck_assert_rc(clq_device_array_set_async(a, q, flat_h, NULL, 0, NULL),
		     CLQ_ERROR_SHAPE_MISMATCH);
	ck_assert(test_log_seen());
	test_log_expect("different contexts");
	ck_assert_rc(clq_device_array_set(a, foreign_q, ints),
		     CLQ_ERROR_CONTEXT_MISMATCH);
	ck_assert_rc(clq_device_array_set(a, q, foreign),
		     CLQ_ERROR_CONTEXT_MISMATCH);
	test_log_expect("is NULL");
	ck_assert_rc(clq_device_array_set(NULL, q, ints),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_device_array_get(a, NULL, ints),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_device_array_get(a, q, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	test_log_expect("wait list");
	ck_assert_rc(clq_device_array_set_async(a, q, ints, NULL, 2, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);

	clq_host_array_unref(ints);
	clq_host_array_unref(floats);
	clq_host_array_unref(transposed);
	clq_host_array_unref(flat_h);
	clq_host_array_unref(foreign);
	clq_device_array_unref(a);
	clq_queue_unref(q);
	clq_queue_unref(foreign_q);
	clq_context_unref(other);
}
END_TEST

START_TEST(alias_over_raw_buffer)
{
	cl_uint align_bits = 0;
	size_t align, n;
	struct clq_queue *q = make_queue();
	struct clq_device_array *alias = (struct clq_device_array *)&n;
	struct clq_host_array *src;
	cl_mem raw;
	cl_int err;
	uint8_t *back;

	ck_assert_int_eq(
		clGetDeviceInfo(
			clq_device_get_cl(clq_context_get_device(test_ctx)),
			CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof(align_bits),
			&align_bits, NULL),
		CL_SUCCESS);
	align = align_bits / 8;
	n = align;
	raw = clCreateBuffer(clq_context_get_cl(test_ctx), CL_MEM_READ_WRITE,
			     3 * align, NULL, &err);
	ck_assert_int_eq(err, CL_SUCCESS);

	ck_assert_ok(clq_device_array_create_alias(
		test_ctx, raw, align, CLQ_DTYPE_UINT8, 1, &n, NULL, &alias));
	src = make_host(CLQ_DTYPE_UINT8, 1, &n, NULL);
	fill_random(src);
	ck_assert_ok(clq_device_array_set(alias, q, src));
	back = malloc(align);
	ck_assert_int_eq(clEnqueueReadBuffer(clq_queue_get_cl(q), raw, CL_TRUE,
					     align, align, back, 0, NULL, NULL),
			 CL_SUCCESS);
	ck_assert_mem_eq(back, clq_host_array_data(src), align);
	clq_device_array_unref(alias);

	test_log_expect("do not fit");
	n = align + 1;
	ck_assert_rc(clq_device_array_create_alias(test_ctx, raw, 2 * align,
						   CLQ_DTYPE_UINT8, 1, &n, NULL,
						   &alias),
		     CLQ_ERROR_OUT_OF_RANGE);
	ck_assert_ptr_null(alias);
	ck_assert_rc(clq_device_array_create_alias(test_ctx, raw, SIZE_MAX,
						   CLQ_DTYPE_UINT8, 1, &n, NULL,
						   &alias),
		     CLQ_ERROR_OUT_OF_RANGE);
	test_log_expect("is NULL");
	ck_assert_rc(clq_device_array_create_alias(test_ctx, NULL, 0,
						   CLQ_DTYPE_UINT8, 1, &n, NULL,
						   &alias),
		     CLQ_ERROR_INVALID_ARGUMENT);
	free(back);
	clq_host_array_unref(src);
	clReleaseMemObject(raw);
	clq_queue_unref(q);
}
END_TEST

START_TEST(alias_of_another_context_refused)
{
	struct clq_context *other = NULL;
	struct clq_device_array *foreign = NULL, *alias = NULL;
	size_t n = 16;

	ck_assert_ok(
		clq_context_create(clq_context_get_device(test_ctx), &other));
	ck_assert_ok(clq_device_array_create(other, CLQ_DTYPE_UINT8, 1, &n,
					     NULL, &foreign));
	test_log_expect("another context");
	ck_assert_rc(clq_device_array_create_alias(
			     test_ctx, clq_device_array_get_cl(foreign), 0,
			     CLQ_DTYPE_UINT8, 1, &n, NULL, &alias),
		     CLQ_ERROR_CONTEXT_MISMATCH);
	ck_assert_ptr_null(alias);
	clq_device_array_unref(foreign);
	clq_context_unref(other);
}
END_TEST

START_TEST(wrapped_caller_memory)
{
	const size_t shape[2] = {3, 4}, padded[2] = {3, 6};
	float data[18], back[12];
	struct clq_host_array *h = NULL, *out = NULL;
	struct clq_device_array *a = NULL;
	struct clq_queue *q = make_queue();

	for (int i = 0; i < 18; i++)
		data[i] = (float)i * 1.5f + 0.25f;
	ck_assert_ok(clq_host_array_wrap(CLQ_DTYPE_FLOAT32, 2, shape, padded,
					 data, &h));
	ck_assert_ptr_eq(clq_host_array_data(h), data);
	ck_assert_int_eq(clq_host_array_is_pinned(h), 0);
	ck_assert_uint_eq(clq_host_array_get_nbytes(h), sizeof(data));
	ck_assert_ok(clq_host_array_wrap(CLQ_DTYPE_FLOAT32, 2, shape, NULL,
					 back, &out));
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 2,
					     shape, NULL, &a));
	ck_assert_ok(clq_device_array_set(a, q, h));
	ck_assert_ok(clq_device_array_get(a, q, out));
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 4; c++)
			ck_assert_float_eq(back[r * 4 + c], data[r * 6 + c]);
	clq_host_array_unref(h);
	clq_host_array_unref(out);
	clq_device_array_unref(a);
	clq_queue_unref(q);
}
END_TEST

/* The strategy follows CLQ_HOST_ARRAY_STRATEGY (set per test run). */
START_TEST(host_strategy_is_reported)
{
	const char *forced = getenv("CLQ_HOST_ARRAY_STRATEGY");
	size_t n = 100;
	struct clq_host_array *h = make_host(CLQ_DTYPE_INT16, 1, &n, NULL);
	int want = forced && (strcmp(forced, "mapped") == 0 ||
			      strcmp(forced, "remapped") == 0);

	ck_assert_int_eq(clq_host_array_is_pinned(h), want);
	ck_assert_uint_eq((uintptr_t)clq_host_array_data(h) % 64, 0);
	clq_host_array_unref(h);
}
END_TEST

START_TEST(unknown_strategy_refused)
{
	size_t n = 8;
	struct clq_host_array *h = (struct clq_host_array *)&n;
	char *saved = getenv("CLQ_HOST_ARRAY_STRATEGY");

	saved = saved ? strdup(saved) : NULL;
	setenv("CLQ_HOST_ARRAY_STRATEGY", "telepathy", 1);
	test_log_expect("is none of");
	ck_assert_rc(clq_host_array_create(test_ctx, CLQ_DTYPE_INT8, 1, &n,
					   NULL, &h),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(h);
	if (saved)
		setenv("CLQ_HOST_ARRAY_STRATEGY", saved, 1);
	else
		unsetenv("CLQ_HOST_ARRAY_STRATEGY");
	free(saved);
}
END_TEST

/* Pointer to the element at a multi-index of a host array. */
static uint8_t *
element_at(struct clq_host_array *h, const size_t *index)
{
	const size_t *strides = clq_host_array_get_strides(h);
	uint8_t *p = clq_host_array_data(h);

	for (size_t i = 0; i < clq_host_array_get_ndim(h); i++)
		p += index[i] * strides[i];
	return p;
}

/* Advances a multi-index over `count`; 0 when it wraps around. */
static int
next_index(size_t ndim, const size_t *count, size_t *index)
{
	for (size_t i = ndim; i-- > 0;) {
		if (++index[i] < count[i])
			return 1;
		index[i] = 0;
	}
	return 0;
}

/* Whether `h` equals `before` outside the block and `block_src` inside it
 * (block element i of `h` at h_start + i, of block_src at src_start + i). */
static int
matches_reference(struct clq_host_array *h, struct clq_host_array *before,
		  const size_t *h_start, struct clq_host_array *block_src,
		  const size_t *src_start, const size_t *count)
{
	size_t ndim = clq_host_array_get_ndim(h);
	const size_t *shape = clq_host_array_get_shape(h);
	size_t esize = clq_dtype_size(clq_host_array_get_dtype(h));
	size_t idx[4] = {0};

	do {
		int inside = 1;
		size_t src_idx[4];
		const uint8_t *want;

		for (size_t i = 0; i < ndim; i++) {
			inside = inside && idx[i] >= h_start[i] &&
				 idx[i] < h_start[i] + count[i];
			src_idx[i] = idx[i] - h_start[i] + src_start[i];
		}
		want = inside ? element_at(block_src, src_idx)
			      : element_at(before, idx);
		if (memcmp(element_at(h, idx), want, esize) != 0)
			return 0;
	} while (next_index(ndim, shape, idx));
	return 1;
}

static struct clq_device_array *
make_device(enum clq_dtype dtype, size_t ndim, const size_t *shape,
	    const size_t *padded)
{
	struct clq_device_array *a = NULL;

	ck_assert_ok(clq_device_array_create(test_ctx, dtype, ndim, shape,
					     padded, &a));
	return a;
}

/* Blocks of 1 to 4 axes, edges and single elements included. */
static const struct region_case {
	size_t ndim;
	size_t dev_shape[4], dev_padded[4], host_shape[4];
	size_t dev_start[4], host_start[4], count[4];
} region_cases[] = {
	{1, {17}, {20}, {9}, {8}, {0}, {9}},
	{1, {17}, {17}, {1}, {16}, {0}, {1}},
	{2, {6, 7}, {8, 9}, {3, 5}, {3, 2}, {0, 0}, {3, 5}},
	{2, {6, 7}, {6, 7}, {4, 4}, {5, 6}, {3, 3}, {1, 1}},
	{3, {5, 6, 7}, {6, 6, 9}, {4, 5, 6}, {1, 2, 3}, {0, 1, 2}, {3, 4, 2}},
	{3, {5, 6, 7}, {5, 6, 7}, {5, 6, 7}, {0, 0, 0}, {0, 0, 0}, {5, 6, 7}},
	{4,
	 {3, 2, 3, 4},
	 {4, 3, 3, 5},
	 {3, 2, 3, 4},
	 {1, 0, 1, 1},
	 {0, 0, 0, 0},
	 {2, 2, 2, 3}},
	{4,
	 {3, 2, 3, 4},
	 {3, 2, 3, 4},
	 {2, 2, 2, 2},
	 {2, 1, 2, 3},
	 {1, 1, 1, 1},
	 {1, 1, 1, 1}},
};

START_TEST(regions_match_cpu_reference)
{
	const struct region_case *rc = &region_cases[_i];
	struct clq_queue *q = make_queue();
	struct clq_device_array *a = make_device(CLQ_DTYPE_INT32, rc->ndim,
						 rc->dev_shape, rc->dev_padded);
	struct clq_host_array *initial, *out, *block, *block_before, *after;
	struct clq_event *ev = NULL;

	initial = make_host(CLQ_DTYPE_INT32, rc->ndim, rc->dev_shape, NULL);
	after = make_host(CLQ_DTYPE_INT32, rc->ndim, rc->dev_shape, NULL);
	block = make_host(CLQ_DTYPE_INT32, rc->ndim, rc->host_shape, NULL);
	block_before =
		make_host(CLQ_DTYPE_INT32, rc->ndim, rc->host_shape, NULL);
	out = make_host(CLQ_DTYPE_INT32, rc->ndim, rc->host_shape, NULL);
	fill_random(initial);
	fill_random(out);
	memcpy(clq_host_array_data(block_before), clq_host_array_data(out),
	       clq_host_array_get_nbytes(out));
	ck_assert_ok(clq_device_array_set(a, q, initial));

	/* get_region: only the block of `out` changes. */
	ck_assert_ok(clq_device_array_get_region(a, q, out, rc->dev_start,
						 rc->host_start, rc->count,
						 NULL, 0, &ev));
	ck_assert_ok(clq_event_wait(ev));
	clq_event_unref(ev);
	ck_assert(matches_reference(out, block_before, rc->host_start, initial,
				    rc->dev_start, rc->count));

	/* set_region: only the block of the device array changes. */
	fill_random(block);
	ck_assert_ok(clq_device_array_set_region(a, q, block, rc->dev_start,
						 rc->host_start, rc->count,
						 NULL, 0, NULL));
	ck_assert_ok(clq_device_array_get(a, q, after));
	ck_assert(matches_reference(after, initial, rc->dev_start, block,
				    rc->host_start, rc->count));

	clq_host_array_unref(initial);
	clq_host_array_unref(after);
	clq_host_array_unref(block);
	clq_host_array_unref(block_before);
	clq_host_array_unref(out);
	clq_device_array_unref(a);
	clq_queue_unref(q);
}
END_TEST

START_TEST(copy_region_and_whole_copy)
{
	const size_t shape[2] = {9, 11}, padded[2] = {10, 16};
	const size_t dst_start[2] = {2, 3}, src_start[2] = {5, 0},
		     count[2] = {4, 8};
	struct clq_queue *q = make_queue();
	struct clq_device_array *src =
		make_device(CLQ_DTYPE_COMPLEX64, 2, shape, padded);
	struct clq_device_array *dst =
		make_device(CLQ_DTYPE_COMPLEX64, 2, shape, NULL);
	struct clq_host_array *a =
		make_host(CLQ_DTYPE_COMPLEX64, 2, shape, NULL);
	struct clq_host_array *b =
		make_host(CLQ_DTYPE_COMPLEX64, 2, shape, NULL);
	struct clq_host_array *got =
		make_host(CLQ_DTYPE_COMPLEX64, 2, shape, padded);
	struct clq_event *ev = NULL;

	fill_random(a);
	fill_random(b);
	ck_assert_ok(clq_device_array_set(src, q, a));
	ck_assert_ok(clq_device_array_set(dst, q, b));
	ck_assert_ok(clq_device_array_copy_region(
		dst, q, src, dst_start, src_start, count, NULL, 0, &ev));
	ck_assert_ok(clq_device_array_get(dst, q, got));
	ck_assert(matches_reference(got, b, dst_start, a, src_start, count));

	/* Whole copy across different padded shapes. */
	ck_assert_ok(clq_device_array_copy(dst, q, src, &ev, 1, NULL));
	ck_assert_ok(clq_device_array_get(dst, q, got));
	ck_assert(same_elements(a, got));
	clq_event_unref(ev);
	clq_host_array_unref(a);
	clq_host_array_unref(b);
	clq_host_array_unref(got);
	clq_device_array_unref(src);
	clq_device_array_unref(dst);
	clq_queue_unref(q);
}
END_TEST

/*
 * A block that is the whole of the device array but not of the host array
 * (with the same padded shape) is copied as a block: the host elements
 * past it keep their values, though the device array's padding lies
 * there. Shapes 3 and (2, 3), padded 4 and (2, 4), into hosts of shape 4
 * and (2, 4).
 */
START_TEST(get_region_stays_in_its_block)
{
	static const size_t shapes[2][2] = {{3}, {2, 3}},
			    padded[2][2] = {{4}, {2, 4}},
			    host_shape[2][2] = {{4}, {2, 4}};
	const size_t zero[2] = {0, 0};
	const int32_t padding = -1;
	struct clq_queue *q = make_queue();

	for (size_t nd = 1; nd <= 2; nd++) {
		struct clq_device_array *a = make_device(
			CLQ_DTYPE_INT32, nd, shapes[nd - 1], padded[nd - 1]);
		struct clq_host_array *h = make_host(CLQ_DTYPE_INT32, nd,
						     host_shape[nd - 1], NULL);
		int32_t *v = clq_host_array_data(h);
		size_t n = nd == 1 ? 4 : 8;

		for (size_t i = 0; i < n; i++)
			v[i] = (int32_t)(100 + i);
		ck_assert_ok(
			clq_device_array_fill(a, q, &padding, NULL, 0, NULL));
		ck_assert_ok(clq_device_array_get_region(
			a, q, h, zero, zero, shapes[nd - 1], NULL, 0, NULL));
		ck_assert_ok(clq_queue_finish(q));
		for (size_t i = 0; i < n; i++)
			ck_assert_msg(v[i] == (i % 4 == 3 ? (int32_t)(100 + i)
							  : padding),
				      "%zu axes: host element %zu is %d", nd, i,
				      (int)v[i]);
		clq_host_array_unref(h);
		clq_device_array_unref(a);
	}
	clq_queue_unref(q);
}
END_TEST

/* fill with one random element of each dtype; zero clears everything. */
START_TEST(fill_and_zero_every_dtype)
{
	const size_t shape[2] = {5, 3}, padded[2] = {6, 4};
	enum clq_dtype dtype = (enum clq_dtype)_i;
	size_t esize = clq_dtype_size(dtype);
	struct clq_queue *q = make_queue();
	struct clq_device_array *a = make_device(dtype, 2, shape, padded);
	struct clq_host_array *h = make_host(dtype, 2, shape, NULL);
	uint8_t value[16], zero[16] = {0};
	size_t idx[2] = {0, 0};

	for (size_t b = 0; b < esize; b++)
		value[b] = random_byte() | 1;
	ck_assert_ok(clq_device_array_fill(a, q, value, NULL, 0, NULL));
	ck_assert_ok(clq_device_array_get(a, q, h));
	do {
		ck_assert_mem_eq(element_at(h, idx), value, esize);
	} while (next_index(2, shape, idx));

	ck_assert_ok(clq_device_array_zero(a, q, NULL, 0, NULL));
	ck_assert_ok(clq_device_array_get(a, q, h));
	do {
		ck_assert_mem_eq(element_at(h, idx), zero, esize);
	} while (next_index(2, shape, idx));
	clq_host_array_unref(h);
	clq_device_array_unref(a);
	clq_queue_unref(q);
}
END_TEST

START_TEST(bad_regions_refused)
{
	const size_t shape[2] = {4, 5}, flat[1] = {20}, transposed[2] = {5, 4};
	const size_t zero[2] = {0, 0}, one[2] = {1, 1};
	const size_t past_end[2] = {2, 4}, count_2x2[2] = {2, 2};
	const size_t huge[2] = {SIZE_MAX, 0}, no_count[2] = {1, 0};
	struct clq_queue *q = make_queue();
	struct clq_device_array *a =
		make_device(CLQ_DTYPE_INT8, 2, shape, NULL);
	struct clq_device_array *b = make_device(CLQ_DTYPE_INT8, 1, flat, NULL);
	struct clq_device_array *c =
		make_device(CLQ_DTYPE_UINT8, 2, shape, NULL);
	struct clq_device_array *t =
		make_device(CLQ_DTYPE_INT8, 2, transposed, NULL);
	struct clq_host_array *h = make_host(CLQ_DTYPE_INT8, 2, shape, NULL);
	struct clq_event *ev = (struct clq_event *)&ev;
	const int8_t seven = 7;

	test_log_expect("exceed its length");
	ck_assert_rc(clq_device_array_set_region(a, q, h, past_end, zero,
						 count_2x2, NULL, 0, &ev),
		     CLQ_ERROR_OUT_OF_RANGE);
	ck_assert_ptr_null(ev);
	ck_assert_rc(clq_device_array_get_region(a, q, h, zero, huge, one, NULL,
						 0, NULL),
		     CLQ_ERROR_OUT_OF_RANGE);
	ck_assert_rc(clq_device_array_copy_region(a, q, a, zero, past_end,
						  count_2x2, NULL, 0, NULL),
		     CLQ_ERROR_OUT_OF_RANGE);
	test_log_expect("is zero");
	ck_assert_rc(clq_device_array_get_region(a, q, h, zero, zero, no_count,
						 NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	/* Shape mismatches name both shapes, dtype mismatches both types. */
	test_log_expect("destination [4, 5], source [20]");
	ck_assert_rc(clq_device_array_copy_region(a, q, b, zero, zero, one,
						  NULL, 0, NULL),
		     CLQ_ERROR_SHAPE_MISMATCH);
	ck_assert(test_log_seen());
	test_log_expect("destination [4, 5], source [20]");
	ck_assert_rc(clq_device_array_copy(a, q, b, NULL, 0, NULL),
		     CLQ_ERROR_SHAPE_MISMATCH);
	ck_assert(test_log_seen());
	test_log_expect("destination [4, 5], source [5, 4]");
	ck_assert_rc(clq_device_array_copy(a, q, t, NULL, 0, NULL),
		     CLQ_ERROR_SHAPE_MISMATCH);
	ck_assert(test_log_seen());
	test_log_expect("device [20], host [4, 5]");
	ck_assert_rc(clq_device_array_set_region(b, q, h, zero, zero, one, NULL,
						 0, NULL),
		     CLQ_ERROR_SHAPE_MISMATCH);
	ck_assert(test_log_seen());
	test_log_expect("destination int8, source uint8");
	ck_assert_rc(clq_device_array_copy(a, q, c, NULL, 0, NULL),
		     CLQ_ERROR_TYPE_MISMATCH);
	ck_assert(test_log_seen());
	test_log_expect("is NULL");
	ck_assert_rc(clq_device_array_set_region(a, q, h, NULL, zero, one, NULL,
						 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_device_array_copy_region(a, q, a, zero, zero, NULL,
						  NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_device_array_fill(a, q, NULL, NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_device_array_zero(NULL, q, NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);

	/* Block fills: outside the array, zero counts, NULL pointers. */
	test_log_expect("array axis 1: elements 4 + 2 exceed its length 5");
	ck_assert_rc(clq_device_array_fill_region(a, q, past_end, count_2x2,
						  &seven, NULL, 0, &ev),
		     CLQ_ERROR_OUT_OF_RANGE);
	ck_assert(test_log_seen());
	ck_assert_ptr_null(ev);
	test_log_expect("exceed its length");
	ck_assert_rc(clq_device_array_fill_region(a, q, huge, one, &seven, NULL,
						  0, NULL),
		     CLQ_ERROR_OUT_OF_RANGE);
	ck_assert_rc(clq_device_array_fill_region(a, q, zero, huge, &seven,
						  NULL, 0, NULL),
		     CLQ_ERROR_OUT_OF_RANGE);
	test_log_expect("count[1] is zero");
	ck_assert_rc(clq_device_array_fill_region(a, q, zero, no_count, &seven,
						  NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	test_log_expect("is NULL");
	ck_assert_rc(clq_device_array_fill_region(a, q, zero, one, NULL, NULL,
						  0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_device_array_fill_region(a, q, NULL, one, &seven, NULL,
						  0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_device_array_fill_region(a, q, zero, NULL, &seven,
						  NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_device_array_fill_region(NULL, q, zero, one, &seven,
						  NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_device_array_fill_region(a, NULL, zero, one, &seven,
						  NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	clq_host_array_unref(h);
	clq_device_array_unref(a);
	clq_device_array_unref(b);
	clq_device_array_unref(c);
	clq_device_array_unref(t);
	clq_queue_unref(q);
}
END_TEST

/* ------------------------------------------------ sub-buffers (aliases) */

/*
 * PoCL 3.1 crashes (SIGSEGV inside clEnqueueCopyBufferRect) in every
 * rectangular copy that touches a sub-buffer, and an alias is one; clq
 * makes such copies on the alias's buffer at its offset instead (see
 * enqueue_rect() in lib/device_array.c). Without that route each test
 * below dies on PoCL, which Check reports as a failure.
 */

/* The device's sub-buffer alignment in bytes. */
static size_t
base_align(void)
{
	cl_uint bits = 0;

	ck_assert_int_eq(
		clGetDeviceInfo(
			clq_device_get_cl(clq_context_get_device(test_ctx)),
			CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof(bits), &bits,
			NULL),
		CL_SUCCESS);
	return bits / 8;
}

static void
raw_write(struct clq_queue *q, cl_mem mem, size_t offset, size_t n,
	  const void *data)
{
	ck_assert_int_eq(clEnqueueWriteBuffer(clq_queue_get_cl(q), mem, CL_TRUE,
					      offset, n, data, 0, NULL, NULL),
			 CL_SUCCESS);
}

static void
raw_read(struct clq_queue *q, cl_mem mem, size_t offset, size_t n, void *data)
{
	ck_assert_int_eq(clEnqueueReadBuffer(clq_queue_get_cl(q), mem, CL_TRUE,
					     offset, n, data, 0, NULL, NULL),
			 CL_SUCCESS);
}

static void
random_bytes(void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((uint8_t *)p)[i] = random_byte();
}

/* A float32 array of `n` random elements; `values` gets a copy. */
static struct clq_device_array *
random_floats(struct clq_queue *q, size_t ndim, const size_t *shape,
	      const size_t *padded, float *values, size_t n)
{
	struct clq_device_array *a =
		make_device(CLQ_DTYPE_FLOAT32, ndim, shape, padded);

	for (size_t i = 0; i < n; i++)
		values[i] = (float)random_byte() + 0.5f;
	raw_write(q, clq_device_array_get_cl(a), 0, n * sizeof(float), values);
	return a;
}

/*
 * The case: a (1, 10) float32 alias of a (10,) array and a
 * (10, 10) array, the block [0, 7:9] copied both ways; the alias starts
 * at offset 0 (_i == 0) or one alignment unit into its buffer (_i == 1),
 * so that the offset the route adds is checked too.
 */
START_TEST(alias_copy_region_block)
{
	const size_t off = _i ? base_align() : 0, lead = off / sizeof(float);
	const size_t row[2] = {1, 10}, square[2] = {10, 10};
	const size_t n_base = lead + 10;
	const size_t at07[2] = {0, 7}, at00[2] = {0, 0}, at31[2] = {3, 1};
	const size_t count[2] = {1, 2};
	struct clq_queue *q = make_queue();
	float *base_v = malloc(n_base * sizeof(float)), big_v[100];
	float *base_got = malloc(n_base * sizeof(float)), big_got[100];
	struct clq_device_array *base, *big, *alias = NULL;

	base = random_floats(q, 1, &n_base, NULL, base_v, n_base);
	big = random_floats(q, 2, square, NULL, big_v, 100);
	ck_assert_ok(clq_device_array_create_alias(
		test_ctx, clq_device_array_get_cl(base), off, CLQ_DTYPE_FLOAT32,
		2, row, NULL, &alias));

	/* alias [0, 0:2] -> big [0, 7:9] */
	ck_assert_ok(clq_device_array_copy_region(big, q, alias, at07, at00,
						  count, NULL, 0, NULL));
	raw_read(q, clq_device_array_get_cl(big), 0, sizeof(big_got), big_got);
	big_v[7] = base_v[lead + 0];
	big_v[8] = base_v[lead + 1];
	ck_assert_mem_eq(big_got, big_v, sizeof(big_v));

	/* big [3, 1:3] -> alias [0, 7:9] */
	ck_assert_ok(clq_device_array_copy_region(alias, q, big, at07, at31,
						  count, NULL, 0, NULL));
	raw_read(q, clq_device_array_get_cl(base), 0, n_base * sizeof(float),
		 base_got);
	base_v[lead + 7] = big_v[31];
	base_v[lead + 8] = big_v[32];
	ck_assert_mem_eq(base_got, base_v, n_base * sizeof(float));

	free(base_v);
	free(base_got);
	clq_device_array_unref(alias);
	clq_device_array_unref(big);
	clq_device_array_unref(base);
	clq_queue_unref(q);
}
END_TEST

/* Whole copies between an alias and a differently padded array. */
START_TEST(alias_copy_other_padding)
{
	const size_t off = _i ? base_align() : 0, lead = off / sizeof(float);
	const size_t shape[2] = {3, 4}, padded[2] = {4, 7};
	const size_t n_base = lead + 12;
	struct clq_queue *q = make_queue();
	float *base_v = malloc(n_base * sizeof(float)), pad_v[28], got[28];
	float *base_got = malloc(n_base * sizeof(float));
	struct clq_device_array *base, *pad, *alias = NULL;

	base = random_floats(q, 1, &n_base, NULL, base_v, n_base);
	pad = random_floats(q, 2, shape, padded, pad_v, 28);
	ck_assert_ok(clq_device_array_create_alias(
		test_ctx, clq_device_array_get_cl(base), off, CLQ_DTYPE_FLOAT32,
		2, shape, NULL, &alias));

	ck_assert_ok(clq_device_array_copy(pad, q, alias, NULL, 0, NULL));
	raw_read(q, clq_device_array_get_cl(pad), 0, sizeof(got), got);
	for (size_t r = 0; r < 3; r++)
		for (size_t c = 0; c < 4; c++)
			pad_v[r * 7 + c] = base_v[lead + r * 4 + c];
	ck_assert_mem_eq(got, pad_v, sizeof(got));

	/* the other way, from new values */
	random_bytes(pad_v, sizeof(pad_v));
	raw_write(q, clq_device_array_get_cl(pad), 0, sizeof(pad_v), pad_v);
	ck_assert_ok(clq_device_array_copy(alias, q, pad, NULL, 0, NULL));
	raw_read(q, clq_device_array_get_cl(base), 0, n_base * sizeof(float),
		 base_got);
	for (size_t r = 0; r < 3; r++)
		for (size_t c = 0; c < 4; c++)
			base_v[lead + r * 4 + c] = pad_v[r * 7 + c];
	ck_assert_mem_eq(base_got, base_v, n_base * sizeof(float));

	free(base_v);
	free(base_got);
	clq_device_array_unref(alias);
	clq_device_array_unref(pad);
	clq_device_array_unref(base);
	clq_queue_unref(q);
}
END_TEST

/*
 * Host transfers of an alias: regions, and whole arrays with another
 * padding. With CLQ_HOST_ARRAY_STRATEGY=remapped the host side is a
 * buffer, so these are rectangular device copies (test array-remapped).
 */
START_TEST(alias_host_transfers)
{
	const size_t off = _i ? base_align() : 0, lead = off / sizeof(float);
	const size_t shape[2] = {1, 10}, host_padded[2] = {2, 12};
	const size_t at00[2] = {0, 0}, at07[2] = {0, 7}, at03[2] = {0, 3};
	const size_t count[2] = {1, 2};
	const size_t n_base = lead + 10;
	struct clq_queue *q = make_queue();
	float *base_v = malloc(n_base * sizeof(float));
	float *base_got = malloc(n_base * sizeof(float));
	struct clq_device_array *base, *alias = NULL;
	struct clq_host_array *h =
		make_host(CLQ_DTYPE_FLOAT32, 2, shape, host_padded);
	float *hd;

	base = random_floats(q, 1, &n_base, NULL, base_v, n_base);
	ck_assert_ok(clq_device_array_create_alias(
		test_ctx, clq_device_array_get_cl(base), off, CLQ_DTYPE_FLOAT32,
		2, shape, NULL, &alias));
	hd = clq_host_array_data(h);
	memset(hd, 0, clq_host_array_get_nbytes(h));

	/* get_region: alias [0, 7:9] -> host [0, 0:2] */
	ck_assert_ok(clq_device_array_get_region(alias, q, h, at07, at00, count,
						 NULL, 0, NULL));
	ck_assert_ok(clq_queue_finish(q));
	hd = clq_host_array_data(h);
	ck_assert_float_eq(hd[0], base_v[lead + 7]);
	ck_assert_float_eq(hd[1], base_v[lead + 8]);
	ck_assert_float_eq(hd[2], 0.0f);

	/* whole get into a padded host array */
	ck_assert_ok(clq_device_array_get(alias, q, h));
	hd = clq_host_array_data(h);
	for (size_t c = 0; c < 10; c++)
		ck_assert_float_eq(hd[c], base_v[lead + c]);

	/* set_region: host [0, 3:5] -> alias [0, 0:2]; whole set after */
	hd[3] = 101.5f;
	hd[4] = 102.5f;
	ck_assert_ok(clq_device_array_set_region(alias, q, h, at00, at03, count,
						 NULL, 0, NULL));
	ck_assert_ok(clq_queue_finish(q));
	raw_read(q, clq_device_array_get_cl(base), 0, n_base * sizeof(float),
		 base_got);
	base_v[lead + 0] = 101.5f;
	base_v[lead + 1] = 102.5f;
	ck_assert_mem_eq(base_got, base_v, n_base * sizeof(float));
	hd = clq_host_array_data(h);
	for (size_t c = 0; c < 10; c++)
		hd[c] = (float)c + 0.25f;
	ck_assert_ok(clq_device_array_set(alias, q, h));
	raw_read(q, clq_device_array_get_cl(base), 0, n_base * sizeof(float),
		 base_got);
	for (size_t c = 0; c < 10; c++)
		base_v[lead + c] = (float)c + 0.25f;
	ck_assert_mem_eq(base_got, base_v, n_base * sizeof(float));

	free(base_v);
	free(base_got);
	clq_host_array_unref(h);
	clq_device_array_unref(alias);
	clq_device_array_unref(base);
	clq_queue_unref(q);
}
END_TEST

/*
 * Copies whose two sides lie in one buffer: an array and an alias made in
 * it, or two aliases of one buffer. Routed to that buffer, equal pitches
 * make one rectangular copy; different pitches, which OpenCL refuses on
 * one buffer, go row by row; and such blocks that overlap are refused.
 */
START_TEST(alias_copy_within_one_buffer)
{
	const size_t align = base_align(), a_cols = align / sizeof(int32_t);
	const size_t rows = 6, total = rows * a_cols;
	const size_t a_shape[2] = {rows, a_cols};
	const size_t same[2] = {2, a_cols}, narrow[2] = {2, 3},
		     narrow_pad[2] = {2, 5};
	const size_t at00[2] = {0, 0}, at01[2] = {0, 1}, at02[2] = {0, 2};
	const size_t count[2] = {2, 3};
	struct clq_queue *q = make_queue();
	int32_t *want = malloc(total * sizeof(int32_t));
	int32_t *got = malloc(total * sizeof(int32_t));
	struct clq_device_array *a, *same_alias = NULL, *narrow_alias = NULL,
				    *over = NULL;
	cl_mem mem;

	a = make_device(CLQ_DTYPE_INT32, 2, a_shape, NULL);
	mem = clq_device_array_get_cl(a);
	random_bytes(want, total * sizeof(int32_t));
	raw_write(q, mem, 0, total * sizeof(int32_t), want);
	/* rows 4 and 5 of `a`, same pitch */
	ck_assert_ok(clq_device_array_create_alias(test_ctx, mem, 4 * align,
						   CLQ_DTYPE_INT32, 2, same,
						   NULL, &same_alias));
	/* rows 2 and 3 of `a`, a (2, 3) array padded to (2, 5) */
	ck_assert_ok(clq_device_array_create_alias(test_ctx, mem, 2 * align,
						   CLQ_DTYPE_INT32, 2, narrow,
						   narrow_pad, &narrow_alias));

	/* equal pitches: a [0:2, 2:5] <- same_alias [0:2, 1:4] */
	ck_assert_ok(clq_device_array_copy_region(a, q, same_alias, at02, at01,
						  count, NULL, 0, NULL));
	raw_read(q, mem, 0, total * sizeof(int32_t), got);
	for (size_t r = 0; r < 2; r++)
		for (size_t c = 0; c < 3; c++)
			want[r * a_cols + 2 + c] =
				want[(4 + r) * a_cols + 1 + c];
	ck_assert_mem_eq(got, want, total * sizeof(int32_t));

	/* different pitches: a [0:2, 1:4] <- narrow_alias [0:2, 0:3] */
	ck_assert_ok(clq_device_array_copy_region(a, q, narrow_alias, at01,
						  at00, count, NULL, 0, NULL));
	raw_read(q, mem, 0, total * sizeof(int32_t), got);
	for (size_t r = 0; r < 2; r++)
		for (size_t c = 0; c < 3; c++)
			want[r * a_cols + 1 + c] = want[2 * a_cols + r * 5 + c];
	ck_assert_mem_eq(got, want, total * sizeof(int32_t));

	/* different pitches, whole copy: narrow_alias <- a packed (2, 3)
	 * alias at the buffer's start */
	ck_assert_ok(clq_device_array_create_alias(
		test_ctx, mem, 0, CLQ_DTYPE_INT32, 2, narrow, NULL, &over));
	ck_assert_ok(
		clq_device_array_copy(narrow_alias, q, over, NULL, 0, NULL));
	raw_read(q, mem, 0, total * sizeof(int32_t), got);
	for (size_t r = 0; r < 2; r++)
		for (size_t c = 0; c < 3; c++)
			want[2 * a_cols + r * 5 + c] = want[r * 3 + c];
	ck_assert_mem_eq(got, want, total * sizeof(int32_t));
	clq_device_array_unref(over);

	/* overlapping blocks with different pitches are refused */
	ck_assert_ok(clq_device_array_create_alias(test_ctx, mem, 2 * align,
						   CLQ_DTYPE_INT32, 2, narrow,
						   NULL, &over));
	test_log_expect("different pitches and overlap");
	ck_assert_rc(
		clq_device_array_copy(narrow_alias, q, over, NULL, 0, NULL),
		CL_MEM_COPY_OVERLAP);
	ck_assert(test_log_seen());
	raw_read(q, mem, 0, total * sizeof(int32_t), got);
	ck_assert_mem_eq(got, want, total * sizeof(int32_t));

	free(want);
	free(got);
	clq_device_array_unref(over);
	clq_device_array_unref(narrow_alias);
	clq_device_array_unref(same_alias);
	clq_device_array_unref(a);
	clq_queue_unref(q);
}
END_TEST

/*
 * Copies within one buffer whose blocks overlap are refused before
 * anything is enqueued, with 4 axes as with 3, though a 4-D copy is one
 * command per index of the first axis: blocks of one array one index
 * apart along the first axis, which overlap only across two commands, and
 * blocks of an array and an alias over it (its first axes padded
 * otherwise) that meet only at the second index, where the first
 * command used to run before the driver refused the second.
 */
START_TEST(copy_4d_overlap_refused_before_enqueue)
{
	/* [3 axes] then [4 axes]: 3 x 2 elements, the block moved by one */
	const size_t shapes[2][4] = {{3, 1, 2}, {3, 1, 1, 2}},
		     to[2][4] = {{1, 0, 0}, {1, 0, 0, 0}},
		     from[2][4] = {{0}, {0}},
		     counts[2][4] = {{2, 1, 2}, {2, 1, 1, 2}};
	const size_t r_shape[4] = {4, 3, 1, 2}, x_shape[4] = {5, 1, 1, 2};
	const size_t r_to[4] = {0, 1, 0, 0}, x_from[4] = {3, 0, 0, 0},
		     r_count[4] = {2, 1, 1, 2};
	struct clq_queue *q = make_queue();
	struct clq_device_array *r, *x = NULL;
	struct clq_event *ev;
	int32_t want[24], got[24];

	for (size_t nd = 3; nd <= 4; nd++) {
		struct clq_device_array *a =
			make_device(CLQ_DTYPE_INT32, nd, shapes[nd - 3], NULL);

		random_bytes(want, 6 * sizeof(int32_t));
		raw_write(q, clq_device_array_get_cl(a), 0, 6 * sizeof(int32_t),
			  want);
		ev = (struct clq_event *)&ev;
		test_log_expect("and overlap");
		ck_assert_rc(clq_device_array_copy_region(
				     a, q, a, to[nd - 3], from[nd - 3],
				     counts[nd - 3], NULL, 0, &ev),
			     CL_MEM_COPY_OVERLAP);
		ck_assert(test_log_seen());
		ck_assert_ptr_null(ev);
		ck_assert_ok(clq_queue_finish(q));
		raw_read(q, clq_device_array_get_cl(a), 0, 6 * sizeof(int32_t),
			 got);
		ck_assert_mem_eq(got, want, 6 * sizeof(int32_t));
		clq_device_array_unref(a);
	}

	r = make_device(CLQ_DTYPE_INT32, 4, r_shape, NULL);
	ck_assert_ok(clq_device_array_create_alias(
		test_ctx, clq_device_array_get_cl(r), 0, CLQ_DTYPE_INT32, 4,
		x_shape, NULL, &x));
	random_bytes(want, sizeof(want));
	raw_write(q, clq_device_array_get_cl(r), 0, sizeof(want), want);
	ev = (struct clq_event *)&ev;
	test_log_expect("and overlap");
	ck_assert_rc(clq_device_array_copy_region(r, q, x, r_to, x_from,
						  r_count, NULL, 0, &ev),
		     CL_MEM_COPY_OVERLAP);
	ck_assert(test_log_seen());
	ck_assert_ptr_null(ev);
	ck_assert_ok(clq_queue_finish(q));
	raw_read(q, clq_device_array_get_cl(r), 0, sizeof(got), got);
	ck_assert_mem_eq(got, want, sizeof(want));
	clq_device_array_unref(x);
	clq_device_array_unref(r);
	clq_queue_unref(q);
}
END_TEST

/* A random index below `n`. */
static size_t
random_below(size_t n)
{
	return (size_t)random_byte() % n;
}

/* Byte offset in its buffer of element `idx` of a block at `start`. */
static size_t
block_offset(const struct clq_device_array *a, const size_t *start,
	     const size_t *idx)
{
	const size_t *strides = clq_device_array_get_strides(a);
	size_t o = 0;

	for (size_t i = 0; i < clq_device_array_get_ndim(a); i++)
		o += (start[i] + idx[i]) * strides[i];
	return o;
}

/*
 * Device copies within one buffer between blocks drawn at random, with 1
 * to 4 axes (_i + 1): each is refused with CL_MEM_COPY_OVERLAP exactly when
 * the blocks share a byte (marked on the CPU), and otherwise done as a CPU
 * copy predicts. Blocks that interleave without sharing a byte (columns
 * of one array) are copies like any other. With 4 axes the blocks lie in
 * an array and in an alias over its buffer whose first two axes are
 * padded otherwise, in every combination.
 */
START_TEST(copies_in_one_buffer_refused_iff_they_overlap)
{
	const size_t nd = (size_t)_i + 1;
	const size_t a_shape[4] = {3, 3, 3, 4}, a_pad[4] = {3, 4, 3, 5};
	const size_t x_shape[4] = {2, 4, 3, 4}, x_pad[4] = {2, 6, 3, 5};
	const size_t esize = sizeof(int32_t);
	struct clq_queue *q = make_queue();
	struct clq_device_array *arrays[2] = {NULL, NULL};
	size_t nbytes, refused = 0, copied = 0;
	uint8_t *before, *want, *got, *mark;
	cl_mem mem;

	arrays[0] = make_device(CLQ_DTYPE_INT32, nd, a_shape + 4 - nd,
				a_pad + 4 - nd);
	mem = clq_device_array_get_cl(arrays[0]);
	nbytes = clq_device_array_get_nbytes(arrays[0]);
	if (nd == 4)
		ck_assert_ok(clq_device_array_create_alias(
			test_ctx, mem, 0, CLQ_DTYPE_INT32, 4, x_shape, x_pad,
			&arrays[1]));
	before = malloc(nbytes);
	want = malloc(nbytes);
	got = malloc(nbytes);
	mark = malloc(nbytes);
	for (int t = 0; t < 200; t++) {
		struct clq_device_array *dst = arrays[0], *src = arrays[0];
		size_t dst_start[4], src_start[4], count[4], idx[4] = {0};
		const size_t *ds, *ss;
		int overlap = 0, rc;

		if (nd == 4) {
			dst = arrays[random_below(2)];
			src = arrays[random_below(2)];
		}
		ds = clq_device_array_get_shape(dst);
		ss = clq_device_array_get_shape(src);
		for (size_t i = 0; i < nd; i++) {
			size_t most = ds[i] < ss[i] ? ds[i] : ss[i];

			count[i] = 1 + random_below(most);
			dst_start[i] = random_below(ds[i] - count[i] + 1);
			src_start[i] = random_below(ss[i] - count[i] + 1);
		}
		memset(mark, 0, nbytes);
		do {
			memset(mark + block_offset(dst, dst_start, idx), 1,
			       esize);
		} while (next_index(nd, count, idx));
		do {
			size_t o = block_offset(src, src_start, idx);

			for (size_t b = 0; b < esize; b++)
				overlap |= mark[o + b];
		} while (next_index(nd, count, idx));
		random_bytes(before, nbytes);
		memcpy(want, before, nbytes);
		if (!overlap) {
			do {
				memcpy(want + block_offset(dst, dst_start, idx),
				       before + block_offset(src, src_start,
							     idx),
				       esize);
			} while (next_index(nd, count, idx));
		}
		raw_write(q, mem, 0, nbytes, before);
		test_log_expect("and overlap");
		rc = clq_device_array_copy_region(dst, q, src, dst_start,
						  src_start, count, NULL, 0,
						  NULL);
		ck_assert_msg(
			rc == (overlap ? CL_MEM_COPY_OVERLAP : CLQ_SUCCESS),
			"case %d: %zu axes, %s <- %s, count [%zu %zu "
			"%zu %zu]: %s",
			t, nd, dst == arrays[0] ? "array" : "alias",
			src == arrays[0] ? "array" : "alias", count[0],
			count[1 % nd], count[2 % nd], count[3 % nd],
			clq_error_name(rc));
		ck_assert_ok(clq_queue_finish(q));
		raw_read(q, mem, 0, nbytes, got);
		ck_assert_msg(memcmp(got, want, nbytes) == 0,
			      "case %d: wrong bytes after the copy", t);
		if (overlap)
			refused++;
		else
			copied++;
	}
	/* both outcomes were tried */
	ck_assert_uint_gt(refused, 0);
	ck_assert_uint_gt(copied, 0);
	free(before);
	free(want);
	free(got);
	free(mark);
	clq_device_array_unref(arrays[1]);
	clq_device_array_unref(arrays[0]);
	clq_queue_unref(q);
}
END_TEST

/* -------------------------------------------------------- block fills */

/* Whether byte `offset` of an array lies in an element of the block. */
static int
in_block(size_t ndim, const size_t *padded, size_t esize, const size_t *start,
	 const size_t *count, size_t offset)
{
	size_t e = offset / esize;

	for (size_t i = ndim; i-- > 0;) {
		size_t idx = e % padded[i];

		e /= padded[i];
		if (idx < start[i] || idx - start[i] >= count[i])
			return 0;
	}
	return 1;
}

/* Asserts that `got` is `before` with the block's elements (padding
 * excluded) set to `value`. */
static void
assert_filled(const uint8_t *got, const uint8_t *before, size_t nbytes,
	      size_t ndim, const size_t *padded, size_t esize,
	      const size_t *start, const size_t *count, const void *value)
{
	for (size_t o = 0; o < nbytes; o++) {
		int inside = in_block(ndim, padded, esize, start, count, o);
		uint8_t want = inside ? ((const uint8_t *)value)[o % esize]
				      : before[o];

		ck_assert_msg(got[o] == want,
			      "byte %zu (%s the block) is %u, expected %u", o,
			      inside ? "inside" : "outside", got[o], want);
	}
}

/*
 * Fills a block of an array whose bytes (padding included) start random,
 * reads every byte back and checks them. With `root_offset` > 0 the array
 * is an alias that far into a larger buffer, whose other bytes must stay
 * as they were.
 */
static void
check_fill_region(enum clq_dtype dtype, size_t ndim, const size_t *shape,
		  const size_t *padded, const size_t *start,
		  const size_t *count, size_t root_offset)
{
	struct clq_queue *q = make_queue();
	struct clq_device_array *a = NULL, *holder = NULL;
	size_t esize = clq_dtype_size(dtype), nbytes = esize, total;
	uint8_t value[16], *before, *got;
	cl_mem mem;

	for (size_t i = 0; i < ndim; i++)
		nbytes *= padded[i];
	if (root_offset) {
		/* bytes before and after the alias, to check they stay */
		total = root_offset + nbytes + 64;
		holder = make_device(CLQ_DTYPE_UINT8, 1, &total, NULL);
		mem = clq_device_array_get_cl(holder);
		ck_assert_ok(clq_device_array_create_alias(
			test_ctx, mem, root_offset, dtype, ndim, shape, padded,
			&a));
	} else {
		total = nbytes;
		a = make_device(dtype, ndim, shape, padded);
		mem = clq_device_array_get_cl(a);
	}
	ck_assert_uint_eq(clq_device_array_get_nbytes(a), nbytes);
	before = malloc(total);
	got = malloc(total);
	random_bytes(before, total);
	random_bytes(value, esize);
	raw_write(q, mem, 0, total, before);

	ck_assert_ok(clq_device_array_fill_region(a, q, start, count, value,
						  NULL, 0, NULL));
	raw_read(q, mem, 0, total, got);
	ck_assert_mem_eq(got, before, root_offset);
	assert_filled(got + root_offset, before + root_offset, nbytes, ndim,
		      padded, esize, start, count, value);
	ck_assert_mem_eq(got + root_offset + nbytes,
			 before + root_offset + nbytes,
			 total - root_offset - nbytes);
	free(before);
	free(got);
	clq_device_array_unref(a);
	clq_device_array_unref(holder);
	clq_queue_unref(q);
}

/* The example: elements 3..10 of 32 int32 set to 7. */
START_TEST(fill_region_elements_3_to_10)
{
	const size_t n = 32, start = 3, count = 8;
	const int32_t seven = 7;
	struct clq_queue *q = make_queue();
	struct clq_device_array *a = make_device(CLQ_DTYPE_INT32, 1, &n, NULL);
	struct clq_host_array *h = make_host(CLQ_DTYPE_INT32, 1, &n, NULL);
	int32_t before[32], *got;
	struct clq_event *ev = NULL;

	for (int i = 0; i < 32; i++)
		before[i] = 100 + i;
	memcpy(clq_host_array_data(h), before, sizeof(before));
	ck_assert_ok(clq_device_array_set(a, q, h));
	ck_assert_ok(clq_device_array_fill_region(a, q, &start, &count, &seven,
						  NULL, 0, &ev));
	ck_assert_ptr_nonnull(ev);
	ck_assert_ok(clq_device_array_get_async(a, q, h, &ev, 1, NULL));
	ck_assert_ok(clq_queue_finish(q));
	got = clq_host_array_data(h);
	for (int i = 0; i < 32; i++)
		ck_assert_int_eq(got[i], i >= 3 && i <= 10 ? 7 : 100 + i);
	clq_event_unref(ev);
	clq_host_array_unref(h);
	clq_device_array_unref(a);
	clq_queue_unref(q);
}
END_TEST

/* Every dtype, a block inside a padded 2-D array. */
START_TEST(fill_region_every_dtype)
{
	const size_t shape[2] = {5, 3}, padded[2] = {6, 4};
	const size_t start[2] = {1, 1}, count[2] = {3, 2};

	check_fill_region((enum clq_dtype)_i, 2, shape, padded, start, count,
			  0);
}
END_TEST

/* Blocks of 1 to 4 axes: contiguous ones (one fill), rows of padded
 * arrays, many rows, and each way of repeating along a third axis. */
static const struct fill_case {
	size_t ndim;
	size_t shape[4], padded[4], start[4], count[4];
} fill_cases[] = {
	{1, {32}, {40}, {3}, {8}},
	{1, {32}, {32}, {0}, {32}},
	{2, {5, 7}, {5, 7}, {1, 0}, {3, 7}},
	{2, {5, 7}, {6, 9}, {1, 0}, {3, 7}},
	{2, {5, 7}, {6, 9}, {4, 6}, {1, 1}},
	{2, {300, 3}, {300, 5}, {0, 1}, {300, 2}},
	{2, {257, 4}, {260, 4}, {1, 0}, {255, 3}},
	{3, {4, 5, 6}, {5, 6, 8}, {1, 1, 2}, {3, 4, 3}},
	{3, {4, 5, 6}, {4, 5, 6}, {1, 0, 0}, {2, 5, 6}},
	{3, {4, 5, 6}, {4, 5, 6}, {1, 2, 0}, {3, 2, 6}},
	{3, {9, 1, 6}, {9, 2, 7}, {0, 0, 1}, {9, 1, 5}},
	{4, {3, 4, 5, 6}, {4, 5, 6, 7}, {0, 1, 1, 1}, {3, 3, 4, 5}},
	{4, {40, 2, 2, 3}, {40, 3, 2, 4}, {0, 0, 0, 0}, {40, 2, 2, 2}},
	{4, {40, 3, 2, 3}, {40, 4, 2, 4}, {0, 0, 0, 0}, {40, 3, 2, 2}},
	{4, {3, 4, 5, 6}, {3, 4, 5, 8}, {1, 0, 2, 1}, {1, 4, 1, 5}},
	{4, {3, 4, 5, 6}, {3, 4, 5, 6}, {1, 1, 0, 0}, {2, 3, 5, 6}},
};

START_TEST(fill_region_blocks)
{
	const struct fill_case *c = &fill_cases[_i];

	check_fill_region(CLQ_DTYPE_INT16, c->ndim, c->shape, c->padded,
			  c->start, c->count, 0);
}
END_TEST

/* An alias one alignment unit into its buffer: the fill and its
 * rectangular copies take the root-buffer route, at its offset. */
START_TEST(fill_region_alias)
{
	const struct fill_case *c = &fill_cases[_i];

	check_fill_region(CLQ_DTYPE_COMPLEX64, c->ndim, c->shape, c->padded,
			  c->start, c->count, base_align());
}
END_TEST

/* Through the common enqueue path: the wait list holds it back, its event
 * completes after it, and a profiling queue times it. */
START_TEST(fill_region_waits_and_gives_event)
{
	const size_t shape[2] = {64, 6}, padded[2] = {64, 8};
	const size_t start[2] = {2, 1}, count[2] = {60, 4};
	const uint32_t value = 0xdeadbeefu;
	struct clq_queue *q = test_queue_new(CLQ_QUEUE_PROFILING);
	struct clq_device_array *a =
		make_device(CLQ_DTYPE_UINT32, 2, shape, padded);
	struct clq_host_array *h = make_host(CLQ_DTYPE_UINT32, 2, shape, NULL);
	struct clq_event *gate = test_user_event_new(), *ev = NULL;
	struct clq_event_times t;
	const uint32_t *got;

	ck_assert_ok(clq_device_array_zero(a, q, NULL, 0, NULL));
	ck_assert_ok(clq_device_array_fill_region(a, q, start, count, &value,
						  &gate, 1, &ev));
	ck_assert_ok(clq_queue_flush(q));
	test_sleep_ms(20);
	ck_assert_int_gt(test_event_status(ev), CL_COMPLETE);
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(ev));
	ck_assert_ok(clq_event_get_times(ev, &t));
	ck_assert_uint_ge(t.end, t.start);
	ck_assert_ok(clq_device_array_get(a, q, h));
	got = clq_host_array_data(h);
	for (size_t r = 0; r < 64; r++)
		for (size_t c = 0; c < 6; c++) {
			int inside = r >= 2 && r < 62 && c >= 1 && c < 5;

			ck_assert_uint_eq(got[r * 6 + c], inside ? value : 0);
		}
	clq_event_unref(gate);
	clq_event_unref(ev);
	clq_host_array_unref(h);
	clq_device_array_unref(a);
	clq_queue_unref(q);
}
END_TEST

/*
 * Enqueues that make several OpenCL commands (a block fill, a 4-D
 * rectangular copy, a copy row by row, a remapped host transfer) behind a
 * gate that fails, none of whose events the caller holds: PoCL 3.1 aborts
 * unless clq keeps every command's event (failsafe.c).
 */
START_TEST(multi_command_enqueues_behind_a_failed_gate)
{
	static const size_t shape[4] = {2, 3, 4, 5}, padded[4] = {2, 3, 6, 7};
	static const size_t start[4] = {0, 1, 1, 1}, count[4] = {2, 2, 3, 3};
	/* `part`, an alias past the block of `whole` it is copied into, has
	 * another row pitch: the copy goes row by row (enqueue_rows()). */
	const size_t off = base_align(), rows[2] = {2, 3};
	const size_t row[2] = {off / 32 + 2, 8};
	struct clq_queue *q = make_queue();
	struct clq_event *u = NULL, *last = NULL;
	struct clq_device_array *a = NULL, *b = NULL, *whole = NULL,
				*part = NULL;
	struct clq_host_array *h = make_host(CLQ_DTYPE_INT32, 4, shape, NULL);
	cl_int seven = 7;
	int rc;

	ck_assert_ok(clq_user_event_create(test_ctx, &u));
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_INT32, 4,
					     shape, padded, &a));
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_INT32, 4,
					     shape, NULL, &b));
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_INT32, 2, row,
					     NULL, &whole));
	ck_assert_ok(clq_device_array_create_alias(
		test_ctx, clq_device_array_get_cl(whole), off, CLQ_DTYPE_INT32,
		2, rows, NULL, &part));
	ck_assert_ok(clq_queue_enqueue_wait_for_events(q, &u, 1));
	ck_assert_ok(clq_device_array_fill_region(a, q, start, count, &seven,
						  NULL, 0, NULL));
	ck_assert_ok(clq_device_array_copy(b, q, a, NULL, 0, NULL));
	ck_assert_ok(clq_device_array_set_async(a, q, h, NULL, 0, NULL));
	ck_assert_ok(clq_device_array_get_async(a, q, h, NULL, 0, NULL));
	ck_assert_ok(clq_device_array_copy_region(
		whole, q, part, (const size_t[]){0, 0}, (const size_t[]){0, 0},
		rows, NULL, 0, NULL));
	ck_assert_ok(clq_queue_flush(q));
	test_sleep_ms(20);
	test_log_expect("*");
	ck_assert_ok(clq_user_event_complete(u, CL_INVALID_VALUE));
	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, &last));
	rc = clq_event_wait(last);
	ck_assert(rc == CLQ_SUCCESS || rc == CLQ_ERROR_COMMAND_FAILED);
	clq_event_unref(last);
	clq_event_unref(u);
	clq_host_array_unref(h);
	clq_device_array_unref(part);
	clq_device_array_unref(whole);
	clq_device_array_unref(b);
	clq_device_array_unref(a);
	clq_queue_unref(q);
}
END_TEST

static Suite *
array_suite(void)
{
	Suite *s = suite_create("array");
	TCase *tc = tcase_create("layout");

	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, dtype_sizes_and_names);
	tcase_add_test(tc, layout_getters);
	tcase_add_test(tc, create_refuses_bad_layouts);
	tcase_add_test(tc, alias_over_raw_buffer);
	tcase_add_test(tc, alias_of_another_context_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("transfer");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, round_trip_every_dtype_and_layout, 0, N_DTYPES);
	tcase_add_test(tc, async_across_queues);
	tcase_add_test(tc, async_keeps_host_array_alive);
	tcase_add_test(tc, async_keeps_host_array_alive_across_queues);
	tcase_add_test(tc, remapped_transfers_take_turns);
	tcase_add_test(tc, transfer_mismatches_refused);
	tcase_add_loop_test(tc, blocking_transfer_behind_failed_gate, 0, 2);
	tcase_add_test(tc, wrapped_caller_memory);
	suite_add_tcase(s, tc);

	tc = tcase_create("regions");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_loop_test(tc, regions_match_cpu_reference, 0,
			    sizeof(region_cases) / sizeof(region_cases[0]));
	tcase_add_test(tc, copy_region_and_whole_copy);
	tcase_add_test(tc, get_region_stays_in_its_block);
	tcase_add_loop_test(tc, fill_and_zero_every_dtype, 0, N_DTYPES);
	tcase_add_test(tc, bad_regions_refused);
	suite_add_tcase(s, tc);

	/* Rectangular copies that touch an alias (see enqueue_rect()), with
	 * the alias at its buffer's start (0) and one alignment unit in. */
	tc = tcase_create("aliases");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_loop_test(tc, alias_copy_region_block, 0, 2);
	tcase_add_loop_test(tc, alias_copy_other_padding, 0, 2);
	tcase_add_loop_test(tc, alias_host_transfers, 0, 2);
	tcase_add_test(tc, alias_copy_within_one_buffer);
	tcase_add_test(tc, copy_4d_overlap_refused_before_enqueue);
	tcase_add_loop_test(tc, copies_in_one_buffer_refused_iff_they_overlap,
			    0, 4);
	suite_add_tcase(s, tc);

	tc = tcase_create("fill_region");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, fill_region_elements_3_to_10);
	tcase_add_loop_test(tc, fill_region_every_dtype, 0, N_DTYPES);
	tcase_add_loop_test(tc, fill_region_blocks, 0,
			    sizeof(fill_cases) / sizeof(fill_cases[0]));
	tcase_add_loop_test(tc, fill_region_alias, 0,
			    sizeof(fill_cases) / sizeof(fill_cases[0]));
	tcase_add_test(tc, fill_region_waits_and_gives_event);
	tcase_add_test(tc, multi_command_enqueues_behind_a_failed_gate);
	suite_add_tcase(s, tc);

	tc = tcase_create("host");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, host_strategy_is_reported);
	tcase_add_test(tc, unknown_strategy_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_main(array_suite(), 1);
}
