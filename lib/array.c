/* SPDX-License-Identifier: BSD-3-Clause */
#include "private.h"

static const struct {
	const char *name;
	size_t size;
} dtypes[] = {
	[CLQ_DTYPE_INT8] = {"int8", 1},
	[CLQ_DTYPE_UINT8] = {"uint8", 1},
	[CLQ_DTYPE_INT16] = {"int16", 2},
	[CLQ_DTYPE_UINT16] = {"uint16", 2},
	[CLQ_DTYPE_INT32] = {"int32", 4},
	[CLQ_DTYPE_UINT32] = {"uint32", 4},
	[CLQ_DTYPE_INT64] = {"int64", 8},
	[CLQ_DTYPE_UINT64] = {"uint64", 8},
	[CLQ_DTYPE_FLOAT16] = {"float16", 2},
	[CLQ_DTYPE_FLOAT32] = {"float32", 4},
	[CLQ_DTYPE_FLOAT64] = {"float64", 8},
	[CLQ_DTYPE_COMPLEX64] = {"complex64", 8},
	[CLQ_DTYPE_COMPLEX128] = {"complex128", 16},
};

static int
dtype_valid(enum clq_dtype dtype)
{
	return (unsigned)dtype < sizeof(dtypes) / sizeof(dtypes[0]);
}

size_t
clq_dtype_size(enum clq_dtype dtype)
{
	return dtype_valid(dtype) ? dtypes[dtype].size : 0;
}

const char *
clq_dtype_name(enum clq_dtype dtype)
{
	return dtype_valid(dtype) ? dtypes[dtype].name : "invalid";
}

int
clq__layout_init(struct clq_context *ctx, const char *function,
		 enum clq_dtype dtype, size_t ndim, const size_t *shape,
		 const size_t *padded_shape, struct clq__layout *out)
{
	const size_t *padded = padded_shape ? padded_shape : shape;
	size_t bytes;

	if (!dtype_valid(dtype)) {
		clq__log(ctx, CLQ_LOG_ERROR, "%s: %d is not a dtype", function,
			 (int)dtype);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	if (ndim < 1 || ndim > CLQ_MAX_DIMS) {
		clq__log(ctx, CLQ_LOG_ERROR, "%s: ndim %zu is outside 1..%d",
			 function, ndim, CLQ_MAX_DIMS);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	if (!shape)
		return clq__invalid(ctx, function, "shape is NULL");
	for (size_t i = 0; i < ndim; i++) {
		if (shape[i] == 0 || padded[i] < shape[i]) {
			clq__log(ctx, CLQ_LOG_ERROR,
				 "%s: axis %zu has length %zu and padded "
				 "length %zu (need 1 <= length <= padded)",
				 function, i, shape[i], padded[i]);
			return CLQ_ERROR_INVALID_ARGUMENT;
		}
	}
	out->dtype = dtype;
	out->itemsize = dtypes[dtype].size;
	out->ndim = ndim;
	bytes = dtypes[dtype].size;
	for (size_t i = ndim; i-- > 0;) {
		out->shape[i] = shape[i];
		out->padded[i] = padded[i];
		out->strides[i] = bytes;
		if (bytes > SIZE_MAX / padded[i]) {
			clq__log(ctx, CLQ_LOG_ERROR,
				 "%s: the array's size in bytes overflows",
				 function);
			return CLQ_ERROR_OVERFLOW;
		}
		bytes *= padded[i];
	}
	for (size_t i = ndim; i < CLQ_MAX_DIMS; i++) {
		out->shape[i] = out->padded[i] = 1;
		out->strides[i] = 0;
	}
	out->nbytes = bytes;
	out->data_bytes = out->itemsize;
	for (size_t i = 0; i < ndim; i++)
		out->data_bytes *= shape[i];
	out->packed = out->data_bytes == bytes;
	return CLQ_SUCCESS;
}
