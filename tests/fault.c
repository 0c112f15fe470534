/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The wrappers tests/fault.h redirects the library's calls to: each
 * counts down an armed fault and fails when it reaches zero, else calls
 * the real function. Compiled without fault.h, so the names below are the
 * real ones; the library's sources see the wrappers' prototypes through
 * fault.h's macros, so this file has none of its own (meson turns
 * -Wmissing-prototypes off for it).
 */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include "fault-control.h"

/* 0: disarmed; n > 0: the n-th wrapped call from now fails. */
static atomic_long countdown;
static atomic_long calls, fired;

void
fault_arm(long k)
{
	atomic_store(&calls, 0);
	atomic_store(&fired, 0);
	atomic_store(&countdown, k);
}

long
fault_disarm(void)
{
	atomic_store(&countdown, 0);
	return atomic_load(&fired);
}

long
fault_calls(void)
{
	return atomic_load(&calls);
}

/* Whether this call is the one to fail. */
static int
fault_now(void)
{
	long left = atomic_load(&countdown);

	atomic_fetch_add(&calls, 1);
	while (left > 0) {
		if (atomic_compare_exchange_weak(&countdown, &left, left - 1)) {
			if (left == 1) {
				atomic_fetch_add(&fired, 1);
				return 1;
			}
			return 0;
		}
	}
	return 0;
}

#define FAIL_STATUS CL_OUT_OF_RESOURCES

/* Host allocations. */
void *
fault_malloc(size_t n)
{
	return fault_now() ? NULL : malloc(n);
}

void *
fault_calloc(size_t n, size_t size)
{
	return fault_now() ? NULL : calloc(n, size);
}

void *
fault_realloc(void *p, size_t n)
{
	return fault_now() ? NULL : realloc(p, n);
}

char *
fault_strdup(const char *s)
{
	return fault_now() ? NULL : strdup(s);
}

int
fault_posix_memalign(void **p, size_t align, size_t n)
{
	return fault_now() ? ENOMEM : posix_memalign(p, align, n);
}

/* OpenCL calls that return an object and an error code. */
#define FAIL_OBJECT(errcode_ret)                              \
	do {                                                  \
		if (fault_now()) {                            \
			if (errcode_ret)                      \
				*(errcode_ret) = FAIL_STATUS; \
			return NULL;                          \
		}                                             \
	} while (0)

cl_context
fault_clCreateContext(const cl_context_properties *props, cl_uint n,
		      const cl_device_id *devices,
		      void(CL_CALLBACK *notify)(const char *, const void *,
						size_t, void *),
		      void *user_data, cl_int *err)
{
	FAIL_OBJECT(err);
	return clCreateContext(props, n, devices, notify, user_data, err);
}

cl_command_queue
fault_clCreateCommandQueue(cl_context c, cl_device_id d,
			   cl_command_queue_properties p, cl_int *err)
{
	FAIL_OBJECT(err);
	return clCreateCommandQueue(c, d, p, err);
}

cl_mem
fault_clCreateBuffer(cl_context c, cl_mem_flags f, size_t n, void *host,
		     cl_int *err)
{
	FAIL_OBJECT(err);
	return clCreateBuffer(c, f, n, host, err);
}

cl_mem
fault_clCreateSubBuffer(cl_mem m, cl_mem_flags f, cl_buffer_create_type t,
			const void *info, cl_int *err)
{
	FAIL_OBJECT(err);
	return clCreateSubBuffer(m, f, t, info, err);
}

cl_event
fault_clCreateUserEvent(cl_context c, cl_int *err)
{
	FAIL_OBJECT(err);
	return clCreateUserEvent(c, err);
}

cl_program
fault_clCreateProgramWithSource(cl_context c, cl_uint n, const char **src,
				const size_t *len, cl_int *err)
{
	FAIL_OBJECT(err);
	return clCreateProgramWithSource(c, n, src, len, err);
}

cl_program
fault_clCreateProgramWithBinary(cl_context c, cl_uint n, const cl_device_id *d,
				const size_t *len, const unsigned char **bin,
				cl_int *status, cl_int *err)
{
	FAIL_OBJECT(err);
	return clCreateProgramWithBinary(c, n, d, len, bin, status, err);
}

cl_kernel
fault_clCreateKernel(cl_program p, const char *name, cl_int *err)
{
	FAIL_OBJECT(err);
	return clCreateKernel(p, name, err);
}

