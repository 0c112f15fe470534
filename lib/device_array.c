/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include "private.h"

static int
array_new(struct clq_context *ctx, const char *function, enum clq_dtype dtype,
	  size_t ndim, const size_t *shape, const size_t *padded_shape,
	  struct clq_device_array **array_out)
{
	struct clq_device_array *a;
	struct clq__layout layout;
	int rc;

	rc = clq__layout_init(ctx, function, dtype, ndim, shape, padded_shape,
			      &layout);
	if (rc < 0)
		return rc;
	if (layout.nbytes > clq_device_get_max_alloc_size(ctx->device)) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: %zu bytes exceed the device's largest "
			 "allocation (%llu bytes)",
			 function, layout.nbytes,
			 (unsigned long long)clq_device_get_max_alloc_size(
				 ctx->device));
		return CLQ_ERROR_OUT_OF_RANGE;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return CL_OUT_OF_HOST_MEMORY;
	atomic_init(&a->refs, 1);
	a->layout = layout;
	*array_out = a;
	return CLQ_SUCCESS;
}

/* Takes over `mem` and a context reference. */
static void
array_attach(struct clq_device_array *a, struct clq_context *ctx, cl_mem mem)
{
	a->ctx = clq_context_ref(ctx);
	a->mem = mem;
}

int
clq_device_array_create(struct clq_context *ctx, enum clq_dtype dtype,
			size_t ndim, const size_t *shape,
			const size_t *padded_shape,
			struct clq_device_array **array_out)
{
	static const char fn[] = "clq_device_array_create";
	struct clq_device_array *a = NULL;
	cl_int err = CL_SUCCESS;
	cl_mem mem;
	int rc;

	if (!array_out)
		return clq__invalid(ctx, fn, "array_out is NULL");
	*array_out = NULL;
	if (!ctx)
		return clq__invalid(NULL, fn, "ctx is NULL");
	rc = array_new(ctx, fn, dtype, ndim, shape, padded_shape, &a);
	if (rc < 0)
		return rc;
	mem = clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, a->layout.nbytes, NULL,
			     &err);
	if (err != CL_SUCCESS) {
		free(a);
		return clq__check(ctx, err, "clCreateBuffer");
	}
	array_attach(a, ctx, mem);
	*array_out = a;
	return CLQ_SUCCESS;
}

int
clq_device_array_create_alias(struct clq_context *ctx, cl_mem buffer,
			      size_t offset, enum clq_dtype dtype, size_t ndim,
			      const size_t *shape, const size_t *padded_shape,
			      struct clq_device_array **array_out)
{
	static const char fn[] = "clq_device_array_create_alias";
	struct clq_device_array *a = NULL;
	cl_buffer_region region;
	cl_context buffer_ctx = NULL;
	size_t buffer_size = 0;
	cl_int err = CL_SUCCESS;
	cl_mem mem;
	int rc;

	if (!array_out)
		return clq__invalid(ctx, fn, "array_out is NULL");
	*array_out = NULL;
	if (!ctx || !buffer)
		return clq__invalid(ctx, fn, "ctx or buffer is NULL");
	rc = clq__check(ctx,
			clGetMemObjectInfo(buffer, CL_MEM_CONTEXT,
					   sizeof(buffer_ctx), &buffer_ctx,
					   NULL),
			"clGetMemObjectInfo(CL_MEM_CONTEXT)");
	if (rc < 0)
		return rc;
	if (buffer_ctx != ctx->cl) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the buffer belongs to another context", fn);
		return CLQ_ERROR_CONTEXT_MISMATCH;
	}
	rc = clq__check(ctx,
			clGetMemObjectInfo(buffer, CL_MEM_SIZE,
					   sizeof(buffer_size), &buffer_size,
					   NULL),
			"clGetMemObjectInfo(CL_MEM_SIZE)");
	if (rc < 0)
		return rc;
	rc = array_new(ctx, fn, dtype, ndim, shape, padded_shape, &a);
	if (rc < 0)
		return rc;
	if (offset > buffer_size || a->layout.nbytes > buffer_size - offset) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: %zu bytes at offset %zu do not fit in a buffer "
			 "of %zu bytes",
			 fn, a->layout.nbytes, offset, buffer_size);
		free(a);
		return CLQ_ERROR_OUT_OF_RANGE;
	}
	region.origin = offset;
	region.size = a->layout.nbytes;
	mem = clCreateSubBuffer(buffer, CL_MEM_READ_WRITE,
				CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
	if (err != CL_SUCCESS) {
		free(a);
		return clq__check(ctx, err, "clCreateSubBuffer");
	}
	array_attach(a, ctx, mem);
	*array_out = a;
	return CLQ_SUCCESS;
}

struct clq_device_array *
clq_device_array_ref(struct clq_device_array *array)
{
	if (array)
		atomic_fetch_add_explicit(&array->refs, 1,
					  memory_order_relaxed);
	return array;
}

