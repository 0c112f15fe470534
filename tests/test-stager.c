/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stagers: copies between device arrays of two contexts through pinned
 * host memory, in pieces. The second context is on the test device, or
 * on PoCL's second CPU device with POCL_DEVICES="pthread pthread" and
 * CLQ_TEST_TWO_DEVICES=1.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"

static struct clq_context *ctx2;
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
	ck_assert_ok(clq_context_create(d, &ctx2));
	clq_device_unref(d);
	q1 = test_queue_new(0);
	ck_assert_ok(clq_queue_create(ctx2, 0, &q2));
}

static void
teardown(void)
{
	clq_queue_unref(q1);
	clq_queue_unref(q2);
	clq_context_unref(ctx2);
	test_context_teardown();
}

/* ---------------------------------------------------------- helpers */

/* A device array of `ctx`, every byte of it (padding included) `fill`. */
static struct clq_device_array *
array_new(struct clq_context *ctx, struct clq_queue *q, enum clq_dtype dtype,
	  size_t ndim, const size_t *shape, const size_t *padded,
	  unsigned char fill)
{
	struct clq_device_array *a;
	struct clq_event *e;

	ck_assert_ok(
		clq_device_array_create(ctx, dtype, ndim, shape, padded, &a));
	ck_assert_ok(
		clq_device_array_fill(a, q, &(uint64_t[2]){0}, NULL, 0, NULL));
	if (fill) {
		/* every byte, whatever the dtype: fill as uint8 through a
		 * host copy */
		struct clq_host_array *h;

		ck_assert_ok(clq_host_array_create(ctx, dtype, ndim, shape,
						   padded, &h));
		memset(clq_host_array_data(h), fill,
		       clq_host_array_get_nbytes(h));
		ck_assert_ok(clq_device_array_set_async(a, q, h, NULL, 0, &e));
		ck_assert_ok(clq_event_wait(e));
		clq_event_unref(e);
		clq_host_array_unref(h);
	}
	return a;
}

/* The array's bytes, padding included (malloc'ed). */
static unsigned char *
array_bytes(struct clq_device_array *a, struct clq_queue *q)
{
	struct clq_host_array *h;
	size_t n = clq_device_array_get_nbytes(a);
	unsigned char *out = malloc(n);

	ck_assert_ptr_nonnull(out);
	ck_assert_ok(clq_host_array_create(
		clq_device_array_get_context(a), clq_device_array_get_dtype(a),
		clq_device_array_get_ndim(a), clq_device_array_get_shape(a),
		clq_device_array_get_padded_shape(a), &h));
	ck_assert_ok(clq_device_array_get(a, q, h));
	memcpy(out, clq_host_array_data(h), n);
	clq_host_array_unref(h);
	return out;
}

/* Byte `k` of element `idx` (its C-order index in the shape), seeded. */
static unsigned char
pattern(size_t idx, size_t k, unsigned seed)
{
	return (unsigned char)(idx * 7 + k * 131 + seed * 29 + 1);
}

/* Fills the elements of `a` with pattern(seed); padding bytes keep 0xee. */
static void
array_set_pattern(struct clq_device_array *a, struct clq_queue *q,
		  unsigned seed)
{
	size_t ndim = clq_device_array_get_ndim(a);
	const size_t *shape = clq_device_array_get_shape(a);
	const size_t *strides = clq_device_array_get_strides(a);
	size_t esize = clq_dtype_size(clq_device_array_get_dtype(a));
	size_t n = 1, idx[4] = {0};
	struct clq_host_array *h;
	unsigned char *p;

	ck_assert_ok(clq_host_array_create(
		clq_device_array_get_context(a), clq_device_array_get_dtype(a),
		ndim, shape, clq_device_array_get_padded_shape(a), &h));
	p = clq_host_array_data(h);
	memset(p, 0xee, clq_host_array_get_nbytes(h));
	for (size_t i = 0; i < ndim; i++)
		n *= shape[i];
	for (size_t e = 0; e < n; e++) {
		size_t off = 0;

		for (size_t i = 0; i < ndim; i++)
			off += idx[i] * strides[i];
		for (size_t k = 0; k < esize; k++)
			p[off + k] = pattern(e, k, seed);
		for (size_t i = ndim; i-- > 0;) {
			if (++idx[i] < shape[i])
				break;
			idx[i] = 0;
		}
	}
	ck_assert_ok(clq_device_array_set(a, q, h));
	clq_host_array_unref(h);
}

/*
 * Checks that the elements of `a` hold pattern(seed) and that every
 * padding byte is still `pad`.
 */
static void
array_check(struct clq_device_array *a, struct clq_queue *q, unsigned seed,
	    unsigned char pad)
{
	size_t ndim = clq_device_array_get_ndim(a);
	const size_t *shape = clq_device_array_get_shape(a);
	const size_t *strides = clq_device_array_get_strides(a);
	size_t esize = clq_dtype_size(clq_device_array_get_dtype(a));
	size_t nbytes = clq_device_array_get_nbytes(a);
	size_t n = 1, idx[4] = {0};
	unsigned char *p = array_bytes(a, q), *is_elem = calloc(nbytes, 1);

	ck_assert_ptr_nonnull(is_elem);
	for (size_t i = 0; i < ndim; i++)
		n *= shape[i];
	for (size_t e = 0; e < n; e++) {
		size_t off = 0;

		for (size_t i = 0; i < ndim; i++)
			off += idx[i] * strides[i];
		for (size_t k = 0; k < esize; k++) {
			ck_assert_msg(p[off + k] == pattern(e, k, seed),
				      "element %zu byte %zu: %u, expected %u",
				      e, k, p[off + k], pattern(e, k, seed));
			is_elem[off + k] = 1;
		}
		for (size_t i = ndim; i-- > 0;) {
			if (++idx[i] < shape[i])
				break;
			idx[i] = 0;
		}
	}
	for (size_t b = 0; b < nbytes; b++)
		ck_assert_msg(is_elem[b] || p[b] == pad,
			      "padding byte %zu changed to %u", b, p[b]);
	free(is_elem);
	free(p);
}

