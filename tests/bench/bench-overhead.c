/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host cost of one enqueue through clq against the raw OpenCL calls doing
 * the same, in one process, on the same queue and objects.
 *
 *   bench-overhead [CALLS [BATCHES]]        (default 1000 calls, 30 batches)
 *   bench-overhead --only NAME [CALLS]      one loop, for callgrind
 *
 * Operations, each returning an event that the caller then releases:
 *   kernel  fill.cl's fill: three arguments (array, uint, float), set on
 *           every call, 1024 work-items in groups of 64;
 *   marker  a marker;
 *   write   an asynchronous write of 4 bytes from host memory (clq: a host
 *           array of its own, which the transfer keeps alive until it
 *           completes: the array holds its newest transfer per queue,
 *           bookkeeping raw OpenCL does not pay for);
 *   wwrite  the same from caller memory (clq: a wrapped host array, which
 *           transfers need not keep alive);
 *   xwrite  the write, on two queues in turn, each waiting also for the
 *           previous one (a cross-queue wait per command: what ordering's
 *           vector clocks merge at every call).
 * CLQ_ORDERING=check or auto in the environment measures clq's ordering
 * modes (raw OpenCL does the same either way).
 * Every command waits for one user event that completes only after the
 * timed loop, so that the device runs nothing while the host is timed and
 * only enqueue costs are measured; both sides pass that one-entry wait
 * list. A batch is CALLS enqueues timed by wall clock, then the gate opens
 * and the queue drains untimed; clq and raw batches alternate. Reported:
 * the median over batches of microseconds per call, and clq/raw.
 *
 * With --only, NAME is clq- or raw- followed by an operation's name: one
 * batch after one warm-up batch, the timed loop inside the function
 * `measured_loop`, so that
 *   valgrind --tool=callgrind --collect-atstart=no \
 *            --toggle-collect='measured_loop*' bench-overhead --only NAME N
 * counts the instructions of 2N calls (the warm-up batch is inside too);
 * tests/bench/callgrind-overhead.py does that for every loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <clq/clq.h>

#include "bench.h"

enum op { OP_KERNEL, OP_MARKER, OP_WRITE, OP_WRITE_WRAPPED, OP_XWRITE, N_OPS };
static const char *const op_names[N_OPS] = {"kernel", "marker", "write",
					    "wwrite", "xwrite"};

struct bench {
	struct clq_context *ctx;
	struct clq_queue *q;
	struct clq_queue *q2; /* xwrite's other queue */
	struct clq_program *program;
	struct clq_kernel *kernel;
	struct clq_device_array *array;	 /* the kernel's output */
	struct clq_device_array *target; /* the write's destination */
	struct clq_host_array *source;	 /* the write's 4 bytes */
	struct clq_host_array *wrapped;	 /* caller memory for wwrite */
	cl_uint word;			 /* that memory */
	struct clq_event *gate;
	cl_event raw_gate;
	/* xwrite: the previous write and the call count */
	struct clq_event *prev;
	cl_event raw_prev;
	unsigned long n_x;
};

static const size_t global_size = 1024, local_size = 64;

static int
clq_call(struct bench *b, enum op op)
{
	struct clq_event *ev = NULL;
	int rc;

	if (op == OP_KERNEL) {
		cl_uint n = (cl_uint)global_size;
		cl_float value = 1.0f;
		struct clq_arg args[3] = {CLQ_ARG_ARRAY(b->array),
					  CLQ_ARG_VALUE(n),
					  CLQ_ARG_VALUE(value)};

		rc = clq_queue_enqueue_kernel(b->q, b->kernel, args, 3, 1,
					      &global_size, &local_size,
					      &b->gate, 1, &ev);
	} else if (op == OP_MARKER) {
		rc = clq_queue_enqueue_marker(b->q, &b->gate, 1, &ev);
	} else if (op == OP_XWRITE) {
		struct clq_event *wait[2] = {b->gate, b->prev};

		rc = clq_device_array_set_async(
			b->target, b->n_x++ % 2 ? b->q2 : b->q, b->source, wait,
			b->prev ? 2 : 1, &ev);
		clq_event_unref(b->prev);
		b->prev = ev;
		return rc;
	} else {
		rc = clq_device_array_set_async(b->target, b->q,
						op == OP_WRITE ? b->source
							       : b->wrapped,
						&b->gate, 1, &ev);
	}
	clq_event_unref(ev);
	return rc;
}

