/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stagers (clq/array.h): copies between device arrays of two contexts
 * through pinned host memory, in pieces, so that the read of one piece
 * from the source device overlaps the write of another to the
 * destination device. Each piece is a block of the arrays moved with the
 * region transfers of device_array.c, to and from a wrapped host array
 * over the piece's memory (a wrapped array is the memory as it is, so the
 * driver sees the pinned address). Each read's end is carried to the
 * destination's queue, and each write's end back, by user events that
 * clq's hook thread completes (as clq_event_bridge() does, but without
 * the status: see ended_event()).
 *
 * Lifetime: a copy counts its commands and hears of each one's end
 * (clq__on_completion()); the stager and its memory stay until the last
 * has ended, whatever the caller drops. Counting every command, not only
 * the last of each queue, matters: a driver may fail a command as soon as
 * an event it waits for fails, while the command before it in the queue
 * still moves the memory (PoCL does). The caller's marker waits for a
 * user event completed at that end with the first failure seen.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "private.h"

struct clq_stager {
	atomic_uint refs;
	struct clq_context *src_ctx, *dst_ctx; /* held */
	size_t piece_bytes, n_pieces;
	size_t stride; /* bytes from one piece to the next */
	/* The memory: `owner` pinned in one context and `reg[0]` the same
	 * memory registered in the other; or (`registered`) `mem`, malloc'ed,
	 * registered in both. */
	struct clq_host_array *owner;
	struct clq_host_array *reg[2];
	void *mem;
	unsigned char *base;
	/* Guards `last_done` and orders copies (held while one enqueues). */
	pthread_mutex_t lock;
	/* A user event of the source context that the previous copy
	 * completes once all its commands have ended; NULL before the first.
	 * The next copy's first read waits for it. */
	struct clq_event *last_done;
};

static void
stager_free(struct clq_stager *s)
{
	/* Registrations first: they unregister the memory, which the owner
	 * (or free()) then releases. */
	clq_host_array_unref(s->reg[0]);
	clq_host_array_unref(s->reg[1]);
	clq_host_array_unref(s->owner);
	free(s->mem);
	clq_event_unref(s->last_done);
	pthread_mutex_destroy(&s->lock);
	clq_context_unref(s->src_ctx);
	clq_context_unref(s->dst_ctx);
	free(s);
}

struct clq_stager *
clq_stager_ref(struct clq_stager *stager)
{
	if (stager)
		clq__ref_get(&stager->refs);
	return stager;
}

void
clq_stager_unref(struct clq_stager *stager)
{
	if (stager && clq__ref_put(&stager->refs))
		stager_free(stager);
}

size_t
clq_stager_get_piece_bytes(const struct clq_stager *stager)
{
	return stager ? stager->piece_bytes : 0;
}

size_t
clq_stager_get_n_pieces(const struct clq_stager *stager)
{
	return stager ? stager->n_pieces : 0;
}

enum memory_mode { MEMORY_SRC, MEMORY_DST, MEMORY_REGISTERED };

static int
memory_mode(struct clq_context *ctx, enum memory_mode *mode)
{
	const char *v = getenv("CLQ_STAGER_MEMORY");

	*mode = MEMORY_SRC;
	if (!v || !*v || strcmp(v, "src") == 0)
		return CLQ_SUCCESS;
	if (strcmp(v, "dst") == 0) {
		*mode = MEMORY_DST;
		return CLQ_SUCCESS;
	}
	if (strcmp(v, "registered") == 0) {
		*mode = MEMORY_REGISTERED;
		return CLQ_SUCCESS;
	}
	clq__log(ctx, CLQ_LOG_ERROR,
		 "clq_stager_create: CLQ_STAGER_MEMORY is \"%s\"; expected "
		 "src, dst or registered",
		 v);
	return CLQ_ERROR_INVALID_ARGUMENT;
}

/* The block must fit in one buffer of each device. */
static int
check_alloc(struct clq_context *ctx, const char *which, size_t bytes)
{
	uint64_t max = ctx->device->max_alloc_size;

	if (max == 0 || bytes <= max)
		return CLQ_SUCCESS;
	clq__log(ctx, CLQ_LOG_ERROR,
		 "clq_stager_create: %zu bytes of pieces exceed the %s "
		 "device's largest buffer, %llu bytes "
		 "(CL_DEVICE_MAX_MEM_ALLOC_SIZE)",
		 bytes, which, (unsigned long long)max);
	return CLQ_ERROR_OUT_OF_RANGE;
}

