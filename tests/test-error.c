/* SPDX-License-Identifier: BSD-3-Clause */
#include <limits.h>
#include <string.h>

#include "test-common.h"

struct code {
	int value;
	const char *name;
};

#define CODE(name, value, message) {value, #name},
static const struct code clq_codes[] = {CLQ_STATUS_CODES(CODE)};
#undef CODE

START_TEST(clq_codes_have_names)
{
	size_t n = sizeof(clq_codes) / sizeof(clq_codes[0]);

	ck_assert_uint_ge(n, 16);
	for (size_t i = 1; i < n; i++) {
		const struct code *c = &clq_codes[i];

		ck_assert_int_le(c->value, -4000);
		ck_assert_int_gt(c->value, -4100);
		ck_assert_str_eq(clq_error_name(c->value), c->name);
		ck_assert_str_ne(clq_strerror(c->value), "unknown error");
		for (size_t j = 1; j < i; j++)
			ck_assert_int_ne(clq_codes[j].value, c->value);
	}
}
END_TEST

START_TEST(success_is_zero)
{
	ck_assert_int_eq(CLQ_SUCCESS, 0);
	ck_assert_int_eq(CLQ_SUCCESS, CL_SUCCESS);
	ck_assert_str_eq(clq_error_name(0), "CL_SUCCESS");
	ck_assert_str_eq(clq_strerror(0), "success");
}
END_TEST

/* Every core code of OpenCL 1.2 to 3.0: 0 .. -19 and -30 .. -72. */
START_TEST(opencl_codes_have_names)
{
	for (int code = 0; code >= -72; code--) {
		if (code < -19 && code > -30)
			continue;
		ck_assert_msg(strncmp(clq_error_name(code), "CL_", 3) == 0,
			      "code %d has no name", code);
		ck_assert_str_ne(clq_strerror(code), "unknown error");
	}
	ck_assert_str_eq(clq_error_name(CL_INVALID_VALUE), "CL_INVALID_VALUE");
	ck_assert_str_eq(clq_error_name(-72),
			 "CL_MAX_SIZE_RESTRICTION_EXCEEDED");
	ck_assert_str_eq(clq_error_name(-1001), "CL_PLATFORM_NOT_FOUND_KHR");
	ck_assert_str_eq(clq_error_name(CLQ_ERROR_NO_DEVICE),
			 "CLQ_ERROR_NO_DEVICE");
}
END_TEST

START_TEST(unknown_codes_are_described)
{
	static const int unknown[] = {1,     3,	      -20,    -29,
				      -73,   -999,    -3999,  -4099,
				      -4100, INT_MIN, INT_MAX};

	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		ck_assert_str_eq(clq_strerror(unknown[i]), "unknown error");
		ck_assert_str_eq(clq_error_name(unknown[i]),
				 "CLQ_UNKNOWN_ERROR");
	}
	for (int code = -5000; code <= 100; code++) {
		ck_assert_ptr_nonnull(clq_strerror(code));
		ck_assert_ptr_nonnull(clq_error_name(code));
	}
}
END_TEST

START_TEST(version_matches_header)
{
	ck_assert_str_eq(clq_version(), CLQ_VERSION_STRING);
	ck_assert_int_eq(CLQ_VERSION_MAJOR, 0);
	ck_assert_int_eq(CLQ_VERSION_MINOR, 1);
}
END_TEST

static int calls;
static enum clq_log_level last_level;
static char last_message[256];

static void
count_log(enum clq_log_level level, const char *message, void *user_data)
{
	calls += *(int *)user_data;
	last_level = level;
	strncpy(last_message, message, sizeof(last_message) - 1);
}

START_TEST(process_log_handler_receives_errors)
{
	int weight = 1;

	calls = 0;
	clq_set_log_handler(count_log, &weight);
	ck_assert_rc(clq_device_count(NULL), CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_int_eq(calls, 1);
	ck_assert_int_eq(last_level, CLQ_LOG_ERROR);
	ck_assert_ptr_nonnull(strstr(last_message, "n_out is NULL"));

	clq_set_log_handler(NULL, NULL);
	ck_assert_rc(clq_device_count(NULL), CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_int_eq(calls, 1);
}
END_TEST

static Suite *
error_suite(void)
{
	Suite *s = suite_create("error");
	TCase *tc = tcase_create("codes");

	tcase_add_test(tc, clq_codes_have_names);
	tcase_add_test(tc, success_is_zero);
	tcase_add_test(tc, opencl_codes_have_names);
	tcase_add_test(tc, unknown_codes_are_described);
	suite_add_tcase(s, tc);

	tc = tcase_create("version");
	tcase_add_test(tc, version_matches_header);
	suite_add_tcase(s, tc);

	tc = tcase_create("log");
	tcase_add_test(tc, process_log_handler_receives_errors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_main(error_suite(), 0);
}