static int
raw_call(struct bench *b, enum op op)
{
	cl_command_queue q = clq_queue_get_cl(b->q);
	cl_event ev = NULL;
	cl_int err;

	if (op == OP_KERNEL) {
		cl_kernel k = clq_kernel_get_cl(b->kernel);
		cl_mem mem = clq_device_array_get_cl(b->array);
		cl_uint n = (cl_uint)global_size;
		cl_float value = 1.0f;

		err = clSetKernelArg(k, 0, sizeof(mem), &mem);
		if (err == CL_SUCCESS)
			err = clSetKernelArg(k, 1, sizeof(n), &n);
		if (err == CL_SUCCESS)
			err = clSetKernelArg(k, 2, sizeof(value), &value);
		if (err == CL_SUCCESS)
			err = clEnqueueNDRangeKernel(q, k, 1, NULL,
						     &global_size, &local_size,
						     1, &b->raw_gate, &ev);
	} else if (op == OP_MARKER) {
		err = clEnqueueMarkerWithWaitList(q, 1, &b->raw_gate, &ev);
	} else if (op == OP_XWRITE) {
		cl_event wait[2] = {b->raw_gate, b->raw_prev};

		if (b->n_x++ % 2)
			q = clq_queue_get_cl(b->q2);
		err = clEnqueueWriteBuffer(
			q, clq_device_array_get_cl(b->target), CL_FALSE, 0, 4,
			clq_host_array_data(b->source), b->raw_prev ? 2 : 1,
			wait, &ev);
		/* OpenCL 1.2 section 5.13: the other queue must be flushed
		 * before a wait for its event is defined (clq does it). */
		if (err == CL_SUCCESS)
			err = clFlush(q);
		if (b->raw_prev)
			clReleaseEvent(b->raw_prev);
		b->raw_prev = ev;
		return err;
	} else {
		struct clq_host_array *h =
			op == OP_WRITE ? b->source : b->wrapped;

		err = clEnqueueWriteBuffer(
			q, clq_device_array_get_cl(b->target), CL_FALSE, 0, 4,
			clq_host_array_data(h), 1, &b->raw_gate, &ev);
	}
	if (ev)
		clReleaseEvent(ev);
	return err;
}

/* The timed loop; its name is what callgrind's --toggle-collect names. */
__attribute__((noinline)) static int
measured_loop(struct bench *b, enum op op, int use_clq, int calls)
{
	int rc = CLQ_SUCCESS;

	for (int i = 0; i < calls && rc == CLQ_SUCCESS; i++)
		rc = use_clq ? clq_call(b, op) : raw_call(b, op);
	return rc;
}

/* One batch behind a fresh gate; its seconds per call in *per_call. */
static int
batch(struct bench *b, enum op op, int use_clq, int calls, double *per_call)
{
	double t0;
	int rc;

	if ((rc = clq_user_event_create(b->ctx, &b->gate)) < 0)
		return rc;
	b->raw_gate = clq_event_get_cl(b->gate);
	t0 = bench_now();
	rc = measured_loop(b, op, use_clq, calls);
	*per_call = (bench_now() - t0) / calls;
	if (clq_user_event_complete(b->gate, CL_COMPLETE) < 0 && rc == 0)
		rc = CLQ_ERROR_COMMAND_FAILED;
	clq_event_unref(b->gate);
	b->gate = NULL;
	clq_event_unref(b->prev);
	b->prev = NULL;
	if (b->raw_prev)
		clReleaseEvent(b->raw_prev);
	b->raw_prev = NULL;
	if (rc == CLQ_SUCCESS)
		rc = clq_queue_finish(b->q);
	if (rc == CLQ_SUCCESS)
		rc = clq_queue_finish(b->q2);
	return rc;
}

static int
run_table(struct bench *b, int calls, int batches)
{
	double *t[2];
	int rc = CLQ_SUCCESS;

	t[0] = calloc((size_t)batches, sizeof(double));
	t[1] = calloc((size_t)batches, sizeof(double));
	if (!t[0] || !t[1]) {
		free(t[0]);
		free(t[1]);
		return CL_OUT_OF_HOST_MEMORY;
	}
	printf("%d calls x %d batches, median us per call (wall clock)\n",
	       calls, batches);
	printf("%-8s %10s %10s %8s\n", "op", "clq us", "raw us", "clq/raw");
	for (int op = 0; op < N_OPS && rc == CLQ_SUCCESS; op++) {
		double warm, raw, with;

		/* Warm-up: first-use costs (kernel args, allocations). */
		if ((rc = batch(b, (enum op)op, 1, calls, &warm)) < 0 ||
		    (rc = batch(b, (enum op)op, 0, calls, &warm)) < 0)
			break;
		for (int i = 0; i < batches && rc == CLQ_SUCCESS; i++) {
			int first = i % 2; /* alternate which side goes first */

			rc = batch(b, (enum op)op, first, calls, &t[first][i]);
			if (rc == CLQ_SUCCESS)
				rc = batch(b, (enum op)op, !first, calls,
					   &t[!first][i]);
		}
		if (rc < 0)
			break;
		raw = bench_median(t[0], (size_t)batches);
		with = bench_median(t[1], (size_t)batches);
		printf("%-8s %10.3f %10.3f %8.3f\n", op_names[op], with * 1e6,
		       raw * 1e6, with / raw);
	}
	free(t[0]);
	free(t[1]);
	return rc;
}

