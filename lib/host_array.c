/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include "private.h"

#define HOST_ALIGNMENT 4096

static const struct {
	const char *name;
	enum clq__host_strategy strategy;
} strategy_names[] = {
	{"mapped", CLQ__HOST_MAPPED},
	{"remapped", CLQ__HOST_REMAPPED},
	{"aligned", CLQ__HOST_ALIGNED},
};

/* The vendor's recommended pinned memory (DESIGN.md, "Pinned memory"). */
static enum clq__host_strategy
vendor_strategy(const struct clq_device *device)
{
	const char *platform = clq_device_get_platform_name(device);

	if (strstr(platform, "NVIDIA"))
		return CLQ__HOST_MAPPED;
	if (strstr(platform, "AMD") && device->type == CLQ_DEVICE_TYPE_GPU)
		return CLQ__HOST_REMAPPED;
	return CLQ__HOST_ALIGNED;
}

static int
choose_strategy(struct clq_context *ctx, enum clq__host_strategy *out)
{
	const char *forced = getenv("CLQ_HOST_ARRAY_STRATEGY");

	if (!forced || !*forced) {
		*out = vendor_strategy(ctx->device);
		return CLQ_SUCCESS;
	}
	for (size_t i = 0; i < sizeof(strategy_names) / sizeof(*strategy_names);
	     i++) {
		if (strcmp(forced, strategy_names[i].name) == 0) {
			*out = strategy_names[i].strategy;
			return CLQ_SUCCESS;
		}
	}
	clq__log(ctx, CLQ_LOG_ERROR,
		 "CLQ_HOST_ARRAY_STRATEGY='%s' is none of 'mapped', "
		 "'remapped' and 'aligned'",
		 forced);
	return CLQ_ERROR_INVALID_ARGUMENT;
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

/* Whether the array's memory is a buffer's, mapped (and to be unmapped). */
static int
is_mapped(const struct clq_host_array *h)
{
	return h->strategy == CLQ__HOST_MAPPED ||
	       h->strategy == CLQ__HOST_REMAPPED ||
	       (h->strategy == CLQ__HOST_REGISTERED && h->pinned);
}

/*
 * Whether the newest remap's map is a wait to add: there is one and it has
 * not failed (a failed map has ended too, and PoCL 3.1 never runs a command
 * waiting for an event that has already failed; see failsafe.c).
 */
static int
waits_for_last_map(const struct clq_host_array *h)
{
	cl_int status;

	if (!h->last_map)
		return 0;
	if (clGetEventInfo(h->last_map, CL_EVENT_COMMAND_EXECUTION_STATUS,
			   sizeof(status), &status, NULL) != CL_SUCCESS)
		return 0;
	return status >= CL_COMPLETE;
}

/* The last unmap, after the newest remap when there was one. */
static void
unmap_for_good(struct clq_host_array *h)
{
	cl_uint n = waits_for_last_map(h) ? 1 : 0;

	clEnqueueUnmapMemObject(h->map_queue, h->pinned, h->data, n,
				n ? &h->last_map : NULL, NULL);
	clFinish(h->map_queue);
}

/* A zeroed array with one reference and no pending transfers. */
static struct clq_host_array *
host_array_alloc(void)
{
	struct clq_host_array *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	if (pthread_mutex_init(&h->pending_lock, NULL) != 0) {
		free(h);
		return NULL;
	}
	clq__ref_init(&h->refs);
	atomic_init(&h->pending_left, 0);
	h->pending = h->pending_inline;
	h->cap_pending =
		sizeof(h->pending_inline) / sizeof(h->pending_inline[0]);
	return h;
}

static void
host_array_free(struct clq_host_array *h)
{
	for (size_t i = 0; i < h->n_pending; i++)
		clq__event_drop(h->pending[i].ev);
	if (h->pending != h->pending_inline)
		free(h->pending);
	pthread_mutex_destroy(&h->pending_lock);
	if (is_mapped(h)) {
		if (h->data)
			unmap_for_good(h);
		if (h->last_map)
			clReleaseEvent(h->last_map);
		if (h->map_queue)
			clReleaseCommandQueue(h->map_queue);
		if (h->pinned)
			clReleaseMemObject(h->pinned);
	} else if (h->strategy == CLQ__HOST_ALIGNED) {
		free(h->data);
	}
	if (h->strategy == CLQ__HOST_REMAPPED)
		pthread_mutex_destroy(&h->remap_lock);
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
	h = host_array_alloc();
	if (!h)
		return CL_OUT_OF_HOST_MEMORY;
	h->ctx = clq_context_ref(ctx);
	h->strategy = CLQ__HOST_ALIGNED;
	rc = clq__layout_init(ctx, fn, dtype, ndim, shape, padded_shape,
			      &h->layout);
	if (rc == CLQ_SUCCESS)
		rc = choose_strategy(ctx, &h->strategy);
	if (rc == CLQ_SUCCESS && h->strategy == CLQ__HOST_REMAPPED &&
	    pthread_mutex_init(&h->remap_lock, NULL) != 0) {
		h->strategy = CLQ__HOST_ALIGNED; /* nothing to release */
		rc = CL_OUT_OF_HOST_MEMORY;
	}
	if (rc == CLQ_SUCCESS && is_mapped(h)) {
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

/*
 * Registers the caller's memory: a USE_HOST_PTR buffer over it, mapped
 * once for the array's life, so that transfers from its address are
 * transfers from a mapped buffer's memory (which NVIDIA's driver moves by
 * DMA, as for the mapped strategy). A driver that maps the buffer
 * elsewhere than at `data` would be copying it: the buffer is then
 * released and the memory used as it is.
 */
static int
register_memory(struct clq_host_array *h)
{
	struct clq_context *ctx = h->ctx;
	void *data = h->data;
	cl_int err = CL_SUCCESS;
	void *mapped;

	h->pinned =
		clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR,
			       h->layout.nbytes, data, &err);
	if (err != CL_SUCCESS)
		return clq__check(ctx, err, "clCreateBuffer(USE_HOST_PTR)");
	h->map_queue = clCreateCommandQueue(ctx->cl, ctx->device->id, 0, &err);
	if (err != CL_SUCCESS)
		return clq__check(ctx, err, "clCreateCommandQueue");
	mapped = clEnqueueMapBuffer(h->map_queue, h->pinned, CL_TRUE,
				    CL_MAP_READ | CL_MAP_WRITE, 0,
				    h->layout.nbytes, 0, NULL, NULL, &err);
	if (err != CL_SUCCESS)
		return clq__check(ctx, err, "clEnqueueMapBuffer");
	if (mapped == data)
		return CLQ_SUCCESS;
	clq__log(ctx, CLQ_LOG_INFO,
		 "clq_host_array_register: the driver maps the buffer over "
		 "the memory elsewhere (a copy); the memory is used as it is, "
		 "not pinned");
	clEnqueueUnmapMemObject(h->map_queue, h->pinned, mapped, 0, NULL, NULL);
	clFinish(h->map_queue);
	clReleaseCommandQueue(h->map_queue);
	clReleaseMemObject(h->pinned);
	h->map_queue = NULL;
	h->pinned = NULL;
	return CLQ_SUCCESS;
}

int
clq_host_array_register(struct clq_context *ctx, enum clq_dtype dtype,
			size_t ndim, const size_t *shape,
			const size_t *padded_shape, void *data,
			struct clq_host_array **array_out)
{
	static const char fn[] = "clq_host_array_register";
	struct clq_host_array *h;
	int rc;

	if (!array_out)
		return clq__invalid(ctx, fn, "array_out is NULL");
	*array_out = NULL;
	if (!ctx || !data)
		return clq__invalid(ctx, fn, "ctx or data is NULL");
	h = host_array_alloc();
	if (!h)
		return CL_OUT_OF_HOST_MEMORY;
	h->ctx = clq_context_ref(ctx);
	h->strategy = CLQ__HOST_REGISTERED;
	h->data = data;
	rc = clq__layout_init(ctx, fn, dtype, ndim, shape, padded_shape,
			      &h->layout);
	if (rc == CLQ_SUCCESS &&
	    h->layout.nbytes > clq_device_get_max_alloc_size(ctx->device)) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: %zu bytes exceed the device's largest buffer "
			 "(%llu bytes, CL_DEVICE_MAX_MEM_ALLOC_SIZE), which a "
			 "registration makes over the memory",
			 fn, h->layout.nbytes,
			 (unsigned long long)clq_device_get_max_alloc_size(
				 ctx->device));
		rc = CLQ_ERROR_OUT_OF_RANGE;
	}
	if (rc == CLQ_SUCCESS)
		rc = register_memory(h);
	if (rc < 0) {
		/* Nothing mapped to undo: the map is the last step. */
		h->data = NULL;
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
	h = host_array_alloc();
	if (!h)
		return CL_OUT_OF_HOST_MEMORY;
	h->layout = layout;
	h->data = data;
	h->strategy = CLQ__HOST_WRAPPED;
	*array_out = h;
	return CLQ_SUCCESS;
}

/* The unmap, copy and map of clq__host_array_remap_around(); `remap_lock`
 * held. `waits` has room for one more entry than `n_wait`. */
static int
remap_locked(struct clq_host_array *h, struct clq_queue *q, cl_bool blocking,
	     cl_uint n_wait, cl_event *waits, cl_event *ev,
	     int (*copy)(struct clq_queue *q, void *data), void *data,
	     struct clq__failsafe_extra *extra)
{
	cl_event map_ev = NULL, unmap_ev = NULL;
	cl_int err;
	void *ptr;
	int rc;

	if (waits_for_last_map(h))
		waits[n_wait++] = h->last_map;
	rc = clq__check(
		q->ctx,
		clEnqueueUnmapMemObject(q->cl, h->pinned, h->data, n_wait,
					n_wait ? waits : NULL,
					extra->spare ? &unmap_ev : NULL),
		"clEnqueueUnmapMemObject");
	clq__failsafe_extra_keep(extra, unmap_ev);
	if (rc < 0)
		return rc;
	rc = copy(q, data);
	/* Map again even when the copy failed: the memory must come back. */
	ptr = clEnqueueMapBuffer(q->cl, h->pinned, blocking,
				 CL_MAP_READ | CL_MAP_WRITE, 0,
				 h->layout.nbytes, 0, NULL, &map_ev, &err);
	if (err != CL_SUCCESS) {
		clq__log(q->ctx, CLQ_LOG_ERROR,
			 "a host array could not be mapped again: its memory "
			 "is unusable until it is released");
		return clq__check(q->ctx, err, "clEnqueueMapBuffer");
	}
	if (ptr != h->data) {
		/* OpenCL does not promise one address for every mapping. */
		clq__log(q->ctx, CLQ_LOG_WARNING,
			 "the driver mapped a host array at a new address; "
			 "clq_host_array_data() returns the new one");
		h->data = ptr;
	}
	if (h->last_map)
		clReleaseEvent(h->last_map);
	h->last_map = map_ev;
	if (ev && rc == CLQ_SUCCESS) {
		clRetainEvent(map_ev);
		*ev = map_ev;
	}
	return rc;
}

int
clq__host_array_remap_around(struct clq_host_array *h, struct clq_queue *q,
			     cl_bool blocking, cl_uint n_wait,
			     const cl_event *list, cl_event *ev,
			     int (*copy)(struct clq_queue *q, void *data),
			     void *data)
{
	cl_event inline_buf[CLQ__WAIT_INLINE + 1];
	cl_event *waits = inline_buf;
	struct clq__failsafe_extra extra;
	int rc;

	if (n_wait + 1 > CLQ__WAIT_INLINE + 1) {
		waits = malloc((n_wait + 1) * sizeof(*waits));
		if (!waits)
			return CL_OUT_OF_HOST_MEMORY;
	}
	for (cl_uint i = 0; i < n_wait; i++)
		waits[i] = list[i];
	if ((rc = clq__failsafe_extra_begin(q, 1, &extra)) == CLQ_SUCCESS) {
		pthread_mutex_lock(&h->remap_lock);
		rc = remap_locked(h, q, blocking, n_wait, waits, ev, copy, data,
				  &extra);
		pthread_mutex_unlock(&h->remap_lock);
		clq__failsafe_extra_end(&extra);
	}
	if (waits != inline_buf)
		free(waits);
	return rc;
}

struct clq_host_array *
clq_host_array_ref(struct clq_host_array *array)
{
	if (array)
		clq__ref_get(&array->refs);
	return array;
}

/* Drops the pending transfers that have completed; `pending_lock` held. */
static void
prune_pending(struct clq_host_array *h)
{
	size_t kept = 0;

	for (size_t i = 0; i < h->n_pending; i++) {
		if (clq__cl_event_ended(h->pending[i].ev->cl))
			clq__event_drop(h->pending[i].ev);
		else
			h->pending[kept++] = h->pending[i];
	}
	h->n_pending = kept;
}

/* Makes room for one more pending transfer; `pending_lock` held. */
static int
reserve_pending(struct clq_host_array *h)
{
	struct clq__pending *grown;
	size_t cap;

	if (h->n_pending < h->cap_pending)
		return 0;
	prune_pending(h);
	if (h->n_pending < h->cap_pending)
		return 0;
	cap = 2 * h->cap_pending;
	grown = malloc(cap * sizeof(*grown));
	if (!grown)
		return -1;
	memcpy(grown, h->pending, h->n_pending * sizeof(*grown));
	if (h->pending != h->pending_inline)
		free(h->pending);
	h->pending = grown;
	h->cap_pending = cap;
	return 0;
}

/* An untracked transfer's end: drops the reference it held (track()). */
static void CL_CALLBACK
untracked_done(cl_event ev, cl_int status, void *data)
{
	(void)ev;
	(void)status;
	clq__in_cl_callback++;
	clq_host_array_unref(data);
	clq__in_cl_callback--;
}

void
clq__host_array_track(struct clq_host_array *h, struct clq_queue *q,
		      struct clq_event *ev)
{
	struct clq_event *old = NULL;
	int untracked = 0;
	size_t i;

	clq__event_hold(ev);
	pthread_mutex_lock(&h->pending_lock);
	for (i = 0; i < h->n_pending; i++)
		if (h->pending[i].queue_id == q->id)
			break;
	if (i < h->n_pending) {
		old = h->pending[i].ev;
		h->pending[i].ev = ev;
	} else if (reserve_pending(h) == 0) {
		h->pending[h->n_pending++] = (struct clq__pending){q->id, ev};
	} else {
		untracked = 1;
	}
	pthread_mutex_unlock(&h->pending_lock);
	if (untracked) {
		/* No room (out of memory): the transfer holds a reference of
		 * its own until it ends. Waiting here instead could wait
		 * forever for a command gated on a user event that this
		 * thread completes later. */
		clq__log(q->ctx, CLQ_LOG_WARNING,
			 "out of memory: a transfer holds its host array "
			 "through a completion callback");
		clq_host_array_ref(h);
		if (clSetEventCallback(ev->cl, CL_COMPLETE, untracked_done,
				       h) != CL_SUCCESS)
			clq__log(q->ctx, CLQ_LOG_WARNING,
				 "clSetEventCallback failed: the host array "
				 "stays allocated");
		old = ev;
	}
	clq__event_drop(old);
}

static void
pending_done(void *data, struct clq_event *ev, int status)
{
	struct clq_host_array *h = data;

	(void)ev;
	(void)status;
	if (atomic_fetch_sub_explicit(&h->pending_left, 1,
				      memory_order_acq_rel) == 1)
		host_array_free(h);
}

/*
 * The release's own last pending_done(), made in a driver callback (a
 * callback may drop the last reference): on clq's thread instead
 * (clq__defer()), since host_array_free() may unmap and clFinish
 * (undefined in a callback, OpenCL 1.2 section 5.9). Here where that
 * cannot be arranged (no memory).
 */
static void
release_done(struct clq_host_array *h)
{
	if (clq__in_cl_callback && clq__defer(pending_done, h) == CLQ_SUCCESS)
		return;
	pending_done(h, NULL, CL_COMPLETE);
}

/*
 * The last reference is gone: free now if every pending transfer has
 * ended, else when the last of them does. The count starts one high so
 * that no hook frees the array while hooks are still being set. The hooks
 * (clq__on_completion()) run on clq's own thread, where freeing may
 * unmap and clFinish (not allowed in a driver's callback, OpenCL 1.2
 * section 5.9), and they come for failed transfers too, which PoCL 3.1
 * never calls back; where a hook cannot be set, the transfer is waited
 * for here.
 */
static void
host_array_release(struct clq_host_array *h)
{
	prune_pending(h);
	atomic_store(&h->pending_left, (unsigned)h->n_pending + 1);
	for (size_t i = 0; i < h->n_pending; i++) {
		struct clq_event *ev = h->pending[i].ev;

		if (clq__on_completion(ev, pending_done, h) < 0) {
			clWaitForEvents(1, &ev->cl);
			pending_done(h, ev, CL_COMPLETE);
		}
	}
	release_done(h);
}

void
clq_host_array_unref(struct clq_host_array *array)
{
	if (!array || !clq__ref_put(&array->refs))
		return;
	host_array_release(array);
}

void *
clq_host_array_data(struct clq_host_array *array)
{
	return array ? array->data : NULL;
}

int
clq_host_array_is_pinned(const struct clq_host_array *array)
{
	if (!array || !is_mapped(array))
		return 0;
	/* Registered memory: where the driver pins mapped buffers (those
	 * whose own pinned memory is a mapped buffer, see array.h). */
	return array->strategy != CLQ__HOST_REGISTERED ||
	       vendor_strategy(array->ctx->device) != CLQ__HOST_ALIGNED;
}

int
clq_host_array_is_registered(const struct clq_host_array *array)
{
	return array && array->strategy == CLQ__HOST_REGISTERED;
}

cl_mem
clq_host_array_get_cl(const struct clq_host_array *array)
{
	return array && is_mapped(array) ? array->pinned : NULL;
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
