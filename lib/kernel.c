/* SPDX-License-Identifier: BSD-3-Clause */
#include <stddef.h>
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

/*
 * What one argument must be, from the driver's argument info (read once,
 * at clq_kernel_create()), so that a launch checks it in a few compares.
 * Without info (or for a type clq cannot name) `kind` is 0 and `accept`
 * all ones: only OpenCL's own size check applies.
 */
struct clq__kernel_arg {
	enum clq_arg_kind kind; /* 0: not known */
	/* ARRAY: bit d set for each accepted enum clq_dtype d; VALUE: bit t
	 * for each accepted enum clq_arg_type t (CLQ_ARG_TYPE_UNKNOWN's, bit
	 * 0, always: an untyped value is checked by size only). */
	uint32_t accept;
	size_t size;	 /* VALUE: the bytes its type takes; 0 if not known */
	char *name;	 /* CL_KERNEL_ARG_NAME, or NULL */
	char *type_name; /* CL_KERNEL_ARG_TYPE_NAME, or NULL */
	cl_kernel_arg_address_qualifier address;
	/* A `__constant` or `const`-pointee array parameter: the kernel only
	 * reads it, whatever access the caller declares (ordering). */
	int read_only;
};

#define ALL_TYPES UINT32_MAX
#define DTYPE_BIT(d) (UINT32_C(1) << (d))
#define TYPE_BIT(t) (UINT32_C(1) << (t))

/* The OpenCL C scalar types a kernel argument's type name is built from. */
static const struct scalar {
	const char *name;
	enum clq_arg_type type; /* of a value of it */
	size_t size;
	uint32_t dtypes; /* of an array of it (or of its vectors) */
} scalars[] = {
	{"char", CLQ_ARG_TYPE_CHAR, 1, DTYPE_BIT(CLQ_DTYPE_INT8)},
	{"uchar", CLQ_ARG_TYPE_UCHAR, 1, DTYPE_BIT(CLQ_DTYPE_UINT8)},
	{"unsigned char", CLQ_ARG_TYPE_UCHAR, 1, DTYPE_BIT(CLQ_DTYPE_UINT8)},
	{"short", CLQ_ARG_TYPE_SHORT, 2, DTYPE_BIT(CLQ_DTYPE_INT16)},
	{"ushort", CLQ_ARG_TYPE_USHORT, 2, DTYPE_BIT(CLQ_DTYPE_UINT16)},
	{"unsigned short", CLQ_ARG_TYPE_USHORT, 2, DTYPE_BIT(CLQ_DTYPE_UINT16)},
	{"int", CLQ_ARG_TYPE_INT, 4, DTYPE_BIT(CLQ_DTYPE_INT32)},
	{"uint", CLQ_ARG_TYPE_UINT, 4, DTYPE_BIT(CLQ_DTYPE_UINT32)},
	{"unsigned int", CLQ_ARG_TYPE_UINT, 4, DTYPE_BIT(CLQ_DTYPE_UINT32)},
	{"unsigned", CLQ_ARG_TYPE_UINT, 4, DTYPE_BIT(CLQ_DTYPE_UINT32)},
	{"long", CLQ_ARG_TYPE_LONG, 8, DTYPE_BIT(CLQ_DTYPE_INT64)},
	{"ulong", CLQ_ARG_TYPE_ULONG, 8, DTYPE_BIT(CLQ_DTYPE_UINT64)},
	{"unsigned long", CLQ_ARG_TYPE_ULONG, 8, DTYPE_BIT(CLQ_DTYPE_UINT64)},
	/* cl_half is cl_ushort: a half value can only come tagged so */
	{"half", CLQ_ARG_TYPE_USHORT, 2, DTYPE_BIT(CLQ_DTYPE_FLOAT16)},
	/* complex arrays are pairs: float2 (or float) pointers read them */
	{"float", CLQ_ARG_TYPE_FLOAT, 4,
	 DTYPE_BIT(CLQ_DTYPE_FLOAT32) | DTYPE_BIT(CLQ_DTYPE_COMPLEX64)},
	{"double", CLQ_ARG_TYPE_DOUBLE, 8,
	 DTYPE_BIT(CLQ_DTYPE_FLOAT64) | DTYPE_BIT(CLQ_DTYPE_COMPLEX128)},
};

