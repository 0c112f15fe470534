/* SPDX-License-Identifier: BSD-3-Clause */
/* Parameter sets, tunables and the tuner (see tune.h). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tune_private.h"

#define DEFAULT_BUDGET 0.1
#define DEFAULT_ROUNDS 3
#define MAX_BUILD_THREADS 8
/* Runs per round at most: a candidate of a few nanoseconds stays bounded. */
#define MAX_REPS 100000
/* Rounds per candidate at most (clq_tune_options::rounds). */
#define MAX_ROUNDS 1000

/* ---- Parameter sets ---------------------------------------------------- */

int
clq__tune_is_name(const char *s)
{
	size_t n = 0;

	if (!s || !(isalpha((unsigned char)*s) || *s == '_'))
		return 0;
	for (; s[n]; n++) {
		if (!(isalnum((unsigned char)s[n]) || s[n] == '_'))
			return 0;
	}
	return n <= CLQ__TUNE_NAME_MAX;
}

int
clq__tune_is_value(const char *s)
{
	size_t n = 0;

	if (!s)
		return 0;
	for (; s[n]; n++) {
		if (!(isalnum((unsigned char)s[n]) || strchr("_.+-", s[n])))
			return 0;
	}
	return n >= 1 && n <= CLQ__TUNE_VALUE_MAX;
}

int
clq_params_create(struct clq_params **params_out)
{
	if (!params_out)
		return clq__invalid(NULL, "clq_params_create",
				    "params_out is NULL");
	*params_out = calloc(1, sizeof(**params_out));
	return *params_out ? CLQ_SUCCESS : CL_OUT_OF_HOST_MEMORY;
}

void
clq_params_free(struct clq_params *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].name);
		free(p->v[i].s);
	}
	free(p->v);
	free(p);
}

/* The index of `name`, or where it would go (`*found` 0). */
static size_t
params_find(const struct clq_params *p, const char *name, int *found)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(p->v[mid].name, name);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

