/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * clq-time kernel FILE.cl NAME: builds a kernel from a file, makes its
 * arguments from --arg (random buffers, scalars, __local sizes) and times
 * its launches; --bytes and --flops turn the time into GB/s and GFLOP/s.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clq-time.h"

/*
 * Kernel argument types, each with both of its spellings: the OpenCL C
 * name a kernel declares and clq's dtype name. The complex dtypes are
 * arrays only: a scalar of them has no one number to read.
 */
static const struct arg_type {
	const char *cl_name;
	enum clq_dtype dtype;
} arg_types[] = {
	{"char", CLQ_DTYPE_INT8},	   {"uchar", CLQ_DTYPE_UINT8},
	{"short", CLQ_DTYPE_INT16},	   {"ushort", CLQ_DTYPE_UINT16},
	{"int", CLQ_DTYPE_INT32},	   {"uint", CLQ_DTYPE_UINT32},
	{"long", CLQ_DTYPE_INT64},	   {"ulong", CLQ_DTYPE_UINT64},
	{"half", CLQ_DTYPE_FLOAT16},	   {"float", CLQ_DTYPE_FLOAT32},
	{"double", CLQ_DTYPE_FLOAT64},	   {"float2", CLQ_DTYPE_COMPLEX64},
	{"double2", CLQ_DTYPE_COMPLEX128},
};

#define N_ARG_TYPES (sizeof(arg_types) / sizeof(*arg_types))

static bool
is_complex(enum clq_dtype dtype)
{
	return dtype == CLQ_DTYPE_COMPLEX64 || dtype == CLQ_DTYPE_COMPLEX128;
}

/* The type spelled by the `len` characters at `name`, either way. */
static const struct arg_type *
arg_type_from_name(const char *name, size_t len)
{
	for (size_t t = 0; t < N_ARG_TYPES; t++) {
		const char *cl = arg_types[t].cl_name;
		const char *clq = clq_dtype_name(arg_types[t].dtype);

		if ((strlen(cl) == len && strncmp(cl, name, len) == 0) ||
		    (strlen(clq) == len && strncmp(clq, name, len) == 0))
			return &arg_types[t];
	}
	return NULL;
}

/* "char/int8, uchar/uint8, ...": every spelling, for error messages. */
static const char *
arg_type_list(bool scalars, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t t = 0; t < N_ARG_TYPES && used < size; t++) {
		if (scalars && is_complex(arg_types[t].dtype))
			continue;
		used += (size_t)snprintf(buf + used, size - used, "%s%s/%s",
					 used ? ", " : "", arg_types[t].cl_name,
					 clq_dtype_name(arg_types[t].dtype));
	}
	return buf;
}

struct kernel_args {
	struct clq_arg args[MAX_ARGS];
	union {
		int64_t i;
		uint64_t u;
		float f;
		double d;
		uint16_t h;
		unsigned char bytes[8];
	} values[MAX_ARGS];
	struct clq_device_array *arrays[MAX_ARGS];
	size_t n;
};

static uint64_t
random_next(uint64_t *state)
{
	/* xorshift64*: fixed seed, so runs are repeatable */
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545F4914F6CDD1DULL;
}

/* Random elements: floats uniform in [0, 1), integers any bits. */
static void
fill_random(void *data, enum clq_dtype dtype, size_t count, uint64_t *rng)
{
	size_t esize = clq_dtype_size(dtype);

	switch (dtype) {
	case CLQ_DTYPE_FLOAT32:
	case CLQ_DTYPE_COMPLEX64:
		for (size_t i = 0; i < count * esize / 4; i++)
			((float *)data)[i] =
				(float)(random_next(rng) >> 40) * 0x1p-24f;
		break;
	case CLQ_DTYPE_FLOAT64:
	case CLQ_DTYPE_COMPLEX128:
		for (size_t i = 0; i < count * esize / 8; i++)
			((double *)data)[i] =
				(double)(random_next(rng) >> 11) * 0x1p-53;
		break;
	case CLQ_DTYPE_FLOAT16:
		/* exponent of 0.5 to 1: [0.5, 1) with random mantissa */
		for (size_t i = 0; i < count; i++)
			((uint16_t *)data)[i] =
				(uint16_t)(0x3800 | (random_next(rng) & 0x3ff));
		break;
	default:
		for (size_t i = 0; i < count * esize; i++)
			((unsigned char *)data)[i] =
				(unsigned char)(random_next(rng) >> 56);
		break;
	}
}

