/*
 * Optimiser steps: one fused kernel per update rule, 4 elements per work-item. Each reads the
 * parameter, its gradient and the state it needs once and writes the parameter and state once.
 * The formulas are torch.optim's single-tensor implementations, operation for operation (the
 * comments give PyTorch's in-place calls). Per-step values (lr, bias corrections) and the options
 * (flags) are arguments: the host computes the per-step scalars in double and passes them as
 * float, so no program depends on a step. The flags are uniform across the launch, so their
 * branches cost nothing beside the memory traffic. State pointers a configuration does not use
 * are NULL and never touched.
 */
#include "common.h"

/* Flags shared with src/optim.c. */
#define CLNN_OPT_WEIGHT_DECAY 1u /* L2 decay: g += wd * p (skipped when wd == 0, as PyTorch) */
#define CLNN_OPT_MOMENTUM 2u     /* SGD and RMSprop: a momentum buffer exists */
#define CLNN_OPT_NESTEROV 4u     /* SGD */
#define CLNN_OPT_FIRST 8u        /* SGD: first step, the buffer is set to the gradient */
#define CLNN_OPT_CENTERED 16u    /* RMSprop */
#define CLNN_OPT_AMSGRAD 32u     /* Adam / AdamW */
#define CLNN_OPT_DECOUPLED 64u   /* AdamW: p *= 1 - lr * wd before the update */

/* torch.lerp(start, end, w): start + w*(end - start) for w < 0.5, else end - (end - start)*(1 - w),
 * which is exact at both ends. */
static inline float4 clnn_lerp4(float4 start, float4 end, float w)
{
    float4 diff = end - start;
    return w < 0.5f ? start + w * diff : end - diff * (1.0f - w);
}

/* torch.maximum: NaN when either operand is NaN (fmax alone would drop it). */
static inline float4 clnn_nan_max4(float4 a, float4 b)
{
    return select(fmax(a, b), a + b, isnan(a) | isnan(b));
}

/* SGD. d = g + wd*p; with momentum: b = d on the first step, else b = momentum*b +
 * (1-dampening)*d, and d = nesterov ? d + momentum*b : b; then p -= lr*d. */
__kernel void clnn_sgd_step(__global float *restrict param, __global const float *restrict grad,
                            __global float *restrict buf, uint n, float lr, float weight_decay,
                            float momentum, float one_minus_dampening, uint flags)
{
    uint i = (uint)get_global_id(0);
    if (i * 4u >= n)
        return;
    float4 p = clnn_load4(param, i, n);
    float4 d = clnn_load4(grad, i, n);
    if (flags & CLNN_OPT_WEIGHT_DECAY)
        d = d + weight_decay * p; /* grad.add(param, alpha=weight_decay) */
    if (flags & CLNN_OPT_MOMENTUM) {
        float4 b;
        if (flags & CLNN_OPT_FIRST)
            b = d; /* torch.clone(d_p) */
        else       /* buf.mul_(momentum).add_(d_p, alpha=1 - dampening) */
            b = clnn_load4(buf, i, n) * momentum + one_minus_dampening * d;
        clnn_store4(b, buf, i, n);
        d = (flags & CLNN_OPT_NESTEROV) ? d + momentum * b : b;
    }
    clnn_store4(p + -lr * d, param, i, n); /* param.add_(d_p, alpha=-lr) */
}

/* RMSprop. s = alpha*s + (1-alpha)*d^2; centered: ga = lerp(ga, d, 1-alpha) and
 * a = sqrt(s - ga^2) + eps, else a = sqrt(s) + eps; with momentum b = momentum*b + d/a and
 * p -= lr*b, else p -= lr*d/a. */
