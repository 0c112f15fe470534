/* SPDX-License-Identifier: BSD-3-Clause */
/* What the benchmarks share: a clock and medians. */
#ifndef CLQ_BENCH_H
#define CLQ_BENCH_H

#include <stdlib.h>
#include <time.h>

/* Seconds on the host's monotonic clock. */
static inline double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline int
bench_compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sleeps `ms` milliseconds. */
static inline void
bench_sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&t, NULL);
}

/* The median of `n` > 0 values; sorts them. */
static inline double
bench_median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), bench_compare_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#endif /* CLQ_BENCH_H */
