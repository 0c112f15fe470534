/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "private.h"

#include <clq/timeline.h>

/* OpenCL 2.1; declared here since clq builds against the 1.2 API and only
 * calls it on devices that report 2.1 or later. */
extern CL_API_ENTRY cl_int CL_API_CALL
clGetDeviceAndHostTimer(cl_device_id device, cl_ulong *device_timestamp,
			cl_ulong *host_timestamp);

/* Harvest completed commands once this many are pending. */
#define HARVEST_AT 1024

enum { RECORD_UNTIMED = 1 };

struct record {
	uint64_t queued, start, end, bytes;
	uint32_t track, label, flags, unused;
};

_Static_assert(sizeof(struct record) == CLQ_TIMELINE_RECORD_BYTES,
	       "CLQ_TIMELINE_RECORD_BYTES is the size of a record");

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
	struct names tracks, labels;
	struct record *rec;
	size_t n_rec, cap_rec;
	struct pending *pend;
	size_t n_pend, cap_pend;
	int64_t host_offset_ns; /* device time = host monotonic + offset */
	double host_error_s;
	char *title; /* clq_timeline_set_title(); NULL: none */
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
	atomic_init(&tl->refs, 1);
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
		atomic_fetch_add_explicit(&timeline->refs, 1,
					  memory_order_relaxed);
	return timeline;
}

