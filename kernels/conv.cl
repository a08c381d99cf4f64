/*
 * 2-D convolution kernels (src/conv.c chooses among them), NCHW throughout: im2col (and its
 * transposed form for the weight gradient) and its inverse col2im, written as a gather, around
 * the GEMMs; the moves between a chunk's NCHW planes and the products' [K, chunk OH OW] layout
 * (the forward's with the bias and activation fused); the 1x1 algorithm's epilogue (bias +
 * activation over y); the direct kernels of convolutions whose groups hold one input channel each
 * (depthwise); on CPU devices, the implicit products of stride-1 convolutions over a zero-padded
 * grid of the input (no columns) and a first layer's kernels over it; and the bias gradient. The
 * kernels that apply an activation come from the program built with -DCLNN_ACTIVATION=<kind>
 * (the functions of kernels/activation.h); the host takes the others from the build without it. Every kernel but the two reductions checks its index; the
 * reductions have one work-group per output element. Nothing is accumulated with atomics, so
 * results do not depend on scheduling.
 */
#include "activation.h"
#include "reduce.h"

/* The geometry, packed by the host into one uint16 argument (conv_geometry_arg in src/conv.c
 * fills the lanes in this order). */
typedef struct conv_geom {
    uint C, H, W, O, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw, Og;
} conv_geom;

static inline conv_geom conv_unpack(uint16 v)
{
    conv_geom g = {v.s0, v.s1, v.s2, v.s3, v.s4, v.s5, v.s6, v.s7,
                   v.s8, v.s9, v.sa, v.sb, v.sc, v.sd, v.se};
    return g;
}

/* The input coordinate that kernel tap k of output coordinate o reads, o * s + k * d - pad, in
 * *i; 0 when it falls in the padding (unsigned arithmetic: no coordinate reaches 2^31). */
static inline int conv_tap(uint o, uint k, uint s, uint d, uint pad, uint size, uint *i)
{
    uint u = o * s + k * d;
    *i = u - pad;
    return u >= pad && u - pad < size;
}

/* The first and end output coordinates whose tap at offset u = k d reads inside the input along
 * one axis: o s + u - pad in [0, size) for o in [*lo, *hi) (empty: *lo == *hi). */
static inline void conv_inside(uint u, uint s, uint pad, uint size, uint out, uint *lo, uint *hi)
{
    *lo = u >= pad ? 0u : (pad - u + s - 1u) / s;
    *hi = u >= size + pad ? 0u : min(out, (size + pad - u + s - 1u) / s);
    *lo = min(*lo, *hi);
}

/* col[r][j] = x[n0 + n][c][oy sh + kh dh - ph][ox sw + kw dw - pw] (0 in the padding) for the
 * `count` images from n0, row r = (c KH + kh) KW + kw, column j = n OH OW + oy OW + ox: the
 * columns of every group at once (group g's rows are g C/groups KH KW onwards). A work-item
 * writes `run` output rows of one (r, n) plane (conv_plan_make chooses: the whole plane on CPU
 * devices, so the divisions that place a work-item are paid once per plane and the copy loops are
 * long; one row elsewhere); the columns that read inside the input are found once. */
__kernel void clnn_conv_im2col(__global const float *x, __global float *col, uint16 geometry,
                               uint n0, uint count, uint run)
{
    conv_geom g = conv_unpack(geometry);
    uint P = g.OH * g.OW, cols = count * P, rows = g.C * g.KH * g.KW;
    uint blocks = (g.OH + run - 1u) / run;
    uint i = (uint)get_global_id(0);
    if (i >= rows * count * blocks)
        return;
    uint t = i / blocks, oy0 = (i - t * blocks) * run, oy1 = min(oy0 + run, g.OH);
    uint r = t / count, n = t - r * count;
    uint rk = r / g.KW, kw = r - rk * g.KW, c = rk / g.KH, kh = rk - c * g.KH;
    uint lo, hi;
    conv_inside(kw * g.dw, g.sw, g.pw, g.W, g.OW, &lo, &hi);
    __global const float *plane = x + ((n0 + n) * g.C + c) * g.H * g.W;
    __global float *dst = col + r * cols + n * P + oy0 * g.OW;
    for (uint oy = oy0; oy < oy1; ++oy, dst += g.OW) {
        uint iy;
        if (!conv_tap(oy, kh, g.sh, g.dh, g.ph, g.H, &iy)) {
            for (uint ox = 0; ox < g.OW; ++ox)
                dst[ox] = 0.0f;
            continue;
        }
        /* Column ox in [lo, hi) reads plane[at0 + ox sw]; at0 itself may lie before the row
         * (wrapped: the sum is taken in uint, so it comes back). */
        uint at0 = iy * g.W + kw * g.dw - g.pw;
        for (uint ox = 0; ox < lo; ++ox)
            dst[ox] = 0.0f;
        if (g.sw == 1u)
            for (uint ox = lo; ox < hi; ++ox)
                dst[ox] = plane[at0 + ox];
        else
            for (uint ox = lo; ox < hi; ++ox)
                dst[ox] = plane[at0 + ox * g.sw];
        for (uint ox = hi; ox < g.OW; ++ox)
            dst[ox] = 0.0f;
    }
}

/* The columns transposed, colT[j][r] = col[r][j] (rows of C KH KW floats, one per output pixel
 * of the chunk): the operand the weight gradient's products take untransposed,
 * dW_g = dY_g colT_g. One work-item per output pixel j, writing its row; the taps inside the
 * input, kh in [kh0, kh1) and kw in [kw0, kw1), are found once for all channels. */
__kernel void clnn_conv_im2col_t(__global const float *x, __global float *colt, uint16 geometry,
                                 uint n0, uint count)
{
    conv_geom g = conv_unpack(geometry);
    uint P = g.OH * g.OW;
    uint j = (uint)get_global_id(0);
    if (j >= count * P)
        return;
    uint n = j / P, p = j - n * P, oy = p / g.OW, ox = p - oy * g.OW;
    /* Tap k reads inside iff pad <= o s + k d < size + pad. */
    uint uy = oy * g.sh, ux = ox * g.sw, kh0, kh1, kw0, kw1;
    conv_inside(uy, g.dh, g.ph, g.H, g.KH, &kh0, &kh1);
    conv_inside(ux, g.dw, g.pw, g.W, g.KW, &kw0, &kw1);
    __global float *dst = colt + j * (g.C * g.KH * g.KW);
    /* The first tap inside, (kh0, kw0), of channel 0 (none: nothing is read); the others step
     * by dh rows and dw. */
    __global const float *src = x + (n0 + n) * g.C * g.H * g.W;
    if (kh0 < kh1 && kw0 < kw1)
        src += (uy + kh0 * g.dh - g.ph) * g.W + ux + kw0 * g.dw - g.pw;
    for (uint c = 0; c < g.C; ++c, src += g.H * g.W) {
        for (uint kh = 0; kh < g.KH; ++kh) {
            if (kh < kh0 || kh >= kh1) {
                for (uint kw = 0; kw < g.KW; ++kw)
                    *dst++ = 0.0f;
                continue;
            }
            __global const float *s = src + (kh - kh0) * g.dh * g.W;
            for (uint kw = 0; kw < kw0; ++kw)
                *dst++ = 0.0f;
            for (uint kw = kw0; kw < kw1; ++kw)
                *dst++ = s[(kw - kw0) * g.dw];
            for (uint kw = kw1; kw < g.KW; ++kw)
                *dst++ = 0.0f;
        }
    }
}

