/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ordering across queues (clq/order.h): access tracking per root buffer,
 * happens-before by vector clocks, the CHECK refusal and the AUTO waits.
 *
 * Every queue of a context has a slot, a small index. A queue's slot
 * numbers its commands 1, 2, 3... (`seq`), and its clock says, for every
 * other slot, the newest command known to happen before the queue's next
 * one. A wait for an event merges the event's stamp (its queue's clock
 * then, and its own seq) into the waiting queue's clock, so knowledge
 * passes along any chain of waits, markers and barriers. An earlier
 * command E (slot p, seq s) is ordered before a new command on queue Q
 * when p is Q's slot, when Q's clock (with this command's wait list
 * merged in) has v[p] >= s, or when E has ended.
 *
 * Per root buffer, the last write and, per slot, the newest read since;
 * a write ordered after all of them replaces them all, a read replaces
 * its own slot's. Ended accesses are released when met.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "private.h"

/* One tracked access: the command's event (held) and what to call it. */
struct use {
	struct clq_event *ev;
	const char *what; /* the command's label: "write", "kernel"... */
	struct clq_kernel *kernel; /* held: a kernel launch's kernel */
};

struct clq__buffer {
	struct clq__buffer *next; /* in its bucket */
	cl_mem root;
	unsigned arrays; /* device arrays made on it */
	struct use write;
	struct use *reads; /* the newest read per slot since the write */
	unsigned n_reads, cap_reads;
};

static const char *const mode_names[] = {"manual", "check", "auto"};

int
clq__order_init(struct clq_context *ctx)
{
	struct clq__order *o = &ctx->order;
	const char *env = getenv("CLQ_ORDERING");
	size_t start = 0, len = env ? strlen(env) : 0;
	int mode = -1;

	/* Blanks around the value (shell quoting) are ignored. */
	while (start < len && (env[start] == ' ' || env[start] == '\t'))
		start++;
	while (len > start && (env[len - 1] == ' ' || env[len - 1] == '\t'))
		len--;
	if (start == len)
		mode = CLQ_ORDERING_MANUAL;
	for (int i = 0; mode < 0 && i < 3; i++)
		if (len - start == strlen(mode_names[i]) &&
		    strncasecmp(env + start, mode_names[i], len - start) == 0)
			mode = i;
	if (mode < 0) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "clq_context_create: CLQ_ORDERING is '%s'; expected "
			 "manual, check or auto (or unset)",
			 env);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	memset(o, 0, sizeof(*o));
	atomic_init(&o->state, mode);
	if (pthread_mutex_init(&o->lock, NULL) != 0)
		return CL_OUT_OF_HOST_MEMORY;
	return CLQ_SUCCESS;
}

void
clq__order_destroy(struct clq__order *o)
{
	/* Arrays and queues hold the context: all gone by now. */
	for (unsigned i = 0; i < o->n_slots; i++)
		if (o->slots[i].retired)
			clReleaseEvent(o->slots[i].retired);
	free(o->slots);
	free(o->buckets);
	pthread_mutex_destroy(&o->lock);
}

int
clq_context_set_ordering(struct clq_context *ctx, enum clq_ordering mode)
{
	static const char fn[] = "clq_context_set_ordering";
	int s;

	if (!ctx)
		return clq__invalid(NULL, fn, "ctx is NULL");
	if ((unsigned)mode > CLQ_ORDERING_AUTO) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: mode %d is not CLQ_ORDERING_MANUAL, _CHECK or "
			 "_AUTO",
			 fn, (int)mode);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	s = atomic_load(&ctx->order.state);
	do {
		if ((s & CLQ__ORDER_STARTED) &&
		    (s & CLQ__ORDER_MODE) == (int)mode)
			return CLQ_SUCCESS; /* already so: nothing changes */
		if (s & CLQ__ORDER_STARTED) {
			clq__log(ctx, CLQ_LOG_ERROR,
				 "%s: the context has enqueued commands in "
				 "mode %s; the mode is set before the first",
				 fn, mode_names[s & CLQ__ORDER_MODE]);
			return CLQ_ERROR_IN_USE;
		}
	} while (!atomic_compare_exchange_weak(&ctx->order.state, &s,
					       (int)mode));
	return CLQ_SUCCESS;
}

enum clq_ordering
clq_context_get_ordering(const struct clq_context *ctx)
{
	return ctx ? (enum clq_ordering)clq__ordering(ctx)
		   : CLQ_ORDERING_MANUAL;
}

int
clq_context_get_ordering_stats(struct clq_context *ctx,
			       struct clq_ordering_stats *out)
{
	if (!ctx || !out)
		return clq__invalid(ctx, "clq_context_get_ordering_stats",
				    "ctx or out is NULL");
	pthread_mutex_lock(&ctx->order.lock);
	*out = ctx->order.stats;
	pthread_mutex_unlock(&ctx->order.lock);
	return CLQ_SUCCESS;
}

