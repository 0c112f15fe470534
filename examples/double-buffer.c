/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * double-buffer: streams a float array through the device in chunks,
 * uploading, computing (cl/scale.cl) and downloading on separate queues so
 * that the three overlap, and compares that pipeline with a sequential
 * loop over the same data. `double-buffer --help` explains the options;
 * the README walks through the code.
 *
 * The kernel computes x = a * x + b, `iters` times per element, with
 * a = b = 1 on integer inputs below 2^20: every intermediate value is an
 * exact float, so the CPU reference (x + iters) is exact and cheap however
 * much work the device is given.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <clq/clq.h>

#include "example.h"
#include "numa.h"

enum { STAGE_UPLOAD, STAGE_KERNEL, STAGE_DOWNLOAD, N_STAGES };

static const char *const stage_names[N_STAGES] = {"upload", "kernel",
						  "download"};

/* Inputs are integers below 2^20 and outputs input + iters: staying below
 * 2^24 keeps every value exact in a float. */
#define INPUT_LIMIT (1u << 20)
#define MAX_ITERS (1u << 23)

/*
 * What the verdict calls "overlapped": two or more commands running, by
 * the device's own timestamps, during at least OVERLAP_MIN of the
 * pipeline's device span, and the pipeline at least SPEEDUP_MIN times as
 * fast as the sequential loop. Every verdict states both thresholds.
 */
#define OVERLAP_MIN 0.25
#define SPEEDUP_MIN 1.1

/*
 * Where --trace or --svg writes. A regular file is written to a temporary
 * file beside it, renamed over it once written: a failed run leaves an
 * old file as it was and makes no new one. Anything else (a pipe, a
 * device, a symbolic link such as /dev/stdout), or a file whose directory
 * takes no temporary file or whose rename fails (a sticky directory, a
 * name too long for the suffix), is written in place, emptied only when
 * the export starts: a failed run leaves it as it was too.
 */
struct output {
	FILE *file;
	char *temp;	/* the temporary file; NULL: written in place */
	int path_fd;	/* with `temp`, the path's file: written in place
		      * if the rename fails; else -1 */
	bool copy_back; /* with `temp`, copied into the path's file, not
			 * renamed over it: kept its hard links, owner */
	/* the path is the regular file of stdout or stderr (/dev/stdout
	 * with stdout sent to a file): written through that stream, after
	 * what it had; a file of its own would write over the report */
	bool std_stream;
	bool created; /* open_output() made the path: removed on failure */
	bool regular; /* the path's file, as opened: a regular file */
	dev_t dev;
	ino_t ino;
};

/* --devices: at most this many devices, each spec at most this long */
#define MAX_DEVICES 16
#define MAX_SPEC 256

struct options {
	const char *device; /* NULL: clq_device_select()'s default */
	/* --devices: the specs, one context per device (0: --device) */
	size_t n_devices;
	char device_specs[MAX_DEVICES][MAX_SPEC];
	/* --devices: this device's place in the list (its messages and
	 * labels say "device K"); -1 alone */
	int device_no;
	double chunk_mib;
	size_t chunks;
	size_t buffers;
	int queues; /* 2: upload and download share a queue; 3: one each */
	unsigned iters;
	bool balance;
	bool pageable;
	bool json;
	const char *trace; /* --trace FILE.json */
	const char *svg;   /* --svg FILE.svg */
	/* they are opened before the run, so that a path that cannot be
	 * written is refused before the work, not after it */
	struct output trace_out, svg_out;
	bool ordering_set; /* --ordering given; else CLQ_ORDERING decides */
	enum clq_ordering ordering;
	bool no_reuse_wait; /* --no-reuse-wait */
	bool numa;	    /* --numa auto (true, the default) or off */
	double start_at;    /* --start-at: epoch seconds (0: at once) */
};

struct demo {
	const struct options *opt;
	struct clq_context *ctx;
	/* queue[STAGE_DOWNLOAD] is queue[STAGE_UPLOAD] with --queues 2 */
	struct clq_queue *queue[N_STAGES];
	struct clq_program *program;
	struct clq_kernel *scale;
	size_t chunk_elems;
	/* Work-group size: fixed, since PoCL compiles a kernel anew for each
	 * work-group size it meets (a driver-chosen one follows the global
	 * size, which --chunk-mib changes). */
	size_t local;
	float *input_data, *output_data; /* --pageable: the caller's memory */
	struct clq_host_array *input, *output;
	struct clq_device_array **buffers;
	/* The pipeline takes its buffers from here: slot i is buffers[i]. */
	struct clq_pool *pool;
	unsigned iters;
	/* Whether an upload waits for the download that last used its
	 * buffer: yes, unless clq adds that wait (AUTO) or --no-reuse-wait
	 * leaves it out. */
	bool reuse_wait;
	/* --devices: this device's chunks are first_chunk onwards of the
	 * whole stream (opt->chunks of them), and the pipelined run starts
	 * on every device at once, at this barrier */
	size_t first_chunk;
	struct start_line *start_line;
	/* the input's elements added up (exact: each is below 2^20), so
	 * that reports show which data went through */
	uint64_t input_sum;
	/* --devices --numa auto: the device's NUMA node (-1: unknown) and
	 * the CPUs that its setup (the main thread, bound for the while)
	 * and its pipeline thread ran on ("": not bound) */
	struct numa_place place;
};

/* --devices: where each device's thread waits, once its output is
 * cleared, for the main thread to start them all (state 1) or to call the
 * run off (-1: a thread could not be started). */
struct start_line {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t arrived; /* threads waiting */
	int state;	/* 0: wait, 1: go, -1: give up */
};

/* What one run (sequential or pipelined) measured. */
struct run {
	double wall;		/* host seconds, first enqueue to the end */
	double start;		/* example_now() at the first enqueue */
	double epoch_start;	/* the same, seconds since the epoch */
	double stage[N_STAGES]; /* median device seconds per chunk */
	double device_span;	/* first start to last end, device seconds */
	double overlap;		/* device seconds with >= 2 commands running */
	double transfers_overlap; /* ... with an upload and a download */
	size_t mismatches;	  /* output elements that differ */
	struct clq_event **ev;	  /* [chunk * N_STAGES + stage] */
};

static int
fail(const char *what, int rc)
{
	return example_report("double-buffer", what, rc);
}

/* fail() for one device's demo: with --devices, says which device, by its
 * place in the list and its spec. */
static int
dfail(const struct demo *d, const char *what, int rc)
{
	char line[MAX_SPEC + 128];

	if (d->opt->device_no < 0)
		return fail(what, rc);
	snprintf(line, sizeof(line), "device %d ('%s'): %s", d->opt->device_no,
		 d->opt->device, what);
	return fail(line, rc);
}

/* A queue's or buffer's label: with --devices, "device K " before it, so
 * that clq's ordering messages say which device's queue or buffer. */
static void
demo_label(const struct demo *d, const char *name, char *out, size_t size)
{
	if (d->opt->device_no < 0)
		snprintf(out, size, "%s", name);
	else
		snprintf(out, size, "device %d %s", d->opt->device_no, name);
}

/* ---------------------------------------------------------------- options */

static void
usage(FILE *out)
{
	fputs("Usage: double-buffer [OPTION]...\n"
	      "Streams a float array through the device in chunks: upload, "
	      "the\n"
	      "scale kernel (x = x + 1, ITERS times per element) and "
	      "download,\n"
	      "first one chunk at a time, then pipelined over several queues\n"
	      "with events, and reports how far transfers and compute "
	      "overlapped.\n\n"
	      "  --device SPEC   device, as clq_device_select() reads it "
	      "(default:\n"
	      "                  CLQ_DEVICE, then GPU > accelerator > CPU)\n"
	      "  --devices LIST  several devices, as comma-separated specs "
	      "(0,1):\n"
	      "                  the chunks split into consecutive blocks, "
	      "one per\n"
	      "                  device, each device with its own context, "
	      "queues,\n"
	      "                  buffers and host arrays, all running at once\n"
	      "  --numa auto|off with --devices: auto (the default) allocates "
	      "and fills\n"
	      "                  each device's host memory, and runs its "
	      "pipeline, on\n"
	      "                  the CPUs of the device's NUMA node where "
	      "sysfs says\n"
	      "                  which (Linux); off: no thread bound\n"
	      "  --chunk-mib X   MiB per chunk (default 4; fractions allowed)\n"
	      "  --chunks N      number of chunks (default 16)\n"
	      "  --buffers N     device buffers used in rotation (default 3)\n"
	      "  --queues 2|3    3: upload, kernel and download queues; 2: "
	      "both\n"
	      "                  transfers on one queue (default 3)\n"
	      "  --iters N       kernel iterations per element (default 16)\n"
	      "  --balance       time the stages first and pick ITERS so the\n"
	      "                  kernel takes about as long as one transfer\n"
	      "  --pageable      use ordinary malloc() memory on the host "
	      "instead\n"
	      "                  of pinned host arrays\n"
	      "  --json          print the report as JSON: \"report\" is "
	      "\"device\" for one\n"
	      "                  device, \"devices\" for --devices (a "
	      "report per device\n"
	      "                  and the total)\n"
	      "  --trace FILE    write the pipelined run's timeline as a "
	      "Chrome\n"
	      "                  trace (open it in Perfetto or "
	      "chrome://tracing)\n"
	      "  --svg FILE      write the pipelined run's timeline as an SVG "
	      "chart\n"
	      "                  (both are checked before the run, and "
	      "written once\n"
	      "                  it has run: one stopped by an error or by "
	      "Ctrl-C\n"
	      "                  leaves them as they were; wrong results are "
	      "drawn too;\n"
	      "                  /dev/stdout gets them before the report)\n"
	      "  --start-at T    start the pipelined run at T, seconds since "
	      "the epoch\n"
	      "                  (as `date +%s.%N` prints; at most a day "
	      "ahead), not\n"
	      "                  before: processes run at once, one per "
	      "device, to\n"
	      "                  compare with --devices\n"
	      "  --ordering MODE how clq orders commands of different queues\n"
	      "                  (default: CLQ_ORDERING, else manual):\n"
	      "                  manual  the demo's own waits order the "
	      "stages\n"
	      "                  check   the same, and clq refuses any access "
	      "to a\n"
	      "                          buffer that nothing orders after a\n"
	      "                          conflicting one on another queue\n"
	      "                  auto    the demo leaves out the reuse wait "
	      "(an\n"
	      "                          upload waiting for the download that "
	      "last\n"
	      "                          used its buffer), and clq adds it\n"
	      "  --no-reuse-wait leave out the reuse wait in every mode, the "
	      "bug it\n"
	      "                  prevents: check stops at the first upload "
	      "into a\n"
	      "                  reused buffer and says why, auto runs as "
	      "without\n"
	      "                  it, manual gives wrong results where the "
	      "device\n"
	      "                  runs the queues at once\n"
	      "  --help          show this help\n\n",
	      out);
	fprintf(out,
		"The verdict calls the pipeline \"overlapped\" when two or "
		"more commands\n"
		"ran together for at least %.0f%% of the device time and it "
		"ran at least\n"
		"%.2fx the speed of the sequential loop; it is wrapped to "
		"$COLUMNS, else\n"
		"the terminal's width, else 80 columns.\n\n",
		100 * OVERLAP_MIN, SPEEDUP_MIN);
	fputs("Exits 0 when both runs match the CPU reference, 1 on a mismatch "
	      "or an\n"
	      "error (a hazard that check refused among them), 2 on a bad "
	      "option.\n",
	      out);
}

static int
parse_ordering(const char *text, enum clq_ordering *out)
{
	static const char *const names[] = {"manual", "check", "auto"};
	static const enum clq_ordering modes[] = {
		CLQ_ORDERING_MANUAL, CLQ_ORDERING_CHECK, CLQ_ORDERING_AUTO};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(text, names[i]) == 0) {
			*out = modes[i];
			return 0;
		}
	}
	fprintf(stderr,
		"double-buffer: --ordering wants manual, check or auto, not "
		"'%s'\n",
		text);
	return -1;
}

/* Seconds since the epoch (CLOCK_REALTIME): the one clock that
 * processes started apart share. */
