/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to the library: struct layouts and the clq__ functions shared
 * between its source files. Nothing here is exported.
 */
#ifndef CLQ_PRIVATE_H
#define CLQ_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <clq/clq.h>

#if defined(__GNUC__)
#define CLQ__PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define CLQ__ALWAYS_INLINE inline __attribute__((always_inline))
#define CLQ__NOINLINE __attribute__((noinline))
#else
#define CLQ__PRINTF(fmt, args)
#define CLQ__ALWAYS_INLINE inline
#define CLQ__NOINLINE
#endif

/*
 * Reference counts, the one rule for every object: made with one
 * reference, clq__ref_get() adds one, clq__ref_put() drops one and says
 * whether it was the last (the caller then frees). Adding is relaxed (a
 * reference is only ever copied from one already held); the last drop
 * acquires what every other holder released.
 */
static inline void
clq__ref_init(atomic_uint *refs)
{
	atomic_init(refs, 1);
}

static inline void
clq__ref_get(atomic_uint *refs)
{
	atomic_fetch_add_explicit(refs, 1, memory_order_relaxed);
}

static inline int
clq__ref_put(atomic_uint *refs)
{
	return atomic_fetch_sub_explicit(refs, 1, memory_order_acq_rel) == 1;
}

/* A handler and its data, swapped as a pair under a lock. */
struct clq__log_sink {
	pthread_mutex_t lock;
	clq_log_fn fn;
	void *user_data;
};

struct clq_device {
	atomic_uint refs;
	cl_platform_id platform;
	cl_device_id id;
	size_t index;
	size_t platform_index;
	size_t index_in_platform;
	char *name;
	char *vendor;
	char *platform_name;
	char *driver_version;
	char *opencl_version;
	unsigned opencl_version_number;
	enum clq_device_type type;
	unsigned compute_units;
	size_t max_work_group_size;
	size_t max_work_item_sizes[3];
	uint64_t local_memory;
	uint64_t global_memory;
	uint64_t max_alloc_size;
	size_t timer_resolution;
	int can_profile;
	size_t simd_group_size;
	/* which extension clq_device_get_pci_bus_info() reads (device.c) */
	int pci_source;
};

/*
 * The route around drivers that abort or hang when a user event fails
 * (failsafe.c). Where the driver needs it (`needed`), while a user event
 * of the context is pending or once one has failed, every command's
 * OpenCL event is kept until it completes; on every driver, once a user
 * event has failed, wait lists are screened for events that have already
 * failed.
 */
struct clq__failsafe {
	int needed;		  /* events must be kept (set at creation) */
	atomic_uint pending_user; /* user events pending (if needed) */
	/* A user event has failed, or an event was wrapped (sticky). */
	atomic_int user_failed;
	atomic_int foreign;   /* an event was wrapped (clq__failsafe_foreign) */
	atomic_size_t n_kept; /* events on the stack and in the list */
	/* Kept events whose last reference went, each holding its OpenCL
	 * event, linked through next_free: pushed on `incoming`, a lock-free
	 * stack, then moved by sweeps to the list, oldest first. */
	_Atomic(struct clq_event *) incoming;
	pthread_mutex_t lock; /* guards the list */
	struct clq_event *head, **tail;
	atomic_size_t full_sweep_at; /* n_kept that calls a whole sweep */
};

/*
 * Vector clocks (order.c): what the commands stamped with a clock know.
 * `v[k]` is the newest sequence number of queue slot k known to happen
 * before them (0: none; slots at or past `n` are 0). Immutable once made
 * and shared, refcounted, by a queue and the events it stamped.
 */
struct clq__clock {
	atomic_uint refs;
	unsigned slot; /* the queue slot whose commands it stamps */
	unsigned n;
	uint64_t v[];
};

static inline struct clq__clock *
clq__clock_hold(struct clq__clock *c)
{
	clq__ref_get(&c->refs);
	return c;
}

static inline void
clq__clock_drop(struct clq__clock *c)
{
	if (c && clq__ref_put(&c->refs))
		free(c);
}

/*
 * A queue slot of a context's ordering: a small index for vector clocks.
 * A slot's sequence numbers keep growing across the queues that use it in
 * turn; a slot is reused only once its last queue's commands have all
 * ended (`retired`, a marker enqueued when that queue went), so that what
 * clocks say of the old queue stays true.
 */
struct clq__slot {
	struct clq_queue *queue; /* NULL when free */
	uint64_t seq;		 /* the newest command's sequence number */
	/* The newest command the host has seen end: a wait or a status
	 * read that found it (or a later one of the slot) complete. */
	uint64_t seen;
	cl_event retired; /* free slots: ends after the old queue */
	int dead;	  /* free for good: the marker failed */
};

/* A root buffer's tracked accesses (order.c). */
struct clq__buffer;

/* A context's ordering (order.c, clq/order.h). */
struct clq__order {
	/* The mode, with CLQ__ORDER_STARTED set by the first enqueue. */
	atomic_int state;
	/* Guards the rest, queues' `slot` and `clock`, arrays' `label`, and
	 * (in CHECK and AUTO) every enqueue's check, OpenCL call and record. */
	pthread_mutex_t lock;
	struct clq__slot *slots;
	unsigned n_slots, cap_slots;
	struct clq__buffer **buckets; /* by root cl_mem, chained */
	size_t n_buckets;
	struct clq_ordering_stats stats;
};

