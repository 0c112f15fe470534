/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Compounds, aliases and nested sequences (clq/operation.h): compounds
 * link their members' dimensions (all or none) and bind one array to
 * every member; aliases bind their members to views of one buffer whose
 * length is the largest member's, and the data written through one member
 * is read through another; sequences allocate registered compounds and
 * aliases first and order the stages that time-share an alias (gated on
 * user events); a sequence made an operation runs inside another, ordered
 * by its slots, again and again; bad input refused with specific codes.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"

static struct clq_dimension *
dim(size_t size, size_t min, size_t alignment, int exact)
{
	struct clq_dimension *d = NULL;

	ck_assert_ok(clq_dimension_create(size, min, alignment, exact, &d));
	return d;
}

/* A slot of `n` elements (one axis) of `dtype`. */
static struct clq_slot *
slot_1d(enum clq_dtype dtype, size_t n, size_t alignment,
	enum clq_access access)
{
	struct clq_dimension *d = dim(n, 0, alignment, 0);
	struct clq_slot *s = NULL;

	ck_assert_ok(clq_slot_create(dtype, 1, &d, access, &s));
	clq_dimension_unref(d);
	return s;
}

static struct clq_slot *
slot_2d(enum clq_dtype dtype, struct clq_dimension *rows,
	struct clq_dimension *cols, enum clq_access access)
{
	struct clq_dimension *d[2] = {rows, cols};
	struct clq_slot *s = NULL;

	ck_assert_ok(clq_slot_create(dtype, 2, d, access, &s));
	return s;
}

/* The buffer an array was made in: itself, or a sub-buffer's parent. */
static cl_mem
root_of(struct clq_device_array *a)
{
	cl_mem m = clq_device_array_get_cl(a), parent = NULL;

	ck_assert_int_eq(clGetMemObjectInfo(m, CL_MEM_ASSOCIATED_MEMOBJECT,
					    sizeof(parent), &parent, NULL),
			 CL_SUCCESS);
	return parent ? parent : m;
}

/* ----------------------------------------------------------- compounds */

START_TEST(compound_links_and_shares)
{
	struct clq_dimension *r1 = dim(30, 0, 4, 0), *c1 = dim(50, 64, 1, 0);
	struct clq_dimension *r2 = dim(30, 33, 1, 0), *c2 = dim(50, 0, 8, 0);
	struct clq_slot *a =
		slot_2d(CLQ_DTYPE_FLOAT32, r1, c1, CLQ_ACCESS_WRITE);
	struct clq_slot *b =
		slot_2d(CLQ_DTYPE_FLOAT32, r2, c2, CLQ_ACCESS_READ);
	struct clq_slot *members[2] = {a, b}, *comp = NULL;
	size_t padded[2], shape[2] = {30, 50};
	struct clq_device_array *arr = NULL, *bad = NULL;

	ck_assert_ok(clq_slot_create_compound(members, 2, &comp));
	ck_assert(clq_dimension_is_linked(r1, r2));
	ck_assert(clq_dimension_is_linked(c1, c2));
	ck_assert_int_eq(clq_slot_get_access(comp), CLQ_ACCESS_READ_WRITE);
	ck_assert_int_eq(clq_slot_get_dtype(comp), CLQ_DTYPE_FLOAT32);
	ck_assert_ok(clq_slot_get_padded_shape(comp, padded));
	/* rows: max(30, 33) rounded up to 4; cols: max(50, 64) up to 8 */
	ck_assert_uint_eq(padded[0], 36);
	ck_assert_uint_eq(padded[1], 64);
	ck_assert_ok(clq_slot_allocate(comp, test_ctx));
	arr = clq_slot_get_array(comp);
	ck_assert_ptr_nonnull(arr);
	ck_assert_ptr_eq(clq_slot_get_array(a), arr);
	ck_assert_ptr_eq(clq_slot_get_array(b), arr);
	ck_assert_uint_eq(clq_device_array_get_padded_shape(arr)[0], 36);
	/* a bind refused changes no member */
	padded[0] = 34; /* not a multiple of 4 */
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 2,
					     shape, padded, &bad));
	test_log_expect("axis 0 is padded to 34");
	ck_assert_rc(clq_slot_bind(comp, bad), CLQ_ERROR_PADDING);
	ck_assert(test_log_seen());
	ck_assert_ptr_eq(clq_slot_get_array(b), arr);
	/* unbinding the compound unbinds every member */
	ck_assert_ok(clq_slot_bind(comp, NULL));
	ck_assert_ptr_null(clq_slot_get_array(a));
	ck_assert_ptr_null(clq_slot_get_array(b));
	clq_device_array_unref(bad);
	clq_slot_unref(comp);
	/* the members outlive the compound */
	ck_assert_uint_eq(clq_slot_get_ndim(a), 2);
	clq_slot_unref(a);
	clq_slot_unref(b);
	clq_dimension_unref(r1);
	clq_dimension_unref(c1);
	clq_dimension_unref(r2);
	clq_dimension_unref(c2);
}
END_TEST

