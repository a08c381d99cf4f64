/*
 * Activation functions as device functions, shared by kernels/activation.cl and by every kernel
 * that fuses an activation (batch norm + activation, dense layers).
 *
 * Use: build the program with -DCLNN_ACTIVATION=<value of the host enum clnn_activation> (the
 * CLNN_ACT_* numbers below equal it; clnn_activation_build_options() writes the option) and
 *
 *     #include "activation.h"
 *
 *     float4 clnn_act_forward4(float4 x, float4 p)        y = f(x)
 *     float4 clnn_act_grad4(float4 x, float4 p)           f'(x)
 *     float4 clnn_act_grad_from_y4(float4 y, float4 p)    f'(x) from y = f(x); defined only where
 *                                                         CLNN_ACT_HAS_GRAD_FROM_Y is 1
 *     float clnn_act_forward(float x, float4 p), clnn_act_grad(...), clnn_act_grad_from_y(...)
 *                                                         one-element forms of the same
 *
 * The float4 forms are the fast ones (explicit SIMD; branches become select()). p holds the
 * runtime parameters, packed on the host by clnn_activation_kernel_params():
 *     leaky_relu: p.s0 = negative_slope        elu, celu: p.s0 = alpha
 *     hardtanh:   p.s0 = min_val, p.s1 = max_val
 *     swish:      p.s0 = beta                  softplus:  p.s0 = beta, p.s1 = threshold
 * Every function returns NaN for a NaN input, and the limit for +-Inf (gelu(-Inf) = -0, not NaN).
 * Boundary conventions follow PyTorch's kernels: relu'(0) = 0, hardtanh'(min_val) = 0,
 * hardsigmoid'(+-3) = 0, hardswish'(-3) = -0.5 and hardswish'(3) = 1.5.
 */
#ifndef CLNN_KERNELS_ACTIVATION_H
#define CLNN_KERNELS_ACTIVATION_H

#include "common.h"

/* The kinds, numbered as the host enum clnn_activation (include/clnn/activation.h). */
#define CLNN_ACT_IDENTITY 0
#define CLNN_ACT_SIGMOID 1
#define CLNN_ACT_TANH 2
#define CLNN_ACT_RELU 3
#define CLNN_ACT_RELU6 4
#define CLNN_ACT_HARDTANH 5
#define CLNN_ACT_LEAKY_RELU 6
#define CLNN_ACT_ELU 7
#define CLNN_ACT_SELU 8
#define CLNN_ACT_CELU 9
#define CLNN_ACT_GELU 10
#define CLNN_ACT_GELU_TANH 11
#define CLNN_ACT_SILU 12
#define CLNN_ACT_SWISH 13
#define CLNN_ACT_SOFTPLUS 14
#define CLNN_ACT_MISH 15
#define CLNN_ACT_HARDSIGMOID 16
#define CLNN_ACT_HARDSWISH 17
#define CLNN_ACT_SOFTSIGN 18

/* Without -DCLNN_ACTIVATION the identity is built (a file that includes this header for another
 * reason still compiles on its own, as the strict OpenCL C check does). */
#ifndef CLNN_ACTIVATION
#define CLNN_ACTIVATION CLNN_ACT_IDENTITY
#endif
#if CLNN_ACTIVATION < 0 || CLNN_ACTIVATION > 18
#error "CLNN_ACTIVATION out of range"
#endif

#if CLNN_ACTIVATION == CLNN_ACT_IDENTITY || CLNN_ACTIVATION == CLNN_ACT_SIGMOID ||                \
    CLNN_ACTIVATION == CLNN_ACT_TANH || CLNN_ACTIVATION == CLNN_ACT_RELU ||                        \
    CLNN_ACTIVATION == CLNN_ACT_LEAKY_RELU || CLNN_ACTIVATION == CLNN_ACT_ELU
#define CLNN_ACT_HAS_GRAD_FROM_Y 1
#else
#define CLNN_ACT_HAS_GRAD_FROM_Y 0
#endif

