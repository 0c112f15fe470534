/* SPDX-License-Identifier: BSD-3-Clause */
/* Programs, the search path, kernels, kernel enqueue and tuning queues. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-common.h"

/* A kernel writing one int: the value of the expression `what`. */
#define WRITER(what) "__kernel void k(__global int *o) { o[0] = " what "; }\n"

/* Temporary kernel directories: files written here are removed after. */
static char tmp_root[64];
static char *tmp_paths[64];
static size_t n_tmp_paths;
/* The current directory before a test, restored after it (some chdir). */
static char saved_cwd[4096];

static const char *
tmp_track(const char *path)
{
	ck_assert_uint_lt(n_tmp_paths, 64);
	tmp_paths[n_tmp_paths] = strdup(path);
	ck_assert_ptr_nonnull(tmp_paths[n_tmp_paths]);
	return tmp_paths[n_tmp_paths++];
}

/* Makes directory `name` under the temporary root; returns its path. */
static const char *
tmp_dir(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", tmp_root, name);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	return tmp_track(path);
}

static void
tmp_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	tmp_track(path);
}

static void
tmp_setup(void)
{
	test_context_setup();
	snprintf(tmp_root, sizeof(tmp_root), "/tmp/clq-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp_root));
	ck_assert_ptr_nonnull(getcwd(saved_cwd, sizeof(saved_cwd)));
	n_tmp_paths = 0;
}

/* Makes a symbolic link `name` in `dir` that points to `target`. */
static void
tmp_symlink(const char *dir, const char *name, const char *target)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_int_eq(symlink(target, path), 0);
	tmp_track(path);
}

static void
tmp_teardown(void)
{
	/* Last made first: files before their directories. */
	while (n_tmp_paths > 0) {
		char *path = tmp_paths[--n_tmp_paths];

		if (unlink(path) != 0)
			rmdir(path);
		free(path);
	}
	rmdir(tmp_root);
	unsetenv("CLQ_KERNEL_PATH");
	if (chdir(saved_cwd) != 0)
		ck_abort_msg("cannot return to %s", saved_cwd);
	test_context_teardown();
}

static struct clq_program *
build(const char *source, const char *options)
{
	struct clq_program *p = NULL;

	ck_assert_ok(
		clq_program_create_from_source(test_ctx, source, options, &p));
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(clq_program_is_built(p), 1);
	return p;
}

static struct clq_kernel *
kernel_of(struct clq_program *p, const char *name)
{
	struct clq_kernel *k = NULL;

	ck_assert_ok(clq_kernel_create(p, name, &k));
	return k;
}

/* Runs kernel `k` of a built program on one work-item; returns o[0]. */
static int
run_writer(struct clq_program *p)
{
	const size_t one = 1;
	struct clq_kernel *k = kernel_of(p, "k");
	struct clq_queue *q = test_queue_new(0);
	struct clq_device_array *a = NULL;
	struct clq_host_array *h = NULL;
	struct clq_arg args[1];
	int value;

	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_INT32, 1, &one,
					     NULL, &a));
	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_INT32, 1, &one,
					   NULL, &h));
	args[0] = CLQ_ARG_ARRAY(a);
	ck_assert_ok(clq_queue_enqueue_kernel(q, k, args, 1, 1, &one, NULL,
					      NULL, 0, NULL));
	ck_assert_ok(clq_device_array_get(a, q, h));
	value = *(int *)clq_host_array_data(h);
	clq_host_array_unref(h);
	clq_device_array_unref(a);
	clq_queue_unref(q);
	clq_kernel_unref(k);
	return value;
}

/* Builds a file along the path and runs its writer kernel. */
static int
run_file(const char *name, const char *const *dirs, size_t n_dirs)
{
	struct clq_program *p = NULL;
	int value;

	ck_assert_ok(clq_program_create_from_file(test_ctx, name, dirs, n_dirs,
						  NULL, &p));
	value = run_writer(p);
	clq_program_unref(p);
	return value;
}

/* Programs. */

START_TEST(source_builds_and_runs)
{
	struct clq_program *p = build(WRITER("41 + 1"), NULL);

	ck_assert_str_eq(clq_program_get_name(p), "<source>");
	ck_assert_ptr_eq(clq_program_get_context(p), test_ctx);
	ck_assert_ptr_nonnull(clq_program_get_cl(p));
	ck_assert_ptr_nonnull(clq_program_get_build_log(p));
	ck_assert_int_eq(run_writer(p), 42);
	clq_program_unref(p);
}
END_TEST

START_TEST(every_build_knows_the_simd_group_size)
{
	struct clq_program *p = build(WRITER("CLQ_SIMD_GROUP_SIZE"), NULL);
	size_t simd = clq_device_get_simd_group_size(
		clq_context_get_device(test_ctx));

	ck_assert_int_eq(run_writer(p), (int)simd);
	clq_program_unref(p);
}
END_TEST

START_TEST(options_and_defines_pass_through)
{
	struct clq_program *p =
		build(WRITER("A * B"), "-DA=6 -D B=7 -cl-mad-enable");

	ck_assert_int_eq(run_writer(p), 42);
	clq_program_unref(p);
}
END_TEST

START_TEST(failed_build_keeps_its_log)
{
	struct clq_program *p = NULL;
	struct clq_kernel *k = (struct clq_kernel *)&p;

	test_log_expect("failed");
	ck_assert_rc(clq_program_create_from_source(
			     test_ctx, WRITER("undeclared_thing"), NULL, &p),
		     CL_BUILD_PROGRAM_FAILURE);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(clq_program_is_built(p), 0);
	ck_assert_ptr_nonnull(
		strstr(clq_program_get_build_log(p), "undeclared_thing"));
	ck_assert(test_log_seen());
	ck_assert_ptr_nonnull(strstr(test_log_text(), "undeclared_thing"));
	ck_assert_rc(clq_kernel_create(p, "k", &k),
		     CL_INVALID_PROGRAM_EXECUTABLE);
	ck_assert_ptr_null(k);
	clq_program_unref(p);
}
END_TEST

START_TEST(bad_options_refused)
{
	struct clq_program *p = (struct clq_program *)&p;
	int rc;

	test_log_expect("-no-such-option");
	rc = clq_program_create_from_source(test_ctx, WRITER("1"),
					    "-no-such-option", &p);
	/* OpenCL lets a driver report either. */
	ck_assert_msg(rc == CL_INVALID_BUILD_OPTIONS ||
			      rc == CL_BUILD_PROGRAM_FAILURE,
		      "got %s", clq_error_name(rc));
	ck_assert(test_log_seen());
	ck_assert(rc == CL_BUILD_PROGRAM_FAILURE ? p != NULL : p == NULL);
	clq_program_unref(p);
}
END_TEST