START_TEST(compound_refused)
{
	struct clq_dimension *d10 = dim(10, 0, 1, 0), *d12 = dim(12, 0, 1, 0);
	struct clq_dimension *exact = dim(10, 0, 1, 1);
	struct clq_dimension *aligned = dim(10, 0, 4, 0);
	struct clq_dimension *plain = dim(10, 0, 1, 0);
	struct clq_dimension *two[2] = {d10, d10};
	struct clq_slot *f = NULL, *i32 = NULL, *s12 = NULL, *s2d = NULL;
	struct clq_slot *se = NULL, *sa = NULL, *sp = NULL, *out = NULL;
	struct clq_slot *alias = NULL;

	ck_assert_ok(clq_slot_create(CLQ_DTYPE_FLOAT32, 1, &d10,
				     CLQ_ACCESS_READ, &f));
	ck_assert_ok(clq_slot_create(CLQ_DTYPE_INT32, 1, &d10, CLQ_ACCESS_READ,
				     &i32));
	ck_assert_ok(clq_slot_create(CLQ_DTYPE_FLOAT32, 1, &d12,
				     CLQ_ACCESS_READ, &s12));
	ck_assert_ok(clq_slot_create(CLQ_DTYPE_FLOAT32, 2, two, CLQ_ACCESS_READ,
				     &s2d));
	ck_assert_ok(clq_slot_create(CLQ_DTYPE_FLOAT32, 1, &exact,
				     CLQ_ACCESS_READ, &se));
	ck_assert_ok(clq_slot_create(CLQ_DTYPE_FLOAT32, 1, &aligned,
				     CLQ_ACCESS_READ, &sa));
	ck_assert_ok(clq_slot_create(CLQ_DTYPE_FLOAT32, 1, &plain,
				     CLQ_ACCESS_READ, &sp));
	{
		struct clq_slot *m[2] = {f, i32};

		out = (struct clq_slot *)&out;
		test_log_expect("member 1 is int32, member 0 is float32");
		ck_assert_rc(clq_slot_create_compound(m, 2, &out),
			     CLQ_ERROR_TYPE_MISMATCH);
		ck_assert(test_log_seen());
		ck_assert_ptr_null(out);
	}
	{
		struct clq_slot *m[2] = {f, s12};

		test_log_expect("axis 0 of member 1 has length 12");
		ck_assert_rc(clq_slot_create_compound(m, 2, &out),
			     CLQ_ERROR_SHAPE_MISMATCH);
		ck_assert(test_log_seen());
	}
	{
		struct clq_slot *m[2] = {f, s2d};

		test_log_expect("member 1 has 2 axes");
		ck_assert_rc(clq_slot_create_compound(m, 2, &out),
			     CLQ_ERROR_SHAPE_MISMATCH);
		ck_assert(test_log_seen());
	}
	{
		/* plain + exact would hold, but + aligned(4) cannot: all or
		 * none, so plain is not linked to exact either */
		struct clq_slot *m[3] = {sp, se, sa};

		test_log_expect("not a multiple of the alignment 4");
		ck_assert_rc(clq_slot_create_compound(m, 3, &out),
			     CLQ_ERROR_CONSTRAINTS);
		ck_assert(test_log_seen());
		ck_assert(!clq_dimension_is_linked(plain, exact));
		ck_assert(!clq_dimension_is_linked(plain, aligned));
		ck_assert_uint_eq(clq_dimension_get_padded_size(plain), 10);
	}
	{
		struct clq_slot *m[2] = {f, NULL};

		test_log_expect("a member is NULL");
		ck_assert_rc(clq_slot_create_compound(m, 2, &out),
			     CLQ_ERROR_INVALID_ARGUMENT);
		test_log_expect("n is 0");
		ck_assert_rc(clq_slot_create_compound(m, 0, &out),
			     CLQ_ERROR_INVALID_ARGUMENT);
		test_log_expect("members or slot_out is NULL");
		ck_assert_rc(clq_slot_create_compound(NULL, 1, &out),
			     CLQ_ERROR_INVALID_ARGUMENT);
		test_log_expect("members or slot_out is NULL");
		ck_assert_rc(clq_slot_create_alias(m, 1, NULL),
			     CLQ_ERROR_INVALID_ARGUMENT);
	}
	{
		struct clq_slot *m[1] = {f};

		ck_assert_ok(clq_slot_create_alias(m, 1, &alias));
		m[0] = alias;
		test_log_expect("member 0 is an alias slot");
		ck_assert_rc(clq_slot_create_compound(m, 1, &out),
			     CLQ_ERROR_INVALID_ARGUMENT);
		test_log_expect("member 0 is an alias slot");
		ck_assert_rc(clq_slot_create_alias(m, 1, &out),
			     CLQ_ERROR_INVALID_ARGUMENT);
		ck_assert_ptr_null(out);
	}
	clq_slot_unref(alias);
	clq_slot_unref(f);
	clq_slot_unref(i32);
	clq_slot_unref(s12);
	clq_slot_unref(s2d);
	clq_slot_unref(se);
	clq_slot_unref(sa);
	clq_slot_unref(sp);
	clq_dimension_unref(d10);
	clq_dimension_unref(d12);
	clq_dimension_unref(exact);
	clq_dimension_unref(aligned);
	clq_dimension_unref(plain);
}
END_TEST

/* A slot is in one compound or alias at most; a compound whose member
 * is bound already takes that member's array when allocated. */