__kernel void clnn_rmsprop_step(__global float *restrict param, __global const float *restrict grad,
                                __global float *restrict square_avg,
                                __global float *restrict momentum_buf,
                                __global float *restrict grad_avg, uint n, float lr,
                                float weight_decay, float alpha, float one_minus_alpha, float eps,
                                float momentum, uint flags)
{
    uint i = (uint)get_global_id(0);
    if (i * 4u >= n)
        return;
    float4 p = clnn_load4(param, i, n);
    float4 d = clnn_load4(grad, i, n);
    if (flags & CLNN_OPT_WEIGHT_DECAY)
        d = d + weight_decay * p;
    /* square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha) */
    float4 s = clnn_load4(square_avg, i, n) * alpha + one_minus_alpha * (d * d);
    clnn_store4(s, square_avg, i, n);
    float4 avg;
    if (flags & CLNN_OPT_CENTERED) {
        float4 ga = clnn_lerp4(clnn_load4(grad_avg, i, n), d, one_minus_alpha);
        clnn_store4(ga, grad_avg, i, n);
        /* square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_().add_(eps) */
        avg = sqrt(s + -1.0f * (ga * ga)) + eps;
    } else {
        avg = sqrt(s) + eps;
    }
    if (flags & CLNN_OPT_MOMENTUM) {
        /* buf.mul_(momentum).addcdiv_(grad, avg); param.add_(buf, alpha=-lr) */
        float4 b = clnn_load4(momentum_buf, i, n) * momentum + d / avg;
        clnn_store4(b, momentum_buf, i, n);
        p = p + -lr * b;
    } else {
        p = p + -lr * (d / avg); /* param.addcdiv_(grad, avg, value=-lr) */
    }
    clnn_store4(p, param, i, n);
}

/* Adam and AdamW. AdamW first scales p by decay = 1 - lr*wd; Adam adds wd*p to the gradient.
 * m = lerp(m, d, 1-beta1); v = beta2*v + (1-beta2)*d^2; (amsgrad: vmax = max(vmax, v) replaces v
 * below); p -= step_size * m / (sqrt(v)/bc2_sqrt + eps) with step_size = lr/(1-beta1^t) and
 * bc2_sqrt = sqrt(1-beta2^t), the bias corrections computed on the host. */
__kernel void clnn_adam_step(__global float *restrict param, __global const float *restrict grad,
                             __global float *restrict exp_avg, __global float *restrict exp_avg_sq,
                             __global float *restrict max_exp_avg_sq, uint n, float decay,
                             float weight_decay, float one_minus_beta1, float beta2,
                             float one_minus_beta2, float step_size, float bc2_sqrt, float eps,
                             uint flags)
{
    uint i = (uint)get_global_id(0);
    if (i * 4u >= n)
        return;
    float4 p = clnn_load4(param, i, n);
    float4 d = clnn_load4(grad, i, n);
    if (flags & CLNN_OPT_DECOUPLED)
        p = p * decay; /* param.mul_(1 - lr * weight_decay) */
    if (flags & CLNN_OPT_WEIGHT_DECAY)
        d = d + weight_decay * p;
    float4 m = clnn_lerp4(clnn_load4(exp_avg, i, n), d, one_minus_beta1);
    /* exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2) */
    float4 v = clnn_load4(exp_avg_sq, i, n) * beta2 + one_minus_beta2 * (d * d);
    clnn_store4(m, exp_avg, i, n);
    clnn_store4(v, exp_avg_sq, i, n);
    if (flags & CLNN_OPT_AMSGRAD) {
        v = clnn_nan_max4(clnn_load4(max_exp_avg_sq, i, n), v);
        clnn_store4(v, max_exp_avg_sq, i, n);
    }
    float4 denom = sqrt(v) / bc2_sqrt + eps;
    clnn_store4(p + -step_size * (m / denom), param, i, n); /* addcdiv_(m, denom, -step_size) */
}

/* Adagrad. s += d^2; p -= clr * d / (sqrt(s) + eps), clr = lr / (1 + (t-1)*lr_decay) from the
 * host. */
__kernel void clnn_adagrad_step(__global float *restrict param, __global const float *restrict grad,
                                __global float *restrict sum, uint n, float clr, float weight_decay,
                                float eps, uint flags)
{
    uint i = (uint)get_global_id(0);
    if (i * 4u >= n)
        return;
    float4 p = clnn_load4(param, i, n);
    float4 d = clnn_load4(grad, i, n);
    if (flags & CLNN_OPT_WEIGHT_DECAY)
        d = d + weight_decay * p;
    float4 s = clnn_load4(sum, i, n) + 1.0f * (d * d); /* state_sum.addcmul_(grad, grad, value=1) */
    clnn_store4(s, sum, i, n);
    float4 std = sqrt(s) + eps;
    clnn_store4(p + -clr * (d / std), param, i, n); /* param.addcdiv_(grad, std, value=-clr) */
}
