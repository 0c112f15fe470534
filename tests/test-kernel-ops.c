/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Operations for clq's own kernels (clq/operation.h): fill, scale and
 * transpose each against a CPU reference, on padded arrays and shapes
 * that are not multiples of the work-group or tile, with every
 * work-group size or tile path (default, explicit, odd); bad input
 * refused with specific codes; one operation run from two threads; the
 * three in one sequence on two queues, gated, run again, in MANUAL and
 * CHECK.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

/* A float in [-1, 1) from a xorshift generator: repeatable runs. */
static float
random_float(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (float)(rng_state >> 40) / (float)(1u << 23) - 1.0f;
}

static struct clq_dimension *
dim(size_t size, size_t alignment)
{
	struct clq_dimension *d = NULL;

	ck_assert_ok(clq_dimension_create(size, 0, alignment, 0, &d));
	return d;
}

static struct clq_host_array *
host_floats(size_t ndim, const size_t *shape, const size_t *padded)
{
	struct clq_host_array *h = NULL;

	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_FLOAT32, ndim,
					   shape, padded, &h));
	return h;
}

static struct clq_device_array *
device_floats(size_t ndim, const size_t *shape, const size_t *padded)
{
	struct clq_device_array *a = NULL;

	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_FLOAT32, ndim,
					     shape, padded, &a));
	return a;
}

/* Under valgrind and the sanitizers (CLQ_TEST_QUICK), fewer variants:
 * each builds a program, slow there. */
static size_t
variants(size_t all, size_t quick)
{
	return getenv("CLQ_TEST_QUICK") ? quick : all;
}

/* Runs `op` alone on `q` and waits for it. */
static void
run_op(struct clq_operation *op, struct clq_queue *q)
{
	struct clq_event *e = NULL;

	ck_assert_ok(clq_operation_run(op, q, NULL, 0, &e));
	ck_assert_ok(clq_event_wait(e));
	clq_event_unref(e);
}

static size_t
count_of(const struct clq_host_array *h)
{
	return clq_host_array_get_nbytes(h) / sizeof(float);
}

/* ---------------------------------------------------------------- fill */

/*
 * 1-D and 2-D padded arrays, sizes that are not multiples of the
 * work-group: every element, padding included, gets the value.
 */
START_TEST(fill_reference)
{
	static const size_t wgs[] = {0, 7, 1, 64};
	static const size_t shapes[][2] = {{1, 1}, {1000, 1}, {17, 33}};
	struct clq_queue *q = test_queue_new(0);

	for (size_t s = 0; s < 3; s++) {
		size_t ndim = shapes[s][1] == 1 ? 1 : 2;
		size_t shape[2] = {shapes[s][0], shapes[s][1]};
		size_t padded[2] = {shape[0] + 3, shape[1] + 5};
		struct clq_dimension *d[2] = {dim(shape[0], 1),
					      dim(shape[1], 1)};

		for (size_t w = 0; w < variants(4, 2); w++) {
			float value = random_float();
			struct clq_operation *op = NULL;
			struct clq_device_array *a =
				device_floats(ndim, shape, padded);
			struct clq_host_array *h =
				host_floats(ndim, shape, padded);
			float *v = clq_host_array_data(h);

			ck_assert_ok(clq_operation_create_fill(
				test_ctx, ndim, d, value, wgs[w], &op));
			ck_assert_str_eq(clq_operation_get_name(op), "fill");
			ck_assert_uint_eq(clq_operation_get_n_slots(op), 1);
			for (size_t i = 0; i < count_of(h); i++)
				v[i] = -7.0f;
			ck_assert_ok(clq_device_array_set(a, q, h));
			ck_assert_ok(clq_slot_bind(
				clq_operation_get_slot(op, "out"), a));
			run_op(op, q);
			memset(v, 0, clq_host_array_get_nbytes(h));
			ck_assert_ok(clq_device_array_get(a, q, h));
			for (size_t i = 0; i < count_of(h); i++)
				ck_assert_msg(v[i] == value,
					      "shape %zu, wg %zu: element %zu "
					      "is %g, not %g",
					      s, wgs[w], i, (double)v[i],
					      (double)value);
			clq_host_array_unref(h);
			clq_device_array_unref(a);
			clq_operation_unref(op);
		}
		clq_dimension_unref(d[0]);
		clq_dimension_unref(d[1]);
	}
	clq_queue_unref(q);
}
END_TEST

