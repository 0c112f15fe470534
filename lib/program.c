/* SPDX-License-Identifier: BSD-3-Clause */
#define _XOPEN_SOURCE 700 /* realpath() */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "private.h"

#ifndef CLQ_KERNEL_DIR
#error "the build defines CLQ_KERNEL_DIR, the installed kernel directory"
#endif

/* Deeper include nesting than this is refused (a runaway include chain). */
#define MAX_INCLUDE_DEPTH 32

/* The directories a search walks, after a file's own one (see program.h). */
struct search {
	struct clq_context *ctx;
	char **dirs;
	size_t n_dirs;
	size_t cwd; /* the index of the current directory's entry, "." */
};

/* A source file found along the path; every field malloc'ed. */
struct source {
	char *text;
	char *name; /* the path as spelled, or a built-in file's name */
	char *dir;  /* the directory it came from; NULL for built-ins */
	/* What makes two spellings one file: the real path, or a built-in
	 * file's name (never absolute, so never a real path); NULL for
	 * source text, which no include can name. */
	char *id;
};

static void
source_free(struct source *s)
{
	free(s->text);
	free(s->name);
	free(s->dir);
	free(s->id);
	/* Freed twice is harmless: find_source()'s failures free what they
	 * filled, and clq__program_expand() frees the source again. */
	memset(s, 0, sizeof(*s));
}

static void
search_free(struct search *s)
{
	for (size_t i = 0; i < s->n_dirs; i++)
		free(s->dirs[i]);
	free(s->dirs);
}

static int
search_add(struct search *s, const char *dir, size_t len)
{
	char *copy;

	if (len == 0)
		return CLQ_SUCCESS; /* an empty CLQ_KERNEL_PATH entry */
	copy = malloc(len + 1);
	if (!copy)
		return CL_OUT_OF_HOST_MEMORY;
	memcpy(copy, dir, len);
	copy[len] = '\0';
	s->dirs[s->n_dirs++] = copy;
	return CLQ_SUCCESS;
}

/*
 * Caller dirs, then CLQ_KERNEL_PATH's entries, the current directory and
 * the installed dir (the built-in files come after them all).
 */
static int
search_init(struct search *s, struct clq_context *ctx, const char *function,
	    const char *const *dirs, size_t n_dirs)
{
	const char *env = getenv("CLQ_KERNEL_PATH");
	size_t n_env = 0, max;
	int rc = CLQ_SUCCESS;

	s->ctx = ctx;
	s->dirs = NULL;
	s->n_dirs = 0;
	if (n_dirs && !dirs)
		return clq__invalid(ctx, function,
				    "dirs is NULL but n_dirs > 0");
	for (size_t i = 0; i < n_dirs; i++) {
		if (!dirs[i])
			return clq__invalid(ctx, function,
					    "an entry of dirs is NULL");
	}
	for (const char *c = env; c && *c; c++)
		n_env += *c == ':';
	max = n_dirs + (env ? n_env + 1 : 0) + 2;
	s->dirs = calloc(max, sizeof(*s->dirs));
	if (!s->dirs)
		return CL_OUT_OF_HOST_MEMORY;
	for (size_t i = 0; i < n_dirs && rc == CLQ_SUCCESS; i++)
		rc = search_add(s, dirs[i], strlen(dirs[i]));
	for (const char *c = env; c && rc == CLQ_SUCCESS;) {
		const char *end = strchr(c, ':');
		size_t len = end ? (size_t)(end - c) : strlen(c);

		rc = search_add(s, c, len);
		c = end ? end + 1 : NULL;
	}
	s->cwd = s->n_dirs;
	if (rc == CLQ_SUCCESS)
		rc = search_add(s, ".", 1);
	if (rc == CLQ_SUCCESS)
		rc = search_add(s, CLQ_KERNEL_DIR, strlen(CLQ_KERNEL_DIR));
	if (rc < 0)
		search_free(s);
	return rc;
}

/* Opens a regular file for reading; anything else is CLQ_ERROR_IO. */
static FILE *
open_regular(struct clq_context *ctx, const char *path, int *rc)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	FILE *f;

	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			*rc = CLQ_ERROR_NOT_FOUND;
			return NULL;
		}
		clq__log(ctx, CLQ_LOG_ERROR, "cannot open '%s': %s", path,
			 strerror(errno));
		*rc = CLQ_ERROR_IO;
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "'%s' is not a regular file: not OpenCL C source",
			 path);
		close(fd);
		*rc = CLQ_ERROR_IO;
		return NULL;
	}
	if (!(f = fdopen(fd, "rb"))) {
		close(fd);
		*rc = CL_OUT_OF_HOST_MEMORY;
	}
	return f;
}

/*
 * Reads a whole regular file. Returns CLQ_SUCCESS, CLQ_ERROR_NOT_FOUND when
 * there is no such file, CLQ_ERROR_IO (logged) when it cannot be read or
 * is not a regular file (a directory, a device such as /dev/zero, a FIFO),
 * or CL_OUT_OF_HOST_MEMORY.
 */
