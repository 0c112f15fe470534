/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bandwidth of clq_stager_copy() between two devices, against the pinned
 * transfer bandwidth of each device measured in the same run.
 *
 *   bench-stager [MIB [DEVICE_B [REPS]]]
 *       (default 1024 MiB, REPS 5; device A from CLQ_DEVICE, device B a
 *       spec as clq_device_select() takes, else (or "") another context
 *       on A)
 *
 * Measured, each the median of REPS runs timed on the host from the call
 * to the end of its event (blocking transfers for the pinned ones):
 *   pinned   a plain device array read into (get) and written from (set)
 *            a pinned host array of its own context, on each device;
 *   staged   clq_stager_copy() A to B and B to A with the default pieces
 *            (16 MiB x 4), the data checked once each way; its ratio to
 *            the slower of the two pinned transfers it is made of (the
 *            source's read, the destination's write), and to the slower
 *            direction's (the goal: >= 0.9);
 *   memory   the same with each arrangement of CLQ_STAGER_MEMORY;
 *   sweep    A to B for piece sizes 4..64 MiB by 2, 4, 8 pieces.
 * GB/s are 1e9 bytes per second.
 *
 * On the machine with two H200s: `clq-time devices` lists each device
 * with the specs that select it (clq's grammar has `P:D`, not
 * `nvidia:1`, which would be a name substring); with NVIDIA's platform
 * first (the first lines printed name both devices and their indices):
 *   build/tools/clq-time/clq-time devices
 *   CLQ_DEVICE=0:0 build/tests/bench/bench-stager 1024 0:1 5
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clq/clq.h>

#include "bench.h"

struct side {
	struct clq_context *ctx;
	struct clq_queue *q;
	struct clq_device_array *dev; /* filled with a pattern */
	struct clq_device_array *dst; /* staged copies land here */
	struct clq_host_array *host;  /* pinned */
};

static size_t n_bytes, reps;

static int
check(const char *what, int rc)
{
	if (rc < 0)
		fprintf(stderr, "bench-stager: %s: %s (%s)\n", what,
			clq_error_name(rc), clq_strerror(rc));
	return rc;
}

static void
quiet(enum clq_log_level level, const char *message, void *user_data)
{
	(void)user_data;
	if (level <= CLQ_LOG_WARNING)
		fprintf(stderr, "clq: %s\n", message);
}

static double
gbps(double seconds)
{
	return (double)n_bytes / seconds * 1e-9;
}

static int
side_open(struct clq_device *d, unsigned char seed, struct side *s)
{
	unsigned char *p;
	int rc;

	if ((rc = check("context", clq_context_create(d, &s->ctx))) < 0 ||
	    (rc = check("queue", clq_queue_create(s->ctx, 0, &s->q))) < 0 ||
	    (rc = check("device array",
			clq_device_array_create(s->ctx, CLQ_DTYPE_UINT8, 1,
						&n_bytes, NULL, &s->dev))) <
		    0 ||
	    (rc = check("device array",
			clq_device_array_create(s->ctx, CLQ_DTYPE_UINT8, 1,
						&n_bytes, NULL, &s->dst))) <
		    0 ||
	    (rc = check("pinned host array",
			clq_host_array_create(s->ctx, CLQ_DTYPE_UINT8, 1,
					      &n_bytes, NULL, &s->host))) < 0)
		return rc;
	p = clq_host_array_data(s->host);
	for (size_t i = 0; i < n_bytes; i++)
		p[i] = (unsigned char)(i * 131 + i / 4099 + seed);
	return check("set", clq_device_array_set(s->dev, s->q, s->host));
}

static void
side_close(struct side *s)
{
	clq_device_array_unref(s->dev);
	clq_device_array_unref(s->dst);
	clq_host_array_unref(s->host);
	clq_queue_unref(s->q);
	clq_context_unref(s->ctx);
}

/* Median GB/s of REPS blocking pinned transfers (+1 warm-up). */
static int
pinned(struct side *s, int read, double *out)
{
	double *t = calloc(reps, sizeof(*t));
	int rc = 0;

	if (!t)
		return -1;
	for (size_t r = 0; r <= reps && rc == 0; r++) {
		double t0 = bench_now();

		rc = read ? clq_device_array_get(s->dev, s->q, s->host)
			  : clq_device_array_set(s->dev, s->q, s->host);
		if (r > 0)
			t[r - 1] = bench_now() - t0;
	}
	if (check(read ? "pinned read" : "pinned write", rc) == 0)
		*out = gbps(bench_median(t, reps));
	free(t);
	return rc;
}

/* Whether `to->dst` holds what `from->dev` does (read through `from`'s
 * and `to`'s pinned host arrays, which are overwritten). */
static int
same_data(struct side *from, struct side *to)
{
	if (check("get", clq_device_array_get(from->dev, from->q, from->host)) <
		    0 ||
	    check("get", clq_device_array_get(to->dst, to->q, to->host)) < 0)
		return -1;
	if (memcmp(clq_host_array_data(from->host),
		   clq_host_array_data(to->host), n_bytes) != 0) {
		fprintf(stderr, "bench-stager: the staged copy differs\n");
		return -1;
	}
	return 0;
}

/* Median GB/s of REPS staged copies from `a` to `b` (+1 warm-up whose
 * data is checked when `verify`). */
