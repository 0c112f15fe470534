/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the examples share, so that each reads as its own job: showing
 * clq's log, reporting a failed call, a clock.
 */
#ifndef CLQ_EXAMPLE_H
#define CLQ_EXAMPLE_H

#include <stdio.h>
#include <time.h>

#include <clq/clq.h>

/* A log handler that prints clq's errors and warnings to stderr. */
static inline void
example_log_to_stderr(enum clq_log_level level, const char *message,
		      void *user_data)
{
	(void)user_data;
	if (level <= CLQ_LOG_WARNING)
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

#endif /* CLQ_EXAMPLE_H */
