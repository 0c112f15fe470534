/* SPDX-License-Identifier: BSD-3-Clause */
#include <stddef.h>
#include <stdio.h>
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
	clq__ref_init(&a->refs);
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
	a->root = mem;
	a->root_offset = 0;
}

/* Joins the record of the array's root buffer (ordering), then hands the
 * array over; on failure releases it. */
static int
array_publish(struct clq_device_array *a, struct clq_device_array **array_out)
{
	int rc = clq__order_array_add(a);

	if (rc < 0) {
		clq_device_array_unref(a);
		return rc;
	}
	*array_out = a;
	return CLQ_SUCCESS;
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
	return array_publish(a, array_out);
}

/* Notes the host-access flags of a buffer of other code (section 5.2.1
 * of OpenCL 1.2: CL_MEM_HOST_*). A failed query notes none. */
static void
note_host_access(struct clq_device_array *a)
{
	cl_mem_flags flags = 0;

	if (clGetMemObjectInfo(a->mem, CL_MEM_FLAGS, sizeof(flags), &flags,
			       NULL) == CL_SUCCESS)
		a->host_access =
			flags & (CL_MEM_HOST_NO_ACCESS | CL_MEM_HOST_READ_ONLY |
				 CL_MEM_HOST_WRITE_ONLY);
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
	note_host_access(a);
	/* Rectangular copies go to the buffer itself (see enqueue_rect()). */
	clRetainMemObject(buffer);
	a->root = buffer;
	a->root_offset = offset;
	return array_publish(a, array_out);
}

/* A buffer's OpenCL properties that clq_device_array_wrap() checks. */
struct mem_info {
	cl_context ctx;
	cl_mem_object_type type;
	size_t size;
	cl_mem parent; /* a sub-buffer's buffer, or NULL */
	size_t offset; /* a sub-buffer's offset in it */
};

static int
read_mem_info(struct clq_context *ctx, cl_mem mem, struct mem_info *m)
{
	static const struct {
		cl_mem_info param;
		const char *what;
		size_t offset, size;
	} props[] = {
		{CL_MEM_CONTEXT, "clGetMemObjectInfo(CL_MEM_CONTEXT)",
		 offsetof(struct mem_info, ctx), sizeof(cl_context)},
		{CL_MEM_TYPE, "clGetMemObjectInfo(CL_MEM_TYPE)",
		 offsetof(struct mem_info, type), sizeof(cl_mem_object_type)},
		{CL_MEM_SIZE, "clGetMemObjectInfo(CL_MEM_SIZE)",
		 offsetof(struct mem_info, size), sizeof(size_t)},
		{CL_MEM_ASSOCIATED_MEMOBJECT,
		 "clGetMemObjectInfo(CL_MEM_ASSOCIATED_MEMOBJECT)",
		 offsetof(struct mem_info, parent), sizeof(cl_mem)},
		{CL_MEM_OFFSET, "clGetMemObjectInfo(CL_MEM_OFFSET)",
		 offsetof(struct mem_info, offset), sizeof(size_t)},
	};
	int rc = CLQ_SUCCESS;

	memset(m, 0, sizeof(*m));
	for (size_t i = 0;
	     rc == CLQ_SUCCESS && i < sizeof(props) / sizeof(*props); i++)
		rc = clq__check(
			ctx,
			clGetMemObjectInfo(mem, props[i].param, props[i].size,
					   (char *)m + props[i].offset, NULL),
			props[i].what);
	return rc;
}

int
clq_device_array_wrap(struct clq_context *ctx, cl_mem buffer,
		      enum clq_dtype dtype, size_t ndim, const size_t *shape,
		      const size_t *padded_shape,
		      struct clq_device_array **array_out)
{
	static const char fn[] = "clq_device_array_wrap";
	struct clq_device_array *a = NULL;
	struct mem_info m;
	int rc;

	if (!array_out)
		return clq__invalid(ctx, fn, "array_out is NULL");
	*array_out = NULL;
	if (!ctx || !buffer)
		return clq__invalid(ctx, fn, "ctx or the cl_mem is NULL");
	if ((rc = read_mem_info(ctx, buffer, &m)) < 0)
		return rc;
	if (m.ctx != ctx->cl) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the buffer belongs to another OpenCL context "
			 "than the clq context's",
			 fn);
		return CLQ_ERROR_CONTEXT_MISMATCH;
	}
	if (m.type != CL_MEM_OBJECT_BUFFER) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the memory object is not a buffer (an image or "
			 "a pipe, type 0x%x); device arrays are buffers",
			 fn, (unsigned)m.type);
		return CLQ_ERROR_UNSUPPORTED;
	}
	rc = array_new(ctx, fn, dtype, ndim, shape, padded_shape, &a);
	if (rc < 0)
		return rc;
	if (a->layout.nbytes > m.size) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the array takes %zu bytes (padding included); "
			 "the buffer has %zu",
			 fn, a->layout.nbytes, m.size);
		free(a);
		return CLQ_ERROR_OUT_OF_RANGE;
	}
	/* Retained, never owned: its creator keeps its own reference. */
	clRetainMemObject(buffer);
	array_attach(a, ctx, buffer);
	note_host_access(a);
	/* A sub-buffer is an alias of its buffer: ordering tracks that one,
	 * and rectangular copies go to it (see enqueue_rect()). */
	if (m.parent) {
		clRetainMemObject(m.parent);
		a->root = m.parent;
		a->root_offset = m.offset;
	}
	return array_publish(a, array_out);
}

struct clq_device_array *
clq_device_array_ref(struct clq_device_array *array)
{
	if (array)
		clq__ref_get(&array->refs);
	return array;
}

void
clq_device_array_unref(struct clq_device_array *array)
{
	if (!array || !clq__ref_put(&array->refs))
		return;
	clq__order_array_remove(array);
	clReleaseMemObject(array->mem);
	if (array->root != array->mem)
		clReleaseMemObject(array->root);
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

/* Room for "[" and CLQ_MAX_DIMS lengths of up to 20 digits, ", " apart. */
#define SHAPE_TEXT 128

/* Writes a layout's shape as "[4, 5]" into `buf` (SHAPE_TEXT bytes). */
static const char *
shape_text(const struct clq__layout *l, char *buf)
{
	size_t len = 0;

	buf[len++] = '[';
	for (size_t i = 0; i < l->ndim; i++)
		len += (size_t)snprintf(buf + len, SHAPE_TEXT - len, "%s%zu",
					i ? ", " : "", l->shape[i]);
	snprintf(buf + len, SHAPE_TEXT - len, "]");
	return buf;
}

/*
 * Logs that two arrays differ in shape, naming both ("device [1024], host
 * [1000]"), and returns CLQ_ERROR_SHAPE_MISMATCH.
 */
int
clq__shape_mismatch(struct clq_context *ctx, const char *function,
		    const char *a_name, const struct clq__layout *a,
		    const char *b_name, const struct clq__layout *b)
{
	char a_text[SHAPE_TEXT], b_text[SHAPE_TEXT];

	clq__log(ctx, CLQ_LOG_ERROR, "%s: the shapes differ: %s %s, %s %s",
		 function, a_name, shape_text(a, a_text), b_name,
		 shape_text(b, b_text));
	return CLQ_ERROR_SHAPE_MISMATCH;
}

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
		    0)
		return clq__shape_mismatch(ctx, function, "device", &a->layout,
					   "host", &h->layout);
	return CLQ_SUCCESS;
}

