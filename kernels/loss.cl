/*
 * Softmax, log-softmax and losses, forward and backward.
 *
 * Row-wise ops over (N, C) run one work-group per row: the row's maximum is subtracted before
 * exponentiating, so no logit overflows. Cross-entropy computes the loss of every row and the
 * gradient with respect to the logits in the same pass (softmax - target distribution, scaled),
 * after a small kernel has counted the rows that are not ignored (the mean's denominator) and
 * looked for labels out of range. Pointwise losses (MSE, BCE with logits) reduce in two stages:
 * partial sums per work-group, then one work-group adds them in a fixed order.
 */
#include "common.h"
#include "reduce.h"
#include "activation.h" /* clnn_act_exp16, the vectorised exp of the CPU forms */

/* ---- softmax / log_softmax over dimension 1 of (N, C) --------------------------------------- */

/* y = exp(x - max) / sum, or for log_mode y = (x - max) - log(sum): x - max is exact for the
 * row's large values, where x - (max + log(sum)) would round log(sum) to ulp(max) (a row of
 * logits near 1000 was off by 4e-5). y may alias x. scratch: local size floats. */
__kernel void softmax_forward(__global const float *x, __global float *y, uint C, uint log_mode,
                              __local float *scratch)
{
    uint r = (uint)get_group_id(0), lid = (uint)get_local_id(0), L = (uint)get_local_size(0);
    __global const float *xr = x + r * C;
    float m = -INFINITY;
    for (uint j = lid; j < C; j += L) {
        float v = xr[j];
        m = (isnan(v) || v > m) ? v : m;
    }
    m = clnn_group_max(m, scratch);
    float s = 0.0f;
    for (uint j = lid; j < C; j += L)
        s += exp(xr[j] - m);
    s = clnn_group_sum(s, scratch);
    __global float *yr = y + r * C;
    if (log_mode) {
        float log_s = log(s);
        for (uint j = lid; j < C; j += L)
            yr[j] = (xr[j] - m) - log_s;
    } else {
        float inv = 1.0f / s;
        for (uint j = lid; j < C; j += L)
            yr[j] = exp(xr[j] - m) * inv;
    }
}

/* softmax: dx = y * (dy - sum(dy * y)); log_softmax: dx = dy - exp(y) * sum(dy), from the
 * forward's output y. dx may alias dy. */
__kernel void softmax_backward(__global const float *y, __global const float *dy,
                               __global float *dx, uint C, uint log_mode, __local float *scratch)
{
    uint r = (uint)get_group_id(0), lid = (uint)get_local_id(0), L = (uint)get_local_size(0);
    __global const float *yr = y + r * C, *gr = dy + r * C;
    float s = 0.0f;
    for (uint j = lid; j < C; j += L)
        s += log_mode ? gr[j] : gr[j] * yr[j];
    s = clnn_group_sum(s, scratch);
    __global float *dr = dx + r * C;
    for (uint j = lid; j < C; j += L)
        dr[j] = log_mode ? gr[j] - exp(yr[j]) * s : yr[j] * (gr[j] - s);
}

/* ---- cross-entropy from logits with integer labels ------------------------------------------ */

/* One work-group over all N labels: info[0] = rows whose label is not ignore_index, info[1] =
 * the first row whose label is outside [0, C) and not ignore_index (N when none), info[2] = that
 * label. scratch: 2 * local size ints. */
