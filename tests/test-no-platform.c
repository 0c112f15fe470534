/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Points the ICD loader at a vendor directory that does not exist
 * (OCL_ICD_VENDORS, read at the loader's first call) and drops its list of
 * extra drivers (OCL_ICD_FILENAMES): no OpenCL platform at
 * all is zero devices, and every call that needs one says so with a code,
 * not a crash.
 */
#include <stdlib.h>

#include "test-common.h"

START_TEST(no_platform_is_zero_devices)
{
	size_t n = 99;

	ck_assert_ok(clq_device_count(&n));
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(no_platform_get_and_select)
{
	struct clq_device *d = NULL;
	struct clq_context *ctx = NULL;

	test_log_expect("no device with index");
	ck_assert_rc(clq_device_get(0, &d), CLQ_ERROR_OUT_OF_RANGE);
	ck_assert_ptr_null(d);

	unsetenv("CLQ_DEVICE");
	unsetenv("PYOPENCL_CTX");
	test_log_expect("no OpenCL device is installed");
	ck_assert_rc(clq_device_select(NULL, &d), CLQ_ERROR_NO_DEVICE);
	ck_assert(test_log_seen());
	ck_assert_rc(clq_context_create_default(&ctx), CLQ_ERROR_NO_DEVICE);
	ck_assert_ptr_null(ctx);

	test_log_expect("no device matches");
	ck_assert_rc(clq_device_select("0", &d), CLQ_ERROR_NO_DEVICE);
	ck_assert_rc(clq_device_select("gpu", &d), CLQ_ERROR_NO_DEVICE);
	ck_assert_ptr_null(d);
}
END_TEST

static Suite *
no_platform_suite(void)
{
	Suite *s = suite_create("no-platform");
	TCase *tc = tcase_create("no-platform");

	tcase_add_checked_fixture(tc, test_log_setup, test_log_teardown);
	tcase_add_test(tc, no_platform_is_zero_devices);
	tcase_add_test(tc, no_platform_get_and_select);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	setenv("OCL_ICD_VENDORS", "/nonexistent/clq-test-no-vendors", 1);
	unsetenv("OCL_ICD_FILENAMES"); /* ocl-icd's list of extra drivers */
	return test_main(no_platform_suite(), 0);
}
