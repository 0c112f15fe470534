/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

/* Vendor extensions that report the SIMD width (cl_ext.h values, repeated
 * here so that older headers build too). */
#define CLQ_DEVICE_WARP_SIZE_NV 0x4003
#define CLQ_DEVICE_WAVEFRONT_WIDTH_AMD 0x4043

/* Extensions that report where a device sits on the PCI bus (cl_ext.h
 * values, repeated here for the same reason). */
#define CLQ_DEVICE_PCI_BUS_INFO_KHR 0x410F
#define CLQ_DEVICE_PCI_BUS_ID_NV 0x4008
#define CLQ_DEVICE_PCI_SLOT_ID_NV 0x4009
#define CLQ_DEVICE_PCI_DOMAIN_ID_NV 0x400A

/* cl_device_pci_bus_info_khr's layout (cl_khr_pci_bus_info) */
struct pci_bus_info_khr {
	cl_uint domain, bus, device, function;
};

/* Which of them a device lists, the Khronos one first. */
enum { PCI_NONE, PCI_KHR, PCI_NV };

/* Where a device sits in the global numbering. */
struct device_slot {
	cl_platform_id platform;
	cl_device_id id;
	size_t index;
	size_t platform_index;
	size_t index_in_platform;
};

/* Return 0 to go on, 1 to stop, < 0 to stop with that error. */
typedef int (*device_visit_fn)(const struct device_slot *slot, void *data);

/* The queries below return an OpenCL status and, where the driver failed,
 * name the call in *what_out, for the caller to log once the lock is
 * released. */
static int
query_platforms(cl_platform_id **ids_out, cl_uint *n_out, const char **what_out)
{
	cl_platform_id *ids;
	cl_uint n = 0;
	cl_int err;

	*ids_out = NULL;
	*n_out = 0;
	err = clGetPlatformIDs(0, NULL, &n);
	/* The ICD loader says "no platform" with -1001 or, for some loaders,
	 * CL_INVALID_VALUE with n = 0: both mean zero devices. */
	if (err == -1001 || (err == CL_INVALID_VALUE && n == 0))
		return CLQ_SUCCESS;
	if (err != CL_SUCCESS) {
		*what_out = "clGetPlatformIDs";
		return err;
	}
	if (n == 0)
		return CLQ_SUCCESS;
	ids = calloc(n, sizeof(*ids));
	if (!ids)
		return CL_OUT_OF_HOST_MEMORY;
	err = clGetPlatformIDs(n, ids, NULL);
	if (err != CL_SUCCESS) {
		free(ids);
		*what_out = "clGetPlatformIDs";
		return err;
	}
	*ids_out = ids;
	*n_out = n;
	return CLQ_SUCCESS;
}

static int
query_devices(cl_platform_id platform, cl_device_id **ids_out, cl_uint *n_out,
	      const char **what_out)
{
	cl_device_id *ids;
	cl_uint n = 0;
	cl_int err;

	*ids_out = NULL;
	*n_out = 0;
	err = clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, NULL, &n);
	if (err == CL_DEVICE_NOT_FOUND || (err == CL_SUCCESS && n == 0))
		return CLQ_SUCCESS;
	if (err != CL_SUCCESS) {
		*what_out = "clGetDeviceIDs";
		return err;
	}
	ids = calloc(n, sizeof(*ids));
	if (!ids)
		return CL_OUT_OF_HOST_MEMORY;
	err = clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, n, ids, NULL);
	if (err != CL_SUCCESS) {
		free(ids);
		*what_out = "clGetDeviceIDs";
		return err;
	}
	*ids_out = ids;
	*n_out = n;
	return CLQ_SUCCESS;
}

/*
 * Held while clq asks the driver for its platforms and devices. PoCL 3.1
 * (Debian 12) initialises its devices on the first clGetDeviceIDs without
 * a lock: a second thread asking meanwhile gets CL_DEVICE_NOT_FOUND or
 * too few devices, and the process sometimes crashes. So clq never asks
 * from two threads at once (test-threads: first_enumeration_from_threads);
 * a program that calls clGetDeviceIDs itself, on other threads, while clq
 * enumerates is not covered.
 */
static pthread_mutex_t enumerate_lock = PTHREAD_MUTEX_INITIALIZER;

/* fork(): taken around it, so that a child forked while another thread
 * enumerates does not inherit the lock held by a thread it lacks (its
 * first enumeration hung for good). */
static pthread_once_t enumerate_atfork_once = PTHREAD_ONCE_INIT;

static void
enumerate_prepare(void)
{
	pthread_mutex_lock(&enumerate_lock);
}

static void
enumerate_after(void)
{
	pthread_mutex_unlock(&enumerate_lock);
}

static void
enumerate_register_atfork(void)
{
	pthread_atfork(enumerate_prepare, enumerate_after, enumerate_after);
}

static void
enumerate_begin(void)
{
	pthread_once(&enumerate_atfork_once, enumerate_register_atfork);
	pthread_mutex_lock(&enumerate_lock);
}

/* Logs once the lock is released: a log handler may enumerate too. */
static int
enumerate_end(int rc, const char *what)
{
	pthread_mutex_unlock(&enumerate_lock);
	return what ? clq__check(NULL, rc, what) : rc;
}

static int
get_platforms(cl_platform_id **ids_out, cl_uint *n_out)
{
	const char *what = NULL;
	int rc;

	enumerate_begin();
	rc = query_platforms(ids_out, n_out, &what);
	return enumerate_end(rc, what);
}

