/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Wake-up latency of a notifier against a blocking clq_event_wait() on
 * the same work.
 *
 *   bench-notify [REPS [ELEMS [ITERS [POLL_US]...]]]
 *       (default 200 reps, 1048576 elements, 16 iterations, polling at
 *       20, 200 and 1000 us)
 *
 * Ways of learning that the work is done:
 *   blocking   clq_event_wait() on the event;
 *   callbacks  a notifier in callback mode, watched from a poll() loop
 *              (poll on its descriptor, then drain): "the loop's callback
 *              runs" is the moment drain hands over the completion;
 *   waiting    the same with a notifier in waiting mode (a helper thread
 *              in clWaitForEvents());
 *   poll N us  the same with a notifier in polling mode, N us interval.
 * Work, each rep running every way once, in turn:
 *   kernel  cl/scale.cl on ELEMS floats, ITERS iterations; timed from just
 *           before the enqueue to the wake-up. The device time is the
 *           same for every way, so the difference from blocking is what
 *           the notifier adds;
 *   user    a marker behind a user event, with the waiter (a thread
 *           blocked in clq_event_wait(), or the loop in poll()) asleep
 *           for 2 ms first; timed from clq_user_event_complete() to the
 *           wake-up: the completion's instant is the host's own here.
 *   kernel, back to back: the kernel work again, but each way's reps in
 *           a row rather than taking turns with the other ways: a loop
 *           that keeps the device busy, where the waiting mode's helper
 *           is still awake for the next watch.
 * Reported per way: median, 10th and 90th percentile in microseconds,
 * and the median's difference from blocking. A polling notifier's first
 * poll comes one interval after the watch, so its rows depend on how the
 * work's length falls against the interval (1000 us polling on 340 us of
 * kernel work wakes after about 1000 us).
 *
 * On a GPU machine (the goal: within 15 us of blocking):
 *   meson setup build -Dtests=enabled
 *   meson compile -C build tests/bench/bench-notify
 *   CLQ_DEVICE=nvidia build/tests/bench/bench-notify 1000 1048576 16
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <clq/clq.h>

#include "bench.h"

#define MAX_WAYS 8

struct way {
	char name[32];
	struct clq_notifier *n; /* NULL: blocking */
	double *kernel_s, *user_s, *stream_s;
};

struct bench {
	struct clq_context *ctx;
	struct clq_queue *q;
	struct clq_kernel *scale;
	struct clq_device_array *data;
	cl_uint elems, iters;
	size_t global, local;
};

static int
check(const char *what, int rc)
{
	if (rc < 0)
		fprintf(stderr, "bench-notify: %s: %s (%s)\n", what,
			clq_error_name(rc), clq_strerror(rc));
	return rc;
}

/* Waits in a poll() loop for the one completion watched; returns the time
 * drain handed it over. */
static int
loop_wait(struct clq_notifier *n, double *t_out)
{
	struct pollfd p = {.fd = clq_notifier_get_fd(n), .events = POLLIN};
	struct clq_completion c;
	size_t k = 0;
	int rc;

	while (k == 0) {
		if (poll(&p, 1, 10000) != 1) {
			fprintf(stderr, "bench-notify: no wake-up in 10 s\n");
			return CLQ_ERROR_IO;
		}
		if ((rc = clq_notifier_drain(n, &c, 1, &k)) < 0)
			return rc;
	}
	*t_out = bench_now();
	rc = c.status == CL_COMPLETE ? CLQ_SUCCESS : CLQ_ERROR_COMMAND_FAILED;
	clq_event_unref(c.event);
	return rc;
}

static int
run_kernel(struct bench *b, struct way *w, double *seconds_out)
{
	cl_float one = 1.0f;
	struct clq_arg args[] = {
		CLQ_ARG_ARRAY(b->data),	 CLQ_ARG_VALUE(b->elems),
		CLQ_ARG_VALUE(one),	 CLQ_ARG_VALUE(one),
		CLQ_ARG_VALUE(b->iters),
	};
	struct clq_event *ev = NULL;
	double t0 = bench_now(), t1;
	int rc = clq_queue_enqueue_kernel(b->q, b->scale, args, 5, 1,
					  &b->global, &b->local, NULL, 0, &ev);

	if (rc == CLQ_SUCCESS && !w->n) {
		rc = clq_event_wait(ev);
		t1 = bench_now();
	} else if (rc == CLQ_SUCCESS) {
		rc = clq_notifier_watch(w->n, ev, NULL);
		if (rc == CLQ_SUCCESS)
			rc = loop_wait(w->n, &t1);
	}
	clq_event_unref(ev);
	if (rc == CLQ_SUCCESS)
		*seconds_out = t1 - t0;
	return check("kernel work", rc);
}

