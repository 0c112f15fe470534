/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where a device sits: its NUMA node and the CPUs on that node, from
 * Linux's sysfs and the device's PCI address, and binding a thread to
 * those CPUs. Memory is placed on the node of the CPU that first touches
 * it (Linux's default policy), so a thread bound to a device's CPUs that
 * allocates and fills that device's host memory keeps it next to the
 * device. Elsewhere than Linux nothing is known and nothing is bound.
 */
#ifndef CLQ_EXAMPLE_NUMA_H
#define CLQ_EXAMPLE_NUMA_H

#include <stdbool.h>
#include <stddef.h>

#include <clq/clq.h>

/* sysfs writes CPU lists up to a page long; the report keeps this much */
#define NUMA_CPUS_MAX 1024

struct numa_place {
	int node;		  /* -1: unknown */
	char cpus[NUMA_CPUS_MAX]; /* "0-15,32-47", as sysfs lists them */
};

/*
 * The node and CPUs of the PCI device at `pci` under the sysfs root `sys`
 * ("/sys" on a live system): 0, or -1 when sysfs does not say (no such
 * entry, numa_node -1, an empty or unreadable CPU list, or not Linux),
 * with place->node -1 and place->cpus "".
 */
int numa_find(const char *sys, const struct clq_pci_bus_info *pci,
	      struct numa_place *place);

/*
 * Reads a CPU list ("0-3,8,10-11", one trailing newline allowed) into
 * `set` (a cpu_set_t): 0, or -1 for anything else (a range backwards, a
 * CPU at or past CPU_SETSIZE, an empty list). Not Linux: always -1.
 */
int numa_parse_cpulist(const char *text, void *set);

/* A thread's CPU affinity, kept to be given back (a cpu_set_t's bits). */
struct numa_affinity {
	bool saved;
	unsigned long bits[1024 / (8 * sizeof(unsigned long))];
};

/* Writes `set` (a cpu_set_t) as a CPU list in sysfs's form ("0-3,8"):
 * ascending, each run of CPUs as one range; "" for an empty set. Cut at a
 * whole range when `size` is too small. */
void numa_format_cpulist(const void *set, char *out, size_t size);

/*
 * Binds the calling thread to the CPUs of `place` that it may run on now
 * (the intersection with its current affinity), and writes those CPUs to
 * `used` as a list: 0, or an errno value (ENOENT: none of them is
 * allowed; EINVAL: the place is unknown or not Linux) with the thread's
 * affinity unchanged. With `old`, its affinity before is kept there for
 * numa_restore() (old->saved says whether there is one to give back).
 */
int numa_bind(const struct numa_place *place, char *used, size_t size,
	      struct numa_affinity *old);

/* Gives the calling thread back the affinity kept in `old`, if any: 0 or
 * an errno value. */
int numa_restore(struct numa_affinity *old);

#endif /* CLQ_EXAMPLE_NUMA_H */
