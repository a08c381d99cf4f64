/*
 * Activation kernels: elementwise forward and backward (from x, or from y for the kinds that
 * allow it), fused bias + activation forward and backward (with the bias gradient as column sums),
 * and PReLU with its slope gradient. The program is built once per kind with
 * -DCLNN_ACTIVATION=<kind>; the PReLU kernels do not depend on it (the host uses the identity
 * build). The functions themselves live in activation.h, which other kernel files include to fuse
 * an activation.
 *
 * Backward kernels compute dx = dy * f'(.) as a product, so a NaN or Inf in dy, or a NaN input,
 * reaches dx; with beta != 0 they accumulate, dx = beta * dx + dy * f'(.), and with beta == 0 the
 * old dx is never read (it may hold anything, NaN included). No pointer is restrict: y == x and
 * dx == dy (in place) are allowed, each element being read and written by one work-item.
 */
#include "activation.h"

/* 1 when every work-item of the group lies below n in dimension 0, so none needs a bounds test.
 * The test is the same for the whole group: POCL's CPU drivers then still vectorise the kernel
 * across work-items, which a per-item `if (i < n)` around the work stops (2x slower). */
#define CLNN_ACT_GROUP_INSIDE(n) ((uint)(get_group_id(0) + 1u) * (uint)get_local_size(0) <= (n))

/* y = f(x), one element per work-item. */
__kernel void clnn_activation_forward(__global const float *x, __global float *y, uint n, float4 p)
{
    uint i = (uint)get_global_id(0);
    if (CLNN_ACT_GROUP_INSIDE(n))
        y[i] = clnn_act_forward(x[i], p);
    else if (i < n)
        y[i] = clnn_act_forward(x[i], p);
}

/* dx = [beta dx +] dy * d, beta tested once (the old dx is not read when beta == 0). */
#define CLNN_ACT_BACKWARD_BODY(D)                                                                  \
    do {                                                                                           \
        if (beta != 0.0f)                                                                          \
            dx[i] = fma(beta, dx[i], dy[i] * (D));                                                 \
        else                                                                                       \
            dx[i] = dy[i] * (D);                                                                   \
    } while (0)

/* dx = [beta dx +] dy f'(x). */
__kernel void clnn_activation_backward(__global const float *x, __global const float *dy,
                                __global float *dx, uint n, float beta, float4 p)
{
    uint i = (uint)get_global_id(0);
    if (CLNN_ACT_GROUP_INSIDE(n))
        CLNN_ACT_BACKWARD_BODY(clnn_act_grad(x[i], p));
    else if (i < n)
        CLNN_ACT_BACKWARD_BODY(clnn_act_grad(x[i], p));
}

#if CLNN_ACT_HAS_GRAD_FROM_Y
/* dx = [beta dx +] dy f'(x), f'(x) computed from the output y = f(x). */
__kernel void clnn_activation_backward_from_y(__global const float *y, __global const float *dy,
                                       __global float *dx, uint n, float beta, float4 p)
{
    uint i = (uint)get_global_id(0);
    if (CLNN_ACT_GROUP_INSIDE(n))
        CLNN_ACT_BACKWARD_BODY(clnn_act_grad_from_y(y[i], p));
    else if (i < n)
        CLNN_ACT_BACKWARD_BODY(clnn_act_grad_from_y(y[i], p));
}
#endif

/* ---- the elementwise kernels on CPUs: 16 elements per work-item ------------------------------
 * POCL vectorises the one-element kernels above across work-items, but only to 8 lanes on
 * AVX-512 machines (LLVM prefers 256-bit vectors there), while explicit float16 code gets the
 * full 512-bit registers: twice the arithmetic per instruction for the transcendental kinds,
 * which are arithmetic-bound on CPUs. Work-item i < n16 handles elements 16i..16i+15; work-item
 * n16 handles the last n - 16 n16 (< 16) elements one at a time. */

