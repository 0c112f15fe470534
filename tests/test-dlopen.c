/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libclq loaded the way Python's ctypes and cffi load it: dlopen() by
 * path with RTLD_NOW | RTLD_LOCAL, its functions found with dlsym(), and
 * dlclose() at the end; from the main thread, from a thread started after
 * startup, and used by a thread that was already running when the library
 * came in. Each round enqueues and drops events, so the per-thread event
 * cache (thread-local storage) is used in each thread. The library must
 * not ask for static TLS (DF_STATIC_TLS, from initial-exec accesses): such
 * a library fails to dlopen once the process's static TLS surplus is
 * spent. This test does not link libclq; its path is the first argument.
 */
#define _GNU_SOURCE /* dlinfo() */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__GLIBC__)
#include <link.h> /* dlinfo()'s link map, DF_STATIC_TLS */
#define CHECK_STATIC_TLS
#endif

#include <check.h>
#include <clq/clq.h>

#define ROUNDS 100

static const char *library_path;

/* The functions used, found by dlsym(). */
struct api {
	void *handle;
	const char *(*version)(void);
	const char *(*strerror)(int status);
	void (*set_log_handler)(clq_log_fn fn, void *user_data);
	int (*device_count)(size_t *n_out);
	int (*context_create_default)(struct clq_context **ctx_out);
	void (*context_unref)(struct clq_context *ctx);
	int (*queue_create)(struct clq_context *ctx, unsigned flags,
			    struct clq_queue **queue_out);
	void (*queue_unref)(struct clq_queue *queue);
	int (*queue_finish)(struct clq_queue *queue);
	int (*enqueue_marker)(struct clq_queue *queue,
			      struct clq_event *const *wait, size_t n_wait,
			      struct clq_event **event_out);
	int (*event_wait)(struct clq_event *event);
	void (*event_unref)(struct clq_event *event);
};

static void
find(void *handle, const char *name, void *fn_out, size_t size)
{
	void *symbol = dlsym(handle, name);

	ck_assert_msg(symbol, "dlsym(%s): %s", name, dlerror());
	/* POSIX lets a data pointer hold a function's address; ISO C does
	 * not convert between them, so copy the bytes. */
	memcpy(fn_out, &symbol, size);
}

#define FIND(a, field, name) \
	find((a)->handle, name, &(a)->field, sizeof((a)->field))

#ifdef CHECK_STATIC_TLS
/* The DT_FLAGS of a loaded object's dynamic section (0 when none). */
static unsigned long
dynamic_flags(void *handle)
{
	struct link_map *map = NULL;

	ck_assert_int_eq(dlinfo(handle, RTLD_DI_LINKMAP, &map), 0);
	for (const ElfW(Dyn) *d = map->l_ld; d->d_tag != DT_NULL; d++)
		if (d->d_tag == DT_FLAGS)
			return (unsigned long)d->d_un.d_val;
	return 0;
}
#endif

/*
 * Keeps the OpenCL ICD loader loaded for good, as a process that uses
 * OpenCL otherwise would: unloaded with libclq, ocl-icd loses its table of
 * platforms (valgrind: definitely lost), which is none of clq's doing.
 */
static void
hold_icd_loader(void)
{
	static void *icd;

	if (!icd)
		icd = dlopen("libOpenCL.so.1", RTLD_NOW | RTLD_LOCAL);
}

static void
load(struct api *a)
{
	hold_icd_loader();
	memset(a, 0, sizeof(*a));
	a->handle = dlopen(library_path, RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(a->handle, "dlopen(%s): %s", library_path, dlerror());
#ifdef CHECK_STATIC_TLS
	ck_assert_msg(!(dynamic_flags(a->handle) & DF_STATIC_TLS),
		      "%s asks for static TLS (initial-exec)", library_path);
#endif
	FIND(a, version, "clq_version");
	FIND(a, strerror, "clq_strerror");
	FIND(a, set_log_handler, "clq_set_log_handler");
	FIND(a, device_count, "clq_device_count");
	FIND(a, context_create_default, "clq_context_create_default");
	FIND(a, context_unref, "clq_context_unref");
	FIND(a, queue_create, "clq_queue_create");
	FIND(a, queue_unref, "clq_queue_unref");
	FIND(a, queue_finish, "clq_queue_finish");
	FIND(a, enqueue_marker, "clq_queue_enqueue_marker");
	FIND(a, event_wait, "clq_event_wait");
	FIND(a, event_unref, "clq_event_unref");
}

static void
unload(struct api *a)
{
	ck_assert_msg(dlclose(a->handle) == 0, "dlclose: %s", dlerror());
	a->handle = NULL;
}

/* Counts error messages; a clean round logs none. */
static void
count_errors(enum clq_log_level level, const char *message, void *user_data)
{
	if (level == CLQ_LOG_ERROR) {
		fprintf(stderr, "clq error: %s\n", message);
		(*(int *)user_data)++;
	}
}

#define CK_OK(a, expr)                                             \
	do {                                                       \
		int rc_ = (expr);                                  \
		ck_assert_msg(rc_ == CLQ_SUCCESS, "%s: %s", #expr, \
			      (a)->strerror(rc_));                 \
	} while (0)

/* Calls the library from this thread: each marker's event is waited for
 * and dropped, so the next enqueue reuses it from this thread's cache. */
static void
use(const struct api *a)
{
	struct clq_context *ctx = NULL;
	struct clq_queue *q = NULL;
	size_t n = 0;
	int errors = 0;

	ck_assert_str_eq(a->version(), CLQ_VERSION_STRING);
	a->set_log_handler(count_errors, &errors);
	CK_OK(a, a->device_count(&n));
	ck_assert_uint_gt(n, 0);
	CK_OK(a, a->context_create_default(&ctx));
	CK_OK(a, a->queue_create(ctx, 0, &q));
	for (int i = 0; i < ROUNDS; i++) {
		struct clq_event *ev = NULL;

		CK_OK(a, a->enqueue_marker(q, NULL, 0, &ev));
		ck_assert_ptr_nonnull(ev);
		CK_OK(a, a->event_wait(ev));
		a->event_unref(ev);
	}
	CK_OK(a, a->queue_finish(q));
	a->queue_unref(q);
	a->context_unref(ctx);
	a->set_log_handler(NULL, NULL);
	ck_assert_int_eq(errors, 0);
}

static void *
load_use_unload(void *data)
{
	struct api a;

	(void)data;
	load(&a);
	use(&a);
	unload(&a);
	return NULL;
}

START_TEST(dlopen_main_thread)
{
	load_use_unload(NULL);
}
END_TEST

START_TEST(dlopen_new_thread)
{
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, load_use_unload, NULL), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
}
END_TEST

