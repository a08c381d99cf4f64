/*
 * Gradient-health diagnostics of a network, measured on the device after a forward and backward
 * pass: per top-level layer the mean, spread and dead fraction of its output (column statistics
 * in diag.cl, combined on the host with Chan et al.'s parallel formula in double), and for dense
 * layers the weight and weight-gradient norms and the relative size of the last update. The
 * buffers they need are made with the network.
 */
#include "network_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

clnn_status clnn_health_options_init(clnn_health_options *options)
{
    if (!options)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_health_options_init: options is NULL");
    options->vanishing_ratio = 1e-3f;
    options->exploding_norm = 1e3f;
    return CLNN_SUCCESS;
}

clnn_status clnn_network_create_probes(clnn_network *net)
{
    clnn_context *ctx = net->ctx;
    net->probes = calloc(net->seq.count, sizeof *net->probes);
    if (!net->probes)
        return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory creating the network");
    clnn_status status = CLNN_SUCCESS;
    for (size_t i = 0; status == CLNN_SUCCESS && i < net->seq.count; ++i) {
        clnn_layer *layer = &net->seq.layers[i];
        clnn_health_probe *p = &net->probes[i];
        p->columns = clnn_shape_size(&layer->out);
        if (layer->spec.type == CLNN_LAYER_DENSE || layer->spec.type == CLNN_LAYER_CONV2D) {
            p->weight = layer->params[0];
            p->weight_grad = layer->grads[0];
            status = clnn_tensor_create(ctx, p->weight->ndim, p->weight->dims, &p->w_before);
            if (status == CLNN_SUCCESS)
                status = clnn_tensor_create(ctx, p->weight->ndim, p->weight->dims, &p->w_diff);
        }
        clnn_tensor **stats[] = {&p->stats_mean, &p->stats_m2, &p->stats_nonzero};
        for (size_t s = 0; status == CLNN_SUCCESS && s < 3; ++s)
            status = clnn_tensor_create(ctx, 1, &p->columns, stats[s]);
        p->column_mean = malloc(p->columns * sizeof(float));
        p->column_m2 = malloc(p->columns * sizeof(float));
        p->column_nonzero = malloc(p->columns * sizeof(float));
        if (status == CLNN_SUCCESS && (!p->column_mean || !p->column_m2 || !p->column_nonzero))
            status = clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory creating the network");
    }
    return status;
}

void clnn_network_destroy_probes(clnn_network *net)
{
    for (size_t i = 0; net->probes && i < net->seq.count; ++i) {
        clnn_health_probe *p = &net->probes[i];
        clnn_tensor *tensors[] = {p->w_before, p->w_diff, p->stats_mean, p->stats_m2,
                                  p->stats_nonzero};
        for (size_t t = 0; t < sizeof tensors / sizeof tensors[0]; ++t)
            clnn_tensor_destroy(tensors[t]);
        free(p->column_mean);
        free(p->column_m2);
        free(p->column_nonzero);
    }
    free(net->probes);
    net->probes = NULL;
}

clnn_status clnn_network_check_health_options(clnn_network *net,
                                              const clnn_health_options *options,
                                              const char *function)
{
    if (!options)
        return CLNN_SUCCESS;
    if (!(options->vanishing_ratio >= 0.0f) || isinf(options->vanishing_ratio))
        return clnn_error(net->ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: options->vanishing_ratio is %g; it must be finite and >= 0",
                          function, (double)options->vanishing_ratio);
    if (!(options->exploding_norm >= 0.0f))
        return clnn_error(net->ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: options->exploding_norm is %g; it must be >= 0", function,
                          (double)options->exploding_norm);
    return CLNN_SUCCESS;
}

clnn_status clnn_network_save_weights(clnn_network *net)
{
    clnn_status status = CLNN_SUCCESS;
    for (size_t i = 0; status == CLNN_SUCCESS && i < net->seq.count; ++i)
        if (net->probes[i].weight)
            status = clnn_tensor_copy(net->probes[i].w_before, net->probes[i].weight);
    return status;
}