START_TEST(compound_membership)
{
	struct clq_dimension *d1 = dim(64, 0, 1, 0), *d2 = dim(64, 0, 8, 0);
	struct clq_slot *a = NULL, *b = NULL, *c = NULL;
	struct clq_slot *ab = NULL, *bc = NULL, *al = NULL;
	struct clq_device_array *mine = NULL;
	size_t n = 64;

	ck_assert_ok(
		clq_slot_create(CLQ_DTYPE_UINT32, 1, &d1, CLQ_ACCESS_READ, &a));
	ck_assert_ok(clq_slot_create(CLQ_DTYPE_UINT32, 1, &d1, CLQ_ACCESS_WRITE,
				     &b));
	ck_assert_ok(
		clq_slot_create(CLQ_DTYPE_UINT32, 1, &d2, CLQ_ACCESS_READ, &c));
	{
		struct clq_slot *m[2] = {a, b}, *m2[2] = {b, c},
				*twice[2] = {c, c};

		ck_assert_ok(clq_slot_create_compound(m, 2, &ab));
		test_log_expect("member 0 is in a compound or alias already");
		ck_assert_rc(clq_slot_create_compound(m2, 2, &bc),
			     CLQ_ERROR_IN_USE);
		ck_assert(test_log_seen());
		ck_assert_ptr_null(bc);
		/* refused before linking: c keeps its own alignment */
		ck_assert(!clq_dimension_is_linked(d1, d2));
		test_log_expect("member 0 is in a compound or alias already");
		ck_assert_rc(clq_slot_create_alias(m2, 1, &al),
			     CLQ_ERROR_IN_USE);
		test_log_expect("(or twice in this one)");
		ck_assert_rc(clq_slot_create_alias(twice, 2, &al),
			     CLQ_ERROR_IN_USE);
		ck_assert(test_log_seen());
		/* c was not left claimed */
		ck_assert_ok(clq_slot_create_alias(&c, 1, &al));
	}
	/* a bound member's array is the compound's */
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_UINT32, 1, &n,
					     NULL, &mine));
	ck_assert_ok(clq_slot_bind(a, mine));
	ck_assert_ok(clq_slot_allocate(ab, test_ctx));
	ck_assert_ptr_eq(clq_slot_get_array(ab), mine);
	ck_assert_ptr_eq(clq_slot_get_array(b), mine);
	/* once the compound is gone, its members may join another */
	clq_slot_unref(ab);
	{
		struct clq_slot *m[1] = {b};

		ck_assert_ok(clq_slot_create_compound(m, 1, &ab));
	}
	clq_slot_unref(ab);
	clq_slot_unref(al);
	clq_device_array_unref(mine);
	clq_slot_unref(a);
	clq_slot_unref(b);
	clq_slot_unref(c);
	clq_dimension_unref(d1);
	clq_dimension_unref(d2);
}
END_TEST

/* ------------------------------------------------------------- aliases */

START_TEST(alias_shares_memory)
{
	struct clq_dimension *rows = dim(30, 0, 1, 0), *cols = dim(40, 0, 1, 0);
	struct clq_slot *u =
		slot_1d(CLQ_DTYPE_UINT32, 1000, 1, CLQ_ACCESS_WRITE);
	struct clq_slot *v =
		slot_2d(CLQ_DTYPE_UINT16, rows, cols, CLQ_ACCESS_READ);
	struct clq_slot *m[2] = {u, v}, *alias = NULL;
	struct clq_dimension *wide = dim(40, 2048, 1, 0);
	struct clq_device_array *raw, *small = NULL, *au, *av;
	struct clq_queue *q = test_queue_new(0);
	struct clq_host_array *h = NULL;
	struct clq_event *e = NULL;
	const uint32_t pattern = 0x00050007u;
	size_t len = 0, n = 100;
	const uint16_t *x;

	ck_assert_ok(clq_slot_create_alias(m, 2, &alias));
	ck_assert_int_eq(clq_slot_get_dtype(alias), CLQ_DTYPE_UINT8);
	ck_assert_uint_eq(clq_slot_get_ndim(alias), 1);
	ck_assert_ptr_null(clq_slot_get_dimension(alias, 0));
	ck_assert_int_eq(clq_slot_get_access(alias), CLQ_ACCESS_READ_WRITE);
	/* u: 4000 bytes; v: 30 x 40 x 2 = 2400 */
	ck_assert_ok(clq_slot_get_shape(alias, &len));
	ck_assert_uint_eq(len, 4000);
	/* a link made later counts: v's columns padded to 2048 */
	ck_assert_ok(clq_dimension_link(cols, wide));
	ck_assert_ok(clq_slot_get_padded_shape(alias, &len));
	ck_assert_uint_eq(len, 30 * 2048 * 2);
	/* too small an array is refused, nothing bound */
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_UINT8, 1, &n,
					     NULL, &small));
	test_log_expect("the array has 100 bytes, the alias' largest member "
			"needs 122880");
	ck_assert_rc(clq_slot_bind(alias, small), CLQ_ERROR_OUT_OF_RANGE);
	ck_assert(test_log_seen());
	ck_assert_ptr_null(clq_slot_get_array(u));
	ck_assert_ok(clq_slot_allocate(alias, test_ctx));
	raw = clq_slot_get_array(alias);
	ck_assert_uint_eq(clq_device_array_get_nbytes(raw), 122880);
	au = clq_slot_get_array(u);
	av = clq_slot_get_array(v);
	ck_assert_ptr_nonnull(au);
	ck_assert_ptr_nonnull(av);
	ck_assert_ptr_eq(root_of(au), clq_device_array_get_cl(raw));
	ck_assert_ptr_eq(root_of(av), clq_device_array_get_cl(raw));
	ck_assert_uint_eq(clq_device_array_get_padded_shape(av)[1], 2048);
	/* written through u, read through v: one memory */
	ck_assert_ok(clq_device_array_fill(au, q, &pattern, NULL, 0, &e));
	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_UINT16, 2,
					   clq_device_array_get_shape(av), NULL,
					   &h));
	ck_assert_ok(clq_device_array_get(av, q, h));
	x = clq_host_array_data(h);
	/* v's first row lies in u's first 4000 bytes: 2048 x 2 bytes is
	 * more, so check the first 1000 elements of row 0 */
	for (size_t i = 0; i < 40; i++)
		ck_assert_uint_eq(x[i], i % 2 ? 5 : 7);
	/* unbinding the alias unbinds its members */
	ck_assert_ok(clq_slot_bind(alias, NULL));
	ck_assert_ptr_null(clq_slot_get_array(u));
	ck_assert_ptr_null(clq_slot_get_array(v));
	clq_event_unref(e);
	clq_host_array_unref(h);
	clq_device_array_unref(small);
	clq_queue_unref(q);
	clq_slot_unref(alias);
	clq_slot_unref(u);
	clq_slot_unref(v);
	clq_dimension_unref(wide);
	clq_dimension_unref(rows);
	clq_dimension_unref(cols);
}
END_TEST

