/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mpi-stream: the double-buffer pipeline across MPI ranks. Rank 0
 * generates the input (or reads it from a file) and scatters it in chunks;
 * every rank streams its chunks through its own device (upload, the scale
 * kernel of cl/scale.cl, download, on three queues, through a pool of
 * device buffers) and sends each result back as soon as its download has
 * completed; rank 0 gathers them and checks every element against the CPU
 * reference. `mpi-stream --help` explains the options; the README's
 * "Beyond one machine" shows how to run it.
 *
 * The host never blocks on the device while anything else could proceed:
 * a rank enqueues a chunk's three commands as soon as its MPI receive has
 * completed (each command waits for the one before through its event's
 * place in a wait list), a clq notifier watches each download, and one
 * loop tests the MPI requests (MPI_Testsome) and drains the notifier in
 * turn, starting each chunk's MPI send only once its download's
 * completion has been drained. While MPI requests are in flight the loop
 * keeps calling into MPI (OpenMPI progresses only inside its calls);
 * otherwise it sleeps on the notifier's descriptor for at most POLL_NS, so
 * a download wakes it at once.
 *
 * As in double-buffer, x = x + 1 is applied `iters` times to integers
 * below 2^20: every value stays an exact float, and the CPU reference
 * (x + iters) is exact.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <time.h>

#include <mpi.h>

#include <clq/clq.h>

#include "example.h"

enum { STAGE_UPLOAD, STAGE_KERNEL, STAGE_DOWNLOAD, N_STAGES };

static const char *const stage_names[N_STAGES] = {"upload", "kernel",
						  "download"};

/* Inputs are integers below 2^20 and outputs input + iters: staying below
 * 2^24 keeps every value exact in a float. */
#define INPUT_LIMIT (1u << 20)
#define MAX_ITERS (1u << 23)

/* --devices: each spec at most this long */
#define MAX_SPEC 256

/* The progress loop's longest sleep on the notifier's descriptor when
 * nothing happened: MPI requests are tested at least this often. */
#define POLL_NS 100000L

struct options {
	double chunk_mib;
	size_t chunk_elems; /* from chunk_mib */
	size_t chunks;	    /* per rank; with --input, from the file's size */
	bool chunks_set;
	size_t slots;
	unsigned iters;
	const char *input;   /* --input FILE: raw float32 */
	const char *devices; /* --devices LIST: a spec per rank */
	/* --fail RANK:CHUNK: that chunk's upload fails */
	bool fail_set;
	size_t fail_rank, fail_chunk;
	bool json;
};

/* One rank's part. */
struct rank {
	const struct options *opt;
	int rank, size;
	int local_rank, local_size; /* among the ranks of this node */
	/* how the device was chosen, for the report */
	char how[96];
	struct clq_device *device;
	struct clq_context *ctx;
	struct clq_queue *queue[N_STAGES];
	struct clq_program *program;
	struct clq_kernel *scale;
	size_t local;  /* the kernel's work-group size */
	size_t chunks; /* this rank's */
	struct clq_device_array **buffers;
	struct clq_pool *pool;
	struct clq_notifier *notifier;
	/*
	 * Host arrays, pinned, one per chunk: rank 0 holds every chunk of
	 * the stream (size x chunks, rank r's being r x chunks onwards),
	 * the others their own. One array per chunk, not one for all: with
	 * AMD's "remapped" pinned memory a transfer unmaps its whole host
	 * array, which must not happen under an MPI transfer of another
	 * chunk in the same array.
	 */
	size_t n_arrays;
	struct clq_host_array **in, **out;
	/* the chunks' device commands: [chunk * N_STAGES + stage] */
	struct clq_event **ev;
	/* the chunks in the order they were enqueued, and how many were */
	size_t *order, n_enqueued;
	/* rank 0: index g >= chunks, the scatter (send) of input chunk g
	 * and the gather (receive) of output chunk g; other ranks: index c,
	 * the receive of input chunk c and the send of output chunk c */
	MPI_Request *recv, *send;
	int *done_index; /* room for MPI_Testsome's indices */
	/* measured */
	double wall;		/* start barrier to this rank's last request */
	double overlap;		/* host seconds with MPI and device both busy */
	double stage[N_STAGES]; /* median device seconds per chunk */
	size_t wakeups;		/* notifier drains that returned completions */
};

/* What each rank sends rank 0 for the report. */
struct rank_report {
	double wall, overlap, stage[N_STAGES];
	double chunks, wakeups, local_rank, local_size;
	char device[MAX_SPEC], platform[MAX_SPEC], spec[32], how[96];
};

static int my_rank; /* for messages */

static int
fail(const char *what, int rc)
{
	char program[64];

	snprintf(program, sizeof(program), "mpi-stream: rank %d", my_rank);
	return example_report(program, what, rc);
}

/* A failure in the middle of the stream: the other ranks may be waiting
 * for this one's messages, so the whole job stops here. */
static void
abort_job(const char *what, int rc)
{
	fail(what, rc);
	fprintf(stderr, "mpi-stream: rank %d: aborting every rank\n", my_rank);
	MPI_Abort(MPI_COMM_WORLD, 1);
	exit(EXIT_FAILURE); /* MPI_Abort does not return */
}

/*
 * The agreed error path for a step every rank takes: 1 when this rank
 * (`ok` false) or any other failed it, on every rank, so that all stop
 * together; 0 when all succeeded.
 */
static int
any_failed(bool ok)
{
	int bad = !ok, any = 0;

	MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
	return any;
}

/* ---------------------------------------------------------------- options */

