/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dimensions and slots (clq/operation.h): planning arithmetic (padding,
 * alignment, exact, link groups), links refused with nothing changed,
 * binds refused with specific codes, allocation on demand, references,
 * bad input, and threads linking and planning at once. Operations and
 * sequences: unbound slots refused, stages on two queues ordered by their
 * slots (gated on user events), reads not serialised, runs repeated with
 * the events held staying flat, in MANUAL and CHECK.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"

static struct clq_dimension *
dim(size_t size, size_t min, size_t alignment, int exact)
{
	struct clq_dimension *d = NULL;

	ck_assert_ok(clq_dimension_create(size, min, alignment, exact, &d));
	ck_assert_ptr_nonnull(d);
	return d;
}

static struct clq_slot *
slot_new(enum clq_dtype dtype, size_t ndim, struct clq_dimension *const *dims,
	 enum clq_access access)
{
	struct clq_slot *s = NULL;

	ck_assert_ok(clq_slot_create(dtype, ndim, dims, access, &s));
	ck_assert_ptr_nonnull(s);
	return s;
}

static struct clq_device_array *
array_new(enum clq_dtype dtype, size_t ndim, const size_t *shape,
	  const size_t *padded)
{
	struct clq_device_array *a = NULL;

	ck_assert_ok(clq_device_array_create(test_ctx, dtype, ndim, shape,
					     padded, &a));
	return a;
}

/* ------------------------------------------------------------ planning */

START_TEST(padding_alone)
{
	struct clq_dimension *plain = dim(10, 0, 1, 0);
	struct clq_dimension *minimum = dim(10, 13, 1, 0);
	struct clq_dimension *aligned = dim(10, 0, 4, 0);
	struct clq_dimension *both = dim(10, 13, 4, 0);
	struct clq_dimension *exact = dim(12, 0, 4, 1);
	struct clq_dimension *small_min = dim(10, 3, 1, 0);

	ck_assert_uint_eq(clq_dimension_get_size(both), 10);
	ck_assert_uint_eq(clq_dimension_get_padded_size(plain), 10);
	ck_assert_uint_eq(clq_dimension_get_padded_size(minimum), 13);
	ck_assert_uint_eq(clq_dimension_get_padded_size(aligned), 12);
	ck_assert_uint_eq(clq_dimension_get_padded_size(both), 16);
	ck_assert_uint_eq(clq_dimension_get_padded_size(exact), 12);
	ck_assert_uint_eq(clq_dimension_get_padded_size(small_min), 10);
	/* what a padded length may be */
	ck_assert(clq_dimension_is_valid_padding(both, 16));
	ck_assert(clq_dimension_is_valid_padding(both, 20));
	ck_assert(!clq_dimension_is_valid_padding(both, 12)); /* < 13 */
	ck_assert(!clq_dimension_is_valid_padding(both, 18)); /* % 4 */
	ck_assert(clq_dimension_is_valid_padding(exact, 12));
	ck_assert(!clq_dimension_is_valid_padding(exact, 16));
	ck_assert(!clq_dimension_is_valid_padding(plain, 9));
	ck_assert(!clq_dimension_is_linked(plain, minimum));
	ck_assert(clq_dimension_is_linked(plain, plain));
	clq_dimension_unref(plain);
	clq_dimension_unref(minimum);
	clq_dimension_unref(aligned);
	clq_dimension_unref(both);
	clq_dimension_unref(exact);
	clq_dimension_unref(small_min);
}
END_TEST

START_TEST(linked_pair)
{
	struct clq_dimension *a = dim(100, 0, 6, 0), *b = dim(100, 110, 4, 0);

	ck_assert_uint_eq(clq_dimension_get_padded_size(a), 102);
	ck_assert_uint_eq(clq_dimension_get_padded_size(b), 112);
	ck_assert_ok(clq_dimension_link(a, b));
	ck_assert(clq_dimension_is_linked(a, b));
	ck_assert(clq_dimension_is_linked(b, a));
	/* max(100, 110) rounded up to lcm(6, 4) = 12 */
	ck_assert_uint_eq(clq_dimension_get_padded_size(a), 120);
	ck_assert_uint_eq(clq_dimension_get_padded_size(b), 120);
	ck_assert(!clq_dimension_is_valid_padding(a, 102)); /* b's minimum */
	ck_assert(!clq_dimension_is_valid_padding(b, 112)); /* a's 6 */
	/* linking again, either way round, changes nothing */
	ck_assert_ok(clq_dimension_link(a, b));
	ck_assert_ok(clq_dimension_link(b, a));
	ck_assert_ok(clq_dimension_link(a, a));
	ck_assert_uint_eq(clq_dimension_get_padded_size(a), 120);
	clq_dimension_unref(a);
	clq_dimension_unref(b);
}
END_TEST

START_TEST(chains_and_exact)
{
	struct clq_dimension *d[5];

	d[0] = dim(24, 0, 2, 0);
	d[1] = dim(24, 0, 3, 0);
	d[2] = dim(24, 0, 8, 0);
	d[3] = dim(24, 0, 1, 1);
	d[4] = dim(24, 30, 1, 0);
	/* a chain 0 - 1 - 2: lcm 24, and 24 itself is a multiple */
	ck_assert_ok(clq_dimension_link(d[0], d[1]));
	ck_assert_uint_eq(clq_dimension_get_padded_size(d[0]), 24);
	ck_assert_ok(clq_dimension_link(d[2], d[1]));
	ck_assert(clq_dimension_is_linked(d[0], d[2]));
	ck_assert_uint_eq(clq_dimension_get_padded_size(d[2]), 24);
	/* an exact dimension joins: no padding, and 24 fits every alignment */
	ck_assert_ok(clq_dimension_link(d[3], d[0]));
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(clq_dimension_get_padded_size(d[i]), 24);
	ck_assert(!clq_dimension_is_valid_padding(d[2], 48));
	/* a minimum of 30 conflicts with exactness: refused, nothing changes */
	test_log_expect("below the minimum padded size 30");
	ck_assert_rc(clq_dimension_link(d[4], d[2]), CLQ_ERROR_CONSTRAINTS);
	ck_assert(test_log_seen());
	test_log_expect(NULL);
	ck_assert(!clq_dimension_is_linked(d[4], d[0]));
	ck_assert_uint_eq(clq_dimension_get_padded_size(d[4]), 30);
	ck_assert_uint_eq(clq_dimension_get_padded_size(d[1]), 24);
	for (int i = 0; i < 5; i++)
		clq_dimension_unref(d[i]);
}
END_TEST

