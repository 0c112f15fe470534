/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * clq-time: times transfers, kernels and latencies on any OpenCL device.
 *
 *   clq-time devices                      every device, with its specs
 *   clq-time transfer [--size LIST]       host<->device and device copies
 *   clq-time kernel FILE.cl NAME ...      a user kernel
 *   clq-time latency                      round trips, launch, enqueue cost
 *
 * `clq-time --help`, `clq-time COMMAND --help` and clq-time(1) describe
 * the options; --json prints a document whose "format" field is
 * FORMAT_VERSION (bumped on any incompatible change) and whose times are
 * all seconds, in fields named "..._s". Each command is a file of its
 * own; clq-time.h lists what they share.
 */
#include <stdlib.h>

#include "clq-time.h"

static void
log_to_stderr(enum clq_log_level level, const char *message, void *user_data)
{
	(void)user_data;
	if (level <= CLQ_LOG_WARNING)
		fprintf(stderr, "clq: %s\n", message);
}

int
main(int argc, char **argv)
{
	struct options opt;
	int rc = parse_options(argc, argv, &opt);

	if (rc != 0)
		return rc == 1 ? EXIT_SUCCESS : EXIT_USAGE;
	clq_set_log_handler(log_to_stderr, NULL);
	rc = opt.cmd->run(&opt);
	if (rc == USAGE_FAILED)
		return EXIT_USAGE;
	return rc == CLQ_SUCCESS ? EXIT_SUCCESS : EXIT_FAILURE;
}
