/*
 * Initialisation and dropout kernels on the Philox4x32-10 stream (philox.h holds the generator
 * and every transform, shared with the host so both produce the same bits). One work-item makes
 * one Philox block: elements 4i .. 4i+3. Contraction into fused multiply-adds is off (philox.h),
 * so `mean + std * z` rounds twice on every device, as on the host.
 */
#include "common.h"
#include "philox.h"

/* out = lo + width * u, kept in [lo, hi] (hi = the float below b). */
__kernel void clnn_init_uniform(__global float *out, uint n, uint k0, uint k1, float lo,
                                float width, float hi)
{
    uint i = (uint)get_global_id(0);
    if (i * 4u >= n)
        return;
    float v[4];
    clnn_rng_uniform_block(i, k0, k1, lo, width, hi, v);
    clnn_store4((float4)(v[0], v[1], v[2], v[3]), out, i, n);
}

/* out = mean + std * z, z standard normal by Box-Muller. */
__kernel void clnn_init_normal(__global float *out, uint n, uint k0, uint k1, float mean,
                               float std)
{
    uint i = (uint)get_global_id(0);
    if (i * 4u >= n)
        return;
    float v[4];
    clnn_rng_normal_block(i, k0, k1, mean, std, v);
    clnn_store4((float4)(v[0], v[1], v[2], v[3]), out, i, n);
}

/* Truncated normal by inverse CDF (see clnn_rng_trunc_normal_block). */
__kernel void clnn_init_trunc_normal(__global float *out, uint n, uint k0, uint k1, float pl,
                                     float pw, float zlo, float zhi, float sign, float mean,
                                     float std, float a, float b)
{
    uint i = (uint)get_global_id(0);
    if (i * 4u >= n)
        return;
    float v[4];
    clnn_rng_trunc_normal_block(i, k0, k1, pl, pw, zlo, zhi, sign, mean, std, a, b, v);
    clnn_store4((float4)(v[0], v[1], v[2], v[3]), out, i, n);
}

/* Inverted dropout: y = keep ? x * scale : 0, keep from the Philox word of the element. x and y
 * may be the same buffer. */
__kernel void clnn_dropout_forward(__global const float *x, __global float *y, uint n, uint k0,
                                   uint k1, uint step0, uint step1, uint threshold, float scale)
{
    uint i = (uint)get_global_id(0);
    if (i * 4u >= n)
        return;
    uint r[4];
    clnn_rng_block(r, i, CLNN_RNG_DOMAIN_DROPOUT, step0, step1, k0, k1);
    float4 v = clnn_load4(x, i, n) * scale;
    float4 o = (float4)(clnn_rng_keep(r[0], threshold) ? v.s0 : 0.0f,
                        clnn_rng_keep(r[1], threshold) ? v.s1 : 0.0f,
                        clnn_rng_keep(r[2], threshold) ? v.s2 : 0.0f,
                        clnn_rng_keep(r[3], threshold) ? v.s3 : 0.0f);
    clnn_store4(o, y, i, n);
}

/* dx = beta * dx + (keep ? dy * scale : 0); with beta = 0, dx is not read. dx may be dy. */
__kernel void clnn_dropout_backward(__global const float *dy, __global float *dx, uint n, uint k0,
                                    uint k1, uint step0, uint step1, uint threshold, float scale,
                                    float beta)
{
    uint i = (uint)get_global_id(0);
    if (i * 4u >= n)
        return;
    uint r[4];
    clnn_rng_block(r, i, CLNN_RNG_DOMAIN_DROPOUT, step0, step1, k0, k1);
    float4 g = clnn_load4(dy, i, n) * scale;
    float4 o = (float4)(clnn_rng_keep(r[0], threshold) ? g.s0 : 0.0f,
                        clnn_rng_keep(r[1], threshold) ? g.s1 : 0.0f,
                        clnn_rng_keep(r[2], threshold) ? g.s2 : 0.0f,
                        clnn_rng_keep(r[3], threshold) ? g.s3 : 0.0f);
    if (beta != 0.0f)
        o = beta * clnn_load4(dx, i, n) + o;
    clnn_store4(o, dx, i, n);
}

/* dx = beta * dx + dy (dropout backward at inference); beta = 0 does not read dx. */
__kernel void clnn_dropout_identity_backward(__global const float *dy, __global float *dx, uint n,
                                             float beta)
{
    uint i = (uint)get_global_id(0);
    if (i * 4u >= n)
        return;
    float4 o = clnn_load4(dy, i, n);
    if (beta != 0.0f)
        o = beta * clnn_load4(dx, i, n) + o;
    clnn_store4(o, dx, i, n);
}

/* Raw Philox4x32-10 blocks for known-answer checks: out[4b..4b+3] = philox(ctr[4b..], key). */
__kernel void clnn_philox_raw(__global uint *out, __global const uint *ctr, uint blocks, uint k0,
                              uint k1)
{
    uint b = (uint)get_global_id(0);
    if (b >= blocks)
        return;
    uint c[4];
    for (int j = 0; j < 4; ++j)
        c[j] = ctr[4u * b + (uint)j];
    clnn_philox4x32_10_block(c, k0, k1);
    for (int j = 0; j < 4; ++j)
        out[4u * b + (uint)j] = c[j];
}
