/* SPDX-License-Identifier: BSD-3-Clause */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <clq/clq.h>

#include "test-common.h"

static struct clq_timeline *
timeline_new(void)
{
	struct clq_timeline *tl = NULL;

	ck_assert_ok(clq_timeline_create(test_ctx, &tl));
	return tl;
}

static const struct clq_timeline_label_summary *
find_label(const struct clq_timeline_summary *s, const char *label)
{
	for (size_t i = 0; i < s->n_labels; i++)
		if (strcmp(s->labels[i].label, label) == 0)
			return &s->labels[i];
	return NULL;
}

static int
count(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Busy time per track and cross-track overlap on fabricated spans (ns):
 * A [0,10] [20,30] [25,35], B [5,25]: A is busy 25, B 20; A and B
 * together during [5,10] and [20,25]; A's own overlap [25,30] is not
 * overlap between tracks. */
START_TEST(summary_arithmetic)
{
	struct clq_timeline *tl = timeline_new();
	struct clq_timeline_summary *s = NULL;
	const struct clq_timeline_label_summary *l;

	ck_assert_ok(clq_timeline_add_span(tl, "A", "x", 1000, 1010, 0));
	ck_assert_ok(clq_timeline_add_span(tl, "A", "y", 1020, 1030, 0));
	ck_assert_ok(clq_timeline_add_span(tl, "A", "x", 1025, 1035, 0));
	ck_assert_ok(clq_timeline_add_span(tl, "B", "x", 1005, 1025, 0));
	ck_assert_ok(clq_timeline_summarize(tl, &s));
	ck_assert_uint_eq(s->n_tracks, 2);
	ck_assert_str_eq(s->tracks[0].name, "A");
	ck_assert_double_eq_tol(s->tracks[0].busy_s, 25e-9, 1e-15);
	ck_assert_double_eq_tol(s->tracks[1].busy_s, 20e-9, 1e-15);
	ck_assert_uint_eq(s->tracks[0].count, 3);
	ck_assert_double_eq_tol(s->span_s, 35e-9, 1e-15);
	ck_assert_double_eq_tol(s->overlap_s, 10e-9, 1e-15);
	l = find_label(s, "x");
	ck_assert_ptr_nonnull(l);
	ck_assert_uint_eq(l->count, 3);
	ck_assert_double_eq_tol(l->total_s, 40e-9, 1e-15);
	ck_assert_double_eq_tol(l->min_s, 10e-9, 1e-15);
	ck_assert_double_eq_tol(l->median_s, 10e-9, 1e-15);
	ck_assert_double_eq_tol(l->max_s, 20e-9, 1e-15);
	ck_assert_uint_eq(s->untimed, 0);
	clq_timeline_summary_free(s);
	clq_timeline_unref(tl);
}
END_TEST

/* Every kind of command gets its default label; a one-shot label
 * overrides the next command only. The exports name them all. */
START_TEST(queue_records_default_labels)
{
	const size_t n = 64;
	struct clq_timeline *tl = timeline_new();
	struct clq_queue *q = test_queue_new(CLQ_QUEUE_PROFILING);
	struct clq_device_array *a = NULL, *b = NULL;
	struct clq_host_array *h = NULL;
	struct clq_program *p = NULL;
	struct clq_kernel *k = NULL;
	struct clq_event *ev = NULL;
	struct clq_timeline_summary *s = NULL;
	const char *labels[] = {"write",       "read",	 "copy",    "fill",
				"kernel fill", "marker", "barrier", "mine"};
	cl_uint count_arg = (cl_uint)n;
	cl_float value = 1.0f;
	size_t global = n;
	char *text = NULL;
	size_t text_size = 0;
	int timed;
	FILE *mem;

	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					     NULL, &a));
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					     NULL, &b));
	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					   NULL, &h));
	ck_assert_ok(clq_program_create_from_file(test_ctx, "fill.cl", NULL, 0,
						  NULL, &p));
	ck_assert_ok(clq_kernel_create(p, "fill", &k));
	ck_assert_ok(clq_queue_set_timeline(q, tl, "queue 1"));
	ck_assert_ok(clq_device_array_set(a, q, h));
	ck_assert_ok(clq_device_array_get(a, q, h));
	ck_assert_ok(clq_device_array_copy(b, q, a, NULL, 0, NULL));
	ck_assert_ok(clq_device_array_zero(b, q, NULL, 0, NULL));
	struct clq_arg args[] = {CLQ_ARG_ARRAY(a), CLQ_ARG_VALUE(count_arg),
				 CLQ_ARG_VALUE(value)};
	ck_assert_ok(clq_queue_enqueue_kernel(q, k, args, 3, 1, &global, NULL,
					      NULL, 0, NULL));
	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, &ev));
	ck_assert_ok(clq_queue_enqueue_wait_for_events(q, &ev, 1));
	ck_assert_ok(clq_queue_set_next_label(q, "mine"));
	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, NULL));
	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, NULL));
	ck_assert_ok(clq_queue_finish(q));

	ck_assert_ok(clq_timeline_summarize(tl, &s));
	ck_assert_uint_eq(clq_timeline_get_pending(tl), 0);
	ck_assert_uint_eq(clq_timeline_get_count(tl), 9);
	/* NVIDIA reports zero times for some markers: flagged, not drawn */
	timed = 9 - (int)s->untimed;
	ck_assert_int_ge(timed, 5);
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		ck_assert_msg(find_label(s, labels[i]), "no label '%s'",
			      labels[i]);
	ck_assert_uint_eq(find_label(s, "write")->count, 1);
	ck_assert_uint_eq(find_label(s, "kernel fill")->count, 1);
	clq_timeline_summary_free(s);

	mem = open_memstream(&text, &text_size);
	ck_assert_ok(clq_timeline_write_trace(tl, mem));
	fclose(mem);
	ck_assert_int_eq(count(text, "\"ph\": \"X\""), timed);
	ck_assert_int_eq(count(text, "\"thread_name\""), 1);
	ck_assert_int_eq(count(text, "{"), count(text, "}"));
	ck_assert_ptr_nonnull(strstr(text, "\"bytes\": 256"));
	/* a kernel's bytes are its array arguments' sizes: a, 256 bytes */
	ck_assert_ptr_nonnull(strstr(text, "\"name\": \"kernel fill\""));
	ck_assert_ptr_nonnull(strstr(strstr(text, "\"name\": \"kernel fill\""),
				     "\"bytes\": 256,"));
	free(text);

	mem = open_memstream(&text, &text_size);
	ck_assert_ok(clq_timeline_write_svg(tl, mem));
	fclose(mem);
	ck_assert_ptr_nonnull(strstr(text, "<svg "));
	ck_assert_ptr_nonnull(strstr(text, "</svg>\n"));
	ck_assert_int_eq(count(text, "<title>"), timed);
	/* a bar per record, the background, a legend swatch per label */
	ck_assert_int_eq(count(text, "<rect"), timed + 1 + 8);
	free(text);

	mem = open_memstream(&text, &text_size);
	ck_assert_ok(clq_timeline_write_summary(tl, mem));
	fclose(mem);
	ck_assert_ptr_nonnull(strstr(text, "queue 1"));
	ck_assert_ptr_nonnull(strstr(text, "kernel fill"));
	free(text);

	ck_assert_ok(clq_queue_set_timeline(q, NULL, NULL));
	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, NULL));
	ck_assert_ok(clq_timeline_flush(tl));
	ck_assert_uint_eq(clq_timeline_get_count(tl), 9);

	clq_event_unref(ev);
	clq_kernel_unref(k);
	clq_program_unref(p);
	clq_host_array_unref(h);
	clq_device_array_unref(a);
	clq_device_array_unref(b);
	clq_queue_unref(q);
	clq_timeline_unref(tl);
}
END_TEST