__kernel void clnn_activation_forward16(__global const float *x, __global float *y, uint n,
                                        float4 p)
{
    uint i = (uint)get_global_id(0), n16 = n / 16u;
    if (i < n16) {
        clnn_prefetch_ahead(x, 16u * i, n);
        clnn_store16(clnn_act_forward16(clnn_load16(i, x), p), i, y);
    } else if (i == n16)
        for (uint k = 16u * n16; k < n; ++k)
            y[k] = clnn_act_forward(x[k], p);
}

/* dx = [beta dx +] dy * d for 16 elements at vector index i. */
static inline void clnn_act_backward_store16(__global const float *dy, __global float *dx,
                                             uint i, float beta, float16 d)
{
    float16 g = clnn_load16(i, dy) * d;
    clnn_store16(beta != 0.0f ? fma((float16)(beta), clnn_load16(i, dx), g) : g, i, dx);
}

__kernel void clnn_activation_backward16(__global const float *x, __global const float *dy,
                                         __global float *dx, uint n, float beta, float4 p)
{
    uint i = (uint)get_global_id(0), n16 = n / 16u;
    if (i < n16) {
        clnn_prefetch_ahead(x, 16u * i, n), clnn_prefetch_ahead(dy, 16u * i, n);
        clnn_act_backward_store16(dy, dx, i, beta, clnn_act_grad16(clnn_load16(i, x), p));
    } else if (i == n16) {
        for (uint k = 16u * n16; k < n; ++k) {
            float g = dy[k] * clnn_act_grad(x[k], p);
            dx[k] = beta != 0.0f ? fma(beta, dx[k], g) : g;
        }
    }
}

#if CLNN_ACT_HAS_GRAD_FROM_Y
__kernel void clnn_activation_backward_from_y16(__global const float *y,
                                                __global const float *dy, __global float *dx,
                                                uint n, float beta, float4 p)
{
    uint i = (uint)get_global_id(0), n16 = n / 16u;
    if (i < n16) {
        clnn_prefetch_ahead(y, 16u * i, n), clnn_prefetch_ahead(dy, 16u * i, n);
        clnn_act_backward_store16(dy, dx, i, beta, clnn_act_grad_from_y16(clnn_load16(i, y), p));
    } else if (i == n16) {
        for (uint k = 16u * n16; k < n; ++k) {
            float g = dy[k] * clnn_act_grad_from_y(y[k], p);
            dx[k] = beta != 0.0f ? fma(beta, dx[k], g) : g;
        }
    }
}
#endif

/* Fused bias + activation on a (rows, cols) matrix: z = x + b (b broadcast over rows), y = f(z),
 * z stored too when store_z. Work-item (j, r) handles element (r, j); the local size is (L, 1). */
__kernel void clnn_activation_bias_forward(__global const float *x, __global const float *b,
                                    __global float *z, int store_z, __global float *y, uint rows,
                                    uint cols, float4 p)
{
    uint j = (uint)get_global_id(0), r = (uint)get_global_id(1);
    (void)rows;
    uint i = r * cols + j;
    if (CLNN_ACT_GROUP_INSIDE(cols)) {
        float v = x[i] + b[j];
        if (store_z)
            z[i] = v;
        y[i] = clnn_act_forward(v, p);
    } else if (j < cols) {
        float v = x[i] + b[j];
        if (store_z)
            z[i] = v;
        y[i] = clnn_act_forward(v, p);
    }
}

/* The CPU form of clnn_activation_bias_forward: work-item (j, r) does columns 16j .. 16j + 15 of
 * row r with float16 loads (full-width vector code on POCL); the work-item j = cols / 16 of each
 * row does that row's last cols % 16 columns, if any. */
__kernel void clnn_activation_bias_forward16(__global const float *x, __global const float *b,
                                             __global float *z, int store_z, __global float *y,
                                             uint rows, uint cols, float4 p)
{
    uint j = (uint)get_global_id(0), r = (uint)get_global_id(1), n16 = cols / 16u;
    size_t o = (size_t)r * cols;
    if (j < n16) {
        clnn_prefetch_ahead(x, o + 16u * j, (size_t)rows * cols);
        float16 v = clnn_load16(j, x + o) + clnn_load16(j, b);
        if (store_z)
            clnn_store16(v, j, z + o);
        clnn_store16(clnn_act_forward16(v, p), j, y + o);
    } else if (j == n16) {
        for (uint c = 16u * n16; c < cols; ++c) {
            float v = x[o + c] + b[c];
            if (store_z)
                z[o + c] = v;
            y[o + c] = clnn_act_forward(v, p);
        }
    }
}

