/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fill: sets the first `n` elements of a float array to `value`. The
 * hello-world kernel: launch at least `n` work-items in one dimension, any
 * work-group size.
 */
__kernel void
fill(__global float *out, uint n, float value)
{
	size_t i = get_global_id(0);

	if (i < n)
		out[i] = value;
}
