/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Latency of clq_event_bridge(): a command of context B waiting for a
 * command of context A, against the host doing the same by hand.
 *
 *   bench-bridge [REPS [DEVICE_B]]
 *       (default 200 reps; context B on device DEVICE_B, a spec as
 *       clq_device_select() takes, else on the device of context A)
 *
 * Each rep, on an idle device, enqueues a marker on a queue of A behind a
 * user event, then makes B's queue wait for it, completes the user event
 * and times from there until B's marker is seen complete (a thread
 * blocked in clq_event_wait() on it):
 *   direct   the same marker waited for on A (no second context): what
 *            a blocking wait costs;
 *   host     a thread waits for A's marker, then enqueues B's marker and
 *            waits for it: the hand-made way;
 *   bridge   B's marker has the bridged event in its wait list; the
 *            bridge learns of A's end through the driver's callback;
 *   failed   as bridge, with the user event failed: the marker of A
 *            fails through its wait list, which some drivers never call
 *            back (PoCL 3.1), so the bridge learns it from the notifier's
 *            polling fallback (every 10 ms).
 * Reported: median, p10 and p90 in microseconds.
 *
 * On a GPU machine (two H200s: DEVICE_B nvidia:1):
 *   CLQ_DEVICE=nvidia build/tests/bench/bench-bridge 1000 nvidia:1
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <clq/clq.h>

#include "bench.h"

enum way { DIRECT, HOST, BRIDGE, FAILED, N_WAYS };
static const char *const way_names[N_WAYS] = {"direct", "host", "bridge",
					      "failed"};

struct bench {
	struct clq_context *a, *b;
	struct clq_queue *qa, *qb;
};

static int
check(const char *what, int rc)
{
	if (rc < 0)
		fprintf(stderr, "bench-bridge: %s: %s (%s)\n", what,
			clq_error_name(rc), clq_strerror(rc));
	return rc;
}

/* The thread that sees the end: waits for `source` (HOST: then enqueues
 * B's marker and waits for that), and notes the time. */
struct waiter {
	struct bench *b;
	enum way way;
	struct clq_event *ev;
	double t1;
	int rc;
};

static void *
waiter_run(void *data)
{
	struct waiter *w = data;
	struct clq_event *m = NULL;

	w->rc = clq_event_wait(w->ev);
	if (w->way == HOST && w->rc == CLQ_SUCCESS) {
		w->rc = clq_queue_enqueue_marker(w->b->qb, NULL, 0, &m);
		if (w->rc == CLQ_SUCCESS)
			w->rc = clq_event_wait(m);
		clq_event_unref(m);
	}
	w->t1 = bench_now();
	return NULL;
}

static int
run(struct bench *b, enum way way, double *seconds_out)
{
	struct clq_event *u = NULL, *ma = NULL, *bridged = NULL, *mb = NULL;
	struct waiter wt = {.b = b, .way = way};
	pthread_t thread;
	double t0;
	int rc = clq_user_event_create(b->a, &u);

	if (rc == CLQ_SUCCESS)
		rc = clq_queue_enqueue_marker(b->qa, &u, 1, &ma);
	if (rc == CLQ_SUCCESS && (way == BRIDGE || way == FAILED))
		rc = clq_event_bridge(ma, b->b, &bridged);
	if (rc == CLQ_SUCCESS && bridged)
		rc = clq_queue_enqueue_marker(b->qb, &bridged, 1, &mb);
	if (rc == CLQ_SUCCESS)
		rc = clq_queue_flush(b->qa);
	if (rc == CLQ_SUCCESS && mb)
		rc = clq_queue_flush(b->qb);
	wt.ev = mb ? mb : ma;
	if (rc == CLQ_SUCCESS &&
	    pthread_create(&thread, NULL, waiter_run, &wt) != 0)
		rc = CLQ_ERROR_IO;
	if (rc == CLQ_SUCCESS) {
		bench_sleep_ms(2);
		t0 = bench_now();
		rc = clq_user_event_complete(u,
					     way == FAILED ? -1 : CL_COMPLETE);
		pthread_join(thread, NULL);
		if (rc == CLQ_SUCCESS)
			rc = way == FAILED && wt.rc == CLQ_ERROR_COMMAND_FAILED
				     ? CLQ_SUCCESS
				     : wt.rc;
		*seconds_out = wt.t1 - t0;
	} else if (u) {
		clq_user_event_complete(u, CL_COMPLETE);
	}
	clq_event_unref(mb);
	clq_event_unref(bridged);
	clq_event_unref(ma);
	clq_event_unref(u);
	return check(way_names[way], rc);
}

static void
quiet(enum clq_log_level level, const char *message, void *data)
{
	(void)data;
	/* the failed way's waits log their failure */
	if (level <= CLQ_LOG_WARNING && !strstr(message, "command failed"))
		fprintf(stderr, "clq: %s\n", message);
}

int
main(int argc, char **argv)
{
	size_t reps = argc > 1 ? strtoul(argv[1], NULL, 10) : 200;
	struct clq_device *da = NULL, *db = NULL;
	struct bench b = {0};
	double *t[N_WAYS];
	int rc;

	if (reps < 3) {
		fprintf(stderr, "usage: bench-bridge [REPS>=3 [DEVICE_B]]\n");
		return 2;
	}
	clq_set_log_handler(quiet, NULL);
	if ((rc = clq_device_select(NULL, &da)) == CLQ_ERROR_NO_DEVICE)
		return 77;
	if (check("device A", rc) < 0)
		return 1;
	if (argc > 2)
		rc = clq_device_select(argv[2], &db);
	else
		db = clq_device_ref(da);
	if (check("device B", rc) < 0 ||
	    check("context A", clq_context_create(da, &b.a)) < 0 ||
	    check("context B", clq_context_create(db, &b.b)) < 0 ||
	    check("queue A", clq_queue_create(b.a, 0, &b.qa)) < 0 ||
	    check("queue B", clq_queue_create(b.b, 0, &b.qb)) < 0)
		return 1;
	for (int w = 0; w < N_WAYS; w++) {
		t[w] = calloc(reps, sizeof(double));
		if (!t[w])
			return 1;
	}
	for (int w = 0; w < N_WAYS; w++) /* warm-up */
		if (run(&b, (enum way)w, &t[w][0]) < 0)
			return 1;
	for (size_t r = 0; r < reps; r++)
		for (int w = 0; w < N_WAYS; w++)
			if (run(&b, (enum way)w, &t[w][r]) < 0)
				return 1;

	printf("device A: %s (%s); device B: %s%s\n", clq_device_get_name(da),
	       clq_device_get_driver_version(da), clq_device_get_name(db),
	       argc > 2 ? "" : " (the same device, another context)");
	printf("%zu reps: microseconds from clq_user_event_complete() to "
	       "the last marker seen complete\n",
	       reps);
	printf("  %-8s %10s %10s %10s\n", "way", "median", "p10", "p90");
	for (int w = 0; w < N_WAYS; w++) {
		double med = bench_median(t[w], reps);

		printf("  %-8s %10.1f %10.1f %10.1f\n", way_names[w], med * 1e6,
		       t[w][(size_t)(0.1 * (double)(reps - 1) + 0.5)] * 1e6,
		       t[w][(size_t)(0.9 * (double)(reps - 1) + 0.5)] * 1e6);
		free(t[w]);
	}
	clq_queue_unref(b.qa);
	clq_queue_unref(b.qb);
	clq_context_unref(b.a);
	clq_context_unref(b.b);
	clq_device_unref(da);
	clq_device_unref(db);
	return 0;
}
