/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The tuner on clq's transpose (cl/transpose.cl) over its tile sizes, for
 * matrix shapes given as ROWSxCOLS: per shape, every candidate's time,
 * the chosen tile, the best and worst times, the speedup over the default
 * tile (16, transpose.cl's), the tuning time; then the cost of a cached
 * lookup (clq_tune_db_lookup of a stored result, the source hashed each
 * time) and of the hash alone, over many calls.
 *
 *   bench-tune [--json] [--budget S] [--lookups N] DB SHAPE...
 *
 * The device is CLQ_DEVICE's choice; DB is created or reused (results are
 * stored as clq-tune run would store them).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clq/clq.h>

#include "bench.h"

#define DEFAULT_TILE 16
#define MAX_CANDIDATES 16

struct shape_result {
	size_t rows, cols;
	int64_t tiles[MAX_CANDIDATES];
	double times[MAX_CANDIDATES]; /* -1: skipped */
	size_t n;
	int64_t best_tile;
	double best, worst, dflt, tuning_s;
};

static void
on_candidate(size_t done, size_t total, const struct clq_params *candidate,
	     double seconds, double left, void *data)
{
	struct shape_result *r = data;

	if (r->n < MAX_CANDIDATES &&
	    clq_params_get_int(candidate, "TRANSPOSE_TILE", &r->tiles[r->n]) ==
		    CLQ_SUCCESS)
		r->times[r->n++] = seconds;
}

static int
fail(const char *what, int rc)
{
	fprintf(stderr, "bench-tune: %s: %s (%s)\n", what, clq_error_name(rc),
		clq_strerror(rc));
	return 1;
}

