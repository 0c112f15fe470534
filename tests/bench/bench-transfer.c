/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host<->device bandwidth through clq against the same transfers made with
 * raw OpenCL calls, in one process, on the same buffers and host memory.
 *
 *   bench-transfer [MIB [ITERATIONS]]     (default 64 MiB, 20 iterations)
 *
 * Rows: pinned (clq_host_array_create) and pageable (malloc, wrapped) host
 * memory, each direction. Each row times ITERATIONS transfers, each
 * enqueued asynchronously with an event and waited for, after one warm-up,
 * by wall clock; clq and raw alternate so drift hits both alike. The
 * device comes from CLQ_DEVICE (see clq_device_select()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <clq/clq.h>

#include "bench.h"

static int
clq_once(struct clq_device_array *a, struct clq_queue *q,
	 struct clq_host_array *h, int to_device)
{
	struct clq_event *ev = NULL;
	int rc = to_device ? clq_device_array_set_async(a, q, h, NULL, 0, &ev)
			   : clq_device_array_get_async(a, q, h, NULL, 0, &ev);

	if (rc == CLQ_SUCCESS)
		rc = clq_event_wait(ev);
	clq_event_unref(ev);
	return rc;
}

static int
raw_once(cl_mem mem, cl_command_queue q, void *host, size_t bytes,
	 int to_device)
{
	cl_event ev = NULL;
	cl_int err = to_device ? clEnqueueWriteBuffer(q, mem, CL_FALSE, 0,
						      bytes, host, 0, NULL, &ev)
			       : clEnqueueReadBuffer(q, mem, CL_FALSE, 0, bytes,
						     host, 0, NULL, &ev);

	if (err == CL_SUCCESS)
		err = clWaitForEvents(1, &ev);
	if (ev)
		clReleaseEvent(ev);
	return err;
}

/* Best-of and median of per-iteration GB/s would hide drift; report the
 * mean over all iterations, the figure a pipeline sees. */
static int
measure(struct clq_device_array *a, struct clq_queue *q,
	struct clq_host_array *h, int to_device, int iterations,
	double *clq_gbs, double *raw_gbs)
{
	size_t bytes = clq_device_array_get_nbytes(a);
	cl_mem mem = clq_device_array_get_cl(a);
	cl_command_queue cq = clq_queue_get_cl(q);
	void *host = clq_host_array_data(h);
	double t_clq = 0, t_raw = 0;
	int rc;

	if ((rc = clq_once(a, q, h, to_device)) < 0 ||
	    (rc = raw_once(mem, cq, host, bytes, to_device)) < 0)
		return rc;
	for (int i = 0; i < iterations; i++) {
		double t0 = bench_now();

		if ((rc = clq_once(a, q, h, to_device)) < 0)
			return rc;
		t_clq += bench_now() - t0;
		t0 = bench_now();
		if ((rc = raw_once(mem, cq, host, bytes, to_device)) < 0)
			return rc;
		t_raw += bench_now() - t0;
	}
	*clq_gbs = (double)bytes * iterations / t_clq * 1e-9;
	*raw_gbs = (double)bytes * iterations / t_raw * 1e-9;
	return CLQ_SUCCESS;
}

int
main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
	int iterations = argc > 2 ? atoi(argv[2]) : 20;
	size_t n = mib << 20;
	struct clq_context *ctx = NULL;
	struct clq_queue *q = NULL;
	struct clq_device_array *a = NULL;
	struct clq_host_array *pinned = NULL, *pageable = NULL;
	void *memory = malloc(n);
	int rc;

	if (!memory || mib == 0 || iterations < 1) {
		fprintf(stderr, "usage: bench-transfer [MIB [ITERATIONS]]\n");
		return 2;
	}
	memset(memory, 1, n);
	if ((rc = clq_context_create_default(&ctx)) < 0 ||
	    (rc = clq_queue_create(ctx, 0, &q)) < 0 ||
	    (rc = clq_device_array_create(ctx, CLQ_DTYPE_UINT8, 1, &n, NULL,
					  &a)) < 0 ||
	    (rc = clq_host_array_create(ctx, CLQ_DTYPE_UINT8, 1, &n, NULL,
					&pinned)) < 0 ||
	    (rc = clq_host_array_wrap(CLQ_DTYPE_UINT8, 1, &n, NULL, memory,
				      &pageable)) < 0)
		goto out;
	memset(clq_host_array_data(pinned), 1, n);
	printf("device: %s / %s\n",
	       clq_device_get_platform_name(clq_context_get_device(ctx)),
	       clq_device_get_name(clq_context_get_device(ctx)));
	printf("%zu MiB x %d iterations, async + event wait, wall clock\n", mib,
	       iterations);
	printf("%-10s %-15s %10s %10s %8s\n", "host", "direction", "clq GB/s",
	       "raw GB/s", "clq/raw");
	for (int p = 0; p < 2 && rc == CLQ_SUCCESS; p++) {
		struct clq_host_array *h = p == 0 ? pinned : pageable;

		for (int dir = 1; dir >= 0 && rc == CLQ_SUCCESS; dir--) {
			double c = 0, r = 0;

			rc = measure(a, q, h, dir, iterations, &c, &r);
			if (rc == CLQ_SUCCESS)
				printf("%-10s %-15s %10.2f %10.2f %8.3f\n",
				       p == 0 ? (clq_host_array_is_pinned(h)
							 ? "pinned"
							 : "aligned")
					      : "pageable",
				       dir ? "host->device" : "device->host", c,
				       r, c / r);
		}
	}
out:
	if (rc < 0)
		fprintf(stderr, "bench-transfer: %s (%s)\n", clq_error_name(rc),
			clq_strerror(rc));
	clq_host_array_unref(pinned);
	clq_host_array_unref(pageable);
	clq_device_array_unref(a);
	clq_queue_unref(q);
	clq_context_unref(ctx);
	free(memory);
	return rc < 0 ? 1 : 0;
}