/* C spellings of the value types, for messages. */
static const char *const type_names[] = {
	"of a type clq cannot tell",
	"cl_char",
	"cl_uchar",
	"cl_short",
	"cl_ushort",
	"cl_int",
	"cl_uint",
	"cl_long",
	"cl_ulong",
	"cl_float",
	"cl_double",
};

/*
 * Fills in what an argument must be from its address qualifier and type
 * name: "float*", "uint", "float4", "half*", "void*"... A name clq cannot
 * read (a typedef, a struct, an image) leaves that part unchecked.
 */
static void
parse_arg(struct clq__kernel_arg *arg)
{
	char base[32];
	const char *t = arg->type_name;
	size_t len = strlen(t), width = 1;
	int pointer = 0;

	arg->kind = 0;
	arg->accept = ALL_TYPES;
	arg->size = 0;
	while (len > 0 && (t[len - 1] == ' ' || t[len - 1] == '*')) {
		pointer += t[len - 1] == '*';
		len--;
	}
	if (pointer > 1)
		return; /* not a kernel argument type */
	if (arg->address == CL_KERNEL_ARG_ADDRESS_LOCAL) {
		arg->kind = CLQ_ARG_KIND_LOCAL;
		return;
	}
	if (arg->address == CL_KERNEL_ARG_ADDRESS_GLOBAL ||
	    arg->address == CL_KERNEL_ARG_ADDRESS_CONSTANT) {
		if (!pointer)
			return; /* an image or a pipe: clq has none */
		arg->kind = CLQ_ARG_KIND_ARRAY;
	} else if (arg->address == CL_KERNEL_ARG_ADDRESS_PRIVATE && !pointer) {
		arg->kind = CLQ_ARG_KIND_VALUE;
	} else {
		return;
	}
	if (len >= sizeof(base))
		return;
	memcpy(base, t, len);
	base[len] = '\0';
	if (arg->kind == CLQ_ARG_KIND_ARRAY && strcmp(base, "void") == 0)
		return;
	/* a vector: a scalar name then 2, 3, 4, 8 or 16 */
	while (len > 0 && base[len - 1] >= '0' && base[len - 1] <= '9')
		len--;
	if (base[len]) {
		width = strtoul(base + len, NULL, 10);
		if (width != 2 && width != 3 && width != 4 && width != 8 &&
		    width != 16)
			return;
		base[len] = '\0';
	}
	for (size_t i = 0; i < sizeof(scalars) / sizeof(*scalars); i++) {
		const struct scalar *sc = &scalars[i];

		if (strcmp(base, sc->name) != 0)
			continue;
		if (arg->kind == CLQ_ARG_KIND_ARRAY) {
			arg->accept = sc->dtypes;
		} else {
			/* a 3-vector takes the room of a 4-vector */
			arg->size = sc->size * (width == 3 ? 4 : width);
			arg->accept = TYPE_BIT(CLQ_ARG_TYPE_UNKNOWN) |
				      (width == 1 ? TYPE_BIT(sc->type) : 0);
		}
		return;
	}
}

/* One string of CL_KERNEL_ARG_*_NAME, malloc'ed; NULL when unavailable
 * (`*err` says why: an OpenCL code, or CL_OUT_OF_HOST_MEMORY). */
static char *
arg_string(cl_kernel kernel, cl_uint i, cl_kernel_arg_info what, cl_int *err)
{
	size_t size = 0;
	char *s;

	*err = clGetKernelArgInfo(kernel, i, what, 0, NULL, &size);
	if (*err != CL_SUCCESS)
		return NULL;
	if (!(s = malloc(size + 1))) {
		*err = CL_OUT_OF_HOST_MEMORY;
		return NULL;
	}
	*err = clGetKernelArgInfo(kernel, i, what, size, s, NULL);
	if (*err != CL_SUCCESS) {
		free(s);
		return NULL;
	}
	s[size] = '\0';
	return s;
}

static void
free_args(struct clq__kernel_arg *args, size_t n)
{
	for (size_t i = 0; args && i < n; i++) {
		free(args[i].name);
		free(args[i].type_name);
	}
	free(args);
}

