/*
 * The flatten layer kind: (C, H, W) -> (C*H*W). NCHW rows are already contiguous, so both ways
 * are plain copies (forward into the layer's output, backward into or onto the input gradient).
 */
#include "layer.h"

static clnn_status flatten_check(clnn_context *ctx, const clnn_layer_spec *spec,
                                 const clnn_shape *in, clnn_shape *out)
{
    (void)ctx, (void)spec;
    out->ndim = 1;
    out->dims[0] = clnn_shape_size(in);
    return CLNN_SUCCESS;
}

static clnn_status flatten_setup(clnn_layer *layer, const clnn_layer_env *env)
{
    (void)layer, (void)env;
    return CLNN_SUCCESS;
}

static clnn_status flatten_forward(clnn_layer *layer, const clnn_pass *pass,
                                   const clnn_tensor *x, clnn_tensor *y)
{
    (void)layer, (void)pass;
    return clnn_tensor_copy(y, x);
}

static clnn_status flatten_backward(clnn_layer *layer, const clnn_pass *pass,
                                    const clnn_tensor *x, const clnn_tensor *y, clnn_tensor *dy,
                                    clnn_tensor *dx, float dx_beta)
{
    (void)pass, (void)x, (void)y;
    if (!dx)
        return CLNN_SUCCESS;
    if (dx_beta == 0.0f)
        return clnn_tensor_copy(dx, dy);
    return clnn_add_tensors(layer->ctx, dx, dy, dx);
}

const clnn_layer_kind clnn_layer_flatten = {
    .type = CLNN_LAYER_FLATTEN,
    .check = flatten_check,
    .setup = flatten_setup,
    .forward = flatten_forward,
    .backward = flatten_backward,
    .accumulates_dx = 1,
};
