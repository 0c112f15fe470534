/* SPDX-License-Identifier: BSD-3-Clause */
/* What the timeline exporters share: escaping, the time axis, errors. */
#include "timeline_snapshot.h"

void
clq__write_escaped(FILE *out, const char *s, int xml)
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

uint64_t
clq__snapshot_origin(const struct clq__timeline_snapshot *s, uint64_t *last)
{
	uint64_t first = UINT64_MAX;

	*last = 0;
	for (size_t i = 0; i < s->n_rec; i++) {
		if (s->rec[i].flags & CLQ__RECORD_UNTIMED)
			continue;
		if (s->rec[i].start < first)
			first = s->rec[i].start;
		if (s->rec[i].end > *last)
			*last = s->rec[i].end;
	}
	return first == UINT64_MAX ? 0 : first;
}

int
clq__write_done(FILE *out)
{
	return ferror(out) || fflush(out) != 0 ? CLQ_ERROR_IO : CLQ_SUCCESS;
}
