/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the device-spec parser (clq__device_spec_parse), on any
 * bytes as a NUL-terminated string. Checks what a parse promises: a parsed
 * name is the trimmed, non-empty spec; an N or P:D spec is made of the
 * digits the input has; a refused spec leaves nothing to free.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "private.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *spec = malloc(size + 1);
	struct clq__device_spec parsed;
	int rc;

	clq_set_log_handler(fuzz_quiet, NULL);
	if (!spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	rc = clq__device_spec_parse(spec, &parsed);
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
		clq__device_spec_free(&parsed);
	} else if (rc != CLQ_ERROR_BAD_DEVICE_SPEC &&
		   rc != CL_OUT_OF_HOST_MEMORY) {
		abort();
	}
	free(spec);
	return 0;
}
