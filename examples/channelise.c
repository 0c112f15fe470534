/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * channelise: a radio-astronomy channeliser built as a clq sequence.
 *
 * A stream of complex 8-bit samples (a digitiser's output) arrives in
 * chunks, written by the host into pinned host arrays taken from a pool.
 * Each chunk goes through six stages:
 *
 *   upload     the chunk's samples to the device        (upload queue)
 *   pfb_fir    int8 to float and the polyphase filter   (compute queue)
 *              bank's FIR: T taps over N channels
 *   dft        an N-point DFT per spectrum (a radix-2   (compute queue)
 *              FFT, or with --dft direct the direct sum)
 *   transpose  time-major to channel-major              (compute queue)
 *   power      |X|^2 summed over A spectra              (compute queue)
 *   download   the accumulated powers to the host       (download queue)
 *
 * or, with --queues 6, each stage on a queue of its own.
 *
 * The stages are operations (clq/operation.h) whose slots say which
 * arrays each reads and writes; a sequence runs them on their queues and
 * orders them by those slots alone: the program writes no wait between
 * two stages, within a chunk or across chunks. The sequence also plans
 * the memory: a writer's and a reader's slot are one compound (one
 * array), and pfb_fir's output (dead once dft has read it) and
 * transpose's output (made after that) are one alias, scratch space that
 * the two take turns with. The pool's events keep the host from
 * overwriting a host array that an upload still reads.
 *
 * Each run is checked against a CPU reference in double precision, with a
 * tolerance derived from float rounding (see tolerance() below). The same
 * stages are also run one at a time, each waiting for the previous on the
 * host (--serial), which is the comparison the timeline's overlap and the
 * throughput are measured against. `channelise --help` lists the options.
 */
#include <complex.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clq/clq.h>

#include "example.h"

enum {
	ST_UPLOAD,
	ST_FIR,
	ST_DFT,
	ST_TRANSPOSE,
	ST_POWER,
	ST_DOWNLOAD,
	N_STAGES
};

static const char *const stage_names[N_STAGES] = {
	"upload", "pfb_fir", "dft", "transpose", "power", "download"};

/* What the verdict calls "overlapped", as the double-buffer demo does. */
#define OVERLAP_MIN 0.25
#define SPEEDUP_MIN 1.1

#define PI 3.14159265358979323846

/* The CPU reference's budget, in complex multiply-adds per run: beyond it
 * a spread of the outputs is checked rather than all (check_run()). */
#define CHECK_BUDGET (1e9)

struct options {
	const char *device;
	size_t channels, taps, spectra, accumulate, chunks, buffers;
	int queues; /* 3 or 6 */
	bool prefill;
	bool no_alias;
	bool direct; /* --dft direct: the direct sum, not the FFT */
	bool serial_only, pipelined_only;
	bool json;
	const char *svg;
};

/* One operation's user data: which stage it is, and the program's state. */
struct stage {
	struct chan *c;
	int index;
};

struct chan {
	const struct options *opt;
	struct clq_context *ctx;
	/* each stage's queue; with --queues 3 the compute stages share one */
	struct clq_queue *queue[N_STAGES];
	const char *queue_name[N_STAGES];
	struct clq_program *program;
	struct clq_kernel *kernel[N_STAGES]; /* NULL for the transfers */
	size_t dft_local;

	/* The stream's layout: a chunk carries `rows` x N samples, its own
	 * S x N and the T - 1 rows before them (the FIR's history). */
	size_t rows, blocks; /* S + T - 1, S / A */

	/* Inputs: a pool of pinned host arrays [rows * N, 2] of int8. */
	struct clq_host_array **inputs;
	struct clq_pool *pool;
	/* Output: every chunk's powers, [chunks * N, S / A] float32. */
	struct clq_host_array *output;
	float *output_data;
	/* Constant inputs of the kernels. */
	float *weights_data; /* [T][N], the prototype filter */
	struct clq_device_array *weights, *twiddle;

	struct clq_operation *op[N_STAGES];
	struct clq_sequence *seq;
	/* Whether the two scratch arrays share one allocation, and the
	 * bytes they take. */
	bool aliased;
	size_t scratch_bytes;

	/* Set before each chunk's stages run. */
	size_t chunk;		    /* output position */
	struct clq_host_array *src; /* the chunk's input */
	struct clq_event **ev;	    /* [chunk * N_STAGES + stage] or NULL */
};

struct run {
	const char *name;
	bool done;
	double wall;		/* host seconds, first chunk to the end */
	double stage[N_STAGES]; /* median device seconds per chunk */
	double span, overlap;	/* device seconds */
	size_t *data_id;	/* the stream chunk each chunk carried */
	struct clq_event **ev;
	size_t checked, total, bad;
	double worst_ratio, worst_rel; /* |error| / bound, |error| / value */
};

static int
fail(const char *what, int rc)
{
	return example_report("channelise", what, rc);
}

/* ---------------------------------------------------------------- options */

static void
usage(FILE *out)
{
	fputs("Usage: channelise [OPTION]...\n"
	      "A polyphase filter bank channeliser as a clq sequence: chunks "
	      "of complex\n"
	      "8-bit samples from a pool of pinned host arrays go through "
	      "upload,\n"
	      "pfb_fir, dft, transpose, power and download on several "
	      "queues, ordered\n"
	      "by the stages' slots alone; the buffers are planned by the "
	      "sequence,\n"
	      "two of them sharing one allocation (an alias). The same "
	      "stages are\n"
	      "also run one at a time, each waiting for the previous, and "
	      "every run\n"
	      "is checked against a CPU reference.\n\n"
	      "  --device SPEC     device, as clq_device_select() reads it\n"
	      "  --channels N      channels: the DFT length, a power of two "
	      "from 16\n"
	      "                    to 4096 (default 256)\n"
	      "  --taps T          FIR taps per channel, 1 to 64 (default 8)\n"
	      "  --spectra S       spectra per chunk, a multiple of A "
	      "(default 2048)\n"
	      "  --accumulate A    spectra summed into one power (default "
	      "64)\n"
	      "  --chunks C        chunks in a run (default 16)\n"
	      "  --buffers P       pinned host arrays in the pool, 1 to 64 "
	      "(default 3)\n"
	      "  --queues 3|6      3: upload, compute and download queues "
	      "(default);\n"
	      "                    6: a queue per stage, so that every "
	      "wait between\n"
	      "                    stages is the sequence's, across queues\n"
	      "  --dft fft|direct  the dft stage's kernel: a radix-2 FFT "
	      "(default) or\n"
	      "                    the direct sum (N^2 multiply-adds per "
	      "spectrum)\n"
	      "  --prefill         fill each host array once, before the "
	      "runs, instead\n"
	      "                    of writing every chunk's samples in the "
	      "run (the\n"
	      "                    figures are then the device's alone)\n"
	      "  --no-alias        give pfb_fir's and transpose's outputs "
	      "an array\n"
	      "                    each, instead of one allocation that "
	      "they take turns\n"
	      "                    with (an alias slot)\n"
	      "  --serial          run only the stages one at a time, each "
	      "waiting for\n"
	      "                    the previous\n"
	      "  --pipelined       run only the sequence\n"
	      "  --json            print the report as JSON\n"
	      "  --svg FILE        write the pipelined run's timeline (else "
	      "the serial\n"
	      "                    one's) as an SVG chart, a row per queue\n"
	      "  --help            show this help\n\n",
	      out);
	fprintf(out,
		"The verdict calls the pipeline \"overlapped\" when two or "
		"more queues ran\n"
		"commands together for at least %.0f%% of its device time and "
		"it ran at\n"
		"least %.2fx the speed of the serial run.\n\n"
		"Exits 0 when every run matches the CPU reference, 1 on a "
		"mismatch or an\n"
		"error, 2 on a bad option.\n",
		100 * OVERLAP_MIN, SPEEDUP_MIN);
}

/* Sizes the kernels can index with 32-bit integers, and that fit. */
static int
check_sizes(const struct options *o)
{
	size_t n = o->channels;
	double samples = (double)(o->spectra + o->taps - 1) * (double)n;

	if (n & (n - 1)) {
		fprintf(stderr,
			"channelise: --channels wants a power of two, not "
			"%zu\n",
			n);
		return -1;
	}
	if (o->spectra % o->accumulate) {
		fprintf(stderr,
			"channelise: --spectra (%zu) must be a multiple of "
			"--accumulate (%zu)\n",
			o->spectra, o->accumulate);
		return -1;
	}
	if (samples * 2 > (double)UINT32_MAX ||
	    samples * 8 * (double)o->buffers > 0.5 * (double)SIZE_MAX) {
		fprintf(stderr,
			"channelise: %zu spectra of %zu channels is too much "
			"for one chunk (at most 2^31 samples)\n",
			o->spectra, n);
		return -1;
	}
	return 0;
}

/* Returns 0 to run, 1 when --help was printed, -1 on a bad option. */
static int
parse_options(int argc, char **argv, struct options *opt)
{
	enum {
		O_CHANNELS = 256,
		O_TAPS,
		O_SPECTRA,
		O_ACCUMULATE,
		O_CHUNKS,
		O_BUFFERS,
		O_QUEUES,
		O_DFT,
		O_PREFILL,
		O_NO_ALIAS,
		O_SERIAL,
		O_PIPELINED,
		O_SVG,
	};
	static const struct option longopts[] = {
		{"device", required_argument, NULL, 'd'},
		{"channels", required_argument, NULL, O_CHANNELS},
		{"taps", required_argument, NULL, O_TAPS},
		{"spectra", required_argument, NULL, O_SPECTRA},
		{"accumulate", required_argument, NULL, O_ACCUMULATE},
		{"chunks", required_argument, NULL, O_CHUNKS},
		{"buffers", required_argument, NULL, O_BUFFERS},
		{"queues", required_argument, NULL, O_QUEUES},
		{"dft", required_argument, NULL, O_DFT},
		{"prefill", no_argument, NULL, O_PREFILL},
		{"no-alias", no_argument, NULL, O_NO_ALIAS},
		{"serial", no_argument, NULL, O_SERIAL},
		{"pipelined", no_argument, NULL, O_PIPELINED},
		{"json", no_argument, NULL, 'j'},
		{"svg", required_argument, NULL, O_SVG},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, rc = 0;

	*opt = (struct options){.channels = 256,
				.taps = 8,
				.spectra = 2048,
				.accumulate = 64,
				.chunks = 16,
				.buffers = 3,
				.queues = 3};
	while (rc == 0 &&
	       (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			opt->device = optarg;
			break;
		case O_CHANNELS:
			rc = example_parse_size("channelise", "channels",
						optarg, 16, 4096,
						&opt->channels);
			break;
		case O_TAPS:
			rc = example_parse_size("channelise", "taps", optarg, 1,
						64, &opt->taps);
			break;
		case O_SPECTRA:
			rc = example_parse_size("channelise", "spectra", optarg,
						1, 1u << 24, &opt->spectra);
			break;
		case O_ACCUMULATE:
			rc = example_parse_size("channelise", "accumulate",
						optarg, 1, 1u << 24,
						&opt->accumulate);
			break;
		case O_CHUNKS:
			rc = example_parse_size("channelise", "chunks", optarg,
						1, 1u << 16, &opt->chunks);
			break;
		case O_BUFFERS:
			rc = example_parse_size("channelise", "buffers", optarg,
						1, 64, &opt->buffers);
			break;
		case O_QUEUES:
			if (strcmp(optarg, "3") == 0 ||
			    strcmp(optarg, "6") == 0) {
				opt->queues = optarg[0] - '0';
			} else {
				fprintf(stderr,
					"channelise: --queues wants 3 or 6, "
					"not '%s'\n",
					optarg);
				rc = -1;
			}
			break;
		case O_DFT:
			if (strcmp(optarg, "direct") == 0 ||
			    strcmp(optarg, "fft") == 0) {
				opt->direct = optarg[0] == 'd';
			} else {
				fprintf(stderr,
					"channelise: --dft wants direct or "
					"fft, "
					"not '%s'\n",
					optarg);
				rc = -1;
			}
			break;
		case O_PREFILL:
			opt->prefill = true;
			break;
		case O_NO_ALIAS:
			opt->no_alias = true;
			break;
		case O_SERIAL:
			opt->serial_only = true;
			break;
		case O_PIPELINED:
			opt->pipelined_only = true;
			break;
		case 'j':
			opt->json = true;
			break;
		case O_SVG:
			opt->svg = optarg;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			fputs("Try 'channelise --help'.\n", stderr);
			return -1;
		}
	}
	if (rc < 0)
		return -1;
	if (optind < argc) {
		fprintf(stderr, "channelise: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	if (opt->serial_only && opt->pipelined_only) {
		fputs("channelise: --serial and --pipelined exclude each "
		      "other (give neither to run both)\n",
		      stderr);
		return -1;
	}
	return check_sizes(opt);
}

/* ------------------------------------------------------------- the stream */

/*
 * The digitiser's stream, made up: sample i of the stream is two bytes of
 * a hash of i / 4 (splitmix64's finaliser), so that the host writes a chunk
 * quickly and the reference recomputes any sample without storing it.
 */
static uint64_t
mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15u;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
	return x ^ (x >> 31);
}

static void
stream_sample(uint64_t i, int *re, int *im)
{
	uint64_t word = mix(i / 4) >> (16 * (i % 4));

	*re = (int8_t)(uint8_t)(word & 0xff);
	*im = (int8_t)(uint8_t)((word >> 8) & 0xff);
}

/* Writes stream chunk `id` (rows x N samples from id * S * N on) into
 * `data`, as the receiver of a real instrument would. */
static void
fill_chunk(const struct chan *c, size_t id, int8_t *data)
{
	uint64_t first = (uint64_t)id * c->opt->spectra * c->opt->channels;
	size_t words = c->rows * c->opt->channels / 4; /* N % 4 == 0 */

	for (size_t w = 0; w < words; w++) {
		uint64_t x = mix(first / 4 + w);

		for (int b = 0; b < 8; b++)
			data[8 * w + (size_t)b] =
				(int8_t)(uint8_t)(x >> (8 * b));
	}
}

/* ------------------------------------------------------------ the stages */

static struct clq_device_array *
slot_array(struct clq_operation *op, const char *name)
{
	return clq_slot_get_array(clq_operation_get_slot(op, name));
}

static int
run_upload(struct chan *c, struct clq_operation *op, struct clq_queue *q,
	   struct clq_event *const *wait, size_t n_wait, struct clq_event **ev)
{
	return clq_device_array_set_async(slot_array(op, "raw"), q, c->src,
					  wait, n_wait, ev);
}

static int
run_fir(struct chan *c, struct clq_operation *op, struct clq_queue *q,
	struct clq_event *const *wait, size_t n_wait, struct clq_event **ev)
{
	cl_uint n = (cl_uint)c->opt->channels, t = (cl_uint)c->opt->taps;
	cl_uint s = (cl_uint)c->opt->spectra;
	struct clq_arg args[] = {
		CLQ_ARG_OUT(slot_array(op, "out")),
		CLQ_ARG_IN(slot_array(op, "in")),
		CLQ_ARG_IN(slot_array(op, "weights")),
		CLQ_ARG_VALUE(n),
		CLQ_ARG_VALUE(t),
		CLQ_ARG_VALUE(s),
	};
	size_t global[2] = {c->opt->channels, c->opt->spectra};

	return clq_queue_enqueue_kernel(q, c->kernel[ST_FIR], args, 6, 2,
					global, NULL, wait, n_wait, ev);
}

static int
run_dft(struct chan *c, struct clq_operation *op, struct clq_queue *q,
	struct clq_event *const *wait, size_t n_wait, struct clq_event **ev)
{
	cl_uint n = (cl_uint)c->opt->channels;
	struct clq_arg args[] = {
		CLQ_ARG_OUT(slot_array(op, "out")),
		CLQ_ARG_IN(slot_array(op, "in")),
		CLQ_ARG_IN(slot_array(op, "twiddle")),
		CLQ_ARG_VALUE(n),
		CLQ_ARG_LOCAL(c->opt->channels * 2 * sizeof(cl_float)),
	};
	size_t global = c->opt->spectra * c->dft_local;

	return clq_queue_enqueue_kernel(q, c->kernel[ST_DFT], args, 5, 1,
					&global, &c->dft_local, wait, n_wait,
					ev);
}

static int
run_transpose(struct chan *c, struct clq_operation *op, struct clq_queue *q,
	      struct clq_event *const *wait, size_t n_wait,
	      struct clq_event **ev)
{
	cl_uint rows = (cl_uint)c->opt->spectra;
	cl_uint cols = (cl_uint)c->opt->channels;
	struct clq_arg args[] = {
		CLQ_ARG_OUT(slot_array(op, "out")),
		CLQ_ARG_IN(slot_array(op, "in")),
		CLQ_ARG_VALUE(rows),
		CLQ_ARG_VALUE(cols),
	};
	size_t local[2] = {16, 16};
	size_t global[2] = {(cols + 15) / 16 * 16, (rows + 15) / 16 * 16};

	return clq_queue_enqueue_kernel(q, c->kernel[ST_TRANSPOSE], args, 4, 2,
					global, local, wait, n_wait, ev);
}

static int
run_power(struct chan *c, struct clq_operation *op, struct clq_queue *q,
	  struct clq_event *const *wait, size_t n_wait, struct clq_event **ev)
{
	cl_uint s = (cl_uint)c->opt->spectra;
	cl_uint a = (cl_uint)c->opt->accumulate;
	struct clq_arg args[] = {
		CLQ_ARG_OUT(slot_array(op, "out")),
		CLQ_ARG_IN(slot_array(op, "in")),
		CLQ_ARG_VALUE(s),
		CLQ_ARG_VALUE(a),
	};
	size_t global[2] = {c->blocks, c->opt->channels};

	return clq_queue_enqueue_kernel(q, c->kernel[ST_POWER], args, 4, 2,
					global, NULL, wait, n_wait, ev);
}

static int
run_download(struct chan *c, struct clq_operation *op, struct clq_queue *q,
	     struct clq_event *const *wait, size_t n_wait,
	     struct clq_event **ev)
{
	size_t at[2] = {0, 0}, to[2] = {c->chunk * c->opt->channels, 0};
	size_t count[2] = {c->opt->channels, c->blocks};

	return clq_device_array_get_region(slot_array(op, "power"), q,
					   c->output, at, to, count, wait,
					   n_wait, ev);
}

/* Every operation's run callback: the stage's command, whose event is
 * also kept for the timeline (and the pool). */
static int
stage_run(struct clq_operation *op, struct clq_queue *queue,
	  struct clq_event *const *wait, size_t n_wait,
	  struct clq_event **event_out, void *user_data)
{
	static int (*const run[N_STAGES])(
		struct chan *, struct clq_operation *, struct clq_queue *,
		struct clq_event *const *, size_t,
		struct clq_event **) = {run_upload,    run_fir,	  run_dft,
					run_transpose, run_power, run_download};
	struct stage *st = user_data;
	struct chan *c = st->c;
	int rc = run[st->index](c, op, queue, wait, n_wait, event_out);

	if (rc == CLQ_SUCCESS && c->ev)
		c->ev[c->chunk * N_STAGES + (size_t)st->index] =
			clq_event_ref(*event_out);
	return rc;
}

/* ------------------------------------------------------------- the slots */

/*
 * The arrays, as slots. A stage's slot says how it uses the array, so an
 * array that one stage writes and the next reads is two slots (a writer's
 * and a reader's) bound to it: the sequence orders the stages by that
 * pair. The dimensions are shared by every slot with that axis.
 */
enum {
	B_RAW,	      /* [rows * N, 2] int8: upload -> pfb_fir */
	B_WINDOWED,   /* [S, N] complex: pfb_fir -> dft */
	B_SPECTRA,    /* [S, N] complex: dft -> transpose */
	B_TRANSPOSED, /* [N, S] complex: transpose -> power */
	B_POWER,      /* [N, S / A] float: power -> download */
	N_BUFFERS
};

struct plan {
	struct clq_dimension *samples, *pair, *channels, *spectra, *blocks;
	struct clq_dimension *taps;
	/* writer and reader slot of each buffer */
	struct clq_slot *w[N_BUFFERS], *r[N_BUFFERS];
	struct clq_slot *weights, *twiddle;
};

static int
make_slot(enum clq_dtype dtype, struct clq_dimension *a,
	  struct clq_dimension *b, enum clq_access access,
	  struct clq_slot **out)
{
	struct clq_dimension *dims[2] = {a, b};

	return clq_slot_create(dtype, 2, dims, access, out);
}

static void
plan_free(struct plan *p)
{
	clq_dimension_unref(p->samples);
	clq_dimension_unref(p->pair);
	clq_dimension_unref(p->channels);
	clq_dimension_unref(p->spectra);
	clq_dimension_unref(p->blocks);
	clq_dimension_unref(p->taps);
	for (int b = 0; b < N_BUFFERS; b++) {
		clq_slot_unref(p->w[b]);
		clq_slot_unref(p->r[b]);
	}
	clq_slot_unref(p->weights);
	clq_slot_unref(p->twiddle);
}

static int
plan_slots(struct chan *c, struct plan *p)
{
	static const enum clq_dtype dtype[N_BUFFERS] = {
		CLQ_DTYPE_INT8, CLQ_DTYPE_COMPLEX64, CLQ_DTYPE_COMPLEX64,
		CLQ_DTYPE_COMPLEX64, CLQ_DTYPE_FLOAT32};
	const struct options *o = c->opt;
	int rc;

	/* exact: the kernels index dense rows */
	if ((rc = clq_dimension_create(c->rows * o->channels, 0, 1, 1,
				       &p->samples)) < 0 ||
	    (rc = clq_dimension_create(2, 0, 1, 1, &p->pair)) < 0 ||
	    (rc = clq_dimension_create(o->channels, 0, 1, 1, &p->channels)) <
		    0 ||
	    (rc = clq_dimension_create(o->spectra, 0, 1, 1, &p->spectra)) < 0 ||
	    (rc = clq_dimension_create(c->blocks, 0, 1, 1, &p->blocks)) < 0 ||
	    (rc = clq_dimension_create(o->taps, 0, 1, 1, &p->taps)) < 0)
		return rc;
	for (int b = 0; b < N_BUFFERS && rc == CLQ_SUCCESS; b++) {
		struct clq_dimension *d0, *d1;

		switch (b) {
		case B_RAW:
			d0 = p->samples, d1 = p->pair;
			break;
		case B_TRANSPOSED:
			d0 = p->channels, d1 = p->spectra;
			break;
		case B_POWER:
			d0 = p->channels, d1 = p->blocks;
			break;
		default:
			d0 = p->spectra, d1 = p->channels;
			break;
		}
		if ((rc = make_slot(dtype[b], d0, d1, CLQ_ACCESS_WRITE,
				    &p->w[b])) == CLQ_SUCCESS)
			rc = make_slot(dtype[b], d0, d1, CLQ_ACCESS_READ,
				       &p->r[b]);
	}
	if (rc == CLQ_SUCCESS)
		rc = make_slot(CLQ_DTYPE_FLOAT32, p->taps, p->channels,
			       CLQ_ACCESS_READ, &p->weights);
	if (rc == CLQ_SUCCESS)
		rc = clq_slot_create(CLQ_DTYPE_COMPLEX64, 1, &p->channels,
				     CLQ_ACCESS_READ, &p->twiddle);
	if (rc == CLQ_SUCCESS)
		rc = clq_slot_bind(p->weights, c->weights);
	if (rc == CLQ_SUCCESS)
		rc = clq_slot_bind(p->twiddle, c->twiddle);
	return rc;
}

/*
 * Memory, planned by the sequence: each buffer's writer and reader slots
 * are one compound (one array). The window's output (written by pfb_fir,
 * read by dft) and the transpose's output (written by transpose, read by
 * power) are never needed at once, so their compounds are the members of
 * one alias: one allocation, as large as the larger of the two, that each
 * views in turn (--no-alias: two allocations). The sequence orders the
 * stages that use the alias as if they shared an array: the next chunk's
 * pfb_fir waits until power has read this chunk's transposed spectra.
 */
static int
register_buffers(struct chan *c, struct plan *p)
{
	static const char *const names[N_BUFFERS] = {
		"raw", "windowed", "spectra", "transposed", "power"};
	struct clq_slot *buf[N_BUFFERS] = {NULL}, *scratch = NULL;
	int rc = CLQ_SUCCESS;

	for (int b = 0; b < N_BUFFERS && rc == CLQ_SUCCESS; b++) {
		struct clq_slot *members[2] = {p->w[b], p->r[b]};

		rc = clq_slot_create_compound(members, 2, &buf[b]);
	}
	c->aliased = !c->opt->no_alias;
	if (rc == CLQ_SUCCESS && c->aliased) {
		struct clq_slot *members[2] = {buf[B_WINDOWED],
					       buf[B_TRANSPOSED]};

		rc = clq_slot_create_alias(members, 2, &scratch);
		if (rc == CLQ_SUCCESS)
			rc = clq_sequence_add_slot(c->seq, "scratch", scratch);
	}
	for (int b = 0; b < N_BUFFERS && rc == CLQ_SUCCESS; b++)
		if (!c->aliased || (b != B_WINDOWED && b != B_TRANSPOSED))
			rc = clq_sequence_add_slot(c->seq, names[b], buf[b]);
	for (int b = 0; b < N_BUFFERS; b++)
		clq_slot_unref(buf[b]);
	clq_slot_unref(scratch);
	return rc;
}

/* The stages, each with its slots, as children of the sequence. */
static int
build_sequence(struct chan *c, struct plan *p)
{
	/* each stage's slots: name, buffer, writer (1) or reader (0) */
	static const struct {
		int stage;
		const char *name;
		int buffer, writes;
	} uses[] = {
		{ST_UPLOAD, "raw", B_RAW, 1},
		{ST_FIR, "in", B_RAW, 0},
		{ST_FIR, "out", B_WINDOWED, 1},
		{ST_DFT, "in", B_WINDOWED, 0},
		{ST_DFT, "out", B_SPECTRA, 1},
		{ST_TRANSPOSE, "in", B_SPECTRA, 0},
		{ST_TRANSPOSE, "out", B_TRANSPOSED, 1},
		{ST_POWER, "in", B_TRANSPOSED, 0},
		{ST_POWER, "out", B_POWER, 1},
		{ST_DOWNLOAD, "power", B_POWER, 0},
	};
	static const struct clq_operation_ops ops = {.run = stage_run,
						     .destroy = free};
	int rc = clq_sequence_create(c->ctx, &c->seq);

	for (int s = 0; s < N_STAGES && rc == CLQ_SUCCESS; s++) {
		struct stage *st = malloc(sizeof(*st));

		if (!st)
			return CL_OUT_OF_HOST_MEMORY;
		*st = (struct stage){.c = c, .index = s};
		rc = clq_operation_create(stage_names[s], &ops, st, &c->op[s]);
		if (rc < 0)
			free(st);
	}
	for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]) && rc == 0; i++)
		rc = clq_operation_add_slot(c->op[uses[i].stage], uses[i].name,
					    uses[i].writes
						    ? p->w[uses[i].buffer]
						    : p->r[uses[i].buffer]);
	if (rc == CLQ_SUCCESS)
		rc = clq_operation_add_slot(c->op[ST_FIR], "weights",
					    p->weights);
	if (rc == CLQ_SUCCESS)
		rc = clq_operation_add_slot(c->op[ST_DFT], "twiddle",
					    p->twiddle);
	if (rc == CLQ_SUCCESS)
		rc = register_buffers(c, p);
	for (int s = 0; s < N_STAGES && rc == CLQ_SUCCESS; s++)
		rc = clq_sequence_add(c->seq, c->op[s], c->queue[s]);
	if (rc == CLQ_SUCCESS)
		rc = clq_sequence_ensure_bound(c->seq);
	if (rc == CLQ_SUCCESS && c->aliased)
		c->scratch_bytes =
			clq_device_array_get_nbytes(clq_slot_get_array(
				clq_sequence_get_slot(c->seq, "scratch")));
	else if (rc == CLQ_SUCCESS)
		c->scratch_bytes =
			clq_device_array_get_nbytes(
				clq_slot_get_array(p->w[B_WINDOWED])) +
			clq_device_array_get_nbytes(
				clq_slot_get_array(p->w[B_TRANSPOSED]));
	return rc;
}

