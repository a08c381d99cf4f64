/*
 * 2-D pooling on NCHW tensors (src/pool.c): max and average pooling and global average pooling.
 * The general kernels give a work-item a run of one row: the GPU forms one output (forward) or
 * one column tile of an input row (backward, below), the CPU forms the whole row. 2x2 max
 * pooling with stride 2 and no padding has its own CPU-form kernels (pool_max2_*).
 *
 * The backward passes are gathers, not scatters: input element (h, w) visits
 * the outputs whose windows can cover it, oh in [ceil((h + ph - kh + 1) / sh), (h + ph) / sh]
 * (and likewise ow), clipped to the output, and sums what each routes to it in a fixed order.
 * So overlapping windows (stride < kernel) need no atomics and the result is deterministic.
 *
 * Geometry arrives as uint arguments. The host guarantees H + 2 ph <= 2^31 - 1 (so window bounds
 * fit in int), padding <= kernel / 2 (every window covers at least one input element) and a
 * stride no larger than H + 2 ph (a larger one selects the same windows).
 */
#include "common.h"

/* Work-items are placed by quotients and products, never %: where LLVM pairs a division with its
 * remainder it freezes the dividend, an instruction that Oclgrind 21.10's uninitialised-value
 * checker cannot run ("Unsupported instruction: freeze"). */

/* The window of output (oh, ow) clipped to the input: rows [*h0, *h1), columns [*w0, *w1). */
static inline void pool_window(uint oh, uint ow, uint H, uint W, uint kh, uint kw, uint sh,
                               uint sw, uint ph, uint pw, int *h0, int *h1, int *w0, int *w1)
{
    int hs = (int)(oh * sh) - (int)ph, ws = (int)(ow * sw) - (int)pw;
    *h1 = min(hs + (int)kh, (int)H);
    *w1 = min(ws + (int)kw, (int)W);
    *h0 = max(hs, 0);
    *w0 = max(ws, 0);
}

/* What average pooling divides the sum of output (oh, ow) by (PyTorch's avg_pool2d): the window
 * clipped to the padded input when count_include_pad, else the input elements it covers. */
static inline float pool_divisor(uint oh, uint ow, uint H, uint W, uint kh, uint kw, uint sh,
                                 uint sw, uint ph, uint pw, uint count_include_pad)
{
    int hs = (int)(oh * sh) - (int)ph, ws = (int)(ow * sw) - (int)pw;
    if (count_include_pad) {
        int he = min(hs + (int)kh, (int)(H + ph)), we = min(ws + (int)kw, (int)(W + pw));
        return (float)((he - hs) * (we - ws));
    }
    int h0, h1, w0, w1;
    pool_window(oh, ow, H, W, kh, kw, sh, sw, ph, pw, &h0, &h1, &w0, &w1);
    return (float)((h1 - h0) * (w1 - w0));
}

/* The outputs along one axis whose windows cover input position i: [*o0, *o1) (maybe empty). */
static inline void pool_cover(uint i, uint k, uint s, uint p, uint O, uint *o0, uint *o1)
{
    uint ip = i + p;
    *o0 = ip < k ? 0u : (ip - k) / s + 1u;
    *o1 = min(ip / s + 1u, O);
}

/* The forward passes take a run of `run` outputs of one output row r = (plane, oh) per
 * work-item (runs = ceil(OW / run) per row): a whole row on CPU forms, so the divisions that
 * place a work-item happen once per row, and one output on GPU forms. */
static inline void pool_out_start(uint i, uint runs, uint run, uint OH, uint OW, uint *r,
                                  uint *plane, uint *oh, uint *ow0, uint *ow1)
{
    *r = i / runs;
    *ow0 = (i - *r * runs) * run;
    *ow1 = min(*ow0 + run, OW);
    *plane = *r / OH;
    *oh = *r - *plane * OH;
}

/* y = the window's maximum; indices = h * W + w of it within the plane (when write_indices).
 * PyTorch's scan: strict > keeps the first of equal values, and a NaN always replaces the
 * maximum (so the last NaN of a window gives the index). Padding is never selected: the scan
 * covers the input elements only, starting from -inf at the window's first element. */