void *
fault_clEnqueueMapBuffer(cl_command_queue q, cl_mem m, cl_bool block,
			 cl_map_flags f, size_t off, size_t n, cl_uint nw,
			 const cl_event *w, cl_event *e, cl_int *err)
{
	FAIL_OBJECT(err);
	return clEnqueueMapBuffer(q, m, block, f, off, n, nw, w, e, err);
}

/* OpenCL calls that return a status. */
#define FAIL_STATUS_IF_ARMED()              \
	do {                                \
		if (fault_now())            \
			return FAIL_STATUS; \
	} while (0)

cl_int
fault_clBuildProgram(cl_program p, cl_uint n, const cl_device_id *d,
		     const char *options,
		     void(CL_CALLBACK *notify)(cl_program, void *), void *data)
{
	FAIL_STATUS_IF_ARMED();
	return clBuildProgram(p, n, d, options, notify, data);
}

cl_int
fault_clSetKernelArg(cl_kernel k, cl_uint i, size_t n, const void *v)
{
	FAIL_STATUS_IF_ARMED();
	return clSetKernelArg(k, i, n, v);
}

cl_int
fault_clSetEventCallback(cl_event e, cl_int type,
			 void(CL_CALLBACK *fn)(cl_event, cl_int, void *),
			 void *data)
{
	FAIL_STATUS_IF_ARMED();
	return clSetEventCallback(e, type, fn, data);
}

cl_int
fault_clEnqueueWriteBuffer(cl_command_queue q, cl_mem m, cl_bool block,
			   size_t off, size_t n, const void *p, cl_uint nw,
			   const cl_event *w, cl_event *e)
{
	FAIL_STATUS_IF_ARMED();
	return clEnqueueWriteBuffer(q, m, block, off, n, p, nw, w, e);
}

cl_int
fault_clEnqueueReadBuffer(cl_command_queue q, cl_mem m, cl_bool block,
			  size_t off, size_t n, void *p, cl_uint nw,
			  const cl_event *w, cl_event *e)
{
	FAIL_STATUS_IF_ARMED();
	return clEnqueueReadBuffer(q, m, block, off, n, p, nw, w, e);
}

cl_int
fault_clEnqueueWriteBufferRect(cl_command_queue q, cl_mem m, cl_bool block,
			       const size_t *bo, const size_t *ho,
			       const size_t *r, size_t brp, size_t bsp,
			       size_t hrp, size_t hsp, const void *p,
			       cl_uint nw, const cl_event *w, cl_event *e)
{
	FAIL_STATUS_IF_ARMED();
	return clEnqueueWriteBufferRect(q, m, block, bo, ho, r, brp, bsp, hrp,
					hsp, p, nw, w, e);
}

cl_int
fault_clEnqueueReadBufferRect(cl_command_queue q, cl_mem m, cl_bool block,
			      const size_t *bo, const size_t *ho,
			      const size_t *r, size_t brp, size_t bsp,
			      size_t hrp, size_t hsp, void *p, cl_uint nw,
			      const cl_event *w, cl_event *e)
{
	FAIL_STATUS_IF_ARMED();
	return clEnqueueReadBufferRect(q, m, block, bo, ho, r, brp, bsp, hrp,
				       hsp, p, nw, w, e);
}

cl_int
fault_clEnqueueCopyBuffer(cl_command_queue q, cl_mem src, cl_mem dst, size_t so,
			  size_t dof, size_t n, cl_uint nw, const cl_event *w,
			  cl_event *e)
{
	FAIL_STATUS_IF_ARMED();
	return clEnqueueCopyBuffer(q, src, dst, so, dof, n, nw, w, e);
}

cl_int
fault_clEnqueueCopyBufferRect(cl_command_queue q, cl_mem src, cl_mem dst,
			      const size_t *so, const size_t *dof,
			      const size_t *r, size_t srp, size_t ssp,
			      size_t drp, size_t dsp, cl_uint nw,
			      const cl_event *w, cl_event *e)
{
	FAIL_STATUS_IF_ARMED();
	return clEnqueueCopyBufferRect(q, src, dst, so, dof, r, srp, ssp, drp,
				       dsp, nw, w, e);
}

cl_int
fault_clEnqueueFillBuffer(cl_command_queue q, cl_mem m, const void *pattern,
			  size_t psize, size_t off, size_t n, cl_uint nw,
			  const cl_event *w, cl_event *e)
{
	FAIL_STATUS_IF_ARMED();
	return clEnqueueFillBuffer(q, m, pattern, psize, off, n, nw, w, e);
}

