/*
 * clnn batch normalisation and layer normalisation, forward and backward.
 * Included by <clnn.h>.
 *
 * Batch norm follows torch.nn.functional.batch_norm: x is (N, C), (N, C, L) or (N, C, H, W) and is
 * normalised per channel C over every other dimension. Layer norm follows
 * torch.nn.functional.layer_norm over the last dimension. A training step looks like:
 *
 *     // forward: y = BN(x); saves mean and 1/sqrt(var + eps) per channel for backward
 *     clnn_batch_norm_forward_training(ctx, x, gamma, beta, run_mean, run_var, 0.1f, 1e-5f,
 *                                      y, save_mean, save_invstd);
 *     ...
 *     clnn_batch_norm_backward(ctx, x, dy, gamma, save_mean, save_invstd, dx, dgamma, dbeta, 0.0f);
 *
 * Statistics are reduced with Welford/Chan merging (never E[x^2] - E[x]^2), so inputs with a
 * large mean and a small spread keep their variance. Every call only queues work.
 */
#ifndef CLNN_NORM_H
#define CLNN_NORM_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup norm Batch and layer normalisation
 * @{ */

/**
 * @brief Batch norm, training forward: normalises with the batch statistics.
 *
 * For each channel c, over the M = N * (product of dims after 1) values x of that channel:
 * mean = sum(x) / M, var = sum((x - mean)^2) / M (biased), y = (x - mean) / sqrt(var + eps) *
 * gamma[c] + beta[c]. When running statistics are given they are updated as PyTorch does:
 * running_mean = (1 - momentum) * running_mean + momentum * mean and running_var =
 * (1 - momentum) * running_var + momentum * var * M / (M - 1) (the unbiased variance).
 *
 * @param ctx (input) the context.
 * @param x (input) (N, C), (N, C, L) or (N, C, H, W), with at least 2 values per channel.
 * @param gamma (input) C scale factors, or NULL for 1 (no affine scale).
 * @param beta (input) C offsets, or NULL for 0 (no affine shift).
 * @param running_mean (input/output) C values, or NULL (with running_var) to skip the update.
 * @param running_var (input/output) C values, or NULL (with running_mean).
 * @param momentum (input) 0 to 1 (PyTorch's default is 0.1).
 * @param eps (input) added to the variance, finite and >= 0 (PyTorch's default is 1e-5).
 * @param y (output) same shape as x; may be x itself (in place).
 * @param save_mean (output) C batch means, for clnn_batch_norm_backward().
 * @param save_invstd (output) C values 1 / sqrt(var + eps), for clnn_batch_norm_backward().
 * @return CLNN_ERR_INVALID_SHAPE when a vector does not hold C elements or a channel has fewer
 *         than 2 values (the variance is undefined, as in PyTorch).
 */
CLNN_API clnn_status clnn_batch_norm_forward_training(
    clnn_context *ctx, const clnn_tensor *x, const clnn_tensor *gamma, const clnn_tensor *beta,
    clnn_tensor *running_mean, clnn_tensor *running_var, float momentum, float eps, clnn_tensor *y,
    clnn_tensor *save_mean, clnn_tensor *save_invstd);

/**
 * @brief Batch norm, inference forward: y = (x - running_mean) / sqrt(running_var + eps) *
 * gamma + beta per channel.
 * @param ctx (input) the context.
 * @param x (input) (N, C), (N, C, L) or (N, C, H, W).
 * @param gamma (input) C values or NULL (1).
 * @param beta (input) C values or NULL (0).
 * @param running_mean (input) C values.
 * @param running_var (input) C values.
 * @param eps (input) finite, >= 0.
 * @param y (output) same shape as x; may be x.
 */
CLNN_API clnn_status clnn_batch_norm_forward_inference(clnn_context *ctx, const clnn_tensor *x,
                                                       const clnn_tensor *gamma,
                                                       const clnn_tensor *beta,
                                                       const clnn_tensor *running_mean,
                                                       const clnn_tensor *running_var, float eps,
                                                       clnn_tensor *y);

/**
 * @brief Batch norm backward (training mode), from the statistics saved by the forward pass.
 *
 * With xhat = (x - mean) * invstd: dbeta = sum(dy), dgamma = sum(dy * xhat) and
 * dx = gamma * invstd * (dy - sum(dy) / M - xhat * sum(dy * xhat) / M), which includes the paths
 * through the batch mean and variance.
 *
 * @param ctx (input) the context.
 * @param x (input) the forward input.
 * @param dy (input) gradient of the loss with respect to y, same shape as x.
 * @param gamma (input) the forward's gamma, or NULL if it had none.
 * @param save_mean (input) from clnn_batch_norm_forward_training().
 * @param save_invstd (input) from clnn_batch_norm_forward_training().
 * @param dx (output) same shape as x, or NULL to skip; may be dy (in place).
 * @param dgamma (input/output) C values, or NULL to skip.
 * @param dbeta (input/output) C values, or NULL to skip.
 * @param param_beta (input) accumulation for dgamma and dbeta: param = param_beta * param + grad;
 *        0 overwrites (old contents, even NaN, are ignored). Finite.
 */
CLNN_API clnn_status clnn_batch_norm_backward(clnn_context *ctx, const clnn_tensor *x,
                                              const clnn_tensor *dy, const clnn_tensor *gamma,
                                              const clnn_tensor *save_mean,
                                              const clnn_tensor *save_invstd, clnn_tensor *dx,
                                              clnn_tensor *dgamma, clnn_tensor *dbeta,
                                              float param_beta);

/**
 * @brief Layer norm over the last dimension D: each row of D values becomes
 * (x - mean) / sqrt(var + eps) * gamma + beta (biased variance), as
 * torch.nn.functional.layer_norm(x, (D,), gamma, beta, eps).
 * @param ctx (input) the context.
 * @param x (input) any tensor; its last dimension is D, the others are rows.
 * @param gamma (input) D values or NULL (1).
 * @param beta (input) D values or NULL (0).
 * @param eps (input) finite, >= 0 (PyTorch's default is 1e-5).
 * @param y (output) same shape as x; may be x.
 * @param save_mean (output) one value per row, or NULL (with save_invstd) when no backward follows.
 * @param save_invstd (output) one value per row 1 / sqrt(var + eps), or NULL.
 */
CLNN_API clnn_status clnn_layer_norm_forward(clnn_context *ctx, const clnn_tensor *x,
                                             const clnn_tensor *gamma, const clnn_tensor *beta,
                                             float eps, clnn_tensor *y, clnn_tensor *save_mean,
                                             clnn_tensor *save_invstd);

/**
 * @brief Layer norm backward: with xhat = (x - mean) * invstd and g = dy * gamma per row,
 * dx = invstd * (g - mean(g) - xhat * mean(g * xhat)), dgamma = sum over rows of dy * xhat,
 * dbeta = sum over rows of dy.
 * @param ctx (input) the context.
 * @param x (input) the forward input.
 * @param dy (input) same shape as x.
 * @param gamma (input) the forward's gamma or NULL.
 * @param save_mean (input) from clnn_layer_norm_forward().
 * @param save_invstd (input) from clnn_layer_norm_forward().
 * @param dx (output) same shape as x, or NULL to skip; may be dy.
 * @param dgamma (input/output) D values or NULL.
 * @param dbeta (input/output) D values or NULL.
 * @param param_beta (input) accumulation for dgamma and dbeta as in clnn_batch_norm_backward().
 */
CLNN_API clnn_status clnn_layer_norm_backward(clnn_context *ctx, const clnn_tensor *x,
                                              const clnn_tensor *dy, const clnn_tensor *gamma,
                                              const clnn_tensor *save_mean,
                                              const clnn_tensor *save_invstd, clnn_tensor *dx,
                                              clnn_tensor *dgamma, clnn_tensor *dbeta,
                                              float param_beta);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLNN_NORM_H */
