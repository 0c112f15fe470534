/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A double-buffered spectrometer: chunks of 8-bit (or float) samples are
 * uploaded, cut into spectra of --fft samples, transformed by clFFT (a
 * library that knows nothing of clq) on a clq queue, and their power
 * summed per bin by a clq kernel, then downloaded. Three queues let the
 * uploads, the transforms and the downloads of different chunks overlap;
 * two device buffers per stage let a chunk go up while the one before is
 * transformed. clFFT's events are wrapped as clq events, so they order the
 * pipeline and appear on its timeline like clq's own.
 *
 * Checked against the CPU: each chunk is a tone in noise, its bin moving
 * from chunk to chunk; every chunk's peak bin and total power (Parseval:
 * the samples' energy) must match, and the first chunk's spectrum must
 * match a direct DFT bin by bin. Exits 1 on a mismatch.
 *
 * usage: spectrum [--fft N] [--batch N] [--chunks N] [--float]
 *                 [--serial | --compare] [--svg FILE]
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clFFT.h>

#include "example.h"

#define PROGRAM "spectrum"

#if defined(__SANITIZE_ADDRESS__)
const char *__asan_default_options(void);

/* clFFT 2.12 itself deletes a plan through a pointer of another type
 * (FFTRepo::deletePlan, from clfftDestroyPlan): an ASan report about
 * clFFT, not this program, turned off in sanitizer builds only. */
const char *
__asan_default_options(void)
{
	return "new_delete_type_mismatch=0";
}
#endif
#define PI 3.14159265358979323846

struct options {
	size_t fft, batch, chunks;
	int floats;  /* float samples instead of 8-bit */
	int serial;  /* one queue, one chunk at a time */
	int compare; /* run pipelined and serial, report both */
	const char *svg;
};

/* What a run needs on the device. */
struct spectrometer {
	const struct options *opt;
	struct clq_context *ctx;
	struct clq_queue *up, *compute, *down;
	struct clq_kernel *to_float, *power;
	clfftPlanHandle plan;
	int have_plan;
	size_t bins;			      /* fft / 2 + 1 */
	struct clq_device_array *raw[2];      /* samples as uploaded */
	struct clq_device_array *samples[2];  /* as float (8-bit input) */
	struct clq_device_array *spectra[2];  /* batch x bins complex */
	struct clq_device_array *power_of[2]; /* bins */
};

static int
fail(const char *what, int rc)
{
	return example_report(PROGRAM, what, rc);
}

static int
parse(int argc, char **argv, struct options *o)
{
	*o = (struct options){.fft = 1024, .batch = 16, .chunks = 8};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		size_t *n = !strcmp(a, "--fft")	     ? &o->fft
			    : !strcmp(a, "--batch")  ? &o->batch
			    : !strcmp(a, "--chunks") ? &o->chunks
						     : NULL;

		if (n && v &&
		    example_parse_size(PROGRAM, a + 2, v, 1, SIZE_MAX, n) ==
			    0) {
			i++;
		} else if (!strcmp(a, "--float")) {
			o->floats = 1;
		} else if (!strcmp(a, "--serial")) {
			o->serial = 1;
		} else if (!strcmp(a, "--compare")) {
			o->compare = 1;
		} else if (!strcmp(a, "--svg") && v) {
			o->svg = argv[++i];
		} else {
			fprintf(stderr,
				"usage: %s [--fft N] [--batch N] [--chunks N] "
				"[--float] [--serial | --compare] [--svg "
				"FILE]\n",
				PROGRAM);
			return 1;
		}
	}
	if (o->fft % 2 || o->fft < 32 || o->fft > (1u << 24) ||
	    o->batch > (1u << 26) / o->fft) {
		fprintf(stderr,
			"%s: --fft must be even, 32 to 2^24, and "
			"--fft times --batch at most 2^26\n",
			PROGRAM);
		return 1;
	}
	if (o->chunks > 65536) {
		fprintf(stderr, "%s: --chunks must be 1 to 65536\n", PROGRAM);
		return 1;
	}
	if (o->serial && o->compare) {
		fprintf(stderr,
			"%s: --serial and --compare exclude each other\n",
			PROGRAM);
		return 1;
	}
	return 0;
}

/* Chunk c: a tone at bin 5 + 7c (mod the usable bins) in uniform noise,
 * 8-bit or float, `n` samples; returns the tone's bin. */