static int
get_devices(cl_platform_id platform, cl_device_id **ids_out, cl_uint *n_out)
{
	const char *what = NULL;
	int rc;

	enumerate_begin();
	rc = query_devices(platform, ids_out, n_out, &what);
	return enumerate_end(rc, what);
}

/* Calls visit for every device in global order. */
static int
for_each_device(device_visit_fn visit, void *data)
{
	cl_platform_id *platforms;
	cl_uint n_platforms;
	size_t index = 0;
	int rc;

	rc = get_platforms(&platforms, &n_platforms);
	if (rc < 0)
		return rc;
	for (cl_uint p = 0; p < n_platforms && rc == 0; p++) {
		cl_device_id *devices;
		cl_uint n_devices;

		rc = get_devices(platforms[p], &devices, &n_devices);
		for (cl_uint d = 0; d < n_devices && rc == 0; d++) {
			struct device_slot slot = {
				.platform = platforms[p],
				.id = devices[d],
				.index = index++,
				.platform_index = p,
				.index_in_platform = d,
			};
			rc = visit(&slot, data);
		}
		free(devices);
	}
	free(platforms);
	return rc < 0 ? rc : CLQ_SUCCESS;
}

static char *
platform_info_string(cl_platform_id id, cl_platform_info param)
{
	size_t size = 0;
	char *s;

	if (clGetPlatformInfo(id, param, 0, NULL, &size) != CL_SUCCESS)
		return NULL;
	s = malloc(size + 1);
	if (!s)
		return NULL;
	if (clGetPlatformInfo(id, param, size, s, NULL) != CL_SUCCESS) {
		free(s);
		return NULL;
	}
	s[size] = '\0';
	return s;
}

static char *
device_info_string(cl_device_id id, cl_device_info param)
{
	size_t size = 0;
	char *s;

	if (clGetDeviceInfo(id, param, 0, NULL, &size) != CL_SUCCESS)
		return NULL;
	s = malloc(size + 1);
	if (!s)
		return NULL;
	if (clGetDeviceInfo(id, param, size, s, NULL) != CL_SUCCESS) {
		free(s);
		return NULL;
	}
	s[size] = '\0';
	return s;
}

/* Reads a fixed-size device property; logs and returns the error. */
static int
device_info(cl_device_id id, cl_device_info param, void *value, size_t size,
	    const char *what)
{
	cl_int err = clGetDeviceInfo(id, param, size, value, NULL);

	if (err != CL_SUCCESS)
		clq__log(NULL, CLQ_LOG_ERROR, "clGetDeviceInfo(%s): %s (%s)",
			 what, clq_error_name(err), clq_strerror(err));
	return err;
}

static enum clq_device_type
device_type_of(cl_device_type type)
{
	if (type & CL_DEVICE_TYPE_GPU)
		return CLQ_DEVICE_TYPE_GPU;
	if (type & CL_DEVICE_TYPE_ACCELERATOR)
		return CLQ_DEVICE_TYPE_ACCELERATOR;
	if (type & CL_DEVICE_TYPE_CPU)
		return CLQ_DEVICE_TYPE_CPU;
	return CLQ_DEVICE_TYPE_OTHER;
}

static const char *
device_type_name(enum clq_device_type type)
{
	switch (type) {
	case CLQ_DEVICE_TYPE_CPU:
		return "CPU";
	case CLQ_DEVICE_TYPE_GPU:
		return "GPU";
	case CLQ_DEVICE_TYPE_ACCELERATOR:
		return "accelerator";
	default:
		return "other";
	}
}

/* Whether a space-separated extension list names `ext` exactly. */
static int
has_extension(const char *list, const char *ext)
{
	size_t len = strlen(ext);

	for (const char *p = list; p && (p = strstr(p, ext)); p += len) {
		int starts = p == list || p[-1] == ' ';
		int ends = p[len] == '\0' || p[len] == ' ';

		if (starts && ends)
			return 1;
	}
	return 0;
}

static size_t
simd_group_size_of(cl_device_id id, const char *extensions)
{
	cl_uint width = 0;

	if (has_extension(extensions, "cl_nv_device_attribute_query"))
		clGetDeviceInfo(id, CLQ_DEVICE_WARP_SIZE_NV, sizeof(width),
				&width, NULL);
	else if (has_extension(extensions, "cl_amd_device_attribute_query"))
		clGetDeviceInfo(id, CLQ_DEVICE_WAVEFRONT_WIDTH_AMD,
				sizeof(width), &width, NULL);
	return width > 0 ? width : 1;
}

/* "OpenCL 1.2 ..." -> 120; unparsable -> 0. */
static unsigned
version_number_of(const char *version)
{
	unsigned major = 0, minor = 0;

	if (!version || sscanf(version, "OpenCL %u.%u", &major, &minor) != 2)
		return 0;
	return major * 100 + minor * 10;
}

static void
device_free(struct clq_device *device)
{
	free(device->name);
	free(device->vendor);
	free(device->platform_name);
	free(device->driver_version);
	free(device->opencl_version);
	free(device);
}

/* The first three axes' limits (OpenCL 1.2 devices have at least three). */
static int
read_work_item_sizes(struct clq_device *d)
{
	cl_uint dims = 0;
	size_t *sizes;
	int rc;

	rc = device_info(d->id, CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS, &dims,
			 sizeof(dims), "CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS");
	if (rc < 0)
		return rc;
	if (dims < 3) {
		clq__log(NULL, CLQ_LOG_ERROR,
			 "device %zu reports %u work-item dimensions, "
			 "fewer than OpenCL's 3",
			 d->index, dims);
		return CL_INVALID_DEVICE;
	}
	sizes = calloc(dims, sizeof(*sizes));
	if (!sizes)
		return CL_OUT_OF_HOST_MEMORY;
	rc = device_info(d->id, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizes,
			 dims * sizeof(*sizes),
			 "CL_DEVICE_MAX_WORK_ITEM_SIZES");
	for (size_t i = 0; i < 3 && rc == CLQ_SUCCESS; i++)
		d->max_work_item_sizes[i] = sizes[i];
	free(sizes);
	return rc;
}