/* ---------------------------------------------------------- bad input */

START_TEST(bad_input)
{
	struct clq_stager *s = (void *)&s, *s2;
	struct clq_context *ctx3;
	struct clq_device_array *a1, *a2, *f1, *b1, *c2;
	struct clq_event *u3, *e = (void *)&e, *u1;
	size_t n = 100, m = 99, two[2] = {10, 10};

	test_log_expect("*");
	ck_assert_rc(clq_stager_create(test_ctx, ctx2, 0, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_stager_create(NULL, ctx2, 0, 0, &s),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(s);
	ck_assert_rc(clq_stager_create(test_ctx, NULL, 0, 0, &s),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_stager_create(test_ctx, test_ctx, 0, 0, &s),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(strstr(test_log_text(), "clq_device_array_copy()"));
	ck_assert_rc(clq_stager_create(test_ctx, ctx2, 15, 0, &s),
		     CLQ_ERROR_OUT_OF_RANGE);
	ck_assert_rc(clq_stager_create(test_ctx, ctx2,
				       CLQ_STAGER_MAX_PIECE_BYTES + 1, 0, &s),
		     CLQ_ERROR_OUT_OF_RANGE);
	ck_assert_rc(clq_stager_create(test_ctx, ctx2, 0,
				       CLQ_STAGER_MAX_PIECES + 1, &s),
		     CLQ_ERROR_OUT_OF_RANGE);
	ck_assert(strstr(test_log_text(), "expected 16 to"));
	ck_assert_ptr_null(s);
	setenv("CLQ_STAGER_MEMORY", "pageable", 1);
	ck_assert_rc(clq_stager_create(test_ctx, ctx2, 0, 0, &s),
		     CLQ_ERROR_INVALID_ARGUMENT);
	unsetenv("CLQ_STAGER_MEMORY");
	ck_assert(strstr(test_log_text(), "expected src, dst or registered"));

	ck_assert_ok(clq_stager_create(test_ctx, ctx2, 256, 2, &s));
	ck_assert_uint_eq(clq_stager_get_piece_bytes(s), 256);
	ck_assert_uint_eq(clq_stager_get_n_pieces(s), 2);
	ck_assert_ok(clq_stager_create(ctx2, test_ctx, 0, 0, &s2));
	ck_assert_uint_eq(clq_stager_get_piece_bytes(s2),
			  CLQ_STAGER_DEFAULT_PIECE_BYTES);
	ck_assert_uint_eq(clq_stager_get_n_pieces(s2),
			  CLQ_STAGER_DEFAULT_PIECES);
	ck_assert_ptr_eq(clq_stager_ref(s2), s2);
	clq_stager_unref(s2);
	clq_stager_unref(s2);
	clq_stager_unref(NULL);

	a1 = array_new(test_ctx, q1, CLQ_DTYPE_FLOAT32, 1, &n, NULL, 0);
	a2 = array_new(ctx2, q2, CLQ_DTYPE_FLOAT32, 1, &n, NULL, 0);
	f1 = array_new(test_ctx, q1, CLQ_DTYPE_INT32, 1, &n, NULL, 0);
	b1 = array_new(test_ctx, q1, CLQ_DTYPE_FLOAT32, 1, &m, NULL, 0);
	c2 = array_new(ctx2, q2, CLQ_DTYPE_FLOAT32, 2, two, NULL, 0);

	ck_assert_rc(clq_stager_copy(NULL, a2, q2, a1, q1, NULL, 0, &e),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(e);
	ck_assert_rc(clq_stager_copy(s, NULL, q2, a1, q1, NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_stager_copy(s, a2, q2, a1, NULL, NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(strstr(test_log_text(), "src_queue is NULL"));
	ck_assert(strstr(test_log_text(), "dst is NULL"));
	/* Wrong way round, wrong queues. */
	ck_assert_rc(clq_stager_copy(s, a1, q1, a2, q2, NULL, 0, NULL),
		     CLQ_ERROR_CONTEXT_MISMATCH);
	ck_assert(strstr(test_log_text(), "source array is not"));
	ck_assert_rc(clq_stager_copy(s, a2, q1, a1, q1, NULL, 0, NULL),
		     CLQ_ERROR_CONTEXT_MISMATCH);
	ck_assert(strstr(test_log_text(), "destination queue is not"));
	ck_assert_rc(clq_stager_copy(s, a2, q2, f1, q1, NULL, 0, NULL),
		     CLQ_ERROR_TYPE_MISMATCH);
	ck_assert(strstr(test_log_text(), "holds float32, the source int32"));
	ck_assert_rc(clq_stager_copy(s, a2, q2, b1, q1, NULL, 0, NULL),
		     CLQ_ERROR_SHAPE_MISMATCH);
	ck_assert_rc(clq_stager_copy(s, c2, q2, a1, q1, NULL, 0, NULL),
		     CLQ_ERROR_SHAPE_MISMATCH);
	ck_assert(strstr(test_log_text(), "the shapes differ"));
	/* Wait lists: NULL, a NULL entry, an event of a third context. */
	ck_assert_rc(clq_stager_copy(s, a2, q2, a1, q1, NULL, 1, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_stager_copy(s, a2, q2, a1, q1,
				     &(struct clq_event *){NULL}, 1, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ok(
		clq_context_create(clq_context_get_device(test_ctx), &ctx3));
	ck_assert_ok(clq_user_event_create(ctx3, &u3));
	u1 = test_user_event_new();
	ck_assert_rc(clq_stager_copy(s, a2, q2, a1, q1,
				     (struct clq_event *[]){u1, u3}, 2, &e),
		     CLQ_ERROR_CONTEXT_MISMATCH);
	ck_assert_ptr_null(e);
	ck_assert(strstr(test_log_text(), "wait list entry 1"));
	ck_assert_ok(clq_user_event_complete(u3, CL_COMPLETE));
	ck_assert_ok(clq_user_event_complete(u1, CL_COMPLETE));
	clq_event_unref(u3);
	clq_event_unref(u1);
	clq_context_unref(ctx3);

	/* Nothing was enqueued: the stager still works. */
	test_log_expect(NULL);
	array_set_pattern(a1, q1, 3);
	ck_assert_ok(clq_stager_copy(s, a2, q2, a1, q1, NULL, 0, &e));
	ck_assert_ok(clq_event_wait(e));
	clq_event_unref(e);
	array_check(a2, q2, 3, 0);

	clq_device_array_unref(a1);
	clq_device_array_unref(a2);
	clq_device_array_unref(f1);
	clq_device_array_unref(b1);
	clq_device_array_unref(c2);
	clq_stager_unref(s);
}
END_TEST

/* A wrapped buffer of ctx made with `flags`, as an array of n uint16. */
static struct clq_device_array *
wrapped_new(struct clq_context *ctx, cl_mem_flags flags, size_t n)
{
	struct clq_device_array *a;
	cl_int err;
	cl_mem raw =
		clCreateBuffer(clq_context_get_cl(ctx),
			       CL_MEM_READ_WRITE | flags, n * 2, NULL, &err);

	ck_assert_int_eq(err, CL_SUCCESS);
	ck_assert_ok(clq_device_array_wrap(ctx, raw, CLQ_DTYPE_UINT16, 1, &n,
					   NULL, &a));
	clReleaseMemObject(raw);
	return a;
}

/*
 * Inputs refused only once part of the copy was enqueued would leave that
 * part gating the stager's next copy: shapes that differ in a later axis,
 * named in full, and buffers whose host flags forbid the staging are
 * refused up front; the next copy does not wait for the refused one's
 * wait list.
 */
START_TEST(bad_input_up_front)
{
	size_t n = 300, sa[2] = {10, 10}, sb[2] = {10, 11};
	struct clq_stager *s;
	struct clq_device_array *a1, *a2, *b2, *no_read, *no_write, *no_access;
	struct clq_event *gate = test_user_event_new(), *e = (void *)&e;
	int status = CL_QUEUED;

	ck_assert_ok(clq_stager_create(test_ctx, ctx2, 128, 2, &s));
	a1 = array_new(test_ctx, q1, CLQ_DTYPE_UINT16, 2, sa, NULL, 0);
	b2 = array_new(ctx2, q2, CLQ_DTYPE_UINT16, 2, sb, NULL, 0);
	test_log_expect("*");
	ck_assert_rc(clq_stager_copy(s, b2, q2, a1, q1, NULL, 0, NULL),
		     CLQ_ERROR_SHAPE_MISMATCH);
	ck_assert(strstr(test_log_text(), "clq_stager_copy: the shapes "
					  "differ: destination [10, 11], "
					  "source [10, 10]"));
	clq_device_array_unref(a1);
	clq_device_array_unref(b2);

	a1 = array_new(test_ctx, q1, CLQ_DTYPE_UINT16, 1, &n, NULL, 0);
	a2 = array_new(ctx2, q2, CLQ_DTYPE_UINT16, 1, &n, NULL, 0);
	no_read = wrapped_new(test_ctx, CL_MEM_HOST_WRITE_ONLY, n);
	no_write = wrapped_new(ctx2, CL_MEM_HOST_READ_ONLY, n);
	no_access = wrapped_new(ctx2, CL_MEM_HOST_NO_ACCESS, n);
	test_log_expect("*");
	ck_assert_rc(clq_stager_copy(s, a2, q2, no_read, q1, &gate, 1, &e),
		     CLQ_ERROR_UNSUPPORTED);
	ck_assert_ptr_null(e);
	ck_assert(strstr(test_log_text(),
			 "clq_stager_copy: the buffer was made with "
			 "CL_MEM_HOST_WRITE_ONLY, so the host may not read"));
	ck_assert_rc(clq_stager_copy(s, no_write, q2, a1, q1, &gate, 1, NULL),
		     CLQ_ERROR_UNSUPPORTED);
	ck_assert(strstr(test_log_text(),
			 "clq_stager_copy: the buffer was made with "
			 "CL_MEM_HOST_READ_ONLY, so the host may not write"));
	ck_assert_rc(clq_stager_copy(s, no_access, q2, a1, q1, &gate, 1, NULL),
		     CLQ_ERROR_UNSUPPORTED);
	ck_assert(strstr(test_log_text(), "CL_MEM_HOST_NO_ACCESS"));

	/* The gate is still pending: the next copy must not wait for it. */
	test_log_expect(NULL);
	array_set_pattern(a1, q1, 4);
	ck_assert_ok(clq_stager_copy(s, a2, q2, a1, q1, NULL, 0, &e));
	for (int k = 0; k < 400 && status > CL_COMPLETE; k++) {
		test_sleep_ms(5);
		status = test_event_status(e);
	}
	ck_assert_int_eq(status, CL_COMPLETE);
	clq_event_unref(e);
	array_check(a2, q2, 4, 0);
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	clq_event_unref(gate);
	clq_device_array_unref(a1);
	clq_device_array_unref(a2);
	clq_device_array_unref(no_read);
	clq_device_array_unref(no_write);
	clq_device_array_unref(no_access);
	clq_stager_unref(s);
}
END_TEST

/* ---------------------------------------------------------- data exact */

struct layout_case {
	enum clq_dtype dtype;
	size_t ndim;
	size_t shape[4];
	size_t src_padded[4];
	size_t dst_padded[4];
	size_t piece_bytes, n_pieces;
};

static const struct layout_case cases[] = {
	/* 1-D, 16 pieces of 64 elements, the last partial */
	{CLQ_DTYPE_FLOAT32, 1, {1000}, {1000}, {1000}, 256, 2},
	/* 1-D, padded differently, a piece not a multiple of the element */
	{CLQ_DTYPE_UINT16, 1, {777}, {800}, {780}, 250, 3},
	/* pieces larger than the array */
	{CLQ_DTYPE_INT8, 1, {10}, {10}, {16}, 4096, 4},
	{CLQ_DTYPE_COMPLEX128, 2, {3, 5}, {4, 6}, {3, 5}, 1 << 16, 2},
	/* 2-D, three rows a piece, padded on each side differently */
	{CLQ_DTYPE_UINT16, 2, {37, 13}, {40, 16}, {37, 20}, 100, 3},
	/* 2-D, rows larger than a piece: cut along the last axis */
	{CLQ_DTYPE_INT32, 2, {5, 300}, {5, 301}, {6, 300}, 256, 2},
	/* 3-D, one slab a piece */
	{CLQ_DTYPE_UINT8, 3, {7, 5, 9}, {8, 6, 11}, {7, 7, 9}, 50, 2},
	/* 3-D, two rows a piece */
	{CLQ_DTYPE_FLOAT64, 3, {4, 6, 10}, {4, 6, 10}, {5, 7, 12}, 200, 4},
	/* 4-D, cut along the second axis */
	{CLQ_DTYPE_INT16, 4, {3, 4, 5, 6}, {3, 5, 5, 8}, {4, 4, 6, 6}, 128, 2},
	/* one piece at a time */
	{CLQ_DTYPE_UINT32, 2, {20, 20}, {21, 20}, {20, 23}, 160, 1},
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* Case _i / 2, forwards for even _i, backwards for odd. */
START_TEST(data_exact)
{
	const struct layout_case *lc = &cases[_i / 2];
	int back = _i & 1;
	struct clq_context *from_ctx = back ? ctx2 : test_ctx;
	struct clq_context *to_ctx = back ? test_ctx : ctx2;
	struct clq_queue *from_q = back ? q2 : q1, *to_q = back ? q1 : q2;
	struct clq_device_array *src, *dst;
	struct clq_stager *s;
	struct clq_event *e;

	ck_assert_ok(clq_stager_create(from_ctx, to_ctx, lc->piece_bytes,
				       lc->n_pieces, &s));
	src = array_new(from_ctx, from_q, lc->dtype, lc->ndim, lc->shape,
			lc->src_padded, 0);
	dst = array_new(to_ctx, to_q, lc->dtype, lc->ndim, lc->shape,
			lc->dst_padded, 0xa5);
	array_set_pattern(src, from_q, (unsigned)_i);
	ck_assert_ok(clq_stager_copy(s, dst, to_q, src, from_q, NULL, 0, &e));
	ck_assert_ptr_eq(clq_event_get_context(e), to_ctx);
	ck_assert_ok(clq_event_wait(e));
	clq_event_unref(e);
	array_check(dst, to_q, (unsigned)_i, 0xa5);
	clq_device_array_unref(src);
	clq_device_array_unref(dst);
	clq_stager_unref(s);
}
END_TEST

/* Each arrangement of the memory (CLQ_STAGER_MEMORY). */
START_TEST(memory_modes)
{
	static const char *const modes[] = {"src", "dst", "registered"};
	size_t n = 5000;
	struct clq_device_array *src, *dst;
	struct clq_stager *s;
	struct clq_event *e;

	setenv("CLQ_STAGER_MEMORY", modes[_i], 1);
	ck_assert_ok(clq_stager_create(test_ctx, ctx2, 1024, 3, &s));
	unsetenv("CLQ_STAGER_MEMORY");
	src = array_new(test_ctx, q1, CLQ_DTYPE_UINT32, 1, &n, NULL, 0);
	dst = array_new(ctx2, q2, CLQ_DTYPE_UINT32, 1, &n, NULL, 0);
	for (unsigned k = 0; k < 3; k++) {
		array_set_pattern(src, q1, k + 10);
		ck_assert_ok(clq_stager_copy(s, dst, q2, src, q1, NULL, 0, &e));
		ck_assert_ok(clq_event_wait(e));
		clq_event_unref(e);
		array_check(dst, q2, k + 10, 0);
	}
	clq_device_array_unref(src);
	clq_device_array_unref(dst);
	clq_stager_unref(s);
}
END_TEST

/* ------------------------------------------------- many copies, order */

#define ROUNDS 12

/*
 * Back and forth: a stager each way, each round's copy out and back
 * ordered by events only (no host wait in between), new data each round
 * from the first context; every round's result kept in its own array.
 */
START_TEST(back_and_forth)
{
	size_t shape[2] = {33, 17}, pa[2] = {33, 20}, pb[2] = {35, 17};
	struct clq_stager *there, *back;
	struct clq_device_array *a[ROUNDS], *b, *r[ROUNDS];
	struct clq_event *out = NULL, *home = NULL;

	ck_assert_ok(clq_stager_create(test_ctx, ctx2, 300, 3, &there));
	ck_assert_ok(clq_stager_create(ctx2, test_ctx, 500, 2, &back));
	b = array_new(ctx2, q2, CLQ_DTYPE_INT32, 2, shape, pb, 0);
	for (int k = 0; k < ROUNDS; k++) {
		a[k] = array_new(test_ctx, q1, CLQ_DTYPE_INT32, 2, shape, pa,
				 0);
		r[k] = array_new(test_ctx, q1, CLQ_DTYPE_INT32, 2, shape, NULL,
				 0);
		array_set_pattern(a[k], q1, (unsigned)k + 100);
	}
	for (int k = 0; k < ROUNDS; k++) {
		/* b is overwritten only after its previous copy home. */
		struct clq_event *w[1] = {home};

		ck_assert_ok(clq_stager_copy(there, b, q2, a[k], q1, w,
					     home ? 1 : 0, &out));
		clq_event_unref(home);
		ck_assert_ok(
			clq_stager_copy(back, r[k], q1, b, q2, &out, 1, &home));
		clq_event_unref(out);
	}
	ck_assert_ok(clq_event_wait(home));
	clq_event_unref(home);
	for (int k = 0; k < ROUNDS; k++) {
		array_check(r[k], q1, (unsigned)k + 100, 0);
		clq_device_array_unref(a[k]);
		clq_device_array_unref(r[k]);
	}
	clq_device_array_unref(b);
	clq_stager_unref(there);
	clq_stager_unref(back);
}
END_TEST

/*
 * Many copies through one stager, enqueued at once with no waits between
 * them: copies through one stager take turns, so none overwrites the
 * pinned pieces another still needs.
 */
START_TEST(many_at_once)
{
	size_t n = 3001;
	struct clq_stager *s;
	struct clq_device_array *src[ROUNDS], *dst[ROUNDS];
	struct clq_event *e[ROUNDS];

	ck_assert_ok(clq_stager_create(test_ctx, ctx2, 512, 2, &s));
	for (int k = 0; k < ROUNDS; k++) {
		src[k] = array_new(test_ctx, q1, CLQ_DTYPE_UINT8, 1, &n, NULL,
				   0);
		dst[k] = array_new(ctx2, q2, CLQ_DTYPE_UINT8, 1, &n, NULL, 0);
		array_set_pattern(src[k], q1, (unsigned)k);
	}
	for (int k = 0; k < ROUNDS; k++)
		ck_assert_ok(clq_stager_copy(s, dst[k], q2, src[k], q1, NULL, 0,
					     &e[k]));
	clq_stager_unref(s);
	ck_assert_ok(clq_events_wait(e, ROUNDS));
	for (int k = 0; k < ROUNDS; k++) {
		array_check(dst[k], q2, (unsigned)k, 0);
		clq_event_unref(e[k]);
		clq_device_array_unref(src[k]);
		clq_device_array_unref(dst[k]);
	}
}
END_TEST

/* ------------------------------------------------------------ failures */

static size_t
count_lines(const char *text)
{
	size_t n = 0;

	/* clq's messages, not the driver's own notifications (warnings:
	 * NVIDIA 580 sends one, ending in blank lines, for each flush of a
	 * queue after a failure). */
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');

		if (strncmp(line, "OpenCL driver:", 14) != 0 && *line != '\n')
			n += end != NULL;
		if (!end)
			break;
		line = end + 1;
	}
	return n;
}

/*
 * A failed wait event, of the source context or of the destination. The
 * copy's event fails with its status, one wait reports it with one
 * message, the queues are not failed, and the stager's next copy is
 * exact.
 */
START_TEST(failure_reported_once)
{
	int dst_side = _i;
	size_t n = 4000;
	struct clq_stager *s;
	struct clq_device_array *src, *dst;
	struct clq_event *gate, *e;

	ck_assert_ok(clq_stager_create(test_ctx, ctx2, 1000, 2, &s));
	src = array_new(test_ctx, q1, CLQ_DTYPE_UINT16, 1, &n, NULL, 0);
	dst = array_new(ctx2, q2, CLQ_DTYPE_UINT16, 1, &n, NULL, 0);
	array_set_pattern(src, q1, 1);
	ck_assert_ok(clq_user_event_create(dst_side ? ctx2 : test_ctx, &gate));
	ck_assert_ok(clq_stager_copy(s, dst, q2, src, q1, &gate, 1, &e));
	test_log_expect("the command failed");
	ck_assert_ok(clq_user_event_complete(gate, -58));
	ck_assert_rc(clq_event_wait(e), CLQ_ERROR_COMMAND_FAILED);
	/* PoCL gives -1 to a command failed through its wait list */
	ck_assert(test_event_status(e) < 0);
	clq_event_unref(e);
	clq_event_unref(gate);

	/* No command of the copy failed, so both queues go on at once. The
	 * next copy waits for every command of the failed one to end,
	 * so after it nothing of the failure is left to report. */
	array_set_pattern(src, q1, 2);
	ck_assert_ok(clq_stager_copy(s, dst, q2, src, q1, NULL, 0, &e));
	ck_assert_ok(clq_event_wait(e));
	clq_event_unref(e);
	ck_assert_uint_eq(count_lines(test_log_text()), 1);
	test_log_expect(NULL);
	array_check(dst, q2, 2, 0);
	clq_device_array_unref(src);
	clq_device_array_unref(dst);
	clq_stager_unref(s);
}
END_TEST

/* ------------------------------------------------------------ ordering */

/*
 * Ordering sees the caller's wait list through the stand-ins the copy
 * waits for: the source written, and the destination overwritten, by
 * another queue of each context, with those commands' events in the wait
 * list, is ordered: CHECK (_i 0) reports no hazard, AUTO (_i 1) adds no
 * wait. Without the events in the wait list, CHECK refuses the copy.
 */
START_TEST(ordering_sees_waits)
{
	size_t n = 1500;
	struct clq_context *a, *b;
	struct clq_queue *qa, *qa2, *qb, *qb2;
	struct clq_device_array *src, *dst;
	struct clq_stager *s;
	struct clq_event *w[2], *e;
	struct clq_ordering_stats st;
	enum clq_ordering mode = _i ? CLQ_ORDERING_AUTO : CLQ_ORDERING_CHECK;

	ck_assert_ok(clq_context_create(clq_context_get_device(test_ctx), &a));
	ck_assert_ok(clq_context_create(clq_context_get_device(ctx2), &b));
	ck_assert_ok(clq_context_set_ordering(a, mode));
	ck_assert_ok(clq_context_set_ordering(b, mode));
	ck_assert_ok(clq_queue_create(a, 0, &qa));
	ck_assert_ok(clq_queue_create(a, 0, &qa2));
	ck_assert_ok(clq_queue_create(b, 0, &qb));
	ck_assert_ok(clq_queue_create(b, 0, &qb2));
	ck_assert_ok(clq_stager_create(a, b, 512, 2, &s));
	ck_assert_ok(clq_device_array_create(a, CLQ_DTYPE_UINT32, 1, &n, NULL,
					     &src));
	ck_assert_ok(clq_device_array_create(b, CLQ_DTYPE_UINT32, 1, &n, NULL,
					     &dst));
	/* Written on the second queue of each side; the copy waits for
	 * both. */
	ck_assert_ok(clq_device_array_fill(src, qa2, &(uint32_t){7}, NULL, 0,
					   &w[0]));
	ck_assert_ok(clq_device_array_zero(dst, qb2, NULL, 0, &w[1]));
	ck_assert_ok(clq_stager_copy(s, dst, qb, src, qa, w, 2, &e));
	ck_assert_ok(clq_event_wait(e));
	clq_event_unref(e);
	clq_event_unref(w[0]);
	clq_event_unref(w[1]);
	ck_assert_ok(clq_context_get_ordering_stats(a, &st));
	ck_assert_uint_eq(st.waits_added, 0);
	ck_assert_ok(clq_context_get_ordering_stats(b, &st));
	ck_assert_uint_eq(st.waits_added, 0);
	{
		uint32_t out[1500];
		struct clq_host_array *h;

		ck_assert_ok(clq_host_array_wrap(CLQ_DTYPE_UINT32, 1, &n, NULL,
						 out, &h));
		ck_assert_ok(clq_device_array_get(dst, qb, h));
		clq_host_array_unref(h);
		for (size_t i = 0; i < n; i++)
			ck_assert_uint_eq(out[i], 7);
	}
	/* The host waited for the copy's event, so it has seen the reads
	 * too: the source may be rewritten on another queue (array.h), and
	 * AUTO adds no wait for it. */
	ck_assert_ok(clq_device_array_zero(src, qa2, NULL, 0, &e));
	ck_assert_ok(clq_context_get_ordering_stats(a, &st));
	ck_assert_uint_eq(st.waits_added, 0);
	/* Not waited for: the next copy's read of the source races with
	 * that write, and the detector refuses it (AUTO orders it). */
	if (mode == CLQ_ORDERING_CHECK)
		test_log_expect("hazard");
	ck_assert_rc(clq_stager_copy(s, dst, qb, src, qa, NULL, 0, NULL),
		     _i ? CLQ_SUCCESS : CLQ_ERROR_HAZARD);
	test_log_expect(NULL);
	clq_event_unref(e);
	ck_assert_ok(clq_queue_finish(qa2));
	ck_assert_ok(clq_queue_finish(qa));
	ck_assert_ok(clq_queue_finish(qb));
	clq_device_array_unref(src);
	clq_device_array_unref(dst);
	clq_stager_unref(s);
	clq_queue_unref(qa);
	clq_queue_unref(qa2);
	clq_queue_unref(qb);
	clq_queue_unref(qb2);
	clq_context_unref(a);
	clq_context_unref(b);
}
END_TEST

/* Whether the driver holds a command whose wait list has a failed event
 * until the rest have ended (measured on NVIDIA 580, see queue.h). */
static int
holds_behind_pending(struct clq_context *ctx)
{
	return strstr(clq_device_get_platform_name(clq_context_get_device(ctx)),
		      "NVIDIA") != NULL;
}

/*
 * A copy whose wait event fails marks nothing seen: the event's stand-in
 * completes all the same, so the first read runs, carrying the stamp of
 * the failed event, which claims what it waited for. Here `f` waited for
 * `w` (a write of `x`, held by a gate) and fails through another wait
 * event before `w` has run; after the failed copy, a write of `x` on a
 * fourth queue races with `w`. CHECK (_i 0) reports the hazard, AUTO
 * (_i 1) adds the wait; when the host had seen the copy's read end, both
 * took `w` for done. (NVIDIA's driver holds `f` until `w` has ended too,
 * queue.h: the race cannot happen there, and the test checks only that
 * the copy fails once the gate opens. Keyed on the platform, not on time,
 * so that a slow run elsewhere still checks the race.)
 */
START_TEST(failed_wait_sees_nothing)
{
	size_t n = 600;
	struct clq_context *a;
	struct clq_queue *qa, *qa2, *qa3, *qa4;
	struct clq_device_array *src, *dst, *x;
	struct clq_stager *s;
	struct clq_event *gate, *bad, *w, *f, *e;
	struct clq_ordering_stats st;
	enum clq_ordering mode = _i ? CLQ_ORDERING_AUTO : CLQ_ORDERING_CHECK;

	ck_assert_ok(clq_context_create(clq_context_get_device(test_ctx), &a));
	ck_assert_ok(clq_context_set_ordering(a, mode));
	ck_assert_ok(clq_queue_create(a, 0, &qa));
	ck_assert_ok(clq_queue_create(a, 0, &qa2));
	ck_assert_ok(clq_queue_create(a, 0, &qa3));
	ck_assert_ok(clq_queue_create(a, 0, &qa4));
	ck_assert_ok(clq_stager_create(a, ctx2, 256, 2, &s));
	ck_assert_ok(
		clq_device_array_create(a, CLQ_DTYPE_INT16, 1, &n, NULL, &src));
	ck_assert_ok(
		clq_device_array_create(a, CLQ_DTYPE_INT16, 1, &n, NULL, &x));
	dst = array_new(ctx2, q2, CLQ_DTYPE_INT16, 1, &n, NULL, 0);
	ck_assert_ok(clq_user_event_create(a, &gate));
	ck_assert_ok(clq_user_event_create(a, &bad));
	ck_assert_ok(clq_device_array_zero(x, qa3, &gate, 1, &w));
	ck_assert_ok(clq_device_array_zero(
		src, qa2, (struct clq_event *[]){w, bad}, 2, &f));
	ck_assert_ok(clq_stager_copy(s, dst, q2, src, qa, &f, 1, &e));
	test_log_expect("the command failed");
	ck_assert_ok(clq_user_event_complete(bad, -58));
	if (holds_behind_pending(a)) {
		ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
		ck_assert_rc(clq_event_wait(e), CLQ_ERROR_COMMAND_FAILED);
		test_log_expect(NULL);
		ck_assert_ok(clq_event_wait(w));
		goto done;
	}
	while (test_event_status(f) > CL_COMPLETE) /* the test's timeout */
		test_sleep_ms(1);
	ck_assert_rc(clq_event_wait(e), CLQ_ERROR_COMMAND_FAILED);
	test_log_expect(NULL);
	ck_assert_int_gt(test_event_status(w), CL_COMPLETE); /* not run */
	ck_assert_ok(clq_context_get_ordering_stats(a, &st));
	if (mode == CLQ_ORDERING_CHECK)
		test_log_expect("hazard");
	ck_assert_rc(clq_device_array_zero(x, qa4, NULL, 0, NULL),
		     _i ? CLQ_SUCCESS : CLQ_ERROR_HAZARD);
	test_log_expect(NULL);
	if (mode == CLQ_ORDERING_AUTO) {
		uint64_t before = st.waits_added;

		ck_assert_ok(clq_context_get_ordering_stats(a, &st));
		ck_assert_uint_eq(st.waits_added, before + 1);
	}
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(w));
done:
	ck_assert_ok(clq_queue_finish(qa));
	ck_assert_ok(clq_queue_finish(qa2));
	ck_assert_ok(clq_queue_finish(qa3));
	ck_assert_ok(clq_queue_finish(qa4));
	clq_event_unref(e);
	clq_event_unref(f);
	clq_event_unref(w);
	clq_event_unref(bad);
	clq_event_unref(gate);
	clq_device_array_unref(src);
	clq_device_array_unref(dst);
	clq_device_array_unref(x);
	clq_stager_unref(s);
	clq_queue_unref(qa);
	clq_queue_unref(qa2);
	clq_queue_unref(qa3);
	clq_queue_unref(qa4);
	clq_context_unref(a);
}
END_TEST

/*
 * A copy refused before it enqueued anything (under CHECK, a hazard on
 * the source, found at the first read) leaves the stager as it was: the
 * next copy does not wait for the refused one's wait list, a gate the
 * caller has no reason to open any more.
 */
START_TEST(refused_copy_gates_nothing)
{
	size_t n = 700;
	struct clq_context *a;
	struct clq_queue *qa, *qa2;
	struct clq_device_array *src, *dst;
	struct clq_stager *s;
	struct clq_event *gate, *e;
	int status = CL_QUEUED;

	ck_assert_ok(clq_context_create(clq_context_get_device(test_ctx), &a));
	ck_assert_ok(clq_context_set_ordering(a, CLQ_ORDERING_CHECK));
	ck_assert_ok(clq_queue_create(a, 0, &qa));
	ck_assert_ok(clq_queue_create(a, 0, &qa2));
	ck_assert_ok(clq_stager_create(a, ctx2, 256, 2, &s));
	ck_assert_ok(
		clq_device_array_create(a, CLQ_DTYPE_INT16, 1, &n, NULL, &src));
	dst = array_new(ctx2, q2, CLQ_DTYPE_INT16, 1, &n, NULL, 0);
	ck_assert_ok(clq_user_event_create(a, &gate));
	ck_assert_ok(clq_device_array_zero(src, qa2, NULL, 0, NULL));
	test_log_expect("hazard");
	ck_assert_rc(clq_stager_copy(s, dst, q2, src, qa, &gate, 1, &e),
		     CLQ_ERROR_HAZARD);
	test_log_expect(NULL);
	ck_assert_ok(clq_queue_finish(qa2));
	ck_assert_ok(clq_stager_copy(s, dst, q2, src, qa, NULL, 0, &e));
	for (int k = 0; k < 400 && status > CL_COMPLETE; k++) {
		test_sleep_ms(5);
		status = test_event_status(e);
	}
	ck_assert_int_eq(status, CL_COMPLETE);
	clq_event_unref(e);
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	clq_event_unref(gate);
	clq_device_array_unref(src);
	clq_device_array_unref(dst);
	clq_stager_unref(s);
	clq_queue_unref(qa);
	clq_queue_unref(qa2);
	clq_context_unref(a);
}
END_TEST

/* ------------------------------------------------------------ lifetime */

/*
 * Everything the caller holds dropped while the copy waits for a gate:
 * the stager's memory stays until the last command ends (valgrind and
 * ASan see a use after free otherwise), and the data arrives.
 */
START_TEST(unref_in_flight)
{
	size_t shape[3] = {6, 7, 8};
	struct clq_stager *s;
	struct clq_device_array *src, *dst;
	struct clq_event *gate, *e;

	ck_assert_ok(clq_stager_create(test_ctx, ctx2, 100, 2, &s));
	src = array_new(test_ctx, q1, CLQ_DTYPE_FLOAT32, 3, shape, NULL, 0);
	dst = array_new(ctx2, q2, CLQ_DTYPE_FLOAT32, 3, shape, NULL, 0);
	array_set_pattern(src, q1, 9);
	gate = test_user_event_new();
	ck_assert_ok(clq_stager_copy(s, dst, q2, src, q1, &gate, 1, &e));
	clq_stager_unref(s);
	if (_i) /* and the event too */
		clq_event_unref(e);
	test_sleep_ms(20);
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	clq_event_unref(gate);
	if (!_i) {
		ck_assert_ok(clq_event_wait(e));
		clq_event_unref(e);
	} else {
		ck_assert_ok(clq_queue_finish(q1));
		ck_assert_ok(clq_queue_finish(q2));
	}
	array_check(dst, q2, 9, 0);
	clq_device_array_unref(src);
	clq_device_array_unref(dst);
}
END_TEST

/* ------------------------------------------------------------- threads */

#define THREADS 4

struct thread_job {
	struct clq_stager *s;
	struct clq_device_array *src, *dst;
	struct clq_queue *sq, *dq;
	int rc;
};

static void *
copy_thread(void *arg)
{
	struct thread_job *j = arg;
	struct clq_event *e = NULL;

	for (int k = 0; k < 5 && j->rc == 0; k++) {
		j->rc = clq_stager_copy(j->s, j->dst, j->dq, j->src, j->sq,
					NULL, 0, &e);
		if (j->rc == 0)
			j->rc = clq_event_wait(e);
		clq_event_unref(e);
	}
	return NULL;
}

/* Copies through one stager from several threads at once, each with its
 * own queues and arrays. */
START_TEST(threads_share_a_stager)
{
	size_t n = 2500;
	struct clq_stager *s;
	struct thread_job j[THREADS];
	pthread_t t[THREADS];

	ck_assert_ok(clq_stager_create(test_ctx, ctx2, 700, 2, &s));
	for (int i = 0; i < THREADS; i++) {
		j[i].s = s;
		j[i].sq = test_queue_new(0);
		ck_assert_ok(clq_queue_create(ctx2, 0, &j[i].dq));
		j[i].src = array_new(test_ctx, j[i].sq, CLQ_DTYPE_INT16, 1, &n,
				     NULL, 0);
		j[i].dst = array_new(ctx2, j[i].dq, CLQ_DTYPE_INT16, 1, &n,
				     NULL, 0);
		array_set_pattern(j[i].src, j[i].sq, (unsigned)i + 50);
		j[i].rc = 0;
	}
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(
			pthread_create(&t[i], NULL, copy_thread, &j[i]), 0);
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < THREADS; i++) {
		ck_assert_ok(j[i].rc);
		array_check(j[i].dst, j[i].dq, (unsigned)i + 50, 0);
		clq_device_array_unref(j[i].src);
		clq_device_array_unref(j[i].dst);
		clq_queue_unref(j[i].sq);
		clq_queue_unref(j[i].dq);
	}
	clq_stager_unref(s);
}
END_TEST

static Suite *
stager_suite(void)
{
	Suite *s = suite_create("stager");
	TCase *tc = tcase_create("stager");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, bad_input);
	tcase_add_test(tc, bad_input_up_front);
	tcase_add_loop_test(tc, data_exact, 0, (int)(2 * N_CASES));
	tcase_add_loop_test(tc, memory_modes, 0, 3);
	tcase_add_test(tc, back_and_forth);
	tcase_add_test(tc, many_at_once);
	tcase_add_loop_test(tc, failure_reported_once, 0, 2);
	tcase_add_loop_test(tc, unref_in_flight, 0, 2);
	tcase_add_loop_test(tc, ordering_sees_waits, 0, 2);
	tcase_add_loop_test(tc, failed_wait_sees_nothing, 0, 2);
	tcase_add_test(tc, refused_copy_gates_nothing);
	tcase_add_test(tc, threads_share_a_stager);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_main(stager_suite(), 1);
}