static size_t
make_chunk(const struct options *o, size_t c, void *data, size_t n)
{
	size_t bin = 5 + (7 * c) % (o->fft / 2 - 10);
	unsigned state = 12345u + (unsigned)c;

	for (size_t t = 0; t < n; t++) {
		double noise, x;

		state = state * 1664525u + 1013904223u;
		noise = ((double)(state >> 8) / (1 << 24) - 0.5) * 16.0;
		x = 40.0 * cos(2 * PI * (double)bin * (double)(t % o->fft) /
			       (double)o->fft) +
		    noise;
		if (o->floats)
			((float *)data)[t] = (float)x;
		else
			((signed char *)data)[t] = (signed char)lrint(x);
	}
	return bin;
}

static double
sample(const struct options *o, const void *data, size_t t)
{
	return o->floats ? ((const float *)data)[t]
			 : ((const signed char *)data)[t];
}

/* The spectrum of `power` (bins values) against the chunk's samples:
 * the peak bin and Parseval's total; with `dft`, every bin against a
 * direct DFT. Returns 0 when all agree. */
static int
check_chunk(const struct options *o, size_t c, const void *data, size_t bin,
	    const float *power, int dft)
{
	size_t n = o->fft, bins = n / 2 + 1, peak = 0;
	double energy = 0.0, total = power[0] + power[n / 2];

	for (size_t t = 0; t < n * o->batch; t++)
		energy += sample(o, data, t) * sample(o, data, t);
	for (size_t k = 1; k < bins; k++) {
		if (power[k] > power[peak])
			peak = k;
		if (k < n / 2)
			total += 2.0 * power[k];
	}
	if (peak != bin ||
	    fabs(total - energy * (double)n) > 1e-4 * energy * (double)n) {
		fprintf(stderr,
			"%s: chunk %zu: peak at bin %zu (tone at %zu), total "
			"power %g (Parseval: %g)\n",
			PROGRAM, c, peak, bin, total, energy * (double)n);
		return 1;
	}
	for (size_t k = 0; dft && k < bins; k++) {
		double want = 0.0;

		for (size_t s = 0; s < o->batch; s++) {
			double re = 0.0, im = 0.0;

			for (size_t t = 0; t < n; t++) {
				double x = sample(o, data, s * n + t);
				double phase = -2 * PI * (double)((k * t) % n) /
					       (double)n;

				re += x * cos(phase);
				im += x * sin(phase);
			}
			want += re * re + im * im;
		}
		if (fabs(power[k] - want) > 1e-4 * power[peak]) {
			fprintf(stderr,
				"%s: chunk %zu, bin %zu: %g, the DFT gives "
				"%g\n",
				PROGRAM, c, k, power[k], want);
			return 1;
		}
	}
	return 0;
}