static void
whole_box(const struct clq__layout *l, struct clq__box *b)
{
	for (size_t i = 0; i < CLQ_MAX_DIMS; i++) {
		b->start[i] = 0;
		b->count[i] = l->shape[i];
	}
}

/* Bytes of data in a box of an array with layout `l`. */
static uint64_t
box_bytes(const struct clq__layout *l, const struct clq__box *b)
{
	uint64_t bytes = l->itemsize;

	for (size_t i = 0; i < l->ndim; i++)
		bytes *= b->count[i];
	return bytes;
}

/* Whether the box is the whole of an array with layout `l`. */
static int
is_whole(const struct clq__layout *l, const struct clq__box *b)
{
	for (size_t i = 0; i < l->ndim; i++) {
		if (b->start[i] != 0 || b->count[i] != l->shape[i])
			return 0;
	}
	return 1;
}

/* Pitches and origin of one side of a rectangular copy, OpenCL's way. */
struct rect_side {
	size_t origin[3];
	size_t row_pitch;
	size_t slice_pitch;
};

/*
 * Axes are numbered from the last: x (bytes), rows, slices. A fourth axis
 * is folded into the slice origin: index `outer` of it starts
 * `outer · padded[1]` slices further on.
 */
static void
rect_side_of(const struct clq__layout *l, const struct clq__box *b,
	     size_t outer, struct rect_side *s)
{
	size_t n = l->ndim;
	size_t esize = l->itemsize;

	s->row_pitch = l->padded[n - 1] * esize;
	s->slice_pitch =
		n >= 2 ? l->padded[n - 2] * s->row_pitch : s->row_pitch;
	s->origin[0] = b->start[n - 1] * esize;
	s->origin[1] = n >= 2 ? b->start[n - 2] : 0;
	s->origin[2] = n >= 3 ? b->start[n - 3] : 0;
	if (n == 4)
		s->origin[2] += (b->start[0] + outer) * l->padded[1];
}

/*
 * Moves a side `offset` bytes further into its buffer. OpenCL adds up
 * origin[2] slices, origin[1] rows and origin[0] bytes, so the offset is
 * split the same way (slice pitches are multiples of row pitches).
 */
static void
rect_side_shift(struct rect_side *s, size_t offset)
{
	s->origin[2] += offset / s->slice_pitch;
	offset %= s->slice_pitch;
	s->origin[1] += offset / s->row_pitch;
	s->origin[0] += offset % s->row_pitch;
}

static void
rect_region_of(const struct clq__layout *l, const struct clq__box *b,
	       size_t region[3])
{
	size_t n = l->ndim;

	region[0] = b->count[n - 1] * l->itemsize;
	region[1] = n >= 2 ? b->count[n - 2] : 1;
	region[2] = n >= 3 ? b->count[n - 3] : 1;
}

enum direction { TO_DEVICE, TO_HOST, ON_DEVICE };

/* Whether the buffer lets the host write (TO_DEVICE) or read it. */
static int
check_host_access(const char *function, const struct clq_device_array *a,
		  enum direction dir)
{
	cl_mem_flags refused = CL_MEM_HOST_NO_ACCESS |
			       (dir == TO_DEVICE ? CL_MEM_HOST_READ_ONLY
						 : CL_MEM_HOST_WRITE_ONLY);

	if (!(a->host_access & refused))
		return CLQ_SUCCESS;
	clq__log(a->ctx, CLQ_LOG_ERROR,
		 "%s: the buffer was made with %s, so the host may not %s it "
		 "(OpenCL 1.2 section 5.2.1); copy through a device array of "
		 "clq's instead",
		 function,
		 a->host_access & CL_MEM_HOST_NO_ACCESS
			 ? "CL_MEM_HOST_NO_ACCESS"
		 : dir == TO_DEVICE ? "CL_MEM_HOST_READ_ONLY"
				    : "CL_MEM_HOST_WRITE_ONLY",
		 dir == TO_DEVICE ? "write" : "read");
	return CLQ_ERROR_UNSUPPORTED;
}

int
clq__device_array_check_host_access(const char *function,
				    const struct clq_device_array *a,
				    int host_writes)
{
	return check_host_access(function, a,
				 host_writes ? TO_DEVICE : TO_HOST);
}

/*
 * One side of a copy: a device buffer or host memory, with its layout. A
 * device buffer's rectangular copies use `root` at `root_offset` (see
 * enqueue_rect()).
 */
struct side {
	const struct clq__layout *layout;
	cl_mem mem;
	cl_mem root;
	size_t root_offset;
	void *host;
	const struct clq__box *box;
};

/* One plain command for a flat copy (see is_flat()); a clq status. */
static inline int
enqueue_flat(struct clq_queue *q, enum direction dir, const struct side *dev,
	     const struct side *other, cl_bool blocking, cl_uint n_wait,
	     const cl_event *list, cl_event *ev)
{
	size_t nbytes = dev->layout->nbytes;

	switch (dir) {
	case TO_DEVICE:
		return clq__check(q->ctx,
				  clEnqueueWriteBuffer(
					  q->cl, dev->mem, blocking, 0, nbytes,
					  other->host, n_wait, list, ev),
				  "clEnqueueWriteBuffer");
	case TO_HOST:
		return clq__check(q->ctx,
				  clEnqueueReadBuffer(q->cl, dev->mem, blocking,
						      0, nbytes, other->host,
						      n_wait, list, ev),
				  "clEnqueueReadBuffer");
	default:
		return clq__check(q->ctx,
				  clEnqueueCopyBuffer(q->cl, other->mem,
						      dev->mem, 0, 0, nbytes,
						      n_wait, list, ev),
				  "clEnqueueCopyBuffer");
	}
}

