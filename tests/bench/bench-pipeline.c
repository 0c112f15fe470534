/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reference for examples/double-buffer: the same sequential loop and
 * the same three-queue pipeline, written with raw OpenCL calls (wait lists
 * on each command), on the same kind of host memory (clq host arrays, so
 * pinned where the platform pins) and the same scale kernel.
 *
 *   bench-pipeline CHUNK_MIB CHUNKS BUFFERS ITERS [REPEATS [PROFILING]]
 *
 * PROFILING (default 1) creates the queues with CL_QUEUE_PROFILING_ENABLE,
 * as the demo's are; 0 leaves it off.
 * Prints, per repeat, the sequential and pipelined wall times and the
 * speedup, then their medians; checks every output element (x + ITERS).
 * Run it next to `double-buffer --json` with the same sizes and the ITERS
 * the demo's --balance chose.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <clq/clq.h>

#include "bench.h"

enum { MAX_REPEATS = 64 };

struct bench {
	size_t chunk_elems, chunks, buffers;
	cl_uint iters;
	cl_command_queue q[3]; /* upload, kernel, download */
	cl_kernel kernel;
	cl_mem *buf;
	float *in, *out;
	size_t local;
};

static cl_int
enqueue_scale(struct bench *b, cl_command_queue q, size_t buf, cl_uint n_wait,
	      const cl_event *wait, cl_event *ev)
{
	cl_uint n = (cl_uint)b->chunk_elems;
	cl_float one = 1.0f;
	size_t global = (b->chunk_elems + b->local - 1) / b->local * b->local;
	cl_int err;

	if ((err = clSetKernelArg(b->kernel, 0, sizeof(cl_mem),
				  &b->buf[buf])) != CL_SUCCESS ||
	    (err = clSetKernelArg(b->kernel, 1, sizeof(n), &n)) != CL_SUCCESS ||
	    (err = clSetKernelArg(b->kernel, 2, sizeof(one), &one)) !=
		    CL_SUCCESS ||
	    (err = clSetKernelArg(b->kernel, 3, sizeof(one), &one)) !=
		    CL_SUCCESS ||
	    (err = clSetKernelArg(b->kernel, 4, sizeof(b->iters), &b->iters)) !=
		    CL_SUCCESS)
		return err;
	return clEnqueueNDRangeKernel(q, b->kernel, 1, NULL, &global, &b->local,
				      n_wait, wait, ev);
}

static cl_int
run_sequential(struct bench *b)
{
	size_t bytes = b->chunk_elems * sizeof(float);
	cl_command_queue q = b->q[0];
	cl_int err = CL_SUCCESS;

	for (size_t c = 0; c < b->chunks && err == CL_SUCCESS; c++) {
		if ((err = clEnqueueWriteBuffer(q, b->buf[0], CL_FALSE, 0,
						bytes,
						b->in + c * b->chunk_elems, 0,
						NULL, NULL)) != CL_SUCCESS ||
		    (err = enqueue_scale(b, q, 0, 0, NULL, NULL)) !=
			    CL_SUCCESS ||
		    (err = clEnqueueReadBuffer(q, b->buf[0], CL_FALSE, 0, bytes,
					       b->out + c * b->chunk_elems, 0,
					       NULL, NULL)) != CL_SUCCESS)
			break;
		err = clFinish(q);
	}
	return err;
}

