/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * notify-libuv: a libuv event loop that streams data through the device
 * without ever blocking on it. A producer process writes float samples
 * into a pipe; the loop reads them in chunks, sends each chunk through the
 * device (upload, cl/scale.cl, download: three commands on one queue),
 * and learns that a chunk is done from a clq notifier's descriptor, which
 * it polls like any other (uv_poll). Each result is checked against a CPU
 * reference and written out in order (uv_fs_write). `notify-libuv --help`
 * explains the options.
 *
 * The loop's handles: the pipe (reading stops while every slot is busy,
 * so the producer is held back instead of memory filling up), the
 * notifier's descriptor, and one file write at a time. Nothing in a
 * callback waits: no clq_event_wait(), no blocking transfer.
 *
 * As in double-buffer, the kernel adds 1 to each sample `iters` times,
 * and samples are integers below 2^20, so the reference (x + iters) is
 * exact in float.
 *
 * Writing handles short writes and a non-blocking output (a pipe whose
 * reader is slow): the rest of a chunk is written by a further
 * uv_fs_write(), after a uv_poll for writability when the write gave
 * EAGAIN.
 *
 * A hidden option for the tests, not in --help: `--fail-chunk K` gates
 * chunk K's kernel (K from 0) on a user event that is failed with status
 * -1 once the chunk is watched, so that its device work fails (and, on
 * an in-order queue, possibly the chunks after it). The run must then
 * say "chunk K failed on the device" and exit 1, without hanging.
 * examples/check-notify-libuv.py checks that.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <clq/clq.h>
#include <uv.h>

#include "example.h"

#define INPUT_LIMIT (1u << 20)
#define MAX_ITERS (1u << 23)
#define MAX_SLOTS 64

struct options {
	const char *device;
	size_t chunks;	    /* the producer's */
	size_t chunk_elems; /* floats per chunk */
	size_t slots;	    /* chunks in flight at most */
	unsigned iters;
	double poll;	    /* > 0: a polling notifier with this interval */
	const char *output; /* "-": stdout */
	bool from_stdin;
	bool chunks_given; /* --chunks: with --stdin, the input's length */
	size_t fail_chunk; /* --fail-chunk (tests only); SIZE_MAX: none */
};

/* How the producer exits when its reader has gone (EPIPE): the loop
 * stopped first, so this is a consequence, not a failure of its own. */
#define PRODUCER_READER_GONE 4

/* One chunk's memory, reused once its result is written. */
struct slot {
	struct clq_host_array *in, *out;
	struct clq_device_array *dev;
	size_t fill;	/* bytes read into `in` */
	size_t written; /* bytes of `out` written so far */
	size_t chunk;	/* its index in the stream */
	enum { FREE, FILLING, ON_DEVICE, DONE, WRITING } state;
};

struct app {
	const struct options *opt;
	uv_loop_t loop;
	uv_pipe_t input;
	uv_poll_t notify_poll;
	uv_fs_t write_req;
	uv_poll_t out_poll; /* waits for a non-blocking output: EAGAIN */
	bool out_poll_open;
	struct slot *writing; /* the slot being written, or NULL */
	int output_fd;
	struct clq_context *ctx;
	struct clq_queue *queue;
	struct clq_program *program;
	struct clq_kernel *scale;
	size_t local;
	struct clq_notifier *notifier;
	struct slot slots[MAX_SLOTS];
	struct slot *filling; /* the slot being read into, or NULL */
	size_t next_chunk;    /* index of the next chunk read */
	size_t next_write;    /* index of the next chunk to write */
	size_t in_flight;     /* slots between submit and written */
	bool reading, eof, failed, stopping;
	/* what the report says */
	size_t chunks_done, bytes_in, mismatches, failures, wakeups;
	size_t max_in_flight;
	double started;
	bool input_open;     /* libuv owns the input descriptor */
	size_t expected;     /* bytes the input should hold; 0: not known */
	size_t short_writes; /* writes that wrote part of what they were given */
};