__kernel void pool_max_forward(__global const float *restrict x, __global float *restrict y,
                               __global int *indices, uint write_indices, uint items, uint runs,
                               uint run, uint H, uint W, uint OH, uint OW, uint kh, uint kw,
                               uint sh, uint sw, uint ph, uint pw)
{
    uint i = (uint)get_global_id(0);
    if (i >= items)
        return;
    uint r, plane, oh, ow0, ow1;
    pool_out_start(i, runs, run, OH, OW, &r, &plane, &oh, &ow0, &ow1);
    __global const float *xp = x + plane * H * W;
    for (uint ow = ow0; ow < ow1; ++ow) {
        int h0, h1, w0, w1;
        pool_window(oh, ow, H, W, kh, kw, sh, sw, ph, pw, &h0, &h1, &w0, &w1);
        float best = -INFINITY;
        int at = h0 * (int)W + w0;
        for (int h = h0; h < h1; ++h) {
            for (int w = w0; w < w1; ++w) {
                int e = h * (int)W + w;
                float v = xp[e];
                if (v > best || isnan(v)) {
                    best = v;
                    at = e;
                }
            }
        }
        uint o = r * OW + ow;
        y[o] = best;
        if (write_indices)
            indices[o] = at;
    }
}

/* The backward passes split each input row into column tiles: tile t holds the sw input columns
 * w = t sw - pw + dw, dw in [0, sw), where a window of stride sw starts anew. Along a row, output
 * t is the last window that can cover column dw of tile t, and the first is
 * t + 1 - ceil((kw - dw) / sw) (none when dw >= kw), which depends on dw alone. Tiles =
 * (W - 1 + pw) / sw + 1 cover every column. A work-item takes a run of `run` tiles of one row
 * (runs = ceil(tiles / run) per row): the CPU forms give it the whole row, so the integer
 * divisions that place it in the tensor happen once per row, not once per element (they were
 * the cost of a work-item per element); the GPU forms give it one tile, so neighbouring
 * work-items touch neighbouring columns.
 *
 * pool_row_start places work-item i: its row r (plane, h), its first tile, and the row's
 * covering output rows [*oh0, *oh1). pool_tile_outputs gives the covering output columns
 * [*ow0, *ow1) of column dw of tile t. */
static inline void pool_row_start(uint i, uint runs, uint run, uint H, uint kh, uint sh, uint ph,
                                  uint OH, uint *r, uint *t0, uint *plane, uint *h, uint *oh0,
                                  uint *oh1)
{
    *r = i / runs;
    *t0 = (i - *r * runs) * run;
    *plane = *r / H;
    *h = *r - *plane * H;
    pool_cover(*h, kh, sh, ph, OH, oh0, oh1);
}

static inline void pool_tile_outputs(uint t, uint dw, uint kw, uint sw, uint OW, uint *ow0,
                                     uint *ow1)
{
    uint back = 0; /* ceil((kw - dw) / sw) without a division: about kw / sw steps */
    for (uint c = dw; c < kw; c += sw)
        ++back;
    /* As int: the unsigned form of this clamp compiles to llvm.usub.sat, which Oclgrind 21.10
     * cannot run. */
    *ow0 = (uint)max((int)t + 1 - (int)back, 0);
    *ow1 = min(t + 1u, OW);
}

/* dx[at] = beta dx[at] + g; beta == 0 writes g without reading dx. */
static inline void pool_put(__global float *dx, uint at, float g, float beta)
{
    dx[at] = beta == 0.0f ? g : beta * dx[at] + g;
}

/* The backward walk of work-item i shared by both kinds (is_max is a constant at each call, so
 * each kernel compiles to its own loop): over its run of column tiles, each input element in the
 * row sums what the covering outputs route to it in a fixed order: max pooling dy where the
 * recorded index is the element (an index no covering output records, or one out of range,
 * routes nothing), average pooling dy / divisor. Then dx = beta * dx + that sum; beta == 0
 * writes without reading dx. */
