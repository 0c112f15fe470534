/* SPDX-License-Identifier: BSD-3-Clause */
#include "private.h"

const char *
clq_version(void)
{
	return CLQ_VERSION_STRING;
}