static int
read_file(struct clq_context *ctx, const char *path, char **text_out)
{
	char *text = NULL, *grown;
	size_t len = 0, cap = 0, n;
	int rc = CLQ_SUCCESS;
	FILE *f = open_regular(ctx, path, &rc);

	*text_out = NULL;
	if (!f)
		return rc;
	do {
		if (cap - len < 4096) {
			cap = cap ? 2 * cap : 8192;
			grown = realloc(text, cap + 1);
			if (!grown) {
				rc = CL_OUT_OF_HOST_MEMORY;
				break;
			}
			text = grown;
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (rc == CLQ_SUCCESS && ferror(f)) {
		clq__log(ctx, CLQ_LOG_ERROR, "cannot read '%s'", path);
		rc = CLQ_ERROR_IO;
	} else if (rc == CLQ_SUCCESS && memchr(text, '\0', len)) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "'%s' contains a NUL byte: not OpenCL C source", path);
		rc = CLQ_ERROR_IO;
	}
	fclose(f);
	if (rc < 0) {
		free(text);
		return rc;
	}
	text[len] = '\0';
	*text_out = text;
	return CLQ_SUCCESS;
}

static char *
join_path(const char *dir, const char *name)
{
	size_t len = strlen(dir) + strlen(name) + 2;
	char *path = malloc(len);

	if (path)
		snprintf(path, len, "%s/%s", dir, name);
	return path;
}

/* The directory part of a path ("." when it has none). */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 1;
	char *dir = malloc(len + 1);

	if (!dir)
		return NULL;
	if (!slash)
		memcpy(dir, ".", 1);
	else if (len == 0)
		memcpy(dir, "/", len = 1);
	else
		memcpy(dir, path, len);
	dir[len] = '\0';
	return dir;
}

/*
 * The real path of a file just read, which identifies it however it was
 * spelled ("./a.cl", "sub/../a.cl", a symbolic link). Should realpath()
 * fail for another reason than memory, the spelling stands in for it.
 */
static char *
real_path(const char *path)
{
	char *real = realpath(path, NULL);

	if (!real && errno != ENOMEM)
		real = strdup(path);
	return real;
}

/* Tries one path; CLQ_ERROR_NOT_FOUND when nothing is there. */
static int
try_path(struct clq_context *ctx, char *path, struct source *out)
{
	int rc;

	if (!path)
		return CL_OUT_OF_HOST_MEMORY;
	rc = read_file(ctx, path, &out->text);
	if (rc == CLQ_SUCCESS) {
		out->name = path;
		out->dir = dir_of(path);
		out->id = real_path(path);
		if (!out->dir || !out->id) {
			source_free(out);
			return CL_OUT_OF_HOST_MEMORY;
		}
		return CLQ_SUCCESS;
	}
	free(path);
	return rc;
}

static int
try_builtin(const char *name, struct source *out)
{
	for (size_t i = 0; i < clq__n_embedded_sources; i++) {
		const struct clq__embedded_source *e =
			&clq__embedded_sources[i];

		if (strcmp(e->name, name) != 0)
			continue;
		out->text = malloc(e->length + 1);
		out->name = strdup(e->name);
		out->id = strdup(e->name);
		if (!out->text || !out->name || !out->id) {
			source_free(out);
			return CL_OUT_OF_HOST_MEMORY;
		}
		memcpy(out->text, e->text, e->length + 1);
		return CLQ_SUCCESS;
	}
	return CLQ_ERROR_NOT_FOUND;
}

/*
 * Whether `name` is a path of its own rather than a name to look up: an
 * absolute one, or for a program's file (not an include) any with a '/',
 * relative to the current directory (see program.h).
 */
static int
is_path(const char *name, int include)
{
	return name[0] == '/' || (!include && strchr(name, '/'));
}

/*
 * Finds `name`: as is when is_path(); else in `local_dir` (when not NULL),
 * the search directories and the built-in files, in that order. Returns
 * CLQ_SUCCESS, CLQ_ERROR_NOT_FOUND (not logged), CLQ_ERROR_IO or
 * CL_OUT_OF_HOST_MEMORY.
 */
static int
find_source(const struct search *s, const char *name, const char *local_dir,
	    int include, struct source *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (is_path(name, include))
		return try_path(s->ctx, strdup(name), out);
	if (local_dir && (rc = try_path(s->ctx, join_path(local_dir, name),
					out)) != CLQ_ERROR_NOT_FOUND)
		return rc;
	for (size_t i = 0; i < s->n_dirs; i++) {
		rc = try_path(s->ctx, join_path(s->dirs[i], name), out);
		if (rc != CLQ_ERROR_NOT_FOUND)
			return rc;
	}
	return try_builtin(name, out);
}

/* Says where a program's file was looked for. */
static void
log_not_found(const struct search *s, const char *function, const char *name)
{
	struct clq__strbuf b = {0};
	char cwd[4096];

	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "unknown: %s", strerror(errno));
	if (name[0] == '/') {
		clq__log(s->ctx, CLQ_LOG_ERROR, "%s: '%s' not found", function,
			 name);
		return;
	}
	if (is_path(name, 0)) {
		clq__log(s->ctx, CLQ_LOG_ERROR,
			 "%s: '%s' not found; a name with a '/' is a path, "
			 "here relative to the current directory (%s)",
			 function, name, cwd);
		return;
	}
	for (size_t i = 0; i < s->n_dirs; i++) {
		if (i == s->cwd)
			clq__strbuf_appendf(&b, "the current directory (%s), ",
					    cwd);
		else
			clq__strbuf_appendf(&b, "%s, ", s->dirs[i]);
	}
	clq__log(s->ctx, CLQ_LOG_ERROR,
		 "%s: '%s' not found; searched %sand the built-in kernels",
		 function, name, b.failed ? "" : b.s);
	clq__strbuf_free(&b);
}

