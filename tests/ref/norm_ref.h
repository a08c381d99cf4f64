/* Double-precision references for batch norm and layer norm (tests/test_norm.c). */
#ifndef CLNN_NORM_REF_H
#define CLNN_NORM_REF_H

#include <stddef.h>

/* Batch norm training forward over (N, C, S): y, batch mean, 1/sqrt(var+eps) (biased variance)
 * and the unbiased variance, per channel. gamma/beta may be NULL. */
void norm_ref_bn_train(const float *x, size_t N, size_t C, size_t S, const float *gamma,
                       const float *beta, double eps, double *y, double *mean, double *invstd,
                       double *var_unbiased);
/* Inference forward from running statistics. */
void norm_ref_bn_infer(const float *x, size_t N, size_t C, size_t S, const float *gamma,
                       const float *beta, const float *rmean, const float *rvar, double eps,
                       double *y);
/* Backward from the batch statistics recomputed in double. */
void norm_ref_bn_backward(const float *x, const float *dy, size_t N, size_t C, size_t S,
                          const float *gamma, double eps, double *dx, double *dgamma,
                          double *dbeta);
/* Layer norm over rows of D. */
void norm_ref_ln_forward(const float *x, size_t R, size_t D, const float *gamma,
                         const float *beta, double eps, double *y, double *mean, double *invstd);
void norm_ref_ln_backward(const float *x, const float *dy, size_t R, size_t D,
                          const float *gamma, double eps, double *dx, double *dgamma,
                          double *dbeta);
/* Double-input versions of the forwards, for finite differences: sum(w * y). */
double norm_ref_bn_objective(const double *x, const double *w, size_t N, size_t C, size_t S,
                             const double *gamma, const double *beta, double eps);
double norm_ref_ln_objective(const double *x, const double *w, size_t R, size_t D,
                             const double *gamma, const double *beta, double eps);

#endif
