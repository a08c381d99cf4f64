/*
 * Batch normalisation and layer normalisation, forward and backward.
 *
 * Batch norm sees its input as (N, C, S): N samples, C channels (features for 2-D input) and S
 * positions per channel and sample (H*W for NCHW, 1 for (N, F)). Statistics per channel are
 * reduced in two stages so that any shape keeps the device busy: stage 1 writes partial results
 * for P slices of every channel, stage 2 (one work-item per channel) merges the P slices. Stage 1
 * has two forms chosen by the host:
 *  - "serial": one work-item per (channel, slice of samples) walks its samples in order; adjacent
 *    work-items read adjacent channels, so accesses are contiguous when S is small (S = 1: 2-D).
 *  - "planes": one work-group per (slice of the N*S positions, channel); its work-items stride
 *    through the contiguous planes and merge in local memory (large S, few channels).
 * Means and variances are (count, mean, M2) triples of the values shifted by K, the channel's
 * first value (x - K is exact for values near K), accumulated with Welford's update and merged
 * with Chan's formula, never E[x^2] - E[x]^2, so a mean of 1e4 with a spread of 1e-2 keeps its
 * variance. The mean is kept as K + d (d the small shifted mean) and the elementwise passes
 * compute y = ((x - K) - d) * scale + shift: a float mean of 1e4 alone is only good to 5e-4,
 * which would be 5% of such a spread, and folding the mean into the shift would cancel. A fused activation can
 * be added by defining CLNN_BN_EPILOGUE(v) (a scalar function applied to each output) at build
 * time, e.g. from kernels/activation.h; by default it is the identity.
 */
#include "common.h"
#include "reduce.h"

#ifndef CLNN_BN_EPILOGUE
#define CLNN_BN_EPILOGUE(v) (v)
#endif

/* flags of bn_finalize / bn_coef_inference / bn_bwd_finalize / ln_* */
#define BN_RUNNING 1u
#define BN_GAMMA 2u
#define BN_BETA 4u
#define BN_DGAMMA 8u
#define BN_DBETA 16u
#define LN_SAVE 32u
#define DX_WRITE 64u

/* ---- batch norm, training forward: statistics ------------------------------------------------ */

/* Stage 1, serial form: work-item (c, p) reduces samples [p*rows, (p+1)*rows) of channel c.
 * part[(p*C + c)*3 + {0,1,2}] = (count, mean, M2) of x - K, K = x[n=0, c, s=0]. */
__kernel void bn_stats_serial(__global const float *restrict x, __global float *restrict part,
                              uint C, uint S, uint N, uint rows)
{
    uint c = (uint)get_global_id(0), p = (uint)get_global_id(1);
    if (c >= C)
        return;
    uint n0 = p * rows, n1 = min(N, n0 + rows);
    float K = x[c * S], cnt = 0.0f, mean = 0.0f, m2 = 0.0f;
    for (uint n = n0; n < n1; ++n) {
        __global const float *row = x + (n * C + c) * S;
        for (uint s = 0; s < S; ++s)
            clnn_welford_add(row[s] - K, &cnt, &mean, &m2);
    }
    uint o = (p * C + c) * 3u;
    part[o] = cnt;
    part[o + 1u] = mean;
    part[o + 2u] = m2;
}

/* Stage 1, planes form: work-group (p, c) reduces positions [p*chunk, (p+1)*chunk) of the N*S
 * positions m = n*S + s of channel c. Work-items stride by the group size; (n, s) advance
 * incrementally, so no division runs per element. scratch: 3 * local size floats. */
__kernel void bn_stats_planes(__global const float *restrict x, __global float *restrict part,
                              uint C, uint S, uint M, uint chunk, __local float *scratch)
{
    uint p = (uint)get_group_id(0), c = (uint)get_global_id(1);
    uint lid = (uint)get_local_id(0), L = (uint)get_local_size(0);
    uint m0 = p * chunk, m1 = min(M, m0 + chunk);
    __global const float *xc = x + c * S;
    float K = xc[0], cnt = 0.0f, mean = 0.0f, m2 = 0.0f;
    uint m = m0 + lid;
    if (m < m1) {
        uint n = m / S, s = m - n * S;
        uint dn = L / S, ds = L - dn * S, CS = C * S;
        for (; m < m1; m += L) {
            clnn_welford_add(xc[n * CS + s] - K, &cnt, &mean, &m2);
            s += ds;
            n += dn;
            if (s >= S) {
                s -= S;
                ++n;
            }
        }
    }
    clnn_group_welford(&cnt, &mean, &m2, scratch);
    if (lid == 0u) {
        uint o = (p * C + c) * 3u;
        part[o] = cnt;
        part[o + 1u] = mean;
        part[o + 2u] = m2;
    }
}

