/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bridge: a queue of one context waits for a command of another through
 * clq_event_bridge(); the README's excerpt on bridged events comes from
 * here (the docs test checks that it still does, then builds and runs
 * this file).
 *
 * Two contexts (one per device in a real program; here both on the
 * default device). Context A's marker waits for a user event; context B's
 * marker waits for A's through a bridge. Once with the user event
 * completed, once failed: the failure reaches B's marker too.
 */
#include <stdio.h>
#include <string.h>

#include <clq/clq.h>

/* Failed commands are the point of the second round: keep their log
 * messages quiet, and print the others. */
static void
log_errors(enum clq_log_level level, const char *message, void *data)
{
	(void)data;
	if (level == CLQ_LOG_ERROR && !strstr(message, "failed"))
		fprintf(stderr, "clq: %s\n", message);
}

/* One round: returns B's marker's status (CL_COMPLETE or negative), or a
 * clq error code above 0 on failure to run it. */
static int
round_trip(struct clq_context *ctx_a, struct clq_queue *q_a,
	   struct clq_context *ctx_b, struct clq_queue *q_b, int gate_status,
	   int *status_out)
{
	struct clq_event *gate = NULL, *done_on_a = NULL, *bridged = NULL;
	struct clq_event *after = NULL;
	int rc = clq_user_event_create(ctx_a, &gate);

	if (rc == 0)
		rc = clq_queue_enqueue_marker(q_a, &gate, 1, &done_on_a);
	/* device A's command, device B's queue waiting for it */
	if (rc == 0)
		rc = clq_event_bridge(done_on_a, ctx_b, &bridged);
	if (rc == 0)
		rc = clq_queue_enqueue_marker(q_b, &bridged, 1, &after);
	if (rc == 0)
		rc = clq_user_event_complete(gate, gate_status);
	if (rc == 0) {
		clq_event_wait(after); /* fails in the second round */
		rc = clq_event_get_status(after, status_out);
	}
	clq_event_unref(after);
	clq_event_unref(bridged);
	clq_event_unref(done_on_a);
	clq_event_unref(gate);
	return rc;
}

int
main(void)
{
	struct clq_context *ctx_a = NULL, *ctx_b = NULL;
	struct clq_queue *q_a = NULL, *q_b = NULL;
	int ok_status = 1, failed_status = 1;
	int rc;

	clq_set_log_handler(log_errors, NULL);
	rc = clq_context_create_default(&ctx_a);
	if (rc == 0)
		rc = clq_context_create_default(&ctx_b);
	if (rc == 0)
		rc = clq_queue_create(ctx_a, 0, &q_a);
	if (rc == 0)
		rc = clq_queue_create(ctx_b, 0, &q_b);
	if (rc == 0)
		rc = round_trip(ctx_a, q_a, ctx_b, q_b, CL_COMPLETE,
				&ok_status);
	if (rc == 0)
		rc = round_trip(ctx_a, q_a, ctx_b, q_b, -5, &failed_status);
	if (rc == 0)
		printf("B's marker after A's: status %d; after a failed one: "
		       "%s\n",
		       ok_status, failed_status < 0 ? "failed too" : "ran");
	clq_queue_unref(q_a);
	clq_queue_unref(q_b);
	clq_context_unref(ctx_a);
	clq_context_unref(ctx_b);
	if (rc != 0) {
		fprintf(stderr, "bridge: %s\n", clq_strerror(rc));
		return 1;
	}
	return ok_status == CL_COMPLETE && failed_status < 0 ? 0 : 1;
}