static clnn_status tensor_norm(clnn_tensor *t, float *norm)
{
    clnn_tensor *list[1] = {t};
    return clnn_global_norm(list, 1, CLNN_NORM_L2, norm);
}

/* Statistics of a layer's output over the batch. */
static clnn_status output_health(clnn_network *net, clnn_health_probe *p, const clnn_tensor *y,
                                 clnn_layer_health *out)
{
    clnn_context *ctx = net->ctx;
    cl_kernel kernel;
    clnn_status status = clnn_get_kernel(ctx, "diag.cl", NULL, "clnn_column_stats", &kernel);
    if (status != CLNN_SUCCESS)
        return status;
    cl_uint rows = (cl_uint)net->batch, cols = (cl_uint)p->columns;
    status = clnn_run_kernel_1d(ctx, kernel, "clnn_column_stats", p->columns,
                                CLNN_ARGS(CLNN_ARG(y->buffer), CLNN_ARG(rows), CLNN_ARG(cols),
                                          CLNN_ARG(p->stats_mean->buffer),
                                          CLNN_ARG(p->stats_m2->buffer),
                                          CLNN_ARG(p->stats_nonzero->buffer)));
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_download(p->stats_mean, p->column_mean, p->columns);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_download(p->stats_m2, p->column_m2, p->columns);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_download(p->stats_nonzero, p->column_nonzero, p->columns);
    if (status != CLNN_SUCCESS)
        return status;
    double n = (double)rows, mean = 0.0, m2 = 0.0, count = 0.0;
    size_t dead = 0;
    for (size_t j = 0; j < p->columns; ++j) {
        double column_mean = p->column_mean[j], delta = column_mean - mean;
        double total = count + n;
        mean += delta * n / total;
        m2 += p->column_m2[j] + delta * delta * count * n / total;
        count = total;
        dead += p->column_nonzero[j] == 0.0f;
    }
    out->activation_mean = (float)mean;
    out->activation_std = (float)sqrt(m2 / count);
    out->dead_fraction = (float)dead / (float)p->columns;
    return CLNN_SUCCESS;
}

/* Weight norms of a dense layer; with `stepped`, the update ratio from w_before. */
static clnn_status weight_health(clnn_network *net, clnn_health_probe *p, int stepped,
                                 clnn_layer_health *h)
{
    h->has_weight = 1;
    clnn_status status = tensor_norm(p->weight_grad, &h->weight_grad_norm);
    if (status == CLNN_SUCCESS)
        status = tensor_norm(stepped ? p->w_before : p->weight, &h->weight_norm);
    if (status != CLNN_SUCCESS || !stepped)
        return status;
    cl_kernel kernel;
    status = clnn_get_kernel(net->ctx, "diag.cl", NULL, "clnn_difference", &kernel);
    cl_uint n = (cl_uint)p->weight->count;
    if (status == CLNN_SUCCESS)
        status = clnn_run_kernel_1d(net->ctx, kernel, "clnn_difference",
                                    (p->weight->count + 3) / 4,
                                    CLNN_ARGS(CLNN_ARG(p->w_diff->buffer),
                                              CLNN_ARG(p->weight->buffer),
                                              CLNN_ARG(p->w_before->buffer), CLNN_ARG(n)));
    float update = 0.0f;
    if (status == CLNN_SUCCESS)
        status = tensor_norm(p->w_diff, &update);
    h->update_ratio = h->weight_norm > 0.0f ? update / h->weight_norm : 0.0f;
    return status;
}

