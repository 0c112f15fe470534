/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timeline_snapshot.h"

/* OpenCL 2.1; declared here since clq builds against the 1.2 API and only
 * calls it on devices that report 2.1 or later. */
extern CL_API_ENTRY cl_int CL_API_CALL
clGetDeviceAndHostTimer(cl_device_id device, cl_ulong *device_timestamp,
			cl_ulong *host_timestamp);

/* Harvest completed commands once this many are pending. */
#define HARVEST_AT 1024

struct pending {
	struct clq_event *ev;
	uint64_t bytes;
	uint32_t track, label;
};

/* A growable array of owned strings, looked up linearly: a timeline has a
 * handful of tracks and labels. */
struct names {
	char **v;
	size_t n, cap;
	size_t bytes;
};

struct clq_timeline {
	atomic_uint refs;
	struct clq_context *ctx;
	pthread_mutex_t lock; /* guards everything below */
	/* Threads in harvest_all() (their pending lists taken out of `pend`),
	 * and the signal that one has finished: a reader waits for the
	 * others, so that it never sees less than was recorded before it. */
	unsigned harvesting;
	pthread_cond_t harvested;
	struct names tracks, labels;
	struct clq__record *rec;
	size_t n_rec, cap_rec;
	struct pending *pend;
	size_t n_pend, cap_pend;
	int64_t host_offset_ns; /* device time = host monotonic + offset */
	double host_error_s;
	char *title; /* clq_timeline_set_title(); NULL: none */
	/* The first error of a command harvested on the way (push_pending()),
	 * reported by the next flush or reader. */
	int harvest_rc;
};

static uint64_t
host_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- names */

/* The index of `s`, added when new; -1 when out of memory. Lock held. */
static long
intern(struct names *t, const char *s)
{
	char *copy;

	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i], s) == 0)
			return (long)i;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 8;
		char **v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return -1;
		t->v = v;
		t->cap = cap;
	}
	copy = strdup(s);
	if (!copy)
		return -1;
	t->bytes += strlen(s) + 1;
	t->v[t->n] = copy;
	return (long)t->n++;
}

static void
names_free(struct names *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
}

/* ---------------------------------------------------------- calibration */

/* One reading of the device's profiling clock: from the device timer
 * where there is one, else from a marker's start. */
static int
read_device_clock(struct clq_timeline *tl, struct clq_queue *q,
		  uint64_t *device_ns)
{
	struct clq_event *ev = NULL;
	struct clq_event_times t = {0};
	int rc;

	if (!q) {
		cl_ulong d, h;
		cl_int err =
			clGetDeviceAndHostTimer(tl->ctx->device->id, &d, &h);

		*device_ns = d;
		return clq__check(tl->ctx, err, "clGetDeviceAndHostTimer");
	}
	rc = clq_queue_enqueue_marker(q, NULL, 0, &ev);
	if (rc == CLQ_SUCCESS)
		rc = clq_event_get_times(ev, &t);
	clq_event_unref(ev);
	*device_ns = t.start;
	return rc;
}

/*
 * Device time minus host time, from the shortest of five round trips: the
 * device's clock was read somewhere inside [t0, t1] of the host's, so the
 * midpoint is off by at most half the round trip. OpenCL 2.1+ devices
 * read their timer directly (if the call fails, markers do it).
 */
static int
calibrate(struct clq_timeline *tl)
{
	struct clq_queue *q = NULL;
	uint64_t best = UINT64_MAX;
	int rc = CLQ_SUCCESS;

	if (tl->ctx->device->opencl_version_number < 210 ||
	    clGetDeviceAndHostTimer(tl->ctx->device->id, &(cl_ulong){0},
				    &(cl_ulong){0}) != CL_SUCCESS)
		rc = clq_queue_create(tl->ctx, CLQ_QUEUE_PROFILING, &q);
	for (int i = 0; i < 5 && rc == CLQ_SUCCESS; i++) {
		uint64_t t0 = host_ns(), t1, device;

		rc = read_device_clock(tl, q, &device);
		t1 = host_ns();
		if (rc == CLQ_SUCCESS && t1 - t0 < best) {
			best = t1 - t0;
			tl->host_offset_ns =
				(int64_t)(device - (t0 + (t1 - t0) / 2));
		}
	}
	clq_queue_unref(q);
	tl->host_error_s = best == UINT64_MAX ? 0 : (double)best * 0.5e-9;
	return rc;
}

