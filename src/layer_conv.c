/*
 * The convolution layer kind: y = f(conv2d(x, W) + b) on NCHW activations, weight
 * [units, C / groups, KH, KW] from the network's init scheme (the k-th dense or convolution
 * layer draws from stream k of the network's seed; fans as PyTorch counts them, with the
 * receptive field), bias 0 when the spec asks for one. With an activation, the convolution
 * writes z (kept for backward) and f runs as a second pass. The columns of im2col come from the
 * network's shared scratch, sized when the network was made (src/layer.c).
 */
#include "layer.h"

#include <stdlib.h>

typedef struct conv_impl {
    clnn_tensor *z;       /* (batch, units, OH, OW): the pre-activation, when f is not identity */
    clnn_tensor *scratch; /* the network's, or NULL when no layer needs one */
} conv_impl;

static int has_activation(const clnn_layer *layer)
{
    return layer->spec.activation.kind != CLNN_ACTIVATION_IDENTITY;
}

static void weight_dims(const clnn_layer *layer, size_t dims[4])
{
    const clnn_conv2d_desc *c = &layer->spec.conv;
    dims[0] = layer->spec.units;
    dims[1] = layer->in.dims[0] / c->groups;
    dims[2] = c->kernel[0];
    dims[3] = c->kernel[1];
}

static clnn_status conv_check(clnn_context *ctx, const clnn_layer_spec *spec,
                                  const clnn_shape *in, clnn_shape *out)
{
    if (in->ndim != 3)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "a convolution layer takes 4-D activations (batch, channels, height, "
                          "width); its input has %d dimension(s) per sample",
                          in->ndim);
    const clnn_conv2d_desc *c = &spec->conv;
    size_t oh, ow;
    clnn_status status = clnn_conv2d_output_size(c, in->dims[1], in->dims[2], &oh, &ow);
    if (status != CLNN_SUCCESS)
        return clnn_error(ctx, status, "convolution layer: %s", clnn_context_last_error(NULL));
    if (spec->units == 0)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE, "a convolution layer has 0 output channels");
    if (in->dims[0] % c->groups != 0 || spec->units % c->groups != 0)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "a convolution of %zu input and %zu output channels in %zu groups: "
                          "groups must divide both",
                          in->dims[0], spec->units, c->groups);
    size_t per_output = in->dims[0] / c->groups;
    if (c->kernel[0] > CLNN_MAX_ELEMENTS / c->kernel[1] ||
        per_output > CLNN_MAX_ELEMENTS / (c->kernel[0] * c->kernel[1]) ||
        spec->units > CLNN_MAX_ELEMENTS / (per_output * c->kernel[0] * c->kernel[1]))
        return clnn_error(ctx, CLNN_ERR_SIZE_OVERFLOW,
                          "a convolution layer's weight holds more than %zu elements",
                          CLNN_MAX_ELEMENTS);
    if (spec->units > CLNN_MAX_ELEMENTS / oh || spec->units * oh > CLNN_MAX_ELEMENTS / ow)
        return clnn_error(ctx, CLNN_ERR_SIZE_OVERFLOW,
                          "a convolution layer's output holds more than %zu elements per sample",
                          CLNN_MAX_ELEMENTS);
    if (spec->bias != 0 && spec->bias != 1)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "a convolution layer's bias flag is %d; 0 (none) or 1", spec->bias);
    status = clnn_activation_desc_check(&spec->activation);
    if (status != CLNN_SUCCESS)
        return clnn_error(ctx, status, "convolution layer: %s", clnn_context_last_error(NULL));
    out->ndim = 3;
    out->dims[0] = spec->units;
    out->dims[1] = oh;
    out->dims[2] = ow;
    return CLNN_SUCCESS;
}

static clnn_status conv_scratch(const clnn_layer *layer, size_t batch, size_t *floats)
{
    size_t x_dims[4] = {batch, layer->in.dims[0], layer->in.dims[1], layer->in.dims[2]};
    size_t w_dims[4];
    weight_dims(layer, w_dims);
    return clnn_conv2d_workspace_size(layer->ctx, &layer->spec.conv, x_dims, w_dims, floats);
}

