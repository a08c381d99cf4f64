/*
 * A double-precision reference MLP for the MLP engine's tests: dense layers, batch
 * normalisation (training mode), a few activations, softmax cross-entropy or MSE, plain SGD.
 * Parameters are kept in the engine's order: per layer W [out, in], b [out], then gamma and beta
 * [out] for layers with batch norm.
 */
#ifndef CLNN_MLP_REF_H
#define CLNN_MLP_REF_H

#include <stddef.h>
#include <stdint.h>

#define MLP_REF_MAX_LAYERS 8

typedef enum mlp_ref_activation {
    MLP_REF_IDENTITY,
    MLP_REF_RELU,
    MLP_REF_LEAKY_RELU, /* slope 0.01 */
    MLP_REF_TANH,
    MLP_REF_SIGMOID
} mlp_ref_activation;

typedef struct mlp_ref {
    size_t layer_count;              /* hidden layers + the output layer */
    size_t in[MLP_REF_MAX_LAYERS], out[MLP_REF_MAX_LAYERS];
    mlp_ref_activation activation[MLP_REF_MAX_LAYERS]; /* hidden layers only */
    int batch_norm[MLP_REF_MAX_LAYERS];
    int mse;                         /* 0: cross-entropy */
    double eps, momentum;            /* batch norm */
    double *params[4 * MLP_REF_MAX_LAYERS];
    size_t param_size[4 * MLP_REF_MAX_LAYERS];
    size_t param_count;
    double *running_mean[MLP_REF_MAX_LAYERS], *running_var[MLP_REF_MAX_LAYERS];
} mlp_ref;

/* Allocates parameters (zero) and running statistics (0 and 1). Returns 0 on success. */
int mlp_ref_init(mlp_ref *m);
void mlp_ref_free(mlp_ref *m);

/* The mean loss of a batch; with grads (same layout as params, may be NULL) also its gradient.
 * With update_running, batch norm's running statistics move as PyTorch's do. y: int32 labels
 * (cross-entropy) or batch x outputs targets (MSE). */
double mlp_ref_loss(mlp_ref *m, const double *x, const void *y, size_t batch, double **grads,
                    int update_running);

/* One SGD step p -= lr * grad on a batch; returns the loss before the step. */
double mlp_ref_sgd_step(mlp_ref *m, const double *x, const void *y, size_t batch, double lr);

#endif
