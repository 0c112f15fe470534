/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reference for examples/double-buffer: the same sequential loop and
 * the same three-queue pipeline, written with raw OpenCL calls (wait lists
 * on each command), on the same kind of host memory (clq host arrays, so
 * pinned where the platform pins) and the same scale kernel.
 *
 *   bench-pipeline CHUNK_MIB CHUNKS BUFFERS ITERS [REPEATS [PROFILING]]
 *
 * PROFILING (default 1) creates the queues with CL_QUEUE_PROFILING_ENABLE,
 * as the demo's are; 0 leaves it off.
 * Prints, per repeat, the sequential and pipelined wall times and the
 * speedup, then their medians; checks every output element (x + ITERS).
 * Run it next to `double-buffer --json` with the same sizes and the ITERS
 * the demo's --balance chose.
 *
 * Several devices in one process, the reference for `double-buffer
 * --devices`: CLQ_BENCH_DEVICES=SPEC,SPEC,... runs the whole benchmark on
 * each device at once, one thread per device, each making its own context,
 * queues and host memory on its own thread (CLQ_BENCH_CONTEXTS=main makes
 * them all on the main thread first, as the demo does). The threads start
 * each sequential loop and each pipeline together; per repeat, besides each
 * device's line, one line gives the span from the first pipeline's start
 * to the last one's end and the throughput of all devices together
 * (CHUNKS x CHUNK_MIB per device over that span, decimal GB/s).
 *
 * Several processes at once, one per device, the other reference:
 * CLQ_BENCH_START_AT=T (seconds since the epoch, as `date +%s.%N` prints;
 * at most a day ahead) starts repeat R's pipeline at T + R x S seconds,
 * not before, S from CLQ_BENCH_SLOT (default 1 s, an H200's repeat takes
 * about 0.15 s; raise it where a repeat runs longer, as on PoCL), and adds a line per repeat with the pipeline's start and end
 * in seconds since the epoch ("raw OpenCL epoch R: START END"), the one
 * clock that processes share:
 * tests/bench/scaling-devices.sh puts the processes' lines together.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <clq/clq.h>

#include "bench.h"

enum { MAX_REPEATS = 64, MAX_DEVICES = 8 };

/* CLQ_BENCH_SLOT's default: seconds from one repeat's pipeline start to
 * the next's (an H200's takes about 0.15 s with the sequential loop) */
static const double SLOT_S = 1.0;

/* repeat()'s answer when another device's thread failed */
enum { STOPPED = 1 };

/* The device threads' meeting point: a barrier that a failed thread
 * breaks for all. */
struct team {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t size, arrived;
	unsigned long generation;
	int failed;
};

/* One device's benchmark. */
struct bench {
	const char *spec; /* NULL: the default device (CLQ_DEVICE) */
	struct team *team;
	cl_command_queue_properties props;
	int repeats, rc;
	double seq[MAX_REPEATS], start[MAX_REPEATS], end[MAX_REPEATS];
	double start_at;     /* CLQ_BENCH_START_AT (0: none) */
	double slot;	     /* CLQ_BENCH_SLOT */
	double epoch_offset; /* epoch seconds minus bench_now() */
	struct clq_context *ctx;
	struct clq_program *prog;
	struct clq_kernel *k;
	struct clq_host_array *in_array, *out_array;
	size_t chunk_elems, chunks, buffers;
	cl_uint iters;
	cl_command_queue q[3]; /* upload, kernel, download */
	cl_kernel kernel;
	cl_mem *buf;
	float *in, *out;
	size_t local;
};

