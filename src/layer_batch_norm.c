/*
 * The batch-norm layer kind: y = f(BN(x)) per feature of 2-D activations or per channel of NCHW
 * ones, one fused pass each way (src/norm.c). Parameters gamma (1) and beta (0); state the
 * running mean (0) and variance (1), moved in training steps with the spec's momentum, as
 * PyTorch does. The batch's mean and 1/sqrt(var + eps) are kept for backward.
 */
#include "layer.h"

#include <math.h>
#include <stdlib.h>

typedef struct batch_norm_impl {
    clnn_tensor *save_mean, *save_invstd;
} batch_norm_impl;

static clnn_status batch_norm_check(clnn_context *ctx, const clnn_layer_spec *spec,
                                    const clnn_shape *in, clnn_shape *out)
{
    if (in->ndim != 1 && in->ndim != 3)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "batch norm takes (batch, features) or (batch, C, H, W) activations; "
                          "its input has %d dimensions per sample",
                          in->ndim);
    if (!(spec->momentum >= 0.0f && spec->momentum <= 1.0f))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "batch norm: momentum is %g; it must be in [0, 1]",
                          (double)spec->momentum);
    if (!(spec->eps > 0.0f) || !isfinite(spec->eps))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "batch norm: eps is %g; it must be positive and finite",
                          (double)spec->eps);
    clnn_status status = clnn_activation_desc_check(&spec->activation);
    if (status != CLNN_SUCCESS)
        return clnn_error(ctx, status, "batch norm: %s", clnn_context_last_error(NULL));
    *out = *in;
    return CLNN_SUCCESS;
}

static clnn_status batch_norm_setup(clnn_layer *layer, const clnn_layer_env *env)
{
    clnn_context *ctx = env->ctx;
    batch_norm_impl *impl = calloc(1, sizeof *impl);
    if (!impl)
        return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory creating a batch-norm layer");
    layer->impl = impl;
    size_t channels = layer->in.dims[0];
    clnn_tensor **made[] = {&layer->params[0], &layer->grads[0], &layer->params[1],
                            &layer->grads[1],  &layer->state[0], &layer->state[1],
                            &impl->save_mean,  &impl->save_invstd};
    layer->param_count = 2;
    layer->state_count = 2;
    clnn_status status = CLNN_SUCCESS;
    for (size_t i = 0; status == CLNN_SUCCESS && i < sizeof made / sizeof made[0]; ++i)
        status = clnn_tensor_create(ctx, 1, &channels, made[i]);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_fill(layer->params[0], 1.0f);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_fill(layer->params[1], 0.0f);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_fill(layer->state[0], 0.0f);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_fill(layer->state[1], 1.0f);
    if (status == CLNN_SUCCESS)
        status = clnn_buffer_zero(ctx, impl->save_mean->buffer, "batch norm's saved mean");
    if (status == CLNN_SUCCESS)
        status = clnn_buffer_zero(ctx, impl->save_invstd->buffer, "batch norm's saved invstd");
    return status;
}

static clnn_status batch_norm_forward(clnn_layer *layer, const clnn_pass *pass,
                                      const clnn_tensor *x, clnn_tensor *y)
{
    batch_norm_impl *impl = layer->impl;
    const clnn_layer_spec *s = &layer->spec;
    if (!pass->training)
        return clnn_batch_norm_activation_forward_inference(
            layer->ctx, &s->activation, x, layer->params[0], layer->params[1], layer->state[0],
            layer->state[1], s->eps, y);
    return clnn_batch_norm_activation_forward_training(
        layer->ctx, &s->activation, x, layer->params[0], layer->params[1],
        pass->update_running ? layer->state[0] : NULL,
        pass->update_running ? layer->state[1] : NULL, s->momentum, s->eps, y, impl->save_mean,
        impl->save_invstd);
}

static clnn_status batch_norm_backward(clnn_layer *layer, const clnn_pass *pass,
                                       const clnn_tensor *x, const clnn_tensor *y,
                                       clnn_tensor *dy, clnn_tensor *dx, float dx_beta)
{
    (void)pass, (void)y, (void)dx_beta; /* never asked to accumulate (accumulates_dx is 0) */
    batch_norm_impl *impl = layer->impl;
    return clnn_batch_norm_activation_backward(
        layer->ctx, &layer->spec.activation, x, dy, layer->params[0], layer->params[1],
        impl->save_mean, impl->save_invstd, dx, layer->grads[0], layer->grads[1], 0.0f);
}

static void batch_norm_destroy(clnn_layer *layer)
{
    batch_norm_impl *impl = layer->impl;
    if (impl) {
        clnn_tensor_destroy(impl->save_mean);
        clnn_tensor_destroy(impl->save_invstd);
    }
    free(impl);
    layer->impl = NULL;
}

const clnn_layer_kind clnn_layer_batch_norm = {
    .type = CLNN_LAYER_BATCH_NORM,
    .check = batch_norm_check,
    .setup = batch_norm_setup,
    .forward = batch_norm_forward,
    .backward = batch_norm_backward,
    .destroy = batch_norm_destroy,
    .accumulates_dx = 0,
};
