/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What clq-tune's files share: the grid file (grid.c), the options and
 * the command table (main.c), the JSON writer (json.c). One .c per
 * command: run.c, list.c, merge.c, forget.c.
 */
#ifndef CLQ_TUNE_TOOL_H
#define CLQ_TUNE_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <clq/clq.h>

#include "../json-text.h"

#define FORMAT_VERSION 1 /* of --json; bumped on any incompatible change */
#define GRID_MAX_BYTES (1u << 20)
#define GRID_MAX_PROBLEMS 1024

/* Exit codes: 0 success, 1 a clq, OpenCL or database failure, 2 usage. */
enum { EXIT_USAGE = 2 };

struct options {
	const char *command;
	const char *db;	    /* --db PATH (run); NULL: clq's default */
	const char *device; /* --device SPEC; NULL: the grid's, else default */
	bool json, force, quiet;
	double budget; /* --budget S; 0: the grid's, else clq's default */
	char **args;   /* the command's operands */
	int n_args;
};

/* A grid file: which tunable, where, and the problems to tune it for. */
struct grid {
	char tunable[64];
	char *device;  /* NULL when the file names none */
	double budget; /* 0 when the file gives none */
	struct clq_params **problems;
	size_t n_problems;
};

/*
 * Parses a grid file's text (`len` bytes, need not end in NUL). On
 * failure returns CLQ_ERROR_INVALID_ARGUMENT and writes "line N: what was
 * wrong, what was expected" to `err`; `g` is then empty. Free with
 * grid_free().
 */
int grid_parse(const char *text, size_t len, struct grid *g, char *err,
	       size_t err_len);
void grid_free(struct grid *g);

int run_run(const struct options *opt);
int run_list(const struct options *opt);
int run_merge(const struct options *opt);
int run_forget(const struct options *opt);

/* JSON strings and numbers: ../json-text.h. */

/* Prints "clq-tune: " and the message with clq's reason for `rc`. */
void report(const char *what, int rc);

#endif
