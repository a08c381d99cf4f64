/*
 * Core kernels: fill, the copies that clnn_tensor_copy uses (float4 per work-item; 16 floats on
 * CPU devices) and that benchmarks take as the device's copy bandwidth, elementwise addition,
 * and the known-answer self-check.
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

/* The CPU form of clnn_copy: work-item i < n / 16 copies elements 16i .. 16i + 15 with one
 * 64-byte load and store, prefetching ahead as the CPU forms of the elementwise kernels do (the
 * reference must not be slower than the kernels measured against it); work-item n / 16 copies
 * the last n % 16. */
__kernel void clnn_copy16(__global float *restrict dst, __global const float *restrict src, uint n)
{
    uint i = (uint)get_global_id(0), n16 = n / 16u;
    if (i < n16) {
        clnn_prefetch_ahead(src, 16u * i, n);
        clnn_store16(clnn_load16(i, src), i, dst);
    } else if (i == n16) {
        for (uint k = 16u * n16; k < n; ++k)
            dst[k] = src[k];
    }
}

/* dst[i] = value, 4 elements per work-item (clEnqueueFillBuffer is far slower on some drivers). */
__kernel void clnn_fill(__global float *dst, float value, uint n)
{
    uint i = (uint)get_global_id(0);
    if (i * 4u >= n)
        return;
    clnn_store4((float4)(value), dst, i, n);
}

/* y[i] = a[i] + b[i], 4 elements per work-item; y may be a or b (residual additions and
 * gradient accumulation in the network engine). */
__kernel void clnn_add(__global float *y, __global const float *a, __global const float *b, uint n)
{
    uint i = (uint)get_global_id(0);
    if (i * 4u >= n)
        return;
    clnn_store4(clnn_load4(a, i, n) + clnn_load4(b, i, n), y, i, n);
}

/* y[i] = x[i] * x[i] + i; the host chooses x so that the result is exact in float. */
__kernel void clnn_self_check(__global float *y, __global const float *x, uint n)
{
    uint i = (uint)get_global_id(0);
    if (i >= n)
        return;
    y[i] = x[i] * x[i] + (float)i;
}
