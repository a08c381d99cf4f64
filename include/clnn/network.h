/*
 * clnn network engine: a sequence of layers (dense, batch norm, activation, PReLU, dropout,
 * flatten, residual blocks) on 2-D (batch, features) or 4-D (batch, channels, height, width)
 * activations, trained with a loss, an optimiser, optional clipping and a learning-rate schedule.
 * Every device buffer of the network is allocated when it is created, for its largest batch, and
 * the ops' reduction scratch (the context's pool) by the first training step at that batch; later
 * steps, smaller batches included, allocate nothing. Inputs come from host memory or from device
 * tensors. Checkpoints save everything needed to resume bit for bit, and health diagnostics
 * report per layer what the activations and gradients are doing. Included by <clnn.h>; docs/network.md explains the data
 * flow and how a new layer kind joins.
 *
 *     clnn_network_spec *spec;
 *     clnn_network_spec_create(&spec, 1, (size_t[]){784});         // input: 784 features
 *     clnn_network_spec_add_dense(spec, 256, &relu);                // Linear + ReLU, fused
 *     clnn_network_spec_begin_residual(spec);
 *     clnn_network_spec_add_dense(spec, 256, NULL);
 *     clnn_network_spec_add_batch_norm(spec, &relu);
 *     clnn_network_spec_end_residual(spec, CLNN_RESIDUAL_IDENTITY, NULL);  // y = body(x) + x
 *     clnn_network_spec_add_dense(spec, 10, NULL);                  // logits
 *     clnn_network *net;
 *     clnn_network_create(ctx, spec, NULL, 128, &net);              // batches up to 128
 *     clnn_network_train_step(net, x, labels, 128, &info);
 */
#ifndef CLNN_NETWORK_H
#define CLNN_NETWORK_H