static cl_int
enqueue_scale(struct bench *b, cl_command_queue q, size_t buf, cl_uint n_wait,
	      const cl_event *wait, cl_event *ev)
{
	cl_uint n = (cl_uint)b->chunk_elems;
	cl_float one = 1.0f;
	size_t global = (b->chunk_elems + b->local - 1) / b->local * b->local;
	cl_int err;

	if ((err = clSetKernelArg(b->kernel, 0, sizeof(cl_mem),
				  &b->buf[buf])) != CL_SUCCESS ||
	    (err = clSetKernelArg(b->kernel, 1, sizeof(n), &n)) != CL_SUCCESS ||
	    (err = clSetKernelArg(b->kernel, 2, sizeof(one), &one)) !=
		    CL_SUCCESS ||
	    (err = clSetKernelArg(b->kernel, 3, sizeof(one), &one)) !=
		    CL_SUCCESS ||
	    (err = clSetKernelArg(b->kernel, 4, sizeof(b->iters), &b->iters)) !=
		    CL_SUCCESS)
		return err;
	return clEnqueueNDRangeKernel(q, b->kernel, 1, NULL, &global, &b->local,
				      n_wait, wait, ev);
}

static cl_int
run_sequential(struct bench *b)
{
	size_t bytes = b->chunk_elems * sizeof(float);
	cl_command_queue q = b->q[0];
	cl_int err = CL_SUCCESS;

	for (size_t c = 0; c < b->chunks && err == CL_SUCCESS; c++) {
		if ((err = clEnqueueWriteBuffer(q, b->buf[0], CL_FALSE, 0,
						bytes,
						b->in + c * b->chunk_elems, 0,
						NULL, NULL)) != CL_SUCCESS ||
		    (err = enqueue_scale(b, q, 0, 0, NULL, NULL)) !=
			    CL_SUCCESS ||
		    (err = clEnqueueReadBuffer(q, b->buf[0], CL_FALSE, 0, bytes,
					       b->out + c * b->chunk_elems, 0,
					       NULL, NULL)) != CL_SUCCESS)
			break;
		err = clFinish(q);
	}
	return err;
}

static cl_int
run_pipeline(struct bench *b, cl_event *ev)
{
	size_t bytes = b->chunk_elems * sizeof(float);
	cl_int err = CL_SUCCESS;

	for (size_t c = 0; c < b->chunks && err == CL_SUCCESS; c++) {
		size_t buf = c % b->buffers;
		cl_event *e = &ev[3 * c];
		cl_uint n_free = c >= b->buffers ? 1 : 0;
		const cl_event *free_ev =
			n_free ? &ev[3 * (c - b->buffers) + 2] : NULL;

		if ((err = clEnqueueWriteBuffer(
			     b->q[0], b->buf[buf], CL_FALSE, 0, bytes,
			     b->in + c * b->chunk_elems, n_free, free_ev,
			     &e[0])) != CL_SUCCESS ||
		    (err = enqueue_scale(b, b->q[1], buf, 1, &e[0], &e[1])) !=
			    CL_SUCCESS ||
		    (err = clEnqueueReadBuffer(b->q[2], b->buf[buf], CL_FALSE,
					       0, bytes,
					       b->out + c * b->chunk_elems, 1,
					       &e[1], &e[2])) != CL_SUCCESS)
			break;
		for (int s = 0; s < 3 && err == CL_SUCCESS; s++)
			err = clFlush(b->q[s]);
	}
	for (int s = 0; s < 3; s++) {
		cl_int ferr = clFinish(b->q[s]);

		if (err == CL_SUCCESS)
			err = ferr;
	}
	return err;
}

static size_t
count_mismatches(const struct bench *b)
{
	size_t bad = 0, total = b->chunks * b->chunk_elems;

	for (size_t i = 0; i < total; i++)
		bad += b->out[i] != b->in[i] + (float)b->iters;
	return bad;
}

/* Waits until every device's thread has come here; -1 when one failed
 * (then, with `failed`, says so to the others first). */
