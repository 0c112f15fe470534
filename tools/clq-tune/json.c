/* SPDX-License-Identifier: BSD-3-Clause */
/* clq-tune's JSON writer: strings and numbers. */
#include <math.h>

#include "clq-tune.h"

/* The length of the well-formed UTF-8 sequence at `s`, or 0. */
static int
utf8_length(const unsigned char *s)
{
	int n = s[0] < 0x80		       ? 1
		: s[0] >= 0xc2 && s[0] <= 0xdf ? 2
		: s[0] >= 0xe0 && s[0] <= 0xef ? 3
		: s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
					       : 0;

	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	}
	/* Overlongs, surrogates and code points past U+10FFFF. */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

void
json_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	putc('"', out);
	while (*p) {
		int n = utf8_length(p);

		if (n == 0) {
			fputs("\\ufffd", out);
			p++;
		} else if (*p == '"' || *p == '\\') {
			fprintf(out, "\\%c", *p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(out, "\\u%04x", *p++);
		} else {
			fwrite(p, 1, (size_t)n, out);
			p += n;
		}
	}
	putc('"', out);
}

void
json_number(FILE *out, double x)
{
	if (isfinite(x))
		fprintf(out, "%.9g", x);
	else
		fputs("null", out);
}
