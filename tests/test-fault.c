/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fault injection: each scenario runs once per wrapped call it makes
 * (host allocations and the OpenCL calls that can fail, see fault.h), with
 * that one call failing. Every run must end without a crash or a leak
 * (the valgrind and sanitizer setups check leaks), release everything,
 * and either return an error or, where clq absorbed the failure, produce
 * the right results. After the loop the scenario must still succeed.
 *
 * This test links a copy of the library built with fault.h, not libclq.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <clq/clq.h>

#include "fault-control.h"

/* A scenario's own verdict on results it could read back but were wrong:
 * never acceptable. */
#define WRONG_RESULT 1

static long total_injected, total_errors;

static void
quiet(enum clq_log_level level, const char *message, void *user_data)
{
	(void)level;
	(void)message;
	(void)user_data;
}

static const char *
device_spec(void)
{
	const char *spec = getenv("CLQ_TEST_DEVICE");

	return spec && *spec ? spec : NULL;
}

/* Device, context and one queue; *q_out NULL on failure. */
static int
open_queue(struct clq_context **ctx_out, struct clq_queue **q_out,
	   unsigned flags)
{
	struct clq_device *dev = NULL;
	int rc;

	*ctx_out = NULL;
	*q_out = NULL;
	if ((rc = clq_device_select(device_spec(), &dev)) == CLQ_SUCCESS &&
	    (rc = clq_context_create(dev, ctx_out)) == CLQ_SUCCESS)
		rc = clq_queue_create(*ctx_out, flags, q_out);
	clq_device_unref(dev);
	return rc;
}

static void
close_queue(struct clq_context *ctx, struct clq_queue *q)
{
	clq_queue_unref(q);
	clq_context_unref(ctx);
}

/* ------------------------------------------------------------ scenarios */

static int
scenario_context(void)
{
	struct clq_context *ctx;
	struct clq_queue *q;
	struct clq_event *ev = NULL, *user = NULL;
	int rc = open_queue(&ctx, &q, CLQ_QUEUE_PROFILING);

	if (rc == CLQ_SUCCESS &&
	    (rc = clq_user_event_create(ctx, &user)) == CLQ_SUCCESS &&
	    (rc = clq_queue_enqueue_marker(q, &user, 1, &ev)) == CLQ_SUCCESS &&
	    (rc = clq_user_event_complete(user, CL_COMPLETE)) == CLQ_SUCCESS &&
	    (rc = clq_event_wait(ev)) == CLQ_SUCCESS)
		rc = clq_queue_finish(q);
	if (rc != CLQ_SUCCESS && user)
		clq_user_event_complete(user, CL_COMPLETE); /* may be done */
	clq_event_unref(ev);
	clq_event_unref(user);
	close_queue(ctx, q);
	return rc;
}

#define ROWS 4
#define COLS 5

static int
scenario_arrays(void)
{
	const size_t shape[2] = {ROWS, COLS}, padded[2] = {ROWS, 8};
	struct clq_context *ctx;
	struct clq_queue *q;
	struct clq_device_array *a = NULL, *b = NULL;
	struct clq_host_array *h = NULL, *w = NULL;
	struct clq_event *ev[2] = {NULL, NULL};
	const size_t start[2] = {1, 1}, count[2] = {2, 3};
	float out[ROWS * COLS] = {0}, value = 7.0f, block = 9.0f;
	int rc = open_queue(&ctx, &q, 0);

	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_create(ctx, CLQ_DTYPE_FLOAT32, 2, shape,
					     padded, &a);
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_create(ctx, CLQ_DTYPE_FLOAT32, 2, shape,
					     NULL, &b);
	if (rc == CLQ_SUCCESS)
		rc = clq_host_array_create(ctx, CLQ_DTYPE_FLOAT32, 2, shape,
					   NULL, &h);
	if (rc == CLQ_SUCCESS)
		rc = clq_host_array_wrap(CLQ_DTYPE_FLOAT32, 2, shape, NULL, out,
					 &w);
	if (rc == CLQ_SUCCESS) {
		float *d = clq_host_array_data(h);

		for (int i = 0; i < ROWS * COLS; i++)
			d[i] = (float)i;
		rc = clq_device_array_set(a, q, h);
	}
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_copy(b, q, a, NULL, 0, &ev[0]);
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_get_async(b, q, w, &ev[0], 1, &ev[1]);
	if (rc == CLQ_SUCCESS)
		rc = clq_event_wait(ev[1]);
	for (int i = 0; rc == CLQ_SUCCESS && i < ROWS * COLS; i++)
		if (out[i] != (float)i)
			rc = WRONG_RESULT;
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_fill(a, q, &value, NULL, 0, NULL);
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_get(a, q, w);
	for (int i = 0; rc == CLQ_SUCCESS && i < ROWS * COLS; i++)
		if (out[i] != value)
			rc = WRONG_RESULT;
	/* a block of the padded array: a fill and a rectangular copy */
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_fill_region(a, q, start, count, &block,
						  NULL, 0, NULL);
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_get(a, q, w);
	for (int i = 0; rc == CLQ_SUCCESS && i < ROWS * COLS; i++) {
		int r = i / COLS, c = i % COLS;
		int inside = r >= 1 && r < 3 && c >= 1 && c < 4;

		if (out[i] != (inside ? block : value))
			rc = WRONG_RESULT;
	}
	if (rc != CLQ_SUCCESS && q)
		clq_queue_finish(q); /* before `out` goes out of scope */
	clq_event_unref(ev[0]);
	clq_event_unref(ev[1]);
	clq_host_array_unref(h);
	clq_host_array_unref(w);
	clq_device_array_unref(a);
	clq_device_array_unref(b);
	close_queue(ctx, q);
	return rc;
}

static const char add_source[] =
	"__kernel void add(__global float *x, float v, uint n)\n"
	"{\n"
	"	size_t i = get_global_id(0);\n"
	"	if (i < n)\n"
	"		x[i] += v;\n"
	"}\n";

#define N 64

static int
scenario_kernel(void)
{
	const size_t n = N, global = N, local = 16;
	struct clq_context *ctx;
	struct clq_queue *q;
	struct clq_program *p = NULL;
	struct clq_kernel *k = NULL;
	struct clq_device_array *a = NULL;
	struct clq_host_array *h = NULL;
	cl_float v = 1.5f;
	cl_uint count = N;
	int rc = open_queue(&ctx, &q, 0);

	if (rc == CLQ_SUCCESS)
		rc = clq_program_create_from_source(ctx, add_source, NULL, &p);
	if (rc == CLQ_SUCCESS)
		rc = clq_kernel_create(p, "add", &k);
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_create(ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					     NULL, &a);
	if (rc == CLQ_SUCCESS)
		rc = clq_host_array_create(ctx, CLQ_DTYPE_FLOAT32, 1, &n, NULL,
					   &h);
	if (rc == CLQ_SUCCESS) {
		struct clq_arg args[] = {CLQ_ARG_ARRAY(a), CLQ_ARG_VALUE(v),
					 CLQ_ARG_VALUE(count)};

		for (size_t i = 0; i < n; i++)
			((float *)clq_host_array_data(h))[i] = (float)i;
		if ((rc = clq_device_array_set(a, q, h)) == CLQ_SUCCESS &&
		    (rc = clq_queue_enqueue_kernel(q, k, args, 3, 1, &global,
						   &local, NULL, 0, NULL)) ==
			    CLQ_SUCCESS)
			rc = clq_device_array_get(a, q, h);
	}
	for (size_t i = 0; rc == CLQ_SUCCESS && i < n; i++)
		if (((float *)clq_host_array_data(h))[i] != (float)i + 1.5f)
			rc = WRONG_RESULT;
	clq_host_array_unref(h);
	clq_device_array_unref(a);
	clq_kernel_unref(k);
	clq_program_unref(p);
	close_queue(ctx, q);
	return rc;
}

/* A small double-buffer pipeline: upload, kernel, download on three
 * queues, two device buffers in rotation, chained with events. */
#define CHUNKS 4
#define CHUNK 32

