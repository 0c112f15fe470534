/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CLQ_CONTEXT_H
#define CLQ_CONTEXT_H

/**
 * @file
 * Contexts: see @ref context.
 */

#include <clq/common.h>
#include <clq/device.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup context Contexts
 * An OpenCL context on one device, the parent of queues, events, arrays and
 * programs. Every child holds a reference to its context, so a context lives
 * until its last child is released, whatever order the caller unrefs in.
 *
 * Thread safety: a context may be used from several threads at once; all
 * functions here are thread-safe.
 * @{
 */

struct clq_context;

/**
 * Creates a context on a device.
 *
 * The context keeps a reference to `device`. Driver notifications about the
 * context (`pfn_notify`) go to the context's log handler as warnings. The
 * caller owns the returned reference. Its ordering mode comes from the
 * environment variable `CLQ_ORDERING` (see @ref order).
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL arguments, or
 *         a `CLQ_ORDERING` that is not manual, check or auto (logged to
 *         the process-wide handler, see `CLQ_LOG`);
 *         `CL_OUT_OF_HOST_MEMORY`; an OpenCL code from `clCreateContext`.
 */
CLQ_EXPORT int
clq_context_create(struct clq_device *device, struct clq_context **ctx_out);

/**
 * Creates a context on the device chosen by clq_device_select(NULL)
 * (environment `CLQ_DEVICE`, then `PYOPENCL_CTX`, then GPU > accelerator >
 * CPU).
 *
 * @return as clq_device_select() and clq_context_create().
 */
CLQ_EXPORT int clq_context_create_default(struct clq_context **ctx_out);

/**
 * Wraps an OpenCL context made by other code (clFFT's caller, a user's own
 * OpenCL) as a clq context, so that clq queues, arrays, programs and events
 * can be made on it and mixed with that code's objects.
 *
 * The context is retained, never owned: clq releases its reference when
 * the wrapper's last reference goes, and the creator keeps (and releases)
 * its own, in any order. Nothing of the OpenCL context changes; its
 * driver notifications go where its creator sent them. The ordering mode
 * comes from `CLQ_ORDERING` as for clq_context_create().
 *
 * A clq context runs on one device. A context of one device needs none
 * named (`device` NULL, or that device). A context of several devices
 * needs `device`, one of them: clq refuses to guess, since the choice
 * decides where every queue and program of the wrapper runs; other code
 * may go on using the other devices.
 * @param cl the OpenCL context
 * @param device the device clq uses, or NULL for the context's only one
 * @param ctx_out receives the context; NULL on failure
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL `cl` or
 *         `ctx_out`, or a context of several devices with `device` NULL;
 *         #CLQ_ERROR_CONTEXT_MISMATCH when `device` is not one of the
 *         context's; #CLQ_ERROR_NO_DEVICE when its device is none that
 *         clq_device_get() lists (a sub-device); `CL_OUT_OF_HOST_MEMORY`;
 *         an OpenCL code from `clGetContextInfo` (`CL_INVALID_CONTEXT`).
 * Thread-safe.
 */
CLQ_EXPORT int clq_context_wrap(cl_context cl, struct clq_device *device,
				struct clq_context **ctx_out);

/** Adds a reference. @return `ctx`. */
CLQ_EXPORT struct clq_context *clq_context_ref(struct clq_context *ctx);

/** Drops a reference; NULL is a no-op. */
CLQ_EXPORT void clq_context_unref(struct clq_context *ctx);

/** The context's device, borrowed (valid while the context lives). */
CLQ_EXPORT struct clq_device *
clq_context_get_device(const struct clq_context *ctx);

/** The raw context handle, borrowed. */
CLQ_EXPORT cl_context clq_context_get_cl(const struct clq_context *ctx);

/**
 * Sets the handler for messages about this context and its children.
 *
 * NULL restores the default: messages go to the process-wide handler (see
 * clq_set_log_handler()). Thread-safe; a message being delivered while the
 * handler changes goes to either the old or the new handler.
 */
CLQ_EXPORT void clq_context_set_log_handler(struct clq_context *ctx,
					    clq_log_fn fn, void *user_data);

/**
 * Blocks until every command enqueued so far on every queue of the context
 * has ended (completed or failed), as CUDA's cudaDeviceSynchronize().
 *
 * The queues are those alive when the call starts: made by
 * clq_queue_create(), clq_queue_create_tuning() or clq_queue_wrap() and
 * not yet released by their last clq_queue_unref() (a released queue's
 * commands still run; wait for their events). Commands enqueued by other
 * threads after the call started may or may not be waited for. Each queue
 * is finished as clq_queue_finish() finishes it, so a failed command does
 * not make the call fail (wait for its event to learn of it), and commands
 * that other code enqueued on a wrapped queue are waited for too. In
 * #CLQ_ORDERING_CHECK the finished commands count as seen to end (see
 * @ref order), as after clq_queue_finish().
 *
 * Thread safety: may be called from any thread, while others enqueue.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL;
 *         `CL_OUT_OF_HOST_MEMORY`; the first of clFinish's own errors
 *         (`CL_INVALID_COMMAND_QUEUE`, `CL_OUT_OF_RESOURCES`,
 *         `CL_OUT_OF_HOST_MEMORY`), after every queue was finished.
 */
CLQ_EXPORT int clq_context_finish(struct clq_context *ctx);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLQ_CONTEXT_H */