/* A long run: events are released as they are harvested, memory grows
 * with the records only (CLQ_TEST_QUICK shortens it under valgrind and
 * the sanitizers). */
START_TEST(long_run_memory_is_bounded)
{
	size_t n = getenv("CLQ_TEST_QUICK") ? 20000 : 1000000;
	struct clq_timeline *tl = timeline_new();
	struct clq_queue *q = test_queue_new(CLQ_QUEUE_PROFILING);
	size_t max_pending = 0;

	ck_assert_ok(clq_queue_set_timeline(q, tl, "markers"));
	for (size_t i = 0; i < n; i++) {
		ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, NULL));
		if (i % 10000 == 9999) {
			size_t pending = clq_timeline_get_pending(tl);

			if (pending > max_pending)
				max_pending = pending;
			ck_assert_ok(clq_queue_finish(q));
		}
	}
	ck_assert_ok(clq_timeline_flush(tl));
	ck_assert_uint_eq(clq_timeline_get_pending(tl), 0);
	ck_assert_uint_eq(clq_timeline_get_count(tl), n);
	/* pending: completed commands wait for the next harvest, so up to
	 * twice the 10^4 in flight, rounded to the array's power of two */
	ck_assert_uint_le(max_pending, 32768);
	/* the documented bound: about 100 bytes per record (48 each,
	 * doubling), 32 per pending command, a few kilobytes */
	ck_assert_uint_le(clq_timeline_get_memory(tl),
			  100 * n + 64 * 1024 + 32768 * 32);
	clq_queue_unref(q);
	clq_timeline_unref(tl);
}
END_TEST

