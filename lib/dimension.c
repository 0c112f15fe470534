/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dimensions (clq/operation.h): axis lengths with padding constraints,
 * joined into link groups by union-find.
 *
 * Each dimension points to its parent; a group's root holds the group's
 * joined constraints (size, largest minimum, lcm of alignments, exact).
 * A child holds a reference to its parent, so a root outlives its group
 * whatever the callers drop. Union by rank keeps the trees shallow
 * (O(log n)); there is no path compression, so parents never change
 * once set and references never move. One process-wide mutex guards
 * parents, ranks and the roots' constraints: planning is a few integer
 * operations, not worth a lock per group (whose merge would need two).
 */
#include <stdint.h>
#include <stdlib.h>

#include "private.h"

struct clq_dimension {
	atomic_uint refs;
	/* As created; never changed. */
	size_t size, min_padded, alignment;
	int exact;
	/* Under `links`: */
	struct clq_dimension *parent; /* NULL for a root; held */
	unsigned rank;
	/* The group's constraints, valid at a root (under `links`). */
	size_t g_min, g_alignment;
	int g_exact;
};

static pthread_mutex_t links = PTHREAD_MUTEX_INITIALIZER;

static size_t
gcd(size_t a, size_t b)
{
	while (b) {
		size_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* The least common multiple, or 0 when it does not fit. */
static size_t
lcm(size_t a, size_t b)
{
	size_t q = a / gcd(a, b);

	return q > SIZE_MAX / b ? 0 : q * b;
}

/* max(size, min) rounded up to `alignment`, or 0 when it does not fit. */
static size_t
round_up(size_t size, size_t min, size_t alignment)
{
	size_t n = size > min ? size : min;
	size_t r = n % alignment;

	if (r == 0)
		return n;
	return n > SIZE_MAX - (alignment - r) ? 0 : n + (alignment - r);
}

/* Why joined constraints cannot all hold: found under `links`, logged
 * after it is released (a log handler may take its time, or call clq). */
enum conflict { FINE, EXACT_MIN, EXACT_ALIGN, TOO_LARGE, SIZES, LCM };

struct verdict {
	enum conflict why;
	size_t size, min, alignment, other;
};

static enum conflict
judge(struct verdict *v, size_t size, size_t min, size_t alignment, int exact)
{
	v->size = size;
	v->min = min;
	v->alignment = alignment;
	if (exact && min > size)
		v->why = EXACT_MIN;
	else if (exact && size % alignment != 0)
		v->why = EXACT_ALIGN;
	else if (round_up(size, min, alignment) == 0)
		v->why = TOO_LARGE;
	else
		v->why = FINE;
	return v->why;
}

/* Logs a conflict as `function`; returns its status. */
static int
report(const char *function, const struct verdict *v)
{
	switch (v->why) {
	case FINE:
		return CLQ_SUCCESS;
	case EXACT_MIN:
		clq__log(NULL, CLQ_LOG_ERROR,
			 "%s: exact size %zu is below the minimum padded "
			 "size %zu",
			 function, v->size, v->min);
		break;
	case EXACT_ALIGN:
		clq__log(NULL, CLQ_LOG_ERROR,
			 "%s: exact size %zu is not a multiple of the "
			 "alignment %zu",
			 function, v->size, v->alignment);
		break;
	case TOO_LARGE:
		clq__log(NULL, CLQ_LOG_ERROR,
			 "%s: size %zu (minimum %zu) rounded up to the "
			 "alignment %zu does not fit in size_t",
			 function, v->size, v->min, v->alignment);
		break;
	case SIZES:
		clq__log(NULL, CLQ_LOG_ERROR, "%s: sizes %zu and %zu differ",
			 function, v->size, v->other);
		break;
	case LCM:
		clq__log(NULL, CLQ_LOG_ERROR,
			 "%s: the least common multiple of the alignments "
			 "%zu and %zu does not fit in size_t",
			 function, v->alignment, v->other);
		break;
	}
	return CLQ_ERROR_CONSTRAINTS;
}

int
clq_dimension_create(size_t size, size_t min_padded_size, size_t alignment,
		     int exact, struct clq_dimension **dimension_out)
{
	static const char fn[] = "clq_dimension_create";
	struct clq_dimension *d;
	struct verdict v;

	if (dimension_out)
		*dimension_out = NULL;
	if (!dimension_out)
		return clq__invalid(NULL, fn, "dimension_out is NULL");
	if (size == 0)
		return clq__invalid(NULL, fn, "size is 0");
	if (alignment == 0)
		return clq__invalid(NULL, fn, "alignment is 0");
	if (min_padded_size < size)
		min_padded_size = size;
	exact = exact != 0;
	judge(&v, size, min_padded_size, alignment, exact);
	if (v.why != FINE)
		return report(fn, &v);
	d = calloc(1, sizeof(*d));
	if (!d)
		return CL_OUT_OF_HOST_MEMORY;
	clq__ref_init(&d->refs);
	d->size = size;
	d->min_padded = d->g_min = min_padded_size;
	d->alignment = d->g_alignment = alignment;
	d->exact = d->g_exact = exact;
	*dimension_out = d;
	return CLQ_SUCCESS;
}

struct clq_dimension *
clq_dimension_ref(struct clq_dimension *dimension)
{
	if (dimension)
		clq__ref_get(&dimension->refs);
	return dimension;
}

void
clq_dimension_unref(struct clq_dimension *dimension)
{
	/* A loop, not recursion: dropping a child may drop its parent. */
	while (dimension && clq__ref_put(&dimension->refs)) {
		struct clq_dimension *parent;

		pthread_mutex_lock(&links);
		parent = dimension->parent;
		pthread_mutex_unlock(&links);
		free(dimension);
		dimension = parent;
	}
}

/* The root of d's group; under `links`. */
static struct clq_dimension *
find(const struct clq_dimension *d)
{
	while (d->parent)
		d = d->parent;
	return (struct clq_dimension *)d;
}

size_t
clq_dimension_get_size(const struct clq_dimension *dimension)
{
	return dimension ? dimension->size : 0;
}

size_t
clq_dimension_get_padded_size(const struct clq_dimension *dimension)
{
	const struct clq_dimension *r;
	size_t padded;

	if (!dimension)
		return 0;
	pthread_mutex_lock(&links);
	r = find(dimension);
	/* A group is always satisfiable: link and create checked it. */
	padded = r->g_exact ? r->size
			    : round_up(r->size, r->g_min, r->g_alignment);
	pthread_mutex_unlock(&links);
	return padded;
}

int
clq_dimension_is_valid_padding(const struct clq_dimension *dimension,
			       size_t padded_size)
{
	const struct clq_dimension *r;
	int valid;

	if (!dimension)
		return 0;
	pthread_mutex_lock(&links);
	r = find(dimension);
	valid = padded_size >= r->g_min && padded_size % r->g_alignment == 0 &&
		(!r->g_exact || padded_size == r->size);
	pthread_mutex_unlock(&links);
	return valid;
}

int
clq_dimension_is_linked(const struct clq_dimension *a,
			const struct clq_dimension *b)
{
	int linked;

	if (!a || !b)
		return 0;
	pthread_mutex_lock(&links);
	linked = find(a) == find(b);
	pthread_mutex_unlock(&links);
	return linked;
}

/* A link group's joined constraints. */
struct group {
	size_t size, min, alignment;
	int exact;
};

/* The constraints of the group whose root is `r`; under `links`. */
static struct group
group_of(const struct clq_dimension *r)
{
	return (struct group){r->size, r->g_min, r->g_alignment, r->g_exact};
}

/*
 * Joins two groups' constraints into `*joined`; the verdict says whether
 * they can all hold (`*joined` is set only when they can).
 */
static enum conflict
join(const struct group *ra, const struct group *rb, struct group *joined,
     struct verdict *v)
{
	size_t alignment;

	*v = (struct verdict){FINE, 0, 0, 0, 0};
	if (ra->size != rb->size) {
		*v = (struct verdict){SIZES, ra->size, 0, 0, rb->size};
		return v->why;
	}
	alignment = lcm(ra->alignment, rb->alignment);
	if (alignment == 0) {
		*v = (struct verdict){LCM, ra->size, 0, ra->alignment,
				      rb->alignment};
		return v->why;
	}
	if (judge(v, ra->size, ra->min > rb->min ? ra->min : rb->min, alignment,
		  ra->exact || rb->exact) != FINE)
		return v->why;
	*joined = (struct group){ra->size, v->min, alignment,
				 ra->exact || rb->exact};
	return FINE;
}

/* Links a and b, whose joined constraints `join` found to hold; under
 * `links`. */
static void
merge(struct clq_dimension *a, struct clq_dimension *b)
{
	struct clq_dimension *ra = find(a), *rb = find(b);
	struct group ga, gb, joined;
	struct verdict v;

	if (ra == rb)
		return;
	ga = group_of(ra);
	gb = group_of(rb);
	if (join(&ga, &gb, &joined, &v) != FINE)
		return;
	if (ra->rank < rb->rank) {
		struct clq_dimension *t = ra;

		ra = rb;
		rb = t;
	}
	/* rb joins ra's tree, holding it. */
	clq__ref_get(&ra->refs);
	rb->parent = ra;
	if (ra->rank == rb->rank)
		ra->rank++;
	ra->g_min = joined.min;
	ra->g_alignment = joined.alignment;
	ra->g_exact = joined.exact;
}

int
clq_dimension_link(struct clq_dimension *a, struct clq_dimension *b)
{
	if (!a || !b)
		return clq__invalid(NULL, "clq_dimension_link",
				    "a dimension is NULL");
	return clq__dimension_link_all(&a, &b, 1, "clq_dimension_link");
}

/*
 * The groups a batch of links touches, joined on copies first: entry i
 * stands for the group whose root is roots[i]; parent[i] joins entries as
 * the batch would, and groups[i] holds the joined constraints where
 * parent[i] == i.
 */
struct trial {
	size_t n;
	struct clq_dimension **roots;
	struct group *groups;
	size_t *parent;
};

/* The trial index of d's root, added when new; under `links`. */
static size_t
trial_index(struct trial *t, const struct clq_dimension *d)
{
	struct clq_dimension *r = find(d);
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->roots[i] == r)
			break;
	if (i == t->n) {
		t->roots[i] = r;
		t->groups[i] = group_of(r);
		t->parent[i] = i;
		t->n++;
	}
	while (t->parent[i] != i)
		i = t->parent[i];
	return i;
}

int
clq__dimension_link_all(struct clq_dimension *const *a,
			struct clq_dimension *const *b, size_t n,
			const char *function)
{
	struct trial t = {0, NULL, NULL, NULL};
	struct verdict v = {FINE, 0, 0, 0, 0};

	if (n == 0)
		return CLQ_SUCCESS;
	if (n > SIZE_MAX / 2 / sizeof(*t.groups))
		return CL_OUT_OF_HOST_MEMORY;
	t.roots = malloc(2 * n * sizeof(*t.roots));
	t.groups = malloc(2 * n * sizeof(*t.groups));
	t.parent = malloc(2 * n * sizeof(*t.parent));
	if (!t.roots || !t.groups || !t.parent) {
		free(t.roots);
		free(t.groups);
		free(t.parent);
		return CL_OUT_OF_HOST_MEMORY;
	}
	pthread_mutex_lock(&links);
	/* Every link is tried on the copies; only if all hold are they made. */
	for (size_t i = 0; i < n && v.why == FINE; i++) {
		size_t ia = trial_index(&t, a[i]), ib = trial_index(&t, b[i]);

		if (ia != ib && join(&t.groups[ia], &t.groups[ib],
				     &t.groups[ia], &v) == FINE)
			t.parent[ib] = ia;
	}
	for (size_t i = 0; i < n && v.why == FINE; i++)
		merge(a[i], b[i]);
	pthread_mutex_unlock(&links);
	free(t.roots);
	free(t.groups);
	free(t.parent);
	return report(function, &v);
}
