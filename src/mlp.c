/*
 * The MLP builder: a multi-layer perceptron described by a clnn_mlp_spec (hidden layers of
 * Linear -> [BatchNorm1d] -> activation -> [Dropout], then a linear output layer), built as a
 * network of the network engine (src/network.c) and run through it. Kept for the callers of
 * clnn_mlp_* and clnn-train's checkpoints: a network made here reads format 1 files, whose
 * description is the MLP spec written below.
 *
 * Hidden layer l becomes a dense layer (with its activation fused when there is no batch norm),
 * then batch norm with the activation, then dropout; weight and dropout streams follow the
 * layer's place exactly as the MLP engine's always did, so models train bit for bit as before.
 */
#include "network_internal.h"
#include "serialize.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct clnn_mlp {
    clnn_context *ctx;
    clnn_network *net;
    clnn_mlp_spec spec;
    clnn_mlp_train_options train;
    /* Per MLP layer (hidden ones, then the output layer): the network layer holding its weight,
     * and the one producing its output h (hidden layers). */
    size_t dense_layer[CLNN_MLP_MAX_HIDDEN + 1];
    size_t output_layer[CLNN_MLP_MAX_HIDDEN];
    clnn_layer_health *health; /* one per network layer */
};

static const char *const loss_names[] = {"cross_entropy", "mse"};
_Static_assert(sizeof(loss_names) / sizeof(loss_names[0]) == CLNN_MLP_LOSS_COUNT,
               "loss_names must name every clnn_mlp_loss");

const char *clnn_mlp_loss_name(clnn_mlp_loss loss)
{
    if ((int)loss < 0 || loss >= CLNN_MLP_LOSS_COUNT)
        return "unknown";
    return loss_names[loss];
}

/* ---- specs ------------------------------------------------------------------------------------- */

clnn_status clnn_mlp_spec_init(clnn_mlp_spec *spec, size_t inputs, size_t outputs)
{
    if (!spec)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_spec_init: spec is NULL");
    if (inputs == 0 || outputs == 0)
        return clnn_error(NULL, CLNN_ERR_INVALID_SHAPE,
                          "clnn_mlp_spec_init: inputs (%zu) and outputs (%zu) must be at least 1",
                          inputs, outputs);
    if (inputs > CLNN_MAX_ELEMENTS || outputs > CLNN_MAX_ELEMENTS)
        return clnn_error(NULL, CLNN_ERR_SIZE_OVERFLOW,
                          "clnn_mlp_spec_init: inputs (%zu) and outputs (%zu) must be at most %zu",
                          inputs, outputs, CLNN_MAX_ELEMENTS);
    clnn_init_params weight_init;
    clnn_status status = clnn_init_params_default(CLNN_INIT_KAIMING_NORMAL, &weight_init);
    if (status != CLNN_SUCCESS)
        return status;
    memset(spec, 0, sizeof *spec);
    spec->inputs = inputs;
    spec->outputs = outputs;
    spec->loss = CLNN_MLP_LOSS_CROSS_ENTROPY;
    spec->weight_init = weight_init;
    spec->weight_init.nonlinearity = CLNN_NONLINEARITY_RELU;
    spec->batch_norm_momentum = 0.1f;
    spec->batch_norm_eps = 1e-5f;
    return CLNN_SUCCESS;
}

clnn_status clnn_mlp_spec_add_layer(clnn_mlp_spec *spec, size_t width, clnn_activation activation,
                                    int batch_norm, float dropout)
{
    if (!spec)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_spec_add_layer: spec is NULL");
    if (spec->hidden_count >= CLNN_MLP_MAX_HIDDEN)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "the spec already holds %d hidden layers, the most it can",
                          CLNN_MLP_MAX_HIDDEN);
    if (width == 0)
        return clnn_error(NULL, CLNN_ERR_INVALID_SHAPE, "clnn_mlp_spec_add_layer: width is 0");
    if (width > CLNN_MAX_ELEMENTS)
        return clnn_error(NULL, CLNN_ERR_SIZE_OVERFLOW,
                          "clnn_mlp_spec_add_layer: width %zu is above %zu", width,
                          CLNN_MAX_ELEMENTS);
    if (!(dropout >= 0.0f && dropout < 1.0f))
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_mlp_spec_add_layer: dropout is %g; it must be in [0, 1)",
                          (double)dropout);
    clnn_mlp_layer_spec layer;
    memset(&layer, 0, sizeof layer);
    clnn_status status = clnn_activation_desc_init(&layer.activation, activation);
    if (status != CLNN_SUCCESS)
        return status;
    layer.width = width;
    layer.batch_norm = batch_norm != 0;
    layer.dropout = dropout;
    spec->hidden[spec->hidden_count++] = layer;
    return CLNN_SUCCESS;
}