clnn_status clnn_network_measure_health(clnn_network *net, const clnn_health_options *options,
                                        int stepped, clnn_network_health *health,
                                        clnn_layer_health *layers, size_t capacity)
{
    clnn_health_options defaults;
    if (!options) {
        clnn_health_options_init(&defaults);
        options = &defaults;
    }
    memset(health, 0, sizeof *health);
    health->layer_count = net->seq.count;
    if (capacity < net->seq.count)
        return clnn_error(net->ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "health: capacity %zu is below the network's %zu layers", capacity,
                          net->seq.count);
    clnn_status status = clnn_tensor_download(net->loss, &health->loss, 1);
    float first = NAN, last = NAN;
    for (size_t i = 0; status == CLNN_SUCCESS && i < net->seq.count; ++i) {
        clnn_layer_health *h = &layers[i];
        memset(h, 0, sizeof *h);
        h->type = net->seq.layers[i].spec.type;
        clnn_health_probe *p = &net->probes[i];
        status = output_health(net, p, net->seq.outputs[i], h);
        if (status == CLNN_SUCCESS && p->weight) {
            status = weight_health(net, p, stepped, h);
            if (isnan(first))
                first = h->weight_grad_norm;
            last = h->weight_grad_norm;
            if (!isfinite(h->weight_grad_norm) || h->weight_grad_norm > options->exploding_norm)
                health->exploding = 1;
        }
    }
    if (status != CLNN_SUCCESS)
        return status;
    if (isnan(first))
        health->grad_norm_ratio = 1.0f;
    else
        health->grad_norm_ratio = last > 0.0f ? first / last : (first > 0.0f ? INFINITY : 1.0f);
    health->vanishing = health->grad_norm_ratio < options->vanishing_ratio;
    return CLNN_SUCCESS;
}

clnn_status clnn_network_health_pass(clnn_network *net, const float *x, const void *y,
                                     size_t batch, const clnn_health_options *options,
                                     int stepped, clnn_step_info *info, const char *function)
{
    clnn_status status = clnn_network_check_health_options(net, options, function);
    if (status == CLNN_SUCCESS)
        status = clnn_network_load_batch(net, x, y, batch, 1, function);
    if (status != CLNN_SUCCESS)
        return status;
    if (stepped) {
        clnn_step_info local;
        status = clnn_network_save_weights(net);
        if (status == CLNN_SUCCESS)
            status = clnn_network_step(net, net->x, net->targets, net->labels,
                                       info ? info : &local);
        return status;
    }
    /* A training-mode forward that leaves the running statistics as they are. */
    status = clnn_network_forward(net, net->x, 1, 0);
    if (status == CLNN_SUCCESS)
        status = clnn_network_loss(net, net->targets, net->labels);
    if (status == CLNN_SUCCESS)
        status = clnn_network_backward(net, net->x);
    return status;
}

/* The arguments of the two public health functions. */
static clnn_status check_health_call(clnn_network *net, const void *y, clnn_network_health *health,
                                     clnn_layer_health *layers, size_t capacity,
                                     const char *function)
{
    if (!net)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "%s: network is NULL", function);
    if (!health || !layers || !y)
        return clnn_error(net->ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", function,
                          !health ? "health" : !layers ? "layers" : "y");
    if (capacity < net->seq.count)
        return clnn_error(net->ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: capacity %zu is below the network's %zu layers", function,
                          capacity, net->seq.count);
    return CLNN_SUCCESS;
}

clnn_status clnn_network_train_step_health(clnn_network *net, const float *x, const void *y,
                                           size_t batch, const clnn_health_options *options,
                                           clnn_step_info *info, clnn_network_health *health,
                                           clnn_layer_health *layers, size_t capacity)
{
    static const char function[] = "clnn_network_train_step_health";
    clnn_status status = check_health_call(net, y, health, layers, capacity, function);
    if (status == CLNN_SUCCESS)
        status = clnn_network_health_pass(net, x, y, batch, options, 1, info, function);
    if (status == CLNN_SUCCESS)
        status = clnn_network_measure_health(net, options, 1, health, layers, capacity);
    return status;
}

clnn_status clnn_network_probe_health(clnn_network *net, const float *x, const void *y,
                                      size_t batch, const clnn_health_options *options,
                                      clnn_network_health *health, clnn_layer_health *layers,
                                      size_t capacity)
{
    static const char function[] = "clnn_network_probe_health";
    clnn_status status = check_health_call(net, y, health, layers, capacity, function);
    if (status == CLNN_SUCCESS)
        status = clnn_network_health_pass(net, x, y, batch, options, 0, NULL, function);
    if (status == CLNN_SUCCESS)
        status = clnn_network_measure_health(net, options, 0, health, layers, capacity);
    return status;
}
