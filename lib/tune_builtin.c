/* SPDX-License-Identifier: BSD-3-Clause */
/* clq's own kernels (cl/) as tunables (see clq_tunable_create_builtin()). */
#include <stdlib.h>
#include <string.h>

#include "tune_private.h"

/* Problem sizes: each at least 1 and within a cl_uint (the kernels' n). */
static int
problem_size(const struct clq_params *problem, const char *name, size_t *out)
{
	int64_t v;

	if (clq_params_get_int(problem, name, &v) < 0 || v < 1 ||
	    v > (int64_t)UINT32_MAX) {
		clq__log(NULL, CLQ_LOG_ERROR,
			 "tuning: the problem needs an integer '%s' from 1 "
			 "to 4294967295",
			 name);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	*out = (size_t)v;
	return CLQ_SUCCESS;
}

/* Buffers of one problem: transpose's in and out, or scale's and fill's. */
struct state {
	struct clq_device_array *a, *b;
	size_t rows, cols, n;
	cl_uint iters;
};

static void
release(void *state, void *user_data)
{
	struct state *s = state;

	if (!s)
		return;
	clq_device_array_unref(s->a);
	clq_device_array_unref(s->b);
	free(s);
}

static int
transpose_prepare(struct clq_context *ctx, const struct clq_params *problem,
		  void *user_data, void **state_out)
{
	struct state *s = calloc(1, sizeof(*s));
	size_t shape[2];
	int rc;

	if (!s)
		return CL_OUT_OF_HOST_MEMORY;
	if ((rc = problem_size(problem, "rows", &s->rows)) < 0 ||
	    (rc = problem_size(problem, "cols", &s->cols)) < 0)
		goto fail;
	shape[0] = s->rows;
	shape[1] = s->cols;
	if ((rc = clq_device_array_create(ctx, CLQ_DTYPE_FLOAT32, 2, shape,
					  NULL, &s->a)) < 0)
		goto fail;
	shape[0] = s->cols;
	shape[1] = s->rows;
	if ((rc = clq_device_array_create(ctx, CLQ_DTYPE_FLOAT32, 2, shape,
					  NULL, &s->b)) < 0)
		goto fail;
	*state_out = s;
	return CLQ_SUCCESS;
fail:
	release(s, NULL);
	return rc;
}

static size_t
round_up(size_t n, size_t m)
{
	return (n + m - 1) / m * m;
}

/*
 * Whether a work-group of `items` fits the built kernel: the filter knows
 * only the device's limit, and a kernel's may be lower (NVIDIA's 580 runs
 * transpose with 32 x 32 tiles at most 256 items per group). A candidate
 * over it is skipped with CLQ_ERROR_LOCAL_SIZE before any launch.
 */
static int
fits_kernel(const struct clq_kernel *k, size_t items)
{
	return items <= clq_kernel_get_work_group_size(k)
		       ? CLQ_SUCCESS
		       : CLQ_ERROR_LOCAL_SIZE;
}

static int
transpose_measure(struct clq_tune_trial *trial, void *user_data)
{
	struct state *s = clq_tune_trial_get_state(trial);
	struct clq_kernel *k;
	int64_t tile;
	cl_uint in_stride = (cl_uint)s->cols, out_stride = (cl_uint)s->rows,
		rows = (cl_uint)s->rows, cols = (cl_uint)s->cols;
	size_t local[2], global[2];
	int rc;

	if ((rc = clq_tune_trial_get_kernel(trial, "transpose", &k)) < 0)
		return rc;
	clq_params_get_int(clq_tune_trial_get_params(trial), "TRANSPOSE_TILE",
			   &tile);
	local[0] = local[1] = (size_t)tile;
	if ((rc = fits_kernel(k, local[0] * local[1])) < 0)
		return rc;
	global[0] = round_up(s->cols, local[0]);
	global[1] = round_up(s->rows, local[1]);
	{
		struct clq_arg args[] = {
			CLQ_ARG_OUT(s->b),   CLQ_ARG_VALUE(out_stride),
			CLQ_ARG_IN(s->a),    CLQ_ARG_VALUE(in_stride),
			CLQ_ARG_VALUE(rows), CLQ_ARG_VALUE(cols),
		};

		return clq_queue_enqueue_kernel(clq_tune_trial_get_queue(trial),
						k, args, 6, 2, global, local,
						NULL, 0, NULL);
	}
}

/* A tile must fit the device's work-group and its local memory. */
static int
transpose_filter(const struct clq_device *dev, const struct clq_params *problem,
		 const struct clq_params *candidate, void *user_data)
{
	int64_t tile;
	uint64_t local = (uint64_t)clq_device_get_local_memory(dev);

	if (clq_params_get_int(candidate, "TRANSPOSE_TILE", &tile) < 0)
		return 0;
	return (size_t)(tile * tile) <=
		       clq_device_get_max_work_group_size(dev) &&
	       (size_t)tile <= clq_device_get_max_work_item_size(dev, 0) &&
	       (size_t)tile <= clq_device_get_max_work_item_size(dev, 1) &&
	       (uint64_t)(tile * (tile + 1)) * sizeof(float) <= local;
}

static int
vector_prepare(struct clq_context *ctx, const struct clq_params *problem,
	       void *user_data, void **state_out)
{
	struct state *s = calloc(1, sizeof(*s));
	size_t iters;
	int rc;

	if (!s)
		return CL_OUT_OF_HOST_MEMORY;
	if ((rc = problem_size(problem, "n", &s->n)) < 0)
		goto fail;
	if (user_data) { /* scale: iterations per element */
		if ((rc = problem_size(problem, "iters", &iters)) < 0)
			goto fail;
		s->iters = (cl_uint)iters;
	}
	if ((rc = clq_device_array_create(ctx, CLQ_DTYPE_FLOAT32, 1, &s->n,
					  NULL, &s->a)) < 0)
		goto fail;
	*state_out = s;
	return CLQ_SUCCESS;
fail:
	release(s, NULL);
	return rc;
}

static int
vector_measure(struct clq_tune_trial *trial, void *user_data)
{
	struct state *s = clq_tune_trial_get_state(trial);
	struct clq_queue *q = clq_tune_trial_get_queue(trial);
	struct clq_kernel *k;
	int64_t wgs;
	cl_uint n = (cl_uint)s->n;
	cl_float a = 1.0f, b = 1.0f;
	size_t local, global;
	int rc;

	if ((rc = clq_tune_trial_get_kernel(trial, user_data ? "scale" : "fill",
					    &k)) < 0)
		return rc;
	clq_params_get_int(clq_tune_trial_get_params(trial), "wgs", &wgs);
	local = (size_t)wgs;
	if ((rc = fits_kernel(k, local)) < 0)
		return rc;
	global = round_up(s->n, local);
	if (user_data) {
		struct clq_arg args[] = {
			CLQ_ARG_INOUT(s->a),	 CLQ_ARG_VALUE(n),
			CLQ_ARG_VALUE(a),	 CLQ_ARG_VALUE(b),
			CLQ_ARG_VALUE(s->iters),
		};

		return clq_queue_enqueue_kernel(q, k, args, 5, 1, &global,
						&local, NULL, 0, NULL);
	} else {
		struct clq_arg args[] = {
			CLQ_ARG_OUT(s->a),
			CLQ_ARG_VALUE(n),
			CLQ_ARG_VALUE(a),
		};

		return clq_queue_enqueue_kernel(q, k, args, 3, 1, &global,
						&local, NULL, 0, NULL);
	}
}

static int
wgs_filter(const struct clq_device *dev, const struct clq_params *problem,
	   const struct clq_params *candidate, void *user_data)
{
	int64_t wgs;

	if (clq_params_get_int(candidate, "wgs", &wgs) < 0)
		return 0;
	return (size_t)wgs <= clq_device_get_max_work_group_size(dev) &&
	       (size_t)wgs <= clq_device_get_max_work_item_size(dev, 0);
}

/* Any non-NULL pointer: tells scale's callbacks from fill's. */
static const char scale_tag[] = "scale";

int
clq_tunable_create_builtin(const char *name, struct clq_tunable **tunable_out)
{
	static const char fn[] = "clq_tunable_create_builtin";
	static const int64_t tiles[] = {4, 8, 16, 32};
	static const int64_t sizes[] = {32, 64, 128, 256, 512, 1024};
	struct clq_tunable *t = NULL;
	int rc;

	if (!tunable_out)
		return clq__invalid(NULL, fn, "tunable_out is NULL");
	*tunable_out = NULL;
	if (!name)
		return clq__invalid(NULL, fn, "name is NULL");
	if (strcmp(name, "transpose") != 0 && strcmp(name, "scale") != 0 &&
	    strcmp(name, "fill") != 0) {
		clq__log(NULL, CLQ_LOG_ERROR,
			 "%s: no built-in tunable '%s' (expected transpose, "
			 "scale or fill)",
			 fn, name);
		return CLQ_ERROR_NOT_FOUND;
	}
	if ((rc = clq_tunable_create(name, 1, &t)) < 0)
		return rc;
	if (strcmp(name, "transpose") == 0) {
		rc = clq_tunable_set_file(t, "transpose.cl", NULL, 0);
		if (rc == CLQ_SUCCESS)
			rc = clq_tunable_add_int(t, "TRANSPOSE_TILE", tiles, 4,
						 CLQ_TUNE_DEFINE);
		if (rc == CLQ_SUCCESS)
			rc = clq_tunable_set_measure(t, transpose_prepare,
						     transpose_measure, release,
						     NULL);
		clq_tunable_set_filter(t, transpose_filter, NULL);
	} else {
		int scale = strcmp(name, "scale") == 0;

		rc = clq_tunable_set_file(t, scale ? "scale.cl" : "fill.cl",
					  NULL, 0);
		if (rc == CLQ_SUCCESS)
			rc = clq_tunable_add_int(t, "wgs", sizes, 6, 0);
		if (rc == CLQ_SUCCESS)
			rc = clq_tunable_set_measure(
				t, vector_prepare, vector_measure, release,
				scale ? (void *)scale_tag : NULL);
		clq_tunable_set_filter(t, wgs_filter, NULL);
	}
	if (rc < 0) {
		clq_tunable_free(t);
		return rc;
	}
	*tunable_out = t;
	return CLQ_SUCCESS;
}