/* ------------------------------------------------------------- lifetime */

int
clq_timeline_create(struct clq_context *ctx, struct clq_timeline **timeline_out)
{
	static const char fn[] = "clq_timeline_create";
	struct clq_timeline *tl;
	int rc;

	if (!timeline_out)
		return clq__invalid(ctx, fn, "timeline_out is NULL");
	*timeline_out = NULL;
	if (!ctx)
		return clq__invalid(NULL, fn, "ctx is NULL");
	if (!clq_device_can_profile(ctx->device)) {
		clq__log(ctx, CLQ_LOG_ERROR, "%s: device '%s' cannot profile",
			 fn, clq_device_get_name(ctx->device));
		return CLQ_ERROR_PROFILING_DISABLED;
	}
	tl = calloc(1, sizeof(*tl));
	if (!tl)
		return CL_OUT_OF_HOST_MEMORY;
	if (pthread_mutex_init(&tl->lock, NULL) != 0) {
		free(tl);
		return CL_OUT_OF_HOST_MEMORY;
	}
	if (pthread_cond_init(&tl->harvested, NULL) != 0) {
		pthread_cond_destroy(&tl->harvested);
		pthread_mutex_destroy(&tl->lock);
		free(tl);
		return CL_OUT_OF_HOST_MEMORY;
	}
	clq__ref_init(&tl->refs);
	tl->ctx = clq_context_ref(ctx);
	if ((rc = calibrate(tl)) < 0) {
		clq_timeline_unref(tl);
		return rc;
	}
	*timeline_out = tl;
	return CLQ_SUCCESS;
}

struct clq_timeline *
clq_timeline_ref(struct clq_timeline *timeline)
{
	if (timeline)
		clq__ref_get(&timeline->refs);
	return timeline;
}

void
clq_timeline_unref(struct clq_timeline *tl)
{
	if (!tl || !clq__ref_put(&tl->refs))
		return;
	for (size_t i = 0; i < tl->n_pend; i++)
		clq__event_drop(tl->pend[i].ev);
	free(tl->pend);
	free(tl->rec);
	names_free(&tl->tracks);
	names_free(&tl->labels);
	free(tl->title);
	pthread_mutex_destroy(&tl->lock);
	clq_context_unref(tl->ctx);
	free(tl);
}

/* ------------------------------------------------------------ recording */

/* Appends a record; lock held. */
static int
push_record(struct clq_timeline *tl, const struct clq__record *r)
{
	if (tl->n_rec == tl->cap_rec) {
		size_t cap = tl->cap_rec ? 2 * tl->cap_rec : 256;
		struct clq__record *rec = realloc(tl->rec, cap * sizeof(*rec));

		if (!rec)
			return CL_OUT_OF_HOST_MEMORY;
		tl->rec = rec;
		tl->cap_rec = cap;
	}
	tl->rec[tl->n_rec++] = *r;
	return CLQ_SUCCESS;
}

/* Turns a completed command into a record; lock held. A command whose
 * times the driver did not give is kept, flagged untimed. */
static int
harvest_one(struct clq_timeline *tl, const struct pending *p)
{
	struct clq__record r = {
		.bytes = p->bytes, .track = p->track, .label = p->label};
	struct clq_event_times t;
	int rc = clq__event_read_times(p->ev, &t);

	if (rc == CLQ_ERROR_TIMING_UNAVAILABLE) {
		r.flags = CLQ__RECORD_UNTIMED;
	} else if (rc < 0) {
		return rc;
	} else {
		r.queued = t.queued;
		r.start = t.start;
		r.end = t.end;
	}
	return push_record(tl, &r);
}