/* dYT [count P, O] at ws + off, row j the chunk's pixel (n, p) with its O channels: the B operand
 * of the weight gradient's transposed product on CPU devices (src/conv_run.c), dW_g^T = col_g
 * dYT_g, which takes the forward's im2col layout instead of the transposed columns (O floats a
 * row to move here against C KH KW there). A work-item per row, reading its values a plane
 * apart. */
__kernel void clnn_conv_gather_t(__global const float *dy, __global float *ws, uint off, uint O,
                                 uint P, uint n0, uint count)
{
    uint j = (uint)get_global_id(0);
    if (j >= count * P)
        return;
    uint n = j / P, p = j - n * P;
    __global const float *src = dy + (n0 + n) * O * P + p;
    __global float *dst = ws + off + j * O;
    for (uint o = 0; o < O; ++o)
        dst[o] = src[o * P];
}

/* The weight gradient of a convolution with few weights per output channel, R = C/G KH KW <=
 * CONV_FEW_ROWS (a first layer on 1 or 3 channels: 9 or 27), on CPU devices: as a product,
 * dW_g [Og, R] = dY_g [Og, J] colT_g [J, R] has an M and N of a few blocks and a K of J =
 * count OH OW (25088 pixels a batch of 128 28x28 images), which left clnn_gemm_small_nn at about
 * 7 GFLOP/s even split along K, behind a gather of dy and a transposed im2col. Here dy's planes
 * and clnn_conv_im2col's columns [C KH KW, count P] are read where they lie: work-item
 * part * blocks + b takes output channels o0 .. o0 + 3 of one group (block b) over the chunk's
 * images in its part (parts contiguous ranges), and for each image and column row r sums
 * dy[o] * col[r] along the plane on float16 lanes, four channels at a time. It writes
 * partial[part][o][r]; the host adds the parts into dW in order (clnn_gemm_sum_slices), so the
 * result is deterministic. */
#define CONV_FEW_ROWS 32u
__kernel void clnn_conv_backward_weight_few(__global const float *dy, __global const float *col,
                                            __global float *partial, uint partial_off,
                                            uint16 geometry, uint n0, uint count, uint parts)
{
    conv_geom g = conv_unpack(geometry);
    uint G = g.O / g.Og, R = g.C / G * g.KH * g.KW, P = g.OH * g.OW, J = count * P;
    uint blocks = (g.Og + 3u) / 4u, id = (uint)get_global_id(0);
    uint part = id / (G * blocks), item = id - part * (G * blocks);
    if (part >= parts)
        return;
    uint k = item / blocks, o0 = k * g.Og + (item - k * blocks) * 4u;
    uint here = min(4u, (k + 1u) * g.Og - o0); /* channels in this block */
    uint per = (count + parts - 1u) / parts, na = min(count, part * per);
    uint nb = min(count, na + per);
    float s0[CONV_FEW_ROWS], s1[CONV_FEW_ROWS], s2[CONV_FEW_ROWS], s3[CONV_FEW_ROWS];
    for (uint r = 0; r < R; ++r)
        s0[r] = s1[r] = s2[r] = s3[r] = 0.0f;
    for (uint n = na; n < nb; ++n) {
        /* The block's planes of dy (a block of fewer than four repeats its last channel). */
        __global const float *d0 = dy + ((n0 + n) * g.O + o0) * P;
        __global const float *d1 = d0 + min(1u, here - 1u) * P, *d2 = d0 + min(2u, here - 1u) * P,
                             *d3 = d0 + min(3u, here - 1u) * P;
        for (uint r = 0; r < R; ++r) {
            __global const float *cr = col + (k * R + r) * J + n * P;
            float16 a0 = (float16)(0.0f), a1 = (float16)(0.0f), a2 = (float16)(0.0f),
                    a3 = (float16)(0.0f);
            uint p = 0;
            for (; p + 16u <= P; p += 16u) {
                float16 v = vload16(0, cr + p);
                a0 += vload16(0, d0 + p) * v;
                a1 += vload16(0, d1 + p) * v;
                a2 += vload16(0, d2 + p) * v;
                a3 += vload16(0, d3 + p) * v;
            }
            float t0 = clnn_sum16(a0), t1 = clnn_sum16(a1), t2 = clnn_sum16(a2),
                  t3 = clnn_sum16(a3);
            for (; p < P; ++p) {
                float v = cr[p];
                t0 += d0[p] * v;
                t1 += d1[p] * v;
                t2 += d2[p] * v;
                t3 += d3[p] * v;
            }
            s0[r] += t0;
            s1[r] += t1;
            s2[r] += t2;
            s3[r] += t3;
        }
    }
    __global float *out = partial + partial_off + (part * g.O + o0) * R;
    for (uint r = 0; r < R; ++r) {
        out[r] = s0[r];
        if (here > 1u)
            out[R + r] = s1[r];
        if (here > 2u)
            out[2u * R + r] = s2[r];
        if (here > 3u)
            out[3u * R + r] = s3[r];
    }
}

/* Between a chunk's planes in NCHW order and the products' layout [K, count P] (K planes per
 * image, P elements each): one work-item per plane (n, k), copying its P elements (on CPU devices
 * a loop the compiler vectorises; the 2-D form with one work-item per element ran 10-20 times
 * slower on POCL's CPU device). */

/* dY[k][n P + p] = dy[n0 + n][k][p] (the backward products' dY, at ws + off). */
__kernel void clnn_conv_gather(__global const float *dy, __global float *ws, uint off, uint K,
                               uint P, uint n0, uint count)
{
    uint row = (uint)get_global_id(0);
    if (row >= count * K)
        return;
    uint n = row / K, k = row - n * K;
    __global const float *src = dy + (n0 * K + row) * P;
    __global float *dst = ws + off + (k * count + n) * P;
    for (uint q = 0; q < P; ++q)
        dst[q] = src[q];
}

/* The gather that inverts im2col for the `count` images from n0:
 *   dx[n0 + n][c][iy][ix] = beta dx[..] + sum of col[(c KH + kh) KW + kw][n OH OW + oy OW + ox]
 * over the taps (kh, kw) and outputs (oy, ox) with oy sh + kh dh = iy + ph (likewise x), that is
 * every column entry im2col would have copied this element to. Each dx element is summed by one
 * work-item in a fixed order: deterministic, no atomics. One work-item per row (n, c, iy) of dx,
 * W elements, the index arithmetic once per row and no division at stride 1. beta == 0 does not
 * read dx. The GPU forms' col2im; the CPU forms take clnn_conv_col2im_planes. */
__kernel void clnn_conv_col2im(__global const float *col, __global float *dx, uint16 geometry,
                               uint n0, uint count, float beta)
{
    conv_geom g = conv_unpack(geometry);
    uint P = g.OH * g.OW, cols = count * P;
    uint i = (uint)get_global_id(0);
    if (i >= count * g.C * g.H)
        return;
    uint iy = i % g.H, t = i / g.H, c = t % g.C, n = t / g.C;
    uint uy = iy + g.ph;
    __global const float *base = col + c * g.KH * g.KW * cols + n * P;
    __global float *out = dx + (n0 * g.C * g.H + i) * g.W;
    for (uint ix = 0; ix < g.W; ++ix) {
        uint ux = ix + g.pw;
        float sum = 0.0f;
        for (uint kh = 0; kh < g.KH && kh * g.dh <= uy; ++kh) {
            uint ty = uy - kh * g.dh, oy = g.sh == 1u ? ty : ty / g.sh;
            if (oy * g.sh != ty || oy >= g.OH)
                continue;
            __global const float *row = base + kh * g.KW * cols + oy * g.OW;
            for (uint kw = 0; kw < g.KW && kw * g.dw <= ux; ++kw) {
                uint tx = ux - kw * g.dw, ox = g.sw == 1u ? tx : tx / g.sw;
                if (ox * g.sw == tx && ox < g.OW)
                    sum += row[kw * cols + ox];
            }
        }
        out[ix] = beta == 0.0f ? sum : beta * out[ix] + sum;
    }
}

