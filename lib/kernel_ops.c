/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Operations for clq's own kernels (clq/operation.h): fill, scale and
 * transpose, each an operation whose user data is its kernel and its
 * parameters, fixed at creation.
 *
 * The programs are built from the sources embedded in the library, not
 * through the search path: the library reads no kernel file the caller
 * did not ask for, and a user's own "scale.cl" cannot stand in for
 * clq's. The context keeps no cache of built programs, so each operation
 * builds its own (drivers keep their own compile caches: PoCL's makes a
 * second build of the same source cheap).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

enum kind { KIND_FILL, KIND_SCALE, KIND_TRANSPOSE };

struct kernel_op {
	enum kind kind;
	struct clq_kernel *kernel; /* held; holds the program */
	size_t local;		   /* the work-group side (transpose: tile) */
	cl_float value;		   /* fill */
	cl_float a, b;		   /* scale */
	cl_uint iters;
};

static void
kernel_op_destroy(void *user_data)
{
	struct kernel_op *k = user_data;

	clq_kernel_unref(k->kernel);
	free(k);
}

/* The elements of `a`'s memory, padding included, as the kernels' `n`. */
static int
element_count(struct clq_context *ctx, const char *name,
	      const struct clq_device_array *a, cl_uint *n_out)
{
	size_t n = clq_device_array_get_nbytes(a) / sizeof(cl_float);

	if (n > CL_UINT_MAX) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the bound array has %zu elements with its "
			 "padding; the kernel counts at most %u",
			 name, n, (unsigned)CL_UINT_MAX);
		return CLQ_ERROR_OVERFLOW;
	}
	*n_out = (cl_uint)n;
	return CLQ_SUCCESS;
}

static int
run_flat(struct clq_operation *op, struct clq_queue *queue,
	 struct clq_event *const *wait, size_t n_wait,
	 struct clq_event **event_out, struct kernel_op *k)
{
	int fill = k->kind == KIND_FILL;
	struct clq_device_array *a = clq_slot_get_array(
		clq_operation_get_slot(op, fill ? "out" : "data"));
	cl_uint n;
	size_t global;
	int rc = element_count(clq_queue_get_context(queue),
			       clq_operation_get_name(op), a, &n);

	if (rc < 0)
		return rc;
	global = ((size_t)n + k->local - 1) / k->local * k->local;
	if (fill) {
		struct clq_arg args[3] = {CLQ_ARG_OUT(a), CLQ_ARG_VALUE(n),
					  CLQ_ARG_VALUE(k->value)};

		return clq_queue_enqueue_kernel(queue, k->kernel, args, 3, 1,
						&global, &k->local, wait,
						n_wait, event_out);
	} else {
		struct clq_arg args[5] = {
			CLQ_ARG_INOUT(a), CLQ_ARG_VALUE(n), CLQ_ARG_VALUE(k->a),
			CLQ_ARG_VALUE(k->b), CLQ_ARG_VALUE(k->iters)};

		return clq_queue_enqueue_kernel(queue, k->kernel, args, 5, 1,
						&global, &k->local, wait,
						n_wait, event_out);
	}
}

/* A padded row length as the kernel's cl_uint stride. */
static int
row_stride(struct clq_context *ctx, const char *name, const char *slot,
	   const struct clq_device_array *a, cl_uint *stride_out)
{
	size_t s = clq_device_array_get_padded_shape(a)[1];

	if (s > CL_UINT_MAX) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the array bound to '%s' has rows of %zu "
			 "elements with padding; the kernel takes at most %u",
			 name, slot, s, (unsigned)CL_UINT_MAX);
		return CLQ_ERROR_OVERFLOW;
	}
	*stride_out = (cl_uint)s;
	return CLQ_SUCCESS;
}

static int
run_transpose(struct clq_operation *op, struct clq_queue *queue,
	      struct clq_event *const *wait, size_t n_wait,
	      struct clq_event **event_out, struct kernel_op *k)
{
	struct clq_context *ctx = clq_queue_get_context(queue);
	const char *name = clq_operation_get_name(op);
	struct clq_device_array *in =
		clq_slot_get_array(clq_operation_get_slot(op, "in"));
	struct clq_device_array *out =
		clq_slot_get_array(clq_operation_get_slot(op, "out"));
	/* bound arrays have the slots' shapes, which fit (creation) */
	cl_uint rows = (cl_uint)clq_device_array_get_shape(in)[0];
	cl_uint cols = (cl_uint)clq_device_array_get_shape(in)[1];
	cl_uint in_stride, out_stride;
	size_t t = k->local;
	size_t global[2] = {((size_t)cols + t - 1) / t * t,
			    ((size_t)rows + t - 1) / t * t};
	size_t local[2] = {t, t};
	int rc;