/* --------------------------------------------------------------- scale */

static float
scale_ref(float x, float a, float b, uint32_t iters)
{
	for (uint32_t i = 0; i < iters; i++)
		x = a * x + b;
	return x;
}

/* Within what a fused multiply-add per step may change. */
static void
check_close(float got, float want, const char *what, size_t i)
{
	ck_assert_msg(fabsf(got - want) <= 1e-5f * (1.0f + fabsf(want)),
		      "%s: element %zu is %g, expected %g", what, i,
		      (double)got, (double)want);
}

START_TEST(scale_reference)
{
	static const size_t wgs[] = {0, 5, 32};
	static const uint32_t iters[] = {37, 0, 1};
	const size_t shape[2] = {13, 29}, padded[2] = {14, 32};
	struct clq_dimension *d[2] = {dim(13, 1), dim(29, 1)};
	struct clq_queue *q = test_queue_new(0);
	struct clq_device_array *a = device_floats(2, shape, padded);
	struct clq_host_array *h = host_floats(2, shape, padded);
	struct clq_host_array *x0 = host_floats(2, shape, padded);
	float *v = clq_host_array_data(h), *x = clq_host_array_data(x0);

	for (size_t i = 0; i < count_of(x0); i++)
		x[i] = random_float() * 100.0f;
	for (size_t w = 0; w < variants(3, 2); w++) {
		for (size_t t = 0; t < variants(3, 2); t++) {
			const float mul = 0.97f, add = 0.125f;
			struct clq_operation *op = NULL;

			ck_assert_ok(clq_operation_create_scale(
				test_ctx, 2, d, mul, add, iters[t], wgs[w],
				&op));
			ck_assert_str_eq(clq_operation_get_name(op), "scale");
			ck_assert_int_eq(
				clq_slot_get_access(
					clq_operation_get_slot(op, "data")),
				CLQ_ACCESS_READ_WRITE);
			ck_assert_ok(clq_device_array_set(a, q, x0));
			ck_assert_ok(clq_slot_bind(
				clq_operation_get_slot(op, "data"), a));
			run_op(op, q);
			ck_assert_ok(clq_device_array_get(a, q, h));
			for (size_t r = 0; r < shape[0]; r++)
				for (size_t c = 0; c < shape[1]; c++) {
					size_t i = r * padded[1] + c;

					check_close(v[i],
						    scale_ref(x[i], mul, add,
							      iters[t]),
						    "scale", i);
				}
			clq_operation_unref(op);
		}
	}
	clq_host_array_unref(h);
	clq_host_array_unref(x0);
	clq_device_array_unref(a);
	clq_dimension_unref(d[0]);
	clq_dimension_unref(d[1]);
	clq_queue_unref(q);
}
END_TEST

/* ----------------------------------------------------------- transpose */

/*
 * Padded input and output, shapes that are and are not tile multiples,
 * tiles 5, default (16) and 8: out is in transposed, and out's padding
 * keeps what it held.
 */
