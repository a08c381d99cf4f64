/*
 * The activation layer kinds: a fixed activation y = f(x) of any shape, and PReLU with a
 * learnable slope (one, or one per feature of 2-D activations or per channel of NCHW ones,
 * starting at the spec's prelu_init).
 */
#include "layer.h"

#include <math.h>

static clnn_status activation_check(clnn_context *ctx, const clnn_layer_spec *spec,
                                    const clnn_shape *in, clnn_shape *out)
{
    clnn_status status = clnn_activation_desc_check(&spec->activation);
    if (status != CLNN_SUCCESS)
        return clnn_error(ctx, status, "activation layer: %s", clnn_context_last_error(NULL));
    *out = *in;
    return CLNN_SUCCESS;
}

static clnn_status activation_setup(clnn_layer *layer, const clnn_layer_env *env)
{
    (void)layer, (void)env;
    return CLNN_SUCCESS;
}

static clnn_status activation_forward(clnn_layer *layer, const clnn_pass *pass,
                                      const clnn_tensor *x, clnn_tensor *y)
{
    (void)pass;
    return clnn_activation_forward(layer->ctx, &layer->spec.activation, x, y);
}

static clnn_status activation_backward(clnn_layer *layer, const clnn_pass *pass,
                                       const clnn_tensor *x, const clnn_tensor *y,
                                       clnn_tensor *dy, clnn_tensor *dx, float dx_beta)
{
    (void)pass, (void)y;
    if (!dx)
        return CLNN_SUCCESS;
    return clnn_activation_backward(layer->ctx, &layer->spec.activation, x, dy, dx_beta, dx);
}

const clnn_layer_kind clnn_layer_activation = {
    .type = CLNN_LAYER_ACTIVATION,
    .check = activation_check,
    .setup = activation_setup,
    .forward = activation_forward,
    .backward = activation_backward,
    .accumulates_dx = 1,
};

/* ---- PReLU ----------------------------------------------------------------------------------- */

static clnn_status prelu_check(clnn_context *ctx, const clnn_layer_spec *spec,
                               const clnn_shape *in, clnn_shape *out)
{
    if (!isfinite(spec->prelu_init))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "PReLU: prelu_init is %g; it must be "
                          "finite", (double)spec->prelu_init);
    *out = *in;
    return CLNN_SUCCESS;
}

static clnn_status prelu_setup(clnn_layer *layer, const clnn_layer_env *env)
{
    size_t slopes = layer->spec.prelu_per_channel ? layer->in.dims[0] : 1;
    clnn_status status = clnn_tensor_create(env->ctx, 1, &slopes, &layer->params[0]);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(env->ctx, 1, &slopes, &layer->grads[0]);
    layer->param_count = 1;
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_fill(layer->params[0], layer->spec.prelu_init);
    return status;
}

static clnn_status prelu_forward(clnn_layer *layer, const clnn_pass *pass, const clnn_tensor *x,
                                 clnn_tensor *y)
{
    (void)pass;
    return clnn_prelu_forward(layer->ctx, x, layer->params[0], y);
}

static clnn_status prelu_backward(clnn_layer *layer, const clnn_pass *pass, const clnn_tensor *x,
                                  const clnn_tensor *y, clnn_tensor *dy, clnn_tensor *dx,
                                  float dx_beta)
{
    (void)pass, (void)y;
    return clnn_prelu_backward(layer->ctx, x, layer->params[0], dy, dx_beta, dx, 0.0f,
                               layer->grads[0]);
}

const clnn_layer_kind clnn_layer_prelu = {
    .type = CLNN_LAYER_PRELU,
    .check = prelu_check,
    .setup = prelu_setup,
    .forward = prelu_forward,
    .backward = prelu_backward,
    .accumulates_dx = 1,
};
