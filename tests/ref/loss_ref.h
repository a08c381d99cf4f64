/* Double-precision references for softmax and the losses (tests/test_loss.c). */
#ifndef CLNN_LOSS_REF_H
#define CLNN_LOSS_REF_H

#include <stddef.h>

void loss_ref_softmax(const float *x, size_t N, size_t C, int log_mode, double *y);
void loss_ref_softmax_backward(const float *y, const float *dy, size_t N, size_t C, int log_mode,
                               double *dx);
/* Cross-entropy (mean when mean != 0): returns the loss, writes the gradient into d (or not when
 * NULL). Labels out of range are the caller's business. */
double loss_ref_cross_entropy(const double *z, const int *labels, size_t N, size_t C, int mean,
                              double smoothing, int ignore_index, double *d);
/* MSE (kind 0) or BCE with logits (kind 1): per-element losses into l (or NULL), gradients of the
 * sum into d (or NULL); returns the sum. */
double loss_ref_pointwise(const double *x, const float *t, size_t n, int kind, double *l, double *d);

#endif