/* Several threads share one timeline: each enqueues on its own queue
 * (attached under its own track), labels some commands, adds hand spans
 * and host spans to shared tracks, and finishes now and then; one more
 * thread summarises, counts and flushes all the while. Every command must
 * be recorded exactly once. Workers report failures by count (Check's
 * assertions belong to the main thread). */
#define STRESS_THREADS 4

struct stress {
	struct clq_timeline *tl;
	int index;
	size_t iters;
	size_t recorded; /* records this worker caused */
	int failures;
	pthread_mutex_t *lock; /* guards *done (a mutex: helgrind follows it) */
	const int *done;
};

static int
stress_done(const struct stress *r)
{
	int done;

	pthread_mutex_lock(r->lock);
	done = *r->done;
	pthread_mutex_unlock(r->lock);
	return done;
}

static void *
stress_worker(void *arg)
{
	struct stress *w = arg;
	struct clq_queue *q = NULL;
	char track[32];

	snprintf(track, sizeof(track), "thread %d", w->index);
	if (clq_queue_create(test_ctx, CLQ_QUEUE_PROFILING, &q) < 0 ||
	    clq_queue_set_timeline(q, w->tl, track) < 0) {
		w->failures++;
		clq_queue_unref(q);
		return NULL;
	}
	for (size_t i = 0; i < w->iters; i++) {
		uint64_t begin = 0;

		w->failures += clq_queue_enqueue_marker(q, NULL, 0, NULL) < 0;
		if (i % 4 == 0) {
			w->failures += clq_queue_set_next_label(q, "mine") < 0;
			w->failures +=
				clq_queue_enqueue_barrier(q, NULL, 0, NULL) < 0;
			w->recorded++;
		}
		if (i % 8 == 0) {
			w->failures +=
				clq_timeline_add_span(w->tl, "hand", "span", i,
						      i + 1, 4) < 0;
			w->failures +=
				clq_timeline_host_begin(w->tl, &begin) < 0;
			w->failures +=
				clq_timeline_host_end(w->tl, begin, "host") < 0;
			w->recorded += 2;
		}
		if (i % 100 == 99)
			w->failures += clq_queue_finish(q) < 0;
		w->recorded++;
	}
	/* detach while the others keep recording */
	w->failures += clq_queue_finish(q) < 0;
	w->failures += clq_queue_set_timeline(q, NULL, NULL) < 0;
	w->failures += clq_queue_enqueue_marker(q, NULL, 0, NULL) < 0;
	clq_queue_unref(q);
	return NULL;
}

static void *
stress_reader(void *arg)
{
	struct stress *r = arg;

	while (!stress_done(r)) {
		struct clq_timeline_summary *s = NULL;

		r->failures += clq_timeline_summarize(r->tl, &s) < 0;
		clq_timeline_summary_free(s);
		(void)clq_timeline_get_count(r->tl);
		(void)clq_timeline_get_pending(r->tl);
		(void)clq_timeline_get_memory(r->tl);
		r->failures += clq_timeline_flush(r->tl) < 0;
		r->recorded++; /* rounds */
	}
	return NULL;
}

