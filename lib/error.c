/* SPDX-License-Identifier: BSD-3-Clause */
#include "private.h"

/* OpenCL's codes, 1.2 to 3.0, and the extension codes a driver may return:
 * X(value, name, message). */
#define CL_STATUS_CODES(X)                                                    \
	X(0, "CL_SUCCESS", "success")                                         \
	X(-1, "CL_DEVICE_NOT_FOUND", "no device of the requested type")       \
	X(-2, "CL_DEVICE_NOT_AVAILABLE", "device not available")              \
	X(-3, "CL_COMPILER_NOT_AVAILABLE", "no OpenCL C compiler available")  \
	X(-4, "CL_MEM_OBJECT_ALLOCATION_FAILURE",                             \
	  "device memory allocation failed")                                  \
	X(-5, "CL_OUT_OF_RESOURCES", "device out of resources")               \
	X(-6, "CL_OUT_OF_HOST_MEMORY", "host out of memory")                  \
	X(-7, "CL_PROFILING_INFO_NOT_AVAILABLE",                              \
	  "profiling information not available")                              \
	X(-8, "CL_MEM_COPY_OVERLAP", "source and destination overlap")        \
	X(-9, "CL_IMAGE_FORMAT_MISMATCH", "image formats differ")             \
	X(-10, "CL_IMAGE_FORMAT_NOT_SUPPORTED", "image format not supported") \
	X(-11, "CL_BUILD_PROGRAM_FAILURE", "program build failed")            \
	X(-12, "CL_MAP_FAILURE", "mapping failed")                            \
	X(-13, "CL_MISALIGNED_SUB_BUFFER_OFFSET",                             \
	  "sub-buffer offset not aligned")                                    \
	X(-14, "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST",                \
	  "an event in the wait list failed")                                 \
	X(-15, "CL_COMPILE_PROGRAM_FAILURE", "program compilation failed")    \
	X(-16, "CL_LINKER_NOT_AVAILABLE", "no linker available")              \
	X(-17, "CL_LINK_PROGRAM_FAILURE", "program link failed")              \
	X(-18, "CL_DEVICE_PARTITION_FAILED", "device partition failed")       \
	X(-19, "CL_KERNEL_ARG_INFO_NOT_AVAILABLE",                            \
	  "kernel argument information not available")                        \
	X(-30, "CL_INVALID_VALUE", "invalid value")                           \
	X(-31, "CL_INVALID_DEVICE_TYPE", "invalid device type")               \
	X(-32, "CL_INVALID_PLATFORM", "invalid platform")                     \
	X(-33, "CL_INVALID_DEVICE", "invalid device")                         \
	X(-34, "CL_INVALID_CONTEXT", "invalid context")                       \
	X(-35, "CL_INVALID_QUEUE_PROPERTIES", "invalid queue properties")     \
	X(-36, "CL_INVALID_COMMAND_QUEUE", "invalid command queue")           \
	X(-37, "CL_INVALID_HOST_PTR", "invalid host pointer")                 \
	X(-38, "CL_INVALID_MEM_OBJECT", "invalid memory object")              \
	X(-39, "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR",                          \
	  "invalid image format descriptor")                                  \
	X(-40, "CL_INVALID_IMAGE_SIZE", "invalid image size")                 \
	X(-41, "CL_INVALID_SAMPLER", "invalid sampler")                       \
	X(-42, "CL_INVALID_BINARY", "invalid program binary")                 \
	X(-43, "CL_INVALID_BUILD_OPTIONS", "invalid build options")           \
	X(-44, "CL_INVALID_PROGRAM", "invalid program")                       \
	X(-45, "CL_INVALID_PROGRAM_EXECUTABLE",                               \
	  "program not built for the device")                                 \
	X(-46, "CL_INVALID_KERNEL_NAME", "no kernel of that name")            \
	X(-47, "CL_INVALID_KERNEL_DEFINITION", "invalid kernel definition")   \
	X(-48, "CL_INVALID_KERNEL", "invalid kernel")                         \
	X(-49, "CL_INVALID_ARG_INDEX", "invalid kernel argument index")       \
	X(-50, "CL_INVALID_ARG_VALUE", "invalid kernel argument value")       \
	X(-51, "CL_INVALID_ARG_SIZE", "invalid kernel argument size")         \
	X(-52, "CL_INVALID_KERNEL_ARGS", "kernel arguments not all set")      \
	X(-53, "CL_INVALID_WORK_DIMENSION", "invalid work dimension")         \
	X(-54, "CL_INVALID_WORK_GROUP_SIZE", "invalid work-group size")       \
	X(-55, "CL_INVALID_WORK_ITEM_SIZE", "invalid work-item size")         \
	X(-56, "CL_INVALID_GLOBAL_OFFSET", "invalid global offset")           \
	X(-57, "CL_INVALID_EVENT_WAIT_LIST", "invalid event wait list")       \
	X(-58, "CL_INVALID_EVENT", "invalid event")                           \
	X(-59, "CL_INVALID_OPERATION", "invalid operation")                   \
	X(-60, "CL_INVALID_GL_OBJECT", "invalid OpenGL object")               \
	X(-61, "CL_INVALID_BUFFER_SIZE", "invalid buffer size")               \
	X(-62, "CL_INVALID_MIP_LEVEL", "invalid mip level")                   \
	X(-63, "CL_INVALID_GLOBAL_WORK_SIZE", "invalid global work size")     \
	X(-64, "CL_INVALID_PROPERTY", "invalid property")                     \
	X(-65, "CL_INVALID_IMAGE_DESCRIPTOR", "invalid image descriptor")     \
	X(-66, "CL_INVALID_COMPILER_OPTIONS", "invalid compiler options")     \
	X(-67, "CL_INVALID_LINKER_OPTIONS", "invalid linker options")         \
	X(-68, "CL_INVALID_DEVICE_PARTITION_COUNT",                           \
	  "invalid device partition count")                                   \
	X(-69, "CL_INVALID_PIPE_SIZE", "invalid pipe size")                   \
	X(-70, "CL_INVALID_DEVICE_QUEUE", "invalid device queue")             \
	X(-71, "CL_INVALID_SPEC_ID", "invalid specialization constant id")    \
	X(-72, "CL_MAX_SIZE_RESTRICTION_EXCEEDED",                            \
	  "size exceeds the device's limit")                                  \
	X(-1000, "CL_INVALID_GL_SHAREGROUP_REFERENCE_KHR",                    \
	  "invalid OpenGL share group")                                       \
	X(-1001, "CL_PLATFORM_NOT_FOUND_KHR", "no OpenCL platform installed") \
	X(-1002, "CL_INVALID_D3D10_DEVICE_KHR", "invalid Direct3D 10 device") \
	X(-1003, "CL_INVALID_D3D10_RESOURCE_KHR",                             \
	  "invalid Direct3D 10 resource")                                     \
	X(-1004, "CL_D3D10_RESOURCE_ALREADY_ACQUIRED_KHR",                    \
	  "Direct3D 10 resource already acquired")                            \
	X(-1005, "CL_D3D10_RESOURCE_NOT_ACQUIRED_KHR",                        \
	  "Direct3D 10 resource not acquired")                                \
	X(-1006, "CL_INVALID_D3D11_DEVICE_KHR", "invalid Direct3D 11 device") \
	X(-1007, "CL_INVALID_D3D11_RESOURCE_KHR",                             \
	  "invalid Direct3D 11 resource")                                     \
	X(-1008, "CL_D3D11_RESOURCE_ALREADY_ACQUIRED_KHR",                    \
	  "Direct3D 11 resource already acquired")                            \
	X(-1009, "CL_D3D11_RESOURCE_NOT_ACQUIRED_KHR",                        \
	  "Direct3D 11 resource not acquired")                                \
	X(-1010, "CL_INVALID_DX9_MEDIA_ADAPTER_KHR",                          \
	  "invalid DirectX 9 media adapter")                                  \
	X(-1011, "CL_INVALID_DX9_MEDIA_SURFACE_KHR",                          \
	  "invalid DirectX 9 media surface")                                  \
	X(-1012, "CL_DX9_MEDIA_SURFACE_ALREADY_ACQUIRED_KHR",                 \
	  "DirectX 9 media surface already acquired")                         \
	X(-1013, "CL_DX9_MEDIA_SURFACE_NOT_ACQUIRED_KHR",                     \
	  "DirectX 9 media surface not acquired")                             \
	X(-1057, "CL_DEVICE_PARTITION_FAILED_EXT", "device partition failed") \
	X(-1058, "CL_INVALID_PARTITION_COUNT_EXT", "invalid partition count") \
	X(-1059, "CL_INVALID_PARTITION_NAME_EXT", "invalid partition name")   \
	X(-1092, "CL_EGL_RESOURCE_NOT_ACQUIRED_KHR",                          \
	  "EGL resource not acquired")                                        \
	X(-1093, "CL_INVALID_EGL_OBJECT_KHR", "invalid EGL object")           \
	X(-1094, "CL_INVALID_ACCELERATOR_INTEL", "invalid accelerator")       \
	X(-1095, "CL_INVALID_ACCELERATOR_TYPE_INTEL",                         \
	  "invalid accelerator type")                                         \
	X(-1096, "CL_INVALID_ACCELERATOR_DESCRIPTOR_INTEL",                   \
	  "invalid accelerator descriptor")                                   \
	X(-1097, "CL_ACCELERATOR_TYPE_NOT_SUPPORTED_INTEL",                   \
	  "accelerator type not supported")                                   \
	X(-1098, "CL_INVALID_VA_API_MEDIA_ADAPTER_INTEL",                     \
	  "invalid VA-API media adapter")                                     \
	X(-1099, "CL_INVALID_VA_API_MEDIA_SURFACE_INTEL",                     \
	  "invalid VA-API media surface")                                     \
	X(-1100, "CL_VA_API_MEDIA_SURFACE_ALREADY_ACQUIRED_INTEL",            \
	  "VA-API media surface already acquired")                            \
	X(-1101, "CL_VA_API_MEDIA_SURFACE_NOT_ACQUIRED_INTEL",                \
	  "VA-API media surface not acquired")                                \
	X(-1108, "CL_COMMAND_TERMINATED_ITSELF_WITH_FAILURE_ARM",             \
	  "command terminated itself with failure")                           \
	X(-1121, "CL_CONTEXT_TERMINATED_KHR", "context terminated")           \
	X(-1138, "CL_INVALID_COMMAND_BUFFER_KHR", "invalid command buffer")   \
	X(-1139, "CL_INVALID_SYNC_POINT_WAIT_LIST_KHR",                       \
	  "invalid sync point wait list")                                     \
	X(-1140, "CL_INCOMPATIBLE_COMMAND_QUEUE_KHR",                         \
	  "incompatible command queue")                                       \
	X(-1141, "CL_INVALID_MUTABLE_COMMAND_KHR", "invalid mutable command") \
	X(-1142, "CL_INVALID_SEMAPHORE_KHR", "invalid semaphore")

