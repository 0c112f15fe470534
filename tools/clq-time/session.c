/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * clq-time's session: the chosen device, a context, the one profiling
 * queue every command runs on and, with --trace or --svg, the timeline
 * that records it, titled with the command and the device.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clq-time.h"

#define TITLE_FORMAT "clq-time %s%s%s%s%s on %s (%s)"

int
fail(const char *what, int rc)
{
	fprintf(stderr, "clq-time: %s: %s (%s)\n", what, clq_error_name(rc),
		clq_strerror(rc));
	return rc;
}

/* "clq-time transfer on NVIDIA H200 (NVIDIA CUDA)", "clq-time kernel
 * scale from scale.cl on ...": the command, what it times and the device,
 * so that a saved chart says where it came from. */
static int
set_title(struct session *s)
{
	const struct options *o = s->opt;
	const char *name = clq_device_get_name(s->device);
	const char *platform = clq_device_get_platform_name(s->device);
	const char *kernel = o->kernel_name ? o->kernel_name : "";
	const char *from = o->kernel_name ? " from " : "";
	const char *file = o->kernel_name ? o->file : "";
	const char *sep = o->kernel_name ? " " : "";
	int len, rc;
	char *title;

	len = snprintf(NULL, 0, TITLE_FORMAT, o->command, sep, kernel, from,
		       file, name, platform);
	if (len < 0 || !(title = malloc((size_t)len + 1)))
		return CL_OUT_OF_HOST_MEMORY;
	snprintf(title, (size_t)len + 1, TITLE_FORMAT, o->command, sep, kernel,
		 from, file, name, platform);
	rc = clq_timeline_set_title(s->timeline, title);
	free(title);
	return rc;
}

int
session_open(struct session *s, const struct options *opt, const char *track)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->opt = opt;
	if ((rc = clq_device_select(opt->device, &s->device)) < 0)
		return fail("choosing a device", rc);
	if ((rc = clq_context_create(s->device, &s->ctx)) < 0)
		return fail("creating a context", rc);
	if ((rc = clq_queue_create(s->ctx, CLQ_QUEUE_PROFILING, &s->queue)) < 0)
		return fail("creating a profiling queue", rc);
	if (!opt->trace && !opt->svg)
		return CLQ_SUCCESS;
	if ((rc = clq_timeline_create(s->ctx, &s->timeline)) < 0 ||
	    (rc = set_title(s)) < 0 ||
	    (rc = clq_queue_set_timeline(s->queue, s->timeline, track)) < 0)
		return fail("creating a timeline", rc);
	return CLQ_SUCCESS;
}

/* Writes one export of the timeline to `path`. */
static int
export_to(struct clq_timeline *tl, const char *path,
	  int (*write)(struct clq_timeline *, FILE *))
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f) {
		fprintf(stderr, "clq-time: cannot write %s: %s\n", path,
			strerror(errno));
		return CLQ_ERROR_IO;
	}
	rc = write(tl, f);
	if (fclose(f) != 0 && rc == CLQ_SUCCESS)
		rc = CLQ_ERROR_IO;
	return rc < 0 ? fail(path, rc) : rc;
}

int
session_close(struct session *s, int rc)
{
	if (rc == CLQ_SUCCESS && s->timeline) {
		int frc = clq_timeline_flush(s->timeline);

		if (frc < 0)
			rc = fail("collecting the timeline", frc);
		if (rc == CLQ_SUCCESS && s->opt->trace)
			rc = export_to(s->timeline, s->opt->trace,
				       clq_timeline_write_trace);
		if (rc == CLQ_SUCCESS && s->opt->svg)
			rc = export_to(s->timeline, s->opt->svg,
				       clq_timeline_write_svg);
	}
	clq_queue_unref(s->queue);
	clq_timeline_unref(s->timeline);
	clq_context_unref(s->ctx);
	clq_device_unref(s->device);
	return rc;
}
