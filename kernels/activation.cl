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

/* y = f(x), 4 elements per work-item. */
__kernel void clnn_activation_forward(__global const float *x, __global float *y, uint n, float4 p)
{
    uint i = (uint)get_global_id(0);
    if (i * 4u >= n)
        return;
    clnn_store4(clnn_act_forward4(clnn_load4(x, i, n), p), y, i, n);
}

/* dx = [beta dx +] dy f'(x). */
__kernel void clnn_activation_backward(__global const float *x, __global const float *dy,
                                __global float *dx, uint n, float beta, float4 p)
{
    uint i = (uint)get_global_id(0);
    if (i * 4u >= n)
        return;
    float4 g = clnn_load4(dy, i, n) * clnn_act_grad4(clnn_load4(x, i, n), p);
    if (beta != 0.0f)
        g = fma((float4)(beta), clnn_load4(dx, i, n), g);
    clnn_store4(g, dx, i, n);
}

#if CLNN_ACT_HAS_GRAD_FROM_Y
/* dx = [beta dx +] dy f'(x), f'(x) computed from the output y = f(x). */
__kernel void clnn_activation_backward_from_y(__global const float *y, __global const float *dy,
                                       __global float *dx, uint n, float beta, float4 p)
{
    uint i = (uint)get_global_id(0);
    if (i * 4u >= n)
        return;
    float4 g = clnn_load4(dy, i, n) * clnn_act_grad_from_y4(clnn_load4(y, i, n), p);
    if (beta != 0.0f)
        g = fma((float4)(beta), clnn_load4(dx, i, n), g);
    clnn_store4(g, dx, i, n);
}
#endif

/* Fused bias + activation on a (rows, cols) matrix: z = x + b (b broadcast over rows), y = f(z),
 * z stored too when store_z. Work-item (j, r) handles columns 4j..4j+3 of row r. */
__kernel void clnn_activation_bias_forward(__global const float *x, __global const float *b,
                                    __global float *z, int store_z, __global float *y, uint rows,
                                    uint cols, float4 p)
{
    uint j = (uint)get_global_id(0), r = (uint)get_global_id(1);
    if (j * 4u >= cols || r >= rows)
        return;
    uint off = r * cols;
    float4 v = clnn_load4(x + off, j, cols) + clnn_load4(b, j, cols);
    if (store_z)
        clnn_store4(v, z + off, j, cols);
    clnn_store4(clnn_act_forward4(v, p), y + off, j, cols);
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

/* Backward of the fused bias + activation on (rows, cols):
 *   g = dy * f'(z), dx = [beta dx +] g, db = [db_beta db +] sum over rows of g,
 * where z = saved (+ b when has_b), or f'(z) comes from the output y = saved when from_y.
 * Work-group (LX, LY) owns columns 4*LX*group .. and every row: work-item (lx, ly) walks rows
 * ly, ly + LY, ... of its 4 columns, then the LY partial sums are reduced in local memory, so db
 * needs no second pass and no scratch buffer. scratch holds LX * LY float4. */
__kernel void clnn_activation_bias_backward(__global const float *saved, __global const float *b,
                                     int has_b, int from_y, __global const float *dy,
                                     __global float *dx, float beta, __global float *db,
                                     float db_beta, uint rows, uint cols, float4 p,
                                     __local float4 *scratch)
{
    uint j = (uint)get_global_id(0);
    uint lx = (uint)get_local_id(0), ly = (uint)get_local_id(1);
    uint nx = (uint)get_local_size(0), ny = (uint)get_local_size(1);
    float4 acc = (float4)(0.0f);
    if (j * 4u < cols) {
        float4 bias = has_b ? clnn_load4(b, j, cols) : (float4)(0.0f);
        for (uint r = ly; r < rows; r += ny) {
            uint off = r * cols;
            float4 s = clnn_load4(saved + off, j, cols);
            float4 d;
#if CLNN_ACT_HAS_GRAD_FROM_Y
            if (from_y)
                d = clnn_act_grad_from_y4(s, p);
            else
                d = clnn_act_grad4(s + bias, p);
#else
            (void)from_y;
            d = clnn_act_grad4(s + bias, p);
#endif
            float4 g = clnn_load4(dy + off, j, cols) * d;
            acc += g;
            if (beta != 0.0f)
                g = fma((float4)(beta), clnn_load4(dx + off, j, cols), g);
            clnn_store4(g, dx + off, j, cols);
        }
    }
    /* Tree over ly for each lx, deterministic. */
    scratch[ly * nx + lx] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    uint size = ny;
    while (size > 1u) {
        uint upper = (size + 1u) / 2u;
        if (ly < size - upper)
            scratch[ly * nx + lx] += scratch[(ly + upper) * nx + lx];
        barrier(CLK_LOCAL_MEM_FENCE);
        size = upper;
    }
    if (ly == 0u && j * 4u < cols) {
        float4 sum = scratch[lx];
        if (db_beta != 0.0f)
            sum = fma((float4)(db_beta), clnn_load4(db, j, cols), sum);
        clnn_store4(sum, db, j, cols);
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
            uint idx = (o * channels + c) * inner + s;
            float xv = x[idx], g = dy[idx];
            if (write_dx) {
                float d = g * (xv > 0.0f ? 1.0f : (isnan(xv) ? xv : a));
                dx[idx] = beta != 0.0f ? fma(beta, dx[idx], d) : d;
            }
            acc += g * (xv > 0.0f ? 0.0f : xv);
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
