/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * notify-poll: a poll() loop woken by a clq notifier; the README's excerpt
 * on notifiers comes from here (the docs test checks that it still does,
 * then builds and runs this file).
 *
 * Three markers, each behind a user event (its gate) on a queue of its
 * own; the second gate fails, so its marker fails too, and the loop hears
 * of that failure as of the other completions (on PoCL 3.1, which runs
 * no callback for such a command, through the notifier's fallback poll).
 */
#include <poll.h>
#include <stdio.h>

#include <clq/clq.h>

enum { N = 3 };

int
main(void)
{
	struct clq_context *ctx = NULL;
	struct clq_queue *q[N] = {NULL};
	struct clq_event *gate[N] = {NULL}, *marker[N] = {NULL};
	struct clq_notifier *notifier = NULL;
	size_t done = 0, failed = 0;
	int rc;

	rc = clq_context_create_default(&ctx);
	if (rc == 0)
		rc = clq_notifier_create(&notifier);
	for (size_t i = 0; rc == 0 && i < N; i++) {
		rc = clq_queue_create(ctx, 0, &q[i]);
		if (rc == 0)
			rc = clq_user_event_create(ctx, &gate[i]);
		if (rc == 0)
			rc = clq_queue_enqueue_marker(q[i], &gate[i], 1,
						      &marker[i]);
		/* user_data: anything that says which work it was */
		if (rc == 0)
			rc = clq_notifier_watch(notifier, marker[i], q[i]);
	}
	for (size_t i = 0; rc == 0 && i < N; i++)
		rc = clq_user_event_complete(gate[i], i == 1 ? -1 : 0);

	/* The loop: wait for the descriptor, then drain what completed. */
	while (rc == 0 && done < N) {
		struct pollfd p = {.fd = clq_notifier_get_fd(notifier),
				   .events = POLLIN};
		struct clq_completion c[8];
		size_t n;

		if (poll(&p, 1, 10000) != 1)
			break; /* a real loop would watch other fds too */
		rc = clq_notifier_drain(notifier, c, 8, &n);
		for (size_t k = 0; rc == 0 && k < n; k++) {
			/* c[k].user_data says which; status 0 or < 0 */
			failed += c[k].status < 0;
			done++;
			clq_event_unref(c[k].event);
		}
	}
	printf("%zu completions, %zu failed\n", done, failed);
	for (size_t i = 0; i < N; i++) {
		clq_event_unref(marker[i]);
		clq_event_unref(gate[i]);
		clq_queue_unref(q[i]);
	}
	clq_notifier_unref(notifier);
	clq_context_unref(ctx);
	return rc == 0 && done == N && failed == 1 ? 0 : 1;
}