/* Stage 2: merges the P partial triples of channel c, saves mean and 1/sqrt(var + eps) (biased
 * variance), updates the running statistics as PyTorch does (running variance from the unbiased
 * variance M2 / (count - 1)), and writes the coefficients of the elementwise pass:
 * coef = [K | d | gamma * invstd | beta], C floats each (mean = K + d). Absent gamma/beta read as
 * 1/0; absent
 * buffers are replaced by a dummy the kernel never reads. */
__kernel void bn_finalize(__global const float *restrict x, __global const float *restrict part,
                          uint P, uint C, uint S, float eps,
                          float momentum, uint flags, __global float *running_mean,
                          __global float *running_var, __global const float *gamma,
                          __global const float *beta, __global float *save_mean,
                          __global float *save_invstd, __global float *coef)
{
    uint c = (uint)get_global_id(0);
    if (c >= C)
        return;
    float cnt = 0.0f, mean = 0.0f, m2 = 0.0f;
    for (uint p = 0; p < P; ++p) {
        uint o = (p * C + c) * 3u;
        clnn_chan_merge(&cnt, &mean, &m2, part[o], part[o + 1u], part[o + 2u]);
    }
    float K = x[c * S];
    float invstd = 1.0f / sqrt(m2 / cnt + eps);
    save_mean[c] = K + mean;
    save_invstd[c] = invstd;
    if (flags & BN_RUNNING) {
        running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * (K + mean);
        running_var[c] = (1.0f - momentum) * running_var[c] + momentum * (m2 / (cnt - 1.0f));
    }
    coef[c] = K;
    coef[C + c] = mean;
    coef[2u * C + c] = (flags & BN_GAMMA) ? gamma[c] * invstd : invstd;
    coef[3u * C + c] = (flags & BN_BETA) ? beta[c] : 0.0f;
}

/* Inference: the same coefficients from the running statistics. */
__kernel void bn_coef_inference(__global const float *restrict running_mean,
                                __global const float *restrict running_var,
                                __global const float *gamma, __global const float *beta,
                                uint flags, float eps, uint C, __global float *restrict coef)
{
    uint c = (uint)get_global_id(0);
    if (c >= C)
        return;
    float invstd = 1.0f / sqrt(running_var[c] + eps);
    coef[c] = running_mean[c];
    coef[C + c] = 0.0f;
    coef[2u * C + c] = (flags & BN_GAMMA) ? gamma[c] * invstd : invstd;
    coef[3u * C + c] = (flags & BN_BETA) ? beta[c] : 0.0f;
}

static inline float4 bn_epilogue4(float4 v)
{
    v.s0 = CLNN_BN_EPILOGUE(v.s0);
    v.s1 = CLNN_BN_EPILOGUE(v.s1);
    v.s2 = CLNN_BN_EPILOGUE(v.s2);
    v.s3 = CLNN_BN_EPILOGUE(v.s3);
    return v;
}

/* y = ((x - K) - d) * scale + shift over (N, C, S) with S > 1: work-item (i, c, n) handles
 * positions 4i..4i+3 of plane (n, c). In-place (y == x) is allowed. */
__kernel void bn_apply_planes(__global const float *x, __global float *y,
                              __global const float *restrict coef, uint C, uint S)
{
    uint i = (uint)get_global_id(0), c = (uint)get_global_id(1), n = (uint)get_global_id(2);
    if (c >= C || i * 4u >= S)
        return;
    uint base = (n * C + c) * S;
    float4 v = clnn_load4(x + base, i, S);
    float4 r = ((v - coef[c]) - coef[C + c]) * coef[2u * C + c] + coef[3u * C + c];
    clnn_store4(bn_epilogue4(r), y + base, i, S);
}

