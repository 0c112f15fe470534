/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CLQ_TIMELINE_H
#define CLQ_TIMELINE_H

/**
 * @file
 * Timelines of profiled commands and host spans: see @ref timeline.
 */

#include <stdint.h>
#include <stdio.h>

#include <clq/common.h>
#include <clq/context.h>
#include <clq/event.h>
#include <clq/queue.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup timeline Timelines
 * What the device did, and when: the commands of profiling queues, spans
 * of host work, on one time axis; summarised as a table, exported as a
 * Chrome trace (Perfetto, chrome://tracing) or an SVG Gantt chart.
 *
 * A timeline has tracks (one per attached queue, "host" for host spans,
 * any name for events added by hand) and records. A record keeps only its
 * track, label, times and byte count: 48 bytes on 64-bit systems (see
 * clq_timeline_get_memory() for what a timeline holds).
 * The byte count of a transfer or fill is the bytes it moves or writes; of
 * a kernel, the total size of its array arguments (what it can touch);
 * of a marker, barrier or wait, 0.
 * Commands are recorded as events first and harvested into records once
 * they complete: whenever the pending list is full (1024 or more), the
 * completed ones are harvested, so at most about twice the commands in
 * flight stay pending, the `cl_event`s are released as a run goes, and
 * memory grows with the number of records. Times are device nanoseconds (the profiling clock).
 *
 * Thread safety: every function may be called from any thread; queues
 * attached to one timeline may enqueue from several threads at once.
 * @{
 */

struct clq_timeline;

/**
 * Creates an empty timeline for queues of `ctx`, and aligns the host clock
 * with the device's: with `clGetDeviceAndHostTimer` on OpenCL 2.1+
 * devices that have it, else with markers (see
 * clq_timeline_get_host_error()).
 *
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL;
 *         #CLQ_ERROR_PROFILING_DISABLED when the device cannot profile;
 *         `CL_OUT_OF_HOST_MEMORY`; an OpenCL code.
 */
CLQ_EXPORT int clq_timeline_create(struct clq_context *ctx,
				   struct clq_timeline **timeline_out);

/**
 * Sets the title that clq_timeline_write_svg() draws above the chart (and
 * gives the picture as its `<title>`) and clq_timeline_write_trace() puts
 * in the trace's `otherData`, e.g. the program, its command and the
 * device. The string is copied; NULL removes the title.
 *
 * @param timeline the timeline
 * @param title the title (UTF-8), or NULL
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for a NULL timeline;
 *         `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int
clq_timeline_set_title(struct clq_timeline *timeline, const char *title);

/** Adds a reference. @return `timeline`. */
CLQ_EXPORT struct clq_timeline *clq_timeline_ref(struct clq_timeline *timeline);

/** Drops a reference; NULL is a no-op. Queues attached hold their own. */
CLQ_EXPORT void clq_timeline_unref(struct clq_timeline *timeline);

/**
 * Records every command enqueued on `queue` from now on in `timeline`, on
 * the track `track` (copied), with a default label: "write", "read",
 * "copy", "fill", "kernel NAME", "marker" or "barrier" (a barrier made by
 * clq_queue_enqueue_wait_for_events() included). A NULL timeline detaches
 * the queue.
 *
 * Thread safety: attach or detach a queue while no other thread enqueues
 * on it (the queue's list of observers is read by every enqueue without a
 * lock, so that enqueues on queues without a timeline pay nothing);
 * enqueueing on attached queues from several threads is safe.
 *
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for a NULL queue, or a
 *         NULL or empty track with a timeline;
 *         #CLQ_ERROR_PROFILING_DISABLED for a queue without
 *         #CLQ_QUEUE_PROFILING; #CLQ_ERROR_CONTEXT_MISMATCH;
 *         `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int
clq_queue_set_timeline(struct clq_queue *queue, struct clq_timeline *timeline,
		       const char *track);

/**
 * Labels the next command enqueued on `queue` (copied; used once) instead
 * of the default label. Meant for a queue one thread enqueues on: with
 * several, the label goes to whichever command comes next (safe, but
 * unpredictable).
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL, an empty
 *         label or a queue with no timeline; `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int
clq_queue_set_next_label(struct clq_queue *queue, const char *label);

/**
 * Records one event of a profiling queue on `track` with `label`.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL or empty
 *         strings; #CLQ_ERROR_PROFILING_DISABLED for an event without
 *         timestamps; #CLQ_ERROR_CONTEXT_MISMATCH; `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int
clq_timeline_add_event(struct clq_timeline *timeline, struct clq_event *event,
		       const char *track, const char *label);

/**
 * Records a span measured some other way, in device nanoseconds.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL or empty
 *         strings or `end_ns < start_ns`; `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int
clq_timeline_add_span(struct clq_timeline *timeline, const char *track,
		      const char *label, uint64_t start_ns, uint64_t end_ns,
		      uint64_t bytes);

/**
 * The host's present time on the device's time axis, in nanoseconds: pass
 * it to clq_timeline_host_end() to record a host span.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL.
 */
CLQ_EXPORT int
clq_timeline_host_begin(struct clq_timeline *timeline, uint64_t *begin_out);

/**
 * Records host work from `begin` (clq_timeline_host_begin()) until now on
 * the track "host".
 * @return as clq_timeline_add_span().
 */
CLQ_EXPORT int clq_timeline_host_end(struct clq_timeline *timeline,
				     uint64_t begin, const char *label);

/**
 * Bound on the error of host span times relative to device times, in
 * seconds: half the shortest round trip the calibration measured.
 */
CLQ_EXPORT double
clq_timeline_get_host_error(const struct clq_timeline *timeline);

/**
 * Waits for every recorded command and harvests it into a record. The
 * summary and the exports do this first.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT; the first error a
 *         command's event gave (its record is dropped, the rest kept).
 */
CLQ_EXPORT int clq_timeline_flush(struct clq_timeline *timeline);

/** Records held (harvested ones, not pending commands). */
CLQ_EXPORT size_t clq_timeline_get_count(struct clq_timeline *timeline);

/** Commands recorded but not harvested yet (each holds its event). */
CLQ_EXPORT size_t clq_timeline_get_pending(struct clq_timeline *timeline);

/**
 * Heap bytes the timeline holds: records, pending commands, track and
 * label names. At most about 100 bytes per record (48 bytes each, in an
 * array that grows by doubling), plus 32 bytes per pending command and a
 * few kilobytes. Readers (summaries, exports) copy the records while they
 * work, for as long as the call lasts.
 */
CLQ_EXPORT size_t clq_timeline_get_memory(struct clq_timeline *timeline);

/** One track of a summary. */
struct clq_timeline_track_summary {
	const char *name; /**< the track's name */
	size_t count;	  /**< records */
	double busy_s;	  /**< time with one of its records running */
};

/** One label of a summary. */
struct clq_timeline_label_summary {
	const char *label; /**< the label */
	size_t count;	   /**< timed records with this label */
	double total_s;	   /**< their durations added up, in seconds */
	double min_s;	   /**< the shortest duration */
	double median_s;   /**< the median duration */
	double max_s;	   /**< the longest duration */
};

/** What clq_timeline_summarize() returns. */
struct clq_timeline_summary {
	double span_s;	  /**< first start to last end */
	double overlap_s; /**< time with records of two or more tracks running */
	size_t untimed; /**< records the driver gave no timestamps (not drawn) */
	size_t n_tracks;			   /**< entries in `tracks` */
	size_t n_labels;			   /**< entries in `labels` */
	struct clq_timeline_track_summary *tracks; /**< one per track */
	struct clq_timeline_label_summary *labels; /**< one per label */
};

/**
 * Flushes, then summarises. The strings are valid while the summary
 * lives; free it with clq_timeline_summary_free().
 * @return as clq_timeline_flush(), and `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int
clq_timeline_summarize(struct clq_timeline *timeline,
		       struct clq_timeline_summary **summary_out);

/** Frees a summary; NULL is a no-op. */
CLQ_EXPORT void clq_timeline_summary_free(struct clq_timeline_summary *summary);

/**
 * Prints the summary as a text table.
 * @return as clq_timeline_summarize(); #CLQ_ERROR_IO when writing fails.
 */
CLQ_EXPORT int
clq_timeline_write_summary(struct clq_timeline *timeline, FILE *out);

/**
 * Writes a Chrome trace-event JSON document ("X" events in microseconds
 * from the first record, one thread per track, args with bytes and
 * nanosecond times) that Perfetto and chrome://tracing load.
 * @return as clq_timeline_write_summary().
 */
CLQ_EXPORT int
clq_timeline_write_trace(struct clq_timeline *timeline, FILE *out);

/**
 * Writes a self-contained SVG Gantt chart: a row per track, a bar per
 * record coloured by label (with a tooltip), a time axis and a legend.
 * @return as clq_timeline_write_summary().
 */
CLQ_EXPORT int clq_timeline_write_svg(struct clq_timeline *timeline, FILE *out);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLQ_TIMELINE_H */
