/* Double-precision reference of the dense layer (tests/ref/dense_ref.c). Each function also
 * returns, per output element, the sum of the magnitudes of the terms it added up, from which
 * a test derives a rigorous float32 error bound. absum may be NULL. */
#ifndef CLNN_DENSE_REF_H
#define CLNN_DENSE_REF_H

#include <stddef.h>

/* y[i][o] = sum_k x[i][k] w[o][k] + b[o] (b may be NULL). */
void dense_ref_forward(const float *x, const float *w, const float *b, size_t batch, size_t in,
                       size_t out, double *y, double *absum);

/* dx[i][k] = beta * dx0[i][k] + sum_o dy[i][o] w[o][k] (dx0 ignored when beta == 0). */
void dense_ref_backward_data(const float *dy, const float *w, size_t batch, size_t in, size_t out,
                             double beta, const float *dx0, double *dx, double *absum);

/* dw[o][k] = beta * dw0[o][k] + sum_i dy[i][o] x[i][k]. */
void dense_ref_backward_weight(const float *dy, const float *x, size_t batch, size_t in,
                               size_t out, double beta, const float *dw0, double *dw,
                               double *absum);

/* db[o] = beta * db0[o] + sum_i dy[i][o]. */
void dense_ref_backward_bias(const float *dy, size_t batch, size_t out, double beta,
                             const float *db0, double *db, double *absum);

#endif