static int
params_set(struct clq_params *p, const char *fn, const char *name,
	   int is_string, int64_t i, const char *s)
{
	char *copy = NULL, *name_copy = NULL;
	size_t at;
	int found;

	if (!p || !name)
		return clq__invalid(NULL, fn, "params or name is NULL");
	if (!clq__tune_is_name(name)) {
		clq__log(NULL, CLQ_LOG_ERROR,
			 "%s: '%s' is not a parameter name (expected a C "
			 "identifier of at most %d bytes)",
			 fn, name, CLQ__TUNE_NAME_MAX);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	if (is_string && !clq__tune_is_value(s)) {
		clq__log(NULL, CLQ_LOG_ERROR,
			 "%s: bad value for '%s' (expected 1 to %d bytes of "
			 "letters, digits, '_', '.', '+', '-')",
			 fn, name, CLQ__TUNE_VALUE_MAX);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	if (is_string && !(copy = strdup(s)))
		return CL_OUT_OF_HOST_MEMORY;
	at = params_find(p, name, &found);
	if (!found) {
		if (p->n == p->cap) {
			size_t cap = p->cap ? 2 * p->cap : 4;
			struct clq__param *v = realloc(p->v, cap * sizeof(*v));

			if (!v) {
				free(copy);
				return CL_OUT_OF_HOST_MEMORY;
			}
			p->v = v;
			p->cap = cap;
		}
		if (!(name_copy = strdup(name))) {
			free(copy);
			return CL_OUT_OF_HOST_MEMORY;
		}
		memmove(&p->v[at + 1], &p->v[at],
			(p->n - at) * sizeof(p->v[0]));
		p->n++;
		p->v[at] = (struct clq__param){.name = name_copy};
	}
	free(p->v[at].s);
	p->v[at].is_string = is_string;
	p->v[at].i = i;
	p->v[at].s = copy;
	return CLQ_SUCCESS;
}

int
clq_params_set_int(struct clq_params *params, const char *name, int64_t value)
{
	return params_set(params, "clq_params_set_int", name, 0, value, NULL);
}

int
clq_params_set_string(struct clq_params *params, const char *name,
		      const char *value)
{
	if (!value)
		return clq__invalid(NULL, "clq_params_set_string",
				    "value is NULL");
	return params_set(params, "clq_params_set_string", name, 1, 0, value);
}

static const struct clq__param *
params_get(const struct clq_params *p, const char *name, int *rc)
{
	size_t at;
	int found;

	if (!p || !name) {
		*rc = CLQ_ERROR_INVALID_ARGUMENT;
		return NULL;
	}
	at = params_find(p, name, &found);
	*rc = found ? CLQ_SUCCESS : CLQ_ERROR_NOT_FOUND;
	return found ? &p->v[at] : NULL;
}

int
clq_params_get_int(const struct clq_params *params, const char *name,
		   int64_t *value_out)
{
	int rc;
	const struct clq__param *v;

	if (!params || !name || !value_out)
		return clq__invalid(NULL, "clq_params_get_int",
				    "params, name or value_out is NULL");
	if (!(v = params_get(params, name, &rc)))
		return rc;
	if (v->is_string)
		return CLQ_ERROR_TYPE_MISMATCH;
	*value_out = v->i;
	return CLQ_SUCCESS;
}

int
clq_params_get_string(const struct clq_params *params, const char *name,
		      const char **value_out)
{
	int rc;
	const struct clq__param *v;

	if (!params || !name || !value_out)
		return clq__invalid(NULL, "clq_params_get_string",
				    "params, name or value_out is NULL");
	if (!(v = params_get(params, name, &rc)))
		return rc;
	if (!v->is_string)
		return CLQ_ERROR_TYPE_MISMATCH;
	*value_out = v->s;
	return CLQ_SUCCESS;
}

size_t
clq_params_count(const struct clq_params *params)
{
	return params ? params->n : 0;
}

int
clq_params_equal(const struct clq_params *a, const struct clq_params *b)
{
	if (!a || !b)
		return a == b;
	if (a->n != b->n)
		return 0;
	for (size_t k = 0; k < a->n; k++) {
		const struct clq__param *x = &a->v[k], *y = &b->v[k];

		if (strcmp(x->name, y->name) != 0 ||
		    x->is_string != y->is_string)
			return 0;
		if (x->is_string ? strcmp(x->s, y->s) != 0 : x->i != y->i)
			return 0;
	}
	return 1;
}

/* Appends the text form; `sep` goes between pairs. */
static void
params_append(struct clq__strbuf *b, const struct clq_params *p,
	      const char *prefix, const char *sep)
{
	for (size_t k = 0; k < p->n; k++) {
		const struct clq__param *v = &p->v[k];

		if (v->is_string)
			clq__strbuf_appendf(b, "%s%s%s=\"%s\"", k ? sep : "",
					    prefix, v->name, v->s);
		else
			clq__strbuf_appendf(b, "%s%s%s=%" PRId64, k ? sep : "",
					    prefix, v->name, v->i);
	}
}

int
clq_params_format(const struct clq_params *params, char **text_out)
{
	struct clq__strbuf b = {0};

	if (!text_out)
		return clq__invalid(NULL, "clq_params_format",
				    "text_out is NULL");
	*text_out = NULL;
	if (!params)
		return clq__invalid(NULL, "clq_params_format",
				    "params is NULL");
	params_append(&b, params, "", " ");
	if (!b.failed && !b.s)
		b.s = strdup("");
	if (b.failed || !b.s) {
		clq__strbuf_free(&b);
		return CL_OUT_OF_HOST_MEMORY;
	}
	*text_out = b.s;
	return CLQ_SUCCESS;
}

static int
parse_error(const char *text, const char *at, const char *expected)
{
	clq__log(NULL, CLQ_LOG_ERROR,
		 "clq_params_parse: at byte %zu of '%s': expected %s",
		 (size_t)(at - text), text, expected);
	return CLQ_ERROR_INVALID_ARGUMENT;
}

int
clq_params_parse(const char *text, struct clq_params **params_out)
{
	static const char fn[] = "clq_params_parse";
	struct clq_params *p = NULL;
	const char *c = text;
	char name[CLQ__TUNE_NAME_MAX + 1], value[CLQ__TUNE_VALUE_MAX + 1];
	int rc;

	if (!params_out)
		return clq__invalid(NULL, fn, "params_out is NULL");
	*params_out = NULL;
	if (!text)
		return clq__invalid(NULL, fn, "text is NULL");
	if ((rc = clq_params_create(&p)) < 0)
		return rc;
	for (;;) {
		size_t n = 0;
		int quoted;

		while (*c == ' ' || *c == '\t')
			c++;
		if (!*c)
			break;
		while (isalnum((unsigned char)c[n]) || c[n] == '_')
			n++;
		if (n == 0 || n > CLQ__TUNE_NAME_MAX ||
		    isdigit((unsigned char)*c)) {
			rc = parse_error(text, c, "a parameter name");
			goto out;
		}
		memcpy(name, c, n);
		name[n] = '\0';
		c += n;
		if (*c++ != '=') {
			rc = parse_error(text, c - 1, "'=' after the name");
			goto out;
		}
		quoted = *c == '"';
		c += quoted;
		for (n = 0; c[n] && c[n] != ' ' && c[n] != '\t' && c[n] != '"';
		     n++)
			;
		if (n == 0 || n > CLQ__TUNE_VALUE_MAX) {
			rc = parse_error(text, c, "a value of 1 to 255 bytes");
			goto out;
		}
		memcpy(value, c, n);
		value[n] = '\0';
		c += n;
		if (quoted) {
			if (*c++ != '"') {
				rc = parse_error(text, c - 1, "a closing '\"'");
				goto out;
			}
			if (!clq__tune_is_value(value)) {
				rc = parse_error(text, c - n - 1,
						 "letters, digits, '_', '.', "
						 "'+' or '-'");
				goto out;
			}
			rc = clq_params_set_string(p, name, value);
		} else {
			char *end;
			long long v;

			errno = 0;
			v = strtoll(value, &end, 10);
			if (*end || errno == ERANGE) {
				rc = parse_error(text, c - n,
						 "a 64-bit decimal integer, or "
						 "a string in double quotes");
				goto out;
			}
			rc = clq_params_set_int(p, name, (int64_t)v);
		}
		if (rc < 0)
			goto out;
		if (*c && *c != ' ' && *c != '\t') {
			rc = parse_error(text, c, "a blank between pairs");
			goto out;
		}
	}
	*params_out = p;
	p = NULL;
out:
	clq_params_free(p);
	return rc;
}

/* ---- Tunables ---------------------------------------------------------- */

int
clq_tunable_create(const char *name, int version,
		   struct clq_tunable **tunable_out)
{
	static const char fn[] = "clq_tunable_create";
	struct clq_tunable *t;

	if (!tunable_out)
		return clq__invalid(NULL, fn, "tunable_out is NULL");
	*tunable_out = NULL;
	if (!clq__tune_is_name(name) || version < 0) {
		clq__log(NULL, CLQ_LOG_ERROR,
			 "%s: bad name '%s' or version %d (expected a C "
			 "identifier of at most %d bytes and a version >= 0)",
			 fn, name ? name : "(null)", version,
			 CLQ__TUNE_NAME_MAX);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	if (!(t = calloc(1, sizeof(*t))))
		return CL_OUT_OF_HOST_MEMORY;
	if (!(t->name = strdup(name))) {
		free(t);
		return CL_OUT_OF_HOST_MEMORY;
	}
	t->version = version;
	*tunable_out = t;
	return CLQ_SUCCESS;
}

static void
axis_free(struct clq__axis *a)
{
	free(a->name);
	free(a->ints);
	for (size_t i = 0; a->strings && i < a->n; i++)
		free(a->strings[i]);
	free(a->strings);
}

static void
source_clear(struct clq_tunable *t)
{
	free(t->file);
	free(t->source);
	for (size_t i = 0; i < t->n_dirs; i++)
		free(t->dirs[i]);
	free(t->dirs);
	t->file = t->source = NULL;
	t->dirs = NULL;
	t->n_dirs = 0;
}

void
clq_tunable_free(struct clq_tunable *t)
{
	if (!t)
		return;
	source_clear(t);
	for (size_t i = 0; i < t->n_axes; i++)
		axis_free(&t->axes[i]);
	free(t->axes);
	free(t->options);
	free(t->name);
	free(t);
}

int
clq_tunable_set_file(struct clq_tunable *t, const char *name,
		     const char *const *dirs, size_t n_dirs)
{
	static const char fn[] = "clq_tunable_set_file";
	char *file, **copy = NULL;

	if (!t || !name || !*name || (n_dirs && !dirs))
		return clq__invalid(NULL, fn,
				    "tunable or name is NULL, name is empty, "
				    "or dirs is NULL with n_dirs > 0");
	for (size_t i = 0; i < n_dirs; i++) {
		if (!dirs[i])
			return clq__invalid(NULL, fn,
					    "an entry of dirs is NULL");
	}
	if (!(file = strdup(name)))
		return CL_OUT_OF_HOST_MEMORY;
	if (n_dirs && !(copy = calloc(n_dirs, sizeof(*copy)))) {
		free(file);
		return CL_OUT_OF_HOST_MEMORY;
	}
	for (size_t i = 0; i < n_dirs; i++) {
		if (!(copy[i] = strdup(dirs[i]))) {
			for (size_t j = 0; j < i; j++)
				free(copy[j]);
			free(copy);
			free(file);
			return CL_OUT_OF_HOST_MEMORY;
		}
	}
	source_clear(t);
	t->file = file;
	t->dirs = copy;
	t->n_dirs = n_dirs;
	return CLQ_SUCCESS;
}

int
clq_tunable_set_source(struct clq_tunable *t, const char *source)
{
	char *copy;

	if (!t || !source)
		return clq__invalid(NULL, "clq_tunable_set_source",
				    "tunable or source is NULL");
	if (!(copy = strdup(source)))
		return CL_OUT_OF_HOST_MEMORY;
	source_clear(t);
	t->source = copy;
	return CLQ_SUCCESS;
}

int
clq_tunable_set_options(struct clq_tunable *t, const char *options)
{
	char *copy = NULL;

	if (!t)
		return clq__invalid(NULL, "clq_tunable_set_options",
				    "tunable is NULL");
	if (options && !(copy = strdup(options)))
		return CL_OUT_OF_HOST_MEMORY;
	free(t->options);
	t->options = copy;
	return CLQ_SUCCESS;
}

static int
add_axis(struct clq_tunable *t, const char *fn, const char *name,
	 const int64_t *ints, const char *const *strings, size_t n,
	 unsigned flags)
{
	struct clq__axis a = {0}, *axes;

	if (!t || !name || !n || (!ints && !strings))
		return clq__invalid(NULL, fn,
				    "tunable, name or values is NULL, or "
				    "n_values is 0");
	if (flags & ~(unsigned)CLQ_TUNE_DEFINE)
		return clq__invalid(NULL, fn, "unknown flag");
	if (!clq__tune_is_name(name)) {
		clq__log(NULL, CLQ_LOG_ERROR,
			 "%s: '%s' is not a parameter name (expected a C "
			 "identifier of at most %d bytes)",
			 fn, name, CLQ__TUNE_NAME_MAX);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	for (size_t i = 0; i < t->n_axes; i++) {
		if (strcmp(t->axes[i].name, name) == 0) {
			clq__log(NULL, CLQ_LOG_ERROR,
				 "%s: '%s' is already on the grid of %s", fn,
				 name, t->name);
			return CLQ_ERROR_INVALID_ARGUMENT;
		}
	}
	for (size_t i = 0; strings && i < n; i++) {
		if (!clq__tune_is_value(strings[i])) {
			clq__log(NULL, CLQ_LOG_ERROR,
				 "%s: value %zu of '%s' is not 1 to %d bytes "
				 "of letters, digits, '_', '.', '+', '-'",
				 fn, i, name, CLQ__TUNE_VALUE_MAX);
			return CLQ_ERROR_INVALID_ARGUMENT;
		}
	}
	/* A repeated value would be built and measured twice. */
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strings ? strcmp(strings[i], strings[j]) != 0
				    : ints[i] != ints[j])
				continue;
			clq__log(NULL, CLQ_LOG_ERROR,
				 "%s: values %zu and %zu of '%s' are equal "
				 "(expected each value once)",
				 fn, j, i, name);
			return CLQ_ERROR_INVALID_ARGUMENT;
		}
	}
	a.flags = flags;
	a.n = n;
	a.is_string = strings != NULL;
	if (!(a.name = strdup(name)))
		goto oom;
	if (ints) {
		if (!(a.ints = malloc(n * sizeof(*a.ints))))
			goto oom;
		memcpy(a.ints, ints, n * sizeof(*a.ints));
	} else {
		if (!(a.strings = calloc(n, sizeof(*a.strings))))
			goto oom;
		for (size_t i = 0; i < n; i++) {
			if (!(a.strings[i] = strdup(strings[i])))
				goto oom;
		}
	}
	axes = realloc(t->axes, (t->n_axes + 1) * sizeof(*axes));
	if (!axes)
		goto oom;
	t->axes = axes;
	t->axes[t->n_axes++] = a;
	return CLQ_SUCCESS;
oom:
	axis_free(&a);
	return CL_OUT_OF_HOST_MEMORY;
}

int
clq_tunable_add_int(struct clq_tunable *t, const char *name,
		    const int64_t *values, size_t n_values, unsigned flags)
{
	return add_axis(t, "clq_tunable_add_int", name, values, NULL,
			values ? n_values : 0, flags);
}

int
clq_tunable_add_string(struct clq_tunable *t, const char *name,
		       const char *const *values, size_t n_values,
		       unsigned flags)
{
	return add_axis(t, "clq_tunable_add_string", name, NULL, values,
			values ? n_values : 0, flags);
}

void
clq_tunable_set_filter(struct clq_tunable *t, clq_tune_filter_fn filter,
		       void *user_data)
{
	if (!t)
		return;
	t->filter = filter;
	t->filter_data = user_data;
}

int
clq_tunable_set_measure(struct clq_tunable *t, clq_tune_prepare_fn prepare,
			clq_tune_measure_fn measure,
			clq_tune_release_fn release, void *user_data)
{
	if (!t || !measure)
		return clq__invalid(NULL, "clq_tunable_set_measure",
				    "tunable or measure is NULL");
	t->prepare = prepare;
	t->measure = measure;
	t->release = release;
	t->measure_data = user_data;
	return CLQ_SUCCESS;
}

const char *
clq_tunable_get_name(const struct clq_tunable *t)
{
	return t ? t->name : NULL;
}

int
clq_tunable_get_version(const struct clq_tunable *t)
{
	return t ? t->version : -1;
}

/* The grid's size, saturating at SIZE_MAX. */
size_t
clq_tunable_get_grid_size(const struct clq_tunable *t)
{
	size_t n = 1;

	for (size_t i = 0; t && i < t->n_axes; i++) {
		if (n > SIZE_MAX / t->axes[i].n)
			return SIZE_MAX;
		n *= t->axes[i].n;
	}
	return t ? n : 0;
}

/*
 * Hashes the expanded text and its NUL, but of each `#line N "PATH"` line
 * only `#line N`: the paths say where the files were found (CLQ_KERNEL_PATH,
 * the current directory, the built-in copy), which must not change the key
 * of byte-identical sources.
 */
static uint64_t
hash_text(uint64_t h, const char *text)
{
	const char *p = text;

	while (*p) {
		const char *eol = strchr(p, '\n'), *quote;
		size_t n = eol ? (size_t)(eol - p) + 1 : strlen(p);

		if (strncmp(p, "#line ", 6) == 0 &&
		    (quote = memchr(p, '"', n)) != NULL) {
			h = clq__fnv1a(h, p, (size_t)(quote - p));
			h = clq__fnv1a(h, "\n", 1);
		} else {
			h = clq__fnv1a(h, p, n);
		}
		p += n;
	}
	return clq__fnv1a(h, "", 1);
}

int
clq__tunable_expand(const struct clq_tunable *t, struct clq_context *ctx,
		    const char *function, char **text_out, char hash_out[17])
{
	char *text = NULL, *name = NULL;
	uint64_t h = CLQ__FNV1A_BASIS;
	const char *opts;
	int rc;

	*text_out = NULL;
	if (!t->file && !t->source) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: tunable %s has no source (expected "
			 "clq_tunable_set_file() or clq_tunable_set_source())",
			 function, t->name);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	rc = clq__program_expand(ctx, function, t->file, t->source,
				 (const char *const *)t->dirs, t->n_dirs, &text,
				 &name);
	free(name);
	if (rc < 0)
		return rc;
	opts = t->options ? t->options : "";
	h = hash_text(h, text);
	h = clq__fnv1a(h, opts, strlen(opts));
	snprintf(hash_out, 17, "%016" PRIx64, h);
	*text_out = text;
	return CLQ_SUCCESS;
}

int
clq_tunable_hash(const struct clq_tunable *t, struct clq_context *ctx,
		 char hash_out[17])
{
	char *text;
	int rc;

	if (!t || !ctx || !hash_out)
		return clq__invalid(ctx, "clq_tunable_hash",
				    "tunable, ctx or hash_out is NULL");
	rc = clq__tunable_expand(t, ctx, "clq_tunable_hash", &text, hash_out);
	free(text);
	return rc;
}

/* ---- Trials ------------------------------------------------------------ */

struct clq_tune_trial {
	struct clq_queue *queue;
	struct clq_program *program;
	const struct clq_params *params;
	const struct clq_params *problem;
	void *state;
	/* Kernels made by clq_tune_trial_get_kernel(), for this candidate. */
	struct clq_kernel **kernels;
	size_t n_kernels;
};

struct clq_queue *
clq_tune_trial_get_queue(const struct clq_tune_trial *trial)
{
	return trial ? trial->queue : NULL;
}

struct clq_program *
clq_tune_trial_get_program(const struct clq_tune_trial *trial)
{
	return trial ? trial->program : NULL;
}

const struct clq_params *
clq_tune_trial_get_params(const struct clq_tune_trial *trial)
{
	return trial ? trial->params : NULL;
}

const struct clq_params *
clq_tune_trial_get_problem(const struct clq_tune_trial *trial)
{
	return trial ? trial->problem : NULL;
}

void *
clq_tune_trial_get_state(const struct clq_tune_trial *trial)
{
	return trial ? trial->state : NULL;
}

int
clq_tune_trial_get_kernel(struct clq_tune_trial *trial, const char *name,
			  struct clq_kernel **kernel_out)
{
	struct clq_kernel *k, **more;
	int rc;

	if (!kernel_out)
		return clq__invalid(NULL, "clq_tune_trial_get_kernel",
				    "kernel_out is NULL");
	*kernel_out = NULL;
	if (!trial || !name)
		return clq__invalid(NULL, "clq_tune_trial_get_kernel",
				    "trial or name is NULL");
	for (size_t i = 0; i < trial->n_kernels; i++) {
		if (strcmp(clq_kernel_get_name(trial->kernels[i]), name) == 0) {
			*kernel_out = trial->kernels[i];
			return CLQ_SUCCESS;
		}
	}
	if ((rc = clq_kernel_create(trial->program, name, &k)) < 0)
		return rc;
	more = realloc(trial->kernels, (trial->n_kernels + 1) * sizeof(*more));
	if (!more) {
		clq_kernel_unref(k);
		return CL_OUT_OF_HOST_MEMORY;
	}
	trial->kernels = more;
	trial->kernels[trial->n_kernels++] = k;
	*kernel_out = k;
	return CLQ_SUCCESS;
}

static void
trial_clear(struct clq_tune_trial *trial)
{
	for (size_t i = 0; i < trial->n_kernels; i++)
		clq_kernel_unref(trial->kernels[i]);
	free(trial->kernels);
	trial->kernels = NULL;
	trial->n_kernels = 0;
}

/* ---- The tuner --------------------------------------------------------- */

/* A candidate: its parameters and which distinct build it needs. */
struct candidate {
	struct clq_params *params;
	size_t build;
};

/* One distinct set of build options, and its program once built. */
struct build {
	char *options;
	struct clq_program *program;
	int rc;
};

struct tuner {
	struct clq_context *ctx;
	const struct clq_tunable *t;
	const struct clq_params *problem;
	const char *text; /* the expanded source */
	struct candidate *cands;
	size_t n_cands;
	struct build *builds;
	size_t n_builds;
	/* Builds [next, end) are shared out to the build threads. */
	pthread_mutex_t lock;
	size_t next, end;
	double budget;
	unsigned rounds, threads;
	const struct clq_tune_options *opts;
};

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The candidate's build options: the tunable's, then each -D parameter. */
static char *
candidate_options(const struct clq_tunable *t, const struct clq_params *p)
{
	struct clq__strbuf b = {0};

	clq__strbuf_appendf(&b, "%s", t->options ? t->options : "");
	for (size_t k = 0; k < t->n_axes; k++) {
		const struct clq__axis *a = &t->axes[k];
		int64_t i;
		const char *s;

		if (!(a->flags & CLQ_TUNE_DEFINE))
			continue;
		if (a->is_string) {
			clq_params_get_string(p, a->name, &s);
			clq__strbuf_appendf(&b, "%s-D%s=%s", b.len ? " " : "",
					    a->name, s);
		} else {
			clq_params_get_int(p, a->name, &i);
			clq__strbuf_appendf(&b, "%s-D%s=%" PRId64,
					    b.len ? " " : "", a->name, i);
		}
	}
	if (!b.failed && !b.s)
		b.s = strdup("");
	if (b.failed)
		clq__strbuf_free(&b);
	return b.s;
}

const char *
clq__tunable_rejects(const struct clq_tunable *t, struct clq_device *dev,
		     const struct clq_params *problem,
		     const struct clq_params *p)
{
	if (p->n != t->n_axes)
		return "it is not on the grid (other parameter names)";
	for (size_t k = 0; k < t->n_axes; k++) {
		const struct clq__axis *a = &t->axes[k];
		int rc, on = 0;
		const struct clq__param *v = params_get(p, a->name, &rc);

		if (!v || v->is_string != a->is_string)
			return "it is not on the grid (other parameter names "
			       "or types)";
		for (size_t j = 0; j < a->n && !on; j++)
			on = a->is_string ? strcmp(a->strings[j], v->s) == 0
					  : a->ints[j] == v->i;
		if (!on)
			return "it is not on the grid (a value the grid does "
			       "not have)";
	}
	if (t->filter && !t->filter(dev, problem, p, t->filter_data))
		return "the tunable's filter refuses it on this device";
	return NULL;
}

/* The grid's candidate at `index` (the last axis varies fastest). */
static int
grid_params(const struct clq_tunable *t, size_t index, struct clq_params **out)
{
	struct clq_params *p;
	int rc;

	if ((rc = clq_params_create(&p)) < 0)
		return rc;
	for (size_t k = t->n_axes; k-- > 0 && rc == CLQ_SUCCESS;) {
		const struct clq__axis *a = &t->axes[k];
		size_t v = index % a->n;

		index /= a->n;
		rc = a->is_string
			     ? clq_params_set_string(p, a->name, a->strings[v])
			     : clq_params_set_int(p, a->name, a->ints[v]);
	}
	if (rc < 0) {
		clq_params_free(p);
		return rc;
	}
	*out = p;
	return CLQ_SUCCESS;
}

/* Lists the candidates the filter keeps, and their distinct builds. */
static int
enumerate(struct tuner *tn, size_t grid)
{
	const struct clq_tunable *t = tn->t;
	struct clq_device *dev = clq_context_get_device(tn->ctx);
	int rc = CLQ_SUCCESS;

	tn->cands = calloc(grid, sizeof(*tn->cands));
	tn->builds = calloc(grid, sizeof(*tn->builds));
	if (!tn->cands || !tn->builds)
		return CL_OUT_OF_HOST_MEMORY;
	for (size_t i = 0; i < grid; i++) {
		struct clq_params *p;
		char *opts;
		size_t b;

		if ((rc = grid_params(t, i, &p)) < 0)
			return rc;
		if (t->filter &&
		    !t->filter(dev, tn->problem, p, t->filter_data)) {
			char *text = NULL;

			clq_params_format(p, &text);
			clq__log(tn->ctx, CLQ_LOG_DEBUG,
				 "tuning %s: the filter skips %s", t->name,
				 text ? text : "a candidate");
			free(text);
			clq_params_free(p);
			continue;
		}
		if (!(opts = candidate_options(t, p))) {
			clq_params_free(p);
			return CL_OUT_OF_HOST_MEMORY;
		}
		for (b = 0; b < tn->n_builds; b++) {
			if (strcmp(tn->builds[b].options, opts) == 0)
				break;
		}
		if (b == tn->n_builds)
			tn->builds[tn->n_builds++].options = opts;
		else
			free(opts);
		tn->cands[tn->n_cands++] = (struct candidate){p, b};
	}
	return rc;
}

static void *
build_thread(void *arg)
{
	struct tuner *tn = arg;

	for (;;) {
		struct build *b;

		pthread_mutex_lock(&tn->lock);
		b = tn->next < tn->end ? &tn->builds[tn->next++] : NULL;
		pthread_mutex_unlock(&tn->lock);
		if (!b)
			return NULL;
		b->rc = clq_program_create_from_source(tn->ctx, tn->text,
						       b->options, &b->program);
		if (b->rc == CLQ_SUCCESS && !clq_program_is_built(b->program))
			b->rc = CL_BUILD_PROGRAM_FAILURE;
	}
}

/* Builds [first, end) on up to tn->threads threads, this one included. */
static void
build_batch(struct tuner *tn, size_t first, size_t end)
{
	pthread_t threads[MAX_BUILD_THREADS];
	size_t started = 0;

	tn->next = first;
	tn->end = end;
	for (size_t i = 1; i < tn->threads && i < end - first; i++) {
		if (pthread_create(&threads[started], NULL, build_thread, tn) !=
		    0)
			break; /* fewer threads; this one builds the rest */
		started++;
	}
	build_thread(tn);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
}

/*
 * One run of the measure function: a positive return is not a status the
 * function may give (tune.h), so it skips the candidate as an error does.
 */
static int
run_measure(struct clq_tune_trial *trial, const struct clq_tunable *t)
{
	int rc = t->measure(trial, t->measure_data);

	if (rc > 0) {
		clq__log(clq_queue_get_context(trial->queue), CLQ_LOG_WARNING,
			 "tuning %s: the measure function returned %d "
			 "(expected CLQ_SUCCESS or a negative status)",
			 t->name, rc);
		rc = CLQ_ERROR_INVALID_ARGUMENT;
	}
	return rc;
}

/* Runs the candidate `reps` times between start and stop of tuning. */
static int
timed_runs(struct clq_tune_trial *trial, const struct clq_tunable *t,
	   size_t reps, double *seconds_out)
{
	double s = 0;
	int rc = clq_queue_start_tuning(trial->queue), rc2;

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < reps && rc == CLQ_SUCCESS; i++)
		rc = run_measure(trial, t);
	rc2 = clq_queue_stop_tuning(trial->queue, &s);
	if (rc == CLQ_SUCCESS)
		rc = rc2;
	*seconds_out = s;
	return rc;
}

