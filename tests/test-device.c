/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"

static size_t
device_count(void)
{
	size_t n = 0;

	ck_assert_ok(clq_device_count(&n));
	ck_assert_uint_ge(n, 1);
	return n;
}

/* Selects by spec and returns the chosen device's global index. */
static size_t
select_index(const char *spec)
{
	struct clq_device *d = NULL;
	size_t index;

	ck_assert_ok(clq_device_select(spec, &d));
	ck_assert_ptr_nonnull(d);
	index = clq_device_get_index(d);
	clq_device_unref(d);
	return index;
}

static void
clear_env(void)
{
	unsetenv("CLQ_DEVICE");
	unsetenv("PYOPENCL_CTX");
}

START_TEST(getters_describe_every_device)
{
	size_t n = device_count();

	for (size_t i = 0; i < n; i++) {
		struct clq_device *d = NULL;

		ck_assert_ok(clq_device_get(i, &d));
		ck_assert_ptr_nonnull(clq_device_get_cl(d));
		ck_assert_ptr_nonnull(clq_device_get_platform_cl(d));
		ck_assert_uint_eq(clq_device_get_index(d), i);
		ck_assert_uint_gt(strlen(clq_device_get_name(d)), 0);
		ck_assert_ptr_nonnull(clq_device_get_vendor(d));
		ck_assert_uint_gt(strlen(clq_device_get_platform_name(d)), 0);
		ck_assert_ptr_nonnull(clq_device_get_driver_version(d));
		ck_assert_int_eq(
			strncmp(clq_device_get_opencl_version(d), "OpenCL ", 7),
			0);
		ck_assert_uint_ge(clq_device_get_opencl_version_number(d), 120);
		ck_assert_uint_ge(clq_device_get_compute_units(d), 1);
		ck_assert_uint_ge(clq_device_get_max_work_group_size(d), 1);
		ck_assert_uint_gt(clq_device_get_global_memory(d), 0);
		ck_assert_uint_gt(clq_device_get_max_alloc_size(d), 0);
		ck_assert_uint_le(clq_device_get_max_alloc_size(d),
				  clq_device_get_global_memory(d));
		ck_assert_uint_ge(clq_device_get_simd_group_size(d), 1);
		ck_assert_int_ge(clq_device_can_profile(d), 0);
		ck_assert_int_le(clq_device_can_profile(d), 1);
		ck_assert_int_ge(clq_device_get_type(d), CLQ_DEVICE_TYPE_OTHER);
		ck_assert_int_le(clq_device_get_type(d),
				 CLQ_DEVICE_TYPE_ACCELERATOR);
		clq_device_unref(d);
	}
}
END_TEST

/* PoCL's pthread device: a CPU that profiles, SIMD fallback 1. */
START_TEST(pocl_cpu_properties)
{
	struct clq_device *d = NULL;

	test_log_expect("no device matches");
	if (clq_device_select("Portable Computing Language", &d) < 0)
		return; /* not on PoCL: nothing to check */
	test_log_expect(NULL);
	ck_assert_int_eq(clq_device_get_type(d), CLQ_DEVICE_TYPE_CPU);
	ck_assert_int_eq(clq_device_can_profile(d), 1);
	ck_assert_uint_eq(clq_device_get_simd_group_size(d), 1);
	ck_assert_uint_ge(clq_device_get_timer_resolution(d), 1);
	clq_device_unref(d);
}
END_TEST

START_TEST(get_out_of_range)
{
	size_t n = device_count();
	struct clq_device *d = (struct clq_device *)&n;

	test_log_expect("no device with index");
	ck_assert_rc(clq_device_get(n, &d), CLQ_ERROR_OUT_OF_RANGE);
	ck_assert_ptr_null(d);
	ck_assert(test_log_seen());
	d = (struct clq_device *)&n;
	ck_assert_rc(clq_device_get((size_t)-1, &d), CLQ_ERROR_OUT_OF_RANGE);
	ck_assert_ptr_null(d);
}
END_TEST