static cl_int
enqueue_rect(cl_command_queue q, enum direction dir, const struct side *dev,
	     const struct side *other, size_t outer, cl_bool blocking,
	     cl_uint n_wait, const cl_event *list, cl_event *ev)
{
	struct rect_side d, o;
	size_t region[3];

	rect_side_of(dev->layout, dev->box, outer, &d);
	rect_side_of(other->layout, other->box, outer, &o);
	rect_region_of(dev->layout, dev->box, region);
	switch (dir) {
	case TO_DEVICE:
		return clEnqueueWriteBufferRect(
			q, dev->mem, blocking, d.origin, o.origin, region,
			d.row_pitch, d.slice_pitch, o.row_pitch, o.slice_pitch,
			other->host, n_wait, list, ev);
	case TO_HOST:
		return clEnqueueReadBufferRect(
			q, dev->mem, blocking, d.origin, o.origin, region,
			d.row_pitch, d.slice_pitch, o.row_pitch, o.slice_pitch,
			other->host, n_wait, list, ev);
	default:
		/*
		 * PoCL 3.1 crashes (SIGSEGV inside clEnqueueCopyBufferRect)
		 * in rectangular copies that touch a sub-buffer, which is
		 * what an alias is; its rectangular reads and writes and flat
		 * copies of sub-buffers work. The same copy on the buffer the
		 * alias was made in, at the alias's offset, is equivalent on
		 * every driver, so it is always made so (a plain array is its
		 * own root, at offset 0).
		 */
		rect_side_shift(&d, dev->root_offset);
		rect_side_shift(&o, other->root_offset);
		return clEnqueueCopyBufferRect(
			q, other->root, dev->root, o.origin, d.origin, region,
			o.row_pitch, o.slice_pitch, d.row_pitch, d.slice_pitch,
			n_wait, list, ev);
	}
}

static const char *
rect_command_name(enum direction dir)
{
	static const char *const names[3] = {"clEnqueueWriteBufferRect",
					     "clEnqueueReadBufferRect",
					     "clEnqueueCopyBufferRect"};

	return names[dir];
}

/*
 * Whether a device copy between sides `a` and `b` goes row by row: both lie
 * in one buffer (an alias and the buffer it was made in, or two aliases of
 * one buffer) with different pitches. Routed to that buffer (see
 * enqueue_rect()), a rectangular copy would have it on both sides, where
 * OpenCL demands equal pitches (CL_INVALID_VALUE).
 */
static int
needs_rows(const struct side *a, const struct side *b)
{
	const struct clq__layout *la = a->layout, *lb = b->layout;
	size_t n = la->ndim;

	return a->root == b->root &&
	       (la->padded[n - 1] != lb->padded[n - 1] ||
		(n >= 2 && la->padded[n - 2] != lb->padded[n - 2]));
}

/* The bytes of its root buffer that a side's box spans: [*first, *end). */
static void
box_span(const struct side *s, size_t *first, size_t *end)
{
	const struct clq__layout *l = s->layout;

	*first = s->root_offset;
	*end = s->root_offset + l->itemsize;
	for (size_t i = 0; i < l->ndim; i++) {
		*first += s->box->start[i] * l->strides[i];
		*end += (s->box->start[i] + s->box->count[i] - 1) *
			l->strides[i];
	}
}

/* Floored remainder: in [0, m) for m > 0, whatever the sign of `a`. */
static long long
floor_mod(long long a, long long m)
{
	long long r = a % m;

	return r < 0 ? r + m : r;
}

/*
 * Whether two rectangular blocks of one buffer, of one region and the
 * same pitches, share a byte. Each block is `x` bytes in each of `y` rows
 * `row` bytes apart, in each of `z` slices `height` rows apart (x <= row,
 * y <= height); the second starts `d` bytes after the first (before, when
 * negative). They meet iff d = (dz * height + dy) * row + dx for some
 * |dz| < z, |dy| < y, |dx| < x: since x <= row and y <= height, only two
 * values of dx, and for each two of dy, can fit.
 */
static int
blocks_meet(long long d, const size_t region[3], long long row,
	    long long height)
{
	long long x = (long long)region[0], y = (long long)region[1],
		  z = (long long)region[2];
	long long r = floor_mod(d, row);

	for (int i = 0; i < 2; i++) {
		long long dx = i ? r - row : r, e, h;

		if (dx <= -x || dx >= x)
			continue;
		e = (d - dx) / row; /* exact */
		h = floor_mod(e, height);
		for (int j = 0; j < 2; j++) {
			long long dy = j ? h - height : h, dz;

			if (dy <= -y || dy >= y)
				continue;
			dz = (e - dy) / height; /* exact */
			if (dz > -z && dz < z)
				return 1;
		}
	}
	return 0;
}

/*
 * Whether the boxes of two sides in one buffer with the same row and slice
 * pitches (not needs_rows()) share a byte: each is one rectangular block
 * per index of a fourth axis (see enqueue_copy()), and every pair whose
 * byte spans meet is tested, a few per block since a block's span is no
 * longer than the fourth axis's stride.
 */
static int
rect_blocks_overlap(const struct side *a, const struct side *b)
{
	const struct clq__layout *la = a->layout, *lb = b->layout;
	size_t n = la->ndim, outer = n == 4 ? a->box->count[0] : 1;
	size_t a_step = n == 4 ? la->strides[0] : 0;
	size_t b_step = n == 4 ? lb->strides[0] : 0;
	size_t region[3], a_first, b_first, end, span;
	long long row = (long long)(la->padded[n - 1] * la->itemsize);
	long long height = n >= 2 ? (long long)la->padded[n - 2] : 1;

	rect_region_of(la, a->box, region);
	span = ((region[2] - 1) * (size_t)height + region[1] - 1) *
		       (size_t)row +
	       region[0];
	box_span(a, &a_first, &end);
	box_span(b, &b_first, &end);
	for (size_t i = 0; i < outer; i++) {
		size_t at = a_first + i * a_step, j;

		/* the first block of `b` that ends after this one starts */
		if (b_first + span > at)
			j = 0;
		else if (b_step)
			j = (at - b_first - span) / b_step + 1;
		else
			continue;
		for (; j < outer && b_first + j * b_step < at + span; j++) {
			if (blocks_meet((long long)(b_first + j * b_step) -
						(long long)at,
					region, row, height))
				return 1;
		}
	}
	return 0;
}

/*
 * A device copy (see needs_rows()) as one flat copy per row of the boxes,
 * on their common root buffer; their spans do not overlap (see
 * check_overlap()). Only the first command waits for `list`; the last
 * gives `*ev`.
 */