/* Compensated (Kahan) accumulation: *sum + *comp holds the running total to about one ulp
 * whatever the number of terms. */
static inline void clnn_act_kahan_add(float *sum, float *comp, float v)
{
    float t = v - *comp;
    float s = *sum + t;
    *comp = (s - *sum) - t;
    *sum = s;
}

/* Backward of the fused bias + activation on (rows, cols), stage 1:
 *   g = dy * f'(z), dx = [beta dx +] g, and the sum of g over rows r0 .. r0 + per - 1,
 * where z = saved (+ b when has_b), or f'(z) comes from the output y = saved when from_y.
 * Work-item (j, q) takes column j of row block q (rows q * per ..): it writes that sum to
 * out[q * cols + j] (a partial sum, added up by clnn_activation_column_sum) or, when direct (one
 * row block), db[j] = [db_beta db[j] +] sum itself. The local size is (L, 1). The barrier in the
 * row loop makes POCL run the rows outermost, so a group streams through whole row segments
 * (vectorised across work-items) instead of each work-item walking down its column. */
__kernel void clnn_activation_bias_backward(__global const float *saved, __global const float *b,
                                     int has_b, int from_y, __global const float *dy,
                                     __global float *dx, float beta, __global float *out,
                                     int direct, float db_beta, uint rows, uint cols, uint per,
                                     float4 p)
{
    uint j = (uint)get_global_id(0), q = (uint)get_global_id(1);
    int inside = CLNN_ACT_GROUP_INSIDE(cols);
    uint jc = min(j, cols - 1u);
    float bias = has_b ? b[jc] : 0.0f;
    uint r0 = q * per, r1 = min(rows, r0 + per);
    float sum = 0.0f, comp = 0.0f;
    for (uint r = r0; r < r1; ++r) {
        uint i = r * cols + j;
        if (inside || j < cols) {
            float d;
#if CLNN_ACT_HAS_GRAD_FROM_Y
            d = from_y ? clnn_act_grad_from_y(saved[i], p) : clnn_act_grad(saved[i] + bias, p);
#else
            (void)from_y;
            d = clnn_act_grad(saved[i] + bias, p);
#endif
            float g = dy[i] * d;
            clnn_act_kahan_add(&sum, &comp, g);
            dx[i] = beta != 0.0f ? fma(beta, dx[i], g) : g;
        }
        barrier(CLK_GLOBAL_MEM_FENCE);
    }
    if (j < cols) {
        if (!direct)
            out[q * cols + j] = sum;
        else
            out[j] = db_beta != 0.0f ? fma(db_beta, out[j], sum) : sum;
    }
}

/* g = dy * f'(z) for the 16 elements at offset i, for the CPU rows form below (z = saved + bias,
 * or f' from the output y = saved when from_y); writes dx = [beta dx +] g and returns g. */
static inline float16 clnn_act_bias_grad16(__global const float *saved, float16 bias,
                                           int from_y, __global const float *dy,
                                           __global float *dx, float beta, uint i, float4 p)
{
    float16 sv = clnn_load16(0, saved + i), d;
#if CLNN_ACT_HAS_GRAD_FROM_Y
    if (from_y)
        d = clnn_act_grad_from_y16(sv, p);
    else
#else
    (void)from_y;
#endif
        d = clnn_act_grad16(sv + bias, p);
    float16 g = clnn_load16(0, dy + i) * d;
    __global float *dp = dx + i;
    clnn_store16(beta != 0.0f ? fma((float16)(beta), clnn_load16(0, dp), g) : g, 0, dp);
    return g;
}

