/*
 * Gradient clipping: the global norm of a list of tensors as a two-stage reduction (each tensor's
 * work-groups write one float4 partial each into a shared buffer, then one work-group reduces the
 * partials), clamping by value, and scaling in place. 4 elements per work-item.
 *
 * L2 partials hold sums of squares in three ranges (Blue's method, as reference BLAS snrm2 does):
 * |x| < 2^-50 squared after scaling by 2^80, |x| > 2^48 squared after scaling by 2^-80, the rest
 * squared as is. Each sum then stays below 2^127 for any 2^31 elements of any float value, so no
 * range overflows or loses tiny values; the host combines the three in double. Lanes hold
 * (small, medium, big, 0). NaN lands in the medium sum and Inf in the big one, so both propagate.
 *
 * Inf-norm partials hold (max |x| ignoring NaN, 1 if any NaN was seen, 0, 0).
 *
 * Each work-item sums at most a few float4s per lane (the host sizes the grid so), then the
 * work-group combines by a tree; the error grows with log2 of the element count, not linearly.
 */
#include "common.h"

#define CLNN_NORM_L2 0u
#define CLNN_NORM_INF 1u

#define CLNN_BLUE_SMALL 0x1p-50f
#define CLNN_BLUE_BIG 0x1p48f
#define CLNN_BLUE_UP 0x1p80f
#define CLNN_BLUE_DOWN 0x1p-80f

static inline float4 clnn_norm_combine(float4 a, float4 b, uint type)
{
    if (type == CLNN_NORM_L2)
        return a + b;
    return (float4)(fmax(a.x, b.x), fmax(a.y, b.y), 0.0f, 0.0f);
}

/* Tree reduction of scratch[0 .. local size) into scratch[0]; any local size. */
static inline void clnn_norm_reduce_local(__local float4 *scratch, uint type)
{
    uint lid = (uint)get_local_id(0), size = (uint)get_local_size(0);
    uint span = 1u;
    while (span * 2u < size)
        span *= 2u;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (; span > 0u; span >>= 1) {
        if (lid < span && lid + span < size)
            scratch[lid] = clnn_norm_combine(scratch[lid], scratch[lid + span], type);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

/* Stage 1: the work-groups of one tensor x of n elements write partials[first + group]. */
__kernel void clnn_norm_partial(__global const float *restrict x, uint n,
                                __global float4 *restrict partials, uint first, uint type,
                                __local float4 *scratch)
{
    uint n4 = (n + 3u) / 4u;
    uint stride = (uint)get_global_size(0);
    float4 acc;
    if (type == CLNN_NORM_L2) {
        float4 small = (float4)(0.0f), medium = (float4)(0.0f), big = (float4)(0.0f);
        for (uint j = (uint)get_global_id(0); j < n4; j += stride) {
            float4 v = clnn_load4(x, j, n); /* missing tail lanes are 0 */
            float4 a = fabs(v);
            int4 is_small = isless(a, (float4)(CLNN_BLUE_SMALL));
            int4 is_big = isgreater(a, (float4)(CLNN_BLUE_BIG));
            float4 scale = select(select((float4)(1.0f), (float4)(CLNN_BLUE_DOWN), is_big),
                                  (float4)(CLNN_BLUE_UP), is_small);
            float4 s = v * scale;
            float4 q = s * s;
            small += select((float4)(0.0f), q, is_small);
            big += select((float4)(0.0f), q, is_big);
            medium += select(q, (float4)(0.0f), is_small | is_big);
        }
        acc = (float4)(small.x + small.y + small.z + small.w,
                       medium.x + medium.y + medium.z + medium.w, big.x + big.y + big.z + big.w,
                       0.0f);
    } else {
        float4 m = (float4)(0.0f);
        int4 nan_seen = (int4)(0);
        for (uint j = (uint)get_global_id(0); j < n4; j += stride) {
            float4 v = clnn_load4(x, j, n);
            m = fmax(m, fabs(v));
            nan_seen |= isnan(v);
        }
        acc = (float4)(fmax(fmax(m.x, m.y), fmax(m.z, m.w)), any(nan_seen) ? 1.0f : 0.0f, 0.0f,
                       0.0f);
    }
    uint lid = (uint)get_local_id(0);
    scratch[lid] = acc;
    clnn_norm_reduce_local(scratch, type);
    if (lid == 0u)
        partials[first + (uint)get_group_id(0)] = scratch[0];
}

/* Stage 2, one work-group: partials[0 .. count) into *result. */
__kernel void clnn_norm_final(__global const float4 *restrict partials, uint count, uint type,
                              __global float4 *restrict result, __local float4 *scratch)
{
    uint lid = (uint)get_local_id(0), size = (uint)get_local_size(0);
    float4 acc = (float4)(0.0f);
    for (uint j = lid; j < count; j += size)
        acc = clnn_norm_combine(acc, partials[j], type);
    scratch[lid] = acc;
    clnn_norm_reduce_local(scratch, type);
    if (lid == 0u)
        result[0] = scratch[0];
}

/* x = clamp(x, -c, c) in place; NaN stays NaN (comparisons with NaN are false). */
__kernel void clnn_clip_value(__global float *x, uint n, float c)
{
    uint i = (uint)get_global_id(0);
    if (i * 4u >= n)
        return;
    float4 v = clnn_load4(x, i, n);
    v = select(v, (float4)(-c), isless(v, (float4)(-c)));
    v = select(v, (float4)(c), isgreater(v, (float4)(c)));
    clnn_store4(v, x, i, n);
}

/* x *= coef in place (grad.mul_(clip_coef_clamped)). */
__kernel void clnn_clip_scale(__global float *x, uint n, float coef)
{
    uint i = (uint)get_global_id(0);
    if (i * 4u >= n)
        return;
    clnn_store4(clnn_load4(x, i, n) * coef, x, i, n);
}
