/* SPDX-License-Identifier: BSD-3-Clause */
/* Timeline summaries: busy time per track, overlap, statistics per label. */
#include <stdlib.h>
#include <string.h>

#include "timeline_snapshot.h"

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

/*
 * Per-track busy time and the time with two or more tracks busy, by one
 * sweep over the start and end of every timed record.
 */
static int
sweep(const struct clq__timeline_snapshot *tl, struct clq_timeline_summary *s)
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
		const struct clq__record *r = &tl->rec[i];

		if (r->flags & CLQ__RECORD_UNTIMED)
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
label_stats(const struct clq__timeline_snapshot *tl, uint32_t label,
	    struct clq_timeline_label_summary *out)
{
	double *d = malloc((tl->n_rec + 1) * sizeof(*d));
	size_t n = 0;

	if (!d)
		return CL_OUT_OF_HOST_MEMORY;
	for (size_t i = 0; i < tl->n_rec; i++) {
		const struct clq__record *r = &tl->rec[i];

		if (r->label == label && !(r->flags & CLQ__RECORD_UNTIMED))
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

/* The summary's tracks and labels, taken over from the snapshot. */
static int
take_names(struct clq__timeline_snapshot *snap, struct clq_timeline_summary *s)
{
	s->tracks = calloc(snap->n_tracks + 1, sizeof(*s->tracks));
	s->labels = calloc(snap->n_labels + 1, sizeof(*s->labels));
	if (!s->tracks || !s->labels)
		return CL_OUT_OF_HOST_MEMORY;
	for (; s->n_tracks < snap->n_tracks; s->n_tracks++) {
		s->tracks[s->n_tracks].name = snap->tracks[s->n_tracks];
		snap->tracks[s->n_tracks] = NULL;
	}
	for (; s->n_labels < snap->n_labels; s->n_labels++) {
		s->labels[s->n_labels].label = snap->labels[s->n_labels];
		snap->labels[s->n_labels] = NULL;
	}
	return CLQ_SUCCESS;
}

/* Fills in the summary's numbers from the copied records. */
static int
summarize_snapshot(const struct clq__timeline_snapshot *snap,
		   struct clq_timeline_summary *s)
{
	int rc = CLQ_SUCCESS;

	for (size_t i = 0; i < snap->n_rec; i++) {
		if (snap->rec[i].flags & CLQ__RECORD_UNTIMED)
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
	struct clq__timeline_snapshot snap;
	int rc;

	if (!summary_out)
		return clq__invalid(clq__timeline_context(timeline), fn,
				    "summary_out is NULL");
	*summary_out = NULL;
	if (!timeline)
		return clq__invalid(NULL, fn, "timeline is NULL");
	s = calloc(1, sizeof(*s));
	if (!s)
		return CL_OUT_OF_HOST_MEMORY;
	rc = clq__timeline_snapshot(timeline, &snap);
	if (rc == CLQ_SUCCESS)
		rc = take_names(&snap, s);
	if (rc == CLQ_SUCCESS)
		rc = summarize_snapshot(&snap, s);
	clq__timeline_snapshot_free(&snap);
	if (rc < 0) {
		clq_timeline_summary_free(s);
		return rc;
	}
	*summary_out = s;
	return CLQ_SUCCESS;
}

int
clq_timeline_write_summary(struct clq_timeline *timeline, FILE *out)
{
	struct clq_timeline_summary *s;
	int rc;

	if (!out)
		return clq__invalid(clq__timeline_context(timeline),
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
	return clq__write_done(out);
}
