/* SPDX-License-Identifier: BSD-3-Clause */
/* clq-tune run GRIDFILE: tunes each problem of the grid into a database. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clq-tune.h"

/* What one problem's tuning saw, through the progress callback. */
struct progress {
	const struct options *opt;
	size_t problem, n_problems;
	double start, worst, best;
	size_t candidates, skipped;
	bool tty;
};

struct result {
	char *problem, *params;
	double seconds, worst, tuning_s;
	size_t candidates, skipped;
	bool stored_before;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void
on_candidate(size_t done, size_t total, const struct clq_params *candidate,
	     double seconds, double seconds_left, void *data)
{
	struct progress *p = data;
	double per_problem, left;

	p->candidates = total;
	if (seconds < 0)
		p->skipped++;
	else if (seconds > p->worst)
		p->worst = seconds;
	if (p->opt->quiet)
		return;
	/* This problem's rest, and the later problems at this one's pace. */
	per_problem = (now() - p->start + seconds_left);
	left = seconds_left +
	       per_problem * (double)(p->n_problems - p->problem - 1);
	/* On a terminal one line, rewritten; elsewhere a line each. */
	fprintf(stderr,
		"%sclq-tune: problem %zu/%zu, candidate %zu/%zu, about %.1f s "
		"left%s",
		p->tty ? "\r" : "", p->problem + 1, p->n_problems, done, total,
		left, p->tty ? "   " : "\n");
	if (p->tty && done == total)
		fputc('\n', stderr);
}

static int
read_grid(const char *path, struct grid *g)
{
	FILE *f = fopen(path, "rb");
	char *text, err[256];
	size_t n;
	int rc;

	if (!f) {
		fprintf(stderr, "clq-tune: cannot open grid file '%s': %s\n",
			path, strerror(errno));
		return EXIT_USAGE;
	}
	text = malloc(GRID_MAX_BYTES + 1);
	if (!text) {
		fclose(f);
		return EXIT_FAILURE;
	}
	errno = 0;
	n = fread(text, 1, GRID_MAX_BYTES + 1, f);
	/* A directory opens, then fails to read (EISDIR). */
	if (ferror(f)) {
		fprintf(stderr, "clq-tune: cannot read grid file '%s': %s\n",
			path, errno ? strerror(errno) : "read error");
		fclose(f);
		free(text);
		return EXIT_USAGE;
	}
	fclose(f);
	rc = grid_parse(text, n, g, err, sizeof(err));
	free(text);
	if (rc < 0) {
		fprintf(stderr, "clq-tune: %s: %s\n", path, err);
		return EXIT_USAGE;
	}
	return 0;
}

static void
print_results(const struct options *opt, const struct grid *g,
	      const struct clq_tunable *t, const struct clq_device *dev,
	      const char *db_path, const struct result *r, size_t n,
	      bool complete)
{
	if (!opt->json) {
		for (size_t i = 0; i < n; i++) {
			printf("%s %s: %s  %.4g s", g->tunable, r[i].problem,
			       r[i].params, r[i].seconds);
			if (r[i].stored_before)
				printf("  (stored before)\n");
			else
				printf("  (worst %.4g s, %zu candidates, %zu "
				       "skipped, tuned in %.3g s)\n",
				       r[i].worst, r[i].candidates,
				       r[i].skipped, r[i].tuning_s);
		}
		return;
	}
	printf("{\"format\": %d, \"command\": \"run\", \"tunable\": ",
	       FORMAT_VERSION);
	json_write_string(stdout, g->tunable);
	printf(", \"version\": %d, \"db\": ", clq_tunable_get_version(t));
	json_write_string(stdout, db_path);
	printf(", \"device\": {\"name\": ");
	json_write_string(stdout, clq_device_get_name(dev));
	printf(", \"platform\": ");
	json_write_string(stdout, clq_device_get_platform_name(dev));
	printf(", \"driver\": ");
	json_write_string(stdout, clq_device_get_driver_version(dev));
	printf("}, \"complete\": %s, \"results\": [",
	       complete ? "true" : "false");
	for (size_t i = 0; i < n; i++) {
		printf("%s\n  {\"problem\": ", i ? "," : "");
		json_write_string(stdout, r[i].problem);
		printf(", \"params\": ");
		json_write_string(stdout, r[i].params);
		printf(", \"seconds\": ");
		json_write_number(stdout, r[i].seconds);
		printf(", \"stored_before\": %s",
		       r[i].stored_before ? "true" : "false");
		if (!r[i].stored_before) {
			printf(", \"worst_s\": ");
			json_write_number(stdout, r[i].worst);
			printf(", \"candidates\": %zu, \"skipped\": %zu, "
			       "\"tuning_s\": ",
			       r[i].candidates, r[i].skipped);
			json_write_number(stdout, r[i].tuning_s);
		}
		printf("}");
	}
	printf("\n]}\n");
}

/* Tunes the problems in order; `*done` receives how many have results. */
static int
tune_all(const struct options *opt, const struct grid *g,
	 struct clq_context *ctx, struct clq_tune_db *db,
	 const struct clq_tunable *t, struct result *res, size_t *done)
{
	struct clq_tune_options to = {.budget = opt->budget > 0 ? opt->budget
								: g->budget};
	int rc = CLQ_SUCCESS;

	*done = 0;
	for (size_t i = 0; i < g->n_problems && rc == CLQ_SUCCESS; i++) {
		const struct clq_params *problem = g->problems[i];
		struct clq_params *best = NULL;
		struct progress p = {.opt = opt,
				     .problem = i,
				     .n_problems = g->n_problems,
				     .start = now(),
				     .tty = isatty(STDERR_FILENO) != 0};
		struct result *r = &res[i];

		if ((rc = clq_params_format(problem, &r->problem)) < 0)
			break;
		if (!opt->force) {
			rc = clq_tune_db_lookup(db, ctx, t, problem,
						CLQ_TUNE_MATCH_EXACT, &best,
						&r->seconds);
			if (rc == CLQ_SUCCESS) {
				r->stored_before = true;
				rc = clq_params_format(best, &r->params);
				clq_params_free(best);
				if (rc == CLQ_SUCCESS)
					*done = i + 1;
				continue;
			}
			if (rc != CLQ_ERROR_NOT_FOUND) {
				report("looking up", rc);
				break;
			}
		}
		to.progress = on_candidate;
		to.progress_data = &p;
		rc = clq_tune(ctx, t, problem, &to, &best, &r->seconds);
		if (rc < 0) {
			report(r->problem, rc);
			break;
		}
		r->tuning_s = now() - p.start;
		r->worst = p.worst;
		r->candidates = p.candidates;
		r->skipped = p.skipped;
		rc = clq_params_format(best, &r->params);
		if (rc == CLQ_SUCCESS &&
		    (rc = clq_tune_db_store(db, ctx, t, problem, best,
					    r->seconds)) < 0)
			report("storing", rc);
		clq_params_free(best);
		if (rc == CLQ_SUCCESS)
			*done = i + 1;
	}
	return rc;
}

/*
 * Every problem's names before any is tuned: exactly the sizes the
 * built-in tunable reads (clq_tunable_create_builtin()), integers from 1
 * to 4294967295. An unknown name would only make a key that nothing
 * looks up; a missing one fails the tuning after earlier problems' work.
 */
static int
check_problems(const char *path, const struct grid *g)
{
	static const struct {
		const char *tunable, *names[2];
		size_t n;
	} sizes[] = {
		{"transpose", {"rows", "cols"}, 2},
		{"scale", {"n", "iters"}, 2},
		{"fill", {"n", NULL}, 1},
	};
	size_t k = 0;

	while (strcmp(sizes[k].tunable, g->tunable) != 0)
		k++;
	for (size_t i = 0; i < g->n_problems; i++) {
		const struct clq_params *p = g->problems[i];
		bool ok = clq_params_count(p) == sizes[k].n;
		int64_t v;

		for (size_t j = 0; ok && j < sizes[k].n; j++)
			ok = clq_params_get_int(p, sizes[k].names[j], &v) ==
				     CLQ_SUCCESS &&
			     v >= 1 && v <= 4294967295;
		if (!ok) {
			char *text = NULL;

			clq_params_format(p, &text);
			fprintf(stderr,
				"clq-tune: %s: problem %zu (%s): %s takes "
				"%s%s%s, integers from 1 to 4294967295, and "
				"nothing else\n",
				path, i + 1, text ? text : "?", g->tunable,
				sizes[k].names[0],
				sizes[k].n > 1 ? " and " : "",
				sizes[k].n > 1 ? sizes[k].names[1] : "");
			free(text);
			return EXIT_USAGE;
		}
	}
	return 0;
}

int
run_run(const struct options *opt)
{
	struct grid g;
	struct clq_device *dev = NULL;
	struct clq_context *ctx = NULL;
	struct clq_tune_db *db = NULL;
	struct clq_tunable *t = NULL;
	struct result *res = NULL;
	int rc = read_grid(opt->args[0], &g);

	if (rc != 0)
		return rc;
	if ((rc = clq_tunable_create_builtin(g.tunable, &t)) < 0) {
		fprintf(stderr,
			"clq-tune: %s: unknown tunable '%s' "
			"(expected transpose, scale or fill)\n",
			opt->args[0], g.tunable);
		grid_free(&g);
		return EXIT_USAGE;
	}
	if ((rc = check_problems(opt->args[0], &g)) != 0) {
		clq_tunable_free(t);
		grid_free(&g);
		return rc;
	}
	/* The database first: its mistakes cost no device start-up. */
	if ((rc = clq_tune_db_open(opt->db, 0, &db)) < 0)
		report("opening the database", rc);
	else if (clq_tune_db_is_read_only(db)) {
		/* Said now, not after tuning what cannot be stored. */
		fprintf(stderr,
			"clq-tune: %s: the tuning database is read-only "
			"(expected a file and directory this user can "
			"write)\n",
			clq_tune_db_get_path(db));
		rc = CLQ_ERROR_DATABASE;
	} else if ((rc = clq_device_select(opt->device ? opt->device : g.device,
					   &dev)) < 0)
		report("selecting the device", rc);
	else if ((rc = clq_context_create(dev, &ctx)) < 0)
		report("creating a context", rc);
	else if (!(res = calloc(g.n_problems, sizeof(*res))))
		rc = CL_OUT_OF_HOST_MEMORY;
	else {
		size_t done = 0;

		rc = tune_all(opt, &g, ctx, db, t, res, &done);
		/* What was stored before a failure is reported too. */
		if (rc == CLQ_SUCCESS || done > 0)
			print_results(opt, &g, t, dev, clq_tune_db_get_path(db),
				      res, done, rc == CLQ_SUCCESS);
		if (rc < 0 && done > 0)
			fprintf(stderr,
				"clq-tune: %zu of %zu problems tuned and "
				"stored before the failure\n",
				done, g.n_problems);
	}
	for (size_t i = 0; res && i < g.n_problems; i++) {
		free(res[i].problem);
		free(res[i].params);
	}
	free(res);
	clq_tune_db_close(db);
	clq_context_unref(ctx);
	clq_device_unref(dev);
	clq_tunable_free(t);
	grid_free(&g);
	return rc < 0 ? EXIT_FAILURE : 0;
}
