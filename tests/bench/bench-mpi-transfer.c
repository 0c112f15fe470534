/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reference for examples/mpi-stream with two ranks: its MPI traffic
 * alone, without a device. Rank 0 sends CHUNKS chunks of CHUNK_MIB MiB to
 * rank 1, which sends each back as soon as it has arrived; rank 0 gathers
 * them and checks every byte. That is what mpi-stream moves for rank 1's
 * half of the work, so the time this takes bounds mpi-stream's two-rank
 * run from below, whatever the devices do.
 *
 *   mpirun -np 2 bench-mpi-transfer CHUNK_MIB CHUNKS [REPEATS [MEMORY]]
 *
 * MEMORY: "pinned" (the default: clq host arrays, as mpi-stream's, on the
 * default device of CLQ_DEVICE) or "malloc" (pageable memory, no device).
 * Prints, on rank 0, each repeat's round-trip time and the bandwidth each
 * way (chunk bytes over the time, decimal GB/s), then their medians. Run
 * it under the same mpirun options as mpi-stream (tests/bench/
 * mpi-devices.sh), e.g. with `--mca btl_vader_single_copy_mechanism none`
 * to see what OpenMPI's single-copy path is worth.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include <clq/clq.h>

#include "bench.h"

enum { MAX_REPEATS = 64 };

/* One rank's memory: clq host arrays or malloc'd. */
struct memory {
	struct clq_context *ctx;
	struct clq_host_array *array;
	unsigned char *data, *owned;
};

static int
memory_open(struct memory *m, size_t bytes, int pinned)
{
	*m = (struct memory){0};
	if (!pinned) {
		m->data = m->owned = malloc(bytes);
		return m->data ? CLQ_SUCCESS : CL_OUT_OF_HOST_MEMORY;
	}
	int rc = clq_context_create_default(&m->ctx);

	if (rc == CLQ_SUCCESS)
		rc = clq_host_array_create(m->ctx, CLQ_DTYPE_UINT8, 1, &bytes,
					   NULL, &m->array);
	if (rc == CLQ_SUCCESS)
		m->data = clq_host_array_data(m->array);
	return rc;
}

static void
memory_close(struct memory *m)
{
	clq_host_array_unref(m->array);
	clq_context_unref(m->ctx);
	free(m->owned);
}

/* MPI counts are ints: a chunk is sent as `count` elements of a block
 * type of `block` bytes. */
struct chunking {
	size_t bytes;
	int count;
	MPI_Datatype type;
};

/* Rank 0: every chunk out, every chunk back; the round trip's seconds. */
static double
rank0_round(const struct chunking *ck, size_t chunks, unsigned char *out,
	    unsigned char *back, MPI_Request *req)
{
	double t0;

	MPI_Barrier(MPI_COMM_WORLD);
	t0 = MPI_Wtime();
	for (size_t c = 0; c < chunks; c++)
		MPI_Irecv(back + c * ck->bytes, ck->count, ck->type, 1, (int)c,
			  MPI_COMM_WORLD, &req[chunks + c]);
	for (size_t c = 0; c < chunks; c++)
		MPI_Isend(out + c * ck->bytes, ck->count, ck->type, 1, (int)c,
			  MPI_COMM_WORLD, &req[c]);
	MPI_Waitall((int)(2 * chunks), req, MPI_STATUSES_IGNORE);
	return MPI_Wtime() - t0;
}

/* Rank 1: each chunk back as soon as it has come. */
static void
rank1_round(const struct chunking *ck, size_t chunks, unsigned char *buf,
	    MPI_Request *req)
{
	MPI_Request *send = req + chunks;

	for (size_t c = 0; c < chunks; c++)
		MPI_Irecv(buf + c * ck->bytes, ck->count, ck->type, 0, (int)c,
			  MPI_COMM_WORLD, &req[c]);
	MPI_Barrier(MPI_COMM_WORLD);
	for (size_t n = 0; n < chunks; n++) {
		int c;

		MPI_Waitany((int)chunks, req, &c, MPI_STATUS_IGNORE);
		MPI_Isend(buf + (size_t)c * ck->bytes, ck->count, ck->type, 0,
			  c, MPI_COMM_WORLD, &send[c]);
	}
	MPI_Waitall((int)chunks, send, MPI_STATUSES_IGNORE);
}

