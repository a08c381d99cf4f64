/*
 * The network engine: building a network from a spec (layers, workspace, loss buffers,
 * optimiser), parameter access and learning rates. Every buffer is allocated here, for the
 * largest batch; a smaller batch runs through the same buffers (clnn_tensor_set_rows), so a step
 * allocates nothing. Every buffer the network makes starts at zero (parameters at their initial
 * values), so that a backward pass before any forward one, as clnn_network_warm_up() may run,
 * reads defined values. Running it: src/network_run.c; health diagnostics: src/network_health.c;
 * checkpoints: src/network_checkpoint.c; the layers: src/layer.c and src/layer_*.c.
 */
#include "network_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const loss_names[] = {"cross_entropy", "mse", "bce_with_logits"};
_Static_assert(sizeof(loss_names) / sizeof(loss_names[0]) == CLNN_LOSS_KIND_COUNT,
               "loss_names must name every clnn_loss_kind");

const char *clnn_loss_kind_name(clnn_loss_kind loss)
{
    if ((int)loss < 0 || loss >= CLNN_LOSS_KIND_COUNT)
        return "unknown";
    return loss_names[loss];
}

clnn_status clnn_train_options_init(clnn_train_options *options)
{
    if (!options)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_train_options_init: options is NULL");
    memset(options, 0, sizeof *options);
    options->skip_non_finite = 1;
    return clnn_optimizer_options_init(&options->optimizer, CLNN_OPTIMIZER_ADAM);
}

clnn_status clnn_network_options_init(clnn_network_options *options)
{
    if (!options)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_options_init: options is NULL");
    memset(options, 0, sizeof *options);
    options->loss = CLNN_LOSS_CROSS_ENTROPY;
    clnn_status status = clnn_init_params_default(CLNN_INIT_KAIMING_NORMAL, &options->weight_init);
    options->weight_init.nonlinearity = CLNN_NONLINEARITY_RELU;
    if (status == CLNN_SUCCESS)
        status = clnn_train_options_init(&options->train);
    return status;
}

/* ---- creation -------------------------------------------------------------------------------- */

clnn_status clnn_network_destroy(clnn_network *net)
{
    if (!net)
        return CLNN_SUCCESS;
    clnn_context_finish(net->ctx);
    clnn_network_destroy_probes(net);
    clnn_sequence_destroy(&net->seq);
    for (int d = 0; d <= CLNN_NETWORK_MAX_DEPTH; ++d) {
        clnn_workspace_level *level = &net->workspace[d];
        cl_mem buffers[] = {level->turn[0], level->turn[1], level->accumulate};
        for (size_t i = 0; i < 3; ++i)
            if (buffers[i])
                clReleaseMemObject(buffers[i]);
    }
    clnn_tensor_destroy(net->scratch);
    clnn_optimizer_destroy(net->optimizer);
    clnn_tensor_destroy(net->x);
    clnn_tensor_destroy(net->targets);
    clnn_tensor_destroy(net->loss);
    clnn_tensor_destroy(net->grad_output);
    clnn_tensor_destroy(net->labels);
    free(net->params);
    free(net->grads);
    free(net->states);
    free(net->host_outputs);
    free(net->records);
    free(net);
    return CLNN_SUCCESS;
}

static clnn_status check_options(clnn_context *ctx, const clnn_network_options *o,
                                 const clnn_shape *out)
{
    if ((int)o->loss < 0 || o->loss >= CLNN_LOSS_KIND_COUNT)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "network options: unknown loss %d",
                          (int)o->loss);
    if (o->loss == CLNN_LOSS_CROSS_ENTROPY && out->ndim != 1)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "cross-entropy needs 2-D outputs (batch, classes); the network's have "
                          "%d dimensions per sample (add a flatten or dense layer)",
                          out->ndim);
    if (!(o->train.clip_norm >= 0.0f))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "train options: clip_norm is %g; it must be >= 0 (0: no clipping)",
                          (double)o->train.clip_norm);
    return CLNN_SUCCESS;
}

typedef struct collect_arg {
    clnn_network *net;
    int count_only;
} collect_arg;