/* The same for one element. */
static inline float clnn_act_bias_grad1(__global const float *saved, float bias, int from_y,
                                        __global const float *dy, __global float *dx, float beta,
                                        uint i, float4 p)
{
    float sv = saved[i], d;
#if CLNN_ACT_HAS_GRAD_FROM_Y
    if (from_y)
        d = clnn_act_grad_from_y(sv, p);
    else
#else
    (void)from_y;
#endif
        d = clnn_act_grad(sv + bias, p);
    float g = dy[i] * d;
    dx[i] = beta != 0.0f ? fma(beta, dx[i], g) : g;
    return g;
}

/* Rows the CPU rows forms walk side by side: the row of partial sums, evicted from L1 by the
 * streams between two visits, is then read and written once per CLNN_ACT_ROWS_AT_ONCE rows
 * (measured at 4096 x 4096, bias + ReLU backward: 9.6 ms one row at a time, 8.3 ms by 4, 7.7 ms
 * by 8, 8.4 ms by 16, against 7.1 ms for the same pass without partial sums). */
#define CLNN_ACT_ROWS_AT_ONCE 8u

/* Rows [r, r + n) of the CPU rows form below (row length cols, cv = cols rounded down to 16):
 * writes their dx and adds the sum of their g to the partial sums part[0 .. cols). */
static inline void clnn_act_bias_backward_rowset(__global const float *saved,
                                                 __global const float *b, int has_b, int from_y,
                                                 __global const float *dy, __global float *dx,
                                                 float beta, __global float *part, uint r,
                                                 uint n, uint cols, uint cv, float4 p)
{
    uint base = r * cols, j = 0;
    for (; j < cv; j += 16u) {
        float16 bj = has_b ? clnn_load16(0, b + j) : (float16)(0.0f), g = (float16)(0.0f);
        for (uint k = 0; k < n; ++k)
            g += clnn_act_bias_grad16(saved, bj, from_y, dy, dx, beta, base + k * cols + j, p);
        clnn_store16(clnn_load16(0, part + j) + g, 0, part + j);
    }
    for (; j < cols; ++j) {
        float bj = has_b ? b[j] : 0.0f, g = 0.0f;
        for (uint k = 0; k < n; ++k)
            g += clnn_act_bias_grad1(saved, bj, from_y, dy, dx, beta, base + k * cols + j, p);
        part[j] += g;
    }
}

/* The same backward on CPUs: work-item q, a group of one, takes rows [q * per, (q + 1) * per),
 * walks them CLNN_ACT_ROWS_AT_ONCE at a time with float16 loads, writes dx and adds g to its own
 * row of partial sums out[q * cols + j] (written before read), which clnn_activation_column_sum
 * adds up. */
__kernel void clnn_activation_bias_backward_rows(__global const float *saved,
                                                 __global const float *b, int has_b, int from_y,
                                                 __global const float *dy, __global float *dx,
                                                 float beta, __global float *out, uint rows,
                                                 uint cols, uint per, float4 p)
{
    uint q = (uint)get_global_id(0);
    uint r = q * per, r1 = min(rows, r + per);
    uint cv = cols & ~15u;
    __global float *part = out + q * cols;
    for (uint j = 0; j < cols; ++j)
        part[j] = 0.0f;
    for (; r + CLNN_ACT_ROWS_AT_ONCE <= r1; r += CLNN_ACT_ROWS_AT_ONCE)
        clnn_act_bias_backward_rowset(saved, b, has_b, from_y, dy, dx, beta, part, r,
                                      CLNN_ACT_ROWS_AT_ONCE, cols, cv, p);
    if (r < r1)
        clnn_act_bias_backward_rowset(saved, b, has_b, from_y, dy, dx, beta, part, r, r1 - r,
                                      cols, cv, p);
}

/* out[j] = [beta out[j] +] sum over q < parts of partials[q * cols + j] (compensated); local
 * size (L, 1), the barrier keeps POCL streaming through rows as above. */
__kernel void clnn_activation_column_sum(__global const float *partials, uint parts, uint cols,
                                  __global float *out, float beta)
{
    uint j = (uint)get_global_id(0);
    uint jc = min(j, cols - 1u);
    float sum = 0.0f, comp = 0.0f;
    for (uint q = 0; q < parts; ++q) {
        clnn_act_kahan_add(&sum, &comp, partials[q * cols + jc]);
        barrier(CLK_GLOBAL_MEM_FENCE);
    }
    if (j < cols)
        out[j] = beta != 0.0f ? fma(beta, out[j], sum) : sum;
}