static int
fail(const char *what, int rc)
{
	return example_report("notify-libuv", what, rc);
}

/* ---------------------------------------------------------------- options */

static void
usage(FILE *out)
{
	fputs("Usage: notify-libuv [OPTION]...\n"
	      "Reads float samples from a producer process through a pipe, "
	      "sends\n"
	      "each chunk through the device (the scale kernel adds 1, "
	      "ITERS\n"
	      "times) from a libuv loop that never blocks on the device, "
	      "checks\n"
	      "every result against the CPU and writes the results out in "
	      "order.\n\n"
	      "  --device SPEC   device, as clq_device_select() reads it "
	      "(default:\n"
	      "                  CLQ_DEVICE, then GPU > accelerator > CPU)\n"
	      "  --chunks N      chunks the producer writes (default 32); "
	      "with --stdin,\n"
	      "                  the chunks the input must hold\n"
	      "  --chunk-kib N   KiB per chunk (default 256)\n"
	      "  --slots N       chunks on the device at most (default 4, "
	      "max 64)\n"
	      "  --iters N       kernel iterations per sample (default 16)\n"
	      "  --poll SECONDS  a polling notifier with this interval "
	      "(default:\n"
	      "                  driver callbacks, with a polling fallback)\n"
	      "  --output FILE   where results go, '-' for stdout (default "
	      "-)\n"
	      "  --stdin         read samples from standard input, a pipe, "
	      "instead\n"
	      "                  of a producer process (float32, native "
	      "order,\n"
	      "                  integer values below 2^20). Without "
	      "--chunks, an\n"
	      "                  input of any length is taken whole: one "
	      "that ends\n"
	      "                  early, at a sample, counts as complete\n"
	      "  --help          show this help\n\n"
	      "Exits 0 when every result matches the CPU reference, 1 on a "
	      "mismatch\n"
	      "or an error, 2 on a bad option.\n",
	      out);
}

