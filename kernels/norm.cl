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
 *  - "planes": one work-group per (slice of samples x slice of positions, channel); its
 *    work-items walk consecutive positions of each plane and merge in local memory (large S).
 * Means and variances are (count, mean, M2) triples of the values shifted by K, the channel's
 * first value (x - K is exact for values near K). The inner loops only add x - K and its square
 * (no division, no branch, so POCL vectorises them across work-items); every block of a few
 * dozen values becomes a triple merged with Chan's formula, never E[x^2] - E[x]^2 over the whole
 * channel, so a mean of 1e4 with a spread of 1e-2 keeps its variance. The mean is kept as K + d
 * (d the small shifted mean) and the elementwise passes compute y = ((x - K) - d) * scale +
 * shift: a float mean of 1e4 alone is only good to 5e-4, which would be 5% of such a spread,
 * and folding the mean into the shift would cancel.
 *
 * Fused activation: the program is built with -DCLNN_ACTIVATION=<kind> (kernels/activation.h;
 * identity without it) and the kernels take its parameters as a float4 `act`: the forward
 * passes write f(BN(x)), the backward multiplies dy by f'(z) at z = BN(x), recomputed from x and
 * the saved statistics, before its reductions. act.s3 != 0 (a lane no activation's parameters
 * use) makes f the identity at run time: batch norm without an activation runs on the program
 * built for ReLU (src/norm.c), the usual one beside it (Conv2D -> BN -> ReLU, and a residual
 * body's last BN without one), so a network compiles one set of these kernels, not two (on POCL
 * 0.27 s for the build and 0.1-0.15 s per kernel). f(z) = z and f'(z) = 1 are exact, so the
 * results are those of the identity build's kernels up to the order of the backward's sums.
 */
#include "common.h"
#include "reduce.h"
#include "activation.h"

/* The build's f and f', or the identity where act.s3 != 0. */
static inline float4 bn_activation4(float4 z, float4 act)
{
    return act.s3 != 0.0f ? z : clnn_act_forward4(z, act);
}

static inline float bn_activation1(float z, float4 act)
{
    return act.s3 != 0.0f ? z : clnn_act_forward(z, act);
}

#if CLNN_ACTIVATION != CLNN_ACT_IDENTITY /* the identity build never multiplies by f' */
static inline float4 bn_activation_grad4(float4 z, float4 act)
{
    return act.s3 != 0.0f ? (float4)(1.0f) : clnn_act_grad4(z, act);
}

static inline float bn_activation_grad1(float z, float4 act)
{
    return act.s3 != 0.0f ? 1.0f : clnn_act_grad(z, act);
}
#endif

/* flags of bn_finalize / bn_coef_inference / bn_bwd_finalize / ln_* */
#define BN_RUNNING 1u
#define BN_GAMMA 2u
#define BN_BETA 4u
#define BN_DGAMMA 8u
#define BN_DBETA 16u
#define LN_SAVE 32u
#define DX_WRITE 64u

/* Values per work-item and block in layer norm's statistics. */
#define LN_BLOCK 32u

/* ---- batch norm, training forward: statistics ------------------------------------------------ */

/* Folds a block of b values with shifted sums s1 = sum(x - K), s2 = sum((x - K)^2) into the
 * running triple (one division per block; the loops that feed it stay division-free). Blocks
 * hold at most a few hundred values, so the float sums lose only a few ulp, and since K is a
 * value of the same data, s2 - s1^2/b cancels only by the factor (1 + (mean - K)^2 / var). */
static inline void bn_fold_block(float *n, float *mean, float *m2, float b, float s1, float s2)
{
    if (b == 0.0f)
        return;
    float mb = s1 / b;
    clnn_chan_merge(n, mean, m2, b, mb, fmax(s2 - s1 * mb, 0.0f));
}

/* bn_fold_block on 16 lanes of equal count (16 features of 2-D input): merges a block of b
 * values into the triple (n, mean, m2); the caller then adds b to its count n. */
static inline void bn_fold_block16(float n, float16 *mean, float16 *m2, float b, float16 s1,
                                   float16 s2)
{
    float16 mb = s1 / b, m2b = fmax(s2 - s1 * mb, 0.0f);
    if (n == 0.0f) {
        *mean = mb;
        *m2 = m2b;
        return;
    }
    float wb = b / (n + b);
    float16 delta = mb - *mean;
    *mean += delta * wb;
    *m2 += m2b + delta * delta * n * wb;
}

/* Stage 1, serial form: work-item (c, p) reduces samples [p*rows, (p+1)*rows) of channel c,
 * `blk` samples per block. Adjacent work-items read adjacent channels (contiguous when S = 1).
 * part[(p*C + c)*3 + {0,1,2}] = (count, mean, M2) of x - K, K = x[n=0, c, s=0]. */
__kernel void bn_stats_serial(__global const float *restrict x, __global float *restrict part,
                              uint C, uint S, uint N, uint rows, uint blk)
{
    uint c = (uint)get_global_id(0), p = (uint)get_global_id(1);
    if (c >= C)
        return;
    uint n0 = p * rows, n1 = min(N, n0 + rows);
    float K = x[c * S], cnt = 0.0f, mean = 0.0f, m2 = 0.0f;
    for (uint nb = n0; nb < n1; nb += blk) {
        uint ne = min(n1, nb + blk);
        float s1 = 0.0f, s2 = 0.0f;
        for (uint n = nb; n < ne; ++n) {
            __global const float *row = x + (n * C + c) * S;
            for (uint s = 0; s < S; ++s) {
                float v = row[s] - K;
                s1 += v;
                s2 += v * v;
            }
        }
        bn_fold_block(&cnt, &mean, &m2, (float)((ne - nb) * S), s1, s2);
    }
    uint o = (p * C + c) * 3u;
    part[o] = cnt;
    part[o + 1u] = mean;
    part[o + 2u] = m2;
}

/* Stage 1, column form for S = 1 on CPUs: work-item (i, p) reduces samples [p*rows, (p+1)*rows)
 * of the 16 consecutive features 16i..16i+15, one float16 load per row (a cache line) into 16
 * independent lanes: a CPU runs a group's work-items one after another, and one feature per
 * work-item would make each a scalar chain of dependent adds over a 4-byte column. Blocks of
 * `blk` rows are folded as in bn_stats_serial, all lanes at once (their counts are equal). A
 * last partial group of features takes the scalar path. Output as bn_stats_serial. */