/* Warm-up, calibration and timed rounds of one candidate. */
static int
measure_candidate(struct tuner *tn, struct clq_tune_trial *trial,
		  double *seconds_out)
{
	const struct clq_tunable *t = tn->t;
	double one, best = INFINITY, per_round = tn->budget / tn->rounds;
	size_t reps;
	int rc;

	/* Warm-up: first launches pay for lazy driver work. */
	if ((rc = run_measure(trial, t)) < 0)
		return rc;
	if ((rc = clq_queue_finish(trial->queue)) < 0)
		return rc;
	if ((rc = timed_runs(trial, t, 1, &one)) < 0)
		return rc;
	/* No device time: the measure function enqueued nothing timed. */
	if (!(one > 0)) {
		clq__log(tn->ctx, CLQ_LOG_WARNING,
			 "tuning %s: a run took no device time (the measure "
			 "function enqueued no command on the trial's queue)",
			 t->name);
		return CLQ_ERROR_TIMING_UNAVAILABLE;
	}
	reps = per_round / one < 1	    ? 1
	       : per_round / one > MAX_REPS ? MAX_REPS
					    : (size_t)(per_round / one);
	for (unsigned r = 0; r < tn->rounds; r++) {
		double s;

		if ((rc = timed_runs(trial, t, reps, &s)) < 0)
			return rc;
		if (s / (double)reps < best)
			best = s / (double)reps;
	}
	if (!(best > 0)) {
		clq__log(tn->ctx, CLQ_LOG_WARNING,
			 "tuning %s: a round took no device time (the measure "
			 "function enqueued no command on the trial's queue)",
			 t->name);
		return CLQ_ERROR_TIMING_UNAVAILABLE;
	}
	*seconds_out = best;
	return CLQ_SUCCESS;
}

