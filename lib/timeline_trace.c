/* SPDX-License-Identifier: BSD-3-Clause */
/* Timelines as Chrome trace JSON (Perfetto, chrome://tracing). */
#include "timeline_snapshot.h"

static void
write_trace(const struct clq__timeline_snapshot *tl, FILE *out)
{
	uint64_t last, t0 = clq__snapshot_origin(tl, &last);
	const char *sep = "";

	fputs("{\"displayTimeUnit\": \"ns\", \"otherData\": {\"producer\": "
	      "\"clq\"",
	      out);
	if (tl->title) {
		fputs(", \"title\": \"", out);
		clq__write_escaped(out, tl->title, 0);
		fputs("\"", out);
	}
	fputs("},\n\"traceEvents\": [\n", out);
	for (size_t i = 0; i < tl->n_tracks; i++) {
		fprintf(out,
			"%s{\"ph\": \"M\", \"name\": \"thread_name\", "
			"\"pid\": 1, \"tid\": %zu, \"args\": {\"name\": \"",
			sep, i + 1);
		clq__write_escaped(out, tl->tracks[i], 0);
		fputs("\"}}", out);
		sep = ",\n";
	}
	for (size_t i = 0; i < tl->n_rec; i++) {
		const struct clq__record *r = &tl->rec[i];

		if (r->flags & CLQ__RECORD_UNTIMED)
			continue;
		fprintf(out, "%s{\"ph\": \"X\", \"name\": \"", sep);
		clq__write_escaped(out, tl->labels[r->label], 0);
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
	struct clq__timeline_snapshot snap;
	int rc;

	if (!timeline || !out)
		return clq__invalid(clq__timeline_context(timeline),
				    "clq_timeline_write_trace",
				    "timeline or out is NULL");
	rc = clq__timeline_snapshot(timeline, &snap);
	if (rc == CLQ_SUCCESS) {
		write_trace(&snap, out);
		rc = clq__write_done(out);
	}
	clq__timeline_snapshot_free(&snap);
	return rc;
}