/* Work-items of one launch: the product of --global. */
static size_t
global_items(const struct options *opt)
{
	size_t n = 1;

	for (unsigned i = 0; i < opt->work_dim; i++)
		n *= opt->global[i];
	return n;
}

/* buf:DTYPE:COUNT: a device array filled with random data. */
static int
make_buffer_arg(struct session *s, const char *spec, struct kernel_args *ka,
		uint64_t *rng)
{
	const char *dtype_name = spec + 4, *colon = strchr(dtype_name, ':');
	const struct arg_type *type = NULL;
	struct clq_host_array *h = NULL;
	struct clq_device_array **a = &ka->arrays[ka->n];
	size_t count, items = global_items(s->opt);
	char list[400];
	int rc;

	if (!colon || parse_count(colon + 1, false, &count) < 0 || count == 0)
		return usage_error("bad --arg '%s' (buf:DTYPE:COUNT, e.g. "
				   "buf:float32:1M or buf:float:1M)",
				   spec);
	type = arg_type_from_name(dtype_name, (size_t)(colon - dtype_name));
	if (!type)
		return usage_error("bad --arg '%s': unknown type '%.*s' (one "
				   "of %s)",
				   spec, (int)(colon - dtype_name), dtype_name,
				   arg_type_list(false, list, sizeof(list)));
	if (count < items)
		fprintf(stderr,
			"clq-time: warning: --arg %zu '%s' has %zu elements, "
			"fewer than the %zu work-items of --global: a kernel "
			"that indexes it by global id reads past its end\n",
			ka->n + 1, spec, count, items);
	if ((rc = clq_device_array_create(s->ctx, type->dtype, 1, &count, NULL,
					  a)) < 0 ||
	    (rc = clq_host_array_create(s->ctx, type->dtype, 1, &count, NULL,
					&h)) < 0) {
		clq_host_array_unref(h);
		return fail(spec, rc);
	}
	fill_random(clq_host_array_data(h), type->dtype, count, rng);
	if (s->timeline) {
		char label[32];

		snprintf(label, sizeof(label), "upload --arg %zu", ka->n + 1);
		rc = clq_queue_set_next_label(s->queue, label);
	}
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_set(*a, s->queue, h);
	clq_host_array_unref(h);
	if (rc < 0)
		return fail(spec, rc);
	ka->args[ka->n] = CLQ_ARG_ARRAY(*a);
	return CLQ_SUCCESS;
}

/* IEEE half-precision bits of `f`, rounded to nearest even. */
static uint16_t
half_from_float(float f)
{
	uint32_t x, mant;
	uint16_t sign, h;
	int32_t exp;

	memcpy(&x, &f, sizeof(x));
	sign = (uint16_t)((x >> 16) & 0x8000);
	mant = x & 0x7fffff;
	exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
	if (exp == 0xff - 127 + 15) /* inf or nan */
		return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
	if (exp >= 0x1f)
		return (uint16_t)(sign | 0x7c00);
	if (exp <= 0) {
		/* subnormal: the implicit bit joins the mantissa */
		unsigned shift = (unsigned)(14 - exp);
		uint32_t rem, halfway;

		if (exp < -10)
			return sign;
		mant |= 0x800000;
		h = (uint16_t)(mant >> shift);
		rem = mant & ((1u << shift) - 1);
		halfway = 1u << (shift - 1);
		if (rem > halfway || (rem == halfway && (h & 1)))
			h++;
		return (uint16_t)(sign | h);
	}
	h = (uint16_t)(((uint32_t)exp << 10) | (mant >> 13));
	if ((mant & 0x1fff) > 0x1000 || ((mant & 0x1fff) == 0x1000 && (h & 1)))
		h++; /* a carry into the exponent is right, up to inf */
	return (uint16_t)(sign | h);
}