static int
open_device(struct spectrometer *s)
{
	static const char *const dirs[] = {SPECTRUM_CL_DIR};
	const struct options *o = s->opt;
	size_t n = o->fft * o->batch, shape[2] = {o->batch, s->bins};
	struct clq_program *program = NULL;
	cl_command_queue cq;
	int rc;

	if ((rc = clq_context_create_default(&s->ctx)) < 0)
		return fail("creating a context", rc);
	clq_context_set_log_handler(s->ctx, example_log_to_stderr, NULL);
	if ((rc = clq_queue_create(s->ctx, CLQ_QUEUE_PROFILING, &s->compute)) <
	    0)
		return fail("creating a queue", rc);
	/* serial: every stage on one queue */
	s->up = clq_queue_ref(s->compute);
	s->down = clq_queue_ref(s->compute);
	if (!o->serial) {
		clq_queue_unref(s->up);
		clq_queue_unref(s->down);
		s->up = s->down = NULL;
		if ((rc = clq_queue_create(s->ctx, CLQ_QUEUE_PROFILING,
					   &s->up)) < 0 ||
		    (rc = clq_queue_create(s->ctx, CLQ_QUEUE_PROFILING,
					   &s->down)) < 0)
			return fail("creating a queue", rc);
	}
	for (int b = 0; b < 2; b++) {
		if ((rc = clq_device_array_create(
			     s->ctx,
			     o->floats ? CLQ_DTYPE_FLOAT32 : CLQ_DTYPE_INT8, 1,
			     &n, NULL, &s->raw[b])) < 0 ||
		    (!o->floats && (rc = clq_device_array_create(
					    s->ctx, CLQ_DTYPE_FLOAT32, 1, &n,
					    NULL, &s->samples[b])) < 0) ||
		    (rc = clq_device_array_create(s->ctx, CLQ_DTYPE_COMPLEX64,
						  2, shape, NULL,
						  &s->spectra[b])) < 0 ||
		    (rc = clq_device_array_create(s->ctx, CLQ_DTYPE_FLOAT32, 1,
						  &s->bins, NULL,
						  &s->power_of[b])) < 0)
			return fail("allocating device arrays", rc);
		if (o->floats)
			s->samples[b] = clq_device_array_ref(s->raw[b]);
	}
	rc = clq_program_create_from_file(s->ctx, "spectrum.cl", dirs, 1, NULL,
					  &program);
	if (rc == CLQ_SUCCESS &&
	    (rc = clq_kernel_create(program, "to_float", &s->to_float)) ==
		    CLQ_SUCCESS)
		rc = clq_kernel_create(program, "power", &s->power);
	clq_program_unref(program);
	if (rc < 0)
		return fail("building spectrum.cl", rc);
	/* clFFT plans on the raw context and queue clq hands out */
	cq = clq_queue_get_cl(s->compute);
	if ((rc = clfftCreateDefaultPlan(&s->plan, clq_context_get_cl(s->ctx),
					 CLFFT_1D, &o->fft)) ||
	    !(s->have_plan = 1) ||
	    (rc = clfftSetPlanPrecision(s->plan, CLFFT_SINGLE)) ||
	    (rc = clfftSetLayout(s->plan, CLFFT_REAL,
				 CLFFT_HERMITIAN_INTERLEAVED)) ||
	    (rc = clfftSetResultLocation(s->plan, CLFFT_OUTOFPLACE)) ||
	    (rc = clfftSetPlanBatchSize(s->plan, o->batch)) ||
	    (rc = clfftSetPlanDistance(s->plan, o->fft, s->bins)) ||
	    (rc = clfftBakePlan(s->plan, 1, &cq, NULL, NULL))) {
		fprintf(stderr, "%s: clFFT plan: status %d\n", PROGRAM, rc);
		return rc < 0 ? rc : CLQ_ERROR_INVALID_ARGUMENT;
	}
	return CLQ_SUCCESS;
}

static void
close_device(struct spectrometer *s)
{
	if (s->have_plan)
		clfftDestroyPlan(&s->plan);
	for (int b = 0; b < 2; b++) {
		clq_device_array_unref(s->raw[b]);
		clq_device_array_unref(s->samples[b]);
		clq_device_array_unref(s->spectra[b]);
		clq_device_array_unref(s->power_of[b]);
	}
	clq_kernel_unref(s->to_float);
	clq_kernel_unref(s->power);
	clq_queue_unref(s->up);
	clq_queue_unref(s->compute);
	clq_queue_unref(s->down);
	clq_context_unref(s->ctx);
}

/*
 * The FFT of buffer b by clFFT, on the compute queue after `wait`: its
 * event, wrapped, is a clq event like any other (and on the timeline).
 */
static int
enqueue_fft(struct spectrometer *s, int b, struct clq_event *wait,
	    struct clq_timeline *tl, struct clq_event **fft_out)
{
	cl_command_queue cq = clq_queue_get_cl(s->compute);
	cl_mem in = clq_device_array_get_cl(s->samples[b]);
	cl_mem out = clq_device_array_get_cl(s->spectra[b]);
	cl_event w = wait ? clq_event_get_cl(wait) : NULL, ev = NULL;
	int rc;

	/* OpenCL 1.2 section 5.13: the waited-for queue must be flushed */
	if (wait && (rc = clq_queue_flush(s->up)) < 0)
		return rc;
	rc = clfftEnqueueTransform(s->plan, CLFFT_FORWARD, 1, &cq, wait ? 1 : 0,
				   wait ? &w : NULL, &ev, &in, &out, NULL);
	if (rc) {
		fprintf(stderr, "%s: clfftEnqueueTransform: status %d\n",
			PROGRAM, rc);
		return rc < 0 ? rc : CLQ_ERROR_INVALID_ARGUMENT;
	}
	rc = clq_event_wrap(s->ctx, ev, fft_out);
	clReleaseEvent(ev);
	if (rc == CLQ_SUCCESS && tl)
		rc = clq_timeline_add_event(tl, *fft_out, "compute", "clFFT");
	return rc;
}