/* Harvests the pending commands that have completed; lock held. */
static void
harvest_completed(struct clq_timeline *tl)
{
	size_t kept = 0;
	int rc;

	for (size_t i = 0; i < tl->n_pend; i++) {
		struct pending *p = &tl->pend[i];

		if (!clq__cl_event_ended(p->ev->cl)) {
			tl->pend[kept++] = *p;
			continue;
		}
		rc = harvest_one(tl, p);
		if (rc < 0 && tl->harvest_rc == CLQ_SUCCESS)
			tl->harvest_rc = rc;
		clq__event_drop(p->ev);
	}
	tl->n_pend = kept;
}

/*
 * Waits for every pending command and harvests it. The waiting happens
 * outside the lock, so that other threads may enqueue (and complete user
 * events) meanwhile. Returns the first error; the failed commands'
 * records are dropped.
 */
static int
harvest_all(struct clq_timeline *tl)
{
	struct pending *p;
	size_t n;
	int rc = CLQ_SUCCESS;

	pthread_mutex_lock(&tl->lock);
	p = tl->pend;
	n = tl->n_pend;
	tl->pend = NULL;
	tl->n_pend = tl->cap_pend = 0;
	rc = tl->harvest_rc;
	tl->harvest_rc = CLQ_SUCCESS;
	tl->harvesting++;
	pthread_mutex_unlock(&tl->lock);
	for (size_t i = 0; i < n; i++)
		clq_event_wait(p[i].ev);
	pthread_mutex_lock(&tl->lock);
	for (size_t i = 0; i < n; i++) {
		int prc = harvest_one(tl, &p[i]);

		if (prc < 0 && rc == CLQ_SUCCESS)
			rc = prc;
		clq__event_drop(p[i].ev);
	}
	tl->harvesting--;
	pthread_cond_broadcast(&tl->harvested);
	while (tl->harvesting)
		pthread_cond_wait(&tl->harvested, &tl->lock);
	pthread_mutex_unlock(&tl->lock);
	free(p);
	return rc;
}

/* Holds a command's event until it is harvested; lock held. */
static int
push_pending(struct clq_timeline *tl, struct clq_event *ev, uint32_t track,
	     uint32_t label, uint64_t bytes)
{
	if (tl->n_pend >= HARVEST_AT && tl->n_pend == tl->cap_pend)
		harvest_completed(tl);
	if (tl->n_pend == tl->cap_pend) {
		size_t cap = tl->cap_pend ? 2 * tl->cap_pend : 64;
		struct pending *pend = realloc(tl->pend, cap * sizeof(*pend));

		if (!pend)
			return CL_OUT_OF_HOST_MEMORY;
		tl->pend = pend;
		tl->cap_pend = cap;
	}
	tl->pend[tl->n_pend++] =
		(struct pending){clq__event_hold(ev), bytes, track, label};
	return CLQ_SUCCESS;
}

/* The label of a command: "kernel NAME" or the plain default. */
static long
command_label(struct clq_timeline *tl, const struct clq__command *c)
{
	char buf[256];

	if (!c->label_arg)
		return intern(&tl->labels, c->label);
	snprintf(buf, sizeof(buf), "%s %s", c->label, c->label_arg);
	return intern(&tl->labels, buf);
}

/*
 * A queue's link to a timeline: the queue's per-command observer (queue.c
 * owns the list and calls it after each enqueue), with the queue's track
 * and the label for its next command.
 */
struct binding {
	struct clq__observer base; /* first: the queue holds &base */
	struct clq_timeline *tl;
	uint32_t track;
	char *next_label; /* clq_queue_set_next_label(), used once */
};