/* Sums the work-group's values in scratch[0 .. size) into scratch[0], pairwise (deterministic);
 * every work-item of the group must call it. */
static inline void clnn_act_group_sum(__local float *scratch, uint lid, uint size)
{
    barrier(CLK_LOCAL_MEM_FENCE);
    while (size > 1u) {
        uint upper = (size + 1u) / 2u;
        if (lid < size - upper)
            scratch[lid] += scratch[lid + upper];
        barrier(CLK_LOCAL_MEM_FENCE);
        size = upper;
    }
}

/* ---- PReLU ------------------------------------------------------------------------------------
 * x viewed as (outer, channels, inner); channel c has slope w[c] (channels = 1: one slope).
 * y = x > 0 ? x : w[c] x;  dx = dy * (x > 0 ? 1 : w[c]);  dw[c] = sum of dy * (x > 0 ? 0 : x). */

/* Work-item (j, c, o) handles inner elements 4j..4j+3 of plane (o, c). */
__kernel void clnn_prelu_forward(__global const float *x, __global const float *w,
                                 __global float *y, uint inner, uint channels)
{
    uint j = (uint)get_global_id(0), c = (uint)get_global_id(1), o = (uint)get_global_id(2);
    if (j * 4u >= inner || c >= channels)
        return;
    uint off = (o * channels + c) * inner;
    float4 v = clnn_load4(x + off, j, inner);
    clnn_store4(select(w[c] * v, v, v > 0.0f), y + off, j, inner);
}

/* The CPU form of the two PReLU forward kernels, with float16 loads (full-width vector code on
 * POCL, which vectorises the one-element kernels to 8 lanes). x is viewed as segments of len
 * elements, global size 1 being their number: with rows == 0, segment t is the plane
 * t = o * channels + c (len = inner) and has slope w[c]; with rows != 0, segment t is row t of
 * an (outer, channels) x (len = channels) and element k has slope w[k]. Work-item (j, t) does
 * elements 16j .. 16j + 15 of segment t; the work-item j = len / 16 of each segment does its last
 * len % 16 elements. */
__kernel void clnn_prelu_forward16(__global const float *x, __global const float *w,
                                   __global float *y, uint len, uint channels, int rows)
{
    uint j = (uint)get_global_id(0), t = (uint)get_global_id(1), n16 = len / 16u;
    size_t o = (size_t)t * len;
    float a = rows ? 0.0f : w[t % channels];
    if (j < n16) {
        clnn_prefetch_ahead(x, o + 16u * j, get_global_size(1) * len);
        float16 v = clnn_load16(j, x + o);
        float16 slope = rows ? clnn_load16(j, w) : (float16)(a);
        clnn_store16(select(slope * v, v, v > 0.0f), j, y + o);
    } else if (j == n16) {
        for (uint k = 16u * n16; k < len; ++k) {
            float v = x[o + k];
            y[o + k] = v > 0.0f ? v : (rows ? w[k] : a) * v;
        }
    }
}

/* The same for x of shape (rows, channels) (inner = 1, where the kernel above would give each
 * work-item one element and a tail test): work-item (c, r) handles element (r, c); the local size
 * is (L, 1), as in clnn_activation_bias_forward. */
__kernel void clnn_prelu_forward_rows(__global const float *x, __global const float *w,
                                      __global float *y, uint channels)
{
    uint c = (uint)get_global_id(0), i = (uint)get_global_id(1) * channels + c;
    if (CLNN_ACT_GROUP_INSIDE(channels)) {
        float v = x[i];
        y[i] = v > 0.0f ? v : w[c] * v;
    } else if (c < channels) {
        float v = x[i];
        y[i] = v > 0.0f ? v : w[c] * v;
    }
}

/* The PReLU backward of 8 consecutive elements at offset i with slopes a: writes dx when
 * write_dx and returns the 8 slope-gradient terms dy * (x > 0 ? 0 : x). */