#define CLQ__ORDER_MODE 3
#define CLQ__ORDER_STARTED 4

struct clq_context {
	atomic_uint refs;
	struct clq_device *device;
	cl_context cl;
	struct clq__log_sink log;
	struct clq__failsafe failsafe;
	struct clq__order order;
};

/* Context references from inside the library: the context is known to
 * be there, and the common case is inline. */
void clq__context_free(struct clq_context *ctx);

static inline struct clq_context *
clq__context_hold(struct clq_context *ctx)
{
	clq__ref_get(&ctx->refs);
	return ctx;
}

static inline void
clq__context_drop(struct clq_context *ctx)
{
	if (clq__ref_put(&ctx->refs))
		clq__context_free(ctx);
}

/*
 * What a queue's command events keep of it (queue.c): its OpenCL queue,
 * retained, so that a wait on another queue can flush it even after the
 * clq queue is gone (OpenCL 1.2 section 5.13 leaves an unflushed
 * cross-queue wait undefined).
 */
struct clq__queue_handle {
	atomic_uint refs;
	cl_command_queue cl;
};

/* Drops a reference; the last releases the OpenCL queue. */
void clq__queue_handle_drop(struct clq__queue_handle *h);

struct clq_queue {
	atomic_uint refs;
	struct clq_context *ctx;
	cl_command_queue cl;
	struct clq__queue_handle *handle;
	unsigned flags;
	uint64_t id; /* unique in the process, never reused */
	/* Ordering (under ctx->order.lock): the queue's slot and clock, and
	 * its label (clq_queue_set_label()), or NULL. */
	unsigned slot;
	struct clq__clock *clock;
	char *name;
	/* Per-command observers (timelines); changed only while no other
	 * thread enqueues (clq_queue_set_timeline()). */
	struct clq__observer *observers;
	/* Tuning queues only: `tune_lock` guards the rest; while `tuning`,
	 * the first and the latest command enqueued are held. */
	pthread_mutex_t tune_lock;
	int tuning;
	struct clq_event *tune_first;
	struct clq_event *tune_last;
};

/* User events only: the state behind completion and callbacks. */
struct clq__user_event {
	/* Callers' references (ref/unref), not pending callbacks', so that a
	 * user event nobody holds any more can be abandoned (see unref). */
	atomic_uint holders;
	/* Claimed by the first completion. clq runs user-event callbacks
	 * itself (some drivers never call callbacks of failed events), so
	 * `lock` guards the pending callbacks and the final status. */
	atomic_int completed;
	pthread_mutex_t lock;
	struct clq__callback *callbacks;
	int status_known;
	int final_status;
	/* Made by clq_event_bridge(), which alone completes it. */
	unsigned char bridged;
};

struct clq_event {
	atomic_uint refs; /* every reference; frees at zero */
	union {
		struct clq_context *ctx;
		/* in a thread's cache, the failsafe's kept list or a
		 * clq__failsafe_extra's spares */
		struct clq_event *next_free;
	};
	cl_event cl; /* NULL until the enqueue that made it succeeded */
	unsigned char profiled;
	/* Enqueued while events had to be kept (the failsafe active where
	 * `needed`): the last reference hands the event to the context's
	 * kept list (failsafe.c). */
	unsigned char kept;
	/* Ordering: the host has seen the command end (under the ordering
	 * lock; see clq__order_seen()). */
	unsigned char seen;
	/* Command events: the handle of the queue they were enqueued on
	 * (held; dropped once the failsafe adopts the event), and whether
	 * that queue may not have been flushed since. NULL for user events. */
	atomic_int unflushed;
	struct clq__queue_handle *source;
	/* NULL for command events, which stay this small: every enqueue
	 * that returns an event needs one (recycled, see event.c). */
	struct clq__user_event *user;
	/* Ordering's stamp (CHECK and AUTO): the queue's clock when the
	 * command was enqueued (held) and its sequence number there. */
	struct clq__clock *clock;
	uint64_t seq;
};

/* A registered completion callback (event.c). */
struct clq__callback {
	struct clq__callback *next;
	struct clq_event *event;
	clq_event_callback_fn fn;
	void *user_data;
};

/* An array's memory layout (array.c). Axes beyond ndim are unused. */
struct clq__layout {
	enum clq_dtype dtype;
	size_t itemsize; /* clq_dtype_size(dtype) */
	size_t ndim;
	size_t shape[CLQ_MAX_DIMS];
	size_t padded[CLQ_MAX_DIMS];
	size_t strides[CLQ_MAX_DIMS];
	int packed;	   /* no padding: padded equals shape */
	size_t nbytes;	   /* with padding */
	size_t data_bytes; /* without: itemsize times the product of shape */
};