static void
binding_enqueued(struct clq__observer *o, struct clq_queue *q,
		 const struct clq__command *command, struct clq_event *ev)
{
	struct binding *b = (struct binding *)o;
	struct clq_timeline *tl = b->tl;
	char *next;
	long label;
	int rc = CL_OUT_OF_HOST_MEMORY;

	/* The timeline's lock guards the binding's label too: two threads
	 * may enqueue on one queue, and one may set the next label. */
	pthread_mutex_lock(&tl->lock);
	next = b->next_label;
	b->next_label = NULL;
	label = next ? intern(&tl->labels, next) : command_label(tl, command);
	if (label >= 0)
		rc = push_pending(tl, ev, b->track, (uint32_t)label,
				  command->bytes);
	pthread_mutex_unlock(&tl->lock);
	free(next);
	if (rc < 0)
		clq__log(clq_queue_get_context(q), CLQ_LOG_WARNING,
			 "timeline: out of memory, a command is not recorded");
}

static void
binding_detach(struct clq__observer *o)
{
	struct binding *b = (struct binding *)o;

	clq_timeline_unref(b->tl);
	free(b->next_label);
	free(b);
}

static const struct clq__observer_ops binding_ops = {
	.enqueued = binding_enqueued,
	.detach = binding_detach,
};

/* The queue's timeline link, or NULL. */
static struct binding *
binding_of(const struct clq_queue *q)
{
	return (struct binding *)clq__queue_find_observer(q, &binding_ops);
}

int
clq_queue_set_timeline(struct clq_queue *queue, struct clq_timeline *timeline,
		       const char *track)
{
	static const char fn[] = "clq_queue_set_timeline";
	long id;

	struct binding *b, *old;

	if (!queue)
		return clq__invalid(NULL, fn, "queue is NULL");
	old = binding_of(queue);
	if (!timeline) {
		if (old)
			clq__queue_remove_observer(queue, &old->base);
		return CLQ_SUCCESS;
	}
	if (!track || !*track)
		return clq__invalid(queue->ctx, fn, "track is NULL or empty");
	if (!(queue->flags & CLQ_QUEUE_PROFILING)) {
		clq__log(queue->ctx, CLQ_LOG_ERROR,
			 "%s: the queue has no CLQ_QUEUE_PROFILING (nor, "
			 "made by other code, CL_QUEUE_PROFILING_ENABLE)",
			 fn);
		return CLQ_ERROR_PROFILING_DISABLED;
	}
	if (timeline->ctx != queue->ctx) {
		clq__log(queue->ctx, CLQ_LOG_ERROR,
			 "%s: the timeline and the queue belong to different "
			 "contexts",
			 fn);
		return CLQ_ERROR_CONTEXT_MISMATCH;
	}
	pthread_mutex_lock(&timeline->lock);
	id = intern(&timeline->tracks, track);
	pthread_mutex_unlock(&timeline->lock);
	if (id < 0 || !(b = calloc(1, sizeof(*b))))
		return CL_OUT_OF_HOST_MEMORY;
	b->base.ops = &binding_ops;
	b->tl = clq_timeline_ref(timeline);
	b->track = (uint32_t)id;
	if (old)
		clq__queue_remove_observer(queue, &old->base);
	clq__queue_add_observer(queue, &b->base);
	return CLQ_SUCCESS;
}

int
clq_queue_set_next_label(struct clq_queue *queue, const char *label)
{
	static const char fn[] = "clq_queue_set_next_label";
	struct binding *b;
	char *copy, *old;

	if (!queue || !label || !*label)
		return clq__invalid(
			clq_queue_get_context(queue), fn,
			"queue or label is NULL, or the label empty");
	if (!(b = binding_of(queue)))
		return clq__invalid(clq_queue_get_context(queue), fn,
				    "the queue has no timeline");
	copy = strdup(label);
	if (!copy)
		return CL_OUT_OF_HOST_MEMORY;
	pthread_mutex_lock(&b->tl->lock);
	old = b->next_label;
	b->next_label = copy;
	pthread_mutex_unlock(&b->tl->lock);
	free(old);
	return CLQ_SUCCESS;
}

