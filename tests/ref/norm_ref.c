/* Double-precision references for batch norm and layer norm: two-pass mean and variance, the
 * textbook formulas, no shortcuts. */
#include "norm_ref.h"

#include <math.h>
#include <stdlib.h>

#define X(n, c, s) ((n) * C * S + (c) * S + (s))

static void bn_stats(const double *x, size_t N, size_t C, size_t S, size_t c, double *mean,
                     double *var)
{
    double sum = 0, q = 0, M = (double)(N * S);
    for (size_t n = 0; n < N; ++n)
        for (size_t s = 0; s < S; ++s)
            sum += x[X(n, c, s)];
    *mean = sum / M;
    for (size_t n = 0; n < N; ++n)
        for (size_t s = 0; s < S; ++s) {
            double d = x[X(n, c, s)] - *mean;
            q += d * d;
        }
    *var = q / M;
}

static double *to_double(const float *x, size_t n)
{
    double *d = malloc(n * sizeof *d);
    for (size_t i = 0; d && i < n; ++i)
        d[i] = x[i];
    return d;
}

void norm_ref_bn_train(const float *xf, size_t N, size_t C, size_t S, const float *gamma,
                       const float *beta, double eps, double *y, double *mean, double *invstd,
                       double *var_unbiased)
{
    double *x = to_double(xf, N * C * S);
    double M = (double)(N * S);
    for (size_t c = 0; c < C; ++c) {
        double m, v;
        bn_stats(x, N, C, S, c, &m, &v);
        double is = 1.0 / sqrt(v + eps), g = gamma ? gamma[c] : 1.0, b = beta ? beta[c] : 0.0;
        mean[c] = m;
        invstd[c] = is;
        var_unbiased[c] = v * M / (M - 1);
        for (size_t n = 0; n < N; ++n)
            for (size_t s = 0; s < S; ++s)
                y[X(n, c, s)] = (x[X(n, c, s)] - m) * is * g + b;
    }
    free(x);
}

void norm_ref_bn_infer(const float *x, size_t N, size_t C, size_t S, const float *gamma,
                       const float *beta, const float *rmean, const float *rvar, double eps,
                       double *y)
{
    for (size_t c = 0; c < C; ++c) {
        double is = 1.0 / sqrt((double)rvar[c] + eps), g = gamma ? gamma[c] : 1.0,
               b = beta ? beta[c] : 0.0;
        for (size_t n = 0; n < N; ++n)
            for (size_t s = 0; s < S; ++s)
                y[X(n, c, s)] = ((double)x[X(n, c, s)] - rmean[c]) * is * g + b;
    }
}

void norm_ref_bn_backward(const float *xf, const float *dy, size_t N, size_t C, size_t S,
                          const float *gamma, double eps, double *dx, double *dgamma,
                          double *dbeta)
{
    double *x = to_double(xf, N * C * S);
    double M = (double)(N * S);
    for (size_t c = 0; c < C; ++c) {
        double m, v;
        bn_stats(x, N, C, S, c, &m, &v);
        double is = 1.0 / sqrt(v + eps), g = gamma ? gamma[c] : 1.0, sdy = 0, sdyx = 0;
        for (size_t n = 0; n < N; ++n)
            for (size_t s = 0; s < S; ++s) {
                sdy += dy[X(n, c, s)];
                sdyx += dy[X(n, c, s)] * (x[X(n, c, s)] - m) * is;
            }
        dgamma[c] = sdyx;
        dbeta[c] = sdy;
        for (size_t n = 0; n < N; ++n)
            for (size_t s = 0; s < S; ++s) {
                double xh = (x[X(n, c, s)] - m) * is;
                dx[X(n, c, s)] = g * is * (dy[X(n, c, s)] - sdy / M - xh * sdyx / M);
            }
    }
    free(x);
}

double norm_ref_bn_objective(const double *x, const double *w, size_t N, size_t C, size_t S,
                             const double *gamma, const double *beta, double eps)
{
    double total = 0;
    for (size_t c = 0; c < C; ++c) {
        double m, v;
        bn_stats(x, N, C, S, c, &m, &v);
        double is = 1.0 / sqrt(v + eps);
        for (size_t n = 0; n < N; ++n)
            for (size_t s = 0; s < S; ++s)
                total += w[X(n, c, s)] * ((x[X(n, c, s)] - m) * is * gamma[c] + beta[c]);
    }
    return total;
}

static void ln_stats(const double *x, size_t D, double *mean, double *var)
{
    double sum = 0, q = 0;
    for (size_t j = 0; j < D; ++j)
        sum += x[j];
    *mean = sum / (double)D;
    for (size_t j = 0; j < D; ++j)
        q += (x[j] - *mean) * (x[j] - *mean);
    *var = q / (double)D;
}

void norm_ref_ln_forward(const float *xf, size_t R, size_t D, const float *gamma,
                         const float *beta, double eps, double *y, double *mean, double *invstd)
{
    double *x = to_double(xf, R * D);
    for (size_t r = 0; r < R; ++r) {
        double m, v;
        ln_stats(x + r * D, D, &m, &v);
        double is = 1.0 / sqrt(v + eps);
        mean[r] = m;
        invstd[r] = is;
        for (size_t j = 0; j < D; ++j)
            y[r * D + j] = (x[r * D + j] - m) * is * (gamma ? gamma[j] : 1.0) + (beta ? beta[j] : 0.0);
    }
    free(x);
}

void norm_ref_ln_backward(const float *xf, const float *dy, size_t R, size_t D,
                          const float *gamma, double eps, double *dx, double *dgamma,
                          double *dbeta)
{
    double *x = to_double(xf, R * D);
    for (size_t j = 0; j < D; ++j)
        dgamma[j] = dbeta[j] = 0;
    for (size_t r = 0; r < R; ++r) {
        double m, v, s1 = 0, s2 = 0;
        ln_stats(x + r * D, D, &m, &v);
        double is = 1.0 / sqrt(v + eps);
        for (size_t j = 0; j < D; ++j) {
            double g = dy[r * D + j] * (gamma ? gamma[j] : 1.0), xh = (x[r * D + j] - m) * is;
            s1 += g;
            s2 += g * xh;
            dgamma[j] += dy[r * D + j] * xh;
            dbeta[j] += dy[r * D + j];
        }
        for (size_t j = 0; j < D; ++j) {
            double g = dy[r * D + j] * (gamma ? gamma[j] : 1.0), xh = (x[r * D + j] - m) * is;
            dx[r * D + j] = is * (g - s1 / (double)D - xh * s2 / (double)D);
        }
    }
    free(x);
}

double norm_ref_ln_objective(const double *x, const double *w, size_t R, size_t D,
                             const double *gamma, const double *beta, double eps)
{
    double total = 0;
    for (size_t r = 0; r < R; ++r) {
        double m, v;
        ln_stats(x + r * D, D, &m, &v);
        double is = 1.0 / sqrt(v + eps);
        for (size_t j = 0; j < D; ++j)
            total += w[r * D + j] * ((x[r * D + j] - m) * is * gamma[j] + beta[j]);
    }
    return total;
}