/* ------------------------------------------------------------ the objects */

/* The prototype filter: a sinc over T * N points, one channel wide,
 * under a Hann window, normalised to unit gain at DC. weights[t][n] is
 * its tap t * N + n, so that channel n's FIR takes every N-th point. */
static int
make_weights(struct chan *c)
{
	size_t n = c->opt->channels, len = c->opt->taps * n;
	double sum = 0;
	double *h = malloc(len * sizeof(*h));

	c->weights_data = malloc(len * sizeof(float));
	if (!h || !c->weights_data) {
		free(h);
		return CL_OUT_OF_HOST_MEMORY;
	}
	for (size_t i = 0; i < len; i++) {
		double x = ((double)i + 0.5 - 0.5 * (double)len) / (double)n;
		double sinc = x == 0 ? 1 : sin(PI * x) / (PI * x);
		double hann = 0.5 - 0.5 * cos(2 * PI * ((double)i + 0.5) /
					      (double)len);

		h[i] = sinc * hann;
		sum += h[i];
	}
	for (size_t i = 0; i < len; i++)
		c->weights_data[i] = (float)(h[i] * (double)n / sum);
	free(h);
	return CLQ_SUCCESS;
}

static int
open_constants(struct chan *c)
{
	size_t n = c->opt->channels, shape[2] = {c->opt->taps, n};
	struct clq_host_array *hw = NULL, *ht = NULL;
	float *tw;
	int rc;

	if ((rc = clq_host_array_create(c->ctx, CLQ_DTYPE_FLOAT32, 2, shape,
					NULL, &hw)) < 0 ||
	    (rc = clq_host_array_create(c->ctx, CLQ_DTYPE_COMPLEX64, 1, &n,
					NULL, &ht)) < 0)
		goto out;
	if ((rc = make_weights(c)) < 0)
		goto out;
	memcpy(clq_host_array_data(hw), c->weights_data,
	       c->opt->taps * n * sizeof(float));
	tw = clq_host_array_data(ht);
	for (size_t j = 0; j < n; j++) {
		double phase = -2 * PI * (double)j / (double)n;

		tw[2 * j] = (float)cos(phase);
		tw[2 * j + 1] = (float)sin(phase);
	}
	if ((rc = clq_device_array_create(c->ctx, CLQ_DTYPE_FLOAT32, 2, shape,
					  NULL, &c->weights)) < 0 ||
	    (rc = clq_device_array_create(c->ctx, CLQ_DTYPE_COMPLEX64, 1, &n,
					  NULL, &c->twiddle)) < 0 ||
	    (rc = clq_device_array_set(c->weights, c->queue[ST_UPLOAD], hw)) <
		    0 ||
	    (rc = clq_device_array_set(c->twiddle, c->queue[ST_UPLOAD], ht)) <
		    0)
		goto out;
out:
	clq_host_array_unref(hw);
	clq_host_array_unref(ht);
	return rc;
}

