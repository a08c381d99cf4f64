/*
 * clnn counter-based RNG (Philox4x32-10), weight initialisation and dropout.
 * Included by <clnn.h>.
 *
 *     clnn_init_kaiming_uniform(w, 0.0f, CLNN_FAN_IN, CLNN_NONLINEARITY_RELU, seed);
 *     clnn_dropout_forward(x, y, 0.5f, 1, seed, step);   // training: keep w.p. 1/2, scale by 2
 *
 * Reproducibility: every random tensor is a pure function of (seed, element index), computed by
 * Philox4x32-10 with key = (seed low 32 bits, seed high 32 bits) and counter = (i / 4, domain,
 * step low, step high), element i taking word i % 4 (domain 0: initialisation, step 0; domain 1:
 * dropout at `step`). The floats are then made from the words with +, -, * only (no library
 * transcendental, no division, no fused multiply-add), so the same seed gives a bit-identical
 * tensor on every device, driver and work-group size, and clnn_init_host() /
 * clnn_dropout_mask_host() reproduce it on the host.
 *
 * Distributions: uniform floats carry 24 random bits ((word >> 8) * 2^-24, in [0, 1)); normals
 * come from Box-Muller with u1 = ((word >> 8) + 1) * 2^-24 in (0, 1], so log(0) never happens and
 * |z| <= 5.77; truncated normals from the inverse CDF (PyTorch's method, computed in the
 * precise tail so that bounds far from the mean stay accurate).
 */
