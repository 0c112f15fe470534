/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <ctype.h>
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-common.h"

extern char **environ;

/*
 * clGetDeviceIDs, interposed (this executable's definition comes before
 * the ICD loader's for libclq too): fails while `device_ids_fail` is set,
 * and sleeps `device_ids_nap_ms` first while that is set (clq holds its
 * enumeration lock meanwhile).
 */
static atomic_int device_ids_fail;
static atomic_int device_ids_nap_ms;
static atomic_int device_ids_entered;

CL_API_ENTRY cl_int CL_API_CALL
clGetDeviceIDs(cl_platform_id platform, cl_device_type type, cl_uint n_entries,
	       cl_device_id *devices, cl_uint *n_out)
{
	cl_int(CL_API_CALL * real)(cl_platform_id, cl_device_type, cl_uint,
				   cl_device_id *, cl_uint *) = NULL;
	void *sym = dlsym(RTLD_NEXT, "clGetDeviceIDs");
	int nap = atomic_load(&device_ids_nap_ms);

	memcpy(&real, &sym, sizeof(real));
	atomic_fetch_add(&device_ids_entered, 1);
	if (nap)
		usleep((useconds_t)nap * 1000);
	if (atomic_load(&device_ids_fail))
		return CL_OUT_OF_RESOURCES;
	return real(platform, type, n_entries, devices, n_out);
}

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

/*
 * PCI address: a device that lists neither cl_khr_pci_bus_info nor
 * cl_nv_device_attribute_query (PoCL's CPU device) is unsupported, said in
 * the log; one that lists either gives an address in PCI's ranges, the
 * same on every call, that only its own device has.
 */
