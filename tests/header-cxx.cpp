// SPDX-License-Identifier: BSD-3-Clause
// The public headers compile as C++ and link with C linkage.
#include <clq/clq.h>
#include <cstring>

int
main()
{
	struct clq_device *device = nullptr;
	int rc = clq_device_get(static_cast<size_t>(-1), &device);

	return (rc == CLQ_ERROR_OUT_OF_RANGE && device == nullptr &&
		std::strcmp(clq_version(), CLQ_VERSION_STRING) == 0)
		       ? 0
		       : 1;
}