/* Returns 0 to run, 1 when --help was printed, -1 on a bad option. */
static int
parse_options(int argc, char **argv, struct options *opt)
{
	enum { O_CHUNKS = 256, O_CHUNK_KIB, O_SLOTS, O_ITERS, O_POLL, O_FAIL };
	static const struct option longopts[] = {
		{"device", required_argument, NULL, 'd'},
		{"chunks", required_argument, NULL, O_CHUNKS},
		{"chunk-kib", required_argument, NULL, O_CHUNK_KIB},
		{"slots", required_argument, NULL, O_SLOTS},
		{"iters", required_argument, NULL, O_ITERS},
		{"poll", required_argument, NULL, O_POLL},
		{"output", required_argument, NULL, 'o'},
		{"stdin", no_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{"fail-chunk", required_argument, NULL, O_FAIL}, /* tests */
		{NULL, 0, NULL, 0},
	};
	size_t v;
	char *end;
	int c;

	*opt = (struct options){.chunks = 32,
				.chunk_elems = 256 * 1024 / sizeof(float),
				.slots = 4,
				.iters = 16,
				.output = "-",
				.fail_chunk = SIZE_MAX};
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			opt->device = optarg;
			break;
		case O_CHUNKS:
			if (example_parse_size("notify-libuv", "chunks", optarg,
					       1, 1u << 24, &opt->chunks) < 0)
				return -1;
			opt->chunks_given = true;
			break;
		case O_FAIL:
			if (example_parse_size("notify-libuv", "fail-chunk",
					       optarg, 0, (1u << 24) - 1,
					       &opt->fail_chunk) < 0)
				return -1;
			break;
		case O_CHUNK_KIB:
			if (example_parse_size("notify-libuv", "chunk-kib",
					       optarg, 1, 1u << 20, &v) < 0)
				return -1;
			opt->chunk_elems = v * 1024 / sizeof(float);
			break;
		case O_SLOTS:
			if (example_parse_size("notify-libuv", "slots", optarg,
					       1, MAX_SLOTS, &opt->slots) < 0)
				return -1;
			break;
		case O_ITERS:
			if (example_parse_size("notify-libuv", "iters", optarg,
					       1, MAX_ITERS, &v) < 0)
				return -1;
			opt->iters = (unsigned)v;
			break;
		case O_POLL:
			errno = 0;
			opt->poll = strtod(optarg, &end);
			if (errno || end == optarg || *end ||
			    !(opt->poll >= CLQ_NOTIFIER_INTERVAL_MIN &&
			      opt->poll <= CLQ_NOTIFIER_INTERVAL_MAX)) {
				fprintf(stderr,
					"notify-libuv: --poll wants seconds "
					"from %g to %g, not '%s'\n",
					CLQ_NOTIFIER_INTERVAL_MIN,
					CLQ_NOTIFIER_INTERVAL_MAX, optarg);
				return -1;
			}
			break;
		case 'o':
			opt->output = optarg;
			break;
		case 's':
			opt->from_stdin = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "notify-libuv: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	return 0;
}

/* --------------------------------------------------------------- producer */

/*
 * The producer: writes `chunks` chunks of samples into `fd` in pieces of
 * uneven sizes (so that reads end mid-chunk and mid-sample), then exits:
 * 0, PRODUCER_READER_GONE when the reader closed the pipe first (EPIPE;
 * SIGPIPE is ignored), 1 on another error. Forked before the parent
 * touches OpenCL, whose drivers start threads.
 */
static void
produce(int fd, const struct options *opt)
{
	static const size_t pieces[] = {4096, 1000, 17, 65536, 3};
	size_t total = opt->chunks * opt->chunk_elems, done = 0;
	uint32_t state = 1;
	float buf[16384];

	for (size_t k = 0; done < total; k++) {
		size_t n = total - done < 16384 ? total - done : 16384;
		const char *p = (const char *)buf;
		size_t left = n * sizeof(float);

		for (size_t i = 0; i < n; i++) {
			state = state * 1664525u + 1013904223u;
			buf[i] = (float)(state >> 12); /* below 2^20 */
		}
		while (left > 0) {
			size_t piece = pieces[k++ % 5];
			ssize_t w = write(fd, p, piece < left ? piece : left);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				_exit(errno == EPIPE ? PRODUCER_READER_GONE
						     : 1);
			p += w;
			left -= (size_t)w;
		}
		done += n;
	}
	_exit(0);
}

/* ------------------------------------------------------------- the device */

static int
app_open(struct app *a)
{
	const struct options *opt = a->opt;
	struct clq_device *dev = NULL;
	int rc;

	if ((rc = clq_device_select(opt->device, &dev)) < 0)
		return fail("choosing a device", rc);
	rc = clq_context_create(dev, &a->ctx);
	clq_device_unref(dev);
	if (rc < 0)
		return fail("creating a context", rc);
	if ((rc = clq_queue_create(a->ctx, 0, &a->queue)) < 0)
		return fail("creating a queue", rc);
	rc = clq_program_create_from_file(a->ctx, "scale.cl", NULL, 0, NULL,
					  &a->program);
	if (rc < 0)
		return fail("building scale.cl", rc);
	if ((rc = clq_kernel_create(a->program, "scale", &a->scale)) < 0)
		return fail("creating the scale kernel", rc);
	a->local = clq_kernel_get_work_group_size(a->scale);
	if (a->local > 256)
		a->local = 256;
	for (size_t i = 0; i < opt->slots; i++) {
		struct slot *s = &a->slots[i];
		const size_t n = opt->chunk_elems;

		if ((rc = clq_host_array_create(a->ctx, CLQ_DTYPE_FLOAT32, 1,
						&n, NULL, &s->in)) < 0 ||
		    (rc = clq_host_array_create(a->ctx, CLQ_DTYPE_FLOAT32, 1,
						&n, NULL, &s->out)) < 0 ||
		    (rc = clq_device_array_create(a->ctx, CLQ_DTYPE_FLOAT32, 1,
						  &n, NULL, &s->dev)) < 0)
			return fail("allocating a slot", rc);
	}
	if (opt->poll > 0)
		rc = clq_notifier_create_polling(opt->poll, &a->notifier);
	else
		rc = clq_notifier_create(&a->notifier);
	if (rc < 0)
		return fail("creating the notifier", rc);
	return CLQ_SUCCESS;
}

static void
app_close(struct app *a)
{
	clq_notifier_unref(a->notifier);
	for (size_t i = 0; i < a->opt->slots; i++) {
		clq_host_array_unref(a->slots[i].in);
		clq_host_array_unref(a->slots[i].out);
		clq_device_array_unref(a->slots[i].dev);
	}
	clq_kernel_unref(a->scale);
	clq_program_unref(a->program);
	clq_queue_unref(a->queue);
	clq_context_unref(a->ctx);
}

/*
 * Upload, kernel and download of slot `s` on the one queue, which runs
 * them in order; the notifier watches the download. Returns at once.
 * With --fail-chunk, that chunk's kernel waits for `gate`, failed here
 * once the download is watched (and on every error path: nothing is
 * left waiting for it).
 */
static int
submit(struct app *a, struct slot *s)
{
	cl_uint n = (cl_uint)a->opt->chunk_elems, iters = a->opt->iters;
	cl_float one = 1.0f;
	struct clq_arg args[] = {
		CLQ_ARG_ARRAY(s->dev), CLQ_ARG_VALUE(n),     CLQ_ARG_VALUE(one),
		CLQ_ARG_VALUE(one),    CLQ_ARG_VALUE(iters),
	};
	size_t global = (n + a->local - 1) / a->local * a->local;
	struct clq_event *done = NULL, *gate = NULL;
	int rc;

	/* A short last chunk: the rest of the slot is zeros. */
	memset((char *)clq_host_array_data(s->in) + s->fill, 0,
	       n * sizeof(float) - s->fill);
	if (s->chunk == a->opt->fail_chunk &&
	    (rc = clq_user_event_create(a->ctx, &gate)) < 0)
		return fail("creating the --fail-chunk gate", rc);
	if ((rc = clq_device_array_set_async(s->dev, a->queue, s->in, NULL, 0,
					     NULL)) < 0 ||
	    (rc = clq_queue_enqueue_kernel(a->queue, a->scale, args, 5, 1,
					   &global, &a->local, &gate,
					   gate ? 1 : 0, NULL)) < 0 ||
	    (rc = clq_device_array_get_async(s->dev, a->queue, s->out, NULL, 0,
					     &done)) < 0) {
		fail("enqueueing a chunk", rc);
		goto out;
	}
	/* The notifier flushes the queue and holds the event. */
	rc = clq_notifier_watch(a->notifier, done, s);
	clq_event_unref(done);
	if (rc < 0) {
		fail("watching a chunk", rc);
		goto out;
	}
	s->state = ON_DEVICE;
	a->in_flight++;
	if (a->in_flight > a->max_in_flight)
		a->max_in_flight = a->in_flight;
out:
	if (gate) {
		int grc = clq_user_event_complete(gate, -1);

		clq_event_unref(gate);
		if (grc < 0 && rc >= 0)
			rc = fail("failing the --fail-chunk gate", grc);
	}
	return rc < 0 ? rc : CLQ_SUCCESS;
}

/* ---------------------------------------------------------------- the loop */

static void stop(struct app *a);
static void write_next(struct app *a);

static struct slot *
free_slot(struct app *a)
{
	for (size_t i = 0; i < a->opt->slots; i++)
		if (a->slots[i].state == FREE)
			return &a->slots[i];
	return NULL;
}

/* libuv asks where to read: into the slot being filled, straight into its
 * pinned host array. Reading runs only while a slot is free or filling. */
static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct app *a = h->data;
	struct slot *s = a->filling;
	size_t bytes = a->opt->chunk_elems * sizeof(float);

	(void)suggested;
	if (!s && !(s = free_slot(a))) {
		*buf = uv_buf_init(NULL, 0); /* on_read gets UV_ENOBUFS */
		return;
	}
	if (!a->filling) {
		a->filling = s;
		s->state = FILLING;
		s->fill = 0;
		s->chunk = a->next_chunk++;
	}
	*buf = uv_buf_init((char *)clq_host_array_data(s->in) + s->fill,
			   (unsigned)(bytes - s->fill));
}

