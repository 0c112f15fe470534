/* SPDX-License-Identifier: BSD-3-Clause */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test-common.h"

struct clq_context *test_ctx;

/* The log recorder: handlers may run on driver threads, hence the lock. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char expected[256];
static int expected_seen;
static int unexpected_errors;
static char first_unexpected[1024];
static char log_text[8192];

static void
record_log(enum clq_log_level level, const char *message, void *user_data)
{
	(void)user_data;
	pthread_mutex_lock(&log_lock);
	/* keep what fits, each message on its line; drop the rest */
	size_t used = strlen(log_text);

	if (used + 1 < sizeof(log_text))
		snprintf(log_text + used, sizeof(log_text) - used, "%s\n",
			 message);
	if (level == CLQ_LOG_ERROR) {
		if (expected[0] &&
		    (strcmp(expected, "*") == 0 || strstr(message, expected))) {
			expected_seen = 1;
		} else {
			/* An error while none, or another, was expected. */
			if (!unexpected_errors++)
				snprintf(first_unexpected,
					 sizeof(first_unexpected), "%s",
					 message);
		}
	}
	pthread_mutex_unlock(&log_lock);
}

void
test_log_expect(const char *substring)
{
	pthread_mutex_lock(&log_lock);
	snprintf(expected, sizeof(expected), "%s", substring ? substring : "");
	expected_seen = 0;
	log_text[0] = '\0';
	pthread_mutex_unlock(&log_lock);
}

int
test_log_seen(void)
{
	int seen;

	pthread_mutex_lock(&log_lock);
	seen = expected_seen;
	pthread_mutex_unlock(&log_lock);
	return seen;
}

const char *
test_log_text(void)
{
	return log_text;
}

void
test_log_setup(void)
{
	pthread_mutex_lock(&log_lock);
	expected[0] = '\0';
	expected_seen = 0;
	unexpected_errors = 0;
	first_unexpected[0] = '\0';
	log_text[0] = '\0';
	pthread_mutex_unlock(&log_lock);
	clq_set_log_handler(record_log, NULL);
}

void
test_log_teardown(void)
{
	int n;

	clq_set_log_handler(NULL, NULL);
	pthread_mutex_lock(&log_lock);
	n = unexpected_errors;
	pthread_mutex_unlock(&log_lock);
	ck_assert_msg(n == 0, "%d unexpected error log message(s), first: %s",
		      n, first_unexpected);
}

const char *
test_device_spec(void)
{
	const char *spec = getenv("CLQ_TEST_DEVICE");

	return spec && *spec ? spec : NULL;
}

void
test_context_setup(void)
{
	struct clq_device *device = NULL;

	test_log_setup();
	ck_assert_ok(clq_device_select(test_device_spec(), &device));
	ck_assert_ok(clq_context_create(device, &test_ctx));
	clq_device_unref(device);
}

void
test_context_teardown(void)
{
	clq_context_unref(test_ctx);
	test_ctx = NULL;
	test_log_teardown();
}

static int
have_device(void)
{
	size_t n = 0;

	return clq_device_count(&n) == CLQ_SUCCESS && n > 0;
}

/*
 * Probing initialises the OpenCL implementation, whose worker threads a
 * forked test would not inherit: in fork mode, probe in a child.
 */
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
		_exit(have_device() ? 0 : 77);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return 0;
	return WEXITSTATUS(status) == 0;
}

int
test_main(Suite *suite, int needs_device)
{
	SRunner *runner = srunner_create(suite);
	int failed;

	if (needs_device && !probe_device(srunner_fork_status(runner))) {
		fprintf(stderr, "no OpenCL device: skipping\n");
		srunner_free(runner);
		return 77;
	}
	srunner_run_all(runner, CK_ENV);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

void
test_sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

struct clq_queue *
test_queue_new(unsigned flags)
{
	struct clq_queue *q = NULL;

	ck_assert_ok(clq_queue_create(test_ctx, flags, &q));
	ck_assert_ptr_nonnull(q);
	return q;
}

struct clq_event *
test_user_event_new(void)
{
	struct clq_event *e = NULL;

	ck_assert_ok(clq_user_event_create(test_ctx, &e));
	ck_assert_ptr_nonnull(e);
	return e;
}

int
test_event_status(struct clq_event *e)
{
	int status = 99;

	ck_assert_ok(clq_event_get_status(e, &status));
	return status;
}
