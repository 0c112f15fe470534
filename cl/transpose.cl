/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * transpose: out[c][r] = in[r][c] for a rows x cols float array, each side
 * with its own row stride in elements (padded arrays), through square
 * tiles of local memory so that reads and writes both walk rows.
 *
 * Launch with local size (TRANSPOSE_TILE, TRANSPOSE_TILE) and a global
 * size of (cols, rows) each rounded up to a multiple of the tile; any
 * shape works, not only multiples of the tile. Build with
 * -DTRANSPOSE_TILE=<n> to change the tile (default 16).
 */
#ifndef TRANSPOSE_TILE
#define TRANSPOSE_TILE 16
#endif

__kernel __attribute__((reqd_work_group_size(TRANSPOSE_TILE, TRANSPOSE_TILE,
					     1))) void
transpose(__global float *out, uint out_stride, __global const float *in,
	  uint in_stride, uint rows, uint cols)
{
	/* One extra column keeps the column reads free of bank conflicts. */
	__local float tile[TRANSPOSE_TILE][TRANSPOSE_TILE + 1];
	size_t lx = get_local_id(0), ly = get_local_id(1);
	size_t col0 = get_group_id(0) * TRANSPOSE_TILE;
	size_t row0 = get_group_id(1) * TRANSPOSE_TILE;

	if (row0 + ly < rows && col0 + lx < cols)
		tile[ly][lx] = in[(row0 + ly) * in_stride + col0 + lx];
	barrier(CLK_LOCAL_MEM_FENCE);
	/* The output tile starts at row col0, column row0. */
	if (col0 + ly < cols && row0 + lx < rows)
		out[(col0 + ly) * out_stride + row0 + lx] = tile[lx][ly];
}