static void
finish_chunk(struct app *a)
{
	struct slot *s = a->filling;

	a->filling = NULL;
	if (submit(a, s) < 0) {
		a->failed = true;
		stop(a);
		return;
	}
	if (!free_slot(a) && a->reading) {
		/* Every slot is busy: the producer waits on the pipe. */
		uv_read_stop((uv_stream_t *)&a->input);
		a->reading = false;
	}
}

static void
on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct app *a = stream->data;
	size_t bytes = a->opt->chunk_elems * sizeof(float);

	(void)buf;
	if (nread > 0) {
		a->filling->fill += (size_t)nread;
		a->bytes_in += (size_t)nread;
		if (a->expected && a->bytes_in > a->expected) {
			fprintf(stderr,
				"notify-libuv: the input holds more than the "
				"%zu bytes expected (--chunks %zu of %zu "
				"bytes)\n",
				a->expected, a->opt->chunks, bytes);
			a->failed = true;
			stop(a);
			return;
		}
		if (a->filling->fill == bytes)
			finish_chunk(a);
		return;
	}
	if (nread == 0)
		return;
	if (nread == UV_ENOBUFS) {
		uv_read_stop(stream);
		a->reading = false;
		return;
	}
	if (nread != UV_EOF) {
		fprintf(stderr, "notify-libuv: reading the input: %s\n",
			uv_strerror((int)nread));
		a->failed = true;
		stop(a);
		return;
	}
	a->eof = true;
	a->reading = false;
	uv_read_stop(stream);
	if (a->filling && a->filling->fill % sizeof(float)) {
		fprintf(stderr,
			"notify-libuv: the input ends inside a sample\n");
		a->failed = true;
		stop(a);
		return;
	}
	if (a->filling && a->filling->fill > 0)
		finish_chunk(a);
	else if (a->filling)
		a->filling->state = FREE;
	a->filling = NULL;
	if (a->in_flight == 0)
		stop(a);
}