#ifndef CLNN_INIT_H
#define CLNN_INIT_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup init Random numbers, initialisation and dropout
 * @{ */

/* ---------------------------------------------------------------------------------------------
 * Philox4x32-10
 * ------------------------------------------------------------------------------------------- */

/**
 * @brief Philox4x32-10 on the host: out = philox(counter, key), as Random123's philox4x32_R(10).
 * @param counter (input) 4 words.
 * @param key (input) 2 words.
 * @param out (output) 4 words (may alias counter).
 */
CLNN_API clnn_status clnn_philox4x32_10(const uint32_t counter[4], const uint32_t key[2],
                                        uint32_t out[4]);

/**
 * @brief Philox4x32-10 computed on the context's device, for known-answer tests and for checking
 * that a device agrees with the host. Waits for the result.
 * @param ctx (input) the device.
 * @param key (input) 2 words, used for every block.
 * @param counters (input) 4 * @p blocks words.
 * @param blocks (input) number of counters, 1 .. CLNN_MAX_ELEMENTS / 4.
 * @param out (output) 4 * @p blocks words.
 */
CLNN_API clnn_status clnn_philox4x32_10_device(clnn_context *ctx, const uint32_t key[2],
                                               const uint32_t *counters, size_t blocks,
                                               uint32_t *out);

/* ---------------------------------------------------------------------------------------------
 * Gains and fans
 * ------------------------------------------------------------------------------------------- */

/** Nonlinearities known to clnn_calculate_gain() (PyTorch's torch.nn.init.calculate_gain). */
typedef enum clnn_nonlinearity {
    CLNN_NONLINEARITY_LINEAR,     /**< gain 1 (also identity) */
    CLNN_NONLINEARITY_CONV,       /**< gain 1 (conv1d/2d/3d and their transposes) */
    CLNN_NONLINEARITY_SIGMOID,    /**< gain 1 */
    CLNN_NONLINEARITY_TANH,       /**< gain 5/3 */
    CLNN_NONLINEARITY_RELU,       /**< gain sqrt(2) */
    CLNN_NONLINEARITY_LEAKY_RELU, /**< gain sqrt(2 / (1 + param^2)), param = negative slope */
    CLNN_NONLINEARITY_SELU,       /**< gain 3/4 */
    CLNN_NONLINEARITY_COUNT
} clnn_nonlinearity;

/** PyTorch's default negative slope for calculate_gain("leaky_relu") when param is None. */
#define CLNN_LEAKY_RELU_DEFAULT_SLOPE 0.01f

/** @brief The name of a nonlinearity ("leaky_relu", ...), a static string; "unknown" if invalid. */
CLNN_API const char *clnn_nonlinearity_name(clnn_nonlinearity nonlinearity);

/**
 * @brief The recommended gain of a nonlinearity, as torch.nn.init.calculate_gain.
 * @param nonlinearity (input) see clnn_nonlinearity.
 * @param param (input) the negative slope for LEAKY_RELU (finite; PyTorch's None is
 *        CLNN_LEAKY_RELU_DEFAULT_SLOPE); ignored by the others.
 * @param gain (output) the gain.
 */
CLNN_API clnn_status clnn_calculate_gain(clnn_nonlinearity nonlinearity, float param, float *gain);

/**
 * @brief fan_in and fan_out of a weight shape, as PyTorch's _calculate_fan_in_and_fan_out:
 * [out, in] gives (in, out); [out, in, k...] gives (in * prod(k), out * prod(k)).
 * @param ndim (input) 2 to CLNN_MAX_DIMS (fans are undefined for fewer than 2 dimensions).
 * @param dims (input) the shape, every size at least 1.
 * @param fan_in (output) may be NULL.
 * @param fan_out (output) may be NULL.
 */
CLNN_API clnn_status clnn_calculate_fan(int ndim, const size_t *dims, size_t *fan_in,
                                        size_t *fan_out);

/** Which fan scales Kaiming (and LeCun) initialisation. */
typedef enum clnn_fan_mode {
    CLNN_FAN_IN,  /**< preserves the variance of activations in the forward pass */
    CLNN_FAN_OUT, /**< preserves the variance of gradients in the backward pass */
    CLNN_FAN_MODE_COUNT
} clnn_fan_mode;

/* ---------------------------------------------------------------------------------------------
 * Initialisation
 * ------------------------------------------------------------------------------------------- */

/** Initialisation schemes (torch.nn.init). fan_in/fan_out from clnn_calculate_fan(). */
typedef enum clnn_init_kind {
    CLNN_INIT_ZEROS,           /**< 0 */
    CLNN_INIT_ONES,            /**< 1 */
    CLNN_INIT_CONSTANT,        /**< value */
    CLNN_INIT_UNIFORM,         /**< U(a, b), results in [a, b) */
    CLNN_INIT_NORMAL,          /**< N(mean, std^2) */
    CLNN_INIT_TRUNC_NORMAL,    /**< N(mean, std^2) conditioned on [a, b] */
    CLNN_INIT_XAVIER_UNIFORM,  /**< U(-t, t), t = gain * sqrt(6 / (fan_in + fan_out)) */
    CLNN_INIT_XAVIER_NORMAL,   /**< N(0, s^2), s = gain * sqrt(2 / (fan_in + fan_out)) */
    CLNN_INIT_KAIMING_UNIFORM, /**< U(-t, t), t = sqrt(3) * gain(nonlinearity, a) / sqrt(fan) */
    CLNN_INIT_KAIMING_NORMAL,  /**< N(0, s^2), s = gain(nonlinearity, a) / sqrt(fan) */
    CLNN_INIT_LECUN_UNIFORM,   /**< U(-t, t), t = sqrt(3 / fan_in) */
    CLNN_INIT_LECUN_NORMAL,    /**< N(0, s^2), s = 1 / sqrt(fan_in) */
    CLNN_INIT_ORTHOGONAL,      /**< gain * Q of the QR of a Gaussian (rows, prod(rest)) matrix */
    CLNN_INIT_KIND_COUNT
} clnn_init_kind;

/** @brief The name of an init scheme ("kaiming_uniform", ...); "unknown" if invalid. */
CLNN_API const char *clnn_init_kind_name(clnn_init_kind kind);

/** Every parameter of every scheme; clnn_init_params_default() sets PyTorch's defaults. */
typedef struct clnn_init_params {
    clnn_init_kind kind;
    uint64_t seed;                   /**< the stream (default 0) */
    float value;                     /**< CONSTANT (default 0) */
    float a, b;                      /**< UNIFORM bounds (0, 1), TRUNC_NORMAL bounds (-2, 2) */
    float mean, std;                 /**< NORMAL, TRUNC_NORMAL (0, 1) */
    float gain;                      /**< XAVIER_*, ORTHOGONAL (1) */
    float slope;                     /**< KAIMING_*: PyTorch's `a`, the leaky_relu slope (0) */
    clnn_fan_mode mode;              /**< KAIMING_* (CLNN_FAN_IN) */
    clnn_nonlinearity nonlinearity;  /**< KAIMING_* (CLNN_NONLINEARITY_LEAKY_RELU, as PyTorch) */
} clnn_init_params;

/** @brief Sets @p params to PyTorch's defaults for @p kind (see clnn_init_params). */
CLNN_API clnn_status clnn_init_params_default(clnn_init_kind kind, clnn_init_params *params);

/**
 * @brief Initialises a tensor on its device (queued; ORTHOGONAL computes on the host with LAPACK
 * and uploads, waiting for the upload).
 * @param tensor (input/output) the tensor; fan-based schemes need 2 to 4 dimensions, ORTHOGONAL
 *        at least 2.
 * @param params (input) the scheme and its parameters.
 * @return CLNN_ERR_INVALID_ARGUMENT for a non-finite or out-of-range parameter (std < 0, a >= b,
 *         ...), CLNN_ERR_INVALID_SHAPE when the scheme needs fans the shape lacks.
 */
CLNN_API clnn_status clnn_init(clnn_tensor *tensor, const clnn_init_params *params);

/**
 * @brief The same initialisation computed on the host: bit-identical to clnn_init() on any
 * device for the same shape and parameters.
 * @param ndim (input) 1 to CLNN_MAX_DIMS.
 * @param dims (input) the shape.
 * @param params (input) the scheme.
 * @param out (output) prod(dims) floats.
 */
CLNN_API clnn_status clnn_init_host(int ndim, const size_t *dims, const clnn_init_params *params,
                                    float *out);

/* torch.nn.init under its own names; each is clnn_init() with the matching params. */
/** @brief Fills with 0. */
CLNN_API clnn_status clnn_init_zeros(clnn_tensor *tensor);
/** @brief Fills with 1. */
CLNN_API clnn_status clnn_init_ones(clnn_tensor *tensor);
/** @brief Fills with @p value (finite). */
CLNN_API clnn_status clnn_init_constant(clnn_tensor *tensor, float value);
/** @brief U(a, b), a < b finite; results lie in [a, b). */
CLNN_API clnn_status clnn_init_uniform(clnn_tensor *tensor, float a, float b, uint64_t seed);
/** @brief N(mean, std^2), std >= 0. */
CLNN_API clnn_status clnn_init_normal(clnn_tensor *tensor, float mean, float std, uint64_t seed);
/** @brief N(mean, std^2) truncated to [a, b] (std > 0, a < b finite); results lie in [a, b]. */
CLNN_API clnn_status clnn_init_trunc_normal(clnn_tensor *tensor, float mean, float std, float a,
                                            float b, uint64_t seed);
/** @brief Glorot & Bengio (2010) uniform: U(-t, t), t = gain * sqrt(6 / (fan_in + fan_out)). */
CLNN_API clnn_status clnn_init_xavier_uniform(clnn_tensor *tensor, float gain, uint64_t seed);
/** @brief Glorot & Bengio (2010) normal: std = gain * sqrt(2 / (fan_in + fan_out)). */
CLNN_API clnn_status clnn_init_xavier_normal(clnn_tensor *tensor, float gain, uint64_t seed);
/** @brief He et al. (2015) uniform: U(-t, t), t = sqrt(3) * calculate_gain(nonlinearity, a) /
 * sqrt(fan), fan chosen by @p mode. PyTorch's defaults: a = 0, CLNN_FAN_IN, LEAKY_RELU. */
CLNN_API clnn_status clnn_init_kaiming_uniform(clnn_tensor *tensor, float a, clnn_fan_mode mode,
                                               clnn_nonlinearity nonlinearity, uint64_t seed);
/** @brief He et al. (2015) normal: std = calculate_gain(nonlinearity, a) / sqrt(fan). */
CLNN_API clnn_status clnn_init_kaiming_normal(clnn_tensor *tensor, float a, clnn_fan_mode mode,
                                              clnn_nonlinearity nonlinearity, uint64_t seed);
/** @brief LeCun uniform: U(-t, t), t = sqrt(3 / fan_in) (variance 1 / fan_in). */
CLNN_API clnn_status clnn_init_lecun_uniform(clnn_tensor *tensor, uint64_t seed);
/** @brief LeCun normal (Klambauer et al. 2017, for SELU): N(0, 1 / fan_in). */
CLNN_API clnn_status clnn_init_lecun_normal(clnn_tensor *tensor, uint64_t seed);
/** @brief Saxe et al. (2014) orthogonal, as torch.nn.init.orthogonal_: the Q factor (signs fixed
 * by diag(R)) of a Gaussian (rows, prod(rest)) matrix drawn from the seed's normal stream,
 * transposed first when rows < cols, times @p gain. Waits for the upload. */
CLNN_API clnn_status clnn_init_orthogonal(clnn_tensor *tensor, float gain, uint64_t seed);

/* ---------------------------------------------------------------------------------------------
 * Dropout
 * ------------------------------------------------------------------------------------------- */

/**
 * @brief Inverted dropout, as torch.nn.functional.dropout. Training: y = x / (1 - p) where the
 * element is kept, 0 where dropped (exactly 0, also for a NaN or Inf x); inference: y = x.
 * Element i is kept when the top 24 bits of Philox word i of stream (seed, domain 1, step) are at
 * least round(p * 2^24), so the keep probability is 1 - p to within 2^-25 and the mask is never
 * stored: backward recomputes it. p = 0 keeps everything (scale 1); p = 1 drops everything.
 * @param x (input) any shape.
 * @param y (output) same shape; may be @p x (in place).
 * @param p (input) drop probability in [0, 1].
 * @param training (input) non-zero: drop and scale; zero: copy.
 * @param seed (input) the mask's key.
 * @param step (input) the mask's step (use a new one per training step).
 */
CLNN_API clnn_status clnn_dropout_forward(const clnn_tensor *x, clnn_tensor *y, float p,
                                          int training, uint64_t seed, uint64_t step);

/**
 * @brief Backward of clnn_dropout_forward with the same p, training, seed and step:
 * dx = beta * dx + (kept ? dy / (1 - p) : 0) in training, beta * dx + dy in inference.
 * @param dy (input) gradient of the output.
 * @param dx (input/output) gradient of the input, same shape; may be @p dy (in place).
 * @param beta (input) 0 overwrites dx (its old content is not read, so it may hold NaN), 1
 *        accumulates.
 */
CLNN_API clnn_status clnn_dropout_backward(const clnn_tensor *dy, clnn_tensor *dx, float p,
                                           int training, uint64_t seed, uint64_t step,
                                           float beta);

/**
 * @brief The dropout mask on the host, identical to the devices': keep[i] = 1 when element i is
 * kept by clnn_dropout_forward(p, training = 1, seed, step), else 0.
 * @param count (input) elements.
 * @param keep (output) @p count bytes.
 */
CLNN_API clnn_status clnn_dropout_mask_host(size_t count, float p, uint64_t seed, uint64_t step,
                                            unsigned char *keep);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLNN_INIT_H */