/* Makes the block of `bytes` bytes as `mode` says. */
static int
make_memory(struct clq_stager *s, enum memory_mode mode, size_t bytes)
{
	struct clq_context *pin = mode == MEMORY_DST ? s->dst_ctx : s->src_ctx;
	struct clq_context *other =
		mode == MEMORY_DST ? s->src_ctx : s->dst_ctx;
	int rc;

	if (mode == MEMORY_REGISTERED) {
		if (posix_memalign(&s->mem, 4096, bytes) != 0) {
			s->mem = NULL;
			return CL_OUT_OF_HOST_MEMORY;
		}
		s->base = s->mem;
		rc = clq_host_array_register(s->src_ctx, CLQ_DTYPE_UINT8, 1,
					     &bytes, NULL, s->mem, &s->reg[1]);
		if (rc < 0)
			return rc;
		return clq_host_array_register(s->dst_ctx, CLQ_DTYPE_UINT8, 1,
					       &bytes, NULL, s->mem,
					       &s->reg[0]);
	}
	rc = clq_host_array_create(pin, CLQ_DTYPE_UINT8, 1, &bytes, NULL,
				   &s->owner);
	if (rc < 0)
		return rc;
	s->base = clq_host_array_data(s->owner);
	return clq_host_array_register(other, CLQ_DTYPE_UINT8, 1, &bytes, NULL,
				       s->base, &s->reg[0]);
}

int
clq_stager_create(struct clq_context *src_ctx, struct clq_context *dst_ctx,
		  size_t piece_bytes, size_t n_pieces,
		  struct clq_stager **stager_out)
{
	static const char fn[] = "clq_stager_create";
	struct clq_context *ctx = src_ctx ? src_ctx : dst_ctx;
	struct clq_stager *s;
	enum memory_mode mode;
	size_t stride, bytes;
	int rc;

	if (!stager_out)
		return clq__invalid(ctx, fn, "stager_out is NULL");
	*stager_out = NULL;
	if (!src_ctx || !dst_ctx)
		return clq__invalid(ctx, fn, "src_ctx or dst_ctx is NULL");
	if (src_ctx == dst_ctx)
		return clq__invalid(ctx, fn,
				    "src_ctx and dst_ctx are one context; "
				    "within one context, "
				    "clq_device_array_copy() copies on the "
				    "device");
	if (piece_bytes == 0)
		piece_bytes = CLQ_STAGER_DEFAULT_PIECE_BYTES;
	if (n_pieces == 0)
		n_pieces = CLQ_STAGER_DEFAULT_PIECES;
	if (piece_bytes < 16 || piece_bytes > CLQ_STAGER_MAX_PIECE_BYTES ||
	    n_pieces > CLQ_STAGER_MAX_PIECES) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: %zu pieces of %zu bytes; expected 16 to %zu "
			 "bytes per piece and 1 to %d pieces (0: the "
			 "defaults)",
			 fn, n_pieces, piece_bytes, CLQ_STAGER_MAX_PIECE_BYTES,
			 CLQ_STAGER_MAX_PIECES);
		return CLQ_ERROR_OUT_OF_RANGE;
	}
	/* Pieces start on 128-byte boundaries (any element, any cache line);
	 * the bounds above keep this product far from overflowing. */
	stride = (piece_bytes + 127) & ~(size_t)127;
	bytes = stride * n_pieces;
	if ((rc = check_alloc(src_ctx, "source", bytes)) < 0 ||
	    (rc = check_alloc(dst_ctx, "destination", bytes)) < 0)
		return rc;
	if ((rc = memory_mode(ctx, &mode)) < 0)
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s)
		return CL_OUT_OF_HOST_MEMORY;
	clq__ref_init(&s->refs);
	s->src_ctx = clq__context_hold(src_ctx);
	s->dst_ctx = clq__context_hold(dst_ctx);
	s->piece_bytes = piece_bytes;
	s->n_pieces = n_pieces;
	s->stride = stride;
	pthread_mutex_init(&s->lock, NULL);
	rc = make_memory(s, mode, bytes);
	if (rc < 0) {
		stager_free(s);
		return rc;
	}
	*stager_out = s;
	return CLQ_SUCCESS;
}