/* The same sums on CPU devices, a work-item per (n, c) plane of dx: it scales its plane by beta
 * (0: no read), then adds each tap's column rows in (kh, kw) order, so every element receives its
 * terms in the gather's order. The plane stays in the L1 cache while the column rows stream
 * through contiguous add loops; per element the gather's tap loop with its tests cost three to
 * four times the bytes' time. Deterministic: the plane is one work-item's. */
__kernel void clnn_conv_col2im_planes(__global const float *col, __global float *dx,
                                      uint16 geometry, uint n0, uint count, float beta)
{
    conv_geom g = conv_unpack(geometry);
    uint P = g.OH * g.OW, cols = count * P, HW = g.H * g.W;
    uint i = (uint)get_global_id(0);
    if (i >= count * g.C)
        return;
    uint n = i / g.C, c = i - n * g.C;
    __global float *out = dx + ((n0 + n) * g.C + c) * HW;
    if (beta == 0.0f)
        for (uint e = 0; e < HW; ++e)
            out[e] = 0.0f;
    else
        for (uint e = 0; e < HW; ++e)
            out[e] *= beta;
    __global const float *src = col + c * g.KH * g.KW * cols + n * P;
    for (uint kh = 0; kh < g.KH; ++kh) {
        uint ylo, yhi;
        conv_inside(kh * g.dh, g.sh, g.ph, g.H, g.OH, &ylo, &yhi);
        for (uint kw = 0; kw < g.KW; ++kw, src += cols) {
            uint xlo, xhi;
            conv_inside(kw * g.dw, g.sw, g.pw, g.W, g.OW, &xlo, &xhi);
            for (uint oy = ylo; oy < yhi; ++oy) {
                /* Output column ox adds into out[at0 + ox sw]; at0 may lie before the row
                 * (wrapped in uint, as in im2col). */
                uint at0 = (oy * g.sh + kh * g.dh - g.ph) * g.W + kw * g.dw - g.pw;
                __global const float *row = src + oy * g.OW;
                if (g.sw == 1u)
                    for (uint ox = xlo; ox < xhi; ++ox)
                        out[at0 + ox] += row[ox];
                else
                    for (uint ox = xlo; ox < xhi; ++ox)
                        out[at0 + ox * g.sw] += row[ox];
            }
        }
    }
}

/* The forward epilogue after the GEMMs, in place over y[N][O][P] (n elements):
 * y = f(y + b[o]), b read only when has_b (b is then any valid buffer). */
__kernel void clnn_conv_bias_activation(__global float *y, __global const float *b, int has_b,
                                        uint O, uint P, uint n, float4 p)
{
    uint i = (uint)get_global_id(0);
    if (i >= n)
        return;
    float v = y[i];
    if (has_b)
        v += b[(i / P) % O];
    y[i] = clnn_act_forward(v, p);
}

/* The forward's last step: y[n0 + n][o][q] = f(Y[o][n P + q] + b[o]) from the products' Y at
 * ws + off ([O, count P]), b read only when has_b (b is then any valid buffer). One work-item
 * per plane, as clnn_conv_gather. */
__kernel void clnn_conv_scatter(__global const float *ws, uint off, __global const float *b,
                                int has_b, __global float *y, uint O, uint P, uint n0, uint count,
                                float4 p)
{
    uint row = (uint)get_global_id(0);
    if (row >= count * O)
        return;
    uint n = row / O, o = row - n * O;
    __global const float *src = ws + off + (o * count + n) * P;
    __global float *dst = y + (n0 * O + row) * P;
    float bias = has_b ? b[o] : 0.0f;
    for (uint q = 0; q < P; ++q)
        dst[q] = clnn_act_forward(src[q] + bias, p);
}

/* ---- implicit products: stride-1 convolutions on CPU devices, no columns ---------------------
 * The input of a chunk of images (x forward and for the weight gradient, dy for the backward
 * data) is laid out as one zero-padded grid per channel: the images stacked along the rows with
 * ph zero rows before each, every row holding W data floats after pw zeros, so a row is
 * Wp = W + pw floats and an image img_rows = H + ph rows; zero rows follow the last image (the
 * host sizes them so that no read below leaves the plane). The output (n, oy, ox) of a stride-1
 * convolution is then grid position q = (n img_rows + oy) Wp + ox, and its tap (kh, kw) reads
 * the grid at q + kh dh Wp + kw dw: a tap past a row's end reads the next row's leading zeros, a
 * tap below an image's last row the next image's leading zero rows, so one padding serves both
 * neighbours, which holds while ph <= (KH - 1) dh and pw <= (KW - 1) dw (src/conv.c checks).
 * Positions with ox >= OW or oy >= OH are not outputs: the products compute them and do not store
 * them (13% of the work for 14x14 images, 23% for 7x7). im2col's columns are thus read where
 * they lie, shifted, and never written: the grid is the input's size, not KH KW times it. */

/* Only the CPU forms' build without an activation holds them (the host takes them from there):
 * the GPU forms never run them, and compilers that build every kernel of a program at once
 * (Mesa's) would pay for them in each build. */
#if defined(CLNN_CPU_FORMS) && CLNN_ACTIVATION == CLNN_ACT_IDENTITY

/* dst[0 .. n) = src[0 .. n), and dst[0 .. n) = 0, in whole vectors of 16 floats, then 8, 4, 2
 * and 1: the grids' rows are short (7 to 56 floats on a CNN) and a float at a time was most of
 * their copies' time. */
static inline void conv_copy_run(__global float *dst, __global const float *src, uint n)
{
    uint e = 0;
    for (; e + 16u <= n; e += 16u)
        clnn_store16(clnn_load16(0, src + e), 0, dst + e);
    if (e + 8u <= n) {
        clnn_store8(clnn_load8(0, src + e), 0, dst + e);
        e += 8u;
    }
    if (e + 4u <= n) {
        vstore4(vload4(0, src + e), 0, dst + e);
        e += 4u;
    }
    if (e + 2u <= n) {
        vstore2(vload2(0, src + e), 0, dst + e);
        e += 2u;
    }
    if (e < n)
        dst[e] = src[e];
}

static inline void conv_zero_run(__global float *dst, uint n)
{
    uint e = 0;
    for (; e + 16u <= n; e += 16u)
        clnn_store16((float16)(0.0f), 0, dst + e);
    for (; e < n; ++e)
        dst[e] = 0.0f;
}

/* One image's plane of a channel, src [H][W], into its grid rows from dst (rows of Wp = W + pw
 * floats): ph rows of zeros, then per row pw zeros and the row's W values. */
static inline void conv_grid_plane(__global const float *src, __global float *dst, uint H, uint W,
                                   uint ph, uint pw)
{
    uint Wp = W + pw;
    conv_zero_run(dst, ph * Wp);
    for (uint h = 0; h < H; ++h) {
        __global float *d = dst + (ph + h) * Wp;
        conv_zero_run(d, pw);
        conv_copy_run(d + pw, src + h * W, W);
    }
}