struct clq_device_array {
	atomic_uint refs;
	struct clq_context *ctx;
	cl_mem mem;
	/* The buffer that rectangular copies use and the array's byte offset
	 * in it: `mem` and 0, or for an alias the buffer it was made in (held)
	 * and its offset there (PoCL 3.1 crashes in rectangular copies that
	 * touch a sub-buffer; see device_array.c). */
	cl_mem root;
	size_t root_offset;
	struct clq__layout layout;
	/* A buffer of other code (wrapped, or aliased): its
	 * CL_MEM_HOST_NO_ACCESS / _READ_ONLY / _WRITE_ONLY flags, which
	 * refuse host transfers; 0 for clq's own. */
	cl_mem_flags host_access;
	/* Ordering: the root buffer's tracked accesses (shared by the root's
	 * arrays) and the label (under ctx->order.lock). */
	struct clq__buffer *buffer;
	char *label;
};

enum clq__host_strategy {
	CLQ__HOST_WRAPPED,  /* caller memory */
	CLQ__HOST_ALIGNED,  /* page-aligned malloc */
	CLQ__HOST_MAPPED,   /* ALLOC_HOST_PTR buffer, mapped for life */
	CLQ__HOST_REMAPPED, /* ALLOC_HOST_PTR buffer, unmapped around copies */
	/* caller memory under a USE_HOST_PTR buffer, mapped for life
	 * (clq_host_array_register()); `pinned` NULL where the driver
	 * would not map it in place */
	CLQ__HOST_REGISTERED,
};

/* A host array's newest async transfer on one queue. */
struct clq__pending {
	uint64_t queue_id;
	struct clq_event *ev; /* held */
};

struct clq_host_array {
	atomic_uint refs;
	struct clq_context *ctx; /* NULL when wrapped */
	struct clq__layout layout;
	void *data;
	enum clq__host_strategy strategy;
	cl_mem pinned; /* mapped strategies only */
	cl_command_queue
		map_queue; /* mapped strategies: first map, last unmap */
	/* Remapped strategy: `remap_lock` orders the unmap/copy/map triples
	 * of concurrent transfers; `last_map` is the newest map's event, which
	 * the next triple waits for (NULL before the first transfer). */
	pthread_mutex_t remap_lock;
	cl_event last_map;
	/* Async transfers keep the array alive without a reference each: for
	 * every queue that has used it, `pending` holds the newest transfer's
	 * event (queues run in order, so the earlier ones end first). The last
	 * unref frees the array once those events have completed. Guarded by
	 * `pending_lock`; `pending_left` counts the events the freeing still
	 * waits for. */
	pthread_mutex_t pending_lock;
	struct clq__pending *pending;
	size_t n_pending, cap_pending;
	struct clq__pending pending_inline[2];
	atomic_uint pending_left;
};

struct clq_program {
	atomic_uint refs;
	struct clq_context *ctx;
	cl_program cl;
	char *name;
	char *build_log;
	int built;
	int arg_info; /* built with -cl-kernel-arg-info (program.c) */
};

struct clq_kernel {
	atomic_uint refs;
	struct clq_program *program;
	cl_kernel cl;
	char *name;
	/* Held while arguments are set and the kernel enqueued. */
	pthread_mutex_t lock;
	size_t n_args;
	size_t work_group_size;
	size_t preferred_multiple;
	size_t compile_work_group_size[3];
	uint64_t local_memory;
	uint64_t private_memory;
	/* What each of the n_args arguments must be (kernel.c). */
	struct clq__kernel_arg *args;
};

/* The library's own kernel sources, embedded by cl/embed.py. */
struct clq__embedded_source {
	const char *name;
	const char *text;
	size_t length;
};

extern const struct clq__embedded_source clq__embedded_sources[];
extern const size_t clq__n_embedded_sources;

/*
 * Validates an array description and computes its layout. `function` names
 * the caller in log messages. Returns CLQ_SUCCESS,
 * CLQ_ERROR_INVALID_ARGUMENT or CLQ_ERROR_OVERFLOW.
 */
int clq__layout_init(struct clq_context *ctx, const char *function,
		     enum clq_dtype dtype, size_t ndim, const size_t *shape,
		     const size_t *padded_shape, struct clq__layout *out);

/*
 * Logs that two arrays differ in shape, naming both ("device [1024], host
 * [1000]"), and returns CLQ_ERROR_SHAPE_MISMATCH.
 */
int clq__shape_mismatch(struct clq_context *ctx, const char *function,
			const char *a_name, const struct clq__layout *a,
			const char *b_name, const struct clq__layout *b);

/*
 * Whether the host may write (`host_writes`) or read the array's buffer:
 * CLQ_SUCCESS, or CLQ_ERROR_UNSUPPORTED, logged for `function`, for a
 * wrapped buffer whose CL_MEM_HOST_* flags forbid it.
 */
int clq__device_array_check_host_access(const char *function,
					const struct clq_device_array *a,
					int host_writes);

/* A block of an array: per-axis start and count, in elements. */
struct clq__box {
	size_t start[CLQ_MAX_DIMS];
	size_t count[CLQ_MAX_DIMS];
};

/*
 * Checks a block of layout `l` given by `start` and `count` (`l->ndim`
 * each) and fills `b`; axes past ndim are one long. `which` names the
 * side in messages. Returns CLQ_SUCCESS, CLQ_ERROR_INVALID_ARGUMENT (NULL,
 * a zero count) or CLQ_ERROR_OUT_OF_RANGE (outside the array).
 */
