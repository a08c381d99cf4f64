/*
 * Initialisation and dropout kernels on the Philox4x32-10 stream (philox.h holds the generator
 * and every transform, shared with the host so both produce the same bits). One work-item makes
 * one Philox block, elements 4i .. 4i+3 (in dropout, eight blocks). Contraction into fused
 * multiply-adds is off (philox.h), so `mean + std * z` rounds twice on every device, as on the
 * host.
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

/* Dropout: a work-item takes eight Philox blocks, elements 32i .. 32i+31 (element 32i + 4j + w is
 * word w of block 8i + j), computed on uint8 lanes (clnn_rng_block8): 10M elements 22 -> 8.6 ms
 * on POCL (2 cores). out = beta out + (keep ? v * scale : 0) for them (beta 0: out not read), v
 * from x (forward) or dy (backward); the last, partial group element by element with the same
 * words. The words and values pass through private arrays: written with vector swizzles
 * (v.s048c, w0.lo) it ran in 5.8 ms, but Oclgrind 21.10's uninitialised-value checker crashes
 * (SIGSEGV) on a shuffle that narrows a vector. */
static inline void dropout_run(__global const float *v, __global float *out, uint i, uint n,
                               uint k0, uint k1, uint step0, uint step1, uint threshold,
                               float scale, float beta)
{
    uint8 w0, w1, w2, w3;
    clnn_rng_block8(8u * i, CLNN_RNG_DOMAIN_DROPOUT, step0, step1, k0, k1, &w0, &w1, &w2, &w3);
    uint words[4][8];
    vstore8(w0, 0, words[0]);
    vstore8(w1, 0, words[1]);
    vstore8(w2, 0, words[2]);
    vstore8(w3, 0, words[3]);
    uint base = 32u * i;
    if (n - base < 32u) {
        for (uint e = 0; e < n - base; ++e) {
            float kept = clnn_rng_keep(words[e & 3u][e >> 2], threshold) ? v[base + e] * scale
                                                                          : 0.0f;
            out[base + e] = beta != 0.0f ? beta * out[base + e] + kept : kept;
        }
        return;
    }
    float t[32];
    vstore16(vload16(2u * i, v) * scale, 0, t);
    vstore16(vload16(2u * i + 1u, v) * scale, 1, t);
    for (uint e = 0; e < 32u; ++e)
        t[e] = clnn_rng_keep(words[e & 3u][e >> 2], threshold) ? t[e] : 0.0f;
    float16 lo = vload16(0, t), hi = vload16(1, t);
    if (beta != 0.0f) {
        lo = beta * vload16(2u * i, out) + lo;
        hi = beta * vload16(2u * i + 1u, out) + hi;
    }
    vstore16(lo, 2u * i, out);
    vstore16(hi, 2u * i + 1u, out);
}

/* Inverted dropout, both ways: out = beta * out + (keep ? v * scale : 0); beta = 0 does not read
 * out. Forward: v = x, out = y, beta 0; backward: v = dy, out = dx (the same masks: a step's
 * seed and counter). One kernel rather than two: one compile before a model's first step. out
 * may be v. */
__kernel void clnn_dropout(__global const float *v, __global float *out, uint n, uint k0, uint k1,
                           uint step0, uint step1, uint threshold, float scale, float beta)
{
    uint i = (uint)get_global_id(0);
    if (i * 32u < n)
        dropout_run(v, out, i, n, k0, k1, step0, step1, threshold, scale, beta);
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