/* Lists the parameters, gradients and running statistics in checkpoint order. */
static void collect(clnn_layer *layer, void *p)
{
    collect_arg *arg = p;
    clnn_network *net = arg->net;
    for (size_t i = 0; i < layer->param_count; ++i, ++net->param_count)
        if (!arg->count_only) {
            net->params[net->param_count] = layer->params[i];
            net->grads[net->param_count] = layer->grads[i];
        }
    for (size_t i = 0; i < layer->state_count; ++i, ++net->state_count)
        if (!arg->count_only)
            net->states[net->state_count] = layer->state[i];
    if (layer->spec.type == CLNN_LAYER_BATCH_NORM)
        net->has_batch_norm = 1;
}

static clnn_status create_workspace(clnn_network *net)
{
    for (int d = 0; d <= CLNN_NETWORK_MAX_DEPTH; ++d) {
        clnn_workspace_level *level = &net->workspace[d];
        if (level->floats == 0)
            continue;
        cl_mem *buffers[] = {&level->turn[0], &level->turn[1], &level->accumulate};
        size_t made = d == 0 ? 2 : 3; /* level 0 never accumulates (src/layer.c) */
        for (size_t i = 0; i < made; ++i) {
            cl_int err;
            *buffers[i] = clCreateBuffer(net->ctx->cl_ctx, CL_MEM_READ_WRITE,
                                         level->floats * sizeof(float), NULL, &err);
            if (err != CL_SUCCESS) {
                *buffers[i] = NULL;
                return clnn_cl_error(net->ctx, err, "clCreateBuffer(network workspace)");
            }
            clnn_status status = clnn_buffer_zero(net->ctx, *buffers[i], "the workspace");
            if (status != CLNN_SUCCESS)
                return status;
        }
    }
    return CLNN_SUCCESS;
}

static clnn_status create_io(clnn_network *net)
{
    clnn_context *ctx = net->ctx;
    clnn_status status = clnn_layer_tensor(ctx, net->max_batch, &net->in, &net->x);
    if (status == CLNN_SUCCESS)
        status = clnn_layer_tensor(ctx, net->max_batch, &net->out, &net->grad_output);
    size_t one = 1;
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(ctx, 1, &one, &net->loss);
    if (status == CLNN_SUCCESS && net->options.loss != CLNN_LOSS_CROSS_ENTROPY)
        status = clnn_layer_tensor(ctx, net->max_batch, &net->out, &net->targets);
    if (status == CLNN_SUCCESS && net->options.loss == CLNN_LOSS_CROSS_ENTROPY)
        status = clnn_tensor_create_int32(ctx, 1, &net->max_batch, &net->labels);
    if (status == CLNN_SUCCESS && net->labels)
        status = clnn_buffer_zero(ctx, net->labels->buffer, "the labels");
    net->host_outputs = malloc(net->max_batch * net->out_size * sizeof(float));
    if (status == CLNN_SUCCESS && !net->host_outputs)
        status = clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory creating the network");
    return status;
}

