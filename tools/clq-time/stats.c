/* SPDX-License-Identifier: BSD-3-Clause */
/* clq-time's clock and statistics: min, median and max of a sample. */
#include <stdlib.h>
#include <time.h>

#include "clq-time.h"

double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int
compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct stats
stats_of(double *v, size_t n)
{
	struct stats s = {n, 0, 0, 0};

	if (n == 0)
		return s;
	qsort(v, n, sizeof(*v), compare_doubles);
	s.min = v[0];
	s.max = v[n - 1];
	s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
	return s;
}

size_t
runs_for(double budget, double one)
{
	double n = one > 0 ? budget / one : MAX_RUNS;

	if (n < MIN_RUNS)
		return MIN_RUNS;
	return n > MAX_RUNS ? MAX_RUNS : (size_t)n;
}