/* Skips blanks (spaces and tabs) from `p` up to `end`. */
static const char *
skip_blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/*
 * If `line` (ending at `end`) is a directive `#<word>`, returns where the
 * rest of it starts, after blanks; else NULL.
 */
static const char *
directive(const char *line, const char *end, const char *word)
{
	const char *p = skip_blanks(line, end);
	size_t n = strlen(word);

	if (p == end || *p++ != '#')
		return NULL;
	p = skip_blanks(p, end);
	if ((size_t)(end - p) < n || memcmp(p, word, n) != 0)
		return NULL;
	p += n;
	if (p < end && (isalnum((unsigned char)*p) || *p == '_'))
		return NULL; /* a longer word, such as #included */
	return skip_blanks(p, end);
}

/*
 * If `line` (of `len` bytes) is an #include directive, sets the name it
 * names (`*start`, `*name_len`) and whether it is quoted.
 */
static int
parse_include(const char *line, size_t len, const char **start,
	      size_t *name_len, int *quoted)
{
	const char *end = line + len, *close;
	const char *p = directive(line, end, "include");
	char closer;

	if (!p || p == end || (*p != '"' && *p != '<'))
		return 0;
	closer = *p == '"' ? '"' : '>';
	*quoted = *p == '"';
	p++;
	close = memchr(p, closer, (size_t)(end - p));
	if (!close || close == p)
		return 0;
	*start = p;
	*name_len = (size_t)(close - p);
	return 1;
}

/* Whether `line` (of `len` bytes) is `#pragma once`. */
static int
is_pragma_once(const char *line, size_t len)
{
	const char *end = line + len, *p = directive(line, end, "pragma");

	if (!p || (size_t)(end - p) < 4 || memcmp(p, "once", 4) != 0)
		return 0;
	p = skip_blanks(p + 4, end);
	return p == end || *p == '/' || *p == '\r';
}

/* Appends a #line directive naming `name`, escaped for a string literal. */
static void
append_line_directive(struct clq__strbuf *b, size_t line, const char *name)
{
	clq__strbuf_appendf(b, "#line %zu \"", line);
	for (const char *c = name; *c; c++)
		clq__strbuf_appendf(b, "%s%c",
				    *c == '"' || *c == '\\' ? "\\" : "", *c);
	clq__strbuf_appendf(b, "\"\n");
}

/*
 * Why clq pastes includes in itself rather than passing `-I` directories
 * to clBuildProgram:
 *
 * - The library's own kernels are also strings built into it
 *   (cl/embed.py), with no directory a `-I` could name, and
 *   `#include <fill.cl>` must find them before installation too.
 * - One search path with one meaning on every driver (program.h): the
 *   caller's dirs, CLQ_KERNEL_PATH, the current directory, the installed
 *   and built-in kernels, files told apart by their real path. OpenCL
 *   leaves `-I` to each driver: what a relative directory is relative
 *   to, how a directory with a space is quoted in the option string,
 *   whether its compiler (Apple's runs in a sandboxed service) may read
 *   the directory at all.
 * - The driver sees the whole program as one text, so its cache of built
 *   programs notices an edited include: NVIDIA's keys on the source text
 *   and options, and goes on using a stale binary when only a header
 *   pulled in through `-I` changed (GROMACS and others turn that cache
 *   off for this). The text can also be hashed (DESIGN.md keys tuning
 *   results on it) and fuzzed (tests/fuzz/fuzz-include.c).
 *
 * The price, documented in program.h: `#line` directives name the files
 * in build logs only where the compiler honours them (PoCL, not NVIDIA),
 * and conditionals are not evaluated, so an include under `#if 0` is
 * pasted too.
 *
 * Pastes a source's includes in, recursively (see program.h). Files are
 * told apart by their identity (struct source's `id`), never by how an
 * include spells them: `stack` holds those being included, `once` (all
 * malloc'ed) those that said `#pragma once` and were pasted already.
 */
struct expansion {
	const struct search *search;
	struct clq__strbuf out;
	const char *stack[MAX_INCLUDE_DEPTH];
	size_t depth;
	char **once;
	size_t n_once, cap_once;
	int failed; /* out of memory growing `once` */
};

static int expand(struct expansion *x, const struct source *src);

static int
on_list(const char *const *list, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++) {
		if (list[i] && strcmp(list[i], id) == 0)
			return 1;
	}
	return 0;
}

/* Whether a file is on the stack (a cycle) or was pasted once already. */
static int
already_included(const struct expansion *x, const char *id)
{
	return on_list(x->stack, x->depth, id) ||
	       on_list((const char *const *)x->once, x->n_once, id);
}

/* Records that a file said `#pragma once`. */
static void
add_once(struct expansion *x, const char *id)
{
	char **grown;

	if (!id || on_list((const char *const *)x->once, x->n_once, id))
		return;
	if (x->n_once == x->cap_once) {
		x->cap_once = x->cap_once ? 2 * x->cap_once : 8;
		grown = realloc(x->once, x->cap_once * sizeof(*grown));
		if (!grown) {
			x->failed = 1;
			return;
		}
		x->once = grown;
	}
	if (!(x->once[x->n_once] = strdup(id)))
		x->failed = 1;
	else
		x->n_once++;
}

static void
expansion_free(struct expansion *x)
{
	for (size_t i = 0; i < x->n_once; i++)
		free(x->once[i]);
	free(x->once);
	clq__strbuf_free(&x->out);
}

