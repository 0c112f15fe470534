/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fault injection, for test builds only: tests/meson.build compiles the
 * library a second time with `-include tests/fault.h`, so that every host
 * allocation and every OpenCL call that can fail goes through a wrapper in
 * tests/fault.c. A test arms a countdown (fault_arm(k)); the k-th wrapped
 * call from then on fails as the real one could (NULL, or an OpenCL error
 * code), once.
 *
 * The macros must come before <stdlib.h>, <string.h>, <CL/cl.h>,
 * <pthread.h>, <unistd.h> and <sys/eventfd.h>: their prototypes then
 * declare the wrappers, with the real signatures.
 */
#ifndef CLQ_TESTS_FAULT_H
#define CLQ_TESTS_FAULT_H

/* lib/event.c recycles command events; with no cache, every event
 * allocation reaches malloc() and can be made to fail. */
#define CLQ__EVENT_CACHE_MAX 0

#define malloc(n) fault_malloc(n)
#define calloc(n, size) fault_calloc(n, size)
#define realloc(p, n) fault_realloc(p, n)
#define strdup(s) fault_strdup(s)
#define posix_memalign(p, align, n) fault_posix_memalign(p, align, n)

#define clCreateContext(...) fault_clCreateContext(__VA_ARGS__)
#define clCreateCommandQueue(...) fault_clCreateCommandQueue(__VA_ARGS__)
#define clCreateBuffer(...) fault_clCreateBuffer(__VA_ARGS__)
#define clCreateSubBuffer(...) fault_clCreateSubBuffer(__VA_ARGS__)
#define clCreateUserEvent(...) fault_clCreateUserEvent(__VA_ARGS__)
#define clCreateProgramWithSource(...) \
	fault_clCreateProgramWithSource(__VA_ARGS__)
#define clCreateProgramWithBinary(...) \
	fault_clCreateProgramWithBinary(__VA_ARGS__)
#define clBuildProgram(...) fault_clBuildProgram(__VA_ARGS__)
#define clCreateKernel(...) fault_clCreateKernel(__VA_ARGS__)
#define clSetKernelArg(...) fault_clSetKernelArg(__VA_ARGS__)
#define clSetEventCallback(...) fault_clSetEventCallback(__VA_ARGS__)
#define clEnqueueWriteBuffer(...) fault_clEnqueueWriteBuffer(__VA_ARGS__)
#define clEnqueueReadBuffer(...) fault_clEnqueueReadBuffer(__VA_ARGS__)
#define clEnqueueWriteBufferRect(...) \
	fault_clEnqueueWriteBufferRect(__VA_ARGS__)
#define clEnqueueReadBufferRect(...) fault_clEnqueueReadBufferRect(__VA_ARGS__)
#define clEnqueueCopyBuffer(...) fault_clEnqueueCopyBuffer(__VA_ARGS__)
#define clEnqueueCopyBufferRect(...) fault_clEnqueueCopyBufferRect(__VA_ARGS__)
#define clEnqueueFillBuffer(...) fault_clEnqueueFillBuffer(__VA_ARGS__)
#define clEnqueueNDRangeKernel(...) fault_clEnqueueNDRangeKernel(__VA_ARGS__)
#define clEnqueueMarkerWithWaitList(...) \
	fault_clEnqueueMarkerWithWaitList(__VA_ARGS__)
#define clEnqueueBarrierWithWaitList(...) \
	fault_clEnqueueBarrierWithWaitList(__VA_ARGS__)
#define clEnqueueMapBuffer(...) fault_clEnqueueMapBuffer(__VA_ARGS__)
#define clFlush(...) fault_clFlush(__VA_ARGS__)
#define clFinish(...) fault_clFinish(__VA_ARGS__)
#define clWaitForEvents(...) fault_clWaitForEvents(__VA_ARGS__)
#define clGetEventProfilingInfo(...) fault_clGetEventProfilingInfo(__VA_ARGS__)

/* System calls of lib/notifier.c: its descriptor and helper thread. */
#define eventfd(...) fault_eventfd(__VA_ARGS__)
#define pipe(...) fault_pipe(__VA_ARGS__)
#define pthread_create(...) fault_pthread_create(__VA_ARGS__)

/* The tuning database's SQLite calls (lib/tune_db.c), where built. */
#define sqlite3_open_v2(...) fault_sqlite3_open_v2(__VA_ARGS__)
#define sqlite3_busy_timeout(...) fault_sqlite3_busy_timeout(__VA_ARGS__)
#define sqlite3_exec(...) fault_sqlite3_exec(__VA_ARGS__)
#define sqlite3_prepare_v2(...) fault_sqlite3_prepare_v2(__VA_ARGS__)
#define sqlite3_bind_text(...) fault_sqlite3_bind_text(__VA_ARGS__)
#define sqlite3_bind_int(...) fault_sqlite3_bind_int(__VA_ARGS__)
#define sqlite3_bind_double(...) fault_sqlite3_bind_double(__VA_ARGS__)
#define sqlite3_bind_null(...) fault_sqlite3_bind_null(__VA_ARGS__)
#define sqlite3_step(...) fault_sqlite3_step(__VA_ARGS__)
#define sqlite3_column_text(...) fault_sqlite3_column_text(__VA_ARGS__)

#endif /* CLQ_TESTS_FAULT_H */
