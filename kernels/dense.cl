/*
 * Dense-layer kernels: the bias gradient (column sums of dy) and clnn's own GEMM kernels (the
 * small and skinny products everywhere, every product on CPU devices; src/gemm.c chooses). The
 * forward's bias is added by the activation family's bias kernels.
 */
#include "common.h"

/* db[c] = beta * db[c] + sum_r dy[r][c] over a row-major [rows, cols] dy; one work-item per
 * column, so neighbouring work-items read neighbouring addresses of each row. Four partial sums
 * shorten the dependency chain and the rounding-error growth of one long running sum. beta == 0
 * does not read db (it may hold NaN). */
__kernel void clnn_dense_column_sum(__global float *db, __global const float *dy, uint rows,
                                    uint cols, float beta)
{
    uint c = (uint)get_global_id(0);
    if (c >= cols)
        return;
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    uint r = 0;
    for (; r + 3u < rows; r += 4u) {
        s0 += dy[r * cols + c];
        s1 += dy[(r + 1u) * cols + c];
        s2 += dy[(r + 2u) * cols + c];
        s3 += dy[(r + 3u) * cols + c];
    }
    for (; r < rows; ++r)
        s0 += dy[r * cols + c];
    float sum = (s0 + s1) + (s2 + s3);
    db[c] = beta == 0.0f ? sum : beta * db[c] + sum;
}

/* ---- small or skinny GEMMs ---------------------------------------------------------------------
 * Products with a small dimension, without CLBlast's per-call padding, transposition and temporary
 * buffers: C[m][n] = alpha * sum_k A(m, k) B(k, n) + beta * C[m][n] for m < M, n < N, C row-major
 * with leading dimension ldc. beta == 0 does not read C (it may hold NaN). Each work-item computes
 * a block of C (rows from 4 * id(1), columns from id(0) times the block width); blocks that cross
 * the edge read clamped rows/columns and store only their valid part. Three layouts, each
 * vectorised along its contiguous dimension. */

/* Stores row r (< 4) of a block of width w (<= 8) starting at (m0, n0). */
static inline void gemm_store(__global float *c, uint ldc, uint M, uint N, uint m0, uint n0,
                              uint r, float8 v, float alpha, float beta)
{
    if (m0 + r >= M)
        return;
    __global float *cr = c + (m0 + r) * ldc + n0;
    if (n0 + 8u <= N) {
        v *= alpha;
        if (beta != 0.0f)
            v += beta * clnn_load8(0, cr);
        clnn_store8(v, 0, cr);
        return;
    }
    float e[8];
    vstore8(v, 0, e);
    for (uint j = 0; j < 8u && n0 + j < N; ++j)
        cr[j] = beta == 0.0f ? alpha * e[j] : alpha * e[j] + beta * cr[j];
}

/* 8 elements p[0..7], those at or past `left` replaced by p[left - 1] (left >= 1). */
static inline float8 load8_clamped(__global const float *p, uint left)
{
    if (left >= 8u)
        return clnn_load8(0, p);
    float e[8];
    for (uint j = 0; j < 8u; ++j)
        e[j] = p[min(j, left - 1u)];
    return vload8(0, e);
}

/* B(k, n) contiguous along n (b[k * ldb + n]): A not transposed (A(m, k) = a[m * lda + k]) or
 * transposed (a[k * lda + m]), given by a_m / a_k strides. A 4 x 8 block per work-item: per k,
 * 4 scalars of A times one 8-vector of B. Global dimension 1 holds m_blocks 4-row blocks for
 * each of `slices` K slices (src/gemm.c splits a product of few blocks along K): slice s sums
 * k in [s * k_slice, + k_slice) within [0, K) into C + s * c_slice. */