/* Expands one #include line, or copies it when the file is nowhere. */
static int
expand_include(struct expansion *x, const struct source *src, size_t line_no,
	       const char *line, size_t len, const char *name, size_t name_len,
	       int quoted)
{
	struct source inc;
	char *wanted = malloc(name_len + 1);
	int rc;

	if (!wanted)
		return CL_OUT_OF_HOST_MEMORY;
	memcpy(wanted, name, name_len);
	wanted[name_len] = '\0';
	rc = find_source(x->search, wanted, quoted ? src->dir : NULL, 1, &inc);
	free(wanted);
	if (rc == CLQ_ERROR_NOT_FOUND) {
		clq__strbuf_appendf(&x->out, "%.*s\n", (int)len, line);
		return CLQ_SUCCESS;
	}
	if (rc < 0)
		return rc;
	if (already_included(x, inc.id)) {
		clq__strbuf_appendf(&x->out, "/* %s: already included */\n",
				    inc.name);
	} else if (x->depth == MAX_INCLUDE_DEPTH) {
		clq__log(x->search->ctx, CLQ_LOG_ERROR,
			 "%s, line %zu: includes nest deeper than %d",
			 src->name, line_no, MAX_INCLUDE_DEPTH);
		rc = CLQ_ERROR_OVERFLOW;
	} else {
		append_line_directive(&x->out, 1, inc.name);
		rc = expand(x, &inc);
		append_line_directive(&x->out, line_no + 1, src->name);
	}
	source_free(&inc);
	return rc;
}

static int
expand(struct expansion *x, const struct source *src)
{
	const char *line = src->text;
	size_t line_no = 1;
	int rc = CLQ_SUCCESS;

	x->stack[x->depth++] = src->id;
	while (*line && rc == CLQ_SUCCESS) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		const char *name;
		size_t name_len;
		int quoted;

		if (parse_include(line, len, &name, &name_len, &quoted)) {
			rc = expand_include(x, src, line_no, line, len, name,
					    name_len, quoted);
		} else if (is_pragma_once(line, len)) {
			/* Honoured here: in the pasted whole it would name
			 * the program itself (and compilers warn). */
			add_once(x, src->id);
			clq__strbuf_appendf(
				&x->out, "/* #pragma once: pasted once */\n");
		} else {
			clq__strbuf_appendf(&x->out, "%.*s\n", (int)len, line);
		}
		line += len + (nl ? 1 : 0);
		line_no++;
	}
	x->depth--;
	if (rc == CLQ_SUCCESS && (x->out.failed || x->failed))
		rc = CL_OUT_OF_HOST_MEMORY;
	return rc;
}

/* The build log, trailing blanks removed; "" when it cannot be read. */
static char *
read_build_log(struct clq_program *p)
{
	cl_device_id dev = p->ctx->device->id;
	size_t size = 0;
	char *log;

	if (clGetProgramBuildInfo(p->cl, dev, CL_PROGRAM_BUILD_LOG, 0, NULL,
				  &size) != CL_SUCCESS)
		size = 0;
	log = malloc(size + 1);
	if (!log)
		return NULL;
	if (size == 0 || clGetProgramBuildInfo(p->cl, dev, CL_PROGRAM_BUILD_LOG,
					       size, log, NULL) != CL_SUCCESS)
		size = 0;
	log[size] = '\0';
	while (size > 0 && strchr(" \t\r\n", log[size - 1]) && log[size - 1])
		log[--size] = '\0';
	return log;
}

static void
program_free(struct clq_program *p)
{
	if (p->cl)
		clReleaseProgram(p->cl);
	free(p->name);
	free(p->build_log);
	clq_context_unref(p->ctx);
	free(p);
}

/*
 * Whether to ask for argument info (-cl-kernel-arg-info), which kernels
 * check their arguments against (kernel.c): an OpenCL 1.2 option, so not
 * on older devices, and not when CLQ_KERNEL_ARG_INFO is 0.
 */
static int
want_arg_info(const struct clq_device *dev)
{
	const char *env = getenv("CLQ_KERNEL_ARG_INFO");

	if (env && strcmp(env, "0") == 0)
		return 0;
	return dev->opencl_version_number >= 120;
}

/* The options clBuildProgram gets; see program.h. */
static char *
build_options(const struct clq_device *dev, int arg_info, const char *options)
{
	struct clq__strbuf b = {0};

	clq__strbuf_appendf(&b, "-DCLQ_SIMD_GROUP_SIZE=%zu%s%s%s",
			    dev->simd_group_size,
			    arg_info ? " -cl-kernel-arg-info" : "",
			    options ? " " : "", options ? options : "");
	if (b.failed)
		clq__strbuf_free(&b);
	return b.s;
}

/* What a program is made from. */
enum program_kind { FROM_SOURCE, FROM_BINARY, FROM_IL };

struct program_input {
	enum program_kind kind;
	const char *source; /* FROM_SOURCE: expanded text */
	const void *bytes;  /* FROM_BINARY, FROM_IL */
	size_t size;
	cl_program(CL_API_CALL *create_il)(cl_context, const void *, size_t,
					   cl_int *); /* FROM_IL */
};

/* Why `size` bytes are no binary for ctx's device: logged, and
 * CL_INVALID_BINARY. */
