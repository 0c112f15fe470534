/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * clq-time: times transfers, kernels and latencies on any OpenCL device.
 *
 *   clq-time devices                      every device, with its specs
 *   clq-time transfer [--size LIST]       host<->device and device copies
 *   clq-time kernel FILE.cl NAME ...      a user kernel
 *   clq-time latency                      round trips, launch, enqueue cost
 *
 * Device times come from profiling events (start to end of each command);
 * wall times from the host's monotonic clock around one enqueue and the
 * wait for it. Each measurement is warmed up twice, then repeated as often
 * as --budget allows (at least MIN_RUNS times); on --trace and --svg
 * timelines the warm-ups are labelled "warm-up ...". `clq-time --help` and
 * `clq-time COMMAND --help` describe the options; --json prints a document
 * whose "format" field is FORMAT_VERSION (bumped on any incompatible
 * change) and whose times are all seconds, in fields named "..._s".
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <clq/clq.h>

#define FORMAT_VERSION 2
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

struct command;

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

/* The open device and the one profiling queue every command runs on. */
struct session {
	const struct options *opt;
	struct clq_context *ctx;
	struct clq_device *device;
	struct clq_queue *queue;
	struct clq_timeline *timeline; /* with --trace or --svg */
};

enum { MEMORY_PINNED = 1, MEMORY_PAGEABLE = 2, MEMORY_DEVICE = 4 };

struct stats {
	size_t n;
	double min, median, max;
};

static void
log_to_stderr(enum clq_log_level level, const char *message, void *user_data)
{
	(void)user_data;
	if (level <= CLQ_LOG_WARNING)
		fprintf(stderr, "clq: %s\n", message);
}

static int
fail(const char *what, int rc)
{
	fprintf(stderr, "clq-time: %s: %s (%s)\n", what, clq_error_name(rc),
		clq_strerror(rc));
	return rc;
}

/* The command being parsed, for the help that a usage error points to. */
static const char *usage_command;

static int
usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("clq-time: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'clq-time %s%s--help'.\n",
		usage_command ? usage_command : "", usage_command ? " " : "");
	return USAGE_FAILED;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int
compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts `v` in place. */
static struct stats
stats_of(double *v, size_t n)
{
	struct stats s = {n, 0, 0, 0};

	if (n == 0)
		return s;
	qsort(v, n, sizeof(*v), compare_doubles);
	s.min = v[0];
	s.max = v[n - 1];
	s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
	return s;
}

/* Runs the budget allows when one takes `one` seconds. */
static size_t
runs_for(double budget, double one)
{
	double n = one > 0 ? budget / one : MAX_RUNS;

	if (n < MIN_RUNS)
		return MIN_RUNS;
	return n > MAX_RUNS ? MAX_RUNS : (size_t)n;
}

/* ------------------------------------------------------------------ JSON */

static void
json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* A number, or null for one that JSON cannot hold (inf, nan). */
static void
json_number(double x)
{
	if (isfinite(x))
		printf("%.9g", x);
	else
		fputs("null", stdout);
}

/* {"n": N, "min": x, "median": x, "max": x}, in seconds like every time
 * in the document. */
static void
json_stats(struct stats s)
{
	printf("{\"n\": %zu, \"min\": ", s.n);
	json_number(s.min);
	fputs(", \"median\": ", stdout);
	json_number(s.median);
	fputs(", \"max\": ", stdout);
	json_number(s.max);
	putchar('}');
}

static const char *
type_name(enum clq_device_type type)
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

static void
json_device(const struct clq_device *d)
{
	printf("{\"index\": %zu, \"spec\": \"%zu:%zu\", \"name\": ",
	       clq_device_get_index(d), clq_device_get_platform_index(d),
	       clq_device_get_index_in_platform(d));
	json_string(clq_device_get_name(d));
	fputs(", \"vendor\": ", stdout);
	json_string(clq_device_get_vendor(d));
	fputs(", \"platform\": ", stdout);
	json_string(clq_device_get_platform_name(d));
	fputs(", \"driver\": ", stdout);
	json_string(clq_device_get_driver_version(d));
	printf(", \"opencl\": %u, \"type\": \"%s\", \"compute_units\": %u, "
	       "\"global_memory\": %llu, \"max_alloc\": %llu, "
	       "\"local_memory\": %llu, \"max_work_group_size\": %zu, "
	       "\"simd_group_size\": %zu, \"timer_resolution_s\": ",
	       clq_device_get_opencl_version_number(d),
	       type_name(clq_device_get_type(d)),
	       clq_device_get_compute_units(d),
	       (unsigned long long)clq_device_get_global_memory(d),
	       (unsigned long long)clq_device_get_max_alloc_size(d),
	       (unsigned long long)clq_device_get_local_memory(d),
	       clq_device_get_max_work_group_size(d),
	       clq_device_get_simd_group_size(d));
	/* the driver reports nanoseconds */
	json_number((double)clq_device_get_timer_resolution(d) * 1e-9);
	printf(", \"profiling\": %s}",
	       clq_device_can_profile(d) ? "true" : "false");
}

/* Opens the JSON document: {"tool", "format", "command", "device". */
static void
json_begin(const char *command, const struct clq_device *device)
{
	printf("{\n  \"tool\": \"clq-time\",\n  \"format\": %d,\n"
	       "  \"clq_version\": ",
	       FORMAT_VERSION);
	json_string(clq_version());
	printf(",\n  \"command\": \"%s\"", command);
	if (device) {
		fputs(",\n  \"device\": ", stdout);
		json_device(device);
	}
}

/* ---------------------------------------------------------------- parsing */

/*
 * A count: digits with an optional fraction or exponent and an optional
 * suffix K, M or G in either case (powers of 1024, as for every count the
 * tool reads), e.g. 4096, 64K, 1.5M, 2e9; a byte count may end in B or
 * iB (64KiB, 4096B). The value must be a whole number below 2^63.
 */
static int
parse_count(const char *s, bool bytes, size_t *out)
{
	char *end;
	double v, unit = 1;

	if (!((*s >= '0' && *s <= '9') || *s == '.'))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || !(v >= 0))
		return -1;
	switch (*end) {
	case 'K':
	case 'k':
		unit = 1024.0;
		break;
	case 'M':
	case 'm':
		unit = 1024.0 * 1024;
		break;
	case 'G':
	case 'g':
		unit = 1024.0 * 1024 * 1024;
		break;
	default:
		break;
	}
	if (unit > 1)
		end++;
	if (bytes && unit > 1 && strcmp(end, "iB") == 0)
		end += 2;
	else if (bytes && strcmp(end, "B") == 0)
		end++;
	v *= unit;
	if (*end || v != floor(v) || v >= 0x1p63)
		return -1;
	*out = (size_t)v;
	return 0;
}

/* A comma-separated list of sizes, appended to opt->sizes. */
static int
parse_size_list(const char *s, struct options *opt)
{
	char buf[256];
	char *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return usage_error("size list too long: %s", s);
	strcpy(buf, s);
	for (char *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		size_t v;

		if (parse_count(tok, true, &v) < 0 || v == 0)
			return usage_error("bad size '%s' (a positive byte "
					   "count such as 4096, 64K, 16M, 1G)",
					   tok);
		if (opt->n_sizes == MAX_SIZES)
			return usage_error("more than 16 sizes in %s", s);
		opt->sizes[opt->n_sizes++] = v;
	}
	return 0;
}

/* --memory: a comma-separated list of pinned, pageable and device. */
static int
parse_memory_list(const char *s, unsigned *mask)
{
	static const char *const names[] = {"pinned", "pageable", "device"};
	const char *p = s;

	while (*p) {
		size_t len = strcspn(p, ",");
		bool found = false;

		for (unsigned k = 0; k < 3; k++)
			if (strlen(names[k]) == len &&
			    strncmp(p, names[k], len) == 0) {
				*mask |= 1u << k;
				found = true;
			}
		if (!found)
			return usage_error("bad --memory '%s' (a list of "
					   "pinned, pageable, device)",
					   s);
		p += len;
		if (*p == ',' && *++p == '\0')
			return usage_error("bad --memory '%s'", s);
	}
	return *mask ? 0 : usage_error("empty --memory");
}

