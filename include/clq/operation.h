/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CLQ_OPERATION_H
#define CLQ_OPERATION_H

/**
 * @file
 * Composition of stages: dimensions and slots, see @ref operation.
 */

#include <clq/common.h>
#include <clq/array.h>
#include <clq/context.h>
#include <clq/program.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup operation Operations
 * The memory a pipeline's stages share, planned before it is allocated:
 * dimensions with padding constraints, and slots that name the arrays a
 * stage reads and writes (after katsdpsigproc's `accel.Dimension` and
 * `accel.IOSlot`).
 *
 * A **dimension** is one axis length (`size`, in elements) together with
 * what its padded length (the length the memory layout uses, see
 * @ref array) must satisfy: at least a minimum, a multiple of an
 * alignment, or, when `exact`, no padding at all. Stages that must agree
 * on an axis link their dimensions (clq_dimension_link()); a link group
 * has one size and one padded size that satisfies every member's
 * constraints: the largest minimum, rounded up to the least common
 * multiple of the alignments, or the size itself when any member is
 * exact. Links are never undone; a link that would make the group's
 * constraints unsatisfiable is refused with #CLQ_ERROR_CONSTRAINTS and
 * changes nothing, so a group is always satisfiable.
 *
 * A **slot** is an array a stage uses: a dtype, one dimension per axis
 * (1 to #CLQ_MAX_DIMS; dimensions may be shared between slots or linked
 * to other slots' dimensions) and how the stage uses it (#CLQ_ACCESS_READ,
 * #CLQ_ACCESS_WRITE or #CLQ_ACCESS_READ_WRITE). A slot is bound to a
 * device array whose dtype, shape and padding satisfy it
 * (clq_slot_bind()), or allocates one with the planned padded shape
 * (clq_slot_allocate()).
 *
 * Operations and sequences, which join slots into stages and stages into
 * pipelines, are to come in this header.
 *
 * Thread safety: every function here is thread-safe. Dimensions' links
 * and constraints are guarded by one process-wide mutex (planning is a
 * few integer operations per link, so it is never held for long); a
 * slot's binding by the slot's own mutex. A padded size read while
 * another thread links the dimension reflects the group before or after
 * the link. A slot checks an array against its dimensions when it binds
 * it: a link made later is not checked against arrays already bound.
 * @{
 */

/** An axis length with padding constraints; opaque, refcounted. */
struct clq_dimension;

/** An array a stage uses: dtype, dimensions, access; opaque, refcounted. */
struct clq_slot;

/**
 * Creates a dimension, linked to nothing.
 *
 * The caller owns the returned reference.
 * @param size the axis length in elements, at least 1
 * @param min_padded_size the smallest padded length allowed, in
 *        elements; values up to `size` (0 included) mean no minimum
 *        beyond `size`
 * @param alignment the padded length must be a multiple of it (elements),
 *        at least 1 (1: any length)
 * @param exact nonzero: no padding, the padded length is `size`
 * @param dimension_out receives the dimension; NULL on failure
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for a zero size or
 *         alignment or a NULL `dimension_out`; #CLQ_ERROR_CONSTRAINTS
 *         when `exact` is asked with a minimum above `size` or a `size`
 *         that is not a multiple of `alignment`, or when the padded
 *         length does not fit in `size_t` (the log says which);
 *         `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int
clq_dimension_create(size_t size, size_t min_padded_size, size_t alignment,
		     int exact, struct clq_dimension **dimension_out);

/** Adds a reference. @return `dimension`. */
CLQ_EXPORT struct clq_dimension *
clq_dimension_ref(struct clq_dimension *dimension);

/**
 * Drops a reference; NULL is a no-op. A dimension linked to others keeps
 * the group's constraints alive for them: the last reference to each
 * member frees what only it needed.
 */
CLQ_EXPORT void clq_dimension_unref(struct clq_dimension *dimension);

/** The axis length in elements, as created; 0 for NULL. */
CLQ_EXPORT size_t clq_dimension_get_size(const struct clq_dimension *dimension);

/**
 * Plans the padded length, in elements, of the dimension's link group:
 * the largest of the members' sizes and minimums, rounded up to the least
 * common multiple of their alignments; the size itself when a member is
 * exact. Every member of a group gives the same value; a later link may
 * raise it.
 * @return the padded length; 0 for NULL.
 */
CLQ_EXPORT size_t
clq_dimension_get_padded_size(const struct clq_dimension *dimension);

/**
 * Whether a padded length satisfies the constraints of the dimension's
 * link group (0 or 1): at least the group's minimum and size, a multiple
 * of its alignments, and equal to the size when a member is exact. 0 for
 * NULL.
 */
CLQ_EXPORT int
clq_dimension_is_valid_padding(const struct clq_dimension *dimension,
			       size_t padded_size);

/** Whether `a` and `b` are in one link group (0 or 1); 0 if either is NULL. */
CLQ_EXPORT int clq_dimension_is_linked(const struct clq_dimension *a,
				       const struct clq_dimension *b);

/**
 * Links two dimensions, and with them their link groups: from now on they
 * share one padded length that satisfies every member's constraints.
 *
 * Linking two members of one group is a no-op. Each dimension keeps the
 * group alive (references are held inside), so either may be dropped.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL;
 *         #CLQ_ERROR_CONSTRAINTS when the joined constraints cannot all
 *         hold: different sizes, an exact member with a minimum above the
 *         size or an alignment the size is not a multiple of, or
 *         alignments whose least common multiple (or the padded length)
 *         does not fit in `size_t`. The log names the conflicting
 *         constraints; on failure nothing changes.
 */
CLQ_EXPORT int
clq_dimension_link(struct clq_dimension *a, struct clq_dimension *b);

/**
 * Creates a slot.
 *
 * The slot holds a reference to each dimension; the same dimension may
 * serve several axes. The caller owns the returned reference.
 * @param dtype the element type of the arrays it takes
 * @param ndim the number of axes, 1 to #CLQ_MAX_DIMS
 * @param dimensions `ndim` dimensions, outermost axis first (C order)
 * @param access how the stage uses the array: #CLQ_ACCESS_READ,
 *        #CLQ_ACCESS_WRITE or #CLQ_ACCESS_READ_WRITE
 * @param slot_out receives the slot; NULL on failure
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL pointers, an
 *         unknown dtype or access, or `ndim` outside 1..#CLQ_MAX_DIMS;
 *         `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int
clq_slot_create(enum clq_dtype dtype, size_t ndim,
		struct clq_dimension *const *dimensions, enum clq_access access,
		struct clq_slot **slot_out);

/** Adds a reference. @return `slot`. */
CLQ_EXPORT struct clq_slot *clq_slot_ref(struct clq_slot *slot);

/**
 * Drops a reference; NULL is a no-op. The last one drops the slot's
 * references to its dimensions and to its bound array.
 */
CLQ_EXPORT void clq_slot_unref(struct clq_slot *slot);

/** The element type; `(enum clq_dtype)-1` for NULL. */
CLQ_EXPORT enum clq_dtype clq_slot_get_dtype(const struct clq_slot *slot);

/** The number of axes; 0 for NULL. */
CLQ_EXPORT size_t clq_slot_get_ndim(const struct clq_slot *slot);

/** The access, as created; 0 for NULL. */
CLQ_EXPORT enum clq_access clq_slot_get_access(const struct clq_slot *slot);

/**
 * The dimension of axis `axis`, borrowed (valid while the slot lives);
 * NULL for a NULL slot or an axis >= clq_slot_get_ndim().
 */
CLQ_EXPORT struct clq_dimension *
clq_slot_get_dimension(const struct clq_slot *slot, size_t axis);

/**
 * The shape arrays must have: each axis' dimension size.
 * @param slot the slot
 * @param shape receives clq_slot_get_ndim() lengths, in elements
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL.
 */
CLQ_EXPORT int clq_slot_get_shape(const struct clq_slot *slot, size_t *shape);

/**
 * The planned padded shape: each axis' clq_dimension_get_padded_size(),
 * as clq_slot_allocate() would allocate now.
 * @param slot the slot
 * @param padded_shape receives clq_slot_get_ndim() lengths, in elements
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL.
 */
CLQ_EXPORT int
clq_slot_get_padded_shape(const struct clq_slot *slot, size_t *padded_shape);

/**
 * Binds a device array to the slot, or unbinds it (`array` NULL).
 *
 * The array must have the slot's dtype, its number of axes and shape,
 * and on each axis a padded length the axis' link group allows (see
 * clq_dimension_is_valid_padding()): the planned padded length is one,
 * others may be. The slot takes a reference to the array and drops the
 * one to the array bound before.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for a NULL slot;
 *         #CLQ_ERROR_TYPE_MISMATCH for another dtype;
 *         #CLQ_ERROR_SHAPE_MISMATCH for another number of axes or shape;
 *         #CLQ_ERROR_PADDING for a padded length that is too small, not a
 *         multiple of the alignment, or padding on an exact axis. The log
 *         says which axis and constraint; on failure the slot keeps the
 *         array it had.
 */
CLQ_EXPORT int
clq_slot_bind(struct clq_slot *slot, struct clq_device_array *array);

/**
 * The bound array, borrowed, or NULL when none is bound (or for NULL).
 * Valid until the slot is bound again or freed: a caller that shares the
 * slot with threads that rebind it takes its own reference first.
 */
CLQ_EXPORT struct clq_device_array *
clq_slot_get_array(const struct clq_slot *slot);

/**
 * Ensures the slot is bound: when no array is, allocates a device array
 * in `ctx` with the slot's dtype, shape and planned padded shape
 * (clq_slot_get_padded_shape()) and binds it. With an array bound,
 * nothing is allocated.
 *
 * The slot holds the array; clq_slot_get_array() gives it.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL;
 *         #CLQ_ERROR_CONTEXT_MISMATCH when the bound array belongs to
 *         another context; as clq_device_array_create() otherwise. On
 *         failure the slot stays unbound.
 */
CLQ_EXPORT int
clq_slot_allocate(struct clq_slot *slot, struct clq_context *ctx);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLQ_OPERATION_H */