static void
usage(FILE *out)
{
	fputs("Usage: mpirun -np N mpi-stream [OPTION]...\n"
	      "Streams a float array through one device per MPI rank: rank 0 "
	      "generates\n"
	      "(or reads) the input and scatters it in chunks, every rank runs "
	      "the\n"
	      "upload, the scale kernel (x = x + 1, ITERS times per element) "
	      "and the\n"
	      "download on three queues with two or more device buffers, and "
	      "sends\n"
	      "each result back once its download has completed; rank 0 "
	      "checks\n"
	      "every element against the CPU reference.\n\n"
	      "  --chunk-mib X   MiB per chunk (default 4; fractions allowed)\n"
	      "  --chunks N      chunks per rank (default 8)\n"
	      "  --slots N       device buffers per rank, used in rotation "
	      "(default\n"
	      "                  3; at least 2)\n"
	      "  --iters N       kernel iterations per element (default 16)\n"
	      "  --input FILE    read the input from FILE, raw float32 in the "
	      "host's\n"
	      "                  byte order, integers from 0 to 1048575: its "
	      "size\n"
	      "                  must be a whole number of chunks for every "
	      "rank\n"
	      "                  (it sets --chunks); without it rank 0 "
	      "generates\n"
	      "                  the input\n"
	      "  --devices LIST  a device spec per rank, comma-separated "
	      "(0:0,0:1)\n"
	      "  --fail R:C      make chunk C (counted from 0 among rank R's) "
	      "fail on\n"
	      "                  rank R's device, its upload waiting for an "
	      "event\n"
	      "                  that fails: the failure in the middle of the "
	      "stream\n"
	      "                  that aborts the job (no rank waits for ever)\n"
	      "  --json          print the report as JSON\n"
	      "  --help          show this help\n\n"
	      "Each rank's device: the spec of --devices at its rank, else "
	      "CLQ_DEVICE\n"
	      "(or PYOPENCL_CTX) as clq_device_select() reads it, else the "
	      "device of\n"
	      "clq's default platform at the rank's index among the ranks on "
	      "its node\n"
	      "(ranks share devices round-robin when there are fewer).\n\n"
	      "Exits 0 when every element matches the CPU reference, 1 on a "
	      "mismatch or\n"
	      "an error (on every rank: a rank that fails while others wait "
	      "for it\n"
	      "aborts the job), 2 on a bad option.\n",
	      out);
}

/* --fail RANK:CHUNK, two whole numbers (checked against the ranks and
 * chunks once they are known). */
static int
parse_fail(const char *text, struct options *opt)
{
	char *end;
	unsigned long long r, c;

	errno = 0;
	r = strtoull(text, &end, 10);
	if (!errno && end != text && *end == ':' && text[0] != '-' &&
	    end[1] != '-') {
		const char *chunk = end + 1;

		c = strtoull(chunk, &end, 10);
		if (!errno && end != chunk && !*end && r <= INT_MAX &&
		    c < 1u << 20) {
			opt->fail_set = true;
			opt->fail_rank = (size_t)r;
			opt->fail_chunk = (size_t)c;
			return 0;
		}
	}
	fprintf(stderr,
		"mpi-stream: --fail wants RANK:CHUNK, two whole numbers (such "
		"as 1:2), not '%s'\n",
		text);
	return -1;
}