/* TYPE:VALUE: a scalar of `dtype`, range-checked. */
/* The clq argument type of a scalar of `dtype` (half: see program.h). */
static enum clq_arg_type
arg_type_of(enum clq_dtype dtype)
{
	switch (dtype) {
	case CLQ_DTYPE_INT8:
		return CLQ_ARG_TYPE_CHAR;
	case CLQ_DTYPE_UINT8:
		return CLQ_ARG_TYPE_UCHAR;
	case CLQ_DTYPE_INT16:
		return CLQ_ARG_TYPE_SHORT;
	case CLQ_DTYPE_UINT16:
	case CLQ_DTYPE_FLOAT16:
		return CLQ_ARG_TYPE_USHORT;
	case CLQ_DTYPE_INT32:
		return CLQ_ARG_TYPE_INT;
	case CLQ_DTYPE_UINT32:
		return CLQ_ARG_TYPE_UINT;
	case CLQ_DTYPE_INT64:
		return CLQ_ARG_TYPE_LONG;
	case CLQ_DTYPE_UINT64:
		return CLQ_ARG_TYPE_ULONG;
	case CLQ_DTYPE_FLOAT32:
		return CLQ_ARG_TYPE_FLOAT;
	case CLQ_DTYPE_FLOAT64:
		return CLQ_ARG_TYPE_DOUBLE;
	default:
		return CLQ_ARG_TYPE_UNKNOWN;
	}
}

static int
make_scalar_arg(const char *spec, const char *text, enum clq_dtype dtype,
		struct kernel_args *ka)
{
	size_t size = clq_dtype_size(dtype);
	unsigned bits = (unsigned)size * 8;
	bool is_float = dtype == CLQ_DTYPE_FLOAT16 ||
			dtype == CLQ_DTYPE_FLOAT32 ||
			dtype == CLQ_DTYPE_FLOAT64;
	bool is_signed = dtype == CLQ_DTYPE_INT8 || dtype == CLQ_DTYPE_INT16 ||
			 dtype == CLQ_DTYPE_INT32 || dtype == CLQ_DTYPE_INT64;
	char *end;
	int64_t i = 0;
	uint64_t u = 0;
	bool ok;

	errno = 0;
	if (is_float) {
		double d = strtod(text, &end);

		ok = end != text && !*end && !errno;
		if (dtype == CLQ_DTYPE_FLOAT64) {
			ka->values[ka->n].d = d;
		} else {
			float f = (float)d;

			/* a finite value that the type cannot hold */
			ok = ok && (!isfinite(d) || isfinite(f));
			if (dtype == CLQ_DTYPE_FLOAT32) {
				ka->values[ka->n].f = f;
			} else {
				uint16_t h = half_from_float(f);

				ok = ok &&
				     (!isfinite(d) || (h & 0x7c00) != 0x7c00);
				ka->values[ka->n].h = h;
			}
		}
	} else if (is_signed) {
		i = strtoll(text, &end, 0);
		ok = end != text && !*end && !errno &&
		     (bits == 64 || (i >= -(INT64_C(1) << (bits - 1)) &&
				     i < (INT64_C(1) << (bits - 1))));
		u = (uint64_t)i;
	} else {
		u = strtoull(text, &end, 0);
		ok = end != text && !*end && !errno && text[0] != '-' &&
		     (bits == 64 || u < (UINT64_C(1) << bits));
	}
	if (!ok)
		return usage_error("bad --arg '%s' (a value out of range or "
				   "not a number)",
				   spec);
	if (!is_float) {
		/* the low `size` bytes, in host order, as the kernel reads */
		uint8_t v8 = (uint8_t)u;
		uint16_t v16 = (uint16_t)u;
		uint32_t v32 = (uint32_t)u;

		switch (size) {
		case 1:
			memcpy(ka->values[ka->n].bytes, &v8, 1);
			break;
		case 2:
			memcpy(ka->values[ka->n].bytes, &v16, 2);
			break;
		case 4:
			memcpy(ka->values[ka->n].bytes, &v32, 4);
			break;
		default:
			memcpy(ka->values[ka->n].bytes, &u, 8);
			break;
		}
	}
	ka->args[ka->n] = CLQ_ARG_BYTES(ka->values[ka->n].bytes, size);
	/* Typed, so that clq refuses an int for a float parameter. */
	ka->args[ka->n].type = arg_type_of(dtype);
	return CLQ_SUCCESS;
}

