/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sequence: three of clq's kernel operations (clq/operation.h) as one
 * sequence on two queues: fill X with 1, scale X to 2x + 1 (both on the
 * first queue), transpose X into Y (on the second). The README's excerpt
 * on composing stages comes from here (the docs test checks that it still
 * does, then builds and runs this file).
 *
 * The stages name the arrays they use through slots; fill's "out",
 * scale's "data" and transpose's "in" are joined into one array by a
 * compound, and the sequence allocates it and transpose's "out" with the
 * padding the dimensions ask for. The sequence orders the stages by their
 * slots: the transpose on the second queue waits for the scale, with no
 * wait written here.
 */
#include <stdio.h>

#include <clq/clq.h>

enum { ROWS = 100, COLS = 300, RUNS = 3 };

int
main(void)
{
	struct clq_context *ctx = NULL;
	struct clq_queue *q1 = NULL, *q2 = NULL;
	struct clq_dimension *rows = NULL, *cols = NULL;
	struct clq_operation *fill = NULL, *scale = NULL, *transpose = NULL;
	struct clq_slot *x = NULL;
	struct clq_sequence *seq = NULL;
	struct clq_host_array *result = NULL;
	struct clq_event *done = NULL;
	size_t bad = 0;
	int rc;

	rc = clq_context_create_default(&ctx);
	if (rc == 0)
		rc = clq_queue_create(ctx, 0, &q1);
	if (rc == 0)
		rc = clq_queue_create(ctx, 0, &q2);
	/* axes: rows as they are, columns padded to a multiple of 32 */
	if (rc == 0)
		rc = clq_dimension_create(ROWS, 0, 1, 0, &rows);
	if (rc == 0)
		rc = clq_dimension_create(COLS, 0, 32, 0, &cols);
	if (rc == 0) {
		struct clq_dimension *dims[2] = {rows, cols};

		rc = clq_operation_create_fill(ctx, 2, dims, 1.0f, 0, &fill);
		if (rc == 0)
			rc = clq_operation_create_scale(ctx, 2, dims, 2.0f,
							1.0f, 1, 0, &scale);
		if (rc == 0)
			rc = clq_operation_create_transpose(ctx, rows, cols, 0,
							    &transpose);
	}
	if (rc == 0) {
		/* fill writes X, scale updates it, transpose reads it */
		struct clq_slot *uses[3] = {
			clq_operation_get_slot(fill, "out"),
			clq_operation_get_slot(scale, "data"),
			clq_operation_get_slot(transpose, "in"),
		};

		rc = clq_slot_create_compound(uses, 3, &x);
	}
	if (rc == 0)
		rc = clq_sequence_create(ctx, &seq);
	if (rc == 0)
		rc = clq_sequence_add(seq, fill, q1);
	if (rc == 0)
		rc = clq_sequence_add(seq, scale, q1);
	if (rc == 0)
		rc = clq_sequence_add(seq, transpose, q2);
	if (rc == 0)
		rc = clq_sequence_add_slot(seq, "x", x);
	/* X and transpose's output, allocated with their padding */
	if (rc == 0)
		rc = clq_sequence_ensure_bound(seq);
	/* run it again and again: the plan is made once */
	for (int run = 0; rc == 0 && run < RUNS; run++) {
		clq_event_unref(done);
		done = NULL;
		rc = clq_sequence_run(seq, q2, NULL, 0, &done);
	}
	if (rc == 0)
		rc = clq_event_wait(done);
	if (rc == 0) {
		struct clq_device_array *y = clq_slot_get_array(
			clq_operation_get_slot(transpose, "out"));

		rc = clq_host_array_create(ctx, CLQ_DTYPE_FLOAT32, 2,
					   clq_device_array_get_shape(y), NULL,
					   &result);
		if (rc == 0)
			rc = clq_device_array_get(y, q2, result);
	}
	if (rc == 0) {
		const float *v = clq_host_array_data(result);

		for (size_t i = 0; i < (size_t)ROWS * COLS; i++)
			bad += v[i] != 3.0f;
		printf("transposed %dx%d, %zu of %d elements wrong\n", ROWS,
		       COLS, bad, ROWS * COLS);
	}
	clq_event_unref(done);
	clq_host_array_unref(result);
	clq_sequence_unref(seq);
	clq_slot_unref(x);
	clq_operation_unref(fill);
	clq_operation_unref(scale);
	clq_operation_unref(transpose);
	clq_dimension_unref(rows);
	clq_dimension_unref(cols);
	clq_queue_unref(q1);
	clq_queue_unref(q2);
	clq_context_unref(ctx);
	if (rc != 0)
		fprintf(stderr, "sequence: %s\n", clq_error_name(rc));
	return rc != 0 || bad != 0;
}