START_TEST(program_bad_arguments)
{
	struct clq_program *p = (struct clq_program *)&p;
	const char *dirs[2] = {"/tmp", NULL};

	test_log_expect("*");
	ck_assert_rc(clq_program_create_from_source(NULL, "x", NULL, &p),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(p);
	ck_assert_rc(clq_program_create_from_source(test_ctx, NULL, NULL, &p),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_program_create_from_source(test_ctx, "x", NULL, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(
		clq_program_create_from_file(test_ctx, NULL, NULL, 0, NULL, &p),
		CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(
		clq_program_create_from_file(test_ctx, "", NULL, 0, NULL, &p),
		CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_program_create_from_file(test_ctx, "fill.cl", NULL, 1,
						  NULL, &p),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_program_create_from_file(test_ctx, "fill.cl", dirs, 2,
						  NULL, &p),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(p);
	ck_assert_ptr_null(clq_program_get_build_log(NULL));
	ck_assert_int_eq(clq_program_is_built(NULL), 0);
	clq_program_unref(NULL);
}
END_TEST

/* The search path. */

START_TEST(builtin_kernels_are_found)
{
	const char *names[3] = {"fill.cl", "scale.cl", "transpose.cl"};

	for (int i = 0; i < 3; i++) {
		struct clq_program *p = NULL;

		ck_assert_ok(clq_program_create_from_file(test_ctx, names[i],
							  NULL, 0, NULL, &p));
		ck_assert_int_eq(clq_program_is_built(p), 1);
		clq_program_unref(p);
	}
}
END_TEST

START_TEST(search_order)
{
	const char *mine = tmp_dir("mine"), *env1 = tmp_dir("env1");
	const char *env2 = tmp_dir("env2");
	char env[300];

	tmp_file(mine, "both.cl", WRITER("1"));
	tmp_file(env1, "both.cl", WRITER("2"));
	tmp_file(env2, "env.cl", WRITER("3"));
	tmp_file(env2, "fill.cl", WRITER("4"));
	snprintf(env, sizeof(env), "%s::%s", env1, env2);
	setenv("CLQ_KERNEL_PATH", env, 1);
	ck_assert_int_eq(run_file("both.cl", &mine, 1), 1);
	ck_assert_int_eq(run_file("both.cl", NULL, 0), 2);
	ck_assert_int_eq(run_file("env.cl", &mine, 1), 3);
	/* A directory on the path comes before the built-in copy. */
	ck_assert_int_eq(run_file("fill.cl", NULL, 0), 4);
}
END_TEST

START_TEST(absolute_name)
{
	const char *dir = tmp_dir("abs");
	struct clq_program *p = (struct clq_program *)&p;
	char path[300];

	tmp_file(dir, "abs.cl", WRITER("5"));
	snprintf(path, sizeof(path), "%s/abs.cl", dir);
	ck_assert_int_eq(run_file(path, NULL, 0), 5);
	/* looked for there alone; the message does not call it relative */
	snprintf(path, sizeof(path), "%s/none.cl", dir);
	test_log_expect("none.cl' not found");
	ck_assert_rc(
		clq_program_create_from_file(test_ctx, path, &dir, 1, NULL, &p),
		CLQ_ERROR_NOT_FOUND);
	ck_assert_ptr_null(strstr(test_log_text(), "relative"));
}
END_TEST

START_TEST(missing_file_names_the_directories)
{
	const char *dir = tmp_dir("empty");
	struct clq_program *p = (struct clq_program *)&p;

	setenv("CLQ_KERNEL_PATH", "/nonexistent/env-dir", 1);
	test_log_expect("not found");
	ck_assert_rc(clq_program_create_from_file(test_ctx, "nope.cl", &dir, 1,
						  NULL, &p),
		     CLQ_ERROR_NOT_FOUND);
	ck_assert_ptr_null(p);
	ck_assert_ptr_nonnull(strstr(test_log_text(), dir));
	ck_assert_ptr_nonnull(strstr(test_log_text(), "/nonexistent/env-dir"));
	ck_assert_ptr_nonnull(strstr(test_log_text(), "current directory"));
	ck_assert_ptr_nonnull(strstr(test_log_text(), "built-in"));
}
END_TEST

/*
 * Program files in the current directory, under both spellings, and the
 * order around it: caller dirs and CLQ_KERNEL_PATH before it, the
 * installed and built-in kernels after it; a name with a '/' is a path
 * relative to it and nothing else.
 */
START_TEST(current_directory_files)
{
	const char *here = tmp_dir("here"), *env = tmp_dir("env");
	const char *mine = tmp_dir("mine");
	struct clq_program *p = (struct clq_program *)&p;

	tmp_dir("here/sub");
	tmp_dir("mine/sub");
	tmp_file(here, "mykernels.cl", WRITER("7"));
	tmp_file(here, "scale.cl", WRITER("9"));
	tmp_file(here, "sub/k.cl", WRITER("10"));
	tmp_file(mine, "sub/k.cl", WRITER("11"));
	tmp_file(mine, "only-mine.cl", WRITER("12"));
	tmp_file(here, "cwd.h", "#define FROM_CWD 13\n");
	ck_assert_int_eq(chdir(here), 0);
	ck_assert_int_eq(run_file("./mykernels.cl", NULL, 0), 7);
	ck_assert_int_eq(run_file("mykernels.cl", NULL, 0), 7);
	ck_assert_int_eq(run_file("mykernels.cl", &mine, 1), 7);
	/* before the built-in (and installed) copies */
	ck_assert_int_eq(run_file("scale.cl", NULL, 0), 9);
	/* a '/' makes a path: the caller's sub/k.cl is not looked at */
	ck_assert_int_eq(run_file("sub/k.cl", &mine, 1), 10);
	ck_assert_int_eq(run_file("./sub/k.cl", &mine, 1), 10);
	test_log_expect("relative to the current directory");
	ck_assert_rc(clq_program_create_from_file(test_ctx, "./only-mine.cl",
						  &mine, 1, NULL, &p),
		     CLQ_ERROR_NOT_FOUND);
	ck_assert_ptr_null(p);
	ck_assert_ptr_nonnull(strstr(test_log_text(), here));
	test_log_expect(NULL);
	ck_assert_int_eq(run_file("only-mine.cl", &mine, 1), 12);
	/* CLQ_KERNEL_PATH before the current directory */
	tmp_file(env, "mykernels.cl", WRITER("8"));
	setenv("CLQ_KERNEL_PATH", env, 1);
	ck_assert_int_eq(run_file("mykernels.cl", NULL, 0), 8);
	ck_assert_int_eq(run_file("./mykernels.cl", NULL, 0), 7);
	/* includes search the current directory too */
	p = build("#include <cwd.h>\n" WRITER("FROM_CWD"), NULL);
	ck_assert_int_eq(run_writer(p), 13);
	clq_program_unref(p);
}
END_TEST

START_TEST(unreadable_files_refused)
{
	const char *dir = tmp_dir("bad");
	struct clq_program *p = (struct clq_program *)&p;
	char path[300];
	FILE *f;

	/* A directory where a file should be is not source. */
	snprintf(path, sizeof(path), "%s/dir.cl", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	tmp_track(path);
	test_log_expect("not a regular file");
	ck_assert_rc(clq_program_create_from_file(test_ctx, "dir.cl", &dir, 1,
						  NULL, &p),
		     CLQ_ERROR_IO);
	ck_assert_ptr_null(p);

	/* Nor is a FIFO: opening it must not wait for a writer. */
	snprintf(path, sizeof(path), "%s/fifo.cl", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	tmp_track(path);
	test_log_expect("not a regular file");
	ck_assert_rc(clq_program_create_from_file(test_ctx, "fifo.cl", &dir, 1,
						  NULL, &p),
		     CLQ_ERROR_IO);
	ck_assert_ptr_null(p);

	snprintf(path, sizeof(path), "%s/nul.cl", dir);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	fwrite("__kernel\0", 1, 9, f);
	fclose(f);
	tmp_track(path);
	test_log_expect("NUL byte");
	ck_assert_rc(clq_program_create_from_file(test_ctx, "nul.cl", &dir, 1,
						  NULL, &p),
		     CLQ_ERROR_IO);
	ck_assert_ptr_null(p);
}
END_TEST

START_TEST(includes_resolve_along_the_path)
{
	const char *top = tmp_dir("top"), *lib = tmp_dir("lib");
	char path[300];

	/* Quoted: next to the includer first; angle: the path only. */
	tmp_file(top, "main.cl",
		 "#include \"local.h\"\n  #  include <shared.h>\n"
		 "#include <fill.cl>\n" WRITER("LOCAL + SHARED"));
	tmp_file(top, "local.h", "#define LOCAL 40\n");
	tmp_file(lib, "shared.h", "#include \"deeper.h\"\n");
	tmp_file(lib, "deeper.h", "#define SHARED 2\n");
	snprintf(path, sizeof(path), "%s/main.cl", top);
	ck_assert_int_eq(run_file(path, &lib, 1), 42);
}
END_TEST

START_TEST(include_cycles_are_cut)
{
	const char *dir = tmp_dir("cycle");

	tmp_file(dir, "a.h",
		 "#ifndef A_H\n#define A_H\n#include \"b.h\"\n#define A 1\n"
		 "#endif\n");
	tmp_file(dir, "b.h",
		 "#ifndef B_H\n#define B_H\n#include \"a.h\"\n#define B 2\n"
		 "#endif\n");
	tmp_file(dir, "main.cl", "#include \"a.h\"\n" WRITER("A + B"));
	ck_assert_int_eq(run_file("main.cl", &dir, 1), 3);
}
END_TEST

/*
 * The case: one file reached as "common.clh" and, from sub/, as
 * "../common.clh" is one file, so the cycle is cut at once (it used to
 * run into the nesting limit).
 */
START_TEST(include_cycles_through_other_spellings)
{
	const char *dir = tmp_dir("spell");

	tmp_dir("spell/sub");
	tmp_file(dir, "cyc.cl",
		 "#include \"common.clh\"\n" WRITER("COMMON + SUB_A"));
	tmp_file(dir, "common.clh",
		 "#ifndef COMMON_CLH\n#define COMMON_CLH\n"
		 "#include \"sub/a.clh\"\n#define COMMON 40\n#endif\n");
	tmp_file(dir, "sub/a.clh",
		 "#ifndef SUB_A_CLH\n#define SUB_A_CLH\n"
		 "#include \"../common.clh\"\n#define SUB_A 2\n#endif\n");
	ck_assert_int_eq(run_file("cyc.cl", &dir, 1), 42);
}
END_TEST

/*
 * Symbolic links: a header reached through a link to itself is skipped
 * as already included (it has no guard: pasting it twice would define
 * x_once twice), and a link to a directory cannot make a chain of ever
 * longer spellings of one file.
 */
START_TEST(include_cycles_through_symlinks)
{
	const char *dir = tmp_dir("links");

	tmp_file(dir, "x.h", "#include \"y.h\"\n__constant int x_once = 1;\n");
	tmp_symlink(dir, "y.h", "x.h");
	tmp_file(dir, "loop.h",
		 "#ifndef LOOP_H\n#define LOOP_H\n#include \"again/loop.h\"\n"
		 "#define LOOP 41\n#endif\n");
	tmp_symlink(dir, "again", ".");
	tmp_file(dir, "main.cl",
		 "#include \"x.h\"\n#include \"loop.h\"\n" WRITER(
			 "x_once + LOOP"));
	ck_assert_int_eq(run_file("main.cl", &dir, 1), 42);
}
END_TEST

/*
 * `#pragma once` is honoured by the expander, whatever the spelling: a
 * header included twice (a diamond) is pasted once, and the compiler never
 * sees the pragma (in the pasted whole it would name the program).
 */
START_TEST(pragma_once_pastes_once)
{
	const char *dir = tmp_dir("once");
	struct clq_program *p = NULL;

	tmp_file(dir, "once.h", "  #  pragma once\n__constant int v = 2;\n");
	tmp_file(dir, "a.h", "#include \"once.h\"\n#define A 40\n");
	tmp_file(dir, "b.h", "#include \"./once.h\"\n");
	tmp_file(dir, "main.cl",
		 "#pragma once\n#include \"a.h\"\n#include \"b.h\"\n"
		 "#include <once.h>\n" WRITER("A + v"));
	ck_assert_ok(clq_program_create_from_file(test_ctx, "main.cl", &dir, 1,
						  NULL, &p));
	ck_assert_ptr_null(strstr(clq_program_get_build_log(p), "pragma"));
	ck_assert_int_eq(run_writer(p), 42);
	clq_program_unref(p);
}
END_TEST

START_TEST(deep_include_chains_refused)
{
	const char *dir = tmp_dir("deep");
	struct clq_program *p = (struct clq_program *)&p;
	char name[32], text[64];

	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "h%d.h", i);
		snprintf(text, sizeof(text), "#include \"h%d.h\"\n", i + 1);
		tmp_file(dir, name, text);
	}
	tmp_file(dir, "main.cl", "#include \"h0.h\"\n" WRITER("1"));
	test_log_expect("nest deeper");
	ck_assert_rc(clq_program_create_from_file(test_ctx, "main.cl", &dir, 1,
						  NULL, &p),
		     CLQ_ERROR_OVERFLOW);
	ck_assert_ptr_null(p);
}
END_TEST

/* A missing include is the compiler's to report; errors name the file. */
START_TEST(build_errors_name_the_included_file)
{
	const char *dir = tmp_dir("errors");
	struct clq_program *p = NULL;

	tmp_file(dir, "broken.h", "#define OK 1\nint broken = nonsense;\n");
	tmp_file(dir, "main.cl", "#include \"broken.h\"\n" WRITER("OK"));
	tmp_file(dir, "missing.cl", "#include \"nowhere.h\"\n" WRITER("1"));
	test_log_expect("failed");
	ck_assert_rc(clq_program_create_from_file(test_ctx, "main.cl", &dir, 1,
						  NULL, &p),
		     CL_BUILD_PROGRAM_FAILURE);
	/* The error is reported; PoCL also names the file, through #line
	 * (NVIDIA's compiler ignores #line file names). */
	ck_assert_ptr_nonnull(strstr(clq_program_get_build_log(p), "nonsense"));
	if (strstr(clq_device_get_platform_name(
			   clq_context_get_device(test_ctx)),
		   "Portable"))
		ck_assert_ptr_nonnull(
			strstr(clq_program_get_build_log(p), "broken.h"));
	clq_program_unref(p);
	p = NULL;
	ck_assert_rc(clq_program_create_from_file(test_ctx, "missing.cl", &dir,
						  1, NULL, &p),
		     CL_BUILD_PROGRAM_FAILURE);
	ck_assert_ptr_nonnull(
		strstr(clq_program_get_build_log(p), "nowhere.h"));
	clq_program_unref(p);
}
END_TEST

/* Kernels. */

static const char three_args[] =
	"__kernel void put(__global float *out, uint n, float value)\n"
	"{ size_t i = get_global_id(0); if (i < n) out[i] = value; }\n"
	"__kernel __attribute__((reqd_work_group_size(4, 2, 1)))\n"
	"void fixed(__global int *out) { out[0] = 1; }\n"
	"__kernel void scratch(__global int *out, __local int *tmp)\n"
	"{ tmp[get_local_id(0)] = 1; barrier(CLK_LOCAL_MEM_FENCE);\n"
	"  if (get_global_id(0) == 0) out[0] = tmp[0]; }\n";

START_TEST(kernel_getters)
{
	struct clq_program *p = build(three_args, NULL);
	struct clq_kernel *put = kernel_of(p, "put"), *fixed;
	const size_t *req;

	ck_assert_str_eq(clq_kernel_get_name(put), "put");
	ck_assert_ptr_eq(clq_kernel_get_program(put), p);
	ck_assert_ptr_nonnull(clq_kernel_get_cl(put));
	ck_assert_uint_eq(clq_kernel_get_num_args(put), 3);
	ck_assert_uint_ge(clq_kernel_get_work_group_size(put), 1);
	ck_assert_uint_ge(clq_kernel_get_preferred_work_group_multiple(put), 1);
	req = clq_kernel_get_compile_work_group_size(put);
	ck_assert_uint_eq(req[0] + req[1] + req[2], 0);
	fixed = kernel_of(p, "fixed");
	req = clq_kernel_get_compile_work_group_size(fixed);
	ck_assert_uint_eq(req[0], 4);
	ck_assert_uint_eq(req[1], 2);
	ck_assert_uint_eq(req[2], 1);
	/* The kernel keeps its program alive. */
	clq_program_unref(p);
	ck_assert_str_eq(clq_program_get_name(clq_kernel_get_program(put)),
			 "<source>");
	clq_kernel_unref(put);
	clq_kernel_unref(fixed);
	ck_assert_uint_eq(clq_kernel_get_num_args(NULL), 0);
	clq_kernel_unref(NULL);
}
END_TEST

START_TEST(unknown_kernel_lists_the_names)
{
	struct clq_program *p = build(three_args, NULL);
	struct clq_kernel *k = (struct clq_kernel *)&p;

	test_log_expect("has no kernel 'nope'");
	ck_assert_rc(clq_kernel_create(p, "nope", &k), CL_INVALID_KERNEL_NAME);
	ck_assert_ptr_null(k);
	ck_assert_ptr_nonnull(strstr(test_log_text(), "put"));
	ck_assert_ptr_nonnull(strstr(test_log_text(), "fixed"));
	test_log_expect("*");
	ck_assert_rc(clq_kernel_create(NULL, "put", &k),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_kernel_create(p, NULL, &k),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_kernel_create(p, "put", NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	clq_program_unref(p);
}
END_TEST

/* Every enqueue mistake is refused with its own code, before OpenCL. */
START_TEST(enqueue_mistakes_refused)
{
	struct clq_program *p = build(three_args, NULL);
	struct clq_kernel *put = kernel_of(p, "put");
	struct clq_kernel *fixed = kernel_of(p, "fixed");
	struct clq_queue *q = test_queue_new(0);
	struct clq_device *dev = clq_context_get_device(test_ctx);
	struct clq_context *other = NULL;
	struct clq_device_array *a = NULL, *foreign = NULL, *ints = NULL;
	struct clq_event *ev = (struct clq_event *)&p;
	const size_t n = 64, global[1] = {64}, odd[1] = {63};
	const size_t local[1] = {8}, zero[1] = {0}, four_two[2] = {4, 2};
	const size_t eight_one[2] = {8, 1}, g2[2] = {8, 2};
	size_t too_big[1];
	cl_uint count = 64;
	cl_float value = 1.0f;
	cl_double wide = 1.0;
	struct clq_arg args[3];

	ck_assert_ok(clq_context_create(dev, &other));
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					     NULL, &a));
	ck_assert_ok(clq_device_array_create(other, CLQ_DTYPE_FLOAT32, 1, &n,
					     NULL, &foreign));
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_INT32, 1, &n,
					     NULL, &ints));
	args[0] = CLQ_ARG_ARRAY(a);
	args[1] = CLQ_ARG_VALUE(count);
	args[2] = CLQ_ARG_VALUE(value);

	test_log_expect("takes 3 arguments, 2 given");
	ck_assert_rc(clq_queue_enqueue_kernel(q, put, args, 2, 1, global, NULL,
					      NULL, 0, &ev),
		     CLQ_ERROR_ARG_COUNT);
	ck_assert_ptr_null(ev);

	test_log_expect("not a multiple");
	ck_assert_rc(clq_queue_enqueue_kernel(q, put, args, 3, 1, odd, local,
					      NULL, 0, NULL),
		     CLQ_ERROR_WORK_SIZE);

	too_big[0] = clq_device_get_max_work_item_size(dev, 0) + 1;
	test_log_expect("exceeds the device");
	ck_assert_rc(clq_queue_enqueue_kernel(q, put, args, 3, 1, too_big,
					      too_big, NULL, 0, NULL),
		     CLQ_ERROR_LOCAL_SIZE);

	test_log_expect("requires work-groups of 4x2x1; given 8x1x1");
	args[0] = CLQ_ARG_ARRAY(ints);
	ck_assert_rc(clq_queue_enqueue_kernel(q, fixed, args, 1, 2, g2,
					      eight_one, NULL, 0, NULL),
		     CLQ_ERROR_LOCAL_SIZE);
	/* Without a local size, the required one is used and checked. */
	test_log_expect("not a multiple");
	ck_assert_rc(clq_queue_enqueue_kernel(q, fixed, args, 1, 2, eight_one,
					      NULL, NULL, 0, NULL),
		     CLQ_ERROR_WORK_SIZE);
	test_log_expect(NULL);
	ck_assert_ok(clq_queue_enqueue_kernel(q, fixed, args, 1, 2, four_two,
					      NULL, NULL, 0, NULL));

	args[0] = CLQ_ARG_ARRAY(foreign);
	test_log_expect("another context");
	ck_assert_rc(clq_queue_enqueue_kernel(q, put, args, 3, 1, global, NULL,
					      NULL, 0, NULL),
		     CLQ_ERROR_CONTEXT_MISMATCH);

	test_log_expect("malformed");
	args[0] = CLQ_ARG_ARRAY(NULL);
	ck_assert_rc(clq_queue_enqueue_kernel(q, put, args, 3, 1, global, NULL,
					      NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	args[0] = CLQ_ARG_LOCAL(0);
	ck_assert_rc(clq_queue_enqueue_kernel(q, put, args, 3, 1, global, NULL,
					      NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	args[0] = CLQ_ARG_ARRAY(a);
	args[0].kind = (enum clq_arg_kind)99;
	ck_assert_rc(clq_queue_enqueue_kernel(q, put, args, 3, 1, global, NULL,
					      NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	args[0] = CLQ_ARG_ARRAY(a);

	test_log_expect("*");
	ck_assert_rc(clq_queue_enqueue_kernel(q, put, args, 3, 0, global, NULL,
					      NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_queue_enqueue_kernel(q, put, args, 3, 4, global, NULL,
					      NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_queue_enqueue_kernel(q, put, args, 3, 1, zero, NULL,
					      NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_queue_enqueue_kernel(q, put, args, 3, 1, global, zero,
					      NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_queue_enqueue_kernel(q, put, args, 3, 1, NULL, NULL,
					      NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_queue_enqueue_kernel(q, put, NULL, 3, 1, global, NULL,
					      NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_queue_enqueue_kernel(NULL, put, args, 3, 1, global,
					      NULL, NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_queue_enqueue_kernel(q, NULL, args, 3, 1, global, NULL,
					      NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);

	/* A value of the wrong type is refused before OpenCL, named. */
	args[2] = CLQ_ARG_VALUE(wide);
	test_log_expect("argument 2 ('value') of kernel 'put' is a float value "
			"of 4 bytes: pass CLQ_ARG_VALUE() of a cl_float; given "
			"a 8-byte cl_double");
	ck_assert_rc(clq_queue_enqueue_kernel(q, put, args, 3, 1, global, NULL,
					      NULL, 0, NULL),
		     CLQ_ERROR_TYPE_MISMATCH);
	ck_assert_ok(clq_queue_finish(q));

	clq_device_array_unref(ints);
	clq_device_array_unref(a);
	clq_device_array_unref(foreign);
	clq_context_unref(other);
	clq_queue_unref(q);
	clq_kernel_unref(put);
	clq_kernel_unref(fixed);
	clq_program_unref(p);
}
END_TEST

/*
 * A required work-group size counts on all three axes, those beyond
 * work_dim as 1: a 1-dimensional launch of a kernel that requires 2x3x1
 * is refused by clq, naming both sizes, whether it gives a local size or
 * leaves it to the required one (it used to reach the driver, which
 * refused it with CL_INVALID_WORK_GROUP_SIZE).
 */
START_TEST(required_work_group_all_axes)
{
	struct clq_program *p = build(
		"__kernel __attribute__((reqd_work_group_size(2, 3, 1)))\n"
		"void k23(__global int *o)\n"
		"{ if (get_global_id(0) + get_global_id(1) == 0)\n"
		"  o[0] = (int)(get_local_size(0) * 10 + get_local_size(1)); "
		"}\n"
		"__kernel __attribute__((reqd_work_group_size(4, 1, 1)))\n"
		"void k4(__global int *o) { o[get_global_id(0)] = 4; }\n",
		NULL);
	struct clq_kernel *k23 = kernel_of(p, "k23"), *k4 = kernel_of(p, "k4");
	struct clq_queue *q = test_queue_new(0);
	struct clq_device_array *a = NULL;
	struct clq_host_array *h = NULL;
	const size_t g1[1] = {6}, l1[1] = {2}, g2[2] = {6, 3}, l2[2] = {2, 3};
	const size_t l2_bad[2] = {2, 1}, g3[3] = {6, 3, 2};
	const size_t l3[3] = {2, 3, 1}, l3_bad[3] = {2, 3, 2}, g8 = 8;
	struct clq_arg args[1];

	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_INT32, 1, &g8,
					     NULL, &a));
	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_INT32, 1, &g8,
					   NULL, &h));
	args[0] = CLQ_ARG_ARRAY(a);
	test_log_expect("requires work-groups of 2x3x1; given 2x1x1");
	ck_assert_rc(clq_queue_enqueue_kernel(q, k23, args, 1, 1, g1, l1, NULL,
					      0, NULL),
		     CLQ_ERROR_LOCAL_SIZE);
	test_log_expect("requires work-groups of 2x3x1, which a 1-dimensional");
	ck_assert_rc(clq_queue_enqueue_kernel(q, k23, args, 1, 1, g1, NULL,
					      NULL, 0, NULL),
		     CLQ_ERROR_LOCAL_SIZE);
	test_log_expect("requires work-groups of 2x3x1; given 2x1x1");
	ck_assert_rc(clq_queue_enqueue_kernel(q, k23, args, 1, 2, g2, l2_bad,
					      NULL, 0, NULL),
		     CLQ_ERROR_LOCAL_SIZE);
	test_log_expect("requires work-groups of 2x3x1; given 2x3x2");
	ck_assert_rc(clq_queue_enqueue_kernel(q, k23, args, 1, 3, g3, l3_bad,
					      NULL, 0, NULL),
		     CLQ_ERROR_LOCAL_SIZE);
	test_log_expect(NULL);
	/* Met: given, left to the required size, in two or three axes. */
	ck_assert_ok(clq_queue_enqueue_kernel(q, k23, args, 1, 2, g2, l2, NULL,
					      0, NULL));
	ck_assert_ok(clq_queue_enqueue_kernel(q, k23, args, 1, 3, g3, l3, NULL,
					      0, NULL));
	ck_assert_ok(clq_queue_enqueue_kernel(q, k23, args, 1, 2, g2, NULL,
					      NULL, 0, NULL));
	ck_assert_ok(clq_device_array_get(a, q, h));
	ck_assert_int_eq(((const int *)clq_host_array_data(h))[0], 23);
	/* 4x1x1 fits a 1-dimensional launch, with or without a local size */
	ck_assert_ok(clq_queue_enqueue_kernel(q, k4, args, 1, 1, &g8, NULL,
					      NULL, 0, NULL));
	ck_assert_ok(clq_device_array_get(a, q, h));
	ck_assert_int_eq(((const int *)clq_host_array_data(h))[7], 4);

	clq_host_array_unref(h);
	clq_device_array_unref(a);
	clq_queue_unref(q);
	clq_kernel_unref(k23);
	clq_kernel_unref(k4);
	clq_program_unref(p);
}
END_TEST

/* A kernel with an argument of each kind clq checks. */
static const char typed_args[] =
	"typedef float real;\n"
	"__kernel void typed(__global float *f, __constant int *c,\n"
	"		    __local short *l, uint n, float x, long big,\n"
	"		    __global float2 *z, __global half *h, uchar4 v,\n"
	"		    real r, __global void *any, __global real *rp)\n"
	"{ l[0] = 1; barrier(CLK_LOCAL_MEM_FENCE);\n"
	"  if (get_global_id(0) == 0)\n"
	"    f[0] = x + (float)n + (float)big + (float)v.y + r + l[0]; }\n";

static struct clq_device_array *
array_of(enum clq_dtype dtype)
{
	struct clq_device_array *a = NULL;
	const size_t n = 4;

	ck_assert_ok(clq_device_array_create(test_ctx, dtype, 1, &n, NULL, &a));
	return a;
}

/* Enqueues `typed` with `args` on one work-item. */
static int
launch_typed(struct clq_queue *q, struct clq_kernel *k,
	     const struct clq_arg *args)
{
	const size_t one = 1;

	return clq_queue_enqueue_kernel(q, k, args, 12, 1, &one, &one, NULL, 0,
					NULL);
}

/*
 * Argument kinds and types are checked against what the driver reports
 * (clq builds with -cl-kernel-arg-info): a value where a pointer goes, an
 * array of the wrong dtype, a value of the wrong type though of the same
 * size (an int for a float), a local buffer where a value goes; each is
 * refused with CLQ_ERROR_TYPE_MISMATCH, naming the argument, what it must
 * be and what was given. They used to be accepted (same size) or reach
 * the driver (a bare CL_INVALID_ARG_SIZE).
 */
START_TEST(argument_types_checked)
{
	struct clq_program *p = build(typed_args, NULL);
	struct clq_kernel *k = kernel_of(p, "typed");
	struct clq_queue *q = test_queue_new(0);
	struct clq_device_array *f = array_of(CLQ_DTYPE_FLOAT32);
	struct clq_device_array *ints = array_of(CLQ_DTYPE_INT32);
	struct clq_device_array *z = array_of(CLQ_DTYPE_COMPLEX64);
	struct clq_device_array *h = array_of(CLQ_DTYPE_FLOAT16);
	struct clq_device_array *u16 = array_of(CLQ_DTYPE_UINT16);
	struct clq_host_array *out = NULL;
	const cl_uint n = 1; /* const: the tag is still cl_uint's */
	cl_float x = 2.0f, r = 5.0f;
	long long big = 3; /* cl_long's type on some systems, not here */
	cl_uchar4 v = {{0, 4, 0, 0}};
	cl_int i = 7;
	cl_double wide = 1.0;
	cl_uint not_uchar4 = 0;
	struct clq_arg good[12] = {
		CLQ_ARG_OUT(f),	  CLQ_ARG_IN(ints),    CLQ_ARG_LOCAL(2),
		CLQ_ARG_VALUE(n), CLQ_ARG_VALUE(x),    CLQ_ARG_VALUE(big),
		CLQ_ARG_IN(z),	  CLQ_ARG_ARRAY(h),    CLQ_ARG_VALUE(v),
		CLQ_ARG_VALUE(r), CLQ_ARG_INOUT(ints), CLQ_ARG_ARRAY(ints),
	};
	struct clq_arg args[12];
	const size_t four = 4;

	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1,
					   &four, NULL, &out));
	ck_assert_int_eq(good[3].type, CLQ_ARG_TYPE_UINT);
	ck_assert_int_eq(good[4].type, CLQ_ARG_TYPE_FLOAT);
	ck_assert_int_eq(good[5].type, CLQ_ARG_TYPE_LONG);
	ck_assert_int_eq(good[8].type, CLQ_ARG_TYPE_UNKNOWN);
	ck_assert_int_eq(good[0].access, CLQ_ACCESS_WRITE);
	ck_assert_int_eq(good[1].access, CLQ_ACCESS_READ);
	ck_assert_int_eq(good[7].access, CLQ_ACCESS_READ_WRITE);
	ck_assert_ok(launch_typed(q, k, good));
	ck_assert_ok(clq_device_array_get(f, q, out));
	ck_assert_float_eq(((const float *)clq_host_array_data(out))[0], 16.0f);

	/* A float32 array for float2 (a vector of its type) is fine; an
	 * unknown typedef takes any value of its size. */
	memcpy(args, good, sizeof(args));
	args[6] = CLQ_ARG_ARRAY(f);
	args[9] = CLQ_ARG_VALUE(i);
	ck_assert_ok(launch_typed(q, k, args));

#define REFUSED(index, arg, ...)                                              \
	do {                                                                  \
		const char *expect[] = {__VA_ARGS__};                         \
                                                                              \
		memcpy(args, good, sizeof(args));                             \
		args[index] = arg;                                            \
		test_log_expect(expect[0]);                                   \
		ck_assert_rc(launch_typed(q, k, args),                        \
			     CLQ_ERROR_TYPE_MISMATCH);                        \
		for (size_t e = 1; e < sizeof(expect) / sizeof(*expect); e++) \
			ck_assert_msg(strstr(test_log_text(), expect[e]),     \
				      "no '%s' in '%s'", expect[e],           \
				      test_log_text());                       \
	} while (0)

	REFUSED(4, CLQ_ARG_VALUE(i),
		"argument 4 ('x') of kernel 'typed' is a float value of 4 "
		"bytes: pass CLQ_ARG_VALUE() of a cl_float; given a 4-byte "
		"cl_int");
	REFUSED(4, CLQ_ARG_VALUE(wide), "argument 4 ('x')", "8-byte cl_double");
	REFUSED(4, CLQ_ARG_BYTES(&wide, 8), "argument 4 ('x')",
		"given a 8-byte value");
	REFUSED(0, CLQ_ARG_VALUE(n),
		"argument 0 ('f') of kernel 'typed' is a __global float*: pass "
		"CLQ_ARG_ARRAY() of a float32 or complex64 array; given a "
		"4-byte cl_uint");
	REFUSED(0, CLQ_ARG_ARRAY(ints), "argument 0 ('f')",
		"given an array of int32");
	REFUSED(1, CLQ_ARG_ARRAY(f), "argument 1 ('c')", "__constant int*",
		"int32 array; given an array of float32");
	REFUSED(7, CLQ_ARG_ARRAY(u16), "argument 7 ('h')", "float16 array");
	REFUSED(2, CLQ_ARG_VALUE(x), "argument 2 ('l')",
		"a __local short*: pass CLQ_ARG_LOCAL(bytes)");
	REFUSED(3, CLQ_ARG_LOCAL(4), "argument 3 ('n')", "a uint value",
		"given CLQ_ARG_LOCAL(4)");
	REFUSED(3, CLQ_ARG_ARRAY(f), "argument 3 ('n')",
		"given an array of float32");
	REFUSED(8, CLQ_ARG_VALUE(not_uchar4), "argument 8 ('v')",
		"a uchar4 value of 4 bytes");
#undef REFUSED

	/* A typedef'd name ('real') is one clq cannot size: OpenCL checks
	 * it, or not (PoCL 3.1 takes any size for a typedef'd parameter). */
	ck_assert_ok(clq_queue_finish(q));

	clq_host_array_unref(out);
	clq_device_array_unref(f);
	clq_device_array_unref(ints);
	clq_device_array_unref(z);
	clq_device_array_unref(h);
	clq_device_array_unref(u16);
	clq_queue_unref(q);
	clq_kernel_unref(k);
	clq_program_unref(p);
}
END_TEST

/*
 * Without argument info (CLQ_KERNEL_ARG_INFO=0 builds without
 * -cl-kernel-arg-info) only sizes can be checked, by OpenCL: a same-size
 * value of another type passes, and a wrong size is named by index.
 */
START_TEST(argument_sizes_without_arg_info)
{
	struct clq_program *p;
	struct clq_kernel *k;
	struct clq_queue *q = test_queue_new(0);
	struct clq_device_array *a = NULL;
	const size_t n = 64;
	cl_uint count = 64;
	cl_int not_float = 1;
	cl_double wide = 1.0;
	struct clq_arg args[3];

	setenv("CLQ_KERNEL_ARG_INFO", "0", 1);
	p = build(three_args, NULL);
	unsetenv("CLQ_KERNEL_ARG_INFO");
	k = kernel_of(p, "put");
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					     NULL, &a));
	args[0] = CLQ_ARG_ARRAY(a);
	args[1] = CLQ_ARG_VALUE(count);
	args[2] = CLQ_ARG_VALUE(not_float);
	ck_assert_ok(clq_queue_enqueue_kernel(q, k, args, 3, 1, &n, NULL, NULL,
					      0, NULL));
	args[2] = CLQ_ARG_VALUE(wide);
	test_log_expect("argument 2 of kernel 'put' takes another size than "
			"the 8 bytes given (CL_INVALID_ARG_SIZE); the driver "
			"gives no argument info");
	ck_assert_rc(clq_queue_enqueue_kernel(q, k, args, 3, 1, &n, NULL, NULL,
					      0, NULL),
		     CL_INVALID_ARG_SIZE);
	/* 4 bytes where a pointer goes (8 bytes would crash PoCL 3.1, which
	 * takes them for a buffer: only argument info can stop that) */
	args[0] = CLQ_ARG_VALUE(count);
	args[2] = CLQ_ARG_VALUE(not_float);
	test_log_expect("argument 0 of kernel 'put' takes another size than "
			"the 4 bytes given");
	ck_assert_rc(clq_queue_enqueue_kernel(q, k, args, 3, 1, &n, NULL, NULL,
					      0, NULL),
		     CL_INVALID_ARG_SIZE);
	ck_assert_ok(clq_queue_finish(q));
	clq_device_array_unref(a);
	clq_queue_unref(q);
	clq_kernel_unref(k);
	clq_program_unref(p);
}
END_TEST

/* A kernel of one context on a queue of another. */
START_TEST(kernel_of_another_context_refused)
{
	struct clq_program *p = build(three_args, NULL);
	struct clq_kernel *k = kernel_of(p, "fixed");
	struct clq_context *other = NULL;
	struct clq_queue *q = NULL;
	const size_t g[2] = {4, 2};

	ck_assert_ok(
		clq_context_create(clq_context_get_device(test_ctx), &other));
	ck_assert_ok(clq_queue_create(other, 0, &q));
	test_log_expect("different contexts");
	ck_assert_rc(clq_queue_enqueue_kernel(q, k, NULL, 0, 2, g, NULL, NULL,
					      0, NULL),
		     CLQ_ERROR_CONTEXT_MISMATCH);
	clq_queue_unref(q);
	clq_context_unref(other);
	clq_kernel_unref(k);
	clq_program_unref(p);
}
END_TEST

START_TEST(local_memory_argument)
{
	struct clq_program *p = build(three_args, NULL);
	struct clq_kernel *k = kernel_of(p, "scratch");
	struct clq_queue *q = test_queue_new(0);
	struct clq_device_array *a = NULL;
	struct clq_host_array *h = NULL;
	const size_t one = 1, global = 16, local = 16;
	struct clq_arg args[2];

	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_INT32, 1, &one,
					     NULL, &a));
	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_INT32, 1, &one,
					   NULL, &h));
	args[0] = CLQ_ARG_ARRAY(a);
	args[1] = CLQ_ARG_LOCAL(local * sizeof(cl_int));
	ck_assert_ok(clq_queue_enqueue_kernel(q, k, args, 2, 1, &global, &local,
					      NULL, 0, NULL));
	ck_assert_ok(clq_device_array_get(a, q, h));
	ck_assert_int_eq(*(int *)clq_host_array_data(h), 1);
	clq_host_array_unref(h);
	clq_device_array_unref(a);
	clq_queue_unref(q);
	clq_kernel_unref(k);
	clq_program_unref(p);
}
END_TEST

/* The kernel's event waits for the wait list and reports completion. */
START_TEST(kernel_waits_for_its_wait_list)
{
	struct clq_program *p = build(three_args, NULL);
	struct clq_kernel *k = kernel_of(p, "fixed");
	struct clq_queue *q = test_queue_new(0);
	struct clq_event *gate = test_user_event_new(), *ev = NULL;
	struct clq_device_array *a = NULL;
	const size_t one = 1, g[2] = {4, 2};
	struct clq_arg args[1];

	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_INT32, 1, &one,
					     NULL, &a));
	args[0] = CLQ_ARG_ARRAY(a);
	ck_assert_ok(clq_queue_enqueue_kernel(q, k, args, 1, 2, g, NULL, &gate,
					      1, &ev));
	ck_assert_ok(clq_queue_flush(q));
	test_sleep_ms(20);
	ck_assert_int_gt(test_event_status(ev), CL_COMPLETE);
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(ev));
	clq_event_unref(ev);
	clq_event_unref(gate);
	clq_device_array_unref(a);
	clq_queue_unref(q);
	clq_kernel_unref(k);
	clq_program_unref(p);
}
END_TEST

/*
 * Several threads enqueue one kernel object at once, each with its own
 * array and value; every array must end up holding its own thread's value
 * (arguments set by one thread never leak into another's launch).
 */
#define N_THREADS 4
#define N_LAUNCHES 200

struct launcher {
	struct clq_kernel *kernel;
	struct clq_queue *queue;
	struct clq_device_array *arrays[2];
	cl_float value;
	int rc;
};

static void *
launch_many(void *data)
{
	struct launcher *l = data;
	const size_t global = 256;
	cl_uint n = 256;

	for (int i = 0; i < N_LAUNCHES && l->rc == CLQ_SUCCESS; i++) {
		cl_float v = l->value + (cl_float)(i % 2);
		struct clq_arg args[3] = {
			CLQ_ARG_ARRAY(l->arrays[i % 2]),
			CLQ_ARG_VALUE(n),
			CLQ_ARG_VALUE(v),
		};

		l->rc = clq_queue_enqueue_kernel(l->queue, l->kernel, args, 3,
						 1, &global, NULL, NULL, 0,
						 NULL);
	}
	if (l->rc == CLQ_SUCCESS)
		l->rc = clq_queue_finish(l->queue);
	return NULL;
}

START_TEST(one_kernel_from_several_threads)
{
	struct clq_program *p = build(three_args, NULL);
	struct clq_kernel *k = kernel_of(p, "put");
	struct clq_queue *q = test_queue_new(0);
	struct launcher l[N_THREADS];
	pthread_t threads[N_THREADS];
	const size_t n = 256;

	for (int t = 0; t < N_THREADS; t++) {
		l[t].kernel = k;
		/* Half the threads share a queue, half have their own. */
		l[t].queue = t % 2 ? clq_queue_ref(q) : test_queue_new(0);
		l[t].value = (cl_float)(10 * t);
		l[t].rc = CLQ_SUCCESS;
		for (int j = 0; j < 2; j++)
			ck_assert_ok(clq_device_array_create(
				test_ctx, CLQ_DTYPE_FLOAT32, 1, &n, NULL,
				&l[t].arrays[j]));
	}
	for (int t = 0; t < N_THREADS; t++)
		ck_assert_int_eq(
			pthread_create(&threads[t], NULL, launch_many, &l[t]),
			0);
	for (int t = 0; t < N_THREADS; t++)
		pthread_join(threads[t], NULL);
	for (int t = 0; t < N_THREADS; t++) {
		ck_assert_ok(l[t].rc);
		for (int j = 0; j < 2; j++) {
			struct clq_host_array *h = NULL;
			const float *v;

			ck_assert_ok(clq_host_array_create(
				test_ctx, CLQ_DTYPE_FLOAT32, 1, &n, NULL, &h));
			ck_assert_ok(clq_device_array_get(l[t].arrays[j],
							  l[t].queue, h));
			v = clq_host_array_data(h);
			for (size_t i = 0; i < n; i++)
				ck_assert_float_eq(v[i], l[t].value + (float)j);
			clq_host_array_unref(h);
			clq_device_array_unref(l[t].arrays[j]);
		}
		clq_queue_unref(l[t].queue);
	}
	clq_queue_unref(q);
	clq_kernel_unref(k);
	clq_program_unref(p);
}
END_TEST

/* Tuning queues. */

static struct clq_kernel *
busy_kernel(struct clq_program **p)
{
	*p = build("__kernel void spin(__global float *x, uint iters)\n"
		   "{ float v = x[get_global_id(0)];\n"
		   "  for (uint i = 0; i < iters; i++) v = v * 0.999f + 1.0f;\n"
		   "  x[get_global_id(0)] = v; }\n",
		   NULL);
	return kernel_of(*p, "spin");
}

static double
span(struct clq_event *first, struct clq_event *last)
{
	struct clq_event_times a, b;

	ck_assert_ok(clq_event_get_times(first, &a));
	ck_assert_ok(clq_event_get_times(last, &b));
	return (double)(b.end - a.start) * 1e-9;
}

START_TEST(tuning_spans_kernels_and_transfers)
{
	struct clq_program *p = NULL;
	struct clq_kernel *k = busy_kernel(&p);
	struct clq_queue *q = NULL;
	struct clq_device_array *a = NULL;
	struct clq_host_array *h = NULL;
	struct clq_event *ev[4] = {NULL};
	const size_t n = 4096;
	cl_uint iters = 200;
	struct clq_arg args[2];
	double seconds = -1;

	ck_assert_ok(clq_queue_create_tuning(test_ctx, &q));
	ck_assert_uint_eq(clq_queue_get_flags(q),
			  CLQ_QUEUE_PROFILING | CLQ_QUEUE_TUNING);
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					     NULL, &a));
	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					   NULL, &h));
	memset(clq_host_array_data(h), 0, clq_host_array_get_nbytes(h));
	args[0] = CLQ_ARG_ARRAY(a);
	args[1] = CLQ_ARG_VALUE(iters);
	/* Before start_tuning: not counted. */
	ck_assert_ok(clq_device_array_set_async(a, q, h, NULL, 0, &ev[0]));
	ck_assert_ok(clq_queue_start_tuning(q));
	ck_assert_ok(clq_device_array_set_async(a, q, h, NULL, 0, &ev[1]));
	ck_assert_ok(clq_queue_enqueue_kernel(q, k, args, 2, 1, &n, NULL, NULL,
					      0, NULL));
	ck_assert_ok(clq_queue_enqueue_kernel(q, k, args, 2, 1, &n, NULL, NULL,
					      0, &ev[2]));
	ck_assert_ok(clq_device_array_get_async(a, q, h, NULL, 0, &ev[3]));
	ck_assert_ok(clq_queue_stop_tuning(q, &seconds));
	ck_assert_double_gt(seconds, 0);
	ck_assert_double_eq_tol(seconds, span(ev[1], ev[3]), 1e-12);
	ck_assert_double_lt(seconds, span(ev[0], ev[3]));
	ck_assert_double_gt(seconds, span(ev[2], ev[3]));

	/* Restarting discards what was recorded; one kernel alone. */
	ck_assert_ok(clq_queue_start_tuning(q));
	ck_assert_ok(clq_device_array_set_async(a, q, h, NULL, 0, NULL));
	ck_assert_ok(clq_queue_start_tuning(q));
	clq_event_unref(ev[2]);
	ck_assert_ok(clq_queue_enqueue_kernel(q, k, args, 2, 1, &n, NULL, NULL,
					      0, &ev[2]));
	ck_assert_ok(clq_queue_stop_tuning(q, &seconds));
	ck_assert_double_eq_tol(seconds, span(ev[2], ev[2]), 1e-12);

	for (int i = 0; i < 4; i++)
		clq_event_unref(ev[i]);
	clq_host_array_unref(h);
	clq_device_array_unref(a);
	clq_queue_unref(q);
	clq_kernel_unref(k);
	clq_program_unref(p);
}
END_TEST