START_TEST(null_arguments)
{
	test_log_expect("is NULL");
	ck_assert_rc(clq_device_count(NULL), CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_device_get(0, NULL), CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert_rc(clq_device_select("0", NULL), CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());

	ck_assert_ptr_null(clq_device_get_name(NULL));
	ck_assert_ptr_null(clq_device_get_cl(NULL));
	ck_assert_uint_eq(clq_device_get_simd_group_size(NULL), 0);
	ck_assert_ptr_null(clq_device_ref(NULL));
	clq_device_unref(NULL);
}
END_TEST

START_TEST(ref_and_unref)
{
	struct clq_device *d = NULL;

	ck_assert_ok(clq_device_get(0, &d));
	ck_assert_ptr_eq(clq_device_ref(d), d);
	clq_device_unref(d);
	ck_assert_uint_gt(strlen(clq_device_get_name(d)), 0);
	clq_device_unref(d);
}
END_TEST

START_TEST(spec_global_index)
{
	size_t n = device_count();
	char spec[32];

	for (size_t i = 0; i < n; i++) {
		snprintf(spec, sizeof(spec), "%zu", i);
		ck_assert_uint_eq(select_index(spec), i);
		snprintf(spec, sizeof(spec), "  %zu\t", i);
		ck_assert_uint_eq(select_index(spec), i);
	}
}
END_TEST

START_TEST(spec_platform_and_device)
{
	size_t n = device_count();
	char spec[64];

	for (size_t i = 0; i < n; i++) {
		struct clq_device *d = NULL;

		ck_assert_ok(clq_device_get(i, &d));
		snprintf(spec, sizeof(spec), "%zu:%zu",
			 clq_device_get_platform_index(d),
			 clq_device_get_index_in_platform(d));
		ck_assert_uint_eq(select_index(spec), i);
		clq_device_unref(d);
	}
	ck_assert_uint_eq(select_index("0:0"), 0);
}
END_TEST

/* Changes a string's case, to check case-insensitive matching. */
static void
swap_case(char *s)
{
	for (; *s; s++)
		*s = (char)(isupper((unsigned char)*s)
				    ? tolower((unsigned char)*s)
				    : toupper((unsigned char)*s));
}

START_TEST(spec_name_substring)
{
	struct clq_device *d = NULL;
	char name[256];

	ck_assert_ok(clq_device_get(0, &d));
	/* The whole device name, and a middle part of it in swapped case. */
	ck_assert_uint_eq(select_index(clq_device_get_name(d)), 0);
	snprintf(name, sizeof(name), "%s", clq_device_get_name(d) + 1);
	if (strlen(name) > 4)
		name[strlen(name) - 1] = '\0';
	swap_case(name);
	ck_assert_uint_eq(select_index(name), 0);

	/* The platform name matches the platform's first device. */
	snprintf(name, sizeof(name), "%s", clq_device_get_platform_name(d));
	swap_case(name);
	ck_assert_uint_eq(select_index(name), 0);
	clq_device_unref(d);
}
END_TEST

START_TEST(spec_malformed)
{
	static const char *const bad[] = {
		"",
		"   ",
		"\t\n",
		"1:",
		":1",
		":",
		"0:0:0",
		"::",
		"-1",
		"+1",
		"1-",
		"1 2",
		"0 : 0 :",
		"--",
		"0:-1",
		"18446744073709551616",
		"99999999999999999999999999:0",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct clq_device *d = (struct clq_device *)bad;

		test_log_expect("malformed device spec");
		ck_assert_msg(clq_device_select(bad[i], &d) ==
				      CLQ_ERROR_BAD_DEVICE_SPEC,
			      "spec '%s' was not refused", bad[i]);
		ck_assert_ptr_null(d);
		ck_assert_msg(test_log_seen(), "spec '%s': no log", bad[i]);
	}
}
END_TEST

START_TEST(spec_no_match_lists_devices)
{
	static const char *const none[] = {"no-such-device-anywhere", "999",
					   "0:999", "999:0"};
	struct clq_device *first = NULL;

	ck_assert_ok(clq_device_get(0, &first));
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		struct clq_device *d = first;

		test_log_expect("no device matches");
		ck_assert_rc(clq_device_select(none[i], &d),
			     CLQ_ERROR_NO_DEVICE);
		ck_assert_ptr_null(d);
		ck_assert(test_log_seen());
		/* The log names each device with the specs that select it. */
		ck_assert_ptr_nonnull(strstr(test_log_text(), none[i]));
		ck_assert_ptr_nonnull(strstr(test_log_text(), "0 (0:0)"));
		ck_assert_ptr_nonnull(
			strstr(test_log_text(), clq_device_get_name(first)));
	}
	clq_device_unref(first);
}
END_TEST