/* Clocks. */

static struct clq__clock *
clock_new(unsigned slot, const uint64_t *v, unsigned n)
{
	struct clq__clock *c = malloc(sizeof(*c) + n * sizeof(c->v[0]));

	if (!c)
		return NULL;
	clq__ref_init(&c->refs);
	c->slot = slot;
	c->n = n;
	if (n)
		memcpy(c->v, v, n * sizeof(c->v[0]));
	return c;
}

/* Queue slots. */

/* The execution status of `ev`'s command, CL_COMPLETE confirmed (NVIDIA
 * shows a command failed through one before it as CL_COMPLETE at first:
 * see clq__cl_event_status()); a query the driver refuses reads as a
 * failure (nothing will run any more). */
static cl_int
exec_status(cl_event ev)
{
	cl_int status;

	if (clq__cl_event_status(ev, &status) != CL_SUCCESS)
		return CL_INVALID_EVENT;
	return status;
}

/* A free slot whose old queue's commands have all completed, or n_slots
 * if none. */
static unsigned
reusable_slot(struct clq__order *o)
{
	for (unsigned i = 0; i < o->n_slots; i++) {
		struct clq__slot *s = &o->slots[i];

		cl_int status;

		if (s->queue || s->dead)
			continue;
		status = s->retired ? exec_status(s->retired) : CL_COMPLETE;
		if (status > CL_COMPLETE)
			continue;
		/* A failed marker proves nothing: PoCL fails commands at once
		 * through queue order while earlier ones still wait. */
		if (status < 0) {
			clReleaseEvent(s->retired);
			s->retired = NULL;
			s->dead = 1;
			continue;
		}
		if (s->retired)
			clReleaseEvent(s->retired);
		s->retired = NULL;
		return i;
	}
	return o->n_slots;
}

int
clq__order_queue_add(struct clq_queue *q)
{
	struct clq__order *o = &q->ctx->order;
	struct clq__clock *clock = clock_new(0, NULL, 0);
	unsigned i;

	if (!clock)
		return CL_OUT_OF_HOST_MEMORY;
	pthread_mutex_lock(&o->lock);
	i = reusable_slot(o);
	if (i == o->n_slots) {
		if (o->n_slots == o->cap_slots) {
			unsigned cap = o->cap_slots ? 2 * o->cap_slots : 4;
			struct clq__slot *s =
				realloc(o->slots, cap * sizeof(*s));

			if (!s) {
				pthread_mutex_unlock(&o->lock);
				free(clock);
				return CL_OUT_OF_HOST_MEMORY;
			}
			o->slots = s;
			o->cap_slots = cap;
		}
		memset(&o->slots[i], 0, sizeof(o->slots[i]));
		o->n_slots++;
	}
	o->slots[i].queue = q;
	clock->slot = i;
	q->slot = i;
	q->clock = clock;
	pthread_mutex_unlock(&o->lock);
	return CLQ_SUCCESS;
}

void
clq__order_queue_remove(struct clq_queue *q)
{
	struct clq__order *o = &q->ctx->order;
	struct clq__slot *s;

	pthread_mutex_lock(&o->lock);
	s = &o->slots[q->slot];
	s->queue = NULL;
	/* Clocks may still speak of this slot's commands: the next queue
	 * gets it once they have all ended. Without tracking (MANUAL), no
	 * clock says anything. */
	if (clq__ordering(q->ctx) != CLQ_ORDERING_MANUAL && s->seq &&
	    clEnqueueMarkerWithWaitList(q->cl, 0, NULL, &s->retired) !=
		    CL_SUCCESS) {
		s->retired = NULL;
		s->dead = 1;
	}
	pthread_mutex_unlock(&o->lock);
	clq__clock_drop(q->clock);
	q->clock = NULL;
	free(q->name);
	q->name = NULL;
}

int
clq_queue_set_label(struct clq_queue *queue, const char *label)
{
	char *copy = NULL;

	if (!queue)
		return clq__invalid(NULL, "clq_queue_set_label",
				    "queue is NULL");
	if (label && *label && !(copy = strdup(label)))
		return CL_OUT_OF_HOST_MEMORY;
	pthread_mutex_lock(&queue->ctx->order.lock);
	free(queue->name);
	queue->name = copy;
	pthread_mutex_unlock(&queue->ctx->order.lock);
	return CLQ_SUCCESS;
}

/* Copies `label` (or "") to buf, as snprintf(); lock held. */
static size_t
copy_label(const char *label, char *buf, size_t size)
{
	size_t len = label ? strlen(label) : 0;

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;

		if (n)
			memcpy(buf, label, n);
		buf[n] = '\0';
	}
	return len;
}

