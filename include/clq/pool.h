/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CLQ_POOL_H
#define CLQ_POOL_H

/**
 * @file
 * Pools of interchangeable resources with in-flight limits: see @ref pool.
 */

#include <clq/common.h>
#include <clq/event.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup pool Pools
 * N interchangeable slots of the caller's resources (device buffers, host
 * arrays), each reused only after the commands that last used it.
 *
 * A pipeline that streams data through a few buffers reuses each one once
 * the commands of its previous round are done with it. A pool keeps that
 * bookkeeping: clq_pool_acquire() hands out the free slot released longest
 * ago together with the events recorded when it was released, and
 * clq_pool_release() records the events after which it is free again
 * (typically the download that last read it). The acquirer puts those
 * events in the wait list of the first command that touches the resource,
 * so the host never blocks; or, with #CLQ_POOL_WAIT_HOST, clq waits for them
 * on the host (Metal's in-flight semaphore). With all slots acquired,
 * #CLQ_POOL_BLOCK blocks until another thread releases one; without it the
 * acquire fails at once, since a single thread would wait for ever.
 *
 * Items are borrowed: the pool hands back the pointers it was given and
 * owns none of them. It holds a library reference to each event of each
 * slot's last release until the slot's next release or the pool's end:
 * memory stays bounded by the slots' last releases. That reference does
 * not count as the caller's: a user event whose last caller reference is
 * dropped uncompleted is still abandoned (see clq_event_unref()), so
 * whatever waits for it fails rather than hangs.
 *
 * All the events a pool is given belong to one context, that of the first
 * release with events, which the pool keeps for its life; its messages go
 * to that context's log handler from then on (to the process-wide one
 * before).
 *
 * Thread safety: every function here is thread-safe; a pool is meant to
 * be shared by threads (a mutex and a condition variable inside). The
 * last clq_pool_unref() must come after every other thread's last call.
 * @{
 */

struct clq_pool;

/** Flags for clq_pool_acquire(). */
enum clq_pool_flags {
	/** With every slot acquired, block until another thread releases
	 * one (instead of failing with #CLQ_ERROR_IN_USE). */
	CLQ_POOL_BLOCK = 1u << 0,
	/** Wait on the host for the slot's events before returning, and
	 * return none to wait for. */
	CLQ_POOL_WAIT_HOST = 1u << 1,
};

/**
 * Creates a pool of `n` free slots, numbered 0 .. n - 1.
 *
 * The first acquires hand the slots out in that order. The caller owns
 * the returned reference.
 * @param n the number of slots, at least 1
 * @param items NULL (slots are indices only), or `n` pointers that
 *        clq_pool_get_item() returns, copied (the pointers, not what they
 *        point to: the caller keeps the resources alive and frees them)
 * @param pool_out receives the pool; NULL on failure
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for n == 0 or a NULL
 *         `pool_out`; #CLQ_ERROR_OVERFLOW for an `n` whose tables do not
 *         fit in memory's address range; `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int
clq_pool_create(size_t n, void *const *items, struct clq_pool **pool_out);

/** Adds a reference. @return `pool`. */
CLQ_EXPORT struct clq_pool *clq_pool_ref(struct clq_pool *pool);

/**
 * Drops a reference; NULL is a no-op. The last one releases the events
 * the pool holds, acquired slots or not, and none of the items.
 */
CLQ_EXPORT void clq_pool_unref(struct clq_pool *pool);

/** The number of slots; 0 for NULL. */
CLQ_EXPORT size_t clq_pool_get_size(const struct clq_pool *pool);

/**
 * Slot `slot`'s item, as given to clq_pool_create(); NULL for a NULL
 * pool, a slot out of range or a pool made without items.
 */
CLQ_EXPORT void *clq_pool_get_item(const struct clq_pool *pool, size_t slot);

/**
 * Acquires the free slot that was released longest ago (or, before any
 * release, the lowest-numbered free slot).
 *
 * Without #CLQ_POOL_WAIT_HOST, `*wait_out` and `*n_wait_out` receive the
 * events of the slot's last release (none before the first): put them in
 * the wait list of the first command that uses the slot's resource. They
 * are borrowed from the pool, and valid until the slot's next release or
 * the pool's last unref, whichever comes first (the pool records no
 * owner: releasing a slot that another thread acquired is the caller's
 * error, and not detected). With #CLQ_POOL_WAIT_HOST clq waits for them
 * on the host and returns none.
 *
 * A thread blocked with #CLQ_POOL_BLOCK wakes only when a slot is
 * released: to shut a pool down, release the slots (with no events)
 * rather than dropping it under a blocked thread.
 *
 * @param pool the pool
 * @param flags 0, or #CLQ_POOL_BLOCK and #CLQ_POOL_WAIT_HOST or-ed
 * @param slot_out receives the slot's number
 * @param wait_out receives the array of events to wait for (NULL when
 *        there are none); may be NULL with #CLQ_POOL_WAIT_HOST only
 * @param n_wait_out receives how many; may be NULL with
 *        #CLQ_POOL_WAIT_HOST only
 * @return #CLQ_SUCCESS;
 *         #CLQ_ERROR_INVALID_ARGUMENT for a NULL pool or out-parameter,
 *         or unknown flags;
 *         #CLQ_ERROR_IN_USE when every slot is acquired and
 *         #CLQ_POOL_BLOCK is not given (the log says so);
 *         #CLQ_ERROR_COMMAND_FAILED when, with #CLQ_POOL_WAIT_HOST, one
 *         of the events failed (its status goes to the log): then, and
 *         only then on failure, the slot **stays acquired** and
 *         `*slot_out` names it (`*wait_out` NULL, `*n_wait_out` 0), since
 *         a failed command says nothing of when the resource is free: the
 *         caller finishes the queues involved and releases the slot;
 *         an OpenCL code if the driver fails a wait (the slot stays
 *         acquired as for a failed command).
 *         On any other failure nothing is acquired and `*wait_out` is
 *         NULL, `*n_wait_out` 0.
 */
CLQ_EXPORT int
clq_pool_acquire(struct clq_pool *pool, unsigned flags, size_t *slot_out,
		 struct clq_event *const **wait_out, size_t *n_wait_out);

/**
 * Releases an acquired slot: it may be reused once the `n` `events` have
 * completed (n == 0: at once). The slot becomes the most recently
 * released, the last to be handed out again.
 *
 * The pool takes its own (library) reference to each event and drops
 * those of the slot's previous release. One thread blocked in clq_pool_acquire() with
 * #CLQ_POOL_BLOCK wakes up.
 *
 * @param pool the pool
 * @param slot a slot this caller acquired
 * @param events the events after which the slot is free (NULL when n is 0)
 * @param n how many
 * @return #CLQ_SUCCESS;
 *         #CLQ_ERROR_INVALID_ARGUMENT for a NULL pool, NULL events with
 *         n > 0, a NULL event, or a slot that is not acquired;
 *         #CLQ_ERROR_OUT_OF_RANGE for a slot >= clq_pool_get_size();
 *         #CLQ_ERROR_CONTEXT_MISMATCH for events of two contexts, in
 *         this call or against the events the pool already holds;
 *         `CL_OUT_OF_HOST_MEMORY`. On failure nothing changes: the slot
 *         stays acquired and keeps its previous events.
 */
CLQ_EXPORT int clq_pool_release(struct clq_pool *pool, size_t slot,
				struct clq_event *const *events, size_t n);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLQ_POOL_H */