static inline void pool_backward_run(int is_max, __global const float *restrict dy,
                                     __global const int *restrict indices,
                                     __global float *restrict dx, float beta,
                                     uint count_include_pad, uint i, uint runs, uint run,
                                     uint tiles, uint H, uint W, uint OH, uint OW, uint kh,
                                     uint kw, uint sh, uint sw, uint ph, uint pw)
{
    uint r, t0, plane, h, oh0, oh1;
    pool_row_start(i, runs, run, H, kh, sh, ph, OH, &r, &t0, &plane, &h, &oh0, &oh1);
    uint base = plane * OH * OW, t1 = min(t0 + run, tiles);
    for (uint t = t0; t < t1; ++t) {
        int wstart = (int)(t * sw) - (int)pw;
        for (uint dw = 0; dw < sw; ++dw) {
            int w = wstart + (int)dw;
            if (w < 0 || w >= (int)W)
                continue;
            uint ow0, ow1;
            pool_tile_outputs(t, dw, kw, sw, OW, &ow0, &ow1);
            int self = (int)(h * W) + w;
            float g = 0.0f;
            for (uint oh = oh0; oh < oh1; ++oh) {
                for (uint ow = ow0; ow < ow1; ++ow) {
                    uint o = base + oh * OW + ow;
                    if (!is_max)
                        g += dy[o] / pool_divisor(oh, ow, H, W, kh, kw, sh, sw, ph, pw,
                                                  count_include_pad);
                    else if (indices[o] == self)
                        g += dy[o];
                }
            }
            pool_put(dx, r * W + (uint)w, g, beta);
        }
    }
}

/* Max pooling's backward: dy to the recorded maxima (pool_backward_run). */
__kernel void pool_max_backward(__global const float *restrict dy,
                                __global const int *restrict indices, __global float *restrict dx,
                                float beta, uint items, uint runs, uint run, uint tiles, uint H,
                                uint W, uint OH, uint OW, uint kh, uint kw, uint sh, uint sw,
                                uint ph, uint pw)
{
    uint i = (uint)get_global_id(0);
    if (i < items)
        pool_backward_run(1, dy, indices, dx, beta, 0u, i, runs, run, tiles, H, W, OH, OW, kh, kw,
                          sh, sw, ph, pw);
}

/* y = the sum of the window's input elements, in scan order, over pool_divisor; runs of
 * outputs as pool_max_forward. */
__kernel void pool_avg_forward(__global const float *restrict x, __global float *restrict y,
                               uint count_include_pad, uint items, uint runs, uint run, uint H,
                               uint W, uint OH, uint OW, uint kh, uint kw, uint sh, uint sw,
                               uint ph, uint pw)
{
    uint i = (uint)get_global_id(0);
    if (i >= items)
        return;
    uint r, plane, oh, ow0, ow1;
    pool_out_start(i, runs, run, OH, OW, &r, &plane, &oh, &ow0, &ow1);
    __global const float *xp = x + plane * H * W;
    for (uint ow = ow0; ow < ow1; ++ow) {
        int h0, h1, w0, w1;
        pool_window(oh, ow, H, W, kh, kw, sh, sw, ph, pw, &h0, &h1, &w0, &w1);
        float sum = 0.0f;
        for (int h = h0; h < h1; ++h)
            for (int w = w0; w < w1; ++w)
                sum += xp[h * (int)W + w];
        y[r * OW + ow] =
            sum / pool_divisor(oh, ow, H, W, kh, kw, sh, sw, ph, pw, count_include_pad);
    }
}

/* Average pooling's backward: dy / divisor to every covered element (pool_backward_run). */
__kernel void pool_avg_backward(__global const float *restrict dy, __global float *restrict dx,
                                float beta, uint count_include_pad, uint items, uint runs,
                                uint run, uint tiles, uint H, uint W, uint OH, uint OW, uint kh,
                                uint kw, uint sh, uint sw, uint ph, uint pw)
{
    uint i = (uint)get_global_id(0);
    if (i < items)
        pool_backward_run(0, dy, NULL, dx, beta, count_include_pad, i, runs, run, tiles, H, W,
                          OH, OW, kh, kw, sh, sw, ph, pw);
}

