/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Notifiers (clq/notifier.h): event completions queued for an event loop
 * behind a file descriptor.
 *
 * A watch is claimed by whoever removes it from the process-wide registry
 * first: the driver's callback, the helper thread's poll, a watch that
 * failed to register its callback, or the notifier's end. Callbacks are
 * given the watch's number, never a pointer: a driver may run a callback
 * after the notifier is gone, or never (PoCL 3.1 runs none for a command
 * failed through its wait list), so nothing they carry may be memory to
 * free. A late callback finds no number and returns; a callback that
 * never comes leaks nothing.
 *
 * The claimer owns the watch: it queues it as a completion, or frees it
 * when the notifier is closing. Every watch holds the notifier's state
 * (`holds`), so that a claimer on a driver's thread can still lock it.
 *
 * Locks: the notifier's `lock` may be held while taking the registry's,
 * never the other way; no OpenCL call is made under either (a driver may
 * hold its own lock while it runs callbacks, which take them).
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__) && !defined(CLQ__NOTIFIER_PIPE)
#define USE_EVENTFD 1
#include <sys/eventfd.h>
#else
#define USE_EVENTFD 0
#endif
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "private.h"

struct watch {
	uintptr_t id; /* its number in the registry; never 0 */
	struct clq_notifier *notifier;
	struct clq_event *event; /* a library reference */
	void *user_data;
	/* Internal hooks (clq__on_completion()): run by the helper thread
	 * instead of being queued for drain(). NULL for callers' watches. */
	clq__completion_fn fn;
	int status;
	struct watch *chain;	   /* the registry's bucket */
	struct watch *prev, *next; /* `pending` (both), `ready` (next) */
	/* WAITING, command events: `commands`, while pending. */
	struct watch *cmd_prev, *cmd_next;
};

enum mode { CALLBACKS, POLLING, WAITING };

struct clq_notifier {
	atomic_uint refs; /* callers' */
	/* The state's own count: one while open, one per watch alive, one
	 * for a WAITING helper thread (which is detached). */
	atomic_uint holds;
	enum mode mode;
	pid_t pid; /* the process it works in (not a fork() child) */
	/* fd[0] is polled and read, fd[1] written (the same eventfd). */
	int fd[2];
	pthread_t thread;
	pthread_mutex_t lock; /* guards what follows */
	pthread_cond_t wake;  /* the helper thread's */
	int64_t interval_ns;
	struct timespec next_poll; /* while anything is pending */
	int closing;
	/* Not yet claimed, doubly linked, newest first. */
	struct watch *pending, *pending_tail;
	size_t n_pending;
	/* WAITING: the pending watches of command events, linked the same
	 * way, so that the helper finds the oldest without stepping over
	 * user events (thousands may be pending for long). */
	struct watch *commands, *commands_tail;
	struct watch *ready, **ready_tail; /* claimed, waiting to be drained */
	struct watch *hooks, **hooks_tail; /* claimed, for the helper to run */
};

/* ------------------------------------------------------------ registry */

/*
 * Watches by number, chained in buckets (numbers are consecutive, so the
 * low bits spread them). The first REGISTRY_INLINE buckets need no memory,
 * and the table goes back to them whenever it is empty.
 */
#define REGISTRY_INLINE 64

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct watch *registry_inline[REGISTRY_INLINE];
static struct watch **registry = registry_inline;
static size_t registry_size = REGISTRY_INLINE, registry_count;
static uintptr_t registry_last_id;

/* The fork() handlers (hooks_prepare()), registered by the first notifier
 * made: any notifier's threads and callbacks take registry_lock. */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void hooks_register_atfork(void);

static struct watch **
registry_bucket(uintptr_t id)
{
	return &registry[id & (registry_size - 1)];
}

static int
registry_has(uintptr_t id)
{
	for (struct watch *w = *registry_bucket(id); w; w = w->chain)
		if (w->id == id)
			return 1;
	return 0;
}

/* Doubles the table; registry_lock held. */
static int
registry_grow(void)
{
	size_t size = registry_size * 2;
	struct watch **table = calloc(size, sizeof(*table));

	if (!table)
		return CL_OUT_OF_HOST_MEMORY;
	for (size_t i = 0; i < registry_size; i++) {
		while (registry[i]) {
			struct watch *w = registry[i];

			registry[i] = w->chain;
			w->chain = table[w->id & (size - 1)];
			table[w->id & (size - 1)] = w;
		}
	}
	if (registry != registry_inline)
		free(registry);
	registry = table;
	registry_size = size;
	return CLQ_SUCCESS;
}

