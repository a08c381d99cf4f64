/*
 * Network specs: the list of layer records a network is built from, checked record by record
 * against the shape flowing into it (src/layer.c does the checking, so a spec and the network
 * built from it agree), with the residual blocks still open.
 */
#include "network_internal.h"

#include <stdlib.h>
#include <string.h>

struct clnn_network_spec {
    clnn_shape input;
    clnn_layer_spec layers[CLNN_NETWORK_MAX_LAYERS];
    size_t count;
    size_t open[CLNN_NETWORK_MAX_DEPTH]; /* the BEGIN records of the open blocks */
    int depth;
    clnn_shape shape;                       /* after the last record */
    clnn_shape block_input[CLNN_NETWORK_MAX_DEPTH];
};

static const char *const type_names[] = {
    "dense",   "batch_norm", "activation",     "prelu",        "dropout", "flatten",
    "residual_begin", "residual_end", "conv2d", "pool2d", "global_avg_pool"};
_Static_assert(sizeof(type_names) / sizeof(type_names[0]) == CLNN_LAYER_TYPE_COUNT,
               "type_names must name every clnn_layer_type");

const char *clnn_layer_type_name(clnn_layer_type type)
{
    if ((int)type < 0 || type >= CLNN_LAYER_TYPE_COUNT)
        return "unknown";
    return type_names[type];
}

clnn_status clnn_layer_spec_init(clnn_layer_spec *layer, clnn_layer_type type)
{
    if (!layer)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_layer_spec_init: layer is NULL");
    if ((int)type < 0 || type >= CLNN_LAYER_TYPE_COUNT)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_layer_spec_init: unknown layer type %d", (int)type);
    memset(layer, 0, sizeof *layer);
    layer->type = type;
    clnn_activation_desc_init(&layer->activation, CLNN_ACTIVATION_IDENTITY);
    layer->prelu_init = 0.25f;
    layer->momentum = 0.1f;
    layer->eps = 1e-5f;
    layer->skip = CLNN_RESIDUAL_IDENTITY;
    clnn_conv2d_desc_init(&layer->conv, 3, 3);
    layer->bias = 1;
    clnn_pool2d_desc_init(&layer->pool, CLNN_POOL_MAX, 2, 2);
    return CLNN_SUCCESS;
}

clnn_status clnn_network_spec_create(clnn_network_spec **spec, int ndim, const size_t *dims)
{
    if (!spec || !dims)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_network_spec_create: %s is NULL",
                          spec ? "dims" : "spec");
    if (ndim != 1 && ndim != 3)
        return clnn_error(NULL, CLNN_ERR_INVALID_SHAPE,
                          "clnn_network_spec_create: inputs have %d dimensions; 1 (features) or "
                          "3 (channels, height, width)",
                          ndim);
    size_t count = 1;
    for (int i = 0; i < ndim; ++i) {
        if (dims[i] == 0)
            return clnn_error(NULL, CLNN_ERR_INVALID_SHAPE,
                              "clnn_network_spec_create: input dimension %d is 0", i);
        if (dims[i] > CLNN_MAX_ELEMENTS / count)
            return clnn_error(NULL, CLNN_ERR_SIZE_OVERFLOW,
                              "clnn_network_spec_create: inputs of more than %zu elements",
                              CLNN_MAX_ELEMENTS);
        count *= dims[i];
    }
    clnn_network_spec *s = calloc(1, sizeof *s);
    if (!s)
        return clnn_error(NULL, CLNN_ERR_HOST_MEMORY, "out of memory creating a network spec");
    s->input.ndim = ndim;
    memcpy(s->input.dims, dims, (size_t)ndim * sizeof *dims);
    s->shape = s->input;
    *spec = s;
    return CLNN_SUCCESS;
}

clnn_status clnn_network_spec_destroy(clnn_network_spec *spec)
{
    free(spec);
    return CLNN_SUCCESS;
}