cl_int
fault_clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dim,
			     const size_t *off, const size_t *global,
			     const size_t *local, cl_uint nw, const cl_event *w,
			     cl_event *e)
{
	FAIL_STATUS_IF_ARMED();
	return clEnqueueNDRangeKernel(q, k, dim, off, global, local, nw, w, e);
}

cl_int
fault_clEnqueueMarkerWithWaitList(cl_command_queue q, cl_uint nw,
				  const cl_event *w, cl_event *e)
{
	FAIL_STATUS_IF_ARMED();
	return clEnqueueMarkerWithWaitList(q, nw, w, e);
}

cl_int
fault_clEnqueueBarrierWithWaitList(cl_command_queue q, cl_uint nw,
				   const cl_event *w, cl_event *e)
{
	FAIL_STATUS_IF_ARMED();
	return clEnqueueBarrierWithWaitList(q, nw, w, e);
}

cl_int
fault_clFlush(cl_command_queue q)
{
	FAIL_STATUS_IF_ARMED();
	return clFlush(q);
}

cl_int
fault_clFinish(cl_command_queue q)
{
	FAIL_STATUS_IF_ARMED();
	return clFinish(q);
}

cl_int
fault_clWaitForEvents(cl_uint n, const cl_event *e)
{
	FAIL_STATUS_IF_ARMED();
	return clWaitForEvents(n, e);
}

cl_int
fault_clGetEventProfilingInfo(cl_event e, cl_profiling_info what, size_t n,
			      void *v, size_t *ret)
{
	FAIL_STATUS_IF_ARMED();
	return clGetEventProfilingInfo(e, what, n, v, ret);
}

/* System calls: they fail as when the process is out of descriptors or
 * threads. */
#ifdef __linux__
int
fault_eventfd(unsigned int count, int flags)
{
	if (fault_now()) {
		errno = EMFILE;
		return -1;
	}
	return eventfd(count, flags);
}
#endif

int
fault_pipe(int fd[2])
{
	if (fault_now()) {
		errno = EMFILE;
		return -1;
	}
	return pipe(fd);
}

int
fault_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
		     void *(*start)(void *), void *arg)
{
	return fault_now() ? EAGAIN : pthread_create(thread, attr, start, arg);
}

#ifdef CLQ_HAVE_SQLITE3
#include <sqlite3.h>

/* SQLite: each fails as it can (out of memory, I/O), without calling the
 * real function, so nothing of it happens. */
int
fault_sqlite3_open_v2(const char *path, sqlite3 **db, int flags,
		      const char *vfs)
{
	if (fault_now()) {
		*db = NULL;
		return SQLITE_NOMEM;
	}
	return sqlite3_open_v2(path, db, flags, vfs);
}

int
fault_sqlite3_busy_timeout(sqlite3 *db, int ms)
{
	return fault_now() ? SQLITE_MISUSE : sqlite3_busy_timeout(db, ms);
}

int
fault_sqlite3_exec(sqlite3 *db, const char *sql,
		   int (*fn)(void *, int, char **, char **), void *data,
		   char **errmsg)
{
	return fault_now() ? SQLITE_IOERR
			   : sqlite3_exec(db, sql, fn, data, errmsg);
}

int
fault_sqlite3_prepare_v2(sqlite3 *db, const char *sql, int n,
			 sqlite3_stmt **stmt, const char **tail)
{
	if (fault_now()) {
		*stmt = NULL;
		return SQLITE_NOMEM;
	}
	return sqlite3_prepare_v2(db, sql, n, stmt, tail);
}

int
fault_sqlite3_bind_text(sqlite3_stmt *s, int i, const char *v, int n,
			void (*destroy)(void *))
{
	return fault_now() ? SQLITE_NOMEM
			   : sqlite3_bind_text(s, i, v, n, destroy);
}

int
fault_sqlite3_bind_int(sqlite3_stmt *s, int i, int v)
{
	return fault_now() ? SQLITE_NOMEM : sqlite3_bind_int(s, i, v);
}

int
fault_sqlite3_bind_double(sqlite3_stmt *s, int i, double v)
{
	return fault_now() ? SQLITE_NOMEM : sqlite3_bind_double(s, i, v);
}

int
fault_sqlite3_bind_null(sqlite3_stmt *s, int i)
{
	return fault_now() ? SQLITE_NOMEM : sqlite3_bind_null(s, i);
}

int
fault_sqlite3_step(sqlite3_stmt *s)
{
	return fault_now() ? SQLITE_IOERR : sqlite3_step(s);
}

const unsigned char *
fault_sqlite3_column_text(sqlite3_stmt *s, int i)
{
	return fault_now() ? NULL : sqlite3_column_text(s, i);
}
#endif
