/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What clq-time's files share: the options, the command table, the
 * session (device, context, profiling queue, timeline), the measurement
 * loop, the statistics and the JSON writer. One .c per command
 * (devices.c, transfer.c, kernel.c, latency.c) and one per shared job
 * (options.c, json.c, session.c, measure.c, stats.c); main.c dispatches.
 */
#ifndef CLQ_TIME_H
#define CLQ_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <clq/clq.h>

#include "../json-text.h"

#define FORMAT_VERSION 2 /* of --json; bumped on any incompatible change */
#define MIN_RUNS 3
#define MAX_RUNS 100000
#define MAX_SIZES 16
#define MAX_ARGS 64
#define DEFAULT_BUDGET 0.25 /* seconds per measurement */

/* Exit codes: 0 success, 1 an OpenCL or clq failure, 2 bad usage. */
enum { EXIT_USAGE = 2 };

/* What a function returns after reporting a usage error: positive, so it
 * cannot be taken for CLQ_SUCCESS or for a (negative) clq or OpenCL code. */
enum { USAGE_FAILED = 2 };

enum {
	CMD_DEVICES = 1,
	CMD_TRANSFER = 2,
	CMD_KERNEL = 4,
	CMD_LATENCY = 8,
	CMD_ALL = 15,
};

enum {
	MEMORY_PINNED = 1,
	MEMORY_PAGEABLE = 2,
	MEMORY_DEVICE = 4,
	MEMORY_REGISTERED = 8, /* only when asked: not in the default */
};

struct options;

/* One subcommand: its name, help and what runs it. */
struct command {
	const char *name;
	const char *args;    /* after the name in a usage line */
	const char *summary; /* lines separated by \n */
	unsigned bit;	     /* CMD_* */
	int (*run)(const struct options *opt);
	void (*help_notes)(FILE *out); /* after the options; may be NULL */
};

struct options {
	const char *command;
	const struct command *cmd;
	const char *device; /* NULL: clq_device_select()'s default */
	bool json;
	const char *trace; /* --trace FILE.json */
	const char *svg;   /* --svg FILE.svg */
	double budget;	   /* seconds per measurement */
	/* transfer */
	size_t sizes[MAX_SIZES];
	size_t n_sizes;
	unsigned memory; /* MEMORY_* bits; 0 until --memory: all */
	/* kernel */
	const char *file, *kernel_name, *build_options;
	const char *arg_specs[MAX_ARGS];
	size_t n_args;
	size_t global[3], local[3];
	unsigned work_dim, local_dim;
	double bytes, flops; /* per launch; 0: not given */
};

/* The commands (devices.c, transfer.c, kernel.c, latency.c). */
int run_devices(const struct options *opt);
int run_transfer(const struct options *opt);
int run_kernel(const struct options *opt);
int run_latency(const struct options *opt);
void transfer_help_notes(FILE *out);
void kernel_help_notes(FILE *out);

/* ---------------------------------------------------------- options.c */

/* @return 0 to run, 1 after --help, USAGE_FAILED on a usage error
 * (reported). */
int parse_options(int argc, char **argv, struct options *opt);

/* Prints "clq-time: MESSAGE" and where to find help; returns
 * USAGE_FAILED. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A count such as 4096, 64K, 1.5M or 2e9 (K, M, G: powers of 1024); with
 * `bytes`, B or iB may follow. @return 0, or -1 for anything else. */
int parse_count(const char *s, bool bytes, size_t *out);

/* "HEAD      first line\n" then the further lines of `text`, aligned. */
void help_item(FILE *out, const char *head, const char *text);

/* ---------------------------------------------------------- session.c */

/* The open device and the one profiling queue every command runs on. */
struct session {
	const struct options *opt;
	struct clq_context *ctx;
	struct clq_device *device;
	struct clq_queue *queue;
	struct clq_timeline *timeline; /* with --trace or --svg */
};

/* Prints "clq-time: WHAT: CODE (message)"; returns `rc`. */
int fail(const char *what, int rc);

/*
 * Opens the device, a context and a profiling queue; with --trace or
 * --svg also a timeline that records the queue on the track `track`,
 * titled "clq-time COMMAND on DEVICE (PLATFORM)" ("clq-time kernel NAME
 * from FILE on ..." for a kernel). On failure (reported) `s` can still be
 * given to session_close().
 */
int
session_open(struct session *s, const struct options *opt, const char *track);

/* Writes --trace and --svg when `rc` is CLQ_SUCCESS, then releases
 * everything. @return `rc`, or the failure of an export. */
int session_close(struct session *s, int rc);

/* ---------------------------------------------------------- stats.c */

struct stats {
	size_t n;
	double min, median, max;
};

/* Seconds on the host's monotonic clock. */
double now(void);

/* Sorts `v` in place. */
struct stats stats_of(double *v, size_t n);

/* Runs the budget allows when one takes `one` seconds (MIN_RUNS to
 * MAX_RUNS). */
size_t runs_for(double budget, double one);

/* ---------------------------------------------------------- measure.c */

/* Enqueues one command and returns its event. */
typedef int (*enqueue_fn)(void *data, struct clq_event **event_out);

/* One kind of command that time_repeatedly() repeats. */
struct timed {
	enqueue_fn enqueue;
	void *data;
	struct clq_queue *queue; /* the queue `enqueue` uses */
	const char *label;	 /* on the timeline; NULL: no timeline */
};

/* Enqueues one command and waits for it; `*device_s` gets its device time
 * (end - start), `*wall_s` the host time from before the enqueue to the
 * return of the wait, `*times` (if not NULL) its four timestamps. */
int time_one(const struct timed *timed, bool warm_up, double *device_s,
	     double *wall_s, struct clq_event_times *times);

/* Two warm-up runs, then as many as `budget` allows. `device` and `wall`
 * receive the statistics in seconds. */
int time_repeatedly(const struct timed *timed, double budget,
		    struct stats *device, struct stats *wall);

/* ---------------------------------------------------------- json.c */

/* Strings and numbers: json-text.h. */

/* A count given on the command line, or null for 0 (not given). */
void json_write_count(FILE *out, double n);

/* {"n": N, "min": x, "median": x, "max": x}, in seconds like every time
 * in the document. */
void json_write_stats(FILE *out, struct stats s);

/* "cpu", "gpu", "accelerator" or "other". */
const char *device_type_name(enum clq_device_type type);

/* A device: index, spec, name, vendor, platform, driver and specs. */
void json_write_device(FILE *out, const struct clq_device *d);

/* Opens the document: {"tool", "format", "clq_version", "command" and,
 * with a device, "device"; the caller adds its fields and the "}". */
void
json_begin(FILE *out, const char *command, const struct clq_device *device);

#endif /* CLQ_TIME_H */