static clnn_status check_spec(clnn_context *ctx, const clnn_mlp_spec *spec)
{
    if (spec->inputs == 0 || spec->outputs == 0)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE, "spec: inputs (%zu) and outputs (%zu) must "
                          "be at least 1", spec->inputs, spec->outputs);
    if (spec->hidden_count > CLNN_MLP_MAX_HIDDEN)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "spec: hidden_count is %zu; at most %d",
                          spec->hidden_count, CLNN_MLP_MAX_HIDDEN);
    if ((int)spec->loss < 0 || spec->loss >= CLNN_MLP_LOSS_COUNT)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "spec: unknown loss %d", (int)spec->loss);
    if (!(spec->batch_norm_momentum >= 0.0f && spec->batch_norm_momentum <= 1.0f))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "spec: batch_norm_momentum is %g; it must be in [0, 1]",
                          (double)spec->batch_norm_momentum);
    if (!(spec->batch_norm_eps > 0.0f) || !isfinite(spec->batch_norm_eps))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "spec: batch_norm_eps is %g; it must be positive and finite",
                          (double)spec->batch_norm_eps);
    for (size_t l = 0; l < spec->hidden_count; ++l) {
        const clnn_mlp_layer_spec *layer = &spec->hidden[l];
        if (layer->width == 0)
            return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE, "spec: hidden layer %zu has width 0",
                              l);
        if (!(layer->dropout >= 0.0f && layer->dropout < 1.0f))
            return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                              "spec: hidden layer %zu has dropout %g; it must be in [0, 1)", l,
                              (double)layer->dropout);
        clnn_status status = clnn_activation_desc_check(&layer->activation);
        if (status != CLNN_SUCCESS)
            return clnn_error(ctx, status, "spec: hidden layer %zu: %s", l,
                              clnn_context_last_error(NULL));
    }
    return CLNN_SUCCESS;
}

/* 1 when a * b is at most CLNN_MAX_ELEMENTS (then any product with sizeof(float) fits too). */
static int product_fits(size_t a, size_t b)
{
    return a <= CLNN_MAX_ELEMENTS && b <= CLNN_MAX_ELEMENTS &&
           (a == 0 || b <= CLNN_MAX_ELEMENTS / a);
}

/* Every size the model allocates from: the weights (out x in) and the batch-sized activations
 * (max_batch x width) of each layer, the input batch and the outputs. Checked before anything
 * is allocated, so no size product below can wrap. */
static clnn_status check_sizes(clnn_context *ctx, const clnn_mlp_spec *spec, size_t max_batch)
{
    if (!product_fits(max_batch, spec->inputs))
        return clnn_error(ctx, CLNN_ERR_SIZE_OVERFLOW,
                          "clnn_mlp_create: inputs (%zu) x max_batch (%zu) is above %zu elements",
                          spec->inputs, max_batch, CLNN_MAX_ELEMENTS);
    size_t in = spec->inputs;
    for (size_t l = 0; l <= spec->hidden_count; ++l) {
        int hidden = l < spec->hidden_count;
        size_t out = hidden ? spec->hidden[l].width : spec->outputs;
        if (!product_fits(out, in) || !product_fits(max_batch, out)) {
            char layer[48];
            if (hidden)
                snprintf(layer, sizeof layer, "hidden layer %zu (width %zu)", l, out);
            else
                snprintf(layer, sizeof layer, "the output layer (outputs %zu)", out);
            return clnn_error(ctx, CLNN_ERR_SIZE_OVERFLOW,
                              "clnn_mlp_create: %s: its %zu x %zu weights or max_batch (%zu) x "
                              "%zu activations are above %zu elements",
                              layer, out, in, max_batch, out, CLNN_MAX_ELEMENTS);
        }
        in = out;
    }
    return CLNN_SUCCESS;
}

clnn_status clnn_mlp_train_options_init(clnn_mlp_train_options *options)
{
    if (!options)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_mlp_train_options_init: options is NULL");
    return clnn_train_options_init(options);
}