static int
open_host_arrays(struct chan *c)
{
	size_t in_shape[2] = {c->rows * c->opt->channels, 2};
	size_t out_shape[2] = {c->opt->chunks * c->opt->channels, c->blocks};
	int rc;

	c->inputs = calloc(c->opt->buffers, sizeof(*c->inputs));
	if (!c->inputs)
		return CL_OUT_OF_HOST_MEMORY;
	for (size_t b = 0; b < c->opt->buffers; b++) {
		rc = clq_host_array_create(c->ctx, CLQ_DTYPE_INT8, 2, in_shape,
					   NULL, &c->inputs[b]);
		if (rc < 0)
			return rc;
		/* --prefill: host array b holds stream chunk b for good */
		if (c->opt->prefill)
			fill_chunk(c, b, clq_host_array_data(c->inputs[b]));
	}
	rc = clq_pool_create(c->opt->buffers, (void *const *)c->inputs,
			     &c->pool);
	if (rc < 0)
		return rc;
	rc = clq_host_array_create(c->ctx, CLQ_DTYPE_FLOAT32, 2, out_shape,
				   NULL, &c->output);
	if (rc == CLQ_SUCCESS)
		c->output_data = clq_host_array_data(c->output);
	return rc;
}

static int
open_kernels(struct chan *c, const char *argv0)
{
	/* channelise.cl lies next to the executable (meson copies it there);
	 * clq also searches CLQ_KERNEL_PATH and the current directory. */
	char dir[4096] = ".";
	const char *slash = strrchr(argv0, '/');
	const char *dirs[1] = {dir};
	size_t width;
	int rc;

	if (slash && (size_t)(slash - argv0) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - argv0), argv0);
	rc = clq_program_create_from_file(c->ctx, "channelise.cl", dirs, 1,
					  NULL, &c->program);
	if (rc < 0)
		return fail("building channelise.cl", rc);
	for (int s = ST_FIR; s <= ST_POWER; s++) {
		const char *name = s == ST_TRANSPOSE ? "transpose_complex"
				   : s == ST_DFT && !c->opt->direct
					   ? "fft"
					   : stage_names[s];

		if ((rc = clq_kernel_create(c->program, name, &c->kernel[s])) <
		    0)
			return fail("creating a kernel", rc);
	}
	/* direct: L work-items share N bins; fft: N / 2 butterflies, at
	 * most FFT_MAX_PER (channelise.cl) each */
	width = c->opt->direct ? c->opt->channels : c->opt->channels / 2;
	c->dft_local = 256;
	while (c->dft_local > width ||
	       c->dft_local > clq_kernel_get_work_group_size(c->kernel[ST_DFT]))
		c->dft_local /= 2;
	if (!c->opt->direct && width / c->dft_local > 16) {
		fprintf(stderr,
			"channelise: the fft kernel's work-groups of %zu are "
			"too "
			"small for %zu channels; use --dft direct\n",
			c->dft_local, c->opt->channels);
		return CLQ_ERROR_OUT_OF_RANGE;
	}
	return CLQ_SUCCESS;
}

