/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include "private.h"

/* Logs the kernel names a program has, after an unknown one was asked. */
static void
log_kernel_names(struct clq_program *p, const char *name)
{
	size_t size = 0;
	char *names = NULL;

	if (clGetProgramInfo(p->cl, CL_PROGRAM_KERNEL_NAMES, 0, NULL, &size) ==
		    CL_SUCCESS &&
	    (names = malloc(size + 1)) != NULL &&
	    clGetProgramInfo(p->cl, CL_PROGRAM_KERNEL_NAMES, size, names,
			     NULL) == CL_SUCCESS) {
		names[size] = '\0';
		clq__log(p->ctx, CLQ_LOG_ERROR,
			 "clq_kernel_create: %s has no kernel '%s'; its "
			 "kernels: %s",
			 p->name, name, *names ? names : "(none)");
	} else {
		clq__log(p->ctx, CLQ_LOG_ERROR,
			 "clq_kernel_create: %s has no kernel '%s'", p->name,
			 name);
	}
	free(names);
}

static int
kernel_info(struct clq_kernel *k)
{
	struct clq_context *ctx = k->program->ctx;
	cl_device_id dev = ctx->device->id;
	cl_uint n_args = 0;
	cl_ulong local = 0, private_mem = 0;
	int rc;

	if ((rc = clq__check(ctx,
			     clGetKernelInfo(k->cl, CL_KERNEL_NUM_ARGS,
					     sizeof(n_args), &n_args, NULL),
			     "clGetKernelInfo(CL_KERNEL_NUM_ARGS)")) < 0 ||
	    (rc = clq__check(ctx,
			     clGetKernelWorkGroupInfo(
				     k->cl, dev, CL_KERNEL_WORK_GROUP_SIZE,
				     sizeof(k->work_group_size),
				     &k->work_group_size, NULL),
			     "clGetKernelWorkGroupInfo")) < 0 ||
	    (rc = clq__check(
		     ctx,
		     clGetKernelWorkGroupInfo(
			     k->cl, dev,
			     CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
			     sizeof(k->preferred_multiple),
			     &k->preferred_multiple, NULL),
		     "clGetKernelWorkGroupInfo")) < 0 ||
	    (rc = clq__check(ctx,
			     clGetKernelWorkGroupInfo(
				     k->cl, dev,
				     CL_KERNEL_COMPILE_WORK_GROUP_SIZE,
				     sizeof(k->compile_work_group_size),
				     k->compile_work_group_size, NULL),
			     "clGetKernelWorkGroupInfo")) < 0 ||
	    (rc = clq__check(ctx,
			     clGetKernelWorkGroupInfo(
				     k->cl, dev, CL_KERNEL_LOCAL_MEM_SIZE,
				     sizeof(local), &local, NULL),
			     "clGetKernelWorkGroupInfo")) < 0 ||
	    (rc = clq__check(ctx,
			     clGetKernelWorkGroupInfo(
				     k->cl, dev, CL_KERNEL_PRIVATE_MEM_SIZE,
				     sizeof(private_mem), &private_mem, NULL),
			     "clGetKernelWorkGroupInfo")) < 0)
		return rc;
	k->n_args = n_args;
	k->local_memory = local;
	k->private_memory = private_mem;
	return CLQ_SUCCESS;
}

static void
kernel_free(struct clq_kernel *k)
{
	if (k->cl)
		clReleaseKernel(k->cl);
	clq__lock_destroy(&k->lock);
	free(k->name);
	clq_program_unref(k->program);
	free(k);
}

int
clq_kernel_create(struct clq_program *program, const char *name,
		  struct clq_kernel **kernel_out)
{
	static const char fn[] = "clq_kernel_create";
	struct clq_context *ctx = program ? program->ctx : NULL;
	struct clq_kernel *k;
	cl_int err = CL_SUCCESS;
	int rc;