static int
enqueue_rows(struct clq_queue *q, const struct side *dst,
	     const struct side *src, cl_uint n_wait, const cl_event *list,
	     cl_event *ev)
{
	const struct clq__box *db = dst->box, *sb = src->box;
	size_t n = dst->layout->ndim, rows = 1, idx[CLQ_MAX_DIMS] = {0};
	size_t row_bytes = db->count[n - 1] * dst->layout->itemsize;
	cl_int err = CL_SUCCESS;
	struct clq__failsafe_extra extra;
	int rc;

	for (size_t i = 0; i + 1 < n; i++)
		rows *= db->count[i];
	if ((rc = clq__failsafe_extra_begin(q, rows - 1, &extra)) < 0)
		return rc;
	for (size_t r = 0; r < rows && err == CL_SUCCESS; r++) {
		size_t d = dst->root_offset, s = src->root_offset;
		cl_event kept = NULL;

		for (size_t i = 0; i < n; i++) {
			d += (db->start[i] + idx[i]) * dst->layout->strides[i];
			s += (sb->start[i] + idx[i]) * src->layout->strides[i];
		}
		err = clEnqueueCopyBuffer(q->cl, src->root, dst->root, s, d,
					  row_bytes, r == 0 ? n_wait : 0,
					  r == 0 ? list : NULL,
					  r + 1 == rows ? ev
					  : extra.spare ? &kept
							: NULL);
		clq__failsafe_extra_keep(&extra, kept);
		for (size_t i = n - 1; i-- > 0;) {
			if (++idx[i] < db->count[i])
				break;
			idx[i] = 0;
		}
	}
	clq__failsafe_extra_end(&extra);
	return clq__check(q->ctx, err, "clEnqueueCopyBuffer");
}

/*
 * Whether a side's box is one run of bytes (a range of its first axis
 * with more than one index, every later axis whole and unpadded), and
 * where the run starts, in bytes from the array's start.
 */
static int
box_contiguous(const struct side *s, size_t *offset)
{
	const struct clq__layout *l = s->layout;
	const struct clq__box *b = s->box;
	size_t a = 0;

	while (a + 1 < l->ndim && b->count[a] == 1)
		a++;
	for (size_t k = a + 1; k < l->ndim; k++)
		if (b->count[k] != l->padded[k])
			return 0;
	*offset = 0;
	for (size_t k = 0; k < l->ndim; k++)
		*offset += b->start[k] * l->strides[k];
	return 1;
}

/*
 * A transfer between the host and the device whose boxes are one run of
 * bytes on both sides, as one plain command (a block of whole rows, a
 * range of a 1-D array: the pieces of a staged copy): drivers move plain
 * transfers at least as fast as rectangular ones. A clq status.
 */
static int
enqueue_run(struct clq_queue *q, enum direction dir, const struct side *dev,
	    size_t dev_offset, const struct side *other, size_t host_offset,
	    cl_bool blocking, cl_uint n_wait, const cl_event *list,
	    cl_event *ev)
{
	size_t bytes = (size_t)box_bytes(dev->layout, dev->box);
	char *host = (char *)other->host + host_offset;

	if (dir == TO_DEVICE)
		return clq__check(q->ctx,
				  clEnqueueWriteBuffer(
					  q->cl, dev->mem, blocking, dev_offset,
					  bytes, host, n_wait, list, ev),
				  "clEnqueueWriteBuffer");
	return clq__check(q->ctx,
			  clEnqueueReadBuffer(q->cl, dev->mem, blocking,
					      dev_offset, bytes, host, n_wait,
					      list, ev),
			  "clEnqueueReadBuffer");
}

/*
 * Enqueues a copy between `dev` (the device array: destination of
 * TO_DEVICE and ON_DEVICE, source of TO_HOST) and `other`. One command
 * when `flat` (both are whole arrays of one layout, see is_flat()) or
 * when a host transfer's boxes are one run of bytes each (enqueue_run());
 * otherwise rectangular commands, one per index of a fourth axis, or one
 * per row (see needs_rows()). Only the first waits for `list`; only the
 * last may block and gives `*ev` (an in-order queue runs them in turn).
 */
static int
enqueue_copy(struct clq_queue *q, enum direction dir, const struct side *dev,
	     const struct side *other, int flat, cl_bool blocking,
	     cl_uint n_wait, const cl_event *list, cl_event *ev)
{
	struct clq__failsafe_extra extra;
	size_t outer, dev_offset, host_offset;
	cl_int err = CL_SUCCESS;
	int rc;

	if (flat)
		return enqueue_flat(q, dir, dev, other, blocking, n_wait, list,
				    ev);
	if (dir != ON_DEVICE && box_contiguous(dev, &dev_offset) &&
	    box_contiguous(other, &host_offset))
		return enqueue_run(q, dir, dev, dev_offset, other, host_offset,
				   blocking, n_wait, list, ev);
	if (dir == ON_DEVICE && needs_rows(dev, other))
		return enqueue_rows(q, dev, other, n_wait, list, ev);
	outer = dev->layout->ndim == 4 ? dev->box->count[0] : 1;
	if ((rc = clq__failsafe_extra_begin(q, outer - 1, &extra)) < 0)
		return rc;
	for (size_t i = 0; i < outer && err == CL_SUCCESS; i++) {
		int first = i == 0, last = i + 1 == outer;
		cl_event kept = NULL;

		err = enqueue_rect(q->cl, dir, dev, other, i,
				   last ? blocking : CL_FALSE,
				   first ? n_wait : 0, first ? list : NULL,
				   last		 ? ev
				   : extra.spare ? &kept
						 : NULL);
		clq__failsafe_extra_keep(&extra, kept);
	}
	clq__failsafe_extra_end(&extra);
	return clq__check(q->ctx, err, rect_command_name(dir));
}

/* A copy between a device array and a host array or another device array. */
struct copy {
	enum direction dir;
	cl_bool blocking;
	int flat; /* one plain command (see is_flat()) */
	struct side dev;
	struct side other;
	struct clq_host_array *host; /* NULL between device arrays; held until
				     * an async copy completes */
	const char *function;	     /* the caller, for messages */
	/* Ordering: the device array, and the source of a device copy. */
	struct clq__touch touches[2];
	size_t n_touches;
};

/*
 * Whether a copy between these sides is one plain (not rectangular)
 * command, which moves every byte of both arrays, padding included: only
 * when each box is the whole of its own array and the padded shapes agree
 * (the boxes' counts being equal, so do the shapes). A box is whole
 * against its own array's shape, not the other's: a block of 3 elements
 * at the start of a 4-element array is not that array.
 */
