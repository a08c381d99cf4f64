/*
 * Gradient clipping: the global norm of a list of tensors as a two-stage reduction (each tensor's
 * work-groups write one float4 partial each into a shared buffer, then one work-group reduces the
 * partials), clamping by value, and scaling in place. 4 elements per work-item.
 *
 * One pass gives each work-group its sum of squares and its max |x|. L2 partials are scaled sums
 * (s, e, 0, 0) meaning s * 2^(2e): when the group's max lies in [2^-30, 2^48], s is the plain sum
 * (e = 0), which can neither overflow (2^14 squares of at most 2^96 per group, and below 2^127 for
 * 2^31 elements) nor lose more than 2^-52 of itself to underflow. Otherwise (huge or tiny values,
 * rare) the group sums its range again, scaled by 2^-e so that its max is in [1, 2), the way
 * LAPACK's slassq keeps a scale beside the sum; partials combine by bringing the smaller scale to
 * the larger. So the L2 norm is right for any float input whose norm fits in a float. NaN
 * propagates through the sums; Inf gives an infinite sum.
 *
 * Inf-norm partials hold (max |x| ignoring NaN, 1 if a NaN was seen, 0, 0); a NaN shows as a NaN
 * sum of squares, the only way that sum of non-negative terms can be NaN.
 *
 * Each work-item sums at most a few float4s per lane (the host sizes the grid so), then the
 * work-group combines by a tree; the error grows with log2 of the element count, not linearly.
 */
#include "common.h"

#define CLNN_NORM_L2 0u
#define CLNN_NORM_INF 1u

/* A group whose max |x| lies in this range sums unscaled squares. */
#define CLNN_NORM_SAFE_LOW 0x1p-30f
#define CLNN_NORM_SAFE_HIGH 0x1p48f

/* s * 2^(2e) + t * 2^(2f) as a scaled pair; a zero sum has no scale. */
static inline float4 clnn_ssq_combine(float4 a, float4 b)
{
    if (a.x == 0.0f)
        return b;
    if (b.x == 0.0f)
        return a;
    float e = fmax(a.y, b.y);
    float s = ldexp(a.x, 2 * (int)(a.y - e)) + ldexp(b.x, 2 * (int)(b.y - e));
    return (float4)(s, e, 0.0f, 0.0f);
}

/* Combines partials of the same kind: scaled sums (L2), (max, NaN seen) (inf), or, for the first
 * pass of a group, (plain sum, max). */
#define CLNN_COMBINE_SSQ 0u
#define CLNN_COMBINE_MAX 1u
#define CLNN_COMBINE_SUM_MAX 2u
static inline float4 clnn_norm_combine(float4 a, float4 b, uint how)
{
    if (how == CLNN_COMBINE_SSQ)
        return clnn_ssq_combine(a, b);
    if (how == CLNN_COMBINE_MAX)
        return (float4)(fmax(a.x, b.x), fmax(a.y, b.y), 0.0f, 0.0f);
    return (float4)(a.x + b.x, fmax(a.y, b.y), 0.0f, 0.0f);
}

/* Tree reduction of scratch[0 .. local size) into scratch[0]; any local size. Ends with a
 * barrier, so every work-item may read scratch[0]. */
