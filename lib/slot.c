/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Slots (clq/operation.h): a dtype, a dimension per axis and an access,
 * bound to a device array that satisfies them.
 *
 * Everything but the bound array is fixed at creation; the array is
 * guarded by the slot's mutex. Arrays are created and dropped outside it
 * (an allocation talks to the driver; a last unref may too).
 *
 * Compound and alias slots hold member slots and bind them whenever they
 * are bound: a compound binds each member to its own array, an alias
 * binds each member to a view (a sub-buffer array) at the start of its
 * raw array. A compound's dimensions are its first member's, linked to
 * the others'; an alias has no dimensions: it is a 1-D uint8 slot whose
 * length is its largest member's padded byte size, worked out when asked
 * (a later link may change it).
 */
#include <stdint.h>
#include <stdlib.h>

#include "private.h"

enum slot_kind { SLOT_PLAIN, SLOT_COMPOUND, SLOT_ALIAS };

struct clq_slot {
	atomic_uint refs;
	enum slot_kind kind;
	enum clq_dtype dtype;
	enum clq_access access;
	size_t ndim;
	struct clq_dimension *dims[CLQ_MAX_DIMS]; /* held; none in an alias */
	size_t n_members;
	struct clq_slot **members; /* held */
	atomic_int grouped;	   /* a member of a compound or alias */
	pthread_mutex_t lock;
	struct clq_device_array *array; /* under `lock`; held, or NULL */
};

