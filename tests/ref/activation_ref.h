/*
 * Double-precision reference of the activation family, written from PyTorch's definitions in
 * the most direct stable form (erfc for GELU's Phi, expm1, log1p, max(t,0) + log1p(e^-|t|)),
 * with the limits at +-Inf and NaN propagation that clnn documents.
 */
#ifndef CLNN_ACTIVATION_REF_H
#define CLNN_ACTIVATION_REF_H

#include <stddef.h>

#include <clnn.h>

/* f(x). */
double clnn_ref_activation_forward(const clnn_activation_desc *d, double x);
/* f'(x), with the boundary conventions of PyTorch's backward kernels. */
double clnn_ref_activation_grad(const clnn_activation_desc *d, double x);
/* f'(x) from y = f(x), for the kinds with clnn_activation_has_output_backward(). */
double clnn_ref_activation_grad_from_output(const clnn_activation_desc *d, double y);
/* 1 when f or f' is not smooth within dist of x (relu at 0, hardswish at +-3, ...): central
 * differences are not valid there. */
int clnn_ref_activation_near_kink(const clnn_activation_desc *d, double x, double dist);

/* PReLU on x viewed as (outer, channels, inner): y, and the gradients dx (may be NULL) and
 * dw[channels] = sum of dy * (x > 0 ? 0 : x), with abs_dw[c] = sum of |dy * x| over the same
 * terms (for error bounds; may be NULL). */
void clnn_ref_prelu_forward(const float *x, const float *w, size_t outer, size_t channels,
                            size_t inner, double *y);
void clnn_ref_prelu_backward(const float *x, const float *w, const float *dy, size_t outer,
                             size_t channels, size_t inner, double *dx, double *dw,
                             double *abs_dw);

#endif