/* An alias bound to a view: the members' views are made in the root
 * buffer (OpenCL has no sub-buffer of a sub-buffer). */
START_TEST(alias_of_view)
{
	struct clq_slot *u = slot_1d(CLQ_DTYPE_UINT32, 64, 1, CLQ_ACCESS_WRITE);
	struct clq_slot *alias = NULL;
	struct clq_device_array *big = NULL, *view = NULL;
	size_t n = 4096, k = 1024;
	cl_uint align_bits = 0;
	size_t offset;

	ck_assert_ok(clq_slot_create_alias(&u, 1, &alias));
	ck_assert_int_eq(
		clGetDeviceInfo(
			clq_device_get_cl(clq_context_get_device(test_ctx)),
			CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof(align_bits),
			&align_bits, NULL),
		CL_SUCCESS);
	offset = align_bits / 8;
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_UINT8, 1, &n,
					     NULL, &big));
	ck_assert_ok(clq_device_array_create_alias(
		test_ctx, clq_device_array_get_cl(big), offset, CLQ_DTYPE_UINT8,
		1, &k, NULL, &view));
	ck_assert_ok(clq_slot_bind(alias, view));
	ck_assert_ptr_eq(root_of(clq_slot_get_array(u)),
			 clq_device_array_get_cl(big));
	clq_slot_unref(alias);
	clq_slot_unref(u);
	clq_device_array_unref(view);
	clq_device_array_unref(big);
}
END_TEST

/* ----------------------------------------------------- stages for runs */

#define N_ELEMS 4096

/* Fills "out" with `value`, or copies "in" to "out", after `gate`. */
struct stage {
	uint32_t value;
	struct clq_event *gate; /* borrowed */
	struct clq_event *last;
};

static int
stage_run(struct clq_operation *op, struct clq_queue *queue,
	  struct clq_event *const *wait, size_t n_wait,
	  struct clq_event **event_out, void *user_data)
{
	struct stage *st = user_data;
	struct clq_slot *in = clq_operation_get_slot(op, "in");
	struct clq_device_array *out =
		clq_slot_get_array(clq_operation_get_slot(op, "out"));
	struct clq_event *w[64];
	int rc;

	ck_assert_uint_lt(n_wait, 63);
	if (n_wait)
		memcpy(w, wait, n_wait * sizeof(*w));
	if (st->gate)
		w[n_wait++] = st->gate;
	if (in)
		rc = clq_device_array_copy(out, queue, clq_slot_get_array(in),
					   w, n_wait, event_out);
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

/* A stage with slots "in" (when `in` is not NULL) and "out"; the stage
 * holds the slots. */
static struct clq_operation *
stage_new(const char *name, struct clq_slot *in, struct clq_slot *out,
	  struct stage **st_out)
{
	struct stage *st = calloc(1, sizeof(*st));
	struct clq_operation *op = NULL;

	ck_assert_ptr_nonnull(st);
	ck_assert_ok(clq_operation_create(name, &stage_ops, st, &op));
	if (in)
		ck_assert_ok(clq_operation_add_slot(op, "in", in));
	ck_assert_ok(clq_operation_add_slot(op, "out", out));
	*st_out = st;
	return op;
}

static struct clq_slot *
u32_slot(enum clq_access access)
{
	return slot_1d(CLQ_DTYPE_UINT32, N_ELEMS, 1, access);
}

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

/* ------------------------------------------------- sequences with them */

/*
 * W1 writes scratch A (queue 1, gated), R1 copies A to out1 (queue 2),
 * W2 writes scratch B (queue 1), R2 copies B to out2 (queue 2). A and B
 * are one alias' members: right only if W2 waits for R1.
 */
static void
alias_in_sequence(enum clq_ordering mode)
{
	struct clq_slot *a = u32_slot(CLQ_ACCESS_WRITE);
	struct clq_slot *b = u32_slot(CLQ_ACCESS_WRITE);
	struct clq_slot *out1 = u32_slot(CLQ_ACCESS_WRITE);
	struct clq_slot *out2 = u32_slot(CLQ_ACCESS_WRITE);
	struct clq_slot *m[2] = {a, b}, *alias = NULL;
	struct clq_operation *w1, *r1, *w2, *r2;
	struct stage *sw1, *sr1, *sw2, *sr2;
	struct clq_sequence *seq = NULL;
	struct clq_queue *q1, *q2;
	struct clq_event *gate, *e = NULL;

	ck_assert_ok(clq_context_set_ordering(test_ctx, mode));
	q1 = test_queue_new(0);
	q2 = test_queue_new(0);
	ck_assert_ok(clq_slot_create_alias(m, 2, &alias));
	w1 = stage_new("W1", NULL, a, &sw1);
	r1 = stage_new("R1", a, out1, &sr1);
	w2 = stage_new("W2", NULL, b, &sw2);
	r2 = stage_new("R2", b, out2, &sr2);
	sw1->value = 3;
	sw2->value = 4;
	ck_assert_ok(clq_sequence_create(test_ctx, &seq));
	ck_assert_ok(clq_sequence_add_slot(seq, "scratch", alias));
	ck_assert_ptr_eq(clq_sequence_get_slot(seq, "scratch"), alias);
	ck_assert_ptr_null(clq_sequence_get_slot(seq, "nothing"));
	ck_assert_ok(clq_sequence_add(seq, w1, q1));
	ck_assert_ok(clq_sequence_add(seq, r1, q2));
	ck_assert_ok(clq_sequence_add(seq, w2, q1));
	ck_assert_ok(clq_sequence_add(seq, r2, q2));
	ck_assert_ok(clq_sequence_ensure_bound(seq));
	/* one allocation for both scratch slots */
	ck_assert_ptr_eq(root_of(clq_slot_get_array(a)),
			 root_of(clq_slot_get_array(b)));
	ck_assert_ptr_ne(root_of(clq_slot_get_array(out1)),
			 root_of(clq_slot_get_array(out2)));
	gate = test_user_event_new();
	sw1->gate = gate;
	ck_assert_ok(clq_sequence_run(seq, q2, NULL, 0, &e));
	test_sleep_ms(50);
	/* W2 waits for R1, which waits for the gated W1 */
	ck_assert_int_ne(test_event_status(sw2->last), CL_COMPLETE);
	ck_assert_int_ne(test_event_status(sr1->last), CL_COMPLETE);
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(e));
	clq_event_unref(e);
	check_u32(clq_slot_get_array(out1), q2, 3);
	check_u32(clq_slot_get_array(out2), q2, 4);
	if (mode == CLQ_ORDERING_CHECK) {
		struct clq_ordering_stats st;

		ck_assert_ok(clq_context_get_ordering_stats(test_ctx, &st));
		ck_assert_uint_eq(st.hazards, 0);
	}
	clq_event_unref(gate);
	sw1->gate = NULL;
	clq_sequence_unref(seq);
	clq_operation_unref(w1);
	clq_operation_unref(r1);
	clq_operation_unref(w2);
	clq_operation_unref(r2);
	clq_slot_unref(alias);
	clq_slot_unref(a);
	clq_slot_unref(b);
	clq_slot_unref(out1);
	clq_slot_unref(out2);
	clq_queue_unref(q1);
	clq_queue_unref(q2);
}

