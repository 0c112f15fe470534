/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: region checks (clq__make_box), which every region transfer
 * and copy runs before it computes offsets for OpenCL. Input bytes: dtype,
 * ndim, then 4 axis lengths of 2 bytes (small, so that regions inside an
 * array are reachable), then 4 starts and 4 counts of 8 bytes. Checks the
 * property the transfers rely on: an accepted block lies inside the array,
 * so its first and last elements' byte offsets (from the layout's strides)
 * are inside nbytes, with no wrap-around.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "private.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t left = size, shape[CLQ_MAX_DIMS], start[CLQ_MAX_DIMS],
	       count[CLQ_MAX_DIMS];
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
	if (clq__layout_init(NULL, "fuzz", dtype, ndim, shape, NULL, &l) !=
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
	return 0;
}
