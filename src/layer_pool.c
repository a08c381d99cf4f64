/*
 * The pooling layer kinds on NCHW activations: max or average pooling (the max layer keeps,
 * per output, where its maximum was, for backward) and global average pooling, which turns
 * (C, H, W) into (C) so that a dense layer can follow without a flatten.
 */
#include "layer.h"

#include <stdlib.h>

typedef struct pool_impl {
    clnn_tensor *indices; /* MAX: (batch, C, OH, OW) int32, the arg-max of each window */
} pool_impl;

static clnn_status need_images(clnn_context *ctx, const char *what, const clnn_shape *in)
{
    if (in->ndim == 3)
        return CLNN_SUCCESS;
    return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                      "a %s layer takes 4-D activations (batch, channels, height, width); its "
                      "input has %d dimension(s) per sample",
                      what, in->ndim);
}

static clnn_status pool_check(clnn_context *ctx, const clnn_layer_spec *spec,
                              const clnn_shape *in, clnn_shape *out)
{
    clnn_status status = need_images(ctx, "pooling", in);
    if (status != CLNN_SUCCESS)
        return status;
    size_t oh, ow;
    status = clnn_pool2d_output_size(&spec->pool, in->dims[1], in->dims[2], &oh, &ow);
    if (status != CLNN_SUCCESS)
        return clnn_error(ctx, status, "pooling layer: %s", clnn_context_last_error(NULL));
    out->ndim = 3;
    out->dims[0] = in->dims[0];
    out->dims[1] = oh;
    out->dims[2] = ow;
    return CLNN_SUCCESS;
}

static clnn_status pool_setup(clnn_layer *layer, const clnn_layer_env *env)
{
    pool_impl *impl = calloc(1, sizeof *impl);
    if (!impl)
        return clnn_error(env->ctx, CLNN_ERR_HOST_MEMORY, "out of memory creating a pooling layer");
    layer->impl = impl;
    if (layer->spec.pool.kind != CLNN_POOL_MAX)
        return CLNN_SUCCESS;
    size_t dims[4] = {env->max_batch, layer->out.dims[0], layer->out.dims[1], layer->out.dims[2]};
    clnn_status status = clnn_tensor_create_int32(env->ctx, 4, dims, &impl->indices);
    if (status == CLNN_SUCCESS)
        status = clnn_buffer_zero(env->ctx, impl->indices->buffer, "max pooling's indices");
    return status;
}

static clnn_status pool_forward(clnn_layer *layer, const clnn_pass *pass, const clnn_tensor *x,
                                clnn_tensor *y)
{
    (void)pass;
    pool_impl *impl = layer->impl;
    return clnn_pool2d_forward(layer->ctx, &layer->spec.pool, x, y, impl->indices);
}

static clnn_status pool_backward(clnn_layer *layer, const clnn_pass *pass, const clnn_tensor *x,
                                 const clnn_tensor *y, clnn_tensor *dy, clnn_tensor *dx,
                                 float dx_beta)
{
    (void)pass, (void)x, (void)y;
    pool_impl *impl = layer->impl;
    if (!dx)
        return CLNN_SUCCESS;
    return clnn_pool2d_backward(layer->ctx, &layer->spec.pool, dy, impl->indices, dx_beta, dx);
}

static clnn_status pool_set_batch(clnn_layer *layer, size_t batch)
{
    pool_impl *impl = layer->impl;
    return impl->indices ? clnn_tensor_set_rows(impl->indices, batch) : CLNN_SUCCESS;
}

static void pool_destroy(clnn_layer *layer)
{
    pool_impl *impl = layer->impl;
    if (impl)
        clnn_tensor_destroy(impl->indices);
    free(impl);
    layer->impl = NULL;
}

const clnn_layer_kind clnn_layer_pool2d = {
    .type = CLNN_LAYER_POOL2D,
    .check = pool_check,
    .setup = pool_setup,
    .forward = pool_forward,
    .backward = pool_backward,
    .set_batch = pool_set_batch,
    .destroy = pool_destroy,
    .accumulates_dx = 1,
};

/* ---- global average pooling ------------------------------------------------------------------ */

static clnn_status gap_check(clnn_context *ctx, const clnn_layer_spec *spec, const clnn_shape *in,
                             clnn_shape *out)
{
    (void)spec;
    clnn_status status = need_images(ctx, "global average pooling", in);
    if (status != CLNN_SUCCESS)
        return status;
    out->ndim = 1;
    out->dims[0] = in->dims[0];
    return CLNN_SUCCESS;
}

static clnn_status gap_setup(clnn_layer *layer, const clnn_layer_env *env)
{
    (void)layer, (void)env;
    return CLNN_SUCCESS;
}

static clnn_status gap_forward(clnn_layer *layer, const clnn_pass *pass, const clnn_tensor *x,
                               clnn_tensor *y)
{
    (void)pass;
    return clnn_global_avg_pool_forward(layer->ctx, x, y);
}

static clnn_status gap_backward(clnn_layer *layer, const clnn_pass *pass, const clnn_tensor *x,
                                const clnn_tensor *y, clnn_tensor *dy, clnn_tensor *dx,
                                float dx_beta)
{
    (void)pass, (void)x, (void)y;
    if (!dx)
        return CLNN_SUCCESS;
    return clnn_global_avg_pool_backward(layer->ctx, dy, dx_beta, dx);
}

const clnn_layer_kind clnn_layer_global_avg_pool = {
    .type = CLNN_LAYER_GLOBAL_AVG_POOL,
    .check = gap_check,
    .setup = gap_setup,
    .forward = gap_forward,
    .backward = gap_backward,
    .accumulates_dx = 1,
};