START_TEST(pci_bus_info)
{
	size_t n = device_count();
	struct clq_pci_bus_info *got = calloc(n, sizeof(*got));
	int *ok = calloc(n, sizeof(*ok));

	ck_assert_ptr_nonnull(got);
	ck_assert_ptr_nonnull(ok);
	for (size_t i = 0; i < n; i++) {
		struct clq_device *d = NULL;
		struct clq_pci_bus_info info = {7, 7, 7, 7}, again;
		int rc;

		ck_assert_ok(clq_device_get(i, &d));
		test_log_expect("lists neither cl_khr_pci_bus_info nor "
				"cl_nv_device_attribute_query");
		rc = clq_device_get_pci_bus_info(d, &info);
		if (rc == CLQ_ERROR_UNSUPPORTED) {
			ck_assert(test_log_seen());
			/* not written */
			ck_assert_uint_eq(info.domain + info.bus + info.device +
						  info.function,
					  28);
		} else {
			ck_assert_msg(rc == CLQ_SUCCESS, "%s",
				      clq_strerror(rc));
			ck_assert_uint_le(info.domain, 0xffff);
			ck_assert_uint_le(info.bus, 0xff);
			ck_assert_uint_le(info.device, 31);
			ck_assert_uint_le(info.function, 7);
			ck_assert_ok(clq_device_get_pci_bus_info(d, &again));
			ck_assert_mem_eq(&info, &again, sizeof(info));
			got[i] = info;
			ok[i] = 1;
		}
		test_log_expect(NULL);
		clq_device_unref(d);
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			ck_assert(!ok[i] || !ok[j] ||
				  memcmp(&got[i], &got[j], sizeof(*got)) != 0);
	free(got);
	free(ok);
}
END_TEST

START_TEST(pci_bus_info_pocl_unsupported)
{
	struct clq_device *d = NULL;
	struct clq_pci_bus_info info;

	test_log_expect("no device matches");
	if (clq_device_select("Portable Computing Language", &d) < 0)
		return; /* not on PoCL: nothing to check */
	test_log_expect("lists neither cl_khr_pci_bus_info nor "
			"cl_nv_device_attribute_query");
	ck_assert_rc(clq_device_get_pci_bus_info(d, &info),
		     CLQ_ERROR_UNSUPPORTED);
	ck_assert(test_log_seen());
	ck_assert_ptr_nonnull(strstr(test_log_text(), "does not say where"));
	clq_device_unref(d);
}
END_TEST

START_TEST(pci_bus_info_null)
{
	struct clq_device *d = NULL;
	struct clq_pci_bus_info info;

	ck_assert_ok(clq_device_get(0, &d));
	test_log_expect("device is NULL");
	ck_assert_rc(clq_device_get_pci_bus_info(NULL, &info),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
	test_log_expect("info_out is NULL");
	ck_assert_rc(clq_device_get_pci_bus_info(d, NULL),
		     CLQ_ERROR_INVALID_ARGUMENT);
	ck_assert(test_log_seen());
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
	struct clq_device *d = NULL;
	char spec[32], pair[64];

	ck_assert_ok(clq_device_get(last, &d));
	snprintf(spec, sizeof(spec), "%zu", last);
	snprintf(pair, sizeof(pair), "%zu:%zu",
		 clq_device_get_platform_index(d),
		 clq_device_get_index_in_platform(d));
	clq_device_unref(d);
	clear_env();
	setenv("CLQ_DEVICE", spec, 1);
	setenv("PYOPENCL_CTX", "no-such-device", 1);
	test_log_expect(NULL);
	ck_assert_uint_eq(select_index(NULL), last);
	/* The log says what chose the device, and with which grammar. */
	ck_assert_ptr_nonnull(
		strstr(test_log_text(), "from CLQ_DEVICE, read with clq's"));

	/* An empty CLQ_DEVICE is skipped; PYOPENCL_CTX is read next. */
	setenv("CLQ_DEVICE", "", 1);
	setenv("PYOPENCL_CTX", pair, 1);
	test_log_expect(NULL);
	ck_assert_uint_eq(select_index(NULL), last);
	ck_assert_ptr_nonnull(strstr(test_log_text(), "CLQ_DEVICE is empty"));
	ck_assert_ptr_nonnull(strstr(
		test_log_text(), "from PYOPENCL_CTX, read with PyOpenCL's"));
	unsetenv("CLQ_DEVICE");
	test_log_expect(NULL);
	ck_assert_uint_eq(select_index(NULL), last);
	ck_assert_ptr_nonnull(strstr(test_log_text(), "CLQ_DEVICE is unset"));
	clear_env();
}
END_TEST

START_TEST(spec_from_environment_errors)
{
	struct clq_device *d = NULL;

	clear_env();
	setenv("CLQ_DEVICE", "1:", 1);
	setenv("PYOPENCL_CTX", "0", 1);
	test_log_expect("(from CLQ_DEVICE, read with clq's grammar: N, P:D");
	ck_assert_rc(clq_device_select(NULL, &d), CLQ_ERROR_BAD_DEVICE_SPEC);
	ck_assert(test_log_seen());

	unsetenv("CLQ_DEVICE");
	setenv("PYOPENCL_CTX", "no-such-device", 1);
	test_log_expect("(from PYOPENCL_CTX, read with PyOpenCL's grammar: "
			"platform[:device]");
	ck_assert_rc(clq_device_select(NULL, &d), CLQ_ERROR_NO_DEVICE);
	ck_assert(test_log_seen());
	ck_assert_ptr_null(d);
	/* Why, and every device to choose from. */
	ck_assert_ptr_nonnull(
		strstr(test_log_text(), "no platform name contains it"));
	ck_assert_ptr_nonnull(strstr(test_log_text(), "0 (0:0)"));

	setenv("PYOPENCL_CTX", "0:0:0", 1);
	test_log_expect("(from PYOPENCL_CTX, read with PyOpenCL's grammar");
	ck_assert_rc(clq_device_select(NULL, &d), CLQ_ERROR_BAD_DEVICE_SPEC);
	ck_assert(test_log_seen());

	/* clq's grammar for a spec in PyOpenCL's form says where it goes. */
	test_log_expect("read from PYOPENCL_CTX only");
	ck_assert_rc(clq_device_select("portable:0", &d), CLQ_ERROR_NO_DEVICE);
	ck_assert(test_log_seen());
	clear_env();
}
END_TEST

/* Whether `haystack` contains `needle`, ignoring ASCII case. */
static int
contains_ci(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);

	for (const char *h = haystack;; h++) {
		if (strncasecmp(h, needle, n) == 0)
			return 1;
		if (!*h)
			return 0;
	}
}

static char *
platform_string(cl_platform_id id, cl_platform_info param)
{
	size_t size = 0;
	char *s;

	if (clGetPlatformInfo(id, param, 0, NULL, &size) != CL_SUCCESS)
		return NULL;
	s = calloc(1, size + 1);
	if (s && clGetPlatformInfo(id, param, size, s, NULL) != CL_SUCCESS) {
		free(s);
		s = NULL;
	}
	return s;
}

/* The strings of device 0's platform that a name spec is matched to. */
START_TEST(spec_name_matches_platform_vendor_and_version)
{
	static const cl_platform_info params[] = {
		CL_PLATFORM_NAME, CL_PLATFORM_VENDOR, CL_PLATFORM_VERSION};
	struct clq_device *d = NULL;

	ck_assert_ok(clq_device_get(0, &d));
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		char *s = platform_string(clq_device_get_platform_cl(d),
					  params[i]);

		ck_assert_ptr_nonnull(s);
		if (!s[strspn(s, " \t")]) {
			free(s); /* blank: nothing to select by */
			continue;
		}
		ck_assert_uint_eq(select_index(s), 0);
		swap_case(s);
		ck_assert_uint_eq(select_index(s), 0);
		free(s);
	}
	clq_device_unref(d);
}
END_TEST