/* "N[,N[,N]]": 1 to 3 positive lengths. */
static int
parse_dims(const char *s, size_t *dims, unsigned *n_out)
{
	unsigned n = 0;
	const char *p = s;

	for (;;) {
		char *end;
		unsigned long long v;

		if (n == 3 || *p < '0' || *p > '9')
			return -1;
		errno = 0;
		v = strtoull(p, &end, 10);
		if (errno || v == 0 || v > SIZE_MAX)
			return -1;
		dims[n++] = (size_t)v;
		if (*end == '\0')
			break;
		if (*end != ',')
			return -1;
		p = end + 1;
	}
	*n_out = n;
	return 0;
}

static int
parse_number(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return end == s || *end || errno || !isfinite(*out) || *out < 0 ? -1
									: 0;
}

/*
 * Kernel argument types, each with both of its spellings: the OpenCL C
 * name a kernel declares and clq's dtype name. The complex dtypes are
 * arrays only: a scalar of them has no one number to read.
 */
static const struct arg_type {
	const char *cl_name;
	enum clq_dtype dtype;
} arg_types[] = {
	{"char", CLQ_DTYPE_INT8},	   {"uchar", CLQ_DTYPE_UINT8},
	{"short", CLQ_DTYPE_INT16},	   {"ushort", CLQ_DTYPE_UINT16},
	{"int", CLQ_DTYPE_INT32},	   {"uint", CLQ_DTYPE_UINT32},
	{"long", CLQ_DTYPE_INT64},	   {"ulong", CLQ_DTYPE_UINT64},
	{"half", CLQ_DTYPE_FLOAT16},	   {"float", CLQ_DTYPE_FLOAT32},
	{"double", CLQ_DTYPE_FLOAT64},	   {"float2", CLQ_DTYPE_COMPLEX64},
	{"double2", CLQ_DTYPE_COMPLEX128},
};

#define N_ARG_TYPES (sizeof(arg_types) / sizeof(*arg_types))

static bool
is_complex(enum clq_dtype dtype)
{
	return dtype == CLQ_DTYPE_COMPLEX64 || dtype == CLQ_DTYPE_COMPLEX128;
}

/* The type spelled by the `len` characters at `name`, either way. */
static const struct arg_type *
arg_type_from_name(const char *name, size_t len)
{
	for (size_t t = 0; t < N_ARG_TYPES; t++) {
		const char *cl = arg_types[t].cl_name;
		const char *clq = clq_dtype_name(arg_types[t].dtype);

		if ((strlen(cl) == len && strncmp(cl, name, len) == 0) ||
		    (strlen(clq) == len && strncmp(clq, name, len) == 0))
			return &arg_types[t];
	}
	return NULL;
}

/* "char/int8, uchar/uint8, ...": every spelling, for error messages. */
static const char *
arg_type_list(bool scalars, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t t = 0; t < N_ARG_TYPES && used < size; t++) {
		if (scalars && is_complex(arg_types[t].dtype))
			continue;
		used += (size_t)snprintf(buf + used, size - used, "%s%s/%s",
					 used ? ", " : "", arg_types[t].cl_name,
					 clq_dtype_name(arg_types[t].dtype));
	}
	return buf;
}

#define STRINGIFY(x) #x
#define STRING_OF(x) STRINGIFY(x)
/* What --json's help says of the document, from FORMAT_VERSION. */
#define JSON_FORMAT "\"format\": " STRING_OF(FORMAT_VERSION)

enum {
	CMD_DEVICES = 1,
	CMD_TRANSFER = 2,
	CMD_KERNEL = 4,
	CMD_LATENCY = 8,
	CMD_ALL = 15,
};

static const struct command {
	const char *name;
	const char *args;    /* after the name in a usage line */
	const char *summary; /* lines separated by \n */
	unsigned bit;
} commands[] = {
	{"devices", "", "list every device and the specs that select it",
	 CMD_DEVICES},
	{"transfer", "",
	 "host->device, device->host and device->device\n"
	 "bandwidth, pinned and pageable host memory",
	 CMD_TRANSFER},
	{"kernel", " FILE.cl NAME", "time a kernel", CMD_KERNEL},
	{"latency", "",
	 "marker round trip, launch latency and the host\n"
	 "cost of one enqueue",
	 CMD_LATENCY},
};

#define N_COMMANDS (sizeof(commands) / sizeof(*commands))

/*
 * Every option, once: the getopt table, the help and the check that a
 * command takes an option are all made from this table, so that the help
 * lists exactly what is accepted. Grouped by `commands`, in the order the
 * help shows them.
 */
enum {
	OPT_DEVICE,
	OPT_JSON,
	OPT_HELP,
	OPT_BUDGET,
	OPT_TRACE,
	OPT_SVG,
	OPT_SIZE,
	OPT_MEMORY,
	OPT_GLOBAL,
	OPT_LOCAL,
	OPT_ARG,
	OPT_OPTIONS,
	OPT_BYTES,
	OPT_FLOPS,
	N_OPTS,
	OPT_VAL_BASE = 256, /* getopt value of option k: OPT_VAL_BASE + k */
};

static const struct option_spec {
	const char *name;
	const char *arg;   /* its value's name; NULL for a flag */
	unsigned commands; /* CMD_* bits of the commands that take it */
	const char *help;  /* lines separated by \n */
} option_specs[N_OPTS] = {
	[OPT_DEVICE] = {"device", "SPEC", CMD_ALL,
			"device, as clq_device_select() reads it (default:\n"
			"CLQ_DEVICE, then GPU > accelerator > CPU); for\n"
			"'devices', list only that device"},
	[OPT_JSON] = {"json", NULL, CMD_ALL,
		      "print a JSON document (" JSON_FORMAT "; every\n"
		      "time in seconds, in a field named ..._s)"},
	[OPT_HELP] = {"help", NULL, CMD_ALL,
		      "show this help; after a command, that command's"},
	[OPT_BUDGET] = {"budget", "SECONDS",
			CMD_TRANSFER | CMD_KERNEL | CMD_LATENCY,
			"time per measurement after two warm-up runs\n"
			"(default 0.25; at least 3 runs)"},
	[OPT_TRACE] = {"trace", "FILE.json",
		       CMD_TRANSFER | CMD_KERNEL | CMD_LATENCY,
		       "write every command as a Chrome trace (Perfetto,\n"
		       "chrome://tracing); warm-ups are labelled\n"
		       "\"warm-up ...\""},
	[OPT_SVG] = {"svg", "FILE.svg", CMD_TRANSFER | CMD_KERNEL,
		     "write every command as an SVG Gantt chart,\n"
		     "warm-ups labelled as in --trace (not for latency:\n"
		     "its commands are too short to see; use --trace)"},
	[OPT_SIZE] = {"size", "LIST", CMD_TRANSFER,
		      "comma-separated byte counts with an optional\n"
		      "suffix K, M or G (powers of 1024, either case;\n"
		      "B or iB may follow); repeatable (default\n"
		      "1M,16M,256M, each capped at the largest\n"
		      "allocation)"},
	[OPT_MEMORY] = {"memory", "LIST", CMD_TRANSFER,
			"which of pinned, pageable and device to time\n"
			"(default: all three; see below)"},
	[OPT_GLOBAL] = {"global", "N[,N[,N]]", CMD_KERNEL,
			"global work size (required)"},
	[OPT_LOCAL] = {"local", "N[,N[,N]]", CMD_KERNEL,
		       "work-group size (default: the driver's choice)"},
	[OPT_ARG] = {"arg", "SPEC", CMD_KERNEL,
		     "one per kernel argument, in order (see below)"},
	[OPT_OPTIONS] = {"options", "STRING", CMD_KERNEL,
			 "build options (-D..., -cl-...)"},
	[OPT_BYTES] = {"bytes", "N", CMD_KERNEL,
		       "bytes one launch moves, for GB/s: a count with\n"
		       "an optional suffix K, M or G (powers of 1024,\n"
		       "B or iB may follow), e.g. 12M"},
	[OPT_FLOPS] = {"flops", "N", CMD_KERNEL,
		       "operations one launch does, for GFLOP/s: a count\n"
		       "with the suffixes of --bytes (2M = 2 x 1024^2\n"
		       "operations; 2e6 for 2 x 10^6)"},
};

