/*
 * What the network engine's files share (src/network.c: building and running; network_health.c:
 * diagnostics; network_checkpoint.c: save and load; mlp.c: the MLP builder on top): the network
 * structure and the steps they run.
 */
#ifndef CLNN_NETWORK_INTERNAL_H
#define CLNN_NETWORK_INTERNAL_H

#include "layer.h"

/* Per top-level layer: what the health diagnostics need, allocated at creation. */
typedef struct clnn_health_probe {
    clnn_tensor *weight;            /* the layer's weight (dense), or NULL */
    clnn_tensor *weight_grad;
    clnn_tensor *w_before, *w_diff; /* the weight before a step, and its change */
    clnn_tensor *stats_mean, *stats_m2, *stats_nonzero; /* per output position */
    float *column_mean, *column_m2, *column_nonzero;   /* their host copies */
    size_t columns;
} clnn_health_probe;

struct clnn_writer;
/* Writes the structure section of a format 1 checkpoint (the MLP engine's) for a network that
 * the MLP builder made (src/mlp.c). */
typedef void (*clnn_legacy_structure)(const void *mlp_spec, struct clnn_writer *writer);

struct clnn_network {
    clnn_context *ctx;
    clnn_network_options options;
    clnn_layer_spec *records;
    size_t record_count;
    clnn_shape in, out;
    size_t in_size, out_size; /* elements per sample */
    size_t max_batch, batch;
    int has_batch_norm;

    clnn_sequence seq;
    clnn_workspace_level workspace[CLNN_NETWORK_MAX_DEPTH + 1];
    clnn_tensor *scratch;     /* the ops' scratch the layers share (convolution columns), or
                                 NULL when none needs any */

    clnn_tensor *x;           /* host inputs are uploaded here (max_batch, in) */
    clnn_tensor *targets;     /* MSE, BCE: (max_batch, out) */
    clnn_tensor *labels;      /* cross-entropy: (max_batch) int32 */
    clnn_tensor *loss;        /* 1 element */
    clnn_tensor *grad_output; /* (max_batch, out): the loss gradient */
    float *host_outputs;      /* max_batch x out */

    clnn_tensor **params, **grads, **states;
    size_t param_count, state_count;
    clnn_optimizer *optimizer;
    uint64_t step;
    int has_schedule;
    clnn_lr_schedule schedule;

    clnn_health_probe *probes; /* one per top-level layer */

    /* Set by the MLP builder: its spec, which checkpoints of format 1 describe, and the writer
     * of that description; such a network also loads format 1 files. */
    const void *mlp_spec;
    clnn_legacy_structure legacy_structure;
};

/* Sets the batch size of every batch-sized tensor. */
clnn_status clnn_network_set_batch(clnn_network *net, size_t batch);
/* Checks and uploads a host batch (y may be NULL for predictions). */
clnn_status clnn_network_load_batch(clnn_network *net, const float *x, const void *y,
                                    size_t batch, int training, const char *function);
/* The steps of a training step, on the loaded batch (x: the input tensor). */
clnn_status clnn_network_forward(clnn_network *net, const clnn_tensor *x, int training,
                                 int update_running);
clnn_status clnn_network_loss(clnn_network *net, const clnn_tensor *targets,
                              const clnn_tensor *labels);
clnn_status clnn_network_backward(clnn_network *net, const clnn_tensor *x);
/* Clipping, the non-finite check and the update; *skipped when the update was skipped. */
clnn_status clnn_network_update(clnn_network *net, float *norm, int *skipped);
/* A whole training step on the loaded batch. */
clnn_status clnn_network_step(clnn_network *net, const clnn_tensor *x, const clnn_tensor *targets,
                              const clnn_tensor *labels, clnn_step_info *info);
/* The network's output tensor. */
clnn_tensor *clnn_network_output(const clnn_network *net);

/* Health: the health of the last forward and backward (src/network_health.c). */
clnn_status clnn_network_measure_health(clnn_network *net, const clnn_health_options *options,
                                        int stepped, clnn_network_health *health,
                                        clnn_layer_health *layers, size_t capacity);
clnn_status clnn_network_check_health_options(clnn_network *net,
                                              const clnn_health_options *options,
                                              const char *function);
clnn_status clnn_network_save_weights(clnn_network *net);
/* The pass that health is measured on, after checking options and loading the batch: a training
 * step (stepped: the weights saved first, info filled when given) or a probe (a training-mode
 * forward that leaves the running statistics alone, the loss and backward; nothing updated). */
clnn_status clnn_network_health_pass(clnn_network *net, const float *x, const void *y,
                                     size_t batch, const clnn_health_options *options,
                                     int stepped, clnn_step_info *info, const char *function);
clnn_status clnn_network_create_probes(clnn_network *net);
void clnn_network_destroy_probes(clnn_network *net);

/* The spec's records (src/network_spec.c). */
const clnn_layer_spec *clnn_network_spec_records(const clnn_network_spec *spec, size_t *count,
                                                 clnn_shape *input, int *open_blocks);

#endif /* CLNN_NETWORK_INTERNAL_H */
