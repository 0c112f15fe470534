/* SPDX-License-Identifier: BSD-3-Clause */
/* clq-tune list DB: every stored result. */
#include "clq-tune.h"

struct listing {
	const struct options *opt;
	size_t n;
};

static int
print_entry(const struct clq_tune_entry *e, void *data)
{
	struct listing *l = data;

	if (!l->opt->json) {
		printf("%s v%d  %s  [%s | %s | %s]  %s  %.4g s  %s  %s\n",
		       e->name, e->version, e->problem, e->device, e->platform,
		       e->driver, e->params, e->seconds, e->tuned_at, e->hash);
	} else {
		printf("%s\n  {\"name\": ", l->n ? "," : "");
		json_string(stdout, e->name);
		printf(", \"version\": %d, \"hash\": ", e->version);
		json_string(stdout, e->hash);
		printf(", \"problem\": ");
		json_string(stdout, e->problem);
		printf(", \"device\": ");
		json_string(stdout, e->device);
		printf(", \"platform\": ");
		json_string(stdout, e->platform);
		printf(", \"driver\": ");
		json_string(stdout, e->driver);
		printf(", \"params\": ");
		json_string(stdout, e->params);
		printf(", \"seconds\": ");
		json_number(stdout, e->seconds);
		printf(", \"tuned_at\": ");
		json_string(stdout, e->tuned_at);
		printf("}");
	}
	l->n++;
	return 0;
}

int
run_list(const struct options *opt)
{
	struct clq_tune_db *db = NULL;
	struct listing l = {.opt = opt};
	int rc = clq_tune_db_open(opt->args[0], CLQ_TUNE_DB_READONLY, &db);

	if (rc < 0) {
		report(opt->args[0], rc);
		return 1;
	}
	if (opt->json) {
		printf("{\"format\": %d, \"command\": \"list\", \"db\": ",
		       FORMAT_VERSION);
		json_string(stdout, opt->args[0]);
		printf(", \"entries\": [");
	}
	rc = clq_tune_db_list(db, NULL, print_entry, &l);
	if (opt->json)
		printf("\n]}\n");
	if (rc < 0)
		report(opt->args[0], rc);
	clq_tune_db_close(db);
	return rc < 0 ? 1 : 0;
}