/* Returns 0 to run, 1 when --help was printed, -1 on a bad option. */
static int
parse_options(int argc, char **argv, struct options *opt)
{
	enum {
		O_CHUNK_MIB = 256,
		O_CHUNKS,
		O_SLOTS,
		O_ITERS,
		O_INPUT,
		O_DEVICES,
		O_FAIL,
	};
	static const struct option longopts[] = {
		{"chunk-mib", required_argument, NULL, O_CHUNK_MIB},
		{"chunks", required_argument, NULL, O_CHUNKS},
		{"slots", required_argument, NULL, O_SLOTS},
		{"iters", required_argument, NULL, O_ITERS},
		{"input", required_argument, NULL, O_INPUT},
		{"devices", required_argument, NULL, O_DEVICES},
		{"fail", required_argument, NULL, O_FAIL},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	size_t v;
	int c;

	*opt = (struct options){
		.chunk_mib = 4, .chunks = 8, .slots = 3, .iters = 16};
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case O_CHUNK_MIB:
			if (example_parse_mib("mpi-stream", optarg,
					      &opt->chunk_mib) < 0)
				return -1;
			break;
		case O_CHUNKS:
			if (example_parse_size("mpi-stream", "chunks", optarg,
					       1, 1u << 20, &opt->chunks) < 0)
				return -1;
			opt->chunks_set = true;
			break;
		case O_SLOTS:
			/* one slot would leave nothing to overlap */
			if (example_parse_size("mpi-stream", "slots", optarg, 2,
					       64, &opt->slots) < 0)
				return -1;
			break;
		case O_ITERS:
			if (example_parse_size("mpi-stream", "iters", optarg, 1,
					       MAX_ITERS, &v) < 0)
				return -1;
			opt->iters = (unsigned)v;
			break;
		case O_INPUT:
			opt->input = optarg;
			break;
		case O_DEVICES:
			opt->devices = optarg;
			break;
		case O_FAIL:
			if (parse_fail(optarg, opt) < 0)
				return -1;
			break;
		case 'j':
			opt->json = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			fputs("Try 'mpi-stream --help'.\n", stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mpi-stream: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	{
		double elems = opt->chunk_mib * 1048576.0 / sizeof(float);

		opt->chunk_elems =
			(size_t)elems; /* >= 1: example_parse_mib() */
	}
	/* MPI counts are ints */
	if (opt->chunk_elems > INT_MAX) {
		fprintf(stderr,
			"mpi-stream: --chunk-mib %g is too large: one MPI "
			"message holds at most %d floats (%.0f MiB)\n",
			opt->chunk_mib, INT_MAX,
			floor(INT_MAX * (double)sizeof(float) / 1048576.0));
		return -1;
	}
	if (opt->input && opt->chunks_set) {
		fputs("mpi-stream: --input and --chunks exclude each other: "
		      "the file's size sets the chunks\n",
		      stderr);
		return -1;
	}
	return 0;
}

/* FNV-1a over `n` bytes, continuing from `h`. */
static uint64_t
hash_bytes(uint64_t h, const void *data, size_t n)
{
	const unsigned char *b = data;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3u;
	}
	return h;
}

/* The options as a hash, for comparing ranks' (NULL strings differ from
 * empty ones). */
static uint64_t
options_hash(const struct options *o)
{
	const char *strings[] = {o->input, o->devices};
	char text[160];
	int len = snprintf(text, sizeof(text),
			   "%zu %zu %d %zu %u %d %zu %zu %d", o->chunk_elems,
			   o->chunks, o->chunks_set, o->slots, o->iters,
			   o->fail_set, o->fail_rank, o->fail_chunk, o->json);
	uint64_t h = hash_bytes(0xcbf29ce484222325u, text, (size_t)len);

	for (int i = 0; i < 2; i++)
		h = strings[i]
			    ? hash_bytes(h, strings[i], strlen(strings[i]) + 1)
			    : hash_bytes(h, "", 0) ^ (uint64_t)(i + 1);
	return h;
}

/*
 * Whether this rank's options are rank 0's (every rank calls it). Ranks
 * started with other arguments (mpirun's A : B form) would send messages
 * of other sizes (MPI_ERR_TRUNCATE aborts the job) or compute other
 * results (the check fails): one that differs says so.
 */
static bool
same_options(const struct options *o, int rank)
{
	unsigned long long mine = options_hash(o), first = mine;

	MPI_Bcast(&first, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
	if (mine == first)
		return true;
	fprintf(stderr,
		"mpi-stream: rank %d was given other options than rank 0 "
		"(mpirun's A : B form): give every rank the same\n",
		rank);
	return false;
}

/* ------------------------------------------------------- choosing devices */

/* The spec of --devices at this rank into `out`: 0, or -1 after saying
 * (on rank 0: every rank reads the same list) what was wrong. */
static int
rank_spec(const char *list, int rank, int size, char *out)
{
	const char *p = list;
	int n = 0;

	for (;;) {
		size_t len = strcspn(p, ",");

		if (len == 0 || len >= MAX_SPEC) {
			if (rank == 0)
				fprintf(stderr,
					"mpi-stream: --devices wants a device "
					"spec of 1 to %d characters per rank, "
					"comma-separated (such as 0:0,0:1), "
					"not '%s'\n",
					MAX_SPEC - 1, list);
			return -1;
		}
		if (n == rank) {
			memcpy(out, p, len);
			out[len] = '\0';
		}
		n++;
		if (!p[len])
			break;
		p += len + 1;
	}
	if (n != size) {
		if (rank == 0)
			fprintf(stderr,
				"mpi-stream: --devices gives %d device "
				"spec%s for %d ranks: give one per rank\n",
				n, n == 1 ? "" : "s", size);
		return -1;
	}
	return 0;
}

/*
 * This rank's device: --devices' spec at its rank; else CLQ_DEVICE or
 * PYOPENCL_CTX, as clq_device_select() reads them; else, of the platform
 * of clq's default device (the first GPU, else accelerator, else CPU),
 * the device at the rank's index among the ranks of its node, modulo the
 * platform's device count.
 */
static int
choose_device(struct rank *R)
{
	const char *var = NULL, *value;
	char spec[MAX_SPEC];
	struct clq_device *dev = NULL;
	size_t count = 0, platform, n = 0;
	int rc;

	if (R->opt->devices) {
		if (rank_spec(R->opt->devices, R->rank, R->size, spec) < 0)
			return CLQ_ERROR_BAD_DEVICE_SPEC;
		snprintf(R->how, sizeof(R->how), "--devices");
		rc = clq_device_select(spec, &R->device);
		return rc < 0 ? fail("choosing the device --devices gives", rc)
			      : rc;
	}
	if ((value = getenv("CLQ_DEVICE")) && *value)
		var = "CLQ_DEVICE";
	else if ((value = getenv("PYOPENCL_CTX")) && *value)
		var = "PYOPENCL_CTX";
	if (var) {
		snprintf(R->how, sizeof(R->how), "%s", var);
		rc = clq_device_select(NULL, &R->device);
		return rc < 0 ? fail("choosing the device", rc) : rc;
	}
	if ((rc = clq_device_select(NULL, &dev)) < 0)
		return fail("choosing the default device", rc);
	platform = clq_device_get_platform_index(dev);
	clq_device_unref(dev);
	if ((rc = clq_device_count(&count)) < 0)
		return fail("counting the devices", rc);
	for (size_t i = 0; i < count; i++) {
		if ((rc = clq_device_get(i, &dev)) < 0)
			return fail("listing the devices", rc);
		if (clq_device_get_platform_index(dev) == platform)
			n++;
		clq_device_unref(dev);
	}
	/* n >= 1: the default device is one of them */
	snprintf(spec, sizeof(spec), "%zu:%zu", platform,
		 (size_t)R->local_rank % n);
	snprintf(R->how, sizeof(R->how),
		 "local rank %d of %d, %zu device%s on platform %zu",
		 R->local_rank, R->local_size, n, n == 1 ? "" : "s", platform);
	rc = clq_device_select(spec, &R->device);
	return rc < 0 ? fail("choosing the device", rc) : rc;
}

/* ------------------------------------------------------------ the objects */

/* The device side: context, queues, program, buffers, pool, notifier. */
static int
open_device(struct rank *R)
{
	static const char *const labels[N_STAGES] = {"upload", "kernel",
						     "download"};
	size_t n = R->opt->chunk_elems;
	int rc;

	if ((rc = choose_device(R)) < 0)
		return rc;
	if ((rc = clq_context_create(R->device, &R->ctx)) < 0)
		return fail("creating a context", rc);
	for (int s = 0; s < N_STAGES; s++) {
		if ((rc = clq_queue_create(R->ctx, CLQ_QUEUE_PROFILING,
					   &R->queue[s])) < 0)
			return fail("creating a profiling queue", rc);
		if ((rc = clq_queue_set_label(R->queue[s], labels[s])) < 0)
			return fail("labelling a queue", rc);
	}
	rc = clq_program_create_from_file(R->ctx, "scale.cl", NULL, 0, NULL,
					  &R->program);
	if (rc < 0)
		return fail("building scale.cl", rc);
	if ((rc = clq_kernel_create(R->program, "scale", &R->scale)) < 0)
		return fail("creating the scale kernel", rc);
	R->local = clq_kernel_get_work_group_size(R->scale);
	if (R->local > 256)
		R->local = 256;
	R->buffers = calloc(R->opt->slots, sizeof(*R->buffers));
	if (!R->buffers)
		return fail("allocating", CL_OUT_OF_HOST_MEMORY);
	for (size_t i = 0; i < R->opt->slots; i++) {
		char label[32];

		if ((rc = clq_device_array_create(R->ctx, CLQ_DTYPE_FLOAT32, 1,
						  &n, NULL, &R->buffers[i])) <
		    0)
			return fail("allocating a device buffer", rc);
		snprintf(label, sizeof(label), "buffer %zu", i);
		if ((rc = clq_device_array_set_label(R->buffers[i], label)) < 0)
			return fail("labelling a device buffer", rc);
	}
	if ((rc = clq_pool_create(R->opt->slots, (void *const *)R->buffers,
				  &R->pool)) < 0)
		return fail("creating the buffer pool", rc);
	if ((rc = clq_notifier_create(&R->notifier)) < 0)
		return fail("creating the notifier", rc);
	return CLQ_SUCCESS;
}

/* The host side: a pinned input and output array per chunk (rank 0: of
 * the whole stream), the events and the MPI requests. */
static int
open_host(struct rank *R)
{
	size_t n = R->opt->chunk_elems;
	int rc;

	R->n_arrays = R->rank == 0 ? (size_t)R->size * R->chunks : R->chunks;
	R->in = calloc(R->n_arrays, sizeof(*R->in));
	R->out = calloc(R->n_arrays, sizeof(*R->out));
	R->ev = calloc(R->chunks * N_STAGES, sizeof(*R->ev));
	R->order = calloc(R->chunks, sizeof(*R->order));
	R->recv = malloc(R->n_arrays * sizeof(*R->recv));
	R->send = malloc(R->n_arrays * sizeof(*R->send));
	R->done_index = malloc(R->n_arrays * sizeof(*R->done_index));
	if (!R->in || !R->out || !R->ev || !R->order || !R->recv || !R->send ||
	    !R->done_index)
		return fail("allocating", CL_OUT_OF_HOST_MEMORY);
	for (size_t i = 0; i < R->n_arrays; i++) {
		R->recv[i] = R->send[i] = MPI_REQUEST_NULL;
		if ((rc = clq_host_array_create(R->ctx, CLQ_DTYPE_FLOAT32, 1,
						&n, NULL, &R->in[i])) < 0 ||
		    (rc = clq_host_array_create(R->ctx, CLQ_DTYPE_FLOAT32, 1,
						&n, NULL, &R->out[i])) < 0)
			return fail("allocating the pinned host arrays", rc);
	}
	return CLQ_SUCCESS;
}

static void
rank_close(struct rank *R)
{
	for (size_t i = 0; R->ev && i < R->chunks * N_STAGES; i++)
		clq_event_unref(R->ev[i]);
	free(R->ev);
	free(R->order);
	for (size_t i = 0; i < R->n_arrays; i++) {
		if (R->in)
			clq_host_array_unref(R->in[i]);
		if (R->out)
			clq_host_array_unref(R->out[i]);
	}
	free(R->in);
	free(R->out);
	free(R->recv);
	free(R->send);
	free(R->done_index);
	clq_notifier_unref(R->notifier);
	clq_pool_unref(R->pool);
	for (size_t i = 0; R->buffers && i < R->opt->slots; i++)
		clq_device_array_unref(R->buffers[i]);
	free(R->buffers);
	clq_kernel_unref(R->scale);
	clq_program_unref(R->program);
	for (int s = 0; s < N_STAGES; s++)
		clq_queue_unref(R->queue[s]);
	clq_context_unref(R->ctx);
	clq_device_unref(R->device);
}

/* -------------------------------------------------------------- the input */

/* Rank 0: the whole stream's input, generated (xorshift64, a fixed seed,
 * integers below 2^20: double-buffer's sequence). */
static void
generate_input(struct rank *R)
{
	uint64_t x = 0x9E3779B97F4A7C15u;

	for (size_t g = 0; g < R->n_arrays; g++) {
		float *v = clq_host_array_data(R->in[g]);

		for (size_t i = 0; i < R->opt->chunk_elems; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			v[i] = (float)(x % INPUT_LIMIT);
		}
	}
}

/*
 * Rank 0, --input: the chunk count from the file's size, which must be a
 * positive whole number of chunks for every rank. Sets R->chunks.
 */
static int
input_chunks(struct rank *R, FILE *f)
{
	const char *path = R->opt->input;
	size_t chunk_bytes = R->opt->chunk_elems * sizeof(float);
	size_t per_round = chunk_bytes * (size_t)R->size;
	struct stat st;

	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr,
			"mpi-stream: --input %s is not a regular file: want "
			"raw float32 values\n",
			path);
		return CLQ_ERROR_IO;
	}
	if (st.st_size == 0 || (uintmax_t)st.st_size % per_round != 0 ||
	    (uintmax_t)st.st_size / per_round > 1u << 20) {
		fprintf(stderr,
			"mpi-stream: --input %s holds %jd bytes: want a "
			"positive multiple of %zu bytes (%d ranks x %zu-byte "
			"chunks of %.3g MiB), at most 1048576 chunks per "
			"rank\n",
			path, (intmax_t)st.st_size, per_round, R->size,
			chunk_bytes, R->opt->chunk_mib);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	R->chunks = (size_t)((uintmax_t)st.st_size / per_round);
	return CLQ_SUCCESS;
}

/* Rank 0, --input: reads chunk after chunk into the pinned arrays,
 * refusing a value that is not an integer from 0 to 2^20 - 1. */
static int
read_input(struct rank *R, FILE *f)
{
	const char *path = R->opt->input;
	size_t n = R->opt->chunk_elems;

	for (size_t g = 0; g < R->n_arrays; g++) {
		float *v = clq_host_array_data(R->in[g]);

		if (fread(v, sizeof(float), n, f) != n) {
			fprintf(stderr,
				"mpi-stream: --input %s: reading chunk %zu: "
				"%s\n",
				path, g,
				ferror(f) ? strerror(errno)
					  : "the file ended early");
			return CLQ_ERROR_IO;
		}
		for (size_t i = 0; i < n; i++) {
			/* NaN fails both comparisons */
			if (!(v[i] >= 0 && v[i] < (float)INPUT_LIMIT) ||
			    v[i] != floorf(v[i])) {
				fprintf(stderr,
					"mpi-stream: --input %s: element %zu "
					"is %g: want integers from 0 to %u "
					"(float32), so that the CPU reference "
					"is exact\n",
					path, g * n + i, (double)v[i],
					INPUT_LIMIT - 1);
				return CLQ_ERROR_INVALID_ARGUMENT;
			}
		}
	}
	return CLQ_SUCCESS;
}

/* Rank 0: the chunk count, the host arrays, the input. */
static int
prepare_input(struct rank *R)
{
	FILE *f = NULL;
	int rc;

	if (R->opt->input) {
		if (!(f = fopen(R->opt->input, "rb"))) {
			fprintf(stderr,
				"mpi-stream: cannot open --input %s: %s\n",
				R->opt->input, strerror(errno));
			return CLQ_ERROR_IO;
		}
		if ((rc = input_chunks(R, f)) < 0) {
			fclose(f);
			return rc;
		}
	}
	if ((size_t)R->size * R->chunks > INT_MAX) {
		fprintf(stderr,
			"mpi-stream: %d ranks x %zu chunks is more MPI "
			"requests than an int counts\n",
			R->size, R->chunks);
		rc = CLQ_ERROR_OVERFLOW;
	} else if ((rc = open_host(R)) == CLQ_SUCCESS) {
		if (f)
			rc = read_input(R, f);
		else
			generate_input(R);
	}
	if (f)
		fclose(f);
	return rc;
}

/* ------------------------------------------------------------- the stages */

static int
enqueue_kernel(struct rank *R, size_t buf, struct clq_event *const *wait,
	       struct clq_event **ev)
{
	cl_uint n = (cl_uint)R->opt->chunk_elems, it = R->opt->iters;
	cl_float one = 1.0f;
	struct clq_arg args[] = {
		CLQ_ARG_ARRAY(R->buffers[buf]),
		CLQ_ARG_VALUE(n),
		CLQ_ARG_VALUE(one),
		CLQ_ARG_VALUE(one),
		CLQ_ARG_VALUE(it),
	};
	size_t global =
		(R->opt->chunk_elems + R->local - 1) / R->local * R->local;

	return clq_queue_enqueue_kernel(R->queue[STAGE_KERNEL], R->scale, args,
					5, 1, &global, &R->local, wait, 1, ev);
}

/*
 * Chunk `c`'s upload, kernel and download, in the pool's buffer released
 * longest ago: the upload waits for that buffer's last download (the
 * pool's events), the kernel for the upload, the download for the kernel;
 * the notifier watches the download. Returns at once. A failure here
 * leaves commands half-enqueued while other ranks wait for this one's
 * results: it aborts the job.
 */
static void
enqueue_chunk(struct rank *R, size_t c)
{
	struct clq_event **ev = &R->ev[c * N_STAGES];
	struct clq_event *const *reuse;
	/* --fail: the pool's events and a user event failed below */
	struct clq_event *wait[2] = {NULL, NULL}, *failing = NULL;
	size_t b, n_reuse;
	int rc;

	/* never fails for want of a slot: each is released before the next
	 * acquire, with the events after which it is free */
	if ((rc = clq_pool_acquire(R->pool, 0, &b, &reuse, &n_reuse)) < 0)
		abort_job("taking a device buffer from the pool", rc);
	if (R->opt->fail_set && R->opt->fail_rank == (size_t)R->rank &&
	    R->opt->fail_chunk == c) {
		/* at most one event: each slot's last release had one */
		if (n_reuse)
			wait[0] = reuse[0];
		if ((rc = clq_user_event_create(R->ctx, &failing)) < 0)
			abort_job("creating the user event of --fail", rc);
		wait[n_reuse ? 1 : 0] = failing;
		reuse = wait;
		n_reuse = n_reuse ? 2 : 1;
	}
	if ((rc = clq_device_array_set_async(
		     R->buffers[b], R->queue[STAGE_UPLOAD], R->in[c],
		     n_reuse ? reuse : NULL, n_reuse, &ev[STAGE_UPLOAD])) < 0 ||
	    (rc = enqueue_kernel(R, b, &ev[STAGE_UPLOAD], &ev[STAGE_KERNEL])) <
		    0 ||
	    (rc = clq_device_array_get_async(
		     R->buffers[b], R->queue[STAGE_DOWNLOAD], R->out[c],
		     &ev[STAGE_KERNEL], 1, &ev[STAGE_DOWNLOAD])) < 0 ||
	    (rc = clq_pool_release(R->pool, b, &ev[STAGE_DOWNLOAD], 1)) < 0 ||
	    /* flushes the download's queue */
	    (rc = clq_notifier_watch(R->notifier, ev[STAGE_DOWNLOAD], ev)) <
		    0 ||
	    (rc = clq_queue_flush(R->queue[STAGE_UPLOAD])) < 0 ||
	    (rc = clq_queue_flush(R->queue[STAGE_KERNEL])) < 0) {
		char what[64];

		snprintf(what, sizeof(what), "enqueueing chunk %zu", c);
		abort_job(what, rc);
	}
	R->order[R->n_enqueued++] = c;
	if (failing) {
		fprintf(stderr,
			"mpi-stream: rank %d: --fail: failing chunk %zu's "
			"upload\n",
			R->rank, c);
		rc = clq_user_event_complete(failing, CL_INVALID_OPERATION);
		clq_event_unref(failing);
		if (rc < 0)
			abort_job("failing the user event of --fail", rc);
	}
}

/*
 * One chunk through every device buffer, waited for, before the clock
 * starts: the timed run should not pay for first-use costs (kernel
 * compilation, a driver allocating a buffer's memory when first used).
 * Rank 0's chunk 0 holds input; the others' is zeroed first. The outputs
 * are cleared afterwards.
 */
static int
warm_up(struct rank *R)
{
	int rc = CLQ_SUCCESS;

	if (R->rank != 0)
		memset(clq_host_array_data(R->in[0]), 0,
		       R->opt->chunk_elems * sizeof(float));
	for (size_t b = 0; b < R->opt->slots && rc == CLQ_SUCCESS; b++) {
		struct clq_event *ev[N_STAGES] = {NULL};

		if ((rc = clq_device_array_set_async(
			     R->buffers[b], R->queue[STAGE_UPLOAD], R->in[0],
			     NULL, 0, &ev[0])) == CLQ_SUCCESS &&
		    (rc = enqueue_kernel(R, b, &ev[0], &ev[1])) ==
			    CLQ_SUCCESS &&
		    (rc = clq_device_array_get_async(
			     R->buffers[b], R->queue[STAGE_DOWNLOAD], R->out[0],
			     &ev[1], 1, &ev[2])) == CLQ_SUCCESS)
			rc = clq_event_wait(ev[2]);
		for (int s = 0; s < N_STAGES; s++)
			clq_event_unref(ev[s]);
	}
	/* 0 is no element's right result (inputs >= 0, iters >= 1): a
	 * chunk that never arrives cannot pass the check */
	for (size_t i = 0; i < R->n_arrays && rc == CLQ_SUCCESS; i++)
		memset(clq_host_array_data(R->out[i]), 0,
		       R->opt->chunk_elems * sizeof(float));
	return rc < 0 ? fail("warming up", rc) : rc;
}

/* ---------------------------------------------------------------- the loop */

/* The largest message tag: MPI promises 32767 (MPI_TAG_UB; OpenMPI's is
 * 2^31 - 1). */
static size_t
tag_ub(void)
{
	int *ub = NULL, flag = 0;

	MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &ub, &flag);
	return flag && ub && *ub > 0 ? (size_t)*ub : 32767;
}

