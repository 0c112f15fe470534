/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scale: x = a * x + b, repeated `iters` times on each of the first `n`
 * elements of a float array, in place. `iters` sets the arithmetic per
 * byte moved: the tunable compute stage of the double-buffer demo.
 * Launch at least `n` work-items in one dimension, any work-group size.
 */
__kernel void
scale(__global float *data, uint n, float a, float b, uint iters)
{
	size_t i = get_global_id(0);
	float x;

	if (i >= n)
		return;
	x = data[i];
	for (uint k = 0; k < iters; k++)
		x = a * x + b;
	data[i] = x;
}