START_TEST(link_after_planning)
{
	struct clq_dimension *a = dim(50, 0, 1, 0), *b = dim(50, 0, 16, 0);
	struct clq_dimension *c = dim(50, 70, 1, 0);
	size_t first = clq_dimension_get_padded_size(a);

	ck_assert_uint_eq(first, 50);
	ck_assert_ok(clq_dimension_link(a, b));
	ck_assert_uint_eq(clq_dimension_get_padded_size(a), 64);
	ck_assert_ok(clq_dimension_link(c, b));
	ck_assert_uint_eq(clq_dimension_get_padded_size(a), 80);
	ck_assert_uint_eq(clq_dimension_get_padded_size(c), 80);
	clq_dimension_unref(a);
	clq_dimension_unref(b);
	clq_dimension_unref(c);
}
END_TEST

/* Many dimensions linked in assorted orders: every member plans the same. */
START_TEST(long_chains)
{
	enum { N = 64 };
	struct clq_dimension *d[N];
	size_t want = 1;

	for (size_t i = 0; i < N; i++)
		d[i] = dim(7, 0, (i % 5) + 1, 0); /* alignments 1..5 */
	/* pairs, then pairs of pairs, ... (ranks grow), then a chain */
	for (size_t step = 1; step < N / 2; step *= 2)
		for (size_t i = 0; i + step < N / 2; i += 2 * step)
			ck_assert_ok(clq_dimension_link(d[i], d[i + step]));
	for (size_t i = N / 2; i < N; i++)
		ck_assert_ok(clq_dimension_link(d[i], d[i - 1]));
	want = 60; /* lcm(1..5) = 60 >= 7 */
	for (size_t i = 0; i < N; i++) {
		ck_assert(clq_dimension_is_linked(d[0], d[i]));
		ck_assert_uint_eq(clq_dimension_get_padded_size(d[i]), want);
	}
	/* members dropped in any order: the group lives on for the rest */
	for (size_t i = 0; i < N - 1; i++)
		clq_dimension_unref(d[i]);
	ck_assert_uint_eq(clq_dimension_get_padded_size(d[N - 1]), want);
	clq_dimension_unref(d[N - 1]);
}
END_TEST

/* ------------------------------------------------------- refused links */

START_TEST(unsatisfiable)
{
	struct clq_dimension *a = dim(10, 0, 1, 0), *b = dim(11, 0, 1, 0);
	struct clq_dimension *e = dim(10, 0, 1, 1), *al = dim(10, 0, 4, 0);
	struct clq_dimension *m = dim(10, 12, 1, 0);
	struct clq_dimension *big1 = dim(3, 0, SIZE_MAX / 2 + 1, 0);
	struct clq_dimension *big2 = dim(3, 0, 3, 0);
	struct clq_dimension *out = (struct clq_dimension *)&out;

	test_log_expect("sizes 10 and 11 differ");
	ck_assert_rc(clq_dimension_link(a, b), CLQ_ERROR_CONSTRAINTS);
	ck_assert(test_log_seen());
	test_log_expect("not a multiple of the alignment 4");
	ck_assert_rc(clq_dimension_link(e, al), CLQ_ERROR_CONSTRAINTS);
	ck_assert(test_log_seen());
	test_log_expect("below the minimum padded size 12");
	ck_assert_rc(clq_dimension_link(m, e), CLQ_ERROR_CONSTRAINTS);
	ck_assert(test_log_seen());
	test_log_expect("least common multiple");
	ck_assert_rc(clq_dimension_link(big1, big2), CLQ_ERROR_CONSTRAINTS);
	ck_assert(test_log_seen());
	test_log_expect(NULL);
	/* nothing changed */
	ck_assert(!clq_dimension_is_linked(a, b));
	ck_assert(!clq_dimension_is_linked(e, al));
	ck_assert(!clq_dimension_is_linked(m, e));
	ck_assert(!clq_dimension_is_linked(big1, big2));
	ck_assert_uint_eq(clq_dimension_get_padded_size(e), 10);
	ck_assert_uint_eq(clq_dimension_get_padded_size(al), 12);
	ck_assert_uint_eq(clq_dimension_get_padded_size(m), 12);
	ck_assert_uint_eq(clq_dimension_get_padded_size(big2), 3);
	/* those that fit still link afterwards */
	ck_assert_ok(clq_dimension_link(a, m));
	ck_assert_uint_eq(clq_dimension_get_padded_size(a), 12);
	/* the same conflicts at creation */
	test_log_expect("not a multiple of the alignment");
	ck_assert_rc(clq_dimension_create(10, 0, 4, 1, &out),
		     CLQ_ERROR_CONSTRAINTS);
	ck_assert_ptr_null(out);
	test_log_expect("below the minimum");
	out = (struct clq_dimension *)&out;
	ck_assert_rc(clq_dimension_create(10, 11, 1, 1, &out),
		     CLQ_ERROR_CONSTRAINTS);
	ck_assert_ptr_null(out);
	test_log_expect("does not fit");
	out = (struct clq_dimension *)&out;
	ck_assert_rc(clq_dimension_create(SIZE_MAX - 1, 0, 4, 0, &out),
		     CLQ_ERROR_CONSTRAINTS);
	ck_assert_ptr_null(out);
	test_log_expect(NULL);
	clq_dimension_unref(a);
	clq_dimension_unref(b);
	clq_dimension_unref(e);
	clq_dimension_unref(al);
	clq_dimension_unref(m);
	clq_dimension_unref(big1);
	clq_dimension_unref(big2);
}
END_TEST

/* --------------------------------------------------------------- slots */

START_TEST(slot_shapes)
{
	struct clq_dimension *rows = dim(3, 0, 1, 0), *cols = dim(5, 0, 8, 0);
	struct clq_dimension *dims[3] = {rows, cols, cols};
	struct clq_slot *s =
		slot_new(CLQ_DTYPE_FLOAT32, 3, dims, CLQ_ACCESS_READ);
	size_t shape[3], padded[3];

	ck_assert_int_eq(clq_slot_get_dtype(s), CLQ_DTYPE_FLOAT32);
	ck_assert_uint_eq(clq_slot_get_ndim(s), 3);
	ck_assert_int_eq(clq_slot_get_access(s), CLQ_ACCESS_READ);
	ck_assert_ptr_eq(clq_slot_get_dimension(s, 0), rows);
	ck_assert_ptr_eq(clq_slot_get_dimension(s, 2), cols);
	ck_assert_ptr_null(clq_slot_get_dimension(s, 3));
	ck_assert_ptr_null(clq_slot_get_array(s));
	ck_assert_ok(clq_slot_get_shape(s, shape));
	ck_assert_ok(clq_slot_get_padded_shape(s, padded));
	ck_assert_uint_eq(shape[0], 3);
	ck_assert_uint_eq(shape[1], 5);
	ck_assert_uint_eq(shape[2], 5);
	ck_assert_uint_eq(padded[0], 3);
	ck_assert_uint_eq(padded[1], 8);
	ck_assert_uint_eq(padded[2], 8);
	/* the slot holds its dimensions; a later link changes its plan */
	clq_dimension_unref(cols);
	{
		struct clq_dimension *wide = dim(3, 0, 4, 0);

		ck_assert_ok(clq_dimension_link(wide, rows));
		clq_dimension_unref(wide);
	}
	ck_assert_ok(clq_slot_get_padded_shape(s, padded));
	ck_assert_uint_eq(padded[0], 4);
	clq_dimension_unref(rows);
	clq_slot_unref(s);
}
END_TEST

