/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Operations (clq/operation.h): a name, slots by name and a run function.
 *
 * Slots are only ever appended, under the operation's mutex; the name,
 * the callbacks and the user data are fixed at creation.
 */
#include <stdlib.h>
#include <string.h>

#include "private.h"

struct named_slot {
	char *name;
	struct clq_slot *slot; /* held */
};

struct clq_operation {
	atomic_uint refs;
	char *name;
	struct clq_operation_ops ops;
	void *user_data;
	pthread_mutex_t lock;
	int frozen;	     /* under `lock`: takes no more slots */
	size_t n_slots, cap; /* under `lock` */
	struct named_slot *slots;
};

int
clq_operation_create(const char *name, const struct clq_operation_ops *ops,
		     void *user_data, struct clq_operation **op_out)
{
	static const char fn[] = "clq_operation_create";
	struct clq_operation *op;

	if (op_out)
		*op_out = NULL;
	if (!op_out)
		return clq__invalid(NULL, fn, "op_out is NULL");
	if (!name)
		return clq__invalid(NULL, fn, "name is NULL");
	if (!ops || !ops->run)
		return clq__invalid(NULL, fn, "ops or ops->run is NULL");
	op = calloc(1, sizeof(*op));
	if (!op)
		return CL_OUT_OF_HOST_MEMORY;
	op->name = strdup(name);
	if (!op->name) {
		free(op);
		return CL_OUT_OF_HOST_MEMORY;
	}
	if (pthread_mutex_init(&op->lock, NULL) != 0) {
		free(op->name);
		free(op);
		return CL_OUT_OF_HOST_MEMORY;
	}
	clq__ref_init(&op->refs);
	op->ops = *ops;
	op->user_data = user_data;
	*op_out = op;
	return CLQ_SUCCESS;
}

struct clq_operation *
clq_operation_ref(struct clq_operation *op)
{
	if (op)
		clq__ref_get(&op->refs);
	return op;
}

void
clq_operation_unref(struct clq_operation *op)
{
	if (!op || !clq__ref_put(&op->refs))
		return;
	if (op->ops.destroy)
		op->ops.destroy(op->user_data);
	for (size_t i = 0; i < op->n_slots; i++) {
		free(op->slots[i].name);
		clq_slot_unref(op->slots[i].slot);
	}
	free(op->slots);
	pthread_mutex_destroy(&op->lock);
	free(op->name);
	free(op);
}

const char *
clq_operation_get_name(const struct clq_operation *op)
{
	return op ? op->name : NULL;
}

/* The index of the slot named `name`, or n_slots; under the lock. */
static size_t
find_slot(const struct clq_operation *op, const char *name)
{
	size_t i;

	for (i = 0; i < op->n_slots; i++)
		if (strcmp(op->slots[i].name, name) == 0)
			break;
	return i;
}

int
clq_operation_add_slot(struct clq_operation *op, const char *name,
		       struct clq_slot *slot)
{
	static const char fn[] = "clq_operation_add_slot";
	char *copy;
	int rc = CLQ_SUCCESS;

	if (!op || !name || !slot)
		return clq__invalid(NULL, fn, "op, name or slot is NULL");
	copy = strdup(name);
	if (!copy)
		return CL_OUT_OF_HOST_MEMORY;
	pthread_mutex_lock(&op->lock);
	if (op->frozen) {
		rc = CLQ_ERROR_IN_USE;
	} else if (find_slot(op, name) < op->n_slots) {
		rc = CLQ_ERROR_DUPLICATE;
	} else if (op->n_slots == op->cap) {
		size_t cap = op->cap ? 2 * op->cap : 4;
		struct named_slot *s = realloc(op->slots, cap * sizeof(*s));

		if (s) {
			op->slots = s;
			op->cap = cap;
		} else {
			rc = CL_OUT_OF_HOST_MEMORY;
		}
	}
	if (rc == CLQ_SUCCESS) {
		op->slots[op->n_slots].name = copy;
		op->slots[op->n_slots].slot = clq_slot_ref(slot);
		op->n_slots++;
		copy = NULL;
	}
	pthread_mutex_unlock(&op->lock);
	free(copy);
	if (rc == CLQ_ERROR_DUPLICATE)
		clq__log(NULL, CLQ_LOG_ERROR,
			 "%s: operation '%s' has a slot named '%s' already", fn,
			 op->name, name);
	else if (rc == CLQ_ERROR_IN_USE)
		clq__log(NULL, CLQ_LOG_ERROR,
			 "%s: operation '%s' was made from a sequence and "
			 "takes no more slots (add them to the sequence's "
			 "children before clq_sequence_as_operation())",
			 fn, op->name);
	return rc;
}