struct waiter {
	struct clq_event *ev;
	double t1;
	int rc;
};

static void *
waiter_run(void *data)
{
	struct waiter *w = data;

	w->rc = clq_event_wait(w->ev);
	w->t1 = bench_now();
	return NULL;
}

static int
run_user(struct bench *b, struct way *w, double *seconds_out)
{
	struct clq_event *u = NULL, *ev = NULL;
	struct waiter wt = {0};
	pthread_t thread;
	double t0, t1 = 0;
	int rc;

	if ((rc = clq_user_event_create(b->ctx, &u)) < 0)
		return check("a user event", rc);
	rc = clq_queue_enqueue_marker(b->q, &u, 1, &ev);
	if (rc == CLQ_SUCCESS && !w->n) {
		wt.ev = ev;
		clq_queue_flush(b->q);
		if (pthread_create(&thread, NULL, waiter_run, &wt) != 0) {
			clq_user_event_complete(u, CL_COMPLETE);
			rc = CLQ_ERROR_IO;
		} else {
			bench_sleep_ms(2);
			t0 = bench_now();
			rc = clq_user_event_complete(u, CL_COMPLETE);
			pthread_join(thread, NULL);
			if (rc == CLQ_SUCCESS)
				rc = wt.rc;
			t1 = wt.t1;
		}
	} else if (rc == CLQ_SUCCESS) {
		rc = clq_notifier_watch(w->n, ev, NULL);
		bench_sleep_ms(2);
		t0 = bench_now();
		clq_user_event_complete(u, CL_COMPLETE);
		if (rc == CLQ_SUCCESS)
			rc = loop_wait(w->n, &t1);
	}
	clq_event_unref(ev);
	clq_event_unref(u);
	if (rc == CLQ_SUCCESS)
		*seconds_out = t1 - t0;
	return check("user-event work", rc);
}

static double
percentile(const double *sorted, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return sorted[i];
}

static void
report(const char *work, struct way *ways, size_t n_ways, size_t reps, int user)
{
	double blocking = 0;

	printf("\n%s work: microseconds from %s to the wake-up\n", work,
	       user == 1 ? "clq_user_event_complete()" : "the enqueue");
	printf("  %-14s %10s %10s %10s %12s\n", "way", "median", "p10", "p90",
	       "vs blocking");
	for (size_t i = 0; i < n_ways; i++) {
		double *v = user == 1	? ways[i].user_s
			    : user == 2 ? ways[i].stream_s
					: ways[i].kernel_s;
		double med = bench_median(v, reps);

		if (i == 0)
			blocking = med;
		printf("  %-14s %10.1f %10.1f %10.1f %+12.1f\n", ways[i].name,
		       med * 1e6, percentile(v, reps, 0.1) * 1e6,
		       percentile(v, reps, 0.9) * 1e6, (med - blocking) * 1e6);
	}
}

static int
device_time(struct bench *b, double *seconds_out)
{
	struct clq_queue *pq = NULL;
	cl_float one = 1.0f;
	struct clq_arg args[] = {
		CLQ_ARG_ARRAY(b->data),	 CLQ_ARG_VALUE(b->elems),
		CLQ_ARG_VALUE(one),	 CLQ_ARG_VALUE(one),
		CLQ_ARG_VALUE(b->iters),
	};
	struct clq_event *ev = NULL;
	struct clq_event_times t;
	int rc = clq_queue_create(b->ctx, CLQ_QUEUE_PROFILING, &pq);

	if (rc == CLQ_SUCCESS)
		rc = clq_queue_enqueue_kernel(pq, b->scale, args, 5, 1,
					      &b->global, &b->local, NULL, 0,
					      &ev);
	if (rc == CLQ_SUCCESS)
		rc = clq_event_get_times(ev, &t);
	if (rc == CLQ_SUCCESS)
		*seconds_out = (double)(t.end - t.start) * 1e-9;
	clq_event_unref(ev);
	clq_queue_unref(pq);
	return rc;
}

