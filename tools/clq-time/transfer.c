/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * clq-time transfer: host->device and device->host bandwidth with pinned
 * (clq host arrays) and pageable host memory, and device->device copies,
 * at each --size.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clq-time.h"

enum direction { HOST_TO_DEVICE, DEVICE_TO_HOST, DEVICE_TO_DEVICE };

static const char *const direction_names[] = {
	"host-to-device", "device-to-host", "device-to-device"};

/* One kind of transfer, as time_repeatedly() repeats it. */
struct transfer {
	enum direction dir;
	struct clq_queue *queue;
	struct clq_device_array *src, *dst; /* dst: DEVICE_TO_DEVICE only */
	struct clq_host_array *host;	    /* NULL for DEVICE_TO_DEVICE */
};

/*
 * What the memory of a result is, as the output names it: "pinned" only
 * where clq_host_array_is_pinned() says so; a clq host array the driver
 * did not pin is "not pinned", whatever --memory asked for.
 */
enum memory_kind { PINNED, NOT_PINNED, PAGEABLE, DEVICE, REGISTERED };

static const char *const memory_names[] = {"pinned", "not pinned", "pageable",
					   "device", "registered"};

/* Which host memory host_memory() makes. */
enum host_kind { HOST_PINNED, HOST_REGISTERED, HOST_PAGEABLE };

struct transfer_result {
	enum direction dir;
	enum memory_kind memory;
	bool pinned; /* REGISTERED: clq_host_array_is_pinned() */
	size_t bytes;
	struct stats device, wall; /* seconds */
};

static int
enqueue_transfer(void *data, struct clq_event **event_out)
{
	const struct transfer *t = data;

	switch (t->dir) {
	case HOST_TO_DEVICE:
		return clq_device_array_set_async(t->src, t->queue, t->host,
						  NULL, 0, event_out);
	case DEVICE_TO_HOST:
		return clq_device_array_get_async(t->src, t->queue, t->host,
						  NULL, 0, event_out);
	default:
		return clq_device_array_copy(t->dst, t->queue, t->src, NULL, 0,
					     event_out);
	}
}

/* "16 MiB", "64 KiB", "1000 B": the largest unit that divides `bytes`. */
static const char *
format_size(size_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB"};
	size_t u = 0;

	while (u < 3 && bytes >= 1024 && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, "%zu %s", bytes, units[u]);
	return buf;
}

/* Host memory of `bytes` bytes: a clq host array (pinned where the driver
 * allows), pageable memory (aligned_alloc, as an application's own
 * buffers would be) or that memory registered with
 * clq_host_array_register() (page-aligned), touched so that no page faults
 * land in the timed runs. `*data_out` is the block to free after the
 * array, or NULL. */
static int
host_memory(struct session *s, size_t bytes, enum host_kind kind,
	    struct clq_host_array **out, void **data_out)
{
	size_t align = kind == HOST_REGISTERED ? 4096 : 64;
	size_t rounded = (bytes + align - 1) / align * align;
	void *data;
	int rc;

	*data_out = NULL;
	if (kind == HOST_PINNED) {
		if ((rc = clq_host_array_create(s->ctx, CLQ_DTYPE_UINT8, 1,
						&bytes, NULL, out)) < 0)
			return fail("allocating a host array", rc);
		memset(clq_host_array_data(*out), 0x5a, bytes);
		return CLQ_SUCCESS;
	}
	if (!(data = aligned_alloc(align, rounded)))
		return fail("allocating pageable host memory",
			    CL_OUT_OF_HOST_MEMORY);
	memset(data, 0x5a, rounded);
	if (kind == HOST_REGISTERED)
		rc = clq_host_array_register(s->ctx, CLQ_DTYPE_UINT8, 1, &bytes,
					     NULL, data, out);
	else
		rc = clq_host_array_wrap(CLQ_DTYPE_UINT8, 1, &bytes, NULL, data,
					 out);
	if (rc < 0) {
		free(data);
		return fail(kind == HOST_REGISTERED
				    ? "registering pageable host memory"
				    : "wrapping pageable host memory",
			    rc);
	}
	*data_out = data;
	return CLQ_SUCCESS;
}

