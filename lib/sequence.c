/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sequences (clq/operation.h): children run in order, each waiting for
 * the earlier children (and the previous run's) that its slots conflict
 * with.
 *
 * The plan is the conflict matrix of the children, made from what their
 * slots are bound to (root buffer and access). Each run first collects
 * those again into a scratch list (no allocation once it is large enough)
 * and makes the plan again only when they changed. Everything is under the
 * sequence's mutex, the children's run callbacks included.
 */
#include <stdlib.h>
#include <string.h>

#include "private.h"

struct child {
	struct clq_operation *op; /* held */
	struct clq_queue *queue;  /* held, or NULL: the run's queue */
	struct clq_event *prev;	  /* held: its event of the last run */
	struct clq_event *cur;	  /* held during a run */
	size_t start;		  /* its first entry in `uses` */
	size_t scratch_start;	  /* ... in `scratch` */
};

/* A compound or alias registered with clq_sequence_add_slot(). */
struct group {
	char *name;
	struct clq_slot *slot; /* held */
};

struct clq_sequence {
	atomic_uint refs;
	struct clq_context *ctx; /* held */
	pthread_mutex_t lock;	 /* guards the rest */
	int frozen;		 /* made an operation: no more additions */
	size_t n, cap;
	struct child *children;
	size_t n_groups, groups_cap;
	struct group *groups;
	int planned;  /* `uses` and `conflict` describe the children */
	int prev_all; /* the next run waits for all of the last run */
	/* The plan: the children's slot uses, one after another. */
	struct clq__slot_use *uses;
	size_t n_uses, uses_cap;
	struct clq__slot_use *scratch;
	size_t scratch_cap;
	unsigned char *conflict; /* n x n: whether i and j conflict */
	size_t conflict_n;
	struct clq_event **waits; /* a wait list, reused */
	size_t waits_cap;
};

int
clq_sequence_create(struct clq_context *ctx, struct clq_sequence **seq_out)
{
	struct clq_sequence *seq;

	if (seq_out)
		*seq_out = NULL;
	if (!ctx || !seq_out)
		return clq__invalid(ctx, "clq_sequence_create",
				    "ctx or seq_out is NULL");
	seq = calloc(1, sizeof(*seq));
	if (!seq)
		return CL_OUT_OF_HOST_MEMORY;
	if (pthread_mutex_init(&seq->lock, NULL) != 0) {
		free(seq);
		return CL_OUT_OF_HOST_MEMORY;
	}
	clq__ref_init(&seq->refs);
	seq->ctx = clq_context_ref(ctx);
	*seq_out = seq;
	return CLQ_SUCCESS;
}

struct clq_sequence *
clq_sequence_ref(struct clq_sequence *seq)
{
	if (seq)
		clq__ref_get(&seq->refs);
	return seq;
}

void
clq_sequence_unref(struct clq_sequence *seq)
{
	if (!seq || !clq__ref_put(&seq->refs))
		return;
	for (size_t i = 0; i < seq->n; i++) {
		clq_event_unref(seq->children[i].prev);
		clq_queue_unref(seq->children[i].queue);
		clq_operation_unref(seq->children[i].op);
	}
	free(seq->children);
	for (size_t i = 0; i < seq->n_groups; i++) {
		free(seq->groups[i].name);
		clq_slot_unref(seq->groups[i].slot);
	}
	free(seq->groups);
	free(seq->uses);
	free(seq->scratch);
	free(seq->conflict);
	free(seq->waits);
	pthread_mutex_destroy(&seq->lock);
	clq_context_unref(seq->ctx);
	free(seq);
}

/* Logs that a sequence made an operation takes no more additions. */
static int
frozen(const struct clq_sequence *seq, const char *function)
{
	clq__log(seq->ctx, CLQ_LOG_ERROR,
		 "%s: the sequence was made an operation "
		 "(clq_sequence_as_operation()) and takes no more children "
		 "or slots",
		 function);
	return CLQ_ERROR_IN_USE;
}

int
clq_sequence_add(struct clq_sequence *seq, struct clq_operation *op,
		 struct clq_queue *queue)
{
	static const char fn[] = "clq_sequence_add";
	int rc = CLQ_SUCCESS;

	if (!seq || !op)
		return clq__invalid(seq ? seq->ctx : NULL, fn,
				    "seq or op is NULL");
	if (queue && clq_queue_get_context(queue) != seq->ctx) {
		clq__log(seq->ctx, CLQ_LOG_ERROR,
			 "%s: the queue belongs to another context than the "
			 "sequence",
			 fn);
		return CLQ_ERROR_CONTEXT_MISMATCH;
	}
	pthread_mutex_lock(&seq->lock);
	if (seq->frozen) {
		rc = frozen(seq, fn);
	} else if (seq->n == seq->cap) {
		size_t cap = seq->cap ? 2 * seq->cap : 4;
		struct child *c = realloc(seq->children, cap * sizeof(*c));

		if (c) {
			seq->children = c;
			seq->cap = cap;
		} else {
			rc = CL_OUT_OF_HOST_MEMORY;
		}
	}
	if (rc == CLQ_SUCCESS) {
		struct child *c = &seq->children[seq->n++];

		memset(c, 0, sizeof(*c));
		c->op = clq_operation_ref(op);
		c->queue = queue ? clq_queue_ref(queue) : NULL;
		seq->planned = 0;
	}
	pthread_mutex_unlock(&seq->lock);
	return rc;
}

size_t
clq_sequence_get_n_children(const struct clq_sequence *seq)
{
	struct clq_sequence *s = (struct clq_sequence *)seq;
	size_t n;

	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	n = s->n;
	pthread_mutex_unlock(&s->lock);
	return n;
}

int
clq_sequence_ensure_bound(struct clq_sequence *seq)
{
	int rc = CLQ_SUCCESS;

	if (!seq)
		return clq__invalid(NULL, "clq_sequence_ensure_bound",
				    "seq is NULL");
	pthread_mutex_lock(&seq->lock);
	/* Compounds and aliases first: they bind their members. */
	for (size_t i = 0; rc == CLQ_SUCCESS && i < seq->n_groups; i++)
		rc = clq_slot_allocate(seq->groups[i].slot, seq->ctx);
	for (size_t i = 0; rc == CLQ_SUCCESS && i < seq->n; i++) {
		struct clq_operation *op = seq->children[i].op;
		struct clq_slot *slot;

		for (size_t k = 0;
		     rc == CLQ_SUCCESS &&
		     (slot = clq_operation_get_slot_at(op, k, NULL));
		     k++)
			rc = clq_slot_allocate(slot, seq->ctx);
	}
	pthread_mutex_unlock(&seq->lock);
	return rc;
}

/* Grows `*p` (of `*cap` elements of `size` bytes) to at least `need`. */
static int
reserve(void *p, size_t *cap, size_t need, size_t size)
{
	void **pp = p;
	void *q;
	size_t n = *cap ? *cap : 8;

	if (need <= *cap)
		return CLQ_SUCCESS;
	while (n < need)
		n *= 2;
	if (n > SIZE_MAX / size)
		return CL_OUT_OF_HOST_MEMORY;
	q = realloc(*pp, n * size);
	if (!q)
		return CL_OUT_OF_HOST_MEMORY;
	*pp = q;
	*cap = n;
	return CLQ_SUCCESS;
}

/* What the children's slots are bound to now, into `scratch`. */
static int
collect(struct clq_sequence *seq, const char *function, size_t *n_out)
{
	size_t pos = 0;
	int rc;

	for (size_t i = 0; i < seq->n; i++) {
		struct child *c = &seq->children[i];
		size_t k;

		c->scratch_start = pos;
		for (;;) {
			rc = clq__operation_uses(
				c->op, seq->ctx, function,
				seq->scratch ? seq->scratch + pos : NULL,
				seq->scratch_cap - pos, &k);
			if (rc < 0)
				return rc;
			if (pos + k <= seq->scratch_cap)
				break;
			rc = reserve(&seq->scratch, &seq->scratch_cap, pos + k,
				     sizeof(*seq->scratch));
			if (rc < 0)
				return rc;
		}
		pos += k;
	}
	*n_out = pos;
	return CLQ_SUCCESS;
}

/* Whether the plan still describes what `collect` found. */
static int
plan_holds(const struct clq_sequence *seq, size_t n_uses)
{
	if (!seq->planned || n_uses != seq->n_uses)
		return 0;
	for (size_t i = 0; i < seq->n; i++)
		if (seq->children[i].start != seq->children[i].scratch_start)
			return 0;
	for (size_t k = 0; k < n_uses; k++)
		if (seq->uses[k].root != seq->scratch[k].root ||
		    seq->uses[k].access != seq->scratch[k].access)
			return 0;
	return 1;
}

static int
uses_conflict(const struct clq__slot_use *a, size_t na,
	      const struct clq__slot_use *b, size_t nb)
{
	for (size_t x = 0; x < na; x++)
		for (size_t y = 0; y < nb; y++)
			if (a[x].root == b[y].root &&
			    ((a[x].access | b[y].access) & CLQ_ACCESS_WRITE))
				return 1;
	return 0;
}

/* Makes the plan from `scratch` (the new `uses`). */
static int
plan(struct clq_sequence *seq, size_t n_uses)
{
	struct clq__slot_use *t;
	size_t n = seq->n, cap;

	if (n > seq->conflict_n) {
		unsigned char *m;

		if (n > SIZE_MAX / n)
			return CL_OUT_OF_HOST_MEMORY;
		m = realloc(seq->conflict, n * n);
		if (!m)
			return CL_OUT_OF_HOST_MEMORY;
		seq->conflict = m;
		seq->conflict_n = n;
	}
	/* the new uses become the plan's; the old array the next scratch */
	t = seq->uses;
	cap = seq->uses_cap;
	seq->uses = seq->scratch;
	seq->uses_cap = seq->scratch_cap;
	seq->scratch = t;
	seq->scratch_cap = cap;
	seq->n_uses = n_uses;
	for (size_t i = 0; i < n; i++)
		seq->children[i].start = seq->children[i].scratch_start;
	for (size_t i = 0; i < n; i++) {
		size_t si = seq->children[i].start;
		size_t ni =
			(i + 1 < n ? seq->children[i + 1].start : n_uses) - si;

		for (size_t j = 0; j <= i; j++) {
			size_t sj = seq->children[j].start;
			size_t nj = (j + 1 < n ? seq->children[j + 1].start
					       : n_uses) -
				    sj;
			unsigned char c = (unsigned char)uses_conflict(
				seq->uses + si, ni, seq->uses + sj, nj);

			seq->conflict[i * n + j] = c;
			seq->conflict[j * n + i] = c;
		}
	}
	/* What the last run touched is known no more: wait for all of it. */
	seq->prev_all = 1;
	seq->planned = 1;
	return CLQ_SUCCESS;
}

/*
 * Whether a child's event of the last run failed, and is dropped: its
 * command did nothing, and waiting for it would fail every later run.
 * Failures come from user events, so the status is asked only once one of
 * the context has failed (as the ordering does).
 */
static int
prev_failed(struct clq_sequence *seq, struct child *c)
{
	int status = CL_COMPLETE;

	if (!atomic_load(&seq->ctx->failsafe.user_failed) ||
	    clq_event_get_status(c->prev, &status) < 0 || status >= 0)
		return 0;
	clq_event_unref(c->prev);
	c->prev = NULL;
	return 1;
}

/* Enqueues the children; *done_out receives how many were. */
static int
run_children(struct clq_sequence *seq, struct clq_queue *queue,
	     struct clq_event *const *wait, size_t n_wait, size_t *done_out)
{
	size_t n = seq->n, i;
	int rc = CLQ_SUCCESS;

	for (i = 0; i < n; i++) {
		struct child *c = &seq->children[i];
		const unsigned char *row = seq->conflict + i * n;
		size_t k = 0;

		for (size_t j = 0; j < i; j++)
			if (row[j])
				seq->waits[k++] = seq->children[j].cur;
		if (k == 0)
			for (size_t w = 0; w < n_wait; w++)
				seq->waits[k++] = wait[w];
		for (size_t j = 0; j < n; j++)
			if (seq->children[j].prev &&
			    (seq->prev_all || row[j]) &&
			    !prev_failed(seq, &seq->children[j]))
				seq->waits[k++] = seq->children[j].prev;
		rc = clq_operation_run(c->op, c->queue ? c->queue : queue,
				       seq->waits, k, &c->cur);
		if (rc < 0) {
			clq__log(seq->ctx, CLQ_LOG_ERROR,
				 "clq_sequence_run: child %zu ('%s') failed: "
				 "%s",
				 i, clq_operation_get_name(c->op),
				 clq_error_name(rc));
			break;
		}
	}
	*done_out = i;
	return rc;
}

int
clq_sequence_run(struct clq_sequence *seq, struct clq_queue *queue,
		 struct clq_event *const *wait, size_t n_wait,
		 struct clq_event **event_out)
{
	static const char fn[] = "clq_sequence_run";
	size_t n_uses, done = 0, k = 0, n;
	int rc;

	if (event_out)
		*event_out = NULL;
	if (!seq || !queue || !event_out || (n_wait && !wait))
		return clq__invalid(seq ? seq->ctx : NULL, fn,
				    "seq, queue, event_out or wait is NULL");
	if (clq_queue_get_context(queue) != seq->ctx) {
		clq__log(seq->ctx, CLQ_LOG_ERROR,
			 "%s: the queue belongs to another context than the "
			 "sequence",
			 fn);
		return CLQ_ERROR_CONTEXT_MISMATCH;
	}
	for (size_t w = 0; w < n_wait; w++) {
		if (!wait[w]) {
			clq__log(seq->ctx, CLQ_LOG_ERROR,
				 "%s: wait list entry %zu is NULL", fn, w);
			return CLQ_ERROR_INVALID_ARGUMENT;
		}
		if (clq_event_get_context(wait[w]) != seq->ctx) {
			clq__log(seq->ctx, CLQ_LOG_ERROR,
				 "%s: wait list entry %zu belongs to another "
				 "context",
				 fn, w);
			return CLQ_ERROR_CONTEXT_MISMATCH;
		}
	}
	pthread_mutex_lock(&seq->lock);
	n = seq->n;
	rc = collect(seq, fn, &n_uses);
	if (rc == CLQ_SUCCESS && !plan_holds(seq, n_uses))
		rc = plan(seq, n_uses);
	/* a child waits for at most: the earlier children or the caller's
	 * list, and the last run's children */
	if (rc == CLQ_SUCCESS)
		rc = reserve(&seq->waits, &seq->waits_cap,
			     (n > n_wait ? n : n_wait) + n + 1,
			     sizeof(*seq->waits));
	if (rc < 0)
		goto out;
	rc = run_children(seq, queue, wait, n_wait, &done);
	for (size_t i = 0; i < done; i++) {
		struct child *c = &seq->children[i];

		clq_event_unref(c->prev);
		c->prev = c->cur;
		c->cur = NULL;
	}
	if (rc < 0) {
		/* The failed child's callback may have enqueued some. */
		seq->prev_all = 1;
		goto out;
	}
	seq->prev_all = 0;
	/* The marker waits for the children no later child waits for. */
	for (size_t i = 0; i < n; i++) {
		int sink = 1;

		for (size_t j = i + 1; sink && j < n; j++)
			sink = !seq->conflict[j * n + i];
		if (sink)
			seq->waits[k++] = seq->children[i].prev;
	}
	if (n == 0)
		rc = clq_queue_enqueue_marker(queue, wait, n_wait, event_out);
	else
		rc = clq_queue_enqueue_marker(queue, seq->waits, k, event_out);
out:
	pthread_mutex_unlock(&seq->lock);
	return rc;
}

/* The compound or alias registered as `name`, or NULL; under the lock. */
static struct clq_slot *
find_group(const struct clq_sequence *seq, const char *name)
{
	for (size_t i = 0; i < seq->n_groups; i++)
		if (strcmp(seq->groups[i].name, name) == 0)
			return seq->groups[i].slot;
	return NULL;
}

int
clq_sequence_add_slot(struct clq_sequence *seq, const char *name,
		      struct clq_slot *slot)
{
	static const char fn[] = "clq_sequence_add_slot";
	char *copy;
	int rc;

	if (!seq || !name || !slot)
		return clq__invalid(seq ? seq->ctx : NULL, fn,
				    "seq, name or slot is NULL");
	copy = strdup(name);
	if (!copy)
		return CL_OUT_OF_HOST_MEMORY;
	pthread_mutex_lock(&seq->lock);
	if (seq->frozen) {
		rc = frozen(seq, fn);
	} else if (find_group(seq, name)) {
		clq__log(seq->ctx, CLQ_LOG_ERROR,
			 "%s: the sequence has a slot named '%s' already", fn,
			 name);
		rc = CLQ_ERROR_DUPLICATE;
	} else {
		rc = reserve(&seq->groups, &seq->groups_cap, seq->n_groups + 1,
			     sizeof(*seq->groups));
	}
	if (rc == CLQ_SUCCESS) {
		seq->groups[seq->n_groups].name = copy;
		seq->groups[seq->n_groups].slot = clq_slot_ref(slot);
		seq->n_groups++;
		copy = NULL;
	}
	pthread_mutex_unlock(&seq->lock);
	free(copy);
	return rc;
}

struct clq_slot *
clq_sequence_get_slot(const struct clq_sequence *seq, const char *name)
{
	struct clq_sequence *s = (struct clq_sequence *)seq;
	struct clq_slot *slot;

	if (!s || !name)
		return NULL;
	pthread_mutex_lock(&s->lock);
	slot = find_group(s, name);
	pthread_mutex_unlock(&s->lock);
	return slot;
}

static int
run_as_operation(struct clq_operation *op, struct clq_queue *queue,
		 struct clq_event *const *wait, size_t n_wait,
		 struct clq_event **event_out, void *user_data)
{
	return clq_sequence_run(user_data, queue, wait, n_wait, event_out);
}

static void
destroy_as_operation(void *user_data)
{
	clq_sequence_unref(user_data);
}

/* Whether `op` has `slot` (the same object) already. */
static int
has_slot(const struct clq_operation *op, const struct clq_slot *slot)
{
	const struct clq_slot *s;

	for (size_t i = 0; (s = clq_operation_get_slot_at(op, i, NULL)); i++)
		if (s == slot)
			return 1;
	return 0;
}

/* Whether a registered compound or alias binds `slot`. */
static int
grouped(const struct clq_sequence *seq, const struct clq_slot *slot)
{
	for (size_t i = 0; i < seq->n_groups; i++)
		if (clq__slot_binds(seq->groups[i].slot, slot))
			return 1;
	return 0;
}

/* Adds a child's slot to the sequence's operation as "child:slot". */
static int
add_child_slot(struct clq_operation *op, const char *child, const char *name,
	       struct clq_slot *slot)
{
	size_t a = strlen(child), b = strlen(name);
	char *full = malloc(a + b + 2);
	int rc;

	if (!full)
		return CL_OUT_OF_HOST_MEMORY;
	memcpy(full, child, a);
	full[a] = ':';
	memcpy(full + a + 1, name, b + 1);
	rc = clq_operation_add_slot(op, full, slot);
	free(full);
	return rc;
}

/* The operation's slots: the groups, then the children's other slots. */
static int
add_slots(struct clq_sequence *seq, struct clq_operation *op)
{
	int rc = CLQ_SUCCESS;

	for (size_t i = 0; rc == CLQ_SUCCESS && i < seq->n_groups; i++)
		rc = clq_operation_add_slot(op, seq->groups[i].name,
					    seq->groups[i].slot);
	for (size_t i = 0; rc == CLQ_SUCCESS && i < seq->n; i++) {
		struct clq_operation *child = seq->children[i].op;
		struct clq_slot *slot;
		const char *name;

		for (size_t k = 0;
		     rc == CLQ_SUCCESS &&
		     (slot = clq_operation_get_slot_at(child, k, &name));
		     k++)
			if (!grouped(seq, slot) && !has_slot(op, slot))
				rc = add_child_slot(
					op, clq_operation_get_name(child), name,
					slot);
	}
	return rc;
}

int
clq_sequence_as_operation(struct clq_sequence *seq, const char *name,
			  struct clq_operation **op_out)
{
	static const char fn[] = "clq_sequence_as_operation";
	static const struct clq_operation_ops ops = {run_as_operation,
						     destroy_as_operation};
	struct clq_operation *op = NULL;
	int rc;

	if (op_out)
		*op_out = NULL;
	if (!seq || !name || !op_out)
		return clq__invalid(seq ? seq->ctx : NULL, fn,
				    "seq, name or op_out is NULL");
	pthread_mutex_lock(&seq->lock);
	rc = clq_operation_create(name, &ops, seq, &op);
	if (rc == CLQ_SUCCESS) {
		/* the operation holds the sequence from here on */
		clq_sequence_ref(seq);
		rc = add_slots(seq, op);
	}
	if (rc == CLQ_SUCCESS) {
		clq__operation_freeze(op);
		seq->frozen = 1;
	}
	pthread_mutex_unlock(&seq->lock);
	if (rc < 0) {
		clq_operation_unref(op);
		return rc;
	}
	*op_out = op;
	return CLQ_SUCCESS;
}