static int
scenario_pipeline(void)
{
	const size_t chunk = CHUNK, total = CHUNKS * CHUNK, global = CHUNK;
	struct clq_context *ctx;
	struct clq_queue *q[3] = {NULL, NULL, NULL};
	struct clq_program *p = NULL;
	struct clq_kernel *k = NULL;
	struct clq_device_array *buf[2] = {NULL, NULL};
	struct clq_host_array *in = NULL, *out = NULL;
	struct clq_event *ev[CHUNKS][3] = {{NULL}};
	cl_float v = 2.0f;
	cl_uint count = CHUNK;
	int rc = open_queue(&ctx, &q[0], 0);

	for (int s = 1; s < 3 && rc == CLQ_SUCCESS; s++)
		rc = clq_queue_create(ctx, 0, &q[s]);
	if (rc == CLQ_SUCCESS)
		rc = clq_program_create_from_source(ctx, add_source, NULL, &p);
	if (rc == CLQ_SUCCESS)
		rc = clq_kernel_create(p, "add", &k);
	for (int b = 0; b < 2 && rc == CLQ_SUCCESS; b++)
		rc = clq_device_array_create(ctx, CLQ_DTYPE_FLOAT32, 1, &chunk,
					     NULL, &buf[b]);
	if (rc == CLQ_SUCCESS)
		rc = clq_host_array_create(ctx, CLQ_DTYPE_FLOAT32, 1, &total,
					   NULL, &in);
	if (rc == CLQ_SUCCESS)
		rc = clq_host_array_create(ctx, CLQ_DTYPE_FLOAT32, 1, &total,
					   NULL, &out);
	if (rc == CLQ_SUCCESS)
		for (size_t i = 0; i < total; i++)
			((float *)clq_host_array_data(in))[i] = (float)i;
	for (int c = 0; c < CHUNKS && rc == CLQ_SUCCESS; c++) {
		struct clq_device_array *d = buf[c % 2];
		size_t start = (size_t)c * CHUNK, zero = 0;
		struct clq_arg args[] = {CLQ_ARG_ARRAY(d), CLQ_ARG_VALUE(v),
					 CLQ_ARG_VALUE(count)};

		if (c >= 2)
			rc = clq_queue_enqueue_wait_for_events(
				q[0], &ev[c - 2][2], 1);
		if (rc == CLQ_SUCCESS)
			rc = clq_device_array_set_region(d, q[0], in, &zero,
							 &start, &chunk, NULL,
							 0, &ev[c][0]);
		if (rc == CLQ_SUCCESS)
			rc = clq_queue_enqueue_kernel(q[1], k, args, 3, 1,
						      &global, NULL, &ev[c][0],
						      1, &ev[c][1]);
		if (rc == CLQ_SUCCESS)
			rc = clq_device_array_get_region(
				d, q[2], out, &zero, &start, &chunk, &ev[c][1],
				1, &ev[c][2]);
	}
	if (rc == CLQ_SUCCESS)
		rc = clq_event_wait(ev[CHUNKS - 1][2]);
	for (int s = 0; s < 3; s++)
		if (q[s])
			clq_queue_finish(q[s]);
	for (size_t i = 0; rc == CLQ_SUCCESS && i < total; i++)
		if (((float *)clq_host_array_data(out))[i] != (float)i + 2.0f)
			rc = WRONG_RESULT;
	for (int c = 0; c < CHUNKS; c++)
		for (int s = 0; s < 3; s++)
			clq_event_unref(ev[c][s]);
	clq_host_array_unref(in);
	clq_host_array_unref(out);
	clq_device_array_unref(buf[0]);
	clq_device_array_unref(buf[1]);
	clq_kernel_unref(k);
	clq_program_unref(p);
	clq_queue_unref(q[1]);
	clq_queue_unref(q[2]);
	close_queue(ctx, q[0]);
	return rc;
}

static int
scenario_timeline(void)
{
	const size_t n = 16;
	struct clq_context *ctx;
	struct clq_queue *q;
	struct clq_timeline *tl = NULL;
	struct clq_timeline_summary *s = NULL;
	struct clq_device_array *a = NULL;
	uint64_t begin = 0;
	char *text = NULL;
	size_t size = 0;
	int rc = open_queue(&ctx, &q, CLQ_QUEUE_PROFILING);

	if (rc == CLQ_SUCCESS)
		rc = clq_timeline_create(ctx, &tl);
	if (rc == CLQ_SUCCESS)
		rc = clq_queue_set_timeline(q, tl, "queue");
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_create(ctx, CLQ_DTYPE_UINT8, 1, &n, NULL,
					     &a);
	if (rc == CLQ_SUCCESS)
		rc = clq_timeline_host_begin(tl, &begin);
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_zero(a, q, NULL, 0, NULL);
	if (rc == CLQ_SUCCESS)
		rc = clq_queue_set_next_label(q, "mine");
	if (rc == CLQ_SUCCESS)
		rc = clq_queue_enqueue_marker(q, NULL, 0, NULL);
	if (rc == CLQ_SUCCESS)
		rc = clq_timeline_host_end(tl, begin, "host");
	if (rc == CLQ_SUCCESS)
		rc = clq_timeline_summarize(tl, &s);
	/* a command whose record could not be kept is logged, not an error:
	 * at most the two commands may be missing */
	if (rc == CLQ_SUCCESS && (s->n_tracks < 1 || s->n_tracks > 2))
		rc = WRONG_RESULT;
	if (rc == CLQ_SUCCESS) {
		FILE *mem = open_memstream(&text, &size);

		rc = clq_timeline_write_trace(tl, mem);
		if (rc == CLQ_SUCCESS)
			rc = clq_timeline_write_svg(tl, mem);
		fclose(mem);
	}
	free(text);
	clq_timeline_summary_free(s);
	clq_device_array_unref(a);
	clq_timeline_unref(tl);
	close_queue(ctx, q);
	return rc;
}

/*
 * Ordering (clq/order.h): a root array and a labelled alias, a write held
 * by a gate, reads on the other queues, then a write after them all. In
 * AUTO, ten queues (more slots than a plan holds inline) and nine waits
 * added to eight of the caller's (longer than the inline wait lists); in
 * CHECK, three queues, the write first refused, then ordered by its wait
 * list. A queue
 * is then released and another made (in its slot once the old one's
 * retiring marker has ended, else in a new one).
 */
#define OQ 10
#define ON 1024 /* elements: the alias's offset suits any device */

struct order_run {
	int nq; /* queues made: OQ, or fewer */
	struct clq_context *ctx;
	struct clq_queue *q[OQ];
	struct clq_device_array *x, *y;
	struct clq_host_array *in, *in2, *back;
	/* one for every reading queue, a region each: pending on more
	 * queues than it tracks inline, an allocation failure there must not
	 * make the enqueue wait behind the closed gate (it did: a deadlock) */
	struct clq_host_array *out;
	struct clq_event *gate;
	struct clq_event *reads[OQ - 1];
	struct clq_event *markers[8];
};

static void
order_run_free(struct order_run *r)
{
	if (r->gate)
		clq_user_event_complete(r->gate, CL_COMPLETE); /* may be done */
	for (int i = 0; i < r->nq; i++)
		if (r->q[i])
			clq_queue_finish(r->q[i]);
	for (int i = 0; i < OQ - 1; i++)
		clq_event_unref(r->reads[i]);
	for (int i = 0; i < 8; i++)
		clq_event_unref(r->markers[i]);
	clq_event_unref(r->gate);
	clq_host_array_unref(r->in);
	clq_host_array_unref(r->in2);
	clq_host_array_unref(r->out);
	clq_host_array_unref(r->back);
	clq_device_array_unref(r->x);
	clq_device_array_unref(r->y);
	for (int i = 1; i < r->nq; i++)
		clq_queue_unref(r->q[i]);
	close_queue(r->ctx, r->q[0]);
}

/* Context, `nq` queues, arrays, host data and the gate. */
static int
order_open(struct order_run *r, enum clq_ordering mode, int nq)
{
	const size_t n = ON, n2 = 2 * ON, all = (size_t)(nq - 1) * ON;
	int rc;

	memset(r, 0, sizeof(*r));
	r->nq = nq;
	rc = open_queue(&r->ctx, &r->q[0], 0);
	if (rc == CLQ_SUCCESS)
		rc = clq_context_set_ordering(r->ctx, mode);
	for (int i = 1; i < nq && rc == CLQ_SUCCESS; i++)
		rc = clq_queue_create(r->ctx, 0, &r->q[i]);
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_create(r->ctx, CLQ_DTYPE_UINT32, 1, &n2,
					     NULL, &r->x);
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_create_alias(
			r->ctx, clq_device_array_get_cl(r->x),
			ON * sizeof(cl_uint), CLQ_DTYPE_UINT32, 1, &n, NULL,
			&r->y);
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_set_label(r->x, "x");
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_set_label(r->y, "second half of x");
	if (rc == CLQ_SUCCESS)
		rc = clq_host_array_create(r->ctx, CLQ_DTYPE_UINT32, 1, &n2,
					   NULL, &r->in);
	if (rc == CLQ_SUCCESS)
		rc = clq_host_array_create(r->ctx, CLQ_DTYPE_UINT32, 1, &n2,
					   NULL, &r->in2);
	if (rc == CLQ_SUCCESS)
		rc = clq_host_array_create(r->ctx, CLQ_DTYPE_UINT32, 1, &all,
					   NULL, &r->out);
	if (rc == CLQ_SUCCESS)
		rc = clq_host_array_create(r->ctx, CLQ_DTYPE_UINT32, 1, &n2,
					   NULL, &r->back);
	if (rc == CLQ_SUCCESS) {
		for (size_t i = 0; i < n2; i++) {
			((cl_uint *)clq_host_array_data(r->in))[i] =
				(cl_uint)i + 1;
			((cl_uint *)clq_host_array_data(r->in2))[i] =
				(cl_uint)i + 5000;
		}
		rc = clq_user_event_create(r->ctx, &r->gate);
	}
	return rc;
}

/* The held write of x on queue 0, then a read of the alias on each other
 * queue; in CHECK each read waits for the write through its wait list. */
static int
order_reads(struct order_run *r, enum clq_ordering mode)
{
	struct clq_event *w = NULL;
	int rc = clq_device_array_set_async(r->x, r->q[0], r->in, &r->gate, 1,
					    &w);

	for (int i = 1; i < r->nq && rc == CLQ_SUCCESS; i++) {
		const size_t zero = 0, at = (size_t)(i - 1) * ON, n = ON;

		rc = clq_device_array_get_region(
			r->y, r->q[i], r->out, &zero, &at, &n, &w,
			mode == CLQ_ORDERING_CHECK, &r->reads[i - 1]);
	}
	clq_event_unref(w);
	return rc;
}

