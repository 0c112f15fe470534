/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Threads sharing one context, each with its own queues: transfers,
 * kernels (one kernel object shared by all) and markers, each thread's
 * markers waiting for its neighbour's newest event, and shared objects
 * whose last reference is dropped by whichever thread finishes last.
 * All threads first wait for one user event that the main thread
 * completes, and all enqueue on one shared tuning queue while it tunes:
 * the thread-safety rules of event.h, queue.h, array.h and program.h.
 * Every thread checks its results; ThreadSanitizer (setup tsan), valgrind
 * and the sanitizers check the rest.
 */
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <clq/clq.h>

#include "test-common.h"

#define THREADS 4
#define N 256

/* The newest event of each thread, for its neighbour to wait for. */
static struct {
	pthread_mutex_t lock;
	struct clq_event *latest[THREADS];
} board = {PTHREAD_MUTEX_INITIALIZER, {NULL}};

static void
publish(int i, struct clq_event *ev)
{
	struct clq_event *old;

	pthread_mutex_lock(&board.lock);
	old = board.latest[i];
	board.latest[i] = clq_event_ref(ev);
	pthread_mutex_unlock(&board.lock);
	clq_event_unref(old);
}

/* A reference to thread i's newest event, or NULL. */
static struct clq_event *
take(int i)
{
	struct clq_event *ev;

	pthread_mutex_lock(&board.lock);
	ev = board.latest[i] ? clq_event_ref(board.latest[i]) : NULL;
	pthread_mutex_unlock(&board.lock);
	return ev;
}

struct worker {
	int index;
	size_t rounds;
	struct clq_event *gate;		 /* every thread waits for it first */
	struct clq_queue *tuned;	 /* shared, tuning */
	struct clq_kernel *kernel;	 /* a reference of this thread's */
	struct clq_device_array *source; /* shared, a reference of its own */
	int failures;
	const char *what; /* first failure */
};

#define CHECK(w, call, label)                        \
	do {                                         \
		if ((call) != CLQ_SUCCESS) {         \
			(w)->failures++;             \
			if (!(w)->what)              \
				(w)->what = (label); \
			goto out;                    \
		}                                    \
	} while (0)

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	const size_t n = N, global = N;
	struct clq_queue *transfer = NULL, *compute = NULL;
	struct clq_device_array *mine = NULL, *small = NULL;
	struct clq_host_array *host = NULL;
	struct clq_event *copied = NULL;
	cl_uint count = N, iters = 1;
	cl_float a = 1.0f, b = 1.0f;
	struct clq_arg args[5];

	CHECK(w, clq_event_wait(w->gate), "gate");
	CHECK(w, clq_queue_create(test_ctx, 0, &transfer), "queue");
	CHECK(w, clq_queue_create(test_ctx, 0, &compute), "queue");
	CHECK(w,
	      clq_device_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n, NULL,
				      &mine),
	      "array");
	CHECK(w,
	      clq_host_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n, NULL,
				    &host),
	      "host array");
	CHECK(w,
	      clq_device_array_create(test_ctx, CLQ_DTYPE_UINT8, 1, &n, NULL,
				      &small),
	      "array");
	/* every thread copies the shared source at once */
	CHECK(w,
	      clq_device_array_copy(mine, transfer, w->source, NULL, 0,
				    &copied),
	      "copy");
	args[0] = CLQ_ARG_ARRAY(mine);
	args[1] = CLQ_ARG_VALUE(count);
	args[2] = CLQ_ARG_VALUE(a);
	args[3] = CLQ_ARG_VALUE(b);
	args[4] = CLQ_ARG_VALUE(iters);
	for (size_t r = 0; r < w->rounds; r++) {
		struct clq_event *done = NULL, *marker = NULL;
		struct clq_event *other = take((w->index + 1) % THREADS);
		struct clq_event *wait[2] = {copied, other};
		int rc;

		/* the kernel waits for the copy (first round) and the
		 * neighbour's newest event: cross-queue, cross-thread */
		rc = clq_queue_enqueue_kernel(compute, w->kernel, args, 5, 1,
					      &global, NULL, wait,
					      other ? 2 : 1, &done);
		if (rc == CLQ_SUCCESS)
			rc = clq_queue_enqueue_marker(transfer, &done, 1,
						      &marker);
		if (rc == CLQ_SUCCESS)
			publish(w->index, marker);
		/* the shared tuning queue: a small fill after the kernel */
		if (rc == CLQ_SUCCESS)
			rc = clq_device_array_zero(small, w->tuned, &done, 1,
						   NULL);
		clq_event_unref(other);
		clq_event_unref(done);
		clq_event_unref(marker);
		CHECK(w, rc, "round");
	}
	CHECK(w, clq_queue_finish(compute), "finish");
	CHECK(w, clq_device_array_get(mine, transfer, host), "get");
	for (size_t i = 0; i < n; i++)
		if (((float *)clq_host_array_data(host))[i] !=
		    (float)i + (float)w->rounds) {
			w->failures++;
			w->what = "wrong result";
			break;
		}