/* A queue per stage (--queues 6), or upload, compute and download queues
 * (--queues 3); labels name them in clq's ordering messages. */
static int
open_queues(struct chan *c)
{
	int rc;

	for (int s = 0; s < N_STAGES; s++) {
		bool shared =
			c->opt->queues == 3 && s > ST_FIR && s < ST_DOWNLOAD;

		c->queue_name[s] = c->opt->queues == 3 && s == ST_FIR
					   ? "compute"
					   : stage_names[s];
		if (shared) {
			c->queue[s] = clq_queue_ref(c->queue[ST_FIR]);
			c->queue_name[s] = c->queue_name[ST_FIR];
			continue;
		}
		if ((rc = clq_queue_create(c->ctx, CLQ_QUEUE_PROFILING,
					   &c->queue[s])) < 0 ||
		    (rc = clq_queue_set_label(c->queue[s], c->queue_name[s])) <
			    0)
			return fail("creating a profiling queue", rc);
	}
	return CLQ_SUCCESS;
}

static int
chan_open(struct chan *c, const struct options *opt, const char *argv0)
{
	struct clq_device *dev;
	struct plan plan = {0};
	int rc;

	*c = (struct chan){.opt = opt};
	c->rows = opt->spectra + opt->taps - 1;
	c->blocks = opt->spectra / opt->accumulate;
	if ((rc = clq_device_select(opt->device, &dev)) < 0)
		return fail("choosing a device", rc);
	rc = clq_context_create(dev, &c->ctx);
	clq_device_unref(dev);
	if (rc < 0)
		return fail("creating a context", rc);
	if ((rc = open_queues(c)) < 0)
		return rc;
	if ((rc = open_kernels(c, argv0)) < 0)
		return rc;
	if ((rc = open_host_arrays(c)) < 0)
		return fail("allocating the pinned host arrays", rc);
	if ((rc = open_constants(c)) < 0)
		return fail("uploading the filter and twiddles", rc);
	if ((rc = plan_slots(c, &plan)) < 0)
		fail("planning the slots", rc);
	else if ((rc = build_sequence(c, &plan)) < 0)
		fail("building the sequence", rc);
	plan_free(&plan);
	return rc;
}