struct status_entry {
	int value;
	const char *name;
	const char *message;
};

#define CL_ENTRY(value, name, message) {value, name, message},
#define CLQ_ENTRY(name, value, message) {value, #name, message},

static const struct status_entry cl_entries[] = {CL_STATUS_CODES(CL_ENTRY)};
static const struct status_entry clq_entries[] = {CLQ_STATUS_CODES(CLQ_ENTRY)};

static const struct status_entry *
find_entry(int status)
{
	/* CLQ_SUCCESS and CL_SUCCESS are both 0: clq's table is searched
	 * only for its own range, so 0 reads "CL_SUCCESS" as OpenCL has it. */
	const struct status_entry *table = cl_entries;
	size_t n = sizeof(cl_entries) / sizeof(cl_entries[0]);

	if (status <= -4000 && status > -4100) {
		table = clq_entries;
		n = sizeof(clq_entries) / sizeof(clq_entries[0]);
	}
	for (size_t i = 0; i < n; i++) {
		if (table[i].value == status)
			return &table[i];
	}
	return NULL;
}

const char *
clq_strerror(int status)
{
	const struct status_entry *e = find_entry(status);

	return e ? e->message : "unknown error";
}

const char *
clq_error_name(int status)
{
	const struct status_entry *e = find_entry(status);

	return e ? e->name : "CLQ_UNKNOWN_ERROR";
}
