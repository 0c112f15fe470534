/* SPDX-License-Identifier: BSD-3-Clause */
/* Built with -std=c99 -pedantic -Wall -Wextra -Werror: the public headers
 * must be plain C99, the CLQ_ARG_ macros included (C99 has no _Generic, so
 * their values' types are unknown and only sizes are checked). Running it
 * checks that the library it links against matches. */
#include <clq/clq.h>
#include <string.h>

int
main(void)
{
	struct clq_device_array *a = NULL;
	cl_uint u = 1;
	cl_float f = 1;
	struct clq_arg args[6];
	int bad;

	args[0] = CLQ_ARG_ARRAY(a);
	args[1] = CLQ_ARG_IN(a);
	args[2] = CLQ_ARG_OUT(a);
	args[3] = CLQ_ARG_VALUE(u);
	args[4] = CLQ_ARG_VALUE(f);
	args[5] = CLQ_ARG_LOCAL(64);
	bad = strcmp(clq_version(), CLQ_VERSION_STRING) != 0;
	bad |= args[0].access != CLQ_ACCESS_READ_WRITE ||
	       args[1].access != CLQ_ACCESS_READ ||
	       args[2].access != CLQ_ACCESS_WRITE;
	bad |= args[3].type != CLQ_ARG_TYPE_UNKNOWN || args[3].size != 4 ||
	       args[4].type != CLQ_ARG_TYPE_UNKNOWN || args[4].value != &f;
	bad |= args[5].kind != CLQ_ARG_KIND_LOCAL || args[5].size != 64;
	return bad;
}
