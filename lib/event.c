/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>

#include "private.h"

/* A user event and its state, in one allocation. */
struct user_event_block {
	struct clq_event event;
	struct clq__user_event user;
};

/*
 * Command events are recycled through a small cache per thread: an enqueue
 * allocates one and most callers drop it soon after, and malloc() with
 * free() cost a third of what clq adds to an enqueue (bench-overhead under
 * callgrind). A thread keeps at most CLQ__EVENT_CACHE_MAX freed events;
 * they go back to malloc when the thread exits (a key destructor) and, for
 * the thread that unloads the library or exits the process, from the
 * library's destructor. The fault-injection build sets the maximum to 0 so
 * that every event allocation can be made to fail.
 */
#ifndef CLQ__EVENT_CACHE_MAX
#define CLQ__EVENT_CACHE_MAX 64
#endif

struct event_cache {
	struct clq_event *head; /* linked through next_free */
	unsigned n;
	/* How many it may hold: 0 until the key holds this thread's cache
	 * (so that its destructor frees them), and again once it ran. */
	unsigned limit;
	int registered;
	int closed; /* the thread is exiting: cache nothing more */
};

/* The default TLS model, not initial-exec: a library with static TLS may
 * fail to dlopen (as ctypes and cffi load it) once the surplus is spent. */
static _Thread_local struct event_cache cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static int cache_key_ok;

static void
cache_close(struct event_cache *c)
{
	c->closed = 1;
	c->limit = 0;
	while (c->head) {
		struct clq_event *e = c->head;

		c->head = e->next_free;
		free(e);
	}
	c->n = 0;
}

static void
cache_thread_exit(void *data)
{
	cache_close(data);
}

static void
cache_key_create(void)
{
	cache_key_ok = pthread_key_create(&cache_key, cache_thread_exit) == 0;
}

/* Lets this thread cache events once its destructor is in place. */
static void
cache_register(struct event_cache *c)
{
	c->registered = 1;
	pthread_once(&cache_once, cache_key_create);
	if (cache_key_ok && pthread_setspecific(cache_key, c) == 0)
		c->limit = CLQ__EVENT_CACHE_MAX;
}

#if defined(__GNUC__)
__attribute__((destructor)) static void
cache_unload(void)
{
	cache_close(&cache);
	if (cache_key_ok)
		pthread_key_delete(cache_key);
	cache_key_ok = 0;
}
#endif

/* Each function below finds the thread's cache once: outside the main
 * program, every lookup of a thread-local is a __tls_get_addr call. */
static struct clq_event *
command_event_alloc(void)
{
	struct event_cache *c = &cache;
	struct clq_event *e = c->head;

	if (!e)
		return malloc(sizeof(*e));
	c->head = e->next_free;
	c->n--;
	return e;
}

static void
cache_push(struct event_cache *c, struct clq_event *e)
{
	e->next_free = c->head;
	c->head = e;
	c->n++;
}

/* Caches `e` if the thread's cache can take it, else frees it. */
static void
command_event_free(struct clq_event *e)
{
	struct event_cache *c = &cache;

	if (c->n < c->limit) {
		cache_push(c, e);
		return;
	}
	if (!c->registered && !c->closed) {
		cache_register(c);
		if (c->n < c->limit) {
			cache_push(c, e);
			return;
		}
	}
	free(e);
}

/* A user event with its state, in one block; NULL when out of memory. */
static struct clq_event *
user_event_new(struct clq_context *ctx)
{
	struct user_event_block *block = calloc(1, sizeof(*block));
	struct clq_event *e;

	if (!block)
		return NULL;
	e = &block->event;
	clq__ref_init(&e->refs);
	e->ctx = clq_context_ref(ctx);
	e->user = &block->user;
	clq__ref_init(&e->user->holders);
	atomic_init(&e->user->completed, 0);
	pthread_mutex_init(&e->user->lock, NULL);
	return e;
}