int clq__make_box(struct clq_context *ctx, const char *function,
		  const struct clq__layout *l, const size_t *start,
		  const size_t *count, const char *which, struct clq__box *b);

/*
 * One OpenCL command of a block fill (device_array.c). Offsets are bytes
 * from the array's start. A fill writes the pattern over `region[0]` bytes
 * at `dst`; a copy (`copy` set) is a rectangular copy within the array,
 * with the same pitches on both sides, from `src` to `dst`.
 */
struct clq__fill_step {
	int copy;
	size_t src, dst;
	size_t region[3];
	size_t row_pitch, slice_pitch;
};

/*
 * The commands that set the elements of box `b` of layout `l`, and no
 * other byte, in the order they must run: one fill of the block's first
 * contiguous run, then rectangular copies from the part already filled
 * that double it along each further axis of the block. Calls `step` for
 * each command; returns CLQ_SUCCESS or the first negative status of step.
 */
int clq__fill_plan(const struct clq__layout *l, const struct clq__box *b,
		   int (*step)(const struct clq__fill_step *s, void *data),
		   void *data);

/*
 * Logging (log.c): to the context's handler, else the process-wide one
 * (always, when ctx is NULL), else to stderr as CLQ_LOG asks.
 */
void clq__log(struct clq_context *ctx, enum clq_log_level level,
	      const char *fmt, ...) CLQ__PRINTF(3, 4);

/* clq__check()'s failure path: logs, then returns err. */
int clq__check_failed(struct clq_context *ctx, cl_int err, const char *what);

/*
 * Returns err unchanged; when it is an error, logs "<what>: NAME (message)"
 * first. Meant to wrap every OpenCL call whose result is returned; inline,
 * so that the success path of an enqueue costs a compare, not a call.
 */
static inline int
clq__check(struct clq_context *ctx, cl_int err, const char *what)
{
	return err == CL_SUCCESS ? CLQ_SUCCESS
				 : clq__check_failed(ctx, err, what);
}

/* Logs "<function>: <what>" as an error; returns CLQ_ERROR_INVALID_ARGUMENT. */
int
clq__invalid(struct clq_context *ctx, const char *function, const char *what);

void clq__log_sink_init(struct clq__log_sink *sink);
void clq__log_sink_destroy(struct clq__log_sink *sink);

/* A growable string (strbuf.c). A failed allocation sets `failed` and
 * later appends do nothing, so callers check once at the end. */
struct clq__strbuf {
	char *s;
	size_t len;
	size_t cap;
	int failed;
};

void clq__strbuf_appendf(struct clq__strbuf *b, const char *fmt, ...)
	CLQ__PRINTF(2, 3);
void clq__strbuf_free(struct clq__strbuf *b);

/* Programs (program.c). */

/*
 * What clq_program_create_from_file() (`name` not NULL) or
 * clq_program_create_from_source() (`source`) compiles: the top-level
 * source found along the search path (`dirs`, CLQ_KERNEL_PATH, the
 * current directory, the installed and built-in kernels) with its
 * includes pasted in (program.c says why clq pastes them itself). On success
 * `*text_out` and `*name_out` (the program's name) are malloc'ed. `ctx`
 * may be NULL: messages then go to the process-wide handler. Returns
 * CLQ_SUCCESS, CLQ_ERROR_INVALID_ARGUMENT (bad dirs), CLQ_ERROR_NOT_FOUND,
 * CLQ_ERROR_IO, CLQ_ERROR_OVERFLOW (includes nested too deep) or
 * CL_OUT_OF_HOST_MEMORY.
 */
int clq__program_expand(struct clq_context *ctx, const char *function,
			const char *name, const char *source,
			const char *const *dirs, size_t n_dirs, char **text_out,
			char **name_out);

/* Devices (device.c). */

/* The grammar a device spec is read with (see clq_device_select()). */
enum clq__spec_grammar {
	CLQ__GRAMMAR_CLQ,      /* the caller's spec, CLQ_DEVICE */
	CLQ__GRAMMAR_PYOPENCL, /* PYOPENCL_CTX, as PyOpenCL reads it */
};

/* A parsed device spec. */
enum clq__spec_kind {
	CLQ__SPEC_INDEX, /* N: global index in `index` */
	CLQ__SPEC_PAIR,	 /* P:D: `platform`, `index` */
	CLQ__SPEC_NAME,	 /* substring in `name`, trimmed, malloc'ed */
	/* PyOpenCL's answers, untrimmed, malloc'ed: the platform's in `name`
	 * ("" for the default), the device's in `device` (NULL without a
	 * colon); each is resolved against the devices there are. */
	CLQ__SPEC_PYOPENCL,
};

struct clq__device_spec {
	enum clq__spec_kind kind;
	size_t platform;
	size_t index;
	char *name;
	char *device;
};

/*
 * Parses a spec with a grammar. Returns CLQ_SUCCESS,
 * CLQ_ERROR_BAD_DEVICE_SPEC (nothing to free) or CL_OUT_OF_HOST_MEMORY.
 * Release with clq__device_spec_free().
 */