size_t
clq_queue_get_label(const struct clq_queue *queue, char *buf, size_t size)
{
	size_t len;

	if (!queue || (!buf && size))
		return 0;
	pthread_mutex_lock(&queue->ctx->order.lock);
	len = copy_label(queue->name, buf, size);
	pthread_mutex_unlock(&queue->ctx->order.lock);
	return len;
}

/* What the host has seen. */

static void
see(struct clq__order *o, unsigned slot, uint64_t seq)
{
	if (seq > o->slots[slot].seen)
		o->slots[slot].seen = seq;
}

void
clq__order_seen(struct clq_event *e, int status)
{
	const struct clq__clock *c = e->clock;
	struct clq__order *o;

	if (!c || status != CL_COMPLETE)
		return;
	o = &e->ctx->order;
	pthread_mutex_lock(&o->lock);
	e->seen = 1;
	for (unsigned k = 0; k < c->n; k++)
		see(o, k, c->v[k]);
	see(o, c->slot, e->seq);
	pthread_mutex_unlock(&o->lock);
}
void
clq__order_stand_in(struct clq_event *stand_in, const struct clq_event *e)
{
	/* Stamped once, at the enqueue that returned `e`; held by `e`. */
	if (!e->clock || stand_in->clock)
		return;
	stand_in->clock = clq__clock_hold(e->clock);
	stand_in->seq = e->seq;
}

uint64_t
clq__order_finish_begin(struct clq_queue *q)
{
	struct clq__order *o = &q->ctx->order;
	uint64_t seq;

	if (clq__ordering(q->ctx) == CLQ_ORDERING_MANUAL)
		return 0;
	pthread_mutex_lock(&o->lock);
	seq = o->slots[q->slot].seq;
	pthread_mutex_unlock(&o->lock);
	return seq;
}

/* Only the queue's own commands: one of them may have failed while a
 * command it waited for still ran, so its clock proves nothing. */
void
clq__order_finished(struct clq_queue *q, uint64_t seq)
{
	struct clq__order *o = &q->ctx->order;

	if (!seq)
		return;
	pthread_mutex_lock(&o->lock);
	see(o, q->slot, seq);
	pthread_mutex_unlock(&o->lock);
}

int
clq__order_live_queues(struct clq_context *ctx,
		       struct clq__live_queue **queues_out, size_t *n_out)
{
	struct clq__order *o = &ctx->order;
	struct clq__live_queue *v = NULL;
	size_t n = 0;

	*queues_out = NULL;
	*n_out = 0;
	pthread_mutex_lock(&o->lock);
	if (o->n_slots && !(v = malloc(o->n_slots * sizeof(*v)))) {
		pthread_mutex_unlock(&o->lock);
		return CL_OUT_OF_HOST_MEMORY;
	}
	/* A queue in its slot still holds its handle (its unref frees the
	 * slot first), so the handle can be held here. */
	for (unsigned i = 0; i < o->n_slots; i++) {
		const struct clq_queue *q = o->slots[i].queue;

		if (!q)
			continue;
		clq__ref_get(&q->handle->refs);
		v[n++] =
			(struct clq__live_queue){q->handle, i, o->slots[i].seq};
	}
	pthread_mutex_unlock(&o->lock);
	if (!n) {
		free(v);
		v = NULL;
	}
	*queues_out = v;
	*n_out = n;
	return CLQ_SUCCESS;
}

/* A slot's sequence numbers only grow, across the queues that use it in
 * turn: what ended up to `seq` stays ended even if the slot changed hands
 * meanwhile. */
void
clq__order_slot_finished(struct clq_context *ctx, unsigned slot, uint64_t seq)
{
	struct clq__order *o = &ctx->order;

	if (!seq)
		return;
	pthread_mutex_lock(&o->lock);
	see(o, slot, seq);
	pthread_mutex_unlock(&o->lock);
}

/* Root buffers. */

static size_t
bucket_of(cl_mem root, size_t n_buckets)
{
	uint64_t h = (uint64_t)(uintptr_t)root * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 32) & (n_buckets - 1);
}

static struct clq__buffer **
find_buffer(struct clq__order *o, cl_mem root)
{
	struct clq__buffer **link;

	if (!o->n_buckets)
		return NULL;
	for (link = &o->buckets[bucket_of(root, o->n_buckets)]; *link;
	     link = &(*link)->next)
		if ((*link)->root == root)
			return link;
	return NULL;
}

/* Doubles the table when it holds as many buffers as buckets. */
static int
grow_buckets(struct clq__order *o)
{
	size_t n = o->n_buckets ? 2 * o->n_buckets : 16;
	struct clq__buffer **b;

	if (o->stats.buffers < o->n_buckets)
		return CLQ_SUCCESS;
	if (!(b = calloc(n, sizeof(*b))))
		return CL_OUT_OF_HOST_MEMORY;
	for (size_t i = 0; i < o->n_buckets; i++) {
		for (struct clq__buffer *e = o->buckets[i], *next; e;
		     e = next) {
			size_t k = bucket_of(e->root, n);

			next = e->next;
			e->next = b[k];
			b[k] = e;
		}
	}
	free(o->buckets);
	o->buckets = b;
	o->n_buckets = n;
	return CLQ_SUCCESS;
}

