/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * consumer: a program built against an installed clq with nothing but what
 * pkg-config says (build.sh, next to this file). It prints the version of
 * the clq headers it was compiled with, the version of the library it
 * loaded, and the default device: the one clq_device_select(NULL) picks
 * (CLQ_DEVICE, PYOPENCL_CTX, else the first GPU, accelerator or CPU).
 *
 * Exits 0 when the two versions agree and the default device could be
 * read, or there is none; 1 otherwise.
 */
#include <stdio.h>
#include <string.h>

#include <clq/clq.h>

int
main(void)
{
	struct clq_device *device = NULL;
	int rc;

	printf("clq headers %s, library %s\n", CLQ_VERSION_STRING,
	       clq_version());
	if (strcmp(CLQ_VERSION_STRING, clq_version()) != 0) {
		fprintf(stderr,
			"consumer: compiled against clq %s, but the "
			"library loaded is %s\n",
			CLQ_VERSION_STRING, clq_version());
		return 1;
	}
	rc = clq_device_select(NULL, &device);
	if (rc == CLQ_ERROR_NO_DEVICE) {
		printf("default device: none\n");
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr,
			"consumer: choosing the default device: %s (%s)\n",
			clq_error_name(rc), clq_strerror(rc));
		return 1;
	}
	printf("default device: %s / %s\n",
	       clq_device_get_platform_name(device),
	       clq_device_get_name(device));
	clq_device_unref(device);
	return 0;
}