START_TEST(alias_in_sequence_manual)
{
	alias_in_sequence(CLQ_ORDERING_MANUAL);
}
END_TEST

START_TEST(alias_in_sequence_check)
{
	alias_in_sequence(CLQ_ORDERING_CHECK);
}
END_TEST

/* P's "out" and Q's "in" are separate slots joined by a compound: the
 * sequence allocates one array for both, and Q copies what P wrote. */
START_TEST(compound_in_sequence)
{
	struct clq_slot *p_out = u32_slot(CLQ_ACCESS_WRITE);
	struct clq_slot *q_in = u32_slot(CLQ_ACCESS_READ);
	struct clq_slot *q_out = u32_slot(CLQ_ACCESS_WRITE);
	struct clq_slot *m[2] = {p_out, q_in}, *comp = NULL;
	struct clq_operation *p, *q;
	struct stage *sp, *sq;
	struct clq_sequence *seq = NULL;
	struct clq_queue *q1 = test_queue_new(0), *q2 = test_queue_new(0);
	struct clq_event *gate = test_user_event_new(), *e = NULL;

	ck_assert_ok(clq_slot_create_compound(m, 2, &comp));
	p = stage_new("P", NULL, p_out, &sp);
	q = stage_new("Q", q_in, q_out, &sq);
	sp->value = 21;
	sp->gate = gate;
	ck_assert_ok(clq_sequence_create(test_ctx, &seq));
	ck_assert_ok(clq_sequence_add(seq, p, q1));
	ck_assert_ok(clq_sequence_add(seq, q, q2));
	ck_assert_ok(clq_sequence_add_slot(seq, "shared", comp));
	test_log_expect("has a slot named 'shared' already");
	ck_assert_rc(clq_sequence_add_slot(seq, "shared", comp),
		     CLQ_ERROR_DUPLICATE);
	ck_assert(test_log_seen());
	ck_assert_ok(clq_sequence_ensure_bound(seq));
	ck_assert_ptr_eq(clq_slot_get_array(p_out), clq_slot_get_array(q_in));
	ck_assert_ptr_eq(clq_slot_get_array(comp), clq_slot_get_array(q_in));
	ck_assert_ok(clq_sequence_run(seq, q1, NULL, 0, &e));
	test_sleep_ms(50);
	ck_assert_int_ne(test_event_status(sq->last), CL_COMPLETE);
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(e));
	clq_event_unref(e);
	check_u32(clq_slot_get_array(q_out), q1, 21);
	sp->gate = NULL;
	clq_event_unref(gate);
	clq_sequence_unref(seq);
	clq_operation_unref(p);
	clq_operation_unref(q);
	clq_slot_unref(comp);
	clq_slot_unref(p_out);
	clq_slot_unref(q_in);
	clq_slot_unref(q_out);
	clq_queue_unref(q1);
	clq_queue_unref(q2);
}
END_TEST

/* ----------------------------------------------------- nested sequences */

/*
 * Inner: P fills X, Q copies X to Y (X one slot shared by both). Outer:
 * the inner sequence on queue 1 (gated through the run's wait list), then
 * R copies Y to Z on queue 2: right only if R waits for the whole inner
 * run. Run many times with a new value each time.
 */