START_TEST(transpose_reference)
{
	static const size_t shapes[][2] = {
		{1, 1}, {16, 16}, {17, 33}, {64, 16}, {100, 37}, {5, 129},
	};
	static const size_t tiles[] = {5, 0, 8};
	struct clq_queue *q = test_queue_new(0);

	for (size_t s = 0; s < sizeof(shapes) / sizeof(*shapes); s++) {
		size_t rows = shapes[s][0], cols = shapes[s][1];
		size_t in_shape[2] = {rows, cols},
		       in_pad[2] = {rows + 2, cols + 3};
		size_t out_shape[2] = {cols, rows},
		       out_pad[2] = {cols + 1, rows + 5};
		struct clq_dimension *dr = dim(rows, 1), *dc = dim(cols, 1);
		struct clq_device_array *in =
			device_floats(2, in_shape, in_pad);
		struct clq_device_array *out =
			device_floats(2, out_shape, out_pad);
		struct clq_host_array *src = host_floats(2, in_shape, in_pad);
		struct clq_host_array *dst = host_floats(2, out_shape, out_pad);
		float *x = clq_host_array_data(src);
		float *y = clq_host_array_data(dst);

		for (size_t i = 0; i < count_of(src); i++)
			x[i] = random_float();
		ck_assert_ok(clq_device_array_set(in, q, src));
		for (size_t t = 0; t < variants(3, s % 2 ? 1 : 2); t++) {
			struct clq_operation *op = NULL;

			ck_assert_ok(clq_operation_create_transpose(
				test_ctx, dr, dc, tiles[t], &op));
			ck_assert_str_eq(clq_operation_get_name(op),
					 "transpose");
			for (size_t i = 0; i < count_of(dst); i++)
				y[i] = -7.0f;
			ck_assert_ok(clq_device_array_set(out, q, dst));
			ck_assert_ok(clq_slot_bind(
				clq_operation_get_slot(op, "in"), in));
			ck_assert_ok(clq_slot_bind(
				clq_operation_get_slot(op, "out"), out));
			run_op(op, q);
			memset(y, 0, clq_host_array_get_nbytes(dst));
			ck_assert_ok(clq_device_array_get(out, q, dst));
			for (size_t r = 0; r < out_pad[0]; r++)
				for (size_t c = 0; c < out_pad[1]; c++) {
					float want =
						r < cols && c < rows
							? x[c * in_pad[1] + r]
							: -7.0f;

					ck_assert_msg(
						y[r * out_pad[1] + c] == want,
						"%zux%zu, tile %zu: out "
						"(%zu, %zu) is %g, not "
						"%g",
						rows, cols, tiles[t], r, c,
						(double)y[r * out_pad[1] + c],
						(double)want);
				}
			clq_operation_unref(op);
		}
		clq_host_array_unref(src);
		clq_host_array_unref(dst);
		clq_device_array_unref(in);
		clq_device_array_unref(out);
		clq_dimension_unref(dr);
		clq_dimension_unref(dc);
	}
	clq_queue_unref(q);
}
END_TEST

/* The out slot's dimensions are the in slot's, swapped. */
START_TEST(transpose_slots)
{
	struct clq_dimension *dr = dim(6, 1), *dc = dim(10, 4);
	struct clq_operation *op = NULL;
	struct clq_slot *in, *out;
	size_t shape[2], padded[2];

	ck_assert_ok(clq_operation_create_transpose(test_ctx, dr, dc, 4, &op));
	ck_assert_uint_eq(clq_operation_get_n_slots(op), 2);
	in = clq_operation_get_slot(op, "in");
	out = clq_operation_get_slot(op, "out");
	ck_assert_int_eq(clq_slot_get_access(in), CLQ_ACCESS_READ);
	ck_assert_int_eq(clq_slot_get_access(out), CLQ_ACCESS_WRITE);
	ck_assert_int_eq(clq_slot_get_dtype(in), CLQ_DTYPE_FLOAT32);
	ck_assert_int_eq(clq_slot_get_dtype(out), CLQ_DTYPE_FLOAT32);
	ck_assert_ptr_eq(clq_slot_get_dimension(in, 0), dr);
	ck_assert_ptr_eq(clq_slot_get_dimension(in, 1), dc);
	ck_assert_ptr_eq(clq_slot_get_dimension(out, 0), dc);
	ck_assert_ptr_eq(clq_slot_get_dimension(out, 1), dr);
	ck_assert_ok(clq_slot_get_shape(out, shape));
	ck_assert_uint_eq(shape[0], 10);
	ck_assert_uint_eq(shape[1], 6);
	ck_assert_ok(clq_slot_get_padded_shape(out, padded));
	ck_assert_uint_eq(padded[0], 12); /* dc's alignment of 4 */
	ck_assert_uint_eq(padded[1], 6);
	clq_operation_unref(op);
	clq_dimension_unref(dr);
	clq_dimension_unref(dc);
}
END_TEST

/* --------------------------------------------------------------- threads */

struct runner {
	struct clq_operation *op;
	struct clq_queue *q;
	int runs;
	int rc;
};

static void *
runner_main(void *arg)
{
	struct runner *r = arg;

	for (int i = 0; i < r->runs && r->rc == CLQ_SUCCESS; i++) {
		struct clq_event *e = NULL;

		r->rc = clq_operation_run(r->op, r->q, NULL, 0, &e);
		clq_event_unref(e);
	}
	if (r->rc == CLQ_SUCCESS)
		r->rc = clq_queue_finish(r->q);
	return NULL;
}

/*
 * One fill operation run from two threads at once, each on its own
 * queue (the kernel's lock orders their argument setting): every run
 * succeeds and the array holds the value. The two queues write the same
 * value, so their unordered writes agree; ordering is not what is tested
 * (the test is not run under a CHECK context for that reason).
 */
