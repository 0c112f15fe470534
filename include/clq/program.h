/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CLQ_PROGRAM_H
#define CLQ_PROGRAM_H

/**
 * @file
 * Programs and kernels: see @ref program.
 */

#include <clq/array.h>
#include <clq/common.h>
#include <clq/context.h>
#include <clq/event.h>
#include <clq/queue.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup program Programs and kernels
 * OpenCL C programs built for the context's device, and kernels enqueued
 * with their arguments.
 *
 * **Search path.** A program file's name that holds a `/` is a path:
 * absolute, or relative to the current directory (`./mykernels.cl`,
 * `kernels/fft.cl`), and looked for nowhere else. Any other name
 * (`mykernels.cl`) is looked up in order in: the directories the caller
 * passes (clq_program_create_from_file() only), the entries of the
 * colon-separated `CLQ_KERNEL_PATH`, the current directory, the installed
 * kernel directory (`<datadir>/clq/cl`), and last the library's own
 * kernels (`fill.cl`, `scale.cl`, `transpose.cl`), built into it so that
 * they are found before installation too. A file found nowhere gives
 * #CLQ_ERROR_NOT_FOUND, and the log lists what was searched.
 *
 * **Includes.** Every `#include "name"` or `#include <name>` line in a
 * program is looked up the same way, except that a quoted include first
 * looks next to the file that includes it, and that a relative name with
 * a `/` (`#include <fft/twiddle.h>`) is looked up in each directory, as a
 * C compiler's `-I` directories are. clq pastes included files in itself,
 * with `#line` directives, so that compilers that honour them (PoCL's)
 * name the right file and line in build logs; NVIDIA's ignores them and
 * counts lines of the pasted whole. Files are identified by their real
 * path (`realpath()`), however an include spells them (`./a.h`,
 * `sub/../a.h`, a symbolic link); a built-in kernel, which has none, by its
 * name. A file already being included (a cycle) is skipped, as its include
 * guard would skip it, and so is one already pasted that says `#pragma
 * once` (the pragma itself is not passed on: in the pasted whole it would
 * name the program). Includes nested deeper than 32 are refused. An
 * include found nowhere is left for the compiler, whose build then fails
 * with its own message. Conditional directives are not evaluated: an
 * include inside `#if 0` is pasted too.
 *
 * **Build.** Options pass through to `clBuildProgram`, after
 * `-DCLQ_SIMD_GROUP_SIZE=<n>` (clq_device_get_simd_group_size()) and, on
 * OpenCL 1.2 devices, `-cl-kernel-arg-info`, which makes the driver report
 * argument types for the checks below (set `CLQ_KERNEL_ARG_INFO=0` to
 * leave it out). A build that fails with it is tried once more without it
 * (a #CLQ_LOG_INFO line when that one succeeds): NVIDIA's compiler (driver
 * 580) fails in ptxas on any program with a kernel that takes no
 * arguments when asked for argument info; such a program's kernels then
 * check argument sizes only. A non-empty build log of a successful build goes to
 * the log handler at #CLQ_LOG_INFO; that of a failed build at
 * #CLQ_LOG_ERROR.
 *
 * **Arguments.** clq_kernel_create() reads each argument's address space,
 * type name and name once (`clGetKernelArgInfo`); each launch then checks
 * every argument in a few compares, before OpenCL sees it, and refuses a
 * mismatch with #CLQ_ERROR_TYPE_MISMATCH:
 * - the kind: a `__global` or `__constant` pointer takes an array
 *   (CLQ_ARG_ARRAY(), CLQ_ARG_IN(), CLQ_ARG_OUT(), CLQ_ARG_INOUT()), a
 *   `__local` pointer CLQ_ARG_LOCAL(), anything else a value;
 * - an array's dtype: `T*` and vector `Tn*` pointers take arrays of `T`
 *   (`float*` and `float2*` take #CLQ_DTYPE_FLOAT32 and
 *   #CLQ_DTYPE_COMPLEX64, `half*` #CLQ_DTYPE_FLOAT16, `uint*`
 *   #CLQ_DTYPE_UINT32...); `void*` takes any array;
 * - a value's size, and its type where CLQ_ARG_VALUE() knows it
 *   (#clq_arg_type): a `float` takes a `cl_float`, not a `cl_int`; a `half`
 *   takes a `cl_half`, which is a `cl_ushort` to C; a vector (`float4`) any
 *   value of its size whose type is unknown, such as a `cl_float4`.
 *
 * A type name clq cannot read (a typedef such as `real`, a struct) leaves
 * that argument's type and size to OpenCL's own check, which some drivers
 * do not make (PoCL 3.1 takes any size for a typedef'd parameter). Without
 * argument info (OpenCL 1.1, `CLQ_KERNEL_ARG_INFO=0`, a driver that has
 * none) only OpenCL's size check applies: then a value where a pointer goes
 * reaches the driver, which may take it for a buffer (PoCL 3.1 crashes on
 * an 8-byte one).
 *
 * **Thread safety.** Programs and kernels are immutable once created and
 * may be used from several threads. clq_queue_enqueue_kernel() may enqueue
 * one kernel from several threads at once: each call sets the arguments and
 * enqueues under the kernel's lock (OpenCL kernel objects alone are not safe
 * for that, as katsdpsigproc documents). Setting arguments on the raw
 * `cl_kernel` yourself bypasses that lock.
 * @{
 */

struct clq_program;
struct clq_kernel;

/**
 * Builds a program from OpenCL C source text, whose includes resolve along
 * the search path without caller directories.
 *
 * @param ctx the context whose device the program is built for
 * @param source the program text, NUL-terminated
 * @param options build options, or NULL
 * @param program_out receives the program; also on
 *        `CL_BUILD_PROGRAM_FAILURE`, so that clq_program_get_build_log() can
 *        be read (the caller unrefs it); NULL on any other error
 * @return #CLQ_SUCCESS; `CL_BUILD_PROGRAM_FAILURE` when the source does not
 *         compile; #CLQ_ERROR_INVALID_ARGUMENT for NULL ctx, source or
 *         program_out; #CLQ_ERROR_IO when an included file cannot be read;
 *         #CLQ_ERROR_OVERFLOW for includes nested deeper than 32; another
 *         OpenCL code from `clCreateProgramWithSource` or `clBuildProgram`
 *         (`CL_INVALID_BUILD_OPTIONS` for bad options, or
 *         `CL_BUILD_PROGRAM_FAILURE` from drivers that report them as
 *         compile errors, as NVIDIA's does; the build log says which).
 */
CLQ_EXPORT int
clq_program_create_from_source(struct clq_context *ctx, const char *source,
			       const char *options,
			       struct clq_program **program_out);

/**
 * Builds a program from a file found along the search path.
 *
 * @param ctx the context whose device the program is built for
 * @param name a file name looked up along the search path, or a path
 *        (absolute, or relative to the current directory) when it holds a
 *        `/` (see @ref program)
 * @param dirs `n_dirs` directories searched first for a name without a `/`
 *        (may be NULL when `n_dirs` is 0)
 * @param n_dirs the number of entries in `dirs`
 * @param options build options, or NULL
 * @param program_out as for clq_program_create_from_source()
 * @return as clq_program_create_from_source(), and #CLQ_ERROR_NOT_FOUND
 *         when the file is nowhere (the log lists where it looked),
 *         #CLQ_ERROR_IO when the file cannot be read or is not a
 *         regular file (a directory, a device, a FIFO).
 */
CLQ_EXPORT int
clq_program_create_from_file(struct clq_context *ctx, const char *name,
			     const char *const *dirs, size_t n_dirs,
			     const char *options,
			     struct clq_program **program_out);

/**
 * Builds a program from a binary that clq_program_get_binary() gave, on
 * the same device and driver (a cache of built programs, say): OpenCL's
 * `clCreateProgramWithBinary` then `clBuildProgram`. The binary is copied;
 * the caller keeps it.
 *
 * Only `options` reach `clBuildProgram`: clq's own (program.h, **Build**)
 * were compiled into the binary. Argument info is read where the driver
 * keeps it in binaries; where it does not (PoCL 3.1), the kernels check
 * their arguments' sizes only, as without `-cl-kernel-arg-info` (see
 * **Arguments** above). The program's name is `<binary>`.
 * @param ctx the context whose device runs the program
 * @param binary `size` bytes
 * @param size the binary's size in bytes, not 0
 * @param options build options, or NULL
 * @param program_out as for clq_program_create_from_source()
 * The bytes must be whole: clq_program_get_binary() wraps the driver's
 * binary in a small envelope (a header with its size, a checksum, and the
 * device name and driver version it was made for), which is checked
 * before the driver sees anything, because PoCL 3.1 crashes on a
 * truncated binary of its own where OpenCL 1.2 section 5.6.1 promises
 * `CL_INVALID_BINARY`. A driver's binary from elsewhere (without clq's
 * envelope) is refused.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL pointers or a
 *         zero size; `CL_INVALID_BINARY` for bytes that are not a binary
 *         from clq_program_get_binary() for this device and driver, cut
 *         short, or damaged (the log says which); `CL_BUILD_PROGRAM_FAILURE`
 *         with the program handed back, as for source; another OpenCL
 *         code from `clCreateProgramWithBinary` or `clBuildProgram`.
 */
CLQ_EXPORT int
clq_program_create_from_binary(struct clq_context *ctx, const void *binary,
			       size_t size, const char *options,
			       struct clq_program **program_out);

/**
 * Copies the program's device binary (`CL_PROGRAM_BINARIES`, the entry
 * of the context's device), in clq's envelope (see
 * clq_program_create_from_binary()), which
 * clq_program_create_from_binary() builds again on the same device and
 * driver without compiling the source.
 *
 * Call once with `binary` NULL to learn the size, then with a buffer of at
 * least that size. A binary is specific to the device and the driver
 * version: key a cache of them on clq_device_get_name() and
 * clq_device_get_driver_version().
 * @param program a built program
 * @param binary where the binary goes, or NULL to ask for its size only
 * @param size the bytes at `binary`
 * @param size_out receives the binary's size in bytes: 0 on failure, but
 *        the size needed with #CLQ_ERROR_OUT_OF_RANGE
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for a NULL program or
 *         `size_out`; `CL_INVALID_PROGRAM_EXECUTABLE` for a program whose
 *         build failed; #CLQ_ERROR_OUT_OF_RANGE when `size` is smaller
 *         than the binary (`*size_out` says how large, nothing is
 *         written); #CLQ_ERROR_UNSUPPORTED when the driver gives no
 *         binary; an OpenCL code from `clGetProgramInfo`.
 * Thread-safe.
 */
CLQ_EXPORT int
clq_program_get_binary(const struct clq_program *program, void *binary,
		       size_t size, size_t *size_out);

/**
 * Builds a program from an intermediate language (SPIR-V) module, on
 * devices that take one: OpenCL 2.1 or later, with a non-empty
 * `CL_DEVICE_IL_VERSION` (OpenCL 3.0 makes IL optional; NVIDIA's and
 * PoCL 3.1's CPU device list none). clq, built against the OpenCL 1.2
 * API, finds `clCreateProgramWithIL` in the loaded OpenCL library at run
 * time (else the `cl_khr_il_program` entry point), so it still loads with
 * an OpenCL 1.2 loader. Only `options` reach `clBuildProgram`, as for
 * binaries. The program's name is `<IL>`.
 * @param ctx the context whose device runs the program
 * @param il `size` bytes of the module
 * @param size its size in bytes, not 0
 * @param options build options, or NULL
 * @param program_out as for clq_program_create_from_source()
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL pointers or a
 *         zero size; #CLQ_ERROR_UNSUPPORTED, before any OpenCL call that
 *         could fail, when the device is older than OpenCL 2.1, reports no
 *         IL version, or the loader has no such function (the log says
 *         which); `CL_BUILD_PROGRAM_FAILURE` as for source; another OpenCL
 *         code (`CL_INVALID_VALUE` for a module the driver cannot read).
 */
CLQ_EXPORT int
clq_program_create_from_il(struct clq_context *ctx, const void *il, size_t size,
			   const char *options,
			   struct clq_program **program_out);

/** Adds a reference. @return `program`. */
CLQ_EXPORT struct clq_program *clq_program_ref(struct clq_program *program);

/** Drops a reference; NULL is a no-op. Kernels hold their own. */
CLQ_EXPORT void clq_program_unref(struct clq_program *program);

/**
 * The build log: the compiler's messages, possibly empty, never NULL for a
 * program (NULL only for a NULL program). Valid while the program lives.
 */
CLQ_EXPORT const char *
clq_program_get_build_log(const struct clq_program *program);

/** Whether the build succeeded (1) or failed (0). */
CLQ_EXPORT int clq_program_is_built(const struct clq_program *program);

/**
 * The program's name in messages: the path of the file it came from (or
 * the name of a built-in kernel file), or `<source>`.
 */
CLQ_EXPORT const char *clq_program_get_name(const struct clq_program *program);

/** The program's context, borrowed. */
CLQ_EXPORT struct clq_context *
clq_program_get_context(const struct clq_program *program);

/** The raw program handle, borrowed. */
CLQ_EXPORT cl_program clq_program_get_cl(const struct clq_program *program);

/**
 * Creates a kernel of a built program. The kernel keeps its program alive.
 *
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL;
 *         `CL_INVALID_PROGRAM_EXECUTABLE` when the program failed to build;
 *         `CL_INVALID_KERNEL_NAME` when it has no kernel of that name (the
 *         log lists the names it has); another OpenCL code.
 */
CLQ_EXPORT int clq_kernel_create(struct clq_program *program, const char *name,
				 struct clq_kernel **kernel_out);

/** Adds a reference. @return `kernel`. */
CLQ_EXPORT struct clq_kernel *clq_kernel_ref(struct clq_kernel *kernel);

/** Drops a reference; NULL is a no-op. */
CLQ_EXPORT void clq_kernel_unref(struct clq_kernel *kernel);

/** The kernel's function name. */
CLQ_EXPORT const char *clq_kernel_get_name(const struct clq_kernel *kernel);

/** The kernel's program, borrowed. */
CLQ_EXPORT struct clq_program *
clq_kernel_get_program(const struct clq_kernel *kernel);

/** The raw kernel handle, borrowed (see the thread-safety note above). */
CLQ_EXPORT cl_kernel clq_kernel_get_cl(const struct clq_kernel *kernel);

/** Number of arguments the kernel takes (`CL_KERNEL_NUM_ARGS`). */
CLQ_EXPORT size_t clq_kernel_get_num_args(const struct clq_kernel *kernel);

/**
 * Largest work-group this kernel can run with on the device
 * (`CL_KERNEL_WORK_GROUP_SIZE`).
 */
CLQ_EXPORT size_t
clq_kernel_get_work_group_size(const struct clq_kernel *kernel);

/** `CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE`. */
CLQ_EXPORT size_t
clq_kernel_get_preferred_work_group_multiple(const struct clq_kernel *kernel);

/**
 * Required work-group size from the source's `reqd_work_group_size`
 * attribute (`CL_KERNEL_COMPILE_WORK_GROUP_SIZE`): three lengths, all 0
 * when the source fixes none. Valid while the kernel lives.
 */
CLQ_EXPORT const size_t *
clq_kernel_get_compile_work_group_size(const struct clq_kernel *kernel);

/** Local memory the kernel uses itself, in bytes (`CL_KERNEL_LOCAL_MEM_SIZE`). */
CLQ_EXPORT uint64_t
clq_kernel_get_local_memory(const struct clq_kernel *kernel);

/** Private memory per work-item, in bytes (`CL_KERNEL_PRIVATE_MEM_SIZE`). */
CLQ_EXPORT uint64_t
clq_kernel_get_private_memory(const struct clq_kernel *kernel);

/** What a kernel argument is; build them with the CLQ_ARG_ macros. */
enum clq_arg_kind {
	CLQ_ARG_KIND_ARRAY = 1, /**< a device array (`__global` pointer) */
	CLQ_ARG_KIND_VALUE = 2, /**< bytes passed by value */
	CLQ_ARG_KIND_LOCAL = 3, /**< a `__local` buffer of `size` bytes */
};

/**
 * The C type of a by-value argument, which CLQ_ARG_VALUE() takes from its
 * operand. Each names the OpenCL C scalar type it matches. `cl_half` is
 * the same C type as `cl_ushort` (`uint16_t`), so a `half` value cannot be
 * told from a `ushort`: a `half` parameter accepts #CLQ_ARG_TYPE_USHORT.
 */
enum clq_arg_type {
	/** Not known (vector and struct types, C99, a hand-built argument):
	 *  only the size is checked. */
	CLQ_ARG_TYPE_UNKNOWN = 0,
	CLQ_ARG_TYPE_CHAR = 1,	/**< `cl_char`, `char`, `signed char`: `char` */
	CLQ_ARG_TYPE_UCHAR = 2, /**< `cl_uchar`, `unsigned char`: `uchar` */
	CLQ_ARG_TYPE_SHORT = 3, /**< `cl_short`, `short`: `short` */
	/** `cl_ushort`, and `cl_half` (the same C type): `ushort`, `half` */
	CLQ_ARG_TYPE_USHORT = 4,
	CLQ_ARG_TYPE_INT = 5,	  /**< `cl_int`, `int`: `int` */
	CLQ_ARG_TYPE_UINT = 6,	  /**< `cl_uint`, `unsigned`: `uint` */
	CLQ_ARG_TYPE_LONG = 7,	  /**< `cl_long`, `long long`: `long` */
	CLQ_ARG_TYPE_ULONG = 8,	  /**< `cl_ulong`, `size_t` (64-bit): `ulong` */
	CLQ_ARG_TYPE_FLOAT = 9,	  /**< `cl_float`, `float`: `float` */
	CLQ_ARG_TYPE_DOUBLE = 10, /**< `cl_double`, `double`: `double` */
};

/**
 * How a kernel uses an array argument. clq does not act on it yet; it is
 * carried so that callers can say it now and commands be ordered by it
 * later (CLQ_ARG_IN(), CLQ_ARG_OUT(), CLQ_ARG_INOUT()).
 */
enum clq_access {
	CLQ_ACCESS_READ = 1,	   /**< the kernel only reads the array */
	CLQ_ACCESS_WRITE = 2,	   /**< the kernel only writes it */
	CLQ_ACCESS_READ_WRITE = 3, /**< the kernel reads and writes it */
};

/**
 * One kernel argument. Build it with a CLQ_ARG_ macro. One built by hand
 * (best with designated initializers) may leave the last two fields zero:
 * its type is then unknown (its size alone is checked) and an array's
 * access read-write. The fields before `type` are those of clq 0.1.0, in
 * the same order; the struct grew by `type` and `access`.
 */
struct clq_arg {
	enum clq_arg_kind kind; /**< which of the fields below hold it */
	size_t size;		/**< value or local bytes */
	const void *value;	/**< #CLQ_ARG_KIND_VALUE: the bytes */
	struct clq_device_array *array; /**< #CLQ_ARG_KIND_ARRAY */
	enum clq_arg_type type; /**< #CLQ_ARG_KIND_VALUE: the value's type */
	/** #CLQ_ARG_KIND_ARRAY: how the kernel uses it; 0 means
	 *  #CLQ_ACCESS_READ_WRITE */
	enum clq_access access;
};

/* The macros' two helpers: the type tag of an lvalue, and the struct.
 * C11 tells types apart with _Generic, C++ by overloading (see the end of
 * this file: C++ has no compound literals); C99 cannot, so its tag is
 * CLQ_ARG_TYPE_UNKNOWN and only sizes are checked. */
#if defined(__cplusplus)
#define CLQ__ARG_TYPE(x) clq__arg_type_of(&(x))
#define CLQ__ARG(kind, size, value, array, type, access) \
	clq__arg_make((kind), (size), (value), (array), (type), (access))
#else
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
/* clang-format off */
#define CLQ__ARG_TYPE(x)                                                     \
	_Generic((x),                                                        \
		char: CLQ_ARG_TYPE_CHAR,                                     \
		signed char: CLQ_ARG_TYPE_CHAR,                              \
		unsigned char: CLQ_ARG_TYPE_UCHAR,                           \
		short: CLQ_ARG_TYPE_SHORT,                                   \
		unsigned short: CLQ_ARG_TYPE_USHORT,                         \
		int: CLQ_ARG_TYPE_INT,                                       \
		unsigned int: CLQ_ARG_TYPE_UINT,                             \
		long: sizeof(long) == 8 ? CLQ_ARG_TYPE_LONG                  \
					: CLQ_ARG_TYPE_INT,                  \
		unsigned long: sizeof(long) == 8 ? CLQ_ARG_TYPE_ULONG        \
						 : CLQ_ARG_TYPE_UINT,        \
		long long: CLQ_ARG_TYPE_LONG,                                \
		unsigned long long: CLQ_ARG_TYPE_ULONG,                      \
		float: CLQ_ARG_TYPE_FLOAT,                                   \
		double: CLQ_ARG_TYPE_DOUBLE,                                 \
		default: CLQ_ARG_TYPE_UNKNOWN)
/* clang-format on */
#else
#define CLQ__ARG_TYPE(x) CLQ_ARG_TYPE_UNKNOWN
#endif
#define CLQ__ARG(kind, size, value, array, type, access) \
	((struct clq_arg){(kind), (size), (value), (array), (type), (access)})
#endif

/**
 * A device array argument (`__global T *` or `__constant T *`) that the
 * kernel reads and writes: the same as CLQ_ARG_INOUT().
 */
#define CLQ_ARG_ARRAY(a) CLQ_ARG_INOUT(a)
/** A device array argument that the kernel only reads. */
#define CLQ_ARG_IN(a)                                                    \
	CLQ__ARG(CLQ_ARG_KIND_ARRAY, 0, NULL, (a), CLQ_ARG_TYPE_UNKNOWN, \
		 CLQ_ACCESS_READ)
/** A device array argument that the kernel only writes. */
#define CLQ_ARG_OUT(a)                                                   \
	CLQ__ARG(CLQ_ARG_KIND_ARRAY, 0, NULL, (a), CLQ_ARG_TYPE_UNKNOWN, \
		 CLQ_ACCESS_WRITE)
/** A device array argument that the kernel reads and writes. */
#define CLQ_ARG_INOUT(a)                                                 \
	CLQ__ARG(CLQ_ARG_KIND_ARRAY, 0, NULL, (a), CLQ_ARG_TYPE_UNKNOWN, \
		 CLQ_ACCESS_READ_WRITE)
/**
 * A by-value argument; `x` must be an lvalue of exactly the kernel
 * parameter's type (`cl_uint` for `uint`, `cl_float` for `float`...): its
 * size and type (#clq_arg_type) are taken from it, and it is read during
 * the enqueue call.
 */
#define CLQ_ARG_VALUE(x)                                                      \
	CLQ__ARG(CLQ_ARG_KIND_VALUE, sizeof(x), &(x), NULL, CLQ__ARG_TYPE(x), \
		 CLQ_ACCESS_READ)
/**
 * A by-value argument of `size` bytes at `ptr`, whose C type is not known
 * (a value parsed at run time): only its size is checked.
 */
#define CLQ_ARG_BYTES(ptr, size)                          \
	CLQ__ARG(CLQ_ARG_KIND_VALUE, (size), (ptr), NULL, \
		 CLQ_ARG_TYPE_UNKNOWN, CLQ_ACCESS_READ)
/** A `__local` buffer of `bytes` bytes. */
#define CLQ_ARG_LOCAL(bytes)                              \
	CLQ__ARG(CLQ_ARG_KIND_LOCAL, (bytes), NULL, NULL, \
		 CLQ_ARG_TYPE_UNKNOWN, CLQ_ACCESS_READ_WRITE)

/**
 * Enqueues a kernel over an NDRange with the given arguments.
 *
 * Everything is checked before OpenCL is called.
 * @param queue the queue to enqueue on
 * @param kernel a kernel of a program of the queue's context
 * @param args the kernel's arguments in order, `n_args` of them
 * @param n_args the number of entries in `args`
 * @param work_dim 1, 2 or 3
 * @param global `work_dim` global sizes, none 0
 * @param local `work_dim` work-group sizes, or NULL: then the size the
 *        kernel requires (`reqd_work_group_size`) when it has one, else
 *        the driver's choice. A required size must be met on all three
 *        axes, those beyond `work_dim` counting as 1. OpenCL 1.2 (§5.8,
 *        clEnqueueNDRangeKernel) makes a NULL local size an error for such
 *        a kernel, since the required size is the only one it can run
 *        with; clq passes that size instead, when `work_dim` can hold it
 *        (its axes beyond `work_dim` are 1) and it divides `global`, and
 *        refuses the launch otherwise.
 * @param wait, n_wait, event_out as for every enqueue (see @ref queue)
 * @return #CLQ_SUCCESS;
 *         #CLQ_ERROR_INVALID_ARGUMENT for NULL pointers, a bad `work_dim`,
 *         a zero size, a malformed argument (NULL array or value, zero
 *         size, unknown kind, type or access);
 *         #CLQ_ERROR_ARG_COUNT when `n_args` differs from the kernel's;
 *         #CLQ_ERROR_TYPE_MISMATCH when an argument is of the wrong kind
 *         or type (see **Arguments** in @ref program; the log names it,
 *         what it must be and what was given);
 *         #CLQ_ERROR_CONTEXT_MISMATCH when the queue, the kernel, an array
 *         or a waited event belong to different contexts;
 *         #CLQ_ERROR_WORK_SIZE when a global size is not a multiple of
 *         the local size;
 *         #CLQ_ERROR_LOCAL_SIZE when the work-group exceeds the device's
 *         per-axis or total limit, the kernel's limit, or differs from the
 *         size the kernel requires on any of the three axes (the log says
 *         both);
 *         #CLQ_ERROR_OUT_OF_RANGE when the `__local` memory of the launch,
 *         the CLQ_ARG_LOCAL() sizes plus the kernel's own
 *         (clq_kernel_get_local_memory()), exceeds the device's
 *         (clq_device_get_local_memory()); the log says the sizes;
 *         an OpenCL code from `clSetKernelArg` (the log names the
 *         argument; `CL_INVALID_ARG_SIZE` for a value of the wrong size
 *         where clq does not know the parameter's type) or
 *         `clEnqueueNDRangeKernel`.
 */
CLQ_EXPORT int
clq_queue_enqueue_kernel(struct clq_queue *queue, struct clq_kernel *kernel,
			 const struct clq_arg *args, size_t n_args,
			 unsigned work_dim, const size_t *global,
			 const size_t *local, struct clq_event *const *wait,
			 size_t n_wait, struct clq_event **event_out);

/**
 * Enqueues a kernel over an NDRange that starts at a global offset:
 * clq_queue_enqueue_kernel() with OpenCL's `global_work_offset`, as
 * PyOpenCL's `global_offset`. Work-item `get_global_id(i)` then runs from
 * `offset[i]` to `offset[i] + global[i] - 1`; `get_global_offset(i)` is
 * `offset[i]`; `get_group_id()` and `get_local_id()` are as without an
 * offset. The offset need not be a multiple of the local size.
 *
 * @param queue, kernel, args, n_args, work_dim as for
 *        clq_queue_enqueue_kernel()
 * @param offset `work_dim` offsets, or NULL for none (then the same as
 *        clq_queue_enqueue_kernel())
 * @param global, local, wait, n_wait, event_out as for
 *        clq_queue_enqueue_kernel()
 * @return as clq_queue_enqueue_kernel() (the log names this function),
 *         and #CLQ_ERROR_OVERFLOW when `offset[i] + global[i]` does not fit
 *         in `size_t`; a device whose `size_t` is narrower than the
 *         host's (32-bit address bits) gives OpenCL's
 *         `CL_INVALID_GLOBAL_OFFSET` for a sum beyond its own.
 */
CLQ_EXPORT int
clq_queue_enqueue_kernel_offset(struct clq_queue *queue,
				struct clq_kernel *kernel,
				const struct clq_arg *args, size_t n_args,
				unsigned work_dim, const size_t *offset,
				const size_t *global, const size_t *local,
				struct clq_event *const *wait, size_t n_wait,
				struct clq_event **event_out);

/** @} */

#ifdef __cplusplus
}

/* C++: what the CLQ_ARG_ macros expand to there, as compound literals are
 * not C++. Overloads give CLQ_ARG_VALUE() the type tags that C11's
 * _Generic gives. */
inline struct clq_arg
clq__arg_make(enum clq_arg_kind kind, size_t size, const void *value,
	      struct clq_device_array *array, enum clq_arg_type type,
	      enum clq_access access)
{
	struct clq_arg arg;

	arg.kind = kind;
	arg.size = size;
	arg.value = value;
	arg.array = array;
	arg.type = type;
	arg.access = access;
	return arg;
}

inline enum clq_arg_type
clq__arg_type_of(const char *)
{
	return CLQ_ARG_TYPE_CHAR;
}

inline enum clq_arg_type
clq__arg_type_of(const signed char *)
{
	return CLQ_ARG_TYPE_CHAR;
}

inline enum clq_arg_type
clq__arg_type_of(const unsigned char *)
{
	return CLQ_ARG_TYPE_UCHAR;
}

inline enum clq_arg_type
clq__arg_type_of(const short *)
{
	return CLQ_ARG_TYPE_SHORT;
}

inline enum clq_arg_type
clq__arg_type_of(const unsigned short *)
{
	return CLQ_ARG_TYPE_USHORT;
}

inline enum clq_arg_type
clq__arg_type_of(const int *)
{
	return CLQ_ARG_TYPE_INT;
}

inline enum clq_arg_type
clq__arg_type_of(const unsigned int *)
{
	return CLQ_ARG_TYPE_UINT;
}

inline enum clq_arg_type
clq__arg_type_of(const long *)
{
	return sizeof(long) == 8 ? CLQ_ARG_TYPE_LONG : CLQ_ARG_TYPE_INT;
}

inline enum clq_arg_type
clq__arg_type_of(const unsigned long *)
{
	return sizeof(long) == 8 ? CLQ_ARG_TYPE_ULONG : CLQ_ARG_TYPE_UINT;
}

inline enum clq_arg_type
clq__arg_type_of(const long long *)
{
	return CLQ_ARG_TYPE_LONG;
}

inline enum clq_arg_type
clq__arg_type_of(const unsigned long long *)
{
	return CLQ_ARG_TYPE_ULONG;
}

inline enum clq_arg_type
clq__arg_type_of(const float *)
{
	return CLQ_ARG_TYPE_FLOAT;
}

inline enum clq_arg_type
clq__arg_type_of(const double *)
{
	return CLQ_ARG_TYPE_DOUBLE;
}

inline enum clq_arg_type
clq__arg_type_of(const volatile void *)
{
	return CLQ_ARG_TYPE_UNKNOWN;
}
#endif

#endif /* CLQ_PROGRAM_H */
