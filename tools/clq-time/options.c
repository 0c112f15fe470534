/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * clq-time's command line: the command and option tables, the help made
 * from them, and the parsers of counts, sizes and lengths.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clq-time.h"

/* The command being parsed, for the help that a usage error points to. */
static const char *usage_command;

int
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

/*
 * A count: digits with an optional fraction or exponent and an optional
 * suffix K, M or G in either case (powers of 1024, as for every count the
 * tool reads), e.g. 4096, 64K, 1.5M, 2e9; a byte count may end in B or
 * iB (64KiB, 4096B). The value must be a whole number below 2^63.
 */
int
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

/* --memory: a comma-separated list of pinned, pageable, device and
 * registered (bits in MEMORY_* order). */
static int
parse_memory_list(const char *s, unsigned *mask)
{
	static const char *const names[] = {"pinned", "pageable", "device",
					    "registered"};
	const char *p = s;

	while (*p) {
		size_t len = strcspn(p, ",");
		bool found = false;

		for (unsigned k = 0; k < 4; k++)
			if (strlen(names[k]) == len &&
			    strncmp(p, names[k], len) == 0) {
				*mask |= 1u << k;
				found = true;
			}
		if (!found)
			return usage_error("bad --memory '%s' (a list of "
					   "pinned, pageable, device, "
					   "registered)",
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

#define STRINGIFY(x) #x
#define STRING_OF(x) STRINGIFY(x)
/* What --json's help says of the document, from FORMAT_VERSION. */
#define JSON_FORMAT "\"format\": " STRING_OF(FORMAT_VERSION)

static const struct command commands[] = {
	{"devices", "", "list every device and the specs that select it",
	 CMD_DEVICES, run_devices, NULL},
	{"transfer", "",
	 "host->device, device->host and device->device\n"
	 "bandwidth, pinned and pageable host memory",
	 CMD_TRANSFER, run_transfer, transfer_help_notes},
	{"kernel", " FILE.cl NAME", "time a kernel", CMD_KERNEL, run_kernel,
	 kernel_help_notes},
	{"latency", "",
	 "marker round trip, launch latency and the host\n"
	 "cost of one enqueue",
	 CMD_LATENCY, run_latency, NULL},
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
	[OPT_HELP] =
		{"help", NULL, CMD_ALL,
		 "show this help; after a command, that command's\nhelp only"},
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
			"which of pinned, pageable, device and\n"
			"registered to time (default: the first three;\n"
			"see below)"},
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

void
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
	for (size_t i = 0; i < N_COMMANDS; i++)
		if ((mask & commands[i].bit) && commands[i].help_notes)
			commands[i].help_notes(out);
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

int
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
