/* SPDX-License-Identifier: BSD-3-Clause */
/* What the timeline exporters share: escaping, the time axis, errors. */
#include "timeline_snapshot.h"

/*
 * The length of the well-formed UTF-8 sequence at `s` (RFC 3629: no
 * overlongs, no surrogates, nothing past U+10FFFF), or 0. `*cp` gets the
 * code point.
 */
static size_t
utf8_sequence(const unsigned char *s, uint32_t *cp)
{
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	uint32_t v;

	if (!n || s[0] > 0xf4)
		return 0;
	v = s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/*
 * Track, label and title strings come from callers and drivers and need
 * not be UTF-8: an ill-formed sequence is written as U+FFFD, as are
 * U+FFFE and U+FFFF in XML (which allows neither), so that both outputs
 * always parse.
 */
void
clq__write_escaped(FILE *out, const char *str, int xml)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		unsigned char c = *s;
		uint32_t cp;
		size_t n;

		if (c < 0x80) {
			if (xml &&
			    (c == '<' || c == '>' || c == '&' || c == '"'))
				fprintf(out, "&#%u;", c);
			else if (!xml && (c == '"' || c == '\\'))
				fprintf(out, "\\%c", c);
			else if (c < 0x20 || c == 0x7f)
				fprintf(out, xml ? " " : "\\u%04x", c);
			else
				fputc(c, out);
			s++;
			continue;
		}
		n = utf8_sequence(s, &cp);
		if (!n || (xml && (cp == 0xfffe || cp == 0xffff))) {
			fputs("\xef\xbf\xbd", out); /* U+FFFD */
			s += n ? n : 1;
			continue;
		}
		fwrite(s, 1, n, out);
		s += n;
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
