/*
 * The network engine: building a network from a spec (layers, workspace, loss buffers,
 * optimiser), and running it: the training step (forward, loss, backward, clipping, update),
 * inference, parameter access and learning rates. Every buffer is allocated here, for the
 * largest batch; a smaller batch runs through the same buffers (clnn_tensor_set_rows), so a step
 * allocates nothing. Health diagnostics: src/network_health.c; checkpoints:
 * src/network_checkpoint.c; the layers: src/layer.c and src/layer_*.c.
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
    clnn_optimizer_destroy(net->optimizer);
    clnn_tensor_destroy(net->x);
    clnn_tensor_destroy(net->targets);
    clnn_tensor_destroy(net->loss);
    clnn_tensor_destroy(net->grad_output);
    if (net->labels)
        clReleaseMemObject(net->labels);
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
        for (size_t i = 0; i < 3; ++i) {
            cl_int err;
            *buffers[i] = clCreateBuffer(net->ctx->cl_ctx, CL_MEM_READ_WRITE,
                                         level->floats * sizeof(float), NULL, &err);
            if (err != CL_SUCCESS) {
                *buffers[i] = NULL;
                return clnn_cl_error(net->ctx, err, "clCreateBuffer(network workspace)");
            }
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
    if (status == CLNN_SUCCESS && net->options.loss == CLNN_LOSS_CROSS_ENTROPY) {
        cl_int err;
        net->labels = clCreateBuffer(ctx->cl_ctx, CL_MEM_READ_ONLY,
                                     net->max_batch * sizeof(cl_int), NULL, &err);
        if (err != CL_SUCCESS) {
            net->labels = NULL;
            status = clnn_cl_error(ctx, err, "clCreateBuffer(labels)");
        }
    }
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
                          .seed = options->seed};
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

    /* The workspace at the real batch, then the layers and their views of it. */
    env.max_batch = max_batch;
    env.dense_ordinal = env.dropout_ordinal = 0;
    env.dropout_since_dense = 0;
    status = clnn_sequence_build(&unused, records, 0, count, &in, &env, net->workspace, 0, &shape);
    if (status == CLNN_SUCCESS)
        status = create_workspace(net);
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

/* ---- running --------------------------------------------------------------------------------- */

clnn_status clnn_network_set_batch(clnn_network *net, size_t batch)
{
    if (batch == net->batch)
        return CLNN_SUCCESS;
    clnn_status status = clnn_tensor_set_rows(net->x, batch);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_set_rows(net->grad_output, batch);
    if (status == CLNN_SUCCESS && net->targets)
        status = clnn_tensor_set_rows(net->targets, batch);
    if (status == CLNN_SUCCESS)
        status = clnn_sequence_set_batch(&net->seq, batch);
    if (status == CLNN_SUCCESS)
        net->batch = batch;
    return status;
}

static clnn_status check_batch(clnn_network *net, size_t batch, int training, const char *function)
{
    if (batch == 0 || batch > net->max_batch)
        return clnn_error(net->ctx, CLNN_ERR_INVALID_SHAPE,
                          "%s: batch is %zu; it must be 1 to %zu (the network's max_batch)",
                          function, batch, net->max_batch);
    if (training && batch < 2 && net->has_batch_norm)
        return clnn_error(net->ctx, CLNN_ERR_INVALID_SHAPE,
                          "%s: batch norm needs at least 2 samples to train; batch is 1",
                          function);
    return CLNN_SUCCESS;
}

clnn_status clnn_network_load_batch(clnn_network *net, const float *x, const void *y,
                                    size_t batch, int training, const char *function)
{
    clnn_context *ctx = net->ctx;
    if (!x)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: x is NULL", function);
    clnn_status status = check_batch(net, batch, training, function);
    if (status != CLNN_SUCCESS)
        return status;
    if (y && net->options.loss == CLNN_LOSS_CROSS_ENTROPY) {
        const int32_t *labels = y;
        for (size_t i = 0; i < batch; ++i)
            if (labels[i] < 0 || (size_t)labels[i] >= net->out_size)
                return clnn_error(ctx, CLNN_ERR_OUT_OF_RANGE,
                                  "%s: label %d of sample %zu is outside [0, %zu)", function,
                                  (int)labels[i], i, net->out_size);
    }
    status = clnn_network_set_batch(net, batch);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_upload(net->x, x, batch * net->in_size);
    if (status == CLNN_SUCCESS && y) {
        if (net->options.loss == CLNN_LOSS_CROSS_ENTROPY)
            CLNN_CL_CHECK(ctx,
                          clEnqueueWriteBuffer(ctx->queue, net->labels, CL_TRUE, 0,
                                               batch * sizeof(cl_int), y, 0, NULL, NULL),
                          "uploading labels");
        else
            status = clnn_tensor_upload(net->targets, y, batch * net->out_size);
    }
    return status;
}

clnn_status clnn_network_forward(clnn_network *net, const clnn_tensor *x, int training,
                                 int update_running)
{
    clnn_pass pass = {training, update_running, net->step};
    return clnn_sequence_forward(&net->seq, &pass, x);
}

