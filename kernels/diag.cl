/*
 * Gradient-health diagnostics: per-column statistics of a layer's activations (a batch of rows,
 * one column per unit) and the difference of two tensors (for the size of an update). Cheap
 * enough to run on request during training; the host combines the per-column results.
 */
#include "common.h"

/* For each column j of x (rows x cols, row-major): mean[j], m2[j] = sum over rows of
 * (x - mean)^2 (two passes, so large means do not cancel), and nonzero[j] = the number of rows
 * where x != 0. One work-item per column; neighbouring work-items read neighbouring addresses. */
__kernel void clnn_column_stats(__global const float *x, uint rows, uint cols,
                                __global float *mean, __global float *m2,
                                __global float *nonzero)
{
    uint j = (uint)get_global_id(0);
    if (j >= cols)
        return;
    float sum = 0.0f;
    for (uint r = 0; r < rows; ++r)
        sum += x[r * cols + j];
    float m = sum / (float)rows;
    float squares = 0.0f, count = 0.0f;
    for (uint r = 0; r < rows; ++r) {
        float v = x[r * cols + j];
        float d = v - m;
        squares += d * d;
        count += v != 0.0f ? 1.0f : 0.0f;
    }
    mean[j] = m;
    m2[j] = squares;
    nonzero[j] = count;
}

/* d = a - b, 4 elements per work-item. */
__kernel void clnn_difference(__global float *d, __global const float *a,
                              __global const float *b, uint n)
{
    uint i = (uint)get_global_id(0);
    if (i * 4u >= n)
        return;
    clnn_store4(clnn_load4(a, i, n) - clnn_load4(b, i, n), d, i, n);
}
