/* SPDX-License-Identifier: BSD-3-Clause */
/* clq-time's JSON writer: strings, numbers, statistics, devices. */
#include <math.h>

#include "clq-time.h"

/*
 * The length of the well-formed UTF-8 sequence at `s` (1 to 4), or, for
 * an ill-formed one, minus the length of its maximal subpart: the lead
 * byte and the continuation bytes that could still have completed it
 * (Unicode 15, section 3.9, "U+FFFD Substitution of Maximal Subparts").
 * A lone continuation byte, C0, C1 and F5 to FF are subparts of one byte;
 * so is the lead of an overlong, a surrogate or a code point above
 * U+10FFFF, whose second byte is out of the range below. The NUL that
 * ends the string is never a continuation byte, so a truncated sequence
 * stops there.
 */
static int
utf8_sequence(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	int n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		if (s[0] == 0xe0)
			lo = 0xa0; /* below: overlong */
		else if (s[0] == 0xed)
			hi = 0x9f; /* above: a surrogate */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		if (s[0] == 0xf0)
			lo = 0x90; /* below: overlong */
		else if (s[0] == 0xf4)
			hi = 0x8f; /* above: beyond U+10FFFF */
	} else {
		return -1;
	}
	for (int i = 1; i < n; i++) {
		if (s[i] < lo || s[i] > hi)
			return -i;
		lo = 0x80;
		hi = 0xbf;
	}
	return n;
}

void
json_write_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	putc('"', out);
	while (*p) {
		int n = utf8_sequence(p);

		if (n < 0) {
			fputs("\\ufffd", out);
			p += -n;
		} else if (*p == '"' || *p == '\\') {
			fprintf(out, "\\%c", *p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(out, "\\u%04x", *p++);
		} else {
			fwrite(p, 1, (size_t)n, out);
			p += n;
		}
	}
	putc('"', out);
}

void
json_write_number(FILE *out, double x)
{
	if (isfinite(x))
		fprintf(out, "%.9g", x);
	else
		fputs("null", out);
}

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
