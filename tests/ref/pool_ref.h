/* Double-precision references for 2-D pooling (tests/test_pool.c), written from PyTorch's CPU
 * definitions of max_pool2d (with indices), avg_pool2d (floor mode, no divisor override) and
 * adaptive_avg_pool2d to 1x1, with their backward passes as PyTorch writes them: scatters from
 * each output into its window (the library gathers instead). */
#ifndef CLNN_POOL_REF_H
#define CLNN_POOL_REF_H

#include <stddef.h>
#include <stdint.h>

/* An NCHW pooling's geometry; OH and OW are set by pool_ref_geom_init. */
typedef struct pool_ref_geom {
    size_t N, C, H, W;
    size_t kh, kw, sh, sw, ph, pw;
    int count_include_pad;
    size_t OH, OW;
} pool_ref_geom;

/* Fills g (count_include_pad 1) and its output size floor((H + 2p - k) / s) + 1 per axis. */
void pool_ref_geom_init(pool_ref_geom *g, size_t N, size_t C, size_t H, size_t W, size_t kh,
                        size_t kw, size_t sh, size_t sw, size_t ph, size_t pw);

/* y[N, C, OH, OW] = each window's maximum over the input elements it covers; idx (may be NULL)
 * = h * W + w of the maximum: the first of equal values in row-major scan order; a NaN always
 * wins (so the last NaN). */
void pool_ref_max_forward(const double *x, const pool_ref_geom *g, double *y, int32_t *idx);
/* dx[N, C, H, W] = the sum of dy over the outputs whose idx is the element. */
void pool_ref_max_backward(const double *dy, const int32_t *idx, const pool_ref_geom *g,
                           double *dx);
/* y = the window's sum over PyTorch's divisor (see pool_ref_avg_divisor). */
void pool_ref_avg_forward(const double *x, const pool_ref_geom *g, double *y);
/* dx = the sum over the covering outputs of dy / divisor. */
void pool_ref_avg_backward(const double *dy, const pool_ref_geom *g, double *dx);
/* avg_pool2d's divide_factor of output (oh, ow). */
double pool_ref_avg_divisor(const pool_ref_geom *g, size_t oh, size_t ow);

/* Global average pooling: y[p] = the mean of plane p of HW values; dx = dy[p] / HW. */
void pool_ref_gap_forward(const double *x, size_t planes, size_t HW, double *y);
void pool_ref_gap_backward(const double *dy, size_t planes, size_t HW, double *dx);

#endif