	if (!kernel_out)
		return clq__invalid(ctx, fn, "kernel_out is NULL");
	*kernel_out = NULL;
	if (!program || !name)
		return clq__invalid(ctx, fn, "program or name is NULL");
	if (!program->built) {
		clq__log(ctx, CLQ_LOG_ERROR, "%s: %s failed to build", fn,
			 program->name);
		return CL_INVALID_PROGRAM_EXECUTABLE;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return CL_OUT_OF_HOST_MEMORY;
	if (clq__lock_init(&k->lock) != 0) {
		free(k);
		return CL_OUT_OF_HOST_MEMORY;
	}
	atomic_init(&k->refs, 1);
	k->program = clq_program_ref(program);
	k->name = strdup(name);
	if (!k->name) {
		kernel_free(k);
		return CL_OUT_OF_HOST_MEMORY;
	}
	k->cl = clCreateKernel(program->cl, name, &err);
	if (err == CL_INVALID_KERNEL_NAME) {
		log_kernel_names(program, name);
		rc = err;
	} else {
		rc = clq__check(ctx, err, "clCreateKernel");
	}
	if (rc == CLQ_SUCCESS)
		rc = kernel_info(k);
	if (rc < 0) {
		kernel_free(k);
		return rc;
	}
	*kernel_out = k;
	return CLQ_SUCCESS;
}

struct clq_kernel *
clq_kernel_ref(struct clq_kernel *kernel)
{
	if (kernel)
		atomic_fetch_add_explicit(&kernel->refs, 1,
					  memory_order_relaxed);
	return kernel;
}

void
clq_kernel_unref(struct clq_kernel *kernel)
{
	if (!kernel || atomic_fetch_sub_explicit(&kernel->refs, 1,
						 memory_order_acq_rel) != 1)
		return;
	kernel_free(kernel);
}

const char *
clq_kernel_get_name(const struct clq_kernel *kernel)
{
	return kernel ? kernel->name : NULL;
}

struct clq_program *
clq_kernel_get_program(const struct clq_kernel *kernel)
{
	return kernel ? kernel->program : NULL;
}

cl_kernel
clq_kernel_get_cl(const struct clq_kernel *kernel)
{
	return kernel ? kernel->cl : NULL;
}

size_t
clq_kernel_get_num_args(const struct clq_kernel *kernel)
{
	return kernel ? kernel->n_args : 0;
}

size_t
clq_kernel_get_work_group_size(const struct clq_kernel *kernel)
{
	return kernel ? kernel->work_group_size : 0;
}

size_t
clq_kernel_get_preferred_work_group_multiple(const struct clq_kernel *kernel)
{
	return kernel ? kernel->preferred_multiple : 0;
}

const size_t *
clq_kernel_get_compile_work_group_size(const struct clq_kernel *kernel)
{
	return kernel ? kernel->compile_work_group_size : NULL;
}

uint64_t
clq_kernel_get_local_memory(const struct clq_kernel *kernel)
{
	return kernel ? kernel->local_memory : 0;
}

uint64_t
clq_kernel_get_private_memory(const struct clq_kernel *kernel)
{
	return kernel ? kernel->private_memory : 0;
}

/* Enqueueing. */

/* Checks the arguments; `*array_bytes` gets the sum of the array
 * arguments' sizes (a timeline records it as the kernel's bytes). */
static int
check_args(struct clq_queue *q, struct clq_kernel *k,
	   const struct clq_arg *args, size_t n_args, uint64_t *array_bytes)
{
	static const char fn[] = "clq_queue_enqueue_kernel";
	struct clq_context *ctx = q->ctx;

	if (n_args != k->n_args) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: kernel '%s' takes %zu arguments, %zu given", fn,
			 k->name, k->n_args, n_args);
		return CLQ_ERROR_ARG_COUNT;
	}
	if (n_args && !args)
		return clq__invalid(ctx, fn, "args is NULL but n_args > 0");
	for (size_t i = 0; i < n_args; i++) {
		const struct clq_arg *a = &args[i];
		int bad = 0;

		switch (a->kind) {
		case CLQ_ARG_KIND_ARRAY:
			bad = !a->array;
			if (!bad && a->array->ctx != ctx) {
				clq__log(ctx, CLQ_LOG_ERROR,
					 "%s: argument %zu of '%s' is an "
					 "array of another context",
					 fn, i, k->name);
				return CLQ_ERROR_CONTEXT_MISMATCH;
			}
			if (!bad)
				*array_bytes += a->array->layout.nbytes;
			break;
		case CLQ_ARG_KIND_VALUE:
			bad = !a->value || a->size == 0;
			break;
		case CLQ_ARG_KIND_LOCAL:
			bad = a->size == 0;
			break;
		default:
			bad = 1;
		}
		if (bad) {
			clq__log(ctx, CLQ_LOG_ERROR,
				 "%s: argument %zu of '%s' is malformed (NULL "
				 "array or value, zero size or unknown kind)",
				 fn, i, k->name);
			return CLQ_ERROR_INVALID_ARGUMENT;
		}
	}
	return CLQ_SUCCESS;
}

