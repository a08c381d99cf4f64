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
 *     float8 clnn_act_forward8(...), clnn_act_grad8(...), clnn_act_grad_from_y8(...)
 *     float16 clnn_act_forward16(...), ... the same on 16 lanes
 *     float clnn_act_forward(float x, float4 p), clnn_act_grad(...), clnn_act_grad_from_y(...)
 *                                                         one-element forms of the same
 *
 * Both forms are straight-line code (branches are select()), written once in activation_impl.h.
 * The one-element forms are the fast ones in a kernel with one element per work-item: POCL's CPU
 * drivers vectorise across work-items (16 lanes with AVX-512), which float4 code defeats, and GPUs
 * want one element per work-item too. p holds the
 * runtime parameters, packed on the host by clnn_activation_kernel_params():
 *     leaky_relu: p.s0 = negative_slope        elu, celu: p.s0 = alpha
 *     hardtanh:   p.s0 = min_val, p.s1 = max_val
 *     swish:      p.s0 = beta                  softplus:  p.s0 = beta, p.s1 = threshold,
 *                                                         p.s2 = 1 / beta
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
/* sqrt(2/pi), the tanh-GELU cubic coefficient, 1/sqrt(2*pi). */
#define CLNN_ACT_SQRT_2_OVER_PI 0.7978845608028654f
#define CLNN_ACT_GELU_CUBIC 0.044715f
#define CLNN_ACT_INV_SQRT_2PI 0.3989422804014327f
/* 2^-100, the scale of the GELU helpers (see clnn_act_exp_gauss_scaled). */
#define CLNN_ACT_2M100 7.888609052210118e-31f

/* The functions, written once in activation_impl.h for a type CLNN_ACT_T and instantiated twice:
 * for float (names as written), float4, float8 and float16 (names with 4, 8 or 16 appended; the
 * wide forms serve the CPU kernels that vectorise by hand, where POCL compiles explicit float16
 * code to full AVX-512 registers but vectorises scalar work-items only to 8 lanes). */
#define CLNN_ACT_CAT2(a, b) a##b
#define CLNN_ACT_CAT(a, b) CLNN_ACT_CAT2(a, b)

#define CLNN_ACT_T float
#define CLNN_ACT_I int
#define CLNN_ACT_N(name) name
#include "activation_impl.h"
#undef CLNN_ACT_T
#undef CLNN_ACT_I
#undef CLNN_ACT_N

#define CLNN_ACT_T float4
#define CLNN_ACT_I int4
#define CLNN_ACT_N(name) CLNN_ACT_CAT(name, 4)
#include "activation_impl.h"
#undef CLNN_ACT_T
#undef CLNN_ACT_I
#undef CLNN_ACT_N

#define CLNN_ACT_T float8
#define CLNN_ACT_I int8
#define CLNN_ACT_N(name) CLNN_ACT_CAT(name, 8)
#include "activation_impl.h"
#undef CLNN_ACT_T
#undef CLNN_ACT_I
#undef CLNN_ACT_N

#ifndef CLNN_LANEWISE_MATH
#define CLNN_ACT_T float16
#define CLNN_ACT_I int16
#define CLNN_ACT_N(name) CLNN_ACT_CAT(name, 16)
#include "activation_impl.h"
#undef CLNN_ACT_T
#undef CLNN_ACT_I
#undef CLNN_ACT_N
#else
/* The driver quirk "lanewise-math" (src/profile.c, Mesa rusticl): the 16-lane functions apply
 * the one-element ones lane by lane in a loop. Rusticl turns each lane of float16 code into
 * scalar code of its own, and its passes over the result took 9 s (sigmoid) to 28 s (GELU) per
 * kernel, against 0.4-0.9 s for the loop; the values are the one-element forms', lane for lane. */
#define CLNN_ACT_LANEWISE16(CALL)                                                                \
    {                                                                                            \
        float in[16], out[16];                                                                   \
        vstore16(x, 0, in);                                                                      \
        for (int k = 0; k < 16; ++k)                                                             \
            out[k] = CALL;                                                                       \
        return vload16(0, out);                                                                  \
    }
static inline float16 clnn_act_exp16(float16 x) CLNN_ACT_LANEWISE16(clnn_act_exp(in[k]))
static inline float16 clnn_act_forward16(float16 x, float4 p)
    CLNN_ACT_LANEWISE16(clnn_act_forward(in[k], p))
static inline float16 clnn_act_grad16(float16 x, float4 p)
    CLNN_ACT_LANEWISE16(clnn_act_grad(in[k], p))
#if CLNN_ACT_HAS_GRAD_FROM_Y
static inline float16 clnn_act_grad_from_y16(float16 x, float4 p)
    CLNN_ACT_LANEWISE16(clnn_act_grad_from_y(in[k], p))
#endif
#endif /* CLNN_LANEWISE_MATH */

#endif /* CLNN_KERNELS_ACTIVATION_H */
