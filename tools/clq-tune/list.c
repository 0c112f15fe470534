/* SPDX-License-Identifier: BSD-3-Clause */
/* clq-tune list DB: every stored result. */
#include <stdlib.h>

#include "clq-tune.h"

struct listing {
	const struct options *opt;
	FILE *out; /* stdout, or a buffer for --json */
	size_t n;
};

static int
print_entry(const struct clq_tune_entry *e, void *data)
{
	struct listing *l = data;

	if (!l->opt->json) {
		fprintf(l->out,
			"%s v%d  %s  [%s | %s | %s]  %s  %.4g s  %s  %s\n",
			e->name, e->version, e->problem, e->device, e->platform,
			e->driver, e->params, e->seconds, e->tuned_at, e->hash);
	} else {
		fprintf(l->out, "%s\n  {\"name\": ", l->n ? "," : "");
		json_write_string(l->out, e->name);
		fprintf(l->out, ", \"version\": %d, \"hash\": ", e->version);
		json_write_string(l->out, e->hash);
		fprintf(l->out, ", \"problem\": ");
		json_write_string(l->out, e->problem);
		fprintf(l->out, ", \"device\": ");
		json_write_string(l->out, e->device);
		fprintf(l->out, ", \"platform\": ");
		json_write_string(l->out, e->platform);
		fprintf(l->out, ", \"driver\": ");
		json_write_string(l->out, e->driver);
		fprintf(l->out, ", \"params\": ");
		json_write_string(l->out, e->params);
		fprintf(l->out, ", \"seconds\": ");
		json_write_number(l->out, e->seconds);
		fprintf(l->out, ", \"tuned_at\": ");
		json_write_string(l->out, e->tuned_at);
		fprintf(l->out, "}");
	}
	l->n++;
	return 0;
}

int
run_list(const struct options *opt)
{
	struct clq_tune_db *db = NULL;
	struct listing l = {.opt = opt, .out = stdout};
	char *buf = NULL;
	size_t len = 0;
	int rc = clq_tune_db_open(opt->args[0], CLQ_TUNE_DB_READONLY, &db);

	if (rc < 0) {
		report(opt->args[0], rc);
		return 1;
	}
	/* JSON is held back until the walk ends: a failure prints none. */
	if (opt->json && !(l.out = open_memstream(&buf, &len))) {
		report(opt->args[0], CL_OUT_OF_HOST_MEMORY);
		clq_tune_db_close(db);
		return 1;
	}
	rc = clq_tune_db_list(db, NULL, print_entry, &l);
	if (opt->json) {
		bool failed = fclose(l.out) != 0 || !buf;

		if (rc >= 0 && failed)
			rc = CL_OUT_OF_HOST_MEMORY;
		if (rc >= 0) {
			printf("{\"format\": %d, \"command\": \"list\", "
			       "\"db\": ",
			       FORMAT_VERSION);
			json_write_string(stdout, opt->args[0]);
			printf(", \"entries\": [%s\n]}\n", buf);
		}
		free(buf);
	}
	if (rc < 0)
		report(opt->args[0], rc);
	clq_tune_db_close(db);
	return rc < 0 ? 1 : 0;
}