START_TEST(bind_checks)
{
	struct clq_dimension *rows = dim(4, 6, 1, 0), *cols = dim(10, 0, 4, 0);
	struct clq_dimension *ex = dim(7, 0, 1, 1);
	struct clq_dimension *dims[2] = {rows, cols}, *edims[1] = {ex};
	struct clq_slot *s =
		slot_new(CLQ_DTYPE_FLOAT32, 2, dims, CLQ_ACCESS_WRITE);
	struct clq_slot *es =
		slot_new(CLQ_DTYPE_INT8, 1, edims, CLQ_ACCESS_READ_WRITE);
	const size_t shape[2] = {4, 10}, planned[2] = {6, 12};
	const size_t roomy[2] = {9, 20}, small[2] = {5, 12};
	const size_t misaligned[2] = {6, 14}, wrong_shape[2] = {4, 11};
	const size_t seven = 7, eight = 8;
	struct clq_device_array *good =
		array_new(CLQ_DTYPE_FLOAT32, 2, shape, planned);
	struct clq_device_array *good2 =
		array_new(CLQ_DTYPE_FLOAT32, 2, shape, roomy);
	struct clq_device_array *ints =
		array_new(CLQ_DTYPE_INT32, 2, shape, planned);
	struct clq_device_array *flat =
		array_new(CLQ_DTYPE_FLOAT32, 1, shape, NULL);
	struct clq_device_array *wrong =
		array_new(CLQ_DTYPE_FLOAT32, 2, wrong_shape, NULL);
	struct clq_device_array *tight =
		array_new(CLQ_DTYPE_FLOAT32, 2, shape, small);
	struct clq_device_array *odd =
		array_new(CLQ_DTYPE_FLOAT32, 2, shape, misaligned);
	struct clq_device_array *e_ok =
		array_new(CLQ_DTYPE_INT8, 1, &seven, NULL);
	struct clq_device_array *e_pad =
		array_new(CLQ_DTYPE_INT8, 1, &seven, &eight);

	ck_assert_ok(clq_slot_bind(s, good));
	ck_assert_ptr_eq(clq_slot_get_array(s), good);
	ck_assert_ok(clq_slot_bind(s, good2)); /* larger padding is fine */
	ck_assert_ptr_eq(clq_slot_get_array(s), good2);

	test_log_expect("the slot takes float32");
	ck_assert_rc(clq_slot_bind(s, ints), CLQ_ERROR_TYPE_MISMATCH);
	test_log_expect("axes");
	ck_assert_rc(clq_slot_bind(s, flat), CLQ_ERROR_SHAPE_MISMATCH);
	test_log_expect("axis 1 has length 11");
	ck_assert_rc(clq_slot_bind(s, wrong), CLQ_ERROR_SHAPE_MISMATCH);
	test_log_expect("axis 0 is padded to 5");
	ck_assert_rc(clq_slot_bind(s, tight), CLQ_ERROR_PADDING);
	test_log_expect("axis 1 is padded to 14");
	ck_assert_rc(clq_slot_bind(s, odd), CLQ_ERROR_PADDING);
	ck_assert(test_log_seen());
	/* refused binds kept the array */
	ck_assert_ptr_eq(clq_slot_get_array(s), good2);
	test_log_expect("axis 0 is padded to 8");
	ck_assert_rc(clq_slot_bind(es, e_pad), CLQ_ERROR_PADDING);
	ck_assert_ptr_null(clq_slot_get_array(es));
	test_log_expect(NULL);
	ck_assert_ok(clq_slot_bind(es, e_ok));
	ck_assert_ptr_eq(clq_slot_get_array(es), e_ok);

	/* a link made after planning: the planned array no longer binds */
	{
		struct clq_dimension *wider = dim(10, 16, 1, 0);

		ck_assert_ok(clq_dimension_link(cols, wider));
		clq_dimension_unref(wider);
	}
	test_log_expect("axis 1 is padded to 12");
	ck_assert_rc(clq_slot_bind(s, good), CLQ_ERROR_PADDING);
	test_log_expect(NULL);
	ck_assert_ok(clq_slot_bind(s, good2)); /* 20: >= 16, multiple of 4 */

	/* unbinding */
	ck_assert_ok(clq_slot_bind(s, NULL));
	ck_assert_ptr_null(clq_slot_get_array(s));

	/* the slot held its own reference */
	ck_assert_ok(clq_slot_bind(s, good2));
	clq_device_array_unref(good2);
	ck_assert_uint_eq(
		clq_device_array_get_padded_shape(clq_slot_get_array(s))[0], 9);
	clq_device_array_unref(good);
	clq_device_array_unref(ints);
	clq_device_array_unref(flat);
	clq_device_array_unref(wrong);
	clq_device_array_unref(tight);
	clq_device_array_unref(odd);
	clq_device_array_unref(e_ok);
	clq_device_array_unref(e_pad);
	clq_slot_unref(s);
	clq_slot_unref(es);
	clq_dimension_unref(rows);
	clq_dimension_unref(cols);
	clq_dimension_unref(ex);
}
END_TEST