static double
epoch_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* --start-at: how far ahead T may be. Further is no time to wait for
 * but a mistake (`date +%s%N`, milliseconds), which slept for ever, or
 * past time_t, where the sleep failed and the run started at once. */
static const double START_AT_AHEAD_S = 86400;

/* --start-at T: seconds since the epoch, a finite number above 0 and at
 * most a day ahead. */
static int
parse_start_at(const char *text, double *out)
{
	char *end;
	double t;

	errno = 0;
	t = strtod(text, &end);
	if (end == text || *end || errno || !isfinite(t) || t <= 0 ||
	    t > epoch_now() + START_AT_AHEAD_S) {
		fprintf(stderr,
			"double-buffer: --start-at wants seconds since the "
			"epoch (as `date +%%s.%%N` prints), at most a day "
			"ahead, not '%s'\n",
			text);
		return -1;
	}
	*out = t;
	return 0;
}

/* --start-at: sleeps until then; says so when it has already passed. */
static void
wait_for_start(const struct options *opt)
{
	double whole = floor(opt->start_at), late;
	struct timespec until = {(time_t)whole,
				 (long)((opt->start_at - whole) * 1e9)};

	if (opt->start_at <= 0)
		return;
	late = epoch_now() - opt->start_at;
	if (late > 0) {
		fprintf(stderr,
			"double-buffer: warning: --start-at %.6f passed %.3f s "
			"before the pipelined run was ready: it starts now\n",
			opt->start_at, late);
		return;
	}
	while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &until, NULL) ==
	       EINTR)
		;
}

