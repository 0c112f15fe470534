/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

static struct clq__log_sink global_sink = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.fn = NULL,
	.user_data = NULL,
};

void
clq__log_sink_init(struct clq__log_sink *sink)
{
	pthread_mutex_init(&sink->lock, NULL);
	sink->fn = NULL;
	sink->user_data = NULL;
}

void
clq__log_sink_destroy(struct clq__log_sink *sink)
{
	pthread_mutex_destroy(&sink->lock);
}

static void
sink_set(struct clq__log_sink *sink, clq_log_fn fn, void *user_data)
{
	pthread_mutex_lock(&sink->lock);
	sink->fn = fn;
	sink->user_data = user_data;
	pthread_mutex_unlock(&sink->lock);
}

/* Copies the sink's handler out, so it is called without the lock held. */
static clq_log_fn
sink_get(struct clq__log_sink *sink, void **user_data)
{
	clq_log_fn fn;

	pthread_mutex_lock(&sink->lock);
	fn = sink->fn;
	*user_data = sink->user_data;
	pthread_mutex_unlock(&sink->lock);
	return fn;
}

void
clq_set_log_handler(clq_log_fn fn, void *user_data)
{
	sink_set(&global_sink, fn, user_data);
}

void
clq_context_set_log_handler(struct clq_context *ctx, clq_log_fn fn,
			    void *user_data)
{
	if (ctx)
		sink_set(&ctx->log, fn, user_data);
}

/*
 * CLQ_LOG, read once, at the first message no handler takes: the highest
 * level printed to stderr, or -1 for none (unset, empty or unknown).
 */
static pthread_once_t stderr_once = PTHREAD_ONCE_INIT;
static int stderr_level = -1;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

static int
equal_ci(const char *a, const char *b)
{
	while (*a && tolower((unsigned char)*a) == tolower((unsigned char)*b)) {
		a++;
		b++;
	}
	return *a == '\0' && *b == '\0';
}

static void
read_clq_log(void)
{
	const char *value = getenv("CLQ_LOG");

	if (!value || !*value)
		return;
	for (int i = 0; i <= CLQ_LOG_DEBUG; i++) {
		if (equal_ci(value, level_names[i])) {
			stderr_level = i;
			return;
		}
	}
	if (equal_ci(value, "warn")) {
		stderr_level = CLQ_LOG_WARNING;
		return;
	}
	/* The user asked for messages: say once why none will come. */
	fprintf(stderr,
		"clq: warning: CLQ_LOG='%s' is not error, warning, info or "
		"debug; clq prints nothing\n",
		value);
}

/* Prints a message as CLQ_LOG asked: every line prefixed, in one call. */
static void
print_to_stderr(enum clq_log_level level, const char *message)
{
	const char *name = level_names[level];
	struct clq__strbuf b = {0};

	for (const char *line = message; line;) {
		const char *eol = strchr(line, '\n');
		int len = eol ? (int)(eol - line) : (int)strlen(line);

		clq__strbuf_appendf(&b, "clq: %s: %.*s\n", name, len, line);
		line = eol && eol[1] ? eol + 1 : NULL; /* no empty last line */
	}
	if (!b.failed)
		fputs(b.s, stderr);
	clq__strbuf_free(&b);
}

void
clq__log(struct clq_context *ctx, enum clq_log_level level, const char *fmt,
	 ...)
{
	void *user_data = NULL;
	clq_log_fn fn = ctx ? sink_get(&ctx->log, &user_data) : NULL;
	va_list ap;
	char *message;
	int len;

	if (!fn)
		fn = sink_get(&global_sink, &user_data);
	if (!fn) {
		pthread_once(&stderr_once, read_clq_log);
		if (stderr_level < 0 ||
		    (unsigned)level > (unsigned)stderr_level)
			return; /* nobody listens: do not even format */
	}

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	message = malloc((size_t)len + 1);
	if (!message)
		return; /* a message lost to low memory is not worth an error */
	va_start(ap, fmt);
	vsnprintf(message, (size_t)len + 1, fmt, ap);
	va_end(ap);
	if (fn)
		fn(level, message, user_data);
	else
		print_to_stderr(level, message);
	free(message);
}

int
clq__check_failed(struct clq_context *ctx, cl_int err, const char *what)
{
	clq__log(ctx, CLQ_LOG_ERROR, "%s: %s (%s)", what, clq_error_name(err),
		 clq_strerror(err));
	return err;
}

int
clq__invalid(struct clq_context *ctx, const char *function, const char *what)
{
	clq__log(ctx, CLQ_LOG_ERROR, "%s: %s", function, what);
	return CLQ_ERROR_INVALID_ARGUMENT;
}