__kernel void ce_check_labels(__global const int *restrict labels, uint N, int C,
                              int ignore_index, __global int *restrict info,
                              __local int *scratch)
{
    uint lid = (uint)get_local_id(0), L = (uint)get_local_size(0);
    int count = 0;
    uint bad = N;
    for (uint i = lid; i < N; i += L) {
        int t = labels[i];
        if (t == ignore_index)
            continue;
        if (t < 0 || t >= C)
            bad = min(bad, i);
        else
            ++count;
    }
    __local int *sc = scratch, *sb = scratch + L;
    sc[lid] = count;
    sb[lid] = (int)bad;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = clnn_tree_start(L); s > 0u; s >>= 1) {
        if (lid < s && lid + s < L) {
            sc[lid] += sc[lid + s];
            sb[lid] = min(sb[lid], sb[lid + s]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0u) {
        info[0] = sc[0];
        info[1] = sb[0];
        info[2] = (uint)sb[0] < N ? labels[sb[0]] : 0;
    }
}

/* Row r: with m = max z, s = sum exp(z - m), eps = label_smoothing and target distribution
 * q = (1 - eps) * onehot(label) + eps / C (PyTorch's definition),
 *   loss_r = -sum q log softmax(z) = log s + (1 - eps) (m - z[label]) + eps / C * sum(m - z),
 *   dz_j   = scale * (softmax_j - q_j), softmax_j = exp((z_j - m) - log s),
 * scale = 1 / (rows not ignored) for the mean, 1 for the sum. Every term is a difference from m
 * before log s joins it, so rows of large logits lose nothing to ulp(m).
 * Ignored rows give loss 0 and gradient 0; a label out of range gives NaN for both, so that a
 * bad label can never pass silently. flags: 1 = write the gradient, 2 = mean reduction.
 * scratch: 4 * local size floats. */
__kernel void ce_rows(__global const float *restrict logits, __global const int *restrict labels,
                      __global const int *restrict info, __global float *restrict dlogits,
                      __global float *restrict row_loss, uint C, int ignore_index,
                      float smoothing, uint flags, __local float *scratch)
{
    uint r = (uint)get_group_id(0), lid = (uint)get_local_id(0), L = (uint)get_local_size(0);
    int t = labels[r];
    __global float *dr = dlogits + r * C;
    if (t == ignore_index || t < 0 || t >= (int)C) {
        float v = t == ignore_index ? 0.0f : NAN;
        if (flags & 1u)
            for (uint j = lid; j < C; j += L)
                dr[j] = v;
        if (lid == 0u)
            row_loss[r] = v;
        return; /* the whole group returns: no barrier is skipped by part of it */
    }
    __global const float *zr = logits + r * C;
    float m = -INFINITY;
    for (uint j = lid; j < C; j += L) {
        float v = zr[j];
        m = (isnan(v) || v > m) ? v : m;
    }
    m = clnn_group_max(m, scratch);
    float4 acc = (float4)(0.0f);
    for (uint j = lid; j < C; j += L) {
        acc.x += exp(zr[j] - m);
        acc.y += m - zr[j];
    }
    acc = clnn_group_sum4(acc, scratch);
    float log_s = log(acc.x);
    float keep = 1.0f - smoothing, spread = smoothing / (float)C;
    if (lid == 0u)
        row_loss[r] = log_s + keep * (m - zr[t]) + spread * acc.y;
    if (flags & 1u) {
        float scale = (flags & 2u) ? 1.0f / (float)info[0] : 1.0f;
        for (uint j = lid; j < C; j += L) {
            float q = spread + ((int)j == t ? keep : 0.0f);
            dr[j] = scale * (exp((zr[j] - m) - log_s) - q);
        }
    }
}

/* One work-group: loss[0] = sum of the N row losses (in a fixed order), divided by the rows not
 * ignored when mean (0 / 0 = NaN when every row is ignored, as PyTorch). */
__kernel void ce_finish(__global const float *restrict row_loss, uint N,
                        __global const int *restrict info, uint mean,
                        __global float *restrict loss, __local float *scratch)
{
    uint lid = (uint)get_local_id(0), L = (uint)get_local_size(0);
    float s = 0.0f;
    for (uint i = lid; i < N; i += L)
        s += row_loss[i];
    s = clnn_group_sum(s, scratch);
    if (lid == 0u)
        loss[0] = mean ? s / (float)info[0] : s;
}

/* ---- the row-wise ops on CPUs: a work-item per range of rows -------------------------------
 * A CPU runs a work-group's items one after another, so a group per row pays for barriers and
 * POCL's scalar exp and log. Here work-item q, a group of one, takes rows [q * per, (q + 1) * per)
 * of (N, C) and walks each row with float16 loads (the row stays in cache between its passes),
 * using the library's own exp (kernels/activation_impl.h, within 2 ulp). Same formulas and NaN
 * behaviour as the kernels above. */

/* The row's maximum; NaN if the row holds a NaN. */
static inline float loss_row_max(__global const float *xr, uint C)
{
    uint Cv = C & ~15u;
    float16 m16 = (float16)(-INFINITY);
    int16 nan16 = (int16)(0);
    for (uint j = 0; j < Cv; j += 16u) {
        float16 v = clnn_load16(0, xr + j);
        m16 = fmax(m16, v);
        nan16 |= isnan(v);
    }
    float8 m8 = fmax(m16.lo, m16.hi);
    float4 m4 = fmax(m8.lo, m8.hi);
    float m = fmax(fmax(m4.x, m4.y), fmax(m4.z, m4.w));
    int any_nan = any(nan16);
    for (uint j = Cv; j < C; ++j) {
        m = fmax(m, xr[j]);
        any_nan |= isnan(xr[j]);
    }
    return any_nan ? NAN : m;
}

/* sum exp(x - m) over the row, and in *sum_gap the sum of m - x. */
static inline float loss_row_sum_exp(__global const float *xr, uint C, float m, float *sum_gap)
{
    uint Cv = C & ~15u;
    float16 e16 = (float16)(0.0f), g16 = (float16)(0.0f);
    for (uint j = 0; j < Cv; j += 16u) {
        float16 v = clnn_load16(0, xr + j);
        e16 += clnn_act_exp16(v - m);
        g16 += m - v;
    }
    float e = clnn_sum16(e16), gap = clnn_sum16(g16);
    for (uint j = Cv; j < C; ++j) {
        e += clnn_act_exp(xr[j] - m);
        gap += m - xr[j];
    }
    *sum_gap = gap;
    return e;
}

__kernel void softmax_forward_rows(__global const float *x, __global float *y, uint C,
                                   uint log_mode, uint N, uint per)
{
    uint q = (uint)get_global_id(0);
    uint r1 = min(N, q * per + per), Cv = C & ~15u;
    for (uint r = q * per; r < r1; ++r) {
        __global const float *xr = x + r * C;
        __global float *yr = y + r * C;
        float m = loss_row_max(xr, C), gap;
        float s = loss_row_sum_exp(xr, C, m, &gap);
        if (log_mode) {
            float log_s = log(s);
            for (uint j = 0; j < Cv; j += 16u)
                clnn_store16((clnn_load16(0, xr + j) - m) - log_s, 0, yr + j);
            for (uint j = Cv; j < C; ++j)
                yr[j] = (xr[j] - m) - log_s;
        } else {
            float inv = 1.0f / s;
            for (uint j = 0; j < Cv; j += 16u)
                clnn_store16(clnn_act_exp16(clnn_load16(0, xr + j) - m) * inv, 0, yr + j);
            for (uint j = Cv; j < C; ++j)
                yr[j] = clnn_act_exp(xr[j] - m) * inv;
        }
    }
}

__kernel void softmax_backward_rows(__global const float *y, __global const float *dy,
                                    __global float *dx, uint C, uint log_mode, uint N, uint per)
{
    uint q = (uint)get_global_id(0);
    uint r1 = min(N, q * per + per), Cv = C & ~15u;
    for (uint r = q * per; r < r1; ++r) {
        __global const float *yr = y + r * C, *gr = dy + r * C;
        __global float *dr = dx + r * C;
        float16 s16 = (float16)(0.0f);
        for (uint j = 0; j < Cv; j += 16u) {
            float16 g = clnn_load16(0, gr + j);
            s16 += log_mode ? g : g * clnn_load16(0, yr + j);
        }
        float s = clnn_sum16(s16);
        for (uint j = Cv; j < C; ++j)
            s += log_mode ? gr[j] : gr[j] * yr[j];
        for (uint j = 0; j < Cv; j += 16u) {
            float16 g = clnn_load16(0, gr + j), yv = clnn_load16(0, yr + j);
            clnn_store16(log_mode ? g - clnn_act_exp16(yv) * s : yv * (g - s), 0, dr + j);
        }
        for (uint j = Cv; j < C; ++j)
            dr[j] = log_mode ? gr[j] - clnn_act_exp(yr[j]) * s : yr[j] * (gr[j] - s);
    }
}

/* ce_rows on CPUs (same formulas, flags and NaN rules). */
__kernel void ce_rows_cpu(__global const float *restrict logits,
                          __global const int *restrict labels,
                          __global const int *restrict info, __global float *restrict dlogits,
                          __global float *restrict row_loss, uint C, int ignore_index,
                          float smoothing, uint flags, uint N, uint per)
{
    uint q = (uint)get_global_id(0);
    uint r1 = min(N, q * per + per), Cv = C & ~15u;
    float keep = 1.0f - smoothing, spread = smoothing / (float)C;
    for (uint r = q * per; r < r1; ++r) {
        int t = labels[r];
        __global float *dr = dlogits + r * C;
        if (t == ignore_index || t < 0 || t >= (int)C) {
            float v = t == ignore_index ? 0.0f : NAN;
            if (flags & 1u)
                for (uint j = 0; j < C; ++j)
                    dr[j] = v;
            row_loss[r] = v;
            continue;
        }
        __global const float *zr = logits + r * C;
        float m = loss_row_max(zr, C), gap;
        float log_s = log(loss_row_sum_exp(zr, C, m, &gap));
        row_loss[r] = log_s + keep * (m - zr[t]) + spread * gap;
        if (flags & 1u) {
            float scale = (flags & 2u) ? 1.0f / (float)info[0] : 1.0f;
            for (uint j = 0; j < Cv; j += 16u)
                clnn_store16(scale * (clnn_act_exp16((clnn_load16(0, zr + j) - m) - log_s) - spread),
                             0, dr + j);
            for (uint j = Cv; j < C; ++j)
                dr[j] = scale * (clnn_act_exp((zr[j] - m) - log_s) - spread);
            dr[t] = scale * (clnn_act_exp((zr[t] - m) - log_s) - (spread + keep));
        }
    }
}

/* ---- pointwise losses ------------------------------------------------------------------------ */

#define LOSS_MSE 0u
#define LOSS_BCE 1u
/* flags */
#define PW_NONE_OUT 1u /* write the per-element loss (reduction none) */
#define PW_GRAD 2u     /* write the gradient */
#define PW_PARTIAL 4u  /* write the group's partial sum */

/* Per element: MSE l = (x - t)^2, dl/dx = 2 (x - t); BCE with logits (x the logit, t in [0, 1])
 * l = max(x, 0) - x t + log1p(exp(-|x|)), dl/dx = sigmoid(x) - t, both finite for any |x|.
 * Work-items stride over the elements; the gradient is multiplied by grad_scale (1/n for the
 * mean). part[group] = the group's sum of l. scratch: local size floats. */
__kernel void pointwise_loss(__global const float *restrict x, __global const float *restrict t,
                             __global float *restrict out, __global float *restrict dx,
                             __global float *restrict part, uint n, uint kind, uint flags,
                             float grad_scale, __local float *scratch)
{
    uint stride = (uint)get_global_size(0);
    float s = 0.0f;
    for (uint i = (uint)get_global_id(0); i < n; i += stride) {
        float v = x[i], target = t[i], l, g;
        if (kind == LOSS_MSE) {
            float d = v - target;
            l = d * d;
            g = 2.0f * d;
        } else {
            /* clnn's exp and log1p (activation_impl.h, relative error ~1e-7 and 3.3e-8): the
             * device's may be several ulp off (OpenCL C 1.2's accuracy table). */
            float e = clnn_act_exp_neg(fabs(v));
            /* max(x, 0) - x t cancels for large |x|: fma keeps the product exact (a compiler
             * may or may not contract it, and llvmpipe does not: 4e-5 off at |x| ~ 150). */
            l = fma(-v, target, fmax(v, 0.0f)) + clnn_act_log1p_unit(e);
            float sig = v >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
            g = sig - target;
        }
        s += l;
        if (flags & PW_NONE_OUT)
            out[i] = l;
        if (flags & PW_GRAD)
            dx[i] = grad_scale * g;
    }
    if (flags & PW_PARTIAL) {
        s = clnn_group_sum(s, scratch);
        if (get_local_id(0) == 0)
            part[get_group_id(0)] = s;
    }
}

/* One work-group: out[0] = scale * sum of the G partial sums. */
__kernel void sum_partials(__global const float *restrict part, uint G, float scale,
                           __global float *restrict out, __local float *scratch)
{
    uint lid = (uint)get_local_id(0), L = (uint)get_local_size(0);
    float s = 0.0f;
    for (uint i = lid; i < G; i += L)
        s += part[i];
    s = clnn_group_sum(s, scratch);
    if (lid == 0u)
        out[0] = s * scale;
}