clnn_status clnn_network_loss(clnn_network *net, const clnn_tensor *targets, cl_mem labels)
{
    clnn_tensor *output = clnn_network_output(net);
    switch (net->options.loss) {
    case CLNN_LOSS_CROSS_ENTROPY: {
        clnn_cross_entropy_options options;
        clnn_cross_entropy_options_init(&options);
        return clnn_cross_entropy(net->ctx, output, labels, &options, net->loss,
                                  net->grad_output);
    }
    case CLNN_LOSS_MSE:
        return clnn_mse_loss(net->ctx, output, targets, CLNN_REDUCTION_MEAN, net->loss,
                             net->grad_output);
    default:
        return clnn_bce_with_logits_loss(net->ctx, output, targets, CLNN_REDUCTION_MEAN,
                                         net->loss, net->grad_output);
    }
}

clnn_status clnn_network_backward(clnn_network *net, const clnn_tensor *x)
{
    clnn_pass pass = {1, 0, net->step};
    return clnn_sequence_backward(&net->seq, &pass, x, 0.0f);
}

clnn_status clnn_network_update(clnn_network *net, float *norm, int *skipped)
{
    const clnn_train_options *train = &net->options.train;
    *norm = NAN;
    *skipped = 0;
    clnn_status status = CLNN_SUCCESS;
    if (train->clip_norm > 0.0f || train->skip_non_finite) {
        float max_norm = train->clip_norm > 0.0f ? train->clip_norm : INFINITY;
        status = clnn_clip_by_global_norm(net->grads, net->param_count, max_norm, CLNN_NORM_L2,
                                          norm);
        if (status == CLNN_ERR_NON_FINITE && train->skip_non_finite) {
            *skipped = 1;
            return CLNN_SUCCESS;
        }
    }
    if (status == CLNN_SUCCESS && net->has_schedule) {
        double lr;
        status = clnn_lr_schedule_value(&net->schedule, net->step, &lr);
        if (status == CLNN_SUCCESS)
            status = clnn_optimizer_set_lr(net->optimizer, lr);
    }
    if (status == CLNN_SUCCESS)
        status = clnn_optimizer_step(net->optimizer, net->grads, net->param_count);
    return status;
}

clnn_status clnn_network_step(clnn_network *net, const clnn_tensor *x, const clnn_tensor *targets,
                              cl_mem labels, clnn_step_info *info)
{
    clnn_status status = clnn_network_forward(net, x, 1, 1);
    if (status == CLNN_SUCCESS)
        status = clnn_network_loss(net, targets, labels);
    if (status == CLNN_SUCCESS)
        status = clnn_network_backward(net, x);
    float norm = NAN;
    int skipped = 0;
    if (status == CLNN_SUCCESS)
        status = clnn_network_update(net, &norm, &skipped);
    if (status != CLNN_SUCCESS)
        return status;
    net->step++;
    if (info) {
        info->grad_norm = norm;
        info->skipped = skipped;
        status = clnn_tensor_download(net->loss, &info->loss, 1);
    }
    return status;
}

clnn_status clnn_network_train_step(clnn_network *net, const float *x, const void *y,
                                    size_t batch, clnn_step_info *info)
{
    if (!net)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_train_step: network is NULL");
    if (!y)
        return clnn_error(net->ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_train_step: y is NULL");
    clnn_status status = clnn_network_load_batch(net, x, y, batch, 1, "clnn_network_train_step");
    if (status == CLNN_SUCCESS)
        status = clnn_network_step(net, net->x, net->targets, net->labels, info);
    return status;
}

/* The batch of a device tensor of shape (batch, net->in), after checking it. */
static clnn_status tensor_batch(clnn_network *net, const clnn_tensor *t, const clnn_shape *shape,
                                const char *name, const char *function, size_t *batch)
{
    clnn_status status = clnn_check_tensor(net->ctx, t, name);
    if (status != CLNN_SUCCESS)
        return status;
    int fits = t->ndim == shape->ndim + 1;
    for (int i = 0; fits && i < shape->ndim; ++i)
        fits = t->dims[i + 1] == shape->dims[i];
    if (!fits) {
        char got[96], want[96];
        clnn_format_shape(got, sizeof got, t->ndim, t->dims);
        clnn_format_shape(want, sizeof want, shape->ndim, shape->dims);
        return clnn_error(net->ctx, CLNN_ERR_INVALID_SHAPE,
                          "%s: %s is %s; it must be (batch, %s)", function, name, got, want);
    }
    *batch = t->dims[0];
    return CLNN_SUCCESS;
}

clnn_status clnn_network_train_step_tensors(clnn_network *net, const clnn_tensor *x,
                                            const clnn_tensor *y, clnn_step_info *info)
{
    static const char function[] = "clnn_network_train_step_tensors";
    if (!net)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "%s: network is NULL", function);
    size_t batch = 0, y_batch = 0;
    clnn_status status = tensor_batch(net, x, &net->in, "x", function, &batch);
    if (status == CLNN_SUCCESS)
        status = check_batch(net, batch, 1, function);
    if (status != CLNN_SUCCESS)
        return status;
    if (net->options.loss == CLNN_LOSS_CROSS_ENTROPY) {
        status = clnn_check_int32_tensor(net->ctx, y, "y");
        if (status == CLNN_SUCCESS && y->count != batch)
            status = clnn_error(net->ctx, CLNN_ERR_INVALID_SHAPE,
                                "%s: y holds %zu labels for a batch of %zu", function, y->count,
                                batch);
    } else {
        status = tensor_batch(net, y, &net->out, "y", function, &y_batch);
        if (status == CLNN_SUCCESS && y_batch != batch)
            status = clnn_error(net->ctx, CLNN_ERR_INVALID_SHAPE,
                                "%s: y holds %zu samples for a batch of %zu", function, y_batch,
                                batch);
    }
    if (status == CLNN_SUCCESS)
        status = clnn_network_set_batch(net, batch);
    if (status == CLNN_SUCCESS)
        status = clnn_network_step(net, x, y, y->buffer, info);
    return status;
}