clnn_status clnn_network_create(clnn_context *ctx, const clnn_network_spec *spec,
                                const clnn_network_options *options, size_t max_batch,
                                clnn_network **out)
{
    clnn_status status = clnn_check_context(ctx, "clnn_network_create");
    if (status != CLNN_SUCCESS)
        return status;
    if (!spec || !out)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "clnn_network_create: %s is NULL",
                          spec ? "network" : "spec");
    size_t count;
    clnn_shape in;
    int open_blocks;
    const clnn_layer_spec *records = clnn_network_spec_records(spec, &count, &in, &open_blocks);
    if (open_blocks)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_create: %d residual block(s) of the spec are not closed",
                          open_blocks);
    if (count == 0)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "clnn_network_create: the spec has no "
                          "layer");
    if (max_batch == 0 || max_batch > CLNN_MAX_ELEMENTS)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_create: max_batch is %zu; it must be at least 1",
                          max_batch);
    clnn_network_options defaults;
    if (!options) {
        clnn_network_options_init(&defaults);
        options = &defaults;
    }

    /* Sizes first: every activation (max_batch x its size) must fit, before anything is made. */
    clnn_init_params init = options->weight_init;
    clnn_layer_env env = {.ctx = ctx, .max_batch = 1, .weight_init = &init,
                          .seed = options->seed, .scratch_batch = max_batch};
    clnn_workspace_level sizing[CLNN_NETWORK_MAX_DEPTH + 1];
    memset(sizing, 0, sizeof sizing);
    clnn_sequence unused;
    clnn_shape shape;
    status = clnn_sequence_build(&unused, records, 0, count, &in, &env, sizing, 0, &shape);
    if (status != CLNN_SUCCESS)
        return status;
    for (int d = 0; d <= CLNN_NETWORK_MAX_DEPTH; ++d)
        if (sizing[d].floats > CLNN_MAX_ELEMENTS / max_batch)
            return clnn_error(ctx, CLNN_ERR_SIZE_OVERFLOW,
                              "clnn_network_create: max_batch (%zu) x an activation of %zu "
                              "elements is above %zu",
                              max_batch, sizing[d].floats, CLNN_MAX_ELEMENTS);
    status = check_options(ctx, options, &shape);
    if (status != CLNN_SUCCESS)
        return status;

    clnn_network *net = calloc(1, sizeof *net);
    if (!net)
        return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory creating the network");
    net->ctx = ctx;
    net->options = *options;
    net->in = in;
    net->out = shape;
    net->in_size = clnn_shape_size(&in);
    net->out_size = clnn_shape_size(&shape);
    net->max_batch = net->batch = max_batch;
    net->record_count = count;
    net->records = malloc(count * sizeof *net->records);
    if (!net->records) {
        free(net);
        return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory creating the network");
    }
    memcpy(net->records, records, count * sizeof *records);

    /* The workspace at the real batch (the sizing pass counted one sample), then the layers and
     * their views of it. */
    for (int d = 0; d <= CLNN_NETWORK_MAX_DEPTH; ++d)
        net->workspace[d].floats = sizing[d].floats * max_batch;
    env.max_batch = max_batch;
    status = create_workspace(net);
    if (status == CLNN_SUCCESS && env.scratch_floats > 0)
        status = clnn_tensor_create(ctx, 1, &env.scratch_floats, &net->scratch);
    if (status == CLNN_SUCCESS && net->scratch)
        status = clnn_buffer_zero(ctx, net->scratch->buffer, "the ops' scratch");
    env.scratch = net->scratch;
    env.dense_ordinal = env.dropout_ordinal = 0;
    env.dropout_since_dense = 0;
    if (status == CLNN_SUCCESS)
        status = clnn_sequence_build(&net->seq, records, 0, count, &in, &env, net->workspace, 1,
                                     &shape);
    if (status == CLNN_SUCCESS)
        status = create_io(net);
    if (status == CLNN_SUCCESS)
        clnn_sequence_bind(&net->seq, net->grad_output, NULL);

    /* Parameters, gradients and running statistics in checkpoint order. */
    collect_arg arg = {net, 1};
    if (status == CLNN_SUCCESS) {
        clnn_sequence_visit(&net->seq, collect, &arg);
        net->params = calloc(net->param_count + 1, sizeof *net->params);
        net->grads = calloc(net->param_count + 1, sizeof *net->grads);
        net->states = calloc(net->state_count + 1, sizeof *net->states);
        if (!net->params || !net->grads || !net->states)
            status = clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory creating the network");
    }
    if (status == CLNN_SUCCESS) {
        net->param_count = net->state_count = 0;
        arg.count_only = 0;
        clnn_sequence_visit(&net->seq, collect, &arg);
    }
    if (status == CLNN_SUCCESS && net->param_count == 0)
        status = clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                            "clnn_network_create: the network has no trainable parameter");
    if (status == CLNN_SUCCESS)
        status = clnn_optimizer_create(ctx, &net->options.train.optimizer, net->params,
                                       net->param_count, &net->optimizer);
    if (status == CLNN_SUCCESS)
        status = clnn_network_create_probes(net);
    if (status != CLNN_SUCCESS) {
        clnn_network_destroy(net);
        return status;
    }
    *out = net;
    return CLNN_SUCCESS;
}

/* ---- access ---------------------------------------------------------------------------------- */

clnn_status clnn_network_get_shapes(const clnn_network *net, int *input_ndim, size_t *input_dims,
                                    int *output_ndim, size_t *output_dims, size_t *max_batch)
{
    if (!net)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_get_shapes: network is NULL");
    if (input_ndim)
        *input_ndim = net->in.ndim;
    if (input_dims)
        memcpy(input_dims, net->in.dims, (size_t)net->in.ndim * sizeof *input_dims);
    if (output_ndim)
        *output_ndim = net->out.ndim;
    if (output_dims)
        memcpy(output_dims, net->out.dims, (size_t)net->out.ndim * sizeof *output_dims);
    if (max_batch)
        *max_batch = net->max_batch;
    return CLNN_SUCCESS;
}