/* MPI_Testsome over `n` requests: how many completed (0 when none did or
 * none is active); their indices in R->done_index. */
static size_t
test_some(struct rank *R, MPI_Request *req, size_t n)
{
	int count = 0;

	MPI_Testsome((int)n, req, &count, R->done_index, MPI_STATUSES_IGNORE);
	return count == MPI_UNDEFINED ? 0 : (size_t)count;
}

/*
 * Posts what can be posted before the clock starts: rank 0 the receives
 * of every other rank's results, the others the receives of their input.
 */
static void
post_receives(struct rank *R)
{
	int n = (int)R->opt->chunk_elems;

	for (size_t g = R->rank == 0 ? R->chunks : 0; g < R->n_arrays; g++) {
		int source = R->rank == 0 ? (int)(g / R->chunks) : 0;
		int tag = (int)(g % R->chunks);
		struct clq_host_array *a = R->rank == 0 ? R->out[g] : R->in[g];

		MPI_Irecv(clq_host_array_data(a), n, MPI_FLOAT, source, tag,
			  MPI_COMM_WORLD, &R->recv[g]);
	}
}

/* Waits for the notifier's descriptor (a download completed) for at
 * most POLL_NS, then returns to MPI. pselect(): poll()'s timeout counts
 * whole milliseconds. */
