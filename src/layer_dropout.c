/*
 * The dropout layer kind: inverted dropout of any shape with the spec's probability in training,
 * a copy in inference. Masks are never stored: each step's mask is recomputed from the layer's
 * seed and the network's step (src/init.c), so backward and a resumed run see the same one.
 */
#include "layer.h"

static clnn_status dropout_check(clnn_context *ctx, const clnn_layer_spec *spec,
                                 const clnn_shape *in, clnn_shape *out)
{
    if (!(spec->dropout >= 0.0f && spec->dropout < 1.0f))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "dropout is %g; it must be in [0, 1)", (double)spec->dropout);
    *out = *in;
    return CLNN_SUCCESS;
}

static clnn_status dropout_setup(clnn_layer *layer, const clnn_layer_env *env)
{
    (void)layer, (void)env; /* clnn_sequence_build sets layer->seed */
    return CLNN_SUCCESS;
}

static clnn_status dropout_forward(clnn_layer *layer, const clnn_pass *pass, const clnn_tensor *x,
                                   clnn_tensor *y)
{
    return clnn_dropout_forward(x, y, layer->spec.dropout, pass->training, layer->seed,
                                pass->step);
}

static clnn_status dropout_backward(clnn_layer *layer, const clnn_pass *pass,
                                    const clnn_tensor *x, const clnn_tensor *y, clnn_tensor *dy,
                                    clnn_tensor *dx, float dx_beta)
{
    (void)x, (void)y;
    if (!dx)
        return CLNN_SUCCESS;
    return clnn_dropout_backward(dy, dx, layer->spec.dropout, pass->training, layer->seed,
                                 pass->step, dx_beta);
}

const clnn_layer_kind clnn_layer_dropout = {
    .type = CLNN_LAYER_DROPOUT,
    .check = dropout_check,
    .setup = dropout_setup,
    .forward = dropout_forward,
    .backward = dropout_backward,
    .accumulates_dx = 1,
};
