/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the examples share, so that each reads as its own job: showing
 * clq's log, reporting a failed call, a clock, reading a count option,
 * writing a JSON string.
 */
#ifndef CLQ_EXAMPLE_H
#define CLQ_EXAMPLE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#include <clq/clq.h>

/* The most verbose level example_log_to_stderr() prints: errors and
 * warnings, or the level `CLQ_LOG` names (error, warning or warn, info,
 * debug; any case), as clq itself reads it (clq/common.h), which a
 * handler would otherwise override (an installed handler takes every
 * message). */
static inline enum clq_log_level
example_log_level(void)
{
	static const char *const names[] = {"error", "warning", "warn", "info",
					    "debug"};
	static const enum clq_log_level levels[] = {
		CLQ_LOG_ERROR, CLQ_LOG_WARNING, CLQ_LOG_WARNING, CLQ_LOG_INFO,
		CLQ_LOG_DEBUG};
	const char *value = getenv("CLQ_LOG");

	for (size_t i = 0; value && i < sizeof(names) / sizeof(*names); i++)
		if (strcasecmp(value, names[i]) == 0)
			return levels[i];
	return CLQ_LOG_WARNING;
}

/* A log handler that prints clq's errors and warnings to stderr, and
 * more if `CLQ_LOG` asks for it. */
static inline void
example_log_to_stderr(enum clq_log_level level, const char *message,
		      void *user_data)
{
	(void)user_data;
	if (level <= example_log_level())
		fprintf(stderr, "clq: %s\n", message);
}

/* Prints "PROGRAM: WHAT: CODE (message)" to stderr and returns `rc`. */
static inline int
example_report(const char *program, const char *what, int rc)
{
	fprintf(stderr, "%s: %s: %s (%s)\n", program, what, clq_error_name(rc),
		clq_strerror(rc));
	return rc;
}

/* Seconds on the host's monotonic clock. */
static inline double
example_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * Reads option --`name`'s value `text` as a whole number from `min` to
 * `max` into `*out`: 0, or -1 after saying on stderr, as `program`, what
 * was wanted.
 */
static inline int
example_parse_size(const char *program, const char *name, const char *text,
		   size_t min, size_t max, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || v < min ||
	    v > max) {
		fprintf(stderr,
			"%s: --%s wants a whole number from %zu to %zu, not "
			"'%s'\n",
			program, name, min, max, text);
		return -1;
	}
	*out = (size_t)v;
	return 0;
}

/*
 * Reads --chunk-mib's value `text`, a number of MiB from one float (4
 * bytes) up to 2^20, into `*out`: 0, or -1 after saying on stderr, as
 * `program`, what was wanted.
 */
static inline int
example_parse_mib(const char *program, const char *text, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || *end || !(v * 1048576 >= 4) ||
	    v > 1048576) {
		fprintf(stderr,
			"%s: --chunk-mib wants a number of MiB from one "
			"float (4 bytes, %.6g MiB) to 1048576, not '%s'\n",
			program, 4 / 1048576.0, text);
		return -1;
	}
	*out = v;
	return 0;
}

/* qsort()'s comparison of doubles, for medians. */
static inline int
example_compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Prints `s` as a JSON string to stdout, quotes included. */
static inline void
example_print_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

#endif /* CLQ_EXAMPLE_H */