/* The index of the first device of the PoCL platform, or -1. */
static long
pocl_first_device(void)
{
	size_t n = 0;
	long found = -1;

	if (clq_device_count(&n) < 0)
		return -1;
	for (size_t i = 0; i < n && found < 0; i++) {
		struct clq_device *d = NULL;

		if (clq_device_get(i, &d) < 0)
			return -1;
		if (strcmp(clq_device_get_platform_name(d),
			   "Portable Computing Language") == 0)
			found = (long)i;
		clq_device_unref(d);
	}
	return found;
}

/* The README's own example: `pocl` is in PoCL's vendor and version, not in
 * its platform name. */
START_TEST(spec_pocl_selects_pocl)
{
	/* The last is "PoCL <major>", from the platform version. */
	static char version[16];
	static const char *const specs[] = {"pocl", "POCL", "The pocl project",
					    version, "portable computing"};
	long pocl = pocl_first_device();
	struct clq_device *dev = NULL;
	char text[256];
	const char *at;

	if (pocl < 0)
		return; /* not on PoCL */
	ck_assert_ok(clq_device_get((size_t)pocl, &dev));
	ck_assert_int_eq(clGetPlatformInfo(clq_device_get_platform_cl(dev),
					   CL_PLATFORM_VERSION, sizeof(text),
					   text, NULL),
			 CL_SUCCESS);
	clq_device_unref(dev);
	ck_assert_ptr_nonnull(at = strstr(text, "PoCL "));
	snprintf(version, sizeof(version), "PoCL %c", at[5]);
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		struct clq_device *d = NULL;

		test_log_expect(NULL);
		ck_assert_msg(clq_device_select(specs[i], &d) == CLQ_SUCCESS,
			      "spec '%s' did not select PoCL: %s", specs[i],
			      test_log_text());
		ck_assert_str_eq(clq_device_get_platform_name(d),
				 "Portable Computing Language");
		ck_assert_int_eq(clq_device_get_index(d), pocl);
		clq_device_unref(d);
	}
}
END_TEST

/*
 * The platforms and devices, as PyOpenCL's choose_devices() numbers them:
 * platforms in the ICD loader's order, each platform's devices in its own.
 */
#define MAX_PLATFORMS 16
struct layout {
	cl_uint n_platforms;
	char *platform_name[MAX_PLATFORMS];
	size_t first[MAX_PLATFORMS]; /* global index of its device 0 */
	size_t count[MAX_PLATFORMS];
	size_t n_devices;
};

static int
layout_load(struct layout *l)
{
	cl_platform_id ids[MAX_PLATFORMS];

	memset(l, 0, sizeof(*l));
	if (clGetPlatformIDs(MAX_PLATFORMS, ids, &l->n_platforms) !=
		    CL_SUCCESS ||
	    l->n_platforms > MAX_PLATFORMS ||
	    clq_device_count(&l->n_devices) < 0)
		return -1;
	for (cl_uint p = 0; p < l->n_platforms; p++) {
		l->platform_name[p] = platform_string(ids[p], CL_PLATFORM_NAME);
		if (!l->platform_name[p])
			return -1;
	}
	for (size_t i = 0; i < l->n_devices; i++) {
		struct clq_device *d = NULL;
		size_t p;

		if (clq_device_get(i, &d) < 0)
			return -1;
		p = clq_device_get_platform_index(d);
		if (!l->count[p]++)
			l->first[p] = i;
		clq_device_unref(d);
	}
	return 0;
}

static void
layout_free(struct layout *l)
{
	for (cl_uint p = 0; p < l->n_platforms; p++)
		free(l->platform_name[p]);
}

/* PyOpenCL's choice of platform by name: the last that matches, or -1. */
static long
layout_platform_named(const struct layout *l, const char *name)
{
	long found = -1;

	for (cl_uint p = 0; p < l->n_platforms; p++) {
		if (contains_ci(l->platform_name[p], name))
			found = (long)p;
	}
	return found;
}

/* The first device of platform p whose name contains `name`, else
 * CLQ_ERROR_NO_DEVICE. */
