/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tuning (clq/tune.h): parameter sets, the tuner on clq's own kernels and
 * on candidates that fail to build or to launch, the source hash that an
 * edited include changes, the database (exact and nearest lookups in their
 * fallback order, run-time tuning, two processes storing into one file at
 * once, corrupt, directory and read-only files that lose nothing).
 */
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef CLQ_HAVE_SQLITE3
#include <sqlite3.h>
#endif

#include "test-common.h"

static char tmpdir[256];

static void
tmp_setup(void)
{
	test_context_setup();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/clq-test-tune-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
tmp_teardown(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	test_context_teardown();
}

static char *
tmp_path(const char *name)
{
	/* Several at once: a test holds a path while making others. */
	static char paths[8][512];
	static unsigned next;
	char *path = paths[next++ % 8];

	snprintf(path, 512, "%s/%s", tmpdir, name);
	return path;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static struct clq_params *
params(const char *text)
{
	struct clq_params *p = NULL;

	ck_assert_ok(clq_params_parse(text, &p));
	return p;
}

static char *
format(const struct clq_params *p)
{
	static char buf[512];
	char *text = NULL;

	ck_assert_ok(clq_params_format(p, &text));
	snprintf(buf, sizeof(buf), "%s", text);
	free(text);
	return buf;
}

static const struct clq_tune_options quick = {.budget = 0.002, .rounds = 2};

/* ------------------------------------------------------------ params */

START_TEST(params_round_trip)
{
	struct clq_params *p = NULL, *q;
	int64_t v = 0;
	const char *s = NULL;

	ck_assert_ok(clq_params_create(&p));
	ck_assert_ok(clq_params_set_int(p, "zeta", -5));
	ck_assert_ok(clq_params_set_string(p, "mode", "fast-1.5"));
	ck_assert_ok(clq_params_set_int(p, "alpha", 7));
	ck_assert_ok(clq_params_set_int(p, "alpha", 8)); /* replaces */
	ck_assert_uint_eq(clq_params_count(p), 3);
	ck_assert_str_eq(format(p), "alpha=8 mode=\"fast-1.5\" zeta=-5");
	q = params("  zeta=-5\tmode=\"fast-1.5\" alpha=8 ");
	ck_assert(clq_params_equal(p, q));
	ck_assert_ok(clq_params_get_int(q, "alpha", &v));
	ck_assert_int_eq(v, 8);
	ck_assert_ok(clq_params_get_string(q, "mode", &s));
	ck_assert_str_eq(s, "fast-1.5");
	ck_assert_rc(clq_params_get_int(q, "mode", &v),
		     CLQ_ERROR_TYPE_MISMATCH);
	ck_assert_rc(clq_params_get_string(q, "alpha", &s),
		     CLQ_ERROR_TYPE_MISMATCH);
	ck_assert_rc(clq_params_get_int(q, "nope", &v), CLQ_ERROR_NOT_FOUND);
	ck_assert_ok(clq_params_set_int(q, "alpha", 9));
	ck_assert(!clq_params_equal(p, q));
	clq_params_free(q);
	q = params("");
	ck_assert_uint_eq(clq_params_count(q), 0);
	ck_assert_str_eq(format(q), "");
	clq_params_free(q);
	clq_params_free(p);
}
END_TEST

START_TEST(params_bad_input)
{
	static const char *const bad[] = {
		"a",
		"a=",
		"=1",
		"1a=2",
		"a=1x",
		"a=\"x",
		"a=\"\"",
		"a=\"b c\"",
		"a=1=2",
		"a=\"x\"y",
		"a=99999999999999999999",
		"a-b=1",
	};
	struct clq_params *p = NULL;

	test_log_expect("clq_params_");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(clq_params_parse(bad[i], &p) ==
				      CLQ_ERROR_INVALID_ARGUMENT,
			      "'%s' parsed", bad[i]);
		ck_assert_ptr_null(p);
	}
	ck_assert_ok(clq_params_create(&p));
	ck_assert_rc(clq_params_set_int(p, "9x", 1),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_params_set_string(p, "x", "a b"),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_params_set_string(p, "x", ""),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	/* NULL is logged, not only returned. */
	test_log_expect("clq_params_get_int: params, name or value_out");
	ck_assert_rc(clq_params_get_int(NULL, "x", &(int64_t){0}),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	test_log_expect("clq_params_get_string: params, name or value_out");
	ck_assert_rc(clq_params_get_string(p, "x", NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	clq_params_free(p);
}
END_TEST

/* ------------------------------------------------------------- tuner */

START_TEST(tune_builtin_transpose)
{
	struct clq_tunable *t = NULL;
	struct clq_params *problem = params("rows=96 cols=200"), *best = NULL;
	double s = 0;
	int64_t tile = 0;

	ck_assert_ok(clq_tunable_create_builtin("transpose", &t));
	ck_assert_uint_eq(clq_tunable_get_grid_size(t), 4);
	ck_assert_ok(clq_tune(test_ctx, t, problem, &quick, &best, &s));
	ck_assert_ok(clq_params_get_int(best, "TRANSPOSE_TILE", &tile));
	ck_assert(tile == 4 || tile == 8 || tile == 16 || tile == 32);
	ck_assert(s > 0 && s < 1);
	clq_params_free(best);
	clq_params_free(problem);
	clq_tunable_free(t);

	test_log_expect("no built-in tunable");
	ck_assert_rc(clq_tunable_create_builtin("fft", &t),
		     CLQ_ERROR_NOT_FOUND);
	ck_assert(test_log_seen());
}
END_TEST

/*
 * A kernel whose MODE 2 does not compile, and whose local buffer of
 * `lbytes` bytes (a launch parameter) can exceed the device's.
 */
static const char failing_src[] =
	"#if MODE == 2\n#error this candidate does not build\n#endif\n"
	"__kernel void k(__global float *x, __local float *tmp)\n"
	"{ tmp[get_local_id(0)] = MODE; x[get_global_id(0)] = tmp[0]; }\n";

struct failing {
	struct clq_device_array *x;
	int runs;
};

static int
failing_measure(struct clq_tune_trial *trial, void *user_data)
{
	struct failing *f = user_data;
	struct clq_kernel *k;
	int64_t lbytes;
	size_t global = 64, local = 1;
	int rc;

	if ((rc = clq_tune_trial_get_kernel(trial, "k", &k)) < 0)
		return rc;
	ck_assert_ok(clq_params_get_int(clq_tune_trial_get_params(trial),
					"lbytes", &lbytes));
	f->runs++;
	struct clq_arg args[] = {CLQ_ARG_OUT(f->x),
				 CLQ_ARG_LOCAL((size_t)lbytes)};
	return clq_queue_enqueue_kernel(clq_tune_trial_get_queue(trial), k,
					args, 2, 1, &global, &local, NULL, 0,
					NULL);
}

/* Keeps all but MODE 3, to show the filter runs before building. */
static int
not_mode_3(const struct clq_device *dev, const struct clq_params *problem,
	   const struct clq_params *candidate, void *user_data)
{
	int64_t mode;

	ck_assert_ptr_nonnull(dev);
	ck_assert_ok(clq_params_get_int(candidate, "MODE", &mode));
	return mode != 3;
}

START_TEST(tune_skips_failing_candidates)
{
	struct clq_device *dev = clq_context_get_device(test_ctx);
	const int64_t modes[] = {1, 2, 3},
		      too_big = (int64_t)clq_device_get_local_memory(dev) * 2;
	const int64_t lbytes[] = {too_big, 64};
	struct clq_tunable *t = NULL;
	struct clq_params *problem = params("n=64"), *best = NULL;
	struct failing f = {0};
	size_t n = 64;
	double s = 0;
	int64_t v;

	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					     NULL, &f.x));
	ck_assert_ok(clq_tunable_create("failing", 1, &t));
	ck_assert_ok(clq_tunable_set_source(t, failing_src));
	ck_assert_ok(clq_tunable_add_int(t, "MODE", modes, 3, CLQ_TUNE_DEFINE));
	ck_assert_ok(clq_tunable_add_int(t, "lbytes", lbytes, 2, 0));
	ck_assert_ok(
		clq_tunable_set_measure(t, NULL, failing_measure, NULL, &f));
	clq_tunable_set_filter(t, not_mode_3, NULL);
	ck_assert_uint_eq(clq_tunable_get_grid_size(t), 6);
	/* The build of MODE 2 and the oversized local buffers fail. */
	test_log_expect("*");
	ck_assert_ok(clq_tune(test_ctx, t, problem, &quick, &best, &s));
	ck_assert_str_eq(format(best), "MODE=1 lbytes=64");
	ck_assert(strstr(test_log_text(),
			 "skipping candidate MODE=2 lbytes=64: the build "
			 "failed"));
	ck_assert(strstr(test_log_text(), "skipping candidate MODE=1 lbytes="));
	ck_assert(strstr(test_log_text(), "CLQ_ERROR_OUT_OF_RANGE"));
	ck_assert(!strstr(test_log_text(), "skipping candidate MODE=3"));
	ck_assert(strstr(test_log_text(), "the filter skips MODE=3"));
	clq_params_free(best);

	/* Nothing runs: NOT_FOUND, with the reasons logged. */
	ck_assert_ok(clq_tunable_add_string(t, "unused",
					    (const char *const[]){"x"}, 1, 0));
	clq_tunable_free(t);
	ck_assert_ok(clq_tunable_create("failing", 1, &t));
	ck_assert_ok(clq_tunable_set_source(t, failing_src));
	ck_assert_ok(
		clq_tunable_add_int(t, "MODE", modes + 1, 1, CLQ_TUNE_DEFINE));
	ck_assert_ok(clq_tunable_add_int(t, "lbytes", lbytes + 1, 1, 0));
	ck_assert_ok(
		clq_tunable_set_measure(t, NULL, failing_measure, NULL, &f));
	f.runs = 0;
	ck_assert_rc(clq_tune(test_ctx, t, problem, &quick, &best, &s),
		     CLQ_ERROR_NOT_FOUND);
	ck_assert_ptr_null(best);
	ck_assert_int_eq(f.runs, 0);
	ck_assert(strstr(test_log_text(), "no candidate of failing ran"));
	(void)v;
	clq_tunable_free(t);
	clq_params_free(problem);
	clq_device_array_unref(f.x);
}
END_TEST

START_TEST(tune_bad_input)
{
	struct clq_tunable *t = NULL;
	struct clq_params *p = params("n=1"), *best = NULL;
	const int64_t one = 1;
	double s;
	struct clq_tune_options bad = {.budget = -1};

	test_log_expect("*");
	ck_assert_rc(clq_tunable_create("bad name", 1, &t),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_tunable_create("x", -1, &t),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ok(clq_tunable_create("x", 0, &t));
	ck_assert_rc(clq_tune(test_ctx, t, p, NULL, &best, &s),
		     CLQ_ERROR_INVALID_ARGUMENT); /* no measure */
	ck_assert(strstr(test_log_text(), "no measure function"));
	ck_assert_ok(
		clq_tunable_set_measure(t, NULL, failing_measure, NULL, NULL));
	ck_assert_rc(clq_tune(test_ctx, t, p, NULL, &best, &s),
		     CLQ_ERROR_INVALID_ARGUMENT); /* no source */
	ck_assert(strstr(test_log_text(), "has no source"));
	ck_assert_ok(clq_tunable_set_source(t, failing_src));
	ck_assert_rc(clq_tune(test_ctx, t, p, &bad, &best, &s),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ok(clq_tunable_add_int(t, "a", &one, 1, 0));
	ck_assert_rc(clq_tunable_add_int(t, "a", &one, 1, 0),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_tunable_add_int(t, "b", &one, 0, 0),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_tunable_add_int(t, "b", &one, 1, 8),
		     CLQ_ERROR_INVALID_ARGUMENT);
	test_log_expect("values 0 and 2 of 'b' are equal");
	ck_assert_rc(
		clq_tunable_add_int(t, "b", (const int64_t[]){4, 5, 4}, 3, 0),
		CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	test_log_expect("values 0 and 1 of 's' are equal");
	ck_assert_rc(clq_tunable_add_string(
			     t, "s", (const char *const[]){"x", "x"}, 2, 0),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	test_log_expect("*");
	ck_assert_rc(clq_tunable_add_string(t, "c",
					    (const char *const[]){"a b"}, 1, 0),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_tunable_set_file(t, "missing-kernel.cl", NULL, 0),
		     CLQ_SUCCESS);
	ck_assert_rc(clq_tune(test_ctx, t, p, NULL, &best, &s),
		     CLQ_ERROR_NOT_FOUND);
	ck_assert_ptr_null(best);
	clq_tunable_free(t);
	clq_params_free(p);
}
END_TEST

/* The hash covers the included header: an edit changes it. */
START_TEST(hash_follows_includes)
{
	struct clq_tunable *t = NULL;
	char h1[17], h2[17], h3[17];
	const char *dirs[] = {tmpdir};

	write_file(tmp_path("tile.h"), "#define STEP 1\n");
	write_file(tmp_path("k.cl"),
		   "#include \"tile.h\"\n__kernel void k(__global int *x)"
		   "{ x[0] = STEP; }\n");
	ck_assert_ok(clq_tunable_create("k", 1, &t));
	ck_assert_ok(clq_tunable_set_file(t, "k.cl", dirs, 1));
	ck_assert_ok(clq_tunable_hash(t, test_ctx, h1));
	ck_assert_ok(clq_tunable_hash(t, test_ctx, h2));
	ck_assert_str_eq(h1, h2);
	ck_assert_uint_eq(strlen(h1), 16);
	write_file(tmp_path("tile.h"), "#define STEP 2\n");
	ck_assert_ok(clq_tunable_hash(t, test_ctx, h2));
	ck_assert_str_ne(h1, h2);
	ck_assert_ok(clq_tunable_set_options(t, "-DEXTRA"));
	ck_assert_ok(clq_tunable_hash(t, test_ctx, h3));
	ck_assert_str_ne(h2, h3);
	clq_tunable_free(t);
}
END_TEST

/*
 * Byte-identical sources found in two directories hash alike: the #line
 * directives' paths are not part of the key (issue 18).
 */
START_TEST(hash_ignores_location)
{
	struct clq_tunable *t = NULL;
	char h1[17], h2[17], a[512], b[512];
	const char *dirs_a[] = {a}, *dirs_b[] = {b};

	snprintf(a, sizeof(a), "%s/a", tmpdir);
	snprintf(b, sizeof(b), "%s/bb/c", tmpdir);
	ck_assert_int_eq(mkdir(a, 0755), 0);
	ck_assert_int_eq(mkdir(tmp_path("bb"), 0755), 0);
	ck_assert_int_eq(mkdir(b, 0755), 0);
	write_file(tmp_path("a/tile.h"), "#define STEP 1\n");
	write_file(tmp_path("bb/c/tile.h"), "#define STEP 1\n");
	write_file(tmp_path("a/k.cl"),
		   "#include \"tile.h\"\n__kernel void k(__global int *x)"
		   "{ x[0] = STEP; }\n");
	write_file(tmp_path("bb/c/k.cl"),
		   "#include \"tile.h\"\n__kernel void k(__global int *x)"
		   "{ x[0] = STEP; }\n");
	ck_assert_ok(clq_tunable_create("k", 1, &t));
	ck_assert_ok(clq_tunable_set_file(t, "k.cl", dirs_a, 1));
	ck_assert_ok(clq_tunable_hash(t, test_ctx, h1));
	ck_assert_ok(clq_tunable_set_file(t, "k.cl", dirs_b, 1));
	ck_assert_ok(clq_tunable_hash(t, test_ctx, h2));
	ck_assert_str_eq(h1, h2);
	/* The included header's content still counts, wherever it is. */
	write_file(tmp_path("bb/c/tile.h"), "#define STEP 2\n");
	ck_assert_ok(clq_tunable_hash(t, test_ctx, h2));
	ck_assert_str_ne(h1, h2);
	clq_tunable_free(t);
}
END_TEST

/*
 * Measure functions that break their contract: X=1 returns a positive
 * value, X=2 enqueues nothing (no device time); both are skipped with a
 * warning and X=3, which runs, wins (issue 18).
 */
static int
contract_measure(struct clq_tune_trial *trial, void *user_data)
{
	struct failing *f = user_data;
	struct clq_kernel *k;
	int64_t x;
	size_t global = 64, local = 1;
	int rc;

	ck_assert_ok(
		clq_params_get_int(clq_tune_trial_get_params(trial), "X", &x));
	if (x == 1)
		return 1;
	if (x == 2)
		return CLQ_SUCCESS;
	if ((rc = clq_tune_trial_get_kernel(trial, "k", &k)) < 0)
		return rc;
	struct clq_arg args[] = {CLQ_ARG_OUT(f->x), CLQ_ARG_LOCAL(64)};
	return clq_queue_enqueue_kernel(clq_tune_trial_get_queue(trial), k,
					args, 2, 1, &global, &local, NULL, 0,
					NULL);
}

START_TEST(tune_measure_contract)
{
	const int64_t xs[] = {1, 2, 3}, mode = 1;
	struct clq_tunable *t = NULL;
	struct clq_params *problem = params("n=64"), *best = NULL;
	struct failing f = {0};
	struct clq_tune_options many = quick;
	size_t n = 64;
	double s = 0;

	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					     NULL, &f.x));
	ck_assert_ok(clq_tunable_create("contract", 1, &t));
	ck_assert_ok(clq_tunable_set_source(t, failing_src));
	ck_assert_ok(clq_tunable_add_int(t, "MODE", &mode, 1, CLQ_TUNE_DEFINE));
	ck_assert_ok(clq_tunable_add_int(t, "X", xs, 3, 0));
	ck_assert_ok(
		clq_tunable_set_measure(t, NULL, contract_measure, NULL, &f));
	test_log_expect("*");
	ck_assert_ok(clq_tune(test_ctx, t, problem, &quick, &best, &s));
	ck_assert_str_eq(format(best), "MODE=1 X=3");
	ck_assert(s > 0 && s < 1);
	ck_assert(strstr(test_log_text(), "the measure function returned 1"));
	ck_assert(strstr(test_log_text(), "took no device time"));
	ck_assert(strstr(test_log_text(), "skipping candidate MODE=1 X=1"));
	ck_assert(strstr(test_log_text(), "skipping candidate MODE=1 X=2"));
	clq_params_free(best);

	/* Rounds are bounded. */
	many.rounds = 1001;
	ck_assert_rc(clq_tune(test_ctx, t, problem, &many, &best, &s),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(strstr(test_log_text(), "rounds is above 1000"));
	clq_tunable_free(t);
	clq_params_free(problem);
	clq_device_array_unref(f.x);
}
END_TEST

#ifdef CLQ_HAVE_SQLITE3

static struct clq_tune_db *
db_open(const char *path)
{
	struct clq_tune_db *db = NULL;

	ck_assert_ok(clq_tune_db_open(path, 0, &db));
	return db;
}

/* A tunable on a kernel file in tmpdir that includes tile.h, with the
 * grid lbytes = `values`. */
static struct clq_tunable *
file_tunable_grid(const int64_t *values, size_t n)
{
	struct clq_tunable *t = NULL;
	const char *dirs[] = {tmpdir};

	write_file(tmp_path("k.cl"),
		   "#include \"tile.h\"\n__kernel void k(__global float *x, "
		   "__local float *tmp){ x[get_global_id(0)] = STEP; }\n");
	ck_assert_ok(clq_tunable_create("k", 3, &t));
	ck_assert_ok(clq_tunable_set_file(t, "k.cl", dirs, 1));
	ck_assert_ok(clq_tunable_add_int(t, "lbytes", values, n, 0));
	return t;
}

static struct clq_tunable *
file_tunable(void)
{
	static const int64_t lbytes[] = {1, 2};

	return file_tunable_grid(lbytes, 2);
}

/* Editing an included header: the stored entry no longer matches. */
START_TEST(db_key_change_forces_retune)
{
	struct clq_tune_db *db = db_open(tmp_path("t.db"));
	struct clq_tunable *t;
	struct clq_params *problem = params("n=64"),
			  *tuned = params("lbytes=2"), *got = NULL;
	struct failing f = {0};
	size_t n = 64;
	double s = 0;
	int was_tuned = -1;

	write_file(tmp_path("tile.h"), "#define STEP 1\n");
	t = file_tunable();
	ck_assert_ok(clq_tune_db_store(db, test_ctx, t, problem, tuned, 1e-3));
	ck_assert_ok(clq_tune_db_lookup(db, test_ctx, t, problem,
					CLQ_TUNE_MATCH_EXACT, &got, &s));
	ck_assert(clq_params_equal(got, tuned));
	ck_assert(s == 1e-3);
	clq_params_free(got);

	write_file(tmp_path("tile.h"), "#define STEP 2\n");
	ck_assert_rc(clq_tune_db_lookup(db, test_ctx, t, problem,
					CLQ_TUNE_MATCH_NEAREST, &got, &s),
		     CLQ_ERROR_NOT_FOUND);
	ck_assert_ptr_null(got);

	/* clq_tune_db_get tunes again, says so, and stores. */
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					     NULL, &f.x));
	ck_assert_ok(
		clq_tunable_set_measure(t, NULL, failing_measure, NULL, &f));
	test_log_expect(NULL);
	ck_assert_ok(clq_tune_db_get(db, test_ctx, t, problem,
				     CLQ_TUNE_MATCH_EXACT, &quick, &got,
				     &was_tuned));
	ck_assert_int_eq(was_tuned, 1);
	ck_assert(strstr(test_log_text(), "tuning k v3 at run time for n=64"));
	ck_assert(f.runs > 0);
	clq_params_free(got);
	f.runs = 0;
	ck_assert_ok(clq_tune_db_get(db, test_ctx, t, problem,
				     CLQ_TUNE_MATCH_EXACT, &quick, &got,
				     &was_tuned));
	ck_assert_int_eq(was_tuned, 0);
	ck_assert_int_eq(f.runs, 0);
	clq_params_free(got);

	/* The first header's entry is still there, under its own hash. */
	write_file(tmp_path("tile.h"), "#define STEP 1\n");
	ck_assert_ok(clq_tune_db_lookup(db, test_ctx, t, problem,
					CLQ_TUNE_MATCH_EXACT, &got, &s));
	ck_assert(clq_params_equal(got, tuned));
	clq_params_free(got);
	clq_device_array_unref(f.x);
	clq_params_free(tuned);
	clq_params_free(problem);
	clq_tunable_free(t);
	clq_tune_db_close(db);
}
END_TEST

/* Inserts a row as another device would have stored it. */
static void
insert_foreign(const char *path, const char *hash, const char *device,
	       const char *platform, const char *driver,
	       const char *params_text, const char *tuned_at)
{
	sqlite3 *db;
	char *sql;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	sql = sqlite3_mprintf("INSERT INTO tune_k_v3 VALUES ('%q', 'n=64', "
			      "'%q', '%q', '%q', '%q', 1.0, '%q')",
			      hash, device, platform, driver, params_text,
			      tuned_at);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_free(sql);
	ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
}

static void
delete_where(const char *path, const char *params_text)
{
	sqlite3 *db;
	char *sql;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	sql = sqlite3_mprintf("DELETE FROM tune_k_v3 WHERE params = '%q'",
			      params_text);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_free(sql);
	ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
}

static int64_t
lookup_value(struct clq_tune_db *db, struct clq_tunable *t,
	     const struct clq_params *problem, enum clq_tune_match match)
{
	struct clq_params *got = NULL;
	int64_t v = -1;
	int rc =
		clq_tune_db_lookup(db, test_ctx, t, problem, match, &got, NULL);

	if (rc == CLQ_ERROR_NOT_FOUND)
		return 0;
	ck_assert_ok(rc);
	ck_assert_ok(clq_params_get_int(got, "lbytes", &v));
	clq_params_free(got);
	return v;
}

START_TEST(db_nearest_fallback_order)
{
	const char *path = tmp_path("n.db");
	struct clq_tune_db *db = db_open(path);
	struct clq_device *dev = clq_context_get_device(test_ctx);
	const char *name = clq_device_get_name(dev),
		   *plat = clq_device_get_platform_name(dev),
		   *drv = clq_device_get_driver_version(dev);
	struct clq_tunable *t;
	struct clq_params *problem = params("n=64"),
			  *p100 = params("lbytes=100");
	char hash[17];

	static const int64_t grid[] = {100, 200, 300, 400, 999};

	write_file(tmp_path("tile.h"), "#define STEP 1\n");
	t = file_tunable_grid(grid, 5);
	ck_assert_ok(clq_tunable_hash(t, test_ctx, hash));
	/* Makes the table through the API: the exact key. */
	ck_assert_ok(clq_tune_db_store(db, test_ctx, t, problem, p100, 1.0));
	/* Each later row differs from the exact key in one more column;
	 * the newest of all is the farthest, so order is not by time. */
	insert_foreign(path, hash, name, plat, "other-driver", "lbytes=200",
		       "2026-01-01T00:00:00Z");
	insert_foreign(path, hash, name, "other-platform", "other-driver",
		       "lbytes=300", "2026-01-02T00:00:00Z");
	insert_foreign(path, hash, "other-device", "other-platform",
		       "other-driver", "lbytes=400", "2026-01-03T00:00:00Z");
	/* Another source hash never matches, however near the device. */
	insert_foreign(path, "0000000000000000", name, plat, drv, "lbytes=999",
		       "2026-01-04T00:00:00Z");
	ck_assert_int_eq(lookup_value(db, t, problem, CLQ_TUNE_MATCH_EXACT),
			 100);
	ck_assert_int_eq(lookup_value(db, t, problem, CLQ_TUNE_MATCH_NEAREST),
			 100);
	delete_where(path, "lbytes=100");
	ck_assert_int_eq(lookup_value(db, t, problem, CLQ_TUNE_MATCH_EXACT), 0);
	ck_assert_int_eq(lookup_value(db, t, problem, CLQ_TUNE_MATCH_NEAREST),
			 200);
	ck_assert(strstr(test_log_text(), "without the driver version:"));
	delete_where(path, "lbytes=200");
	ck_assert_int_eq(lookup_value(db, t, problem, CLQ_TUNE_MATCH_NEAREST),
			 300);
	delete_where(path, "lbytes=300");
	ck_assert_int_eq(lookup_value(db, t, problem, CLQ_TUNE_MATCH_NEAREST),
			 400);
	/* The default follows CLQ_TUNE_MATCH. */
	setenv("CLQ_TUNE_MATCH", "NEAREST", 1);
	ck_assert_int_eq(lookup_value(db, t, problem, CLQ_TUNE_MATCH_DEFAULT),
			 400);
	setenv("CLQ_TUNE_MATCH", "exact", 1);
	ck_assert_int_eq(lookup_value(db, t, problem, CLQ_TUNE_MATCH_DEFAULT),
			 0);
	unsetenv("CLQ_TUNE_MATCH");
	delete_where(path, "lbytes=400");
	ck_assert_int_eq(lookup_value(db, t, problem, CLQ_TUNE_MATCH_NEAREST),
			 0);
	clq_params_free(p100);
	clq_params_free(problem);
	clq_tunable_free(t);
	clq_tune_db_close(db);
}
END_TEST

static int
count_entry(const struct clq_tune_entry *e, void *data)
{
	(*(int *)data)++;
	return 0;
}

static int
count_entries(struct clq_tune_db *db, const char *name)
{
	int n = 0;

	ck_assert_ok(clq_tune_db_list(db, name, count_entry, &n));
	return n;
}

/*
 * Stores `n` results with problems rows=base..base+n-1: the work of
 * db_two_processes_at_once's children, which run outside Check (no
 * ck_assert here).
 */
static void
store_many(struct clq_context *ctx, const char *path, int base, int n,
	   int *failures)
{
	struct clq_tune_db *db = NULL;
	struct clq_tunable *t = NULL;
	struct clq_params *p = NULL, *r = NULL;
	int rc;

	if (clq_params_parse("TRANSPOSE_TILE=8", &r) < 0 ||
	    clq_tune_db_open(path, 0, &db) < 0 ||
	    clq_tunable_create_builtin("transpose", &t) < 0) {
		(*failures)++;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		clq_params_create(&p);
		clq_params_set_int(p, "rows", base + i);
		clq_params_set_int(p, "cols", 7);
		rc = clq_tune_db_store(db, ctx, t, p, r, 1e-6 * i);
		*failures += rc < 0;
		clq_params_free(p);
	}
out:
	clq_params_free(r);
	clq_tunable_free(t);
	clq_tune_db_close(db);
}

START_TEST(db_two_processes_at_once)
{
	const char *path = tmp_path("shared.db");
	char exe[4096];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	pid_t pids[2];
	struct clq_tune_db *db;

	ck_assert_int_gt(len, 0);
	exe[len] = '\0';
	for (int i = 0; i < 2; i++) {
		char base[16];

		snprintf(base, sizeof(base), "%d", 1000 * (i + 1));
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			/* A fresh process: no OpenCL state inherited. */
			setenv("CLQ_TEST_TUNE_CHILD", path, 1);
			setenv("CLQ_TEST_TUNE_BASE", base, 1);
			execl(exe, exe, (char *)NULL);
			_exit(127);
		}
	}
	for (int i = 0; i < 2; i++) {
		int status;

		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "child %d failed (status %d)", i, status);
	}
	db = db_open(path);
	ck_assert_int_eq(count_entries(db, "transpose"), 2 * 50);
	ck_assert_int_eq(count_entries(db, "scale"), 0);
	clq_tune_db_close(db);
}
END_TEST

static unsigned char *
read_all(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = malloc(1 << 16);

	ck_assert_ptr_nonnull(f);
	*n = fread(buf, 1, 1 << 16, f);
	fclose(f);
	return buf;
}

START_TEST(db_corrupt_and_directory)
{
	static const char garbage[] =
		"this is not an SQLite database, but it is someone's file\n";
	const char *path = tmp_path("corrupt.db");
	struct clq_tune_db *db = NULL;
	unsigned char *after;
	size_t n;

	write_file(path, garbage);
	test_log_expect("not an SQLite database");
	ck_assert_rc(clq_tune_db_open(path, 0, &db), CLQ_ERROR_DATABASE);
	ck_assert_ptr_null(db);
	ck_assert(test_log_seen());
	ck_assert(strstr(test_log_text(), path));
	after = read_all(path, &n);
	ck_assert_uint_eq(n, strlen(garbage));
	ck_assert(memcmp(after, garbage, n) == 0);
	free(after);
	ck_assert_rc(clq_tune_db_open(path, CLQ_TUNE_DB_READONLY, &db),
		     CLQ_ERROR_DATABASE);

	test_log_expect("is a directory");
	ck_assert_rc(clq_tune_db_open(tmpdir, 0, &db), CLQ_ERROR_DATABASE);
	ck_assert(test_log_seen());

	/* A missing file opened read-only: not found, not an error log. */
	test_log_expect(NULL);
	ck_assert_rc(clq_tune_db_open(tmp_path("none.db"), CLQ_TUNE_DB_READONLY,
				      &db),
		     CLQ_ERROR_NOT_FOUND);
	ck_assert(access(tmp_path("none.db"), F_OK) != 0);

	/* The path from the environment, then the XDG cache directory. */
	setenv("CLQ_TUNE_DB", tmp_path("env.db"), 1);
	ck_assert_ok(clq_tune_db_open(NULL, 0, &db));
	ck_assert_str_eq(clq_tune_db_get_path(db), tmp_path("env.db"));
	clq_tune_db_close(db);
	unsetenv("CLQ_TUNE_DB");
	setenv("XDG_CACHE_HOME", tmpdir, 1);
	ck_assert_ok(clq_tune_db_open(NULL, 0, &db));
	ck_assert_str_eq(clq_tune_db_get_path(db), tmp_path("clq/tune.db"));
	ck_assert_int_eq(access(tmp_path("clq/tune.db"), F_OK), 0);
	clq_tune_db_close(db);
	unsetenv("XDG_CACHE_HOME");
}
END_TEST

START_TEST(db_read_only_loses_nothing)
{
	const char *path = tmp_path("ro.db");
	struct clq_tune_db *db = db_open(path), *ro = NULL;
	struct clq_tunable *t = NULL;
	struct clq_params *problem = params("n=1000 iters=4"),
			  *p = params("wgs=64"), *q = params("wgs=128"),
			  *got = NULL;

	ck_assert_ok(clq_tunable_create_builtin("scale", &t));
	ck_assert_ok(clq_tune_db_store(db, test_ctx, t, problem, p, 1e-3));
	clq_tune_db_close(db);

	ck_assert_ok(clq_tune_db_open(path, CLQ_TUNE_DB_READONLY, &ro));
	ck_assert_ok(clq_tune_db_lookup(ro, test_ctx, t, problem,
					CLQ_TUNE_MATCH_EXACT, &got, NULL));
	ck_assert(clq_params_equal(got, p));
	clq_params_free(got);
	test_log_expect("read-only");
	ck_assert_rc(clq_tune_db_store(ro, test_ctx, t, problem, q, 1e-4),
		     CLQ_ERROR_DATABASE);
	ck_assert(test_log_seen());
	clq_tune_db_close(ro);

	/* A file without write permission (root writes regardless). */
	if (geteuid() != 0) {
		ck_assert_int_eq(chmod(path, 0444), 0);
		ck_assert_ok(clq_tune_db_open(path, 0, &ro));
		test_log_expect("read-only");
		ck_assert_rc(
			clq_tune_db_store(ro, test_ctx, t, problem, q, 1e-4),
			CLQ_ERROR_DATABASE);
		ck_assert(test_log_seen());
		clq_tune_db_close(ro);
		ck_assert_int_eq(chmod(path, 0644), 0);
	}
	db = db_open(path);
	ck_assert_ok(clq_tune_db_lookup(db, test_ctx, t, problem,
					CLQ_TUNE_MATCH_EXACT, &got, NULL));
	ck_assert(clq_params_equal(got, p));
	clq_params_free(got);
	ck_assert_int_eq(count_entries(db, NULL), 1);
	clq_tune_db_close(db);
	clq_params_free(p);
	clq_params_free(q);
	clq_params_free(problem);
	clq_tunable_free(t);
}
END_TEST

/* Only lbytes values up to user_data's are allowed on this device. */
static int
lbytes_at_most(const struct clq_device *dev, const struct clq_params *problem,
	       const struct clq_params *candidate, void *user_data)
{
	int64_t v;

	ck_assert_ok(clq_params_get_int(candidate, "lbytes", &v));
	return v <= *(const int64_t *)user_data;
}

/*
 * A stored row the tunable cannot use here (not on its grid, or refused
 * by its filter on this device, as one tuned on a larger device is) is
 * passed over for the next one, at every level; clq_tune_db_get() then
 * tunes (issue 18).
 */
START_TEST(db_rows_checked_against_grid_and_filter)
{
	const char *path = tmp_path("g.db");
	struct clq_tune_db *db = db_open(path);
	struct clq_tunable *t;
	struct clq_params *problem = params("n=64"), *p9 = params("lbytes=9"),
			  *p2 = params("lbytes=2"), *got = NULL;
	struct failing f = {0};
	int64_t max = 1;
	size_t n = 64;
	char hash[17];
	int tuned = -1;

	write_file(tmp_path("tile.h"), "#define STEP 1\n");
	t = file_tunable();
	ck_assert_ok(clq_tunable_hash(t, test_ctx, hash));
	/* Off the grid {1, 2}: not used, even matching exactly. */
	ck_assert_ok(clq_tune_db_store(db, test_ctx, t, problem, p9, 1e-3));
	test_log_expect(NULL);
	ck_assert_int_eq(lookup_value(db, t, problem, CLQ_TUNE_MATCH_EXACT), 0);
	ck_assert(strstr(test_log_text(), "not on the grid"));
	/* On the grid, refused by the filter on this device. */
	ck_assert_ok(clq_tune_db_store(db, test_ctx, t, problem, p2, 1e-3));
	ck_assert_int_eq(lookup_value(db, t, problem, CLQ_TUNE_MATCH_EXACT), 2);
	clq_tunable_set_filter(t, lbytes_at_most, &max);
	ck_assert_int_eq(lookup_value(db, t, problem, CLQ_TUNE_MATCH_NEAREST),
			 0);
	ck_assert(strstr(test_log_text(), "filter refuses it"));
	/* Nearest: the newest foreign row is refused, the older one used. */
	insert_foreign(path, hash, "other-device", "p", "d", "lbytes=1",
		       "2026-01-01T00:00:00Z");
	insert_foreign(path, hash, "bigger-device", "p", "d", "lbytes=2",
		       "2026-01-02T00:00:00Z");
	ck_assert_int_eq(lookup_value(db, t, problem, CLQ_TUNE_MATCH_NEAREST),
			 1);
	ck_assert(strstr(test_log_text(), "tuned on 'other-device'"));
	/* Exact only: nothing usable, so clq_tune_db_get() tunes. */
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					     NULL, &f.x));
	ck_assert_ok(
		clq_tunable_set_measure(t, NULL, failing_measure, NULL, &f));
	ck_assert_ok(clq_tune_db_get(db, test_ctx, t, problem,
				     CLQ_TUNE_MATCH_EXACT, &quick, &got,
				     &tuned));
	ck_assert_int_eq(tuned, 1);
	ck_assert_str_eq(format(got), "lbytes=1");
	clq_params_free(got);
	clq_device_array_unref(f.x);
	clq_params_free(p9);
	clq_params_free(p2);
	clq_params_free(problem);
	clq_tunable_free(t);
	clq_tune_db_close(db);
}
END_TEST

