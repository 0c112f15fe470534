/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include "private.h"

#define HOST_ALIGNMENT 4096

static int
choose_strategy(struct clq_context *ctx, enum clq__host_strategy *out)
{
	const char *forced = getenv("CLQ_HOST_ARRAY_STRATEGY");

	if (forced && *forced) {
		if (strcmp(forced, "mapped") == 0) {
			*out = CLQ__HOST_MAPPED;
		} else if (strcmp(forced, "aligned") == 0) {
			*out = CLQ__HOST_ALIGNED;
		} else {
			clq__log(ctx, CLQ_LOG_ERROR,
				 "CLQ_HOST_ARRAY_STRATEGY='%s' is neither "
				 "'mapped' nor 'aligned'",
				 forced);
			return CLQ_ERROR_INVALID_ARGUMENT;
		}
		return CLQ_SUCCESS;
	}
	/* NVIDIA pins ALLOC_HOST_PTR buffers; elsewhere aligned memory is
	 * what the driver copies from fastest. */
	*out = strstr(clq_device_get_platform_name(ctx->device), "NVIDIA")
		       ? CLQ__HOST_MAPPED
		       : CLQ__HOST_ALIGNED;
	return CLQ_SUCCESS;
}

static int
map_pinned(struct clq_host_array *h)
{
	struct clq_context *ctx = h->ctx;
	cl_int err = CL_SUCCESS;

	h->pinned = clCreateBuffer(ctx->cl, CL_MEM_ALLOC_HOST_PTR,
				   h->layout.nbytes, NULL, &err);
	if (err != CL_SUCCESS)
		return clq__check(ctx, err, "clCreateBuffer(ALLOC_HOST_PTR)");
	h->map_queue = clCreateCommandQueue(ctx->cl, ctx->device->id, 0, &err);
	if (err != CL_SUCCESS)
		return clq__check(ctx, err, "clCreateCommandQueue");
	h->data = clEnqueueMapBuffer(h->map_queue, h->pinned, CL_TRUE,
				     CL_MAP_READ | CL_MAP_WRITE, 0,
				     h->layout.nbytes, 0, NULL, NULL, &err);
	return clq__check(ctx, err, "clEnqueueMapBuffer");
}

static void
host_array_free(struct clq_host_array *h)
{
	if (h->strategy == CLQ__HOST_MAPPED) {
		if (h->data) {
			clEnqueueUnmapMemObject(h->map_queue, h->pinned,
						h->data, 0, NULL, NULL);
			clFinish(h->map_queue);
		}
		if (h->map_queue)
			clReleaseCommandQueue(h->map_queue);
		if (h->pinned)
			clReleaseMemObject(h->pinned);
	} else if (h->strategy == CLQ__HOST_ALIGNED) {
		free(h->data);
	}
	clq_context_unref(h->ctx);
	free(h);
}

int
clq_host_array_create(struct clq_context *ctx, enum clq_dtype dtype,
		      size_t ndim, const size_t *shape,
		      const size_t *padded_shape,
		      struct clq_host_array **array_out)
{
	static const char fn[] = "clq_host_array_create";
	struct clq_host_array *h;
	int rc;

	if (!array_out)
		return clq__invalid(ctx, fn, "array_out is NULL");
	*array_out = NULL;
	if (!ctx)
		return clq__invalid(NULL, fn, "ctx is NULL");
	h = calloc(1, sizeof(*h));
	if (!h)
		return CL_OUT_OF_HOST_MEMORY;
	atomic_init(&h->refs, 1);
	h->ctx = clq_context_ref(ctx);
	h->strategy = CLQ__HOST_ALIGNED;
	rc = clq__layout_init(ctx, fn, dtype, ndim, shape, padded_shape,
			      &h->layout);
	if (rc == CLQ_SUCCESS)
		rc = choose_strategy(ctx, &h->strategy);
	if (rc == CLQ_SUCCESS && h->strategy == CLQ__HOST_MAPPED) {
		rc = map_pinned(h);
	} else if (rc == CLQ_SUCCESS &&
		   posix_memalign(&h->data, HOST_ALIGNMENT, h->layout.nbytes)) {
		h->data = NULL;
		rc = CL_OUT_OF_HOST_MEMORY;
	}
	if (rc < 0) {
		host_array_free(h);
		return rc;
	}
	*array_out = h;
	return CLQ_SUCCESS;
}

int
clq_host_array_wrap(enum clq_dtype dtype, size_t ndim, const size_t *shape,
		    const size_t *padded_shape, void *data,
		    struct clq_host_array **array_out)
{
	static const char fn[] = "clq_host_array_wrap";
	struct clq_host_array *h;
	struct clq__layout layout;
	int rc;

	if (!array_out)
		return clq__invalid(NULL, fn, "array_out is NULL");
	*array_out = NULL;
	if (!data)
		return clq__invalid(NULL, fn, "data is NULL");
	rc = clq__layout_init(NULL, fn, dtype, ndim, shape, padded_shape,
			      &layout);
	if (rc < 0)
		return rc;
	h = calloc(1, sizeof(*h));
	if (!h)
		return CL_OUT_OF_HOST_MEMORY;
	atomic_init(&h->refs, 1);
	h->layout = layout;
	h->data = data;
	h->strategy = CLQ__HOST_WRAPPED;
	*array_out = h;
	return CLQ_SUCCESS;
}

struct clq_host_array *
clq_host_array_ref(struct clq_host_array *array)
{
	if (array)
		atomic_fetch_add_explicit(&array->refs, 1,
					  memory_order_relaxed);
	return array;
}

void
clq_host_array_unref(struct clq_host_array *array)
{
	if (!array || atomic_fetch_sub_explicit(&array->refs, 1,
						memory_order_acq_rel) != 1)
		return;
	host_array_free(array);
}

void *
clq_host_array_data(struct clq_host_array *array)
{
	return array ? array->data : NULL;
}

int
clq_host_array_is_pinned(const struct clq_host_array *array)
{
	return array ? array->strategy == CLQ__HOST_MAPPED : 0;
}

enum clq_dtype
clq_host_array_get_dtype(const struct clq_host_array *array)
{
	return array ? array->layout.dtype : CLQ_DTYPE_INT8;
}

size_t
clq_host_array_get_ndim(const struct clq_host_array *array)
{
	return array ? array->layout.ndim : 0;
}

const size_t *
clq_host_array_get_shape(const struct clq_host_array *array)
{
	return array ? array->layout.shape : NULL;
}

const size_t *
clq_host_array_get_padded_shape(const struct clq_host_array *array)
{
	return array ? array->layout.padded : NULL;
}

const size_t *
clq_host_array_get_strides(const struct clq_host_array *array)
{
	return array ? array->layout.strides : NULL;
}

size_t
clq_host_array_get_nbytes(const struct clq_host_array *array)
{
	return array ? array->layout.nbytes : 0;
}