void
clq__command_event_recycle(struct clq_event *e)
{
	command_event_free(e);
}

void
clq__event_destroy(struct clq_event *e)
{
	clq__clock_drop(e->clock);
	e->clock = NULL;
	if (e->kept && e->cl) {
		clq__failsafe_adopt(e);
		return;
	}
	if (e->cl)
		clReleaseEvent(e->cl);
	clq__context_drop(e->ctx);
	if (!e->user) {
		clq__queue_handle_drop(e->source);
		command_event_free(e);
		return;
	}
	/* Left only if the driver refused to set the status. */
	for (struct clq__callback *cb = e->user->callbacks, *next; cb;
	     cb = next) {
		next = cb->next;
		free(cb);
	}
	pthread_mutex_destroy(&e->user->lock);
	free(e);
}

static int set_user_status(struct clq_event *event, int status);

struct clq_event *
clq__command_event_new(struct clq_queue *queue)
{
	struct clq_event *e = command_event_alloc();

	if (!e)
		return NULL;
	clq__ref_init(&e->refs);
	e->ctx = clq__context_hold(queue->ctx);
	e->cl = NULL;
	e->profiled = (queue->flags & CLQ_QUEUE_PROFILING) != 0;
	e->user = NULL;
	e->kept = 0;
	e->seen = 0;
	e->clock = NULL;
	atomic_init(&e->unflushed, 1);
	e->source = queue->handle;
	clq__ref_get(&e->source->refs);
	return e;
}

/*
 * What a wrapped event keeps of its command's queue: a handle of its own
 * that retains the queue, so that a wait from another queue flushes it
 * first, as for clq's own commands (see flush_source() in queue.c).
 */
static int
wrap_source(struct clq_context *ctx, cl_event cl, struct clq_event *e)
{
	cl_command_queue q = NULL;
	cl_command_queue_properties props = 0;
	int rc = clq__check(
		ctx,
		clGetEventInfo(cl, CL_EVENT_COMMAND_QUEUE, sizeof(q), &q, NULL),
		"clGetEventInfo(CL_EVENT_COMMAND_QUEUE)");

	if (rc < 0 || !q)
		return rc; /* a user event: no queue */
	if ((rc = clq__check(ctx,
			     clGetCommandQueueInfo(q, CL_QUEUE_PROPERTIES,
						   sizeof(props), &props, NULL),
			     "clGetCommandQueueInfo(CL_QUEUE_PROPERTIES)")) < 0)
		return rc;
	if (!(e->source = malloc(sizeof(*e->source))))
		return CL_OUT_OF_HOST_MEMORY;
	if ((rc = clq__check(ctx, clRetainCommandQueue(q),
			     "clRetainCommandQueue")) < 0) {
		free(e->source);
		e->source = NULL;
		return rc;
	}
	clq__ref_init(&e->source->refs);
	e->source->cl = q;
	e->profiled = (props & CL_QUEUE_PROFILING_ENABLE) != 0;
	return CLQ_SUCCESS;
}

int
clq_event_wrap(struct clq_context *ctx, cl_event cl,
	       struct clq_event **event_out)
{
	static const char fn[] = "clq_event_wrap";
	cl_context event_ctx = NULL;
	struct clq_event *e;
	int rc;