static int
run_only(struct bench *b, const char *name, int calls)
{
	for (int op = 0; op < N_OPS; op++) {
		for (int use_clq = 0; use_clq < 2; use_clq++) {
			char full[32];
			double per_call;
			int rc;

			snprintf(full, sizeof(full), "%s-%s",
				 use_clq ? "clq" : "raw", op_names[op]);
			if (strcmp(full, name) != 0)
				continue;
			if ((rc = batch(b, (enum op)op, use_clq, calls,
					&per_call)) < 0 ||
			    (rc = batch(b, (enum op)op, use_clq, calls,
					&per_call)) < 0)
				return rc;
			printf("%s: %d calls, %.3f us per call\n", full, calls,
			       per_call * 1e6);
			return CLQ_SUCCESS;
		}
	}
	fprintf(stderr, "unknown loop '%s'\n", name);
	return CLQ_ERROR_INVALID_ARGUMENT;
}

static int
setup(struct bench *b)
{
	const size_t one = 1;
	int rc;

	if ((rc = clq_context_create_default(&b->ctx)) < 0 ||
	    (rc = clq_queue_create(b->ctx, 0, &b->q)) < 0 ||
	    (rc = clq_queue_create(b->ctx, 0, &b->q2)) < 0 ||
	    (rc = clq_program_create_from_file(b->ctx, "fill.cl", NULL, 0, NULL,
					       &b->program)) < 0 ||
	    (rc = clq_kernel_create(b->program, "fill", &b->kernel)) < 0 ||
	    (rc = clq_device_array_create(b->ctx, CLQ_DTYPE_FLOAT32, 1,
					  &global_size, NULL, &b->array)) < 0 ||
	    (rc = clq_device_array_create(b->ctx, CLQ_DTYPE_UINT32, 1, &one,
					  NULL, &b->target)) < 0 ||
	    (rc = clq_host_array_create(b->ctx, CLQ_DTYPE_UINT32, 1, &one, NULL,
					&b->source)) < 0 ||
	    (rc = clq_host_array_wrap(CLQ_DTYPE_UINT32, 1, &one, NULL, &b->word,
				      &b->wrapped)) < 0)
		return rc;
	memset(clq_host_array_data(b->source), 0, 4);
	return CLQ_SUCCESS;
}

static void
teardown(struct bench *b)
{
	clq_host_array_unref(b->source);
	clq_host_array_unref(b->wrapped);
	clq_device_array_unref(b->target);
	clq_device_array_unref(b->array);
	clq_kernel_unref(b->kernel);
	clq_program_unref(b->program);
	clq_queue_unref(b->q);
	clq_queue_unref(b->q2);
	clq_context_unref(b->ctx);
}

int
main(int argc, char **argv)
{
	struct bench b = {0};
	const char *only = NULL;
	int calls, batches, rc;

	if (argc > 2 && strcmp(argv[1], "--only") == 0) {
		only = argv[2];
		argv += 2;
		argc -= 2;
	}
	calls = argc > 1 ? atoi(argv[1]) : 1000;
	batches = argc > 2 ? atoi(argv[2]) : 30;
	if (calls < 1 || batches < 1) {
		fprintf(stderr, "usage: bench-overhead [CALLS [BATCHES]]\n"
				"       bench-overhead --only NAME [CALLS]\n");
		return 2;
	}
	rc = setup(&b);
	if (rc == CLQ_SUCCESS) {
		struct clq_device *d = clq_context_get_device(b.ctx);

		printf("device: %s / %s\n", clq_device_get_platform_name(d),
		       clq_device_get_name(d));
		rc = only ? run_only(&b, only, calls)
			  : run_table(&b, calls, batches);
	}
	if (rc < 0)
		fprintf(stderr, "bench-overhead: %s (%s)\n", clq_error_name(rc),
			clq_strerror(rc));
	teardown(&b);
	return rc < 0 ? 1 : 0;
}