static void
nap(struct rank *R)
{
	int fd = clq_notifier_get_fd(R->notifier);
	struct timespec ts = {0, POLL_NS};
	fd_set readable;

	if (fd >= FD_SETSIZE) {
		nanosleep(&ts, NULL);
		return;
	}
	FD_ZERO(&readable);
	FD_SET(fd, &readable);
	pselect(fd + 1, &readable, NULL, NULL, &ts, NULL);
}

/*
 * After chunk `c`'s download failed: the first of this rank's commands,
 * in enqueue order, that has failed, when it is another one, into `out`
 * (else ""). A chunk's upload waits for the download of the chunk before
 * it in its buffer, so one failure fails the chunks after it too, and
 * the notifier may hand over a later one's first (one that failed before
 * it was watched comes at once).
 */
static void
first_failure(const struct rank *R, size_t c, char *out, size_t size)
{
	out[0] = '\0';
	for (size_t k = 0; k < R->n_enqueued; k++) {
		for (int s = 0; s < N_STAGES; s++) {
			struct clq_event *e = R->ev[R->order[k] * N_STAGES + s];
			int status = CL_COMPLETE;

			if (clq_event_get_status(e, &status) < 0 || status >= 0)
				continue;
			if (R->order[k] != c || s != STAGE_DOWNLOAD)
				snprintf(out, size,
					 "; chunk %zu's %s failed first "
					 "(status %d)",
					 R->order[k], stage_names[s], status);
			return;
		}
	}
}