START_TEST(threads_run_one_op)
{
	const size_t n = 4096;
	struct clq_dimension *d = dim(n, 1);
	struct clq_operation *op = NULL;
	struct clq_device_array *a = device_floats(1, &n, NULL);
	struct clq_host_array *h = host_floats(1, &n, NULL);
	struct runner r[2];
	pthread_t t[2];
	const float *v = clq_host_array_data(h);
	struct clq_queue *q = test_queue_new(0);

	ck_assert_ok(clq_context_set_ordering(test_ctx, CLQ_ORDERING_MANUAL));
	ck_assert_ok(clq_operation_create_fill(test_ctx, 1, &d, 2.5f, 64, &op));
	ck_assert_ok(clq_slot_bind(clq_operation_get_slot(op, "out"), a));
	for (int i = 0; i < 2; i++) {
		r[i].op = op;
		r[i].q = test_queue_new(0);
		r[i].runs = (int)variants(200, 20);
		r[i].rc = CLQ_SUCCESS;
		ck_assert_int_eq(
			pthread_create(&t[i], NULL, runner_main, &r[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_ok(r[i].rc);
		clq_queue_unref(r[i].q);
	}
	ck_assert_ok(clq_device_array_get(a, q, h));
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(v[i] == 2.5f, "element %zu is %g", i,
			      (double)v[i]);
	clq_queue_unref(q);
	clq_host_array_unref(h);
	clq_device_array_unref(a);
	clq_operation_unref(op);
	clq_dimension_unref(d);
}
END_TEST

/* ------------------------------------------------------------ bad input */

START_TEST(bad_input)
{
	struct clq_dimension *d[2] = {dim(8, 1), dim(8, 1)};
	struct clq_dimension *big[2] = {dim((size_t)1 << 20, 1),
					dim((size_t)1 << 13, 1)};
	struct clq_dimension *huge = dim((size_t)1 << 33, 1);
	struct clq_dimension *nul[2] = {d[0], NULL};
	struct clq_operation *op = (struct clq_operation *)&op;
	struct clq_queue *q = test_queue_new(0);
	struct clq_device *dev = NULL;
	struct clq_context *other = NULL;
	struct clq_queue *oq = NULL;
	struct clq_device_array *ints = NULL, *wrong = NULL, *plain;
	struct clq_dimension *d9 = dim(9, 1);
	struct clq_event *e = (struct clq_event *)&e;
	size_t max_wg = clq_device_get_max_work_group_size(
		clq_context_get_device(test_ctx));
	const size_t shape[2] = {8, 8}, wrong_shape[2] = {8, 9};

	test_log_expect("*");
	ck_assert_rc(clq_operation_create_fill(NULL, 1, d, 0, 0, &op),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(op);
	ck_assert_rc(clq_operation_create_fill(test_ctx, 1, NULL, 0, 0, &op),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_operation_create_fill(test_ctx, 1, d, 0, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_operation_create_fill(test_ctx, 0, d, 0, 0, &op),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_operation_create_scale(test_ctx, CLQ_MAX_DIMS + 1, d,
						1, 0, 1, 0, &op),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(
		clq_operation_create_scale(test_ctx, 2, nul, 1, 0, 1, 0, &op),
		CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_operation_create_transpose(NULL, d[0], d[1], 0, &op),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(
		clq_operation_create_transpose(test_ctx, NULL, d[1], 0, &op),
		CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(
		clq_operation_create_transpose(test_ctx, d[0], NULL, 0, &op),
		CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(
		clq_operation_create_transpose(test_ctx, d[0], d[1], 0, NULL),
		CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(op);
	/* 2^33 elements: more than the kernels' cl_uint counts */
	test_log_expect("the most the kernel counts");
	ck_assert_rc(clq_operation_create_fill(test_ctx, 2, big, 0, 0, &op),
		     CLQ_ERROR_OVERFLOW);
	ck_assert(test_log_seen());
	test_log_expect("the most the kernel counts");
	ck_assert_rc(
		clq_operation_create_scale(test_ctx, 1, &huge, 1, 0, 1, 0, &op),
		CLQ_ERROR_OVERFLOW);
	ck_assert(test_log_seen());
	test_log_expect("at most 4294967295 rows and columns");
	ck_assert_rc(
		clq_operation_create_transpose(test_ctx, huge, d[1], 0, &op),
		CLQ_ERROR_OVERFLOW);
	ck_assert(test_log_seen());
	ck_assert_ptr_null(op);
	/* work-groups and tiles the device cannot run */
	test_log_expect("work-group of");
	ck_assert_rc(
		clq_operation_create_fill(test_ctx, 1, d, 0, max_wg + 1, &op),
		CLQ_ERROR_LOCAL_SIZE);
	ck_assert(test_log_seen());
	test_log_expect("work-group of");
	ck_assert_rc(clq_operation_create_scale(test_ctx, 1, d, 1, 0, 1,
						max_wg * 2, &op),
		     CLQ_ERROR_LOCAL_SIZE);
	ck_assert(test_log_seen());
	test_log_expect("needs");
	ck_assert_rc(clq_operation_create_transpose(test_ctx, d[0], d[1],
						    max_wg, &op),
		     CLQ_ERROR_LOCAL_SIZE);
	ck_assert(test_log_seen());
	ck_assert_ptr_null(op);
	test_log_expect(NULL);
	/* binds the slots refuse: float32 only, out is cols x rows */
	ck_assert_ok(
		clq_operation_create_transpose(test_ctx, d[0], d9, 0, &op));
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_INT32, 2,
					     shape, NULL, &ints));
	wrong = device_floats(2, wrong_shape, NULL);
	test_log_expect("*");
	ck_assert_rc(clq_slot_bind(clq_operation_get_slot(op, "out"), ints),
		     CLQ_ERROR_TYPE_MISMATCH);
	ck_assert_rc(clq_slot_bind(clq_operation_get_slot(op, "out"), wrong),
		     CLQ_ERROR_SHAPE_MISMATCH);
	ck_assert_ok(clq_slot_bind(clq_operation_get_slot(op, "in"), wrong));
	test_log_expect("slot 'out' of operation 'transpose' is not bound");
	ck_assert_rc(clq_operation_run(op, q, NULL, 0, &e), CLQ_ERROR_UNBOUND);
	ck_assert(test_log_seen());
	ck_assert_ptr_null(e);
	clq_operation_unref(op);
	/* a queue of another context than the arrays' */
	ck_assert_ok(clq_device_select(test_device_spec(), &dev));
	ck_assert_ok(clq_context_create(dev, &other));
	ck_assert_ok(clq_queue_create(other, 0, &oq));
	ck_assert_ok(clq_operation_create_fill(test_ctx, 2, d, 1, 0, &op));
	plain = device_floats(2, shape, NULL);
	ck_assert_ok(clq_slot_bind(clq_operation_get_slot(op, "out"), plain));
	test_log_expect("belongs to another context");
	ck_assert_rc(clq_operation_run(op, oq, NULL, 0, &e),
		     CLQ_ERROR_CONTEXT_MISMATCH);
	ck_assert(test_log_seen());
	ck_assert_ptr_null(e);
	test_log_expect(NULL);
	clq_operation_unref(op);
	clq_queue_unref(oq);
	clq_context_unref(other);
	clq_device_unref(dev);
	clq_device_array_unref(ints);
	clq_device_array_unref(wrong);
	clq_device_array_unref(plain);
	clq_dimension_unref(d9);
	clq_dimension_unref(d[0]);
	clq_dimension_unref(d[1]);
	clq_dimension_unref(big[0]);
	clq_dimension_unref(big[1]);
	clq_dimension_unref(huge);
	clq_queue_unref(q);
}
END_TEST

/* ------------------------------------------------------------ sequence */

/*
 * fill X (queue 1), scale X in place (queue 2), transpose X into Y
 * (queue 1), in one sequence: X shared by the three slots, Y allocated on
 * demand with the planned padding (cols aligned to 8). The run waits for
 * a gate; Y must then be the transposed a * v + b. Run again with X and Y
 * cleared: the same result, the replay's stages in order too.
 */
static void
three_ops(enum clq_ordering mode)
{
	const size_t rows = 19, cols = 37;
	const float value = 1.5f, a = 2.0f, b = -0.25f;
	const float want = a * value + b;
	struct clq_queue *q1, *q2;
	struct clq_dimension *dr = dim(rows, 1), *dc = dim(cols, 8);
	struct clq_dimension *d[2] = {dr, dc};
	struct clq_operation *fill = NULL, *scale = NULL, *tr = NULL;
	struct clq_sequence *seq = NULL;
	struct clq_device_array *x, *y;
	struct clq_host_array *hy;
	const size_t *ypad;
	const float zero = 0.0f;

	ck_assert_ok(clq_context_set_ordering(test_ctx, mode));
	q1 = test_queue_new(0);
	q2 = test_queue_new(0);
	ck_assert_ok(
		clq_operation_create_fill(test_ctx, 2, d, value, 0, &fill));
	ck_assert_ok(clq_operation_create_scale(test_ctx, 2, d, a, b, 1, 16,
						&scale));
	ck_assert_ok(clq_operation_create_transpose(test_ctx, dr, dc, 8, &tr));
	ck_assert_ok(clq_slot_allocate(clq_operation_get_slot(fill, "out"),
				       test_ctx));
	x = clq_slot_get_array(clq_operation_get_slot(fill, "out"));
	ck_assert_uint_eq(clq_device_array_get_padded_shape(x)[1], 40);
	ck_assert_ok(clq_slot_bind(clq_operation_get_slot(scale, "data"), x));
	ck_assert_ok(clq_slot_bind(clq_operation_get_slot(tr, "in"), x));
	ck_assert_ok(clq_sequence_create(test_ctx, &seq));
	ck_assert_ok(clq_sequence_add(seq, fill, q1));
	ck_assert_ok(clq_sequence_add(seq, scale, q2));
	ck_assert_ok(clq_sequence_add(seq, tr, q1));
	ck_assert_ok(clq_sequence_ensure_bound(seq));
	y = clq_slot_get_array(clq_operation_get_slot(tr, "out"));
	ypad = clq_device_array_get_padded_shape(y);
	ck_assert_uint_eq(ypad[0], 40); /* the cols dimension, aligned */
	ck_assert_uint_eq(ypad[1], rows);
	hy = host_floats(2, (size_t[2]){cols, rows}, NULL);
	for (int run = 0; run < 2; run++) {
		struct clq_event *gate = test_user_event_new(), *e = NULL;
		const float *v = clq_host_array_data(hy);

		ck_assert_ok(
			clq_device_array_fill(x, q1, &zero, NULL, 0, NULL));
		ck_assert_ok(
			clq_device_array_fill(y, q1, &zero, NULL, 0, NULL));
		ck_assert_ok(clq_queue_finish(q1));
		ck_assert_ok(clq_sequence_run(seq, q2, &gate, 1, &e));
		test_sleep_ms(30);
		ck_assert_int_ne(test_event_status(e), CL_COMPLETE);
		ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
		ck_assert_ok(clq_event_wait(e));
		clq_event_unref(e);
		clq_event_unref(gate);
		ck_assert_ok(clq_device_array_get(y, q1, hy));
		for (size_t i = 0; i < rows * cols; i++)
			ck_assert_msg(v[i] == want,
				      "run %d: element %zu is %g, not %g", run,
				      i, (double)v[i], (double)want);
	}
	if (mode == CLQ_ORDERING_CHECK) {
		struct clq_ordering_stats st;

		ck_assert_ok(clq_context_get_ordering_stats(test_ctx, &st));
		ck_assert_uint_eq(st.hazards, 0);
	}
	clq_host_array_unref(hy);
	clq_sequence_unref(seq);
	clq_operation_unref(fill);
	clq_operation_unref(scale);
	clq_operation_unref(tr);
	clq_dimension_unref(dr);
	clq_dimension_unref(dc);
	clq_queue_unref(q1);
	clq_queue_unref(q2);
}

START_TEST(sequence_manual)
{
	three_ops(CLQ_ORDERING_MANUAL);
}
END_TEST

START_TEST(sequence_check)
{
	three_ops(CLQ_ORDERING_CHECK);
}
END_TEST

static Suite *
kernel_ops_suite(void)
{
	Suite *s = suite_create("kernel-ops");
	TCase *tc;

	tc = tcase_create("reference");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, fill_reference);
	tcase_add_test(tc, scale_reference);
	tcase_add_test(tc, transpose_reference);
	tcase_add_test(tc, transpose_slots);
	tcase_add_test(tc, threads_run_one_op);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad input");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, bad_input);
	suite_add_tcase(s, tc);

	tc = tcase_create("sequences");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, sequence_manual);
	tcase_add_test(tc, sequence_check);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_main(kernel_ops_suite(), 1);
}
