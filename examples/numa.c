/* SPDX-License-Identifier: BSD-3-Clause */
/* numa.h says what this is for. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* cpu_set_t, pthread_setaffinity_np */
#endif
#ifdef __linux__
#include <sched.h>
#endif
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numa.h"

#ifdef __linux__

/* Reads a small sysfs file whole into `buf`: its length, or -1. */
static int
read_small(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	/* a file as long as the buffer may have been cut short */
	if (n == size - 1)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

/* A decimal number below CPU_SETSIZE at *p, moving *p past it. */
static int
parse_cpu(const char **p, unsigned *out)
{
	unsigned v = 0;

	if (**p < '0' || **p > '9')
		return -1;
	for (; **p >= '0' && **p <= '9'; ++*p) {
		v = v * 10 + (unsigned)(**p - '0');
		if (v >= CPU_SETSIZE)
			return -1;
	}
	*out = v;
	return 0;
}

int
numa_parse_cpulist(const char *text, void *set_out)
{
	cpu_set_t *set = set_out;
	const char *p = text;

	CPU_ZERO(set);
	if (*p == '\0' || *p == '\n')
		return -1;
	for (;;) {
		unsigned first, last;

		if (parse_cpu(&p, &first) < 0)
			return -1;
		last = first;
		if (*p == '-') {
			p++;
			if (parse_cpu(&p, &last) < 0 || last < first)
				return -1;
		}
		for (unsigned c = first; c <= last; c++)
			CPU_SET(c, set);
		if (*p != ',')
			break;
		p++;
	}
	if (*p == '\n')
		p++;
	return *p == '\0' ? 0 : -1;
}

void
numa_format_cpulist(const void *set_in, char *out, size_t size)
{
	const cpu_set_t *set = set_in;
	size_t len = 0;

	out[0] = '\0';
	for (unsigned c = 0; c < CPU_SETSIZE; c++) {
		unsigned last = c;
		int n;

		if (!CPU_ISSET(c, set))
			continue;
		while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, set))
			last++;
		n = last > c ? snprintf(out + len, size - len, "%s%u-%u",
					len ? "," : "", c, last)
			     : snprintf(out + len, size - len, "%s%u",
					len ? "," : "", c);
		if (n < 0 || (size_t)n >= size - len) {
			out[len] = '\0'; /* the list so far, whole ranges */
			return;
		}
		len += (size_t)n;
		c = last;
	}
}

int
numa_find(const char *sys, const struct clq_pci_bus_info *pci,
	  struct numa_place *place)
{
	char path[4096], text[NUMA_CPUS_MAX];
	char *end;
	long node;
	cpu_set_t set;
	int n;

	place->node = -1;
	place->cpus[0] = '\0';
	n = snprintf(path, sizeof(path),
		     "%s/bus/pci/devices/%04x:%02x:%02x.%x/", sys, pci->domain,
		     pci->bus, pci->device, pci->function);
	if (n < 0 || (size_t)n + sizeof("local_cpulist") > sizeof(path))
		return -1;
	strcpy(path + n, "numa_node");
	if (read_small(path, text, sizeof(text)) < 0)
		return -1;
	errno = 0;
	node = strtol(text, &end, 10);
	if (errno || end == text || (*end && strcmp(end, "\n") != 0) ||
	    node < 0 || node > 65535)
		return -1;
	strcpy(path + n, "local_cpulist");
	if (read_small(path, text, sizeof(text)) < 0 ||
	    numa_parse_cpulist(text, &set) < 0)
		return -1;
	place->node = (int)node;
	numa_format_cpulist(&set, place->cpus, sizeof(place->cpus));
	return 0;
}

_Static_assert(sizeof(((struct numa_affinity *)0)->bits) == sizeof(cpu_set_t),
	       "numa_affinity holds a cpu_set_t");

int
numa_bind(const struct numa_place *place, char *used, size_t size,
	  struct numa_affinity *old)
{
	cpu_set_t want, allowed;
	int err;

	if (old)
		old->saved = false;
	if (place->node < 0 || numa_parse_cpulist(place->cpus, &want) < 0)
		return EINVAL;
	err = pthread_getaffinity_np(pthread_self(), sizeof(allowed), &allowed);
	if (err)
		return err;
	CPU_AND(&want, &want, &allowed);
	if (CPU_COUNT(&want) == 0)
		return ENOENT;
	err = pthread_setaffinity_np(pthread_self(), sizeof(want), &want);
	if (err)
		return err;
	numa_format_cpulist(&want, used, size);
	if (old) {
		memcpy(old->bits, &allowed, sizeof(allowed));
		old->saved = true;
	}
	return 0;
}

int
numa_restore(struct numa_affinity *old)
{
	cpu_set_t set;

	if (!old->saved)
		return 0;
	old->saved = false;
	memcpy(&set, old->bits, sizeof(set));
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

#else /* not Linux: nothing known, nothing bound */

int
numa_parse_cpulist(const char *text, void *set)
{
	(void)text;
	(void)set;
	return -1;
}

void
numa_format_cpulist(const void *set, char *out, size_t size)
{
	(void)set;
	if (size)
		out[0] = '\0';
}

int
numa_find(const char *sys, const struct clq_pci_bus_info *pci,
	  struct numa_place *place)
{
	(void)sys;
	(void)pci;
	place->node = -1;
	place->cpus[0] = '\0';
	return -1;
}

int
numa_bind(const struct numa_place *place, char *used, size_t size,
	  struct numa_affinity *old)
{
	(void)place;
	(void)used;
	(void)size;
	if (old)
		old->saved = false;
	return EINVAL;
}

int
numa_restore(struct numa_affinity *old)
{
	old->saved = false;
	return 0;
}

#endif