/* Times one direction with one kind of memory; appends to `results`. */
static int
time_transfer(struct session *s, struct transfer *t, enum memory_kind memory,
	      size_t bytes, struct transfer_result *results, size_t *n_results)
{
	struct transfer_result *r = &results[*n_results];
	char label[64], size[32];
	struct timed timed = {enqueue_transfer, t, t->queue, NULL};
	int rc;

	snprintf(label, sizeof(label), "%s %s %s",
		 t->dir == HOST_TO_DEVICE   ? "write"
		 : t->dir == DEVICE_TO_HOST ? "read"
					    : "copy",
		 memory_names[memory], format_size(bytes, size, sizeof(size)));
	timed.label = s->timeline ? label : NULL;
	rc = time_repeatedly(&timed, s->opt->budget, &r->device, &r->wall);
	if (rc < 0) {
		snprintf(label, sizeof(label), "timing %s %s",
			 direction_names[t->dir], memory_names[memory]);
		return fail(label, rc);
	}
	r->dir = t->dir;
	r->memory = memory;
	r->pinned = memory == PINNED ||
		    (memory == REGISTERED && clq_host_array_is_pinned(t->host));
	r->bytes = bytes;
	(*n_results)++;
	return CLQ_SUCCESS;
}

/* Every direction and memory kind asked for at one size (up to 7
 * results). */
static int
time_transfers_of_size(struct session *s, size_t bytes,
		       struct transfer_result *results, size_t *n_results)
{
	struct clq_device_array *a = NULL, *b = NULL;
	unsigned mask = s->opt->memory;
	int rc;

	if ((rc = clq_device_array_create(s->ctx, CLQ_DTYPE_UINT8, 1, &bytes,
					  NULL, &a)) < 0 ||
	    ((mask & MEMORY_DEVICE) &&
	     (rc = clq_device_array_create(s->ctx, CLQ_DTYPE_UINT8, 1, &bytes,
					   NULL, &b)) < 0)) {
		fail("allocating device memory", rc);
		goto out;
	}
	for (int k = HOST_PINNED; k <= HOST_PAGEABLE && rc == CLQ_SUCCESS;
	     k++) {
		static const unsigned bits[] = {
			MEMORY_PINNED, MEMORY_REGISTERED, MEMORY_PAGEABLE};
		struct transfer t = {HOST_TO_DEVICE, s->queue, a, NULL, NULL};
		enum memory_kind memory =
			k == HOST_REGISTERED ? REGISTERED : PAGEABLE;
		void *data;

		if (!(mask & bits[k]))
			continue;
		if ((rc = host_memory(s, bytes, (enum host_kind)k, &t.host,
				      &data)) < 0)
			break;
		if (k == HOST_PINNED)
			memory = clq_host_array_is_pinned(t.host) ? PINNED
								  : NOT_PINNED;
		rc = time_transfer(s, &t, memory, bytes, results, n_results);
		t.dir = DEVICE_TO_HOST;
		if (rc == CLQ_SUCCESS)
			rc = time_transfer(s, &t, memory, bytes, results,
					   n_results);
		/* every transfer ended: the unref unregisters at once, and
		 * the memory may go */
		clq_queue_finish(s->queue);
		clq_host_array_unref(t.host);
		free(data);
	}
	if (rc == CLQ_SUCCESS && (mask & MEMORY_DEVICE)) {
		struct transfer t = {DEVICE_TO_DEVICE, s->queue, a, b, NULL};

		rc = time_transfer(s, &t, DEVICE, bytes, results, n_results);
	}
out:
	clq_device_array_unref(a);
	clq_device_array_unref(b);
	return rc;
}

/* GB/s (10^9 bytes per second) for `bytes` in `seconds`; inf for 0 s. */
static double
gbps(size_t bytes, double seconds)
{
	return seconds > 0 ? (double)bytes / seconds * 1e-9 : INFINITY;
}

static void
json_bandwidth(size_t bytes, struct stats s)
{
	fputs("{\"min\": ", stdout);
	json_write_number(stdout, gbps(bytes, s.max));
	fputs(", \"median\": ", stdout);
	json_write_number(stdout, gbps(bytes, s.median));
	fputs(", \"max\": ", stdout);
	json_write_number(stdout, gbps(bytes, s.min));
	putchar('}');
}