/* The same for S = 1 (2-D input): work-item (i, n) handles features 4i..4i+3 of sample n. */
__kernel void bn_apply_cols(__global const float *x, __global float *y,
                            __global const float *restrict coef, uint C, uint N)
{
    uint i = (uint)get_global_id(0), n = (uint)get_global_id(1);
    if (i * 4u >= C || n >= N)
        return;
    float4 v = clnn_load4(x + n * C, i, C);
    float4 r = ((v - clnn_load4(coef, i, C)) - clnn_load4(coef + C, i, C)) *
                   clnn_load4(coef + 2u * C, i, C) +
               clnn_load4(coef + 3u * C, i, C);
    clnn_store4(bn_epilogue4(r), y + n * C, i, C);
}

/* ---- batch norm, backward ------------------------------------------------------------------- */
/* With xhat = (x - mean) * invstd and M = N*S values per channel:
 *   dbeta = sum(dy), dgamma = sum(dy * xhat),
 *   dx = gamma * invstd * (dy - sum(dy)/M - xhat * sum(dy * xhat)/M),
 * the last two terms being the paths through the batch mean and the batch variance. The saved
 * mean is a float, 5e-4 off at 1e4, so it serves as the shift K and stage 1 also sums x - K to
 * recover the exact mean K + d: part[(p*C + c)*3 + {0,1,2}] = (sum dy, sum dy*(x - K),
 * sum (x - K)), and sum dy*(x - mean) = sum dy*(x - K) - d * sum dy. */

__kernel void bn_bwd_reduce_serial(__global const float *restrict x,
                                   __global const float *restrict dy,
                                   __global const float *restrict save_mean,
                                   __global float *restrict part, uint C, uint S, uint N,
                                   uint rows)
{
    uint c = (uint)get_global_id(0), p = (uint)get_global_id(1);
    if (c >= C)
        return;
    uint n0 = p * rows, n1 = min(N, n0 + rows);
    float K = save_mean[c], sdy = 0.0f, sdx = 0.0f, sx = 0.0f;
    for (uint n = n0; n < n1; ++n) {
        uint base = (n * C + c) * S;
        for (uint s = 0; s < S; ++s) {
            float g = dy[base + s], d = x[base + s] - K;
            sdy += g;
            sdx += g * d;
            sx += d;
        }
    }
    uint o = (p * C + c) * 3u;
    part[o] = sdy;
    part[o + 1u] = sdx;
    part[o + 2u] = sx;
}

/* scratch: 4 * local size floats. */
__kernel void bn_bwd_reduce_planes(__global const float *restrict x,
                                   __global const float *restrict dy,
                                   __global const float *restrict save_mean,
                                   __global float *restrict part, uint C, uint S, uint M,
                                   uint chunk, __local float *scratch)
{
    uint p = (uint)get_group_id(0), c = (uint)get_global_id(1);
    uint lid = (uint)get_local_id(0), L = (uint)get_local_size(0);
    uint m0 = p * chunk, m1 = min(M, m0 + chunk);
    float K = save_mean[c];
    float4 acc = (float4)(0.0f);
    uint m = m0 + lid;
    if (m < m1) {
        uint n = m / S, s = m - n * S;
        uint dn = L / S, ds = L - dn * S, CS = C * S;
        uint cs = c * S;
        for (; m < m1; m += L) {
            uint idx = n * CS + cs + s;
            float g = dy[idx], d = x[idx] - K;
            acc.x += g;
            acc.y += g * d;
            acc.z += d;
            s += ds;
            n += dn;
            if (s >= S) {
                s -= S;
                ++n;
            }
        }
    }
    acc = clnn_group_sum4(acc, scratch);
    if (lid == 0u) {
        uint o = (p * C + c) * 3u;
        part[o] = acc.x;
        part[o + 1u] = acc.y;
        part[o + 2u] = acc.z;
    }
}

/* Stage 2: sums the slices, writes dgamma/dbeta (blended as param_beta * old + new when
 * param_beta != 0; overwritten otherwise, so old NaN never leaks in), and the coefficients of dx:
 * coef = [K | d | gamma*invstd | sum(dy)/M | invstd * sum(dy*xhat)/M]. */
