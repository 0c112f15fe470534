// SPDX-License-Identifier: BSD-3-Clause
// The public headers compile as C++ (-Wall -Wextra -Wpedantic -Werror) and
// link with C linkage; the CLQ_ARG_ macros, which are compound literals in
// C, build the same arguments with the same type tags in C++.
#include <clq/clq.h>
#include <cstring>

int
main()
{
	struct clq_device *device = nullptr;
	struct clq_device_array *a = nullptr;
	int rc = clq_device_get(static_cast<size_t>(-1), &device);
	cl_char c = 1;
	cl_uchar uc = 1;
	cl_short s = 1;
	cl_ushort us = 1;
	cl_half half = 1;
	cl_int i = 1;
	cl_uint u = 1;
	const cl_uint cu = 1;
	cl_long l = 1;
	cl_ulong ul = 1;
	long long ll = 1;
	unsigned long long ull = 1;
	size_t size = 1;
	cl_float f = 1;
	cl_double d = 1;
	char plain = 'x';
	cl_float4 v4 = {};
	bool b = true;
	const struct clq_arg args[] = {
		CLQ_ARG_ARRAY(a),   CLQ_ARG_IN(a),	  CLQ_ARG_OUT(a),
		CLQ_ARG_INOUT(a),   CLQ_ARG_VALUE(c),	  CLQ_ARG_VALUE(uc),
		CLQ_ARG_VALUE(s),   CLQ_ARG_VALUE(us),	  CLQ_ARG_VALUE(half),
		CLQ_ARG_VALUE(i),   CLQ_ARG_VALUE(u),	  CLQ_ARG_VALUE(cu),
		CLQ_ARG_VALUE(l),   CLQ_ARG_VALUE(ul),	  CLQ_ARG_VALUE(ll),
		CLQ_ARG_VALUE(ull), CLQ_ARG_VALUE(size),  CLQ_ARG_VALUE(f),
		CLQ_ARG_VALUE(d),   CLQ_ARG_VALUE(plain), CLQ_ARG_VALUE(v4),
		CLQ_ARG_VALUE(b),   CLQ_ARG_BYTES(&i, 4), CLQ_ARG_LOCAL(64),
	};
	const enum clq_arg_type types[] = {
		CLQ_ARG_TYPE_UNKNOWN, CLQ_ARG_TYPE_UNKNOWN,
		CLQ_ARG_TYPE_UNKNOWN, CLQ_ARG_TYPE_UNKNOWN,
		CLQ_ARG_TYPE_CHAR,    CLQ_ARG_TYPE_UCHAR,
		CLQ_ARG_TYPE_SHORT,   CLQ_ARG_TYPE_USHORT,
		CLQ_ARG_TYPE_USHORT,  CLQ_ARG_TYPE_INT,
		CLQ_ARG_TYPE_UINT,    CLQ_ARG_TYPE_UINT,
		CLQ_ARG_TYPE_LONG,    CLQ_ARG_TYPE_ULONG,
		CLQ_ARG_TYPE_LONG,    CLQ_ARG_TYPE_ULONG,
		CLQ_ARG_TYPE_ULONG,   CLQ_ARG_TYPE_FLOAT,
		CLQ_ARG_TYPE_DOUBLE,  CLQ_ARG_TYPE_CHAR,
		CLQ_ARG_TYPE_UNKNOWN, CLQ_ARG_TYPE_UNKNOWN,
		CLQ_ARG_TYPE_UNKNOWN, CLQ_ARG_TYPE_UNKNOWN,
	};
	const enum clq_access access[4] = {
		CLQ_ACCESS_READ_WRITE,
		CLQ_ACCESS_READ,
		CLQ_ACCESS_WRITE,
		CLQ_ACCESS_READ_WRITE,
	};
	const size_t n = sizeof(args) / sizeof(*args);
	int bad = rc != CLQ_ERROR_OUT_OF_RANGE || device != nullptr ||
		  std::strcmp(clq_version(), CLQ_VERSION_STRING) != 0 ||
		  n != sizeof(types) / sizeof(*types);

	for (size_t k = 0; k < n; k++) {
		bad |= args[k].type != types[k];
		if (k < 4)
			bad |= args[k].kind != CLQ_ARG_KIND_ARRAY ||
			       args[k].access != access[k];
	}
	bad |= args[4].kind != CLQ_ARG_KIND_VALUE || args[4].size != 1 ||
	       args[4].value != &c || args[20].size != 16 ||
	       args[22].value != &i || args[22].size != 4 ||
	       args[23].kind != CLQ_ARG_KIND_LOCAL || args[23].size != 64;
	return bad ? 1 : 0;
}