/* SELU constants as PyTorch (Klambauer et al. 2017). */
#define CLNN_ACT_SELU_ALPHA 1.6732632423543772848170429916717f
#define CLNN_ACT_SELU_SCALE 1.0507009873554804934193349852946f
/* sqrt(2/pi), the tanh-GELU cubic coefficient, 1/sqrt(2), 1/sqrt(2*pi). */
#define CLNN_ACT_SQRT_2_OVER_PI 0.7978845608028654f
#define CLNN_ACT_GELU_CUBIC 0.044715f
#define CLNN_ACT_SQRT1_2 0.7071067811865476f
#define CLNN_ACT_INV_SQRT_2PI 0.3989422804014327f

static inline float4 clnn_act_where(int4 c, float4 a, float4 b) /* c ? a : b, lane-wise */
{
    return select(b, a, c);
}

/* sigmoid(t) and, in *sn, sigmoid(-t) = 1 - sigmoid(t), both without cancellation or overflow:
 * only exp(-|t|), which lies in [0, 1], is ever formed. sigmoid(-100) is a subnormal, not 0. */
static inline float4 clnn_act_sigmoid_pair(float4 t, float4 *sn)
{
    float4 e = exp(-fabs(t));
    float4 r = 1.0f / (1.0f + e);
    float4 er = e * r;
    int4 pos = t >= 0.0f;
    *sn = clnn_act_where(pos, er, r);
    return clnn_act_where(pos, r, er);
}

/* x * s where s in [0, 1] is a gate that saturates: exactly 0 where the gate is 0, so that
 * -Inf * 0 gives -0 (the limit) rather than NaN. */
static inline float4 clnn_act_gate(float4 x, float4 s)
{
    return clnn_act_where(s == 0.0f, copysign((float4)(0.0f), x), x * s);
}

/* tanh(softplus(x)) = n / (n + 2) with n = e^x (e^x + 2); exactly 1 in float beyond x = 20. */
static inline float4 clnn_act_tanh_softplus(float4 x, float4 *n_out)
{
    float4 e = exp(fmin(x, 20.0f));
    float4 n = e * (e + 2.0f);
    *n_out = n;
    return clnn_act_where(x > 20.0f, (float4)(1.0f), n / (n + 2.0f));
}

/* Phi(x) = 0.5 erfc(-x / sqrt 2): the complement avoids the cancellation of 1 + erf(x / sqrt 2)
 * for negative x (1 + erf loses every digit below x = -5.4 in float). */
static inline float4 clnn_act_phi(float4 x)
{
    return 0.5f * erfc(-x * CLNN_ACT_SQRT1_2);
}

/* tanh-GELU: 0.5 x (1 + tanh(u)) = x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3). */
static inline float4 clnn_act_gelu_tanh_2u(float4 x)
{
    return (2.0f * CLNN_ACT_SQRT_2_OVER_PI) * x * fma((float4)(CLNN_ACT_GELU_CUBIC), x * x, 1.0f);
}