/* After the gate: every read saw the first write, x holds the second. */
static int
order_verify(struct order_run *r)
{
	const cl_uint *back = clq_host_array_data(r->back);
	int rc = clq_device_array_get(r->x, r->q[0], r->back);

	for (int i = 0; rc == CLQ_SUCCESS && i < r->nq - 1; i++)
		rc = clq_event_wait(r->reads[i]);
	if (rc != CLQ_SUCCESS)
		return rc;
	for (size_t i = 0; i < 2 * ON; i++)
		if (back[i] != (cl_uint)i + 5000)
			return WRONG_RESULT;
	for (size_t i = 0; i < (size_t)(r->nq - 1) * ON; i++)
		if (((const cl_uint *)clq_host_array_data(r->out))[i] !=
		    (cl_uint)(ON + i % ON) + 1)
			return WRONG_RESULT;
	return CLQ_SUCCESS;
}

/* Releases the last queue and makes another, which writes the alias. */
static int
order_reuse_slot(struct order_run *r)
{
	struct clq_queue **q = &r->q[r->nq - 1];
	int rc;

	clq_queue_unref(*q);
	*q = NULL;
	rc = clq_queue_create(r->ctx, 0, q);
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_zero(r->y, *q, NULL, 0, NULL);
	if (rc == CLQ_SUCCESS)
		rc = clq_queue_finish(*q);
	return rc;
}

static int
scenario_order_auto(void)
{
	struct order_run r;
	int rc = order_open(&r, CLQ_ORDERING_AUTO, OQ);

	if (rc == CLQ_SUCCESS)
		rc = order_reads(&r, CLQ_ORDERING_AUTO);
	for (int i = 0; i < 8 && rc == CLQ_SUCCESS; i++)
		rc = clq_queue_enqueue_marker(r.q[0], NULL, 0, &r.markers[i]);
	/* eight waits of the caller's, nine of clq's */
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_set_async(r.x, r.q[0], r.in2, r.markers,
						8, NULL);
	if (rc == CLQ_SUCCESS)
		rc = clq_user_event_complete(r.gate, CL_COMPLETE);
	if (rc == CLQ_SUCCESS)
		rc = order_verify(&r);
	if (rc == CLQ_SUCCESS) {
		struct clq_ordering_stats s;

		rc = clq_context_get_ordering_stats(r.ctx, &s);
		if (rc == CLQ_SUCCESS &&
		    (s.waits_added != 2 * (OQ - 1) || s.hazards))
			rc = WRONG_RESULT;
	}
	if (rc == CLQ_SUCCESS)
		rc = order_reuse_slot(&r);
	order_run_free(&r);
	return rc;
}

static int
scenario_order_check(void)
{
	struct order_run r;
	/* three queues: the refusal and its message need no more */
	int rc = order_open(&r, CLQ_ORDERING_CHECK, 3);

	if (rc == CLQ_SUCCESS)
		rc = order_reads(&r, CLQ_ORDERING_CHECK);
	/* unordered: refused, with a message (whose allocations may fail) */
	if (rc == CLQ_SUCCESS) {
		rc = clq_device_array_set_async(r.x, r.q[0], r.in2, NULL, 0,
						NULL);
		rc = rc == CLQ_ERROR_HAZARD ? CLQ_SUCCESS
		     : rc == CLQ_SUCCESS    ? WRONG_RESULT
					    : rc;
	}
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_set_async(r.x, r.q[0], r.in2, r.reads,
						(size_t)r.nq - 1, NULL);
	if (rc == CLQ_SUCCESS)
		rc = clq_user_event_complete(r.gate, CL_COMPLETE);
	if (rc == CLQ_SUCCESS)
		rc = order_verify(&r);
	if (rc == CLQ_SUCCESS) {
		struct clq_ordering_stats s;

		rc = clq_context_get_ordering_stats(r.ctx, &s);
		if (rc == CLQ_SUCCESS && (s.waits_added || s.hazards != 1))
			rc = WRONG_RESULT;
	}
	if (rc == CLQ_SUCCESS)
		rc = order_reuse_slot(&r);
	order_run_free(&r);
	return rc;
}

/* A kernel with nine array arguments (more than a plan holds inline) on
 * one root buffer through two arrays, and an output, in AUTO. */
static const char sum_source[] =
	"__kernel void sum8(__global uint *out, __global const uint *a,\n"
	"	__global const uint *b, __global const uint *c,\n"
	"	__global const uint *d, __global const uint *e,\n"
	"	__global const uint *f, __global const uint *g,\n"
	"	__global const uint *h, uint n)\n"
	"{\n"
	"	size_t i = get_global_id(0);\n"
	"	if (i < n)\n"
	"		out[i] = a[i] + b[i] + c[i] + d[i] + e[i] + f[i] + "
	"g[i]\n"
	"			 + h[i];\n"
	"}\n";

static int
scenario_order_kernel(void)
{
	struct order_run r;
	struct clq_program *p = NULL;
	struct clq_kernel *k = NULL;
	struct clq_device_array *z = NULL;
	const size_t n = ON, zero = 0;
	cl_uint count = ON;
	int rc = order_open(&r, CLQ_ORDERING_AUTO, 3);

	if (rc == CLQ_SUCCESS)
		rc = clq_program_create_from_source(r.ctx, sum_source, NULL,
						    &p);
	if (rc == CLQ_SUCCESS)
		rc = clq_kernel_create(p, "sum8", &k);
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_create(r.ctx, CLQ_DTYPE_UINT32, 1, &n,
					     NULL, &z);
	/* x written on queue 0 (held), the sum on queue 1, z read on 2 */
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_set_async(r.x, r.q[0], r.in, &r.gate, 1,
						NULL);
	if (rc == CLQ_SUCCESS) {
		struct clq_arg args[] = {
			CLQ_ARG_OUT(z),	    CLQ_ARG_IN(r.x),
			CLQ_ARG_IN(r.y),    CLQ_ARG_IN(r.x),
			CLQ_ARG_INOUT(r.y), CLQ_ARG_IN(r.x),
			CLQ_ARG_IN(r.y),    CLQ_ARG_IN(r.x),
			CLQ_ARG_IN(r.y),    CLQ_ARG_VALUE(count)};

		rc = clq_queue_enqueue_kernel(r.q[1], k, args, 10, 1, &n, NULL,
					      NULL, 0, NULL);
	}
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_get_region(z, r.q[2], r.out, &zero, &zero,
						 &n, NULL, 0, &r.reads[0]);
	if (rc == CLQ_SUCCESS)
		rc = clq_user_event_complete(r.gate, CL_COMPLETE);
	if (rc == CLQ_SUCCESS)
		rc = clq_event_wait(r.reads[0]);
	for (size_t i = 0; rc == CLQ_SUCCESS && i < ON; i++) {
		/* x[i] = i + 1, y[i] = x[ON + i] */
		cl_uint want =
			4 * ((cl_uint)i + 1) + 4 * ((cl_uint)(ON + i) + 1);

		if (((cl_uint *)clq_host_array_data(r.out))[i] != want)
			rc = WRONG_RESULT;
	}
	if (rc == CLQ_SUCCESS) {
		struct clq_ordering_stats s;

		rc = clq_context_get_ordering_stats(r.ctx, &s);
		if (rc == CLQ_SUCCESS && s.waits_added != 2)
			rc = WRONG_RESULT;
	}
	order_run_free(&r);
	clq_device_array_unref(z);
	clq_kernel_unref(k);
	clq_program_unref(p);
	return rc;
}

/*
 * A pool of two device buffers carrying four chunks: each upload waits for
 * the events the pool hands back with its buffer (the download of the
 * chunk before last), each download is what releases the buffer.
 */
#define PN 256
#define PCHUNKS 4

static int
scenario_pool(void)
{
	struct clq_context *ctx;
	struct clq_queue *q;
	struct clq_device_array *bufs[2] = {NULL, NULL};
	struct clq_host_array *in = NULL, *out = NULL;
	struct clq_pool *pool = NULL;
	const size_t n = PN, total = PN * PCHUNKS;
	int rc = open_queue(&ctx, &q, 0);

	for (int b = 0; b < 2 && rc == CLQ_SUCCESS; b++)
		rc = clq_device_array_create(ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					     NULL, &bufs[b]);
	if (rc == CLQ_SUCCESS)
		rc = clq_host_array_create(ctx, CLQ_DTYPE_FLOAT32, 1, &total,
					   NULL, &in);
	if (rc == CLQ_SUCCESS)
		rc = clq_host_array_create(ctx, CLQ_DTYPE_FLOAT32, 1, &total,
					   NULL, &out);
	if (rc == CLQ_SUCCESS)
		rc = clq_pool_create(2, (void *const *)bufs, &pool);
	if (rc == CLQ_SUCCESS) {
		float *d = clq_host_array_data(in);

		for (size_t i = 0; i < total; i++)
			d[i] = (float)i;
		memset(clq_host_array_data(out), 0, total * sizeof(float));
	}
	for (size_t c = 0; c < PCHUNKS && rc == CLQ_SUCCESS; c++) {
		struct clq_event *const *wait;
		struct clq_event *down = NULL;
		size_t slot, n_wait, at = 0, from = c * PN;

		rc = clq_pool_acquire(pool, 0, &slot, &wait, &n_wait);
		if (rc != CLQ_SUCCESS)
			break;
		rc = clq_device_array_set_region(clq_pool_get_item(pool, slot),
						 q, in, &at, &from, &n, wait,
						 n_wait, NULL);
		if (rc == CLQ_SUCCESS)
			rc = clq_device_array_get_region(
				clq_pool_get_item(pool, slot), q, out, &at,
				&from, &n, NULL, 0, &down);
		if (rc == CLQ_SUCCESS)
			rc = clq_pool_release(pool, slot, &down, 1);
		else
			clq_pool_release(pool, slot, NULL, 0);
		clq_event_unref(down);
	}
	if (q && clq_queue_finish(q) != CLQ_SUCCESS && rc == CLQ_SUCCESS)
		rc = CLQ_ERROR_COMMAND_FAILED;
	/* every slot comes back free, waited for on the host */
	for (int b = 0; b < 2 && rc == CLQ_SUCCESS; b++) {
		size_t slot;

		rc = clq_pool_acquire(pool, CLQ_POOL_WAIT_HOST, &slot, NULL,
				      NULL);
	}
	for (size_t i = 0; rc == CLQ_SUCCESS && i < total; i++)
		if (((float *)clq_host_array_data(out))[i] != (float)i)
			rc = WRONG_RESULT;
	clq_pool_unref(pool);
	clq_host_array_unref(in);
	clq_host_array_unref(out);
	for (int b = 0; b < 2; b++)
		clq_device_array_unref(bufs[b]);
	close_queue(ctx, q);
	return rc;
}

