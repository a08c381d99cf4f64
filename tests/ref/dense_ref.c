/* Naive double-precision dense layer, the reference of tests/test_dense.c. */
#include "dense_ref.h"

#include <math.h>

void dense_ref_forward(const float *x, const float *w, const float *b, size_t batch, size_t in,
                       size_t out, double *y, double *absum)
{
    for (size_t i = 0; i < batch; ++i)
        for (size_t o = 0; o < out; ++o) {
            double s = b ? (double)b[o] : 0.0, a = b ? fabs((double)b[o]) : 0.0;
            for (size_t k = 0; k < in; ++k) {
                double t = (double)x[i * in + k] * (double)w[o * in + k];
                s += t;
                a += fabs(t);
            }
            y[i * out + o] = s;
            if (absum)
                absum[i * out + o] = a;
        }
}

void dense_ref_backward_data(const float *dy, const float *w, size_t batch, size_t in, size_t out,
                             double beta, const float *dx0, double *dx, double *absum)
{
    for (size_t i = 0; i < batch; ++i)
        for (size_t k = 0; k < in; ++k) {
            double s = beta != 0.0 ? beta * (double)dx0[i * in + k] : 0.0, a = fabs(s);
            for (size_t o = 0; o < out; ++o) {
                double t = (double)dy[i * out + o] * (double)w[o * in + k];
                s += t;
                a += fabs(t);
            }
            dx[i * in + k] = s;
            if (absum)
                absum[i * in + k] = a;
        }
}

void dense_ref_backward_weight(const float *dy, const float *x, size_t batch, size_t in,
                               size_t out, double beta, const float *dw0, double *dw,
                               double *absum)
{
    for (size_t o = 0; o < out; ++o)
        for (size_t k = 0; k < in; ++k) {
            double s = beta != 0.0 ? beta * (double)dw0[o * in + k] : 0.0, a = fabs(s);
            for (size_t i = 0; i < batch; ++i) {
                double t = (double)dy[i * out + o] * (double)x[i * in + k];
                s += t;
                a += fabs(t);
            }
            dw[o * in + k] = s;
            if (absum)
                absum[o * in + k] = a;
        }
}

void dense_ref_backward_bias(const float *dy, size_t batch, size_t out, double beta,
                             const float *db0, double *db, double *absum)
{
    for (size_t o = 0; o < out; ++o) {
        double s = beta != 0.0 ? beta * (double)db0[o] : 0.0, a = fabs(s);
        for (size_t i = 0; i < batch; ++i) {
            s += (double)dy[i * out + o];
            a += fabs((double)dy[i * out + o]);
        }
        db[o] = s;
        if (absum)
            absum[o] = a;
    }
}