static long
layout_device_named(const struct layout *l, size_t p, const char *name)
{
	for (size_t d = 0; d < l->count[p]; d++) {
		struct clq_device *dev = NULL;
		int hit;

		if (clq_device_get(l->first[p] + d, &dev) < 0)
			return -1;
		hit = contains_ci(clq_device_get_name(dev), name);
		clq_device_unref(dev);
		if (hit)
			return (long)(l->first[p] + d);
	}
	return CLQ_ERROR_NO_DEVICE;
}

/* Selects through PYOPENCL_CTX: the global index chosen, or the status. */
static long
pyopencl_select(const char *value)
{
	struct clq_device *d = NULL;
	long chosen;
	int rc;

	unsetenv("CLQ_DEVICE");
	setenv("PYOPENCL_CTX", value, 1);
	rc = clq_device_select(NULL, &d);
	chosen = rc < 0 ? rc : (long)clq_device_get_index(d);
	clq_device_unref(d);
	unsetenv("PYOPENCL_CTX");
	return chosen;
}

#define EXPECT_PYOPENCL(value, want)                                         \
	do {                                                                 \
		long got_ = pyopencl_select(value), want_ = (want);          \
		if (got_ != want_) {                                         \
			snprintf(why, sizeof(why),                           \
				 "PYOPENCL_CTX='%s' gave %ld, expected %ld", \
				 value, got_, want_);                        \
			goto out;                                            \
		}                                                            \
	} while (0)

/*
 * Checks that PYOPENCL_CTX chooses what PyOpenCL's choose_devices() does
 * on this machine's devices. Returns NULL, or what went wrong.
 */
static const char *
pyopencl_mismatch(void)
{
	static char why[512];
	struct layout l;
	char v[300];
	const char *result = why;
	long want;

	snprintf(why, sizeof(why), "cannot list the platforms");
	if (layout_load(&l) < 0)
		goto out;
	for (cl_uint p = 0; p < l.n_platforms; p++) {
		if (!l.count[p])
			continue;
		/* A bare number is a platform, its first device chosen. */
		snprintf(v, sizeof(v), "%u", p);
		EXPECT_PYOPENCL(v, (long)l.first[p]);
		snprintf(v, sizeof(v), "%u:", p);
		EXPECT_PYOPENCL(v, (long)l.first[p]);
		/* Python's int(): blanks, a sign, '_' between digits. */
		snprintf(v, sizeof(v), " +%u\t: 0 ", p);
		EXPECT_PYOPENCL(v, (long)l.first[p]);
		for (size_t d = 0; d < l.count[p]; d++) {
			snprintf(v, sizeof(v), "%u:%zu", p, d);
			EXPECT_PYOPENCL(v, (long)(l.first[p] + d));
			/* A list: every entry must match; the first wins. */
			snprintf(v, sizeof(v), "%u:%zu,0", p, d);
			EXPECT_PYOPENCL(v, (long)(l.first[p] + d));
			snprintf(v, sizeof(v), "0_%u:+0_0%zu", p, d);
			EXPECT_PYOPENCL(v, (long)(l.first[p] + d));
		}
		/* Names: the last platform, then the first device, that
		 * contain it. */
		snprintf(v, sizeof(v), "%s", l.platform_name[p]);
		swap_case(v);
		want = layout_platform_named(&l, l.platform_name[p]);
		EXPECT_PYOPENCL(v, l.count[want] ? (long)l.first[want]
						 : CLQ_ERROR_NO_DEVICE);
	}
	if (l.n_platforms && l.count[0]) {
		/* An empty part is the first platform or device. */
		EXPECT_PYOPENCL(":", (long)l.first[0]);
		for (size_t d = 0; d < l.count[0]; d++) {
			snprintf(v, sizeof(v), ":%zu", d);
			EXPECT_PYOPENCL(v, (long)(l.first[0] + d));
		}
		EXPECT_PYOPENCL("-0", (long)l.first[0]);
		EXPECT_PYOPENCL("0:,", (long)l.first[0]);
		/* A device number out of range is compared as a name. */
		snprintf(v, sizeof(v), "%zu", l.count[0]);
		want = layout_device_named(&l, 0, v);
		snprintf(v, sizeof(v), "0:%zu", l.count[0]);
		EXPECT_PYOPENCL(v, want);
		EXPECT_PYOPENCL("0:no-such-device-anywhere",
				CLQ_ERROR_NO_DEVICE);
		EXPECT_PYOPENCL("0:0,no-such-device-anywhere",
				CLQ_ERROR_NO_DEVICE);
	}
	/* A platform number out of range is compared as a name too. */
	snprintf(v, sizeof(v), "%u", l.n_platforms);
	if (layout_platform_named(&l, v) < 0)
		EXPECT_PYOPENCL(v, CLQ_ERROR_NO_DEVICE);
	if (layout_platform_named(&l, "-1") < 0)
		EXPECT_PYOPENCL("-1", CLQ_ERROR_NO_DEVICE);
	/* PoCL as PyOpenCL users name it: its platform name. */
	want = layout_platform_named(&l, "portable");
	if (want >= 0 && l.count[want])
		EXPECT_PYOPENCL("portable:0", (long)l.first[want]);
	/* Only the platform name counts: `pocl` is in PoCL's vendor. */
	if (layout_platform_named(&l, "pocl") < 0)
		EXPECT_PYOPENCL("pocl", CLQ_ERROR_NO_DEVICE);
	EXPECT_PYOPENCL("no-such-platform-anywhere", CLQ_ERROR_NO_DEVICE);
	EXPECT_PYOPENCL("0:0:0", CLQ_ERROR_BAD_DEVICE_SPEC);
	EXPECT_PYOPENCL("::", CLQ_ERROR_BAD_DEVICE_SPEC);
	EXPECT_PYOPENCL("a:b:c", CLQ_ERROR_BAD_DEVICE_SPEC);
	result = NULL;
out:
	layout_free(&l);
	return result;
}