START_TEST(allocate_on_demand)
{
	struct clq_dimension *n = dim(30, 0, 16, 0), *m = dim(30, 40, 1, 0);
	struct clq_dimension *dims[2] = {n, m};
	struct clq_slot *a =
		slot_new(CLQ_DTYPE_COMPLEX64, 2, dims, CLQ_ACCESS_READ);
	struct clq_slot *b;
	struct clq_device_array *arr, *again;
	struct clq_queue *q = test_queue_new(0);
	struct clq_host_array *h = NULL, *back = NULL;
	const size_t shape[2] = {30, 30};
	float *in, *out;

	ck_assert_ok(clq_dimension_link(n, m)); /* 40 rounded to 48 */
	ck_assert_ok(clq_slot_allocate(a, test_ctx));
	arr = clq_slot_get_array(a);
	ck_assert_ptr_nonnull(arr);
	ck_assert_int_eq(clq_device_array_get_dtype(arr), CLQ_DTYPE_COMPLEX64);
	ck_assert_uint_eq(clq_device_array_get_ndim(arr), 2);
	ck_assert_uint_eq(clq_device_array_get_shape(arr)[0], 30);
	ck_assert_uint_eq(clq_device_array_get_shape(arr)[1], 30);
	ck_assert_uint_eq(clq_device_array_get_padded_shape(arr)[0], 48);
	ck_assert_uint_eq(clq_device_array_get_padded_shape(arr)[1], 48);
	ck_assert_ptr_eq(clq_device_array_get_context(arr), test_ctx);
	/* bound already: nothing new */
	ck_assert_ok(clq_slot_allocate(a, test_ctx));
	ck_assert_ptr_eq(clq_slot_get_array(a), arr);
	/* the allocated array binds to another slot of the same dimensions */
	b = slot_new(CLQ_DTYPE_COMPLEX64, 2, dims, CLQ_ACCESS_WRITE);
	ck_assert_ok(clq_slot_bind(b, arr));
	again = clq_slot_get_array(b);
	ck_assert_ptr_eq(again, arr);
	/* and it is real memory: data goes there and back */
	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_COMPLEX64, 2,
					   shape, NULL, &h));
	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_COMPLEX64, 2,
					   shape, NULL, &back));
	in = clq_host_array_data(h);
	out = clq_host_array_data(back);
	for (size_t i = 0; i < 2 * 30 * 30; i++) {
		in[i] = (float)i;
		out[i] = -1.0f;
	}
	ck_assert_ok(clq_device_array_set(arr, q, h));
	ck_assert_ok(clq_device_array_get(again, q, back));
	for (size_t i = 0; i < 2 * 30 * 30; i++)
		ck_assert_float_eq(out[i], (float)i);
	/* dropping the slots frees the array (valgrind checks) */
	clq_slot_unref(a);
	clq_slot_unref(b);
	clq_host_array_unref(h);
	clq_host_array_unref(back);
	clq_queue_unref(q);
	clq_dimension_unref(n);
	clq_dimension_unref(m);
}
END_TEST

START_TEST(allocate_other_context)
{
	struct clq_dimension *n = dim(8, 0, 1, 0);
	struct clq_slot *s = slot_new(CLQ_DTYPE_UINT8, 1, &n, CLQ_ACCESS_READ);
	struct clq_device *dev = NULL;
	struct clq_context *other = NULL;

	ck_assert_ok(clq_device_select(test_device_spec(), &dev));
	ck_assert_ok(clq_context_create(dev, &other));
	ck_assert_ok(clq_slot_allocate(s, other));
	test_log_expect("another context");
	ck_assert_rc(clq_slot_allocate(s, test_ctx),
		     CLQ_ERROR_CONTEXT_MISMATCH);
	test_log_expect(NULL);
	ck_assert_ptr_eq(clq_device_array_get_context(clq_slot_get_array(s)),
			 other);
	clq_slot_unref(s);
	clq_context_unref(other);
	clq_device_unref(dev);
	clq_dimension_unref(n);
}
END_TEST

/* ----------------------------------------------------------- bad input */