void
clq_timeline_unref(struct clq_timeline *tl)
{
	if (!tl ||
	    atomic_fetch_sub_explicit(&tl->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (size_t i = 0; i < tl->n_pend; i++)
		clq_event_unref(tl->pend[i].ev);
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
push_record(struct clq_timeline *tl, const struct record *r)
{
	if (tl->n_rec == tl->cap_rec) {
		size_t cap = tl->cap_rec ? 2 * tl->cap_rec : 256;
		struct record *rec = realloc(tl->rec, cap * sizeof(*rec));

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
	struct record r = {
		.bytes = p->bytes, .track = p->track, .label = p->label};
	struct clq_event_times t;
	int rc = clq__event_read_times(p->ev, &t);

	if (rc == CLQ_ERROR_TIMING_UNAVAILABLE) {
		r.flags = RECORD_UNTIMED;
	} else if (rc < 0) {
		return rc;
	} else {
		r.queued = t.queued;
		r.start = t.start;
		r.end = t.end;
	}
	return push_record(tl, &r);
}

static int
command_done(struct clq_event *ev)
{
	cl_int status;

	if (clGetEventInfo(ev->cl, CL_EVENT_COMMAND_EXECUTION_STATUS,
			   sizeof(status), &status, NULL) != CL_SUCCESS)
		return 1;
	return status <= CL_COMPLETE;
}

/* Harvests the pending commands that have completed; lock held. */
static void
harvest_completed(struct clq_timeline *tl)
{
	size_t kept = 0;

	for (size_t i = 0; i < tl->n_pend; i++) {
		struct pending *p = &tl->pend[i];

		if (!command_done(p->ev)) {
			tl->pend[kept++] = *p;
			continue;
		}
		harvest_one(tl, p);
		clq_event_unref(p->ev);
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
	pthread_mutex_unlock(&tl->lock);
	for (size_t i = 0; i < n; i++)
		clq_event_wait(p[i].ev);
	pthread_mutex_lock(&tl->lock);
	for (size_t i = 0; i < n; i++) {
		int prc = harvest_one(tl, &p[i]);

		if (prc < 0 && rc == CLQ_SUCCESS)
			rc = prc;
		clq_event_unref(p[i].ev);
	}
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
		(struct pending){clq_event_ref(ev), bytes, track, label};
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

void
clq__timeline_record(struct clq_queue *q, const struct clq__command *command,
		     struct clq_event *ev)
{
	struct clq_timeline *tl = q->timeline;
	long label;
	int rc = CL_OUT_OF_HOST_MEMORY;

	pthread_mutex_lock(&tl->lock);
	label = q->next_label ? intern(&tl->labels, q->next_label)
			      : command_label(tl, command);
	if (label >= 0)
		rc = push_pending(tl, ev, q->track, (uint32_t)label,
				  command->bytes);
	pthread_mutex_unlock(&tl->lock);
	free(q->next_label);
	q->next_label = NULL;
	if (rc < 0)
		clq__log(q->ctx, CLQ_LOG_WARNING,
			 "timeline: out of memory, a command is not recorded");
}

void
clq__queue_timeline_clear(struct clq_queue *q)
{
	clq_timeline_unref(q->timeline);
	q->timeline = NULL;
	free(q->next_label);
	q->next_label = NULL;
}

int
clq_queue_set_timeline(struct clq_queue *queue, struct clq_timeline *timeline,
		       const char *track)
{
	static const char fn[] = "clq_queue_set_timeline";
	long id;

	if (!queue)
		return clq__invalid(NULL, fn, "queue is NULL");
	if (!timeline) {
		clq__queue_timeline_clear(queue);
		return CLQ_SUCCESS;
	}
	if (!track || !*track)
		return clq__invalid(queue->ctx, fn, "track is NULL or empty");
	if (!(queue->flags & CLQ_QUEUE_PROFILING)) {
		clq__log(queue->ctx, CLQ_LOG_ERROR,
			 "%s: the queue has no CLQ_QUEUE_PROFILING", fn);
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
	if (id < 0)
		return CL_OUT_OF_HOST_MEMORY;
	clq_timeline_ref(timeline);
	clq__queue_timeline_clear(queue);
	queue->timeline = timeline;
	queue->track = (uint32_t)id;
	return CLQ_SUCCESS;
}

int
clq_queue_set_next_label(struct clq_queue *queue, const char *label)
{
	static const char fn[] = "clq_queue_set_next_label";
	char *copy;

	if (!queue || !label)
		return clq__invalid(queue ? queue->ctx : NULL, fn,
				    "queue or label is NULL");
	if (!queue->timeline)
		return clq__invalid(queue->ctx, fn,
				    "the queue has no timeline");
	copy = strdup(label);
	if (!copy)
		return CL_OUT_OF_HOST_MEMORY;
	free(queue->next_label);
	queue->next_label = copy;
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
			 "%s: the event has no timestamps (user event or "
			 "queue without CLQ_QUEUE_PROFILING)",
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
	struct record r = {.queued = start_ns,
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
	n = sizeof(*timeline) + timeline->cap_rec * sizeof(struct record) +
	    timeline->cap_pend * sizeof(struct pending) +
	    (timeline->tracks.cap + timeline->labels.cap) * sizeof(char *) +
	    timeline->tracks.bytes + timeline->labels.bytes;
	pthread_mutex_unlock(&timeline->lock);
	return n;
}

/* ------------------------------------------------------------- analysis */

struct edge {
	uint64_t t;
	uint32_t track;
	int delta;
};

static int
compare_edge(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;

	if (x->t != y->t)
		return (x->t > y->t) - (x->t < y->t);
	return x->delta - y->delta; /* ends before starts */
}

static int
compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* A copy of a timeline's records, analysed without holding its lock. */
struct snapshot {
	struct record *rec;
	size_t n_rec;
};

/*
 * Per-track busy time and the time with two or more tracks busy, by one
 * sweep over the start and end of every timed record.
 */
static int
sweep(const struct snapshot *tl, struct clq_timeline_summary *s)
{
	struct edge *e = malloc(2 * tl->n_rec * sizeof(*e) + 1);
	int *running = calloc(s->n_tracks + 1, sizeof(*running));
	uint64_t first = UINT64_MAX, last = 0, overlap = 0;
	size_t n = 0;
	int busy_tracks = 0;

	if (!e || !running) {
		free(e);
		free(running);
		return CL_OUT_OF_HOST_MEMORY;
	}
	for (size_t i = 0; i < tl->n_rec; i++) {
		const struct record *r = &tl->rec[i];

		if (r->flags & RECORD_UNTIMED)
			continue;
		e[n++] = (struct edge){r->start, r->track, +1};
		e[n++] = (struct edge){r->end, r->track, -1};
	}
	qsort(e, n, sizeof(*e), compare_edge);
	for (size_t i = 0; i < n; i++) {
		uint64_t dt = i ? e[i].t - e[i - 1].t : 0;

		if (busy_tracks >= 2)
			overlap += dt;
		for (size_t k = 0; k < s->n_tracks; k++)
			if (running[k] > 0)
				s->tracks[k].busy_s += (double)dt * 1e-9;
		if (e[i].delta > 0 && running[e[i].track]++ == 0)
			busy_tracks++;
		if (e[i].delta < 0 && --running[e[i].track] == 0)
			busy_tracks--;
		first = e[i].t < first ? e[i].t : first;
		last = e[i].t > last ? e[i].t : last;
	}
	s->span_s = n ? (double)(last - first) * 1e-9 : 0;
	s->overlap_s = (double)overlap * 1e-9;
	free(e);
	free(running);
	return CLQ_SUCCESS;
}

/* Count, total, min, median and max of one label's durations. */
static int
label_stats(const struct snapshot *tl, uint32_t label,
	    struct clq_timeline_label_summary *out)
{
	double *d = malloc((tl->n_rec + 1) * sizeof(*d));
	size_t n = 0;

	if (!d)
		return CL_OUT_OF_HOST_MEMORY;
	for (size_t i = 0; i < tl->n_rec; i++) {
		const struct record *r = &tl->rec[i];

		if (r->label == label && !(r->flags & RECORD_UNTIMED))
			d[n++] = (double)(r->end - r->start) * 1e-9;
	}
	qsort(d, n, sizeof(*d), compare_double);
	out->count = n;
	out->total_s = 0;
	for (size_t i = 0; i < n; i++)
		out->total_s += d[i];
	out->min_s = n ? d[0] : 0;
	out->max_s = n ? d[n - 1] : 0;
	out->median_s = !n	? 0
			: n % 2 ? d[n / 2]
				: 0.5 * (d[n / 2 - 1] + d[n / 2]);
	free(d);
	return CLQ_SUCCESS;
}

void
clq_timeline_summary_free(struct clq_timeline_summary *summary)
{
	if (!summary)
		return;
	for (size_t i = 0; i < summary->n_tracks; i++)
		free((char *)summary->tracks[i].name);
	for (size_t i = 0; i < summary->n_labels; i++)
		free((char *)summary->labels[i].label);
	free(summary->tracks);
	free(summary->labels);
	free(summary);
}

/* Copies the names and records of the summary into `s` and `snap`; lock
 * held. Copying costs a memcpy of the records, so that the sorting that
 * follows does not keep every attached queue waiting for the lock. */
static int
snapshot_locked(const struct clq_timeline *tl, struct clq_timeline_summary *s,
		struct snapshot *snap)
{
	s->tracks = calloc(tl->tracks.n + 1, sizeof(*s->tracks));
	s->labels = calloc(tl->labels.n + 1, sizeof(*s->labels));
	snap->rec = malloc(tl->n_rec * sizeof(*snap->rec) + 1);
	if (!s->tracks || !s->labels || !snap->rec)
		return CL_OUT_OF_HOST_MEMORY;
	for (; s->n_tracks < tl->tracks.n; s->n_tracks++) {
		s->tracks[s->n_tracks].name = strdup(tl->tracks.v[s->n_tracks]);
		if (!s->tracks[s->n_tracks].name)
			return CL_OUT_OF_HOST_MEMORY;
	}
	for (; s->n_labels < tl->labels.n; s->n_labels++) {
		s->labels[s->n_labels].label =
			strdup(tl->labels.v[s->n_labels]);
		if (!s->labels[s->n_labels].label)
			return CL_OUT_OF_HOST_MEMORY;
	}
	if (tl->n_rec)
		memcpy(snap->rec, tl->rec, tl->n_rec * sizeof(*snap->rec));
	snap->n_rec = tl->n_rec;
	return CLQ_SUCCESS;
}

/* Fills in the summary's numbers from the copied records. */
static int
summarize_snapshot(const struct snapshot *snap, struct clq_timeline_summary *s)
{
	int rc = CLQ_SUCCESS;

	for (size_t i = 0; i < snap->n_rec; i++) {
		if (snap->rec[i].flags & RECORD_UNTIMED)
			s->untimed++;
		else
			s->tracks[snap->rec[i].track].count++;
	}
	for (size_t l = 0; l < s->n_labels && rc == CLQ_SUCCESS; l++)
		rc = label_stats(snap, (uint32_t)l, &s->labels[l]);
	return rc < 0 ? rc : sweep(snap, s);
}

int
clq_timeline_summarize(struct clq_timeline *timeline,
		       struct clq_timeline_summary **summary_out)
{
	static const char fn[] = "clq_timeline_summarize";
	struct clq_timeline_summary *s;
	struct snapshot snap = {NULL, 0};
	int rc;

	if (!summary_out)
		return clq__invalid(timeline ? timeline->ctx : NULL, fn,
				    "summary_out is NULL");
	*summary_out = NULL;
	if (!timeline)
		return clq__invalid(NULL, fn, "timeline is NULL");
	s = calloc(1, sizeof(*s));
	if (!s)
		return CL_OUT_OF_HOST_MEMORY;
	rc = harvest_all(timeline);
	if (rc == CLQ_SUCCESS) {
		pthread_mutex_lock(&timeline->lock);
		rc = snapshot_locked(timeline, s, &snap);
		pthread_mutex_unlock(&timeline->lock);
	}
	if (rc == CLQ_SUCCESS)
		rc = summarize_snapshot(&snap, s);
	free(snap.rec);
	if (rc < 0) {
		clq_timeline_summary_free(s);
		return rc;
	}
	*summary_out = s;
	return CLQ_SUCCESS;
}

/* --------------------------------------------------------------- export */

static int
write_done(FILE *out)
{
	return ferror(out) || fflush(out) != 0 ? CLQ_ERROR_IO : CLQ_SUCCESS;
}

int
clq_timeline_write_summary(struct clq_timeline *timeline, FILE *out)
{
	struct clq_timeline_summary *s;
	int rc;

	if (!out)
		return clq__invalid(timeline ? timeline->ctx : NULL,
				    "clq_timeline_write_summary",
				    "out is NULL");
	if ((rc = clq_timeline_summarize(timeline, &s)) < 0)
		return rc;
	fprintf(out, "span %.3f ms, two or more tracks busy %.3f ms (%.0f%%)",
		s->span_s * 1e3, s->overlap_s * 1e3,
		s->span_s > 0 ? 100 * s->overlap_s / s->span_s : 0.0);
	if (s->untimed)
		fprintf(out, ", %zu records without timestamps", s->untimed);
	fprintf(out, "\n%-24s %8s %12s %6s\n", "track", "count", "busy ms",
		"busy%");
	for (size_t i = 0; i < s->n_tracks; i++)
		fprintf(out, "%-24s %8zu %12.3f %5.0f%%\n", s->tracks[i].name,
			s->tracks[i].count, s->tracks[i].busy_s * 1e3,
			s->span_s > 0 ? 100 * s->tracks[i].busy_s / s->span_s
				      : 0.0);
	fprintf(out, "%-24s %8s %12s %10s %10s %10s\n", "label", "count",
		"total ms", "min us", "median us", "max us");
	for (size_t i = 0; i < s->n_labels; i++) {
		const struct clq_timeline_label_summary *l = &s->labels[i];

		fprintf(out, "%-24s %8zu %12.3f %10.1f %10.1f %10.1f\n",
			l->label, l->count, l->total_s * 1e3, l->min_s * 1e6,
			l->median_s * 1e6, l->max_s * 1e6);
	}
	clq_timeline_summary_free(s);
	return write_done(out);
}

/* Writes `s` as the body of a JSON or XML string. */
static void
write_escaped(FILE *out, const char *s, int xml)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (xml && (c == '<' || c == '>' || c == '&' || c == '"'))
			fprintf(out, "&#%u;", c);
		else if (!xml && (c == '"' || c == '\\'))
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, xml ? " " : "\\u%04x", c);
		else
			fputc(c, out);
	}
}

/* The earliest start of a timed record, the time axis' zero. */
static uint64_t
origin(const struct clq_timeline *tl, uint64_t *last)
{
	uint64_t first = UINT64_MAX;

	*last = 0;
	for (size_t i = 0; i < tl->n_rec; i++) {
		if (tl->rec[i].flags & RECORD_UNTIMED)
			continue;
		if (tl->rec[i].start < first)
			first = tl->rec[i].start;
		if (tl->rec[i].end > *last)
			*last = tl->rec[i].end;
	}
	return first == UINT64_MAX ? 0 : first;
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

static void
write_trace_locked(const struct clq_timeline *tl, FILE *out)
{
	uint64_t last, t0 = origin(tl, &last);
	const char *sep = "";

	fputs("{\"displayTimeUnit\": \"ns\", \"otherData\": {\"producer\": "
	      "\"clq\"",
	      out);
	if (tl->title) {
		fputs(", \"title\": \"", out);
		write_escaped(out, tl->title, 0);
		fputs("\"", out);
	}
	fputs("},\n\"traceEvents\": [\n", out);
	for (size_t i = 0; i < tl->tracks.n; i++) {
		fprintf(out,
			"%s{\"ph\": \"M\", \"name\": \"thread_name\", "
			"\"pid\": 1, \"tid\": %zu, \"args\": {\"name\": \"",
			sep, i + 1);
		write_escaped(out, tl->tracks.v[i], 0);
		fputs("\"}}", out);
		sep = ",\n";
	}
	for (size_t i = 0; i < tl->n_rec; i++) {
		const struct record *r = &tl->rec[i];

		if (r->flags & RECORD_UNTIMED)
			continue;
		fprintf(out, "%s{\"ph\": \"X\", \"name\": \"", sep);
		write_escaped(out, tl->labels.v[r->label], 0);
		fprintf(out,
			"\", \"pid\": 1, \"tid\": %u, \"ts\": %.3f, "
			"\"dur\": %.3f, \"args\": {\"bytes\": %llu, "
			"\"start_ns\": %llu, \"end_ns\": %llu}}",
			r->track + 1, (double)(r->start - t0) * 1e-3,
			(double)(r->end - r->start) * 1e-3,
			(unsigned long long)r->bytes,
			(unsigned long long)r->start,
			(unsigned long long)r->end);
		sep = ",\n";
	}
	fputs("\n]}\n", out);
}

int
clq_timeline_write_trace(struct clq_timeline *timeline, FILE *out)
{
	int rc;

	if (!timeline || !out)
		return clq__invalid(timeline ? timeline->ctx : NULL,
				    "clq_timeline_write_trace",
				    "timeline or out is NULL");
	rc = harvest_all(timeline);
	pthread_mutex_lock(&timeline->lock);
	if (rc == CLQ_SUCCESS)
		write_trace_locked(timeline, out);
	pthread_mutex_unlock(&timeline->lock);
	return rc < 0 ? rc : write_done(out);
}

/* A tick step of 1, 2 or 5 x 10^k that gives about eight ticks. */
static double
tick_step(double span)
{
	double raw = span / 8, p = 1;

	while (p * 10 <= raw)
		p *= 10;
	while (p > raw && p > 1e-12)
		p /= 10;
	return raw >= 5 * p ? 5 * p : raw >= 2 * p ? 2 * p : p;
}

static void
write_svg_locked(const struct clq_timeline *tl, FILE *out)
{
	static const char *const palette[] = {
		"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
		"#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
	enum { LEFT = 150, RIGHT = 30, ROW = 26, BAR = 18, PLOT = 1000 };
	const unsigned top = tl->title ? 50 : 30;
	uint64_t last, t0 = origin(tl, &last);
	double span_ms = (double)(last - t0) * 1e-6, step;
	double scale = span_ms > 0 ? PLOT / span_ms : 0;
	size_t axis_y = top + tl->tracks.n * ROW + 10;
	size_t height = axis_y + 40 + 20 * ((tl->labels.n + 4) / 5);
	size_t n_palette = sizeof(palette) / sizeof(palette[0]);

	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%zu\" font-family=\"sans-serif\" font-size=\"12\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		LEFT + PLOT + RIGHT, height);
	if (tl->title) {
		fputs("<title>", out);
		write_escaped(out, tl->title, 1);
		fputs("</title>\n<text x=\"8\" y=\"22\" font-size=\"16\" "
		      "font-weight=\"bold\">",
		      out);
		write_escaped(out, tl->title, 1);
		fputs("</text>\n", out);
	}
	for (size_t i = 0; i < tl->tracks.n; i++) {
		fprintf(out, "<text x=\"8\" y=\"%zu\">", top + i * ROW + 14);
		write_escaped(out, tl->tracks.v[i], 1);
		fputs("</text>\n", out);
	}
	for (size_t i = 0; i < tl->n_rec; i++) {
		const struct record *r = &tl->rec[i];
		double x = (double)(r->start - t0) * 1e-6 * scale;
		double w = (double)(r->end - r->start) * 1e-6 * scale;

		if (r->flags & RECORD_UNTIMED)
			continue;
		fprintf(out,
			"<rect x=\"%.2f\" y=\"%u\" width=\"%.2f\" "
			"height=\"%d\" fill=\"%s\"><title>",
			LEFT + x, top + r->track * ROW, w < 0.5 ? 0.5 : w, BAR,
			palette[r->label % n_palette]);
		write_escaped(out, tl->labels.v[r->label], 1);
		fprintf(out, ": %.3f ms at %.3f ms</title></rect>\n",
			(double)(r->end - r->start) * 1e-6,
			(double)(r->start - t0) * 1e-6);
	}
	fprintf(out,
		"<line x1=\"%d\" y1=\"%zu\" x2=\"%d\" y2=\"%zu\" "
		"stroke=\"black\"/>\n",
		LEFT, axis_y, LEFT + PLOT, axis_y);
	step = tick_step(span_ms > 0 ? span_ms : 1);
	for (double t = 0; t <= span_ms + 1e-9; t += step)
		fprintf(out,
			"<line x1=\"%.2f\" y1=\"%zu\" x2=\"%.2f\" y2=\"%zu\" "
			"stroke=\"black\"/><text x=\"%.2f\" y=\"%zu\" "
			"text-anchor=\"middle\">%g</text>\n",
			LEFT + t * scale, axis_y, LEFT + t * scale, axis_y + 5,
			LEFT + t * scale, axis_y + 18, t);
	fprintf(out, "<text x=\"%d\" y=\"%zu\">ms</text>\n", 8, axis_y + 18);
	for (size_t i = 0; i < tl->labels.n; i++) {
		size_t x = 8 + (i % 5) * 230, y = axis_y + 30 + (i / 5) * 20;

		fprintf(out,
			"<rect x=\"%zu\" y=\"%zu\" width=\"12\" height=\"12\" "
			"fill=\"%s\"/><text x=\"%zu\" y=\"%zu\">",
			x, y, palette[i % n_palette], x + 18, y + 11);
		write_escaped(out, tl->labels.v[i], 1);
		fputs("</text>\n", out);
	}
	fputs("</svg>\n", out);
}

int
clq_timeline_write_svg(struct clq_timeline *timeline, FILE *out)
{
	int rc;

	if (!timeline || !out)
		return clq__invalid(timeline ? timeline->ctx : NULL,
				    "clq_timeline_write_svg",
				    "timeline or out is NULL");
	rc = harvest_all(timeline);
	pthread_mutex_lock(&timeline->lock);
	if (rc == CLQ_SUCCESS)
		write_svg_locked(timeline, out);
	pthread_mutex_unlock(&timeline->lock);
	return rc < 0 ? rc : write_done(out);
}