START_TEST(tuning_nothing_is_zero)
{
	struct clq_queue *q = NULL;
	double seconds = -1;

	ck_assert_ok(clq_queue_create_tuning(test_ctx, &q));
	ck_assert_ok(clq_queue_start_tuning(q));
	ck_assert_ok(clq_queue_stop_tuning(q, &seconds));
	ck_assert_double_eq(seconds, 0);
	clq_queue_unref(q);
}
END_TEST

START_TEST(tuning_misuse_refused)
{
	struct clq_queue *plain = test_queue_new(CLQ_QUEUE_PROFILING);
	struct clq_queue *q = NULL;
	double seconds = -1;

	test_log_expect("not a tuning queue");
	ck_assert_rc(clq_queue_start_tuning(plain), CLQ_ERROR_NOT_TUNING);
	ck_assert_rc(clq_queue_stop_tuning(plain, &seconds),
		     CLQ_ERROR_NOT_TUNING);
	ck_assert_ok(clq_queue_create_tuning(test_ctx, &q));
	test_log_expect("was not called");
	ck_assert_rc(clq_queue_stop_tuning(q, &seconds), CLQ_ERROR_NOT_TUNING);
	ck_assert_ok(clq_queue_start_tuning(q));
	ck_assert_ok(clq_queue_stop_tuning(q, &seconds));
	ck_assert_rc(clq_queue_stop_tuning(q, &seconds), CLQ_ERROR_NOT_TUNING);
	test_log_expect("*");
	ck_assert_rc(clq_queue_stop_tuning(q, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_queue_start_tuning(NULL), CLQ_ERROR_INVALID_ARGUMENT);
	clq_queue_unref(q);
	ck_assert_rc(clq_queue_create_tuning(NULL, &q),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(q);
	test_log_expect("unknown flags");
	ck_assert_rc(clq_queue_create(test_ctx, CLQ_QUEUE_TUNING, &q),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(q);
	clq_queue_unref(plain);
}
END_TEST

/* A failed command inside the tuned stretch fails the measurement. */
START_TEST(tuning_failed_command)
{
	struct clq_queue *q = NULL;
	struct clq_event *gate = test_user_event_new();
	double seconds = -1;

	ck_assert_ok(clq_queue_create_tuning(test_ctx, &q));
	ck_assert_ok(clq_queue_start_tuning(q));
	ck_assert_ok(clq_queue_enqueue_marker(q, &gate, 1, NULL));
	ck_assert_ok(clq_user_event_complete(gate, -1));
	test_log_expect("failed");
	ck_assert_rc(clq_queue_stop_tuning(q, &seconds),
		     CLQ_ERROR_COMMAND_FAILED);
	ck_assert_double_eq(seconds, 0);
	clq_event_unref(gate);
	clq_queue_unref(q);
}
END_TEST

/* Writes each work-item's global id, plus 1000 times its offset, at its
 * place in a 2-D array of WIDTH columns. */
#define OFFSET_WIDTH 8
static const char offset_source[] =
	"__kernel void ids(__global int *o)\n"
	"{\n"
	"	size_t x = get_global_id(0), y = get_global_id(1);\n"
	"	o[y * 8 + x] = (int)(y * 8 + x) +\n"
	"		1000 * (int)(get_global_offset(0) + "
	"get_global_offset(1));\n"
	"}\n";

/* The offset moves the work-items, only them, and the group ids are
 * as without one. */
START_TEST(kernel_offset_moves_the_range)
{
	const size_t shape[2] = {6, OFFSET_WIDTH};
	const size_t offset[2] = {3, 2}, global[2] = {4, 3}, local[2] = {2, 1};
	struct clq_program *p = build(offset_source, NULL);
	struct clq_kernel *k = kernel_of(p, "ids");
	struct clq_queue *q = test_queue_new(0);
	struct clq_device_array *a = NULL;
	struct clq_host_array *h = NULL;
	struct clq_event *ev = NULL;
	struct clq_arg args[1];
	cl_int minus = -1;
	const int *o;

	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_INT32, 2,
					     shape, NULL, &a));
	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_INT32, 2, shape,
					   NULL, &h));
	ck_assert_ok(clq_device_array_fill(a, q, &minus, NULL, 0, NULL));
	args[0] = CLQ_ARG_OUT(a);
	ck_assert_ok(clq_queue_enqueue_kernel_offset(
		q, k, args, 1, 2, offset, global, local, NULL, 0, &ev));
	ck_assert_ptr_nonnull(ev);
	ck_assert_ok(clq_device_array_get(a, q, h));
	o = clq_host_array_data(h);
	for (int y = 0; y < 6; y++) {
		for (int x = 0; x < OFFSET_WIDTH; x++) {
			int inside = x >= 3 && x < 7 && y >= 2 && y < 5;

			ck_assert_int_eq(o[y * OFFSET_WIDTH + x],
					 inside ? y * OFFSET_WIDTH + x + 5000
						: -1);
		}
	}
	/* A NULL offset is none: the same as clq_queue_enqueue_kernel(). */
	ck_assert_ok(clq_queue_enqueue_kernel_offset(
		q, k, args, 1, 2, NULL, global, NULL, NULL, 0, NULL));
	ck_assert_ok(clq_device_array_get(a, q, h));
	ck_assert_int_eq(o[0], 0);
	ck_assert_int_eq(o[2 * OFFSET_WIDTH + 3], 2 * OFFSET_WIDTH + 3);
	/* outside the second range: the first launch's */
	ck_assert_int_eq(o[3 * OFFSET_WIDTH + 3], 3 * OFFSET_WIDTH + 3 + 5000);
	ck_assert_int_eq(o[5 * OFFSET_WIDTH + 7], -1);
	clq_event_unref(ev);
	clq_host_array_unref(h);
	clq_device_array_unref(a);
	clq_queue_unref(q);
	clq_kernel_unref(k);
	clq_program_unref(p);
}
END_TEST