clnn_status clnn_mlp_health_options_init(clnn_mlp_health_options *options)
{
    if (!options)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_mlp_health_options_init: options is NULL");
    return clnn_health_options_init(options);
}


/* ---- building the network ---------------------------------------------------------------------- */

/* The MLP's description in format 1 checkpoints (what they must match to be loaded). */
static void write_mlp_structure(const void *p, struct clnn_writer *w)
{
    const clnn_mlp_spec *s = p;
    clnn_writer_u64(w, s->inputs);
    clnn_writer_u64(w, s->outputs);
    clnn_writer_u64(w, s->hidden_count);
    for (size_t l = 0; l < s->hidden_count; ++l) {
        const clnn_mlp_layer_spec *h = &s->hidden[l];
        clnn_writer_u64(w, h->width);
        clnn_writer_u32(w, (uint32_t)h->activation.kind);
        clnn_writer_f32(w, h->activation.negative_slope);
        clnn_writer_f32(w, h->activation.alpha);
        clnn_writer_f32(w, h->activation.min_val);
        clnn_writer_f32(w, h->activation.max_val);
        clnn_writer_f32(w, h->activation.beta);
        clnn_writer_f32(w, h->activation.threshold);
        clnn_writer_u32(w, (uint32_t)h->batch_norm);
        clnn_writer_f32(w, h->dropout);
    }
    clnn_writer_u32(w, (uint32_t)s->loss);
    clnn_writer_f32(w, s->batch_norm_momentum);
    clnn_writer_f32(w, s->batch_norm_eps);
}

/* The network spec of an MLP spec, and where each MLP layer's parts land in it. */
static clnn_status network_spec_of(clnn_mlp *mlp, clnn_network_spec **out)
{
    const clnn_mlp_spec *s = &mlp->spec;
    clnn_network_spec *spec = NULL;
    clnn_status status = clnn_network_spec_create(&spec, 1, &s->inputs);
    size_t index = 0;
    for (size_t l = 0; status == CLNN_SUCCESS && l < s->hidden_count; ++l) {
        const clnn_mlp_layer_spec *h = &s->hidden[l];
        mlp->dense_layer[l] = index++;
        if (h->batch_norm) {
            status = clnn_network_spec_add_dense(spec, h->width, NULL);
            clnn_layer_spec bn;
            clnn_layer_spec_init(&bn, CLNN_LAYER_BATCH_NORM);
            bn.activation = h->activation;
            bn.momentum = s->batch_norm_momentum;
            bn.eps = s->batch_norm_eps;
            if (status == CLNN_SUCCESS)
                status = clnn_network_spec_add(spec, &bn);
            mlp->output_layer[l] = index++;
        } else {
            status = clnn_network_spec_add_dense(spec, h->width, &h->activation);
            mlp->output_layer[l] = mlp->dense_layer[l];
        }
        if (status == CLNN_SUCCESS && h->dropout > 0.0f) {
            status = clnn_network_spec_add_dropout(spec, h->dropout);
            index++;
        }
    }
    mlp->dense_layer[s->hidden_count] = index;
    if (status == CLNN_SUCCESS)
        status = clnn_network_spec_add_dense(spec, s->outputs, NULL);
    if (status != CLNN_SUCCESS) {
        clnn_network_spec_destroy(spec);
        return status;
    }
    *out = spec;
    return CLNN_SUCCESS;
}

clnn_status clnn_mlp_destroy(clnn_mlp *mlp)
{
    if (!mlp)
        return CLNN_SUCCESS;
    clnn_network_destroy(mlp->net);
    free(mlp->health);
    free(mlp);
    return CLNN_SUCCESS;
}