__kernel void clnn_gemm_small_nn(uint M, uint N, uint K, float alpha, __global const float *a,
                                 uint a_off, uint a_m, uint a_k, __global const float *b,
                                 uint b_off, uint ldb, float beta, __global float *c, uint c_off,
                                 uint ldc, uint m_blocks, uint slices, uint k_slice,
                                 uint c_slice)
{
    /* row - slice m_blocks rather than row % m_blocks: LLVM pairs a division with the remainder
     * of the same operands through a `freeze`, which Oclgrind 21.10's uninitialised-value checker
     * cannot run (it stops the process). */
    uint row = (uint)get_global_id(1), slice = row / m_blocks;
    uint n0 = (uint)get_global_id(0) * 8u, m0 = (row - slice * m_blocks) * 4u;
    if (n0 >= N || m0 >= M || slice >= slices)
        return;
    uint k_begin = min(K, slice * k_slice), k_end = min(K, k_begin + k_slice);
    a += a_off + k_begin * a_k, b += b_off + k_begin * ldb, c += c_off + slice * c_slice;
    K = k_end - k_begin;
    uint m1 = min(m0 + 1u, M - 1u), m2 = min(m0 + 2u, M - 1u), m3 = min(m0 + 3u, M - 1u);
    __global const float *a0 = a + m0 * a_m, *a1 = a + m1 * a_m, *a2 = a + m2 * a_m,
                         *a3 = a + m3 * a_m;
    __global const float *bp = b + n0;
    uint left = N - n0;
    float8 c0 = (float8)(0.0f), c1 = (float8)(0.0f), c2 = (float8)(0.0f), c3 = (float8)(0.0f);
    if (left >= 8u) {
        for (uint k = 0; k < K; ++k) {
            float8 bk = clnn_load8(0, bp + k * ldb);
            uint ia = k * a_k;
            c0 += a0[ia] * bk;
            c1 += a1[ia] * bk;
            c2 += a2[ia] * bk;
            c3 += a3[ia] * bk;
        }
    } else {
        for (uint k = 0; k < K; ++k) {
            float8 bk = load8_clamped(bp + k * ldb, left);
            uint ia = k * a_k;
            c0 += a0[ia] * bk;
            c1 += a1[ia] * bk;
            c2 += a2[ia] * bk;
            c3 += a3[ia] * bk;
        }
    }
    gemm_store(c, ldc, M, N, m0, n0, 0u, c0, alpha, beta);
    gemm_store(c, ldc, M, N, m0, n0, 1u, c1, alpha, beta);
    gemm_store(c, ldc, M, N, m0, n0, 2u, c2, alpha, beta);
    gemm_store(c, ldc, M, N, m0, n0, 3u, c3, alpha, beta);
}

/* A(m, k) = a[m * lda + k] and B(k, n) = b[n * ldb + k] (C = A B^T): dot products of rows, 16 k
 * at a time. A 4 x 4 block per work-item in 16 vector accumulators (separate variables: a private
 * array of them is spilled to memory by some compilers, POCL's among them), reduced at the end.
 * It outruns CLBlast's tuned Xgemm on a CPU at every shape, not only skinny ones. */
__kernel void clnn_gemm_small_nt(uint M, uint N, uint K, float alpha, __global const float *a,
                                 uint a_off, uint lda, __global const float *b, uint b_off,
                                 uint ldb, float beta, __global float *c, uint c_off, uint ldc)
{
    a += a_off, b += b_off, c += c_off;
    uint n0 = (uint)get_global_id(0) * 4u, m0 = (uint)get_global_id(1) * 4u;
    if (n0 >= N || m0 >= M)
        return;
    __global const float *a0 = a + m0 * lda, *a1 = a + min(m0 + 1u, M - 1u) * lda,
                         *a2 = a + min(m0 + 2u, M - 1u) * lda, *a3 = a + min(m0 + 3u, M - 1u) * lda;
    __global const float *b0 = b + n0 * ldb, *b1 = b + min(n0 + 1u, N - 1u) * ldb,
                         *b2 = b + min(n0 + 2u, N - 1u) * ldb, *b3 = b + min(n0 + 3u, N - 1u) * ldb;
    float16 s00 = 0.0f, s01 = 0.0f, s02 = 0.0f, s03 = 0.0f, s10 = 0.0f, s11 = 0.0f, s12 = 0.0f,
            s13 = 0.0f, s20 = 0.0f, s21 = 0.0f, s22 = 0.0f, s23 = 0.0f, s30 = 0.0f, s31 = 0.0f,
            s32 = 0.0f, s33 = 0.0f;
    uint k = 0;
    for (; k + 16u <= K; k += 16u) {
        float16 x0 = clnn_load16(0, a0 + k), x1 = clnn_load16(0, a1 + k), x2 = clnn_load16(0, a2 + k),
                x3 = clnn_load16(0, a3 + k);
        float16 y0 = clnn_load16(0, b0 + k), y1 = clnn_load16(0, b1 + k), y2 = clnn_load16(0, b2 + k),
                y3 = clnn_load16(0, b3 + k);
        s00 += x0 * y0, s01 += x0 * y1, s02 += x0 * y2, s03 += x0 * y3;
        s10 += x1 * y0, s11 += x1 * y1, s12 += x1 * y2, s13 += x1 * y3;
        s20 += x2 * y0, s21 += x2 * y1, s22 += x2 * y2, s23 += x2 * y3;
        s30 += x3 * y0, s31 += x3 * y1, s32 += x3 * y2, s33 += x3 * y3;
    }
    float4 r0 = (float4)(clnn_sum16(s00), clnn_sum16(s01), clnn_sum16(s02), clnn_sum16(s03));
    float4 r1 = (float4)(clnn_sum16(s10), clnn_sum16(s11), clnn_sum16(s12), clnn_sum16(s13));
    float4 r2 = (float4)(clnn_sum16(s20), clnn_sum16(s21), clnn_sum16(s22), clnn_sum16(s23));
    float4 r3 = (float4)(clnn_sum16(s30), clnn_sum16(s31), clnn_sum16(s32), clnn_sum16(s33));
    for (; k < K; ++k) {
        float4 y = (float4)(b0[k], b1[k], b2[k], b3[k]);
        r0 += a0[k] * y, r1 += a1[k] * y, r2 += a2[k] * y, r3 += a3[k] * y;
    }
    float4 rows[4] = {r0, r1, r2, r3};
    uint ncols = min(4u, N - n0);
    for (uint i = 0; i < 4u && m0 + i < M; ++i) {
        __global float *cr = c + (m0 + i) * ldc + n0;
        float e[4];
        vstore4(rows[i], 0, e);
        for (uint j = 0; j < ncols; ++j)
            cr[j] = beta == 0.0f ? alpha * e[j] : alpha * e[j] + beta * cr[j];
    }
}