struct clq_slot *
clq_operation_get_slot(const struct clq_operation *op, const char *name)
{
	struct clq_operation *o = (struct clq_operation *)op;
	struct clq_slot *slot = NULL;
	size_t i;

	if (!o || !name)
		return NULL;
	pthread_mutex_lock(&o->lock);
	i = find_slot(o, name);
	if (i < o->n_slots)
		slot = o->slots[i].slot;
	pthread_mutex_unlock(&o->lock);
	return slot;
}

size_t
clq_operation_get_n_slots(const struct clq_operation *op)
{
	struct clq_operation *o = (struct clq_operation *)op;
	size_t n;

	if (!o)
		return 0;
	pthread_mutex_lock(&o->lock);
	n = o->n_slots;
	pthread_mutex_unlock(&o->lock);
	return n;
}

struct clq_slot *
clq_operation_get_slot_at(const struct clq_operation *op, size_t index,
			  const char **name_out)
{
	struct clq_operation *o = (struct clq_operation *)op;
	struct clq_slot *slot = NULL;
	const char *name = NULL;

	if (o) {
		pthread_mutex_lock(&o->lock);
		if (index < o->n_slots) {
			slot = o->slots[index].slot;
			name = o->slots[index].name;
		}
		pthread_mutex_unlock(&o->lock);
	}
	if (name_out)
		*name_out = name;
	return slot;
}

void
clq__operation_freeze(struct clq_operation *op)
{
	pthread_mutex_lock(&op->lock);
	op->frozen = 1;
	pthread_mutex_unlock(&op->lock);
}

int
clq__operation_uses(struct clq_operation *op, struct clq_context *ctx,
		    const char *function, struct clq__slot_use *uses,
		    size_t cap, size_t *n_out)
{
	int rc = CLQ_SUCCESS;
	const char *unbound = NULL;
	size_t i;

	pthread_mutex_lock(&op->lock);
	*n_out = op->n_slots;
	for (i = 0; i < op->n_slots; i++) {
		/* a reference: another thread may rebind the slot */
		struct clq_device_array *a =
			clq_slot_ref_array(op->slots[i].slot);

		if (!a) {
			unbound = op->slots[i].name;
			rc = CLQ_ERROR_UNBOUND;
			break;
		}
		if (clq_device_array_get_context(a) != ctx) {
			unbound = op->slots[i].name;
			rc = CLQ_ERROR_CONTEXT_MISMATCH;
		} else if (uses && i < cap) {
			uses[i].root = a->root;
			uses[i].access = clq_slot_get_access(op->slots[i].slot);
		}
		clq_device_array_unref(a);
		if (rc < 0)
			break;
	}
	pthread_mutex_unlock(&op->lock);
	/* slot names live as long as the operation */
	if (rc == CLQ_ERROR_UNBOUND)
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: slot '%s' of operation '%s' is not bound to an "
			 "array (bind it, or clq_sequence_ensure_bound())",
			 function, unbound, op->name);
	else if (rc < 0)
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the array of slot '%s' of operation '%s' "
			 "belongs to another context",
			 function, unbound, op->name);
	return rc;
}

int
clq_operation_run(struct clq_operation *op, struct clq_queue *queue,
		  struct clq_event *const *wait, size_t n_wait,
		  struct clq_event **event_out)
{
	static const char fn[] = "clq_operation_run";
	struct clq_context *ctx;
	size_t n;
	int rc;

	if (event_out)
		*event_out = NULL;
	if (!op || !queue || !event_out || (n_wait && !wait))
		return clq__invalid(NULL, fn,
				    "op, queue, event_out or wait is NULL");
	ctx = clq_queue_get_context(queue);
	rc = clq__operation_uses(op, ctx, fn, NULL, 0, &n);
	if (rc < 0)
		return rc;
	rc = op->ops.run(op, queue, wait, n_wait, event_out, op->user_data);
	if (rc < 0) {
		clq_event_unref(*event_out);
		*event_out = NULL;
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the run callback of operation '%s' failed: %s",
			 fn, op->name, clq_error_name(rc));
		return rc;
	}
	if (!*event_out) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the run callback of operation '%s' succeeded "
			 "but gave no event",
			 fn, op->name);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	return CLQ_SUCCESS;
}