static void
skip_log(struct tuner *tn, const struct clq_params *p, const char *why, int rc)
{
	char *text = NULL;

	clq_params_format(p, &text);
	clq__log(tn->ctx, CLQ_LOG_WARNING,
		 "tuning %s: skipping candidate %s: %s: %s (%s)", tn->t->name,
		 text ? text : "?", why, clq_error_name(rc), clq_strerror(rc));
	free(text);
}

static int
check_options(struct clq_context *ctx, const struct clq_tune_options *o,
	      struct tuner *tn)
{
	const char *env = getenv("CLQ_TUNE_BUDGET");
	long cpus;

	tn->budget = o ? o->budget : 0;
	if (tn->budget == 0 && env && *env) {
		char *end;

		tn->budget = strtod(env, &end);
		if (*end || !(tn->budget > 0) || !isfinite(tn->budget)) {
			clq__log(ctx, CLQ_LOG_WARNING,
				 "CLQ_TUNE_BUDGET='%s' is not a positive "
				 "number of seconds; using %g",
				 env, DEFAULT_BUDGET);
			tn->budget = 0;
		}
	}
	if (tn->budget < 0 || !isfinite(tn->budget))
		return clq__invalid(ctx, "clq_tune",
				    "options->budget is negative or not "
				    "finite");
	if (tn->budget == 0)
		tn->budget = DEFAULT_BUDGET;
	tn->rounds = o && o->rounds ? o->rounds : DEFAULT_ROUNDS;
	if (tn->rounds > MAX_ROUNDS)
		return clq__invalid(ctx, "clq_tune",
				    "options->rounds is above 1000");
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	tn->threads = o && o->build_threads ? o->build_threads
		      : cpus > 0	    ? (unsigned)cpus
					    : 1;
	if (tn->threads > MAX_BUILD_THREADS)
		tn->threads = MAX_BUILD_THREADS;
	return CLQ_SUCCESS;
}