int
clq__order_array_add(struct clq_device_array *a)
{
	struct clq__order *o = &a->ctx->order;
	struct clq__buffer **link, *b;
	int rc = CLQ_SUCCESS;

	pthread_mutex_lock(&o->lock);
	if ((link = find_buffer(o, a->root))) {
		b = *link;
	} else if ((rc = grow_buckets(o)) < 0 || !(b = calloc(1, sizeof(*b)))) {
		pthread_mutex_unlock(&o->lock);
		return rc < 0 ? rc : CL_OUT_OF_HOST_MEMORY;
	} else {
		size_t k = bucket_of(a->root, o->n_buckets);

		b->root = a->root;
		b->next = o->buckets[k];
		o->buckets[k] = b;
		o->stats.buffers++;
	}
	b->arrays++;
	a->buffer = b;
	pthread_mutex_unlock(&o->lock);
	return CLQ_SUCCESS;
}

static inline void
use_clear(struct clq__order *o, struct use *u)
{
	if (u->ev) {
		clq__event_drop(u->ev);
		o->stats.events_held--;
	}
	if (u->kernel)
		clq_kernel_unref(u->kernel);
	u->ev = NULL;
	u->kernel = NULL;
}

static inline void
use_set(struct clq__order *o, struct use *u, struct clq_event *ev,
	const struct clq__command *command)
{
	use_clear(o, u);
	u->ev = clq__event_hold(ev);
	o->stats.events_held++;
	u->what = command->label;
	u->kernel = command->kernel ? clq_kernel_ref(command->kernel) : NULL;
}

static void
clear_reads(struct clq__order *o, struct clq__buffer *b)
{
	for (unsigned i = 0; i < b->n_reads; i++)
		use_clear(o, &b->reads[i]);
	b->n_reads = 0;
}

void
clq__order_array_remove(struct clq_device_array *a)
{
	struct clq__order *o = &a->ctx->order;
	struct clq__buffer *b = a->buffer, **link;

	if (!b)
		return;
	pthread_mutex_lock(&o->lock);
	free(a->label);
	a->label = NULL;
	if (--b->arrays == 0) {
		link = find_buffer(o, b->root);
		*link = b->next;
		o->stats.buffers--;
		use_clear(o, &b->write);
		clear_reads(o, b);
	} else {
		b = NULL;
	}
	pthread_mutex_unlock(&o->lock);
	if (b) {
		free(b->reads);
		free(b);
	}
}

int
clq_device_array_set_label(struct clq_device_array *array, const char *label)
{
	char *copy = NULL;

	if (!array)
		return clq__invalid(NULL, "clq_device_array_set_label",
				    "array is NULL");
	if (label && *label && !(copy = strdup(label)))
		return CL_OUT_OF_HOST_MEMORY;
	pthread_mutex_lock(&array->ctx->order.lock);
	free(array->label);
	array->label = copy;
	pthread_mutex_unlock(&array->ctx->order.lock);
	return CLQ_SUCCESS;
}

size_t
clq_device_array_get_label(const struct clq_device_array *array, char *buf,
			   size_t size)
{
	size_t len;

	if (!array || (!buf && size))
		return 0;
	pthread_mutex_lock(&array->ctx->order.lock);
	len = copy_label(array->label, buf, size);
	pthread_mutex_unlock(&array->ctx->order.lock);
	return len;
}

/* Planning. */

static void
plan_init(struct clq__order_plan *p, const struct clq__clock *base)
{
	p->uses = p->uses_inline;
	p->n_uses = 0;
	p->extra = p->extra_inline;
	p->why = p->why_inline;
	p->n_extra = 0;
	p->clock = NULL;
	p->base = base;
	p->v = NULL;
	p->allocated = 0;
	p->trivial = 0;
}

void
clq__order_plan_release(struct clq__order_plan *p)
{
	if (p->uses != p->uses_inline)
		free(p->uses);
	if (p->extra != p->extra_inline) {
		free(p->extra);
		free(p->why);
	}
	if (p->v != p->v_inline)
		free(p->v);
	clq__clock_drop(p->clock);
	p->clock = NULL;
	p->allocated = 0;
}