/* A slot with no members and no array; NULL when out of memory. */
static struct clq_slot *
slot_new(enum slot_kind kind, enum clq_dtype dtype, enum clq_access access,
	 size_t ndim, struct clq_dimension *const *dimensions)
{
	struct clq_slot *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s);
		return NULL;
	}
	clq__ref_init(&s->refs);
	atomic_init(&s->grouped, 0);
	s->kind = kind;
	s->dtype = dtype;
	s->access = access;
	s->ndim = ndim;
	for (size_t i = 0; dimensions && i < ndim; i++)
		s->dims[i] = clq_dimension_ref(dimensions[i]);
	return s;
}

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
	if (clq_dtype_size(dtype) == 0) {
		clq__log(NULL, CLQ_LOG_ERROR,
			 "%s: dtype %d is not an enum clq_dtype value", fn,
			 (int)dtype);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	if (access != CLQ_ACCESS_READ && access != CLQ_ACCESS_WRITE &&
	    access != CLQ_ACCESS_READ_WRITE) {
		clq__log(NULL, CLQ_LOG_ERROR,
			 "%s: access %d is not CLQ_ACCESS_READ, _WRITE or "
			 "_READ_WRITE",
			 fn, (int)access);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	if (ndim == 0 || ndim > CLQ_MAX_DIMS) {
		clq__log(NULL, CLQ_LOG_ERROR,
			 "%s: ndim is %zu, not 1 to CLQ_MAX_DIMS (%d)", fn,
			 ndim, CLQ_MAX_DIMS);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	if (!dimensions)
		return clq__invalid(NULL, fn, "dimensions is NULL");
	for (size_t i = 0; i < ndim; i++)
		if (!dimensions[i])
			return clq__invalid(NULL, fn, "a dimension is NULL");
	s = slot_new(SLOT_PLAIN, dtype, access, ndim, dimensions);
	if (!s)
		return CL_OUT_OF_HOST_MEMORY;
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
	for (size_t i = 0; i < slot->n_members; i++) {
		atomic_store(&slot->members[i]->grouped, 0);
		clq_slot_unref(slot->members[i]);
	}
	free(slot->members);
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

/* The padded byte size of arrays a plain or compound slot plans;
 * CLQ_ERROR_OVERFLOW when it does not fit in size_t. */
static int
planned_nbytes(const struct clq_slot *s, size_t *nbytes)
{
	size_t n = clq_dtype_size(s->dtype);

	for (size_t i = 0; i < s->ndim; i++) {
		size_t p = clq_dimension_get_padded_size(s->dims[i]);

		if (p != 0 && n > SIZE_MAX / p)
			return CLQ_ERROR_OVERFLOW;
		n *= p;
	}
	*nbytes = n;
	return CLQ_SUCCESS;
}

/* An alias' length: its largest member's planned padded byte size. */
static int
alias_nbytes(const struct clq_slot *s, const char *function, size_t *nbytes)
{
	*nbytes = 0;
	for (size_t i = 0; i < s->n_members; i++) {
		size_t n;

		if (planned_nbytes(s->members[i], &n) < 0) {
			clq__log(NULL, CLQ_LOG_ERROR,
				 "%s: member %zu of the alias needs more "
				 "bytes than size_t holds",
				 function, i);
			return CLQ_ERROR_OVERFLOW;
		}
		if (n > *nbytes)
			*nbytes = n;
	}
	return CLQ_SUCCESS;
}

int
clq_slot_get_shape(const struct clq_slot *slot, size_t *shape)
{
	static const char fn[] = "clq_slot_get_shape";

	if (!slot || !shape)
		return clq__invalid(NULL, fn, "slot or shape is NULL");
	if (slot->kind == SLOT_ALIAS)
		return alias_nbytes(slot, fn, shape);
	for (size_t i = 0; i < slot->ndim; i++)
		shape[i] = clq_dimension_get_size(slot->dims[i]);
	return CLQ_SUCCESS;
}

int
clq_slot_get_padded_shape(const struct clq_slot *slot, size_t *padded_shape)
{
	static const char fn[] = "clq_slot_get_padded_shape";

	if (!slot || !padded_shape)
		return clq__invalid(NULL, fn, "slot or padded_shape is NULL");
	if (slot->kind == SLOT_ALIAS)
		return alias_nbytes(slot, fn, padded_shape);
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

/* Whether `array` is large enough for the alias; logs why not. */
static int
check_alias_array(const struct clq_slot *s, struct clq_device_array *array,
		  const char *function)
{
	size_t need;
	int rc = alias_nbytes(s, function, &need);

	if (rc < 0)
		return rc;
	if (array->layout.nbytes < need) {
		clq__log(array->ctx, CLQ_LOG_ERROR,
			 "%s: the array has %zu bytes, the alias' largest "
			 "member needs %zu",
			 function, array->layout.nbytes, need);
		return CLQ_ERROR_OUT_OF_RANGE;
	}
	return CLQ_SUCCESS;
}

/* Sets the slot's array (a new reference is taken) and drops the old. */
static void
set_array(struct clq_slot *slot, struct clq_device_array *array)
{
	struct clq_device_array *old;

	clq_device_array_ref(array);
	pthread_mutex_lock(&slot->lock);
	old = slot->array;
	slot->array = array;
	pthread_mutex_unlock(&slot->lock);
	clq_device_array_unref(old);
}

/* Binds a checked array (or NULL) to a plain or compound slot and, for a
 * compound, to its members; cannot fail. */
static void
bind_shared(struct clq_slot *slot, struct clq_device_array *array)
{
	for (size_t i = 0; i < slot->n_members; i++)
		bind_shared(slot->members[i], array);
	set_array(slot, array);
}

/*
 * Binds a checked array (or NULL) to an alias: each member gets a view of
 * the member's planned shape at the array's start. The views are all made
 * before any is bound, so on failure nothing changes.
 */
static int
bind_alias(struct clq_slot *slot, struct clq_device_array *array,
	   const char *function)
{
	struct clq_device_array **views = NULL;
	int rc = CLQ_SUCCESS;

	if (array) {
		views = calloc(slot->n_members, sizeof(*views));
		if (!views)
			return CL_OUT_OF_HOST_MEMORY;
	}
	for (size_t i = 0; array && rc == CLQ_SUCCESS && i < slot->n_members;
	     i++) {
		struct clq_slot *m = slot->members[i];
		size_t shape[CLQ_MAX_DIMS], padded[CLQ_MAX_DIMS];

		clq_slot_get_shape(m, shape);
		clq_slot_get_padded_shape(m, padded);
		/* A view of a view is made in the root buffer: OpenCL has
		 * no sub-buffers of sub-buffers (1.2, 5.2.1). */
		rc = clq_device_array_create_alias(
			array->ctx, array->root, array->root_offset, m->dtype,
			m->ndim, shape, padded, &views[i]);
		if (rc < 0)
			clq__log(array->ctx, CLQ_LOG_ERROR,
				 "%s: could not make the view of alias "
				 "member %zu",
				 function, i);
	}
	for (size_t i = 0; rc == CLQ_SUCCESS && i < slot->n_members; i++)
		bind_shared(slot->members[i], views ? views[i] : NULL);
	if (rc == CLQ_SUCCESS)
		set_array(slot, array);
	for (size_t i = 0; views && i < slot->n_members; i++)
		clq_device_array_unref(views[i]);
	free(views);
	return rc;
}

/* Checks and binds `array` (or NULL) to a slot of any kind. */
static int
bind_checked(struct clq_slot *slot, struct clq_device_array *array,
	     const char *function)
{
	int rc = CLQ_SUCCESS;

	if (array)
		rc = slot->kind == SLOT_ALIAS
			     ? check_alias_array(slot, array, function)
			     : check_array(slot, array, function);
	if (rc < 0)
		return rc;
	if (slot->kind == SLOT_ALIAS)
		return bind_alias(slot, array, function);
	bind_shared(slot, array);
	return CLQ_SUCCESS;
}

int
clq_slot_bind(struct clq_slot *slot, struct clq_device_array *array)
{
	if (!slot)
		return clq__invalid(NULL, "clq_slot_bind", "slot is NULL");
	return bind_checked(slot, array, "clq_slot_bind");
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

struct clq_device_array *
clq_slot_ref_array(const struct clq_slot *slot)
{
	struct clq_slot *s = (struct clq_slot *)slot;
	struct clq_device_array *a;

	if (!s)
		return NULL;
	pthread_mutex_lock(&s->lock);
	a = clq_device_array_ref(s->array);
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
	/* A compound a member of which is bound already takes its array. */
	for (size_t i = 0; slot->kind == SLOT_COMPOUND && i < slot->n_members;
	     i++) {
		struct clq_device_array *m =
			clq_slot_ref_array(slot->members[i]);

		if (!m)
			continue;
		rc = clq_device_array_get_context(m) == ctx
			     ? bind_checked(slot, m, fn)
			     : CLQ_ERROR_CONTEXT_MISMATCH;
		if (rc == CLQ_ERROR_CONTEXT_MISMATCH)
			clq__log(ctx, CLQ_LOG_ERROR,
				 "%s: member %zu of the compound is bound to "
				 "an array of another context",
				 fn, i);
		clq_device_array_unref(m);
		return rc;
	}
	rc = clq_slot_get_shape(slot, shape);
	if (rc == CLQ_SUCCESS)
		rc = clq_slot_get_padded_shape(slot, padded);
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_create(ctx, slot->dtype, slot->ndim,
					     shape, padded, &made);
	if (rc < 0)
		return rc;
	/* Another thread may have bound an array meanwhile: it wins. */
	pthread_mutex_lock(&slot->lock);
	a = slot->array;
	pthread_mutex_unlock(&slot->lock);
	if (!a)
		rc = bind_checked(slot, made, fn);
	clq_device_array_unref(made);
	return rc;
}

/* Creates a compound or alias slot over `members` (checked by the caller);
 * holds them. */
static int
group_new(enum slot_kind kind, struct clq_slot *const *members, size_t n,
	  struct clq_slot **slot_out)
{
	const struct clq_slot *first = members[0];
	enum clq_access access = 0;
	struct clq_slot *s;

	for (size_t i = 0; i < n; i++)
		access |= members[i]->access;
	if (kind == SLOT_ALIAS)
		s = slot_new(kind, CLQ_DTYPE_UINT8, access, 1, NULL);
	else
		s = slot_new(kind, first->dtype, access, first->ndim,
			     first->dims);
	if (!s)
		return CL_OUT_OF_HOST_MEMORY;
	s->members = calloc(n, sizeof(*s->members));
	if (!s->members) {
		clq_slot_unref(s);
		return CL_OUT_OF_HOST_MEMORY;
	}
	for (size_t i = 0; i < n; i++)
		s->members[i] = clq_slot_ref(members[i]);
	s->n_members = n;
	*slot_out = s;
	return CLQ_SUCCESS;
}

/* Checks the members array shared by compounds and aliases. */
static int
check_members(struct clq_slot *const *members, size_t n,
	      struct clq_slot **slot_out, const char *function)
{
	if (slot_out)
		*slot_out = NULL;
	if (!slot_out || !members)
		return clq__invalid(NULL, function,
				    "members or slot_out is NULL");
	if (n == 0)
		return clq__invalid(NULL, function, "n is 0");
	for (size_t i = 0; i < n; i++) {
		if (!members[i])
			return clq__invalid(NULL, function, "a member is NULL");
		if (members[i]->kind == SLOT_ALIAS) {
			clq__log(NULL, CLQ_LOG_ERROR,
				 "%s: member %zu is an alias slot; aliases "
				 "cannot be members (make one alias of all "
				 "their members instead)",
				 function, i);
			return CLQ_ERROR_INVALID_ARGUMENT;
		}
	}
	return CLQ_SUCCESS;
}

/* Marks the members as a group's, all or none: a slot is in one compound
 * or alias at most (a second would bind it apart from the first's other
 * members). */
static int
claim_members(struct clq_slot *const *members, size_t n, const char *function)
{
	for (size_t i = 0; i < n; i++) {
		if (!atomic_exchange(&members[i]->grouped, 1))
			continue;
		/* members[0..i-1] are distinct and were claimed here */
		for (size_t j = 0; j < i; j++)
			atomic_store(&members[j]->grouped, 0);
		clq__log(NULL, CLQ_LOG_ERROR,
			 "%s: member %zu is in a compound or alias already "
			 "(or twice in this one); a slot can be in one only",
			 function, i);
		return CLQ_ERROR_IN_USE;
	}
	return CLQ_SUCCESS;
}

static void
release_members(struct clq_slot *const *members, size_t n)
{
	for (size_t i = 0; i < n; i++)
		atomic_store(&members[i]->grouped, 0);
}

/* Links every member's axis k to member 0's, all links or none. */
static int
link_members(struct clq_slot *const *members, size_t n, const char *function)
{
	size_t ndim = members[0]->ndim, k = 0;
	struct clq_dimension **a, **b;
	int rc;

	if (n - 1 > SIZE_MAX / CLQ_MAX_DIMS / sizeof(*a))
		return CL_OUT_OF_HOST_MEMORY;
	a = malloc((n - 1) * ndim * sizeof(*a));
	b = malloc((n - 1) * ndim * sizeof(*b));
	if (n > 1 && (!a || !b)) {
		free(a);
		free(b);
		return CL_OUT_OF_HOST_MEMORY;
	}
	for (size_t i = 1; i < n; i++)
		for (size_t axis = 0; axis < ndim; axis++, k++) {
			a[k] = members[0]->dims[axis];
			b[k] = members[i]->dims[axis];
		}
	rc = clq__dimension_link_all(a, b, k, function);
	free(a);
	free(b);
	return rc;
}

int
clq_slot_create_compound(struct clq_slot *const *members, size_t n,
			 struct clq_slot **slot_out)
{
	static const char fn[] = "clq_slot_create_compound";
	const struct clq_slot *first;
	int rc = check_members(members, n, slot_out, fn);

	if (rc < 0)
		return rc;
	first = members[0];
	for (size_t i = 1; i < n; i++) {
		const struct clq_slot *m = members[i];

		if (m->dtype != first->dtype) {
			clq__log(NULL, CLQ_LOG_ERROR,
				 "%s: member %zu is %s, member 0 is %s", fn, i,
				 clq_dtype_name(m->dtype),
				 clq_dtype_name(first->dtype));
			return CLQ_ERROR_TYPE_MISMATCH;
		}
		if (m->ndim != first->ndim) {
			clq__log(NULL, CLQ_LOG_ERROR,
				 "%s: member %zu has %zu axes, member 0 has "
				 "%zu",
				 fn, i, m->ndim, first->ndim);
			return CLQ_ERROR_SHAPE_MISMATCH;
		}
		for (size_t k = 0; k < m->ndim; k++) {
			size_t x = clq_dimension_get_size(m->dims[k]);
			size_t y = clq_dimension_get_size(first->dims[k]);

			if (x != y) {
				clq__log(NULL, CLQ_LOG_ERROR,
					 "%s: axis %zu of member %zu has "
					 "length %zu, of member 0 %zu",
					 fn, k, i, x, y);
				return CLQ_ERROR_SHAPE_MISMATCH;
			}
		}
	}
	if ((rc = claim_members(members, n, fn)) < 0)
		return rc;
	if ((rc = link_members(members, n, fn)) < 0 ||
	    (rc = group_new(SLOT_COMPOUND, members, n, slot_out)) < 0)
		release_members(members, n);
	return rc;
}

int
clq_slot_create_alias(struct clq_slot *const *members, size_t n,
		      struct clq_slot **slot_out)
{
	static const char fn[] = "clq_slot_create_alias";
	int rc = check_members(members, n, slot_out, fn);

	if (rc < 0 || (rc = claim_members(members, n, fn)) < 0)
		return rc;
	if ((rc = group_new(SLOT_ALIAS, members, n, slot_out)) < 0)
		release_members(members, n);
	return rc;
}

int
clq__slot_binds(const struct clq_slot *group, const struct clq_slot *slot)
{
	if (group == slot)
		return 1;
	for (size_t i = 0; i < group->n_members; i++)
		if (clq__slot_binds(group->members[i], slot))
			return 1;
	return 0;
}