int clq__device_spec_parse(const char *spec, enum clq__spec_grammar grammar,
			   struct clq__device_spec *out);
void clq__device_spec_free(struct clq__device_spec *spec);
/*
 * A PyOpenCL answer read as Python's int() reads it. Returns 1 with the
 * value for 0 .. SIZE_MAX, 0 for anything else (compared as a name).
 */
int clq__pyopencl_index(const char *answer, size_t *index_out);

/* The device of an OpenCL id, a new reference; CLQ_ERROR_NO_DEVICE (not
 * logged) for an id no platform lists (a sub-device), or an OpenCL code. */
int clq__device_of_cl(cl_device_id id, struct clq_device **device_out);

/* Events (event.c). */

/* Whether the command of `ev` has ended: complete, failed (a negative
 * status), or an event the driver no longer answers for. */
int clq__cl_event_ended(cl_event ev);

/* The execution status of `ev` as the driver shows it now, or the
 * status query's negative error. */
cl_int clq__cl_status_now(cl_event ev);

/*
 * Reads the execution status of `ev` into `*status_out` for a caller that
 * acts on a read taken without waiting (a poll); returns the query's
 * error (CL_SUCCESS). A CL_COMPLETE read is confirmed with
 * clWaitForEvents(), which returns at once for a command that has ended.
 * NVIDIA's driver (580.159.04) shows a command that fails because one it
 * follows failed as CL_COMPLETE for up to a microsecond before its
 * negative status; the wait in that window returns
 * CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST, and then the status is
 * read again (still not negative, it reads as that code). Not for driver
 * callbacks, where waiting is undefined (OpenCL 1.2, section 5.9): see
 * clq__cl_callback_status().
 */
cl_int clq__cl_event_status(cl_event ev, cl_int *status_out);

/*
 * Nonzero while this thread runs a driver callback through clq (an event
 * callback, clq_event_set_callback(); a host array's untracked transfer):
 * clq__cl_event_status() does not wait there, and gives the status read.
 * A callback may drop the last reference of a host array, whose release
 * reads the statuses of its pending transfers.
 */
extern _Thread_local int clq__in_cl_callback;

/*
 * The status a driver callback of `ev` reports, given the callback's
 * `status` argument: NVIDIA (580.159.04) passes CL_COMPLETE to the
 * callbacks of failed commands, and PoCL 3.1 to a callback registered on
 * a command that had already failed; the status read in the callback is
 * the failure. CL_COMPLETE or a negative status.
 */
cl_int clq__cl_callback_status(cl_event ev, cl_int status);

/* Logs that a command failed with execution status `status` (< 0), as
 * `function`; returns CLQ_ERROR_COMMAND_FAILED. */
int clq__command_failed(struct clq_context *ctx, const char *function,
			cl_int status);

/* clq_event_get_times() for a profiled event, without logging: waits,
 * then reads the four times; CLQ_ERROR_TIMING_UNAVAILABLE for zero or
 * reversed start/end (timelines flag those records instead). */
int clq__event_read_times(struct clq_event *event, struct clq_event_times *t);

/*
 * The library's own event references, inline: they count in `refs` only,
 * never as a user event's holders (clq_event_ref() counts those), and
 * clq__event_destroy() frees an event whose last reference is gone.
 */
void clq__event_destroy(struct clq_event *e);

static inline struct clq_event *
clq__event_hold(struct clq_event *e)
{
	clq__ref_get(&e->refs);
	return e;
}

static inline void
clq__event_drop(struct clq_event *e)
{
	if (e && clq__ref_put(&e->refs))
		clq__event_destroy(e);
}

/*
 * A new command event for `queue`, with no OpenCL event yet (cl NULL), or
 * NULL when out of memory. Enqueue functions never fail after the command
 * is in the queue: they make the event first, pass `&cl` to OpenCL, then
 * set ev->cl and hand the event over, or drop it with clq__event_drop().
 */
struct clq_event *clq__command_event_new(struct clq_queue *queue);
/* Returns the memory of a command event whose references are all gone. */
void clq__command_event_recycle(struct clq_event *e);

/*
 * One enqueued operation for clq__enqueue() (queue.c): `enqueue` makes the
 * OpenCL call(s), with the wait list and, when `ev` is not NULL, an event
 * to fill; it returns a clq status, already logged. `enqueued`, if set,
 * runs after a successful enqueue with the command's event (to keep
 * objects alive until it completes; it takes a reference if it keeps it).
 */
struct clq__command {
	int (*enqueue)(struct clq_queue *q, cl_uint n_wait,
		       const cl_event *list, cl_event *ev, void *data);
	void (*enqueued)(struct clq_queue *q, struct clq_event *ev, void *data);
	void *data;
	/* For timelines: the default label ("write", "kernel"...), an
	 * optional second word (the kernel's name), the bytes moved. */
	const char *label;
	const char *label_arg;
	uint64_t bytes;
	/* Ordering: the device arrays the command reads and writes, and the
	 * kernel it launches (named in hazard messages). */
	const struct clq__touch *touches;
	size_t n_touches;
	struct clq_kernel *kernel;
	/* A blocking call: clq__enqueue() waits for the command (after
	 * releasing the ordering lock) and reports a failed one as
	 * CLQ_ERROR_COMMAND_FAILED. */
	int blocking;
};