/* The command's touches, one per root buffer, modes merged. */
static int
plan_uses(struct clq__order_plan *p, const struct clq__command *command)
{
	if (command->n_touches == 1) {
		p->uses[0].buffer = command->touches[0].array->buffer;
		p->uses[0].array = command->touches[0].array;
		p->uses[0].mode = command->touches[0].mode;
		p->n_uses = 1;
		return CLQ_SUCCESS;
	}
	if (command->n_touches > CLQ__PLAN_INLINE) {
		if (!(p->uses =
			      malloc(command->n_touches * sizeof(*p->uses)))) {
			p->uses = p->uses_inline;
			return CL_OUT_OF_HOST_MEMORY;
		}
		p->allocated = 1;
	}
	for (size_t i = 0; i < command->n_touches; i++) {
		const struct clq__touch *t = &command->touches[i];
		size_t j = 0;

		while (j < p->n_uses && p->uses[j].buffer != t->array->buffer)
			j++;
		if (j == p->n_uses) {
			p->uses[j].buffer = t->array->buffer;
			p->uses[j].array = t->array;
			p->uses[j].mode = 0;
			p->n_uses++;
		}
		p->uses[j].mode |= t->mode;
	}
	return CLQ_SUCCESS;
}

/* What the plan's clock says of `slot`: the queue's clock until a merge
 * adds to it, then the scratch copy. */
static inline uint64_t
known(const struct clq__order_plan *p, unsigned slot)
{
	if (p->v)
		return p->v[slot];
	return slot < p->base->n ? p->base->v[slot] : 0;
}

/* Copies the queue's clock, widened to every slot, to add to it. */
static int
materialise(struct clq__order_plan *p, unsigned n_slots)
{
	const struct clq__clock *base = p->base;

	if (n_slots <= CLQ__PLAN_INLINE) {
		p->v = p->v_inline;
	} else {
		if (!(p->v = malloc(n_slots * sizeof(*p->v))))
			return CL_OUT_OF_HOST_MEMORY;
		p->allocated = 1;
	}
	memcpy(p->v, base->v, base->n * sizeof(*p->v));
	memset(p->v + base->n, 0, (n_slots - base->n) * sizeof(*p->v));
	return CLQ_SUCCESS;
}

/* Raises the plan's clock at `slot` to `seq`, if that is news. */
static int
learn(struct clq__order_plan *p, unsigned n_slots, unsigned slot, uint64_t seq)
{
	int rc;

	if (seq <= known(p, slot))
		return 0;
	if (!p->v && (rc = materialise(p, n_slots)) < 0)
		return rc;
	p->v[slot] = seq;
	return 1;
}

/* Merges what `e` knows into the plan's clock: 1 if it added anything,
 * 0 if not, CL_OUT_OF_HOST_MEMORY. */
static int
merge(struct clq__order_plan *p, unsigned n_slots, unsigned own,
      const struct clq_event *e)
{
	const struct clq__clock *c = e->clock;
	int changed = 0, rc;

	if (!c)
		return 0; /* a user event: no queue behind it */
	for (unsigned k = 0; k < c->n; k++) {
		if (k != own && (rc = learn(p, n_slots, k, c->v[k])) != 0) {
			if (rc < 0)
				return rc;
			changed = 1;
		}
	}
	if (c->slot != own && (rc = learn(p, n_slots, c->slot, e->seq)) != 0)
		return rc;
	return changed;
}

/*
 * An earlier command of the same queue is ordered by the queue, unless it
 * has failed: PoCL runs the commands after a failed one at once, while
 * the commands it waited for may still run. Failures come from user
 * events, so the status is asked only once one has failed.
 */
static int
happens_before(const struct clq__order_plan *p, unsigned own,
	       const struct clq_event *e)
{
	if (e->clock->slot == own)
		return !p->failures || exec_status(e->cl) >= 0;
	return known(p, e->clock->slot) >= e->seq;
}

/* Whether `a` (an event with a stamp) knows that `b` happens before it. */
static int
implies(const struct clq_event *a, const struct clq_event *b)
{
	unsigned slot = b->clock->slot;

	if (a->clock->slot == slot)
		return a->seq >= b->seq;
	return slot < a->clock->n && a->clock->v[slot] >= b->seq;
}

enum conflict { READ_AFTER_WRITE, WRITE_AFTER_READ, WRITE_AFTER_WRITE };

static const char *const conflict_names[] = {
	"read-after-write", "write-after-read", "write-after-write"};

/* "queue 3", with its label if it has one: "queue 3 ('upload')". */
static void
describe_slot(struct clq__strbuf *b, const struct clq__order *o, unsigned slot)
{
	const struct clq_queue *q = o->slots[slot].queue;

	if (q && q->name)
		clq__strbuf_appendf(b, "queue %llu ('%s')",
				    (unsigned long long)q->id, q->name);
	else if (q)
		clq__strbuf_appendf(b, "queue %llu", (unsigned long long)q->id);
	else
		clq__strbuf_appendf(b, "a queue since released");
}

static void
describe_command(struct clq__strbuf *b, const char *what,
		 const struct clq_kernel *kernel)
{
	if (kernel)
		clq__strbuf_appendf(b, "%s '%s'", what, kernel->name);
	else
		clq__strbuf_appendf(b, "%s", what);
}