/* "  HEAD      first line\n" then the further lines of `text`, aligned. */
static void
help_item(FILE *out, const char *head, const char *text)
{
	enum { TEXT_COLUMN = 26 };
	int col = fprintf(out, "  %s", head);

	if (col >= TEXT_COLUMN) {
		fputc('\n', out);
		col = 0;
	}
	for (;;) {
		size_t len = strcspn(text, "\n");

		fprintf(out, "%*s%.*s\n", TEXT_COLUMN - col, "", (int)len,
			text);
		col = 0;
		if (!text[len])
			break;
		text += len + 1;
	}
}

static void
help_option(FILE *out, const struct option_spec *o)
{
	char head[64];

	snprintf(head, sizeof(head), "%s--%s%s%s",
		 o == &option_specs[OPT_HELP] ? "-h, " : "", o->name,
		 o->arg ? " " : "", o->arg ? o->arg : "");
	help_item(out, head, o->help);
}

/* "every command", "transfer and kernel", "transfer, kernel and latency" */
static void
help_group_heading(FILE *out, unsigned mask)
{
	size_t n = 0, k = 0;

	fputs("Options of ", out);
	if (mask == CMD_ALL) {
		fputs("every command:\n", out);
		return;
	}
	for (size_t i = 0; i < N_COMMANDS; i++)
		n += (mask & commands[i].bit) != 0;
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (!(mask & commands[i].bit))
			continue;
		k++;
		fprintf(out, "%s%s",
			k == 1	 ? ""
			: k == n ? " and "
				 : ", ",
			commands[i].name);
	}
	fputs(":\n", out);
}

static void
help_transfer_notes(FILE *out)
{
	fputs("\nMemory kinds (--memory): pinned is host arrays from\n"
	      "clq_host_array_create(), which clq pins where the driver lets "
	      "it; the\n"
	      "output says \"not pinned\" (JSON \"pinned\": false) where it "
	      "did not.\n"
	      "pageable is aligned_alloc() memory, as an application's own "
	      "buffers\n"
	      "would be; device is a device->device copy. Both directions are "
	      "timed\n"
	      "for host memory.\n",
	      out);
}

static void
help_kernel_notes(FILE *out)
{
	fputs("\nkernel FILE.cl NAME: FILE.cl is looked up in the current "
	      "directory,\n"
	      "CLQ_KERNEL_PATH and clq's kernel directory. Each launch is "
	      "timed on\n"
	      "the device.\n"
	      "--arg SPEC, one per kernel argument:\n",
	      out);
	help_item(out, "  buf:DTYPE:COUNT",
		  "a device array of COUNT elements (a count\n"
		  "as for --flops) filled with random data");
	help_item(out, "  TYPE:VALUE", "a scalar");
	help_item(out, "  local:BYTES", "a __local buffer of BYTES bytes");
	fputs("DTYPE and TYPE are OpenCL C names or clq dtype names, either "
	      "way:\n",
	      out);
	for (size_t t = 0; t < N_ARG_TYPES; t++) {
		char pair[32];
		bool last = t % 3 == 2 || t + 1 == N_ARG_TYPES;

		snprintf(pair, sizeof(pair), "%s = %s", arg_types[t].cl_name,
			 clq_dtype_name(arg_types[t].dtype));
		fprintf(out, last ? "%s%s\n" : "%s%-22s", t % 3 ? "" : "  ",
			pair);
	}
	fputs("(float2 and double2, the complex types, for buffers only.) A "
	      "buffer\n"
	      "with fewer elements than the global work size draws a "
	      "warning: a\n"
	      "kernel that indexes it by global id would read past its end.\n",
	      out);
}

/* The help of one command, or of all (`cmd` NULL). */
static void
usage(FILE *out, const struct command *cmd)
{
	unsigned mask = cmd ? cmd->bit : CMD_ALL, group = 0;

	if (cmd) {
		fprintf(out, "Usage: clq-time %s%s [OPTION]...\n", cmd->name,
			cmd->args);
		/* the summary as a sentence */
		fputc(toupper((unsigned char)cmd->summary[0]), out);
		fprintf(out, "%s.\n\nOptions:\n", cmd->summary + 1);
	} else {
		fputs("Usage: clq-time COMMAND [OPTION]...\n"
		      "Times transfers, kernels and latencies on an OpenCL "
		      "device.\n\nCommands:\n",
		      out);
		for (size_t i = 0; i < N_COMMANDS; i++) {
			char head[64];

			snprintf(head, sizeof(head), "%s%s", commands[i].name,
				 commands[i].args);
			help_item(out, head, commands[i].summary);
		}
		fputs("'clq-time COMMAND --help' shows one command's "
		      "options.\n",
		      out);
	}
	for (size_t k = 0; k < N_OPTS; k++) {
		const struct option_spec *o = &option_specs[k];

		if (!(o->commands & mask))
			continue;
		if (!cmd && o->commands != group) {
			fputc('\n', out);
			help_group_heading(out, o->commands);
			group = o->commands;
		}
		help_option(out, o);
	}
	if (mask & CMD_TRANSFER)
		help_transfer_notes(out);
	if (mask & CMD_KERNEL)
		help_kernel_notes(out);
	fputs("\nGB/s are 10^9 bytes per second. Exit status: 0 success, 1 a "
	      "device or\n"
	      "clq failure, 2 bad usage.\n",
	      out);
}

static bool
command_is(const struct options *opt, const char *name)
{
	return strcmp(opt->command, name) == 0;
}

/* Refuses an option that the command does not take. */
static int
check_option_applies(const struct options *opt, int k)
{
	const struct option_spec *o = &option_specs[k];

	if (o->commands & opt->cmd->bit)
		return 0;
	if (k == OPT_SVG && opt->cmd->bit == CMD_LATENCY)
		return usage_error("--svg does not apply to latency: its "
				   "commands last microseconds, spread over "
				   "the whole run, too thin to see in a "
				   "chart; use --trace FILE.json and zoom in "
				   "(Perfetto, chrome://tracing)");
	return usage_error("--%s does not apply to %s (see 'clq-time %s "
			   "--help')",
			   o->name, opt->command, opt->command);
}

/* @return 0 to run, 1 after --help, USAGE_FAILED on a usage error
 * (reported). */
static int
parse_options(int argc, char **argv, struct options *opt)
{
	struct option longopts[N_OPTS + 1];
	int c;

	memset(opt, 0, sizeof(*opt));
	opt->budget = DEFAULT_BUDGET;
	if (argc < 2)
		return usage_error("%s", "no command given");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout, NULL);
		return 1;
	}
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			opt->cmd = &commands[i];
	if (!opt->cmd)
		return usage_error("unknown command '%s'", argv[1]);
	opt->command = usage_command = opt->cmd->name;
	for (int k = 0; k < N_OPTS; k++)
		longopts[k] = (struct option){
			option_specs[k].name,
			option_specs[k].arg ? required_argument : no_argument,
			NULL, OPT_VAL_BASE + k};
	longopts[N_OPTS] = (struct option){NULL, 0, NULL, 0};

	argc--;
	argv++;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		int k = c == 'h' ? OPT_HELP : c - OPT_VAL_BASE;

		if (c == '?' || k < 0 || k >= N_OPTS)
			return usage_error(
				"unknown option or missing value: %s",
				argv[optind - 1]);
		if (check_option_applies(opt, k) != 0)
			return USAGE_FAILED;
		switch (k) {
		case OPT_DEVICE:
			opt->device = optarg;
			break;
		case OPT_JSON:
			opt->json = true;
			break;
		case OPT_TRACE:
			opt->trace = optarg;
			break;
		case OPT_SVG:
			opt->svg = optarg;
			break;
		case OPT_BUDGET:
			if (parse_number(optarg, &opt->budget) < 0 ||
			    opt->budget > 3600)
				return usage_error(
					"bad --budget '%s' (seconds, "
					"0 to 3600)",
					optarg);
			break;
		case OPT_HELP:
			usage(stdout, opt->cmd);
			return 1;
		case OPT_SIZE:
			if (parse_size_list(optarg, opt) != 0)
				return USAGE_FAILED;
			break;
		case OPT_MEMORY:
			if (parse_memory_list(optarg, &opt->memory) != 0)
				return USAGE_FAILED;
			break;
		case OPT_GLOBAL:
			if (parse_dims(optarg, opt->global, &opt->work_dim) < 0)
				return usage_error(
					"bad --global '%s' (1 to 3 "
					"positive lengths: N[,N[,N]])",
					optarg);
			break;
		case OPT_LOCAL:
			if (parse_dims(optarg, opt->local, &opt->local_dim) < 0)
				return usage_error(
					"bad --local '%s' (1 to 3 "
					"positive lengths: N[,N[,N]])",
					optarg);
			break;
		case OPT_ARG:
			if (opt->n_args == MAX_ARGS)
				return usage_error("%s", "more than 64 --arg");
			opt->arg_specs[opt->n_args++] = optarg;
			break;
		case OPT_OPTIONS:
			opt->build_options = optarg;
			break;
		case OPT_BYTES:
		case OPT_FLOPS: {
			size_t n;

			/* one parser for both counts, so that 2M means the
			 * same to each */
			if (parse_count(optarg, k == OPT_BYTES, &n) < 0 ||
			    n == 0)
				return usage_error(
					"bad --%s '%s' (a positive whole "
					"count such as 4096, 64K, 2M, 2e9)",
					option_specs[k].name, optarg);
			if (k == OPT_BYTES)
				opt->bytes = (double)n;
			else
				opt->flops = (double)n;
			break;
		}
		default:
			return usage_error("%s", "internal option error");
		}
	}
	if (command_is(opt, "kernel")) {
		if (argc - optind != 2)
			return usage_error("%s",
					   "kernel needs FILE.cl and NAME");
		opt->file = argv[optind];
		opt->kernel_name = argv[optind + 1];
		if (opt->work_dim == 0)
			return usage_error("%s", "kernel needs --global");
		if (opt->local_dim && opt->local_dim != opt->work_dim)
			return usage_error("%s",
					   "--local needs as many lengths "
					   "as --global");
	} else if (optind < argc) {
		return usage_error("unexpected argument '%s'", argv[optind]);
	}
	return 0;
}