/*
 * Reads what the driver says of each argument. A driver with nothing to
 * say (CL_KERNEL_ARG_INFO_NOT_AVAILABLE: a program built without
 * -cl-kernel-arg-info) leaves every argument unknown, as does any other
 * failure to read it, but for running out of memory.
 */
static int
read_arg_info(struct clq_kernel *k)
{
	struct clq__kernel_arg *args;
	int info = k->program->arg_info;
	cl_int err = CL_SUCCESS;

	if (k->n_args == 0)
		return CLQ_SUCCESS;
	if (!(args = calloc(k->n_args, sizeof(*args))))
		return CL_OUT_OF_HOST_MEMORY;
	for (cl_uint i = 0; i < k->n_args; i++)
		args[i].accept = ALL_TYPES;
	for (cl_uint i = 0; info && i < k->n_args; i++) {
		struct clq__kernel_arg *arg = &args[i];
		cl_kernel_arg_type_qualifier qualifier = 0;

		err = clGetKernelArgInfo(
			k->cl, i, CL_KERNEL_ARG_ADDRESS_QUALIFIER,
			sizeof(arg->address), &arg->address, NULL);
		if (err == CL_SUCCESS)
			err = clGetKernelArgInfo(
				k->cl, i, CL_KERNEL_ARG_TYPE_QUALIFIER,
				sizeof(qualifier), &qualifier, NULL);
		if (err == CL_SUCCESS)
			arg->read_only =
				arg->address ==
					CL_KERNEL_ARG_ADDRESS_CONSTANT ||
				(qualifier & CL_KERNEL_ARG_TYPE_CONST) != 0;
		if (err == CL_SUCCESS)
			arg->type_name = arg_string(
				k->cl, i, CL_KERNEL_ARG_TYPE_NAME, &err);
		if (err == CL_SUCCESS)
			arg->name =
				arg_string(k->cl, i, CL_KERNEL_ARG_NAME, &err);
		if (err != CL_SUCCESS)
			break;
		parse_arg(arg);
	}
	if (err == CL_OUT_OF_HOST_MEMORY) {
		free_args(args, k->n_args);
		return err;
	}
	if (err != CL_SUCCESS) {
		clq__log(k->program->ctx, CLQ_LOG_DEBUG,
			 "kernel '%s': no argument info (%s), so only "
			 "argument sizes are checked",
			 k->name, clq_error_name(err));
		free_args(args, k->n_args);
		if (!(args = calloc(k->n_args, sizeof(*args))))
			return CL_OUT_OF_HOST_MEMORY;
		for (cl_uint i = 0; i < k->n_args; i++)
			args[i].accept = ALL_TYPES;
	}
	k->args = args;
	return CLQ_SUCCESS;
}

/* The work-group properties of a kernel, as OpenCL gives them. */
struct raw_work_group {
	size_t work_group_size, preferred_multiple, compile_size[3];
	cl_ulong local, private_mem;
};

#define RAW(param, field)                                           \
	{                                                           \
		param, "clGetKernelWorkGroupInfo(" #param ")",      \
			offsetof(struct raw_work_group, field),     \
			sizeof(((struct raw_work_group *)0)->field) \
	}

/* One clGetKernelWorkGroupInfo() each. */
static const struct raw_property {
	cl_kernel_work_group_info param;
	const char *what;
	size_t offset, size;
} work_group_properties[] = {
	RAW(CL_KERNEL_WORK_GROUP_SIZE, work_group_size),
	RAW(CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE, preferred_multiple),
	RAW(CL_KERNEL_COMPILE_WORK_GROUP_SIZE, compile_size),
	RAW(CL_KERNEL_LOCAL_MEM_SIZE, local),
	RAW(CL_KERNEL_PRIVATE_MEM_SIZE, private_mem),
};