static void
chan_close(struct chan *c)
{
	clq_sequence_unref(c->seq);
	for (int s = 0; s < N_STAGES; s++) {
		clq_operation_unref(c->op[s]);
		clq_kernel_unref(c->kernel[s]);
	}
	clq_program_unref(c->program);
	clq_pool_unref(c->pool);
	for (size_t b = 0; c->inputs && b < c->opt->buffers; b++)
		clq_host_array_unref(c->inputs[b]);
	free(c->inputs);
	clq_host_array_unref(c->output);
	clq_device_array_unref(c->weights);
	clq_device_array_unref(c->twiddle);
	free(c->weights_data);
	for (int q = 0; q < N_STAGES; q++)
		clq_queue_unref(c->queue[q]);
	clq_context_unref(c->ctx);
}

/* --------------------------------------------------------------- the runs */

/*
 * Takes a host array from the pool for chunk `k` and writes the chunk's
 * samples into it. The pool waits on the host until the upload that last
 * read the array has completed: the receiver must not overwrite samples
 * still on their way to the device.
 */
static int
take_input(struct chan *c, struct run *r, size_t k, size_t *slot)
{
	struct clq_event *const *wait;
	size_t n_wait;
	int rc = clq_pool_acquire(c->pool, CLQ_POOL_WAIT_HOST, slot, &wait,
				  &n_wait);

	if (rc < 0)
		return rc;
	c->src = clq_pool_get_item(c->pool, *slot);
	c->chunk = k;
	if (c->opt->prefill) {
		r->data_id[k] = *slot;
	} else {
		r->data_id[k] = k;
		fill_chunk(c, k, clq_host_array_data(c->src));
	}
	return CLQ_SUCCESS;
}

/* The pipeline: the sequence, run once per chunk. Its children wait for
 * what their slots need (this chunk's earlier stages, the previous
 * chunk's stages that still use an array), nothing else. */
