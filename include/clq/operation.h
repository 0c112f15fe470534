/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CLQ_OPERATION_H
#define CLQ_OPERATION_H

/**
 * @file
 * Composition of stages: dimensions, slots, operations and sequences,
 * see @ref operation.
 */

#include <clq/common.h>
#include <clq/array.h>
#include <clq/context.h>
#include <clq/event.h>
#include <clq/program.h>
#include <clq/queue.h>

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
 * An **operation** is a stage: a name, slots by name (the arrays it reads
 * and writes) and a run function, given as a struct of callbacks
 * (#clq_operation_ops) and user data, that enqueues the stage's commands
 * and returns an event, as any enqueue does (after katsdpsigproc's
 * `accel.Operation`). clq_operation_run() refuses to run an operation
 * whose slots are not all bound (#CLQ_ERROR_UNBOUND).
 *
 * A **sequence** is a pipeline: operations (its *children*) run in the
 * order they were added, each on its own queue or on the queue given to
 * clq_sequence_run(). A sequence orders its children by what their slots
 * touch, whatever the context's ordering mode (see @ref order): two
 * children conflict when a slot of one and a slot of the other are bound
 * to arrays on one root buffer (an alias made with
 * clq_device_array_create_alias() counts as the buffer it was made in)
 * and at least one of the two slots writes; two reads never conflict. A
 * child's wait list holds the events of the earlier children it conflicts
 * with, the caller's wait list when it conflicts with no earlier child,
 * and the events of the previous run's children it conflicts with, so
 * that runs one after another are ordered as well (a run after the
 * bindings changed waits for the whole previous run). Children that do
 * not conflict run concurrently on their queues. A run's event is a
 * marker on the run's queue that waits for every child, and only then
 * completes. The plan (who waits for whom) is made at the first run and
 * made again only when children were added or a slot's binding changed
 * root buffer; a run with the plan made enqueues and allocates nothing
 * else. In #CLQ_ORDERING_CHECK the waits a sequence adds order every
 * conflict it knows of, so it adds no hazard (its children's own
 * commands must touch only their slots' arrays, and return an event that
 * ends after them, see #clq_operation_ops).
 *
 * **Compounds and aliases** are slots made of other slots, for memory
 * that stages share. A *compound* (clq_slot_create_compound()) makes its
 * members one array: they have one dtype and shape, their dimensions are
 * linked axis by axis, and binding or allocating the compound binds every
 * member to the same array (katsdpsigproc's `CompoundIOSlot`; a slot
 * shared by several operations needs none). An *alias*
 * (clq_slot_create_alias()) makes its members time-share one raw
 * allocation, scratch space for stages that do not need their arrays at
 * the same time: binding or allocating the alias binds each member to a
 * view (clq_device_array_create_alias()) at the start of one buffer as
 * large as the largest member (katsdpsigproc's `AliasIOSlot`). Members
 * are views of one buffer, so a sequence orders the stages that use them
 * as it orders stages that share an array. A sequence allocates the
 * compounds and aliases registered with it (clq_sequence_add_slot())
 * before its children's own slots.
 *
 * **Nesting.** clq_sequence_as_operation() makes a sequence an operation,
 * to be a child of another sequence: its slots are the sequence's
 * registered compounds and aliases, and its children's other slots,
 * named "child:slot".
 *
 * **Replay.** A run with the plan made enqueues the children and nothing
 * else; it does not go through `cl_khr_command_buffer`, which on PoCL 3.1
 * (its version 0.9.0) cost more host time per replay than plain enqueues
 * (tests/bench/bench-command-buffer.c), and which NVIDIA's driver lacks.
 *
 * **Ownership.** A slot holds its dimensions and its bound array; an
 * operation holds its slots (and owns its user data: its `destroy`
 * callback runs when the operation goes); a sequence holds its context,
 * its children, their queues, and the events of its last run's children.
 * Getters return borrowed pointers. A compound or alias holds its
 * members; the operation clq_sequence_as_operation() makes holds the
 * sequence.
 *
 * **What a sequence orders, and what it does not.** A sequence orders its
 * own children, within a run and across its runs. Other commands that
 * touch its arrays (another sequence's, the caller's transfers of its
 * outputs) are ordered as the context's mode orders any commands: in
 * #CLQ_ORDERING_MANUAL through wait lists (give a run's event to what
 * reads its outputs, and what the run must wait for to clq_sequence_run()),
 * in #CLQ_ORDERING_CHECK refused when unordered, in #CLQ_ORDERING_AUTO
 * ordered by clq.
 *
 * **Access is the slot's.** A slot has one access for every operation it
 * serves: one slot shared by a writer and a reader must be declared
 * #CLQ_ACCESS_READ_WRITE (or the reader is not ordered after the writer),
 * and then readers count as writers. Give each use its own slot with its
 * own access and join them with a compound (or bind them to one array).
 *
 * **Failures.** A child whose command failed (a failed event in its wait
 * list, say) makes the children that wait for it fail too, as OpenCL
 * does. The next run does not wait for the failed events (their commands
 * did nothing), so it can succeed; but the failed run's other commands
 * may still be running, so before running again after a failure, wait
 * for the queues the sequence uses (clq_queue_finish()). In
 * #CLQ_ORDERING_CHECK and #CLQ_ORDERING_AUTO that is also what lets the
 * context order commands after the failed ones again (see @ref order).
 *
 * Thread safety: every function here is thread-safe. Dimensions' links
 * and constraints are guarded by one process-wide mutex (planning is a
 * few integer operations per link, so it is never held for long); a
 * slot's binding by the slot's own mutex. A padded size read while
 * another thread links the dimension reflects the group before or after
 * the link. A slot checks an array against its dimensions when it binds
 * it: a link made later is not checked against arrays already bound.
 * An operation's slots are guarded by its mutex (slots are added, never
 * removed); a sequence's functions hold the sequence's mutex, so one
 * thread at a time runs it, and its children's run callbacks are called
 * with it held: they must not call the sequence's own functions. An
 * operation's run callback may be called from several threads at once
 * (clq_operation_run() from several threads, or one operation in several
 * sequences): guard its user data accordingly. Do not rebind the slots of
 * an operation while it runs.
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
 * Valid until the slot is bound again or freed: a run callback may use
 * it (slots are not rebound while their operation runs), but a thread
 * that shares the slot with threads that rebind it uses
 * clq_slot_ref_array() instead.
 */
CLQ_EXPORT struct clq_device_array *
clq_slot_get_array(const struct clq_slot *slot);

/**
 * The bound array with a new reference, the caller's (drop it with
 * clq_device_array_unref()), or NULL when none is bound (or for NULL).
 * Taken under the slot's mutex, so it is safe while other threads rebind
 * the slot.
 */
CLQ_EXPORT struct clq_device_array *
clq_slot_ref_array(const struct clq_slot *slot);

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

/**
 * Creates a compound slot: its members share one array.
 *
 * The members must have one dtype and one shape; their dimensions are
 * linked axis by axis to the first member's (clq_dimension_link()), all
 * links or none. The compound has the first member's dtype and
 * dimensions, and every member's access together. Binding the compound
 * (clq_slot_bind(), clq_slot_allocate()) binds each member to the same
 * array, or unbinds each; bind the members through it, not one by one
 * (clq does not stop a member being rebound alone). Allocating a compound
 * none of whose members is bound allocates an array; one whose member is
 * bound (an input the caller bound, say) takes that member's array. A
 * member may itself be a compound, not an alias; a slot is in one
 * compound or alias at most (again once that one is gone). The compound
 * holds its members; the caller owns the returned reference.
 * @param members the slots, `n` of them
 * @param n how many, at least 1
 * @param slot_out receives the compound; NULL on failure
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL pointers, `n`
 *         0 or an alias as a member; #CLQ_ERROR_IN_USE for a member that
 *         is in a compound or alias already, or given twice;
 *         #CLQ_ERROR_TYPE_MISMATCH for members of different dtypes;
 *         #CLQ_ERROR_SHAPE_MISMATCH for different numbers of axes or
 *         lengths (the log says which member and axis);
 *         #CLQ_ERROR_CONSTRAINTS when the linked dimensions' padding
 *         constraints cannot all hold (the log names the constraints;
 *         nothing is linked then); `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int clq_slot_create_compound(struct clq_slot *const *members,
					size_t n, struct clq_slot **slot_out);

/**
 * Creates an alias slot: its members time-share one raw allocation.
 *
 * Members may have any dtype and shape (compounds included, aliases not).
 * The alias is a 1-D #CLQ_DTYPE_UINT8 slot with no dimension objects
 * (clq_slot_get_dimension() gives NULL): its shape and padded shape are
 * one length, the largest member's planned padded size in bytes
 * (product of clq_slot_get_padded_shape() and the dtype size), worked out
 * when asked, so links made later count. Its access is every member's
 * together. Binding it to a device array of any dtype with at least that
 * many bytes (its padded size) binds each member to a view of the
 * member's shape and planned padded shape at the array's first byte;
 * clq_slot_allocate() allocates such an array. Unbinding it unbinds every
 * member. The stages using the members must not need their contents at
 * the same time; a sequence orders them (they share a root buffer). The
 * alias holds its members; the caller owns the returned reference.
 *
 * Binding an alias returns, besides what clq_slot_bind() does,
 * #CLQ_ERROR_OUT_OF_RANGE for an array smaller than the largest member,
 * #CLQ_ERROR_OVERFLOW when a member's byte size does not fit in `size_t`,
 * and what clq_device_array_create_alias() returns for a view (the
 * array's offset must suit sub-buffers, OpenCL 1.2 section 5.2.1); on
 * failure nothing is bound.
 * @param members the slots, `n` of them
 * @param n how many, at least 1
 * @param slot_out receives the alias; NULL on failure
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL pointers, `n`
 *         0 or an alias as a member; #CLQ_ERROR_IN_USE for a member that
 *         is in a compound or alias already, or given twice;
 *         `CL_OUT_OF_HOST_MEMORY`. An alias owns its members' bindings:
 *         binding or allocating it rebinds every member, whatever was
 *         bound to them before.
 */
CLQ_EXPORT int clq_slot_create_alias(struct clq_slot *const *members, size_t n,
				     struct clq_slot **slot_out);

/** A stage: named slots and a run function; opaque, refcounted. */
struct clq_operation;

/** A pipeline of operations ordered by their slots; opaque, refcounted. */
struct clq_sequence;

/**
 * What an operation does, given to clq_operation_create() (copied).
 */
struct clq_operation_ops {
	/**
	 * Enqueues the stage on `queue`, after the `n_wait` events of
	 * `wait`, and stores in `*event_out` an event (the caller's
	 * reference) that completes after every command it enqueued (the
	 * last command's event on an in-order queue, or a marker). Required.
	 * The arrays it touches should be its slots' (clq_operation_get_slot()):
	 * those are what a sequence orders by. Returns #CLQ_SUCCESS or an
	 * error code, and then leaves `*event_out` NULL.
	 */
	int (*run)(struct clq_operation *op, struct clq_queue *queue,
		   struct clq_event *const *wait, size_t n_wait,
		   struct clq_event **event_out, void *user_data);
	/** Frees `user_data` when the operation goes; may be NULL. */
	void (*destroy)(void *user_data);
};

/**
 * Creates an operation with no slots.
 *
 * `name` and `*ops` are copied; the operation owns `user_data` from a
 * successful return (`ops->destroy` frees it with the operation). On
 * failure `user_data` stays the caller's. The caller owns the returned
 * reference.
 * @param name names it in log messages; not NULL
 * @param ops the callbacks; `ops->run` is required
 * @param user_data given to the callbacks
 * @param op_out receives the operation; NULL on failure
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for a NULL name, ops,
 *         `ops->run` or `op_out`; `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int
clq_operation_create(const char *name, const struct clq_operation_ops *ops,
		     void *user_data, struct clq_operation **op_out);

/** Adds a reference. @return `op`. */
CLQ_EXPORT struct clq_operation *clq_operation_ref(struct clq_operation *op);

/**
 * Drops a reference; NULL is a no-op. The last one drops the slots and
 * calls `destroy` on the user data.
 */
CLQ_EXPORT void clq_operation_unref(struct clq_operation *op);

/** The name, as created, valid while the operation lives; NULL for NULL. */
CLQ_EXPORT const char *clq_operation_get_name(const struct clq_operation *op);

/**
 * Adds a slot under a name (copied); the operation takes a reference to
 * the slot. One slot may serve several operations: they share its array
 * and its access (see @ref operation; a compound of one slot per use
 * keeps each use's access).
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL;
 *         #CLQ_ERROR_DUPLICATE when the operation has a slot of that name
 *         already (the log names it; nothing changes);
 *         `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int clq_operation_add_slot(struct clq_operation *op,
				      const char *name, struct clq_slot *slot);

/**
 * The slot of that name, borrowed (valid while the operation lives:
 * slots are never removed); NULL when there is none, or for NULL.
 */
CLQ_EXPORT struct clq_slot *
clq_operation_get_slot(const struct clq_operation *op, const char *name);

/** The number of slots; 0 for NULL. */
CLQ_EXPORT size_t clq_operation_get_n_slots(const struct clq_operation *op);

/**
 * The slot added `index`-th (from 0), borrowed, and its name (borrowed,
 * valid while the operation lives) in `*name_out` when `name_out` is not
 * NULL; NULL (and a NULL name) for an index past the last, or for NULL.
 */
CLQ_EXPORT struct clq_slot *
clq_operation_get_slot_at(const struct clq_operation *op, size_t index,
			  const char **name_out);

/**
 * Runs the operation: checks that every slot is bound to an array of the
 * queue's context, then calls its `run` callback.
 *
 * The caller owns the returned event.
 * @param op the operation
 * @param queue where it runs
 * @param wait events to wait for, or NULL when `n_wait` is 0
 * @param n_wait how many
 * @param event_out receives an event that completes when the stage has;
 *        NULL on failure
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL arguments,
 *         or a `run` that succeeded without an event;
 *         #CLQ_ERROR_UNBOUND when a slot has no array (the log names it;
 *         `run` is not called); #CLQ_ERROR_CONTEXT_MISMATCH when a bound
 *         array belongs to another context than the queue; what `run`
 *         returns otherwise.
 */
CLQ_EXPORT int
clq_operation_run(struct clq_operation *op, struct clq_queue *queue,
		  struct clq_event *const *wait, size_t n_wait,
		  struct clq_event **event_out);

/**
 * Creates an empty sequence in a context.
 *
 * The sequence holds a reference to the context; the caller owns the
 * returned reference.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL;
 *         `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int
clq_sequence_create(struct clq_context *ctx, struct clq_sequence **seq_out);

/** Adds a reference. @return `seq`. */
CLQ_EXPORT struct clq_sequence *clq_sequence_ref(struct clq_sequence *seq);

/**
 * Drops a reference; NULL is a no-op. The last one drops the children,
 * their queues, the last run's events and the context; commands already
 * enqueued run on.
 */
CLQ_EXPORT void clq_sequence_unref(struct clq_sequence *seq);

/**
 * Appends a child: `op` runs after the children added before it (ordered
 * as @ref operation says), on `queue`, or on the queue given to
 * clq_sequence_run() when `queue` is NULL.
 *
 * The sequence takes a reference to `op` and to `queue`. The same
 * operation may be added more than once.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for a NULL sequence
 *         or operation; #CLQ_ERROR_CONTEXT_MISMATCH for a queue of another
 *         context; #CLQ_ERROR_IN_USE after clq_sequence_as_operation();
 *         `CL_OUT_OF_HOST_MEMORY` (nothing is added).
 */
CLQ_EXPORT int
clq_sequence_add(struct clq_sequence *seq, struct clq_operation *op,
		 struct clq_queue *queue);

/** The number of children; 0 for NULL. */
CLQ_EXPORT size_t clq_sequence_get_n_children(const struct clq_sequence *seq);

/**
 * Binds every unbound slot of every child: clq_slot_allocate() in the
 * sequence's context (a slot shared by children gets one array).
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL; as
 *         clq_slot_allocate() otherwise (slots allocated before the
 *         failure stay bound).
 */
CLQ_EXPORT int clq_sequence_ensure_bound(struct clq_sequence *seq);

/**
 * Runs the children in order, each after the earlier (and previous runs')
 * children it conflicts with, the first ones after `wait`.
 *
 * Every slot must be bound (clq_sequence_ensure_bound()); this is checked
 * before anything is enqueued. The caller owns the returned event, a
 * marker on `queue` that completes after every child.
 * @param seq the sequence
 * @param queue the queue of children added without one, and of the
 *        returned marker
 * @param wait events the children wait for, or NULL when `n_wait` is 0
 * @param n_wait how many
 * @param event_out receives the run's event; NULL on failure
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL arguments
 *         or a NULL entry in `wait`; #CLQ_ERROR_CONTEXT_MISMATCH for a
 *         queue, a `wait` entry or a bound array of another context
 *         (nothing is enqueued); #CLQ_ERROR_UNBOUND when a slot has no array
 *         (the log names the child and the slot; nothing is enqueued);
 *         `CL_OUT_OF_HOST_MEMORY` while planning (nothing is enqueued);
 *         what a child's run returns otherwise (the log names the
 *         child): the children enqueued before it stay enqueued, and the
 *         next run waits for them.
 */
CLQ_EXPORT int
clq_sequence_run(struct clq_sequence *seq, struct clq_queue *queue,
		 struct clq_event *const *wait, size_t n_wait,
		 struct clq_event **event_out);

/**
 * Registers a compound or alias (or any slot) with the sequence under a
 * name: clq_sequence_ensure_bound() allocates it before the children's
 * own slots, so that its members share what it allocates, and
 * clq_sequence_as_operation() names it so. The sequence takes a
 * reference to the slot.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL;
 *         #CLQ_ERROR_DUPLICATE for a name registered already;
 *         #CLQ_ERROR_IN_USE after clq_sequence_as_operation();
 *         `CL_OUT_OF_HOST_MEMORY` (nothing is registered).
 */
CLQ_EXPORT int clq_sequence_add_slot(struct clq_sequence *seq, const char *name,
				     struct clq_slot *slot);

/**
 * The slot registered as `name`, borrowed (valid while the sequence
 * lives); NULL when there is none, or for NULL.
 */
CLQ_EXPORT struct clq_slot *
clq_sequence_get_slot(const struct clq_sequence *seq, const char *name);

/**
 * Makes the sequence an operation, to be a child of another sequence
 * (nested sequences).
 *
 * The operation's slots are the sequence's registered slots under their
 * names, then each child's slots that no registered slot binds, under
 * "child:slot" (the child operation's name and the slot's; a slot shared
 * by children appears once). Running it runs the sequence
 * (clq_sequence_run()) on the queue it is given. From then on the
 * sequence takes no more children or slots, nor the operation slots
 * (#CLQ_ERROR_IN_USE), so its slots stay the operation's and no sequence
 * can contain itself. The
 * operation holds the sequence; the caller owns the returned reference.
 * @param seq the sequence
 * @param name the operation's name (copied)
 * @param op_out receives the operation; NULL on failure
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL;
 *         #CLQ_ERROR_DUPLICATE when two of the operation's slot names
 *         would be one (two children of one name with slots of one name,
 *         or a registered name equal to a "child:slot" one; the log gives
 *         the name); `CL_OUT_OF_HOST_MEMORY`. On
 *         failure the sequence is unchanged.
 */
CLQ_EXPORT int
clq_sequence_as_operation(struct clq_sequence *seq, const char *name,
			  struct clq_operation **op_out);

/*
 * Operations for clq's own kernels. Each builds its kernel's program once,
 * from the source embedded in the library (so a file of the same name on
 * the search path does not replace it), and makes its slots from the
 * dimensions it is given; bind them, or let a sequence allocate them
 * (clq_sequence_ensure_bound()). Tunable launch parameters (a work-group
 * size, a tile) are creation arguments, 0 asking for the default.
 * Running one such operation from several threads at once is safe (the
 * kernel's lock orders the argument setting, see @ref program).
 */

/** The work-group size clq_operation_create_fill() and
 *  clq_operation_create_scale() use when given 0, capped by the kernel's
 *  limit (clq_kernel_get_work_group_size()). */
#define CLQ_KERNEL_OP_DEFAULT_WORK_GROUP 256

/** The tile clq_operation_create_transpose() uses when given 0: that of
 *  cl/transpose.cl built without -DTRANSPOSE_TILE. */
#define CLQ_KERNEL_OP_DEFAULT_TILE 16

/**
 * Creates an operation that sets every element of a float array to one
 * value (cl/fill.cl), named "fill".
 *
 * Its one slot, "out", is #CLQ_DTYPE_FLOAT32 with the given dimensions
 * and #CLQ_ACCESS_WRITE. A run writes `value` to every element of the
 * bound array's memory, its padding included (padding values are
 * undefined anyway, see @ref array; katsdpsigproc's `Fill` does the
 * same), as one launch of `ceil(n / work_group_size)` work-groups, where
 * `n` is the padded element count. A run refuses an array whose padded
 * element count does not fit in a `cl_uint` (the kernel's `n`) with
 * #CLQ_ERROR_OVERFLOW.
 *
 * The caller owns the returned reference; the operation holds its slot,
 * its program and kernel, and through them the context.
 * @param ctx the context the kernel is built for
 * @param ndim the number of axes, 1 to #CLQ_MAX_DIMS
 * @param dimensions `ndim` dimensions, outermost first; the slot holds a
 *        reference to each
 * @param value the value written, as a 32-bit float
 * @param work_group_size work-items per work-group, from 1 to the
 *        kernel's limit (clq_kernel_get_work_group_size() of `fill`); 0
 *        for #CLQ_KERNEL_OP_DEFAULT_WORK_GROUP (capped by that limit)
 * @param op_out receives the operation; NULL on failure
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL pointers or
 *         `ndim` outside 1..#CLQ_MAX_DIMS; #CLQ_ERROR_OVERFLOW when the
 *         element count (the product of the sizes) does not fit in a
 *         `cl_uint`; #CLQ_ERROR_LOCAL_SIZE for a work-group size above
 *         the device's or the kernel's limit (the log says both);
 *         `CL_OUT_OF_HOST_MEMORY`; an OpenCL code from building the
 *         program (its log goes to the log handler).
 */
CLQ_EXPORT int
clq_operation_create_fill(struct clq_context *ctx, size_t ndim,
			  struct clq_dimension *const *dimensions, float value,
			  size_t work_group_size,
			  struct clq_operation **op_out);

/**
 * Creates an operation that applies `x = a * x + b`, `iters` times, to
 * every element of a float array in place (cl/scale.cl), named "scale".
 *
 * Its one slot, "data", is #CLQ_DTYPE_FLOAT32 with the given dimensions
 * and #CLQ_ACCESS_READ_WRITE. As clq_operation_create_fill(), a run
 * covers the bound array's whole memory, padding included, in one
 * launch, and refuses a padded element count above `CL_UINT_MAX` with
 * #CLQ_ERROR_OVERFLOW. Results are those of the device's single-precision
 * arithmetic (which may contract `a * x + b` into one fused operation).
 *
 * The caller owns the returned reference.
 * @param ctx the context the kernel is built for
 * @param ndim the number of axes, 1 to #CLQ_MAX_DIMS
 * @param dimensions `ndim` dimensions, outermost first
 * @param a the factor
 * @param b the offset
 * @param iters how many times the update is applied; 0 leaves the data
 *        as it is (the kernel still runs)
 * @param work_group_size as for clq_operation_create_fill(), for the
 *        kernel `scale`
 * @param op_out receives the operation; NULL on failure
 * @return as clq_operation_create_fill().
 */
CLQ_EXPORT int
clq_operation_create_scale(struct clq_context *ctx, size_t ndim,
			   struct clq_dimension *const *dimensions, float a,
			   float b, uint32_t iters, size_t work_group_size,
			   struct clq_operation **op_out);

/**
 * Creates an operation that transposes a float matrix (cl/transpose.cl),
 * named "transpose": `out[c][r] = in[r][c]`.
 *
 * Its slots: "in", #CLQ_DTYPE_FLOAT32 of dimensions (`rows`, `cols`),
 * #CLQ_ACCESS_READ; and "out", #CLQ_DTYPE_FLOAT32 of dimensions (`cols`,
 * `rows`), #CLQ_ACCESS_WRITE: the same two dimension objects, swapped, so
 * that the two slots always agree on the sizes (and a padding constraint
 * on either dimension applies to both slots). The arrays may be padded:
 * each row stride comes from the bound array's padded shape at each run,
 * and only the `rows` x `cols` elements are read and the `cols` x `rows`
 * written (never the padding). Any sizes work, multiples of the tile or
 * not: the launch is (`cols`, `rows`) rounded up to multiples of `tile`,
 * in `tile` x `tile` work-groups that each move one tile through local
 * memory (`tile` x (`tile` + 1) floats). A run refuses a padded row
 * length above `CL_UINT_MAX` with #CLQ_ERROR_OVERFLOW.
 *
 * The program is built with `-DTRANSPOSE_TILE=<tile>`. The caller owns
 * the returned reference.
 * @param ctx the context the kernel is built for
 * @param rows the input's outer axis, the output's inner one
 * @param cols the input's inner axis, the output's outer one
 * @param tile the tile's side in elements (work-groups are `tile` x
 *        `tile`); 0 for #CLQ_KERNEL_OP_DEFAULT_TILE
 * @param op_out receives the operation; NULL on failure
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL pointers;
 *         #CLQ_ERROR_OVERFLOW when `rows` or `cols` does not fit in a
 *         `cl_uint`; #CLQ_ERROR_LOCAL_SIZE when a `tile` x `tile`
 *         work-group exceeds the device's per-axis or total limit, or
 *         the built kernel's; #CLQ_ERROR_OUT_OF_RANGE when the tile's
 *         local memory exceeds the device's (the log says the sizes);
 *         `CL_OUT_OF_HOST_MEMORY`; an OpenCL code from building the
 *         program.
 */
CLQ_EXPORT int
clq_operation_create_transpose(struct clq_context *ctx,
			       struct clq_dimension *rows,
			       struct clq_dimension *cols, size_t tile,
			       struct clq_operation **op_out);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLQ_OPERATION_H */
