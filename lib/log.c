/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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
	if (!fn)
		return; /* nobody listens: do not even format */

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
	fn(level, message, user_data);
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