START_TEST(bad_input)
{
	struct clq_dimension *d = dim(4, 0, 1, 0), *out = NULL;
	struct clq_dimension *dims[5] = {d, d, d, d, d}, *holes[2] = {d, NULL};
	struct clq_slot *s = (struct clq_slot *)&s;
	size_t shape[4];

	test_log_expect("*");
	out = (struct clq_dimension *)&out;
	ck_assert_rc(clq_dimension_create(0, 0, 1, 0, &out),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(out);
	out = (struct clq_dimension *)&out;
	ck_assert_rc(clq_dimension_create(4, 0, 0, 0, &out),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(out);
	ck_assert_rc(clq_dimension_create(4, 0, 1, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_dimension_link(NULL, d), CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_dimension_link(d, NULL), CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_uint_eq(clq_dimension_get_size(NULL), 0);
	ck_assert_uint_eq(clq_dimension_get_padded_size(NULL), 0);
	ck_assert(!clq_dimension_is_valid_padding(NULL, 4));
	ck_assert(!clq_dimension_is_linked(NULL, d));
	ck_assert(!clq_dimension_is_linked(d, NULL));
	ck_assert_ptr_null(clq_dimension_ref(NULL));
	clq_dimension_unref(NULL);

	ck_assert_rc(clq_slot_create(CLQ_DTYPE_FLOAT32, 0, dims,
				     CLQ_ACCESS_READ, &s),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(s);
	test_log_expect("ndim is 5, not 1 to CLQ_MAX_DIMS (4)");
	ck_assert_rc(clq_slot_create(CLQ_DTYPE_FLOAT32, 5, dims,
				     CLQ_ACCESS_READ, &s),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	test_log_expect("*");
	ck_assert_rc(clq_slot_create(CLQ_DTYPE_FLOAT32, 2, holes,
				     CLQ_ACCESS_READ, &s),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_slot_create(CLQ_DTYPE_FLOAT32, 1, NULL,
				     CLQ_ACCESS_READ, &s),
		     CLQ_ERROR_INVALID_ARGUMENT);
	test_log_expect("dtype 99 is not an enum clq_dtype value");
	ck_assert_rc(clq_slot_create((enum clq_dtype)99, 1, dims,
				     CLQ_ACCESS_READ, &s),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	test_log_expect("*");
	test_log_expect("access 0 is not CLQ_ACCESS_READ");
	ck_assert_rc(clq_slot_create(CLQ_DTYPE_FLOAT32, 1, dims,
				     (enum clq_access)0, &s),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	test_log_expect("*");
	ck_assert_rc(clq_slot_create(CLQ_DTYPE_FLOAT32, 1, dims,
				     CLQ_ACCESS_READ, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(s);
	ck_assert_rc(clq_slot_bind(NULL, NULL), CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_slot_allocate(NULL, test_ctx),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_slot_get_shape(NULL, shape),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_slot_get_padded_shape(NULL, shape),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_uint_eq(clq_slot_get_ndim(NULL), 0);
	ck_assert_int_eq(clq_slot_get_access(NULL), 0);
	ck_assert_ptr_null(clq_slot_get_array(NULL));
	ck_assert_ptr_null(clq_slot_get_dimension(NULL, 0));
	ck_assert_ptr_null(clq_slot_ref(NULL));
	clq_slot_unref(NULL);

	/* four axes is the most, and fine */
	s = slot_new(CLQ_DTYPE_UINT16, 4, dims, CLQ_ACCESS_READ_WRITE);
	ck_assert_rc(clq_slot_allocate(s, NULL), CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_slot_get_shape(s, NULL), CLQ_ERROR_INVALID_ARGUMENT);
	test_log_expect(NULL);
	ck_assert_ok(clq_slot_get_shape(s, shape));
	ck_assert_uint_eq(shape[3], 4);
	ck_assert_ptr_eq(clq_slot_ref(s), s);
	clq_slot_unref(s);
	clq_slot_unref(s);
	ck_assert_ptr_eq(clq_dimension_ref(d), d);
	clq_dimension_unref(d);
	clq_dimension_unref(d);
}
END_TEST

/* ------------------------------------------------------------- threads */

#define THREADS 4
#define PER_THREAD 200

static struct clq_dimension *shared_root;

/* Each thread links its own dimensions into one shared group, planning
 * as it goes, and drops them. */
static void *
linker(void *arg)
{
	size_t alignment = (size_t)(uintptr_t)arg;

	for (int i = 0; i < PER_THREAD; i++) {
		struct clq_dimension *d = NULL;
		size_t padded;

		if (clq_dimension_create(9, 0, alignment, 0, &d) != 0 ||
		    clq_dimension_link(d, shared_root) != 0)
			return (void *)1;
		padded = clq_dimension_get_padded_size(d);
		if (padded % alignment != 0 || padded < 9)
			return (void *)1;
		clq_dimension_unref(d);
	}
	return NULL;
}

START_TEST(threads_link)
{
	pthread_t t[THREADS];

	shared_root = dim(9, 0, 1, 0);
	for (uintptr_t i = 0; i < THREADS; i++)
		ck_assert_int_eq(
			pthread_create(&t[i], NULL, linker, (void *)(i + 1)),
			0);
	for (int i = 0; i < THREADS; i++) {
		void *r;

		ck_assert_int_eq(pthread_join(t[i], &r), 0);
		ck_assert_ptr_null(r);
	}
	/* lcm(1, 2, 3, 4) = 12 */
	ck_assert_uint_eq(clq_dimension_get_padded_size(shared_root), 12);
	clq_dimension_unref(shared_root);
}
END_TEST

/* ------------------------------------------------- operations, sequences */

/*
 * The test stages: "fill" writes `value` into slot "out"; "copy" copies
 * slot "in" into slot "out". Each may wait for a gate of its own, and
 * keeps its last event to be looked at.
 */
struct stage {
	int copy;
	uint32_t value;
	struct clq_event *gate;
	struct clq_event *last;
	unsigned runs;
	int no_event; /* succeed without an event (a broken callback) */
};

static int
stage_run(struct clq_operation *op, struct clq_queue *queue,
	  struct clq_event *const *wait, size_t n_wait,
	  struct clq_event **event_out, void *user_data)
{
	struct stage *st = user_data;
	struct clq_event *w[64];
	struct clq_device_array *out =
		clq_slot_get_array(clq_operation_get_slot(op, "out"));
	int rc;

	ck_assert_uint_lt(n_wait, 63);
	if (n_wait)
		memcpy(w, wait, n_wait * sizeof(*w));
	if (st->gate)
		w[n_wait++] = st->gate;
	st->runs++;
	if (st->no_event)
		return CLQ_SUCCESS;
	if (st->copy)
		rc = clq_device_array_copy(
			out, queue,
			clq_slot_get_array(clq_operation_get_slot(op, "in")), w,
			n_wait, event_out);
	else
		rc = clq_device_array_fill(out, queue, &st->value, w, n_wait,
					   event_out);
	if (rc == CLQ_SUCCESS) {
		clq_event_unref(st->last);
		st->last = clq_event_ref(*event_out);
	}
	return rc;
}

static void
stage_destroy(void *user_data)
{
	struct stage *st = user_data;

	clq_event_unref(st->last);
	free(st);
}

static const struct clq_operation_ops stage_ops = {stage_run, stage_destroy};

#define N_ELEMS 4096

static struct clq_slot *
slot_u32(enum clq_access access)
{
	struct clq_dimension *d = dim(N_ELEMS, 0, 1, 0);
	struct clq_slot *s = slot_new(CLQ_DTYPE_UINT32, 1, &d, access);

	clq_dimension_unref(d);
	return s;
}

/* A stage bound to `out` (and `in` for a copy); *st_out borrows its data. */
static struct clq_operation *
stage_new(const char *name, struct clq_device_array *in,
	  struct clq_device_array *out, struct stage **st_out)
{
	struct stage *st = calloc(1, sizeof(*st));
	struct clq_operation *op = NULL;
	struct clq_slot *s;

	ck_assert_ptr_nonnull(st);
	st->copy = in != NULL;
	ck_assert_ok(clq_operation_create(name, &stage_ops, st, &op));
	if (in) {
		s = slot_u32(CLQ_ACCESS_READ);
		ck_assert_ok(clq_slot_bind(s, in));
		ck_assert_ok(clq_operation_add_slot(op, "in", s));
		clq_slot_unref(s);
	}
	s = slot_u32(CLQ_ACCESS_WRITE);
	if (out)
		ck_assert_ok(clq_slot_bind(s, out));
	ck_assert_ok(clq_operation_add_slot(op, "out", s));
	clq_slot_unref(s);
	if (st_out)
		*st_out = st;
	return op;
}

static struct clq_device_array *
u32_new(void)
{
	size_t n = N_ELEMS;
	const uint32_t zero = 0;
	struct clq_device_array *a = array_new(CLQ_DTYPE_UINT32, 1, &n, NULL);
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *e = NULL;

	ck_assert_ok(clq_device_array_fill(a, q, &zero, NULL, 0, &e));
	ck_assert_ok(clq_event_wait(e));
	clq_event_unref(e);
	clq_queue_unref(q);
	return a;
}

/* Reads `a` back and checks every element is `value`. */
static void
check_u32(struct clq_device_array *a, struct clq_queue *q, uint32_t value)
{
	size_t n = N_ELEMS;
	struct clq_host_array *h = NULL;
	const uint32_t *x;

	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_UINT32, 1, &n,
					   NULL, &h));
	ck_assert_ok(clq_device_array_get(a, q, h));
	x = clq_host_array_data(h);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(x[i] == value, "element %zu is %u, not %u", i,
			      x[i], value);
	clq_host_array_unref(h);
}

/* Whether `e` ends within about two seconds. */
static int
ends_soon(struct clq_event *e)
{
	for (int i = 0; i < 2000; i++) {
		if (test_event_status(e) == CL_COMPLETE)
			return 1;
		test_sleep_ms(1);
	}
	return 0;
}

START_TEST(operation_unbound)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_device_array *x = u32_new();
	struct clq_operation *op = stage_new("copier", x, NULL, NULL);
	struct clq_event *e = (struct clq_event *)&e;
	struct clq_sequence *seq = NULL;

	ck_assert_str_eq(clq_operation_get_name(op), "copier");
	ck_assert_uint_eq(clq_operation_get_n_slots(op), 2);
	test_log_expect("slot 'out' of operation 'copier' is not bound");
	ck_assert_rc(clq_operation_run(op, q, NULL, 0, &e), CLQ_ERROR_UNBOUND);
	ck_assert(test_log_seen());
	ck_assert_ptr_null(e);
	/* a sequence refuses before enqueueing anything */
	ck_assert_ok(clq_sequence_create(test_ctx, &seq));
	ck_assert_ok(clq_sequence_add(seq, op, NULL));
	e = (struct clq_event *)&e;
	test_log_expect("slot 'out' of operation 'copier' is not bound");
	ck_assert_rc(clq_sequence_run(seq, q, NULL, 0, &e), CLQ_ERROR_UNBOUND);
	ck_assert(test_log_seen());
	ck_assert_ptr_null(e);
	/* bound on demand: then it runs, and copies */
	ck_assert_ok(clq_sequence_ensure_bound(seq));
	ck_assert_ptr_nonnull(
		clq_slot_get_array(clq_operation_get_slot(op, "out")));
	ck_assert_ok(clq_sequence_run(seq, q, NULL, 0, &e));
	ck_assert_ok(clq_event_wait(e));
	clq_event_unref(e);
	check_u32(clq_slot_get_array(clq_operation_get_slot(op, "out")), q, 0);
	clq_sequence_unref(seq);
	clq_operation_unref(op);
	clq_device_array_unref(x);
	clq_queue_unref(q);
}
END_TEST

/*
 * A writes X on queue 1 (gated by the caller's wait list), B copies X
 * into Y on queue 2, C writes into an alias of X's buffer on queue 2
 * (after B, which reads that buffer). Right only if B waits for A.
 */
static void
ordered_two_queues(enum clq_ordering mode)
{
	struct clq_queue *q1, *q2;
	struct clq_device_array *x, *y, *z, *part;
	struct clq_operation *a, *b, *c;
	struct stage *sa, *sb, *sc;
	struct clq_sequence *seq = NULL;
	struct clq_event *gate, *e = NULL;
	size_t n = N_ELEMS;

	ck_assert_ok(clq_context_set_ordering(test_ctx, mode));
	q1 = test_queue_new(0);
	q2 = test_queue_new(0);
	x = u32_new();
	y = u32_new();
	z = u32_new();
	ck_assert_ok(clq_device_array_create_alias(
		test_ctx, clq_device_array_get_cl(x), 0, CLQ_DTYPE_UINT32, 1,
		&n, NULL, &part));
	a = stage_new("A", NULL, x, &sa);
	b = stage_new("B", x, y, &sb);
	c = stage_new("C", NULL, part, &sc);
	sa->value = 7;
	sc->value = 9;
	ck_assert_ok(clq_sequence_create(test_ctx, &seq));
	ck_assert_ok(clq_sequence_add(seq, a, q1));
	ck_assert_ok(clq_sequence_add(seq, b, q2));
	ck_assert_ok(clq_sequence_add(seq, c, NULL));
	ck_assert_uint_eq(clq_sequence_get_n_children(seq), 3);
	gate = test_user_event_new();
	ck_assert_ok(clq_sequence_run(seq, q2, &gate, 1, &e));
	test_sleep_ms(50);
	ck_assert_int_ne(test_event_status(sa->last), CL_COMPLETE);
	ck_assert_int_ne(test_event_status(sb->last), CL_COMPLETE);
	ck_assert_int_ne(test_event_status(sc->last), CL_COMPLETE);
	ck_assert_int_ne(test_event_status(e), CL_COMPLETE);
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(e));
	ck_assert_int_eq(test_event_status(sa->last), CL_COMPLETE);
	ck_assert_int_eq(test_event_status(sb->last), CL_COMPLETE);
	ck_assert_int_eq(test_event_status(sc->last), CL_COMPLETE);
	clq_event_unref(e);
	check_u32(y, q2, 7);
	check_u32(x, q2, 9);
	/* run again: A (queue 1) must wait for the last run's C too */
	sa->value = 11;
	ck_assert_ok(clq_sequence_run(seq, q2, NULL, 0, &e));
	ck_assert_ok(clq_event_wait(e));
	clq_event_unref(e);
	check_u32(y, q2, 11);
	if (mode == CLQ_ORDERING_CHECK) {
		struct clq_ordering_stats st;

		ck_assert_ok(clq_context_get_ordering_stats(test_ctx, &st));
		ck_assert_uint_eq(st.hazards, 0);
	}
	clq_event_unref(gate);
	clq_sequence_unref(seq);
	clq_operation_unref(a);
	clq_operation_unref(b);
	clq_operation_unref(c);
	clq_device_array_unref(part);
	clq_device_array_unref(x);
	clq_device_array_unref(y);
	clq_device_array_unref(z);
	clq_queue_unref(q1);
	clq_queue_unref(q2);
}

START_TEST(sequence_ordered_manual)
{
	ordered_two_queues(CLQ_ORDERING_MANUAL);
}
END_TEST

START_TEST(sequence_ordered_check)
{
	ordered_two_queues(CLQ_ORDERING_CHECK);
}
END_TEST

/* Two children that only read X (into Y1, Y2) run without each other. */
START_TEST(sequence_reads_concurrent)
{
	struct clq_queue *q1 = test_queue_new(0), *q2 = test_queue_new(0);
	struct clq_device_array *x = u32_new(), *y1 = u32_new(),
				*y2 = u32_new();
	struct stage *s1, *s2;
	struct clq_operation *c1 = stage_new("read1", x, y1, &s1);
	struct clq_operation *c2 = stage_new("read2", x, y2, &s2);
	struct clq_sequence *seq = NULL;
	struct clq_event *e = NULL;

	s1->gate = test_user_event_new();
	ck_assert_ok(clq_sequence_create(test_ctx, &seq));
	ck_assert_ok(clq_sequence_add(seq, c1, q1));
	ck_assert_ok(clq_sequence_add(seq, c2, q2));
	ck_assert_ok(clq_sequence_run(seq, q1, NULL, 0, &e));
	/* the second ends while the first still waits for its gate */
	ck_assert(ends_soon(s2->last));
	ck_assert_int_ne(test_event_status(s1->last), CL_COMPLETE);
	ck_assert_int_ne(test_event_status(e), CL_COMPLETE);
	ck_assert_ok(clq_user_event_complete(s1->gate, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(e));
	ck_assert_int_eq(test_event_status(s1->last), CL_COMPLETE);
	clq_event_unref(e);
	clq_event_unref(s1->gate);
	s1->gate = NULL;
	clq_sequence_unref(seq);
	clq_operation_unref(c1);
	clq_operation_unref(c2);
	clq_device_array_unref(x);
	clq_device_array_unref(y1);
	clq_device_array_unref(y2);
	clq_queue_unref(q1);
	clq_queue_unref(q2);
}
END_TEST

/*
 * fill X (queue 1) -> copy X to Y (queue 2) -> copy Y to Z (queue 1),
 * run again and again with a new value each time and no host waits but
 * every 100 runs: Z ends with the last value, and what the ordering holds
 * stays flat (CHECK: no hazard either).
 */
static void
repeat(enum clq_ordering mode)
{
	unsigned runs = getenv("CLQ_TEST_QUICK") ? 500 : 10000;
	struct clq_queue *q1, *q2;
	struct clq_device_array *x, *y, *z;
	struct clq_operation *f, *c1, *c2;
	struct stage *sf, *s1, *s2;
	struct clq_sequence *seq = NULL;
	struct clq_ordering_stats st;
	uint64_t held_early = 0;

	ck_assert_ok(clq_context_set_ordering(test_ctx, mode));
	q1 = test_queue_new(0);
	q2 = test_queue_new(0);
	x = u32_new();
	y = u32_new();
	z = u32_new();
	f = stage_new("fill", NULL, x, &sf);
	c1 = stage_new("copy1", x, y, &s1);
	c2 = stage_new("copy2", y, z, &s2);
	ck_assert_ok(clq_sequence_create(test_ctx, &seq));
	ck_assert_ok(clq_sequence_add(seq, f, q1));
	ck_assert_ok(clq_sequence_add(seq, c1, q2));
	ck_assert_ok(clq_sequence_add(seq, c2, q1));
	for (unsigned i = 1; i <= runs; i++) {
		struct clq_event *e = NULL;

		sf->value = i;
		ck_assert_ok(clq_sequence_run(seq, q2, NULL, 0, &e));
		if (i % 100 == 0)
			ck_assert_ok(clq_event_wait(e));
		clq_event_unref(e);
		if (i == 100) {
			ck_assert_ok(
				clq_context_get_ordering_stats(test_ctx, &st));
			held_early = st.events_held;
		}
	}
	ck_assert_uint_eq(sf->runs, runs);
	ck_assert_uint_eq(s2->runs, runs);
	check_u32(z, q1, runs);
	check_u32(y, q1, runs);
	ck_assert_ok(clq_context_get_ordering_stats(test_ctx, &st));
	ck_assert_uint_eq(st.hazards, 0);
	ck_assert_uint_le(st.events_held, held_early + 4);
	if (mode == CLQ_ORDERING_CHECK)
		ck_assert_uint_ge(st.accesses, 4 * (uint64_t)runs);
	clq_sequence_unref(seq);
	clq_operation_unref(f);
	clq_operation_unref(c1);
	clq_operation_unref(c2);
	clq_device_array_unref(x);
	clq_device_array_unref(y);
	clq_device_array_unref(z);
	clq_queue_unref(q1);
	clq_queue_unref(q2);
}

START_TEST(sequence_repeat_manual)
{
	repeat(CLQ_ORDERING_MANUAL);
}
END_TEST

START_TEST(sequence_repeat_check)
{
	repeat(CLQ_ORDERING_CHECK);
}
END_TEST

/*
 * Run after run with no host wait between: the second run's writer of X
 * (queue 1) waits for the first run's reader of X (queue 2, gated).
 */
static void
runs_ordered(enum clq_ordering mode)
{
	struct clq_queue *q1, *q2, *q3;
	struct clq_device_array *x, *y;
	struct stage *sa, *sb;
	struct clq_operation *a, *b;
	struct clq_sequence *seq = NULL;
	struct clq_event *e1 = NULL, *e2 = NULL;

	ck_assert_ok(clq_context_set_ordering(test_ctx, mode));
	q1 = test_queue_new(0);
	q2 = test_queue_new(0);
	q3 = test_queue_new(0); /* the runs' markers: orders nothing */
	x = u32_new();
	y = u32_new();
	a = stage_new("A", NULL, x, &sa);
	b = stage_new("B", x, y, &sb);
	ck_assert_ok(clq_sequence_create(test_ctx, &seq));
	ck_assert_ok(clq_sequence_add(seq, a, q1));
	ck_assert_ok(clq_sequence_add(seq, b, q2));
	sa->value = 1;
	sb->gate = test_user_event_new();
	ck_assert_ok(clq_sequence_run(seq, q3, NULL, 0, &e1));
	ck_assert(ends_soon(sa->last));
	sa->value = 2;
	ck_assert_ok(clq_sequence_run(seq, q3, NULL, 0, &e2));
	test_sleep_ms(50);
	/* the second A would overwrite what the first B has not read */
	ck_assert_int_ne(test_event_status(sa->last), CL_COMPLETE);
	ck_assert_ok(clq_user_event_complete(sb->gate, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(e2));
	ck_assert_int_eq(test_event_status(e1), CL_COMPLETE);
	check_u32(y, q1, 2);
	clq_event_unref(e1);
	clq_event_unref(e2);
	clq_event_unref(sb->gate);
	sb->gate = NULL;
	clq_sequence_unref(seq);
	clq_operation_unref(a);
	clq_operation_unref(b);
	clq_device_array_unref(x);
	clq_device_array_unref(y);
	clq_queue_unref(q1);
	clq_queue_unref(q2);
	clq_queue_unref(q3);
}

START_TEST(sequence_runs_ordered_manual)
{
	runs_ordered(CLQ_ORDERING_MANUAL);
}
END_TEST

START_TEST(sequence_runs_ordered_check)
{
	runs_ordered(CLQ_ORDERING_CHECK);
}
END_TEST

/* Rebinding a slot to another buffer makes the plan again. */
START_TEST(sequence_rebind)
{
	struct clq_queue *q1 = test_queue_new(0), *q2 = test_queue_new(0);
	struct clq_device_array *x = u32_new(), *x2 = u32_new(), *y = u32_new();
	struct stage *sa, *sb;
	struct clq_operation *a = stage_new("A", NULL, x, &sa);
	struct clq_operation *b = stage_new("B", x, y, &sb);
	struct clq_sequence *seq = NULL;
	struct clq_event *e = NULL, *gate;

	ck_assert_ok(clq_sequence_create(test_ctx, &seq));
	ck_assert_ok(clq_sequence_add(seq, a, q1));
	ck_assert_ok(clq_sequence_add(seq, b, q2));
	sa->value = 3;
	ck_assert_ok(clq_sequence_run(seq, q2, NULL, 0, &e));
	ck_assert_ok(clq_event_wait(e));
	clq_event_unref(e);
	check_u32(y, q2, 3);
	/* both now on x2: B must still wait for A */
	ck_assert_ok(clq_slot_bind(clq_operation_get_slot(a, "out"), x2));
	ck_assert_ok(clq_slot_bind(clq_operation_get_slot(b, "in"), x2));
	sa->value = 5;
	gate = test_user_event_new();
	ck_assert_ok(clq_sequence_run(seq, q2, &gate, 1, &e));
	test_sleep_ms(30);
	ck_assert_int_ne(test_event_status(sb->last), CL_COMPLETE);
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(e));
	clq_event_unref(e);
	clq_event_unref(gate);
	check_u32(y, q2, 5);
	check_u32(x, q2, 3);
	clq_sequence_unref(seq);
	clq_operation_unref(a);
	clq_operation_unref(b);
	clq_device_array_unref(x);
	clq_device_array_unref(x2);
	clq_device_array_unref(y);
	clq_queue_unref(q1);
	clq_queue_unref(q2);
}
END_TEST

START_TEST(sequence_bad_input)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_device_array *x = u32_new();
	struct stage *st;
	struct clq_operation *op = stage_new("op", NULL, x, &st), *bad = NULL;
	struct clq_sequence *seq = (struct clq_sequence *)&seq;
	struct clq_event *e = (struct clq_event *)&e;
	struct clq_slot *s = slot_u32(CLQ_ACCESS_READ);
	struct clq_operation_ops no_run = {NULL, NULL};
	struct clq_device *dev = NULL;
	struct clq_context *other = NULL;
	struct clq_queue *oq = NULL;
	const char *name = "x";

	test_log_expect("*");
	ck_assert_rc(clq_operation_create(NULL, &stage_ops, NULL, &bad),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(bad);
	ck_assert_rc(clq_operation_create("a", &no_run, NULL, &bad),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_operation_create("a", NULL, NULL, &bad),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_operation_create("a", &stage_ops, NULL, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_operation_add_slot(NULL, "a", s),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_operation_add_slot(op, NULL, s),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_operation_add_slot(op, "a", NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	test_log_expect("operation 'op' has a slot named 'out' already");
	ck_assert_rc(clq_operation_add_slot(op, "out", s), CLQ_ERROR_DUPLICATE);
	ck_assert(test_log_seen());
	ck_assert_uint_eq(clq_operation_get_n_slots(op), 1);
	ck_assert_ptr_null(clq_operation_get_slot(op, "nope"));
	ck_assert_ptr_null(clq_operation_get_slot(NULL, "out"));
	ck_assert_ptr_null(clq_operation_get_slot(op, NULL));
	ck_assert_ptr_nonnull(clq_operation_get_slot_at(op, 0, &name));
	ck_assert_str_eq(name, "out");
	ck_assert_ptr_null(clq_operation_get_slot_at(op, 1, &name));
	ck_assert_ptr_null(name);
	ck_assert_ptr_null(clq_operation_get_slot_at(NULL, 0, NULL));
	ck_assert_ptr_null(clq_operation_get_name(NULL));
	ck_assert_uint_eq(clq_operation_get_n_slots(NULL), 0);
	ck_assert_ptr_null(clq_operation_ref(NULL));
	clq_operation_unref(NULL);
	test_log_expect("*");
	ck_assert_rc(clq_operation_run(NULL, q, NULL, 0, &e),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(e);
	ck_assert_rc(clq_operation_run(op, NULL, NULL, 0, &e),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_operation_run(op, q, NULL, 1, &e),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_operation_run(op, q, NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	/* a callback that succeeds without an event */
	st->no_event = 1;
	test_log_expect("succeeded but gave no event");
	ck_assert_rc(clq_operation_run(op, q, NULL, 0, &e),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	st->no_event = 0;
	/* sequences */
	test_log_expect("*");
	ck_assert_rc(clq_sequence_create(NULL, &seq),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(seq);
	ck_assert_rc(clq_sequence_create(test_ctx, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ok(clq_sequence_create(test_ctx, &seq));
	ck_assert_rc(clq_sequence_add(NULL, op, q), CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_sequence_add(seq, NULL, q),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_sequence_ensure_bound(NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_sequence_run(NULL, q, NULL, 0, &e),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_sequence_run(seq, NULL, NULL, 0, &e),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_sequence_run(seq, q, NULL, 2, &e),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_sequence_run(seq, q, NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_uint_eq(clq_sequence_get_n_children(NULL), 0);
	ck_assert_ptr_null(clq_sequence_ref(NULL));
	clq_sequence_unref(NULL);
	/* another context's queue */
	ck_assert_ok(clq_device_select(test_device_spec(), &dev));
	ck_assert_ok(clq_context_create(dev, &other));
	ck_assert_ok(clq_queue_create(other, 0, &oq));
	test_log_expect("another context");
	ck_assert_rc(clq_sequence_add(seq, op, oq), CLQ_ERROR_CONTEXT_MISMATCH);
	ck_assert(test_log_seen());
	test_log_expect("another context");
	ck_assert_rc(clq_sequence_run(seq, oq, NULL, 0, &e),
		     CLQ_ERROR_CONTEXT_MISMATCH);
	ck_assert(test_log_seen());
	/* the operation's arrays in test_ctx, run on the other's queue */
	test_log_expect("belongs to another context");
	ck_assert_rc(clq_operation_run(op, oq, NULL, 0, &e),
		     CLQ_ERROR_CONTEXT_MISMATCH);
	ck_assert(test_log_seen());
	test_log_expect(NULL);
	/* an empty sequence runs: its event waits for the caller's list */
	ck_assert_ok(clq_sequence_run(seq, q, NULL, 0, &e));
	ck_assert_ok(clq_event_wait(e));
	clq_event_unref(e);
	clq_queue_unref(oq);
	clq_context_unref(other);
	clq_device_unref(dev);
	clq_sequence_unref(seq);
	clq_slot_unref(s);
	clq_operation_unref(op);
	clq_device_array_unref(x);
	clq_queue_unref(q);
}
END_TEST

static Suite *
operation_suite(void)
{
	Suite *s = suite_create("operation");
	TCase *tc;

	tc = tcase_create("planning");
	tcase_add_checked_fixture(tc, test_log_setup, test_log_teardown);
	tcase_add_test(tc, padding_alone);
	tcase_add_test(tc, linked_pair);
	tcase_add_test(tc, chains_and_exact);
	tcase_add_test(tc, link_after_planning);
	tcase_add_test(tc, long_chains);
	tcase_add_test(tc, unsatisfiable);
	tcase_add_test(tc, threads_link);
	suite_add_tcase(s, tc);

	tc = tcase_create("slots");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, slot_shapes);
	tcase_add_test(tc, bind_checks);
	tcase_add_test(tc, allocate_on_demand);
	tcase_add_test(tc, allocate_other_context);
	tcase_add_test(tc, bad_input);
	suite_add_tcase(s, tc);

	tc = tcase_create("operations");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, operation_unbound);
	tcase_add_test(tc, sequence_bad_input);
	suite_add_tcase(s, tc);

	tc = tcase_create("sequences");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, sequence_ordered_manual);
	tcase_add_test(tc, sequence_ordered_check);
	tcase_add_test(tc, sequence_reads_concurrent);
	tcase_add_test(tc, sequence_rebind);
	tcase_add_test(tc, sequence_runs_ordered_manual);
	tcase_add_test(tc, sequence_runs_ordered_check);
	tcase_add_test(tc, sequence_repeat_manual);
	tcase_add_test(tc, sequence_repeat_check);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_main(operation_suite(), 1);
}