	if ((rc = row_stride(ctx, name, "in", in, &in_stride)) < 0 ||
	    (rc = row_stride(ctx, name, "out", out, &out_stride)) < 0)
		return rc;
	{
		struct clq_arg args[6] = {
			CLQ_ARG_OUT(out),    CLQ_ARG_VALUE(out_stride),
			CLQ_ARG_IN(in),	     CLQ_ARG_VALUE(in_stride),
			CLQ_ARG_VALUE(rows), CLQ_ARG_VALUE(cols)};

		return clq_queue_enqueue_kernel(queue, k->kernel, args, 6, 2,
						global, local, wait, n_wait,
						event_out);
	}
}

static int
kernel_op_run(struct clq_operation *op, struct clq_queue *queue,
	      struct clq_event *const *wait, size_t n_wait,
	      struct clq_event **event_out, void *user_data)
{
	struct kernel_op *k = user_data;

	if (k->kind == KIND_TRANSPOSE)
		return run_transpose(op, queue, wait, n_wait, event_out, k);
	return run_flat(op, queue, wait, n_wait, event_out, k);
}

static const struct clq_operation_ops kernel_op_ops = {kernel_op_run,
						       kernel_op_destroy};

/*
 * Builds embedded source `file` with `options` and creates its kernel
 * `name`. A #line directive makes compilers that honour it name the file
 * in build logs.
 */
static int
build_kernel(struct clq_context *ctx, const char *function, const char *file,
	     const char *name, const char *options,
	     struct clq_kernel **kernel_out)
{
	const struct clq__embedded_source *src = NULL;
	struct clq__strbuf text = {0};
	struct clq_program *p = NULL;
	int rc;

	for (size_t i = 0; i < clq__n_embedded_sources; i++)
		if (strcmp(clq__embedded_sources[i].name, file) == 0)
			src = &clq__embedded_sources[i];
	if (!src) {
		/* the build embeds every file of cl/meson.build */
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the library has no built-in '%s'", function,
			 file);
		return CLQ_ERROR_NOT_FOUND;
	}
	clq__strbuf_appendf(&text, "#line 1 \"%s\"\n%s", file, src->text);
	if (text.failed)
		return CL_OUT_OF_HOST_MEMORY;
	rc = clq_program_create_from_source(ctx, text.s, options, &p);
	clq__strbuf_free(&text);
	if (rc == CLQ_SUCCESS)
		rc = clq_kernel_create(p, name, kernel_out);
	if (rc < 0)
		clq__log(ctx, CLQ_LOG_ERROR, "%s: building %s%s%s: %s (%s)",
			 function, file, options ? " with " : "",
			 options ? options : "", clq_error_name(rc),
			 clq_strerror(rc));
	clq_program_unref(p);
	return rc;
}

/*
 * Makes the operation: `k` (which it takes over on success, and frees on
 * failure along with its kernel) and its slots, each of `ndim` of `dims`
 * with an access, named by `names`.
 */
static int
make_op(const char *op_name, struct kernel_op *k, size_t n_slots,
	const char *const *names, const size_t *ndims,
	struct clq_dimension *const *const *dims, const enum clq_access *access,
	struct clq_operation **op_out)
{
	struct clq_operation *op = NULL;
	int rc = clq_operation_create(op_name, &kernel_op_ops, k, &op);

	if (rc < 0) {
		kernel_op_destroy(k);
		return rc;
	}
	for (size_t i = 0; rc == CLQ_SUCCESS && i < n_slots; i++) {
		struct clq_slot *s = NULL;

		rc = clq_slot_create(CLQ_DTYPE_FLOAT32, ndims[i], dims[i],
				     access[i], &s);
		if (rc == CLQ_SUCCESS)
			rc = clq_operation_add_slot(op, names[i], s);
		clq_slot_unref(s);
	}
	if (rc < 0) {
		clq_operation_unref(op); /* frees k */
		return rc;
	}
	*op_out = op;
	return CLQ_SUCCESS;
}