	if (!event_out)
		return clq__invalid(ctx, fn, "event_out is NULL");
	*event_out = NULL;
	if (!ctx || !cl)
		return clq__invalid(ctx, fn, "ctx or the cl_event is NULL");
	if ((rc = clq__check(ctx,
			     clGetEventInfo(cl, CL_EVENT_CONTEXT,
					    sizeof(event_ctx), &event_ctx,
					    NULL),
			     "clGetEventInfo(CL_EVENT_CONTEXT)")) < 0)
		return rc;
	if (event_ctx != ctx->cl) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the event belongs to another OpenCL context than "
			 "the clq context's (clq_context_get_cl())",
			 fn);
		return CLQ_ERROR_CONTEXT_MISMATCH;
	}
	if (!(e = command_event_alloc()))
		return CL_OUT_OF_HOST_MEMORY;
	e->profiled = 0;
	e->source = NULL;
	if ((rc = wrap_source(ctx, cl, e)) < 0 ||
	    (rc = clq__check(ctx, clRetainEvent(cl), "clRetainEvent")) < 0) {
		clq__queue_handle_drop(e->source);
		command_event_free(e);
		return rc;
	}
	/* It may fail without clq seeing it, as a user event can. */
	clq__failsafe_foreign(&ctx->failsafe);
	/* Retained, never owned: its creator keeps its own reference. No
	 * clock: ordering sees it as it sees a user event. */
	clq__ref_init(&e->refs);
	e->ctx = clq__context_hold(ctx);
	e->cl = cl;
	e->user = NULL;
	e->kept = 0;
	e->seen = 0;
	e->clock = NULL;
	e->seq = 0;
	atomic_init(&e->unflushed, e->source != NULL);
	*event_out = e;
	return CLQ_SUCCESS;
}

struct clq_event *
clq_event_ref(struct clq_event *event)
{
	if (event) {
		clq__ref_get(&event->refs);
		if (event->user)
			clq__ref_get(&event->user->holders);
	}
	return event;
}

void
clq_event_unref(struct clq_event *event)
{
	if (!event)
		return;
	if (event->user && clq__ref_put(&event->user->holders) && event->cl &&
	    !atomic_exchange(&event->user->completed, 1)) {
		clq__log(event->ctx, CLQ_LOG_WARNING,
			 "a user event was released without being completed; "
			 "it fails with CLQ_ERROR_ABANDONED");
		set_user_status(event, CLQ_ERROR_ABANDONED);
	}
	clq__event_drop(event);
}

struct clq_context *
clq_event_get_context(const struct clq_event *event)
{
	return event ? event->ctx : NULL;
}

cl_event
clq_event_get_cl(const struct clq_event *event)
{
	return event ? event->cl : NULL;
}

int
clq_event_is_user(const struct clq_event *event)
{
	/* A bridged event is one inside, but only its bridge completes it. */
	return event && event->user && !event->user->bridged;
}

int
clq_event_is_profiled(const struct clq_event *event)
{
	return event ? event->profiled : 0;
}

/*
 * PoCL gives -1 to a command that failed because one it waited for did,
 * whatever that one's status: named, it would read CL_DEVICE_NOT_FOUND,
 * which no command runs into.
 */
int
clq__command_failed(struct clq_context *ctx, const char *function,
		    cl_int status)
{
	if (status == CL_DEVICE_NOT_FOUND)
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the command failed (execution status %d)",
			 function, status);
	else
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the command failed with execution status %d "
			 "(%s: %s)",
			 function, status, clq_error_name(status),
			 clq_strerror(status));
	return CLQ_ERROR_COMMAND_FAILED;
}

int
clq__cl_event_ended(cl_event ev)
{
	cl_int status;

	if (clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS,
			   sizeof(status), &status, NULL) != CL_SUCCESS)
		return 1; /* a broken event: nothing will run any more */
	return status <= CL_COMPLETE;
}

cl_int
clq__cl_status_now(cl_event ev)
{
	cl_int status;
	cl_int err = clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS,
				    sizeof(status), &status, NULL);

	return err == CL_SUCCESS ? status : err;
}

_Thread_local int clq__in_cl_callback;

cl_int
clq__cl_event_status(cl_event ev, cl_int *status_out)
{
	cl_int err = clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS,
				    sizeof(*status_out), status_out, NULL);
	cl_int now;

	/* No wait in a driver callback (OpenCL 1.2, section 5.9). */
	if (err != CL_SUCCESS || *status_out != CL_COMPLETE ||
	    clq__in_cl_callback)
		return err;
	/* A wait that fails for another reason does not say the command
	 * failed: the status read stands. */
	if (clWaitForEvents(1, &ev) !=
	    CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
		return CL_SUCCESS;
	/* Failed, by the wait's word, whatever the status says yet. */
	now = clq__cl_status_now(ev);
	*status_out =
		now < 0 ? now : CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST;
	return CL_SUCCESS;
}

