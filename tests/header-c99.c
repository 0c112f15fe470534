/* SPDX-License-Identifier: BSD-3-Clause */
/* Built with -std=c99 -pedantic -Werror: the public headers must be plain
 * C99. Running it checks that the library it links against matches. */
#include <clq/clq.h>
#include <string.h>

int
main(void)
{
	return strcmp(clq_version(), CLQ_VERSION_STRING) != 0;
}
