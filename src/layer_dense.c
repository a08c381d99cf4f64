/*
 * The dense layer kind: y = f(x W^T + b) on 2-D activations, weight [units, in] from the
 * network's init scheme (the k-th dense layer draws from stream k of the network's seed), bias 0.
 * With an activation, the product goes to z (kept for backward) and one fused pass adds the bias
 * and applies f; without one, the product writes y with the bias added.
 */
#include "gemm.h"
#include "layer.h"

#include <stdlib.h>

typedef struct dense_impl {
    clnn_tensor *z; /* (batch, units): the pre-activation, when f is not the identity */
} dense_impl;

static int has_activation(const clnn_layer *layer)
{
    return layer->spec.activation.kind != CLNN_ACTIVATION_IDENTITY;
}

static clnn_status dense_check(clnn_context *ctx, const clnn_layer_spec *spec,
                               const clnn_shape *in, clnn_shape *out)
{
    if (in->ndim != 1)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "a dense layer takes 2-D activations (batch, features); its input has "
                          "%d dimensions per sample (add a flatten layer first)",
                          in->ndim);
    if (spec->units == 0)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE, "a dense layer has 0 units");
    if (spec->units > CLNN_MAX_ELEMENTS || in->dims[0] > CLNN_MAX_ELEMENTS / spec->units)
        return clnn_error(ctx, CLNN_ERR_SIZE_OVERFLOW,
                          "a dense layer of %zu units on %zu features holds more than %zu weights",
                          spec->units, in->dims[0], CLNN_MAX_ELEMENTS);
    clnn_status status = clnn_activation_desc_check(&spec->activation);
    if (status != CLNN_SUCCESS)
        return clnn_error(ctx, status, "dense layer: %s", clnn_context_last_error(NULL));
    out->ndim = 1;
    out->dims[0] = spec->units;
    return CLNN_SUCCESS;
}

static clnn_status dense_setup(clnn_layer *layer, const clnn_layer_env *env)
{
    clnn_context *ctx = env->ctx;
    dense_impl *impl = calloc(1, sizeof *impl);
    if (!impl)
        return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory creating a dense layer");
    layer->impl = impl;
    size_t in = layer->in.dims[0], out = layer->out.dims[0];
    size_t wdims[2] = {out, in};
    clnn_status status = clnn_tensor_create(ctx, 2, wdims, &layer->params[0]);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(ctx, 2, wdims, &layer->grads[0]);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(ctx, 1, &out, &layer->params[1]);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(ctx, 1, &out, &layer->grads[1]);
    layer->param_count = 2;
    if (status == CLNN_SUCCESS && has_activation(layer))
        status = clnn_layer_tensor(ctx, env->max_batch, &layer->out, &impl->z);
    /* What the forward product needs beyond its tensors, allocated now rather than in the
     * first training step. */
    if (status == CLNN_SUCCESS)
        status = clnn_gemm_prepare(ctx, 0, 1, env->max_batch, out, in);
    if (status != CLNN_SUCCESS)
        return status;
    clnn_init_params init = *env->weight_init;
    init.seed = clnn_derive_seed(env->seed, 1, env->dense_ordinal);
    status = clnn_init_weights(layer->params[0], &init);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_fill(layer->params[1], 0.0f);
    return status;
}

static clnn_status dense_forward(clnn_layer *layer, const clnn_pass *pass, const clnn_tensor *x,
                                 clnn_tensor *y)
{
    (void)pass;
    dense_impl *impl = layer->impl;
    if (!impl->z)
        return clnn_dense_forward(layer->ctx, x, layer->params[0], layer->params[1], y);
    clnn_status status = clnn_dense_forward(layer->ctx, x, layer->params[0], NULL, impl->z);
    if (status == CLNN_SUCCESS)
        status = clnn_bias_activation_forward(layer->ctx, &layer->spec.activation, impl->z,
                                              layer->params[1], impl->z, y);
    return status;
}

static clnn_status dense_backward(clnn_layer *layer, const clnn_pass *pass, const clnn_tensor *x,
                                  const clnn_tensor *y, clnn_tensor *dy, clnn_tensor *dx,
                                  float dx_beta)
{
    (void)pass, (void)y;
    dense_impl *impl = layer->impl;
    clnn_context *ctx = layer->ctx;
    clnn_status status = CLNN_SUCCESS;
    if (impl->z) /* dy becomes the gradient of z, in place */
        status = clnn_activation_backward(ctx, &layer->spec.activation, impl->z, dy, 0.0f, dy);
    if (status != CLNN_SUCCESS)
        return status;
    if (dx_beta == 0.0f || !dx)
        return clnn_dense_backward(ctx, x, layer->params[0], dy, dx, layer->grads[0],
                                   layer->grads[1], 0.0f);
    status = clnn_dense_backward(ctx, x, layer->params[0], dy, NULL, layer->grads[0],
                                 layer->grads[1], 0.0f);
    if (status == CLNN_SUCCESS)
        status = clnn_dense_backward_data(ctx, dy, layer->params[0], dx_beta, dx);
    return status;
}

static clnn_status dense_set_batch(clnn_layer *layer, size_t batch)
{
    dense_impl *impl = layer->impl;
    return impl->z ? clnn_tensor_set_rows(impl->z, batch) : CLNN_SUCCESS;
}

static void dense_destroy(clnn_layer *layer)
{
    dense_impl *impl = layer->impl;
    if (impl)
        clnn_tensor_destroy(impl->z);
    free(impl);
    layer->impl = NULL;
}

const clnn_layer_kind clnn_layer_dense = {
    .type = CLNN_LAYER_DENSE,
    .check = dense_check,
    .setup = dense_setup,
    .forward = dense_forward,
    .backward = dense_backward,
    .set_batch = dense_set_batch,
    .destroy = dense_destroy,
    .accumulates_dx = 1,
};