/* Offsets that overflow, and the usual checks, under the new name. */
START_TEST(kernel_offset_mistakes_refused)
{
	const size_t n = 4, big[1] = {SIZE_MAX - 2}, zero[1] = {0};
	struct clq_program *p = build(offset_source, NULL);
	struct clq_kernel *k = kernel_of(p, "ids");
	struct clq_queue *q = test_queue_new(0);
	struct clq_device_array *a = NULL;
	struct clq_event *ev = (struct clq_event *)&ev;
	struct clq_arg args[1];

	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_INT32, 1, &n,
					     NULL, &a));
	args[0] = CLQ_ARG_OUT(a);
	test_log_expect("overflows size_t");
	ck_assert_rc(clq_queue_enqueue_kernel_offset(q, k, args, 1, 1, big, &n,
						     NULL, NULL, 0, &ev),
		     CLQ_ERROR_OVERFLOW);
	ck_assert(test_log_seen());
	ck_assert_ptr_null(ev);
	test_log_expect("clq_queue_enqueue_kernel_offset: a global size is 0");
	ck_assert_rc(clq_queue_enqueue_kernel_offset(q, k, args, 1, 1, big,
						     zero, NULL, NULL, 0, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	test_log_expect("clq_queue_enqueue_kernel_offset: kernel 'ids' takes");
	ck_assert_rc(clq_queue_enqueue_kernel_offset(q, k, args, 0, 1, NULL, &n,
						     NULL, NULL, 0, NULL),
		     CLQ_ERROR_ARG_COUNT);
	ck_assert(test_log_seen());
	test_log_expect(NULL);
	ck_assert_ok(clq_queue_finish(q));
	clq_device_array_unref(a);
	clq_queue_unref(q);
	clq_kernel_unref(k);
	clq_program_unref(p);
}
END_TEST

/* Binaries. */

static const char binary_source[] =
	"__kernel void k(__global int *o, int v) { o[0] = v * 3 + 1; }\n";

/* Runs `k(o, 7)` of a program on one work-item; returns o[0]. */
static int
run_times_three(struct clq_program *p)
{
	const size_t one = 1;
	struct clq_kernel *k = kernel_of(p, "k");
	struct clq_queue *q = test_queue_new(0);
	struct clq_device_array *a = NULL;
	struct clq_host_array *h = NULL;
	cl_int v = 7;
	struct clq_arg args[2];
	int value;

	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_INT32, 1, &one,
					     NULL, &a));
	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_INT32, 1, &one,
					   NULL, &h));
	args[0] = CLQ_ARG_OUT(a);
	args[1] = CLQ_ARG_VALUE(v);
	ck_assert_ok(clq_queue_enqueue_kernel(q, k, args, 2, 1, &one, NULL,
					      NULL, 0, NULL));
	ck_assert_ok(clq_device_array_get(a, q, h));
	value = *(int *)clq_host_array_data(h);
	clq_host_array_unref(h);
	clq_device_array_unref(a);
	clq_queue_unref(q);
	clq_kernel_unref(k);
	return value;
}