START_TEST(pyopencl_ctx_grammar)
{
	const char *mismatch;

	clear_env();
	test_log_expect("*");
	mismatch = pyopencl_mismatch();
	ck_assert_msg(!mismatch, "%s", mismatch);

	/* A list of devices: one is used, and the log says so. */
	test_log_expect(NULL);
	ck_assert_int_eq(pyopencl_select("0:0,0"), 0);
	ck_assert_ptr_nonnull(strstr(test_log_text(), "lists 2 devices"));
	clear_env();
}
END_TEST

/*
 * Runs this program again as `--child scenario`, with CLQ_LOG, CLQ_DEVICE
 * and PYOPENCL_CTX removed from its environment and `extra` (NAME=value,
 * NULL-terminated) added. Returns its exit status (-1 if it did not exit)
 * and what it wrote to stderr in `err`.
 */
static int
run_child(const char *scenario, const char *const *extra, char *err,
	  size_t size)
{
	static const char *const removed[] = {
		"CLQ_LOG=", "CLQ_DEVICE=", "PYOPENCL_CTX=", "POCL_DEVICES="};
	char self[4096], scratch[256];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *argv[] = {self, "--child", (char *)scenario, NULL};
	char **envp;
	size_t n_env = 0, k = 0, used = 0;
	posix_spawn_file_actions_t actions;
	int fds[2], status = 0;
	pid_t pid;

	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	while (environ[n_env])
		n_env++;
	envp = calloc(n_env + 8, sizeof(*envp));
	ck_assert_ptr_nonnull(envp);
	for (size_t i = 0; i < n_env; i++) {
		int keep = 1;

		for (size_t r = 0; r < sizeof(removed) / sizeof(removed[0]);
		     r++)
			keep = keep && strncmp(environ[i], removed[r],
					       strlen(removed[r])) != 0;
		if (keep)
			envp[k++] = environ[i];
	}
	for (; extra && *extra && k < n_env + 7; extra++)
		envp[k++] = (char *)*extra;
	ck_assert_int_eq(pipe(fds), 0);
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
	posix_spawn_file_actions_addclose(&actions, fds[0]);
	posix_spawn_file_actions_addclose(&actions, fds[1]);
	ck_assert_int_eq(posix_spawn(&pid, self, &actions, NULL, argv, envp),
			 0);
	posix_spawn_file_actions_destroy(&actions);
	free(envp);
	close(fds[1]);
	for (;;) {
		/* Past `size`, read on so that the child never blocks. */
		ssize_t r = used + 1 < size
				    ? read(fds[0], err + used, size - 1 - used)
				    : read(fds[0], scratch, sizeof(scratch));

		if (r <= 0)
			break;
		if (used + 1 < size)
			used += (size_t)r;
	}
	err[used] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * PYOPENCL_CTX on two devices of one platform (PoCL's POCL_DEVICES), where
 * a bare number, a platform, differs from clq's global index.
 */
START_TEST(pyopencl_ctx_two_devices)
{
	static char err[65536];
	const char *extra[] = {"POCL_DEVICES=pthread pthread", NULL};
	int status;

	clear_env();
	status = run_child("pyopencl", extra, err, sizeof(err));
	if (status == 77 && pocl_first_device() < 0)
		return; /* not on PoCL */
	ck_assert_msg(status == 0, "child exited %d: %s", status, err);
}
END_TEST

/* CLQ_LOG: each case in a child process, since the variable is read once. */

/* How many times `needle` occurs in `s`. */
static size_t
count_of(const char *s, const char *needle)
{
	size_t n = 0;

	for (; (s = strstr(s, needle)); s += strlen(needle))
		n++;
	return n;
}

/* Whether every line of `s` starts with `prefix`. */
static int
every_line_starts_with(const char *s, const char *prefix)
{
	for (; *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : s + strlen(s)) {
		if (strncmp(s, prefix, strlen(prefix)) != 0)
			return 0;
	}
	return 1;
}

START_TEST(clq_log_prints_levels_to_stderr)
{
	/* CLQ_LOG (NULL: unset), then which levels it prints. */
	static const struct {
		const char *value;
		int shown[4]; /* error, warning, info, debug */
	} cases[] = {
		{NULL, {0, 0, 0, 0}},	 {"", {0, 0, 0, 0}},
		{"error", {1, 0, 0, 0}}, {"warning", {1, 1, 0, 0}},
		{"WARN", {1, 1, 0, 0}},	 {"info", {1, 1, 1, 0}},
		{"debug", {1, 1, 1, 1}}, {"Debug", {1, 1, 1, 1}},
	};
	/* The child logs one message of each level (child_each_level()). */
	static const char *const lines[] = {
		("clq: error: clq_device_select: no device matches spec "
		 "'no-such-device-anywhere'"),
		"clq: warning: clq_device_select: PYOPENCL_CTX lists 2 devices",
		"clq: info: clq_device_select: device ",
		"clq: debug: clq_device_select: CLQ_DEVICE is unset",
	};
	static const char *const prefixes[] = {"clq: error: ", "clq: warning: ",
					       "clq: info: ", "clq: debug: "};
	static char err[65536];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *name = cases[i].value ? cases[i].value : "(unset)";
		char setting[64];
		const char *extra[] = {setting, NULL};

		snprintf(setting, sizeof(setting), "CLQ_LOG=%s",
			 cases[i].value ? cases[i].value : "");
		ck_assert_int_eq(run_child("levels",
					   cases[i].value ? extra : NULL, err,
					   sizeof(err)),
				 0);
		for (size_t level = 0; level < 4; level++)
			ck_assert_msg(!strstr(err, lines[level]) ==
					      !cases[i].shown[level],
				      "CLQ_LOG=%s: '%s' %s in stderr:\n%s",
				      name, lines[level],
				      cases[i].shown[level] ? "missing"
							    : "unexpected",
				      err);
		for (size_t level = 0; level < 4; level++)
			ck_assert_msg(cases[i].shown[level] ||
					      !strstr(err, prefixes[level]),
				      "CLQ_LOG=%s: '%s' in stderr:\n%s", name,
				      prefixes[level], err);
		/* Nothing else; a message of several lines (the device
		 * list) is prefixed on each. */
		if (!cases[i].shown[0])
			ck_assert_str_eq(err, "");
		ck_assert_msg(every_line_starts_with(err, "clq: "),
			      "CLQ_LOG=%s: a line without its prefix:\n%s",
			      name, err);
		if (cases[i].shown[0])
			ck_assert_ptr_nonnull(
				strstr(err, "\nclq: error:   0 (0:0) "));
	}
}
END_TEST

START_TEST(clq_log_unknown_value_warns_once)
{
	static char err[65536];
	const char *extra[] = {"CLQ_LOG=verbose", NULL};

	ck_assert_int_eq(run_child("levels", extra, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "clq: warning: CLQ_LOG='verbose' is not error, "
			      "warning, info or debug; clq prints nothing\n");
}
END_TEST

START_TEST(clq_log_handler_takes_precedence)
{
	static char err[65536];
	const char *extra[] = {"CLQ_LOG=debug", NULL};

	/* The process-wide handler gets every message; stderr nothing. */
	ck_assert_int_eq(run_child("handler", extra, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");

	/* A context's handler takes its context's messages, not others. */
	extra[0] = "CLQ_LOG=error";
	ck_assert_int_eq(run_child("context-handler", extra, err, sizeof(err)),
			 0);
	ck_assert_ptr_nonnull(
		strstr(err, "clq: error: clq_device_count: n_out is NULL\n"));
	ck_assert_uint_eq(count_of(err, "unknown flags"), 1);
	ck_assert_uint_eq(count_of(err, "\n"), 2);
}
END_TEST

/* PYOPENCL_CTX with no OpenCL platform at all: no device, and why. */
START_TEST(pyopencl_ctx_no_platform)
{
	static char err[65536];
	const char *extra[] = {"CLQ_LOG=error", NULL};

	ck_assert_int_eq(run_child("no-platform", extra, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "no OpenCL platform is installed"));
	ck_assert_ptr_nonnull(strstr(err, "none\n"));
}
END_TEST

/* The children that log. */

static int child_errors, child_infos;

static void
child_log(enum clq_log_level level, const char *message, void *user_data)
{
	(void)message;
	(void)user_data;
	child_errors += level == CLQ_LOG_ERROR;
	child_infos += level == CLQ_LOG_INFO;
}

/* Logs one message of each level, without a context: debug, warning and
 * info from a choice through PYOPENCL_CTX, an error from a failed one. */
static int
child_each_level(void)
{
	struct clq_device *d = NULL;
	int ok;

	unsetenv("CLQ_DEVICE");
	setenv("PYOPENCL_CTX", "0:0,0", 1);
	ok = clq_device_select(NULL, &d) == CLQ_SUCCESS;
	clq_device_unref(d);
	d = NULL;
	ok = ok && clq_device_select("no-such-device-anywhere", &d) ==
			   CLQ_ERROR_NO_DEVICE;
	return ok ? 0 : 1;
}

static int
child_context_handler(void)
{
	struct clq_device *d = NULL;
	struct clq_context *ctx = NULL;
	struct clq_queue *q = NULL;
	int ok;

	if (clq_device_get(0, &d) < 0 || clq_context_create(d, &ctx) < 0)
		return 1;
	clq_device_unref(d);
	clq_context_set_log_handler(ctx, child_log, NULL);
	ok = clq_queue_create(ctx, 0x40, &q) == CLQ_ERROR_INVALID_ARGUMENT &&
	     child_errors == 1;
	/* Without a context: the context's handler is not asked. */
	ok = ok && clq_device_count(NULL) == CLQ_ERROR_INVALID_ARGUMENT &&
	     child_errors == 1;
	clq_context_set_log_handler(ctx, NULL, NULL);
	ok = ok &&
	     clq_queue_create(ctx, 0x40, &q) == CLQ_ERROR_INVALID_ARGUMENT &&
	     child_errors == 1;
	clq_context_unref(ctx);
	return ok ? 0 : 1;
}

/* The child processes of run_child(). */
static int
child_main(const char *scenario)
{
	if (strcmp(scenario, "levels") == 0)
		return child_each_level();
	if (strcmp(scenario, "handler") == 0) {
		clq_set_log_handler(child_log, NULL);
		return child_each_level() == 0 && child_errors == 1 &&
				       child_infos == 1
			       ? 0
			       : 1;
	}
	if (strcmp(scenario, "context-handler") == 0)
		return child_context_handler();
	if (strcmp(scenario, "no-platform") == 0) {
		struct clq_device *d = NULL;

		/* As test-no-platform.c: the ICD loader finds no driver. */
		setenv("OCL_ICD_VENDORS", "/nonexistent/clq-test-no-vendors",
		       1);
		unsetenv("OCL_ICD_FILENAMES");
		unsetenv("CLQ_DEVICE");
		setenv("PYOPENCL_CTX", ":", 1);
		return clq_device_select(NULL, &d) == CLQ_ERROR_NO_DEVICE ? 0
									  : 1;
	}
	if (strcmp(scenario, "pyopencl") == 0) {
		size_t n = 0;
		const char *mismatch;

		if (clq_device_count(&n) < 0 || n < 2)
			return 77;
		mismatch = pyopencl_mismatch();
		if (mismatch)
			fprintf(stderr, "%s\n", mismatch);
		return mismatch ? 1 : 0;
	}
	return 2;
}

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

/* ------------------------------------------------- the enumeration lock */

/* A log handler that enumerates, as a program's own may (once). */
static atomic_int reentered;
static int reentered_rc;

static void
enumerating_handler(enum clq_log_level level, const char *message,
		    void *user_data)
{
	size_t n;

	(void)level;
	(void)user_data;
	if (strstr(message, "clGetDeviceIDs") &&
	    atomic_fetch_add(&reentered, 1) == 0)
		reentered_rc = clq_device_count(&n);
}

/*
 * A driver failure is logged after clq lets go of its enumeration lock:
 * a log handler that enumerates itself is answered (it deadlocked, the
 * lock not being recursive).
 */
START_TEST(enumeration_log_handler_reenters)
{
	size_t n = 0;

	atomic_store(&reentered, 0);
	clq_set_log_handler(enumerating_handler, NULL);
	atomic_store(&device_ids_fail, 1);
	ck_assert_rc(clq_device_count(&n), CL_OUT_OF_RESOURCES);
	atomic_store(&device_ids_fail, 0);
	test_log_setup(); /* the tests' handler back */
	ck_assert_int_ge(atomic_load(&reentered), 1);
	ck_assert_rc(reentered_rc, CL_OUT_OF_RESOURCES);
	ck_assert_ok(clq_device_count(&n));
	ck_assert_uint_gt(n, 0);
}
END_TEST

static void *
enumerate_main(void *arg)
{
	size_t n;

	*(int *)arg = clq_device_count(&n);
	return NULL;
}

/* Whether one of the `n` devices is NVIDIA's: its driver does not work
 * in a child forked after it initialised (CUDA's rule): on an H200
 * machine (driver 580), the child's clGetDeviceIDs failed with -33 and
 * found none, so the count was one lower. */
static int
any_nvidia_device(size_t n)
{
	int found = 0;

	for (size_t i = 0; i < n && !found; i++) {
		struct clq_device *d = NULL;

		ck_assert_ok(clq_device_get(i, &d));
		found = strstr(clq_device_get_platform_name(d), "NVIDIA") !=
			NULL;
		clq_device_unref(d);
	}
	return found;
}

/*
 * fork() while another thread enumerates: the child does not inherit
 * clq's enumeration lock held by a thread it lacks (its own enumeration
 * hung for good; the alarm kills it). It finds the same devices, where
 * every driver works after fork(); else it need only return.
 */
START_TEST(fork_while_enumerating)
{
	pthread_t tid;
	int thread_rc = -1, status = 0, exact;
	size_t n;
	pid_t pid;

	ck_assert_ok(clq_device_count(&n)); /* the driver initialised */
	exact = !any_nvidia_device(n);
	atomic_store(&device_ids_entered, 0);
	atomic_store(&device_ids_nap_ms, 300);
	ck_assert_int_eq(pthread_create(&tid, NULL, enumerate_main, &thread_rc),
			 0);
	while (atomic_load(&device_ids_entered) == 0)
		usleep(1000);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		size_t m = 0;

		atomic_store(&device_ids_nap_ms, 0);
		alarm(10);
		int rc = clq_device_count(&m);

		_exit(!exact || (rc == CLQ_SUCCESS && m == n) ? 0 : 3);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	pthread_join(tid, NULL);
	atomic_store(&device_ids_nap_ms, 0);
	ck_assert_ok(thread_rc);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child: %s %d", WIFSIGNALED(status) ? "signal" : "exit",
		      WIFSIGNALED(status) ? WTERMSIG(status)
					  : WEXITSTATUS(status));
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
	tcase_add_test(tc, pci_bus_info);
	tcase_add_test(tc, pci_bus_info_pocl_unsupported);
	tcase_add_test(tc, pci_bus_info_null);
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
	tcase_add_test(tc, spec_name_matches_platform_vendor_and_version);
	tcase_add_test(tc, spec_pocl_selects_pocl);
	tcase_add_test(tc, pyopencl_ctx_grammar);
	tcase_add_test(tc, pyopencl_ctx_two_devices);
	suite_add_tcase(s, tc);

	tc = tcase_create("enumeration-lock");
	tcase_add_checked_fixture(tc, test_log_setup, test_log_teardown);
	tcase_add_test(tc, enumeration_log_handler_reenters);
	tcase_add_test(tc, fork_while_enumerating);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	/* CLQ_LOG, read once per process: each case runs in a child. */
	tc = tcase_create("clq-log");
	tcase_add_checked_fixture(tc, test_log_setup, test_log_teardown);
	tcase_add_test(tc, clq_log_prints_levels_to_stderr);
	tcase_add_test(tc, clq_log_unknown_value_warns_once);
	tcase_add_test(tc, clq_log_handler_takes_precedence);
	tcase_add_test(tc, pyopencl_ctx_no_platform);
	suite_add_tcase(s, tc);
	return s;
}

int
main(int argc, char **argv)
{
	/* `--child scenario`: a child process of a test (run_child()). */
	if (argc == 3 && strcmp(argv[1], "--child") == 0)
		return child_main(argv[2]);
	return test_main(device_suite(), 1);
}
