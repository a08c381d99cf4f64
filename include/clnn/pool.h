/*
 * clnn 2-D pooling on NCHW tensors, as PyTorch's max_pool2d, avg_pool2d (floor mode) and global
 * average pooling (adaptive_avg_pool2d to 1x1), forward and backward. Included by <clnn.h>.
 *
 *     clnn_pool2d_desc pool;
 *     clnn_pool2d_desc_init(&pool, CLNN_POOL_MAX, 2, 2);   // 2x2, stride 2, no padding
 *     clnn_pool2d_forward(ctx, &pool, x, y, indices);      // indices: where each maximum was
 *     clnn_pool2d_backward(ctx, &pool, dy, indices, 0.0f, dx);
 *
 * Output size, per axis: floor((H + 2 padding - kernel) / stride) + 1; padding may be at most
 * half the kernel (PyTorch's rule). Max pooling treats padding as -infinity: a window's maximum
 * is over the input elements it covers, and ties go to the first in scan order (row by row), as
 * PyTorch's CPU kernels do; NaN counts as a maximum (the index is the last NaN's, as PyTorch's
 * scan gives). Its backward adds each output gradient to the input element that gave the
 * maximum, summing where windows overlap. Average pooling divides by the whole window
 * (count_include_pad 1, PyTorch's default) or by the input elements the window covers (0).
 * Backward passes gather over the covering windows: no atomics, the same bits on every run.
 * See docs/pooling.md.
 */
#ifndef CLNN_POOL_H
#define CLNN_POOL_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup pool Pooling
 * @{ */

/** What a pooling window computes. */
typedef enum clnn_pool_kind {
    CLNN_POOL_MAX,     /**< the largest element */
    CLNN_POOL_AVERAGE, /**< the mean */
    CLNN_POOL_KIND_COUNT
} clnn_pool_kind;

/** A 2-D pooling's geometry; index 0 is the height axis, 1 the width axis. */
typedef struct clnn_pool2d_desc {
    clnn_pool_kind kind;
    size_t kernel[2];      /**< >= 1 */
    size_t stride[2];      /**< >= 1 (default: the kernel size) */
    size_t padding[2];     /**< at most kernel / 2 (default 0) */
    int count_include_pad; /**< AVERAGE: 1 divides by the whole window (default), 0 by the input
                                elements it covers; no other value */
} clnn_pool2d_desc;

/** @brief The name of a pooling kind ("max", "average"), a static string. */
CLNN_API const char *clnn_pool_kind_name(clnn_pool_kind kind);

/** @brief Sets @p desc to a KH x KW pooling with PyTorch's defaults: stride = kernel, no
 * padding, count_include_pad 1. */
CLNN_API clnn_status clnn_pool2d_desc_init(clnn_pool2d_desc *desc, clnn_pool_kind kind,
                                           size_t kernel_h, size_t kernel_w);

/**
 * @brief The output size of a pooling on an H x W input.
 * @return CLNN_ERR_INVALID_ARGUMENT for NULL pointers, an unknown kind, a zero kernel or stride
 *         or an AVERAGE count_include_pad other than 0 or 1; CLNN_ERR_INVALID_SHAPE, naming the
 *         sizes, for padding over half the kernel, an input size of 0, a padded size
 *         (H + 2 padding) over 2^31 - 1 or an output size <= 0.
 */
CLNN_API clnn_status clnn_pool2d_output_size(const clnn_pool2d_desc *desc, size_t in_h,
                                             size_t in_w, size_t *out_h, size_t *out_w);

/**
 * @brief Forward pass.
 * @param x (input) [N, C, H, W].
 * @param y (output) [N, C, OH, OW]; must not share x's buffer.
 * @param indices (output) MAX only: an int32 tensor [N, C, OH, OW] receiving, for each output,
 *        the index h * W + w of its maximum within its input plane (PyTorch's return_indices;
 *        a window of -inf only gives its first element's); NULL when no backward follows. Must
 *        be NULL for AVERAGE, and must not share x's or y's buffer.
 */
CLNN_API clnn_status clnn_pool2d_forward(clnn_context *ctx, const clnn_pool2d_desc *desc,
                                         const clnn_tensor *x, clnn_tensor *y,
                                         clnn_tensor *indices);

/**
 * @brief Backward pass: dx = beta * dx + the gradient routed back from dy.
 * @param dy (input) [N, C, OH, OW].
 * @param indices (input) MAX: what clnn_pool2d_forward() wrote for this input (an index that no
 *        window covering it records routes nothing); AVERAGE: NULL.
 * @param beta (input) finite; 0 overwrites dx without reading it, 1 accumulates.
 * @param dx (input/output) [N, C, H, W] (gives the input size); must not share dy's or
 *        indices' buffer.
 */
CLNN_API clnn_status clnn_pool2d_backward(clnn_context *ctx, const clnn_pool2d_desc *desc,
                                          const clnn_tensor *dy, const clnn_tensor *indices,
                                          float beta, clnn_tensor *dx);

/**
 * @brief Global average pooling: y[n][c] = the mean of x[n][c][.][.].
 * @param x (input) [N, C, H, W].
 * @param y (output) [N, C] or [N, C, 1, 1]; must not share x's buffer.
 */
CLNN_API clnn_status clnn_global_avg_pool_forward(clnn_context *ctx, const clnn_tensor *x,
                                                  clnn_tensor *y);

/**
 * @brief Backward of global average pooling: dx[n][c][h][w] = beta * dx[n][c][h][w] +
 * dy[n][c] / (H W).
 * @param dy (input) [N, C] or [N, C, 1, 1].
 * @param beta (input) finite; 0 overwrites dx without reading it, 1 accumulates.
 * @param dx (input/output) [N, C, H, W]; must not share dy's buffer.
 */
CLNN_API clnn_status clnn_global_avg_pool_backward(clnn_context *ctx, const clnn_tensor *dy,
                                                   float beta, clnn_tensor *dx);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLNN_POOL_H */