START_TEST(threads_share_one_timeline)
{
	size_t iters = getenv("CLQ_TEST_QUICK") ? 400 : 4000;
	struct clq_timeline *tl = timeline_new();
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct stress w[STRESS_THREADS],
		reader = {tl, -1, 0, 0, 0, &lock, NULL};
	pthread_t tid[STRESS_THREADS], reader_tid;
	struct clq_timeline_summary *s = NULL;
	size_t expected = 0, timed = 0;
	int done = 0;

	reader.done = &done;
	ck_assert_int_eq(
		pthread_create(&reader_tid, NULL, stress_reader, &reader), 0);
	for (int i = 0; i < STRESS_THREADS; i++) {
		w[i] = (struct stress){tl, i, iters, 0, 0, NULL, NULL};
		ck_assert_int_eq(
			pthread_create(&tid[i], NULL, stress_worker, &w[i]), 0);
	}
	for (int i = 0; i < STRESS_THREADS; i++) {
		ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
		ck_assert_int_eq(w[i].failures, 0);
		expected += w[i].recorded;
	}
	pthread_mutex_lock(&lock);
	done = 1;
	pthread_mutex_unlock(&lock);
	ck_assert_int_eq(pthread_join(reader_tid, NULL), 0);
	ck_assert_int_eq(reader.failures, 0);

	ck_assert_ok(clq_timeline_summarize(tl, &s));
	ck_assert_uint_eq(clq_timeline_get_count(tl), expected);
	ck_assert_uint_eq(clq_timeline_get_pending(tl), 0);
	/* a track per thread, "hand" and "host" */
	ck_assert_uint_eq(s->n_tracks, STRESS_THREADS + 2);
	ck_assert_uint_eq(find_label(s, "span")->count,
			  STRESS_THREADS * ((iters + 7) / 8));
	/* NVIDIA gives some markers and barriers no times: those are
	 * counted as untimed, not on their track */
	ck_assert_uint_le(find_label(s, "mine")->count,
			  STRESS_THREADS * ((iters + 3) / 4));
	for (size_t t = 0; t < s->n_tracks; t++)
		timed += s->tracks[t].count;
	ck_assert_uint_eq(timed + s->untimed, expected);
	clq_timeline_summary_free(s);
	clq_timeline_unref(tl);
}
END_TEST

/* Host spans land on the device's time axis: a marker enqueued after
 * host_begin() starts after it, give or take the alignment error. */
START_TEST(host_spans_align_with_the_device)
{
	struct clq_timeline *tl = timeline_new();
	struct clq_queue *q = test_queue_new(CLQ_QUEUE_PROFILING);
	struct clq_event *ev = NULL;
	struct clq_event_times t;
	struct clq_timeline_summary *s = NULL;
	double err = clq_timeline_get_host_error(tl);
	uint64_t begin;

	ck_assert(err >= 0 && err < 0.01);
	ck_assert_ok(clq_timeline_host_begin(tl, &begin));
	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, &ev));
	ck_assert_ok(clq_event_get_times(ev, &t));
	test_sleep_ms(5);
	ck_assert_ok(clq_timeline_host_end(tl, begin, "work"));
	ck_assert_msg((double)t.start + 2 * err * 1e9 + 1e6 >= (double)begin,
		      "marker at %llu, host span from %llu",
		      (unsigned long long)t.start, (unsigned long long)begin);
	ck_assert_ok(clq_timeline_summarize(tl, &s));
	ck_assert_str_eq(s->tracks[0].name, "host");
	ck_assert(s->tracks[0].busy_s >= 0.005);
	clq_timeline_summary_free(s);
	clq_event_unref(ev);
	clq_queue_unref(q);
	clq_timeline_unref(tl);
}
END_TEST

/* The title, escaped, heads the SVG and goes into the trace's otherData. */
START_TEST(title_in_svg_and_trace)
{
	struct clq_timeline *tl = timeline_new();
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	ck_assert_ok(clq_timeline_add_span(tl, "q", "k", 1000, 2000, 0));
	ck_assert_ok(clq_timeline_set_title(tl, "run <1> & \"x\""));
	out = open_memstream(&text, &len);
	ck_assert_ok(clq_timeline_write_svg(tl, out));
	fclose(out);
	ck_assert_int_eq(count(text, "<title>run &#60;1&#62; &#38; &#34;x&#34;"
				     "</title>"),
			 1);
	ck_assert_int_eq(count(text, ">run &#60;1&#62; &#38; &#34;x&#34;"
				     "</text>"),
			 1);
	free(text);
	out = open_memstream(&text, &len);
	ck_assert_ok(clq_timeline_write_trace(tl, out));
	fclose(out);
	ck_assert_int_eq(count(text, "\"title\": \"run <1> & \\\"x\\\"\""), 1);
	free(text);

	ck_assert_ok(clq_timeline_set_title(tl, NULL));
	out = open_memstream(&text, &len);
	ck_assert_ok(clq_timeline_write_svg(tl, out));
	fclose(out);
	ck_assert_int_eq(count(text, "run &#60;1"), 0);
	free(text);
	test_log_expect("timeline is NULL");
	ck_assert_rc(clq_timeline_set_title(NULL, "x"),
		     CLQ_ERROR_INVALID_ARGUMENT);
	clq_timeline_unref(tl);
}
END_TEST