/*
 * Dimensions linked across two slots, one slot allocated on demand with
 * the planned padding, bound to the other, and data through it.
 */
static int
scenario_slots(void)
{
	struct clq_context *ctx;
	struct clq_queue *q;
	struct clq_dimension *d[3] = {NULL, NULL, NULL};
	struct clq_slot *a = NULL, *b = NULL;
	struct clq_host_array *h = NULL;
	struct clq_device_array *arr;
	const size_t shape[2] = {3, 10};
	int rc = open_queue(&ctx, &q, 0);

	if (rc == CLQ_SUCCESS)
		rc = clq_dimension_create(3, 0, 1, 1, &d[0]);
	if (rc == CLQ_SUCCESS)
		rc = clq_dimension_create(10, 0, 4, 0, &d[1]);
	if (rc == CLQ_SUCCESS)
		rc = clq_dimension_create(10, 14, 1, 0, &d[2]);
	if (rc == CLQ_SUCCESS)
		rc = clq_dimension_link(d[1], d[2]);
	if (rc == CLQ_SUCCESS)
		rc = clq_slot_create(CLQ_DTYPE_FLOAT32, 2, d, CLQ_ACCESS_WRITE,
				     &a);
	if (rc == CLQ_SUCCESS) {
		struct clq_dimension *other[2] = {d[0], d[2]};

		rc = clq_slot_create(CLQ_DTYPE_FLOAT32, 2, other,
				     CLQ_ACCESS_READ, &b);
	}
	if (rc == CLQ_SUCCESS)
		rc = clq_slot_allocate(a, ctx);
	if (rc == CLQ_SUCCESS) {
		arr = clq_slot_get_array(a);
		if (clq_device_array_get_padded_shape(arr)[0] != 3 ||
		    clq_device_array_get_padded_shape(arr)[1] != 16)
			rc = WRONG_RESULT;
	}
	if (rc == CLQ_SUCCESS)
		rc = clq_slot_bind(b, arr);
	if (rc == CLQ_SUCCESS)
		rc = clq_host_array_create(ctx, CLQ_DTYPE_FLOAT32, 2, shape,
					   NULL, &h);
	if (rc == CLQ_SUCCESS) {
		float *x = clq_host_array_data(h);

		for (int i = 0; i < 30; i++)
			x[i] = (float)i;
		rc = clq_device_array_set(clq_slot_get_array(a), q, h);
	}
	if (rc == CLQ_SUCCESS) {
		float *x = clq_host_array_data(h);

		for (int i = 0; i < 30; i++)
			x[i] = -1.0f;
		rc = clq_device_array_get(clq_slot_get_array(b), q, h);
		for (int i = 0; rc == CLQ_SUCCESS && i < 30; i++)
			if (x[i] != (float)i)
				rc = WRONG_RESULT;
	}
	clq_host_array_unref(h);
	clq_slot_unref(a);
	clq_slot_unref(b);
	for (int i = 0; i < 3; i++)
		clq_dimension_unref(d[i]);
	close_queue(ctx, q);
	return rc;
}

/* The sequence scenario's stage: fills "out" with *value, or copies "in". */
static int
fault_stage_run(struct clq_operation *op, struct clq_queue *queue,
		struct clq_event *const *wait, size_t n_wait,
		struct clq_event **event_out, void *user_data)
{
	const uint32_t *value = user_data;
	struct clq_device_array *out =
		clq_slot_get_array(clq_operation_get_slot(op, "out"));

	if (!value)
		return clq_device_array_copy(
			out, queue,
			clq_slot_get_array(clq_operation_get_slot(op, "in")),
			wait, n_wait, event_out);
	return clq_device_array_fill(out, queue, value, wait, n_wait,
				     event_out);
}

/*
 * A sequence of two operations on two queues (fill X, copy X to Y),
 * bound on demand, run twice, Y read back; in CHECK, so that a wait the
 * sequence failed to add would be a hazard.
 */
static int
scenario_sequence(void)
{
	static const struct clq_operation_ops ops = {fault_stage_run, NULL};
	struct clq_context *ctx;
	struct clq_queue *q, *q2 = NULL;
	struct clq_dimension *d = NULL;
	struct clq_slot *sx = NULL, *sxr = NULL, *sy = NULL;
	struct clq_operation *fill = NULL, *copy = NULL;
	struct clq_sequence *seq = NULL;
	struct clq_host_array *h = NULL;
	const size_t n = 64;
	uint32_t value = 0;
	int rc = open_queue(&ctx, &q, 0);

	if (rc == CLQ_SUCCESS)
		rc = clq_context_set_ordering(ctx, CLQ_ORDERING_CHECK);
	if (rc == CLQ_SUCCESS)
		rc = clq_queue_create(ctx, 0, &q2);
	if (rc == CLQ_SUCCESS)
		rc = clq_dimension_create(n, 0, 1, 0, &d);
	if (rc == CLQ_SUCCESS)
		rc = clq_slot_create(CLQ_DTYPE_UINT32, 1, &d, CLQ_ACCESS_WRITE,
				     &sx);
	if (rc == CLQ_SUCCESS)
		rc = clq_slot_create(CLQ_DTYPE_UINT32, 1, &d, CLQ_ACCESS_READ,
				     &sxr);
	if (rc == CLQ_SUCCESS)
		rc = clq_slot_create(CLQ_DTYPE_UINT32, 1, &d, CLQ_ACCESS_WRITE,
				     &sy);
	if (rc == CLQ_SUCCESS)
		rc = clq_operation_create("fill", &ops, &value, &fill);
	if (rc == CLQ_SUCCESS)
		rc = clq_operation_create("copy", &ops, NULL, &copy);
	if (rc == CLQ_SUCCESS)
		rc = clq_operation_add_slot(fill, "out", sx);
	if (rc == CLQ_SUCCESS)
		rc = clq_operation_add_slot(copy, "in", sxr);
	if (rc == CLQ_SUCCESS)
		rc = clq_operation_add_slot(copy, "out", sy);
	if (rc == CLQ_SUCCESS)
		rc = clq_sequence_create(ctx, &seq);
	if (rc == CLQ_SUCCESS)
		rc = clq_sequence_add(seq, fill, q);
	if (rc == CLQ_SUCCESS)
		rc = clq_sequence_add(seq, copy, q2);
	if (rc == CLQ_SUCCESS)
		rc = clq_slot_allocate(sx, ctx);
	if (rc == CLQ_SUCCESS)
		rc = clq_slot_bind(sxr, clq_slot_get_array(sx));
	if (rc == CLQ_SUCCESS)
		rc = clq_sequence_ensure_bound(seq);
	for (uint32_t run = 1; rc == CLQ_SUCCESS && run <= 2; run++) {
		struct clq_event *e = NULL;

		value = 10 * run;
		rc = clq_sequence_run(seq, q, NULL, 0, &e);
		if (rc == CLQ_SUCCESS)
			rc = clq_event_wait(e);
		clq_event_unref(e);
	}
	if (rc == CLQ_SUCCESS)
		rc = clq_host_array_create(ctx, CLQ_DTYPE_UINT32, 1, &n, NULL,
					   &h);
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_get(clq_slot_get_array(sy), q, h);
	if (rc == CLQ_SUCCESS) {
		const uint32_t *x = clq_host_array_data(h);

		for (size_t i = 0; i < n; i++)
			if (x[i] != 20)
				rc = WRONG_RESULT;
	}
	if (rc < 0 && q2) {
		/* a failed command may leave the other queue running */
		clq_queue_finish(q);
		clq_queue_finish(q2);
	}
	clq_host_array_unref(h);
	clq_sequence_unref(seq);
	clq_operation_unref(fill);
	clq_operation_unref(copy);
	clq_slot_unref(sx);
	clq_slot_unref(sxr);
	clq_slot_unref(sy);
	clq_dimension_unref(d);
	clq_queue_unref(q2);
	close_queue(ctx, q);
	return rc;
}

/* Reads `a` back and checks every element is `value`. */
static int
check_u32(struct clq_device_array *a, struct clq_queue *q, uint32_t value)
{
	const size_t n = clq_device_array_get_shape(a)[0];
	struct clq_host_array *h = NULL;
	int rc = clq_host_array_create(clq_queue_get_context(q),
				       CLQ_DTYPE_UINT32, 1, &n, NULL, &h);

	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_get(a, q, h);
	if (rc == CLQ_SUCCESS) {
		const uint32_t *x = clq_host_array_data(h);

		for (size_t i = 0; i < n; i++)
			if (x[i] != value)
				rc = WRONG_RESULT;
	}
	clq_host_array_unref(h);
	return rc;
}

