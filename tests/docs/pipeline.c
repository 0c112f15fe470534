/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pipeline: the double-buffer demo's pipeline cut to its bones, and the
 * complete program that the README's excerpts on synchronisation and
 * timelines come from (the docs test checks that they still do, then
 * builds and runs this file).
 *
 * CHUNKS chunks of a host array go through B device buffers, reused in
 * rotation, on three profiling queues: upload, the `scale` kernel
 * (x = 2x + 1), download. The host enqueues everything, waits once, checks
 * every element, prints the timeline's summary and draws it into
 * pipeline.svg in the current directory.
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
	struct clq_timeline *tl = NULL;
	FILE *svg_file = NULL;
	size_t wrong = 0;
	int rc;

	for (size_t i = 0; i < total; i++)
		data[i] = (float)(i % 1000);
	rc = clq_context_create_default(&ctx);
	if (rc == 0)
		rc = clq_queue_create(ctx, CLQ_QUEUE_PROFILING, &upload_q);
	if (rc == 0)
		rc = clq_queue_create(ctx, CLQ_QUEUE_PROFILING, &compute_q);
	if (rc == 0)
		rc = clq_queue_create(ctx, CLQ_QUEUE_PROFILING, &download_q);
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

	/* Record every command of the three queues. */
	if (rc == 0)
		rc = clq_timeline_create(ctx, &tl);
	if (rc == 0)
		rc = clq_queue_set_timeline(upload_q, tl, "upload");
	if (rc == 0)
		rc = clq_queue_set_timeline(compute_q, tl, "compute");
	if (rc == 0)
		rc = clq_queue_set_timeline(download_q, tl, "download");

	for (size_t c = 0; c < CHUNKS && rc == 0; c++) {
		size_t from = c * CHUNK;
		struct clq_arg args[] = {CLQ_ARG_ARRAY(buf[c % B]),
					 CLQ_ARG_VALUE(n), CLQ_ARG_VALUE(mul),
					 CLQ_ARG_VALUE(add),
					 CLQ_ARG_VALUE(iters)};

		/* chunk c, in device buffer c % B, which is free once the
		 * download of the chunk that last used it (c - B) is done */
		size_t n_free = c >= B ? 1 : 0;

		rc = clq_device_array_set_region(
			buf[c % B], upload_q, input, &at, &from, &chunk,
			n_free ? &download_done[c - B] : NULL, n_free,
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

	if (rc == 0) {
		for (size_t i = 0; i < total; i++)
			wrong += result[i] != 2.0f * data[i] + 1.0f;
		printf("%zu chunks through %d buffers: %zu wrong elements\n",
		       (size_t)CHUNKS, B, wrong);
	}
	/* Busy time per queue and label, and how long they overlapped. */
	if (rc == 0)
		rc = clq_timeline_write_summary(tl, stdout);
	if (rc == 0 && (svg_file = fopen("pipeline.svg", "w")) == NULL)
		rc = CLQ_ERROR_IO;
	if (rc == 0)
		rc = clq_timeline_write_svg(tl, svg_file);

	if (svg_file != NULL && fclose(svg_file) != 0 && rc == 0)
		rc = CLQ_ERROR_IO;
	if (rc < 0)
		fprintf(stderr, "pipeline: %s (%s)\n", clq_error_name(rc),
			clq_strerror(rc));
	for (size_t c = 0; c < CHUNKS; c++) {
		clq_event_unref(upload_done[c]);
		clq_event_unref(kernel_done[c]);
		clq_event_unref(download_done[c]);
	}
	clq_timeline_unref(tl);
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
