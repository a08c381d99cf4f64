/*
 * Helpers shared by every kernel file. OpenCL C 1.2, no extensions. Shapes always arrive as kernel
 * arguments; element counts are below 2^31 (CLNN_MAX_ELEMENTS), so 32-bit index arithmetic is
 * exact.
 */
#ifndef CLNN_KERNELS_COMMON_H
#define CLNN_KERNELS_COMMON_H

/* Elements handled by one work-item in the vectorised elementwise kernels. */
#define CLNN_VECTOR_WIDTH 4

/* Loads 4 consecutive floats at element 4*i, or fewer at the tail (missing lanes are 0). */
static inline float4 clnn_load4(__global const float *p, uint i, uint n)
{
    uint base = i * 4u;
    if (base + 3u < n)
        return vload4(i, p);
    float4 v = (float4)(0.0f);
    if (base < n)
        v.s0 = p[base];
    if (base + 1u < n)
        v.s1 = p[base + 1u];
    if (base + 2u < n)
        v.s2 = p[base + 2u];
    return v;
}

/* Stores the lanes of v that fall below n at element 4*i. */
static inline void clnn_store4(float4 v, __global float *p, uint i, uint n)
{
    uint base = i * 4u;
    if (base + 3u < n) {
        vstore4(v, i, p);
        return;
    }
    if (base < n)
        p[base] = v.s0;
    if (base + 1u < n)
        p[base + 1u] = v.s1;
    if (base + 2u < n)
        p[base + 2u] = v.s2;
}

/* vload16(i, p) kept whole: 16 floats at element 16*i, loaded through int16. POCL builds
 * vload16 from 2-float pieces that LLVM merges into wide loads only when nothing acts on the
 * pieces first; an addition of two such loads is split into 2-float additions of 8-byte loads
 * instead (measured: bias + gelu forward on POCL at half speed). The bit cast stops that. */
static inline float16 clnn_load16(uint i, __global const float *p)
{
    return as_float16(vload16(i, (__global const int *)p));
}

/* vload8(i, p) kept whole likewise. */
static inline float8 clnn_load8(uint i, __global const float *p)
{
    return as_float8(vload8(i, (__global const int *)p));
}

/* Horizontal sums in a fixed order (halves first), for the hand-vectorised CPU kernels. */
static inline float clnn_sum8(float8 v)
{
    float4 a = v.lo + v.hi;
    return (a.x + a.y) + (a.z + a.w);
}

static inline float clnn_sum16(float16 v)
{
    return clnn_sum8(v.lo + v.hi);
}

#endif