/* Numbers `w` and enters it. */
static int
registry_add(struct watch *w)
{
	struct watch **bucket;
	int rc = CLQ_SUCCESS;

	pthread_mutex_lock(&registry_lock);
	if (registry_count >= registry_size)
		rc = registry_grow();
	if (rc == CLQ_SUCCESS) {
		/* Numbers wrap only where uintptr_t is 32 bits: skip those
		 * of watches still there. */
		do
			w->id = ++registry_last_id;
		while (w->id == 0 || registry_has(w->id));
		bucket = registry_bucket(w->id);
		w->chain = *bucket;
		*bucket = w;
		registry_count++;
	}
	pthread_mutex_unlock(&registry_lock);
	return rc;
}

/* Removes watch `id` and returns it (the caller now owns it), or NULL
 * when someone else claimed it. */
static struct watch *
registry_claim(uintptr_t id)
{
	struct watch *w = NULL;

	pthread_mutex_lock(&registry_lock);
	for (struct watch **link = registry_bucket(id); *link;
	     link = &(*link)->chain) {
		if ((*link)->id == id) {
			w = *link;
			*link = w->chain;
			registry_count--;
			break;
		}
	}
	if (registry_count == 0 && registry != registry_inline) {
		free(registry);
		registry = registry_inline;
		registry_size = REGISTRY_INLINE;
	}
	pthread_mutex_unlock(&registry_lock);
	return w;
}

/* ---------------------------------------------------------- descriptor */

static int
fd_open(int fd[2])
{
#if USE_EVENTFD
	fd[0] = fd[1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd[0] >= 0)
		return CLQ_SUCCESS;
#else
	if (pipe(fd) == 0) {
		for (int i = 0; i < 2; i++) {
			fcntl(fd[i], F_SETFL,
			      fcntl(fd[i], F_GETFL) | O_NONBLOCK);
			fcntl(fd[i], F_SETFD, FD_CLOEXEC);
		}
		return CLQ_SUCCESS;
	}
#endif
	if (errno == ENOMEM)
		return CL_OUT_OF_HOST_MEMORY;
	clq__log(NULL, CLQ_LOG_ERROR,
		 "clq_notifier_create: cannot make the descriptor (%s: %s)",
		 USE_EVENTFD ? "eventfd" : "pipe", strerror(errno));
	return CLQ_ERROR_IO;
}

static void
fd_close(int fd[2])
{
	close(fd[0]);
	if (fd[1] != fd[0])
		close(fd[1]);
}

/*
 * Makes the descriptor readable, or not; with `lock` held, where the
 * ready list becomes non-empty or empty, so that the two agree. The
 * eventfd's counter and the pipe's content are at most 1 (byte), so
 * neither call can find it full or would block.
 */
static void
fd_set_readable(struct clq_notifier *n, int readable)
{
	ssize_t done;

#if USE_EVENTFD
	uint64_t v = 1;

	if (readable)
		done = write(n->fd[1], &v, sizeof(v));
	else
		done = read(n->fd[0], &v, sizeof(v));
#else
	char c = 0;

	if (readable)
		done = write(n->fd[1], &c, 1);
	else
		done = read(n->fd[0], &c, 1);
#endif
	if (done < 0)
		clq__log(NULL, CLQ_LOG_ERROR, "notifier: descriptor %s: %s",
			 readable ? "write" : "read", strerror(errno));
}

/* -------------------------------------------------------------- watches */

