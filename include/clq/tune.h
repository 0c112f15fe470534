/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CLQ_TUNE_H
#define CLQ_TUNE_H

/**
 * @file
 * Autotuning of kernels, with an SQLite cache of the results: see @ref tune.
 */

/**
 * @defgroup tune Tuning
 * Measures the candidate parameter sets of a kernel and keeps the fastest,
 * as katsdpsigproc's autotuner does (`katsdpsigproc/tune.py`).
 *
 * A *tunable* (struct clq_tunable) names a kernel source (a file, found and
 * include-expanded as clq_program_create_from_file() does, or a string),
 * its build options, and a grid of parameters: named integer or string
 * values, each either passed to the build as `-DNAME=VALUE`
 * (#CLQ_TUNE_DEFINE) or only read by the measure function (a work-group
 * size). A *problem* (struct clq_params) names the sizes being tuned for;
 * its names and values go into the key as given (clq checks none of them:
 * a name the prepare function does not read only makes a separate key).
 * clq_tune() builds every candidate of the grid that the tunable's filter
 * keeps, in parallel threads (OpenCL 1.2 allows clBuildProgram from several
 * threads on one context; clq_tune_options::build_threads 1 builds one at a
 * time), then, one candidate at a time on a tuning queue
 * (clq_queue_create_tuning()): a warm-up run, a calibration run, then
 * clq_tune_options::rounds rounds of as many runs as fill the time budget,
 * each round timed on the device; a candidate's time is its fastest round
 * divided by its runs. A candidate whose build fails or whose measure
 * function fails (a launch refused, a work-group or local memory too large
 * for the device, a positive return, no device time) is skipped, with the
 * reason logged as a warning.
 *
 * The results live in an SQLite database (struct clq_tune_db), one table
 * per tunable name and version (names differing only in case are kept
 * apart), keyed by: a hash of the fully include-expanded source's contents
 * (so an edited included header changes it, but where the files were
 * found does not: see clq_tunable_hash()) and the build options; the
 * problem's parameters; the device name, platform name and driver
 * version. A lookup matches exactly (#CLQ_TUNE_MATCH_EXACT), or
 * (#CLQ_TUNE_MATCH_NEAREST, katsdpsigproc's `TUNE_MATCH=nearest`) falls
 * back from the exact key by dropping the driver version, then the
 * platform, then the device name; the name, version, source hash and
 * problem always match. At each level the newest row is taken first (by
 * its UTC store time; rows stored in one millisecond, the later stored
 * first), and a row whose parameters are not on the tunable's grid (names,
 * types, values) or that its filter refuses on this device (one tuned on
 * a device with larger limits) is passed over, logged at #CLQ_LOG_INFO,
 * for the next row or level. clq_tune_db_get() looks
 * up, and on a miss tunes and stores, logging at #CLQ_LOG_INFO that it
 * tuned at run time (a deployment that ships a tuned database watches for
 * that line).
 *
 * The database needs clq built with SQLite (the meson feature `sqlite`,
 * the system `libsqlite3`); without it, the `clq_tune_db_` functions
 * return #CLQ_ERROR_UNSUPPORTED and clq_tune() still works.
 * @{
 */

#include <stddef.h>
#include <stdint.h>

#include <clq/common.h>
#include <clq/context.h>
#include <clq/device.h>
#include <clq/program.h>
#include <clq/queue.h>