static void
describe_array(struct clq__strbuf *b, const struct clq_device_array *a)
{
	const struct clq__layout *l = &a->layout;

	if (a->label) {
		clq__strbuf_appendf(b, "'%s'", a->label);
		return;
	}
	clq__strbuf_appendf(b, "an unlabelled %s array of shape [",
			    clq_dtype_name(l->dtype));
	for (size_t i = 0; i < l->ndim; i++)
		clq__strbuf_appendf(b, "%s%zu", i ? ", " : "", l->shape[i]);
	clq__strbuf_appendf(b, "]");
}

/* Logs the unordered conflict between the new command and an earlier
 * command, whose event is `ev`. */
static void
log_hazard(struct clq_queue *q, const char *function,
	   const struct clq__command *command, const struct clq_event *ev,
	   const struct clq__conflict *c)
{
	const struct clq__order *o = &q->ctx->order;
	const struct clq__plan_use *pu = c->use;
	enum conflict kind = (enum conflict)c->kind;
	unsigned other = ev->clock->slot;
	struct clq__strbuf b = {0};

	clq__strbuf_appendf(&b, "%s: hazard (%s) on buffer ", function,
			    conflict_names[kind]);
	describe_array(&b, pu->array);
	clq__strbuf_appendf(&b, ": this ");
	describe_command(&b, command->label, command->kernel);
	clq__strbuf_appendf(&b, " on ");
	describe_slot(&b, o, q->slot);
	clq__strbuf_appendf(&b, kind == READ_AFTER_WRITE
					? " reads what the "
					: " overwrites what the ");
	describe_command(&b, c->what, c->kernel);
	clq__strbuf_appendf(&b, " on ");
	describe_slot(&b, o, other);
	clq__strbuf_appendf(&b, " %s, and nothing orders the two. ",
			    kind == WRITE_AFTER_READ ? "reads" : "writes");
	if (!command->blocking)
		clq__strbuf_appendf(&b,
				    "Put the event of that %s%s in this "
				    "%s's wait list, or pass it to ",
				    c->kernel ? "kernel" : c->what,
				    o->slots[other].queue
					    ? " (or of a later command of its "
					      "queue)"
					    : "",
				    command->kernel ? "kernel"
						    : command->label);
	else
		clq__strbuf_appendf(&b, "Pass the event of that %s to ",
				    c->kernel ? "kernel" : c->what);
	clq__strbuf_appendf(&b,
			    "clq_queue_enqueue_wait_for_events() on queue %llu "
			    "first; nothing was enqueued",
			    (unsigned long long)q->id);
	if (pu->array->root != pu->array->mem)
		clq__strbuf_appendf(&b, " (the array is an alias: clq tracks "
					"the whole buffer it was made in, so "
					"aliases of one buffer conflict even "
					"where they do not overlap)");
	clq__log(q->ctx, CLQ_LOG_ERROR, "%s",
		 b.failed ? "hazard: an unordered conflicting access" : b.s);
	clq__strbuf_free(&b);
}

/* Moves the plan's conflicts to the heap, with room for every use's
 * events (the most there can be). */
static int
grow_extra(struct clq__order_plan *p)
{
	size_t max = 0;
	struct clq_event **e;
	struct clq__conflict *w;

	for (size_t i = 0; i < p->n_uses; i++)
		max += 1 + p->uses[i].buffer->n_reads;
	e = malloc(max * sizeof(*e));
	w = malloc(max * sizeof(*w));
	if (!e || !w) {
		free(e);
		free(w);
		return CL_OUT_OF_HOST_MEMORY;
	}
	memcpy(e, p->extra, p->n_extra * sizeof(*e));
	memcpy(w, p->why, p->n_extra * sizeof(*w));
	p->extra = e;
	p->why = w;
	p->allocated = 1;
	return CLQ_SUCCESS;
}

/* Adds the unordered access `u` to the plan's conflicts, once. */
static int
add_conflict(struct clq__order_plan *p, const struct use *u,
	     const struct clq__plan_use *pu, enum conflict kind)
{
	int rc;

	for (size_t i = 0; i < p->n_extra; i++)
		if (p->extra[i] == u->ev)
			return CLQ_SUCCESS;
	if (p->n_extra == CLQ__PLAN_INLINE && p->extra == p->extra_inline &&
	    (rc = grow_extra(p)) < 0)
		return rc;
	p->extra[p->n_extra] = u->ev;
	p->why[p->n_extra] =
		(struct clq__conflict){u->what, u->kernel, pu, (int)kind};
	p->n_extra++;
	return CLQ_SUCCESS;
}