/* The fixed-size properties of a device, as OpenCL gives them. */
struct raw_properties {
	cl_device_type type;
	cl_uint compute_units;
	size_t max_work_group_size;
	cl_ulong global_memory, max_alloc, local_memory;
	size_t timer_resolution;
	cl_command_queue_properties queue_props;
};

#define RAW(param, field)                                              \
	{                                                              \
		param, #param, offsetof(struct raw_properties, field), \
			sizeof(((struct raw_properties *)0)->field)    \
	}

/* One clGetDeviceInfo() each, in this order. */
static const struct raw_property {
	cl_device_info param;
	const char *name;
	size_t offset, size;
} raw_properties[] = {
	RAW(CL_DEVICE_TYPE, type),
	RAW(CL_DEVICE_MAX_COMPUTE_UNITS, compute_units),
	RAW(CL_DEVICE_MAX_WORK_GROUP_SIZE, max_work_group_size),
	RAW(CL_DEVICE_GLOBAL_MEM_SIZE, global_memory),
	RAW(CL_DEVICE_MAX_MEM_ALLOC_SIZE, max_alloc),
	RAW(CL_DEVICE_PROFILING_TIMER_RESOLUTION, timer_resolution),
	RAW(CL_DEVICE_QUEUE_PROPERTIES, queue_props),
	RAW(CL_DEVICE_LOCAL_MEM_SIZE, local_memory),
};

/* The device's strings, read into the fields they name. */
static const struct string_property {
	cl_device_info param;
	size_t offset;
} string_properties[] = {
	{CL_DEVICE_NAME, offsetof(struct clq_device, name)},
	{CL_DEVICE_VENDOR, offsetof(struct clq_device, vendor)},
	{CL_DRIVER_VERSION, offsetof(struct clq_device, driver_version)},
	{CL_DEVICE_VERSION, offsetof(struct clq_device, opencl_version)},
};

static int
read_strings(struct clq_device *d)
{
	int ok = 1;

	for (size_t i = 0;
	     i < sizeof(string_properties) / sizeof(*string_properties); i++) {
		char **field =
			(char **)((char *)d + string_properties[i].offset);

		*field = device_info_string(d->id, string_properties[i].param);
		ok = ok && *field;
	}
	d->platform_name = platform_info_string(d->platform, CL_PLATFORM_NAME);
	if (ok && d->platform_name)
		return CLQ_SUCCESS;
	clq__log(NULL, CLQ_LOG_ERROR,
		 "device %zu: cannot read its name strings", d->index);
	return CL_OUT_OF_HOST_MEMORY;
}

static int
read_properties(struct clq_device *d)
{
	struct raw_properties raw = {0};
	char *extensions;
	int rc;

	if ((rc = read_strings(d)) < 0)
		return rc;
	if (!(extensions = device_info_string(d->id, CL_DEVICE_EXTENSIONS))) {
		clq__log(NULL, CLQ_LOG_ERROR,
			 "device %zu: cannot read its extensions", d->index);
		return CL_OUT_OF_HOST_MEMORY;
	}
	d->simd_group_size = simd_group_size_of(d->id, extensions);
	d->pci_source =
		has_extension(extensions, "cl_khr_pci_bus_info") ? PCI_KHR
		: has_extension(extensions, "cl_nv_device_attribute_query")
			? PCI_NV
			: PCI_NONE;
	free(extensions);
	for (size_t i = 0; i < sizeof(raw_properties) / sizeof(*raw_properties);
	     i++) {
		const struct raw_property *p = &raw_properties[i];

		rc = device_info(d->id, p->param, (char *)&raw + p->offset,
				 p->size, p->name);
		if (rc < 0)
			return rc;
	}
	if ((rc = read_work_item_sizes(d)) < 0)
		return rc;
	d->type = device_type_of(raw.type);
	d->compute_units = raw.compute_units;
	d->max_work_group_size = raw.max_work_group_size;
	d->global_memory = raw.global_memory;
	d->max_alloc_size = raw.max_alloc;
	d->local_memory = raw.local_memory;
	d->timer_resolution = raw.timer_resolution;
	d->can_profile = (raw.queue_props & CL_QUEUE_PROFILING_ENABLE) != 0;
	d->opencl_version_number = version_number_of(d->opencl_version);
	return CLQ_SUCCESS;
}

static int
device_create(const struct device_slot *slot, struct clq_device **device_out)
{
	struct clq_device *d = calloc(1, sizeof(*d));
	int rc;

	if (!d)
		return CL_OUT_OF_HOST_MEMORY;
	clq__ref_init(&d->refs);
	d->platform = slot->platform;
	d->id = slot->id;
	d->index = slot->index;
	d->platform_index = slot->platform_index;
	d->index_in_platform = slot->index_in_platform;
	rc = read_properties(d);
	if (rc < 0) {
		device_free(d);
		return rc;
	}
	*device_out = d;
	return CLQ_SUCCESS;
}

static int
count_visit(const struct device_slot *slot, void *data)
{
	(void)slot;
	++*(size_t *)data;
	return 0;
}