/* Turns the --arg specs into kernel arguments. */
static int
make_kernel_args(struct session *s, struct kernel_args *ka)
{
	uint64_t rng = 0x9E3779B97F4A7C15ULL;

	for (size_t k = 0; k < s->opt->n_args; k++) {
		const char *spec = s->opt->arg_specs[k];
		const char *colon = strchr(spec, ':');
		const struct arg_type *type = NULL;
		char list[400];
		int rc;

		if (colon)
			type = arg_type_from_name(spec, (size_t)(colon - spec));
		if (strncmp(spec, "buf:", 4) == 0) {
			rc = make_buffer_arg(s, spec, ka, &rng);
		} else if (strncmp(spec, "local:", 6) == 0) {
			size_t bytes;

			if (parse_count(spec + 6, true, &bytes) < 0 ||
			    bytes == 0)
				return usage_error("bad --arg '%s' "
						   "(local:BYTES)",
						   spec);
			ka->args[ka->n] = CLQ_ARG_LOCAL(bytes);
			rc = CLQ_SUCCESS;
		} else if (!colon) {
			return usage_error("bad --arg '%s' (buf:DTYPE:COUNT, "
					   "TYPE:VALUE or local:BYTES)",
					   spec);
		} else if (!type || is_complex(type->dtype)) {
			return usage_error(
				"bad --arg '%s': '%.*s' is %s (scalars: %s)",
				spec, (int)(colon - spec), spec,
				type ? "for buffers only" : "not a type",
				arg_type_list(true, list, sizeof(list)));
		} else {
			rc = make_scalar_arg(spec, colon + 1, type->dtype, ka);
		}
		if (rc != CLQ_SUCCESS)
			return rc;
		ka->n++;
	}
	return CLQ_SUCCESS;
}

struct launch {
	struct clq_queue *queue;
	struct clq_kernel *kernel;
	const struct kernel_args *args;
	const struct options *opt;
};

static int
enqueue_launch(void *data, struct clq_event **event_out)
{
	const struct launch *l = data;

	return clq_queue_enqueue_kernel(
		l->queue, l->kernel, l->args->args, l->args->n,
		l->opt->work_dim, l->opt->global,
		l->opt->local_dim ? l->opt->local : NULL, NULL, 0, event_out);
}

static void
print_kernel(const struct session *s, struct stats device, struct stats wall)
{
	const struct options *o = s->opt;
	double t = device.median;

	if (o->json) {
		json_begin(stdout, "kernel", s->device);
		fputs(",\n  \"file\": ", stdout);
		json_write_string(stdout, o->file);
		fputs(",\n  \"kernel\": ", stdout);
		json_write_string(stdout, o->kernel_name);
		printf(",\n  \"global\": [");
		for (unsigned i = 0; i < o->work_dim; i++)
			printf("%s%zu", i ? ", " : "", o->global[i]);
		printf("],\n  \"local\": ");
		if (o->local_dim) {
			putchar('[');
			for (unsigned i = 0; i < o->local_dim; i++)
				printf("%s%zu", i ? ", " : "", o->local[i]);
			putchar(']');
		} else {
			fputs("null", stdout);
		}
		fputs(",\n  \"budget_s\": ", stdout);
		json_write_number(stdout, o->budget);
		fputs(",\n  \"bytes\": ", stdout);
		json_write_count(stdout, o->bytes);
		fputs(",\n  \"flops\": ", stdout);
		json_write_count(stdout, o->flops);
		fputs(",\n  \"device_s\": ", stdout);
		json_write_stats(stdout, device);
		fputs(",\n  \"wall_s\": ", stdout);
		json_write_stats(stdout, wall);
		fputs(",\n  \"spread\": ", stdout);
		json_write_number(stdout,
				  t > 0 ? (device.max - device.min) / t : 0);
		fputs(",\n  \"gbps\": ", stdout);
		if (o->bytes > 0)
			json_write_number(stdout, t > 0 ? o->bytes / t * 1e-9
							: INFINITY);
		else
			fputs("null", stdout);
		fputs(",\n  \"gflops\": ", stdout);
		if (o->flops > 0)
			json_write_number(stdout, t > 0 ? o->flops / t * 1e-9
							: INFINITY);
		else
			fputs("null", stdout);
		printf("\n}\n");
		return;
	}
	printf("clq-time kernel %s from %s on %s (%s)\n", o->kernel_name,
	       o->file, clq_device_get_name(s->device),
	       clq_device_get_platform_name(s->device));
	printf("runs %zu; device time min %.3f us, median %.3f us, max %.3f "
	       "us (max - min = %.1f%% of the median); wall median %.3f us\n",
	       device.n, device.min * 1e6, t * 1e6, device.max * 1e6,
	       t > 0 ? 100 * (device.max - device.min) / t : 0.0,
	       wall.median * 1e6);
	if (o->bytes > 0)
		printf("%.3f GB/s (%.0f bytes per launch)\n",
		       o->bytes / t * 1e-9, o->bytes);
	if (o->flops > 0)
		printf("%.3f GFLOP/s (%.0f operations per launch)\n",
		       o->flops / t * 1e-9, o->flops);
}