/*
 * Whether `e` failed and the host has seen everything that happens before
 * it end (waits, status reads, queue finishes). A failed command touched
 * nothing, but the accesses it superseded in the buffer's entry are no
 * longer tracked and may still run (PoCL fails the commands behind a
 * failed user event at once): the host having seen all of them end is
 * what makes the failure harmless. Clocks know no more than e's did, so
 * the host must have seen each slot up to what e's clock says, and e's
 * own queue up to the command before it.
 */
static int
failure_seen(const struct clq__order *o, const struct clq_event *e)
{
	const struct clq__clock *c = e->clock;

	for (unsigned k = 0; k < c->n; k++)
		if (k != c->slot && o->slots[k].seen < c->v[k])
			return 0;
	return o->slots[c->slot].seen + 1 >= e->seq && exec_status(e->cl) < 0;
}

/*
 * An earlier access that the plan's clock does not order before the new
 * command: ordered all the same (and released) once the host has seen it
 * end, or in AUTO once it has ended at all; else a conflict, which CHECK
 * refuses and AUTO waits for, once the plan has them all. CHECK counts
 * only what the host has seen, so that its verdict does not depend on
 * how fast the device happened to be.
 */
static CLQ__NOINLINE int
unordered_use(struct clq__order *o, int mode, struct clq__order_plan *p,
	      const struct clq__plan_use *pu, struct use *u, enum conflict kind)
{
	const struct clq_event *e = u->ev;

	if (e->seen || o->slots[e->clock->slot].seen >= e->seq ||
	    (mode == CLQ_ORDERING_AUTO && exec_status(e->cl) == CL_COMPLETE) ||
	    (p->failures && failure_seen(o, e))) {
		use_clear(o, u);
		return CLQ_SUCCESS;
	}
	return add_conflict(p, u, pu, kind);
}

/* Whether the earlier access `u` may conflict: held, and not known to
 * happen before the new command. */
static inline int
may_conflict(const struct clq__order_plan *p, unsigned own, const struct use *u)
{
	return u->ev && !happens_before(p, own, u->ev);
}

/* Collects the unordered accesses that the new command's use `pu` of a
 * buffer conflicts with. */
static int
check_buffer(struct clq_queue *q, int mode, struct clq__order_plan *p,
	     const struct clq__plan_use *pu)
{
	struct clq__order *o = &q->ctx->order;
	struct clq__buffer *b = pu->buffer;
	int writes = (pu->mode & CLQ__TOUCH_WRITE) != 0;
	int rc;

	if (may_conflict(p, q->slot, &b->write) &&
	    (rc = unordered_use(o, mode, p, pu, &b->write,
				writes ? WRITE_AFTER_WRITE
				       : READ_AFTER_WRITE)) < 0)
		return rc;
	for (unsigned r = 0; writes && r < b->n_reads; r++)
		if (may_conflict(p, q->slot, &b->reads[r]) &&
		    (rc = unordered_use(o, mode, p, pu, &b->reads[r],
					WRITE_AFTER_READ)) < 0)
			return rc;
	return CLQ_SUCCESS;
}

/* Drops from the extra waits those another extra wait implies, then
 * merges the rest into the clock. */
static int
prune_extra(struct clq__order_plan *p, unsigned n_slots, unsigned own)
{
	int rc;

	size_t kept = 0;

	for (size_t i = 0; i < p->n_extra; i++) {
		int implied = 0;

		for (size_t j = 0; j < p->n_extra && !implied; j++)
			implied = j != i && p->extra[j] &&
				  implies(p->extra[j], p->extra[i]);
		if (implied)
			p->extra[i] = NULL;
	}
	for (size_t i = 0; i < p->n_extra; i++) {
		if (!p->extra[i])
			continue;
		if ((rc = merge(p, n_slots, own, p->extra[i])) < 0)
			return rc;
		p->why[kept] = p->why[i];
		p->extra[kept++] = p->extra[i];
	}
	p->n_extra = kept;
	return CLQ_SUCCESS;
}

/* CHECK: logs every conflict left (none implied by another, so that the
 * waits named order everything) and refuses the command. */
static int
refuse(struct clq_queue *q, const char *function,
       const struct clq__command *command, const struct clq__order_plan *p)
{
	for (size_t i = 0; i < p->n_extra; i++)
		log_hazard(q, function, command, p->extra[i], &p->why[i]);
	q->ctx->order.stats.hazards++;
	return CLQ_ERROR_HAZARD;
}

/* Room for one more read in a buffer the command only reads. */
static int
reserve_read(struct clq__plan_use *pu)
{
	struct clq__buffer *b = pu->buffer;
	unsigned cap = b->cap_reads ? 2 * b->cap_reads : 2;
	struct use *r;

	if (pu->mode != CLQ__TOUCH_READ || b->n_reads < b->cap_reads)
		return CLQ_SUCCESS;
	if (!(r = realloc(b->reads, cap * sizeof(*r))))
		return CL_OUT_OF_HOST_MEMORY;
	b->reads = r;
	b->cap_reads = cap;
	return CLQ_SUCCESS;
}

