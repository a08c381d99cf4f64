/*
 * The residual block kind: y = f(body(x) + skip(x)), where the body is a sequence of layers
 * (src/layer.c) one nesting level deeper, and the skip is x itself or a projection of it to the
 * body's output shape: a dense layer on 2-D activations, a 1x1 convolution on 4-D ones, strided
 * when the body makes the image smaller. Backward splits the gradient g = f'(s) dy: the skip's share goes
 * into the block's input gradient first (copied, added, or through the projection), then the
 * body's backward accumulates onto it.
 */
#include "layer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct residual_impl {
    clnn_sequence body;
    clnn_layer_spec end;      /* the closing record: skip and activation */
    clnn_layer *projection;   /* a dense or 1x1 convolution layer, or NULL for the identity */
    clnn_tensor *projected;   /* (batch, out): the projection's output */
    clnn_tensor *sum;         /* (batch, out): body + skip, kept when f is not the identity */
} residual_impl;

clnn_sequence *clnn_residual_body(clnn_layer *layer)
{
    return &((residual_impl *)layer->impl)->body;
}

clnn_layer *clnn_residual_projection(clnn_layer *layer)
{
    return ((residual_impl *)layer->impl)->projection;
}

const clnn_activation_desc *clnn_residual_end_activation(const clnn_layer *layer)
{
    return &((const residual_impl *)layer->impl)->end.activation;
}

static void format(char *buf, size_t size, const clnn_shape *s)
{
    clnn_format_shape(buf, size, s->ndim, s->dims);
}

/* The projection from `in` to `out`: a dense layer of out's width for 2-D activations; for 4-D
 * ones a 1x1 convolution to out's channels, with the stride per axis that takes the input's size
 * to the output's (ResNet's downsampling shortcut). */
static clnn_status projection_spec(clnn_context *ctx, const clnn_shape *in, const clnn_shape *out,
                                   clnn_layer_spec *spec)
{
    if (in->ndim == 1) {
        clnn_layer_spec_init(spec, CLNN_LAYER_DENSE);
        spec->units = out->dims[0];
        return CLNN_SUCCESS;
    }
    clnn_layer_spec_init(spec, CLNN_LAYER_CONV2D);
    spec->units = out->dims[0];
    clnn_conv2d_desc_init(&spec->conv, 1, 1);
    for (int axis = 0; axis < 2; ++axis) {
        size_t from = in->dims[1 + axis], to = out->dims[1 + axis], stride = 1;
        /* A 1x1 kernel with stride s gives floor((from - 1) / s) + 1 outputs. */
        while (stride <= from && (from - 1) / stride + 1 > to)
            ++stride;
        if ((from - 1) / stride + 1 != to) {
            char a[64], b[64];
            format(a, sizeof a, in);
            format(b, sizeof b, out);
            return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                              "a residual projection from (%s) to (%s): no 1x1 convolution "
                              "stride gives that image size",
                              a, b);
        }
        spec->conv.stride[axis] = stride;
    }
    return CLNN_SUCCESS;
}

/* Builds the block from records [begin, close]: BEGIN, the body, END. With create 0 only the
 * shapes and the workspace sizes are worked out. */