/*
 * A writer stuck on a full pipe must not stall enqueues on attached queues:
 * exporters write from a copy of the records, outside the timeline's lock.
 */
struct stuck_writer {
	struct clq_timeline *tl;
	int (*write)(struct clq_timeline *, FILE *);
	FILE *out;
	atomic_int done;
	int rc;
};

static void *
stuck_writer_run(void *data)
{
	struct stuck_writer *w = data;

	w->rc = w->write(w->tl, w->out);
	fclose(w->out);
	atomic_store(&w->done, 1);
	return NULL;
}

START_TEST(slow_writer_does_not_stall_enqueues)
{
	int (*const writers[])(struct clq_timeline *, FILE *) = {
		clq_timeline_write_svg, clq_timeline_write_trace};
	struct clq_timeline *tl = timeline_new();
	struct clq_queue *q = test_queue_new(CLQ_QUEUE_PROFILING);
	struct stuck_writer w = {.tl = tl, .write = writers[_i]};
	pthread_t thread;
	char buf[4096];
	size_t total = 0;
	ssize_t got;
	int fds[2];
	FILE *in;

	ck_assert_ok(clq_queue_set_timeline(q, tl, "q"));
	for (int i = 0; i < 3000; i++)
		ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, NULL));
	ck_assert_ok(clq_timeline_flush(tl));
	ck_assert_int_eq(pipe(fds), 0);
	w.out = fdopen(fds[1], "w");
	ck_assert_ptr_nonnull(w.out);
	atomic_init(&w.done, 0);
	ck_assert_int_eq(pthread_create(&thread, NULL, stuck_writer_run, &w),
			 0);
	/* Nobody reads: the writer fills the pipe (3000 records is well
	 * over 64 KiB either way) and blocks. */
	test_sleep_ms(300);
	ck_assert_int_eq(atomic_load(&w.done), 0);
	for (int i = 0; i < 200; i++)
		ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, NULL));
	ck_assert_ok(clq_queue_finish(q));
	ck_assert_int_eq(atomic_load(&w.done), 0); /* still stuck */
	in = fdopen(fds[0], "r");
	while ((got = (ssize_t)fread(buf, 1, sizeof(buf), in)) > 0)
		total += (size_t)got;
	fclose(in);
	pthread_join(thread, NULL);
	ck_assert_ok(w.rc);
	ck_assert_uint_gt(total, 64 * 1024);
	ck_assert_ok(clq_timeline_flush(tl));
	ck_assert_uint_eq(clq_timeline_get_count(tl), 3200);
	clq_queue_unref(q);
	clq_timeline_unref(tl);
}
END_TEST

/* Strings that are not UTF-8 come out as U+FFFD, so the outputs parse. */
START_TEST(ill_formed_strings_are_replaced)
{
	static const char *const bad[] = {"bad\xff\xfe", "cut\xe2\x82",
					  "sur\xed\xa0\x80", "over\xc0\x80",
					  "nonchar\xef\xbf\xbf"};
	struct clq_timeline *tl = timeline_new();
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_ok(clq_timeline_add_span(tl, bad[i], bad[i], 1000,
						   2000, 0));
	for (int svg = 0; svg <= 1; svg++) {
		out = open_memstream(&text, &len);
		ck_assert_ok(svg ? clq_timeline_write_svg(tl, out)
				 : clq_timeline_write_trace(tl, out));
		fclose(out);
		ck_assert_ptr_null(strstr(text, "\xff"));
		ck_assert_ptr_null(strstr(text, "\xc0\x80"));
		ck_assert_ptr_null(strstr(text, "\xed\xa0\x80"));
		ck_assert_ptr_nonnull(strstr(text, "bad\xef\xbf\xbd"));
		/* U+FFFF is valid JSON but not XML */
		ck_assert_ptr_nonnull(
			strstr(text, svg ? "nonchar\xef\xbf\xbd"
					 : "nonchar\xef\xbf\xbf"));
		free(text);
	}
	clq_timeline_unref(tl);
}
END_TEST

