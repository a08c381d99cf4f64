/*
 * Dense-layer kernels around CLBlast's GEMM: the forward epilogue (the bias added to every row of
 * y = x W^T; the place where a fused activation is applied) and the bias gradient (column sums
 * of dy).
 */
#include "common.h"

/* y[r][c] += b[c] on a row-major [n / cols, cols] matrix, 4 elements per work-item. */
__kernel void clnn_dense_bias(__global float *y, __global const float *b, uint cols, uint n)
{
    uint i = (uint)get_global_id(0);
    if (i * 4u >= n)
        return;
    /* Columns of the 4 lanes; lanes past n read a valid column and are not stored. */
    uint c0 = (i * 4u) % cols;
    uint c1 = c0 + 1u == cols ? 0u : c0 + 1u;
    uint c2 = c1 + 1u == cols ? 0u : c1 + 1u;
    uint c3 = c2 + 1u == cols ? 0u : c2 + 1u;
    float4 bias = (float4)(b[c0], b[c1], b[c2], b[c3]);
    clnn_store4(clnn_load4(y, i, n) + bias, y, i, n);
}

/* db[c] = beta * db[c] + sum_r dy[r][c] over a row-major [rows, cols] dy; one work-item per
 * column, so neighbouring work-items read neighbouring addresses of each row. Four partial sums
 * shorten the dependency chain and the rounding-error growth of one long running sum. beta == 0
 * does not read db (it may hold NaN). */
__kernel void clnn_dense_column_sum(__global float *db, __global const float *dy, uint rows,
                                    uint cols, float beta)
{
    uint c = (uint)get_global_id(0);
    if (c >= cols)
        return;
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    uint r = 0;
    for (; r + 3u < rows; r += 4u) {
        s0 += dy[r * cols + c];
        s1 += dy[(r + 1u) * cols + c];
        s2 += dy[(r + 2u) * cols + c];
        s3 += dy[(r + 3u) * cols + c];
    }
    for (; r < rows; ++r)
        s0 += dy[r * cols + c];
    float sum = (s0 + s1) + (s2 + s3);
    db[c] = beta == 0.0f ? sum : beta * db[c] + sum;
}