/* grid[c][r][0 .. Wp) for the `count` images of src [.][C][H][W] from n0: row r < count img_rows
 * (img_rows = H + ph) holds, after pw zeros, row r % img_rows - ph of image r / img_rows (zeros
 * for the first ph rows of each image); rows from count img_rows to `rows` are zeros. A
 * work-item per (c, n) image of a channel, writing its img_rows rows, and one more per channel
 * (n = count) for the zero rows after the last image: a work-item per row had too little to do. */
__kernel void clnn_conv_grid(__global const float *src, __global float *grid, uint C, uint H,
                             uint W, uint ph, uint pw, uint n0, uint count, uint rows)
{
    uint i = (uint)get_global_id(0);
    if (i >= C * (count + 1u))
        return;
    uint c = i / (count + 1u), n = i - c * (count + 1u), Wp = W + pw, img_rows = H + ph;
    __global float *dst = grid + (c * rows + n * img_rows) * Wp;
    if (n == count)
        conv_zero_run(dst, (rows - count * img_rows) * Wp);
    else
        conv_grid_plane(src + ((n0 + n) * C + c) * H * W, dst, H, W, ph, pw);
}

/* dYT [qrows, O] at ws + off: row q holds the O channels of dy at the chunk's grid position q
 * (the output layout above: Wp floats a row, img_rows rows an image), zeros where q is not an
 * output or lies past the chunk's images (the rows after them are the products' guard). The B
 * operand of clnn_conv_implicit_weight. A work-item per row, reading its values a plane apart. */
__kernel void clnn_conv_grid_t(__global const float *dy, __global float *ws, uint off, uint O,
                               uint OH, uint OW, uint Wp, uint img_rows, uint n0, uint count,
                               uint qrows)
{
    uint q = (uint)get_global_id(0);
    if (q >= qrows)
        return;
    __global float *dst = ws + off + q * O;
    uint img = img_rows * Wp, n = q / img, r = q - n * img, oy = r / Wp, ox = r - oy * Wp;
    if (n >= count || oy >= OH || ox >= OW) {
        for (uint o = 0; o < O; ++o)
            dst[o] = 0.0f;
        return;
    }
    uint P = OH * OW;
    __global const float *src = dy + (n0 + n) * O * P + oy * OW + ox;
    for (uint o = 0; o < O; ++o)
        dst[o] = src[o * P];
}

/* Eight rows of A, each at base + its row's offset, rows past M reading row M - 1 (not stored). */
#define IMPLICIT_ROWS(BASE, M, M0, ROW_AT)                                                       \
    __global const float *a0 = BASE + ROW_AT(M0), *a1 = BASE + ROW_AT(min(M0 + 1u, M - 1u)),     \
                         *a2 = BASE + ROW_AT(min(M0 + 2u, M - 1u)),                              \
                         *a3 = BASE + ROW_AT(min(M0 + 3u, M - 1u)),                              \
                         *a4 = BASE + ROW_AT(min(M0 + 4u, M - 1u)),                              \
                         *a5 = BASE + ROW_AT(min(M0 + 5u, M - 1u)),                              \
                         *a6 = BASE + ROW_AT(min(M0 + 6u, M - 1u)),                              \
                         *a7 = BASE + ROW_AT(min(M0 + 7u, M - 1u));

/* One step of an 8 x 32 block (clnn_gemm_nn16's): 16 fmas of A's eight values at IA and the two
 * 16-float vectors B0, B1. */
#define IMPLICIT_STEP(IA, B0, B1)                                                                \
    {                                                                                            \
        float x;                                                                                 \
        x = a0[IA], c00 = fma((float16)(x), B0, c00), c01 = fma((float16)(x), B1, c01);          \
        x = a1[IA], c10 = fma((float16)(x), B0, c10), c11 = fma((float16)(x), B1, c11);          \
        x = a2[IA], c20 = fma((float16)(x), B0, c20), c21 = fma((float16)(x), B1, c21);          \
        x = a3[IA], c30 = fma((float16)(x), B0, c30), c31 = fma((float16)(x), B1, c31);          \
        x = a4[IA], c40 = fma((float16)(x), B0, c40), c41 = fma((float16)(x), B1, c41);          \
        x = a5[IA], c50 = fma((float16)(x), B0, c50), c51 = fma((float16)(x), B1, c51);          \
        x = a6[IA], c60 = fma((float16)(x), B0, c60), c61 = fma((float16)(x), B1, c61);          \
        x = a7[IA], c70 = fma((float16)(x), B0, c70), c71 = fma((float16)(x), B1, c71);          \
    }

#define IMPLICIT_ACCUMULATORS                                                                    \
    float16 c00 = 0.0f, c01 = 0.0f, c10 = 0.0f, c11 = 0.0f, c20 = 0.0f, c21 = 0.0f, c30 = 0.0f,  \
            c31 = 0.0f, c40 = 0.0f, c41 = 0.0f, c50 = 0.0f, c51 = 0.0f, c60 = 0.0f, c61 = 0.0f,  \
            c70 = 0.0f, c71 = 0.0f;

/* The accumulators into block[8 * 32], row-major. */
#define IMPLICIT_SPILL(BLOCK)                                                                    \
    vstore16(c00, 0, BLOCK), vstore16(c01, 1, BLOCK), vstore16(c10, 2, BLOCK);                   \
    vstore16(c11, 3, BLOCK), vstore16(c20, 4, BLOCK), vstore16(c21, 5, BLOCK);                   \
    vstore16(c30, 6, BLOCK), vstore16(c31, 7, BLOCK), vstore16(c40, 8, BLOCK);                   \
    vstore16(c41, 9, BLOCK), vstore16(c50, 10, BLOCK), vstore16(c51, 11, BLOCK);                 \
    vstore16(c60, 12, BLOCK), vstore16(c61, 13, BLOCK), vstore16(c70, 14, BLOCK);                \
    vstore16(c71, 15, BLOCK);

/* dst[0 .. n) = src[0 .. n) + beta dst (beta 0: dst not read), n <= 32: a run of a spilled
 * block's row, stored as whole vectors of 16, 8, 4, 2 and 1 floats. Measured on POCL at 7x7
 * and 14x14: the stores a float at a time took 12-20% of the products' time, these about half
 * as much (paired launches: 0.89-0.93 of the time before). */
static inline void implicit_store_run(__global float *dst, const float *src, uint n, float beta)
{
    uint e = 0;
    for (; e + 16u <= n; e += 16u) {
        float16 v = vload16(0, src + e);
        clnn_store16(beta == 0.0f ? v : v + beta * clnn_load16(0, dst + e), 0, dst + e);
    }
    if (e + 8u <= n) {
        float8 v = vload8(0, src + e);
        clnn_store8(beta == 0.0f ? v : v + beta * clnn_load8(0, dst + e), 0, dst + e);
        e += 8u;
    }
    if (e + 4u <= n) {
        float4 v = vload4(0, src + e);
        vstore4(beta == 0.0f ? v : v + beta * vload4(0, dst + e), 0, dst + e);
        e += 4u;
    }
    if (e + 2u <= n) {
        float2 v = vload2(0, src + e);
        vstore2(beta == 0.0f ? v : v + beta * vload2(0, dst + e), 0, dst + e);
        e += 2u;
    }
    if (e < n)
        dst[e] = beta == 0.0f ? src[e] : src[e] + beta * dst[e];
}