/* 2x2 max pooling with stride 2 and no padding (the usual CNN pooling) on CPU devices: a
 * work-item per output row r = (plane, oh), i.e. input rows 2 oh and 2 oh + 1. The scan order and
 * NaN rule are pool_max_forward's (best starts at the window's first element; a later one
 * replaces it when greater or NaN), written as vector selects on four outputs at a time: compared
 * branch by branch, a row of real activations (ties, ReLU's zeros, values in any order) cost a
 * misprediction every few outputs, 1.3-1.9 ms per call on the default CNN's layers against 0.5
 * for the same bytes when the branches were all predicted. */

/* Outputs [ow, ow + 4) of the row whose input rows start at x0 and x1 (x1 = x0 + W); `top` is
 * x0's index in its plane. */
static inline void pool_max2_quad(__global const float *x0, __global const float *x1, uint ow,
                                  int top, int W, __global float *yr, __global int *ir,
                                  uint write_indices)
{
    float8 r0 = vload8(0, x0 + 2u * ow), r1 = vload8(0, x1 + 2u * ow);
    float4 b = r0.odd, c = r1.even, d = r1.odd;
    int4 at = (int4)(top + (int)(2u * ow)) + (int4)(0, 2, 4, 6);
    float4 best = r0.even;
    int4 pick = at;
    int4 take = isgreater(b, best) | isnan(b);
    best = select(best, b, take);
    pick = select(pick, at + 1, take);
    take = isgreater(c, best) | isnan(c);
    best = select(best, c, take);
    pick = select(pick, at + W, take);
    take = isgreater(d, best) | isnan(d);
    best = select(best, d, take);
    pick = select(pick, at + W + 1, take);
    vstore4(best, 0, yr + ow);
    if (write_indices)
        vstore4(pick, 0, ir + ow);
}

__kernel void pool_max2_forward(__global const float *restrict x, __global float *restrict y,
                                __global int *indices, uint write_indices, uint rows, uint H,
                                uint W, uint OH, uint OW)
{
    uint r = (uint)get_global_id(0);
    if (r >= rows)
        return;
    uint plane = r / OH, oh = r - plane * OH;
    __global const float *x0 = x + plane * H * W + 2u * oh * W, *x1 = x0 + W;
    __global float *yr = y + r * OW;
    __global int *ir = indices + r * OW;
    int top = (int)(2u * oh * W);
    if (OW >= 4u) {
        /* Groups of four; the last one ends at the row's end (it may overlap the one before,
         * writing the same values again). */
        for (uint ow = 0; ow < OW; ow += 4u)
            pool_max2_quad(x0, x1, min(ow, OW - 4u), top, (int)W, yr, ir, write_indices);
        return;
    }
    for (uint ow = 0; ow < OW; ++ow) {
        float a = x0[2u * ow], b = x0[2u * ow + 1u], c = x1[2u * ow], d = x1[2u * ow + 1u];
        int at = top + (int)(2u * ow);
        float best = a;
        int pick = at;
        if (b > best || isnan(b))
            best = b, pick = at + 1;
        if (c > best || isnan(c))
            best = c, pick = at + (int)W;
        if (d > best || isnan(d))
            best = d, pick = at + (int)W + 1;
        yr[ow] = best;
        if (write_indices)
            ir[ow] = pick;
    }
}

/* Its backward, a work-item per output row: each output's gradient goes to the one element of
 * its window that the index names, the window's other three get 0 (so dx = beta dx + the routed
 * gradient, as pool_max_backward), four outputs at a time as vector selects and two 8-float
 * stores (the rest of the row one by one). Input rows and columns no window covers (the last of
 * an odd size) get beta dx alone: the columns by the row's work-item, an odd last row by the
 * work-item of the plane's last output row. */
static inline void pool_max2_backward_quad(__global const float *dyr, __global const int *ir,
                                           __global float *d0, __global float *d1, uint ow,
                                           int top, int W, float beta)
{
    float4 g = vload4(0, dyr + ow), z = (float4)(0.0f);
    int4 pick = vload4(0, ir + ow);
    int4 at = (int4)(top + (int)(2u * ow)) + (int4)(0, 2, 4, 6);
    float4 a = select(z, g, pick == at), b = select(z, g, pick == at + 1);
    float4 c = select(z, g, pick == at + W), d = select(z, g, pick == at + W + 1);
    float8 r0 = (float8)(a.s0, b.s0, a.s1, b.s1, a.s2, b.s2, a.s3, b.s3);
    float8 r1 = (float8)(c.s0, d.s0, c.s1, d.s1, c.s2, d.s2, c.s3, d.s3);
    if (beta != 0.0f) {
        r0 = beta * vload8(0, d0 + 2u * ow) + r0;
        r1 = beta * vload8(0, d1 + 2u * ow) + r1;
    }
    vstore8(r0, 0, d0 + 2u * ow);
    vstore8(r1, 0, d1 + 2u * ow);
}