static void
print_transfers(const struct session *s, const struct transfer_result *r,
		size_t n)
{
	bool not_pinned = false, registered_not_pinned = false;

	if (s->opt->json) {
		json_begin(stdout, "transfer", s->device);
		fputs(",\n  \"budget_s\": ", stdout);
		json_write_number(stdout, s->opt->budget);
		fputs(",\n  \"results\": [", stdout);
		for (size_t i = 0; i < n; i++) {
			printf("%s\n    {\"direction\": \"%s\", \"memory\": "
			       "\"%s\", \"pinned\": %s, \"bytes\": %zu, "
			       "\"runs\": %zu,\n     \"device_s\": ",
			       i ? "," : "", direction_names[r[i].dir],
			       memory_names[r[i].memory],
			       r[i].memory == DEVICE ? "null"
			       : r[i].pinned	     ? "true"
						     : "false",
			       r[i].bytes, r[i].device.n);
			json_write_stats(stdout, r[i].device);
			fputs(",\n     \"wall_s\": ", stdout);
			json_write_stats(stdout, r[i].wall);
			fputs(",\n     \"device_gbps\": ", stdout);
			json_bandwidth(r[i].bytes, r[i].device);
			fputs(",\n     \"wall_gbps\": ", stdout);
			json_bandwidth(r[i].bytes, r[i].wall);
			putchar('}');
		}
		printf("\n  ]\n}\n");
		return;
	}
	printf("clq-time transfer on %s (%s, device %zu:%zu)\n",
	       clq_device_get_name(s->device),
	       clq_device_get_platform_name(s->device),
	       clq_device_get_platform_index(s->device),
	       clq_device_get_index_in_platform(s->device));
	printf("GB/s = 10^9 bytes/s; device: profiling start to end; wall: "
	       "enqueue to the end of the wait\n");
	printf("%-10s %-17s %-10s %6s %10s %9s %9s %9s %10s\n", "size",
	       "direction", "memory", "runs", "device us", "GB/s min", "median",
	       "max", "wall GB/s");
	for (size_t i = 0; i < n; i++) {
		char size[32];

		printf("%-10s %-17s %-10s %6zu %10.1f %9.2f %9.2f %9.2f "
		       "%10.2f\n",
		       format_size(r[i].bytes, size, sizeof(size)),
		       direction_names[r[i].dir], memory_names[r[i].memory],
		       r[i].device.n, r[i].device.median * 1e6,
		       gbps(r[i].bytes, r[i].device.max),
		       gbps(r[i].bytes, r[i].device.median),
		       gbps(r[i].bytes, r[i].device.min),
		       gbps(r[i].bytes, r[i].wall.median));
		not_pinned = not_pinned || r[i].memory == NOT_PINNED;
		registered_not_pinned =
			registered_not_pinned ||
			(r[i].memory == REGISTERED && !r[i].pinned);
	}
	if (not_pinned)
		printf("not pinned: clq_host_array_create() memory that this "
		       "driver did not pin (--memory pinned asks for it)\n");
	if (registered_not_pinned)
		printf("registered: clq_host_array_register() memory, which "
		       "this driver does not pin\n");
}

int
run_transfer(const struct options *opt)
{
	static const size_t defaults[] = {1u << 20, 16u << 20, 256u << 20};
	struct transfer_result results[MAX_SIZES * 7];
	struct options o = *opt;
	struct session s;
	size_t n = 0;
	int rc;

	if (o.memory == 0)
		o.memory = MEMORY_PINNED | MEMORY_PAGEABLE | MEMORY_DEVICE;
	if ((rc = session_open(&s, &o, "transfers")) == CLQ_SUCCESS &&
	    o.n_sizes == 0) {
		uint64_t max = clq_device_get_max_alloc_size(s.device);

		for (size_t i = 0; i < 3; i++)
			o.sizes[o.n_sizes++] =
				defaults[i] < max ? defaults[i] : (size_t)max;
	}
	for (size_t i = 0; i < o.n_sizes && rc == CLQ_SUCCESS; i++)
		rc = time_transfers_of_size(&s, o.sizes[i], results, &n);
	if (rc == CLQ_SUCCESS)
		print_transfers(&s, results, n);
	return session_close(&s, rc);
}

void
transfer_help_notes(FILE *out)
{
	fputs("\nMemory kinds (--memory): pinned is host arrays from\n"
	      "clq_host_array_create(), which clq pins where the driver lets "
	      "it; the\n"
	      "output says \"not pinned\" (JSON \"pinned\": false) where it "
	      "did not.\n"
	      "pageable is aligned_alloc() memory, as an application's own "
	      "buffers\n"
	      "would be; device is a device->device copy. registered (only "
	      "when "
	      "asked)\n"
	      "is page-aligned aligned_alloc() memory registered with\n"
	      "clq_host_array_register() (cudaHostRegister's counterpart); the "
	      "JSON\n"
	      "\"pinned\" field says whether clq counts it as pinned. Both "
	      "directions\n"
	      "are timed for host memory.\n",
	      out);
}