/* The result of slot `s` against the CPU: each sample plus iters. */
static size_t
check(const struct app *a, const struct slot *s)
{
	const float *in = clq_host_array_data(s->in);
	const float *out = clq_host_array_data(s->out);
	size_t n = s->fill / sizeof(float), bad = 0;

	for (size_t i = 0; i < n; i++)
		bad += out[i] != in[i] + (float)a->opt->iters;
	return bad;
}

/* The notifier's descriptor is readable: chunks are done. */
static void
on_notify(uv_poll_t *h, int status, int events)
{
	struct app *a = h->data;
	struct clq_completion c[MAX_SLOTS];
	size_t n;
	int rc;

	(void)events;
	if (status < 0) {
		fprintf(stderr, "notify-libuv: polling the notifier: %s\n",
			uv_strerror(status));
		a->failed = true;
		stop(a);
		return;
	}
	a->wakeups++;
	rc = clq_notifier_drain(a->notifier, c, MAX_SLOTS, &n);
	if (rc < 0) {
		fail("draining the notifier", rc);
		a->failed = true;
		stop(a);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct slot *s = c[i].user_data;

		clq_event_unref(c[i].event);
		if (c[i].status != CL_COMPLETE) {
			fprintf(stderr,
				"notify-libuv: chunk %zu failed on the device "
				"(status %d)\n",
				s->chunk, c[i].status);
			a->failures++;
			s->fill = 0; /* nothing to write */
		} else {
			a->mismatches += check(a, s);
		}
		s->state = DONE;
	}
	write_next(a);
}

