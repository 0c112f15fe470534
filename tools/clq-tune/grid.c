/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The grid file of `clq-tune run` (clq-tune(1), GRID FILE):
 *
 *   # comment
 *   tunable transpose
 *   device pocl
 *   budget 0.05
 *   problem rows=1024 cols=1024
 *   problem rows=4096 cols=256
 *
 * One directive a line, blanks around words; `tunable` and at least one
 * `problem` are required, the others optional and at most once each.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "clq-tune.h"

#define LINE_MAX_BYTES 4096

static int fail(char *err, size_t err_len, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
fail(char *err, size_t err_len, size_t line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, err_len, "line %zu: ", line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < err_len)
		vsnprintf(err + n, err_len - (size_t)n, fmt, ap);
	va_end(ap);
	return CLQ_ERROR_INVALID_ARGUMENT;
}

void
grid_free(struct grid *g)
{
	for (size_t i = 0; i < g->n_problems; i++)
		clq_params_free(g->problems[i]);
	free(g->problems);
	free(g->device);
	memset(g, 0, sizeof(*g));
}

/* One line, NUL-terminated, without its newline. */
static int
parse_line(char *s, size_t line, struct grid *g, char *err, size_t err_len)
{
	char *word, *rest, *end;
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	if (!*s || *s == '#')
		return CLQ_SUCCESS;
	word = s;
	while (*s && *s != ' ' && *s != '\t')
		s++;
	rest = s;
	if (*s)
		*s++ = '\0', rest = s;
	while (*rest == ' ' || *rest == '\t')
		rest++;
	if (strcmp(word, "tunable") == 0) {
		if (g->tunable[0])
			return fail(err, err_len, line,
				    "a second 'tunable' (expected one)");
		if (!*rest || strlen(rest) >= sizeof(g->tunable) ||
		    strpbrk(rest, " \t"))
			return fail(err, err_len, line,
				    "expected 'tunable NAME' (transpose, "
				    "scale or fill)");
		strcpy(g->tunable, rest);
	} else if (strcmp(word, "device") == 0) {
		if (g->device)
			return fail(err, err_len, line,
				    "a second 'device' (expected one)");
		if (!*rest)
			return fail(err, err_len, line,
				    "expected 'device SPEC' (as CLQ_DEVICE)");
		if (!(g->device = strdup(rest)))
			return CL_OUT_OF_HOST_MEMORY;
	} else if (strcmp(word, "budget") == 0) {
		if (g->budget > 0)
			return fail(err, err_len, line,
				    "a second 'budget' (expected one)");
		errno = 0;
		g->budget = strtod(rest, &end);
		if (!*rest || *end || errno || !isfinite(g->budget) ||
		    g->budget <= 0 || g->budget > 3600) {
			g->budget = 0;
			return fail(err, err_len, line,
				    "expected 'budget SECONDS', more than 0 "
				    "and at most 3600");
		}
	} else if (strcmp(word, "problem") == 0) {
		struct clq_params *p = NULL, **more;
		int rc;

		if (g->n_problems == GRID_MAX_PROBLEMS)
			return fail(err, err_len, line, "more than %d problems",
				    GRID_MAX_PROBLEMS);
		if (!*rest)
			return fail(err, err_len, line,
				    "expected 'problem NAME=VALUE ...'");
		if ((rc = clq_params_parse(rest, &p)) < 0)
			return rc == CLQ_ERROR_INVALID_ARGUMENT
				       ? fail(err, err_len, line,
					      "expected 'problem NAME=VALUE "
					      "...' with integer or quoted "
					      "string values")
				       : rc;
		/* clq_params_parse() keeps a repeated name's last value;
		 * here it is a mistake. Values hold no '='. */
		n = 0;
		for (const char *c = rest; *c; c++)
			n += *c == '=';
		if (n != clq_params_count(p)) {
			clq_params_free(p);
			return fail(err, err_len, line,
				    "a name given twice (expected each "
				    "once)");
		}
		more = realloc(g->problems,
			       (g->n_problems + 1) * sizeof(*more));
		if (!more) {
			clq_params_free(p);
			return CL_OUT_OF_HOST_MEMORY;
		}
		g->problems = more;
		g->problems[g->n_problems++] = p;
	} else {
		return fail(err, err_len, line,
			    "unknown directive '%.40s' (expected tunable, "
			    "device, budget or problem)",
			    word);
	}
	return CLQ_SUCCESS;
}

int
grid_parse(const char *text, size_t len, struct grid *g, char *err,
	   size_t err_len)
{
	char buf[LINE_MAX_BYTES + 1];
	size_t line = 1;
	int rc = CLQ_SUCCESS;

	memset(g, 0, sizeof(*g));
	if (err_len)
		err[0] = '\0';
	if (len > GRID_MAX_BYTES)
		return fail(err, err_len, 0, "the file exceeds %u bytes",
			    GRID_MAX_BYTES);
	for (size_t at = 0; at < len && rc == CLQ_SUCCESS; line++) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (text + at)) : len - at;

		if (n > LINE_MAX_BYTES)
			rc = fail(err, err_len, line, "longer than %d bytes",
				  LINE_MAX_BYTES);
		else if (memchr(text + at, '\0', n))
			rc = fail(err, err_len, line,
				  "a NUL byte (expected text)");
		else {
			memcpy(buf, text + at, n);
			buf[n] = '\0';
			rc = parse_line(buf, line, g, err, err_len);
		}
		at += n + 1;
	}
	if (rc == CLQ_SUCCESS && !g->tunable[0])
		rc = fail(err, err_len, line, "no 'tunable NAME' line");
	else if (rc == CLQ_SUCCESS && !g->n_problems)
		rc = fail(err, err_len, line,
			  "no 'problem NAME=VALUE ...' line");
	if (rc < 0)
		grid_free(g);
	return rc;
}