clnn_status clnn_network_parameter_count(const clnn_network *net, size_t *count)
{
    if (!net || !count)
        return clnn_error(net ? net->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_parameter_count: %s is NULL", net ? "count" : "network");
    size_t n = 0;
    for (size_t i = 0; i < net->param_count; ++i)
        n += net->params[i]->count;
    *count = n;
    return CLNN_SUCCESS;
}

clnn_status clnn_network_get_parameters(const clnn_network *net, clnn_tensor **params,
                                        clnn_tensor **grads, size_t capacity, size_t *count)
{
    if (!net || !count)
        return clnn_error(net ? net->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_get_parameters: %s is NULL", net ? "count" : "network");
    *count = net->param_count;
    if ((params || grads) && capacity < net->param_count)
        return clnn_error(net->ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_get_parameters: capacity %zu is below the %zu tensors",
                          capacity, net->param_count);
    for (size_t i = 0; i < net->param_count; ++i) {
        if (params)
            params[i] = net->params[i];
        if (grads)
            grads[i] = net->grads[i];
    }
    return CLNN_SUCCESS;
}

/* The programs of a sequence's layers beyond the shared one: batch norm's (for its activation,
 * ReLU's for none), and activation.cl's for an activation other than the identity after a dense
 * layer, a convolution, an activation layer or a residual sum (a sum's ReLU is fused in the
 * shared program). */
static clnn_status build_layer_programs(clnn_context *ctx, clnn_sequence *seq)
{
    clnn_status status = CLNN_SUCCESS;
    for (size_t i = 0; status == CLNN_SUCCESS && i < seq->count; ++i) {
        clnn_layer *layer = &seq->layers[i];
        const clnn_activation_desc *act = &layer->spec.activation;
        switch (layer->spec.type) {
        case CLNN_LAYER_BATCH_NORM:
            status = clnn_batch_norm_build(ctx, act);
            break;
        case CLNN_LAYER_DENSE:
        case CLNN_LAYER_CONV2D:
        case CLNN_LAYER_ACTIVATION:
            status = clnn_activation_build(ctx, act);
            break;
        case CLNN_LAYER_RESIDUAL_BEGIN: /* the projection has no activation */
            status = build_layer_programs(ctx, clnn_residual_body(layer));
            act = clnn_residual_end_activation(layer);
            if (status == CLNN_SUCCESS && act->kind != CLNN_ACTIVATION_RELU)
                status = clnn_activation_build(ctx, act);
            break;
        default: /* the shared program's kernels only */
            break;
        }
    }
    return status;
}

clnn_status clnn_network_build_programs(clnn_network *net)
{
    if (!net)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_build_programs: network is NULL");
    clnn_status status = clnn_context_build_programs(net->ctx);
    if (status == CLNN_SUCCESS)
        status = build_layer_programs(net->ctx, &net->seq);
    return status;
}

clnn_status clnn_network_get_step(const clnn_network *net, uint64_t *step)
{
    if (!net || !step)
        return clnn_error(net ? net->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_get_step: %s is NULL", net ? "step" : "network");
    *step = net->step;
    return CLNN_SUCCESS;
}

clnn_status clnn_network_set_lr(clnn_network *net, double lr)
{
    if (!net)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_network_set_lr: network is NULL");
    clnn_status status = clnn_optimizer_set_lr(net->optimizer, lr);
    if (status == CLNN_SUCCESS)
        net->has_schedule = 0;
    return status;
}

clnn_status clnn_network_set_lr_schedule(clnn_network *net, const clnn_lr_schedule *schedule)
{
    if (!net)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_set_lr_schedule: network is NULL");
    if (!schedule) {
        net->has_schedule = 0;
        return CLNN_SUCCESS;
    }
    double lr;
    clnn_status status = clnn_lr_schedule_value(schedule, net->step, &lr);
    if (status != CLNN_SUCCESS)
        return clnn_error(net->ctx, status, "clnn_network_set_lr_schedule: %s",
                          clnn_context_last_error(NULL));
    net->schedule = *schedule;
    net->has_schedule = 1;
    return CLNN_SUCCESS;
}

clnn_tensor *clnn_network_output(const clnn_network *net)
{
    return clnn_sequence_output(&net->seq);
}
