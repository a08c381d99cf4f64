/*
 * Core kernels: fill, the copies that clnn_tensor_copy uses (float4 per work-item; 16 floats on
 * CPU devices) and that benchmarks take as the device's copy bandwidth, elementwise addition,
 * a residual block's add and ReLU, and the known-answer self-check.
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

/* The end of a residual block with ReLU (src/layer_residual.c): s = a + b and y = relu(s), both
 * written (the backward reads s). ReLU as kernels/activation.h computes it (x < 0 ? 0 : x; NaN
 * stays NaN). Here rather than in activation.cl so that a residual network needs no program
 * built for ReLU's elementwise kernels (0.3 s of compiling on POCL), and one pass, not two. */
__kernel void clnn_residual_relu_forward(__global const float *a, __global const float *b,
                                         __global float *s, __global float *y, uint n)
{
    uint i = (uint)get_global_id(0);
    if (i * 4u >= n)
        return;
    float4 v = clnn_load4(a, i, n) + clnn_load4(b, i, n);
    clnn_store4(v, s, i, n);
    clnn_store4(select(v, (float4)(0.0f), v < 0.0f), y, i, n);
}

/* Its backward: g = dy relu'(s), relu'(s) = s > 0 (1 or 0, multiplied as activation.cl's backward
 * does), written over dy; with has_dx also into dx, the skip's share: dx = g, or dx + g with
 * accumulate. */
__kernel void clnn_residual_relu_backward(__global const float *s, __global float *dy,
                                          __global float *dx, uint has_dx, uint accumulate,
                                          uint n)
{
    uint i = (uint)get_global_id(0);
    if (i * 4u >= n)
        return;
    float4 g = clnn_load4(dy, i, n) *
               select((float4)(0.0f), (float4)(1.0f), clnn_load4(s, i, n) > 0.0f);
    clnn_store4(g, dy, i, n);
    if (has_dx)
        clnn_store4(accumulate ? clnn_load4(dx, i, n) + g : g, dx, i, n);
}

/* y[i] = x[i] * x[i] + i; the host chooses x so that the result is exact in float. */
__kernel void clnn_self_check(__global float *y, __global const float *x, uint n)
{
    uint i = (uint)get_global_id(0);
    if (i >= n)
        return;
    y[i] = x[i] * x[i] + (float)i;
}
