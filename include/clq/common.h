/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CLQ_COMMON_H
#define CLQ_COMMON_H

/**
 * @defgroup common Common definitions
 * Status codes, error strings, log handlers and the library version.
 *
 * Every fallible clq function returns an `int` status: #CLQ_SUCCESS (0) or a
 * negative code. OpenCL's own `cl_int` codes (-1 .. -72, and the extension
 * codes below -1000) pass through unchanged; clq's own codes lie in
 * -4000 .. -4099. clq_strerror() and clq_error_name() describe both. A host
 * allocation that fails inside clq returns OpenCL's `CL_OUT_OF_HOST_MEMORY`,
 * so one code means "out of host memory" wherever it arises.
 *
 * clq never prints. What it has to say beyond a status code (why a device
 * spec matched nothing, a build log, a driver's complaint) goes to a log
 * handler: the context's handler when the call has a context, otherwise the
 * process-wide one set with clq_set_log_handler(). With no handler installed
 * messages are dropped.
 * @{
 */

#include <stddef.h>
#include <stdint.h>

/* clq targets the OpenCL 1.2 API; a caller that wants newer declarations
 * defines CL_TARGET_OPENCL_VERSION before including any OpenCL header. */
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#ifdef __APPLE__
#include <OpenCL/opencl.h>
#else
#include <CL/cl.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a public symbol; the library is built with hidden visibility. */
#if defined(_WIN32) && defined(CLQ_BUILDING)
#define CLQ_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#define CLQ_EXPORT __attribute__((visibility("default")))
#else
#define CLQ_EXPORT
#endif

/*
 * The one list of clq's status codes: X(name, value, message). The enum
 * below and the strings of clq_strerror() are both generated from it.
 */
#define CLQ_STATUS_CODES(X)                                                   \
	X(CLQ_SUCCESS, 0, "success")                                          \
	X(CLQ_ERROR_INVALID_ARGUMENT, -4000,                                  \
	  "invalid argument (NULL pointer, zero or out-of-range value)")      \
	X(CLQ_ERROR_NO_DEVICE, -4001, "no OpenCL device matches")             \
	X(CLQ_ERROR_BAD_DEVICE_SPEC, -4002, "malformed device spec")          \
	X(CLQ_ERROR_OUT_OF_RANGE, -4003, "index or region out of range")      \
	X(CLQ_ERROR_CONTEXT_MISMATCH, -4004,                                  \
	  "objects belong to different contexts")                             \
	X(CLQ_ERROR_SHAPE_MISMATCH, -4005, "array shapes do not match")       \
	X(CLQ_ERROR_TYPE_MISMATCH, -4006, "array element types do not match") \
	X(CLQ_ERROR_PROFILING_DISABLED, -4007,                                \
	  "profiling is not enabled for this queue or event")                 \
	X(CLQ_ERROR_TIMING_UNAVAILABLE, -4008,                                \
	  "the driver reported no usable timestamps")                         \
	X(CLQ_ERROR_COMMAND_FAILED, -4009,                                    \
	  "the command or one it waited for failed")                          \
	X(CLQ_ERROR_NOT_FOUND, -4010, "not found")                            \
	X(CLQ_ERROR_IO, -4011, "input/output error")                          \
	X(CLQ_ERROR_OVERFLOW, -4012, "size computation overflows")            \
	X(CLQ_ERROR_NOT_USER_EVENT, -4013, "the event is not a user event")   \
	X(CLQ_ERROR_ALREADY_COMPLETE, -4014,                                  \
	  "the user event was already completed")                             \
	X(CLQ_ERROR_ABANDONED, -4015,                                         \
	  "user event released before anyone completed it")                   \
	X(CLQ_ERROR_ARG_COUNT, -4016, "wrong number of kernel arguments")     \
	X(CLQ_ERROR_WORK_SIZE, -4017,                                         \
	  "global work size is not a multiple of the local size")             \
	X(CLQ_ERROR_LOCAL_SIZE, -4018,                                        \
	  "work-group larger than the device or kernel allows")               \
	X(CLQ_ERROR_NOT_TUNING, -4019,                                        \
	  "the queue is not a tuning queue or is not tuning")

#define CLQ__STATUS_ENUM(name, value, message) name = (value),

/** clq's own status codes (OpenCL's `cl_int` codes pass through as well). */
enum clq_status { CLQ_STATUS_CODES(CLQ__STATUS_ENUM) };

#undef CLQ__STATUS_ENUM

/**
 * Describes a status code in a short English phrase.
 *
 * Knows every OpenCL 1.2 - 3.0 code, the common extension codes and every
 * clq code. Never returns NULL: an unknown code gives "unknown error".
 * @return a static string. Thread-safe.
 */
CLQ_EXPORT const char *clq_strerror(int status);

/**
 * Names a status code, e.g. "CL_INVALID_VALUE" or "CLQ_ERROR_NO_DEVICE".
 *
 * Never returns NULL: an unknown code gives "CLQ_UNKNOWN_ERROR".
 * @return a static string. Thread-safe.
 */
CLQ_EXPORT const char *clq_error_name(int status);

/** Severity of a log message. */
enum clq_log_level {
	CLQ_LOG_ERROR = 0,   /**< the call returns an error; this says why */
	CLQ_LOG_WARNING = 1, /**< something odd that clq worked around */
	CLQ_LOG_INFO = 2,    /**< useful detail, e.g. a build log */
	CLQ_LOG_DEBUG = 3,   /**< tracing */
};

/**
 * A log handler: receives one complete message (no trailing newline, may
 * span several lines) at a time.
 *
 * It may be called from any thread that calls clq, and from threads of the
 * OpenCL implementation (a context's driver notifications); it must be
 * thread-safe and must not call back into clq on the same context.
 */
typedef void (*clq_log_fn)(enum clq_log_level level, const char *message,
			   void *user_data);

/**
 * Sets the process-wide log handler, used by calls that have no context
 * (device enumeration and selection) and by contexts without their own.
 *
 * Pass NULL to drop such messages (the default). Thread-safe.
 */
CLQ_EXPORT void clq_set_log_handler(clq_log_fn fn, void *user_data);

/**
 * The library's version as "MAJOR.MINOR.PATCH", of the library actually
 * loaded (compare with #CLQ_VERSION_STRING from clq/version.h).
 * @return a static string.
 */
CLQ_EXPORT const char *clq_version(void);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* CLQ_COMMON_H */
