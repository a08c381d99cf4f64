/* Double-precision reference of 2-D convolution (tests/ref/conv_ref.c), PyTorch's F.conv2d on
 * NCHW tensors written as its definition. Each function also returns, per output element, the sum
 * of the magnitudes of the terms it added up (absum, may be NULL), from which a test derives a
 * rigorous float32 error bound. */
#ifndef CLNN_CONV_REF_H
#define CLNN_CONV_REF_H

#include <stddef.h>

/* x [N, C, H, W], weight [O, C / G, KH, KW], y [N, O, OH, OW]; stride, padding, dilation as
 * (height, width). */
typedef struct conv_ref_shape {
    size_t N, C, H, W, O, KH, KW;
    size_t sh, sw, ph, pw, dh, dw;
    size_t G;
} conv_ref_shape;

/* floor((in + 2 pad - dil (k - 1) - 1) / stride) + 1 (the caller makes sure it is >= 1). */
size_t conv_ref_out(size_t in, size_t k, size_t stride, size_t pad, size_t dil);
/* The output's OH and OW, and the element counts of x, weight and y. */
void conv_ref_sizes(const conv_ref_shape *s, size_t *oh, size_t *ow, size_t *x_count,
                    size_t *w_count, size_t *y_count);

/* z[n][o][oy][ox] = b[o] + sum over c in o's group, kh, kw of
 * w[o][c - g C/G][kh][kw] x[n][c][oy sh - ph + kh dh][ox sw - pw + kw dw] (zero outside x);
 * b may be NULL. The activation, if any, is the caller's. */
void conv_ref_forward(const conv_ref_shape *s, const float *x, const float *w, const float *b,
                      double *z, double *absum);

/* dx = beta dx0 + the adjoint of the forward in x applied to dy (dx0 ignored when beta == 0). */
void conv_ref_backward_data(const conv_ref_shape *s, const float *dy, const float *w, double beta,
                            const float *dx0, double *dx, double *absum);

/* dw = beta dw0 + the adjoint of the forward in w applied to dy, summed over the batch. */
void conv_ref_backward_weight(const conv_ref_shape *s, const float *dy, const float *x, double beta,
                              const float *dw0, double *dw, double *absum);

/* db[o] = beta db0[o] + sum over n, oy, ox of dy[n][o][oy][ox]. */
void conv_ref_backward_bias(const conv_ref_shape *s, const float *dy, double beta, const float *db0,
                            double *db, double *absum);

#endif
