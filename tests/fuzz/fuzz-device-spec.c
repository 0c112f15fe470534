/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the device-spec parsers (clq__device_spec_parse with both
 * grammars, clq__pyopencl_index), on any bytes as a NUL-terminated string.
 * Checks what a parse promises. clq's grammar: a parsed name is the
 * trimmed, non-empty spec; an N or P:D spec is made of the digits the
 * input has; a refused spec leaves nothing to free. PyOpenCL's grammar:
 * refused exactly when the spec has two colons, else split at its colon
 * with nothing lost. An index is the decimal number the answer writes.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "private.h"

static void
check_clq(const char *spec)
{
	struct clq__device_spec parsed;
	int rc = clq__device_spec_parse(spec, CLQ__GRAMMAR_CLQ, &parsed);

	if (rc == CLQ_SUCCESS) {
		if (parsed.kind == CLQ__SPEC_NAME) {
			if (!parsed.name || !parsed.name[0] ||
			    !strstr(spec, parsed.name))
				abort();
		} else if (parsed.kind != CLQ__SPEC_INDEX &&
			   parsed.kind != CLQ__SPEC_PAIR) {
			abort();
		} else if (!strpbrk(spec, "0123456789") || parsed.name) {
			abort();
		}
		if (parsed.device)
			abort();
		clq__device_spec_free(&parsed);
	} else if (rc != CLQ_ERROR_BAD_DEVICE_SPEC &&
		   rc != CL_OUT_OF_HOST_MEMORY) {
		abort();
	}
}

static void
check_pyopencl(const char *spec)
{
	struct clq__device_spec parsed;
	const char *colon = strchr(spec, ':');
	int two_colons = colon && strchr(colon + 1, ':');
	int rc = clq__device_spec_parse(spec, CLQ__GRAMMAR_PYOPENCL, &parsed);
	size_t len;

	if (rc == CL_OUT_OF_HOST_MEMORY)
		return;
	if (rc == CLQ_ERROR_BAD_DEVICE_SPEC) {
		if (!two_colons)
			abort();
		return;
	}
	if (rc != CLQ_SUCCESS || two_colons ||
	    parsed.kind != CLQ__SPEC_PYOPENCL || !parsed.name)
		abort();
	len = strlen(parsed.name);
	if (strncmp(spec, parsed.name, len) != 0 ||
	    (colon ? !parsed.device || spec + len != colon ||
			     strcmp(colon + 1, parsed.device) != 0
		   : parsed.device || spec[len] != '\0'))
		abort();
	clq__device_spec_free(&parsed);
}

/* The digits of a Python int answer, without blanks, sign, '_' or leading
 * zeros ("0" for zero). */
static void
digits_of(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s && n + 1 < size; s++) {
		if (isdigit((unsigned char)*s) && (n > 0 || *s != '0'))
			out[n++] = *s;
	}
	if (n == 0 && n + 1 < size)
		out[n++] = '0';
	out[n] = '\0';
}

static void
check_index(const char *answer)
{
	char want[64], got[32];
	size_t v = 0;

	if (!clq__pyopencl_index(answer, &v))
		return;
	/* Nothing but blanks, one sign, digits and '_' between digits. */
	if (!strpbrk(answer, "0123456789") || strstr(answer, "__") ||
	    strchr(answer, '-') != strrchr(answer, '-'))
		abort();
	digits_of(answer, want, sizeof(want));
	snprintf(got, sizeof(got), "%zu", v);
	if (strcmp(want, got) != 0)
		abort();
	if (strchr(answer, '-') && v != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *spec = malloc(size + 1);

	clq_set_log_handler(fuzz_quiet, NULL);
	if (!spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	check_clq(spec);
	check_pyopencl(spec);
	check_index(spec);
	free(spec);
	return 0;
}