/* Slot `s` is written (or has nothing to write, or its write was given
 * up): it is free again. */
static void
release(struct app *a, struct slot *s)
{
	if (a->writing == s)
		a->writing = NULL;
	s->state = FREE;
	a->in_flight--;
	a->chunks_done++;
	a->next_write++;
}

static void on_written(uv_fs_t *req);

/* Writes what is left of slot `s`'s result; 0, or -1 after saying why. */
static int
write_rest(struct app *a, struct slot *s)
{
	uv_buf_t buf =
		uv_buf_init((char *)clq_host_array_data(s->out) + s->written,
			    (unsigned)(s->fill - s->written));
	int rc;

	a->write_req.data = a;
	rc = uv_fs_write(&a->loop, &a->write_req, a->output_fd, &buf, 1, -1,
			 on_written);
	if (rc < 0) {
		fprintf(stderr, "notify-libuv: writing %s: %s\n",
			a->opt->output, uv_strerror(rc));
		return -1;
	}
	return 0;
}

/* The output can take more after an EAGAIN. */
static void
on_writable(uv_poll_t *h, int status, int events)
{
	struct app *a = h->data;

	(void)events;
	uv_poll_stop(h);
	if (status < 0)
		fprintf(stderr, "notify-libuv: polling %s: %s\n",
			a->opt->output, uv_strerror(status));
	if (status < 0 || a->stopping || write_rest(a, a->writing) < 0) {
		a->failed = true;
		release(a, a->writing);
		stop(a);
	}
}

/* The output is non-blocking and full (EAGAIN): poll it for writability
 * rather than retrying at once. 0, or -1 after saying why. */
static int
wait_writable(struct app *a)
{
	int rc;

	if (!a->out_poll_open) {
		if ((rc = uv_poll_init(&a->loop, &a->out_poll, a->output_fd)) <
		    0) {
			fprintf(stderr, "notify-libuv: polling %s: %s\n",
				a->opt->output, uv_strerror(rc));
			return -1;
		}
		a->out_poll_open = true;
		a->out_poll.data = a;
	}
	if ((rc = uv_poll_start(&a->out_poll, UV_WRITABLE, on_writable)) < 0) {
		fprintf(stderr, "notify-libuv: polling %s: %s\n",
			a->opt->output, uv_strerror(rc));
		return -1;
	}
	return 0;
}

static void
on_written(uv_fs_t *req)
{
	struct app *a = req->data;
	struct slot *s = a->writing;
	ssize_t result = req->result;
	int more = -1; /* 0: the rest is on its way */

	uv_fs_req_cleanup(req);
	if (result > 0) {
		s->written += (size_t)result;
		if (s->written == s->fill) {
			release(a, s);
			write_next(a);
			return;
		}
		a->short_writes++;
		if (!a->stopping)
			more = write_rest(a, s);
	} else if (result == UV_EAGAIN) {
		if (!a->stopping)
			more = wait_writable(a);
	} else {
		fprintf(stderr, "notify-libuv: writing %s: %s\n",
			a->opt->output,
			result < 0 ? uv_strerror((int)result)
				   : "nothing written");
	}
	if (more == 0)
		return;
	a->failed = true;
	release(a, s);
	stop(a);
}

/*
 * Writes the next chunks in stream order once they are done, one at a
 * time (a failed chunk has nothing to write); then reads again if a slot
 * is free, or stops once the input has ended and every chunk is out.
 */
