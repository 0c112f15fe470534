/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * numa.c against a made-up sysfs tree: the node and CPUs found from a PCI
 * address, every way sysfs can fail to say (each one "unknown"), the CPU
 * list parser, and binding a thread (its affinity read back). Linux only;
 * elsewhere it exits 77 (meson's "skipped").
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <sched.h>
#endif

#include "numa.h"

#ifdef __linux__

static int failures;

#define CHECK(cond)                                                      \
	do {                                                             \
		if (!(cond)) {                                           \
			fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, \
				__LINE__, #cond);                        \
			failures++;                                      \
		}                                                        \
	} while (0)

static char root[64];

/* Writes root/bus/pci/devices/ADDR/NAME with `text`, making the folders. */
static void
put(const char *addr, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/bus", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/bus/pci", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/bus/pci/devices", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", root, addr);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/%s", root, addr,
		 name);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static void
unput(const char *addr, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/%s", root, addr,
		 name);
	unlink(path);
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
find(const struct clq_pci_bus_info *pci, struct numa_place *place)
{
	/* what numa_find() writes, unknown or not */
	memset(place, 'x', sizeof(*place));
	return numa_find(root, pci, place);
}

static void
check_parser(void)
{
	cpu_set_t set;
	static const char *const bad[] = {
		"",	 "\n",	 "a",	 "1-",	   "-1",
		"3-1",	 "0,,1", "0,",	 ",0",	   "1 2",
		"0\n\n", "0-1x", "1024", "0-1024", "99999999999999999999",
		"0\n1",
	};

	CHECK(numa_parse_cpulist("0-3,8,10-11\n", &set) == 0);
	CHECK(CPU_COUNT(&set) == 7);
	for (int c = 0; c < 12; c++)
		CHECK(!!CPU_ISSET(c, &set) == (c <= 3 || c == 8 || c >= 10));
	CHECK(numa_parse_cpulist("1023", &set) == 0);
	CHECK(CPU_COUNT(&set) == 1 && CPU_ISSET(1023, &set));
	CHECK(numa_parse_cpulist("5-5", &set) == 0 && CPU_COUNT(&set) == 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		int rc = numa_parse_cpulist(bad[i], &set);

		if (rc != -1)
			fprintf(stderr, "accepted '%s'\n", bad[i]);
		CHECK(rc == -1);
	}
}

static void
check_find(const char *allowed_list)
{
	struct clq_pci_bus_info gpu = {0, 0x1b, 0, 0};
	struct clq_pci_bus_info odd = {0x10, 0xab, 0x1f, 7};
	struct numa_place place;

	/* no such device */
	CHECK(find(&gpu, &place) == -1);
	CHECK(place.node == -1 && place.cpus[0] == '\0');

	/* the address as sysfs names it: 4, 2, 2 and 1 hex digits */
	put("0010:ab:1f.7", "numa_node", "3\n");
	put("0010:ab:1f.7", "local_cpulist", "0-3,8,10-11\n");
	CHECK(find(&odd, &place) == 0);
	CHECK(place.node == 3);
	CHECK(strcmp(place.cpus, "0-3,8,10-11") == 0);

	put("0000:1b:00.0", "numa_node", "1\n");
	put("0000:1b:00.0", "local_cpulist", allowed_list);
	CHECK(find(&gpu, &place) == 0);
	CHECK(place.node == 1 && place.cpus[0] != '\0');

	/* every way of not saying: unknown */
	static const char *const bad_nodes[] = {"-1\n", "",	   "x\n",
						"1x\n", "99999\n", "1\n\n"};
	for (size_t i = 0; i < sizeof(bad_nodes) / sizeof(*bad_nodes); i++) {
		put("0010:ab:1f.7", "numa_node", bad_nodes[i]);
		CHECK(find(&odd, &place) == -1);
		CHECK(place.node == -1 && place.cpus[0] == '\0');
	}
	put("0010:ab:1f.7", "numa_node", "3");
	CHECK(find(&odd, &place) == 0 && place.node == 3);
	put("0010:ab:1f.7", "local_cpulist", "\n");
	CHECK(find(&odd, &place) == -1 && place.node == -1);
	put("0010:ab:1f.7", "local_cpulist", "0-3,zz\n");
	CHECK(find(&odd, &place) == -1 && place.node == -1);
	unput("0010:ab:1f.7", "local_cpulist");
	CHECK(find(&odd, &place) == -1 && place.node == -1);
	unput("0010:ab:1f.7", "numa_node");
	CHECK(find(&odd, &place) == -1 && place.node == -1);
	/* a list too long to keep is unknown, not cut short */
	{
		char *longlist = malloc(8 * NUMA_CPUS_MAX);
		size_t len = 0;

		for (unsigned c = 0; c < 1024 && len < 5 * NUMA_CPUS_MAX;
		     c += 2)
			len += (size_t)sprintf(longlist + len, "%s%u",
					       c ? "," : "", c);
		put("0010:ab:1f.7", "numa_node", "0\n");
		put("0010:ab:1f.7", "local_cpulist", longlist);
		CHECK(find(&odd, &place) == -1 && place.node == -1);
		free(longlist);
	}
}