/* A(m, k) = a[a_base + m a_m + ch a_c + t a_t], k = ch taps + t, packed as
 * packed[off + (b K + k) 8 + i] = A(min(8 b + i, M - 1), k) for the row blocks b of eight rows
 * (rows past M repeat row M - 1; their products are not stored): the eight values one step of
 * clnn_conv_implicit broadcasts lie together, one pointer reads them all. A work-item per (b, k).
 * The forward packs W itself (a_base 0, a_m C taps, a_c taps, a_t 1); the data gradient W
 * transposed and turned round, A(c, (o, kh, kw)) = W[o][c][KH-1-kh][KW-1-kw] (a_base taps - 1,
 * a_m taps, a_c C taps, a_t -1). */
__kernel void clnn_conv_pack_a(__global const float *a, uint a_base, uint a_m, uint a_c, int a_t,
                               uint M, uint K, uint taps, __global float *packed, uint off)
{
    uint id = (uint)get_global_id(0), blocks = (M + 7u) / 8u;
    if (id >= blocks * K)
        return;
    uint b = id / K, k = id - b * K, ch = k / taps, t = k - ch * taps;
    __global const float *src = a + ((int)(a_base + ch * a_c) + (int)t * a_t);
    __global float *dst = packed + off + 8u * id;
    for (uint i = 0; i < 8u; ++i)
        dst[i] = src[min(8u * b + i, M - 1u) * a_m];
}

/* One step of an 8 x 32 block: the eight packed values of step T broadcast against the two
 * 16-float vectors B0, B1 of the shifted grid, 16 fmas. */
#define IMPLICIT_PACKED_STEP(T, B0, B1)                                                          \
    {                                                                                            \
        __global const float *at = ap + 8 * (T);                                                 \
        float x;                                                                                 \
        x = at[0], c00 = fma((float16)(x), B0, c00), c01 = fma((float16)(x), B1, c01);           \
        x = at[1], c10 = fma((float16)(x), B0, c10), c11 = fma((float16)(x), B1, c11);           \
        x = at[2], c20 = fma((float16)(x), B0, c20), c21 = fma((float16)(x), B1, c21);           \
        x = at[3], c30 = fma((float16)(x), B0, c30), c31 = fma((float16)(x), B1, c31);           \
        x = at[4], c40 = fma((float16)(x), B0, c40), c41 = fma((float16)(x), B1, c41);           \
        x = at[5], c50 = fma((float16)(x), B0, c50), c51 = fma((float16)(x), B1, c51);           \
        x = at[6], c60 = fma((float16)(x), B0, c60), c61 = fma((float16)(x), B1, c61);           \
        x = at[7], c70 = fma((float16)(x), B0, c70), c71 = fma((float16)(x), B1, c71);           \
    }

/* Tap T of a 3x3 kernel at column C of grid row pointer R. */
#define IMPLICIT_TAP3(R, C, T)                                                                   \
    {                                                                                            \
        float16 b0 = clnn_load16(0, (R) + (C)), b1 = clnn_load16(0, (R) + (C) + 16);            \
        IMPLICIT_PACKED_STEP(T, b0, b1)                                                          \
    }

/* The forward and backward-data products, C [M, Q] = A B summed over k = (ch, kh, kw) for the
 * Cin input channels of the grid and the KH x KW taps:
 *   B(k, q) = grid[ch plane + q + kh dh Wp + kw dw]    (the shifted grid, above)
 *   A(m, k) = the packed weight (clnn_conv_pack_a) at packed + a_off
 * a stride-1 convolution's data gradient is the convolution of dy, padded by (K - 1) d - p, with
 * the weight transposed and turned round. Position q's output (n, oy, ox) with oy < OH and
 * ox < OW goes to out[n out_img + m OH OW + oy OW + ox] = C + beta out (beta 0: not read). The
 * work-item layout of clnn_gemm_nn16: an 8 x 32 block of C, consecutive work-items down the row
 * blocks of one column block, so they share its B panel in the cache (the packed weight, M x
 * Cin KH KW floats, stays in L2). A 3x3 kernel with dw 1 takes its nine taps unrolled, from
 * three row pointers: the loop over kh and kw had cost registers the block needed (its pointers
 * were reloaded from the stack every three steps). */
__kernel void clnn_conv_implicit(uint M, uint Q, uint Cin, uint KH, uint KW, uint dh, uint dw,
                                 __global const float *packed, uint a_off,
                                 __global const float *grid, uint plane, uint Wp, uint img_rows,
                                 __global float *out, uint out_off, uint out_img, uint OH,
                                 uint OW, float beta)
{
    uint id = (uint)get_global_id(0), row_blocks = (M + 7u) / 8u;
    uint column_block = id / row_blocks;
    uint q0 = column_block * 32u, m0 = (id - column_block * row_blocks) * 8u;
    if (q0 >= Q)
        return;
    __global const float *ap = packed + a_off + m0 * (Cin * KH * KW);
    IMPLICIT_ACCUMULATORS
    __global const float *bc = grid + q0;
    if (KH == 3u && KW == 3u && dw == 1u) {
        uint row = dh * Wp;
        for (uint ch = 0; ch < Cin; ++ch, bc += plane, ap += 72) {
            __global const float *r0 = bc, *r1 = bc + row, *r2 = r1 + row;
            IMPLICIT_TAP3(r0, 0, 0) IMPLICIT_TAP3(r0, 1, 1) IMPLICIT_TAP3(r0, 2, 2)
            IMPLICIT_TAP3(r1, 0, 3) IMPLICIT_TAP3(r1, 1, 4) IMPLICIT_TAP3(r1, 2, 5)
            IMPLICIT_TAP3(r2, 0, 6) IMPLICIT_TAP3(r2, 1, 7) IMPLICIT_TAP3(r2, 2, 8)
        }
    } else {
        for (uint ch = 0; ch < Cin; ++ch, bc += plane)
            for (uint kh = 0; kh < KH; ++kh) {
                __global const float *bp = bc + kh * dh * Wp;
                for (uint kw = 0; kw < KW; ++kw, bp += dw, ap += 8) {
                    float16 b0 = clnn_load16(0, bp), b1 = clnn_load16(0, bp + 16);
                    IMPLICIT_PACKED_STEP(0, b0, b1)
                }
            }
    }
    float block[8 * 32];
    IMPLICIT_SPILL(block)
    /* The block's positions in runs along grid rows: each run's place found once, its outputs
     * (ox < OW, oy < OH) stored as contiguous segments of the eight planes. */
    uint rows = min(8u, M - m0), img = img_rows * Wp, P = OH * OW;
    uint n = q0 / img, r = q0 - n * img, oy = r / Wp, ox = r - oy * Wp;
    uint end = min(32u, Q - q0);
    out += out_off + m0 * P;
    for (uint j = 0; j < end;) {
        uint run = min(end - j, Wp - ox);
        if (oy < OH && ox < OW) {
            uint valid = min(run, OW - ox);
            __global float *dst = out + n * out_img + oy * OW + ox;
            const float *src = block + j;
            for (uint i = 0; i < rows; ++i)
                implicit_store_run(dst + i * P, src + 32u * i, valid, beta);
        }
        j += run, ox = 0;
        if (++oy == img_rows)
            oy = 0, ++n;
    }
}

#define IMPLICIT_GRID_ROW(M) implicit_grid_row(M, KH, KW, dh, dw, Wp, plane)

/* Where row m = (ch KH + kh) KW + kw of the weight gradient's A starts in the grid. */
static inline uint implicit_grid_row(uint m, uint KH, uint KW, uint dh, uint dw, uint Wp,
                                     uint plane)
{
    uint taps = KH * KW, ch = m / taps, t = m - ch * taps, kh = t / KW, kw = t - kh * KW;
    return ch * plane + kh * dh * Wp + kw * dw;
}