/* Interns a track and a label; lock held. */
static int
track_and_label(struct clq_timeline *tl, const char *track, const char *label,
		uint32_t *t, uint32_t *l)
{
	long ti = intern(&tl->tracks, track), li = intern(&tl->labels, label);

	if (ti < 0 || li < 0)
		return CL_OUT_OF_HOST_MEMORY;
	*t = (uint32_t)ti;
	*l = (uint32_t)li;
	return CLQ_SUCCESS;
}

int
clq_timeline_add_event(struct clq_timeline *timeline, struct clq_event *event,
		       const char *track, const char *label)
{
	static const char fn[] = "clq_timeline_add_event";
	uint32_t t, l;
	int rc;

	if (!timeline || !event || !track || !*track || !label || !*label)
		return clq__invalid(timeline ? timeline->ctx : NULL, fn,
				    "NULL argument or empty string");
	if (event->ctx != timeline->ctx) {
		clq__log(timeline->ctx, CLQ_LOG_ERROR,
			 "%s: the event belongs to another context", fn);
		return CLQ_ERROR_CONTEXT_MISMATCH;
	}
	if (!event->profiled) {
		clq__log(timeline->ctx, CLQ_LOG_ERROR,
			 "%s: the event has no timestamps (user event, or "
			 "queue without CLQ_QUEUE_PROFILING or "
			 "CL_QUEUE_PROFILING_ENABLE)",
			 fn);
		return CLQ_ERROR_PROFILING_DISABLED;
	}
	pthread_mutex_lock(&timeline->lock);
	rc = track_and_label(timeline, track, label, &t, &l);
	if (rc == CLQ_SUCCESS)
		rc = push_pending(timeline, event, t, l, 0);
	pthread_mutex_unlock(&timeline->lock);
	return rc;
}

int
clq_timeline_add_span(struct clq_timeline *timeline, const char *track,
		      const char *label, uint64_t start_ns, uint64_t end_ns,
		      uint64_t bytes)
{
	static const char fn[] = "clq_timeline_add_span";
	struct clq__record r = {.queued = start_ns,
				.start = start_ns,
				.end = end_ns,
				.bytes = bytes};
	int rc;

	if (!timeline || !track || !*track || !label || !*label)
		return clq__invalid(timeline ? timeline->ctx : NULL, fn,
				    "NULL argument or empty string");
	if (end_ns < start_ns)
		return clq__invalid(timeline->ctx, fn,
				    "the span ends before it starts");
	pthread_mutex_lock(&timeline->lock);
	rc = track_and_label(timeline, track, label, &r.track, &r.label);
	if (rc == CLQ_SUCCESS)
		rc = push_record(timeline, &r);
	pthread_mutex_unlock(&timeline->lock);
	return rc;
}

int
clq_timeline_host_begin(struct clq_timeline *timeline, uint64_t *begin_out)
{
	if (!timeline || !begin_out)
		return clq__invalid(timeline ? timeline->ctx : NULL,
				    "clq_timeline_host_begin",
				    "timeline or begin_out is NULL");
	*begin_out = host_ns() + (uint64_t)timeline->host_offset_ns;
	return CLQ_SUCCESS;
}

int
clq_timeline_host_end(struct clq_timeline *timeline, uint64_t begin,
		      const char *label)
{
	uint64_t end;

	if (!timeline)
		return clq__invalid(NULL, "clq_timeline_host_end",
				    "timeline is NULL");
	end = host_ns() + (uint64_t)timeline->host_offset_ns;
	return clq_timeline_add_span(timeline, "host", label, begin, end, 0);
}

double
clq_timeline_get_host_error(const struct clq_timeline *timeline)
{
	return timeline ? timeline->host_error_s : 0;
}

int
clq_timeline_flush(struct clq_timeline *timeline)
{
	if (!timeline)
		return clq__invalid(NULL, "clq_timeline_flush",
				    "timeline is NULL");
	return harvest_all(timeline);
}

size_t
clq_timeline_get_count(struct clq_timeline *timeline)
{
	size_t n;

	if (!timeline)
		return 0;
	pthread_mutex_lock(&timeline->lock);
	n = timeline->n_rec;
	pthread_mutex_unlock(&timeline->lock);
	return n;
}