/* The checks fill and scale share; clears *op_out. */
static int
check_flat(struct clq_context *ctx, const char *fn, size_t ndim,
	   struct clq_dimension *const *dims, struct clq_operation **op_out)
{
	size_t count = 1;

	if (op_out)
		*op_out = NULL;
	if (!ctx || !dims || !op_out)
		return clq__invalid(ctx, fn,
				    "ctx, dimensions or op_out is NULL");
	if (ndim == 0 || ndim > CLQ_MAX_DIMS)
		return clq__invalid(ctx, fn, "ndim is not 1 to CLQ_MAX_DIMS");
	for (size_t i = 0; i < ndim; i++) {
		size_t n;

		if (!dims[i])
			return clq__invalid(ctx, fn, "a dimension is NULL");
		n = clq_dimension_get_size(dims[i]);
		if (count > CL_UINT_MAX / n) {
			clq__log(ctx, CLQ_LOG_ERROR,
				 "%s: the dimensions hold more than %u "
				 "elements, the most the kernel counts",
				 fn, (unsigned)CL_UINT_MAX);
			return CLQ_ERROR_OVERFLOW;
		}
		count *= n;
	}
	return CLQ_SUCCESS;
}

/* A work-group size (0: the default) against the device's and `k`'s. */
static int
choose_work_group(struct clq_context *ctx, const char *fn, struct clq_kernel *k,
		  size_t asked, size_t *out)
{
	const struct clq_device *dev = clq_context_get_device(ctx);
	size_t dev_max = clq_device_get_max_work_group_size(dev);
	size_t dev_axis = clq_device_get_max_work_item_size(dev, 0);
	size_t k_max = clq_kernel_get_work_group_size(k);

	if (asked == 0) {
		asked = CLQ_KERNEL_OP_DEFAULT_WORK_GROUP;
		if (asked > k_max)
			asked = k_max;
		if (asked > dev_axis)
			asked = dev_axis;
	}
	if (asked > dev_max || asked > dev_axis || asked > k_max) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: a work-group of %zu is too large: the device "
			 "takes at most %zu (%zu on axis 0), the kernel %s "
			 "%zu",
			 fn, asked, dev_max, dev_axis, clq_kernel_get_name(k),
			 k_max);
		return CLQ_ERROR_LOCAL_SIZE;
	}
	*out = asked;
	return CLQ_SUCCESS;
}

static int
create_flat(struct clq_context *ctx, const char *fn, enum kind kind,
	    size_t ndim, struct clq_dimension *const *dims,
	    size_t work_group_size, struct kernel_op *params,
	    struct clq_operation **op_out)
{
	int fill = kind == KIND_FILL;
	const char *name = fill ? "fill" : "scale";
	const char *slot = fill ? "out" : "data";
	enum clq_access access =
		fill ? CLQ_ACCESS_WRITE : CLQ_ACCESS_READ_WRITE;
	struct kernel_op *k;
	int rc = check_flat(ctx, fn, ndim, dims, op_out);

	if (rc < 0)
		return rc;
	k = malloc(sizeof(*k));
	if (!k)
		return CL_OUT_OF_HOST_MEMORY;
	*k = *params;
	k->kind = kind;
	k->kernel = NULL;
	rc = build_kernel(ctx, fn, fill ? "fill.cl" : "scale.cl", name, NULL,
			  &k->kernel);
	if (rc == CLQ_SUCCESS)
		rc = choose_work_group(ctx, fn, k->kernel, work_group_size,
				       &k->local);
	if (rc < 0) {
		kernel_op_destroy(k);
		return rc;
	}
	return make_op(name, k, 1, &slot, &ndim, &dims, &access, op_out);
}

int
clq_operation_create_fill(struct clq_context *ctx, size_t ndim,
			  struct clq_dimension *const *dimensions, float value,
			  size_t work_group_size, struct clq_operation **op_out)
{
	struct kernel_op params = {.value = value};

	return create_flat(ctx, "clq_operation_create_fill", KIND_FILL, ndim,
			   dimensions, work_group_size, &params, op_out);
}