static cl_int
run_pipeline(struct bench *b, cl_event *ev)
{
	size_t bytes = b->chunk_elems * sizeof(float);
	cl_int err = CL_SUCCESS;

	for (size_t c = 0; c < b->chunks && err == CL_SUCCESS; c++) {
		size_t buf = c % b->buffers;
		cl_event *e = &ev[3 * c];
		cl_uint n_free = c >= b->buffers ? 1 : 0;
		const cl_event *free_ev =
			n_free ? &ev[3 * (c - b->buffers) + 2] : NULL;

		if ((err = clEnqueueWriteBuffer(
			     b->q[0], b->buf[buf], CL_FALSE, 0, bytes,
			     b->in + c * b->chunk_elems, n_free, free_ev,
			     &e[0])) != CL_SUCCESS ||
		    (err = enqueue_scale(b, b->q[1], buf, 1, &e[0], &e[1])) !=
			    CL_SUCCESS ||
		    (err = clEnqueueReadBuffer(b->q[2], b->buf[buf], CL_FALSE,
					       0, bytes,
					       b->out + c * b->chunk_elems, 1,
					       &e[1], &e[2])) != CL_SUCCESS)
			break;
		for (int s = 0; s < 3 && err == CL_SUCCESS; s++)
			err = clFlush(b->q[s]);
	}
	for (int s = 0; s < 3; s++) {
		cl_int ferr = clFinish(b->q[s]);

		if (err == CL_SUCCESS)
			err = ferr;
	}
	return err;
}

static size_t
count_mismatches(const struct bench *b)
{
	size_t bad = 0, total = b->chunks * b->chunk_elems;

	for (size_t i = 0; i < total; i++)
		bad += b->out[i] != b->in[i] + (float)b->iters;
	return bad;
}

/* One repeat: sequential, check, pipeline, check. */
static int
repeat(struct bench *b, cl_event *ev, double *seq, double *pipe)
{
	size_t total = b->chunks * b->chunk_elems;
	double t0;
	cl_int err;

	memset(b->out, 0, total * sizeof(float));
	t0 = bench_now();
	err = run_sequential(b);
	*seq = bench_now() - t0;
	if (err != CL_SUCCESS || count_mismatches(b))
		return err != CL_SUCCESS ? err : CLQ_ERROR_COMMAND_FAILED;
	memset(b->out, 0, total * sizeof(float));
	t0 = bench_now();
	err = run_pipeline(b, ev);
	*pipe = bench_now() - t0;
	for (size_t i = 0; i < 3 * b->chunks; i++) {
		if (ev[i])
			clReleaseEvent(ev[i]);
		ev[i] = NULL;
	}
	if (err != CL_SUCCESS || count_mismatches(b))
		return err != CL_SUCCESS ? err : CLQ_ERROR_COMMAND_FAILED;
	return CLQ_SUCCESS;
}

static int
run_all(struct bench *b, int repeats)
{
	double seq[MAX_REPEATS], pipe[MAX_REPEATS], speedup[MAX_REPEATS];
	cl_event *ev = calloc(3 * b->chunks, sizeof(*ev));
	int rc = CLQ_SUCCESS;

	if (!ev)
		return CL_OUT_OF_HOST_MEMORY;
	for (int r = 0; r < repeats && rc == CLQ_SUCCESS; r++) {
		rc = repeat(b, ev, &seq[r], &pipe[r]);
		speedup[r] = seq[r] / pipe[r];
		if (rc == CLQ_SUCCESS)
			printf("raw OpenCL: sequential %.3f ms, pipelined %.3f "
			       "ms, speedup %.3fx\n",
			       seq[r] * 1e3, pipe[r] * 1e3, speedup[r]);
	}
	free(ev);
	if (rc == CLQ_SUCCESS)
		printf("raw OpenCL median of %d: sequential %.3f ms, pipelined "
		       "%.3f ms, speedup %.3fx\n",
		       repeats, bench_median(seq, (size_t)repeats) * 1e3,
		       bench_median(pipe, (size_t)repeats) * 1e3,
		       bench_median(speedup, (size_t)repeats));
	return rc;
}

static void
fill_input(struct bench *b)
{
	uint64_t x = 0x9E3779B97F4A7C15u;

	for (size_t i = 0; i < b->chunks * b->chunk_elems; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b->in[i] = (float)(x % (1u << 20));
	}
}

