/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cl_khr_command_buffer against plain enqueues, in raw OpenCL (no clq):
 * the same N kernel launches recorded once into a command buffer and
 * replayed, or enqueued one by one each time.
 *
 *   bench-command-buffer CL_DIR [K [REPS]]   (default K 4, REPS 200)
 *   bench-command-buffer CL_DIR K REPS plain|cmdbuf   one kind, for
 *                                                      callgrind
 *
 * CL_DIR holds clq's fill.cl, scale.cl and transpose.cl. The launches:
 * fill X, scale X in place, transpose X into Y (64 x 64 floats,
 * work-groups of 256 and 16 x 16), that triple K times: N = 3K launches
 * on one in-order queue (a command buffer's commands run in order).
 * The device: the first one, over all platforms, whose extensions name
 * cl_khr_command_buffer; without one the bench exits 77 (skipped).
 *
 * Measured, each REPS times, median reported:
 *   record   creating the command buffer, recording N commands and
 *            finalizing it (once per command buffer, the plan's cost);
 *   enqueue  the host time of one replay while the device is held by a
 *            user event: one clEnqueueCommandBufferKHR, or N
 *            clSetKernelArg + clEnqueueNDRangeKernel (per launch);
 *   round    one replay enqueued and finished (clFinish), device time
 *            included: what a replay costs end to end.
 * Y is checked after each round trip.
 *
 * With a fourth argument, only REPS gated enqueues of that kind run (after
 * one warm-up round trip), each inside the function `measured_enqueue`:
 *   valgrind --tool=callgrind --collect-atstart=no \
 *            --toggle-collect=measured_enqueue \
 *            bench-command-buffer cl 4 200 cmdbuf
 * counts the host instructions of REPS replays.
 */
#define CL_TARGET_OPENCL_VERSION 300
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS /* clCreateCommandQueue */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CL/cl.h>
#include <CL/cl_ext.h>

#include "bench.h"

#define SIDE 64
#define WG 256
#define TILE 16

static clCreateCommandBufferKHR_fn create_cb;
static clCommandNDRangeKernelKHR_fn command_nd;
static clFinalizeCommandBufferKHR_fn finalize_cb;
static clEnqueueCommandBufferKHR_fn enqueue_cb;
static clReleaseCommandBufferKHR_fn release_cb;

struct bench {
	cl_platform_id platform;
	cl_device_id device;
	cl_context ctx;
	cl_command_queue q;
	cl_program programs[3];
	cl_kernel kernels[3]; /* fill, scale, transpose */
	cl_mem x, y;
	int k;
	int simultaneous; /* the device allows simultaneous use */
};

static const cl_float fill_value = 1.0f, scale_a = 0.5f, scale_b = 1.0f;
static const cl_uint scale_iters = 1;

#define CHECK(call)                                                            \
	do {                                                                   \
		cl_int err_ = (call);                                          \
		if (err_ != CL_SUCCESS) {                                      \
			fprintf(stderr, "%s:%d: %s: %d\n", __FILE__, __LINE__, \
				#call, err_);                                  \
			exit(1);                                               \
		}                                                              \
	} while (0)

static char *
read_file(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;
	long n;
	char *s;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = malloc((size_t)n + 1);
	if (!s || fread(s, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(1);
	}
	s[n] = '\0';
	fclose(f);
	return s;
}

/* The first device with cl_khr_command_buffer; 0 if none. */
static int
find_device(struct bench *b)
{
	cl_platform_id platforms[16];
	cl_uint np = 0;

	if (clGetPlatformIDs(16, platforms, &np) != CL_SUCCESS)
		return 0;
	for (cl_uint p = 0; p < np && p < 16; p++) {
		cl_device_id devices[16];
		cl_uint nd = 0;

		if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 16,
				   devices, &nd) != CL_SUCCESS)
			continue;
		for (cl_uint d = 0; d < nd && d < 16; d++) {
			char ext[8192] = "";

			clGetDeviceInfo(devices[d], CL_DEVICE_EXTENSIONS,
					sizeof(ext) - 1, ext, NULL);
			if (strstr(ext, "cl_khr_command_buffer")) {
				b->platform = platforms[p];
				b->device = devices[d];
				return 1;
			}
		}
	}
	return 0;
}

/* Loads an extension function into *fn_out (a function pointer; copied
 * bytewise, as ISO C has no cast from void * to a function pointer). */
static void
load(struct bench *b, const char *name, void *fn_out, size_t size)
{
	void *f = clGetExtensionFunctionAddressForPlatform(b->platform, name);

	if (!f || size != sizeof(f)) {
		fprintf(stderr, "%s: not found\n", name);
		exit(1);
	}
	memcpy(fn_out, &f, size);
}

static void
describe(struct bench *b)
{
	char name[256] = "", platform[256] = "";
	cl_device_command_buffer_capabilities_khr caps = 0;
	cl_command_queue_properties props = 0;
	cl_name_version ext[128];
	size_t size = 0;

	clGetDeviceInfo(b->device, CL_DEVICE_NAME, sizeof(name) - 1, name,
			NULL);
	clGetPlatformInfo(b->platform, CL_PLATFORM_VERSION,
			  sizeof(platform) - 1, platform, NULL);
	printf("device: %s / %s\n", platform, name);
	if (clGetDeviceInfo(b->device, CL_DEVICE_EXTENSIONS_WITH_VERSION,
			    sizeof(ext), ext, &size) == CL_SUCCESS)
		for (size_t i = 0; i < size / sizeof(*ext); i++)
			if (strcmp(ext[i].name, "cl_khr_command_buffer") == 0)
				printf("cl_khr_command_buffer %u.%u.%u\n",
				       CL_VERSION_MAJOR(ext[i].version),
				       CL_VERSION_MINOR(ext[i].version),
				       CL_VERSION_PATCH(ext[i].version));
	clGetDeviceInfo(b->device, CL_DEVICE_COMMAND_BUFFER_CAPABILITIES_KHR,
			sizeof(caps), &caps, NULL);
	b->simultaneous =
		(caps & CL_COMMAND_BUFFER_CAPABILITY_SIMULTANEOUS_USE_KHR) != 0;
	clGetDeviceInfo(b->device,
			CL_DEVICE_COMMAND_BUFFER_REQUIRED_QUEUE_PROPERTIES_KHR,
			sizeof(props), &props, NULL);
	printf("capabilities 0x%llx (simultaneous use: %s), required queue "
	       "properties 0x%llx\n",
	       (unsigned long long)caps,
	       caps & CL_COMMAND_BUFFER_CAPABILITY_SIMULTANEOUS_USE_KHR ? "yes"
									: "no",
	       (unsigned long long)props);
}

static void
setup(struct bench *b, const char *dir)
{
	static const char *const files[3] = {"fill.cl", "scale.cl",
					     "transpose.cl"};
	static const char *const names[3] = {"fill", "scale", "transpose"};
	cl_int err;

	b->ctx = clCreateContext(NULL, 1, &b->device, NULL, NULL, &err);
	CHECK(err);
	b->q = clCreateCommandQueue(b->ctx, b->device, 0, &err);
	CHECK(err);
	for (int j = 0; j < 3; j++) {
		char *src = read_file(dir, files[j]);
		const char *s = src;

		b->programs[j] =
			clCreateProgramWithSource(b->ctx, 1, &s, NULL, &err);
		CHECK(err);
		CHECK(clBuildProgram(b->programs[j], 1, &b->device,
				     j == 2 ? "-DTRANSPOSE_TILE=16" : "", NULL,
				     NULL));
		b->kernels[j] = clCreateKernel(b->programs[j], names[j], &err);
		CHECK(err);
		free(src);
	}
	b->x = clCreateBuffer(b->ctx, CL_MEM_READ_WRITE,
			      SIDE * SIDE * sizeof(cl_float), NULL, &err);
	CHECK(err);
	b->y = clCreateBuffer(b->ctx, CL_MEM_READ_WRITE,
			      SIDE * SIDE * sizeof(cl_float), NULL, &err);
	CHECK(err);
	load(b, "clCreateCommandBufferKHR", &create_cb, sizeof(create_cb));
	load(b, "clCommandNDRangeKernelKHR", &command_nd, sizeof(command_nd));
	load(b, "clFinalizeCommandBufferKHR", &finalize_cb,
	     sizeof(finalize_cb));
	load(b, "clEnqueueCommandBufferKHR", &enqueue_cb, sizeof(enqueue_cb));
	load(b, "clReleaseCommandBufferKHR", &release_cb, sizeof(release_cb));
}

/* The three kernels' arguments (set once for recording, or per launch). */
static void
set_args(struct bench *b, int j)
{
	cl_uint n = SIDE * SIDE, side = SIDE;

	if (j == 0) {
		CHECK(clSetKernelArg(b->kernels[0], 0, sizeof(b->x), &b->x));
		CHECK(clSetKernelArg(b->kernels[0], 1, sizeof(n), &n));
		CHECK(clSetKernelArg(b->kernels[0], 2, sizeof(fill_value),
				     &fill_value));
	} else if (j == 1) {
		CHECK(clSetKernelArg(b->kernels[1], 0, sizeof(b->x), &b->x));
		CHECK(clSetKernelArg(b->kernels[1], 1, sizeof(n), &n));
		CHECK(clSetKernelArg(b->kernels[1], 2, sizeof(scale_a),
				     &scale_a));
		CHECK(clSetKernelArg(b->kernels[1], 3, sizeof(scale_b),
				     &scale_b));
		CHECK(clSetKernelArg(b->kernels[1], 4, sizeof(scale_iters),
				     &scale_iters));
	} else {
		CHECK(clSetKernelArg(b->kernels[2], 0, sizeof(b->y), &b->y));
		CHECK(clSetKernelArg(b->kernels[2], 1, sizeof(side), &side));
		CHECK(clSetKernelArg(b->kernels[2], 2, sizeof(b->x), &b->x));
		CHECK(clSetKernelArg(b->kernels[2], 3, sizeof(side), &side));
		CHECK(clSetKernelArg(b->kernels[2], 4, sizeof(side), &side));
		CHECK(clSetKernelArg(b->kernels[2], 5, sizeof(side), &side));
	}
}

static const size_t flat = SIDE * SIDE, wg = WG;
static const size_t global2[2] = {SIDE, SIDE}, local2[2] = {TILE, TILE};

/* Records the N launches; returns the finalized command buffer. */
static cl_command_buffer_khr
record(struct bench *b)
{
	/* so that a replay may be enqueued before the last one ended */
	const cl_command_buffer_properties_khr props[3] = {
		CL_COMMAND_BUFFER_FLAGS_KHR,
		b->simultaneous ? CL_COMMAND_BUFFER_SIMULTANEOUS_USE_KHR : 0,
		0};
	cl_int err;
	cl_command_buffer_khr cb = create_cb(1, &b->q, props, &err);

	CHECK(err);
	for (int i = 0; i < b->k; i++)
		for (int j = 0; j < 3; j++) {
			set_args(b, j);
			CHECK(command_nd(
				cb, NULL, NULL, b->kernels[j], j == 2 ? 2 : 1,
				NULL, j == 2 ? global2 : &flat,
				j == 2 ? local2 : &wg, 0, NULL, NULL, NULL));
		}
	CHECK(finalize_cb(cb));
	return cb;
}

/* The N launches, arguments set for each as a plain enqueuer must. */
static void
enqueue_plain(struct bench *b, cl_event *gate)
{
	for (int i = 0; i < b->k; i++)
		for (int j = 0; j < 3; j++) {
			set_args(b, j);
			CHECK(clEnqueueNDRangeKernel(
				b->q, b->kernels[j], j == 2 ? 2 : 1, NULL,
				j == 2 ? global2 : &flat, j == 2 ? local2 : &wg,
				gate && i == 0 && j == 0, gate, NULL));
		}
}

static void
replay(struct bench *b, cl_command_buffer_khr cb, cl_event *gate)
{
	cl_command_queue q = b->q;

	if (cb)
		CHECK(enqueue_cb(1, &q, cb, gate ? 1 : 0, gate, NULL));
	else
		enqueue_plain(b, gate);
}

/* Y must be the transposed 0.5 * 1 + 1 everywhere. */
static void
check_y(struct bench *b, const char *what)
{
	static cl_float y[SIDE * SIDE];

	memset(y, 0, sizeof(y));
	CHECK(clEnqueueReadBuffer(b->q, b->y, CL_TRUE, 0, sizeof(y), y, 0, NULL,
				  NULL));
	for (size_t i = 0; i < SIDE * SIDE; i++)
		if (y[i] != 1.5f) {
			fprintf(stderr, "%s: y[%zu] is %g, not 1.5\n", what, i,
				(double)y[i]);
			exit(1);
		}
}

/* One gated replay, for callgrind (see the top). */
__attribute__((noinline)) static void
measured_enqueue(struct bench *b, cl_command_buffer_khr cb, cl_event *gate)
{
	replay(b, cb, gate);
}

static void
run_only(struct bench *b, cl_command_buffer_khr cb, int reps)
{
	for (int r = 0; r < reps; r++) {
		cl_int err;
		cl_event gate = clCreateUserEvent(b->ctx, &err);

		CHECK(err);
		measured_enqueue(b, cb, &gate);
		CHECK(clSetUserEventStatus(gate, CL_COMPLETE));
		CHECK(clFinish(b->q));
		CHECK(clReleaseEvent(gate));
	}
	check_y(b, cb ? "command buffer" : "plain");
	printf("%d gated replays of %d launches (%s)\n", reps, 3 * b->k,
	       cb ? "cmdbuf" : "plain");
}

int
main(int argc, char **argv)
{
	struct bench b = {0};
	int reps;
	double *t_rec, *t_enq[2], *t_round[2];
	cl_command_buffer_khr cb;

	if (argc < 2) {
		fprintf(stderr,
			"usage: bench-command-buffer CL_DIR [K [REPS]]\n");
		return 2;
	}
	b.k = argc > 2 ? atoi(argv[2]) : 4;
	reps = argc > 3 ? atoi(argv[3]) : 200;
	if (b.k < 1 || reps < 1) {
		fprintf(stderr, "K and REPS must be positive\n");
		return 2;
	}
	if (!find_device(&b)) {
		printf("no device with cl_khr_command_buffer: skipped\n");
		return 77;
	}
	describe(&b);
	setup(&b, argv[1]);
	t_rec = calloc((size_t)reps, sizeof(double));
	for (int v = 0; v < 2; v++) {
		t_enq[v] = calloc((size_t)reps, sizeof(double));
		t_round[v] = calloc((size_t)reps, sizeof(double));
		if (!t_enq[v] || !t_round[v] || !t_rec)
			return 1;
	}
	/* record: a fresh command buffer each time */
	for (int r = 0; r < reps; r++) {
		double t0 = bench_now();

		cb = record(&b);
		t_rec[r] = bench_now() - t0;
		CHECK(release_cb(cb));
	}
	cb = record(&b);
	if (argc > 4) {
		int use_cb = strcmp(argv[4], "cmdbuf") == 0;

		replay(&b, use_cb ? cb : NULL, NULL);
		CHECK(clFinish(b.q));
		run_only(&b, use_cb ? cb : NULL, reps);
		CHECK(release_cb(cb));
		return 0;
	}
	/* warm up both (one replay of a command buffer at a time unless
	 * the device allows simultaneous use) */
	for (int r = 0; r < 10; r++) {
		replay(&b, cb, NULL);
		replay(&b, NULL, NULL);
		CHECK(clFinish(b.q));
	}
	CHECK(clFinish(b.q));
	for (int r = 0; r < reps; r++) {
		for (int v = 0; v < 2; v++) {
			int which = (r + v) % 2; /* 0 plain, 1 command buffer */
			cl_int err;
			cl_event gate = clCreateUserEvent(b.ctx, &err);
			double t0;

			CHECK(err);
			t0 = bench_now();
			replay(&b, which ? cb : NULL, &gate);
			t_enq[which][r] = bench_now() - t0;
			CHECK(clSetUserEventStatus(gate, CL_COMPLETE));
			CHECK(clFinish(b.q));
			CHECK(clReleaseEvent(gate));
			t0 = bench_now();
			replay(&b, which ? cb : NULL, NULL);
			CHECK(clFinish(b.q));
			t_round[which][r] = bench_now() - t0;
			check_y(&b, which ? "command buffer" : "plain");
		}
	}
	{
		double rec = bench_median(t_rec, (size_t)reps);
		double ep = bench_median(t_enq[0], (size_t)reps);
		double ec = bench_median(t_enq[1], (size_t)reps);
		double rp = bench_median(t_round[0], (size_t)reps);
		double rcb = bench_median(t_round[1], (size_t)reps);
		int n = 3 * b.k;

		printf("%d launches, %d repetitions, medians (wall clock)\n", n,
		       reps);
		printf("record + finalize: %.1f us (%.2f us per launch)\n",
		       rec * 1e6, rec * 1e6 / n);
		printf("%-16s %12s %12s %8s\n", "", "plain", "cmdbuf",
		       "cmdbuf/plain");
		printf("%-16s %12.2f %12.2f %8.3f\n", "enqueue us", ep * 1e6,
		       ec * 1e6, ec / ep);
		printf("%-16s %12.2f %12.2f\n", "  per launch", ep * 1e6 / n,
		       ec * 1e6 / n);
		printf("%-16s %12.2f %12.2f %8.3f\n", "round trip us", rp * 1e6,
		       rcb * 1e6, rcb / rp);
		printf("%-16s %12.2f %12.2f\n", "  per launch", rp * 1e6 / n,
		       rcb * 1e6 / n);
	}
	CHECK(release_cb(cb));
	for (int v = 0; v < 2; v++) {
		free(t_enq[v]);
		free(t_round[v]);
	}
	free(t_rec);
	clReleaseMemObject(b.x);
	clReleaseMemObject(b.y);
	for (int j = 0; j < 3; j++) {
		clReleaseKernel(b.kernels[j]);
		clReleaseProgram(b.programs[j]);
	}
	clReleaseCommandQueue(b.q);
	clReleaseContext(b.ctx);
	return 0;
}