static void
notifier_release(struct clq_notifier *n)
{
	if (!clq__ref_put(&n->holds))
		return;
	pthread_cond_destroy(&n->wake);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

/* Frees a watch that is in no list and not in the registry. */
static void
watch_free(struct watch *w)
{
	struct clq_notifier *n = w->notifier;

	clq__event_drop(w->event);
	free(w);
	notifier_release(n);
}

/* Whether `w` is on `commands`. */
static int
is_command(const struct clq_notifier *n, const struct watch *w)
{
	return n->mode == WAITING && !w->event->user;
}

/* Adds `w`, newest, to `pending` (and `commands`); `lock` held. */
static void
pending_link(struct clq_notifier *n, struct watch *w)
{
	w->prev = NULL;
	w->next = n->pending;
	if (n->pending)
		n->pending->prev = w;
	else
		n->pending_tail = w;
	n->pending = w;
	n->n_pending++;
	if (!is_command(n, w))
		return;
	w->cmd_prev = NULL;
	w->cmd_next = n->commands;
	if (n->commands)
		n->commands->cmd_prev = w;
	else
		n->commands_tail = w;
	n->commands = w;
}

/* `lock` held. */
static void
pending_unlink(struct clq_notifier *n, struct watch *w)
{
	if (is_command(n, w)) {
		if (w->cmd_prev)
			w->cmd_prev->cmd_next = w->cmd_next;
		else
			n->commands = w->cmd_next;
		if (w->cmd_next)
			w->cmd_next->cmd_prev = w->cmd_prev;
		else
			n->commands_tail = w->cmd_prev;
	}
	if (w->prev)
		w->prev->next = w->next;
	else
		n->pending = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		n->pending_tail = w->prev;
	n->n_pending--;
}

/* Appends hook `w` for the helper thread to run; `lock` held. */
static void
hooks_append(struct clq_notifier *n, struct watch *w)
{
	if (!n->hooks)
		pthread_cond_signal(&n->wake);
	w->next = NULL;
	*n->hooks_tail = w;
	n->hooks_tail = &w->next;
}

/* Queues claimed watch `w` as a completion with `status`, or frees it
 * once the notifier is closing. */
static void
deliver(struct watch *w, int status)
{
	struct clq_notifier *n = w->notifier;

	pthread_mutex_lock(&n->lock);
	pending_unlink(n, w);
	if (n->closing) {
		pthread_mutex_unlock(&n->lock);
		watch_free(w);
		return;
	}
	w->status = status;
	w->next = NULL;
	if (w->fn) {
		hooks_append(n, w);
	} else {
		if (!n->ready)
			fd_set_readable(n, 1);
		*n->ready_tail = w;
		n->ready_tail = &w->next;
	}
	pthread_mutex_unlock(&n->lock);
}

/* The execution status as a poll reads it (CL_COMPLETE confirmed: see
 * clq__cl_event_status()), or the status query's negative error. */
static cl_int
read_status(cl_event ev)
{
	cl_int status;
	cl_int err = clq__cl_event_status(ev, &status);

	return err == CL_SUCCESS ? status : err;
}

/* Driver callbacks of command events, whose status argument is not the
 * failure on every driver (clq__cl_callback_status()). */
static void CL_CALLBACK
on_cl_complete(cl_event ev, cl_int status, void *data)
{
	struct watch *w = registry_claim((uintptr_t)data);

	if (w)
		deliver(w, clq__cl_callback_status(ev, status));
}

/* clq's own callbacks of user events: exact statuses. */
static void
on_user_complete(struct clq_event *event, int status, void *data)
{
	struct watch *w = registry_claim((uintptr_t)data);

	(void)event;
	if (w)
		deliver(w, status);
}

/* A watched event's number and a reference to it, read under `lock`. */
struct probe {
	uintptr_t id;
	struct clq_event *event;
};

/* Reads the status of every pending watch and delivers those that have
 * ended; `lock` held on entry and exit, released in between. */
static void
poll_round(struct clq_notifier *n, struct probe **probes, size_t *cap)
{
	size_t count = 0;

	if (n->n_pending > *cap) {
		struct probe *p = realloc(*probes, n->n_pending * sizeof(*p));

		if (p) {
			*probes = p;
			*cap = n->n_pending;
		}
	}
	/* Oldest first, so that commands found ended together are delivered
	 * in watch order: a failure before the failures it caused. Without
	 * room for all (out of memory), the oldest go first. */
	for (struct watch *w = n->pending_tail; w && count < *cap;
	     w = w->prev) {
		(*probes)[count].id = w->id;
		(*probes)[count].event = clq__event_hold(w->event);
		count++;
	}
	pthread_mutex_unlock(&n->lock);
	for (size_t i = 0; i < count; i++) {
		cl_int status = read_status((*probes)[i].event->cl);
		struct watch *w;

		if (status > CL_COMPLETE)
			continue;
		w = registry_claim((*probes)[i].id);
		if (w)
			deliver(w, status);
	}
	for (size_t i = 0; i < count; i++)
		clq__event_drop((*probes)[i].event);
	pthread_mutex_lock(&n->lock);
}

static void
deadline_after(struct timespec *t, int64_t ns)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_nsec += (long)(ns % 1000000000);
	t->tv_sec += (time_t)(ns / 1000000000) + t->tv_nsec / 1000000000L;
	t->tv_nsec %= 1000000000L;
}