static void
nested(enum clq_ordering mode)
{
	struct clq_slot *x = u32_slot(CLQ_ACCESS_WRITE);
	struct clq_slot *x_in = u32_slot(CLQ_ACCESS_READ);
	struct clq_slot *y = u32_slot(CLQ_ACCESS_WRITE);
	struct clq_slot *y_in = u32_slot(CLQ_ACCESS_READ);
	struct clq_slot *z = u32_slot(CLQ_ACCESS_WRITE);
	struct clq_slot *m[2] = {x, x_in}, *mx = NULL;
	struct clq_operation *p, *q, *r, *inner_op = NULL;
	struct stage *sp, *sq, *sr;
	struct clq_sequence *inner = NULL, *outer = NULL;
	struct clq_queue *q1, *q2;
	struct clq_event *gate, *e = NULL;
	const char *name = NULL;

	ck_assert_ok(clq_context_set_ordering(test_ctx, mode));
	q1 = test_queue_new(0);
	q2 = test_queue_new(0);
	ck_assert_ok(clq_slot_create_compound(m, 2, &mx));
	p = stage_new("P", NULL, x, &sp);
	q = stage_new("Q", x_in, y, &sq);
	r = stage_new("R", y_in, z, &sr);
	ck_assert_ok(clq_sequence_create(test_ctx, &inner));
	ck_assert_ok(clq_sequence_add(inner, p, NULL));
	ck_assert_ok(clq_sequence_add(inner, q, NULL));
	ck_assert_ok(clq_sequence_add_slot(inner, "x", mx));
	ck_assert_ok(clq_sequence_as_operation(inner, "inner", &inner_op));
	/* the registered compound, then the children's other slots */
	ck_assert_uint_eq(clq_operation_get_n_slots(inner_op), 2);
	ck_assert_ptr_eq(clq_operation_get_slot_at(inner_op, 0, &name), mx);
	ck_assert_str_eq(name, "x");
	ck_assert_ptr_eq(clq_operation_get_slot(inner_op, "Q:out"), y);
	/* frozen */
	test_log_expect("takes no more children or slots");
	ck_assert_rc(clq_sequence_add(inner, r, NULL), CLQ_ERROR_IN_USE);
	ck_assert(test_log_seen());
	test_log_expect("takes no more children or slots");
	ck_assert_rc(clq_sequence_add_slot(inner, "z", z), CLQ_ERROR_IN_USE);
	ck_assert(test_log_seen());
	/* the outer sequence: Y joins R's input */
	{
		struct clq_slot *my[2] = {y, y_in}, *cy = NULL;

		ck_assert_ok(clq_slot_create_compound(my, 2, &cy));
		ck_assert_ok(clq_sequence_create(test_ctx, &outer));
		ck_assert_ok(clq_sequence_add_slot(outer, "y", cy));
		clq_slot_unref(cy);
	}
	ck_assert_ok(clq_sequence_add(outer, inner_op, q1));
	ck_assert_ok(clq_sequence_add(outer, r, q2));
	ck_assert_ok(clq_sequence_ensure_bound(outer));
	ck_assert_ptr_eq(clq_slot_get_array(x), clq_slot_get_array(x_in));
	ck_assert_ptr_eq(clq_slot_get_array(y), clq_slot_get_array(y_in));
	gate = test_user_event_new();
	sp->value = 5;
	ck_assert_ok(clq_sequence_run(outer, q2, &gate, 1, &e));
	test_sleep_ms(50);
	ck_assert_int_ne(test_event_status(sr->last), CL_COMPLETE);
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(e));
	clq_event_unref(e);
	check_u32(clq_slot_get_array(z), q2, 5);
	for (uint32_t k = 0; k < 200; k++) {
		sp->value = 100 + k;
		ck_assert_ok(clq_sequence_run(outer, q2, NULL, 0, &e));
		clq_event_unref(e);
	}
	ck_assert_ok(clq_queue_finish(q2));
	ck_assert_ok(clq_queue_finish(q1));
	check_u32(clq_slot_get_array(z), q2, 299);
	if (mode == CLQ_ORDERING_CHECK) {
		struct clq_ordering_stats st;

		ck_assert_ok(clq_context_get_ordering_stats(test_ctx, &st));
		ck_assert_uint_eq(st.hazards, 0);
	}
	clq_event_unref(gate);
	clq_sequence_unref(outer);
	clq_sequence_unref(inner);
	clq_operation_unref(inner_op);
	clq_operation_unref(p);
	clq_operation_unref(q);
	clq_operation_unref(r);
	clq_slot_unref(mx);
	clq_slot_unref(x);
	clq_slot_unref(x_in);
	clq_slot_unref(y);
	clq_slot_unref(y_in);
	clq_slot_unref(z);
	clq_queue_unref(q1);
	clq_queue_unref(q2);
}

START_TEST(nested_manual)
{
	nested(CLQ_ORDERING_MANUAL);
}
END_TEST

START_TEST(nested_check)
{
	nested(CLQ_ORDERING_CHECK);
}
END_TEST

