/* Double-precision reference of the activation family (see activation_ref.h). */
#include "activation_ref.h"

#include <math.h>

#define SELU_ALPHA 1.6732632423543772848170429916717
#define SELU_SCALE 1.0507009873554804934193349852946
#define SQRT_2_OVER_PI 0.79788456080286535587989211986876
#define GELU_CUBIC 0.044715
#define INV_SQRT_2PI 0.39894228040143267793994605993438

/* sigmoid(t) and 1 - sigmoid(t), each without cancellation. */
static double sigmoid_pair(double t, double *sn)
{
    double e = exp(-fabs(t));
    double r = 1.0 / (1.0 + e);
    *sn = t >= 0 ? e * r : r;
    return t >= 0 ? r : e * r;
}

/* x * s for a gate s in [0, 1]: the signed zero where s == 0 (the limit at -Inf). */
static double gate(double x, double s)
{
    return s == 0.0 ? copysign(0.0, x) : x * s;
}

static double softplus1(double t)
{
    return fmax(t, 0.0) + log1p(exp(-fabs(t)));
}

double clnn_ref_activation_forward(const clnn_activation_desc *d, double x)
{
    if (isnan(x))
        return x;
    double sn;
    switch (d->kind) {
    case CLNN_ACTIVATION_IDENTITY:
        return x;
    case CLNN_ACTIVATION_SIGMOID:
        return sigmoid_pair(x, &sn);
    case CLNN_ACTIVATION_TANH:
        return tanh(x);
    case CLNN_ACTIVATION_RELU:
        return x > 0 ? x : 0.0;
    case CLNN_ACTIVATION_RELU6:
        return x < 0 ? 0.0 : x > 6 ? 6.0 : x;
    case CLNN_ACTIVATION_HARDTANH:
        return x < d->min_val ? d->min_val : x > d->max_val ? d->max_val : x;
    case CLNN_ACTIVATION_LEAKY_RELU:
        return x > 0 ? x : x * d->negative_slope;
    case CLNN_ACTIVATION_ELU:
        return x > 0 ? x : d->alpha * expm1(x);
    case CLNN_ACTIVATION_SELU:
        return SELU_SCALE * (x > 0 ? x : SELU_ALPHA * expm1(x));
    case CLNN_ACTIVATION_CELU:
        return x > 0 ? x : d->alpha * expm1(x / d->alpha);
    case CLNN_ACTIVATION_GELU:
        return gate(x, 0.5 * erfc(-x / sqrt(2.0)));
    case CLNN_ACTIVATION_GELU_TANH: {
        /* 0.5 x (1 + tanh u) = x sigmoid(2u), which does not cancel for negative u. */
        double u = SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x);
        if (isinf(x))
            u = x;
        return gate(x, sigmoid_pair(2.0 * u, &sn));
    }
    case CLNN_ACTIVATION_SILU:
        return gate(x, sigmoid_pair(x, &sn));
    case CLNN_ACTIVATION_SWISH:
        return gate(x, sigmoid_pair(d->beta == 0 ? 0.0 : d->beta * x, &sn));
    case CLNN_ACTIVATION_SOFTPLUS: {
        double t = d->beta * x;
        return t > d->threshold ? x : softplus1(t) / d->beta;
    }
    case CLNN_ACTIVATION_MISH:
        return gate(x, tanh(softplus1(x)));
    case CLNN_ACTIVATION_HARDSIGMOID:
        return x <= -3 ? 0.0 : x >= 3 ? 1.0 : (x + 3.0) / 6.0;
    case CLNN_ACTIVATION_HARDSWISH:
        return x <= -3 ? 0.0 : x >= 3 ? x : x * (x + 3.0) / 6.0;
    case CLNN_ACTIVATION_SOFTSIGN:
        return isinf(x) ? copysign(1.0, x) : x / (1.0 + fabs(x));
    default:
        return NAN;
    }
}