static inline float8 clnn_prelu_backward8(__global const float *x, __global const float *dy,
                                          __global float *dx, uint i, float8 a, int write_dx,
                                          float beta)
{
    float8 xv = clnn_load8(0, x + i), g = clnn_load8(0, dy + i);
    int8 pos = xv > 0.0f;
    if (write_dx) {
        float8 f = select(select(a, (float8)(1.0f), pos), xv, isnan(xv));
        float8 d = g * f;
        clnn_store8(beta != 0.0f ? fma((float8)(beta), clnn_load8(0, dx + i), d) : d, 0, dx + i);
    }
    return g * select(xv, (float8)(0.0f), pos);
}

/* The same for one element. */
static inline float clnn_prelu_backward1(__global const float *x, __global const float *dy,
                                         __global float *dx, uint i, float a, int write_dx,
                                         float beta)
{
    float xv = x[i], g = dy[i];
    if (write_dx) {
        float d = g * (xv > 0.0f ? 1.0f : (isnan(xv) ? xv : a));
        dx[i] = beta != 0.0f ? fma(beta, dx[i], d) : d;
    }
    return g * (xv > 0.0f ? 0.0f : xv);
}

/* Work-group (part, c) takes the channel's elements k in [part * chunk, (part + 1) * chunk) of
 * its len = outer * inner (k = o * inner + s lies at (o * channels + c) * inner + s), writes their
 * dx when write_dx, and reduces their slope gradient: into out[c] (out = dw, with out_beta) when
 * direct, else into the partial out[c * parts + part]. scratch holds one float per work-item. */
__kernel void clnn_prelu_backward(__global const float *x, __global const float *w,
                                  __global const float *dy, __global float *dx, int write_dx,
                                  float beta, __global float *out, int direct, float out_beta,
                                  uint inner, uint channels, uint len, uint chunk,
                                  __local float *scratch)
{
    uint lid = (uint)get_local_id(0), wg = (uint)get_local_size(0);
    uint part = (uint)get_group_id(0), parts = (uint)get_num_groups(0);
    uint c = (uint)get_global_id(1);
    float a = w[c];
    uint start = part * chunk;
    uint end = len - start < chunk ? len : start + chunk;
    float acc = 0.0f;
    uint k = start + lid;
    if (start < len && k < end) {
        /* (o, s) of k, advanced by wg each step without a division. */
        uint o = k / inner, s = k - o * inner;
        uint dq = wg / inner, ds = wg - dq * inner;
        for (; k < end; k += wg) {
            acc += clnn_prelu_backward1(x, dy, dx, (o * channels + c) * inner + s, a, write_dx,
                                        beta);
            s += ds;
            o += dq;
            if (s >= inner) {
                s -= inner;
                ++o;
            }
        }
    }
    scratch[lid] = acc;
    clnn_act_group_sum(scratch, lid, wg);
    if (lid == 0u) {
        if (direct)
            out[c] = out_beta != 0.0f ? fma(out_beta, out[c], scratch[0]) : scratch[0];
        else
            out[c * parts + part] = scratch[0];
    }
}

/* Elements the CPU forms sum in float8 lanes before adding the block to a compensated total. */
#define CLNN_PRELU_BLOCK 256u

/* PReLU backward on CPUs where the planes are long (inner >= 16, or one slope): work-item
 * (part, c), a group of one, walks elements [part * chunk, (part + 1) * chunk) of channel c's
 * len = outer * inner as contiguous plane segments with float8 loads, writes their dx and the
 * partial slope gradient out[c * parts + part] (added up by clnn_prelu_reduce). */
