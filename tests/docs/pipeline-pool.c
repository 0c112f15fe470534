/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pipeline-pool: tests/docs/pipeline.c with its device buffers in a pool
 * (clq/pool.h), as the double-buffer demo has them; the README's excerpt
 * on pools comes from here (the docs test checks that it still does, then
 * builds and runs this file).
 *
 * CHUNKS chunks of a host array go through B device buffers on three
 * queues: upload, the `scale` kernel (x = 2x + 1), download. Each chunk
 * takes the buffer released longest ago, with the download to wait for
 * before overwriting it; its own download releases it.
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
	struct clq_pool *pool = NULL;
	struct clq_program *prog = NULL;
	struct clq_kernel *scale = NULL;
	size_t wrong = 0;
	int rc;

	for (size_t i = 0; i < total; i++)
		data[i] = (float)(i % 1000);
	rc = clq_context_create_default(&ctx);
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
	/* B slots whose items are the buffers (borrowed, not owned) */
	if (rc == 0)
		rc = clq_pool_create(B, (void *const *)buf, &pool);
	if (rc == 0)
		rc = clq_program_create_from_file(ctx, "scale.cl", NULL, 0,
						  NULL, &prog);
	if (rc == 0)
		rc = clq_kernel_create(prog, "scale", &scale);

	for (size_t c = 0; c < CHUNKS && rc == 0; c++) {
		size_t from = c * CHUNK, slot, n_free;
		struct clq_event *const *free_after;
		struct clq_event *uploaded = NULL, *computed = NULL,
				 *downloaded = NULL;

		/* the buffer released longest ago, and the events after
		 * which it is free (none the first time) */
		rc = clq_pool_acquire(pool, 0, &slot, &free_after, &n_free);
		if (rc != 0)
			break;
		/* declared here: the kernel's arguments name the buffer */
		struct clq_device_array *b = clq_pool_get_item(pool, slot);
		struct clq_arg args[] = {CLQ_ARG_ARRAY(b), CLQ_ARG_VALUE(n),
					 CLQ_ARG_VALUE(mul), CLQ_ARG_VALUE(add),
					 CLQ_ARG_VALUE(iters)};

		rc = clq_device_array_set_region(b, upload_q, input, &at, &from,
						 &chunk, free_after, n_free,
						 &uploaded);
		if (rc == 0)
			rc = clq_queue_enqueue_kernel(compute_q, scale, args, 5,
						      1, &global, &local,
						      &uploaded, 1, &computed);
		if (rc == 0)
			rc = clq_device_array_get_region(
				b, download_q, output, &at, &from, &chunk,
				&computed, 1, &downloaded);
		/* free again once the download has read it */
		if (rc == 0)
			rc = clq_pool_release(pool, slot, &downloaded, 1);
		clq_event_unref(uploaded);
		clq_event_unref(computed);
		clq_event_unref(downloaded);
	}
	if (rc == 0)
		rc = clq_queue_finish(upload_q);
	if (rc == 0)
		rc = clq_queue_finish(compute_q);
	if (rc == 0)
		rc = clq_queue_finish(download_q);

	if (rc == 0) {
		for (size_t i = 0; i < total; i++)
			wrong += result[i] != 2.0f * data[i] + 1.0f;
		printf("%zu chunks through a pool of %d buffers: %zu wrong "
		       "elements\n",
		       (size_t)CHUNKS, B, wrong);
	}
	if (rc < 0)
		fprintf(stderr, "pipeline-pool: %s (%s)\n", clq_error_name(rc),
			clq_strerror(rc));
	clq_kernel_unref(scale);
	clq_program_unref(prog);
	clq_pool_unref(pool);
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
