/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: clq-tune's grid-file parser (tools/clq-tune/grid.c), with
 * the parameter-set parser it calls (clq_params_parse), on any bytes.
 * Checks what a parse promises: a refusal says which line and leaves
 * nothing to free; an accepted file names a tunable and at least one
 * problem, and each problem's text form parses back to an equal set.
 */
#include <stdlib.h>
#include <string.h>

#include "clq-tune.h"
#include "fuzz-common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct grid g;
	char err[256];
	int rc;

	clq_set_log_handler(fuzz_quiet, NULL);
	rc = grid_parse((const char *)data, size, &g, err, sizeof(err));
	if (rc == CLQ_ERROR_INVALID_ARGUMENT) {
		if (strncmp(err, "line ", 5) != 0 || g.problems || g.device ||
		    g.n_problems)
			abort();
		return 0;
	}
	if (rc == CL_OUT_OF_HOST_MEMORY)
		return 0;
	if (rc != CLQ_SUCCESS || !g.tunable[0] || !g.n_problems ||
	    g.n_problems > GRID_MAX_PROBLEMS || g.budget < 0)
		abort();
	for (size_t i = 0; i < g.n_problems; i++) {
		struct clq_params *back = NULL;
		char *text = NULL;

		if (clq_params_format(g.problems[i], &text) < 0)
			continue; /* out of memory */
		if (clq_params_parse(text, &back) == CLQ_SUCCESS &&
		    !clq_params_equal(back, g.problems[i]))
			abort();
		clq_params_free(back);
		free(text);
	}
	grid_free(&g);
	return 0;
}