/* --devices: comma-separated device specs, none empty. */
static int
parse_devices(const char *text, struct options *opt)
{
	const char *p = text;

	opt->n_devices = 0;
	for (;;) {
		size_t len = strcspn(p, ",");

		if (len == 0 || len >= MAX_SPEC ||
		    opt->n_devices == MAX_DEVICES) {
			fprintf(stderr,
				"double-buffer: --devices wants 1 to %d "
				"comma-separated device specs (such as 0,1) "
				"of 1 to %d characters each, not '%s'\n",
				MAX_DEVICES, MAX_SPEC - 1, text);
			return -1;
		}
		memcpy(opt->device_specs[opt->n_devices], p, len);
		opt->device_specs[opt->n_devices++][len] = '\0';
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

/* Returns 0 to run, 1 when --help was printed, -1 on a bad option. */
static int
parse_options(int argc, char **argv, struct options *opt)
{
	enum {
		O_CHUNK_MIB = 256,
		O_CHUNKS,
		O_BUFFERS,
		O_QUEUES,
		O_ITERS,
		O_TRACE,
		O_SVG,
		O_ORDERING,
		O_NO_REUSE_WAIT,
		O_DEVICES,
		O_NUMA,
		O_START_AT
	};
	static const struct option longopts[] = {
		{"device", required_argument, NULL, 'd'},
		{"devices", required_argument, NULL, O_DEVICES},
		{"chunk-mib", required_argument, NULL, O_CHUNK_MIB},
		{"chunks", required_argument, NULL, O_CHUNKS},
		{"buffers", required_argument, NULL, O_BUFFERS},
		{"queues", required_argument, NULL, O_QUEUES},
		{"iters", required_argument, NULL, O_ITERS},
		{"balance", no_argument, NULL, 'b'},
		{"pageable", no_argument, NULL, 'p'},
		{"json", no_argument, NULL, 'j'},
		{"trace", required_argument, NULL, O_TRACE},
		{"svg", required_argument, NULL, O_SVG},
		{"ordering", required_argument, NULL, O_ORDERING},
		{"no-reuse-wait", no_argument, NULL, O_NO_REUSE_WAIT},
		{"numa", required_argument, NULL, O_NUMA},
		{"start-at", required_argument, NULL, O_START_AT},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	size_t v;
	int c;

	*opt = (struct options){.chunk_mib = 4,
				.chunks = 16,
				.buffers = 3,
				.queues = 3,
				.iters = 16,
				.device_no = -1,
				.numa = true};
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			opt->device = optarg;
			break;
		case O_DEVICES:
			if (parse_devices(optarg, opt) < 0)
				return -1;
			break;
		case O_CHUNK_MIB:
			if (example_parse_mib("double-buffer", optarg,
					      &opt->chunk_mib) < 0)
				return -1;
			break;
		case O_CHUNKS:
			if (example_parse_size("double-buffer", "chunks",
					       optarg, 1, 1u << 20,
					       &opt->chunks) < 0)
				return -1;
			break;
		case O_BUFFERS:
			if (example_parse_size("double-buffer", "buffers",
					       optarg, 1, 64,
					       &opt->buffers) < 0)
				return -1;
			break;
		case O_QUEUES:
			if (example_parse_size("double-buffer", "queues",
					       optarg, 2, 3, &v) < 0)
				return -1;
			opt->queues = (int)v;
			break;
		case O_ITERS:
			if (example_parse_size("double-buffer", "iters", optarg,
					       1, MAX_ITERS, &v) < 0)
				return -1;
			opt->iters = (unsigned)v;
			break;
		case 'b':
			opt->balance = true;
			break;
		case 'p':
			opt->pageable = true;
			break;
		case 'j':
			opt->json = true;
			break;
		case O_TRACE:
			opt->trace = optarg;
			break;
		case O_SVG:
			opt->svg = optarg;
			break;
		case O_ORDERING:
			if (parse_ordering(optarg, &opt->ordering) < 0)
				return -1;
			opt->ordering_set = true;
			break;
		case O_NO_REUSE_WAIT:
			opt->no_reuse_wait = true;
			break;
		case O_NUMA:
			if (strcmp(optarg, "auto") != 0 &&
			    strcmp(optarg, "off") != 0) {
				fprintf(stderr,
					"double-buffer: --numa wants auto or "
					"off, not '%s'\n",
					optarg);
				return -1;
			}
			opt->numa = strcmp(optarg, "auto") == 0;
			break;
		case O_START_AT:
			if (parse_start_at(optarg, &opt->start_at) < 0)
				return -1;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			fputs("Try 'double-buffer --help'.\n", stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "double-buffer: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	if (opt->n_devices && opt->device) {
		fputs("double-buffer: --device and --devices exclude each "
		      "other: give every device in --devices\n",
		      stderr);
		return -1;
	}
	/* the kernel counts a chunk's floats in a cl_uint */
	if (opt->chunk_mib * (1048576.0 / sizeof(float)) > UINT32_MAX) {
		fprintf(stderr,
			"double-buffer: --chunk-mib %g is too large: the "
			"kernel counts a chunk's floats in 32 bits, so a chunk "
			"is at most %.3f MiB\n",
			opt->chunk_mib,
			floor(UINT32_MAX / (1048576.0 / sizeof(float)) * 1000) /
				1000);
		return -1;
	}
	if (opt->n_devices > opt->chunks) {
		fprintf(stderr,
			"double-buffer: --chunks %zu is fewer than the %zu "
			"devices: each device wants a chunk at least\n",
			opt->chunks, opt->n_devices);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ the objects */

/* The whole input or output: pinned host arrays, or with --pageable the
 * caller's malloc() memory wrapped without copying. */
static int
host_array_open(struct demo *d, size_t n, float **data_out,
		struct clq_host_array **array_out)
{
	int rc;

	if (!d->opt->pageable) {
		rc = clq_host_array_create(d->ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					   NULL, array_out);
		if (rc == CLQ_SUCCESS)
			*data_out = clq_host_array_data(*array_out);
		return rc;
	}
	*data_out = malloc(n * sizeof(float));
	if (!*data_out)
		return CL_OUT_OF_HOST_MEMORY;
	return clq_host_array_wrap(CLQ_DTYPE_FLOAT32, 1, &n, NULL, *data_out,
				   array_out);
}

static int
open_queues(struct demo *d)
{
	/* Labels name the queues in ordering messages (clq/order.h). */
	static const char *const labels[N_STAGES] = {"upload", "kernel",
						     "download"};
	int rc;

	for (int s = 0; s < N_STAGES; s++) {
		char label[64];

		if (s == STAGE_DOWNLOAD && d->opt->queues == 2) {
			d->queue[s] = clq_queue_ref(d->queue[STAGE_UPLOAD]);
			continue;
		}
		rc = clq_queue_create(d->ctx, CLQ_QUEUE_PROFILING,
				      &d->queue[s]);
		if (rc < 0)
			return dfail(d, "creating a profiling queue", rc);
		demo_label(d,
			   d->opt->queues == 2 && s == STAGE_UPLOAD ? "transfer"
								    : labels[s],
			   label, sizeof(label));
		rc = clq_queue_set_label(d->queue[s], label);
		if (rc < 0)
			return dfail(d, "labelling a queue", rc);
	}
	return CLQ_SUCCESS;
}

static int
open_arrays(struct demo *d)
{
	size_t total = d->opt->chunks * d->chunk_elems;
	int rc;

	if ((rc = host_array_open(d, total, &d->input_data, &d->input)) < 0 ||
	    (rc = host_array_open(d, total, &d->output_data, &d->output)) < 0)
		return dfail(d, "allocating the host arrays", rc);
	d->buffers = calloc(d->opt->buffers, sizeof(*d->buffers));
	if (!d->buffers)
		return dfail(d, "allocating", CL_OUT_OF_HOST_MEMORY);
	for (size_t i = 0; i < d->opt->buffers; i++) {
		char name[32], label[64];

		rc = clq_device_array_create(d->ctx, CLQ_DTYPE_FLOAT32, 1,
					     &d->chunk_elems, NULL,
					     &d->buffers[i]);
		if (rc < 0)
			return dfail(d, "allocating a device buffer", rc);
		/* what check's messages call it */
		snprintf(name, sizeof(name), "buffer %zu", i);
		demo_label(d, name, label, sizeof(label));
		if ((rc = clq_device_array_set_label(d->buffers[i], label)) < 0)
			return dfail(d, "labelling a device buffer", rc);
	}
	rc = clq_pool_create(d->opt->buffers, (void *const *)d->buffers,
			     &d->pool);
	if (rc < 0)
		return dfail(d, "creating the buffer pool", rc);
	return CLQ_SUCCESS;
}

/*
 * The scale kernel's work-group size from the tuning database (CLQ_TUNE_DB,
 * else the XDG cache), when it has one for this chunk size and device
 * (`clq-tune run` with a `tunable scale` grid stores them); `fallback`
 * otherwise. The database is only read; with none, nothing changes and
 * nothing is printed. Tuned for the --iters given, before --balance.
 */
static size_t
tuned_local(struct demo *d, size_t fallback)
{
	struct clq_tune_db *db = NULL;
	struct clq_tunable *t = NULL;
	struct clq_params *problem = NULL, *got = NULL;
	int64_t wgs = 0;
	size_t local = fallback;

	if (clq_tune_db_open(NULL, CLQ_TUNE_DB_READONLY, &db) < 0)
		return fallback;
	if (clq_tunable_create_builtin("scale", &t) == CLQ_SUCCESS &&
	    clq_params_create(&problem) == CLQ_SUCCESS &&
	    clq_params_set_int(problem, "n", (int64_t)d->chunk_elems) ==
		    CLQ_SUCCESS &&
	    clq_params_set_int(problem, "iters", d->iters) == CLQ_SUCCESS &&
	    clq_tune_db_lookup(db, d->ctx, t, problem, CLQ_TUNE_MATCH_NEAREST,
			       &got, NULL) == CLQ_SUCCESS &&
	    clq_params_get_int(got, "wgs", &wgs) == CLQ_SUCCESS && wgs > 0 &&
	    (size_t)wgs <= clq_kernel_get_work_group_size(d->scale)) {
		char who[MAX_SPEC + 32] = "";

		local = (size_t)wgs;
		if (d->opt->device_no >= 0)
			snprintf(who, sizeof(who), " on device %d ('%s')",
				 d->opt->device_no, d->opt->device);
		fprintf(stderr,
			"double-buffer: scale work-group size %zu%s, from the "
			"tuning database %s\n",
			local, who, clq_tune_db_get_path(db));
	}
	clq_params_free(got);
	clq_params_free(problem);
	clq_tunable_free(t);
	clq_tune_db_close(db);
	return local;
}

/* True while a thread asks clq something whose "no" is an answer, not an
 * error: log_handler() keeps clq's message about it off stderr. */
static _Thread_local bool log_quiet;

static void
log_handler(enum clq_log_level level, const char *message, void *user_data)
{
	if (!log_quiet)
		example_log_to_stderr(level, message, user_data);
}

static int
demo_open(struct demo *d, const struct options *opt)
{
	struct clq_device *dev;
	double elems = opt->chunk_mib * 1048576.0 / sizeof(float);
	int rc;

	*d = (struct demo){.opt = opt, .iters = opt->iters};
	d->place.node = -1;
	d->chunk_elems = (size_t)elems; /* >= 1: example_parse_mib() */
	if (d->chunk_elems > UINT32_MAX ||
	    d->chunk_elems > SIZE_MAX / sizeof(float) / opt->chunks) {
		fprintf(stderr,
			"double-buffer: %zu chunks of %g MiB is too "
			"much\n",
			opt->chunks, opt->chunk_mib);
		return CLQ_ERROR_OVERFLOW;
	}
	if ((rc = clq_device_select(opt->device, &dev)) < 0)
		return dfail(d, "choosing a device", rc);
	rc = clq_context_create(dev, &d->ctx);
	clq_device_unref(dev);
	if (rc < 0)
		return dfail(d, "creating a context", rc);
	if (opt->ordering_set &&
	    (rc = clq_context_set_ordering(d->ctx, opt->ordering)) < 0)
		return dfail(d, "setting the ordering", rc);
	d->reuse_wait = !opt->no_reuse_wait &&
			clq_context_get_ordering(d->ctx) != CLQ_ORDERING_AUTO;
	if ((rc = open_queues(d)) < 0 || (rc = open_arrays(d)) < 0)
		return rc;
	rc = clq_program_create_from_file(d->ctx, "scale.cl", NULL, 0, NULL,
					  &d->program);
	if (rc < 0)
		return dfail(d, "building scale.cl", rc);
	if ((rc = clq_kernel_create(d->program, "scale", &d->scale)) < 0)
		return dfail(d, "creating the scale kernel", rc);
	d->local = clq_kernel_get_work_group_size(d->scale);
	if (d->local > 256)
		d->local = 256;
	d->local = tuned_local(d, d->local);
	return CLQ_SUCCESS;
}

static void
demo_close(struct demo *d)
{
	clq_kernel_unref(d->scale);
	clq_program_unref(d->program);
	clq_pool_unref(d->pool);
	for (size_t i = 0; d->buffers && i < d->opt->buffers; i++)
		clq_device_array_unref(d->buffers[i]);
	free(d->buffers);
	clq_host_array_unref(d->input);
	clq_host_array_unref(d->output);
	if (d->opt->pageable) {
		free(d->input_data);
		free(d->output_data);
	}
	for (int s = 0; s < N_STAGES; s++)
		clq_queue_unref(d->queue[s]);
	clq_context_unref(d->ctx);
}

/* ------------------------------------------------------------- the stages */

/* Each stage enqueues one command on `q` for chunk `chunk` in device
 * buffer `buf`, after the events in `wait`, and returns its event. */

static int
enqueue_upload(struct demo *d, struct clq_queue *q, size_t chunk, size_t buf,
	       struct clq_event *const *wait, size_t n_wait,
	       struct clq_event **ev)
{
	size_t at = 0, from = chunk * d->chunk_elems;

	return clq_device_array_set_region(d->buffers[buf], q, d->input, &at,
					   &from, &d->chunk_elems, wait, n_wait,
					   ev);
}

static int
enqueue_kernel(struct demo *d, struct clq_queue *q, size_t buf, unsigned iters,
	       struct clq_event *const *wait, size_t n_wait,
	       struct clq_event **ev)
{
	cl_uint n = (cl_uint)d->chunk_elems, it = iters;
	cl_float one = 1.0f;
	struct clq_arg args[] = {
		CLQ_ARG_ARRAY(d->buffers[buf]),
		CLQ_ARG_VALUE(n),
		CLQ_ARG_VALUE(one),
		CLQ_ARG_VALUE(one),
		CLQ_ARG_VALUE(it),
	};
	size_t global = (d->chunk_elems + d->local - 1) / d->local * d->local;

	return clq_queue_enqueue_kernel(q, d->scale, args, 5, 1, &global,
					&d->local, wait, n_wait, ev);
}

static int
enqueue_download(struct demo *d, struct clq_queue *q, size_t chunk, size_t buf,
		 struct clq_event *const *wait, size_t n_wait,
		 struct clq_event **ev)
{
	size_t at = 0, to = chunk * d->chunk_elems;

	return clq_device_array_get_region(d->buffers[buf], q, d->output, &at,
					   &to, &d->chunk_elems, wait, n_wait,
					   ev);
}

/* -------------------------------------------------------- the measurement */

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), example_compare_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Device seconds an event's command ran. */
static int
event_seconds(struct clq_event *ev, double *seconds)
{
	struct clq_event_times t;
	int rc = clq_event_get_times(ev, &t);

	if (rc == CLQ_SUCCESS)
		*seconds = (double)(t.end - t.start) * 1e-9;
	return rc;
}

/*
 * The summary of a timeline holding the events of `stages` (a bit per
 * stage) of a run, one track per stage: the overlap of two tracks is the
 * time two commands ran together, since each stage's commands take turns.
 */
static int
summarise_stages(struct demo *d, const struct run *r, unsigned stages,
		 struct clq_timeline_summary **summary_out)
{
	struct clq_timeline *tl = NULL;
	int rc = clq_timeline_create(d->ctx, &tl);

	for (size_t i = 0; i < d->opt->chunks * N_STAGES && rc == CLQ_SUCCESS;
	     i++) {
		int stage = (int)(i % N_STAGES);

		if (stages & (1u << stage))
			rc = clq_timeline_add_event(tl, r->ev[i],
						    stage_names[stage],
						    stage_names[stage]);
	}
	if (rc == CLQ_SUCCESS)
		rc = clq_timeline_summarize(tl, summary_out);
	clq_timeline_unref(tl);
	return rc;
}

/*
 * Fills in the run's stage medians, device span and overlaps from its
 * events, through clq's timelines: all stages (two or more commands
 * running), and the uploads with the downloads (both transfers at once).
 */
static int
summarise(struct demo *d, struct run *r)
{
	struct clq_timeline_summary *all = NULL, *transfers = NULL;
	int rc = summarise_stages(d, r, (1u << N_STAGES) - 1, &all);

	if (rc == CLQ_SUCCESS)
		rc = summarise_stages(
			d, r, (1u << STAGE_UPLOAD) | (1u << STAGE_DOWNLOAD),
			&transfers);
	if (rc == CLQ_SUCCESS) {
		/* Labels are interned in the order the events came. */
		for (size_t l = 0; l < all->n_labels; l++)
			for (int s = 0; s < N_STAGES; s++)
				if (strcmp(all->labels[l].label,
					   stage_names[s]) == 0)
					r->stage[s] = all->labels[l].median_s;
		r->device_span = all->span_s;
		r->overlap = all->overlap_s;
		r->transfers_overlap = transfers->overlap_s;
	}
	clq_timeline_summary_free(all);
	clq_timeline_summary_free(transfers);
	return rc < 0 ? dfail(d, "reading the device timestamps", rc) : rc;
}

static void
run_release(struct run *r, size_t chunks)
{
	for (size_t i = 0; r->ev && i < chunks * N_STAGES; i++)
		clq_event_unref(r->ev[i]);
	free(r->ev);
	r->ev = NULL;
}

static size_t
count_mismatches(const struct demo *d)
{
	size_t total = d->opt->chunks * d->chunk_elems, bad = 0;
	/* element and chunk numbers of the whole stream */
	size_t first = d->first_chunk * d->chunk_elems;

	for (size_t i = 0; i < total; i++) {
		float want = d->input_data[i] + (float)d->iters;

		if (d->output_data[i] != want) {
			if (bad++ < 5)
				fprintf(stderr,
					"double-buffer: element %zu (chunk "
					"%zu) is %.1f, the CPU reference says "
					"%.1f\n",
					first + i, (first + i) / d->chunk_elems,
					(double)d->output_data[i],
					(double)want);
		}
	}
	return bad;
}

/* Element i of the stream: splitmix64 of i, so that with --devices each
 * device fills its block without generating the blocks before it. */
static uint32_t
input_value(uint64_t i)
{
	uint64_t z = (i + 1) * 0x9E3779B97F4A7C15u;

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return (uint32_t)((z ^ (z >> 31)) % INPUT_LIMIT);
}

static void
fill_input(struct demo *d)
{
	size_t total = d->opt->chunks * d->chunk_elems;
	/* with --devices, this device's part of the one stream */
	size_t skip = d->first_chunk * d->chunk_elems;

	d->input_sum = 0;
	for (size_t i = 0; i < total; i++) {
		uint32_t v = input_value(skip + i);

		d->input_data[i] = (float)v;
		d->input_sum += v;
	}
}

/* ---------------------------------------------------------------- the runs */

/* One chunk at a time on one queue: write, kernel, read, finish. */
static int
run_sequential(struct demo *d, struct run *r)
{
	struct clq_queue *q = d->queue[STAGE_UPLOAD];
	double t0 = r->start = example_now();
	int rc = CLQ_SUCCESS;

	r->epoch_start = epoch_now(); /* the JSON's; it said 0 */
	for (size_t c = 0; c < d->opt->chunks && rc == CLQ_SUCCESS; c++) {
		struct clq_event **ev = &r->ev[c * N_STAGES];

		if ((rc = enqueue_upload(d, q, c, 0, NULL, 0, &ev[0])) < 0 ||
		    (rc = enqueue_kernel(d, q, 0, d->iters, NULL, 0, &ev[1])) <
			    0 ||
		    (rc = enqueue_download(d, q, c, 0, NULL, 0, &ev[2])) < 0)
			break;
		rc = clq_queue_finish(q);
	}
	r->wall = example_now() - t0;
	return rc < 0 ? dfail(d, "running the sequential loop", rc) : rc;
}

/*
 * The pipeline. Each chunk takes a device buffer from the pool (the one
 * released longest ago), which comes with the events to wait for before
 * the buffer is overwritten: the download of the chunk that last used it.
 * The upload waits for those, the kernel for the upload, the download for
 * the kernel, and the download's event releases the buffer: each wait is
 * an event of another queue in the command's wait list, so the host never
 * blocks until the end.
 *
 * The first of those waits is the one a program forgets: in AUTO mode the
 * demo still takes buffers from the pool but leaves the pool's events out,
 * and clq adds the wait, having seen the download read the buffer that
 * the upload overwrites; in CHECK mode clq refuses an upload that lacks it
 * (--no-reuse-wait shows that).
 *
 * Downloads are enqueued one chunk behind (after the next chunk's upload
 * and kernel) so that with --queues 2 the next upload is not stuck behind a
 * download that must wait for the kernel; with 3 queues the order of
 * enqueueing across queues makes no difference to the device. So a buffer
 * is released one step after it was taken, and chunk c gets buffer c % B,
 * as with the fixed rotation that the pool replaces.
 */
static int
run_pipeline(struct demo *d, struct run *r)
{
	struct clq_queue *const *q = d->queue;
	size_t n = d->opt->chunks;
	size_t lag = d->opt->buffers > 1 ? 1 : 0;
	/* the buffers of the last two chunks, by chunk parity: the download
	 * of chunk c comes after chunk c + 1 took its buffer */
	size_t taken[2] = {0, 0};
	double t0 = r->start = example_now();

	r->epoch_start = epoch_now();
	int rc = CLQ_SUCCESS;

	for (size_t step = 0; step < n + lag && rc == CLQ_SUCCESS; step++) {
		if (step < n) {
			size_t c = step, b, n_reuse;
			struct clq_event **ev = &r->ev[c * N_STAGES];
			struct clq_event *const *reuse;

			/* Never blocks: the lag leaves at most one buffer
			 * taken, and with one buffer there is no lag. */
			rc = clq_pool_acquire(d->pool, 0, &b, &reuse, &n_reuse);
			if (rc < 0)
				break;
			if (!d->reuse_wait)
				n_reuse = 0;
			taken[c % 2] = b;
			rc = enqueue_upload(d, q[STAGE_UPLOAD], c, b,
					    n_reuse ? reuse : NULL, n_reuse,
					    &ev[STAGE_UPLOAD]);
			if (rc == CLQ_SUCCESS)
				rc = enqueue_kernel(d, q[STAGE_KERNEL], b,
						    d->iters, &ev[STAGE_UPLOAD],
						    1, &ev[STAGE_KERNEL]);
		}
		if (rc == CLQ_SUCCESS && step >= lag) {
			size_t c = step - lag;
			struct clq_event **ev = &r->ev[c * N_STAGES];
			size_t b = taken[c % 2];

			rc = enqueue_download(d, q[STAGE_DOWNLOAD], c, b,
					      &ev[STAGE_KERNEL], 1,
					      &ev[STAGE_DOWNLOAD]);
			/* free for reuse once the download has read it (a
			 * failed run leaves the pool unusable: it is one
			 * run's) */
			if (rc == CLQ_SUCCESS)
				rc = clq_pool_release(d->pool, b,
						      &ev[STAGE_DOWNLOAD], 1);
		}
		/* Start the device on the first chunk while the host
		 * enqueues the rest. */
		for (int s = 0; s < N_STAGES && rc == CLQ_SUCCESS; s++)
			rc = clq_queue_flush(q[s]);
	}
	for (int s = 0; s < N_STAGES; s++) {
		int frc = clq_queue_finish(q[s]);

		if (rc == CLQ_SUCCESS)
			rc = frc;
	}
	r->wall = example_now() - t0;
	return rc < 0 ? dfail(d, "running the pipeline", rc) : rc;
}

/* Runs one kind of run end to end: clear the output, run, check, time.
 * With `at_start_time`, the run starts at --start-at, once its output is
 * cleared (clearing 2 GiB took an H200's processes up to 23 ms apart);
 * --devices' threads pass false and devices_pipeline() releases them
 * together then. */
static int
measure(struct demo *d, int (*fn)(struct demo *, struct run *), struct run *r,
	bool at_start_time)
{
	int rc;

	*r = (struct run){0};
	r->ev = calloc(d->opt->chunks * N_STAGES, sizeof(*r->ev));
	if (r->ev)
		memset(d->output_data, 0,
		       d->opt->chunks * d->chunk_elems * sizeof(float));
	if (d->start_line) {
		struct start_line *line = d->start_line;

		pthread_mutex_lock(&line->lock);
		line->arrived++;
		pthread_cond_broadcast(&line->cond);
		while (line->state == 0)
			pthread_cond_wait(&line->cond, &line->lock);
		rc = line->state;
		pthread_mutex_unlock(&line->lock);
		if (rc < 0)
			return CL_OUT_OF_HOST_MEMORY;
	}
	if (!r->ev)
		return dfail(d, "allocating", CL_OUT_OF_HOST_MEMORY);
	if (at_start_time)
		wait_for_start(d->opt);
	if ((rc = fn(d, r)) < 0 || (rc = summarise(d, r)) < 0)
		return rc;
	r->mismatches = count_mismatches(d);
	return CLQ_SUCCESS;
}

/* ------------------------------------------------------------- balancing */

/* Median device seconds of `reps` runs of one stage on buffer 0. */
static int
time_stage(struct demo *d, int stage, unsigned iters, double *seconds)
{
	enum { REPS = 5 };
	struct clq_queue *q = d->queue[stage];
	double v[REPS];
	int rc = CLQ_SUCCESS;

	for (int i = 0; i < REPS && rc == CLQ_SUCCESS; i++) {
		struct clq_event *ev = NULL;

		if (stage == STAGE_UPLOAD)
			rc = enqueue_upload(d, q, 0, 0, NULL, 0, &ev);
		else if (stage == STAGE_KERNEL)
			rc = enqueue_kernel(d, q, 0, iters, NULL, 0, &ev);
		else
			rc = enqueue_download(d, q, 0, 0, NULL, 0, &ev);
		if (rc == CLQ_SUCCESS)
			rc = event_seconds(ev, &v[i]);
		clq_event_unref(ev);
	}
	if (rc == CLQ_SUCCESS)
		*seconds = median(v, REPS);
	return rc;
}

static unsigned
clamp_iters(double iters)
{
	if (!(iters >= 1))
		return 1;
	return iters > MAX_ITERS ? MAX_ITERS : (unsigned)lround(iters);
}

/*
 * --balance: the kernel's time grows with iters once its arithmetic, not
 * its memory traffic, dominates. Quadruple iters until the kernel takes at
 * least half the longer transfer, interpolate linearly between the last
 * two points, then correct once in proportion to the measured time.
 */
static int
balance(struct demo *d, double *target_out)
{
	double up, down, target, t_prev = 0, t;
	unsigned prev = 0, it = 1;
	int rc;

	if ((rc = time_stage(d, STAGE_UPLOAD, 0, &up)) < 0 ||
	    (rc = time_stage(d, STAGE_DOWNLOAD, 0, &down)) < 0)
		return dfail(d, "timing the transfers", rc);
	target = up > down ? up : down;
	for (;;) {
		if ((rc = time_stage(d, STAGE_KERNEL, it, &t)) < 0)
			return dfail(d, "timing the kernel", rc);
		if (t >= target / 2 || it >= MAX_ITERS)
			break;
		prev = it;
		t_prev = t;
		it = clamp_iters(4.0 * it);
	}
	if (prev && t > t_prev)
		it = clamp_iters(it +
				 (target - t) * (it - prev) / (t - t_prev));
	if ((rc = time_stage(d, STAGE_KERNEL, it, &t)) < 0)
		return dfail(d, "timing the kernel", rc);
	d->iters = clamp_iters(it * target / t);
	*target_out = target;
	return CLQ_SUCCESS;
}

/* --------------------------------------------------------------- report */

struct report {
	struct clq_device *device;
	struct run seq, pipe;
	double balance_target; /* 0 without --balance */
	double ideal, speedup, efficiency;
	double bottleneck_share; /* busiest queue's time per chunk / sum */
	double busy2; /* fraction of the device span with >= 2 running */
	const char *verdict;
	char reason[800];
};

static const char *
memory_kind(const struct demo *d)
{
	if (d->opt->pageable)
		return "pageable";
	return clq_host_array_is_pinned(d->input) ? "pinned"
						  : "page-aligned, not pinned";
}

/*
 * The ideal pipeline: the longest of the lower bounds that the stage times
 * set, each stage counted with the shorter of its medians (alone or
 * pipelined):
 * - each queue: its work for every chunk, plus the stages that must run
 *   before its first command and after its last; with 3 queues that is
 *   chunks x stage + the other stages once;
 * - each device buffer: the chunks that share it go through every stage one
 *   after another, so ceil(chunks / buffers) x (sum of the stages).
 */
static void
compute_ideal(const struct demo *d, struct report *rep)
{
	double s[N_STAGES], sum = 0, ideal, n = (double)d->opt->chunks;
	size_t per_buffer =
		(d->opt->chunks + d->opt->buffers - 1) / d->opt->buffers;

	for (int i = 0; i < N_STAGES; i++) {
		s[i] = fmin(rep->seq.stage[i], rep->pipe.stage[i]);
		sum += s[i];
	}
	if (d->opt->queues == 2) {
		double transfers = s[STAGE_UPLOAD] + s[STAGE_DOWNLOAD];

		ideal = fmax(n * transfers, n * s[STAGE_KERNEL] + transfers);
		rep->bottleneck_share = fmax(transfers, s[STAGE_KERNEL]) / sum;
	} else {
		double busiest = fmax(fmax(s[0], s[1]), s[2]);

		ideal = (n - 1) * busiest + sum;
		rep->bottleneck_share = busiest / sum;
	}
	rep->ideal = fmax(ideal, (double)per_buffer * sum);
	rep->speedup = rep->seq.wall / rep->pipe.wall;
	rep->efficiency = rep->ideal / rep->pipe.wall;
	rep->busy2 = rep->pipe.device_span > 0
			     ? rep->pipe.overlap / rep->pipe.device_span
			     : 0;
}

/* Why the device did not overlap the stages, most likely reason first. */
static const char *
explain(const struct demo *d, const struct report *rep)
{
	if (clq_device_get_type(rep->device) == CLQ_DEVICE_TYPE_CPU)
		return "this is a CPU device: its \"transfers\" are memory "
		       "copies on the cores that run the kernel, so the stages "
		       "take turns (any speedup comes from the host not "
		       "waiting after each chunk)";
	if (d->opt->pageable)
		return "the host memory is pageable: drivers (NVIDIA's among "
		       "them) stage such transfers through a pinned buffer of "
		       "their own and serialise them; run without --pageable";
	if (d->opt->buffers == 1)
		return "with one device buffer each chunk must leave the "
		       "device "
		       "before the next arrives; use --buffers 3";
	if (rep->bottleneck_share > 0.8)
		return "one queue takes over 80% of each chunk's time, so "
		       "overlap can hide little; try --balance";
	return "the device did not run commands of different queues "
	       "together";
}

/* Why an overlapping pipeline fell short of the ideal. */
static const char *
shortfall(const struct demo *d, const struct report *rep)
{
	bool one_way =
		d->opt->queues == 3 &&
		rep->pipe.transfers_overlap < 0.1 * rep->pipe.device_span;

	if (rep->ideal / (double)d->opt->chunks < 200e-6)
		return "chunks this short are dominated by the cost of "
		       "starting each command; try a larger --chunk-mib";
	if (d->opt->pageable)
		return "pageable transfers are staged by the driver through "
		       "a pinned buffer of its own (NVIDIA's among others), "
		       "which slows or serialises them; drop --pageable";
	if (one_way)
		return "uploads and downloads never ran together: the device "
		       "seems to copy one way at a time";
	if (clq_device_get_type(rep->device) == CLQ_DEVICE_TYPE_CPU)
		return "a CPU device runs transfers and kernels on the same "
		       "cores";
	return "the stages slowed each other down (compare the alone and "
	       "pipelined stage times)";
}

/* Why the pipeline took longer than the sequential loop. */
static const char *
slower(const struct demo *d, const struct report *rep)
{
	if (clq_device_get_type(rep->device) == CLQ_DEVICE_TYPE_CPU)
		return "this is a CPU device (as PoCL's is): the \"device\" "
		       "is the host's own cores, its transfers are memory "
		       "copies on the cores that run the kernel, so the "
		       "stages take turns, and the extra queues and the "
		       "events between them only add overhead";
	if (rep->busy2 >= OVERLAP_MIN)
		return shortfall(d, rep);
	return explain(d, rep);
}

/* The verdict and its reason; each reason gives the measured overlap and
 * speedup against the thresholds that define "overlapped". */
static void
judge(const struct demo *d, struct report *rep)
{
	char *r = rep->reason, rule[160];
	size_t size = sizeof(rep->reason);
	/* truncated, so that a value just under a threshold never prints as
	 * the threshold itself (24.96% as 25.0%) */
	double busy = floor(1000 * rep->busy2) / 10;
	double speedup = floor(100 * rep->speedup) / 100;
	bool overlapped = rep->busy2 >= OVERLAP_MIN;

	snprintf(rule, sizeof(rule),
		 "\"overlapped\" means two or more commands together >= "
		 "%.0f%% of the device time and >= %.2fx the speed of the "
		 "sequential loop",
		 100 * OVERLAP_MIN, SPEEDUP_MIN);
	if (rep->seq.mismatches || rep->pipe.mismatches) {
		rep->verdict = "wrong results";
		snprintf(r, size,
			 "%zu sequential and %zu pipelined elements differ "
			 "from the CPU reference",
			 rep->seq.mismatches, rep->pipe.mismatches);
	} else if (rep->speedup < 1) {
		rep->verdict = "slower than the sequential loop";
		snprintf(r, size,
			 "the pipeline took %.1f%% longer than the sequential "
			 "loop (%.2fx its speed) and ran two or more commands "
			 "together %.1f%% of the device time (%s): %s",
			 100 * (rep->pipe.wall / rep->seq.wall - 1), speedup,
			 busy, rule, slower(d, rep));
	} else if (overlapped && rep->speedup >= SPEEDUP_MIN) {
		rep->verdict = rep->efficiency >= 0.9
				       ? "overlapped"
				       : "overlapped, short of the ideal";
		snprintf(r, size,
			 "two or more commands ran together %.1f%% of the "
			 "device time and the pipeline ran %.2fx the speed "
			 "of the sequential loop (%s), %.0f%% of the ideal "
			 "pipeline%s%s",
			 busy, speedup, rule, 100 * rep->efficiency,
			 rep->efficiency < 0.9 ? "; " : "",
			 rep->efficiency < 0.9 ? shortfall(d, rep) : "");
	} else if (overlapped) {
		rep->verdict = "overlapped, but no faster";
		snprintf(r, size,
			 "two or more commands ran together %.1f%% of the "
			 "device time, but the pipeline ran only %.2fx the "
			 "speed of the sequential loop (%s): %s",
			 busy, speedup, rule, shortfall(d, rep));
	} else {
		rep->verdict = "no overlap";
		snprintf(r, size,
			 "two or more commands ran together %.1f%% of the "
			 "device time and the pipeline ran %.2fx the speed "
			 "of the sequential loop (%s): %s",
			 busy, speedup, rule, explain(d, rep));
	}
}

/* Columns to wrap the verdict to: $COLUMNS, else the terminal's width
 * when stdout is one, else 80; never under 40. */
static int
output_width(void)
{
	const char *columns = getenv("COLUMNS");
	struct winsize ws;
	long width = 80;
	char *end;

	if (columns && *columns) {
		errno = 0;
		width = strtol(columns, &end, 10);
		if (errno || *end || width <= 0)
			width = 80;
	} else if (isatty(STDOUT_FILENO) &&
		   ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
		   ws.ws_col > 0) {
		width = ws.ws_col;
	}
	return width < 40 ? 40 : width > 1000 ? 1000 : (int)width;
}

/* Prints `text` wrapped at spaces to `width` columns, lines after the
 * first indented by two spaces; a word longer than a line stands alone. */
static void
print_wrapped(const char *text, int width)
{
	int col = 0, indent = 0;

	while (*text) {
		size_t word = strcspn(text, " ");

		if (col > indent && col + 1 + (int)word > width) {
			fputs("\n  ", stdout);
			col = indent = 2;
		} else if (col > indent) {
			putchar(' ');
			col++;
		}
		fwrite(text, 1, word, stdout);
		col += (int)word;
		text += word;
		while (*text == ' ')
			text++;
	}
	putchar('\n');
}

static void
print_text(const struct demo *d, const struct report *rep)
{
	const struct options *o = d->opt;

	printf("device: %s (%s), %s host memory\n",
	       clq_device_get_name(rep->device),
	       clq_device_get_platform_name(rep->device), memory_kind(d));
	printf("work: %zu chunks of %.3g MiB (%zu floats), %zu buffers, %d "
	       "queues, %u iterations per element%s\n",
	       o->chunks, o->chunk_mib, d->chunk_elems, o->buffers, o->queues,
	       d->iters, o->balance ? " (balanced)" : "");
	printf("stage device time per chunk (median):  alone    pipelined\n");
	for (int s = 0; s < N_STAGES; s++)
		printf("  %-8s %27.3f ms %9.3f ms\n", stage_names[s],
		       rep->seq.stage[s] * 1e3, rep->pipe.stage[s] * 1e3);
	printf("sequential: %10.3f ms\n", rep->seq.wall * 1e3);
	printf("pipelined:  %10.3f ms  (speedup %.2fx)\n", rep->pipe.wall * 1e3,
	       rep->speedup);
	printf("ideal:      %10.3f ms  (efficiency %.2f)\n", rep->ideal * 1e3,
	       rep->efficiency);
	printf("device: two or more commands running for %.3f of %.3f ms "
	       "(%.0f%%), an upload and a download together for %.3f ms\n",
	       rep->pipe.overlap * 1e3, rep->pipe.device_span * 1e3,
	       100 * rep->busy2, rep->pipe.transfers_overlap * 1e3);
	printf("check: %s\n", rep->seq.mismatches || rep->pipe.mismatches
				      ? "MISMATCH"
				      : "both runs match the CPU reference");
	{
		char line[sizeof(rep->reason) + 64];

		snprintf(line, sizeof(line), "verdict: %s: %s", rep->verdict,
			 rep->reason);
		print_wrapped(line, output_width());
	}
}

static void
print_json_run(const char *name, const struct run *r)
{
	printf("  \"%s\": {\"wall_s\": %.9g, \"epoch_start_s\": %.6f, "
	       "\"device_span_s\": %.9g, "
	       "\"overlap_s\": %.9g, \"transfers_overlap_s\": %.9g, "
	       "\"mismatches\": %zu, \"stage_s\": {",
	       name, r->wall, r->epoch_start, r->device_span, r->overlap,
	       r->transfers_overlap, r->mismatches);
	for (int s = 0; s < N_STAGES; s++)
		printf("%s\"%s\": %.9g", s ? ", " : "", stage_names[s],
		       r->stage[s]);
	printf("}},\n");
}

static void
print_json(const struct demo *d, const struct report *rep)
{
	const struct options *o = d->opt;

	printf("{\n  \"format\": 1,\n  \"report\": \"device\",\n"
	       "  \"device\": ");
	example_print_json_string(clq_device_get_name(rep->device));
	printf(",\n  \"platform\": ");
	example_print_json_string(clq_device_get_platform_name(rep->device));
	printf(",\n  \"host_memory\": ");
	example_print_json_string(memory_kind(d));
	printf(",\n  \"chunk_bytes\": %zu,\n  \"chunks\": %zu,\n"
	       "  \"buffers\": %zu,\n  \"queues\": %d,\n  \"iters\": %u,\n"
	       "  \"balanced\": %s,\n  \"input_sum\": %llu,\n",
	       d->chunk_elems * sizeof(float), o->chunks, o->buffers, o->queues,
	       d->iters, o->balance ? "true" : "false",
	       (unsigned long long)d->input_sum);
	print_json_run("sequential", &rep->seq);
	print_json_run("pipelined", &rep->pipe);
	printf("  \"ideal_s\": %.9g,\n  \"speedup\": %.6g,\n"
	       "  \"efficiency\": %.6g,\n  \"overlap\": %.6g,\n"
	       "  \"overlap_threshold\": %g,\n  \"speedup_threshold\": %g,\n"
	       "  \"verdict\": ",
	       rep->ideal, rep->speedup, rep->efficiency, rep->busy2,
	       OVERLAP_MIN, SPEEDUP_MIN);
	example_print_json_string(rep->verdict);
	printf(",\n  \"reason\": ");
	example_print_json_string(rep->reason);
	printf("\n}\n");
}

/* ------------------------------------------------------------------- main */

/* One chunk through every stage in each device buffer, so that the timed
 * runs do not pay for first-use costs (kernel compilation, page mapping,
 * a driver allocating a buffer's memory when it is first used). */
static int
warm_up(struct demo *d)
{
	struct clq_queue *const *q = d->queue;
	size_t nbuf = d->opt->buffers;
	int rc = CLQ_SUCCESS;

	for (size_t b = 0; b < nbuf && rc == CLQ_SUCCESS; b++) {
		struct clq_event *ev[N_STAGES] = {NULL};
		size_t c = b % d->opt->chunks;

		if ((rc = enqueue_upload(d, q[STAGE_UPLOAD], c, b, NULL, 0,
					 &ev[0])) == CLQ_SUCCESS &&
		    (rc = enqueue_kernel(d, q[STAGE_KERNEL], b, d->iters,
					 &ev[0], 1, &ev[1])) == CLQ_SUCCESS &&
		    (rc = enqueue_download(d, q[STAGE_DOWNLOAD], c, b, &ev[1],
					   1, &ev[2])) == CLQ_SUCCESS)
			rc = clq_event_wait(ev[2]);
		for (int s = 0; s < N_STAGES; s++)
			clq_event_unref(ev[s]);
	}
	return rc < 0 ? dfail(d, "warming up", rc) : rc;
}

/* Writes one export of a timeline to `o`, opened by open_outputs() for
 * `path`; on failure empties it again, so that close_outputs() keeps
 * nothing of it. A regular file written in place is emptied first, not
 * when opened, so that a run that fails before leaves it as it was. */
static int export(struct clq_timeline *tl, const struct output *o,
		  const char *path, int (*write)(struct clq_timeline *, FILE *))
{
	FILE *f = o->file;
	bool emptied = !o->regular || o->temp || o->std_stream ||
		       ftruncate(fileno(f), 0) == 0;
	int rc = emptied ? write(tl, f) : CLQ_ERROR_IO;

	if (!emptied || (rc == CLQ_SUCCESS && fflush(f) != 0)) {
		fprintf(stderr, "double-buffer: cannot write %s: %s\n", path,
			strerror(errno));
		rc = CLQ_ERROR_IO;
	} else if (rc < 0) {
		fail(path, rc);
	}
	if (rc < 0 && !o->std_stream && ftruncate(fileno(f), 0) == 0)
		rewind(f);
	return rc;
}

/* --trace and --svg: the pipelined run's commands, a track per queue. */
static int
write_timeline(struct demo *d, const struct run *r)
{
	static const char *const labels[N_STAGES] = {"write", "kernel scale",
						     "read"};
	const char *tracks[N_STAGES] = {"upload queue", "kernel queue",
					"download queue"};
	struct clq_timeline *tl = NULL;
	char title[256];
	int rc;

	if (d->opt->queues == 2)
		tracks[STAGE_UPLOAD] = tracks[STAGE_DOWNLOAD] =
			"transfer queue";
	if ((rc = clq_timeline_create(d->ctx, &tl)) < 0)
		return fail("creating a timeline", rc);
	snprintf(title, sizeof(title),
		 "double-buffer: %zu chunks, %d queues, %zu buffers on %s",
		 d->opt->chunks, d->opt->queues, d->opt->buffers,
		 clq_device_get_name(clq_context_get_device(d->ctx)));
	if ((rc = clq_timeline_set_title(tl, title)) < 0) {
		clq_timeline_unref(tl);
		return fail("titling the timeline", rc);
	}
	for (size_t i = 0; i < d->opt->chunks * N_STAGES && rc == CLQ_SUCCESS;
	     i++)
		rc = clq_timeline_add_event(tl, r->ev[i], tracks[i % N_STAGES],
					    labels[i % N_STAGES]);
	if (rc < 0)
		fail("recording the timeline", rc);
	if (rc == CLQ_SUCCESS && d->opt->trace)
		rc = export(tl, &d->opt->trace_out, d->opt->trace,
			    clq_timeline_write_trace);
	if (rc == CLQ_SUCCESS && d->opt->svg)
		rc = export(tl, &d->opt->svg_out, d->opt->svg,
			    clq_timeline_write_svg);
	clq_timeline_unref(tl);
	return rc;
}

/* ---------------------------------------------------------- several devices */

/*
 * --devices: one context per device (DESIGN.md, "Scale": NVIDIA's OpenCL
 * moves buffers between the GPUs of one context below 1 GB/s, and each
 * GPU in a shared context costs memory even when unused). Each device is a
 * whole `struct demo` of its own: context, queues, program, buffers, pool,
 * and pinned host arrays for its block of chunks only (pinned memory
 * belongs to one context), so nothing crosses contexts but the report.
 */
struct devices {
	const struct options *opt;
	size_t n;
	struct options *opts; /* each device's: its spec and chunk count */
	struct demo *d;
	struct report *rep;
	/* host seconds: the pipelined runs, first start to last end; the
	 * sequential runs, one device after another, added up */
	double pipe_wall, seq_wall;
	double pipe_first; /* example_now() at the first pipeline's start */
	/* --trace/--svg: device k's clock minus device 0's (ns), measured
	 * before and after the pipelined run, and each measurement's error
	 * bound (seconds) */
	int64_t offset_ns[2][MAX_DEVICES];
	double offset_error[2][MAX_DEVICES];
};

/*
 * Two specs can select one device (0,0; a name matching the same first
 * device twice): that runs, a context each on the one device, but it is
 * not several devices, so say so.
 */
static void
warn_shared(const struct devices *m)
{
	for (size_t j = 0; j < m->n; j++) {
		const struct clq_device *dj = m->rep[j].device;
		size_t index = clq_device_get_index(dj), shared = 0;
		/* "devices 0 ('0'), 2 ('0') and 4 ('0')" */
		char list[MAX_DEVICES * (MAX_SPEC + 32)];
		size_t len = (size_t)snprintf(list, sizeof(list), "%zu ('%s')",
					      j, m->opt->device_specs[j]);
		bool first = true;

		for (size_t i = 0; i < j && first; i++)
			first = clq_device_get_index(m->rep[i].device) != index;
		for (size_t k = j + 1; first && k < m->n; k++) {
			size_t more = 0;

			if (clq_device_get_index(m->rep[k].device) != index)
				continue;
			for (size_t l = k + 1; l < m->n; l++)
				more += clq_device_get_index(
						m->rep[l].device) == index;
			shared++;
			len += (size_t)snprintf(list + len, sizeof(list) - len,
						"%s%zu ('%s')",
						more ? ", " : " and ", k,
						m->opt->device_specs[k]);
		}
		if (!shared)
			continue;
		fprintf(stderr,
			"double-buffer: warning: devices %s are one device, "
			"%zu (%zu:%zu) %s: each has its own context, queues "
			"and buffers, but they share the device, so the "
			"totals are not those of separate devices\n",
			list, index, clq_device_get_platform_index(dj),
			clq_device_get_index_in_platform(dj),
			clq_device_get_name(dj));
	}
}

/*
 * --devices --numa auto: binds the calling thread to the CPUs of the NUMA
 * node of the device that `opt` names, keeping its affinity in `old`, so
 * that what it allocates and first touches next (the context, the pinned
 * host arrays, the input) lands on that node, not on the other socket's,
 * whose memory the device would read across the link between the sockets.
 * A device that does not say where it is (PoCL's CPU device), or a system
 * that does not say what is close to it, keeps the placement without
 * --numa, silently: place->node stays -1.
 */
static void
place_near(const struct options *opt, struct numa_place *place,
	   struct numa_affinity *old)
{
	struct clq_device *dev = NULL;
	struct clq_pci_bus_info pci;
	struct numa_place found;
	int rc, err;

	place->node = -1;
	place->cpus[0] = '\0';
	/* demo_open() reports a bad spec; no PCI address is an answer */
	log_quiet = true;
	rc = clq_device_select(opt->device, &dev);
	if (rc == CLQ_SUCCESS)
		rc = clq_device_get_pci_bus_info(dev, &pci);
	log_quiet = false;
	clq_device_unref(dev);
	if (rc < 0 || numa_find("/sys", &pci, &found) < 0)
		return;
	err = numa_bind(&found, place->cpus, sizeof(place->cpus), old);
	if (err) {
		fprintf(stderr,
			"double-buffer: warning: device %d ('%s') is on NUMA "
			"node %d (CPUs %s), but this process may not run "
			"there (%s): its host memory goes where the system "
			"puts it\n",
			opt->device_no, opt->device, found.node, found.cpus,
			strerror(err));
		place->cpus[0] = '\0';
		return;
	}
	place->node = found.node;
}

static int
devices_open(struct devices *m, const struct options *opt)
{
	size_t first = 0;
	int rc;

	*m = (struct devices){.opt = opt, .n = opt->n_devices};
	m->opts = calloc(m->n, sizeof(*m->opts));
	m->d = calloc(m->n, sizeof(*m->d));
	m->rep = calloc(m->n, sizeof(*m->rep));
	if (!m->opts || !m->d || !m->rep)
		return fail("allocating", CL_OUT_OF_HOST_MEMORY);
	for (size_t k = 0; k < m->n; k++) {
		struct numa_affinity old = {0};
		struct numa_place place = {.node = -1};
		int err;

		/* consecutive blocks, the first chunks % n one chunk
		 * longer */
		m->opts[k] = *opt;
		m->opts[k].device = opt->device_specs[k];
		m->opts[k].device_no = (int)k;
		m->opts[k].chunks =
			opt->chunks / m->n + (k < opt->chunks % m->n);
		/* --numa auto: this device's setup on its node's CPUs,
		 * then the main thread's own affinity back (the pipeline
		 * threads bind themselves) */
		if (opt->numa)
			place_near(&m->opts[k], &place, &old);
		rc = demo_open(&m->d[k], &m->opts[k]);
		m->d[k].place = place;
		if (rc == CLQ_SUCCESS) {
			m->d[k].first_chunk = first;
			fill_input(&m->d[k]);
		}
		if ((err = numa_restore(&old)) != 0)
			fprintf(stderr,
				"double-buffer: warning: cannot give the main "
				"thread its CPUs back (%s)\n",
				strerror(err));
		if (rc < 0)
			return rc;
		first += m->opts[k].chunks;
		m->rep[k].device =
			clq_device_ref(clq_context_get_device(m->d[k].ctx));
	}
	warn_shared(m);
	return CLQ_SUCCESS;
}

static void
devices_close(struct devices *m)
{
	for (size_t k = 0; m->opts && k < m->n; k++) {
		if (m->rep) {
			run_release(&m->rep[k].seq, m->opts[k].chunks);
			run_release(&m->rep[k].pipe, m->opts[k].chunks);
			clq_device_unref(m->rep[k].device);
		}
		/* demo_close() reads d->opt: only opened ones have it */
		if (m->d && m->d[k].opt)
			demo_close(&m->d[k]);
	}
	free(m->opts);
	free(m->d);
	free(m->rep);
}

/*
 * Device k's clock minus device 0's, in nanoseconds: each timeline maps
 * the host's clock onto its device's (clq_timeline_host_begin()), so
 * reading device 0's, device k's, then device 0's again puts one host
 * instant on both clocks. The error bound adds both calibrations' errors
 * (clq_timeline_get_host_error()) and half the time between the two
 * readings of device 0.
 */
static int
clock_offset(struct demo *d0, struct demo *dk, int64_t *offset_ns,
	     double *error_s)
{
	struct clq_timeline *t0 = NULL, *tk = NULL;
	uint64_t a, b, c;
	int rc;

	if ((rc = clq_timeline_create(d0->ctx, &t0)) == CLQ_SUCCESS &&
	    (rc = clq_timeline_create(dk->ctx, &tk)) == CLQ_SUCCESS &&
	    (rc = clq_timeline_host_begin(t0, &a)) == CLQ_SUCCESS &&
	    (rc = clq_timeline_host_begin(tk, &b)) == CLQ_SUCCESS &&
	    (rc = clq_timeline_host_begin(t0, &c)) == CLQ_SUCCESS) {
		/* in integers: device times (ns since some epoch) can
		 * exceed a double's 53 bits */
		*offset_ns = (int64_t)(b - a) - (int64_t)((c - a) / 2);
		*error_s = clq_timeline_get_host_error(t0) +
			   clq_timeline_get_host_error(tk) +
			   0.5e-9 * (double)(c - a);
	}
	clq_timeline_unref(t0);
	clq_timeline_unref(tk);
	return rc < 0 ? dfail(dk, "aligning its clock with device 0's", rc)
		      : rc;
}

static int
clock_offsets(struct devices *m, int when)
{
	int rc = CLQ_SUCCESS;

	for (size_t k = 1; k < m->n && rc == CLQ_SUCCESS; k++)
		rc = clock_offset(&m->d[0], &m->d[k], &m->offset_ns[when][k],
				  &m->offset_error[when][k]);
	return rc;
}

/* Error bound of device k's times on device 0's axis, in seconds: the
 * worse calibration, plus half the change between them (the clocks'
 * drift over the run; the mean of the two is used). */
static double
offset_error(const struct devices *m, size_t k)
{
	return fmax(m->offset_error[0][k], m->offset_error[1][k]) +
	       0.5e-9 * fabs((double)(m->offset_ns[1][k] - m->offset_ns[0][k]));
}

/* The offset used: the mean of the two measured around the run. */
static int64_t
mean_offset(const struct devices *m, size_t k)
{
	return m->offset_ns[0][k] +
	       (m->offset_ns[1][k] - m->offset_ns[0][k]) / 2;
}

/* Device time `t` minus `offset` (both ns): -1 where that falls outside
 * 0..UINT64_MAX. */
static int
shift_time(uint64_t t, int64_t offset, uint64_t *out)
{
	uint64_t magnitude =
		offset >= 0 ? (uint64_t)offset : (uint64_t)(-(offset + 1)) + 1;

	if (offset >= 0 ? t < magnitude : t > UINT64_MAX - magnitude)
		return -1;
	*out = offset >= 0 ? t - magnitude : t + magnitude;
	return 0;
}

struct pipe_job {
	struct demo *d;
	struct run *r;
	int rc;
};

static void *
pipe_thread(void *arg)
{
	struct pipe_job *job = arg;
	char cpus[NUMA_CPUS_MAX];
	int err;

	/* on the CPUs that its setup ran on (--numa auto) */
	if (job->d->place.node >= 0 &&
	    (err = numa_bind(&job->d->place, cpus, sizeof(cpus), NULL)) != 0)
		fprintf(stderr,
			"double-buffer: warning: device %d's pipeline thread "
			"cannot run on CPUs %s (%s)\n",
			job->d->opt->device_no, job->d->place.cpus,
			strerror(err));
	job->rc = measure(job->d, run_pipeline, job->r, false);
	return NULL;
}

/* Every device's pipeline at once, a host thread each (so that one
 * device's clq_queue_finish() holds up no other), started together once
 * every thread has cleared its output. */
static int
devices_pipeline(struct devices *m)
{
	struct start_line line = {.lock = PTHREAD_MUTEX_INITIALIZER,
				  .cond = PTHREAD_COND_INITIALIZER};
	struct pipe_job job[MAX_DEVICES];
	pthread_t tid[MAX_DEVICES];
	size_t started = 0;
	double first = 0, last = 0;
	int rc = CLQ_SUCCESS;

	for (size_t k = 0; k < m->n; k++) {
		job[k] = (struct pipe_job){&m->d[k], &m->rep[k].pipe, 0};
		m->d[k].start_line = &line;
	}
	for (; started < m->n; started++)
		if (pthread_create(&tid[started], NULL, pipe_thread,
				   &job[started]) != 0)
			break;
	pthread_mutex_lock(&line.lock);
	while (started == m->n && line.arrived < m->n)
		pthread_cond_wait(&line.cond, &line.lock);
	pthread_mutex_unlock(&line.lock);
	if (started == m->n)
		wait_for_start(m->opt); /* outputs cleared: at --start-at */
	pthread_mutex_lock(&line.lock);
	/* a thread that did not start: the others give up */
	line.state = started == m->n ? 1 : -1;
	pthread_cond_broadcast(&line.cond);
	pthread_mutex_unlock(&line.lock);
	for (size_t k = 0; k < started; k++)
		pthread_join(tid[k], NULL);
	if (started < m->n)
		rc = fail("starting a thread", CL_OUT_OF_HOST_MEMORY);
	for (size_t k = 0; k < m->n; k++) {
		const struct run *r = &m->rep[k].pipe;

		m->d[k].start_line = NULL;
		if (rc == CLQ_SUCCESS && job[k].rc < 0)
			rc = job[k].rc;
		if (k == 0 || r->start < first)
			first = r->start;
		if (k == 0 || r->start + r->wall > last)
			last = r->start + r->wall;
	}
	m->pipe_first = first;
	m->pipe_wall = last - first;
	return rc;
}

/* Decimal gigabytes a second that `chunks` chunks took `seconds` for. */
static double
throughput(const struct demo *d, size_t chunks, double seconds)
{
	return seconds > 0 ? (double)(chunks * d->chunk_elems * sizeof(float)) /
				     seconds * 1e-9
			   : 0;
}

static size_t
devices_mismatches(const struct devices *m)
{
	size_t bad = 0;

	for (size_t k = 0; k < m->n; k++)
		bad += m->rep[k].seq.mismatches + m->rep[k].pipe.mismatches;
	return bad;
}

/* --trace and --svg: one timeline in device 0's context, a track per
 * device and queue; the other devices' commands moved onto device 0's
 * clock by the offsets measured around the run. */
static int
devices_timeline(struct devices *m)
{
	static const char *const labels[N_STAGES] = {"write", "kernel scale",
						     "read"};
	const char *queues[N_STAGES] = {"upload queue", "kernel queue",
					"download queue"};
	struct clq_timeline *tl = NULL;
	char title[512];
	size_t len;
	int rc;

	if (m->opt->queues == 2)
		queues[STAGE_UPLOAD] = queues[STAGE_DOWNLOAD] =
			"transfer queue";
	if ((rc = clq_timeline_create(m->d[0].ctx, &tl)) < 0)
		return fail("creating a timeline", rc);
	len = (size_t)snprintf(title, sizeof(title),
			       "double-buffer: %zu chunks on %zu devices, %d "
			       "queues, %zu buffers each:",
			       m->opt->chunks, m->n, m->opt->queues,
			       m->opt->buffers);
	for (size_t k = 0; k < m->n && len < sizeof(title); k++)
		len += (size_t)snprintf(title + len, sizeof(title) - len,
					"%s %zu: %s", k ? "," : "", k,
					clq_device_get_name(m->rep[k].device));
	rc = clq_timeline_set_title(tl, title);
	for (size_t k = 0; k < m->n && rc == CLQ_SUCCESS; k++) {
		const struct demo *d = &m->d[k];
		int64_t offset = k ? mean_offset(m, k) : 0;
		/* every device's commands the same way, device 0's too
		 * (shifted by 0): a span each, its bytes those of the
		 * transfers, none for the kernel */
		uint64_t chunk_bytes = d->chunk_elems * sizeof(float);

		for (size_t i = 0;
		     i < d->opt->chunks * N_STAGES && rc == CLQ_SUCCESS; i++) {
			struct clq_event *ev = m->rep[k].pipe.ev[i];
			struct clq_event_times t;
			char track[64];
			uint64_t start, end;

			snprintf(track, sizeof(track), "device %zu %s", k,
				 queues[i % N_STAGES]);
			if ((rc = clq_event_get_times(ev, &t)) < 0)
				break;
			if (shift_time(t.start, offset, &start) < 0 ||
			    shift_time(t.end, offset, &end) < 0) {
				fprintf(stderr,
					"double-buffer: device %zu's clock "
					"is %lld ns from device 0's: its "
					"commands fall off the time axis\n",
					k, (long long)offset);
				rc = CLQ_ERROR_OVERFLOW;
				break;
			}
			rc = clq_timeline_add_span(
				tl, track, labels[i % N_STAGES], start, end,
				i % N_STAGES == STAGE_KERNEL ? 0 : chunk_bytes);
		}
	}
	if (rc < 0)
		fail("recording the timeline", rc);
	if (rc == CLQ_SUCCESS && m->opt->trace)
		rc = export(tl, &m->opt->trace_out, m->opt->trace,
			    clq_timeline_write_trace);
	if (rc == CLQ_SUCCESS && m->opt->svg)
		rc = export(tl, &m->opt->svg_out, m->opt->svg,
			    clq_timeline_write_svg);
	clq_timeline_unref(tl);
	return rc;
}

static int
devices_run(struct devices *m)
{
	bool timeline = m->opt->trace || m->opt->svg;
	int rc;

	/* each device's input was filled by devices_open() */
	for (size_t k = 0; k < m->n; k++)
		if ((rc = warm_up(&m->d[k])) < 0)
			return rc;
	/* --balance: device 0 picks the iterations, so that every device
	 * does the same work per element */
	if (m->opt->balance) {
		if ((rc = balance(&m->d[0], &m->rep[0].balance_target)) < 0)
			return rc;
		for (size_t k = 1; k < m->n; k++)
			m->d[k].iters = m->d[0].iters;
	}
	/* the sequential loop: one device after another */
	for (size_t k = 0; k < m->n; k++) {
		if ((rc = measure(&m->d[k], run_sequential, &m->rep[k].seq,
				  false)) < 0)
			return rc;
		m->seq_wall += m->rep[k].seq.wall;
	}
	if (timeline && (rc = clock_offsets(m, 0)) < 0)
		return rc;
	if ((rc = devices_pipeline(m)) < 0 ||
	    (timeline && (rc = clock_offsets(m, 1)) < 0))
		return rc;
	for (size_t k = 0; k < m->n; k++) {
		compute_ideal(&m->d[k], &m->rep[k]);
		judge(&m->d[k], &m->rep[k]);
	}
	return timeline ? devices_timeline(m) : CLQ_SUCCESS;
}

static void
devices_print_text(const struct devices *m)
{
	const struct options *o = m->opt;
	const struct demo *d0 = &m->d[0];
	size_t bad = devices_mismatches(m);

	printf("devices: %zu, one context each\n", m->n);
	printf("work: %zu chunks of %.3g MiB (%zu floats) in blocks of "
	       "consecutive chunks, %zu buffers and %d queues per device, %u "
	       "iterations per element%s\n",
	       o->chunks, o->chunk_mib, d0->chunk_elems, o->buffers, o->queues,
	       d0->iters, o->balance ? " (balanced on device 0)" : "");
	for (size_t k = 0; k < m->n; k++) {
		const struct demo *d = &m->d[k];
		const struct report *rep = &m->rep[k];
		char line[sizeof(rep->reason) + 64];

		printf("device %zu: %s (%s) at %zu:%zu (spec '%s'), %s host "
		       "memory, chunks %zu-%zu\n",
		       k, clq_device_get_name(rep->device),
		       clq_device_get_platform_name(rep->device),
		       clq_device_get_platform_index(rep->device),
		       clq_device_get_index_in_platform(rep->device),
		       o->device_specs[k], memory_kind(d), d->first_chunk,
		       d->first_chunk + d->opt->chunks - 1);
		if (!o->numa)
			printf("  NUMA: off (threads not bound: host memory "
			       "on the node the main thread ran on)\n");
		else if (d->place.node < 0)
			printf("  NUMA: unknown (the device or the system does "
			       "not say where it is; threads not bound)\n");
		else
			printf("  NUMA: node %d, CPUs %s (host memory "
			       "allocated and filled, and the pipeline run, "
			       "there)\n",
			       d->place.node, d->place.cpus);
		printf("  stage device time per chunk (median):  alone    "
		       "pipelined\n");
		for (int s = 0; s < N_STAGES; s++)
			printf("    %-8s %25.3f ms %9.3f ms\n", stage_names[s],
			       rep->seq.stage[s] * 1e3,
			       rep->pipe.stage[s] * 1e3);
		printf("  sequential: %10.3f ms  %8.3f GB/s\n",
		       rep->seq.wall * 1e3,
		       throughput(d, d->opt->chunks, rep->seq.wall));
		printf("  pipelined:  %10.3f ms  %8.3f GB/s  (speedup "
		       "%.2fx)\n",
		       rep->pipe.wall * 1e3,
		       throughput(d, d->opt->chunks, rep->pipe.wall),
		       rep->speedup);
		printf("  ideal:      %10.3f ms  (efficiency %.2f)\n",
		       rep->ideal * 1e3, rep->efficiency);
		snprintf(line, sizeof(line), "verdict: %s: %s", rep->verdict,
			 rep->reason);
		print_wrapped(line, output_width());
	}
	printf("total sequential (one device after another): %10.3f ms  "
	       "%8.3f GB/s\n",
	       m->seq_wall * 1e3, throughput(d0, o->chunks, m->seq_wall));
	printf("total pipelined (all devices at once):       %10.3f ms  "
	       "%8.3f GB/s  (speedup %.2fx)\n",
	       m->pipe_wall * 1e3, throughput(d0, o->chunks, m->pipe_wall),
	       m->pipe_wall > 0 ? m->seq_wall / m->pipe_wall : 0);
	if (o->trace || o->svg)
		for (size_t k = 1; k < m->n; k++)
			printf("timeline: device %zu's times on device 0's "
			       "clock within %.1f us\n",
			       k, offset_error(m, k) * 1e6);
	printf("check: %s\n", bad ? "MISMATCH"
				  : "both runs match the CPU reference on "
				    "every device");
}

static void
devices_print_json(const struct devices *m)
{
	const struct options *o = m->opt;
	const struct demo *d0 = &m->d[0];
	uint64_t input_sum = 0;

	printf("{\n  \"format\": 1,\n  \"report\": \"devices\",\n"
	       "  \"chunk_bytes\": %zu,\n  \"chunks\": %zu,\n  \"buffers\": "
	       "%zu,\n  \"queues\": %d,\n"
	       "  \"iters\": %u,\n  \"balanced\": %s,\n  \"numa\": \"%s\",\n"
	       "  \"devices\": [\n",
	       d0->chunk_elems * sizeof(float), o->chunks, o->buffers,
	       o->queues, d0->iters, o->balance ? "true" : "false",
	       o->numa ? "auto" : "off");
	for (size_t k = 0; k < m->n; k++) {
		const struct demo *d = &m->d[k];
		const struct report *rep = &m->rep[k];

		printf("  {\n  \"spec\": ");
		example_print_json_string(o->device_specs[k]);
		printf(",\n  \"device\": ");
		example_print_json_string(clq_device_get_name(rep->device));
		printf(",\n  \"platform\": ");
		example_print_json_string(
			clq_device_get_platform_name(rep->device));
		printf(",\n  \"device_index\": %zu,\n  \"platform_index\": %zu,"
		       "\n  \"index_in_platform\": %zu",
		       clq_device_get_index(rep->device),
		       clq_device_get_platform_index(rep->device),
		       clq_device_get_index_in_platform(rep->device));
		printf(",\n  \"host_memory\": ");
		example_print_json_string(memory_kind(d));
		/* null: unknown, or --numa off */
		if (d->place.node >= 0) {
			printf(",\n  \"numa_node\": %d,\n  \"numa_cpus\": ",
			       d->place.node);
			example_print_json_string(d->place.cpus);
		} else {
			printf(",\n  \"numa_node\": null,\n"
			       "  \"numa_cpus\": null");
		}
		printf(",\n  \"first_chunk\": %zu,\n  \"chunks\": %zu,\n"
		       "  \"input_sum\": %llu,\n",
		       d->first_chunk, d->opt->chunks,
		       (unsigned long long)d->input_sum);
		print_json_run("sequential", &rep->seq);
		print_json_run("pipelined", &rep->pipe);
		/* host seconds after the first device's pipeline started */
		printf("  \"pipelined_start_s\": %.9g,\n",
		       rep->pipe.start - m->pipe_first);
		printf("  \"sequential_gb_s\": %.6g,\n"
		       "  \"pipelined_gb_s\": %.6g,\n",
		       throughput(d, d->opt->chunks, rep->seq.wall),
		       throughput(d, d->opt->chunks, rep->pipe.wall));
		printf("  \"ideal_s\": %.9g,\n  \"speedup\": %.6g,\n"
		       "  \"efficiency\": %.6g,\n  \"overlap\": %.6g,\n",
		       rep->ideal, rep->speedup, rep->efficiency, rep->busy2);
		if (k && (o->trace || o->svg))
			printf("  \"clock_offset_ns\": %lld,\n"
			       "  \"clock_error_s\": %.9g,\n",
			       (long long)mean_offset(m, k),
			       offset_error(m, k));
		printf("  \"verdict\": ");
		example_print_json_string(rep->verdict);
		printf(",\n  \"reason\": ");
		example_print_json_string(rep->reason);
		printf("\n  }%s\n", k + 1 < m->n ? "," : "");
	}
	for (size_t k = 0; k < m->n; k++)
		input_sum += m->d[k].input_sum;
	printf("  ],\n  \"total\": {\"sequential_s\": %.9g, \"pipelined_s\": "
	       "%.9g, \"sequential_gb_s\": %.6g, \"pipelined_gb_s\": %.6g, "
	       "\"speedup\": %.6g, \"mismatches\": %zu, \"input_sum\": "
	       "%llu}\n}\n",
	       m->seq_wall, m->pipe_wall,
	       throughput(d0, o->chunks, m->seq_wall),
	       throughput(d0, o->chunks, m->pipe_wall),
	       m->pipe_wall > 0 ? m->seq_wall / m->pipe_wall : 0,
	       devices_mismatches(m), (unsigned long long)input_sum);
}

/* The exit status for a run that ended with `rc` (1: mismatches): 2 for
 * a malformed device spec, an error in the command line as any other. */
static int
exit_status(int rc)
{
	if (rc == CLQ_ERROR_BAD_DEVICE_SPEC)
		return 2;
	return rc ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int
devices_main(const struct options *opt)
{
	struct devices m;
	int rc = devices_open(&m, opt);

	if (rc == CLQ_SUCCESS && (rc = devices_run(&m)) == CLQ_SUCCESS) {
		if (opt->json)
			devices_print_json(&m);
		else
			devices_print_text(&m);
	}
	if (rc == CLQ_SUCCESS && devices_mismatches(&m))
		rc = 1;
	devices_close(&m);
	return exit_status(rc);
}

static int
run_demo(struct demo *d, struct report *rep)
{
	int rc;

	fill_input(d);
	if ((rc = warm_up(d)) < 0)
		return rc;
	if (d->opt->balance && (rc = balance(d, &rep->balance_target)) < 0)
		return rc;
	if ((rc = measure(d, run_sequential, &rep->seq, false)) < 0)
		return rc;
	if ((rc = measure(d, run_pipeline, &rep->pipe, true)) < 0)
		return rc;
	compute_ideal(d, rep);
	judge(d, rep);
	if (d->opt->trace || d->opt->svg)
		return write_timeline(d, &rep->pipe);
	return CLQ_SUCCESS;
}

/* Says that `path` cannot be written, and why (errno); returns -1. */
static int
cannot_write(const char *path)
{
	fprintf(stderr, "double-buffer: cannot write %s: %s\n", path,
		strerror(errno));
	return -1;
}

/* open_output() failed (errno says why): closes `fd` (unless -1),
 * removes what it made, and says why unless `said`. Returns -1. */
static int
open_failed(struct output *o, const char *path, int fd, bool said)
{
	int err = errno;

	if (fd >= 0)
		close(fd);
	if (o->path_fd >= 0)
		close(o->path_fd);
	o->path_fd = -1;
	if (o->temp)
		remove(o->temp);
	free(o->temp);
	o->temp = NULL;
	if (o->created)
		remove(path);
	o->created = false;
	errno = err;
	return said ? -1 : cannot_write(path);
}

/* stdout or stderr where `st` is the regular file it writes to, else
 * NULL. `fd`, the path's, is none of theirs: it has the number of one
 * that was closed (`>&-`). */
static FILE *
std_stream_of(const struct stat *st, int fd)
{
	static const int fds[] = {STDOUT_FILENO, STDERR_FILENO};
	FILE *streams[] = {stdout, stderr};
	struct stat sst;

	if (!S_ISREG(st->st_mode))
		return NULL;
	for (int i = 0; i < 2; i++)
		if (fds[i] != fd && fstat(fds[i], &sst) == 0 &&
		    sst.st_dev == st->st_dev && sst.st_ino == st->st_ino)
			return streams[i];
	return NULL;
}

/* Opens `o` for `path`: checks that the path can be written (creating
 * it when absent) and, for a regular file, opens a temporary file beside
 * it with its permissions where the directory takes one. -1 (said why)
 * when it cannot. */
static int
open_output(struct output *o, const char *path)
{
	struct stat st, lst;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);

	o->path_fd = -1;
	o->created = fd >= 0;
	if (fd < 0 && errno == EEXIST)
		fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0)
		return open_failed(o, path, fd, false);
	o->regular = S_ISREG(st.st_mode);
	o->dev = st.st_dev;
	o->ino = st.st_ino;
	if (!o->created && (o->file = std_stream_of(&st, fd))) {
		o->std_stream = true;
		close(fd);
		return 0;
	}
	if (S_ISREG(st.st_mode) && lstat(path, &lst) == 0 &&
	    S_ISREG(lst.st_mode)) {
		/* The file at the path itself: written beside it, else (a
		 * directory that takes no new file, a name too long for the
		 * suffix) in place, as the old file could be. */
		o->temp = malloc(strlen(path) + sizeof(".XXXXXX"));
		if (!o->temp) {
			errno = ENOMEM;
			return open_failed(o, path, fd, false);
		}
		sprintf(o->temp, "%s.XXXXXX", path);
		o->path_fd = fd;
		fd = mkstemp(o->temp);
		if (fd < 0) {
			free(o->temp);
			o->temp = NULL;
			fd = o->path_fd;
			o->path_fd = -1;
		} else if (fchmod(fd, st.st_mode & 07777) != 0) {
			return open_failed(o, path, fd, false);
		}
		/* a rename would part the file from its other names and
		 * make it this user's, group's */
		o->copy_back = st.st_nlink > 1 || st.st_uid != geteuid() ||
			       st.st_gid != getegid();
	}
	o->file = fdopen(fd, "w");
	return o->file ? 0 : open_failed(o, path, fd, false);
}

/* --trace and --svg: opens each for writing; -1 (said why) when one
 * cannot be, or when both name one regular file (each export would overwrite the
 * other's from its start: a file of neither format). */
static int
open_outputs(struct options *opt)
{
	if ((opt->trace && open_output(&opt->trace_out, opt->trace) < 0) ||
	    (opt->svg && open_output(&opt->svg_out, opt->svg) < 0))
		return -1;
	if (opt->trace && opt->svg && opt->trace_out.regular &&
	    opt->svg_out.regular && opt->trace_out.dev == opt->svg_out.dev &&
	    opt->trace_out.ino == opt->svg_out.ino) {
		fprintf(stderr,
			"double-buffer: --trace %s and --svg %s name the same "
			"file\n",
			opt->trace, opt->svg);
		return -1;
	}
	return 0;
}

/* Removes `path` if it is still the file open_output() created.
 * Async-signal-safe (discard_outputs()). */
static void
remove_created(const struct output *o, const char *path)
{
	struct stat st;

	if (o->created && lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_dev == o->dev && st.st_ino == o->ino)
		unlink(path);
}

/* Copies the file at `from` into `to_fd`, emptied first: the rename's
 * fallback. `from` is the temporary file, made with the path's mode,
 * which may not let its owner read it (0200): made readable first. -1
 * (errno says why) on failure. */
static int
copy_into(const char *from, int to_fd)
{
	char buf[65536];
	int in, err;
	ssize_t got, put = 0;

	chmod(from, S_IRUSR | S_IWUSR);
	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	if (ftruncate(to_fd, 0) != 0 || lseek(to_fd, 0, SEEK_SET) != 0)
		got = -1;
	else
		while ((got = read(in, buf, sizeof(buf))) > 0)
			for (ssize_t done = 0; done < got; done += put)
				if ((put = write(to_fd, buf + done,
						 (size_t)(got - done))) < 0)
					goto out;
out:
	err = errno;
	close(in);
	errno = err;
	return got < 0 || put < 0 ? -1 : 0;
}

/* Closes `o`. Written (not empty, export() empties a failed one): its
 * temporary file replaces `path`, or is copied into it where the rename
 * fails (a sticky directory, the file another user's) or would change
 * the file (`copy_back`: hard links, owner, group). Else the temporary
 * file goes, and the path too when open_output() created it. -1 (said
 * why) when closing, or both the rename and the copy, failed. */
static int
close_output(struct output *o, const char *path)
{
	struct stat st;
	bool bad, written, copied = false;

	if (!o->file)
		return 0;
	if (o->std_stream) {
		bad = fflush(o->file) != 0;
		o->file = NULL;
		return bad ? cannot_write(path) : 0;
	}
	bad = fflush(o->file) != 0;
	written = !bad && fstat(fileno(o->file), &st) == 0 &&
		  (st.st_size > 0 || !S_ISREG(st.st_mode));
	bad = fclose(o->file) != 0 || bad;
	o->file = NULL;
	if (bad)
		cannot_write(path);
	if (o->temp && written && !bad &&
	    (o->copy_back || rename(o->temp, path) != 0)) {
		copied = copy_into(o->temp, o->path_fd) == 0;
		if (!copied)
			bad = cannot_write(path) < 0;
	}
	if (o->temp && (!written || bad || copied))
		remove(o->temp);
	if (!written || bad)
		remove_created(o, path);
	if (o->path_fd >= 0 && close(o->path_fd) != 0 && !bad)
		bad = cannot_write(path) < 0;
	o->path_fd = -1;
	free(o->temp);
	o->temp = NULL;
	return bad ? -1 : 0;
}

/* The options whose outputs discard_outputs() removes on a signal: set
 * once open_outputs() has opened them, NULL from close_outputs() on. */
static struct options *volatile outputs_open;

/* Closes what open_outputs() opened (close_output()). */
static int
close_outputs(struct options *opt)
{
	int rc = 0;

	outputs_open = NULL;
	if (opt->trace && close_output(&opt->trace_out, opt->trace) < 0)
		rc = -1;
	if (opt->svg && close_output(&opt->svg_out, opt->svg) < 0)
		rc = -1;
	return rc;
}

/* SIGINT, SIGTERM, SIGHUP (Ctrl-C while --start-at waits, say), SIGPIPE
 * (an output's pipe closed by its reader, as `| head` does): removes
 * the temporary files, and the paths open_output() created, as a failed
 * run does (they were left behind), then dies of the signal. Only
 * async-signal-safe calls. */
static void
discard_outputs(int sig)
{
	struct options *opt = outputs_open;
	struct output *o[2] = {opt ? &opt->trace_out : NULL,
			       opt ? &opt->svg_out : NULL};
	const char *path[2] = {opt ? opt->trace : NULL, opt ? opt->svg : NULL};

	for (int i = 0; i < 2; i++) {
		if (!path[i] || !o[i]->file)
			continue;
		if (o[i]->temp)
			unlink(o[i]->temp);
		remove_created(o[i], path[i]);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Arms discard_outputs() for `opt`'s outputs. */
static void
discard_outputs_on_signals(struct options *opt)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
	struct sigaction sa = {.sa_handler = discard_outputs};

	if (!opt->trace && !opt->svg)
		return;
	outputs_open = opt;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;

		/* a signal ignored (nohup, a shell's background job) stays so */
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	}
}

/* One device (--device, or the default): the demo, its report, its
 * exit status. */
static int
single_main(const struct options *opt)
{
	struct demo d;
	struct report rep = {0};
	int rc = demo_open(&d, opt);

	if (rc == CLQ_SUCCESS)
		rep.device = clq_device_ref(clq_context_get_device(d.ctx));
	if (rc == CLQ_SUCCESS && (rc = run_demo(&d, &rep)) == CLQ_SUCCESS) {
		if (opt->json)
			print_json(&d, &rep);
		else
			print_text(&d, &rep);
	}
	run_release(&rep.seq, opt->chunks);
	run_release(&rep.pipe, opt->chunks);
	clq_device_unref(rep.device);
	demo_close(&d);
	if (rc == CLQ_SUCCESS && (rep.seq.mismatches || rep.pipe.mismatches))
		rc = 1;
	return exit_status(rc);
}

int
main(int argc, char **argv)
{
	struct options opt;
	int rc;

	if ((rc = parse_options(argc, argv, &opt)) != 0)
		return rc > 0 ? EXIT_SUCCESS : 2;
	if (open_outputs(&opt) < 0) {
		close_outputs(&opt);
		return 2;
	}
	discard_outputs_on_signals(&opt);
	clq_set_log_handler(log_handler, NULL);
	rc = opt.n_devices ? devices_main(&opt) : single_main(&opt);
	if (close_outputs(&opt) < 0)
		rc = EXIT_FAILURE;
	return rc;
}