static int
kernel_info(struct clq_kernel *k)
{
	struct clq_context *ctx = k->program->ctx;
	cl_device_id dev = ctx->device->id;
	struct raw_work_group raw = {0};
	cl_uint n_args = 0;
	int rc = clq__check(ctx,
			    clGetKernelInfo(k->cl, CL_KERNEL_NUM_ARGS,
					    sizeof(n_args), &n_args, NULL),
			    "clGetKernelInfo(CL_KERNEL_NUM_ARGS)");

	for (size_t i = 0;
	     rc == CLQ_SUCCESS &&
	     i < sizeof(work_group_properties) / sizeof(*work_group_properties);
	     i++) {
		const struct raw_property *p = &work_group_properties[i];

		rc = clq__check(ctx,
				clGetKernelWorkGroupInfo(
					k->cl, dev, p->param, p->size,
					(char *)&raw + p->offset, NULL),
				p->what);
	}
	if (rc < 0)
		return rc;
	k->n_args = n_args;
	k->work_group_size = raw.work_group_size;
	k->preferred_multiple = raw.preferred_multiple;
	memcpy(k->compile_work_group_size, raw.compile_size,
	       sizeof(raw.compile_size));
	k->local_memory = raw.local;
	k->private_memory = raw.private_mem;
	return read_arg_info(k);
}

static void
kernel_free(struct clq_kernel *k)
{
	if (k->cl)
		clReleaseKernel(k->cl);
	free_args(k->args, k->n_args);
	pthread_mutex_destroy(&k->lock);
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
	if (pthread_mutex_init(&k->lock, NULL) != 0) {
		free(k);
		return CL_OUT_OF_HOST_MEMORY;
	}
	clq__ref_init(&k->refs);
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
		clq__ref_get(&kernel->refs);
	return kernel;
}