clnn_status clnn_mlp_create(clnn_context *ctx, const clnn_mlp_spec *spec,
                            const clnn_mlp_train_options *train, size_t max_batch,
                            clnn_mlp **out)
{
    clnn_status status = clnn_check_context(ctx, "clnn_mlp_create");
    if (status != CLNN_SUCCESS)
        return status;
    if (!spec || !out)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_create: %s is NULL",
                          spec ? "mlp" : "spec");
    status = check_spec(ctx, spec);
    if (status != CLNN_SUCCESS)
        return status;
    if (max_batch == 0 || max_batch > CLNN_MAX_ELEMENTS)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_mlp_create: max_batch is %zu; it must be at least 1", max_batch);
    status = check_sizes(ctx, spec, max_batch);
    if (status != CLNN_SUCCESS)
        return status;
    if (train && !(train->clip_norm >= 0.0f))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "train options: clip_norm is %g; it must be >= 0 (0: no clipping)",
                          (double)train->clip_norm);

    clnn_mlp *mlp = calloc(1, sizeof *mlp);
    if (!mlp)
        return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory creating the MLP");
    mlp->ctx = ctx;
    mlp->spec = *spec;
    if (train)
        mlp->train = *train;
    else
        clnn_mlp_train_options_init(&mlp->train);

    clnn_network_options options;
    clnn_network_options_init(&options);
    options.loss = spec->loss == CLNN_MLP_LOSS_MSE ? CLNN_LOSS_MSE : CLNN_LOSS_CROSS_ENTROPY;
    options.weight_init = spec->weight_init;
    options.seed = spec->seed;
    options.train = mlp->train;
    clnn_network_spec *network_spec = NULL;
    status = network_spec_of(mlp, &network_spec);
    if (status == CLNN_SUCCESS)
        status = clnn_network_create(ctx, network_spec, &options, max_batch, &mlp->net);
    clnn_network_spec_destroy(network_spec);
    if (status == CLNN_SUCCESS) {
        mlp->net->mlp_spec = &mlp->spec;
        mlp->net->legacy_structure = write_mlp_structure;
        mlp->health = calloc(mlp->net->seq.count, sizeof *mlp->health);
        if (!mlp->health)
            status = clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory creating the MLP");
    }
    if (status != CLNN_SUCCESS) {
        clnn_mlp_destroy(mlp);
        return status;
    }
    *out = mlp;
    return CLNN_SUCCESS;
}

/* ---- access ------------------------------------------------------------------------------------ */