static int
is_flat(const struct side *a, const struct side *b)
{
	const struct clq__layout *la = a->layout, *lb = b->layout;

	return memcmp(la->padded, lb->padded, sizeof(la->padded)) == 0 &&
	       is_whole(la, a->box) && is_whole(lb, b->box);
}

/*
 * The device copy between a remapped host array's buffer and the device
 * array, while the host memory is unmapped: the buffer takes the host
 * side's place, and a read swaps source and destination.
 */
static int
copy_unmapped(struct clq_queue *q, void *data)
{
	struct copy *c = data;
	struct side pinned = c->other;
	cl_event kept = NULL;
	struct clq__failsafe_extra extra;
	int rc;

	pinned.mem = pinned.root = c->host->pinned;
	pinned.root_offset = 0;
	pinned.host = NULL;
	if ((rc = clq__failsafe_extra_begin(q, 1, &extra)) < 0)
		return rc;
	if (c->dir == TO_DEVICE)
		rc = enqueue_copy(q, ON_DEVICE, &c->dev, &pinned, c->flat,
				  CL_FALSE, 0, NULL,
				  extra.spare ? &kept : NULL);
	else
		rc = enqueue_copy(q, ON_DEVICE, &pinned, &c->dev, c->flat,
				  CL_FALSE, 0, NULL,
				  extra.spare ? &kept : NULL);
	clq__failsafe_extra_keep(&extra, kept);
	clq__failsafe_extra_end(&extra);
	return rc;
}

/*
 * Refuses a device copy whose blocks share a byte of one buffer, with
 * OpenCL's CL_MEM_COPY_OVERLAP, before anything is enqueued (after the
 * wait list is checked, as a driver would). A driver checks one command
 * at a time, but a 4-D copy is one command per index of its first axis,
 * any of which may overlap another (or be refused after the ones before it
 * ran), and a copy row by row has no command that sees both blocks.
 * Blocks with different pitches (row by row) are refused when their byte
 * spans meet; a flat copy moves whole arrays, padding included.
 */
static int
check_overlap(struct clq_context *ctx, const struct copy *c)
{
	const struct side *d = &c->dev, *s = &c->other;
	size_t d_first, d_end, s_first, s_end;
	int rows = 0, overlap;

	if (d->root != s->root)
		return CLQ_SUCCESS;
	box_span(d, &d_first, &d_end);
	box_span(s, &s_first, &s_end);
	if (c->flat) {
		d_first = d->root_offset;
		d_end = d_first + d->layout->nbytes;
		s_first = s->root_offset;
		s_end = s_first + s->layout->nbytes;
		overlap = d_first < s_end && s_first < d_end;
	} else if ((rows = needs_rows(d, s))) {
		overlap = d_first < s_end && s_first < d_end;
	} else {
		overlap = rect_blocks_overlap(d, s);
	}
	if (!overlap)
		return CLQ_SUCCESS;
	clq__log(ctx, CLQ_LOG_ERROR,
		 "%s: the blocks lie in one buffer%s and overlap: bytes "
		 "[%zu, %zu) and [%zu, %zu) of it",
		 c->function, rows ? " with different pitches" : "", d_first,
		 d_end, s_first, s_end);
	return CL_MEM_COPY_OVERLAP;
}

static inline int
copy_enqueue_any(struct clq_queue *q, struct copy *c, cl_uint n_wait,
		 const cl_event *list, cl_event *ev)
{
	if (c->host && c->host->strategy == CLQ__HOST_REMAPPED)
		return clq__host_array_remap_around(c->host, q, c->blocking,
						    n_wait, list, ev,
						    copy_unmapped, c);
	if (c->flat) /* the common case, one call shorter */
		return enqueue_flat(q, c->dir, &c->dev, &c->other, c->blocking,
				    n_wait, list, ev);
	return enqueue_copy(q, c->dir, &c->dev, &c->other, c->flat, c->blocking,
			    n_wait, list, ev);
}

/* A blocking copy is enqueued without blocking; clq__enqueue() waits. */
static int
copy_enqueue(struct clq_queue *q, cl_uint n_wait, const cl_event *list,
	     cl_event *ev, void *data)
{
	struct copy *c = data;
	cl_bool blocking = c->blocking;
	int rc;

	if (c->dir == ON_DEVICE && (rc = check_overlap(q->ctx, c)) < 0)
		return rc;
	c->blocking = CL_FALSE;
	rc = copy_enqueue_any(q, c, n_wait, list, ev);
	c->blocking = blocking;
	return rc;
}

static void
copy_enqueued(struct clq_queue *q, struct clq_event *ev, void *data)
{
	clq__host_array_track(((struct copy *)data)->host, q, ev);
}

/*
 * Enqueues `c`, which moves `bytes` bytes of data. A blocking copy whose
 * command failed gives CLQ_ERROR_COMMAND_FAILED (see clq__enqueue()).
 */
static int
run_copy(const char *function, struct clq_queue *q, struct copy *c,
	 uint64_t bytes, struct clq_event *const *wait, size_t n_wait,
	 struct clq_event **event_out)
{
	static const char *const labels[] = {[TO_DEVICE] = "write",
					     [TO_HOST] = "read",
					     [ON_DEVICE] = "copy"};
	struct clq__command command = {.enqueue = copy_enqueue,
				       .data = c,
				       .label = labels[c->dir],
				       .bytes = bytes,
				       .touches = c->touches,
				       .n_touches = c->n_touches,
				       .blocking = c->blocking};
	int rc;

	/* Wrapped memory is the caller's to keep (clq_host_array_wrap()):
	 * nothing of the array is used after the enqueue. */
	if (c->host && !c->blocking && c->host->strategy != CLQ__HOST_WRAPPED)
		command.enqueued = copy_enqueued;
	rc = clq__enqueue(q, function, &command, wait, n_wait, event_out);
	/* Some drivers report a failed wait list entry from the call. */
	if (c->blocking && rc == CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
		return CLQ_ERROR_COMMAND_FAILED;
	return rc;
}

/* The ordering touches of a copy between device array `a` and the host. */
static void
touch_host_copy(struct copy *c, struct clq_device_array *a)
{
	c->touches[0].array = a;
	c->touches[0].mode =
		c->dir == TO_DEVICE ? CLQ__TOUCH_WRITE : CLQ__TOUCH_READ;
	c->n_touches = 1;
}

static void
host_side(struct clq_host_array *h, const struct clq__box *b, struct side *s)
{
	s->layout = &h->layout;
	s->mem = s->root = NULL;
	s->root_offset = 0;
	s->host = h->data;
	s->box = b;
}

static void
device_side(struct clq_device_array *a, const struct clq__box *b,
	    struct side *s)
{
	s->layout = &a->layout;
	s->mem = a->mem;
	s->root = a->root;
	s->root_offset = a->root_offset;
	s->host = NULL;
	s->box = b;
}

static int
transfer(const char *function, struct clq_device_array *a, struct clq_queue *q,
	 struct clq_host_array *h, enum direction dir, int async,
	 struct clq_event *const *wait, size_t n_wait,
	 struct clq_event **event_out)
{
	struct clq__box whole;
	struct copy c;
	int rc;

