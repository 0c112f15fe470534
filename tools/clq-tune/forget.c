/* SPDX-License-Identifier: BSD-3-Clause */
/* clq-tune forget DB NAME: deletes every result of one tunable. */
#include <ctype.h>
#include <string.h>

#include "clq-tune.h"

int
run_forget(const struct options *opt)
{
	struct clq_tune_db *db = NULL;
	size_t removed = 0;
	const char *name = opt->args[1];
	int rc;

	/* A tunable name is an identifier (clq_tunable_create()). */
	rc = (isalpha((unsigned char)name[0]) || name[0] == '_') &&
	     strlen(name) <= 63;
	for (const char *c = name; rc && *c; c++)
		rc = isalnum((unsigned char)*c) || *c == '_';
	if (!rc) {
		fprintf(stderr,
			"clq-tune: forget: '%s' is not a tunable name "
			"(expected an identifier of at most 63 bytes)\n",
			name);
		return EXIT_USAGE;
	}
	rc = clq_tune_db_open(opt->args[0], CLQ_TUNE_DB_READONLY, &db);

	/* Opened read-only first: forgetting in no database makes none. */
	if (rc == CLQ_SUCCESS) {
		clq_tune_db_close(db);
		rc = clq_tune_db_open(opt->args[0], 0, &db);
	}
	if (rc < 0) {
		report(opt->args[0], rc);
		return 1;
	}
	rc = clq_tune_db_forget(db, opt->args[1], &removed);
	if (rc < 0)
		report(opt->args[0], rc);
	else if (opt->json) {
		printf("{\"format\": %d, \"command\": \"forget\", \"name\": ",
		       FORMAT_VERSION);
		json_write_string(stdout, opt->args[1]);
		printf(", \"removed\": %zu}\n", removed);
	} else
		printf("%s: %zu results of %s removed\n", opt->args[0], removed,
		       opt->args[1]);
	clq_tune_db_close(db);
	return rc < 0 ? 1 : 0;
}
