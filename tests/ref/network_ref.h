/*
 * Double-precision reference of a network's forward pass and loss in training mode (batch
 * statistics; dropout layers are not supported), from the same layer records clnn builds from.
 * Gradients are taken from it by central finite differences (network_ref_gradients).
 */
#ifndef NETWORK_REF_H
#define NETWORK_REF_H

#include <clnn.h>

typedef struct network_ref {
    const clnn_layer_spec *records;
    size_t count;
    int in_ndim;
    size_t in_dims[3];
    clnn_loss_kind loss;
    size_t param_count;  /* parameter tensors, in checkpoint order */
    double **params;     /* the values of each */
    size_t *param_sizes;
} network_ref;

/* The loss of the batch x (batch x input size) against y (int32 labels or float targets). */
double network_ref_loss(const network_ref *net, const double *x, size_t batch, const void *y);

/* Every parameter's gradient by central differences with step h (grads shaped as params). */
void network_ref_gradients(const network_ref *net, const double *x, size_t batch, const void *y,
                           double h, double **grads);

#endif