/*
 * Hands over the downloads completed since the last call: on ranks other
 * than 0, each chunk's result is sent to rank 0 now, once its download's
 * completion has been drained. Returns how many; a failed download
 * aborts the job.
 */
static size_t
drain_downloads(struct rank *R)
{
	enum { BATCH = 16 };
	struct clq_completion done[BATCH];
	size_t got, total = 0;

	do {
		int rc = clq_notifier_drain(R->notifier, done, BATCH, &got);

		if (rc < 0)
			abort_job("draining the notifier", rc);
		if (got)
			R->wakeups++;
		for (size_t i = 0; i < got; i++) {
			/* user_data: the chunk's first event slot */
			struct clq_event **ev = done[i].user_data;
			size_t c = (size_t)(ev - R->ev) / N_STAGES;
			int status = done[i].status;

			clq_event_unref(done[i].event);
			if (status != CL_COMPLETE) {
				char what[160], cause[96];

				first_failure(R, c, cause, sizeof(cause));
				snprintf(what, sizeof(what),
					 "chunk %zu's download (status %d)%s",
					 c, status, cause);
				abort_job(what, CLQ_ERROR_COMMAND_FAILED);
			}
			if (R->rank != 0)
				MPI_Isend(clq_host_array_data(R->out[c]),
					  (int)R->opt->chunk_elems, MPI_FLOAT,
					  0, (int)c, MPI_COMM_WORLD,
					  &R->send[c]);
		}
		total += got;
	} while (got == BATCH);
	return total;
}

/*
 * The stream, from the start barrier until this rank's part is done:
 * rank 0 sends every other rank its input, runs its own chunks and
 * receives the others' results; every other rank runs each chunk as soon
 * as it has arrived and sends its result once the download has completed.
 * MPI errors abort the job (MPI_ERRORS_ARE_FATAL, MPI's default).
 */
static void
stream(struct rank *R)
{
	int n = (int)R->opt->chunk_elems;
	size_t remote = R->rank == 0 ? R->n_arrays - R->chunks : 0;
	/* requests outstanding, and chunks enqueued but not yet drained */
	size_t recv_left = R->rank == 0 ? remote : R->chunks;
	size_t send_left = R->rank == 0 ? remote : R->chunks;
	size_t on_device = 0, device_left = R->chunks;
	double t0 = example_now(), last = t0;

	if (R->rank == 0) {
		for (size_t g = R->chunks; g < R->n_arrays; g++)
			MPI_Isend(clq_host_array_data(R->in[g]), n, MPI_FLOAT,
				  (int)(g / R->chunks), (int)(g % R->chunks),
				  MPI_COMM_WORLD, &R->send[g]);
		for (size_t c = 0; c < R->chunks; c++)
			enqueue_chunk(R, c);
		on_device = R->chunks;
	}
	while (recv_left || send_left || device_left) {
		/* MPI requests posted and not completed: a rank's sends are
		 * posted as downloads complete */
		bool mpi_busy = R->rank == 0
					? recv_left || send_left
					: recv_left || send_left > device_left;
		bool device_busy = on_device > 0, progress = false;
		size_t k, got;
		double t;

		/* receives completed: on rank 0 results gathered, on the
		 * others input chunks, which go on to the device */
		if (recv_left && (k = test_some(R, R->recv, R->n_arrays))) {
			recv_left -= k;
			progress = true;
			for (size_t i = 0; R->rank != 0 && i < k; i++) {
				enqueue_chunk(R, (size_t)R->done_index[i]);
				on_device++;
			}
		}
		/* downloads completed: results out (other ranks) */
		if ((got = drain_downloads(R)) > 0) {
			on_device -= got;
			device_left -= got;
			progress = true;
		}
		if (send_left && (k = test_some(R, R->send, R->n_arrays))) {
			send_left -= k;
			progress = true;
		}
		t = example_now();
		if (mpi_busy && device_busy)
			R->overlap += t - last;
		last = t;
		/* OpenMPI moves a large message only while its ranks call
		 * into MPI (rendezvous, then fragments): a nap with requests
		 * in flight starved it (3 GB/s between two ranks on one
		 * machine with 100 us naps), so the loop naps only when MPI
		 * has nothing to move, and otherwise just yields. */
		if (!progress && mpi_busy)
			sched_yield();
		else if (!progress)
			nap(R);
	}
	R->wall = example_now() - t0;
}