static void
tuner_free(struct tuner *tn)
{
	for (size_t i = 0; tn->cands && i < tn->n_cands; i++)
		clq_params_free(tn->cands[i].params);
	for (size_t i = 0; tn->builds && i < tn->n_builds; i++) {
		free(tn->builds[i].options);
		clq_program_unref(tn->builds[i].program);
	}
	free(tn->cands);
	free(tn->builds);
}

int
clq_tune(struct clq_context *ctx, const struct clq_tunable *t,
	 const struct clq_params *problem,
	 const struct clq_tune_options *options, struct clq_params **best_out,
	 double *seconds_out)
{
	static const char fn[] = "clq_tune";
	struct tuner tn = {
		.ctx = ctx, .t = t, .problem = problem, .opts = options};
	struct clq_tune_trial trial = {.problem = problem};
	struct clq_params *best = NULL;
	char *text = NULL, hash[17], *ptext = NULL;
	double best_s = INFINITY, start = now_seconds();
	size_t done = 0, skipped = 0, grid;
	int rc, prepared = 0;

	if (!best_out || !seconds_out)
		return clq__invalid(ctx, fn, "best_out or seconds_out is NULL");
	*best_out = NULL;
	if (!ctx || !t || !problem)
		return clq__invalid(ctx, fn, "ctx, tunable or problem is NULL");
	if (!t->measure) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: tunable %s has no measure function (expected "
			 "clq_tunable_set_measure())",
			 fn, t->name);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	if ((rc = check_options(ctx, options, &tn)) < 0)
		return rc;
	grid = clq_tunable_get_grid_size(t);
	if (grid == SIZE_MAX || grid > SIZE_MAX / sizeof(struct build)) {
		clq__log(ctx, CLQ_LOG_ERROR, "%s: the grid of %s is too large",
			 fn, t->name);
		return CLQ_ERROR_OVERFLOW;
	}
	if ((rc = clq__tunable_expand(t, ctx, fn, &text, hash)) < 0)
		return rc;
	tn.text = text;
	if (pthread_mutex_init(&tn.lock, NULL) != 0) {
		free(text);
		return CL_OUT_OF_HOST_MEMORY;
	}
	if ((rc = enumerate(&tn, grid)) < 0)
		goto out;
	if (t->prepare) {
		rc = t->prepare(ctx, problem, t->measure_data, &trial.state);
		if (rc < 0)
			goto out;
		prepared = 1;
	}
	if ((rc = clq_queue_create_tuning(ctx, &trial.queue)) < 0)
		goto out;
	/*
	 * Builds in batches of one per thread, each batch measured before the
	 * next is built, so at most a batch of programs is alive at once.
	 */
	for (size_t first = 0; first < tn.n_builds;) {
		size_t end = first + tn.threads;

		if (end > tn.n_builds)
			end = tn.n_builds;
		build_batch(&tn, first, end);
		for (size_t c = 0; c < tn.n_cands; c++) {
			struct candidate *cand = &tn.cands[c];
			struct build *b = &tn.builds[cand->build];
			double s = -1, left;

			if (cand->build < first || cand->build >= end)
				continue;
			if (b->rc < 0) {
				skip_log(&tn, cand->params, "the build failed",
					 b->rc);
				skipped++;
			} else {
				trial.program = b->program;
				trial.params = cand->params;
				rc = measure_candidate(&tn, &trial, &s);
				trial_clear(&trial);
				if (rc < 0) {
					skip_log(&tn, cand->params,
						 "it failed to run", rc);
					/* Drains what the failure left. */
					clq_queue_finish(trial.queue);
					skipped++;
					s = -1;
				} else if (s < best_s) {
					best_s = s;
					best = cand->params;
				}
			}
			done++;
			left = (now_seconds() - start) / (double)done *
			       (double)(tn.n_cands - done);
			if (options && options->progress)
				options->progress(done, tn.n_cands,
						  cand->params, s, left,
						  options->progress_data);
		}
		for (size_t b = first; b < end; b++) {
			clq_program_unref(tn.builds[b].program);
			tn.builds[b].program = NULL;
		}
		first = end;
	}
	if (!best) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: no candidate of %s ran: %zu of %zu on the grid "
			 "passed the filter, %zu failed (see the warnings)",
			 fn, t->name, tn.n_cands, grid, skipped);
		rc = CLQ_ERROR_NOT_FOUND;
		goto out;
	}
	/* `best` belongs to the candidate list; the caller gets a copy. */
	if ((rc = clq_params_format(best, &ptext)) < 0 ||
	    (rc = clq_params_parse(ptext, best_out)) < 0)
		goto out;
	*seconds_out = best_s;
	clq__log(ctx, CLQ_LOG_INFO,
		 "tuned %s v%d: %s at %.3g s per run; %zu candidates, %zu "
		 "skipped, in %.3g s",
		 t->name, t->version, ptext, best_s, tn.n_cands, skipped,
		 now_seconds() - start);
	rc = CLQ_SUCCESS;
out:
	if (trial.queue)
		clq_queue_unref(trial.queue);
	if (prepared && t->release)
		t->release(trial.state, t->measure_data);
	tuner_free(&tn);
	pthread_mutex_destroy(&tn.lock);
	free(ptext);
	free(text);
	return rc;
}
