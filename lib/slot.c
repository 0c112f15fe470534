/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Slots (clq/operation.h): a dtype, a dimension per axis and an access,
 * bound to a device array that satisfies them.
 *
 * Everything but the bound array is fixed at creation; the array is
 * guarded by the slot's mutex. Arrays are created and dropped outside it
 * (an allocation talks to the driver; a last unref may too).
 */
#include <stdlib.h>

#include "private.h"

struct clq_slot {
	atomic_uint refs;
	enum clq_dtype dtype;
	enum clq_access access;
	size_t ndim;
	struct clq_dimension *dims[CLQ_MAX_DIMS]; /* held */
	pthread_mutex_t lock;
	struct clq_device_array *array; /* under `lock`; held, or NULL */
};

int
clq_slot_create(enum clq_dtype dtype, size_t ndim,
		struct clq_dimension *const *dimensions, enum clq_access access,
		struct clq_slot **slot_out)
{
	static const char fn[] = "clq_slot_create";
	struct clq_slot *s;

	if (slot_out)
		*slot_out = NULL;
	if (!slot_out)
		return clq__invalid(NULL, fn, "slot_out is NULL");
	if (clq_dtype_size(dtype) == 0)
		return clq__invalid(NULL, fn, "unknown dtype");
	if (access != CLQ_ACCESS_READ && access != CLQ_ACCESS_WRITE &&
	    access != CLQ_ACCESS_READ_WRITE)
		return clq__invalid(NULL, fn, "unknown access");
	if (ndim == 0 || ndim > CLQ_MAX_DIMS)
		return clq__invalid(NULL, fn, "ndim is not 1 to CLQ_MAX_DIMS");
	if (!dimensions)
		return clq__invalid(NULL, fn, "dimensions is NULL");
	for (size_t i = 0; i < ndim; i++)
		if (!dimensions[i])
			return clq__invalid(NULL, fn, "a dimension is NULL");
	s = calloc(1, sizeof(*s));
	if (!s)
		return CL_OUT_OF_HOST_MEMORY;
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s);
		return CL_OUT_OF_HOST_MEMORY;
	}
	clq__ref_init(&s->refs);
	s->dtype = dtype;
	s->access = access;
	s->ndim = ndim;
	for (size_t i = 0; i < ndim; i++)
		s->dims[i] = clq_dimension_ref(dimensions[i]);
	*slot_out = s;
	return CLQ_SUCCESS;
}

struct clq_slot *
clq_slot_ref(struct clq_slot *slot)
{
	if (slot)
		clq__ref_get(&slot->refs);
	return slot;
}

void
clq_slot_unref(struct clq_slot *slot)
{
	if (!slot || !clq__ref_put(&slot->refs))
		return;
	clq_device_array_unref(slot->array);
	for (size_t i = 0; i < slot->ndim; i++)
		clq_dimension_unref(slot->dims[i]);
	pthread_mutex_destroy(&slot->lock);
	free(slot);
}

enum clq_dtype
clq_slot_get_dtype(const struct clq_slot *slot)
{
	return slot ? slot->dtype : (enum clq_dtype) - 1;
}

size_t
clq_slot_get_ndim(const struct clq_slot *slot)
{
	return slot ? slot->ndim : 0;
}

enum clq_access
clq_slot_get_access(const struct clq_slot *slot)
{
	return slot ? slot->access : (enum clq_access)0;
}

struct clq_dimension *
clq_slot_get_dimension(const struct clq_slot *slot, size_t axis)
{
	return slot && axis < slot->ndim ? slot->dims[axis] : NULL;
}

int
clq_slot_get_shape(const struct clq_slot *slot, size_t *shape)
{
	if (!slot || !shape)
		return clq__invalid(NULL, "clq_slot_get_shape",
				    "slot or shape is NULL");
	for (size_t i = 0; i < slot->ndim; i++)
		shape[i] = clq_dimension_get_size(slot->dims[i]);
	return CLQ_SUCCESS;
}

int
clq_slot_get_padded_shape(const struct clq_slot *slot, size_t *padded_shape)
{
	if (!slot || !padded_shape)
		return clq__invalid(NULL, "clq_slot_get_padded_shape",
				    "slot or padded_shape is NULL");
	for (size_t i = 0; i < slot->ndim; i++)
		padded_shape[i] = clq_dimension_get_padded_size(slot->dims[i]);
	return CLQ_SUCCESS;
}