/* Logs a required work-group size that a launch does not give. */
static void
log_required(struct clq_queue *q, struct clq_kernel *k, unsigned work_dim,
	     const size_t *local)
{
	const size_t *req = k->compile_work_group_size;
	size_t given[3] = {1, 1, 1};

	if (!local) {
		clq__log(q->ctx, CLQ_LOG_ERROR,
			 "clq_queue_enqueue_kernel: kernel '%s' requires "
			 "work-groups of %zux%zux%zu, which a %u-dimensional "
			 "launch cannot give (its axes beyond %u are 1)",
			 k->name, req[0], req[1], req[2], work_dim, work_dim);
		return;
	}
	for (unsigned i = 0; i < work_dim; i++)
		given[i] = local[i];
	clq__log(q->ctx, CLQ_LOG_ERROR,
		 "clq_queue_enqueue_kernel: kernel '%s' requires work-groups "
		 "of %zux%zux%zu; given %zux%zux%zu (work_dim %u; axes beyond "
		 "it count as 1)",
		 k->name, req[0], req[1], req[2], given[0], given[1], given[2],
		 work_dim);
}

/*
 * Checks the NDRange; `*local` becomes the required size when NULL.
 * A required size (`reqd_work_group_size`, all three axes) must be met
 * exactly, axes beyond work_dim counting as 1.
 */
static int
check_range(struct clq_queue *q, struct clq_kernel *k, unsigned work_dim,
	    const size_t *global, const size_t **local)
{
	static const char fn[] = "clq_queue_enqueue_kernel";
	struct clq_context *ctx = q->ctx;
	const struct clq_device *dev = ctx->device;
	const size_t *req = k->compile_work_group_size;
	size_t group = 1, limit;

	if (work_dim < 1 || work_dim > 3)
		return clq__invalid(ctx, fn, "work_dim is not 1, 2 or 3");
	if (!global)
		return clq__invalid(ctx, fn, "global is NULL");
	for (unsigned i = 0; i < work_dim; i++) {
		if (global[i] == 0)
			return clq__invalid(ctx, fn, "a global size is 0");
	}
	if (req[0] != 0) {
		for (unsigned i = work_dim; i < 3; i++) {
			if (req[i] != 1) {
				log_required(q, k, work_dim, *local);
				return CLQ_ERROR_LOCAL_SIZE;
			}
		}
		if (!*local)
			*local = req;
	}
	if (!*local)
		return CLQ_SUCCESS;
	for (unsigned i = 0; i < work_dim; i++) {
		size_t l = (*local)[i];

		if (l == 0)
			return clq__invalid(ctx, fn, "a local size is 0");
		if (l > dev->max_work_item_sizes[i]) {
			clq__log(ctx, CLQ_LOG_ERROR,
				 "%s: local size %zu on axis %u exceeds the "
				 "device's %zu",
				 fn, l, i, dev->max_work_item_sizes[i]);
			return CLQ_ERROR_LOCAL_SIZE;
		}
		if (req[0] != 0 && l != req[i]) {
			log_required(q, k, work_dim, *local);
			return CLQ_ERROR_LOCAL_SIZE;
		}
		group *= l;
	}
	limit = k->work_group_size < dev->max_work_group_size
			? k->work_group_size
			: dev->max_work_group_size;
	if (group > limit) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: a work-group of %zu items exceeds the %zu that "
			 "kernel '%s' can run with on this device",
			 fn, group, limit, k->name);
		return CLQ_ERROR_LOCAL_SIZE;
	}
	for (unsigned i = 0; i < work_dim; i++) {
		if (global[i] % (*local)[i] != 0) {
			clq__log(ctx, CLQ_LOG_ERROR,
				 "%s: global size %zu on axis %u is not a "
				 "multiple of the local size %zu",
				 fn, global[i], i, (*local)[i]);
			return CLQ_ERROR_WORK_SIZE;
		}
	}
	return CLQ_SUCCESS;
}

