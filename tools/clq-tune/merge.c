/* SPDX-License-Identifier: BSD-3-Clause */
/* clq-tune merge DST SRC...: copies results into DST, the sources winning. */
#include <stdlib.h>

#include "clq-tune.h"

int
run_merge(const struct options *opt)
{
	struct clq_tune_db *db = NULL;
	size_t total = 0, len = 0;
	char *buf = NULL;
	FILE *out = stdout;
	int rc = clq_tune_db_open(opt->args[0], 0, &db);

	if (rc < 0) {
		report(opt->args[0], rc);
		return 1;
	}
	/* JSON is held back until every source is merged: a failure prints
	 * none (the sources merged before it stay merged, as the text says). */
	if (opt->json && !(out = open_memstream(&buf, &len))) {
		report(opt->args[0], CL_OUT_OF_HOST_MEMORY);
		clq_tune_db_close(db);
		return 1;
	}
	for (int i = 1; i < opt->n_args && rc == CLQ_SUCCESS; i++) {
		size_t copied = 0;

		rc = clq_tune_db_merge(db, opt->args[i], &copied);
		if (rc < 0) {
			report(opt->args[i], rc);
			break;
		}
		total += copied;
		if (opt->json) {
			fprintf(out, "%s\n  {\"path\": ", i > 1 ? "," : "");
			json_write_string(out, opt->args[i]);
			fprintf(out, ", \"copied\": %zu}", copied);
		} else {
			printf("%s: %zu results copied\n", opt->args[i],
			       copied);
		}
	}
	if (opt->json) {
		if (fclose(out) != 0 || !buf) {
			if (rc == CLQ_SUCCESS)
				report(opt->args[0], CL_OUT_OF_HOST_MEMORY);
			rc = rc < 0 ? rc : CL_OUT_OF_HOST_MEMORY;
		}
		if (rc == CLQ_SUCCESS) {
			printf("{\"format\": %d, \"command\": \"merge\", "
			       "\"db\": ",
			       FORMAT_VERSION);
			json_write_string(stdout, opt->args[0]);
			printf(", \"sources\": [%s\n], \"copied\": %zu}\n", buf,
			       total);
		}
		free(buf);
	}
	clq_tune_db_close(db);
	return rc < 0 ? 1 : 0;
}
