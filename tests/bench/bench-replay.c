/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host cost per stage of running a sequence again (its plan already
 * made) against enqueueing the same kernels one by one, through clq and
 * through raw OpenCL, on one queue.
 *
 *   bench-replay [RUNS [BATCHES [K]]]   (default 200 runs, 30 batches, K 4)
 *   bench-replay --only NAME [RUNS [K]] one loop, for callgrind
 *
 * The stages: fill X, scale X in place, transpose X into Y (64 x 64
 * floats; clq's kernel operations, default work-group and tile), that
 * triple K times: 3K stages per run, each after the one before. Loops:
 *   seq  clq_sequence_run() of a sequence of the 3K operations, children
 *        on the run's queue; the run's event (a marker) released;
 *   clqev what a run needs at the least on one queue: the 3K kernels
 *        through clq_queue_enqueue_kernel(), each returning its event
 *        (as a child does), no wait lists, then a marker after the last
 *        (as the run's event); every event released;
 *   clq  the 3K kernels through clq_queue_enqueue_kernel() with the same
 *        arguments and launch sizes, the last one's event released;
 *   raw  the same through clSetKernelArg() and clEnqueueNDRangeKernel().
 * Every run waits for one user event that completes only after the timed
 * loop, so that the device runs nothing while the host is timed (seq: the
 * run's wait list; clq and raw: the first kernel's). A batch is RUNS runs
 * timed by wall clock; then the gate opens and the queue drains untimed.
 * Loops alternate batch by batch. Reported: the median over batches of
 * microseconds per stage, and each loop over raw.
 *
 * With --only, NAME is seq, clqev, clq or raw: one batch after one warm-up
 * batch, both inside the function `measured_loop`, so that
 *   valgrind --tool=callgrind --collect-atstart=no \
 *            --toggle-collect='measured_loop*' bench-replay --only NAME N
 * counts the instructions of 2 N runs; tests/bench/callgrind-replay.py
 * does that for each loop and prints instructions per stage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clq/clq.h>

#include "bench.h"

enum loop { LOOP_SEQ, LOOP_EVENTS, LOOP_CLQ, LOOP_RAW, N_LOOPS };
static const char *const loop_names[N_LOOPS] = {"seq", "clqev", "clq", "raw"};

#define SIDE 64
#define WG 256
#define TILE 16

struct bench {
	struct clq_context *ctx;
	struct clq_queue *q;
	int k; /* repeats of the triple */
	/* the sequence's */
	struct clq_dimension *dims[2];
	struct clq_operation *ops[3];
	struct clq_sequence *seq;
	/* the plain loops' */
	struct clq_program *programs[3];
	struct clq_kernel *kernels[3]; /* fill, scale, transpose */
	struct clq_device_array *x, *y;
	struct clq_event *gate;
	cl_event raw_gate;
};

static const cl_float fill_value = 1.0f, scale_a = 0.5f, scale_b = 1.0f;
static const cl_uint scale_iters = 1;

static int
run_seq(struct bench *b)
{
	struct clq_event *e = NULL;
	int rc = clq_sequence_run(b->seq, b->q, &b->gate, 1, &e);

	clq_event_unref(e);
	return rc;
}

static int
run_clq(struct bench *b, int events)
{
	cl_uint n = SIDE * SIDE, side = SIDE;
	const size_t flat = SIDE * SIDE, wg = WG;
	const size_t global[2] = {SIDE, SIDE}, local[2] = {TILE, TILE};
	struct clq_arg fill[3] = {CLQ_ARG_OUT(b->x), CLQ_ARG_VALUE(n),
				  CLQ_ARG_VALUE(fill_value)};
	struct clq_arg scale[5] = {
		CLQ_ARG_INOUT(b->x), CLQ_ARG_VALUE(n), CLQ_ARG_VALUE(scale_a),
		CLQ_ARG_VALUE(scale_b), CLQ_ARG_VALUE(scale_iters)};
	struct clq_arg tr[6] = {CLQ_ARG_OUT(b->y),   CLQ_ARG_VALUE(side),
				CLQ_ARG_IN(b->x),    CLQ_ARG_VALUE(side),
				CLQ_ARG_VALUE(side), CLQ_ARG_VALUE(side)};
	struct clq_event *e[3] = {NULL, NULL, NULL}, *m = NULL;
	int rc = CLQ_SUCCESS;

	for (int i = 0; i < b->k && rc == CLQ_SUCCESS; i++) {
		clq_event_unref(e[0]);
		clq_event_unref(e[1]);
		clq_event_unref(e[2]);
		e[0] = e[1] = e[2] = NULL;
		rc = clq_queue_enqueue_kernel(b->q, b->kernels[0], fill, 3, 1,
					      &flat, &wg, &b->gate, i == 0,
					      events ? &e[0] : NULL);
		if (rc == CLQ_SUCCESS)
			rc = clq_queue_enqueue_kernel(
				b->q, b->kernels[1], scale, 5, 1, &flat, &wg,
				NULL, 0, events ? &e[1] : NULL);
		if (rc == CLQ_SUCCESS)
			rc = clq_queue_enqueue_kernel(
				b->q, b->kernels[2], tr, 6, 2, global, local,
				NULL, 0,
				events || i == b->k - 1 ? &e[2] : NULL);
	}
	if (rc == CLQ_SUCCESS && events)
		rc = clq_queue_enqueue_marker(b->q, &e[2], 1, &m);
	clq_event_unref(m);
	clq_event_unref(e[0]);
	clq_event_unref(e[1]);
	clq_event_unref(e[2]);
	return rc;
}

static int
run_raw(struct bench *b)
{
	cl_command_queue q = clq_queue_get_cl(b->q);
	cl_kernel kf = clq_kernel_get_cl(b->kernels[0]);
	cl_kernel ks = clq_kernel_get_cl(b->kernels[1]);
	cl_kernel kt = clq_kernel_get_cl(b->kernels[2]);
	cl_mem x = clq_device_array_get_cl(b->x);
	cl_mem y = clq_device_array_get_cl(b->y);
	cl_uint n = SIDE * SIDE, side = SIDE;
	const size_t flat = SIDE * SIDE, wg = WG;
	const size_t global[2] = {SIDE, SIDE}, local[2] = {TILE, TILE};
	cl_event e = NULL;
	cl_int err = CL_SUCCESS;

	for (int i = 0; i < b->k && err == CL_SUCCESS; i++) {
		err = clSetKernelArg(kf, 0, sizeof(x), &x);
		err |= clSetKernelArg(kf, 1, sizeof(n), &n);
		err |= clSetKernelArg(kf, 2, sizeof(fill_value), &fill_value);
		if (err == CL_SUCCESS)
			err = clEnqueueNDRangeKernel(
				q, kf, 1, NULL, &flat, &wg, i == 0,
				i == 0 ? &b->raw_gate : NULL, NULL);
		err |= clSetKernelArg(ks, 0, sizeof(x), &x);
		err |= clSetKernelArg(ks, 1, sizeof(n), &n);
		err |= clSetKernelArg(ks, 2, sizeof(scale_a), &scale_a);
		err |= clSetKernelArg(ks, 3, sizeof(scale_b), &scale_b);
		err |= clSetKernelArg(ks, 4, sizeof(scale_iters), &scale_iters);
		if (err == CL_SUCCESS)
			err = clEnqueueNDRangeKernel(q, ks, 1, NULL, &flat, &wg,
						     0, NULL, NULL);
		err |= clSetKernelArg(kt, 0, sizeof(y), &y);
		err |= clSetKernelArg(kt, 1, sizeof(side), &side);
		err |= clSetKernelArg(kt, 2, sizeof(x), &x);
		err |= clSetKernelArg(kt, 3, sizeof(side), &side);
		err |= clSetKernelArg(kt, 4, sizeof(side), &side);
		err |= clSetKernelArg(kt, 5, sizeof(side), &side);
		if (err == CL_SUCCESS)
			err = clEnqueueNDRangeKernel(q, kt, 2, NULL, global,
						     local, 0, NULL,
						     i == b->k - 1 ? &e : NULL);
	}
	if (e)
		clReleaseEvent(e);
	return err == CL_SUCCESS ? CLQ_SUCCESS : CLQ_ERROR_COMMAND_FAILED;
}

/* The timed loop; its name is what callgrind's --toggle-collect names. */
__attribute__((noinline)) static int
measured_loop(struct bench *b, enum loop loop, int runs)
{
	int rc = CLQ_SUCCESS;

	for (int i = 0; i < runs && rc == CLQ_SUCCESS; i++)
		rc = loop == LOOP_SEQ	   ? run_seq(b)
		     : loop == LOOP_EVENTS ? run_clq(b, 1)
		     : loop == LOOP_CLQ	   ? run_clq(b, 0)
					   : run_raw(b);
	return rc;
}

/* One batch behind a fresh gate; seconds per stage in *per_stage. */
static int
batch(struct bench *b, enum loop loop, int runs, double *per_stage)
{
	double t0;
	int rc;

	if ((rc = clq_user_event_create(b->ctx, &b->gate)) < 0)
		return rc;
	b->raw_gate = clq_event_get_cl(b->gate);
	t0 = bench_now();
	rc = measured_loop(b, loop, runs);
	*per_stage = (bench_now() - t0) / ((double)runs * 3 * b->k);
	if (clq_user_event_complete(b->gate, CL_COMPLETE) < 0 && rc == 0)
		rc = CLQ_ERROR_COMMAND_FAILED;
	clq_event_unref(b->gate);
	b->gate = NULL;
	if (rc == CLQ_SUCCESS)
		rc = clq_queue_finish(b->q);
	return rc;
}

static int
run_table(struct bench *b, int runs, int batches)
{
	double *t[N_LOOPS], med[N_LOOPS], warm;
	int rc = CLQ_SUCCESS;

	for (int l = 0; l < N_LOOPS; l++)
		t[l] = calloc((size_t)batches, sizeof(double));
	for (int l = 0; l < N_LOOPS; l++)
		if (!t[l])
			rc = CL_OUT_OF_HOST_MEMORY;
	/* warm-up: first-use costs, the sequence's plan */
	for (int l = 0; l < N_LOOPS && rc == CLQ_SUCCESS; l++)
		rc = batch(b, (enum loop)l, runs, &warm);
	for (int i = 0; i < batches && rc == CLQ_SUCCESS; i++)
		for (int j = 0; j < N_LOOPS && rc == CLQ_SUCCESS; j++) {
			int l = (i + j) % N_LOOPS; /* rotate who goes first */

			rc = batch(b, (enum loop)l, runs, &t[l][i]);
		}
	if (rc == CLQ_SUCCESS) {
		printf("%d runs of %d stages x %d batches, median us per "
		       "stage (wall clock, host only)\n",
		       runs, 3 * b->k, batches);
		printf("%-6s %10s %8s\n", "loop", "us/stage", "/raw");
		for (int l = 0; l < N_LOOPS; l++)
			med[l] = bench_median(t[l], (size_t)batches);
		for (int l = 0; l < N_LOOPS; l++)
			printf("%-6s %10.3f %8.3f\n", loop_names[l],
			       med[l] * 1e6, med[l] / med[LOOP_RAW]);
	}
	for (int l = 0; l < N_LOOPS; l++)
		free(t[l]);
	return rc;
}

static int
run_only(struct bench *b, const char *name, int runs)
{
	for (int l = 0; l < N_LOOPS; l++) {
		double per_stage;
		int rc;

		if (strcmp(name, loop_names[l]) != 0)
			continue;
		if ((rc = batch(b, (enum loop)l, runs, &per_stage)) < 0 ||
		    (rc = batch(b, (enum loop)l, runs, &per_stage)) < 0)
			return rc;
		printf("%s: %d runs of %d stages, %.3f us per stage\n", name,
		       runs, 3 * b->k, per_stage * 1e6);
		return CLQ_SUCCESS;
	}
	fprintf(stderr, "unknown loop '%s'\n", name);
	return CLQ_ERROR_INVALID_ARGUMENT;
}

static int
setup(struct bench *b)
{
	static const char *const files[3] = {"fill.cl", "scale.cl",
					     "transpose.cl"};
	static const char *const names[3] = {"fill", "scale", "transpose"};
	int rc;

	if ((rc = clq_context_create_default(&b->ctx)) < 0 ||
	    (rc = clq_queue_create(b->ctx, 0, &b->q)) < 0 ||
	    (rc = clq_dimension_create(SIDE, 0, 1, 0, &b->dims[0])) < 0 ||
	    (rc = clq_dimension_create(SIDE, 0, 1, 0, &b->dims[1])) < 0 ||
	    (rc = clq_operation_create_fill(b->ctx, 2, b->dims, fill_value, WG,
					    &b->ops[0])) < 0 ||
	    (rc = clq_operation_create_scale(b->ctx, 2, b->dims, scale_a,
					     scale_b, scale_iters, WG,
					     &b->ops[1])) < 0 ||
	    (rc = clq_operation_create_transpose(b->ctx, b->dims[0], b->dims[1],
						 TILE, &b->ops[2])) < 0 ||
	    (rc = clq_slot_allocate(clq_operation_get_slot(b->ops[0], "out"),
				    b->ctx)) < 0)
		return rc;
	b->x = clq_slot_get_array(clq_operation_get_slot(b->ops[0], "out"));
	if ((rc = clq_slot_bind(clq_operation_get_slot(b->ops[1], "data"),
				b->x)) < 0 ||
	    (rc = clq_slot_bind(clq_operation_get_slot(b->ops[2], "in"),
				b->x)) < 0 ||
	    (rc = clq_slot_allocate(clq_operation_get_slot(b->ops[2], "out"),
				    b->ctx)) < 0 ||
	    (rc = clq_sequence_create(b->ctx, &b->seq)) < 0)
		return rc;
	b->y = clq_slot_get_array(clq_operation_get_slot(b->ops[2], "out"));
	for (int i = 0; i < b->k; i++)
		for (int j = 0; j < 3; j++)
			if ((rc = clq_sequence_add(b->seq, b->ops[j], NULL)) <
			    0)
				return rc;
	for (int j = 0; j < 3; j++)
		if ((rc = clq_program_create_from_file(
			     b->ctx, files[j], NULL, 0,
			     j == 2 ? "-DTRANSPOSE_TILE=16" : NULL,
			     &b->programs[j])) < 0 ||
		    (rc = clq_kernel_create(b->programs[j], names[j],
					    &b->kernels[j])) < 0)
			return rc;
	return CLQ_SUCCESS;
}

static void
teardown(struct bench *b)
{
	clq_sequence_unref(b->seq);
	for (int j = 0; j < 3; j++) {
		clq_operation_unref(b->ops[j]);
		clq_kernel_unref(b->kernels[j]);
		clq_program_unref(b->programs[j]);
	}
	clq_dimension_unref(b->dims[0]);
	clq_dimension_unref(b->dims[1]);
	clq_queue_unref(b->q);
	clq_context_unref(b->ctx);
}

int
main(int argc, char **argv)
{
	struct bench b = {0};
	const char *only = NULL;
	int runs, batches = 30, rc;

	if (argc > 2 && strcmp(argv[1], "--only") == 0) {
		only = argv[2];
		argv += 2;
		argc -= 2;
		runs = argc > 1 ? atoi(argv[1]) : 200;
		b.k = argc > 2 ? atoi(argv[2]) : 4;
	} else {
		runs = argc > 1 ? atoi(argv[1]) : 200;
		batches = argc > 2 ? atoi(argv[2]) : 30;
		b.k = argc > 3 ? atoi(argv[3]) : 4;
	}
	if (runs < 1 || batches < 1 || b.k < 1) {
		fprintf(stderr, "usage: bench-replay [RUNS [BATCHES [K]]]\n"
				"       bench-replay --only NAME [RUNS [K]]\n");
		return 2;
	}
	rc = setup(&b);
	if (rc == CLQ_SUCCESS) {
		struct clq_device *d = clq_context_get_device(b.ctx);

		printf("device: %s / %s\n", clq_device_get_platform_name(d),
		       clq_device_get_name(d));
		rc = only ? run_only(&b, only, runs)
			  : run_table(&b, runs, batches);
	}
	if (rc < 0)
		fprintf(stderr, "bench-replay: %s (%s)\n", clq_error_name(rc),
			clq_strerror(rc));
	teardown(&b);
	return rc < 0 ? 1 : 0;
}
