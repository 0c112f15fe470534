/* SPDX-License-Identifier: BSD-3-Clause */
/* The tools' JSON text: strings and numbers (json-text.h). */
#include <math.h>

#include "json-text.h"

/*
 * The length of the well-formed UTF-8 sequence at `s` (1 to 4), or, for
 * an ill-formed one, minus the length of its maximal subpart: the lead
 * byte and the continuation bytes that could still have completed it
 * (Unicode 15, section 3.9, "U+FFFD Substitution of Maximal Subparts").
 * A lone continuation byte, C0, C1 and F5 to FF are subparts of one byte;
 * so is the lead of an overlong, a surrogate or a code point above
 * U+10FFFF, whose second byte is out of the range below. The NUL that
 * ends the string is never a continuation byte, so a truncated sequence
 * stops there.
 */
static int
utf8_sequence(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	int n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		if (s[0] == 0xe0)
			lo = 0xa0; /* below: overlong */
		else if (s[0] == 0xed)
			hi = 0x9f; /* above: a surrogate */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		if (s[0] == 0xf0)
			lo = 0x90; /* below: overlong */
		else if (s[0] == 0xf4)
			hi = 0x8f; /* above: beyond U+10FFFF */
	} else {
		return -1;
	}
	for (int i = 1; i < n; i++) {
		if (s[i] < lo || s[i] > hi)
			return -i;
		lo = 0x80;
		hi = 0xbf;
	}
	return n;
}

void
json_write_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	putc('"', out);
	while (*p) {
		int n = utf8_sequence(p);

		if (n < 0) {
			fputs("\\ufffd", out);
			p += -n;
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
json_write_number(FILE *out, double x)
{
	if (isfinite(x))
		fprintf(out, "%.9g", x);
	else
		fputs("null", out);
}
