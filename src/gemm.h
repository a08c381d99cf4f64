/*
 * clnn's internal GEMM: a row-major SGEMM through CLBlast on the context's queue, with CLBlast's
 * status codes mapped to clnn statuses, and the tuning data clnn applies to CLBlast per device
 * (src/tuning_apply.c) before the first GEMM on it.
 */
#ifndef CLNN_GEMM_H
#define CLNN_GEMM_H

#include "internal.h"

/* C[m, n] = alpha * op(A) op(B) + beta * C, row-major, op(A) [m, k], op(B) [k, n]; A is stored
 * [k, m] when trans_a, B [n, k] when trans_b. beta == 0 overwrites C without reading it. `what`
 * names the operation in error messages. Queued on ctx's queue; no event is returned. */
clnn_status clnn_gemm(clnn_context *ctx, const char *what, int trans_a, int trans_b, size_t m,
                      size_t n, size_t k, float alpha, cl_mem a, size_t lda, cl_mem b, size_t ldb,
                      float beta, cl_mem c, size_t ldc);

/* clnn_gemm on matrices that start a_off, b_off and c_off elements into their buffers (the
 * convolutions' per-image products on slices of larger tensors). Offsets, like every index, stay
 * below CLNN_MAX_ELEMENTS. clnn_gemm is this with offsets 0. */
clnn_status clnn_gemm_offset(clnn_context *ctx, const char *what, int trans_a, int trans_b,
                             size_t m, size_t n, size_t k, float alpha, cl_mem a, size_t a_off,
                             size_t lda, cl_mem b, size_t b_off, size_t ldb, float beta, cl_mem c,
                             size_t c_off, size_t ldc);

/* Whether clnn_gemm_images can run a product of n columns of images of img_cols on ctx's device:
 * clnn's own kernels on a CPU device (not CLNN_GEMM=clblast), n >= 32 and img_cols >= 32 (so that
 * a block of 32 columns spans at most two images). */
int clnn_gemm_images_ok(const clnn_context *ctx, size_t n, size_t img_cols);

/* C = alpha A B + beta C, A [m, k] (lda) and B [k, n] (ldb) row-major and not transposed, where C's
 * columns are images' planes: column j is element j - i img_cols of image i = j / img_cols, an
 * image's rows img_cols apart, images img_stride apart from c_off. The convolutions' forward
 * products written straight into NCHW (src/conv_run.c). Only where clnn_gemm_images_ok. */
clnn_status clnn_gemm_images(clnn_context *ctx, size_t m, size_t n, size_t k, float alpha,
                             cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off,
                             size_t ldb, float beta, cl_mem c, size_t c_off, size_t img_cols,
                             size_t img_stride);

/* C = alpha sum_{s < slices} P_s + beta C, P_s the m x n partial products stored contiguously
 * one after another from `p_off` floats into `partials`, C's element (i, j) at c_off + i c_row +
 * j c_col (c_row = ldc, c_col = 1 for C itself; 1 and ldc for C stored transposed); the slices
 * are added in order. The second stage of a product split along K (clnn_gemm on CPU devices)
 * and of the convolutions' weight gradients (src/conv_run.c). */
clnn_status clnn_gemm_sum_slices(clnn_context *ctx, size_t m, size_t n, size_t slices,
                                 cl_mem partials, size_t p_off, float alpha, float beta, cl_mem c,
                                 size_t c_off, size_t c_row, size_t c_col);

/* Allocates, ahead of time, what clnn_gemm needs beyond its operands for such a product (on CPU
 * devices, the buffer that large A B^T products transpose B into; kept by the context, grown to
 * the largest product prepared or run). clnn_gemm calls it itself; callers that must not
 * allocate later (the MLP's train step) call it when they are created. */
clnn_status clnn_gemm_prepare(clnn_context *ctx, int trans_a, int trans_b, size_t m, size_t n,
                              size_t k);

/* Maps a CLBlast status code (negative OpenCL codes included) to a clnn status and records
 * "<what> failed: CLBlastName (code)". Memory exhaustion gives CLNN_ERR_DEVICE_MEMORY or
 * CLNN_ERR_HOST_MEMORY; everything else CLNN_ERR_BLAS. */
clnn_status clnn_blas_error(clnn_context *ctx, int code, const char *what);

/* The symbolic name of a CLBlast status code ("CLBlastInvalidLeadDimA"). */
const char *clnn_blas_status_name(int code);

/* Applies the tuning for ctx's device once per process and device (user directory, then shipped
 * data; CLNN_TUNING=off disables it). Never fails: a file that cannot be used is skipped and
 * noted in clnn_tuning_describe(). Thread-safe. */
void clnn_tuning_ensure(clnn_context *ctx);

/* The tuning data shipped with clnn: data/tuning/<name>.txt embedded at build time. */
typedef struct clnn_shipped_tuning {
    const char *name;
    const char *text;
} clnn_shipped_tuning;
extern const clnn_shipped_tuning clnn_shipped_tunings[]; /* ends with {NULL, NULL} */

#endif /* CLNN_GEMM_H */
