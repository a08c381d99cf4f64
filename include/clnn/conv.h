/*
 * clnn 2-D convolution on NCHW tensors, as PyTorch's F.conv2d: stride, zero padding and dilation
 * per axis, and groups (depthwise when groups = in = out channels). Forward (with the bias and an
 * activation fused), gradient with respect to the input, the weight and the bias. Included by
 * <clnn.h>; docs/conv.md describes the algorithms.
 *
 *     clnn_conv2d_desc conv;
 *     clnn_conv2d_desc_init(&conv, 3, 3);                  // 3x3, stride 1, no padding
 *     conv.padding[0] = conv.padding[1] = 1;               // "same" size
 *     size_t floats;
 *     clnn_conv2d_workspace_size(ctx, &conv, x_dims, w_dims, &floats);  // once, at plan time
 *     clnn_conv2d_forward(ctx, &conv, x, w, b, NULL, y, ws);            // y = conv(x, w) + b
 *     clnn_conv2d_backward_data(ctx, &conv, dy, w, 0.0f, dx, ws);
 *     clnn_conv2d_backward_weight(ctx, &conv, dy, x, 0.0f, dw, ws);
 *     clnn_conv2d_backward_bias(ctx, dy, 0.0f, db);
 *
 * Shapes: x [N, C, H, W], weight [O, C / groups, KH, KW], bias [O], y [N, O, OH, OW] with
 * OH = floor((H + 2 padding[0] - dilation[0] (KH - 1) - 1) / stride[0]) + 1 (OW likewise).
 *
 * How a convolution runs is chosen per device profile and shape (src/conv.c decides it in one
 * place): im2col and GEMM (clnn's own GEMM on CPU devices, CLBlast elsewhere), on CPU devices
 * implicit products over a zero-padded copy of the input for stride-1 convolutions (no columns),
 * a 1x1 convolution with stride 1 and no padding as a plain GEMM on the input without any copy,
 * and a direct kernel for depthwise convolutions. Every algorithm gives the same results within
 * float rounding. The columns im2col builds, the padded copies (and the products' side in the
 * chunk's layout) live in a workspace the caller passes (the network engine passes its own); clnn_conv2d_workspace_size()
 * tells its size when the network or plan is made, so no call allocates. A NULL workspace takes
 * the context's scratch pool instead (allocated on first use, grown only).
 */
#ifndef CLNN_CONV_H
#define CLNN_CONV_H

