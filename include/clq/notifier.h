/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CLQ_NOTIFIER_H
#define CLQ_NOTIFIER_H

/**
 * @file
 * Event completion as a pollable file descriptor: see @ref notifier.
 */

#include <stddef.h>

#include <clq/common.h>
#include <clq/event.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup notifier Notifiers
 * Completion of events as a file descriptor, for event loops (epoll,
 * poll, libuv).
 *
 * A notifier watches events, of any contexts, and delivers each one's
 * completion once: clq_notifier_watch() adds an event with a pointer of
 * the caller's; when its command has ended, the completion (the event,
 * its execution status and that pointer) waits in the notifier until
 * clq_notifier_drain() hands it over. The descriptor from
 * clq_notifier_get_fd() is readable exactly while completions wait to be
 * drained: a loop polls it for reading and drains when it fires. It is an
 * eventfd on Linux and the read end of a pipe elsewhere; read it only
 * through clq_notifier_drain().
 *
 * Two modes, chosen at creation:
 * - callbacks (clq_notifier_create()): each watched event gets an OpenCL
 *   completion callback (for a user event, clq's own callback, see
 *   clq_event_set_callback()), which queues the completion and wakes the
 *   descriptor from the driver's thread. Some drivers never run callbacks
 *   of commands that fail because a command they waited for failed (PoCL
 *   3.1 does not, for commands behind a failed user event); so a helper
 *   thread also reads the execution status of every watched event every
 *   poll interval (#CLQ_NOTIFIER_FALLBACK_INTERVAL, 10 ms, by default)
 *   while any is watched. Completions the driver reports arrive at once,
 *   in the order it reports them; those it never reports arrive within
 *   one interval of the command's end (plus the time to read each
 *   watched event's status once), in watch order.
 * - polling (clq_notifier_create_polling()): no callbacks; the helper
 *   thread reads the statuses every interval. The wake-up comes up to one
 *   interval (plus the host's timer slack) after the command's end, and
 *   costs the host a status read per watched event per interval.
 * - waiting (clq_notifier_create_waiting()): callbacks, and a helper
 *   thread that blocks in `clWaitForEvents` on the oldest watched
 *   command event, then delivers it and moves to the next. For drivers
 *   whose callbacks come late (NVIDIA's, 100-170 us after the command's
 *   end on an H200 with driver 580) completions in watch order then come
 *   about as soon as a blocking clq_event_wait() returns; one that ends
 *   before an older one still comes by its callback. The price is a CPU
 *   core: NVIDIA's wait spins while a command runs, and the thread
 *   yields in a loop for 1 ms after the last watched command ends
 *   before it sleeps (waking a sleeping thread can take tens of
 *   microseconds). No
 *   polling fallback: a failed command whose callback never comes is
 *   delivered when the wait reaches it. A wait that itself fails (an
 *   error other than `CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST`
 *   while the command has not ended) delivers nothing; it is logged and
 *   tried again 1 ms later.
 *
 * The helper thread sleeps while no event is watched. In callback mode its
 * fallback reads the status of every watched event each interval: about
 * 0.2 s of CPU time a second with 20000 watched at once on PoCL, measured
 * with two CPUs; watch what a loop needs, not every command.
 *
 * The descriptor is level-triggered in effect: it stays readable until
 * every completion is drained. A loop on edge-triggered epoll
 * (`EPOLLET`) must drain until a drain returns fewer than `max`, or it
 * waits for an edge that does not come.
 *
 * After `fork()`, the child's copy of a notifier has no helper thread and
 * shares the parent's descriptor: watch, drain and set_poll_interval
 * refuse it (#CLQ_ERROR_INVALID_ARGUMENT) and unref leaves it alone; the
 * child makes its own.
 *
 * Thread safety: every function may be called from any thread, and
 * several threads may watch and drain at once. The last
 * clq_notifier_unref() must come after every other thread's last call on
 * the notifier; completions not drained by then are dropped, with their
 * events' references. Callbacks that the driver runs after that find
 * nothing to do: they touch no memory of the notifier.
 * @{
 */

struct clq_notifier;

/** The fallback poll interval of clq_notifier_create(), in seconds. */
#define CLQ_NOTIFIER_FALLBACK_INTERVAL 0.01

/** Bounds of a poll interval, in seconds. */
#define CLQ_NOTIFIER_INTERVAL_MIN 1e-6
/** @copydoc CLQ_NOTIFIER_INTERVAL_MIN */
#define CLQ_NOTIFIER_INTERVAL_MAX 60.0

/** One completion handed over by clq_notifier_drain(). */
struct clq_completion {
	/** The event watched: a reference now the caller's (unref it). */
	struct clq_event *event;
	/** `CL_COMPLETE` (0), or the command's negative execution status
	 * (PoCL gives -1 to a command that failed because one it waited
	 * for did), or the negative OpenCL code of a status query that
	 * failed. `CL_COMPLETE` is final, the command did not fail: a
	 * poll's `CL_COMPLETE` is confirmed as clq_event_get_status() does
	 * (NVIDIA 580 shows a command queued behind a failed one as
	 * `CL_COMPLETE` for up to a microsecond first), and a callback's
	 * status is read in the callback (see #clq_event_callback_fn). */
	int status;
	/** The pointer given to clq_notifier_watch(). */
	void *user_data;
};

/**
 * Creates a notifier in callback mode, with the fallback poll of
 * #CLQ_NOTIFIER_FALLBACK_INTERVAL seconds.
 *
 * The caller owns the returned notifier; `*notifier_out` is NULL on
 * failure.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for a NULL
 *         `notifier_out`; `CL_OUT_OF_HOST_MEMORY`; #CLQ_ERROR_IO when the
 *         descriptor or the helper thread cannot be made (the reason is
 *         logged to the process-wide handler).
 */
CLQ_EXPORT int clq_notifier_create(struct clq_notifier **notifier_out);

/**
 * Creates a notifier in polling mode: no callbacks; the statuses of the
 * watched events are read every `interval` seconds.
 *
 * @param interval from #CLQ_NOTIFIER_INTERVAL_MIN to
 *        #CLQ_NOTIFIER_INTERVAL_MAX seconds
 * @param notifier_out receives the notifier, which the caller owns; NULL
 *        on failure
 * @return as clq_notifier_create(); #CLQ_ERROR_INVALID_ARGUMENT for an
 *         interval out of bounds.
 */
CLQ_EXPORT int clq_notifier_create_polling(double interval,
					   struct clq_notifier **notifier_out);

/**
 * Creates a notifier in waiting mode: callbacks, and a helper thread
 * waiting in `clWaitForEvents` on the watched command events, oldest
 * first (see @ref notifier).
 *
 * clq_notifier_unref() does not wait for that thread, which may be inside
 * a wait that cannot be interrupted: it leaves once that wait ends. So a
 * watched command that never ends (one behind a user event of other code
 * that is never completed) keeps the thread, the notifier's memory, and
 * the event with its queue and context, until the process exits. (The
 * library stays mapped after `dlclose`, so the thread's code does too.)
 *
 * @param notifier_out receives the notifier, which the caller owns; NULL
 *        on failure
 * @return as clq_notifier_create().
 */
CLQ_EXPORT int clq_notifier_create_waiting(struct clq_notifier **notifier_out);

/**
 * Sets the poll interval, in seconds: the fallback's in callback mode,
 * the only source of completions in polling mode; unused in waiting
 * mode. Takes effect at once: the next poll comes no later than one new
 * interval from the call.
 *
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL or an
 *         interval outside #CLQ_NOTIFIER_INTERVAL_MIN ..
 *         #CLQ_NOTIFIER_INTERVAL_MAX.
 */
CLQ_EXPORT int
clq_notifier_set_poll_interval(struct clq_notifier *notifier, double interval);

/** Adds a reference. @return `notifier`. */
CLQ_EXPORT struct clq_notifier *clq_notifier_ref(struct clq_notifier *notifier);

/**
 * Drops a reference; NULL is a no-op. The last one stops the helper
 * thread, closes the descriptor and drops every watched event and every
 * completion not drained.
 */
CLQ_EXPORT void clq_notifier_unref(struct clq_notifier *notifier);

/**
 * The descriptor to poll for reading, borrowed: it stays open until the
 * notifier's last reference goes. Readable exactly while completions wait
 * to be drained; never read or write it directly.
 *
 * @return the descriptor (>= 0), or #CLQ_ERROR_INVALID_ARGUMENT for NULL.
 */
CLQ_EXPORT int clq_notifier_get_fd(const struct clq_notifier *notifier);

/**
 * Watches an event: its completion will be delivered once by
 * clq_notifier_drain(), failed or not.
 *
 * The notifier takes a library reference to `event` (the caller keeps
 * its own and may drop it at once). That reference does not count as a
 * caller's: a user event whose callers all drop it uncompleted is
 * abandoned as clq_event_unref() says, and that failure is delivered. The
 * queue the event's command was enqueued on is flushed, so the command
 * starts without a wait on the host. An event may be watched several
 * times; each watch gives one completion. An event that has already
 * completed is delivered at once.
 *
 * @param notifier the notifier
 * @param event the event to watch, of any context
 * @param user_data any pointer, handed back with the completion
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL;
 *         `CL_OUT_OF_HOST_MEMORY`; an OpenCL code from `clFlush` or
 *         `clSetEventCallback`. Nothing is watched on failure.
 */
CLQ_EXPORT int clq_notifier_watch(struct clq_notifier *notifier,
				  struct clq_event *event, void *user_data);

/**
 * Hands over up to `max` completions, oldest first; never blocks.
 *
 * Each completion is handed over once, with a reference to its event that
 * the caller must unref. Once none is left, the descriptor is no longer
 * readable (until the next completion).
 *
 * @param notifier the notifier
 * @param out room for `max` completions (may be NULL when `max` is 0)
 * @param max how many completions `out` has room for
 * @param n_out receives how many were written to `out` (0 if none waited)
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for a NULL notifier
 *         or `n_out`, or a NULL `out` with `max` > 0.
 */
CLQ_EXPORT int
clq_notifier_drain(struct clq_notifier *notifier, struct clq_completion *out,
		   size_t max, size_t *n_out);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLQ_NOTIFIER_H */