START_TEST(spec_from_environment)
{
	size_t last = device_count() - 1;
	char spec[32];

	snprintf(spec, sizeof(spec), "%zu", last);
	clear_env();
	setenv("CLQ_DEVICE", spec, 1);
	setenv("PYOPENCL_CTX", "no-such-device", 1);
	ck_assert_uint_eq(select_index(NULL), last);

	/* An empty CLQ_DEVICE is skipped; PYOPENCL_CTX is read next. */
	setenv("CLQ_DEVICE", "", 1);
	setenv("PYOPENCL_CTX", spec, 1);
	ck_assert_uint_eq(select_index(NULL), last);
	unsetenv("CLQ_DEVICE");
	ck_assert_uint_eq(select_index(NULL), last);
	clear_env();
}
END_TEST

START_TEST(spec_from_environment_errors)
{
	struct clq_device *d = NULL;

	clear_env();
	setenv("CLQ_DEVICE", "1:", 1);
	setenv("PYOPENCL_CTX", "0", 1);
	test_log_expect("(from CLQ_DEVICE)");
	ck_assert_rc(clq_device_select(NULL, &d), CLQ_ERROR_BAD_DEVICE_SPEC);
	ck_assert(test_log_seen());

	unsetenv("CLQ_DEVICE");
	setenv("PYOPENCL_CTX", "no-such-device", 1);
	test_log_expect("(from PYOPENCL_CTX)");
	ck_assert_rc(clq_device_select(NULL, &d), CLQ_ERROR_NO_DEVICE);
	ck_assert(test_log_seen());
	ck_assert_ptr_null(d);
	clear_env();
}
END_TEST

static int
type_rank(enum clq_device_type type)
{
	switch (type) {
	case CLQ_DEVICE_TYPE_GPU:
		return 0;
	case CLQ_DEVICE_TYPE_ACCELERATOR:
		return 1;
	case CLQ_DEVICE_TYPE_CPU:
		return 2;
	default:
		return 3;
	}
}

START_TEST(default_prefers_gpu_then_accelerator_then_cpu)
{
	size_t n = device_count(), want = 0;
	int best = 4;

	for (size_t i = 0; i < n; i++) {
		struct clq_device *d = NULL;
		int rank;

		ck_assert_ok(clq_device_get(i, &d));
		rank = type_rank(clq_device_get_type(d));
		if (rank < best) {
			best = rank;
			want = i;
		}
		clq_device_unref(d);
	}
	clear_env();
	ck_assert_uint_eq(select_index(NULL), want);
}
END_TEST

static Suite *
device_suite(void)
{
	Suite *s = suite_create("device");
	TCase *tc = tcase_create("enumerate");

	tcase_add_checked_fixture(tc, test_log_setup, test_log_teardown);
	tcase_add_test(tc, getters_describe_every_device);
	tcase_add_test(tc, pocl_cpu_properties);
	tcase_add_test(tc, get_out_of_range);
	tcase_add_test(tc, null_arguments);
	tcase_add_test(tc, ref_and_unref);
	suite_add_tcase(s, tc);

	tc = tcase_create("select");
	tcase_add_checked_fixture(tc, test_log_setup, test_log_teardown);
	tcase_add_test(tc, spec_global_index);
	tcase_add_test(tc, spec_platform_and_device);
	tcase_add_test(tc, spec_name_substring);
	tcase_add_test(tc, spec_malformed);
	tcase_add_test(tc, spec_no_match_lists_devices);
	tcase_add_test(tc, spec_from_environment);
	tcase_add_test(tc, spec_from_environment_errors);
	tcase_add_test(tc, default_prefers_gpu_then_accelerator_then_cpu);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_main(device_suite(), 1);
}