static int
team_meet(struct team *t, int failed)
{
	int rc;

	if (!t)
		return failed ? -1 : 0;
	pthread_mutex_lock(&t->lock);
	if (failed)
		t->failed = 1;
	if (++t->arrived == t->size) {
		t->arrived = 0;
		t->generation++;
		pthread_cond_broadcast(&t->cond);
	} else {
		unsigned long gen = t->generation;

		while (gen == t->generation && !t->failed)
			pthread_cond_wait(&t->cond, &t->lock);
	}
	if (t->failed)
		pthread_cond_broadcast(&t->cond);
	rc = t->failed ? -1 : 0;
	pthread_mutex_unlock(&t->lock);
	return rc;
}

/* Seconds since the epoch. */
static double
epoch_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CLQ_BENCH_START_AT: sleeps until `at`, seconds since the epoch (a
 * warning when it has passed). */
static void
wait_until(const struct bench *b, double at)
{
	double whole = floor(at);
	struct timespec until = {(time_t)whole, (long)((at - whole) * 1e9)};
	double late = epoch_now() - at;

	if (late > 0)
		fprintf(stderr,
			"bench-pipeline: warning: a start time passed %.3f s "
			"before %s was ready (CLQ_BENCH_START_AT; raise "
			"CLQ_BENCH_SLOT for the later repeats)\n",
			late, b->spec ? b->spec : "the default device");
	while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &until, NULL) ==
	       EINTR)
		;
}

/* One repeat: sequential, check, pipeline, check; each run starts when
 * every device is ready for it, the pipeline not before `at` seconds
 * since the epoch (0: at once). */
static int
repeat(struct bench *b, cl_event *ev, double at, double *seq, double *start,
       double *end)
{
	size_t total = b->chunks * b->chunk_elems;
	double t0;
	cl_int err;

	memset(b->out, 0, total * sizeof(float));
	if (team_meet(b->team, 0) < 0)
		return STOPPED;
	t0 = bench_now();
	err = run_sequential(b);
	*seq = bench_now() - t0;
	if (err != CL_SUCCESS || count_mismatches(b))
		return err != CL_SUCCESS ? err : CLQ_ERROR_COMMAND_FAILED;
	memset(b->out, 0, total * sizeof(float));
	if (at > 0)
		wait_until(b, at);
	if (team_meet(b->team, 0) < 0)
		return STOPPED;
	*start = bench_now();
	err = run_pipeline(b, ev);
	*end = bench_now();
	for (size_t i = 0; i < 3 * b->chunks; i++) {
		if (ev[i])
			clReleaseEvent(ev[i]);
		ev[i] = NULL;
	}
	if (err != CL_SUCCESS || count_mismatches(b))
		return err != CL_SUCCESS ? err : CLQ_ERROR_COMMAND_FAILED;
	return CLQ_SUCCESS;
}

/* Every repeat on one device, timed; a failure breaks the team. */
static int
run_all(struct bench *b)
{
	cl_event *ev = calloc(3 * b->chunks, sizeof(*ev));
	int rc = ev ? CLQ_SUCCESS : CL_OUT_OF_HOST_MEMORY;

	b->epoch_offset = epoch_now() - bench_now();
	for (int r = 0; r < b->repeats && rc == CLQ_SUCCESS; r++)
		rc = repeat(b, ev,
			    b->start_at > 0 ? b->start_at + r * b->slot : 0,
			    &b->seq[r], &b->start[r], &b->end[r]);
	free(ev);
	return rc;
}

static void
fill_input(struct bench *b)
{
	uint64_t x = 0x9E3779B97F4A7C15u;

	for (size_t i = 0; i < b->chunks * b->chunk_elems; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b->in[i] = (float)(x % (1u << 20));
	}
}

