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

/*
 * A context on `device` over `cl`, an OpenCL context retained for it
 * (wrapped), or a new one when `cl` is NULL. Nothing is left on failure.
 */
static int
context_new(struct clq_device *device, cl_context cl,
	    struct clq_context **ctx_out)
{
	struct clq_context *ctx;
	cl_context_properties props[] = {
		CL_CONTEXT_PLATFORM,
		(cl_context_properties)clq_device_get_platform_cl(device), 0};
	cl_device_id id = clq_device_get_cl(device);
	cl_int err = CL_SUCCESS;

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
	if (cl) {
		/* Retained, never owned: its creator keeps its own. */
		err = clRetainContext(cl);
		ctx->cl = cl;
	} else {
		/* The notify callback gets ctx before ctx->cl is set; it
		 * only logs. */
		ctx->cl = clCreateContext(props, 1, &id, context_notify, ctx,
					  &err);
	}
	if (err != CL_SUCCESS) {
		clq__check(NULL, err,
			   cl ? "clRetainContext" : "clCreateContext");
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
clq_context_create(struct clq_device *device, struct clq_context **ctx_out)
{
	if (!ctx_out)
		return clq__invalid(NULL, "clq_context_create",
				    "ctx_out is NULL");
	*ctx_out = NULL;
	if (!device)
		return clq__invalid(NULL, "clq_context_create",
				    "device is NULL");
	return context_new(device, NULL, ctx_out);
}

/* The devices of an OpenCL context, malloc'ed; an OpenCL code, logged. */
static int
context_devices(cl_context cl, cl_device_id **ids_out, cl_uint *n_out)
{
	cl_uint n = 0;
	cl_device_id *ids;
	int rc = clq__check(NULL,
			    clGetContextInfo(cl, CL_CONTEXT_NUM_DEVICES,
					     sizeof(n), &n, NULL),
			    "clGetContextInfo(CL_CONTEXT_NUM_DEVICES)");

	*ids_out = NULL;
	*n_out = 0;
	if (rc < 0)
		return rc;
	if (n == 0) {
		clq__log(NULL, CLQ_LOG_ERROR,
			 "clq_context_wrap: the context has no device");
		return CLQ_ERROR_NO_DEVICE;
	}
	if (!(ids = malloc(n * sizeof(*ids))))
		return CL_OUT_OF_HOST_MEMORY;
	rc = clq__check(NULL,
			clGetContextInfo(cl, CL_CONTEXT_DEVICES,
					 n * sizeof(*ids), ids, NULL),
			"clGetContextInfo(CL_CONTEXT_DEVICES)");
	if (rc < 0) {
		free(ids);
		return rc;
	}
	*ids_out = ids;
	*n_out = n;
	return CLQ_SUCCESS;
}

/* Which of the context's devices clq uses: `device`, or its only one. */
static int
wrapped_device(struct clq_device *device, const cl_device_id *ids, cl_uint n,
	       struct clq_device **device_out)
{
	static const char fn[] = "clq_context_wrap";
	int rc;

	*device_out = NULL;
	if (device) {
		for (cl_uint i = 0; i < n; i++) {
			if (ids[i] == clq_device_get_cl(device)) {
				*device_out = clq_device_ref(device);
				return CLQ_SUCCESS;
			}
		}
		clq__log(NULL, CLQ_LOG_ERROR,
			 "%s: device '%s' is not one of the context's %u "
			 "device(s)",
			 fn, clq_device_get_name(device), n);
		return CLQ_ERROR_CONTEXT_MISMATCH;
	}
	if (n > 1) {
		clq__log(NULL, CLQ_LOG_ERROR,
			 "%s: the context has %u devices; a clq context "
			 "runs on one, so name it (the device argument)",
			 fn, n);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	rc = clq__device_of_cl(ids[0], device_out);
	if (rc == CLQ_ERROR_NO_DEVICE)
		clq__log(NULL, CLQ_LOG_ERROR,
			 "%s: the context's device is none that clq lists "
			 "(a sub-device?); clq_device_get() gives those",
			 fn);
	return rc;
}

int
clq_context_wrap(cl_context cl, struct clq_device *device,
		 struct clq_context **ctx_out)
{
	static const char fn[] = "clq_context_wrap";
	struct clq_device *dev = NULL;
	cl_device_id *ids;
	cl_uint n;
	int rc;

	if (!ctx_out)
		return clq__invalid(NULL, fn, "ctx_out is NULL");
	*ctx_out = NULL;
	if (!cl)
		return clq__invalid(NULL, fn, "the cl_context is NULL");
	if ((rc = context_devices(cl, &ids, &n)) < 0)
		return rc;
	rc = wrapped_device(device, ids, n, &dev);
	free(ids);
	if (rc == CLQ_SUCCESS)
		rc = context_new(dev, cl, ctx_out);
	clq_device_unref(dev);
	return rc;
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