int
clq_operation_create_scale(struct clq_context *ctx, size_t ndim,
			   struct clq_dimension *const *dimensions, float a,
			   float b, uint32_t iters, size_t work_group_size,
			   struct clq_operation **op_out)
{
	struct kernel_op params = {.a = a, .b = b, .iters = iters};

	return create_flat(ctx, "clq_operation_create_scale", KIND_SCALE, ndim,
			   dimensions, work_group_size, &params, op_out);
}

/* Whether a tile x tile work-group and its local memory fit the device. */
static int
check_tile(struct clq_context *ctx, const char *fn, size_t tile)
{
	const struct clq_device *dev = clq_context_get_device(ctx);
	size_t dev_max = clq_device_get_max_work_group_size(dev);
	size_t ax0 = clq_device_get_max_work_item_size(dev, 0);
	size_t ax1 = clq_device_get_max_work_item_size(dev, 1);
	uint64_t local = clq_device_get_local_memory(dev);

	if (tile > ax0 || tile > ax1 || tile > dev_max / tile) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: a tile of %zu needs %zu x %zu work-groups; the "
			 "device takes at most %zu work-items (%zu x %zu on "
			 "axes 0 and 1)",
			 fn, tile, tile, tile, dev_max, ax0, ax1);
		return CLQ_ERROR_LOCAL_SIZE;
	}
	/* tile <= dev_max / tile: the product below cannot overflow */
	if ((uint64_t)tile * (tile + 1) * sizeof(cl_float) > local) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: a tile of %zu needs %llu bytes of local memory; "
			 "the device has %llu",
			 fn, tile,
			 (unsigned long long)tile * (tile + 1) *
				 sizeof(cl_float),
			 (unsigned long long)local);
		return CLQ_ERROR_OUT_OF_RANGE;
	}
	return CLQ_SUCCESS;
}

int
clq_operation_create_transpose(struct clq_context *ctx,
			       struct clq_dimension *rows,
			       struct clq_dimension *cols, size_t tile,
			       struct clq_operation **op_out)
{
	static const char fn[] = "clq_operation_create_transpose";
	static const char *const names[2] = {"in", "out"};
	static const size_t ndims[2] = {2, 2};
	static const enum clq_access access[2] = {CLQ_ACCESS_READ,
						  CLQ_ACCESS_WRITE};
	struct clq_dimension *in_dims[2] = {rows, cols};
	struct clq_dimension *out_dims[2] = {cols, rows};
	struct clq_dimension *const *dims[2] = {in_dims, out_dims};
	struct kernel_op *k;
	char options[48];
	int rc;

	if (op_out)
		*op_out = NULL;
	if (!ctx || !rows || !cols || !op_out)
		return clq__invalid(ctx, fn,
				    "ctx, rows, cols or op_out is NULL");
	if (clq_dimension_get_size(rows) > CL_UINT_MAX ||
	    clq_dimension_get_size(cols) > CL_UINT_MAX) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: %zu x %zu: the kernel takes at most %u rows and "
			 "columns",
			 fn, clq_dimension_get_size(rows),
			 clq_dimension_get_size(cols), (unsigned)CL_UINT_MAX);
		return CLQ_ERROR_OVERFLOW;
	}
	if (tile == 0)
		tile = CLQ_KERNEL_OP_DEFAULT_TILE;
	if ((rc = check_tile(ctx, fn, tile)) < 0)
		return rc;
	k = calloc(1, sizeof(*k));
	if (!k)
		return CL_OUT_OF_HOST_MEMORY;
	k->kind = KIND_TRANSPOSE;
	k->local = tile;
	snprintf(options, sizeof(options), "-DTRANSPOSE_TILE=%zu", tile);
	rc = build_kernel(ctx, fn, "transpose.cl", "transpose", options,
			  &k->kernel);
	if (rc == CLQ_SUCCESS &&
	    clq_kernel_get_work_group_size(k->kernel) < tile * tile) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: a tile of %zu needs work-groups of %zu; the "
			 "built kernel takes at most %zu",
			 fn, tile, tile * tile,
			 clq_kernel_get_work_group_size(k->kernel));
		rc = CLQ_ERROR_LOCAL_SIZE;
	}
	if (rc < 0) {
		kernel_op_destroy(k);
		return rc;
	}
	return make_op("transpose", k, 2, names, ndims, dims, access, op_out);
}