out:
	if (compute)
		clq_queue_finish(compute);
	clq_event_unref(copied);
	clq_host_array_unref(host);
	clq_device_array_unref(mine);
	clq_device_array_unref(small);
	/* drop the shared objects: the last thread frees them */
	clq_device_array_unref(w->source);
	clq_kernel_unref(w->kernel);
	clq_queue_unref(transfer);
	clq_queue_unref(compute);
	return NULL;
}

START_TEST(threads_share_a_context)
{
	size_t rounds = getenv("CLQ_TEST_QUICK") ? 30 : 300;
	const size_t n = N;
	struct clq_program *p = NULL;
	struct clq_kernel *k = NULL;
	struct clq_device_array *source = NULL;
	struct clq_host_array *h = NULL;
	struct worker w[THREADS];
	pthread_t tid[THREADS];
	struct clq_event *gate = NULL;
	struct clq_queue *tuned = NULL;
	double seconds = 0;

	ck_assert_ok(clq_program_create_from_file(test_ctx, "scale.cl", NULL, 0,
						  NULL, &p));
	ck_assert_ok(clq_kernel_create(p, "scale", &k));
	clq_program_unref(p); /* the kernel keeps it */
	ck_assert_ok(clq_device_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					     NULL, &source));
	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					   NULL, &h));
	for (size_t i = 0; i < n; i++)
		((float *)clq_host_array_data(h))[i] = (float)i;
	{
		struct clq_queue *q = test_queue_new(0);

		ck_assert_ok(clq_device_array_set(source, q, h));
		clq_queue_unref(q);
	}
	clq_host_array_unref(h);
	ck_assert_ok(clq_user_event_create(test_ctx, &gate));
	ck_assert_ok(clq_queue_create_tuning(test_ctx, &tuned));
	ck_assert_ok(clq_queue_start_tuning(tuned));
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.index = i,
				       .rounds = rounds,
				       .gate = gate,
				       .tuned = tuned,
				       .kernel = clq_kernel_ref(k),
				       .source = clq_device_array_ref(source)};
		ck_assert_int_eq(
			pthread_create(&tid[i], NULL, worker_main, &w[i]), 0);
	}
	/* the threads now hold the only references that matter */
	clq_kernel_unref(k);
	clq_device_array_unref(source);
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	for (int i = 0; i < THREADS; i++) {
		ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
		ck_assert_msg(w[i].failures == 0, "thread %d: %s", i,
			      w[i].what);
	}
	/* every thread's fills ran inside the tuned span */
	ck_assert_ok(clq_queue_stop_tuning(tuned, &seconds));
	ck_assert(seconds > 0);
	clq_queue_unref(tuned);
	clq_event_unref(gate);
	for (int i = 0; i < THREADS; i++) {
		clq_event_unref(board.latest[i]);
		board.latest[i] = NULL;
	}
}
END_TEST

/*
 * One pinned host array is the source of async uploads from every thread,
 * each on its own queue, all held back by a gate; the main thread drops
 * the last reference while they are pending. The array's tracking (one
 * lock, taken by all threads at once) must keep its memory until the last
 * upload has run: ASan and valgrind report a read of freed memory
 * otherwise, and every thread checks what arrived.
 */
struct uploader {
	struct clq_host_array *source; /* shared; not a reference */
	struct clq_event *gate;
	pthread_barrier_t *queued;
	size_t rounds;
	int failures;
	const char *what;
};

static void *
uploader_main(void *arg)
{
	struct uploader *u = arg;
	const size_t n = N;
	struct clq_queue *q = NULL;
	struct clq_device_array *d[2] = {NULL, NULL};
	struct clq_host_array *back = NULL;
	int queued = 0;

	CHECK(u, clq_queue_create(test_ctx, 0, &q), "queue");
	for (int i = 0; i < 2; i++)
		CHECK(u,
		      clq_device_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1,
					      &n, NULL, &d[i]),
		      "array");
	CHECK(u,
	      clq_host_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n, NULL,
				    &back),
	      "host array");
	for (size_t r = 0; r < u->rounds; r++)
		CHECK(u,
		      clq_device_array_set_async(d[r % 2], q, u->source,
						 &u->gate, 1, NULL),
		      "upload");
	queued = 1;
	pthread_barrier_wait(u->queued); /* the source may go now */
	for (int i = 0; i < 2; i++) {
		CHECK(u, clq_device_array_get(d[i], q, back), "get");
		for (size_t j = 0; j < n; j++)
			if (((float *)clq_host_array_data(back))[j] !=
			    (float)j * 0.5f) {
				u->failures++;
				u->what = "wrong data";
				break;
			}
	}
out:
	if (!queued)
		pthread_barrier_wait(u->queued);
	if (q)
		clq_queue_finish(q);
	clq_host_array_unref(back);
	clq_device_array_unref(d[0]);
	clq_device_array_unref(d[1]);
	clq_queue_unref(q);
	return NULL;
}