/* One device's context, program, host memory, queues and buffers. */
static int
setup(struct bench *b)
{
	size_t total = b->chunks * b->chunk_elems;
	struct clq_device *dev = NULL;
	cl_int err = CL_SUCCESS;
	int rc;

	b->buf = calloc(b->buffers, sizeof(*b->buf));
	if (!b->buf)
		return CL_OUT_OF_HOST_MEMORY;
	if (b->spec) {
		rc = clq_device_select(b->spec, &dev);
		if (rc == CLQ_SUCCESS)
			rc = clq_context_create(dev, &b->ctx);
		clq_device_unref(dev);
	} else {
		rc = clq_context_create_default(&b->ctx);
	}
	if (rc < 0 ||
	    (rc = clq_host_array_create(b->ctx, CLQ_DTYPE_FLOAT32, 1, &total,
					NULL, &b->in_array)) < 0 ||
	    (rc = clq_host_array_create(b->ctx, CLQ_DTYPE_FLOAT32, 1, &total,
					NULL, &b->out_array)) < 0 ||
	    (rc = clq_program_create_from_file(b->ctx, "scale.cl", NULL, 0,
					       NULL, &b->prog)) < 0 ||
	    (rc = clq_kernel_create(b->prog, "scale", &b->k)) < 0)
		return rc;
	b->in = clq_host_array_data(b->in_array);
	b->out = clq_host_array_data(b->out_array);
	b->kernel = clq_kernel_get_cl(b->k);
	b->local = clq_kernel_get_work_group_size(b->k);
	if (b->local > 256)
		b->local = 256;
	for (int s = 0; s < 3 && err == CL_SUCCESS; s++)
		b->q[s] = clCreateCommandQueue(
			clq_context_get_cl(b->ctx),
			clq_device_get_cl(clq_context_get_device(b->ctx)),
			b->props, &err);
	for (size_t i = 0; i < b->buffers && err == CL_SUCCESS; i++)
		b->buf[i] = clCreateBuffer(
			clq_context_get_cl(b->ctx), CL_MEM_READ_WRITE,
			b->chunk_elems * sizeof(float), NULL, &err);
	fill_input(b);
	return err;
}

static void
teardown(struct bench *b)
{
	for (size_t i = 0; b->buf && i < b->buffers; i++)
		if (b->buf[i])
			clReleaseMemObject(b->buf[i]);
	for (int s = 0; s < 3; s++)
		if (b->q[s])
			clReleaseCommandQueue(b->q[s]);
	free(b->buf);
	clq_kernel_unref(b->k);
	clq_program_unref(b->prog);
	clq_host_array_unref(b->in_array);
	clq_host_array_unref(b->out_array);
	clq_context_unref(b->ctx);
}

/* Warm up (one chunk through the pipeline's queues), then every repeat.
 * A device whose context is not yet made (b->ctx NULL) makes it first. */
static void *
device_thread(void *arg)
{
	struct bench *b = arg;
	size_t chunks = b->chunks;
	double seq, start, end;
	cl_event ev[3] = {NULL};
	int rc = b->ctx ? CLQ_SUCCESS : setup(b);

	if (rc == CLQ_SUCCESS) {
		b->chunks = 1;
		rc = repeat(b, ev, 0, &seq, &start, &end);
		b->chunks = chunks;
	}
	if (rc == CLQ_SUCCESS)
		rc = run_all(b);
	if (rc < 0) {
		fprintf(stderr, "bench-pipeline: %s: %s\n",
			b->spec ? b->spec : "default device",
			rc == CLQ_ERROR_COMMAND_FAILED && b->ctx
				? "output differs from the CPU reference"
				: clq_error_name(rc));
		team_meet(b->team, 1);
	} else if (rc == STOPPED) {
		fprintf(stderr,
			"bench-pipeline: %s: stopped: another device "
			"failed\n",
			b->spec);
	}
	b->rc = rc;
	return NULL;
}

/* Each repeat's lines: every device's, then, with several, all of them
 * together; then the medians. */