struct launch {
	struct clq_kernel *kernel;
	const struct clq_arg *args;
	size_t n_args;
	unsigned work_dim;
	const size_t *global;
	const size_t *local;
};

static cl_int
set_arg(struct clq_queue *q, struct clq_kernel *k, cl_uint i,
	const struct clq_arg *a)
{
	cl_int err;

	if (a->kind == CLQ_ARG_KIND_ARRAY)
		err = clSetKernelArg(k->cl, i, sizeof(cl_mem), &a->array->mem);
	else if (a->kind == CLQ_ARG_KIND_VALUE)
		err = clSetKernelArg(k->cl, i, a->size, a->value);
	else
		err = clSetKernelArg(k->cl, i, a->size, NULL);
	if (err != CL_SUCCESS)
		clq__log(q->ctx, CLQ_LOG_ERROR,
			 "clSetKernelArg(kernel '%s', argument %u, %zu "
			 "bytes): %s (%s)",
			 k->name, i,
			 a->kind == CLQ_ARG_KIND_ARRAY ? sizeof(cl_mem)
						       : a->size,
			 clq_error_name(err), clq_strerror(err));
	return err;
}

static int
launch_enqueue(struct clq_queue *q, cl_uint n_wait, const cl_event *list,
	       cl_event *ev, void *data)
{
	const struct launch *l = data;
	struct clq_kernel *k = l->kernel;
	cl_int err = CL_SUCCESS;

	clq__lock_acquire(&k->lock);
	for (size_t i = 0; i < l->n_args && err == CL_SUCCESS; i++)
		err = set_arg(q, k, (cl_uint)i, &l->args[i]);
	if (err == CL_SUCCESS)
		err = clq__check(q->ctx,
				 clEnqueueNDRangeKernel(
					 q->cl, k->cl, l->work_dim, NULL,
					 l->global, l->local, n_wait, list, ev),
				 "clEnqueueNDRangeKernel");
	clq__lock_release(&k->lock);
	return err;
}

int
clq_queue_enqueue_kernel(struct clq_queue *queue, struct clq_kernel *kernel,
			 const struct clq_arg *args, size_t n_args,
			 unsigned work_dim, const size_t *global,
			 const size_t *local, struct clq_event *const *wait,
			 size_t n_wait, struct clq_event **event_out)
{
	static const char fn[] = "clq_queue_enqueue_kernel";
	struct launch l = {kernel, args, n_args, work_dim, global, local};
	struct clq__command command = {launch_enqueue,
				       NULL,
				       &l,
				       "kernel",
				       kernel ? kernel->name : NULL,
				       0};
	int rc;

	if (event_out)
		*event_out = NULL;
	if (!queue || !kernel)
		return clq__invalid(queue ? queue->ctx : NULL, fn,
				    "queue or kernel is NULL");
	if (kernel->program->ctx != queue->ctx) {
		clq__log(queue->ctx, CLQ_LOG_ERROR,
			 "%s: the kernel and the queue belong to different "
			 "contexts",
			 fn);
		return CLQ_ERROR_CONTEXT_MISMATCH;
	}
	if ((rc = check_args(queue, kernel, args, n_args, &command.bytes)) <
		    0 ||
	    (rc = check_range(queue, kernel, work_dim, global, &l.local)) < 0)
		return rc;
	return clq__enqueue(queue, fn, &command, wait, n_wait, event_out);
}
