/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include "private.h"

/* Queue ids start at 1 and are never reused (see clq__host_array_track). */
static atomic_uint_fast64_t next_queue_id = 1;

/* A clq queue over `wrap`, an OpenCL queue retained for it, or over a new
 * one when `wrap` is NULL. */
static int
queue_new(struct clq_context *ctx, const char *function, unsigned flags,
	  cl_command_queue wrap, struct clq_queue **queue_out)
{
	struct clq_queue *queue;
	cl_command_queue_properties props = 0;
	cl_int err = CL_SUCCESS;

	if (!wrap && (flags & CLQ_QUEUE_PROFILING)) {
		if (!clq_device_can_profile(ctx->device)) {
			clq__log(ctx, CLQ_LOG_ERROR,
				 "%s: device '%s' cannot profile queues",
				 function, clq_device_get_name(ctx->device));
			return CLQ_ERROR_PROFILING_DISABLED;
		}
		props |= CL_QUEUE_PROFILING_ENABLE;
	}
	queue = calloc(1, sizeof(*queue));
	if (!queue)
		return CL_OUT_OF_HOST_MEMORY;
	queue->handle = malloc(sizeof(*queue->handle));
	if (!queue->handle) {
		free(queue);
		return CL_OUT_OF_HOST_MEMORY;
	}
	if ((flags & CLQ_QUEUE_TUNING) &&
	    pthread_mutex_init(&queue->tune_lock, NULL) != 0) {
		free(queue->handle);
		free(queue);
		return CL_OUT_OF_HOST_MEMORY;
	}
	if (wrap) {
		/* Retained, never owned: its creator keeps its own. */
		err = clRetainCommandQueue(wrap);
		queue->cl = wrap;
	} else {
		queue->cl = clCreateCommandQueue(ctx->cl, ctx->device->id,
						 props, &err);
	}
	if (err != CL_SUCCESS) {
		if (flags & CLQ_QUEUE_TUNING)
			pthread_mutex_destroy(&queue->tune_lock);
		free(queue->handle);
		free(queue);
		return clq__check(ctx, err,
				  wrap ? "clRetainCommandQueue"
				       : "clCreateCommandQueue");
	}
	/* The handle holds the queue's one OpenCL reference. */
	clq__ref_init(&queue->handle->refs);
	queue->handle->cl = queue->cl;
	clq__ref_init(&queue->refs);
	queue->ctx = ctx;
	if (clq__order_queue_add(queue) < 0) {
		clReleaseCommandQueue(queue->cl);
		if (flags & CLQ_QUEUE_TUNING)
			pthread_mutex_destroy(&queue->tune_lock);
		free(queue->handle);
		free(queue);
		return CL_OUT_OF_HOST_MEMORY;
	}
	clq_context_ref(ctx);
	queue->flags = flags;
	queue->id = atomic_fetch_add_explicit(&next_queue_id, 1,
					      memory_order_relaxed);
	*queue_out = queue;
	return CLQ_SUCCESS;
}

int
clq_queue_create(struct clq_context *ctx, unsigned flags,
		 struct clq_queue **queue_out)
{
	static const char fn[] = "clq_queue_create";

	if (!queue_out)
		return clq__invalid(ctx, fn, "queue_out is NULL");
	*queue_out = NULL;
	if (!ctx)
		return clq__invalid(NULL, fn, "ctx is NULL");
	if (flags & ~(unsigned)CLQ_QUEUE_PROFILING) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: unknown flags 0x%x (tuning queues come from "
			 "clq_queue_create_tuning())",
			 fn, flags & ~(unsigned)CLQ_QUEUE_PROFILING);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	return queue_new(ctx, fn, flags, NULL, queue_out);
}

int
clq_queue_create_tuning(struct clq_context *ctx, struct clq_queue **queue_out)
{
	static const char fn[] = "clq_queue_create_tuning";

	if (!queue_out)
		return clq__invalid(ctx, fn, "queue_out is NULL");
	*queue_out = NULL;
	if (!ctx)
		return clq__invalid(NULL, fn, "ctx is NULL");
	return queue_new(ctx, fn, CLQ_QUEUE_PROFILING | CLQ_QUEUE_TUNING, NULL,
			 queue_out);
}

