/*
 * The table of layer kinds and the sequence of layers that a network and every residual body
 * are: building it from spec records, binding its gradients to the workspace, and running it
 * forward and backward (src/layer.h describes the interface and the workspace).
 */
#include "layer.h"

#include <stdlib.h>
#include <string.h>

const clnn_layer_kind *clnn_layer_kind_of(clnn_layer_type type)
{
    switch (type) {
    case CLNN_LAYER_DENSE: return &clnn_layer_dense;
    case CLNN_LAYER_BATCH_NORM: return &clnn_layer_batch_norm;
    case CLNN_LAYER_ACTIVATION: return &clnn_layer_activation;
    case CLNN_LAYER_PRELU: return &clnn_layer_prelu;
    case CLNN_LAYER_DROPOUT: return &clnn_layer_dropout;
    case CLNN_LAYER_FLATTEN: return &clnn_layer_flatten;
    case CLNN_LAYER_RESIDUAL_BEGIN: return &clnn_layer_residual;
    case CLNN_LAYER_CONV2D: return &clnn_layer_conv2d;
    case CLNN_LAYER_POOL2D: return &clnn_layer_pool2d;
    case CLNN_LAYER_GLOBAL_AVG_POOL: return &clnn_layer_global_avg_pool;
    default: return NULL;
    }
}

size_t clnn_shape_size(const clnn_shape *shape)
{
    size_t n = 1;
    for (int i = 0; i < shape->ndim; ++i)
        n *= shape->dims[i];
    return n;
}

