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
 * So, while a user event of the context is pending (or once one has
 * failed), clq keeps a reference to every command's event until the
 * command has completed, and replaces failed wait list entries with a
 * stand-in user event that it fails right after the enqueue. Contexts that
 * never use user events pay two loads per enqueue.
 *
 * Kept events are released by sweeps: when the list has doubled since the
 * last sweep, every completed event goes, so the list stays within twice
 * the commands in flight and the work per enqueue is constant on average.
 *
 * One race is left: a user event failing on one thread between the screen
 * and the enqueue of a command on another thread that waits for it leaves
 * that command queued. Closing it would need a lock held across enqueues,
 * which a blocking transfer waiting on that same user event would deadlock.
 */
#include <stdlib.h>

#include "private.h"

#define SWEEP_MIN 64

void
clq__failsafe_init(struct clq__failsafe *f)
{
	atomic_init(&f->pending_user, 0);
	atomic_init(&f->user_failed, 0);
	pthread_mutex_init(&f->lock, NULL);
	f->kept = NULL;
	f->n_kept = f->n_reserved = f->cap = 0;
	f->sweep_at = SWEEP_MIN;
}

/* Every user event is gone (each holds the context): nothing can fail or
 * wait any more, so the kept events can all go. */
void
clq__failsafe_destroy(struct clq__failsafe *f)
{
	for (size_t i = 0; i < f->n_kept; i++)
		clReleaseEvent(f->kept[i]);
	free(f->kept);
	pthread_mutex_destroy(&f->lock);
}

static int
complete(cl_event ev)
{
	cl_int status;

	if (clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS,
			   sizeof(status), &status, NULL) != CL_SUCCESS)
		return 1; /* a broken event: nothing will run any more */
	return status <= CL_COMPLETE;
}

/* Releases the kept events that have completed; `lock` held. */
static void
sweep(struct clq__failsafe *f)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n_kept; i++) {
		if (complete(f->kept[i]))
			clReleaseEvent(f->kept[i]);
		else
			f->kept[n++] = f->kept[i];
	}
	f->n_kept = n;
	f->sweep_at = n * 2 > SWEEP_MIN ? n * 2 : SWEEP_MIN;
}

int
clq__failsafe_reserve(struct clq__failsafe *f, size_t n)
{
	int rc = CLQ_SUCCESS;

	pthread_mutex_lock(&f->lock);
	if (f->n_kept + f->n_reserved + n > f->cap) {
		size_t cap = (f->n_kept + f->n_reserved + n) * 2;
		cl_event *kept = realloc(f->kept, cap * sizeof(*kept));

		if (kept) {
			f->kept = kept;
			f->cap = cap;
		} else {
			rc = CL_OUT_OF_HOST_MEMORY;
		}
	}
	if (rc == CLQ_SUCCESS)
		f->n_reserved += n;
	pthread_mutex_unlock(&f->lock);
	return rc;
}

void
clq__failsafe_unreserve(struct clq__failsafe *f, size_t n)
{
	pthread_mutex_lock(&f->lock);
	f->n_reserved -= n;
	pthread_mutex_unlock(&f->lock);
}

void
clq__failsafe_keep(struct clq__failsafe *f, cl_event ev)
{
	clRetainEvent(ev);
	pthread_mutex_lock(&f->lock);
	f->n_reserved--;
	f->kept[f->n_kept++] = ev;
	/* Sweeping only shrinks the list, so reservations still fit. */
	if (f->n_kept >= f->sweep_at)
		sweep(f);
	pthread_mutex_unlock(&f->lock);
}

int
clq__failsafe_extra_begin(struct clq_context *ctx, size_t n,
			  size_t *reserved_out)
{
	int rc;

	*reserved_out = 0;
	if (!clq__failsafe_active(&ctx->failsafe))
		return CLQ_SUCCESS;
	if ((rc = clq__failsafe_reserve(&ctx->failsafe, n)) < 0)
		return rc;
	*reserved_out = n;
	return CLQ_SUCCESS;
}

void
clq__failsafe_extra_keep(struct clq_context *ctx, cl_event ev, size_t *reserved)
{
	if (!ev)
		return;
	clq__failsafe_keep(&ctx->failsafe, ev);
	(*reserved)--;
	clReleaseEvent(ev);
}

void
clq__failsafe_extra_end(struct clq_context *ctx, size_t reserved)
{
	if (reserved)
		clq__failsafe_unreserve(&ctx->failsafe, reserved);
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

void
clq__failsafe_user_created(struct clq__failsafe *f)
{
	atomic_fetch_add_explicit(&f->pending_user, 1, memory_order_relaxed);
}

/* Before the status is set: commands enqueued from now on are screened. */
void
clq__failsafe_user_failing(struct clq__failsafe *f)
{
	atomic_store(&f->user_failed, 1);
}

void
clq__failsafe_user_completed(struct clq__failsafe *f)
{
	atomic_fetch_sub_explicit(&f->pending_user, 1, memory_order_release);
}
