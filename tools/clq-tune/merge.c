/* SPDX-License-Identifier: BSD-3-Clause */
/* clq-tune merge DST SRC...: copies results into DST, the sources winning. */
#include "clq-tune.h"

int
run_merge(const struct options *opt)
{
	struct clq_tune_db *db = NULL;
	size_t total = 0;
	int rc = clq_tune_db_open(opt->args[0], 0, &db);

	if (rc < 0) {
		report(opt->args[0], rc);
		return 1;
	}
	if (opt->json) {
		printf("{\"format\": %d, \"command\": \"merge\", \"db\": ",
		       FORMAT_VERSION);
		json_string(stdout, opt->args[0]);
		printf(", \"sources\": [");
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
			printf("%s\n  {\"path\": ", i > 1 ? "," : "");
			json_string(stdout, opt->args[i]);
			printf(", \"copied\": %zu}", copied);
		} else {
			printf("%s: %zu results copied\n", opt->args[i],
			       copied);
		}
	}
	if (opt->json)
		printf("\n], \"copied\": %zu}\n", total);
	clq_tune_db_close(db);
	return rc < 0 ? 1 : 0;
}