/* The weight gradient's product, T [M, N] = A B + beta T summed over grid positions q:
 *   A(m, q) = grid[ch plane + kh dh Wp + kw dw + q], m = (ch KH + kh) KW + kw (im2col's rows,
 *             read where they lie in the grid of x)
 *   B(q, n) = b[b_off + q N + n] (dy at the grid positions, zeros elsewhere: clnn_conv_grid_t)
 * so T = dW^T [C KH KW, O] (the host adds it transposed into dW). Global dimension 1 is the part
 * s: it sums q in [s q_part, (s + 1) q_part) within [0, Q) into T_s at t + t_off + s M N (the
 * host adds the parts in order: deterministic). An 8 x 32 block of T_s per work-item,
 * consecutive work-items down the row blocks of one column block; columns past N read the next
 * rows of B (guard rows keep them inside) and are not stored. beta 0 does not read T_s. */
__kernel void clnn_conv_implicit_weight(uint M, uint N, uint Q, uint q_part, uint KH, uint KW,
                                        uint dh, uint dw, __global const float *grid, uint plane,
                                        uint Wp, __global const float *b, uint b_off, float beta,
                                        __global float *t, uint t_off)
{
    uint id = (uint)get_global_id(0), part = (uint)get_global_id(1);
    uint row_blocks = (M + 7u) / 8u, column_block = id / row_blocks;
    uint n0 = column_block * 32u, m0 = (id - column_block * row_blocks) * 8u;
    if (n0 >= N)
        return;
    uint q_begin = min(Q, part * q_part), q_end = min(Q, q_begin + q_part);
    IMPLICIT_ROWS(grid, M, m0, IMPLICIT_GRID_ROW)
    IMPLICIT_ACCUMULATORS
    __global const float *bp = b + b_off + q_begin * N + n0;
    for (uint q = q_begin; q < q_end; ++q, bp += N) {
        float16 b0 = clnn_load16(0, bp), b1 = clnn_load16(0, bp + 16);
        IMPLICIT_STEP(q, b0, b1)
    }
    float block[8 * 32];
    IMPLICIT_SPILL(block)
    uint rows = min(8u, M - m0), cols = min(32u, N - n0);
    t += t_off + part * M * N;
    for (uint i = 0; i < rows; ++i)
        implicit_store_run(t + (m0 + i) * N + n0, block + 32u * i, cols, beta);
}

/* ---- few weights per output channel over the grid (a first layer) ---------------------------
 * R = C KH KW <= CONV_FEW_ROWS (1 or 3 channels, 3x3: 9 or 27), one group, stride 1, output rows
 * of at least 16: products with a K of R would do as many stores as sums, so these kernels read
 * the grid directly, 16 outputs of a row at a time. A row's last 16 outputs are taken from
 * OW - 16 (overlapping the segment before when 16 does not divide OW), so every load and store
 * is a whole 16-float vector inside the row. */

/* y[n0 + n][o][oy][.] = sum over r = (c, kh, kw) of w[o][r] times the grid of c at the output's
 * position shifted by the tap (the grid's comment above), for the `count` images of the chunk. A
 * work-item per image: it first lays out the image's grid itself, in its own region of ws
 * (image_rows rows of Wp a channel: the image's rows, then zeros for the taps below it), so no
 * other launch writes what it reads; then it writes the output planes eight at a time, row after
 * row: per r, one shifted 16-float vector of the grid (the image's grid stays in the L1 cache)
 * and eight fmas into eight independent sums. A work-item per output row, for every channel, had
 * written 32 planes at once, a 16-float segment each: paired launches on POCL took 0.65-0.70 of
 * its time on the default CNN's first layer. The overlapping last segment stores again, from the
 * same work-item, the values the one before computed the same way. */
__kernel void clnn_conv_few_forward(__global const float *x, __global float *ws, uint image_rows,
                                    __global const float *w, __global float *y, uint16 geometry,
                                    uint n0, uint count)
{
    conv_geom g = conv_unpack(geometry);
    uint n = (uint)get_global_id(0);
    if (n >= count)
        return;
    uint P = g.OH * g.OW, R = g.C * g.KH * g.KW, Wp = g.W + g.pw, plane = image_rows * Wp;
    __global float *grid = ws + n * g.C * plane;
    for (uint c = 0; c < g.C; ++c) {
        conv_grid_plane(x + ((n0 + n) * g.C + c) * g.H * g.W, grid + c * plane, g.H, g.W, g.ph,
                        g.pw);
        conv_zero_run(grid + c * plane + (g.H + g.ph) * Wp, (image_rows - g.H - g.ph) * Wp);
    }
    for (uint o = 0; o < g.O; o += 8u) {
        __global const float *w0 = w + o * R, *w1 = w + min(o + 1u, g.O - 1u) * R,
                             *w2 = w + min(o + 2u, g.O - 1u) * R,
                             *w3 = w + min(o + 3u, g.O - 1u) * R,
                             *w4 = w + min(o + 4u, g.O - 1u) * R,
                             *w5 = w + min(o + 5u, g.O - 1u) * R,
                             *w6 = w + min(o + 6u, g.O - 1u) * R,
                             *w7 = w + min(o + 7u, g.O - 1u) * R;
        uint here = g.O - o;
        for (uint oy = 0; oy < g.OH; ++oy)
            for (uint s = 0; s < g.OW; s += 16u) {
                uint ox0 = min(s, g.OW - 16u);
                __global const float *at = grid + oy * Wp + ox0;
                float16 s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f, s4 = 0.0f, s5 = 0.0f,
                        s6 = 0.0f, s7 = 0.0f;
                uint r = 0;
                for (uint c = 0; c < g.C; ++c)
                    for (uint kh = 0; kh < g.KH; ++kh)
                        for (uint kw = 0; kw < g.KW; ++kw, ++r) {
                            float16 v =
                                clnn_load16(0, at + c * plane + kh * g.dh * Wp + kw * g.dw);
                            s0 = fma((float16)(w0[r]), v, s0), s1 = fma((float16)(w1[r]), v, s1);
                            s2 = fma((float16)(w2[r]), v, s2), s3 = fma((float16)(w3[r]), v, s3);
                            s4 = fma((float16)(w4[r]), v, s4), s5 = fma((float16)(w5[r]), v, s5);
                            s6 = fma((float16)(w6[r]), v, s6), s7 = fma((float16)(w7[r]), v, s7);
                        }
                __global float *to = y + ((n0 + n) * g.O + o) * P + oy * g.OW + ox0;
                clnn_store16(s0, 0, to);
                if (here > 1u)
                    clnn_store16(s1, 0, to + P);
                if (here > 2u)
                    clnn_store16(s2, 0, to + 2u * P);
                if (here > 3u)
                    clnn_store16(s3, 0, to + 3u * P);
                if (here > 4u)
                    clnn_store16(s4, 0, to + 4u * P);
                if (here > 5u)
                    clnn_store16(s5, 0, to + 5u * P);
                if (here > 6u)
                    clnn_store16(s6, 0, to + 6u * P);
                if (here > 7u)
                    clnn_store16(s7, 0, to + 7u * P);
            }
    }
}

/* Channel D's vector of dy at p (lanes outside `keep` zeroed) against the three taps x0..x2. */
#define FEW_WEIGHT_CHANNEL(D, p, keep, S0, S1, S2)                                                \
    {                                                                                             \
        float16 e = select(zero, clnn_load16(0, (D) + (p)), keep);                                \
        S0 = fma(e, x0, S0), S1 = fma(e, x1, S1), S2 = fma(e, x2, S2);                            \
    }