static void
write_next(struct app *a)
{
	while (!a->writing && !a->stopping) {
		struct slot *s = NULL;

		for (size_t i = 0; i < a->opt->slots; i++)
			if (a->slots[i].state == DONE &&
			    a->slots[i].chunk == a->next_write)
				s = &a->slots[i];
		if (!s)
			break;
		if (s->fill == 0) {
			release(a, s);
			continue;
		}
		s->state = WRITING;
		s->written = 0;
		a->writing = s;
		if (write_rest(a, s) < 0) {
			a->failed = true;
			release(a, s);
		}
	}
	if (a->failed || a->stopping) {
		stop(a);
		return;
	}
	if (!a->reading && !a->eof && free_slot(a)) {
		int rc = uv_read_start((uv_stream_t *)&a->input, on_alloc,
				       on_read);

		if (rc < 0) {
			fprintf(stderr, "notify-libuv: reading the input: %s\n",
				uv_strerror(rc));
			a->failed = true;
			stop(a);
			return;
		}
		a->reading = true;
	}
	if (a->eof && a->in_flight == 0)
		stop(a);
}

/* Closes the handles; the loop ends once they are closed. A write in
 * flight ends on its own. */
static void
stop(struct app *a)
{
	a->stopping = true;
	if (!uv_is_closing((uv_handle_t *)&a->input))
		uv_close((uv_handle_t *)&a->input, NULL);
	if (!uv_is_closing((uv_handle_t *)&a->notify_poll))
		uv_close((uv_handle_t *)&a->notify_poll, NULL);
	if (a->out_poll_open && !uv_is_closing((uv_handle_t *)&a->out_poll))
		uv_close((uv_handle_t *)&a->out_poll, NULL);
}

/*
 * Sets up the loop's handles and runs it until they are closed. On any
 * error the handles made so far are closed, and the loop run until their
 * close callbacks have run, so that uv_loop_close() finds nothing open.
 */
static int
run_loop(struct app *a, int input_fd)
{
	const char *what = "setting up the loop";
	bool pipe_made = false, poll_made = false;
	int rc;

	a->started = example_now();
	if ((rc = uv_loop_init(&a->loop)) < 0) {
		fprintf(stderr, "notify-libuv: %s: %s\n", what,
			uv_strerror(rc));
		return -1;
	}
	a->loop.data = a;
	if ((rc = uv_pipe_init(&a->loop, &a->input, 0)) < 0)
		goto fail;
	pipe_made = true;
	a->input.data = a;
	if ((rc = uv_pipe_open(&a->input, input_fd)) < 0)
		goto fail;
	a->input_open = true; /* uv_close() closes the descriptor */
	if ((rc = uv_poll_init(&a->loop, &a->notify_poll,
			       clq_notifier_get_fd(a->notifier))) < 0)
		goto fail;
	poll_made = true;
	a->notify_poll.data = a;
	what = "starting the loop";
	if ((rc = uv_read_start((uv_stream_t *)&a->input, on_alloc, on_read)) <
	    0)
		goto fail;
	a->reading = true;
	if ((rc = uv_poll_start(&a->notify_poll, UV_READABLE, on_notify)) < 0)
		goto fail;
	uv_run(&a->loop, UV_RUN_DEFAULT);
	goto close;
fail:
	fprintf(stderr, "notify-libuv: %s: %s\n", what, uv_strerror(rc));
	a->failed = true;
	if (pipe_made)
		uv_close((uv_handle_t *)&a->input, NULL);
	if (poll_made)
		uv_close((uv_handle_t *)&a->notify_poll, NULL);
	uv_run(&a->loop, UV_RUN_DEFAULT);
close:
	if ((rc = uv_loop_close(&a->loop)) < 0) {
		fprintf(stderr, "notify-libuv: closing the loop: %s\n",
			uv_strerror(rc));
		return -1;
	}
	return a->failed ? -1 : 0;
}

