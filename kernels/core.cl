/*
 * Core kernels: fill, the float4 copy that clnn_tensor_copy uses and that benchmarks take as the
 * device's copy bandwidth, and the known-answer self-check.
 */
#include "common.h"

/* dst[i] = src[i], 4 elements per work-item: the reference for memory-bound kernels. */
__kernel void clnn_copy(__global float *restrict dst, __global const float *restrict src, uint n)
{
    uint i = (uint)get_global_id(0);
    if (i * 4u >= n)
        return;
    clnn_store4(clnn_load4(src, i, n), dst, i, n);
}

/* dst[i] = value, 4 elements per work-item (clEnqueueFillBuffer is far slower on some drivers). */
__kernel void clnn_fill(__global float *dst, float value, uint n)
{
    uint i = (uint)get_global_id(0);
    if (i * 4u >= n)
        return;
    clnn_store4((float4)(value), dst, i, n);
}

/* y[i] = x[i] * x[i] + i; the host chooses x so that the result is exact in float. */
__kernel void clnn_self_check(__global float *y, __global const float *x, uint n)
{
    uint i = (uint)get_global_id(0);
    if (i >= n)
        return;
    y[i] = x[i] * x[i] + (float)i;
}