	if (event_out)
		*event_out = NULL;
	rc = check_transfer(function, a, q, h);
	if (rc == CLQ_SUCCESS)
		rc = check_host_access(function, a, dir);
	if (rc < 0)
		return rc;
	c.dir = dir;
	c.blocking = !async;
	c.function = function;
	touch_host_copy(&c, a);
	/* Whole arrays of one shape: one command if the padding agrees; the
	 * boxes are needed only for rectangular copies. */
	c.flat = (a->layout.packed && h->layout.packed) ||
		 memcmp(a->layout.padded, h->layout.padded,
			sizeof(a->layout.padded)) == 0;
	if (!c.flat)
		whole_box(&a->layout, &whole);
	device_side(a, &whole, &c.dev);
	host_side(h, &whole, &c.other);
	c.host = h;
	return run_copy(function, q, &c, a->layout.data_bytes, wait, n_wait,
			event_out);
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

/* Regions, device copies and fills. */

int
clq__make_box(struct clq_context *ctx, const char *function,
	      const struct clq__layout *l, const size_t *start,
	      const size_t *count, const char *which, struct clq__box *b)
{
	if (!start || !count)
		return clq__invalid(ctx, function, "a start or count is NULL");
	whole_box(l, b);
	for (size_t i = 0; i < l->ndim; i++) {
		if (count[i] == 0) {
			clq__log(ctx, CLQ_LOG_ERROR, "%s: count[%zu] is zero",
				 function, i);
			return CLQ_ERROR_INVALID_ARGUMENT;
		}
		if (start[i] > l->shape[i] ||
		    count[i] > l->shape[i] - start[i]) {
			clq__log(ctx, CLQ_LOG_ERROR,
				 "%s: %s axis %zu: elements %zu + %zu exceed "
				 "its length %zu",
				 function, which, i, start[i], count[i],
				 l->shape[i]);
			return CLQ_ERROR_OUT_OF_RANGE;
		}
		b->start[i] = start[i];
		b->count[i] = count[i];
	}
	return CLQ_SUCCESS;
}

/*
 * Dtype, axes and context checks shared by the two-array operations;
 * `a_name` and `b_name` name the arrays in messages.
 */
static int
check_pair(const char *function, struct clq_context *ctx,
	   struct clq_context *other_ctx, struct clq_queue *q,
	   const char *a_name, const struct clq__layout *a, const char *b_name,
	   const struct clq__layout *b)
{
	if (q->ctx != ctx || (other_ctx && other_ctx != ctx)) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the arrays and the queue belong to different "
			 "contexts",
			 function);
		return CLQ_ERROR_CONTEXT_MISMATCH;
	}
	if (a->dtype != b->dtype) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the dtypes differ: %s %s, %s %s", function,
			 a_name, clq_dtype_name(a->dtype), b_name,
			 clq_dtype_name(b->dtype));
		return CLQ_ERROR_TYPE_MISMATCH;
	}
	if (a->ndim != b->ndim)
		return clq__shape_mismatch(ctx, function, a_name, a, b_name, b);
	return CLQ_SUCCESS;
}

static int
host_region(const char *function, struct clq_device_array *a,
	    struct clq_queue *q, struct clq_host_array *h, enum direction dir,
	    const size_t *array_start, const size_t *host_start,
	    const size_t *count, struct clq_event *const *wait, size_t n_wait,
	    struct clq_event **event_out)
{
	struct clq__box dev_box, host_box;
	struct copy c = {.dir = dir,
			 .host = h,
			 .blocking = CL_FALSE,
			 .function = function};
	int rc;

	if (event_out)
		*event_out = NULL;
	if (!a || !q || !h)
		return clq__invalid(a ? a->ctx : NULL, function,
				    "array, queue or host array is NULL");
	if ((rc = check_pair(function, a->ctx, h->ctx, q, "device", &a->layout,
			     "host", &h->layout)) < 0 ||
	    (rc = check_host_access(function, a, dir)) < 0 ||
	    (rc = clq__make_box(a->ctx, function, &a->layout, array_start,
				count, "device array", &dev_box)) < 0 ||
	    (rc = clq__make_box(a->ctx, function, &h->layout, host_start, count,
				"host array", &host_box)) < 0)
		return rc;
	device_side(a, &dev_box, &c.dev);
	host_side(h, &host_box, &c.other);
	c.flat = is_flat(&c.dev, &c.other);
	touch_host_copy(&c, a);
	return run_copy(function, q, &c, box_bytes(&a->layout, &dev_box), wait,
			n_wait, event_out);
}

int
clq_device_array_set_region(struct clq_device_array *array,
			    struct clq_queue *queue, struct clq_host_array *src,
			    const size_t *array_start, const size_t *src_start,
			    const size_t *count, struct clq_event *const *wait,
			    size_t n_wait, struct clq_event **event_out)
{
	return host_region("clq_device_array_set_region", array, queue, src,
			   TO_DEVICE, array_start, src_start, count, wait,
			   n_wait, event_out);
}

int
clq_device_array_get_region(struct clq_device_array *array,
			    struct clq_queue *queue, struct clq_host_array *dst,
			    const size_t *array_start, const size_t *dst_start,
			    const size_t *count, struct clq_event *const *wait,
			    size_t n_wait, struct clq_event **event_out)
{
	return host_region("clq_device_array_get_region", array, queue, dst,
			   TO_HOST, array_start, dst_start, count, wait, n_wait,
			   event_out);
}

static int
device_copy(const char *function, struct clq_device_array *dst,
	    struct clq_queue *q, struct clq_device_array *src,
	    const size_t *dst_start, const size_t *src_start,
	    const size_t *count, struct clq_event *const *wait, size_t n_wait,
	    struct clq_event **event_out)
{
	struct clq__box dst_box, src_box;
	struct copy c = {.dir = ON_DEVICE,
			 .host = NULL,
			 .blocking = CL_FALSE,
			 .function = function};
	int rc;