size_t
clq_timeline_get_pending(struct clq_timeline *timeline)
{
	size_t n;

	if (!timeline)
		return 0;
	pthread_mutex_lock(&timeline->lock);
	n = timeline->n_pend;
	pthread_mutex_unlock(&timeline->lock);
	return n;
}

size_t
clq_timeline_get_memory(struct clq_timeline *timeline)
{
	size_t n;

	if (!timeline)
		return 0;
	pthread_mutex_lock(&timeline->lock);
	n = sizeof(*timeline) + timeline->cap_rec * sizeof(struct clq__record) +
	    timeline->cap_pend * sizeof(struct pending) +
	    (timeline->tracks.cap + timeline->labels.cap) * sizeof(char *) +
	    timeline->tracks.bytes + timeline->labels.bytes;
	pthread_mutex_unlock(&timeline->lock);
	return n;
}

int
clq_timeline_set_title(struct clq_timeline *timeline, const char *title)
{
	char *copy = NULL, *old;

	if (!timeline)
		return clq__invalid(NULL, "clq_timeline_set_title",
				    "timeline is NULL");
	if (title && !(copy = strdup(title)))
		return CL_OUT_OF_HOST_MEMORY;
	pthread_mutex_lock(&timeline->lock);
	old = timeline->title;
	timeline->title = copy;
	pthread_mutex_unlock(&timeline->lock);
	free(old);
	return CLQ_SUCCESS;
}

/* Copies `n` names; lock held. */
static char **
copy_names(const struct names *t)
{
	char **v = calloc(t->n + 1, sizeof(*v));

	for (size_t i = 0; v && i < t->n; i++) {
		if (!(v[i] = strdup(t->v[i]))) {
			for (size_t k = 0; k < i; k++)
				free(v[k]);
			free(v);
			return NULL;
		}
	}
	return v;
}

/* Copies records, names and title; lock held. A memcpy of the records,
 * so that the reader's sorting and writing happen without the lock. */
static int
snapshot_locked(const struct clq_timeline *tl,
		struct clq__timeline_snapshot *snap)
{
	snap->rec = malloc(tl->n_rec * sizeof(*snap->rec) + 1);
	/* Counts set with the copies, so that freeing a partial snapshot
	 * frees what it holds. */
	if ((snap->tracks = copy_names(&tl->tracks)))
		snap->n_tracks = tl->tracks.n;
	if ((snap->labels = copy_names(&tl->labels)))
		snap->n_labels = tl->labels.n;
	if (!snap->rec || !snap->tracks || !snap->labels ||
	    (tl->title && !(snap->title = strdup(tl->title))))
		return CL_OUT_OF_HOST_MEMORY;
	if (tl->n_rec)
		memcpy(snap->rec, tl->rec, tl->n_rec * sizeof(*snap->rec));
	snap->n_rec = tl->n_rec;
	return CLQ_SUCCESS;
}

int
clq__timeline_snapshot(struct clq_timeline *tl,
		       struct clq__timeline_snapshot *snap)
{
	int rc;

	*snap = (struct clq__timeline_snapshot){0};
	if ((rc = harvest_all(tl)) < 0)
		return rc;
	pthread_mutex_lock(&tl->lock);
	rc = snapshot_locked(tl, snap);
	pthread_mutex_unlock(&tl->lock);
	return rc;
}

static void
free_names(char **v, size_t n)
{
	/* Unset entries were taken over (NULL) or never copied. */
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void
clq__timeline_snapshot_free(struct clq__timeline_snapshot *snap)
{
	free(snap->rec);
	free_names(snap->tracks, snap->n_tracks);
	free_names(snap->labels, snap->n_labels);
	free(snap->title);
	*snap = (struct clq__timeline_snapshot){0};
}

struct clq_context *
clq__timeline_context(const struct clq_timeline *tl)
{
	return tl ? tl->ctx : NULL;
}
