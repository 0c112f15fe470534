/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hello: lists the OpenCL devices with the specs that select them, then
 * times the gap between two markers on a profiling queue of the chosen
 * device.
 *
 *   hello [SPEC]      SPEC as for clq_device_select(); default: CLQ_DEVICE,
 *                     PYOPENCL_CTX, then GPU > accelerator > CPU
 */
#include <stdio.h>
#include <stdlib.h>

#include <clq/clq.h>

#include "example.h"

static int
fail(const char *what, int rc)
{
	example_report("hello", what, rc);
	return EXIT_FAILURE;
}

static int
list_devices(void)
{
	size_t n;
	int rc = clq_device_count(&n);

	if (rc < 0)
		return fail("counting devices", rc);
	printf("clq %s: %zu OpenCL device(s)\n", clq_version(), n);
	for (size_t i = 0; i < n; i++) {
		struct clq_device *d;

		rc = clq_device_get(i, &d);
		if (rc < 0)
			return fail("reading a device", rc);
		printf("  %zu (%zu:%zu) %s / %s, %s, %u compute units\n", i,
		       clq_device_get_platform_index(d),
		       clq_device_get_index_in_platform(d),
		       clq_device_get_platform_name(d), clq_device_get_name(d),
		       clq_device_get_opencl_version(d),
		       clq_device_get_compute_units(d));
		clq_device_unref(d);
	}
	return EXIT_SUCCESS;
}

static int
time_markers(struct clq_context *ctx)
{
	struct clq_queue *queue = NULL;
	struct clq_event *first = NULL, *second = NULL;
	double gap;
	int rc;

	rc = clq_queue_create(ctx, CLQ_QUEUE_PROFILING, &queue);
	if (rc < 0)
		return fail("creating a profiling queue", rc);
	if ((rc = clq_queue_enqueue_marker(queue, NULL, 0, &first)) < 0 ||
	    (rc = clq_queue_enqueue_marker(queue, NULL, 0, &second)) < 0 ||
	    (rc = clq_event_time_since(second, first, &gap)) < 0) {
		fail("timing two markers", rc);
	} else {
		printf("two markers: the second started %.3f us after the "
		       "first ended\n",
		       gap * 1e6);
	}
	clq_event_unref(first);
	clq_event_unref(second);
	clq_queue_unref(queue);
	return rc < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

int
main(int argc, char **argv)
{
	struct clq_device *device;
	struct clq_context *ctx;
	int rc;

	clq_set_log_handler(example_log_to_stderr, NULL);
	if (list_devices() != EXIT_SUCCESS)
		return EXIT_FAILURE;
	rc = clq_device_select(argc > 1 ? argv[1] : NULL, &device);
	if (rc < 0)
		return fail("selecting a device", rc);
	printf("using %s / %s\n", clq_device_get_platform_name(device),
	       clq_device_get_name(device));
	rc = clq_context_create(device, &ctx);
	clq_device_unref(device);
	if (rc < 0)
		return fail("creating a context", rc);
	rc = time_markers(ctx);
	clq_context_unref(ctx);
	return rc;
}
