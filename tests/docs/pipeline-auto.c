/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pipeline-auto: tests/docs/pipeline.c without its buffer-reuse wait, in a
 * context whose ordering is CLQ_ORDERING_AUTO, so that clq adds the wait;
 * the README's excerpt on automatic ordering comes from here (the docs test
 * checks that it still does, then builds and runs this file).
 *
 * CHUNKS chunks of a host array go through B device buffers, reused in
 * rotation, on three queues: upload, the `scale` kernel (x = 2x + 1),
 * download. The host enqueues everything, waits once, checks every element
 * and prints how many waits clq added (a wait is not needed, and not added,
 * when the download had already finished).
 */
#include <stdio.h>

#include <clq/clq.h>

enum { CHUNKS = 8, B = 2, CHUNK = 4096 };

int
main(void)
{
	static float data[CHUNKS * CHUNK], result[CHUNKS * CHUNK];
	const size_t total = CHUNKS * CHUNK, chunk = CHUNK, at = 0;
	const size_t global = CHUNK, local = 64;
	cl_uint n = CHUNK, iters = 1;
	cl_float mul = 2.0f, add = 1.0f;
	struct clq_context *ctx = NULL;
	struct clq_queue *upload_q = NULL, *compute_q = NULL,
			 *download_q = NULL;
	struct clq_host_array *input = NULL, *output = NULL;
	struct clq_device_array *buf[B] = {NULL};
	struct clq_program *prog = NULL;
	struct clq_kernel *scale = NULL;
	struct clq_event *upload_done[CHUNKS] = {NULL},
			 *kernel_done[CHUNKS] = {NULL},
			 *download_done[CHUNKS] = {NULL};
	struct clq_ordering_stats stats = {0};
	size_t wrong = 0;
	int rc;

	for (size_t i = 0; i < total; i++)
		data[i] = (float)(i % 1000);
	rc = clq_context_create_default(&ctx);
	/* Before the context's first command: clq tracks every access to
	 * a device array from then on. */
	if (rc == 0)
		rc = clq_context_set_ordering(ctx, CLQ_ORDERING_AUTO);
	if (rc == 0)
		rc = clq_queue_create(ctx, 0, &upload_q);
	if (rc == 0)
		rc = clq_queue_create(ctx, 0, &compute_q);
	if (rc == 0)
		rc = clq_queue_create(ctx, 0, &download_q);
	if (rc == 0)
		rc = clq_host_array_wrap(CLQ_DTYPE_FLOAT32, 1, &total, NULL,
					 data, &input);
	if (rc == 0)
		rc = clq_host_array_wrap(CLQ_DTYPE_FLOAT32, 1, &total, NULL,
					 result, &output);
	for (size_t i = 0; i < B && rc == 0; i++)
		rc = clq_device_array_create(ctx, CLQ_DTYPE_FLOAT32, 1, &chunk,
					     NULL, &buf[i]);
	if (rc == 0)
		rc = clq_program_create_from_file(ctx, "scale.cl", NULL, 0,
						  NULL, &prog);
	if (rc == 0)
		rc = clq_kernel_create(prog, "scale", &scale);

	for (size_t c = 0; c < CHUNKS && rc == 0; c++) {
		size_t from = c * CHUNK;
		struct clq_arg args[] = {CLQ_ARG_ARRAY(buf[c % B]),
					 CLQ_ARG_VALUE(n), CLQ_ARG_VALUE(mul),
					 CLQ_ARG_VALUE(add),
					 CLQ_ARG_VALUE(iters)};

		/* chunk c, in device buffer c % B: no wait for the buffer to
		 * be free, clq adds it */
		rc = clq_device_array_set_region(buf[c % B], upload_q, input,
						 &at, &from, &chunk, NULL, 0,
						 &upload_done[c]);
		if (rc == 0)
			rc = clq_queue_enqueue_kernel(
				compute_q, scale, args, 5, 1, &global, &local,
				&upload_done[c], 1, &kernel_done[c]);
		if (rc == 0)
			rc = clq_device_array_get_region(
				buf[c % B], download_q, output, &at, &from,
				&chunk, &kernel_done[c], 1, &download_done[c]);
	}
	/* The host waits once, at the end. */
	if (rc == 0)
		rc = clq_queue_finish(upload_q);
	if (rc == 0)
		rc = clq_queue_finish(compute_q);
	if (rc == 0)
		rc = clq_queue_finish(download_q);
	if (rc == 0)
		rc = clq_context_get_ordering_stats(ctx, &stats);

	if (rc == 0) {
		for (size_t i = 0; i < total; i++)
			wrong += result[i] != 2.0f * data[i] + 1.0f;
		printf("%zu chunks through %d buffers: %zu wrong elements, "
		       "%llu waits added by clq\n",
		       (size_t)CHUNKS, B, wrong,
		       (unsigned long long)stats.waits_added);
	}
	if (rc < 0)
		fprintf(stderr, "pipeline-auto: %s (%s)\n", clq_error_name(rc),
			clq_strerror(rc));
	for (size_t c = 0; c < CHUNKS; c++) {
		clq_event_unref(upload_done[c]);
		clq_event_unref(kernel_done[c]);
		clq_event_unref(download_done[c]);
	}
	clq_kernel_unref(scale);
	clq_program_unref(prog);
	for (size_t i = 0; i < B; i++)
		clq_device_array_unref(buf[i]);
	clq_host_array_unref(input);
	clq_host_array_unref(output);
	clq_queue_unref(upload_q);
	clq_queue_unref(compute_q);
	clq_queue_unref(download_q);
	clq_context_unref(ctx);
	return rc < 0 || wrong != 0 ? 1 : 0;
}
