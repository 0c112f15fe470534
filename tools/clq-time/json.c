/* SPDX-License-Identifier: BSD-3-Clause */
/* clq-time's JSON writer: counts, statistics, devices (strings and
 * numbers: tools/json-text.c). */
#include <math.h>

#include "clq-time.h"

void
json_write_count(FILE *out, double n)
{
	if (n > 0)
		fprintf(out, "%.0f", n);
	else
		fputs("null", out);
}

void
json_write_stats(FILE *out, struct stats s)
{
	fprintf(out, "{\"n\": %zu, \"min\": ", s.n);
	json_write_number(out, s.min);
	fputs(", \"median\": ", out);
	json_write_number(out, s.median);
	fputs(", \"max\": ", out);
	json_write_number(out, s.max);
	putc('}', out);
}

const char *
device_type_name(enum clq_device_type type)
{
	switch (type) {
	case CLQ_DEVICE_TYPE_CPU:
		return "cpu";
	case CLQ_DEVICE_TYPE_GPU:
		return "gpu";
	case CLQ_DEVICE_TYPE_ACCELERATOR:
		return "accelerator";
	default:
		return "other";
	}
}

void
json_write_device(FILE *out, const struct clq_device *d)
{
	fprintf(out, "{\"index\": %zu, \"spec\": \"%zu:%zu\", \"name\": ",
		clq_device_get_index(d), clq_device_get_platform_index(d),
		clq_device_get_index_in_platform(d));
	json_write_string(out, clq_device_get_name(d));
	fputs(", \"vendor\": ", out);
	json_write_string(out, clq_device_get_vendor(d));
	fputs(", \"platform\": ", out);
	json_write_string(out, clq_device_get_platform_name(d));
	fputs(", \"driver\": ", out);
	json_write_string(out, clq_device_get_driver_version(d));
	fprintf(out,
		", \"opencl\": %u, \"type\": \"%s\", \"compute_units\": %u, "
		"\"global_memory\": %llu, \"max_alloc\": %llu, "
		"\"local_memory\": %llu, \"max_work_group_size\": %zu, "
		"\"simd_group_size\": %zu, \"timer_resolution_s\": ",
		clq_device_get_opencl_version_number(d),
		device_type_name(clq_device_get_type(d)),
		clq_device_get_compute_units(d),
		(unsigned long long)clq_device_get_global_memory(d),
		(unsigned long long)clq_device_get_max_alloc_size(d),
		(unsigned long long)clq_device_get_local_memory(d),
		clq_device_get_max_work_group_size(d),
		clq_device_get_simd_group_size(d));
	/* the driver reports nanoseconds */
	json_write_number(out,
			  (double)clq_device_get_timer_resolution(d) * 1e-9);
	fprintf(out, ", \"profiling\": %s}",
		clq_device_can_profile(d) ? "true" : "false");
}

void
json_begin(FILE *out, const char *command, const struct clq_device *device)
{
	fprintf(out,
		"{\n  \"tool\": \"clq-time\",\n  \"format\": %d,\n"
		"  \"clq_version\": ",
		FORMAT_VERSION);
	json_write_string(out, clq_version());
	fputs(",\n  \"command\": ", out);
	json_write_string(out, command);
	if (device) {
		fputs(",\n  \"device\": ", out);
		json_write_device(out, device);
	}
}