/* Inference on the loaded batch, the outputs copied to net->host_outputs. */
static clnn_status infer(clnn_network *net, const float *x, const void *y, size_t batch,
                         const char *function)
{
    clnn_status status = clnn_network_load_batch(net, x, y, batch, 0, function);
    if (status == CLNN_SUCCESS)
        status = clnn_network_forward(net, net->x, 0, 0);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_download(clnn_network_output(net), net->host_outputs,
                                      batch * net->out_size);
    return status;
}

clnn_status clnn_network_evaluate(clnn_network *net, const float *x, const void *y, size_t batch,
                                  double *loss_sum, size_t *correct)
{
    if (!net)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_evaluate: network is NULL");
    if (!y)
        return clnn_error(net->ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_evaluate: y is NULL");
    clnn_status status = infer(net, x, y, batch, "clnn_network_evaluate");
    if (status != CLNN_SUCCESS)
        return status;
    /* The summed loss and the arg-max in double precision on the host: the outputs are small. */
    const size_t c = net->out_size;
    double total = 0.0;
    size_t right = 0;
    for (size_t i = 0; i < batch; ++i) {
        const float *row = net->host_outputs + i * c;
        if (net->options.loss == CLNN_LOSS_CROSS_ENTROPY) {
            int32_t label = ((const int32_t *)y)[i];
            size_t best = 0;
            double max = row[0];
            for (size_t j = 1; j < c; ++j)
                if (row[j] > max || isnan(max)) {
                    max = row[j];
                    best = j;
                }
            double sum = 0.0;
            for (size_t j = 0; j < c; ++j)
                sum += exp((double)row[j] - max);
            total += log(sum) + max - (double)row[label];
            right += best == (size_t)label;
            continue;
        }
        const float *target = (const float *)y + i * c;
        for (size_t j = 0; j < c; ++j) {
            double z = row[j], t = target[j];
            if (net->options.loss == CLNN_LOSS_MSE)
                total += (z - t) * (z - t) / (double)c;
            else /* max(z, 0) - z t + log(1 + exp(-|z|)) */
                total += (fmax(z, 0.0) - z * t + log1p(exp(-fabs(z)))) / (double)c;
        }
    }
    if (loss_sum)
        *loss_sum = total;
    if (correct)
        *correct = right;
    return CLNN_SUCCESS;
}

clnn_status clnn_network_predict(clnn_network *net, const float *x, size_t batch, float *outputs)
{
    if (!net)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_network_predict: network is NULL");
    if (!outputs)
        return clnn_error(net->ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_predict: outputs is NULL");
    clnn_status status = infer(net, x, NULL, batch, "clnn_network_predict");
    if (status == CLNN_SUCCESS)
        memcpy(outputs, net->host_outputs, batch * net->out_size * sizeof(float));
    return status;
}

clnn_status clnn_network_predict_tensors(clnn_network *net, const clnn_tensor *x,
                                         clnn_tensor *outputs)
{
    static const char function[] = "clnn_network_predict_tensors";
    if (!net)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "%s: network is NULL", function);
    size_t batch = 0, out_batch = 0;
    clnn_status status = tensor_batch(net, x, &net->in, "x", function, &batch);
    if (status == CLNN_SUCCESS)
        status = tensor_batch(net, outputs, &net->out, "outputs", function, &out_batch);
    if (status == CLNN_SUCCESS && out_batch != batch)
        status = clnn_error(net->ctx, CLNN_ERR_INVALID_SHAPE,
                            "%s: outputs holds %zu samples for a batch of %zu", function,
                            out_batch, batch);
    if (status == CLNN_SUCCESS)
        status = check_batch(net, batch, 0, function);
    if (status == CLNN_SUCCESS)
        status = clnn_network_set_batch(net, batch);
    if (status == CLNN_SUCCESS)
        status = clnn_network_forward(net, x, 0, 0);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_copy(outputs, clnn_network_output(net));
    return status;
}
