/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CLQ_QUEUE_H
#define CLQ_QUEUE_H

/**
 * @file
 * Command queues: see @ref queue.
 */

#include <clq/common.h>
#include <clq/context.h>
#include <clq/event.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup queue Command queues
 * In-order command queues. Work on one queue runs in the order it was
 * enqueued; work on different queues is ordered only through events.
 *
 * Every enqueue function takes `(wait, n_wait, event_out)` last: the command
 * starts only after the `n_wait` events in `wait` have completed (they may
 * come from any queue of the same context; `wait` may be NULL when `n_wait`
 * is 0), and if `event_out` is not NULL it receives a new event for the
 * command, owned by the caller. Events of another context are refused with
 * #CLQ_ERROR_CONTEXT_MISMATCH before anything is enqueued.
 *
 * Cross-queue waits: before a command waits for an event of another queue,
 * clq flushes that queue (once per event), since OpenCL 1.2 section 5.13
 * leaves a wait on an unflushed queue's event undefined (a driver may never
 * submit it). An event keeps what it needs of its queue for this, so it may
 * be waited for after its queue was released.
 *
 * Failed commands: a command that waits, directly or through its queue's
 * order, for a command or user event that failed fails too (its event's
 * status is negative; clq_event_wait() returns #CLQ_ERROR_COMMAND_FAILED),
 * on every driver clq was tested on. When it fails differs: PoCL fails it
 * at once (status -1); NVIDIA (580.159) holds it until the rest of its
 * wait list has ended, then fails it with the failed event's status (a
 * marker waiting for a failed user event and a gated command stayed
 * `CL_QUEUED` until the gate opened). PoCL 3.1 aborts the process when such
 * a failure reaches a command whose event nobody holds, so on PoCL before
 * 5.0, while a user event of the context is pending or once one has failed,
 * clq keeps every command's event until it completes (released at later
 * waits and finishes; `CLQ_FAILSAFE=on|off`, read when a context is
 * created, forces this on or off). And once a user event of the context
 * has failed, a command enqueued with an already failed event in its wait
 * list is enqueued waiting for a stand-in that clq then fails, so the
 * command fails like any other: PoCL (3.1 and 5.0) would never run it, and
 * NVIDIA's enqueue would return the failed event's status instead
 * (DESIGN.md, "Driver faults"). Two PoCL 3.1 faults remain: a user event
 * that fails on one thread while another thread enqueues a command waiting
 * for it can leave that command queued for ever (closing that race would
 * need a lock held across enqueues, which a blocking transfer behind the
 * same user event would deadlock); and PoCL 3.1 itself may crash when a
 * command is enqueued on a queue whose previous command failed (a race
 * inside the driver, seen with raw OpenCL too). Fail user events only when
 * no other thread is enqueueing behind them, and on PoCL 3.1 prefer
 * completing them (and skipping the work) to failing them.
 *
 * Thread safety: a queue may be used from several threads at once (OpenCL
 * command queues are thread-safe); commands enqueued concurrently from two
 * threads run in the order the driver received them.
 * @{
 */

struct clq_queue;

/** Flags for clq_queue_create(). */
enum clq_queue_flags {
	/** Record device timestamps for every command (see clq_event_time_since()). */
	CLQ_QUEUE_PROFILING = 1u << 0,
	/**
	 * Reported by clq_queue_get_flags() for queues made by
	 * clq_queue_create_tuning() (which also sets #CLQ_QUEUE_PROFILING);
	 * clq_queue_create() refuses it.
	 */
	CLQ_QUEUE_TUNING = 1u << 1,
};

/**
 * Creates an in-order command queue on the context's device.
 *
 * The queue keeps its context alive. The caller owns the returned reference.
 * @param ctx the context whose device runs the queue's commands
 * @param flags 0 or #CLQ_QUEUE_PROFILING
 * @param queue_out receives the queue; NULL on failure
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL arguments or
 *         unknown flags; #CLQ_ERROR_PROFILING_DISABLED when profiling is
 *         asked of a device that cannot profile; an OpenCL code from
 *         `clCreateCommandQueue`.
 */
CLQ_EXPORT int clq_queue_create(struct clq_context *ctx, unsigned flags,
				struct clq_queue **queue_out);

/**
 * Wraps an OpenCL command queue made by other code (a library such as
 * clFFT, a user's own OpenCL) as a clq queue: clq commands can then be
 * enqueued on it, in order with that code's commands, and its events
 * waited for, timed and put on timelines like any clq queue's.
 *
 * The queue is retained, never owned: the creator keeps (and releases) its
 * own reference, in any order with the wrapper's last clq_queue_unref(),
 * and goes on using the queue. clq changes nothing of it (no property,
 * no setting); it only enqueues the caller's commands, flushes it (before
 * another queue waits for one of its events, and at the wrapper's last
 * unref) and, in CHECK and AUTO modes, enqueues a marker on it at that
 * unref (see @ref order). The wrapper's flags say what the queue is:
 * #CLQ_QUEUE_PROFILING when it was made with `CL_QUEUE_PROFILING_ENABLE`.
 * It gets an ordering slot like any queue; commands other code enqueues on
 * it directly are not tracked (see @ref order, **Wrapped objects**). One
 * OpenCL queue wrapped twice gives two clq queues, which ordering takes
 * for two queues: CHECK may then ask for waits that the shared queue
 * makes needless, and AUTO add them.
 * clq_context_finish() finishes it too.
 * @param ctx the clq context whose OpenCL context (clq_context_get_cl())
 *        and device the queue must have
 * @param cl the OpenCL queue
 * @param queue_out receives the queue; NULL on failure
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL arguments;
 *         #CLQ_ERROR_CONTEXT_MISMATCH for a queue of another OpenCL
 *         context, or of another device than the context's;
 *         #CLQ_ERROR_UNSUPPORTED for an out-of-order or device-side
 *         queue (clq's queues are in order); `CL_OUT_OF_HOST_MEMORY`; an
 *         OpenCL code from `clGetCommandQueueInfo`.
 * Thread-safe.
 */
CLQ_EXPORT int clq_queue_wrap(struct clq_context *ctx, cl_command_queue cl,
			      struct clq_queue **queue_out);

/** Adds a reference. @return `queue`. */
CLQ_EXPORT struct clq_queue *clq_queue_ref(struct clq_queue *queue);

/**
 * Drops a reference; NULL is a no-op. The last reference flushes the queue
 * and releases it; commands already enqueued still run.
 */
CLQ_EXPORT void clq_queue_unref(struct clq_queue *queue);

/** The queue's context, borrowed. */
CLQ_EXPORT struct clq_context *
clq_queue_get_context(const struct clq_queue *queue);

/** The raw queue handle, borrowed. */
CLQ_EXPORT cl_command_queue clq_queue_get_cl(const struct clq_queue *queue);

/** The flags the queue was created with. */
CLQ_EXPORT unsigned clq_queue_get_flags(const struct clq_queue *queue);

/**
 * Enqueues a marker: an event that completes when every command enqueued
 * before it on this queue, and every event in `wait`, has completed.
 *
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for a NULL queue or a
 *         NULL `wait` (or NULL element) with `n_wait` > 0;
 *         #CLQ_ERROR_CONTEXT_MISMATCH; `CL_OUT_OF_HOST_MEMORY`; an OpenCL
 *         code from `clEnqueueMarkerWithWaitList`.
 */
CLQ_EXPORT int
clq_queue_enqueue_marker(struct clq_queue *queue, struct clq_event *const *wait,
			 size_t n_wait, struct clq_event **event_out);

/**
 * Enqueues a barrier: commands enqueued after it start only when every
 * command before it, and every event in `wait`, has completed.
 *
 * @return as clq_queue_enqueue_marker() (OpenCL call
 *         `clEnqueueBarrierWithWaitList`).
 */
CLQ_EXPORT int
clq_queue_enqueue_barrier(struct clq_queue *queue,
			  struct clq_event *const *wait, size_t n_wait,
			  struct clq_event **event_out);

/**
 * Makes later commands on this queue wait for `events` (from any queue of
 * the same context), without blocking the host.
 *
 * `n == 0` is a no-op: nothing is enqueued (an OpenCL barrier with an empty
 * wait list would instead wait for everything before it).
 * @return as clq_queue_enqueue_marker().
 */
CLQ_EXPORT int
clq_queue_enqueue_wait_for_events(struct clq_queue *queue,
				  struct clq_event *const *events, size_t n);

/**
 * Submits the queue's commands to the device without waiting.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT; an OpenCL code.
 */
CLQ_EXPORT int clq_queue_flush(struct clq_queue *queue);

/**
 * Blocks until every command enqueued so far on the queue has ended
 * (completed or failed).
 *
 * A failed command does not make the finish fail, on any driver (NVIDIA's
 * clFinish returns the failed command's status, PoCL's CL_SUCCESS; clq
 * returns #CLQ_SUCCESS for both and logs the former at #CLQ_LOG_INFO):
 * wait for that command's event to learn of its failure.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT; an OpenCL code of
 *         clFinish's own (`CL_INVALID_COMMAND_QUEUE`,
 *         `CL_OUT_OF_RESOURCES`, `CL_OUT_OF_HOST_MEMORY`).
 */
CLQ_EXPORT int clq_queue_finish(struct clq_queue *queue);

/**
 * Creates a tuning queue: a profiling queue that can also measure how long
 * the device spends on a stretch of work (clq_queue_start_tuning(),
 * clq_queue_stop_tuning()), katsdpsigproc's TuningCommandQueue. It is a
 * queue like any other in every other respect.
 *
 * @return as clq_queue_create() with #CLQ_QUEUE_PROFILING.
 */
CLQ_EXPORT int
clq_queue_create_tuning(struct clq_context *ctx, struct clq_queue **queue_out);

/**
 * Starts measuring: every command enqueued on the queue from now until
 * clq_queue_stop_tuning() (markers, barriers, transfers, fills, kernels) is
 * recorded. Starting again while tuning discards what was recorded.
 *
 * Thread safety: commands may be enqueued from several threads while
 * tuning; start and stop themselves belong to one thread at a time.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL;
 *         #CLQ_ERROR_NOT_TUNING when the queue is not a tuning queue.
 */
CLQ_EXPORT int clq_queue_start_tuning(struct clq_queue *queue);

/**
 * Stops measuring: waits for the recorded commands (for the whole queue
 * when there were none) and returns in `*seconds_out` the device time from
 * the start of the first recorded command to the end of the last, in
 * seconds, or 0 when none was enqueued.
 *
 * Tuning stops even when this fails.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL;
 *         #CLQ_ERROR_NOT_TUNING when the queue is not a tuning queue or was
 *         not started; #CLQ_ERROR_COMMAND_FAILED when the first or last
 *         command failed; #CLQ_ERROR_TIMING_UNAVAILABLE when the driver
 *         gave no usable timestamps for them; an OpenCL code.
 */
CLQ_EXPORT int
clq_queue_stop_tuning(struct clq_queue *queue, double *seconds_out);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLQ_QUEUE_H */
