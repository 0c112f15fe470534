/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CLQ_ORDER_H
#define CLQ_ORDER_H

/**
 * @file
 * Ordering across queues: see @ref order.
 */

#include <stdint.h>

#include <clq/array.h>
#include <clq/context.h>
#include <clq/queue.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup order Ordering across queues
 * Access tracking, the race detector (#CLQ_ORDERING_CHECK) and automatic
 * waits (#CLQ_ORDERING_AUTO).
 *
 * OpenCL runs the commands of an in-order queue one after another, and
 * orders commands of different queues only where a wait list, a marker or
 * a barrier says so (OpenCL 1.2 section 5.11). A command that reads a
 * buffer on one queue while another queue may still be writing it reads
 * whatever is there: the forgotten wait gives wrong results, silently,
 * and usually only under load.
 *
 * **Happens-before.** Command A *happens before* command B when B cannot
 * start until A has ended: A and B are on the same queue with A enqueued
 * first; or B's wait list (or a clq_queue_enqueue_wait_for_events() on B's
 * queue before B) names an event of A, or of any command that A happens
 * before; or the host saw A end before enqueueing B. The relation is
 * transitive: if A writes a buffer on queue 1, a marker M follows on queue
 * 1, queue 2 waits for M and enqueues a marker N, and queue 3 waits for N,
 * then everything queue 3 enqueues after that wait happens after A. clq
 * follows it with a vector clock per queue (the textbook way: for every
 * other queue, the newest command known to happen before the queue's next
 * one), merged at each wait.
 *
 * **Host waits.** The host sees a command end through clq_event_wait() and
 * clq_events_wait(), clq_event_get_status() reading an ended status, a
 * blocking transfer, or clq_queue_finish() (every command of that queue
 * enqueued before the call). A command seen to complete also vouches for
 * everything that happens before it. Completion learned only in a
 * callback (clq_event_set_callback()) does not count: pass the event in
 * the wait list instead.
 *
 * **Accesses.** Each command that touches a device array records a read,
 * a write or both of the array's *root buffer*: an alias made with
 * clq_device_array_create_alias() counts as the buffer it was made in, and
 * a region as the whole buffer. Writes (clq_device_array_set() and
 * friends), reads (clq_device_array_get()...), copies (the source read, the
 * destination written), fills, and kernels, whose array arguments say
 * theirs: CLQ_ARG_IN() reads, CLQ_ARG_OUT() writes, CLQ_ARG_INOUT() and
 * CLQ_ARG_ARRAY() do both. The host side of a transfer is not tracked,
 * nor are OpenCL calls made outside clq on its buffers. Per root buffer
 * clq keeps the last write and, for each queue, the newest read since it:
 * at most one event per queue and buffer, each released once a later
 * access supersedes it or it is found ended (in CHECK: seen to end).
 *
 * **Conflicts.** Read after write, write after read and write after write
 * on different queues; two reads never conflict and are never serialised.
 * A conflicting pair is *ordered* when the earlier command happens before
 * the new one.
 *
 * **Modes**, per context:
 * - #CLQ_ORDERING_MANUAL: nothing is tracked; the caller orders queues
 *   (round-1 behaviour, and what OpenCL itself does). Costs one load per
 *   enqueue.
 * - #CLQ_ORDERING_CHECK: an enqueue whose access conflicts with an
 *   unordered earlier one enqueues nothing and returns #CLQ_ERROR_HAZARD,
 *   whether or not the earlier command happens to have ended by then (only
 *   what the program ordered counts, so the verdict does not depend on the
 *   device's speed);
 *   the log (at #CLQ_LOG_ERROR) names the buffer (its label, see
 *   clq_device_array_set_label()), both queues (by id and label, see
 *   clq_queue_set_label()), both commands, the kind of conflict and the
 *   wait that would order it, as in `clq_device_array_set_async: hazard
 *   (write-after-read) on buffer 'in[1]': this write on queue 1
 *   ('upload') overwrites what the read on queue 3 ('download') reads,
 *   and nothing orders the two. ...`. When several earlier commands
 *   conflict, one message is logged for each of those that no other one
 *   implies: adding the waits they name orders them all. For finding missing waits in
 *   code that orders by hand.
 * - #CLQ_ORDERING_AUTO: the events of the unordered conflicting commands
 *   join the command's wait list (their queues are flushed, as OpenCL 1.2
 *   section 5.13 asks); nothing else changes. A wait already implied by
 *   happens-before is never added, nor one for a command that has already
 *   ended, so correctly ordered code runs as written.
 *
 * A new context takes its mode from the environment variable
 * `CLQ_ORDERING` (`manual`, `check` or `auto`, in any case, blanks around
 * ignored; unset or empty is manual), so that an existing program can run
 * under the checker unchanged; any other value makes context creation
 * fail with #CLQ_ERROR_INVALID_ARGUMENT.
 *
 * **Failed commands.** A command that fails (a failed user event in its
 * wait list, a device error) may end before the commands it waited for,
 * so seeing it end orders nothing: AUTO waits for a failed conflicting
 * command (which makes the new command fail too, as OpenCL fails commands
 * whose wait list holds a failed event), CHECK reports it, and a queue
 * slot is reused only after its old queue's commands completed. But PoCL
 * runs the commands that follow a failed one on its own queue at once, so
 * after a failure, finish every queue involved (clq_queue_finish())
 * before relying on the order of the buffers they touched. Once the host
 * has seen everything a failed command waited for end (waits, status
 * reads, queue finishes: the host's view, as for CHECK), the failed
 * command orders nothing and conflicts with nothing: CHECK no longer
 * reports it and AUTO no longer waits for it, so the buffers it touched
 * are usable again.
 *
 * **Raw buffers.** The tracking of a buffer lives as long as some clq
 * array made on it: releasing the last alias of a raw `cl_mem` (one not
 * made by clq_device_array_create()) forgets its accesses, so keep one
 * array on such a buffer alive while commands on it may be pending.
 *
 * **Cost.** In CHECK and AUTO, the enqueues of one context take a lock
 * around the check, the OpenCL enqueue call and the record (blocking
 * transfers wait after releasing it), and each command that touches arrays
 * gets an event internally. The tracked events are those the rules above
 * keep; clq_context_get_ordering_stats() counts them.
 *
 * Thread safety: the functions here are thread-safe.
 * clq_context_set_ordering() belongs before the context's first command
 * (later it is refused).
 * @{
 */

/** How a context orders commands of different queues (see @ref order). */
enum clq_ordering {
	CLQ_ORDERING_MANUAL = 0, /**< the caller orders queues */
	CLQ_ORDERING_CHECK = 1,	 /**< refuse an unordered conflicting access */
	CLQ_ORDERING_AUTO = 2,	 /**< add the waits that order it */
};

/**
 * Sets the context's ordering mode.
 *
 * Allowed until the context's first command (of any queue); tracking
 * starts with that command.
 * @return #CLQ_SUCCESS (also for the mode the context already has);
 *         #CLQ_ERROR_INVALID_ARGUMENT for a NULL context or a value
 *         outside #clq_ordering; #CLQ_ERROR_IN_USE for another mode once
 *         the context has enqueued a command.
 */
CLQ_EXPORT int
clq_context_set_ordering(struct clq_context *ctx, enum clq_ordering mode);

/**
 * The context's ordering mode; #CLQ_ORDERING_MANUAL for NULL.
 */
CLQ_EXPORT enum clq_ordering
clq_context_get_ordering(const struct clq_context *ctx);

/** What a context's ordering has done so far (all zero in MANUAL). */
struct clq_ordering_stats {
	/** accesses recorded: one per command and root buffer touched */
	uint64_t accesses;
	/** CHECK: commands refused with #CLQ_ERROR_HAZARD */
	uint64_t hazards;
	/** AUTO: events added to wait lists */
	uint64_t waits_added;
	/** events held by the tracking now (last writes and newest reads) */
	uint64_t events_held;
	/** root buffers tracked now */
	uint64_t buffers;
};

/**
 * Reads the context's ordering counters.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL arguments.
 */
CLQ_EXPORT int clq_context_get_ordering_stats(struct clq_context *ctx,
					      struct clq_ordering_stats *out);

/**
 * Names an array in ordering messages (and nowhere else).
 *
 * `label` is copied; NULL or "" removes it. An unlabelled array is named by
 * its shape and dtype. Thread-safe.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for a NULL array;
 *         `CL_OUT_OF_HOST_MEMORY` (the old label stays).
 */
CLQ_EXPORT int
clq_device_array_set_label(struct clq_device_array *array, const char *label);

/**
 * Copies the array's label, or "" when it has none, into `buf` of `size`
 * bytes, truncated and always terminated (when size > 0; `buf` may be
 * NULL when size is 0). Thread-safe.
 * @return the label's length (as snprintf(): longer than size - 1 means it
 *         was truncated); 0 for a NULL array, or a NULL `buf` with size > 0.
 */
CLQ_EXPORT size_t clq_device_array_get_label(
	const struct clq_device_array *array, char *buf, size_t size);

/**
 * Names a queue in ordering messages, after its id: "queue 3 ('upload')".
 *
 * `label` is copied; NULL or "" removes it. Queue ids count the queues of
 * the process from 1 in creation order. Thread-safe.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for a NULL queue;
 *         `CL_OUT_OF_HOST_MEMORY` (the old label stays).
 */
CLQ_EXPORT int clq_queue_set_label(struct clq_queue *queue, const char *label);

/**
 * Copies the queue's label as clq_device_array_get_label() does.
 * @return the label's length; 0 for a NULL queue.
 */
CLQ_EXPORT size_t clq_queue_get_label(const struct clq_queue *queue, char *buf,
				      size_t size);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLQ_ORDER_H */
