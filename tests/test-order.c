/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ordering across queues (clq/order.h): the modes and their setting, the
 * race detector (CHECK) and the automatic waits (AUTO).
 *
 * Order is observed, not inferred from return codes: the earlier command
 * of a pair is held back by a user event (a gate), so that it is still
 * pending when the later one is enqueued and while the test looks at the
 * later one's status; data read back says which ran first. A command that
 * must run while a gate is closed is waited for (it would hang otherwise:
 * Check's timeout reports it); a command that must not run is looked at
 * after an unrelated probe command on another queue has run, which is as
 * long as a wrong implementation gets to show itself, and the data read
 * back after the gate opens says the rest.
 */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test-common.h"

/*
 * clFlush, interposed (this executable's definition comes before the ICD
 * loader's for libclq too): counts the flushes of one watched queue.
 */
static _Atomic(cl_command_queue) flush_watched;
static atomic_int flush_count;

CL_API_ENTRY cl_int CL_API_CALL
clFlush(cl_command_queue queue)
{
	cl_int(CL_API_CALL * real)(cl_command_queue) = NULL;
	void *sym = dlsym(RTLD_NEXT, "clFlush");

	memcpy(&real, &sym, sizeof(real));
	if (queue == atomic_load(&flush_watched))
		atomic_fetch_add(&flush_count, 1);
	return real(queue);
}

/*
 * NVIDIA's driver (580) shows a command that fails because one before it
 * failed as CL_COMPLETE for up to a microsecond before its negative
 * status; a wait that includes it says it failed (see test-event.c).
 * Mimicked while `late_failures` is set, for every event: a failed one
 * reads CL_COMPLETE until a wait has included it.
 */
static atomic_int late_failures;
static pthread_mutex_t late_lock = PTHREAD_MUTEX_INITIALIZER;
static cl_event late_waited[256];
static size_t n_late_waited;

static int
late_was_waited(cl_event ev)
{
	int found = 0;

	pthread_mutex_lock(&late_lock);
	for (size_t i = 0; i < n_late_waited && !found; i++)
		found = late_waited[i] == ev;
	pthread_mutex_unlock(&late_lock);
	return found;
}

CL_API_ENTRY cl_int CL_API_CALL
clGetEventInfo(cl_event ev, cl_event_info param, size_t size, void *value,
	       size_t *size_out)
{
	cl_int(CL_API_CALL * real)(cl_event, cl_event_info, size_t, void *,
				   size_t *) = NULL;
	void *sym = dlsym(RTLD_NEXT, "clGetEventInfo");
	cl_int err;

	memcpy(&real, &sym, sizeof(real));
	err = real(ev, param, size, value, size_out);
	if (err == CL_SUCCESS && atomic_load(&late_failures) &&
	    param == CL_EVENT_COMMAND_EXECUTION_STATUS && value &&
	    *(cl_int *)value < 0 && !late_was_waited(ev))
		*(cl_int *)value = CL_COMPLETE;
	return err;
}

CL_API_ENTRY cl_int CL_API_CALL
clWaitForEvents(cl_uint n, const cl_event *list)
{
	cl_int(CL_API_CALL * real)(cl_uint, const cl_event *) = NULL;
	void *sym = dlsym(RTLD_NEXT, "clWaitForEvents");
	cl_int err;

	memcpy(&real, &sym, sizeof(real));
	err = real(n, list);
	pthread_mutex_lock(&late_lock);
	for (cl_uint i = 0; list && i < n; i++)
		if (n_late_waited <
		    sizeof(late_waited) / sizeof(late_waited[0]))
			late_waited[n_late_waited++] = list[i];
	pthread_mutex_unlock(&late_lock);
	return err;
}

/* Elements of the small arrays (4 KiB of uint32: an alias at N elements
 * is aligned for any device's sub-buffers). */
#define N 1024

static const char kernel_source[] =
	"__kernel void copy_k(__global uint *dst, __global const uint *src,\n"
	"		     uint n)\n"
	"{\n"
	"	size_t i = get_global_id(0);\n"
	"	if (i < n)\n"
	"		dst[i] = src[i];\n"
	"}\n"
	"__kernel void add_k(__global uint *x, uint v, uint n)\n"
	"{\n"
	"	size_t i = get_global_id(0);\n"
	"	if (i < n)\n"
	"		x[i] += v;\n"
	"}\n";

/* ------------------------------------------------------------- helpers */

static int
quick(void)
{
	return getenv("CLQ_TEST_QUICK") != NULL;
}

static void
set_mode(enum clq_ordering mode)
{
	ck_assert_ok(clq_context_set_ordering(test_ctx, mode));
	ck_assert_int_eq(clq_context_get_ordering(test_ctx), mode);
}

static struct clq_ordering_stats
stats_of(struct clq_context *ctx)
{
	struct clq_ordering_stats s;

	memset(&s, 0xff, sizeof(s));
	ck_assert_ok(clq_context_get_ordering_stats(ctx, &s));
	return s;
}

static struct clq_ordering_stats
stats(void)
{
	return stats_of(test_ctx);
}

static struct clq_device_array *
array_new(size_t n, const char *label)
{
	struct clq_device_array *a = NULL;

	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_UINT32, 1, &n,
					     NULL, &a));
	if (label)
		ck_assert_ok(clq_device_array_set_label(a, label));
	return a;
}

/* An alias of n elements at element `at` of `root`. */
static struct clq_device_array *
alias_new(struct clq_device_array *root, size_t at, size_t n, const char *label)
{
	struct clq_device_array *a = NULL;

	ck_assert_ok(clq_device_array_create_alias(
		test_ctx, clq_device_array_get_cl(root), at * sizeof(uint32_t),
		CLQ_DTYPE_UINT32, 1, &n, NULL, &a));
	if (label)
		ck_assert_ok(clq_device_array_set_label(a, label));
	return a;
}

static struct clq_host_array *
host_new(size_t n)
{
	struct clq_host_array *h = NULL;

	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_UINT32, 1, &n,
					   NULL, &h));
	memset(clq_host_array_data(h), 0, n * sizeof(uint32_t));
	return h;
}

static uint32_t *
data(struct clq_host_array *h)
{
	return clq_host_array_data(h);
}

/* h[i] = base + i */
static void
host_fill(struct clq_host_array *h, size_t n, uint32_t base)
{
	for (size_t i = 0; i < n; i++)
		data(h)[i] = base + (uint32_t)i;
}

/* Fails unless a[i] == base + i for every i < n. */
static void
assert_ramp(const uint32_t *a, size_t n, uint32_t base, const char *what)
{
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(a[i] == base + (uint32_t)i,
			      "%s: element %zu is %" PRIu32
			      ", expected %" PRIu32,
			      what, i, a[i], base + (uint32_t)i);
}

static void
assert_all(const uint32_t *a, size_t n, uint32_t value, const char *what)
{
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(a[i] == value,
			      "%s: element %zu is %" PRIu32
			      ", expected %" PRIu32,
			      what, i, a[i], value);
}

/* The array's contents, read on a queue of its own after everything. */
static void
read_back(struct clq_device_array *a, struct clq_host_array *h)
{
	struct clq_queue *q = test_queue_new(0);

	ck_assert_ok(clq_device_array_get(a, q, h));
	clq_queue_unref(q);
}

/* Not started: still waiting for what it waits for. */
static int
held(struct clq_event *e)
{
	int s = test_event_status(e);

	return s == CL_QUEUED || s == CL_SUBMITTED;
}

/*
 * Runs an unrelated command on a queue of its own and waits for it, so
 * that a command that could run has had the device's attention; then
 * says whether `e` is still held.
 */
static int
held_after_probe(struct clq_event *e)
{
	struct clq_queue *q = test_queue_new(0);
	struct clq_device_array *probe = array_new(16, NULL);
	struct clq_event *done = NULL;
	int h;

	ck_assert_ok(clq_device_array_zero(probe, q, NULL, 0, &done));
	ck_assert_ok(clq_event_wait(done));
	h = held(e);
	clq_event_unref(done);
	clq_device_array_unref(probe);
	clq_queue_unref(q);
	return h;
}

static struct clq_kernel *
kernel_new(struct clq_context *ctx, const char *name)
{
	struct clq_program *p = NULL;
	struct clq_kernel *k = NULL;

	ck_assert_ok(
		clq_program_create_from_source(ctx, kernel_source, NULL, &p));
	ck_assert_ok(clq_kernel_create(p, name, &k));
	clq_program_unref(p);
	return k;
}

/* The context's log, captured through its own handler. */
struct capture {
	pthread_mutex_t lock;
	char text[16384];
	int errors;
};

static void
capture_log(enum clq_log_level level, const char *message, void *user_data)
{
	struct capture *c = user_data;
	size_t used;

	pthread_mutex_lock(&c->lock);
	used = strlen(c->text);
	if (used + 1 < sizeof(c->text))
		snprintf(c->text + used, sizeof(c->text) - used, "%s\n",
			 message);
	c->errors += level == CLQ_LOG_ERROR;
	pthread_mutex_unlock(&c->lock);
}

static void
capture_start(struct capture *c, struct clq_context *ctx)
{
	pthread_mutex_init(&c->lock, NULL);
	c->text[0] = '\0';
	c->errors = 0;
	clq_context_set_log_handler(ctx, capture_log, c);
}

static void
capture_reset(struct capture *c)
{
	pthread_mutex_lock(&c->lock);
	c->text[0] = '\0';
	c->errors = 0;
	pthread_mutex_unlock(&c->lock);
}

static void
capture_stop(struct capture *c, struct clq_context *ctx)
{
	clq_context_set_log_handler(ctx, NULL, NULL);
	pthread_mutex_destroy(&c->lock);
}

/* The number after `prefix` in `text`, which must be there. */
static unsigned long long
number_after(const char *text, const char *prefix)
{
	const char *p = strstr(text, prefix);
	unsigned long long v = 0;

	ck_assert_msg(p != NULL, "'%s' not in the log: %s", prefix, text);
	ck_assert_int_eq(sscanf(p + strlen(prefix), "%llu", &v), 1);
	return v;
}

/* -------------------------------------------------------------- modes */

