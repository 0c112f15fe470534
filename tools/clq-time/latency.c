/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * clq-time latency: the wall time of a marker's round trip, a no-op
 * kernel's launch latency on the device clock (queued and submitted to
 * start) and the host's cost of one enqueue of each.
 */
#include <stdint.h>
#include <stdlib.h>

#include "clq-time.h"

#define ENQUEUE_BATCH 100

static const char noop_source[] = "__kernel void clq_time_noop(void) {}\n";

struct latency {
	struct stats round_trip;      /* marker: enqueue + wait, wall */
	struct stats queued_to_start; /* noop kernel, device clock */
	struct stats submit_to_start; /* noop kernel, device clock */
	struct stats enqueue_marker;  /* host seconds per call */
	struct stats enqueue_kernel;  /* host seconds per call */
};

static int
enqueue_marker(void *data, struct clq_event **event_out)
{
	return clq_queue_enqueue_marker(data, NULL, 0, event_out);
}

/* The no-op kernel, launched on one work-item. */
struct noop {
	struct clq_queue *queue;
	struct clq_kernel *kernel;
};

static int
enqueue_noop(void *data, struct clq_event **event_out)
{
	const struct noop *l = data;
	const size_t global = 1;

	return clq_queue_enqueue_kernel(l->queue, l->kernel, NULL, 0, 1,
					&global, NULL, NULL, 0, event_out);
}

/* Launch latency of the no-op kernel: QUEUED and SUBMIT to START. */
static int
time_launches(const struct timed *timed, double budget, struct latency *lat)
{
	double d, w, *queued = NULL, *submit = NULL;
	struct clq_event_times t;
	size_t n;
	int rc;

	for (int i = 0; i < 2; i++)
		if ((rc = time_one(timed, true, &d, &w, &t)) < 0)
			return rc;
	n = runs_for(budget, w);
	queued = malloc(n * sizeof(*queued));
	submit = malloc(n * sizeof(*submit));
	rc = queued && submit ? CLQ_SUCCESS : CL_OUT_OF_HOST_MEMORY;
	for (size_t i = 0; i < n && rc == CLQ_SUCCESS; i++) {
		if ((rc = time_one(timed, false, &d, &w, &t)) < 0)
			break;
		queued[i] = (double)(int64_t)(t.start - t.queued) * 1e-9;
		submit[i] = (double)(int64_t)(t.start - t.submit) * 1e-9;
	}
	if (rc == CLQ_SUCCESS) {
		lat->queued_to_start = stats_of(queued, n);
		lat->submit_to_start = stats_of(submit, n);
	}
	free(queued);
	free(submit);
	return rc;
}

/* Host seconds per enqueue call: batches of ENQUEUE_BATCH calls (each
 * takes an event and drops it, as callers do), a finish between batches,
 * for `budget` seconds (at least MIN_RUNS batches). */
static int
time_enqueue_cost(enqueue_fn enqueue, void *data, struct clq_queue *queue,
		  double budget, struct stats *out)
{
	size_t cap = 64, n = 0;
	double *v = malloc(cap * sizeof(*v)), until = now() + budget;
	int rc = v ? CLQ_SUCCESS : CL_OUT_OF_HOST_MEMORY;

	while (rc == CLQ_SUCCESS && (n < MIN_RUNS || now() < until) &&
	       n < MAX_RUNS) {
		double t0 = now();

		for (int i = 0; i < ENQUEUE_BATCH && rc == CLQ_SUCCESS; i++) {
			struct clq_event *ev = NULL;

			rc = enqueue(data, &ev);
			clq_event_unref(ev);
		}
		if (rc != CLQ_SUCCESS)
			break;
		if (n == cap) {
			double *bigger = realloc(v, 2 * cap * sizeof(*v));

			if (!bigger) {
				rc = CL_OUT_OF_HOST_MEMORY;
				break;
			}
			v = bigger;
			cap *= 2;
		}
		v[n++] = (now() - t0) / ENQUEUE_BATCH;
		rc = clq_queue_finish(queue);
	}
	if (rc == CLQ_SUCCESS)
		*out = stats_of(v, n);
	free(v);
	return rc;
}