clnn_status clnn_residual_setup(clnn_layer *layer, const clnn_layer_spec *spec, size_t begin,
                                size_t close, clnn_layer_env *env, clnn_workspace_level *workspace,
                                int create, clnn_shape *out)
{
    clnn_context *ctx = env->ctx;
    if (close <= begin + 1)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "a residual block has an empty body");
    if (env->depth + 1 > CLNN_NETWORK_MAX_DEPTH)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "residual blocks are nested deeper than %d", CLNN_NETWORK_MAX_DEPTH);
    const clnn_layer_spec *end = &spec[close];
    residual_impl scratch, *impl = &scratch;
    memset(&scratch, 0, sizeof scratch);
    if (create) {
        impl = calloc(1, sizeof *impl);
        if (!impl)
            return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory creating a residual block");
        layer->impl = impl;
    }
    impl->end = *end;
    env->depth++;
    clnn_shape body_out;
    clnn_status status = clnn_sequence_build(&impl->body, spec, begin + 1, close, &layer->in, env,
                                             workspace, create, &body_out);
    env->depth--;
    if (!create)
        clnn_sequence_destroy(&impl->body);
    if (status != CLNN_SUCCESS)
        return status;

    int same = body_out.ndim == layer->in.ndim &&
               memcmp(body_out.dims, layer->in.dims, sizeof(size_t) * (size_t)body_out.ndim) == 0;
    char a[64], b[64];
    format(a, sizeof a, &layer->in);
    format(b, sizeof b, &body_out);
    if (end->skip == CLNN_RESIDUAL_IDENTITY && !same)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "a residual block's body turns (%s) into (%s); an identity skip needs "
                          "the same shape (use a projection)",
                          a, b);
    if (end->skip == CLNN_RESIDUAL_PROJECTION && layer->in.ndim != body_out.ndim)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "a residual projection from (%s) to (%s): the body must keep 2-D "
                          "activations 2-D and 4-D ones 4-D",
                          a, b);
    if ((int)end->skip < 0 || end->skip >= CLNN_RESIDUAL_SKIP_COUNT)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "a residual block has unknown skip %d",
                          (int)end->skip);
    status = clnn_activation_desc_check(&end->activation);
    if (status != CLNN_SUCCESS)
        return clnn_error(ctx, status, "residual block: %s", clnn_context_last_error(NULL));
    *out = body_out;
    if (end->skip == CLNN_RESIDUAL_PROJECTION) {
        clnn_layer_spec spec_p;
        status = projection_spec(ctx, &layer->in, &body_out, &spec_p);
        const clnn_layer_kind *kind = clnn_layer_kind_of(spec_p.type);
        clnn_layer sized = {.kind = kind, .spec = spec_p, .ctx = ctx, .in = layer->in};
        if (status == CLNN_SUCCESS)
            status = kind->check(ctx, &spec_p, &layer->in, &sized.out);
        if (status == CLNN_SUCCESS && !create)
            status = clnn_layer_need_scratch(env, &sized);
        if (status == CLNN_SUCCESS && create) {
            impl->projection = calloc(1, sizeof *impl->projection);
            if (!impl->projection)
                return clnn_error(ctx, CLNN_ERR_HOST_MEMORY,
                                  "out of memory creating a residual block");
            *impl->projection = sized;
            status = kind->setup(impl->projection, env);
            if (status == CLNN_SUCCESS)
                status = clnn_layer_tensor(ctx, env->max_batch, out, &impl->projected);
        }
        clnn_layer_env_note(env, &sized);
    }
    if (status == CLNN_SUCCESS && create && end->activation.kind != CLNN_ACTIVATION_IDENTITY)
        status = clnn_layer_tensor(ctx, env->max_batch, out, &impl->sum);
    return status;
}

/* The block's end when f is ReLU, one kernel each way (kernels/core.cl): sum = body + skip and
 * y = relu(sum); backward dy = relu'(sum) dy in place, and the skip's share into dx (NULL: a
 * projection takes it), dx = dy or dx + dy with accumulate. */
static clnn_status relu_end_forward(clnn_context *ctx, const clnn_tensor *body,
                                    const clnn_tensor *skip, clnn_tensor *sum, clnn_tensor *y)
{
    static const char name[] = "clnn_residual_relu_forward";
    cl_kernel kernel;
    clnn_status status = clnn_get_kernel(ctx, "core.cl", NULL, name, &kernel);
    cl_uint n = (cl_uint)y->count;
    if (status == CLNN_SUCCESS)
        status = clnn_run_kernel_1d(ctx, kernel, name, (y->count + 3) / 4,
                                    CLNN_ARGS(CLNN_ARG(body->buffer), CLNN_ARG(skip->buffer),
                                              CLNN_ARG(sum->buffer), CLNN_ARG(y->buffer),
                                              CLNN_ARG(n)));
    return status;
}

static clnn_status relu_end_backward(clnn_context *ctx, const clnn_tensor *sum, clnn_tensor *dy,
                                     clnn_tensor *dx, int accumulate)
{
    static const char name[] = "clnn_residual_relu_backward";
    cl_kernel kernel;
    clnn_status status = clnn_get_kernel(ctx, "core.cl", NULL, name, &kernel);
    cl_uint n = (cl_uint)dy->count, has_dx = dx != NULL, acc = accumulate != 0;
    cl_mem out = dx ? dx->buffer : dy->buffer; /* not written without has_dx */
    if (status == CLNN_SUCCESS)
        status = clnn_run_kernel_1d(ctx, kernel, name, (dy->count + 3) / 4,
                                    CLNN_ARGS(CLNN_ARG(sum->buffer), CLNN_ARG(dy->buffer),
                                              CLNN_ARG(out), CLNN_ARG(has_dx), CLNN_ARG(acc),
                                              CLNN_ARG(n)));
    return status;
}