static int
run_pipelined(struct chan *c, struct run *r)
{
	int rc = CLQ_SUCCESS;

	for (size_t k = 0; k < c->opt->chunks && rc == CLQ_SUCCESS; k++) {
		struct clq_event *done = NULL;
		size_t slot;

		if ((rc = take_input(c, r, k, &slot)) < 0)
			break;
		rc = clq_sequence_run(c->seq, c->queue[ST_DOWNLOAD], NULL, 0,
				      &done);
		clq_event_unref(done);
		if (rc == CLQ_SUCCESS)
			rc = clq_pool_release(c->pool, slot,
					      &r->ev[k * N_STAGES + ST_UPLOAD],
					      1);
		/* start the device on this chunk while the host writes the
		 * next */
		for (int q = 0; q < N_STAGES && rc == CLQ_SUCCESS; q++)
			rc = clq_queue_flush(c->queue[q]);
	}
	for (int q = 0; q < N_STAGES; q++) {
		int frc = clq_queue_finish(c->queue[q]);

		if (rc == CLQ_SUCCESS)
			rc = frc;
	}
	return rc;
}

/* The same operations one at a time, each started after the previous
 * one has completed (the host waits for it). */
static int
run_serial(struct chan *c, struct run *r)
{
	int rc = CLQ_SUCCESS;

	for (size_t k = 0; k < c->opt->chunks && rc == CLQ_SUCCESS; k++) {
		struct clq_event *prev = NULL;
		size_t slot;

		if ((rc = take_input(c, r, k, &slot)) < 0)
			break;
		for (int s = 0; s < N_STAGES && rc == CLQ_SUCCESS; s++) {
			struct clq_event *ev = NULL;

			rc = clq_operation_run(c->op[s], c->queue[s],
					       prev ? &prev : NULL,
					       prev ? 1 : 0, &ev);
			if (rc == CLQ_SUCCESS)
				rc = clq_event_wait(ev);
			clq_event_unref(prev);
			prev = ev;
		}
		clq_event_unref(prev);
		if (rc == CLQ_SUCCESS)
			rc = clq_pool_release(c->pool, slot,
					      &r->ev[k * N_STAGES + ST_UPLOAD],
					      1);
	}
	return rc;
}

/* One chunk through the sequence, untimed, so that the timed runs do
 * not pay for first-use costs (kernel compilation, the plan, page
 * mapping). */
static int
warm_up(struct chan *c)
{
	struct run r = {0};
	struct clq_event *done = NULL;
	size_t slot, id;
	int rc;

	r.data_id = &id;
	c->ev = NULL;
	if ((rc = take_input(c, &r, 0, &slot)) < 0)
		return fail("warming up", rc);
	rc = clq_sequence_run(c->seq, c->queue[ST_DOWNLOAD], NULL, 0, &done);
	if (rc == CLQ_SUCCESS)
		rc = clq_event_wait(done);
	if (rc == CLQ_SUCCESS)
		rc = clq_pool_release(c->pool, slot, NULL, 0);
	clq_event_unref(done);
	return rc < 0 ? fail("warming up", rc) : rc;
}

/* ---------------------------------------------------------- the reference */

/*
 * Checks `nbins` channels of accumulation block j of chunk k (all N when
 * nbins is N, else an even spread) against a CPU reference computed in
 * double, and counts outputs outside the bound.
 *
 * The bound follows the float operations the kernels do (u = 2^-24, an
 * error term k u standing for the usual gamma_k): per spectrum, with D
 * the sum over channels n of F_n = sum_t |w_t,n| |x_t,n| (what the FIR
 * adds up in absolute value),
 * - the FIR's sums of T terms are off by at most about sqrt 2 T u F_n;
 * - the direct DFT's sums of 2N real products per component, with
 *   twiddles rounded to float (u at most each), by at most 2 sqrt 2 (2N)
 *   u sum_n |x_n| plus the FIR's error carried through, so in all
 *   delta = (6N + 2T + 4) u D bounds |X~ - X| for every bin; the FFT's
 *   log2 N levels of butterflies (a complex multiply by a rounded
 *   twiddle, an add: under 6 u of the magnitudes added, which twiddles
 *   of modulus 1 keep within D) give delta = (6 log2 N + 2T + 4) u D;
 * - then |X~|^2 - |X|^2 <= 2 |X| delta + delta^2, and the power's A
 *   squares and sums add (A + 2) u sum (|X| + delta)^2.
 * The bound is a worst case: the errors measured are far below it
 * (reported as the worst error / bound), while a wrong index or a lost
 * spectrum or tap errs by the order of the power itself.
 */
static void
check_block(const struct chan *c, size_t k, size_t id, size_t j, size_t nbins,
	    const double complex *tw, double complex *xw, double *ref,
	    double *tol, struct run *r)
{
	const struct options *o = c->opt;
	size_t n = o->channels, mask = n - 1;
	const double u = ldexp(1, -24);
	/* the rounding steps between an input and an output: N terms of a
	 * sum, or log2 N levels of butterflies */
	double levels = o->direct ? (double)n : log2((double)n);
	uint64_t base = (uint64_t)id * o->spectra * n;

	for (size_t i = 0; i < nbins; i++)
		ref[i] = tol[i] = 0;
	for (size_t a = 0; a < o->accumulate; a++) {
		size_t s = j * o->accumulate + a;
		double d = 0, delta;

		for (size_t ch = 0; ch < n; ch++) {
			double complex acc = 0;

			for (size_t t = 0; t < o->taps; t++) {
				double w = c->weights_data[t * n + ch];
				int re, im;

				stream_sample(base + (s + t) * n + ch, &re,
					      &im);
				acc += w * ((double)re + I * (double)im);
				d += fabs(w) * hypot(re, im);
			}
			xw[ch] = acc;
		}
		delta = (6.0 * levels + 2.0 * (double)o->taps + 4) * u * d;
		for (size_t i = 0; i < nbins; i++) {
			size_t bin = (i * n / nbins + k + j) & mask;
			double complex x = 0;
			double m;

			for (size_t ch = 0; ch < n; ch++)
				x += xw[ch] * tw[(ch * bin) & mask];
			m = cabs(x);
			ref[i] += m * m;
			tol[i] += 2 * m * delta + delta * delta +
				  ((double)o->accumulate + 2) * u *
					  (m + delta) * (m + delta);
		}
	}
	for (size_t i = 0; i < nbins; i++) {
		size_t bin = (i * n / nbins + k + j) & mask;
		double got = c->output_data[(k * n + bin) * c->blocks + j];
		double err = fabs(got - ref[i]);
		/* 1.01: the gammas' 1 / (1 - k u) factors */
		double bound = 1.01 * tol[i];

		r->checked++;
		if (!(err <= bound)) {
			if (r->bad++ < 5)
				fprintf(stderr,
					"channelise: %s run, chunk %zu, "
					"channel %zu, block %zu: %.9g, the "
					"CPU reference says %.9g (bound "
					"%.3g)\n",
					r->name, k, bin, j, got, ref[i], bound);
		}
		if (bound > 0 && err / bound > r->worst_ratio)
			r->worst_ratio = err / bound;
		if (ref[i] > 0 && err / ref[i] > r->worst_rel)
			r->worst_rel = err / ref[i];
	}
}

/*
 * Checks every output when the reference fits in CHECK_BUDGET complex
 * multiply-adds; else up to 4 blocks per chunk, evenly spaced, with as
 * many channels of each as the budget allows (at least one): every chunk
 * is checked, at the sizes a GPU needs too.
 */