void
clq_kernel_unref(struct clq_kernel *kernel)
{
	if (!kernel || !clq__ref_put(&kernel->refs))
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

/* Describes what an argument must be, for a message. */
static void
describe_wanted(struct clq__strbuf *b, const struct clq__kernel_arg *want)
{
	const char *space = want->address == CL_KERNEL_ARG_ADDRESS_CONSTANT
				    ? "__constant"
				    : "__global";

	if (want->kind == CLQ_ARG_KIND_ARRAY) {
		clq__strbuf_appendf(b, "a %s %s: pass CLQ_ARG_ARRAY() of ",
				    space, want->type_name);
		if (want->accept == ALL_TYPES) {
			clq__strbuf_appendf(b, "an array");
			return;
		}
		clq__strbuf_appendf(b, "a");
		for (unsigned d = 0, n = 0; d < 32; d++) {
			if (want->accept & DTYPE_BIT(d))
				clq__strbuf_appendf(
					b, "%s%s", n++ ? " or " : " ",
					clq_dtype_name((enum clq_dtype)d));
		}
		clq__strbuf_appendf(b, " array");
	} else if (want->kind == CLQ_ARG_KIND_LOCAL) {
		clq__strbuf_appendf(b,
				    "a __local %s: pass CLQ_ARG_LOCAL(bytes)",
				    want->type_name);
	} else {
		clq__strbuf_appendf(b, "a %s value", want->type_name);
		if (want->size)
			clq__strbuf_appendf(b, " of %zu bytes", want->size);
		for (unsigned t = 1;
		     want->accept != ALL_TYPES &&
		     t < sizeof(type_names) / sizeof(*type_names);
		     t++) {
			if (want->accept & TYPE_BIT(t))
				clq__strbuf_appendf(
					b, ": pass CLQ_ARG_VALUE() of a %s",
					strcmp(want->type_name, "half") == 0
						? "cl_half"
						: type_names[t]);
		}
	}
}

/* Logs an argument of the wrong kind or type; CLQ_ERROR_TYPE_MISMATCH. */
static int
arg_mismatch(const char *fn, struct clq_queue *q, const struct clq_kernel *k,
	     size_t i, const struct clq_arg *a)
{
	const struct clq__kernel_arg *want = &k->args[i];
	struct clq__strbuf b = {0};

	describe_wanted(&b, want);
	if (a->kind == CLQ_ARG_KIND_ARRAY)
		clq__strbuf_appendf(&b, "; given an array of %s",
				    clq_dtype_name(a->array->layout.dtype));
	else if (a->kind == CLQ_ARG_KIND_LOCAL)
		clq__strbuf_appendf(&b, "; given CLQ_ARG_LOCAL(%zu)", a->size);
	else if (a->type == CLQ_ARG_TYPE_UNKNOWN)
		clq__strbuf_appendf(&b, "; given a %zu-byte value", a->size);
	else
		clq__strbuf_appendf(&b, "; given a %zu-byte %s", a->size,
				    type_names[a->type]);
	clq__log(q->ctx, CLQ_LOG_ERROR,
		 "%s: argument %zu ('%s') of kernel '%s' is %s", fn, i,
		 want->name, k->name, b.failed ? "of another type" : b.s);
	clq__strbuf_free(&b);
	return CLQ_ERROR_TYPE_MISMATCH;
}

/*
 * Checks the arguments; `*array_bytes` gets the sum of the array
 * arguments' sizes (a timeline records it as the kernel's bytes). Kinds,
 * types and sizes are compared with what clq_kernel_create() read: a few
 * compares per argument. The CLQ_ARG_LOCAL() sizes and the kernel's own
 * __local memory must fit in the device's.
 */
static int
check_args(const char *fn, struct clq_queue *q, struct clq_kernel *k,
	   const struct clq_arg *args, size_t n_args, uint64_t *array_bytes)
{
	struct clq_context *ctx = q->ctx;
	uint64_t local_bytes = 0, total;

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
		const struct clq__kernel_arg *want = &k->args[i];
		int bad = 0, mismatch = 0;

		switch (a->kind) {
		case CLQ_ARG_KIND_ARRAY:
			bad = !a->array || (unsigned)a->access > 3;
			if (bad)
				break;
			if (a->array->ctx != ctx) {
				clq__log(ctx, CLQ_LOG_ERROR,
					 "%s: argument %zu of '%s' is an "
					 "array of another context",
					 fn, i, k->name);
				return CLQ_ERROR_CONTEXT_MISMATCH;
			}
			mismatch = !(want->accept &
				     DTYPE_BIT(a->array->layout.dtype));
			*array_bytes += a->array->layout.nbytes;
			break;
		case CLQ_ARG_KIND_VALUE:
			bad = !a->value || a->size == 0 ||
			      (unsigned)a->type > CLQ_ARG_TYPE_DOUBLE;
			mismatch =
				!bad && (!(want->accept & TYPE_BIT(a->type)) ||
					 (want->size && a->size != want->size));
			break;
		case CLQ_ARG_KIND_LOCAL:
			bad = a->size == 0;
			if (local_bytes <= UINT64_MAX - a->size)
				local_bytes += a->size;
			else
				local_bytes = UINT64_MAX;
			break;
		default:
			bad = 1;
		}
		if (bad) {
			clq__log(ctx, CLQ_LOG_ERROR,
				 "%s: argument %zu of '%s' is malformed (NULL "
				 "array or value, zero size, unknown kind, "
				 "type or access)",
				 fn, i, k->name);
			return CLQ_ERROR_INVALID_ARGUMENT;
		}
		if (mismatch || (want->kind && a->kind != want->kind))
			return arg_mismatch(fn, q, k, i, a);
	}
	/* Too much __local memory makes PoCL 3.1 abort the process when the
	 * kernel runs, after the enqueue succeeded: refuse it here. */
	total = local_bytes > UINT64_MAX - k->local_memory
			? UINT64_MAX
			: local_bytes + k->local_memory;
	if (total > ctx->device->local_memory) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: kernel '%s' needs %llu bytes of __local memory "
			 "(%llu in CLQ_ARG_LOCAL() arguments, %llu of its "
			 "own); the device has %llu",
			 fn, k->name, (unsigned long long)total,
			 (unsigned long long)local_bytes,
			 (unsigned long long)k->local_memory,
			 (unsigned long long)ctx->device->local_memory);
		return CLQ_ERROR_OUT_OF_RANGE;
	}
	return CLQ_SUCCESS;
}