/*
 * Runs every chunk through the pipeline: chunk c uses buffers c % 2. An
 * upload waits for the stage that last read its buffer (chunk c - 2), the
 * power kernel for the download that last read its output. Returns the
 * wall time in `*seconds`.
 */
static int
run(struct spectrometer *s, struct clq_host_array **in,
    struct clq_host_array **out, struct clq_timeline *tl, double *seconds)
{
	const struct options *o = s->opt;
	size_t n = o->fft * o->batch, bins = s->bins;
	cl_uint bins32 = (cl_uint)bins, batch32 = (cl_uint)o->batch;
	struct clq_event *read_in[2] = {NULL}, *read_out[2] = {NULL};
	struct clq_event *last = NULL;
	double start = example_now();
	int rc = CLQ_SUCCESS;

	for (size_t c = 0; c < o->chunks && rc == CLQ_SUCCESS; c++) {
		int b = (int)(c % 2);
		struct clq_event *up = NULL, *fft = NULL, *pw = NULL;
		struct clq_arg conv[2] = {CLQ_ARG_IN(s->raw[b]),
					  CLQ_ARG_OUT(s->samples[b])};
		struct clq_arg pargs[4] = {
			CLQ_ARG_IN(s->spectra[b]), CLQ_ARG_OUT(s->power_of[b]),
			CLQ_ARG_VALUE(bins32), CLQ_ARG_VALUE(batch32)};

		rc = clq_device_array_set_async(s->raw[b], s->up, in[c],
						read_in + b, read_in[b] ? 1 : 0,
						&up);
		clq_event_unref(read_in[b]);
		read_in[b] = NULL;
		/* 8-bit samples become floats first (on the compute queue,
		 * which then orders the FFT after it) */
		if (rc == CLQ_SUCCESS && !o->floats)
			rc = clq_queue_enqueue_kernel(s->compute, s->to_float,
						      conv, 2, 1, &n, NULL, &up,
						      1, &read_in[b]);
		if (rc == CLQ_SUCCESS)
			rc = enqueue_fft(s, b, o->floats ? up : NULL, tl, &fft);
		if (rc == CLQ_SUCCESS && o->floats)
			read_in[b] = clq_event_ref(fft);
		if (rc == CLQ_SUCCESS)
			rc = clq_queue_enqueue_kernel(
				s->compute, s->power, pargs, 4, 1, &bins, NULL,
				read_out + b, read_out[b] ? 1 : 0, &pw);
		clq_event_unref(read_out[b]);
		read_out[b] = NULL;
		if (rc == CLQ_SUCCESS)
			rc = clq_device_array_get_async(s->power_of[b], s->down,
							out[c], &pw, 1,
							&read_out[b]);
		if (rc == CLQ_SUCCESS && o->serial)
			rc = clq_event_wait(read_out[b]);
		if (rc == CLQ_SUCCESS) {
			clq_event_unref(last);
			last = clq_event_ref(read_out[b]);
		}
		clq_event_unref(up);
		clq_event_unref(fft);
		clq_event_unref(pw);
	}
	if (rc == CLQ_SUCCESS && last)
		rc = clq_event_wait(last);
	*seconds = example_now() - start;
	/* on failure, nothing may still touch the host arrays */
	clq_context_finish(s->ctx);
	for (int b = 0; b < 2; b++) {
		clq_event_unref(read_in[b]);
		clq_event_unref(read_out[b]);
	}
	clq_event_unref(last);
	return rc;
}

