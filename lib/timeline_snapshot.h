/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a timeline's readers share (timeline.c records; timeline_summary.c,
 * timeline_trace.c and timeline_svg.c read): a snapshot, a copy of the
 * records and names taken under the timeline's lock, so that a reader's
 * slow work (sorting, writing a file) never holds up an enqueue on an
 * attached queue.
 */
#ifndef CLQ_TIMELINE_SNAPSHOT_H
#define CLQ_TIMELINE_SNAPSHOT_H

#include <stdint.h>
#include <stdio.h>

#include "private.h"

/* A record the driver gave no usable timestamps for. */
#define CLQ__RECORD_UNTIMED 1u

/* One command or span, in device nanoseconds. */
struct clq__record {
	uint64_t queued, start, end, bytes;
	uint32_t track, label, flags, unused;
};

/* timeline.h documents the size. */
_Static_assert(sizeof(struct clq__record) == 48, "a record is 48 bytes");

struct clq__timeline_snapshot {
	struct clq__record *rec;
	size_t n_rec;
	char **tracks; /* indexed by clq__record.track */
	size_t n_tracks;
	char **labels; /* indexed by clq__record.label */
	size_t n_labels;
	char *title; /* NULL: none */
};

/*
 * Waits for the timeline's pending commands, records them, and copies
 * everything into `snap` (release with clq__timeline_snapshot_free(), also
 * after a failure). Returns CLQ_SUCCESS, CL_OUT_OF_HOST_MEMORY or the
 * first error of a pending command (whose record is then dropped).
 */
int clq__timeline_snapshot(struct clq_timeline *tl,
			   struct clq__timeline_snapshot *snap);
void clq__timeline_snapshot_free(struct clq__timeline_snapshot *snap);
/* The timeline's context, for messages; NULL for a NULL timeline. */
struct clq_context *clq__timeline_context(const struct clq_timeline *tl);

/* The earliest start of a timed record (the time axis' zero; 0 when there
 * is none) and, in `*last`, the latest end (timeline_export.c). */
uint64_t
clq__snapshot_origin(const struct clq__timeline_snapshot *s, uint64_t *last);
/* Writes `s` as the body of a JSON string (`xml` 0) or as XML text. */
void clq__write_escaped(FILE *out, const char *s, int xml);
/* CLQ_SUCCESS, or CLQ_ERROR_IO when writing or flushing `out` failed. */
int clq__write_done(FILE *out);

#endif /* CLQ_TIMELINE_SNAPSHOT_H */