/* --------------------------------------------------------------- sessions */

static int
session_open(struct session *s, const struct options *opt, const char *track)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->opt = opt;
	if ((rc = clq_device_select(opt->device, &s->device)) < 0)
		return fail("choosing a device", rc);
	if ((rc = clq_context_create(s->device, &s->ctx)) < 0)
		return fail("creating a context", rc);
	if ((rc = clq_queue_create(s->ctx, CLQ_QUEUE_PROFILING, &s->queue)) < 0)
		return fail("creating a profiling queue", rc);
	if (!opt->trace && !opt->svg)
		return CLQ_SUCCESS;
	if ((rc = clq_timeline_create(s->ctx, &s->timeline)) < 0 ||
	    (rc = clq_queue_set_timeline(s->queue, s->timeline, track)) < 0)
		return fail("creating a timeline", rc);
	return CLQ_SUCCESS;
}

/* Writes one export of the timeline to `path`. */
static int export(struct clq_timeline *tl, const char *path,
		  int (*write)(struct clq_timeline *, FILE *))
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f) {
		fprintf(stderr, "clq-time: cannot write %s: %s\n", path,
			strerror(errno));
		return CLQ_ERROR_IO;
	}
	rc = write(tl, f);
	if (fclose(f) != 0 && rc == CLQ_SUCCESS)
		rc = CLQ_ERROR_IO;
	return rc < 0 ? fail(path, rc) : rc;
}

/* Writes --trace and --svg, then releases everything. */
static int
session_close(struct session *s, int rc)
{
	if (rc == CLQ_SUCCESS && s->timeline) {
		int frc = clq_timeline_flush(s->timeline);

		if (frc < 0)
			rc = fail("collecting the timeline", frc);
		if (rc == CLQ_SUCCESS && s->opt->trace)
			rc = export(s->timeline, s->opt->trace,
				    clq_timeline_write_trace);
		if (rc == CLQ_SUCCESS && s->opt->svg)
			rc = export(s->timeline, s->opt->svg,
				    clq_timeline_write_svg);
	}
	clq_queue_unref(s->queue);
	clq_timeline_unref(s->timeline);
	clq_context_unref(s->ctx);
	clq_device_unref(s->device);
	return rc;
}

/* Enqueues one command and returns its event. */
typedef int (*enqueue_fn)(void *data, struct clq_event **event_out);

/* One kind of command that time_repeatedly() repeats. */
struct timed {
	enqueue_fn enqueue;
	void *data;
	struct clq_queue *queue; /* the queue `enqueue` uses */
	const char *label;	 /* on the timeline; NULL: no timeline */
};

/* Labels the next command on the timeline, with "warm-up " before a
 * warm-up run's label so that no one takes it for a timed run. */
static int
label_next(const struct timed *t, bool warm_up)
{
	char label[160];

	if (!t->label)
		return CLQ_SUCCESS;
	snprintf(label, sizeof(label), "%s%s", warm_up ? "warm-up " : "",
		 t->label);
	return clq_queue_set_next_label(t->queue, label);
}

/* Enqueues one command and waits for it; `*device_s` gets its device time
 * (end - start), `*wall_s` the host time from before the enqueue to the
 * return of the wait, `*times` (if not NULL) its four timestamps. */
static int
time_one(const struct timed *timed, bool warm_up, double *device_s,
	 double *wall_s, struct clq_event_times *times)
{
	struct clq_event *ev = NULL;
	struct clq_event_times t;
	double t0;
	int rc;

	if ((rc = label_next(timed, warm_up)) < 0)
		return rc;
	t0 = now();
	if ((rc = timed->enqueue(timed->data, &ev)) == CLQ_SUCCESS &&
	    (rc = clq_event_wait(ev)) == CLQ_SUCCESS) {
		*wall_s = now() - t0;
		rc = clq_event_get_times(ev, &t);
	}
	clq_event_unref(ev);
	if (rc < 0)
		return rc;
	*device_s = t.end > t.start ? (double)(t.end - t.start) * 1e-9 : 0.0;
	if (times)
		*times = t;
	return CLQ_SUCCESS;
}

/* Two warm-up runs, then as many as `budget` allows. `device` and `wall`
 * receive the statistics in seconds. */
static int
time_repeatedly(const struct timed *timed, double budget, struct stats *device,
		struct stats *wall)
{
	double d, w, *dv = NULL, *wv = NULL;
	size_t n;
	int rc;

	for (int i = 0; i < 2; i++)
		if ((rc = time_one(timed, true, &d, &w, NULL)) < 0)
			return rc;
	n = runs_for(budget, w);
	dv = malloc(n * sizeof(*dv));
	wv = malloc(n * sizeof(*wv));
	rc = dv && wv ? CLQ_SUCCESS : CL_OUT_OF_HOST_MEMORY;
	for (size_t i = 0; i < n && rc == CLQ_SUCCESS; i++)
		rc = time_one(timed, false, &dv[i], &wv[i], NULL);
	if (rc == CLQ_SUCCESS) {
		*device = stats_of(dv, n);
		*wall = stats_of(wv, n);
	}
	free(dv);
	free(wv);
	return rc;
}

/* --------------------------------------------------------------- devices */

