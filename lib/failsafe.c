/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The route around failed user events (DESIGN.md, "Driver faults").
 *
 * PoCL 3.1 propagates a user event's failure to every command that waits
 * for it, directly or through queue order, and aborts the process
 * (pocl_update_event_failed) when such a command's event has no holder
 * left: a command enqueued without an event, or one whose event was
 * released early. A raw program that holds every waiting command's event
 * does not abort. And a command enqueued with an already failed event in
 * its wait list stays queued for ever.
 *
 * So, on PoCL 3 (see needed()), while a user event of the context is
 * pending (or once one has failed), every command gets a clq event marked `kept`, and when the last
 * reference to a kept event goes before its command has completed, the
 * event is not freed but handed to the context's list of kept events,
 * together with its OpenCL reference. Wait lists are screened for events
 * that have already failed: such an entry is replaced by a stand-in user
 * event failed right after the enqueue. Contexts that never use user
 * events pay two loads per enqueue; while the failsafe is active, dropping
 * a command's event costs a lock and a link.
 *
 * Kept events are released by sweeps at the points where the host waits
 * anyway (event waits, queue finishes, user events completing): those free
 * the completed events at the front of the list, in enqueue order. And so
 * that a command pending for ever cannot hold up the release of later ones,
 * a list that has doubled since its last full sweep is swept whole.
 *
 * One race is left: a user event failing on one thread between the screen
 * and the enqueue of a command on another thread that waits for it leaves
 * that command queued. Closing it would need a lock held across enqueues,
 * which a blocking transfer waiting on that same user event would deadlock.
 */
#include <stdlib.h>
#include <string.h>

#include "private.h"

#define FULL_SWEEP_MIN 4096

/*
 * Whether contexts on `device` need their commands' events kept: PoCL's
 * before 5.0 do (3.1 aborts; 5.0 does not, measured on the GPU machine).
 * CLQ_FAILSAFE=on|off overrides this, for tests and for drivers found to
 * need it too. Screening wait lists for failed events is done on every
 * driver: PoCL 3.1 and 5.0 never run such a command, and NVIDIA's (580)
 * enqueue returns the failed event's status.
 */
static int
needed(const struct clq_device *device)
{
	const char *forced = getenv("CLQ_FAILSAFE");

	if (forced && strcmp(forced, "on") == 0)
		return 1;
	if (forced && strcmp(forced, "off") == 0)
		return 0;
	return strstr(device->platform_name, "Portable Computing Language") &&
	       atoi(device->driver_version) < 5;
}

void
clq__failsafe_init(struct clq__failsafe *f, const struct clq_device *device)
{
	f->needed = needed(device);
	atomic_init(&f->pending_user, 0);
	atomic_init(&f->user_failed, 0);
	atomic_init(&f->foreign, 0);
	atomic_init(&f->incoming, NULL);
	atomic_init(&f->n_kept, 0);
	pthread_mutex_init(&f->lock, NULL);
	f->head = NULL;
	f->tail = &f->head;
	atomic_init(&f->full_sweep_at, FULL_SWEEP_MIN);
}

/* Frees a list of kept events, linked through next_free. */
static void
release(struct clq_event *list)
{
	while (list) {
		struct clq_event *e = list;

		list = e->next_free;
		clReleaseEvent(e->cl);
		clq__command_event_recycle(e);
	}
}

/* Every user event is gone (each holds the context): nothing can fail or
 * wait any more, so the kept events can all go. */
void
clq__failsafe_destroy(struct clq__failsafe *f)
{
	release(atomic_load(&f->incoming));
	release(f->head);
	pthread_mutex_destroy(&f->lock);
}

/* Moves the events adopted since the last sweep, newest first on their
 * stack, to the end of the list in the order they came; `lock` held. */
static void
take_incoming(struct clq__failsafe *f)
{
	struct clq_event *stack = atomic_exchange(&f->incoming, NULL);
	struct clq_event *in_order = NULL;

	while (stack) {
		struct clq_event *e = stack;

		stack = e->next_free;
		e->next_free = in_order;
		in_order = e;
	}
	*f->tail = in_order;
	while (*f->tail)
		f->tail = &(*f->tail)->next_free;
}