__kernel void bn_stats_cols16(__global const float *restrict x, __global float *restrict part,
                              uint C, uint N, uint rows, uint blk)
{
    uint c0 = (uint)get_global_id(0) * 16u, p = (uint)get_global_id(1);
    if (c0 >= C)
        return;
    uint n0 = p * rows, n1 = min(N, n0 + rows);
    if (c0 + 16u > C) {
        for (uint c = c0; c < C; ++c) {
            float K = x[c], cnt = 0.0f, mean = 0.0f, m2 = 0.0f;
            for (uint nb = n0; nb < n1; nb += blk) {
                uint ne = min(n1, nb + blk);
                float s1 = 0.0f, s2 = 0.0f;
                for (uint n = nb; n < ne; ++n) {
                    float v = x[n * C + c] - K;
                    s1 += v;
                    s2 += v * v;
                }
                bn_fold_block(&cnt, &mean, &m2, (float)(ne - nb), s1, s2);
            }
            uint o = (p * C + c) * 3u;
            part[o] = cnt;
            part[o + 1u] = mean;
            part[o + 2u] = m2;
        }
        return;
    }
    float16 K = clnn_load16(0, x + c0), mean = (float16)(0.0f), m2 = (float16)(0.0f);
    float cnt = 0.0f;
    for (uint nb = n0; nb < n1; nb += blk) {
        uint ne = min(n1, nb + blk);
        float16 s1 = (float16)(0.0f), s2 = (float16)(0.0f);
        for (uint n = nb; n < ne; ++n) {
            float16 v = clnn_load16(0, x + n * C + c0) - K;
            s1 += v;
            s2 += v * v;
        }
        bn_fold_block16(cnt, &mean, &m2, (float)(ne - nb), s1, s2);
        cnt += (float)(ne - nb);
    }
    float mv[16], m2v[16];
    vstore16(mean, 0, mv);
    vstore16(m2, 0, m2v);
    for (uint l = 0; l < 16u; ++l) {
        uint o = (p * C + c0 + l) * 3u;
        part[o] = cnt;
        part[o + 1u] = mv[l];
        part[o + 2u] = m2v[l];
    }
}

/* Stage 1, planes form: work-group (g, c), g = pn * Ps + ps, reduces samples
 * [pn*rows, (pn+1)*rows) x positions [ps*schunk, (ps+1)*schunk) of channel c, `blk` samples per
 * block, and merges in local memory. Work-item i takes runs of `run` consecutive positions
 * starting at i*run, every L*run: run = 1 on GPUs (adjacent work-items read adjacent addresses),
 * a long run on CPUs, where a work-group's items execute one after another and each must walk
 * contiguous memory for the prefetchers. scratch: 3 * local size floats. */
__kernel void bn_stats_planes(__global const float *restrict x, __global float *restrict part,
                              uint C, uint S, uint N, uint rows, uint Ps, uint schunk, uint run,
                              uint blk, __local float *scratch)
{
    uint g = (uint)get_group_id(0), c = (uint)get_global_id(1);
    uint lid = (uint)get_local_id(0), L = (uint)get_local_size(0);
    uint pn = g / Ps, ps = g - pn * Ps;
    uint n0 = pn * rows, n1 = min(N, n0 + rows);
    uint s0 = ps * schunk + lid * run, s1 = min(S, ps * schunk + schunk), step = L * run;
    __global const float *xc = x + c * S;
    uint CS = C * S;
    float K = xc[0], cnt = 0.0f, mean = 0.0f, m2 = 0.0f;
    for (uint nb = n0; nb < n1; nb += blk) {
        uint ne = min(n1, nb + blk);
        float a1 = 0.0f, a2 = 0.0f, b = 0.0f;
        for (uint n = nb; n < ne; ++n) {
            __global const float *row = xc + n * CS;
            for (uint sb = s0; sb < s1; sb += step) {
                uint se = min(s1, sb + run), s = sb;
                /* Long runs (CPUs): 8 independent lanes, not one chain of dependent adds. */
                float8 v1 = (float8)(0.0f), v2 = (float8)(0.0f);
                for (; s + 8u <= se; s += 8u) {
                    float8 v = clnn_load8(0, row + s) - K;
                    v1 += v;
                    v2 += v * v;
                }
                b += (float)(s - sb);
                a1 += clnn_sum8(v1);
                a2 += clnn_sum8(v2);
                for (; s < se; ++s) {
                    float v = row[s] - K;
                    a1 += v;
                    a2 += v * v;
                    b += 1.0f;
                }
            }
        }
        bn_fold_block(&cnt, &mean, &m2, b, a1, a2);
    }
    clnn_group_welford(&cnt, &mean, &m2, scratch);
    if (lid == 0u) {
        uint o = (g * C + c) * 3u;
        part[o] = cnt;
        part[o + 1u] = mean;
        part[o + 2u] = m2;
    }
}

/* The end of a channel's statistics, shared by every form: from the triple (cnt, d, m2) of x - K
 * (mean = K + d), saves mean and 1/sqrt(var + eps) (biased variance), updates the running
 * statistics as PyTorch does (running variance from the unbiased variance M2 / (count - 1)) and
 * returns the elementwise pass's scale gamma * invstd and shift beta (1 and 0 when absent). */
static inline float2 bn_finish_channel(uint c, float K, float cnt, float d, float m2, float eps,
                                       float momentum, uint flags, __global float *running_mean,
                                       __global float *running_var, __global const float *gamma,
                                       __global const float *beta, __global float *save_mean,
                                       __global float *save_invstd)
{
    float invstd = 1.0f / sqrt(m2 / cnt + eps);
    save_mean[c] = K + d;
    save_invstd[c] = invstd;
    if (flags & BN_RUNNING) {
        running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * (K + d);
        running_var[c] = (1.0f - momentum) * running_var[c] + momentum * (m2 / (cnt - 1.0f));
    }
    return (float2)((flags & BN_GAMMA) ? gamma[c] * invstd : invstd,
                    (flags & BN_BETA) ? beta[c] : 0.0f);
}

/* Stage 2: merges the P partial triples of channel c, finishes it (bn_finish_channel) and writes
 * the coefficients of the elementwise pass: coef = [K | d | gamma * invstd | beta], C floats each
 * (mean = K + d). Absent gamma/beta read as 1/0; absent buffers are replaced by a dummy the kernel
 * never reads. */
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
    float2 ab = bn_finish_channel(c, K, cnt, mean, m2, eps, momentum, flags, running_mean,
                                  running_var, gamma, beta, save_mean, save_invstd);
    coef[c] = K;
    coef[C + c] = mean;
    coef[2u * C + c] = ab.x;
    coef[3u * C + c] = ab.y;
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

/* y = f(((x - K) - d) * scale + shift) over (N, C, S) with S > 1: work-item (i, c, n) handles
 * positions 4i..4i+3 of plane (n, c). f is the activation of the build (identity by default).
 * In-place (y == x) is allowed. */
__kernel void bn_apply_planes(__global const float *x, __global float *y,
                              __global const float *restrict coef, uint C, uint S, float4 act)
{
    uint i = (uint)get_global_id(0), c = (uint)get_global_id(1), n = (uint)get_global_id(2);
    if (c >= C || i * 4u >= S)
        return;
    uint base = (n * C + c) * S;
    float4 v = clnn_load4(x + base, i, S);
    float4 r = ((v - coef[c]) - coef[C + c]) * coef[2u * C + c] + coef[3u * C + c];
    clnn_store4(bn_activation4(r, act), y + base, i, S);
}