/* A thread running before the library is loaded, then calling it. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t loaded;
	const struct api *api; /* set once the library is loaded */
} gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL};

static void *
wait_then_use(void *data)
{
	const struct api *a;

	(void)data;
	pthread_mutex_lock(&gate.lock);
	while (!gate.api)
		pthread_cond_wait(&gate.loaded, &gate.lock);
	a = gate.api;
	pthread_mutex_unlock(&gate.lock);
	use(a);
	return NULL;
}

START_TEST(dlopen_thread_started_before)
{
	struct api a;
	pthread_t t;

	gate.api = NULL;
	ck_assert_int_eq(pthread_create(&t, NULL, wait_then_use, NULL), 0);
	load(&a);
	pthread_mutex_lock(&gate.lock);
	gate.api = &a;
	pthread_cond_signal(&gate.loaded);
	pthread_mutex_unlock(&gate.lock);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	use(&a); /* and this thread, after the other one's exit */
	unload(&a);
}
END_TEST

/* dlclose() leaves libclq mapped (-z nodelete): drivers run its event
 * callbacks, and its notifier threads run, after the caller is done. */
START_TEST(stays_mapped_after_dlclose)
{
	struct api a;
	void *again;

	load(&a);
	use(&a);
	unload(&a);
	again = dlopen(library_path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
	ck_assert_msg(again != NULL, "libclq was unmapped by dlclose()");
	dlclose(again);
}
END_TEST

/* 0 when the library, loaded and unloaded once, sees a device; 77 when
 * it sees none; 1 when it does not load. */
static int
have_device(void)
{
	void *handle;
	int (*device_count)(size_t *) = NULL;
	void *symbol;
	size_t n = 0;

	hold_icd_loader();
	handle = dlopen(library_path, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		fprintf(stderr, "dlopen(%s): %s\n", library_path, dlerror());
		return 1;
	}
	symbol = dlsym(handle, "clq_device_count");
	if (symbol)
		memcpy(&device_count, &symbol, sizeof(device_count));
	if (!device_count || device_count(&n) != CLQ_SUCCESS)
		n = 0;
	dlclose(handle);
	return n > 0 ? 0 : 77;
}

/* have_device(), in a child in fork mode: the OpenCL implementation stays
 * loaded after dlclose(), and its threads would not survive the forks of
 * the tests. */
static int
probe_device(enum fork_status mode)
{
	pid_t pid;
	int status;

	if (mode == CK_NOFORK)
		return have_device();
	pid = fork();
	if (pid < 0)
		return have_device();
	if (pid == 0)
		_exit(have_device());
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return 1;
	return WEXITSTATUS(status);
}

int
main(int argc, char **argv)
{
	const char *spec = getenv("CLQ_TEST_DEVICE");
	Suite *s = suite_create("dlopen");
	TCase *tc = tcase_create("dlopen");
	SRunner *runner;
	int failed, probe;

	if (argc != 2) {
		fprintf(stderr, "usage: %s LIBCLQ\n", argv[0]);
		return EXIT_FAILURE;
	}
	library_path = argv[1];
	/* clq_context_create_default() takes the device from CLQ_DEVICE. */
	if (spec && *spec)
		setenv("CLQ_DEVICE", spec, 1);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, dlopen_main_thread);
	tcase_add_test(tc, dlopen_new_thread);
	tcase_add_test(tc, dlopen_thread_started_before);
	tcase_add_test(tc, stays_mapped_after_dlclose);
	suite_add_tcase(s, tc);
	runner = srunner_create(s);
	probe = probe_device(srunner_fork_status(runner));
	if (probe != 0) {
		if (probe == 77)
			fprintf(stderr, "no OpenCL device: skipping\n");
		srunner_free(runner);
		return probe == 77 ? 77 : EXIT_FAILURE;
	}
	srunner_run_all(runner, CK_ENV);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
