/* SPDX-License-Identifier: BSD-3-Clause */
/* The library's kernels in cl/, each against a CPU reference on random data. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"

static uint64_t rng_state = 0x2545f4914f6cdd1du;

/* A float in [-1, 1) from a xorshift generator: repeatable runs. */
static float
random_float(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (float)(rng_state >> 40) / (float)(1u << 23) - 1.0f;
}

static struct clq_kernel *
builtin_kernel(const char *file, const char *name, const char *options,
	       struct clq_program **p)
{
	struct clq_kernel *k = NULL;

	*p = NULL;
	ck_assert_ok(clq_program_create_from_file(test_ctx, file, NULL, 0,
						  options, p));
	ck_assert_ok(clq_kernel_create(*p, name, &k));
	return k;
}

static size_t
round_up(size_t n, size_t multiple)
{
	return (n + multiple - 1) / multiple * multiple;
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

/* fill: the first n elements get the value, the rest stay untouched. */
START_TEST(fill_matches_reference)
{
	static const size_t sizes[] = {1, 63, 64, 1000};
	struct clq_program *p;
	struct clq_kernel *k = builtin_kernel("fill.cl", "fill", NULL, &p);
	struct clq_queue *q = test_queue_new(0);

	for (size_t s = 0; s < sizeof(sizes) / sizeof(*sizes); s++) {
		size_t total = sizes[s] + 5, global = round_up(sizes[s], 64);
		const size_t local = 64;
		struct clq_device_array *a = device_floats(1, &total, NULL);
		struct clq_host_array *h = host_floats(1, &total, NULL);
		float *v = clq_host_array_data(h);
		cl_uint n = (cl_uint)sizes[s];
		cl_float value = random_float();
		struct clq_arg args[3] = {CLQ_ARG_ARRAY(a), CLQ_ARG_VALUE(n),
					  CLQ_ARG_VALUE(value)};

		for (size_t i = 0; i < total; i++)
			v[i] = -7.0f;
		ck_assert_ok(clq_device_array_set(a, q, h));
		ck_assert_ok(clq_queue_enqueue_kernel(q, k, args, 3, 1, &global,
						      &local, NULL, 0, NULL));
		ck_assert_ok(clq_device_array_get(a, q, h));
		for (size_t i = 0; i < total; i++)
			ck_assert_float_eq(v[i], i < n ? value : -7.0f);
		clq_host_array_unref(h);
		clq_device_array_unref(a);
	}
	clq_queue_unref(q);
	clq_kernel_unref(k);
	clq_program_unref(p);
}
END_TEST

/* transpose of padded arrays, shapes that are and are not tile multiples. */
START_TEST(transpose_matches_reference)
{
	static const size_t shapes[][2] = {
		{1, 1}, {16, 16}, {17, 33}, {64, 16}, {100, 37}, {5, 129},
	};
	struct clq_program *p;
	struct clq_kernel *k = builtin_kernel("transpose.cl", "transpose",
					      "-DTRANSPOSE_TILE=8", &p);
	struct clq_queue *q = test_queue_new(0);
	const size_t local[2] = {8, 8};

	for (size_t s = 0; s < sizeof(shapes) / sizeof(*shapes); s++) {
		size_t rows = shapes[s][0], cols = shapes[s][1];
		size_t in_shape[2] = {rows, cols},
		       in_pad[2] = {rows + 2, cols + 3};
		size_t out_shape[2] = {cols, rows},
		       out_pad[2] = {cols + 1, rows + 5};
		size_t global[2] = {round_up(cols, 8), round_up(rows, 8)};
		struct clq_device_array *in =
			device_floats(2, in_shape, in_pad);
		struct clq_device_array *out =
			device_floats(2, out_shape, out_pad);
		struct clq_host_array *src = host_floats(2, in_shape, in_pad);
		struct clq_host_array *dst = host_floats(2, out_shape, out_pad);
		float *x = clq_host_array_data(src);
		const float *y = clq_host_array_data(dst);
		cl_uint in_stride = (cl_uint)in_pad[1];
		cl_uint out_stride = (cl_uint)out_pad[1];
		cl_uint r = (cl_uint)rows, c = (cl_uint)cols;
		struct clq_arg args[6] = {
			CLQ_ARG_ARRAY(out), CLQ_ARG_VALUE(out_stride),
			CLQ_ARG_ARRAY(in),  CLQ_ARG_VALUE(in_stride),
			CLQ_ARG_VALUE(r),   CLQ_ARG_VALUE(c),
		};

		for (size_t i = 0; i < in_pad[0] * in_pad[1]; i++)
			x[i] = random_float();
		ck_assert_ok(clq_device_array_set(in, q, src));
		ck_assert_ok(clq_queue_enqueue_kernel(q, k, args, 6, 2, global,
						      local, NULL, 0, NULL));
		ck_assert_ok(clq_device_array_get(out, q, dst));
		for (size_t i = 0; i < rows; i++)
			for (size_t j = 0; j < cols; j++)
				ck_assert_msg(y[j * out_pad[1] + i] ==
						      x[i * in_pad[1] + j],
					      "%zux%zu: element (%zu, %zu)",
					      rows, cols, i, j);
		clq_host_array_unref(src);
		clq_host_array_unref(dst);
		clq_device_array_unref(in);
		clq_device_array_unref(out);
	}
	clq_queue_unref(q);
	clq_kernel_unref(k);
	clq_program_unref(p);
}
END_TEST

/* The default tile is 16 and the kernel says so. */
START_TEST(transpose_default_tile)
{
	struct clq_program *p;
	struct clq_kernel *k =
		builtin_kernel("transpose.cl", "transpose", NULL, &p);
	const size_t *req = clq_kernel_get_compile_work_group_size(k);

	ck_assert_uint_eq(req[0], 16);
	ck_assert_uint_eq(req[1], 16);
	clq_kernel_unref(k);
	clq_program_unref(p);
}
END_TEST

/*
 * scale: x = a x + b, iters times. Compared with a tolerance: the device
 * may contract a x + b into one fused multiply-add, the reference does not.
 */
START_TEST(scale_matches_reference)
{
	struct clq_program *p;
	struct clq_kernel *k = builtin_kernel("scale.cl", "scale", NULL, &p);
	struct clq_queue *q = test_queue_new(0);
	const size_t n = 1000, global = 1024;
	struct clq_device_array *a = device_floats(1, &global, NULL);
	struct clq_host_array *h = host_floats(1, &global, NULL);
	float *v = clq_host_array_data(h), expect[1000];
	cl_uint count = (cl_uint)n, iters = 37;
	cl_float mul = 0.97f, add = 0.125f;
	struct clq_arg args[5] = {CLQ_ARG_ARRAY(a), CLQ_ARG_VALUE(count),
				  CLQ_ARG_VALUE(mul), CLQ_ARG_VALUE(add),
				  CLQ_ARG_VALUE(iters)};

	for (size_t i = 0; i < global; i++)
		v[i] = random_float() * 100.0f;
	for (size_t i = 0; i < n; i++) {
		float x = v[i];

		for (cl_uint it = 0; it < iters; it++)
			x = mul * x + add;
		expect[i] = x;
	}
	ck_assert_ok(clq_device_array_set(a, q, h));
	ck_assert_ok(clq_queue_enqueue_kernel(q, k, args, 5, 1, &global, NULL,
					      NULL, 0, NULL));
	ck_assert_ok(clq_device_array_get(a, q, h));
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(fabsf(v[i] - expect[i]) <=
				      1e-5f * (1.0f + fabsf(expect[i])),
			      "element %zu: %g, expected %g", i, (double)v[i],
			      (double)expect[i]);
	clq_host_array_unref(h);
	clq_device_array_unref(a);
	clq_queue_unref(q);
	clq_kernel_unref(k);
	clq_program_unref(p);
}
END_TEST

/* Writes the sum of a work-group's local ids, shared through __local
 * memory, to each of its items; `own` adds memory of the kernel's own. */
static const char local_source[] =
	"__kernel void sum(__global int *out, __local int *s)\n"
	"{\n"
	"	size_t l = get_local_id(0), n = get_local_size(0);\n"
	"	int t = 0;\n"
	"	s[l] = (int)l;\n"
	"	barrier(CLK_LOCAL_MEM_FENCE);\n"
	"	for (size_t i = 0; i < n; i++)\n"
	"		t += s[i];\n"
	"	out[get_global_id(0)] = t;\n"
	"}\n"
	"__kernel void own(__global int *out, __local int *s)\n"
	"{\n"
	"	__local int mine[4096];\n"
	"	size_t l = get_local_id(0), n = get_local_size(0);\n"
	"	int t = 0;\n"
	"	s[l] = (int)l;\n"
	"	mine[l] = 1;\n"
	"	barrier(CLK_LOCAL_MEM_FENCE);\n"
	"	for (size_t i = 0; i < n; i++)\n"
	"		t += s[i] + mine[i];\n"
	"	out[get_global_id(0)] = t;\n"
	"}\n";

/* Launches `k` with `local_bytes` of CLQ_ARG_LOCAL(); on success checks the
 * sums (`extra` per item from the kernel's own memory). */
static int
launch_with_local(struct clq_queue *q, struct clq_kernel *k, size_t local_bytes,
		  int extra)
{
	const size_t n = 64, group = 16;
	struct clq_device_array *a = NULL;
	struct clq_host_array *h = NULL;
	struct clq_arg args[2];
	int rc;

	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_INT32, 1, &n,
					     NULL, &a));
	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_INT32, 1, &n,
					   NULL, &h));
	args[0] = CLQ_ARG_ARRAY(a);
	args[1] = CLQ_ARG_LOCAL(local_bytes);
	rc = clq_queue_enqueue_kernel(q, k, args, 2, 1, &n, &group, NULL, 0,
				      NULL);
	if (rc == CLQ_SUCCESS) {
		const cl_int *v = clq_host_array_data(h);

		ck_assert_ok(clq_device_array_get(a, q, h));
		for (size_t i = 0; i < n; i++)
			ck_assert_int_eq(v[i], 120 + (int)group * extra);
	}
	clq_host_array_unref(h);
	clq_device_array_unref(a);
	return rc;
}