static void
print_latency_line(const char *what, struct stats s)
{
	printf("%-34s %8.3f %8.3f %8.3f %7zu\n", what, s.min * 1e6,
	       s.median * 1e6, s.max * 1e6, s.n);
}

static void
print_latency(const struct session *s, const struct latency *lat)
{
	if (s->opt->json) {
		json_begin(stdout, "latency", s->device);
		fputs(",\n  \"budget_s\": ", stdout);
		json_write_number(stdout, s->opt->budget);
		fputs(",\n  \"marker_round_trip_s\": ", stdout);
		json_write_stats(stdout, lat->round_trip);
		fputs(",\n  \"launch_queued_to_start_s\": ", stdout);
		json_write_stats(stdout, lat->queued_to_start);
		fputs(",\n  \"launch_submit_to_start_s\": ", stdout);
		json_write_stats(stdout, lat->submit_to_start);
		fputs(",\n  \"enqueue_marker_s\": ", stdout);
		json_write_stats(stdout, lat->enqueue_marker);
		fputs(",\n  \"enqueue_kernel_s\": ", stdout);
		json_write_stats(stdout, lat->enqueue_kernel);
		printf("\n}\n");
		return;
	}
	printf("clq-time latency on %s (%s, device %zu:%zu)\n",
	       clq_device_get_name(s->device),
	       clq_device_get_platform_name(s->device),
	       clq_device_get_platform_index(s->device),
	       clq_device_get_index_in_platform(s->device));
	printf("%-34s %8s %8s %8s %7s\n", "microseconds", "min", "median",
	       "max", "runs");
	print_latency_line("marker round trip (host)", lat->round_trip);
	print_latency_line("launch: queued to start (device)",
			   lat->queued_to_start);
	print_latency_line("launch: submit to start (device)",
			   lat->submit_to_start);
	print_latency_line("enqueue one marker (host)", lat->enqueue_marker);
	print_latency_line("enqueue one kernel (host)", lat->enqueue_kernel);
	printf("(enqueue costs: per call, batches of %d%s)\n", ENQUEUE_BATCH,
	       s->timeline ? "; with --trace/--svg they include recording"
			   : "");
}

int
run_latency(const struct options *opt)
{
	struct clq_program *program = NULL;
	struct latency lat;
	struct session s;
	struct stats device;
	int rc;

	if ((rc = session_open(&s, opt, "latency")) < 0)
		return session_close(&s, rc);
	if ((rc = clq_program_create_from_source(s.ctx, noop_source, NULL,
						 &program)) < 0) {
		fail("building the no-op kernel", rc);
	} else {
		struct noop l = {s.queue, NULL};
		struct timed marker = {enqueue_marker, s.queue, s.queue,
				       s.timeline ? "marker" : NULL};
		struct timed noop = {enqueue_noop, &l, s.queue,
				     s.timeline ? "kernel clq_time_noop"
						: NULL};

		if ((rc = clq_kernel_create(program, "clq_time_noop",
					    &l.kernel)) < 0)
			fail("creating the no-op kernel", rc);
		else if ((rc = time_repeatedly(&marker, opt->budget, &device,
					       &lat.round_trip)) < 0)
			fail("timing marker round trips", rc);
		else if ((rc = time_launches(&noop, opt->budget, &lat)) < 0)
			fail("timing kernel launches", rc);
		else if ((rc = time_enqueue_cost(enqueue_marker, s.queue,
						 s.queue, opt->budget,
						 &lat.enqueue_marker)) < 0)
			fail("timing marker enqueues", rc);
		else if ((rc = time_enqueue_cost(enqueue_noop, &l, s.queue,
						 opt->budget,
						 &lat.enqueue_kernel)) < 0)
			fail("timing kernel enqueues", rc);
		clq_kernel_unref(l.kernel);
	}
	clq_program_unref(program);
	if (rc == CLQ_SUCCESS)
		print_latency(&s, &lat);
	return session_close(&s, rc);
}
