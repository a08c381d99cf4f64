/* Double-precision references for softmax and the losses: textbook formulas in double. */
#include "loss_ref.h"

#include <math.h>

void loss_ref_softmax(const float *x, size_t N, size_t C, int log_mode, double *y)
{
    for (size_t r = 0; r < N; ++r) {
        double m = -INFINITY, s = 0;
        for (size_t j = 0; j < C; ++j)
            m = fmax(m, x[r * C + j]);
        for (size_t j = 0; j < C; ++j)
            s += exp(x[r * C + j] - m);
        for (size_t j = 0; j < C; ++j)
            y[r * C + j] = log_mode ? x[r * C + j] - m - log(s) : exp(x[r * C + j] - m) / s;
    }
}

void loss_ref_softmax_backward(const float *y, const float *dy, size_t N, size_t C, int log_mode,
                               double *dx)
{
    for (size_t r = 0; r < N; ++r) {
        double s = 0;
        for (size_t j = 0; j < C; ++j)
            s += log_mode ? dy[r * C + j] : (double)dy[r * C + j] * y[r * C + j];
        for (size_t j = 0; j < C; ++j)
            dx[r * C + j] = log_mode ? dy[r * C + j] - exp((double)y[r * C + j]) * s
                                     : y[r * C + j] * (dy[r * C + j] - s);
    }
}

double loss_ref_cross_entropy(const double *z, const int *labels, size_t N, size_t C, int mean,
                              double smoothing, int ignore_index, double *d)
{
    double total = 0;
    size_t count = 0;
    for (size_t r = 0; r < N; ++r)
        count += labels[r] != ignore_index;
    for (size_t r = 0; r < N; ++r) {
        const double *zr = z + r * C;
        if (labels[r] == ignore_index) {
            for (size_t j = 0; d && j < C; ++j)
                d[r * C + j] = 0;
            continue;
        }
        double m = -INFINITY, s = 0;
        for (size_t j = 0; j < C; ++j)
            m = fmax(m, zr[j]);
        for (size_t j = 0; j < C; ++j)
            s += exp(zr[j] - m);
        double lse = m + log(s), row = 0;
        for (size_t j = 0; j < C; ++j) {
            double q = smoothing / (double)C + ((int)j == labels[r] ? 1 - smoothing : 0);
            row -= q * (zr[j] - lse);
            if (d)
                d[r * C + j] = (exp(zr[j] - lse) - q) / (mean ? (double)count : 1.0);
        }
        total += row;
    }
    return mean ? total / (double)count : total;
}

double loss_ref_pointwise(const double *x, const float *t, size_t n, int kind, double *l, double *d)
{
    double total = 0;
    for (size_t i = 0; i < n; ++i) {
        double v, g;
        if (kind == 0) {
            v = (x[i] - t[i]) * (x[i] - t[i]);
            g = 2 * (x[i] - t[i]);
        } else {
            /* -[t log s + (1 - t) log(1 - s)] with s = sigmoid(x), written stably. */
            v = fmax(x[i], 0) - x[i] * t[i] + log1p(exp(-fabs(x[i])));
            g = 1 / (1 + exp(-x[i])) - t[i];
        }
        if (l)
            l[i] = v;
        if (d)
            d[i] = g;
        total += v;
    }
    return total;
}