/* ---- large products on CPUs ------------------------------------------------------------------
 * C = alpha sum_{k_begin <= k < k_end} A(m, k) B(k, n) + beta C with B(k, n) = b[k * ldb + n]
 * contiguous along n and A(m, k) = a[m * a_m + k * a_k] (A or A^T): the outer-product form of
 * CPU BLAS kernels; the host splits K into chunks (beta = 1 after the first) for the caches. A
 * work-item owns an 8 x 32 block of C in 16 float16 accumulators (separate variables, as in
 * clnn_gemm_small_nt); per k it loads two 16-vectors of B's row k and 8 scalars of A, and does 16
 * vector fmas. POCL compiles the float16 code to full AVX-512 registers. Rows past M read row
 * M - 1 and are not stored. The host guarantees N >= 32, so a block crossing N is shifted left to
 * end at N: it reads only columns inside B, and stores only its columns from where the block
 * before it ends. The kernel thus has one k loop and one general store (gemm_store_block), which
 * halved its compile time on POCL (the first launch of a process, 0.5 s before). */

/* Stores an 8 x 32 block b (row-major, columns n0 .. n0 + 31) into rows m0 .. and columns
 * first .. of C, within M and N; block columns from j_split on lie `skip` floats further on (the
 * next image's plane, clnn_gemm_images; 32 and 0 otherwise). */
static inline void gemm_store_block(__global float *c, uint ldc, uint M, uint N, uint m0,
                                    uint n0, uint first, const float *b, float alpha, float beta,
                                    uint j_split, uint skip)
{
    uint rows = min(8u, M - m0), j0 = first - n0, j1 = min(32u, N - n0);
    for (uint i = 0; i < rows; ++i) {
        __global float *cr = c + (m0 + i) * ldc + n0;
        for (uint j = j0; j < j1; ++j) {
            uint at = j < j_split ? j : j + skip;
            cr[at] = beta == 0.0f ? alpha * b[32u * i + j] : alpha * b[32u * i + j] + beta * cr[at];
        }
    }
}

#define GEMM_NN16_ROW(I, X0, X1)                                                                 \
    {                                                                                            \
        __global float *cr = c + (m0 + I) * ldc + n0;                                            \
        if (beta == 0.0f) {                                                                      \
            clnn_store16(alpha * X0, 0, cr), clnn_store16(alpha * X1, 0, cr + 16);               \
        } else {                                                                                 \
            clnn_store16(alpha * X0 + beta * clnn_load16(0, cr), 0, cr);                         \
            clnn_store16(alpha * X1 + beta * clnn_load16(0, cr + 16), 0, cr + 16);               \
        }                                                                                        \
    }