static int
passed(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec ||
	       (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* Runs the claimed hooks; `lock` held on entry and exit, released while
 * they run (a hook may watch again, or drop the last reference of a
 * context). */
static void
run_hooks(struct clq_notifier *n)
{
	struct watch *w = n->hooks;

	n->hooks = NULL;
	n->hooks_tail = &n->hooks;
	pthread_mutex_unlock(&n->lock);
	while (w) {
		struct watch *next = w->next;

		w->fn(w->user_data, w->event, w->status);
		watch_free(w);
		w = next;
	}
	pthread_mutex_lock(&n->lock);
}

/* CALLBACKS and POLLING: reads the statuses every interval while anything
 * is watched, runs hooks as they come, sleeps otherwise. */
static void
poll_loop(struct clq_notifier *n)
{
	struct probe *probes = NULL;
	size_t cap = 0;

	while (!n->closing) {
		if (n->hooks) {
			run_hooks(n);
		} else if (!n->n_pending) {
			pthread_cond_wait(&n->wake, &n->lock);
			deadline_after(&n->next_poll, n->interval_ns);
		} else if (!passed(&n->next_poll)) {
			pthread_cond_timedwait(&n->wake, &n->lock,
					       &n->next_poll);
		} else {
			poll_round(n, &probes, &cap);
			deadline_after(&n->next_poll, n->interval_ns);
		}
	}
	free(probes);
}

/* How long a WAITING helper spins for the next watch before it sleeps. */
#define WAIT_SPIN_NS 1000000L
/* How long it pauses after a wait that failed before the command ended. */
#define WAIT_RETRY_NS 1000000L

/*
 * WAITING: blocks in clWaitForEvents() on the oldest pending command
 * event, then delivers it, unless its callback came first. A wait cannot
 * be interrupted: the thread is detached, holds the state, and leaves at
 * the first wake-up after the notifier closes.
 */
static void
wait_loop(struct clq_notifier *n)
{
	struct timespec idle_until = {0, 0}, retry;
	int idle = 0, failing = 0;

	while (!n->closing) {
		/* The oldest pending watch of a command (user events have
		 * callbacks of clq's own). */
		struct watch *w = n->commands_tail;
		struct clq_event *e;
		uintptr_t id;
		cl_int status, err;

		if (!w) {
			/* Stay awake a while for the next watch: a sleeping
			 * thread can take tens of microseconds to wake. */
			if (!idle) {
				idle = 1;
				deadline_after(&idle_until, WAIT_SPIN_NS);
			}
			if (passed(&idle_until)) {
				pthread_cond_wait(&n->wake, &n->lock);
				idle = 0;
			} else {
				pthread_mutex_unlock(&n->lock);
				sched_yield();
				pthread_mutex_lock(&n->lock);
			}
			continue;
		}
		idle = 0;
		id = w->id;
		e = clq__event_hold(w->event);
		pthread_mutex_unlock(&n->lock);
		err = clWaitForEvents(1, &e->cl);
		status = clq__cl_status_now(e->cl);
		if (status > CL_COMPLETE && err != CL_SUCCESS &&
		    err != CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST) {
			/* The wait failed, not the command, which has not
			 * ended: no completion (the caller would reuse what
			 * it still uses). Its callback may bring it; else
			 * the wait is tried again after a pause. */
			if (!failing)
				clq__log(e->ctx, CLQ_LOG_WARNING,
					 "notifier: clWaitForEvents failed "
					 "(%s) before the command ended: "
					 "waiting again",
					 clq_error_name(err));
			failing = 1;
			clq__event_drop(e);
			pthread_mutex_lock(&n->lock);
			deadline_after(&retry, WAIT_RETRY_NS);
			if (!n->closing)
				pthread_cond_timedwait(&n->wake, &n->lock,
						       &retry);
			continue;
		}
		failing = 0;
		/* The wait has ended it, whatever the status query says
		 * yet: deliver now rather than wait again. A failed wait is
		 * the command's failure even where its status does not show
		 * it yet (NVIDIA: see clq__cl_event_status()). */
		if (status > CL_COMPLETE ||
		    (status == CL_COMPLETE &&
		     err == CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST))
			status = err == CL_SUCCESS ? CL_COMPLETE : err;
		w = registry_claim(id);
		if (w)
			deliver(w, status);
		clq__event_drop(e);
		pthread_mutex_lock(&n->lock);
	}
}

static void *
helper(void *data)
{
	struct clq_notifier *n = data;
	enum mode mode = n->mode;

#ifdef __linux__
	/* Linux lets a sleep overrun by 50 us by default (timer slack),
	 * longer than short polling intervals. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
#endif
	pthread_mutex_lock(&n->lock);
	if (mode == WAITING)
		wait_loop(n);
	else
		poll_loop(n);
	pthread_mutex_unlock(&n->lock);
	if (mode == WAITING)
		notifier_release(n);
	return NULL;
}

/* ------------------------------------------------------------- notifier */

static int
check_interval(const char *function, double interval)
{
	if (interval >= CLQ_NOTIFIER_INTERVAL_MIN &&
	    interval <= CLQ_NOTIFIER_INTERVAL_MAX)
		return CLQ_SUCCESS;
	clq__log(NULL, CLQ_LOG_ERROR,
		 "%s: the poll interval %g s is outside %g .. %g s", function,
		 interval, CLQ_NOTIFIER_INTERVAL_MIN,
		 CLQ_NOTIFIER_INTERVAL_MAX);
	return CLQ_ERROR_INVALID_ARGUMENT;
}

/* A fork() child's copy of a notifier has no helper thread and shares the
 * parent's descriptor: it may only be dropped. */
static int
check_process(const struct clq_notifier *n, const char *function)
{
	if (n->pid == getpid())
		return CLQ_SUCCESS;
	clq__log(NULL, CLQ_LOG_ERROR,
		 "%s: the notifier was made by process %ld, before a fork(); "
		 "in this process it can only be unref'd (make a new one)",
		 function, (long)n->pid);
	return CLQ_ERROR_INVALID_ARGUMENT;
}

static int
create(const char *function, enum mode mode, double interval,
       struct clq_notifier **notifier_out)
{
	struct clq_notifier *n;
	pthread_condattr_t attr;
	pthread_attr_t thread_attr;
	sigset_t all, mask;
	int rc, err;

	if (!notifier_out)
		return clq__invalid(NULL, function, "notifier_out is NULL");
	*notifier_out = NULL;
	if ((rc = check_interval(function, interval)) < 0)
		return rc;
	pthread_once(&atfork_once, hooks_register_atfork);
	n = calloc(1, sizeof(*n));
	if (!n)
		return CL_OUT_OF_HOST_MEMORY;
	rc = fd_open(n->fd);
	if (rc < 0) {
		free(n);
		return rc;
	}
	clq__ref_init(&n->refs);
	clq__ref_init(&n->holds);
	n->mode = mode;
	n->pid = getpid();
	n->interval_ns = (int64_t)(interval * 1e9 + 0.5);
	n->ready_tail = &n->ready;
	n->hooks_tail = &n->hooks;
	pthread_mutex_init(&n->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&n->wake, &attr);
	pthread_condattr_destroy(&attr);
	pthread_attr_init(&thread_attr);
	if (mode == WAITING) {
		pthread_attr_setdetachstate(&thread_attr,
					    PTHREAD_CREATE_DETACHED);
		clq__ref_get(&n->holds); /* the thread's */
	}
	/* The helper takes no signals: they are the application's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &mask);
	err = pthread_create(&n->thread, &thread_attr, helper, n);
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
	pthread_attr_destroy(&thread_attr);
	if (err) {
		clq__log(NULL, CLQ_LOG_ERROR,
			 "%s: cannot start the helper thread: %s", function,
			 strerror(err));
		fd_close(n->fd);
		if (mode == WAITING)
			clq__ref_put(&n->holds);
		notifier_release(n);
		return CLQ_ERROR_IO;
	}
	*notifier_out = n;
	return CLQ_SUCCESS;
}

int
clq_notifier_create(struct clq_notifier **notifier_out)
{
	return create("clq_notifier_create", CALLBACKS,
		      CLQ_NOTIFIER_FALLBACK_INTERVAL, notifier_out);
}

int
clq_notifier_create_polling(double interval, struct clq_notifier **notifier_out)
{
	return create("clq_notifier_create_polling", POLLING, interval,
		      notifier_out);
}

int
clq_notifier_create_waiting(struct clq_notifier **notifier_out)
{
	return create("clq_notifier_create_waiting", WAITING,
		      CLQ_NOTIFIER_FALLBACK_INTERVAL, notifier_out);
}

int
clq_notifier_set_poll_interval(struct clq_notifier *notifier, double interval)
{
	struct timespec soonest;
	int rc;

	if (!notifier)
		return clq__invalid(NULL, "clq_notifier_set_poll_interval",
				    "notifier is NULL");
	rc = check_interval("clq_notifier_set_poll_interval", interval);
	if (rc == CLQ_SUCCESS)
		rc = check_process(notifier, "clq_notifier_set_poll_interval");
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&notifier->lock);
	notifier->interval_ns = (int64_t)(interval * 1e9 + 0.5);
	/* A shorter interval counts from now, not from the last poll. */
	deadline_after(&soonest, notifier->interval_ns);
	if (soonest.tv_sec < notifier->next_poll.tv_sec ||
	    (soonest.tv_sec == notifier->next_poll.tv_sec &&
	     soonest.tv_nsec < notifier->next_poll.tv_nsec))
		notifier->next_poll = soonest;
	pthread_cond_signal(&notifier->wake);
	pthread_mutex_unlock(&notifier->lock);
	return CLQ_SUCCESS;
}

struct clq_notifier *
clq_notifier_ref(struct clq_notifier *notifier)
{
	if (notifier)
		clq__ref_get(&notifier->refs);
	return notifier;
}

/* Frees a list of watches linked through next. */
static void
free_list(struct watch *w)
{
	while (w) {
		struct watch *next = w->next;

		watch_free(w);
		w = next;
	}
}

void
clq_notifier_unref(struct clq_notifier *notifier)
{
	struct clq_notifier *n = notifier;
	struct watch *claimed = NULL, *ready, *hooks;

	if (!n || !clq__ref_put(&n->refs))
		return;
	/* In a fork() child: no helper to stop, and the locks may have been
	 * held at the fork; what the copy holds stays allocated. */
	if (n->pid != getpid())
		return;
	pthread_mutex_lock(&n->lock);
	n->closing = 1;
	pthread_cond_signal(&n->wake);
	pthread_mutex_unlock(&n->lock);
	/* A WAITING thread may be inside a wait that never ends: it is
	 * detached and leaves on its own (see wait_loop()). */
	if (n->mode != WAITING)
		pthread_join(n->thread, NULL);

	/* Watches claimed by a callback meanwhile stay pending until their
	 * claimer frees them (see deliver()). */
	pthread_mutex_lock(&n->lock);
	for (struct watch *w = n->pending, *next; w; w = next) {
		next = w->next;
		if (registry_claim(w->id)) {
			pending_unlink(n, w);
			w->next = claimed;
			claimed = w;
		}
	}
	ready = n->ready;
	n->ready = NULL;
	n->ready_tail = &n->ready;
	hooks = n->hooks;
	n->hooks = NULL;
	n->hooks_tail = &n->hooks;
	pthread_mutex_unlock(&n->lock);
	free_list(claimed);
	free_list(ready);
	free_list(hooks);
	fd_close(n->fd);
	notifier_release(n);
}

int
clq_notifier_get_fd(const struct clq_notifier *notifier)
{
	if (!notifier)
		return clq__invalid(NULL, "clq_notifier_get_fd",
				    "notifier is NULL");
	return notifier->fd[0];
}

/*
 * Flushes the queue of the event's command if nothing has since: a
 * callback, unlike a wait, does not flush, and a command left unflushed
 * may never start (OpenCL 1.2 section 5.13).
 */
static int
flush_source(struct clq_event *e)
{
	if (!e->source ||
	    !atomic_load_explicit(&e->unflushed, memory_order_relaxed) ||
	    !atomic_exchange(&e->unflushed, 0))
		return CLQ_SUCCESS;
	return clq__check(e->ctx, clFlush(e->source->cl), "clFlush");
}

/* Watches `event` for a caller (fn NULL) or for an internal hook. */
static int
watch_add(struct clq_notifier *n, struct clq_event *event, void *user_data,
	  clq__completion_fn fn)
{
	struct watch *w;
	uintptr_t id;
	cl_int status;
	int rc;

	rc = flush_source(event);
	if (rc < 0)
		return rc;
	w = malloc(sizeof(*w));
	if (!w)
		return CL_OUT_OF_HOST_MEMORY;
	w->notifier = n;
	w->event = clq__event_hold(event);
	w->user_data = user_data;
	w->fn = fn;
	w->status = CL_COMPLETE;
	rc = registry_add(w);
	if (rc < 0) {
		clq__event_drop(w->event);
		free(w);
		return rc;
	}
	clq__ref_get(&n->holds);
	/* Once it is pending, the helper may claim, deliver and free it:
	 * from the unlock on, only its number may be used. */
	id = w->id;

	/* Registered first, so that its number is set for the helper, which
	 * finds it among the pending; no one else knows the number yet. */
	pthread_mutex_lock(&n->lock);
	/* A WAITING helper sleeps while no command event is pending. */
	if (n->mode == WAITING ? is_command(n, w) && !n->commands
			       : n->n_pending == 0)
		pthread_cond_signal(&n->wake);
	pending_link(n, w);
	pthread_mutex_unlock(&n->lock);
	/* One that has already ended comes at once, not at the next poll or
	 * through a callback (NVIDIA's come 100-170 us late); a short
	 * command may have ended while its enqueue returned. */
	status = read_status(event->cl);
	if (status <= CL_COMPLETE) {
		if ((w = registry_claim(id)))
			deliver(w, status);
		return CLQ_SUCCESS;
	}
	if (n->mode == POLLING)
		return CLQ_SUCCESS;

	if (event->user) {
		rc = clq_event_set_callback(event, on_user_complete,
					    (void *)id);
	} else {
		rc = clq__check(event->ctx,
				clSetEventCallback(event->cl, CL_COMPLETE,
						   on_cl_complete, (void *)id),
				"clSetEventCallback");
	}
	if (rc < 0) {
		w = registry_claim(id);
		/* Else the helper found the event ended and delivered it:
		 * the watch did its job after all. */
		if (!w)
			return CLQ_SUCCESS;
		pthread_mutex_lock(&n->lock);
		pending_unlink(n, w);
		pthread_mutex_unlock(&n->lock);
		watch_free(w);
	}
	return rc;
}

int
clq_notifier_watch(struct clq_notifier *notifier, struct clq_event *event,
		   void *user_data)
{
	if (!notifier || !event)
		return clq__invalid(event ? event->ctx : NULL,
				    "clq_notifier_watch",
				    "notifier or event is NULL");
	if (check_process(notifier, "clq_notifier_watch") < 0)
		return CLQ_ERROR_INVALID_ARGUMENT;
	return watch_add(notifier, event, user_data, NULL);
}

/* ---------------------------------------------------------------- hooks */

/*
 * The process-wide notifier of internal hooks, made at the first hook; it
 * lives until the process ends (hooks_stop()). It polls every
 * HOOK_POLL_INTERVAL while hooks are pending, not every 10 ms: NVIDIA 580
 * ran no callback within 10 ms for commands that had waited for user
 * events, and a staged copy, whose pieces hand over through hooks, moved
 * 3.3 GB/s between two H200s with 10 ms polls against 48 GB/s with 0.2 ms
 * (bench-stager). Hooks are few (a bridge, a copy's pieces), so the polls
 * cost little, and none are made while no hook is pending.
 */
#define HOOK_POLL_INTERVAL 0.0001
static pthread_mutex_t hooks_lock = PTHREAD_MUTEX_INITIALIZER;
static struct clq_notifier *hooks_notifier;
/* A fork() child's copy of the parent's, which has no helper thread
 * there: kept reachable, never used. */
static struct clq_notifier *hooks_orphan;

/* fork(): the locks are taken around it, so that the child does not
 * inherit one held by a thread that is not there (a helper or a driver's
 * callback claiming a watch of any notifier); the child makes a hooks
 * notifier of its own when it needs one. */
static void
hooks_prepare(void)
{
	pthread_mutex_lock(&hooks_lock);
	pthread_mutex_lock(&registry_lock);
}

static void
hooks_parent(void)
{
	pthread_mutex_unlock(&registry_lock);
	pthread_mutex_unlock(&hooks_lock);
}

static void
hooks_child(void)
{
	if (hooks_notifier)
		hooks_orphan = hooks_notifier;
	hooks_notifier = NULL;
	pthread_mutex_unlock(&registry_lock);
	pthread_mutex_unlock(&hooks_lock);
}

static void
hooks_register_atfork(void)
{
	pthread_atfork(hooks_prepare, hooks_parent, hooks_child);
}

/* The hooks' notifier, made by the first hook; `who` names the caller. */
static int
hooks_get(const char *who, struct clq_notifier **out)
{
	int rc = CLQ_SUCCESS;

	pthread_once(&atfork_once, hooks_register_atfork);
	pthread_mutex_lock(&hooks_lock);
	if (!hooks_notifier)
		rc = create(who, CALLBACKS, HOOK_POLL_INTERVAL,
			    &hooks_notifier);
	*out = hooks_notifier;
	pthread_mutex_unlock(&hooks_lock);
	return rc;
}

int
clq__on_completion(struct clq_event *event, clq__completion_fn fn, void *data)
{
	struct clq_notifier *n;
	int rc = hooks_get("clq__on_completion", &n);

	if (rc < 0)
		return rc;
	return watch_add(n, event, data, fn);
}

int
clq__defer(clq__completion_fn fn, void *data)
{
	struct clq_notifier *n;
	struct watch *w;
	int rc = hooks_get("clq__defer", &n);

	if (rc < 0)
		return rc;
	w = calloc(1, sizeof(*w));
	if (!w)
		return CL_OUT_OF_HOST_MEMORY;
	w->notifier = n;
	w->user_data = data;
	w->fn = fn;
	w->status = CL_COMPLETE;
	clq__ref_get(&n->holds);
	pthread_mutex_lock(&n->lock);
	if (n->closing) { /* the process is ending: the caller does it */
		pthread_mutex_unlock(&n->lock);
		watch_free(w);
		return CL_INVALID_OPERATION;
	}
	hooks_append(n, w);
	pthread_mutex_unlock(&n->lock);
	return CLQ_SUCCESS;
}

/* Stops the hooks' helper thread before the library's code goes (dlclose,
 * exit). Hooks still pending then never run; their memory stays
 * reachable from the registry. */
__attribute__((destructor)) static void
hooks_stop(void)
{
	struct clq_notifier *n = hooks_notifier;

	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	n->closing = 1;
	pthread_cond_signal(&n->wake);
	pthread_mutex_unlock(&n->lock);
	pthread_join(n->thread, NULL);
}

int
clq_notifier_drain(struct clq_notifier *notifier, struct clq_completion *out,
		   size_t max, size_t *n_out)
{
	struct clq_notifier *n = notifier;
	struct watch *taken = NULL, **tail = &taken;
	size_t k = 0;

	if (!n || !n_out || (max > 0 && !out))
		return clq__invalid(NULL, "clq_notifier_drain",
				    "notifier or n_out is NULL, or out is "
				    "NULL with max > 0");
	*n_out = 0;
	if (check_process(n, "clq_notifier_drain") < 0)
		return CLQ_ERROR_INVALID_ARGUMENT;
	pthread_mutex_lock(&n->lock);
	while (k < max && n->ready) {
		struct watch *w = n->ready;

		n->ready = w->next;
		*tail = w;
		tail = &w->next;
		k++;
	}
	*tail = NULL;
	if (!n->ready) {
		n->ready_tail = &n->ready;
		if (k > 0)
			fd_set_readable(n, 0);
	}
	pthread_mutex_unlock(&n->lock);

	*n_out = k;
	for (size_t i = 0; i < k; i++) {
		struct watch *w = taken;
		struct clq_event *e = w->event;
		int status = w->status;

		taken = w->next;
		/* The library's reference becomes the caller's. */
		clq_event_ref(e);
		clq__event_drop(e);
		out[i].event = e;
		out[i].status = status;
		out[i].user_data = w->user_data;
		free(w);
		notifier_release(n);
		/* The host has seen the command end: ordering may count it,
		 * and the failsafe may release kept events. */
		clq__order_seen(e, status);
		clq__failsafe_sweep(e->ctx);
	}
	return CLQ_SUCCESS;
}
