/*
 * clnn gradient clipping by value and by global norm, with non-finite detection.
 * Included by <clnn.h>.
 *
 * The global norm over a list of tensors is reduced on the device in two stages (per-work-group
 * partials, then one work-group) and only the final value travels to the host. The L2 norm is
 * accumulated in three scaled ranges (Blue's method), so it neither overflows for huge gradients
 * nor loses tiny ones: the result is correct whenever the norm itself fits in a float.
 *
 * A non-finite norm (a NaN or Inf in any gradient) is reported as CLNN_ERR_NON_FINITE with every
 * gradient left bitwise untouched, so a training loop can skip the step:
 *
 *     float norm;
 *     clnn_status s = clnn_clip_by_global_norm(grads, n, 1.0f, CLNN_NORM_L2, &norm);
 *     if (s == CLNN_ERR_NON_FINITE) { skipped++; continue; }   // norm holds the NaN or Inf
 *     if (s != CLNN_SUCCESS) return s;
 *     clnn_optimizer_step(opt, grads, n);
 */
#ifndef CLNN_CLIP_H
#define CLNN_CLIP_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup clip Gradient clipping
 * @{ */

/** The norm of clnn_global_norm() and clnn_clip_by_global_norm() (PyTorch's norm_type). */
typedef enum clnn_norm_type {
    CLNN_NORM_L2,  /**< sqrt(sum over every element of every tensor of x^2)  (norm_type 2.0) */
    CLNN_NORM_INF, /**< max over every element of |x|  (norm_type inf) */
    CLNN_NORM_TYPE_COUNT
} clnn_norm_type;

/** The name of a norm type ("l2", "inf"); "unknown" for values out of range. */
CLNN_API const char *clnn_norm_type_string(clnn_norm_type type);

/**
 * @brief Clamps every element of every tensor to [-clip_value, clip_value] in place (queued), like
 * torch.nn.utils.clip_grad_value_. NaN elements stay NaN.
 * @param tensors (input/output) @p count distinct tensors of one context.
 * @param count (input) at least 1.
 * @param clip_value (input) >= 0 (+Inf clips nothing).
 */
CLNN_API clnn_status clnn_clip_by_value(clnn_tensor *const *tensors, size_t count,
                                        float clip_value);

/**
 * @brief Computes the global norm of a list of tensors on the device and returns it to the host
 * (waits for it), without changing any tensor. For diagnostics and custom clipping.
 * @param tensors (input) @p count distinct tensors of one context.
 * @param count (input) at least 1.
 * @param type (input) CLNN_NORM_L2 or CLNN_NORM_INF.
 * @param total_norm (output) the norm of all the tensors' elements taken as one vector; NaN when
 *        any element is NaN, +Inf when any is infinite (and none NaN) or the norm overflows float.
 * @return CLNN_SUCCESS also when the norm is not finite (check it, or use
 *         clnn_clip_by_global_norm(), which reports it).
 */
CLNN_API clnn_status clnn_global_norm(clnn_tensor *const *tensors, size_t count,
                                      clnn_norm_type type, float *total_norm);

/**
 * @brief Computes the global norm on the device, returns it to the host (waits for it), and
 * scales every tensor in place by max_norm / (total_norm + 1e-6) when that factor is below 1, as
 * torch.nn.utils.clip_grad_norm_ does (the factor computed in float as PyTorch does). Tensors
 * whose norm needs no clipping are left bitwise unchanged (no kernel runs).
 * @param tensors (input/output) @p count distinct tensors of one context.
 * @param count (input) at least 1.
 * @param max_norm (input) >= 0 (+Inf never clips).
 * @param type (input) CLNN_NORM_L2 or CLNN_NORM_INF.
 * @param total_norm (output) the norm before clipping; written also when it is not finite.
 * @return CLNN_ERR_NON_FINITE when the total norm is NaN or Inf: every tensor is then left bitwise
 *         untouched and *total_norm holds the value, so the caller can skip the optimiser step.
 */
CLNN_API clnn_status clnn_clip_by_global_norm(clnn_tensor *const *tensors, size_t count,
                                              float max_norm, clnn_norm_type type,
                                              float *total_norm);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLNN_CLIP_H */