START_TEST(nested_bad_input)
{
	struct clq_sequence *seq = NULL;
	struct clq_operation *op = (struct clq_operation *)&op;
	struct clq_operation *a1, *a2;
	struct clq_slot *s1 = u32_slot(CLQ_ACCESS_WRITE);
	struct clq_slot *s2 = u32_slot(CLQ_ACCESS_WRITE);
	struct stage *st;

	ck_assert_ok(clq_sequence_create(test_ctx, &seq));
	test_log_expect("seq, name or op_out is NULL");
	ck_assert_rc(clq_sequence_as_operation(seq, NULL, &op),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(op);
	test_log_expect("seq, name or op_out is NULL");
	ck_assert_rc(clq_sequence_as_operation(NULL, "x", &op),
		     CLQ_ERROR_INVALID_ARGUMENT);
	test_log_expect("seq, name or slot is NULL");
	ck_assert_rc(clq_sequence_add_slot(seq, "x", NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(clq_sequence_get_slot(NULL, "x"));
	ck_assert_ptr_null(clq_sequence_get_slot(seq, NULL));
	/* two children named "A" with different "out" slots: refused, and
	 * the sequence stays open */
	a1 = stage_new("A", NULL, s1, &st);
	a2 = stage_new("A", NULL, s2, &st);
	ck_assert_ok(clq_sequence_add(seq, a1, NULL));
	ck_assert_ok(clq_sequence_add(seq, a2, NULL));
	test_log_expect("operation 'seq' has a slot named 'A:out' already");
	ck_assert_rc(clq_sequence_as_operation(seq, "seq", &op),
		     CLQ_ERROR_DUPLICATE);
	ck_assert(test_log_seen());
	ck_assert_ptr_null(op);
	ck_assert_ok(clq_sequence_add_slot(seq, "s1", s1));
	/* s1 is now named "s1", so the names no longer clash */
	ck_assert_ok(clq_sequence_as_operation(seq, "seq", &op));
	ck_assert_ptr_eq(clq_operation_get_slot(op, "s1"), s1);
	ck_assert_ptr_eq(clq_operation_get_slot(op, "A:out"), s2);
	/* its slots are the sequence's */
	test_log_expect("takes no more slots");
	ck_assert_rc(clq_operation_add_slot(op, "extra", s1), CLQ_ERROR_IN_USE);
	ck_assert(test_log_seen());
	/* the operation holds the sequence */
	clq_sequence_unref(seq);
	ck_assert_str_eq(clq_operation_get_name(op), "seq");
	clq_operation_unref(op);
	clq_operation_unref(a1);
	clq_operation_unref(a2);
	clq_slot_unref(s1);
	clq_slot_unref(s2);
}
END_TEST

/* ------------------------------------------------------------ failures */

/*
 * Run 1 waits for a user event that fails, so its child fails; after the
 * host finishes the queue, run 2 has no failed input and must succeed
 * (the failed event is not waited for again), with its data written.
 */
static void
after_failure(enum clq_ordering mode)
{
	struct clq_queue *q;
	struct clq_slot *s = u32_slot(CLQ_ACCESS_WRITE);
	struct clq_operation *op;
	struct stage *st;
	struct clq_sequence *seq = NULL;
	struct clq_event *gate, *e = NULL;
	int status = 0;

	ck_assert_ok(clq_context_set_ordering(test_ctx, mode));
	q = test_queue_new(0);
	op = stage_new("A", NULL, s, &st);
	ck_assert_ok(clq_sequence_create(test_ctx, &seq));
	ck_assert_ok(clq_sequence_add(seq, op, NULL));
	ck_assert_ok(clq_sequence_ensure_bound(seq));
	gate = test_user_event_new();
	st->value = 1;
	ck_assert_ok(clq_sequence_run(seq, q, &gate, 1, &e));
	ck_assert_ok(clq_user_event_complete(gate, -1));
	test_log_expect("failed");
	ck_assert_rc(clq_event_wait(e), CLQ_ERROR_COMMAND_FAILED);
	clq_event_unref(e);
	ck_assert_ok(clq_queue_finish(q));
	for (uint32_t run = 2; run <= 4; run++) {
		st->value = run;
		ck_assert_ok(clq_sequence_run(seq, q, NULL, 0, &e));
		ck_assert_ok(clq_event_wait(e));
		ck_assert_ok(clq_event_get_status(e, &status));
		ck_assert_int_eq(status, CL_COMPLETE);
		clq_event_unref(e);
		check_u32(clq_slot_get_array(s), q, run);
	}
	clq_event_unref(gate);
	clq_sequence_unref(seq);
	clq_operation_unref(op);
	clq_slot_unref(s);
	clq_queue_unref(q);
}

START_TEST(after_failure_manual)
{
	after_failure(CLQ_ORDERING_MANUAL);
}
END_TEST

START_TEST(after_failure_check)
{
	after_failure(CLQ_ORDERING_CHECK);
}
END_TEST

START_TEST(after_failure_auto)
{
	after_failure(CLQ_ORDERING_AUTO);
}
END_TEST

/*
 * Not a sequence: a fill that failed (its wait list held a failed user
 * event), waited for by the host, orders nothing and conflicts with
 * nothing more: a write after it on the same queue and on another queue
 * is accepted in CHECK and not made to wait (and so fail) in AUTO.
 */
static void
write_after_failed(enum clq_ordering mode)
{
	struct clq_queue *q1, *q2;
	struct clq_device_array *x = NULL;
	struct clq_event *gate, *e1 = NULL, *e2 = NULL, *e3 = NULL;
	const uint32_t one = 1, two = 2;
	size_t n = N_ELEMS;

	ck_assert_ok(clq_context_set_ordering(test_ctx, mode));
	q1 = test_queue_new(0);
	q2 = test_queue_new(0);
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_UINT32, 1, &n,
					     NULL, &x));
	gate = test_user_event_new();
	ck_assert_ok(clq_device_array_fill(x, q1, &one, &gate, 1, &e1));
	ck_assert_ok(clq_user_event_complete(gate, -1));
	test_log_expect("failed");
	ck_assert_rc(clq_event_wait(e1), CLQ_ERROR_COMMAND_FAILED);
	ck_assert_ok(clq_device_array_fill(x, q1, &two, NULL, 0, &e2));
	ck_assert_ok(clq_event_wait(e2));
	clq_event_unref(e1);
	ck_assert_ok(clq_user_event_create(test_ctx, &e1));
	clq_event_unref(gate);
	gate = e1;
	e1 = NULL;
	ck_assert_ok(clq_device_array_fill(x, q1, &one, &gate, 1, &e1));
	ck_assert_ok(clq_user_event_complete(gate, -1));
	test_log_expect("failed");
	ck_assert_rc(clq_event_wait(e1), CLQ_ERROR_COMMAND_FAILED);
	ck_assert_ok(clq_device_array_fill(x, q2, &two, NULL, 0, &e3));
	ck_assert_ok(clq_event_wait(e3));
	check_u32(x, q2, 2);
	clq_event_unref(e1);
	clq_event_unref(e2);
	clq_event_unref(e3);
	clq_event_unref(gate);
	clq_device_array_unref(x);
	clq_queue_unref(q1);
	clq_queue_unref(q2);
}

START_TEST(write_after_failed_check)
{
	write_after_failed(CLQ_ORDERING_CHECK);
}
END_TEST

START_TEST(write_after_failed_auto)
{
	write_after_failed(CLQ_ORDERING_AUTO);
}
END_TEST

/* Wait list entries are checked before anything is enqueued. */
START_TEST(run_wait_checked)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_slot *s = u32_slot(CLQ_ACCESS_WRITE);
	struct stage *st;
	struct clq_operation *op = stage_new("A", NULL, s, &st);
	struct clq_sequence *seq = NULL;
	struct clq_event *w[2] = {NULL, NULL}, *e = NULL;
	struct clq_context *other = NULL;

	ck_assert_ok(clq_sequence_create(test_ctx, &seq));
	ck_assert_ok(clq_sequence_add(seq, op, NULL));
	ck_assert_ok(clq_sequence_ensure_bound(seq));
	w[0] = test_user_event_new();
	test_log_expect("wait list entry 1 is NULL");
	ck_assert_rc(clq_sequence_run(seq, q, w, 2, &e),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	ck_assert_ptr_null(st->last);
	ck_assert_ok(
		clq_context_create(clq_context_get_device(test_ctx), &other));
	ck_assert_ok(clq_user_event_create(other, &w[1]));
	test_log_expect("wait list entry 1 belongs to another context");
	ck_assert_rc(clq_sequence_run(seq, q, w, 2, &e),
		     CLQ_ERROR_CONTEXT_MISMATCH);
	ck_assert(test_log_seen());
	ck_assert_ptr_null(st->last);
	ck_assert_ok(clq_user_event_complete(w[0], CL_COMPLETE));
	ck_assert_ok(clq_user_event_complete(w[1], CL_COMPLETE));
	clq_event_unref(w[0]);
	clq_event_unref(w[1]);
	clq_context_unref(other);
	clq_sequence_unref(seq);
	clq_operation_unref(op);
	clq_slot_unref(s);
	clq_queue_unref(q);
}
END_TEST

/* One thread runs an operation while another rebinds its slot: the run
 * reads the binding under a reference (ASan/TSan would see a freed
 * array otherwise). */
struct rebinder {
	struct clq_slot *slot;
	atomic_int stop;
};

static void *
rebind_loop(void *arg)
{
	struct rebinder *r = arg;

	while (!atomic_load(&r->stop)) {
		size_t n = N_ELEMS;
		struct clq_device_array *a = NULL;

		ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_UINT32,
						     1, &n, NULL, &a));
		ck_assert_ok(clq_slot_bind(r->slot, a));
		clq_device_array_unref(a);
	}
	return NULL;
}