#ifndef CL_QUEUE_ON_DEVICE
#define CL_QUEUE_ON_DEVICE (1 << 2) /* OpenCL 2.0 */
#endif

int
clq_queue_wrap(struct clq_context *ctx, cl_command_queue cl,
	       struct clq_queue **queue_out)
{
	static const char fn[] = "clq_queue_wrap";
	cl_context queue_ctx = NULL;
	cl_device_id device = NULL;
	cl_command_queue_properties props = 0;
	int rc;

	if (!queue_out)
		return clq__invalid(ctx, fn, "queue_out is NULL");
	*queue_out = NULL;
	if (!ctx || !cl)
		return clq__invalid(ctx, fn,
				    "ctx or the cl_command_queue is NULL");
	if ((rc = clq__check(ctx,
			     clGetCommandQueueInfo(cl, CL_QUEUE_CONTEXT,
						   sizeof(queue_ctx),
						   &queue_ctx, NULL),
			     "clGetCommandQueueInfo(CL_QUEUE_CONTEXT)")) < 0 ||
	    (rc = clq__check(ctx,
			     clGetCommandQueueInfo(cl, CL_QUEUE_DEVICE,
						   sizeof(device), &device,
						   NULL),
			     "clGetCommandQueueInfo(CL_QUEUE_DEVICE)")) < 0 ||
	    (rc = clq__check(ctx,
			     clGetCommandQueueInfo(cl, CL_QUEUE_PROPERTIES,
						   sizeof(props), &props, NULL),
			     "clGetCommandQueueInfo(CL_QUEUE_PROPERTIES)")) < 0)
		return rc;
	if (queue_ctx != ctx->cl) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the queue belongs to another OpenCL context than "
			 "the clq context's (clq_context_get_cl()); wrap that "
			 "context with clq_context_wrap() first",
			 fn);
		return CLQ_ERROR_CONTEXT_MISMATCH;
	}
	if (device != ctx->device->id) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the queue runs on another device of the OpenCL "
			 "context than the clq context's '%s'",
			 fn, ctx->device->name);
		return CLQ_ERROR_CONTEXT_MISMATCH;
	}
	if (props &
	    (CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE | CL_QUEUE_ON_DEVICE)) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the queue is %s; clq's queues run their commands "
			 "in order on the host's behalf",
			 fn,
			 props & CL_QUEUE_ON_DEVICE ? "a device-side queue"
						    : "out of order");
		return CLQ_ERROR_UNSUPPORTED;
	}
	return queue_new(ctx, fn,
			 props & CL_QUEUE_PROFILING_ENABLE ? CLQ_QUEUE_PROFILING
							   : 0,
			 cl, queue_out);
}

struct clq_queue *
clq_queue_ref(struct clq_queue *queue)
{
	if (queue)
		clq__ref_get(&queue->refs);
	return queue;
}

void
clq_queue_unref(struct clq_queue *queue)
{
	if (!queue || !clq__ref_put(&queue->refs))
		return;
	/* Flush now: the handle may outlive the queue in its events, and
	 * releasing the OpenCL queue (which flushes) waits for the last. */
	clq__order_queue_remove(queue);
	clFlush(queue->cl);
	clq__queue_handle_drop(queue->handle);
	while (queue->observers)
		clq__queue_remove_observer(queue, queue->observers);
	if (queue->flags & CLQ_QUEUE_TUNING) {
		clq__event_drop(queue->tune_first);
		clq__event_drop(queue->tune_last);
		pthread_mutex_destroy(&queue->tune_lock);
	}
	clq_context_unref(queue->ctx);
	free(queue);
}

void
clq__queue_handle_drop(struct clq__queue_handle *h)
{
	if (!h || !clq__ref_put(&h->refs))
		return;
	/* clReleaseCommandQueue flushes; enqueued commands still run. */
	clReleaseCommandQueue(h->cl);
	free(h);
}