int
main(int argc, char **argv)
{
	struct clq_context *ctx = NULL;
	struct clq_tune_db *db = NULL;
	struct clq_tunable *t = NULL;
	struct shape_result res[8];
	struct clq_tune_options o = {.budget = 0.2};
	size_t n_shapes = 0, lookups = 20000;
	double lookup_us = 0, hash_us = 0, *samples;
	int json = 0, a = 1, rc;
	const char *db_path;

	for (; a < argc && argv[a][0] == '-'; a++) {
		if (strcmp(argv[a], "--json") == 0)
			json = 1;
		else if (strcmp(argv[a], "--budget") == 0 && a + 1 < argc)
			o.budget = atof(argv[++a]);
		else if (strcmp(argv[a], "--lookups") == 0 && a + 1 < argc)
			lookups = (size_t)atol(argv[++a]);
		else
			break;
	}
	if (argc - a < 2 || argc - a - 1 > 8 || o.budget <= 0 || !lookups) {
		fprintf(stderr, "usage: bench-tune [--json] [--budget S] "
				"[--lookups N] DB ROWSxCOLS... (1 to 8 "
				"shapes)\n");
		return 2;
	}
	db_path = argv[a++];
	if ((rc = clq_context_create_default(&ctx)) < 0)
		return fail("creating a context", rc);
	if ((rc = clq_tune_db_open(db_path, 0, &db)) < 0)
		return fail("opening the database", rc);
	if ((rc = clq_tunable_create_builtin("transpose", &t)) < 0)
		return fail("the transpose tunable", rc);
	for (; a < argc; a++) {
		struct shape_result *r = &res[n_shapes];
		struct clq_params *problem = NULL, *best = NULL;
		double start;

		memset(r, 0, sizeof(*r));
		if (sscanf(argv[a], "%zux%zu", &r->rows, &r->cols) != 2 ||
		    !r->rows || !r->cols) {
			fprintf(stderr,
				"bench-tune: bad shape '%s' (expected "
				"ROWSxCOLS)\n",
				argv[a]);
			return 2;
		}
		clq_params_create(&problem);
		clq_params_set_int(problem, "rows", (int64_t)r->rows);
		clq_params_set_int(problem, "cols", (int64_t)r->cols);
		o.progress = on_candidate;
		o.progress_data = r;
		start = bench_now();
		if ((rc = clq_tune(ctx, t, problem, &o, &best, &r->best)) < 0)
			return fail(argv[a], rc);
		r->tuning_s = bench_now() - start;
		clq_params_get_int(best, "TRANSPOSE_TILE", &r->best_tile);
		r->dflt = -1;
		for (size_t i = 0; i < r->n; i++) {
			if (r->times[i] > r->worst)
				r->worst = r->times[i];
			if (r->tiles[i] == DEFAULT_TILE)
				r->dflt = r->times[i];
		}
		if ((rc = clq_tune_db_store(db, ctx, t, problem, best,
					    r->best)) < 0)
			return fail("storing", rc);
		clq_params_free(best);
		clq_params_free(problem);
		n_shapes++;
	}

	/* Cached lookups of the last shape: the whole call, then the hash. */
	samples = malloc(lookups * sizeof(*samples));
	{
		struct clq_params *problem = NULL, *got = NULL;
		char hash[17];

		clq_params_create(&problem);
		clq_params_set_int(problem, "rows",
				   (int64_t)res[n_shapes - 1].rows);
		clq_params_set_int(problem, "cols",
				   (int64_t)res[n_shapes - 1].cols);
		for (size_t i = 0; i < lookups; i++) {
			double s = bench_now();

			rc = clq_tune_db_lookup(db, ctx, t, problem,
						CLQ_TUNE_MATCH_EXACT, &got,
						NULL);
			samples[i] = bench_now() - s;
			clq_params_free(got);
			got = NULL;
			if (rc < 0)
				return fail("looking up", rc);
		}
		lookup_us = 1e6 * bench_median(samples, lookups);
		for (size_t i = 0; i < lookups; i++) {
			double s = bench_now();

			clq_tunable_hash(t, ctx, hash);
			samples[i] = bench_now() - s;
		}
		hash_us = 1e6 * bench_median(samples, lookups);
		clq_params_free(problem);
	}
	free(samples);

	if (json) {
		printf("{\"device\": \"%s\", \"budget_s\": %g, \"shapes\": [",
		       clq_device_get_name(clq_context_get_device(ctx)),
		       o.budget);
		for (size_t s = 0; s < n_shapes; s++) {
			const struct shape_result *r = &res[s];

			printf("%s\n  {\"rows\": %zu, \"cols\": %zu, "
			       "\"candidates\": {",
			       s ? "," : "", r->rows, r->cols);
			for (size_t i = 0; i < r->n; i++)
				printf("%s\"%" PRId64 "\": %.9g", i ? ", " : "",
				       r->tiles[i], r->times[i]);
			printf("}, \"best_tile\": %" PRId64
			       ", \"best_s\": %.9g, \"worst_s\": %.9g, "
			       "\"default_s\": %.9g, \"speedup\": %.4g, "
			       "\"tuning_s\": %.4g}",
			       r->best_tile, r->best, r->worst, r->dflt,
			       r->dflt > 0 ? r->dflt / r->best : 0,
			       r->tuning_s);
		}
		printf("\n], \"lookups\": %zu, \"lookup_median_us\": %.3f, "
		       "\"hash_median_us\": %.3f}\n",
		       lookups, lookup_us, hash_us);
	} else {
		printf("device: %s; budget %g s per candidate\n",
		       clq_device_get_name(clq_context_get_device(ctx)),
		       o.budget);
		for (size_t s = 0; s < n_shapes; s++) {
			const struct shape_result *r = &res[s];

			printf("transpose %zux%zu: grid TRANSPOSE_TILE =",
			       r->rows, r->cols);
			for (size_t i = 0; i < r->n; i++)
				printf(" %" PRId64 ": %.1f us", r->tiles[i],
				       r->times[i] * 1e6);
			printf("\n  chosen %" PRId64 "; best %.1f us, worst "
			       "%.1f us, default (16) %.1f us, speedup over "
			       "default %.3gx; tuned in %.3g s\n",
			       r->best_tile, r->best * 1e6, r->worst * 1e6,
			       r->dflt * 1e6,
			       r->dflt > 0 ? r->dflt / r->best : 0,
			       r->tuning_s);
		}
		printf("cached lookup: median %.2f us over %zu calls (of "
		       "which hashing the source: %.2f us)\n",
		       lookup_us, lookups, hash_us);
	}
	clq_tunable_free(t);
	clq_tune_db_close(db);
	clq_context_unref(ctx);
	return 0;
}