static int
refuse_binary(struct clq_context *ctx, size_t size, const char *why)
{
	clq__log(ctx, CLQ_LOG_ERROR,
		 "clq_program_create_from_binary: the %zu bytes given are not "
		 "a program binary for device '%s' (driver %s): %s; a binary "
		 "comes from clq_program_get_binary() on the same device and "
		 "driver",
		 size, ctx->device->name, ctx->device->driver_version, why);
	return CL_INVALID_BINARY;
}

/* The driver refused the payload: `call` gave `err` (and `status`, the
 * binary status, where it gave one). */
static void
log_not_binary(struct clq_context *ctx, size_t size, const char *call,
	       cl_int err, cl_int status)
{
	char why[160];

	snprintf(why, sizeof(why), "%s: %s, binary status %s", call,
		 clq_error_name(err), clq_error_name(status));
	refuse_binary(ctx, size, why);
}

/* Makes the OpenCL program of `in`; an OpenCL code, logged. */
static cl_int
create_cl(struct clq_program *p, const struct program_input *in)
{
	struct clq_context *ctx = p->ctx;
	const unsigned char *bytes = in->bytes;
	const char *source = in->source;
	cl_int err = CL_SUCCESS, status = CL_SUCCESS;

	switch (in->kind) {
	case FROM_SOURCE:
		p->cl = clCreateProgramWithSource(ctx->cl, 1, &source, NULL,
						  &err);
		return clq__check(ctx, err, "clCreateProgramWithSource");
	case FROM_BINARY:
		p->cl = clCreateProgramWithBinary(ctx->cl, 1, &ctx->device->id,
						  &in->size, &bytes, &status,
						  &err);
		if (err == CL_INVALID_BINARY || status == CL_INVALID_BINARY) {
			log_not_binary(ctx, in->size,
				       "clCreateProgramWithBinary", err,
				       status);
			if (p->cl) {
				clReleaseProgram(p->cl);
				p->cl = NULL;
			}
			return CL_INVALID_BINARY;
		}
		return clq__check(ctx, err, "clCreateProgramWithBinary");
	default:
		p->cl = in->create_il(ctx->cl, in->bytes, in->size, &err);
		return clq__check(ctx, err, "clCreateProgramWithIL");
	}
}

/*
 * Makes and builds a program from `in`; see
 * clq_program_create_from_source(). Source gets clq's own options
 * (program.h); binaries and IL only the caller's, their kernels' argument
 * info being whatever they carry.
 */
static int
build(struct clq_context *ctx, const char *name, const struct program_input *in,
      const char *options, struct clq_program **program_out)
{
	struct clq_program *p = calloc(1, sizeof(*p));
	const struct clq_device *dev = ctx->device;
	int added = 0;
	char *opts = NULL;
	cl_int err = CL_SUCCESS;

	if (!p)
		return CL_OUT_OF_HOST_MEMORY;
	clq__ref_init(&p->refs);
	p->ctx = clq_context_ref(ctx);
	p->name = strdup(name);
	if (in->kind == FROM_SOURCE) {
		p->arg_info = want_arg_info(dev);
		/* Not twice, when the caller asks for it too. */
		added = p->arg_info &&
			!(options && strstr(options, "-cl-kernel-arg-info"));
		opts = build_options(dev, added, options);
	} else {
		/* Read if the program carries it; clq_kernel_create() falls
		 * back to sizes only if not. */
		p->arg_info = 1;
		opts = strdup(options ? options : "");
	}
	if (!p->name || !opts) {
		err = CL_OUT_OF_HOST_MEMORY;
		goto out;
	}
	if ((err = create_cl(p, in)) != CL_SUCCESS)
		goto out;
	err = clBuildProgram(p->cl, 1, &dev->id, opts, NULL, NULL);
	/*
	 * A driver that refuses the option still builds without it (kernels
	 * then check argument sizes only). NVIDIA's (580) refuses it late:
	 * with -cl-kernel-arg-info, a program with a kernel that takes no
	 * arguments fails in ptxas (CL_BUILD_PROGRAM_FAILURE). So a failed
	 * build is tried once more without it; should the source or the
	 * caller's options be at fault, it fails again with its own log.
	 */
	if ((err == CL_INVALID_BUILD_OPTIONS ||
	     err == CL_BUILD_PROGRAM_FAILURE) &&
	    added) {
		free(opts);
		if (!(opts = build_options(dev, 0, options))) {
			err = CL_OUT_OF_HOST_MEMORY;
			goto out;
		}
		err = clBuildProgram(p->cl, 1, &dev->id, opts, NULL, NULL);
		p->arg_info = 0;
		if (err == CL_SUCCESS)
			clq__log(ctx, CLQ_LOG_INFO,
				 "building %s: the driver refuses "
				 "-cl-kernel-arg-info for it; built without "
				 "it, so its kernels' argument types are not "
				 "checked",
				 name);
	}
	p->build_log = read_build_log(p);
	if (!p->build_log) {
		err = CL_OUT_OF_HOST_MEMORY;
		goto out;
	}
	if (err == CL_SUCCESS || err == CL_BUILD_PROGRAM_FAILURE) {
		/* Handed over even when the build failed: its log is data. */
		p->built = err == CL_SUCCESS;
		if (!p->built)
			clq__log(ctx, CLQ_LOG_ERROR, "building %s failed:\n%s",
				 name, p->build_log);
		else if (*p->build_log)
			clq__log(ctx, CLQ_LOG_INFO, "build log of %s:\n%s",
				 name, p->build_log);
		*program_out = p;
		p = NULL;
	} else if (in->kind == FROM_BINARY && err == CL_INVALID_BINARY) {
		/* NVIDIA's (580) takes any bytes at creation and refuses
		 * them here */
		log_not_binary(ctx, in->size, "clBuildProgram", err,
			       CL_SUCCESS);
	} else {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "building %s with options '%s': %s (%s)", name, opts,
			 clq_error_name(err), clq_strerror(err));
	}