int
clq_device_count(size_t *n_out)
{
	size_t n = 0;
	int rc;

	if (!n_out)
		return clq__invalid(NULL, "clq_device_count", "n_out is NULL");
	*n_out = 0;
	rc = for_each_device(count_visit, &n);
	if (rc == CLQ_SUCCESS)
		*n_out = n;
	return rc;
}

/* Finds a device by global index or by (platform, index in platform). */
struct find_index {
	int by_pair;
	size_t platform;
	size_t index;
	struct device_slot found;
	int ok;
};

static int
index_visit(const struct device_slot *slot, void *data)
{
	struct find_index *f = data;
	int hit = f->by_pair ? slot->platform_index == f->platform &&
				       slot->index_in_platform == f->index
			     : slot->index == f->index;

	if (!hit)
		return 0;
	f->found = *slot;
	f->ok = 1;
	return 1;
}

int
clq_device_get(size_t index, struct clq_device **device_out)
{
	struct find_index f = {.index = index};
	int rc;

	if (!device_out)
		return clq__invalid(NULL, "clq_device_get",
				    "device_out is NULL");
	*device_out = NULL;
	rc = for_each_device(index_visit, &f);
	if (rc < 0)
		return rc;
	if (!f.ok) {
		clq__log(NULL, CLQ_LOG_ERROR,
			 "clq_device_get: no device with index %zu", index);
		return CLQ_ERROR_OUT_OF_RANGE;
	}
	return device_create(&f.found, device_out);
}

/* Finds a device by its OpenCL id. */
struct find_id {
	cl_device_id id;
	struct device_slot found;
	int ok;
};

static int
id_visit(const struct device_slot *slot, void *data)
{
	struct find_id *f = data;

	if (slot->id != f->id)
		return 0;
	f->found = *slot;
	f->ok = 1;
	return 1;
}

int
clq__device_of_cl(cl_device_id id, struct clq_device **device_out)
{
	struct find_id f = {.id = id};
	int rc;

	*device_out = NULL;
	if ((rc = for_each_device(id_visit, &f)) < 0)
		return rc;
	if (!f.ok)
		return CLQ_ERROR_NO_DEVICE;
	return device_create(&f.found, device_out);
}

/* Spec parsing. */

static int
is_numeric_char(char c)
{
	return isdigit((unsigned char)c) || c == ':' || c == '+' || c == '-' ||
	       isspace((unsigned char)c);
}

/* Parses exactly [begin, end) as a decimal size_t. */
static int
parse_size(const char *begin, const char *end, size_t *out)
{
	size_t v = 0;

	if (begin == end)
		return -1;
	for (const char *p = begin; p < end; p++) {
		unsigned digit;

		if (!isdigit((unsigned char)*p))
			return -1;
		digit = (unsigned)(*p - '0');
		if (v > (SIZE_MAX - digit) / 10)
			return -1;
		v = v * 10 + digit;
	}
	*out = v;
	return 0;
}

/* A malloc'ed copy of [begin, end); NULL when out of memory. */
static char *
copy_range(const char *begin, const char *end)
{
	size_t len = (size_t)(end - begin);
	char *s = malloc(len + 1);

	if (s) {
		memcpy(s, begin, len);
		s[len] = '\0';
	}
	return s;
}

/* clq's grammar: N, P:D or a name substring, blanks around it ignored. */
static int
parse_clq(const char *spec, struct clq__device_spec *out)
{
	const char *begin = spec, *end = spec + strlen(spec), *colon;
	int numeric = 1;

	while (begin < end && isspace((unsigned char)*begin))
		begin++;
	while (end > begin && isspace((unsigned char)end[-1]))
		end--;
	if (begin == end)
		return CLQ_ERROR_BAD_DEVICE_SPEC;

	for (const char *p = begin; p < end; p++)
		numeric = numeric && is_numeric_char(*p);
	if (!numeric) {
		out->kind = CLQ__SPEC_NAME;
		out->name = copy_range(begin, end);
		return out->name ? CLQ_SUCCESS : CL_OUT_OF_HOST_MEMORY;
	}

	colon = memchr(begin, ':', (size_t)(end - begin));
	if (!colon) {
		out->kind = CLQ__SPEC_INDEX;
		return parse_size(begin, end, &out->index) < 0
			       ? CLQ_ERROR_BAD_DEVICE_SPEC
			       : CLQ_SUCCESS;
	}
	out->kind = CLQ__SPEC_PAIR;
	if (parse_size(begin, colon, &out->platform) < 0 ||
	    parse_size(colon + 1, end, &out->index) < 0)
		return CLQ_ERROR_BAD_DEVICE_SPEC;
	return CLQ_SUCCESS;
}

/*
 * PyOpenCL's grammar, as its choose_devices() splits PYOPENCL_CTX: answers
 * separated by ':', the platform's then the device's. A third answer would
 * be left over, which PyOpenCL refuses. Nothing is trimmed: PyOpenCL
 * compares each answer as written (only its int() ignores blanks).
 */
static int
parse_pyopencl(const char *spec, struct clq__device_spec *out)
{
	const char *end = spec + strlen(spec);
	const char *colon = memchr(spec, ':', (size_t)(end - spec));

	if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1)))
		return CLQ_ERROR_BAD_DEVICE_SPEC;
	out->kind = CLQ__SPEC_PYOPENCL;
	out->name = copy_range(spec, colon ? colon : end);
	if (colon)
		out->device = copy_range(colon + 1, end);
	if (!out->name || (colon && !out->device)) {
		clq__device_spec_free(out);
		return CL_OUT_OF_HOST_MEMORY;
	}
	return CLQ_SUCCESS;
}