static void
report(struct bench *b, size_t n)
{
	int repeats = b[0].repeats;
	double gb = (double)(b[0].chunks * b[0].chunk_elems * sizeof(float)) *
		    (double)n * 1e-9;
	double span[MAX_REPEATS], rate[MAX_REPEATS];

	for (int r = 0; r < repeats; r++) {
		double first = b[0].start[r], last = b[0].end[r];

		for (size_t k = 0; k < n; k++) {
			double pipe = b[k].end[r] - b[k].start[r];

			printf("raw OpenCL%s%s: sequential %.3f ms, pipelined "
			       "%.3f ms, speedup %.3fx\n",
			       n > 1 ? " " : "", n > 1 ? b[k].spec : "",
			       b[k].seq[r] * 1e3, pipe * 1e3,
			       b[k].seq[r] / pipe);
			first = b[k].start[r] < first ? b[k].start[r] : first;
			last = b[k].end[r] > last ? b[k].end[r] : last;
		}
		span[r] = last - first;
		rate[r] = gb / span[r];
		if (b[0].start_at > 0)
			printf("raw OpenCL epoch %d: %.6f %.6f\n", r,
			       first + b[0].epoch_offset,
			       last + b[0].epoch_offset);
		if (n > 1)
			printf("raw OpenCL, %zu devices at once: pipelined "
			       "%.3f ms, %.2f GB/s\n",
			       n, span[r] * 1e3, rate[r]);
	}
	for (size_t k = 0; k < n; k++) {
		double seq[MAX_REPEATS], pipe[MAX_REPEATS],
			speedup[MAX_REPEATS];

		for (int r = 0; r < repeats; r++) {
			seq[r] = b[k].seq[r];
			pipe[r] = b[k].end[r] - b[k].start[r];
			speedup[r] = seq[r] / pipe[r];
		}
		printf("raw OpenCL%s%s median of %d: sequential %.3f ms, "
		       "pipelined %.3f ms, speedup %.3fx, %.2f GB/s\n",
		       n > 1 ? " " : "", n > 1 ? b[k].spec : "", repeats,
		       bench_median(seq, (size_t)repeats) * 1e3,
		       bench_median(pipe, (size_t)repeats) * 1e3,
		       bench_median(speedup, (size_t)repeats),
		       gb / (double)n / bench_median(pipe, (size_t)repeats));
	}
	if (n > 1)
		printf("raw OpenCL, %zu devices at once, median of %d: "
		       "pipelined %.3f ms, %.2f GB/s\n",
		       n, repeats, bench_median(span, (size_t)repeats) * 1e3,
		       bench_median(rate, (size_t)repeats));
}

/* `text` as a number above 0 and at most `max` (an integer if
 * `integer`) into `*out`; -1 if it is not one. */
static int
parse_number(const char *text, double max, int integer, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || *end || !(v > 0) || v > max ||
	    (integer && v != (double)(long long)v))
		return -1;
	*out = v;
	return 0;
}

/* CLQ_BENCH_DEVICES's specs into b[].spec (copies in `specs`); the
 * number of devices, 0 when the list is malformed. */
static size_t
parse_devices(const char *list, char *specs, struct bench *b)
{
	size_t n = 0;

	strcpy(specs, list);
	for (char *save = NULL, *s = strtok_r(specs, ",", &save); s;
	     s = strtok_r(NULL, ",", &save)) {
		if (n == MAX_DEVICES)
			return 0;
		b[n++].spec = s;
	}
	return n;
}

