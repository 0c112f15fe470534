/* SPDX-License-Identifier: BSD-3-Clause */
/* Kernels of examples/spectrum.c. */

/* 8-bit samples to float, for the FFT. */
__kernel void
to_float(__global const char *in, __global float *out)
{
	size_t i = get_global_id(0);

	out[i] = (float)in[i];
}

/*
 * The power of each bin, summed over the `batch` spectra of a chunk
 * (`bins` complex values each, as clFFT writes a real transform).
 */
__kernel void
power(__global const float2 *spectra, __global float *out, uint bins,
      uint batch)
{
	size_t k = get_global_id(0);
	float sum = 0.0f;

	if (k >= bins)
		return;
	for (uint s = 0; s < batch; s++) {
		float2 v = spectra[s * bins + k];

		sum += v.x * v.x + v.y * v.y;
	}
	out[k] = sum;
}