/* Global dimension 1 is the K slice s (src/gemm.c splits a product of few blocks along K): it
 * sums k in [k_begin + s * k_slice, + k_slice) within [k_begin, k_end) into C + s * c_slice. One
 * slice (the usual launch) is the whole range into C. img_cols >= 32 (one slice only): C's columns
 * are images' planes (clnn_gemm_images; ldc is then img_cols), so a block spans one image or
 * two. */
__kernel void clnn_gemm_nn16(uint M, uint N, uint k_begin, uint k_end, uint k_slice,
                             float alpha, __global const float *a, uint a_off, uint a_m,
                             uint a_k, __global const float *b, uint b_off, uint ldb, float beta,
                             __global float *c, uint c_off, uint ldc, uint c_slice,
                             uint tile_rows, uint img_cols, uint img_stride)
{
    uint slice = (uint)get_global_id(1);
    a += a_off, b += b_off, c += c_off + slice * c_slice;
    k_begin = min(k_end, k_begin + slice * k_slice);
    k_end = min(k_end, k_begin + k_slice);
    /* Work-item order: tiles of tile_rows rows of C (whole width) one after another; within a
     * tile, column blocks one after another and, within those, the 8-row blocks: consecutive
     * work-items share B's 32-column panel (in cache), and a tile's rows of A stay in the L2
     * cache while its column blocks pass. */
    uint id = (uint)get_global_id(0);
    uint tile_items = (tile_rows / 8u) * ((N + 31u) / 32u);
    /* Remainders as a - (a / b) b, as in clnn_gemm_small_nn (Oclgrind cannot run the `freeze`
     * that LLVM puts between a division and the remainder of the same operands). */
    uint tile = id / tile_items, r = id - tile * tile_items;
    uint rows_here = min(tile_rows, M - min(M, tile * tile_rows));
    uint row_blocks = (rows_here + 7u) / 8u;
    if (row_blocks == 0u)
        return;
    uint column_block = r / row_blocks;
    uint first = column_block * 32u, m0 = tile * tile_rows + (r - column_block * row_blocks) * 8u;
    if (first >= N || m0 >= M)
        return;
    uint n0 = min(first, N - 32u); /* N >= 32: the block lies inside B */
    __global const float *a0 = a + m0 * a_m, *a1 = a + min(m0 + 1u, M - 1u) * a_m,
                         *a2 = a + min(m0 + 2u, M - 1u) * a_m, *a3 = a + min(m0 + 3u, M - 1u) * a_m,
                         *a4 = a + min(m0 + 4u, M - 1u) * a_m, *a5 = a + min(m0 + 5u, M - 1u) * a_m,
                         *a6 = a + min(m0 + 6u, M - 1u) * a_m, *a7 = a + min(m0 + 7u, M - 1u) * a_m;
    float16 c00 = 0.0f, c01 = 0.0f, c10 = 0.0f, c11 = 0.0f, c20 = 0.0f, c21 = 0.0f, c30 = 0.0f,
            c31 = 0.0f, c40 = 0.0f, c41 = 0.0f, c50 = 0.0f, c51 = 0.0f, c60 = 0.0f, c61 = 0.0f,
            c70 = 0.0f, c71 = 0.0f;
    __global const float *bp = b + k_begin * ldb + n0;
    for (uint k = k_begin; k < k_end; ++k, bp += ldb) {
        float16 b0 = clnn_load16(0, bp), b1 = clnn_load16(0, bp + 16);
        uint ia = k * a_k;
        float x;
        x = a0[ia], c00 = fma((float16)(x), b0, c00), c01 = fma((float16)(x), b1, c01);
        x = a1[ia], c10 = fma((float16)(x), b0, c10), c11 = fma((float16)(x), b1, c11);
        x = a2[ia], c20 = fma((float16)(x), b0, c20), c21 = fma((float16)(x), b1, c21);
        x = a3[ia], c30 = fma((float16)(x), b0, c30), c31 = fma((float16)(x), b1, c31);
        x = a4[ia], c40 = fma((float16)(x), b0, c40), c41 = fma((float16)(x), b1, c41);
        x = a5[ia], c50 = fma((float16)(x), b0, c50), c51 = fma((float16)(x), b1, c51);
        x = a6[ia], c60 = fma((float16)(x), b0, c60), c61 = fma((float16)(x), b1, c61);
        x = a7[ia], c70 = fma((float16)(x), b0, c70), c71 = fma((float16)(x), b1, c71);
    }
    /* Images' planes: the block is stored from its first image's plane, its columns from the
     * next image's first one (j_split) img_stride - img_cols floats further on. */
    uint j_split = 32u, skip = 0u;
    if (img_cols != 0u) {
        uint image = n0 / img_cols;
        c += image * (img_stride - img_cols);
        j_split = (image + 1u) * img_cols - n0;
        skip = img_stride - img_cols;
    }
    if (j_split >= 32u && m0 + 8u <= M && n0 == first) {
        GEMM_NN16_ROW(0u, c00, c01) GEMM_NN16_ROW(1u, c10, c11) GEMM_NN16_ROW(2u, c20, c21)
        GEMM_NN16_ROW(3u, c30, c31) GEMM_NN16_ROW(4u, c40, c41) GEMM_NN16_ROW(5u, c50, c51)
        GEMM_NN16_ROW(6u, c60, c61) GEMM_NN16_ROW(7u, c70, c71)
        return;
    }
    float block[8 * 32];
    vstore16(c00, 0, block), vstore16(c01, 1, block), vstore16(c10, 2, block);
    vstore16(c11, 3, block), vstore16(c20, 4, block), vstore16(c21, 5, block);
    vstore16(c30, 6, block), vstore16(c31, 7, block), vstore16(c40, 8, block);
    vstore16(c41, 9, block), vstore16(c50, 10, block), vstore16(c51, 11, block);
    vstore16(c60, 12, block), vstore16(c61, 13, block), vstore16(c70, 14, block);
    vstore16(c71, 15, block);
    gemm_store_block(c, ldc, M, N, m0, n0, first, block, alpha, beta, j_split, skip);
}

