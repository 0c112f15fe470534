/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: region checks (clq__make_box), which every region transfer
 * and copy runs before it computes offsets for OpenCL, and the command
 * list of a block fill (clq__fill_plan). Input bytes: dtype, ndim, then 4
 * axis lengths of 2 bytes (small, so that regions inside an array are
 * reachable), then 4 starts and 4 counts of 8 bytes, then 4 paddings of 1
 * byte (added to the lengths; inputs that end before them are unpadded).
 *
 * Checks the property the transfers rely on: an accepted block lies
 * inside the array, so its first and last elements' byte offsets (from
 * the layout's strides) are inside nbytes, with no wrap-around. Then runs
 * the block's fill commands on a model of the array's bytes: each is a
 * valid OpenCL command inside the array (pitches as clEnqueueCopyBufferRect
 * demands), each copy reads only bytes already filled and writes none it
 * reads, and at the end exactly the block's elements, no padding and
 * nothing else, are filled.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "private.h"

/* Arrays larger than this skip the fill model. */
#define MODEL_BYTES (1u << 16)

struct model {
	const struct clq__layout *l;
	uint8_t *filled;  /* per byte: 1 once written */
	uint8_t *reading; /* per byte: read by the current copy */
};

/* Byte offset of (x, y, z) in a rectangle at `base` with these pitches. */
static size_t
rect_byte(size_t base, const struct clq__fill_step *s, size_t x, size_t y,
	  size_t z)
{
	return base + z * s->slice_pitch + y * s->row_pitch + x;
}

static int
model_step(const struct clq__fill_step *s, void *data)
{
	struct model *m = data;
	size_t nbytes = m->l->nbytes, esize = m->l->itemsize;

	if (!s->copy) {
		if (s->region[0] == 0 || s->region[0] % esize ||
		    s->dst % esize || s->dst > nbytes ||
		    s->region[0] > nbytes - s->dst)
			abort();
		memset(m->filled + s->dst, 1, s->region[0]);
		return CLQ_SUCCESS;
	}
	if (s->region[0] == 0 || s->region[1] == 0 || s->region[2] == 0 ||
	    s->row_pitch < s->region[0] ||
	    s->slice_pitch < s->region[1] * s->row_pitch ||
	    s->slice_pitch % s->row_pitch ||
	    rect_byte(s->src, s, s->region[0], s->region[1] - 1,
		      s->region[2] - 1) > nbytes ||
	    rect_byte(s->dst, s, s->region[0], s->region[1] - 1,
		      s->region[2] - 1) > nbytes)
		abort();
	memset(m->reading, 0, nbytes);
	for (size_t z = 0; z < s->region[2]; z++)
		for (size_t y = 0; y < s->region[1]; y++)
			for (size_t x = 0; x < s->region[0]; x++) {
				size_t o = rect_byte(s->src, s, x, y, z);

				if (!m->filled[o])
					abort(); /* copies what is not set */
				m->reading[o] = 1;
			}
	for (size_t z = 0; z < s->region[2]; z++)
		for (size_t y = 0; y < s->region[1]; y++)
			for (size_t x = 0; x < s->region[0]; x++) {
				size_t o = rect_byte(s->dst, s, x, y, z);

				if (m->reading[o])
					abort(); /* source and destination
						  * overlap */
				m->filled[o] = 1;
			}
	return CLQ_SUCCESS;
}

/* Whether byte `o` of the array lies in an element of the block. */
static int
in_block(const struct clq__layout *l, const struct clq__box *b, size_t o)
{
	size_t e = o / l->itemsize;

	for (size_t i = l->ndim; i-- > 0;) {
		size_t idx = e % l->padded[i];

		e /= l->padded[i];
		if (idx < b->start[i] || idx - b->start[i] >= b->count[i])
			return 0;
	}
	return 1;
}

static void
check_fill_plan(const struct clq__layout *l, const struct clq__box *b)
{
	struct model m = {l, NULL, NULL};

	if (l->nbytes > MODEL_BYTES)
		return;
	m.filled = calloc(1, l->nbytes);
	m.reading = calloc(1, l->nbytes);
	if (!m.filled || !m.reading)
		abort();
	if (clq__fill_plan(l, b, model_step, &m) != CLQ_SUCCESS)
		abort();
	for (size_t o = 0; o < l->nbytes; o++)
		if (m.filled[o] != in_block(l, b, o))
			abort();
	free(m.filled);
	free(m.reading);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t left = size, shape[CLQ_MAX_DIMS], padded[CLQ_MAX_DIMS],
	       start[CLQ_MAX_DIMS], count[CLQ_MAX_DIMS];
	struct clq__layout l;
	struct clq__box b;
	enum clq_dtype dtype = (enum clq_dtype)(fuzz_take(&p, &left, 1) % 13);
	size_t ndim = 1 + fuzz_take(&p, &left, 1) % CLQ_MAX_DIMS;
	size_t last = 0;
	int rc;

	clq_set_log_handler(fuzz_quiet, NULL);
	for (size_t i = 0; i < CLQ_MAX_DIMS; i++)
		shape[i] = (size_t)fuzz_take(&p, &left, 2);
	for (size_t i = 0; i < CLQ_MAX_DIMS; i++)
		start[i] = (size_t)fuzz_take(&p, &left, sizeof(size_t));
	for (size_t i = 0; i < CLQ_MAX_DIMS; i++)
		count[i] = (size_t)fuzz_take(&p, &left, sizeof(size_t));
	for (size_t i = 0; i < CLQ_MAX_DIMS; i++)
		padded[i] = shape[i] + (size_t)fuzz_take(&p, &left, 1);
	if (clq__layout_init(NULL, "fuzz", dtype, ndim, shape, padded, &l) !=
	    CLQ_SUCCESS)
		return 0;
	rc = clq__make_box(NULL, "fuzz", &l, start, count, "array", &b);
	if (rc == CLQ_ERROR_INVALID_ARGUMENT || rc == CLQ_ERROR_OUT_OF_RANGE)
		return 0;
	if (rc != CLQ_SUCCESS)
		abort();
	for (size_t i = 0; i < ndim; i++) {
		if (b.count[i] == 0 || b.start[i] >= l.shape[i] ||
		    b.count[i] > l.shape[i] - b.start[i])
			abort();
		last += (b.start[i] + b.count[i] - 1) * l.strides[i];
	}
	if (last + clq_dtype_size(l.dtype) > l.nbytes)
		abort();
	check_fill_plan(&l, &b);
	return 0;
}