/* The same for S = 1 (2-D input): work-item (i, n) handles features 4i..4i+3 of sample n. */
__kernel void bn_apply_cols(__global const float *x, __global float *y,
                            __global const float *restrict coef, uint C, uint N, float4 act)
{
    uint i = (uint)get_global_id(0), n = (uint)get_global_id(1);
    if (i * 4u >= C || n >= N)
        return;
    float4 v = clnn_load4(x + n * C, i, C);
    float4 r = ((v - clnn_load4(coef, i, C)) - clnn_load4(coef + C, i, C)) *
                   clnn_load4(coef + 2u * C, i, C) +
               clnn_load4(coef + 3u * C, i, C);
    clnn_store4(bn_activation4(r, act), y + n * C, i, C);
}

/* ---- batch norm, backward ------------------------------------------------------------------- */
/* With xhat = (x - mean) * invstd and M = N*S values per channel:
 *   dbeta = sum(g), dgamma = sum(g * xhat),
 *   dx = gamma * invstd * (g - sum(g)/M - xhat * sum(g * xhat)/M),
 * the last two terms being the paths through the batch mean and the batch variance, where
 * g = dy for plain batch norm and g = dy * f'(z) for the fused y = f(z), z = xhat * gamma + beta
 * (z recomputed from x and the saved statistics). The saved mean is a float, 5e-4 off at 1e4, so
 * it serves as the shift K and stage 1 also sums x - K to recover the exact mean K + d:
 * part[(p*C + c)*3 + {0,1,2}] = (sum g, sum g*(x - K), sum (x - K)), and
 * sum g*(x - mean) = sum g*(x - K) - d * sum g. The fused form needs d before stage 1 (for z):
 * the host first reduces x with the forward's statistics kernels and bn_bwd_prep writes
 * pre = [K | d | gamma * invstd | beta]. The identity build (which src/norm.c no longer asks for:
 * batch norm without an activation runs on ReLU's build) reads only K from pre. */

#if CLNN_ACTIVATION != CLNN_ACT_IDENTITY
#define BN_BWD_GRAD(g, v, c, C, pre, act)                                                          \
    ((g) * bn_activation_grad1(((v) - pre[(C) + (c)]) * pre[2u * (C) + (c)] +                   \
                                   pre[3u * (C) + (c)],                                          \
                               act))
#else
#define BN_BWD_GRAD(g, v, c, C, pre, act) (g)
#endif

/* d = mean(x) - save_mean from the forward's stage-1 triples (shift K0 = x[n=0, c, s=0]), and
 * pre = [save_mean | d | gamma * invstd | beta]. */
__kernel void bn_bwd_prep(__global const float *restrict x, __global const float *restrict part,
                          uint P, uint C, uint S, __global const float *restrict save_mean,
                          __global const float *restrict save_invstd, __global const float *gamma,
                          __global const float *beta, uint flags, __global float *restrict pre)
{
    uint c = (uint)get_global_id(0);
    if (c >= C)
        return;
    float cnt = 0.0f, mean = 0.0f, m2 = 0.0f;
    for (uint p = 0; p < P; ++p) {
        uint o = (p * C + c) * 3u;
        clnn_chan_merge(&cnt, &mean, &m2, part[o], part[o + 1u], part[o + 2u]);
    }
    float K = save_mean[c], invstd = save_invstd[c];
    pre[c] = K;
    pre[C + c] = (x[c * S] - K) + mean;
    pre[2u * C + c] = (flags & BN_GAMMA) ? gamma[c] * invstd : invstd;
    pre[3u * C + c] = (flags & BN_BETA) ? beta[c] : 0.0f;
}