/* Logs a required work-group size that a launch does not give. */
static void
log_required(const char *fn, struct clq_queue *q, struct clq_kernel *k,
	     unsigned work_dim, const size_t *local)
{
	const size_t *req = k->compile_work_group_size;
	size_t given[3] = {1, 1, 1};

	if (!local) {
		clq__log(q->ctx, CLQ_LOG_ERROR,
			 "%s: kernel '%s' requires "
			 "work-groups of %zux%zux%zu, which a %u-dimensional "
			 "launch cannot give (its axes beyond %u are 1)",
			 fn, k->name, req[0], req[1], req[2], work_dim,
			 work_dim);
		return;
	}
	for (unsigned i = 0; i < work_dim; i++)
		given[i] = local[i];
	clq__log(q->ctx, CLQ_LOG_ERROR,
		 "%s: kernel '%s' requires work-groups "
		 "of %zux%zux%zu; given %zux%zux%zu (work_dim %u; axes beyond "
		 "it count as 1)",
		 fn, k->name, req[0], req[1], req[2], given[0], given[1],
		 given[2], work_dim);
}

/*
 * Checks the NDRange; `*local` becomes the required size when NULL.
 * A required size (`reqd_work_group_size`, all three axes) must be met
 * exactly, axes beyond work_dim counting as 1.
 */
static int
check_range(const char *fn, struct clq_queue *q, struct clq_kernel *k,
	    unsigned work_dim, const size_t *global, const size_t **local)
{
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
				log_required(fn, q, k, work_dim, *local);
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
			log_required(fn, q, k, work_dim, *local);
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
	const size_t *offset; /* NULL: none */
	const size_t *global;
	const size_t *local;
};

/* Logs a failed clSetKernelArg(), saying what it was given. */
static void
set_arg_failed(struct clq_queue *q, const struct clq_kernel *k, cl_uint i,
	       const struct clq_arg *a, cl_int err)
{
	const struct clq__kernel_arg *want = &k->args[i];
	size_t size = a->kind == CLQ_ARG_KIND_ARRAY ? sizeof(cl_mem) : a->size;

	if (err != CL_INVALID_ARG_SIZE)
		clq__log(q->ctx, CLQ_LOG_ERROR,
			 "clSetKernelArg(kernel '%s', argument %u, %zu "
			 "bytes): %s (%s)",
			 k->name, i, size, clq_error_name(err),
			 clq_strerror(err));
	else if (!want->type_name)
		clq__log(q->ctx, CLQ_LOG_ERROR,
			 "clq_queue_enqueue_kernel: argument %u of kernel "
			 "'%s' takes another size than the %zu bytes given "
			 "(CL_INVALID_ARG_SIZE); the driver gives no argument "
			 "info, so clq cannot say which (a __global pointer "
			 "takes CLQ_ARG_ARRAY())",
			 i, k->name, size);
	else
		clq__log(q->ctx, CLQ_LOG_ERROR,
			 "clq_queue_enqueue_kernel: argument %u ('%s') of "
			 "kernel '%s', of type '%s', takes another size than "
			 "the %zu bytes given (CL_INVALID_ARG_SIZE)",
			 i, want->name, k->name, want->type_name, size);
}

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
		set_arg_failed(q, k, i, a, err);
	return err;
}

static int
launch_enqueue(struct clq_queue *q, cl_uint n_wait, const cl_event *list,
	       cl_event *ev, void *data)
{
	const struct launch *l = data;
	struct clq_kernel *k = l->kernel;
	cl_int err = CL_SUCCESS;

	pthread_mutex_lock(&k->lock);
	for (size_t i = 0; i < l->n_args && err == CL_SUCCESS; i++)
		err = set_arg(q, k, (cl_uint)i, &l->args[i]);
	if (err == CL_SUCCESS)
		err = clq__check(q->ctx,
				 clEnqueueNDRangeKernel(
					 q->cl, k->cl, l->work_dim, l->offset,
					 l->global, l->local, n_wait, list, ev),
				 "clEnqueueNDRangeKernel");
	pthread_mutex_unlock(&k->lock);
	return err;
}

/*
 * A launch in CHECK or AUTO: the array arguments become the command's
 * touches, by their access (CLQ_ARG_IN() reads, CLQ_ARG_OUT() writes, the
 * rest do both), except that a `__constant` or `const` parameter is only
 * read, so that round-1 code passing inputs with CLQ_ARG_ARRAY() is not
 * serialised.
 */