/* One vector of 16 positions p .. p + 15 of the weight gradient below: the grid's three taps
 * from xo (lanes past the row's end from the next row, `shift` further: wrap), dy's eight
 * channels at p, each against the three taps. */
#define FEW_WEIGHT_VECTOR(p, keep)                                                                \
    {                                                                                             \
        float16 x0 = select(clnn_load16(0, xo), clnn_load16(0, xo + shift), wrap);               \
        float16 x1 = select(clnn_load16(0, xo + u1), clnn_load16(0, xo + u1 + shift), wrap);     \
        float16 x2 = select(clnn_load16(0, xo + u2), clnn_load16(0, xo + u2 + shift), wrap);     \
        FEW_WEIGHT_CHANNEL(d0, p, keep, a00, a01, a02)                                            \
        FEW_WEIGHT_CHANNEL(d1, p, keep, a10, a11, a12)                                            \
        FEW_WEIGHT_CHANNEL(d2, p, keep, a20, a21, a22)                                            \
        FEW_WEIGHT_CHANNEL(d3, p, keep, a30, a31, a32)                                            \
        FEW_WEIGHT_CHANNEL(d4, p, keep, a40, a41, a42)                                            \
        FEW_WEIGHT_CHANNEL(d5, p, keep, a50, a51, a52)                                            \
        FEW_WEIGHT_CHANNEL(d6, p, keep, a60, a61, a62)                                            \
        FEW_WEIGHT_CHANNEL(d7, p, keep, a70, a71, a72)                                            \
    }

/* The weight gradient of few weights per output channel over x's grid: as
 * clnn_conv_backward_weight_few, the chunk's images cut into `parts` contiguous ranges, a
 * work-item per part writing partial[part][o][r] (at ws + partial_off; the host adds the parts in
 * order). Each work-item first lays out its images' grid itself, in its own region of ws
 * (part_rows rows of Wp a channel: the images' rows, then zeros for the taps past the last
 * one), so no other launch writes what it reads; then it takes the output channels eight at a
 * time. dy's planes are read as they lie, 16 positions at a time across row ends (a plane of
 * 28x28 is 49 whole vectors: no lane wasted, and the loads are aligned when the plane's size is a
 * multiple of 16); position p = oy OW + ox reads the grid at oy Wp + ox, and a lane past its
 * row's end at Wp - OW further (rows of at least 16 outputs: a vector crosses one row end at
 * most). Taps kw .. kw + 2 of one (c, kh) share each vector of dy: 24 sums on 16 lanes, kept per
 * tap in `saved` between images (an image's eight planes, 25 KB at 28x28, stay in the L1 cache
 * while its taps pass over them) and reduced across their lanes once, after the part's images.
 * When 16 does not divide OH OW, the plane's last vector starts at OH OW - 16 and counts only its
 * new lanes (select, so that a value outside them, even an infinite one, adds nothing). Paired
 * launches on POCL against the former kernel (four channels, whole rows of 16-output segments,
 * dy read once per kh, the grid by clnn_conv_grid): 0.69-0.76 of its time on the default CNN's
 * first layer, before the grid moved in. */
__kernel void clnn_conv_few_weight(__global const float *dy, __global const float *x,
                                   __global float *ws, uint part_rows, uint partial_off,
                                   uint16 geometry, uint n0, uint count, uint parts)
{
    conv_geom g = conv_unpack(geometry);
    uint R = g.C * g.KH * g.KW, P = g.OH * g.OW, Wp = g.W + g.pw, img_rows = g.H + g.ph;
    uint part = (uint)get_global_id(0);
    if (part >= parts)
        return;
    uint per = (count + parts - 1u) / parts, na = min(count, part * per);
    uint nb = min(count, na + per), plane = part_rows * Wp;
    __global float *grid = ws + part * g.C * plane;
    for (uint c = 0; c < g.C; ++c) {
        for (uint n = na; n < nb; ++n)
            conv_grid_plane(x + ((n0 + n) * g.C + c) * g.H * g.W,
                            grid + c * plane + (n - na) * img_rows * Wp, g.H, g.W, g.ph, g.pw);
        conv_zero_run(grid + c * plane + (nb - na) * img_rows * Wp,
                      (part_rows - (nb - na) * img_rows) * Wp);
    }
    uint shift = Wp - g.OW, full = P / 16u * 16u;
    int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    int16 all = lane >= 0, fresh = lane >= (int16)((int)(16u - (P - full)));
    float16 zero = 0.0f;
    /* Tap r's sums for the block's channel i at saved[8 r + i]. */
    float16 saved[CONV_FEW_ROWS * 8u];
    for (uint o0 = 0; o0 < g.O; o0 += 8u) {
        uint here = min(8u, g.O - o0);
        for (uint i = 0; i < R * 8u; ++i)
            saved[i] = zero;
        for (uint n = na; n < nb; ++n) {
            /* The block's planes of dy (a block of fewer than eight repeats its last channel). */
            __global const float *d0 = dy + ((n0 + n) * g.O + o0) * P;
            __global const float *d1 = d0 + min(1u, here - 1u) * P,
                                 *d2 = d0 + min(2u, here - 1u) * P,
                                 *d3 = d0 + min(3u, here - 1u) * P,
                                 *d4 = d0 + min(4u, here - 1u) * P,
                                 *d5 = d0 + min(5u, here - 1u) * P,
                                 *d6 = d0 + min(6u, here - 1u) * P,
                                 *d7 = d0 + min(7u, here - 1u) * P;
            for (uint c = 0; c < g.C; ++c)
                for (uint kh = 0; kh < g.KH; ++kh)
                    for (uint kw = 0; kw < g.KW; kw += 3u) {
                        /* Taps kw .. kw + 2 (past KW: repeats of the last, neither kept nor
                         * stored). */
                        uint r = (c * g.KH + kh) * g.KW + kw, taps = min(3u, g.KW - kw);
                        uint u1 = min(kw + 1u, g.KW - 1u) * g.dw - kw * g.dw;
                        uint u2 = min(kw + 2u, g.KW - 1u) * g.dw - kw * g.dw;
                        __global const float *xg =
                            grid + c * plane + ((n - na) * img_rows + kh * g.dh) * Wp + kw * g.dw;
                        __private float16 *s = saved + 8u * r;
                        float16 a00 = s[0], a10 = s[1], a20 = s[2], a30 = s[3], a40 = s[4],
                                a50 = s[5], a60 = s[6], a70 = s[7];
                        float16 a01 = zero, a11 = zero, a21 = zero, a31 = zero, a41 = zero,
                                a51 = zero, a61 = zero, a71 = zero;
                        float16 a02 = zero, a12 = zero, a22 = zero, a32 = zero, a42 = zero,
                                a52 = zero, a62 = zero, a72 = zero;
                        if (taps > 1u)
                            a01 = s[8], a11 = s[9], a21 = s[10], a31 = s[11], a41 = s[12],
                            a51 = s[13], a61 = s[14], a71 = s[15];
                        if (taps > 2u)
                            a02 = s[16], a12 = s[17], a22 = s[18], a32 = s[19], a42 = s[20],
                            a52 = s[21], a62 = s[22], a72 = s[23];
                        /* xo: the grid at the vector's first position (row oy, column ox0). */
                        __global const float *xo = xg;
                        uint ox0 = 0;
                        for (uint p = 0; p < full; p += 16u) {
                            int16 wrap = lane >= (int16)((int)(g.OW - ox0));
                            FEW_WEIGHT_VECTOR(p, all)
                            ox0 += 16u, xo += 16;
                            if (ox0 >= g.OW)
                                ox0 -= g.OW, xo += shift;
                        }
                        if (full < P) {
                            uint p = P - 16u, oy = p / g.OW;
                            ox0 = p - oy * g.OW, xo = xg + oy * Wp + ox0;
                            int16 wrap = lane >= (int16)((int)(g.OW - ox0));
                            FEW_WEIGHT_VECTOR(p, fresh)
                        }
                        s[0] = a00, s[1] = a10, s[2] = a20, s[3] = a30, s[4] = a40, s[5] = a50,
                        s[6] = a60, s[7] = a70;
                        if (taps > 1u)
                            s[8] = a01, s[9] = a11, s[10] = a21, s[11] = a31, s[12] = a41,
                            s[13] = a51, s[14] = a61, s[15] = a71;
                        if (taps > 2u)
                            s[16] = a02, s[17] = a12, s[18] = a22, s[19] = a32, s[20] = a42,
                            s[21] = a52, s[22] = a62, s[23] = a72;
                    }
        }
        __global float *out = ws + partial_off + (part * g.O + o0) * R;
        for (uint i = 0; i < here; ++i)
            for (uint r = 0; r < R; ++r)
                out[i * R + r] = clnn_sum16(saved[8u * r + i]);
    }
}