out:
	free(opts);
	if (p)
		program_free(p);
	return err;
}

int
clq__program_expand(struct clq_context *ctx, const char *function,
		    const char *name, const char *source,
		    const char *const *dirs, size_t n_dirs, char **text_out,
		    char **name_out)
{
	struct source src = {.text = (char *)source,
			     .name = (char *)"<source>"};
	struct search s;
	struct expansion x = {.search = &s};
	int rc;

	*text_out = NULL;
	*name_out = NULL;
	if ((rc = search_init(&s, ctx, function, dirs, n_dirs)) < 0)
		return rc;
	if (name) {
		rc = find_source(&s, name, NULL, 0, &src);
		if (rc == CLQ_ERROR_NOT_FOUND)
			log_not_found(&s, function, name);
		else if (rc == CLQ_SUCCESS)
			append_line_directive(&x.out, 1, src.name);
	}
	if (rc == CLQ_SUCCESS)
		rc = expand(&x, &src);
	if (rc == CLQ_SUCCESS) {
		*text_out = x.out.s ? x.out.s : strdup("");
		x.out.s = NULL;
		*name_out = strdup(src.name);
		if (!*text_out || !*name_out) {
			free(*text_out);
			free(*name_out);
			*text_out = *name_out = NULL;
			rc = CL_OUT_OF_HOST_MEMORY;
		}
	}
	expansion_free(&x);
	if (name)
		source_free(&src);
	search_free(&s);
	return rc;
}

/* Expands, then builds; see clq_program_create_from_file(). */
static int
expand_and_build(struct clq_context *ctx, const char *function,
		 const char *name, const char *source, const char *const *dirs,
		 size_t n_dirs, const char *options,
		 struct clq_program **program_out)
{
	char *text, *built_name;
	int rc = clq__program_expand(ctx, function, name, source, dirs, n_dirs,
				     &text, &built_name);

	if (rc == CLQ_SUCCESS) {
		struct program_input in = {.kind = FROM_SOURCE, .source = text};

		rc = build(ctx, built_name, &in, options, program_out);
	}
	free(text);
	free(built_name);
	return rc;
}

int
clq_program_create_from_source(struct clq_context *ctx, const char *source,
			       const char *options,
			       struct clq_program **program_out)
{
	static const char fn[] = "clq_program_create_from_source";

	if (!program_out)
		return clq__invalid(ctx, fn, "program_out is NULL");
	*program_out = NULL;
	if (!ctx || !source)
		return clq__invalid(ctx, fn, "ctx or source is NULL");
	return expand_and_build(ctx, fn, NULL, source, NULL, 0, options,
				program_out);
}

int
clq_program_create_from_file(struct clq_context *ctx, const char *name,
			     const char *const *dirs, size_t n_dirs,
			     const char *options,
			     struct clq_program **program_out)
{
	static const char fn[] = "clq_program_create_from_file";

	if (!program_out)
		return clq__invalid(ctx, fn, "program_out is NULL");
	*program_out = NULL;
	if (!ctx || !name || !*name)
		return clq__invalid(ctx, fn, "ctx or name is NULL or empty");
	return expand_and_build(ctx, fn, name, NULL, dirs, n_dirs, options,
				program_out);
}

/*
 * clq's envelope around a driver's program binary, so that bytes that are
 * not one never reach the driver: PoCL 3.1 crashes on a truncated binary
 * of its own (a segfault, or an assertion for a tiny one) where OpenCL
 * 1.2 section 5.6.1 promises CL_INVALID_BINARY. The envelope is checked
 * whole before the driver sees the payload:
 *
 *   "clqbin1\0"         8 bytes
 *   payload size        uint64_t, the host's byte order
 *   payload checksum    uint64_t, 64-bit FNV-1a
 *   device name length  uint32_t, then driver version length, uint32_t
 *   device name, driver version (no NUL), then the driver's binary
 */
static const char binary_magic[8] = "clqbin1";
enum { ENVELOPE_FIXED = 8 + 8 + 8 + 4 + 4 };

static size_t
envelope_size(const struct clq_device *dev)
{
	return ENVELOPE_FIXED + strlen(dev->name) + strlen(dev->driver_version);
}

/* The driver's binary of the program for clq's device: its size in
 * `*size` (`out` NULL), or copied to `out` (of `*size` bytes). A program
 * made from source in a context of several devices has a binary per
 * device (OpenCL 1.2 section 5.6.7): the entry of clq's is taken. */