void
clq_device_array_unref(struct clq_device_array *array)
{
	if (!array || atomic_fetch_sub_explicit(&array->refs, 1,
						memory_order_acq_rel) != 1)
		return;
	clReleaseMemObject(array->mem);
	clq_context_unref(array->ctx);
	free(array);
}

struct clq_context *
clq_device_array_get_context(const struct clq_device_array *array)
{
	return array ? array->ctx : NULL;
}

cl_mem
clq_device_array_get_cl(const struct clq_device_array *array)
{
	return array ? array->mem : NULL;
}

enum clq_dtype
clq_device_array_get_dtype(const struct clq_device_array *array)
{
	return array ? array->layout.dtype : CLQ_DTYPE_INT8;
}

size_t
clq_device_array_get_ndim(const struct clq_device_array *array)
{
	return array ? array->layout.ndim : 0;
}

const size_t *
clq_device_array_get_shape(const struct clq_device_array *array)
{
	return array ? array->layout.shape : NULL;
}

const size_t *
clq_device_array_get_padded_shape(const struct clq_device_array *array)
{
	return array ? array->layout.padded : NULL;
}

const size_t *
clq_device_array_get_strides(const struct clq_device_array *array)
{
	return array ? array->layout.strides : NULL;
}

size_t
clq_device_array_get_nbytes(const struct clq_device_array *array)
{
	return array ? array->layout.nbytes : 0;
}

/* Host <-> device transfers. */

/* Checks that a transfer between `a` and `h` on `q` makes sense. */
static int
check_transfer(const char *function, struct clq_device_array *a,
	       struct clq_queue *q, struct clq_host_array *h)
{
	struct clq_context *ctx = a ? a->ctx : q ? q->ctx : NULL;

	if (!a || !q || !h)
		return clq__invalid(ctx, function,
				    "array, queue or host array is NULL");
	if (q->ctx != a->ctx || (h->ctx && h->ctx != a->ctx)) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the array, queue and host array belong to "
			 "different contexts",
			 function);
		return CLQ_ERROR_CONTEXT_MISMATCH;
	}
	if (h->layout.dtype != a->layout.dtype) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the device array holds %s, the host array %s",
			 function, clq_dtype_name(a->layout.dtype),
			 clq_dtype_name(h->layout.dtype));
		return CLQ_ERROR_TYPE_MISMATCH;
	}
	if (h->layout.ndim != a->layout.ndim ||
	    memcmp(h->layout.shape, a->layout.shape, sizeof(a->layout.shape)) !=
		    0) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the device and host arrays differ in shape",
			 function);
		return CLQ_ERROR_SHAPE_MISMATCH;
	}
	return CLQ_SUCCESS;
}

/* Pitches and origin of a rectangular copy, OpenCL's way. */
struct rect_side {
	size_t origin[3];
	size_t row_pitch;
	size_t slice_pitch;
};

/*
 * Describes the block of `l` from the start of the array, for outer index
 * `outer` of a 4-axis array. Axes are numbered from the last: x (bytes),
 * rows, slices; a fourth axis is folded into the slice origin.
 */
static void
rect_side_of(const struct clq__layout *l, size_t outer, struct rect_side *s)
{
	size_t n = l->ndim;
	size_t esize = clq_dtype_size(l->dtype);

	s->row_pitch = l->padded[n - 1] * esize;
	s->slice_pitch =
		n >= 2 ? l->padded[n - 2] * s->row_pitch : s->row_pitch;
	s->origin[0] = 0;
	s->origin[1] = 0;
	s->origin[2] = n == 4 ? outer * l->padded[1] : 0;
}

enum direction { TO_DEVICE, TO_HOST };

/*
 * Enqueues the copy between device array and host array. A single command
 * when the layouts agree; otherwise rectangular commands, one per index of
 * a fourth axis. Only the first waits for `list`; only the last may block
 * and gives `*ev` (an in-order queue runs them in turn).
 */