static inline void clnn_norm_reduce_local(__local float4 *scratch, uint how)
{
    uint lid = (uint)get_local_id(0), size = (uint)get_local_size(0);
    uint span = 1u;
    while (span * 2u < size)
        span *= 2u;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (; span > 0u; span >>= 1) {
        if (lid < span && lid + span < size)
            scratch[lid] = clnn_norm_combine(scratch[lid], scratch[lid + span], how);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

/* Stage 1: the work-groups of one tensor x of n elements write partials[first + group]. Work-group
 * g covers the float4s [g * per_item * L, (g + 1) * per_item * L) of x, L the local size: in
 * each of per_item rounds its work-items read L consecutive float4s. That is coalesced on GPUs,
 * and on POCL's CPU devices, which run the work-items of a round as vector lanes, it measured
 * twice as fast as giving each work-item a contiguous run. */
__kernel void clnn_norm_partial(__global const float *restrict x, uint n, uint per_item,
                                __global float4 *restrict partials, uint first, uint type,
                                __local float4 *scratch)
{
    uint n4 = (n + 3u) / 4u;
    uint lid = (uint)get_local_id(0), size = (uint)get_local_size(0);
    uint start = (uint)get_group_id(0) * per_item * size; /* < n4 */
    uint end = n4 - start > per_item * size ? start + per_item * size : n4;

    /* Two independent accumulator chains, so that consecutive loads need not wait for the
     * previous addition (on CPUs a work-item's loop runs as one instruction stream). */
    float4 sum = (float4)(0.0f), max4 = (float4)(0.0f);
    float4 sum_b = (float4)(0.0f), max_b = (float4)(0.0f);
    uint j = start + lid;
    for (; j + size < end; j += 2u * size) {
        float4 v = clnn_load4(x, j, n), w = clnn_load4(x, j + size, n); /* tail lanes are 0 */
        sum += v * v;
        sum_b += w * w;
        max4 = fmax(max4, fabs(v));
        max_b = fmax(max_b, fabs(w));
    }
    if (j < end) {
        float4 v = clnn_load4(x, j, n);
        sum += v * v;
        max4 = fmax(max4, fabs(v));
    }
    sum += sum_b;
    max4 = fmax(max4, max_b);
    scratch[lid] = (float4)(sum.x + sum.y + sum.z + sum.w,
                            fmax(fmax(max4.x, max4.y), fmax(max4.z, max4.w)), 0.0f, 0.0f);
    clnn_norm_reduce_local(scratch, CLNN_COMBINE_SUM_MAX);
    float4 group = scratch[0];
    float result_sum = group.x, group_max = group.y;

    if (type == CLNN_NORM_INF) {
        if (lid == 0u)
            partials[first + (uint)get_group_id(0)] =
                (float4)(group_max, isnan(result_sum) ? 1.0f : 0.0f, 0.0f, 0.0f);
        return;
    }
    float e = 0.0f;
    /* Uniform across the group: every work-item read the same group_max. */
    if (group_max != 0.0f && !isinf(group_max) &&
        (group_max < CLNN_NORM_SAFE_LOW || group_max > CLNN_NORM_SAFE_HIGH)) {
        /* Scale by 2^-k in two factors, each a normal float (k is in [-149, 127]). */
        int k = ilogb(group_max);
        float scale_a = ldexp(1.0f, -k / 2), scale_b = ldexp(1.0f, -k - (-k / 2));
        e = (float)k;
        sum = (float4)(0.0f);
        for (uint j = start + lid; j < end; j += size) {
            float4 v = clnn_load4(x, j, n) * scale_a * scale_b;
            sum += v * v;
        }
        barrier(CLK_LOCAL_MEM_FENCE); /* every work-item has read scratch[0] */
        scratch[lid] = (float4)(sum.x + sum.y + sum.z + sum.w, 0.0f, 0.0f, 0.0f);
        clnn_norm_reduce_local(scratch, CLNN_COMBINE_SUM_MAX);
        result_sum = scratch[0].x;
    }
    if (lid == 0u)
        partials[first + (uint)get_group_id(0)] = (float4)(result_sum, e, 0.0f, 0.0f);
}

/* Stage 2, one work-group: partials[0 .. count) into *result. */
__kernel void clnn_norm_final(__global const float4 *restrict partials, uint count, uint type,
                              __global float4 *restrict result, __local float4 *scratch)
{
    uint lid = (uint)get_local_id(0), size = (uint)get_local_size(0);
    float4 acc = (float4)(0.0f);
    uint how = type == CLNN_NORM_L2 ? CLNN_COMBINE_SSQ : CLNN_COMBINE_MAX;
    for (uint j = lid; j < count; j += size)
        acc = clnn_norm_combine(acc, partials[j], how);
    scratch[lid] = acc;
    clnn_norm_reduce_local(scratch, how);
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