/* Median device seconds of each stage over this rank's chunks. */
static int
stage_medians(struct rank *R)
{
	double *v = malloc(R->chunks * sizeof(*v));
	int rc = v ? CLQ_SUCCESS : CL_OUT_OF_HOST_MEMORY;

	for (int s = 0; s < N_STAGES && rc == CLQ_SUCCESS; s++) {
		size_t n = R->chunks;

		for (size_t c = 0; c < n && rc == CLQ_SUCCESS; c++) {
			struct clq_event_times t;

			rc = clq_event_get_times(R->ev[c * N_STAGES + s], &t);
			if (rc == CLQ_SUCCESS)
				v[c] = (double)(t.end - t.start) * 1e-9;
		}
		if (rc == CLQ_SUCCESS) {
			qsort(v, n, sizeof(*v), example_compare_double);
			R->stage[s] = n % 2 ? v[n / 2]
					    : 0.5 * (v[n / 2 - 1] + v[n / 2]);
		}
	}
	free(v);
	return rc < 0 ? fail("reading the device timestamps", rc) : rc;
}

/* Rank 0: every output element against the CPU reference. */
static size_t
count_mismatches(const struct rank *R)
{
	size_t n = R->opt->chunk_elems, bad = 0;

	for (size_t g = 0; g < R->n_arrays; g++) {
		const float *in = clq_host_array_data(R->in[g]);
		const float *out = clq_host_array_data(R->out[g]);

		for (size_t i = 0; i < n; i++) {
			float want = in[i] + (float)R->opt->iters;

			if (out[i] != want && bad++ < 5)
				fprintf(stderr,
					"mpi-stream: element %zu (chunk %zu, "
					"rank %zu's) is %.1f, the CPU "
					"reference says %.1f\n",
					g * n + i, g, g / R->chunks,
					(double)out[i], (double)want);
		}
	}
	return bad;
}

/* --------------------------------------------------------------- report */

static void
fill_report(const struct rank *R, struct rank_report *rr)
{
	memset(rr, 0, sizeof(*rr));
	rr->wall = R->wall;
	rr->overlap = R->overlap;
	for (int s = 0; s < N_STAGES; s++)
		rr->stage[s] = R->stage[s];
	rr->chunks = (double)R->chunks;
	rr->wakeups = (double)R->wakeups;
	rr->local_rank = R->local_rank;
	rr->local_size = R->local_size;
	snprintf(rr->device, sizeof(rr->device), "%s",
		 clq_device_get_name(R->device));
	snprintf(rr->platform, sizeof(rr->platform), "%s",
		 clq_device_get_platform_name(R->device));
	snprintf(rr->spec, sizeof(rr->spec), "%zu:%zu",
		 clq_device_get_platform_index(R->device),
		 clq_device_get_index_in_platform(R->device));
	snprintf(rr->how, sizeof(rr->how), "%s", R->how);
}

/* Decimal gigabytes of input a second. */
static double
throughput(const struct rank *R, double chunks, double seconds)
{
	return seconds > 0 ? chunks * (double)R->opt->chunk_elems *
				     sizeof(float) / seconds * 1e-9
			   : 0;
}

static void
print_text(const struct rank *R, const struct rank_report *rr, size_t bad)
{
	const struct options *o = R->opt;
	double total = (double)R->n_arrays;

	printf("ranks: %d, %zu chunks each of %.3g MiB (%zu floats), %zu "
	       "device buffers and 3 queues per rank, %u iterations per "
	       "element, input %s\n",
	       R->size, R->chunks, o->chunk_mib, o->chunk_elems, o->slots,
	       o->iters, o->input ? o->input : "generated on rank 0");
	for (int r = 0; r < R->size; r++) {
		const struct rank_report *p = &rr[r];

		printf("rank %d: %s (%s), device %s, chosen by %s\n", r,
		       p->device, p->platform, p->spec, p->how);
		printf("  device time per chunk (median): upload %.3f ms, "
		       "kernel %.3f ms, download %.3f ms\n",
		       p->stage[STAGE_UPLOAD] * 1e3,
		       p->stage[STAGE_KERNEL] * 1e3,
		       p->stage[STAGE_DOWNLOAD] * 1e3);
		printf("  %.3f ms, %.3f GB/s; MPI requests and device "
		       "commands both outstanding for %.3f ms; %.0f notifier "
		       "wake-ups\n",
		       p->wall * 1e3, throughput(R, p->chunks, p->wall),
		       p->overlap * 1e3, p->wakeups);
	}
	printf("total: %.0f chunks in %.3f ms (rank 0, scatter to gather): "
	       "%.3f GB/s\n",
	       total, R->wall * 1e3, throughput(R, total, R->wall));
	if (bad)
		printf("check: MISMATCH: %zu of %.0f elements differ from the "
		       "CPU reference\n",
		       bad, total * (double)o->chunk_elems);
	else
		printf("check: all %.0f elements match the CPU reference\n",
		       total * (double)o->chunk_elems);
}

static void
print_json(const struct rank *R, const struct rank_report *rr, size_t bad)
{
	const struct options *o = R->opt;
	double total = (double)R->n_arrays;

	printf("{\n  \"format\": 1,\n  \"n_ranks\": %d,\n"
	       "  \"chunk_bytes\": %zu,\n  \"chunks_per_rank\": %zu,\n"
	       "  \"slots\": %zu,\n  \"queues\": 3,\n  \"iters\": %u,\n"
	       "  \"input\": ",
	       R->size, o->chunk_elems * sizeof(float), R->chunks, o->slots,
	       o->iters);
	if (o->input)
		example_print_json_string(o->input);
	else
		printf("null");
	printf(",\n  \"ranks\": [\n");
	for (int r = 0; r < R->size; r++) {
		const struct rank_report *p = &rr[r];

		printf("  {\"rank\": %d, \"device\": ", r);
		example_print_json_string(p->device);
		printf(", \"platform\": ");
		example_print_json_string(p->platform);
		printf(", \"spec\": ");
		example_print_json_string(p->spec);
		printf(", \"chosen_by\": ");
		example_print_json_string(p->how);
		printf(", \"local_rank\": %.0f, \"local_ranks\": %.0f, "
		       "\"chunks\": %.0f, \"wall_s\": %.9g, \"gb_s\": %.6g, "
		       "\"overlap_s\": %.9g, \"wakeups\": %.0f, "
		       "\"stage_s\": {",
		       p->local_rank, p->local_size, p->chunks, p->wall,
		       throughput(R, p->chunks, p->wall), p->overlap,
		       p->wakeups);
		for (int s = 0; s < N_STAGES; s++)
			printf("%s\"%s\": %.9g", s ? ", " : "", stage_names[s],
			       p->stage[s]);
		printf("}}%s\n", r + 1 < R->size ? "," : "");
	}
	printf("  ],\n  \"total\": {\"chunks\": %.0f, \"wall_s\": %.9g, "
	       "\"gb_s\": %.6g, \"mismatches\": %zu}\n}\n",
	       total, R->wall, throughput(R, total, R->wall), bad);
}