int
main(int argc, char **argv)
{
	struct bench b = {0};
	struct clq_context *ctx = NULL;
	struct clq_program *prog = NULL;
	struct clq_kernel *k = NULL;
	struct clq_host_array *in = NULL, *out = NULL;
	int repeats = argc > 5 ? atoi(argv[5]) : 3;
	cl_command_queue_properties props =
		argc > 6 && atoi(argv[6]) == 0 ? 0 : CL_QUEUE_PROFILING_ENABLE;
	size_t total;
	cl_int err = CL_SUCCESS;
	int rc;

	if (argc < 5 || repeats < 1 || repeats > MAX_REPEATS) {
		fprintf(stderr,
			"usage: bench-pipeline CHUNK_MIB CHUNKS BUFFERS "
			"ITERS [REPEATS [PROFILING]]\n");
		return 2;
	}
	b.chunk_elems = (size_t)(strtod(argv[1], NULL) * 1048576.0 / 4);
	b.chunks = strtoul(argv[2], NULL, 10);
	b.buffers = strtoul(argv[3], NULL, 10);
	b.iters = (cl_uint)strtoul(argv[4], NULL, 10);
	if (!b.chunk_elems || !b.chunks || !b.buffers || !b.iters) {
		fprintf(stderr, "bench-pipeline: every size must be > 0\n");
		return 2;
	}
	total = b.chunks * b.chunk_elems;
	b.buf = calloc(b.buffers, sizeof(*b.buf));
	if (!b.buf || (rc = clq_context_create_default(&ctx)) < 0 ||
	    (rc = clq_host_array_create(ctx, CLQ_DTYPE_FLOAT32, 1, &total, NULL,
					&in)) < 0 ||
	    (rc = clq_host_array_create(ctx, CLQ_DTYPE_FLOAT32, 1, &total, NULL,
					&out)) < 0 ||
	    (rc = clq_program_create_from_file(ctx, "scale.cl", NULL, 0, NULL,
					       &prog)) < 0 ||
	    (rc = clq_kernel_create(prog, "scale", &k)) < 0) {
		fprintf(stderr, "bench-pipeline: setup failed\n");
		rc = EXIT_FAILURE;
		goto out;
	}
	b.in = clq_host_array_data(in);
	b.out = clq_host_array_data(out);
	b.kernel = clq_kernel_get_cl(k);
	b.local = clq_kernel_get_work_group_size(k);
	if (b.local > 256)
		b.local = 256;
	for (int s = 0; s < 3 && err == CL_SUCCESS; s++)
		b.q[s] = clCreateCommandQueue(
			clq_context_get_cl(ctx),
			clq_device_get_cl(clq_context_get_device(ctx)), props,
			&err);
	for (size_t i = 0; i < b.buffers && err == CL_SUCCESS; i++)
		b.buf[i] = clCreateBuffer(
			clq_context_get_cl(ctx), CL_MEM_READ_WRITE,
			b.chunk_elems * sizeof(float), NULL, &err);
	fill_input(&b);
	if (err != CL_SUCCESS) {
		rc = err;
	} else {
		/* Warm up: one chunk through the pipeline's queues. */
		size_t chunks = b.chunks;
		double seq, pipe;
		cl_event ev[3] = {NULL};

		b.chunks = 1;
		rc = repeat(&b, ev, &seq, &pipe);
		b.chunks = chunks;
		if (rc == CLQ_SUCCESS)
			rc = run_all(&b, repeats);
	}
	if (rc < 0)
		fprintf(stderr, "bench-pipeline: %s\n", clq_error_name(rc));
	rc = rc < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
out:
	for (size_t i = 0; b.buf && i < b.buffers; i++)
		if (b.buf[i])
			clReleaseMemObject(b.buf[i]);
	for (int s = 0; s < 3; s++)
		if (b.q[s])
			clReleaseCommandQueue(b.q[s]);
	free(b.buf);
	clq_kernel_unref(k);
	clq_program_unref(prog);
	clq_host_array_unref(in);
	clq_host_array_unref(out);
	clq_context_unref(ctx);
	return rc;
}