/* Tunables whose names differ only in case are kept apart (issue 18). */
START_TEST(db_names_differing_in_case)
{
	struct clq_tune_db *db = db_open(tmp_path("c.db")),
			   *m = db_open(tmp_path("m.db"));
	struct clq_tunable *upper = NULL, *lower = NULL;
	struct clq_params *problem = params("n=1"), *p1 = params("X=1"),
			  *p2 = params("X=2"), *got = NULL;
	size_t removed = 0, copied = 0;
	const int64_t xs[] = {1, 2};

	ck_assert_ok(clq_tunable_create("Foo", 1, &upper));
	ck_assert_ok(clq_tunable_create("foo", 1, &lower));
	ck_assert_ok(clq_tunable_set_source(upper, failing_src));
	ck_assert_ok(clq_tunable_set_source(lower, failing_src));
	ck_assert_ok(clq_tunable_add_int(upper, "X", xs, 2, 0));
	ck_assert_ok(clq_tunable_add_int(lower, "X", xs, 2, 0));
	ck_assert_ok(clq_tune_db_store(db, test_ctx, upper, problem, p1, 1.0));
	ck_assert_ok(clq_tune_db_store(db, test_ctx, lower, problem, p2, 1.0));
	ck_assert_ok(clq_tune_db_lookup(db, test_ctx, upper, problem,
					CLQ_TUNE_MATCH_EXACT, &got, NULL));
	ck_assert_str_eq(format(got), "X=1");
	clq_params_free(got);
	ck_assert_ok(clq_tune_db_lookup(db, test_ctx, lower, problem,
					CLQ_TUNE_MATCH_EXACT, &got, NULL));
	ck_assert_str_eq(format(got), "X=2");
	clq_params_free(got);
	ck_assert_int_eq(count_entries(db, NULL), 2);
	ck_assert_int_eq(count_entries(db, "Foo"), 1);
	ck_assert_ok(clq_tune_db_forget(db, "foo", &removed));
	ck_assert_uint_eq(removed, 1);
	ck_assert_int_eq(count_entries(db, NULL), 1);
	ck_assert_ok(clq_tune_db_lookup(db, test_ctx, upper, problem,
					CLQ_TUNE_MATCH_EXACT, &got, NULL));
	ck_assert_str_eq(format(got), "X=1");
	clq_params_free(got);
	ck_assert_ok(clq_tune_db_merge(m, tmp_path("c.db"), &copied));
	ck_assert_uint_eq(copied, 1);
	/* A name that is no identifier is refused, not "0 removed". */
	test_log_expect("not a tunable name");
	ck_assert_rc(clq_tune_db_forget(db, "bad name\"", &removed),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	clq_tune_db_close(m);
	clq_tune_db_close(db);
	clq_params_free(p1);
	clq_params_free(p2);
	clq_params_free(problem);
	clq_tunable_free(upper);
	clq_tunable_free(lower);
}
END_TEST

/* The journal mode byte of an SQLite file's header: 1 rollback, 2 WAL. */
static int
journal_byte(const char *path)
{
	unsigned char h[20];
	FILE *f = fopen(path, "rb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fread(h, 1, 20, f), 20);
	fclose(f);
	return h[18];
}

/* In a child (as nobody when root): lists `path` read-only; exit status
 * 0 when it has one entry. */
static int
list_as_other_user(const char *path)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct clq_tune_db *db = NULL;
		int n;

		if (geteuid() == 0 &&
		    (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(3);
		if (clq_tune_db_open(path, CLQ_TUNE_DB_READONLY, &db) < 0)
			_exit(4);
		n = 0;
		if (clq_tune_db_list(db, NULL, count_entry, &n) < 0)
			n = -1;
		clq_tune_db_close(db);
		_exit(n == 1 ? 0 : 5);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

/*
 * A database shipped read-only: a writer leaves the file in rollback mode,
 * so read-only opens make no -wal or -shm file; a file left in WAL mode in
 * a directory the process cannot write still opens read-only (issue 18).
 * The directory is made unwritable for another user: the child drops to
 * nobody when the test runs as root (which writes anywhere).
 */
START_TEST(db_read_only_directory)
{
	char dir[512], path[600], wal[700], shm[700];
	struct clq_tune_db *db, *ro = NULL;
	struct clq_tunable *t = NULL;
	struct clq_params *problem = params("n=1000 iters=4"),
			  *p = params("wgs=64"), *got = NULL;
	sqlite3 *raw;

	snprintf(dir, sizeof(dir), "%s/ship", tmpdir);
	snprintf(path, sizeof(path), "%s/t.db", dir);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	snprintf(shm, sizeof(shm), "%s-shm", path);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_eq(chmod(tmpdir, 0755), 0);
	db = db_open(path);
	ck_assert_ok(clq_tunable_create_builtin("scale", &t));
	ck_assert_ok(clq_tune_db_store(db, test_ctx, t, problem, p, 1e-3));
	ck_assert_int_eq(journal_byte(path), 2); /* WAL while open */
	clq_tune_db_close(db);
	ck_assert_int_eq(journal_byte(path), 1);
	ck_assert(access(wal, F_OK) != 0 && access(shm, F_OK) != 0);

	/* Read-only opens and lookups write nothing beside the file. */
	ck_assert_ok(clq_tune_db_open(path, CLQ_TUNE_DB_READONLY, &ro));
	ck_assert_ok(clq_tune_db_lookup(ro, test_ctx, t, problem,
					CLQ_TUNE_MATCH_EXACT, &got, NULL));
	ck_assert(clq_params_equal(got, p));
	clq_params_free(got);
	ck_assert_int_eq(count_entries(ro, NULL), 1);
	clq_tune_db_close(ro);
	ck_assert(access(wal, F_OK) != 0 && access(shm, F_OK) != 0);

	/* Left in WAL mode (a crashed writer, another tool), directory not
	 * writable: still readable. */
	ck_assert_int_eq(sqlite3_open(path, &raw), SQLITE_OK);
	ck_assert_int_eq(
		sqlite3_exec(raw, "PRAGMA journal_mode=WAL", NULL, NULL, NULL),
		SQLITE_OK);
	ck_assert_int_eq(sqlite3_close(raw), SQLITE_OK);
	ck_assert_int_eq(journal_byte(path), 2);
	ck_assert_int_eq(chmod(dir, 0555), 0);
	ck_assert_int_eq(list_as_other_user(path), 0);
	ck_assert(access(wal, F_OK) != 0 && access(shm, F_OK) != 0);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	clq_params_free(p);
	clq_params_free(problem);
	clq_tunable_free(t);
}
END_TEST

/* A list callback that calls back into its own handle. */
struct reenter {
	struct clq_tune_db *db;
	int rc_list, rc_forget;
};

static int
reenter_entry(const struct clq_tune_entry *e, void *data)
{
	struct reenter *r = data;
	size_t removed;

	r->rc_list = clq_tune_db_list(r->db, NULL, count_entry, &(int){0});
	r->rc_forget = clq_tune_db_forget(r->db, e->name, &removed);
	return 0;
}

/*
 * Smaller findings of issue 18: a list callback calling into its handle
 * is refused (it deadlocked), clq_tune_db_get() on a read-only database
 * fails before tuning, merge refuses another program's SQLite file, store
 * refuses an infinite time, and a path ending in '/' makes no directory.
 */
START_TEST(db_misuse_refused)
{
	struct clq_tune_db *db = db_open(tmp_path("e.db")), *ro = NULL;
	struct clq_tunable *t = NULL;
	struct clq_params *problem = params("n=1000 iters=4"),
			  *p = params("wgs=64"), *got = NULL;
	struct reenter r = {.db = db};
	size_t copied = 7;
	sqlite3 *raw;
	int tuned = -1;

	ck_assert_ok(clq_tunable_create_builtin("scale", &t));
	ck_assert_ok(clq_tune_db_store(db, test_ctx, t, problem, p, 1e-3));
	test_log_expect("clq_tune_db_list() callback");
	ck_assert_ok(clq_tune_db_list(db, NULL, reenter_entry, &r));
	ck_assert(test_log_seen());
	ck_assert_rc(r.rc_list, CLQ_ERROR_IN_USE);
	ck_assert_rc(r.rc_forget, CLQ_ERROR_IN_USE);
	ck_assert_int_eq(count_entries(db, NULL), 1);
	test_log_expect("infinite");
	ck_assert_rc(clq_tune_db_store(db, test_ctx, t, problem, p, INFINITY),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	ck_assert_int_eq(clq_tune_db_is_read_only(db), 0);
	clq_tune_db_close(db);

	/* A row clq would not write: said so, not "cannot open". */
	ck_assert_int_eq(sqlite3_open(tmp_path("e.db"), &raw), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(raw,
				      "UPDATE tune_scale_v1 SET params = "
				      "'wgs=64 ='",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_close(raw), SQLITE_OK);
	db = db_open(tmp_path("e.db"));
	test_log_expect("*"); /* clq_params_parse() says where, too */
	ck_assert_rc(clq_tune_db_lookup(db, test_ctx, t, problem,
					CLQ_TUNE_MATCH_EXACT, &got, NULL),
		     CLQ_ERROR_DATABASE);
	ck_assert(strstr(test_log_text(),
			 "bad parameters in a row of tuning database"));
	ck_assert(strstr(test_log_text(), "not in the form clq writes"));
	ck_assert(!strstr(test_log_text(), "cannot open"));
	ck_assert_ptr_null(got);
	clq_tune_db_close(db);

	/* Read-only: a miss fails at once, without tuning. */
	ck_assert_ok(
		clq_tune_db_open(tmp_path("e.db"), CLQ_TUNE_DB_READONLY, &ro));
	ck_assert_int_eq(clq_tune_db_is_read_only(ro), 1);
	clq_params_free(problem);
	problem = params("n=2000 iters=4");
	test_log_expect("read-only: not tuning");
	ck_assert_rc(clq_tune_db_get(ro, test_ctx, t, problem,
				     CLQ_TUNE_MATCH_EXACT, &quick, &got,
				     &tuned),
		     CLQ_ERROR_DATABASE);
	ck_assert(test_log_seen());
	ck_assert(!strstr(test_log_text(), "tuned scale"));
	ck_assert_int_eq(tuned, 0);
	ck_assert_ptr_null(got);
	clq_tune_db_close(ro);

	/* Another program's database: nothing to merge is an error. */
	ck_assert_int_eq(sqlite3_open(tmp_path("other.db"), &raw), SQLITE_OK);
	ck_assert_int_eq(
		sqlite3_exec(raw, "CREATE TABLE t (x)", NULL, NULL, NULL),
		SQLITE_OK);
	ck_assert_int_eq(sqlite3_close(raw), SQLITE_OK);
	db = db_open(tmp_path("m.db"));
	test_log_expect("not a clq tuning database");
	ck_assert_rc(clq_tune_db_merge(db, tmp_path("other.db"), &copied),
		     CLQ_ERROR_DATABASE);
	ck_assert(test_log_seen());
	ck_assert_uint_eq(copied, 0);
	clq_tune_db_close(db);

	/* A path naming a directory makes none. */
	test_log_expect("ends in '/'");
	ck_assert_rc(clq_tune_db_open(tmp_path("newdir/"), 0, &db),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	ck_assert(access(tmp_path("newdir"), F_OK) != 0);
	clq_params_free(p);
	clq_params_free(problem);
	clq_tunable_free(t);
}
END_TEST

static int
stop_at_first(const struct clq_tune_entry *e, void *data)
{
	ck_assert_str_eq(e->name, "scale");
	ck_assert_int_eq(e->version, 1);
	ck_assert_uint_eq(strlen(e->hash), 16);
	ck_assert(strstr(e->params, "wgs="));
	ck_assert(e->seconds > 0);
	ck_assert_uint_eq(strlen(e->tuned_at), 24);
	return 42;
}

START_TEST(db_merge_and_forget)
{
	struct clq_tune_db *a = db_open(tmp_path("a.db")),
			   *b = db_open(tmp_path("b.db"));
	struct clq_tunable *scale = NULL, *fill = NULL;
	struct clq_params *p1 = params("n=10 iters=1"),
			  *p2 = params("n=20 iters=1"), *w32 = params("wgs=32"),
			  *w64 = params("wgs=64"), *got = NULL;
	size_t copied = 0, removed = 0;

	ck_assert_ok(clq_tunable_create_builtin("scale", &scale));
	ck_assert_ok(clq_tunable_create_builtin("fill", &fill));
	ck_assert_ok(clq_tune_db_store(a, test_ctx, scale, p1, w32, 1.0));
	ck_assert_ok(clq_tune_db_store(b, test_ctx, scale, p1, w64, 2.0));
	ck_assert_ok(clq_tune_db_store(b, test_ctx, scale, p2, w64, 2.0));
	ck_assert_ok(clq_tune_db_store(b, test_ctx, fill, p1, w64, 2.0));
	ck_assert_ok(clq_tune_db_merge(a, tmp_path("b.db"), &copied));
	ck_assert_uint_eq(copied, 3);
	ck_assert_int_eq(count_entries(a, NULL), 3);
	ck_assert_int_eq(count_entries(a, "scale"), 2);
	/* The source wins a key both have. */
	ck_assert_ok(clq_tune_db_lookup(a, test_ctx, scale, p1,
					CLQ_TUNE_MATCH_EXACT, &got, NULL));
	ck_assert(clq_params_equal(got, w64));
	clq_params_free(got);
	ck_assert_int_eq(clq_tune_db_list(a, "scale", stop_at_first, NULL), 42);

	test_log_expect("no tuning database");
	ck_assert_rc(clq_tune_db_merge(a, tmp_path("none.db"), &copied),
		     CLQ_ERROR_NOT_FOUND);
	write_file(tmp_path("bad.db"), "garbage garbage garbage garbage");
	test_log_expect("not an SQLite database");
	ck_assert_rc(clq_tune_db_merge(a, tmp_path("bad.db"), &copied),
		     CLQ_ERROR_DATABASE);
	ck_assert_int_eq(count_entries(a, NULL), 3);

	test_log_expect(NULL);
	ck_assert_ok(clq_tune_db_forget(a, "scale", &removed));
	ck_assert_uint_eq(removed, 2);
	ck_assert_int_eq(count_entries(a, NULL), 1);
	ck_assert_ok(clq_tune_db_forget(a, "scale", &removed));
	ck_assert_uint_eq(removed, 0);
	ck_assert_int_eq(count_entries(a, "fill"), 1);
	clq_tune_db_close(a);
	clq_tune_db_close(b);
	clq_params_free(p1);
	clq_params_free(p2);
	clq_params_free(w32);
	clq_params_free(w64);
	clq_tunable_free(scale);
	clq_tunable_free(fill);
}
END_TEST

#else

START_TEST(db_unsupported)
{
	struct clq_tune_db *db = NULL;

	test_log_expect("built without SQLite");
	ck_assert_rc(clq_tune_db_open(NULL, 0, &db), CLQ_ERROR_UNSUPPORTED);
	ck_assert(test_log_seen());
}
END_TEST

#endif

static Suite *
tune_suite(void)
{
	Suite *s = suite_create("tune");
	TCase *tc;

	tc = tcase_create("params");
	tcase_add_checked_fixture(tc, test_log_setup, test_log_teardown);
	tcase_add_test(tc, params_round_trip);
	tcase_add_test(tc, params_bad_input);
	suite_add_tcase(s, tc);

	tc = tcase_create("tuner");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, tune_builtin_transpose);
	tcase_add_test(tc, tune_skips_failing_candidates);
	tcase_add_test(tc, tune_bad_input);
	tcase_add_test(tc, hash_follows_includes);
	tcase_add_test(tc, hash_ignores_location);
	tcase_add_test(tc, tune_measure_contract);
	suite_add_tcase(s, tc);

	tc = tcase_create("database");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_set_timeout(tc, 300);
#ifdef CLQ_HAVE_SQLITE3
	tcase_add_test(tc, db_key_change_forces_retune);
	tcase_add_test(tc, db_nearest_fallback_order);
	tcase_add_test(tc, db_two_processes_at_once);
	tcase_add_test(tc, db_corrupt_and_directory);
	tcase_add_test(tc, db_read_only_loses_nothing);
	tcase_add_test(tc, db_merge_and_forget);
	tcase_add_test(tc, db_rows_checked_against_grid_and_filter);
	tcase_add_test(tc, db_names_differing_in_case);
	tcase_add_test(tc, db_read_only_directory);
	tcase_add_test(tc, db_misuse_refused);
#else
	tcase_add_test(tc, db_unsupported);
#endif
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
#ifdef CLQ_HAVE_SQLITE3
	const char *child = getenv("CLQ_TEST_TUNE_CHILD");

	/* db_two_processes_at_once's children: store 50 results each. */
	if (child) {
		struct clq_device *dev = NULL;
		struct clq_context *ctx = NULL;
		int failures = 0;

		if (clq_device_select(test_device_spec(), &dev) < 0 ||
		    clq_context_create(dev, &ctx) < 0)
			return 2;
		store_many(ctx, child, atoi(getenv("CLQ_TEST_TUNE_BASE")), 50,
			   &failures);
		clq_context_unref(ctx);
		clq_device_unref(dev);
		return failures ? 1 : 0;
	}
#endif
	return test_main(tune_suite(), 1);
}