static void
fill(unsigned char *p, size_t n)
{
	uint64_t x = 0x9E3779B97F4A7C15u;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)x;
	}
}

static void
report(const double *t, int repeats, double bytes, const char *memory)
{
	double sorted[MAX_REPEATS], gbs[MAX_REPEATS];

	for (int r = 0; r < repeats; r++) {
		sorted[r] = t[r];
		gbs[r] = bytes / t[r] * 1e-9;
		printf("MPI round trip (%s): %.3f ms, %.2f GB/s each way\n",
		       memory, t[r] * 1e3, gbs[r]);
	}
	printf("MPI round trip (%s) median of %d: %.3f ms, %.2f GB/s each "
	       "way\n",
	       memory, repeats, bench_median(sorted, (size_t)repeats) * 1e3,
	       bench_median(gbs, (size_t)repeats));
}

static int
usage(int rank)
{
	if (rank == 0)
		fprintf(stderr,
			"usage: mpirun -np 2 bench-mpi-transfer CHUNK_MIB "
			"CHUNKS [REPEATS [pinned|malloc]]\n"
			"  CHUNK_MIB from 1 KiB (0.0009765625) to 1024, CHUNKS "
			"from 1 to 4096, REPEATS from 1 to %d\n",
			MAX_REPEATS);
	return 2;
}

int
main(int argc, char **argv)
{
	int rank, size, repeats, pinned;
	size_t chunks;
	double mib, t[MAX_REPEATS];
	struct chunking ck = {0};
	struct memory mem[2] = {{0}};
	MPI_Request *req = NULL;
	int rc = 0, ok;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	mib = argc > 2 ? strtod(argv[1], NULL) : 0;
	chunks = argc > 2 ? strtoul(argv[2], NULL, 10) : 0;
	repeats = argc > 3 ? atoi(argv[3]) : 3;
	pinned = argc <= 4 || strcmp(argv[4], "malloc") != 0;
	if (size != 2 || !(mib * 1024 >= 1) || mib > 1024 || chunks == 0 ||
	    chunks > 4096 || repeats < 1 || repeats > MAX_REPEATS ||
	    (argc > 4 && pinned && strcmp(argv[4], "pinned") != 0)) {
		rc = usage(rank);
		goto out;
	}
	/* whole KiB blocks: MPI's int counts reach 2 TiB per chunk */
	ck.bytes = (size_t)(mib * 1024) * 1024;
	ck.count = (int)(ck.bytes / 1024);
	MPI_Type_contiguous(1024, MPI_BYTE, &ck.type);
	MPI_Type_commit(&ck.type);
	req = calloc(2 * chunks, sizeof(*req));
	ok = req != NULL;
	for (int k = 0; k < (rank == 0 ? 2 : 1) && ok; k++)
		ok = memory_open(&mem[k], chunks * ck.bytes, pinned) ==
		     CLQ_SUCCESS;
	MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
	if (!ok) {
		if (rank == 0)
			fprintf(stderr, "bench-mpi-transfer: no memory\n");
		rc = 1;
		goto free;
	}
	if (rank == 0)
		fill(mem[0].data, chunks * ck.bytes);
	/* the warm-up round pins pageable pages and opens connections */
	for (int r = -1; r < repeats; r++) {
		if (rank == 0) {
			memset(mem[1].data, 0, chunks * ck.bytes);
			double s = rank0_round(&ck, chunks, mem[0].data,
					       mem[1].data, req);

			if (memcmp(mem[0].data, mem[1].data,
				   chunks * ck.bytes) != 0) {
				fprintf(stderr, "bench-mpi-transfer: the "
						"chunks came back changed\n");
				rc = 1;
			}
			if (r >= 0)
				t[r] = s;
		} else {
			rank1_round(&ck, chunks, mem[0].data, req);
		}
	}
	if (rank == 0 && rc == 0)
		report(t, repeats, (double)(chunks * ck.bytes),
		       pinned ? "pinned" : "malloc");
free:
	memory_close(&mem[0]);
	memory_close(&mem[1]);
	free(req);
	MPI_Type_free(&ck.type);
out:
	MPI_Finalize();
	return rc;
}