/*
 * Composition: scratch A and B are compounds (a writer's and a reader's
 * slot each) made members of one alias; an inner sequence fills A, copies
 * it out, fills B, copies it out; it is made an operation and run inside
 * an outer sequence, in CHECK.
 */
static int
scenario_compose(void)
{
	static const struct clq_operation_ops ops = {fault_stage_run, NULL};
	enum { A, AR, B, BR, Y1, Y2, N_SLOTS };
	static const enum clq_access access[N_SLOTS] = {
		CLQ_ACCESS_WRITE, CLQ_ACCESS_READ,  CLQ_ACCESS_WRITE,
		CLQ_ACCESS_READ,  CLQ_ACCESS_WRITE, CLQ_ACCESS_WRITE};
	struct clq_context *ctx;
	struct clq_queue *q, *q2 = NULL;
	struct clq_dimension *d = NULL;
	struct clq_slot *s[N_SLOTS] = {NULL}, *ca = NULL, *cb = NULL;
	struct clq_slot *alias = NULL;
	struct clq_operation *op[4] = {NULL}, *inner_op = NULL;
	struct clq_sequence *inner = NULL, *outer = NULL;
	struct clq_event *e = NULL;
	uint32_t v1 = 31, v2 = 32;
	int rc = open_queue(&ctx, &q, 0);

	if (rc == CLQ_SUCCESS)
		rc = clq_context_set_ordering(ctx, CLQ_ORDERING_CHECK);
	if (rc == CLQ_SUCCESS)
		rc = clq_queue_create(ctx, 0, &q2);
	if (rc == CLQ_SUCCESS)
		rc = clq_dimension_create(64, 0, 1, 0, &d);
	for (int i = 0; rc == CLQ_SUCCESS && i < N_SLOTS; i++)
		rc = clq_slot_create(CLQ_DTYPE_UINT32, 1, &d, access[i], &s[i]);
	if (rc == CLQ_SUCCESS)
		rc = clq_slot_create_compound(&s[A], 2, &ca);
	if (rc == CLQ_SUCCESS)
		rc = clq_slot_create_compound(&s[B], 2, &cb);
	if (rc == CLQ_SUCCESS) {
		struct clq_slot *m[2] = {ca, cb};

		rc = clq_slot_create_alias(m, 2, &alias);
	}
	if (rc == CLQ_SUCCESS)
		rc = clq_operation_create("fillA", &ops, &v1, &op[0]);
	if (rc == CLQ_SUCCESS)
		rc = clq_operation_create("copyA", &ops, NULL, &op[1]);
	if (rc == CLQ_SUCCESS)
		rc = clq_operation_create("fillB", &ops, &v2, &op[2]);
	if (rc == CLQ_SUCCESS)
		rc = clq_operation_create("copyB", &ops, NULL, &op[3]);
	if (rc == CLQ_SUCCESS)
		rc = clq_operation_add_slot(op[0], "out", s[A]);
	if (rc == CLQ_SUCCESS)
		rc = clq_operation_add_slot(op[1], "in", s[AR]);
	if (rc == CLQ_SUCCESS)
		rc = clq_operation_add_slot(op[1], "out", s[Y1]);
	if (rc == CLQ_SUCCESS)
		rc = clq_operation_add_slot(op[2], "out", s[B]);
	if (rc == CLQ_SUCCESS)
		rc = clq_operation_add_slot(op[3], "in", s[BR]);
	if (rc == CLQ_SUCCESS)
		rc = clq_operation_add_slot(op[3], "out", s[Y2]);
	if (rc == CLQ_SUCCESS)
		rc = clq_sequence_create(ctx, &inner);
	for (int i = 0; rc == CLQ_SUCCESS && i < 4; i++)
		rc = clq_sequence_add(inner, op[i], i % 2 ? q2 : NULL);
	if (rc == CLQ_SUCCESS)
		rc = clq_sequence_add_slot(inner, "scratch", alias);
	if (rc == CLQ_SUCCESS)
		rc = clq_sequence_as_operation(inner, "inner", &inner_op);
	if (rc == CLQ_SUCCESS)
		rc = clq_sequence_create(ctx, &outer);
	if (rc == CLQ_SUCCESS)
		rc = clq_sequence_add(outer, inner_op, NULL);
	if (rc == CLQ_SUCCESS)
		rc = clq_sequence_ensure_bound(outer);
	if (rc == CLQ_SUCCESS)
		rc = clq_sequence_run(outer, q, NULL, 0, &e);
	if (rc == CLQ_SUCCESS)
		rc = clq_event_wait(e);
	clq_event_unref(e);
	if (rc == CLQ_SUCCESS)
		rc = check_u32(clq_slot_get_array(s[Y1]), q, v1);
	if (rc == CLQ_SUCCESS)
		rc = check_u32(clq_slot_get_array(s[Y2]), q, v2);
	if (rc < 0 && q2) {
		clq_queue_finish(q);
		clq_queue_finish(q2);
	}
	clq_sequence_unref(outer);
	clq_operation_unref(inner_op);
	clq_sequence_unref(inner);
	for (int i = 0; i < 4; i++)
		clq_operation_unref(op[i]);
	clq_slot_unref(alias);
	clq_slot_unref(ca);
	clq_slot_unref(cb);
	for (int i = 0; i < N_SLOTS; i++)
		clq_slot_unref(s[i]);
	clq_dimension_unref(d);
	clq_queue_unref(q2);
	close_queue(ctx, q);
	return rc;
}

#ifdef CLQ_HAVE_SQLITE3
/* The tuning database: a file with a result stored before the faults, and
 * a second file merged in. */
static char fault_db[64], fault_src[64];

static int
scenario_tune_db(void)
{
	struct clq_context *ctx;
	struct clq_queue *q;
	struct clq_tune_db *db = NULL;
	struct clq_tunable *t = NULL;
	struct clq_params *base = NULL, *problem = NULL, *p = NULL, *got = NULL;
	const char *s;
	size_t n = 0;
	int rc = open_queue(&ctx, &q, 0);

	if (rc == CLQ_SUCCESS)
		rc = clq_tunable_create_builtin("scale", &t);
	if (rc == CLQ_SUCCESS)
		rc = clq_params_parse("n=1 iters=1", &base);
	if (rc == CLQ_SUCCESS)
		rc = clq_params_parse("n=100 iters=1", &problem);
	if (rc == CLQ_SUCCESS)
		rc = clq_params_parse("wgs=64", &p);
	if (rc == CLQ_SUCCESS)
		rc = clq_tune_db_open(fault_db, 0, &db);
	/* What an earlier run's fault might have lost: never anything. */
	if (rc == CLQ_SUCCESS)
		rc = clq_tune_db_lookup(db, ctx, t, base, CLQ_TUNE_MATCH_EXACT,
					&got, NULL);
	if (rc == CLQ_SUCCESS) {
		if (clq_params_get_string(got, "wgs", &s) !=
			    CLQ_ERROR_TYPE_MISMATCH ||
		    clq_params_count(got) != 1)
			rc = WRONG_RESULT;
		clq_params_free(got);
		got = NULL;
	}
	if (rc == CLQ_SUCCESS)
		rc = clq_tune_db_store(db, ctx, t, problem, p, 1e-3);
	if (rc == CLQ_SUCCESS)
		rc = clq_tune_db_lookup(db, ctx, t, problem,
					CLQ_TUNE_MATCH_NEAREST, &got, NULL);
	if (rc == CLQ_SUCCESS && !clq_params_equal(got, p))
		rc = WRONG_RESULT;
	if (rc == CLQ_SUCCESS)
		rc = clq_tune_db_merge(db, fault_src, &n);
	if (rc == CLQ_SUCCESS && n != 1)
		rc = WRONG_RESULT;
	if (rc == CLQ_SUCCESS)
		rc = clq_tune_db_forget(db, "fill", &n);
	if (rc == CLQ_SUCCESS && n != 1)
		rc = WRONG_RESULT;
	clq_tune_db_close(db);
	clq_params_free(got);
	clq_params_free(p);
	clq_params_free(problem);
	clq_params_free(base);
	clq_tunable_free(t);
	close_queue(ctx, q);
	return rc;
}

/* Stores what scenario_tune_db expects to find, with no faults armed. */
static void
make_fault_dbs(void)
{
	struct clq_context *ctx;
	struct clq_queue *q;
	struct clq_tune_db *db = NULL, *src = NULL;
	struct clq_tunable *scale = NULL, *fill = NULL;
	struct clq_params *base = NULL, *p = NULL;

	snprintf(fault_db, sizeof(fault_db), "/tmp/clq-fault-%ld.db",
		 (long)getpid());
	snprintf(fault_src, sizeof(fault_src), "/tmp/clq-fault-%ld-src.db",
		 (long)getpid());
	ck_assert_int_eq(open_queue(&ctx, &q, 0), CLQ_SUCCESS);
	ck_assert_int_eq(clq_tunable_create_builtin("scale", &scale), 0);
	ck_assert_int_eq(clq_tunable_create_builtin("fill", &fill), 0);
	ck_assert_int_eq(clq_params_parse("n=1 iters=1", &base), 0);
	ck_assert_int_eq(clq_params_parse("wgs=32", &p), 0);
	ck_assert_int_eq(clq_tune_db_open(fault_db, 0, &db), 0);
	ck_assert_int_eq(clq_tune_db_store(db, ctx, scale, base, p, 1.0), 0);
	ck_assert_int_eq(clq_tune_db_open(fault_src, 0, &src), 0);
	ck_assert_int_eq(clq_tune_db_store(src, ctx, fill, base, p, 1.0), 0);
	clq_tune_db_close(db);
	clq_tune_db_close(src);
	clq_params_free(base);
	clq_params_free(p);
	clq_tunable_free(scale);
	clq_tunable_free(fill);
	close_queue(ctx, q);
}