/* ------------------------------------------------------------------- main */

/* example_log_to_stderr(), the message said by its rank */
static void
log_to_stderr(enum clq_log_level level, const char *message, void *user_data)
{
	(void)user_data;
	if (level <= example_log_level())
		fprintf(stderr, "clq (rank %d): %s\n", my_rank, message);
}

/* This rank's index among the ranks of its node, and their number. */
static void
local_rank(struct rank *R)
{
	MPI_Comm node;

	MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, R->rank,
			    MPI_INFO_NULL, &node);
	MPI_Comm_rank(node, &R->local_rank);
	MPI_Comm_size(node, &R->local_size);
	MPI_Comm_free(&node);
}

/*
 * The run after the options: every step that any rank can fail ends in
 * any_failed(), so that all ranks stop together with status 1 (the
 * failing rank has said why); from the start barrier on, a failure aborts
 * the job. Returns the exit status, the same on every rank.
 */
static int
run(struct rank *R)
{
	struct rank_report mine, *all = NULL;
	unsigned long long chunks;
	size_t bad = 0;
	int status;

	local_rank(R);
	/* a --devices list that does not give one spec per rank is a bad
	 * option, as --fail beyond the ranks is: every rank sees it, rank 0
	 * says why */
	if (R->opt->devices) {
		char spec[MAX_SPEC];

		if (rank_spec(R->opt->devices, R->rank, R->size, spec) < 0)
			return 2;
	}
	if (any_failed(open_device(R) == CLQ_SUCCESS)) {
		if (R->rank == 0)
			fputs("mpi-stream: stopping: a rank could not open its "
			      "device (its message says why)\n",
			      stderr);
		return EXIT_FAILURE;
	}
	/* rank 0 sets the chunk count (from --input's size) and tells the
	 * others, or tells them it failed (0 chunks) */
	R->chunks = R->opt->chunks;
	chunks = 0;
	if (R->rank == 0 && prepare_input(R) == CLQ_SUCCESS)
		chunks = R->chunks;
	MPI_Bcast(&chunks, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
	if (chunks == 0) {
		if (R->rank != 0)
			fprintf(stderr,
				"mpi-stream: rank %d: stopping: rank 0 could "
				"not prepare the input\n",
				R->rank);
		return EXIT_FAILURE;
	}
	R->chunks = (size_t)chunks;
	/* a chunk's messages carry its index as their tag */
	if (R->chunks - 1 > tag_ub()) {
		if (R->rank == 0)
			fprintf(stderr,
				"mpi-stream: %zu chunks per rank: this MPI "
				"tags messages up to %zu (MPI_TAG_UB); want "
				"fewer chunks or larger ones (--chunk-mib)\n",
				R->chunks, tag_ub());
		return 2;
	}
	/* every rank knows both: all stop, rank 0 says why */
	if (R->opt->fail_set && (R->opt->fail_rank >= (size_t)R->size ||
				 R->opt->fail_chunk >= R->chunks)) {
		if (R->rank == 0)
			fprintf(stderr,
				"mpi-stream: --fail %zu:%zu: want a rank below "
				"%d and a chunk below %zu\n",
				R->opt->fail_rank, R->opt->fail_chunk, R->size,
				R->chunks);
		return 2;
	}
	if (any_failed((R->rank == 0 || open_host(R) == CLQ_SUCCESS) &&
		       warm_up(R) == CLQ_SUCCESS)) {
		if (R->rank == 0)
			fputs("mpi-stream: stopping: a rank could not set up "
			      "its host arrays or warm its device up (its "
			      "message says why)\n",
			      stderr);
		return EXIT_FAILURE;
	}
	post_receives(R);
	MPI_Barrier(MPI_COMM_WORLD);
	stream(R);
	if (stage_medians(R) < 0)
		abort_job("reading the timestamps", CLQ_ERROR_COMMAND_FAILED);
	fill_report(R, &mine);
	if (R->rank == 0 && !(all = calloc((size_t)R->size, sizeof(*all))))
		abort_job("allocating the report", CL_OUT_OF_HOST_MEMORY);
	/* the report as bytes: the ranks run one build of this program */
	MPI_Gather(&mine, sizeof(mine), MPI_BYTE, all, sizeof(mine), MPI_BYTE,
		   0, MPI_COMM_WORLD);
	if (R->rank == 0) {
		bad = count_mismatches(R);
		if (R->opt->json)
			print_json(R, all, bad);
		else
			print_text(R, all, bad);
		fflush(stdout);
	}
	free(all);
	status = bad ? EXIT_FAILURE : EXIT_SUCCESS;
	MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
	return status;
}

int
main(int argc, char **argv)
{
	struct options opt;
	struct rank R = {.opt = &opt};
	int rc = 0, status;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &R.rank);
	MPI_Comm_size(MPI_COMM_WORLD, &R.size);
	my_rank = R.rank;
	clq_set_log_handler(log_to_stderr, NULL);
	/* Rank 0 reads the options first and says what is wrong; the
	 * others, given the same arguments, then read them silently. */
	if (R.rank == 0)
		rc = parse_options(argc, argv, &opt);
	MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
	if (rc == 0 && R.rank != 0)
		rc = parse_options(argc, argv, &opt);
	/* (ranks started with other arguments, mpirun's A : B form, may
	 * still differ: all stop if any does) */
	if (any_failed(rc == 0)) {
		/* a rank that read its own options well stops for another's
		 * (--help or a bad option given to it alone): it says so */
		if (rc == 0)
			fprintf(stderr,
				"mpi-stream: rank %d: stopping, another rank "
				"was given --help or a bad option (mpirun's "
				"A : B form): give every rank the same\n",
				R.rank);
		MPI_Finalize();
		return rc > 0 ? EXIT_SUCCESS : 2;
	}
	if (any_failed(same_options(&opt, R.rank))) {
		MPI_Finalize();
		return 2;
	}
	status = run(&R);
	rank_close(&R);
	MPI_Finalize();
	return status;
}