/* A command that failed and was harvested on the way (past 1024 pending)
 * still makes the next flush fail. */
START_TEST(failure_harvested_on_the_way_is_reported)
{
	struct clq_timeline *tl = timeline_new();
	struct clq_queue *a = test_queue_new(CLQ_QUEUE_PROFILING);
	struct clq_queue *b = test_queue_new(CLQ_QUEUE_PROFILING);
	struct clq_event *u = test_user_event_new();

	ck_assert_ok(clq_queue_set_timeline(a, tl, "a"));
	ck_assert_ok(clq_queue_set_timeline(b, tl, "b"));
	ck_assert_ok(clq_queue_enqueue_marker(a, &u, 1, NULL));
	test_log_expect("*");
	ck_assert_ok(clq_user_event_complete(u, CL_INVALID_VALUE));
	ck_assert_ok(clq_queue_finish(a));
	for (int i = 0; i < 2200; i++) {
		ck_assert_ok(clq_queue_enqueue_marker(b, NULL, 0, NULL));
		if (i == 1100)
			ck_assert_ok(clq_queue_finish(b));
	}
	ck_assert_rc(clq_timeline_flush(tl), CLQ_ERROR_COMMAND_FAILED);
	ck_assert_ok(clq_timeline_flush(tl)); /* reported once */
	clq_event_unref(u);
	clq_queue_unref(a);
	clq_queue_unref(b);
	clq_timeline_unref(tl);
}
END_TEST

/* Two threads on one attached queue, one setting labels: no race on the
 * queue's next label (TSan checks). */
struct labeller {
	struct clq_queue *q;
	int set_labels;
};

static void *
labeller_run(void *data)
{
	struct labeller *l = data;

	for (int i = 0; i < 300; i++) {
		if (l->set_labels)
			ck_assert_ok(clq_queue_set_next_label(l->q, "mine"));
		ck_assert_ok(clq_queue_enqueue_marker(l->q, NULL, 0, NULL));
	}
	return NULL;
}