/* ------------------------------------------------------------------ copy */

/*
 * One copy's hold on the stager: every event the copy's commands wait for
 * or make, held until all of them have ended, and one count for the
 * enqueueing itself. The last completes `verdict` and `done` and lets
 * go. Holding every event that long costs little and keeps each one alive
 * while anything it waits for may still signal it (PoCL 3.1 aborts when
 * an event it signals was already released).
 */
struct run {
	struct clq_stager *stager; /* held */
	struct clq_event *done;	   /* held */
	/* A user event of the destination context completed with `status`
	 * at the end: the caller's marker waits for it. */
	struct clq_event *verdict; /* held */
	atomic_int status;	   /* the first failure seen, or 0 */
	atomic_size_t left;
	struct clq_event **held; /* room for `cap`, made before enqueueing */
	size_t n_held, cap;
};

/*
 * Ordering (CHECK, AUTO): a host that waited for the copy's event has seen
 * the copy's commands end, the reads included, and may then write the
 * source on any queue. Only for a copy of which nothing failed: a failed
 * wait event's stand-in completes all the same, and the stamp it passes
 * on (to the first read) claims commands that need not have run.
 */
static void
run_seen(struct run *r)
{
	for (size_t i = 0; i < r->n_held; i++) {
		cl_int status;

		if (r->held[i]->cl &&
		    clq__cl_event_status(r->held[i]->cl, &status) ==
			    CL_SUCCESS &&
		    status == CL_COMPLETE)
			clq__order_seen(r->held[i], CL_COMPLETE);
	}
}

static void
run_release(struct run *r)
{
	int rc = CLQ_SUCCESS, status;

	if (atomic_fetch_sub(&r->left, 1) != 1)
		return;
	/* The caller's marker first, with the copy's status; a refused
	 * status may be set again (clq_user_event_complete()). */
	status = atomic_load(&r->status);
	if (status == 0)
		run_seen(r); /* before the caller's marker can complete */
	for (int i = 0; i < 3; i++) {
		if (clq_user_event_complete(r->verdict, status) >= 0)
			break;
		status = CL_OUT_OF_RESOURCES; /* fail rather than hang */
	}
	/* The next copy waits for this one, so try hard. */
	for (int i = 0; i < 3; i++)
		if ((rc = clq_user_event_complete(r->done, CL_COMPLETE)) >= 0)
			break;
	if (rc < 0)
		clq__log(r->stager->src_ctx, CLQ_LOG_ERROR,
			 "clq_stager_copy: cannot mark a copy's end; the "
			 "stager's next copy will not start");
	for (size_t i = 0; i < r->n_held; i++)
		clq_event_unref(r->held[i]);
	free(r->held);
	clq_event_unref(r->verdict);
	clq_event_unref(r->done);
	clq_stager_unref(r->stager);
	free(r);
}

static void
command_ended(void *data, struct clq_event *event, int status)
{
	struct run *r = data;
	int none = 0;

	(void)event;
	if (status < 0)
		atomic_compare_exchange_strong(&r->status, &none, status);
	run_release(r);
}

/* Waits on the host until `ev` has ended, whatever its status, and
 * notes a failure in the run. */
