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

/* vstore16(v, i, p) kept whole on CPU devices: POCL writes a float16 (or int16) as 16-, 16- and
 * 32-byte pieces, three stores and two extracts where one 64-byte store does. A store through a
 * packed struct (OpenCL C 1.2, 6.11.1: alignment 1, so any float address is valid) is one store
 * there. GPUs keep vstore16: an alignment-1 store could become byte stores on them. The device
 * profile (src/profile.c) defines CLNN_CPU_FORMS when the CPU forms are in use. */
#ifdef CLNN_CPU_FORMS
typedef struct __attribute__((packed)) clnn_packed16 {
    float16 v;
} clnn_packed16;

typedef struct __attribute__((packed)) clnn_packed8 {
    float8 v;
} clnn_packed8;

static inline void clnn_store16(float16 v, uint i, __global float *p)
{
    ((__global clnn_packed16 *)(p + 16u * i))->v = v;
}

/* vstore8(v, i, p) kept whole likewise. */
static inline void clnn_store8(float8 v, uint i, __global float *p)
{
    ((__global clnn_packed8 *)(p + 8u * i))->v = v;
}
#else
static inline void clnn_store16(float16 v, uint i, __global float *p)
{
    vstore16(v, i, p);
}

static inline void clnn_store8(float8 v, uint i, __global float *p)
{
    vstore8(v, i, p);
}
#endif

/* Software prefetch on CPU devices. A kernel whose arithmetic fills the core's out-of-order
 * window keeps few cache misses in flight, and its loads then wait on memory one line at a time
 * (measured on POCL at 16M floats: tanh-GELU forward 8.2 ms, 5.5 ms with this). Where the
 * compiler offers clang's __builtin_prefetch (POCL's does) the CPU forms request the line
 * CLNN_PREFETCH_AHEAD floats ahead (4 KiB); elsewhere nothing. The device profile defines
 * CLNN_USE_PREFETCH, since a compiler can offer the builtin and still fail on it (its quirks
 * table: rusticl's SPIR-V translator aborts the process). A prefetch never faults and changes no
 * result; the helpers still stay inside the buffer. */
#define CLNN_PREFETCH_AHEAD 1024u
#if defined(CLNN_USE_PREFETCH) && defined(__has_builtin)
#if __has_builtin(__builtin_prefetch)
#define CLNN_PREFETCH(p) __builtin_prefetch(p)
#endif
#endif
#ifndef CLNN_PREFETCH
#define CLNN_PREFETCH(p) ((void)(p))
#endif

/* Prefetches p[e + CLNN_PREFETCH_AHEAD] when that element is below n. */
static inline void clnn_prefetch_ahead(__global const float *p, size_t e, size_t n)
{
    if (e + CLNN_PREFETCH_AHEAD < n)
        CLNN_PREFETCH(p + e + CLNN_PREFETCH_AHEAD);
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