/*
 * Whether a kept event may be released: its command completed. One that
 * failed is kept until the context goes (clq__failsafe_destroy()): PoCL
 * 3.1 goes on reading a failed command's event after its status reads
 * failed, from its worker thread as it fails the commands behind it, and
 * from a user event's waiter list where the command failed through queue
 * order while waiting for that user event too (valgrind showed both
 * reads of a released event; the second aborted the process in
 * pocl_lock_events_inorder). Failures are few; the memory is bounded by
 * their number.
 */
enum kept_state { KEPT_PENDING, KEPT_FAILED, KEPT_RELEASABLE };

static enum kept_state
kept_state(cl_event ev)
{
	cl_int status;

	if (clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS,
			   sizeof(status), &status, NULL) != CL_SUCCESS)
		return KEPT_RELEASABLE; /* broken: nothing will run any more */
	return status == CL_COMPLETE ? KEPT_RELEASABLE
	       : status < 0	     ? KEPT_FAILED
				     : KEPT_PENDING;
}

/*
 * Unlinks the releasable events, all of them (`whole`) or those at the
 * front of the list, failed ones (kept for good) passed over; `lock`
 * held. Returns them, linked, for release().
 */
static struct clq_event *
unlink_completed(struct clq__failsafe *f, int whole)
{
	struct clq_event *done = NULL, **done_tail = &done;
	struct clq_event **link = &f->head;
	size_t n = 0;

	take_incoming(f);
	while (*link) {
		struct clq_event *e = *link;

		enum kept_state state = kept_state(e->cl);

		if (state == KEPT_RELEASABLE) {
			*link = e->next_free;
			*done_tail = e;
			done_tail = &e->next_free;
			n++;
		} else if (whole || state == KEPT_FAILED) {
			link = &e->next_free;
		} else {
			break;
		}
	}
	*done_tail = NULL;
	if (!*link)
		f->tail = link;
	atomic_fetch_sub_explicit(&f->n_kept, n, memory_order_relaxed);
	return done;
}

/* Sweeps the whole list, and sets when the next whole sweep is due. */
static void
sweep_whole(struct clq__failsafe *f)
{
	struct clq_event *done;
	size_t n;

	pthread_mutex_lock(&f->lock);
	done = unlink_completed(f, 1);
	n = atomic_load_explicit(&f->n_kept, memory_order_relaxed);
	atomic_store_explicit(&f->full_sweep_at,
			      n * 2 > FULL_SWEEP_MIN ? n * 2 : FULL_SWEEP_MIN,
			      memory_order_relaxed);
	pthread_mutex_unlock(&f->lock);
	release(done);
}

void
clq__failsafe_sweep(struct clq_context *ctx)
{
	struct clq__failsafe *f = &ctx->failsafe;
	struct clq_event *done;

	if (!atomic_load_explicit(&f->n_kept, memory_order_relaxed))
		return;
	pthread_mutex_lock(&f->lock);
	done = unlink_completed(f, 0);
	pthread_mutex_unlock(&f->lock);
	release(done);
}

/*
 * Adopting is a push onto a lock-free stack (C11 atomics), since it comes
 * with every event dropped while the failsafe is active; sweeps move the
 * stack into the list under the lock.
 */
void
clq__failsafe_adopt(struct clq_event *e)
{
	struct clq_context *ctx = e->ctx;
	struct clq__failsafe *f = &ctx->failsafe;
	struct clq_event *top =
		atomic_load_explicit(&f->incoming, memory_order_relaxed);
	size_t n;

	/* The list is the context's: the event no longer holds its queue. */
	clq__queue_handle_drop(e->source);
	e->source = NULL;
	do
		e->next_free = top;
	while (!atomic_compare_exchange_weak_explicit(&f->incoming, &top, e,
						      memory_order_release,
						      memory_order_relaxed));
	n = atomic_fetch_add_explicit(&f->n_kept, 1, memory_order_relaxed) + 1;
	if (n >= atomic_load_explicit(&f->full_sweep_at, memory_order_relaxed))
		sweep_whole(f);
	/* Last: this may free the context, which releases the list. */
	clq__context_drop(ctx);
}