static void
wait_ended(struct run *r, struct clq_event *ev)
{
	cl_int status;
	int none = 0;

	while (!clq__cl_event_ended(ev->cl)) {
		if (clWaitForEvents(1, &ev->cl) != CL_SUCCESS &&
		    !clq__cl_event_ended(ev->cl))
			nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
	if (clq__cl_event_status(ev->cl, &status) == CL_SUCCESS && status < 0)
		atomic_compare_exchange_strong(&r->status, &none, status);
}

/*
 * Holds `ev` in the run until it ends (room was made beforehand). Where
 * clq cannot hear of its end (no memory for the hook), waits for it here
 * if `may_wait`, else returns the error: the caller's events, and those
 * that follow them, may wait for what the caller does after the call.
 */
static int
run_track(struct run *r, struct clq_event *ev, int may_wait)
{
	int rc;

	r->held[r->n_held++] = clq_event_ref(ev);
	atomic_fetch_add(&r->left, 1);
	if ((rc = clq__on_completion(ev, command_ended, r)) >= 0)
		return CLQ_SUCCESS;
	if (may_wait)
		wait_ended(r, ev);
	atomic_fetch_sub(&r->left, 1);
	return may_wait ? CLQ_SUCCESS : rc;
}

/* Completes a user event, whatever `event` ended with (see `freed`). */
static void
mark_ended(void *data, struct clq_event *event, int status)
{
	struct clq_event *u = data;

	(void)event;
	(void)status;
	for (int i = 0; i < 3; i++)
		if (clq_user_event_complete(u, CL_COMPLETE) >= 0)
			break;
	clq_event_unref(u);
}

/* How a copy is cut (see clq_stager_copy()). */
struct plan {
	size_t ndim;
	size_t axis;  /* the axis the pieces cut */
	size_t chunk; /* indices of it per piece */
	size_t shape[CLQ_MAX_DIMS];
	size_t total; /* pieces */
};

static void
plan_make(const struct clq__layout *l, size_t piece_bytes, struct plan *p)
{
	size_t inner = l->itemsize, per_axis[CLQ_MAX_DIMS];
	size_t first = l->ndim > 3 ? l->ndim - 3 : 0;

	p->ndim = l->ndim;
	memcpy(p->shape, l->shape, sizeof(p->shape));
	/* per_axis[a]: packed bytes of one index of axis a */
	for (size_t a = l->ndim; a-- > 0;) {
		per_axis[a] = inner;
		inner *= l->shape[a];
	}
	p->axis = l->ndim - 1;
	for (size_t a = first; a < l->ndim; a++) {
		if (per_axis[a] <= piece_bytes) {
			p->axis = a;
			break;
		}
	}
	p->chunk = piece_bytes / per_axis[p->axis];
	if (p->chunk == 0)
		p->chunk = 1;
	if (p->chunk > l->shape[p->axis])
		p->chunk = l->shape[p->axis];
	p->total = (l->shape[p->axis] + p->chunk - 1) / p->chunk;
	for (size_t a = 0; a < p->axis; a++)
		p->total *= l->shape[a];
}

/* The block of piece `i`: start and count per axis. */
static void
plan_piece(const struct plan *p, size_t i, size_t *start, size_t *count)
{
	size_t per = (p->shape[p->axis] + p->chunk - 1) / p->chunk;
	size_t k = i % per, outer = i / per;

	for (size_t a = p->axis + 1; a < p->ndim; a++) {
		start[a] = 0;
		count[a] = p->shape[a];
	}
	start[p->axis] = k * p->chunk;
	count[p->axis] = p->shape[p->axis] - start[p->axis] < p->chunk
				 ? p->shape[p->axis] - start[p->axis]
				 : p->chunk;
	for (size_t a = p->axis; a-- > 0;) {
		start[a] = outer % p->shape[a];
		count[a] = 1;
		outer /= p->shape[a];
	}
}

static int
check_copy(const char *fn, struct clq_stager *s, struct clq_device_array *dst,
	   struct clq_queue *dst_queue, struct clq_device_array *src,
	   struct clq_queue *src_queue)
{
	const struct clq__layout *a, *b;

	if (!dst || !dst_queue || !src || !src_queue)
		return clq__invalid(s->dst_ctx, fn,
				    !dst	 ? "dst is NULL"
				    : !dst_queue ? "dst_queue is NULL"
				    : !src	 ? "src is NULL"
						 : "src_queue is NULL");
	if (src->ctx != s->src_ctx || src_queue->ctx != s->src_ctx ||
	    dst->ctx != s->dst_ctx || dst_queue->ctx != s->dst_ctx) {
		clq__log(s->dst_ctx, CLQ_LOG_ERROR,
			 "%s: expected src and src_queue of the stager's "
			 "source context and dst and dst_queue of its "
			 "destination context; the %s",
			 fn,
			 src->ctx != s->src_ctx		? "source array is not"
			 : src_queue->ctx != s->src_ctx ? "source queue is not"
			 : dst->ctx != s->dst_ctx ? "destination array is not"
						  : "destination queue is not");
		return CLQ_ERROR_CONTEXT_MISMATCH;
	}
	a = &dst->layout;
	b = &src->layout;
	if (a->dtype != b->dtype) {
		clq__log(s->dst_ctx, CLQ_LOG_ERROR,
			 "%s: the destination holds %s, the source %s", fn,
			 clq_dtype_name(a->dtype), clq_dtype_name(b->dtype));
		return CLQ_ERROR_TYPE_MISMATCH;
	}
	if (a->ndim != b->ndim ||
	    memcmp(a->shape, b->shape, sizeof(a->shape)) != 0)
		return clq__shape_mismatch(s->dst_ctx, fn, "destination", a,
					   "source", b);
	/* Buffers of other code may forbid the host side of the reads or
	 * writes: refused here, before anything is enqueued (later, the
	 * commands enqueued so far would gate the stager's next copy). */
	return clq__device_array_check_host_access(fn, src, 0) < 0
		       ? CLQ_ERROR_UNSUPPORTED
		       : clq__device_array_check_host_access(fn, dst, 1);
}

/* What one copy has in hand while it enqueues. */
struct copying {
	struct clq_stager *s;
	struct run *run;
	struct clq_device_array *dst, *src;
	struct clq_queue *dst_queue, *src_queue;
	struct plan plan;
	/* The caller's wait list, split by context, and the previous copy's
	 * end (gates the first read). */
	struct clq_event **src_wait, **dst_wait;
	size_t n_src_wait, n_dst_wait;
	/* Per memory piece: a user event of the source context completed
	 * when the newest write from the piece has ended, whatever its
	 * status, which the next read into it waits for; held. A failed
	 * write thus fails no read, so the source queue is spared. */
	struct clq_event **freed;
	int enqueued; /* a command of the copy is in a queue */
};

/* A wrapped host array over memory piece `b`, shaped as the block. */
static int
piece_view(struct copying *c, size_t b, const size_t *count,
	   struct clq_host_array **view)
{
	return clq_host_array_wrap(c->src->layout.dtype, c->plan.ndim, count,
				   NULL, c->s->base + b * c->s->stride, view);
}

/*
 * A user event of `ctx` that completes when `ev` ends, whatever its
 * status: failures are not carried by OpenCL but collected by the run
 * (command_ended()) and given to the caller's marker once. PoCL 3.1
 * crashes (inside pocl_update_event_failed()) when failures run through
 * chains of bridged events and in-order queues, as the commands of a copy
 * would be.
 */
static int
ended_event(struct copying *c, struct clq_context *ctx, struct clq_event *ev,
	    int may_wait, struct clq_event **out)
{
	struct clq_event *u;
	int rc = clq_user_event_create(ctx, &u);

	if (rc < 0)
		return rc;
	rc = clq__on_completion(ev, mark_ended, clq_event_ref(u));
	if (rc < 0) {
		/* nothing waits for it yet */
		clq_user_event_complete(u, CL_COMPLETE);
		clq_event_unref(u);
		clq_event_unref(u);
		return rc;
	}
	if ((rc = run_track(c->run, u, may_wait)) < 0) {
		clq_event_unref(u); /* completed once `ev` ends */
		return rc;
	}
	*out = u;
	return CLQ_SUCCESS;
}

/*
 * Replaces each of the caller's events in `list` (of `ctx`) by an event
 * that completes when it ends, and holds both in the run, which notes a
 * failed one's status. The stand-in carries the event's ordering stamp,
 * so that the race detector sees the caller's waits.
 */
static int
convert_waits(struct copying *c, struct clq_context *ctx,
	      struct clq_event **list, size_t n)
{
	int rc = CLQ_SUCCESS;

	for (size_t k = 0; k < n && rc >= 0; k++) {
		struct clq_event *u;

		if ((rc = run_track(c->run, list[k], 0)) < 0)
			break;
		rc = ended_event(c, ctx, list[k], 0, &u);
		if (rc >= 0) {
			/* Ordering (CHECK, AUTO) sees the wait in it. */
			clq__order_stand_in(u, list[k]);
			list[k] = u; /* the run holds it */
			clq_event_unref(u);
		}
	}
	return rc;
}

static int
enqueue_piece(struct copying *c, size_t i)
{
	static const size_t zero[CLQ_MAX_DIMS] = {0};
	size_t b = i % c->s->n_pieces;
	size_t start[CLQ_MAX_DIMS], count[CLQ_MAX_DIMS];
	struct clq_host_array *view = NULL;
	struct clq_event *read = NULL, *arrived = NULL, *write = NULL;
	struct clq_event *rwait[1], *wwait[1], **rlist, **wlist;
	size_t n_r = 0, n_w = 0;
	int rc;

	plan_piece(&c->plan, i, start, count);
	if ((rc = piece_view(c, b, count, &view)) < 0)
		return rc;
	/* The read: the caller's source events and the previous copy's end
	 * for the first piece, the end of the last write from this memory
	 * piece for later ones (the queue orders the rest). */
	if (i == 0) {
		rlist = c->src_wait;
		n_r = c->n_src_wait;
	} else {
		rlist = rwait;
		if (c->freed[b])
			rwait[n_r++] = c->freed[b];
	}
	rc = clq_device_array_get_region(c->src, c->src_queue, view, start,
					 zero, count, rlist, n_r, &read);
	if (rc < 0)
		goto out;
	c->enqueued = 1;
	run_track(c->run, read, 1);
	if ((rc = ended_event(c, c->s->dst_ctx, read, 1, &arrived)) < 0)
		goto out;
	/* The write: after the read; the caller's destination events for
	 * the first (the queue orders the rest). */
	if (i == 0) {
		wlist = c->dst_wait;
		n_w = c->n_dst_wait;
	} else {
		wlist = wwait;
	}
	wlist[n_w++] = arrived;
	rc = clq_device_array_set_region(c->dst, c->dst_queue, view, start,
					 zero, count, wlist, n_w, &write);
	if (rc < 0)
		goto out;
	run_track(c->run, write, 1);
	clq_event_unref(c->freed[b]);
	c->freed[b] = NULL;
	if (i + c->s->n_pieces < c->plan.total)
		rc = ended_event(c, c->s->src_ctx, write, 1, &c->freed[b]);
out:
	clq_event_unref(write);
	clq_event_unref(arrived);
	clq_event_unref(read);
	clq_host_array_unref(view);
	return rc;
}

/*
 * Splits the caller's wait list by context into `c` (room for one more
 * entry each: the previous copy's end, and the first read's arrival).
 */
static int
split_wait(const char *fn, struct copying *c, struct clq_event *const *wait,
	   size_t n_wait)
{
	if (n_wait > 0 && !wait)
		return clq__invalid(c->s->dst_ctx, fn,
				    "wait is NULL with n_wait > 0");
	if (n_wait > SIZE_MAX / sizeof(*c->src_wait) - 2)
		return clq__invalid(c->s->dst_ctx, fn, "n_wait is too large");
	c->src_wait = malloc((n_wait + 2) * sizeof(*c->src_wait));
	c->dst_wait = malloc((n_wait + 2) * sizeof(*c->dst_wait));
	if (!c->src_wait || !c->dst_wait)
		return CL_OUT_OF_HOST_MEMORY;
	for (size_t k = 0; k < n_wait; k++) {
		struct clq_context *ctx = wait[k] ? wait[k]->ctx : NULL;

		if (!wait[k])
			return clq__invalid(c->s->dst_ctx, fn,
					    "a wait list entry is NULL");
		if (ctx == c->s->src_ctx) {
			c->src_wait[c->n_src_wait++] = wait[k];
		} else if (ctx == c->s->dst_ctx) {
			c->dst_wait[c->n_dst_wait++] = wait[k];
		} else {
			clq__log(c->s->dst_ctx, CLQ_LOG_ERROR,
				 "%s: wait list entry %zu is an event of "
				 "neither the source nor the destination "
				 "context; bridge it "
				 "(clq_event_bridge()) first",
				 fn, k);
			return CLQ_ERROR_CONTEXT_MISMATCH;
		}
	}
	return CLQ_SUCCESS;
}

int
clq_stager_copy(struct clq_stager *stager, struct clq_device_array *dst,
		struct clq_queue *dst_queue, struct clq_device_array *src,
		struct clq_queue *src_queue, struct clq_event *const *wait,
		size_t n_wait, struct clq_event **event_out)
{
	static const char fn[] = "clq_stager_copy";
	struct clq_stager *s = stager;
	struct copying c = {0};
	struct clq_event *done = NULL, *marker = NULL;
	size_t i = 0;
	int rc;

	if (event_out)
		*event_out = NULL;
	if (!s)
		return clq__invalid(dst ? dst->ctx : NULL, fn,
				    "stager is NULL");
	if ((rc = check_copy(fn, s, dst, dst_queue, src, src_queue)) < 0)
		return rc;
	c.s = s;
	c.dst = dst;
	c.src = src;
	c.dst_queue = dst_queue;
	c.src_queue = src_queue;
	plan_make(&src->layout, s->piece_bytes, &c.plan);
	if ((rc = split_wait(fn, &c, wait, n_wait)) < 0)
		goto out;
	c.freed = calloc(s->n_pieces, sizeof(*c.freed));
	c.run = calloc(1, sizeof(*c.run));
	if (!c.freed || !c.run) {
		rc = CL_OUT_OF_HOST_MEMORY;
		goto out;
	}
	/* Room for every event the run holds: four per piece (read, its
	 * arrival, write, `freed`), two per wait list entry (it and its
	 * stand-in) and the previous copy's end. */
	if (n_wait > SIZE_MAX / sizeof(*c.run->held) / 4 ||
	    c.plan.total >
		    (SIZE_MAX / sizeof(*c.run->held) - 2 * n_wait - 1) / 4) {
		rc = clq__invalid(s->dst_ctx, fn,
				  "too many pieces; use larger ones");
		goto out;
	}
	c.run->cap = 4 * c.plan.total + 2 * n_wait + 1;
	atomic_init(&c.run->status, 0);
	c.run->held = malloc(c.run->cap * sizeof(*c.run->held));
	if (!c.run->held) {
		rc = CL_OUT_OF_HOST_MEMORY;
		goto out;
	}
	if ((rc = clq_user_event_create(s->src_ctx, &done)) < 0)
		goto out;
	if ((rc = clq_user_event_create(s->dst_ctx, &c.run->verdict)) < 0) {
		clq_user_event_complete(done, CL_COMPLETE);
		goto out;
	}

	pthread_mutex_lock(&s->lock);
	c.run->stager = clq_stager_ref(s);
	c.run->done = done;
	atomic_init(&c.run->left, 1);
	/* The caller's events gate the first read and write through events
	 * that never fail: their statuses go to the run (see ended_event()),
	 * so that no command of the copy fails while it still waits for
	 * another event, which PoCL 3.1 does not survive. */
	rc = convert_waits(&c, s->src_ctx, c.src_wait, c.n_src_wait);
	if (rc >= 0)
		rc = convert_waits(&c, s->dst_ctx, c.dst_wait, c.n_dst_wait);
	if (s->last_done) {
		c.src_wait[c.n_src_wait++] = s->last_done;
		run_track(c.run, s->last_done, 1);
	}
	for (; i < c.plan.total && rc >= 0; i++)
		rc = enqueue_piece(&c, i);
	/* The caller's event: once every command has ended, with the
	 * first failure among them (see ended_event()). */
	if (rc >= 0 && event_out)
		rc = clq_queue_enqueue_marker(dst_queue, &c.run->verdict, 1,
					      &marker);
	/* Even after an error, the next copy waits for the commands this
	 * one enqueued; a copy refused before its first command (a hazard
	 * at the first read, no memory) leaves it to wait for the previous
	 * one, not for this one's wait list. */
	if (rc >= 0 || c.enqueued) {
		clq_event_unref(s->last_done);
		s->last_done = clq_event_ref(done);
	}
	pthread_mutex_unlock(&s->lock);
	run_release(c.run); /* completes `done` if nothing was enqueued */
	c.run = NULL;
	if (rc >= 0 && event_out) {
		*event_out = marker;
		marker = NULL;
	}
out:
	clq_event_unref(marker);
	if (c.freed)
		for (size_t b = 0; b < s->n_pieces; b++)
			clq_event_unref(c.freed[b]);
	free(c.freed);
	free(c.src_wait);
	free(c.dst_wait);
	if (c.run) { /* never started */
		if (c.run->verdict)
			clq_user_event_complete(c.run->verdict, CL_COMPLETE);
		clq_event_unref(c.run->verdict);
		clq_event_unref(done);
		free(c.run->held);
		free(c.run);
	}
	return rc;
}