static inline float4 clnn_act_forward_raw4(float4 x, float4 p)
{
#if CLNN_ACTIVATION == CLNN_ACT_IDENTITY
    (void)p;
    return x;
#elif CLNN_ACTIVATION == CLNN_ACT_SIGMOID
    (void)p;
    float4 sn;
    return clnn_act_sigmoid_pair(x, &sn);
#elif CLNN_ACTIVATION == CLNN_ACT_TANH
    (void)p;
    return tanh(x);
#elif CLNN_ACTIVATION == CLNN_ACT_RELU
    (void)p;
    return clnn_act_where(x < 0.0f, (float4)(0.0f), x);
#elif CLNN_ACTIVATION == CLNN_ACT_RELU6
    (void)p;
    return clnn_act_where(x < 0.0f, (float4)(0.0f), clnn_act_where(x > 6.0f, (float4)(6.0f), x));
#elif CLNN_ACTIVATION == CLNN_ACT_HARDTANH
    return clnn_act_where(x < p.s0, (float4)(p.s0), clnn_act_where(x > p.s1, (float4)(p.s1), x));
#elif CLNN_ACTIVATION == CLNN_ACT_LEAKY_RELU
    return clnn_act_where(x > 0.0f, x, x * p.s0);
#elif CLNN_ACTIVATION == CLNN_ACT_ELU
    return clnn_act_where(x > 0.0f, x, p.s0 * expm1(x));
#elif CLNN_ACTIVATION == CLNN_ACT_SELU
    (void)p;
    return CLNN_ACT_SELU_SCALE * clnn_act_where(x > 0.0f, x, CLNN_ACT_SELU_ALPHA * expm1(x));
#elif CLNN_ACTIVATION == CLNN_ACT_CELU
    return clnn_act_where(x > 0.0f, x, p.s0 * expm1(x / p.s0));
#elif CLNN_ACTIVATION == CLNN_ACT_GELU
    (void)p;
    return clnn_act_gate(x, clnn_act_phi(x));
#elif CLNN_ACTIVATION == CLNN_ACT_GELU_TANH
    (void)p;
    float4 sn;
    return clnn_act_gate(x, clnn_act_sigmoid_pair(clnn_act_gelu_tanh_2u(x), &sn));
#elif CLNN_ACTIVATION == CLNN_ACT_SILU
    (void)p;
    float4 sn;
    return clnn_act_gate(x, clnn_act_sigmoid_pair(x, &sn));
#elif CLNN_ACTIVATION == CLNN_ACT_SWISH
    float4 sn;
    return clnn_act_gate(x, clnn_act_sigmoid_pair(p.s0 * x, &sn));
#elif CLNN_ACTIVATION == CLNN_ACT_SOFTPLUS
    /* (1/beta) log(1 + e^t), t = beta x, as max(t, 0) + log1p(e^-|t|): no overflow for any t;
     * linear (x itself) where t > threshold, PyTorch's rule. */
    float4 t = p.s0 * x;
    float4 sp = (fmax(t, 0.0f) + log1p(exp(-fabs(t)))) / p.s0;
    return clnn_act_where(t > p.s1, x, sp);
#elif CLNN_ACTIVATION == CLNN_ACT_MISH
    (void)p;
    float4 n;
    return clnn_act_gate(x, clnn_act_tanh_softplus(x, &n));
#elif CLNN_ACTIVATION == CLNN_ACT_HARDSIGMOID
    (void)p;
    /* PyTorch: relu6(x + 3) / 6. */
    return clamp(x + 3.0f, 0.0f, 6.0f) / 6.0f;
#elif CLNN_ACTIVATION == CLNN_ACT_HARDSWISH
    (void)p;
    /* PyTorch: x relu6(x + 3) / 6; x itself above 3 (x * 6 / 6 would overflow near
     * FLT_MAX); 0 below -3 (where -Inf * 0 would give NaN). */
    return clnn_act_where(x > 3.0f, x,
                          clnn_act_where(x < -3.0f, (float4)(0.0f), x * (x + 3.0f) / 6.0f));
#elif CLNN_ACTIVATION == CLNN_ACT_SOFTSIGN
    (void)p;
    /* 1 + |x| never overflows short of Inf, whose limit is +-1 (Inf / Inf would be NaN). */
    return clnn_act_where(isinf(x), copysign((float4)(1.0f), x), x / (1.0f + fabs(x)));
#endif
}