#ifdef __cplusplus
extern "C" {
#endif

struct clq_params;
struct clq_tunable;
struct clq_tune_trial;
struct clq_tune_db;

/**
 * Creates an empty parameter set: named integer or string values, used for
 * problems and for candidates.
 *
 * Names are C identifiers (`[A-Za-z_][A-Za-z0-9_]*`, at most 63 bytes);
 * string values are 1 to 255 bytes of `[A-Za-z0-9_.+-]` (they go into
 * build options and the database's text form). The caller owns the set
 * (clq_params_free()). A set is not locked: share it between threads only
 * for reading.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL;
 *         `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int clq_params_create(struct clq_params **params_out);

/** Frees a parameter set; NULL is a no-op. */
CLQ_EXPORT void clq_params_free(struct clq_params *params);

/**
 * Sets an integer parameter, replacing any value of that name.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL or a name
 *         that is not an identifier (logged); `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int
clq_params_set_int(struct clq_params *params, const char *name, int64_t value);

/**
 * Sets a string parameter (the value is copied), replacing any value of
 * that name.
 * @return as clq_params_set_int(), and #CLQ_ERROR_INVALID_ARGUMENT for a
 *         value outside the allowed characters or lengths.
 */
CLQ_EXPORT int clq_params_set_string(struct clq_params *params,
				     const char *name, const char *value);

/**
 * Reads an integer parameter.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_NOT_FOUND when there is none of that
 *         name; #CLQ_ERROR_TYPE_MISMATCH when it is a string;
 *         #CLQ_ERROR_INVALID_ARGUMENT for NULL (logged).
 */
CLQ_EXPORT int clq_params_get_int(const struct clq_params *params,
				  const char *name, int64_t *value_out);

/**
 * Reads a string parameter; `*value_out` is borrowed from the set (valid
 * until the set changes or is freed).
 * @return as clq_params_get_int(), #CLQ_ERROR_TYPE_MISMATCH for an integer.
 */
CLQ_EXPORT int clq_params_get_string(const struct clq_params *params,
				     const char *name, const char **value_out);

/** Number of parameters in the set (0 for NULL). */
CLQ_EXPORT size_t clq_params_count(const struct clq_params *params);

/**
 * Writes the set in its text form: `name=value` pairs sorted by name,
 * separated by one space, strings in double quotes (`m=1024 mode="fast"`);
 * the empty string for an empty set. This is the form the database stores
 * and clq_params_parse() reads. The caller frees `*text_out` with free().
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL;
 *         `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int
clq_params_format(const struct clq_params *params, char **text_out);

/**
 * Reads the text form written by clq_params_format() (any order, any
 * blanks between pairs; a later pair replaces an earlier one's value).
 * The caller owns the new set.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL or malformed
 *         text (the log says where and what was expected);
 *         `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int
clq_params_parse(const char *text, struct clq_params **params_out);

/** Whether two sets hold the same names and values (NULL equals NULL). */
CLQ_EXPORT int
clq_params_equal(const struct clq_params *a, const struct clq_params *b);

/** Flags of a grid parameter (clq_tunable_add_int()). */
enum clq_tune_param_flags {
	/** Passed to each candidate's build as `-DNAME=VALUE`; candidates
	 *  differing only in parameters without it share one build. */
	CLQ_TUNE_DEFINE = 1u << 0,
};

/**
 * Says whether a candidate can run at all (a tile whose local memory fits
 * the device, a work-group size the device allows): 1 keeps it, 0 skips it
 * without building it. Called from the thread that called clq_tune(), and
 * by database lookups for each stored row they consider (from the calling
 * thread, holding the handle's lock: it must not call the database).
 */
typedef int (*clq_tune_filter_fn)(const struct clq_device *device,
				  const struct clq_params *problem,
				  const struct clq_params *candidate,
				  void *user_data);

/**
 * Prepares what every candidate's runs share for one problem (buffers of
 * the problem's sizes): called once per clq_tune(), before any candidate
 * runs; `*state_out` (may stay NULL) is then clq_tune_trial_get_state()'s
 * answer and goes to the release function at the end.
 * @return #CLQ_SUCCESS, or a status that makes clq_tune() fail with it.
 */
typedef int (*clq_tune_prepare_fn)(struct clq_context *ctx,
				   const struct clq_params *problem,
				   void *user_data, void **state_out);

/** Releases what the prepare function made (called even if tuning fails). */
typedef void (*clq_tune_release_fn)(void *state, void *user_data);

/**
 * Enqueues one run of the candidate on clq_tune_trial_get_queue()'s queue
 * (a tuning queue), without waiting for it: clq_tune() times the runs on
 * the device, so a run must enqueue at least one command there (runs that
 * take no device time skip the candidate with
 * #CLQ_ERROR_TIMING_UNAVAILABLE, logged). Returns #CLQ_SUCCESS, or a
 * negative status that skips the candidate (logged with it); a positive
 * return is a mistake, logged and taken as #CLQ_ERROR_INVALID_ARGUMENT.
 */
typedef int (*clq_tune_measure_fn)(struct clq_tune_trial *trial,
				   void *user_data);

/**
 * Creates a tunable named `name` (an identifier as for parameters, also
 * used in the database's table name), at `version` (>= 0; bump it when the
 * meaning of the parameters changes: the source hash already covers edits
 * of the source). It needs a source (clq_tunable_set_file() or
 * clq_tunable_set_source()) and a measure function before clq_tune().
 * The caller owns it (clq_tunable_free()). Setting is not thread-safe;
 * a fully set tunable may be used by several threads at once.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL, a bad name
 *         or a negative version; `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int clq_tunable_create(const char *name, int version,
				  struct clq_tunable **tunable_out);

/** Frees a tunable; NULL is a no-op. */
CLQ_EXPORT void clq_tunable_free(struct clq_tunable *tunable);

/**
 * Makes the source a file, found along clq_program_create_from_file()'s
 * search path (`dirs`, then `CLQ_KERNEL_PATH`, the current directory, the
 * installed kernels, clq's built-in kernels), includes expanded. Replaces
 * any earlier source. The strings are copied.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT; `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int
clq_tunable_set_file(struct clq_tunable *tunable, const char *name,
		     const char *const *dirs, size_t n_dirs);

/**
 * Makes the source a string (copied), includes expanded as
 * clq_program_create_from_source() does. Replaces any earlier source.
 * @return as clq_tunable_set_file().
 */
CLQ_EXPORT int
clq_tunable_set_source(struct clq_tunable *tunable, const char *source);

/**
 * Sets the build options every candidate gets (copied; NULL for none),
 * before its `-D` parameters. Part of the key.
 * @return as clq_tunable_set_file().
 */
CLQ_EXPORT int
clq_tunable_set_options(struct clq_tunable *tunable, const char *options);

/**
 * Adds an integer axis to the grid: `n_values` (>= 1) values, copied.
 * The grid is the product of its axes, enumerated with the first axis
 * outermost.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL, no values,
 *         a value given twice, a bad name, a name already on the grid or
 *         an unknown flag (logged);
 *         `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int
clq_tunable_add_int(struct clq_tunable *tunable, const char *name,
		    const int64_t *values, size_t n_values, unsigned flags);

/**
 * Adds a string axis to the grid (values as clq_params_set_string()
 * allows, copied).
 * @return as clq_tunable_add_int(), and #CLQ_ERROR_INVALID_ARGUMENT for a
 *         bad value.
 */
CLQ_EXPORT int
clq_tunable_add_string(struct clq_tunable *tunable, const char *name,
		       const char *const *values, size_t n_values,
		       unsigned flags);

/** Sets the validity filter (NULL: every candidate is tried). */
CLQ_EXPORT void
clq_tunable_set_filter(struct clq_tunable *tunable, clq_tune_filter_fn filter,
		       void *user_data);

/**
 * Sets the measure function and its optional prepare and release
 * functions, all given `user_data`.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL `tunable` or
 *         `measure`.
 */
CLQ_EXPORT int
clq_tunable_set_measure(struct clq_tunable *tunable,
			clq_tune_prepare_fn prepare,
			clq_tune_measure_fn measure,
			clq_tune_release_fn release, void *user_data);

/** The tunable's name. */
CLQ_EXPORT const char *clq_tunable_get_name(const struct clq_tunable *tunable);

/** The tunable's version. */
CLQ_EXPORT int clq_tunable_get_version(const struct clq_tunable *tunable);

/** Number of candidates on the grid before filtering (1 for no axes). */
CLQ_EXPORT size_t clq_tunable_get_grid_size(const struct clq_tunable *tunable);

/**
 * The key's source hash: 16 hex digits of the 64-bit FNV-1a hash of the
 * include-expanded source, a NUL, and the build options (a change
 * detector, not a cryptographic hash). Of each `#line N "PATH"` line
 * (clq writes one at each file's start and after each include) only
 * `#line N` is hashed: byte-identical files found in different places
 * (`CLQ_KERNEL_PATH`, the current directory, the built-in copy) hash
 * alike, so a database tuned in one setup serves another. (A kernel whose
 * code reads `__FILE__` compiles differently per place; the hash does not
 * see it.) The source and its includes are read anew on every call, so an
 * edited file gives a new hash; a lookup reads them too. `hash_out`
 * receives 17 bytes.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL or no source;
 *         as clq_program_create_from_file() for a file not found or
 *         unreadable, or a bad include.
 */
CLQ_EXPORT int clq_tunable_hash(const struct clq_tunable *tunable,
				struct clq_context *ctx, char hash_out[17]);

/**
 * Creates one of clq's own kernels as a tunable: `"transpose"`
 * (cl/transpose.cl; grid `TRANSPOSE_TILE` 4, 8, 16, 32, a define, filtered
 * by the device's work-group and local memory limits; problem `rows`,
 * `cols`), `"scale"` (cl/scale.cl; grid `wgs` 32 .. 1024; problem `n`,
 * `iters`) or `"fill"` (cl/fill.cl; grid `wgs` 32 .. 1024; problem `n`).
 * Their measure functions allocate float32 arrays of the problem's sizes.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_NOT_FOUND for another name (logged,
 *         with the names there are); #CLQ_ERROR_INVALID_ARGUMENT for NULL;
 *         `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int
clq_tunable_create_builtin(const char *name, struct clq_tunable **tunable_out);

/** The queue a measure function enqueues on (a tuning queue), borrowed. */
CLQ_EXPORT struct clq_queue *
clq_tune_trial_get_queue(const struct clq_tune_trial *trial);

/** The candidate's built program, borrowed. */
CLQ_EXPORT struct clq_program *
clq_tune_trial_get_program(const struct clq_tune_trial *trial);

/** The candidate's parameters, borrowed. */
CLQ_EXPORT const struct clq_params *
clq_tune_trial_get_params(const struct clq_tune_trial *trial);

/** The problem being tuned for, borrowed. */
CLQ_EXPORT const struct clq_params *
clq_tune_trial_get_problem(const struct clq_tune_trial *trial);

/** What the tunable's prepare function made (NULL without one). */
CLQ_EXPORT void *clq_tune_trial_get_state(const struct clq_tune_trial *trial);

/**
 * The kernel `name` of the candidate's program, created at the first call
 * and kept for the candidate's later runs; borrowed.
 * @return as clq_kernel_create().
 */
CLQ_EXPORT int
clq_tune_trial_get_kernel(struct clq_tune_trial *trial, const char *name,
			  struct clq_kernel **kernel_out);

/**
 * Called by clq_tune() after each candidate: `done` of `total` candidates
 * (after filtering), the candidate, its time per run in seconds or -1 when
 * it was skipped, and an estimate of the seconds left.
 */
typedef void (*clq_tune_progress_fn)(size_t done, size_t total,
				     const struct clq_params *candidate,
				     double seconds, double seconds_left,
				     void *user_data);

/** How clq_tune() measures; zero fields take the defaults. */
struct clq_tune_options {
	/** Device seconds of runs per candidate, over all rounds (0: 0.1;
	 *  environment `CLQ_TUNE_BUDGET` when this is 0 and it is set). A
	 *  target, not a limit: each round runs budget / rounds seconds'
	 *  worth at the calibration run's pace, but at least one run and at
	 *  most 100000, after a warm-up and a calibration run; so a candidate
	 *  slower than the budget takes rounds + 2 runs, and a whole
	 *  clq_tune() about the budget times the candidates, plus the
	 *  builds. */
	double budget;
	/** Timed rounds per candidate, at most 1000; its time is the
	 *  fastest (0: 3). */
	unsigned rounds;
	/** Threads building candidates at once (0: the online CPUs, at
	 *  most 8; 1: one build at a time, in the calling thread). */
	unsigned build_threads;
	/** Called after each candidate (NULL: none). */
	clq_tune_progress_fn progress;
	/** Passed to `progress`. */
	void *progress_data;
};

/**
 * Tunes `tunable` for `problem` on the context's device: builds the grid's
 * candidates, measures them (see @ref tune) and returns the fastest
 * candidate's parameters (the caller owns them) and its time per run in
 * seconds. `options` may be NULL (defaults). Not cached: see
 * clq_tune_db_get(). Candidates are skipped with a warning logged when
 * they fail to build or run. Each call makes its own tuning queue, so
 * several threads may call clq_tune() at once, with one tunable or
 * several, on one context or several; the tunable's callbacks then run in
 * those threads at once and must allow it.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL, a tunable
 *         without source or measure function, or bad options (a negative
 *         or infinite budget, rounds above 1000);
 *         #CLQ_ERROR_OVERFLOW for a grid whose size overflows;
 *         #CLQ_ERROR_NOT_FOUND when no candidate passed the filter, built
 *         and ran (each one's reason is in the log); as clq_tunable_hash()
 *         for the source; the prepare function's status;
 *         `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int
clq_tune(struct clq_context *ctx, const struct clq_tunable *tunable,
	 const struct clq_params *problem,
	 const struct clq_tune_options *options, struct clq_params **best_out,
	 double *seconds_out);

/** How lookups match keys (see @ref tune). */
enum clq_tune_match {
	/** The environment's `CLQ_TUNE_MATCH` (`exact` or `nearest`, any
	 *  case); exact when unset or empty; anything else is logged as a
	 *  warning and taken as exact. */
	CLQ_TUNE_MATCH_DEFAULT = 0,
	CLQ_TUNE_MATCH_EXACT = 1,   /**< every key column */
	CLQ_TUNE_MATCH_NEAREST = 2, /**< drop driver, platform, device */
};

/** Flags of clq_tune_db_open(). */
enum clq_tune_db_flags {
	/** Open for lookups only: never created, never written (a missing
	 *  file is #CLQ_ERROR_NOT_FOUND, logged at info level only). A file
	 *  in rollback mode (as every clq writer leaves it on close) is read
	 *  without a `-wal` or `-shm` file; one left in WAL mode (a writer
	 *  still open or crashed, another tool) is read through those files,
	 *  which SQLite makes when the directory is writable, and as an
	 *  immutable file (no locks, SQLite's `immutable=1`) when it is not:
	 *  no writer can then be at work. */
	CLQ_TUNE_DB_READONLY = 1u << 0,
};

/**
 * Opens (creating it and its directory when missing, unless
 * #CLQ_TUNE_DB_READONLY) a tuning database: `path`, else the environment's
 * `CLQ_TUNE_DB`, else `$XDG_CACHE_HOME/clq/tune.db` (`~/.cache/clq/tune.db`
 * when XDG_CACHE_HOME is unset or empty, as the XDG base directory
 * specification says, which also makes a relative XDG_CACHE_HOME count
 * as unset; a relative `path`, `CLQ_TUNE_DB` or `HOME` is taken relative
 * to the current directory). Writable databases are put in WAL mode while
 * open, and every store is one transaction that waits up to 10 s for
 * another process's, so several processes may tune into one file at
 * once; the last handle to close puts the file back in rollback mode
 * (see #CLQ_TUNE_DB_READONLY). A file that is not an SQLite database, a
 * directory, or one that cannot be opened is an error and is left
 * untouched. A database whose file (or directory) this process cannot
 * write opens for lookups, as with #CLQ_TUNE_DB_READONLY: stores then
 * fail, and clq_tune_db_is_read_only() says so. The caller owns the
 * handle (clq_tune_db_close()); a handle may be used by several threads
 * (calls are serialised), but not from its own clq_tune_db_list()
 * callback (#CLQ_ERROR_IN_USE) nor from a tunable's filter during a
 * lookup (a deadlock).
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT for NULL, an unknown
 *         flag or a path ending in '/'; #CLQ_ERROR_DATABASE when SQLite refuses the file (logged,
 *         with SQLite's message and the path); #CLQ_ERROR_IO when the
 *         directory cannot be made or no path can be found;
 *         #CLQ_ERROR_NOT_FOUND (read-only, no file);
 *         #CLQ_ERROR_UNSUPPORTED without SQLite (logged as an error, but
 *         only at info level for #CLQ_TUNE_DB_READONLY, so that a program
 *         that uses a database when there is one stays quiet);
 *         `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int
clq_tune_db_open(const char *path, unsigned flags, struct clq_tune_db **db_out);

/** Closes a database; NULL is a no-op. */
CLQ_EXPORT void clq_tune_db_close(struct clq_tune_db *db);

/** The database's file path, borrowed (NULL for NULL). */
CLQ_EXPORT const char *clq_tune_db_get_path(const struct clq_tune_db *db);

/**
 * Whether stores into the database fail: opened with
 * #CLQ_TUNE_DB_READONLY, or, at the open, the file cannot be written
 * (SQLite's `sqlite3_db_readonly()`) or its directory cannot take
 * SQLite's journal files (access(2) with the real user and group). clq_tune_db_get()
 * checks this before tuning, and `clq-tune run` before its first problem.
 * @return 1 read-only (also for NULL, and without SQLite), 0 writable.
 */
CLQ_EXPORT int clq_tune_db_is_read_only(const struct clq_tune_db *db);

/**
 * Looks up the parameters stored for `tunable` and `problem` on the
 * context's device, matching as `match` says. The caller owns
 * `*params_out`; `seconds_out` (may be NULL) receives the stored time.
 * Reads the tunable's source to hash it (clq_tunable_hash()). Rows whose
 * parameters are off the tunable's grid or refused by its filter are
 * passed over (see @ref tune).
 * @return #CLQ_SUCCESS; #CLQ_ERROR_NOT_FOUND when nothing usable matches
 *         (not logged as an error); #CLQ_ERROR_INVALID_ARGUMENT;
 *         #CLQ_ERROR_IN_USE from a clq_tune_db_list() callback;
 *         #CLQ_ERROR_DATABASE (logged); #CLQ_ERROR_UNSUPPORTED without
 *         SQLite; as clq_tunable_hash(); `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int
clq_tune_db_lookup(struct clq_tune_db *db, struct clq_context *ctx,
		   const struct clq_tunable *tunable,
		   const struct clq_params *problem, enum clq_tune_match match,
		   struct clq_params **params_out, double *seconds_out);

/**
 * Stores a result under the exact key of the context's device, replacing
 * one with that key, in one transaction. `seconds` is finite and >= 0.
 * The parameters are not checked against the tunable's grid here; a
 * lookup passes over parameters off it.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT (also a negative,
 *         infinite or NaN time); #CLQ_ERROR_IN_USE from a
 *         clq_tune_db_list() callback; #CLQ_ERROR_DATABASE
 *         (read-only, corrupt, busy past the timeout; logged; nothing
 *         stored and nothing already stored lost); #CLQ_ERROR_UNSUPPORTED;
 *         as clq_tunable_hash(); `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int
clq_tune_db_store(struct clq_tune_db *db, struct clq_context *ctx,
		  const struct clq_tunable *tunable,
		  const struct clq_params *problem,
		  const struct clq_params *params, double seconds);

/**
 * Looks up as clq_tune_db_lookup(); on a miss, tunes (clq_tune(), with
 * `options`), logs "tuning NAME at run time" at #CLQ_LOG_INFO, and stores
 * the result. `tuned_out` (may be NULL) says whether it tuned. Not one
 * transaction: threads or processes that miss at once each tune, and the
 * last store wins (the results are alike).
 * @return as clq_tune_db_lookup() and clq_tune(), and
 *         clq_tune_db_store()'s status when the store fails (the tuned
 *         parameters are then not returned); #CLQ_ERROR_DATABASE (logged)
 *         on a miss in a read-only database
 *         (clq_tune_db_is_read_only()), before any tuning.
 */
CLQ_EXPORT int
clq_tune_db_get(struct clq_tune_db *db, struct clq_context *ctx,
		const struct clq_tunable *tunable,
		const struct clq_params *problem, enum clq_tune_match match,
		const struct clq_tune_options *options,
		struct clq_params **params_out, int *tuned_out);

/** One stored result, as clq_tune_db_list() shows it (all borrowed: the
 *  strings are valid only during the callback's call; copy what is kept). */
struct clq_tune_entry {
	const char *name; /**< the tunable's name */
	int version;	  /**< its version */
	const char *hash; /**< the source hash (clq_tunable_hash()) */
	const char
		*problem;   /**< the problem, text form (clq_params_format()) */
	const char *device; /**< device name */
	const char *platform; /**< platform name */
	const char *driver;   /**< driver version */
	const char *params;   /**< the tuned parameters, text form */
	double seconds;	      /**< time per run */
	const char *tuned_at; /**< UTC time of the store, ISO 8601 */
};

/**
 * Calls `fn` for every stored result (of tunable `name` only, unless NULL),
 * in name, version and key order, from the calling thread, inside one read
 * transaction and holding the handle's lock: `fn` must not call this
 * handle (such calls return #CLQ_ERROR_IN_USE, logged; another handle,
 * even on the same file, may be used). A nonzero return from `fn` stops
 * the walk and is returned.
 * @return #CLQ_SUCCESS; `fn`'s nonzero return; #CLQ_ERROR_INVALID_ARGUMENT
 *         (also a `name` that is not a tunable name); #CLQ_ERROR_IN_USE;
 *         #CLQ_ERROR_DATABASE; #CLQ_ERROR_UNSUPPORTED;
 *         `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int
clq_tune_db_list(struct clq_tune_db *db, const char *name,
		 int (*fn)(const struct clq_tune_entry *entry, void *user_data),
		 void *user_data);

/**
 * Copies every result of the database file `src_path` into `db`, in one
 * transaction: a result whose key `db` already has replaces it (the
 * source wins). `src_path` is only read. `copied_out` (may be NULL)
 * receives the number of results copied.
 * @return #CLQ_SUCCESS; #CLQ_ERROR_INVALID_ARGUMENT; #CLQ_ERROR_NOT_FOUND
 *         when there is no file at `src_path` (logged);
 *         #CLQ_ERROR_DATABASE (either file, also an SQLite file with
 *         tables but none of clq's; `db` is then unchanged);
 *         #CLQ_ERROR_IN_USE; #CLQ_ERROR_UNSUPPORTED;
 *         `CL_OUT_OF_HOST_MEMORY`.
 */
CLQ_EXPORT int clq_tune_db_merge(struct clq_tune_db *db, const char *src_path,
				 size_t *copied_out);

/**
 * Deletes every result of tunable `name` (all versions), in one
 * transaction. `removed_out` (may be NULL) receives how many.
 * @return #CLQ_SUCCESS (also when there were none);
 *         #CLQ_ERROR_INVALID_ARGUMENT (also a `name` that is not a tunable
 *         name, logged); #CLQ_ERROR_IN_USE; #CLQ_ERROR_DATABASE;
 *         #CLQ_ERROR_UNSUPPORTED.
 */
CLQ_EXPORT int clq_tune_db_forget(struct clq_tune_db *db, const char *name,
				  size_t *removed_out);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* CLQ_TUNE_H */