clnn_status clnn_mlp_get_network(const clnn_mlp *mlp, clnn_network **network)
{
    if (!mlp || !network)
        return clnn_error(mlp ? mlp->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_mlp_get_network: %s is NULL", mlp ? "network" : "mlp");
    *network = mlp->net;
    return CLNN_SUCCESS;
}

clnn_status clnn_mlp_get_spec(const clnn_mlp *mlp, clnn_mlp_spec *spec)
{
    if (!mlp || !spec)
        return clnn_error(mlp ? mlp->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_mlp_get_spec: %s is NULL", mlp ? "spec" : "mlp");
    *spec = mlp->spec;
    spec->weight_init = mlp->net->options.weight_init; /* a loaded checkpoint's, if any */
    spec->seed = mlp->net->options.seed;
    return CLNN_SUCCESS;
}

clnn_status clnn_mlp_parameter_count(const clnn_mlp *mlp, size_t *count)
{
    if (!mlp || !count)
        return clnn_error(mlp ? mlp->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_mlp_parameter_count: %s is NULL", mlp ? "count" : "mlp");
    return clnn_network_parameter_count(mlp->net, count);
}

clnn_status clnn_mlp_get_step(const clnn_mlp *mlp, uint64_t *step)
{
    if (!mlp || !step)
        return clnn_error(mlp ? mlp->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_mlp_get_step: %s is NULL", mlp ? "step" : "mlp");
    return clnn_network_get_step(mlp->net, step);
}

clnn_status clnn_mlp_set_lr(clnn_mlp *mlp, double lr)
{
    if (!mlp)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_set_lr: mlp is NULL");
    return clnn_network_set_lr(mlp->net, lr);
}

clnn_status clnn_mlp_get_parameters(const clnn_mlp *mlp, clnn_tensor **params,
                                    clnn_tensor **grads, size_t capacity, size_t *count)
{
    if (!mlp || !count)
        return clnn_error(mlp ? mlp->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_mlp_get_parameters: %s is NULL", mlp ? "count" : "mlp");
    return clnn_network_get_parameters(mlp->net, params, grads, capacity, count);
}

/* ---- training and inference ------------------------------------------------------------------- */

clnn_status clnn_mlp_train_step(clnn_mlp *mlp, const float *x, const void *y, size_t batch,
                                clnn_mlp_step_info *info)
{
    if (!mlp)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_train_step: mlp is NULL");
    if (!y)
        return clnn_error(mlp->ctx, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_train_step: y is NULL");
    clnn_network *net = mlp->net;
    clnn_status status = clnn_network_load_batch(net, x, y, batch, 1, "clnn_mlp_train_step");
    if (status == CLNN_SUCCESS)
        status = clnn_network_step(net, net->x, net->targets, net->labels, info);
    return status;
}

clnn_status clnn_mlp_evaluate(clnn_mlp *mlp, const float *x, const void *y, size_t batch,
                              double *loss_sum, size_t *correct)
{
    if (!mlp)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_evaluate: mlp is NULL");
    return clnn_network_evaluate(mlp->net, x, y, batch, loss_sum, correct);
}

clnn_status clnn_mlp_predict(clnn_mlp *mlp, const float *x, size_t batch, float *outputs)
{
    if (!mlp)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_predict: mlp is NULL");
    return clnn_network_predict(mlp->net, x, batch, outputs);
}

/* ---- gradient-health diagnostics ------------------------------------------------------------- */

/* The network's per-layer health gathered per MLP layer. */
static clnn_status mlp_health(clnn_mlp *mlp, const clnn_health_options *options, int stepped,
                              clnn_mlp_health *health)
{
    clnn_network_health summary;
    clnn_status status = clnn_network_measure_health(mlp->net, options, stepped, &summary,
                                                     mlp->health, mlp->net->seq.count);
    if (status != CLNN_SUCCESS)
        return status;
    memset(health, 0, sizeof *health);
    health->layer_count = mlp->spec.hidden_count + 1;
    for (size_t l = 0; l < health->layer_count; ++l) {
        const clnn_layer_health *dense = &mlp->health[mlp->dense_layer[l]];
        clnn_mlp_layer_health *h = &health->layers[l];
        h->weight_norm = dense->weight_norm;
        h->weight_grad_norm = dense->weight_grad_norm;
        h->update_ratio = dense->update_ratio;
        if (l < mlp->spec.hidden_count) {
            const clnn_layer_health *output = &mlp->health[mlp->output_layer[l]];
            h->activation_mean = output->activation_mean;
            h->activation_std = output->activation_std;
            h->dead_fraction = output->dead_fraction;
        }
    }
    health->loss = summary.loss;
    health->grad_norm_ratio = summary.grad_norm_ratio;
    health->vanishing = summary.vanishing;
    health->exploding = summary.exploding;
    return CLNN_SUCCESS;
}

/* The health functions' common path: arguments, the pass, the health per MLP layer. */
static clnn_status health_call(clnn_mlp *mlp, const float *x, const void *y, size_t batch,
                               const clnn_mlp_health_options *options, int stepped,
                               clnn_mlp_step_info *info, clnn_mlp_health *health,
                               const char *function)
{
    if (!mlp)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "%s: mlp is NULL", function);
    if (!health || !y)
        return clnn_error(mlp->ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", function,
                          health ? "y" : "health");
    clnn_status status =
        clnn_network_health_pass(mlp->net, x, y, batch, options, stepped, info, function);
    if (status == CLNN_SUCCESS)
        status = mlp_health(mlp, options, stepped, health);
    return status;
}

clnn_status clnn_mlp_train_step_health(clnn_mlp *mlp, const float *x, const void *y, size_t batch,
                                       const clnn_mlp_health_options *options,
                                       clnn_mlp_step_info *info, clnn_mlp_health *health)
{
    return health_call(mlp, x, y, batch, options, 1, info, health, "clnn_mlp_train_step_health");
}

clnn_status clnn_mlp_probe_health(clnn_mlp *mlp, const float *x, const void *y, size_t batch,
                                  const clnn_mlp_health_options *options, clnn_mlp_health *health)
{
    return health_call(mlp, x, y, batch, options, 0, NULL, health, "clnn_mlp_probe_health");
}

/* ---- checkpoints ------------------------------------------------------------------------------- */

clnn_status clnn_mlp_save(clnn_mlp *mlp, const char *path, const void *user, size_t user_size)
{
    if (!mlp)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_save: mlp is NULL");
    return clnn_network_save(mlp->net, path, user, user_size);
}

clnn_status clnn_mlp_load(clnn_mlp *mlp, const char *path, void *user, size_t user_capacity,
                          size_t *user_size)
{
    if (!mlp)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_load: mlp is NULL");
    return clnn_network_load(mlp->net, path, user, user_capacity, user_size);
}
