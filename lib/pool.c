/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pools (clq/pool.h): slots handed out least recently released first,
 * each with the events of its last release.
 *
 * Free slots wait in a ring, in release order: acquire takes the head,
 * release appends at the tail. One mutex guards the ring, the slots'
 * state and their event lists; one condition variable wakes blocked
 * acquirers. Nothing that can block or call back into clq runs under the
 * lock: host waits happen after the slot is taken, and the events a
 * release replaces are dropped after the lock is released (the last
 * reference to a user event may run its callbacks).
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

struct pool_slot {
	int acquired;
	/* The last release's events, held, in an array of exactly `n`;
	 * replaced whole by the next release, so that an acquirer's
	 * borrowed pointer stays valid until then. */
	struct clq_event **events;
	size_t n;
};

struct clq_pool {
	atomic_uint refs;
	size_t n;
	void **items; /* NULL, or n borrowed pointers; never changed */
	pthread_mutex_t lock;
	pthread_cond_t freed;
	/* Under `lock`: */
	struct pool_slot *slots;
	size_t *ring; /* free slots, least recently released first */
	size_t head, n_free;
	/* The context of the events, held from the first release with
	 * events; written once under `lock`, read for log messages. */
	_Atomic(struct clq_context *) ctx;
};

int
clq_pool_create(size_t n, void *const *items, struct clq_pool **pool_out)
{
	static const char fn[] = "clq_pool_create";
	struct clq_pool *p;

	if (pool_out)
		*pool_out = NULL;
	if (!pool_out)
		return clq__invalid(NULL, fn, "pool_out is NULL");
	if (n == 0)
		return clq__invalid(NULL, fn, "a pool needs at least one slot");
	if (n > PTRDIFF_MAX / sizeof(struct pool_slot)) {
		clq__log(NULL, CLQ_LOG_ERROR, "%s: %zu slots do not fit", fn,
			 n);
		return CLQ_ERROR_OVERFLOW;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		goto oom;
	p->n = n;
	p->slots = calloc(n, sizeof(*p->slots));
	p->ring = calloc(n, sizeof(*p->ring));
	if (items && (p->items = calloc(n, sizeof(*p->items))) != NULL)
		memcpy(p->items, items, n * sizeof(*p->items));
	if (!p->slots || !p->ring || (items && !p->items))
		goto oom;
	if (pthread_mutex_init(&p->lock, NULL) != 0)
		goto oom;
	if (pthread_cond_init(&p->freed, NULL) != 0) {
		pthread_mutex_destroy(&p->lock);
		goto oom;
	}
	for (size_t i = 0; i < n; i++)
		p->ring[i] = i;
	p->n_free = n;
	clq__ref_init(&p->refs);
	atomic_init(&p->ctx, NULL);
	*pool_out = p;
	return CLQ_SUCCESS;
oom:
	if (p) {
		free(p->slots);
		free(p->ring);
		free(p->items);
		free(p);
	}
	clq__log(NULL, CLQ_LOG_ERROR, "%s: out of memory for %zu slots", fn, n);
	return CL_OUT_OF_HOST_MEMORY;
}

struct clq_pool *
clq_pool_ref(struct clq_pool *pool)
{
	if (pool)
		clq__ref_get(&pool->refs);
	return pool;
}

static void
events_drop(struct clq_event **events, size_t n)
{
	for (size_t i = 0; i < n; i++)
		clq__event_drop(events[i]);
	free(events);
}

void
clq_pool_unref(struct clq_pool *pool)
{
	struct clq_context *ctx;

	if (!pool || !clq__ref_put(&pool->refs))
		return;
	for (size_t i = 0; i < pool->n; i++)
		events_drop(pool->slots[i].events, pool->slots[i].n);
	ctx = atomic_load(&pool->ctx);
	if (ctx)
		clq__context_drop(ctx);
	pthread_cond_destroy(&pool->freed);
	pthread_mutex_destroy(&pool->lock);
	free(pool->slots);
	free(pool->ring);
	free(pool->items);
	free(pool);
}

size_t
clq_pool_get_size(const struct clq_pool *pool)
{
	return pool ? pool->n : 0;
}

void *
clq_pool_get_item(const struct clq_pool *pool, size_t slot)
{
	if (!pool || !pool->items || slot >= pool->n)
		return NULL;
	return pool->items[slot];
}

int
clq_pool_acquire(struct clq_pool *pool, unsigned flags, size_t *slot_out,
		 struct clq_event *const **wait_out, size_t *n_wait_out)
{
	static const char fn[] = "clq_pool_acquire";
	const unsigned known = CLQ_POOL_BLOCK | CLQ_POOL_WAIT_HOST;
	int host = (flags & CLQ_POOL_WAIT_HOST) != 0;
	struct pool_slot *s;
	size_t slot;
	int rc;

	if (wait_out)
		*wait_out = NULL;
	if (n_wait_out)
		*n_wait_out = 0;
	if (!pool || !slot_out)
		return clq__invalid(NULL, fn, "pool or slot_out is NULL");
	if (flags & ~known) {
		clq__log(atomic_load(&pool->ctx), CLQ_LOG_ERROR,
			 "%s: unknown flags 0x%x", fn, flags & ~known);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	if (!host && (!wait_out || !n_wait_out))
		return clq__invalid(atomic_load(&pool->ctx), fn,
				    "wait_out or n_wait_out is NULL without "
				    "CLQ_POOL_WAIT_HOST (the slot's events "
				    "would be lost)");

	pthread_mutex_lock(&pool->lock);
	while (pool->n_free == 0 && (flags & CLQ_POOL_BLOCK))
		pthread_cond_wait(&pool->freed, &pool->lock);
	if (pool->n_free == 0) {
		pthread_mutex_unlock(&pool->lock);
		clq__log(atomic_load(&pool->ctx), CLQ_LOG_ERROR,
			 "%s: all %zu slots are acquired; release one first, "
			 "or pass CLQ_POOL_BLOCK to wait for another thread "
			 "to release one",
			 fn, pool->n);
		return CLQ_ERROR_IN_USE;
	}
	slot = pool->ring[pool->head];
	pool->head = (pool->head + 1) % pool->n;
	pool->n_free--;
	s = &pool->slots[slot];
	s->acquired = 1;
	pthread_mutex_unlock(&pool->lock);

	/* The slot is ours: its events change only when we release it. */
	*slot_out = slot;
	if (!host) {
		*wait_out = s->n ? (struct clq_event *const *)s->events : NULL;
		*n_wait_out = s->n;
		return CLQ_SUCCESS;
	}
	rc = clq_events_wait(s->events, s->n);
	if (rc < 0)
		clq__log(atomic_load(&pool->ctx), CLQ_LOG_ERROR,
			 "%s: slot %zu: waiting for its last release's events "
			 "failed; the slot stays acquired, release it once "
			 "its resource is free",
			 fn, slot);
	return rc;
}

/* Checks a release's events: all of one context, the pool's if it has
 * one. */
static int
check_events(struct clq_pool *pool, struct clq_event *const *events, size_t n)
{
	static const char fn[] = "clq_pool_release";
	struct clq_context *ctx = atomic_load(&pool->ctx);

	if (n && !events)
		return clq__invalid(ctx, fn, "events is NULL with n > 0");
	for (size_t i = 0; i < n; i++) {
		if (!events[i]) {
			clq__log(ctx, CLQ_LOG_ERROR, "%s: events[%zu] is NULL",
				 fn, i);
			return CLQ_ERROR_INVALID_ARGUMENT;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct clq_context *c = clq_event_get_context(events[i]);
		struct clq_context *want =
			ctx ? ctx : clq_event_get_context(events[0]);

		if (c != want) {
			clq__log(want, CLQ_LOG_ERROR,
				 "%s: events[%zu] belongs to another context "
				 "than %s",
				 fn, i,
				 ctx ? "the events the pool holds"
				     : "events[0]");
			return CLQ_ERROR_CONTEXT_MISMATCH;
		}
	}
	return CLQ_SUCCESS;
}

int
clq_pool_release(struct clq_pool *pool, size_t slot,
		 struct clq_event *const *events, size_t n)
{
	static const char fn[] = "clq_pool_release";
	struct clq_event **fresh = NULL, **old;
	struct clq_context *ctx;
	struct pool_slot *s;
	size_t n_old;
	int rc;

	if (!pool)
		return clq__invalid(NULL, fn, "pool is NULL");
	ctx = atomic_load(&pool->ctx);
	if (slot >= pool->n) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: slot %zu is out of range (the pool has %zu)", fn,
			 slot, pool->n);
		return CLQ_ERROR_OUT_OF_RANGE;
	}
	if ((rc = check_events(pool, events, n)) < 0)
		return rc;
	/* n events were readable, so n pointers fit in memory */
	if (n && !(fresh = malloc(n * sizeof(*fresh)))) {
		clq__log(ctx, CLQ_LOG_ERROR, "%s: out of memory", fn);
		return CL_OUT_OF_HOST_MEMORY;
	}

	pthread_mutex_lock(&pool->lock);
	s = &pool->slots[slot];
	if (!s->acquired) {
		pthread_mutex_unlock(&pool->lock);
		free(fresh);
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: slot %zu is not acquired (released twice, or "
			 "never acquired)",
			 fn, slot);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	/* Another thread may have adopted a context since the check. */
	ctx = atomic_load(&pool->ctx);
	if (n && ctx && clq_event_get_context(events[0]) != ctx) {
		pthread_mutex_unlock(&pool->lock);
		free(fresh);
		clq__log(ctx, CLQ_LOG_ERROR,
			 "%s: the events belong to another context than the "
			 "pool's (that of the first events it was given)",
			 fn);
		return CLQ_ERROR_CONTEXT_MISMATCH;
	}
	if (n && !ctx)
		atomic_store(
			&pool->ctx,
			clq__context_hold(clq_event_get_context(events[0])));
	for (size_t i = 0; i < n; i++)
		fresh[i] = clq__event_hold(events[i]);
	old = s->events;
	n_old = s->n;
	s->events = fresh;
	s->n = n;
	s->acquired = 0;
	pool->ring[(pool->head + pool->n_free) % pool->n] = slot;
	pool->n_free++;
	pthread_cond_signal(&pool->freed);
	pthread_mutex_unlock(&pool->lock);

	events_drop(old, n_old);
	return CLQ_SUCCESS;
}
