/*
 * clnn softmax, log-softmax and losses (MSE, cross-entropy, BCE with logits), forward and backward.
 * Included by <clnn.h>.
 *
 * Losses leave their value on the device in a 1-element tensor, so a training loop need not wait
 * for the host each step; download it (clnn_tensor_download) every k steps. The functions whose
 * name ends in _host wait for the value and return it to the host. A training step with
 * integer labels (an int32 tensor of N labels, clnn_tensor_create_int32()):
 *
 *     clnn_cross_entropy_options opt;
 *     clnn_cross_entropy_options_init(&opt);            // mean, no smoothing, ignore_index -100
 *     clnn_cross_entropy(ctx, logits, labels, &opt, loss, dlogits);  // loss and gradient at once
 */
#ifndef CLNN_LOSS_H
#define CLNN_LOSS_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup loss Softmax and losses
 * @{ */

/** How a loss reduces its per-element (or per-row) values, as PyTorch's `reduction`. */
typedef enum clnn_reduction {
    CLNN_REDUCTION_NONE, /**< one loss per element, same shape as the input */
    CLNN_REDUCTION_MEAN, /**< sum / count (cross-entropy: over the rows not ignored) */
    CLNN_REDUCTION_SUM,  /**< sum */
    CLNN_REDUCTION_COUNT
} clnn_reduction;

/** @brief The name of a reduction ("none", "mean", "sum"), or "unknown". */
CLNN_API const char *clnn_reduction_name(clnn_reduction reduction);

/**
 * @brief y = softmax(x) over dimension 1 of (N, C): exp(x - max) / sum(exp(x - max)) per row.
 * @param x (input) (N, C).
 * @param y (output) (N, C); may be x.
 */
CLNN_API clnn_status clnn_softmax_forward(clnn_context *ctx, const clnn_tensor *x, clnn_tensor *y);

/**
 * @brief Softmax backward from the forward's output: dx = y * (dy - sum_j(dy_j * y_j)) per row.
 * @param y (input) the forward's output (N, C).
 * @param dy (input) (N, C).
 * @param dx (output) (N, C); may be dy.
 */
CLNN_API clnn_status clnn_softmax_backward(clnn_context *ctx, const clnn_tensor *y,
                                           const clnn_tensor *dy, clnn_tensor *dx);

/**
 * @brief y = log_softmax(x) over dimension 1 of (N, C): x - max - log(sum(exp(x - max))).
 * @param x (input) (N, C).
 * @param y (output) (N, C); may be x.
 */
CLNN_API clnn_status clnn_log_softmax_forward(clnn_context *ctx, const clnn_tensor *x,
                                              clnn_tensor *y);

/**
 * @brief Log-softmax backward from the forward's output: dx = dy - exp(y) * sum_j(dy_j) per row.
 * @param y (input) the forward's output (N, C).
 * @param dy (input) (N, C).
 * @param dx (output) (N, C); may be dy.
 */
CLNN_API clnn_status clnn_log_softmax_backward(clnn_context *ctx, const clnn_tensor *y,
                                               const clnn_tensor *dy, clnn_tensor *dx);

/**
 * @brief Mean squared error, (input - target)^2 reduced, and its gradient, in one pass.
 * @param input (input) any shape.
 * @param target (input) same shape.
 * @param reduction (input) none, mean or sum.
 * @param loss (output) 1 element for mean/sum (left on the device), the input's shape for none;
 *        NULL when only the gradient is wanted.
 * @param dinput (output) the input's shape, or NULL: the gradient of the reduced loss,
 *        2 (input - target) / n for mean, 2 (input - target) for sum and none (the gradient of
 *        the sum of the per-element losses). May be input.
 */
CLNN_API clnn_status clnn_mse_loss(clnn_context *ctx, const clnn_tensor *input,
                                   const clnn_tensor *target, clnn_reduction reduction,
                                   clnn_tensor *loss, clnn_tensor *dinput);

/**
 * @brief Binary cross-entropy with logits, stable for any |logit|:
 * l = max(x, 0) - x t + log(1 + exp(-|x|)), gradient sigmoid(x) - t (scaled by 1/n for mean),
 * as torch.nn.functional.binary_cross_entropy_with_logits without weights.
 * @param logits (input) any shape.
 * @param target (input) same shape, values in [0, 1] (not checked).
 * @param reduction (input) none, mean or sum.
 * @param loss (output) as for clnn_mse_loss(), or NULL.
 * @param dlogits (output) the logits' shape, or NULL; may be logits.
 */
CLNN_API clnn_status clnn_bce_with_logits_loss(clnn_context *ctx, const clnn_tensor *logits,
                                               const clnn_tensor *target, clnn_reduction reduction,
                                               clnn_tensor *loss, clnn_tensor *dlogits);

/** Options of cross-entropy; clnn_cross_entropy_options_init() sets PyTorch's defaults. */
typedef struct clnn_cross_entropy_options {
    clnn_reduction reduction; /**< CLNN_REDUCTION_MEAN (default) or CLNN_REDUCTION_SUM */
    float label_smoothing;    /**< eps in [0, 1]: target = (1 - eps) one_hot + eps / C; default 0 */
    int ignore_index;         /**< rows with this label count for nothing; default -100 */
} clnn_cross_entropy_options;

/** @brief Sets @p options to mean reduction, no smoothing and ignore_index -100. */
CLNN_API clnn_status clnn_cross_entropy_options_init(clnn_cross_entropy_options *options);

/**
 * @brief Cross-entropy from logits (N, C) and class labels, loss and gradient in one pass; the
 * loss stays on the device (no host wait).
 *
 * Per row: loss = -sum_j q_j log softmax(z)_j with q = (1 - eps) one_hot(label) + eps / C; the
 * gradient is softmax(z) - q, divided by the number of rows not ignored for the mean. Rows
 * labelled ignore_index add nothing and get a zero gradient. A label outside [0, C) (other than
 * ignore_index) cannot be reported here without a host wait: it makes the loss and that row's
 * gradient NaN. clnn_cross_entropy_host() and clnn_cross_entropy_check_labels() report it as
 * CLNN_ERR_OUT_OF_RANGE.
 *
 * @param logits (input) (N, C).
 * @param labels (input) an int32 tensor of the context (clnn_tensor_create_int32()) holding the N
 *        labels.
 * @param options (input) NULL for the defaults.
 * @param loss (output) 1 element, or NULL.
 * @param dlogits (output) (N, C), or NULL; must not be logits.
 */
CLNN_API clnn_status clnn_cross_entropy(clnn_context *ctx, const clnn_tensor *logits,
                                        const clnn_tensor *labels,
                                        const clnn_cross_entropy_options *options,
                                        clnn_tensor *loss, clnn_tensor *dlogits);

/**
 * @brief As clnn_cross_entropy(), but first checks the labels on the device and waits for the
 * result: returns the loss value to the host in @p loss. A label out of range gives
 * CLNN_ERR_OUT_OF_RANGE naming the row and the label, and nothing is written.
 * @param loss (output) the reduced loss (host memory).
 * @param dlogits (output) (N, C), or NULL.
 */
CLNN_API clnn_status clnn_cross_entropy_host(clnn_context *ctx, const clnn_tensor *logits,
                                             const clnn_tensor *labels,
                                             const clnn_cross_entropy_options *options,
                                             float *loss, clnn_tensor *dlogits);

/**
 * @brief Checks the labels of an int32 tensor on the device (waits for the result): every label
 * must be in [0, num_classes) or equal ignore_index.
 * @return CLNN_ERR_OUT_OF_RANGE naming the first bad row and its label.
 */
CLNN_API clnn_status clnn_cross_entropy_check_labels(clnn_context *ctx, const clnn_tensor *labels,
                                                     size_t num_classes, int ignore_index);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLNN_LOSS_H */