static int
driver_binary(const struct clq_program *p, unsigned char *out, size_t *size)
{
	struct clq_context *ctx = p->ctx;
	cl_uint n = 0, at;
	cl_device_id *devs = NULL;
	size_t *sizes = NULL;
	unsigned char **ptrs = NULL;
	int rc = clq__check(ctx,
			    clGetProgramInfo(p->cl, CL_PROGRAM_NUM_DEVICES,
					     sizeof(n), &n, NULL),
			    "clGetProgramInfo(CL_PROGRAM_NUM_DEVICES)");

	if (rc < 0)
		return rc;
	devs = calloc(n ? n : 1, sizeof(*devs));
	sizes = calloc(n ? n : 1, sizeof(*sizes));
	ptrs = calloc(n ? n : 1, sizeof(*ptrs));
	if (!devs || !sizes || !ptrs) {
		rc = CL_OUT_OF_HOST_MEMORY;
		goto out;
	}
	if ((rc = clq__check(ctx,
			     clGetProgramInfo(p->cl, CL_PROGRAM_DEVICES,
					      n * sizeof(*devs), devs, NULL),
			     "clGetProgramInfo(CL_PROGRAM_DEVICES)")) < 0 ||
	    (rc = clq__check(ctx,
			     clGetProgramInfo(p->cl, CL_PROGRAM_BINARY_SIZES,
					      n * sizeof(*sizes), sizes, NULL),
			     "clGetProgramInfo(CL_PROGRAM_BINARY_SIZES)")) < 0)
		goto out;
	for (at = 0; at < n && devs[at] != ctx->device->id; at++)
		;
	if (at == n) {
		*size = 0;
		goto out;
	}
	if (!out) {
		*size = sizes[at];
		goto out;
	}
	if (sizes[at] != *size) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "clq_program_get_binary: the binary's size changed "
			 "from %zu to %zu bytes",
			 *size, sizes[at]);
		rc = CLQ_ERROR_OUT_OF_RANGE;
		goto out;
	}
	ptrs[at] = out; /* NULL entries: no copy (5.6.7) */
	rc = clq__check(ctx,
			clGetProgramInfo(p->cl, CL_PROGRAM_BINARIES,
					 n * sizeof(*ptrs), ptrs, NULL),
			"clGetProgramInfo(CL_PROGRAM_BINARIES)");
out:
	free(devs);
	free(sizes);
	free(ptrs);
	return rc;
}

static void
write_envelope(const struct clq_device *dev, unsigned char *to,
	       const unsigned char *payload, size_t n)
{
	uint64_t size = n, sum = clq__fnv1a(CLQ__FNV1A_BASIS, payload, n);
	uint32_t dl = (uint32_t)strlen(dev->name);
	uint32_t vl = (uint32_t)strlen(dev->driver_version);

	memcpy(to, binary_magic, 8);
	memcpy(to + 8, &size, 8);
	memcpy(to + 16, &sum, 8);
	memcpy(to + 24, &dl, 4);
	memcpy(to + 28, &vl, 4);
	memcpy(to + ENVELOPE_FIXED, dev->name, dl);
	memcpy(to + ENVELOPE_FIXED + dl, dev->driver_version, vl);
}

/* Checks clq's envelope and finds the driver's binary in it. */
static int
unwrap_binary(struct clq_context *ctx, const unsigned char *bytes, size_t size,
	      const unsigned char **payload, size_t *n)
{
	const struct clq_device *dev = ctx->device;
	uint64_t psize, sum;
	uint32_t dl, vl;

	if (size < ENVELOPE_FIXED || memcmp(bytes, binary_magic, 8) != 0)
		return refuse_binary(ctx, size,
				     "they do not start with clq's header");
	memcpy(&psize, bytes + 8, 8);
	memcpy(&sum, bytes + 16, 8);
	memcpy(&dl, bytes + 24, 4);
	memcpy(&vl, bytes + 28, 4);
	if ((uint64_t)size - ENVELOPE_FIXED < (uint64_t)dl + vl ||
	    (uint64_t)size - ENVELOPE_FIXED - dl - vl != psize)
		return refuse_binary(ctx, size,
				     "truncated or extended: the header "
				     "gives other sizes");
	if (dl != strlen(dev->name) || vl != strlen(dev->driver_version) ||
	    memcmp(bytes + ENVELOPE_FIXED, dev->name, dl) != 0 ||
	    memcmp(bytes + ENVELOPE_FIXED + dl, dev->driver_version, vl) != 0)
		return refuse_binary(ctx, size,
				     "made for another device or driver");
	*payload = bytes + ENVELOPE_FIXED + dl + vl;
	*n = (size_t)psize;
	if (clq__fnv1a(CLQ__FNV1A_BASIS, *payload, *n) != sum)
		return refuse_binary(ctx, size,
				     "damaged: the checksum differs");
	return CLQ_SUCCESS;
}

int
clq_program_create_from_binary(struct clq_context *ctx, const void *binary,
			       size_t size, const char *options,
			       struct clq_program **program_out)
{
	static const char fn[] = "clq_program_create_from_binary";
	struct program_input in = {
		.kind = FROM_BINARY, .bytes = binary, .size = size};

	if (!program_out)
		return clq__invalid(ctx, fn, "program_out is NULL");
	*program_out = NULL;
	if (!ctx || !binary || !size)
		return clq__invalid(ctx, fn,
				    "ctx or binary is NULL, or size is 0");
	const unsigned char *payload = NULL;

	if (unwrap_binary(ctx, binary, size, &payload, &in.size) < 0)
		return CL_INVALID_BINARY;
	in.bytes = payload;
	return build(ctx, "<binary>", &in, options, program_out);
}