	if (event_out)
		*event_out = NULL;
	if (!dst || !q || !src)
		return clq__invalid(dst ? dst->ctx : NULL, function,
				    "an array or the queue is NULL");
	rc = check_pair(function, dst->ctx, src->ctx, q, "destination",
			&dst->layout, "source", &src->layout);
	if (rc < 0)
		return rc;
	if (!count) {
		/* A whole-array copy: the shapes must agree. */
		if (memcmp(dst->layout.shape, src->layout.shape,
			   sizeof(dst->layout.shape)) != 0)
			return clq__shape_mismatch(dst->ctx, function,
						   "destination", &dst->layout,
						   "source", &src->layout);
		whole_box(&dst->layout, &dst_box);
		src_box = dst_box;
	} else if ((rc = clq__make_box(dst->ctx, function, &dst->layout,
				       dst_start, count, "destination",
				       &dst_box)) < 0 ||
		   (rc = clq__make_box(dst->ctx, function, &src->layout,
				       src_start, count, "source", &src_box)) <
			   0) {
		return rc;
	}
	device_side(dst, &dst_box, &c.dev);
	device_side(src, &src_box, &c.other);
	c.flat = is_flat(&c.dev, &c.other);
	c.touches[0] = (struct clq__touch){dst, CLQ__TOUCH_WRITE};
	c.touches[1] = (struct clq__touch){src, CLQ__TOUCH_READ};
	c.n_touches = 2;
	return run_copy(function, q, &c, box_bytes(&dst->layout, &dst_box),
			wait, n_wait, event_out);
}

int
clq_device_array_copy_region(struct clq_device_array *dst,
			     struct clq_queue *queue,
			     struct clq_device_array *src,
			     const size_t *dst_start, const size_t *src_start,
			     const size_t *count, struct clq_event *const *wait,
			     size_t n_wait, struct clq_event **event_out)
{
	static const char fn[] = "clq_device_array_copy_region";

	if (!count) {
		if (event_out)
			*event_out = NULL;
		return clq__invalid(dst ? dst->ctx : NULL, fn, "count is NULL");
	}
	return device_copy(fn, dst, queue, src, dst_start, src_start, count,
			   wait, n_wait, event_out);
}

int
clq_device_array_copy(struct clq_device_array *dst, struct clq_queue *queue,
		      struct clq_device_array *src,
		      struct clq_event *const *wait, size_t n_wait,
		      struct clq_event **event_out)
{
	return device_copy("clq_device_array_copy", dst, queue, src, NULL, NULL,
			   NULL, wait, n_wait, event_out);
}

struct fill {
	struct clq_device_array *array;
	const void *pattern;
};

static int
fill_enqueue(struct clq_queue *q, cl_uint n_wait, const cl_event *list,
	     cl_event *ev, void *data)
{
	struct fill *f = data;
	const struct clq__layout *l = &f->array->layout;

	return clq__check(q->ctx,
			  clEnqueueFillBuffer(q->cl, f->array->mem, f->pattern,
					      clq_dtype_size(l->dtype), 0,
					      l->nbytes, n_wait, list, ev),
			  "clEnqueueFillBuffer");
}

/* The checks a fill makes of its arguments; clears *event_out. */
static int
check_fill(const char *fn, struct clq_device_array *array,
	   struct clq_queue *queue, const void *value,
	   struct clq_event **event_out)
{
	if (event_out)
		*event_out = NULL;
	if (!array || !queue || !value)
		return clq__invalid(array ? array->ctx : NULL, fn,
				    "array, queue or value is NULL");
	if (queue->ctx != array->ctx) {
		clq__log(array->ctx, CLQ_LOG_ERROR,
			 "%s: the array and the queue belong to different "
			 "contexts",
			 fn);
		return CLQ_ERROR_CONTEXT_MISMATCH;
	}
	return CLQ_SUCCESS;
}

int
clq_device_array_fill(struct clq_device_array *array, struct clq_queue *queue,
		      const void *value, struct clq_event *const *wait,
		      size_t n_wait, struct clq_event **event_out)
{
	static const char fn[] = "clq_device_array_fill";
	struct fill f = {array, value};
	struct clq__touch touch = {array, CLQ__TOUCH_WRITE};
	struct clq__command command = {.enqueue = fill_enqueue,
				       .data = &f,
				       .label = "fill",
				       .bytes =
					       array ? array->layout.nbytes : 0,
				       .touches = &touch,
				       .n_touches = 1};
	int rc;

	if ((rc = check_fill(fn, array, queue, value, event_out)) < 0)
		return rc;
	return clq__enqueue(queue, fn, &command, wait, n_wait, event_out);
}

int
clq_device_array_zero(struct clq_device_array *array, struct clq_queue *queue,
		      struct clq_event *const *wait, size_t n_wait,
		      struct clq_event **event_out)
{
	static const unsigned char zeros[16] = {0};

	return clq_device_array_fill(array, queue, zeros, wait, n_wait,
				     event_out);
}

/*
 * Block fills (clq_device_array_fill_region()). A block that is one range
 * of bytes is one clEnqueueFillBuffer. Any other block is one fill of its
 * first contiguous run, then rectangular copies within the array that
 * double the filled part along each further axis: about log2(n) commands
 * for n rows, where a fill per row costs n commands, and no kernel, which
 * would have to be built and kept for each context.
 */

/* Commands that double a part `done` units long until it is `count`. */
static size_t
doublings(size_t count)
{
	size_t n = 0;

	for (size_t done = 1; done < count; done *= 2)
		n++;
	return n;
}

/*
 * Copies a unit of the block (a run `run` bytes long, repeated `rows`
 * times `row_pitch` apart), which starts at `at`, along an axis `pitch`
 * bytes apart, doubling the copied part until it holds `count` units: each
 * copy reads units already written and writes the next ones, never the
 * same bytes (a unit's span is at most `pitch`).
 */
static int
double_along(size_t at, size_t run, size_t rows, size_t row_pitch, size_t count,
	     size_t pitch,
	     int (*step)(const struct clq__fill_step *s, void *data),
	     void *data)
{
	struct clq__fill_step s = {.copy = 1, .src = at};
	int rc = CLQ_SUCCESS;

	for (size_t done = 1; done < count && rc == CLQ_SUCCESS;) {
		size_t m = count - done < done ? count - done : done;

		s.dst = at + done * pitch;
		s.region[0] = run;
		if (rows == 1) {
			s.region[1] = m;
			s.region[2] = 1;
			s.row_pitch = pitch;
			s.slice_pitch = m * pitch;
		} else {
			s.region[1] = rows;
			s.region[2] = m;
			s.row_pitch = row_pitch;
			s.slice_pitch = pitch;
		}
		rc = step(&s, data);
		done += m;
	}
	return rc;
}

