/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * clq-tune: tunes clq's kernels offline and manages tuning databases.
 *
 *   clq-tune run GRIDFILE          tune the grid's problems into a database
 *   clq-tune list DB               every stored result
 *   clq-tune merge DST SRC...      copy results into DST (the sources win)
 *   clq-tune forget DB NAME        delete a tunable's results
 *
 * clq-tune(1) describes the options, the grid file and the JSON output.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "clq-tune.h"

static const struct {
	const char *name;
	int min_args, max_args;
	int (*run)(const struct options *opt);
} commands[] = {
	{"run", 1, 1, run_run},
	{"list", 1, 1, run_list},
	{"merge", 2, 1000, run_merge},
	{"forget", 2, 2, run_forget},
};

static void
usage(FILE *out)
{
	fputs("usage: clq-tune run [--db PATH] [--device SPEC] [--budget S] "
	      "[--force]\n"
	      "                    [--quiet] [--json] GRIDFILE\n"
	      "       clq-tune list [--json] DB\n"
	      "       clq-tune merge [--json] DST SRC...\n"
	      "       clq-tune forget [--json] DB NAME\n"
	      "       clq-tune --help | --version\n"
	      "\n"
	      "  run     tune the grid file's problems, storing each result\n"
	      "  list    print every result a database holds\n"
	      "  merge   copy the results of SRC databases into DST\n"
	      "  forget  delete every result of tunable NAME\n"
	      "\n"
	      "  --db PATH      database (default: CLQ_TUNE_DB, else\n"
	      "                 $XDG_CACHE_HOME/clq/tune.db)\n"
	      "  --device SPEC  device (default: the grid file's, else\n"
	      "                 CLQ_DEVICE's choice)\n"
	      "  --budget S     device seconds per candidate (default: the\n"
	      "                 grid file's, else 0.1)\n"
	      "  --force        tune problems the database already has\n"
	      "  --quiet        no progress on stderr\n"
	      "  --json         print a JSON document on stdout\n"
	      "\n"
	      "See clq-tune(1).\n",
	      out);
}

void
report(const char *what, int rc)
{
	fprintf(stderr, "clq-tune: %s: %s (%s)\n", what, clq_strerror(rc),
		clq_error_name(rc));
}

static int
bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
bad_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("clq-tune: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(clq-tune --help shows the usage)\n", stderr);
	return EXIT_USAGE;
}

static void
log_to_stderr(enum clq_log_level level, const char *message, void *user_data)
{
	(void)user_data;
	if (level <= CLQ_LOG_WARNING)
		fprintf(stderr, "clq: %s: %s\n",
			level == CLQ_LOG_ERROR ? "error" : "warning", message);
}

int
main(int argc, char **argv)
{
	struct options opt = {0};
	int cmd = -1, rc;
	char **operands = calloc((size_t)argc + 1, sizeof(*operands));

	if (!operands)
		return EXIT_FAILURE;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			free(operands);
			return EXIT_SUCCESS;
		} else if (strcmp(a, "--version") == 0) {
			printf("clq-tune %s\n", clq_version());
			free(operands);
			return EXIT_SUCCESS;
		} else if (strcmp(a, "--json") == 0) {
			opt.json = true;
		} else if (strcmp(a, "--force") == 0) {
			opt.force = true;
		} else if (strcmp(a, "--quiet") == 0) {
			opt.quiet = true;
		} else if (strcmp(a, "--db") == 0 ||
			   strcmp(a, "--device") == 0 ||
			   strcmp(a, "--budget") == 0) {
			if (i + 1 == argc) {
				free(operands);
				return bad_usage("%s needs a value", a);
			}
			if (strcmp(a, "--db") == 0) {
				opt.db = argv[++i];
			} else if (strcmp(a, "--device") == 0) {
				opt.device = argv[++i];
			} else {
				char *end;

				errno = 0;
				opt.budget = strtod(argv[++i], &end);
				if (*end || errno || !isfinite(opt.budget) ||
				    opt.budget <= 0 || opt.budget > 3600) {
					free(operands);
					return bad_usage(
						"--budget '%s': expected "
						"seconds, more than 0 and at "
						"most 3600",
						argv[i]);
				}
			}
		} else if (a[0] == '-' && a[1]) {
			free(operands);
			return bad_usage("unknown option '%s'", a);
		} else if (!opt.command) {
			opt.command = a;
		} else {
			operands[opt.n_args++] = argv[i];
		}
	}
	opt.args = operands;
	if (!opt.command) {
		free(operands);
		return bad_usage("%s", "no command (expected run, list, merge "
				       "or forget)");
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, opt.command) == 0)
			cmd = (int)i;
	}
	if (cmd < 0) {
		free(operands);
		return bad_usage("unknown command '%s' (expected run, list, "
				 "merge or forget)",
				 opt.command);
	}
	if (opt.n_args < commands[cmd].min_args ||
	    opt.n_args > commands[cmd].max_args) {
		free(operands);
		return bad_usage("wrong number of operands for '%s'",
				 opt.command);
	}
	if (cmd != 0 && (opt.db || opt.device || opt.budget > 0 || opt.force ||
			 opt.quiet)) {
		free(operands);
		return bad_usage("--db, --device, --budget, --force and "
				 "--quiet are options of 'run', not '%s'",
				 opt.command);
	}
	clq_set_log_handler(log_to_stderr, NULL);
	rc = commands[cmd].run(&opt);
	free(operands);
	return rc == EXIT_USAGE ? EXIT_USAGE
	       : rc == 0	? EXIT_SUCCESS
				: EXIT_FAILURE;
}