int
clq_program_get_binary(const struct clq_program *program, void *binary,
		       size_t size, size_t *size_out)
{
	static const char fn[] = "clq_program_get_binary";
	struct clq_context *ctx = program ? program->ctx : NULL;
	unsigned char *bytes = binary;
	size_t payload = 0, needed;
	int rc;

	if (!program || !size_out)
		return clq__invalid(ctx, fn, "program or size_out is NULL");
	*size_out = 0;
	if (!program->built) {
		clq__log(ctx, CLQ_LOG_ERROR, "%s: %s failed to build", fn,
			 program->name);
		return CL_INVALID_PROGRAM_EXECUTABLE;
	}
	if ((rc = driver_binary(program, NULL, &payload)) < 0)
		return rc;
	if (payload == 0) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the driver gives no binary for %s", fn,
			 program->name);
		return CLQ_ERROR_UNSUPPORTED;
	}
	needed = envelope_size(ctx->device) + payload;
	*size_out = needed;
	if (!binary)
		return CLQ_SUCCESS;
	if (size < needed) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the binary of %s takes %zu bytes; the buffer "
			 "given holds %zu",
			 fn, program->name, needed, size);
		return CLQ_ERROR_OUT_OF_RANGE;
	}
	if ((rc = driver_binary(program, bytes + needed - payload, &payload)) <
	    0) {
		*size_out = 0;
		return rc;
	}
	write_envelope(ctx->device, bytes, bytes + needed - payload, payload);
	return CLQ_SUCCESS;
}

#ifndef CL_DEVICE_IL_VERSION
#define CL_DEVICE_IL_VERSION 0x105B /* OpenCL 2.1 */
#endif

typedef cl_program(CL_API_CALL *create_il_fn)(cl_context, const void *, size_t,
					      cl_int *);

/*
 * clCreateProgramWithIL, an OpenCL 2.1 function that clq, built against
 * the 1.2 API, does not link to (so that it loads with a 1.2 loader too):
 * from the loaded OpenCL library, else the platform's cl_khr_il_program
 * entry point, which takes the same arguments.
 */
static create_il_fn
find_create_il(const struct clq_device *dev)
{
	static const char *const libraries[] = {"libOpenCL.so.1",
						"libOpenCL.so"};
	void *fn = NULL;

	for (size_t i = 0; !fn && i < 2; i++) {
		void *lib = dlopen(libraries[i], RTLD_LAZY | RTLD_NOLOAD);

		if (!lib)
			continue;
		fn = dlsym(lib, "clCreateProgramWithIL");
		dlclose(lib);
	}
	if (!fn)
		fn = clGetExtensionFunctionAddressForPlatform(
			dev->platform, "clCreateProgramWithILKHR");
	/* POSIX: a data pointer from dlsym() converts to a function's. */
	return (create_il_fn)(uintptr_t)fn;
}

/* Why `dev` cannot take IL (logged), or CLQ_SUCCESS with `*fn`. */
static int
il_support(struct clq_context *ctx, const char *function, create_il_fn *fn)
{
	const struct clq_device *dev = ctx->device;
	char versions[256] = "";
	size_t len = 0;

	if (dev->opencl_version_number < 210) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: device '%s' is %s; programs from IL need OpenCL "
			 "2.1 or later",
			 function, dev->name, dev->opencl_version);
		return CLQ_ERROR_UNSUPPORTED;
	}
	/* OpenCL 3.0 makes IL optional: an empty list says none. */
	if (clGetDeviceInfo(dev->id, CL_DEVICE_IL_VERSION, sizeof(versions) - 1,
			    versions, &len) != CL_SUCCESS ||
	    len <= 1 || !versions[0]) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: device '%s' (%s) reports no IL version "
			 "(CL_DEVICE_IL_VERSION): it takes no SPIR-V",
			 function, dev->name, dev->opencl_version);
		return CLQ_ERROR_UNSUPPORTED;
	}
	if (!(*fn = find_create_il(dev))) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: device '%s' takes IL (%s), but the OpenCL "
			 "library has no clCreateProgramWithIL (an OpenCL 1.2 "
			 "loader?)",
			 function, dev->name, versions);
		return CLQ_ERROR_UNSUPPORTED;
	}
	return CLQ_SUCCESS;
}

int
clq_program_create_from_il(struct clq_context *ctx, const void *il, size_t size,
			   const char *options,
			   struct clq_program **program_out)
{
	static const char fn[] = "clq_program_create_from_il";
	struct program_input in = {.kind = FROM_IL, .bytes = il, .size = size};
	int rc;

	if (!program_out)
		return clq__invalid(ctx, fn, "program_out is NULL");
	*program_out = NULL;
	if (!ctx || !il || !size)
		return clq__invalid(ctx, fn, "ctx or il is NULL, or size is 0");
	if ((rc = il_support(ctx, fn, &in.create_il)) < 0)
		return rc;
	return build(ctx, "<IL>", &in, options, program_out);
}

struct clq_program *
clq_program_ref(struct clq_program *program)
{
	if (program)
		clq__ref_get(&program->refs);
	return program;
}

void
clq_program_unref(struct clq_program *program)
{
	if (!program || !clq__ref_put(&program->refs))
		return;
	program_free(program);
}

const char *
clq_program_get_build_log(const struct clq_program *program)
{
	return program ? program->build_log : NULL;
}

int
clq_program_is_built(const struct clq_program *program)
{
	return program ? program->built : 0;
}

const char *
clq_program_get_name(const struct clq_program *program)
{
	return program ? program->name : NULL;
}

struct clq_context *
clq_program_get_context(const struct clq_program *program)
{
	return program ? program->ctx : NULL;
}

cl_program
clq_program_get_cl(const struct clq_program *program)
{
	return program ? program->cl : NULL;
}