/* Build, get the binary, build again from it, run: the same result. */
START_TEST(binary_round_trip)
{
	struct clq_program *p = build(binary_source, NULL), *b = NULL;
	size_t size = 0, again = 0;
	unsigned char *bytes, small[4];

	ck_assert_int_eq(run_times_three(p), 22);
	ck_assert_ok(clq_program_get_binary(p, NULL, 0, &size));
	ck_assert_uint_gt(size, 0);
	test_log_expect("the buffer given holds 4");
	ck_assert_rc(clq_program_get_binary(p, small, sizeof(small), &again),
		     CLQ_ERROR_OUT_OF_RANGE);
	ck_assert(test_log_seen());
	ck_assert_uint_eq(again, size);
	test_log_expect(NULL);
	bytes = malloc(size);
	ck_assert_ptr_nonnull(bytes);
	ck_assert_ok(clq_program_get_binary(p, bytes, size, &again));
	ck_assert_uint_eq(again, size);
	clq_program_unref(p);

	ck_assert_ok(clq_program_create_from_binary(test_ctx, bytes, size, NULL,
						    &b));
	free(bytes); /* copied */
	ck_assert_int_eq(clq_program_is_built(b), 1);
	ck_assert_str_eq(clq_program_get_name(b), "<binary>");
	ck_assert_int_eq(run_times_three(b), 22);
	/* A program from a binary has a binary of its own. */
	ck_assert_ok(clq_program_get_binary(b, NULL, 0, &again));
	ck_assert_uint_gt(again, 0);
	clq_program_unref(b);
}
END_TEST