__kernel void bn_bwd_finalize(__global const float *restrict part, uint P, uint C, float M,
                              __global const float *restrict save_mean,
                              __global const float *restrict save_invstd,
                              __global const float *gamma, __global float *dgamma,
                              __global float *dbeta, uint flags, float param_beta,
                              __global float *restrict coef)
{
    uint c = (uint)get_global_id(0);
    if (c >= C)
        return;
    float sdy = 0.0f, sdk = 0.0f, sx = 0.0f;
    for (uint p = 0; p < P; ++p) {
        uint o = (p * C + c) * 3u;
        sdy += part[o];
        sdk += part[o + 1u];
        sx += part[o + 2u];
    }
    float d = sx / M, invstd = save_invstd[c];
    float sdxhat = (sdk - d * sdy) * invstd;
    if (flags & BN_DBETA)
        dbeta[c] = param_beta != 0.0f ? param_beta * dbeta[c] + sdy : sdy;
    if (flags & BN_DGAMMA)
        dgamma[c] = param_beta != 0.0f ? param_beta * dgamma[c] + sdxhat : sdxhat;
    coef[c] = save_mean[c];
    coef[C + c] = d;
    coef[2u * C + c] = (flags & BN_GAMMA) ? gamma[c] * invstd : invstd;
    coef[3u * C + c] = sdy / M;
    coef[4u * C + c] = invstd * sdxhat / M;
}

/* dx = a * (dy - k1 - ((x - K) - d) * k2) with coef = [K | d | a | k1 | k2]; dx may alias dy. */
__kernel void bn_bwd_apply_planes(__global const float *x, __global const float *dy,
                                  __global float *dx, __global const float *restrict coef,
                                  uint C, uint S)
{
    uint i = (uint)get_global_id(0), c = (uint)get_global_id(1), n = (uint)get_global_id(2);
    if (c >= C || i * 4u >= S)
        return;
    uint base = (n * C + c) * S;
    float4 xv = clnn_load4(x + base, i, S), g = clnn_load4(dy + base, i, S);
    float4 r = coef[2u * C + c] *
               (g - coef[3u * C + c] - ((xv - coef[c]) - coef[C + c]) * coef[4u * C + c]);
    clnn_store4(r, dx + base, i, S);
}

__kernel void bn_bwd_apply_cols(__global const float *x, __global const float *dy,
                                __global float *dx, __global const float *restrict coef, uint C,
                                uint N)
{
    uint i = (uint)get_global_id(0), n = (uint)get_global_id(1);
    if (i * 4u >= C || n >= N)
        return;
    float4 xv = clnn_load4(x + n * C, i, C), g = clnn_load4(dy + n * C, i, C);
    float4 r = clnn_load4(coef + 2u * C, i, C) *
               (g - clnn_load4(coef + 3u * C, i, C) -
                ((xv - clnn_load4(coef, i, C)) - clnn_load4(coef + C, i, C)) *
                    clnn_load4(coef + 4u * C, i, C));
    clnn_store4(r, dx + n * C, i, C);
}

/* ---- layer norm over the last dimension D: one work-group per row --------------------------- */

/* y = (x - mean) * invstd * gamma + beta per row (biased variance, Welford per work-item merged
 * with Chan's formula). Saves mean and invstd per row when LN_SAVE. y may alias x.
 * scratch: 3 * local size floats. */
__kernel void ln_forward(__global const float *x, __global float *y, __global const float *gamma,
                         __global const float *beta, uint flags, __global float *save_mean,
                         __global float *save_invstd, uint D, float eps, __local float *scratch)
{
    uint r = (uint)get_group_id(0), lid = (uint)get_local_id(0), L = (uint)get_local_size(0);
    __global const float *xr = x + r * D;
    /* Shifted by the row's first value K, as batch norm; mean = K + d. */
    float K = xr[0], cnt = 0.0f, d = 0.0f, m2 = 0.0f;
    for (uint j = lid; j < D; j += L)
        clnn_welford_add(xr[j] - K, &cnt, &d, &m2);
    clnn_group_welford(&cnt, &d, &m2, scratch);
    float invstd = 1.0f / sqrt(m2 / cnt + eps);
    __global float *yr = y + r * D;
    for (uint j = lid; j < D; j += L) {
        float v = ((xr[j] - K) - d) * invstd;
        if (flags & BN_GAMMA)
            v *= gamma[j];
        if (flags & BN_BETA)
            v += beta[j];
        yr[j] = v;
    }
    if (lid == 0u && (flags & LN_SAVE)) {
        save_mean[r] = K + d;
        save_invstd[r] = invstd;
    }
}