/*
 * Per-command observers (queue.c owns each queue's list): after every
 * command enqueued on the queue, `enqueued` gets the command and its event
 * (borrowed; take a reference to keep it); when the queue goes, or the
 * observer is removed, `detach` frees it. The way SQLite's trace hook and
 * libuv's metrics hook sit in their cores: timelines record through it,
 * and the queue knows nothing of them. Observers are added and removed
 * while no other thread enqueues on the queue.
 */
struct clq__observer;

struct clq__observer_ops {
	void (*enqueued)(struct clq__observer *o, struct clq_queue *q,
			 const struct clq__command *command,
			 struct clq_event *ev);
	void (*detach)(struct clq__observer *o);
};

struct clq__observer {
	const struct clq__observer_ops *ops;
	struct clq__observer *next; /* queue.c's */
};

/* Adds `o` (the queue owns it from now on). */
void clq__queue_add_observer(struct clq_queue *q, struct clq__observer *o);
/* Removes and detaches `o`. */
void clq__queue_remove_observer(struct clq_queue *q, struct clq__observer *o);
/* The queue's first observer with these ops, or NULL. */
struct clq__observer *
clq__queue_find_observer(const struct clq_queue *q,
			 const struct clq__observer_ops *ops);

/*
 * The enqueue protocol every enqueue function follows: clears *event_out,
 * checks and converts the wait list (flushing the queues its events come
 * from), applies the failsafe, makes the command's event before the
 * command is enqueued when the caller or the queue needs one (so nothing
 * can fail after it), enqueues, passes the event to `enqueued`, the
 * tuning record and the queue's observers, and hands it over or drops it.
 * `function` names the caller in log messages.
 */
int
clq__enqueue(struct clq_queue *queue, const char *function,
	     const struct clq__command *command, struct clq_event *const *wait,
	     size_t n_wait, struct clq_event **event_out);

/*
 * Keeps `h` alive until `ev`, an async transfer just enqueued on `q`, has
 * completed (see clq_host_array.pending). Takes its own reference to `ev`.
 */
void clq__host_array_track(struct clq_host_array *h, struct clq_queue *q,
			   struct clq_event *ev);

/*
 * Remapped host arrays (host_array.c): enqueues on `q` an unmap of `h`'s
 * memory (after `list` and the array's previous remap), then `copy`, which
 * enqueues device copies to or from `h->pinned`, then a map, which may
 * block and gives `*ev`. Concurrent calls for one host array take turns.
 */
int clq__host_array_remap_around(struct clq_host_array *h, struct clq_queue *q,
				 cl_bool blocking, cl_uint n_wait,
				 const cl_event *list, cl_event *ev,
				 int (*copy)(struct clq_queue *q, void *data),
				 void *data);

/*
 * The failed-user-event route (failsafe.c), for the faults DESIGN.md lists
 * under "Driver faults": PoCL 3.1 aborts when a failure propagates to a
 * command whose event nobody holds (so events are kept, on PoCL before 5
 * only), and no driver runs a command whose wait list holds an event that
 * has already failed (so wait lists are screened, on every driver).
 */
void
clq__failsafe_init(struct clq__failsafe *f, const struct clq_device *device);
void clq__failsafe_destroy(struct clq__failsafe *f);

/* Whether the failsafe has work at an enqueue: a user event of the context
 * is pending (counted only where events must be kept, see `needed`), or one
 * has failed. Inline: an enqueue pays two loads. */
static inline int
clq__failsafe_active(struct clq__failsafe *f)
{
	return (atomic_load_explicit(&f->pending_user, memory_order_relaxed) |
		(unsigned)atomic_load_explicit(&f->user_failed,
					       memory_order_relaxed)) != 0;
}

/*
 * Takes over a kept event whose last reference went (event.c): the event,
 * with its OpenCL reference, joins the context's list until its command has
 * completed. Drops the event's queue handle and context references.
 */
void clq__failsafe_adopt(struct clq_event *e);

/*
 * Internal completion hooks (notifier.c): fn(data, event, status) runs
 * once when `event` has ended, with CL_COMPLETE or its negative status,
 * on clq's hook thread (never a driver's, so it may release contexts and
 * complete user events), through the notifier's callbacks and polling
 * fallback. Holds a library reference to `event` until then.
 */
typedef void (*clq__completion_fn)(void *data, struct clq_event *event,
				   int status);
int
clq__on_completion(struct clq_event *event, clq__completion_fn fn, void *data);
/* Runs fn(data, NULL, CL_COMPLETE) on clq's hook thread, soon: for work
 * that a driver's callback may not do (OpenCL 1.2 section 5.9). Returns
 * CLQ_SUCCESS; else fn is not run: an OpenCL code (no memory), or
 * CL_INVALID_OPERATION once the hook thread has stopped (exit). */
int clq__defer(clq__completion_fn fn, void *data);

/* An event of other code was wrapped: see failsafe.c. */
void clq__failsafe_foreign(struct clq__failsafe *f);
/* Releases the kept events at the front of the list that have completed;
 * called where the host waits anyway. */
