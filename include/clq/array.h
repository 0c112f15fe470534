/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CLQ_ARRAY_H
#define CLQ_ARRAY_H

/**
 * @file
 * Arrays on the device and the host, and the transfers between them: see @ref array.
 */

#include <clq/common.h>
#include <clq/context.h>
#include <clq/event.h>
#include <clq/queue.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup array Arrays
 * N-dimensional arrays (1 to #CLQ_MAX_DIMS axes, C order) on the device and
 * on the host, and the transfers between them.
 *
 * An array has a `shape` and a `padded_shape` (each axis ≥ the shape's):
 * the padded shape sets the memory layout and the byte strides; padding
 * elements hold undefined values. Transfers between a host and a device
 * array need equal dtype and shape; when their padded shapes differ, the
 * copy is rectangular (`clEnqueue*BufferRect`), never staged.
 *
 * Every asynchronous operation takes `(wait, n_wait, event_out)` last, as
 * the enqueue functions of @ref queue do.
 *
 * Thread safety: arrays are immutable apart from their contents and their
 * reference count; operations on one array from several threads are safe
 * as far as clq goes, but the data they move is ordered only by queues and
 * events.
 * @{
 */

/** The most axes an array has. */
#define CLQ_MAX_DIMS 4

/** Element types. `CLQ_DTYPE_FLOAT16` is storage only (2 bytes). */
enum clq_dtype {
	CLQ_DTYPE_INT8,	      /**< `int8_t`, OpenCL `char` */
	CLQ_DTYPE_UINT8,      /**< `uint8_t`, OpenCL `uchar` */
	CLQ_DTYPE_INT16,      /**< `int16_t`, OpenCL `short` */
	CLQ_DTYPE_UINT16,     /**< `uint16_t`, OpenCL `ushort` */
	CLQ_DTYPE_INT32,      /**< `int32_t`, OpenCL `int` */
	CLQ_DTYPE_UINT32,     /**< `uint32_t`, OpenCL `uint` */
	CLQ_DTYPE_INT64,      /**< `int64_t`, OpenCL `long` */
	CLQ_DTYPE_UINT64,     /**< `uint64_t`, OpenCL `ulong` */
	CLQ_DTYPE_FLOAT16,    /**< IEEE half, OpenCL `half` (storage only) */
	CLQ_DTYPE_FLOAT32,    /**< `float`, OpenCL `float` */
	CLQ_DTYPE_FLOAT64,    /**< `double`, OpenCL `double` */
	CLQ_DTYPE_COMPLEX64,  /**< two float32: real, imaginary */
	CLQ_DTYPE_COMPLEX128, /**< two float64: real, imaginary */
};

/** Bytes per element; 0 for a value that is not a dtype. */
CLQ_EXPORT size_t clq_dtype_size(enum clq_dtype dtype);

/** Name, such as "float32"; "invalid" for a value that is not a dtype. */
CLQ_EXPORT const char *clq_dtype_name(enum clq_dtype dtype);

struct clq_device_array;
struct clq_host_array;

/**
 * Allocates an array in device memory.
 *
 * The array keeps its context alive; the caller owns the reference.
 * @param ctx the context whose device holds the array
 * @param dtype the element type
 * @param ndim the number of axes, 1 to #CLQ_MAX_DIMS
 * @param shape `ndim` axis lengths, each ≥ 1
 * @param padded_shape `ndim` padded lengths, each ≥ its axis; NULL means
 *        equal to `shape`
 * @param array_out receives the array; NULL on failure
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL pointers, an
 *         unknown dtype, `ndim` outside 1..#CLQ_MAX_DIMS, a zero axis or a
 *         padded axis smaller than its axis; #CLQ_ERROR_OVERFLOW when the
 *         byte size does not fit in `size_t`; #CLQ_ERROR_OUT_OF_RANGE when
 *         it exceeds the device's largest allocation; an OpenCL code from
 *         `clCreateBuffer`.
 */
CLQ_EXPORT int
clq_device_array_create(struct clq_context *ctx, enum clq_dtype dtype,
			size_t ndim, const size_t *shape,
			const size_t *padded_shape,
			struct clq_device_array **array_out);

/**
 * Makes an array over part of an existing device buffer, starting `offset`
 * bytes into it (scratch space shared by stages, say). The buffer must belong
 * to the context; the array retains it (as an OpenCL sub-buffer).
 * Rectangular device copies that involve the alias are made on `buffer`
 * itself at `offset`, which is equivalent and routes around drivers that
 * crash in rectangular copies of sub-buffers (PoCL 3.1).
 *
 * @return as clq_device_array_create(), plus #CLQ_ERROR_OUT_OF_RANGE when
 *         the array does not fit in the buffer after `offset`,
 *         #CLQ_ERROR_CONTEXT_MISMATCH for a buffer of another context,
 *         `CL_MISALIGNED_SUB_BUFFER_OFFSET` when `offset` is not a multiple
 *         of the device's base address alignment.
 */
CLQ_EXPORT int
clq_device_array_create_alias(struct clq_context *ctx, cl_mem buffer,
			      size_t offset, enum clq_dtype dtype, size_t ndim,
			      const size_t *shape, const size_t *padded_shape,
			      struct clq_device_array **array_out);

/**
 * Describes a buffer made by other code (a library's output, a user's own
 * `clCreateBuffer`) as a device array of the given dtype and shapes, so
 * that clq transfers, copies, fills and kernels can use it.
 *
 * The buffer is retained, never owned: the creator keeps (and releases)
 * its own reference, in any order with the array's last unref. Unlike
 * clq_device_array_create_alias(), no sub-buffer is made: the array is
 * the buffer itself (clq_device_array_get_cl() returns it), starting at
 * its first byte. A sub-buffer may be wrapped too: it counts as an alias
 * of the buffer it lies in (its rectangular copies and its ordering go to
 * that buffer, at its offset). The buffer must hold the padded shape:
 * `clq_dtype_size(dtype)` times the product of `padded_shape` bytes, or
 * more (the rest is not the array's). A buffer made with
 * `CL_MEM_HOST_NO_ACCESS`, `CL_MEM_HOST_READ_ONLY` or
 * `CL_MEM_HOST_WRITE_ONLY` (OpenCL 1.2 section 5.2.1) is wrapped as it
 * is: the host transfers those flags forbid (clq_device_array_set(),
 * _get(), their async and region forms), on it or on an alias made in
 * it, return #CLQ_ERROR_UNSUPPORTED, naming the flag; kernels, copies
 * and fills work.
 * @param ctx the context whose OpenCL context the buffer belongs to
 * @param buffer an OpenCL buffer
 * @param dtype, ndim, shape, padded_shape the array, as for
 *        clq_device_array_create()
 * @param array_out receives the array; NULL on failure
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL pointers and
 *         bad descriptions, as clq_device_array_create();
 *         #CLQ_ERROR_OVERFLOW; #CLQ_ERROR_CONTEXT_MISMATCH for a buffer of
 *         another OpenCL context; #CLQ_ERROR_UNSUPPORTED for a memory
 *         object that is not a buffer (an image); #CLQ_ERROR_OUT_OF_RANGE
 *         when the buffer is smaller than the array (the log gives both
 *         sizes); `CL_OUT_OF_HOST_MEMORY`; an OpenCL code from
 *         `clGetMemObjectInfo`.
 * Thread-safe.
 */
CLQ_EXPORT int
clq_device_array_wrap(struct clq_context *ctx, cl_mem buffer,
		      enum clq_dtype dtype, size_t ndim, const size_t *shape,
		      const size_t *padded_shape,
		      struct clq_device_array **array_out);

/** Adds a reference. @return `array`. */
CLQ_EXPORT struct clq_device_array *
clq_device_array_ref(struct clq_device_array *array);

/** Drops a reference; NULL is a no-op. */
CLQ_EXPORT void clq_device_array_unref(struct clq_device_array *array);

/** The array's context, borrowed. */
CLQ_EXPORT struct clq_context *
clq_device_array_get_context(const struct clq_device_array *array);

/** The raw buffer, borrowed. */
CLQ_EXPORT cl_mem clq_device_array_get_cl(const struct clq_device_array *array);

/** Element type. */
CLQ_EXPORT enum clq_dtype
clq_device_array_get_dtype(const struct clq_device_array *array);

/** Number of axes. */
CLQ_EXPORT size_t
clq_device_array_get_ndim(const struct clq_device_array *array);

/** The shape: `ndim` lengths, valid while the array lives. */
CLQ_EXPORT const size_t *
clq_device_array_get_shape(const struct clq_device_array *array);

/** The padded shape: `ndim` lengths, valid while the array lives. */
CLQ_EXPORT const size_t *
clq_device_array_get_padded_shape(const struct clq_device_array *array);

/** Byte strides of each axis (from the padded shape), valid while it lives. */
CLQ_EXPORT const size_t *
clq_device_array_get_strides(const struct clq_device_array *array);

/** Bytes the array occupies, padding included. */
CLQ_EXPORT size_t
clq_device_array_get_nbytes(const struct clq_device_array *array);

/**
 * Allocates a host array in memory the device transfers from fastest:
 * - NVIDIA: an `ALLOC_HOST_PTR` buffer, mapped once and left mapped
 *   ("mapped");
 * - AMD GPUs: an `ALLOC_HOST_PTR` buffer that each transfer unmaps, copies
 *   to or from the device array on the device, and maps again ("remapped",
 *   after AMD's optimisation guide). The memory is unmapped while a
 *   transfer runs: as with every async transfer, leave it alone until the
 *   transfer's event completes. Transfers of one such array from several
 *   queues or threads take turns, in the order they were enqueued. Drivers
 *   map it at the same address every time; should one move it, a warning
 *   is logged and clq_host_array_data() returns the new address;
 * - other platforms (PoCL): page-aligned host memory ("aligned").
 *
 * The environment variable `CLQ_HOST_ARRAY_STRATEGY` (`mapped`, `remapped`
 * or `aligned`) forces one, for testing; another value makes creation fail
 * with #CLQ_ERROR_INVALID_ARGUMENT. The array keeps its context alive.
 * @return as clq_device_array_create() (without the device size limit).
 */
CLQ_EXPORT int
clq_host_array_create(struct clq_context *ctx, enum clq_dtype dtype,
		      size_t ndim, const size_t *shape,
		      const size_t *padded_shape,
		      struct clq_host_array **array_out);

/**
 * Describes caller memory as a host array, without copying. `data` must
 * hold the padded shape and outlive every transfer that uses it: since the
 * memory is the caller's, transfers do not keep a wrapped array alive (it
 * may be unreffed as soon as they are enqueued). Such an array belongs to
 * no context.
 * @return as clq_device_array_create().
 */
CLQ_EXPORT int
clq_host_array_wrap(enum clq_dtype dtype, size_t ndim, const size_t *shape,
		    const size_t *padded_shape, void *data,
		    struct clq_host_array **array_out);

/**
 * Registers caller memory as a host array that transfers treat as pinned
 * where the driver can, as CUDA's cudaHostRegister(): clq makes an OpenCL
 * buffer over the memory (`CL_MEM_USE_HOST_PTR`), maps it once, and
 * transfers to and from the memory's address, the mapped buffer's (the
 * "mapped" strategy of clq_host_array_create(), on memory the caller
 * already has). clq_host_array_data() returns `data`. OpenCL 1.2 section
 * 5.4.2 makes the mapping of such a buffer point into `data`; should a
 * driver map it elsewhere all the same, clq drops the buffer and uses the
 * memory as it is, as clq_host_array_wrap() uses it, and
 * clq_host_array_is_pinned() says 0.
 *
 * clq_host_array_is_pinned() is 1 where the driver pins the memory of a
 * mapped buffer for transfers, as clq_host_array_create() relies on for
 * NVIDIA and AMD GPUs (a vendor rule, not a query: OpenCL cannot say);
 * 0 elsewhere (PoCL's CPU device reads the memory in place: nothing is
 * pinned). Measured on an NVIDIA H200 (driver 580): registered memory
 * moves at pinned speed, 55.5 GB/s each way for 256 MiB, against 8.7 and
 * 15.1 GB/s pageable (`clq-time transfer --memory
 * pinned,registered,pageable`). Page-aligned memory (4096 bytes) is the
 * safest to register. clq learns that the last transfer ended as a
 * notifier does (see @ref notifier): by the driver's callback or, for a
 * failed transfer that a driver never calls back (PoCL 3.1's behind a
 * failed event), by polling every 100 us; it then unmaps on a thread of
 * its own, not in a driver's callback.
 *
 * Unlike a wrapped array, a registered array belongs to `ctx` and is kept
 * alive by its async transfers until they complete, so the memory stays
 * registered until the last clq_host_array_unref() and the completion of
 * the last transfer that used it, whichever comes later; then clq unmaps
 * and releases the buffer (unregisters). To free `data`: wait for those
 * transfers (their events, clq_queue_finish(), clq_context_finish()),
 * then drop the last reference, which unregisters before it returns; the
 * memory may be freed after that. A last reference dropped while a
 * transfer is pending is allowed: the unregistration then runs when the
 * last transfer completes, on a thread of the driver, and the memory must
 * stay valid until then (clSetMemObjectDestructorCallback() on
 * clq_host_array_get_cl() tells when). While registered, write the memory
 * only where no transfer is reading it, as for any host array.
 * @param ctx the context whose transfers use the memory
 * @param dtype, ndim, shape, padded_shape the array, as for
 *        clq_host_array_create()
 * @param data the caller's memory: the padded shape's bytes
 * @param array_out receives the array; NULL on failure
 * @return as clq_host_array_create(); #CLQ_ERROR_OUT_OF_RANGE for more
 *         bytes than the device's largest buffer
 *         (`CL_DEVICE_MAX_MEM_ALLOC_SIZE`); an OpenCL code from
 *         `clCreateBuffer` (`CL_INVALID_HOST_PTR`), `clCreateCommandQueue`
 *         or `clEnqueueMapBuffer`.
 * Thread-safe.
 */
CLQ_EXPORT int
clq_host_array_register(struct clq_context *ctx, enum clq_dtype dtype,
			size_t ndim, const size_t *shape,
			const size_t *padded_shape, void *data,
			struct clq_host_array **array_out);

/**
 * Whether the array is caller memory registered with
 * clq_host_array_register() (0 or 1), pinned or not.
 */
CLQ_EXPORT int clq_host_array_is_registered(const struct clq_host_array *array);

/**
 * The OpenCL buffer whose mapped memory the array is, borrowed: an
 * `ALLOC_HOST_PTR` buffer (the mapped and remapped strategies of
 * clq_host_array_create()) or the `USE_HOST_PTR` buffer of registered
 * memory; NULL for aligned and wrapped arrays, which have none. The
 * buffer is mapped (remapped arrays: between transfers): enqueue nothing
 * on it while it is.
 */
CLQ_EXPORT cl_mem clq_host_array_get_cl(const struct clq_host_array *array);

/** Adds a reference. @return `array`. */
CLQ_EXPORT struct clq_host_array *
clq_host_array_ref(struct clq_host_array *array);

/** Drops a reference; NULL is a no-op. Pending transfers hold their own. */
CLQ_EXPORT void clq_host_array_unref(struct clq_host_array *array);

/** The elements, in C order over the padded shape. */
CLQ_EXPORT void *clq_host_array_data(struct clq_host_array *array);

/**
 * Whether the memory is pinned (page-locked) by the driver (0 or 1): 1 for
 * the mapped and remapped strategies, and for registered memory
 * (clq_host_array_register()) where the driver pins mapped buffers.
 */
CLQ_EXPORT int clq_host_array_is_pinned(const struct clq_host_array *array);

/** Element type. */
CLQ_EXPORT enum clq_dtype
clq_host_array_get_dtype(const struct clq_host_array *array);

/** Number of axes. */
CLQ_EXPORT size_t clq_host_array_get_ndim(const struct clq_host_array *array);

/** The shape: `ndim` lengths, valid while the array lives. */
CLQ_EXPORT const size_t *
clq_host_array_get_shape(const struct clq_host_array *array);

/** The padded shape: `ndim` lengths, valid while the array lives. */
CLQ_EXPORT const size_t *
clq_host_array_get_padded_shape(const struct clq_host_array *array);

/** Byte strides of each axis, valid while the array lives. */
CLQ_EXPORT const size_t *
clq_host_array_get_strides(const struct clq_host_array *array);

/** Bytes the array occupies, padding included. */
CLQ_EXPORT size_t clq_host_array_get_nbytes(const struct clq_host_array *array);

/**
 * Copies a host array to the device array and waits for the copy.
 *
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL;
 *         #CLQ_ERROR_TYPE_MISMATCH; #CLQ_ERROR_SHAPE_MISMATCH;
 *         #CLQ_ERROR_CONTEXT_MISMATCH when the queue, the device array or a
 *         pinned host array belong to different contexts;
 *         #CLQ_ERROR_COMMAND_FAILED when the copy failed, as a command
 *         queued behind one that fails does (the log gives its execution
 *         status, as clq_event_wait() does); an OpenCL code.
 */
CLQ_EXPORT int
clq_device_array_set(struct clq_device_array *array, struct clq_queue *queue,
		     struct clq_host_array *src);

/** Copies the device array into a host array and waits. As _set(). */
CLQ_EXPORT int
clq_device_array_get(struct clq_device_array *array, struct clq_queue *queue,
		     struct clq_host_array *dst);

/**
 * Enqueues a copy of a host array to the device array. The host array is
 * kept alive until the copy has completed, even if the caller drops it at
 * once; its contents must not change until then.
 * @return as clq_device_array_set().
 */
CLQ_EXPORT int
clq_device_array_set_async(struct clq_device_array *array,
			   struct clq_queue *queue, struct clq_host_array *src,
			   struct clq_event *const *wait, size_t n_wait,
			   struct clq_event **event_out);

/**
 * Enqueues a copy of the device array into a host array, kept alive until
 * the copy has completed; read it only after `event_out` completes.
 * @return as clq_device_array_set().
 */
CLQ_EXPORT int
clq_device_array_get_async(struct clq_device_array *array,
			   struct clq_queue *queue, struct clq_host_array *dst,
			   struct clq_event *const *wait, size_t n_wait,
			   struct clq_event **event_out);

/**
 * Enqueues a copy of a block of a host array into a block of the device
 * array: `count[i]` elements along each axis i, from `src_start` in the
 * host array to `array_start` in the device array. Both arrays must have
 * the same dtype and number of axes; their shapes may differ. Up to three
 * axes are one rectangular command; a fourth loops over its first axis.
 * The host array is kept alive until the copy completes.
 *
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL pointers or a
 *         zero count; #CLQ_ERROR_OUT_OF_RANGE when a block does not lie
 *         inside its array; #CLQ_ERROR_TYPE_MISMATCH;
 *         #CLQ_ERROR_SHAPE_MISMATCH for different numbers of axes;
 *         #CLQ_ERROR_CONTEXT_MISMATCH; an OpenCL code.
 */
CLQ_EXPORT int
clq_device_array_set_region(struct clq_device_array *array,
			    struct clq_queue *queue, struct clq_host_array *src,
			    const size_t *array_start, const size_t *src_start,
			    const size_t *count, struct clq_event *const *wait,
			    size_t n_wait, struct clq_event **event_out);

/**
 * Enqueues a copy of a block of the device array into a block of a host
 * array, kept alive until the copy completes. As
 * clq_device_array_set_region(), in the other direction.
 */
CLQ_EXPORT int
clq_device_array_get_region(struct clq_device_array *array,
			    struct clq_queue *queue, struct clq_host_array *dst,
			    const size_t *array_start, const size_t *dst_start,
			    const size_t *count, struct clq_event *const *wait,
			    size_t n_wait, struct clq_event **event_out);

/**
 * Enqueues a device-to-device copy of a block of `src` into a block of
 * `dst`. As clq_device_array_set_region(). Blocks that share a byte of
 * one buffer (one array, an alias and the buffer it was made in, or two
 * aliases of one buffer) give OpenCL's `CL_MEM_COPY_OVERLAP`, with any
 * number of axes, before anything is enqueued. Two arrays in one buffer
 * whose padded shapes give different pitches are copied one row at a
 * time, since OpenCL has no rectangular copy within one buffer with two
 * pitches; their blocks must not even share a byte range (else
 * `CL_MEM_COPY_OVERLAP`).
 */
CLQ_EXPORT int
clq_device_array_copy_region(struct clq_device_array *dst,
			     struct clq_queue *queue,
			     struct clq_device_array *src,
			     const size_t *dst_start, const size_t *src_start,
			     const size_t *count, struct clq_event *const *wait,
			     size_t n_wait, struct clq_event **event_out);

/**
 * Enqueues a copy of the whole of `src` into `dst`: same dtype and shape,
 * padded shapes may differ.
 * @return as clq_device_array_copy_region(), with
 *         #CLQ_ERROR_SHAPE_MISMATCH for different shapes.
 */
CLQ_EXPORT int
clq_device_array_copy(struct clq_device_array *dst, struct clq_queue *queue,
		      struct clq_device_array *src,
		      struct clq_event *const *wait, size_t n_wait,
		      struct clq_event **event_out);

/**
 * Enqueues setting every element (padding included) to `value`, one
 * element of the array's dtype (`clq_dtype_size()` bytes, copied at once).
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL;
 *         #CLQ_ERROR_CONTEXT_MISMATCH; an OpenCL code from
 *         `clEnqueueFillBuffer`.
 */
CLQ_EXPORT int
clq_device_array_fill(struct clq_device_array *array, struct clq_queue *queue,
		      const void *value, struct clq_event *const *wait,
		      size_t n_wait, struct clq_event **event_out);

/**
 * Enqueues setting the elements of a block of the array to `value`:
 * `count[i]` elements along each axis i from `start[i]` (the elements
 * `start` to `start + count - 1` of every axis, `ndim` entries each).
 * Every other element and all padding keep their contents. `value` points
 * at one element of the array's dtype (clq_dtype_size() bytes), copied at
 * once; any dtype works, since only its bytes are copied.
 *
 * A block that is one contiguous range of bytes (a range of the first axis
 * it spans, with every later axis whole and unpadded) is one
 * `clEnqueueFillBuffer`. Any other block is one fill of its first
 * contiguous run, then rectangular copies within the array, each from the
 * part already filled, that double the filled part along each further
 * axis: about log2(n) commands for n rows rather than n, and no kernel to
 * build. The commands run in turn on the queue; the first waits for
 * `wait`, and `event_out` is the last one's event (so profiling times
 * cover the last command only).
 *
 * Thread safety: as the other operations on arrays.
 * @param array the array to fill
 * @param queue the queue to enqueue on, of the array's context
 * @param start `ndim` first indices of the block
 * @param count `ndim` lengths of the block, each ≥ 1
 * @param value one element of the array's dtype
 * @param wait events the fill waits for; may be NULL when `n_wait` is 0
 * @param n_wait the number of events in `wait`
 * @param event_out receives the fill's event, owned by the caller; may be
 *        NULL
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for a NULL array,
 *         queue, `start`, `count` or `value`, a zero count or a bad wait
 *         list; #CLQ_ERROR_OUT_OF_RANGE when the block does not lie inside
 *         the array's shape; #CLQ_ERROR_CONTEXT_MISMATCH when the queue or a
 *         wait list event belongs to another context; an OpenCL code from
 *         `clEnqueueFillBuffer` or `clEnqueueCopyBufferRect`.
 */
CLQ_EXPORT int
clq_device_array_fill_region(struct clq_device_array *array,
			     struct clq_queue *queue, const size_t *start,
			     const size_t *count, const void *value,
			     struct clq_event *const *wait, size_t n_wait,
			     struct clq_event **event_out);

/** Enqueues setting every byte of the array to zero. As _fill(). */
CLQ_EXPORT int
clq_device_array_zero(struct clq_device_array *array, struct clq_queue *queue,
		      struct clq_event *const *wait, size_t n_wait,
		      struct clq_event **event_out);

/**
 * The default piece size of clq_stager_create(), in bytes (16 MiB).
 */
#define CLQ_STAGER_DEFAULT_PIECE_BYTES ((size_t)16 << 20)

/** The default number of pieces of clq_stager_create(). */
#define CLQ_STAGER_DEFAULT_PIECES 4

/** The largest piece clq_stager_create() accepts, in bytes (1 GiB). */
#define CLQ_STAGER_MAX_PIECE_BYTES ((size_t)1 << 30)

/** The most pieces clq_stager_create() accepts. */
#define CLQ_STAGER_MAX_PIECES 64

struct clq_stager;

/**
 * Makes a stager: pinned host memory through which clq_stager_copy()
 * moves device arrays from `src_ctx` to `dst_ctx`, `n_pieces` pieces of
 * `piece_bytes` bytes each, so that the read of one piece from the source
 * device overlaps the write of another to the destination device. Pinning
 * is slow, so one stager serves many copies.
 *
 * The memory is one block, pinned in `src_ctx` (clq_host_array_create())
 * and registered in `dst_ctx` (clq_host_array_register()), so that both
 * the reads and the writes move pinned memory. The environment variable
 * `CLQ_STAGER_MEMORY`, read here, picks another arrangement, for
 * measuring: `src` (the default, as above), `dst` (pinned in `dst_ctx`,
 * registered in `src_ctx`) or `registered` (page-aligned memory registered
 * in both); another value gives #CLQ_ERROR_INVALID_ARGUMENT.
 *
 * The stager keeps both contexts alive; the caller owns the reference.
 * @param src_ctx the context copies read from
 * @param dst_ctx the context copies write to; not `src_ctx` (within one
 *        context, clq_device_array_copy() copies on the device)
 * @param piece_bytes bytes per piece, 16 to #CLQ_STAGER_MAX_PIECE_BYTES;
 *        0 means #CLQ_STAGER_DEFAULT_PIECE_BYTES
 * @param n_pieces pieces in flight, 1 to #CLQ_STAGER_MAX_PIECES (2 or more
 *        to overlap reads and writes); 0 means #CLQ_STAGER_DEFAULT_PIECES
 * @param stager_out receives the stager; NULL on failure
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL pointers, one
 *         context twice, a bad `CLQ_STAGER_MEMORY`; #CLQ_ERROR_OUT_OF_RANGE
 *         for sizes outside the bounds above, or a block larger than a
 *         device's largest buffer (`CL_DEVICE_MAX_MEM_ALLOC_SIZE`); the
 *         codes of clq_host_array_create() and clq_host_array_register().
 * Thread-safe.
 */
CLQ_EXPORT int
clq_stager_create(struct clq_context *src_ctx, struct clq_context *dst_ctx,
		  size_t piece_bytes, size_t n_pieces,
		  struct clq_stager **stager_out);

/** Adds a reference. @return `stager`. */
CLQ_EXPORT struct clq_stager *clq_stager_ref(struct clq_stager *stager);

/**
 * Drops a reference; NULL is a no-op. Copies in flight hold the stager
 * (and its memory) until their last command has ended, so the last
 * reference may be dropped at once after clq_stager_copy().
 */
CLQ_EXPORT void clq_stager_unref(struct clq_stager *stager);

/** Bytes per piece (after defaults). */
CLQ_EXPORT size_t clq_stager_get_piece_bytes(const struct clq_stager *stager);

/** Number of pieces (after defaults). */
CLQ_EXPORT size_t clq_stager_get_n_pieces(const struct clq_stager *stager);

/**
 * Enqueues a copy of `src`, a device array of the stager's source context,
 * into `dst`, one of its destination context, through the stager's pinned
 * memory; does not block. Same dtype and shape; the padded shapes may
 * differ (only elements move; padding is left alone).
 *
 * The array is cut into pieces of at most the stager's piece size: along
 * the first axis, or where one index of it holds more than a piece, along
 * the first axis whose slab fits (4-D arrays: never the first axis, so a
 * piece of them may be smaller); a 1-D array by elements. For piece i,
 * in memory piece i mod n_pieces: a read of its block from `src` on
 * `src_queue` (rectangular, or one plain read where the block is one run
 * of bytes on both sides), then a write of it into `dst` on `dst_queue`
 * (likewise), which waits for the read through a user event of the
 * destination context that clq's hook thread completes (as
 * clq_event_bridge() does); the read of piece i + n_pieces waits for the
 * write of piece i the same way. Every command is enqueued before the
 * call returns. Copies through one stager run one after the other: a
 * copy's first read waits until every command of the previous copy has
 * ended (whatever its status).
 *
 * `wait` may hold events of both contexts: those of the source context
 * gate the first read (so every read), those of the destination context
 * the first write (so every write).
 *
 * `*event_out` is a marker on `dst_queue` that completes once every read
 * and write of the copy has ended. It fails when a read, a write or a
 * wait event failed (its status is then the one the driver gives a
 * command whose wait event failed, -1 on PoCL, rather than the first
 * failed status itself), so one wait on it
 * reports a failed copy once (#CLQ_ERROR_COMMAND_FAILED and one log
 * message, as clq_event_wait() does); the destination's contents are then
 * undefined. Failures are collected by clq rather than carried by OpenCL
 * from command to command: no command of the copy fails because a wait
 * event did (the copy runs on regardless), so the caller's queues are not
 * failed with it (PoCL 3.1 fails every command queued behind a failed
 * one, and crashes when a command fails while it still waits for
 * another event). A failed copy leaves the stager usable.
 *
 * When an enqueue fails half-way (a driver error, memory exhausted, or
 * under #CLQ_ORDERING_CHECK a hazard on `dst`, found at the first write
 * once the first read is enqueued), the commands already enqueued still
 * run or fail and hold the stager's memory until they end; the call
 * returns the error and no event, and the destination's contents are
 * undefined. A copy refused before its first command leaves the stager
 * as it was (the next copy does not wait for its wait list). Only where
 * memory runs out while clq arranges to hear of a command's end does the
 * call wait on the host for that command; a command behind a wait event
 * that the caller completes after the call (a user event) then never
 * ends, and the call never returns.
 *
 * Ordering (see @ref order): the reads are commands of `src_queue` and the
 * writes of `dst_queue`, each tracked in its own context, ordered after
 * the wait list's events as any command waiting for them. The copy's
 * event is of the destination context, so a command of the source
 * context cannot wait for it; but once the host has seen it complete
 * (clq_event_wait() or a notifier), the reads count as seen too: `src`
 * may then be written on any queue of its context, and
 * #CLQ_ORDERING_CHECK reports no hazard. A copy that failed (a wait
 * event among them) marks nothing seen. Before that, write `src` on
 * `src_queue` (a command waiting for a bridge of the copy's event still
 * counts as a hazard: the bridge carries no ordering);
 * #CLQ_ORDERING_AUTO orders it itself.
 *
 * Thread safety: copies through one stager from several threads are safe;
 * they take turns (the lock is held while a copy is enqueued).
 * @param stager the stager
 * @param dst the destination, of the stager's destination context
 * @param dst_queue a queue of the destination context, for the writes
 * @param src the source, of the stager's source context
 * @param src_queue a queue of the source context, for the reads
 * @param wait events of either context the copy waits for; may be NULL
 *        when `n_wait` is 0
 * @param n_wait the number of events in `wait`
 * @param event_out receives the copy's event, of the destination
 *        context, owned by the caller; may be NULL
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL pointers or a
 *         bad wait list; #CLQ_ERROR_CONTEXT_MISMATCH when an array, a
 *         queue or a wait event is not of the context named above;
 *         #CLQ_ERROR_TYPE_MISMATCH; #CLQ_ERROR_SHAPE_MISMATCH;
 *         #CLQ_ERROR_UNSUPPORTED when `src` is a buffer of other code
 *         the host may not read or `dst` one it may not write
 *         (`CL_MEM_HOST_*` flags, see clq_device_array_wrap()); these
 *         are refused before anything is enqueued;
 *         `CL_OUT_OF_HOST_MEMORY`; the codes of
 *         clq_device_array_get_region(), clq_device_array_set_region(),
 *         clq_user_event_create() and clq_queue_enqueue_marker().
 */
CLQ_EXPORT int
clq_stager_copy(struct clq_stager *stager, struct clq_device_array *dst,
		struct clq_queue *dst_queue, struct clq_device_array *src,
		struct clq_queue *src_queue, struct clq_event *const *wait,
		size_t n_wait, struct clq_event **event_out);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLQ_ARRAY_H */
