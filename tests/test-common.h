/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CLQ_TEST_COMMON_H
#define CLQ_TEST_COMMON_H

#include <check.h>

#include <clq/clq.h>

/* Asserts a status, printing both codes by name and message. */
#define ck_assert_rc(expr, expected)                                     \
	do {                                                             \
		int rc_ = (expr);                                        \
		int want_ = (expected);                                  \
		ck_assert_msg(rc_ == want_,                              \
			      "%s returned %s (%s), expected %s", #expr, \
			      clq_error_name(rc_), clq_strerror(rc_),    \
			      clq_error_name(want_));                    \
	} while (0)

#define ck_assert_ok(expr) ck_assert_rc(expr, CLQ_SUCCESS)

/* The context of the checked fixture, on the test device. */
extern struct clq_context *test_ctx;

/*
 * The device the tests run on: CLQ_TEST_DEVICE (the meson option
 * test_device), or the default device when that is empty.
 */
const char *test_device_spec(void);

/* Checked fixture: installs the log recorder and creates test_ctx. */
void test_context_setup(void);
/* Releases test_ctx and fails the test if an unexpected error was logged. */
void test_context_teardown(void);

/* Checked fixture for suites without a context: the log recorder only. */
void test_log_setup(void);
void test_log_teardown(void);

/*
 * Declares that error-level log messages containing `substring` are
 * expected (any other error message fails the test); "*" expects every
 * error message (for runs of calls whose codes are checked one by one);
 * NULL clears it.
 * test_log_seen() then says whether one came.
 */
void test_log_expect(const char *substring);
int test_log_seen(void);

/* Concatenation of every message logged since the last expectation. */
const char *test_log_text(void);

/*
 * Runs the suite and returns the process exit status. With
 * `needs_device`, exits 77 (meson's "skipped") when there is no device.
 */
int test_main(Suite *suite, int needs_device);

/* Helpers on test_ctx that assert success. */
struct clq_queue *test_queue_new(unsigned flags);
struct clq_event *test_user_event_new(void);
/* The event's execution status (CL_QUEUED .. CL_COMPLETE, or < 0). */
int test_event_status(struct clq_event *e);

/* Sleeps for `ms` milliseconds. */
void test_sleep_ms(unsigned ms);

#endif /* CLQ_TEST_COMMON_H */