static int
check_run(const struct chan *c, struct run *r)
{
	const struct options *o = c->opt;
	size_t n = o->channels, per = c->blocks, nbins = n;
	/* a block of b channels: A spectra of FIR (T N) and b DFT bins (N) */
	double spectra = (double)o->chunks * (double)o->accumulate;
	double complex *tw = malloc(n * sizeof(*tw));
	double complex *xw = malloc(n * sizeof(*xw));
	double *ref = malloc(2 * n * sizeof(*ref));

	if (!tw || !xw || !ref) {
		free(tw);
		free(xw);
		free(ref);
		return fail("checking", CL_OUT_OF_HOST_MEMORY);
	}
	for (size_t i = 0; i < n; i++)
		tw[i] = cexp(-2 * PI * I * (double)i / (double)n);
	if (spectra * (double)per * (double)n * (double)(o->taps + n) >
	    CHECK_BUDGET) {
		double b;

		per = per < 4 ? per : 4;
		b = CHECK_BUDGET / (spectra * (double)per * (double)n) -
		    (double)o->taps;
		nbins = b < 1 ? 1 : b > (double)n ? n : (size_t)b;
	}
	r->total = o->chunks * c->blocks * n;
	for (size_t k = 0; k < o->chunks; k++) {
		for (size_t i = 0; i < per; i++) {
			size_t j = (i * c->blocks / per + k) % c->blocks;

			check_block(c, k, r->data_id[k], j, nbins, tw, xw, ref,
				    ref + n, r);
		}
	}
	free(tw);
	free(xw);
	free(ref);
	return CLQ_SUCCESS;
}

/* ------------------------------------------------------------ measurement */

/* The run's timeline: a track per queue, a label per stage. */
static int
make_timeline(const struct chan *c, const struct run *r,
	      struct clq_timeline **tl_out)
{
	char title[256];
	int rc = clq_timeline_create(c->ctx, tl_out);

	snprintf(title, sizeof(title),
		 "channelise (%s): %zu chunks of %zu spectra x %zu channels "
		 "on %s",
		 r->name, c->opt->chunks, c->opt->spectra, c->opt->channels,
		 clq_device_get_name(clq_context_get_device(c->ctx)));
	if (rc == CLQ_SUCCESS)
		rc = clq_timeline_set_title(*tl_out, title);
	for (size_t i = 0; i < c->opt->chunks * N_STAGES && rc == CLQ_SUCCESS;
	     i++) {
		char track[32];
		int s = (int)(i % N_STAGES);

		snprintf(track, sizeof(track), "%s queue", c->queue_name[s]);
		rc = clq_timeline_add_event(*tl_out, r->ev[i], track,
					    stage_names[s]);
	}
	return rc;
}

/* Stage medians from the events' own timestamps; the span and the time
 * two or more queues ran commands together, from the timeline. */
static int
summarise(const struct chan *c, struct run *r)
{
	struct clq_timeline *tl = NULL;
	struct clq_timeline_summary *sum = NULL;
	size_t n = c->opt->chunks;
	double *v = malloc(n * sizeof(*v));
	int rc = v ? make_timeline(c, r, &tl) : CL_OUT_OF_HOST_MEMORY;

	if (rc == CLQ_SUCCESS)
		rc = clq_timeline_summarize(tl, &sum);
	if (rc == CLQ_SUCCESS) {
		r->span = sum->span_s;
		r->overlap = sum->overlap_s;
	}
	for (int s = 0; s < N_STAGES && rc == CLQ_SUCCESS; s++) {
		for (size_t k = 0; k < n && rc == CLQ_SUCCESS; k++) {
			struct clq_event_times t;

			rc = clq_event_get_times(r->ev[k * N_STAGES + s], &t);
			v[k] = (double)(t.end - t.start) * 1e-9;
		}
		if (rc == CLQ_SUCCESS) {
			qsort(v, n, sizeof(*v), example_compare_double);
			r->stage[s] = n % 2 ? v[n / 2]
					    : 0.5 * (v[n / 2 - 1] + v[n / 2]);
		}
	}
	clq_timeline_summary_free(sum);
	clq_timeline_unref(tl);
	free(v);
	return rc < 0 ? fail("reading the device timestamps", rc) : rc;
}

static void
run_release(struct run *r, size_t chunks)
{
	for (size_t i = 0; r->ev && i < chunks * N_STAGES; i++)
		clq_event_unref(r->ev[i]);
	free(r->ev);
	free(r->data_id);
	r->ev = NULL;
	r->data_id = NULL;
}

static int
measure(struct chan *c, int (*fn)(struct chan *, struct run *), struct run *r)
{
	size_t n_out = c->opt->chunks * c->opt->channels * c->blocks;
	double t0;
	int rc;

	r->ev = calloc(c->opt->chunks * N_STAGES, sizeof(*r->ev));
	r->data_id = calloc(c->opt->chunks, sizeof(*r->data_id));
	if (!r->ev || !r->data_id)
		return fail("allocating", CL_OUT_OF_HOST_MEMORY);
	/* NaN everywhere, so that an output never written cannot pass */
	memset(c->output_data, 0xff, n_out * sizeof(float));
	c->ev = r->ev;
	t0 = example_now();
	rc = fn(c, r);
	r->wall = example_now() - t0;
	c->ev = NULL;
	if (rc < 0)
		return fail(fn == run_serial
				    ? "running the stages one at a time"
				    : "running the sequence",
			    rc);
	r->done = true;
	if ((rc = summarise(c, r)) < 0)
		return rc;
	return check_run(c, r);
}

/* ---------------------------------------------------------------- report */

struct report {
	struct run serial, pipe;
	double speedup, busy2;
	const char *verdict;
	char reason[600];
};

static double
samples_per_s(const struct chan *c, const struct run *r)
{
	return (double)c->opt->chunks * (double)c->opt->spectra *
	       (double)c->opt->channels / r->wall;
}

static void
judge(const struct chan *c, struct report *rep)
{
	bool cpu = clq_device_get_type(clq_context_get_device(c->ctx)) ==
		   CLQ_DEVICE_TYPE_CPU;
	const char *why = cpu ? "; this is a CPU device: its transfers are "
				"memory copies on the cores that run the "
				"kernels, so the queues take turns"
			      : "";
	double busy = floor(1000 * rep->busy2) / 10;
	double speedup = floor(100 * rep->speedup) / 100;

	if (rep->serial.bad || rep->pipe.bad) {
		rep->verdict = "wrong results";
		snprintf(rep->reason, sizeof(rep->reason),
			 "%zu serial and %zu pipelined outputs are outside the "
			 "bound of the CPU reference",
			 rep->serial.bad, rep->pipe.bad);
		return;
	}
	if (rep->busy2 >= OVERLAP_MIN && rep->speedup >= SPEEDUP_MIN)
		rep->verdict = "overlapped";
	else if (rep->busy2 >= OVERLAP_MIN)
		rep->verdict = "overlapped, but no faster";
	else if (rep->speedup < 1)
		rep->verdict = "slower than the serial run";
	else
		rep->verdict = "no overlap";
	snprintf(rep->reason, sizeof(rep->reason),
		 "two or more queues ran commands together %.1f%% of the "
		 "pipelined run's device time and it ran %.2fx the speed of "
		 "the serial run (\"overlapped\" means >= %.0f%% and >= "
		 "%.2fx)%s",
		 busy, speedup, 100 * OVERLAP_MIN, SPEEDUP_MIN,
		 strcmp(rep->verdict, "overlapped") ? why : "");
}

static void
print_run_text(const struct chan *c, const struct run *r)
{
	printf("%-9s %10.3f ms  %8.4g Msamples/s  (%zu of %zu outputs "
	       "checked: %s, worst error %.2g of the bound, %.2g "
	       "relative)\n",
	       r->name, r->wall * 1e3, samples_per_s(c, r) * 1e-6, r->checked,
	       r->total, r->bad ? "MISMATCH" : "match", r->worst_ratio,
	       r->worst_rel);
	printf("          device: two or more queues busy for %.3f of %.3f ms "
	       "(%.0f%%)\n",
	       r->overlap * 1e3, r->span * 1e3,
	       r->span > 0 ? 100 * r->overlap / r->span : 0.0);
}