/* Binding: the thread's affinity becomes the place's CPUs that it may
 * use; a place with none of them, or an unknown one, changes nothing. */
static void *
bind_thread(void *arg)
{
	const cpu_set_t *allowed = arg;
	struct numa_place place = {.node = 0};
	cpu_set_t now, want;
	char used[NUMA_CPUS_MAX];
	int first = -1;

	for (int c = 0; c < CPU_SETSIZE && first < 0; c++)
		if (CPU_ISSET(c, allowed))
			first = c;
	CHECK(first >= 0);
	struct numa_affinity old = {.saved = true};

	/* bound to the first allowed CPU, then given back what it had */
	snprintf(place.cpus, sizeof(place.cpus), "%d", first);
	CHECK(numa_bind(&place, used, sizeof(used), &old) == 0);
	CHECK(old.saved);
	CHECK(pthread_getaffinity_np(pthread_self(), sizeof(now), &now) == 0);
	CHECK(CPU_COUNT(&now) == 1 && CPU_ISSET(first, &now));
	CHECK(numa_restore(&old) == 0 && !old.saved);
	CHECK(pthread_getaffinity_np(pthread_self(), sizeof(now), &now) == 0);
	CHECK(CPU_EQUAL(&now, allowed));
	CHECK(numa_restore(&old) == 0); /* nothing kept: nothing changes */
	CHECK(pthread_getaffinity_np(pthread_self(), sizeof(now), &now) == 0);
	CHECK(CPU_EQUAL(&now, allowed));

	/* bound for good; a refused bind keeps nothing to give back */
	CHECK(numa_bind(&place, used, sizeof(used), NULL) == 0);
	snprintf(place.cpus, sizeof(place.cpus), "%d", first);
	CHECK(strcmp(used, place.cpus) == 0);
	CHECK(pthread_getaffinity_np(pthread_self(), sizeof(now), &now) == 0);
	CPU_ZERO(&want);
	CPU_SET(first, &want);
	CHECK(CPU_EQUAL(&now, &want));

	/* now only `first` is allowed: another CPU is refused */
	snprintf(place.cpus, sizeof(place.cpus), "%d", first == 0 ? 1 : 0);
	CHECK(numa_bind(&place, used, sizeof(used), NULL) == ENOENT);
	old.saved = true;
	CHECK(numa_bind(&place, used, sizeof(used), &old) == ENOENT);
	CHECK(!old.saved);
	place.node = -1;
	CHECK(numa_bind(&place, used, sizeof(used), NULL) == EINVAL);
	CHECK(pthread_getaffinity_np(pthread_self(), sizeof(now), &now) == 0);
	CHECK(CPU_EQUAL(&now, &want));
	return NULL;
}

int
main(void)
{
	cpu_set_t allowed;
	char list[NUMA_CPUS_MAX + 1];
	pthread_t tid;
	size_t len = 0;

	strcpy(root, "/tmp/clq-test-numa-XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	CHECK(sched_getaffinity(0, sizeof(allowed), &allowed) == 0);
	list[0] = '\0';
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &allowed) && len + 8 < sizeof(list))
			len += (size_t)snprintf(list + len, sizeof(list) - len,
						"%s%d", len ? "," : "", c);
	strcat(list, "\n");
	check_parser();
	check_find(list);
	CHECK(pthread_create(&tid, NULL, bind_thread, &allowed) == 0);
	pthread_join(tid, NULL);
	/* the main thread's affinity is its own */
	{
		cpu_set_t now;

		CHECK(sched_getaffinity(0, sizeof(now), &now) == 0);
		CHECK(CPU_EQUAL(&now, &allowed));
	}
	CHECK(nftw(root, remove_entry, 8, FTW_DEPTH | FTW_PHYS) == 0);
	if (failures)
		fprintf(stderr, "%d checks failed\n", failures);
	else
		printf("numa: all checks passed\n");
	return failures ? 1 : 0;
}

#else

int
main(void)
{
	return 77;
}

#endif