/*
 * A binary cut short, damaged, or made for another device never reaches
 * the driver (PoCL 3.1 crashes on a truncated binary of its own): each is
 * refused with CL_INVALID_BINARY and says why.
 */
START_TEST(binary_damaged_refused)
{
	struct clq_program *p = build(binary_source, NULL), *b = NULL;
	size_t size = 0;
	unsigned char *bytes;

	ck_assert_ok(clq_program_get_binary(p, NULL, 0, &size));
	bytes = malloc(size);
	ck_assert_ptr_nonnull(bytes);
	ck_assert_ok(clq_program_get_binary(p, bytes, size, &size));
	clq_program_unref(p);
	test_log_expect("truncated or extended");
	ck_assert_rc(clq_program_create_from_binary(test_ctx, bytes, size / 2,
						    NULL, &b),
		     CL_INVALID_BINARY);
	ck_assert(test_log_seen());
	test_log_expect("do not start with clq's header");
	ck_assert_rc(
		clq_program_create_from_binary(test_ctx, bytes, 1, NULL, &b),
		CL_INVALID_BINARY);
	ck_assert(test_log_seen());
	bytes[size - 1] ^= 0x5a;
	test_log_expect("damaged: the checksum differs");
	ck_assert_rc(
		clq_program_create_from_binary(test_ctx, bytes, size, NULL, &b),
		CL_INVALID_BINARY);
	ck_assert(test_log_seen());
	bytes[size - 1] ^= 0x5a;
	bytes[32] ^= 0x20; /* the device name's first letter */
	test_log_expect("made for another device or driver");
	ck_assert_rc(
		clq_program_create_from_binary(test_ctx, bytes, size, NULL, &b),
		CL_INVALID_BINARY);
	ck_assert(test_log_seen());
	ck_assert_ptr_null(b);
	bytes[32] ^= 0x20;
	test_log_expect(NULL);
	ck_assert_ok(clq_program_create_from_binary(test_ctx, bytes, size, NULL,
						    &b));
	ck_assert_int_eq(run_times_three(b), 22);
	clq_program_unref(b);
	free(bytes);
}
END_TEST