int
clq__device_spec_parse(const char *spec, enum clq__spec_grammar grammar,
		       struct clq__device_spec *out)
{
	memset(out, 0, sizeof(*out));
	if (!spec)
		return CLQ_ERROR_BAD_DEVICE_SPEC;
	if (grammar == CLQ__GRAMMAR_PYOPENCL)
		return parse_pyopencl(spec, out);
	return parse_clq(spec, out);
}

void
clq__device_spec_free(struct clq__device_spec *spec)
{
	free(spec->name);
	free(spec->device);
	spec->name = NULL;
	spec->device = NULL;
}

/* Selection. */

static int
contains_ci(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);

	for (const char *h = haystack; *h; h++) {
		size_t i = 0;

		while (i < n && h[i] &&
		       tolower((unsigned char)h[i]) ==
			       tolower((unsigned char)needle[i]))
			i++;
		if (i == n)
			return 1;
	}
	return n == 0;
}

/*
 * Whether a name substring of clq's grammar matches a device: its
 * platform's name, vendor or version, or its own name. The device's vendor
 * is left out on purpose: PoCL reports the CPU's ("GenuineIntel",
 * "AuthenticAMD"), so "intel" or "amd" would pick PoCL's CPU device.
 */
static int
names_contain(const struct device_slot *slot, const char *name)
{
	static const cl_platform_info params[] = {
		CL_PLATFORM_NAME, CL_PLATFORM_VENDOR, CL_PLATFORM_VERSION};
	char *s = device_info_string(slot->id, CL_DEVICE_NAME);
	int hit = s && contains_ci(s, name);

	free(s);
	for (size_t i = 0; !hit && i < sizeof(params) / sizeof(params[0]);
	     i++) {
		s = platform_info_string(slot->platform, params[i]);
		hit = s && contains_ci(s, name);
		free(s);
	}
	return hit;
}

struct find_name {
	const char *name;
	struct device_slot found;
	int ok;
};

static int
name_visit(const struct device_slot *slot, void *data)
{
	struct find_name *f = data;

	if (!names_contain(slot, f->name))
		return 0;
	f->found = *slot;
	f->ok = 1;
	return 1;
}

/* The first device of each kind, for the default choice. */
struct find_default {
	struct device_slot first[4]; /* by enum clq_device_type */
	int ok[4];
};

static int
default_visit(const struct device_slot *slot, void *data)
{
	struct find_default *f = data;
	cl_device_type cl_type = 0;
	enum clq_device_type type;

	if (clGetDeviceInfo(slot->id, CL_DEVICE_TYPE, sizeof(cl_type), &cl_type,
			    NULL) != CL_SUCCESS)
		cl_type = 0;
	type = device_type_of(cl_type);
	if (!f->ok[type]) {
		f->first[type] = *slot;
		f->ok[type] = 1;
	}
	return 0;
}

/* One line per device, with every string a name substring is matched to. */
static int
list_visit(const struct device_slot *slot, void *data)
{
	struct clq__strbuf *b = data;
	char *device_name = device_info_string(slot->id, CL_DEVICE_NAME);
	char *platform_name =
		platform_info_string(slot->platform, CL_PLATFORM_NAME);
	char *vendor = platform_info_string(slot->platform, CL_PLATFORM_VENDOR);
	char *version =
		platform_info_string(slot->platform, CL_PLATFORM_VERSION);
	cl_device_type cl_type = 0;

	clGetDeviceInfo(slot->id, CL_DEVICE_TYPE, sizeof(cl_type), &cl_type,
			NULL);
	clq__strbuf_appendf(
		b, "\n  %zu (%zu:%zu) %s / %s [%s] (platform by %s, %s)",
		slot->index, slot->platform_index, slot->index_in_platform,
		platform_name ? platform_name : "?",
		device_name ? device_name : "?",
		device_type_name(device_type_of(cl_type)),
		vendor ? vendor : "?", version ? version : "?");
	free(device_name);
	free(platform_name);
	free(vendor);
	free(version);
	return 0;
}

/*
 * Logs why nothing was selected, begun in `b` ("clq_device_select: ..."),
 * with every device and the specs that select it.
 */
static void
log_no_device(struct clq__strbuf *b)
{
	size_t why_len, list_len;

	why_len = b->len;
	clq__strbuf_appendf(b, "; devices (N (P:D) platform / device [type] "
			       "(platform by vendor, version)):");
	list_len = b->len;
	if (for_each_device(list_visit, b) < 0) {
		if (!b->failed) {
			b->len = why_len;
			b->s[why_len] = '\0';
		}
	} else if (b->len == list_len) {
		clq__strbuf_appendf(b, " none");
	}
	clq__log(NULL, CLQ_LOG_ERROR, "%s",
		 b->failed ? "clq_device_select: no device matches" : b->s);
}

static const char *
grammar_text(enum clq__spec_grammar grammar)
{
	if (grammar == CLQ__GRAMMAR_PYOPENCL)
		return "PyOpenCL's grammar: platform[:device], each an index "
		       "or a name substring";
	return "clq's grammar: N, P:D or a name substring";
}

/* Finds the device a spec of clq's grammar names; `why` says why not. */
static int
find_clq(const struct clq__device_spec *s, struct clq__strbuf *why,
	 struct device_slot *found)
{
	struct find_index fi = {0};
	struct find_name fn = {0};
	int rc;