/* C = alpha sum_{s < slices} P_s + beta C, the slices' partial products P_s = p[p_off + s * stride
 * ..] (M x N, contiguous) and C's element (i, j) at c_off + i c_row + j c_col (c_row = ldc,
 * c_col = 1: C itself; c_row = 1, c_col = ldc: C stored transposed): the second stage of a
 * product split along K, of clnn_conv_backward_weight_few, and of the convolutions' transposed
 * weight-gradient products. A work-item per element of C; the slices are added in order
 * (deterministic). */
__kernel void clnn_gemm_sum_slices(uint M, uint N, uint slices, __global const float *p,
                                   uint p_off, uint stride, float alpha, float beta,
                                   __global float *c, uint c_off, uint c_row, uint c_col)
{
    p += p_off;
    uint i = (uint)get_global_id(0);
    if (i >= M * N)
        return;
    float s = 0.0f;
    for (uint j = 0; j < slices; ++j)
        s += p[j * stride + i];
    uint row = i / N;
    __global float *cm = c + c_off + row * c_row + (i - row * N) * c_col;
    *cm = beta == 0.0f ? alpha * s : alpha * s + beta * *cm;
}

/* dst[c][r] = src[r][c] for a [rows, cols] src with leading dimension lds and a [cols, rows] dst
 * with leading dimension ldd: a 16 x 16 block per work-item, read by rows and written by rows of
 * the transpose (the 16 columns of the block gathered from its 16 rows). */
__kernel void clnn_transpose16(uint rows, uint cols, __global const float *src, uint src_off,
                               uint lds, __global float *dst, uint ldd)
{
    src += src_off;
    uint c0 = (uint)get_global_id(0) * 16u, r0 = (uint)get_global_id(1) * 16u;
    if (r0 >= rows || c0 >= cols)
        return;
    uint nr = min(16u, rows - r0), nc = min(16u, cols - c0);
    float t[16][16];
    for (uint i = 0; i < 16u; ++i) {
        __global const float *s = src + min(r0 + i, rows - 1u) * lds + c0;
        if (nc == 16u) {
            vstore16(clnn_load16(0, s), 0, t[i]);
        } else {
            for (uint j = 0; j < 16u; ++j)
                t[i][j] = s[min(j, nc - 1u)];
        }
    }
    for (uint j = 0; j < nc; ++j) {
        __global float *d = dst + (c0 + j) * ldd + r0;
        float16 v = (float16)(t[0][j], t[1][j], t[2][j], t[3][j], t[4][j], t[5][j], t[6][j],
                              t[7][j], t[8][j], t[9][j], t[10][j], t[11][j], t[12][j], t[13][j],
                              t[14][j], t[15][j]);
        if (nr == 16u) {
            clnn_store16(v, 0, d);
        } else {
            float e[16];
            vstore16(v, 0, e);
            for (uint i = 0; i < nr; ++i)
                d[i] = e[i];
        }
    }
}