START_TEST(host_array_outlives_its_last_reference)
{
	const size_t n = N;
	struct clq_host_array *h = NULL;
	struct clq_event *gate = NULL;
	struct uploader u[THREADS];
	pthread_t tid[THREADS];
	pthread_barrier_t queued;

	ck_assert_ok(clq_host_array_create(test_ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					   NULL, &h));
	for (size_t i = 0; i < n; i++)
		((float *)clq_host_array_data(h))[i] = (float)i * 0.5f;
	ck_assert_ok(clq_user_event_create(test_ctx, &gate));
	ck_assert_int_eq(pthread_barrier_init(&queued, NULL, THREADS + 1), 0);
	for (int i = 0; i < THREADS; i++) {
		u[i] = (struct uploader){.source = h,
					 .gate = gate,
					 .queued = &queued,
					 .rounds = 50};
		ck_assert_int_eq(
			pthread_create(&tid[i], NULL, uploader_main, &u[i]), 0);
	}
	pthread_barrier_wait(&queued);
	clq_host_array_unref(h); /* with 4 x 50 uploads pending */
	test_sleep_ms(20);
	ck_assert_ok(clq_user_event_complete(gate, CL_COMPLETE));
	for (int i = 0; i < THREADS; i++) {
		ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
		ck_assert_msg(u[i].failures == 0, "thread %d: %s", i,
			      u[i].what);
	}
	pthread_barrier_destroy(&queued);
	clq_event_unref(gate);
}
END_TEST

/*
 * The first enumeration of a process, from several threads at once: every
 * thread must see every device. PoCL 3.1 initialises its devices without
 * a lock, so without clq's lock around enumeration the second thread got
 * CL_DEVICE_NOT_FOUND (no device) every time here, and the process
 * sometimes crashed. It runs in a fresh process (this program, with
 * --first-enumeration): a Check child forked after test_main()'s device
 * probe, or the test process itself with CK_FORK=no (valgrind, sanitize),
 * would start with OpenCL initialised, and could not fail.
 */
#define ENUMERATORS 8

extern char **environ;

struct enumerator {
	pthread_barrier_t *start;
	size_t count;
	int rc;
};

static void *
enumerator_main(void *arg)
{
	struct enumerator *e = arg;

	pthread_barrier_wait(e->start);
	e->rc = clq_device_count(&e->count);
	return NULL;
}

/* The fresh process's part: 0 when every thread saw every device. */
static int
first_enumeration_main(void)
{
	struct enumerator e[ENUMERATORS];
	pthread_t tid[ENUMERATORS];
	pthread_barrier_t start;
	size_t count = 0;
	int failed = 0;

	if (pthread_barrier_init(&start, NULL, ENUMERATORS) != 0)
		return 3;
	for (int i = 0; i < ENUMERATORS; i++) {
		e[i] = (struct enumerator){.start = &start};
		if (pthread_create(&tid[i], NULL, enumerator_main, &e[i]) != 0)
			return 3;
	}
	for (int i = 0; i < ENUMERATORS; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&start);
	if (clq_device_count(&count) != CLQ_SUCCESS || count == 0)
		return 4;
	for (int i = 0; i < ENUMERATORS; i++) {
		if (e[i].rc != CLQ_SUCCESS || e[i].count != count) {
			fprintf(stderr,
				"enumerator %d: %s, %zu devices of %zu\n", i,
				clq_strerror(e[i].rc), e[i].count, count);
			failed = 1;
		}
	}
	return failed;
}

START_TEST(first_enumeration_from_threads)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *argv[] = {self, "--first-enumeration", NULL};
	int status = 0;
	pid_t pid;

	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	ck_assert_int_eq(posix_spawn(&pid, self, NULL, NULL, argv, environ), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "the fresh process: %s %d",
		      WIFSIGNALED(status) ? "signal" : "exit",
		      WIFSIGNALED(status) ? WTERMSIG(status)
					  : WEXITSTATUS(status));
}
END_TEST

/*
 * ASan's own default for this program: LLVM (inside PoCL) gives the
 * thread that first initialises it an alternate signal stack of its own,
 * and ASan then fails to unmap it ("unable to unmap") when that thread
 * exits, as the enumerators do.
 */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "use_sigaltstack=0";
}

static Suite *
threads_suite(void)
{
	Suite *s = suite_create("threads");
	TCase *tc = tcase_create("shared context");

	tcase_add_checked_fixture(tc, test_context_setup,
				  test_context_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, threads_share_a_context);
	tcase_add_test(tc, host_array_outlives_its_last_reference);
	suite_add_tcase(s, tc);
	/* no fixture: the enumeration is a fresh process's first */
	tc = tcase_create("enumeration");
	tcase_add_test(tc, first_enumeration_from_threads);
	suite_add_tcase(s, tc);
	return s;
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--first-enumeration") == 0)
		return first_enumeration_main();
	return test_main(threads_suite(), 1);
}