static inline float4 clnn_act_grad_raw4(float4 x, float4 p)
{
#if CLNN_ACTIVATION == CLNN_ACT_IDENTITY
    (void)p, (void)x;
    return (float4)(1.0f);
#elif CLNN_ACTIVATION == CLNN_ACT_SIGMOID
    (void)p;
    float4 sn;
    float4 s = clnn_act_sigmoid_pair(x, &sn);
    return s * sn;
#elif CLNN_ACTIVATION == CLNN_ACT_TANH
    (void)p;
    /* 1 - tanh^2 = sech^2 = 4e / (1 + e)^2, e = exp(-2|x|): exact where 1 - tanh^2 cancels. */
    float4 e = exp(-2.0f * fabs(x));
    float4 d = 1.0f + e;
    return 4.0f * e / (d * d);
#elif CLNN_ACTIVATION == CLNN_ACT_RELU
    (void)p;
    return clnn_act_where(x > 0.0f, (float4)(1.0f), (float4)(0.0f));
#elif CLNN_ACTIVATION == CLNN_ACT_RELU6
    (void)p;
    return clnn_act_where((x > 0.0f) & (x < 6.0f), (float4)(1.0f), (float4)(0.0f));
#elif CLNN_ACTIVATION == CLNN_ACT_HARDTANH
    return clnn_act_where((x > p.s0) & (x < p.s1), (float4)(1.0f), (float4)(0.0f));
#elif CLNN_ACTIVATION == CLNN_ACT_LEAKY_RELU
    return clnn_act_where(x > 0.0f, (float4)(1.0f), (float4)(p.s0));
#elif CLNN_ACTIVATION == CLNN_ACT_ELU
    return clnn_act_where(x > 0.0f, (float4)(1.0f), p.s0 * exp(x));
#elif CLNN_ACTIVATION == CLNN_ACT_SELU
    (void)p;
    return CLNN_ACT_SELU_SCALE * clnn_act_where(x > 0.0f, (float4)(1.0f), CLNN_ACT_SELU_ALPHA * exp(x));
#elif CLNN_ACTIVATION == CLNN_ACT_CELU
    return clnn_act_where(x > 0.0f, (float4)(1.0f), exp(x / p.s0));
#elif CLNN_ACTIVATION == CLNN_ACT_GELU
    (void)p;
    /* Phi(x) + x phi(x). x^2 = h + l exactly (fma), so exp(-x^2/2) keeps full precision where
     * x^2 is large; beyond |x| = 1e4 the result is exactly 0 or 1 in float, and clamping there
     * keeps Inf from forming Inf * 0. */
    float4 xc = clamp(x, -1e4f, 1e4f);
    float4 h = xc * xc;
    float4 l = fma(xc, xc, -h);
    float4 pdf = CLNN_ACT_INV_SQRT_2PI * exp(-0.5f * h) * fma(-0.5f, l, 1.0f);
    return fma(xc, pdf, clnn_act_phi(xc));
#elif CLNN_ACTIVATION == CLNN_ACT_GELU_TANH
    (void)p;
    /* d/dx [x s(2u)] = s + x s (1 - s) 2u'; 2u' = 2 sqrt(2/pi) (1 + 3c x^2). Saturated (exact 0
     * or 1 in float) beyond |x| = 1e4; clamping there avoids Inf * 0. */
    float4 xc = clamp(x, -1e4f, 1e4f);
    float4 sn;
    float4 s = clnn_act_sigmoid_pair(clnn_act_gelu_tanh_2u(xc), &sn);
    float4 du = (2.0f * CLNN_ACT_SQRT_2_OVER_PI) * fma((float4)(3.0f * CLNN_ACT_GELU_CUBIC), xc * xc, 1.0f);
    return fma(xc * s, sn * du, s);
#elif CLNN_ACTIVATION == CLNN_ACT_SILU || CLNN_ACTIVATION == CLNN_ACT_SWISH
    /* d/dx [x s(t)], t = beta x: s (1 + t (1 - s)). Beyond |t| = 200 the value is exactly 0 or 1
     * in float; clamping there avoids Inf * 0. */
#if CLNN_ACTIVATION == CLNN_ACT_SILU
    (void)p;
    float4 t = clamp(x, -200.0f, 200.0f);
#else
    float4 t = clamp(p.s0 * x, -200.0f, 200.0f);
#endif
    float4 sn;
    float4 s = clnn_act_sigmoid_pair(t, &sn);
    return s * fma(t, sn, 1.0f);
#elif CLNN_ACTIVATION == CLNN_ACT_SOFTPLUS
    /* PyTorch: 1 where beta x > threshold, else sigmoid(beta x). */
    float4 t = p.s0 * x;
    float4 sn;
    float4 s = clnn_act_sigmoid_pair(t, &sn);
    return clnn_act_where(t > p.s1, (float4)(1.0f), s);
#elif CLNN_ACTIVATION == CLNN_ACT_MISH
    (void)p;
    /* d/dx [x tanh(sp(x))] = tanh(sp) + x sech^2(sp) sigmoid(x), with
     * sech^2(sp) = 1 - (n/(n+2))^2 = 4(n+1)/(n+2)^2 formed without cancellation. Beyond
     * x = 20 the value is exactly 1 in float; below -1e4 exactly 0. */
    float4 xc = fmax(x, -1e4f);
    float4 n;
    float4 tsp = clnn_act_tanh_softplus(xc, &n);
    float4 d = n + 2.0f;
    float4 sech2 = 4.0f * (n + 1.0f) / (d * d);
    float4 sn;
    float4 s = clnn_act_sigmoid_pair(xc, &sn);
    return clnn_act_where(xc > 20.0f, (float4)(1.0f), fma(xc * sech2, s, tsp));
#elif CLNN_ACTIVATION == CLNN_ACT_HARDSIGMOID
    (void)p;
    return clnn_act_where((x > -3.0f) & (x < 3.0f), (float4)(1.0f / 6.0f), (float4)(0.0f));
#elif CLNN_ACTIVATION == CLNN_ACT_HARDSWISH
    (void)p;
    /* PyTorch's boundaries: 0 below -3, x/3 + 1/2 on [-3, 3], 1 above. */
    return clnn_act_where(x < -3.0f, (float4)(0.0f),
                          clnn_act_where(x <= 3.0f, x / 3.0f + 0.5f, (float4)(1.0f)));
#elif CLNN_ACTIVATION == CLNN_ACT_SOFTSIGN
    (void)p;
    /* (1/d)^2 rather than 1/d^2: d^2 overflows for |x| > 1.8e19 while the result is still a
     * (subnormal) number. */
    float4 r = 1.0f / (1.0f + fabs(x));
    return r * r;
#endif
}