#include "core.h"
#include "activation.h"
#include "conv.h"
#include "init.h"
#include "optim.h"
#include "pool.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup network Network engine
 * @{ */

/** The most layers a spec holds (every layer of every residual body counted). */
#define CLNN_NETWORK_MAX_LAYERS 256
/** The deepest nesting of residual blocks. */
#define CLNN_NETWORK_MAX_DEPTH 4

/** The kinds of layer. Shapes exclude the batch: (F) for 2-D activations, (C, H, W) for 4-D. */
typedef enum clnn_layer_type {
    CLNN_LAYER_DENSE,          /**< (F) -> (units): y = f(x W^T + b), the activation fused; the
                                    weight [units, F] from the network's init scheme, b = 0 */
    CLNN_LAYER_BATCH_NORM,     /**< (F) or (C, H, W): y = f(BN(x)) per feature or channel, batch
                                    statistics in training, running ones in inference */
    CLNN_LAYER_ACTIVATION,     /**< any shape: y = f(x) */
    CLNN_LAYER_PRELU,          /**< any shape: PReLU with one learnable slope, or one per feature
                                    (2-D) or channel (4-D) */
    CLNN_LAYER_DROPOUT,        /**< any shape: inverted dropout with probability p in training */
    CLNN_LAYER_FLATTEN,        /**< (C, H, W) -> (C*H*W); 2-D input passes unchanged */
    CLNN_LAYER_RESIDUAL_BEGIN, /**< opens a residual block: the layers up to its END are the body */
    CLNN_LAYER_RESIDUAL_END,   /**< closes it: y = f(body(x) + skip(x)) */
    CLNN_LAYER_CONV2D,         /**< (C, H, W) -> (units, OH, OW): y = f(conv2d(x, W) + b), the
                                    weight [units, C / groups, KH, KW] from the network's init
                                    scheme, b = 0 (or no bias) */
    CLNN_LAYER_POOL2D,         /**< (C, H, W) -> (C, OH, OW): max or average pooling */
    CLNN_LAYER_GLOBAL_AVG_POOL,/**< (C, H, W) -> (C): the mean of each channel (PyTorch's
                                    AdaptiveAvgPool2d(1) followed by flatten) */
    CLNN_LAYER_TYPE_COUNT
} clnn_layer_type;

/** @brief The name of a layer type ("dense", "batch_norm", ...), a static string. */
CLNN_API const char *clnn_layer_type_name(clnn_layer_type type);

/** What a residual block adds its body's output to. */
typedef enum clnn_residual_skip {
    CLNN_RESIDUAL_IDENTITY,   /**< the block's input itself: the body must keep the shape */
    CLNN_RESIDUAL_PROJECTION, /**< a learned projection (with bias) from the input to the body's
                                   output shape: a dense layer on 2-D activations, a 1x1
                                   convolution on 4-D ones (strided when the body shrinks the
                                   image, as in ResNet's downsampling blocks) */
    CLNN_RESIDUAL_SKIP_COUNT
} clnn_residual_skip;

/** One layer as a plain record: what the clnn_network_spec_add_* functions append, and what
 * clnn_network_spec_add() takes for any type. Fields a type does not use are ignored. */
typedef struct clnn_layer_spec {
    clnn_layer_type type;
    size_t units;                   /**< DENSE: outputs; CONV2D: output channels; >= 1 */
    clnn_activation_desc activation;/**< DENSE, BATCH_NORM, ACTIVATION, RESIDUAL_END: applied
                                         last (identity: none) */
    float dropout;                  /**< DROPOUT: p in [0, 1) */
    int prelu_per_channel;          /**< PRELU: 0 one slope, 1 one per feature or channel */
    float prelu_init;               /**< PRELU: the initial slope (PyTorch: 0.25) */
    float momentum;                 /**< BATCH_NORM: running statistics momentum, [0, 1] (0.1) */
    float eps;                      /**< BATCH_NORM: > 0 (1e-5) */
    clnn_residual_skip skip;        /**< RESIDUAL_END */
    clnn_conv2d_desc conv;          /**< CONV2D: kernel, stride, padding, dilation, groups
                                         (default 3x3, stride 1, no padding) */
    int bias;                       /**< CONV2D: 1 adds a learnable bias (default), 0 none (as
                                         before batch norm) */
    clnn_pool2d_desc pool;          /**< POOL2D: kind, kernel, stride, padding (default 2x2 max,
                                         stride 2) */
} clnn_layer_spec;

/** @brief Sets @p layer to @p type with PyTorch's defaults (identity activation, PReLU slope 0.25,
 * batch-norm momentum 0.1 and eps 1e-5, identity skip). */
CLNN_API clnn_status clnn_layer_spec_init(clnn_layer_spec *layer, clnn_layer_type type);

/** A network's description, built layer by layer; each addition is checked against the shape
 * flowing into it, so an error names the layer where it happens. */
typedef struct clnn_network_spec clnn_network_spec;

/**
 * @brief Creates an empty spec for inputs of shape @p dims (without the batch): one dimension
 * (features) or three (channels, height, width).
 * @return CLNN_ERR_INVALID_SHAPE for another rank or a zero size.
 */
CLNN_API clnn_status clnn_network_spec_create(clnn_network_spec **spec, int ndim,
                                              const size_t *dims);

/** @brief Frees a spec. NULL is allowed. */
CLNN_API clnn_status clnn_network_spec_destroy(clnn_network_spec *spec);

/**
 * @brief Appends @p layer after checking it against the current shape.
 * @return CLNN_ERR_INVALID_ARGUMENT for an unknown type or a parameter out of range,
 *         CLNN_ERR_INVALID_SHAPE when the layer does not fit the shape (a dense layer on 4-D
 *         activations, a residual end whose body changed the shape with an identity skip, or a
 *         4-D projection), CLNN_ERR_SIZE_OVERFLOW above CLNN_MAX_ELEMENTS; @p spec unchanged.
 */
CLNN_API clnn_status clnn_network_spec_add(clnn_network_spec *spec, const clnn_layer_spec *layer);

/** @brief Appends a dense layer of @p units outputs; @p activation NULL for none. */
CLNN_API clnn_status clnn_network_spec_add_dense(clnn_network_spec *spec, size_t units,
                                                 const clnn_activation_desc *activation);
/** @brief Appends batch norm (PyTorch's momentum and eps) and an activation (NULL: none). */
CLNN_API clnn_status clnn_network_spec_add_batch_norm(clnn_network_spec *spec,
                                                      const clnn_activation_desc *activation);
/** @brief Appends an activation. */
CLNN_API clnn_status clnn_network_spec_add_activation(clnn_network_spec *spec,
                                                      const clnn_activation_desc *activation);
/** @brief Appends dropout with probability @p p in [0, 1). */
CLNN_API clnn_status clnn_network_spec_add_dropout(clnn_network_spec *spec, float p);
/** @brief Appends a flatten layer. */
CLNN_API clnn_status clnn_network_spec_add_flatten(clnn_network_spec *spec);
/** @brief Appends a 2-D convolution of @p out_channels outputs with geometry @p conv (NULL: 3x3,
 * stride 1, no padding), a bias when @p bias is 1, and @p activation (NULL: none). */
CLNN_API clnn_status clnn_network_spec_add_conv2d(clnn_network_spec *spec, size_t out_channels,
                                                  const clnn_conv2d_desc *conv, int bias,
                                                  const clnn_activation_desc *activation);
/** @brief Appends max or average pooling with geometry @p pool. */
CLNN_API clnn_status clnn_network_spec_add_pool2d(clnn_network_spec *spec,
                                                  const clnn_pool2d_desc *pool);
/** @brief Appends global average pooling: (C, H, W) -> (C). */
CLNN_API clnn_status clnn_network_spec_add_global_avg_pool(clnn_network_spec *spec);
/** @brief Opens a residual block (at most CLNN_NETWORK_MAX_DEPTH open at once). */
CLNN_API clnn_status clnn_network_spec_begin_residual(clnn_network_spec *spec);
/** @brief Closes the innermost residual block: y = f(body(x) + skip(x)); @p activation NULL for
 * none. The body must hold at least one layer. */
CLNN_API clnn_status clnn_network_spec_end_residual(clnn_network_spec *spec,
                                                    clnn_residual_skip skip,
                                                    const clnn_activation_desc *activation);

/** @brief The number of layers appended (BEGIN and END records included). */
CLNN_API clnn_status clnn_network_spec_get_layer_count(const clnn_network_spec *spec,
                                                       size_t *count);
/** @brief Copies layer @p index of the spec. */
CLNN_API clnn_status clnn_network_spec_get_layer(const clnn_network_spec *spec, size_t index,
                                                 clnn_layer_spec *layer);
/** @brief The shape after the last layer, without the batch (the network's outputs). */
CLNN_API clnn_status clnn_network_spec_get_output_shape(const clnn_network_spec *spec, int *ndim,
                                                        size_t *dims);

/**
 * @brief Builds a spec from a compact text: layers separated by commas, each optionally followed
 * by ":ACTIVATION" (any name clnn_activation_from_name() knows, with its default parameters).
 * Sizes are decimal; "KxK2" gives the height and width values apart, one value both.
 *
 *     dense<N>                      dense layer of N units                  dense256:relu
 *     conv<O>k<K>[s<S>][p<P>][d<D>][g<G>][nb]
 *                                   O output channels, kernel K, stride S (1), padding P (0),
 *                                   dilation D (1), G groups (1), nb: no bias  conv32k3p1nb
 *     bn                            batch norm                              bn:relu
 *     maxpool<K>[s<S>][p<P>]        max pooling, stride = K by default      maxpool2
 *     avgpool<K>[s<S>][p<P>][ex]    average pooling; ex: padding excluded from the divisor
 *     gap                           global average pooling
 *     flatten, dropout<P>, prelu, preluc (one slope per channel or feature)
 *     <activation>                  an activation layer                     gelu
 *     res[<layers>][proj]           a residual block around <layers>, identity skip or a
 *                                   projection; its ":ACTIVATION" applies after the sum
 *
 * The CNN that clnn-train trains by default:
 * "conv32k3p1nb,bn:relu,maxpool2,conv64k3p1nb,bn:relu,maxpool2,
 *  res[conv64k3p1nb,bn:relu,conv64k3p1nb,bn]:relu,flatten,dropout0.4,dense10" (without the
 * line break).
 * @param text (input) NUL-terminated, at most 4096 characters; spaces are not allowed.
 * @param ndim, dims (input) the input shape, as clnn_network_spec_create() takes it.
 * @param spec (output) the new spec; unchanged on failure.
 * @return CLNN_ERR_INVALID_ARGUMENT naming the item and character where the text is malformed;
 *         the status of clnn_network_spec_add() when a layer does not fit its input shape.
 */
CLNN_API clnn_status clnn_network_spec_parse(const char *text, int ndim, const size_t *dims,
                                             clnn_network_spec **spec);

/** The loss a network is trained with. */
typedef enum clnn_loss_kind {
    CLNN_LOSS_CROSS_ENTROPY,   /**< softmax cross-entropy of 2-D outputs (logits) against int32
                                    class labels, mean over the batch */
    CLNN_LOSS_MSE,             /**< mean squared error against float targets of the outputs'
                                    shape, mean over every element */
    CLNN_LOSS_BCE_WITH_LOGITS, /**< binary cross-entropy of sigmoid(outputs) against float
                                    targets in [0, 1], mean over every element */
    CLNN_LOSS_KIND_COUNT
} clnn_loss_kind;

/** @brief The name of a loss ("cross_entropy", "mse", "bce_with_logits"), a static string. */
CLNN_API const char *clnn_loss_kind_name(clnn_loss_kind loss);

/** How a network is trained. clnn_train_options_init() sets the defaults. */
typedef struct clnn_train_options {
    clnn_optimizer_options optimizer; /**< default Adam with torch.optim's defaults */
    float clip_norm;       /**< > 0: scale gradients so their global L2 norm is at most this;
                                0: no clipping */
    int skip_non_finite;   /**< non-zero (default): a step whose gradient norm is NaN or Inf is
                                skipped, leaving parameters and optimiser state untouched (costs
                                one read of the norm per step); 0: never checked */
} clnn_train_options;

/** @brief Sets Adam (torch.optim defaults), no clipping, non-finite steps skipped. */
CLNN_API clnn_status clnn_train_options_init(clnn_train_options *options);

/** What a network is built with beyond its layers. clnn_network_options_init() sets them. */
typedef struct clnn_network_options {
    clnn_loss_kind loss;         /**< default cross-entropy */
    clnn_init_params weight_init;/**< scheme of every dense weight (default Kaiming normal,
                                      fan_in, ReLU gain); its seed is ignored: each layer's
                                      stream derives from @ref seed. Biases start at 0, batch
                                      norm at gamma 1 and beta 0. */
    uint64_t seed;               /**< initial weights and dropout masks */
    clnn_train_options train;
} clnn_network_options;

/** @brief Sets cross-entropy, Kaiming-normal weights, seed 0 and clnn_train_options_init(). */
CLNN_API clnn_status clnn_network_options_init(clnn_network_options *options);

/** A network with its parameters, gradients, optimiser state and workspace. */
typedef struct clnn_network clnn_network;

/**
 * @brief Builds a network from @p spec (copied; every residual block must be closed), allocating
 * every buffer for batches of up to @p max_batch samples, and initialises its parameters from
 * the options' seed (bit-identical on every device).
 * @param options (input) NULL for clnn_network_options_init()'s.
 * @param max_batch (input) the largest batch, >= 1.
 * @param network (output) the new network; unchanged on failure.
 * @return CLNN_ERR_INVALID_SHAPE for outputs the loss cannot take (cross-entropy needs 2-D),
 *         CLNN_ERR_SIZE_OVERFLOW when an activation (max_batch x its size) would exceed
 *         CLNN_MAX_ELEMENTS.
 */
CLNN_API clnn_status clnn_network_create(clnn_context *ctx, const clnn_network_spec *spec,
                                         const clnn_network_options *options, size_t max_batch,
                                         clnn_network **network);

/** @brief Frees the network and everything it allocated. NULL is allowed. */
CLNN_API clnn_status clnn_network_destroy(clnn_network *network);

/** @brief The network's input and output shapes (without the batch) and its largest batch. */
CLNN_API clnn_status clnn_network_get_shapes(const clnn_network *network, int *input_ndim,
                                             size_t *input_dims, int *output_ndim,
                                             size_t *output_dims, size_t *max_batch);

/** @brief The number of trainable values (every parameter tensor's elements). */
CLNN_API clnn_status clnn_network_parameter_count(const clnn_network *network, size_t *count);

/**
 * @brief The parameter tensors and their gradients in checkpoint order: layer by layer (a
 * residual block's body, then its projection), dense weight [out, in] and bias [out], batch
 * norm gamma and beta, PReLU slopes. The tensors stay the network's.
 * @param params, grads (output) @p capacity entries each, or NULL.
 * @param count (output) the number of parameter tensors.
 */
CLNN_API clnn_status clnn_network_get_parameters(const clnn_network *network,
                                                 clnn_tensor **params, clnn_tensor **grads,
                                                 size_t capacity, size_t *count);

/** @brief Training steps run so far, skipped ones included (dropout masks follow it). */
CLNN_API clnn_status clnn_network_get_step(const clnn_network *network, uint64_t *step);

/** @brief Sets the learning rate from the next step on (and drops any schedule). */
CLNN_API clnn_status clnn_network_set_lr(clnn_network *network, double lr);

/** @brief Follows @p schedule from the next step on: each step's rate is
 * clnn_lr_schedule_value(schedule, steps taken). NULL drops the schedule (the rate stays). */
CLNN_API clnn_status clnn_network_set_lr_schedule(clnn_network *network,
                                                  const clnn_lr_schedule *schedule);

/** What one training step reports. */
typedef struct clnn_step_info {
    float loss;      /**< the batch's loss before the update */
    float grad_norm; /**< global L2 norm of every gradient before clipping (NaN when neither
                          clipping nor the non-finite check asked for it) */
    int skipped;     /**< 1 when the gradients were not finite and the step was skipped */
} clnn_step_info;

/**
 * @brief One training step on a batch from the host: forward in training mode, loss, backward,
 * optional clipping, optimiser step.
 * @param x (input) batch x (input size) floats, row-major (NCHW for 4-D inputs).
 * @param y (input) int32 class labels (batch of them) for cross-entropy, else float targets of
 *        the outputs' shape.
 * @param batch (input) 1 .. max_batch (2 or more with batch norm).
 * @param info (output) NULL: nothing is read back and the call returns once the work is queued
 *        (unless the non-finite check needs the norm); else the loss is read back (waits).
 * @return CLNN_ERR_OUT_OF_RANGE for a label outside [0, outputs); nothing is updated then.
 */
CLNN_API clnn_status clnn_network_train_step(clnn_network *network, const float *x,
                                             const void *y, size_t batch, clnn_step_info *info);

/**
 * @brief As clnn_network_train_step(), from tensors of the network's context: @p x of shape
 * (batch, input shape) is read where it is (never copied through the host), @p y holds the
 * targets: an int32 tensor of the batch's labels for cross-entropy (see
 * clnn_tensor_create_int32(), a label out of range makes the loss NaN rather than an error, as
 * in clnn_cross_entropy()), else a float tensor of the outputs' shape.
 */
CLNN_API clnn_status clnn_network_train_step_tensors(clnn_network *network, const clnn_tensor *x,
                                                     const clnn_tensor *y, clnn_step_info *info);

/**
 * @brief Builds (or loads from the program cache) every kernel program the network's training
 * and inference use, now rather than at their first use: those of its layers' activations and
 * batch norms, and the context's shared program (clnn_context_build_programs()), which creating
 * the network builds already (its optimiser's kernel comes from it). A second process that warms
 * the network up (clnn_network_warm_up()) then finds them in the program cache.
 */
CLNN_API clnn_status clnn_network_build_programs(clnn_network *network);

/** What clnn_network_warm_up() runs: FORWARD, BACKWARD or both, and in which order. */
typedef enum clnn_warm_up_part {
    CLNN_WARM_UP_FORWARD = 1,  /**< the training-mode forward pass and the loss */
    CLNN_WARM_UP_BACKWARD = 2, /**< the backward pass, the clipping or non-finite check, and the
                                    optimiser's update */
    CLNN_WARM_UP_REVERSED = 4, /**< the reverse of a training step's order: the update, the
                                    layers' backward from the first layer to the last, the loss,
                                    the layers' forward from the last to the first */
} clnn_warm_up_part;

/**
 * @brief Launches once, at @p batch samples, every kernel of the chosen parts of a training step,
 * without training: drivers that compile a kernel at its first launch (POCL compiles one for each
 * work-group size) do it now rather than in the first step.
 *
 * Nothing the network keeps changes: the input is zeros, the labels 0 (or the targets zero), the
 * loss gradient zero, batch norm's running statistics are left alone (as in a health probe), and
 * the update runs with a zero learning rate and no weight decay on zeroed gradients, which changes
 * neither the parameters nor the optimiser's state while that state is still zero: the update's
 * kernels are launched only before the network's first step (after one they have run in this
 * process; a network just loaded from a checkpoint compiles them in its first step). The step
 * count, the schedule and later dropout masks are unchanged; the gradients are left at zero. The
 * backward part may run without the forward one, on the activations of the last pass or the zeros
 * a new network starts with.
 *
 * A use: a second process of the same program warms a whole step up in reverse order while the
 * first runs its first step, so that on a driver that compiles one kernel at a time per process
 * two compile at once and meet in the middle (clnn-train does this on CPU devices).
 * @param batch (input) 1 .. max_batch (2 or more with batch norm): the batch size the kernels are
 *        compiled for.
 * @param parts (input) CLNN_WARM_UP_FORWARD, CLNN_WARM_UP_BACKWARD or both, optionally with
 *        CLNN_WARM_UP_REVERSED.
 * @return waits for the queued work before returning.
 */
CLNN_API clnn_status clnn_network_warm_up(clnn_network *network, size_t batch, unsigned parts);

/**
 * @brief Inference on a batch (running statistics, no dropout): the summed loss and, for
 * cross-entropy, the number of correct arg-max predictions. Waits for the results.
 * @param loss_sum (output) the loss summed over the batch's samples (NULL: not wanted).
 * @param correct (output) correct predictions (NULL: not wanted; 0 for other losses).
 */
CLNN_API clnn_status clnn_network_evaluate(clnn_network *network, const float *x, const void *y,
                                           size_t batch, double *loss_sum, size_t *correct);

/** @brief Inference outputs (logits or values), batch x (output size) floats to the host. */
CLNN_API clnn_status clnn_network_predict(clnn_network *network, const float *x, size_t batch,
                                          float *outputs);

/** @brief Inference on a device tensor @p x (batch, input shape) into the device tensor
 * @p outputs (batch, output shape); queued, no host wait. */
CLNN_API clnn_status clnn_network_predict_tensors(clnn_network *network, const clnn_tensor *x,
                                                  clnn_tensor *outputs);

/* ---- gradient-health diagnostics --------------------------------------------------------- */

/** One layer's health (top-level layers in order; a residual block counts as one layer). */
typedef struct clnn_layer_health {
    clnn_layer_type type;   /**< RESIDUAL_BEGIN stands for a whole block */
    float activation_mean;  /**< mean of the layer's output over the batch */
    float activation_std;   /**< standard deviation of the layer's output over the batch */
    float dead_fraction;    /**< output positions that are zero for every sample */
    int has_weight;         /**< 1 for dense and convolution layers: the three figures
                                 below are measured */
    float weight_norm;      /**< L2 norm of the weight before the update */
    float weight_grad_norm; /**< L2 norm of the weight gradient */
    float update_ratio;     /**< ||W_after - W_before|| / ||W_before|| (0 when no step ran) */
} clnn_layer_health;

/** Thresholds of the vanishing and exploding flags. */
typedef struct clnn_health_options {
    float vanishing_ratio; /**< flag vanishing when the first dense layer's weight-gradient norm
                                over the last one's is below this (default 1e-3); finite, >= 0 */
    float exploding_norm;  /**< flag exploding when a weight-gradient norm exceeds this (default
                                1e3) or is not finite; >= 0 (+Inf allowed) */
} clnn_health_options;

/** @brief Sets the default thresholds. */
CLNN_API clnn_status clnn_health_options_init(clnn_health_options *options);

/** The network's health on one batch. */
typedef struct clnn_network_health {
    float loss;
    float grad_norm_ratio; /**< first dense layer's weight-gradient norm over the last one's */
    int vanishing;         /**< grad_norm_ratio below options.vanishing_ratio */
    int exploding;         /**< a weight-gradient norm above options.exploding_norm, or NaN/Inf */
    size_t layer_count;    /**< top-level layers: the entries of the layers array */
} clnn_network_health;

/**
 * @brief A training step (as clnn_network_train_step) that also measures each top-level layer's
 * health on the device. Costs a copy of the weights and a few small reads.
 * @param options (input) NULL for the defaults.
 * @param layers (output) @p capacity entries, at least the number of top-level layers.
 */
CLNN_API clnn_status clnn_network_train_step_health(clnn_network *network, const float *x,
                                                    const void *y, size_t batch,
                                                    const clnn_health_options *options,
                                                    clnn_step_info *info,
                                                    clnn_network_health *health,
                                                    clnn_layer_health *layers, size_t capacity);

/**
 * @brief Forward (training mode) and backward on a batch without updating anything (running
 * statistics included), reporting the health (update ratios are 0).
 */
CLNN_API clnn_status clnn_network_probe_health(clnn_network *network, const float *x,
                                               const void *y, size_t batch,
                                               const clnn_health_options *options,
                                               clnn_network_health *health,
                                               clnn_layer_health *layers, size_t capacity);

/* ---- checkpoints --------------------------------------------------------------------------- */

/**
 * @brief Saves the layers' descriptions, parameters, running statistics, optimiser state, step
 * count and the caller's @p user bytes to a versioned file with a crc32 (format 2,
 * docs/checkpoints.md), written to a temporary name, flushed and renamed.
 * @param user (input) up to 64 KiB of caller data, or NULL with @p user_size 0.
 */
CLNN_API clnn_status clnn_network_save(clnn_network *network, const char *path, const void *user,
                                       size_t user_size);

/**
 * @brief Restores a checkpoint into @p network, whose layers (kinds, sizes, settings), loss and
 * optimiser kind must match the file's. The whole file is read and checked first: a truncated,
 * corrupt, foreign or mismatched file returns CLNN_ERR_CORRUPT, CLNN_ERR_FORMAT,
 * CLNN_ERR_MISMATCH or CLNN_ERR_IO and leaves the network untouched.
 * @param user (output) receives the saved user bytes (NULL: not wanted).
 * @param user_capacity (input) bytes available at @p user.
 * @param user_size (output) the saved user bytes' size (NULL: not wanted).
 */
CLNN_API clnn_status clnn_network_load(clnn_network *network, const char *path, void *user,
                                       size_t user_capacity, size_t *user_size);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLNN_NETWORK_H */
