/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CLQ_DEVICE_H
#define CLQ_DEVICE_H

/**
 * @file
 * Devices and device selection: see @ref device.
 */

#include <clq/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup device Devices
 * OpenCL devices across all platforms, and choosing one by a spec string.
 *
 * Devices are numbered globally: platforms in the order the ICD loader lists
 * them, each platform's devices in its own order. A machine with no OpenCL
 * platform at all has zero devices; that is not an error.
 *
 * A device's properties are read once, when the device object is made, so
 * the getters cannot fail (given NULL they return NULL or 0). Device objects are immutable apart from their
 * reference count and may be shared between threads freely.
 *
 * Enumeration (clq_device_count(), clq_device_get(), clq_device_select(),
 * clq_context_create_default()) is thread-safe: clq asks the driver for
 * platforms and devices from one thread at a time, because PoCL 3.1
 * initialises its devices on the first `clGetDeviceIDs` without a lock (a
 * second thread then saw no device, or too few, and the process could
 * crash). A program that calls `clGetDeviceIDs` itself on other threads
 * while clq enumerates is not covered.
 * @{
 */

struct clq_device;

/** The kind of a device. */
enum clq_device_type {
	CLQ_DEVICE_TYPE_OTHER = 0,	 /**< default or custom device */
	CLQ_DEVICE_TYPE_CPU = 1,	 /**< `CL_DEVICE_TYPE_CPU` */
	CLQ_DEVICE_TYPE_GPU = 2,	 /**< `CL_DEVICE_TYPE_GPU` */
	CLQ_DEVICE_TYPE_ACCELERATOR = 3, /**< `CL_DEVICE_TYPE_ACCELERATOR` */
};

/**
 * Counts the devices of all platforms.
 *
 * In a child of `fork()`, a driver that was in use in the parent may not
 * work: NVIDIA's (580, as CUDA's rule has it) shows its platform there
 * with no devices (`clGetDeviceIDs` fails with -33), so the child counts
 * fewer devices. Use devices in the process that found them, or start
 * the child with exec.
 *
 * @param n_out receives the count, 0 when no OpenCL platform is installed
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL; an OpenCL code
 *         if the driver fails.
 */
CLQ_EXPORT int clq_device_count(size_t *n_out);

/**
 * Gets the device with a global index.
 *
 * The caller owns the returned reference.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL;
 *         #CLQ_ERROR_OUT_OF_RANGE if `index` ≥ clq_device_count(); an OpenCL
 *         code if the driver fails.
 */
CLQ_EXPORT int clq_device_get(size_t index, struct clq_device **device_out);

/**
 * Chooses a device by spec.
 *
 * clq's grammar, for `spec` and `CLQ_DEVICE` (leading and trailing blanks
 * ignored):
 * - `N`: the device with global index N;
 * - `P:D`: device D of platform P;
 * - anything else: a name substring, compared case-insensitively with four
 *   strings of each device in global order, the first device that matches
 *   chosen: its platform's name, vendor and version (`CL_PLATFORM_NAME`,
 *   `CL_PLATFORM_VENDOR`, `CL_PLATFORM_VERSION`) and its own name
 *   (`CL_DEVICE_NAME`). So `pocl` finds PoCL, whose platform is "Portable
 *   Computing Language" by "The pocl project", version "OpenCL 3.0 PoCL
 *   3.1 ...". The device's vendor (`CL_DEVICE_VENDOR`) is not compared:
 *   PoCL reports the CPU's there ("GenuineIntel", "AuthenticAMD"), which
 *   would make `intel` or `amd` pick a CPU.
 *
 * A spec made only of digits, colons, signs and blanks that is not `N` or
 * `P:D` (for example `1:`, `:0`, `0:0:0`, `-1`, `0 : 0`), an empty spec,
 * and a number too large for `size_t` are malformed.
 *
 * With `spec == NULL` the environment variable `CLQ_DEVICE` is read with
 * clq's grammar, then `PYOPENCL_CTX` with PyOpenCL's, an unset or empty
 * variable skipped. With neither, the first GPU is chosen, else the first
 * accelerator, else the first CPU, else the first device.
 *
 * PyOpenCL's grammar, for `PYOPENCL_CTX`, is that of PyOpenCL's
 * `choose_devices()` run without a terminal, so a value set for PyOpenCL
 * selects the same device: `platform[:device]`, nothing trimmed.
 * - The platform part is a platform index (as Python's `int()` reads it:
 *   blanks, a sign and `_` between digits allowed), else a substring of the
 *   platform's name (`CL_PLATFORM_NAME` only), case-insensitive; where
 *   several platforms match, the last one. An empty part is platform 0.
 *   A number out of range is compared as a name.
 * - The device part is an index within that platform, else a substring of
 *   the device's name, the first that matches. Empty or absent: the
 *   platform's first device. So a bare `N` is platform N's first device,
 *   and `portable:0` is PoCL's device 0. PyOpenCL's comma-separated list
 *   (`0:0,1`) must match in every entry; a clq context has one device, so
 *   the first entry's is chosen and a warning logged.
 * - More than one colon (`0:0:0`) is malformed, as PyOpenCL refuses it.
 *   `pocl` matches no platform here, as in PyOpenCL.
 * Unlike PyOpenCL, an empty `PYOPENCL_CTX` is skipped like an unset one,
 * and `PYOPENCL_TEST` is not read.
 *
 * The log says which device was chosen and by what (level info), which
 * variables were skipped (debug), and for an error which variable the spec
 * came from and which grammar read it.
 *
 * The caller owns the returned reference.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for a NULL `device_out`;
 *         #CLQ_ERROR_BAD_DEVICE_SPEC for a malformed spec (the log says
 *         which, where it came from and which grammar read it);
 *         #CLQ_ERROR_NO_DEVICE when nothing matches or there are no devices
 *         (the log says why and lists every device with the specs and the
 *         strings that select it); an OpenCL code if the driver fails.
 */
CLQ_EXPORT int
clq_device_select(const char *spec, struct clq_device **device_out);

/** Adds a reference. @return `device`. */
CLQ_EXPORT struct clq_device *clq_device_ref(struct clq_device *device);

/** Drops a reference; NULL is a no-op. */
CLQ_EXPORT void clq_device_unref(struct clq_device *device);

/** The raw device handle, borrowed. */
CLQ_EXPORT cl_device_id clq_device_get_cl(const struct clq_device *device);

/** The raw platform handle, borrowed. */
CLQ_EXPORT cl_platform_id
clq_device_get_platform_cl(const struct clq_device *device);

/** Global index, as used by the `N` spec form. */
CLQ_EXPORT size_t clq_device_get_index(const struct clq_device *device);

/** Platform index, the `P` of the `P:D` spec form. */
CLQ_EXPORT size_t
clq_device_get_platform_index(const struct clq_device *device);

/** Index within its platform, the `D` of the `P:D` spec form. */
CLQ_EXPORT size_t
clq_device_get_index_in_platform(const struct clq_device *device);

/** Device name (`CL_DEVICE_NAME`); valid while the device lives. */
CLQ_EXPORT const char *clq_device_get_name(const struct clq_device *device);

/** Device vendor (`CL_DEVICE_VENDOR`); valid while the device lives. */
CLQ_EXPORT const char *clq_device_get_vendor(const struct clq_device *device);

/** Platform name (`CL_PLATFORM_NAME`); valid while the device lives. */
CLQ_EXPORT const char *
clq_device_get_platform_name(const struct clq_device *device);

/** Driver version (`CL_DRIVER_VERSION`); valid while the device lives. */
CLQ_EXPORT const char *
clq_device_get_driver_version(const struct clq_device *device);

/**
 * OpenCL version string (`CL_DEVICE_VERSION`, "OpenCL M.m ..."); valid while
 * the device lives.
 */
CLQ_EXPORT const char *
clq_device_get_opencl_version(const struct clq_device *device);

/** OpenCL version as 100·major + 10·minor: 120 for 1.2, 300 for 3.0. */
CLQ_EXPORT unsigned
clq_device_get_opencl_version_number(const struct clq_device *device);

/** Device type. */
CLQ_EXPORT enum clq_device_type
clq_device_get_type(const struct clq_device *device);

/** Number of compute units (`CL_DEVICE_MAX_COMPUTE_UNITS`). */
CLQ_EXPORT unsigned
clq_device_get_compute_units(const struct clq_device *device);

/** Largest work-group size (`CL_DEVICE_MAX_WORK_GROUP_SIZE`). */
CLQ_EXPORT size_t
clq_device_get_max_work_group_size(const struct clq_device *device);

/**
 * Largest work-group length along `axis` (0, 1 or 2) of an NDRange
 * (`CL_DEVICE_MAX_WORK_ITEM_SIZES`); 0 for another axis.
 */
CLQ_EXPORT size_t clq_device_get_max_work_item_size(
	const struct clq_device *device, unsigned axis);

/** Local (work-group shared) memory in bytes (`CL_DEVICE_LOCAL_MEM_SIZE`). */
CLQ_EXPORT uint64_t
clq_device_get_local_memory(const struct clq_device *device);

/** Global memory in bytes (`CL_DEVICE_GLOBAL_MEM_SIZE`). */
CLQ_EXPORT uint64_t
clq_device_get_global_memory(const struct clq_device *device);

/** Largest single allocation in bytes (`CL_DEVICE_MAX_MEM_ALLOC_SIZE`). */
CLQ_EXPORT uint64_t
clq_device_get_max_alloc_size(const struct clq_device *device);

/**
 * Resolution of the profiling timer in nanoseconds
 * (`CL_DEVICE_PROFILING_TIMER_RESOLUTION`).
 */
CLQ_EXPORT size_t
clq_device_get_timer_resolution(const struct clq_device *device);

/** Whether queues on this device can be created with profiling (0 or 1). */
CLQ_EXPORT int clq_device_can_profile(const struct clq_device *device);

/**
 * Number of work-items that execute in lockstep: the warp size on NVIDIA
 * (`cl_nv_device_attribute_query`), the wavefront width on AMD
 * (`cl_amd_device_attribute_query`). Where the device does not say, the
 * fallback is 1, which is always safe for code that only uses it to skip
 * barriers inside a SIMD group. Always ≥ 1.
 */
CLQ_EXPORT size_t
clq_device_get_simd_group_size(const struct clq_device *device);

/** Where a device sits on the PCI bus: `DDDD:BB:DD.F` in Linux's sysfs. */
struct clq_pci_bus_info {
	uint32_t domain;   /**< PCI domain (segment), `DDDD` */
	uint32_t bus;	   /**< bus number, 0-255, `BB` */
	uint32_t device;   /**< device number on the bus, 0-31, `DD` */
	uint32_t function; /**< function number, 0-7, `F` */
};

/**
 * Reads a device's PCI address, for finding what is close to it: on Linux,
 * the files `numa_node` and `local_cpulist` in
 * `/sys/bus/pci/devices/DDDD:BB:DD.F/` (lower-case hex digits) name its
 * NUMA node and the CPUs on that node.
 *
 * Read from the driver on each call, from the first extension the device
 * lists of:
 * - `cl_khr_pci_bus_info` (`CL_DEVICE_PCI_BUS_INFO_KHR`, OpenCL
 *   Extension Specification): the four numbers as they are;
 * - `cl_nv_device_attribute_query` (NVIDIA): `CL_DEVICE_PCI_BUS_ID_NV` is
 *   the bus, `CL_DEVICE_PCI_DOMAIN_ID_NV` the domain (0 where a driver
 *   older than CUDA 10.2 lacks the query), and `CL_DEVICE_PCI_SLOT_ID_NV`
 *   holds device << 3 | function (the PCI "devfn" byte). NVIDIA does not
 *   document that encoding; it is the one hwloc's `hwloc/opencl.h` reads.
 *   Some programs take the slot as the device number instead, which
 *   agrees only for device 0 function 0, so where it matters check the
 *   address against the system (that its sysfs entry exists).
 *
 * Safe to call from any thread. On failure `*info_out` is not written.
 *
 * @param device the device
 * @param info_out receives the address
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for a NULL argument;
 *         #CLQ_ERROR_UNSUPPORTED when the device lists neither extension
 *         (PoCL's CPU device, for one; the log says so); an OpenCL code if
 *         the driver fails the query (logged).
 */
CLQ_EXPORT int clq_device_get_pci_bus_info(const struct clq_device *device,
					   struct clq_pci_bus_info *info_out);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLQ_DEVICE_H */
