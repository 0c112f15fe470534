/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * clq-time's measurement loop: each measurement is warmed up twice, then
 * repeated as often as --budget allows (at least MIN_RUNS times). Device
 * times come from profiling events (start to end of each command); wall
 * times from the host's monotonic clock around one enqueue and the wait
 * for it. On --trace and --svg timelines the warm-ups are labelled
 * "warm-up ...".
 */
#include <stdlib.h>

#include "clq-time.h"

/* Labels the next command on the timeline, with "warm-up " before a
 * warm-up run's label so that no one takes it for a timed run. */
static int
label_next(const struct timed *t, bool warm_up)
{
	char label[160];

	if (!t->label)
		return CLQ_SUCCESS;
	snprintf(label, sizeof(label), "%s%s", warm_up ? "warm-up " : "",
		 t->label);
	return clq_queue_set_next_label(t->queue, label);
}

int
time_one(const struct timed *timed, bool warm_up, double *device_s,
	 double *wall_s, struct clq_event_times *times)
{
	struct clq_event *ev = NULL;
	struct clq_event_times t;
	double t0;
	int rc;

	if ((rc = label_next(timed, warm_up)) < 0)
		return rc;
	t0 = now();
	if ((rc = timed->enqueue(timed->data, &ev)) == CLQ_SUCCESS &&
	    (rc = clq_event_wait(ev)) == CLQ_SUCCESS) {
		*wall_s = now() - t0;
		rc = clq_event_get_times(ev, &t);
	}
	clq_event_unref(ev);
	if (rc < 0)
		return rc;
	*device_s = t.end > t.start ? (double)(t.end - t.start) * 1e-9 : 0.0;
	if (times)
		*times = t;
	return CLQ_SUCCESS;
}

int
time_repeatedly(const struct timed *timed, double budget, struct stats *device,
		struct stats *wall)
{
	double d, w, *dv = NULL, *wv = NULL;
	size_t n;
	int rc;

	for (int i = 0; i < 2; i++)
		if ((rc = time_one(timed, true, &d, &w, NULL)) < 0)
			return rc;
	n = runs_for(budget, w);
	dv = malloc(n * sizeof(*dv));
	wv = malloc(n * sizeof(*wv));
	rc = dv && wv ? CLQ_SUCCESS : CL_OUT_OF_HOST_MEMORY;
	for (size_t i = 0; i < n && rc == CLQ_SUCCESS; i++)
		rc = time_one(timed, false, &dv[i], &wv[i], NULL);
	if (rc == CLQ_SUCCESS) {
		*device = stats_of(dv, n);
		*wall = stats_of(wv, n);
	}
	free(dv);
	free(wv);
	return rc;
}