/* One run, checked; its wall time in `*seconds`. */
static int
spectrometer(const struct options *o, double *seconds)
{
	struct spectrometer s = {.opt = o, .bins = o->fft / 2 + 1};
	size_t n = o->fft * o->batch;
	struct clq_host_array **in = calloc(o->chunks, sizeof(*in));
	struct clq_host_array **out = calloc(o->chunks, sizeof(*out));
	size_t *tone = calloc(o->chunks, sizeof(*tone));
	struct clq_timeline *tl = NULL;
	int rc = in && out && tone ? open_device(&s) : CL_OUT_OF_HOST_MEMORY;

	for (size_t c = 0; c < o->chunks && rc == CLQ_SUCCESS; c++) {
		if ((rc = clq_host_array_create(s.ctx,
						o->floats ? CLQ_DTYPE_FLOAT32
							  : CLQ_DTYPE_INT8,
						1, &n, NULL, &in[c])) < 0 ||
		    (rc = clq_host_array_create(s.ctx, CLQ_DTYPE_FLOAT32, 1,
						&s.bins, NULL, &out[c])) < 0)
			fail("allocating host arrays", rc);
		else
			tone[c] =
				make_chunk(o, c, clq_host_array_data(in[c]), n);
	}
	/* a warm-up run: the driver compiles kernels at their first launch */
	if (rc == CLQ_SUCCESS && (rc = run(&s, in, out, NULL, seconds)) < 0)
		fail("warming up", rc);
	if (rc == CLQ_SUCCESS && o->svg &&
	    ((rc = clq_timeline_create(s.ctx, &tl)) < 0 ||
	     (rc = clq_queue_set_timeline(s.compute, tl, "compute")) < 0 ||
	     (!o->serial &&
	      ((rc = clq_queue_set_timeline(s.up, tl, "upload")) < 0 ||
	       (rc = clq_queue_set_timeline(s.down, tl, "download")) < 0))))
		fail("setting up the timeline", rc);
	if (rc == CLQ_SUCCESS && (rc = run(&s, in, out, tl, seconds)) < 0)
		fail("running the pipeline", rc);
	for (size_t c = 0; c < o->chunks && rc == CLQ_SUCCESS; c++)
		if (check_chunk(o, c, clq_host_array_data(in[c]), tone[c],
				clq_host_array_data(out[c]), c == 0))
			rc = 1;
	/* every command, clFFT's included: upload, (to_float,) FFT, power,
	 * download per chunk */
	if (rc == CLQ_SUCCESS && tl && (rc = clq_timeline_flush(tl)) == 0 &&
	    clq_timeline_get_count(tl) != o->chunks * (o->floats ? 4 : 5)) {
		fprintf(stderr,
			"%s: the timeline holds %zu commands, not %zu\n",
			PROGRAM, clq_timeline_get_count(tl),
			o->chunks * (o->floats ? 4 : 5));
		rc = 1;
	}
	if (rc == CLQ_SUCCESS && tl) {
		FILE *f = fopen(o->svg, "w");

		if (!f || (rc = clq_timeline_write_svg(tl, f)) < 0)
			rc = fail("writing the timeline",
				  f ? rc : CLQ_ERROR_IO);
		if (f && fclose(f) != 0 && rc == CLQ_SUCCESS)
			rc = fail("writing the timeline", CLQ_ERROR_IO);
	}
	clq_timeline_unref(tl);
	for (size_t c = 0; c < o->chunks; c++) {
		if (in)
			clq_host_array_unref(in[c]);
		if (out)
			clq_host_array_unref(out[c]);
	}
	free(in);
	free(out);
	free(tone);
	close_device(&s);
	return rc;
}

int
main(int argc, char **argv)
{
	clfftSetupData setup = {clfftVersionMajor, clfftVersionMinor,
				clfftVersionPatch, 0};
	struct options o;
	double t[2] = {0, 0};
	int rc;

	if (parse(argc, argv, &o))
		return 2;
	if ((rc = clfftSetup(&setup))) {
		fprintf(stderr, "%s: clfftSetup: status %d\n", PROGRAM, rc);
		return 1;
	}
	rc = spectrometer(&o, &t[0]);
	if (rc == CLQ_SUCCESS && o.compare) {
		struct options serial = o;

		serial.serial = 1;
		serial.svg = NULL;
		rc = spectrometer(&serial, &t[1]);
	}
	clfftTeardown();
	if (rc != CLQ_SUCCESS)
		return 1;
	printf("%s: %zu chunks of %zu spectra of %zu %s samples: %.3f s, "
	       "%.1f Msamples/s%s\n",
	       PROGRAM, o.chunks, o.batch, o.fft, o.floats ? "float" : "8-bit",
	       t[0], (double)(o.chunks * o.batch * o.fft) / t[0] * 1e-6,
	       o.serial ? " (stages one after another)" : " (pipelined)");
	if (o.compare)
		printf("%s: stages one after another: %.3f s, %.1f "
		       "Msamples/s; pipelined is %.2fx\n",
		       PROGRAM, t[1],
		       (double)(o.chunks * o.batch * o.fft) / t[1] * 1e-6,
		       t[1] / t[0]);
	return 0;
}
