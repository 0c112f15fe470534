/* SPDX-License-Identifier: BSD-3-Clause */
/* What tune.c, tune_db.c and tune_builtin.c share; not installed. */
#ifndef CLQ_TUNE_PRIVATE_H
#define CLQ_TUNE_PRIVATE_H

#include "private.h"
#include <clq/tune.h>

#define CLQ__TUNE_NAME_MAX 63
#define CLQ__TUNE_VALUE_MAX 255

struct clq__param {
	char *name;
	int is_string;
	int64_t i;
	char *s;
};

/* Kept sorted by name, so the text form is canonical. */
struct clq_params {
	struct clq__param *v;
	size_t n, cap;
};

struct clq__axis {
	char *name;
	unsigned flags;
	int is_string;
	size_t n;
	int64_t *ints;
	char **strings;
};

struct clq_tunable {
	char *name;
	int version;
	char *file; /* a file to find, or NULL for `source` */
	char **dirs;
	size_t n_dirs;
	char *source;
	char *options;
	struct clq__axis *axes;
	size_t n_axes;
	clq_tune_filter_fn filter;
	void *filter_data;
	clq_tune_prepare_fn prepare;
	clq_tune_measure_fn measure;
	clq_tune_release_fn release;
	void *measure_data;
};

/* Whether `s` is a parameter or tunable name; a string value. */
int clq__tune_is_name(const char *s);
int clq__tune_is_value(const char *s);

/*
 * The tunable's include-expanded source (malloc'ed, `*text_out`) and its
 * key hash; `function` names the caller in log messages.
 */
int
clq__tunable_expand(const struct clq_tunable *t, struct clq_context *ctx,
		    const char *function, char **text_out, char hash_out[17]);

/*
 * Why a stored candidate `p` cannot be used for `problem` on `dev`: it is
 * not on the tunable's grid (its names, types and values), or the
 * tunable's filter refuses it; NULL when it can.
 */
const char *
clq__tunable_rejects(const struct clq_tunable *t, struct clq_device *dev,
		     const struct clq_params *problem,
		     const struct clq_params *p);

#endif