__kernel void bn_bwd_reduce_serial(__global const float *restrict x,
                                   __global const float *restrict dy,
                                   __global const float *restrict pre,
                                   __global float *restrict part, uint C, uint S, uint N,
                                   uint rows, float4 act)
{
    (void)act; /* read only with an activation */
    uint c = (uint)get_global_id(0), p = (uint)get_global_id(1);
    if (c >= C)
        return;
    uint n0 = p * rows, n1 = min(N, n0 + rows);
    float K = pre[c], sdy = 0.0f, sdx = 0.0f, sx = 0.0f;
    for (uint n = n0; n < n1; ++n) {
        uint base = (n * C + c) * S;
        for (uint s = 0; s < S; ++s) {
            float d = x[base + s] - K;
            float g = BN_BWD_GRAD(dy[base + s], d, c, C, pre, act);
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

/* Column form for S = 1 on CPUs, work-item (i, p) as in bn_stats_cols16. */
__kernel void bn_bwd_reduce_cols16(__global const float *restrict x,
                                   __global const float *restrict dy,
                                   __global const float *restrict pre,
                                   __global float *restrict part, uint C, uint N, uint rows,
                                   float4 act)
{
    (void)act; /* read only with an activation */
    uint c0 = (uint)get_global_id(0) * 16u, p = (uint)get_global_id(1);
    if (c0 >= C)
        return;
    uint n0 = p * rows, n1 = min(N, n0 + rows);
    if (c0 + 16u > C) {
        for (uint c = c0; c < C; ++c) {
            float K = pre[c], sdy = 0.0f, sdx = 0.0f, sx = 0.0f;
            for (uint n = n0; n < n1; ++n) {
                float d = x[n * C + c] - K;
                float g = BN_BWD_GRAD(dy[n * C + c], d, c, C, pre, act);
                sdy += g;
                sdx += g * d;
                sx += d;
            }
            uint o = (p * C + c) * 3u;
            part[o] = sdy;
            part[o + 1u] = sdx;
            part[o + 2u] = sx;
        }
        return;
    }
    float16 K = clnn_load16(0, pre + c0);
#if CLNN_ACTIVATION != CLNN_ACT_IDENTITY
    float16 pd = clnn_load16(0, pre + C + c0), pa = clnn_load16(0, pre + 2u * C + c0),
            pb = clnn_load16(0, pre + 3u * C + c0);
#endif
    float16 v1 = (float16)(0.0f), v2 = (float16)(0.0f), v3 = (float16)(0.0f);
    for (uint n = n0; n < n1; ++n) {
        float16 d = clnn_load16(0, x + n * C + c0) - K;
        float16 g = clnn_load16(0, dy + n * C + c0);
#if CLNN_ACTIVATION != CLNN_ACT_IDENTITY
        float16 z = (d - pd) * pa + pb;
        g *= (float16)(bn_activation_grad4(z.s0123, act), bn_activation_grad4(z.s4567, act),
                       bn_activation_grad4(z.s89ab, act), bn_activation_grad4(z.scdef, act));
#endif
        v1 += g;
        v2 += g * d;
        v3 += d;
    }
    float a1[16], a2[16], a3[16];
    vstore16(v1, 0, a1);
    vstore16(v2, 0, a2);
    vstore16(v3, 0, a3);
    for (uint l = 0; l < 16u; ++l) {
        uint o = (p * C + c0 + l) * 3u;
        part[o] = a1[l];
        part[o + 1u] = a2[l];
        part[o + 2u] = a3[l];
    }
}

/* Work-group (g, c) as in bn_stats_planes. scratch: 4 * local size floats. */
__kernel void bn_bwd_reduce_planes(__global const float *restrict x,
                                   __global const float *restrict dy,
                                   __global const float *restrict pre,
                                   __global float *restrict part, uint C, uint S, uint N,
                                   uint rows, uint Ps, uint schunk, uint run, float4 act,
                                   __local float *scratch)
{
    (void)act; /* read only with an activation */
    uint g = (uint)get_group_id(0), c = (uint)get_global_id(1);
    uint lid = (uint)get_local_id(0), L = (uint)get_local_size(0);
    uint pn = g / Ps, ps = g - pn * Ps;
    uint n0 = pn * rows, n1 = min(N, n0 + rows);
    uint s0 = ps * schunk + lid * run, s1 = min(S, ps * schunk + schunk), step = L * run;
    uint CS = C * S, cs = c * S;
    float K = pre[c], sdy = 0.0f, sdx = 0.0f, sx = 0.0f;
    for (uint n = n0; n < n1; ++n) {
        __global const float *xr = x + n * CS + cs, *gr = dy + n * CS + cs;
        for (uint sb = s0; sb < s1; sb += step) {
            uint se = min(s1, sb + run), s = sb;
            float8 v1 = (float8)(0.0f), v2 = (float8)(0.0f), v3 = (float8)(0.0f);
            for (; s + 8u <= se; s += 8u) {
                float8 d = clnn_load8(0, xr + s) - K;
#if CLNN_ACTIVATION != CLNN_ACT_IDENTITY
                float8 z = (d - pre[C + c]) * pre[2u * C + c] + pre[3u * C + c];
                float8 gv = clnn_load8(0, gr + s) * (float8)(bn_activation_grad4(z.lo, act),
                                                             bn_activation_grad4(z.hi, act));
#else
                float8 gv = clnn_load8(0, gr + s);
#endif
                v1 += gv;
                v2 += gv * d;
                v3 += d;
            }
            sdy += clnn_sum8(v1);
            sdx += clnn_sum8(v2);
            sx += clnn_sum8(v3);
            for (; s < se; ++s) {
                float d = xr[s] - K;
                float gv = BN_BWD_GRAD(gr[s], d, c, C, pre, act);
                sdy += gv;
                sdx += gv * d;
                sx += d;
            }
        }
    }
    float4 acc = clnn_group_sum4((float4)(sdy, sdx, sx, 0.0f), scratch);
    if (lid == 0u) {
        uint o = (g * C + c) * 3u;
        part[o] = acc.x;
        part[o + 1u] = acc.y;
        part[o + 2u] = acc.z;
    }
}

/* Stage 2: sums the slices, writes dgamma/dbeta (blended as param_beta * old + new when
 * param_beta != 0; overwritten otherwise, so old NaN never leaks in), and the coefficients of dx:
 * coef = [K | d | gamma*invstd | sum(g)/M | invstd * sum(g*xhat)/M | beta]. */
__kernel void bn_bwd_finalize(__global const float *restrict part, uint P, uint C, float M,
                              __global const float *restrict save_mean,
                              __global const float *restrict save_invstd,
                              __global const float *gamma, __global const float *beta,
                              __global float *dgamma, __global float *dbeta, uint flags,
                              float param_beta, __global float *restrict coef)
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
    coef[5u * C + c] = (flags & BN_BETA) ? beta[c] : 0.0f;
}

/* g as above from x (v = x - K) and dy, 4 lanes. */
static inline float4 bn_bwd_grad4(float4 g, float4 v, float4 a, float4 b, float4 act)
{
#if CLNN_ACTIVATION != CLNN_ACT_IDENTITY
    return g * bn_activation_grad4(v * a + b, act);
#else
    (void)v, (void)a, (void)b, (void)act;
    return g;
#endif
}

/* dx = a * (g - k1 - ((x - K) - d) * k2) with coef = [K | d | a | k1 | k2 | beta]; dx may alias
 * dy. */
__kernel void bn_bwd_apply_planes(__global const float *x, __global const float *dy,
                                  __global float *dx, __global const float *restrict coef,
                                  uint C, uint S, float4 act)
{
    uint i = (uint)get_global_id(0), c = (uint)get_global_id(1), n = (uint)get_global_id(2);
    if (c >= C || i * 4u >= S)
        return;
    uint base = (n * C + c) * S;
    float4 xv = clnn_load4(x + base, i, S), g = clnn_load4(dy + base, i, S);
    float4 v = (xv - coef[c]) - coef[C + c];
    float a = coef[2u * C + c];
    g = bn_bwd_grad4(g, v, (float4)(a), (float4)(coef[5u * C + c]), act);
    float4 r = a * (g - coef[3u * C + c] - v * coef[4u * C + c]);
    clnn_store4(r, dx + base, i, S);
}

__kernel void bn_bwd_apply_cols(__global const float *x, __global const float *dy,
                                __global float *dx, __global const float *restrict coef, uint C,
                                uint N, float4 act)
{
    uint i = (uint)get_global_id(0), n = (uint)get_global_id(1);
    if (i * 4u >= C || n >= N)
        return;
    float4 xv = clnn_load4(x + n * C, i, C), g = clnn_load4(dy + n * C, i, C);
    float4 v = (xv - clnn_load4(coef, i, C)) - clnn_load4(coef + C, i, C);
    float4 a = clnn_load4(coef + 2u * C, i, C);
    g = bn_bwd_grad4(g, v, a, clnn_load4(coef + 5u * C, i, C), act);
    float4 r = a * (g - clnn_load4(coef + 3u * C, i, C) - v * clnn_load4(coef + 4u * C, i, C));
    clnn_store4(r, dx + n * C, i, C);
}

/* ---- batch norm on CPUs: the resident forms -------------------------------------------------- */
/* A CPU runs a work-group's items one after another on one core. When there are enough channels
 * to share among the cores, one work-item (a group of one) owns whole channels: it reduces them,
 * finishes their statistics and makes its second pass over data it has just read, which its
 * core's cache still holds; the second pass walks the samples in reverse order, so that the most
 * recently read (most surely cached) data comes first. Memory then sees x (and dy) read about
 * once, where the sliced forms above read them twice in separate launches. The host picks these
 * forms only on CPU devices, with at least a few channels per compute unit, and:
 *  - cols (S = 1): blocks of 16 consecutive features, several per work-item (a row segment of
 *    up to 2 KiB, whole cache lines in sequence), C a multiple of 16;
 *  - planes (S >= 16): one channel per work-item, float8 runs along each plane.
 * The arithmetic is that of the sliced forms: shifted sums folded by Chan's formula for the
 * statistics, the same coefficients and formulas for y and dx. */

/* f on 16 or 8 lanes, through the float4 form of kernels/activation.h. */
static inline float16 bn_act_forward16(float16 v, float4 act)
{
    return (float16)(bn_activation4(v.s0123, act), bn_activation4(v.s4567, act),
                     bn_activation4(v.s89ab, act), bn_activation4(v.scdef, act));
}

static inline float8 bn_act_forward8(float8 v, float4 act)
{
    return (float8)(bn_activation4(v.lo, act), bn_activation4(v.hi, act));
}

/* dy * f'(z) on 16 or 8 lanes (dy itself without an activation). */
static inline float16 bn_act_grad16(float16 g, float16 z, float4 act)
{
#if CLNN_ACTIVATION != CLNN_ACT_IDENTITY
    return g * (float16)(bn_activation_grad4(z.s0123, act), bn_activation_grad4(z.s4567, act),
                         bn_activation_grad4(z.s89ab, act), bn_activation_grad4(z.scdef, act));
#else
    (void)z, (void)act;
    return g;
#endif
}

static inline float8 bn_act_grad8(float8 g, float8 z, float4 act)
{
#if CLNN_ACTIVATION != CLNN_ACT_IDENTITY
    return g * (float8)(bn_activation_grad4(z.lo, act), bn_activation_grad4(z.hi, act));
#else
    (void)z, (void)act;
    return g;
#endif
}

static inline float bn_act_grad1(float g, float z, float4 act)
{
#if CLNN_ACTIVATION != CLNN_ACT_IDENTITY
    return g * bn_activation_grad1(z, act);
#else
    (void)z, (void)act;
    return g;
#endif
}

/* Values of one plane the planes forms sum before a fold (and the backward before adding its
 * float8 partial sums to the channel's totals). */
#define BN_RESIDENT_RUN 256u
/* Rows the cols forms sum before a fold (or before adding to the totals). */
#define NORM_BLOCK_ROWS 64u

/* Most blocks of 16 features a work-item of the cols forms owns (their private arrays). */
#define BN_RESIDENT_CHUNKS 32u

/* Training forward, cols form: work-item i owns `chunks` blocks of 16 features from feature
 * 16 * chunks * i (fewer in the last), over all N rows; each row of the work-item is read as
 * consecutive float16 loads. Flags and buffers as bn_finalize (absent ones replaced by a dummy
 * never read). y may alias x. */
__kernel void bn_forward_resident_cols(__global const float *x, __global float *y, uint C, uint N,
                                       uint chunks, float eps, float momentum, uint flags,
                                       __global float *running_mean, __global float *running_var,
                                       __global const float *gamma, __global const float *beta,
                                       __global float *save_mean, __global float *save_invstd,
                                       float4 act)
{
    uint c0 = (uint)get_global_id(0) * chunks * 16u;
    if (c0 >= C)
        return;
    uint nch = min(chunks, (C - c0) / 16u);
    float16 K[BN_RESIDENT_CHUNKS], mean[BN_RESIDENT_CHUNKS], m2[BN_RESIDENT_CHUNKS];
    float16 s1[BN_RESIDENT_CHUNKS], s2[BN_RESIDENT_CHUNKS];
    for (uint j = 0; j < nch; ++j) {
        K[j] = clnn_load16(j, x + c0);
        mean[j] = (float16)(0.0f);
        m2[j] = (float16)(0.0f);
    }
    float cnt = 0.0f;
    for (uint nb = 0; nb < N; nb += NORM_BLOCK_ROWS) {
        uint ne = min(N, nb + NORM_BLOCK_ROWS);
        for (uint j = 0; j < nch; ++j) {
            s1[j] = (float16)(0.0f);
            s2[j] = (float16)(0.0f);
        }
        for (uint n = nb; n < ne; ++n) {
            __global const float *row = x + n * C + c0;
            for (uint j = 0; j < nch; ++j) {
                float16 v = clnn_load16(j, row) - K[j];
                s1[j] += v;
                s2[j] += v * v;
            }
        }
        float b = (float)(ne - nb);
        for (uint j = 0; j < nch; ++j)
            bn_fold_block16(cnt, &mean[j], &m2[j], b, s1[j], s2[j]);
        cnt += b;
    }
    /* s1, s2 now hold each feature's scale and shift. */
    for (uint j = 0; j < nch; ++j) {
        float kv[16], mv[16], m2v[16], av[16], bv[16];
        vstore16(K[j], 0, kv);
        vstore16(mean[j], 0, mv);
        vstore16(m2[j], 0, m2v);
        for (uint l = 0; l < 16u; ++l) {
            float2 ab = bn_finish_channel(c0 + 16u * j + l, kv[l], cnt, mv[l], m2v[l], eps,
                                          momentum, flags, running_mean, running_var, gamma,
                                          beta, save_mean, save_invstd);
            av[l] = ab.x;
            bv[l] = ab.y;
        }
        s1[j] = vload16(0, av);
        s2[j] = vload16(0, bv);
    }
    for (uint n = N; n-- > 0u;) {
        __global const float *row = x + n * C + c0;
        __global float *out = y + n * C + c0;
        for (uint j = 0; j < nch; ++j) {
            float16 r = ((clnn_load16(j, row) - K[j]) - mean[j]) * s1[j] + s2[j];
            clnn_store16(bn_act_forward16(r, act), j, out);
        }
    }
}

/* Training forward, planes form: channel c over all N planes of S positions. */
__kernel void bn_forward_resident_planes(__global const float *x, __global float *y, uint C,
                                         uint S, uint N, float eps, float momentum, uint flags,
                                         __global float *running_mean,
                                         __global float *running_var,
                                         __global const float *gamma, __global const float *beta,
                                         __global float *save_mean, __global float *save_invstd,
                                         float4 act)
{
    uint c = (uint)get_global_id(0);
    if (c >= C)
        return;
    uint CS = C * S;
    __global const float *xc = x + c * S;
    float K = xc[0], cnt = 0.0f, mean = 0.0f, m2 = 0.0f;
    for (uint n = 0; n < N; ++n) {
        __global const float *row = xc + n * CS;
        for (uint sb = 0; sb < S; sb += BN_RESIDENT_RUN) {
            uint se = min(S, sb + BN_RESIDENT_RUN), s = sb;
            float8 v1 = (float8)(0.0f), v2 = (float8)(0.0f);
            for (; s + 8u <= se; s += 8u) {
                float8 v = clnn_load8(0, row + s) - K;
                v1 += v;
                v2 += v * v;
            }
            float a1 = clnn_sum8(v1), a2 = clnn_sum8(v2);
            for (; s < se; ++s) {
                float v = row[s] - K;
                a1 += v;
                a2 += v * v;
            }
            bn_fold_block(&cnt, &mean, &m2, (float)(se - sb), a1, a2);
        }
    }
    float2 ab = bn_finish_channel(c, K, cnt, mean, m2, eps, momentum, flags, running_mean,
                                  running_var, gamma, beta, save_mean, save_invstd);
    for (uint n = N; n-- > 0u;) {
        __global const float *row = xc + n * CS;
        __global float *out = y + c * S + n * CS;
        uint s = 0;
        for (; s + 8u <= S; s += 8u) {
            float8 r = ((clnn_load8(0, row + s) - K) - mean) * ab.x + ab.y;
            clnn_store8(bn_act_forward8(r, act), 0, out + s);
        }
        for (; s < S; ++s)
            out[s] = bn_activation1(((row[s] - K) - mean) * ab.x + ab.y, act);
    }
}

/* The end of a channel's backward, shared by the resident forms: from sdy = sum g,
 * sdk = sum g*(x - K) and the exact mean offset d, writes dgamma/dbeta (blended as in
 * bn_bwd_finalize) and returns (k1, k2) of dx = a * (g - k1 - ((x - K) - d) * k2). */
static inline float2 bn_finish_backward(uint c, float sdy, float sdk, float d, float invstd,
                                        float M, uint flags, float param_beta,
                                        __global float *dgamma, __global float *dbeta)
{
    float sdxhat = (sdk - d * sdy) * invstd;
    if (flags & BN_DBETA)
        dbeta[c] = param_beta != 0.0f ? param_beta * dbeta[c] + sdy : sdy;
    if (flags & BN_DGAMMA)
        dgamma[c] = param_beta != 0.0f ? param_beta * dgamma[c] + sdxhat : sdxhat;
    return (float2)(sdy / M, invstd * sdxhat / M);
}

/* Backward, cols form (the work-items of bn_forward_resident_cols): dx when DX_WRITE (dx may
 * alias dy), dgamma and dbeta when their flags are set. With an activation, a first pass over x
 * finds the exact mean offset d that z needs (it is in cache for the passes that follow). */
__kernel void bn_backward_resident_cols(__global const float *x, __global const float *dy,
                                        __global float *dx, __global const float *save_mean,
                                        __global const float *save_invstd,
                                        __global const float *gamma, __global const float *beta,
                                        __global float *dgamma, __global float *dbeta, uint C,
                                        uint N, uint chunks, uint flags, float param_beta,
                                        float4 act)
{
    uint c0 = (uint)get_global_id(0) * chunks * 16u;
    if (c0 >= C)
        return;
    uint nch = min(chunks, (C - c0) / 16u);
    float M = (float)N;
    /* Per block of 16 features: shift K (the saved mean), scale a = gamma * invstd, shift b,
     * mean offset d, then the sums of g, g * (x - K) and x - K, and last the coefficients k1, k2
     * of dx (in the places of the sums of g and g * (x - K)). */
    float16 K[BN_RESIDENT_CHUNKS], a[BN_RESIDENT_CHUNKS], b[BN_RESIDENT_CHUNKS];
    float16 d[BN_RESIDENT_CHUNKS], sdy[BN_RESIDENT_CHUNKS], sdk[BN_RESIDENT_CHUNKS];
    float16 sx[BN_RESIDENT_CHUNKS], v1[BN_RESIDENT_CHUNKS], v2[BN_RESIDENT_CHUNKS];
    float16 v3[BN_RESIDENT_CHUNKS];
    for (uint j = 0; j < nch; ++j) {
        uint c = c0 + 16u * j;
        K[j] = clnn_load16(0, save_mean + c);
        float16 invstd = clnn_load16(0, save_invstd + c);
        a[j] = (flags & BN_GAMMA) ? clnn_load16(0, gamma + c) * invstd : invstd;
        b[j] = (flags & BN_BETA) ? clnn_load16(0, beta + c) : (float16)(0.0f);
        d[j] = sdy[j] = sdk[j] = sx[j] = (float16)(0.0f);
    }
#if CLNN_ACTIVATION != CLNN_ACT_IDENTITY
    for (uint nb = 0; nb < N; nb += NORM_BLOCK_ROWS) {
        uint ne = min(N, nb + NORM_BLOCK_ROWS);
        for (uint j = 0; j < nch; ++j)
            v3[j] = (float16)(0.0f);
        for (uint n = nb; n < ne; ++n)
            for (uint j = 0; j < nch; ++j)
                v3[j] += clnn_load16(j, x + n * C + c0) - K[j];
        for (uint j = 0; j < nch; ++j)
            d[j] += v3[j];
    }
    for (uint j = 0; j < nch; ++j)
        d[j] /= M;
#endif
    for (uint nb = 0; nb < N; nb += NORM_BLOCK_ROWS) {
        uint ne = min(N, nb + NORM_BLOCK_ROWS);
        for (uint j = 0; j < nch; ++j)
            v1[j] = v2[j] = v3[j] = (float16)(0.0f);
        for (uint n = nb; n < ne; ++n) {
            for (uint j = 0; j < nch; ++j) {
                float16 v = clnn_load16(j, x + n * C + c0) - K[j];
                float16 g = bn_act_grad16(clnn_load16(j, dy + n * C + c0), (v - d[j]) * a[j] + b[j],
                                          act);
                v1[j] += g;
                v2[j] += g * v;
                v3[j] += v;
            }
        }
        for (uint j = 0; j < nch; ++j) {
            sdy[j] += v1[j];
            sdk[j] += v2[j];
            sx[j] += v3[j];
        }
    }
    for (uint j = 0; j < nch; ++j) {
        if (CLNN_ACTIVATION == CLNN_ACT_IDENTITY)
            d[j] = sx[j] / M;
        float yv[16], kv[16], dv[16], iv[16], k1v[16], k2v[16];
        vstore16(sdy[j], 0, yv);
        vstore16(sdk[j], 0, kv);
        vstore16(d[j], 0, dv);
        vstore16(clnn_load16(0, save_invstd + c0 + 16u * j), 0, iv);
        for (uint l = 0; l < 16u; ++l) {
            float2 k = bn_finish_backward(c0 + 16u * j + l, yv[l], kv[l], dv[l], iv[l], M, flags,
                                          param_beta, dgamma, dbeta);
            k1v[l] = k.x;
            k2v[l] = k.y;
        }
        sdy[j] = vload16(0, k1v);
        sdk[j] = vload16(0, k2v);
    }
    if (!(flags & DX_WRITE))
        return;
    for (uint n = N; n-- > 0u;) {
        for (uint j = 0; j < nch; ++j) {
            float16 v = (clnn_load16(j, x + n * C + c0) - K[j]) - d[j];
            float16 g = bn_act_grad16(clnn_load16(j, dy + n * C + c0), v * a[j] + b[j], act);
            clnn_store16(a[j] * (g - sdy[j] - v * sdk[j]), j, dx + n * C + c0);
        }
    }
}

/* Backward, planes form (channel c). */
__kernel void bn_backward_resident_planes(__global const float *x, __global const float *dy,
                                          __global float *dx, __global const float *save_mean,
                                          __global const float *save_invstd,
                                          __global const float *gamma,
                                          __global const float *beta, __global float *dgamma,
                                          __global float *dbeta, uint C, uint S, uint N,
                                          uint flags, float param_beta, float4 act)
{
    uint c = (uint)get_global_id(0);
    if (c >= C)
        return;
    uint CS = C * S;
    float M = (float)N * (float)S;
    float K = save_mean[c], invstd = save_invstd[c];
    float a = (flags & BN_GAMMA) ? gamma[c] * invstd : invstd;
    float b = (flags & BN_BETA) ? beta[c] : 0.0f;
    float d = 0.0f, sdy = 0.0f, sdk = 0.0f, sx = 0.0f;
#if CLNN_ACTIVATION != CLNN_ACT_IDENTITY
    for (uint n = 0; n < N; ++n) {
        __global const float *xr = x + c * S + n * CS;
        for (uint sb = 0; sb < S; sb += BN_RESIDENT_RUN) {
            uint se = min(S, sb + BN_RESIDENT_RUN), s = sb;
            float8 v3 = (float8)(0.0f);
            for (; s + 8u <= se; s += 8u)
                v3 += clnn_load8(0, xr + s) - K;
            float t = clnn_sum8(v3);
            for (; s < se; ++s)
                t += xr[s] - K;
            d += t;
        }
    }
    d /= M;
#endif
    for (uint n = 0; n < N; ++n) {
        __global const float *xr = x + c * S + n * CS, *gr = dy + c * S + n * CS;
        for (uint sb = 0; sb < S; sb += BN_RESIDENT_RUN) {
            uint se = min(S, sb + BN_RESIDENT_RUN), s = sb;
            float8 v1 = (float8)(0.0f), v2 = (float8)(0.0f), v3 = (float8)(0.0f);
            for (; s + 8u <= se; s += 8u) {
                float8 v = clnn_load8(0, xr + s) - K;
                float8 g = bn_act_grad8(clnn_load8(0, gr + s), (v - d) * a + b, act);
                v1 += g;
                v2 += g * v;
                v3 += v;
            }
            float t1 = clnn_sum8(v1), t2 = clnn_sum8(v2), t3 = clnn_sum8(v3);
            for (; s < se; ++s) {
                float v = xr[s] - K;
                float g = bn_act_grad1(gr[s], (v - d) * a + b, act);
                t1 += g;
                t2 += g * v;
                t3 += v;
            }
            sdy += t1;
            sdk += t2;
            sx += t3;
        }
    }
    if (CLNN_ACTIVATION == CLNN_ACT_IDENTITY)
        d = sx / M;
    float2 k = bn_finish_backward(c, sdy, sdk, d, invstd, M, flags, param_beta, dgamma, dbeta);
    if (!(flags & DX_WRITE))
        return;
    for (uint n = N; n-- > 0u;) {
        __global const float *xr = x + c * S + n * CS, *gr = dy + c * S + n * CS;
        __global float *out = dx + c * S + n * CS;
        uint s = 0;
        for (; s + 8u <= S; s += 8u) {
            float8 v = (clnn_load8(0, xr + s) - K) - d;
            float8 g = bn_act_grad8(clnn_load8(0, gr + s), v * a + b, act);
            clnn_store8(a * (g - k.x - v * k.y), 0, out + s);
        }
        for (; s < S; ++s) {
            float v = (xr[s] - K) - d;
            float g = bn_act_grad1(gr[s], v * a + b, act);
            out[s] = a * (g - k.x - v * k.y);
        }
    }
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
    /* Blocks of LN_BLOCK values per work-item: shifted sums, folded as in batch norm. */
    for (uint jb = lid; jb < D; jb += LN_BLOCK * L) {
        uint je = min(D, jb + LN_BLOCK * L);
        float s1 = 0.0f, s2 = 0.0f, b = 0.0f;
        for (uint j = jb; j < je; j += L) {
            float v = xr[j] - K;
            s1 += v;
            s2 += v * v;
            b += 1.0f;
        }
        bn_fold_block(&cnt, &d, &m2, b, s1, s2);
    }
    clnn_group_welford(&cnt, &d, &m2, scratch);
    float invstd = 1.0f / sqrt(m2 / cnt + eps);
    __global float *yr = y + r * D;
    /* Absent gamma/beta are dummy buffers of at least D floats: read, then replaced by 1/0. */
    int hg = (flags & BN_GAMMA) != 0u, hb = (flags & BN_BETA) != 0u;
    for (uint j = lid; j < D; j += L) {
        float gj = hg ? gamma[j] : 1.0f, bj = hb ? beta[j] : 0.0f;
        yr[j] = ((xr[j] - K) - d) * invstd * gj + bj;
    }
    if (lid == 0u && (flags & LN_SAVE)) {
        save_mean[r] = K + d;
        save_invstd[r] = invstd;
    }
}

/* Rows of 16 lanes per block in ln_forward_chunks (each lane sums this many values between two
 * Chan merges). */
#define LN_LANE_BLOCK 32u

/* The same on CPUs, where a group's work-items run one after another: work-item lid of the
 * row's group takes the contiguous chunk [lid*chunk, (lid+1)*chunk) and reads it with float16
 * loads into 16 independent lanes (shifted sums folded per lane every LN_LANE_BLOCK rows of the
 * lanes, all lanes sharing one count), merges the lanes and the scalar remainder with Chan's
 * formula, then the group as ln_forward; the output pass walks the same chunk. chunk is a
 * multiple of 16. scratch: 3 * local size floats. */
__kernel void ln_forward_chunks(__global const float *x, __global float *y,
                                __global const float *gamma, __global const float *beta,
                                uint flags, __global float *save_mean,
                                __global float *save_invstd, uint D, float eps, uint chunk,
                                __local float *scratch)
{
    uint r = (uint)get_group_id(0), lid = (uint)get_local_id(0);
    __global const float *xr = x + r * D;
    uint j0 = min(D, lid * chunk), j1 = min(D, j0 + chunk);
    uint jv = j0 + ((j1 - j0) & ~15u); /* end of the float16 part */
    float K = xr[0];
    float16 mean = (float16)(0.0f), m2 = (float16)(0.0f);
    float lcnt = 0.0f;
    for (uint jb = j0; jb < jv; jb += 16u * LN_LANE_BLOCK) {
        uint je = min(jv, jb + 16u * LN_LANE_BLOCK);
        float16 s1 = (float16)(0.0f), s2 = (float16)(0.0f);
        for (uint j = jb; j < je; j += 16u) {
            float16 v = clnn_load16(0, xr + j) - K;
            s1 += v;
            s2 += v * v;
        }
        float b = (float)((je - jb) / 16u);
        bn_fold_block16(lcnt, &mean, &m2, b, s1, s2);
        lcnt += b;
    }
    /* Lanes pairwise (equal counts), then the remainder. */
    float8 n8 = (float8)(lcnt), mean8 = mean.lo, m28 = m2.lo;
    {
        float8 delta = mean.hi - mean8;
        mean8 += delta * 0.5f;
        m28 += m2.hi + delta * delta * n8 * 0.5f;
        n8 *= 2.0f;
    }
    float4 mean4 = mean8.lo, m24 = m28.lo, n4 = n8.lo;
    {
        float4 delta = mean8.hi - mean4;
        mean4 += delta * 0.5f;
        m24 += m28.hi + delta * delta * n4 * 0.5f;
        n4 *= 2.0f;
    }
    float cnt = 0.0f, d = 0.0f, m2s = 0.0f;
    if (lcnt > 0.0f) {
        clnn_chan_merge(&cnt, &d, &m2s, n4.x, mean4.x, m24.x);
        clnn_chan_merge(&cnt, &d, &m2s, n4.y, mean4.y, m24.y);
        clnn_chan_merge(&cnt, &d, &m2s, n4.z, mean4.z, m24.z);
        clnn_chan_merge(&cnt, &d, &m2s, n4.w, mean4.w, m24.w);
    }
    {
        float s1 = 0.0f, s2 = 0.0f;
        for (uint j = jv; j < j1; ++j) {
            float v = xr[j] - K;
            s1 += v;
            s2 += v * v;
        }
        bn_fold_block(&cnt, &d, &m2s, (float)(j1 - jv), s1, s2);
    }
    clnn_group_welford(&cnt, &d, &m2s, scratch);
    float invstd = 1.0f / sqrt(m2s / cnt + eps);
    __global float *yr = y + r * D;
    int hg = (flags & BN_GAMMA) != 0u, hb = (flags & BN_BETA) != 0u;
    for (uint j = j0; j < jv; j += 16u) {
        float16 g = hg ? clnn_load16(0, gamma + j) : (float16)(1.0f);
        float16 b = hb ? clnn_load16(0, beta + j) : (float16)(0.0f);
        clnn_store16(((clnn_load16(0, xr + j) - K) - d) * invstd * g + b, 0, yr + j);
    }
    for (uint j = jv; j < j1; ++j) {
        float gj = hg ? gamma[j] : 1.0f, bj = hb ? beta[j] : 0.0f;
        yr[j] = ((xr[j] - K) - d) * invstd * gj + bj;
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
 * column j: part[p*D + j] = sum dy and part[(P + p)*D + j] = sum dy * xhat (P = the slices, the
 * global size along dimension 1). */
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
    uint P = (uint)get_global_size(1);
    part[p * D + j] = sdy;
    part[(P + p) * D + j] = sdx;
}

/* Stage 2: dbeta = sum dy, dgamma = sum dy * xhat over the P slices (or rows partitions of
 * ln_backward_rows) (blended with param_beta as
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
        sdy += part[p * D + j];
        sdx += part[(P + p) * D + j];
    }
    if (flags & BN_DBETA)
        dbeta[j] = param_beta != 0.0f ? param_beta * dbeta[j] + sdy : sdy;
    if (flags & BN_DGAMMA)
        dgamma[j] = param_beta != 0.0f ? param_beta * dgamma[j] + sdx : sdx;
}

/* The whole backward on CPUs, in one pass over memory: work-item w (a group of one) owns rows
 * [w*rows, (w+1)*rows) and, per row, sums g = dy * gamma, g * (x - K) and x - K with float16
 * loads (a row of up to a few dozen KiB stays in cache), then re-reads the row to write dx (as
 * ln_backward_dx, which dx may alias: each dy is read before its dx is written) and to add dy and
 * dy * xhat to its own partial column sums part[w*D + j] and part[(W + w)*D + j] (W = work-items;
 * cache-resident, written before they are read), which ln_param_finalize adds up. */
__kernel void ln_backward_rows(__global const float *x, __global const float *dy,
                               __global const float *gamma, uint flags,
                               __global const float *restrict save_mean,
                               __global const float *restrict save_invstd, __global float *dx,
                               __global float *restrict part, uint R, uint D, uint rows)
{
    uint w = (uint)get_global_id(0), W = (uint)get_global_size(0);
    uint r0 = w * rows, r1 = min(R, r0 + rows);
    uint Dv = D & ~15u; /* end of the float16 part of a row */
    int hg = (flags & BN_GAMMA) != 0u, params = (flags & (BN_DGAMMA | BN_DBETA)) != 0u;
    __global float *pdy = part + w * D, *pdx = part + (W + w) * D;
    if (params)
        for (uint j = 0; j < D; ++j)
            pdy[j] = pdx[j] = 0.0f;
    for (uint r = r0; r < r1; ++r) {
        __global const float *xr = x + r * D, *gr = dy + r * D;
        float K = save_mean[r], invstd = save_invstd[r];
        float16 a1 = (float16)(0.0f), a2 = (float16)(0.0f), a3 = (float16)(0.0f);
        for (uint j = 0; j < Dv; j += 16u) {
            float16 g = clnn_load16(0, gr + j), v = clnn_load16(0, xr + j) - K;
            g = hg ? g * clnn_load16(0, gamma + j) : g;
            a1 += g;
            a2 += g * v;
            a3 += v;
        }
        float sg = clnn_sum16(a1), sgv = clnn_sum16(a2), sv = clnn_sum16(a3);
        for (uint j = Dv; j < D; ++j) {
            float g = hg ? gr[j] * gamma[j] : gr[j], v = xr[j] - K;
            sg += g;
            sgv += g * v;
            sv += v;
        }
        float d = sv / (float)D;
        float k1 = sg / (float)D, k2 = (sgv - d * sg) * invstd / (float)D;
        __global float *dr = dx + r * D;
        for (uint j = 0; j < Dv; j += 16u) {
            float16 gy = clnn_load16(0, gr + j), xhat = ((clnn_load16(0, xr + j) - K) - d) * invstd;
            if (params) {
                clnn_store16(clnn_load16(0, pdy + j) + gy, 0, pdy + j);
                clnn_store16(clnn_load16(0, pdx + j) + gy * xhat, 0, pdx + j);
            }
            if (flags & DX_WRITE) {
                float16 g = hg ? gy * clnn_load16(0, gamma + j) : gy;
                clnn_store16(invstd * (g - k1 - xhat * k2), 0, dr + j);
            }
        }
        for (uint j = Dv; j < D; ++j) {
            float gy = gr[j], xhat = ((xr[j] - K) - d) * invstd;
            if (params) {
                pdy[j] += gy;
                pdx[j] += gy * xhat;
            }
            if (flags & DX_WRITE)
                dr[j] = invstd * ((hg ? gy * gamma[j] : gy) - k1 - xhat * k2);
        }
    }
}