START_TEST(mode_defaults_and_setting)
{
	struct clq_queue *q;
	struct clq_device_array *a;
	struct clq_ordering_stats s;
	const char *env = getenv("CLQ_ORDERING");

	/* the fixture's context took its mode from the environment */
	if (!env || !*env)
		ck_assert_int_eq(clq_context_get_ordering(test_ctx),
				 CLQ_ORDERING_MANUAL);
	/* creating queues and arrays is not a command: still settable */
	q = test_queue_new(0);
	a = array_new(16, NULL);
	set_mode(CLQ_ORDERING_AUTO);
	set_mode(CLQ_ORDERING_MANUAL);
	set_mode(CLQ_ORDERING_CHECK);
	s = stats();
	ck_assert_uint_eq(s.accesses, 0);
	ck_assert_uint_eq(s.hazards, 0);
	ck_assert_uint_eq(s.waits_added, 0);
	ck_assert_uint_eq(s.events_held, 0);
	ck_assert_uint_eq(s.buffers, 1);

	/* the first command, a marker touching nothing, fixes the mode */
	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, NULL));
	test_log_expect("the mode is set before the first");
	ck_assert_rc(clq_context_set_ordering(test_ctx, CLQ_ORDERING_AUTO),
		     CLQ_ERROR_IN_USE);
	ck_assert(test_log_seen());
	test_log_expect(NULL);
	/* setting the mode it has changes nothing and is accepted */
	ck_assert_ok(clq_context_set_ordering(test_ctx, CLQ_ORDERING_CHECK));
	ck_assert_int_eq(clq_context_get_ordering(test_ctx),
			 CLQ_ORDERING_CHECK);

	/* tracking started with it */
	ck_assert_ok(clq_device_array_zero(a, q, NULL, 0, NULL));
	ck_assert_ok(clq_queue_finish(q));
	s = stats();
	ck_assert_uint_eq(s.accesses, 1);
	ck_assert_uint_eq(s.events_held, 1);
	clq_device_array_unref(a);
	s = stats();
	ck_assert_uint_eq(s.events_held, 0);
	ck_assert_uint_eq(s.buffers, 0);
	clq_queue_unref(q);
}
END_TEST

START_TEST(manual_tracks_nothing)
{
	struct clq_queue *qa = test_queue_new(0), *qb = test_queue_new(0);
	struct clq_device_array *a = array_new(N, "a");
	struct clq_host_array *h = host_new(N);
	struct clq_ordering_stats s;

	set_mode(CLQ_ORDERING_MANUAL);
	ck_assert_ok(clq_device_array_zero(a, qa, NULL, 0, NULL));
	ck_assert_ok(clq_device_array_get_async(a, qb, h, NULL, 0, NULL));
	ck_assert_ok(clq_queue_finish(qa));
	ck_assert_ok(clq_queue_finish(qb));
	s = stats();
	ck_assert_uint_eq(s.accesses, 0);
	ck_assert_uint_eq(s.hazards, 0);
	ck_assert_uint_eq(s.waits_added, 0);
	ck_assert_uint_eq(s.events_held, 0);
	clq_host_array_unref(h);
	clq_device_array_unref(a);
	clq_queue_unref(qa);
	clq_queue_unref(qb);
}
END_TEST