static int relu_end(const residual_impl *impl)
{
    return impl->sum && impl->end.activation.kind == CLNN_ACTIVATION_RELU;
}

static clnn_status residual_forward(clnn_layer *layer, const clnn_pass *pass,
                                    const clnn_tensor *x, clnn_tensor *y)
{
    residual_impl *impl = layer->impl;
    clnn_context *ctx = layer->ctx;
    clnn_status status = clnn_sequence_forward(&impl->body, pass, x);
    const clnn_tensor *skip = x;
    if (status == CLNN_SUCCESS && impl->projection) {
        status = impl->projection->kind->forward(impl->projection, pass, x, impl->projected);
        skip = impl->projected;
    }
    clnn_tensor *body = clnn_sequence_output(&impl->body);
    if (status != CLNN_SUCCESS)
        return status;
    if (!impl->sum)
        return clnn_add_tensors(ctx, body, skip, y);
    if (relu_end(impl))
        return relu_end_forward(ctx, body, skip, impl->sum, y);
    status = clnn_add_tensors(ctx, body, skip, impl->sum);
    if (status == CLNN_SUCCESS)
        status = clnn_activation_forward(ctx, &impl->end.activation, impl->sum, y);
    return status;
}

static clnn_status residual_backward(clnn_layer *layer, const clnn_pass *pass,
                                     const clnn_tensor *x, const clnn_tensor *y, clnn_tensor *dy,
                                     clnn_tensor *dx, float dx_beta)
{
    (void)y;
    residual_impl *impl = layer->impl;
    clnn_context *ctx = layer->ctx;
    clnn_status status = CLNN_SUCCESS;
    /* dy becomes the gradient of the sum, in place; with ReLU, the same pass gives the identity
     * skip its share too. */
    int skip_done = relu_end(impl) && !impl->projection;
    if (relu_end(impl))
        status = relu_end_backward(ctx, impl->sum, dy, skip_done ? dx : NULL, dx_beta != 0.0f);
    else if (impl->sum)
        status = clnn_activation_backward(ctx, &impl->end.activation, impl->sum, dy, 0.0f, dy);
    /* The skip's share first: the body may overwrite dy. */
    if (status == CLNN_SUCCESS && impl->projection)
        status = impl->projection->kind->backward(impl->projection, pass, x, impl->projected, dy,
                                                  dx, dx_beta);
    else if (status == CLNN_SUCCESS && dx && !skip_done)
        status = dx_beta == 0.0f ? clnn_tensor_copy(dx, dy) : clnn_add_tensors(ctx, dx, dy, dx);
    if (status != CLNN_SUCCESS)
        return status;
    clnn_sequence_bind(&impl->body, dy, dx);
    return clnn_sequence_backward(&impl->body, pass, x, 1.0f);
}

static clnn_status residual_set_batch(clnn_layer *layer, size_t batch)
{
    residual_impl *impl = layer->impl;
    clnn_status status = clnn_sequence_set_batch(&impl->body, batch);
    if (status == CLNN_SUCCESS && impl->projected)
        status = clnn_tensor_set_rows(impl->projected, batch);
    if (status == CLNN_SUCCESS && impl->projection && impl->projection->kind->set_batch)
        status = impl->projection->kind->set_batch(impl->projection, batch);
    if (status == CLNN_SUCCESS && impl->sum)
        status = clnn_tensor_set_rows(impl->sum, batch);
    return status;
}

static void residual_destroy(clnn_layer *layer)
{
    residual_impl *impl = layer->impl;
    if (!impl)
        return;
    clnn_sequence_destroy(&impl->body);
    if (impl->projection) {
        clnn_layer_release(impl->projection);
        free(impl->projection);
    }
    clnn_tensor_destroy(impl->projected);
    clnn_tensor_destroy(impl->sum);
    free(impl);
    layer->impl = NULL;
}

const clnn_layer_kind clnn_layer_residual = {
    .type = CLNN_LAYER_RESIDUAL_BEGIN,
    .check = NULL, /* built by clnn_residual_setup from the block's records */
    .setup = NULL,
    .forward = residual_forward,
    .backward = residual_backward,
    .set_batch = residual_set_batch,
    .destroy = residual_destroy,
    .accumulates_dx = 1,
};