#endif /* CLNN_CPU_FORMS, identity */

/* ---- direct kernels: one input channel per group (groups = C; output o reads channel o / Og) --- */

/* y[n][o][oy][ox] = f(b[o] + sum over (kh, kw) of w[o][0][kh][kw] x[n][o / Og][iy][ix]) for the
 * N images, taps in the padding skipped. One work-item per output element. */
__kernel void clnn_conv_direct_forward(__global const float *x, __global const float *w,
                                       __global const float *b, int has_b, __global float *y,
                                       uint16 geometry, uint N, float4 p)
{
    conv_geom g = conv_unpack(geometry);
    uint P = g.OH * g.OW;
    uint i = (uint)get_global_id(0);
    if (i >= N * g.O * P)
        return;
    uint ox = i % g.OW, t = i / g.OW, oy = t % g.OH;
    t /= g.OH;
    uint o = t % g.O, n = t / g.O;
    __global const float *xp = x + (n * g.C + o / g.Og) * g.H * g.W;
    __global const float *wp = w + o * g.KH * g.KW;
    float sum = 0.0f;
    for (uint kh = 0; kh < g.KH; ++kh) {
        uint iy, ix;
        if (!conv_tap(oy, kh, g.sh, g.dh, g.ph, g.H, &iy))
            continue;
        for (uint kw = 0; kw < g.KW; ++kw)
            if (conv_tap(ox, kw, g.sw, g.dw, g.pw, g.W, &ix))
                sum = fma(wp[kh * g.KW + kw], xp[iy * g.W + ix], sum);
    }
    if (has_b)
        sum += b[o];
    y[i] = clnn_act_forward(sum, p);
}

/* dx[n][c][iy][ix] = beta dx[..] + sum over the Og outputs o = c Og + j of channel c and the
 * taps (kh, kw) that reach (iy, ix) from an output (oy, ox) of w[o][0][kh][kw] dy[n][o][oy][ox]:
 * a gather, one work-item per dx element. beta == 0 does not read dx. */
__kernel void clnn_conv_direct_backward_data(__global const float *dy, __global const float *w,
                                             __global float *dx, uint16 geometry, uint N,
                                             float beta)
{
    conv_geom g = conv_unpack(geometry);
    uint HW = g.H * g.W, P = g.OH * g.OW;
    uint i = (uint)get_global_id(0);
    if (i >= N * g.C * HW)
        return;
    uint ix = i % g.W, t = i / g.W, iy = t % g.H;
    t /= g.H;
    uint c = t % g.C, n = t / g.C;
    uint uy = iy + g.ph, ux = ix + g.pw;
    float sum = 0.0f;
    for (uint j = 0; j < g.Og; ++j) {
        uint o = c * g.Og + j;
        __global const float *dyp = dy + (n * g.O + o) * P;
        __global const float *wp = w + o * g.KH * g.KW;
        for (uint kh = 0; kh < g.KH && kh * g.dh <= uy; ++kh) {
            uint ty = uy - kh * g.dh, oy = ty / g.sh;
            if (oy * g.sh != ty || oy >= g.OH)
                continue;
            for (uint kw = 0; kw < g.KW && kw * g.dw <= ux; ++kw) {
                uint tx = ux - kw * g.dw, ox = tx / g.sw;
                if (ox * g.sw == tx && ox < g.OW)
                    sum = fma(wp[kh * g.KW + kw], dyp[oy * g.OW + ox], sum);
            }
        }
    }
    dx[i] = beta == 0.0f ? sum : beta * dx[i] + sum;
}

/* dw[o][0][kh][kw] = beta dw[..] + sum over n, oy, ox of dy[n][o][oy][ox] x[n][o / Og][iy][ix]:
 * work-group e = (o KH + kh) KW + kw sums the N OH OW terms, each work-item a strided share, then
 * the group adds the shares up (clnn_group_sum: a fixed tree for a given local size).
 * scratch holds one float per work-item. beta == 0 does not read dw. */
__kernel void clnn_conv_direct_backward_weight(__global const float *dy, __global const float *x,
                                               __global float *dw, uint16 geometry, uint N,
                                               float beta, __local float *scratch)
{
    conv_geom g = conv_unpack(geometry);
    uint e = (uint)get_group_id(0), l = (uint)get_local_id(0), L = (uint)get_local_size(0);
    uint kw = e % g.KW, t = e / g.KW, kh = t % g.KH, o = t / g.KH, c = o / g.Og;
    uint P = g.OH * g.OW, total = N * P;
    float s = 0.0f;
    for (uint k = l; k < total; k += L) {
        uint n = k / P, q = k - n * P, oy = q / g.OW, ox = q - oy * g.OW, iy, ix;
        if (conv_tap(oy, kh, g.sh, g.dh, g.ph, g.H, &iy) &&
            conv_tap(ox, kw, g.sw, g.dw, g.pw, g.W, &ix))
            s = fma(dy[(n * g.O + o) * P + q], x[(n * g.C + c) * g.H * g.W + iy * g.W + ix], s);
    }
    float sum = clnn_group_sum(s, scratch);
    if (l == 0u)
        dw[e] = beta == 0.0f ? sum : beta * dw[e] + sum;
}

/* db[o] = beta db[o] + sum over n, p of dy[n][o][p] (P = plane elements): work-group o, as
 * above. beta == 0 does not read db. */
__kernel void clnn_conv_backward_bias(__global const float *dy, __global float *db, uint O,
                                      uint P, uint N, float beta, __local float *scratch)
{
    uint o = (uint)get_group_id(0), l = (uint)get_local_id(0), L = (uint)get_local_size(0);
    uint total = N * P;
    float s = 0.0f;
    /* Term k is (n, q) = (k / P, k % P), followed without a division per term. */
    uint n = l / P, q = l - n * P, dn = L / P, dq = L - dn * P;
    for (uint k = l; k < total; k += L) {
        s += dy[(n * O + o) * P + q];
        n += dn, q += dq;
        if (q >= P)
            q -= P, ++n;
    }
    float sum = clnn_group_sum(s, scratch);
    if (l == 0u)
        db[o] = beta == 0.0f ? sum : beta * db[o] + sum;
}