/* The shape after records [0, count) plus `extra`, through a trial build without allocation. */
static clnn_status shape_with(const clnn_network_spec *spec, const clnn_layer_spec *extra,
                              clnn_shape *out)
{
    clnn_layer_spec *records = malloc((spec->count + 1) * sizeof *records);
    if (!records)
        return clnn_error(NULL, CLNN_ERR_HOST_MEMORY, "out of memory checking a network spec");
    memcpy(records, spec->layers, spec->count * sizeof *records);
    records[spec->count] = *extra;
    clnn_init_params init;
    clnn_init_params_default(CLNN_INIT_KAIMING_NORMAL, &init);
    clnn_layer_env env = {.max_batch = 1, .weight_init = &init};
    clnn_workspace_level workspace[CLNN_NETWORK_MAX_DEPTH + 1];
    memset(workspace, 0, sizeof workspace);
    /* Only the records outside open blocks form complete layers; an open block is checked when
     * it closes, so the trial covers the records up to the first open BEGIN, and the open
     * blocks' bodies from their BEGIN on. */
    size_t first = spec->depth > 0 ? spec->open[spec->depth - 1] + 1 : 0;
    clnn_shape in = spec->depth > 0 ? spec->block_input[spec->depth - 1] : spec->input;
    clnn_sequence unused;
    env.depth = spec->depth;
    clnn_status status = clnn_sequence_build(&unused, records, first, spec->count + 1, &in, &env,
                                             workspace, 0, out);
    free(records);
    return status;
}

clnn_status clnn_network_spec_add(clnn_network_spec *spec, const clnn_layer_spec *layer)
{
    if (!spec || !layer)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_network_spec_add: %s is NULL",
                          spec ? "layer" : "spec");
    if ((int)layer->type < 0 || layer->type >= CLNN_LAYER_TYPE_COUNT)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_spec_add: unknown layer type %d", (int)layer->type);
    if (spec->count >= CLNN_NETWORK_MAX_LAYERS)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_spec_add: the spec already holds %d records, the most it "
                          "can",
                          CLNN_NETWORK_MAX_LAYERS);
    if (layer->type == CLNN_LAYER_RESIDUAL_BEGIN) {
        if (spec->depth >= CLNN_NETWORK_MAX_DEPTH)
            return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                              "clnn_network_spec_add: residual blocks nest at most %d deep",
                              CLNN_NETWORK_MAX_DEPTH);
        spec->block_input[spec->depth] = spec->shape;
        spec->open[spec->depth++] = spec->count;
        spec->layers[spec->count++] = *layer;
        return CLNN_SUCCESS;
    }
    if (layer->type == CLNN_LAYER_RESIDUAL_END) {
        if (spec->depth == 0)
            return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                              "clnn_network_spec_add: a residual end without a begin");
        /* Check the whole block, from its BEGIN, as one layer of the enclosing level. */
        clnn_network_spec outer = *spec;
        outer.depth--;
        clnn_layer_spec *records = malloc((spec->count + 1) * sizeof *records);
        if (!records)
            return clnn_error(NULL, CLNN_ERR_HOST_MEMORY, "out of memory checking a network spec");
        memcpy(records, spec->layers, spec->count * sizeof *records);
        records[spec->count] = *layer;
        clnn_init_params init;
        clnn_init_params_default(CLNN_INIT_KAIMING_NORMAL, &init);
        clnn_layer_env env = {.max_batch = 1, .weight_init = &init, .depth = outer.depth};
        clnn_workspace_level workspace[CLNN_NETWORK_MAX_DEPTH + 1];
        memset(workspace, 0, sizeof workspace);
        clnn_sequence unused;
        clnn_shape out;
        size_t begin = spec->open[spec->depth - 1];
        clnn_status status = clnn_sequence_build(&unused, records, begin, spec->count + 1,
                                                 &spec->block_input[spec->depth - 1], &env,
                                                 workspace, 0, &out);
        free(records);
        if (status != CLNN_SUCCESS)
            return status;
        spec->layers[spec->count++] = *layer;
        spec->depth--;
        spec->shape = out;
        return CLNN_SUCCESS;
    }
    clnn_shape out;
    clnn_status status = shape_with(spec, layer, &out);
    if (status != CLNN_SUCCESS)
        return status;
    spec->layers[spec->count++] = *layer;
    spec->shape = out;
    return CLNN_SUCCESS;
}

static clnn_status add_with_activation(clnn_network_spec *spec, clnn_layer_spec *layer,
                                       const clnn_activation_desc *activation)
{
    if (activation)
        layer->activation = *activation;
    return clnn_network_spec_add(spec, layer);
}

clnn_status clnn_network_spec_add_dense(clnn_network_spec *spec, size_t units,
                                        const clnn_activation_desc *activation)
{
    clnn_layer_spec layer;
    clnn_layer_spec_init(&layer, CLNN_LAYER_DENSE);
    layer.units = units;
    return add_with_activation(spec, &layer, activation);
}

clnn_status clnn_network_spec_add_batch_norm(clnn_network_spec *spec,
                                             const clnn_activation_desc *activation)
{
    clnn_layer_spec layer;
    clnn_layer_spec_init(&layer, CLNN_LAYER_BATCH_NORM);
    return add_with_activation(spec, &layer, activation);
}

