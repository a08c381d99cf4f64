/*
 * clnn activation functions, forward and backward, PReLU with a learnable slope, and the fused
 * bias + activation that dense layers use. Semantics and parameter names follow PyTorch's
 * torch.nn.functional. Included by <clnn.h>.
 *
 *     clnn_activation_desc act;
 *     clnn_activation_desc_init(&act, CLNN_ACTIVATION_GELU);
 *     clnn_activation_forward(ctx, &act, x, y);                 // y = gelu(x)
 *     clnn_activation_backward(ctx, &act, x, dy, 0.0f, dx);     // dx = dy * gelu'(x)
 *
 *     clnn_activation_desc_init(&act, CLNN_ACTIVATION_LEAKY_RELU);
 *     act.negative_slope = 0.2f;
 *     clnn_bias_activation_forward(ctx, &act, xw, b, NULL, y);  // y = leaky_relu(xw + b)
 *     clnn_bias_activation_backward(ctx, &act, y, CLNN_ACTIVATION_SAVED_OUTPUT, NULL, dy,
 *                                   0.0f, dz, 0.0f, db);        // dz and db = column sums of dz
 *
 * Numerics: every function is evaluated in a form that neither overflows nor cancels over the
 * whole float range (|x| up to FLT_MAX and the subnormals): sigmoid(-100) is a tiny positive
 * number, softplus(100) = 100, gelu(-30) = -0, silu and mish at -1e4 are finite; +-Inf give the
 * limits; NaN in gives NaN out, forward and backward.
 */