START_TEST(run_while_rebinding)
{
	struct rebinder r = {u32_slot(CLQ_ACCESS_READ), 0};
	struct clq_slot *out = u32_slot(CLQ_ACCESS_WRITE);
	struct clq_operation *op = NULL;
	struct clq_queue *q = test_queue_new(0);
	pthread_t t;

	ck_assert_ok(clq_operation_create(
		"reader", &stage_ops, calloc(1, sizeof(struct stage)), &op));
	ck_assert_ok(clq_operation_add_slot(op, "x", r.slot));
	ck_assert_ok(clq_operation_add_slot(op, "out", out));
	ck_assert_ok(clq_slot_allocate(out, test_ctx));
	ck_assert_ok(clq_slot_allocate(r.slot, test_ctx));
	ck_assert_int_eq(pthread_create(&t, NULL, rebind_loop, &r), 0);
	for (int i = 0; i < 300; i++) {
		struct clq_device_array *a = clq_slot_ref_array(r.slot);
		struct clq_event *e = NULL;

		ck_assert_ptr_nonnull(a);
		clq_device_array_unref(a);
		ck_assert_ok(clq_operation_run(op, q, NULL, 0, &e));
		clq_event_unref(e);
	}
	atomic_store(&r.stop, 1);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_ok(clq_queue_finish(q));
	ck_assert_ptr_null(clq_slot_ref_array(NULL));
	clq_operation_unref(op);
	clq_slot_unref(r.slot);
	clq_slot_unref(out);
	clq_queue_unref(q);
}
END_TEST

static Suite *
compose_suite(void)
{
	Suite *s = suite_create("compose");
	TCase *tc = tcase_create("slots");

	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, compound_links_and_shares);
	tcase_add_test(tc, compound_refused);
	tcase_add_test(tc, compound_membership);
	tcase_add_test(tc, alias_shares_memory);
	tcase_add_test(tc, alias_of_view);
	suite_add_tcase(s, tc);
	tc = tcase_create("sequences");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, alias_in_sequence_manual);
	tcase_add_test(tc, alias_in_sequence_check);
	tcase_add_test(tc, compound_in_sequence);
	tcase_add_test(tc, nested_manual);
	tcase_add_test(tc, nested_check);
	tcase_add_test(tc, nested_bad_input);
	tcase_add_test(tc, after_failure_manual);
	tcase_add_test(tc, after_failure_check);
	tcase_add_test(tc, after_failure_auto);
	tcase_add_test(tc, run_wait_checked);
	tcase_add_test(tc, write_after_failed_check);
	tcase_add_test(tc, write_after_failed_auto);
	tcase_add_test(tc, run_while_rebinding);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_main(compose_suite(), 1);
}