int
run_kernel(const struct options *opt)
{
	static const char *const dirs[] = {"."};
	struct kernel_args ka = {.n = 0};
	struct clq_program *program = NULL;
	struct clq_kernel *kernel = NULL;
	struct stats device, wall;
	struct session s;
	int rc;

	if ((rc = session_open(&s, opt, "kernels")) < 0)
		goto out;
	if ((rc = clq_program_create_from_file(s.ctx, opt->file, dirs, 1,
					       opt->build_options, &program)) <
	    0) {
		fail(opt->file, rc);
		goto out;
	}
	if ((rc = clq_kernel_create(program, opt->kernel_name, &kernel)) < 0) {
		fail(opt->kernel_name, rc);
		goto out;
	}
	if ((rc = make_kernel_args(&s, &ka)) != CLQ_SUCCESS)
		goto out;
	{
		struct launch l = {s.queue, kernel, &ka, opt};
		struct timed timed = {enqueue_launch, &l, s.queue, NULL};
		char label[160];

		snprintf(label, sizeof(label), "kernel %s", opt->kernel_name);
		timed.label = s.timeline ? label : NULL;
		rc = time_repeatedly(&timed, opt->budget, &device, &wall);
	}
	if (rc < 0)
		fail("launching the kernel", rc);
	else
		print_kernel(&s, device, wall);
out:
	for (size_t i = 0; i < MAX_ARGS; i++)
		clq_device_array_unref(ka.arrays[i]);
	clq_kernel_unref(kernel);
	clq_program_unref(program);
	return session_close(&s, rc);
}

void
kernel_help_notes(FILE *out)
{
	fputs("\nkernel FILE.cl NAME: FILE.cl is looked up in the current "
	      "directory,\n"
	      "CLQ_KERNEL_PATH and clq's kernel directory. Each launch is "
	      "timed on\n"
	      "the device.\n"
	      "--arg SPEC, one per kernel argument:\n",
	      out);
	help_item(out, "  buf:DTYPE:COUNT",
		  "a device array of COUNT elements (a count\n"
		  "as for --flops) filled with random data");
	help_item(out, "  TYPE:VALUE", "a scalar");
	help_item(out, "  local:BYTES", "a __local buffer of BYTES bytes");
	fputs("DTYPE and TYPE are OpenCL C names or clq dtype names, either "
	      "way:\n",
	      out);
	for (size_t t = 0; t < N_ARG_TYPES; t++) {
		char pair[32];
		bool last = t % 3 == 2 || t + 1 == N_ARG_TYPES;

		snprintf(pair, sizeof(pair), "%s = %s", arg_types[t].cl_name,
			 clq_dtype_name(arg_types[t].dtype));
		fprintf(out, last ? "%s%s\n" : "%s%-22s", t % 3 ? "" : "  ",
			pair);
	}
	fputs("(float2 and double2, the complex types, for buffers only.) A "
	      "buffer\n"
	      "with fewer elements than the global work size draws a "
	      "warning: a\n"
	      "kernel that indexes it by global id would read past its end.\n",
	      out);
}