void clq__failsafe_sweep(struct clq_context *ctx);

/*
 * For enqueues that make more than one OpenCL command (remapped host
 * arrays, block fills, copies in pieces): each command after the first may
 * be failed through queue order too, so its event must be kept as well.
 * Begin makes `n` spare kept events when events must be kept (the
 * failsafe active where `needed`; none otherwise); pass
 * `x.spare ? &ev : NULL` as each command's event, then extra_keep() it
 * (which takes the enqueue's reference; NULL is a no-op); end() frees the
 * spares not used. Spares are linked through next_free, so their `ctx` is
 * set again when they are used.
 */
struct clq__failsafe_extra {
	struct clq_queue *queue;
	struct clq_event *spare;
};

int clq__failsafe_extra_begin(struct clq_queue *q, size_t n,
			      struct clq__failsafe_extra *x);
void clq__failsafe_extra_keep(struct clq__failsafe_extra *x, cl_event ev);
void clq__failsafe_extra_end(struct clq__failsafe_extra *x);

/*
 * Screens a converted wait list once a user event has failed: entries
 * whose command has already failed are replaced by `*stand_in`, a new user
 * event made here, which clq__failsafe_fail_stand_in() fails with
 * `*status_out` once the command is enqueued, so the command fails as if
 * the failure had reached it while it waited. `*stand_in` stays NULL when
 * nothing failed. Returns CLQ_SUCCESS or an OpenCL code.
 */
int
clq__failsafe_screen(struct clq_context *ctx, cl_event *list, cl_uint n_wait,
		     cl_event *stand_in, cl_int *status_out);
void clq__failsafe_fail_stand_in(struct clq_context *ctx, cl_event stand_in,
				 cl_int status);

/*
 * User events' part (event.c): one was made (pending +1); one is about to
 * be failed, before clSetUserEventStatus() (sets `user_failed`, on every
 * driver); one was completed (pending -1). Pending counts only where
 * `needed`.
 */
void clq__failsafe_user_created(struct clq__failsafe *f);
void clq__failsafe_user_failing(struct clq__failsafe *f);
void clq__failsafe_user_completed(struct clq__failsafe *f);

/* Ordering (order.c). */

/* How a command touches an array: CLQ_ACCESS_READ, _WRITE or both. */
struct clq__touch {
	struct clq_device_array *array;
	unsigned mode;
};

#define CLQ__TOUCH_READ 1u
#define CLQ__TOUCH_WRITE 2u

/* Reads CLQ_ORDERING; CLQ_ERROR_INVALID_ARGUMENT (logged) for a bad one. */
int clq__order_init(struct clq_context *ctx);
void clq__order_destroy(struct clq__order *o);
/* Gives a new queue its slot and clock; CL_OUT_OF_HOST_MEMORY. */
int clq__order_queue_add(struct clq_queue *q);
/* Frees the queue's slot (retiring it behind a marker in CHECK/AUTO). */
void clq__order_queue_remove(struct clq_queue *q);
/*
 * The host has seen `e`'s command end with execution status `status` (a
 * wait, a status read). One seen to complete is ordered before later
 * commands for CHECK (which counts only what the host saw, so that its
 * verdict does not depend on the device's speed), and so is everything
 * that happens before it. A failed one orders nothing: it may fail while
 * a command it waited for still runs. No-op for user events and in MANUAL.
 */
void clq__order_seen(struct clq_event *e, int status);
/*
 * `stand_in`, a user event of `e`'s context that completes once `e` has
 * ended (stager.c), takes `e`'s stamp: a command that waits for it is
 * ordered after what `e` is ordered after, as if it waited for `e`.
 */
void clq__order_stand_in(struct clq_event *stand_in, const struct clq_event *e);
/* The host is about to finish `q`: its newest command so far. */
uint64_t clq__order_finish_begin(struct clq_queue *q);
/* clFinish(q) returned: the commands up to `seq` have ended. */
void clq__order_finished(struct clq_queue *q, uint64_t seq);
/*
 * The context's live queues, for clq_context_finish(): each one's handle
 * (held; drop with clq__queue_handle_drop()), slot and newest sequence
 * number, taken under the ordering lock, in a malloc'ed array (NULL when
 * there are none). CL_OUT_OF_HOST_MEMORY.
 */
struct clq__live_queue {
	struct clq__queue_handle *handle;
	unsigned slot;
	uint64_t seq;
};
int clq__order_live_queues(struct clq_context *ctx,
			   struct clq__live_queue **queues_out, size_t *n_out);
/* The commands of `slot` up to `seq` have ended (a finish returned). */
void
clq__order_slot_finished(struct clq_context *ctx, unsigned slot, uint64_t seq);
/* Attaches a new array to its root buffer's record; CL_OUT_OF_HOST_MEMORY. */
int clq__order_array_add(struct clq_device_array *a);
void clq__order_array_remove(struct clq_device_array *a);

/* The context's mode, without marking it started. */
static inline int
clq__ordering(const struct clq_context *ctx)
{
	return atomic_load_explicit(&ctx->order.state, memory_order_relaxed) &
	       CLQ__ORDER_MODE;
}