START_TEST(bad_input)
{
	struct clq_device_array *a = array_new(16, NULL);
	struct clq_ordering_stats s;
	char buf[8];

	test_log_expect("*");
	ck_assert_rc(clq_context_set_ordering(NULL, CLQ_ORDERING_CHECK),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_context_set_ordering(test_ctx, (enum clq_ordering)7),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_context_set_ordering(test_ctx, (enum clq_ordering)3),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(
		clq_context_set_ordering(test_ctx, (enum clq_ordering) - 1),
		CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	/* a refused value leaves the mode as it was */
	set_mode(CLQ_ORDERING_AUTO);
	ck_assert_rc(clq_context_set_ordering(test_ctx, (enum clq_ordering)7),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_int_eq(clq_context_get_ordering(test_ctx), CLQ_ORDERING_AUTO);
	ck_assert_int_eq(clq_context_get_ordering(NULL), CLQ_ORDERING_MANUAL);
	ck_assert_rc(clq_context_get_ordering_stats(NULL, &s),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_context_get_ordering_stats(test_ctx, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_device_array_set_label(NULL, "x"),
		     CLQ_ERROR_INVALID_ARGUMENT);
	test_log_expect(NULL);

	/* labels: copies, truncation as snprintf(), removal */
	memset(buf, 'x', sizeof(buf));
	ck_assert_uint_eq(clq_device_array_get_label(NULL, buf, sizeof(buf)),
			  0);
	ck_assert_uint_eq(clq_device_array_get_label(a, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
	{
		char label[] = "input-buffer";

		ck_assert_ok(clq_device_array_set_label(a, label));
		label[0] = 'X'; /* copied, not kept */
	}
	memset(buf, 'x', sizeof(buf));
	ck_assert_uint_eq(clq_device_array_get_label(a, buf, sizeof(buf)), 12);
	ck_assert_str_eq(buf, "input-b");
	memset(buf, 'x', sizeof(buf));
	ck_assert_uint_eq(clq_device_array_get_label(a, buf, 1), 12);
	ck_assert_int_eq(buf[0], '\0');
	ck_assert_int_eq(buf[1], 'x');
	ck_assert_uint_eq(clq_device_array_get_label(a, NULL, 0), 12);
	ck_assert_ok(clq_device_array_set_label(a, "in"));
	ck_assert_uint_eq(clq_device_array_get_label(a, buf, sizeof(buf)), 2);
	ck_assert_str_eq(buf, "in");
	ck_assert_ok(clq_device_array_set_label(a, "1234567"));
	ck_assert_uint_eq(clq_device_array_get_label(a, buf, sizeof(buf)), 7);
	ck_assert_str_eq(buf, "1234567");
	ck_assert_ok(clq_device_array_set_label(a, ""));
	ck_assert_uint_eq(clq_device_array_get_label(a, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_ok(clq_device_array_set_label(a, "again"));
	ck_assert_ok(clq_device_array_set_label(a, NULL));
	ck_assert_uint_eq(clq_device_array_get_label(a, buf, sizeof(buf)), 0);
	clq_device_array_unref(a);
}
END_TEST

/*
 * Queue labels: copied, read back as snprintf() would, refused for a NULL
 * queue, and named in hazard messages after the queue's id.
 */
START_TEST(queue_labels)
{
	struct clq_queue *qa = test_queue_new(0), *qb = test_queue_new(0);
	struct clq_device_array *x = array_new(N, "X");
	struct clq_host_array *h = host_new(N);
	struct clq_event *gate = test_user_event_new();
	char buf[8], label[] = "uploads-q";

	set_mode(CLQ_ORDERING_CHECK);
	test_log_expect("queue is NULL");
	ck_assert_rc(clq_queue_set_label(NULL, "x"),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	test_log_expect(NULL);
	ck_assert_uint_eq(clq_queue_get_label(NULL, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(clq_queue_get_label(qa, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_ok(clq_queue_set_label(qa, label));
	label[0] = 'X'; /* copied, not kept */
	ck_assert_uint_eq(clq_queue_get_label(qa, buf, sizeof(buf)), 9);
	ck_assert_str_eq(buf, "uploads");
	ck_assert_uint_eq(clq_queue_get_label(qa, NULL, 0), 9);
	ck_assert_ok(clq_queue_set_label(qb, "reads"));

	ck_assert_ok(clq_device_array_set_async(x, qa, h, &gate, 1, NULL));
	test_log_expect("('uploads-q') writes");
	ck_assert_rc(clq_device_array_get_async(x, qb, h, NULL, 0, NULL),
		     CLQ_ERROR_HAZARD);
	ck_assert(test_log_seen());
	ck_assert_ptr_nonnull(strstr(test_log_text(), "('reads') reads"));
	test_log_expect(NULL);
	ck_assert_ok(clq_queue_set_label(qa, ""));
	ck_assert_uint_eq(clq_queue_get_label(qa, buf, sizeof(buf)), 0);
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	ck_assert_ok(clq_queue_finish(qa));
	clq_event_unref(gate);
	clq_host_array_unref(h);
	clq_device_array_unref(x);
	clq_queue_unref(qa);
	clq_queue_unref(qb);
}
END_TEST

/* A context created with CLQ_ORDERING set to `value`; NULL for unset. */
static int
context_with_env(const char *value, struct clq_context **ctx_out)
{
	char *saved =
		getenv("CLQ_ORDERING") ? strdup(getenv("CLQ_ORDERING")) : NULL;
	struct clq_device *dev = NULL;
	int rc;

	ck_assert_ok(clq_device_select(test_device_spec(), &dev));
	if (value)
		ck_assert_int_eq(setenv("CLQ_ORDERING", value, 1), 0);
	else
		ck_assert_int_eq(unsetenv("CLQ_ORDERING"), 0);
	rc = clq_context_create(dev, ctx_out);
	if (saved)
		ck_assert_int_eq(setenv("CLQ_ORDERING", saved, 1), 0);
	else
		ck_assert_int_eq(unsetenv("CLQ_ORDERING"), 0);
	free(saved);
	clq_device_unref(dev);
	return rc;
}

/*
 * A program written for MANUAL, with a missing wait (a write gated on one
 * queue, a read of the same array on another): what it gets from the
 * read's enqueue. It never sets a mode itself.
 */
static int
racy_program(struct clq_context *ctx, struct clq_ordering_stats *s)
{
	const size_t n = 64;
	struct clq_queue *qa = NULL, *qb = NULL;
	struct clq_device_array *a = NULL;
	struct clq_host_array *h = NULL;
	struct clq_event *gate = NULL, *ev = NULL;
	int rc;

	ck_assert_ok(clq_queue_create(ctx, 0, &qa));
	ck_assert_ok(clq_queue_create(ctx, 0, &qb));
	ck_assert_ok(clq_device_array_create(ctx, CLQ_DTYPE_UINT32, 1, &n, NULL,
					     &a));
	ck_assert_ok(
		clq_host_array_create(ctx, CLQ_DTYPE_UINT32, 1, &n, NULL, &h));
	ck_assert_ok(clq_user_event_create(ctx, &gate));
	ck_assert_ok(clq_device_array_zero(a, qa, &gate, 1, NULL));
	rc = clq_device_array_get_async(a, qb, h, NULL, 0, &ev);
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	ck_assert_ok(clq_queue_finish(qa));
	ck_assert_ok(clq_queue_finish(qb));
	*s = stats_of(ctx);
	ck_assert((rc == CLQ_SUCCESS) == (ev != NULL));
	clq_event_unref(ev);
	clq_event_unref(gate);
	clq_host_array_unref(h);
	clq_device_array_unref(a);
	clq_queue_unref(qa);
	clq_queue_unref(qb);
	return rc;
}

START_TEST(environment_sets_the_mode)
{
	static const struct {
		const char *value;
		enum clq_ordering mode;
	} cases[] = {
		{NULL, CLQ_ORDERING_MANUAL},	 {"", CLQ_ORDERING_MANUAL},
		{"manual", CLQ_ORDERING_MANUAL}, {"check", CLQ_ORDERING_CHECK},
		{"CHECK", CLQ_ORDERING_CHECK},	 {"auto", CLQ_ORDERING_AUTO},
		{"Auto", CLQ_ORDERING_AUTO},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct clq_context *ctx = NULL;
		struct clq_ordering_stats s;
		struct capture log;
		int rc;

		ck_assert_ok(context_with_env(cases[i].value, &ctx));
		ck_assert_int_eq(clq_context_get_ordering(ctx), cases[i].mode);
		capture_start(&log, ctx);
		rc = racy_program(ctx, &s);
		capture_stop(&log, ctx);
		switch (cases[i].mode) {
		case CLQ_ORDERING_MANUAL:
			ck_assert_ok(rc);
			ck_assert_uint_eq(s.accesses, 0);
			ck_assert_int_eq(log.errors, 0);
			break;
		case CLQ_ORDERING_CHECK:
			ck_assert_rc(rc, CLQ_ERROR_HAZARD);
			ck_assert_uint_eq(s.hazards, 1);
			ck_assert_int_eq(log.errors, 1);
			ck_assert_ptr_nonnull(
				strstr(log.text, "hazard (read-after-write)"));
			break;
		case CLQ_ORDERING_AUTO:
			ck_assert_ok(rc);
			ck_assert_uint_eq(s.waits_added, 1);
			ck_assert_int_eq(log.errors, 0);
			break;
		}
		clq_context_unref(ctx);
	}
}
END_TEST

START_TEST(environment_bogus_value)
{
	struct clq_context *ctx = (struct clq_context *)&ctx; /* cleared */

	test_log_expect("CLQ_ORDERING is 'bogus'");
	ck_assert_rc(context_with_env("bogus", &ctx),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(ctx);
	ck_assert(test_log_seen());
	test_log_expect("CLQ_ORDERING is 'checkk'");
	ck_assert_rc(context_with_env("checkk", &ctx),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_ptr_null(ctx);
	ck_assert(test_log_seen());
	test_log_expect(NULL);
}
END_TEST

/* ----------------------------------------------------- the demo's race */

/*
 * The double-buffer demo's race, cut down: chunks are uploaded into two
 * device buffers in rotation on one queue and downloaded on another, each
 * download waiting for its upload. The upload into buffer b must also wait
 * for the download that last used b; `with_wait` says whether the program
 * does. The first download is held by a gate.
 */
#define CHUNKS 4

struct demo {
	struct clq_queue *up, *down;
	struct clq_device_array *buf[2];
	struct clq_host_array *in, *out;
	struct clq_event *gate;
	struct clq_event *ev_up[CHUNKS], *ev_down[CHUNKS];
	int rc_up[CHUNKS];
};

static void
demo_init(struct demo *d)
{
	memset(d, 0, sizeof(*d));
	/* down first: its id is one less than up's */
	d->down = test_queue_new(0);
	d->up = test_queue_new(0);
	d->buf[0] = array_new(N, "buf0");
	d->buf[1] = array_new(N, "buf1");
	d->in = host_new(CHUNKS * N);
	d->out = host_new(CHUNKS * N);
	host_fill(d->in, CHUNKS * N, 1);
	d->gate = test_user_event_new();
}

/* Enqueues the chunks; stops after the first upload refused. */
static void
demo_run(struct demo *d, int with_wait)
{
	const size_t zero = 0, count = N;

	for (int c = 0; c < CHUNKS; c++) {
		struct clq_device_array *b = d->buf[c % 2];
		size_t at = (size_t)c * N;
		struct clq_event *wait[2] = {NULL, d->gate};

		if (with_wait && c >= 2)
			ck_assert_ok(clq_queue_enqueue_wait_for_events(
				d->up, &d->ev_down[c - 2], 1));
		d->rc_up[c] = clq_device_array_set_region(
			b, d->up, d->in, &zero, &at, &count, NULL, 0,
			&d->ev_up[c]);
		if (d->rc_up[c] != CLQ_SUCCESS) {
			ck_assert_ptr_null(d->ev_up[c]);
			return;
		}
		wait[0] = d->ev_up[c];
		ck_assert_ok(clq_device_array_get_region(
			b, d->down, d->out, &zero, &at, &count, wait,
			c == 0 ? 2 : 1, &d->ev_down[c]));
	}
}

static void
demo_free(struct demo *d)
{
	if (test_event_status(d->gate) != CL_COMPLETE)
		ck_assert_ok(clq_user_event_complete(d->gate, CL_COMPLETE));
	clq_queue_finish(d->up);
	clq_queue_finish(d->down);
	for (int c = 0; c < CHUNKS; c++) {
		clq_event_unref(d->ev_up[c]);
		clq_event_unref(d->ev_down[c]);
	}
	clq_event_unref(d->gate);
	clq_host_array_unref(d->in);
	clq_host_array_unref(d->out);
	clq_device_array_unref(d->buf[0]);
	clq_device_array_unref(d->buf[1]);
	clq_queue_unref(d->up);
	clq_queue_unref(d->down);
}

START_TEST(demo_race_check_refuses)
{
	struct demo d;
	struct capture log;
	struct clq_host_array *back = host_new(N);
	unsigned long long up_id, down_id;

	set_mode(CLQ_ORDERING_CHECK);
	demo_init(&d);
	capture_start(&log, test_ctx);
	demo_run(&d, 0);
	capture_stop(&log, test_ctx);
	ck_assert_ok(d.rc_up[0]);
	ck_assert_ok(d.rc_up[1]);
	ck_assert_rc(d.rc_up[2], CLQ_ERROR_HAZARD);
	ck_assert_uint_eq(stats().hazards, 1);
	ck_assert_int_eq(log.errors, 1);

	/* the message: what, where, which queues, which commands */
	ck_assert_msg(strstr(log.text, "clq_device_array_set_region: hazard "
				       "(write-after-read) on buffer 'buf0'"),
		      "%s", log.text);
	up_id = number_after(log.text, "this write on queue ");
	down_id = number_after(log.text, "what the read on queue ");
	ck_assert_uint_eq(up_id, down_id + 1);
	ck_assert_uint_eq(number_after(log.text,
				       "clq_queue_enqueue_wait_for_events() on "
				       "queue "),
			  up_id);
	ck_assert_ptr_nonnull(strstr(log.text, "nothing was enqueued"));

	/* nothing was enqueued: buffer 0 keeps chunk 0 for its download */
	ck_assert(held(d.ev_down[0]));
	ck_assert_ok(clq_user_event_complete(d.gate, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(d.ev_down[1]));
	assert_ramp(data(d.out), 2 * N, 1, "downloads");
	assert_all(data(d.out) + 2 * N, 2 * N, 0, "never downloaded");
	read_back(d.buf[0], back);
	assert_ramp(data(back), N, 1, "buffer 0 after the refusal");
	demo_free(&d);
	clq_host_array_unref(back);
}
END_TEST

START_TEST(demo_with_its_wait_passes_check)
{
	struct demo d;

	set_mode(CLQ_ORDERING_CHECK);
	demo_init(&d);
	demo_run(&d, 1);
	for (int c = 0; c < CHUNKS; c++)
		ck_assert_ok(d.rc_up[c]);
	ck_assert(held_after_probe(d.ev_up[2]));
	ck_assert_ok(clq_user_event_complete(d.gate, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(d.ev_down[CHUNKS - 1]));
	assert_ramp(data(d.out), CHUNKS * N, 1, "downloads");
	ck_assert_uint_eq(stats().hazards, 0);
	ck_assert_uint_eq(stats().waits_added, 0);
	demo_free(&d);
}
END_TEST

START_TEST(demo_race_auto_orders)
{
	struct demo d;
	struct clq_ordering_stats s;

	set_mode(CLQ_ORDERING_AUTO);
	demo_init(&d);
	demo_run(&d, 0);
	for (int c = 0; c < CHUNKS; c++)
		ck_assert_ok(d.rc_up[c]);
	/* the two uploads that reuse a buffer each wait for one download;
	 * nothing else */
	s = stats();
	ck_assert_uint_eq(s.waits_added, 2);
	ck_assert_uint_eq(s.hazards, 0);
	ck_assert_ok(clq_event_wait(d.ev_up[1]));
	ck_assert(held_after_probe(d.ev_up[2]));
	ck_assert(held(d.ev_up[3]));
	ck_assert(held(d.ev_down[0]));
	/* the gate opens late: everything runs, in order */
	ck_assert_ok(clq_user_event_complete(d.gate, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(d.ev_down[CHUNKS - 1]));
	ck_assert_ok(clq_event_wait(d.ev_up[CHUNKS - 1]));
	assert_ramp(data(d.out), CHUNKS * N, 1, "downloads");
	demo_free(&d);
}
END_TEST

START_TEST(demo_race_manual_untouched)
{
	struct demo d;

	set_mode(CLQ_ORDERING_MANUAL);
	demo_init(&d);
	demo_run(&d, 0);
	for (int c = 0; c < CHUNKS; c++)
		ck_assert_ok(d.rc_up[c]);
	/* every upload runs while the first download is held */
	ck_assert_ok(clq_event_wait(d.ev_up[CHUNKS - 1]));
	ck_assert(held(d.ev_down[0]));
	ck_assert_ok(clq_user_event_complete(d.gate, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(d.ev_down[CHUNKS - 1]));
	/* the race, as the program wrote it: the first two downloads read
	 * the buffers after chunks 2 and 3 overwrote them */
	assert_ramp(data(d.out), N, 1 + 2 * N, "chunk 0 (overwritten)");
	assert_ramp(data(d.out) + N, N, 1 + 3 * N, "chunk 1 (overwritten)");
	assert_ramp(data(d.out) + 2 * N, 2 * N, 1 + 2 * N, "chunks 2, 3");
	ck_assert_uint_eq(stats().waits_added, 0);
	demo_free(&d);
}
END_TEST

/* ------------------------------------------------------- happens-before */

/*
 * A writes X (gated); marker M on A; B waits for M; marker N on B; C waits
 * for N and reads X. `how`: 0 through wait lists, 1 through
 * clq_queue_enqueue_wait_for_events() and barriers, 2 as 1 but N is a
 * marker B enqueued before waiting for M (the chain is broken).
 */
static int
chain(int how, struct clq_event **read_out, struct clq_host_array *h,
      struct clq_event *gate, struct clq_queue *const q[3],
      struct clq_device_array *x)
{
	struct clq_event *w = NULL, *m = NULL, *n = NULL;
	int rc;

	ck_assert_ok(clq_device_array_set_async(x, q[0], h, &gate, 1, &w));
	ck_assert_ok(clq_queue_enqueue_marker(q[0], NULL, 0, &m));
	switch (how) {
	case 0:
		ck_assert_ok(clq_queue_enqueue_marker(q[1], &m, 1, &n));
		rc = clq_device_array_get_async(x, q[2], h, &n, 1, read_out);
		break;
	case 1:
		ck_assert_ok(clq_queue_enqueue_wait_for_events(q[1], &m, 1));
		ck_assert_ok(clq_queue_enqueue_barrier(q[1], NULL, 0, &n));
		ck_assert_ok(clq_queue_enqueue_wait_for_events(q[2], &n, 1));
		rc = clq_device_array_get_async(x, q[2], h, NULL, 0, read_out);
		break;
	default:
		ck_assert_ok(clq_queue_enqueue_marker(q[1], NULL, 0, &n));
		ck_assert_ok(clq_queue_enqueue_wait_for_events(q[1], &m, 1));
		ck_assert_ok(clq_queue_enqueue_wait_for_events(q[2], &n, 1));
		rc = clq_device_array_get_async(x, q[2], h, NULL, 0, read_out);
		break;
	}
	clq_event_unref(w);
	clq_event_unref(m);
	clq_event_unref(n);
	return rc;
}

static void
transitivity(enum clq_ordering mode, int how)
{
	struct clq_queue *q[3] = {test_queue_new(0), test_queue_new(0),
				  test_queue_new(0)};
	struct clq_device_array *x = array_new(N, "X");
	struct clq_host_array *in = host_new(N), *out = host_new(N);
	struct clq_event *gate = test_user_event_new(), *r = NULL;
	int rc;

	set_mode(mode);
	host_fill(in, N, 7);
	test_log_expect(how == 2 ? "hazard (read-after-write)" : NULL);
	rc = chain(how, &r, in, gate, q, x);
	test_log_expect(NULL);
	if (how == 2 && mode == CLQ_ORDERING_CHECK) {
		ck_assert_rc(rc, CLQ_ERROR_HAZARD);
		ck_assert_uint_eq(stats().hazards, 1);
	} else {
		ck_assert_ok(rc);
		ck_assert_uint_eq(stats().hazards, 0);
		ck_assert_uint_eq(stats().waits_added,
				  how == 2 && mode == CLQ_ORDERING_AUTO);
	}
	if (r) {
		ck_assert_ok(
			clq_device_array_get_async(x, q[2], out, &r, 1, NULL));
		ck_assert(held_after_probe(r));
	}
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	for (int i = 0; i < 3; i++)
		ck_assert_ok(clq_queue_finish(q[i]));
	if (r)
		assert_ramp(data(out), N, 7, "read at the end of the chain");
	clq_event_unref(r);
	clq_event_unref(gate);
	clq_host_array_unref(in);
	clq_host_array_unref(out);
	clq_device_array_unref(x);
	for (int i = 0; i < 3; i++)
		clq_queue_unref(q[i]);
}

START_TEST(transitive_through_wait_lists)
{
	transitivity(_i ? CLQ_ORDERING_AUTO : CLQ_ORDERING_CHECK, 0);
}
END_TEST

START_TEST(transitive_through_waits_and_barriers)
{
	transitivity(_i ? CLQ_ORDERING_AUTO : CLQ_ORDERING_CHECK, 1);
}
END_TEST

START_TEST(broken_chain_is_a_conflict)
{
	transitivity(_i ? CLQ_ORDERING_AUTO : CLQ_ORDERING_CHECK, 2);
}
END_TEST

/*
 * Two reads on two queues: the second runs while the first is held. Then
 * a write on a third queue: AUTO holds it until the first read has run,
 * which reads the old data; CHECK refuses it; MANUAL lets it overtake.
 */
START_TEST(reads_share_writes_wait)
{
	enum clq_ordering mode = (enum clq_ordering)_i;
	struct clq_queue *qa = test_queue_new(0), *qb = test_queue_new(0),
			 *qc = test_queue_new(0);
	struct clq_device_array *x = array_new(N, "X");
	struct clq_host_array *old = host_new(N), *next = host_new(N),
			      *ra = host_new(N), *rb = host_new(N),
			      *back = host_new(N);
	struct clq_event *gate = test_user_event_new();
	struct clq_event *r1 = NULL, *r2 = NULL, *w = NULL;
	int rc;

	set_mode(mode);
	host_fill(old, N, 100);
	host_fill(next, N, 5000);
	ck_assert_ok(clq_device_array_set(x, qa, old));
	ck_assert_ok(clq_device_array_get_async(x, qa, ra, &gate, 1, &r1));
	ck_assert_ok(clq_device_array_get_async(x, qb, rb, NULL, 0, &r2));
	ck_assert_ok(clq_event_wait(r2));
	ck_assert(held(r1));
	assert_ramp(data(rb), N, 100, "second read");
	ck_assert_uint_eq(stats().waits_added, 0);

	test_log_expect(mode == CLQ_ORDERING_CHECK ? "hazard (write-after-read)"
						   : NULL);
	rc = clq_device_array_set_async(x, qc, next, NULL, 0, &w);
	ck_assert(test_log_seen() == (mode == CLQ_ORDERING_CHECK));
	test_log_expect(NULL);
	switch (mode) {
	case CLQ_ORDERING_MANUAL:
		ck_assert_ok(rc);
		ck_assert_ok(clq_event_wait(w));
		ck_assert(held(r1));
		break;
	case CLQ_ORDERING_CHECK:
		ck_assert_rc(rc, CLQ_ERROR_HAZARD);
		ck_assert_ptr_null(w);
		break;
	case CLQ_ORDERING_AUTO:
		ck_assert_ok(rc);
		/* the finished read on qb is no reason to wait */
		ck_assert_uint_eq(stats().waits_added, 1);
		ck_assert(held_after_probe(w));
		break;
	}
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(r1));
	if (w)
		ck_assert_ok(clq_event_wait(w));
	read_back(x, back);
	if (mode == CLQ_ORDERING_MANUAL) {
		assert_ramp(data(ra), N, 5000, "held read, overtaken");
	} else {
		assert_ramp(data(ra), N, 100, "held read");
	}
	assert_ramp(data(back), N, mode == CLQ_ORDERING_CHECK ? 100 : 5000,
		    "after");
	clq_event_unref(r1);
	clq_event_unref(r2);
	clq_event_unref(w);
	clq_event_unref(gate);
	clq_host_array_unref(old);
	clq_host_array_unref(next);
	clq_host_array_unref(ra);
	clq_host_array_unref(rb);
	clq_host_array_unref(back);
	clq_device_array_unref(x);
	clq_queue_unref(qa);
	clq_queue_unref(qb);
	clq_queue_unref(qc);
}
END_TEST

/*
 * A write W held on A, a read R of the same array on B that waits for W
 * (so R knows W), then a write on C: it conflicts with both, but waiting
 * for R implies W. AUTO adds that one wait, and flushes R's queue (OpenCL
 * 1.2 section 5.13), once; CHECK accepts the write with R alone in its
 * wait list.
 */
START_TEST(implied_waits_are_not_added)
{
	enum clq_ordering mode = _i ? CLQ_ORDERING_AUTO : CLQ_ORDERING_CHECK;
	struct clq_queue *qa = test_queue_new(0), *qb = test_queue_new(0),
			 *qc = test_queue_new(0);
	struct clq_device_array *x = array_new(N, "X");
	struct clq_host_array *first = host_new(N), *second = host_new(N),
			      *seen = host_new(N), *back = host_new(N);
	struct clq_event *gate = test_user_event_new(), *w = NULL, *r = NULL,
			 *w2 = NULL, *w3 = NULL;
	int auto_mode = mode == CLQ_ORDERING_AUTO;

	set_mode(mode);
	host_fill(first, N, 10);
	host_fill(second, N, 20000);
	ck_assert_ok(clq_device_array_set_async(x, qa, first, &gate, 1, &w));
	ck_assert_ok(clq_device_array_get_async(x, qb, seen, &w, 1, &r));
	atomic_store(&flush_count, 0);
	atomic_store(&flush_watched, clq_queue_get_cl(qb));
	ck_assert_ok(
		clq_device_array_set_async(x, qc, second, &r, !auto_mode, &w2));
	ck_assert_uint_eq(stats().waits_added, auto_mode);
	ck_assert_uint_eq(stats().hazards, 0);
	ck_assert_int_eq(atomic_load(&flush_count), 1);
	/* another write on a fourth queue, after w2 on qc: one more wait,
	 * for w2 only (w2 implies r and w); r's queue is not flushed again */
	{
		struct clq_queue *qd = test_queue_new(0);

		ck_assert_ok(
			clq_device_array_zero(x, qd, &w2, !auto_mode, &w3));
		ck_assert_uint_eq(stats().waits_added, 2 * auto_mode);
		ck_assert_int_eq(atomic_load(&flush_count), 1);
		atomic_store(&flush_watched, NULL);
		ck_assert(held_after_probe(w3));
		ck_assert(held(w2));
		ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
		ck_assert_ok(clq_event_wait(w3));
		ck_assert_int_eq(test_event_status(w2), CL_COMPLETE);
		ck_assert_ok(clq_queue_finish(qd));
		clq_queue_unref(qd);
	}
	assert_ramp(data(seen), N, 10, "read between the writes");
	read_back(x, back);
	assert_all(data(back), N, 0, "after the last write");
	clq_event_unref(w);
	clq_event_unref(r);
	clq_event_unref(w2);
	clq_event_unref(w3);
	clq_event_unref(gate);
	clq_host_array_unref(first);
	clq_host_array_unref(second);
	clq_host_array_unref(seen);
	clq_host_array_unref(back);
	clq_device_array_unref(x);
	clq_queue_unref(qa);
	clq_queue_unref(qb);
	clq_queue_unref(qc);
}
END_TEST

/*
 * A queue released with a command still held keeps its slot until that
 * command ends: a new queue, which may not inherit it, conflicts with it;
 * the message says the other queue is gone.
 */
START_TEST(released_queue_keeps_its_slot)
{
	enum clq_ordering mode = _i ? CLQ_ORDERING_AUTO : CLQ_ORDERING_CHECK;
	struct clq_queue *qa = test_queue_new(0), *qd;
	struct clq_device_array *x = array_new(N, "X");
	struct clq_host_array *in = host_new(N), *out = host_new(N);
	struct clq_event *gate = test_user_event_new(), *w = NULL, *r = NULL;
	int rc;

	set_mode(mode);
	host_fill(in, N, 77);
	ck_assert_ok(clq_device_array_set_async(x, qa, in, &gate, 1, &w));
	clq_queue_unref(qa);
	qd = test_queue_new(0);
	test_log_expect("what the write on a queue since released writes");
	rc = clq_device_array_get_async(x, qd, out, NULL, 0, &r);
	ck_assert(test_log_seen() == (mode == CLQ_ORDERING_CHECK));
	test_log_expect(NULL);
	if (mode == CLQ_ORDERING_CHECK) {
		ck_assert_rc(rc, CLQ_ERROR_HAZARD);
	} else {
		ck_assert_ok(rc);
		ck_assert_uint_eq(stats().waits_added, 1);
		ck_assert(held_after_probe(r));
	}
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(w));
	ck_assert_ok(clq_queue_finish(qd));
	if (r)
		assert_ramp(data(out), N, 77, "read after the released queue");
	clq_event_unref(w);
	clq_event_unref(r);
	clq_event_unref(gate);
	clq_host_array_unref(in);
	clq_host_array_unref(out);
	clq_device_array_unref(x);
	clq_queue_unref(qd);
}
END_TEST

/* Many root buffers (the table grows twice): each is its own. */
#define MANY 40

START_TEST(many_buffers)
{
	enum clq_ordering mode = _i ? CLQ_ORDERING_AUTO : CLQ_ORDERING_CHECK;
	struct clq_queue *qa = test_queue_new(0), *qb = test_queue_new(0);
	struct clq_device_array *a[MANY];
	struct clq_host_array *h = host_new(MANY * 16);
	struct clq_event *gate = test_user_event_new();
	struct clq_ordering_stats s;

	set_mode(mode);
	for (int i = 0; i < MANY; i++) {
		char label[16];

		snprintf(label, sizeof(label), "b%d", i);
		a[i] = array_new(16, label);
	}
	ck_assert_uint_eq(stats().buffers, MANY);
	/* even buffers written (held) on qa */
	for (int i = 0; i < MANY; i += 2) {
		uint32_t v = (uint32_t)i + 1;

		ck_assert_ok(
			clq_device_array_fill(a[i], qa, &v, &gate, 1, NULL));
	}
	/* every buffer read on qb: the even ones conflict */
	for (int i = 0; i < MANY; i++) {
		const size_t zero = 0, at = (size_t)i * 16, count = 16;
		char expect[64];
		int rc;

		snprintf(expect, sizeof(expect),
			 "hazard (read-after-write) on buffer 'b%d':", i);
		test_log_expect(expect);
		rc = clq_device_array_get_region(a[i], qb, h, &zero, &at,
						 &count, NULL, 0, NULL);
		if (i % 2 == 0 && mode == CLQ_ORDERING_CHECK) {
			ck_assert_rc(rc, CLQ_ERROR_HAZARD);
			ck_assert(test_log_seen());
		} else {
			ck_assert_ok(rc);
		}
	}
	test_log_expect(NULL);
	s = stats();
	ck_assert_uint_eq(s.hazards, mode == CLQ_ORDERING_CHECK ? MANY / 2 : 0);
	ck_assert_uint_eq(s.waits_added,
			  mode == CLQ_ORDERING_AUTO ? MANY / 2 : 0);
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	ck_assert_ok(clq_queue_finish(qa));
	ck_assert_ok(clq_queue_finish(qb));
	for (int i = 0; mode == CLQ_ORDERING_AUTO && i < MANY; i += 2)
		assert_all(data(h) + i * 16, 16, (uint32_t)i + 1, "read");
	for (int i = 0; i < MANY; i++)
		clq_device_array_unref(a[i]);
	ck_assert_uint_eq(stats().buffers, 0);
	ck_assert_uint_eq(stats().events_held, 0);
	clq_event_unref(gate);
	clq_host_array_unref(h);
	clq_queue_unref(qa);
	clq_queue_unref(qb);
}
END_TEST

/*
 * A conflicting command that has ended when the next one is enqueued is
 * ordered before it: waited for on the host, or its queue finished. Its
 * tracking is released when met.
 */
START_TEST(completed_commands_are_ordered)
{
	enum clq_ordering mode = _i ? CLQ_ORDERING_AUTO : CLQ_ORDERING_CHECK;
	struct clq_queue *qa = test_queue_new(0), *qb = test_queue_new(0);
	struct clq_device_array *x = array_new(N, "X");
	struct clq_host_array *h = host_new(N), *back = host_new(N);
	struct clq_event *gate = test_user_event_new(), *w = NULL, *r = NULL;
	struct clq_ordering_stats s;

	set_mode(mode);
	host_fill(h, N, 3);
	/* a write, held, then waited for on the host */
	ck_assert_ok(clq_device_array_set_async(x, qa, h, &gate, 1, &w));
	ck_assert_uint_eq(stats().events_held, 1);
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(w));
	/* read on another queue: ordered, and the write is let go */
	ck_assert_ok(clq_device_array_get_async(x, qb, back, NULL, 0, &r));
	s = stats();
	ck_assert_uint_eq(s.waits_added, 0);
	ck_assert_uint_eq(s.hazards, 0);
	ck_assert_uint_eq(s.events_held, 1); /* the read */
	/* a write on qa after the read, whose queue is finished */
	ck_assert_ok(clq_queue_finish(qb));
	assert_ramp(data(back), N, 3, "read");
	ck_assert_ok(clq_device_array_zero(x, qa, NULL, 0, NULL));
	ck_assert_ok(clq_device_array_zero(x, qa, NULL, 0, NULL));
	s = stats();
	ck_assert_uint_eq(s.waits_added, 0);
	ck_assert_uint_eq(s.hazards, 0);
	ck_assert_uint_eq(s.events_held, 1); /* the last zero */
	ck_assert_uint_eq(s.accesses, 4);
	ck_assert_ok(clq_queue_finish(qa));
	clq_event_unref(w);
	clq_event_unref(r);
	clq_event_unref(gate);
	clq_host_array_unref(h);
	clq_host_array_unref(back);
	clq_device_array_unref(x);
	clq_queue_unref(qa);
	clq_queue_unref(qb);
}
END_TEST

/* Spins until `ev`'s command has ended, asking OpenCL directly, so that
 * clq does not see it end. */
static void
wait_unseen(struct clq_event *ev)
{
	cl_int status = CL_QUEUED;

	for (int i = 0; i < 100000 && status > CL_COMPLETE; i++) {
		ck_assert_int_eq(
			clGetEventInfo(clq_event_get_cl(ev),
				       CL_EVENT_COMMAND_EXECUTION_STATUS,
				       sizeof(status), &status, NULL),
			CL_SUCCESS);
		if (status > CL_COMPLETE)
			sched_yield();
	}
	ck_assert_int_eq(status, CL_COMPLETE);
}

/*
 * A conflicting command that has ended without the host seeing it end
 * (no wait, no status read) is not ordered for CHECK, whose verdict must
 * not depend on the device's speed; AUTO needs no wait for it. Once the
 * host reads its status as complete, CHECK accepts the access.
 */
START_TEST(unseen_ends_do_not_order_check)
{
	enum clq_ordering mode = _i ? CLQ_ORDERING_AUTO : CLQ_ORDERING_CHECK;
	struct clq_queue *qa = test_queue_new(0), *qb = test_queue_new(0);
	struct clq_device_array *x = array_new(N, "X");
	struct clq_host_array *h = host_new(N), *back = host_new(N);
	struct clq_event *w = NULL;
	struct clq_ordering_stats s;
	int status = CL_QUEUED;

	set_mode(mode);
	host_fill(h, N, 7);
	ck_assert_ok(clq_device_array_set_async(x, qa, h, NULL, 0, &w));
	ck_assert_ok(clq_queue_flush(qa));
	wait_unseen(w);
	if (mode == CLQ_ORDERING_CHECK) {
		test_log_expect("hazard (read-after-write) on buffer 'X'");
		ck_assert_rc(clq_device_array_get(x, qb, back),
			     CLQ_ERROR_HAZARD);
		ck_assert(test_log_seen());
		test_log_expect(NULL);
		ck_assert_ok(clq_event_get_status(w, &status));
		ck_assert_int_eq(status, CL_COMPLETE);
	}
	ck_assert_ok(clq_device_array_get(x, qb, back));
	assert_ramp(data(back), N, 7, "read");
	s = stats();
	ck_assert_uint_eq(s.waits_added, 0);
	ck_assert_uint_eq(s.hazards, mode == CLQ_ORDERING_CHECK ? 1 : 0);
	clq_event_unref(w);
	clq_host_array_unref(h);
	clq_host_array_unref(back);
	clq_device_array_unref(x);
	clq_queue_unref(qa);
	clq_queue_unref(qb);
}
END_TEST

/*
 * A `const` pointer parameter is only read, whatever access the caller
 * declares: two launches reading one input through CLQ_ARG_ARRAY() (as
 * round-1 code does) on two queues do not conflict.
 */
START_TEST(const_parameters_are_reads)
{
	struct clq_device_array *src = array_new(N, "src");
	struct clq_device_array *d1 = array_new(N, "d1"),
				*d2 = array_new(N, "d2");
	struct clq_kernel *copy = kernel_new(test_ctx, "copy_k");
	struct clq_queue *qa = test_queue_new(0), *qb = test_queue_new(0);
	struct clq_event *gate = test_user_event_new(), *e1 = NULL, *e2 = NULL;
	const size_t n = N;
	cl_uint un = N;
	struct clq_arg a1[3] = {CLQ_ARG_ARRAY(d1), CLQ_ARG_ARRAY(src),
				CLQ_ARG_VALUE(un)};
	struct clq_arg a2[3] = {CLQ_ARG_ARRAY(d2), CLQ_ARG_ARRAY(src),
				CLQ_ARG_VALUE(un)};

	set_mode(_i ? CLQ_ORDERING_AUTO : CLQ_ORDERING_CHECK);
	ck_assert_ok(clq_device_array_zero(src, qa, NULL, 0, NULL));
	ck_assert_ok(clq_queue_finish(qa));
	ck_assert_ok(clq_queue_enqueue_kernel(qa, copy, a1, 3, 1, &n, NULL,
					      &gate, 1, &e1));
	ck_assert_ok(clq_queue_enqueue_kernel(qb, copy, a2, 3, 1, &n, NULL,
					      NULL, 0, &e2));
	/* the second runs while the first is held */
	ck_assert_ok(clq_event_wait(e2));
	ck_assert_uint_eq(stats().waits_added, 0);
	ck_assert_uint_eq(stats().hazards, 0);
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(e1));
	clq_event_unref(e1);
	clq_event_unref(e2);
	clq_event_unref(gate);
	clq_kernel_unref(copy);
	clq_queue_unref(qa);
	clq_queue_unref(qb);
	clq_device_array_unref(src);
	clq_device_array_unref(d1);
	clq_device_array_unref(d2);
}
END_TEST

static int
event_status(struct clq_event *e)
{
	int status = 0;

	ck_assert_ok(clq_event_get_status(e, &status));
	return status;
}

/*
 * Gives a command behind a failed user event a second to fail. PoCL fails
 * it at once; NVIDIA keeps it pending until the rest of its wait list (or
 * its queue) has ended, so the test goes on either way.
 */
static void
let_fail(struct clq_event *e)
{
	for (int i = 0; i < 1000 && event_status(e) > CL_COMPLETE; i++)
		usleep(1000);
}

/*
 * A failed write orders nothing: W, told by AUTO to wait for a held read
 * R1, fails at once through a failed user event (and the host sees it
 * fail). A later write W2, on another queue (_i == 0) or on W's queue
 * (where PoCL would run it straight after the failed W), must not run
 * before R1: it waits for W, and fails with it; R1 reads the old data.
 */
START_TEST(failed_write_orders_nothing)
{
	struct clq_queue *q1 = test_queue_new(0), *q2 = test_queue_new(0),
			 *q3 = test_queue_new(0);
	struct clq_device_array *x = array_new(N, "X");
	struct clq_host_array *h = host_new(N);
	struct clq_event *g = test_user_event_new(), *u = test_user_event_new();
	struct clq_event *r1 = NULL, *w = NULL, *w2 = NULL;
	const cl_uint five = 5, seven = 7, late = 99;
	int rc;

	set_mode(CLQ_ORDERING_AUTO);
	ck_assert_ok(clq_device_array_fill(x, q1, &five, NULL, 0, NULL));
	ck_assert_ok(clq_queue_finish(q1));
	ck_assert_ok(clq_device_array_get_async(x, q1, h, &g, 1, &r1));
	ck_assert_ok(clq_device_array_fill(x, q2, &seven, &u, 1, &w));
	ck_assert_uint_eq(stats().waits_added, 1);
	test_log_expect("*");
	ck_assert_ok(clq_user_event_complete(u, CL_INVALID_VALUE));
	let_fail(w);
	ck_assert_ok(
		clq_device_array_fill(x, _i ? q2 : q3, &late, NULL, 0, &w2));
	let_fail(w2);
	ck_assert_int_ne(event_status(w2), CL_COMPLETE);
	ck_assert_int_gt(event_status(r1), CL_COMPLETE); /* still held */
	ck_assert_ok(clq_user_event_complete(g, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(r1));
	/* W2 fails with W where the failure reached it, else (NVIDIA, W2
	 * behind W on its queue) runs after it: after R1 either way */
	rc = clq_event_wait(w2);
	ck_assert_msg(rc == CLQ_SUCCESS || rc == CLQ_ERROR_COMMAND_FAILED, "%s",
		      clq_error_name(rc));
	test_log_expect(NULL);
	for (size_t i = 0; i < N; i++)
		ck_assert_uint_eq(data(h)[i], 5);
	clq_event_unref(r1);
	clq_event_unref(w);
	clq_event_unref(w2);
	clq_event_unref(g);
	clq_event_unref(u);
	clq_host_array_unref(h);
	clq_device_array_unref(x);
	clq_queue_unref(q1);
	clq_queue_unref(q2);
	clq_queue_unref(q3);
}
END_TEST

/*
 * A released queue's slot goes to a new queue only once all its commands
 * completed: here its last command fails (through a user event) while an
 * earlier one is still held, and the new queue's write to the buffer that
 * earlier command writes must wait for it. _i 1: with failures shown as
 * CL_COMPLETE at first, as NVIDIA shows them (the released queue's last
 * marker read as complete gave the slot away).
 */
START_TEST(failed_queue_slot_is_not_reused_early)
{
	struct clq_kernel *add = kernel_new(test_ctx, "add_k");
	struct clq_queue *q0 = test_queue_new(0), *qo = test_queue_new(0), *qn;
	struct clq_device_array *x = array_new(N, "X"), *y = array_new(N, "Y");
	struct clq_host_array *h = host_new(N);
	struct clq_event *g = test_user_event_new(), *u = test_user_event_new();
	struct clq_event *b = NULL, *a = NULL, *w = NULL;
	cl_uint one = 1, un = N;
	const cl_uint zero = 0, five = 5, hundred = 100;
	struct clq_arg args[3] = {CLQ_ARG_INOUT(x), CLQ_ARG_VALUE(one),
				  CLQ_ARG_VALUE(un)};
	const size_t n = N;

	set_mode(CLQ_ORDERING_AUTO);
	pthread_mutex_lock(&late_lock);
	n_late_waited = 0;
	pthread_mutex_unlock(&late_lock);
	atomic_store(&late_failures, _i);
	ck_assert_ok(clq_device_array_fill(x, q0, &zero, NULL, 0, NULL));
	ck_assert_ok(clq_device_array_fill(y, q0, &zero, NULL, 0, NULL));
	ck_assert_ok(clq_queue_finish(q0));
	ck_assert_ok(clq_queue_enqueue_kernel(qo, add, args, 3, 1, &n, NULL, &g,
					      1, &b));
	ck_assert_ok(clq_device_array_fill(y, qo, &five, &u, 1, &a));
	clq_queue_unref(qo);
	test_log_expect("*");
	ck_assert_ok(clq_user_event_complete(u, CL_INVALID_VALUE));
	let_fail(a);
	qn = test_queue_new(0);
	ck_assert_ok(clq_device_array_fill(x, qn, &hundred, NULL, 0, &w));
	ck_assert_uint_eq(stats().waits_added, 1);
	ck_assert_int_gt(event_status(w), CL_COMPLETE); /* behind b */
	ck_assert_ok(clq_user_event_complete(g, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(w));
	test_log_expect(NULL);
	read_back(x, h);
	atomic_store(&late_failures, 0);
	for (size_t i = 0; i < N; i++)
		ck_assert_uint_eq(data(h)[i], 100);
	clq_event_unref(a);
	clq_event_unref(b);
	clq_event_unref(w);
	clq_event_unref(g);
	clq_event_unref(u);
	clq_kernel_unref(add);
	clq_host_array_unref(h);
	clq_device_array_unref(x);
	clq_device_array_unref(y);
	clq_queue_unref(q0);
	clq_queue_unref(qn);
}
END_TEST

/* ------------------------------------------------- the access matrix */

/*
 * Every kind of access against every other, on two queues, the first held
 * by a gate. A target is an array with a companion of the same shape (the
 * other side of copies and kernels) and a host array.
 */
struct target {
	struct clq_device_array *a, *other;
	struct clq_host_array *h;
	const char *label;
};

enum op {
	OP_SET,
	OP_SET_REGION,
	OP_FILL,
	OP_FILL_REGION,
	OP_ZERO,
	OP_COPY_IN,
	OP_COPY_REGION_IN,
	OP_KERNEL_OUT,
	OP_KERNEL_INOUT,
	OP_KERNEL_ARRAY,
	OP_GET,
	OP_GET_REGION,
	OP_COPY_OUT,
	OP_COPY_REGION_OUT,
	OP_KERNEL_IN,
	N_OPS
};

static const struct {
	const char *name;
	const char *what; /* in hazard messages */
	int writes;
} ops[N_OPS] = {
	[OP_SET] = {"set", "write", 1},
	[OP_SET_REGION] = {"set_region", "write", 1},
	[OP_FILL] = {"fill", "fill", 1},
	[OP_FILL_REGION] = {"fill_region", "fill", 1},
	[OP_ZERO] = {"zero", "fill", 1},
	[OP_COPY_IN] = {"copy into", "copy", 1},
	[OP_COPY_REGION_IN] = {"copy_region into", "copy", 1},
	[OP_KERNEL_OUT] = {"kernel OUT", "kernel 'copy_k'", 1},
	[OP_KERNEL_INOUT] = {"kernel INOUT", "kernel 'add_k'", 1},
	[OP_KERNEL_ARRAY] = {"kernel ARRAY", "kernel 'add_k'", 1},
	[OP_GET] = {"get", "read", 0},
	[OP_GET_REGION] = {"get_region", "read", 0},
	[OP_COPY_OUT] = {"copy from", "copy", 0},
	[OP_COPY_REGION_OUT] = {"copy_region from", "copy", 0},
	[OP_KERNEL_IN] = {"kernel IN", "kernel 'copy_k'", 0},
};

struct kernels {
	struct clq_kernel *copy, *add;
};

static int
run_op(enum op op, const struct target *t, const struct kernels *k,
       struct clq_queue *q, struct clq_event *const *wait, size_t n_wait,
       struct clq_event **ev)
{
	/* regions: writes at the start, reads further on, never overlapping
	 * (a region still counts as the whole buffer) */
	const size_t w_at = 0, r_at = 8, count = 4, n = N, one = 1;
	cl_uint un = N, v = 1;
	uint32_t value = 42;
	struct clq_arg args[3];

	switch (op) {
	case OP_SET:
		return clq_device_array_set_async(t->a, q, t->h, wait, n_wait,
						  ev);
	case OP_SET_REGION:
		return clq_device_array_set_region(t->a, q, t->h, &w_at, &w_at,
						   &count, wait, n_wait, ev);
	case OP_FILL:
		return clq_device_array_fill(t->a, q, &value, wait, n_wait, ev);
	case OP_FILL_REGION:
		return clq_device_array_fill_region(t->a, q, &w_at, &count,
						    &value, wait, n_wait, ev);
	case OP_ZERO:
		return clq_device_array_zero(t->a, q, wait, n_wait, ev);
	case OP_COPY_IN:
		return clq_device_array_copy(t->a, q, t->other, wait, n_wait,
					     ev);
	case OP_COPY_REGION_IN:
		return clq_device_array_copy_region(t->a, q, t->other, &w_at,
						    &r_at, &count, wait, n_wait,
						    ev);
	case OP_KERNEL_OUT:
		args[0] = CLQ_ARG_OUT(t->a);
		args[1] = CLQ_ARG_IN(t->other);
		args[2] = CLQ_ARG_VALUE(un);
		return clq_queue_enqueue_kernel(q, k->copy, args, 3, 1, &n,
						NULL, wait, n_wait, ev);
	case OP_KERNEL_INOUT:
		args[0] = CLQ_ARG_INOUT(t->a);
		args[1] = CLQ_ARG_VALUE(v);
		args[2] = CLQ_ARG_VALUE(un);
		return clq_queue_enqueue_kernel(q, k->add, args, 3, 1, &n, NULL,
						wait, n_wait, ev);
	case OP_KERNEL_ARRAY:
		args[0] = CLQ_ARG_ARRAY(t->a);
		args[1] = CLQ_ARG_VALUE(v);
		args[2] = CLQ_ARG_VALUE(un);
		return clq_queue_enqueue_kernel(q, k->add, args, 3, 1, &n, NULL,
						wait, n_wait, ev);
	case OP_GET:
		return clq_device_array_get_async(t->a, q, t->h, wait, n_wait,
						  ev);
	case OP_GET_REGION:
		return clq_device_array_get_region(t->a, q, t->h, &r_at, &r_at,
						   &count, wait, n_wait, ev);
	case OP_COPY_OUT:
		return clq_device_array_copy(t->other, q, t->a, wait, n_wait,
					     ev);
	case OP_COPY_REGION_OUT:
		return clq_device_array_copy_region(t->other, q, t->a, &w_at,
						    &r_at, &count, wait, n_wait,
						    ev);
	case OP_KERNEL_IN:
		args[0] = CLQ_ARG_OUT(t->other);
		args[1] = CLQ_ARG_IN(t->a);
		args[2] = CLQ_ARG_VALUE(un);
		return clq_queue_enqueue_kernel(q, k->copy, args, 3, 1, &n,
						NULL, wait, n_wait, ev);
	default:
		(void)one;
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
}

static void
target_init(struct target *t, struct clq_device_array *a, const char *label)
{
	size_t n = clq_device_array_get_shape(a)[0];

	t->a = a;
	t->label = label;
	ck_assert_ok(clq_device_array_set_label(a, label));
	t->other = array_new(n, NULL);
	t->h = host_new(n);
	host_fill(t->h, n, 1);
}

static void
target_free(struct target *t)
{
	clq_device_array_unref(t->a);
	clq_device_array_unref(t->other);
	clq_host_array_unref(t->h);
}

/*
 * One pair: `first` on `a` held by a gate on qa, then `second` on `b` on
 * qb. A conflict (either one writes) is refused in CHECK, waited for in
 * AUTO; anything else runs at once.
 */
static void
pair(enum clq_ordering mode, enum op first, enum op second,
     const struct target *a, const struct target *b, const struct kernels *k,
     struct clq_queue *qa, struct clq_queue *qb, struct capture *log)
{
	int conflict = ops[first].writes || ops[second].writes;
	struct clq_event *gate = test_user_event_new(), *e1 = NULL, *e2 = NULL;
	struct clq_ordering_stats before = stats(), after;
	int rc;

	capture_reset(log);
	ck_assert_ok(run_op(first, a, k, qa, &gate, 1, &e1));
	rc = run_op(second, b, k, qb, NULL, 0, &e2);
	after = stats();
	if (!conflict) {
		ck_assert_msg(rc == CLQ_SUCCESS, "%s then %s: %s",
			      ops[first].name, ops[second].name,
			      clq_error_name(rc));
		ck_assert_int_eq(log->errors, 0);
		ck_assert_uint_eq(after.waits_added, before.waits_added);
		/* not serialised: runs while the first is held */
		ck_assert_ok(clq_event_wait(e2));
		ck_assert(held(e1));
	} else if (mode == CLQ_ORDERING_CHECK) {
		const char *kind = !ops[first].writes	? "write-after-read"
				   : ops[second].writes ? "write-after-write"
							: "read-after-write";
		char expect[256];

		ck_assert_msg(rc == CLQ_ERROR_HAZARD, "%s then %s: %s",
			      ops[first].name, ops[second].name,
			      clq_error_name(rc));
		ck_assert_ptr_null(e2);
		ck_assert_uint_eq(after.hazards, before.hazards + 1);
		ck_assert_int_eq(log->errors, 1);
		snprintf(expect, sizeof(expect),
			 "hazard (%s) on buffer '%s': this %s on queue ", kind,
			 b->label, ops[second].what);
		ck_assert_msg(strstr(log->text, expect), "%s then %s: %s",
			      ops[first].name, ops[second].name, log->text);
		snprintf(expect, sizeof(expect), " what the %s on queue ",
			 ops[first].what);
		ck_assert_msg(strstr(log->text, expect), "%s then %s: %s",
			      ops[first].name, ops[second].name, log->text);
	} else {
		ck_assert_msg(rc == CLQ_SUCCESS, "%s then %s: %s",
			      ops[first].name, ops[second].name,
			      clq_error_name(rc));
		ck_assert_msg(after.waits_added == before.waits_added + 1,
			      "%s then %s: %" PRIu64 " waits added",
			      ops[first].name, ops[second].name,
			      after.waits_added - before.waits_added);
		ck_assert_msg(held_after_probe(e2), "%s then %s: not held",
			      ops[first].name, ops[second].name);
	}
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	ck_assert_ok(clq_queue_finish(qa));
	ck_assert_ok(clq_queue_finish(qb));
	ck_assert_int_eq(test_event_status(e1), CL_COMPLETE);
	if (e2)
		ck_assert_int_eq(test_event_status(e2), CL_COMPLETE);
	clq_event_unref(e1);
	clq_event_unref(e2);
	clq_event_unref(gate);
}

/*
 * `_i`: 0 CHECK, the root against an alias of its second half; 1 AUTO,
 * the alias of the first half against that of the second (disjoint, on
 * one root); 2 AUTO, an alias against the root.
 */
START_TEST(access_matrix)
{
	enum clq_ordering mode = _i ? CLQ_ORDERING_AUTO : CLQ_ORDERING_CHECK;
	struct clq_device_array *root = array_new(2 * N, NULL);
	struct target t[3];
	const struct target *a, *b;
	struct kernels k = {kernel_new(test_ctx, "copy_k"),
			    kernel_new(test_ctx, "add_k")};
	struct clq_queue *qa = test_queue_new(0), *qb = test_queue_new(0);
	struct capture log;
	size_t pairs = 0;

	set_mode(mode);
	target_init(&t[0], root, "root");
	target_init(&t[1], alias_new(root, 0, N, NULL), "first half");
	target_init(&t[2], alias_new(root, N, N, NULL), "second half");
	/* one root buffer, and one per companion */
	ck_assert_uint_eq(stats().buffers, 4);
	a = _i == 0 ? &t[0] : _i == 1 ? &t[1] : &t[2];
	b = _i == 0 ? &t[2] : _i == 1 ? &t[2] : &t[0];
	capture_start(&log, test_ctx);
	for (int i = 0; i < N_OPS; i++) {
		for (int j = 0; j < N_OPS; j++) {
			/* quick runs: each op first and second 5 times */
			if (quick() && (i + j) % 3)
				continue;
			pair(mode, (enum op)i, (enum op)j, a, b, &k, qa, qb,
			     &log);
			pairs++;
		}
	}
	capture_stop(&log, test_ctx);
	ck_assert_uint_gt(pairs, 0);
	for (int i = 0; i < 3; i++)
		target_free(&t[i]);
	ck_assert_uint_eq(stats().buffers, 0);
	ck_assert_uint_eq(stats().events_held, 0);
	clq_kernel_unref(k.copy);
	clq_kernel_unref(k.add);
	clq_queue_unref(qa);
	clq_queue_unref(qb);
}
END_TEST

/*
 * An unlabelled array is named by its dtype and shape; a kernel whose
 * arguments name one buffer twice (IN and, through an alias, OUT) both
 * reads and writes it.
 */
START_TEST(kernel_arguments_merge)
{
	struct clq_device_array *root = array_new(2 * N, NULL);
	struct clq_device_array *lo = alias_new(root, 0, N, "lo"),
				*hi = alias_new(root, N, N, NULL);
	struct clq_kernel *copy = kernel_new(test_ctx, "copy_k");
	struct clq_queue *qa = test_queue_new(0), *qb = test_queue_new(0);
	struct clq_host_array *h = host_new(N), *back = host_new(2 * N);
	struct clq_event *gate = test_user_event_new(), *e = NULL;
	const size_t n = N;
	cl_uint un = N;
	struct clq_arg args[3] = {CLQ_ARG_OUT(hi), CLQ_ARG_IN(lo),
				  CLQ_ARG_VALUE(un)};
	char expect[128];

	set_mode(CLQ_ORDERING_CHECK);
	host_fill(h, N, 11);
	ck_assert_ok(clq_device_array_set(lo, qa, h));
	/* a read of `lo` held on qa */
	ck_assert_ok(clq_device_array_get_async(lo, qa, h, &gate, 1, NULL));
	/* copy lo -> hi on qb: IN lo is fine, OUT hi writes the same root */
	test_log_expect("hazard (write-after-read) on buffer an unlabelled");
	ck_assert_rc(clq_queue_enqueue_kernel(qb, copy, args, 3, 1, &n, NULL,
					      NULL, 0, &e),
		     CLQ_ERROR_HAZARD);
	ck_assert(test_log_seen());
	/* the message names the first array of the root the command uses */
	snprintf(expect, sizeof(expect), "an unlabelled %s array of shape [%d]",
		 clq_dtype_name(CLQ_DTYPE_UINT32), N);
	ck_assert_msg(strstr(test_log_text(), expect), "%s", test_log_text());
	ck_assert_ptr_nonnull(strstr(test_log_text(), "kernel 'copy_k'"));
	test_log_expect(NULL);
	/* in order on qa, the same kernel is fine */
	ck_assert_ok(clq_queue_enqueue_kernel(qa, copy, args, 3, 1, &n, NULL,
					      NULL, 0, &e));
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	ck_assert_ok(clq_event_wait(e));
	read_back(root, back);
	assert_ramp(data(back), N, 11, "lo");
	assert_ramp(data(back) + N, N, 11, "hi");
	ck_assert_uint_eq(stats().hazards, 1);
	ck_assert_uint_eq(stats().buffers, 1);
	clq_event_unref(e);
	clq_event_unref(gate);
	clq_host_array_unref(h);
	clq_host_array_unref(back);
	clq_device_array_unref(lo);
	clq_device_array_unref(hi);
	clq_device_array_unref(root);
	clq_kernel_unref(copy);
	clq_queue_unref(qa);
	clq_queue_unref(qb);
}
END_TEST

/* ------------------------------------------------------- bounded state */

/*
 * Many commands over 4 queues and 8 buffers in AUTO, with no wait of the
 * caller's: fills write a buffer with the command's number, reads copy it
 * to a row of a host array. The tracking holds at most the last write and
 * one read per queue of each buffer, whatever the count; every read sees
 * the last fill before it in program order; at the end, nothing is held.
 */
#define BQ 4
#define BB 8
#define BE 4	   /* elements per buffer */
#define WINDOW 512 /* commands between two finishes: reads per host row */

START_TEST(bounded_state)
{
	const size_t total = quick() ? 20000 : 1000000;
	const size_t e = BE, rows = WINDOW * BE;
	struct clq_queue *q[BQ];
	struct clq_device_array *b[BB];
	struct clq_host_array *h = host_new(rows);
	uint32_t last[BB] = {0}, expect[WINDOW];
	struct clq_ordering_stats s;
	uint64_t max_held = 0;
	uint32_t rng = 12345;

	set_mode(CLQ_ORDERING_AUTO);
	for (int i = 0; i < BQ; i++)
		q[i] = test_queue_new(0);
	for (int i = 0; i < BB; i++)
		b[i] = array_new(e, NULL);
	for (size_t c = 0; c < total; c++) {
		size_t in_window = c % WINDOW;
		unsigned qi, bi, write;

		rng = rng * 1103515245u + 12345u;
		qi = (rng >> 8) % BQ;
		bi = (rng >> 12) % BB;
		write = ((rng >> 20) & 3) == 0; /* a quarter are writes */
		if (write) {
			uint32_t value = (uint32_t)c + 1;

			ck_assert_ok(clq_device_array_fill(b[bi], q[qi], &value,
							   NULL, 0, NULL));
			last[bi] = value;
			expect[in_window] = 0;
		} else {
			const size_t zero = 0, at = in_window * BE;

			ck_assert_ok(clq_device_array_get_region(
				b[bi], q[qi], h, &zero, &at, &e, NULL, 0,
				NULL));
			expect[in_window] = last[bi];
		}
		s = stats();
		if (s.events_held > max_held)
			max_held = s.events_held;
		ck_assert_msg(s.events_held <= (BQ + 1) * BB,
			      "%" PRIu64 " events held after %zu commands",
			      s.events_held, c + 1);
		if (in_window == WINDOW - 1 || c == total - 1) {
			for (int i = 0; i < BQ; i++)
				ck_assert_ok(clq_queue_finish(q[i]));
			for (size_t r = 0; r <= in_window; r++) {
				if (!expect[r])
					continue;
				assert_all(data(h) + r * BE, BE, expect[r],
					   "read");
			}
			memset(data(h), 0, rows * sizeof(uint32_t));
		}
	}
	s = stats();
	ck_assert_uint_eq(s.accesses, total);
	ck_assert_uint_gt(s.waits_added, 0);
	ck_assert_uint_le(s.waits_added, total);
	ck_assert_uint_eq(s.buffers, BB);
	ck_assert_uint_gt(max_held, BB);
	for (int i = 0; i < BB; i++)
		clq_device_array_unref(b[i]);
	s = stats();
	ck_assert_uint_eq(s.events_held, 0);
	ck_assert_uint_eq(s.buffers, 0);
	for (int i = 0; i < BQ; i++)
		clq_queue_unref(q[i]);
	clq_host_array_unref(h);
}
END_TEST

/* ---------------------------------------------------------- threads */

/*
 * Threads, each on its own queue, increment every element of one shared
 * array (a kernel, INOUT) and now and then snapshot it into an array of
 * their own (IN), in AUTO with no wait of their own. The first commands
 * of every thread are held by one gate, opened once all are enqueued, so
 * that each thread's first increment conflicts with pending ones of the
 * others. Every increment must count and every snapshot must be whole:
 * one value throughout, at least the thread's own increments so far.
 */
#define THREADS 4

struct worker {
	struct clq_device_array *shared;
	struct clq_kernel *add, *copy;
	struct clq_event *gate;
	pthread_barrier_t *enqueued; /* the gated commands of all threads */
	size_t rounds;
	int failures;
	char what[160];
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	const size_t n = N;
	struct clq_queue *q = NULL;
	struct clq_device_array *mine = NULL;
	struct clq_host_array *h = NULL;
	cl_uint un = N, v = 1;
	int rc, arrived = 0;

	if ((rc = clq_queue_create(test_ctx, 0, &q)) != CLQ_SUCCESS ||
	    (rc = clq_device_array_create(test_ctx, CLQ_DTYPE_UINT32, 1, &n,
					  NULL, &mine)) != CLQ_SUCCESS ||
	    (rc = clq_host_array_create(test_ctx, CLQ_DTYPE_UINT32, 1, &n, NULL,
					&h)) != CLQ_SUCCESS)
		goto out;
	for (size_t r = 0; r < w->rounds; r++) {
		struct clq_arg inc[3] = {CLQ_ARG_INOUT(w->shared),
					 CLQ_ARG_VALUE(v), CLQ_ARG_VALUE(un)};
		struct clq_arg snap[3] = {CLQ_ARG_OUT(mine),
					  CLQ_ARG_IN(w->shared),
					  CLQ_ARG_VALUE(un)};
		uint32_t *d = clq_host_array_data(h);

		if ((rc = clq_queue_enqueue_kernel(q, w->add, inc, 3, 1, &n,
						   NULL, &w->gate, r == 0,
						   NULL)) != CLQ_SUCCESS)
			goto out;
		if (r % 8 != 7 && r + 1 != w->rounds)
			continue;
		if (!arrived) {
			arrived = 1;
			pthread_barrier_wait(w->enqueued);
		}
		if ((rc = clq_queue_enqueue_kernel(q, w->copy, snap, 3, 1, &n,
						   NULL, NULL, 0, NULL)) !=
			    CLQ_SUCCESS ||
		    (rc = clq_device_array_get(mine, q, h)) != CLQ_SUCCESS)
			goto out;
		for (size_t i = 0; i < n; i++) {
			if (d[i] != d[0] || d[0] < r + 1 ||
			    d[0] > THREADS * w->rounds) {
				w->failures++;
				snprintf(w->what, sizeof(w->what),
					 "round %zu: snapshot element %zu is "
					 "%" PRIu32 ", element 0 %" PRIu32,
					 r, i, d[i], d[0]);
				goto out;
			}
		}
	}
out:
	if (rc != CLQ_SUCCESS) {
		w->failures++;
		snprintf(w->what, sizeof(w->what), "%s", clq_error_name(rc));
	}
	if (!arrived)
		pthread_barrier_wait(w->enqueued);
	if (q)
		clq_queue_finish(q);
	clq_host_array_unref(h);
	clq_device_array_unref(mine);
	clq_queue_unref(q);
	return NULL;
}

START_TEST(threads_share_buffers)
{
	size_t rounds = quick() ? 40 : 400;
	struct clq_device_array *shared = array_new(N, "shared");
	struct clq_kernel *add = kernel_new(test_ctx, "add_k"),
			  *copy = kernel_new(test_ctx, "copy_k");
	struct clq_host_array *h = host_new(N);
	struct clq_event *gate = test_user_event_new();
	struct worker w[THREADS];
	pthread_t tid[THREADS];
	pthread_barrier_t enqueued;
	struct clq_ordering_stats s;

	set_mode(CLQ_ORDERING_AUTO);
	{
		struct clq_queue *q = test_queue_new(0);

		ck_assert_ok(clq_device_array_zero(shared, q, NULL, 0, NULL));
		ck_assert_ok(clq_queue_finish(q));
		clq_queue_unref(q);
	}
	ck_assert_int_eq(pthread_barrier_init(&enqueued, NULL, THREADS + 1), 0);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.shared = shared,
				       .add = add,
				       .copy = copy,
				       .gate = gate,
				       .enqueued = &enqueued,
				       .rounds = rounds};
		ck_assert_int_eq(
			pthread_create(&tid[i], NULL, worker_main, &w[i]), 0);
	}
	pthread_barrier_wait(&enqueued);
	/* every thread's first increment after another's, still held */
	ck_assert_uint_ge(stats().waits_added, THREADS - 1);
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	for (int i = 0; i < THREADS; i++) {
		ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
		ck_assert_msg(w[i].failures == 0, "thread %d: %s", i,
			      w[i].what);
	}
	read_back(shared, h);
	assert_all(data(h), N, (uint32_t)(THREADS * rounds), "total");
	s = stats();
	ck_assert_uint_eq(s.hazards, 0);
	pthread_barrier_destroy(&enqueued);
	clq_event_unref(gate);
	clq_host_array_unref(h);
	clq_device_array_unref(shared);
	clq_kernel_unref(add);
	clq_kernel_unref(copy);
}
END_TEST

/* -------------------------------------------------------------- suite */

static Suite *
order_suite(void)
{
	Suite *s = suite_create("order");
	TCase *tc = tcase_create("modes");

	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, mode_defaults_and_setting);
	tcase_add_test(tc, manual_tracks_nothing);
	tcase_add_test(tc, bad_input);
	tcase_add_test(tc, queue_labels);
	tcase_add_test(tc, environment_sets_the_mode);
	tcase_add_test(tc, environment_bogus_value);
	suite_add_tcase(s, tc);

	tc = tcase_create("demo race");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_test(tc, demo_race_check_refuses);
	tcase_add_test(tc, demo_with_its_wait_passes_check);
	tcase_add_test(tc, demo_race_auto_orders);
	tcase_add_test(tc, demo_race_manual_untouched);
	suite_add_tcase(s, tc);

	tc = tcase_create("happens-before");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_add_loop_test(tc, transitive_through_wait_lists, 0, 2);
	tcase_add_loop_test(tc, transitive_through_waits_and_barriers, 0, 2);
	tcase_add_loop_test(tc, broken_chain_is_a_conflict, 0, 2);
	tcase_add_loop_test(tc, reads_share_writes_wait, CLQ_ORDERING_MANUAL,
			    CLQ_ORDERING_AUTO + 1);
	tcase_add_loop_test(tc, completed_commands_are_ordered, 0, 2);
	tcase_add_loop_test(tc, unseen_ends_do_not_order_check, 0, 2);
	tcase_add_loop_test(tc, failed_write_orders_nothing, 0, 2);
	tcase_add_loop_test(tc, failed_queue_slot_is_not_reused_early, 0, 2);
	tcase_add_loop_test(tc, implied_waits_are_not_added, 0, 2);
	tcase_add_loop_test(tc, released_queue_keeps_its_slot, 0, 2);
	tcase_add_loop_test(tc, many_buffers, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("accesses");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, access_matrix, 0, 3);
	tcase_add_test(tc, kernel_arguments_merge);
	tcase_add_loop_test(tc, const_parameters_are_reads, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("bounded");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, bounded_state);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, threads_share_buffers);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_main(order_suite(), 1);
}