/* f(x); NaN in gives NaN out whatever the kind's formula does with it (clamp, select). */
static inline float4 clnn_act_forward4(float4 x, float4 p)
{
    return clnn_act_where(isnan(x), x, clnn_act_forward_raw4(x, p));
}

/* f'(x); NaN for a NaN x. */
static inline float4 clnn_act_grad4(float4 x, float4 p)
{
    return clnn_act_where(isnan(x), x, clnn_act_grad_raw4(x, p));
}

static inline float clnn_act_forward(float x, float4 p)
{
    return clnn_act_forward4((float4)(x), p).s0;
}

static inline float clnn_act_grad(float x, float4 p)
{
    return clnn_act_grad4((float4)(x), p).s0;
}

#if CLNN_ACT_HAS_GRAD_FROM_Y
/* f'(x) from y = f(x) (oneDNN's use_dst_for_bwd): relu, leaky_relu (negative_slope >= 0),
 * sigmoid, tanh, elu (alpha >= 0), identity. NaN for a NaN y. */
static inline float4 clnn_act_grad_from_y4(float4 y, float4 p)
{
#if CLNN_ACTIVATION == CLNN_ACT_IDENTITY
    (void)p;
    float4 d = (float4)(1.0f);
#elif CLNN_ACTIVATION == CLNN_ACT_SIGMOID
    (void)p;
    float4 d = y * (1.0f - y);
#elif CLNN_ACTIVATION == CLNN_ACT_TANH
    (void)p;
    float4 d = (1.0f - y) * (1.0f + y);
#elif CLNN_ACTIVATION == CLNN_ACT_RELU
    (void)p;
    float4 d = clnn_act_where(y > 0.0f, (float4)(1.0f), (float4)(0.0f));
#elif CLNN_ACTIVATION == CLNN_ACT_LEAKY_RELU
    float4 d = clnn_act_where(y > 0.0f, (float4)(1.0f), (float4)(p.s0));
#elif CLNN_ACTIVATION == CLNN_ACT_ELU
    /* y = alpha (e^x - 1) for x <= 0, so alpha e^x = y + alpha (PyTorch's is_result rule). */
    float4 d = clnn_act_where(y > 0.0f, (float4)(1.0f), y + p.s0);
#endif
    return clnn_act_where(isnan(y), y, d);
}

static inline float clnn_act_grad_from_y(float y, float4 p)
{
    return clnn_act_grad_from_y4((float4)(y), p).s0;
}
#endif

#endif /* CLNN_KERNELS_ACTIVATION_H */