/* The context's mode at an enqueue: marks the context started (after
 * which the mode is fixed). One load once started. */
static inline int
clq__ordering_start(struct clq_context *ctx)
{
	int s = atomic_load_explicit(&ctx->order.state, memory_order_relaxed);

	if (!(s & CLQ__ORDER_STARTED))
		s = atomic_fetch_or(&ctx->order.state, CLQ__ORDER_STARTED);
	return s & CLQ__ORDER_MODE;
}

#define CLQ__PLAN_INLINE 8

/*
 * One command's ordering, made under the lock before the enqueue (so that
 * nothing can fail after it) and committed after: the root buffers it
 * touches, the waits AUTO adds, and the queue's clock after it.
 */
struct clq__plan_use {
	struct clq__buffer *buffer;
	struct clq_device_array *array; /* the first array seen on it */
	unsigned mode;
};

/* What a hazard message says of an unordered earlier access. */
struct clq__conflict {
	const char *what;		 /* its command's label */
	const struct clq_kernel *kernel; /* the kernel it launched, or NULL */
	const struct clq__plan_use *use; /* the new command's use it meets */
	int kind;			 /* read-after-write... (order.c) */
};

struct clq__order_plan {
	struct clq__plan_use *uses;
	size_t n_uses;
	/* The unordered earlier accesses, none implied by another: AUTO
	 * waits for their events (borrowed), CHECK names them (`why`). */
	struct clq_event **extra;
	struct clq__conflict *why;
	size_t n_extra;
	struct clq__clock *clock;      /* the queue's next clock, or NULL */
	const struct clq__clock *base; /* the queue's clock now */
	uint64_t *v;   /* the merged clock once a merge adds to base, or NULL */
	int allocated; /* something for clq__order_plan_release() */
	int trivial;   /* ordered by its own queue alone: `uses` unused */
	int failures;  /* a user event of the context has failed */
	struct clq__plan_use uses_inline[CLQ__PLAN_INLINE];
	struct clq_event *extra_inline[CLQ__PLAN_INLINE];
	struct clq__conflict why_inline[CLQ__PLAN_INLINE];
	uint64_t v_inline[CLQ__PLAN_INLINE];
};

/*
 * With the ordering lock held: plans `command` on `q` after `wait` (valid
 * entries of q's context). CHECK: CLQ_ERROR_HAZARD (logged) for an
 * unordered conflict. Also CL_OUT_OF_HOST_MEMORY. Free with
 * clq__order_plan_free() whether or not it was committed.
 */
int clq__order_plan(struct clq_queue *q, const char *function,
		    const struct clq__command *command,
		    struct clq_event *const *wait, size_t n_wait, int mode,
		    struct clq__order_plan *p);
/* With the lock held, after the command was enqueued with event `ev`
 * (not NULL when it touches arrays): stamps it and records its accesses. */
void clq__order_commit(struct clq_queue *q, const struct clq__command *command,
		       struct clq__order_plan *p, struct clq_event *ev);
void clq__order_plan_release(struct clq__order_plan *p);

static inline void
clq__order_plan_free(struct clq__order_plan *p)
{
	if (p->allocated || p->clock)
		clq__order_plan_release(p);
}

/* Size of the on-stack wait lists used by enqueue functions. */
#define CLQ__WAIT_INLINE 16

/* Operations (operation.c): what a slot's bound array is, for sequences. */
struct clq__slot_use {
	cl_mem root;		/* the bound array's root buffer */
	enum clq_access access; /* the slot's */
};

/*
 * Checks that every slot of `op` is bound to an array of `ctx` and, with
 * `uses` not NULL, fills its first `cap` entries, one per slot in order;
 * `*n_out` receives the number of slots. CLQ_ERROR_UNBOUND or
 * CLQ_ERROR_CONTEXT_MISMATCH, logged as `function` with the slot's name.
 */
/* Operations (operation.c): takes no more slots (CLQ_ERROR_IN_USE). */
void clq__operation_freeze(struct clq_operation *op);

int clq__operation_uses(struct clq_operation *op, struct clq_context *ctx,
			const char *function, struct clq__slot_use *uses,
			size_t cap, size_t *n_out);

/* 64-bit FNV-1a of `n` bytes, continued from `h` (start with
 * CLQ__FNV1A_BASIS): a change detector for tuning keys and program
 * binaries, not a cryptographic hash. */
#define CLQ__FNV1A_BASIS 0xcbf29ce484222325ULL
static inline uint64_t
clq__fnv1a(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * Dimensions (dimension.c): links a[i] with b[i] for every i < n, all or
 * none: when the joined constraints cannot all hold, logs why as
 * `function`, changes nothing and returns CLQ_ERROR_CONSTRAINTS;
 * CL_OUT_OF_HOST_MEMORY.
 */
int clq__dimension_link_all(struct clq_dimension *const *a,
			    struct clq_dimension *const *b, size_t n,
			    const char *function);

/* Slots (slot.c): whether binding `group` binds `slot` (itself, or a
 * member of it, of a member of it, ...). */
int clq__slot_binds(const struct clq_slot *group, const struct clq_slot *slot);

#endif /* CLQ_PRIVATE_H */