int
main(int argc, char **argv)
{
	struct options opt;
	struct app a;
	pid_t producer = -1;
	int input_fd = 0, rc, wstatus = 0;
	double seconds;

	if ((rc = parse_options(argc, argv, &opt)) != 0)
		return rc > 0 ? EXIT_SUCCESS : 2;
	signal(SIGPIPE, SIG_IGN);
	if (!opt.from_stdin) {
		int fds[2];

		if (pipe(fds) < 0 || (producer = fork()) < 0) {
			perror("notify-libuv: starting the producer");
			return EXIT_FAILURE;
		}
		if (producer == 0) {
			close(fds[0]);
			produce(fds[1], &opt);
		}
		close(fds[1]);
		input_fd = fds[0];
	} else if (uv_guess_handle(0) != UV_NAMED_PIPE) {
		fprintf(stderr, "notify-libuv: --stdin wants a pipe\n");
		return EXIT_FAILURE;
	}

	a = (struct app){.opt = &opt, .output_fd = 1};
	if (!opt.from_stdin || opt.chunks_given)
		a.expected = opt.chunks * opt.chunk_elems * sizeof(float);
	if (strcmp(opt.output, "-") != 0) {
		a.output_fd =
			open(opt.output, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (a.output_fd < 0) {
			fprintf(stderr, "notify-libuv: %s: %s\n", opt.output,
				strerror(errno));
			return EXIT_FAILURE;
		}
	}
	clq_set_log_handler(example_log_to_stderr, NULL);
	rc = app_open(&a);
	if (rc == CLQ_SUCCESS && run_loop(&a, input_fd) < 0)
		a.failed = true;
	seconds = example_now() - a.started;
	app_close(&a);
	if (a.output_fd != 1)
		close(a.output_fd);
	if (!a.input_open)
		close(input_fd); /* a producer still writing gets EPIPE */
	if (producer > 0) {
		while (waitpid(producer, &wstatus, 0) < 0 && errno == EINTR)
			;
		if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
			/* it wrote everything */
		} else if (WIFEXITED(wstatus) &&
			   WEXITSTATUS(wstatus) == PRODUCER_READER_GONE &&
			   (a.failed || rc < 0)) {
			/* The loop gave up first (said why above) and closed
			 * the pipe: the producer's EPIPE is its consequence. */
			fprintf(stderr,
				"notify-libuv: stopped reading after %zu of "
				"the producer's %zu bytes, so its writes "
				"failed (EPIPE)\n",
				a.bytes_in, a.expected);
		} else {
			if (WIFEXITED(wstatus))
				fprintf(stderr,
					"notify-libuv: the producer failed "
					"(exit status %d%s)\n",
					WEXITSTATUS(wstatus),
					WEXITSTATUS(wstatus) ==
							PRODUCER_READER_GONE
						? ": EPIPE"
						: "");
			else
				fprintf(stderr,
					"notify-libuv: the producer failed "
					"(signal %d)\n",
					WIFSIGNALED(wstatus) ? WTERMSIG(wstatus)
							     : 0);
			a.failed = true;
		}
	}
	if (rc < 0)
		return EXIT_FAILURE;
	fprintf(stderr,
		"notify-libuv: %zu chunks, %.1f MiB in %.3f s, %zu slots "
		"(at most %zu in flight), %zu wake-ups of the notifier "
		"(%s), %zu short writes; %zu samples differ from the CPU "
		"reference, %zu chunks failed\n",
		a.chunks_done, a.bytes_in / 1048576.0, seconds, opt.slots,
		a.max_in_flight, a.wakeups,
		opt.poll > 0 ? "polling" : "callbacks", a.short_writes,
		a.mismatches, a.failures);
	if (a.expected && a.bytes_in != a.expected) {
		fprintf(stderr,
			"notify-libuv: %zu bytes read, %zu expected (%zu "
			"chunks of %zu bytes)%s\n",
			a.bytes_in, a.expected, opt.chunks,
			opt.chunk_elems * sizeof(float),
			a.eof && a.bytes_in < a.expected
				? ": the input ended early"
				: "");
		a.failed = true;
	}
	return a.failed || a.mismatches || a.failures ? EXIT_FAILURE
						      : EXIT_SUCCESS;
}