#ifndef CLNN_ACTIVATION_H
#define CLNN_ACTIVATION_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup activation Activation functions
 * @{ */

/** The activation functions. Parameters come from clnn_activation_desc. The numbering is fixed
 * (kernels/activation.h uses the same numbers). */
typedef enum clnn_activation {
    CLNN_ACTIVATION_IDENTITY,    /**< x */
    CLNN_ACTIVATION_SIGMOID,     /**< 1 / (1 + exp(-x)) */
    CLNN_ACTIVATION_TANH,        /**< tanh(x) */
    CLNN_ACTIVATION_RELU,        /**< max(0, x) */
    CLNN_ACTIVATION_RELU6,       /**< min(max(0, x), 6) */
    CLNN_ACTIVATION_HARDTANH,    /**< min(max(min_val, x), max_val) */
    CLNN_ACTIVATION_LEAKY_RELU,  /**< x if x > 0, negative_slope * x otherwise */
    CLNN_ACTIVATION_ELU,         /**< x if x > 0, alpha * (exp(x) - 1) otherwise */
    CLNN_ACTIVATION_SELU,        /**< scale * (x if x > 0, a * (exp(x) - 1) otherwise),
                                      scale = 1.0507009873554805, a = 1.6732632423543772 */
    CLNN_ACTIVATION_CELU,        /**< x if x > 0, alpha * (exp(x / alpha) - 1) otherwise */
    CLNN_ACTIVATION_GELU,        /**< x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)) (exact GELU) */
    CLNN_ACTIVATION_GELU_TANH,   /**< 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
                                      (PyTorch's approximate='tanh') */
    CLNN_ACTIVATION_SILU,        /**< x * sigmoid(x) */
    CLNN_ACTIVATION_SWISH,       /**< x * sigmoid(beta * x) */
    CLNN_ACTIVATION_SOFTPLUS,    /**< log(1 + exp(beta x)) / beta; x where beta x > threshold */
    CLNN_ACTIVATION_MISH,        /**< x * tanh(softplus(x)) */
    CLNN_ACTIVATION_HARDSIGMOID, /**< relu6(x + 3) / 6 */
    CLNN_ACTIVATION_HARDSWISH,   /**< x * relu6(x + 3) / 6 */
    CLNN_ACTIVATION_SOFTSIGN,    /**< x / (1 + |x|) */
    CLNN_ACTIVATION_COUNT
} clnn_activation;

/** An activation and its parameters. clnn_activation_desc_init() sets PyTorch's defaults; each
 * kind reads only its own fields. */
typedef struct clnn_activation_desc {
    clnn_activation kind;
    float negative_slope; /**< leaky_relu: slope for x <= 0 (default 0.01; any finite value) */
    float alpha;          /**< elu (default 1; finite), celu (default 1; finite, not 0) */
    float min_val;        /**< hardtanh: lower bound (default -1) */
    float max_val;        /**< hardtanh: upper bound (default 1; must exceed min_val) */
    float beta;           /**< swish (default 1; finite), softplus (default 1; finite, not 0) */
    float threshold;      /**< softplus: linear where beta x > threshold (default 20; not NaN) */
} clnn_activation_desc;

/** What the backward of the fused bias + activation is given to find f'. */
typedef enum clnn_activation_saved {
    CLNN_ACTIVATION_SAVED_INPUT,  /**< the activation's input z = x + b, or x itself with b given
                                       again (z is then recomputed) */
    CLNN_ACTIVATION_SAVED_OUTPUT, /**< the output y = f(z); only for the kinds where
                                       clnn_activation_has_output_backward() is 1 */
    CLNN_ACTIVATION_SAVED_COUNT
} clnn_activation_saved;

/**
 * @brief The lower-case name of a kind ("relu", "leaky_relu", "gelu_tanh", ...), as PyTorch
 * spells the function (gelu_tanh: gelu with approximate='tanh').
 * @param kind (input) any value.
 * @return a static string; "unknown" for a value outside the enum.
 */
CLNN_API const char *clnn_activation_name(clnn_activation kind);

/**
 * @brief Parses a kind from its name, case-insensitively (for command lines). Also accepts
 * "none" and "linear" for identity, and "gelu-tanh" for gelu_tanh.
 * @param name (input) the name.
 * @param kind (output) the kind; unchanged on failure.
 * @return CLNN_ERR_INVALID_ARGUMENT for an unknown name (the message lists the valid ones).
 */
CLNN_API clnn_status clnn_activation_from_name(const char *name, clnn_activation *kind);

/**
 * @brief Sets @p desc to @p kind with PyTorch's default parameters: negative_slope 0.01,
 * alpha 1, min_val -1, max_val 1, beta 1, threshold 20.
 * @param desc (output) the descriptor.
 * @param kind (input) the activation.
 * @return CLNN_ERR_INVALID_ARGUMENT for an unknown kind or NULL desc (desc then unchanged).
 */
CLNN_API clnn_status clnn_activation_desc_init(clnn_activation_desc *desc, clnn_activation kind);

/**
 * @brief Checks a descriptor: a known kind and sensible values for the parameters it reads
 * (see clnn_activation_desc). The message (clnn_context_last_error(NULL)) names the field.
 * @param desc (input) the descriptor.
 * @return CLNN_SUCCESS or CLNN_ERR_INVALID_ARGUMENT.
 */
CLNN_API clnn_status clnn_activation_desc_check(const clnn_activation_desc *desc);

/**
 * @brief 1 when f'(x) can be computed from y = f(x) for @p kind (identity, sigmoid, tanh, relu,
 * leaky_relu and elu; leaky_relu also needs negative_slope >= 0 and elu alpha >= 0), else 0.
 */
CLNN_API int clnn_activation_has_output_backward(clnn_activation kind);

/**
 * @brief y = f(x), elementwise, any shape. y == x (in place) is allowed.
 * @param ctx (input) the context of every tensor.
 * @param desc (input) the activation.
 * @param x (input) any shape.
 * @param y (output) the shape of x.
 */
CLNN_API clnn_status clnn_activation_forward(clnn_context *ctx, const clnn_activation_desc *desc,
                                             const clnn_tensor *x, clnn_tensor *y);

/**
 * @brief dx = beta * dx + dy * f'(x), elementwise. With beta == 0 dx is only written (its old
 * contents, even NaN, are ignored). dx may be dy or x (in place).
 * @param x (input) the forward input.
 * @param dy (input) the gradient of the output, shape of x.
 * @param beta (input) finite; 0 overwrites dx, 1 accumulates into it.
 * @param dx (input/output) the gradient of the input, shape of x.
 */
CLNN_API clnn_status clnn_activation_backward(clnn_context *ctx, const clnn_activation_desc *desc,
                                              const clnn_tensor *x, const clnn_tensor *dy,
                                              float beta, clnn_tensor *dx);

/**
 * @brief As clnn_activation_backward() but from the forward output y = f(x) instead of x (x need
 * not be kept; oneDNN's use_dst_for_bwd). For the kinds where
 * clnn_activation_has_output_backward() is 1; leaky_relu needs negative_slope >= 0 and elu
 * alpha >= 0 (else y does not determine the branch): CLNN_ERR_UNSUPPORTED otherwise.
 * dx may be dy or y (in place).
 */
CLNN_API clnn_status clnn_activation_backward_from_output(clnn_context *ctx,
                                                          const clnn_activation_desc *desc,
                                                          const clnn_tensor *y,
                                                          const clnn_tensor *dy, float beta,
                                                          clnn_tensor *dx);

/**
 * @brief Fused bias + activation: z = x + b (b broadcast over the rows), y = f(z), in one pass.
 * @param x (input) 2-D (rows, cols).
 * @param bias (input) 1-D of length cols.
 * @param z (output, optional) the pre-activation x + b, shape of x, for a later backward from
 *        the input; NULL not to store it (backward can also take x and b again, or y).
 * @param y (output) shape of x; may be x (in place). z may be x, but not y.
 */
CLNN_API clnn_status clnn_bias_activation_forward(clnn_context *ctx,
                                                  const clnn_activation_desc *desc,
                                                  const clnn_tensor *x, const clnn_tensor *bias,
                                                  clnn_tensor *z, clnn_tensor *y);

/**
 * @brief Backward of clnn_bias_activation_forward(): g = dy * f'(z), dx = beta * dx + g and
 * dbias = bias_beta * dbias + (column sums of g), in one pass over the matrix (a device
 * reduction, deterministic; its partial sums go to a buffer the context keeps for later calls).
 * @param saved (input) (rows, cols): with CLNN_ACTIVATION_SAVED_INPUT, z = x + b, or x when
 *        @p bias is given (z is recomputed as saved + bias); with CLNN_ACTIVATION_SAVED_OUTPUT,
 *        y = f(z) (bias must then be NULL).
 * @param what (input) what @p saved holds.
 * @param bias (input, optional) 1-D of length cols, see @p saved; NULL otherwise.
 * @param dy (input) the gradient of y, (rows, cols).
 * @param beta (input) finite; 0 overwrites dx.
 * @param dx (input/output) the gradient of x (and of z), (rows, cols); may be dy or saved.
 * @param bias_beta (input) finite; 0 overwrites dbias, 1 accumulates.
 * @param dbias (input/output) 1-D of length cols.
 */
CLNN_API clnn_status clnn_bias_activation_backward(clnn_context *ctx,
                                                   const clnn_activation_desc *desc,
                                                   const clnn_tensor *saved,
                                                   clnn_activation_saved what,
                                                   const clnn_tensor *bias, const clnn_tensor *dy,
                                                   float beta, clnn_tensor *dx, float bias_beta,
                                                   clnn_tensor *dbias);

/**
 * @brief PReLU (torch.nn.functional.prelu): y = x if x > 0, weight[c] * x otherwise, with c the
 * index along dimension 1 (the channel) when weight holds one slope per channel, or one slope
 * for every element.
 * @param x (input) any shape; rank 1 takes a single slope only.
 * @param weight (input) 1-D of length 1, or of length x's dimension 1.
 * @param y (output) shape of x; may be x (in place).
 */
CLNN_API clnn_status clnn_prelu_forward(clnn_context *ctx, const clnn_tensor *x,
                                        const clnn_tensor *weight, clnn_tensor *y);

/**
 * @brief PReLU backward: dx = beta * dx + dy * (x > 0 ? 1 : weight[c]) and
 * dweight = weight_beta * dweight + sum of dy * (x > 0 ? 0 : x) over every dimension but the
 * channel (over everything for a single slope). Either gradient may be skipped with NULL, not
 * both. A device reduction; when there are few channels its (channels x parts) partial sums go
 * to a buffer the context keeps for later calls.
 * @param x (input) the forward input.
 * @param weight (input) the slopes, as for clnn_prelu_forward().
 * @param dy (input) shape of x.
 * @param beta (input) finite; 0 overwrites dx.
 * @param dx (input/output, optional) shape of x; may be dy or x.
 * @param weight_beta (input) finite; 0 overwrites dweight.
 * @param dweight (input/output, optional) shape of weight.
 */
CLNN_API clnn_status clnn_prelu_backward(clnn_context *ctx, const clnn_tensor *x,
                                         const clnn_tensor *weight, const clnn_tensor *dy,
                                         float beta, clnn_tensor *dx, float weight_beta,
                                         clnn_tensor *dweight);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLNN_ACTIVATION_H */