	if (s->kind == CLQ__SPEC_NAME) {
		fn.name = s->name;
		rc = for_each_device(name_visit, &fn);
		if (rc < 0 || fn.ok) {
			*found = fn.found;
			return rc;
		}
		clq__strbuf_appendf(why,
				    "no platform name, vendor or version and "
				    "no device name contains '%s'",
				    s->name);
		if (strchr(s->name, ':'))
			clq__strbuf_appendf(why,
					    " (PyOpenCL's platform:device is "
					    "read from PYOPENCL_CTX only)");
		return CLQ_ERROR_NO_DEVICE;
	}
	fi.by_pair = s->kind == CLQ__SPEC_PAIR;
	fi.platform = s->platform;
	fi.index = s->index;
	rc = for_each_device(index_visit, &fi);
	if (rc < 0 || fi.ok) {
		*found = fi.found;
		return rc;
	}
	if (fi.by_pair)
		clq__strbuf_appendf(why, "there is no device %zu:%zu",
				    s->platform, s->index);
	else
		clq__strbuf_appendf(why, "there is no device %zu", s->index);
	return CLQ_ERROR_NO_DEVICE;
}

static int
is_python_blank(char c)
{
	return isspace((unsigned char)c) || (c >= 0x1c && c <= 0x1f);
}

/*
 * Python's int() on a PyOpenCL answer: blanks, a sign, digits with single
 * '_' between them, blanks. Gives 1 and the value for 0 .. SIZE_MAX ("-0"
 * is 0); 0 for anything else, which PyOpenCL then compares as a name, as
 * it does a number out of range.
 */
int
clq__pyopencl_index(const char *s, size_t *out)
{
	size_t v = 0, digits = 0;
	int negative = 0, overflow = 0;

	while (is_python_blank(*s))
		s++;
	if (*s == '+' || *s == '-')
		negative = *s++ == '-';
	for (;; s++) {
		unsigned digit;

		if (*s == '_' && digits && isdigit((unsigned char)s[1]))
			continue;
		if (!isdigit((unsigned char)*s))
			break;
		digit = (unsigned)(*s - '0');
		overflow = overflow || v > (SIZE_MAX - digit) / 10;
		v = v * 10 + digit;
		digits++;
	}
	while (is_python_blank(*s))
		s++;
	if (!digits || *s || overflow || (negative && v != 0))
		return 0;
	*out = v;
	return 1;
}

/* PyOpenCL's parse_device(): an index below n, else the first device whose
 * name contains the answer; SIZE_MAX for none. */
static size_t
pyopencl_device(const char *answer, const cl_device_id *devices, cl_uint n)
{
	size_t v;

	if (clq__pyopencl_index(answer, &v) && v < n)
		return v;
	for (cl_uint i = 0; i < n; i++) {
		char *name = device_info_string(devices[i], CL_DEVICE_NAME);
		int hit = name && contains_ci(name, answer);

		free(name);
		if (hit)
			return i;
	}
	return SIZE_MAX;
}

/*
 * Resolves the device answer, a comma-separated list in PyOpenCL (each
 * entry must match, or PyOpenCL refuses the lot). A clq context has one
 * device: the first entry's. Returns its index in the platform, or
 * SIZE_MAX with `why` written.
 */
static size_t
pyopencl_devices(char *answer, size_t p, const cl_device_id *devices, cl_uint n,
		 struct clq__strbuf *why, size_t *n_listed)
{
	size_t first = SIZE_MAX;

	*n_listed = 0;
	if (!answer || !*answer)
		return 0;
	for (char *entry = answer, *comma; entry; entry = comma) {
		size_t d;

		comma = strchr(entry, ',');
		if (comma)
			*comma++ = '\0';
		d = pyopencl_device(entry, devices, n);
		if (d == SIZE_MAX) {
			clq__strbuf_appendf(why,
					    "'%s' is not a device index below "
					    "%u, and no device name of "
					    "platform %zu contains it",
					    entry, n, p);
			return SIZE_MAX;
		}
		if (!(*n_listed)++)
			first = d;
	}
	return first;
}

/*
 * Finds the device PyOpenCL's choose_devices() would choose, without asking:
 * the platform answer is an index, else a name substring (the last matching
 * platform, as PyOpenCL keeps it), empty for platform 0; the device answer
 * likewise, but the first matching device, empty for device 0.
 */
static int
find_pyopencl(struct clq__device_spec *s, struct clq__strbuf *why,
	      struct device_slot *found)
{
	cl_platform_id *platforms = NULL;
	cl_device_id *devices = NULL;
	cl_uint n_platforms = 0, n_devices = 0;
	struct find_index fi = {.by_pair = 1, .platform = SIZE_MAX};
	size_t v, n_listed = 0;
	int rc;