#include "activation.h"
#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup conv Convolution
 * @{ */

/** A 2-D convolution's geometry; index 0 is the height axis, 1 the width axis. */
typedef struct clnn_conv2d_desc {
    size_t kernel[2];   /**< KH, KW >= 1 (must match the weight's last two dimensions) */
    size_t stride[2];   /**< >= 1 (default 1) */
    size_t padding[2];  /**< zeros added on each side (default 0) */
    size_t dilation[2]; /**< >= 1 (default 1) */
    size_t groups;      /**< >= 1, divides the input and output channels (default 1) */
} clnn_conv2d_desc;

/** @brief Sets @p desc to a KH x KW convolution with PyTorch's defaults: stride 1, no padding,
 * dilation 1, one group. */
CLNN_API clnn_status clnn_conv2d_desc_init(clnn_conv2d_desc *desc, size_t kernel_h,
                                           size_t kernel_w);

/**
 * @brief The output size of a convolution on an H x W input.
 * @return CLNN_ERR_INVALID_ARGUMENT for a zero kernel, stride, dilation or group count;
 *         CLNN_ERR_INVALID_SHAPE, naming the sizes, when the dilated kernel does not fit the padded
 *         input (an output size <= 0) or an input size is 0; CLNN_ERR_SIZE_OVERFLOW when a size,
 *         or an input size plus its padding, exceeds CLNN_MAX_ELEMENTS.
 */
CLNN_API clnn_status clnn_conv2d_output_size(const clnn_conv2d_desc *desc, size_t in_h,
                                             size_t in_w, size_t *out_h, size_t *out_w);

/**
 * @brief The workspace, in floats, that every call below needs for inputs of up to
 * @p x_dims[0] images of shape x_dims[1..3] and weights @p w_dims on ctx's device (0 when the
 * algorithm chosen needs none). A smaller batch never needs more.
 * @param x_dims (input) N, C, H, W.
 * @param w_dims (input) O, C / groups, KH, KW.
 * @return CLNN_ERR_INVALID_SHAPE when the shapes do not fit each other or the descriptor (channels
 *         not divisible by groups, weight not matching the kernel, output size <= 0);
 *         CLNN_ERR_SIZE_OVERFLOW when the output would exceed CLNN_MAX_ELEMENTS, or one image's
 *         im2col columns and outputs together would and no algorithm needing less applies (on
 *         CPU devices a stride-1 convolution takes padded copies of the input instead).
 */
CLNN_API clnn_status clnn_conv2d_workspace_size(clnn_context *ctx, const clnn_conv2d_desc *desc,
                                                const size_t x_dims[4], const size_t w_dims[4],
                                                size_t *floats);

/**
 * @brief Forward pass: y = f(conv2d(x, weight) + bias).
 * @param x (input) [N, C, H, W].
 * @param weight (input) [O, C / groups, KH, KW].
 * @param bias (input) [O], or NULL for none.
 * @param activation (input) f applied last, fused with the bias; NULL for none.
 * @param y (output) [N, O, OH, OW]; must not share its buffer with x, weight or bias.
 * @param workspace (input/output) a float tensor of at least clnn_conv2d_workspace_size() elements
 *        for this batch, or NULL to use the context's scratch pool. Its contents are not kept.
 *        It must not share its buffer with any other argument.
 * @return CLNN_ERR_INVALID_SHAPE, naming the sizes, when a tensor's shape does not fit (the
 *         workspace too small included); CLNN_ERR_INVALID_ARGUMENT for NULL arguments, int32
 *         tensors, an invalid activation or shared buffers. Nothing is queued then.
 */
CLNN_API clnn_status clnn_conv2d_forward(clnn_context *ctx, const clnn_conv2d_desc *desc,
                                         const clnn_tensor *x, const clnn_tensor *weight,
                                         const clnn_tensor *bias,
                                         const clnn_activation_desc *activation, clnn_tensor *y,
                                         clnn_tensor *workspace);

/**
 * @brief Gradient with respect to the input: dx = beta * dx + conv2d_transpose(dy, weight).
 * @param dy (input) [N, O, OH, OW].
 * @param weight (input) [O, C / groups, KH, KW].
 * @param beta (input) finite; 0 overwrites dx without reading it, 1 accumulates.
 * @param dx (input/output) [N, C, H, W] (gives the input size); must not share dy's buffer.
 */
CLNN_API clnn_status clnn_conv2d_backward_data(clnn_context *ctx, const clnn_conv2d_desc *desc,
                                               const clnn_tensor *dy, const clnn_tensor *weight,
                                               float beta, clnn_tensor *dx,
                                               clnn_tensor *workspace);

/**
 * @brief Gradient with respect to the weight: dweight = beta * dweight + sum over the batch of
 * the correlation of dy with x.
 * @param dy (input) [N, O, OH, OW].
 * @param x (input) [N, C, H, W], the forward input.
 * @param beta (input) finite; 0 overwrites dweight without reading it, 1 accumulates.
 * @param dweight (input/output) [O, C / groups, KH, KW].
 */
CLNN_API clnn_status clnn_conv2d_backward_weight(clnn_context *ctx, const clnn_conv2d_desc *desc,
                                                 const clnn_tensor *dy, const clnn_tensor *x,
                                                 float beta, clnn_tensor *dweight,
                                                 clnn_tensor *workspace);

/**
 * @brief Gradient with respect to the bias: dbias[o] = beta * dbias[o] + sum of dy[n][o][.][.].
 * @param dy (input) [N, O, OH, OW].
 * @param dbias (input/output) [O].
 */
CLNN_API clnn_status clnn_conv2d_backward_bias(clnn_context *ctx, const clnn_tensor *dy,
                                               float beta, clnn_tensor *dbias);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLNN_CONV_H */
