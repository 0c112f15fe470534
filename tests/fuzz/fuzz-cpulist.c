/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the CPU-list parser of the double-buffer example's NUMA
 * placement (examples/numa.c, reading sysfs's local_cpulist), on any bytes
 * as a NUL-terminated string. Checks what a parse promises: an accepted
 * list names at least one CPU, every one below CPU_SETSIZE and written in
 * the text; its canonical form (numa_format_cpulist) parses back to the
 * same set and formats to itself.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "numa.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a sysfs page at most; the canonical form of CPU_SETSIZE CPUs in
	 * alternate places is about 4.9 kB */
	static char text[4097], list[8192], again[8192];
	cpu_set_t set, back;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (numa_parse_cpulist(text, &set) < 0)
		return 0;
	if (CPU_COUNT(&set) == 0 ||
	    strspn(text, "0123456789-,\n") != strlen(text))
		abort();
	numa_format_cpulist(&set, list, sizeof(list));
	if (numa_parse_cpulist(list, &back) < 0 || !CPU_EQUAL(&set, &back))
		abort();
	numa_format_cpulist(&back, again, sizeof(again));
	if (strcmp(list, again) != 0)
		abort();
	return 0;
}