/*
 * Whether the command is ordered after every access it conflicts with by
 * its own queue alone, so that planning has nothing to do: its wait list
 * holds no event of another queue, the last write of each buffer it
 * touches was on this queue (or is gone), and a buffer it writes has no
 * reads since, a buffer it only reads room for its read. Touches of one
 * buffer twice take the general path (which merges them).
 */
static int
trivially_ordered(const struct clq_queue *q, const struct clq__command *command,
		  struct clq_event *const *wait, size_t n_wait)
{
	unsigned own = q->slot;

	for (size_t i = 0; i < n_wait; i++)
		if (wait[i]->clock && wait[i]->clock->slot != own)
			return 0;
	for (size_t i = 0; i < command->n_touches; i++) {
		const struct clq__touch *t = &command->touches[i];
		const struct clq__buffer *b = t->array->buffer;

		if (b->write.ev && b->write.ev->clock->slot != own)
			return 0;
		if (t->mode & CLQ__TOUCH_WRITE ? b->n_reads != 0
					       : b->n_reads == b->cap_reads)
			return 0;
		for (size_t j = 0; j < i; j++)
			if (command->touches[j].array->buffer == b)
				return 0;
	}
	return 1;
}

int
clq__order_plan(struct clq_queue *q, const char *function,
		const struct clq__command *command,
		struct clq_event *const *wait, size_t n_wait, int mode,
		struct clq__order_plan *p)
{
	struct clq__order *o = &q->ctx->order;
	int rc;

	plan_init(p, q->clock);
	p->failures = atomic_load(&q->ctx->failsafe.user_failed) != 0;
	if (!p->failures &&
	    (p->trivial = trivially_ordered(q, command, wait, n_wait)))
		return CLQ_SUCCESS;
	if (command->n_touches && (rc = plan_uses(p, command)) < 0)
		return rc;
	for (size_t i = 0; i < n_wait; i++) {
		if (!wait[i]->clock)
			continue; /* a user event: no queue behind it */
		if ((rc = merge(p, o->n_slots, q->slot, wait[i])) < 0)
			return rc;
	}
	for (size_t i = 0; i < p->n_uses; i++)
		if ((rc = check_buffer(q, mode, p, &p->uses[i])) < 0 ||
		    (rc = reserve_read(&p->uses[i])) < 0)
			return rc;
	if (p->n_extra) {
		if ((rc = prune_extra(p, o->n_slots, q->slot)) < 0)
			return rc;
		if (mode == CLQ_ORDERING_CHECK)
			return refuse(q, function, command, p);
	}
	/* A merge that added to the clock made `v`; an extra wait of the
	 * queue's own (a failed command) adds nothing. */
	if (p->v && !(p->clock = clock_new(q->slot, p->v, o->n_slots)))
		return CL_OUT_OF_HOST_MEMORY;
	return CLQ_SUCCESS;
}

/* The buffer's read entry for `slot`, a new one if it has none. */
static struct use *
read_entry(struct clq__buffer *b, unsigned slot)
{
	for (unsigned i = 0; i < b->n_reads; i++)
		if (b->reads[i].ev && b->reads[i].ev->clock->slot == slot)
			return &b->reads[i];
	for (unsigned i = 0; i < b->n_reads; i++)
		if (!b->reads[i].ev)
			return &b->reads[i];
	b->reads[b->n_reads] = (struct use){0};
	return &b->reads[b->n_reads++];
}

void
clq__order_commit(struct clq_queue *q, const struct clq__command *command,
		  struct clq__order_plan *p, struct clq_event *ev)
{
	struct clq__order *o = &q->ctx->order;
	uint64_t seq = ++o->slots[q->slot].seq;

	if (p->clock) {
		clq__clock_drop(q->clock);
		q->clock = p->clock;
		p->clock = NULL;
	}
	o->stats.waits_added += p->n_extra;
	if (!ev)
		return;
	ev->clock = clq__clock_hold(q->clock);
	ev->seq = seq;
	if (p->trivial) {
		for (size_t i = 0; i < command->n_touches; i++) {
			const struct clq__touch *t = &command->touches[i];
			struct clq__buffer *b = t->array->buffer;

			o->stats.accesses++;
			use_set(o,
				t->mode & CLQ__TOUCH_WRITE
					? &b->write
					: read_entry(b, q->slot),
				ev, command);
		}
		return;
	}
	for (size_t i = 0; i < p->n_uses; i++) {
		struct clq__buffer *b = p->uses[i].buffer;

		o->stats.accesses++;
		if (p->uses[i].mode & CLQ__TOUCH_WRITE) {
			use_set(o, &b->write, ev, command);
			clear_reads(o, b);
		} else {
			use_set(o, read_entry(b, q->slot), ev, command);
		}
	}
}