START_TEST(two_threads_on_one_attached_queue)
{
	struct clq_timeline *tl = timeline_new();
	struct clq_queue *q = test_queue_new(CLQ_QUEUE_PROFILING);
	struct labeller l[2] = {{q, 1}, {q, 0}};
	pthread_t t[2];

	ck_assert_ok(clq_queue_set_timeline(q, tl, "q"));
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(
			pthread_create(&t[i], NULL, labeller_run, &l[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	ck_assert_ok(clq_timeline_flush(tl));
	ck_assert_uint_eq(clq_timeline_get_count(tl), 600);
	clq_queue_unref(q);
	clq_timeline_unref(tl);
}
END_TEST

/* A reader while another thread flushes waits for that flush: it never
 * sees less than was recorded before it started. */
struct flusher {
	struct clq_timeline *tl;
	int rc;
	size_t count;
};

static void *
flush_run(void *data)
{
	struct flusher *f = data;

	f->rc = clq_timeline_flush(f->tl);
	return NULL;
}

static void *
summarize_run(void *data)
{
	struct flusher *f = data;
	struct clq_timeline_summary *s = NULL;

	f->rc = clq_timeline_summarize(f->tl, &s);
	f->count = s ? s->tracks[0].count : 0;
	clq_timeline_summary_free(s);
	return NULL;
}

START_TEST(reader_waits_for_a_concurrent_flush)
{
	struct clq_timeline *tl = timeline_new();
	struct clq_queue *q = test_queue_new(CLQ_QUEUE_PROFILING);
	struct clq_event *u = test_user_event_new();
	struct flusher flusher = {tl, -1, 0}, reader = {tl, -1, 0};
	pthread_t tf, tr;

	ck_assert_ok(clq_queue_set_timeline(q, tl, "q"));
	ck_assert_ok(clq_queue_enqueue_marker(q, &u, 1, NULL));
	ck_assert_ok(clq_queue_enqueue_marker(q, NULL, 0, NULL));
	ck_assert_int_eq(pthread_create(&tf, NULL, flush_run, &flusher), 0);
	test_sleep_ms(50); /* the flusher has taken the pending commands */
	ck_assert_int_eq(pthread_create(&tr, NULL, summarize_run, &reader), 0);
	test_sleep_ms(50);
	ck_assert_ok(clq_user_event_complete(u, CL_COMPLETE));
	pthread_join(tf, NULL);
	pthread_join(tr, NULL);
	ck_assert_ok(flusher.rc);
	ck_assert_ok(reader.rc);
	ck_assert_uint_eq(reader.count, 2);
	clq_event_unref(u);
	clq_queue_unref(q);
	clq_timeline_unref(tl);
}
END_TEST

START_TEST(mistakes_refused)
{
	struct clq_timeline *tl = timeline_new();
	struct clq_queue *plain = test_queue_new(0);
	struct clq_queue *q = test_queue_new(CLQ_QUEUE_PROFILING);
	struct clq_event *user = test_user_event_new();
	struct clq_timeline_summary *s = NULL;
	uint64_t begin;

	test_log_expect("*");
	ck_assert_int_eq(clq_timeline_create(test_ctx, NULL),
			 CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_int_eq(clq_queue_set_timeline(plain, tl, "t"),
			 CLQ_ERROR_PROFILING_DISABLED);
	ck_assert_int_eq(clq_queue_set_timeline(q, tl, ""),
			 CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_int_eq(clq_queue_set_timeline(NULL, tl, "t"),
			 CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_int_eq(clq_queue_set_next_label(q, "x"),
			 CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_int_eq(clq_queue_set_timeline(q, tl, "t"), CLQ_SUCCESS);
	ck_assert_int_eq(clq_queue_set_next_label(q, ""),
			 CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_int_eq(clq_queue_set_timeline(q, NULL, NULL), CLQ_SUCCESS);
	ck_assert_int_eq(clq_timeline_add_event(tl, user, "t", "x"),
			 CLQ_ERROR_PROFILING_DISABLED);
	ck_assert_int_eq(clq_timeline_add_event(tl, NULL, "t", "x"),
			 CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_int_eq(clq_timeline_add_span(tl, "t", "x", 10, 9, 0),
			 CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_int_eq(clq_timeline_add_span(tl, "t", NULL, 1, 2, 0),
			 CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_int_eq(clq_timeline_host_begin(tl, NULL),
			 CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_int_eq(clq_timeline_host_begin(NULL, &begin),
			 CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_int_eq(clq_timeline_summarize(tl, NULL),
			 CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_int_eq(clq_timeline_summarize(NULL, &s),
			 CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_int_eq(clq_timeline_write_trace(tl, NULL),
			 CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_int_eq(clq_timeline_write_svg(NULL, stdout),
			 CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_int_eq(clq_timeline_flush(NULL), CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_uint_eq(clq_timeline_get_count(tl), 0);
	ck_assert_ok(clq_user_event_complete(user, CL_COMPLETE));
	clq_event_unref(user);
	clq_queue_unref(plain);
	clq_queue_unref(q);
	clq_timeline_unref(tl);
}
END_TEST

static Suite *
timeline_suite(void)
{
	Suite *s = suite_create("timeline");
	TCase *tc = tcase_create("timeline");

	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, summary_arithmetic);
	tcase_add_test(tc, queue_records_default_labels);
	tcase_add_test(tc, long_run_memory_is_bounded);
	tcase_add_test(tc, threads_share_one_timeline);
	tcase_add_test(tc, host_spans_align_with_the_device);
	tcase_add_test(tc, mistakes_refused);
	tcase_add_test(tc, title_in_svg_and_trace);
	tcase_add_test(tc, ill_formed_strings_are_replaced);
	tcase_add_test(tc, failure_harvested_on_the_way_is_reported);
	tcase_add_test(tc, two_threads_on_one_attached_queue);
	tcase_add_test(tc, reader_waits_for_a_concurrent_flush);
	tcase_add_loop_test(tc, slow_writer_does_not_stall_enqueues, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_main(timeline_suite(), 1);
}