void
clq__queue_add_observer(struct clq_queue *q, struct clq__observer *o)
{
	o->next = q->observers;
	q->observers = o;
}

void
clq__queue_remove_observer(struct clq_queue *q, struct clq__observer *o)
{
	for (struct clq__observer **link = &q->observers; *link;
	     link = &(*link)->next) {
		if (*link == o) {
			*link = o->next;
			o->ops->detach(o);
			return;
		}
	}
}

struct clq__observer *
clq__queue_find_observer(const struct clq_queue *q,
			 const struct clq__observer_ops *ops)
{
	for (struct clq__observer *o = q->observers; o; o = o->next)
		if (o->ops == ops)
			return o;
	return NULL;
}

struct clq_context *
clq_queue_get_context(const struct clq_queue *queue)
{
	return queue ? queue->ctx : NULL;
}

cl_command_queue
clq_queue_get_cl(const struct clq_queue *queue)
{
	return queue ? queue->cl : NULL;
}

unsigned
clq_queue_get_flags(const struct clq_queue *queue)
{
	return queue ? queue->flags : 0;
}

/* Holds the first and the latest command enqueued while tuning. */
static void
tune_record(struct clq_queue *queue, struct clq_event *ev)
{
	pthread_mutex_lock(&queue->tune_lock);
	if (queue->tuning) {
		if (!queue->tune_first)
			queue->tune_first = clq__event_hold(ev);
		clq__event_drop(queue->tune_last);
		queue->tune_last = clq__event_hold(ev);
	}
	pthread_mutex_unlock(&queue->tune_lock);
}

static int
check_tuning_queue(struct clq_queue *queue, const char *function)
{
	if (!queue)
		return clq__invalid(NULL, function, "queue is NULL");
	if (!(queue->flags & CLQ_QUEUE_TUNING)) {
		clq__log(queue->ctx, CLQ_LOG_ERROR,
			 "%s: the queue is not a tuning queue (see "
			 "clq_queue_create_tuning())",
			 function);
		return CLQ_ERROR_NOT_TUNING;
	}
	return CLQ_SUCCESS;
}

int
clq_queue_start_tuning(struct clq_queue *queue)
{
	struct clq_event *first, *last;
	int rc = check_tuning_queue(queue, "clq_queue_start_tuning");

	if (rc < 0)
		return rc;
	pthread_mutex_lock(&queue->tune_lock);
	first = queue->tune_first;
	last = queue->tune_last;
	queue->tune_first = queue->tune_last = NULL;
	queue->tuning = 1;
	pthread_mutex_unlock(&queue->tune_lock);
	clq__event_drop(first);
	clq__event_drop(last);
	return CLQ_SUCCESS;
}

int
clq_queue_stop_tuning(struct clq_queue *queue, double *seconds_out)
{
	static const char fn[] = "clq_queue_stop_tuning";
	struct clq_event *first, *last;
	struct clq_event_times start, end;
	int tuning, rc;

	if (!seconds_out)
		return clq__invalid(queue ? queue->ctx : NULL, fn,
				    "seconds_out is NULL");
	*seconds_out = 0;
	if ((rc = check_tuning_queue(queue, fn)) < 0)
		return rc;
	pthread_mutex_lock(&queue->tune_lock);
	tuning = queue->tuning;
	first = queue->tune_first;
	last = queue->tune_last;
	queue->tune_first = queue->tune_last = NULL;
	queue->tuning = 0;
	pthread_mutex_unlock(&queue->tune_lock);
	if (!tuning) {
		clq__log(queue->ctx, CLQ_LOG_ERROR,
			 "%s: clq_queue_start_tuning() was not called", fn);
		return CLQ_ERROR_NOT_TUNING;
	}
	/* Reading the times waits for the commands, and reports a failed
	 * one as such (some drivers' clFinish returns its raw status). */
	if (!first)
		rc = clq_queue_finish(queue);
	else if ((rc = clq_event_get_times(last, &end)) == CLQ_SUCCESS &&
		 (rc = clq_event_get_times(first, &start)) == CLQ_SUCCESS)
		*seconds_out = end.end > start.start
				       ? (double)(end.end - start.start) * 1e-9
				       : 0.0;
	clq__event_drop(first);
	clq__event_drop(last);
	return rc;
}