static void
remove_fault_dbs(void)
{
	const char *suffix[] = {"", "-wal", "-shm"};
	char path[96];

	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s%s", fault_db, suffix[i]);
		remove(path);
		snprintf(path, sizeof(path), "%s%s", fault_src, suffix[i]);
		remove(path);
	}
}
#endif

/* The tuner on two candidates built in two threads. */
static int
tune_fault_prepare(struct clq_context *ctx, const struct clq_params *problem,
		   void *user_data, void **state_out)
{
	size_t n = 64;

	return clq_device_array_create(ctx, CLQ_DTYPE_FLOAT32, 1, &n, NULL,
				       (struct clq_device_array **)state_out);
}

static void
tune_fault_release(void *state, void *user_data)
{
	clq_device_array_unref(state);
}

static int
tune_fault_measure(struct clq_tune_trial *trial, void *user_data)
{
	struct clq_kernel *k;
	size_t global = 64;
	int rc = clq_tune_trial_get_kernel(trial, "k", &k);
	struct clq_arg args[] = {CLQ_ARG_OUT(
		(struct clq_device_array *)clq_tune_trial_get_state(trial))};

	if (rc < 0)
		return rc;
	return clq_queue_enqueue_kernel(clq_tune_trial_get_queue(trial), k,
					args, 1, 1, &global, NULL, NULL, 0,
					NULL);
}

static int
scenario_tune(void)
{
	static const int64_t values[] = {1, 2};
	struct clq_context *ctx;
	struct clq_queue *q;
	struct clq_tunable *t = NULL;
	struct clq_params *problem = NULL, *best = NULL;
	struct clq_tune_options o = {
		.budget = 1e-4, .rounds = 1, .build_threads = 2};
	double s;
	int64_t v = 0;
	int rc = open_queue(&ctx, &q, 0);

	if (rc == CLQ_SUCCESS)
		rc = clq_tunable_create("k", 1, &t);
	if (rc == CLQ_SUCCESS)
		rc = clq_tunable_set_source(t,
					    "__kernel void k(__global float *x)"
					    "{ x[get_global_id(0)] = V; }\n");
	if (rc == CLQ_SUCCESS)
		rc = clq_tunable_add_int(t, "V", values, 2, CLQ_TUNE_DEFINE);
	if (rc == CLQ_SUCCESS)
		rc = clq_tunable_set_measure(t, tune_fault_prepare,
					     tune_fault_measure,
					     tune_fault_release, NULL);
	if (rc == CLQ_SUCCESS)
		rc = clq_params_parse("n=64", &problem);
	if (rc == CLQ_SUCCESS)
		rc = clq_tune(ctx, t, problem, &o, &best, &s);
	if (rc == CLQ_SUCCESS &&
	    (clq_params_get_int(best, "V", &v) != CLQ_SUCCESS ||
	     (v != 1 && v != 2) || !(s > 0)))
		rc = WRONG_RESULT;
	clq_params_free(best);
	clq_params_free(problem);
	clq_tunable_free(t);
	close_queue(ctx, q);
	return rc;
}

/*
 * The operations for clq's kernels: fill and transpose built (scale is
 * made and run by fill's code), joined in a sequence on two queues (X
 * shared, Y allocated on demand), run, Y read back; in CHECK.
 */
static int
scenario_kernel_ops(void)
{
	struct clq_context *ctx;
	struct clq_queue *q, *q2 = NULL;
	struct clq_dimension *d[2] = {NULL, NULL};
	struct clq_operation *fill = NULL, *tr = NULL;
	struct clq_sequence *seq = NULL;
	struct clq_host_array *h = NULL;
	struct clq_device_array *x;
	const size_t rows = 5, cols = 11, out_shape[2] = {11, 5};
	int rc = open_queue(&ctx, &q, 0);

	if (rc == CLQ_SUCCESS)
		rc = clq_context_set_ordering(ctx, CLQ_ORDERING_CHECK);
	if (rc == CLQ_SUCCESS)
		rc = clq_queue_create(ctx, 0, &q2);
	if (rc == CLQ_SUCCESS)
		rc = clq_dimension_create(rows, 0, 1, 0, &d[0]);
	if (rc == CLQ_SUCCESS)
		rc = clq_dimension_create(cols, 0, 4, 0, &d[1]);
	if (rc == CLQ_SUCCESS)
		rc = clq_operation_create_fill(ctx, 2, d, 3.0f, 0, &fill);
	if (rc == CLQ_SUCCESS)
		rc = clq_operation_create_transpose(ctx, d[0], d[1], 4, &tr);
	if (rc == CLQ_SUCCESS)
		rc = clq_slot_allocate(clq_operation_get_slot(fill, "out"),
				       ctx);
	if (rc == CLQ_SUCCESS) {
		x = clq_slot_get_array(clq_operation_get_slot(fill, "out"));
		rc = clq_slot_bind(clq_operation_get_slot(tr, "in"), x);
	}
	if (rc == CLQ_SUCCESS)
		rc = clq_sequence_create(ctx, &seq);
	if (rc == CLQ_SUCCESS)
		rc = clq_sequence_add(seq, fill, q);
	if (rc == CLQ_SUCCESS)
		rc = clq_sequence_add(seq, tr, q2);
	if (rc == CLQ_SUCCESS)
		rc = clq_sequence_ensure_bound(seq);
	if (rc == CLQ_SUCCESS) {
		struct clq_event *e = NULL;

		rc = clq_sequence_run(seq, q, NULL, 0, &e);
		if (rc == CLQ_SUCCESS)
			rc = clq_event_wait(e);
		clq_event_unref(e);
	}
	if (rc == CLQ_SUCCESS)
		rc = clq_host_array_create(ctx, CLQ_DTYPE_FLOAT32, 2, out_shape,
					   NULL, &h);
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_get(
			clq_slot_get_array(clq_operation_get_slot(tr, "out")),
			q, h);
	if (rc == CLQ_SUCCESS) {
		const float *y = clq_host_array_data(h);

		for (size_t i = 0; i < rows * cols; i++)
			if (y[i] != 3.0f)
				rc = WRONG_RESULT;
	}
	if (rc < 0 && q2) {
		/* a failed command may leave the other queue running */
		clq_queue_finish(q);
		clq_queue_finish(q2);
	}
	clq_host_array_unref(h);
	clq_sequence_unref(seq);
	clq_operation_unref(fill);
	clq_operation_unref(tr);
	clq_dimension_unref(d[0]);
	clq_dimension_unref(d[1]);
	clq_queue_unref(q2);
	close_queue(ctx, q);
	return rc;
}

/* Interop: a kernel launch with an offset, its program built again from
 * its binary, raw objects wrapped (context, queue, buffer, event), and a
 * context finish. */
static int
scenario_interop(void)
{
	const size_t n = 16, offset = 4, global = 8;
	struct clq_device *dev = NULL;
	struct clq_context *ctx = NULL;
	struct clq_queue *q = NULL;
	struct clq_program *p = NULL, *b = NULL;
	struct clq_kernel *k = NULL;
	struct clq_device_array *a = NULL;
	struct clq_host_array *h = NULL, *reg = NULL;
	struct clq_event *w = NULL, *m = NULL;
	float *mem = aligned_alloc(4096, 4096);
	cl_context raw = NULL;
	cl_command_queue rq = NULL;
	cl_mem buf = NULL;
	cl_event marker = NULL;
	unsigned char *bin = NULL;
	size_t size = 0;
	cl_float v = 1.5f;
	cl_uint count = (cl_uint)n;
	cl_int err = CL_SUCCESS;
	int rc = clq_device_select(device_spec(), &dev);

	/* the raw objects, made as other code would (not wrapped calls) */
	if (rc == CLQ_SUCCESS) {
		cl_device_id id = clq_device_get_cl(dev);

		raw = clCreateContext(NULL, 1, &id, NULL, NULL, &err);
		if (err == CL_SUCCESS)
			rq = clCreateCommandQueue(raw, id, 0, &err);
		if (err == CL_SUCCESS)
			buf = clCreateBuffer(raw, CL_MEM_READ_WRITE,
					     n * sizeof(float), NULL, &err);
		rc = err;
	}
	if (rc == CLQ_SUCCESS)
		rc = clq_context_wrap(raw, NULL, &ctx);
	if (rc == CLQ_SUCCESS)
		rc = clq_queue_wrap(ctx, rq, &q);
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_wrap(ctx, buf, CLQ_DTYPE_FLOAT32, 1, &n,
					   NULL, &a);
	if (rc == CLQ_SUCCESS)
		rc = clq_host_array_create(ctx, CLQ_DTYPE_FLOAT32, 1, &n, NULL,
					   &h);
	if (rc == CLQ_SUCCESS && !mem)
		rc = CL_OUT_OF_HOST_MEMORY;
	if (rc == CLQ_SUCCESS)
		rc = clq_host_array_register(ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					     NULL, mem, &reg);
	if (rc == CLQ_SUCCESS)
		rc = clq_program_create_from_source(ctx, add_source, NULL, &p);
	if (rc == CLQ_SUCCESS &&
	    (rc = clq_program_get_binary(p, NULL, 0, &size)) == CLQ_SUCCESS &&
	    !(bin = malloc(size)))
		rc = CL_OUT_OF_HOST_MEMORY;
	if (rc == CLQ_SUCCESS)
		rc = clq_program_get_binary(p, bin, size, &size);
	if (rc == CLQ_SUCCESS)
		rc = clq_program_create_from_binary(ctx, bin, size, NULL, &b);
	if (rc == CLQ_SUCCESS)
		rc = clq_kernel_create(b, "add", &k);
	if (rc == CLQ_SUCCESS) {
		struct clq_arg args[] = {CLQ_ARG_ARRAY(a), CLQ_ARG_VALUE(v),
					 CLQ_ARG_VALUE(count)};

		for (size_t i = 0; i < n; i++)
			mem[i] = (float)i;
		rc = clq_device_array_set_async(a, q, reg, NULL, 0, NULL);
		if (rc == CLQ_SUCCESS)
			rc = clq_queue_enqueue_kernel_offset(
				q, k, args, 3, 1, &offset, &global, NULL, NULL,
				0, NULL);
	}
	/* a raw marker after the kernel, wrapped and waited for */
	if (rc == CLQ_SUCCESS)
		rc = clEnqueueMarkerWithWaitList(rq, 0, NULL, &marker);
	if (rc == CLQ_SUCCESS)
		rc = clq_event_wrap(ctx, marker, &w);
	if (rc == CLQ_SUCCESS)
		rc = clq_queue_enqueue_marker(q, &w, 1, &m);
	if (rc == CLQ_SUCCESS)
		rc = clq_context_finish(ctx);
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_get(a, q, h);
	for (size_t i = 0; rc == CLQ_SUCCESS && i < n; i++)
		if (((float *)clq_host_array_data(h))[i] !=
		    (float)i +
			    (i >= offset && i < offset + global ? 1.5f : 0.0f))
			rc = WRONG_RESULT;
	if (rq)
		clFinish(rq);
	clq_host_array_unref(reg);
	free(bin);
	clq_event_unref(m);
	clq_event_unref(w);
	if (marker)
		clReleaseEvent(marker);
	clq_kernel_unref(k);
	clq_program_unref(b);
	clq_program_unref(p);
	clq_host_array_unref(h);
	clq_device_array_unref(a);
	clq_queue_unref(q);
	clq_context_unref(ctx);
	if (buf)
		clReleaseMemObject(buf);
	if (rq)
		clReleaseCommandQueue(rq);
	if (raw)
		clReleaseContext(raw);
	clq_device_unref(dev);
	free(mem); /* unregistered by the unref, its transfer having ended */
	return rc;
}