static int
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
		json_begin("devices", NULL);
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
				json_device(d);
			} else {
				printf("%-5zu %zu:%-3zu %-11s %-40s %s, "
				       "OpenCL %u.%u, %u CUs, %.1f GiB%s\n",
				       i, clq_device_get_platform_index(d),
				       clq_device_get_index_in_platform(d),
				       type_name(clq_device_get_type(d)),
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

/* -------------------------------------------------------------- transfer */

enum direction { HOST_TO_DEVICE, DEVICE_TO_HOST, DEVICE_TO_DEVICE };

static const char *const direction_names[] = {
	"host-to-device", "device-to-host", "device-to-device"};

/* One kind of transfer, as time_repeatedly() repeats it. */
struct transfer {
	enum direction dir;
	struct clq_queue *queue;
	struct clq_device_array *src, *dst; /* dst: DEVICE_TO_DEVICE only */
	struct clq_host_array *host;	    /* NULL for DEVICE_TO_DEVICE */
};

/*
 * What the memory of a result is, as the output names it: "pinned" only
 * where clq_host_array_is_pinned() says so; a clq host array the driver
 * did not pin is "not pinned", whatever --memory asked for.
 */
enum memory_kind { PINNED, NOT_PINNED, PAGEABLE, DEVICE };

static const char *const memory_names[] = {"pinned", "not pinned", "pageable",
					   "device"};

struct transfer_result {
	enum direction dir;
	enum memory_kind memory;
	size_t bytes;
	struct stats device, wall; /* seconds */
};

static int
enqueue_transfer(void *data, struct clq_event **event_out)
{
	const struct transfer *t = data;

	switch (t->dir) {
	case HOST_TO_DEVICE:
		return clq_device_array_set_async(t->src, t->queue, t->host,
						  NULL, 0, event_out);
	case DEVICE_TO_HOST:
		return clq_device_array_get_async(t->src, t->queue, t->host,
						  NULL, 0, event_out);
	default:
		return clq_device_array_copy(t->dst, t->queue, t->src, NULL, 0,
					     event_out);
	}
}

/* "16 MiB", "64 KiB", "1000 B": the largest unit that divides `bytes`. */
static const char *
format_size(size_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB"};
	size_t u = 0;

	while (u < 3 && bytes >= 1024 && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, "%zu %s", bytes, units[u]);
	return buf;
}

/* Host memory of `bytes` bytes: a clq host array (pinned where the driver
 * allows) or pageable (aligned_alloc, as an application's own buffers
 * would be), touched so that no page faults land in the timed runs.
 * `*data_out` is the pageable block to free after the array, or NULL. */
static int
host_memory(struct session *s, size_t bytes, bool pinned,
	    struct clq_host_array **out, void **data_out)
{
	size_t rounded = (bytes + 63) / 64 * 64;
	void *data;
	int rc;

	*data_out = NULL;
	if (pinned) {
		if ((rc = clq_host_array_create(s->ctx, CLQ_DTYPE_UINT8, 1,
						&bytes, NULL, out)) < 0)
			return fail("allocating a host array", rc);
		memset(clq_host_array_data(*out), 0x5a, bytes);
		return CLQ_SUCCESS;
	}
	if (!(data = aligned_alloc(64, rounded)))
		return fail("allocating pageable host memory",
			    CL_OUT_OF_HOST_MEMORY);
	memset(data, 0x5a, rounded);
	if ((rc = clq_host_array_wrap(CLQ_DTYPE_UINT8, 1, &bytes, NULL, data,
				      out)) < 0) {
		free(data);
		return fail("wrapping pageable host memory", rc);
	}
	*data_out = data;
	return CLQ_SUCCESS;
}

/* Times one direction with one kind of memory; appends to `results`. */
static int
time_transfer(struct session *s, struct transfer *t, enum memory_kind memory,
	      size_t bytes, struct transfer_result *results, size_t *n_results)
{
	struct transfer_result *r = &results[*n_results];
	char label[64], size[32];
	struct timed timed = {enqueue_transfer, t, t->queue, NULL};
	int rc;

	snprintf(label, sizeof(label), "%s %s %s",
		 t->dir == HOST_TO_DEVICE   ? "write"
		 : t->dir == DEVICE_TO_HOST ? "read"
					    : "copy",
		 memory_names[memory], format_size(bytes, size, sizeof(size)));
	timed.label = s->timeline ? label : NULL;
	rc = time_repeatedly(&timed, s->opt->budget, &r->device, &r->wall);
	if (rc < 0) {
		snprintf(label, sizeof(label), "timing %s %s",
			 direction_names[t->dir], memory_names[memory]);
		return fail(label, rc);
	}
	r->dir = t->dir;
	r->memory = memory;
	r->bytes = bytes;
	(*n_results)++;
	return CLQ_SUCCESS;
}

/* Every direction and memory kind at one size (5 results). */
static int
time_transfers_of_size(struct session *s, size_t bytes,
		       struct transfer_result *results, size_t *n_results)
{
	struct clq_device_array *a = NULL, *b = NULL;
	unsigned mask = s->opt->memory;
	int rc;

	if ((rc = clq_device_array_create(s->ctx, CLQ_DTYPE_UINT8, 1, &bytes,
					  NULL, &a)) < 0 ||
	    ((mask & MEMORY_DEVICE) &&
	     (rc = clq_device_array_create(s->ctx, CLQ_DTYPE_UINT8, 1, &bytes,
					   NULL, &b)) < 0)) {
		fail("allocating device memory", rc);
		goto out;
	}
	for (int pinned = 1; pinned >= 0 && rc == CLQ_SUCCESS; pinned--) {
		struct transfer t = {HOST_TO_DEVICE, s->queue, a, NULL, NULL};
		enum memory_kind memory = PAGEABLE;
		void *data;

		if (!(mask & (pinned ? MEMORY_PINNED : MEMORY_PAGEABLE)))
			continue;
		if ((rc = host_memory(s, bytes, pinned, &t.host, &data)) < 0)
			break;
		if (pinned)
			memory = clq_host_array_is_pinned(t.host) ? PINNED
								  : NOT_PINNED;
		rc = time_transfer(s, &t, memory, bytes, results, n_results);
		t.dir = DEVICE_TO_HOST;
		if (rc == CLQ_SUCCESS)
			rc = time_transfer(s, &t, memory, bytes, results,
					   n_results);
		clq_host_array_unref(t.host);
		free(data);
	}
	if (rc == CLQ_SUCCESS && (mask & MEMORY_DEVICE)) {
		struct transfer t = {DEVICE_TO_DEVICE, s->queue, a, b, NULL};

		rc = time_transfer(s, &t, DEVICE, bytes, results, n_results);
	}
out:
	clq_device_array_unref(a);
	clq_device_array_unref(b);
	return rc;
}

/* GB/s (10^9 bytes per second) for `bytes` in `seconds`; inf for 0 s. */
static double
gbps(size_t bytes, double seconds)
{
	return seconds > 0 ? (double)bytes / seconds * 1e-9 : INFINITY;
}

static void
json_bandwidth(size_t bytes, struct stats s)
{
	fputs("{\"min\": ", stdout);
	json_number(gbps(bytes, s.max));
	fputs(", \"median\": ", stdout);
	json_number(gbps(bytes, s.median));
	fputs(", \"max\": ", stdout);
	json_number(gbps(bytes, s.min));
	putchar('}');
}

static void
print_transfers(const struct session *s, const struct transfer_result *r,
		size_t n)
{
	bool not_pinned = false;

	if (s->opt->json) {
		json_begin("transfer", s->device);
		fputs(",\n  \"budget_s\": ", stdout);
		json_number(s->opt->budget);
		fputs(",\n  \"results\": [", stdout);
		for (size_t i = 0; i < n; i++) {
			printf("%s\n    {\"direction\": \"%s\", \"memory\": "
			       "\"%s\", \"pinned\": %s, \"bytes\": %zu, "
			       "\"runs\": %zu,\n     \"device_s\": ",
			       i ? "," : "", direction_names[r[i].dir],
			       memory_names[r[i].memory],
			       r[i].memory == DEVICE   ? "null"
			       : r[i].memory == PINNED ? "true"
						       : "false",
			       r[i].bytes, r[i].device.n);
			json_stats(r[i].device);
			fputs(",\n     \"wall_s\": ", stdout);
			json_stats(r[i].wall);
			fputs(",\n     \"device_gbps\": ", stdout);
			json_bandwidth(r[i].bytes, r[i].device);
			fputs(",\n     \"wall_gbps\": ", stdout);
			json_bandwidth(r[i].bytes, r[i].wall);
			putchar('}');
		}
		printf("\n  ]\n}\n");
		return;
	}
	printf("clq-time transfer on %s (%s, device %zu:%zu)\n",
	       clq_device_get_name(s->device),
	       clq_device_get_platform_name(s->device),
	       clq_device_get_platform_index(s->device),
	       clq_device_get_index_in_platform(s->device));
	printf("GB/s = 10^9 bytes/s; device: profiling start to end; wall: "
	       "enqueue to the end of the wait\n");
	printf("%-10s %-17s %-10s %6s %10s %9s %9s %9s %10s\n", "size",
	       "direction", "memory", "runs", "device us", "GB/s min", "median",
	       "max", "wall GB/s");
	for (size_t i = 0; i < n; i++) {
		char size[32];

		printf("%-10s %-17s %-10s %6zu %10.1f %9.2f %9.2f %9.2f "
		       "%10.2f\n",
		       format_size(r[i].bytes, size, sizeof(size)),
		       direction_names[r[i].dir], memory_names[r[i].memory],
		       r[i].device.n, r[i].device.median * 1e6,
		       gbps(r[i].bytes, r[i].device.max),
		       gbps(r[i].bytes, r[i].device.median),
		       gbps(r[i].bytes, r[i].device.min),
		       gbps(r[i].bytes, r[i].wall.median));
		not_pinned = not_pinned || r[i].memory == NOT_PINNED;
	}
	if (not_pinned)
		printf("not pinned: clq_host_array_create() memory that this "
		       "driver did not pin (--memory pinned asks for it)\n");
}

static int
run_transfer(const struct options *opt)
{
	static const size_t defaults[] = {1u << 20, 16u << 20, 256u << 20};
	struct transfer_result results[MAX_SIZES * 5];
	struct options o = *opt;
	struct session s;
	size_t n = 0;
	int rc;

	if (o.memory == 0)
		o.memory = MEMORY_PINNED | MEMORY_PAGEABLE | MEMORY_DEVICE;
	if ((rc = session_open(&s, &o, "transfers")) == CLQ_SUCCESS &&
	    o.n_sizes == 0) {
		uint64_t max = clq_device_get_max_alloc_size(s.device);

		for (size_t i = 0; i < 3; i++)
			o.sizes[o.n_sizes++] =
				defaults[i] < max ? defaults[i] : (size_t)max;
	}
	for (size_t i = 0; i < o.n_sizes && rc == CLQ_SUCCESS; i++)
		rc = time_transfers_of_size(&s, o.sizes[i], results, &n);
	if (rc == CLQ_SUCCESS)
		print_transfers(&s, results, n);
	return session_close(&s, rc);
}

/* ----------------------------------------------------------------- kernel */

struct kernel_args {
	struct clq_arg args[MAX_ARGS];
	union {
		int64_t i;
		uint64_t u;
		float f;
		double d;
		uint16_t h;
		unsigned char bytes[8];
	} values[MAX_ARGS];
	struct clq_device_array *arrays[MAX_ARGS];
	size_t n;
};

static uint64_t
random_next(uint64_t *state)
{
	/* xorshift64*: fixed seed, so runs are repeatable */
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545F4914F6CDD1DULL;
}

/* Random elements: floats uniform in [0, 1), integers any bits. */
static void
fill_random(void *data, enum clq_dtype dtype, size_t count, uint64_t *rng)
{
	size_t esize = clq_dtype_size(dtype);

	switch (dtype) {
	case CLQ_DTYPE_FLOAT32:
	case CLQ_DTYPE_COMPLEX64:
		for (size_t i = 0; i < count * esize / 4; i++)
			((float *)data)[i] =
				(float)(random_next(rng) >> 40) * 0x1p-24f;
		break;
	case CLQ_DTYPE_FLOAT64:
	case CLQ_DTYPE_COMPLEX128:
		for (size_t i = 0; i < count * esize / 8; i++)
			((double *)data)[i] =
				(double)(random_next(rng) >> 11) * 0x1p-53;
		break;
	case CLQ_DTYPE_FLOAT16:
		/* exponent of 0.5 to 1: [0.5, 1) with random mantissa */
		for (size_t i = 0; i < count; i++)
			((uint16_t *)data)[i] =
				(uint16_t)(0x3800 | (random_next(rng) & 0x3ff));
		break;
	default:
		for (size_t i = 0; i < count * esize; i++)
			((unsigned char *)data)[i] =
				(unsigned char)(random_next(rng) >> 56);
		break;
	}
}

/* Work-items of one launch: the product of --global. */
static size_t
global_items(const struct options *opt)
{
	size_t n = 1;

	for (unsigned i = 0; i < opt->work_dim; i++)
		n *= opt->global[i];
	return n;
}

/* buf:DTYPE:COUNT: a device array filled with random data. */
static int
make_buffer_arg(struct session *s, const char *spec, struct kernel_args *ka,
		uint64_t *rng)
{
	const char *dtype_name = spec + 4, *colon = strchr(dtype_name, ':');
	const struct arg_type *type = NULL;
	struct clq_host_array *h = NULL;
	struct clq_device_array **a = &ka->arrays[ka->n];
	size_t count, items = global_items(s->opt);
	char list[400];
	int rc;

	if (!colon || parse_count(colon + 1, false, &count) < 0 || count == 0)
		return usage_error("bad --arg '%s' (buf:DTYPE:COUNT, e.g. "
				   "buf:float32:1M or buf:float:1M)",
				   spec);
	type = arg_type_from_name(dtype_name, (size_t)(colon - dtype_name));
	if (!type)
		return usage_error("bad --arg '%s': unknown type '%.*s' (one "
				   "of %s)",
				   spec, (int)(colon - dtype_name), dtype_name,
				   arg_type_list(false, list, sizeof(list)));
	if (count < items)
		fprintf(stderr,
			"clq-time: warning: --arg %zu '%s' has %zu elements, "
			"fewer than the %zu work-items of --global: a kernel "
			"that indexes it by global id reads past its end\n",
			ka->n + 1, spec, count, items);
	if ((rc = clq_device_array_create(s->ctx, type->dtype, 1, &count, NULL,
					  a)) < 0 ||
	    (rc = clq_host_array_create(s->ctx, type->dtype, 1, &count, NULL,
					&h)) < 0) {
		clq_host_array_unref(h);
		return fail(spec, rc);
	}
	fill_random(clq_host_array_data(h), type->dtype, count, rng);
	if (s->timeline) {
		char label[32];

		snprintf(label, sizeof(label), "upload --arg %zu", ka->n + 1);
		rc = clq_queue_set_next_label(s->queue, label);
	}
	if (rc == CLQ_SUCCESS)
		rc = clq_device_array_set(*a, s->queue, h);
	clq_host_array_unref(h);
	if (rc < 0)
		return fail(spec, rc);
	ka->args[ka->n] = CLQ_ARG_ARRAY(*a);
	return CLQ_SUCCESS;
}

/* IEEE half-precision bits of `f`, rounded to nearest even. */
static uint16_t
half_from_float(float f)
{
	uint32_t x, mant;
	uint16_t sign, h;
	int32_t exp;

	memcpy(&x, &f, sizeof(x));
	sign = (uint16_t)((x >> 16) & 0x8000);
	mant = x & 0x7fffff;
	exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
	if (exp == 0xff - 127 + 15) /* inf or nan */
		return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
	if (exp >= 0x1f)
		return (uint16_t)(sign | 0x7c00);
	if (exp <= 0) {
		/* subnormal: the implicit bit joins the mantissa */
		unsigned shift = (unsigned)(14 - exp);
		uint32_t rem, halfway;

		if (exp < -10)
			return sign;
		mant |= 0x800000;
		h = (uint16_t)(mant >> shift);
		rem = mant & ((1u << shift) - 1);
		halfway = 1u << (shift - 1);
		if (rem > halfway || (rem == halfway && (h & 1)))
			h++;
		return (uint16_t)(sign | h);
	}
	h = (uint16_t)(((uint32_t)exp << 10) | (mant >> 13));
	if ((mant & 0x1fff) > 0x1000 || ((mant & 0x1fff) == 0x1000 && (h & 1)))
		h++; /* a carry into the exponent is right, up to inf */
	return (uint16_t)(sign | h);
}

/* TYPE:VALUE: a scalar of `dtype`, range-checked. */
static int
make_scalar_arg(const char *spec, const char *text, enum clq_dtype dtype,
		struct kernel_args *ka)
{
	size_t size = clq_dtype_size(dtype);
	unsigned bits = (unsigned)size * 8;
	bool is_float = dtype == CLQ_DTYPE_FLOAT16 ||
			dtype == CLQ_DTYPE_FLOAT32 ||
			dtype == CLQ_DTYPE_FLOAT64;
	bool is_signed = dtype == CLQ_DTYPE_INT8 || dtype == CLQ_DTYPE_INT16 ||
			 dtype == CLQ_DTYPE_INT32 || dtype == CLQ_DTYPE_INT64;
	char *end;
	int64_t i = 0;
	uint64_t u = 0;
	bool ok;

	errno = 0;
	if (is_float) {
		double d = strtod(text, &end);

		ok = end != text && !*end && !errno;
		if (dtype == CLQ_DTYPE_FLOAT64) {
			ka->values[ka->n].d = d;
		} else {
			float f = (float)d;

			/* a finite value that the type cannot hold */
			ok = ok && (!isfinite(d) || isfinite(f));
			if (dtype == CLQ_DTYPE_FLOAT32) {
				ka->values[ka->n].f = f;
			} else {
				uint16_t h = half_from_float(f);

				ok = ok &&
				     (!isfinite(d) || (h & 0x7c00) != 0x7c00);
				ka->values[ka->n].h = h;
			}
		}
	} else if (is_signed) {
		i = strtoll(text, &end, 0);
		ok = end != text && !*end && !errno &&
		     (bits == 64 || (i >= -(INT64_C(1) << (bits - 1)) &&
				     i < (INT64_C(1) << (bits - 1))));
		u = (uint64_t)i;
	} else {
		u = strtoull(text, &end, 0);
		ok = end != text && !*end && !errno && text[0] != '-' &&
		     (bits == 64 || u < (UINT64_C(1) << bits));
	}
	if (!ok)
		return usage_error("bad --arg '%s' (a value out of range or "
				   "not a number)",
				   spec);
	if (!is_float) {
		/* the low `size` bytes, in host order, as the kernel reads */
		uint8_t v8 = (uint8_t)u;
		uint16_t v16 = (uint16_t)u;
		uint32_t v32 = (uint32_t)u;

		switch (size) {
		case 1:
			memcpy(ka->values[ka->n].bytes, &v8, 1);
			break;
		case 2:
			memcpy(ka->values[ka->n].bytes, &v16, 2);
			break;
		case 4:
			memcpy(ka->values[ka->n].bytes, &v32, 4);
			break;
		default:
			memcpy(ka->values[ka->n].bytes, &u, 8);
			break;
		}
	}
	ka->args[ka->n] = CLQ_ARG_BYTES(ka->values[ka->n].bytes, size);
	return CLQ_SUCCESS;
}

/* Turns the --arg specs into kernel arguments. */
static int
make_kernel_args(struct session *s, struct kernel_args *ka)
{
	uint64_t rng = 0x9E3779B97F4A7C15ULL;

	for (size_t k = 0; k < s->opt->n_args; k++) {
		const char *spec = s->opt->arg_specs[k];
		const char *colon = strchr(spec, ':');
		const struct arg_type *type = NULL;
		char list[400];
		int rc;

		if (colon)
			type = arg_type_from_name(spec, (size_t)(colon - spec));
		if (strncmp(spec, "buf:", 4) == 0) {
			rc = make_buffer_arg(s, spec, ka, &rng);
		} else if (strncmp(spec, "local:", 6) == 0) {
			size_t bytes;

			if (parse_count(spec + 6, true, &bytes) < 0 ||
			    bytes == 0)
				return usage_error("bad --arg '%s' "
						   "(local:BYTES)",
						   spec);
			ka->args[ka->n] = CLQ_ARG_LOCAL(bytes);
			rc = CLQ_SUCCESS;
		} else if (!colon) {
			return usage_error("bad --arg '%s' (buf:DTYPE:COUNT, "
					   "TYPE:VALUE or local:BYTES)",
					   spec);
		} else if (!type || is_complex(type->dtype)) {
			return usage_error(
				"bad --arg '%s': '%.*s' is %s (scalars: %s)",
				spec, (int)(colon - spec), spec,
				type ? "for buffers only" : "not a type",
				arg_type_list(true, list, sizeof(list)));
		} else {
			rc = make_scalar_arg(spec, colon + 1, type->dtype, ka);
		}
		if (rc != CLQ_SUCCESS)
			return rc;
		ka->n++;
	}
	return CLQ_SUCCESS;
}

struct launch {
	struct clq_queue *queue;
	struct clq_kernel *kernel;
	const struct kernel_args *args;
	const struct options *opt;
};

static int
enqueue_launch(void *data, struct clq_event **event_out)
{
	const struct launch *l = data;

	return clq_queue_enqueue_kernel(
		l->queue, l->kernel, l->args->args, l->args->n,
		l->opt->work_dim, l->opt->global,
		l->opt->local_dim ? l->opt->local : NULL, NULL, 0, event_out);
}

/* A count given on the command line, or null. */
static void
json_count(double n)
{
	if (n > 0)
		printf("%.0f", n);
	else
		fputs("null", stdout);
}

static void
print_kernel(const struct session *s, struct stats device, struct stats wall)
{
	const struct options *o = s->opt;
	double t = device.median;

	if (o->json) {
		json_begin("kernel", s->device);
		fputs(",\n  \"file\": ", stdout);
		json_string(o->file);
		fputs(",\n  \"kernel\": ", stdout);
		json_string(o->kernel_name);
		printf(",\n  \"global\": [");
		for (unsigned i = 0; i < o->work_dim; i++)
			printf("%s%zu", i ? ", " : "", o->global[i]);
		printf("],\n  \"local\": ");
		if (o->local_dim) {
			putchar('[');
			for (unsigned i = 0; i < o->local_dim; i++)
				printf("%s%zu", i ? ", " : "", o->local[i]);
			putchar(']');
		} else {
			fputs("null", stdout);
		}
		fputs(",\n  \"budget_s\": ", stdout);
		json_number(o->budget);
		fputs(",\n  \"bytes\": ", stdout);
		json_count(o->bytes);
		fputs(",\n  \"flops\": ", stdout);
		json_count(o->flops);
		fputs(",\n  \"device_s\": ", stdout);
		json_stats(device);
		fputs(",\n  \"wall_s\": ", stdout);
		json_stats(wall);
		fputs(",\n  \"spread\": ", stdout);
		json_number(t > 0 ? (device.max - device.min) / t : 0);
		fputs(",\n  \"gbps\": ", stdout);
		if (o->bytes > 0)
			json_number(t > 0 ? o->bytes / t * 1e-9 : INFINITY);
		else
			fputs("null", stdout);
		fputs(",\n  \"gflops\": ", stdout);
		if (o->flops > 0)
			json_number(t > 0 ? o->flops / t * 1e-9 : INFINITY);
		else
			fputs("null", stdout);
		printf("\n}\n");
		return;
	}
	printf("clq-time kernel %s from %s on %s (%s)\n", o->kernel_name,
	       o->file, clq_device_get_name(s->device),
	       clq_device_get_platform_name(s->device));
	printf("runs %zu; device time min %.3f us, median %.3f us, max %.3f "
	       "us (max - min = %.1f%% of the median); wall median %.3f us\n",
	       device.n, device.min * 1e6, t * 1e6, device.max * 1e6,
	       t > 0 ? 100 * (device.max - device.min) / t : 0.0,
	       wall.median * 1e6);
	if (o->bytes > 0)
		printf("%.3f GB/s (%.0f bytes per launch)\n",
		       o->bytes / t * 1e-9, o->bytes);
	if (o->flops > 0)
		printf("%.3f GFLOP/s (%.0f operations per launch)\n",
		       o->flops / t * 1e-9, o->flops);
}

static int
run_kernel(const struct options *opt)
{
	static const char *const dirs[] = {"."};
	struct kernel_args ka = {.n = 0};
	struct clq_program *program = NULL;
	struct clq_kernel *kernel = NULL;
	struct stats device, wall;
	struct session s;
	int rc;

	if ((rc = session_open(&s, opt, "kernels")) < 0)
		goto out;
	if ((rc = clq_program_create_from_file(s.ctx, opt->file, dirs, 1,
					       opt->build_options, &program)) <
	    0) {
		fail(opt->file, rc);
		goto out;
	}
	if ((rc = clq_kernel_create(program, opt->kernel_name, &kernel)) < 0) {
		fail(opt->kernel_name, rc);
		goto out;
	}
	if ((rc = make_kernel_args(&s, &ka)) != CLQ_SUCCESS)
		goto out;
	{
		struct launch l = {s.queue, kernel, &ka, opt};
		struct timed timed = {enqueue_launch, &l, s.queue, NULL};
		char label[160];

		snprintf(label, sizeof(label), "kernel %s", opt->kernel_name);
		timed.label = s.timeline ? label : NULL;
		rc = time_repeatedly(&timed, opt->budget, &device, &wall);
	}
	if (rc < 0)
		fail("launching the kernel", rc);
	else
		print_kernel(&s, device, wall);
out:
	for (size_t i = 0; i < MAX_ARGS; i++)
		clq_device_array_unref(ka.arrays[i]);
	clq_kernel_unref(kernel);
	clq_program_unref(program);
	return session_close(&s, rc);
}

/* ---------------------------------------------------------------- latency */

#define ENQUEUE_BATCH 100

static const char noop_source[] = "__kernel void clq_time_noop(void) {}\n";

struct latency {
	struct stats round_trip;      /* marker: enqueue + wait, wall */
	struct stats queued_to_start; /* noop kernel, device clock */
	struct stats submit_to_start; /* noop kernel, device clock */
	struct stats enqueue_marker;  /* host seconds per call */
	struct stats enqueue_kernel;  /* host seconds per call */
};

static int
enqueue_marker(void *data, struct clq_event **event_out)
{
	return clq_queue_enqueue_marker(data, NULL, 0, event_out);
}

static int
enqueue_noop(void *data, struct clq_event **event_out)
{
	const struct launch *l = data;
	const size_t global = 1;

	return clq_queue_enqueue_kernel(l->queue, l->kernel, NULL, 0, 1,
					&global, NULL, NULL, 0, event_out);
}

/* Launch latency of the no-op kernel: QUEUED and SUBMIT to START. */
static int
time_launches(const struct timed *timed, double budget, struct latency *lat)
{
	double d, w, *queued = NULL, *submit = NULL;
	struct clq_event_times t;
	size_t n;
	int rc;

	for (int i = 0; i < 2; i++)
		if ((rc = time_one(timed, true, &d, &w, &t)) < 0)
			return rc;
	n = runs_for(budget, w);
	queued = malloc(n * sizeof(*queued));
	submit = malloc(n * sizeof(*submit));
	rc = queued && submit ? CLQ_SUCCESS : CL_OUT_OF_HOST_MEMORY;
	for (size_t i = 0; i < n && rc == CLQ_SUCCESS; i++) {
		if ((rc = time_one(timed, false, &d, &w, &t)) < 0)
			break;
		queued[i] = (double)(int64_t)(t.start - t.queued) * 1e-9;
		submit[i] = (double)(int64_t)(t.start - t.submit) * 1e-9;
	}
	if (rc == CLQ_SUCCESS) {
		lat->queued_to_start = stats_of(queued, n);
		lat->submit_to_start = stats_of(submit, n);
	}
	free(queued);
	free(submit);
	return rc;
}

/* Host seconds per enqueue call: batches of ENQUEUE_BATCH calls (each
 * takes an event and drops it, as callers do), a finish between batches,
 * for `budget` seconds (at least MIN_RUNS batches). */
static int
time_enqueue_cost(enqueue_fn enqueue, void *data, struct clq_queue *queue,
		  double budget, struct stats *out)
{
	size_t cap = 64, n = 0;
	double *v = malloc(cap * sizeof(*v)), until = now() + budget;
	int rc = v ? CLQ_SUCCESS : CL_OUT_OF_HOST_MEMORY;

	while (rc == CLQ_SUCCESS && (n < MIN_RUNS || now() < until) &&
	       n < MAX_RUNS) {
		double t0 = now();

		for (int i = 0; i < ENQUEUE_BATCH && rc == CLQ_SUCCESS; i++) {
			struct clq_event *ev = NULL;

			rc = enqueue(data, &ev);
			clq_event_unref(ev);
		}
		if (rc != CLQ_SUCCESS)
			break;
		if (n == cap) {
			double *bigger = realloc(v, 2 * cap * sizeof(*v));

			if (!bigger) {
				rc = CL_OUT_OF_HOST_MEMORY;
				break;
			}
			v = bigger;
			cap *= 2;
		}
		v[n++] = (now() - t0) / ENQUEUE_BATCH;
		rc = clq_queue_finish(queue);
	}
	if (rc == CLQ_SUCCESS)
		*out = stats_of(v, n);
	free(v);
	return rc;
}

static void
print_latency_line(const char *what, struct stats s)
{
	printf("%-34s %8.3f %8.3f %8.3f %7zu\n", what, s.min * 1e6,
	       s.median * 1e6, s.max * 1e6, s.n);
}

static void
print_latency(const struct session *s, const struct latency *lat)
{
	if (s->opt->json) {
		json_begin("latency", s->device);
		fputs(",\n  \"budget_s\": ", stdout);
		json_number(s->opt->budget);
		fputs(",\n  \"marker_round_trip_s\": ", stdout);
		json_stats(lat->round_trip);
		fputs(",\n  \"launch_queued_to_start_s\": ", stdout);
		json_stats(lat->queued_to_start);
		fputs(",\n  \"launch_submit_to_start_s\": ", stdout);
		json_stats(lat->submit_to_start);
		fputs(",\n  \"enqueue_marker_s\": ", stdout);
		json_stats(lat->enqueue_marker);
		fputs(",\n  \"enqueue_kernel_s\": ", stdout);
		json_stats(lat->enqueue_kernel);
		printf("\n}\n");
		return;
	}
	printf("clq-time latency on %s (%s, device %zu:%zu)\n",
	       clq_device_get_name(s->device),
	       clq_device_get_platform_name(s->device),
	       clq_device_get_platform_index(s->device),
	       clq_device_get_index_in_platform(s->device));
	printf("%-34s %8s %8s %8s %7s\n", "microseconds", "min", "median",
	       "max", "runs");
	print_latency_line("marker round trip (host)", lat->round_trip);
	print_latency_line("launch: queued to start (device)",
			   lat->queued_to_start);
	print_latency_line("launch: submit to start (device)",
			   lat->submit_to_start);
	print_latency_line("enqueue one marker (host)", lat->enqueue_marker);
	print_latency_line("enqueue one kernel (host)", lat->enqueue_kernel);
	printf("(enqueue costs: per call, batches of %d%s)\n", ENQUEUE_BATCH,
	       s->timeline ? "; with --trace/--svg they include recording"
			   : "");
}

static int
run_latency(const struct options *opt)
{
	struct clq_program *program = NULL;
	struct latency lat;
	struct session s;
	struct stats device;
	int rc;

	if ((rc = session_open(&s, opt, "latency")) < 0)
		return session_close(&s, rc);
	if ((rc = clq_program_create_from_source(s.ctx, noop_source, NULL,
						 &program)) < 0) {
		fail("building the no-op kernel", rc);
	} else {
		struct launch l = {s.queue, NULL, NULL, opt};
		struct timed marker = {enqueue_marker, s.queue, s.queue,
				       s.timeline ? "marker" : NULL};
		struct timed noop = {enqueue_noop, &l, s.queue,
				     s.timeline ? "kernel clq_time_noop"
						: NULL};

		if ((rc = clq_kernel_create(program, "clq_time_noop",
					    &l.kernel)) < 0)
			fail("creating the no-op kernel", rc);
		else if ((rc = time_repeatedly(&marker, opt->budget, &device,
					       &lat.round_trip)) < 0)
			fail("timing marker round trips", rc);
		else if ((rc = time_launches(&noop, opt->budget, &lat)) < 0)
			fail("timing kernel launches", rc);
		else if ((rc = time_enqueue_cost(enqueue_marker, s.queue,
						 s.queue, opt->budget,
						 &lat.enqueue_marker)) < 0)
			fail("timing marker enqueues", rc);
		else if ((rc = time_enqueue_cost(enqueue_noop, &l, s.queue,
						 opt->budget,
						 &lat.enqueue_kernel)) < 0)
			fail("timing kernel enqueues", rc);
		clq_kernel_unref(l.kernel);
	}
	clq_program_unref(program);
	if (rc == CLQ_SUCCESS)
		print_latency(&s, &lat);
	return session_close(&s, rc);
}

/* ------------------------------------------------------------------- main */

int
main(int argc, char **argv)
{
	struct options opt;
	int rc = parse_options(argc, argv, &opt);

	if (rc != 0)
		return rc == 1 ? EXIT_SUCCESS : EXIT_USAGE;
	clq_set_log_handler(log_to_stderr, NULL);
	if (command_is(&opt, "devices"))
		rc = run_devices(&opt);
	else if (command_is(&opt, "transfer"))
		rc = run_transfer(&opt);
	else if (command_is(&opt, "kernel"))
		rc = run_kernel(&opt);
	else
		rc = run_latency(&opt);
	if (rc == USAGE_FAILED)
		return EXIT_USAGE;
	return rc == CLQ_SUCCESS ? EXIT_SUCCESS : EXIT_FAILURE;
}