/* Whether `array` satisfies the slot; logs why not as `function`. */
static int
check_array(const struct clq_slot *s, struct clq_device_array *array,
	    const char *function)
{
	struct clq_context *ctx = clq_device_array_get_context(array);
	enum clq_dtype dtype = clq_device_array_get_dtype(array);
	size_t ndim = clq_device_array_get_ndim(array);
	const size_t *shape = clq_device_array_get_shape(array);
	const size_t *padded = clq_device_array_get_padded_shape(array);

	if (dtype != s->dtype) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the array is %s, the slot takes %s", function,
			 clq_dtype_name(dtype), clq_dtype_name(s->dtype));
		return CLQ_ERROR_TYPE_MISMATCH;
	}
	if (ndim != s->ndim) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the array has %zu axes, the slot %zu", function,
			 ndim, s->ndim);
		return CLQ_ERROR_SHAPE_MISMATCH;
	}
	for (size_t i = 0; i < ndim; i++) {
		size_t size = clq_dimension_get_size(s->dims[i]);

		if (shape[i] != size) {
			clq__log(ctx, CLQ_LOG_ERROR,
				 "%s: axis %zu has length %zu, the slot "
				 "needs %zu",
				 function, i, shape[i], size);
			return CLQ_ERROR_SHAPE_MISMATCH;
		}
	}
	for (size_t i = 0; i < ndim; i++) {
		if (clq_dimension_is_valid_padding(s->dims[i], padded[i]))
			continue;
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: axis %zu is padded to %zu, which its dimension "
			 "does not allow (size %zu, planned padded size %zu; "
			 "too small, misaligned, or padding on an exact axis)",
			 function, i, padded[i],
			 clq_dimension_get_size(s->dims[i]),
			 clq_dimension_get_padded_size(s->dims[i]));
		return CLQ_ERROR_PADDING;
	}
	return CLQ_SUCCESS;
}

int
clq_slot_bind(struct clq_slot *slot, struct clq_device_array *array)
{
	struct clq_device_array *old;
	int rc;

	if (!slot)
		return clq__invalid(NULL, "clq_slot_bind", "slot is NULL");
	if (array) {
		rc = check_array(slot, array, "clq_slot_bind");
		if (rc < 0)
			return rc;
		clq_device_array_ref(array);
	}
	pthread_mutex_lock(&slot->lock);
	old = slot->array;
	slot->array = array;
	pthread_mutex_unlock(&slot->lock);
	clq_device_array_unref(old);
	return CLQ_SUCCESS;
}

struct clq_device_array *
clq_slot_get_array(const struct clq_slot *slot)
{
	struct clq_slot *s = (struct clq_slot *)slot;
	struct clq_device_array *a;

	if (!s)
		return NULL;
	pthread_mutex_lock(&s->lock);
	a = s->array;
	pthread_mutex_unlock(&s->lock);
	return a;
}

int
clq_slot_allocate(struct clq_slot *slot, struct clq_context *ctx)
{
	static const char fn[] = "clq_slot_allocate";
	size_t shape[CLQ_MAX_DIMS], padded[CLQ_MAX_DIMS];
	struct clq_device_array *a, *made = NULL;
	int rc = CLQ_SUCCESS;

	if (!slot || !ctx)
		return clq__invalid(ctx, fn, "slot or ctx is NULL");
	pthread_mutex_lock(&slot->lock);
	a = slot->array;
	if (a && clq_device_array_get_context(a) != ctx)
		rc = CLQ_ERROR_CONTEXT_MISMATCH;
	pthread_mutex_unlock(&slot->lock);
	if (rc < 0) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the bound array belongs to another context", fn);
		return rc;
	}
	if (a)
		return CLQ_SUCCESS;
	clq_slot_get_shape(slot, shape);
	clq_slot_get_padded_shape(slot, padded);
	rc = clq_device_array_create(ctx, slot->dtype, slot->ndim, shape,
				     padded, &made);
	if (rc < 0)
		return rc;
	/* Another thread may have bound an array meanwhile: it wins. */
	pthread_mutex_lock(&slot->lock);
	if (!slot->array) {
		slot->array = made;
		made = NULL;
	}
	pthread_mutex_unlock(&slot->lock);
	clq_device_array_unref(made);
	return CLQ_SUCCESS;
}
