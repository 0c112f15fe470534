/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>

#include "private.h"

int
clq_queue_create(struct clq_context *ctx, unsigned flags,
		 struct clq_queue **queue_out)
{
	struct clq_queue *queue;
	cl_command_queue_properties props = 0;
	cl_int err = CL_SUCCESS;

	if (!queue_out)
		return clq__invalid(ctx, "clq_queue_create",
				    "queue_out is NULL");
	*queue_out = NULL;
	if (!ctx)
		return clq__invalid(NULL, "clq_queue_create", "ctx is NULL");
	if (flags & ~(unsigned)CLQ_QUEUE_PROFILING) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "clq_queue_create: unknown flags 0x%x",
			 flags & ~(unsigned)CLQ_QUEUE_PROFILING);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	if (flags & CLQ_QUEUE_PROFILING) {
		if (!clq_device_can_profile(ctx->device)) {
			clq__log(ctx, CLQ_LOG_ERROR,
				 "clq_queue_create: device '%s' cannot "
				 "profile queues",
				 clq_device_get_name(ctx->device));
			return CLQ_ERROR_PROFILING_DISABLED;
		}
		props |= CL_QUEUE_PROFILING_ENABLE;
	}
	queue = calloc(1, sizeof(*queue));
	if (!queue)
		return CL_OUT_OF_HOST_MEMORY;
	queue->cl = clCreateCommandQueue(ctx->cl, ctx->device->id, props, &err);
	if (err != CL_SUCCESS) {
		free(queue);
		return clq__check(ctx, err, "clCreateCommandQueue");
	}
	atomic_init(&queue->refs, 1);
	queue->ctx = clq_context_ref(ctx);
	queue->flags = flags;
	*queue_out = queue;
	return CLQ_SUCCESS;
}

struct clq_queue *
clq_queue_ref(struct clq_queue *queue)
{
	if (queue)
		atomic_fetch_add_explicit(&queue->refs, 1,
					  memory_order_relaxed);
	return queue;
}

void
clq_queue_unref(struct clq_queue *queue)
{
	if (!queue || atomic_fetch_sub_explicit(&queue->refs, 1,
						memory_order_acq_rel) != 1)
		return;
	/* clReleaseCommandQueue flushes; enqueued commands still run. */
	clReleaseCommandQueue(queue->cl);
	clq_context_unref(queue->ctx);
	free(queue);
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

typedef cl_int (*sync_command_fn)(cl_command_queue, cl_uint, const cl_event *,
				  cl_event *);

/* A marker or barrier: the two differ only in the OpenCL call. */
static int
enqueue_sync_command(struct clq_queue *queue, sync_command_fn command,
		     const char *function, const char *cl_name,
		     struct clq_event *const *wait, size_t n_wait,
		     struct clq_event **event_out)
{
	cl_event inline_buf[CLQ__WAIT_INLINE];
	cl_event *list = NULL;
	struct clq_event *ev = NULL;
	int rc;

	if (event_out)
		*event_out = NULL;
	if (!queue)
		return clq__invalid(NULL, function, "queue is NULL");
	rc = clq__wait_list(queue->ctx, function, wait, n_wait, inline_buf,
			    CLQ__WAIT_INLINE, &list);
	if (rc < 0)
		return rc;
	rc = clq__event_prepare(queue, event_out, &ev);
	if (rc < 0)
		goto out;
	rc = clq__check(
		queue->ctx,
		command(queue->cl, (cl_uint)n_wait, list, ev ? &ev->cl : NULL),
		cl_name);
	clq__event_deliver(rc, ev, event_out);
out:
	clq__wait_list_free(list, inline_buf);
	return rc;
}

int
clq_queue_enqueue_marker(struct clq_queue *queue, struct clq_event *const *wait,
			 size_t n_wait, struct clq_event **event_out)
{
	return enqueue_sync_command(
		queue, clEnqueueMarkerWithWaitList, "clq_queue_enqueue_marker",
		"clEnqueueMarkerWithWaitList", wait, n_wait, event_out);
}

int
clq_queue_enqueue_barrier(struct clq_queue *queue,
			  struct clq_event *const *wait, size_t n_wait,
			  struct clq_event **event_out)
{
	return enqueue_sync_command(queue, clEnqueueBarrierWithWaitList,
				    "clq_queue_enqueue_barrier",
				    "clEnqueueBarrierWithWaitList", wait,
				    n_wait, event_out);
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
	return enqueue_sync_command(queue, clEnqueueBarrierWithWaitList,
				    "clq_queue_enqueue_wait_for_events",
				    "clEnqueueBarrierWithWaitList", events, n,
				    NULL);
}

int
clq_queue_flush(struct clq_queue *queue)
{
	if (!queue)
		return clq__invalid(NULL, "clq_queue_flush", "queue is NULL");
	return clq__check(queue->ctx, clFlush(queue->cl), "clFlush");
}

int
clq_queue_finish(struct clq_queue *queue)
{
	if (!queue)
		return clq__invalid(NULL, "clq_queue_finish", "queue is NULL");
	return clq__check(queue->ctx, clFinish(queue->cl), "clFinish");
}