int
clq__fill_plan(const struct clq__layout *l, const struct clq__box *b,
	       int (*step)(const struct clq__fill_step *s, void *data),
	       void *data)
{
	size_t k = l->ndim - 1, base = 0, n_axes = 0;
	size_t count[CLQ_MAX_DIMS - 1], pitch[CLQ_MAX_DIMS - 1];
	struct clq__fill_step fill = {0};
	int rc;

	/* The first run: axis k and the axes after it, each whole and
	 * unpadded, are one contiguous range of bytes. */
	while (k > 0 && b->count[k] == l->padded[k])
		k--;
	for (size_t i = 0; i < l->ndim; i++)
		base += b->start[i] * l->strides[i];
	fill.dst = base;
	fill.region[0] = b->count[k] * l->strides[k];
	fill.region[1] = fill.region[2] = 1;
	/* The further axes that repeat the run, innermost first. */
	for (size_t i = k; i-- > 0;) {
		if (b->count[i] > 1) {
			count[n_axes] = b->count[i];
			pitch[n_axes++] = l->strides[i];
		}
	}
	rc = step(&fill, data);
	if (rc == CLQ_SUCCESS && n_axes >= 1)
		rc = double_along(base, fill.region[0], 1, 0, count[0],
				  pitch[0], step, data);
	if (rc == CLQ_SUCCESS && n_axes >= 2)
		rc = double_along(base, fill.region[0], count[0], pitch[0],
				  count[1], pitch[1], step, data);
	if (rc == CLQ_SUCCESS && n_axes == 3) {
		/* A third axis would need a fourth level: either copy the
		 * whole unit once per further index, or double one slice
		 * of it at a time along the third axis, whichever is fewer
		 * commands. */
		size_t loop = count[0] < count[1] ? 0 : 1;
		size_t per_unit = count[2] - 1;

		if (per_unit <= count[loop] * doublings(count[2])) {
			struct clq__fill_step s = {
				.copy = 1,
				.src = base,
				.region = {fill.region[0], count[0], count[1]},
				.row_pitch = pitch[0],
				.slice_pitch = pitch[1]};

			for (size_t t = 1; t < count[2] && rc == CLQ_SUCCESS;
			     t++) {
				s.dst = base + t * pitch[2];
				rc = step(&s, data);
			}
		} else {
			size_t other = 1 - loop;

			for (size_t t = 0; t < count[loop] && rc == CLQ_SUCCESS;
			     t++)
				rc = double_along(base + t * pitch[loop],
						  fill.region[0], count[other],
						  pitch[other], count[2],
						  pitch[2], step, data);
		}
	}
	return rc;
}

/* A block fill being enqueued: the array, the pattern, the command list. */
struct fill_region {
	struct clq_device_array *array;
	const void *pattern;
	struct clq__box box;
	/* While enqueueing: the wait list for the first command, the event
	 * for the last, and how many commands are left. */
	struct clq_queue *q;
	cl_uint n_wait;
	const cl_event *list;
	cl_event *ev;
	size_t left;
	struct clq__failsafe_extra extra; /* see failsafe.c */
};

static int
count_step(const struct clq__fill_step *s, void *data)
{
	(void)s;
	((struct fill_region *)data)->left++;
	return CLQ_SUCCESS;
}

/*
 * Enqueues one command of the plan. Rectangular copies go to the root
 * buffer, as every device copy does (see enqueue_rect()); the fill does
 * too, so one buffer carries the whole block.
 */
static int
enqueue_step(const struct clq__fill_step *s, void *data)
{
	struct fill_region *f = data;
	struct clq_device_array *a = f->array;
	cl_event kept = NULL;
	cl_event *ev = --f->left == 0 ? f->ev : f->extra.spare ? &kept : NULL;
	cl_uint n_wait = f->n_wait;
	const cl_event *list = f->list;
	struct rect_side src, dst;
	int rc;

	f->n_wait = 0;
	f->list = NULL;
	if (!s->copy) {
		rc = clq__check(
			f->q->ctx,
			clEnqueueFillBuffer(f->q->cl, a->root, f->pattern,
					    a->layout.itemsize,
					    a->root_offset + s->dst,
					    s->region[0], n_wait, list, ev),
			"clEnqueueFillBuffer");
	} else {
		src = (struct rect_side){
			{0, 0, 0}, s->row_pitch, s->slice_pitch};
		dst = src;
		rect_side_shift(&src, a->root_offset + s->src);
		rect_side_shift(&dst, a->root_offset + s->dst);
		rc = clq__check(f->q->ctx,
				clEnqueueCopyBufferRect(
					f->q->cl, a->root, a->root, src.origin,
					dst.origin, s->region, s->row_pitch,
					s->slice_pitch, s->row_pitch,
					s->slice_pitch, n_wait, list, ev),
				"clEnqueueCopyBufferRect");
	}
	clq__failsafe_extra_keep(&f->extra, kept);
	return rc;
}

static int
fill_region_enqueue(struct clq_queue *q, cl_uint n_wait, const cl_event *list,
		    cl_event *ev, void *data)
{
	struct fill_region *f = data;
	int rc;

	f->q = q;
	f->n_wait = n_wait;
	f->list = list;
	f->ev = ev;
	f->left = 0;
	clq__fill_plan(&f->array->layout, &f->box, count_step, f);
	if ((rc = clq__failsafe_extra_begin(q, f->left - 1, &f->extra)) < 0)
		return rc;
	rc = clq__fill_plan(&f->array->layout, &f->box, enqueue_step, f);
	clq__failsafe_extra_end(&f->extra);
	return rc;
}

int
clq_device_array_fill_region(struct clq_device_array *array,
			     struct clq_queue *queue, const size_t *start,
			     const size_t *count, const void *value,
			     struct clq_event *const *wait, size_t n_wait,
			     struct clq_event **event_out)
{
	static const char fn[] = "clq_device_array_fill_region";
	struct fill_region f = {.array = array, .pattern = value};
	struct clq__touch touch = {array, CLQ__TOUCH_WRITE};
	struct clq__command command = {.enqueue = fill_region_enqueue,
				       .data = &f,
				       .label = "fill",
				       .touches = &touch,
				       .n_touches = 1};
	int rc;

	if ((rc = check_fill(fn, array, queue, value, event_out)) < 0)
		return rc;
	rc = clq__make_box(array->ctx, fn, &array->layout, start, count,
			   "array", &f.box);
	if (rc < 0)
		return rc;
	command.bytes = box_bytes(&array->layout, &f.box);
	return clq__enqueue(queue, fn, &command, wait, n_wait, event_out);
}
