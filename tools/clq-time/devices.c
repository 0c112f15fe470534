/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * clq-time devices: every device with the specs that select it (its
 * global index and P:D), marking the one a command without --device uses.
 */
#include "clq-time.h"

int
run_devices(const struct options *opt)
{
	struct clq_device *chosen = NULL, *dflt = NULL;
	size_t n;
	int rc;

	if ((rc = clq_device_count(&n)) < 0)
		return fail("counting devices", rc);
	if (opt->device && (rc = clq_device_select(opt->device, &chosen)) < 0)
		return fail("choosing a device", rc);
	/* The device a command without --device would use, if any. */
	if (n > 0 && clq_device_select(NULL, &dflt) < 0)
		dflt = NULL;
	if (opt->json) {
		json_begin(stdout, "devices", NULL);
		fputs(",\n  \"devices\": [", stdout);
	} else {
		printf("%-5s %-5s %-11s %-40s %s\n", "index", "P:D", "type",
		       "name", "platform, OpenCL, CUs, memory");
	}
	for (size_t i = 0, shown = 0; i < n && rc == CLQ_SUCCESS; i++) {
		struct clq_device *d = NULL;

		if ((rc = clq_device_get(i, &d)) < 0) {
			fail("reading a device", rc);
			break;
		}
		if (!chosen || clq_device_get_index(chosen) == i) {
			bool is_default =
				dflt && clq_device_get_index(dflt) == i;

			if (opt->json) {
				fputs(shown++ ? ",\n    " : "\n    ", stdout);
				json_write_device(stdout, d);
			} else {
				printf("%-5zu %zu:%-3zu %-11s %-40s %s, "
				       "OpenCL %u.%u, %u CUs, %.1f GiB%s\n",
				       i, clq_device_get_platform_index(d),
				       clq_device_get_index_in_platform(d),
				       device_type_name(clq_device_get_type(d)),
				       clq_device_get_name(d),
				       clq_device_get_platform_name(d),
				       clq_device_get_opencl_version_number(d) /
					       100,
				       clq_device_get_opencl_version_number(d) /
					       10 % 10,
				       clq_device_get_compute_units(d),
				       (double)clq_device_get_global_memory(d) /
					       (1024.0 * 1024 * 1024),
				       is_default ? "  (default)" : "");
			}
		}
		clq_device_unref(d);
	}
	if (opt->json && rc == CLQ_SUCCESS) {
		printf("\n  ],\n  \"default\": ");
		if (dflt)
			printf("%zu", clq_device_get_index(dflt));
		else
			fputs("null", stdout);
		printf("\n}\n");
	}
	clq_device_unref(chosen);
	clq_device_unref(dflt);
	return rc;
}
