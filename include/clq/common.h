/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CLQ_COMMON_H
#define CLQ_COMMON_H

/**
 * @file
 * Status codes, error strings, log handlers and the library version: see @ref common.
 */

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
 * clq never prints unless asked. What it has to say beyond a status code
 * (why a device spec matched nothing, a build log, a driver's complaint)
 * goes to a log handler: the context's handler when the call has a context
 * and the context has one, otherwise the process-wide one set with
 * clq_set_log_handler(). A message no handler takes is dropped, unless the
 * environment variable `CLQ_LOG` asks for it:
 *
 * - `CLQ_LOG=error`, `warning` (or `warn`), `info` or `debug` (any case):
 *   messages of that level and above go to stderr, each line prefixed with
 *   `clq: ` and the level, as in `clq: error: clq_device_select: ...`; a
 *   message of several lines (a build log, the device list) is printed as
 *   one block, every line prefixed.
 * - unset or empty: nothing is printed (the default).
 * - any other value: nothing is printed but one warning, at the first
 *   message no handler takes, that names the valid values.
 *
 * `CLQ_LOG` is read once, at the first message no handler takes (any level,
 * thread-safe); changing it later has no effect in the process. An
 * installed handler always takes precedence: it receives every message and
 * nothing goes to stderr.
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
#define CLQ_STATUS_CODES(X)                                                 \
	X(CLQ_SUCCESS, 0, "success")                                        \
	X(CLQ_ERROR_INVALID_ARGUMENT, -4000,                                \
	  "invalid argument (NULL pointer, zero or out-of-range value)")    \
	X(CLQ_ERROR_NO_DEVICE, -4001, "no OpenCL device matches")           \
	X(CLQ_ERROR_BAD_DEVICE_SPEC, -4002, "malformed device spec")        \
	X(CLQ_ERROR_OUT_OF_RANGE, -4003, "index or region out of range")    \
	X(CLQ_ERROR_CONTEXT_MISMATCH, -4004,                                \
	  "objects belong to different contexts")                           \
	X(CLQ_ERROR_SHAPE_MISMATCH, -4005, "array shapes do not match")     \
	X(CLQ_ERROR_TYPE_MISMATCH, -4006, "types do not match")             \
	X(CLQ_ERROR_PROFILING_DISABLED, -4007,                              \
	  "profiling is not enabled for this queue or event")               \
	X(CLQ_ERROR_TIMING_UNAVAILABLE, -4008,                              \
	  "the driver reported no usable timestamps")                       \
	X(CLQ_ERROR_COMMAND_FAILED, -4009,                                  \
	  "the command or one it waited for failed")                        \
	X(CLQ_ERROR_NOT_FOUND, -4010, "not found")                          \
	X(CLQ_ERROR_IO, -4011, "input/output error")                        \
	X(CLQ_ERROR_OVERFLOW, -4012, "size computation overflows")          \
	X(CLQ_ERROR_NOT_USER_EVENT, -4013, "the event is not a user event") \
	X(CLQ_ERROR_ALREADY_COMPLETE, -4014,                                \
	  "the user event was already completed")                           \
	X(CLQ_ERROR_ABANDONED, -4015,                                       \
	  "user event released before anyone completed it")                 \
	X(CLQ_ERROR_ARG_COUNT, -4016, "wrong number of kernel arguments")   \
	X(CLQ_ERROR_WORK_SIZE, -4017,                                       \
	  "global work size is not a multiple of the local size")           \
	X(CLQ_ERROR_LOCAL_SIZE, -4018,                                      \
	  "work-group larger than the device or kernel allows")             \
	X(CLQ_ERROR_NOT_TUNING, -4019,                                      \
	  "the queue is not a tuning queue or is not tuning")               \
	X(CLQ_ERROR_HAZARD, -4020,                                          \
	  "access conflicts with an unordered command on another queue")    \
	X(CLQ_ERROR_IN_USE, -4021, "the object is already in use")          \
	X(CLQ_ERROR_CONSTRAINTS, -4022,                                     \
	  "dimension constraints cannot all hold")                          \
	X(CLQ_ERROR_PADDING, -4023,                                         \
	  "the array's padding does not satisfy its dimensions")            \
	X(CLQ_ERROR_UNBOUND, -4024, "a slot is not bound to an array")      \
	X(CLQ_ERROR_DUPLICATE, -4025, "the name is already taken")          \
	X(CLQ_ERROR_UNSUPPORTED, -4030,                                     \
	  "clq was built without the feature this needs")                   \
	X(CLQ_ERROR_DATABASE, -4031,                                        \
	  "the tuning database cannot be read or written")

#define CLQ__STATUS_ENUM(name, value, message) name = (value),

/**
 * clq's own status codes (OpenCL's `cl_int` codes pass through as well).
 * clq_strerror() gives each one's message.
 */
enum clq_status { CLQ_STATUS_CODES(CLQ__STATUS_ENUM) };

#undef CLQ__STATUS_ENUM

/** @var CLQ_SUCCESS
 * The call did what it says; out-parameters are set. */
/** @var CLQ_ERROR_INVALID_ARGUMENT
 * A NULL pointer, a zero or out-of-range size, an unknown flag, dtype or
 * argument kind: refused before any OpenCL call. */
/** @var CLQ_ERROR_NO_DEVICE
 * clq_device_select() found no device that matches the spec, or no device
 * at all; the log lists the devices there are. */
/** @var CLQ_ERROR_BAD_DEVICE_SPEC
 * clq_device_select() was given a malformed spec, such as `1:` or `-1`. */
/** @var CLQ_ERROR_OUT_OF_RANGE
 * A device index past the last device, an array region that does not lie
 * inside its array, an alias that does not fit in its buffer, an array
 * larger than the device's largest allocation, or a kernel launch whose
 * `__local` memory (its CLQ_ARG_LOCAL() arguments and its own) exceeds the
 * device's. */
/** @var CLQ_ERROR_CONTEXT_MISMATCH
 * Objects of two contexts were combined: a queue, array, kernel or event
 * of one with another's, or two events whose clocks need not agree. */
/** @var CLQ_ERROR_SHAPE_MISMATCH
 * A transfer or copy between arrays of different shapes (or, for regions,
 * different numbers of axes). */
/** @var CLQ_ERROR_TYPE_MISMATCH
 * A transfer or copy between arrays of different element types, or a
 * kernel argument of the wrong kind or type (an array of another dtype, a
 * value where a pointer goes, an `int` for a `float`). */
/** @var CLQ_ERROR_PROFILING_DISABLED
 * Device times were asked of an event, queue or timeline without profiling
 * (a queue made without #CLQ_QUEUE_PROFILING, a user event), or profiling
 * of a device that cannot profile. */
/** @var CLQ_ERROR_TIMING_UNAVAILABLE
 * The driver reported zero, missing or inconsistent timestamps for a
 * command; clq returns this rather than a meaningless time. */
/** @var CLQ_ERROR_COMMAND_FAILED
 * The command failed, or an event it waited for did: found by waiting on
 * its event, or by a blocking transfer; its negative execution status goes
 * to the log. */
/** @var CLQ_ERROR_NOT_FOUND
 * clq_program_create_from_file() found the file in no directory of the
 * search path; the log lists those searched. */
/** @var CLQ_ERROR_IO
 * A program file or an included file could not be read or is not a
 * regular file, or writing a timeline summary, trace or SVG failed. */
/** @var CLQ_ERROR_OVERFLOW
 * An array's byte size does not fit in `size_t`, or program includes nest
 * deeper than clq follows. */
/** @var CLQ_ERROR_NOT_USER_EVENT
 * clq_user_event_complete() was given an event that is not a user event. */
/** @var CLQ_ERROR_ALREADY_COMPLETE
 * clq_user_event_complete() was called a second time on one user event. */
/** @var CLQ_ERROR_ABANDONED
 * Not returned by a call: the status a user event fails with when its last
 * reference is dropped before anyone completed it (see clq_event_unref()).
 * Its callbacks receive it; commands that wait for it fail, and waiting
 * for them gives #CLQ_ERROR_COMMAND_FAILED. */
/** @var CLQ_ERROR_ARG_COUNT
 * clq_queue_enqueue_kernel() was given a number of arguments other than
 * the kernel takes. */
/** @var CLQ_ERROR_WORK_SIZE
 * clq_queue_enqueue_kernel(): a global size is not a multiple of its local
 * size. */
/** @var CLQ_ERROR_LOCAL_SIZE
 * clq_queue_enqueue_kernel(): the work-group exceeds the device's or the
 * kernel's limit, or differs from the size the kernel requires. */
/** @var CLQ_ERROR_NOT_TUNING
 * clq_queue_start_tuning() or clq_queue_stop_tuning() on a queue that is
 * not a tuning queue, or a stop without a start. */
/** @var CLQ_ERROR_HAZARD
 * #CLQ_ORDERING_CHECK refused a command: it reads or writes a buffer that
 * a command of another queue writes or reads, and nothing orders the two
 * (see @ref order); nothing was enqueued, and the log says which wait is
 * missing. */
/** @var CLQ_ERROR_IN_USE
 * A setting that must come before an object is used, such as
 * clq_context_set_ordering() after the context's first command. */
/** @var CLQ_ERROR_CONSTRAINTS
 * A dimension's padding constraints cannot all hold (see @ref operation):
 * clq_dimension_create() asked for an exact size with a larger minimum or
 * a size that is not a multiple of the alignment, or clq_dimension_link()
 * joined dimensions of different sizes, or whose joined minimums,
 * alignments and exactness conflict, or whose padded size would not fit
 * in `size_t`; the log names the conflict and nothing changed. */
/** @var CLQ_ERROR_PADDING
 * clq_slot_bind() was given an array whose padded length on some axis is
 * below its dimension's minimum, not a multiple of its alignment, or
 * padding on an exact dimension; the log names the axis. */
/** @var CLQ_ERROR_UNBOUND
 * clq_operation_run() or clq_sequence_run() found a slot with no array
 * bound; the log names the operation and the slot; nothing was enqueued. */
/** @var CLQ_ERROR_DUPLICATE
 * clq_operation_add_slot() was given a name the operation already has. */
/** @var CLQ_ERROR_UNSUPPORTED
 * The function needs an optional dependency clq was built without, such
 * as the tuning database without SQLite (see @ref tune). */
/** @var CLQ_ERROR_DATABASE
 * The tuning database is not an SQLite database, is a directory, cannot be
 * opened, is read-only for a store, or stayed locked by another process
 * past the timeout; the log has SQLite's message and the path, and nothing
 * already stored was changed (see @ref tune). */

/**
 * Describes a status code in a short English phrase.
 *
 * Knows every OpenCL 1.2 - 3.0 code, the common extension codes and every
 * clq code. Never returns NULL: an unknown code gives "unknown error".
 * @return a static string. Thread-safe.
 */
CLQ_EXPORT const char *clq_strerror(int status);

/**
 * Names a status code, as in "CL_INVALID_VALUE" or "CLQ_ERROR_NO_DEVICE".
 *
 * Never returns NULL: an unknown code gives "CLQ_UNKNOWN_ERROR".
 * @return a static string. Thread-safe.
 */
CLQ_EXPORT const char *clq_error_name(int status);

/** Severity of a log message. */
enum clq_log_level {
	CLQ_LOG_ERROR = 0,   /**< the call returns an error; this says why */
	CLQ_LOG_WARNING = 1, /**< something odd that clq worked around */
	CLQ_LOG_INFO = 2,    /**< useful detail, such as a build log */
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
 * Pass NULL to remove it (the default): such messages are then dropped, or
 * printed to stderr as the `CLQ_LOG` environment variable asks (see
 * @ref common). Thread-safe.
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