static int
staged(struct side *a, struct side *b, size_t piece, size_t n_pieces,
       size_t n_reps, int verify, double *out)
{
	struct clq_stager *s = NULL;
	double *t = calloc(n_reps, sizeof(*t));
	int rc;

	if (!t)
		return -1;
	rc = check("stager",
		   clq_stager_create(a->ctx, b->ctx, piece, n_pieces, &s));
	for (size_t r = 0; r <= n_reps && rc == 0; r++) {
		struct clq_event *e = NULL;
		double t0 = bench_now();

		rc = check("copy", clq_stager_copy(s, b->dst, b->q, a->dev,
						   a->q, NULL, 0, &e));
		if (rc == 0)
			rc = check("copy's event", clq_event_wait(e));
		if (r > 0)
			t[r - 1] = bench_now() - t0;
		clq_event_unref(e);
		if (r == 0 && rc == 0 && verify)
			rc = same_data(a, b);
	}
	if (rc == 0)
		*out = gbps(bench_median(t, n_reps));
	clq_stager_unref(s);
	free(t);
	return rc;
}

int
main(int argc, char **argv)
{
	static const char *const modes[] = {"src", "dst", "registered"};
	struct clq_device *da = NULL, *db = NULL;
	struct side a = {0}, b = {0};
	double ra, wa, rb, wb, ab, ba, slower;
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
	int rc;

	reps = argc > 3 ? strtoul(argv[3], NULL, 10) : 5;
	if (mib == 0 || mib > ((size_t)1 << 20) || reps == 0) {
		fprintf(stderr,
			"usage: bench-stager [MIB>0 [DEVICE_B [REPS>0]]]\n");
		return 2;
	}
	n_bytes = mib << 20;
	clq_set_log_handler(quiet, NULL);
	if ((rc = clq_device_select(NULL, &da)) == CLQ_ERROR_NO_DEVICE)
		return 77;
	if (check("device A", rc) < 0)
		return 1;
	if (argc > 2 && argv[2][0])
		rc = clq_device_select(argv[2], &db);
	else
		db = clq_device_ref(da);
	if (check("device B", rc) < 0 || side_open(da, 1, &a) < 0 ||
	    side_open(db, 7, &b) < 0)
		return 1;
	printf("device A: %s (%s, global index %zu)\n", clq_device_get_name(da),
	       clq_device_get_driver_version(da), clq_device_get_index(da));
	printf("device B: %s (%s, global index %zu)%s\n",
	       clq_device_get_name(db), clq_device_get_driver_version(db),
	       clq_device_get_index(db),
	       clq_device_get_index(da) == clq_device_get_index(db)
		       ? ": the same device, another context"
		       : "");
	printf("%zu MiB, median of %zu; GB/s = 1e9 bytes/s\n", mib, reps);

	if (pinned(&a, 1, &ra) < 0 || pinned(&a, 0, &wa) < 0 ||
	    pinned(&b, 1, &rb) < 0 || pinned(&b, 0, &wb) < 0)
		return 1;
	printf("pinned   A read %.2f  A write %.2f  B read %.2f  B write "
	       "%.2f GB/s\n",
	       ra, wa, rb, wb);
	if (staged(&a, &b, 0, 0, reps, 1, &ab) < 0 ||
	    staged(&b, &a, 0, 0, reps, 1, &ba) < 0)
		return 1;
	/* each direction against its own two transfers, and the slower */
	slower = (ra < wb ? ra : wb) < (rb < wa ? rb : wa)
			 ? (ra < wb ? ra : wb)
			 : (rb < wa ? rb : wa);
	printf("staged   A->B %.2f GB/s (%.3f of min(A read, B write)); "
	       "B->A %.2f GB/s (%.3f of min(B read, A write))\n",
	       ab, ab / (ra < wb ? ra : wb), ba, ba / (rb < wa ? rb : wa));
	printf("staged   slower pinned transfer %.2f GB/s: A->B %.3f, "
	       "B->A %.3f of it (goal >= 0.9)\n",
	       slower, ab / slower, ba / slower);

	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		double x, y;

		setenv("CLQ_STAGER_MEMORY", modes[m], 1);
		if (staged(&a, &b, 0, 0, reps, 1, &x) < 0 ||
		    staged(&b, &a, 0, 0, reps, 1, &y) < 0)
			return 1;
		printf("memory   %-10s A->B %.2f  B->A %.2f GB/s\n", modes[m],
		       x, y);
	}
	unsetenv("CLQ_STAGER_MEMORY");

	printf("sweep    A->B GB/s by piece MiB (rows) and pieces (columns)\n");
	printf("         %8s %8s %8s\n", "2", "4", "8");
	for (size_t piece = 4; piece <= 64; piece *= 2) {
		printf("         %2zu MiB ", piece);
		for (size_t n = 2; n <= 8; n *= 2) {
			double x = 0;

			if ((piece << 20) * n > n_bytes * 2) {
				printf(" %8s", "-");
				continue;
			}
			if (staged(&a, &b, piece << 20, n, reps > 3 ? 3 : reps,
				   0, &x) < 0)
				return 1;
			printf(" %8.2f", x);
		}
		printf("\n");
	}
	side_close(&a);
	side_close(&b);
	clq_device_unref(da);
	clq_device_unref(db);
	return 0;
}