/*
 * __local memory beyond the device's is refused before the enqueue (PoCL
 * 3.1 aborts the process when such a kernel runs), with the sizes in the
 * log: CLQ_ARG_LOCAL() sizes plus the kernel's own static __local memory.
 * Exactly the device's runs.
 */
START_TEST(too_much_local_memory_refused)
{
	struct clq_program *p = NULL;
	struct clq_kernel *sum = NULL, *own = NULL;
	struct clq_queue *q = test_queue_new(0);
	size_t device = (size_t)clq_device_get_local_memory(
		clq_context_get_device(test_ctx));
	size_t mine, room;
	int rc;

	ck_assert_ok(clq_program_create_from_source(test_ctx, local_source,
						    NULL, &p));
	ck_assert_ok(clq_kernel_create(p, "sum", &sum));
	ck_assert_ok(clq_kernel_create(p, "own", &own));
	mine = (size_t)clq_kernel_get_local_memory(own);
	ck_assert_uint_gt(device, mine);

	/* What the device has left for arguments: NVIDIA reserves some for
	 * every kernel (CL_KERNEL_LOCAL_MEM_SIZE), PoCL none. */
	room = device - (size_t)clq_kernel_get_local_memory(sum);
	ck_assert_ok(launch_with_local(q, sum, 64 * sizeof(cl_int), 0));
	/* clq lets the exact fit through; the driver may still want more
	 * (NVIDIA's launch says CL_OUT_OF_RESOURCES), PoCL runs it. */
	test_log_expect("*");
	rc = launch_with_local(q, sum, room, 0);
	ck_assert_msg(rc == CLQ_SUCCESS || rc == CL_OUT_OF_RESOURCES,
		      "an exact fit gave %s", clq_error_name(rc));
	test_log_expect("bytes of __local memory");
	ck_assert_rc(launch_with_local(q, sum, room + 1, 0),
		     CLQ_ERROR_OUT_OF_RANGE);
	ck_assert(test_log_seen());
	ck_assert_rc(launch_with_local(q, sum, 4 * device, 0),
		     CLQ_ERROR_OUT_OF_RANGE);
	ck_assert_rc(launch_with_local(q, sum, SIZE_MAX, 0),
		     CLQ_ERROR_OUT_OF_RANGE);
	test_log_expect(NULL);

	/* the kernel's own memory counts too, where the driver reports it */
	test_log_expect("*");
	rc = launch_with_local(q, own, device - mine, 1);
	ck_assert_msg(rc == CLQ_SUCCESS || rc == CL_OUT_OF_RESOURCES,
		      "an exact fit gave %s", clq_error_name(rc));
	test_log_expect(NULL);
	if (mine >= 4096 * sizeof(cl_int)) {
		test_log_expect("of its own");
		ck_assert_rc(launch_with_local(q, own, device - mine + 1, 1),
			     CLQ_ERROR_OUT_OF_RANGE);
		ck_assert(test_log_seen());
	}
	clq_kernel_unref(sum);
	clq_kernel_unref(own);
	clq_program_unref(p);
	clq_queue_unref(q);
}
END_TEST

static Suite *
kernels_suite(void)
{
	Suite *s = suite_create("kernels");
	TCase *tc = tcase_create("kernels");

	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, fill_matches_reference);
	tcase_add_test(tc, transpose_matches_reference);
	tcase_add_test(tc, transpose_default_tile);
	tcase_add_test(tc, scale_matches_reference);
	suite_add_tcase(s, tc);

	tc = tcase_create("local memory");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, too_much_local_memory_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_main(kernels_suite(), 1);
}