static int
enqueue_transfer(struct clq_device_array *a, struct clq_queue *q,
		 struct clq_host_array *h, enum direction dir, cl_bool blocking,
		 cl_uint n_wait, const cl_event *list, cl_event *ev)
{
	const struct clq__layout *l = &a->layout;
	size_t outer = l->ndim == 4 ? l->shape[0] : 1;
	size_t region[3];
	cl_int err = CL_SUCCESS;

	if (memcmp(l->padded, h->layout.padded, sizeof(l->padded)) == 0) {
		err = dir == TO_DEVICE
			      ? clEnqueueWriteBuffer(q->cl, a->mem, blocking, 0,
						     l->nbytes, h->data, n_wait,
						     list, ev)
			      : clEnqueueReadBuffer(q->cl, a->mem, blocking, 0,
						    l->nbytes, h->data, n_wait,
						    list, ev);
		return clq__check(q->ctx, err,
				  dir == TO_DEVICE ? "clEnqueueWriteBuffer"
						   : "clEnqueueReadBuffer");
	}
	region[0] = l->shape[l->ndim - 1] * clq_dtype_size(l->dtype);
	region[1] = l->ndim >= 2 ? l->shape[l->ndim - 2] : 1;
	region[2] = l->ndim >= 3 ? l->shape[l->ndim - 3] : 1;
	for (size_t i = 0; i < outer && err == CL_SUCCESS; i++) {
		struct rect_side dev, host;
		int last = i + 1 == outer;

		rect_side_of(l, i, &dev);
		rect_side_of(&h->layout, i, &host);
		err = dir == TO_DEVICE
			      ? clEnqueueWriteBufferRect(
					q->cl, a->mem,
					last ? blocking : CL_FALSE, dev.origin,
					host.origin, region, dev.row_pitch,
					dev.slice_pitch, host.row_pitch,
					host.slice_pitch, h->data,
					i == 0 ? n_wait : 0,
					i == 0 ? list : NULL, last ? ev : NULL)
			      : clEnqueueReadBufferRect(
					q->cl, a->mem,
					last ? blocking : CL_FALSE, dev.origin,
					host.origin, region, dev.row_pitch,
					dev.slice_pitch, host.row_pitch,
					host.slice_pitch, h->data,
					i == 0 ? n_wait : 0,
					i == 0 ? list : NULL, last ? ev : NULL);
	}
	return clq__check(q->ctx, err,
			  dir == TO_DEVICE ? "clEnqueueWriteBufferRect"
					   : "clEnqueueReadBufferRect");
}

static void CL_CALLBACK
release_host_array(cl_event ev, cl_int status, void *data)
{
	(void)ev;
	(void)status;
	clq_host_array_unref(data);
}

/*
 * Keeps `h` alive until `ev` completes. If the driver refuses the callback,
 * waits for the transfer instead: slower, never unsafe.
 */
static void
keep_alive_until(struct clq_queue *q, cl_event ev, struct clq_host_array *h)
{
	clq_host_array_ref(h);
	if (clSetEventCallback(ev, CL_COMPLETE, release_host_array, h) ==
	    CL_SUCCESS)
		return;
	clq__log(q->ctx, CLQ_LOG_WARNING,
		 "clSetEventCallback failed: waiting for the transfer to keep "
		 "its host array alive");
	clWaitForEvents(1, &ev);
	clq_host_array_unref(h);
}

static int
transfer(const char *function, struct clq_device_array *a, struct clq_queue *q,
	 struct clq_host_array *h, enum direction dir, int async,
	 struct clq_event *const *wait, size_t n_wait,
	 struct clq_event **event_out)
{
	cl_event inline_buf[CLQ__WAIT_INLINE];
	cl_event *list = NULL;
	struct clq_event *ev = NULL;
	cl_event cl = NULL;
	int rc;

	if (event_out)
		*event_out = NULL;
	rc = check_transfer(function, a, q, h);
	if (rc < 0)
		return rc;
	rc = clq__wait_list(q->ctx, function, wait, n_wait, inline_buf,
			    CLQ__WAIT_INLINE, &list);
	if (rc < 0)
		return rc;
	rc = clq__event_prepare(q, event_out, &ev);
	if (rc < 0)
		goto out;
	/* An async transfer always needs its event, for the keep-alive. */
	rc = enqueue_transfer(a, q, h, dir, async ? CL_FALSE : CL_TRUE,
			      (cl_uint)n_wait, list, async || ev ? &cl : NULL);
	if (rc == CLQ_SUCCESS && async)
		keep_alive_until(q, cl, h);
	if (ev && rc == CLQ_SUCCESS)
		ev->cl = cl;
	else if (cl)
		clReleaseEvent(cl);
	clq__event_deliver(rc, ev, event_out);
out:
	clq__wait_list_free(list, inline_buf);
	return rc;
}

int
clq_device_array_set(struct clq_device_array *array, struct clq_queue *queue,
		     struct clq_host_array *src)
{
	return transfer("clq_device_array_set", array, queue, src, TO_DEVICE, 0,
			NULL, 0, NULL);
}

int
clq_device_array_get(struct clq_device_array *array, struct clq_queue *queue,
		     struct clq_host_array *dst)
{
	return transfer("clq_device_array_get", array, queue, dst, TO_HOST, 0,
			NULL, 0, NULL);
}

int
clq_device_array_set_async(struct clq_device_array *array,
			   struct clq_queue *queue, struct clq_host_array *src,
			   struct clq_event *const *wait, size_t n_wait,
			   struct clq_event **event_out)
{
	return transfer("clq_device_array_set_async", array, queue, src,
			TO_DEVICE, 1, wait, n_wait, event_out);
}

int
clq_device_array_get_async(struct clq_device_array *array,
			   struct clq_queue *queue, struct clq_host_array *dst,
			   struct clq_event *const *wait, size_t n_wait,
			   struct clq_event **event_out)
{
	return transfer("clq_device_array_get_async", array, queue, dst,
			TO_HOST, 1, wait, n_wait, event_out);
}
