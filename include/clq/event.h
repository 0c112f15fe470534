/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CLQ_EVENT_H
#define CLQ_EVENT_H

/**
 * @file
 * Events and user events: see @ref event.
 */

#include <clq/common.h>
#include <clq/context.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup event Events
 * Points in a queue that the host or another queue can wait for, with the
 * device timestamps of profiling queues; and user events, completed by the
 * host.
 *
 * Events come from the enqueue functions (see @ref queue) and from
 * clq_user_event_create(). An event keeps its context alive.
 *
 * Thread safety: every function here may be called from any thread on any
 * event, including one that another thread is waiting for.
 * @{
 */

struct clq_event;

/** Device timestamps of a command, in nanoseconds of the device's clock. */
struct clq_event_times {
	uint64_t
		queued; /**< enqueued by the host (`CL_PROFILING_COMMAND_QUEUED`) */
	uint64_t submit; /**< submitted to the device (`..._SUBMIT`) */
	uint64_t start;	 /**< started executing (`..._START`) */
	uint64_t end;	 /**< finished executing (`..._END`) */
};

/**
 * A completion callback: `status` is `CL_COMPLETE` (0) or the command's
 * negative execution status. For a command clq reads the status in the
 * callback rather than trust the driver's argument: NVIDIA (580.159)
 * passes `CL_COMPLETE` to the callbacks of failed commands, and PoCL 3.1
 * to a callback registered on a command that has already failed.
 *
 * It runs exactly once. For a user event clq runs it itself: on the thread
 * that completes the event (clq_user_event_complete(), or the last
 * clq_event_unref() of an abandoned event), or at once on the registering
 * thread if the event is already complete. For a command's event the
 * OpenCL implementation runs it, on a thread of its own (or the registering
 * thread if the command has completed); some implementations, PoCL 3.1
 * among them, never run callbacks of commands that fail, and the event the
 * callback holds then stays allocated.
 *
 * It must not block: no waiting on events, no clq_queue_finish(). It may
 * ref and unref clq objects and complete user events. The event is valid
 * during the call.
 */
typedef void (*clq_event_callback_fn)(struct clq_event *event, int status,
				      void *user_data);

/**
 * Wraps an OpenCL event made by other code (the event clFFT's
 * `clfftEnqueueTransform` returns, a user's own `clEnqueue...` or user
 * event) as a clq event: it can then be waited for, have its status read
 * and callbacks set, be timed (clq_event_get_times(),
 * clq_event_time_since(): profiled when its command's queue was made with
 * `CL_QUEUE_PROFILING_ENABLE`), go in the wait list of any clq enqueue on
 * a queue of the context, and be recorded on a timeline
 * (clq_timeline_add_event()).
 *
 * The event is retained, never owned: the creator keeps (and releases)
 * its own reference, in any order with the wrapper's last unref. A
 * command's event also retains that command's queue, which clq flushes
 * before a command of another queue waits for it (OpenCL 1.2 section 5.13,
 * as for clq's own events): wrap it while that queue is alive, as right
 * after the call that made it. A user event of other code stays theirs to
 * complete: the wrapper is no clq user event (clq_event_is_user() is 0,
 * clq_user_event_complete() refuses it). For ordering, a wrapped event has
 * no clock (see @ref order, **Wrapped objects**).
 *
 * Other code's events can fail without clq seeing it, as user events
 * can, so from the first wrap on the context treats every wait list as
 * it does once a user event has failed (DESIGN.md, "Driver faults"): an
 * entry that has failed already is replaced by a failed stand-in, so that
 * the command fails rather than waits for ever (PoCL 3.1 never runs a
 * command behind a failed event), and on PoCL before 5 every command's
 * event is kept until it completes (PoCL aborts the process when a command
 * fails behind a failed event that nothing holds). That costs each
 * enqueue with a wait list a status query per entry, for the context's
 * life. Callbacks set on a wrapped event are the driver's, as for command
 * events: PoCL 3.1 runs none for a failed user event of other code.
 * @param ctx the context whose OpenCL context (clq_context_get_cl()) the
 *        event belongs to
 * @param cl the OpenCL event
 * @param event_out receives the event, owned by the caller; NULL on
 *        failure
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL arguments;
 *         #CLQ_ERROR_CONTEXT_MISMATCH for an event of another OpenCL
 *         context; `CL_OUT_OF_HOST_MEMORY`; an OpenCL code from
 *         `clGetEventInfo`.
 * Thread-safe.
 */
CLQ_EXPORT int clq_event_wrap(struct clq_context *ctx, cl_event cl,
			      struct clq_event **event_out);

/** Adds a reference. @return `event`. */
CLQ_EXPORT struct clq_event *clq_event_ref(struct clq_event *event);

/**
 * Drops a reference; NULL is a no-op.
 *
 * Dropping the last reference to a user event that was never completed
 * completes it with #CLQ_ERROR_ABANDONED, since nobody can complete it any
 * more: commands waiting for it fail instead of hanging for ever.
 */
CLQ_EXPORT void clq_event_unref(struct clq_event *event);

/** The event's context, borrowed. */
CLQ_EXPORT struct clq_context *
clq_event_get_context(const struct clq_event *event);

/** The raw event handle, borrowed. */
CLQ_EXPORT cl_event clq_event_get_cl(const struct clq_event *event);

/**
 * Whether the event was made by clq_user_event_create() (0 or 1): whether
 * clq_user_event_complete() may complete it. 0 for a bridged event
 * (clq_event_bridge()) and a wrapped one (clq_event_wrap()).
 */
CLQ_EXPORT int clq_event_is_user(const struct clq_event *event);

/** Whether the event carries device timestamps (from a profiling queue). */
CLQ_EXPORT int clq_event_is_profiled(const struct clq_event *event);

/**
 * Blocks until the event has completed.
 *
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL;
 *         #CLQ_ERROR_COMMAND_FAILED if the command, or an event it waited
 *         for, failed (its execution status goes to the log); an OpenCL
 *         code if the driver fails.
 */
CLQ_EXPORT int clq_event_wait(struct clq_event *event);

/**
 * Blocks until all `n` events have completed; they may belong to different
 * queues and contexts. `n == 0` returns at once.
 *
 * Every event is waited for even when one has failed.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for a NULL list or
 *         element; otherwise the first error clq_event_wait() gave.
 */
CLQ_EXPORT int clq_events_wait(struct clq_event *const *events, size_t n);

/**
 * Reads the execution status without blocking.
 *
 * A `CL_COMPLETE` read is confirmed with `clWaitForEvents()`, which
 * returns at once for a command that has ended: NVIDIA's driver (580.159,
 * H200) shows a command that fails because one before it failed as
 * `CL_COMPLETE` for up to a microsecond before its negative status
 * (measured: 247 of 3000 polls of such a marker), and a wait in that
 * window says it failed. So `CL_COMPLETE` is final here: the command did
 * not fail. Not to be called from an OpenCL callback (section 5.9 of the
 * OpenCL 1.2 specification leaves waiting there undefined).
 *
 * @param event the event to read
 * @param status_out receives `CL_QUEUED`, `CL_SUBMITTED`, `CL_RUNNING`,
 *        `CL_COMPLETE` or a negative code if the command failed
 *        (`CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST` where the wait
 *        says so before the status does)
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT; an OpenCL code.
 */
CLQ_EXPORT int clq_event_get_status(struct clq_event *event, int *status_out);

/**
 * Reads the command's device timestamps, waiting for it first.
 *
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT;
 *         #CLQ_ERROR_PROFILING_DISABLED for an event of a queue without
 *         #CLQ_QUEUE_PROFILING, or a user event;
 *         #CLQ_ERROR_TIMING_UNAVAILABLE when the driver reports a zero start
 *         or end, or an end before the start (nothing is written to
 *         `times_out`); #CLQ_ERROR_COMMAND_FAILED.
 */
CLQ_EXPORT int
clq_event_get_times(struct clq_event *event, struct clq_event_times *times_out);

/**
 * Device time from the end of `prior` to the start of `event`, in seconds:
 * `(START(event) − END(prior)) · 1e-9`. Waits for both events. Negative
 * when `event` started before `prior` ended (possible across queues).
 *
 * @return as clq_event_get_times(), and #CLQ_ERROR_CONTEXT_MISMATCH for
 *         events of two contexts (their clocks need not agree).
 */
CLQ_EXPORT int
clq_event_time_since(struct clq_event *event, struct clq_event *prior,
		     double *seconds_out);

/**
 * Device time from the end of `event` to the start of `next`, in seconds:
 * the same as `clq_event_time_since(next, event, seconds_out)`.
 */
CLQ_EXPORT int clq_event_time_till(struct clq_event *event,
				   struct clq_event *next, double *seconds_out);

/**
 * Registers a callback to run once the event completes or fails.
 *
 * Several callbacks may be registered; each runs once. The event stays
 * alive until its callbacks have run.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL;
 *         `CL_OUT_OF_HOST_MEMORY`; an OpenCL code from `clSetEventCallback`.
 */
CLQ_EXPORT int
clq_event_set_callback(struct clq_event *event, clq_event_callback_fn fn,
		       void *user_data);

/**
 * Creates a user event: one the host completes with
 * clq_user_event_complete(). Queues can wait for it like any other event.
 *
 * Each is a driver user event, and NVIDIA's (580.159, H200) grow costly
 * when thousands are alive at once: `clCreateUserEvent` took 6 ms for
 * the first 1250 and 4.5 s for 5000 (measured raw, one context; a
 * bridged event, clq_event_bridge(), is one too).
 *
 * The caller owns the returned reference.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT; `CL_OUT_OF_HOST_MEMORY`;
 *         an OpenCL code from `clCreateUserEvent`.
 */
CLQ_EXPORT int
clq_user_event_create(struct clq_context *ctx, struct clq_event **event_out);

/**
 * Completes a user event, once.
 *
 * @param event a user event from clq_user_event_create()
 * @param status `CL_COMPLETE` (0), or a negative code to fail it: then
 *        waiting for it, or for a command that waits for it, returns
 *        #CLQ_ERROR_COMMAND_FAILED.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL or a positive
 *         status; #CLQ_ERROR_NOT_USER_EVENT; #CLQ_ERROR_ALREADY_COMPLETE on
 *         a second call; an OpenCL code from `clSetUserEventStatus`.
 */
CLQ_EXPORT int clq_user_event_complete(struct clq_event *event, int status);

/**
 * An event of another context that completes when `event` does, with its
 * status: `CL_COMPLETE`, or the same negative status when `event`'s
 * command failed. Queues of `ctx` can wait for it (wait lists,
 * clq_queue_enqueue_wait_for_events()), so that work on one device waits
 * for work on another: OpenCL forbids events of another context in a
 * wait list (OpenCL 1.2 section 5.10, `CL_INVALID_CONTEXT`), and clq uses
 * one context per device.
 *
 * The bridged event is a user event of `ctx` that clq completes on a
 * thread of its own once `event` has ended, learnt as a notifier learns
 * it (see @ref notifier): driver callbacks, and a poll of the statuses
 * every 100 us while bridges are pending, for drivers that call back late
 * or never (NVIDIA 580 ran no callback within 10 ms for commands that had
 * waited for user events; PoCL 3.1 none for commands behind a failed
 * user event).
 * So the wait adds that thread's wake-up to the driver's callback
 * latency. clq_user_event_complete() refuses it
 * (#CLQ_ERROR_NOT_USER_EVENT), and clq_event_is_user() is 0. It stays pending while the bridge waits,
 * even if the caller drops it at once: commands that wait for it are not
 * failed as an abandoned user event's would be. The queue of `event`'s
 * command is flushed.
 *
 * With `event` of `ctx` itself, `*bridged_out` is a new reference to
 * `event`.
 *
 * @param event the event to follow, of any context (a wrapped event too)
 * @param ctx the context the bridged event belongs to
 * @param bridged_out receives the bridged event, which the caller owns;
 *        NULL on failure
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL;
 *         `CL_OUT_OF_HOST_MEMORY`; #CLQ_ERROR_IO when clq's completion
 *         thread cannot start; an OpenCL code from `clCreateUserEvent`,
 *         `clFlush` or `clSetEventCallback`. Thread-safe.
 */
CLQ_EXPORT int
clq_event_bridge(struct clq_event *event, struct clq_context *ctx,
		 struct clq_event **bridged_out);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLQ_EVENT_H */