static int
enqueue_tracked(const char *fn, struct clq_queue *queue,
		struct clq__command *command, const struct clq_arg *args,
		size_t n_args, struct clq_event *const *wait, size_t n_wait,
		struct clq_event **event_out)
{
	struct clq__touch inline_touches[8], *touches = inline_touches;
	size_t n = 0;
	int rc;

	if (n_args > 8 && !(touches = malloc(n_args * sizeof(*touches))))
		return CL_OUT_OF_HOST_MEMORY;
	for (size_t i = 0; i < n_args; i++) {
		if (args[i].kind != CLQ_ARG_KIND_ARRAY)
			continue;
		touches[n].array = args[i].array;
		touches[n].mode = args[i].access ? (unsigned)args[i].access
						 : CLQ_ACCESS_READ_WRITE;
		if (command->kernel->args[i].read_only)
			touches[n].mode = CLQ__TOUCH_READ;
		n++;
	}
	command->touches = touches;
	command->n_touches = n;
	rc = clq__enqueue(queue, fn, command, wait, n_wait, event_out);
	if (touches != inline_touches)
		free(touches);
	return rc;
}

/* Offsets that, added to the global sizes, overflow: OpenCL's
 * CL_INVALID_GLOBAL_OFFSET, said before OpenCL sees them. */
static int
check_offset(struct clq_queue *q, const char *function, unsigned work_dim,
	     const size_t *offset, const size_t *global)
{
	for (unsigned i = 0; offset && i < work_dim; i++) {
		if (offset[i] > SIZE_MAX - global[i]) {
			clq__log(q->ctx, CLQ_LOG_ERROR,
				 "%s: offset %zu plus global size %zu on axis "
				 "%u overflows size_t",
				 function, offset[i], global[i], i);
			return CLQ_ERROR_OVERFLOW;
		}
	}
	return CLQ_SUCCESS;
}

/* Both enqueues; `function` names the caller in messages. */
static int
enqueue_kernel(const char *function, struct clq_queue *queue,
	       struct clq_kernel *kernel, const struct clq_arg *args,
	       size_t n_args, unsigned work_dim, const size_t *offset,
	       const size_t *global, const size_t *local,
	       struct clq_event *const *wait, size_t n_wait,
	       struct clq_event **event_out)
{
	const char *fn = function;
	struct launch l = {kernel, args,   n_args, work_dim,
			   offset, global, local};
	struct clq__command command = {.enqueue = launch_enqueue,
				       .data = &l,
				       .label = "kernel",
				       .label_arg =
					       kernel ? kernel->name : NULL,
				       .kernel = kernel};
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
	if ((rc = check_args(fn, queue, kernel, args, n_args, &command.bytes)) <
		    0 ||
	    (rc = check_range(fn, queue, kernel, work_dim, global, &l.local)) <
		    0 ||
	    (rc = check_offset(queue, fn, work_dim, offset, global)) < 0)
		return rc;
	if (clq__ordering(queue->ctx))
		return enqueue_tracked(fn, queue, &command, args, n_args, wait,
				       n_wait, event_out);
	return clq__enqueue(queue, fn, &command, wait, n_wait, event_out);
}

int
clq_queue_enqueue_kernel(struct clq_queue *queue, struct clq_kernel *kernel,
			 const struct clq_arg *args, size_t n_args,
			 unsigned work_dim, const size_t *global,
			 const size_t *local, struct clq_event *const *wait,
			 size_t n_wait, struct clq_event **event_out)
{
	return enqueue_kernel("clq_queue_enqueue_kernel", queue, kernel, args,
			      n_args, work_dim, NULL, global, local, wait,
			      n_wait, event_out);
}

int
clq_queue_enqueue_kernel_offset(struct clq_queue *queue,
				struct clq_kernel *kernel,
				const struct clq_arg *args, size_t n_args,
				unsigned work_dim, const size_t *offset,
				const size_t *global, const size_t *local,
				struct clq_event *const *wait, size_t n_wait,
				struct clq_event **event_out)
{
	return enqueue_kernel("clq_queue_enqueue_kernel_offset", queue, kernel,
			      args, n_args, work_dim, offset, global, local,
			      wait, n_wait, event_out);
}