clnn_status clnn_network_spec_add_activation(clnn_network_spec *spec,
                                             const clnn_activation_desc *activation)
{
    if (!activation)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_spec_add_activation: activation is NULL");
    clnn_layer_spec layer;
    clnn_layer_spec_init(&layer, CLNN_LAYER_ACTIVATION);
    return add_with_activation(spec, &layer, activation);
}

clnn_status clnn_network_spec_add_dropout(clnn_network_spec *spec, float p)
{
    clnn_layer_spec layer;
    clnn_layer_spec_init(&layer, CLNN_LAYER_DROPOUT);
    layer.dropout = p;
    return clnn_network_spec_add(spec, &layer);
}

clnn_status clnn_network_spec_add_flatten(clnn_network_spec *spec)
{
    clnn_layer_spec layer;
    clnn_layer_spec_init(&layer, CLNN_LAYER_FLATTEN);
    return clnn_network_spec_add(spec, &layer);
}

clnn_status clnn_network_spec_add_conv2d(clnn_network_spec *spec, size_t out_channels,
                                         const clnn_conv2d_desc *conv, int bias,
                                         const clnn_activation_desc *activation)
{
    if (bias != 0 && bias != 1)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_spec_add_conv2d: bias is %d; 0 (none) or 1", bias);
    clnn_layer_spec layer;
    clnn_layer_spec_init(&layer, CLNN_LAYER_CONV2D);
    layer.units = out_channels;
    if (conv)
        layer.conv = *conv;
    layer.bias = bias;
    return add_with_activation(spec, &layer, activation);
}

clnn_status clnn_network_spec_add_pool2d(clnn_network_spec *spec, const clnn_pool2d_desc *pool)
{
    if (!pool)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_spec_add_pool2d: pool is NULL");
    clnn_layer_spec layer;
    clnn_layer_spec_init(&layer, CLNN_LAYER_POOL2D);
    layer.pool = *pool;
    return clnn_network_spec_add(spec, &layer);
}

clnn_status clnn_network_spec_add_global_avg_pool(clnn_network_spec *spec)
{
    clnn_layer_spec layer;
    clnn_layer_spec_init(&layer, CLNN_LAYER_GLOBAL_AVG_POOL);
    return clnn_network_spec_add(spec, &layer);
}

clnn_status clnn_network_spec_begin_residual(clnn_network_spec *spec)
{
    clnn_layer_spec layer;
    clnn_layer_spec_init(&layer, CLNN_LAYER_RESIDUAL_BEGIN);
    return clnn_network_spec_add(spec, &layer);
}

clnn_status clnn_network_spec_end_residual(clnn_network_spec *spec, clnn_residual_skip skip,
                                           const clnn_activation_desc *activation)
{
    clnn_layer_spec layer;
    clnn_layer_spec_init(&layer, CLNN_LAYER_RESIDUAL_END);
    layer.skip = skip;
    return add_with_activation(spec, &layer, activation);
}

clnn_status clnn_network_spec_get_layer_count(const clnn_network_spec *spec, size_t *count)
{
    if (!spec || !count)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_spec_get_layer_count: %s is NULL", spec ? "count" : "spec");
    *count = spec->count;
    return CLNN_SUCCESS;
}

clnn_status clnn_network_spec_get_layer(const clnn_network_spec *spec, size_t index,
                                        clnn_layer_spec *layer)
{
    if (!spec || !layer)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_spec_get_layer: %s is NULL", spec ? "layer" : "spec");
    if (index >= spec->count)
        return clnn_error(NULL, CLNN_ERR_OUT_OF_RANGE,
                          "clnn_network_spec_get_layer: index %zu; the spec holds %zu", index,
                          spec->count);
    *layer = spec->layers[index];
    return CLNN_SUCCESS;
}

clnn_status clnn_network_spec_get_output_shape(const clnn_network_spec *spec, int *ndim,
                                               size_t *dims)
{
    if (!spec || !ndim || !dims)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_spec_get_output_shape: an argument is NULL");
    *ndim = spec->shape.ndim;
    memcpy(dims, spec->shape.dims, (size_t)spec->shape.ndim * sizeof *dims);
    return CLNN_SUCCESS;
}

/* For src/network.c: the records, the input shape, and whether every block is closed. */
const clnn_layer_spec *clnn_network_spec_records(const clnn_network_spec *spec, size_t *count,
                                                 clnn_shape *input, int *open_blocks)
{
    *count = spec->count;
    *input = spec->input;
    *open_blocks = spec->depth;
    return spec->layers;
}
