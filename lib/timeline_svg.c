/* SPDX-License-Identifier: BSD-3-Clause */
/* Timelines as SVG pictures: a row per track, a bar per record. */
#include "timeline_snapshot.h"

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
write_svg(const struct clq__timeline_snapshot *tl, FILE *out)
{
	static const char *const palette[] = {
		"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
		"#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
	enum { LEFT = 150, RIGHT = 30, ROW = 26, BAR = 18, PLOT = 1000 };
	const unsigned top = tl->title ? 50 : 30;
	uint64_t last, t0 = clq__snapshot_origin(tl, &last);
	double span_ms = (double)(last - t0) * 1e-6, step;
	double scale = span_ms > 0 ? PLOT / span_ms : 0;
	size_t axis_y = top + tl->n_tracks * ROW + 10;
	size_t height = axis_y + 40 + 20 * ((tl->n_labels + 4) / 5);
	size_t n_palette = sizeof(palette) / sizeof(palette[0]);

	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%zu\" font-family=\"sans-serif\" font-size=\"12\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		LEFT + PLOT + RIGHT, height);
	if (tl->title) {
		fputs("<title>", out);
		clq__write_escaped(out, tl->title, 1);
		fputs("</title>\n<text x=\"8\" y=\"22\" font-size=\"16\" "
		      "font-weight=\"bold\">",
		      out);
		clq__write_escaped(out, tl->title, 1);
		fputs("</text>\n", out);
	}
	for (size_t i = 0; i < tl->n_tracks; i++) {
		fprintf(out, "<text x=\"8\" y=\"%zu\">", top + i * ROW + 14);
		clq__write_escaped(out, tl->tracks[i], 1);
		fputs("</text>\n", out);
	}
	for (size_t i = 0; i < tl->n_rec; i++) {
		const struct clq__record *r = &tl->rec[i];
		double x = (double)(r->start - t0) * 1e-6 * scale;
		double w = (double)(r->end - r->start) * 1e-6 * scale;

		if (r->flags & CLQ__RECORD_UNTIMED)
			continue;
		fprintf(out,
			"<rect x=\"%.2f\" y=\"%u\" width=\"%.2f\" "
			"height=\"%d\" fill=\"%s\"><title>",
			LEFT + x, top + r->track * ROW, w < 0.5 ? 0.5 : w, BAR,
			palette[r->label % n_palette]);
		clq__write_escaped(out, tl->labels[r->label], 1);
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
	for (size_t i = 0; i < tl->n_labels; i++) {
		size_t x = 8 + (i % 5) * 230, y = axis_y + 30 + (i / 5) * 20;

		fprintf(out,
			"<rect x=\"%zu\" y=\"%zu\" width=\"12\" height=\"12\" "
			"fill=\"%s\"/><text x=\"%zu\" y=\"%zu\">",
			x, y, palette[i % n_palette], x + 18, y + 11);
		clq__write_escaped(out, tl->labels[i], 1);
		fputs("</text>\n", out);
	}
	fputs("</svg>\n", out);
}

int
clq_timeline_write_svg(struct clq_timeline *timeline, FILE *out)
{
	struct clq__timeline_snapshot snap;
	int rc;

	if (!timeline || !out)
		return clq__invalid(clq__timeline_context(timeline),
				    "clq_timeline_write_svg",
				    "timeline or out is NULL");
	rc = clq__timeline_snapshot(timeline, &snap);
	if (rc == CLQ_SUCCESS) {
		write_svg(&snap, out);
		rc = clq__write_done(out);
	}
	clq__timeline_snapshot_free(&snap);
	return rc;
}