static void
print_text(const struct chan *c, const struct report *rep)
{
	const struct options *o = c->opt;
	struct clq_device *dev = clq_context_get_device(c->ctx);
	const struct run *runs[2] = {&rep->serial, &rep->pipe};

	printf("device: %s (%s)\n", clq_device_get_name(dev),
	       clq_device_get_platform_name(dev));
	printf("work: %zu chunks of %zu spectra x %zu channels (%zu complex "
	       "8-bit samples, %.3g MiB), %zu taps, %zu spectra per sum\n",
	       o->chunks, o->spectra, o->channels, o->spectra * o->channels,
	       (double)(c->rows * o->channels * 2) / 1048576.0, o->taps,
	       o->accumulate);
	printf("queues: %d\n", o->queues);
	printf("host: %zu pinned host arrays in a pool, %s\n", o->buffers,
	       o->prefill ? "filled once (--prefill)"
			  : "each chunk written into one as it arrives");
	printf("dft: %s\n",
	       o->direct ? "the direct sum (--dft direct)" : "a radix-2 FFT");
	printf("scratch: pfb_fir's and transpose's outputs %s, %.3g MiB\n",
	       c->aliased ? "share one allocation (an alias)"
			  : "have one allocation each (--no-alias)",
	       (double)c->scratch_bytes / 1048576.0);
	printf("stage device time per chunk (median):");
	for (int i = 0; i < 2; i++)
		if (runs[i]->done)
			printf("  %10s", runs[i]->name);
	putchar('\n');
	for (int s = 0; s < N_STAGES; s++) {
		printf("  %-9s (%-9s queue)         ", stage_names[s],
		       c->queue_name[s]);
		for (int i = 0; i < 2; i++)
			if (runs[i]->done)
				printf(" %7.3f ms", runs[i]->stage[s] * 1e3);
		putchar('\n');
	}
	for (int i = 0; i < 2; i++)
		if (runs[i]->done)
			print_run_text(c, runs[i]);
	if (rep->verdict)
		printf("speedup: %.2fx\nverdict: %s: %s\n", rep->speedup,
		       rep->verdict, rep->reason);
}

static void
print_json_run(const struct chan *c, const struct run *r)
{
	if (!r->done) {
		printf("  \"%s\": null,\n", r->name);
		return;
	}
	printf("  \"%s\": {\"wall_s\": %.9g, \"samples_per_s\": %.9g, "
	       "\"device_span_s\": %.9g, \"overlap_s\": %.9g, "
	       "\"checked\": %zu, \"outputs\": %zu, \"mismatches\": %zu, "
	       "\"worst_error_of_bound\": %.6g, \"worst_relative_error\": "
	       "%.6g, \"stage_s\": {",
	       r->name, r->wall, samples_per_s(c, r), r->span, r->overlap,
	       r->checked, r->total, r->bad, r->worst_ratio, r->worst_rel);
	for (int s = 0; s < N_STAGES; s++)
		printf("%s\"%s\": %.9g", s ? ", " : "", stage_names[s],
		       r->stage[s]);
	printf("}},\n");
}

static void
print_json(const struct chan *c, const struct report *rep)
{
	const struct options *o = c->opt;
	struct clq_device *dev = clq_context_get_device(c->ctx);

	printf("{\n  \"format\": 1,\n  \"device\": ");
	example_print_json_string(clq_device_get_name(dev));
	printf(",\n  \"platform\": ");
	example_print_json_string(clq_device_get_platform_name(dev));
	printf(",\n  \"channels\": %zu,\n  \"taps\": %zu,\n  \"spectra\": "
	       "%zu,\n  \"accumulate\": %zu,\n  \"chunks\": %zu,\n  "
	       "\"queues\": %d,\n  \"buffers\": %zu,\n  \"prefill\": %s,\n  "
	       "\"aliased\": %s,\n  \"scratch_bytes\": %zu,\n  \"dft\": "
	       "\"%s\",\n",
	       o->channels, o->taps, o->spectra, o->accumulate, o->chunks,
	       o->queues, o->buffers, o->prefill ? "true" : "false",
	       c->aliased ? "true" : "false", c->scratch_bytes,
	       o->direct ? "direct" : "fft");
	print_json_run(c, &rep->serial);
	print_json_run(c, &rep->pipe);
	if (rep->verdict) {
		printf("  \"speedup\": %.6g,\n  \"overlap\": %.6g,\n"
		       "  \"overlap_threshold\": %g,\n"
		       "  \"speedup_threshold\": %g,\n  \"verdict\": ",
		       rep->speedup, rep->busy2, OVERLAP_MIN, SPEEDUP_MIN);
		example_print_json_string(rep->verdict);
		printf(",\n  \"reason\": ");
		example_print_json_string(rep->reason);
	} else {
		printf("  \"verdict\": null");
	}
	printf("\n}\n");
}

static int
write_svg(const struct chan *c, const struct run *r, const char *path)
{
	struct clq_timeline *tl = NULL;
	FILE *f;
	int rc = make_timeline(c, r, &tl);

	if (rc < 0) {
		clq_timeline_unref(tl);
		return fail("recording the timeline", rc);
	}
	if (!(f = fopen(path, "w"))) {
		fprintf(stderr, "channelise: cannot write %s: %s\n", path,
			strerror(errno));
		clq_timeline_unref(tl);
		return CLQ_ERROR_IO;
	}
	rc = clq_timeline_write_svg(tl, f);
	if (fclose(f) != 0 && rc == CLQ_SUCCESS)
		rc = CLQ_ERROR_IO;
	clq_timeline_unref(tl);
	return rc < 0 ? fail(path, rc) : rc;
}

/* ------------------------------------------------------------------- main */

static int
run_all(struct chan *c, struct report *rep)
{
	const struct options *o = c->opt;
	int rc;

	rep->serial.name = "serial";
	rep->pipe.name = "pipelined";
	if ((rc = warm_up(c)) < 0)
		return rc;
	if (!o->pipelined_only &&
	    (rc = measure(c, run_serial, &rep->serial)) < 0)
		return rc;
	if (!o->serial_only && (rc = measure(c, run_pipelined, &rep->pipe)) < 0)
		return rc;
	if (rep->serial.done && rep->pipe.done) {
		rep->speedup = rep->serial.wall / rep->pipe.wall;
		rep->busy2 = rep->pipe.span > 0
				     ? rep->pipe.overlap / rep->pipe.span
				     : 0;
		judge(c, rep);
	}
	if (o->svg)
		return write_svg(c, rep->pipe.done ? &rep->pipe : &rep->serial,
				 o->svg);
	return CLQ_SUCCESS;
}

int
main(int argc, char **argv)
{
	struct options opt;
	struct chan c;
	struct report rep = {0};
	int rc;

	if ((rc = parse_options(argc, argv, &opt)) != 0)
		return rc > 0 ? EXIT_SUCCESS : 2;
	clq_set_log_handler(example_log_to_stderr, NULL);
	rc = chan_open(&c, &opt, argv[0]);
	if (rc == CLQ_SUCCESS && (rc = run_all(&c, &rep)) == CLQ_SUCCESS) {
		if (opt.json)
			print_json(&c, &rep);
		else
			print_text(&c, &rep);
	}
	run_release(&rep.serial, opt.chunks);
	run_release(&rep.pipe, opt.chunks);
	chan_close(&c);
	if (rc < 0)
		return EXIT_FAILURE;
	return rep.serial.bad || rep.pipe.bad ? EXIT_FAILURE : EXIT_SUCCESS;
}