static clnn_status conv_setup(clnn_layer *layer, const clnn_layer_env *env)
{
    clnn_context *ctx = env->ctx;
    conv_impl *impl = calloc(1, sizeof *impl);
    if (!impl)
        return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory creating a convolution layer");
    layer->impl = impl;
    impl->scratch = env->scratch;
    size_t wdims[4];
    weight_dims(layer, wdims);
    size_t out = layer->spec.units;
    clnn_status status = clnn_tensor_create(ctx, 4, wdims, &layer->params[0]);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(ctx, 4, wdims, &layer->grads[0]);
    layer->param_count = 1;
    if (status == CLNN_SUCCESS && layer->spec.bias) {
        status = clnn_tensor_create(ctx, 1, &out, &layer->params[1]);
        if (status == CLNN_SUCCESS)
            status = clnn_tensor_create(ctx, 1, &out, &layer->grads[1]);
        layer->param_count = 2;
    }
    if (status == CLNN_SUCCESS && has_activation(layer))
        status = clnn_layer_tensor(ctx, env->max_batch, &layer->out, &impl->z);
    if (status != CLNN_SUCCESS)
        return status;
    clnn_init_params init = *env->weight_init;
    init.seed = clnn_derive_seed(env->seed, 1, env->dense_ordinal);
    status = clnn_init_weights(layer->params[0], &init);
    if (status == CLNN_SUCCESS && layer->spec.bias)
        status = clnn_tensor_fill(layer->params[1], 0.0f);
    return status;
}

static const clnn_tensor *bias_of(const clnn_layer *layer)
{
    return layer->spec.bias ? layer->params[1] : NULL;
}

static clnn_status conv_forward(clnn_layer *layer, const clnn_pass *pass,
                                    const clnn_tensor *x, clnn_tensor *y)
{
    (void)pass;
    conv_impl *impl = layer->impl;
    const clnn_conv2d_desc *c = &layer->spec.conv;
    if (!impl->z)
        return clnn_conv2d_forward(layer->ctx, c, x, layer->params[0], bias_of(layer), NULL, y,
                                   impl->scratch);
    clnn_status status = clnn_conv2d_forward(layer->ctx, c, x, layer->params[0], bias_of(layer),
                                             NULL, impl->z, impl->scratch);
    if (status == CLNN_SUCCESS)
        status = clnn_activation_forward(layer->ctx, &layer->spec.activation, impl->z, y);
    return status;
}

static clnn_status conv_backward(clnn_layer *layer, const clnn_pass *pass,
                                     const clnn_tensor *x, const clnn_tensor *y, clnn_tensor *dy,
                                     clnn_tensor *dx, float dx_beta)
{
    (void)pass, (void)y;
    conv_impl *impl = layer->impl;
    clnn_context *ctx = layer->ctx;
    const clnn_conv2d_desc *c = &layer->spec.conv;
    clnn_status status = CLNN_SUCCESS;
    if (impl->z) /* dy becomes the gradient of z, in place */
        status = clnn_activation_backward(ctx, &layer->spec.activation, impl->z, dy, 0.0f, dy);
    if (status == CLNN_SUCCESS)
        status = clnn_conv2d_backward_weight(ctx, c, dy, x, 0.0f, layer->grads[0],
                                             impl->scratch);
    if (status == CLNN_SUCCESS && layer->spec.bias)
        status = clnn_conv2d_backward_bias(ctx, dy, 0.0f, layer->grads[1]);
    if (status == CLNN_SUCCESS && dx)
        status = clnn_conv2d_backward_data(ctx, c, dy, layer->params[0], dx_beta, dx,
                                           impl->scratch);
    return status;
}

static clnn_status conv_set_batch(clnn_layer *layer, size_t batch)
{
    conv_impl *impl = layer->impl;
    return impl->z ? clnn_tensor_set_rows(impl->z, batch) : CLNN_SUCCESS;
}

static void conv_destroy(clnn_layer *layer)
{
    conv_impl *impl = layer->impl;
    if (impl)
        clnn_tensor_destroy(impl->z);
    free(impl);
    layer->impl = NULL;
}

const clnn_layer_kind clnn_layer_conv2d = {
    .type = CLNN_LAYER_CONV2D,
    .check = conv_check,
    .setup = conv_setup,
    .forward = conv_forward,
    .backward = conv_backward,
    .set_batch = conv_set_batch,
    .destroy = conv_destroy,
    .scratch_floats = conv_scratch,
    .accumulates_dx = 1,
};