/* Drains `want` completions within 10 s into `c`; WRONG_RESULT if they
 * do not come. */
static int
notifier_collect(struct clq_notifier *n, struct clq_completion *c, size_t want)
{
	size_t got = 0;

	for (int waited = 0; got < want; waited++) {
		struct pollfd p = {.fd = clq_notifier_get_fd(n),
				   .events = POLLIN};
		size_t k;
		int rc;

		if (waited > 100)
			return WRONG_RESULT;
		if (poll(&p, 1, 100) != 1)
			continue;
		rc = clq_notifier_drain(n, c + got, want - got, &k);
		if (rc < 0)
			return rc;
		got += k;
	}
	return CLQ_SUCCESS;
}

/* A notifier of each mode: a user event, a command behind it, a command
 * already done; every completion once, with its status and pointer. */
static int
scenario_notifier(void)
{
	struct clq_context *ctx;
	struct clq_queue *q;
	struct clq_notifier *n = NULL, *p = NULL;
	struct clq_event *gate = NULL, *m = NULL, *done = NULL;
	struct clq_completion c[4];
	size_t got = 0;
	int tags[4], seen = 0;
	int rc = open_queue(&ctx, &q, 0);

	if (rc == CLQ_SUCCESS)
		rc = clq_notifier_create(&n);
	if (rc == CLQ_SUCCESS)
		rc = clq_notifier_create_polling(0.001, &p);
	if (rc == CLQ_SUCCESS)
		rc = clq_user_event_create(ctx, &gate);
	if (rc == CLQ_SUCCESS)
		rc = clq_queue_enqueue_marker(q, &gate, 1, &m);
	if (rc == CLQ_SUCCESS)
		rc = clq_queue_enqueue_marker(q, NULL, 0, &done);
	if (rc == CLQ_SUCCESS)
		rc = clq_notifier_watch(n, gate, &tags[0]);
	if (rc == CLQ_SUCCESS)
		rc = clq_notifier_watch(n, m, &tags[1]);
	if (rc == CLQ_SUCCESS)
		rc = clq_notifier_watch(n, done, &tags[2]);
	if (rc == CLQ_SUCCESS)
		rc = clq_notifier_watch(p, m, &tags[3]);
	if (rc == CLQ_SUCCESS)
		rc = clq_user_event_complete(gate, CL_COMPLETE);
	if (rc == CLQ_SUCCESS && (rc = notifier_collect(n, c, 3)) == 0)
		got = 3;
	if (rc == CLQ_SUCCESS && (rc = notifier_collect(p, c + 3, 1)) == 0)
		got = 4;
	for (size_t i = 0; i < got; i++) {
		int t = (int)((int *)c[i].user_data - tags);

		if (t < 0 || t > 3 || (seen & (1 << t)) ||
		    c[i].status != CL_COMPLETE ||
		    c[i].event != (t == 0   ? gate
				   : t == 2 ? done
					    : m))
			rc = WRONG_RESULT;
		seen |= 1 << t;
		clq_event_unref(c[i].event);
	}
	if (gate && rc != CLQ_SUCCESS)
		clq_user_event_complete(gate, CL_COMPLETE); /* may be done */
	clq_notifier_unref(n);
	clq_notifier_unref(p);
	clq_event_unref(gate);
	clq_event_unref(m);
	clq_event_unref(done);
	if (q)
		clq_queue_finish(q);
	close_queue(ctx, q);
	return rc;
}

/*
 * A waiting notifier: a command behind a user event, which its helper
 * waits for. A completion may not come before the command has ended: a
 * failed wait (clWaitForEvents) is no end, however the wait failed.
 */
static int
scenario_notifier_waiting(void)
{
	struct clq_context *ctx;
	struct clq_queue *q;
	struct clq_notifier *n = NULL;
	struct clq_event *gate = NULL, *m = NULL;
	struct clq_completion c;
	struct timespec nap = {0, 10000000};
	size_t k = 0;
	int rc = open_queue(&ctx, &q, 0);

	if (rc == CLQ_SUCCESS)
		rc = clq_notifier_create_waiting(&n);
	if (rc == CLQ_SUCCESS)
		rc = clq_user_event_create(ctx, &gate);
	if (rc == CLQ_SUCCESS)
		rc = clq_queue_enqueue_marker(q, &gate, 1, &m);
	if (rc == CLQ_SUCCESS)
		rc = clq_notifier_watch(n, m, &k);
	if (rc == CLQ_SUCCESS) {
		/* the helper waits for m meanwhile */
		nanosleep(&nap, NULL);
		rc = clq_notifier_drain(n, &c, 1, &k);
	}
	if (rc == CLQ_SUCCESS && k) {
		clq_event_unref(c.event);
		rc = WRONG_RESULT; /* m cannot have ended */
	}
	if (gate) {
		int grc = clq_user_event_complete(gate, CL_COMPLETE);

		if (rc == CLQ_SUCCESS)
			rc = grc;
	}
	if (rc == CLQ_SUCCESS && (rc = notifier_collect(n, &c, 1)) == 0) {
		if (c.event != m || c.status != CL_COMPLETE ||
		    c.user_data != &k)
			rc = WRONG_RESULT;
		clq_event_unref(c.event);
	}
	clq_notifier_unref(n);
	clq_event_unref(gate);
	clq_event_unref(m);
	if (q)
		clq_queue_finish(q);
	close_queue(ctx, q);
	return rc;
}

/* A bridge each way between two contexts, a command behind each; and a
 * failure carried across. */
static int
scenario_bridge(void)
{
	struct clq_context *ctx, *ctx2 = NULL;
	struct clq_queue *q, *q2 = NULL;
	struct clq_event *gate = NULL, *b = NULL, *m = NULL, *back = NULL,
			 *m2 = NULL;
	int rc = open_queue(&ctx, &q, 0);

	if (rc == CLQ_SUCCESS)
		rc = clq_context_create(clq_context_get_device(ctx), &ctx2);
	if (rc == CLQ_SUCCESS)
		rc = clq_queue_create(ctx2, 0, &q2);
	if (rc == CLQ_SUCCESS)
		rc = clq_user_event_create(ctx, &gate);
	if (rc == CLQ_SUCCESS)
		rc = clq_event_bridge(gate, ctx2, &b);
	if (rc == CLQ_SUCCESS)
		rc = clq_queue_enqueue_marker(q2, &b, 1, &m);
	if (rc == CLQ_SUCCESS)
		rc = clq_event_bridge(m, ctx, &back);
	if (rc == CLQ_SUCCESS)
		rc = clq_queue_enqueue_marker(q, &back, 1, &m2);
	if (rc == CLQ_SUCCESS)
		rc = clq_user_event_complete(gate, CL_COMPLETE);
	if (rc == CLQ_SUCCESS)
		rc = clq_event_wait(m2);
	if (gate && rc != CLQ_SUCCESS)
		clq_user_event_complete(gate, CL_COMPLETE); /* may be done */
	clq_event_unref(m2);
	clq_event_unref(back);
	clq_event_unref(m);
	clq_event_unref(b);
	clq_event_unref(gate);
	if (q2)
		clq_queue_finish(q2);
	if (q)
		clq_queue_finish(q);
	close_queue(ctx2, q2);
	close_queue(ctx, q);
	return rc;
}

