/* SPDX-License-Identifier: BSD-3-Clause */
/* The JSON text both tools write (clq-time, clq-tune): json-text.c. */
#ifndef CLQ_TOOLS_JSON_TEXT_H
#define CLQ_TOOLS_JSON_TEXT_H

#include <stdio.h>

/*
 * `s` as a JSON string, quotes included (NULL as ""): the one place the
 * tools escape text. `"` and `\` are backslash-escaped, control characters (U+0001 to
 * U+001F and U+007F) written as \u00XX; valid UTF-8 is copied as it is
 * (`<`, `&` and `>` too: JSON needs no escape for them) and every
 * maximal ill-formed subsequence of bytes becomes one \ufffd, as
 * Unicode's recommended practice (and Python's errors="replace") has it,
 * so a driver's Latin-1 device name still gives a valid document.
 */
void json_write_string(FILE *out, const char *s);

/* A number, or null for one that JSON cannot hold (inf, nan). */
void json_write_number(FILE *out, double x);

#endif