START_TEST(binary_mistakes_refused)
{
	static const unsigned char junk[64] = "not a binary at all";
	struct clq_program *p = NULL, *failed = NULL;
	size_t size = 99;

	test_log_expect("not a program binary for device");
	ck_assert_rc(clq_program_create_from_binary(test_ctx, junk,
						    sizeof(junk), NULL, &p),
		     CL_INVALID_BINARY);
	ck_assert(test_log_seen());
	ck_assert_ptr_null(p);
	test_log_expect("is NULL");
	ck_assert_rc(
		clq_program_create_from_binary(test_ctx, NULL, 4, NULL, &p),
		CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(
		clq_program_create_from_binary(test_ctx, junk, 0, NULL, &p),
		CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_program_create_from_binary(NULL, junk, 4, NULL, &p),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(
		clq_program_create_from_binary(test_ctx, junk, 4, NULL, NULL),
		CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_program_get_binary(NULL, NULL, 0, &size),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_uint_eq(size, 99); /* nothing to say it in */
	test_log_expect("*");
	ck_assert_rc(clq_program_create_from_source(test_ctx, "junk(", NULL,
						    &failed),
		     CL_BUILD_PROGRAM_FAILURE);
	test_log_expect("failed to build");
	ck_assert_rc(clq_program_get_binary(failed, NULL, 0, &size),
		     CL_INVALID_PROGRAM_EXECUTABLE);
	ck_assert(test_log_seen());
	ck_assert_uint_eq(size, 0);
	clq_program_unref(failed);
}
END_TEST

/* IL only where the device takes it; elsewhere a specific refusal. */
START_TEST(il_where_supported)
{
	static const unsigned char junk[32] = {0x03, 0x02, 0x23, 0x07};
	struct clq_device *dev = clq_context_get_device(test_ctx);
	char versions[256] = "";
	size_t len = 0;
	int takes_il;
	struct clq_program *p = NULL;
	int rc;

	/* clGetDeviceInfo(CL_DEVICE_IL_VERSION), an OpenCL 2.1 query */
	if (clGetDeviceInfo(clq_device_get_cl(dev), 0x105B,
			    sizeof(versions) - 1, versions, &len) != CL_SUCCESS)
		len = 0;
	takes_il = len > 1 && versions[0] &&
		   clq_device_get_opencl_version_number(dev) >= 210;
	test_log_expect(takes_il ? "*" : "IL");
	rc = clq_program_create_from_il(test_ctx, junk, sizeof(junk), NULL, &p);
	if (takes_il) {
		/* a module the driver cannot read: its own error */
		ck_assert_int_lt(rc, 0);
		ck_assert_int_ne(rc, CLQ_ERROR_UNSUPPORTED);
	} else {
		ck_assert_rc(rc, CLQ_ERROR_UNSUPPORTED);
		ck_assert(test_log_seen());
	}
	ck_assert_ptr_null(p);
	test_log_expect("is NULL");
	ck_assert_rc(clq_program_create_from_il(test_ctx, NULL, 4, NULL, &p),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_program_create_from_il(test_ctx, junk, 4, NULL, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
}
END_TEST

static Suite *
program_suite(void)
{
	Suite *s = suite_create("program");
	TCase *tc = tcase_create("program");

	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, source_builds_and_runs);
	tcase_add_test(tc, every_build_knows_the_simd_group_size);
	tcase_add_test(tc, options_and_defines_pass_through);
	tcase_add_test(tc, failed_build_keeps_its_log);
	tcase_add_test(tc, bad_options_refused);
	tcase_add_test(tc, program_bad_arguments);
	tcase_add_test(tc, binary_round_trip);
	tcase_add_test(tc, binary_mistakes_refused);
	tcase_add_test(tc, binary_damaged_refused);
	tcase_add_test(tc, il_where_supported);
	suite_add_tcase(s, tc);

	tc = tcase_create("search");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, builtin_kernels_are_found);
	tcase_add_test(tc, search_order);
	tcase_add_test(tc, absolute_name);
	tcase_add_test(tc, missing_file_names_the_directories);
	tcase_add_test(tc, unreadable_files_refused);
	tcase_add_test(tc, includes_resolve_along_the_path);
	tcase_add_test(tc, include_cycles_are_cut);
	tcase_add_test(tc, include_cycles_through_other_spellings);
	tcase_add_test(tc, include_cycles_through_symlinks);
	tcase_add_test(tc, pragma_once_pastes_once);
	tcase_add_test(tc, current_directory_files);
	tcase_add_test(tc, deep_include_chains_refused);
	tcase_add_test(tc, build_errors_name_the_included_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("kernel");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, kernel_getters);
	tcase_add_test(tc, unknown_kernel_lists_the_names);
	tcase_add_test(tc, enqueue_mistakes_refused);
	tcase_add_test(tc, required_work_group_all_axes);
	tcase_add_test(tc, argument_types_checked);
	tcase_add_test(tc, argument_sizes_without_arg_info);
	tcase_add_test(tc, kernel_of_another_context_refused);
	tcase_add_test(tc, local_memory_argument);
	tcase_add_test(tc, kernel_waits_for_its_wait_list);
	tcase_add_test(tc, one_kernel_from_several_threads);
	tcase_add_test(tc, kernel_offset_moves_the_range);
	tcase_add_test(tc, kernel_offset_mistakes_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("tuning");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, tuning_spans_kernels_and_transfers);
	tcase_add_test(tc, tuning_nothing_is_zero);
	tcase_add_test(tc, tuning_misuse_refused);
	tcase_add_test(tc, tuning_failed_command);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_main(program_suite(), 1);
}
