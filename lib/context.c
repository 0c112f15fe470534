/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>

#include "private.h"

/* Driver notifications about the context, on a driver thread. */
static void CL_CALLBACK
context_notify(const char *errinfo, const void *private_info, size_t cb,
	       void *user_data)
{
	(void)private_info;
	(void)cb;
	clq__log(user_data, CLQ_LOG_WARNING, "OpenCL driver: %s",
		 errinfo ? errinfo : "(no message)");
}

int
clq_context_create(struct clq_device *device, struct clq_context **ctx_out)
{
	struct clq_context *ctx;
	cl_context_properties props[] = {
		CL_CONTEXT_PLATFORM,
		(cl_context_properties)clq_device_get_platform_cl(device), 0};
	cl_device_id id = clq_device_get_cl(device);
	cl_int err = CL_SUCCESS;

	if (!ctx_out)
		return clq__invalid(NULL, "clq_context_create",
				    "ctx_out is NULL");
	*ctx_out = NULL;
	if (!device)
		return clq__invalid(NULL, "clq_context_create",
				    "device is NULL");
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return CL_OUT_OF_HOST_MEMORY;
	clq__ref_init(&ctx->refs);
	clq__log_sink_init(&ctx->log);
	if ((err = clq__order_init(ctx)) < 0) {
		clq__log_sink_destroy(&ctx->log);
		free(ctx);
		return err;
	}
	clq__failsafe_init(&ctx->failsafe, device);
	/* The notify callback gets ctx before ctx->cl is set; it only logs. */
	ctx->cl = clCreateContext(props, 1, &id, context_notify, ctx, &err);
	if (err != CL_SUCCESS) {
		clq__check(NULL, err, "clCreateContext");
		clq__failsafe_destroy(&ctx->failsafe);
		clq__order_destroy(&ctx->order);
		clq__log_sink_destroy(&ctx->log);
		free(ctx);
		return err;
	}
	ctx->device = clq_device_ref(device);
	*ctx_out = ctx;
	return CLQ_SUCCESS;
}

int
clq_context_create_default(struct clq_context **ctx_out)
{
	struct clq_device *device;
	int rc;

	if (!ctx_out)
		return clq__invalid(NULL, "clq_context_create_default",
				    "ctx_out is NULL");
	*ctx_out = NULL;
	rc = clq_device_select(NULL, &device);
	if (rc < 0)
		return rc;
	rc = clq_context_create(device, ctx_out);
	clq_device_unref(device);
	return rc;
}

struct clq_context *
clq_context_ref(struct clq_context *ctx)
{
	if (ctx)
		clq__ref_get(&ctx->refs);
	return ctx;
}

void
clq__context_free(struct clq_context *ctx)
{
	clq__failsafe_destroy(&ctx->failsafe);
	clq__order_destroy(&ctx->order);
	clReleaseContext(ctx->cl);
	clq_device_unref(ctx->device);
	clq__log_sink_destroy(&ctx->log);
	free(ctx);
}

void
clq_context_unref(struct clq_context *ctx)
{
	if (ctx)
		clq__context_drop(ctx);
}

struct clq_device *
clq_context_get_device(const struct clq_context *ctx)
{
	return ctx ? ctx->device : NULL;
}

cl_context
clq_context_get_cl(const struct clq_context *ctx)
{
	return ctx ? ctx->cl : NULL;
}