cl_int
clq__cl_callback_status(cl_event ev, cl_int status)
{
	cl_int now;

	if (status < 0)
		return status;
	now = clq__cl_status_now(ev);
	return now < 0 ? now : CL_COMPLETE;
}

static int
read_status(struct clq_event *event, cl_int *status)
{
	return clq__check(event->ctx, clq__cl_event_status(event->cl, status),
			  "clGetEventInfo(CL_EVENT_COMMAND_EXECUTION_STATUS)");
}

int
clq_event_wait(struct clq_event *event)
{
	cl_int status = CL_COMPLETE;
	cl_int err;
	int rc;

	if (!event)
		return clq__invalid(NULL, "clq_event_wait", "event is NULL");
	err = clWaitForEvents(1, &event->cl);
	/* A failed command shows as CL_EXEC_STATUS_ERROR_... from some
	 * drivers and as success from others: its status tells. */
	if (err != CL_SUCCESS &&
	    err != CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
		return clq__check(event->ctx, err, "clWaitForEvents");
	clq__failsafe_sweep(event->ctx);
	/* A plain read: the wait's word is what clq__cl_event_status() would
	 * wait again for (a second clWaitForEvents per call). */
	rc = clq__check(event->ctx,
			clGetEventInfo(event->cl,
				       CL_EVENT_COMMAND_EXECUTION_STATUS,
				       sizeof(status), &status, NULL),
			"clGetEventInfo(CL_EVENT_COMMAND_EXECUTION_STATUS)");
	if (rc < 0)
		return rc;
	if (status < 0 || err != CL_SUCCESS) {
		if (status >= 0)
			clq__log(event->ctx, CLQ_LOG_ERROR,
				 "clq_event_wait: the command failed, or one "
				 "it waited for (clWaitForEvents: %s; "
				 "execution status %d)",
				 clq_error_name(err), status);
		else
			clq__command_failed(event->ctx, "clq_event_wait",
					    status);
		/* Not seen: a CL_COMPLETE read here is NVIDIA's early one
		 * (clq__cl_event_status()), or a command that ran after a
		 * failure in its wait list. */
		return CLQ_ERROR_COMMAND_FAILED;
	}
	clq__order_seen(event, status);
	return CLQ_SUCCESS;
}

int
clq_events_wait(struct clq_event *const *events, size_t n)
{
	int first_error = CLQ_SUCCESS;

	if (n == 0)
		return CLQ_SUCCESS;
	if (!events)
		return clq__invalid(NULL, "clq_events_wait",
				    "events is NULL but n > 0");
	for (size_t i = 0; i < n; i++) {
		if (!events[i])
			return clq__invalid(NULL, "clq_events_wait",
					    "an event in the list is NULL");
	}
	for (size_t i = 0; i < n; i++) {
		int rc = clq_event_wait(events[i]);

		if (rc < 0 && first_error == CLQ_SUCCESS)
			first_error = rc;
	}
	return first_error;
}

int
clq_event_get_status(struct clq_event *event, int *status_out)
{
	cl_int status;
	int rc;

	if (!event || !status_out)
		return clq__invalid(event ? event->ctx : NULL,
				    "clq_event_get_status",
				    "event or status_out is NULL");
	rc = read_status(event, &status);
	if (rc == CLQ_SUCCESS)
		*status_out = status;
	if (rc == CLQ_SUCCESS)
		clq__order_seen(event, status);
	return rc;
}

static int
profiling_info(struct clq_event *event, cl_profiling_info param,
	       uint64_t *value)
{
	cl_ulong v = 0;
	cl_int err =
		clGetEventProfilingInfo(event->cl, param, sizeof(v), &v, NULL);

	if (err == CL_PROFILING_INFO_NOT_AVAILABLE) {
		clq__log(event->ctx, CLQ_LOG_ERROR,
			 "the driver has no profiling information for this "
			 "event");
		return CLQ_ERROR_TIMING_UNAVAILABLE;
	}
	*value = v;
	return clq__check(event->ctx, err, "clGetEventProfilingInfo");
}

int
clq__event_read_times(struct clq_event *event, struct clq_event_times *t)
{
	int rc = clq_event_wait(event);

	if (rc < 0)
		return rc;
	if ((rc = profiling_info(event, CL_PROFILING_COMMAND_QUEUED,
				 &t->queued)) < 0 ||
	    (rc = profiling_info(event, CL_PROFILING_COMMAND_SUBMIT,
				 &t->submit)) < 0 ||
	    (rc = profiling_info(event, CL_PROFILING_COMMAND_START,
				 &t->start)) < 0 ||
	    (rc = profiling_info(event, CL_PROFILING_COMMAND_END, &t->end)) < 0)
		return rc;
	if (t->start == 0 || t->end == 0 || t->end < t->start)
		return CLQ_ERROR_TIMING_UNAVAILABLE;
	return CLQ_SUCCESS;
}

/* clq_event_get_times() on behalf of `function`, which names messages. */
static int
event_times(struct clq_event *event, const char *function,
	    struct clq_event_times *times_out)
{
	struct clq_event_times t;
	int rc;

	if (!event->profiled) {
		clq__log(event->ctx, CLQ_LOG_ERROR,
			 "%s: the event is not from a profiling queue (create "
			 "the queue with CLQ_QUEUE_PROFILING, or a queue of "
			 "other code with CL_QUEUE_PROFILING_ENABLE)",
			 function);
		return CLQ_ERROR_PROFILING_DISABLED;
	}
	rc = clq__event_read_times(event, &t);
	if (rc == CLQ_ERROR_TIMING_UNAVAILABLE)
		clq__log(event->ctx, CLQ_LOG_ERROR,
			 "%s: the driver reported unusable timestamps (start "
			 "%llu, end %llu)",
			 function, (unsigned long long)t.start,
			 (unsigned long long)t.end);
	if (rc < 0)
		return rc;
	*times_out = t;
	return CLQ_SUCCESS;
}

int
clq_event_get_times(struct clq_event *event, struct clq_event_times *times_out)
{
	if (!event || !times_out)
		return clq__invalid(event ? event->ctx : NULL,
				    "clq_event_get_times",
				    "event or times_out is NULL");
	return event_times(event, "clq_event_get_times", times_out);
}

/* START(event) - END(prior) in seconds, for `function`. */
static int
time_between(struct clq_event *event, struct clq_event *prior,
	     const char *function, double *seconds_out)
{
	struct clq_event_times now, before;
	int rc;

	if (!event || !prior || !seconds_out)
		return clq__invalid(event ? event->ctx : NULL, function,
				    "an event or seconds_out is NULL");
	if (event->ctx != prior->ctx) {
		clq__log(event->ctx, CLQ_LOG_ERROR,
			 "%s: the events belong to different contexts",
			 function);
		return CLQ_ERROR_CONTEXT_MISMATCH;
	}
	if ((rc = event_times(event, function, &now)) < 0 ||
	    (rc = event_times(prior, function, &before)) < 0)
		return rc;
	/* Unsigned difference read as signed: exact for any real span. */
	*seconds_out = (double)(int64_t)(now.start - before.end) * 1e-9;
	return CLQ_SUCCESS;
}

int
clq_event_time_since(struct clq_event *event, struct clq_event *prior,
		     double *seconds_out)
{
	return time_between(event, prior, "clq_event_time_since", seconds_out);
}

int
clq_event_time_till(struct clq_event *event, struct clq_event *next,
		    double *seconds_out)
{
	return time_between(next, event, "clq_event_time_till", seconds_out);
}

/* Driver-called trampoline for command events. */
static void CL_CALLBACK
run_callback(cl_event cl, cl_int status, void *data)
{
	struct clq__callback *cb = data;

	clq__in_cl_callback++;
	cb->fn(cb->event, clq__cl_callback_status(cl, status), cb->user_data);
	clq__event_drop(cb->event);
	clq__in_cl_callback--;
	free(cb);
}

/*
 * User events: clq knows when they complete, so it runs their callbacks
 * itself, the same on every driver. Returns 1 when queued, 0 when the
 * status is already known and the caller must run the callback.
 */
static int
queue_user_callback(struct clq_event *event, struct clq__callback *cb,
		    int *status_out)
{
	int queued;

	pthread_mutex_lock(&event->user->lock);
	queued = !event->user->status_known;
	if (queued) {
		/* Appended, so callbacks run in registration order. */
		struct clq__callback **tail = &event->user->callbacks;

		while (*tail)
			tail = &(*tail)->next;
		cb->next = NULL;
		*tail = cb;
	}
	*status_out = event->user->final_status;
	pthread_mutex_unlock(&event->user->lock);
	return queued;
}

int
clq_event_set_callback(struct clq_event *event, clq_event_callback_fn fn,
		       void *user_data)
{
	struct clq__callback *cb;
	cl_int err;
	int status;

	if (!event || !fn)
		return clq__invalid(event ? event->ctx : NULL,
				    "clq_event_set_callback",
				    "event or fn is NULL");
	cb = malloc(sizeof(*cb));
	if (!cb)
		return CL_OUT_OF_HOST_MEMORY;
	cb->event = event;
	cb->fn = fn;
	cb->user_data = user_data;
	if (event->user) {
		if (!queue_user_callback(event, cb, &status)) {
			free(cb);
			fn(event, status, user_data);
		}
		return CLQ_SUCCESS;
	}
	/* A reference that is not a holder's, dropped after the call. */
	clq__ref_get(&event->refs);
	err = clSetEventCallback(event->cl, CL_COMPLETE, run_callback, cb);
	if (err != CL_SUCCESS) {
		clq__event_drop(event);
		free(cb);
		return clq__check(event->ctx, err, "clSetEventCallback");
	}
	return CLQ_SUCCESS;
}

/* Sets a user event's status once, then runs its callbacks. */
static int
set_user_status(struct clq_event *event, int status)
{
	struct clq__failsafe *failsafe = &event->ctx->failsafe;
	struct clq__callback *list, *next;
	int rc;

	if (status < 0)
		clq__failsafe_user_failing(failsafe);
	rc = clq__check(event->ctx, clSetUserEventStatus(event->cl, status),
			"clSetUserEventStatus");
	if (rc < 0) {
		atomic_store(&event->user->completed,
			     0); /* it may be retried */
		return rc;
	}
	clq__failsafe_user_completed(failsafe);
	clq__failsafe_sweep(event->ctx);
	pthread_mutex_lock(&event->user->lock);
	event->user->status_known = 1;
	event->user->final_status = status;
	list = event->user->callbacks;
	event->user->callbacks = NULL;
	pthread_mutex_unlock(&event->user->lock);
	for (; list; list = next) {
		next = list->next;
		list->fn(event, status, list->user_data);
		free(list);
	}
	return rc;
}

int
clq_user_event_create(struct clq_context *ctx, struct clq_event **event_out)
{
	struct clq_event *e;
	cl_int err = CL_SUCCESS;

	if (!event_out)
		return clq__invalid(ctx, "clq_user_event_create",
				    "event_out is NULL");
	*event_out = NULL;
	if (!ctx)
		return clq__invalid(NULL, "clq_user_event_create",
				    "ctx is NULL");
	e = user_event_new(ctx);
	if (!e)
		return CL_OUT_OF_HOST_MEMORY;
	e->cl = clCreateUserEvent(ctx->cl, &err);
	if (err != CL_SUCCESS) {
		clq_event_unref(e);
		return clq__check(ctx, err, "clCreateUserEvent");
	}
	clq__failsafe_user_created(&ctx->failsafe);
	*event_out = e;
	return CLQ_SUCCESS;
}

int
clq_user_event_complete(struct clq_event *event, int status)
{
	if (!event)
		return clq__invalid(NULL, "clq_user_event_complete",
				    "event is NULL");
	if (status > 0) {
		clq__log(event->ctx, CLQ_LOG_ERROR,
			 "clq_user_event_complete: status %d is neither "
			 "CL_COMPLETE nor negative",
			 status);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	if (!event->user || event->user->bridged) {
		clq__log(event->ctx, CLQ_LOG_ERROR,
			 "clq_user_event_complete: not a user event%s",
			 event->user ? " (a bridged event, which its bridge "
				       "completes)"
				     : "");
		return CLQ_ERROR_NOT_USER_EVENT;
	}
	if (atomic_exchange(&event->user->completed, 1)) {
		clq__log(event->ctx, CLQ_LOG_ERROR,
			 "clq_user_event_complete: already completed");
		return CLQ_ERROR_ALREADY_COMPLETE;
	}
	return set_user_status(event, status);
}

/* ---------------------------------------------------------------- bridge */

/*
 * Completes a bridged event with its source's status, on the hook thread,
 * and drops the bridge's reference. Where the driver refuses the status,
 * the bridged event is failed with the driver's code, so that commands
 * waiting for it fail rather than wait for ever.
 */
static void
bridge_done(void *data, struct clq_event *source, int status)
{
	struct clq_event *bridged = data;
	int rc;

	(void)source;
	atomic_store(&bridged->user->completed, 1);
	rc = set_user_status(bridged, status < 0 ? status : CL_COMPLETE);
	if (rc < 0) {
		atomic_store(&bridged->user->completed, 1);
		if (set_user_status(bridged, rc < 0 && rc > -1000
						     ? rc
						     : CL_OUT_OF_RESOURCES) < 0)
			clq__log(bridged->ctx, CLQ_LOG_ERROR,
				 "clq_event_bridge: cannot complete the "
				 "bridged event; commands waiting for it "
				 "will not start");
	}
	clq_event_unref(bridged);
}

int
clq_event_bridge(struct clq_event *event, struct clq_context *ctx,
		 struct clq_event **bridged_out)
{
	struct clq_event *b;
	int rc;

	if (!bridged_out)
		return clq__invalid(ctx, "clq_event_bridge",
				    "bridged_out is NULL");
	*bridged_out = NULL;
	if (!event)
		return clq__invalid(ctx, "clq_event_bridge", "event is NULL");
	if (!ctx)
		return clq__invalid(event->ctx, "clq_event_bridge",
				    "ctx is NULL; expected the context of "
				    "the bridged event");
	if (event->ctx == ctx) {
		*bridged_out = clq_event_ref(event);
		return CLQ_SUCCESS;
	}
	rc = clq_user_event_create(ctx, &b);
	if (rc < 0)
		return rc;
	b->user->bridged = 1;
	/* The bridge's own reference counts as a holder's: a bridged event
	 * the caller drops while commands wait for it is not abandoned. */
	clq_event_ref(b);
	rc = clq__on_completion(event, bridge_done, b);
	if (rc < 0) {
		/* Nothing waits for it: completed quietly, not abandoned,
		 * which would log a warning about the caller and fail it
		 * (turning on `ctx`'s failure-safe path for good). */
		atomic_store(&b->user->completed, 1);
		set_user_status(b, CL_COMPLETE);
		clq_event_unref(b);
		clq_event_unref(b);
		return rc;
	}
	*bridged_out = b;
	return CLQ_SUCCESS;
}