/* What the target context of a refused bridge logs. */
static char bridge_log[4096];

static void
bridge_log_fn(enum clq_log_level level, const char *message, void *user_data)
{
	size_t len = strlen(bridge_log);

	(void)level;
	(void)user_data;
	snprintf(bridge_log + len, sizeof(bridge_log) - len, "%s\n", message);
}

/* A staged copy between two contexts, in three pieces through two, with
 * different padding on each side; the data read back. */
static int
scenario_stager(void)
{
	static const size_t shape[2] = {10, 30}, padded[2] = {10, 32};
	struct clq_context *ctx, *ctx2 = NULL;
	struct clq_queue *q, *q2 = NULL;
	struct clq_stager *s = NULL;
	struct clq_device_array *src = NULL, *dst = NULL;
	struct clq_host_array *in = NULL, *out = NULL;
	struct clq_event *e = NULL;
	int rc = open_queue(&ctx, &q, 0);

	if (rc == CLQ_SUCCESS)
		rc = clq_context_create(clq_context_get_device(ctx), &ctx2);
	if (rc == CLQ_SUCCESS)
		rc = clq_queue_create(ctx2, 0, &q2);
	if (rc == CLQ_SUCCESS)
		rc = clq_stager_create(ctx, ctx2, 256, 2, &s);
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_create(ctx, CLQ_DTYPE_UINT16, 2, shape,
					     padded, &src);
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_create(ctx2, CLQ_DTYPE_UINT16, 2, shape,
					     NULL, &dst);
	if (rc == CLQ_SUCCESS)
		rc = clq_host_array_create(ctx, CLQ_DTYPE_UINT16, 2, shape,
					   NULL, &in);
	if (rc == CLQ_SUCCESS)
		rc = clq_host_array_create(ctx2, CLQ_DTYPE_UINT16, 2, shape,
					   NULL, &out);
	if (rc == CLQ_SUCCESS) {
		uint16_t *p = clq_host_array_data(in);

		for (size_t i = 0; i < 300; i++)
			p[i] = (uint16_t)(i * 3 + 1);
		memset(clq_host_array_data(out), 0, 600);
		rc = clq_device_array_set(src, q, in);
	}
	if (rc == CLQ_SUCCESS)
		rc = clq_stager_copy(s, dst, q2, src, q, NULL, 0, &e);
	if (rc == CLQ_SUCCESS)
		rc = clq_event_wait(e);
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_get(dst, q2, out);
	if (rc == CLQ_SUCCESS) {
		const uint16_t *p = clq_host_array_data(out);

		for (size_t i = 0; i < 300; i++)
			if (p[i] != (uint16_t)(i * 3 + 1))
				rc = WRONG_RESULT;
	}
	/* The stager holds its memory until what was enqueued has ended. */
	clq_stager_unref(s);
	clq_event_unref(e);
	if (q2)
		clq_queue_finish(q2);
	if (q)
		clq_queue_finish(q);
	clq_device_array_unref(src);
	clq_device_array_unref(dst);
	clq_host_array_unref(in);
	clq_host_array_unref(out);
	close_queue(ctx2, q2);
	close_queue(ctx, q);
	return rc;
}

/* ------------------------------------------------------------------ loop */

static void
run_scenario(const char *name, int (*scenario)(void))
{
	long injected = 0, errors = 0, calls, stride = 1;
	const char *every = getenv("CLQ_FAULT_STRIDE");

	/* Under valgrind (tests/meson.build) only every stride-th call is
	 * failed, spread over the whole scenario: the plain and sanitizer
	 * builds fail each call. */
	if (every && atol(every) > 1)
		stride = atol(every);
	fault_arm(0);
	ck_assert_int_eq(scenario(), CLQ_SUCCESS);
	calls = fault_calls();
	for (long k = 1;; k += stride) {
		int rc;

		fault_arm(k);
		rc = scenario();
		if (!fault_disarm()) {
			ck_assert_msg(rc == CLQ_SUCCESS,
				      "%s: with no fault, returned %d", name,
				      rc);
			break;
		}
		ck_assert_msg(rc != WRONG_RESULT,
			      "%s: call %ld failed, the scenario went on "
			      "and read wrong results",
			      name, k);
		injected++;
		errors += rc != CLQ_SUCCESS;
	}
	ck_assert_int_eq(scenario(), CLQ_SUCCESS);
	printf("%-9s %4ld wrapped calls, %4ld failures injected, %4ld "
	       "returned an error, %4ld absorbed\n",
	       name, calls, injected, errors, injected - errors);
	total_injected += injected;
	total_errors += errors;
}

START_TEST(context_and_queue)
{
	run_scenario("context", scenario_context);
}
END_TEST

START_TEST(arrays_and_transfers)
{
	run_scenario("arrays", scenario_arrays);
}
END_TEST

START_TEST(program_and_kernel)
{
	run_scenario("kernel", scenario_kernel);
}
END_TEST

START_TEST(pipeline)
{
	run_scenario("pipeline", scenario_pipeline);
}
END_TEST

START_TEST(timeline)
{
	run_scenario("timeline", scenario_timeline);
}
END_TEST

START_TEST(pool)
{
	run_scenario("pool", scenario_pool);
}
END_TEST

START_TEST(slots)
{
	run_scenario("slots", scenario_slots);
}
END_TEST

START_TEST(sequence)
{
	run_scenario("sequence", scenario_sequence);
}
END_TEST

START_TEST(compose)
{
	run_scenario("compose", scenario_compose);
}
END_TEST

START_TEST(kernel_ops)
{
	run_scenario("kernelops", scenario_kernel_ops);
}
END_TEST

START_TEST(interop)
{
	run_scenario("interop", scenario_interop);
}
END_TEST

START_TEST(notifier)
{
	run_scenario("notifier", scenario_notifier);
	run_scenario("waiting", scenario_notifier_waiting);
}
END_TEST

START_TEST(bridge)
{
	run_scenario("bridge", scenario_bridge);
}
END_TEST

/*
 * A bridge refused for want of memory (its hook) leaves nothing behind:
 * no warning that the caller released an uncompleted user event (the
 * bridged event was the library's), and the error is the one returned.
 */
START_TEST(bridge_refused_quietly)
{
	struct clq_context *ctx, *ctx2;
	struct clq_queue *q;
	struct clq_event *u, *b;
	long refused = 0;

	ck_assert_int_eq(open_queue(&ctx, &q, 0), CLQ_SUCCESS);
	ck_assert_int_eq(clq_context_create(clq_context_get_device(ctx), &ctx2),
			 CLQ_SUCCESS);
	clq_context_set_log_handler(ctx2, bridge_log_fn, NULL);
	ck_assert_int_eq(clq_user_event_create(ctx, &u), CLQ_SUCCESS);
	/* the hook thread started before faults are armed */
	ck_assert_int_eq(clq_event_bridge(u, ctx2, &b), CLQ_SUCCESS);
	clq_event_unref(b);
	for (long k = 1;; k++) {
		int rc;

		bridge_log[0] = '\0';
		b = NULL;
		fault_arm(k);
		rc = clq_event_bridge(u, ctx2, &b);
		if (!fault_disarm()) {
			ck_assert_int_eq(rc, CLQ_SUCCESS);
			clq_event_unref(b);
			break;
		}
		if (rc == CLQ_SUCCESS) {
			clq_event_unref(b);
			continue;
		}
		refused++;
		ck_assert_ptr_null(b);
		ck_assert_msg(!strstr(bridge_log, "without being completed"),
			      "call %ld refused, and logged: %s", k,
			      bridge_log);
	}
	ck_assert_int_gt(refused, 1);
	ck_assert_int_eq(clq_user_event_complete(u, CL_COMPLETE), CLQ_SUCCESS);
	clq_event_unref(u);
	clq_queue_finish(q);
	close_queue(ctx, q);
	clq_context_unref(ctx2);
}
END_TEST

START_TEST(stager)
{
	run_scenario("stager", scenario_stager);
}
END_TEST

START_TEST(ordering)
{
	run_scenario("auto", scenario_order_auto);
	run_scenario("check", scenario_order_check);
	run_scenario("ordkernel", scenario_order_kernel);
}
END_TEST

START_TEST(tune)
{
	run_scenario("tune", scenario_tune);
#ifdef CLQ_HAVE_SQLITE3
	make_fault_dbs();
	run_scenario("tune-db", scenario_tune_db);
	remove_fault_dbs();
#endif
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("fault");
	TCase *tc = tcase_create("scenarios");
	SRunner *sr;
	int failed;

	clq_set_log_handler(quiet, NULL);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, context_and_queue);
	tcase_add_test(tc, arrays_and_transfers);
	tcase_add_test(tc, program_and_kernel);
	tcase_add_test(tc, pipeline);
	tcase_add_test(tc, timeline);
	tcase_add_test(tc, ordering);
	tcase_add_test(tc, pool);
	tcase_add_test(tc, slots);
	tcase_add_test(tc, sequence);
	tcase_add_test(tc, notifier);
	tcase_add_test(tc, bridge);
	tcase_add_test(tc, bridge_refused_quietly);
	tcase_add_test(tc, stager);
	tcase_add_test(tc, kernel_ops);
	tcase_add_test(tc, interop);
	tcase_add_test(tc, compose);
	tcase_add_test(tc, tune);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	printf("fault injection: %ld failures injected, %ld returned an "
	       "error, %ld absorbed by clq\n",
	       total_injected, total_errors, total_injected - total_errors);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
