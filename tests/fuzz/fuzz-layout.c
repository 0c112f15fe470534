/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: array shape checks and layout arithmetic
 * (clq__layout_init), which every array constructor uses. Input bytes:
 * dtype, ndim, a flag for a padded shape, then up to 2 x 4 axis lengths
 * of 8 bytes each (shorter input: the rest are zero). Checks that a
 * layout it accepts is consistent: every axis >= 1, padded >= shape,
 * strides from the padded shape, nbytes = padded product x element size
 * with no wrap-around.
 */
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

#include "fuzz-common.h"
#include "private.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t left = size, shape[CLQ_MAX_DIMS], padded[CLQ_MAX_DIMS];
	struct clq__layout l;
	int dtype = (int)(int8_t)fuzz_take(&p, &left, 1);
	size_t ndim =
		fuzz_take(&p, &left, 1) % 8; /* 0 and > CLQ_MAX_DIMS too */
	int with_padded = (int)fuzz_take(&p, &left, 1) & 1;
	size_t n = ndim < CLQ_MAX_DIMS ? ndim : CLQ_MAX_DIMS;
	int rc;

	clq_set_log_handler(fuzz_quiet, NULL);
	for (size_t i = 0; i < CLQ_MAX_DIMS; i++)
		shape[i] = fuzz_take(&p, &left, sizeof(size_t));
	for (size_t i = 0; i < CLQ_MAX_DIMS; i++)
		padded[i] = fuzz_take(&p, &left, sizeof(size_t));
	if (ndim > CLQ_MAX_DIMS)
		ndim = CLQ_MAX_DIMS + 1; /* the arrays are never read past */
	rc = clq__layout_init(NULL, "fuzz", (enum clq_dtype)dtype, ndim, shape,
			      with_padded ? padded : NULL, &l);
	if (rc == CLQ_SUCCESS) {
		size_t bytes = clq_dtype_size(l.dtype), stride = bytes;

		if (ndim == 0 || ndim > CLQ_MAX_DIMS || bytes == 0)
			abort();
		for (size_t i = n; i-- > 0;) {
			if (l.shape[i] < 1 || l.padded[i] < l.shape[i] ||
			    l.strides[i] != stride)
				abort();
			if (l.padded[i] && stride > SIZE_MAX / l.padded[i])
				abort(); /* accepted an overflowing size */
			stride *= l.padded[i];
		}
		if (l.nbytes != stride)
			abort();
	} else if (rc != CLQ_ERROR_INVALID_ARGUMENT &&
		   rc != CLQ_ERROR_OVERFLOW) {
		abort();
	}
	return 0;
}