int
main(int argc, char **argv)
{
	size_t reps = argc > 1 ? strtoul(argv[1], NULL, 10) : 200;
	unsigned long elems = argc > 2 ? strtoul(argv[2], NULL, 10) : 1048576;
	unsigned long iters = argc > 3 ? strtoul(argv[3], NULL, 10) : 16;
	static const double default_poll_us[] = {20, 200, 1000};
	struct bench b = {0};
	struct way ways[MAX_WAYS];
	size_t n_ways = 0;
	struct clq_program *p = NULL;
	struct clq_device *dev = NULL;
	double dev_s = 0;
	int rc;

	memset(ways, 0, sizeof(ways));
	if (reps < 3 || elems == 0 || elems > 1ul << 30 || iters == 0) {
		fprintf(stderr, "usage: bench-notify [REPS>=3 [ELEMS [ITERS "
				"[POLL_US]...]]]\n");
		return 2;
	}
	if ((rc = clq_device_select(NULL, &dev)) == CLQ_ERROR_NO_DEVICE)
		return 77;
	if (check("a device", rc) < 0 ||
	    check("a context", clq_context_create(dev, &b.ctx)) < 0 ||
	    check("a queue", clq_queue_create(b.ctx, 0, &b.q)) < 0 ||
	    check("scale.cl", clq_program_create_from_file(b.ctx, "scale.cl",
							   NULL, 0, NULL, &p)) <
		    0 ||
	    check("the kernel", clq_kernel_create(p, "scale", &b.scale)) < 0)
		return 1;
	b.elems = (cl_uint)elems;
	b.iters = (cl_uint)iters;
	b.local = clq_kernel_get_work_group_size(b.scale);
	if (b.local > 256)
		b.local = 256;
	b.global = (elems + b.local - 1) / b.local * b.local;
	if (check("the array",
		  clq_device_array_create(b.ctx, CLQ_DTYPE_FLOAT32, 1,
					  &(size_t){elems}, NULL, &b.data)) < 0)
		return 1;

	snprintf(ways[n_ways++].name, sizeof(ways[0].name), "blocking");
	snprintf(ways[n_ways].name, sizeof(ways[0].name), "callbacks");
	if (check("a notifier", clq_notifier_create(&ways[n_ways++].n)) < 0)
		return 1;
	snprintf(ways[n_ways].name, sizeof(ways[0].name), "waiting");
	if (check("a waiting notifier",
		  clq_notifier_create_waiting(&ways[n_ways++].n)) < 0)
		return 1;
	for (int i = 4; n_ways < MAX_WAYS && (argc > 4 ? i < argc : i < 7);
	     i++) {
		double us = argc > 4 ? strtod(argv[i], NULL)
				     : default_poll_us[i - 4];

		snprintf(ways[n_ways].name, sizeof(ways[0].name), "poll %g us",
			 us);
		if (check("a polling notifier",
			  clq_notifier_create_polling(us * 1e-6,
						      &ways[n_ways++].n)) < 0)
			return 1;
	}
	for (size_t i = 0; i < n_ways; i++) {
		ways[i].kernel_s = calloc(reps, sizeof(double));
		ways[i].user_s = calloc(reps, sizeof(double));
		ways[i].stream_s = calloc(reps, sizeof(double));
		if (!ways[i].kernel_s || !ways[i].user_s || !ways[i].stream_s)
			return 1;
	}

	/* warm-up: the kernel compiled and run once each way */
	for (size_t i = 0; i < n_ways; i++)
		if (run_kernel(&b, &ways[i], &ways[i].kernel_s[0]) < 0)
			return 1;
	for (size_t r = 0; r < reps; r++) {
		for (size_t i = 0; i < n_ways; i++)
			if (run_kernel(&b, &ways[i], &ways[i].kernel_s[r]) <
				    0 ||
			    run_user(&b, &ways[i], &ways[i].user_s[r]) < 0)
				return 1;
	}
	for (size_t i = 0; i < n_ways; i++)
		for (size_t r = 0; r < reps; r++)
			if (run_kernel(&b, &ways[i], &ways[i].stream_s[r]) < 0)
				return 1;
	if (device_time(&b, &dev_s) < 0)
		dev_s = 0;

	printf("device: %s (%s)\n", clq_device_get_name(dev),
	       clq_device_get_driver_version(dev));
	printf("%zu reps; kernel: scale.cl on %lu floats, %lu iterations, "
	       "%.1f us on the device (profiled once)\n",
	       reps, elems, iters, dev_s * 1e6);
	report("kernel", ways, n_ways, reps, 0);
	report("user-event", ways, n_ways, reps, 1);
	report("kernel, back to back,", ways, n_ways, reps, 2);
	for (size_t i = 0; i < n_ways; i++) {
		clq_notifier_unref(ways[i].n);
		free(ways[i].kernel_s);
		free(ways[i].user_s);
		free(ways[i].stream_s);
	}
	clq_device_array_unref(b.data);
	clq_kernel_unref(b.scale);
	clq_program_unref(p);
	clq_queue_unref(b.q);
	clq_context_unref(b.ctx);
	clq_device_unref(dev);
	return 0;
}