__kernel void clnn_prelu_backward_planes(__global const float *x, __global const float *w,
                                         __global const float *dy, __global float *dx,
                                         int write_dx, float beta, __global float *out,
                                         uint inner, uint channels, uint len, uint chunk)
{
    uint part = (uint)get_global_id(0), parts = (uint)get_global_size(0);
    uint c = (uint)get_global_id(1);
    float a = w[c];
    uint k = part * chunk, end = min(len, k + chunk);
    float sum = 0.0f, comp = 0.0f, block = 0.0f;
    float8 acc = (float8)(0.0f);
    uint in_block = 0;
    while (k < end) {
        uint o = k / inner, s = k - o * inner;
        uint n = min(end - k, inner - s);
        uint base = (o * channels + c) * inner + s, i = 0;
        for (; i + 8u <= n; i += 8u) {
            acc += clnn_prelu_backward8(x, dy, dx, base + i, (float8)(a), write_dx, beta);
            in_block += 8u;
            if (in_block >= CLNN_PRELU_BLOCK) {
                clnn_act_kahan_add(&sum, &comp, clnn_sum8(acc));
                acc = (float8)(0.0f);
                in_block = 0;
            }
        }
        for (; i < n; ++i)
            block += clnn_prelu_backward1(x, dy, dx, base + i, a, write_dx, beta);
        k += n;
    }
    clnn_act_kahan_add(&sum, &comp, clnn_sum8(acc));
    clnn_act_kahan_add(&sum, &comp, block);
    out[c * parts + part] = sum;
}

/* Rows [r, r + n) of the CPU rows form below (cv = channels rounded down to 8): writes their dx
 * and adds the sum of their slope-gradient terms to the partial sums part[0 .. channels). */
static inline void clnn_prelu_backward_rowset(__global const float *x, __global const float *w,
                                              __global const float *dy, __global float *dx,
                                              int write_dx, float beta, __global float *part,
                                              uint r, uint n, uint channels, uint cv)
{
    uint base = r * channels, c = 0;
    for (; c < cv; c += 8u) {
        float8 a = clnn_load8(0, w + c), t = (float8)(0.0f);
        for (uint k = 0; k < n; ++k)
            t += clnn_prelu_backward8(x, dy, dx, base + k * channels + c, a, write_dx, beta);
        clnn_store8(clnn_load8(0, part + c) + t, 0, part + c);
    }
    for (; c < channels; ++c) {
        float t = 0.0f;
        for (uint k = 0; k < n; ++k)
            t += clnn_prelu_backward1(x, dy, dx, base + k * channels + c, w[c], write_dx, beta);
        part[c] += t;
    }
}

/* PReLU backward on CPUs for x of shape (outer, channels) (inner = 1): work-item q, a group of
 * one, takes rows [q * rows, (q + 1) * rows), CLNN_ACT_ROWS_AT_ONCE at a time, writes their dx and
 * adds their slope-gradient terms to its own row of partial sums out[q * channels + c] (written
 * before read; added up by clnn_activation_column_sum). */
__kernel void clnn_prelu_backward_rows(__global const float *x, __global const float *w,
                                       __global const float *dy, __global float *dx,
                                       int write_dx, float beta, __global float *out,
                                       uint outer, uint channels, uint rows)
{
    uint q = (uint)get_global_id(0);
    uint r = q * rows, r1 = min(outer, r + rows);
    uint cv = channels & ~7u;
    __global float *part = out + q * channels;
    for (uint c = 0; c < channels; ++c)
        part[c] = 0.0f;
    for (; r + CLNN_ACT_ROWS_AT_ONCE <= r1; r += CLNN_ACT_ROWS_AT_ONCE)
        clnn_prelu_backward_rowset(x, w, dy, dx, write_dx, beta, part, r, CLNN_ACT_ROWS_AT_ONCE,
                                   channels, cv);
    if (r < r1)
        clnn_prelu_backward_rowset(x, w, dy, dx, write_dx, beta, part, r, r1 - r, channels, cv);
}

/* dw[c] = [beta dw[c] +] sum of partials[c * parts .. c * parts + parts), one work-group per c. */
__kernel void clnn_prelu_reduce(__global const float *partials, uint parts, __global float *dw,
                                float beta, __local float *scratch)
{
    uint lid = (uint)get_local_id(0), wg = (uint)get_local_size(0);
    uint c = (uint)get_group_id(0);
    float acc = 0.0f;
    for (uint q = lid; q < parts; q += wg)
        acc += partials[c * parts + q];
    scratch[lid] = acc;
    clnn_act_group_sum(scratch, lid, wg);
    if (lid == 0u)
        dw[c] = beta != 0.0f ? fma(beta, dw[c], scratch[0]) : scratch[0];
}