__kernel void pool_max2_backward(__global const float *restrict dy,
                                 __global const int *restrict indices, __global float *restrict dx,
                                 float beta, uint rows, uint H, uint W, uint OH, uint OW)
{
    uint r = (uint)get_global_id(0);
    if (r >= rows)
        return;
    uint plane = r / OH, oh = r - plane * OH;
    uint top = 2u * oh * W, base = plane * H * W;
    __global const float *dyr = dy + r * OW;
    __global const int *ir = indices + r * OW;
    __global float *d0 = dx + base + top, *d1 = d0 + W;
    uint ow = 0;
    for (; ow + 4u <= OW; ow += 4u)
        pool_max2_backward_quad(dyr, ir, d0, d1, ow, (int)top, (int)W, beta);
    for (; ow < OW; ++ow) {
        uint at = top + 2u * ow;
        int pick = ir[ow];
        float g = dyr[ow];
        pool_put(d0, 2u * ow, pick == (int)at ? g : 0.0f, beta);
        pool_put(d0, 2u * ow + 1u, pick == (int)(at + 1u) ? g : 0.0f, beta);
        pool_put(d1, 2u * ow, pick == (int)(at + W) ? g : 0.0f, beta);
        pool_put(d1, 2u * ow + 1u, pick == (int)(at + W + 1u) ? g : 0.0f, beta);
    }
    for (uint w = 2u * OW; w < W; ++w) {
        pool_put(d0, w, 0.0f, beta);
        pool_put(d1, w, 0.0f, beta);
    }
    if (oh == OH - 1u && 2u * OH < H) {
        __global float *last = dx + base + 2u * OH * W;
        for (uint w = 0; w < W; ++w)
            pool_put(last, w, 0.0f, beta);
    }
}

/* Global average pooling, one work-group per plane of HW values: each work-item sums a strided
 * share, then a tree over the group's partials (any local size). */
__kernel void gap_forward_group(__global const float *restrict x, __global float *restrict y,
                                uint HW, __local float *scratch)
{
    uint plane = (uint)get_group_id(0), lid = (uint)get_local_id(0);
    uint L = (uint)get_local_size(0);
    __global const float *xp = x + plane * HW;
    float s = 0.0f;
    for (uint i = lid; i < HW; i += L)
        s += xp[i];
    scratch[lid] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint n = L; n > 1u;) {
        uint half_n = (n + 1u) / 2u;
        if (lid + half_n < n)
            scratch[lid] += scratch[lid + half_n];
        barrier(CLK_LOCAL_MEM_FENCE);
        n = half_n;
    }
    if (lid == 0u)
        y[plane] = scratch[0] / (float)HW;
}

/* The CPU form: one work-item (a group of one) sums a whole plane, in order. */
__kernel void gap_forward_plane(__global const float *restrict x, __global float *restrict y,
                                uint planes, uint HW)
{
    uint plane = (uint)get_global_id(0);
    if (plane >= planes)
        return;
    __global const float *xp = x + plane * HW;
    float s = 0.0f;
    for (uint i = 0; i < HW; ++i)
        s += xp[i];
    y[plane] = s / (float)HW;
}

/* dx = beta * dx + dy[plane] / HW. */
__kernel void gap_backward(__global const float *restrict dy, __global float *restrict dx,
                           float beta, uint total, uint HW)
{
    uint i = (uint)get_global_id(0);
    if (i >= total)
        return;
    float g = dy[i / HW] / (float)HW;
    if (beta == 0.0f)
        dx[i] = g;
    else
        dx[i] = beta * dx[i] + g;
}