/* dx = invstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma, per row. As in batch
 * norm, the saved (rounded) mean is a shift K and the row's exact mean K + d is recovered from
 * sum(x - K); d goes to resid[r] for ln_param_partial. dx may alias dy. scratch: 4 * local size
 * floats. */
__kernel void ln_backward_dx(__global const float *x, __global const float *dy,
                             __global const float *gamma, uint flags,
                             __global const float *restrict save_mean,
                             __global const float *restrict save_invstd, __global float *dx,
                             __global float *restrict resid, uint D, __local float *scratch)
{
    uint r = (uint)get_group_id(0), lid = (uint)get_local_id(0), L = (uint)get_local_size(0);
    __global const float *xr = x + r * D, *gr = dy + r * D;
    float K = save_mean[r], invstd = save_invstd[r];
    float4 acc = (float4)(0.0f);
    for (uint j = lid; j < D; j += L) {
        float g = (flags & BN_GAMMA) ? gr[j] * gamma[j] : gr[j], v = xr[j] - K;
        acc.x += g;
        acc.y += g * v;
        acc.z += v;
    }
    acc = clnn_group_sum4(acc, scratch);
    float d = acc.z / (float)D;
    float k1 = acc.x / (float)D, k2 = (acc.y - d * acc.x) * invstd / (float)D;
    if (lid == 0u)
        resid[r] = d;
    __global float *dr = dx + r * D;
    if (!(flags & DX_WRITE))
        return;
    for (uint j = lid; j < D; j += L) {
        float g = (flags & BN_GAMMA) ? gr[j] * gamma[j] : gr[j];
        dr[j] = invstd * (g - k1 - ((xr[j] - K) - d) * invstd * k2);
    }
}

/* dgamma/dbeta of layer norm, stage 1: work-item (j, p) sums rows [p*rows, (p+1)*rows) of
 * column j: part[(p*D + j)*2 + {0,1}] = (sum dy, sum dy * xhat). */
__kernel void ln_param_partial(__global const float *restrict x,
                               __global const float *restrict dy,
                               __global const float *restrict save_mean,
                               __global const float *restrict save_invstd,
                               __global const float *restrict resid,
                               __global float *restrict part, uint R, uint D, uint rows)
{
    uint j = (uint)get_global_id(0), p = (uint)get_global_id(1);
    if (j >= D)
        return;
    uint r0 = p * rows, r1 = min(R, r0 + rows);
    float sdy = 0.0f, sdx = 0.0f;
    for (uint r = r0; r < r1; ++r) {
        float g = dy[r * D + j];
        sdy += g;
        sdx += g * ((x[r * D + j] - save_mean[r]) - resid[r]) * save_invstd[r];
    }
    uint o = (p * D + j) * 2u;
    part[o] = sdy;
    part[o + 1u] = sdx;
}

/* Stage 2: dbeta = sum dy, dgamma = sum dy * xhat over the P slices (blended with param_beta as
 * in bn_bwd_finalize). */
__kernel void ln_param_finalize(__global const float *restrict part, uint P, uint D,
                                __global float *dgamma, __global float *dbeta, uint flags,
                                float param_beta)
{
    uint j = (uint)get_global_id(0);
    if (j >= D)
        return;
    float sdy = 0.0f, sdx = 0.0f;
    for (uint p = 0; p < P; ++p) {
        uint o = (p * D + j) * 2u;
        sdy += part[o];
        sdx += part[o + 1u];
    }
    if (flags & BN_DBETA)
        dbeta[j] = param_beta != 0.0f ? param_beta * dbeta[j] + sdy : sdy;
    if (flags & BN_DGAMMA)
        dgamma[j] = param_beta != 0.0f ? param_beta * dgamma[j] + sdx : sdx;
}