int
main(int argc, char **argv)
{
	struct bench b[MAX_DEVICES] = {{0}};
	struct team team = {.lock = PTHREAD_MUTEX_INITIALIZER,
			    .cond = PTHREAD_COND_INITIALIZER};
	pthread_t tid[MAX_DEVICES];
	const char *list = getenv("CLQ_BENCH_DEVICES");
	const char *contexts = getenv("CLQ_BENCH_CONTEXTS");
	char *specs = list ? malloc(strlen(list) + 1) : NULL;
	size_t n = 1, started = 0;
	double mib, chunks, buffers, iters;
	int repeats = argc > 5 ? atoi(argv[5]) : 3;
	int rc = EXIT_SUCCESS;

	const char *start_at = getenv("CLQ_BENCH_START_AT");
	const char *slot_env = getenv("CLQ_BENCH_SLOT");
	double at = 0, slot = SLOT_S;

	/* at most a day ahead: further is a mistake (milliseconds, `date
	 * +%s%N`) that slept for ever, or past time_t, where the sleep
	 * failed and the repeats started at once */
	if (start_at && *start_at &&
	    parse_number(start_at, epoch_now() + 86400, 0, &at) < 0) {
		fprintf(stderr,
			"bench-pipeline: CLQ_BENCH_START_AT wants seconds "
			"since the epoch, at most a day ahead, not '%s'\n",
			start_at);
		free(specs);
		return 2;
	}
	if (slot_env && *slot_env &&
	    parse_number(slot_env, 3600, 0, &slot) < 0) {
		fprintf(stderr,
			"bench-pipeline: CLQ_BENCH_SLOT wants seconds between "
			"repeats' starts, above 0 and at most 3600, not '%s'\n",
			slot_env);
		free(specs);
		return 2;
	}
	if (argc < 5 || repeats < 1 || repeats > MAX_REPEATS) {
		fprintf(stderr,
			"usage: bench-pipeline CHUNK_MIB CHUNKS BUFFERS "
			"ITERS [REPEATS [PROFILING]]\n");
		free(specs);
		return 2;
	}
	if (list && (!specs || !(n = parse_devices(list, specs, b)))) {
		fprintf(stderr,
			"bench-pipeline: CLQ_BENCH_DEVICES wants 1 to %d "
			"comma-separated device specs, got '%s'\n",
			MAX_DEVICES, list);
		free(specs);
		return 2;
	}
	if (parse_number(argv[1], 4096, 0, &mib) < 0 ||
	    mib * 1048576.0 < sizeof(float) ||
	    parse_number(argv[2], 1 << 20, 1, &chunks) < 0 ||
	    parse_number(argv[3], 64, 1, &buffers) < 0 ||
	    parse_number(argv[4], 1 << 23, 1, &iters) < 0) {
		fprintf(stderr,
			"bench-pipeline: want CHUNK_MIB from 4 bytes to 4096, "
			"CHUNKS from 1 to 2^20, BUFFERS from 1 to 64, ITERS "
			"from 1 to 2^23 (integers but CHUNK_MIB)\n");
		free(specs);
		return 2;
	}
	for (size_t k = 0; k < n; k++) {
		b[k].chunk_elems = (size_t)(mib * 1048576.0 / sizeof(float));
		b[k].chunks = (size_t)chunks;
		b[k].buffers = (size_t)buffers;
		b[k].iters = (cl_uint)iters;
		b[k].repeats = repeats;
		b[k].props = argc > 6 && atoi(argv[6]) == 0
				     ? 0
				     : CL_QUEUE_PROFILING_ENABLE;
		b[k].team = n > 1 ? &team : NULL;
		b[k].start_at = at;
		b[k].slot = slot;
	}
	team.size = n;
	if (contexts && strcmp(contexts, "main") == 0) {
		for (size_t k = 0; k < n && rc == EXIT_SUCCESS; k++) {
			int err = setup(&b[k]);

			if (err < 0) {
				fprintf(stderr, "bench-pipeline: setup: %s\n",
					clq_error_name(err));
				rc = EXIT_FAILURE;
			}
		}
	}
	for (; started < n && rc == EXIT_SUCCESS; started++) {
		if (pthread_create(&tid[started], NULL, device_thread,
				   &b[started]) != 0) {
			fprintf(stderr, "bench-pipeline: no thread\n");
			team_meet(&team, 1);
			rc = EXIT_FAILURE;
			break;
		}
	}
	for (size_t k = 0; k < started; k++) {
		pthread_join(tid[k], NULL);
		if (b[k].rc != CLQ_SUCCESS)
			rc = EXIT_FAILURE;
	}
	if (rc == EXIT_SUCCESS)
		report(b, n);
	for (size_t k = 0; k < n; k++)
		teardown(&b[k]);
	free(specs);
	return rc;
}
