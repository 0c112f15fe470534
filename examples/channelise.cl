/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The channeliser's kernels (examples/channelise.c), one per stage after
 * the upload (two for the DFT: the direct sum and an FFT). Arrays are dense, outermost axis first; complex values are
 * float2 (real, imaginary), 8-bit samples char2.
 *
 * N channels, T taps, S spectra per chunk, A spectra per accumulation.
 */

/*
 * pfb_fir: int8 to float and the polyphase filter bank's FIR, one
 * work-item per (channel n, spectrum s):
 *   out[s][n] = sum over t < T of weights[t][n] * in[s + t][n]
 * where in is the chunk's (S + T - 1) x N samples (its first T - 1 rows
 * are the previous chunk's last ones). Global size (N, S).
 */
__kernel void
pfb_fir(__global float2 *out, __global const char2 *in,
	__global const float *weights, uint channels, uint taps, uint spectra)
{
	size_t n = get_global_id(0), s = get_global_id(1);
	float2 acc = (float2)(0.0f, 0.0f);

	if (n >= channels || s >= spectra)
		return;
	for (uint t = 0; t < taps; t++)
		acc += weights[t * channels + n] *
		       convert_float2(in[(s + t) * channels + n]);
	out[s * channels + n] = acc;
}

/*
 * dft: X[s][k] = sum over n < N of x[s][n] * exp(-2 pi i n k / N), the
 * direct sum (N^2 complex multiply-adds per spectrum). One work-group per
 * spectrum: it loads the spectrum into local memory, then each work-item
 * computes the bins k = lid, lid + L, ... twiddle[j] = exp(-2 pi i j / N)
 * (computed on the host in double, rounded once); N a power of two, so
 * n k mod N is a mask. Global size S * L, local size L (L divides N).
 */
__kernel void
dft(__global float2 *out, __global const float2 *in,
    __global const float2 *twiddle, uint channels, __local float2 *x)
{
	size_t s = get_group_id(0);
	uint lid = (uint)get_local_id(0), l = (uint)get_local_size(0);
	uint mask = channels - 1;

	for (uint n = lid; n < channels; n += l)
		x[n] = in[s * channels + n];
	barrier(CLK_LOCAL_MEM_FENCE);
	for (uint k = lid; k < channels; k += l) {
		float2 acc = (float2)(0.0f, 0.0f);
		uint j = 0;

		for (uint n = 0; n < channels; n++) {
			float2 v = x[n], w = twiddle[j];

			acc.x += v.x * w.x - v.y * w.y;
			acc.y += v.x * w.y + v.y * w.x;
			j = (j + k) & mask;
		}
		out[s * channels + k] = acc;
	}
}

/* The most butterflies one work-item does per FFT stage: N / 2 / L. */
#define FFT_MAX_PER 16

/*
 * fft: the same X[s][k] as dft, by a radix-2 Stockham FFT in local
 * memory (log2 N stages of N / 2 butterflies, results in natural order;
 * after Eric Bainville's OpenCL FFT). Stage p (1, 2, 4, ... N / 2) takes
 * butterfly i (< N / 2) from x[i] and x[i + N / 2], with k = i mod p:
 *   y[2i - k] = a + w b,  y[2i - k + p] = a - w b,  w = exp(-pi i k / p)
 * in place: every work-item reads its butterflies, then all write. One
 * work-group per spectrum; global size S * L, local size L, where L
 * divides N / 2 and N / 2 / L <= FFT_MAX_PER.
 */
__kernel void
fft(__global float2 *out, __global const float2 *in,
    __global const float2 *twiddle, uint channels, __local float2 *x)
{
	size_t s = get_group_id(0);
	uint lid = (uint)get_local_id(0), l = (uint)get_local_size(0);
	uint halfn = channels / 2, per = halfn / l;

	for (uint n = lid; n < channels; n += l)
		x[n] = in[s * channels + n];
	barrier(CLK_LOCAL_MEM_FENCE);
	for (uint p = 1; p < channels; p <<= 1) {
		float2 sum[FFT_MAX_PER], diff[FFT_MAX_PER];

		for (uint m = 0; m < per; m++) {
			uint i = lid + m * l, k = i & (p - 1);
			float2 a = x[i], b = x[i + halfn];
			/* exp(-pi i k / p) = twiddle[k N / (2 p)] */
			float2 w = twiddle[k * (halfn / p)];
			float2 wb = (float2)(b.x * w.x - b.y * w.y,
					     b.x * w.y + b.y * w.x);

			sum[m] = a + wb;
			diff[m] = a - wb;
		}
		barrier(CLK_LOCAL_MEM_FENCE);
		for (uint m = 0; m < per; m++) {
			uint i = lid + m * l, k = i & (p - 1);
			uint j = ((i - k) << 1) + k;

			x[j] = sum[m];
			x[j + p] = diff[m];
		}
		barrier(CLK_LOCAL_MEM_FENCE);
	}
	for (uint n = lid; n < channels; n += l)
		out[s * channels + n] = x[n];
}

#define TILE 16

/*
 * transpose: out[c][r] = in[r][c] for a rows x cols complex array, through
 * a square tile of local memory so that reads and writes both walk rows.
 * Local size (TILE, TILE); global size (cols, rows) rounded up to TILE.
 */
__kernel __attribute__((reqd_work_group_size(TILE, TILE, 1))) void
transpose_complex(__global float2 *out, __global const float2 *in, uint rows,
		  uint cols)
{
	__local float2 tile[TILE][TILE + 1];
	size_t lx = get_local_id(0), ly = get_local_id(1);
	size_t col0 = get_group_id(0) * TILE, row0 = get_group_id(1) * TILE;

	if (row0 + ly < rows && col0 + lx < cols)
		tile[ly][lx] = in[(row0 + ly) * cols + col0 + lx];
	barrier(CLK_LOCAL_MEM_FENCE);
	if (col0 + ly < cols && row0 + lx < rows)
		out[(col0 + ly) * rows + row0 + lx] = tile[lx][ly];
}

/*
 * power: out[k][j] = sum over a < A of |in[k][j A + a]|^2, in channel-major
 * (N x S in, N x S/A out). Global size (S/A, N).
 */
__kernel void
power(__global float *out, __global const float2 *in, uint spectra,
      uint accumulate)
{
	size_t j = get_global_id(0), k = get_global_id(1);
	uint blocks = spectra / accumulate;
	__global const float2 *row;
	float acc = 0.0f;

	if (j >= blocks)
		return;
	row = in + k * spectra + j * accumulate;
	for (uint a = 0; a < accumulate; a++) {
		float2 v = row[a];

		acc += v.x * v.x + v.y * v.y;
	}
	out[k * blocks + j] = acc;
}
