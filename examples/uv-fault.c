/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * For notify-libuv's tests (check-notify-libuv.py, setup-fails), loaded
 * with LD_PRELOAD: uv_poll_init() fails with UV_ENOMEM when
 * UV_FAULT=uv_poll_init, uv_read_start() when UV_FAULT=uv_read_start. It
 * notes the descriptors the loop owns (the input pipe given to
 * uv_pipe_open(), the loop's backend) and, at exit, prints
 * "uv-fault: descriptor N (WHAT) left open" for each one still open: an
 * error path that leaves a handle or the loop unclosed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static int input_fd = -1, backend_fd = -1;

/* The next definition of `name` (libuv's), into the function pointer at
 * `fn` (through memcpy: ISO C has no object-to-function pointer cast). */
static void
next(const char *name, void *fn, size_t size)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (!p) {
		fprintf(stderr, "uv-fault: no %s to wrap\n", name);
		abort();
	}
	memcpy(fn, &p, size);
}

static int
failing(const char *name)
{
	const char *f = getenv("UV_FAULT");

	return f && strcmp(f, name) == 0;
}

int
uv_pipe_open(uv_pipe_t *handle, uv_file fd)
{
	int (*real)(uv_pipe_t *, uv_file);
	int rc;

	next("uv_pipe_open", &real, sizeof(real));
	rc = real(handle, fd);
	if (rc == 0)
		input_fd = fd;
	backend_fd = uv_backend_fd(handle->loop);
	return rc;
}

int
uv_poll_init(uv_loop_t *loop, uv_poll_t *handle, int fd)
{
	int (*real)(uv_loop_t *, uv_poll_t *, int);

	next("uv_poll_init", &real, sizeof(real));

	if (failing("uv_poll_init"))
		return UV_ENOMEM;
	return real(loop, handle, fd);
}

int
uv_read_start(uv_stream_t *stream, uv_alloc_cb alloc_cb, uv_read_cb read_cb)
{
	int (*real)(uv_stream_t *, uv_alloc_cb, uv_read_cb);

	next("uv_read_start", &real, sizeof(real));

	if (failing("uv_read_start"))
		return UV_ENOMEM;
	return real(stream, alloc_cb, read_cb);
}

__attribute__((destructor)) static void
check_closed(void)
{
	if (input_fd >= 0 && fcntl(input_fd, F_GETFD) >= 0)
		fprintf(stderr,
			"uv-fault: descriptor %d (the input pipe) left "
			"open\n",
			input_fd);
	if (backend_fd >= 0 && fcntl(backend_fd, F_GETFD) >= 0)
		fprintf(stderr,
			"uv-fault: descriptor %d (the loop's backend) "
			"left open\n",
			backend_fd);
}