uint64_t clnn_derive_seed(uint64_t seed, uint64_t salt, uint64_t index)
{
    uint64_t z = seed ^ (salt * 0x9e3779b97f4a7c15ull) ^ ((index + 1) * 0xd1b54a32d192ed03ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void full_dims(size_t batch, const clnn_shape *shape, int *ndim, size_t *dims)
{
    *ndim = 0;
    if (batch)
        dims[(*ndim)++] = batch;
    for (int i = 0; i < shape->ndim; ++i)
        dims[(*ndim)++] = shape->dims[i];
}

clnn_status clnn_layer_tensor(clnn_context *ctx, size_t batch, const clnn_shape *shape,
                              clnn_tensor **t)
{
    int ndim;
    size_t dims[4];
    full_dims(batch, shape, &ndim, dims);
    clnn_status status = clnn_tensor_create(ctx, ndim, dims, t);
    if (status == CLNN_SUCCESS)
        status = clnn_buffer_zero(ctx, (*t)->buffer, "a layer's tensor");
    return status;
}

clnn_status clnn_layer_view(clnn_context *ctx, cl_mem buffer, size_t batch,
                            const clnn_shape *shape, clnn_tensor **t)
{
    int ndim;
    size_t dims[4];
    full_dims(batch, shape, &ndim, dims);
    return clnn_tensor_wrap(ctx, buffer, ndim, dims, t);
}

/* ---- building -------------------------------------------------------------------------------- */

clnn_status clnn_layer_need_scratch(clnn_layer_env *env, const clnn_layer *layer)
{
    if (!env->ctx || !env->scratch_batch || !layer->kind || !layer->kind->scratch_floats)
        return CLNN_SUCCESS;
    size_t floats = 0;
    clnn_status status = layer->kind->scratch_floats(layer, env->scratch_batch, &floats);
    if (status == CLNN_SUCCESS && floats > env->scratch_floats)
        env->scratch_floats = floats;
    return status;
}

void clnn_layer_env_note(clnn_layer_env *env, clnn_layer *layer)
{
    /* Dense and convolution weights draw stream (1, k) for the k-th of them; dropout masks
     * follow the dense layers as the MLP engine's always did. */
    if (layer->spec.type == CLNN_LAYER_DENSE || layer->spec.type == CLNN_LAYER_CONV2D) {
        env->dense_ordinal++;
        env->dropout_since_dense = 0;
    } else if (layer->spec.type == CLNN_LAYER_DROPOUT) {
        /* The first dropout after dense layer k draws stream (2, k), as the MLP engine always
         * did; any other its own stream (3, its ordinal). */
        layer->seed = env->dense_ordinal > 0 && !env->dropout_since_dense
                          ? clnn_derive_seed(env->seed, 2, env->dense_ordinal - 1)
                          : clnn_derive_seed(env->seed, 3, env->dropout_ordinal);
        env->dropout_ordinal++;
        env->dropout_since_dense = 1;
    }
}

static void reseed(clnn_layer *layer, void *env)
{
    clnn_layer_env_note(env, layer);
}

void clnn_sequence_reseed(clnn_sequence *seq, uint64_t seed)
{
    clnn_layer_env env = {.seed = seed};
    clnn_sequence_visit(seq, reseed, &env);
}

/* The END record matching the BEGIN at `begin` (the spec builder guarantees one). */
static size_t matching_end(const clnn_layer_spec *spec, size_t begin, size_t end)
{
    int open = 0;
    for (size_t i = begin; i < end; ++i) {
        if (spec[i].type == CLNN_LAYER_RESIDUAL_BEGIN)
            ++open;
        else if (spec[i].type == CLNN_LAYER_RESIDUAL_END && --open == 0)
            return i;
    }
    return end;
}

/* Counts the layers of [first, end) at this level (a residual block is one). */
static size_t level_count(const clnn_layer_spec *spec, size_t first, size_t end)
{
    size_t n = 0;
    for (size_t i = first; i < end; ++i, ++n)
        if (spec[i].type == CLNN_LAYER_RESIDUAL_BEGIN)
            i = matching_end(spec, i, end);
    return n;
}

static void need_floats(clnn_workspace_level *level, size_t floats)
{
    if (floats > level->floats)
        level->floats = floats;
}

clnn_status clnn_sequence_build(clnn_sequence *seq, const clnn_layer_spec *spec, size_t first,
                                size_t end, const clnn_shape *in, clnn_layer_env *env,
                                clnn_workspace_level *workspace, int create, clnn_shape *out)
{
    clnn_context *ctx = env->ctx;
    clnn_workspace_level *level = &workspace[env->depth];
    size_t n = level_count(spec, first, end);
    if (create) {
        memset(seq, 0, sizeof *seq);
        seq->ctx = ctx;
        seq->depth = env->depth;
        seq->layers = calloc(n ? n : 1, sizeof *seq->layers);
        seq->outputs = calloc(n ? n : 1, sizeof *seq->outputs);
        seq->grad_out = calloc(n ? n : 1, sizeof *seq->grad_out);
        seq->grad_in = calloc(n ? n : 1, sizeof *seq->grad_in);
        seq->grad_tmp = calloc(n ? n : 1, sizeof *seq->grad_tmp);
        if (!seq->layers || !seq->outputs || !seq->grad_out || !seq->grad_in || !seq->grad_tmp)
            return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory creating a network");
    }
    clnn_shape shape = *in;
    clnn_status status = CLNN_SUCCESS;
    size_t index = 0;
    for (size_t i = first; status == CLNN_SUCCESS && i < end; ++i, ++index) {
        clnn_layer scratch, *layer = create ? &seq->layers[index] : &scratch;
        memset(layer, 0, sizeof *layer);
        layer->spec = spec[i];
        layer->ctx = ctx;
        layer->in = shape;
        layer->kind = clnn_layer_kind_of(spec[i].type);
        if (create)
            seq->count = index + 1; /* destroy frees what was made */
        if (spec[i].type == CLNN_LAYER_RESIDUAL_BEGIN) {
            size_t close = matching_end(spec, i, end);
            status = clnn_residual_setup(layer, spec, i, close, env, workspace, create,
                                         &layer->out);
            i = close;
        } else {
            status = layer->kind ? layer->kind->check(ctx, &spec[i], &shape, &layer->out)
                                 : clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                                              "layer record %zu: unknown or unmatched type %d",
                                              i, (int)spec[i].type);
            if (status == CLNN_SUCCESS && !create)
                status = clnn_layer_need_scratch(env, layer);
            if (status == CLNN_SUCCESS && create)
                status = layer->kind->setup(layer, env);
            clnn_layer_env_note(env, layer);
        }
        if (status != CLNN_SUCCESS)
            break;
        need_floats(level, env->max_batch * clnn_shape_size(&layer->in));
        need_floats(level, env->max_batch * clnn_shape_size(&layer->out));
        if (create)
            status = clnn_layer_tensor(ctx, env->max_batch, &layer->out, &seq->outputs[index]);
        shape = layer->out;
    }
    if (status != CLNN_SUCCESS || !create) {
        *out = shape;
        return status;
    }
    /* Gradient views: layer i's input gradient in turn[i % 2] (layer 0's is bound), its output
     * gradient the next layer's input gradient (the last one's is bound). */
    for (size_t i = 0; status == CLNN_SUCCESS && i < n; ++i) {
        clnn_layer *layer = &seq->layers[i];
        if (i > 0)
            status = clnn_layer_view(ctx, level->turn[i % 2], env->max_batch, &layer->in,
                                     &seq->grad_in[i]);
        /* Only a residual body's first layer is asked to accumulate (the network's first layer
         * computes no input gradient), so level 0 has no accumulation buffer. */
        if (status == CLNN_SUCCESS && i == 0 && env->depth > 0 && !layer->kind->accumulates_dx)
            status = clnn_layer_view(ctx, level->accumulate, env->max_batch, &layer->in,
                                     &seq->grad_tmp[i]);
    }
    for (size_t i = 0; i + 1 < n; ++i)
        seq->grad_out[i] = seq->grad_in[i + 1];
    *out = shape;
    return status;
}

void clnn_sequence_bind(clnn_sequence *seq, clnn_tensor *dy, clnn_tensor *dx)
{
    if (seq->count == 0)
        return;
    seq->grad_out[seq->count - 1] = dy;
    seq->grad_in[0] = dx;
}

void clnn_layer_release(clnn_layer *layer)
{
    if (layer->kind && layer->kind->destroy)
        layer->kind->destroy(layer);
    for (size_t p = 0; p < layer->param_count; ++p) {
        clnn_tensor_destroy(layer->params[p]);
        clnn_tensor_destroy(layer->grads[p]);
    }
    for (size_t s = 0; s < layer->state_count; ++s)
        clnn_tensor_destroy(layer->state[s]);
    layer->param_count = layer->state_count = 0;
}

void clnn_sequence_destroy(clnn_sequence *seq)
{
    for (size_t i = 0; seq->layers && i < seq->count; ++i) {
        clnn_layer_release(&seq->layers[i]);
        clnn_tensor_destroy(seq->outputs[i]);
        if (i > 0)
            clnn_tensor_destroy(seq->grad_in[i]); /* views; layer 0's is bound */
        clnn_tensor_destroy(seq->grad_tmp[i]);
    }
    free(seq->layers);
    free(seq->outputs);
    free(seq->grad_out);
    free(seq->grad_in);
    free(seq->grad_tmp);
    memset(seq, 0, sizeof *seq);
}

/* ---- running --------------------------------------------------------------------------------- */

clnn_status clnn_sequence_set_batch(clnn_sequence *seq, size_t batch)
{
    clnn_status status = CLNN_SUCCESS;
    for (size_t i = 0; status == CLNN_SUCCESS && i < seq->count; ++i) {
        clnn_layer *layer = &seq->layers[i];
        status = clnn_tensor_set_rows(seq->outputs[i], batch);
        if (status == CLNN_SUCCESS && i > 0)
            status = clnn_tensor_set_rows(seq->grad_in[i], batch);
        if (status == CLNN_SUCCESS && seq->grad_tmp[i])
            status = clnn_tensor_set_rows(seq->grad_tmp[i], batch);
        if (status == CLNN_SUCCESS && layer->kind->set_batch)
            status = layer->kind->set_batch(layer, batch);
    }
    return status;
}

clnn_status clnn_sequence_forward(clnn_sequence *seq, const clnn_pass *pass, const clnn_tensor *x)
{
    clnn_status status = CLNN_SUCCESS;
    for (size_t k = 0; status == CLNN_SUCCESS && k < seq->count; ++k) {
        size_t i = pass->reversed ? seq->count - 1 - k : k;
        clnn_layer *layer = &seq->layers[i];
        status = layer->kind->forward(layer, pass, i > 0 ? seq->outputs[i - 1] : x,
                                      seq->outputs[i]);
    }
    return status;
}

clnn_status clnn_sequence_backward(clnn_sequence *seq, const clnn_pass *pass,
                                   const clnn_tensor *x, float dx_beta)
{
    clnn_status status = CLNN_SUCCESS;
    for (size_t k = 0; status == CLNN_SUCCESS && k < seq->count; ++k) {
        size_t i = pass->reversed ? k : seq->count - 1 - k;
        clnn_layer *layer = &seq->layers[i];
        const clnn_tensor *in = i > 0 ? seq->outputs[i - 1] : x;
        clnn_tensor *dx = seq->grad_in[i];
        float beta = i == 0 ? dx_beta : 0.0f;
        if (dx && beta != 0.0f && !layer->kind->accumulates_dx) {
            /* dx += this layer's input gradient, through the accumulation buffer. */
            status = layer->kind->backward(layer, pass, in, seq->outputs[i], seq->grad_out[i],
                                           seq->grad_tmp[i], 0.0f);
            if (status == CLNN_SUCCESS)
                status = clnn_add_tensors(seq->ctx, dx, seq->grad_tmp[i], dx);
        } else {
            status = layer->kind->backward(layer, pass, in, seq->outputs[i], seq->grad_out[i], dx,
                                           beta);
        }
    }
    return status;
}

clnn_tensor *clnn_sequence_output(const clnn_sequence *seq)
{
    return seq->count ? seq->outputs[seq->count - 1] : NULL;
}

void clnn_sequence_visit(clnn_sequence *seq, clnn_layer_visit visit, void *arg)
{
    for (size_t i = 0; i < seq->count; ++i) {
        clnn_layer *layer = &seq->layers[i];
        if (layer->spec.type == CLNN_LAYER_RESIDUAL_BEGIN) {
            clnn_sequence_visit(clnn_residual_body(layer), visit, arg);
            clnn_layer *projection = clnn_residual_projection(layer);
            if (projection)
                visit(projection, arg);
        } else {
            visit(layer, arg);
        }
    }
}

/* ---- elementwise addition -------------------------------------------------------------------- */

clnn_status clnn_add_tensors(clnn_context *ctx, const clnn_tensor *a, const clnn_tensor *b,
                             clnn_tensor *y)
{
    if (a->count != y->count || b->count != y->count)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "adding tensors of %zu and %zu elements into one of %zu", a->count,
                          b->count, y->count);
    cl_kernel kernel;
    clnn_status status = clnn_get_kernel(ctx, "core.cl", NULL, "clnn_add", &kernel);
    if (status != CLNN_SUCCESS)
        return status;
    cl_uint n = (cl_uint)y->count;
    return clnn_run_kernel_1d(ctx, kernel, "clnn_add", (y->count + 3) / 4,
                              CLNN_ARGS(CLNN_ARG(y->buffer), CLNN_ARG(a->buffer),
                                        CLNN_ARG(b->buffer), CLNN_ARG(n)));
}