	rc = get_platforms(&platforms, &n_platforms);
	if (rc < 0)
		return rc;
	rc = CLQ_ERROR_NO_DEVICE;
	if (n_platforms == 0) {
		clq__strbuf_appendf(why, "no OpenCL platform is installed");
		goto out;
	}
	if (!s->name[0]) {
		fi.platform = 0;
	} else if (clq__pyopencl_index(s->name, &v) && v < n_platforms) {
		fi.platform = v;
	} else {
		for (cl_uint p = 0; p < n_platforms; p++) {
			char *name = platform_info_string(platforms[p],
							  CL_PLATFORM_NAME);

			if (name && contains_ci(name, s->name))
				fi.platform = p;
			free(name);
		}
	}
	if (fi.platform == SIZE_MAX) {
		clq__strbuf_appendf(why,
				    "'%s' is not a platform index below %u, "
				    "and no platform name contains it",
				    s->name, n_platforms);
		goto out;
	}
	rc = get_devices(platforms[fi.platform], &devices, &n_devices);
	if (rc < 0)
		goto out;
	rc = CLQ_ERROR_NO_DEVICE;
	if (n_devices == 0) {
		clq__strbuf_appendf(why, "platform %zu has no devices",
				    fi.platform);
		goto out;
	}
	fi.index = pyopencl_devices(s->device, fi.platform, devices, n_devices,
				    why, &n_listed);
	if (fi.index == SIZE_MAX)
		goto out;
	rc = for_each_device(index_visit, &fi);
	if (rc == CLQ_SUCCESS && !fi.ok) {
		/* The devices changed between the two enumerations. */
		clq__strbuf_appendf(why, "device %zu:%zu went away",
				    fi.platform, fi.index);
		rc = CLQ_ERROR_NO_DEVICE;
	}
	if (rc == CLQ_SUCCESS && n_listed > 1)
		clq__log(NULL, CLQ_LOG_WARNING,
			 "clq_device_select: PYOPENCL_CTX lists %zu devices; "
			 "a clq context has one, so the first listed is used, "
			 "device %zu:%zu",
			 n_listed, fi.platform, fi.index);
	*found = fi.found;
out:
	free(devices);
	free(platforms);
	return rc;
}

static void
log_chosen(const struct clq_device *d, const char *how)
{
	clq__log(NULL, CLQ_LOG_INFO,
		 "clq_device_select: device %zu (%zu:%zu) %s / %s, chosen %s",
		 d->index, d->platform_index, d->index_in_platform,
		 d->platform_name, d->name, how);
}

static int
select_by_spec(const char *spec, const char *origin,
	       enum clq__spec_grammar grammar, struct clq_device **device_out)
{
	struct clq__device_spec parsed;
	struct clq__strbuf b = {0};
	struct device_slot found = {0};
	int rc;

	rc = clq__device_spec_parse(spec, grammar, &parsed);
	if (rc == CLQ_ERROR_BAD_DEVICE_SPEC)
		clq__log(NULL, CLQ_LOG_ERROR,
			 "clq_device_select: malformed device spec '%s' (from "
			 "%s, read with %s)%s",
			 spec, origin, grammar_text(grammar),
			 grammar == CLQ__GRAMMAR_PYOPENCL
				 ? ": a second ':', which PyOpenCL refuses "
				   "too"
				 : "");
	if (rc < 0)
		return rc;

	clq__strbuf_appendf(&b,
			    "clq_device_select: no device matches spec '%s' "
			    "(from %s, read with %s): ",
			    spec, origin, grammar_text(grammar));
	if (parsed.kind == CLQ__SPEC_PYOPENCL)
		rc = find_pyopencl(&parsed, &b, &found);
	else
		rc = find_clq(&parsed, &b, &found);
	clq__device_spec_free(&parsed);
	if (rc == CLQ_ERROR_NO_DEVICE)
		log_no_device(&b);
	clq__strbuf_free(&b);
	if (rc < 0)
		return rc;

	rc = device_create(&found, device_out);
	if (rc < 0)
		return rc;
	clq__strbuf_appendf(&b, "by spec '%s' (from %s, read with %s)", spec,
			    origin, grammar_text(grammar));
	log_chosen(*device_out, b.failed ? "by spec" : b.s);
	clq__strbuf_free(&b);
	return CLQ_SUCCESS;
}

static int
select_default(struct clq_device **device_out)
{
	static const enum clq_device_type order[] = {
		CLQ_DEVICE_TYPE_GPU, CLQ_DEVICE_TYPE_ACCELERATOR,
		CLQ_DEVICE_TYPE_CPU, CLQ_DEVICE_TYPE_OTHER};
	struct find_default f = {0};
	struct clq__strbuf b = {0};
	int rc = for_each_device(default_visit, &f);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!f.ok[order[i]])
			continue;
		rc = device_create(&f.first[order[i]], device_out);
		if (rc == CLQ_SUCCESS)
			log_chosen(*device_out,
				   "by type, with no spec: the first GPU, "
				   "else accelerator, else CPU");
		return rc;
	}
	clq__strbuf_appendf(&b, "clq_device_select: no OpenCL device is "
				"installed");
	log_no_device(&b);
	clq__strbuf_free(&b);
	return CLQ_ERROR_NO_DEVICE;
}

int
clq_device_select(const char *spec, struct clq_device **device_out)
{
	static const struct {
		const char *name;
		enum clq__spec_grammar grammar;
	} variables[] = {
		{"CLQ_DEVICE", CLQ__GRAMMAR_CLQ},
		{"PYOPENCL_CTX", CLQ__GRAMMAR_PYOPENCL},
	};

	if (!device_out)
		return clq__invalid(NULL, "clq_device_select",
				    "device_out is NULL");
	*device_out = NULL;
	if (spec)
		return select_by_spec(spec, "the caller", CLQ__GRAMMAR_CLQ,
				      device_out);
	for (size_t i = 0; i < sizeof(variables) / sizeof(variables[0]); i++) {
		const char *value = getenv(variables[i].name);

		if (value && *value)
			return select_by_spec(value, variables[i].name,
					      variables[i].grammar, device_out);
		clq__log(NULL, CLQ_LOG_DEBUG, "clq_device_select: %s is %s",
			 variables[i].name, value ? "empty" : "unset");
	}
	return select_default(device_out);
}

struct clq_device *
clq_device_ref(struct clq_device *device)
{
	if (device)
		clq__ref_get(&device->refs);
	return device;
}

void
clq_device_unref(struct clq_device *device)
{
	if (!device || !clq__ref_put(&device->refs))
		return;
	device_free(device);
}

