/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: kernel search path and #include resolution
 * (clq__program_expand, what clq_program_create_from_* compile), over a
 * scratch tree made once per process: an include cycle, a file that
 * includes itself (also as "../sub/d.cl" and "./d.cl"), a relative include
 * from a subdirectory, a symbolic link to a file and one to a directory
 * above (a loop of ever longer spellings), a `#pragma once` file, a chain
 * deeper than the nesting limit, a file with a NUL byte, a directory named
 * like a file, and the built-in kernels. Input: "F" then a file name to look up
 * along the path, or anything else as top-level source. Checks: only the
 * documented codes; a result is NUL-terminated and keeps every line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz-common.h"
#include "private.h"

static char root[64];
static char sub[80];

static void
put(const char *name, const char *text, size_t len)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	if (!(f = fopen(path, "wb")) || fwrite(text, 1, len, f) != len)
		abort();
	fclose(f);
}

static void
remove_tree(void)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", root);
}

static void
make_tree(void)
{
	char name[96], text[64];

	snprintf(root, sizeof(root), "/tmp/clq-fuzz-include-XXXXXX");
	if (!mkdtemp(root))
		abort();
	snprintf(sub, sizeof(sub), "%s/sub", root);
	if (mkdir(sub, 0700) != 0)
		abort();
	snprintf(name, sizeof(name), "%s/dir.cl", root);
	if (mkdir(name, 0700) != 0)
		abort();
	put("a.cl", "#include \"b.cl\"\nint a;\n", 23);
	put("b.cl", "#include \"a.cl\"\nint b;\n", 23);
	put("self.cl", "#include \"self.cl\"\n", 19);
	put("sub/c.cl", "#include \"../a.cl\"\n#include <fill.cl>\n", 39);
	put("nul.cl", "int x;\n\0int y;\n", 15);
	put("sub/d.cl", "#include \"../sub/d.cl\"\n#include \"./d.cl\"\n", 41);
	put("once.cl", "#pragma once\nint once;\n", 23);
	snprintf(name, sizeof(name), "%s/link.cl", root);
	if (symlink("a.cl", name) != 0)
		abort();
	snprintf(name, sizeof(name), "%s/up", sub);
	if (symlink("..", name) != 0)
		abort();
	for (int i = 0; i < 40; i++) {
		int n;

		snprintf(name, sizeof(name), "deep%d.cl", i);
		n = snprintf(text, sizeof(text), "#include \"deep%d.cl\"\n",
			     i + 1);
		put(name, text, (size_t)n);
	}
	atexit(remove_tree);
	clq_set_log_handler(fuzz_quiet, NULL);
}

static size_t
count_lines(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += s[i] == '\n';
	return n + (len > 0 && s[len - 1] != '\n');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dirs[2] = {root, sub};
	int file_mode = size > 0 && data[0] == 'F';
	char *input, *text = NULL, *name = NULL;
	int rc;

	if (!root[0])
		make_tree();
	if (!(input = malloc(size + 1)))
		return 0;
	memcpy(input, data, size);
	input[size] = '\0';
	if (file_mode)
		rc = input[1] ? clq__program_expand(NULL, "fuzz", input + 1,
						    NULL, dirs, 2, &text, &name)
			      : CLQ_ERROR_NOT_FOUND;
	else
		rc = clq__program_expand(NULL, "fuzz", NULL, input, dirs, 2,
					 &text, &name);
	if (rc == CLQ_SUCCESS) {
		/* every line of a top-level source is kept (or replaced by
		 * its include's text and a #line directive) */
		if (!text || !name ||
		    (!file_mode && count_lines(text, strlen(text)) <
					   count_lines(input, strlen(input))))
			abort();
	} else if (text || name ||
		   (rc != CLQ_ERROR_NOT_FOUND && rc != CLQ_ERROR_IO &&
		    rc != CLQ_ERROR_OVERFLOW && rc != CL_OUT_OF_HOST_MEMORY) ||
		   (rc == CLQ_ERROR_NOT_FOUND && !file_mode)) {
		abort();
	}
	free(text);
	free(name);
	free(input);
	return 0;
}