/* Logs why wait list entry `i` was refused. */
static int
wait_list_refuse(struct clq_context *ctx, const char *function,
		 const struct clq_event *entry, size_t i)
{
	if (!entry) {
		clq__log(ctx, CLQ_LOG_ERROR, "%s: wait list entry %zu is NULL",
			 function, i);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	clq__log(ctx, CLQ_LOG_ERROR,
		 "%s: wait list entry %zu belongs to another context", function,
		 i);
	return CLQ_ERROR_CONTEXT_MISMATCH;
}

static void
wait_list_free(cl_event *list, const cl_event *inline_buf)
{
	if (list != inline_buf)
		free(list);
}

/*
 * Flushes the queue that `entry`'s command was enqueued on, once, before a
 * command of `queue` waits for it: OpenCL 1.2 section 5.13 says a wait on
 * an event of another queue is undefined unless that queue was flushed.
 */
static CLQ__ALWAYS_INLINE int
flush_source(struct clq_queue *queue, struct clq_event *entry)
{
	if (!entry->source || entry->source == queue->handle ||
	    !atomic_load_explicit(&entry->unflushed, memory_order_relaxed) ||
	    !atomic_exchange(&entry->unflushed, 0))
		return CLQ_SUCCESS;
	return clq__check(queue->ctx, clFlush(entry->source->cl), "clFlush");
}

/*
 * Converts a clq wait list of n_wait > 0 events into the cl_event array
 * OpenCL wants, checking pointers and contexts, and flushes the queues
 * the entries come from (flush_source()). Uses `inline_buf` (of
 * CLQ__WAIT_INLINE entries) when it is large enough, otherwise allocates;
 * release with wait_list_free(). `function` names the caller in logs.
 */
static CLQ__ALWAYS_INLINE int
wait_list(struct clq_queue *queue, const char *function,
	  struct clq_event *const *wait, size_t n_wait, cl_event *inline_buf,
	  cl_event **list_out)
{
	struct clq_context *ctx = queue->ctx;
	cl_event *list = inline_buf;
	int rc;

	if (!wait)
		return clq__invalid(ctx, function,
				    "the wait list is NULL but n_wait > 0");
	if (n_wait > CLQ__WAIT_INLINE) {
		if (n_wait > (cl_uint)-1)
			return clq__invalid(ctx, function,
					    "n_wait is too large");
		list = calloc(n_wait, sizeof(*list));
		if (!list)
			return CL_OUT_OF_HOST_MEMORY;
	}
	for (size_t i = 0; i < n_wait; i++) {
		struct clq_event *entry = wait[i];

		if (!entry || entry->ctx != ctx) {
			wait_list_free(list, inline_buf);
			return wait_list_refuse(ctx, function, entry, i);
		}
		list[i] = entry->cl;
	}
	for (size_t i = 0; i < n_wait; i++) {
		if ((rc = flush_source(queue, wait[i])) < 0) {
			wait_list_free(list, inline_buf);
			return rc;
		}
	}
	*list_out = list;
	return CLQ_SUCCESS;
}

/* Whether the command needs a clq event even if the caller wants none. */
static CLQ__ALWAYS_INLINE int
needs_event(const struct clq_queue *queue, const struct clq__command *command,
	    int kept)
{
	return kept || command->enqueued || command->blocking ||
	       queue->observers || (queue->flags & CLQ_QUEUE_TUNING);
}

/*
 * The failsafe's part of an enqueue (see failsafe.c): whether the command's
 * event must be kept and, once a user event has failed, a screened wait
 * list.
 */
static CLQ__ALWAYS_INLINE int
failsafe_begin(struct clq_context *ctx, cl_event *list, cl_uint n_wait,
	       int *kept, cl_event *stand_in, cl_int *status)
{
	struct clq__failsafe *f = &ctx->failsafe;

	*stand_in = NULL;
	if (!clq__failsafe_active(f))
		return CLQ_SUCCESS;
	*kept = f->needed;
	if (n_wait && atomic_load(&f->user_failed))
		return clq__failsafe_screen(ctx, list, n_wait, stand_in,
					    status);
	return CLQ_SUCCESS;
}

/*
 * Appends AUTO's extra waits to the converted wait list `*list` of
 * `n_wait` entries (which may be `inline_buf`), flushing their queues.
 */
static int
wait_list_extend(struct clq_queue *queue, const struct clq__order_plan *plan,
		 size_t n_wait, cl_event *inline_buf, cl_event **list)
{
	size_t n = n_wait + plan->n_extra;
	cl_event *l = *list ? *list : inline_buf;
	int rc;

	if (n > CLQ__WAIT_INLINE) {
		if (n > (cl_uint)-1)
			return clq__invalid(queue->ctx, "clq__enqueue",
					    "the wait list is too long");
		if (!(l = malloc(n * sizeof(*l))))
			return CL_OUT_OF_HOST_MEMORY;
		if (n_wait)
			memcpy(l, *list, n_wait * sizeof(*l));
		wait_list_free(*list, inline_buf);
	}
	for (size_t i = 0; i < plan->n_extra; i++)
		l[n_wait + i] = plan->extra[i]->cl;
	*list = l;
	for (size_t i = 0; i < plan->n_extra; i++)
		if ((rc = flush_source(queue, plan->extra[i])) < 0)
			return rc;
	return CLQ_SUCCESS;
}

/*
 * Waits for a blocking command, enqueued without blocking: a blocking call
 * returns once its command has ended, and ending includes failing. Behind
 * a command that fails (a user event failed from another thread), PoCL's
 * blocking calls return CL_SUCCESS having done nothing, and NVIDIA's
 * return the failed status as if the call itself were wrong; the event's
 * status says the same on both. A wait that fails for another reason must
 * still not return while the command may touch the caller's memory.
 */
static int
wait_blocking(struct clq_queue *queue, const char *function,
	      struct clq_event *ev)
{
	cl_int status = CL_COMPLETE;
	cl_int err = clWaitForEvents(1, &ev->cl);

	if (err != CL_SUCCESS &&
	    err != CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST) {
		int rc = clq__check(queue->ctx, err, "clWaitForEvents");

		clFinish(queue->cl);
		return rc;
	}
	if (clGetEventInfo(ev->cl, CL_EVENT_COMMAND_EXECUTION_STATUS,
			   sizeof(status), &status, NULL) != CL_SUCCESS)
		status = CL_COMPLETE; /* the wait said it ended */
	/* The wait's word when the status has not caught up: NVIDIA shows
	 * a command that failed through one before it as CL_COMPLETE for
	 * a while (see clq__cl_event_status()). */
	if (status >= CL_COMPLETE && err != CL_SUCCESS)
		status = err;
	clq__order_seen(ev, status);
	if (status < 0)
		return clq__command_failed(queue->ctx, function, status);
	return CLQ_SUCCESS;
}

/*
 * The enqueue protocol (see clq__enqueue()) once the queue is known, for
 * an ordering mode: always inlined, so that the MANUAL copy, with
 * `ordering` a constant 0, carries none of the ordering code.
 */
static CLQ__ALWAYS_INLINE int
enqueue_with(struct clq_queue *queue, const char *function,
	     const struct clq__command *command, struct clq_event *const *wait,
	     size_t n_wait, struct clq_event **event_out, int ordering)
{
	cl_event inline_buf[CLQ__WAIT_INLINE];
	cl_event *list = NULL;
	struct clq_event *ev = NULL;
	cl_event cl = NULL, stand_in = NULL;
	cl_int failed_status = 0;
	struct clq__order_plan plan;
	struct clq__order *order = &queue->ctx->order;
	int kept = 0;
	size_t n_list = n_wait;
	int rc;

	if (n_wait && (rc = wait_list(queue, function, wait, n_wait, inline_buf,
				      &list)) < 0)
		return rc;
	if (ordering) {
		pthread_mutex_lock(&order->lock);
		rc = clq__order_plan(queue, function, command, wait, n_wait,
				     ordering, &plan);
		if (rc == CLQ_SUCCESS && plan.n_extra) {
			rc = wait_list_extend(queue, &plan, n_wait, inline_buf,
					      &list);
			n_list += plan.n_extra;
		}
		if (rc < 0)
			goto out;
	}
	if ((rc = failsafe_begin(queue->ctx, list, (cl_uint)n_list, &kept,
				 &stand_in, &failed_status)) < 0)
		goto out;
	if ((event_out || needs_event(queue, command, kept) ||
	     (ordering && command->n_touches)) &&
	    !(ev = clq__command_event_new(queue))) {
		rc = CL_OUT_OF_HOST_MEMORY;
		goto out;
	}
	if (ev)
		ev->kept = (unsigned char)kept;
	rc = command->enqueue(queue, (cl_uint)n_list, list, ev ? &cl : NULL,
			      command->data);
	if (ev) {
		/* Set even on failure: a driver may fill the event of a
		 * command it reports as failed, and dropping releases it. */
		ev->cl = cl;
		if (rc < 0) {
			clq__event_drop(ev);
			ev = NULL;
		}
	}
	if (ordering && rc == CLQ_SUCCESS)
		clq__order_commit(queue, command, &plan, ev);
out:
	if (ordering) {
		pthread_mutex_unlock(&order->lock);
		clq__order_plan_free(&plan);
	}
	/* The command, if enqueued, has its event: failing the stand-in
	 * now fails the command. */
	if (stand_in)
		clq__failsafe_fail_stand_in(queue->ctx, stand_in,
					    failed_status);
	wait_list_free(list, inline_buf);
	if (rc < 0 || !ev)
		return rc;
	if (command->enqueued)
		command->enqueued(queue, ev, command->data);
	if (queue->flags & CLQ_QUEUE_TUNING)
		tune_record(queue, ev);
	for (struct clq__observer *o = queue->observers; o; o = o->next)
		o->ops->enqueued(o, queue, command, ev);
	if (command->blocking)
		rc = wait_blocking(queue, function, ev);
	if (event_out && rc == CLQ_SUCCESS)
		*event_out = ev;
	else
		clq__event_drop(ev);
	return rc;
}

/* The CHECK and AUTO copy, out of the MANUAL path's way. */
static CLQ__NOINLINE int
enqueue_ordered(struct clq_queue *queue, const char *function,
		const struct clq__command *command,
		struct clq_event *const *wait, size_t n_wait,
		struct clq_event **event_out, int ordering)
{
	return enqueue_with(queue, function, command, wait, n_wait, event_out,
			    ordering);
}

int
clq__enqueue(struct clq_queue *queue, const char *function,
	     const struct clq__command *command, struct clq_event *const *wait,
	     size_t n_wait, struct clq_event **event_out)
{
	int ordering;

	if (event_out)
		*event_out = NULL;
	if (!queue)
		return clq__invalid(NULL, function, "queue is NULL");
	if ((ordering = clq__ordering_start(queue->ctx)))
		return enqueue_ordered(queue, function, command, wait, n_wait,
				       event_out, ordering);
	return enqueue_with(queue, function, command, wait, n_wait, event_out,
			    0);
}

static int
enqueue_marker(struct clq_queue *q, cl_uint n_wait, const cl_event *list,
	       cl_event *ev, void *data)
{
	(void)data;
	return clq__check(q->ctx,
			  clEnqueueMarkerWithWaitList(q->cl, n_wait, list, ev),
			  "clEnqueueMarkerWithWaitList");
}

static int
enqueue_barrier(struct clq_queue *q, cl_uint n_wait, const cl_event *list,
		cl_event *ev, void *data)
{
	(void)data;
	return clq__check(q->ctx,
			  clEnqueueBarrierWithWaitList(q->cl, n_wait, list, ev),
			  "clEnqueueBarrierWithWaitList");
}

static const struct clq__command marker_command = {.enqueue = enqueue_marker,
						   .label = "marker"};
static const struct clq__command barrier_command = {.enqueue = enqueue_barrier,
						    .label = "barrier"};

int
clq_queue_enqueue_marker(struct clq_queue *queue, struct clq_event *const *wait,
			 size_t n_wait, struct clq_event **event_out)
{
	return clq__enqueue(queue, "clq_queue_enqueue_marker", &marker_command,
			    wait, n_wait, event_out);
}

int
clq_queue_enqueue_barrier(struct clq_queue *queue,
			  struct clq_event *const *wait, size_t n_wait,
			  struct clq_event **event_out)
{
	return clq__enqueue(queue, "clq_queue_enqueue_barrier",
			    &barrier_command, wait, n_wait, event_out);
}

int
clq_queue_enqueue_wait_for_events(struct clq_queue *queue,
				  struct clq_event *const *events, size_t n)
{
	if (!queue)
		return clq__invalid(NULL, "clq_queue_enqueue_wait_for_events",
				    "queue is NULL");
	if (n == 0)
		return CLQ_SUCCESS;
	return clq__enqueue(queue, "clq_queue_enqueue_wait_for_events",
			    &barrier_command, events, n, NULL);
}

int
clq_queue_flush(struct clq_queue *queue)
{
	if (!queue)
		return clq__invalid(NULL, "clq_queue_flush", "queue is NULL");
	return clq__check(queue->ctx, clFlush(queue->cl), "clFlush");
}

/*
 * clFinish's result, the same on every driver: OpenCL 1.2 (section 5.13)
 * gives it three errors of its own; NVIDIA's returns the execution status
 * of a command of the queue that failed instead (a failed user event's
 * CL_INVALID_VALUE, say), where PoCL returns CL_SUCCESS. Every command has
 * ended either way, and a failed one's event says so.
 */
static int
finish_status(struct clq_context *ctx, const char *function, cl_int err)
{
	if (err == CL_SUCCESS || err == CL_INVALID_COMMAND_QUEUE ||
	    err == CL_OUT_OF_RESOURCES || err == CL_OUT_OF_HOST_MEMORY)
		return clq__check(ctx, err, "clFinish");
	clq__log(ctx, CLQ_LOG_INFO,
		 "%s: clFinish returned %s, the status of a command of the "
		 "queue that failed; every command has ended",
		 function, clq_error_name(err));
	return CLQ_SUCCESS;
}

int
clq_queue_finish(struct clq_queue *queue)
{
	uint64_t seq;
	int rc;

	if (!queue)
		return clq__invalid(NULL, "clq_queue_finish", "queue is NULL");
	seq = clq__order_finish_begin(queue);
	rc = finish_status(queue->ctx, "clq_queue_finish", clFinish(queue->cl));
	clq__failsafe_sweep(queue->ctx);
	if (rc == CLQ_SUCCESS)
		clq__order_finished(queue, seq);
	return rc;
}

int
clq_context_finish(struct clq_context *ctx)
{
	static const char fn[] = "clq_context_finish";
	struct clq__live_queue *queues;
	size_t n;
	int rc, first = CLQ_SUCCESS;

	if (!ctx)
		return clq__invalid(NULL, fn, "ctx is NULL");
	if ((rc = clq__order_live_queues(ctx, &queues, &n)) < 0)
		return rc;
	/* Every queue, even after one fails: the call promises that what
	 * was enqueued on all of them has ended. */
	for (size_t i = 0; i < n; i++) {
		rc = finish_status(ctx, fn, clFinish(queues[i].handle->cl));
		if (rc == CLQ_SUCCESS)
			clq__order_slot_finished(ctx, queues[i].slot,
						 queues[i].seq);
		else if (first == CLQ_SUCCESS)
			first = rc;
		clq__queue_handle_drop(queues[i].handle);
	}
	free(queues);
	clq__failsafe_sweep(ctx);
	return first;
}