int
clq__failsafe_extra_begin(struct clq_queue *q, size_t n,
			  struct clq__failsafe_extra *x)
{
	x->queue = q;
	x->spare = NULL;
	if (!clq__failsafe_active(&q->ctx->failsafe) ||
	    !q->ctx->failsafe.needed)
		return CLQ_SUCCESS;
	for (size_t i = 0; i < n; i++) {
		struct clq_event *e = clq__command_event_new(q);

		if (!e) {
			clq__failsafe_extra_end(x);
			return CL_OUT_OF_HOST_MEMORY;
		}
		e->kept = 1;
		e->next_free = x->spare;
		x->spare = e;
	}
	return CLQ_SUCCESS;
}

void
clq__failsafe_extra_keep(struct clq__failsafe_extra *x, cl_event ev)
{
	struct clq_event *e = x->spare;

	if (!ev)
		return;
	/* ev was asked for only while a spare was left. */
	x->spare = e->next_free;
	e->ctx = x->queue->ctx;
	e->cl = ev;
	clq__event_drop(e);
}

void
clq__failsafe_extra_end(struct clq__failsafe_extra *x)
{
	while (x->spare) {
		struct clq_event *e = x->spare;

		x->spare = e->next_free;
		e->ctx = x->queue->ctx;
		clq__event_drop(e);
	}
}

int
clq__failsafe_screen(struct clq_context *ctx, cl_event *list, cl_uint n_wait,
		     cl_event *stand_in, cl_int *status_out)
{
	cl_int err = CL_SUCCESS;

	*stand_in = NULL;
	for (cl_uint i = 0; i < n_wait; i++) {
		cl_int status;

		if (clGetEventInfo(list[i], CL_EVENT_COMMAND_EXECUTION_STATUS,
				   sizeof(status), &status,
				   NULL) != CL_SUCCESS ||
		    status >= CL_COMPLETE)
			continue;
		if (!*stand_in) {
			*stand_in = clCreateUserEvent(ctx->cl, &err);
			if (err != CL_SUCCESS)
				return clq__check(ctx, err,
						  "clCreateUserEvent");
			*status_out = status;
			clq__log(ctx, CLQ_LOG_DEBUG,
				 "wait list entry %u has already failed "
				 "(status %d): the command will fail too",
				 (unsigned)i, (int)status);
		}
		list[i] = *stand_in;
	}
	return CLQ_SUCCESS;
}

void
clq__failsafe_fail_stand_in(struct clq_context *ctx, cl_event stand_in,
			    cl_int status)
{
	clq__check(ctx, clSetUserEventStatus(stand_in, status),
		   "clSetUserEventStatus");
	clReleaseEvent(stand_in);
}

/* The counters stay zero where the failsafe is not needed, so that
 * clq__failsafe_active() is all an enqueue checks. */
void
clq__failsafe_user_created(struct clq__failsafe *f)
{
	if (f->needed)
		atomic_fetch_add_explicit(&f->pending_user, 1,
					  memory_order_relaxed);
}

/* Before the status is set: commands enqueued from now on are screened,
 * on every driver. */
void
clq__failsafe_user_failing(struct clq__failsafe *f)
{
	atomic_store(&f->user_failed, 1);
}

/*
 * A wrapped event (clq_event_wrap()): other code's, which may fail as a
 * user event can, without clq seeing it. From the first one on, for good,
 * the context screens every wait list and (where needed) keeps its
 * commands' events, as while a user event is pending.
 */
void
clq__failsafe_foreign(struct clq__failsafe *f)
{
	if (atomic_exchange(&f->foreign, 1))
		return;
	atomic_store(&f->user_failed, 1);
	if (f->needed)
		atomic_fetch_add_explicit(&f->pending_user, 1,
					  memory_order_relaxed);
}

void
clq__failsafe_user_completed(struct clq__failsafe *f)
{
	if (f->needed)
		atomic_fetch_sub_explicit(&f->pending_user, 1,
					  memory_order_release);
}
