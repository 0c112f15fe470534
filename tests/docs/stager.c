/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stager: a device array copied to another device through pinned host
 * memory in pieces; the README's excerpt on staged copies comes from here
 * (the docs test checks that it still does, then builds and runs this
 * file). Device B is the second device when there is one (PoCL with
 * POCL_DEVICES="pthread pthread", a second GPU), else a second context
 * on the first.
 */
#include <stdio.h>

#include <clq/clq.h>

enum { ROWS = 300, COLS = 1000 };

int
main(void)
{
	size_t shape[2] = {ROWS, COLS}, n_devices = 0;
	struct clq_device *dev_a = NULL, *dev_b = NULL;
	struct clq_context *ctx_a = NULL, *ctx_b = NULL;
	struct clq_queue *queue_a = NULL, *queue_b = NULL;
	struct clq_device_array *on_a = NULL, *on_b = NULL;
	struct clq_host_array *host = NULL;
	struct clq_stager *stager = NULL;
	struct clq_event *copied = NULL;
	float *data;
	int rc, wrong = 0;

	rc = clq_device_count(&n_devices);
	if (rc == 0)
		rc = clq_device_get(0, &dev_a);
	if (rc == 0)
		rc = clq_device_get(n_devices > 1 ? 1 : 0, &dev_b);
	if (rc == 0)
		rc = clq_context_create(dev_a, &ctx_a);
	if (rc == 0)
		rc = clq_context_create(dev_b, &ctx_b);
	if (rc == 0)
		rc = clq_queue_create(ctx_a, 0, &queue_a);
	if (rc == 0)
		rc = clq_queue_create(ctx_b, 0, &queue_b);
	if (rc == 0)
		rc = clq_device_array_create(ctx_a, CLQ_DTYPE_FLOAT32, 2, shape,
					     NULL, &on_a);
	if (rc == 0)
		rc = clq_device_array_create(ctx_b, CLQ_DTYPE_FLOAT32, 2, shape,
					     NULL, &on_b);
	if (rc == 0)
		rc = clq_host_array_create(ctx_a, CLQ_DTYPE_FLOAT32, 2, shape,
					   NULL, &host);
	if (rc == 0) {
		data = clq_host_array_data(host);
		for (size_t i = 0; i < ROWS * COLS; i++)
			data[i] = (float)i;
		rc = clq_device_array_set(on_a, queue_a, host);
	}

	/* One stager per pair of contexts: its pinned pieces are reused by
	 * every copy (0, 0: 16 MiB pieces, 4 of them). */
	if (rc == 0)
		rc = clq_stager_create(ctx_a, ctx_b, 0, 0, &stager);
	if (rc == 0)
		rc = clq_stager_copy(stager, on_b, queue_b, on_a, queue_a, NULL,
				     0, &copied);
	/* `copied` is an event of B's context: queue_b's next commands may
	 * wait for it; here the host does. */
	if (rc == 0)
		rc = clq_event_wait(copied);

	clq_host_array_unref(host);
	host = NULL;
	if (rc == 0)
		rc = clq_host_array_create(ctx_b, CLQ_DTYPE_FLOAT32, 2, shape,
					   NULL, &host);
	if (rc == 0)
		rc = clq_device_array_get(on_b, queue_b, host);
	if (rc == 0) {
		data = clq_host_array_data(host);
		for (size_t i = 0; i < ROWS * COLS; i++)
			wrong += data[i] != (float)i;
		printf("%zu floats copied from %s to %s, %d wrong\n",
		       (size_t)ROWS * COLS, clq_device_get_name(dev_a),
		       clq_device_get_name(dev_b), wrong);
	} else {
		fprintf(stderr, "stager: %s\n", clq_strerror(rc));
	}
	clq_event_unref(copied);
	clq_stager_unref(stager);
	clq_host_array_unref(host);
	clq_device_array_unref(on_a);
	clq_device_array_unref(on_b);
	clq_queue_unref(queue_a);
	clq_queue_unref(queue_b);
	clq_context_unref(ctx_a);
	clq_context_unref(ctx_b);
	clq_device_unref(dev_a);
	clq_device_unref(dev_b);
	return rc == 0 && wrong == 0 ? 0 : 1;
}