cl_device_id
clq_device_get_cl(const struct clq_device *device)
{
	return device ? device->id : NULL;
}

cl_platform_id
clq_device_get_platform_cl(const struct clq_device *device)
{
	return device ? device->platform : NULL;
}

size_t
clq_device_get_index(const struct clq_device *device)
{
	return device ? device->index : 0;
}

size_t
clq_device_get_platform_index(const struct clq_device *device)
{
	return device ? device->platform_index : 0;
}

size_t
clq_device_get_index_in_platform(const struct clq_device *device)
{
	return device ? device->index_in_platform : 0;
}

const char *
clq_device_get_name(const struct clq_device *device)
{
	return device ? device->name : NULL;
}

const char *
clq_device_get_vendor(const struct clq_device *device)
{
	return device ? device->vendor : NULL;
}

const char *
clq_device_get_platform_name(const struct clq_device *device)
{
	return device ? device->platform_name : NULL;
}

const char *
clq_device_get_driver_version(const struct clq_device *device)
{
	return device ? device->driver_version : NULL;
}

const char *
clq_device_get_opencl_version(const struct clq_device *device)
{
	return device ? device->opencl_version : NULL;
}

unsigned
clq_device_get_opencl_version_number(const struct clq_device *device)
{
	return device ? device->opencl_version_number : 0;
}

enum clq_device_type
clq_device_get_type(const struct clq_device *device)
{
	return device ? device->type : CLQ_DEVICE_TYPE_OTHER;
}

unsigned
clq_device_get_compute_units(const struct clq_device *device)
{
	return device ? device->compute_units : 0;
}

size_t
clq_device_get_max_work_group_size(const struct clq_device *device)
{
	return device ? device->max_work_group_size : 0;
}

size_t
clq_device_get_max_work_item_size(const struct clq_device *device,
				  unsigned axis)
{
	return device && axis < 3 ? device->max_work_item_sizes[axis] : 0;
}

uint64_t
clq_device_get_local_memory(const struct clq_device *device)
{
	return device ? device->local_memory : 0;
}

uint64_t
clq_device_get_global_memory(const struct clq_device *device)
{
	return device ? device->global_memory : 0;
}

uint64_t
clq_device_get_max_alloc_size(const struct clq_device *device)
{
	return device ? device->max_alloc_size : 0;
}

size_t
clq_device_get_timer_resolution(const struct clq_device *device)
{
	return device ? device->timer_resolution : 0;
}

int
clq_device_can_profile(const struct clq_device *device)
{
	return device ? device->can_profile : 0;
}

size_t
clq_device_get_simd_group_size(const struct clq_device *device)
{
	return device ? device->simd_group_size : 0;
}

/* NVIDIA's three queries; the domain only since CUDA 10.2, 0 before (as
 * hwloc reads them). */
static int
pci_bus_info_nv(const struct clq_device *d, struct clq_pci_bus_info *info)
{
	cl_uint bus = 0, slot = 0, domain = 0;
	int rc;

	rc = device_info(d->id, CLQ_DEVICE_PCI_BUS_ID_NV, &bus, sizeof(bus),
			 "CL_DEVICE_PCI_BUS_ID_NV");
	if (rc < 0)
		return rc;
	rc = device_info(d->id, CLQ_DEVICE_PCI_SLOT_ID_NV, &slot, sizeof(slot),
			 "CL_DEVICE_PCI_SLOT_ID_NV");
	if (rc < 0)
		return rc;
	if (clGetDeviceInfo(d->id, CLQ_DEVICE_PCI_DOMAIN_ID_NV, sizeof(domain),
			    &domain, NULL) != CL_SUCCESS) {
		clq__log(NULL, CLQ_LOG_DEBUG,
			 "device %zu: no CL_DEVICE_PCI_DOMAIN_ID_NV (a driver "
			 "older than CUDA 10.2): PCI domain 0",
			 d->index);
		domain = 0;
	}
	info->domain = domain;
	info->bus = bus & 0xff;
	info->device = slot >> 3;
	info->function = slot & 7;
	return CLQ_SUCCESS;
}

int
clq_device_get_pci_bus_info(const struct clq_device *device,
			    struct clq_pci_bus_info *info_out)
{
	struct clq_pci_bus_info info = {0};
	struct pci_bus_info_khr khr = {0};
	int rc;

	if (!device)
		return clq__invalid(NULL, "clq_device_get_pci_bus_info",
				    "device is NULL");
	if (!info_out)
		return clq__invalid(NULL, "clq_device_get_pci_bus_info",
				    "info_out is NULL");
	switch (device->pci_source) {
	case PCI_KHR:
		rc = device_info(device->id, CLQ_DEVICE_PCI_BUS_INFO_KHR, &khr,
				 sizeof(khr), "CL_DEVICE_PCI_BUS_INFO_KHR");
		if (rc < 0)
			return rc;
		info = (struct clq_pci_bus_info){khr.domain, khr.bus,
						 khr.device, khr.function};
		break;
	case PCI_NV:
		if ((rc = pci_bus_info_nv(device, &info)) < 0)
			return rc;
		break;
	default:
		clq__log(NULL, CLQ_LOG_ERROR,
			 "clq_device_get_pci_bus_info: device %zu (%s) lists "
			 "neither cl_khr_pci_bus_info nor "
			 "cl_nv_device_attribute_query, so it does not say "
			 "where it sits on the PCI bus",
			 device->index, device->name);
		return CLQ_ERROR_UNSUPPORTED;
	}
	*info_out = info;
	return CLQ_SUCCESS;
}
