/*
 * Running a network (src/network.c builds it): loading a batch from the host or taking device
 * tensors, the training step (forward, loss, backward, clipping, the optimiser's update with the
 * schedule's rate), and inference with the loss and accuracy summed on the host in double.
 */
#include "network_internal.h"

#include <math.h>
#include <string.h>

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
    if (status == CLNN_SUCCESS && net->labels)
        status = clnn_tensor_set_rows(net->labels, batch);
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
            status = clnn_tensor_upload_int32(net->labels, y, batch);
        else
            status = clnn_tensor_upload(net->targets, y, batch * net->out_size);
    }
    return status;
}

clnn_status clnn_network_forward(clnn_network *net, const clnn_tensor *x, int training,
                                 int update_running)
{
    clnn_pass pass = {training, update_running, net->step, 0};
    return clnn_sequence_forward(&net->seq, &pass, x);
}

clnn_status clnn_network_loss(clnn_network *net, const clnn_tensor *targets,
                              const clnn_tensor *labels)
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
    clnn_pass pass = {1, 0, net->step, 0};
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
                              const clnn_tensor *labels, clnn_step_info *info)
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
        status = clnn_network_step(net, x, y, y, info);
    return status;
}

/* ---- warming up ------------------------------------------------------------------------------ */

static clnn_status zero_gradients(clnn_network *net)
{
    clnn_status status = CLNN_SUCCESS;
    for (size_t i = 0; status == CLNN_SUCCESS && i < net->param_count; ++i)
        status = clnn_buffer_zero(net->ctx, net->grads[i]->buffer, "a gradient");
    return status;
}

/* The update's kernels on the zeroed gradients, changing nothing (clnn_optimizer_warm_up), before
 * the first step only. */
static clnn_status warm_up_update(clnn_network *net)
{
    if (net->step > 0)
        return CLNN_SUCCESS;
    clnn_status status = CLNN_SUCCESS;
    const clnn_train_options *train = &net->options.train;
    if (train->clip_norm > 0.0f || train->skip_non_finite) {
        float norm; /* 0: nothing is scaled */
        float max_norm = train->clip_norm > 0.0f ? train->clip_norm : INFINITY;
        status = clnn_clip_by_global_norm(net->grads, net->param_count, max_norm, CLNN_NORM_L2,
                                          &norm);
    }
    if (status == CLNN_SUCCESS)
        status = clnn_optimizer_warm_up(net->optimizer, net->grads);
    return status;
}

/* The forward pass (batch norm's running statistics left alone) and the loss on zero labels or
 * targets; reversed: the loss first, then the layers from the last. */
static clnn_status warm_up_forward(clnn_network *net, int reversed)
{
    clnn_tensor *y = net->labels ? net->labels : net->targets; /* label 0 is a valid class */
    clnn_status status = clnn_buffer_zero(net->ctx, y->buffer, "the targets");
    clnn_pass pass = {1, 0, net->step, reversed};
    if (status == CLNN_SUCCESS && reversed)
        status = clnn_network_loss(net, net->targets, net->labels);
    if (status == CLNN_SUCCESS)
        status = clnn_sequence_forward(&net->seq, &pass, net->x);
    if (status == CLNN_SUCCESS && !reversed)
        status = clnn_network_loss(net, net->targets, net->labels);
    return status;
}

/* The backward pass from a zero loss gradient; reversed: from the first layer. */
static clnn_status warm_up_backward(clnn_network *net, int reversed)
{
    clnn_status status = clnn_buffer_zero(net->ctx, net->grad_output->buffer, "the loss gradient");
    clnn_pass pass = {1, 0, net->step, reversed};
    if (status == CLNN_SUCCESS)
        status = clnn_sequence_backward(&net->seq, &pass, net->x, 0.0f);
    return status;
}

clnn_status clnn_network_warm_up(clnn_network *net, size_t batch, unsigned parts)
{
    static const char function[] = "clnn_network_warm_up";
    if (!net)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "%s: network is NULL", function);
    const unsigned all = CLNN_WARM_UP_FORWARD | CLNN_WARM_UP_BACKWARD | CLNN_WARM_UP_REVERSED;
    if ((parts & (CLNN_WARM_UP_FORWARD | CLNN_WARM_UP_BACKWARD)) == 0 || (parts & ~all) != 0)
        return clnn_error(net->ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: parts is %u; it must hold CLNN_WARM_UP_FORWARD (1), "
                          "CLNN_WARM_UP_BACKWARD (2) or both, and may add "
                          "CLNN_WARM_UP_REVERSED (4)",
                          function, parts);
    int forward = (parts & CLNN_WARM_UP_FORWARD) != 0;
    int backward = (parts & CLNN_WARM_UP_BACKWARD) != 0;
    int reversed = (parts & CLNN_WARM_UP_REVERSED) != 0;
    clnn_status status = check_batch(net, batch, 1, function);
    if (status == CLNN_SUCCESS)
        status = clnn_network_set_batch(net, batch);
    if (status == CLNN_SUCCESS)
        status = clnn_buffer_zero(net->ctx, net->x->buffer, "the input");
    /* The gradients are zeroed before the update (whatever the activations held: the last
     * pass's, or the zeros of a new network) and are left at zero. */
    if (!reversed) {
        if (status == CLNN_SUCCESS && forward)
            status = warm_up_forward(net, 0);
        if (status == CLNN_SUCCESS && backward)
            status = warm_up_backward(net, 0);
        if (status == CLNN_SUCCESS && backward)
            status = zero_gradients(net);
        if (status == CLNN_SUCCESS && backward)
            status = warm_up_update(net);
    } else {
        if (status == CLNN_SUCCESS && backward)
            status = zero_gradients(net);
        if (status == CLNN_SUCCESS && backward)
            status = warm_up_update(net);
        if (status == CLNN_SUCCESS && backward)
            status = warm_up_backward(net, 1);
        if (status == CLNN_SUCCESS && backward)
            status = zero_gradients(net);
        if (status == CLNN_SUCCESS && forward)
            status = warm_up_forward(net, 1);
    }
    if (status == CLNN_SUCCESS)
        status = clnn_context_finish(net->ctx);
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