double clnn_ref_activation_grad(const clnn_activation_desc *d, double x)
{
    if (isnan(x))
        return x;
    /* Every derivative has reached its limit (in float) long before 1e100; using it keeps
     * Inf * 0 out of the formulas. */
    if (isinf(x))
        x = copysign(1e100, x);
    double s, sn;
    switch (d->kind) {
    case CLNN_ACTIVATION_IDENTITY:
        return 1.0;
    case CLNN_ACTIVATION_SIGMOID:
        s = sigmoid_pair(x, &sn);
        return s * sn;
    case CLNN_ACTIVATION_TANH: {
        double e = exp(-2.0 * fabs(x));
        return 4.0 * e / ((1.0 + e) * (1.0 + e));
    }
    case CLNN_ACTIVATION_RELU:
        return x > 0 ? 1.0 : 0.0;
    case CLNN_ACTIVATION_RELU6:
        return x > 0 && x < 6 ? 1.0 : 0.0;
    case CLNN_ACTIVATION_HARDTANH:
        return x > d->min_val && x < d->max_val ? 1.0 : 0.0;
    case CLNN_ACTIVATION_LEAKY_RELU:
        return x > 0 ? 1.0 : d->negative_slope;
    case CLNN_ACTIVATION_ELU:
        return x > 0 ? 1.0 : d->alpha * exp(x);
    case CLNN_ACTIVATION_SELU:
        return SELU_SCALE * (x > 0 ? 1.0 : SELU_ALPHA * exp(x));
    case CLNN_ACTIVATION_CELU:
        return x > 0 ? 1.0 : exp(x / d->alpha);
    case CLNN_ACTIVATION_GELU:
        return 0.5 * erfc(-x / sqrt(2.0)) + x * INV_SQRT_2PI * exp(-0.5 * x * x);
    case CLNN_ACTIVATION_GELU_TANH: {
        double u = SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x);
        double du = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_CUBIC * x * x);
        s = sigmoid_pair(2.0 * u, &sn);
        return s + x * s * sn * 2.0 * du;
    }
    case CLNN_ACTIVATION_SILU:
    case CLNN_ACTIVATION_SWISH: {
        double t = d->kind == CLNN_ACTIVATION_SILU ? x : d->beta * x;
        s = sigmoid_pair(t, &sn);
        return s * (1.0 + t * sn);
    }
    case CLNN_ACTIVATION_SOFTPLUS: {
        double t = d->beta * x;
        return t > d->threshold ? 1.0 : sigmoid_pair(t, &sn);
    }
    case CLNN_ACTIVATION_MISH: {
        if (x > 40)
            return 1.0; /* x sech^2(sp) sigmoid < 1e-30 */
        double e = exp(x), n = e * (e + 2.0);
        double tsp = n / (n + 2.0);
        double sech2 = 4.0 * (n + 1.0) / ((n + 2.0) * (n + 2.0));
        return tsp + x * sech2 * sigmoid_pair(x, &sn);
    }
    case CLNN_ACTIVATION_HARDSIGMOID:
        return x > -3 && x < 3 ? 1.0 / 6.0 : 0.0;
    case CLNN_ACTIVATION_HARDSWISH:
        return x < -3 ? 0.0 : x <= 3 ? x / 3.0 + 0.5 : 1.0;
    case CLNN_ACTIVATION_SOFTSIGN:
        return 1.0 / ((1.0 + fabs(x)) * (1.0 + fabs(x)));
    default:
        return NAN;
    }
}

double clnn_ref_activation_grad_from_output(const clnn_activation_desc *d, double y)
{
    if (isnan(y))
        return y;
    switch (d->kind) {
    case CLNN_ACTIVATION_IDENTITY:
        return 1.0;
    case CLNN_ACTIVATION_SIGMOID:
        return y * (1.0 - y);
    case CLNN_ACTIVATION_TANH:
        return (1.0 - y) * (1.0 + y);
    case CLNN_ACTIVATION_RELU:
        return y > 0 ? 1.0 : 0.0;
    case CLNN_ACTIVATION_LEAKY_RELU:
        return y > 0 ? 1.0 : d->negative_slope;
    case CLNN_ACTIVATION_ELU:
        return y > 0 ? 1.0 : y + d->alpha;
    default:
        return NAN;
    }
}

static int near(double x, double point, double dist)
{
    return fabs(x - point) <= dist;
}

int clnn_ref_activation_near_kink(const clnn_activation_desc *d, double x, double dist)
{
    switch (d->kind) {
    case CLNN_ACTIVATION_RELU:
    case CLNN_ACTIVATION_LEAKY_RELU:
    case CLNN_ACTIVATION_ELU:
    case CLNN_ACTIVATION_SELU:
    case CLNN_ACTIVATION_CELU:
    case CLNN_ACTIVATION_SOFTSIGN:
        return near(x, 0, dist);
    case CLNN_ACTIVATION_RELU6:
        return near(x, 0, dist) || near(x, 6, dist);
    case CLNN_ACTIVATION_HARDTANH:
        return near(x, d->min_val, dist) || near(x, d->max_val, dist);
    case CLNN_ACTIVATION_HARDSIGMOID:
    case CLNN_ACTIVATION_HARDSWISH:
        return near(x, -3, dist) || near(x, 3, dist);
    case CLNN_ACTIVATION_SOFTPLUS:
        return near(x, d->threshold / d->beta, dist);
    default:
        return 0;
    }
}

void clnn_ref_prelu_forward(const float *x, const float *w, size_t outer, size_t channels,
                            size_t inner, double *y)
{
    for (size_t o = 0; o < outer; ++o)
        for (size_t c = 0; c < channels; ++c)
            for (size_t s = 0; s < inner; ++s) {
                size_t i = (o * channels + c) * inner + s;
                double v = x[i];
                y[i] = v > 0 ? v : (double)w[c] * v;
            }
}

void clnn_ref_prelu_backward(const float *x, const float *w, const float *dy, size_t outer,
                             size_t channels, size_t inner, double *dx, double *dw,
                             double *abs_dw)
{
    for (size_t c = 0; c < channels; ++c) {
        dw[c] = 0.0;
        if (abs_dw)
            abs_dw[c] = 0.0;
    }
    for (size_t o = 0; o < outer; ++o)
        for (size_t c = 0; c < channels; ++c)
            for (size_t s = 0; s < inner; ++s) {
                size_t i = (o * channels + c) * inner + s;
                double v = x[i], g = dy[i];
                if (dx)
                    dx[i] = g * (v > 0 ? 1.0 : isnan(v) ? v : (double)w[c]);
                double t = g * (v > 0 ? 0.0 : v);
                dw[c] += t;
                if (abs_dw)
                    abs_dw[c] += fabs(t);
            }
}
